"""End-to-end: real CometBFT v0.38 processes drive real verdictd processes over
ABCI sockets, with state in sled on disk."""

import json
import os
import random
import signal
import subprocess
import threading
import time
import urllib.request
from decimal import Decimal

from testnet import ROOT, Cli, NetError, parse_faults, wait_port


def test_four_validators_agree_at_every_height_and_survive_sigkill_at_random_moments(net, free_ports):
    n = 4
    free_ports(n)
    net.generate(n)
    net.start()
    assert net.wait_height(range(n), 20, 120), "net did not reach height 20"
    net.assert_agreement(20)
    # Every block above 1 carries tx[0] with the previous height's extensions.
    blk = net.node(0).block(5)
    assert len(blk["data"]["txs"]) == 1

    seed = int(os.environ.get("E2E_SEED", time.time_ns() % 1_000_000))
    rng = random.Random(seed)
    print(f"kill/restart seed {seed}")
    kills = 0
    for round_ in range(int(os.environ.get("E2E_KILLS", "6"))):
        node = rng.randrange(n)
        target = rng.choice(["verdictd", "cometbft", "both"])
        time.sleep(rng.uniform(0.0, 1.5))
        procs = ["verdictd", "cometbft"] if target == "both" else [target]
        for p in procs:
            assert net.kill(node, p, signal.SIGKILL), f"node{node} {p} was not running"
        kills += 1
        time.sleep(rng.uniform(0.2, 1.0))
        net.restart(node)
        top = net.top_height(i for i in range(n) if i != node)
        assert net.wait_height([node], top + 1, 90), (
            f"round {round_}: node{node} ({target} killed) did not catch up to {top + 1}")
    assert kills >= 5
    final = net.top_height() + 3
    assert net.wait_height(range(n), final, 90)
    net.assert_agreement(final)
    # The apps themselves (not only CometBFT's headers) are at the same height and hash.
    hs = [node.app_height() for node in net.nodes]
    assert max(hs) - min(hs) <= 2, hs


def test_a_node_killed_with_a_block_in_flight_to_disk_replays_it_and_agrees(net, free_ports):
    """Commit returns before the block is on disk (the store's writer thread puts
    it there): a node killed then restarts with its app a block behind
    CometBFT's state, the handshake replays the block, and the node agrees at
    every height. The window is milliseconds wide, so the node runs with every
    write delayed (VERDICT_STORE_WRITE_DELAY_MS, a test hook) to be killed in it."""
    n, slow = 4, 3
    free_ports(n)
    net.generate(n)
    net.start()
    assert net.wait_height(range(n), 5, 120), "net did not reach height 5"
    for p in ("verdictd", "cometbft"):
        assert net.kill(slow, p, signal.SIGKILL)
    time.sleep(1.0)  # the killed processes' ports are released
    os.environ["VERDICT_STORE_WRITE_DELAY_MS"] = "2500"
    try:
        net.restart(slow)
    finally:
        del os.environ["VERDICT_STORE_WRITE_DELAY_MS"]
    # Each Commit now waits for the write before it: the node commits a block
    # every ~2.5 s, and one is in flight nearly all the time.
    deadline = time.monotonic() + 60
    while (h0 := net.node(slow).height()) is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert h0 is not None, "the slowed node's RPC did not come up"
    assert net.wait_height([slow], h0 + 2, 60), "the slowed node made no progress"
    log = net.node(slow).log_file("cometbft")
    mark = log.stat().st_size
    for p in ("verdictd", "cometbft"):
        assert net.kill(slow, p, signal.SIGKILL)
    time.sleep(1.0)
    net.restart(slow)
    top = net.top_height(i for i in range(n) if i != slow)
    assert net.wait_height([slow], top + 1, 90), "the node did not catch up"
    with open(log, "rb") as f:
        f.seek(mark)
        replay = [line for line in f.read().decode(errors="replace").splitlines()
                  if "ABCI Replay Blocks" in line]
    assert replay, "no handshake after the restart"
    fields = dict(kv.split("=", 1) for kv in replay[-1].split() if "=" in kv)
    app, state = int(fields["appHeight"]), int(fields["stateHeight"])
    assert app < state, f"no block was lost in flight: {replay[-1]}"
    final = net.top_height() + 2
    assert net.wait_height(range(n), final, 90)
    net.assert_agreement(final)


