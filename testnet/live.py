"""What `python3 -m testnet run` prints while the net runs: a line per block (its
app hash and which nodes agree), the inference jobs settled, the validators
slashed and the serving declarations recorded in it; and the demo: the shipped
models registered by URL, a line as each validator's sidecar reports each one
ready, then the jobs it keeps submitting."""

from __future__ import annotations

import sys
import threading
import time

from .jobs import Jobs, make_input, model_ids
from .net import Net


def _nodes(label: str, ids: list[int]) -> str:
    return f"  {label} [{' '.join(f'n{i}' for i in ids)}]" if ids else ""


class Live:
    def __init__(self, net: Net):
        self.net = net
        self.n = net.n
        self.names = net.node_names()
        self.stems = {v: k for k, v in model_ids().items()}
        self.jobs = Jobs(net)
        self.valopers: dict[str, str] = {}

    def run(self, until: float | None = None) -> None:
        """Prints one line per new height; below it, the inference jobs settled
        and the validators slashed in that block."""
        shown = events_shown = 0
        while until is None or time.monotonic() < until:
            hs = self.net.heights()
            up = [h for h in hs if h is not None]
            top = max(up) if up else 0
            for h in range(max(shown + 1, top - 20, 1), top + 1):
                hs = self._catch_up(hs, h)
                line = self.height_line(h, hs)
                if line:
                    print(line, flush=True)
                    shown = h
            # A header is visible before its block's results are stored: report the
            # jobs and slashes of a block once the next one exists.
            while events_shown + 1 < top:
                events_shown += 1
                for extra in self.event_lines(events_shown):
                    print(extra, flush=True)
            time.sleep(0.2)

    def _catch_up(self, hs: list[int | None], h: int) -> list[int | None]:
        """A node sampled one height short is usually milliseconds behind: give
        it up to a second before calling it behind."""
        grace = time.monotonic() + 1.0
        while any(x is not None and x < h for x in hs) and time.monotonic() < grace:
            time.sleep(0.1)
            hs = [x if x is None or x >= h else self.net.node(i).height() for i, x in enumerate(hs)]
        return hs

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
                + ("capped (blast radius): nothing burned or jailed" if capped else
                   f"burned {a.get('burned_coins')}uverd, jailed {a.get('jailed')}"))

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
