"""SIGN_MODE_LEGACY_AMINO_JSON end to end: stock cosmjs with an amino-only signer
(Secp256k1HdWallet, as Keplr and Ledger sign) and Verdict's amino converters
sends, delegates and submits an inference job on a real 4-validator net; the
CLI sees the results, and the job settles with the output Python onnxruntime
gives. A tx signed under an amino name the chain does not use is refused."""

import json
import time

from testnet.jobs import make_input, model_ids

from .test_e2e import cosmjs
from .test_inference import check_output

SETTLED = ("completed", "failed", "expired")


def wait_job(jobs, job_id, timeout=90):
    """The job once settled (or as it is when `timeout` runs out)."""
    deadline = time.monotonic() + timeout
    while True:
        job = jobs.query("job", str(job_id))
        if job["status"] in SETTLED or time.monotonic() > deadline:
            return job
        time.sleep(0.5)


def test_cosmjs_amino_signer_sends_delegates_and_submits_a_job(net, cli, jobs, tmp_path, free_ports):
    n = 4
    free_ports(n)
    net.generate(n)
    net.start()
    assert net.wait_height(range(n), 3, 90)
    jobs.register_models()
    alice = cli.keys_add("alice")["address"]
    valoper = jobs.valopers()[0]
    faucet = cli.address("faucet")
    inp = make_input("mlp_classifier", 11)
    inp_file = tmp_path / "input.json"
    inp_file.write_text(json.dumps(inp))

    res = cosmjs("amino.mjs", net.node(0).rpc_url, str(net.faucet_mnemonic), alice, valoper,
                 model_ids()["mlp_classifier"], str(inp_file), timeout=240)
    print(res)
    # cosmjs derived the faucet's address and every tx went in as LEGACY_AMINO_JSON (127).
    assert res["sender"] == faucet
    assert res["amino"] and res["modes"] == [127, 127, 127], res["modes"]

    # The CLI sees the send and the delegation.
    assert cli.run("query", "bank", "balances", "alice").stdout.strip() == "777uverd"
    assert res["recipientBalance"] == "777"
    # (the faucet had no delegation before)
    assert cli.run("query", "staking", "delegation", "faucet", valoper).stdout.strip() == "3000000uverd"
    # The signed memo, with its <&>, is the memo of the tx on chain.
    assert res["memos"] == ["amino <send> & co", "amino delegate", "amino job"], res["memos"]

    # The job settles with the reference output.
    job = wait_job(jobs, res["jobId"])
    assert job["requester"] == faucet
    assert job["submitted_height"] == res["jobHeight"]
    check_output("mlp_classifier", inp, job)

    # Signed under "verdict/MsgSubmitJobX", the chain's document differs: refused
    # in CheckTx as unauthorized.
    wrong = res["wrongName"]
    assert wrong["refused"], wrong
    assert "signature verification failed" in wrong["log"] and "unauthorized" in wrong["log"], wrong
    assert len(jobs.query("jobs")) == 1
