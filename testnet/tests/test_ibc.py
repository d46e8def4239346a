"""IBC end to end: two real nets side by side (chain A `verdict-1`, four
validators with sidecars; chain B `consumer-1`, one validator), linked by the
in-repo relayer (`verdict relayer`) with real 07-tendermint clients, the ICS-03
connection and the ICS-04 `inference` channel handshakes, every proof taken from
`store/ibc/key` and checked by the counterparty chain. Then B asks A for an
inference over the channel: the relayer carries the request packet to A, A's
committee runs the job, and the relayer brings the asynchronous acknowledgement
(written in A's FinalizeBlock) back to B. A request that nobody relays before
its timeout is timed out on B by the relayer with a proof that A has no receipt,
and on a quiet channel the running relayer refreshes both clients."""

import base64
import json
import os
import subprocess
import time

import pytest

import jobs
import net
from conftest import require_free_ports

# A's ports are VERDICT_PORT_OFFSET's; B sits 500 above them.
OFFSET_A = int(os.environ.get("VERDICT_PORT_OFFSET", "0"))
OFFSET_B = OFFSET_A + 500

LINK_STEPS = [
    "client 07-tendermint-0 of consumer-1", "client 07-tendermint-0 of verdict-1",
    "ConnOpenInit connection-0", "ConnOpenTry connection-0", "ConnOpenAck", "ConnOpenConfirm",
    "ChanOpenInit channel-0", "ChanOpenTry channel-0", "ChanOpenAck", "ChanOpenConfirm",
]


