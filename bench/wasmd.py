#!/usr/bin/env python3
"""Signed MsgSend throughput, Verdict beside wasmd (`make bench-wasmd`; issue 18).

wasmd v0.70.3 is a stock Cosmos SDK chain (SDK 0.54), built once into
.tools/bin/wasmd by scripts/build-wasmd.sh. For each net size in
WASMD_SIZES (default "1 4" validators, loopback, the same consensus
timeouts: timeout_commit WASMD_TIMEOUT_COMMIT, default 500ms, and
timeout_propose 2s; kv tx indexer; minimum gas price 0.025), both chains get
the same load from the same client: clients/cosmjs/loadgen.mjs (stock cosmjs)
funds LOAD_ACCOUNTS senders and pre-signs LOAD_PER_ACCOUNT MsgSends each
(SIGN_MODE_DIRECT, fee 5000 for 200 000 gas), and bench/load.py's blaster
sends them with broadcast_tx_sync from LOAD_THREADS threads to node 0.
Throughput is committed txs over the time from the first send to the block
that held the last one. Verdict runs as a validator would (sidecars up, no
per-block invariant check). Results are put first in bench/RESULTS.md.
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bench.load import THREADS, blast
from bench.run import as_validators, commit, machine, record, stop
from testnet import ROOT, Net
from testnet.wasmd import wasmd_net

WASMD = Path(os.environ.get("WASMD", ROOT / ".tools" / "bin" / "wasmd"))
SIZES = [int(n) for n in os.environ.get("WASMD_SIZES", "1 4").split()]
TIMEOUT_COMMIT = os.environ.get("WASMD_TIMEOUT_COMMIT", "500ms")
ACCOUNTS = int(os.environ.get("LOAD_ACCOUNTS", "200"))
PER_ACCOUNT = int(os.environ.get("LOAD_PER_ACCOUNT", "15"))
FEE, GAS = "5000", "200000"
ENGINES = os.environ.get("WASMD_ENGINES", "wasmd verdict").split()
BASE = 27000  # wasmd ports: BASE + 100·i + {0 rpc, 1 p2p, 2 grpc}
NODE = shutil.which("node") or "node"


def rpc(port: int, path: str, timeout: float = 10) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/{path}", timeout=timeout) as r:
        return json.loads(r.read())["result"]


def height(port: int) -> int:
    try:
        return int(rpc(port, "status", 2)["sync_info"]["latest_block_height"])
    except (OSError, KeyError, ValueError):
        return 0


def wait_height(port: int, want: int, seconds: float) -> None:
    end = time.monotonic() + seconds
    while height(port) < want:
        if time.monotonic() > end:
            raise RuntimeError(f"the chain on RPC port {port} did not reach height {want}")
        time.sleep(0.2)


def loadgen(port: int, mnemonic: Path, prefix: str, denom: str, out: Path) -> list[bytes]:
    r = subprocess.run(
        [NODE, str(ROOT / "clients" / "cosmjs" / "loadgen.mjs"), f"http://127.0.0.1:{port}",
         str(mnemonic), prefix, denom, str(ACCOUNTS), str(PER_ACCOUNT), FEE, GAS, str(out)],
        capture_output=True, text=True, timeout=1800)
    if r.returncode != 0:
        raise RuntimeError(f"loadgen on port {port}: {r.stderr.strip()[-2000:]}")
    return [bytes.fromhex(line) for line in out.read_text().split()]


def measure(port: int, txs: list[bytes]) -> dict:
    """Sends `txs` to the node on `port`; committed count, rate and latency."""
    import base64
    import hashlib

    start_h = height(port)
    t0 = time.monotonic()
    sent, rejected = blast(txs, port)
    t_sent = time.monotonic()
    seen: dict[str, float] = {}
    h, deadline = start_h + 1, t_sent + 180
    while len(seen) < len(sent) and time.monotonic() < deadline:
        top = height(port)
        while h <= top:
            blk = rpc(port, f"block?height={h}")
            now = time.monotonic()
            for b64 in blk["block"]["data"]["txs"] or []:
                hh = hashlib.sha256(base64.b64decode(b64)).hexdigest().upper()
                if hh in sent and hh not in seen:
                    seen[hh] = now
            h += 1
        time.sleep(0.05)
    t_end = max(seen.values()) if seen else t_sent
    lat = sorted((seen[x] - sent[x]) * 1000 for x in seen)
    return {
        "txs": len(txs), "accepted": len(sent), "rejected": rejected, "committed": len(seen),
        "tx_bytes_avg": round(sum(map(len, txs)) / len(txs)),
        "tps": round(len(seen) / (t_end - t0), 1) if seen else 0.0,
        "lat_p50_ms": round(statistics.median(lat)) if lat else None,
        "lat_p99_ms": round(lat[min(len(lat) - 1, int(len(lat) * 0.99))]) if lat else None,
    }


def run_verdict(n: int, d: Path) -> dict:
    net = Net(d / "net").generate(n, timeout_commit=TIMEOUT_COMMIT)
    as_validators(net, n)
    try:
        net.start()
        port = int(net.node(0).rpc_addr.rsplit(":", 1)[1])
        wait_height(port, 2, 120)
        txs = loadgen(port, net.faucet_mnemonic, "verdict", "uverd", d / "verdict.hex")
        return measure(port, txs)
    finally:
        net.stop()


def run_wasmd(n: int, d: Path) -> dict:
    homes, mnemonic = wasmd_net(n, d, WASMD, chain_id="wasm-bench", base=BASE,
                                timeout_commit=TIMEOUT_COMMIT)
    procs = []
    try:
        for h in homes:
            with open(h / "node.log", "ab") as log:
                procs.append(subprocess.Popen([str(WASMD), "start", "--home", str(h)],
                                              stdout=log, stderr=subprocess.STDOUT,
                                              start_new_session=True))
        wait_height(BASE, 2, 120)
        txs = loadgen(BASE, mnemonic, "wasm", "stake", d / "wasmd.hex")
        return measure(BASE, txs)
    finally:
        stop(procs)


def main() -> int:
    # Built once (a version stamp beside it); WASMD=... names another build.
    subprocess.run([str(ROOT / "scripts" / "build-wasmd.sh")], check=True,
                   env={**os.environ, "WASMD": str(WASMD)})
    # A `go build` of the module stamps no version into the binary: the build's stamp.
    stamp = WASMD.with_name(WASMD.name + ".version")
    version = stamp.read_text().strip() if stamp.exists() else "(unknown version)"
    rows = []
    for n in SIZES:
        for engine, run in (("wasmd", run_wasmd), ("verdict", run_verdict)):
            if engine not in ENGINES:
                continue
            with tempfile.TemporaryDirectory() as d:
                r = run(n, Path(d))
            r.update(engine=engine, validators=n)
            print(json.dumps(r), flush=True)
            rows.append(r)
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"## {now} — signed MsgSend throughput beside wasmd, commit {commit()}",
        "",
        f"Machine: {machine()}. Command: `make bench-wasmd` (bench/wasmd.py): wasmd "
        f"{version} (its go.mod: Cosmos SDK v0.54.0, CometBFT v0.39.0) and Verdict on "
        f"loopback nets of the same size, timeout_commit {TIMEOUT_COMMIT}, timeout_propose 2s, "
        f"kv indexer, min gas price 0.025; the same client for both: "
        f"clients/cosmjs/loadgen.mjs (stock cosmjs) pre-signs {ACCOUNTS} senders × {PER_ACCOUNT} "
        f"MsgSends (fee {FEE} for {GAS} gas), sent with broadcast_tx_sync from {THREADS} threads "
        f"to node 0. tx/s = committed txs / (first send → block holding the last one).",
        "",
        "| validators | engine | committed | rejected at CheckTx | tx bytes | tx/s | latency p50 | p99 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r['validators']} | {r['engine']} | {r['committed']}/{r['txs']} | "
                     f"{r['rejected']} | {r['tx_bytes_avg']} | {r['tps']} | {r['lat_p50_ms']} ms | "
                     f"{r['lat_p99_ms']} ms |")
    lines.append("")
    for n in SIZES:
        by = {r["engine"]: r for r in rows if r["validators"] == n}
        if by.get("wasmd", {}).get("tps") and "verdict" in by:
            ratio = by["verdict"]["tps"] / by["wasmd"]["tps"]
            lines.append(f"Verdict / wasmd, {n} validator(s): {ratio:.2f}.")
    lines.append("")
    record(lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
