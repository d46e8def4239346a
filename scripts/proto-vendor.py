#!/usr/bin/env python3
"""Copies the third-party .proto files Verdict serves (and their imports) into
proto/third_party/, from the Go module cache (the Go module proxy is the one
place they are published as versioned archives).

    python3 scripts/proto-vendor.py      # after a version bump below

The copies are checked in, so a build needs no network and no protoc: the proto
crate's build script compiles them with protox (pure Rust). Only the transitive
closure of ROOTS is copied; every file keeps its upstream licence header.
"""
import json
import pathlib
import re
import shutil
import subprocess
import sys

MODULES = {
    # go module: directory inside it that is the proto include root
    "github.com/cosmos/cosmos-sdk@v0.50.13": "proto",
    "github.com/cosmos/gogoproto@v1.7.0": "",
    "github.com/cosmos/cosmos-proto@v1.0.0-beta.5": "proto",
    "github.com/cometbft/cometbft@v0.38.17": "proto",
    "github.com/cosmos/ibc-go/v8@v8.7.0": "proto",
    "github.com/grpc-ecosystem/grpc-gateway@v1.16.0": "third_party/googleapis",
}

# What the node serves or signs: every query service in the route table, the tx
# and node services, and the messages with amino names.
ROOTS = [
    "cosmos/auth/v1beta1/query.proto",
    "cosmos/bank/v1beta1/query.proto",
    "cosmos/bank/v1beta1/tx.proto",
    "cosmos/staking/v1beta1/query.proto",
    "cosmos/staking/v1beta1/tx.proto",
    "cosmos/distribution/v1beta1/query.proto",
    "cosmos/distribution/v1beta1/tx.proto",
    "cosmos/slashing/v1beta1/query.proto",
    "cosmos/slashing/v1beta1/tx.proto",
    "cosmos/tx/v1beta1/service.proto",
    "cosmos/base/tendermint/v1beta1/query.proto",
    "cosmos/base/node/v1beta1/query.proto",
    "cosmos/crypto/secp256k1/keys.proto",
    "cosmos/crypto/ed25519/keys.proto",
    "cosmos/crypto/multisig/keys.proto",
    "ibc/core/client/v1/query.proto",
    "ibc/core/client/v1/tx.proto",
    "ibc/core/connection/v1/query.proto",
    "ibc/core/connection/v1/tx.proto",
    "ibc/core/channel/v1/query.proto",
    "ibc/core/channel/v1/tx.proto",
    "ibc/applications/transfer/v1/query.proto",
    "ibc/applications/interchain_accounts/host/v1/query.proto",
    "ibc/applications/transfer/v1/tx.proto",
    "ibc/lightclients/tendermint/v1/tendermint.proto",
]

BUILTIN = re.compile(r"^google/protobuf/")  # protox ships the well-known types

# Published in no Go module: rebuilt once from the descriptor set the ics23
# crate ships and kept as is (the file says so in its header).
RECONSTRUCTED = {"cosmos/ics23/v1/proofs.proto"}


def module_dirs():
    dirs = []
    for mod, sub in MODULES.items():
        out = subprocess.run(["go", "mod", "download", "-json", mod],
                             check=True, capture_output=True, text=True).stdout
        dirs.append(pathlib.Path(json.loads(out)["Dir"]) / sub)
    return dirs


def main():
    repo = pathlib.Path(__file__).resolve().parent.parent
    dest = repo / "proto" / "third_party"
    dirs = module_dirs()
    seen, todo = set(), list(ROOTS)
    while todo:
        name = todo.pop()
        if name in seen or BUILTIN.match(name):
            continue
        seen.add(name)
        if name in RECONSTRUCTED:
            continue
        src = next((d / name for d in dirs if (d / name).is_file()), None)
        if src is None:
            sys.exit(f"{name}: in none of {list(MODULES)}")
        text = src.read_text()
        todo += re.findall(r'^import\s+(?:public\s+)?"([^"]+)";', text, re.M)
        out = dest / name
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, out)
        out.chmod(0o644)
    (dest / "SOURCES").write_text(
        "Copied by scripts/proto-vendor.py from these Go modules (Apache-2.0 / BSD):\n"
        + "".join(f"  {m} ({s or '.'})\n" for m, s in MODULES.items()))
    print(f"{len(seen)} files in {dest.relative_to(repo)}")


if __name__ == "__main__":
    main()
