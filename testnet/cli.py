"""The `verdict` CLI, run for one keyring and one node."""

from __future__ import annotations

import dataclasses
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .env import NetError, verdict_bin


class CliError(NetError):
    """A `verdict` command exited with a code it was not expected to."""


@dataclass(frozen=True)
class Cli:
    """`verdict [--keyring-dir KEYRING] [--node NODE] ARGS`. `node` is an RPC
    address (`127.0.0.1:26657`) or a `Node` (its address read when a command
    runs, so a Cli can be made before the node's home exists); None leaves the
    flag out (keys, genesis and other offline commands)."""

    keyring: Path | None = None
    node: Any = None
    timeout: float = 180

    @property
    def node_addr(self) -> str | None:
        return getattr(self.node, "rpc_addr", self.node)

    def at(self, node: Any) -> "Cli":
        """The same keyring against another node (None: offline)."""
        return dataclasses.replace(self, node=node)

    def offline(self) -> "Cli":
        return self.at(None)

    def argv(self, *args: str) -> list[str]:
        argv = [str(verdict_bin())]
        if self.keyring is not None:
            argv += ["--keyring-dir", str(self.keyring)]
        if self.node_addr is not None:
            argv += ["--node", self.node_addr]
        return argv + list(args)

    def run(self, *args: str, check: bool = True, codes: tuple[int, ...] = (0,),
            timeout: float | None = None, input: str | None = None) -> subprocess.CompletedProcess:
        """Runs one command; with `check`, an exit code outside `codes` raises CliError."""
        r = subprocess.run(self.argv(*args), capture_output=True, text=True, input=input,
                           timeout=self.timeout if timeout is None else timeout)
        if check and r.returncode not in codes:
            raise CliError(f"verdict {' '.join(args)}: exit {r.returncode}\n"
                           f"{r.stderr.strip()}\n{r.stdout.strip()}")
        return r

    def json(self, *args: str, **kw) -> Any:
        """`--output json ARGS`, parsed."""
        return json.loads(self.run("--output", "json", *args, **kw).stdout)

    def json_or_text(self, *args: str, **kw) -> Any:
        """`--output json ARGS`: the object printed, or the text when it is none."""
        text = self.run("--output", "json", *args, **kw).stdout
        return json.loads(text) if text.strip().startswith("{") else text.strip()

    def popen(self, *args: str, log: Path) -> subprocess.Popen:
        """A long-running command (a relayer) with its output in `log`."""
        with open(log, "w") as f:
            return subprocess.Popen(self.argv(*args), stdout=f, stderr=subprocess.STDOUT)

    # ---- common commands ---------------------------------------------------------

    def keys_add(self, name: str) -> dict:
        """A new key: {name, address, mnemonic, ...}."""
        return self.json("keys", "add", name)

    def address(self, name: str) -> str:
        return self.json("keys", "show", name)["address"]

    def query(self, module: str, *args: str, **kw) -> Any:
        """`query MODULE ARGS` as JSON."""
        return self.json("query", module, *args, **kw)

    def tx(self, module: str, *args: str, **kw) -> subprocess.CompletedProcess:
        return self.run("tx", module, *args, **kw)

    def send(self, frm: str, to: str, amount: str, *args: str, **kw) -> subprocess.CompletedProcess:
        return self.tx("bank", "send", frm, to, amount, *args, **kw)
