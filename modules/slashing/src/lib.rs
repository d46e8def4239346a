//! Module slashing: a signing window over `decided_last_commit` (downtime → slash
//! and jail), `FinalizeBlock.misbehavior` (double sign → slash at the infraction
//! height, jail forever, tombstone), and `MsgUnjail`. Owns keys under
//! `slashing/`. Calls staking through its slash/jail API.
//!
//! # Invariants
//! - A tombstoned validator is never unjailed and never slashed twice for
//!   double signing.
//! - `missed_blocks_counter` equals the number of set bits in the window bitmap.

#![warn(clippy::arithmetic_side_effects)]

use cosmwasm_std::{Decimal, Order, Storage, Uint128};
use cw_storage_plus::{Item, Map};
use serde::{Deserialize, Serialize};
use verdict_core::address::Addr;
use verdict_core::event::Event;
use verdict_core::{codes, AbciError};
use verdict_staking::state as staking;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SlashingParams {
    pub signed_blocks_window: u64,
    pub min_signed_per_window: Decimal,
    pub downtime_jail_duration_seconds: u64,
    pub slash_fraction_double_sign: Decimal,
    pub slash_fraction_downtime: Decimal,
}

impl Default for SlashingParams {
    /// The Cosmos SDK's defaults.
    fn default() -> Self {
        SlashingParams {
            signed_blocks_window: 100,
            min_signed_per_window: Decimal::percent(50),
            downtime_jail_duration_seconds: 600,
            slash_fraction_double_sign: Decimal::percent(5),
            slash_fraction_downtime: Decimal::percent(1),
        }
    }
}

