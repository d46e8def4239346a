#!/usr/bin/env bash
# What the CUDA device check (scripts/gpu-check.sh) needs on a GPU machine that
# reaches no package registry and has no Rust toolchain, packed here, on a
# machine that has both, into two parts that each travel on their own (a copy
# limit of 64 MiB per transfer, with the checkout's ~6 MiB beside it):
#
#   .gpu-pack/a/providers_cuda.so.xz   onnxruntime-gpu's CUDA execution provider
#                                      (284 MB) cut to the SASS of one GPU
#                                      architecture by scripts/fatbin-prune.py
#   .gpu-pack/a/verdict-sidecar.xz     a release build of the sidecar
#   .gpu-pack/b/onnxruntime.tar.xz     the rest of the onnxruntime-gpu Python
#                                      package (libonnxruntime.so included)
#   .gpu-pack/{a,b}/SHA256SUMS         what unpacking each part must give
#   .gpu-pack/a/BUILD                  what was built, for which Python
#
# The CUDA libraries themselves (cuBLAS, cuDNN, ... over 1 GB) do not travel:
# gpu-check.sh takes them from the machine's own Python nvidia-* wheels (a
# PyTorch cu13 image has them).
#
# Usage: scripts/gpu-pack.sh [ARCH]   ARCH: SASS architecture, 90 (H100/H200,
#        the default), 80 (A100), 89 (L4/L40), 120; PYVER=3.12: the GPU
#        machine's python3 (the Python onnxruntime baseline is built for it).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
ARCH="${1:-90}"
PYVER="${PYVER:-3.12}"
LIMIT_MIB=58
ORT_GPU="$(sed -n 's/^onnxruntime-gpu\[[a-z,]*\]==\([0-9.]*\)$/\1/p' scripts/requirements-gpu.txt)"
[ -n "$ORT_GPU" ] || { echo "gpu-pack: no onnxruntime-gpu pin in scripts/requirements-gpu.txt" >&2; exit 1; }
CACHE="$ROOT/.tools/gpu-pack-cache"
PACK="$ROOT/.gpu-pack"
mkdir -p "$CACHE"

cp="cp${PYVER/./}"
wheel="$(ls "$CACHE"/onnxruntime_gpu-"$ORT_GPU"-"$cp"-"$cp"-manylinux*_x86_64.whl 2>/dev/null | head -n1 || true)"
if [ -z "$wheel" ]; then
  echo "gpu-pack: downloading onnxruntime-gpu $ORT_GPU for CPython $PYVER"
  python3 -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: \
    --python-version "$PYVER" --implementation cp --platform manylinux_2_28_x86_64 \
    --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 -d "$CACHE" "onnxruntime-gpu==$ORT_GPU"
  wheel="$(ls "$CACHE"/onnxruntime_gpu-"$ORT_GPU"-"$cp"-"$cp"-manylinux*_x86_64.whl | head -n1)"
fi

echo "gpu-pack: building the sidecar (release)"
cargo build -q --release -p verdict-sidecar

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/site"
unzip -q "$wheel" 'onnxruntime/*' -d "$stage/site"
capi="$stage/site/onnxruntime/capi"
# TensorRT is not used (the sidecar asks for CUDA, then CPU).
rm -f "$capi/libonnxruntime_providers_tensorrt.so"
python3 scripts/fatbin-prune.py "$capi/libonnxruntime_providers_cuda.so" "$stage/pruned.so" --arch "$ARCH"
mv "$stage/pruned.so" "$capi/libonnxruntime_providers_cuda.so"
cp target/release/verdict-sidecar "$stage/verdict-sidecar"
strip "$stage/verdict-sidecar"

rm -rf "$PACK" && mkdir -p "$PACK/a" "$PACK/b"
(cd "$stage" && sha256sum site/onnxruntime/capi/libonnxruntime_providers_cuda.so verdict-sidecar) > "$PACK/a/SHA256SUMS"
(cd "$stage" && find site -type f ! -name libonnxruntime_providers_cuda.so | sort | xargs sha256sum) > "$PACK/b/SHA256SUMS"
cat > "$PACK/a/BUILD" <<EOF
commit $(git rev-parse HEAD)$(git diff --quiet HEAD -- sidecar Cargo.lock || echo " (sidecar changed since)")
onnxruntime-gpu $ORT_GPU ($(basename "$wheel")), CUDA provider cut to sm_$ARCH
python $PYVER
EOF
echo "gpu-pack: compressing (xz -9, a few minutes)"
xz -9 -T2 -c "$capi/libonnxruntime_providers_cuda.so" > "$PACK/a/providers_cuda.so.xz"
tar -C "$stage/site" --exclude libonnxruntime_providers_cuda.so -cf - onnxruntime | xz -9 -T2 > "$PACK/b/onnxruntime.tar.xz"
xz -9 -T2 -c "$stage/verdict-sidecar" > "$PACK/a/verdict-sidecar.xz"

for part in a b; do
  mib=$(( $(du -sb "$PACK/$part" | cut -f1) / 1048576 ))
  [ "$mib" -le "$LIMIT_MIB" ] || { echo "gpu-pack: error: part $part is $mib MiB, over $LIMIT_MIB" >&2; exit 1; }
  echo "gpu-pack: .gpu-pack/$part $mib MiB"
done
cat <<EOF
gpu-pack: ready for sm_$ARCH. On the GPU machine, in a copy of this checkout:
  1. bring .gpu-pack/a, then run: scripts/gpu-check.sh env
  2. bring .gpu-pack/b, then run: scripts/gpu-check.sh
(each part can travel alone; step 1 reports the machine and tries the sidecar
binary there, step 2 unpacks both, verifies them and runs the check)
EOF
