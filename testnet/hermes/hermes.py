"""Stock Hermes (ibc-relayer-cli 1.10.5) between two local Verdict nets.

Writes a Hermes config for two `Net`s, imports a relayer key into Hermes's
keyring, and runs Hermes commands. Verdict's IBC commitments are a two-level JMT
(ICS-23 spec `jmt::ics23_spec()` twice, see `verdict_ibc::proof_specs()`), not
the SDK's IAVL pair, so each chain entry sets `proof_specs`; counterparty clients
created by Hermes then carry those specs.
"""

from __future__ import annotations

import base64
import json
import subprocess
import time
from pathlib import Path

from ..cli import Cli
from ..env import ROOT
from ..net import Net

HERMES = ROOT / ".tools" / "bin" / "hermes"

# `jmt::ics23_spec()` in Hermes's JSON form (hash ops by name, bytes in base64).
JMT_SPEC = {
    "leaf_spec": {
        "hash": "SHA256", "prehash_key": "SHA256", "prehash_value": "SHA256",
        "length": "NO_PREFIX", "prefix": base64.b64encode(b"JMT::LeafNode").decode(),
    },
    "inner_spec": {
        "child_order": [0, 1], "child_size": 32,
        "min_prefix_length": len(b"JMT::IntrnalNode"), "max_prefix_length": len(b"JMT::IntrnalNode"),
        "empty_child": base64.b64encode(b"SPARSE_MERKLE_PLACEHOLDER_HASH__").decode(),
        "hash": "SHA256",
    },
    "max_depth": 64, "min_depth": 0, "prehash_key_before_comparison": True,
}

GLOBAL = """[global]
log_level = 'info'

[mode.clients]
enabled = true
refresh = true
misbehaviour = false

[mode.connections]
enabled = false

[mode.channels]
enabled = false

[mode.packets]
enabled = true
clear_interval = 10
clear_on_start = true
tx_confirmation = true

[rest]
enabled = false
host = '127.0.0.1'
port = 3000

[telemetry]
enabled = false
host = '127.0.0.1'
port = 3001
"""

# One `[[chains]]` entry: Verdict's add a short trusting period (the local nets'
# unbonding time) and their JMT proof specs as `extra`; a stock Cosmos SDK
# chain (wasmd) keeps Hermes's defaults (SDK proof specs).
CHAIN = """
[[chains]]
id = '{chain_id}'
type = 'CosmosSdk'
rpc_addr = 'http://{rpc}'
grpc_addr = 'http://127.0.0.1:{grpc}'
event_source = {{ mode = 'pull', interval = '500ms' }}
rpc_timeout = '10s'
trusted_node = true
account_prefix = '{prefix}'
key_name = 'relayer'
key_store_type = 'Test'
store_prefix = 'ibc'
default_gas = 400000
max_gas = 4000000
gas_price = {{ price = 0.025, denom = '{denom}' }}
gas_multiplier = 1.3
max_msg_num = 20
max_tx_size = 1000000
clock_drift = '10s'
max_block_time = '10s'
trust_threshold = {{ numerator = '1', denominator = '3' }}
address_type = {{ derivation = 'cosmos' }}
compat_mode = '0.38'
{extra}"""


def sdk_chain_entry(chain_id: str, rpc: int, grpc: int, prefix: str, denom: str) -> str:
    """The `[[chains]]` entry of a stock Cosmos SDK chain."""
    return CHAIN.format(chain_id=chain_id, rpc=f"127.0.0.1:{rpc}", grpc=grpc, prefix=prefix,
                        denom=denom, extra="")


def chain_entry(net: Net) -> str:
    """The `[[chains]]` entry of a net (its node 0)."""
    meta = net.node(0).meta
    extra = f"trusting_period = '80s'\nproof_specs = '''{json.dumps([JMT_SPEC, JMT_SPEC])}'''\n"
    return CHAIN.format(chain_id=net.chain_id, rpc=meta["rpc"], grpc=meta["grpc"],
                        prefix="verdict", denom="uverd", extra=extra)


class Hermes:
    """Hermes with its home (config, keys, HOME) in `home`."""

    def __init__(self, home: Path):
        self.home = home

    @staticmethod
    def installed() -> bool:
        return HERMES.exists()

    @property
    def config(self) -> Path:
        return self.home / "config.toml"

    def _env(self) -> dict:
        return {"HOME": str(self.home), "PATH": "/usr/bin:/bin"}

    def write_config(self, nets: list[Net], extra: tuple[str, ...] = (),
                     channels: bool = False) -> Path:
        """Verdict nets, then `extra` chain entries (`sdk_chain_entry`); with
        `channels`, `hermes start` also completes channel handshakes a chain
        starts (an interchain account's registration)."""
        self.home.mkdir(parents=True, exist_ok=True)
        head = GLOBAL
        if channels:
            head = head.replace("[mode.channels]\nenabled = false", "[mode.channels]\nenabled = true")
        self.config.write_text(head + "".join(chain_entry(net) for net in nets) + "".join(extra))
        return self.config

    def run(self, *args: str, timeout: float = 300, check: bool = True) -> subprocess.CompletedProcess:
        r = subprocess.run([str(HERMES), "--config", str(self.config), *args],
                           capture_output=True, text=True, timeout=timeout, env=self._env())
        if check and r.returncode != 0:
            raise RuntimeError(f"hermes {' '.join(args)} failed:\n{r.stdout}\n{r.stderr}")
        return r

    def add_key(self, chain_id: str, mnemonic_file: Path) -> None:
        self.run("keys", "add", "--chain", chain_id, "--key-name", "relayer",
                 "--mnemonic-file", str(mnemonic_file), "--overwrite")

    def relayer_key(self, nets: list[Net], amount: str = "50000000uverd") -> str:
        """A key of Hermes's own (not the faucet, which tests also sign with: two
        signers of one account race for its sequence), funded on every chain from
        that chain's faucet and imported into Hermes for each chain. Returns its
        address."""
        info = Cli(keyring=self.home / "verdict-keyring").keys_add("hermes")
        mnemonic = self.home / "relayer.mnemonic"
        mnemonic.write_text(info["mnemonic"] + "\n")
        mnemonic.chmod(0o600)
        for net in nets:
            net.cli(timeout=120).send("faucet", info["address"], amount)
            self.add_key(net.chain_id, mnemonic)
        return info["address"]

    def start(self, log: Path, timeout: float = 60) -> subprocess.Popen:
        """`hermes start`, returned once Hermes reports it has started: its event
        source begins at the height it starts from, and a packet sent earlier is
        only found by the clearing on start (which may already have run)."""
        with open(log, "w") as out:
            p = subprocess.Popen([str(HERMES), "--config", str(self.config), "start"],
                                 stdout=out, stderr=subprocess.STDOUT, env=self._env())
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if "Hermes has started" in log.read_text():
                time.sleep(1)
                return p
            if p.poll() is not None:
                break
            time.sleep(0.5)
        p.terminate()
        raise RuntimeError(f"hermes did not start:\n{log.read_text()[-3000:]}")
