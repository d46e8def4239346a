//! Staking state and the operations on it. Every token movement goes through bank
//! between an account and the two pool module accounts, so supply stays exact.

use cosmwasm_std::{Decimal, Order, Storage, Uint128, Uint256};
use cw_storage_plus::{Item, Map};
use serde::{Deserialize, Serialize};
use verdict_bank::Bank;
use verdict_core::address::{Addr, FEE_DENOM};
use verdict_core::coin::Coin;

use crate::error::StakingError;

mod redelegation;
pub use redelegation::{
    begin_redelegation, complete_redelegations, has_receiving_redelegation, RedelegationEntry,
    REDELEGATIONS, REDELEGATIONS_BY_SRC, REDELEGATION_QUEUE,
};

/// Tokens per unit of CometBFT voting power (the SDK's `DefaultPowerReduction`).
pub const POWER_REDUCTION: u128 = 1_000_000;
/// Shares minted per token for a validator's first delegation.
const SHARES_PER_TOKEN: u128 = 1_000_000;

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
}

impl Default for StakingParams {
    fn default() -> Self {
        StakingParams {
            unbonding_time_seconds: 21 * 24 * 3600,
            max_validators: 100,
            max_entries: 7,
            historical_entries: 10_000,
            bond_denom: FEE_DENOM.into(),
        }
    }
}

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
}

/// An address as stored in JSON state (bech32 would tie state to the prefix).
pub type Addr20 = [u8; 20];

impl Validator {
    pub fn power(&self) -> u64 {
        if self.jailed || self.status != Status::Bonded {
            return 0;
        }
        u64::try_from(self.tokens.u128() / POWER_REDUCTION).unwrap_or(u64::MAX)
    }

    /// Shares for `amount` new tokens at the current exchange rate (floor).
    fn shares_for(&self, amount: Uint128) -> Result<Uint128, StakingError> {
        if self.delegator_shares.is_zero() || self.tokens.is_zero() {
            return amount
                .checked_mul(Uint128::new(SHARES_PER_TOKEN))
                .map_err(|_| StakingError::Overflow("shares"));
        }
        mul_div(amount, self.delegator_shares, self.tokens)
    }

