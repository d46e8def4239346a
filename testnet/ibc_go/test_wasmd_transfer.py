"""ICS-20 between Verdict and wasmd v0.70.3 (Cosmos SDK 0.54, ibc-go v11,
unmodified), relayed by stock Hermes 1.10.5 (`make e2e-ibc-go`; not part of
`make test`: wasmd and Hermes take minutes to build).

Hermes creates the clients (Verdict's with its JMT proof specs), the
connection and a `transfer` channel (ics20-1) between a one-validator
Verdict net and a one-validator wasmd chain; then `hermes start` relays:

1. 5000uverd Verdict → wasmd: escrowed on Verdict, a voucher on wasmd;
2. the voucher wasmd → a fresh Verdict account: burned on wasmd, released
   from escrow on Verdict (balances exact, escrow empty after);
3. 20777stake wasmd → Verdict: the voucher `ibc/<sha256 of
   transfer/channel-0/stake>` on Verdict, its trace queryable; 700 of it back
   to wasmd (wasmd's escrow keeps 20077);
4. an inference job on Verdict paid with 20000 of that voucher (listed in
   Verdict's `inference.params.fee_denoms` at 1 uverd per unit): it settles
   with the output Python onnxruntime gives, and the validator's operator
   account is paid the 20000 in the voucher.

Both chains derive the escrow account of `transfer/channel-0` the same way
(checked byte for byte).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from testnet.hermes import Hermes
from testnet.jobs import Jobs, make_input, reference_output
from testnet.hermes.hermes import sdk_chain_entry
from testnet.wasmd import KEYRING, WASMD, wasmd, wasmd_net

WASM_CHAIN = "wasm-1"


def voucher(path: str) -> str:
    return "ibc/" + hashlib.sha256(path.encode()).hexdigest().upper()


def bech32_bytes(addr: str) -> bytes:
    """The data of a bech32 string (checksum not checked: both come from nodes)."""
    charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
    data = [charset.index(c) for c in addr.rsplit("1", 1)[1][:-6]]
    acc, bits, out = 0, 0, bytearray()
    for v in data:
        acc, bits = (acc << 5) | v, bits + 5
        while bits >= 8:
            bits -= 8
            out.append((acc >> bits) & 0xFF)
    return bytes(out)


def account_of(valoper: str) -> str:
    """The account address (`verdict1…`) of the same 20 bytes as `valoper`."""
    charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"

    def polymod(values):
        gen = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3]
        chk = 1
        for v in values:
            b = chk >> 25
            chk = (chk & 0x1ffffff) << 5 ^ v
            for i in range(5):
                chk ^= gen[i] if (b >> i) & 1 else 0
        return chk
    data, acc, bits = [], 0, 0
    for byte in bech32_bytes(valoper):
        acc, bits = (acc << 8) | byte, bits + 8
        while bits >= 5:
            bits -= 5
            data.append((acc >> bits) & 31)
    if bits:
        data.append((acc << (5 - bits)) & 31)
    hrp = "verdict"
    expanded = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
    pm = polymod(expanded + data + [0] * 6) ^ 1
    checksum = [(pm >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(charset[d] for d in data + checksum)


class Wasmd:
    """A one-validator wasmd chain (home, ports) and its CLI."""

    def __init__(self, d: Path, base: int):
        self.base = base
        homes, self.mnemonic = wasmd_net(1, d, WASMD, chain_id=WASM_CHAIN, base=base,
                                         timeout_commit="500ms", grpc=True)
        self.home = homes[0]
        self.proc: subprocess.Popen | None = None

    @property
    def node(self) -> str:
        return f"tcp://127.0.0.1:{self.base}"

    def start(self) -> None:
        with open(self.home / "node.log", "ab") as log:
            self.proc = subprocess.Popen([str(WASMD), "start", "--home", str(self.home)],
                                         stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def q(self, *args: str):
        out = wasmd(WASMD, self.home, "q", *args, "--node", self.node, "--output", "json")
        if "{" not in out:
            raise RuntimeError(f"wasmd q {' '.join(args)}: no JSON in {out!r}")
        return json.loads(out[out.index("{"):out.rindex("}") + 1])

    def height(self) -> int:
        try:
            url = f"http://127.0.0.1:{self.base}/status"
            with urllib.request.urlopen(url, timeout=2) as r:
                return int(json.loads(r.read())["result"]["sync_info"]["latest_block_height"])
        except (OSError, KeyError, ValueError):
            return 0

    def tx(self, *args: str) -> dict:
        """Broadcasts a tx signed by the faucet and waits for its result (code 0)."""
        out = wasmd(WASMD, self.home, "tx", *args, "--from", "faucet", *KEYRING,
                    "--chain-id", WASM_CHAIN, "--node", self.node, "--fees", "20000stake",
                    "--gas", "400000", "--yes", "--output", "json")
        r = json.loads(out[out.index("{"):])
        assert r.get("code", 0) == 0, r

        def included():
            try:
                return self.q("tx", r["txhash"])
            except RuntimeError:
                return None
        res = until(f"wasmd tx {args[:2]}", included, 60)
        assert int(res.get("code", 0)) == 0, res.get("raw_log", res)
        return res

    def address(self, name: str) -> str:
        return json.loads(wasmd(WASMD, self.home, "keys", "show", name, *KEYRING,
                                "--output", "json"))["address"]

    def balance(self, addr: str, denom: str) -> int:
        for c in self.q("bank", "balances", addr).get("balances", []):
            if c["denom"] == denom:
                return int(c["amount"])
        return 0


def until(what: str, f, timeout: float = 120.0, log: Path | None = None):
    """Polls `f` until it is truthy; fails the test with `what` (and the log's tail)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = f()
        if v:
            return v
        time.sleep(1)
    tail = log.read_text()[-4000:] if log and log.exists() else ""
    pytest.fail(f"timed out waiting for {what}\n{tail}")


def test_uverd_round_trips_to_wasmd_and_a_wasmd_token_arrives_as_a_traced_voucher(
        chains, tmp_path, port_offset):
    stake_voucher = voucher("transfer/channel-0/stake")
    with_chains(chains, tmp_path, port_offset, run,
                inference={"fee_denoms": [{"denom": stake_voucher, "price": "1"}]})


def with_chains(chains, tmp_path: Path, port_offset: int, body, **genesis) -> None:
    """A one-validator Verdict net (`genesis`: its NetSpec overrides) and a
    one-validator wasmd chain, both started; `body(a, w, tmp_path)`; wasmd
    stopped after (the `chains` fixture stops Verdict)."""
    assert Hermes.installed(), "run `make e2e-ibc-go` (it installs Hermes into .tools/bin)"
    assert WASMD.exists(), "run `make e2e-ibc-go` (it builds wasmd into .tools/bin)"
    a, _ = chains
    a.generate(1, chain_id="verdict-1", port_offset=port_offset, **genesis)
    w = Wasmd(tmp_path / "wasm", base=28000 + port_offset)
    a.start()
    w.start()
    try:
        body(a, w, tmp_path)
    finally:
        w.stop()


def started(a, w: Wasmd) -> None:
    assert a.wait_height([0], 3, 120), "Verdict did not start"
    until("wasmd height 2", lambda: w.height() >= 2, log=w.home / "node.log")


def relaying(a, w: Wasmd, tmp_path: Path, channels: bool = False) -> Hermes:
    """Hermes configured for both chains with one key funded on each (with
    `channels`, it also completes handshakes the chains start)."""
    hermes = Hermes(tmp_path / "hermes")
    hermes.write_config([a], extra=(sdk_chain_entry(WASM_CHAIN, w.base, w.base + 2,
                                                    "wasm", "stake"),), channels=channels)
    hermes.relayer_key([a])
    mnemonic = hermes.home / "relayer.mnemonic"
    hermes.add_key(WASM_CHAIN, mnemonic)
    relayer_w = json.loads(wasmd(WASMD, w.home, "keys", "add", "relayer", "--recover",
                                 *KEYRING, "--output", "json",
                                 stdin=mnemonic.read_text()))["address"]
    w.tx("bank", "send", "faucet", relayer_w, "50000000stake")
    until("the relayer funded on wasmd", lambda: w.balance(relayer_w, "stake") > 0)
    return hermes


def run(a, w: Wasmd, tmp_path: Path) -> None:
    started(a, w)
    cli = a.cli(timeout=200)
    hermes = relaying(a, w, tmp_path)
    hermes.run("create", "channel", "--a-chain", "verdict-1", "--b-chain", WASM_CHAIN,
               "--a-port", "transfer", "--b-port", "transfer", "--new-client-connection",
               "--yes", timeout=300)
    chan = w.q("ibc", "channel", "end", "transfer", "channel-0")
    assert chan["channel"]["state"] == "STATE_OPEN", chan
    assert chan["channel"]["version"] == "ics20-1", chan

    # The escrow account of transfer/channel-0: the same bytes on both chains.
    esc_v = cli.json("query", "ibc-transfer", "escrow-address", "channel-0")["escrow_address"]
    # (wasmd prints this one as plain text, whatever --output says)
    esc_w = wasmd(WASMD, w.home, "q", "ibc-transfer", "escrow-address", "transfer", "channel-0",
                  "--node", w.node).split()[-1]
    assert bech32_bytes(esc_v) == bech32_bytes(esc_w), (esc_v, esc_w)

    log = tmp_path / "hermes.log"
    relayer = hermes.start(log)
    try:
        faucet_w = w.address("faucet")
        back_to = cli.keys_add("back")["address"]
        cli.send("faucet", back_to, "1000000uverd")

        # 1. uverd out: escrowed on Verdict, a voucher on wasmd.
        v_on_w = voucher("transfer/channel-0/uverd")
        cli.run("tx", "ibc-transfer", "transfer", "faucet", "channel-0", faucet_w, "5000uverd",
                "--packet-memo", "to wasmd")
        until("the voucher on wasmd", lambda: w.balance(faucet_w, v_on_w) == 5000, log=log)
        assert cli.json("query", "ibc-transfer", "total-escrow", "uverd")["amount"]["amount"] == "5000"
        trace = w.q("ibc-transfer", "denom", v_on_w.split("/", 1)[1])
        assert trace["denom"]["base"] == "uverd", trace

        # 2. The voucher home, to another Verdict account: exact, escrow empty.
        w.tx("ibc-transfer", "transfer", "transfer", "channel-0", back_to, f"5000{v_on_w}")
        until("uverd back on Verdict",
              lambda: a.cli().json("query", "bank", "balances", back_to, "--denom", "uverd")
              ["balances"] == [{"denom": "uverd", "amount": "1005000"}], log=log)
        assert w.balance(faucet_w, v_on_w) == 0
        assert cli.json("query", "ibc-transfer", "total-escrow", "uverd")["amount"]["amount"] == "0"
        esc = cli.json("query", "bank", "balances", esc_v, "--denom", "uverd")["balances"]
        assert esc in ([], [{"denom": "uverd", "amount": "0"}]), esc

        # 3. wasmd's stake arrives as a traced voucher; part of it goes back.
        s_on_v = voucher("transfer/channel-0/stake")
        w.tx("ibc-transfer", "transfer", "transfer", "channel-0", back_to, "20777stake",
             "--memo", "pay for inference")
        until("stake's voucher on Verdict",
              lambda: cli.json("query", "bank", "balances", back_to, "--denom", s_on_v)
              ["balances"] == [{"denom": s_on_v, "amount": "20777"}], log=log)
        t = cli.json("query", "ibc-transfer", "denom-trace", s_on_v)["denom_trace"]
        assert t == {"path": "transfer/channel-0", "base_denom": "stake"}, t
        before = w.balance(faucet_w, "stake")
        cli.run("tx", "ibc-transfer", "transfer", "back", "channel-0", faucet_w, f"700{s_on_v}")
        until("stake home on wasmd", lambda: w.balance(faucet_w, "stake") == before + 700, log=log)
        left = cli.json("query", "bank", "balances", back_to, "--denom", s_on_v)["balances"]
        assert left == [{"denom": s_on_v, "amount": "20077"}], left
        assert w.q("ibc-transfer", "total-escrow", "stake")["amount"]["amount"] == "20077"

        # 4. A job paid with the voucher of wasmd's stake.
        jobs = Jobs(a, cli)
        ids = jobs.register_models()
        stem = "mlp_classifier"
        inp = make_input(stem, 5)
        job = jobs.submit(stem, inp, tmp_path, key="back", fee=f"20000{s_on_v}")
        assert job["status"] == "completed", job
        ref = reference_output(stem, inp)
        got = [float(x) for x in job["output"]]
        assert max(abs(x - y) for x, y in zip(got, ref)) <= float(job["tolerance"]), (got, ref)
        assert ids[stem] == job["model_id"], job
        left = cli.json("query", "bank", "balances", back_to, "--denom", s_on_v)["balances"]
        assert left == [{"denom": s_on_v, "amount": "77"}], left
        operator = account_of(jobs.valopers()[0])
        paid = cli.json("query", "bank", "balances", operator, "--denom", s_on_v)["balances"]
        assert paid == [{"denom": s_on_v, "amount": "20000"}], paid
    finally:
        relayer.terminate()
        relayer.wait(timeout=10)


# ---- An interchain account registered from wasmd runs an inference job ----

def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field(num: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field."""
    return varint(num << 3 | 2) + varint(len(payload)) + payload


def msg_submit_job(requester: str, model_id: str, inp: dict, fee: int) -> bytes:
    """`verdict.inference.v1.MsgSubmitJob` in protobuf (what wasmd cannot
    encode: it does not know Verdict's types, and needs not to)."""
    import numpy as np
    out = field(1, requester.encode()) + field(2, model_id.encode())
    for name, t in inp.items():
        data = np.array(t["data"], dtype=t["dtype"]).astype(np.dtype(t["dtype"]).newbyteorder("<"))
        tensor = (field(1, name.encode()) + field(2, t["dtype"].encode())
                  + field(3, b"".join(varint(d) for d in t["shape"])) + field(4, data.tobytes()))
        out += field(3, tensor)
    out += varint(4 << 3) + varint(2000)
    out += field(5, field(1, b"uverd") + field(2, str(fee).encode()))
    return out


def ica_packet(msgs: list[tuple[str, bytes]], memo: str) -> dict:
    """ICS-27 packet data: TYPE_EXECUTE_TX of a proto3 CosmosTx."""
    import base64
    tx = b"".join(field(1, field(1, url.encode()) + field(2, value)) for url, value in msgs)
    return {"type": "TYPE_EXECUTE_TX", "data": base64.b64encode(tx).decode(), "memo": memo}


def test_an_interchain_account_from_wasmd_runs_a_job_that_settles_with_onnxruntimes_output(
        chains, tmp_path, port_offset):
    with_chains(chains, tmp_path, port_offset, run_ica)


def ica_address(w: Wasmd, owner: str) -> str | None:
    try:
        return w.q("interchain-accounts", "controller", "interchain-account", owner,
                   "connection-0").get("address") or None
    except RuntimeError:
        return None


def run_ica(a, w: Wasmd, tmp_path: Path) -> None:
    started(a, w)
    cli = a.cli(timeout=200)
    hermes = relaying(a, w, tmp_path, channels=True)
    hermes.run("create", "connection", "--a-chain", WASM_CHAIN, "--b-chain", "verdict-1",
               timeout=300)
    ids = Jobs(a).register_models()
    log = tmp_path / "hermes.log"
    relayer = hermes.start(log)
    try:
        # wasmd registers; Hermes completes the handshake; wasmd learns the
        # account's address from Verdict's answer.
        owner = w.address("faucet")
        version = json.dumps({"version": "ics27-1", "controller_connection_id": "connection-0",
                              "host_connection_id": "connection-0", "address": "",
                              "encoding": "proto3", "tx_type": "sdk_multi_msg"})
        w.tx("interchain-accounts", "controller", "register", "connection-0",
             "--version", version)
        ica = until("the interchain account", lambda: ica_address(w, owner), 180, log)
        assert ica.startswith("verdict1"), ica
        cli.send("faucet", ica, "1000000uverd")

        # A job, sent by wasmd's owner through its account.
        stem = "mlp_classifier"
        inp = make_input(stem, 21)
        msg = msg_submit_job(ica, ids[stem], inp, 10_000)
        f = tmp_path / "packet.json"
        f.write_text(json.dumps(ica_packet([("/verdict.inference.v1.MsgSubmitJob", msg)],
                                           "a job from wasmd")))
        w.tx("interchain-accounts", "controller", "send-tx", "connection-0", str(f))

        def job():
            r = cli.json("query", "inference", "jobs", "--requester", ica)
            jobs = r.get("jobs", r) if isinstance(r, dict) else r
            done = [j for j in jobs if j.get("status") not in ("pending", "committing", "revealing")]
            return done[0] if done else None
        j = until("the interchain account's job to settle", job, 180, log)
        assert j["status"] == "completed", j
        full = cli.json("query", "inference", "job", str(j["id"]))
        job_json = full.get("job", full)
        ref = reference_output(stem, inp)
        got = [float(x) for x in job_json["output"]]
        tol = float(job_json["tolerance"])
        assert max(abs(x - y) for x, y in zip(got, ref)) <= tol, (got, ref)

        # A message the account may not send (another account's funds):
        # refused on Verdict, nothing moves.
        faucet_v = cli.address("faucet")
        send = field(1, faucet_v.encode()) + field(2, ica.encode()) + field(
            3, field(1, b"uverd") + field(2, b"1"))
        f.write_text(json.dumps(ica_packet([("/cosmos.bank.v1beta1.MsgSend", send)], "")))
        before = cli.json("query", "bank", "balances", ica, "--denom", "uverd")["balances"]
        w.tx("interchain-accounts", "controller", "send-tx", "connection-0", str(f))
        until("the refusal on Verdict", lambda: _failed_seen(a), 120, log)
        after = cli.json("query", "bank", "balances", ica, "--denom", "uverd")["balances"]
        assert before == after, (before, after)
    finally:
        relayer.terminate()
        relayer.wait(timeout=10)


def _failed_seen(a) -> bool:
    """An `ica_host_tx_failed` event in any recent block of node 0."""
    top = a.top_height([0])
    return any("ica_host_tx_failed" in json.dumps(a.node(0).tx_events(h))
               for h in range(max(1, top - 20), top + 1))
