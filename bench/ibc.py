#!/usr/bin/env python3
"""Remote inference over IBC (`make bench-ibc`), recorded in bench/RESULTS.md.

Chain A (`verdict-1`, 4 validators with sidecars) serves, chain B (`consumer-1`,
1 validator) requests; both at timeout_commit 500 ms on loopback. For each
relayer — the in-repo `verdict relayer` (0.5 s polling) and stock Hermes 1.10.5
when `.tools/bin/hermes` exists (`make e2e-hermes` installs it) — B sends
REQUESTS remote requests one after the other (the next when the previous is
acknowledged) and we read from chain data:

- B: the request's block → the block that records its acknowledgement (blocks,
  and ms between the two block header times);
- A: the job's submission block → its settling block (what a local job costs).

Baseline in the same run: the same model submitted as a local job on A
(`verdict tx inference submit`), submission → settlement.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import statistics
import subprocess
import tempfile
from pathlib import Path

from testnet import ROOT, Cli, Jobs, Net
from testnet.hermes import Hermes
from testnet.jobs import make_input

REQUESTS = int(os.environ.get("BENCH_REQUESTS", "10"))
OFFSET_A = int(os.environ.get("VERDICT_PORT_OFFSET", "0"))
OFFSET_B = OFFSET_A + 500
STEM = "mlp_classifier"


def verdict(net: Net, *args: str, timeout: float = 240, codes=(0,)) -> dict | str:
    return net.cli(timeout=timeout).json_or_text(*args, codes=codes)


def header_ms(net: Net, h: int) -> int:
    t = net.node(0).block(h)["header"]["time"]
    base, _, frac = t.rstrip("Z").partition(".")
    dt = datetime.datetime.strptime(base, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    return int(dt.timestamp() * 1000) + int((frac + "000")[:3])


def pct(xs: list[int], q: float) -> int:
    s = sorted(xs)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def run_remote(a: Net, b: Net, channel: str, a_channel: str, model: str, tmp: Path) -> dict:
    payer = verdict(a, "query", "inference", "channel-payer", "--channel", a_channel)["address"]
    blocks, ms, a_blocks = [], [], []
    for k in range(REQUESTS):
        f = tmp / f"in{k}.json"
        f.write_text(json.dumps(make_input(STEM, 100 + k)))
        r = verdict(b, "tx", "inference", "request-remote", "--from", "faucet", "--channel", channel,
                    "--model", model, "--input", str(f), "--serving-node", a.node(0).rpc_addr,
                    "--fee", "10000uverd", "--wait", "--wait-seconds", "180", timeout=240)
        if r["status"] != "completed":
            raise RuntimeError(f"request {k}: {r}")
        blocks.append(r["closed_height"] - r["sent_height"])
        ms.append(header_ms(b, r["closed_height"]) - header_ms(b, r["sent_height"]))
        # A's side: the newest job paid by this channel's payer is this request's.
        served = Jobs(a).query("jobs", "--requester", payer)
        j = max(served, key=lambda x: x["id"])
        a_blocks.append(j["result"]["finalized_height"] - j["submitted_height"])
    return {"blocks": blocks, "ms": ms, "a_blocks": a_blocks}


def run_local(a: Net, model: str, tmp: Path) -> dict:
    blocks, ms = [], []
    for k in range(REQUESTS):
        job = Jobs(a).submit(STEM, make_input(STEM, 200 + k), tmp)
        h0, h1 = job["submitted_height"], job["result"]["finalized_height"]
        blocks.append(h1 - h0)
        ms.append(header_ms(a, h1) - header_ms(a, h0))
    return {"blocks": blocks, "ms": ms, "a_blocks": blocks}


def row(name: str, r: dict) -> str:
    a = f"{statistics.median(r['a_blocks']):.0f}" if r["a_blocks"] else "?"
    return (f"| {name} | {len(r['ms'])} | {pct(r['blocks'], .5)} / {pct(r['blocks'], .99)} | "
            f"{pct(r['ms'], .5)} / {pct(r['ms'], .99)} | {a} |")


def main() -> None:
    os.environ["VERDICT_PORT_OFFSET"] = str(OFFSET_A)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    tmp = Path(tempfile.mkdtemp(prefix="verdict-bench-ibc-"))
    a, b = Net(tmp / "a"), Net(tmp / "b")
    rows = []
    try:
        a.generate(4, chain_id="verdict-1", port_offset=OFFSET_A)
        b.generate(1, chain_id="consumer-1", port_offset=OFFSET_B)
        a.start()
        b.start()
        assert a.wait_height(range(4), 3, 90) and b.wait_height([0], 3, 90)
        model = Jobs(a).register_models()[STEM]

        # The in-repo relayer: its own key, funded on both chains.
        relayer = Cli(keyring=tmp / "relayer-keys", timeout=300)
        addr = relayer.keys_add("relayer")["address"]
        for out in (a, b):
            verdict(out, "tx", "bank", "send", "faucet", addr, "50000000uverd")
        path_file = tmp / "path.json"
        relayer.run("relayer", "link", "--a-node", a.node(0).rpc_addr, "--b-node", b.node(0).rpc_addr,
                    "--from", "relayer", "--path-file", str(path_file))
        path = json.loads(path_file.read_text())
        payer = verdict(a, "query", "inference", "channel-payer", "--channel", path["a"]["channel_id"])
        verdict(a, "tx", "bank", "send", "faucet", payer["address"], "10000000uverd")

        print("local jobs on A …", flush=True)
        rows.append(row("local job on A (`tx inference submit`), baseline", run_local(a, model, tmp)))

        print("remote requests, in-repo relayer …", flush=True)
        p = relayer.popen("relayer", "start", "--path-file", str(path_file), "--interval", "0.5",
                          log=tmp / "relayer.log")
        try:
            rows.append(row("remote from B, in-repo `verdict relayer` (0.5 s polling)",
                            run_remote(a, b, path["b"]["channel_id"], path["a"]["channel_id"], model, tmp)))
        finally:
            p.terminate()
            p.wait(timeout=10)

        if Hermes.installed():
            print("remote requests, Hermes …", flush=True)
            home = tmp / "hermes"
            hermes = Hermes(home)
            hermes.write_config([a, b])
            hermes.relayer_key([a, b])
            hermes.run("create", "channel", "--a-chain", "verdict-1", "--b-chain",
                       "consumer-1", "--a-port", "inference", "--b-port", "inference",
                       "--new-client-connection", "--channel-version", "verdict-inference-1",
                       "--order", "unordered", "--yes", timeout=300)
            payer = verdict(a, "query", "inference", "channel-payer", "--channel", "channel-1")
            verdict(a, "tx", "bank", "send", "faucet", payer["address"], "10000000uverd")
            p = hermes.start(tmp / "hermes.log")
            try:
                rows.append(row("remote from B, Hermes 1.10.5 (pull events, 500 ms)",
                                run_remote(a, b, "channel-1", "channel-1", model, tmp)))
            finally:
                p.terminate()
                p.wait(timeout=10)
        else:
            rows.append("| remote from B, Hermes | not run: `.tools/bin/hermes` missing (`make e2e-hermes` installs it) | | | |")
    finally:
        a.stop()
        b.stop()

    bins = os.environ.get("VERDICT_BIN_DIR", "target/release")
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    entry = f"""## {now} — remote inference over IBC, commit {commit}

Machine: {os.cpu_count()} cores, {platform.platform()}. Command: `make bench-ibc`
(bench/ibc.py, binaries {bins}): chain A `verdict-1` (4 validators + sidecars) serves,
chain B `consumer-1` (1 validator) requests, timeout_commit 500 ms on both; {REQUESTS}
requests of model `{STEM}` one after the other per row. Remote rows: B's request
block → the B block recording the acknowledgement (blocks of B, ms between header
times); last column: A's job submission → settlement (blocks of A).

| path | requests | blocks p50 / p99 | ms p50 / p99 | A blocks (median) |
|---|---|---|---|---|
""" + "\n".join(rows) + "\n\n"
    print(entry)
    res = ROOT / "bench" / "RESULTS.md"
    text = res.read_text()
    head, _, rest = text.partition("\n## ")
    res.write_text(head.rstrip() + "\n\n" + entry + "## " + rest)


if __name__ == "__main__":
    main()