@pytest.fixture
def chains(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    yield a, b
    try:
        net.stop(a)
    finally:
        net.stop(b)
        if os.environ.get("E2E_KEEP"):
            print(f"kept {tmp_path}")


def verdict(keyring, *args, timeout=60, codes=(0,)):
    r = subprocess.run([str(net.verdict_bin()), "--keyring-dir", str(keyring), *args],
                       capture_output=True, text=True, timeout=timeout)
    assert r.returncode in codes, f"verdict {' '.join(args)}:\n{r.stdout}\n{r.stderr}"
    return r


def rpc_addr(out):
    return net.node_meta(out, 0)["rpc"]


def ibc_value(out, path):
    q = net.rpc(out, 0, f'abci_query?path="store/ibc/key"&data=0x{path.encode().hex()}')
    resp = q["response"]
    assert int(resp.get("code", 0)) == 0, resp
    return base64.b64decode(resp.get("value") or "")


def test_the_relayer_links_two_nets_and_relays_a_remote_inference_request_and_its_result(chains, tmp_path):
    a, b = chains
    require_free_ports(4, offset=OFFSET_A)
    require_free_ports(1, offset=OFFSET_B)
    net.generate(4, a, chain_id="verdict-1", port_offset=OFFSET_A)
    net.generate(1, b, chain_id="consumer-1", port_offset=OFFSET_B)
    net.start(a)
    net.start(b)
    assert net.wait_height(a, list(range(4)), 3, 90), "chain A did not start"
    assert net.wait_height(b, [0], 3, 90), "chain B did not start"

    # One relayer key, funded on both chains from each chain's faucet.
    keys = tmp_path / "relayer-keys"
    addr = json.loads(verdict(keys, "--output", "json", "keys", "add", "relayer").stdout)["address"]
    for out in (a, b):
        verdict(out / "keyring", "--node", rpc_addr(out), "tx", "bank", "send", "faucet", addr,
                "50000000uverd")

    path_file = tmp_path / "path.json"
    r = verdict(keys, "relayer", "link", "--a-node", rpc_addr(a), "--b-node", rpc_addr(b),
                "--from", "relayer", "--path-file", str(path_file), timeout=240)
    report = json.loads(r.stdout)
    path = json.loads(path_file.read_text())
    assert path["a"]["chain_id"] == "verdict-1" and path["b"]["chain_id"] == "consumer-1"
    for side in ("a", "b"):
        assert path[side]["client_id"] == "07-tendermint-0"
        assert path[side]["connection_id"] == "connection-0"
        assert path[side]["channel_id"] == "channel-0"
        assert path[side]["port_id"] == "inference"

    # Every handshake tx, each carrying proofs the other chain's client checked,
    # succeeded in a block of the chain it was sent to.
    assert [t["step"] for t in report["txs"]] == LINK_STEPS
    for t in report["txs"]:
        out = a if t["chain_id"] == "verdict-1" else b
        res = net.rpc(out, 0, f"tx?hash=0x{t['txhash']}")
        assert int(res["tx_result"].get("code", 0)) == 0, res["tx_result"]
        assert int(res["height"]) == t["height"]

    # Both ends, as each chain's ibc.core query services report them (the
    # relayer checks the connection and channel proofs against the next header).
    st = json.loads(verdict(keys, "relayer", "status", "--path-file", str(path_file)).stdout)
    for me, other in (("a", "b"), ("b", "a")):
        s, o = st[me], st[other]
        assert s["client"]["status"] == "Active"
        assert s["client"]["chain_id"] == o["chain_id"]
        # The counterparty's own unbonding period (local nets: 120 s), trusting below it.
        assert s["client"]["unbonding_period_s"] == 120
        assert 0 < s["client"]["trusting_period_s"] < 120
        assert s["connection"]["state"] == "STATE_OPEN"
        assert s["connection"]["client_id"] == s["client"]["id"]
        assert s["connection"]["counterparty_client_id"] == o["client"]["id"]
        assert s["connection"]["counterparty_connection_id"] == o["connection"]["id"]
        assert s["channel"]["state"] == "STATE_OPEN"
        assert s["channel"]["ordering"] == "ORDER_UNORDERED"
        assert s["channel"]["version"] == "verdict-inference-1"
        assert s["channel"]["connection_hops"] == [s["connection"]["id"]]
        assert s["channel"]["counterparty_port_id"] == "inference"
        assert s["channel"]["counterparty_channel_id"] == o["channel"]["id"]

    # Independently of the CLI: the raw channel ends start with field 1 = 3 (OPEN).
    for out in (a, b):
        end = ibc_value(out, "channelEnds/ports/inference/channels/channel-0")
        assert end[:2] == b"\x08\x03", end.hex()

    # One relaying pass over the new heights of both chains: nothing to relay,
    # progress saved.
    before = json.loads(path_file.read_text())
    verdict(keys, "relayer", "start", "--path-file", str(path_file), "--once", timeout=120)
    after = json.loads(path_file.read_text())
    for side in ("a", "b"):
        assert after[side]["relayed_height"] > before[side]["relayed_height"]
        assert after[side]["pending_recv"] == [] and after[side]["pending_acks"] == []

    # B requests an inference from A over the channel. A serves it from the
    # channel's payer account, funded by a plain bank send.
    ids = jobs.register_models(a)
    payer = json.loads(verdict(a / "keyring", "--node", rpc_addr(a), "--output", "json", "query",
                               "inference", "channel-payer", "--channel", path["a"]["channel_id"]).stdout)
    verdict(a / "keyring", "--node", rpc_addr(a), "tx", "bank", "send", "faucet", payer["address"],
            "1000000uverd")
    log = open(tmp_path / "relayer.log", "w")
    relayer = subprocess.Popen([str(net.verdict_bin()), "--keyring-dir", str(keys), "relayer", "start",
                                "--path-file", str(path_file), "--interval", "0.5"],
                               stdout=log, stderr=subprocess.STDOUT)
    try:
        stem = "mlp_classifier"
        inp = jobs.make_input(stem, 7)
        f = tmp_path / "input.json"
        f.write_text(json.dumps(inp))
        verdict(b / "keyring", "--node", rpc_addr(b), "--output", "json", "tx", "inference",
                "request-remote", "--from", "faucet", "--channel", path["b"]["channel_id"],
                "--model", ids[stem], "--input", str(f), "--serving-node", rpc_addr(a),
                "--fee", "10000uverd", "--wait", "--wait-seconds", "120", timeout=180)
        # A request A refuses (no such model) is answered by an error
        # acknowledgement written in the receiving tx itself: relayed back too.
        verdict(b / "keyring", "--node", rpc_addr(b), "--output", "json", "tx", "inference",
                "request-remote", "--from", "faucet", "--channel", path["b"]["channel_id"],
                "--model", "ab" * 32, "--input", str(f), "--fee", "10000uverd",
                "--wait", "--wait-seconds", "120", timeout=180, codes=(2,))  # 2: request failed
    finally:
        relayer.terminate()
        relayer.wait(timeout=10)
        log.close()
    relayer_log = (tmp_path / "relayer.log").read_text()
    res = json.loads(verdict(b / "keyring", "--node", rpc_addr(b), "--output", "json", "query",
                             "inference", "remote-result", "--channel", path["b"]["channel_id"], "1").stdout)
    assert res["status"] == "completed", f"{res}\nrelayer log:\n{relayer_log}"
    # The output A's committee settled is what Python onnxruntime computes, within
    # one quantum of the model's tolerance.
    ref = jobs.reference_output(stem, inp)
    got = [float(x) for x in res["output_values"]]
    tol = float(res["result"]["tolerance"])
    assert len(got) == len(ref)
    assert max(abs(x - y) for x, y in zip(got, ref)) <= tol, (got, ref)
    refused = json.loads(verdict(b / "keyring", "--node", rpc_addr(b), "--output", "json", "query",
                                 "inference", "remote-result", "--channel", path["b"]["channel_id"],
                                 "2").stdout)
    assert refused["status"] == "failed" and "model" in refused["error"], refused
    # The request was received on A (a job paid by the payer) and the relayer
    # bookkeeping is empty again: nothing pending either way.
    assert payer["balance"] != json.loads(verdict(
        a / "keyring", "--node", rpc_addr(a), "--output", "json", "query", "inference",
        "channel-payer", "--channel", path["a"]["channel_id"]).stdout)["balance"]
    # The relayer was stopped at an arbitrary moment (maybe between delivering the
    # acknowledgement and saving that it did): a restart finds the work done and
    # relays nothing twice.
    verdict(keys, "relayer", "start", "--path-file", str(path_file), "--once", timeout=120)
    done = json.loads(path_file.read_text())
    for side in ("a", "b"):
        assert done[side]["pending_recv"] == [] and done[side]["pending_acks"] == [], done

    # A request sent while no relayer runs, with a 2 s timeout: once A's blocks are
    # past it, one relaying pass proves on B that A never received it (no receipt
    # at that height) and B refunds the fee.
    verdict(b / "keyring", "--node", rpc_addr(b), "--output", "json", "tx", "inference",
            "request-remote", "--from", "faucet", "--channel", path["b"]["channel_id"],
            "--model", ids[stem], "--input", str(f), "--serving-node", rpc_addr(a),
            "--fee", "10000uverd", "--timeout-seconds", "2")
    late = json.loads(verdict(b / "keyring", "--node", rpc_addr(b), "--output", "json", "query",
                              "inference", "remote-result", "--channel", path["b"]["channel_id"], "3").stdout)
    assert late["status"] == "pending", late
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        t = net.rpc(a, 0, "status")["sync_info"]["latest_block_time"]
        if rfc3339_ns(t) > late["timeout_timestamp_nanos"] + 1_000_000_000:
            break
        time.sleep(0.5)
    verdict(keys, "relayer", "start", "--path-file", str(path_file), "--once", timeout=120)
    late = json.loads(verdict(b / "keyring", "--node", rpc_addr(b), "--output", "json", "query",
                              "inference", "remote-result", "--channel", path["b"]["channel_id"], "3").stdout)
    assert late["status"] == "timed_out", late
    receipt = ibc_value(a, f"receipts/ports/inference/channels/{path['a']['channel_id']}/sequences/3")
    assert receipt == b"", "A never received it"
    done = json.loads(path_file.read_text())
    assert done["b"]["pending_recv"] == [], done["b"]

    # On a quiet channel the running relayer keeps both clients from expiring
    # (trusting period 80 s here): it updates each once its newest consensus
    # state is a third of that old.
    before = client_heights(keys, path_file)
    log = open(tmp_path / "relayer-quiet.log", "w")
    relayer = subprocess.Popen([str(net.verdict_bin()), "--keyring-dir", str(keys), "relayer", "start",
                                "--path-file", str(path_file), "--interval", "1"],
                               stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            now = client_heights(keys, path_file)
            if all(now[s] > before[s] for s in now):
                break
            time.sleep(2)
    finally:
        relayer.terminate()
        relayer.wait(timeout=10)
        log.close()
    quiet_log = (tmp_path / "relayer-quiet.log").read_text()
    assert all(now[s] > before[s] for s in now), f"{before} -> {now}\n{quiet_log}"
    assert quiet_log.count("refreshed 07-tendermint-0") >= 2, quiet_log


def rfc3339_ns(t):
    """CometBFT's RFC 3339 time with up to nanoseconds → Unix ns."""
    from datetime import datetime, timezone
    base, _, frac = t.rstrip("Z").partition(".")
    secs = int(datetime.strptime(base, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc).timestamp())
    return secs * 1_000_000_000 + int((frac + "000000000")[:9])


def client_heights(keys, path_file):
    st = json.loads(verdict(keys, "relayer", "status", "--path-file", str(path_file)).stdout)
    return {side: int(st[side]["client"]["latest_height"].split("-")[1]) for side in ("a", "b")}
