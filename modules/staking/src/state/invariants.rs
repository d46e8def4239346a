//! The staking invariants: pools against validators and unbonding entries,
//! shares against delegations, indexes against their entries.

use cosmwasm_std::{Order, Storage, Uint128};
use verdict_bank::Bank;

use super::keys::{BY_POWER, BY_POWER_BUILT, DELEGATIONS, UNBONDING, UNBONDING_BY_VAL, VALIDATORS};
use super::redelegation::check_redelegation_invariants;
use super::validators::power_key;
use super::{bonded_pool, not_bonded_pool, params, Status};

/// Pools against validators and unbonding entries; shares against delegations.
pub fn check_invariants(s: &dyn Storage) -> Result<(), String> {
    let denom = params(s).bond_denom;
    let mut bonded = Uint128::zero();
    let mut not_bonded = Uint128::zero();
    for r in VALIDATORS.range(s, None, None, Order::Ascending) {
        let (op, v) = r.map_err(|e| e.to_string())?;
        if v.status == Status::Bonded {
            bonded = bonded.checked_add(v.tokens).map_err(|e| e.to_string())?;
        } else {
            not_bonded = not_bonded
                .checked_add(v.tokens)
                .map_err(|e| e.to_string())?;
        }
        let shares: Uint128 = DELEGATIONS
            .range(s, None, None, Order::Ascending)
            .filter_map(Result::ok)
            .filter(|((_, val), _)| *val == op)
            .map(|(_, sh)| sh)
            .sum();
        if shares != v.delegator_shares {
            return Err(format!(
                "validator {} shares {} != Σ delegations {}",
                hex::encode(&op),
                v.delegator_shares,
                shares
            ));
        }
    }
    check_power_index(s)?;
    for r in UNBONDING_BY_VAL.keys(s, None, None, Order::Ascending) {
        let (v, d) = r.map_err(|e| e.to_string())?;
        if !UNBONDING.has(s, (&d, &v)) {
            return Err("stale unbonding by-validator index".into());
        }
    }
    for r in UNBONDING.range(s, None, None, Order::Ascending) {
        let ((d, v), es) = r.map_err(|e| e.to_string())?;
        if !UNBONDING_BY_VAL.has(s, (&v, &d)) {
            return Err("unbonding entry missing from the by-validator index".into());
        }
        for e in es {
            not_bonded = not_bonded
                .checked_add(e.balance)
                .map_err(|e| e.to_string())?;
        }
    }
    check_redelegation_invariants(s)?;
    let bp = Bank::balance(s, &bonded_pool(), &denom).map_err(|e| e.to_string())?;
    let nbp = Bank::balance(s, &not_bonded_pool(), &denom).map_err(|e| e.to_string())?;
    if bp != bonded || nbp != not_bonded {
        return Err(format!(
            "pools: bonded {bp} vs {bonded}, not bonded {nbp} vs {not_bonded}"
        ));
    }
    Ok(())
}

/// The power index holds exactly the validators that may be active, each under
/// its current tokens (once built: see `validators::ensure_power_index`).
fn check_power_index(s: &dyn Storage) -> Result<(), String> {
    if !BY_POWER_BUILT
        .may_load(s)
        .map_err(|e| e.to_string())?
        .unwrap_or(false)
    {
        return Ok(());
    }
    let mut want = Vec::new();
    for r in VALIDATORS.range(s, None, None, Order::Ascending) {
        let (op, v) = r.map_err(|e| e.to_string())?;
        if let Some(k) = power_key(&v) {
            want.push((k.to_vec(), op));
        }
    }
    want.sort();
    let got: Vec<(Vec<u8>, Vec<u8>)> = BY_POWER
        .keys(s, None, None, Order::Ascending)
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    if got != want {
        return Err(format!(
            "power index has {} entries, {} validators may be active (or keys differ)",
            got.len(),
            want.len()
        ));
    }
    Ok(())
}
