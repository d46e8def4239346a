"""Local Verdict networks for development and the end-to-end tests: real
CometBFT, verdictd and verdict-sidecar processes, driven with the `verdict` CLI.
Python standard library only (numpy and onnxruntime only for `jobs`' inputs and
reference outputs).

  Net   a net in one directory: generate its homes, start/stop it, wait for
        heights, compare the app hashes of its nodes, kill/restart a node, twins
  Node  one validator: home, ports (node.json), processes, logs, RPC reads
  Cli   the `verdict` binary for a keyring and a node, JSON answers parsed
  Jobs  inference jobs on a net (register models by URI, validators declare
        serving them once their sidecars have them, submit, events)

`python3 -m testnet --help` (from the repository root) runs the command line.
"""

from .cli import Cli, CliError
from .env import CHAIN_ID, DEFAULT_OUT, MODELS_DIR, ROOT, NetError
from .faults import parse_faults, parse_serve
from .jobs import Jobs
from .net import Net
from .node import Node
from .ports import Ports, port_free, wait_free, wait_port

__all__ = ["CHAIN_ID", "DEFAULT_OUT", "MODELS_DIR", "ROOT", "Cli", "CliError", "Jobs", "Net", "NetError",
           "Node", "Ports", "parse_faults", "parse_serve", "port_free", "wait_free", "wait_port"]
