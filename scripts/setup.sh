#!/usr/bin/env bash
# Installs everything Verdict needs into git-ignored folders of this checkout,
# from the package registries only. Idempotent: a second run checks and returns.
#   .tools/bin/cometbft   CometBFT, `go install`ed at a pinned v0.38 patch
#   .tools/bin/grpcurl    grpcurl (pinned), the stock gRPC client the e2e tests list services with
#   .tools/bin/verdict-test-signer   a CometBFT remote signer (scripts/test-signer) for the e2e tests
#   .venv/                Python virtualenv: onnxruntime (libonnxruntime.so), pytest
#   clients/cosmjs/node_modules   @cosmjs/stargate + proto-signing for the compatibility test
# GPU=1 installs onnxruntime-gpu (with the CUDA 13 and cuDNN 9 wheels, linked
# into .tools/cuda) instead of onnxruntime. ABCI_CLI=1 (make bench) also
# installs .tools/bin/abci-cli at the same CometBFT version: its kvstore behind a
# socket is the bench's measure of what the socket costs.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

COMETBFT_VERSION="v0.38.26"   # newest v0.38 patch the Go module proxy served on 2026-11-25
GRPCURL_VERSION="v1.9.3"
TOOLS="$ROOT/.tools"
VENV="$ROOT/.venv"
REQS="scripts/requirements.txt"
[ "${GPU:-0}" = "1" ] && REQS="scripts/requirements-gpu.txt"

need() { command -v "$1" >/dev/null 2>&1 || { echo "setup: error: '$1' is required but not installed" >&2; exit 1; }; }
need go
need python3
need cargo

mkdir -p "$TOOLS/bin"

# --- CometBFT -------------------------------------------------------------------
want="${COMETBFT_VERSION#v}"
have="$("$TOOLS/bin/cometbft" version 2>/dev/null || true)"
if [ "$have" != "$want" ]; then
  echo "setup: installing CometBFT $COMETBFT_VERSION (go install)"
  if ! GOBIN="$TOOLS/bin" GOFLAGS=-mod=mod go install "github.com/cometbft/cometbft/cmd/cometbft@$COMETBFT_VERSION"; then
    echo "setup: error: go install github.com/cometbft/cometbft/cmd/cometbft@$COMETBFT_VERSION failed" >&2
    exit 1
  fi
fi
have="$("$TOOLS/bin/cometbft" version)"
[ "$have" = "$want" ] || { echo "setup: error: cometbft reports $have, want $want" >&2; exit 1; }

# --- abci-cli (benchmarks only) ------------------------------------------------------
if [ "${ABCI_CLI:-0}" = "1" ] && { [ ! -x "$TOOLS/bin/abci-cli" ] || [ "$(cat "$TOOLS/bin/.abci-cli-version" 2>/dev/null)" != "$COMETBFT_VERSION" ]; }; then
  echo "setup: installing abci-cli $COMETBFT_VERSION (go install)"
  if ! GOBIN="$TOOLS/bin" GOFLAGS=-mod=mod go install "github.com/cometbft/cometbft/abci/cmd/abci-cli@$COMETBFT_VERSION"; then
    echo "setup: error: go install github.com/cometbft/cometbft/abci/cmd/abci-cli@$COMETBFT_VERSION failed" >&2
    exit 1
  fi
  echo "$COMETBFT_VERSION" > "$TOOLS/bin/.abci-cli-version"
fi

# --- grpcurl (a stock gRPC client: server reflection, health) ----------------------
# (`go install` builds report no version: a stamp records which one is there.)
if [ ! -x "$TOOLS/bin/grpcurl" ] || [ "$(cat "$TOOLS/bin/.grpcurl-version" 2>/dev/null)" != "$GRPCURL_VERSION" ]; then
  echo "setup: installing grpcurl $GRPCURL_VERSION (go install)"
  if ! GOBIN="$TOOLS/bin" GOFLAGS=-mod=mod go install "github.com/fullstorydev/grpcurl/cmd/grpcurl@$GRPCURL_VERSION"; then
    echo "setup: error: go install github.com/fullstorydev/grpcurl/cmd/grpcurl@$GRPCURL_VERSION failed" >&2
    exit 1
  fi
  echo "$GRPCURL_VERSION" > "$TOOLS/bin/.grpcurl-version"
fi

