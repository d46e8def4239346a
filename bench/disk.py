#!/usr/bin/env python3
"""Disk over a long run with pruning (`make bench-disk`), recorded in bench/RESULTS.md.

A 1-validator loopback net (release binaries, timeout_commit DISK_TIMEOUT_COMMIT,
default 200ms: about 5 blocks/s, a fast chain's rate; at 0s one validator makes ~86
blocks/s, where sled's lazy segment cleaning falls behind — bench/RESULTS.md) runs DISK_BLOCKS blocks (default 20000) with a steady stream of
signed MsgSends (DISK_TX_PER_S, default 4 per second, from 200 accounts), its
verdictd pruning `custom` (keep the last 100 versions, every 10 blocks) with
`--min-retain-blocks 1000` (CometBFT keeps 1000 blocks, verdictd's tx index
the txs of those blocks) and a snapshot every 1000 blocks. CometBFT is set up
as a pruning validator is (README, "Operating a validator"): `tx_index.indexer = "null"` (v0.38
cannot prune its kv indexer) and `storage.discard_abci_responses = true`.
Every DISK_SAMPLE blocks (default 1000) it samples the size of verdictd's
store and of each of CometBFT's databases. At the end, a proof at the latest
height still verifies, an old height answers "pruned" (code 26), and a fresh
full node joins by state sync.
"""

from __future__ import annotations

import base64
import datetime
import http.client
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.run import commit, du, machine, record
from testnet import Net
from testnet.homes import Toml
from testnet.join import make_fullnode, start_fullnode, wait_synced

BLOCKS = int(os.environ.get("DISK_BLOCKS", "20000"))
SAMPLE = int(os.environ.get("DISK_SAMPLE", "1000"))
TIMEOUT_COMMIT = os.environ.get("DISK_TIMEOUT_COMMIT", "200ms")
TX_PER_S = float(os.environ.get("DISK_TX_PER_S", "4"))
COMET_DBS = ["blockstore.db", "state.db", "tx_index.db", "evidence.db", "cs.wal"]
FLAGS = ["--pruning", "custom", "--pruning-keep-recent", "100", "--pruning-interval", "10",
         "--min-retain-blocks", "1000", "--snapshot-interval", "1000"]


def pruning_validator(home: Path) -> None:
    """CometBFT's side of a bounded-disk validator: no kv tx indexer (v0.38 never
    prunes it) and only the latest FinalizeBlock response kept."""
    path = home / "config" / "config.toml"
    cfg = Toml(path.read_text())
    cfg.set("tx_index", "indexer", "null")
    cfg.set_raw("storage", "discard_abci_responses", "true")
    path.write_text(cfg.text)


