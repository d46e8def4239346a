//! Module attestation (docs/design.md §6.3–6.9): what validators put in their vote
//! extensions about inference jobs, how those extensions are checked, and how
//! FinalizeBlock turns them into results, payments and slashes.
//!
//! Timeline for a job included at H (VE(h) is built on state h−1 and reaches the
//! app in block h+1):
//! - FinalizeBlock(H+1) draws its committee from the beacon after H+1
//!   (`verdict_inference::{beacon, committee}`): seats by stake with replacement;
//! - after Commit(H+1) each member's node runs the job on its sidecar;
//! - VE(H+2): `JobCommitment{sha256(tag ‖ job ‖ validator ‖ len ‖ digest ‖ salt)}`,
//!   recorded with the block's BFT time;
//! - the commit phase closes when every member committed, or the job's SLA has
//!   passed in BFT time (from H+3 on), or at `commit_blocks`: a member with no
//!   commitment by then is late (a missed seat, never a per-job slash);
//! - reveals `JobReveal{digest, salt}` once the phase has closed on chain;
//! - the FinalizeBlock where every member that committed has revealed (or the
//!   window closes) settles the job: weighted element-wise median, each digest
//!   judged agree / grey / wrong against atol + rtol·|median|
//!   ([`digest::judge`]), > 2/3 of committee weight agreeing to complete; pay or
//!   refund; slash wrong outputs (far beyond the tolerance, on completed jobs
//!   only) and bad reveals in that same block.
//!
//! Consensus code here uses integers only. [`digest::digest_of`] uses floats and
//! runs only on a validator's own node, outside state transitions.

#![warn(clippy::arithmetic_side_effects)]

pub mod digest;
pub mod error;
pub mod extension;
mod keys;
mod limits;
pub mod module;
pub mod settle;
mod types;

pub use error::{AttestationError, ExtensionError};
pub use extension::{build_extension, check_against_state, check_payload, LocalJob, NextBlock};
pub use module::Attestation;
pub use settle::{att_info, process_block, AttInfo};

#[cfg(test)]
mod tests;
