import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import net  # noqa: E402


@pytest.fixture
def out(tmp_path):
    """A net directory of its own; every node is stopped afterwards, whatever happens."""
    d = tmp_path / "net"
    yield d
    try:
        net.stop(d)
    finally:
        if os.environ.get("E2E_KEEP"):
            print(f"kept {d}")


def require_free_ports(n, timeout=30, offset=None):
    """Fails the test if a node port (at `offset`, default VERDICT_PORT_OFFSET's)
    is taken, after giving the previous test's processes a moment to release theirs."""
    import time

    def ports():
        for i in range(n):
            p = net.Ports.of(i, offset=offset)
            yield from (p.p2p, p.rpc, p.abci, p.grpc, p.sidecar)

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if all(net.port_free(p) for p in ports()):
            return
        time.sleep(0.5)
    for port in ports():
        if not net.port_free(port):
            pytest.fail(f"port {port} is in use: stop the running testnet (make testnet-stop) first")
