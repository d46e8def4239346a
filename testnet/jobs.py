"""Inference jobs on a running net through the `verdict` CLI: register the shipped
models (by the URIs of the net's model server), have the validators declare
serving them once their sidecars have them, make seeded inputs, submit jobs, and
compute what Python onnxruntime answers for the same input (the reference a
settled job is checked against)."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterable

from .cli import Cli
from .env import MODELS_DIR
from .net import Net


def model_ids() -> dict[str, str]:
    """stem → sha256, from models/SHA256SUMS."""
    ids = {}
    for line in (MODELS_DIR / "SHA256SUMS").read_text().splitlines():
        if line.strip():
            sha, name = line.split()
            ids[name.removesuffix(".onnx")] = sha
    return ids


def make_input(stem: str, seed: int) -> dict:
    """A seeded batch-1 input for a shipped model, in the CLI's JSON form."""
    import numpy as np
    rng = np.random.default_rng(seed)
    if stem == "mlp_classifier":
        return {"x": {"dtype": "float32", "shape": [1, 16],
                      "data": rng.standard_normal(16).astype("float32").tolist()}}
    if stem == "cnn_small":
        return {"image": {"dtype": "float32", "shape": [1, 1, 8, 8],
                          "data": rng.standard_normal(64).astype("float32").tolist()}}
    if stem == "token_embed":
        return {"tokens": {"dtype": "int64", "shape": [1, 6],
                           "data": rng.integers(0, 10, 6).tolist()}}
    raise ValueError(stem)


def reference_output(stem: str, inp: dict, path: Path | None = None) -> list[float]:
    """Python onnxruntime (CPU) on the same input: all outputs flattened, in order
    (`path`: another .onnx file than the shipped `stem`)."""
    import numpy as np
    import onnxruntime as ort
    sess = ort.InferenceSession(str(path or MODELS_DIR / f"{stem}.onnx"), providers=["CPUExecutionProvider"])
    feeds = {k: np.array(v["data"], dtype=v["dtype"]).reshape(v["shape"]) for k, v in inp.items()}
    outs = sess.run(None, feeds)
    return [float(x) for o in outs for x in np.asarray(o).ravel()]


