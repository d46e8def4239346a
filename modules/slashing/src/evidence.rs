//! Slashing on evidence: CometBFT's double signs, and the faults other modules
//! report (the attestation module, for inference).

use cosmwasm_std::{Decimal, Storage, Uint128};
use verdict_core::address::Addr;
use verdict_core::event::Event;
use verdict_staking::state as staking;

use crate::state::keys::SIGNING_INFO;
use crate::{hex_upper, params, SlashingError};

/// Double sign at `infraction_height` with `power`: slash, jail forever, tombstone.
pub fn handle_double_sign(
    s: &mut dyn Storage,
    consensus_address: &[u8; 20],
    infraction_height: u64,
    power: u64,
) -> Result<Vec<Event>, SlashingError> {
    let Some(op) = staking::operator_by_consensus_address(s, consensus_address)? else {
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

/// What [`slash_for_fault`] did: the tokens taken, whether the validator is
/// jailed, and the `slash` event (none for an unknown address).
#[derive(Debug, Default)]
pub struct FaultSlash {
    pub taken: Uint128,
    pub jailed: bool,
    pub events: Vec<Event>,
}

/// The slashing API other modules call (the attestation module, for inference
/// faults): slash `fraction` of the stake the validator had at
/// `infraction_height` (`power` then), jail it for `jail_seconds` (never
/// shortening a longer jail), and say what it did ([`FaultSlash`]).
/// The tokens go to `sink`: burned (`burned_coins`) or moved to an account
/// (`slashed_coins`, `to`). An unknown address slashes nothing.
#[allow(clippy::too_many_arguments)]
pub fn slash_for_fault(
    s: &mut dyn Storage,
    consensus_address: &[u8; 20],
    infraction_height: u64,
    power: u64,
    fraction: Decimal,
    jail_seconds: Option<u64>,
    now: i64,
    reason: &str,
    sink: staking::Sink<'_>,
) -> Result<FaultSlash, SlashingError> {
    let Some(op) = staking::operator_by_consensus_address(s, consensus_address)? else {
        return Ok(FaultSlash::default());
    };
    let operator = Addr(op);
    let burned = staking::slash_into(s, &operator, infraction_height, power, fraction, sink)?;
    // Never jail the last validator with power: an empty set halts CometBFT.
    let others = staking::all_validators(s)
        .filter_map(Result::ok)
        .any(|v| v.operator != operator.0 && v.power() > 0);
    let jail = jail_seconds.is_some() && (others || staking::validator(s, &operator)?.jailed);
    if let Some(jail_seconds) = jail_seconds.filter(|_| jail) {
        staking::set_jailed(s, &operator, true)?;
        let mut info = SIGNING_INFO
            .may_load(s, consensus_address)?
            .unwrap_or_default();
        let until = now.saturating_add(i64::try_from(jail_seconds).unwrap_or(i64::MAX));
        info.jailed_until = info.jailed_until.max(until);
        SIGNING_INFO.save(s, consensus_address, &info)?;
    }
    let event = Event::new("slash")
        .attr("address", hex_upper(consensus_address))
        .attr("validator", operator.valoper())
        .attr("power", power)
        .attr("reason", reason)
        .attr("jailed", jail);
    let event = match sink {
        staking::Sink::Burn => event.attr("burned_coins", burned),
        staking::Sink::To(to) => event.attr("slashed_coins", burned).attr("to", to.bech32()),
    };
    Ok(FaultSlash {
        taken: burned,
        jailed: jail,
        events: vec![event],
    })
}
