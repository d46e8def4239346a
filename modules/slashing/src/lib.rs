//! Module slashing: a signing window over `decided_last_commit` (downtime → slash
//! and jail), `FinalizeBlock.misbehavior` (double sign → slash at the infraction
//! height, jail forever, tombstone), and `MsgUnjail`. Owns keys under
//! `slashing/`. Calls staking through its slash/jail API.
//!
//! - `params`: [`SlashingParams`] and [`params`];
//! - `state`: [`SigningInfo`], and in `state::keys` every table (crate-private);
//! - `liveness`: the signing window ([`handle_commit`]);
//! - `evidence`: double signs ([`handle_double_sign`]) and the faults other
//!   modules report ([`slash_for_fault`]);
//! - `unjail`: `MsgUnjail` ([`unjail`]);
//! - `error`: [`SlashingError`].
//!
//! # Invariants
//! - A tombstoned validator is never unjailed and never slashed twice for
//!   double signing.
//! - `missed_blocks_counter` equals the number of set bits in the window bitmap.

#![warn(clippy::arithmetic_side_effects)]

mod error;
mod evidence;
mod liveness;
pub mod module;
mod params;
pub mod query;
mod state;
mod unjail;

pub use error::SlashingError;
pub use evidence::{handle_double_sign, slash_for_fault, FaultSlash};
pub use liveness::{handle_commit, CommitVote};
pub use module::{Slashing, SlashingGenesis, SlashingMsg, MSG_UNJAIL_URL};
pub use params::SlashingParams;
pub use state::{params, SigningInfo};
pub use unjail::unjail;

// `module` writes the params at genesis through this path.

/// A consensus address as events show it: upper-case hex.
fn hex_upper(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02X}")).collect()
}

#[cfg(test)]
mod tests;
