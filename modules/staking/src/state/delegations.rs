//! Delegations: tokens bonded for shares, shares unbonded for tokens, the reads
//! other modules make, and the share-change outbox distribution drains.

use cosmwasm_std::{Order, StdResult, Storage, Uint128, Uint256};
use verdict_bank::Bank;
use verdict_core::address::Addr;

use super::keys::{DELEGATIONS, SHARES_CHANGED};
use super::validators::{store_or_remove, store_validator};
use super::{bond_coin, pool_of, validator, Validator};
use crate::error::StakingError;

/// Bonds `amount` from `delegator` to `validator`.
pub fn delegate(
    s: &mut dyn Storage,
    delegator: &Addr,
    validator_op: &Addr,
    amount: Uint128,
) -> Result<(), StakingError> {
    if amount.is_zero() {
        return Err(StakingError::Invalid(
            "delegation amount must be positive".into(),
        ));
    }
    let mut v = validator(s, validator_op)?;
    // All tokens slashed away but shares outstanding: new tokens would be shared
    // with the old shares, so the SDK refuses, and so do we.
    if v.tokens.is_zero() && !v.delegator_shares.is_zero() {
        return Err(StakingError::Invalid(format!(
            "validator {} has no tokens left for its shares: cannot delegate",
            validator_op.valoper()
        )));
    }
    let pool = pool_of(&v);
    {
        let c = bond_coin(s, amount);
        Bank::transfer(s, delegator, &pool, &c)?;
    }
    let shares = v.shares_for(amount)?;
    v.tokens = v
        .tokens
        .checked_add(amount)
        .map_err(|_| StakingError::Overflow("tokens"))?;
    v.delegator_shares = v
        .delegator_shares
        .checked_add(shares)
        .map_err(|_| StakingError::Overflow("shares"))?;
    store_validator(s, &v)?;
    add_shares(s, delegator, validator_op, shares)
}

/// Adds `shares` to `delegator`'s delegation to `validator_op` (creating it),
/// and puts the pair in the share-change outbox. The validator record is the
/// caller's to update.
pub(super) fn add_shares(
    s: &mut dyn Storage,
    delegator: &Addr,
    validator_op: &Addr,
    shares: Uint128,
) -> Result<(), StakingError> {
    let have = DELEGATIONS
        .may_load(s, (&delegator.0, &validator_op.0))?
        .unwrap_or_default();
    DELEGATIONS.save(
        s,
        (&delegator.0, &validator_op.0),
        &have
            .checked_add(shares)
            .map_err(|_| StakingError::Overflow("shares"))?,
    )?;
    SHARES_CHANGED.save(s, (&delegator.0, &validator_op.0), &())?;
    Ok(())
}

/// Shares to remove for `amount` tokens at `v`'s exchange rate, rounded up so
/// nobody takes out more than their shares are worth.
pub(super) fn shares_for_tokens_ceil(
    v: &Validator,
    amount: Uint128,
) -> Result<Uint128, StakingError> {
    let num = Uint256::from(amount)
        .checked_mul(Uint256::from(v.delegator_shares))
        .map_err(|_| StakingError::Overflow("mul"))?;
    let den = Uint256::from(v.tokens);
    if den.is_zero() {
        return Err(StakingError::Invalid("validator has no tokens".into()));
    }
    let q = num
        .checked_div(den)
        .map_err(|_| StakingError::Overflow("div"))?;
    let exact = q
        .checked_mul(den)
        .map_err(|_| StakingError::Overflow("mul"))?
        == num;
    let up = if exact {
        q
    } else {
        q.checked_add(Uint256::one())
            .map_err(|_| StakingError::Overflow("add"))?
    };
    Uint128::try_from(up).map_err(|_| StakingError::Overflow("narrow"))
}

