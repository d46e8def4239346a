#!/usr/bin/env python3
"""Per-model inference latency: verdict-sidecar (Rust, ort, in-process) vs Python onnxruntime.

Usage: .venv/bin/python bench/sidecar.py [--iters N] [--bin PATH]

Both sides load the same models/*.onnx, run the same seeded inputs as
models/reference.py (dynamic dims = 3), single intra-op thread, CPU, after a
warm-up. The sidecar side is `verdict-sidecar bench` (the `infer` code path,
timing `Session::run` only, monotonic clock); the Python side times
`InferenceSession.run` with perf_counter_ns (which also includes binding the numpy
inputs and copying outputs back). Both run in this one invocation, so numbers are
comparable with each other but not across machines.

`--device cuda` (issue 22, after `make setup GPU=1`, on an NVIDIA GPU): the
sidecar with `--device cuda`, Python with the CUDA execution provider, and per
model the largest |CUDA - CPU| output difference (sidecar CUDA against sidecar
CPU on the same inputs, plus inputs scaled ×10 and ×100: realistic ranges), the
same in Python with TensorFloat-32 on (ONNX Runtime's CUDA default, which the
sidecar turns off), each with its worst element's share of the chain's
tolerance (bench/chain_tolerance.py: above 1 grey, above 8 slashed).
A CUDA run that fell back to CPU is reported as such (the device column).

Prints a markdown table and writes it to bench/sidecar-results.md.
"""
import argparse
import glob
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnxruntime as ort

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "models"))
from reference import reference_inputs, to_json  # noqa: E402

from chain_tolerance import SCALES, scaled, share_of_tolerance, spec_atol  # noqa: E402


def pct(ns, q):
    return float(np.percentile(np.asarray(ns, dtype=np.float64), q)) / 1000.0


def session(path, device, tf32=False, opts=None):
    """A Python onnxruntime session on `device`; CUDA as the sidecar runs it
    (TensorFloat-32 off) unless `tf32` (ONNX Runtime's own default)."""
    if device == "cuda":
        providers = [("CUDAExecutionProvider", {"use_tf32": "1" if tf32 else "0"}), "CPUExecutionProvider"]
    else:
        providers = ["CPUExecutionProvider"]
    sess = ort.InferenceSession(path, opts, providers=providers)
    want = "CUDAExecutionProvider" if device == "cuda" else "CPUExecutionProvider"
    if sess.get_providers()[0] != want:
        sys.exit(f"{os.path.basename(path)}: Python onnxruntime runs on {sess.get_providers()}, not {want}")
    return sess


def tf32_vs_cpu(path, feeds):
    """Per input scale, (largest |CUDA with TensorFloat-32 - CPU|, its worst share
    of the chain's tolerance) in Python onnxruntime: what ONNX Runtime's default
    would cost a GPU validator."""
    gpu, cpu = session(path, "cuda", tf32=True), session(path, "cpu")
    atol, out = spec_atol(path), []
    for scale in SCALES:
        f = scaled(feeds, scale)
        a = np.concatenate([o.ravel() for o in gpu.run(None, f)]).astype(np.float64)
        b = np.concatenate([o.ravel() for o in cpu.run(None, f)]).astype(np.float64)
        out.append((float(np.max(np.abs(a - b))), share_of_tolerance(a, b, atol)))
    return out


def python_latencies(path, feeds, iters, device="cpu"):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    sess = session(path, device, opts=opts)
    names = [o.name for o in sess.get_outputs()]
    for _ in range(20):
        sess.run(names, feeds)
    out = []
    for _ in range(iters):
        t = time.perf_counter_ns()
        sess.run(names, feeds)
        out.append(time.perf_counter_ns() - t)
    return out


def gpu_name():
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=10).stdout.strip()
        return f"; GPU {out}" if out else ""
    except (OSError, subprocess.TimeoutExpired):
        return ""


