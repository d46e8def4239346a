"""A local Verdict network in one directory: generate its validator homes,
start/stop/restart its nodes, and read what they report. Python standard
library only.

State and logs live in OUT/node<i>/ (see `Node`); OUT/net.json records the
net's shape. The keyring with `faucet` and the `validator<i>` operator keys is
OUT/keyring/. While the net runs, its model server (`ModelServer`) serves
OUT/www/ on 127.0.0.1:26690 + the port offset.
"""

from __future__ import annotations

import json
import shutil
import signal
import time
from pathlib import Path
from typing import Iterable

from .cli import Cli
from .env import DEFAULT_OUT, NetError, cometbft_bin, sidecar_bin, verdictd_bin
from .faults import split_faults
from .homes import Generator, NetSpec, make_twin
from .models_http import ModelServer
from .node import Node
from .ports import MODELS_HTTP, models_http_port


class Net:
    """The net under `out` (which may not exist yet: `generate` creates it)."""

    def __init__(self, out: Path = DEFAULT_OUT):
        self.out = Path(out)

    def __repr__(self) -> str:
        return f"Net({str(self.out)!r})"

    # ---- shape -------------------------------------------------------------------

    @property
    def n(self) -> int:
        """Validators in the net; 0 when none was generated here."""
        try:
            return int(json.loads((self.out / "net.json").read_text())["n"])
        except (OSError, ValueError, KeyError):
            return 0

    def _meta(self) -> dict:
        try:
            return json.loads((self.out / "net.json").read_text())
        except (OSError, ValueError):
            return {}

    @property
    def models_http_port(self) -> int:
        """The model server's port (nets generated before it was recorded: 26690
        shifted like node 0's RPC port)."""
        port = self._meta().get("models_http")
        if port:
            return int(port)
        try:
            return int(self.node(0).rpc_addr.rsplit(":", 1)[1]) - 26657 + MODELS_HTTP
        except (OSError, ValueError, KeyError):
            return models_http_port()

    @property
    def model_server(self) -> ModelServer:
        return ModelServer(self.out, self.models_http_port)

    def model_url(self, name: str) -> str:
        """The URL the net's model server gives OUT/www/`name` (e.g. mlp_classifier.onnx)."""
        return self.model_server.url(name)

    def publish(self, src: Path, name: str | None = None) -> str:
        """Puts a file in OUT/www/ for the model server; its URL."""
        return self.model_server.publish(Path(src), name)

    def node(self, i: int) -> Node:
        return Node(self.out, i)

    @property
    def nodes(self) -> list[Node]:
        return [self.node(i) for i in range(self.n)]

    @property
    def chain_id(self) -> str:
        genesis = json.loads((self.out / "node0" / "config" / "genesis.json").read_text())
        return genesis["chain_id"]

    @property
    def keyring(self) -> Path:
        return self.out / "keyring"

    @property
    def faucet_mnemonic(self) -> Path:
        return self.out / "faucet.mnemonic"

    def cli(self, i: int = 0, timeout: float = 180) -> Cli:
        """The `verdict` CLI with the net's keyring against node i."""
        return Cli(keyring=self.keyring, node=self.node(i), timeout=timeout)

    def _select(self, nodes: Iterable[int] | None) -> list[Node]:
        return self.nodes if nodes is None else [self.node(i) for i in nodes]

    # ---- lifecycle -----------------------------------------------------------------

    def generate(self, n: int, force: bool = False, **spec) -> "Net":
        """Creates n validator homes (see `NetSpec` for the options). With `force`,
        a stopped net already here is removed first."""
        spec = NetSpec(n, **{k: v for k, v in spec.items() if v is not None})
        spec.check()
        if self.out.exists():
            if not force:
                raise NetError(f"{self.out} already exists: stop the net and remove it, or pass --force")
            if self.any_running():
                raise NetError(f"a node under {self.out} is still running: run `make testnet-stop` first")
            shutil.rmtree(self.out)
        Generator(self.out, spec).run()
        return self

    def any_running(self) -> bool:
        return any(node.is_running() for node in self.nodes)

    def start(self, faults: dict[int, str] | None = None, sidecars: bool = True,
              serve: dict[int, str] | None = None) -> None:
        """Starts the model server, then every node: sidecars (unless `sidecars`
        is False), then verdictd, then CometBFT. `faults`: test-only faults by
        node (`parse_faults`); `serve`: sidecar `--serve` policies by node
        (`parse_serve`; the others keep theirs, at first `all`)."""
        n = self.n
        if n == 0:
            raise NetError(f"no testnet under {self.out}: generate one first")
        cometbft_bin()
        verdictd_bin()
        faults = faults or {}
        for bad in sorted(set(faults) - set(range(n))):
            raise NetError(f"FAULTS names node {bad}, but the net has nodes 0..{n - 1}")
        serve = serve or {}
        for bad in sorted(set(serve) - set(range(n))):
            raise NetError(f"SERVE names node {bad}, but the net has nodes 0..{n - 1}")
        sidecar_faults, verdictd_faults = split_faults(faults)
        self.model_server.start()
        if sidecars:
            sidecar_bin()
            for node in self.nodes:
                node.start_sidecar(sidecar_faults.get(node.index), serve.get(node.index))
        for node in self.nodes:
            node.start_verdictd(verdictd_faults.get(node.index))
        for node in self.nodes:
            node.start_cometbft()

    def stop(self) -> int:
        """Stops every node that runs (validators, and full nodes or twins added
        to the net), and the model server; returns how many nodes were running."""
        stopped = 0
        extra = sorted(int(p.name[4:]) for p in self.out.glob("node*")
                       if p.name[4:].isdigit() and int(p.name[4:]) >= self.n)
        for node in self.nodes + [self.node(j) for j in extra]:
            if node.is_running():
                node.stop()
                stopped += 1
        if self.out.is_dir():
            self.model_server.stop()
        return stopped

    def kill(self, i: int, proc: str, sig: int = signal.SIGKILL) -> bool:
        return self.node(i).kill(proc, sig)

    def restart(self, i: int) -> None:
        self.node(i).restart()

    def make_twin(self, src: int, j: int) -> Node:
        """Node j (not a member of the net, `j >= n`): a second CometBFT node that
        signs with node `src`'s validator key (test-only: this is how a double
        sign happens). It has its own node key, ports (Ports.of(j), so
        VERDICT_PORT_OFFSET applies), store and verdictd, and peers with every node
        of the net; its `start_verdictd()` and `start_cometbft()` run it, `stop()`
        stops it (so does `Net.stop`)."""
        make_twin(self.out, self.n, src, j)
        return self.node(j)

    # ---- reading the nodes ---------------------------------------------------------

    def heights(self, nodes: Iterable[int] | None = None) -> list[int | None]:
        return [node.height() for node in self._select(nodes)]

    def top_height(self, nodes: Iterable[int] | None = None) -> int:
        """The highest height any of the nodes reports (0 if none answers)."""
        return max(h or 0 for h in self.heights(nodes))

    def wait_height(self, nodes: Iterable[int] | None, target: int, timeout: float) -> bool:
        """True once every node (None: all) is at `target` or above."""
        selected = self._select(nodes)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            hs = [node.height() for node in selected]
            if all(h is not None and h >= target for h in hs):
                return True
            time.sleep(0.2)
        return False

    def app_hashes(self, h: int, nodes: Iterable[int] | None = None) -> list[str | None]:
        """The app hash in block h's header, by node (None where it has none)."""
        return [node.header_app_hash(h) for node in self._select(nodes)]

    def assert_agreement(self, upto: int, nodes: Iterable[int] | None = None) -> None:
        """Every node has the header of every height 1..upto, with one app hash."""
        nodes = None if nodes is None else list(nodes)
        for h in range(1, upto + 1):
            hashes = self.app_hashes(h, nodes)
            assert None not in hashes, f"height {h}: some node has no header: {hashes}"
            assert len(set(hashes)) == 1, f"height {h}: app hashes differ: {hashes}"

    def node_names(self) -> dict[str, str]:
        """Consensus address → `nodeI`."""
        return {node.consensus_address: node.name for node in self.nodes}
