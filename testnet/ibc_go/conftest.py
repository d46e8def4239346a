"""The fixtures of testnet/tests (nets, ports) for the ibc-go e2e test."""

from testnet.tests.conftest import bin_dir, chains, free_ports, port_offset  # noqa: F401
