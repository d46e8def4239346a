"""End-to-end: a validator whose CometBFT signs through a remote signer (the
privval socket protocol tmkms and Horcrux speak; here CometBFT's own
SignerServer, scripts/test-signer) still attests: its attestor reads only
config/attestation_key.json, never the consensus key, which is not on the node."""

import json
import shutil
import subprocess

from testnet.env import ROOT, verdictd_bin
from testnet.jobs import make_input
from testnet.tests.test_ops import stop_app_and_engine

SIGNER = ROOT / ".tools" / "bin" / "verdict-test-signer"


def test_a_validator_behind_a_remote_signer_attests_and_is_never_jailed(net, jobs, tmp_path, free_ports):
    assert SIGNER.is_file(), f"{SIGNER} missing: run `make setup`"
    free_ports(1)
    net.generate(1)
    node = net.node(0)
    home = node.home
    validator = node.consensus_address
    # The consensus key leaves the node for the signer's folder; CometBFT dials out
    # for every signature.
    vault = tmp_path / "signer"
    vault.mkdir()
    shutil.move(home / "config" / "priv_validator_key.json", vault / "key.json")
    shutil.copy(home / "data" / "priv_validator_state.json", vault / "state.json")
    sock = f"unix://{tmp_path}/pv.sock"
    cfg = home / "config" / "config.toml"
    cfg.write_text(cfg.read_text().replace('priv_validator_laddr = ""', f'priv_validator_laddr = "{sock}"'))
    signer = subprocess.Popen([str(SIGNER), "--key", str(vault / "key.json"), "--state",
                               str(vault / "state.json"), "--addr", sock, "--chain-id", net.chain_id],
                              stdout=open(tmp_path / "signer.log", "w"), stderr=subprocess.STDOUT)
    try:
        net.start()
        assert net.wait_height([0], 3, 90), (tmp_path / "signer.log").read_text()[-2000:]
        # CometBFT made itself a new, unused key file at start: not the validator's.
        stray = json.loads((home / "config" / "priv_validator_key.json").read_text())["address"]
        assert stray != validator
        assert node.validators() == {validator: 100}
        assert "remote signer up" in (tmp_path / "signer.log").read_text()

        jobs.register_models()
        job = jobs.submit("mlp_classifier", make_input("mlp_classifier", 5), tmp_path)
        assert job["status"] == "completed", job
        assert validator in job["result"]["agreeing"], job
        assert jobs.query("faults") == []
        # It keeps signing blocks (votes and vote extensions through the signer).
        h = node.height()
        assert net.wait_height([0], h + 3, 30)
        sigs = node.rpc(f"commit?height={h + 2}")["signed_header"]["commit"]["signatures"]
        assert [s["validator_address"] for s in sigs] == [validator]

        # Naming a consensus key file as well (the older way) is refused: one key.
        stop_app_and_engine(node)
        r = subprocess.run([str(verdictd_bin()), "start", "--home", str(home), "--validator-key",
                            str(home / "config" / "priv_validator_key.json")],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 1 and "one key" in r.stderr, r.stderr
    finally:
        signer.terminate()
        signer.wait(10)