class Jobs:
    """The inference module of one net, through `cli` (the net's keyring and
    node 0 unless given)."""

    def __init__(self, net: Net, cli: Cli | None = None):
        self.net = net
        self.cli = cli or net.cli()

    # List queries answer {"<list>": [...], "pagination": ...}; `query` returns the list.
    LISTS = {"jobs": "jobs", "models": "models", "faults": "faults", "remote-results": "requests"}

    def query(self, *args: str) -> Any:
        """`query inference ARGS` as JSON: the list of a list query, else the answer."""
        r = self.cli.query("inference", *args)
        key = self.LISTS.get(args[0]) if args else None
        return r[key] if key else r

    def register(self, spec: Path, uris: list[str], file: Path | None = None,
                 model_id: str | None = None, size: int | None = None, key: str = "faucet",
                 **kw) -> Any:
        """`tx inference register-model` with `--uri`s and either `file` (hashed and
        measured by the CLI) or `model_id` and `size`: the CLI's JSON answer."""
        args = ["tx", "inference", "register-model", "--from", key, "--spec", str(spec)]
        for u in uris:
            args += ["--uri", u]
        if file is not None:
            args += ["--file", str(file)]
        else:
            args += ["--model-id", str(model_id), "--size", str(size)]
        return self.cli.json(*args, **kw)

    def register_models(self, key: str = "faucet", serve: bool = True, timeout: float = 60,
                        on_ready: Callable[[int, str, float], None] | None = None) -> dict[str, str]:
        """Registers every shipped model that is not registered yet, by its URL on
        the net's model server; with `serve`, every validator then declares serving
        the models its sidecar has ready within `timeout` (`serve_when_ready`).
        Returns stem → id."""
        ids = model_ids()
        have = {m["id"] for m in self.query("models")}
        for stem, sha in ids.items():
            if sha in have:
                continue
            self.register(MODELS_DIR / "specs" / f"{stem}.json", [self.net.model_url(f"{stem}.onnx")],
                          file=MODELS_DIR / f"{stem}.onnx", key=key)
        if serve:
            self.serve_when_ready(list(ids.values()), timeout=timeout, on_ready=on_ready)
        return ids

    # ---- who serves what ---------------------------------------------------------

    def valopers(self) -> dict[int, str]:
        """Node index → its validator's operator address (monikers `verdict-<i>`)."""
        out = {}
        for v in self.cli.query("staking", "validators"):
            moniker = v.get("moniker", "")
            if moniker.startswith("verdict-") and moniker[8:].isdigit():
                out[int(moniker[8:])] = v["operator_address"]
        return out

    def servers(self, model_id: str) -> dict[str, int]:
        """The chain's record of who serves a model: operator → power."""
        return {s["operator"]: int(s["power"]) for s in self.query("model", model_id).get("servers") or []}

    def serve(self, i: int, model_ids: list[str], stop: bool = False, **kw) -> Any:
        """Validator i (operator key `validator<i>`) declares serving (or, with
        `stop`, no longer serving) the models: the CLI's JSON answer."""
        args = ["tx", "inference", "serve", *model_ids, "--from", f"validator{i}"]
        if stop:
            args.append("--stop")
        return self.net.cli(i).json(*args, **kw)

    def serve_when_ready(self, model_ids: list[str], nodes: Iterable[int] | None = None,
                         timeout: float = 60,
                         on_ready: Callable[[int, str, float], None] | None = None) -> dict[int, list[str]]:
        """What an operator does: each validator (all, or `nodes`) declares serving
        the models of `model_ids` its sidecar reports ready (loaded and warmed
        up: `Node.sidecar_models`, from its metrics) within `timeout`, in one tx
        once all are ready or the time is up. A model no sidecar gets (refused by
        policy, wrong hash at its URI, unreachable) is never declared, so jobs on
        it are refused at submit. `on_ready(node, model_id, seconds)` is called as
        each sidecar reports each model. Returns node → the models it declared."""
        nodes = list(range(self.net.n) if nodes is None else nodes)
        want = set(model_ids)
        valopers = self.valopers()
        already = {mid: set(self.servers(mid)) for mid in want}
        declared: dict[int, list[str]] = {}
        errors: list[str] = []

        def one(i: int) -> None:
            node, seen, start = self.net.node(i), set(), time.monotonic()
            while True:
                ready = node.sidecar_models() & want
                for mid in sorted(ready - seen):
                    if on_ready:
                        on_ready(i, mid, time.monotonic() - start)
                seen |= ready
                if seen == want or time.monotonic() - start > timeout:
                    break
                time.sleep(0.25)
            todo = sorted(m for m in seen if valopers.get(i) not in already[m])
            try:
                if todo:
                    r = self.serve(i, todo)
                    if r.get("code", 0) != 0:
                        raise RuntimeError(f"node{i} serve: {r}")
                declared[i] = sorted(seen)
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(f"node{i}: {e}")

        threads = [threading.Thread(target=one, args=(i,)) for i in nodes]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise RuntimeError("; ".join(errors))
        return declared

    def submit(self, stem: str, inp: dict, tmp: Path, key: str = "faucet", wait: bool = True,
               max_latency_ms: int = 2000, fee: str = "10000uverd", model_id: str | None = None) -> dict:
        """Submits one job on the shipped model `stem` (or on `model_id`); with
        `wait`, returns the settled job (the CLI's JSON; exit code 2, a job that
        settled as failed, is an answer too)."""
        f = tmp / f"input-{stem}-{abs(hash(json.dumps(inp, sort_keys=True)))}.json"
        f.write_text(json.dumps(inp))
        args = ["tx", "inference", "submit", "--from", key, "--model", model_id or model_ids()[stem],
                "--input", str(f), "--max-latency-ms", str(max_latency_ms), "--fee", fee]
        if wait:
            args.append("--wait")
        return self.cli.json(*args, codes=(0, 2))

    def block_events(self, h: int) -> list[dict]:
        """FinalizeBlock events of height h on node 0 as {type, attrs}."""
        return self.net.node(0).block_events(h)

    def tx_events(self, h: int) -> list[dict]:
        """The events of height h's txs on node 0 as {type, attrs}."""
        return self.net.node(0).tx_events(h)
