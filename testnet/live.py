"""What `python3 -m testnet run` prints while the net runs: a line per block (its
app hash and which nodes agree), the inference jobs settled, the validators
slashed and the serving declarations recorded in it; and the demo: the shipped
models registered by URL, a line as each validator's sidecar reports each one
ready, then the jobs it keeps submitting."""

from __future__ import annotations

import sys
import threading
import time
from typing import Callable

from .jobs import Jobs, make_input, model_ids
from .net import Net


def _nodes(label: str, ids: list[int]) -> str:
    return f"  {label} [{' '.join(f'n{i}' for i in ids)}]" if ids else ""


class Live:
    """The live view of a net (see `run`). `timeout`: how long a height may wait
    for the nodes that have not reached it yet; `clock`: seconds, monotonic
    (tests pass a fake one)."""

    def __init__(self, net: Net, timeout: float = 5.0, clock: Callable[[], float] = time.monotonic):
        self.net = net
        self.n = net.n
        self.names = net.node_names()
        self.stems = {v: k for k, v in model_ids().items()}
        self.timeout = timeout
        self.clock = clock
        self._jobs: Jobs | None = None
        self.valopers: dict[str, str] = {}
        self.shown = 0          # the last height printed (or given up on)
        self.events_shown = 0   # the last height whose events were printed
        self.first_seen: dict[int, float] = {}  # height → when some node first had it
        self.down_since: dict[int, float] = {}  # node → since when it has not answered
        self.lagging: set[int] = set()  # nodes a line went out without, until they catch up

    @property
    def jobs(self) -> Jobs:
        """The net's inference queries (made on first use: the block lines need none)."""
        if self._jobs is None:
            self._jobs = Jobs(self.net)
        return self._jobs

    @jobs.setter
    def jobs(self, jobs: Jobs) -> None:
        self._jobs = jobs

    def run(self, until: float | None = None) -> None:
        """Prints one line per height, in order; below it, the inference jobs
        settled, the validators slashed and the serving declarations of that
        block. Polls the nodes every 0.2 s (`poll`) and never blocks on one: a
        height is printed once every node that is up has reached it, or once
        `timeout` seconds have passed since a node first had it; only then are
        the nodes still short of it named `behind` (or `down`)."""
        while until is None or self.clock() < until:
            for line in self.poll():
                print(line, flush=True)
            time.sleep(0.2)

    def _waits_for(self, i: int, h: int, hs: list[int | None]) -> bool:
        """Whether height h's line still waits for node i. It does while i is up
        and short of h, or went down after h was first seen (a restart, an RPC
        call that failed once), unless a line already went out without it by
        timeout and it has not caught up since (a stuck or slow node costs each
        height no more wait). A node down since before h was first seen does
        not hold h back at all; one found down on the very poll that first saw h
        may hold it for the timeout."""
        x = hs[i]
        if x is None:
            return i not in self.lagging and self.down_since[i] >= self.first_seen[h]
        return x < h and i not in self.lagging

    def poll(self) -> list[str]:
        """One look at the nodes: the height lines now due (every height after the
        last one printed whose nodes are all there or whose timeout has passed,
        stopping at the first that is neither) and the events of the blocks
        whose lines are out and whose next block exists."""
        now = self.clock()
        hs = self.net.heights()
        for i, x in enumerate(hs):
            if x is None:
                self.down_since.setdefault(i, now)
            else:
                self.down_since.pop(i, None)
                if x >= self.shown:
                    self.lagging.discard(i)
        up = [x for x in hs if x is not None]
        top = max(up) if up else 0
        # Far behind (e.g. a view started on a long-running net): from the last 20.
        self.shown = max(self.shown, top - 21)
        lines = []
        for h in range(self.shown + 1, top + 1):
            self.first_seen.setdefault(h, now)
            timed_out = now - self.first_seen[h] >= self.timeout
            if not timed_out and any(self._waits_for(i, h, hs) for i in range(self.n)):
                break
            line = self.height_line(h, hs)
            if line is None and not timed_out:
                break  # no node would tell its header yet: ask again
            if line is not None:
                lines.append(line)
            if timed_out:
                self.lagging |= {i for i in range(self.n) if hs[i] is None or hs[i] < h}
            self.shown = h
        self.first_seen = {h: t for h, t in self.first_seen.items() if h > self.shown}
        # A header is visible before its block's results are stored: report the
        # jobs and slashes of a block once the next one exists (and below its line).
        while self.events_shown < min(self.shown, top - 1):
            self.events_shown += 1
            lines.extend(self.event_lines(self.events_shown))
        return lines

    def height_line(self, h: int, hs: list[int | None]) -> str | None:
        """`height H app_hash … agree K/N [...]`, with the nodes that disagree,
        lag or are down; None while no node has the header."""
        hashes = {i: self.net.node(i).header_app_hash(h) for i in range(self.n)
                  if hs[i] is not None and hs[i] >= h}
        vals = [v for v in hashes.values() if v]
        if not vals:
            return None
        ref = max(set(vals), key=vals.count)
        agree = [i for i, v in hashes.items() if v == ref]
        line = (f"height {h:>6}  app_hash {ref[:16]}…  agree {len(agree)}/{self.n} "
                f"[{' '.join(f'n{i}' for i in agree)}]")
        line += _nodes("DISAGREE", [i for i, v in hashes.items() if v and v != ref])
        line += _nodes("behind", [i for i in range(self.n) if hs[i] is not None and hs[i] < h])
        return line + _nodes("down", [i for i in range(self.n) if hs[i] is None])

    def _who(self, attrs: dict, key: str) -> str:
        return ",".join(self.names.get(x, x[:8]) for x in attrs.get(key, "").split(",") if x)

    def job_line(self, h: int, a: dict) -> str:
        line = (f"    [{h}] job {a['job_id']} {self.stems.get(a.get('model_id', ''), '?')} {a['status']}: "
                f"agreeing {a.get('agreeing_power')}/{a.get('committee_power')} power "
                f"[{self._who(a, 'agreeing')}] latency {a.get('latency_ms')} ms (chain-measured)")
        for key in ("late", "grey", "missing"):
            if self._who(a, key):
                line += f" {key} [{self._who(a, key)}]"
        return line

    def slash_line(self, h: int, a: dict) -> str:
        capped = a.get("capped") == "true"
        return (f"    [{h}] SLASH {self.names.get(a.get('address', ''), a.get('address'))} "
                f"{a.get('reason')}{' job ' + a['job_id'] if 'job_id' in a else ''}: "
                + ("capped (blast radius): nothing slashed or jailed" if capped else
                   f"{self.took(a)}, jailed {a.get('jailed')}"))

    @staticmethod
    def took(a: dict) -> str:
        """What a slash took: burned (consensus faults) or moved to the insurance pool."""
        if "slashed_coins" in a:
            return f"{a['slashed_coins']}uverd to the insurance pool"
        return f"burned {a.get('burned_coins')}uverd"

    def serve_line(self, h: int, a: dict) -> str:
        """`[h] n1 now serves mlp_classifier (chain record)` from an inference_serve event."""
        op = a.get("validator", "")
        if op not in self.valopers:
            try:
                self.valopers = {v: f"n{i}" for i, v in self.jobs.valopers().items()}
            except Exception:  # noqa: BLE001 - the address itself still prints
                pass
        mid = a.get("model_id", "")
        verb = "now serves" if a.get("serving") == "true" else "stopped serving"
        return (f"    [{h}] {self.valopers.get(op, op)} {verb} "
                f"{self.stems.get(mid, mid[:12] + '…')} (on chain: eligible for its committees from now on)")

    def event_lines(self, h: int) -> list[str]:
        """Job results, slashes and serving declarations of block h, one line each."""
        try:
            events = self.jobs.tx_events(h) + self.jobs.block_events(h)
        except Exception:  # noqa: BLE001 - a node may be restarting; the block line still prints
            return []
        lines = []
        for e in events:
            if e["type"] == "inference_job_result":
                lines.append(self.job_line(h, e["attrs"]))
            elif e["type"] == "slash":
                lines.append(self.slash_line(h, e["attrs"]))
            elif e["type"] == "inference_serve":
                lines.append(self.serve_line(h, e["attrs"]))
        return lines


