"""A full node joining a running local net (`python3 -m testnet join`): its own
home `OUT/node<j>/` (j >= n, ports Ports.of(j)), peers with every validator,
no sidecar and no validator key (it never attests or signs). With state sync
it starts from the newest snapshot the validators serve, trusting a header
taken from node 0's RPC; without, it replays every block from genesis."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

from .env import NetError, cometbft_bin, verdictd_bin
from .homes import Toml, node_id, node_meta, prometheus
from .node import Node
from .ports import Ports


def trust_point(validator: Node, back: int = 0) -> tuple[int, str]:
    """(height, block hash) of a recent block, read from a running node's RPC:
    what the light client of a state-syncing node starts from."""
    h = validator.height()
    if not h:
        raise NetError(f"{validator.name} does not answer: cannot take a trust height from it")
    h = max(1, h - back)
    commit = validator.rpc(f"commit?height={h}")
    return h, commit["signed_header"]["commit"]["block_id"]["hash"]


def make_fullnode(out: Path, n: int, j: int, state_sync: bool) -> Path:
    """The home of full node j of the net of n validators under `out`."""
    if j < n:
        raise NetError(f"node{j} is a member of the net: a joining node needs an index >= {n}")
    home = out / f"node{j}"
    if home.exists():
        shutil.rmtree(home)
    subprocess.run([str(cometbft_bin()), "init", "--home", str(home)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    shutil.copy(out / "node0" / "config" / "genesis.json", home / "config" / "genesis.json")
    p = Ports.of(j)
    vals = [Node(out, i) for i in range(n)]
    peers = ",".join(f"{v.meta['node_id']}@127.0.0.1:{Ports.of(i).p2p}" for i, v in enumerate(vals))
    cfg = Toml((out / "node0" / "config" / "config.toml").read_text())
    cfg.set(None, "proxy_app", f"tcp://127.0.0.1:{p.abci}")
    cfg.set("rpc", "laddr", f"tcp://127.0.0.1:{p.rpc}")
    cfg.set("p2p", "laddr", f"tcp://127.0.0.1:{p.p2p}")
    cfg.set("p2p", "persistent_peers", peers)
    cfg.set(None, "moniker", f"full{j}")
    prometheus(cfg, f"127.0.0.1:{p.comet_metrics}")
    if state_sync:
        height, block_hash = trust_point(vals[0])
        cfg.set_raw("statesync", "enable", "true")
        # Two RPC servers are required; the light client checks them against each other.
        servers = [f"127.0.0.1:{Ports.of(i).rpc}" for i in range(min(n, 2))]
        cfg.set("statesync", "rpc_servers", ",".join((servers * 2)[:2]))
        cfg.set_raw("statesync", "trust_height", str(height))
        cfg.set("statesync", "trust_hash", block_hash)
        cfg.set("statesync", "trust_period", "168h0m0s")
        cfg.set("statesync", "discovery_time", "5s")
    (home / "config" / "config.toml").write_text(cfg.text)
    meta = node_meta(j, node_id(home), p, full=True, state_sync=state_sync)
    (home / "node.json").write_text(json.dumps(meta, indent=2))
    return home


def start_fullnode(node: Node) -> None:
    """verdictd (queries on gRPC/REST, no attestation) and CometBFT."""
    meta = node.meta
    node._require_free("ABCI ", node.abci_port)
    argv = [str(verdictd_bin()), "start", "--home", str(node.home), "--abci", meta["abci"],
            "--grpc", f"127.0.0.1:{meta['grpc']}", "--api", f"127.0.0.1:{meta['api']}",
            "--rpc", f"http://{meta['rpc']}", "--metrics", f"127.0.0.1:{meta['metrics']}",
            "--check-invariants"]
    node._spawn("verdictd", argv)
    node._await_listening("verdictd", "verdictd", node.abci_port)
    node.start_cometbft()


def wait_synced(node: Node, target: int, timeout: float) -> float:
    """Seconds until `node` has committed `target` (raises after `timeout`)."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        h = node.height()
        if h is not None and h >= target:
            return time.monotonic() - start
        time.sleep(0.2)
    raise NetError(f"{node.name} did not reach height {target} in {timeout:.0f} s "
                   f"(at {node.height()}): see {node.home}/*.log")
