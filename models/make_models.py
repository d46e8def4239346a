#!/usr/bin/env python3
"""Generate the sidecar's small deterministic test models.

Run with the project venv (`.venv/bin/python models/make_models.py`). The weights
come from a seeded numpy generator and the graphs are written with a pinned opset
and IR version, so the same onnx/numpy versions give byte-identical files (and so
the same sha256 that models/README.md and models/SHA256SUMS list).

Models:
  mlp_classifier.onnx  x[batch,16] f32 -> Gemm 16x32 -> Relu -> Gemm 32x4 -> logits[batch,4], probs[batch,4]
  cnn_small.onnx       image[batch,1,8,8] f32 -> Conv 4x3x3 (pad 1) -> Relu -> GlobalAveragePool
                       -> Flatten -> Gemm 4x3 -> logits[batch,3]
  token_embed.onnx     tokens[batch,6] i64 -> Gather from a 10x8 table -> ReduceMean over tokens
                       -> embedding[batch,8]   (exercises an int64 input)
"""
import hashlib
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
IR_VERSION = 8
HERE = os.path.dirname(os.path.abspath(__file__))


def weights(rng, shape, scale):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def save(model, name):
    onnx.checker.check_model(model)
    path = os.path.join(HERE, name)
    # `save_model` serialises deterministically for a given graph; no timestamps or producer versions vary.
    onnx.save_model(model, path)
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    return digest


def make(graph):
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="verdict-make-models",
        producer_version="1",
    )
    model.ir_version = IR_VERSION
    return model


def mlp_classifier():
    rng = np.random.default_rng(16324)
    w1 = numpy_helper.from_array(weights(rng, (16, 32), 0.35), "w1")
    b1 = numpy_helper.from_array(weights(rng, (32,), 0.1), "b1")
    w2 = numpy_helper.from_array(weights(rng, (32, 4), 0.35), "w2")
    b2 = numpy_helper.from_array(weights(rng, (4,), 0.1), "b2")
    nodes = [
        helper.make_node("Gemm", ["x", "w1", "b1"], ["h"]),
        helper.make_node("Relu", ["h"], ["hr"]),
        helper.make_node("Gemm", ["hr", "w2", "b2"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["probs"], axis=1),
    ]
    graph = helper.make_graph(
        nodes,
        "mlp_classifier",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 16])],
        [
            helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 4]),
            helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["batch", 4]),
        ],
        [w1, b1, w2, b2],
    )
    return make(graph)


def cnn_small():
    rng = np.random.default_rng(188)
    wc = numpy_helper.from_array(weights(rng, (4, 1, 3, 3), 0.5), "conv_w")
    bc = numpy_helper.from_array(weights(rng, (4,), 0.1), "conv_b")
    wl = numpy_helper.from_array(weights(rng, (4, 3), 0.5), "fc_w")
    bl = numpy_helper.from_array(weights(rng, (3,), 0.1), "fc_b")
    nodes = [
        helper.make_node("Conv", ["image", "conv_w", "conv_b"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["cr"]),
        helper.make_node("GlobalAveragePool", ["cr"], ["g"]),
        helper.make_node("Flatten", ["g"], ["f"], axis=1),
        helper.make_node("Gemm", ["f", "fc_w", "fc_b"], ["logits"]),
    ]
    graph = helper.make_graph(
        nodes,
        "cnn_small",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 1, 8, 8])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 3])],
        [wc, bc, wl, bl],
    )
    return make(graph)


def token_embed():
    rng = np.random.default_rng(1010)
    table = numpy_helper.from_array(weights(rng, (10, 8), 1.0), "table")
    nodes = [
        helper.make_node("Gather", ["table", "tokens"], ["e"], axis=0),
        helper.make_node("ReduceMean", ["e"], ["embedding"], axes=[1], keepdims=0),
    ]
    graph = helper.make_graph(
        nodes,
        "token_embed",
        [helper.make_tensor_value_info("tokens", TensorProto.INT64, ["batch", 6])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", 8])],
        [table],
    )
    return make(graph)


def main():
    sums = []
    for name, build in [
        ("mlp_classifier.onnx", mlp_classifier),
        ("cnn_small.onnx", cnn_small),
        ("token_embed.onnx", token_embed),
    ]:
        digest = save(build(), name)
        sums.append(f"{digest}  {name}")
        print(f"{digest}  {name}")
    # sha256sum-compatible: `cd models && sha256sum -c SHA256SUMS`; the sidecar refuses any listed
    # file whose bytes no longer hash to the listed value.
    with open(os.path.join(HERE, "SHA256SUMS"), "w") as f:
        f.write("\n".join(sums) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
