"""Models reach validators (issue 14) on a real 4-validator net whose sidecars
start with an empty models dir: a model is registered by URL (the net's model
server, from a temporary directory), every sidecar fetches, checks and
hot-loads it, the validators declare serving it, and its jobs settle with what
Python onnxruntime computes, without restarting anything. A wrong hash at the
URL is refused by every sidecar, so nobody serves the model and its jobs are
refused at submit. Node 3's sidecar runs `--serve none`: it loads nothing, its
validator declares nothing, and it is never seated."""

from __future__ import annotations

import hashlib
import json
import re

import pytest

from testnet import Jobs, Net
from testnet.env import MODELS_DIR
from testnet.jobs import make_input, reference_output
from testnet.ports import net_ports, wait_free

N = 4
NONE = 3  # the node whose sidecar serves nothing
SERVING = [i for i in range(N) if i != NONE]


def make_model(path, scale):
    """A model no sidecar has: the shipped MLP with its weights scaled (same
    inputs and outputs, other answers, another sha256)."""
    import numpy as np
    import onnx
    from onnx import numpy_helper
    m = onnx.load(str(MODELS_DIR / "mlp_classifier.onnx"))
    for t in m.graph.initializer:
        t.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(t) * np.float32(scale), t.name))
    onnx.save_model(m, str(path))
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """The net (node 3 `--serve none`, every sidecar with an empty models dir),
    its Jobs, and a scratch directory outside the net's model server."""
    tmp = tmp_path_factory.mktemp("models")
    busy = wait_free(net_ports(N), 30)
    if busy:
        pytest.fail(f"port {busy[0]} is in use: stop the running testnet (make testnet-stop) first")
    net = Net(tmp / "net")
    net.generate(N, sidecar_models="empty")
    try:
        net.start(serve={NONE: "none"})
        assert net.wait_height(range(N), 3, 90)
        yield net, Jobs(net), tmp
    finally:
        net.stop()


def spec_file(tmp, name):
    spec = json.loads((MODELS_DIR / "specs" / "mlp_classifier.json").read_text())
    spec["name"] = name
    f = tmp / f"{name}.json"
    f.write_text(json.dumps(spec))
    return f


def submit_raw(jobs, tmp, model_id, seed):
    f = tmp / f"in-{model_id[:8]}-{seed}.json"
    f.write_text(json.dumps(make_input("mlp_classifier", seed)))
    return jobs.cli.run("--output", "json", "tx", "inference", "submit", "--from", "faucet",
                        "--model", model_id, "--input", str(f), check=False)


def pids(net):
    return {(node.index, p): node.pid(p) for node in net.nodes for p in ("sidecar", "verdictd", "cometbft")}


def load_outcomes(node):
    """verdict_sidecar_model_loads_total by outcome."""
    return {k: int(v) for k, v in re.findall(r'verdict_sidecar_model_loads_total\{outcome="(\w+)"\} (\d+)',
                                             node.sidecar_metrics())}


