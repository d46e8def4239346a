//! The blast radius of inference faults (threats.md §2).

use std::collections::BTreeSet;

use cosmwasm_std::{Decimal, Storage, Uint128};
use verdict_core::address::Addr;
use verdict_core::event::Event;
use verdict_inference::state as inf;
use verdict_slashing::FaultSlash;
use verdict_staking::state as staking;

use crate::error::AttestationError;
use crate::keys::{RECENT_JAILS, VAL_SLASHES};

/// One slash for an inference fault, as `slashing::slash_for_fault` takes it.
#[derive(Debug, Clone, Copy)]
pub struct Penalty<'a> {
    /// Consensus address of the validator.
    pub address: &'a [u8; 20],
    pub operator: &'a [u8; 20],
    pub infraction_height: u64,
    /// Power at the infraction (what the fraction is taken of).
    pub power: u64,
    pub fraction: Decimal,
    pub jail_seconds: u64,
    /// The slash event's `reason`.
    pub reason: &'a str,
    /// Proven by a challenge's re-run (an overturn): past the jail budget (and
    /// the once-a-block rule) it still takes its fraction (within
    /// `validator_slash_cap`), it only does not jail past the budget. The budget exists for faults that may be honest hardware or
    /// an outage; a result a larger, independent committee found wrong is
    /// not one (`make sim` showed overturns that took nothing).
    pub proven: bool,
}

/// Within any `fault_cap_window_blocks`, inference faults jail at most a third
/// of the bonded power (measured before those jails), take at most
/// `validator_slash_cap` of any one validator's stake (a slash beyond is cut to
/// what is left), a validator is slashed at most once per block for them, and
/// the last validator with power is never touched: a fault beyond the jail
/// budget is recorded (with its event, `capped`) but slashes and jails
/// nothing (past its own cap a validator is jailed, with nothing taken), so no
/// burst of faults — correlated failures, a model every sidecar fails on —
/// can empty the set, take consensus below its BFT assumption, or take more
/// than the cap from one validator. What a slash takes goes to the insurance
/// pool (`inference::state::insurance_pool`), not a burn.
pub struct Budget {
    /// Bonded power now (after this block's earlier changes); read from
    /// staking on the first fault of the block (most blocks have none).
    bonded: Option<u128>,
    /// Power jailed by inference faults in the window, this block included.
    recent: Vec<(u64, u64)>,
    height: u64,
    slashed: BTreeSet<[u8; 20]>,
    /// `recent` differs from what state holds (pruned or grown).
    dirty: bool,
    /// `fault_cap_window_blocks` and `validator_slash_cap`.
    window: u64,
    validator_cap: Decimal,
}

impl Budget {
    pub fn new(s: &dyn Storage, height: u64) -> Result<Budget, AttestationError> {
        let params = inf::params(s);
        let window = params.fault_cap_window_blocks;
        let mut recent = RECENT_JAILS.may_load(s)?.unwrap_or_default();
        let stored = recent.len();
        recent.retain(|(h, _)| h.saturating_add(window) > height);
        let dirty = recent.len() != stored;
        Ok(Budget {
            bonded: None,
            recent,
            height,
            slashed: BTreeSet::new(),
            dirty,
            window,
            validator_cap: params.validator_slash_cap,
        })
    }

    fn recent_sum(&self) -> u128 {
        self.recent.iter().map(|(_, p)| u128::from(*p)).sum()
    }

    fn bonded(&mut self, s: &dyn Storage) -> u128 {
        *self.bonded.get_or_insert_with(|| {
            staking::bonded_validators(s)
                .unwrap_or_default()
                .iter()
                .map(|v| u128::from(v.power()))
                .sum()
        })
    }

    /// Whether jailing a validator of `power` (now) stays within the cap.
    fn may_jail(&mut self, s: &dyn Storage, power: u64) -> bool {
        let bonded = self.bonded(s);
        let jailed = self.recent_sum();
        let before = bonded.saturating_add(jailed);
        let p = u128::from(power);
        p < bonded && jailed.saturating_add(p).saturating_mul(3) <= before
    }

    /// `slashing::slash_for_fault` within the budget; nothing taken or jailed,
    /// with a `capped` event, when over it.
    pub fn slash(
        &mut self,
        s: &mut dyn Storage,
        p: &Penalty<'_>,
        now: i64,
    ) -> Result<FaultSlash, AttestationError> {
        let power_now = staking::find_validator(s, p.operator)?.map_or(0, |v| v.power());
        let may_jail = power_now == 0 || self.may_jail(s, power_now);
        let allowed = p.proven || (!self.slashed.contains(p.address) && may_jail);
        if !allowed {
            return Ok(FaultSlash {
                events: vec![capped(p)],
                ..FaultSlash::default()
            });
        }
        // Past its `validator_slash_cap` a validator is still jailed (the cap
        // bounds what is taken, not the jail): the fraction may be 0.
        let (mut taken, fraction) = self.validator_left(s, p)?;
        self.slashed.insert(*p.address);
        let pool = inf::insurance_pool();
        let out = verdict_slashing::slash_for_fault(
            s,
            p.address,
            p.infraction_height,
            p.power,
            fraction,
            may_jail.then_some(p.jail_seconds),
            now,
            p.reason,
            staking::Sink::To(&pool),
        )?;
        // Counted against the cap only when the slash happened (a known
        // validator), and kept only while in the window.
        if !fraction.is_zero() && !out.events.is_empty() {
            taken.push((self.height, fraction));
        }
        if taken.is_empty() {
            VAL_SLASHES.remove(s, p.address);
        } else {
            VAL_SLASHES.save(s, p.address, &taken)?;
        }
        if power_now > 0 && out.jailed {
            self.dirty = true;
            self.recent.push((self.height, power_now));
            let b = self.bonded(s).saturating_sub(u128::from(power_now));
            self.bonded = Some(b);
        }
        Ok(out)
    }

    /// The validator's slashes in the window (older ones dropped) and the
    /// fraction `p` may still take: its own, cut to what `validator_slash_cap`
    /// leaves.
    fn validator_left(
        &self,
        s: &dyn Storage,
        p: &Penalty<'_>,
    ) -> Result<(Vec<(u64, Decimal)>, Decimal), AttestationError> {
        let mut taken = VAL_SLASHES.may_load(s, p.address)?.unwrap_or_default();
        taken.retain(|(h, _)| h.saturating_add(self.window) > self.height);
        let used = taken
            .iter()
            .fold(Decimal::zero(), |a, (_, f)| a.saturating_add(*f));
        let left = self.validator_cap.saturating_sub(used);
        Ok((taken, p.fraction.min(left)))
    }

    /// Writes only what changed (no write at all in a block without faults).
    pub(crate) fn save(&self, s: &mut dyn Storage) -> Result<(), AttestationError> {
        if !self.dirty {
            return Ok(());
        }
        if self.recent.is_empty() {
            RECENT_JAILS.remove(s);
            return Ok(());
        }
        Ok(RECENT_JAILS.save(s, &self.recent)?)
    }
}

/// The event of a slash the budget refused.
fn capped(p: &Penalty<'_>) -> Event {
    Event::new("slash")
        .attr("address", hex::encode_upper(p.address))
        .attr("validator", Addr(*p.operator).valoper())
        .attr("power", p.power)
        .attr("reason", p.reason)
        .attr("jailed", false)
        .attr("slashed_coins", Uint128::zero())
        .attr("capped", true)
}
