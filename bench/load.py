#!/usr/bin/env python3
"""Load benchmark (`make bench`): signed MsgSend throughput and commit latency
through a 4-validator loopback net, beside CometBFT's built-in kvstore app fed
the same number of transactions of the same size, in the same run.

Transactions are pre-signed (`verdict loadgen`: 200 funded senders, round-robin,
in sequence order) and sent with broadcast_tx_sync to node 0 from 64 client
threads (LOAD_THREADS): CometBFT's socket ABCI client answers each CheckTx after
its flush timer, so a verdictd behind a socket needs more requests in flight than
the in-process kvstore to be fed at the same rate. Latency is the time from the send to seeing the tx in a committed block
(polled every 50 ms). Verdict runs as a validator would: no per-block invariant
check (`check-invariants`, on in local nets). Each engine's CPU (/proc: CometBFT, the
app, this client) from the first send to the last commit is divided by the committed
txs: on a machine whose cores the nodes share, that says where the throughput goes.
Results are appended to bench/RESULTS.md.
"""

from __future__ import annotations

import datetime
import hashlib
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.run import as_validators, commit, machine, record, start_kvstore, stop
from testnet import Net
from testnet.jobs import Jobs, make_input

N = 4
ACCOUNTS = int(os.environ.get("LOAD_ACCOUNTS", "200"))
PER_ACCOUNT = int(os.environ.get("LOAD_PER_ACCOUNT", "15"))
THREADS = int(os.environ.get("LOAD_THREADS", "64"))


def blast(txs: list[bytes], port: int) -> tuple[dict[str, float], int]:
    """Sends every tx; returns send time by tx hash (accepted ones) and rejections."""
    sent: dict[str, float] = {}
    rejected = 0
    lock = threading.Lock()
    idx = {"next": 0}

    def worker():
        nonlocal rejected
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            with lock:
                i = idx["next"]
                idx["next"] += 1
            if i >= len(txs):
                break
            tx = txs[i]
            h = hashlib.sha256(tx).hexdigest().upper()
            t = time.monotonic()
            body = json.dumps({"jsonrpc": "2.0", "id": i, "method": "broadcast_tx_sync",
                               "params": {"tx": __import__("base64").b64encode(tx).decode()}})
            try:
                conn.request("POST", "/", body, {"Content-Type": "application/json"})
                r = json.loads(conn.getresponse().read())
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                with lock:
                    rejected += 1
                continue
            ok = "result" in r and r["result"].get("code", 1) == 0
            with lock:
                if ok:
                    sent[h] = t
                else:
                    rejected += 1
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return sent, rejected


def watch(net: Net, sent: dict[str, float], start_height: int, deadline: float) -> dict[str, float]:
    """Commit time (monotonic, when first seen) of each sent tx."""
    seen: dict[str, float] = {}
    h = start_height + 1
    while len(seen) < len(sent) and time.monotonic() < deadline:
        top = net.node(0).height() or 0
        while h <= top:
            blk = net.node(0).block(h, timeout=10)
            now = time.monotonic()
            for b64 in blk["data"]["txs"] or []:
                tx = __import__("base64").b64decode(b64)
                hh = hashlib.sha256(tx).hexdigest().upper()
                if hh in sent and hh not in seen:
                    seen[hh] = now
            h += 1
        time.sleep(0.05)
    return seen


def settle_blocks(jobs: Jobs, seed: int, tmp: Path) -> int | str:
    """Blocks from a job's inclusion to its settlement (mlp_classifier), or
    what went wrong."""
    try:
        job = jobs.submit("mlp_classifier", make_input("mlp_classifier", seed), tmp,
                          max_latency_ms=1000)
    except Exception as e:  # noqa: BLE001 - reported in the results, not raised
        return f"not submitted ({e})"
    if not job.get("result"):
        return f"no result ({job.get('status')})"
    return job["result"]["finalized_height"] - job["submitted_height"]


