"""Local wasmd chains (wasmd v0.70.3: a stock Cosmos SDK 0.54 chain with ibc-go
v11, built once into .tools/bin/wasmd by scripts/build-wasmd.sh): the
throughput anchor of `make bench-wasmd` and the ibc-go counterparty of
`make e2e-ibc-go`.

Ports of validator i: BASE + 100·i + {0 rpc, 1 p2p, 2 grpc, 3 abci}.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from .env import ROOT
from .homes import Toml

WASMD = ROOT / ".tools" / "bin" / "wasmd"
KEYRING = ["--keyring-backend", "test"]


def wasmd(binary: Path, home: Path, *args: str, stdin: str | None = None,
          timeout: float = 120) -> str:
    """Runs `wasmd ARGS --home HOME`; its stdout and stderr, or RuntimeError."""
    r = subprocess.run([str(binary), *args, "--home", str(home)], input=stdin,
                       capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError(f"wasmd {' '.join(args)}: {r.stderr.strip()[-1500:]}")
    return r.stdout + r.stderr


def wasmd_net(n: int, d: Path, binary: Path = WASMD, *, chain_id: str, base: int,
              timeout_commit: str = "500ms", grpc: bool = False) -> tuple[list[Path], Path]:
    """n wasmd validator homes under `d` with one genesis (denom `stake`); the
    faucet's mnemonic file (key `faucet` in home 0's test keyring)."""
    homes = [d / f"wasmd{i}" for i in range(n)]
    for i, h in enumerate(homes):
        wasmd(binary, h, "init", f"node{i}", "--chain-id", chain_id)
    info = json.loads(wasmd(binary, homes[0], "keys", "add", "faucet", *KEYRING,
                            "--output", "json"))
    mnemonic = d / "wasmd.mnemonic"
    mnemonic.write_text(info["mnemonic"] + "\n")
    wasmd(binary, homes[0], "genesis", "add-genesis-account", info["address"],
          "1000000000000000stake")
    for h in homes:
        val = json.loads(wasmd(binary, h, "keys", "add", "val", *KEYRING,
                               "--output", "json"))["address"]
        wasmd(binary, homes[0], "genesis", "add-genesis-account", val, "1000000000000stake")
    genesis = homes[0] / "config" / "genesis.json"
    (homes[0] / "config" / "gentx").mkdir(exist_ok=True)
    for i, h in enumerate(homes):
        if i:
            shutil.copyfile(genesis, h / "config" / "genesis.json")
        out = h / "config" / "gentx" / f"gentx-{i}.json"
        out.parent.mkdir(exist_ok=True)
        wasmd(binary, h, "genesis", "gentx", "val", "100000000stake", "--chain-id", chain_id,
              *KEYRING, "--output-document", str(out))
        if i:
            shutil.copyfile(out, homes[0] / "config" / "gentx" / out.name)
    wasmd(binary, homes[0], "genesis", "collect-gentxs")
    ids = [wasmd(binary, h, "comet", "show-node-id").strip() for h in homes]
    for i, h in enumerate(homes):
        if i:
            shutil.copyfile(genesis, h / "config" / "genesis.json")
        cfg_path = h / "config" / "config.toml"
        cfg = Toml(cfg_path.read_text())
        p = base + 100 * i
        cfg.set("rpc", "laddr", f"tcp://127.0.0.1:{p}")
        cfg.set("p2p", "laddr", f"tcp://127.0.0.1:{p + 1}")
        cfg.set(None, "proxy_app", f"tcp://127.0.0.1:{p + 3}")
        cfg.set("rpc", "pprof_laddr", "")
        cfg.set_raw("p2p", "allow_duplicate_ip", "true")
        cfg.set_raw("p2p", "addr_book_strict", "false")
        cfg.set_raw("p2p", "pex", "false")
        cfg.set("p2p", "persistent_peers",
                ",".join(f"{ids[j]}@127.0.0.1:{base + 100 * j + 1}" for j in range(n) if j != i))
        cfg.set("consensus", "timeout_commit", timeout_commit)
        cfg.set("consensus", "timeout_propose", "2s")
        cfg.set("tx_index", "indexer", "kv")
        cfg_path.write_text(cfg.text)
        app_path = h / "config" / "app.toml"
        app = Toml(app_path.read_text())
        app.set(None, "minimum-gas-prices", "0.025stake")
        app.set_raw("api", "enable", "false")
        app.set_raw("grpc", "enable", "true" if grpc else "false")
        if grpc:
            app.set("grpc", "address", f"127.0.0.1:{p + 2}")
        app_path.write_text(app.text)
    return homes, mnemonic
