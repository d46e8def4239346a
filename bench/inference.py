#!/usr/bin/env python3
"""Inference benchmark (`make bench-inference`), recorded in bench/RESULTS.md.

A 4-validator loopback net (release binaries, real sidecars, timeout_commit
500 ms). First empty blocks (the baseline: the same chain with no jobs), then
K requester threads that each submit a job, wait for its inclusion and submit
again, for K = 1, 4, 8 (≈ K jobs per block). Measured from chain data:

- submit → result latency: blocks (settling height − inclusion height) and
  milliseconds (settling block's header time − inclusion block's header time),
  p50 / p99;
- vote-extension bytes per validator per height (from the injected tx[0]);
- block interval (header times), with 0 and with K jobs per block.
"""

from __future__ import annotations

import base64
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from testnet import ROOT, Jobs, Net
from testnet.jobs import make_input, model_ids

SECONDS = float(os.environ.get("BENCH_SECONDS", "30"))
N = 4
MARKER = b"\xffVRDVE1\x00"


def varint(b: bytes, i: int) -> tuple[int, int]:
    x = s = 0
    while True:
        c = b[i]
        i += 1
        x |= (c & 0x7F) << s
        s += 7
        if c < 0x80:
            return x, i


def fields(b: bytes):
    """(field number, wire type, value) of a protobuf message; bytes for wire type 2."""
    i = 0
    while i < len(b):
        key, i = varint(b, i)
        f, wt = key >> 3, key & 7
        if wt == 0:
            v, i = varint(b, i)
        elif wt == 2:
            n, i = varint(b, i)
            v, i = b[i:i + n], i + n
        elif wt == 1:
            v, i = b[i:i + 8], i + 8
        elif wt == 5:
            v, i = b[i:i + 4], i + 4
        else:
            raise ValueError(f"wire type {wt}")
        yield f, wt, v


def extension_sizes(net: Net, h: int) -> list[int]:
    """Bytes of each validator's vote extension carried in block h's tx[0]."""
    txs = net.node(0).block(h, timeout=10)["data"]["txs"] or []
    if not txs:
        return []
    tx0 = base64.b64decode(txs[0])
    if not tx0.startswith(MARKER):
        return []
    sizes = []
    for f, _, v in fields(tx0[len(MARKER):]):
        if f == 3:
            sizes += [len(ext) for g, _, ext in fields(v) if g == 2]
    return sizes


def header_time(net: Net, h: int) -> float:
    t = net.node(0).block(h, timeout=10)["header"]["time"]
    # RFC 3339 with nanoseconds: keep microseconds.
    base, frac = t.rstrip("Z").split(".")
    dt = datetime.datetime.fromisoformat(base).replace(tzinfo=datetime.timezone.utc)
    return dt.timestamp() + float("0." + frac)


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))] if xs else float("nan")


def interval(net: Net, h0: int, h1: int) -> float:
    return (header_time(net, h1) - header_time(net, h0)) / max(1, h1 - h0)


