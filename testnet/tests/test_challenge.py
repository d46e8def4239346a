"""Issue 21 §1 on a real 7-validator CometBFT net with real sidecars: two
colluding `wrong` sidecars (they lie the same way) are the only validators
serving a model when a job is drawn, so its committee of 2 seats is theirs and
the job completes with their wrong output, provisional. The other five then
declare serving it; a challenger posts the bond, the re-run committee of 5 is
drawn without the two (the others hold 5/7 of the stake), finds the result
wrong and overturns it: the two are slashed, the requester refunded and
compensated from the insurance pool, the challenger repaid and rewarded, and
the job's result is the one Python onnxruntime gives, final."""

import time

from testnet import parse_faults
from testnet.jobs import make_input, reference_output

STEM = "mlp_classifier"
TOKENS = "token_embed"


def poll(what, f, timeout=120, every=0.5):
    """f() until it returns something truthy; fails after `timeout` seconds."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = f()
        if v:
            return v
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}")


def worst_error(job, inp):
    ref = reference_output(STEM, inp)
    got = [float(x) for x in job["output"]]
    assert len(got) == len(ref), (got, ref)
    return max(abs(a - b) for a, b in zip(got, ref))


def test_a_challenge_overturns_a_job_two_colluding_sidecars_captured(net, jobs, tmp_path, free_ports):
    n = 7
    free_ports(n)
    net.generate(n, inference={"committee_size": 2, "challenge_committee_size": 5,
                               "challenge_window_blocks": 80})
    net.start(parse_faults("0:wrong,1:wrong"))
    assert net.wait_height(range(n), 3, 120)
    addr = {node.index: node.consensus_address for node in net.nodes}
    liars = {addr[0], addr[1]}
    ids = jobs.register_models(serve=False)
    mlp = ids[STEM]
    jobs.serve_when_ready([mlp], nodes=[0, 1])

    inp = make_input(STEM, 21)
    jid = jobs.submit(STEM, inp, tmp_path, wait=False)["job_id"]
    job = poll("the committee", lambda: (j := jobs.query("job", str(jid)))["committee"] and j)
    assert {m["address"] for m in job["committee"]} <= liars, job["committee"]
    # Drawn: the honest five now serve the model too (the committee stays),
    # and token_embed.
    jobs.serve_when_ready([mlp, ids[TOKENS]], nodes=range(2, n))
    job = poll("settlement", lambda: (j := jobs.query("job", str(jid)))["status"] != "pending"
               and j.get("result") and j)
    assert job["status"] == "completed", job
    assert job["finality"] == "provisional", job
    tol = float(job["tolerance"])
    assert worst_error(job, inp) > 8 * tol, "the captured result is wrong"
    assert jobs.query("faults") == []

    challenger = jobs.cli.keys_add("challenger")["address"]
    jobs.cli.send("faucet", challenger, "10000000uverd")
    done = jobs.cli.json("tx", "inference", "challenge", str(jid), "--from", "challenger",
                         "--wait", "--wait-seconds", "180")
    assert done["status"] == "overturned", done
    assert done["finality"] == "final", done
    c = done["challenge"]
    assert c["outcome"] == "overturned", c
    # The result is now the honest re-run's: what Python onnxruntime gives.
    assert worst_error(done, inp) <= tol, done["output"]
    rerun = jobs.query("job", str(c["rerun_job_id"]))
    assert rerun["challenge_of"] == jid
    assert not {m["address"] for m in rerun["committee"]} & liars, rerun["committee"]

    # Both liars slashed for this job's wrong output, into the insurance pool.
    faults = [f for f in jobs.query("faults") if f["job_id"] == jid]
    assert {f["address"] for f in faults} == liars, faults
    assert all(f["kind"] == "wrong_output" and int(f["slashed"]) > 0 for f in faults), faults
    ev = jobs.block_events(c["resolved_height"])
    pays = [e["attrs"] for e in ev if e["type"] == "inference_challenge_payout"]
    by = {(p["to"], p["what"]): int(p["amount"].removesuffix("uverd")) for p in pays}
    fee = int(done["fee"]["amount"])
    requester = done["requester"]
    assert by[(requester, "refund")] == fee, pays
    assert 0 < by[(requester, "compensation")] <= 10 * fee, pays
    assert by[(challenger, "bond")] == int(c["bond"]["amount"]), pays
    assert by[(challenger, "reward")] == int(c["reward"]) > 0, pays
    slashed = [e["attrs"] for e in ev if e["type"] == "slash"]
    assert {s["address"] for s in slashed} == liars, slashed

    # An honest result survives a challenge: the re-run agrees, the bond pays
    # the members, nobody is slashed.
    inp2 = make_input(TOKENS, 5)
    honest = jobs.submit(TOKENS, inp2, tmp_path)
    assert honest["status"] == "completed" and not set(honest["result"]["agreeing"]) & liars, honest
    kept = jobs.cli.json("tx", "inference", "challenge", str(honest["id"]), "--from", "challenger",
                         "--wait", "--wait-seconds", "180")
    assert kept["challenge"]["outcome"] == "upheld", kept
    assert kept["status"] == "completed" and kept["finality"] == "final", kept
    assert kept["output"] == honest["output"]
    assert not [f for f in jobs.query("faults") if f["job_id"] == honest["id"]]

    # Every node agrees on every block.
    top = net.top_height()
    assert net.wait_height(range(n), top, 60)
    for h in range(1, top + 1):
        assert len(set(net.app_hashes(h))) == 1, h
