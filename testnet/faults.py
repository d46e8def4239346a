"""TEST ONLY faults of a local net's nodes. The sidecar's go to
`verdict-sidecar serve --fault`, the others (behaviour of the validator itself)
to `verdictd start --fault`. Also the sidecars' serve policies by node
(`--serve all|none|FILE`, an operator's choice rather than a fault)."""

from __future__ import annotations

import re

from .env import NetError

VERDICTD_FAULTS = ("copy", "withhold")
_NOISE = re.compile(r"noise=((?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)")


def is_sidecar_fault(fault: str) -> bool:
    """wrong, down, slow=MS, noise=REL (finite, > 0) or lie=MS."""
    if fault in ("wrong", "down") or re.fullmatch(r"(slow|lie)=\d+", fault):
        return True
    m = _NOISE.fullmatch(fault)
    return bool(m) and 0.0 < float(m.group(1)) < float("inf")


def parse_faults(spec: str | None) -> dict[int, str]:
    """`1:wrong,2:slow=3000,3:copy` → {1: "wrong", 2: "slow=3000", 3: "copy"} (test-only
    faults: sidecar ones, see `is_sidecar_fault`, and verdictd ones, `VERDICTD_FAULTS`)."""
    out: dict[int, str] = {}
    for part in (spec or "").split(","):
        part = part.strip()
        if not part:
            continue
        node, sep, fault = part.partition(":")
        if not sep or not node.isdigit() or not (is_sidecar_fault(fault) or
                                                  fault in VERDICTD_FAULTS):
            raise NetError(f"bad FAULTS entry {part!r}: want NODE:FAULT with FAULT one of "
                           "wrong, down, slow=MS, noise=REL, lie=MS, copy, withhold")
        out[int(node)] = fault
    return out


def split_faults(faults: dict[int, str]) -> tuple[dict[int, str], dict[int, str]]:
    """(sidecar faults, verdictd faults) by node."""
    sidecar = {i: f for i, f in faults.items() if f not in VERDICTD_FAULTS}
    verdictd = {i: f for i, f in faults.items() if f in VERDICTD_FAULTS}
    return sidecar, verdictd


def parse_serve(spec: str | None) -> dict[int, str]:
    """`3:none,2:/path/list` → {3: "none", 2: "/path/list"}: each node's sidecar
    `--serve` policy (all, none, or a file of sha256 lines); unnamed nodes: all."""
    out: dict[int, str] = {}
    for part in (spec or "").split(","):
        part = part.strip()
        if not part:
            continue
        node, sep, policy = part.partition(":")
        if not sep or not node.isdigit() or not policy:
            raise NetError(f"bad SERVE entry {part!r}: want NODE:POLICY with POLICY all, none or a FILE")
        out[int(node)] = policy
    return out
