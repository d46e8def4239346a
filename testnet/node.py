"""One validator of a local net: its home `OUT/node<i>/` (CometBFT home; verdictd
keeps its store in `verdict/`), the ports in its `node.json`, its three processes
(sidecar, verdictd, CometBFT; pid files and logs in the home, so another Python
process can stop them), and what it reports over CometBFT's RPC."""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from .env import MODELS_DIR, ROOT, NetError, cometbft_bin, sidecar_bin, verdictd_bin
from .ports import port_free, wait_port

PROCS = ("verdictd", "cometbft", "sidecar")
# A model the sidecar holds (loaded from its models dir or hot-loaded by LoadModel).
_DEVICE_INFO = re.compile(r'^verdict_sidecar_device_info\{model="([0-9a-f]{64})",device="[^"]*"\} 1$', re.M)


def sidecar_device(index: int) -> str:
    """The `--device` of node `index`'s sidecar: its entry in DEVICES
    (`"0:cuda,2:cuda"`), else DEVICE, else auto."""
    for part in os.environ.get("DEVICES", "").split(","):
        i, _, dev = part.partition(":")
        if i.strip() == str(index) and dev.strip():
            return dev.strip()
    return os.environ.get("DEVICE", "auto")


def sidecar_env() -> dict:
    """The sidecar's environment: with `make setup GPU=1`'s CUDA libraries
    (.tools/cuda, links into the venv's nvidia wheels) on the library path, so
    ONNX Runtime's CUDA provider finds them without a system CUDA toolkit."""
    env = dict(os.environ)
    cuda = ROOT / ".tools" / "cuda"
    if cuda.is_dir():
        env["LD_LIBRARY_PATH"] = ":".join(x for x in (str(cuda), env.get("LD_LIBRARY_PATH", "")) if x)
    return env


