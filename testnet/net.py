"""Local Verdict networks: generate validator homes, start/stop/restart nodes, and
read what each node reports. Python standard library only.

Node i on one machine (docs/design.md §8):
  CometBFT P2P 26656+100·i, RPC 26657+100·i, ABCI 26658+100·i, gRPC 9090+i
  (verdictd's query server), sidecar 26659+100·i (metrics 26661+100·i).
State and logs live in .testnet/node<i>/ (CometBFT home; verdictd keeps its
store in .testnet/node<i>/verdict/). The keyring with `faucet` and the
`validator<i>` operator keys is .testnet/keyring/.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / ".testnet"
CHAIN_ID = "verdict-local"


class NetError(Exception):
    """A problem an operator can act on; printed as one line."""


def cometbft_bin() -> Path:
    p = Path(os.environ.get("COMETBFT", ROOT / ".tools" / "bin" / "cometbft")).resolve()
    if not p.exists():
        raise NetError(f"cometbft binary not found at {p}: run `make setup`")
    return p


def bin_dir() -> Path:
    d = Path(os.environ.get("VERDICT_BIN_DIR", ROOT / "target" / "release"))
    return d if d.is_absolute() else (ROOT / d)


def verdictd_bin() -> Path:
    p = bin_dir() / "verdictd"
    if not p.exists():
        raise NetError(f"verdictd binary not found at {p}: run `make build`")
    return p


@dataclass(frozen=True)
class Ports:
    p2p: int
    rpc: int
    abci: int
    grpc: int
    sidecar: int
    sidecar_metrics: int

    @staticmethod
    def of(i: int, standard: bool = False, offset: int | None = None) -> "Ports":
        # VERDICT_PORT_OFFSET shifts every port of loopback nets, so two nets (or two
        # test runs) can share a host; `offset` overrides it for one net (two chains
        # side by side); `standard` (multi-host configs) ignores both.
        if standard:
            o = 0
        elif offset is not None:
            o = offset
        else:
            o = int(os.environ.get("VERDICT_PORT_OFFSET", "0"))
        return Ports(o + 26656 + 100 * i, o + 26657 + 100 * i, o + 26658 + 100 * i, o + 9090 + i,
                     o + 26659 + 100 * i, o + 26661 + 100 * i)


def sidecar_bin() -> Path:
    p = bin_dir() / "verdict-sidecar"
    if not p.exists():
        raise NetError(f"verdict-sidecar binary not found at {p}: run `make build`")
    return p


# Test-only faults. The sidecar's go to `verdict-sidecar serve --fault`, the others
# (behaviour of the validator itself) to `verdictd start --fault`.
VERDICTD_FAULTS = ("copy", "withhold")
_NOISE = re.compile(r"noise=((?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)")


def is_sidecar_fault(fault: str) -> bool:
    """wrong, down, slow=MS, noise=REL (finite, > 0) or lie=MS."""
    if fault in ("wrong", "down") or re.fullmatch(r"(slow|lie)=\d+", fault):
        return True
    m = _NOISE.fullmatch(fault)
    return bool(m) and 0.0 < float(m.group(1)) < float("inf")


def parse_faults(spec: str | None) -> dict[int, str]:
    """`1:wrong,2:slow=3000,3:copy` → {1: "wrong", 2: "slow=3000", 3: "copy"} (test-only
    faults: sidecar ones, see `is_sidecar_fault`, and verdictd ones, `VERDICTD_FAULTS`)."""
    out: dict[int, str] = {}
    for part in (spec or "").split(","):
        part = part.strip()
        if not part:
            continue
        node, sep, fault = part.partition(":")
        if not sep or not node.isdigit() or not (is_sidecar_fault(fault) or
                                                  fault in VERDICTD_FAULTS):
            raise NetError(f"bad FAULTS entry {part!r}: want NODE:FAULT with FAULT one of "
                           "wrong, down, slow=MS, noise=REL, lie=MS, copy, withhold")
        out[int(node)] = fault
    return out


def set_toml(text: str, section: str | None, key: str, value: str) -> str:
    """Sets `key = value` in `[section]` (None: top level) of a CometBFT config."""
    lines = text.split("\n")
    current = None
    for idx, line in enumerate(lines):
        m = re.match(r"^\[([^\]]+)\]\s*$", line)
        if m:
            current = m.group(1)
            continue
        if current == section and re.match(rf"^{re.escape(key)}\s*=", line):
            lines[idx] = f"{key} = {value}"
            return "\n".join(lines)
    raise NetError(f"config key {key} not found in section [{section}]")


def q(s: str) -> str:
    return json.dumps(s)


FAUCET_COINS = "1000000000000uverd"


def verdict_bin() -> Path:
    p = bin_dir() / "verdict"
    if not p.exists():
        raise NetError(f"verdict CLI not found at {p}: run `make build`")
    return p


VALIDATOR_COINS = "1000000000uverd"
SELF_BOND = "100000000uverd"  # 100 VERD → power 100


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


def cli_json(out: Path, *args: str) -> dict:
    r = subprocess.run([str(verdict_bin()), "--keyring-dir", str(out / "keyring"), "--output", "json", *args],
                       check=True, capture_output=True, text=True)
    return json.loads(r.stdout)


def add_gentxs(out: Path, n: int, chain_id: str, app_state: dict) -> None:
    """Each validator gets an operator key (keyring name `validator<i>`), a genesis
    balance, and a signed MsgCreateValidator bonding SELF_BOND with its node's
    consensus key: its gentx. Account numbers follow genesis order: the fee
    collector is 0, then the bank balances in the order listed."""
    balances = app_state["bank"]["balances"]
    for i in range(n):
        op = cli_json(out, "keys", "add", f"validator{i}")["address"]
        balances.append({"address": op, "coins": VALIDATOR_COINS})
    for i in range(n):
        key = json.loads((out / f"node{i}" / "config" / "priv_validator_key.json").read_text())
        number = 1 + next(j for j, b in enumerate(balances)
                          if b["address"] == cli_json(out, "keys", "show", f"validator{i}")["address"])
        r = subprocess.run([str(verdict_bin()), "--keyring-dir", str(out / "keyring"), "genesis", "gentx",
                            "--from", f"validator{i}", "--pubkey", key["pub_key"]["value"],
                            "--amount", SELF_BOND, "--account-number", str(number),
                            "--chain-id", chain_id, "--moniker", f"verdict-{i}"],
                           check=True, capture_output=True, text=True)
        app_state["staking"]["gentxs"].append(r.stdout.strip())


def make_faucet(out: Path) -> str:
    """A dev account funded at genesis: its key in OUT/keyring (name `faucet`),
    its mnemonic in OUT/faucet.mnemonic (mode 0600)."""
    r = subprocess.run([str(verdict_bin()), "--keyring-dir", str(out / "keyring"), "--output", "json",
                        "keys", "add", "faucet"], check=True, capture_output=True, text=True)
    info = json.loads(r.stdout)
    m = out / "faucet.mnemonic"
    m.write_text(info["mnemonic"] + "\n")
    m.chmod(0o600)
    return info["address"]


def generate(n: int, out: Path = DEFAULT_OUT, hosts: list[str] | None = None,
             timeout_commit: str = "500ms", chain_id: str = CHAIN_ID,
             force: bool = False, slashing: dict | None = None,
             staking: dict | None = None, port_offset: int | None = None,
             inference: dict | None = None) -> None:
    """Creates N validator homes. With `hosts`, node i is configured for its own
    machine `hosts[i]` (standard ports, peers by host name) instead of loopback.
    `port_offset` shifts this net's loopback ports instead of VERDICT_PORT_OFFSET
    (a second chain on the same host); the nodes keep their ports in node.json."""
    if n < 1:
        raise NetError("N must be at least 1")
    if hosts is not None and len(hosts) != n:
        raise NetError(f"--hosts names {len(hosts)} hosts for {n} nodes")
    if out.exists():
        if not force:
            raise NetError(f"{out} already exists: stop the net and remove it, or pass --force")
        if any(is_running(out, i) for i in range(count_nodes(out))):
            raise NetError(f"a node under {out} is still running: run `make testnet-stop` first")
        shutil.rmtree(out)
    out.mkdir(parents=True)
    cmt = cometbft_bin()
    subprocess.run([str(cmt), "testnet", "--v", str(n), "--o", str(out),
                    "--populate-persistent-peers=false"],
                   check=True, stdout=subprocess.DEVNULL)
    ids = []
    for i in range(n):
        home = out / f"node{i}"
        r = subprocess.run([str(cmt), "show-node-id", "--home", str(home)],
                           check=True, capture_output=True, text=True)
        ids.append(r.stdout.strip())

    genesis_path = out / "node0" / "config" / "genesis.json"
    genesis = json.loads(genesis_path.read_text())
    genesis["chain_id"] = chain_id
    genesis["consensus_params"].setdefault("abci", {})["vote_extensions_enable_height"] = "1"
    app_state = default_app_state(make_faucet(out))
    app_state["slashing"]["params"].update(slashing or {})
    if inference:
        app_state.setdefault("inference", {"params": {}})["params"].update(inference)
    app_state["staking"]["params"].update(staking or {})
    add_gentxs(out, n, chain_id, app_state)
    genesis["app_state"] = app_state
    text = json.dumps(genesis, indent=2)

    for i in range(n):
        home = out / f"node{i}"
        (home / "config" / "genesis.json").write_text(text)
        cfg_path = home / "config" / "config.toml"
        cfg = cfg_path.read_text()
        if hosts is None:
            p = Ports.of(i, offset=port_offset)
            peers = ",".join(f"{ids[j]}@127.0.0.1:{Ports.of(j, offset=port_offset).p2p}"
                             for j in range(n) if j != i)
            cfg = set_toml(cfg, None, "proxy_app", q(f"tcp://127.0.0.1:{p.abci}"))
            cfg = set_toml(cfg, "rpc", "laddr", q(f"tcp://127.0.0.1:{p.rpc}"))
            cfg = set_toml(cfg, "p2p", "laddr", q(f"tcp://127.0.0.1:{p.p2p}"))
            cfg = set_toml(cfg, "p2p", "allow_duplicate_ip", "true")
            cfg = set_toml(cfg, "p2p", "addr_book_strict", "false")
            cfg = set_toml(cfg, "p2p", "pex", "false")
        else:
            p = Ports.of(0, standard=True)
            peers = ",".join(f"{ids[j]}@{hosts[j]}:{p.p2p}" for j in range(n) if j != i)
            cfg = set_toml(cfg, None, "proxy_app", q(f"tcp://127.0.0.1:{p.abci}"))
            cfg = set_toml(cfg, "rpc", "laddr", q(f"tcp://127.0.0.1:{p.rpc}"))
            cfg = set_toml(cfg, "p2p", "laddr", q(f"tcp://0.0.0.0:{p.p2p}"))
            cfg = set_toml(cfg, "p2p", "external_address", q(f"{hosts[i]}:{p.p2p}"))
        cfg = set_toml(cfg, None, "moniker", q(f"verdict-{i}"))
        cfg = set_toml(cfg, "p2p", "persistent_peers", q(peers))
        cfg = set_toml(cfg, "consensus", "timeout_commit", q(timeout_commit))
        cfg = set_toml(cfg, "consensus", "timeout_propose", q("2s"))
        cfg = set_toml(cfg, "tx_index", "indexer", q("kv"))
        cfg = set_toml(cfg, None, "log_level", q("info"))
        cfg_path.write_text(cfg)
        meta = {"index": i, "node_id": ids[i], "abci": f"127.0.0.1:{p.abci}",
                "rpc": f"127.0.0.1:{p.rpc}", "p2p": p.p2p, "grpc": p.grpc,
                "sidecar": f"127.0.0.1:{p.sidecar}", "sidecar_metrics": f"127.0.0.1:{p.sidecar_metrics}",
                "host": hosts[i] if hosts else "127.0.0.1"}
        (home / "node.json").write_text(json.dumps(meta, indent=2))
        if hosts is not None:
            run = home / "run.sh"
            run.write_text(
                "#!/bin/sh\n# Start this validator on its own host; copy this folder there as $HOME_DIR.\n"
                "set -e\nHOME_DIR=$(cd \"$(dirname \"$0\")\" && pwd)\n"
                f"verdict-sidecar serve --models \"$HOME_DIR/models\" --listen 127.0.0.1:{p.sidecar} "
                f"--metrics 127.0.0.1:{p.sidecar_metrics} --device auto &\n"
                f"verdictd start --home \"$HOME_DIR\" --abci 127.0.0.1:{p.abci} --grpc 127.0.0.1:{p.grpc} "
                f"--sidecar http://127.0.0.1:{p.sidecar} "
                "--validator-key \"$HOME_DIR/config/priv_validator_key.json\" &\n"
                "exec cometbft start --home \"$HOME_DIR\"\n")
            run.chmod(0o755)
    (out / "net.json").write_text(json.dumps(
        {"n": n, "chain_id": chain_id, "hosts": hosts, "timeout_commit": timeout_commit}, indent=2))


def count_nodes(out: Path = DEFAULT_OUT) -> int:
    try:
        return int(json.loads((out / "net.json").read_text())["n"])
    except (OSError, ValueError, KeyError):
        return 0


def node_meta(out: Path, i: int) -> dict:
    return json.loads((out / f"node{i}" / "node.json").read_text())


def _pidfile(out: Path, i: int, proc: str) -> Path:
    return out / f"node{i}" / f"{proc}.pid"


def pid_of(out: Path, i: int, proc: str) -> int | None:
    try:
        pid = int(_pidfile(out, i, proc).read_text().strip())
    except (OSError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid
    # A zombie child counts as dead.
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        if stat.split(")")[-1].split()[0] == "Z":
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
            return None
    except OSError:
        return None
    return pid


def is_running(out: Path, i: int) -> bool:
    return any(pid_of(out, i, p) is not None for p in ("verdictd", "cometbft", "sidecar"))


def port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def wait_port(port: int, timeout: float = 15.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.settimeout(0.3)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.05)
    return False


def _spawn(out: Path, i: int, proc: str, argv: list[str]) -> int:
    home = out / f"node{i}"
    log = open(home / f"{proc}.log", "ab")
    p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                         start_new_session=True, cwd=str(home))
    _pidfile(out, i, proc).write_text(str(p.pid))
    return p.pid


def start_verdictd(out: Path, i: int, fault: str | None = None) -> None:
    """`fault`: a test-only verdictd fault (`VERDICTD_FAULTS`), passed as `--fault`
    and recorded in node<i>/verdictd.fault so that `restart` keeps it."""
    if pid_of(out, i, "verdictd"):
        return
    meta = node_meta(out, i)
    port = int(meta["abci"].rsplit(":", 1)[1])
    if not port_free(port):
        raise NetError(f"node{i}: ABCI port {port} is already in use")
    if not port_free(int(meta["grpc"])):
        raise NetError(f"node{i}: gRPC port {meta['grpc']} is already in use")
    argv = [str(verdictd_bin()), "start", "--home", str(out / f"node{i}"),
            "--abci", meta["abci"], "--grpc", f"127.0.0.1:{meta['grpc']}",
            # Local nets check the books after every block.
            "--check-invariants",
            # Attest the jobs this node's validator is drawn for.
            "--sidecar", f"http://{meta['sidecar']}",
            "--validator-key", str(out / f"node{i}" / "config" / "priv_validator_key.json")]
    if fault:
        # TEST ONLY: verdictd reads its misbehaviour (copy, withhold) from `--fault`.
        argv += ["--fault", fault]
    (out / f"node{i}" / "verdictd.fault").write_text(fault or "")
    _spawn(out, i, "verdictd", argv)
    if not wait_port(port):
        tail = (out / f"node{i}" / "verdictd.log").read_text(errors="replace").strip().splitlines()[-1:]
        raise NetError(f"node{i}: verdictd did not start listening on {port}: {' '.join(tail)}")


def start_sidecar(out: Path, i: int, fault: str | None = None) -> None:
    """The node's inference sidecar on loopback, with the shipped models."""
    if pid_of(out, i, "sidecar"):
        return
    meta = node_meta(out, i)
    port = int(meta["sidecar"].rsplit(":", 1)[1])
    if not port_free(port):
        raise NetError(f"node{i}: sidecar port {port} is already in use")
    argv = [str(sidecar_bin()), "serve", "--models", str(ROOT / "models"), "--listen", meta["sidecar"],
            "--metrics", meta["sidecar_metrics"], "--device", os.environ.get("DEVICE", "auto"),
            # A slow validator still finishes (and is late: the chain measures it),
            # so the sidecar's own limit sits far above any job's SLA.
            "--timeout-ms", "30000", "--workers", "4"]
    if fault:
        argv += ["--fault", fault]
    (out / f"node{i}" / "sidecar.fault").write_text(fault or "")
    _spawn(out, i, "sidecar", argv)
    if not wait_port(port):
        tail = (out / f"node{i}" / "sidecar.log").read_text(errors="replace").strip().splitlines()[-1:]
        raise NetError(f"node{i}: verdict-sidecar did not start listening on {port}: {' '.join(tail)}")


