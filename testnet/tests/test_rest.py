"""End-to-end: the REST (LCD) gateway of a real node, as wallets and explorers
use it. Stock cosmjs signs offline and talks to nothing but the gateway
(node_info → account → POST txs → tx by hash → event search); the node services
(blocks, validator sets, syncing) answer from CometBFT; the wallet metadata the
generator wrote points at live endpoints."""

import json
import subprocess
import urllib.error
import urllib.request

from testnet import ROOT
from testnet.tests.test_e2e import cosmjs


def grpcurl(addr, *args):
    """Stock grpcurl (installed by `make setup`) against a node, over reflection."""
    out = subprocess.run([str(ROOT / ".tools" / "bin" / "grpcurl"), "-plaintext", *args],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    return out.stdout


def rest(url, path):
    try:
        with urllib.request.urlopen(url + path, timeout=10) as r:
            return r.status, json.loads(r.read()), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read()), dict(e.headers)


def test_a_wallet_and_an_explorer_use_the_rest_gateway_of_a_real_node(net, cli, free_ports):
    free_ports(1)
    net.generate(1)
    net.start()
    assert net.wait_height([0], 2, 60)
    node = net.node(0)
    api = node.api_url
    alice = cli.keys_add("alice")["address"]

    # The wallet metadata names this node's endpoints.
    keplr = json.loads((net.out / "keplr.json").read_text())
    chain = json.loads((net.out / "chain.json").read_text())
    assets = json.loads((net.out / "assetlist.json").read_text())
    assert keplr["rest"] == api and keplr["rpc"] == node.rpc_url
    assert keplr["chainId"] == chain["chain_id"] == "verdict-local"
    assert keplr["bech32Config"]["bech32PrefixValAddr"] == "verdictvaloper"
    assert chain["apis"]["rest"][0]["address"] == api
    assert assets["assets"][0]["base"] == "uverd"

    res = cosmjs("rest_wallet.mjs", api, str(net.faucet_mnemonic), alice)
    assert res["chainId"] == "verdict-local" and res["sender"] == cli.address("faucet")
    assert res["code"] == 0 and res["memo"] == "via REST"
    assert res["msgType"] == "/cosmos.bank.v1beta1.MsgSend"
    assert res["hash"] in res["searchHits"] and int(res["searchTotal"]) >= 1
    assert int(res["after"]) - int(res["before"]) == 4242
    # The CLI (over CometBFT RPC) sees the same tx.
    assert cli.query("tx", res["hash"])["code"] == 0

    # Blocks, validator sets and sync status come from CometBFT, in SDK JSON.
    s, latest, headers = rest(api, "/cosmos/base/tendermint/v1beta1/blocks/latest")
    assert s == 200, latest
    h = int(latest["sdk_block"]["header"]["height"])
    assert h >= 2 and latest["sdk_block"]["header"]["proposer_address"].startswith("verdictvalcons1")
    assert latest["block"]["header"]["chain_id"] == "verdict-local"
    s, legacy, _ = rest(api, f"/blocks/{h}")
    assert s == 200 and legacy["block_id"]["hash"] and int(legacy["block"]["header"]["height"]) == h
    s, vs, _ = rest(api, "/cosmos/base/tendermint/v1beta1/validatorsets/latest")
    assert s == 200, vs
    assert len(vs["validators"]) == 1 and vs["validators"][0]["address"].startswith("verdictvalcons1")
    assert vs["validators"][0]["pub_key"]["@type"] == "/cosmos.crypto.ed25519.PubKey"
    assert int(vs["validators"][0]["voting_power"]) == list(node.validators().values())[0]
    s, old, _ = rest(api, "/validatorsets/1")
    assert s == 200 and old["block_height"] == "1"
    s, sync, _ = rest(api, "/cosmos/base/tendermint/v1beta1/syncing")
    assert s == 200 and sync == {"syncing": False}

    # State queries agree with the CLI, and carry their height.
    s, bal, headers = rest(api, f"/cosmos/bank/v1beta1/balances/{alice}")
    assert s == 200 and bal["balances"] == [{"denom": "uverd", "amount": res["after"]}]
    assert int(headers.get("x-cosmos-block-height", headers.get("X-Cosmos-Block-Height", 0))) >= h
    s, vals, _ = rest(api, "/cosmos/staking/v1beta1/validators")
    assert s == 200 and vals["validators"][0]["status"] == "BOND_STATUS_BONDED"
    assert vals["validators"][0]["operator_address"] == cli.query("staking", "validators")[0]["operator_address"]
    s, params, _ = rest(api, "/verdict/inference/v1/params")
    assert s == 200 and int(params["job_fee_floor"]) > 0, params
    s, models, _ = rest(api, "/verdict/inference/v1/models?pagination.limit=5")
    assert s == 200 and isinstance(models["models"], list), models
    for m in models["models"][:1]:
        s, model, _ = rest(api, f"/verdict/inference/v1/models/{m['id']}")
        assert s == 200 and model["model"]["id"] == m["id"], model
        assert model["model"]["owner"].startswith("verdict1")
    s, jobs, _ = rest(api, f"/verdict/inference/v1/jobs?requester={alice}")
    assert s == 200 and jobs["jobs"] == [] and jobs["pagination"]["total"] == "0", jobs

    # gRPC: grpcurl lists, describes and calls over server reflection, and
    # the standard health service says the node serves.
    grpc = f"127.0.0.1:{node.meta['grpc']}"
    services = grpcurl(grpc, grpc, "list").split()
    for svc in ["cosmos.bank.v1beta1.Query", "cosmos.staking.v1beta1.Query", "cosmos.tx.v1beta1.Service",
                "cosmos.base.tendermint.v1beta1.Service", "ibc.core.channel.v1.Query",
                "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection"]:
        assert svc in services, services
    assert "rpc AllBalances" in grpcurl(grpc, grpc, "describe", "cosmos.bank.v1beta1.Query")
    got = json.loads(grpcurl(grpc, "-d", json.dumps({"address": alice}), grpc,
                             "cosmos.bank.v1beta1.Query/AllBalances"))
    assert got["balances"] == [{"denom": "uverd", "amount": res["after"]}]
    latest = json.loads(grpcurl(grpc, grpc, "cosmos.base.tendermint.v1beta1.Service/GetLatestBlock"))
    assert int(latest["sdkBlock"]["header"]["height"]) >= h
    health = json.loads(grpcurl(grpc, grpc, "grpc.health.v1.Health/Check"))
    assert health == {"status": "SERVING"}

    # Prometheus: verdictd's metrics count the blocks and txs it saw, and
    # CometBFT's own endpoint is on.
    with urllib.request.urlopen(node.metrics_url, timeout=10) as r:
        text = r.read().decode()
    metric = {line.split(" ")[0]: float(line.split(" ")[1]) for line in text.splitlines()
              if line and not line.startswith("#")}
    assert metric["verdictd_block_height"] >= h, text
    assert metric['verdictd_block_txs_total{code="0"}'] >= 1, text
    assert metric['verdictd_check_txs_total{type="new",code="0"}'] >= 1, text
    assert metric["verdictd_vote_extensions_total"] >= 1, text
    assert metric["verdictd_store_bytes"] > 0, text
    assert metric["verdictd_finalize_block_seconds_count{}"] >= h, text
    with urllib.request.urlopen(node.comet_metrics_url, timeout=10) as r:
        assert "cometbft_consensus_height" in r.read().decode()

    # Bad input: grpc-gateway's error body.
    s, err, _ = rest(api, "/cosmos/base/tendermint/v1beta1/blocks/999999999")
    assert s != 200 and err["message"]
    s, err, _ = rest(api, "/cosmos/bank/v1beta1/balances/notanaddress")
    assert s == 400 and err["code"] == 3
