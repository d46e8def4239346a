//! The chain's set-up: its constants, the sim's accounts and models, and the
//! validators' gentxs.

use ed25519_consensus::SigningKey;
use sha2::{Digest, Sha256};
use tendermint_proto::google::protobuf::Timestamp;
use verdict_app::txbuild::{sign_tx, AccountKey, TxSpec};
use verdict_core::coin::Coin;

/// The most the slot-squatter pays per job (uverd); above it, it stops.
pub(super) const SQUAT_MAX_FEE: u128 = 20_000;
/// The most the requester pays per job (uverd); above it, it waits a block.
pub(super) const REQ_MAX_FEE: u128 = 100_000;

pub(super) const CHAIN: &str = "verdict-sim-1";
pub(super) const T0: i64 = 1_700_000_000;
/// Job slots per block (`max_jobs_per_block`); local jobs are further capped
/// by `max_jobs_per_source` when the chain has that parameter.
pub(super) const JOBS_PER_BLOCK: u64 = 8;
pub(super) const WINDOW: u64 = 8;
pub(super) const COMMIT_BLOCKS: u64 = 3;
pub(super) const MAX_LATENCY_MS: u32 = 1_000;
pub(super) const VE_CAP: u32 = 8192;

pub(super) fn model_id() -> String {
    hex::encode(Sha256::digest(b"verdict-sim-model"))
}

/// The second model: registered by the squatter, served by no validator.
pub(super) fn squat_model_id() -> String {
    hex::encode(Sha256::digest(b"verdict-sim-squatted-model"))
}

pub(super) fn user() -> AccountKey {
    AccountKey::from_bytes(&[42; 32]).expect("user key")
}

/// The slot-squatter's account (not a validator).
pub(super) fn squatter() -> AccountKey {
    AccountKey::from_bytes(&[77; 32]).expect("squatter key")
}

/// Jobs the squatter submits per block by default (before the requester's, as
/// if its txs came first in the proposer's block); `--squat N` sets it.
pub(crate) const SQUAT_PER_BLOCK: u64 = 2;

pub(super) fn key32(tag: &[u8], seed: u64, i: usize) -> [u8; 32] {
    Sha256::new()
        .chain_update(tag)
        .chain_update(seed.to_be_bytes())
        .chain_update((i as u64).to_be_bytes())
        .finalize()
        .into()
}

pub(super) fn time(h: i64) -> Timestamp {
    Timestamp {
        seconds: T0 + h,
        nanos: 0,
    }
}

pub(super) fn gentx(i: usize, op: &AccountKey, key: &SigningKey, tokens: u128) -> String {
    let msg = verdict_app::txbuild::create_validator_msg(
        &op.address(),
        &key.verification_key().to_bytes(),
        &Coin::new(tokens, "uverd"),
        &format!("v{i}"),
        "50000000000000000",
    );
    let spec = TxSpec {
        msgs: vec![msg],
        memo: String::new(),
        timeout_height: 0,
        fee: vec![],
        gas_limit: 400_000,
    };
    // Account numbers: fee collector 0, user 1, operators 2.. (genesis order).
    hex::encode(sign_tx(&spec, op, CHAIN, 2 + i as u64, 0))
}