def infer(exe, path, feeds, device, tmp):
    inp = os.path.join(tmp, f"diff-{os.path.basename(path)}.json")
    with open(inp, "w") as f:
        json.dump({k: to_json(v) for k, v in feeds.items()}, f)
    res = subprocess.run([exe, "infer", "--device", device, "--model", path, "--input", inp],
                         check=True, capture_output=True, text=True)
    out = json.loads(res.stdout)
    return out["device"], [x for o in out["outputs"].values() for x in o["data"]]


def cuda_vs_cpu(exe, path, feeds, tmp):
    """Per input scale 1, 10 and 100 (integer inputs, token ids, are not
    scaled): (largest |sidecar CUDA - sidecar CPU| over all outputs, its worst
    share of the chain's tolerance)."""
    atol, out = spec_atol(path), []
    for scale in SCALES:
        dev, gpu = infer(exe, path, scaled(feeds, scale), "cuda", tmp)
        _, cpu = infer(exe, path, scaled(feeds, scale), "cpu", tmp)
        if dev != "cuda":
            sys.exit(f"{os.path.basename(path)}: --device cuda fell back to {dev}: no GPU result to compare")
        out.append((max(abs(a - b) for a, b in zip(gpu, cpu)), share_of_tolerance(gpu, cpu, atol)))
    return out


def find_bin(explicit):
    if explicit:
        return explicit
    for profile in ("release", "debug"):
        p = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), profile, "verdict-sidecar")
        if os.path.exists(p):
            return p
    sys.exit("verdict-sidecar not built: cargo build -p verdict-sidecar [--release]")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--iters", type=int, default=2000)
    ap.add_argument("--bin")
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    args = ap.parse_args()
    exe = find_bin(args.bin)
    profile = "debug" if "/debug/" in exe else "release"
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for path in sorted(glob.glob(os.path.join(ROOT, "models", "*.onnx"))):
            name = os.path.basename(path)
            _, feeds = reference_inputs(path)
            inp = os.path.join(tmp, name + ".json")
            with open(inp, "w") as f:
                json.dump({k: to_json(v) for k, v in feeds.items()}, f)
            res = subprocess.run(
                [exe, "bench", "--device", args.device, "--model", path, "--input", inp, "--iters", str(args.iters)],
                check=True, capture_output=True, text=True,
            )
            rust = json.loads(res.stdout)
            py = python_latencies(path, feeds, args.iters, args.device)
            shape = ", ".join(f"{k}{list(v.shape)}" for k, v in feeds.items())
            diff = (cuda_vs_cpu(exe, path, feeds, tmp), tf32_vs_cpu(path, feeds)) if args.device == "cuda" else None
            rows.append((name, shape, rust["device"], pct(rust["latency_ns"], 50), pct(rust["latency_ns"], 99), pct(py, 50), pct(py, 99), diff))
    lines = [
        f"verdict-sidecar ({profile} build, ort 2.0.0-rc.15) vs Python onnxruntime {ort.__version__}; "
        f"both from the same onnxruntime wheel, {args.device}, 1 intra-op thread, {args.iters} runs each after "
        f"warm-up; {platform.processor() or platform.machine()}, {os.cpu_count()} cores{gpu_name()}.",
        "",
        "| model | input | device | sidecar p50 µs | sidecar p99 µs | python p50 µs | python p99 µs |"
        + (" max abs CUDA-CPU (share of tolerance), sidecar, x1 / x10 / x100 inputs | same with TF32 (ORT's default), Python |"
           if args.device == "cuda" else ""),
        "|---|---|---|---:|---:|---:|---:|" + ("---|---|" if args.device == "cuda" else ""),
    ]
    for r in rows:
        extra = ""
        if r[7] is not None:
            fp32, tf32 = (" / ".join(f"{d:.3g} ({sh:.2g})" for d, sh in col) for col in r[7])
            extra = f" {fp32} | {tf32} |"
        lines.append(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]:.1f} | {r[4]:.1f} | {r[5]:.1f} | {r[6]:.1f} |{extra}")
    text = "\n".join(lines) + "\n"
    print(text)
    with open(os.path.join(ROOT, "bench", "sidecar-results.md"), "w") as f:
        f.write("# Sidecar inference latency\n\nGenerated by `bench/sidecar.py`; do not edit by hand.\n\n" + text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