/// Removes `shares` of `delegator`'s delegation to `v` (already loaded; the
/// caller checked `shares <= have`) and the tokens they are worth (capped at
/// `cap`) from the validator. Tokens stay in the validator's pool: the caller
/// moves them. When the operator's own delegation falls below its
/// `min_self_delegation`, the validator is jailed (the SDK's rule). The last
/// shares take every token left; an Unbonded validator left with no shares is
/// removed. Returns the tokens removed.
pub(super) fn unbond_shares(
    s: &mut dyn Storage,
    delegator: &Addr,
    v: &mut Validator,
    have: Uint128,
    shares: Uint128,
    cap: Option<Uint128>,
) -> Result<Uint128, StakingError> {
    let tokens = if shares == v.delegator_shares {
        // The last shares take every token left, so none is stranded without
        // shares (the SDK's rule).
        v.tokens
    } else {
        let t = v.tokens_for(shares)?;
        cap.map_or(t, |c| t.min(c))
    };
    v.tokens = v
        .tokens
        .checked_sub(tokens)
        .map_err(|_| StakingError::Overflow("tokens"))?;
    v.delegator_shares = v
        .delegator_shares
        .checked_sub(shares)
        .map_err(|_| StakingError::Overflow("shares"))?;
    let left = have
        .checked_sub(shares)
        .map_err(|_| StakingError::Overflow("shares"))?;
    if left.is_zero() {
        DELEGATIONS.remove(s, (&delegator.0, &v.operator));
    } else {
        DELEGATIONS.save(s, (&delegator.0, &v.operator), &left)?;
    }
    SHARES_CHANGED.save(s, (&delegator.0, &v.operator), &())?;
    if delegator.0 == v.operator && !v.jailed && v.tokens_for(left)? < v.min_self_delegation {
        v.jailed = true;
    }
    store_or_remove(s, v)?;
    Ok(tokens)
}

/// `delegator`'s delegation to `validator_op`, or the SDK's "no delegation".
pub(super) fn delegation_or_err(
    s: &dyn Storage,
    delegator: &Addr,
    validator_op: &Addr,
) -> Result<Uint128, StakingError> {
    DELEGATIONS
        .may_load(s, (&delegator.0, &validator_op.0))?
        .ok_or_else(|| StakingError::NoDelegation {
            delegator: delegator.bech32(),
            validator: validator_op.valoper(),
        })
}

/// The operator's own delegation in tokens.
pub fn self_delegation_tokens(s: &dyn Storage, operator: &Addr) -> Result<Uint128, StakingError> {
    let v = validator(s, operator)?;
    let own = DELEGATIONS
        .may_load(s, (&operator.0, &operator.0))?
        .unwrap_or_default();
    v.tokens_for(own)
}

// Reads for other modules (distribution, slashing): delegations and the
// share-change outbox, never through this crate's tables.

/// The shares of `delegator`'s delegation to `validator` (20-byte addresses),
/// if there is one.
pub fn delegation_shares(
    s: &dyn Storage,
    delegator: &[u8],
    validator: &[u8],
) -> StdResult<Option<Uint128>> {
    DELEGATIONS.may_load(s, (delegator, validator))
}

/// Whether `delegator` has a delegation to `validator`.
pub fn has_delegation(s: &dyn Storage, delegator: &[u8], validator: &[u8]) -> bool {
    DELEGATIONS.has(s, (delegator, validator))
}

/// One delegation as [`delegations`] yields it: `((delegator, validator), shares)`.
pub type DelegationRecord = ((Vec<u8>, Vec<u8>), Uint128);

/// Every delegation, in (delegator, validator) order.
pub fn delegations(s: &dyn Storage) -> impl Iterator<Item = StdResult<DelegationRecord>> + '_ {
    DELEGATIONS.range(s, None, None, Order::Ascending)
}

/// The (delegator, validator) pairs in the share-change outbox, in key order.
pub fn shares_changed_pairs(s: &dyn Storage) -> StdResult<Vec<(Vec<u8>, Vec<u8>)>> {
    SHARES_CHANGED
        .keys(s, None, None, Order::Ascending)
        .collect()
}

/// Whether the pair is in the share-change outbox.
pub fn has_shares_changed(s: &dyn Storage, delegator: &[u8], validator: &[u8]) -> bool {
    SHARES_CHANGED.has(s, (delegator, validator))
}

/// Takes the pair out of the share-change outbox (distribution, once it has
/// settled the pair).
pub fn clear_shares_changed(s: &mut dyn Storage, delegator: &[u8], validator: &[u8]) {
    SHARES_CHANGED.remove(s, (delegator, validator));
}
