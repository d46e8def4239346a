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
import time
from datetime import datetime, timezone

from testnet import Cli, Jobs
from testnet.jobs import make_input, reference_output

LINK_STEPS = [
    "client 07-tendermint-0 of consumer-1", "client 07-tendermint-0 of verdict-1",
    "ConnOpenInit connection-0", "ConnOpenTry connection-0", "ConnOpenAck", "ConnOpenConfirm",
    "ChanOpenInit channel-0", "ChanOpenTry channel-0", "ChanOpenAck", "ChanOpenConfirm",
]


def ibc_value(net, path):
    resp = net.node(0).abci_query("store/ibc/key", path.encode())
    assert int(resp.get("code", 0)) == 0, resp
    return base64.b64decode(resp.get("value") or "")


def rfc3339_ns(t):
    """CometBFT's RFC 3339 time with up to nanoseconds → Unix ns."""
    base, _, frac = t.rstrip("Z").partition(".")
    secs = int(datetime.strptime(base, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc).timestamp())
    return secs * 1_000_000_000 + int((frac + "000000000")[:9])


def client_heights(relayer, path_file):
    st = json.loads(relayer.run("relayer", "status", "--path-file", str(path_file)).stdout)
    return {side: int(st[side]["client"]["latest_height"].split("-")[1]) for side in ("a", "b")}


def start_chains(a, b, free_ports, port_offset):
    """A's ports are VERDICT_PORT_OFFSET's; B sits 500 above them."""
    free_ports(4, offset=port_offset)
    free_ports(1, offset=port_offset + 500)
    a.generate(4, chain_id="verdict-1", port_offset=port_offset)
    b.generate(1, chain_id="consumer-1", port_offset=port_offset + 500)
    a.start()
    b.start()
    assert a.wait_height(range(4), 3, 90), "chain A did not start"
    assert b.wait_height([0], 3, 90), "chain B did not start"


def link(a, b, relayer, path_file):
    """The relayer links the chains; every handshake tx, each carrying proofs the
    other chain's client checked, succeeded in a block of the chain it was sent
    to. Returns the path file's contents."""
    r = relayer.run("relayer", "link", "--a-node", a.node(0).rpc_addr, "--b-node", b.node(0).rpc_addr,
                    "--from", "relayer", "--path-file", str(path_file), timeout=240)
    report = json.loads(r.stdout)
    path = json.loads(path_file.read_text())
    assert path["a"]["chain_id"] == "verdict-1" and path["b"]["chain_id"] == "consumer-1"
    for side in ("a", "b"):
        assert path[side]["client_id"] == "07-tendermint-0"
        assert path[side]["connection_id"] == "connection-0"
        assert path[side]["channel_id"] == "channel-0"
        assert path[side]["port_id"] == "inference"
    assert [t["step"] for t in report["txs"]] == LINK_STEPS
    for t in report["txs"]:
        net = a if t["chain_id"] == "verdict-1" else b
        res = net.node(0).rpc(f"tx?hash=0x{t['txhash']}")
        assert int(res["tx_result"].get("code", 0)) == 0, res["tx_result"]
        assert int(res["height"]) == t["height"]
    return path


def check_ends(a, b, relayer, path_file):
    """Both ends, as each chain's ibc.core query services report them (the
    relayer checks the connection and channel proofs against the next header)."""
    st = json.loads(relayer.run("relayer", "status", "--path-file", str(path_file)).stdout)
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
    for net in (a, b):
        end = ibc_value(net, "channelEnds/ports/inference/channels/channel-0")
        assert end[:2] == b"\x08\x03", end.hex()


def relay_once(relayer, path_file):
    relayer.run("relayer", "start", "--path-file", str(path_file), "--once", timeout=120)
    return json.loads(path_file.read_text())


def remote_requests(b_cli, relayer, path_file, channel, model, a_rpc, log, f):
    """With the relayer running: one request A serves, one A refuses (no such
    model: an error acknowledgement written in the receiving tx itself)."""
    p = relayer.popen("relayer", "start", "--path-file", str(path_file), "--interval", "0.5", log=log)
    try:
        b_cli.run("--output", "json", "tx", "inference", "request-remote", "--from", "faucet",
                  "--channel", channel, "--model", model, "--input", str(f), "--serving-node", a_rpc,
                  "--fee", "10000uverd", "--wait", "--wait-seconds", "120", timeout=180)
        b_cli.run("--output", "json", "tx", "inference", "request-remote", "--from", "faucet",
                  "--channel", channel, "--model", "ab" * 32, "--input", str(f), "--fee", "10000uverd",
                  "--wait", "--wait-seconds", "120", timeout=180, codes=(2,))  # 2: request failed
    finally:
        p.terminate()
        p.wait(timeout=10)


