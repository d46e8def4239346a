//! A re-run's settlement decides the challenge it was made for (issue 21 §1,
//! docs/design.md §6.11). The re-run itself settles like any job (its own
//! members paid from the bond, its own faults slashed); then, against the
//! original's result:
//!
//! - no quorum in the re-run: *inconclusive* — the result stands, the bond
//!   went back but for the base fee (the failed-job refund);
//! - the original result agrees with the re-run's, or stays within the grey
//!   band: *upheld* — the bond pays the members that answered correctly, the
//!   re-run's agreeing members and the original's, by seat;
//! - the original result is wrong by the re-run's: *overturned* — the
//!   original agreeing members are slashed for `wrong_output` (into the
//!   insurance pool; past the jail budget and the once-a-block rule too, as
//!   the fraud is proven, within `validator_slash_cap`); the slash of every
//!   original member whose "wrong" answer the re-run proves right goes back to
//!   it from the pool; then, paid out of *what this overturn slashed* and no
//!   more (so nobody can overturn their own result at a profit), in this
//!   order: the requester's fee back, the challenger's bond back (the bond
//!   paid the re-run's members: the liars pay for the re-run), the
//!   challenger's reward (`challenge_reward_share` of the slashes), the
//!   requester's compensation (up to `compensation_fee_multiple` × the fee).
//!   The result becomes the re-run's: its digest, agreeing members and
//!   powers, with the liars among the faults.
//!
//! In every case the original's result is final from this block on.

use cosmwasm_std::{Storage, Uint128};
use verdict_bank::Bank;
use verdict_core::address::Addr;
use verdict_core::coin::Coin;
use verdict_core::event::Event;
use verdict_inference::challenge::{close, Overturn};
use verdict_inference::state::{self as inf, ChallengeOutcome, Fault, FaultKind, FaultRecord, Job};
use verdict_inference::InferenceParams;

use super::budget::{Budget, Penalty};
use super::lookup;
use super::tally::{Outcome, Terms};
use crate::digest::{judge, Verdict};
use crate::error::AttestationError;

/// The original job whose open challenge `rerun` decides, if any.
pub(super) fn original_of(s: &dyn Storage, rerun: &Job) -> Result<Option<Job>, AttestationError> {
    let Some(id) = rerun.challenge_of else {
        return Ok(None);
    };
    Ok(inf::job(s, id)?.filter(|o| {
        o.challenge
            .as_ref()
            .is_some_and(|c| c.outcome == ChallengeOutcome::Open && c.rerun_job == rerun.id)
    }))
}

/// What the re-run's `outcome` makes of the original's result.
pub(super) fn decide(original: &Job, outcome: &Outcome, terms: &Terms) -> ChallengeOutcome {
    let Some(r) = original.result.as_ref().filter(|_| outcome.completed) else {
        return ChallengeOutcome::Inconclusive;
    };
    match judge(
        &r.digest,
        &outcome.digest,
        terms.rtol_nano,
        terms.max_len,
        terms.wrong_output_multiple,
    ) {
        Verdict::Wrong => ChallengeOutcome::Overturned,
        Verdict::Agrees | Verdict::Grey => ChallengeOutcome::Upheld,
    }
}

/// The part of an upheld challenge's bond that pays the original's agreeing
/// members (by their weights in the original committee).
pub(super) struct Part {
    pub amount: Coin,
    pub shares: Vec<([u8; 20], u64)>,
}

/// An upheld challenge's bond (the re-run's fee) pays the members that
/// answered correctly in both committees: the original's agreeing members
/// get `committee_size / (committee_size + challenge_committee_size)` of it,
/// the re-run's the rest (each committee by its own weights).
pub(super) fn upheld_part(original: &Job, rerun: &Job, p: &InferenceParams) -> Option<Part> {
    let r = original.result.as_ref()?;
    let shares: Vec<([u8; 20], u64)> = original
        .committee
        .iter()
        .filter(|m| r.agreeing.contains(&m.address))
        .map(|m| (m.operator, m.weight()))
        .collect();
    if shares.is_empty() {
        return None;
    }
    let seats = u128::from(p.committee_size);
    let all = seats.saturating_add(u128::from(p.challenge_committee_size));
    let amount = rerun.fee.amount.multiply_ratio(seats, all.max(1));
    Some(Part {
        amount: Coin::new(amount.u128(), &rerun.fee.denom),
        shares,
    })
}