def test_a_single_validator_net_produces_blocks(net, free_ports):
    free_ports(1)
    net.generate(1)
    net.start(parse_faults("0:slow=50"))
    assert net.wait_height([0], 5, 60)
    node = net.node(0)
    # The node's sidecar runs with the requested test fault and serves metrics.
    assert (node.home / "sidecar.fault").read_text() == "slow=50"
    with urllib.request.urlopen(f"http://{node.metrics_addr}/metrics", timeout=5) as r:
        assert b"verdict_sidecar" in r.read()
    net.assert_agreement(5)
    # The CLI reads state and checks its proof against the next block's header.
    cli = Cli(node=node)
    r = cli.run("status")
    assert "chain verdict-local" in r.stdout
    r = cli.run("query", "store", "app/chain_id", "--prove", "--height", "3", check=False)
    assert r.returncode == 0, r.stderr
    assert '"verdict-local"' in r.stdout and "proof verified against app hash" in r.stdout
    r = cli.at("127.0.0.1:1").run("status", check=False)
    assert r.returncode == 1 and "node unreachable at http://127.0.0.1:1" in r.stderr


def test_generator_emits_configs_for_separate_hosts(net):
    hosts = ["val-a.example", "val-b.example", "val-c.example"]
    net.generate(3, hosts=hosts)
    cfg = (net.node(1).home / "config" / "config.toml").read_text()
    assert 'external_address = "val-b.example:26656"' in cfg
    assert "@val-a.example:26656" in cfg and "@val-c.example:26656" in cfg
    assert 'laddr = "tcp://0.0.0.0:26656"' in cfg
    assert 'indexer = "kv"' in cfg
    assert (net.node(2).home / "run.sh").exists()
    g = (net.node(0).home / "config" / "genesis.json").read_text()
    assert '"vote_extensions_enable_height": "1"' in g and '"chain_id": "verdict-local"' in g


def test_bad_genesis_locked_dir_and_busy_port_give_one_line_errors(net, bin_dir):
    verdictd = str(bin_dir / "verdictd")

    def run_verdictd(home, abci, timeout=10):
        return subprocess.run([verdictd, "start", "--home", str(home), "--abci", abci],
                              capture_output=True, text=True, timeout=timeout)

    net.generate(1)
    home = net.node(0).home
    gen = home / "config" / "genesis.json"
    good = gen.read_text()

    gen.write_text("{ not json")
    r = run_verdictd(home, "127.0.0.1:0")
    assert r.returncode == 1 and str(gen) in r.stderr and "not valid JSON" in r.stderr, r.stderr
    assert r.stderr.count("\n") == 1
    gen.write_text(good.replace('"max_vote_extension_bytes": 8192', '"max_vote_extension_bytes": 0'))
    r = run_verdictd(home, "127.0.0.1:0")
    assert r.returncode == 1 and "max_vote_extension_bytes" in r.stderr, r.stderr
    gen.write_text(good)
    assert gen.read_text() == good

    # The data directory is held by a running verdictd.
    port = 26658 + 100 * 7
    holder = subprocess.Popen([verdictd, "start", "--home", str(home), "--abci",
                               f"127.0.0.1:{port}"], stderr=subprocess.DEVNULL)
    try:
        assert wait_port(port)
        r = run_verdictd(home, "127.0.0.1:0")
        assert r.returncode == 1 and "in use by another process" in r.stderr, r.stderr
        # And a port that is taken is named.
        other = net.out / "other"
        other.mkdir()
        (other / "config").mkdir()
        (other / "config" / "genesis.json").write_text(good)
        r = run_verdictd(other, f"127.0.0.1:{port}")
        assert r.returncode == 1 and f"127.0.0.1:{port}" in r.stderr, r.stderr
    finally:
        holder.kill()
        holder.wait()


