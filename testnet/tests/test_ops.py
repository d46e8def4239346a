"""End-to-end: operating a node. An upgrade halt stops verdictd cleanly right
after the block it names (state committed, nothing after it), and the node
carries on from there once restarted without it. Pruning keeps the recent
state whole, answers a clear error for older heights, and has CometBFT prune
its blocks too."""

import signal
import time

from testnet.ports import wait_free


def stop_app_and_engine(node):
    """Stops CometBFT and verdictd (the sidecar keeps running) and waits for
    the ABCI port."""
    for proc in ("cometbft", "verdictd"):
        node.kill(proc, signal.SIGTERM)
        assert node.wait_dead(proc, 15), proc
    assert not wait_free([node.abci_port], 15)


def test_halt_height_stops_after_that_block_and_the_node_resumes_from_it(net, free_ports):
    free_ports(1)
    net.generate(1)
    net.start()
    node = net.node(0)
    assert net.wait_height([0], 3, 60)
    stop_app_and_engine(node)
    halt = 7
    node.start_verdictd(extra=["--halt-height", str(halt)])
    node.start_cometbft()
    deadline = time.monotonic() + 60
    while node.pid("verdictd") is not None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert node.pid("verdictd") is None, "verdictd did not stop at its halt height"
    log = node.log_file("verdictd").read_text()
    stop = [line for line in log.splitlines() if "halt height/time reached" in line]
    assert stop and f"height={halt}" in stop[-1], log[-2000:]
    stop_app_and_engine(node)  # CometBFT lost its app
    # Restarted without the halt, the node replays nothing it lacks and goes on.
    node.restart()
    assert net.wait_height([0], halt + 3, 60)
    assert node.rpc(f"block?height={halt}")["block"]["header"]["height"] == str(halt)


def test_pruning_keeps_recent_state_and_tells_old_heights_apart(net, free_ports):
    free_ports(1)
    net.generate(1)
    net.start()
    node = net.node(0)
    assert net.wait_height([0], 2, 60)
    stop_app_and_engine(node)
    node.start_verdictd(extra=["--pruning", "custom", "--pruning-keep-recent", "3",
                               "--pruning-interval", "2", "--min-retain-blocks", "5"])
    node.start_cometbft()
    assert net.wait_height([0], 16, 90)
    latest = node.height()
    # Recent state answers with a proof; an old height says it is pruned.
    key = b"app/last_block"
    ok = node.rpc(f'abci_query?path="store/key"&data=0x{key.hex()}&height={latest - 1}&prove=true')["response"]
    assert ok.get("code", 0) == 0 and ok["value"], ok
    old = node.rpc(f'abci_query?path="store/key"&data=0x{key.hex()}&height=2')["response"]
    assert old["code"] == 26 and "pruned" in old["log"], old
    # CometBFT prunes its blocks behind retain_height too.
    deadline = time.monotonic() + 30
    while int(node.rpc("status")["sync_info"]["earliest_block_height"]) <= 1 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert int(node.rpc("status")["sync_info"]["earliest_block_height"]) > 1