def start_cometbft(out: Path, i: int) -> None:
    if pid_of(out, i, "cometbft"):
        return
    meta = node_meta(out, i)
    for port in (int(meta["rpc"].rsplit(":", 1)[1]), int(meta["p2p"])):
        if not port_free(port):
            raise NetError(f"node{i}: port {port} is already in use")
    _spawn(out, i, "cometbft", [str(cometbft_bin()), "start", "--home", str(out / f"node{i}")])


def start(out: Path = DEFAULT_OUT, faults: dict[int, str] | None = None,
          sidecars: bool = True) -> None:
    n = count_nodes(out)
    if n == 0:
        raise NetError(f"no testnet under {out}: generate one first")
    cometbft_bin()
    verdictd_bin()
    faults = faults or {}
    for bad in sorted(set(faults) - set(range(n))):
        raise NetError(f"FAULTS names node {bad}, but the net has nodes 0..{n - 1}")
    # Sidecar faults go to the sidecar, verdictd faults (copy, withhold) to verdictd.
    sidecar_faults = {i: f for i, f in faults.items() if f not in VERDICTD_FAULTS}
    verdictd_faults = {i: f for i, f in faults.items() if f in VERDICTD_FAULTS}
    if sidecars:
        sidecar_bin()
        for i in range(n):
            start_sidecar(out, i, sidecar_faults.get(i))
    for i in range(n):
        start_verdictd(out, i, verdictd_faults.get(i))
    for i in range(n):
        start_cometbft(out, i)


