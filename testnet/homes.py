"""Generating the validator homes of a net: `cometbft testnet` for the keys and
configs, `verdictd init` for verdictd's `config/app.toml` (then set to the node's
ports), a genesis with a funded faucet and one gentx per validator, configs for
loopback (or one machine per validator), `node.json` with each node's ports.
The keyring with `faucet` and the `validator<i>` operator keys is OUT/keyring/."""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from .cli import Cli
from .env import CHAIN_ID, MODELS_DIR, NetError, cometbft_bin, verdictd_bin
from . import registry
from .ports import Ports, models_http_port

FAUCET_COINS = "1000000000000uverd"
VALIDATOR_COINS = "1000000000uverd"
SELF_BOND = "100000000uverd"  # 100 VERD → power 100


class Toml:
    """A CometBFT config.toml (or verdictd's app.toml) being edited key by key."""

    def __init__(self, text: str):
        self.text = text

    def set_raw(self, section: str | None, key: str, value: str) -> "Toml":
        """Sets `key = value` in `[section]` (None: top level)."""
        lines = self.text.split("\n")
        current = None
        for idx, line in enumerate(lines):
            m = re.match(r"^\[([^\]]+)\]\s*$", line)
            if m:
                current = m.group(1)
                continue
            if current == section and re.match(rf"^{re.escape(key)}\s*=", line):
                lines[idx] = f"{key} = {value}"
                self.text = "\n".join(lines)
                return self
        raise NetError(f"config key {key} not found in section [{section}]")

    def set(self, section: str | None, key: str, value: str) -> "Toml":
        """Sets a string value."""
        return self.set_raw(section, key, json.dumps(value))


def default_app_state(faucet: str) -> dict:
    return {
        "app": {"params": {"max_vote_extension_bytes": 8192, "min_gas_price": "0.025"}},
        "bank": {"balances": [{"address": faucet, "coins": FAUCET_COINS}]},
        # Local nets: unbonding in minutes, not weeks (docs/reference.md).
        "staking": {"params": {"unbonding_time_seconds": 120, "max_validators": 100,
                               "max_entries": 7, "historical_entries": 10000,
                               "bond_denom": "uverd"}, "gentxs": []},
        "slashing": {"params": {"signed_blocks_window": 100, "min_signed_per_window": "0.5",
                                "downtime_jail_duration_seconds": 600,
                                "slash_fraction_double_sign": "0.05",
                                "slash_fraction_downtime": "0.01"}},
    }


def node_meta(i: int, node_id: str, p: Ports, host: str = "127.0.0.1", **extra) -> dict:
    """What node.json records of a node."""
    return {"index": i, "node_id": node_id, "abci": f"127.0.0.1:{p.abci}",
            "rpc": f"127.0.0.1:{p.rpc}", "p2p": p.p2p, "grpc": p.grpc, "api": p.api, "metrics": p.metrics,
            "comet_metrics": p.comet_metrics,
            "sidecar": f"127.0.0.1:{p.sidecar}", "sidecar_metrics": f"127.0.0.1:{p.sidecar_metrics}",
            "host": host, **extra}


def prometheus(cfg: Toml, addr: str) -> None:
    """CometBFT's own Prometheus metrics on `addr`."""
    cfg.set_raw("instrumentation", "prometheus", "true")
    cfg.set("instrumentation", "prometheus_listen_addr", addr)


