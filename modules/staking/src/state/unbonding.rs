//! Undelegation (`MsgUndelegate`): the tokens wait in the not-bonded pool in
//! an entry, slashable, until the unbonding time has passed; a queue by
//! completion time pays them out.

use cosmwasm_std::{Decimal, Order, Storage, Uint128};
use serde::{Deserialize, Serialize};
use verdict_bank::Bank;
use verdict_core::address::Addr;

use super::delegations::{delegation_or_err, shares_for_tokens_ceil, unbond_shares};
use super::keys::{UNBONDING, UNBONDING_BY_VAL, UNBONDING_QUEUE};
use super::redelegation::complete_redelegations;
use super::{
    bond_coin, bonded_pool, maturity, not_bonded_pool, params, queue_time, validator, Status,
};
use crate::error::StakingError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnbondingEntry {
    pub creation_height: u64,
    pub completion_time: i64,
    pub initial_balance: Uint128,
    pub balance: Uint128,
}

/// Unbonds `amount` tokens' worth of shares; the tokens wait in the not-bonded
/// pool until `now + unbonding_time`, slashable meanwhile. Returns the completion
/// time (unix seconds).
pub fn undelegate(
    s: &mut dyn Storage,
    delegator: &Addr,
    validator_op: &Addr,
    amount: Uint128,
    height: u64,
    now: i64,
) -> Result<i64, StakingError> {
    let mut v = validator(s, validator_op)?;
    let have = delegation_or_err(s, delegator, validator_op)?;
    let shares = shares_for_tokens_ceil(&v, amount)?;
    if shares > have || amount.is_zero() {
        return Err(StakingError::NotEnoughShares {
            want: amount.to_string(),
            have: v.tokens_for(have)?.to_string(),
        });
    }
    let p = params(s);
    let mut entries = UNBONDING
        .may_load(s, (&delegator.0, &validator_op.0))?
        .unwrap_or_default();
    if entries.len() >= p.max_entries as usize {
        return Err(StakingError::TooManyEntries(p.max_entries));
    }
    let tokens = unbond_shares(s, delegator, &mut v, have, shares, Some(amount))?;
    if v.status == Status::Bonded {
        {
            let c = bond_coin(s, tokens);
            Bank::transfer(s, &bonded_pool(), &not_bonded_pool(), &c)?;
        }
    }
    let completion = maturity(now, p.unbonding_time_seconds);
    entries.push(UnbondingEntry {
        creation_height: height,
        completion_time: completion,
        initial_balance: tokens,
        balance: tokens,
    });
    UNBONDING.save(s, (&delegator.0, &validator_op.0), &entries)?;
    UNBONDING_BY_VAL.save(s, (&validator_op.0, &delegator.0), &())?;
    UNBONDING_QUEUE.save(
        s,
        (queue_time(completion), &delegator.0, &validator_op.0),
        &(),
    )?;
    Ok(completion)
}

/// Pays out every unbonding entry that has matured by `now`, and drops the
/// redelegation entries that have.
pub fn complete_unbondings(s: &mut dyn Storage, now: i64) -> Result<(), StakingError> {
    complete_redelegations(s, now)?;
    let now_u = queue_time(now);
    let due: Vec<(u64, Vec<u8>, Vec<u8>)> = UNBONDING_QUEUE
        .range(s, None, None, Order::Ascending)
        .take_while(|r| {
            r.as_ref()
                .map(|((t, _, _), _)| *t <= now_u)
                .unwrap_or(false)
        })
        .filter_map(Result::ok)
        .map(|((t, d, v), _)| (t, d, v))
        .collect();
    for (t, d, v) in due {
        UNBONDING_QUEUE.remove(s, (t, &d, &v));
        let Some(entries) = UNBONDING.may_load(s, (&d, &v))? else {
            continue;
        };
        let (done, keep): (Vec<_>, Vec<_>) =
            entries.into_iter().partition(|e| e.completion_time <= now);
        let delegator = Addr::from_slice(&d).ok_or(StakingError::Overflow("address"))?;
        let total = done
            .iter()
            .try_fold(Uint128::zero(), |a, e| a.checked_add(e.balance))
            .map_err(|_| StakingError::Overflow("sum"))?;
        if !total.is_zero() {
            {
                let c = bond_coin(s, total);
                Bank::transfer(s, &not_bonded_pool(), &delegator, &c)?;
            }
        }
        if keep.is_empty() {
            UNBONDING.remove(s, (&d, &v));
            UNBONDING_BY_VAL.remove(s, (&v, &d));
        } else {
            UNBONDING.save(s, (&d, &v), &keep)?;
        }
    }
    Ok(())
}

/// Cuts, from `operator`'s unbonding entries created at or after
/// `infraction_height`, `fraction` of each entry's initial balance (at most its
/// balance, at most `*remaining` in all). Lowers `*remaining` by what was cut;
/// returns the total cut, which the caller burns from the not-bonded pool.
pub(super) fn slash_unbonding_entries(
    s: &mut dyn Storage,
    operator: &Addr,
    infraction_height: u64,
    fraction: Decimal,
    remaining: &mut Uint128,
) -> Result<Uint128, StakingError> {
    let mut burned = Uint128::zero();
    let delegators: Vec<Vec<u8>> = UNBONDING_BY_VAL
        .prefix(&operator.0)
        .keys(s, None, None, Order::Ascending)
        .collect::<Result<_, _>>()?;
    let val = operator.0.to_vec();
    for d in delegators {
        let Some(mut entries) = UNBONDING.may_load(s, (&d, &val))? else {
            continue;
        };
        for e in entries
            .iter_mut()
            .filter(|e| e.creation_height >= infraction_height)
        {
            let cut = e
                .initial_balance
                .mul_floor(fraction)
                .min(e.balance)
                .min(*remaining);
            e.balance = e
                .balance
                .checked_sub(cut)
                .map_err(|_| StakingError::Overflow("entry"))?;
            *remaining = remaining
                .checked_sub(cut)
                .map_err(|_| StakingError::Overflow("remaining"))?;
            burned = burned
                .checked_add(cut)
                .map_err(|_| StakingError::Overflow("burn"))?;
        }
        UNBONDING.save(s, (&d, &val), &entries)?;
    }
    Ok(burned)
}
