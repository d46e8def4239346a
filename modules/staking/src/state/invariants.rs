//! The staking invariants: pools against validators and unbonding entries,
//! shares against delegations, indexes against their entries.

use cosmwasm_std::{Order, Storage, Uint128};
use verdict_bank::Bank;

use super::keys::{DELEGATIONS, UNBONDING, UNBONDING_BY_VAL, VALIDATORS};
use super::redelegation::check_redelegation_invariants;
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
