//! Validator records: their share arithmetic, create / edit / jail, and the
//! reads by operator or consensus address that other modules use.

use cosmwasm_std::{Decimal, Order, StdResult, Storage, Uint128};
use serde::{Deserialize, Serialize};
use verdict_core::address::Addr;

use super::keys::{
    BY_CONS_ADDR, BY_POWER, BY_POWER_BUILT, DELEGATIONS, LAST_POWERS, RETIRED_CONS_ADDR, VALIDATORS,
};
use super::{consensus_address, delegate, mul_div, pubkey_bytes, Addr20, POWER_REDUCTION};
use crate::error::StakingError;

/// Shares minted per token for a validator's first delegation.
const SHARES_PER_TOKEN: u128 = 1_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    Unbonded,
    Unbonding,
    Bonded,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validator {
    pub operator: Addr20,
    /// Ed25519 consensus key, 32 bytes, hex.
    pub consensus_pubkey: String,
    pub tokens: Uint128,
    pub delegator_shares: Uint128,
    pub jailed: bool,
    pub status: Status,
    pub commission_rate: Decimal,
    pub commission_max_rate: Decimal,
    pub commission_max_change_rate: Decimal,
    pub min_self_delegation: Uint128,
    pub moniker: String,
    /// Block time (unix seconds) of the last commission change.
    #[serde(default)]
    pub commission_update_time: i64,
    /// The height at which it last left the active set (0: never, or back in
    /// the set since). Absent from the stored record when 0.
    #[serde(default, skip_serializing_if = "is_zero_u64")]
    pub unbonding_height: u64,
    /// When it last left the active set: the block time (unix seconds) at which
    /// it stops Unbonding (0: never, or back in the set since).
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub unbonding_time: i64,
}

fn is_zero_u64(n: &u64) -> bool {
    *n == 0
}

fn is_zero_i64(n: &i64) -> bool {
    *n == 0
}

impl Validator {
    pub fn power(&self) -> u64 {
        if self.jailed || self.status != Status::Bonded {
            return 0;
        }
        u64::try_from(self.tokens.u128() / POWER_REDUCTION).unwrap_or(u64::MAX)
    }

    /// Shares for `amount` new tokens at the current exchange rate (floor).
    pub(super) fn shares_for(&self, amount: Uint128) -> Result<Uint128, StakingError> {
        if self.delegator_shares.is_zero() || self.tokens.is_zero() {
            return amount
                .checked_mul(Uint128::new(SHARES_PER_TOKEN))
                .map_err(|_| StakingError::Overflow("shares"));
        }
        mul_div(amount, self.delegator_shares, self.tokens)
    }

    /// Tokens that `shares` are worth now (floor: dust stays with the validator).
    pub(super) fn tokens_for(&self, shares: Uint128) -> Result<Uint128, StakingError> {
        if self.delegator_shares.is_zero() {
            return Ok(Uint128::zero());
        }
        mul_div(shares, self.tokens, self.delegator_shares)
    }
}

/// What `shares` of `v` are worth in tokens now.
pub fn tokens_of_shares(v: &Validator, shares: Uint128) -> Result<Uint128, StakingError> {
    v.tokens_for(shares)
}

pub fn validator(s: &dyn Storage, op: &Addr) -> Result<Validator, StakingError> {
    VALIDATORS
        .may_load(s, &op.0)?
        .ok_or_else(|| StakingError::NoValidator(op.valoper()))
}

/// The validator with this operator address (20 bytes), if there is one.
pub fn find_validator(s: &dyn Storage, operator: &[u8]) -> StdResult<Option<Validator>> {
    VALIDATORS.may_load(s, operator)
}

/// The operator of the validator with this consensus address (20 bytes).
pub fn operator_by_consensus_address(
    s: &dyn Storage,
    consensus_address: &[u8],
) -> StdResult<Option<Addr20>> {
    BY_CONS_ADDR.may_load(s, consensus_address)
}

/// The key of `v` in the power index, when it may be in the active set.
pub(super) fn power_key(v: &Validator) -> Option<[u8; 16]> {
    (!v.jailed && v.tokens.u128() >= POWER_REDUCTION)
        .then(|| (u128::MAX.saturating_sub(v.tokens.u128())).to_be_bytes())
}

/// Writes `v`, keeping the power index in step: the only writer of a validator.
pub(super) fn store_validator(s: &mut dyn Storage, v: &Validator) -> Result<(), StakingError> {
    unindex_stored(s, &v.operator)?;
    if let Some(k) = power_key(v) {
        BY_POWER.save(s, (&k, &v.operator), &())?;
    }
    VALIDATORS.save(s, &v.operator, v)?;
    Ok(())
}

/// Takes the stored record of `operator` out of the power index; returns it.
fn unindex_stored(
    s: &mut dyn Storage,
    operator: &Addr20,
) -> Result<Option<Validator>, StakingError> {
    let old = VALIDATORS.may_load(s, operator)?;
    if let Some(k) = old.as_ref().and_then(power_key) {
        BY_POWER.remove(s, (&k, operator));
    }
    Ok(old)
}

