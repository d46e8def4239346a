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
//! This crate owns the key layout ([`keys`]), the proof format and the ibc-rs
//! host ([`context::IbcContext`]); the store (in the app) owns the trees. It
//! may call verdict-core and read staking params (the unbonding period).

pub mod commitment;
pub mod context;
pub mod error;
mod events;
pub mod genesis;
pub mod handler;
pub mod host;
pub mod ica_host;
pub mod inference_app;
pub mod inference_packet;
pub mod inference_port;
pub mod keys;
pub mod module;
pub mod query;
pub mod router;
pub mod shared;
pub mod transfer_app;

pub use commitment::{proof_specs, verify_membership, verify_non_membership, IbcProof};
pub use error::IbcError;
pub use handler::{execute, host_info, IbcMsg};
pub use module::Ibc;

// The store layout, at the crate root where callers have always found it.
pub use keys::{flat_key, upgrade_path, FLAT_PREFIX, STORE_KEY};

/// The ibc-rs version this crate is built against, for callers and tests.
pub use ibc;