def test_bad_faults_are_named():
    for bad in ("1:broken", "x:wrong", "1:slow=", "1wrong"):
        try:
            parse_faults(bad)
        except NetError as e:
            assert bad.split(",")[0] in str(e)
        else:
            raise AssertionError(f"{bad} accepted")
    assert parse_faults("1:wrong,2:slow=3000") == {1: "wrong", 2: "slow=3000"}


def test_missing_cometbft_is_reported_by_the_harness(net, monkeypatch):
    monkeypatch.setenv("COMETBFT", str(net.out / "no-such-cometbft"))
    try:
        net.generate(1)
    except NetError as e:
        assert "cometbft binary not found" in str(e) and "make setup" in str(e)
    else:
        raise AssertionError("generate succeeded without cometbft")


def cosmjs(script, *args, timeout=120):
    """A script of clients/cosmjs under node: its last line of output, parsed."""
    js = subprocess.run(["node", str(ROOT / "clients" / "cosmjs" / script), *args],
                        capture_output=True, text=True, timeout=timeout)
    assert js.returncode == 0, js.stderr
    return json.loads(js.stdout.strip().splitlines()[-1])


def keys_send_and_query(net, cli):
    """keys → send → query, as a person would; returns alice's key."""
    add = cli.keys_add("alice")
    assert len(add["mnemonic"].split()) == 24 and add["address"].startswith("verdict1")
    assert oct((net.keyring / "alice.json").stat().st_mode & 0o777) == "0o600"
    rec = cli.offline().run("--output", "json", "keys", "recover", "alice-again",
                            input=add["mnemonic"] + "\n", check=False)
    assert rec.returncode == 0 and json.loads(rec.stdout)["address"] == add["address"], rec.stderr
    sent = cli.send("faucet", add["address"], "2500000uverd", "--gas", "auto")
    assert "code 0" in sent.stdout and "txhash" in sent.stdout, sent.stdout
    txhash = sent.stdout.split()[1]
    assert cli.run("query", "bank", "balances", "alice").stdout.strip() == "2500000uverd"
    acct = cli.query("auth", "account", "faucet")
    assert acct["sequence"] == 1 and acct["pub_key"]
    q = cli.query("tx", txhash)
    assert q["code"] == 0 and int(q["height"]) >= 2
    # Errors name the problem.
    bad = cli.send("alice", add["address"][:-1] + ("q" if add["address"][-1] != "q" else "p"),
                   "1uverd", check=False)
    assert bad.returncode == 1 and "bad bech32 checksum" in bad.stderr, bad.stderr
    poor = cli.send("alice", add["address"], "999999999999uverd", check=False)
    assert poor.returncode == 1 and "insufficient funds" in poor.stderr, poor.stderr
    assert "has 2500000uverd, needs" in poor.stderr and "fee" in poor.stderr, poor.stderr
    return add


def cosmjs_send(net, cli, alice):
    """Stock cosmjs: DirectSecp256k1HdWallet + SigningStargateClient + StargateClient."""
    res = cosmjs("send.mjs", net.node(0).rpc_url, str(net.faucet_mnemonic), alice)
    assert res["chainId"] == "verdict-local"
    # cosmjs derived the same address from the faucet mnemonic as our keyring did
    # (BIP39 → m/44'/118'/0'/0/0 → bech32 verdict): an independent check of the HD path.
    assert res["sender"] == cli.address("faucet")
    assert int(res["after"]) - int(res["before"]) == 12345 + 1000
    assert res["msgResponses"] == ["/cosmos.bank.v1beta1.MsgSendResponse"]
    assert res["nobodyIsNull"] and res["txFound"] and res["hasPubkey"] and res["searchHits"] >= 2
    assert int(res["autoGasUsed"]) <= int(res["autoGasWanted"])
    # The CLI sees what cosmjs did.
    assert cli.run("query", "bank", "balances", "alice").stdout.strip() == f"{2500000 + 13345}uverd"


