#!/usr/bin/env python3
"""Benchmarks of the foundation, recorded in bench/RESULTS.md (`make bench`).

1. Blocks per second of a 4-validator loopback net with empty blocks, Verdict
   (cometbft + verdictd) beside CometBFT's built-in kvstore app on the same net
   shape, same config, same run: the engine's ceiling. Two commit timeouts: the
   testnet's 500 ms and 0 s (as fast as consensus goes).
2. Store commit time for blocks of 1 000 writes (cargo bench store_commit),
   beside a bare sled batch of the same writes.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from testnet import ROOT, Net
from testnet.env import cometbft_bin
from testnet.homes import Toml

SECONDS = float(os.environ.get("BENCH_SECONDS", "20"))
N = 4


ENGINES = ("kvstore", "kvstore-socket", "verdict")


def as_validators(net: Net, n: int) -> None:
    """Local nets check the books after every block (`check-invariants`); a
    validator does not, nor does a benchmark."""
    for i in range(n):
        path = net.out / f"node{i}" / "config" / "app.toml"
        cfg = Toml(path.read_text())
        cfg.set_raw(None, "check-invariants", "false")
        path.write_text(cfg.text)


def start_kvstore(net: Net, n: int, socket: bool, procs: list[subprocess.Popen]) -> None:
    """CometBFT's kvstore on every node of `net`'s homes: in-process
    (`--proxy_app=kvstore`, the engine's ceiling) or, with `socket`, as an
    external `abci-cli kvstore` on the node's ABCI port (what a socket costs).
    Each process goes into `procs` as it starts, for `stop`."""
    for i in range(n):
        home = net.out / f"node{i}"
        args = [str(cometbft_bin()), "start", "--home", str(home)]
        if socket:
            addr = json.loads((home / "node.json").read_text())["abci"]
            with open(home / "abci-cli.log", "ab") as log:
                procs.append(subprocess.Popen(
                    [str(ROOT / ".tools" / "bin" / "abci-cli"), "kvstore", "--address",
                     f"tcp://{addr}"], stdout=log, stderr=subprocess.STDOUT,
                    start_new_session=True))
            wait_listening(addr, 30)
        else:
            args.append("--proxy_app=kvstore")
        with open(home / "cometbft.log", "ab") as log:
            procs.append(subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                                          start_new_session=True))


def wait_listening(addr: str, seconds: float) -> None:
    """Until `host:port` accepts a connection (CometBFT gives up on an ABCI app
    that is not listening yet)."""
    import socket
    host, port = addr.rsplit(":", 1)
    end = time.monotonic() + seconds
    while True:
        try:
            socket.create_connection((host, int(port)), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > end:
                raise RuntimeError(f"nothing listens on {addr}")
            time.sleep(0.1)


def stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()


def measure(engine: str, timeout_commit: str) -> dict:
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "net"
        net = Net(out).generate(N, timeout_commit=timeout_commit)
        procs = []
        try:
            if engine == "verdict":
                as_validators(net, N)
                net.start()
            else:
                start_kvstore(net, N, engine == "kvstore-socket", procs)
            if not net.wait_height(range(N), 3, 60):
                raise RuntimeError(f"{engine}: net did not start")
            h0, t0 = net.node(0).height(), time.monotonic()
            time.sleep(SECONDS)
            h1, t1 = net.node(0).height(), time.monotonic()
            return {"engine": engine, "timeout_commit": timeout_commit,
                    "blocks": h1 - h0, "seconds": round(t1 - t0, 2),
                    "blocks_per_s": round((h1 - h0) / (t1 - t0), 2)}
        finally:
            stop(procs)
            net.stop()


RESULTS = ROOT / "bench" / "RESULTS.md"
RESULTS_HEAD = "# Benchmark results\n\nNewest first. Each entry says the machine and the command.\n\n"


def commit() -> str:
    """The checkout's short commit, for a results entry."""
    return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                          capture_output=True, text=True).stdout.strip()


def record(lines: list[str]) -> Path:
    """Puts an entry (its lines) first in bench/RESULTS.md, under the header."""
    old = RESULTS.read_text() if RESULTS.exists() else RESULTS_HEAD
    body = old[len(RESULTS_HEAD):] if old.startswith(RESULTS_HEAD) else old
    RESULTS.write_text(RESULTS_HEAD + "\n".join(lines) + "\n" + body)
    print(f"recorded in {RESULTS}")
    return RESULTS


def du(path: Path) -> int:
    """Bytes of the files under `path`."""
    total = 0
    for p in path.rglob("*"):
        try:
            if p.is_file():
                total += p.stat().st_size
        except FileNotFoundError:  # compacted away while walking
            pass
    return total


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB, {platform.system()} {platform.release()}"


def main() -> int:
    rows = []
    for tc in ("500ms", "0s"):
        for engine in ENGINES:
            r = measure(engine, tc)
            print(json.dumps(r), flush=True)
            rows.append(r)
    r = subprocess.run(["cargo", "bench", "-q", "-p", "verdict-app", "--bench", "store_commit"],
                       cwd=ROOT, check=True, capture_output=True, text=True)
    store = json.loads(r.stdout.strip().splitlines()[-1])
    print(json.dumps(store))

    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    commit_id = commit()
    lines = [
        f"## {when} — commit {commit_id}",
        "",
        f"Machine: {machine()}. Command: `make bench` (bench/run.py, {SECONDS:.0f} s per net run, "
        "release binaries, CometBFT 0.38.26).",
        "",
        "### Blocks per second, 4 validators on loopback, empty blocks",
        "",
        "| timeout_commit | CometBFT kvstore in-process (ceiling) | kvstore behind a socket (abci-cli) "
        "| Verdict | Verdict / kvstore |",
        "|---|---|---|---|---|",
    ]
    for tc in ("500ms", "0s"):
        k, ks, v = (next(x for x in rows if x["engine"] == e and x["timeout_commit"] == tc)
                    for e in ENGINES)
        ratio = v["blocks_per_s"] / k["blocks_per_s"] if k["blocks_per_s"] else 0
        lines.append(f"| {tc} | {k['blocks_per_s']} ({k['blocks']} blocks) | "
                     f"{ks['blocks_per_s']} ({ks['blocks']} blocks) | "
                     f"{v['blocks_per_s']} ({v['blocks']} blocks) | {ratio:.2f} |")
    s = store
    lines += [
        "",
        f"### Store commit, {s['writes_per_block']} writes per block ({s['bare_sled_batch']['blocks']} blocks)",
        "",
        "| | median ms | mean ms | p90 ms |",
        "|---|---|---|---|",
    ]
    for name, key in (("Verdict store commit, on Commit's path: JMT root, hand-off to the writer",
                       "verdict_store_commit"),
                      ("  of which JMT hashing (prepare_commit)", "verdict_store_hash_only"),
                      ("Verdict store until durable: + atomic sled batch + flush (writer thread)",
                       "verdict_store_until_durable"),
                      ("bare sled batch + flush (floor)", "bare_sled_batch")):
        x = s.get(key)
        if x is None:
            continue
        lines.append(f"| {name} | {x['median_ms']:.1f} | {x['mean_ms']:.1f} | {x['p90_ms']:.1f} |")
    lines.append("")
    record(lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
