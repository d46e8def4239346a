//! Slashing of stake: the API the slashing module calls for downtime, double
//! signs and inference faults.

use cosmwasm_std::{Decimal, Storage, Uint128};
use verdict_bank::Bank;
use verdict_core::address::Addr;

use super::redelegation::slash_redelegations;
use super::unbonding::slash_unbonding_entries;
use super::validators::store_validator;
use super::{bond_coin, not_bonded_pool, pool_of, validator, POWER_REDUCTION};
use crate::error::StakingError;

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
    slash_into(
        s,
        operator,
        infraction_height,
        power_at_infraction,
        fraction,
        Sink::Burn,
    )
}

/// Where slashed tokens go: burned (double signs, downtime, as in the SDK) or
/// moved to an account (inference faults: the insurance pool, so a slash can
/// compensate the requester it wronged).
#[derive(Debug, Clone, Copy)]
pub enum Sink<'a> {
    Burn,
    To(&'a Addr),
}

impl Sink<'_> {
    /// Takes `amount` of the bond denom out of `pool` into the sink.
    pub(super) fn take(
        self,
        s: &mut dyn Storage,
        pool: &Addr,
        amount: Uint128,
    ) -> Result<(), StakingError> {
        if amount.is_zero() {
            return Ok(());
        }
        let c = bond_coin(s, amount);
        match self {
            Sink::Burn => Bank::burn_from(s, pool, &c, true)?,
            Sink::To(to) => Bank::transfer(s, pool, to, &c)?,
        }
        Ok(())
    }
}

/// [`slash`], the slashed tokens going to `sink`. Returns the amount slashed.
pub fn slash_into(
    s: &mut dyn Storage,
    operator: &Addr,
    infraction_height: u64,
    power_at_infraction: u64,
    fraction: Decimal,
    sink: Sink<'_>,
) -> Result<Uint128, StakingError> {
    validator(s, operator)?;
    let target = Uint128::from(u128::from(power_at_infraction).saturating_mul(POWER_REDUCTION))
        .mul_floor(fraction);
    let mut remaining = target;
    // Unbonding entries that started after the infraction still answer for it.
    let burned_nb =
        slash_unbonding_entries(s, operator, infraction_height, fraction, &mut remaining)?;
    let burned_red = slash_redelegations(
        s,
        operator,
        infraction_height,
        fraction,
        &mut remaining,
        sink,
    )?;
    let from_tokens = slash_tokens(s, operator, remaining, sink)?;
    sink.take(s, &not_bonded_pool(), burned_nb)?;
    from_tokens
        .checked_add(burned_nb)
        .and_then(|b| b.checked_add(burned_red))
        .map_err(|_| StakingError::Overflow("burn"))
}

/// Takes what is still owed (at most all of them) from the validator's own
/// tokens, in its pool, into `sink`. Returns the tokens taken.
fn slash_tokens(
    s: &mut dyn Storage,
    operator: &Addr,
    remaining: Uint128,
    sink: Sink<'_>,
) -> Result<Uint128, StakingError> {
    // Loaded after the redelegations: unbonding their destination shares may have
    // changed a validator record (a redelegation back to `operator` is not
    // possible, but the fresh copy is the one to write).
    let mut v = validator(s, operator)?;
    let from_tokens = remaining.min(v.tokens);
    v.tokens = v
        .tokens
        .checked_sub(from_tokens)
        .map_err(|_| StakingError::Overflow("tokens"))?;
    let pool = pool_of(&v);
    store_validator(s, &v)?;
    sink.take(s, &pool, from_tokens)?;
    Ok(from_tokens)
}