def run_load(jobs: Jobs, k: int, users: list[str], tmp: Path) -> dict:
    net = jobs.net
    h0 = net.node(0).height()
    stop = time.monotonic() + SECONDS
    submitted: list[int] = []
    lock = threading.Lock()

    def worker(u: str, t: int):
        stems = list(model_ids())
        n = 0
        while time.monotonic() < stop:
            stem = stems[(t + n) % len(stems)]
            r = jobs.submit(stem, make_input(stem, 1000 * t + n), tmp, key=u, wait=False)
            with lock:
                submitted.append(int(r["job_id"]))
            n += 1

    threads = [threading.Thread(target=worker, args=(users[t], t)) for t in range(k)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    h1 = net.node(0).height()
    # Let the last jobs settle (window 20 blocks at most).
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        js = [jobs.query("job", str(j)) for j in submitted[-k:]]
        if all(j["status"] in ("completed", "failed", "expired") for j in js):
            break
        time.sleep(1)
    lat_blocks, lat_ms, status = [], [], {}
    for j in submitted:
        job = jobs.query("job", str(j))
        status[job["status"]] = status.get(job["status"], 0) + 1
        if job["status"] != "completed":
            continue
        hs, hf = job["submitted_height"], job["result"]["finalized_height"]
        lat_blocks.append(hf - hs)
        lat_ms.append(1000 * (header_time(net, hf) - header_time(net, hs)))
    ve = [s for h in range(h0 + 1, h1 + 1) for s in extension_sizes(net, h)]
    return {
        "k": k, "jobs": len(submitted), "heights": h1 - h0, "status": status,
        "jobs_per_block": len(submitted) / max(1, h1 - h0),
        "lat_blocks_p50": pct(lat_blocks, 50), "lat_blocks_p99": pct(lat_blocks, 99),
        "lat_ms_p50": pct(lat_ms, 50), "lat_ms_p99": pct(lat_ms, 99),
        "ve_mean": sum(ve) / len(ve) if ve else 0, "ve_max": max(ve) if ve else 0,
        "interval_ms": 1000 * interval(net, h0 + 1, h1),
    }


def main() -> int:
    if "VERDICT_BIN_DIR" not in os.environ:
        os.environ["VERDICT_BIN_DIR"] = str(ROOT / "target" / "release")
    rows = []
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "net"
        tmp = Path(d) / "inputs"
        tmp.mkdir()
        net = Net(out).generate(N)
        jobs = Jobs(net)
        try:
            net.start()
            assert net.wait_height(range(N), 3, 90), "net did not start"
            jobs.register_models()
            users = []
            for t in range(8):
                a = jobs.cli.keys_add(f"bench{t}")["address"]
                jobs.cli.send("faucet", a, "100000000000uverd")
                users.append(f"bench{t}")
            h0 = net.node(0).height()
            time.sleep(SECONDS)
            h1 = net.node(0).height()
            ve0 = [s for h in range(h0 + 1, h1 + 1) for s in extension_sizes(net, h)]
            rows.append({"k": 0, "jobs": 0, "heights": h1 - h0, "jobs_per_block": 0,
                         "interval_ms": 1000 * interval(net, h0 + 1, h1),
                         "ve_mean": sum(ve0) / max(1, len(ve0)), "ve_max": max(ve0 or [0])})
            for k in (1, 4, 8):
                rows.append(run_load(jobs, k, users, tmp))
                print(json.dumps(rows[-1]), flush=True)
        finally:
            net.stop()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"\n## {now} — inference, commit {commit}\n",
        f"Machine: {os.cpu_count()} cores, {platform.platform()}. Command: `make bench-inference` "
        f"(bench/inference.py, {SECONDS:.0f} s per load level, release binaries, 4 validators + 4 sidecars "
        "on loopback, timeout_commit 500 ms, committee = all 4, CPU ONNX Runtime).\n",
        "| requesters (≈ jobs/block) | jobs | jobs per block | submit→result blocks p50 / p99 | "
        "submit→result ms p50 / p99 | VE bytes per validator mean / max | block interval ms |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if r["k"] == 0:
            lines.append(f"| 0 (empty chain: baseline) | 0 | 0 | – | – | {r['ve_mean']:.0f} / {r['ve_max']} | "
                         f"{r['interval_ms']:.0f} |")
        else:
            lines.append(
                f"| {r['k']} | {r['jobs']} ({', '.join(f'{v} {k}' for k, v in sorted(r['status'].items()))}) | "
                f"{r['jobs_per_block']:.2f} | {r['lat_blocks_p50']:.0f} / {r['lat_blocks_p99']:.0f} | "
                f"{r['lat_ms_p50']:.0f} / {r['lat_ms_p99']:.0f} | {r['ve_mean']:.0f} / {r['ve_max']} | "
                f"{r['interval_ms']:.0f} |")
    text = "\n".join(lines) + "\n"
    print(text)
    with open(ROOT / "bench" / "RESULTS.md", "a") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
