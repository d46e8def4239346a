"""Inference jobs on a running net through the `verdict` CLI: register the shipped
models, make seeded inputs, submit jobs, and compute what Python onnxruntime
answers for the same input (the reference a settled job is checked against)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

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


def reference_output(stem: str, inp: dict) -> list[float]:
    """Python onnxruntime (CPU) on the same input: all outputs flattened, in order."""
    import numpy as np
    import onnxruntime as ort
    sess = ort.InferenceSession(str(MODELS_DIR / f"{stem}.onnx"), providers=["CPUExecutionProvider"])
    feeds = {k: np.array(v["data"], dtype=v["dtype"]).reshape(v["shape"]) for k, v in inp.items()}
    outs = sess.run(None, feeds)
    return [float(x) for o in outs for x in np.asarray(o).ravel()]


class Jobs:
    """The inference module of one net, through `cli` (the net's keyring and
    node 0 unless given)."""

    def __init__(self, net: Net, cli: Cli | None = None):
        self.net = net
        self.cli = cli or net.cli()

    def query(self, *args: str) -> Any:
        """`query inference ARGS` as JSON."""
        return self.cli.query("inference", *args)

    def register_models(self, key: str = "faucet") -> dict[str, str]:
        """Registers every shipped model that is not registered yet; returns stem → id."""
        ids = model_ids()
        have = {m["id"] for m in self.query("models")}
        for stem, sha in ids.items():
            if sha in have:
                continue
            self.cli.tx("inference", "register-model", "--from", key,
                        "--spec", str(MODELS_DIR / "specs" / f"{stem}.json"),
                        "--file", str(MODELS_DIR / f"{stem}.onnx"))
        return ids

    def submit(self, stem: str, inp: dict, tmp: Path, key: str = "faucet", wait: bool = True,
               max_latency_ms: int = 2000, fee: str = "10000uverd") -> dict:
        """Submits one job; with `wait`, returns the settled job (the CLI's JSON;
        exit code 2, a job that settled as failed, is an answer too)."""
        f = tmp / f"input-{stem}-{abs(hash(json.dumps(inp, sort_keys=True)))}.json"
        f.write_text(json.dumps(inp))
        args = ["tx", "inference", "submit", "--from", key, "--model", model_ids()[stem],
                "--input", str(f), "--max-latency-ms", str(max_latency_ms), "--fee", fee]
        if wait:
            args.append("--wait")
        return self.cli.json(*args, codes=(0, 2))

    def block_events(self, h: int) -> list[dict]:
        """FinalizeBlock events of height h on node 0 as {type, attrs}."""
        return self.net.node(0).block_events(h)
