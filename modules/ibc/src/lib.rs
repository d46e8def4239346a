//! IBC for Verdict: where IBC state lives in the store and how it is proven.
//!
//! IBC state (the ICS-24 paths: client and consensus states, connections,
//! channels, sequences, packet commitments, receipts and acknowledgements) lives
//! in its own Merkle sub-store, committed under the key [`STORE_KEY`] (`ibc`) of
//! the app-state tree whose root is the app hash. A proof of an IBC path is
//! therefore two ICS-23 proofs, the Merkle path `["ibc", path]` that ibc-rs and
//! every IBC client check: the path in the `ibc` sub-store, then the sub-store
//! root under `ibc` in the app hash. See [`commitment`].
//!
//! This crate owns the key layout, the proof format and the ibc-rs host
//! ([`context::IbcContext`]); the store (in the app) owns the trees. It may call
//! verdict-core and read staking params (the unbonding period).

pub mod commitment;
pub mod context;
pub mod error;
pub mod genesis;
pub mod handler;
pub mod host;
pub mod inference_app;
pub mod inference_packet;
pub mod inference_port;
pub mod keys;
pub mod query;

pub use commitment::{proof_specs, verify_membership, verify_non_membership, IbcProof};
pub use error::IbcError;
pub use handler::{execute, host_info, IbcMsg};

/// Key of the `ibc` sub-store root in the app-state tree, and the commitment
/// prefix this chain announces to counterparties.
pub const STORE_KEY: &[u8] = b"ibc";

/// The upgrade path this chain announces (ibc-go's, which every Cosmos SDK chain
/// uses and stock relayers put into the clients they create); a counterparty's
/// client of this chain must carry it (ICS-03 `validate_self_client`). Verdict
/// has no upgrade module yet: nothing is ever written there.
pub fn upgrade_path() -> Vec<String> {
    vec!["upgrade".to_string(), "upgradedIBCState".to_string()]
}

/// Prefix of IBC paths in the flat key space modules write through: the store
/// puts `FLAT_PREFIX ‖ path` into the `ibc` sub-store under `path`.
pub const FLAT_PREFIX: &[u8] = b"ibc/";

/// The flat key of an ICS-24 path.
pub fn flat_key(path: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(FLAT_PREFIX.len().saturating_add(path.len()));
    k.extend_from_slice(FLAT_PREFIX);
    k.extend_from_slice(path);
    k
}

/// The ibc-rs version this crate is built against, for callers and tests.
pub use ibc;
