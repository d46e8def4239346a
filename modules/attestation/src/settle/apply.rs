//! Settlement of one job in the block that closes it (docs/design.md §6.9):
//! the committee loaded, [`tally`]ed, and the outcome applied to state —
//! [`pay`] (or refund), [`slash`], [`record`] — in that order.

use cosmwasm_std::{Decimal, Storage};
use verdict_bank::Bank;
use verdict_core::address::Addr;
use verdict_core::coin::Coin;
use verdict_core::event::Event;
use verdict_inference::state::{self as inf, Fault, FaultKind, FaultRecord, Job, JobResult};
use verdict_inference::{jobs, InferenceParams};

use super::budget::{Budget, Penalty};
use super::liveness::BlockLiveness;
use super::lookup::{self, out_of_set};
use super::tally::{tally, Answer, MemberVerdict, Outcome, Seat, Terms};
use crate::digest::is_projection;
use crate::error::AttestationError;
use crate::keys::PAID;

/// A committee member as settlement addresses it.
#[derive(Debug, Clone)]
struct Member {
    /// Consensus address.
    address: [u8; 20],
    /// The same, upper-case hex, as the committee records it.
    hex: String,
    operator: [u8; 20],
    /// Stake when drawn (what a slash is computed on).
    power: u64,
}

/// The members with a valid address, in committee order, with their seats.
fn load(s: &dyn Storage, job: &Job) -> Result<(Vec<Member>, Vec<Seat>), AttestationError> {
    let mut members = Vec::with_capacity(job.committee.len());
    let mut seats = Vec::with_capacity(job.committee.len());
    for m in &job.committee {
        let Some(address) = m.address_bytes() else {
            continue;
        };
        let att = jobs::attestation(s, job.id, &address)?.unwrap_or_default();
        seats.push(Seat {
            weight: m.weight(),
            answer: Answer::of(&att),
            out_of_set: out_of_set(s, &m.operator),
            commit_time_ms: att.commit_time_ms,
        });
        members.push(Member {
            address,
            hex: m.address.clone(),
            operator: m.operator,
            power: m.power,
        });
    }
    Ok((members, seats))
}

/// Settles `job` at `height` (BFT time `now`, seconds): result, payment or
/// refund, slashes within `budget`; notes each member's liveness for the block.
pub(super) fn settle_job(
    s: &mut dyn Storage,
    mut job: Job,
    height: u64,
    now: i64,
    budget: &mut Budget,
    liveness: &mut BlockLiveness,
) -> Result<Vec<Event>, AttestationError> {
    let p = inf::params(s);
    let model = inf::model(s, &job.model_id)?;
    let max_len = model.as_ref().map_or(0, |m| m.max_output_len as usize);
    let terms = Terms {
        rtol_nano: model.as_ref().map_or(p.min_rtol_nano, |m| m.rtol_nano),
        max_len,
        wrong_output_multiple: p.wrong_output_multiple,
        submitted_time_ms: job.submitted_time_ms,
    };
    let (members, seats) = load(s, &job)?;
    let outcome = tally(&seats, &terms);
    for (i, m) in members.iter().enumerate() {
        if let Some(missed) = outcome.misses(i) {
            liveness.note(m.address, m.power, missed);
        }
    }
    pay(s, &job, &members, &seats, &outcome, &p)?;
    let mut events = slash(s, &job, &members, &outcome, &p, height, now, budget)?;
    let projected = is_projection(outcome.digest.len(), max_len);
    events.insert(
        0,
        record(s, &mut job, &members, outcome, height, projected)?,
    );
    Ok(events)
}

/// Money first: a completed job's fee to the agreeing members by weight
/// (through distribution: commission to the operator, the rest to its
/// delegators), the rounding dust to the first; a failed job's fee back to
/// the requester but for the base fee, which goes to the community pool (a
/// job that fails still cost the committee its work).
fn pay(
    s: &mut dyn Storage,
    job: &Job,
    members: &[Member],
    seats: &[Seat],
    outcome: &Outcome,
    p: &InferenceParams,
) -> Result<(), AttestationError> {
    let escrow = inf::escrow();
    if !outcome.completed {
        let base = p.job_base_fee.min(job.fee.amount);
        let back = job.fee.amount.saturating_sub(base);
        if !back.is_zero() {
            let refund = [Coin::new(back.u128(), &job.fee.denom)];
            Bank::transfer(s, &escrow, &Addr(job.requester), &refund)?;
        }
        if !base.is_zero() {
            let base = Coin::new(base.u128(), &job.fee.denom);
            verdict_distribution::state::fund_community_pool(s, &escrow, &base)?;
        }
        return Ok(());
    }
    let fee = job.fee.amount.u128();
    let mut paid: u128 = 0;
    let shares: Vec<(Addr, u128)> = (0..members.len())
        .filter(|i| outcome.paid(*i))
        .filter_map(|i| Some((members.get(i)?, seats.get(i)?)))
        .map(|(m, x)| {
            let part = fee
                .checked_mul(u128::from(x.weight))
                .and_then(|v| v.checked_div(u128::from(outcome.agreeing_power)))
                .unwrap_or(0);
            paid = paid.saturating_add(part);
            (Addr(m.operator), part)
        })
        .collect();
    let dust = fee.saturating_sub(paid);
    for (i, (to, part)) in shares.into_iter().enumerate() {
        let amount = if i == 0 {
            part.saturating_add(dust)
        } else {
            part
        };
        if amount > 0 {
            let coins = [Coin::new(amount, &job.fee.denom)];
            if lookup::is_validator(s, &to.0) {
                verdict_distribution::state::pay_validator(s, &escrow, &to, &coins)?;
            } else {
                // Removed since it was drawn: nobody to pay, so no halt either.
                let [c] = coins;
                verdict_distribution::state::fund_community_pool(s, &escrow, &c)?;
            }
        }
    }
    let total = PAID.may_load(s)?.unwrap_or_default();
    PAID.save(s, &total.saturating_add(job.fee.amount))?;
    Ok(())
}

