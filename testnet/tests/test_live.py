"""Unit tests of the live view (`make run`'s line per height) on a fake net and a
fake clock: no process, no net fixture, milliseconds."""

from __future__ import annotations

from testnet.live import Live

GOOD = "AB" * 32
BAD = "CD" * 32


class FakeNode:
    def __init__(self, net: "FakeNet", i: int):
        self.net, self.i = net, i

    def height(self) -> int | None:
        return self.net.hs[self.i]

    def header_app_hash(self, h: int) -> str | None:
        x = self.net.hs[self.i]
        if x is None or x < h:
            return None
        return self.net.wrong.get((self.i, h), GOOD)


class FakeNet:
    """`hs[i]`: node i's height (None: down); `wrong[(i, h)]`: the app hash node i
    has for height h where it is not GOOD."""

    def __init__(self, hs: list[int | None]):
        self.hs = list(hs)
        self.n = len(hs)
        self.wrong: dict[tuple[int, int], str] = {}

    def node_names(self) -> dict[str, str]:
        return {f"ADDR{i}": f"node{i}" for i in range(self.n)}

    def heights(self) -> list[int | None]:
        return list(self.hs)

    def node(self, i: int) -> FakeNode:
        return FakeNode(self, i)


class FakeJobs:
    """No events, except a slash in each block listed."""

    def __init__(self, slashed: tuple[int, ...] = ()):
        self.slashed = slashed

    def tx_events(self, h: int) -> list[dict]:
        return []

    def block_events(self, h: int) -> list[dict]:
        return ([{"type": "slash", "attrs": {"address": "ADDR3", "reason": "wrong_result",
                                            "burned_coins": "5", "jailed": "true"}}]
                if h in self.slashed else [])


class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def live(hs: list[int | None], timeout: float = 5.0, jobs: FakeJobs | None = None):
    net, clock = FakeNet(hs), Clock()
    view = Live(net, timeout=timeout, clock=clock)
    view.jobs = jobs or FakeJobs()
    return view, net, clock


def heights(lines: list[str]) -> list[int]:
    return [int(x.split()[1]) for x in lines if x.startswith("height")]


def test_a_node_one_block_behind_briefly_holds_the_line_back_and_is_not_named():
    view, net, clock = live([1, 1, 1, 1])
    assert heights(view.poll()) == [1]
    net.hs = [2, 2, 2, 1]
    clock.t += 0.2
    assert view.poll() == []  # height 2 waits for n3
    clock.t += 3.0
    assert view.poll() == []  # still within the 5 s
    net.hs = [2, 2, 2, 2]
    clock.t += 0.2
    lines = view.poll()
    assert heights(lines) == [2]
    assert "agree 4/4 [n0 n1 n2 n3]" in lines[0]
    assert "behind" not in lines[0] and "down" not in lines[0]


def test_a_node_stuck_behind_past_the_timeout_is_named_behind_and_delays_no_further_height():
    view, net, clock = live([1, 1, 1, 1])
    view.poll()
    net.hs = [3, 3, 3, 1]  # n3 stops at 1
    clock.t += 0.2
    assert view.poll() == []
    clock.t += 4.7
    assert view.poll() == []
    clock.t += 0.4  # 5.1 s after heights 2 and 3 were first seen
    lines = view.poll()
    assert heights(lines) == [2, 3]
    assert all("agree 3/4 [n0 n1 n2]" in x and x.endswith("behind [n3]") for x in lines)
    # Already named behind: the next height does not wait for n3 again.
    net.hs = [4, 4, 4, 1]
    clock.t += 0.2
    lines = view.poll()
    assert heights(lines) == [4] and lines[0].endswith("behind [n3]")
    # Caught up, n3 is waited for again (briefly) and then agrees.
    net.hs = [5, 5, 5, 4]
    clock.t += 0.2
    assert view.poll() == []
    net.hs = [5, 5, 5, 5]
    clock.t += 0.2
    lines = view.poll()
    assert heights(lines) == [5] and "agree 4/4" in lines[0]


def test_a_down_node_is_named_down_and_a_node_down_all_along_holds_nothing_back():
    view, net, clock = live([1, 1, 1, 1])
    view.poll()
    net.hs = [2, 2, None, 2]  # n2 stops answering after height 2 appeared
    clock.t += 0.2
    assert view.poll() == []  # a restart, perhaps: height 2 waits
    clock.t += 5.0
    lines = view.poll()
    assert heights(lines) == [2]
    assert "agree 3/4 [n0 n1 n3]" in lines[0] and lines[0].endswith("down [n2]")
    # Down before height 3 was first seen: no wait at all.
    net.hs = [3, 3, None, 3]
    clock.t += 0.2
    lines = view.poll()
    assert heights(lines) == [3] and lines[0].endswith("down [n2]")


def test_a_node_down_before_a_height_appears_does_not_delay_it():
    view, net, clock = live([4, 4, 4, 4])
    assert heights(view.poll()) == [1, 2, 3, 4]
    net.hs = [4, 4, 4, None]
    clock.t += 0.2
    assert view.poll() == []
    net.hs = [5, 5, 5, None]
    clock.t += 0.2
    lines = view.poll()
    assert heights(lines) == [5] and lines[0].endswith("down [n3]")


def test_a_disagreeing_app_hash_is_named_disagree():
    view, net, clock = live([2, 2, 2, 2])
    net.wrong[(1, 2)] = BAD
    lines = view.poll()
    assert heights(lines) == [1, 2]
    assert "agree 4/4" in lines[0]
    assert f"app_hash {GOOD[:16]}…  agree 3/4 [n0 n2 n3]  DISAGREE [n1]" in lines[1]
    assert "behind" not in lines[1] and "down" not in lines[1]


def test_heights_print_in_order_and_a_blocks_events_come_below_its_line():
    view, net, clock = live([1, 1, 1, 1], jobs=FakeJobs(slashed=(2, 3)))
    assert heights(view.poll()) == [1]
    net.hs = [3, 3, 2, 3]  # n2 still short of 3
    clock.t += 0.2
    lines = view.poll()
    # 3 waits for n2; block 2's line is out and block 3 exists: 2's slash follows.
    assert heights(lines) == [2] and len(lines) == 2
    assert lines[1] == "    [2] SLASH node3 wrong_result: burned 5uverd, jailed true"
    net.hs = [4, 4, 4, 4]
    clock.t += 0.2
    lines = view.poll()
    assert heights(lines) == [3, 4] and len(lines) == 3
    assert lines[2].startswith("    [3] SLASH node3")


def test_a_view_started_late_prints_only_the_last_heights():
    view, net, clock = live([500, 500, 500, 500])
    assert heights(view.poll()) == list(range(480, 501))
