# Verdict — see README.md. Every target that needs installed tools runs `setup`
# first; setup is idempotent and returns in about a second when all is in place.

SHELL := /bin/bash
N ?= 4
# TEST ONLY: make node i misbehave, e.g. FAULTS="1:wrong,2:slow=3000". Sidecar faults:
# wrong, down, slow=MS, noise=REL (e.g. noise=1e-6), lie=MS; verdictd faults: copy, withhold.
FAULTS ?=
# Sidecar serve policies by node, e.g. SERVE="3:none" (a validator declares serving only
# the models its sidecar loads); EMPTY_MODELS=1 (with FRESH=1 or a new net): sidecars start
# with no model on disk and fetch each registered model from the net's model server.
SERVE ?=
NET_FLAGS = --serve "$(SERVE)" $(if $(EMPTY_MODELS),--empty-models,)
PY := .venv/bin/python
export CARGO_TERM_COLOR ?= never

.PHONY: help setup build run testnet testnet-stop test unit e2e e2e-hermes e2e-ibc-go fuzz bench bench-inference bench-ibc bench-sidecar bench-statesync bench-disk bench-wasmd models fmt lint clean sim sim-fast sdk-fixtures

help:
	@echo "make setup | build | run [N=4] [FAULTS=..] [SERVE=..] [EMPTY_MODELS=1] [FRESH=1] | testnet [N=4] [FAULTS=..] [SERVE=..] [EMPTY_MODELS=1] [FRESH=1] | testnet-stop | test | e2e | e2e-hermes | e2e-ibc-go | fuzz | bench | bench-inference | bench-ibc | bench-sidecar | bench-statesync | bench-disk | bench-wasmd | models | fmt | lint | clean | sim | sim-fast | sdk-fixtures"

setup:
	@scripts/setup.sh

build:
	cargo build --release --workspace --bins

# The main job: a local multi-validator net in the foreground, a line per block.
# GPU=1: every sidecar on CUDA (DEVICES="0:cuda,2:cuda" picks nodes); needs `make setup GPU=1`.
run: setup build
	$(if $(filter 1,$(GPU)),DEVICE=cuda,) $(PY) -m testnet run --n $(N) --faults "$(FAULTS)" $(NET_FLAGS) $(if $(FRESH),--fresh,)

testnet: setup build
	$(if $(filter 1,$(GPU)),DEVICE=cuda,) $(PY) -m testnet start --n $(N) --faults "$(FAULTS)" $(NET_FLAGS) $(if $(FRESH),--fresh,)

testnet-stop:
	python3 -m testnet stop

fmt:
	cargo fmt --all

# Seeded adversarial simulation: 60 validators, coalitions of 10–41 % with and
# without beacon grinding, settled through the real app FinalizeBlock (no
# CometBFT); prints markdown tables, ~3 min. SIM_JOBS=10000 for the long run
# (~22 min); `make sim-fast` is the pure model (committee draws, beacon, and
# attestation's own pure `settle::tally`, without jailing) with 10 000 jobs in seconds.
SIM_JOBS ?= 1500
sim:
	cargo run --release -p verdict-sim -- --jobs $(SIM_JOBS) --validators 60

sim-fast:
	cargo run --release -p verdict-sim -- --fast --jobs 10000 --validators 60

# Re-records the REST JSON of a real Cosmos SDK chain (wasmd, built once into
# .tools/bin, ~8 min) that app/tests/rest_sdk_shape.rs compares Verdict's with.
sdk-fixtures: setup
	bash scripts/sdk-gateway-fixtures.sh

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	bash scripts/arch/check.sh

unit:
	cargo test --workspace

# fmt, clippy, unit and app tests, then the end-to-end tests on real CometBFT nets
# (debug binaries: no second, release, compile of the dependency tree).
test: setup lint unit
	cargo build --workspace --bins
	VERDICT_BIN_DIR=target/debug $(PY) -m pytest -q scripts/tests testnet/tests

# Longer end-to-end runs: more kill/restart rounds on release binaries, then a
# short fuzzing session of tx decoding + CheckTx.
e2e: setup build
	E2E_KILLS=$${E2E_KILLS:-20} VERDICT_BIN_DIR=target/release $(PY) -m pytest -q testnet/tests
	$(MAKE) fuzz FUZZ_SECONDS=$${FUZZ_SECONDS:-30}

