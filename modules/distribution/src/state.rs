//! Distribution state and the operations on it (see the crate docs for the
//! scheme).

use cosmwasm_std::{Decimal256, Order, Storage, Uint128, Uint256};
use serde::{Deserialize, Serialize};
use verdict_bank::Bank;
use verdict_core::address::Addr;
use verdict_core::coin::Coin;
use verdict_staking::state as staking;

use crate::DistributionError;

pub(crate) mod keys;
use keys::{COMMUNITY_POOL, DELEGATION_REWARDS, VALIDATOR_REWARDS};

/// The module account that holds every reward, commission and the community
/// pool.
pub fn module_account() -> Addr {
    Addr::module("distribution")
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidatorRewards {
    /// Cumulative reward per share.
    pub acc: Decimal256,
    /// Σ shares recorded for this validator's delegations.
    pub total_shares: Uint128,
    /// Tokens owed to delegators (earned and not yet withdrawn, plus the dust
    /// of rounding each allocation's claim up).
    pub outstanding: Uint128,
    /// Commission not yet withdrawn.
    pub commission: Uint128,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DelegationRewards {
    /// Shares as last settled.
    pub shares: Uint128,
    /// The validator's `acc` when `shares` were recorded.
    pub checkpoint: Decimal256,
    /// Earned, not withdrawn.
    pub pending: Decimal256,
}

fn ovf(what: &'static str) -> impl Fn(cosmwasm_std::OverflowError) -> DistributionError {
    move |_| DistributionError::Overflow(what)
}

fn dec(n: Uint128) -> Decimal256 {
    // An integer as a decimal: n × 10^18 atomics fits easily in 256 bits.
    Decimal256::new(Uint256::from(n).saturating_mul(Uint256::from(10u128.pow(18))))
}

fn narrow(n: Uint256) -> Result<Uint128, DistributionError> {
    Uint128::try_from(n).map_err(|_| DistributionError::Overflow("narrow"))
}

pub fn community_pool(s: &dyn Storage) -> Result<Uint128, DistributionError> {
    Ok(COMMUNITY_POOL.may_load(s)?.unwrap_or_default())
}

fn add_to_community_pool(s: &mut dyn Storage, n: Uint128) -> Result<(), DistributionError> {
    if n.is_zero() {
        return Ok(());
    }
    let p = community_pool(s)?
        .checked_add(n)
        .map_err(ovf("community pool"))?;
    COMMUNITY_POOL.save(s, &p)?;
    Ok(())
}

/// What a delegation has earned (pending plus the unsettled part) without
/// writing anything.
pub fn earned(
    vr: &ValidatorRewards,
    dr: &DelegationRewards,
) -> Result<Decimal256, DistributionError> {
    let delta = vr
        .acc
        .checked_sub(dr.checkpoint)
        .map_err(ovf("checkpoint"))?;
    dec(dr.shares)
        .checked_mul(delta)
        .map_err(ovf("earned"))?
        .checked_add(dr.pending)
        .map_err(ovf("pending"))
}

/// Settles one delegation: books what its recorded shares earned since the
/// checkpoint, then records staking's current shares. Clears the pair from
/// staking's outbox.
pub fn settle(
    s: &mut dyn Storage,
    delegator: &[u8],
    validator: &[u8],
) -> Result<(), DistributionError> {
    let mut vr = VALIDATOR_REWARDS
        .may_load(s, validator)?
        .unwrap_or_default();
    let mut dr = DELEGATION_REWARDS
        .may_load(s, (delegator, validator))?
        .unwrap_or_default();
    dr.pending = earned(&vr, &dr)?;
    dr.checkpoint = vr.acc;
    let now = staking::delegation_shares(s, delegator, validator)?.unwrap_or_default();
    vr.total_shares = vr
        .total_shares
        .checked_sub(dr.shares)
        .map_err(ovf("total shares"))?
        .checked_add(now)
        .map_err(ovf("total shares"))?;
    dr.shares = now;
    VALIDATOR_REWARDS.save(s, validator, &vr)?;
    if dr.shares.is_zero() && dr.pending.is_zero() {
        DELEGATION_REWARDS.remove(s, (delegator, validator));
    } else {
        DELEGATION_REWARDS.save(s, (delegator, validator), &dr)?;
    }
    staking::clear_shares_changed(s, delegator, validator);
    Ok(())
}

/// Settles every delegation whose shares changed since the last drain.
pub fn drain_share_changes(s: &mut dyn Storage) -> Result<(), DistributionError> {
    let pairs = staking::shares_changed_pairs(s)?;
    for (d, v) in pairs {
        settle(s, &d, &v)?;
    }
    Ok(())
}

/// A validator staking knows, or one it removed (Unbonded, no delegation
/// left) whose reward books are still here: withdrawals and queries of what it
/// and its delegators earned keep working after the removal.
pub(crate) fn known_validator(s: &dyn Storage, operator: &Addr) -> Result<(), DistributionError> {
    if staking::find_validator(s, &operator.0)?.is_some() || VALIDATOR_REWARDS.has(s, &operator.0) {
        Ok(())
    } else {
        Err(DistributionError::NoValidator(operator.valoper()))
    }
}

/// Books `amount` (already in the module account) to `operator`: commission
/// first, the rest per share to its delegators, dust to the community pool.
fn allocate(
    s: &mut dyn Storage,
    operator: &Addr,
    amount: Uint128,
) -> Result<(), DistributionError> {
    if amount.is_zero() {
        return Ok(());
    }
    let v = staking::validator(s, operator)?;
    let mut vr = VALIDATOR_REWARDS
        .may_load(s, &operator.0)?
        .unwrap_or_default();
    let commission = amount.mul_floor(v.commission_rate).min(amount);
    let rest = amount.checked_sub(commission).map_err(ovf("allocation"))?;
    vr.commission = vr
        .commission
        .checked_add(commission)
        .map_err(ovf("commission"))?;
    let mut dust = rest;
    if !vr.total_shares.is_zero() && !rest.is_zero() {
        let delta = Decimal256::checked_from_ratio(rest, vr.total_shares)
            .map_err(|_| DistributionError::Overflow("reward per share"))?;
        let claim = narrow(
            delta
                .checked_mul(dec(vr.total_shares))
                .map_err(ovf("claim"))?
                .to_uint_ceil(),
        )?
        .min(rest);
        vr.acc = vr.acc.checked_add(delta).map_err(ovf("acc"))?;
        vr.outstanding = vr
            .outstanding
            .checked_add(claim)
            .map_err(ovf("outstanding"))?;
        dust = rest.checked_sub(claim).map_err(ovf("dust"))?;
    }
    VALIDATOR_REWARDS.save(s, &operator.0, &vr)?;
    add_to_community_pool(s, dust)
}

/// Adds `coins` to `operator`'s rewards pool: commission at its rate to the
/// operator, the rest to its delegators pro rata to shares. The coins must
/// already sit in [`module_account`] (see [`pay_validator`] to move them there in
/// the same call). Only the bond denom is accepted.
///
/// This is the entry point for payments other modules make to a validator
/// (inference fees, for instance).
pub fn allocate_to_validator(
    s: &mut dyn Storage,
    operator: &Addr,
    coins: &[Coin],
) -> Result<(), DistributionError> {
    let denom = staking::bond_denom(s);
    if let Some(c) = coins.iter().find(|c| c.denom != denom) {
        return Err(DistributionError::Invalid(format!(
            "rewards are paid in {denom} only, got {}",
            c.denom
        )));
    }
    staking::validator(s, operator)?;
    drain_share_changes(s)?;
    for c in coins {
        allocate(s, operator, c.amount)?;
    }
    Ok(())
}

/// Moves `coins` from `from` to the module account and allocates them to
/// `operator` (see [`allocate_to_validator`]); nothing moves if either fails
/// inside a transaction's overlay.
pub fn pay_validator(
    s: &mut dyn Storage,
    from: &Addr,
    operator: &Addr,
    coins: &[Coin],
) -> Result<(), DistributionError> {
    staking::validator(s, operator)?;
    Bank::transfer(s, from, &module_account(), coins)?;
    allocate_to_validator(s, operator, coins)
}

/// Moves `coin` (bond denom) from `from` into the community pool.
pub fn fund_community_pool(
    s: &mut dyn Storage,
    from: &Addr,
    coin: &Coin,
) -> Result<(), DistributionError> {
    if coin.denom != verdict_core::address::FEE_DENOM {
        return Err(DistributionError::Invalid(format!(
            "the community pool holds {}, not {}",
            verdict_core::address::FEE_DENOM,
            coin.denom
        )));
    }
    Bank::transfer(s, from, &module_account(), std::slice::from_ref(coin))?;
    add_to_community_pool(s, coin.amount)
}

/// One vote of the previous block's commit that signed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedVote {
    pub consensus_address: [u8; 20],
    pub power: u64,
}

/// Begin block: moves the fee collector's bond-denom balance to the module
/// account and allocates it to `signers` pro rata to power. Shares of signers
/// that are no staking validator, and the rounding remainder, go to the
/// community pool.
pub fn allocate_fees(
    s: &mut dyn Storage,
    fee_collector: &Addr,
    signers: &[SignedVote],
) -> Result<(), DistributionError> {
    drain_share_changes(s)?;
    let denom = staking::bond_denom(s);
    let fees = Bank::balance(s, fee_collector, &denom)?;
    if fees.is_zero() {
        return Ok(());
    }
    Bank::transfer(
        s,
        fee_collector,
        &module_account(),
        &[Coin {
            denom,
            amount: fees,
        }],
    )?;
    let mut paid: Vec<(Addr, u64)> = Vec::with_capacity(signers.len());
    for v in signers.iter().filter(|v| v.power > 0) {
        if let Some(op) = staking::operator_by_consensus_address(s, &v.consensus_address)? {
            paid.push((Addr(op), v.power));
        }
    }
    let total: u128 = signers
        .iter()
        .map(|v| u128::from(v.power))
        .fold(0u128, u128::saturating_add);
    let mut given = Uint128::zero();
    if total > 0 {
        for (op, power) in paid {
            let share = fees
                .checked_multiply_ratio(u128::from(power), total)
                .map_err(|_| DistributionError::Overflow("fee share"))?;
            allocate(s, &op, share)?;
            given = given.checked_add(share).map_err(ovf("fees"))?;
        }
    }
    add_to_community_pool(s, fees.checked_sub(given).map_err(ovf("fees"))?)
}

/// `MsgWithdrawDelegatorReward`: settles the delegation and pays the whole
/// tokens earned to the delegator. Returns the amount paid (possibly zero).
pub fn withdraw_delegator_reward(
    s: &mut dyn Storage,
    delegator: &Addr,
    operator: &Addr,
) -> Result<Uint128, DistributionError> {
    known_validator(s, operator)?;
    let known = staking::has_delegation(s, &delegator.0, &operator.0)
        || DELEGATION_REWARDS.has(s, (&delegator.0, &operator.0));
    if !known {
        return Err(DistributionError::NoDelegation {
            delegator: delegator.bech32(),
            validator: operator.valoper(),
        });
    }
    settle(s, &delegator.0, &operator.0)?;
    let Some(mut dr) = DELEGATION_REWARDS.may_load(s, (&delegator.0, &operator.0))? else {
        return Ok(Uint128::zero());
    };
    let pay = narrow(dr.pending.to_uint_floor())?;
    if pay.is_zero() {
        return Ok(pay);
    }
    let mut vr = VALIDATOR_REWARDS.load(s, &operator.0)?;
    vr.outstanding = vr
        .outstanding
        .checked_sub(pay)
        .map_err(ovf("outstanding"))?;
    dr.pending = dr.pending.checked_sub(dec(pay)).map_err(ovf("pending"))?;
    VALIDATOR_REWARDS.save(s, &operator.0, &vr)?;
    if dr.shares.is_zero() && dr.pending.is_zero() {
        DELEGATION_REWARDS.remove(s, (&delegator.0, &operator.0));
    } else {
        DELEGATION_REWARDS.save(s, (&delegator.0, &operator.0), &dr)?;
    }
    let denom = staking::bond_denom(s);
    Bank::transfer(
        s,
        &module_account(),
        delegator,
        &[Coin { denom, amount: pay }],
    )?;
    Ok(pay)
}

/// `MsgWithdrawValidatorCommission`: pays the whole commission to the operator.
pub fn withdraw_validator_commission(
    s: &mut dyn Storage,
    operator: &Addr,
) -> Result<Uint128, DistributionError> {
    known_validator(s, operator)?;
    let mut vr = VALIDATOR_REWARDS
        .may_load(s, &operator.0)?
        .unwrap_or_default();
    let pay = vr.commission;
    if pay.is_zero() {
        return Err(DistributionError::NoCommission);
    }
    vr.commission = Uint128::zero();
    VALIDATOR_REWARDS.save(s, &operator.0, &vr)?;
    let denom = staking::bond_denom(s);
    Bank::transfer(
        s,
        &module_account(),
        operator,
        &[Coin { denom, amount: pay }],
    )?;
    Ok(pay)
}

/// The books (see the crate invariants).
pub fn check_invariants(s: &dyn Storage) -> Result<(), String> {
    let mut owed = community_pool(s).map_err(|e| e.to_string())?;
    let mut recorded: std::collections::BTreeMap<Vec<u8>, Uint128> = Default::default();
    for r in DELEGATION_REWARDS.range(s, None, None, Order::Ascending) {
        let ((d, v), dr) = r.map_err(|e| e.to_string())?;
        let t = recorded.entry(v.clone()).or_default();
        *t = t.checked_add(dr.shares).map_err(|e| e.to_string())?;
        if !staking::has_shares_changed(s, &d, &v) {
            let now = staking::delegation_shares(s, &d, &v)
                .map_err(|e| e.to_string())?
                .unwrap_or_default();
            if now != dr.shares {
                return Err(format!(
                    "delegation shares {now} but distribution recorded {}",
                    dr.shares
                ));
            }
        }
    }
    for r in staking::delegations(s) {
        let ((d, v), shares) = r.map_err(|e| e.to_string())?;
        if staking::has_shares_changed(s, &d, &v) {
            continue;
        }
        let rec = DELEGATION_REWARDS
            .may_load(s, (&d, &v))
            .map_err(|e| e.to_string())?
            .map(|r| r.shares)
            .unwrap_or_default();
        if rec != shares {
            return Err(format!(
                "delegation shares {shares} but distribution recorded {rec}"
            ));
        }
    }
    for r in VALIDATOR_REWARDS.range(s, None, None, Order::Ascending) {
        let (v, vr) = r.map_err(|e| e.to_string())?;
        let sum = recorded.get(&v).copied().unwrap_or_default();
        if sum != vr.total_shares {
            return Err(format!(
                "validator total shares {} != Σ recorded {sum}",
                vr.total_shares
            ));
        }
        owed = owed
            .checked_add(vr.outstanding)
            .and_then(|o| o.checked_add(vr.commission))
            .map_err(|e| e.to_string())?;
    }
    let bal =
        Bank::balance(s, &module_account(), &staking::bond_denom(s)).map_err(|e| e.to_string())?;
    if bal != owed {
        return Err(format!(
            "distribution account holds {bal}, owes {owed} (outstanding + commission + community pool)"
        ));
    }
    Ok(())
}
