"""The model server of a local net: a loopback HTTP server (Python's
`http.server`, in a process of its own so that it outlives `python3 -m testnet
start`) over OUT/www/, where the shipped models/*.onnx are copied when the net
starts. Models are registered with `http://127.0.0.1:PORT/FILE` URIs; every
sidecar fetches them from here and checks their sha256 before loading. Tests
put further files in OUT/www/ with `Net.publish`.

Port: 26690 + the net's port offset (recorded in net.json as `models_http`)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from .env import MODELS_DIR, NetError
from .ports import port_free, wait_port


class ModelServer:
    def __init__(self, out: Path, port: int):
        self.out = Path(out)
        self.port = port
        self.www = self.out / "www"
        self.pidfile = self.out / "models-http.pid"
        self.log_file = self.out / "models-http.log"

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"

    def pid(self) -> int | None:
        try:
            pid = int(self.pidfile.read_text().strip())
        except (OSError, ValueError):
            return None
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return None
        if stat.split(")")[-1].split()[0] == "Z":
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
            return None
        return pid

    def populate(self) -> None:
        """OUT/www/ with a copy of each shipped model (files already there stay)."""
        self.www.mkdir(parents=True, exist_ok=True)
        for f in sorted(MODELS_DIR.glob("*.onnx")):
            dst = self.www / f.name
            if not dst.exists():
                shutil.copyfile(f, dst)

    def publish(self, src: Path, name: str | None = None) -> str:
        """Copies `src` into OUT/www/ (as `name`); its URL."""
        self.www.mkdir(parents=True, exist_ok=True)
        name = name or Path(src).name
        shutil.copyfile(src, self.www / name)
        return self.url(name)

    def start(self) -> None:
        if self.pid() is not None:
            return
        self.populate()
        if not port_free(self.port):
            raise NetError(f"model server port {self.port} is already in use")
        with open(self.log_file, "ab") as log:
            p = subprocess.Popen([sys.executable, "-m", "http.server", str(self.port), "--bind", "127.0.0.1",
                                  "--directory", str(self.www)],
                                 stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                 start_new_session=True, cwd=str(self.out))
        self.pidfile.write_text(str(p.pid))
        if not wait_port(self.port):
            raise NetError(f"the model server did not start listening on {self.port}: see {self.log_file}")

    def stop(self) -> bool:
        """SIGTERM (then SIGKILL); False when it was not running."""
        pid = self.pid()
        if pid is None:
            return False
        for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                return True
            end = time.monotonic() + wait
            while time.monotonic() < end:
                if self.pid() is None:
                    return True
                time.sleep(0.05)
        return True