/// The chain state a resolution works in.
pub(super) struct Resolving<'a> {
    pub p: &'a InferenceParams,
    pub height: u64,
    pub now: i64,
    pub budget: &'a mut Budget,
}

/// What the re-run settled: the result an overturn puts in the original's place.
pub(super) struct Rerun {
    pub digest: Vec<i64>,
    pub agreeing: Vec<String>,
    pub agreeing_power: u64,
    pub committee_power: u64,
}

/// Records the decision; an overturn slashes and pays first (see the module
/// doc). Returns the events.
pub(super) fn resolve(
    s: &mut dyn Storage,
    original: Job,
    decision: ChallengeOutcome,
    rerun: Rerun,
    terms: &Terms,
    mut cx: Resolving<'_>,
) -> Result<Vec<Event>, AttestationError> {
    if decision != ChallengeOutcome::Overturned {
        return Ok(close(s, original.id, decision, cx.height, None)?);
    }
    let (liars, mut events) = slash_agreeing(s, &original, &mut cx)?;
    let slashed = liars
        .iter()
        .fold(Uint128::zero(), |a, f| a.saturating_add(f.slashed));
    let mut pool = Pool::new(s)?;
    restore_outvoted(s, &original, &rerun.digest, terms, &mut pool, &mut events)?;
    // Everything else out of this overturn's slashes only.
    pool.limit = slashed;
    // In the bond denom (what the pool holds): a fee paid in another denom
    // counts at its price.
    let fee = cx.p.fee_value(&original.fee).unwrap_or(original.fee.amount);
    let requester = Addr(original.requester);
    pool.pay(s, &requester, fee, "refund", &mut events)?;
    let mut reward = Uint128::zero();
    if let Some(c) = &original.challenge {
        let who = Addr(c.challenger);
        pool.pay(s, &who, c.bond.amount, "bond", &mut events)?;
        let want = slashed.mul_floor(cx.p.challenge_reward_share);
        reward = pool.pay(s, &who, want, "reward", &mut events)?;
    }
    let cap = fee.saturating_mul(Uint128::from(cx.p.compensation_fee_multiple));
    pool.pay(s, &requester, cap, "compensation", &mut events)?;
    let overturn = Overturn {
        digest: rerun.digest,
        agreeing: rerun.agreeing,
        agreeing_power: rerun.agreeing_power,
        committee_power: rerun.committee_power,
        liars,
        slashed,
        reward,
    };
    events.extend(close(
        s,
        original.id,
        ChallengeOutcome::Overturned,
        cx.height,
        Some(overturn),
    )?);
    Ok(events)
}

/// The original's agreeing members slashed for `wrong_output` at the
/// original's height; returns their faults (with what each slash took) and
/// the events.
fn slash_agreeing(
    s: &mut dyn Storage,
    original: &Job,
    cx: &mut Resolving<'_>,
) -> Result<(Vec<Fault>, Vec<Event>), AttestationError> {
    let mut events = Vec::new();
    let mut liars = Vec::new();
    let Some(r) = &original.result else {
        return Ok((liars, events));
    };
    let kind = FaultKind::WrongOutput;
    let reason = format!("inference_{}", kind.as_str());
    for m in original
        .committee
        .iter()
        .filter(|m| r.agreeing.contains(&m.address))
    {
        let Some(address) = m.address_bytes() else {
            continue;
        };
        let penalty = Penalty {
            address: &address,
            operator: &m.operator,
            infraction_height: original.submitted_height,
            power: m.power,
            fraction: cx.p.slash_fraction_wrong_output,
            jail_seconds: cx.p.fault_jail_seconds,
            reason: &reason,
            proven: true,
        };
        let done = cx.budget.slash(s, &penalty, cx.now)?;
        liars.push(Fault {
            address: m.address.clone(),
            operator: m.operator,
            kinds: vec![kind],
            digest: r.digest.clone(),
            slashed: done.taken,
        });
        inf::record_fault(
            s,
            &FaultRecord {
                job_id: original.id,
                address: m.address.clone(),
                operator: m.operator,
                kind,
                height: cx.height,
                slashed: done.taken,
                jailed: done.jailed,
            },
        )?;
        events.push(
            Event::new("inference_fault")
                .attr("job_id", original.id)
                .attr("address", &m.address)
                .attr("validator", Addr(m.operator).valoper())
                .attr("kind", kind.as_str())
                .attr("height", cx.height)
                .attr("challenge", "overturned"),
        );
        events.extend(
            done.events
                .into_iter()
                .map(|e| e.attr("job_id", original.id)),
        );
    }
    Ok((liars, events))
}