class Node:
    def __init__(self, out: Path, index: int):
        self.out = Path(out)
        self.index = index
        self.home = self.out / f"node{index}"

    def __repr__(self) -> str:
        return f"Node({str(self.home)!r})"

    @property
    def name(self) -> str:
        return f"node{self.index}"

    # ---- configuration -----------------------------------------------------------

    @property
    def meta(self) -> dict:
        """node.json: node_id, abci, rpc, p2p, grpc, api, sidecar, sidecar_metrics, host."""
        return json.loads((self.home / "node.json").read_text())

    @property
    def rpc_addr(self) -> str:
        return self.meta["rpc"]

    @property
    def rpc_url(self) -> str:
        return f"http://{self.rpc_addr}"

    @property
    def api_url(self) -> str | None:
        """The REST gateway (None for a net made before it existed)."""
        api = self.meta.get("api")
        return f"http://127.0.0.1:{api}" if api else None

    @property
    def metrics_url(self) -> str | None:
        """verdictd's Prometheus endpoint (None for a net made before it existed)."""
        m = self.meta.get("metrics")
        return f"http://127.0.0.1:{m}/metrics" if m else None

    @property
    def comet_metrics_url(self) -> str | None:
        m = self.meta.get("comet_metrics")
        return f"http://127.0.0.1:{m}/metrics" if m else None

    @property
    def abci_port(self) -> int:
        return int(self.meta["abci"].rsplit(":", 1)[1])

    @property
    def sidecar_port(self) -> int:
        return int(self.meta["sidecar"].rsplit(":", 1)[1])

    @property
    def metrics_addr(self) -> str:
        return self.meta["sidecar_metrics"]

    @property
    def validator_key_file(self) -> Path:
        return self.home / "config" / "priv_validator_key.json"

    @property
    def validator_key(self) -> dict:
        return json.loads(self.validator_key_file.read_text())

    @property
    def consensus_address(self) -> str:
        """The validator this node attests for (its attestation key says; a
        remote signer may hold the consensus key), else its key file's."""
        own = self.home / "config" / "attestation_key.json"
        if own.is_file():
            return json.loads(own.read_text())["validator_address"]
        return self.validator_key["address"]

    # ---- processes ---------------------------------------------------------------

    def pidfile(self, proc: str) -> Path:
        return self.home / f"{proc}.pid"

    def log_file(self, proc: str) -> Path:
        return self.home / f"{proc}.log"

    def log_tail(self, proc: str, lines: int = 1) -> str:
        text = self.log_file(proc).read_text(errors="replace").strip()
        return " ".join(text.splitlines()[-lines:])

    def pid(self, proc: str) -> int | None:
        """The pid of a live process of this node (a zombie child counts as dead)."""
        try:
            pid = int(self.pidfile(proc).read_text().strip())
        except (OSError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            return pid
        return None if _reap_zombie(pid) else pid

    def is_running(self) -> bool:
        return any(self.pid(p) is not None for p in PROCS)

    def _spawn(self, proc: str, argv: list[str], env: dict | None = None) -> int:
        with open(self.log_file(proc), "ab") as log:
            p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                 start_new_session=True, cwd=str(self.home), env=env)
        self.pidfile(proc).write_text(str(p.pid))
        return p.pid

    def _require_free(self, what: str, port: int) -> None:
        if not port_free(port):
            raise NetError(f"{self.name}: {what}port {port} is already in use")

    def _await_listening(self, proc: str, binary: str, port: int) -> None:
        if not wait_port(port):
            raise NetError(f"{self.name}: {binary} did not start listening on {port}: "
                           f"{self.log_tail(proc)}")

    @property
    def models_dir(self) -> Path:
        """The sidecar's `--models`: the node's own `models/` (homes made before
        it existed: the repository's models/)."""
        d = self.home / "models"
        return d if d.is_dir() else MODELS_DIR

    def start_sidecar(self, fault: str | None = None, serve: str | None = None) -> None:
        """The node's inference sidecar on loopback, with the node's models dir;
        `fault` a test-only sidecar fault; `serve` its `--serve` policy (all,
        none or FILE; None: the one it last started with, else all), recorded in
        sidecar.serve."""
        if self.pid("sidecar"):
            return
        meta = self.meta
        self._require_free("sidecar ", self.sidecar_port)
        record = self.home / "sidecar.serve"
        if serve is None:
            serve = (record.read_text().strip() if record.is_file() else "") or "all"
        argv = [str(sidecar_bin()), "serve", "--models", str(self.models_dir), "--listen", meta["sidecar"],
                "--metrics", meta["sidecar_metrics"], "--device", sidecar_device(self.index),
                # A slow validator still finishes (and is late: the chain measures it),
                # so the sidecar's own limit sits far above any job's SLA.
                "--timeout-ms", "30000", "--workers", "4", "--serve", serve]
        token = self.home / "config" / "sidecar_token"
        if token.is_file():
            # Only verdictd, which reads the same file, may call it.
            argv += ["--token-file", str(token)]
        if fault:
            argv += ["--fault", fault]
        (self.home / "sidecar.fault").write_text(fault or "")
        record.write_text(serve)
        self._spawn("sidecar", argv, env=sidecar_env())
        self._await_listening("sidecar", "verdict-sidecar", self.sidecar_port)

    def start_verdictd(self, fault: str | None = None, extra: list[str] | None = None) -> None:
        """`fault`: a test-only verdictd fault (`VERDICTD_FAULTS`), passed as `--fault`
        and recorded in verdictd.fault so that `restart` keeps it. `extra`: more
        flags for this start only (e.g. `--halt-height N`)."""
        if self.pid("verdictd"):
            return
        meta = self.meta
        self._require_free("ABCI ", self.abci_port)
        self._require_free("gRPC ", int(meta["grpc"]))
        if "api" in meta:
            self._require_free("REST ", int(meta["api"]))
        if "metrics" in meta:
            self._require_free("metrics ", int(meta["metrics"]))
        if (self.home / "config" / "app.toml").is_file():
            # Ports, sidecar, validator key, invariant checks: the node's
            # config/app.toml, written by the net generator (homes.app_toml).
            argv = [str(verdictd_bin()), "start", "--home", str(self.home)]
        else:
            argv = self._verdictd_flags(meta)
        if fault:
            # TEST ONLY: verdictd reads its misbehaviour (copy, withhold) from `--fault`.
            argv += ["--fault", fault]
        (self.home / "verdictd.fault").write_text(fault or "")
        self._spawn("verdictd", argv + list(extra or []))
        self._await_listening("verdictd", "verdictd", self.abci_port)

    def _verdictd_flags(self, meta: dict) -> list[str]:
        """`verdictd start` for a home without app.toml (made before it existed,
        a twin, a full node that joined): every setting as a flag, from node.json."""
        return [str(verdictd_bin()), "start", "--home", str(self.home),
                "--abci", meta["abci"], "--grpc", f"127.0.0.1:{meta['grpc']}",
                # The REST gateway (any origin may call it: a local net), and
                # the node's own RPC for broadcast, tx search, blocks, valsets.
                *(["--api", f"127.0.0.1:{meta['api']}", "--api-cors", "*"] if "api" in meta else []),
                "--rpc", f"http://{meta['rpc']}",
                *(["--metrics", f"127.0.0.1:{meta['metrics']}"] if "metrics" in meta else []),
                # Local nets check the books after every block.
                "--check-invariants",
                # Attest the jobs this node's validator is drawn for (a full node
                # that joined the net attests nothing).
                *([] if meta.get("full") else
                  ["--sidecar", f"http://{meta['sidecar']}",
                   "--validator-key", str(self.validator_key_file)])]

    def start_cometbft(self) -> None:
        if self.pid("cometbft"):
            return
        meta = self.meta
        for port in (int(meta["rpc"].rsplit(":", 1)[1]), int(meta["p2p"])):
            self._require_free("", port)
        self._spawn("cometbft", [str(cometbft_bin()), "start", "--home", str(self.home)])

    def kill(self, proc: str, sig: int = signal.SIGKILL) -> bool:
        """Signals one process; False when it was not running."""
        pid = self.pid(proc)
        if pid is None:
            return False
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return False
        return True

    def wait_dead(self, proc: str, timeout: float) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.pid(proc) is None:
                return True
            time.sleep(0.05)
        return self.pid(proc) is None

    def stop(self) -> None:
        """SIGTERM to each process, SIGKILL to one that is still up after 10 s."""
        for proc in ("cometbft", "verdictd", "sidecar"):
            if self.kill(proc, signal.SIGTERM) and not self.wait_dead(proc, 10):
                self.kill(proc, signal.SIGKILL)
                self.wait_dead(proc, 5)

    def restart(self) -> None:
        """Brings the node back after a crash of either process (verdictd keeps its
        recorded fault). CometBFT exits when it loses its app; if it is still up
        after a moment, it is restarted too so the handshake replays against the
        new app."""
        if self.pid("verdictd") is None and self.pid("cometbft") is not None:
            if not self.wait_dead("cometbft", 3):
                self.kill("cometbft")
                self.wait_dead("cometbft", 5)
        record = self.home / "verdictd.fault"
        self.start_verdictd((record.read_text().strip() if record.is_file() else "") or None)
        self.start_cometbft()

    # ---- reading the node ----------------------------------------------------------

    def rpc(self, path: str, timeout: float = 2.0) -> dict:
        """CometBFT RPC `path` (with its query string): the result."""
        with urllib.request.urlopen(f"{self.rpc_url}/{path}", timeout=timeout) as r:
            doc = json.loads(r.read())
        if "error" in doc and doc["error"]:
            raise NetError(f"{self.name} {path}: {doc['error']}")
        return doc["result"]

    def height(self) -> int | None:
        """Latest block height; None while the node does not answer."""
        try:
            return int(self.rpc("status")["sync_info"]["latest_block_height"])
        except (OSError, urllib.error.URLError, NetError, KeyError, ValueError):
            return None

    def header_app_hash(self, h: int) -> str | None:
        """App hash in the header of block h: the state after block h-1."""
        try:
            return self.rpc(f"header?height={h}")["header"]["app_hash"]
        except (OSError, urllib.error.URLError, NetError, KeyError):
            return None

    def app_height(self) -> int:
        """The height the app itself (verdictd, over ABCI Info) reports."""
        return int(self.rpc("abci_info")["response"].get("last_block_height", 0))

    def block(self, h: int, timeout: float = 2.0) -> dict:
        return self.rpc(f"block?height={h}", timeout=timeout)["block"]

    def block_events(self, h: int) -> list[dict]:
        """FinalizeBlock events of a height as {type, attrs}."""
        r = self.rpc(f"block_results?height={h}", timeout=10)
        return [{"type": e["type"],
                 "attrs": {a["key"]: a.get("value", "") for a in e.get("attributes") or []}}
                for e in r.get("finalize_block_events") or []]

    def tx_events(self, h: int) -> list[dict]:
        """The events of the txs of a height (every tx, in order) as {type, attrs}."""
        r = self.rpc(f"block_results?height={h}", timeout=10)
        return [{"type": e["type"],
                 "attrs": {a["key"]: a.get("value", "") for a in e.get("attributes") or []}}
                for tx in r.get("txs_results") or [] for e in tx.get("events") or []]

    def validators(self) -> dict[str, int]:
        """CometBFT's validator set: consensus address → voting power."""
        return {v["address"]: int(v["voting_power"]) for v in self.rpc("validators")["validators"]}

    def sidecar_metrics(self, timeout: float = 2.0) -> str:
        """The sidecar's Prometheus text ("" while it does not answer)."""
        try:
            with urllib.request.urlopen(f"http://{self.metrics_addr}/metrics", timeout=timeout) as r:
                return r.read().decode(errors="replace")
        except (OSError, urllib.error.URLError):
            return ""

    def sidecar_models(self) -> set[str]:
        """The models (sha256) the sidecar has loaded and warmed up, from its
        metrics (`verdict_sidecar_device_info{model=…}`, set once a model is
        ready, whether from the models dir or fetched by LoadModel)."""
        return set(_DEVICE_INFO.findall(self.sidecar_metrics()))

    def abci_query(self, path: str, data: bytes) -> dict:
        """ABCI query `path` with `data`: CometBFT's `response` object."""
        return self.rpc(f'abci_query?path="{path}"&data=0x{data.hex()}')["response"]

    def store_value(self, store_path: str, key: str) -> bytes:
        """The value at `key` of a store query path (`store/ibc/key`), b"" if none."""
        return base64.b64decode(self.abci_query(store_path, key.encode()).get("value") or "")


def _reap_zombie(pid: int) -> bool:
    """True when pid is a zombie (reaped here if it is our child) or gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    if stat.split(")")[-1].split()[0] != "Z":
        return False
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
    return True