def remote_inference(a, b, relayer, path, path_file, tmp_path):
    """B requests an inference from A over the channel. A serves it from the
    channel's payer account, funded by a plain bank send. Returns (input file,
    model ids)."""
    a_cli, b_cli = a.cli(timeout=60), b.cli(timeout=60)
    ids = Jobs(a).register_models()
    payer = a_cli.query("inference", "channel-payer", "--channel", path["a"]["channel_id"])
    a_cli.send("faucet", payer["address"], "1000000uverd")
    stem = "mlp_classifier"
    inp = make_input(stem, 7)
    f = tmp_path / "input.json"
    f.write_text(json.dumps(inp))
    remote_requests(b_cli, relayer, path_file, path["b"]["channel_id"], ids[stem], a.node(0).rpc_addr,
                    tmp_path / "relayer.log", f)
    relayer_log = (tmp_path / "relayer.log").read_text()
    res = b_cli.query("inference", "remote-result", "--channel", path["b"]["channel_id"], "1")
    assert res["status"] == "completed", f"{res}\nrelayer log:\n{relayer_log}"
    # The output A's committee settled is what Python onnxruntime computes, within
    # one quantum of the model's tolerance.
    ref = reference_output(stem, inp)
    got = [float(x) for x in res["output_values"]]
    tol = float(res["result"]["tolerance"])
    assert len(got) == len(ref)
    assert max(abs(x - y) for x, y in zip(got, ref)) <= tol, (got, ref)
    refused = b_cli.query("inference", "remote-result", "--channel", path["b"]["channel_id"], "2")
    assert refused["status"] == "failed" and "model" in refused["error"], refused
    # The request was received on A (a job paid by the payer) and the relayer
    # bookkeeping is empty again: nothing pending either way.
    assert payer["balance"] != a_cli.query("inference", "channel-payer",
                                           "--channel", path["a"]["channel_id"])["balance"]
    return f, ids[stem]


def timeout_unrelayed(a, b, relayer, path, path_file, f, model):
    """A request sent while no relayer runs, with a 2 s timeout: once A's blocks are
    past it, one relaying pass proves on B that A never received it (no receipt
    at that height) and B refunds the fee."""
    b_cli = b.cli(timeout=60)
    b_cli.run("--output", "json", "tx", "inference", "request-remote", "--from", "faucet",
              "--channel", path["b"]["channel_id"], "--model", model, "--input", str(f),
              "--serving-node", a.node(0).rpc_addr, "--fee", "10000uverd", "--timeout-seconds", "2")
    late = b_cli.query("inference", "remote-result", "--channel", path["b"]["channel_id"], "3")
    assert late["status"] == "pending", late
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        t = a.node(0).rpc("status")["sync_info"]["latest_block_time"]
        if rfc3339_ns(t) > late["timeout_timestamp_nanos"] + 1_000_000_000:
            break
        time.sleep(0.5)
    relay_once(relayer, path_file)
    late = b_cli.query("inference", "remote-result", "--channel", path["b"]["channel_id"], "3")
    assert late["status"] == "timed_out", late
    receipt = ibc_value(a, f"receipts/ports/inference/channels/{path['a']['channel_id']}/sequences/3")
    assert receipt == b"", "A never received it"
    done = json.loads(path_file.read_text())
    assert done["b"]["pending_recv"] == [], done["b"]


def refresh_on_a_quiet_channel(relayer, path_file, log):
    """On a quiet channel the running relayer keeps both clients from expiring
    (trusting period 80 s here): it updates each once its newest consensus
    state is a third of that old."""
    before = client_heights(relayer, path_file)
    p = relayer.popen("relayer", "start", "--path-file", str(path_file), "--interval", "1", log=log)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            now = client_heights(relayer, path_file)
            if all(now[s] > before[s] for s in now):
                break
            time.sleep(2)
    finally:
        p.terminate()
        p.wait(timeout=10)
    quiet_log = log.read_text()
    assert all(now[s] > before[s] for s in now), f"{before} -> {now}\n{quiet_log}"
    assert quiet_log.count("refreshed 07-tendermint-0") >= 2, quiet_log


def test_the_relayer_links_two_nets_and_relays_a_remote_inference_request_and_its_result(
        chains, tmp_path, free_ports, port_offset):
    a, b = chains
    start_chains(a, b, free_ports, port_offset)

    # One relayer key, funded on both chains from each chain's faucet.
    relayer = Cli(keyring=tmp_path / "relayer-keys", timeout=60)
    addr = relayer.keys_add("relayer")["address"]
    for net in (a, b):
        net.cli(timeout=60).send("faucet", addr, "50000000uverd")

    path_file = tmp_path / "path.json"
    path = link(a, b, relayer, path_file)
    check_ends(a, b, relayer, path_file)

    # One relaying pass over the new heights of both chains: nothing to relay,
    # progress saved.
    before = json.loads(path_file.read_text())
    after = relay_once(relayer, path_file)
    for side in ("a", "b"):
        assert after[side]["relayed_height"] > before[side]["relayed_height"]
        assert after[side]["pending_recv"] == [] and after[side]["pending_acks"] == []

    f, model = remote_inference(a, b, relayer, path, path_file, tmp_path)
    # The relayer was stopped at an arbitrary moment (maybe between delivering the
    # acknowledgement and saving that it did): a restart finds the work done and
    # relays nothing twice.
    done = relay_once(relayer, path_file)
    for side in ("a", "b"):
        assert done[side]["pending_recv"] == [] and done[side]["pending_acks"] == [], done

    timeout_unrelayed(a, b, relayer, path, path_file, f, model)
    refresh_on_a_quiet_channel(relayer, path_file, tmp_path / "relayer-quiet.log")