def demo(net: Net, stop: threading.Event, every: float = 2.0) -> None:
    """Registers the shipped models by their URLs on the net's model server; each
    validator declares serving them once its sidecar reports them ready (a line
    each, in the background: a sidecar may take long, or never, e.g. `--serve
    none`); once every model has a server, keeps a gentle stream of jobs going."""
    tmp = net.out / "demo-inputs"
    tmp.mkdir(exist_ok=True)
    jobs = Jobs(net)
    stems_of = {v: k for k, v in model_ids().items()}
    say = threading.Lock()

    def ready(i: int, mid: str, _waited: float) -> None:
        line = (f"    node{i}: its sidecar reports {stems_of.get(mid, mid[:12])} ready "
                f"(height {net.node(i).height()}); declaring it served")
        with say:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()

    def declare() -> None:
        try:
            jobs.serve_when_ready(list(stems_of), timeout=600, on_ready=ready)
        except Exception as e:  # noqa: BLE001
            print(f"demo: declaring serving failed: {e}", flush=True)

    print(f"demo: registering {', '.join(stems_of.values())} from {net.model_url('')}", flush=True)
    try:
        jobs.register_models(serve=False)
    except Exception as e:  # noqa: BLE001
        print(f"demo: registering models failed: {e}", flush=True)
        return
    threading.Thread(target=declare, daemon=True).start()
    while not stop.is_set():
        try:
            if all(jobs.servers(mid) for mid in stems_of):
                break
        except Exception:  # noqa: BLE001 - ask again
            pass
        stop.wait(1.0)
    stems = list(model_ids())
    k = 0
    while not stop.is_set():
        stem = stems[k % len(stems)]
        try:
            jobs.submit(stem, make_input(stem, k), tmp, wait=False)
        except Exception as e:  # noqa: BLE001 - keep going; the next one may work
            print(f"demo: submitting a {stem} job failed: {e}", flush=True)
        k += 1
        stop.wait(every)
