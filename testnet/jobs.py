"""Inference jobs on a running net through the `verdict` CLI: register the shipped
models, make seeded inputs, submit jobs, and compute what Python onnxruntime
answers for the same input (the reference a settled job is checked against)."""

import json
import subprocess
from pathlib import Path

import net

MODELS_DIR = net.ROOT / "models"


def model_ids() -> dict[str, str]:
    """stem → sha256, from models/SHA256SUMS."""
    ids = {}
    for line in (MODELS_DIR / "SHA256SUMS").read_text().splitlines():
        if line.strip():
            sha, name = line.split()
            ids[name.removesuffix(".onnx")] = sha
    return ids


def cli(out: Path, *args: str, node: int = 0, check: bool = True, timeout: float = 180):
    r = subprocess.run([str(net.verdict_bin()), "--keyring-dir", str(out / "keyring"),
                        "--node", f"127.0.0.1:{net.Ports.of(node).rpc}", *args],
                       capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise net.NetError(f"verdict {' '.join(args)}: {r.stderr.strip()} {r.stdout.strip()}")
    return r


def query(out: Path, *args: str, node: int = 0):
    return json.loads(cli(out, "--output", "json", "query", "inference", *args, node=node).stdout)


def register_models(out: Path, key: str = "faucet") -> dict[str, str]:
    """Registers every shipped model that is not registered yet; returns stem → id."""
    ids = model_ids()
    have = {m["id"] for m in query(out, "models")}
    for stem, sha in ids.items():
        if sha in have:
            continue
        cli(out, "tx", "inference", "register-model", "--from", key,
            "--spec", str(MODELS_DIR / "specs" / f"{stem}.json"),
            "--file", str(MODELS_DIR / f"{stem}.onnx"))
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


def submit(out: Path, stem: str, inp: dict, tmp: Path, key: str = "faucet", wait: bool = True,
           max_latency_ms: int = 2000, fee: str = "10000uverd", node: int = 0) -> dict:
    """Submits one job; with `wait`, returns the settled job (the CLI's JSON)."""
    f = tmp / f"input-{stem}-{abs(hash(json.dumps(inp, sort_keys=True)))}.json"
    f.write_text(json.dumps(inp))
    args = ["--output", "json", "tx", "inference", "submit", "--from", key,
            "--model", model_ids()[stem], "--input", str(f),
            "--max-latency-ms", str(max_latency_ms), "--fee", fee]
    if wait:
        args.append("--wait")
    r = cli(out, *args, node=node, check=False)
    if r.returncode not in (0, 2):
        raise net.NetError(f"submit failed: {r.stderr.strip()} {r.stdout.strip()}")
    return json.loads(r.stdout)


def block_events(out: Path, height: int, node: int = 0) -> list[dict]:
    """FinalizeBlock events of a height as {type, attrs}."""
    r = net.rpc(out, node, f"block_results?height={height}", timeout=10)
    return [{"type": e["type"], "attrs": {a["key"]: a.get("value", "") for a in e.get("attributes") or []}}
            for e in r.get("finalize_block_events") or []]
