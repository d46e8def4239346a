#!/usr/bin/env python3
"""State sync against replay (`make bench-statesync`), recorded in bench/RESULTS.md.

A 2-validator loopback net (release binaries, timeout_commit SS_TIMEOUT_COMMIT,
default 200ms) takes a snapshot every SS_INTERVAL blocks (default 1000) and
gets SS_SENDS pre-signed MsgSends from 200 new accounts at the start, so state
has more than genesis in it. Once a snapshot exists and the light client has
the two headers above it, two fresh full nodes join: one by state sync, one by
replay from genesis. Both are timed to the same height T (the validators' top
at the moment the first joins, plus 2), and both then follow the chain.
"""

from __future__ import annotations

import datetime
import os
import sys
import tempfile
import time
from pathlib import Path

from bench.load import blast
from bench.run import commit, du, machine, record
from testnet import Net
from testnet.join import make_fullnode, start_fullnode, wait_synced

INTERVAL = int(os.environ.get("SS_INTERVAL", "1000"))
TIMEOUT_COMMIT = os.environ.get("SS_TIMEOUT_COMMIT", "200ms")
SENDS = int(os.environ.get("SS_SENDS", "1000"))



def run() -> dict:
    with tempfile.TemporaryDirectory() as d:
        net = Net(Path(d) / "net").generate(2, timeout_commit=TIMEOUT_COMMIT)
        try:
            net.model_server.start()
            for node in net.nodes:
                node.start_sidecar()
                node.start_verdictd(extra=["--snapshot-interval", str(INTERVAL)])
            for node in net.nodes:
                node.start_cometbft()
            if not net.wait_height([0, 1], 2, 60):
                raise RuntimeError("net did not start")
            f = net.out / "txs.hex"
            net.cli(timeout=3600).run("loadgen", "--from", "faucet", "--accounts", "200",
                                      "--per-account", str(max(1, SENDS // 200)), "--out", str(f))
            txs = [bytes.fromhex(x) for x in f.read_text().split()]
            blast(txs, int(net.node(0).rpc_addr.rsplit(":", 1)[1]))
            t0 = time.monotonic()
            if not net.wait_height([0], INTERVAL + 3, 4 * 3600):
                raise RuntimeError(f"net did not reach {INTERVAL + 3}")
            chain_s = time.monotonic() - t0
            snap = net.node(0).home / "verdict" / "snapshots" / str(INTERVAL)
            target = net.top_height([0]) + 2
            make_fullnode(net.out, 2, 2, state_sync=True)
            start_fullnode(net.node(2))
            sync_s = wait_synced(net.node(2), target, 600)
            make_fullnode(net.out, 2, 3, state_sync=False)
            start_fullnode(net.node(3))
            replay_s = wait_synced(net.node(3), target, 3600)
            top = net.top_height([0]) + 3
            if not net.wait_height([2, 3], top, 120):
                raise RuntimeError("joined nodes did not follow the chain")
            return {"target": target, "sync_s": sync_s, "replay_s": replay_s, "chain_s": chain_s,
                    "snapshot_bytes": du(snap), "chunks": len([p for p in snap.iterdir() if p.name.isdigit()]),
                    "store_bytes": du(net.node(0).home / "verdict" / "db"), "txs": len(txs)}
        finally:
            net.stop()


def main() -> int:
    r = run()
    print(r, flush=True)
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    commit_id = commit()
    lines = [
        f"## {when} — state sync against replay from genesis, commit {commit_id}",
        "",
        f"Machine: {machine()}. Command: `make bench-statesync` (bench/statesync.py, SS_INTERVAL={INTERVAL}, "
        f"SS_TIMEOUT_COMMIT={TIMEOUT_COMMIT}): a 2-validator loopback net with {r['txs']} MsgSends from 200 "
        f"new accounts; snapshot at height {INTERVAL} ({r['chunks']} chunk(s), {r['snapshot_bytes']} bytes; "
        f"node 0's store {r['store_bytes'] / 2**20:.1f} MiB); the chain took {r['chain_s']:.0f} s to get there. "
        f"Two fresh full nodes, timed from start to height {r['target']}:",
        "",
        "| how the node joins | time to height T | ",
        "|---|---|",
        f"| state sync (snapshot {INTERVAL}, then blocks) | {r['sync_s']:.1f} s |",
        f"| replay from genesis (blocksync) | {r['replay_s']:.1f} s |",
        "",
        f"Replay / state sync: {r['replay_s'] / r['sync_s']:.1f}x. State sync's time includes CometBFT's "
        "snapshot discovery (discovery_time 5 s) and the light client's checks against two RPC servers.",
        "",
    ]
    record(lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