def feed(txs: list[bytes], port: int, stop: threading.Event) -> None:
    """Sends the txs at TX_PER_S until they run out or `stop`."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for i, tx in enumerate(txs):
        if stop.is_set():
            return
        body = json.dumps({"jsonrpc": "2.0", "id": i, "method": "broadcast_tx_sync",
                           "params": {"tx": base64.b64encode(tx).decode()}})
        try:
            conn.request("POST", "/", body, {"Content-Type": "application/json"})
            conn.getresponse().read()
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        stop.wait(1 / TX_PER_S)


def run() -> dict:
    with tempfile.TemporaryDirectory() as d:
        net = Net(Path(d) / "net").generate(1, timeout_commit=TIMEOUT_COMMIT)
        node = net.node(0)
        pruning_validator(node.home)
        stop = threading.Event()
        try:
            net.model_server.start()
            node.start_sidecar()
            node.start_verdictd(extra=FLAGS)
            node.start_cometbft()
            if not net.wait_height([0], 2, 60):
                raise RuntimeError("net did not start")
            f = net.out / "txs.hex"
            per = max(1, int(BLOCKS * TX_PER_S / 200 / 2))
            net.cli(timeout=3600).run("loadgen", "--from", "faucet", "--accounts", "200",
                                      "--per-account", str(per), "--out", str(f))
            txs = [bytes.fromhex(x) for x in f.read_text().split()]
            port = int(node.rpc_addr.rsplit(":", 1)[1])
            threading.Thread(target=feed, args=(txs, port, stop), daemon=True).start()
            samples = []
            t0 = time.monotonic()
            for h in range(SAMPLE, BLOCKS + 1, SAMPLE):
                if not net.wait_height([0], h, 3600):
                    raise RuntimeError(f"stalled before {h}")
                s = {"height": h, "store": du(node.home / "verdict" / "db"),
                     "snapshots": du(node.home / "verdict" / "snapshots"),
                     "cometbft": du(node.home / "data"), "s": time.monotonic() - t0,
                     "comet_dbs": {n: du(node.home / "data" / n) for n in COMET_DBS},
                     "txs": int(node.rpc("num_unconfirmed_txs")["total"])}
                samples.append(s)
                print(json.dumps(s), flush=True)
            stop.set()
            latest = node.height() or 0
            key = b"app/last_block"
            ok = node.rpc(f'abci_query?path="store/key"&data=0x{key.hex()}&height={latest - 1}&prove=true',
                          timeout=10)["response"]
            old = node.rpc(f'abci_query?path="store/key"&data=0x{key.hex()}&height=2')["response"]
            ibc = node.rpc(f'abci_query?path="store/ibc/key"&data=0x{b"clients/none/clientState".hex()}'
                           f'&height={latest - 1}&prove=true', timeout=10)["response"]
            checks = {"proof_latest": ok.get("code", 0) == 0 and bool(ok.get("proofOps") or ok.get("proof_ops")),
                      "old_pruned": old.get("code") == 26,
                      "ibc_absence_proof": ibc.get("code", 0) == 0 and bool(ibc.get("proofOps") or ibc.get("proof_ops"))}
            make_fullnode(net.out, 1, 1, state_sync=True)
            start_fullnode(net.node(1))
            checks["state_sync_s"] = round(wait_synced(net.node(1), (node.height() or 0) + 2, 600), 1)
            checks["earliest"] = int(node.rpc("status")["sync_info"]["earliest_block_height"])
            return {"samples": samples, "checks": checks, "txs": len(txs)}
        finally:
            stop.set()
            net.stop()


def main() -> int:
    r = run()
    print(json.dumps(r["checks"]), flush=True)
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    commit_id = commit()
    mib = 2 ** 20
    lines = [
        f"## {when} — disk over {BLOCKS} blocks with pruning, commit {commit_id}",
        "",
        f"Machine: {machine()}. Command: `make bench-disk` (bench/disk.py; DISK_BLOCKS={BLOCKS}, "
        f"timeout_commit {TIMEOUT_COMMIT}): a 1-validator net, verdictd `{' '.join(FLAGS)}`, "
        f"{TX_PER_S:g} MsgSends/s offered from 200 accounts ({r['txs']} pre-signed); CometBFT "
        f"with `tx_index.indexer = \"null\"` and `storage.discard_abci_responses = true`. "
        f"CometBFT's databases in MiB.",
        "",
        f"| height | verdictd store | snapshots | CometBFT data | {' | '.join(COMET_DBS)} | elapsed |",
        "|---|---|---|---|" + "---|" * len(COMET_DBS) + "---|",
    ]
    for s in r["samples"]:
        dbs = " | ".join(f"{s['comet_dbs'][n] / mib:.1f}" for n in COMET_DBS)
        lines.append(f"| {s['height']} | {s['store'] / mib:.1f} MiB | {s['snapshots'] / mib:.2f} MiB | "
                     f"{s['cometbft'] / mib:.1f} MiB | {dbs} | {s['s']:.0f} s |")
    c = r["checks"]
    lines += ["", f"At the end: proof at the latest height {'verifies' if c['proof_latest'] else 'FAILED'}; "
              f"height 2 answers {'code 26 (pruned)' if c['old_pruned'] else 'NOT pruned'}; an IBC-path "
              f"absence proof {'is served' if c['ibc_absence_proof'] else 'FAILED'}; CometBFT's earliest "
              f"block {c['earliest']}; a fresh node state-synced and caught up in {c['state_sync_s']} s.", ""]
    record(lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
