#!/usr/bin/env bash
# The CUDA path's device check (issue 22), for a machine with an NVIDIA GPU
# (driver >= 580 for CUDA 13). Docs: docs/gpu.md.
#
#   scripts/gpu-check.sh env   what the machine offers (GPU, driver, Python,
#                              CUDA libraries, the .gpu-pack parts, whether the
#                              packed sidecar runs there); quick
#   scripts/gpu-check.sh       the check:
#   1. ONNX Runtime with CUDA: from .gpu-pack (scripts/gpu-pack.sh, for a
#      machine without registry access or Rust: the machine's own python3 and
#      nvidia-* wheels give the CUDA libraries), else `make setup GPU=1` and a
#      release build of the sidecar;
#   2. every shipped model with `verdict-sidecar infer --device cuda` against
#      Python onnxruntime on CPU (must report device "cuda");
#   3. `bench/sidecar.py --device cuda`: sidecar CUDA beside Python
#      onnxruntime-gpu on the same inputs, and the largest CUDA-vs-CPU output
#      difference per shipped model at input scales 1, 10 and 100; then the
#      same bench on CPU, on the same machine.
# Results go to $OUT (or ./gpu-check-out): copy them into bench/RESULTS.md with
# the GPU named. PYTHON: the machine's Python with the nvidia-* wheels (default
# python3; a PyTorch image: PYTHON=/opt/torch/.venv/bin/python3).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
OUT="${OUT:-$ROOT/gpu-check-out}"
PACK="$ROOT/.gpu-pack"
GPU_DIR="$ROOT/.tools/gpu"
PYTHON="${PYTHON:-python3}"
mkdir -p "$OUT"