fn slash_fraction(p: &InferenceParams, kind: FaultKind) -> Decimal {
    match kind {
        FaultKind::WrongOutput => p.slash_fraction_wrong_output,
        FaultKind::BadReveal => p.slash_fraction_bad_reveal,
    }
}

/// Slashes, in committee order, each at the job's submission height and
/// within the block's [`Budget`]; every fault recorded (with what it burned).
#[allow(clippy::too_many_arguments)]
fn slash(
    s: &mut dyn Storage,
    job: &Job,
    members: &[Member],
    outcome: &Outcome,
    p: &InferenceParams,
    height: u64,
    now: i64,
    budget: &mut Budget,
) -> Result<Vec<Event>, AttestationError> {
    let mut events = Vec::new();
    for (m, v) in members.iter().zip(&outcome.verdicts) {
        let Some(kind) = v.fault() else {
            continue;
        };
        let reason = format!("inference_{}", kind.as_str());
        let penalty = Penalty {
            address: &m.address,
            operator: &m.operator,
            infraction_height: job.submitted_height,
            power: m.power,
            fraction: slash_fraction(p, kind),
            jail_seconds: p.fault_jail_seconds,
            reason: &reason,
        };
        let (burned, ev) = budget.slash(s, &penalty, now)?;
        let record = FaultRecord {
            job_id: job.id,
            address: m.hex.clone(),
            operator: m.operator,
            kind,
            height,
            burned,
            jailed: !burned.is_zero(),
        };
        inf::record_fault(s, &record)?;
        events.push(
            Event::new("inference_fault")
                .attr("job_id", job.id)
                .attr("address", &m.hex)
                .attr("validator", Addr(m.operator).valoper())
                .attr("kind", kind.as_str())
                .attr("height", height),
        );
        events.extend(ev.into_iter().map(|e| e.attr("job_id", job.id)));
    }
    Ok(events)
}

/// The members (upper-case hex) whose verdict passes `f`, in committee order.
fn those(members: &[Member], outcome: &Outcome, f: impl Fn(MemberVerdict) -> bool) -> Vec<String> {
    members
        .iter()
        .zip(&outcome.verdicts)
        .filter(|(_, v)| f(**v))
        .map(|(m, _)| m.hex.clone())
        .collect()
}

/// The result into the job (which leaves the live set, its attestation
/// records gone: threats.md §9), and its `inference_job_result` event.
fn record(
    s: &mut dyn Storage,
    job: &mut Job,
    members: &[Member],
    outcome: Outcome,
    height: u64,
    projected: bool,
) -> Result<Event, AttestationError> {
    let faults: Vec<Fault> = members
        .iter()
        .zip(&outcome.verdicts)
        .filter_map(|(m, v)| {
            Some(Fault {
                address: m.hex.clone(),
                operator: m.operator,
                kinds: vec![v.fault()?],
            })
        })
        .collect();
    let faulty: Vec<String> = faults.iter().map(|f| f.address.clone()).collect();
    let result = JobResult {
        agreeing: those(members, &outcome, |v| v == MemberVerdict::Agreed),
        agreeing_power: outcome.agreeing_power,
        committee_power: outcome.committee_power,
        latency_ms: outcome.latency_ms,
        late: those(members, &outcome, |v| v == MemberVerdict::Late),
        grey: those(members, &outcome, |v| v == MemberVerdict::Grey),
        faults,
        missing: those(members, &outcome, MemberVerdict::is_missing),
        excused: those(members, &outcome, |v| v == MemberVerdict::Excused),
        finalized_height: height,
        digest: outcome.digest,
    };
    let event = Event::new("inference_job_result")
        .attr("job_id", job.id)
        .attr(
            "status",
            if outcome.completed {
                "completed"
            } else {
                "failed"
            },
        )
        .attr("model_id", &job.model_id)
        .attr("height", height)
        .attr("agreeing", result.agreeing.join(","))
        .attr("agreeing_power", result.agreeing_power)
        .attr("committee_power", result.committee_power)
        .attr("faulty", faulty.join(","))
        .attr("missing", result.missing.join(","))
        .attr("late", result.late.join(","))
        .attr("grey", result.grey.join(","))
        .attr("projected", projected)
        .attr("latency_ms", result.latency_ms);
    jobs::finish(s, job, outcome.completed, result)?;
    Ok(event)
}
