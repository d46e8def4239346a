"""End-to-end: real CometBFT v0.38 processes drive real verdictd processes over
ABCI sockets, with state in sled on disk."""

import os
import random
import signal
import subprocess
import time

import net
from conftest import require_free_ports


def agreement(out, n, upto):
    """Header app hash of every height 1..upto on every node; asserts they agree."""
    for h in range(1, upto + 1):
        hashes = [net.header_app_hash(out, i, h) for i in range(n)]
        assert None not in hashes, f"height {h}: some node has no header: {hashes}"
        assert len(set(hashes)) == 1, f"height {h}: app hashes differ: {hashes}"


def app_heights(out, n):
    return [int(net.rpc(out, i, "abci_info")["response"].get("last_block_height", 0)) for i in range(n)]


def test_four_validators_agree_at_every_height_and_survive_sigkill_at_random_moments(out):
    n = 4
    require_free_ports(n)
    net.generate(n, out)
    net.start(out)
    assert net.wait_height(out, list(range(n)), 20, 120), "net did not reach height 20"
    agreement(out, n, 20)
    # Every block above 1 carries tx[0] with the previous height's extensions.
    blk = net.rpc(out, 0, "block?height=5")["block"]
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
            assert net.kill(out, node, p, signal.SIGKILL), f"node{node} {p} was not running"
        kills += 1
        time.sleep(rng.uniform(0.2, 1.0))
        net.restart(out, node)
        others = [i for i in range(n) if i != node]
        top = max(net.height(out, i) or 0 for i in others)
        assert net.wait_height(out, [node], top + 1, 90), (
            f"round {round_}: node{node} ({target} killed) did not catch up to {top + 1}")
    assert kills >= 5
    final = max(net.height(out, i) or 0 for i in range(n)) + 3
    assert net.wait_height(out, list(range(n)), final, 90)
    agreement(out, n, final)
    # The apps themselves (not only CometBFT's headers) are at the same height and hash.
    hs = app_heights(out, n)
    assert max(hs) - min(hs) <= 2, hs