# The CUDA libraries of $PYTHON's nvidia-* wheels, linked into .tools/cuda.
link_machine_cuda() {
  rm -rf "$ROOT/.tools/cuda" && mkdir -p "$ROOT/.tools/cuda"
  local d lib
  for d in $("$PYTHON" -c 'import nvidia; print(*nvidia.__path__)' 2>/dev/null); do
    for lib in "$d"/*/lib/lib*.so*; do [ -e "$lib" ] && ln -sf "$lib" "$ROOT/.tools/cuda/"; done
  done
  for lib in libcudart.so.13 libcublas.so.13 libcublasLt.so.13 libcudnn.so.9 libcufft.so.12 libcurand.so.10; do
    [ -e "$ROOT/.tools/cuda/$lib" ] || { echo "gpu-check: error: $lib is not in $PYTHON's nvidia-* wheels" >&2; return 1; }
  done
}

# Unpack the parts of .gpu-pack that are here into .tools/gpu.
unpack() {
  mkdir -p "$GPU_DIR/site/onnxruntime/capi"
  "$PYTHON" - "$PACK" "$GPU_DIR" <<'PY'
import lzma, os, shutil, sys, tarfile
pack, dest = sys.argv[1], sys.argv[2]
if os.path.exists(f"{pack}/b/onnxruntime.tar.xz"):
    with tarfile.open(f"{pack}/b/onnxruntime.tar.xz", "r:xz") as t:
        t.extractall(f"{dest}/site", filter="data")
for src, dst in [("a/providers_cuda.so.xz", "site/onnxruntime/capi/libonnxruntime_providers_cuda.so"),
                 ("a/verdict-sidecar.xz", "verdict-sidecar")]:
    if os.path.exists(f"{pack}/{src}"):
        with lzma.open(f"{pack}/{src}") as i, open(f"{dest}/{dst}", "wb") as o:
            shutil.copyfileobj(i, o, 1 << 20)
PY
  [ -e "$GPU_DIR/verdict-sidecar" ] && chmod +x "$GPU_DIR/verdict-sidecar"
  return 0
}

# The pack is built for one Python (its pybind module).
pack_fits() {
  local want have
  want="$(sed -n 's/^python //p' "$PACK/a/BUILD")"
  have="$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
  [ "$want" = "$have" ] || { echo "gpu-check: error: .gpu-pack is for Python $want, $PYTHON is $have: PYVER=$have scripts/gpu-pack.sh" >&2; return 1; }
}

if [ "${1:-}" = "env" ]; then
  {
    nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv,noheader || echo "no nvidia-smi"
    echo "python: $(command -v "$PYTHON") $("$PYTHON" --version 2>&1)"
    env | grep -E '^(NVIDIA_TF32|CUDA_|LD_LIBRARY_PATH)' || true
    "$PYTHON" - <<'PY' || true
import importlib.metadata as m
for n in ["nvidia-cuda-runtime", "nvidia-cublas", "nvidia-cudnn-cu13", "nvidia-cufft", "nvidia-curand",
          "nvidia-nvjitlink", "numpy", "onnxruntime", "onnxruntime-gpu", "torch"]:
    try:
        print(f"  {n} {m.version(n)}")
    except m.PackageNotFoundError:
        print(f"  {n} -")
PY
    link_machine_cuda && echo "cuda libs: $(ls "$ROOT/.tools/cuda" | wc -l) linked" || true
    for part in a b; do
      if [ -d "$PACK/$part" ]; then echo ".gpu-pack/$part: $(du -sh "$PACK/$part" | cut -f1)"; else echo ".gpu-pack/$part: absent"; fi
    done
    if [ -d "$PACK/a" ]; then
      head -n1 "$PACK/a/BUILD"
      pack_fits || true
      rm -rf "$GPU_DIR" && unpack && echo "unpacked: $(ls "$GPU_DIR")"
      (cd "$GPU_DIR" && sha256sum --quiet -c "$PACK/a/SHA256SUMS") && echo "part a verified"
      "$GPU_DIR/verdict-sidecar" --version
      LD_LIBRARY_PATH="$ROOT/.tools/cuda${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" ldd "$GPU_DIR/site/onnxruntime/capi/libonnxruntime_providers_cuda.so" | grep -E "not found|libcu" || true
    fi
  } 2>&1 | tee "$OUT/env.txt"
  exit 0
fi

if { [ -d "$PACK/a" ] || [ -d "$PACK/b" ]; } && ! { [ -d "$PACK/a" ] && [ -d "$PACK/b" ]; }; then
  echo "gpu-check: error: only one part of .gpu-pack is here; bring a, then b, in calls close enough that the first part is still there" >&2
  exit 1
fi
if [ ! -d "$PACK/a" ] && ! command -v cargo >/dev/null; then
  echo "gpu-check: error: no .gpu-pack and no cargo: build the pack elsewhere (scripts/gpu-pack.sh, docs/gpu.md)" >&2
  exit 1
fi
{ nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv,noheader
  env | grep -E '^(NVIDIA_TF32|CUDA_)' || true; } | tee "$OUT/gpu.txt"
if [ -d "$PACK/a" ]; then
  pack_fits
  # 1. from the pack: unpack, verify, take the CUDA libraries from $PYTHON's wheels.
  echo "gpu-check: from .gpu-pack ($(head -n1 "$PACK/a/BUILD"))"
  rm -rf "$GPU_DIR" && unpack
  (cd "$GPU_DIR" && sha256sum --quiet -c "$PACK/a/SHA256SUMS" "$PACK/b/SHA256SUMS") || { echo "gpu-check: error: unpacked files differ from SHA256SUMS" >&2; exit 1; }
  link_machine_cuda
  PY="$PYTHON"
  SIDECAR="$GPU_DIR/verdict-sidecar"
  export PYTHONPATH="$GPU_DIR/site${PYTHONPATH:+:$PYTHONPATH}"
  export ORT_DYLIB_PATH="$(ls "$GPU_DIR"/site/onnxruntime/capi/libonnxruntime.so.* | head -n1)"
  cp "$PACK/a/BUILD" "$OUT/build.txt"
else
  GPU=1 scripts/setup.sh 2>&1 | tee "$OUT/setup.txt"
  cargo build --release -p verdict-sidecar 2>&1 | tail -n 2
  PY="$ROOT/.venv/bin/python"
  SIDECAR="$ROOT/target/release/verdict-sidecar"
fi
export LD_LIBRARY_PATH="$ROOT/.tools/cuda${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
"$PY" -c 'import onnxruntime as o; print("onnxruntime", o.__version__, o.get_available_providers())' | tee -a "$OUT/gpu.txt"

# 2. every shipped model on CUDA, against Python onnxruntime on CPU.
"$PY" - "$SIDECAR" <<'PY' | tee "$OUT/reference.txt"
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
    run = subprocess.run([exe, "infer", "--device", "cuda", "--model", path, "--input", f.name],
                         capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit(f"{name}: verdict-sidecar infer failed:\n{run.stderr}")
    r = json.loads(run.stdout)
    assert r["device"] == "cuda", f"{name}: ran on {r['device']}:\n{run.stderr}"
    got = [x for o in r["outputs"].values() for x in o["data"]]
    d = max(abs(a - b) for a, b in zip(got, ref))
    worst = max(worst, d)
    print(f"{name}: cuda, max |cuda - python cpu reference| = {d:.3g}")
print(f"worst: {worst:.3g}")
PY
# 3. latency beside Python onnxruntime-gpu, CUDA-vs-CPU differences; then CPU.
"$PY" bench/sidecar.py --bin "$SIDECAR" --device cuda --iters 500 | tee "$OUT/bench-sidecar-cuda.md"
"$PY" bench/sidecar.py --bin "$SIDECAR" --device cpu --iters 500 | tee "$OUT/bench-sidecar-cpu.md"
echo "gpu-check: done ($OUT)"
