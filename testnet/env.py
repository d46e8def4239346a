"""Where things are: the repository root, the default net directory, and the
binaries a net runs (CometBFT from `make setup`, the Verdict ones from `make
build` or VERDICT_BIN_DIR). Every path is resolved when asked for, so a test
can change the environment (COMETBFT, VERDICT_BIN_DIR) on the fly."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / ".testnet"
MODELS_DIR = ROOT / "models"
CHAIN_ID = "verdict-local"


class NetError(Exception):
    """A problem an operator can act on; printed as one line."""


def bin_dir() -> Path:
    d = Path(os.environ.get("VERDICT_BIN_DIR", ROOT / "target" / "release"))
    return d if d.is_absolute() else (ROOT / d)


def _need(path: Path, what: str, fix: str) -> Path:
    if not path.exists():
        raise NetError(f"{what} not found at {path}: run `{fix}`")
    return path


def cometbft_bin() -> Path:
    p = Path(os.environ.get("COMETBFT", ROOT / ".tools" / "bin" / "cometbft")).resolve()
    return _need(p, "cometbft binary", "make setup")


def verdictd_bin() -> Path:
    return _need(bin_dir() / "verdictd", "verdictd binary", "make build")


def sidecar_bin() -> Path:
    return _need(bin_dir() / "verdict-sidecar", "verdict-sidecar binary", "make build")


def verdict_bin() -> Path:
    return _need(bin_dir() / "verdict", "verdict CLI", "make build")


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)