    /// Tokens that `shares` are worth now (floor: dust stays with the validator).
    fn tokens_for(&self, shares: Uint128) -> Result<Uint128, StakingError> {
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnbondingEntry {
    pub creation_height: u64,
    pub completion_time: i64,
    pub initial_balance: Uint128,
    pub balance: Uint128,
}

pub const PARAMS: Item<StakingParams> = Item::new("staking/params");
pub const VALIDATORS: Map<&[u8], Validator> = Map::new("staking/validators");
/// Consensus address (first 20 bytes of sha256(pubkey)) → operator.
pub const BY_CONS_ADDR: Map<&[u8], Addr20> = Map::new("staking/by_cons");
/// (delegator, validator) → shares.
pub const DELEGATIONS: Map<(&[u8], &[u8]), Uint128> = Map::new("staking/delegations");
pub const UNBONDING: Map<(&[u8], &[u8]), Vec<UnbondingEntry>> = Map::new("staking/unbonding");
/// (validator, delegator): the pairs with unbonding entries, by validator, so a
/// slash visits only its own validator's entries.
pub const UNBONDING_BY_VAL: Map<(&[u8], &[u8]), ()> = Map::new("staking/ubd_by_val");
/// (completion time, delegator, validator): pairs with an entry maturing then.
pub const UNBONDING_QUEUE: Map<(u64, &[u8], &[u8]), ()> = Map::new("staking/ubd_queue");
/// The powers CometBFT was last told, by operator.
pub const LAST_POWERS: Map<&[u8], u64> = Map::new("staking/last_powers");
/// (delegator, validator) pairs whose delegation shares changed since the
/// distribution module last looked: an outbox that distribution drains (and
/// clears) before it allocates rewards, so its per-share books follow every share
/// change — including those inside a slash — without a hook from staking upward.
pub const SHARES_CHANGED: Map<(&[u8], &[u8]), ()> = Map::new("staking/shares_changed");

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

pub fn validator(s: &dyn Storage, op: &Addr) -> Result<Validator, StakingError> {
    VALIDATORS
        .may_load(s, &op.0)?
        .ok_or_else(|| StakingError::NoValidator(op.valoper()))
}

fn bond_coin(s: &dyn Storage, amount: Uint128) -> [Coin; 1] {
    [Coin {
        denom: params(s).bond_denom,
        amount,
    }]
}

/// Creates a validator and its operator's self-delegation.
pub fn create_validator(
    s: &mut dyn Storage,
    operator: &Addr,
    consensus_pubkey: &[u8; 32],
    amount: Uint128,
    commission_rate: Decimal,
    moniker: &str,
) -> Result<(), StakingError> {
    if VALIDATORS.has(s, &operator.0) {
        return Err(StakingError::ValidatorExists(operator.valoper()));
    }
    let cons = consensus_address(consensus_pubkey);
    if BY_CONS_ADDR.has(s, &cons) {
        return Err(StakingError::PubkeyTaken);
    }
    if commission_rate > Decimal::one() {
        return Err(StakingError::Invalid("commission rate above 1".into()));
    }
    let v = Validator {
        operator: operator.0,
        consensus_pubkey: hex::encode(consensus_pubkey),
        tokens: Uint128::zero(),
        delegator_shares: Uint128::zero(),
        jailed: false,
        status: Status::Unbonded,
        commission_rate,
        commission_max_rate: Decimal::one(),
        commission_max_change_rate: Decimal::percent(1),
        min_self_delegation: Uint128::one(),
        moniker: moniker.into(),
        commission_update_time: 0,
    };
    VALIDATORS.save(s, &operator.0, &v)?;
    BY_CONS_ADDR.save(s, &cons, &operator.0)?;
    delegate(s, operator, operator, amount)
}

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
    let pool = if v.status == Status::Bonded {
        bonded_pool()
    } else {
        not_bonded_pool()
    };
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
    VALIDATORS.save(s, &validator_op.0, &v)?;
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
fn shares_for_tokens_ceil(v: &Validator, amount: Uint128) -> Result<Uint128, StakingError> {
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
/// `min_self_delegation`, the validator is jailed (the SDK's rule). Returns the
/// tokens removed.
fn unbond_shares(
    s: &mut dyn Storage,
    delegator: &Addr,
    v: &mut Validator,
    have: Uint128,
    shares: Uint128,
    cap: Option<Uint128>,
) -> Result<Uint128, StakingError> {
    let tokens = v.tokens_for(shares)?;
    let tokens = cap.map_or(tokens, |c| tokens.min(c));
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
    VALIDATORS.save(s, &v.operator, v)?;
    Ok(tokens)
}

/// The operator's own delegation in tokens.
pub fn self_delegation_tokens(s: &dyn Storage, operator: &Addr) -> Result<Uint128, StakingError> {
    let v = validator(s, operator)?;
    let own = DELEGATIONS
        .may_load(s, (&operator.0, &operator.0))?
        .unwrap_or_default();
    v.tokens_for(own)
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
    let have = DELEGATIONS
        .may_load(s, (&delegator.0, &validator_op.0))?
        .ok_or_else(|| StakingError::NoDelegation {
            delegator: delegator.bech32(),
            validator: validator_op.valoper(),
        })?;
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
    let completion =
        now.saturating_add(i64::try_from(p.unbonding_time_seconds).unwrap_or(i64::MAX));
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
        (
            u64::try_from(completion).unwrap_or(0),
            &delegator.0,
            &validator_op.0,
        ),
        &(),
    )?;
    Ok(completion)
}

/// Pays out every unbonding entry that has matured by `now`, and drops the
/// redelegation entries that have.
pub fn complete_unbondings(s: &mut dyn Storage, now: i64) -> Result<(), StakingError> {
    complete_redelegations(s, now)?;
    let now_u = u64::try_from(now).unwrap_or(0);
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

/// A change of one validator's CometBFT power.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PowerUpdate {
    pub pubkey: [u8; 32],
    pub power: u64,
}

/// Recomputes the active set (top `max_validators` by tokens, unjailed, with at
/// least one unit of power), moves tokens between the pools for validators that
/// enter or leave it, and returns what changed since CometBFT was last told.
pub fn end_block_updates(s: &mut dyn Storage) -> Result<Vec<PowerUpdate>, StakingError> {
    let p = params(s);
    let mut all: Vec<Validator> = VALIDATORS
        .range(s, None, None, Order::Ascending)
        .map(|r| r.map(|(_, v)| v))
        .collect::<Result<_, _>>()?;
    // Deterministic order: tokens descending, then operator address.
    all.sort_by(|a, b| b.tokens.cmp(&a.tokens).then(a.operator.cmp(&b.operator)));
    let mut active = std::collections::BTreeSet::new();
    for v in all
        .iter()
        .filter(|v| !v.jailed && v.tokens.u128() >= POWER_REDUCTION)
    {
        if active.len() >= p.max_validators as usize {
            break;
        }
        active.insert(v.operator);
    }
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
            let coins = bond_coin(s, v.tokens);
            if !v.tokens.is_zero() {
                if new_status == Status::Bonded {
                    Bank::transfer(s, &not_bonded_pool(), &bonded_pool(), &coins)?;
                } else if v.status == Status::Bonded {
                    Bank::transfer(s, &bonded_pool(), &not_bonded_pool(), &coins)?;
                }
            }
            v.status = new_status;
            VALIDATORS.save(s, &v.operator, &v)?;
        }
        let power = v.power();
        if power != was {
            let pk: [u8; 32] = hex::decode(&v.consensus_pubkey)
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or(StakingError::Invalid(
                    "stored consensus key is not 32 bytes".into(),
                ))?;
            updates.push(PowerUpdate { pubkey: pk, power });
            if power == 0 {
                LAST_POWERS.remove(s, &v.operator);
            } else {
                LAST_POWERS.save(s, &v.operator, &power)?;
            }
        }
    }
    Ok(updates)
}

