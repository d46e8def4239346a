//! Module bank: balances, total supply, `MsgSend` and `MsgMultiSend` under their
//! standard type URLs. Owns keys under `bank/`. Calls auth (to create the
//! accounts of new recipients).
//!
//! # Invariants
//! - For every denom, the sum of all balances equals its supply
//!   ([`state::check_supply_invariant`]); tokens are only created at genesis
//!   (and later by minting modules through [`state::Bank::mint`]).
//! - No balance is ever stored as zero: a spent-out denom is removed.

#![warn(clippy::arithmetic_side_effects)]

pub mod error;
pub mod events;
pub mod genesis;
pub mod handler;
pub mod module;
pub mod msgs;
pub mod query;
pub mod state;

pub use error::BankError;
pub use module::BankModule;
pub use msgs::BankMsg;
pub use state::Bank;
