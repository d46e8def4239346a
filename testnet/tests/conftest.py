"""Fixtures of the end-to-end tests: nets in temporary directories (stopped after
each test, whatever happens; E2E_KEEP=1 keeps their files), the `verdict` CLI
against them, and the ports they need.

Environment: VERDICT_BIN_DIR (the verdictd, verdict-sidecar and verdict
binaries), VERDICT_PORT_OFFSET (shifts every port, so two runs can share a host),
COMETBFT (default .tools/bin/cometbft)."""

from __future__ import annotations

import os

import pytest

from testnet import Jobs, Net
from testnet.env import bin_dir as env_bin_dir
from testnet.ports import env_offset, net_ports, wait_free


@pytest.fixture(scope="session")
def bin_dir():
    """Where the Verdict binaries are (VERDICT_BIN_DIR)."""
    return env_bin_dir()


@pytest.fixture(scope="session")
def port_offset():
    """VERDICT_PORT_OFFSET: the ports of a net made without `port_offset`."""
    return env_offset()


def _keep(path):
    if os.environ.get("E2E_KEEP"):
        print(f"kept {path}")


@pytest.fixture
def net(tmp_path):
    """A net directory of its own (the test generates the net); every node is
    stopped afterwards."""
    n = Net(tmp_path / "net")
    yield n
    try:
        n.stop()
    finally:
        _keep(n.out)


@pytest.fixture
def cli(net):
    """`verdict` with the net's keyring against its node 0."""
    return net.cli(timeout=120)


@pytest.fixture
def jobs(net):
    """Inference jobs on the net, through its node 0."""
    return Jobs(net)


@pytest.fixture
def chains(tmp_path):
    """Two net directories side by side: chain A (`a/`) and chain B (`b/`)."""
    a, b = Net(tmp_path / "a"), Net(tmp_path / "b")
    yield a, b
    try:
        a.stop()
    finally:
        b.stop()
        _keep(tmp_path)


@pytest.fixture
def free_ports():
    """`free_ports(n, offset=None, timeout=30)`: fails the test if a port of nodes
    0..n-1 (at `offset`, default VERDICT_PORT_OFFSET's) is taken, after giving the
    previous test's processes `timeout` seconds to release theirs."""
    def require(n, offset=None, timeout=30):
        busy = wait_free(net_ports(n, offset), timeout)
        if busy:
            pytest.fail(f"port {busy[0]} is in use: stop the running testnet (make testnet-stop) first")
    return require

