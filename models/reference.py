#!/usr/bin/env python3
"""Write reference outputs of Python onnxruntime (CPU) for every shipped model.

Run with the project venv: `.venv/bin/python models/reference.py`. For each
models/*.onnx it builds seeded inputs from the model's declared inputs (dynamic
dims set to 3, so batching is exercised), runs onnxruntime's CPUExecutionProvider
and writes models/reference/<stem>.json:

  {"model": FILE, "sha256": HEX, "onnxruntime": VERSION,
   "inputs":  {NAME: {"dtype": "float32"|"int64", "shape": [...], "data": [...]}},
   "outputs": {NAME: {"dtype": ..., "shape": [...], "data": [...]}}}

The sidecar's tests feed the same inputs through ort and require max |diff| <= 1e-5.
float32 values are written as the exact f64 value of the f32, so nothing is lost
on the way through JSON.
"""
import glob
import hashlib
import json
import os
import sys

import numpy as np
import onnxruntime as ort

HERE = os.path.dirname(os.path.abspath(__file__))
DYNAMIC_DIM = 3

DTYPES = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
}


def make_input(rng, meta):
    dtype = DTYPES[meta.type]
    shape = [d if isinstance(d, int) and d > 0 else DYNAMIC_DIM for d in meta.shape]
    if np.issubdtype(dtype, np.integer):
        # Index-like inputs: keep them inside any small table (token_embed has 10 rows).
        return rng.integers(0, 10, size=shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


def to_json(arr):
    if arr.dtype == np.float32:
        # The exact f64 value of each f32: a reader that parses f64 and casts to f32 gets the same bits
        # (a shortest-decimal form could double-round on that path).
        data = [float(x) for x in arr.reshape(-1)]
        name = "float32"
    elif arr.dtype == np.float64:
        data = [float(x) for x in arr.reshape(-1)]
        name = "float64"
    else:
        data = [int(x) for x in arr.reshape(-1)]
        name = str(arr.dtype)
    return {"dtype": name, "shape": list(arr.shape), "data": data}


def reference_inputs(path):
    """Seeded inputs for one model; also used by bench/sidecar.py."""
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(20240605)
    return sess, {m.name: make_input(rng, m) for m in sess.get_inputs()}


def main():
    os.makedirs(os.path.join(HERE, "reference"), exist_ok=True)
    for path in sorted(glob.glob(os.path.join(HERE, "*.onnx"))):
        with open(path, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        sess, feeds = reference_inputs(path)
        names = [o.name for o in sess.get_outputs()]
        outs = sess.run(names, feeds)
        doc = {
            "model": os.path.basename(path),
            "sha256": digest,
            "onnxruntime": ort.__version__,
            "inputs": {k: to_json(v) for k, v in feeds.items()},
            "outputs": {n: to_json(o) for n, o in zip(names, outs)},
        }
        stem = os.path.splitext(os.path.basename(path))[0]
        out = os.path.join(HERE, "reference", stem + ".json")
        with open(out, "w") as f:
            json.dump(doc, f)
            f.write("\n")
        print(f"{out}: {', '.join(f'{n}{list(o.shape)}' for n, o in zip(names, outs))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
