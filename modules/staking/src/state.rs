//! Staking state and the operations on it. Every token movement goes through bank
//! between an account and the two pool module accounts, so supply stays exact.
//!
//! By concern:
//! - [`keys`]: every table (crate-private; other crates use the functions here);
//! - `validators`: validator records, create / edit / jail, and reads by
//!   operator or consensus address;
//! - `delegations`: bonding tokens for shares and back, and the share-change
//!   outbox distribution drains;
//! - `unbonding`: undelegation entries and their maturity queue;
//! - `redelegation`: `MsgBeginRedelegate` and its entries;
//! - `slash`: slashing of stake (the API the slashing module calls);
//! - `active_set`: the validator set CometBFT runs with;
//! - `invariants`: the pool and share invariants.

use cosmwasm_std::{Storage, Uint128, Uint256};
use serde::{Deserialize, Serialize};
use verdict_core::address::{Addr, FEE_DENOM};
use verdict_core::coin::Coin;

use crate::error::StakingError;

mod active_set;
mod delegations;
mod invariants;
pub(crate) mod keys;
mod redelegation;
mod slash;
mod unbonding;
mod validators;

pub use active_set::{end_block_updates, PowerUpdate};
pub use delegations::{
    clear_shares_changed, delegate, delegation_shares, delegations, has_delegation,
    has_shares_changed, self_delegation_tokens, shares_changed_pairs, DelegationRecord,
};
pub use invariants::check_invariants;
pub use redelegation::{
    begin_redelegation, complete_redelegations, has_receiving_redelegation, redelegations,
    RedelegationEntry, RedelegationRecord,
};
pub use slash::{slash, slash_into, Sink};
pub use unbonding::{complete_unbondings, undelegate, UnbondingEntry};
pub use validators::{
    all_validators, bonded_validators, create_validator, create_validator_with, edit_validator,
    find_validator, operator_by_consensus_address, set_jailed, tokens_of_shares, validator,
    Commission, Status, Validator, MAX_DETAILS, MAX_IDENTITY, MAX_MONIKER, MAX_SECURITY_CONTACT,
    MAX_WEBSITE,
};

use keys::PARAMS;

/// Tokens per unit of CometBFT voting power (the SDK's `DefaultPowerReduction`).
pub const POWER_REDUCTION: u128 = 1_000_000;

pub fn bonded_pool() -> Addr {
    Addr::module("bonded_tokens_pool")
}

pub fn not_bonded_pool() -> Addr {
    Addr::module("not_bonded_tokens_pool")
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StakingParams {
    pub unbonding_time_seconds: u64,
    pub max_validators: u32,
    pub max_entries: u32,
    pub historical_entries: u32,
    pub bond_denom: String,
    /// Least self-bond (bond denom) a new validator starts with: one unit of
    /// voting power by default, so creating validators is not free spam.
    pub min_self_bond: Uint128,
}

impl Default for StakingParams {
    fn default() -> Self {
        StakingParams {
            unbonding_time_seconds: 21 * 24 * 3600,
            max_validators: 100,
            max_entries: 7,
            historical_entries: 10_000,
            bond_denom: FEE_DENOM.into(),
            min_self_bond: Uint128::new(1_000_000),
        }
    }
}

/// An address as stored in JSON state (bech32 would tie state to the prefix).
pub type Addr20 = [u8; 20];

/// `a × b / c` in 256-bit, floored.
fn mul_div(a: Uint128, b: Uint128, c: Uint128) -> Result<Uint128, StakingError> {
    if c.is_zero() {
        return Err(StakingError::Overflow("division by zero"));
    }
    let r = Uint256::from(a)
        .checked_mul(Uint256::from(b))
        .map_err(|_| StakingError::Overflow("mul"))?
        .checked_div(Uint256::from(c))
        .map_err(|_| StakingError::Overflow("div"))?;
    Uint128::try_from(r).map_err(|_| StakingError::Overflow("narrow"))
}

pub fn params(s: &dyn Storage) -> StakingParams {
    PARAMS.may_load(s).ok().flatten().unwrap_or_default()
}

pub fn consensus_address(pubkey: &[u8]) -> Addr20 {
    use sha2::Digest;
    let h = sha2::Sha256::digest(pubkey);
    let mut a = [0u8; 20];
    a.copy_from_slice(&h[..20]);
    a
}

/// The validator's ed25519 consensus key.
pub fn pubkey_bytes(v: &Validator) -> Result<[u8; 32], StakingError> {
    hex::decode(&v.consensus_pubkey)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or(StakingError::Invalid(
            "stored consensus key is not 32 bytes".into(),
        ))
}

/// When something started at BFT time `now` (seconds) and lasting `secs`
/// matures (saturating).
fn maturity(now: i64, secs: u64) -> i64 {
    now.saturating_add(i64::try_from(secs).unwrap_or(i64::MAX))
}

/// A time as a queue key (times before 1970 sort first).
fn queue_time(t: i64) -> u64 {
    u64::try_from(t).unwrap_or(0)
}

/// The staking (bond) denom: what slashes take.
pub fn bond_denom(s: &dyn Storage) -> String {
    params(s).bond_denom
}

/// `amount` of the bond denom.
fn bond_coin(s: &dyn Storage, amount: Uint128) -> [Coin; 1] {
    [Coin {
        denom: bond_denom(s),
        amount,
    }]
}

/// The pool that holds a validator's tokens: bonded while it is Bonded.
fn pool_of(v: &Validator) -> Addr {
    if v.status == Status::Bonded {
        bonded_pool()
    } else {
        not_bonded_pool()
    }
}

#[cfg(test)]
mod active_set_tests;
#[cfg(test)]
mod removal_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod validator_rules_tests;
