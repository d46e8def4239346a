//! Redelegation (`MsgBeginRedelegate`): shares move from a source to a
//! destination validator at once, and an entry remembers, until the unbonding
//! time has passed, that the moved stake still answers for the source's
//! infractions.
//!
//! # Invariants
//! - Every entry in `REDELEGATIONS` has its key in `REDELEGATION_QUEUE` (by
//!   completion time) and in `REDELEGATIONS_BY_SRC`; both indexes hold nothing
//!   else for long (a queue key outlives its entries only until it is due).
//! - Redelegation entries hold no tokens: the tokens are the destination
//!   validator's, so the pool invariants do not change.
//! - No delegator has an entry from A to B while one from C to A is immature:
//!   the SDK's ban on transitive redelegation, which keeps the chain of stake
//!   that answers for one infraction one hop long.

use cosmwasm_std::{Decimal, Order, StdResult, Storage, Uint128};
use serde::{Deserialize, Serialize};
use verdict_bank::Bank;
use verdict_core::address::Addr;

use super::delegations::{add_shares, delegation_or_err, shares_for_tokens_ceil, unbond_shares};
use super::keys::{
    DELEGATIONS, REDELEGATIONS, REDELEGATIONS_BY_SRC, REDELEGATION_QUEUE, VALIDATORS,
};
use super::slash::Sink;
use super::validators::store_validator;
use super::{
    bond_coin, bonded_pool, maturity, mul_div, not_bonded_pool, params, pool_of, queue_time,
    validator, Status, Validator,
};
use crate::error::StakingError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RedelegationEntry {
    pub creation_height: u64,
    pub completion_time: i64,
    /// Tokens moved (what a slash fraction applies to).
    pub initial_balance: Uint128,
    /// Shares the move minted at the destination.
    pub shares_dst: Uint128,
}

/// The `REDELEGATION_QUEUE` key part for a triple: delegator ‖ source ‖
/// destination.
fn triple(d: &[u8], src: &[u8], dst: &[u8]) -> Vec<u8> {
    [d, src, dst].concat()
}

/// Whether `delegator` has an immature redelegation *into* `validator`.
pub fn has_receiving_redelegation(
    s: &dyn Storage,
    delegator: &Addr,
    validator_op: &Addr,
) -> Result<bool, StakingError> {
    for r in REDELEGATIONS
        .sub_prefix(&delegator.0)
        .keys(s, None, None, Order::Ascending)
    {
        let (_src, dst) = r?;
        if dst.as_slice() == validator_op.0 {
            return Ok(true);
        }
    }
    Ok(false)
}

/// One triple's immature redelegations as [`redelegations`] yields them:
/// `((delegator, source, destination), entries)`.
pub type RedelegationRecord = ((Vec<u8>, Vec<u8>, Vec<u8>), Vec<RedelegationEntry>);

/// Every immature redelegation, in (delegator, source, destination) order.
pub fn redelegations(s: &dyn Storage) -> impl Iterator<Item = StdResult<RedelegationRecord>> + '_ {
    REDELEGATIONS.range(s, None, None, Order::Ascending)
}

/// A `MsgBeginRedelegate` that passed every check, before its first write.
struct Checked {
    src: Validator,
    dst: Validator,
    /// The delegator's shares at the source.
    have: Uint128,
    /// Source shares it gives up.
    shares: Uint128,
    /// Shares it gets at the destination.
    shares_dst: Uint128,
    /// Its entries for this (delegator, source, destination) so far.
    entries: Vec<RedelegationEntry>,
    unbonding_time_seconds: u64,
}