/// Writes `v`, or, when it is Unbonded with neither tokens nor shares, deletes
/// it and its indexes (the power index, the consensus-key lookup, the last
/// power): the SDK's `RemoveValidator`. Its consensus key is retired, never
/// registered again (stricter than the SDK: a tombstoned key cannot return).
/// Unbonding and redelegation entries that name it mature as usual;
/// distribution keeps its reward books until they are withdrawn.
pub(super) fn store_or_remove(s: &mut dyn Storage, v: &Validator) -> Result<(), StakingError> {
    let empty = v.status == Status::Unbonded && v.tokens.is_zero() && v.delegator_shares.is_zero();
    if !empty {
        return store_validator(s, v);
    }
    if let Some(old) = unindex_stored(s, &v.operator)? {
        if let Ok(pk) = pubkey_bytes(&old) {
            let cons = consensus_address(&pk);
            BY_CONS_ADDR.remove(s, &cons);
            RETIRED_CONS_ADDR.save(s, &cons, &())?;
        }
    }
    LAST_POWERS.remove(s, &v.operator);
    VALIDATORS.remove(s, &v.operator);
    Ok(())
}

/// Indexes every validator by power, once, for state written before the index
/// existed (a chain restored from an older export).
pub(super) fn ensure_power_index(s: &mut dyn Storage) -> Result<(), StakingError> {
    if BY_POWER_BUILT.may_load(s)?.unwrap_or(false) {
        return Ok(());
    }
    let all: Vec<Validator> = all_validators(s).collect::<StdResult<_>>()?;
    for v in &all {
        if let Some(k) = power_key(v) {
            BY_POWER.save(s, (&k, &v.operator), &())?;
        }
    }
    BY_POWER_BUILT.save(s, &true)?;
    Ok(())
}

/// Up to `n` operators of the power index, most tokens first (ties by
/// operator): the validators that may be in the active set.
pub(super) fn top_by_power(s: &dyn Storage, n: usize) -> StdResult<Vec<Addr20>> {
    BY_POWER
        .keys(s, None, None, Order::Ascending)
        .take(n)
        .map(|k| {
            let (_, op) = k?;
            Addr20::try_from(op.as_slice())
                .map_err(|_| cosmwasm_std::StdError::msg("power index: operator is not 20 bytes"))
        })
        .collect()
}

/// The validators CometBFT was last told about (the active set after the last
/// EndBlock) that still have power now, in operator order: the same as every
/// validator with `power() > 0`, read without visiting the others.
pub fn bonded_validators(s: &dyn Storage) -> StdResult<Vec<Validator>> {
    let mut out = Vec::new();
    for op in LAST_POWERS.keys(s, None, None, Order::Ascending) {
        let op = op?;
        if let Some(v) = VALIDATORS.may_load(s, &op)? {
            if v.power() > 0 {
                out.push(v);
            }
        }
    }
    Ok(out)
}

/// Every validator, bonded or not, in operator order.
pub fn all_validators(s: &dyn Storage) -> impl Iterator<Item = StdResult<Validator>> + '_ {
    VALIDATORS
        .range(s, None, None, Order::Ascending)
        .map(|r| r.map(|(_, v)| v))
}

/// The SDK's limits on a validator's description (`Description.EnsureLength`),
/// in characters.
pub const MAX_MONIKER: usize = 70;
pub const MAX_IDENTITY: usize = 3000;
pub const MAX_WEBSITE: usize = 140;
pub const MAX_SECURITY_CONTACT: usize = 140;
pub const MAX_DETAILS: usize = 280;

/// A new validator's commission: its rate, the most it may ever charge, and
/// the most it may change in a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Commission {
    pub rate: Decimal,
    pub max_rate: Decimal,
    pub max_change_rate: Decimal,
}

impl Commission {
    /// `rate` with the widest bounds (max rate 1, 1 % a day).
    pub fn at(rate: Decimal) -> Self {
        Commission {
            rate,
            max_rate: Decimal::one(),
            max_change_rate: Decimal::percent(1),
        }
    }
}

/// Creates a validator with [`Commission::at`] `commission_rate` and a minimum
/// self-delegation of 1 (see [`create_validator_with`]).
pub fn create_validator(
    s: &mut dyn Storage,
    operator: &Addr,
    consensus_pubkey: &[u8; 32],
    amount: Uint128,
    commission_rate: Decimal,
    moniker: &str,
) -> Result<(), StakingError> {
    create_validator_with(
        s,
        operator,
        consensus_pubkey,
        amount,
        Commission::at(commission_rate),
        Uint128::one(),
        moniker,
    )
}

