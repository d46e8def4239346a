"""verdict local testnet: `generate`, `start`, `stop`, `run`, `restart NODE`, `status`.

  python3 -m testnet run --n 4          # foreground: a line per block, demo inference
                                        # jobs with their results and slashes; Ctrl-C stops all
  python3 -m testnet run --fresh --empty-models --serve 3:none
                                        # sidecars fetch every model from the net's model
                                        # server; node 3's serves none (never seated)
  python3 -m testnet start --n 4        # background (make testnet)
  python3 -m testnet stop               # make testnet-stop
  python3 -m testnet restart 2          # bring node 2 back after a crash
  python3 -m testnet join --state-sync  # add a full node to the running net, from the newest
                                        # snapshot (without --state-sync: replay from genesis)
  python3 -m testnet generate --n 4 --hosts a.example,b.example,c.example,d.example --out DIR

Run from the repository root (the `testnet` package lives there). While a net
runs, its model server (loopback HTTP over OUT/www/, a copy of models/*.onnx) listens
on 127.0.0.1:26690 (+ VERDICT_PORT_OFFSET); the demo registers the shipped models
with those URLs.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from .env import CHAIN_ID, DEFAULT_OUT, NetError, log
from .faults import parse_faults, parse_serve
from .join import make_fullnode, start_fullnode, wait_synced
from .live import Live, demo
from .net import Net


def ensure(net: Net, n: int, fresh: bool, empty_models: bool = False) -> None:
    """(Re)generates the homes unless a net of n nodes is already there."""
    if fresh or net.n != n:
        if net.n and net.any_running():
            raise NetError(f"a net under {net.out} is running: `make testnet-stop` first")
        net.generate(n, force=True, sidecar_models="empty" if empty_models else "shipped")
        log(f"generated {n} validator homes under {net.out} (chain id {CHAIN_ID})")


def cmd_generate(net: Net, a: argparse.Namespace) -> int:
    hosts = a.hosts.split(",") if a.hosts else None
    net.generate(a.n, hosts=hosts, timeout_commit=a.timeout_commit, force=a.force)
    print(f"generated {a.n} homes under {net.out}")
    return 0


def cmd_start(net: Net, a: argparse.Namespace) -> int:
    ensure(net, a.n, a.fresh, a.empty_models)
    net.start(parse_faults(a.faults), serve=parse_serve(a.serve))
    if not net.wait_height(range(a.n), 1, 60):
        raise NetError(f"the net did not produce a block in 60 s: see {net.out}/node*/*.log")
    print(f"{a.n} nodes running; RPC {net.node(0).rpc_addr} (+100 per node); "
          f"models served at {net.model_url('')}; logs under {net.out}; stop with `make testnet-stop`")
    return 0


def cmd_stop(net: Net, a: argparse.Namespace) -> int:
    print(f"stopped {net.stop()} nodes")
    return 0


def cmd_status(net: Net, a: argparse.Namespace) -> int:
    if net.n == 0:
        print(f"no testnet under {net.out}")
        return 1
    for node in net.nodes:
        print(f"{node.name}: sidecar pid={node.pid('sidecar')} verdictd pid={node.pid('verdictd')} "
              f"cometbft pid={node.pid('cometbft')} height={node.height()} rpc={node.rpc_addr}")
    return 0


def cmd_restart(net: Net, a: argparse.Namespace) -> int:
    net.restart(a.node)
    print(f"node{a.node} restarted")
    return 0


def _run_foreground(net: Net, a: argparse.Namespace) -> None:
    net.start(parse_faults(a.faults), serve=parse_serve(a.serve))
    print(f"{a.n} validators up (chain {CHAIN_ID}); models served at {net.model_url('')}; "
          "Ctrl-C stops them all", flush=True)
    stop = threading.Event()
    if not a.no_demo:
        net.wait_height(range(a.n), 2, 60)
        threading.Thread(target=demo, args=(net, stop), daemon=True).start()
    try:
        Live(net).run()
    finally:
        stop.set()


def cmd_run(net: Net, a: argparse.Namespace) -> int:
    ensure(net, a.n, a.fresh, a.empty_models)

    def on_signal(_sig, _frm):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    try:
        _run_foreground(net, a)
    except KeyboardInterrupt:
        pass
    finally:
        # A second Ctrl-C must not leave nodes half stopped.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print(f"\nstopping... {net.stop()} nodes stopped", flush=True)
    return 0


def cmd_join(net: Net, a: argparse.Namespace) -> int:
    if net.n == 0 or not net.node(0).height():
        raise NetError(f"no running net under {net.out}: `make testnet` first")
    j = net.n
    while (net.out / f"node{j}").exists() and net.node(j).is_running():
        j += 1
    make_fullnode(net.out, net.n, j, state_sync=a.state_sync)
    node = net.node(j)
    start_fullnode(node)
    target = net.top_height(range(net.n))
    took = wait_synced(node, target, a.timeout)
    earliest = node.rpc("status")["sync_info"]["earliest_block_height"]
    how = f"state sync (blocks from {earliest} on)" if a.state_sync else "replay from genesis"
    print(f"node{j} (full node) caught up with height {target} in {took:.1f} s by {how}; "
          f"RPC {node.rpc_addr}; logs under {node.home}")
    return 0


COMMANDS = {"join": cmd_join, "generate": cmd_generate, "start": cmd_start, "stop": cmd_stop,
            "status": cmd_status, "restart": cmd_restart, "run": cmd_run}


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python3 -m testnet", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
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
        s.add_argument("--serve", default="",
                       help='sidecar --serve policies by node, e.g. "3:none" or "2:/path/SHA256SUMS" '
                            '(default all); a validator declares serving only what its sidecar loads')
        s.add_argument("--empty-models", action="store_true",
                       help="when generating: sidecars start with no model on disk and fetch each "
                            "registered model from the net's model server")
    j = sub.add_parser("join", help="add a full node to the running net")
    j.add_argument("--state-sync", action="store_true",
                   help="start from the newest snapshot the validators serve")
    j.add_argument("--timeout", type=float, default=300)
    sub.add_parser("stop")
    sub.add_parser("status")
    r = sub.add_parser("restart")
    r.add_argument("node", type=int)
    return ap


def main(argv: list[str] | None = None) -> int:
    a = parser().parse_args(argv)
    try:
        return COMMANDS[a.cmd](Net(a.out.resolve()), a)
    except NetError as e:
        print(f"testnet: error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