def staking_from_the_cli(net, cli):
    """Staking from the CLI changes CometBFT's voting power, and cosmjs's staking
    extension reads the same validators."""
    vals = cli.query("staking", "validators")
    assert len(vals) == 1 and vals[0]["tokens"] == "100000000"
    valoper = vals[0]["operator_address"]
    h = net.node(0).height()
    d = cli.tx("staking", "delegate", "faucet", valoper, "50000000uverd", "--gas", "auto")
    assert "code 0" in d.stdout, d.stdout
    assert net.wait_height([0], h + 4, 30)
    powers = list(net.node(0).validators().values())
    assert powers == [150], powers
    st = cosmjs("staking.mjs", net.node(0).rpc_url, timeout=60)
    assert [(v["operator"], v["tokens"], v["jailed"]) for v in st["validators"]] == [(valoper, "150000000", False)]
    assert st["bondDenom"] == "uverd" and st["unbondingSeconds"] == "120"
    u = cli.tx("staking", "unbond", "faucet", valoper, "20000000uverd", "--gas", "auto")
    assert "code 0" in u.stdout, u.stdout
    assert cli.run("query", "staking", "delegation", "faucet", valoper).stdout.strip() == "30000000uverd"
    e = cli.tx("staking", "edit-validator", "validator0", "--moniker", "renamed",
               "--commission-rate", "0.06", "--gas", "auto")
    assert "code 0" in e.stdout, e.stdout
    again = cli.tx("staking", "edit-validator", "validator0", "--commission-rate", "0.07",
                   "--gas", "200000", check=False)
    assert again.returncode == 1 and "once in 24h" in again.stdout, again.stdout
    vals = cli.query("staking", "validators")
    assert vals[0]["moniker"] == "renamed"


def test_cli_keys_send_query_and_stock_cosmjs_against_a_running_node(net, cli, free_ports):
    free_ports(1)
    net.generate(1)
    assert oct(net.faucet_mnemonic.stat().st_mode & 0o777) == "0o600"
    net.start()
    assert net.wait_height([0], 2, 60)
    alice = keys_send_and_query(net, cli)["address"]
    cosmjs_send(net, cli, alice)
    staking_from_the_cli(net, cli)