/// Every check of [`begin_redelegation`], in the SDK's order; writes nothing.
fn check_redelegation(
    s: &dyn Storage,
    delegator: &Addr,
    src_op: &Addr,
    dst_op: &Addr,
    amount: Uint128,
) -> Result<Checked, StakingError> {
    if src_op == dst_op {
        return Err(StakingError::SelfRedelegation);
    }
    if amount.is_zero() {
        return Err(StakingError::Invalid(
            "redelegation amount must be positive".into(),
        ));
    }
    let src = validator(s, src_op)?;
    let dst = VALIDATORS
        .may_load(s, &dst_op.0)?
        .ok_or_else(|| StakingError::NoRedelegationDst(dst_op.valoper()))?;
    let have = delegation_or_err(s, delegator, src_op)?;
    // Stake that arrived at `src` by redelegation still answers for the validator
    // it came from; moving it on would let it escape that slash.
    if has_receiving_redelegation(s, delegator, src_op)? {
        return Err(StakingError::TransitiveRedelegation);
    }
    let p = params(s);
    let key = (&delegator.0[..], &src_op.0[..], &dst_op.0[..]);
    let entries = REDELEGATIONS.may_load(s, key)?.unwrap_or_default();
    if entries.len() >= p.max_entries as usize {
        return Err(StakingError::TooManyRedelegationEntries(p.max_entries));
    }
    let shares = shares_for_tokens_ceil(&src, amount)?;
    if shares > have {
        return Err(StakingError::NotEnoughShares {
            want: amount.to_string(),
            have: src.tokens_for(have)?.to_string(),
        });
    }
    if dst.tokens.is_zero() && !dst.delegator_shares.is_zero() {
        return Err(StakingError::Invalid(format!(
            "validator {} has no tokens left for its shares: cannot delegate",
            dst_op.valoper()
        )));
    }
    let moved = src.tokens_for(shares)?.min(amount);
    if moved.is_zero() {
        return Err(StakingError::Invalid(
            "too few tokens to redelegate (truncates to zero tokens)".into(),
        ));
    }
    let shares_dst = dst.shares_for(moved)?;
    if shares_dst.is_zero() {
        return Err(StakingError::Invalid(
            "redelegation would mint no shares at the destination".into(),
        ));
    }
    Ok(Checked {
        src,
        dst,
        have,
        shares,
        shares_dst,
        entries,
        unbonding_time_seconds: p.unbonding_time_seconds,
    })
}

/// `MsgBeginRedelegate`: moves `amount` tokens' worth of `delegator`'s shares
/// from `src` to `dst`. Every check comes before the first write. Returns the
/// completion time (unix seconds) of the entry.
pub fn begin_redelegation(
    s: &mut dyn Storage,
    delegator: &Addr,
    src_op: &Addr,
    dst_op: &Addr,
    amount: Uint128,
    height: u64,
    now: i64,
) -> Result<i64, StakingError> {
    let Checked {
        mut src,
        mut dst,
        have,
        shares,
        shares_dst,
        mut entries,
        unbonding_time_seconds,
    } = check_redelegation(s, delegator, src_op, dst_op, amount)?;

    // Writes.
    let src_status = src.status;
    let moved = unbond_shares(s, delegator, &mut src, have, shares, Some(amount))?;
    // `unbond_shares` saved `src`; `dst` is another validator (checked above).
    dst.tokens = dst
        .tokens
        .checked_add(moved)
        .map_err(|_| StakingError::Overflow("tokens"))?;
    dst.delegator_shares = dst
        .delegator_shares
        .checked_add(shares_dst)
        .map_err(|_| StakingError::Overflow("shares"))?;
    store_validator(s, &dst)?;
    add_shares(s, delegator, dst_op, shares_dst)?;
    // The tokens follow the destination's bonded status between the pools.
    let coins = bond_coin(s, moved);
    match (src_status == Status::Bonded, dst.status == Status::Bonded) {
        (true, false) => Bank::transfer(s, &bonded_pool(), &not_bonded_pool(), &coins)?,
        (false, true) => Bank::transfer(s, &not_bonded_pool(), &bonded_pool(), &coins)?,
        _ => {}
    }
    // An Unbonded source cannot be slashed any more: nothing to remember (the SDK
    // completes such a redelegation at once). Unbonding sources still can.
    if src_status == Status::Unbonded {
        return Ok(now);
    }
    let completion = maturity(now, unbonding_time_seconds);
    entries.push(RedelegationEntry {
        creation_height: height,
        completion_time: completion,
        initial_balance: moved,
        shares_dst,
    });
    record_entries(s, delegator, src_op, dst_op, &entries, completion)?;
    Ok(completion)
}

/// Stores a triple's entries, puts the newest (maturing at `completion`) in
/// the queue, and the triple in the by-source index.
fn record_entries(
    s: &mut dyn Storage,
    delegator: &Addr,
    src_op: &Addr,
    dst_op: &Addr,
    entries: &Vec<RedelegationEntry>,
    completion: i64,
) -> Result<(), StakingError> {
    let key = (&delegator.0[..], &src_op.0[..], &dst_op.0[..]);
    REDELEGATIONS.save(s, key, entries)?;
    REDELEGATION_QUEUE.save(
        s,
        (
            queue_time(completion),
            &triple(&delegator.0, &src_op.0, &dst_op.0),
        ),
        &(),
    )?;
    REDELEGATIONS_BY_SRC.save(s, (&src_op.0, &delegator.0, &dst_op.0), &())?;
    Ok(())
}

