"""Loopback ports of the nodes of a local net, and waiting for ports.

Node i on one machine (docs/design.md §8):
  CometBFT P2P 26656+100·i, RPC 26657+100·i, ABCI 26658+100·i, gRPC 9090+i
  (verdictd's query server), REST 1317+i (verdictd's gateway), sidecar
  26659+100·i (metrics 26661+100·i), Prometheus metrics of CometBFT 26660+100·i
  and of verdictd 26662+100·i.
The net's model server (loopback HTTP, the files sidecars fetch): 26690.
Every port moves by the net's offset (VERDICT_PORT_OFFSET, or `port_offset`).
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass


def env_offset() -> int:
    """VERDICT_PORT_OFFSET: shifts every port of loopback nets, so two nets (or
    two test runs) can share a host."""
    return int(os.environ.get("VERDICT_PORT_OFFSET", "0"))


@dataclass(frozen=True)
class Ports:
    p2p: int
    rpc: int
    abci: int
    grpc: int
    sidecar: int
    sidecar_metrics: int
    api: int
    metrics: int
    comet_metrics: int

    @staticmethod
    def of(i: int, standard: bool = False, offset: int | None = None) -> "Ports":
        """Node i's ports: `offset` overrides VERDICT_PORT_OFFSET for one net (two
        chains side by side); `standard` (multi-host configs) ignores both."""
        if standard:
            o = 0
        elif offset is not None:
            o = offset
        else:
            o = env_offset()
        return Ports(o + 26656 + 100 * i, o + 26657 + 100 * i, o + 26658 + 100 * i, o + 9090 + i,
                     o + 26659 + 100 * i, o + 26661 + 100 * i, o + 1317 + i,
                     o + 26662 + 100 * i, o + 26660 + 100 * i)

    def listening(self) -> tuple[int, ...]:
        """The ports a running node listens on (metrics aside)."""
        return (self.p2p, self.rpc, self.abci, self.grpc, self.sidecar, self.api, self.metrics,
                self.comet_metrics)


MODELS_HTTP = 26690


def models_http_port(offset: int | None = None) -> int:
    """The loopback HTTP port of a net's model server: 26690 + the net's offset
    (`offset`, else VERDICT_PORT_OFFSET). No node port is ever 26690 + 100·k."""
    return (env_offset() if offset is None else offset) + MODELS_HTTP


def net_ports(n: int, offset: int | None = None) -> list[int]:
    """Every listening port of nodes 0..n-1, and the net's model server."""
    return [p for i in range(n) for p in Ports.of(i, offset=offset).listening()] + \
        [models_http_port(offset)]


def port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def wait_port(port: int, timeout: float = 15.0) -> bool:
    """True once something accepts connections on the port."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.settimeout(0.3)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.05)
    return False


def wait_free(ports: list[int], timeout: float) -> list[int]:
    """Waits up to `timeout` for every port to be free; returns those still taken."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if all(port_free(p) for p in ports):
            return []
        time.sleep(0.5)
    return [p for p in ports if not port_free(p)]
