#!/usr/bin/env python3
"""verdict local testnet: `generate`, `start`, `stop`, `run`, `restart NODE`, `status`.

  python3 testnet/testnet.py run --n 4          # foreground: a line per block, demo inference
                                                # jobs with their results and slashes; Ctrl-C stops all
  python3 testnet/testnet.py start --n 4        # background (make testnet)
  python3 testnet/testnet.py stop               # make testnet-stop
  python3 testnet/testnet.py restart 2          # bring node 2 back after a crash
  python3 testnet/testnet.py generate --n 4 --hosts a.example,b.example,c.example,d.example --out DIR
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import jobs  # noqa: E402
import net  # noqa: E402


def ensure(out: Path, n: int, fresh: bool) -> None:
    existing = net.count_nodes(out)
    if fresh or existing != n:
        if existing and any(net.is_running(out, i) for i in range(existing)):
            raise net.NetError(f"a net under {out} is running: `make testnet-stop` first")
        net.generate(n, out, force=True)
        net.log(f"generated {n} validator homes under {out} (chain id {net.CHAIN_ID})")


def cmd_status(out: Path) -> int:
    n = net.count_nodes(out)
    if n == 0:
        print(f"no testnet under {out}")
        return 1
    for i in range(n):
        p = net.Ports.of(i)
        print(f"node{i}: sidecar pid={net.pid_of(out, i, 'sidecar')} "
              f"verdictd pid={net.pid_of(out, i, 'verdictd')} "
              f"cometbft pid={net.pid_of(out, i, 'cometbft')} height={net.height(out, i)} "
              f"rpc=127.0.0.1:{p.rpc}")
    return 0


def node_names(out: Path, n: int) -> dict[str, str]:
    """Consensus address → `nodeI`."""
    names = {}
    for i in range(n):
        key = json.loads((out / f"node{i}" / "config" / "priv_validator_key.json").read_text())
        names[key["address"]] = f"node{i}"
    return names


def inference_lines(out: Path, h: int, names: dict[str, str], stems: dict[str, str]) -> list[str]:
    """Job results and slashes of block h, one line each."""
    try:
        ev = jobs.block_events(out, h)
    except Exception:  # noqa: BLE001 - a node may be restarting; the block line still prints
        return []
    lines = []
    for e in ev:
        a = e["attrs"]
        if e["type"] == "inference_job_result":
            def who(key):
                return ",".join(names.get(x, x[:8]) for x in a.get(key, "").split(",") if x)
            line = (f"    [{h}] job {a['job_id']} {stems.get(a.get('model_id', ''), '?')} {a['status']}: "
                    f"agreeing {a.get('agreeing_power')}/{a.get('committee_power')} power [{who('agreeing')}] "
                    f"latency {a.get('latency_ms')} ms (chain-measured)")
            for key in ("late", "grey", "missing"):
                if who(key):
                    line += f" {key} [{who(key)}]"
            lines.append(line)
        elif e["type"] == "slash":
            capped = a.get("capped") == "true"
            lines.append(f"    [{h}] SLASH {names.get(a.get('address', ''), a.get('address'))} "
                         f"{a.get('reason')}{' job ' + a['job_id'] if 'job_id' in a else ''}: "
                         + ("capped (blast radius): nothing burned or jailed" if capped else
                            f"burned {a.get('burned_coins')}uverd, jailed {a.get('jailed')}"))
    return lines


def demo(out: Path, stop: threading.Event, every: float = 2.0) -> None:
    """Registers the shipped models, then keeps a gentle stream of jobs going."""
    tmp = out / "demo-inputs"
    tmp.mkdir(exist_ok=True)
    try:
        jobs.register_models(out)
    except Exception as e:  # noqa: BLE001
        print(f"demo: registering models failed: {e}", flush=True)
        return
    stems = list(jobs.model_ids())
    k = 0
    while not stop.is_set():
        stem = stems[k % len(stems)]
        try:
            jobs.submit(out, stem, jobs.make_input(stem, k), tmp, wait=False)
        except Exception as e:  # noqa: BLE001 - keep going; the next one may work
            print(f"demo: submitting a {stem} job failed: {e}", flush=True)
        k += 1
        stop.wait(every)


def live(out: Path, n: int, until: float | None = None) -> None:
    """Prints one line per new height: the app hash in that block's header and
    which nodes report the same one; below it, the inference jobs settled and the
    validators slashed in that block."""
    names = node_names(out, n)
    stems = {v: k for k, v in jobs.model_ids().items()}
    shown = 0
    events_shown = 0
    while until is None or time.monotonic() < until:
        hs = [net.height(out, i) for i in range(n)]
        up = [h for h in hs if h is not None]
        top = max(up) if up else 0
        for h in range(max(shown + 1, top - 20, 1), top + 1):
            # A node sampled one height short is usually milliseconds behind:
            # give it up to a second before calling it behind.
            grace = time.monotonic() + 1.0
            while any(x is not None and x < h for x in hs) and time.monotonic() < grace:
                time.sleep(0.1)
                hs = [x if x is None or x >= h else net.height(out, i) for i, x in enumerate(hs)]
            hashes = {i: net.header_app_hash(out, i, h) for i in range(n)
                      if hs[i] is not None and hs[i] >= h}
            vals = [v for v in hashes.values() if v]
            if not vals:
                continue
            ref = max(set(vals), key=vals.count)
            agree = [i for i, v in hashes.items() if v == ref]
            other = [i for i, v in hashes.items() if v and v != ref]
            line = (f"height {h:>6}  app_hash {ref[:16]}…  agree {len(agree)}/{n} "
                    f"[{' '.join(f'n{i}' for i in agree)}]")
            if other:
                line += f"  DISAGREE [{' '.join(f'n{i}' for i in other)}]"
            behind = [i for i in range(n) if hs[i] is not None and hs[i] < h]
            down = [i for i in range(n) if hs[i] is None]
            if behind:
                line += f"  behind [{' '.join(f'n{i}' for i in behind)}]"
            if down:
                line += f"  down [{' '.join(f'n{i}' for i in down)}]"
            print(line, flush=True)
            shown = h
        # A header is visible before its block's results are stored: report the
        # jobs and slashes of a block once the next one exists.
        while events_shown + 1 < top:
            events_shown += 1
            for extra in inference_lines(out, events_shown, names, stems):
                print(extra, flush=True)
        time.sleep(0.2)


def main() -> int:
    ap = argparse.ArgumentParser(prog="testnet", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=net.DEFAULT_OUT)
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate", help="create validator homes")
    g.add_argument("--n", type=int, default=4)
    g.add_argument("--hosts", help="comma-separated hosts: configs for N separate machines")
    g.add_argument("--timeout-commit", default="500ms")
    g.add_argument("--force", action="store_true")
    for name in ("start", "run"):
        s = sub.add_parser(name)
        s.add_argument("--n", type=int, default=4)
        s.add_argument("--fresh", action="store_true", help="regenerate the homes first")
        s.add_argument("--no-demo", action="store_true",
                       help="run: do not register the models and stream demo jobs")
        s.add_argument("--faults", default="",
                       help='TEST ONLY faults, e.g. "1:wrong,2:slow=3000"; sidecar: wrong, down, '
                            'slow=MS, noise=REL, lie=MS; verdictd: copy, withhold')
    sub.add_parser("stop")
    sub.add_parser("status")
    r = sub.add_parser("restart")
    r.add_argument("node", type=int)
    a = ap.parse_args()
    out: Path = a.out.resolve()
    try:
        if a.cmd == "generate":
            hosts = a.hosts.split(",") if a.hosts else None
            net.generate(a.n, out, hosts=hosts, timeout_commit=a.timeout_commit, force=a.force)
            print(f"generated {a.n} homes under {out}")
            return 0
        if a.cmd == "start":
            ensure(out, a.n, a.fresh)
            net.start(out, net.parse_faults(a.faults))
            if not net.wait_height(out, list(range(a.n)), 1, 60):
                raise net.NetError(f"the net did not produce a block in 60 s: see {out}/node*/*.log")
            print(f"{a.n} nodes running; RPC 127.0.0.1:26657 (+100 per node); "
                  f"logs under {out}; stop with `make testnet-stop`")
            return 0
        if a.cmd == "stop":
            print(f"stopped {net.stop(out)} nodes")
            return 0
        if a.cmd == "status":
            return cmd_status(out)
        if a.cmd == "restart":
            net.restart(out, a.node)
            print(f"node{a.node} restarted")
            return 0
        if a.cmd == "run":
            ensure(out, a.n, a.fresh)
            stopping = {"flag": False}

            def on_signal(_sig, _frm):
                stopping["flag"] = True
                raise KeyboardInterrupt

            signal.signal(signal.SIGTERM, on_signal)
            try:
                net.start(out, net.parse_faults(a.faults))
                print(f"{a.n} validators up (chain {net.CHAIN_ID}); Ctrl-C stops them all", flush=True)
                stop = threading.Event()
                if not a.no_demo:
                    net.wait_height(out, list(range(a.n)), 2, 60)
                    threading.Thread(target=demo, args=(out, stop), daemon=True).start()
                try:
                    live(out, a.n)
                finally:
                    stop.set()
            except KeyboardInterrupt:
                pass
            finally:
                # A second Ctrl-C must not leave nodes half stopped.
                signal.signal(signal.SIGINT, signal.SIG_IGN)
                signal.signal(signal.SIGTERM, signal.SIG_IGN)
                print(f"\nstopping... {net.stop(out)} nodes stopped", flush=True)
            return 0
    except net.NetError as e:
        print(f"testnet: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