def test_a_single_validator_net_produces_blocks(out):
    import urllib.request
    require_free_ports(1)
    net.generate(1, out)
    net.start(out, net.parse_faults("0:slow=50"))
    assert net.wait_height(out, [0], 5, 60)
    # The node's sidecar runs with the requested test fault and serves metrics.
    assert (out / "node0" / "sidecar.fault").read_text() == "slow=50"
    with urllib.request.urlopen(f"http://127.0.0.1:{net.Ports.of(0).sidecar_metrics}/metrics", timeout=5) as r:
        assert b"verdict_sidecar" in r.read()
    agreement(out, 1, 5)
    # The CLI reads state and checks its proof against the next block's header.
    cli = str(net.bin_dir() / "verdict")
    node = ["--node", f"127.0.0.1:{net.Ports.of(0).rpc}"]
    r = subprocess.run([cli, *node, "status"], capture_output=True, text=True, check=True)
    assert "chain verdict-local" in r.stdout
    r = subprocess.run([cli, *node, "query", "store", "app/chain_id", "--prove", "--height", "3"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert '"verdict-local"' in r.stdout and "proof verified against app hash" in r.stdout
    r = subprocess.run([cli, "--node", "127.0.0.1:1", "status"], capture_output=True, text=True)
    assert r.returncode == 1 and "node unreachable at http://127.0.0.1:1" in r.stderr


def test_generator_emits_configs_for_separate_hosts(out):
    hosts = ["val-a.example", "val-b.example", "val-c.example"]
    net.generate(3, out, hosts=hosts)
    cfg = (out / "node1" / "config" / "config.toml").read_text()
    assert 'external_address = "val-b.example:26656"' in cfg
    assert "@val-a.example:26656" in cfg and "@val-c.example:26656" in cfg
    assert 'laddr = "tcp://0.0.0.0:26656"' in cfg
    assert 'indexer = "kv"' in cfg
    assert (out / "node2" / "run.sh").exists()
    g = (out / "node0" / "config" / "genesis.json").read_text()
    assert '"vote_extensions_enable_height": "1"' in g and '"chain_id": "verdict-local"' in g


def run_verdictd(home, abci, timeout=10):
    return subprocess.run([str(net.verdictd_bin()), "start", "--home", str(home), "--abci", abci],
                          capture_output=True, text=True, timeout=timeout)


def test_bad_genesis_locked_dir_and_busy_port_give_one_line_errors(out):
    net.generate(1, out)
    home = out / "node0"
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
    holder = subprocess.Popen([str(net.verdictd_bin()), "start", "--home", str(home), "--abci",
                               f"127.0.0.1:{port}"], stderr=subprocess.DEVNULL)
    try:
        assert net.wait_port(port)
        r = run_verdictd(home, "127.0.0.1:0")
        assert r.returncode == 1 and "in use by another process" in r.stderr, r.stderr
        # And a port that is taken is named.
        other = out / "other"
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
            net.parse_faults(bad)
        except net.NetError as e:
            assert bad.split(",")[0] in str(e)
        else:
            raise AssertionError(f"{bad} accepted")
    assert net.parse_faults("1:wrong,2:slow=3000") == {1: "wrong", 2: "slow=3000"}


def test_missing_cometbft_is_reported_by_the_harness(out, monkeypatch):
    monkeypatch.setenv("COMETBFT", str(out / "no-such-cometbft"))
    try:
        net.generate(1, out)
    except net.NetError as e:
        assert "cometbft binary not found" in str(e) and "make setup" in str(e)
    else:
        raise AssertionError("generate succeeded without cometbft")


def cli(out, *args, check=True):
    r = subprocess.run([str(net.bin_dir() / "verdict"), "--keyring-dir", str(out / "keyring"),
                        "--node", f"127.0.0.1:{net.Ports.of(0).rpc}", *args],
                       capture_output=True, text=True, timeout=120)
    if check:
        assert r.returncode == 0, f"verdict {' '.join(args)}: {r.stderr}{r.stdout}"
    return r


def test_cli_keys_send_query_and_stock_cosmjs_against_a_running_node(out):
    import json
    require_free_ports(1)
    net.generate(1, out)
    assert oct((out / "faucet.mnemonic").stat().st_mode & 0o777) == "0o600"
    net.start(out)
    assert net.wait_height(out, [0], 2, 60)

    # keys → send → query, as a person would.
    add = json.loads(cli(out, "--output", "json", "keys", "add", "alice").stdout)
    assert len(add["mnemonic"].split()) == 24 and add["address"].startswith("verdict1")
    assert oct((out / "keyring" / "alice.json").stat().st_mode & 0o777) == "0o600"
    rec = subprocess.run([str(net.bin_dir() / "verdict"), "--keyring-dir", str(out / "keyring"),
                          "--output", "json", "keys", "recover", "alice-again"],
                         input=add["mnemonic"] + "\n", capture_output=True, text=True)
    assert rec.returncode == 0 and json.loads(rec.stdout)["address"] == add["address"], rec.stderr
    sent = cli(out, "tx", "bank", "send", "faucet", add["address"], "2500000uverd", "--gas", "auto")
    assert "code 0" in sent.stdout and "txhash" in sent.stdout, sent.stdout
    txhash = sent.stdout.split()[1]
    assert cli(out, "query", "bank", "balances", "alice").stdout.strip() == "2500000uverd"
    acct = json.loads(cli(out, "--output", "json", "query", "auth", "account", "faucet").stdout)
    assert acct["sequence"] == 1 and acct["pub_key"]
    q = json.loads(cli(out, "--output", "json", "query", "tx", txhash).stdout)
    assert q["code"] == 0 and int(q["height"]) >= 2
    # Errors name the problem.
    bad = cli(out, "tx", "bank", "send", "alice", add["address"][:-1] + ("q" if add["address"][-1] != "q" else "p"),
              "1uverd", check=False)
    assert bad.returncode == 1 and "bad bech32 checksum" in bad.stderr, bad.stderr
    poor = cli(out, "tx", "bank", "send", "alice", add["address"], "999999999999uverd", check=False)
    assert poor.returncode == 1 and "insufficient funds" in poor.stderr, poor.stderr
    assert "has 2500000uverd, needs" in poor.stderr and "fee" in poor.stderr, poor.stderr

    # Stock cosmjs: DirectSecp256k1HdWallet + SigningStargateClient + StargateClient.
    js = subprocess.run(["node", str(net.ROOT / "clients" / "cosmjs" / "send.mjs"), f"http://127.0.0.1:{net.Ports.of(0).rpc}",
                         str(out / "faucet.mnemonic"), add["address"]],
                        capture_output=True, text=True, timeout=120)
    assert js.returncode == 0, js.stderr
    res = json.loads(js.stdout.strip().splitlines()[-1])
    assert res["chainId"] == "verdict-local"
    # cosmjs derived the same address from the faucet mnemonic as our keyring did
    # (BIP39 → m/44'/118'/0'/0/0 → bech32 verdict): an independent check of the HD path.
    faucet = json.loads(cli(out, "--output", "json", "keys", "show", "faucet").stdout)["address"]
    assert res["sender"] == faucet
    assert int(res["after"]) - int(res["before"]) == 12345 + 1000
    assert res["msgResponses"] == ["/cosmos.bank.v1beta1.MsgSendResponse"]
    assert res["nobodyIsNull"] and res["txFound"] and res["hasPubkey"] and res["searchHits"] >= 2
    assert int(res["autoGasUsed"]) <= int(res["autoGasWanted"])
    # The CLI sees what cosmjs did.
    assert cli(out, "query", "bank", "balances", "alice").stdout.strip() == f"{2500000 + 13345}uverd"

    # Staking from the CLI changes CometBFT's voting power, and cosmjs's staking
    # extension reads the same validators.
    vals = json.loads(cli(out, "--output", "json", "query", "staking", "validators").stdout)
    assert len(vals) == 1 and vals[0]["tokens"] == "100000000"
    valoper = vals[0]["operator_address"]
    h = net.height(out, 0)
    d = cli(out, "tx", "staking", "delegate", "faucet", valoper, "50000000uverd", "--gas", "auto")
    assert "code 0" in d.stdout, d.stdout
    assert net.wait_height(out, [0], h + 4, 30)
    powers = [int(v["voting_power"]) for v in net.rpc(out, 0, "validators")["validators"]]
    assert powers == [150], powers
    js = subprocess.run(["node", str(net.ROOT / "clients" / "cosmjs" / "staking.mjs"), f"http://127.0.0.1:{net.Ports.of(0).rpc}"],
                        capture_output=True, text=True, timeout=60)
    assert js.returncode == 0, js.stderr
    st = json.loads(js.stdout.strip().splitlines()[-1])
    assert [(v["operator"], v["tokens"], v["jailed"]) for v in st["validators"]] == [(valoper, "150000000", False)]
    assert st["bondDenom"] == "uverd" and st["unbondingSeconds"] == "120"
    u = cli(out, "tx", "staking", "unbond", "faucet", valoper, "20000000uverd", "--gas", "auto")
    assert "code 0" in u.stdout, u.stdout
    assert cli(out, "query", "staking", "delegation", "faucet", valoper).stdout.strip() == "30000000uverd"
    e = cli(out, "tx", "staking", "edit-validator", "validator0", "--moniker", "renamed",
            "--commission-rate", "0.06", "--gas", "auto")
    assert "code 0" in e.stdout, e.stdout
    again = cli(out, "tx", "staking", "edit-validator", "validator0", "--commission-rate", "0.07",
                "--gas", "200000", check=False)
    assert again.returncode == 1 and "once in 24h" in again.stdout, again.stdout
    vals = json.loads(cli(out, "--output", "json", "query", "staking", "validators").stdout)
    assert vals[0]["moniker"] == "renamed"


def cometbft_validators(out, node=0):
    r = net.rpc(out, node, "validators")
    return {v["address"]: int(v["voting_power"]) for v in r["validators"]}


def test_a_stopped_validator_is_jailed_for_downtime_leaves_the_set_and_returns_after_unjail(out):
    import json
    n = 4
    require_free_ports(n)
    # A short window so the test takes seconds: 10 blocks, half must be signed, 8 s jail.
    net.generate(n, out, slashing={"signed_blocks_window": 10, "downtime_jail_duration_seconds": 8})
    net.start(out)
    assert net.wait_height(out, list(range(n)), 3, 60)
    before = cometbft_validators(out)
    assert len(before) == 4 and set(before.values()) == {100}
    valoper3 = next(v["operator_address"] for v in json.loads(
        cli(out, "--output", "json", "query", "staking", "validators").stdout) if v["moniker"] == "verdict-3")

    net.stop_node(out, 3)
    # Jailed after > 5 missed in the window, then dropped by CometBFT two heights later.
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and len(cometbft_validators(out)) == 4:
        time.sleep(0.5)
    after = cometbft_validators(out)
    assert len(after) == 3, after
    v3 = json.loads(cli(out, "--output", "json", "query", "staking", "validator", valoper3).stdout)
    assert v3["jailed"] is True
    assert int(v3["tokens"]) == 99_000_000, "1% downtime slash of 100 VERD"
    # Unjail before the jail time ends is refused with a clear reason.
    early = cli(out, "tx", "slashing", "unjail", "validator3", "--gas", "200000", check=False)
    assert early.returncode == 1 and "jailed until" in (early.stdout + early.stderr), early.stdout + early.stderr

    net.start_sidecar(out, 3)
    net.restart(out, 3)
    time.sleep(10)  # the 8 s jail counts in block time from the jailing block
    ok = cli(out, "tx", "slashing", "unjail", "validator3", "--gas", "200000")
    assert "code 0" in ok.stdout, ok.stdout
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(cometbft_validators(out)) != 4:
        time.sleep(0.5)
    back = cometbft_validators(out)
    assert len(back) == 4 and sorted(back.values()) == [99, 100, 100, 100], back
    top = max(net.height(out, i) or 0 for i in range(3)) + 3
    assert net.wait_height(out, list(range(n)), top, 60)
    agreement(out, n, top)


def wait_free_ports(n, timeout=20):
    """Like require_free_ports, after giving the previous test's processes a
    moment to release their ports."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        ports = [p for i in range(n) for p in (net.Ports.of(i).p2p, net.Ports.of(i).rpc, net.Ports.of(i).abci)]
        if all(net.port_free(p) for p in ports):
            break
        time.sleep(0.5)
    require_free_ports(n)


def valopers(out):
    import json
    vals = json.loads(cli(out, "--output", "json", "query", "staking", "validators").stdout)
    return {v["moniker"]: v["operator_address"] for v in vals}


def dec_amount(s):
    """'1234.5uverd' → 1234.5 (as a string-parsed Decimal), '0' → 0."""
    from decimal import Decimal
    return Decimal(s.strip().removesuffix("uverd") or "0")


def test_redelegation_and_fee_rewards_on_a_real_net(out):
    import json
    n = 2
    wait_free_ports(n)
    net.generate(n, out)
    net.start(out, sidecars=False)
    assert net.wait_height(out, list(range(n)), 3, 60)
    ops = valopers(out)
    v0, v1 = ops["verdict-0"], ops["verdict-1"]
    d = cli(out, "tx", "staking", "delegate", "faucet", v0, "50000000uverd", "--gas", "auto")
    assert "code 0" in d.stdout, d.stdout
    r = cli(out, "tx", "staking", "redelegate", v0, v1, "20000000uverd", "--from", "faucet", "--gas", "auto")
    assert "code 0" in r.stdout, r.stdout
    assert cli(out, "query", "staking", "delegation", "faucet", v1).stdout.strip() == "20000000uverd"
    assert cli(out, "query", "staking", "delegation", "faucet", v0).stdout.strip() == "30000000uverd"
    reds = json.loads(cli(out, "--output", "json", "query", "staking", "redelegations", "faucet").stdout)
    assert [(e["src"], e["dst"], e["initial_balance"]) for e in reds] == [(v0, v1, "20000000")], reds
    # Moving it on from v1 while it matures is a transitive redelegation.
    bad = cli(out, "tx", "staking", "redelegate", v1, v0, "1uverd", "--from", "faucet", "--gas", "300000",
              check=False)
    assert bad.returncode == 1 and "redelegation to this validator already in progress" in bad.stdout + bad.stderr, \
        bad.stdout + bad.stderr
    same = cli(out, "tx", "staking", "redelegate", v0, v0, "1uverd", "--from", "faucet", "--gas", "300000",
               check=False)
    assert same.returncode == 1 and "cannot redelegate to the same validator" in same.stdout + same.stderr
    h = net.height(out, 0)
    assert net.wait_height(out, [0], h + 3, 30)
    powers = sorted(cometbft_validators(out).values())
    assert powers == [120, 130], powers

    # The fees of those txs went to the two validators and their delegators.
    rew = dec_amount(cli(out, "query", "distribution", "rewards", "faucet", v1).stdout)
    assert rew > 0, rew
    before = int(cli(out, "query", "bank", "balances", "faucet").stdout.strip().removesuffix("uverd"))
    w = cli(out, "--output", "json", "tx", "distribution", "withdraw-rewards", v0, "--from", "faucet",
            "--gas", "300000", "--fees", "7500uverd")
    assert json.loads(w.stdout)["code"] == 0, w.stdout
    after = int(cli(out, "query", "bank", "balances", "faucet").stdout.strip().removesuffix("uverd"))
    assert after > before - 7500, (before, after)
    comm = dec_amount(cli(out, "query", "distribution", "commission", v0).stdout)
    assert comm > 0, comm
    c = cli(out, "tx", "distribution", "withdraw-commission", "--from", "validator0", "--gas", "300000")
    assert "code 0" in c.stdout, c.stdout
    # Stock cosmjs: MsgBeginRedelegate, the distribution query extension, withdrawRewards.
    js = subprocess.run(["node", str(net.ROOT / "clients" / "cosmjs" / "distribution.mjs"),
                         f"http://127.0.0.1:{net.Ports.of(0).rpc}", str(out / "faucet.mnemonic"), v0, v1],
                        capture_output=True, text=True, timeout=120)
    assert js.returncode == 0, js.stderr
    res = json.loads(js.stdout.strip().splitlines()[-1])
    assert res["redelegateTypes"] == ["/cosmos.staking.v1beta1.MsgBeginRedelegateResponse"], res
    assert res["withdrawTypes"] == ["/cosmos.distribution.v1beta1.MsgWithdrawDelegatorRewardResponse"], res
    assert res["rewards"] and res["rewards"][0]["denom"] == "uverd" and int(res["rewards"][0]["amount"]) > 0, res
    assert cli(out, "query", "staking", "delegation", "faucet", v1).stdout.strip() == "21000000uverd"
    top = max(net.height(out, i) or 0 for i in range(n)) + 2
    assert net.wait_height(out, list(range(n)), top, 30)
    agreement(out, n, top)


def evidence_blocks(out, node, lo, hi):
    """(block height, evidence) for every evidence item in blocks lo..hi."""
    found = []
    for h in range(lo, hi + 1):
        ev = net.rpc(out, node, f"block?height={h}")["block"].get("evidence", {}).get("evidence") or []
        found.extend((h, e) for e in ev)
    return found


def test_a_double_signing_validator_is_slashed_tombstoned_and_jailed_with_its_recent_unbondings(out):
    """A second CometBFT node signs with validator 3's key; CometBFT turns the
    conflicting votes into DuplicateVoteEvidence, and FinalizeBlock.misbehavior
    slashes 5% at the infraction height, reaching the unbonding entries created
    from then on, tombstones and jails the validator."""
    import json
    import threading
    n, twin = 4, 4
    wait_free_ports(n + 1)
    # Unbonding entries must outlive the test so every one can be checked.
    net.generate(n, out, staking={"unbonding_time_seconds": 3600})
    net.start(out, sidecars=False)
    try:
        assert net.wait_height(out, list(range(n)), 3, 60)
        v3 = valopers(out)["verdict-3"]
        # Delegators who unbond a little from validator 3 at every height while
        # the twin runs, so some entries fall between infraction and detection.
        # Validator 3 stays well under 1/3 of the power: an equivocating key with
        # more could fork the chain (CometBFT's safety bound), which is not what
        # this test is about.
        keys = [f"d{k}" for k in range(6)]
        for k in keys:
            addr = json.loads(cli(out, "--output", "json", "keys", "add", k).stdout)["address"]
            assert "code 0" in cli(out, "tx", "bank", "send", "faucet", addr, "10000000uverd", "--gas", "auto").stdout
            assert "code 0" in cli(out, "tx", "staking", "delegate", k, v3, "2000000uverd", "--gas", "auto").stdout
        start_h = net.height(out, 0)
        net.make_twin(out, 3, twin)
        net.start_verdictd(out, twin)
        net.start_cometbft(out, twin)

        stop = threading.Event()
        unbonds = []

        def unbond_loop(mine):
            # Each thread has its own delegators (no sequence races); 7 entries
            # per pair is max_entries.
            for i in range(len(mine) * 7):
                if stop.is_set():
                    break
                k = mine[i % len(mine)]
                r = cli(out, "tx", "staking", "unbond", k, v3, "200000uverd", "--gas", "300000", check=False)
                unbonds.append((k, r.returncode, r.stdout.strip()))

        # Unbond from the moment the twin has caught up and starts to vote: two
        # threads of three delegators give about one entry per height each for
        # some 20 heights (max_entries is 7 per pair).
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and (net.height(out, twin) or 0) < (net.height(out, 0) or 0) - 1:
            time.sleep(0.3)
        assert (net.height(out, twin) or 0) >= (net.height(out, 0) or 0) - 1, "the twin did not catch up"
        threads = [threading.Thread(target=unbond_loop, args=(keys[j::2],), daemon=True) for j in range(2)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 180
        jailed = False
        while time.monotonic() < deadline and not jailed:
            time.sleep(1)
            v = json.loads(cli(out, "--output", "json", "query", "staking", "validator", v3).stdout)
            jailed = v["jailed"]
        stop.set()
        for t in threads:
            t.join(timeout=120)
        assert jailed, ("no double-sign evidence within 180 s; twin log tail: " +
                        (out / f"node{twin}" / "cometbft.log").read_text(errors="replace")[-3000:])
        end_h = net.height(out, 0)
        evs = [(h, e) for h, e in evidence_blocks(out, 0, start_h, end_h)
               if e["type"] == "tendermint/DuplicateVoteEvidence"]
        assert evs, "jailed without DuplicateVoteEvidence in a block"
        ev_block, ev = evs[0]
        infraction = int(ev["value"]["vote_a"]["height"])
        power = int(ev["value"].get("ValidatorPower", ev["value"].get("validator_power", 0)))
        print(f"double sign at {infraction} (power {power}), evidence in block {ev_block}")
        # CometBFT removes the validator from its set.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(cometbft_validators(out)) != 3:
            time.sleep(0.5)
        assert len(cometbft_validators(out)) == 3, cometbft_validators(out)
        # Tombstoned: exactly validator 3's signing info.
        infos = json.loads(cli(out, "--output", "json", "query", "slashing", "signing-infos").stdout)
        assert sum(1 for i in infos if i["tombstoned"]) == 1, infos
        early = cli(out, "tx", "slashing", "unjail", "validator3", "--gas", "200000", check=False)
        assert early.returncode == 1 and "tombstoned" in early.stdout + early.stderr, early.stdout + early.stderr
        # Entries created at or after the infraction's distribution height (the
        # app uses infraction - 1) and before the evidence block lost 5%; the
        # others are whole.
        slashed_from_entries = 0
        unbonded = 0
        in_window = 0
        for k in keys:
            r = cli(out, "--output", "json", "query", "staking", "unbonding", k, v3, check=False)
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
        v = json.loads(cli(out, "--output", "json", "query", "staking", "validator", v3).stdout)
        target = power * 1_000_000 * 5 // 100
        expected = 100_000_000 + 6 * 2_000_000 - unbonded - (target - slashed_from_entries)
        assert int(v["tokens"]) == expected, (v["tokens"], expected, target, slashed_from_entries)
        # The rest of the net goes on and agrees.
        top = max(net.height(out, i) or 0 for i in range(3)) + 3
        assert net.wait_height(out, [0, 1, 2], top, 60)
        agreement(out, 3, top)
    finally:
        net.stop_node(out, twin)