def verdictd_init(home: Path, chain_id: str, moniker: str) -> None:
    """`verdictd init` over a home `cometbft testnet` made: a fresh app.toml
    template and genesis (replaced by the net's next), chain id, moniker; the
    keys and config.toml stay."""
    r = subprocess.run([str(verdictd_bin()), "init", "--home", str(home), "--chain-id", chain_id,
                        "--moniker", moniker, "--cometbft", str(cometbft_bin()), "--overwrite"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise NetError(f"verdictd init {home}: {r.stderr.strip()}")


def app_toml(home: Path, p: Ports, local: bool) -> None:
    """verdictd's settings in the app.toml `verdictd init` wrote: the node's ports
    (every service on the node's loopback), its sidecar and validator key (a path
    relative to the home, so a copied home works). `local` nets also let any
    origin call the REST gateway and check the books after every block."""
    path = home / "config" / "app.toml"
    cfg = Toml(path.read_text())
    cfg.set(None, "abci", f"127.0.0.1:{p.abci}")
    cfg.set(None, "rpc", f"http://127.0.0.1:{p.rpc}")
    cfg.set("grpc", "address", f"127.0.0.1:{p.grpc}")
    cfg.set("api", "address", f"127.0.0.1:{p.api}")
    cfg.set("metrics", "address", f"127.0.0.1:{p.metrics}")
    cfg.set("attestation", "sidecar", f"http://127.0.0.1:{p.sidecar}")
    # The attestor's own key (`verdictd init` wrote it): CometBFT's key may move
    # to a remote signer without it.
    cfg.set("attestation", "key", "config/attestation_key.json")
    # A token only this node's verdictd and sidecar share (security review L-8).
    token = home / "config" / "sidecar_token"
    fd = os.open(token, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_hex(32) + "\n")
    cfg.set("attestation", "sidecar-token-file", "config/sidecar_token")
    # Snapshots for nodes that join by state sync (`python3 -m testnet join --state-sync`).
    cfg.set_raw("state-sync", "snapshot-interval", "50")
    if local:
        cfg.set_raw(None, "check-invariants", "true")
        cfg.set_raw("api", "cors", '["*"]')
    path.write_text(cfg.text)


def node_id(home: Path) -> str:
    return subprocess.run([str(cometbft_bin()), "show-node-id", "--home", str(home)],
                          check=True, capture_output=True, text=True).stdout.strip()


RUN_SH = """#!/bin/sh
# Start this validator on its own host; copy this folder there as $HOME_DIR.
set -e
HOME_DIR=$(cd "$(dirname "$0")" && pwd)
verdict-sidecar serve --models "$HOME_DIR/models" --listen 127.0.0.1:{p.sidecar} \
--metrics 127.0.0.1:{p.sidecar_metrics} --device auto --token-file "$HOME_DIR/config/sidecar_token" &
# verdictd's addresses, sidecar and validator key: $HOME_DIR/config/app.toml.
verdictd start --home "$HOME_DIR" &
exec cometbft start --home "$HOME_DIR"
"""


@dataclass
class NetSpec:
    """What `Generator` makes. With `hosts`, node i is configured for its own
    machine `hosts[i]` (standard ports, peers by host name) instead of loopback.
    `port_offset` shifts this net's loopback ports instead of VERDICT_PORT_OFFSET
    (a second chain on the same host); the nodes keep their ports in node.json.
    `slashing`, `staking` and `inference` override genesis params.
    `sidecar_models`: what each node's models dir (`node<i>/models/`, its
    sidecar's `--models`) holds at first: "shipped" (a copy of models/*.onnx and
    SHA256SUMS, loaded at start) or "empty" (every model fetched by URI once
    registered)."""

    n: int
    chain_id: str = CHAIN_ID
    hosts: list[str] | None = None
    timeout_commit: str = "500ms"
    port_offset: int | None = None
    slashing: dict = field(default_factory=dict)
    staking: dict = field(default_factory=dict)
    inference: dict = field(default_factory=dict)
    sidecar_models: str = "shipped"

    def check(self) -> None:
        if self.n < 1:
            raise NetError("N must be at least 1")
        if self.sidecar_models not in ("shipped", "empty"):
            raise NetError(f"sidecar_models must be shipped or empty, not {self.sidecar_models!r}")
        if self.hosts is not None and len(self.hosts) != self.n:
            raise NetError(f"--hosts names {len(self.hosts)} hosts for {self.n} nodes")

    def ports(self, i: int) -> Ports:
        if self.hosts is not None:
            return Ports.of(0, standard=True)
        return Ports.of(i, offset=self.port_offset)


class Generator:
    """Creates the homes of a `NetSpec` under `out` (which must not exist)."""

    def __init__(self, out: Path, spec: NetSpec):
        self.out = out
        self.spec = spec
        self.cli = Cli(keyring=out / "keyring")
        self.ids: list[str] = []

    def run(self) -> None:
        self.spec.check()
        self.out.mkdir(parents=True)
        cmt = cometbft_bin()
        subprocess.run([str(cmt), "testnet", "--v", str(self.spec.n), "--o", str(self.out),
                        "--populate-persistent-peers=false"],
                       check=True, stdout=subprocess.DEVNULL)
        self.ids = [node_id(self.home(i)) for i in range(self.spec.n)]
        genesis = json.dumps(self.genesis(), indent=2)
        for i in range(self.spec.n):
            self.write_node(i, genesis)
        (self.out / "net.json").write_text(json.dumps(
            {"n": self.spec.n, "chain_id": self.spec.chain_id, "hosts": self.spec.hosts,
             "timeout_commit": self.spec.timeout_commit,
             "models_http": models_http_port(self.spec.port_offset),
             "sidecar_models": self.spec.sidecar_models}, indent=2))
        registry.write(self.out, self.spec.chain_id, [self.endpoints(i) for i in range(self.spec.n)])

    def endpoints(self, i: int) -> dict:
        """Node i's client endpoints, as wallets and explorers reach them."""
        p = self.spec.ports(i)
        host = self.spec.hosts[i] if self.spec.hosts else "127.0.0.1"
        return {"name": f"node{i}", "rpc": f"http://{host}:{p.rpc}",
                "rest": f"http://{host}:{p.api}", "grpc": f"{host}:{p.grpc}"}

    def home(self, i: int) -> Path:
        return self.out / f"node{i}"

    # ---- genesis -----------------------------------------------------------------

    def genesis(self) -> dict:
        genesis = json.loads((self.home(0) / "config" / "genesis.json").read_text())
        genesis["chain_id"] = self.spec.chain_id
        genesis["consensus_params"].setdefault("abci", {})["vote_extensions_enable_height"] = "1"
        app_state = default_app_state(self.make_faucet())
        app_state["slashing"]["params"].update(self.spec.slashing)
        if self.spec.inference:
            app_state.setdefault("inference", {"params": {}})["params"].update(self.spec.inference)
        app_state["staking"]["params"].update(self.spec.staking)
        self.add_gentxs(app_state)
        genesis["app_state"] = app_state
        return genesis

    def make_faucet(self) -> str:
        """A dev account funded at genesis: its key in OUT/keyring (name `faucet`),
        its mnemonic in OUT/faucet.mnemonic (mode 0600)."""
        info = self.cli.keys_add("faucet")
        m = self.out / "faucet.mnemonic"
        m.write_text(info["mnemonic"] + "\n")
        m.chmod(0o600)
        return info["address"]

    def add_gentxs(self, app_state: dict) -> None:
        """Each validator gets an operator key (keyring name `validator<i>`), a genesis
        balance, and a signed MsgCreateValidator bonding SELF_BOND with its node's
        consensus key: its gentx. Account numbers follow genesis order: the fee
        collector is 0, then the bank balances in the order listed."""
        balances = app_state["bank"]["balances"]
        for i in range(self.spec.n):
            op = self.cli.keys_add(f"validator{i}")["address"]
            balances.append({"address": op, "coins": VALIDATOR_COINS})
        for i in range(self.spec.n):
            app_state["staking"]["gentxs"].append(self.gentx(i, balances))

    def gentx(self, i: int, balances: list[dict]) -> str:
        key = json.loads((self.home(i) / "config" / "priv_validator_key.json").read_text())
        op = self.cli.address(f"validator{i}")
        number = 1 + next(j for j, b in enumerate(balances) if b["address"] == op)
        return self.cli.run("genesis", "gentx", "--from", f"validator{i}",
                            "--pubkey", key["pub_key"]["value"], "--amount", SELF_BOND,
                            "--account-number", str(number), "--chain-id", self.spec.chain_id,
                            "--moniker", f"verdict-{i}").stdout.strip()

    # ---- node configs ------------------------------------------------------------

    def write_node(self, i: int, genesis: str) -> None:
        home = self.home(i)
        verdictd_init(home, self.spec.chain_id, f"verdict-{i}")
        (home / "config" / "genesis.json").write_text(genesis)
        cfg_path = home / "config" / "config.toml"
        cfg = Toml(cfg_path.read_text())
        if self.spec.hosts is None:
            self.loopback(cfg, i)
        else:
            self.separate_host(cfg, i)
        cfg.set(None, "moniker", f"verdict-{i}")
        cfg.set("consensus", "timeout_commit", self.spec.timeout_commit)
        cfg.set("consensus", "timeout_propose", "2s")
        cfg.set("tx_index", "indexer", "kv")
        cfg.set(None, "log_level", "info")
        cfg_path.write_text(cfg.text)
        p = self.spec.ports(i)
        host = self.spec.hosts[i] if self.spec.hosts else "127.0.0.1"
        app_toml(home, p, local=self.spec.hosts is None)
        (home / "node.json").write_text(json.dumps(node_meta(i, self.ids[i], p, host), indent=2))
        self.models_dir(home)
        if self.spec.hosts is not None:
            run = home / "run.sh"
            run.write_text(RUN_SH.format(p=p))
            run.chmod(0o755)

    def models_dir(self, home: Path) -> None:
        """The node's own models dir (its sidecar caches fetched models in
        `models/cache/`): the shipped models, or nothing."""
        d = home / "models"
        d.mkdir()
        if self.spec.sidecar_models == "shipped":
            for f in [*sorted(MODELS_DIR.glob("*.onnx")), MODELS_DIR / "SHA256SUMS"]:
                shutil.copyfile(f, d / f.name)

    def peers(self, i: int, addr) -> str:
        return ",".join(f"{self.ids[j]}@{addr(j)}" for j in range(self.spec.n) if j != i)

    def loopback(self, cfg: Toml, i: int) -> None:
        p = self.spec.ports(i)
        prometheus(cfg, f"127.0.0.1:{p.comet_metrics}")
        cfg.set(None, "proxy_app", f"tcp://127.0.0.1:{p.abci}")
        cfg.set("rpc", "laddr", f"tcp://127.0.0.1:{p.rpc}")
        cfg.set("p2p", "laddr", f"tcp://127.0.0.1:{p.p2p}")
        cfg.set_raw("p2p", "allow_duplicate_ip", "true")
        cfg.set_raw("p2p", "addr_book_strict", "false")
        cfg.set_raw("p2p", "pex", "false")
        cfg.set("p2p", "persistent_peers", self.peers(i, lambda j: f"127.0.0.1:{self.spec.ports(j).p2p}"))

    def separate_host(self, cfg: Toml, i: int) -> None:
        p = self.spec.ports(i)
        hosts = self.spec.hosts
        prometheus(cfg, f":{p.comet_metrics}")
        cfg.set(None, "proxy_app", f"tcp://127.0.0.1:{p.abci}")
        cfg.set("rpc", "laddr", f"tcp://127.0.0.1:{p.rpc}")
        cfg.set("p2p", "laddr", f"tcp://0.0.0.0:{p.p2p}")
        cfg.set("p2p", "external_address", f"{hosts[i]}:{p.p2p}")
        cfg.set("p2p", "persistent_peers", self.peers(i, lambda j: f"{hosts[j]}:{p.p2p}"))


def extra_home(out: Path, n: int, j: int, moniker: str, template: int = 0) -> tuple[Path, Toml, Ports]:
    """A fresh home `node<j>` beside the net's n validators (j >= n): CometBFT's
    own keys (`cometbft init`), the net's genesis, node `template`'s config.toml
    moved to ports Ports.of(j) (so VERDICT_PORT_OFFSET applies), peering with
    every validator. Returns the home, its config (to edit, then `finish_extra`)
    and its ports."""
    if j < n:
        raise NetError(f"node{j} is a member of the net: another node needs an index >= {n}")
    home = out / f"node{j}"
    if home.exists():
        shutil.rmtree(home)
    subprocess.run([str(cometbft_bin()), "init", "--home", str(home)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    shutil.copy(out / "node0" / "config" / "genesis.json", home / "config" / "genesis.json")
    p = Ports.of(j)
    metas = [json.loads((out / f"node{i}" / "node.json").read_text()) for i in range(n)]
    peers = ",".join(f"{m['node_id']}@127.0.0.1:{Ports.of(i).p2p}" for i, m in enumerate(metas))
    cfg = Toml((out / f"node{template}" / "config" / "config.toml").read_text())
    cfg.set(None, "proxy_app", f"tcp://127.0.0.1:{p.abci}")
    cfg.set("rpc", "laddr", f"tcp://127.0.0.1:{p.rpc}")
    cfg.set("p2p", "laddr", f"tcp://127.0.0.1:{p.p2p}")
    cfg.set("p2p", "persistent_peers", peers)
    cfg.set(None, "moniker", moniker)
    prometheus(cfg, f"127.0.0.1:{p.comet_metrics}")
    return home, cfg, p


def finish_extra(home: Path, cfg: Toml, meta: dict) -> Path:
    """Writes an extra home's config.toml and node.json."""
    (home / "config" / "config.toml").write_text(cfg.text)
    (home / "node.json").write_text(json.dumps(meta, indent=2))
    return home


def make_twin(out: Path, n: int, src: int, j: int) -> Path:
    """A home `node<j>` for a second CometBFT node that signs with node `src`'s
    validator key (test-only: this is how a double sign happens). It has its own
    node key, ports (Ports.of(j), so VERDICT_PORT_OFFSET applies), store and
    verdictd, and peers with every node 0..n-1 of the net."""
    home, cfg, p = extra_home(out, n, j, f"twin-of-{src}", template=src)
    shutil.copy(out / f"node{src}" / "config" / "priv_validator_key.json",
                home / "config" / "priv_validator_key.json")
    return finish_extra(home, cfg, node_meta(j, node_id(home), p, twin_of=src))
