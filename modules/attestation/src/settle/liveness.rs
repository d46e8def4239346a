//! Attestation liveness (threats.md §6, §10): per validator, a window of its
//! last `missed_window` blocks with seats in settled jobs; too many misses
//! slash `slash_fraction_missed` and jail, like downtime.

use std::collections::BTreeMap;

use cosmwasm_std::{Order, StdResult, Storage, Uint128};
use verdict_core::event::Event;
use verdict_inference::state as inf;
use verdict_inference::InferenceParams;
use verdict_staking::state as staking;

use super::budget::{Budget, Penalty};
use crate::error::AttestationError;
use crate::keys::{ATT_INFO, ATT_MISSED};
use crate::types::AttInfo;

/// The liveness window of a validator (consensus address), if it has one.
pub fn att_info(s: &dyn Storage, address: &[u8]) -> StdResult<Option<AttInfo>> {
    ATT_INFO.may_load(s, address)
}

/// This block's liveness: per validator, its power (as first seen) and the
/// worst of its seats in the jobs settled here (0 answered, 1 silent, 2
/// withheld a reveal after committing). Recorded once per block, since a
/// proposer can delay an extension: the window counts blocks.
///
/// A seat late on an incident is *excusable*: when it is the validator's
/// worst seat of the block, the block is excused (no entry) while fewer than
/// half the window's blocks in a row have been; after that it counts as late.
#[derive(Debug, Default)]
pub(super) struct BlockLiveness(BTreeMap<[u8; 20], (u64, Option<u8>)>);

impl BlockLiveness {
    pub(super) fn note(&mut self, address: [u8; 20], power: u64, missed: u8) {
        let e = self.0.entry(address).or_insert((power, None));
        e.1 = Some(e.1.map_or(missed, |m| m.max(missed)));
    }

    /// A seat late on an incident (see the type's doc).
    pub(super) fn note_excusable(&mut self, address: [u8; 20], power: u64) {
        self.0.entry(address).or_insert((power, None));
    }

    /// Writes every noted validator's entry, in address order.
    pub(super) fn record(
        self,
        s: &mut dyn Storage,
        height: u64,
        now: i64,
        budget: &mut Budget,
    ) -> Result<Vec<Event>, AttestationError> {
        let p = inf::params(s);
        let mut events = Vec::new();
        for (address, (power, worst)) in self.0 {
            let missed = match worst {
                Some(m) => m,
                None => {
                    let mut info = ATT_INFO.may_load(s, &address)?.unwrap_or_default();
                    if info.excused.saturating_mul(2) < window(&p) {
                        info.excused = info.excused.saturating_add(1);
                        ATT_INFO.save(s, &address, &info)?;
                        continue;
                    }
                    1
                }
            };
            let mut info = push_entries(s, &address, missed, &p)?;
            if missed == 0 {
                info.excused = 0;
            }
            if over_limit(&info, &p) {
                events.extend(jail(s, &address, power, &p, height, now, budget)?);
                info = AttInfo::default();
            }
            ATT_INFO.save(s, &address, &info)?;
        }
        Ok(events)
    }
}

fn window(p: &InferenceParams) -> u64 {
    u64::from(p.missed_window.max(1))
}

/// One block in the validator's window: `missed` 0 (answered every seat it
/// had in this block's settlements), 1 (silent or late on one), 2 (withheld
/// a reveal after committing: two entries).
fn push_entries(
    s: &mut dyn Storage,
    address: &[u8; 20],
    missed: u8,
    p: &InferenceParams,
) -> Result<AttInfo, AttestationError> {
    let window = window(p);
    let mut info = ATT_INFO.may_load(s, address)?.unwrap_or_default();
    let entries: &[bool] = match missed {
        0 => &[false],
        1 => &[true],
        _ => &[true, true],
    };
    for &m in entries {
        let idx = info.seats.checked_rem(window).unwrap_or(0);
        info.seats = info.seats.saturating_add(1);
        let was = ATT_MISSED.has(s, (address, idx));
        match (was, m) {
            (false, true) => {
                ATT_MISSED.save(s, (address, idx), &())?;
                info.missed = info.missed.saturating_add(1);
            }
            (true, false) => {
                ATT_MISSED.remove(s, (address, idx));
                info.missed = info.missed.saturating_sub(1);
            }
            _ => {}
        }
    }
    Ok(info)
}

/// A full window with fewer than `min_attested_fraction` of it answered.
fn over_limit(info: &AttInfo, p: &InferenceParams) -> bool {
    let window = window(p);
    let min_attested = Uint128::from(window)
        .mul_ceil(p.min_attested_fraction)
        .u128();
    let max_missed = u128::from(window).saturating_sub(min_attested);
    info.seats >= window && u128::from(info.missed) > max_missed
}

/// Too many misses: `slash_fraction_missed` and jail (within the block's
/// [`Budget`]), and the window starts over.
fn jail(
    s: &mut dyn Storage,
    address: &[u8; 20],
    power: u64,
    p: &InferenceParams,
    height: u64,
    now: i64,
    budget: &mut Budget,
) -> Result<Vec<Event>, AttestationError> {
    let operator = staking::operator_by_consensus_address(s, address)?.unwrap_or([0; 20]);
    let events = budget
        .slash(
            s,
            &Penalty {
                address,
                operator: &operator,
                infraction_height: height.saturating_sub(2),
                power,
                fraction: p.slash_fraction_missed,
                jail_seconds: p.fault_jail_seconds,
                reason: "inference_missed_attestations",
                proven: false,
            },
            now,
        )?
        .events;
    let keys: Vec<u64> = ATT_MISSED
        .prefix(address)
        .keys(s, None, None, Order::Ascending)
        .collect::<Result<_, _>>()?;
    for k in keys {
        ATT_MISSED.remove(s, (address, k));
    }
    Ok(events)
}
