//! The validator set CometBFT runs with: the top `max_validators` by tokens,
//! their pools, and the power changes to report.

use std::collections::BTreeSet;

use cosmwasm_std::{Order, Storage};
use verdict_bank::Bank;

use super::keys::{LAST_POWERS, VALIDATORS, VALIDATOR_QUEUE, VALIDATOR_QUEUE_BUILT};
use super::validators::{
    all_validators, ensure_power_index, store_or_remove, store_validator, top_by_power,
};
use super::{
    bond_coin, bonded_pool, maturity, not_bonded_pool, params, pubkey_bytes, queue_time, Addr20,
    Status, Validator,
};
use crate::error::StakingError;

/// A change of one validator's CometBFT power.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PowerUpdate {
    pub pubkey: [u8; 32],
    pub power: u64,
}

/// Recomputes the active set (top `max_validators` by tokens, unjailed, with at
/// least one unit of power), moves tokens between the pools for validators that
/// enter or leave it, and returns what changed since CometBFT was last told.
///
/// Reads only the top `max_validators` of the power index and the validators
/// CometBFT was last told about: a validator in neither was not bonded and
/// stays as it is, so the work per block follows the active set, not the
/// number of validators ever created (security review H-4).
///
/// A validator that leaves the set is Unbonding until `now` + the unbonding
/// time (still slashable for what it did while bonded); one that rejoins
/// before then is Bonded again and its maturity is void.
pub fn end_block_updates(
    s: &mut dyn Storage,
    height: u64,
    now: i64,
) -> Result<Vec<PowerUpdate>, StakingError> {
    let p = params(s);
    ensure_power_index(s)?;
    ensure_validator_queue(s, height, now, p.unbonding_time_seconds)?;
    let active: BTreeSet<Addr20> = top_by_power(s, p.max_validators as usize)?
        .into_iter()
        .collect();
    let mut touched: BTreeSet<Addr20> = active.clone();
    for op in LAST_POWERS.keys(s, None, None, Order::Ascending) {
        let op = op?;
        touched.insert(
            Addr20::try_from(op.as_slice())
                .map_err(|_| StakingError::Invalid("last power of a malformed operator".into()))?,
        );
    }
    let mut all = Vec::with_capacity(touched.len());
    for op in &touched {
        all.push(VALIDATORS.load(s, op)?);
    }
    // Deterministic order: tokens descending, then operator address.
    all.sort_by(|a, b| b.tokens.cmp(&a.tokens).then(a.operator.cmp(&b.operator)));
    let mut updates = Vec::new();
    for mut v in all {
        let was = LAST_POWERS.may_load(s, &v.operator)?.unwrap_or(0);
        let now_active = active.contains(&v.operator);
        let new_status = if now_active {
            Status::Bonded
        } else if v.status == Status::Bonded {
            Status::Unbonding
        } else {
            v.status
        };
        if new_status != v.status {
            move_pools(s, &v, new_status)?;
            if new_status == Status::Unbonding {
                let at = maturity(now, p.unbonding_time_seconds);
                start_unbonding(s, &mut v, height, at)?;
            } else if v.status == Status::Unbonding {
                VALIDATOR_QUEUE.remove(s, (queue_time(v.unbonding_time), &v.operator));
                v.unbonding_height = 0;
                v.unbonding_time = 0;
            }
            v.status = new_status;
            store_validator(s, &v)?;
        }
        let power = v.power();
        if power != was {
            updates.push(PowerUpdate {
                pubkey: pubkey_bytes(&v)?,
                power,
            });
            if power == 0 {
                LAST_POWERS.remove(s, &v.operator);
            } else {
                LAST_POWERS.save(s, &v.operator, &power)?;
            }
        }
    }
    unbond_mature_validators(s, now)?;
    Ok(updates)
}

/// Validators whose unbonding time has passed by `now` become Unbonded; those
/// with no delegation left are removed (the SDK's `UnbondAllMatureValidators`).
/// Visits only the matured queue entries.
fn unbond_mature_validators(s: &mut dyn Storage, now: i64) -> Result<(), StakingError> {
    let due: Vec<(u64, Vec<u8>)> = VALIDATOR_QUEUE
        .keys(s, None, None, Order::Ascending)
        .take_while(|k| k.as_ref().is_ok_and(|(t, _)| *t <= queue_time(now)))
        .collect::<Result<_, _>>()?;
    for (t, op) in due {
        VALIDATOR_QUEUE.remove(s, (t, &op));
        let Some(mut v) = VALIDATORS.may_load(s, &op)? else {
            continue;
        };
        if v.status != Status::Unbonding || queue_time(v.unbonding_time) != t {
            continue;
        }
        v.status = Status::Unbonded;
        store_or_remove(s, &v)?;
    }
    Ok(())
}

/// Gives every Unbonding validator without a maturity (state written before
/// the validator queue existed, e.g. restored from an older export) one an
/// unbonding time from now, once.
fn ensure_validator_queue(
    s: &mut dyn Storage,
    height: u64,
    now: i64,
    unbonding_time_seconds: u64,
) -> Result<(), StakingError> {
    if VALIDATOR_QUEUE_BUILT.may_load(s)?.unwrap_or(false) {
        return Ok(());
    }
    let waiting: Vec<Validator> = all_validators(s)
        .filter(|v| {
            v.as_ref().map_or(true, |v| {
                v.status == Status::Unbonding && v.unbonding_time == 0
            })
        })
        .collect::<Result<_, _>>()?;
    let at = maturity(now, unbonding_time_seconds);
    for mut v in waiting {
        start_unbonding(s, &mut v, height, at)?;
        store_validator(s, &v)?;
    }
    VALIDATOR_QUEUE_BUILT.save(s, &true)?;
    Ok(())
}

/// `v` unbonds from `height` until `at`: recorded on it and queued (the
/// caller stores `v`).
fn start_unbonding(
    s: &mut dyn Storage,
    v: &mut Validator,
    height: u64,
    at: i64,
) -> Result<(), StakingError> {
    v.unbonding_height = height;
    v.unbonding_time = at;
    VALIDATOR_QUEUE.save(s, (queue_time(at), &v.operator), &())?;
    Ok(())
}

/// Moves `v`'s tokens to the pool of its new status (entering or leaving the
/// bonded set).
fn move_pools(s: &mut dyn Storage, v: &Validator, new_status: Status) -> Result<(), StakingError> {
    let coins = bond_coin(s, v.tokens);
    if !v.tokens.is_zero() {
        if new_status == Status::Bonded {
            Bank::transfer(s, &not_bonded_pool(), &bonded_pool(), &coins)?;
        } else if v.status == Status::Bonded {
            Bank::transfer(s, &bonded_pool(), &not_bonded_pool(), &coins)?;
        }
    }
    Ok(())
}