def wait_validators(node, count, timeout, equal=True):
    """Waits until CometBFT's set has `count` validators (equal) or not (not equal)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and (len(node.validators()) != count) == equal:
        time.sleep(0.5)
    return node.validators()


def test_a_stopped_validator_is_jailed_for_downtime_leaves_the_set_and_returns_after_unjail(net, cli, free_ports):
    n = 4
    free_ports(n)
    # A short window so the test takes seconds: 10 blocks, half must be signed, 8 s jail.
    net.generate(n, slashing={"signed_blocks_window": 10, "downtime_jail_duration_seconds": 8})
    net.start()
    assert net.wait_height(range(n), 3, 60)
    before = net.node(0).validators()
    assert len(before) == 4 and set(before.values()) == {100}
    valoper3 = valopers(cli)["verdict-3"]

    net.node(3).stop()
    # Jailed after > 5 missed in the window, then dropped by CometBFT two heights later.
    after = wait_validators(net.node(0), 4, 90, equal=False)
    assert len(after) == 3, after
    v3 = cli.query("staking", "validator", valoper3)
    assert v3["jailed"] is True
    assert int(v3["tokens"]) == 99_000_000, "1% downtime slash of 100 VERD"
    # Unjail before the jail time ends is refused with a clear reason.
    early = cli.tx("slashing", "unjail", "validator3", "--gas", "200000", check=False)
    assert early.returncode == 1 and "jailed until" in (early.stdout + early.stderr), early.stdout + early.stderr

    net.node(3).start_sidecar()
    net.restart(3)
    time.sleep(10)  # the 8 s jail counts in block time from the jailing block
    ok = cli.tx("slashing", "unjail", "validator3", "--gas", "200000")
    assert "code 0" in ok.stdout, ok.stdout
    back = wait_validators(net.node(0), 4, 30)
    assert len(back) == 4 and sorted(back.values()) == [99, 100, 100, 100], back
    top = net.top_height(range(3)) + 3
    assert net.wait_height(range(n), top, 60)
    net.assert_agreement(top)


def valopers(cli):
    """Moniker → operator address."""
    return {v["moniker"]: v["operator_address"] for v in cli.query("staking", "validators")}


def dec_amount(s):
    """'1234.5uverd' → 1234.5 (as a string-parsed Decimal), '0' → 0."""
    return Decimal(s.strip().removesuffix("uverd") or "0")


def redelegate(net, cli, v0, v1):
    """A delegation to v0, part of it moved to v1; the refused redelegations."""
    d = cli.tx("staking", "delegate", "faucet", v0, "50000000uverd", "--gas", "auto")
    assert "code 0" in d.stdout, d.stdout
    r = cli.tx("staking", "redelegate", v0, v1, "20000000uverd", "--from", "faucet", "--gas", "auto")
    assert "code 0" in r.stdout, r.stdout
    assert cli.run("query", "staking", "delegation", "faucet", v1).stdout.strip() == "20000000uverd"
    assert cli.run("query", "staking", "delegation", "faucet", v0).stdout.strip() == "30000000uverd"
    reds = cli.query("staking", "redelegations", "faucet")
    assert [(e["src"], e["dst"], e["initial_balance"]) for e in reds] == [(v0, v1, "20000000")], reds
    # Moving it on from v1 while it matures is a transitive redelegation.
    bad = cli.tx("staking", "redelegate", v1, v0, "1uverd", "--from", "faucet", "--gas", "300000",
                 check=False)
    assert bad.returncode == 1 and "redelegation to this validator already in progress" in bad.stdout + bad.stderr, \
        bad.stdout + bad.stderr
    same = cli.tx("staking", "redelegate", v0, v0, "1uverd", "--from", "faucet", "--gas", "300000",
                  check=False)
    assert same.returncode == 1 and "cannot redelegate to the same validator" in same.stdout + same.stderr
    h = net.node(0).height()
    assert net.wait_height([0], h + 3, 30)
    powers = sorted(net.node(0).validators().values())
    assert powers == [120, 130], powers


def balance(cli, who):
    return int(cli.run("query", "bank", "balances", who).stdout.strip().removesuffix("uverd"))


def withdraw_fees(cli, v0, v1):
    """The fees of the txs went to the two validators and their delegators."""
    rew = dec_amount(cli.run("query", "distribution", "rewards", "faucet", v1).stdout)
    assert rew > 0, rew
    before = balance(cli, "faucet")
    w = cli.run("--output", "json", "tx", "distribution", "withdraw-rewards", v0, "--from", "faucet",
                "--gas", "300000", "--fees", "7500uverd")
    assert json.loads(w.stdout)["code"] == 0, w.stdout
    after = balance(cli, "faucet")
    assert after > before - 7500, (before, after)
    comm = dec_amount(cli.run("query", "distribution", "commission", v0).stdout)
    assert comm > 0, comm
    c = cli.tx("distribution", "withdraw-commission", "--from", "validator0", "--gas", "300000")
    assert "code 0" in c.stdout, c.stdout


def test_redelegation_and_fee_rewards_on_a_real_net(net, cli, free_ports):
    n = 2
    free_ports(n, timeout=50)
    net.generate(n)
    net.start(sidecars=False)
    assert net.wait_height(range(n), 3, 60)
    ops = valopers(cli)
    v0, v1 = ops["verdict-0"], ops["verdict-1"]
    redelegate(net, cli, v0, v1)
    withdraw_fees(cli, v0, v1)
    # Stock cosmjs: MsgBeginRedelegate, the distribution query extension, withdrawRewards.
    res = cosmjs("distribution.mjs", net.node(0).rpc_url, str(net.faucet_mnemonic), v0, v1)
    assert res["redelegateTypes"] == ["/cosmos.staking.v1beta1.MsgBeginRedelegateResponse"], res
    assert res["withdrawTypes"] == ["/cosmos.distribution.v1beta1.MsgWithdrawDelegatorRewardResponse"], res
    assert res["rewards"] and res["rewards"][0]["denom"] == "uverd" and int(res["rewards"][0]["amount"]) > 0, res
    assert cli.run("query", "staking", "delegation", "faucet", v1).stdout.strip() == "21000000uverd"
    top = net.top_height() + 2
    assert net.wait_height(range(n), top, 30)
    net.assert_agreement(top)


def evidence_blocks(node, lo, hi):
    """(block height, evidence) for every evidence item in blocks lo..hi."""
    found = []
    for h in range(lo, hi + 1):
        ev = node.block(h).get("evidence", {}).get("evidence") or []
        found.extend((h, e) for e in ev)
    return found


def double_sign_evidence(node, start_h):
    """(evidence block, infraction height, validator power) of the first
    DuplicateVoteEvidence in a block since start_h."""
    end_h = node.height()
    evs = [(h, e) for h, e in evidence_blocks(node, start_h, end_h)
           if e["type"] == "tendermint/DuplicateVoteEvidence"]
    assert evs, "jailed without DuplicateVoteEvidence in a block"
    ev_block, ev = evs[0]
    infraction = int(ev["value"]["vote_a"]["height"])
    power = int(ev["value"].get("ValidatorPower", ev["value"].get("validator_power", 0)))
    print(f"double sign at {infraction} (power {power}), evidence in block {ev_block}")
    return ev_block, infraction, power


def fund_delegators(cli, keys, v3):
    """Delegators of 2 VERD each to validator 3, with 10 VERD to pay fees from."""
    for k in keys:
        addr = cli.keys_add(k)["address"]
        assert "code 0" in cli.send("faucet", addr, "10000000uverd", "--gas", "auto").stdout
        assert "code 0" in cli.tx("staking", "delegate", k, v3, "2000000uverd", "--gas", "auto").stdout


def unbond_while_jailing(net, cli, twin, keys, v3):
    """Unbonds a little from validator 3 at every height, from the moment the twin
    has caught up and starts to vote until validator 3 is jailed; returns
    (jailed, the unbond attempts)."""
    stop = threading.Event()
    unbonds = []

    def unbond_loop(mine):
        # Each thread has its own delegators (no sequence races); 7 entries
        # per pair is max_entries.
        for i in range(len(mine) * 7):
            if stop.is_set():
                break
            k = mine[i % len(mine)]
            r = cli.tx("staking", "unbond", k, v3, "200000uverd", "--gas", "300000", check=False)
            unbonds.append((k, r.returncode, r.stdout.strip()))

    # Unbond from the moment the twin has caught up and starts to vote: two
    # threads of three delegators give about one entry per height each for
    # some 20 heights (max_entries is 7 per pair).
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and (twin.height() or 0) < (net.node(0).height() or 0) - 1:
        time.sleep(0.3)
    assert (twin.height() or 0) >= (net.node(0).height() or 0) - 1, "the twin did not catch up"
    threads = [threading.Thread(target=unbond_loop, args=(keys[j::2],), daemon=True) for j in range(2)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 180
    jailed = False
    while time.monotonic() < deadline and not jailed:
        time.sleep(1)
        jailed = cli.query("staking", "validator", v3)["jailed"]
    stop.set()
    for t in threads:
        t.join(timeout=120)
    return jailed, unbonds


def check_unbonding_entries(cli, keys, v3, infraction, ev_block, unbonds):
    """Entries created at or after the infraction's distribution height (the app
    uses infraction - 1) and before the evidence block lost 5%; the others are
    whole. Returns (slashed from entries, total unbonded)."""
    slashed_from_entries = 0
    unbonded = 0
    in_window = 0
    for k in keys:
        r = cli.run("--output", "json", "query", "staking", "unbonding", k, v3, check=False)
        entries = json.loads(r.stdout) if r.returncode == 0 else []
        for e in entries:
            h, init, bal = e["creation_height"], int(e["initial_balance"]), int(e["balance"])
            if infraction - 1 <= h < ev_block:
                in_window += 1
                assert bal == init - init * 5 // 100, (k, e)
                slashed_from_entries += init - bal
            else:
                assert bal == init, (k, e, infraction, ev_block)
            unbonded += init
    assert in_window > 0, f"no unbonding landed between {infraction - 1} and {ev_block}: {unbonds}"
    return slashed_from_entries, unbonded


def test_a_double_signing_validator_is_slashed_tombstoned_and_jailed_with_its_recent_unbondings(net, cli, free_ports):
    """A second CometBFT node signs with validator 3's key; CometBFT turns the
    conflicting votes into DuplicateVoteEvidence, and FinalizeBlock.misbehavior
    slashes 5% at the infraction height, reaching the unbonding entries created
    from then on, tombstones and jails the validator."""
    n, twin_index = 4, 4
    free_ports(n + 1, timeout=50)
    # Unbonding entries must outlive the test so every one can be checked.
    net.generate(n, staking={"unbonding_time_seconds": 3600})
    net.start(sidecars=False)
    twin = net.node(twin_index)
    try:
        assert net.wait_height(range(n), 3, 60)
        v3 = valopers(cli)["verdict-3"]
        # Delegators who unbond a little from validator 3 at every height while
        # the twin runs, so some entries fall between infraction and detection.
        # Validator 3 stays well under 1/3 of the power: an equivocating key with
        # more could fork the chain (CometBFT's safety bound), which is not what
        # this test is about.
        keys = [f"d{k}" for k in range(6)]
        fund_delegators(cli, keys, v3)
        start_h = net.node(0).height()
        twin = net.make_twin(3, twin_index)
        twin.start_verdictd()
        twin.start_cometbft()
        jailed, unbonds = unbond_while_jailing(net, cli, twin, keys, v3)
        assert jailed, ("no double-sign evidence within 180 s; twin log tail: " +
                        twin.log_file("cometbft").read_text(errors="replace")[-3000:])
        ev_block, infraction, power = double_sign_evidence(net.node(0), start_h)
        # CometBFT removes the validator from its set.
        wait_validators(net.node(0), 3, 30)
        assert len(net.node(0).validators()) == 3, net.node(0).validators()
        # Tombstoned: exactly validator 3's signing info.
        infos = cli.query("slashing", "signing-infos")
        assert sum(1 for i in infos if i["tombstoned"]) == 1, infos
        early = cli.tx("slashing", "unjail", "validator3", "--gas", "200000", check=False)
        assert early.returncode == 1 and "tombstoned" in early.stdout + early.stderr, early.stdout + early.stderr
        slashed_from_entries, unbonded = check_unbonding_entries(cli, keys, v3, infraction, ev_block, unbonds)
        v = cli.query("staking", "validator", v3)
        target = power * 1_000_000 * 5 // 100
        expected = 100_000_000 + 6 * 2_000_000 - unbonded - (target - slashed_from_entries)
        assert int(v["tokens"]) == expected, (v["tokens"], expected, target, slashed_from_entries)
        # The rest of the net goes on and agrees.
        top = net.top_height(range(3)) + 3
        assert net.wait_height([0, 1, 2], top, 60)
        net.assert_agreement(top, range(3))
    finally:
        twin.stop()
