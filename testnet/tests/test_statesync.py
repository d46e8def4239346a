"""End-to-end: state sync. Validators take snapshots every few blocks; a fresh
full node joins the running net from the newest one (its light client trusting
a header read from node 0's RPC), then follows the chain with the same app
hash at every later height. A second fresh node replays from genesis instead,
for the time it takes beside it."""

import base64

from testnet.join import make_fullnode, start_fullnode, wait_synced

SNAPSHOT_INTERVAL = 10


def start_with_snapshots(net):
    net.model_server.start()
    for node in net.nodes:
        node.start_sidecar()
    for node in net.nodes:
        node.start_verdictd(extra=["--snapshot-interval", str(SNAPSHOT_INTERVAL),
                                   "--snapshot-keep-recent", "2"])
    for node in net.nodes:
        node.start_cometbft()


def app_state(node):
    """(last height, app hash) as `node`'s own app reports them."""
    info = node.rpc("abci_info")["response"]
    return int(info["last_block_height"]), base64.b64decode(info["last_block_app_hash"]).hex().upper()


def test_a_fresh_node_state_syncs_from_a_snapshot_and_follows_the_chain(net, free_ports):
    free_ports(4)
    net.generate(2)
    start_with_snapshots(net)
    # Snapshot at 20; the light client needs two headers above it.
    assert net.wait_height([0, 1], 2 * SNAPSHOT_INTERVAL + 3, 120)
    for i in (0, 1):
        snaps = sorted(p.name for p in (net.node(i).home / "verdict" / "snapshots").iterdir())
        assert str(2 * SNAPSHOT_INTERVAL) in snaps, (i, snaps)

    joined = []
    try:
        make_fullnode(net.out, 2, 2, state_sync=True)
        synced = net.node(2)
        joined.append(synced)
        start_fullnode(synced)
        target = net.top_height([0]) + 3
        took_sync = wait_synced(synced, target, 120)
        status = synced.rpc("status")["sync_info"]
        earliest = int(status["earliest_block_height"])
        assert earliest > SNAPSHOT_INTERVAL, f"no state sync: blocks from {earliest} on"
        log = synced.log_file("verdictd").read_text()
        assert "state sync: state restored and verified" in log, log[-3000:]

        make_fullnode(net.out, 2, 3, state_sync=False)
        replayed = net.node(3)
        joined.append(replayed)
        start_fullnode(replayed)
        took_replay = wait_synced(replayed, target, 120)
        assert int(replayed.rpc("status")["sync_info"]["earliest_block_height"]) == 1
        print(f"\nstate sync to height {target}: {took_sync:.1f} s (blocks from {earliest}); "
              f"replay from genesis: {took_replay:.1f} s")

        # Both follow the chain; their own apps agree with the validators' headers
        # (CometBFT also halts a node whose app hash differs from the next header's).
        top = net.top_height([0]) + 4
        assert net.wait_height([2, 3], top, 60)
        for node in (synced, replayed):
            h, app_hash = app_state(node)
            assert net.wait_height([0], h + 1, 30)
            assert app_hash == net.node(0).header_app_hash(h + 1).upper(), (node.name, h)
        net.assert_agreement(top, [0, 1, 3])
    finally:
        for node in joined:
            node.stop()