impl SlashingParams {
    pub fn validate(&self) -> Result<(), String> {
        if self.signed_blocks_window == 0 {
            return Err("slashing.params.signed_blocks_window must be positive".into());
        }
        for (name, d) in [
            ("min_signed_per_window", self.min_signed_per_window),
            (
                "slash_fraction_double_sign",
                self.slash_fraction_double_sign,
            ),
            ("slash_fraction_downtime", self.slash_fraction_downtime),
        ] {
            if d > Decimal::one() {
                return Err(format!("slashing.params.{name} must be at most 1, got {d}"));
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigningInfo {
    pub start_height: u64,
    pub index_offset: u64,
    pub jailed_until: i64,
    pub tombstoned: bool,
    pub missed_blocks_counter: u64,
}

pub mod query;

pub const PARAMS: Item<SlashingParams> = Item::new("slashing/params");
/// Consensus address → signing info.
pub const SIGNING_INFO: Map<&[u8], SigningInfo> = Map::new("slashing/info");
/// (consensus address, index in window) present = missed.
pub const MISSED: Map<(&[u8], u64), ()> = Map::new("slashing/missed");

pub fn params(s: &dyn Storage) -> SlashingParams {
    PARAMS.may_load(s).ok().flatten().unwrap_or_default()
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlashingError {
    #[error("validator {0} is not jailed")]
    NotJailed(String),
    #[error("validator {0} is tombstoned for double signing and can never be unjailed")]
    Tombstoned(String),
    #[error("validator {valoper} is jailed until {until} (unix seconds); block time is {now}")]
    StillJailed {
        valoper: String,
        until: i64,
        now: i64,
    },
    #[error("validator {0} has no self-delegation left")]
    NoSelfDelegation(String),
    /// The SDK's `ErrSelfDelegationTooLowToUnjail`.
    #[error("validator's self delegation less than minimum; cannot be unjailed: {valoper} has {have}, needs {min}")]
    SelfDelegationTooLow {
        valoper: String,
        have: Uint128,
        min: Uint128,
    },
    #[error("invalid address: {0}")]
    InvalidAddress(String),
    #[error("{0}")]
    NotFound(String),
    #[error(transparent)]
    Staking(#[from] verdict_staking::StakingError),
    #[error("storage: {0}")]
    Storage(String),
}

impl AbciError for SlashingError {
    fn code(&self) -> u32 {
        match self {
            SlashingError::Staking(e) => e.code(),
            SlashingError::Storage(_) => 1,
            SlashingError::InvalidAddress(_) => codes::INVALID_ADDRESS,
            SlashingError::NotFound(_) => codes::NOT_FOUND,
            _ => codes::INVALID_REQUEST,
        }
    }
}

impl From<cosmwasm_std::StdError> for SlashingError {
    fn from(e: cosmwasm_std::StdError) -> Self {
        SlashingError::Storage(e.to_string())
    }
}

/// One vote of the last commit, as the liveness tracker needs it.
pub struct CommitVote {
    pub consensus_address: [u8; 20],
    pub power: u64,
    /// Absent votes count as missed; commit and nil votes as signed (the SDK's rule).
    pub signed: bool,
}

/// Liveness for one height: updates every validator's window and slashes and
/// jails those below the minimum. Returns the events to emit.
pub fn handle_commit(
    s: &mut dyn Storage,
    height: u64,
    now: i64,
    votes: &[CommitVote],
) -> Result<Vec<Event>, SlashingError> {
    let p = params(s);
    let window = p.signed_blocks_window.max(1);
    let min_signed = Uint128::from(window)
        .mul_ceil(p.min_signed_per_window)
        .u128();
    let max_missed = u128::from(window).saturating_sub(min_signed);
    let mut events = Vec::new();
    for v in votes {
        let Some(op) = staking::BY_CONS_ADDR.may_load(s, &v.consensus_address)? else {
            continue;
        };
        let operator = Addr(op);
        let val = staking::validator(s, &operator)?;
        if val.jailed {
            continue;
        }
        let mut info = SIGNING_INFO
            .may_load(s, &v.consensus_address)?
            .unwrap_or(SigningInfo {
                start_height: height,
                ..Default::default()
            });
        let idx = info.index_offset.checked_rem(window).unwrap_or(0);
        info.index_offset = info.index_offset.saturating_add(1);
        let was_missed = MISSED.has(s, (&v.consensus_address, idx));
        match (was_missed, v.signed) {
            (false, false) => {
                MISSED.save(s, (&v.consensus_address, idx), &())?;
                info.missed_blocks_counter = info.missed_blocks_counter.saturating_add(1);
            }
            (true, true) => {
                MISSED.remove(s, (&v.consensus_address, idx));
                info.missed_blocks_counter = info.missed_blocks_counter.saturating_sub(1);
            }
            _ => {}
        }
        if !v.signed {
            events.push(
                Event::new("liveness")
                    .attr("address", hex_upper(&v.consensus_address))
                    .attr("missed_blocks", info.missed_blocks_counter)
                    .attr("height", height),
            );
        }
        let min_height = info.start_height.saturating_add(window);
        if height > min_height && u128::from(info.missed_blocks_counter) > max_missed {
            // The infraction is the missing; its stake is the power CometBFT used,
            // i.e. as of two heights earlier (the validator-update delay).
            let infraction = height.saturating_sub(2);
            let burned =
                staking::slash(s, &operator, infraction, v.power, p.slash_fraction_downtime)?;
            staking::set_jailed(s, &operator, true)?;
            info.jailed_until = now.saturating_add(
                i64::try_from(p.downtime_jail_duration_seconds).unwrap_or(i64::MAX),
            );
            info.missed_blocks_counter = 0;
            info.index_offset = 0;
            let keys: Vec<u64> = MISSED
                .prefix(&v.consensus_address)
                .keys(s, None, None, Order::Ascending)
                .filter_map(Result::ok)
                .collect();
            for k in keys {
                MISSED.remove(s, (&v.consensus_address, k));
            }
            events.push(
                Event::new("slash")
                    .attr("address", hex_upper(&v.consensus_address))
                    .attr("validator", operator.valoper())
                    .attr("power", v.power)
                    .attr("reason", "missing_signature")
                    .attr("jailed", true)
                    .attr("burned_coins", burned),
            );
        }
        SIGNING_INFO.save(s, &v.consensus_address, &info)?;
    }
    Ok(events)
}

/// Double sign at `infraction_height` with `power`: slash, jail forever, tombstone.
pub fn handle_double_sign(
    s: &mut dyn Storage,
    consensus_address: &[u8; 20],
    infraction_height: u64,
    power: u64,
) -> Result<Vec<Event>, SlashingError> {
    let Some(op) = staking::BY_CONS_ADDR.may_load(s, consensus_address)? else {
        return Ok(vec![]);
    };
    let operator = Addr(op);
    let mut info = SIGNING_INFO
        .may_load(s, consensus_address)?
        .unwrap_or_default();
    if info.tombstoned {
        return Ok(vec![]);
    }
    let p = params(s);
    let burned = staking::slash(
        s,
        &operator,
        infraction_height,
        power,
        p.slash_fraction_double_sign,
    )?;
    staking::set_jailed(s, &operator, true)?;
    info.tombstoned = true;
    info.jailed_until = i64::MAX;
    SIGNING_INFO.save(s, consensus_address, &info)?;
    Ok(vec![Event::new("slash")
        .attr("address", hex_upper(consensus_address))
        .attr("validator", operator.valoper())
        .attr("power", power)
        .attr("reason", "double_sign")
        .attr("jailed", true)
        .attr("burned_coins", burned)])
}

/// `MsgUnjail`: after the jail time, never when tombstoned, and only with a
/// self-delegation of at least `min_self_delegation`.
pub fn unjail(s: &mut dyn Storage, operator: &Addr, now: i64) -> Result<(), SlashingError> {
    let v = staking::validator(s, operator)?;
    if !v.jailed {
        return Err(SlashingError::NotJailed(operator.valoper()));
    }
    let pk = staking::pubkey_bytes(&v)?;
    let cons = staking::consensus_address(&pk);
    let info = SIGNING_INFO.may_load(s, &cons)?.unwrap_or_default();
    if info.tombstoned {
        return Err(SlashingError::Tombstoned(operator.valoper()));
    }
    if now < info.jailed_until {
        return Err(SlashingError::StillJailed {
            valoper: operator.valoper(),
            until: info.jailed_until,
            now,
        });
    }
    if !staking::DELEGATIONS.has(s, (&operator.0, &operator.0)) {
        return Err(SlashingError::NoSelfDelegation(operator.valoper()));
    }
    let have = staking::self_delegation_tokens(s, operator)?;
    if have < v.min_self_delegation {
        return Err(SlashingError::SelfDelegationTooLow {
            valoper: operator.valoper(),
            have,
            min: v.min_self_delegation,
        });
    }
    staking::set_jailed(s, operator, false)?;
    Ok(())
}

/// The slashing API other modules call (the attestation module, for inference
/// faults): slash `fraction` of the stake the validator had at
/// `infraction_height` (`power` then), jail it for `jail_seconds` (never
/// shortening a longer jail), and return the burned amount with a `slash` event.
/// An unknown address slashes nothing.
#[allow(clippy::too_many_arguments)]
pub fn slash_for_fault(
    s: &mut dyn Storage,
    consensus_address: &[u8; 20],
    infraction_height: u64,
    power: u64,
    fraction: Decimal,
    jail_seconds: u64,
    now: i64,
    reason: &str,
) -> Result<(Uint128, Vec<Event>), SlashingError> {
    let Some(op) = staking::BY_CONS_ADDR.may_load(s, consensus_address)? else {
        return Ok((Uint128::zero(), vec![]));
    };
    let operator = Addr(op);
    let burned = staking::slash(s, &operator, infraction_height, power, fraction)?;
    // Never jail the last validator with power: an empty set halts CometBFT.
    let others = staking::VALIDATORS
        .range(s, None, None, Order::Ascending)
        .filter_map(Result::ok)
        .any(|(k, v)| k.as_slice() != operator.0.as_slice() && v.power() > 0);
    let jail = others || staking::validator(s, &operator)?.jailed;
    if jail {
        staking::set_jailed(s, &operator, true)?;
        let mut info = SIGNING_INFO
            .may_load(s, consensus_address)?
            .unwrap_or_default();
        let until = now.saturating_add(i64::try_from(jail_seconds).unwrap_or(i64::MAX));
        info.jailed_until = info.jailed_until.max(until);
        SIGNING_INFO.save(s, consensus_address, &info)?;
    }
    Ok((
        burned,
        vec![Event::new("slash")
            .attr("address", hex_upper(consensus_address))
            .attr("validator", operator.valoper())
            .attr("power", power)
            .attr("reason", reason)
            .attr("jailed", jail)
            .attr("burned_coins", burned)],
    ))
}

fn hex_upper(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02X}")).collect()
}

#[cfg(test)]
mod tests;
