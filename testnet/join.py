"""A full node joining a running local net (`python3 -m testnet join`): its own
home `OUT/node<j>/` (j >= n, ports Ports.of(j)), peers with every validator,
no sidecar and no validator key (it never attests or signs). With state sync
it starts from the newest snapshot the validators serve, trusting a header
taken from node 0's RPC; without, it replays every block from genesis."""

from __future__ import annotations

import time
from pathlib import Path

from .env import NetError
from .homes import extra_home, finish_extra, node_id, node_meta
from .node import Node
from .ports import Ports


def trust_point(validator: Node) -> tuple[int, str]:
    """(height, block hash) of the latest block, read from a running node's RPC:
    what the light client of a state-syncing node starts from."""
    h = validator.height()
    if not h:
        raise NetError(f"{validator.name} does not answer: cannot take a trust height from it")
    commit = validator.rpc(f"commit?height={h}")
    return h, commit["signed_header"]["commit"]["block_id"]["hash"]


def make_fullnode(out: Path, n: int, j: int, state_sync: bool) -> Path:
    """The home of full node j of the net of n validators under `out`."""
    home, cfg, p = extra_home(out, n, j, f"full{j}")
    if state_sync:
        height, block_hash = trust_point(Node(out, 0))
        cfg.set_raw("statesync", "enable", "true")
        # Two RPC servers are required; the light client checks them against each other.
        servers = [f"127.0.0.1:{Ports.of(i).rpc}" for i in range(min(n, 2))]
        cfg.set("statesync", "rpc_servers", ",".join((servers * 2)[:2]))
        cfg.set_raw("statesync", "trust_height", str(height))
        cfg.set("statesync", "trust_hash", block_hash)
        cfg.set("statesync", "trust_period", "168h0m0s")
        cfg.set("statesync", "discovery_time", "5s")
    return finish_extra(home, cfg, node_meta(j, node_id(home), p, full=True, state_sync=state_sync))


def start_fullnode(node: Node) -> None:
    """verdictd (queries on gRPC/REST, no attestation) and CometBFT."""
    node.start_verdictd()
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