# The IBC e2e relayed by stock Hermes instead of the in-repo relayer. The first
# run builds Hermes into .tools/bin (cargo install, about 25 minutes on 2 cores).
HERMES_VERSION := 1.10.5
e2e-hermes: setup
	@test -x .tools/bin/hermes && .tools/bin/hermes version 2>/dev/null | grep -q $(HERMES_VERSION) \
	  || cargo install ibc-relayer-cli@$(HERMES_VERSION) --locked --root $(CURDIR)/.tools
	cargo build --workspace --bins
	VERDICT_BIN_DIR=$(CURDIR)/target/debug $(PY) -m pytest -q testnet/hermes/test_hermes.py

# ICS-20 between Verdict and an unmodified ibc-go chain (wasmd v0.70.3, ibc-go
# v11), relayed by stock Hermes. Builds wasmd (scripts/build-wasmd.sh, ~8
# minutes) and Hermes (~25 minutes) into .tools/bin the first time.
e2e-ibc-go: setup
	@test -x .tools/bin/hermes && .tools/bin/hermes version 2>/dev/null | grep -q $(HERMES_VERSION) \
	  || cargo install ibc-relayer-cli@$(HERMES_VERSION) --locked --root $(CURDIR)/.tools
	scripts/build-wasmd.sh
	cargo build --workspace --bins
	VERDICT_BIN_DIR=$(CURDIR)/target/debug $(PY) -m pytest -q testnet/ibc_go

# cargo-fuzz (libFuzzer, nightly toolchain): tx decoding + the tx pipeline,
# VerifyVoteExtension, ProcessProposal, the query router and the inference
# port's packet data, each for FUZZ_SECONDS (one target: FUZZ_TARGET=query).
# Seeds worth keeping are in fuzz/seeds/; new inputs go to fuzz/corpus/ and
# crashes to fuzz/artifacts/. Runs and findings: bench/FUZZING.md.
FUZZ_SECONDS ?= 60
FUZZ_TARGET ?= check_tx vote_extension process_proposal query ibc_packet
fuzz:
	@test -x .tools/bin/cargo-fuzz || CARGO_INSTALL_ROOT=$(CURDIR)/.tools cargo install cargo-fuzz --locked
	@test fuzz/Cargo.lock -nt Cargo.lock || cp Cargo.lock fuzz/Cargo.lock
	@for t in $(FUZZ_TARGET); do \
	  mkdir -p fuzz/corpus/$$t; \
	  echo "== fuzz $$t for $(FUZZ_SECONDS) s"; \
	  PATH=$(CURDIR)/.tools/bin:$$PATH cargo +nightly fuzz run $$t fuzz/corpus/$$t $$(test -d fuzz/seeds/$$t && echo fuzz/seeds/$$t) \
	    -- -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=4096 || exit 1; \
	done

bench: setup build
	@ABCI_CLI=1 scripts/setup.sh
	cargo build --release -p verdict-app --bench store_commit
	$(PY) -m bench.run
	$(PY) -m bench.load

# Inference jobs end to end: submit→result latency, vote-extension bytes, block interval.
bench-inference: setup build
	$(PY) -m bench.inference

# Remote inference over IBC: request→acknowledgement with the in-repo relayer and
# with Hermes (when .tools/bin/hermes exists), beside a local job on the serving chain.
bench-ibc: setup build
	$(PY) -m bench.ibc

# Store and block sizes over 20 000 blocks with pruning and traffic (long: about an hour).
bench-disk: setup build
	$(PY) -m bench.disk

# Signed MsgSend throughput beside wasmd (a stock Cosmos SDK chain, built once into
# .tools/bin/wasmd from the Go module proxy: several minutes), same client and load.
bench-wasmd: setup build
	scripts/build-wasmd.sh
	$(PY) -m bench.wasmd

# A fresh full node joining by state sync beside one replaying from genesis.
bench-statesync: setup build
	$(PY) -m bench.statesync

# Inference latency of verdict-sidecar beside Python onnxruntime on the same models.
bench-sidecar: setup
	cargo build --release -p verdict-sidecar
	$(PY) bench/sidecar.py

# Regenerate the test models and their Python onnxruntime reference outputs.
models: setup
	$(PY) models/make_models.py && $(PY) models/reference.py

clean:
	-python3 -m testnet stop
	rm -rf .testnet target