/// Drops every redelegation entry that has matured by `now` (no tokens move:
/// they are already at the destination).
pub fn complete_redelegations(s: &mut dyn Storage, now: i64) -> Result<(), StakingError> {
    let now_u = queue_time(now);
    let due: Vec<(u64, Vec<u8>)> = REDELEGATION_QUEUE
        .range(s, None, None, Order::Ascending)
        .take_while(|r| r.as_ref().map(|((t, _), _)| *t <= now_u).unwrap_or(false))
        .filter_map(Result::ok)
        .map(|(k, _)| k)
        .collect();
    for (t, joined) in due {
        REDELEGATION_QUEUE.remove(s, (t, &joined));
        if joined.len() != 60 {
            continue;
        }
        let (d, rest) = joined.split_at(20);
        let (src, dst) = rest.split_at(20);
        let key = (d, src, dst);
        let Some(entries) = REDELEGATIONS.may_load(s, key)? else {
            continue;
        };
        let keep: Vec<RedelegationEntry> = entries
            .into_iter()
            .filter(|e| e.completion_time > now)
            .collect();
        if keep.is_empty() {
            REDELEGATIONS.remove(s, key);
            REDELEGATIONS_BY_SRC.remove(s, (src, d, dst));
        } else {
            REDELEGATIONS.save(s, key, &keep)?;
        }
    }
    Ok(())
}

/// Slashes the redelegations out of `src_op` created at or after
/// `infraction_height` (the SDK's `SlashRedelegation`): for each entry,
/// `fraction × initial_balance` is owed (at most `*remaining` in all), paid by
/// unbonding that share of the entry's destination shares and taking the
/// tokens from the destination's pool into `sink`. Lowers `*remaining` by what was owed;
/// returns the tokens taken.
pub(super) fn slash_redelegations(
    s: &mut dyn Storage,
    src_op: &Addr,
    infraction_height: u64,
    fraction: Decimal,
    remaining: &mut Uint128,
    sink: Sink<'_>,
) -> Result<Uint128, StakingError> {
    let triples: Vec<(Vec<u8>, Vec<u8>)> = REDELEGATIONS_BY_SRC
        .sub_prefix(&src_op.0)
        .keys(s, None, None, Order::Ascending)
        .collect::<Result<_, _>>()?;
    let mut burned = Uint128::zero();
    for (d, dst) in triples {
        let Some(entries) = REDELEGATIONS.may_load(s, (&d, &src_op.0, &dst))? else {
            continue;
        };
        let delegator = Addr::from_slice(&d).ok_or(StakingError::Overflow("address"))?;
        let dst_op = Addr::from_slice(&dst).ok_or(StakingError::Overflow("address"))?;
        for e in entries
            .iter()
            .filter(|e| e.creation_height >= infraction_height)
        {
            let owed = e.initial_balance.mul_floor(fraction).min(*remaining);
            if owed.is_zero() {
                continue;
            }
            *remaining = remaining
                .checked_sub(owed)
                .map_err(|_| StakingError::Overflow("remaining"))?;
            let Some(have) = DELEGATIONS.may_load(s, (&d, &dst))? else {
                continue;
            };
            let shares = mul_div(e.shares_dst, owed, e.initial_balance)?.min(have);
            if shares.is_zero() {
                continue;
            }
            let mut v = validator(s, &dst_op)?;
            let pool = pool_of(&v);
            let tokens = unbond_shares(s, &delegator, &mut v, have, shares, None)?;
            if !tokens.is_zero() {
                sink.take(s, &pool, tokens)?;
                burned = burned
                    .checked_add(tokens)
                    .map_err(|_| StakingError::Overflow("burn"))?;
            }
        }
    }
    Ok(burned)
}

/// Indexes agree with the entries (see the module invariants).
pub(super) fn check_redelegation_invariants(s: &dyn Storage) -> Result<(), String> {
    for r in REDELEGATIONS.range(s, None, None, Order::Ascending) {
        let ((d, src, dst), es) = r.map_err(|e| e.to_string())?;
        if es.is_empty() {
            return Err("empty redelegation entry list stored".into());
        }
        if !REDELEGATIONS_BY_SRC.has(s, (&src, &d, &dst)) {
            return Err("redelegation missing from the by-source index".into());
        }
        for e in es {
            let t = queue_time(e.completion_time);
            if !REDELEGATION_QUEUE.has(s, (t, &triple(&d, &src, &dst))) {
                return Err("redelegation entry missing from the queue".into());
            }
        }
    }
    for r in REDELEGATIONS_BY_SRC.keys(s, None, None, Order::Ascending) {
        let (src, d, dst) = r.map_err(|e| e.to_string())?;
        if !REDELEGATIONS.has(s, (&d, &src, &dst)) {
            return Err("stale by-source redelegation index".into());
        }
    }
    Ok(())
}