def block_work(net: Net) -> dict[str, float]:
    """Node 0's verdictd histograms: sum and count of FinalizeBlock and Commit."""
    url = net.node(0).metrics_url
    if not url:
        return {}
    import urllib.request
    text = urllib.request.urlopen(url, timeout=5).read().decode()
    out = {}
    for line in text.splitlines():
        for name in ("verdictd_finalize_block_seconds", "verdictd_commit_seconds"):
            for part in ("_sum", "_count"):
                if line.startswith(name + part):
                    out[name + part] = float(line.split()[-1])
    return out


def per_block_ms(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """Mean ms per block of FinalizeBlock and Commit between two readings."""
    res = {}
    for short, name in (("finalize", "verdictd_finalize_block_seconds"), ("commit", "verdictd_commit_seconds")):
        n = after.get(name + "_count", 0) - before.get(name + "_count", 0)
        if n > 0:
            res[short] = round((after[name + "_sum"] - before.get(name + "_sum", 0)) * 1000 / n, 1)
    return res


def proc_cpu(pid: int | None) -> float:
    """CPU seconds (user + system) a live process has used; 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def cpu_now(pids: dict[str, list[int]]) -> dict[str, float]:
    """CPU seconds so far by role, this process (the client) included."""
    t = os.times()
    out = {role: sum(proc_cpu(p) for p in ps) for role, ps in pids.items()}
    out["client"] = t.user + t.system
    return out


def engine_pids(net: Net, engine: str, procs: list[subprocess.Popen]) -> dict[str, list[int]]:
    """The processes of a net by role: CometBFT, the app (verdictd, or
    abci-cli's kvstore behind a socket; the in-process kvstore has none)."""
    if engine == "verdict":
        return {"cometbft": [p for i in range(N) if (p := net.node(i).pid("cometbft"))],
                "app": [p for i in range(N) if (p := net.node(i).pid("verdictd"))]}
    return {"cometbft": [p.pid for p in procs if "cometbft" in str(p.args[0])],
            "app": [p.pid for p in procs if "abci-cli" in str(p.args[0])]}


def run_engine(engine: str, txs_verdict: list[bytes] | None) -> dict:
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "net"
        net = Net(out).generate(N)
        procs = []
        try:
            if engine == "verdict":
                as_validators(net, N)
                net.start()
            else:
                start_kvstore(net, N, engine == "kvstore-socket", procs)
            if not net.wait_height(range(N), 2, 60):
                raise RuntimeError(f"{engine}: net did not start")
            job_blocks: dict[str, int] = {}
            jobs = Jobs(net) if engine == "verdict" else None
            if engine == "verdict":
                # An inference job's submit→settle, in blocks, without load first.
                jobs.register_models()
                job_blocks["idle"] = settle_blocks(jobs, 1, Path(d))
                f = out / "txs.hex"
                net.cli(timeout=3600).run(
                    "loadgen", "--from", "faucet", "--accounts", str(ACCOUNTS),
                    "--per-account", str(PER_ACCOUNT), "--out", str(f))
                txs = [bytes.fromhex(line) for line in f.read_text().split()]
            else:
                assert txs_verdict is not None
                # Same count, same sizes; kvstore wants `key=value`.
                txs = []
                for i, t in enumerate(txs_verdict):
                    key = f"k{i:09d}=".encode()
                    txs.append(key + b"v" * max(1, len(t) - len(key)))
            start_h = net.node(0).height() or 0
            work0 = block_work(net) if engine == "verdict" else {}
            pids = engine_pids(net, engine, procs)
            cpu0 = cpu_now(pids)
            t0 = time.monotonic()
            # ... and one submitted while the load is being sent.
            loaded = threading.Thread(target=lambda: job_blocks.update(
                loaded=settle_blocks(jobs, 2, Path(d))), daemon=True) if engine == "verdict" else None
            timer = threading.Timer(1.0, loaded.start) if loaded else None
            if timer:
                timer.daemon = True
                timer.start()
            sent, rejected = blast(txs, int(net.node(0).rpc_addr.rsplit(":", 1)[1]))
            t_sent = time.monotonic()
            seen = watch(net, sent, start_h, t_sent + 120)
            if timer and loaded:
                timer.join()
                loaded.join(180)
            t_end = max(seen.values()) if seen else t_sent
            cpu1 = cpu_now(pids)
            wall = time.monotonic() - t0
            work = per_block_ms(work0, block_work(net)) if engine == "verdict" else {}
            lat = sorted((seen[h] - sent[h]) * 1000 for h in seen)
            return {
                "engine": engine, "txs": len(txs), "accepted": len(sent), "rejected": rejected,
                "committed": len(seen), "tx_bytes_avg": round(sum(map(len, txs)) / len(txs)),
                "send_s": round(t_sent - t0, 2), "total_s": round(t_end - t0, 2),
                "tps": round(len(seen) / (t_end - t0), 1) if seen else 0.0,
                "lat_p50_ms": round(statistics.median(lat)) if lat else None,
                "lat_p99_ms": round(lat[min(len(lat) - 1, int(len(lat) * 0.99))]) if lat else None,
                "_txs": txs,
                "job_blocks": job_blocks,
                "block_work_ms": work,
                # CPU ms per committed tx by role, over the send and the wait
                # for its commits; busy = all of it over the cores' time.
                "cpu_ms_per_tx": {r: round((cpu1[r] - cpu0[r]) * 1000 / max(1, len(seen)), 3)
                                  for r in cpu1},
                "busy": round(sum(cpu1[r] - cpu0[r] for r in cpu1) / (wall * (os.cpu_count() or 1)), 2),
            }
        finally:
            stop(procs)
            net.stop()


def main() -> int:
    v = run_engine("verdict", None)
    k = run_engine("kvstore", v["_txs"])
    ks = run_engine("kvstore-socket", v["_txs"])
    for r in (v, k, ks):
        r.pop("_txs")
        print(json.dumps(r), flush=True)
    ratio = v["tps"] / k["tps"] if k["tps"] else 0.0
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    commit_id = commit()
    lines = [
        f"## {when} — load, commit {commit_id}",
        "",
        f"Machine: {machine()}. Command: `make bench` (bench/load.py): {v['txs']} pre-signed MsgSend txs "
        f"({ACCOUNTS} senders × {PER_ACCOUNT}, ~{v['tx_bytes_avg']} bytes each) via broadcast_tx_sync from "
        f"{THREADS} threads to node 0 of a 4-validator loopback net (timeout_commit 500 ms); kvstore got the "
        "same count of `key=value` txs of the same sizes.",
        "",
        "| engine | committed | rejected at CheckTx | tx/s (send start → last commit) | commit latency p50 | p99 |",
        "|---|---|---|---|---|---|",
    ]
    names = {"kvstore": "CometBFT kvstore in-process (ceiling)",
             "kvstore-socket": "kvstore behind a socket (abci-cli)",
             "verdict": "Verdict (signed MsgSend)"}
    for r in (k, ks, v):
        name = names[r["engine"]]
        lines.append(f"| {name} | {r['committed']}/{r['txs']} | {r['rejected']} | {r['tps']} | "
                     f"{r['lat_p50_ms']} ms | {r['lat_p99_ms']} ms |")
    lines += ["", "CPU per committed tx, ms, summed over the four nodes (/proc, from the first send to the "
              "last commit; the client is this script; busy = all CPU over the cores' time):", "",
              "| engine | CometBFT | app | client | total | busy |", "|---|---|---|---|---|---|"]
    for r in (k, ks, v):
        c = r["cpu_ms_per_tx"]
        total = sum(c.values())
        lines.append(f"| {names[r['engine']]} | {c['cometbft']:.2f} | "
                     f"{c['app']:.2f} | {c['client']:.2f} | {total:.2f} | {r['busy']:.0%} |")
    lines += ["", f"Verdict / kvstore throughput: {ratio:.2f}.",
              "", "An inference job (mlp_classifier) from inclusion to settlement, on the Verdict net: "
              f"{v['job_blocks'].get('idle')} blocks idle, {v['job_blocks'].get('loaded')} blocks "
              "submitted during the load.", ""]
    if v.get("block_work_ms"):
        w = v["block_work_ms"]
        lines[-1:-1] = ["", f"Verdict node 0, mean per block over the load (verdictd's histograms): "
                        f"FinalizeBlock {w.get('finalize')} ms, Commit {w.get('commit')} ms."]
    record(lines)
    print(f"Verdict / kvstore: {ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
