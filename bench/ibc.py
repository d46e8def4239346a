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
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "testnet"))
sys.path.insert(0, str(ROOT / "testnet" / "hermes"))
import hermes  # noqa: E402
import jobs  # noqa: E402
import net  # noqa: E402

REQUESTS = int(os.environ.get("BENCH_REQUESTS", "10"))
OFFSET_A = int(os.environ.get("VERDICT_PORT_OFFSET", "0"))
OFFSET_B = OFFSET_A + 500
STEM = "mlp_classifier"


def verdict(out: Path, *args: str, keyring: Path | None = None, timeout: float = 240,
            codes=(0,)) -> dict | str:
    r = subprocess.run([str(net.verdict_bin()), "--keyring-dir", str(keyring or out / "keyring"),
                        "--node", net.node_meta(out, 0)["rpc"], "--output", "json", *args],
                       capture_output=True, text=True, timeout=timeout)
    if r.returncode not in codes:
        raise RuntimeError(f"verdict {' '.join(args)}: {r.stdout}\n{r.stderr}")
    text = r.stdout.strip()
    return json.loads(text) if text.startswith("{") else text


def header_ms(out: Path, h: int) -> int:
    t = net.rpc(out, 0, f"block?height={h}")["block"]["header"]["time"]
    base, _, frac = t.rstrip("Z").partition(".")
    dt = datetime.datetime.strptime(base, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    return int(dt.timestamp() * 1000) + int((frac + "000")[:3])


def pct(xs: list[int], q: float) -> int:
    s = sorted(xs)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def run_remote(a: Path, b: Path, channel: str, a_channel: str, model: str, tmp: Path) -> dict:
    payer = verdict(a, "query", "inference", "channel-payer", "--channel", a_channel)["address"]
    blocks, ms, a_blocks = [], [], []
    for k in range(REQUESTS):
        f = tmp / f"in{k}.json"
        f.write_text(json.dumps(jobs.make_input(STEM, 100 + k)))
        r = verdict(b, "tx", "inference", "request-remote", "--from", "faucet", "--channel", channel,
                    "--model", model, "--input", str(f), "--serving-node", net.node_meta(a, 0)["rpc"],
                    "--fee", "10000uverd", "--wait", "--wait-seconds", "180", timeout=240)
        if r["status"] != "completed":
            raise RuntimeError(f"request {k}: {r}")
        blocks.append(r["closed_height"] - r["sent_height"])
        ms.append(header_ms(b, r["closed_height"]) - header_ms(b, r["sent_height"]))
        # A's side: the newest job paid by this channel's payer is this request's.
        served = jobs.query(a, "jobs", "--requester", payer)
        j = max(served, key=lambda x: x["id"])
        a_blocks.append(j["result"]["finalized_height"] - j["submitted_height"])
    return {"blocks": blocks, "ms": ms, "a_blocks": a_blocks}


def run_local(a: Path, model: str, tmp: Path) -> dict:
    blocks, ms = [], []
    for k in range(REQUESTS):
        job = jobs.submit(a, STEM, jobs.make_input(STEM, 200 + k), tmp)
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
    a, b = tmp / "a", tmp / "b"
    rows = []
    try:
        net.generate(4, a, chain_id="verdict-1", port_offset=OFFSET_A)
        net.generate(1, b, chain_id="consumer-1", port_offset=OFFSET_B)
        net.start(a)
        net.start(b)
        assert net.wait_height(a, list(range(4)), 3, 90) and net.wait_height(b, [0], 3, 90)
        model = jobs.register_models(a)[STEM]

        # The in-repo relayer: its own key, funded on both chains.
        keys = tmp / "relayer-keys"
        addr = json.loads(subprocess.run(
            [str(net.verdict_bin()), "--keyring-dir", str(keys), "--output", "json", "keys", "add",
             "relayer"], capture_output=True, text=True, check=True).stdout)["address"]
        for out in (a, b):
            verdict(out, "tx", "bank", "send", "faucet", addr, "50000000uverd")
        path_file = tmp / "path.json"
        subprocess.run([str(net.verdict_bin()), "--keyring-dir", str(keys), "relayer", "link",
                        "--a-node", net.node_meta(a, 0)["rpc"], "--b-node", net.node_meta(b, 0)["rpc"],
                        "--from", "relayer", "--path-file", str(path_file)],
                       capture_output=True, text=True, check=True, timeout=300)
        path = json.loads(path_file.read_text())
        payer = verdict(a, "query", "inference", "channel-payer", "--channel", path["a"]["channel_id"])
        verdict(a, "tx", "bank", "send", "faucet", payer["address"], "10000000uverd")

        print("local jobs on A …", flush=True)
        rows.append(row("local job on A (`tx inference submit`), baseline", run_local(a, model, tmp)))

        print("remote requests, in-repo relayer …", flush=True)
        p = subprocess.Popen([str(net.verdict_bin()), "--keyring-dir", str(keys), "relayer", "start",
                              "--path-file", str(path_file), "--interval", "0.5"],
                             stdout=open(tmp / "relayer.log", "w"), stderr=subprocess.STDOUT)
        try:
            rows.append(row("remote from B, in-repo `verdict relayer` (0.5 s polling)",
                            run_remote(a, b, path["b"]["channel_id"], path["a"]["channel_id"], model, tmp)))
        finally:
            p.terminate()
            p.wait(timeout=10)

        if hermes.HERMES.exists():
            print("remote requests, Hermes …", flush=True)
            home = tmp / "hermes"
            hermes.write_config(home, [a, b])
            hermes.relayer_key(home, [a, b])
            hermes.hermes(home, "create", "channel", "--a-chain", "verdict-1", "--b-chain",
                          "consumer-1", "--a-port", "inference", "--b-port", "inference",
                          "--new-client-connection", "--channel-version", "verdict-inference-1",
                          "--order", "unordered", "--yes", timeout=300)
            payer = verdict(a, "query", "inference", "channel-payer", "--channel", "channel-1")
            verdict(a, "tx", "bank", "send", "faucet", payer["address"], "10000000uverd")
            p = hermes.start(home, tmp / "hermes.log")
            try:
                rows.append(row("remote from B, Hermes 1.10.5 (pull events, 500 ms)",
                                run_remote(a, b, "channel-1", "channel-1", model, tmp)))
            finally:
                p.terminate()
                p.wait(timeout=10)
        else:
            rows.append("| remote from B, Hermes | not run: `.tools/bin/hermes` missing (`make e2e-hermes` installs it) | | | |")
    finally:
        net.stop(a)
        net.stop(b)

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