# --- the e2e tests' remote signer (CometBFT's privval SignerServer, as tmkms speaks it) ---
sig_sum="$(cat scripts/test-signer/go.mod scripts/test-signer/go.sum scripts/test-signer/main.go | sha256sum | cut -d' ' -f1)"
if [ ! -x "$TOOLS/bin/verdict-test-signer" ] || [ "$(cat "$TOOLS/bin/.test-signer.sha256" 2>/dev/null)" != "$sig_sum" ]; then
  echo "setup: building verdict-test-signer (scripts/test-signer, go build)"
  if ! (cd scripts/test-signer && go build -o "$TOOLS/bin/verdict-test-signer" .); then
    echo "setup: error: go build in scripts/test-signer failed" >&2
    exit 1
  fi
  echo "$sig_sum" > "$TOOLS/bin/.test-signer.sha256"
fi

# --- Python virtualenv with ONNX Runtime ----------------------------------------
stamp="$VENV/.requirements.sha256"
sum="$(sha256sum "$REQS" | cut -d' ' -f1)"
if [ ! -x "$VENV/bin/python" ]; then
  echo "setup: creating virtualenv $VENV"
  python3 -m venv "$VENV"
fi
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$sum" ]; then
  echo "setup: installing Python packages from $REQS"
  if [ "${GPU:-0}" = "1" ]; then "$VENV/bin/pip" uninstall -q -y onnxruntime >/dev/null 2>&1 || true;
  else "$VENV/bin/pip" uninstall -q -y onnxruntime-gpu >/dev/null 2>&1 || true; fi
  "$VENV/bin/pip" install -q --disable-pip-version-check -r "$REQS"
  echo "$sum" > "$stamp"
fi
ort_lib="$(ls "$VENV"/lib/python3*/site-packages/onnxruntime/capi/libonnxruntime.so.* 2>/dev/null | head -n1 || true)"
[ -n "$ort_lib" ] || { echo "setup: error: libonnxruntime.so not found in $VENV after install" >&2; exit 1; }
ln -sf "$ort_lib" "$TOOLS/libonnxruntime.so"
ort_ver="$("$VENV/bin/python" -c 'import onnxruntime as o; print(o.__version__, ",".join(o.get_available_providers()))')"
# GPU=1: the CUDA libraries of the nvidia wheels, linked into one folder that
# the sidecar's launcher (testnet/node.py) puts on LD_LIBRARY_PATH; the CPU
# setup removes it.
if [ "${GPU:-0}" = "1" ]; then
  rm -rf "$TOOLS/cuda" && mkdir -p "$TOOLS/cuda"
  for lib in "$VENV"/lib/python3*/site-packages/nvidia/*/lib/*.so*; do
    [ -e "$lib" ] && ln -sf "$lib" "$TOOLS/cuda/"
  done
  for need_lib in libcudart.so.13 libcublas.so.13 libcudnn.so.9 libcufft.so.12 libcurand.so.10; do
    [ -e "$TOOLS/cuda/$need_lib" ] || { echo "setup: error: $need_lib not found in the nvidia wheels of $VENV" >&2; exit 1; }
  done
  case "$ort_ver" in
    *CUDAExecutionProvider*) ;;
    *) echo "setup: error: onnxruntime-gpu reports no CUDAExecutionProvider: $ort_ver" >&2; exit 1 ;;
  esac
else
  rm -rf "$TOOLS/cuda"
fi

# --- npm test clients (cosmjs) ---------------------------------------------------
need node
need npm
if [ ! -f clients/cosmjs/node_modules/.package-lock.json ] || [ clients/cosmjs/package-lock.json -nt clients/cosmjs/node_modules/.package-lock.json ]; then
  echo "setup: installing cosmjs test clients (npm ci)"
  (cd clients/cosmjs && npm ci --no-audit --no-fund --loglevel=error)
fi
cosmjs_ver="$(node -p 'require("./clients/cosmjs/node_modules/@cosmjs/stargate/package.json").version')"

cat <<MSG
setup: ready
  cometbft      $TOOLS/bin/cometbft ($have)
  grpcurl       $TOOLS/bin/grpcurl ($GRPCURL_VERSION)
  onnxruntime   $ort_ver
  libonnxruntime $TOOLS/libonnxruntime.so -> $ort_lib$( [ -d "$TOOLS/cuda" ] && printf '\n  cuda libs     %s (%s files; CUDA 13 needs an NVIDIA driver >= 580)' "$TOOLS/cuda" "$(ls "$TOOLS/cuda" | wc -l)")
  cosmjs        clients/cosmjs/node_modules (@cosmjs/stargate $cosmjs_ver)
  python venv   $VENV ($("$VENV/bin/python" --version 2>&1), pytest $("$VENV/bin/python" -c 'import pytest; print(pytest.__version__)'))
MSG
