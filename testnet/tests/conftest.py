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


def require_free_ports(n, timeout=20):
    """Fails the test if a node port is taken, after giving the previous test's
    processes a moment to release theirs."""
    import time
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        ports = [p for i in range(n) for p in (net.Ports.of(i).p2p, net.Ports.of(i).rpc, net.Ports.of(i).abci)]
        if all(net.port_free(p) for p in ports):
            break
        time.sleep(0.5)
    for i in range(n):
        p = net.Ports.of(i)
        for port in (p.p2p, p.rpc, p.abci):
            if not net.port_free(port):
                pytest.fail(f"port {port} is in use: stop the running testnet (make testnet-stop) first")
