//! Liveness: every validator's signing window over `decided_last_commit`;
//! missing too many blocks of it slashes and jails (downtime).

use cosmwasm_std::{Order, Storage, Uint128};
use verdict_core::address::Addr;
use verdict_core::event::Event;
use verdict_staking::state as staking;

use crate::state::keys::{MISSED, SIGNING_INFO};
use crate::{hex_upper, params, SigningInfo, SlashingError, SlashingParams};

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
        let Some(op) = staking::operator_by_consensus_address(s, &v.consensus_address)? else {
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
        record_vote(s, v, window, &mut info)?;
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
            let downtime = Downtime {
                operator: &operator,
                vote: v,
                height,
                now,
            };
            events.push(slash_downtime(s, &p, &downtime, &mut info)?);
        }
        SIGNING_INFO.save(s, &v.consensus_address, &info)?;
    }
    Ok(events)
}

/// Moves `info`'s window on by one block: the slot it reuses now holds this
/// vote, and the missed counter follows.
fn record_vote(
    s: &mut dyn Storage,
    v: &CommitVote,
    window: u64,
    info: &mut SigningInfo,
) -> Result<(), SlashingError> {
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
    Ok(())
}

/// A validator found below the minimum signed blocks at `height`.
struct Downtime<'a> {
    operator: &'a Addr,
    vote: &'a CommitVote,
    height: u64,
    now: i64,
}

/// Slashes and jails for downtime, and starts a fresh window. Returns the
/// `slash` event.
fn slash_downtime(
    s: &mut dyn Storage,
    p: &SlashingParams,
    d: &Downtime<'_>,
    info: &mut SigningInfo,
) -> Result<Event, SlashingError> {
    let v = d.vote;
    // The infraction is the missing; its stake is the power CometBFT used,
    // i.e. as of two heights earlier (the validator-update delay).
    let infraction = d.height.saturating_sub(2);
    let burned = staking::slash(
        s,
        d.operator,
        infraction,
        v.power,
        p.slash_fraction_downtime,
    )?;
    staking::set_jailed(s, d.operator, true)?;
    info.jailed_until = d
        .now
        .saturating_add(i64::try_from(p.downtime_jail_duration_seconds).unwrap_or(i64::MAX));
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
    Ok(Event::new("slash")
        .attr("address", hex_upper(&v.consensus_address))
        .attr("validator", d.operator.valoper())
        .attr("power", v.power)
        .attr("reason", "missing_signature")
        .attr("jailed", true)
        .attr("burned_coins", burned))
}
