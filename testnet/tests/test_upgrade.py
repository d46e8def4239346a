"""End-to-end: the upgrade procedure of docs/upgrade.md on a 2-validator net.
Both validators halt at height N; each exports the state at N (the two files
are identical); every node resets its CometBFT data and store and starts the
new chain from the exported genesis at N+1: balances, stake, the settled job
and the models are as they were, new jobs settle, and both nodes agree."""

import json
import shutil
import subprocess
import time

from testnet.env import cometbft_bin, verdictd_bin
from testnet.jobs import make_input
from testnet.tests.test_ops import stop_app_and_engine


def observed(net, cli, jobs, alice, job_id):
    """What an upgrade must keep: balances, validators, models, a job, the set."""
    return {
        "alice": cli.query("bank", "balances", alice),
        "faucet": cli.query("bank", "balances", "faucet"),
        "validators": cli.query("staking", "validators"),
        "models": jobs.query("models"),
        "job": jobs.query("job", str(job_id)),
        "valset": net.node(0).validators(),
    }


def halt_all(net, at):
    for node in net.nodes:
        stop_app_and_engine(node)
    for node in net.nodes:
        node.start_verdictd(extra=["--halt-height", str(at)])
    for node in net.nodes:
        node.start_cometbft()
    deadline = time.monotonic() + 90
    while any(n.pid("verdictd") for n in net.nodes) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(n.pid("verdictd") for n in net.nodes), "a validator did not halt"
    for node in net.nodes:
        stop_app_and_engine(node)


def test_halt_export_new_genesis_restart_keeps_balances_stake_and_jobs(net, cli, jobs, tmp_path, free_ports):
    free_ports(2)
    net.generate(2)
    net.start()
    assert net.wait_height([0, 1], 3, 90)
    jobs.register_models()
    alice = cli.keys_add("alice")["address"]
    cli.send("faucet", alice, "4242uverd")
    job = jobs.submit("mlp_classifier", make_input("mlp_classifier", 3), tmp_path)
    assert job["status"] == "completed", job
    before = observed(net, cli, jobs, alice, job["id"])

    halt = net.top_height([0]) + 4
    halt_all(net, halt)
    exported = []
    for node in net.nodes:
        out = tmp_path / f"genesis-{node.index}.json"
        subprocess.run([str(verdictd_bin()), "export", "--home", str(node.home), "--out", str(out)],
                       check=True, capture_output=True, text=True)
        exported.append(out.read_bytes())
    assert exported[0] == exported[1], "validators exported different genesis files"
    doc = json.loads(exported[0])
    assert doc["initial_height"] == str(halt + 1) and doc["validators"] == []

    for node in net.nodes:
        subprocess.run([str(cometbft_bin()), "unsafe-reset-all", "--home", str(node.home)],
                       check=True, capture_output=True)
        shutil.rmtree(node.home / "verdict")
        (node.home / "config" / "genesis.json").write_bytes(exported[0])
    for node in net.nodes:
        node.start_verdictd()
    for node in net.nodes:
        node.start_cometbft()
    assert net.wait_height([0, 1], halt + 3, 90), net.node(0).log_tail("cometbft", 20)
    assert int(net.node(0).rpc("status")["sync_info"]["earliest_block_height"]) == halt + 1

    after = observed(net, cli, jobs, alice, job["id"])
    assert after == before
    # The new chain attests: a job submitted now settles with both validators.
    job2 = jobs.submit("mlp_classifier", make_input("mlp_classifier", 4), tmp_path)
    assert job2["status"] == "completed" and job2["id"] > job["id"], job2
    assert len(job2["result"]["agreeing"]) == 2, job2
    # Every height both nodes have (one may be a block behind the other).
    top = min(h or 0 for h in net.heights([0, 1]))
    for h in range(halt + 1, top + 1):
        assert len(set(net.app_hashes(h))) == 1, h