/// Slashes `fraction` of the stake the validator had at `infraction_height`
/// (its power then × power reduction): first from unbonding entries and
/// redelegations (their destination shares) created at or after that height, the
/// rest from its tokens. Slashed tokens are burned. Returns the amount burned.
pub fn slash(
    s: &mut dyn Storage,
    operator: &Addr,
    infraction_height: u64,
    power_at_infraction: u64,
    fraction: Decimal,
) -> Result<Uint128, StakingError> {
    validator(s, operator)?;
    let target = Uint128::from(u128::from(power_at_infraction).saturating_mul(POWER_REDUCTION))
        .mul_floor(fraction);
    let mut remaining = target;
    let mut burned_nb = Uint128::zero();
    // Unbonding entries that started after the infraction still answer for it.
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
                .min(remaining);
            e.balance = e
                .balance
                .checked_sub(cut)
                .map_err(|_| StakingError::Overflow("entry"))?;
            remaining = remaining
                .checked_sub(cut)
                .map_err(|_| StakingError::Overflow("remaining"))?;
            burned_nb = burned_nb
                .checked_add(cut)
                .map_err(|_| StakingError::Overflow("burn"))?;
        }
        UNBONDING.save(s, (&d, &val), &entries)?;
    }
    let burned_red = redelegation::slash_redelegations(
        s,
        operator,
        infraction_height,
        fraction,
        &mut remaining,
    )?;
    // Loaded after the redelegations: unbonding their destination shares may have
    // changed a validator record (a redelegation back to `operator` is not
    // possible, but the fresh copy is the one to write).
    let mut v = validator(s, operator)?;
    let from_tokens = remaining.min(v.tokens);
    v.tokens = v
        .tokens
        .checked_sub(from_tokens)
        .map_err(|_| StakingError::Overflow("tokens"))?;
    let pool = if v.status == Status::Bonded {
        bonded_pool()
    } else {
        not_bonded_pool()
    };
    VALIDATORS.save(s, &operator.0, &v)?;
    if !from_tokens.is_zero() {
        {
            let c = bond_coin(s, from_tokens);
            Bank::burn_from(s, &pool, &c, true)?;
        }
    }
    if !burned_nb.is_zero() {
        {
            let c = bond_coin(s, burned_nb);
            Bank::burn_from(s, &not_bonded_pool(), &c, true)?;
        }
    }
    from_tokens
        .checked_add(burned_nb)
        .and_then(|b| b.checked_add(burned_red))
        .map_err(|_| StakingError::Overflow("burn"))
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
        if m.len() > 70 {
            return Err(StakingError::Invalid(
                "moniker longer than 70 characters".into(),
            ));
        }
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
    VALIDATORS.save(s, &operator.0, &v)?;
    Ok(())
}

pub fn set_jailed(s: &mut dyn Storage, operator: &Addr, jailed: bool) -> Result<(), StakingError> {
    let mut v = validator(s, operator)?;
    v.jailed = jailed;
    VALIDATORS.save(s, &operator.0, &v)?;
    Ok(())
}

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
    redelegation::check_redelegation_invariants(s)?;
    let bp = Bank::balance(s, &bonded_pool(), &denom).map_err(|e| e.to_string())?;
    let nbp = Bank::balance(s, &not_bonded_pool(), &denom).map_err(|e| e.to_string())?;
    if bp != bonded || nbp != not_bonded {
        return Err(format!(
            "pools: bonded {bp} vs {bonded}, not bonded {nbp} vs {not_bonded}"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