def test_a_model_registered_by_url_is_fetched_and_served_and_its_jobs_settle_without_restarts(env):
    net, jobs, tmp = env
    before = pids(net)
    x = tmp / "x.onnx"
    x_id = make_model(x, 1.5)
    for node in net.nodes:
        assert not any(node.models_dir.rglob("*.onnx")), f"{node.name} has a model on disk"
        assert x_id not in node.sidecar_models()

    url = net.publish(x, "x.onnx")
    assert url == f"http://127.0.0.1:{net.models_http_port}/x.onnx"
    jobs.register(spec_file(tmp, "mlp_x"), [url], file=x)
    m = jobs.query("model", x_id)
    assert m["uris"] == [url] and m["size_bytes"] == x.stat().st_size, m
    assert m["servers"] == [], m

    # Registered, but nobody declared serving it yet: refused at submit.
    r = submit_raw(jobs, tmp, x_id, 0)
    assert r.returncode != 0 and "served by 0 bonded validators" in r.stdout + r.stderr, r.stdout + r.stderr

    # Each sidecar is asked to load it after a commit (verdictd calls LoadModel),
    # fetches it from the URL, checks it and hot-loads it; the operators then
    # declare serving it. Node 3's policy refuses it: it never gets ready.
    declared = jobs.serve_when_ready([x_id], timeout=20)
    assert {i for i, ids in declared.items() if x_id in ids} == set(SERVING), declared
    for i in SERVING:
        assert (net.node(i).models_dir / "cache" / f"{x_id}.onnx").read_bytes() == x.read_bytes()
    assert x_id not in net.node(NONE).sidecar_models()
    assert load_outcomes(net.node(NONE)).get("refused_by_policy", 0) >= 1
    valopers = jobs.valopers()
    assert set(jobs.servers(x_id)) == {valopers[i] for i in SERVING}

    addr = {node.index: node.consensus_address for node in net.nodes}
    for k in range(3):
        inp = make_input("mlp_classifier", 100 + k)
        job = jobs.submit("mlp_x", inp, tmp, model_id=x_id)
        assert job["status"] == "completed", job
        ref = reference_output("mlp_x", inp, path=x)
        got = [float(v) for v in job["output"]]
        assert len(got) == len(ref)
        assert max(abs(a - b) for a, b in zip(got, ref)) <= float(job["tolerance"]), (got, ref)
        seated = {c["address"] for c in job["committee"]}
        assert seated == {addr[i] for i in SERVING}, job["committee"]
    # Nothing was restarted on the way.
    assert pids(net) == before


def test_a_wrong_hash_at_the_url_is_refused_by_every_sidecar_and_its_jobs_at_submit(env):
    net, jobs, tmp = env
    z = tmp / "z.onnx"
    z_id = make_model(z, 0.25)
    # The URL serves other bytes of the same size: only the hash gives them away.
    bad = bytearray(z.read_bytes())
    bad[-1] ^= 1
    served = tmp / "z-tampered.onnx"
    served.write_bytes(bytes(bad))
    url = net.publish(served, "z.onnx")
    jobs.register(spec_file(tmp, "mlp_z"), [url], model_id=z_id, size=len(bad))

    declared = jobs.serve_when_ready([z_id], timeout=10)
    assert all(z_id not in ids for ids in declared.values()), declared
    for node in net.nodes:
        assert z_id not in node.sidecar_models(), node.name
        assert not (node.models_dir / "cache" / f"{z_id}.onnx").exists()
    for i in SERVING:
        node = net.node(i)
        assert load_outcomes(node).get("failed", 0) >= 1, node.sidecar_metrics()
        log = node.log_file("sidecar").read_text(errors="replace")
        assert z_id in log and "expected" in log, f"{node.name}: no hash refusal in its log"
    assert jobs.servers(z_id) == {}

    r = submit_raw(jobs, tmp, z_id, 1)
    out = r.stdout + r.stderr
    assert r.returncode != 0 and "served by 0 bonded validators" in out and "at least 1" in out, out
    assert all(j["model_id"] != z_id for j in jobs.query("jobs"))


def test_a_sidecar_with_serve_none_is_never_seated(env):
    net, jobs, tmp = env
    # The shipped models, registered by their URLs on the net's model server and
    # fetched by every sidecar that may load them.
    ids = jobs.register_models(timeout=10)
    valopers = jobs.valopers()
    for stem, mid in ids.items():
        assert set(jobs.servers(mid)) == {valopers[i] for i in SERVING}, stem
        for i in SERVING:
            assert mid in net.node(i).sidecar_models()
    for k, stem in enumerate(ids):
        job = jobs.submit(stem, make_input(stem, 200 + k), tmp)
        assert job["status"] == "completed", job
    assert net.node(NONE).sidecar_models() == set()
    assert not (net.node(NONE).models_dir / "cache").exists() or \
        not any((net.node(NONE).models_dir / "cache").iterdir())
    none_addr = net.node(NONE).consensus_address
    every = jobs.query("jobs")
    assert len(every) >= 3 + len(ids)
    for j in every:
        assert none_addr not in {c["address"] for c in j["committee"]}, j
    # It still signs blocks: it is a bonded validator that serves no model.
    assert none_addr in net.node(0).validators()
