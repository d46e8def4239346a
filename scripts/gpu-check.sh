#!/usr/bin/env bash
# The CUDA path's device check (issue 22), for a machine with an NVIDIA GPU
# (driver >= 580 for CUDA 13): one short run, a few minutes on a fresh machine
# with Rust, Go, Python and Node (as `make setup` needs them).
#   1. `make setup GPU=1`: onnxruntime-gpu 1.31.1 with the CUDA/cuDNN wheels,
#      .tools/cuda linked, CUDAExecutionProvider reported;
#   2. the sidecar on CUDA against the Python reference outputs of models/
#      (`verdict-sidecar infer --device cuda` must report device "cuda");
#   3. `bench/sidecar.py --device cuda`: sidecar CUDA beside Python
#      onnxruntime-gpu on the same inputs, and the largest CUDA-vs-CPU output
#      difference per shipped model at input scales 1, 10 and 100.
# Results go to $OUT (or ./gpu-check-out): copy the table into bench/RESULTS.md
# with the GPU named.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
OUT="${OUT:-$ROOT/gpu-check-out}"
mkdir -p "$OUT"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$OUT/gpu.txt"
GPU=1 scripts/setup.sh 2>&1 | tee "$OUT/setup.txt"
cargo build --release -p verdict-sidecar 2>&1 | tail -n 2
export LD_LIBRARY_PATH="$ROOT/.tools/cuda${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
SIDECAR="$ROOT/target/release/verdict-sidecar"
# 2. every shipped model on CUDA, against models/reference outputs.
.venv/bin/python - "$SIDECAR" <<'PY' | tee "$OUT/reference.txt"
import json, os, subprocess, sys, tempfile
sys.path.insert(0, "models")
from reference import reference_inputs, to_json
import onnxruntime as ort
exe = sys.argv[1]
worst = 0.0
for name in sorted(f for f in os.listdir("models") if f.endswith(".onnx")):
    path = os.path.join("models", name)
    _, feeds = reference_inputs(path)
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    ref = [float(x) for o in sess.run(None, feeds) for x in o.ravel()]
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump({k: to_json(v) for k, v in feeds.items()}, f)
    r = json.loads(subprocess.run([exe, "infer", "--device", "cuda", "--model", path, "--input", f.name],
                                  check=True, capture_output=True, text=True).stdout)
    assert r["device"] == "cuda", f"{name}: ran on {r['device']}"
    got = [x for o in r["outputs"].values() for x in o["data"]]
    d = max(abs(a - b) for a, b in zip(got, ref))
    worst = max(worst, d)
    print(f"{name}: cuda, max |cuda - python cpu reference| = {d:.3g}")
print(f"worst: {worst:.3g}")
PY
# 3. latency beside Python onnxruntime-gpu, and CUDA-vs-CPU differences.
.venv/bin/python bench/sidecar.py --device cuda --iters 500 | tee "$OUT/bench-sidecar-cuda.md"
cp bench/sidecar-results.md "$OUT/"
echo "gpu-check: done ($OUT)"
