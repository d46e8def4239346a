#!/usr/bin/env python3
"""What TensorFloat-32 would cost a GPU validator, estimated on the CPU.

Usage: .venv/bin/python bench/tf32.py

ONNX Runtime's CUDA provider uses TF32 by default for MatMul, Gemm and Conv on
Ampere and later GPUs: the two multiplied operands are rounded to a 10-bit
mantissa and the products summed in float32. The sidecar turns it off
(docs/gpu.md). This script shows why, with no GPU: each shipped model is run by
onnx's reference evaluator with the multiplied operands of every MatMul, Gemm
and Conv rounded to TF32 (round to nearest, and truncation, the two ways
hardware and libraries convert), and compared with ONNX Runtime on the CPU on
the inputs of models/reference.py at scales x1, x10 and x100. The same
evaluator without rounding (float32 math in another order) is the control.

Per model and scale it prints the largest |difference| and the worst element's
share of the chain's tolerance (bench/chain_tolerance.py: above 1 grey, unpaid;
above 8 slashed). Appends nothing: copy the table into bench/RESULTS.md.
"""
import glob
import math
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import helper
from onnx.reference import ReferenceEvaluator
from onnx.reference.op_run import OpRun

from chain_tolerance import RTOL, SCALES, SLASH_MULTIPLE, scaled, share_of_tolerance, spec_atol

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "models"))
from reference import reference_inputs  # noqa: E402

# The multiplied operands of each op (a bias or C term is added in float32).
OPERANDS = {"MatMul": (0, 1), "Gemm": (0, 1), "Conv": (0, 1)}


def tf32(x, mode):
    """float32 rounded to TF32 (10-bit mantissa): 'rn' to nearest even, 'rz' toward zero."""
    u = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32)
    if mode == "rn":
        u = u + np.uint32(0x0FFF) + ((u >> np.uint32(13)) & np.uint32(1))
    return (u & np.uint32(0xFFFFE000)).view(np.float32)


def rounding_op(mode):
    class Tf32(OpRun):
        op_domain = "verdict.tf32"

        def _run(self, x):
            return (tf32(x, mode),)

    Tf32.__name__ = "Tf32"
    return Tf32


def with_tf32(model):
    """A copy of `model` whose MatMul/Gemm/Conv operands pass through Tf32 first."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    nodes = []
    for k, n in enumerate(m.graph.node):
        for i in OPERANDS.get(n.op_type, ()):
            rounded = f"{n.input[i]}__tf32_{k}_{i}"
            nodes.append(helper.make_node("Tf32", [n.input[i]], [rounded], domain="verdict.tf32"))
            n.input[i] = rounded
        nodes.append(n)
    del m.graph.node[:]
    m.graph.node.extend(nodes)
    m.opset_import.append(helper.make_opsetid("verdict.tf32", 1))
    return m


def flat(outputs):
    return np.concatenate([np.asarray(o, dtype=np.float64).ravel() for o in outputs])


def main():
    rows = []
    for path in sorted(glob.glob(os.path.join(ROOT, "models", "*.onnx"))):
        name = os.path.basename(path)
        atol = spec_atol(path)
        model = onnx.load(path)
        cpu = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        control = ReferenceEvaluator(model)
        emulated = {mode: ReferenceEvaluator(with_tf32(model), new_ops=[rounding_op(mode)]) for mode in ("rn", "rz")}
        _, feeds = reference_inputs(path)
        for scale in SCALES:
            f = scaled(feeds, scale)
            ref = flat(cpu.run(None, f))
            row = [name, f"x{scale}", f"{np.max(np.abs(ref)):.3g}"]
            for ev in (control, emulated["rn"], emulated["rz"]):
                got = flat(ev.run(None, f))
                row.append(f"{np.max(np.abs(got - ref)):.3g} ({share_of_tolerance(got, ref, atol):.2g})")
            rows.append(row)
    print(f"TF32 emulated on the CPU (onnx {onnx.__version__} reference evaluator) against onnxruntime "
          f"{ort.__version__} CPU; in brackets the worst element's share of the chain's tolerance "
          f"(spec atol, rtol {RTOL:g}): > 1 grey, > {SLASH_MULTIPLE} slashed.\n")
    print("| model | inputs | max abs output | float32, other order | TF32 round-to-nearest | TF32 truncated |")
    print("|---|---|---:|---:|---:|---:|")
    for r in rows:
        print("| " + " | ".join(r) + " |")
    worst = max(float(c.split("(")[1].rstrip(")")) for r in rows for c in r[4:])
    print(f"\nworst TF32 share of tolerance: {worst:.2g}" + ("" if math.isfinite(worst) else " (not finite)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
