//! Module distribution: the fees of every block go, pro rata to power, to the
//! validators that signed the previous block (`decided_last_commit`); each
//! validator's share pays its commission and the rest goes to its delegators pro
//! rata to shares. Owns keys under `distribution/`; the coins sit in the
//! `distribution` module account. Calls bank (coins) and reads staking
//! through its functions (validators, delegation shares, and the share-change
//! outbox it drains: `shares_changed_pairs`, `clear_shares_changed`).
//!
//! # The scheme (exact, integer and fixed-point only)
//! - Per validator: `acc`, the cumulative reward per share (a `Decimal256`, 18
//!   decimals), `total_shares` (the shares this module has recorded for the
//!   validator's delegations), `outstanding` (tokens owed to its delegators) and
//!   `commission`.
//! - Per delegation: the `shares` recorded, the `checkpoint` (the validator's `acc`
//!   when they were recorded) and `pending` (earned, not withdrawn; a
//!   `Decimal256`).
//! - Allocating `A` tokens to a validator: `c = ⌊A × commission_rate⌋` to
//!   commission, `R = A − c` to delegators: `δ = ⌊R / total_shares⌋₁₈`,
//!   `acc += δ`, `outstanding += ⌈δ × total_shares⌉` and the truncation dust
//!   `R − ⌈δ × total_shares⌉` goes to the community pool.
//! - Settling a delegation: `pending += shares × (acc − checkpoint)`, then the
//!   shares are re-read from staking and the checkpoint moves to `acc`. Every
//!   share change in staking (delegate, undelegate, redelegate, and the unbonding
//!   of redelegated shares in a slash) lands in staking's share-change
//!   outbox, which is drained (each pair settled) before any allocation, so the
//!   shares that earn an allocation are exactly the shares at that moment.
//!   Slashing burns tokens, not shares: per-share accounting is untouched.
//! - Withdrawing pays `⌊pending⌋` from `outstanding`; the fraction stays pending.
//!
//! # Invariants
//! - Module account balance = Σ outstanding + Σ commission + community pool.
//! - Per validator, `total_shares` = Σ recorded delegation shares; for every
//!   pair not in the outbox, recorded shares = staking's shares.
//! - Σ over a validator's delegations of their earned rewards ≤ `outstanding`
//!   (each allocation adds `⌈δ × total_shares⌉` ≥ what the shares can earn).

#![warn(clippy::arithmetic_side_effects)]

pub mod module;
pub mod msgs;
pub mod query;
pub mod state;

pub use module::Distribution;
pub use msgs::DistributionMsg;
pub use state::{allocate_fees, allocate_to_validator, module_account, pay_validator, SignedVote};

use verdict_core::{codes, AbciError};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DistributionError {
    /// The SDK's `ErrEmptyDelegationDistInfo`.
    #[error("no delegation distribution info: no delegation from {delegator} to {validator}")]
    NoDelegation {
        delegator: String,
        validator: String,
    },
    /// The SDK's `ErrNoValidatorExists`.
    #[error("validator does not exist: {0}")]
    NoValidator(String),
    /// The SDK's `ErrNoValidatorCommission`.
    #[error("no validator commission to withdraw")]
    NoCommission,
    #[error("invalid request: {0}")]
    Invalid(String),
    #[error(transparent)]
    Bank(#[from] verdict_bank::BankError),
    #[error("overflow in {0}")]
    Overflow(&'static str),
    #[error("storage: {0}")]
    Storage(String),
}

impl AbciError for DistributionError {
    fn code(&self) -> u32 {
        match self {
            DistributionError::Bank(e) => e.code(),
            DistributionError::Storage(_) => 1,
            DistributionError::NoDelegation { .. } | DistributionError::NoValidator(_) => {
                codes::NOT_FOUND
            }
            _ => codes::INVALID_REQUEST,
        }
    }
}

impl From<cosmwasm_std::StdError> for DistributionError {
    fn from(e: cosmwasm_std::StdError) -> Self {
        DistributionError::Storage(e.to_string())
    }
}

impl From<verdict_staking::StakingError> for DistributionError {
    fn from(e: verdict_staking::StakingError) -> Self {
        match e {
            verdict_staking::StakingError::NoValidator(v) => DistributionError::NoValidator(v),
            other => DistributionError::Storage(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests;
