//! Module staking: validators, delegations with shares, unbonding entries that
//! mature by block time, and the validator set CometBFT runs with. Owns keys under
//! `staking/`. Calls bank (pools are module accounts) and auth.
//!
//! Create-validator, edit-validator, delegate, undelegate, redelegate (with
//! their maturity queues), validator-set updates and the slash API. Rewards live
//! in `verdict-distribution`, which follows share changes through the
//! share-change outbox (`state::{shares_changed_pairs, clear_shares_changed}`).
//!
//! The tables are crate-private (`state::keys`): other crates read and write
//! staking state only through the functions of [`state`].
//!
//! # Invariants
//! - `bonded_pool` balance = Σ tokens of Bonded validators; `not_bonded_pool` =
//!   Σ tokens of other validators + Σ unbonding entry balances.
//! - Σ delegation shares of a validator = its `delegator_shares`.
//! - Power = tokens / 10^6 (the SDK's power reduction), and only Bonded, unjailed
//!   validators have power.

#![warn(clippy::arithmetic_side_effects)]

pub mod error;
pub mod genesis;
pub mod handler;
pub mod module;
pub mod msgs;
pub mod query;
pub mod state;

pub use error::StakingError;
pub use module::Staking;
pub use msgs::StakingMsg;
