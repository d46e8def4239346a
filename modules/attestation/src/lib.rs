//! Module attestation (DESIGN §6.3–6.9): what validators put in their vote
//! extensions about inference jobs, how those extensions are checked, and how
//! FinalizeBlock turns them into results, payments and slashes.
//!
//! Timeline for a job included at H (VE(h) reaches the app in block h+1):
//! - after Commit(H) each committee member's node runs the job on its sidecar;
//! - VE(H+1): `JobCommitment{sha256(job ‖ validator ‖ digest ‖ salt), latency}`;
//! - VE(H+2): `JobReveal{digest, salt}` for what it committed one height earlier;
//! - the FinalizeBlock where every member has revealed (or the attestation window
//!   closes) settles the job: stake-weighted element-wise median of the digests,
//!   agreement within one quantum of the model's tolerance, > 2/3 of committee
//!   stake to complete; pay or refund; slash wrong outputs, bad reveals and SLA
//!   violations in that same block.
//!
//! Consensus code here uses integers only. [`digest::digest_of`] uses floats and
//! runs only on a validator's own node, outside state transitions.

#![warn(clippy::arithmetic_side_effects)]

pub mod digest;
pub mod extension;
pub mod settle;

pub use extension::{build_extension, check_against_state, check_payload, LocalJob};
pub use settle::{process_block, ATT_INFO};

#[cfg(test)]
mod tests;
