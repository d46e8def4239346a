//! Module inference: the model registry and paid inference jobs (docs/design.md §6.1–6.2).
//! Owns keys under `inference/`. Calls bank (the fee escrow is the `inference`
//! module account) and reads staking (committees are sampled from the bonded set).
//!
//! A job is submitted in a tx at height H, gets its committee at the end of
//! FinalizeBlock(H) from a seed of consensus data (the block hash), and is then
//! carried through commit → reveal → settlement by the attestation module.
//!
//! # Invariants
//! - The `inference` module account holds exactly the fees of the live jobs.
//! - A job's committee never changes once assigned and holds unique validators.

#![warn(clippy::arithmetic_side_effects)]

pub mod beacon;
pub mod challenge;
pub mod committee;
pub mod error;
pub mod fee_denoms;
pub mod genesis;
pub mod handler;
pub mod jobs;
pub mod module;
pub mod msgs;
pub mod params;
pub mod query;
pub mod serving;
mod slots;
pub mod state;

pub use error::InferenceError;
pub use module::Inference;
pub use msgs::InferenceMsg;
pub use params::InferenceParams;