/// Every original member slashed for a wrong output whose digest the re-run
/// proves right (agrees, or grey) was an outvoted honest member: what its
/// slash took goes back to it (as a payment to the validator, through
/// distribution) from the pool.
fn restore_outvoted(
    s: &mut dyn Storage,
    original: &Job,
    rerun_digest: &[i64],
    terms: &Terms,
    pool: &mut Pool,
    events: &mut Vec<Event>,
) -> Result<(), AttestationError> {
    let Some(r) = &original.result else {
        return Ok(());
    };
    for f in &r.faults {
        let wronged = f.kinds.contains(&FaultKind::WrongOutput)
            && !f.digest.is_empty()
            && judge(
                &f.digest,
                rerun_digest,
                terms.rtol_nano,
                terms.max_len,
                terms.wrong_output_multiple,
            ) != Verdict::Wrong;
        if !wronged || f.slashed.is_zero() || !lookup::is_validator(s, &f.operator) {
            continue;
        }
        let amount = f.slashed.min(pool.left);
        if amount.is_zero() {
            continue;
        }
        let coin = Coin::new(amount.u128(), &pool.denom);
        let to = Addr(f.operator);
        verdict_distribution::state::pay_validator(
            s,
            &pool.addr,
            &to,
            std::slice::from_ref(&coin),
        )?;
        pool.left = pool.left.saturating_sub(amount);
        events.push(
            Event::new("inference_restitution")
                .attr("job_id", original.id)
                .attr("address", &f.address)
                .attr("validator", to.valoper())
                .attr("amount", coin),
        );
    }
    Ok(())
}

/// The insurance pool as a resolution draws on it: never more than it
/// holds, nor (once set) than `limit`.
struct Pool {
    addr: Addr,
    denom: String,
    left: Uint128,
    limit: Uint128,
}

impl Pool {
    fn new(s: &dyn Storage) -> Result<Pool, AttestationError> {
        let addr = inf::insurance_pool();
        let denom = verdict_staking::state::bond_denom(s);
        let left = Bank::balance(s, &addr, &denom)?;
        Ok(Pool {
            addr,
            denom,
            left,
            limit: Uint128::MAX,
        })
    }

    /// Pays up to `want` to `to` (an `inference_challenge_payout` event
    /// saying `what`); returns what it paid.
    fn pay(
        &mut self,
        s: &mut dyn Storage,
        to: &Addr,
        want: Uint128,
        what: &str,
        events: &mut Vec<Event>,
    ) -> Result<Uint128, AttestationError> {
        let amount = want.min(self.left).min(self.limit);
        if amount.is_zero() {
            return Ok(amount);
        }
        let coin = Coin::new(amount.u128(), &self.denom);
        Bank::transfer(s, &self.addr, to, std::slice::from_ref(&coin))?;
        self.left = self.left.saturating_sub(amount);
        self.limit = self.limit.saturating_sub(amount);
        events.push(
            Event::new("inference_challenge_payout")
                .attr("to", to.bech32())
                .attr("what", what)
                .attr("amount", coin),
        );
        Ok(amount)
    }
}