/// Creates a validator and its operator's self-delegation of `amount`, as the
/// SDK does: rate ≤ max rate ≤ 1, max change rate ≤ max rate, a positive
/// minimum self-delegation the self-bond meets, a moniker of 1 to 70
/// characters, and a self-bond of at least `min_self_bond`.
pub fn create_validator_with(
    s: &mut dyn Storage,
    operator: &Addr,
    consensus_pubkey: &[u8; 32],
    amount: Uint128,
    commission: Commission,
    min_self_delegation: Uint128,
    moniker: &str,
) -> Result<(), StakingError> {
    if VALIDATORS.has(s, &operator.0) {
        return Err(StakingError::ValidatorExists(operator.valoper()));
    }
    let cons = consensus_address(consensus_pubkey);
    if BY_CONS_ADDR.has(s, &cons) || RETIRED_CONS_ADDR.has(s, &cons) {
        return Err(StakingError::PubkeyTaken);
    }
    let Commission {
        rate,
        max_rate,
        max_change_rate,
    } = commission;
    if max_rate > Decimal::one() {
        return Err(StakingError::Invalid("commission max rate above 1".into()));
    }
    if rate > max_rate {
        return Err(StakingError::Invalid(format!(
            "commission rate {rate} is above the max rate {max_rate}"
        )));
    }
    if max_change_rate > max_rate {
        return Err(StakingError::Invalid(format!(
            "commission max change rate {max_change_rate} is above the max rate {max_rate}"
        )));
    }
    check_moniker(moniker)?;
    if min_self_delegation.is_zero() {
        return Err(StakingError::Invalid(
            "minimum self delegation must be a positive integer".into(),
        ));
    }
    if amount < min_self_delegation {
        return Err(StakingError::Invalid(format!(
            "self delegation {amount} is below the minimum self delegation {min_self_delegation}"
        )));
    }
    let min_bond = crate::state::params(s).min_self_bond;
    if amount < min_bond {
        return Err(StakingError::Invalid(format!(
            "self-bond {amount} is below the chain's minimum {min_bond} (staking param min_self_bond)"
        )));
    }
    let v = Validator {
        operator: operator.0,
        consensus_pubkey: hex::encode(consensus_pubkey),
        tokens: Uint128::zero(),
        delegator_shares: Uint128::zero(),
        jailed: false,
        status: Status::Unbonded,
        commission_rate: rate,
        commission_max_rate: max_rate,
        commission_max_change_rate: max_change_rate,
        min_self_delegation,
        moniker: moniker.into(),
        commission_update_time: 0,
        unbonding_height: 0,
        unbonding_time: 0,
    };
    store_validator(s, &v)?;
    BY_CONS_ADDR.save(s, &cons, &operator.0)?;
    delegate(s, operator, operator, amount)
}

/// The SDK's moniker rule: 1 to 70 characters.
fn check_moniker(m: &str) -> Result<(), StakingError> {
    match m.chars().count() {
        0 => Err(StakingError::Invalid("moniker cannot be blank".into())),
        n if n > MAX_MONIKER => Err(StakingError::Invalid(format!(
            "moniker is {n} characters, more than {MAX_MONIKER}"
        ))),
        _ => Ok(()),
    }
}

/// `MsgEditValidator`: a new moniker, a commission change of at most
/// `max_change_rate` and at most once per 24 h (never above `max_rate`), a higher
/// minimum self-delegation (it can only go up, and not above the self-delegation).
pub fn edit_validator(
    s: &mut dyn Storage,
    operator: &Addr,
    moniker: Option<&str>,
    commission_rate: Option<Decimal>,
    min_self_delegation: Option<Uint128>,
    now: i64,
) -> Result<(), StakingError> {
    let mut v = validator(s, operator)?;
    if let Some(m) = moniker {
        check_moniker(m)?;
        v.moniker = m.to_string();
    }
    if let Some(rate) = commission_rate {
        if now.saturating_sub(v.commission_update_time) < 24 * 3600 && v.commission_update_time != 0
        {
            return Err(StakingError::Invalid(
                "commission cannot be changed more than once in 24h".into(),
            ));
        }
        if rate > v.commission_max_rate {
            return Err(StakingError::Invalid(format!(
                "commission rate {rate} is above the validator's max rate {}",
                v.commission_max_rate
            )));
        }
        let change = rate.abs_diff(v.commission_rate);
        if change > v.commission_max_change_rate {
            return Err(StakingError::Invalid(format!(
                "commission change {change} is above the max change rate {}",
                v.commission_max_change_rate
            )));
        }
        v.commission_rate = rate;
        v.commission_update_time = now;
    }
    if let Some(msd) = min_self_delegation {
        if msd <= v.min_self_delegation {
            return Err(StakingError::Invalid(
                "minimum self delegation can only be increased".into(),
            ));
        }
        let own = DELEGATIONS
            .may_load(s, (&operator.0, &operator.0))?
            .unwrap_or_default();
        if tokens_of_shares(&v, own)? < msd {
            return Err(StakingError::Invalid(
                "minimum self delegation cannot be above the self delegation".into(),
            ));
        }
        v.min_self_delegation = msd;
    }
    store_validator(s, &v)
}

pub fn set_jailed(s: &mut dyn Storage, operator: &Addr, jailed: bool) -> Result<(), StakingError> {
    let mut v = validator(s, operator)?;
    v.jailed = jailed;
    store_validator(s, &v)
}