def kill(out: Path, i: int, proc: str, sig: int = signal.SIGKILL) -> bool:
    pid = pid_of(out, i, proc)
    if pid is None:
        return False
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return False
    return True


def _wait_dead(out: Path, i: int, proc: str, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pid_of(out, i, proc) is None:
            return True
        time.sleep(0.05)
    return pid_of(out, i, proc) is None


def stop_node(out: Path, i: int) -> None:
    for proc in ("cometbft", "verdictd", "sidecar"):
        if kill(out, i, proc, signal.SIGTERM) and not _wait_dead(out, i, proc, 10):
            kill(out, i, proc, signal.SIGKILL)
            _wait_dead(out, i, proc, 5)


def stop(out: Path = DEFAULT_OUT) -> int:
    n = count_nodes(out)
    stopped = 0
    for i in range(n):
        if is_running(out, i):
            stop_node(out, i)
            stopped += 1
    return stopped


def restart(out: Path, i: int) -> None:
    """Brings node i back after a crash of either process. CometBFT exits when it
    loses its app; if it is still up after a moment, it is restarted too so the
    handshake replays against the new app."""
    if pid_of(out, i, "verdictd") is None and pid_of(out, i, "cometbft") is not None:
        if not _wait_dead(out, i, "cometbft", 3):
            kill(out, i, "cometbft")
            _wait_dead(out, i, "cometbft", 5)
    record = out / f"node{i}" / "verdictd.fault"
    start_verdictd(out, i, (record.read_text().strip() if record.is_file() else "") or None)
    start_cometbft(out, i)


def make_twin(out: Path, src: int, j: int) -> None:
    """A home `node<j>` for a second CometBFT node that signs with node `src`'s
    validator key (test-only: this is how a double sign happens). It has its own
    node key, ports (Ports.of(j), so VERDICT_PORT_OFFSET applies), store and
    verdictd, and peers with every node of the net; `start_verdictd(out, j)` and
    `start_cometbft(out, j)` run it, `stop_node(out, j)` stops it."""
    n = count_nodes(out)
    if j < n:
        raise NetError(f"node{j} is a member of the net: a twin needs an index >= {n}")
    home = out / f"node{j}"
    if home.exists():
        shutil.rmtree(home)
    subprocess.run([str(cometbft_bin()), "init", "--home", str(home)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    shutil.copy(out / "node0" / "config" / "genesis.json", home / "config" / "genesis.json")
    shutil.copy(out / f"node{src}" / "config" / "priv_validator_key.json",
                home / "config" / "priv_validator_key.json")
    node_id = subprocess.run([str(cometbft_bin()), "show-node-id", "--home", str(home)],
                             check=True, capture_output=True, text=True).stdout.strip()
    p = Ports.of(j)
    peers = ",".join(f"{node_meta(out, i)['node_id']}@127.0.0.1:{Ports.of(i).p2p}" for i in range(n))
    cfg = (out / f"node{src}" / "config" / "config.toml").read_text()
    cfg = set_toml(cfg, None, "proxy_app", q(f"tcp://127.0.0.1:{p.abci}"))
    cfg = set_toml(cfg, "rpc", "laddr", q(f"tcp://127.0.0.1:{p.rpc}"))
    cfg = set_toml(cfg, "p2p", "laddr", q(f"tcp://127.0.0.1:{p.p2p}"))
    cfg = set_toml(cfg, "p2p", "persistent_peers", q(peers))
    cfg = set_toml(cfg, None, "moniker", q(f"twin-of-{src}"))
    (home / "config" / "config.toml").write_text(cfg)
    meta = {"index": j, "node_id": node_id, "abci": f"127.0.0.1:{p.abci}",
            "rpc": f"127.0.0.1:{p.rpc}", "p2p": p.p2p, "grpc": p.grpc,
            "sidecar": f"127.0.0.1:{p.sidecar}", "sidecar_metrics": f"127.0.0.1:{p.sidecar_metrics}",
            "host": "127.0.0.1", "twin_of": src}
    (home / "node.json").write_text(json.dumps(meta, indent=2))


# ---- reading nodes -------------------------------------------------------------

def rpc(out: Path, i: int, path: str, timeout: float = 2.0) -> dict:
    url = f"http://{node_meta(out, i)['rpc']}/{path}"
    with urllib.request.urlopen(url, timeout=timeout) as r:
        doc = json.loads(r.read())
    if "error" in doc and doc["error"]:
        raise NetError(f"node{i} {path}: {doc['error']}")
    return doc["result"]


def height(out: Path, i: int) -> int | None:
    try:
        return int(rpc(out, i, "status")["sync_info"]["latest_block_height"])
    except (OSError, urllib.error.URLError, NetError, KeyError, ValueError):
        return None


def header_app_hash(out: Path, i: int, h: int) -> str | None:
    """App hash in the header of block h: the state after block h-1."""
    try:
        return rpc(out, i, f"header?height={h}")["header"]["app_hash"]
    except (OSError, urllib.error.URLError, NetError, KeyError):
        return None


def wait_height(out: Path, nodes: list[int], target: int, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        hs = [height(out, i) for i in nodes]
        if all(h is not None and h >= target for h in hs):
            return True
        time.sleep(0.2)
    return False


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)
