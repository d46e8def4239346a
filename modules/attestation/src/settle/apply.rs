//! Settlement of one job in the block that closes it (docs/design.md §6.9):
//! the committee loaded, [`tally`]ed, and the outcome applied to state —
//! [`pay`] (or refund), [`slash`], [`record`] — in that order.

use cosmwasm_std::{Decimal, Storage, Uint128};
use verdict_bank::Bank;
use verdict_core::address::{Addr, FEE_DENOM};
use verdict_core::coin::Coin;
use verdict_core::event::Event;
use verdict_inference::state::{
    self as inf, Attested, ChallengeOutcome, Fault, FaultKind, FaultRecord, Job, JobResult,
};
use verdict_inference::{jobs, InferenceParams};

use super::budget::{Budget, Penalty};
use super::challenge;
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

/// The members with a valid address, in committee order, with their seats;
/// the commit and reveal heights of those that committed go into the job's
/// provenance (the attestation records leave state at settlement).
fn load(s: &dyn Storage, job: &mut Job) -> Result<(Vec<Member>, Vec<Seat>), AttestationError> {
    let mut members = Vec::with_capacity(job.committee.len());
    let mut seats = Vec::with_capacity(job.committee.len());
    let mut attested = Vec::new();
    for m in &job.committee {
        let Some(address) = m.address_bytes() else {
            continue;
        };
        let att = jobs::attestation(s, job.id, &address)?.unwrap_or_default();
        if att.commitment.is_some() {
            attested.push(Attested {
                address: m.address.clone(),
                commit_height: att.commit_height,
                reveal_height: att.reveal_height,
                bad_reveal: att.bad_reveal,
                runtime: att.runtime.clone(),
            });
        }
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
    if let Some(pv) = job.provenance.as_mut() {
        pv.attested = attested;
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
        incident_share: p.incident_share,
    };
    let (members, seats) = load(s, &mut job)?;
    let outcome = tally(&seats, &terms);
    for (i, m) in members.iter().enumerate() {
        if let Some(missed) = outcome.misses(i) {
            liveness.note(m.address, m.power, missed);
        } else if outcome.excusable(i) {
            liveness.note_excusable(m.address, m.power);
        }
    }
    // A re-run decides the challenge it was made for (`challenge`); an
    // upheld one's bond pays the original's agreeing members too.
    let original = challenge::original_of(s, &job)?;
    let decision = original
        .as_ref()
        .map(|o| challenge::decide(o, &outcome, &terms));
    let upheld = match (&original, decision) {
        (Some(o), Some(ChallengeOutcome::Upheld)) => challenge::upheld_part(o, &job, &p),
        _ => None,
    };
    pay(s, &job, &members, &seats, &outcome, &p, upheld)?;
    let (taken, mut events) = slash(s, &job, &members, &outcome, &p, height, now, budget)?;
    let slashed = taken
        .iter()
        .fold(Uint128::zero(), |a, t| a.saturating_add(*t));
    // A completed job gave its requester a result the quorum backs: its
    // slashes stay in the pool (which funds overturned results); only a job
    // the faults left without a result compensates (review: paying on
    // completed jobs let a requester and a mostly-delegated validator profit
    // from the delegators' slashed stake).
    let compensation = if outcome.completed {
        Uint128::zero()
    } else {
        compensate(s, &job, slashed, &p, &mut events)?
    };
    if outcome.incident {
        events.push(incident_event(&job, &members, &outcome, height));
    }
    let projected = is_projection(outcome.digest.len(), max_len);
    let rerun = rerun_of(&members, &outcome);
    let done = Settled {
        outcome,
        height,
        projected,
        compensation,
        slashed: taken,
    };
    events.insert(0, record(s, &mut job, &members, &seats, done)?);
    if let (Some(o), Some(d)) = (original, decision) {
        let cx = challenge::Resolving {
            p: &p,
            height,
            now,
            budget,
        };
        events.extend(challenge::resolve(s, o, d, rerun, &terms, cx)?);
    }
    Ok(events)
}

/// What a re-run's settlement puts in place of an overturned result.
fn rerun_of(members: &[Member], outcome: &Outcome) -> challenge::Rerun {
    challenge::Rerun {
        digest: outcome.digest.clone(),
        agreeing: those(members, outcome, |v| v == MemberVerdict::Agreed),
        agreeing_power: outcome.agreeing_power,
        committee_power: outcome.committee_power,
    }
}

/// Issue 21 §2: of what this failed job's faults slashed (now in the
/// insurance pool), the requester receives up to `compensation_fee_multiple`
/// × the fee.
/// For a request received over IBC the requester is the channel's payer
/// account, which paid the fee. Returns the amount paid (with its
/// `inference_compensation` event).
fn compensate(
    s: &mut dyn Storage,
    job: &Job,
    slashed: Uint128,
    p: &InferenceParams,
    events: &mut Vec<Event>,
) -> Result<Uint128, AttestationError> {
    let cap = job
        .fee
        .amount
        .saturating_mul(Uint128::from(p.compensation_fee_multiple));
    let amount = slashed.min(cap);
    if !amount.is_zero() {
        let coin = Coin::new(amount.u128(), &verdict_staking::state::bond_denom(s));
        let requester = Addr(job.requester);
        Bank::transfer(
            s,
            &inf::insurance_pool(),
            &requester,
            std::slice::from_ref(&coin),
        )?;
        events.push(
            Event::new("inference_compensation")
                .attr("job_id", job.id)
                .attr("requester", requester.bech32())
                .attr("amount", coin),
        );
    }
    Ok(amount)
}

/// The `inference_incident` event of a correlated failure (issue 21 §3).
fn incident_event(job: &Job, members: &[Member], outcome: &Outcome, height: u64) -> Event {
    let failed: u64 = members
        .iter()
        .zip(&outcome.verdicts)
        .filter(|(_, v)| v.is_missing())
        .count()
        .try_into()
        .unwrap_or(u64::MAX);
    Event::new("inference_incident")
        .attr("job_id", job.id)
        .attr("model_id", &job.model_id)
        .attr("height", height)
        .attr(
            "late",
            those(members, outcome, |v| v == MemberVerdict::Late).join(","),
        )
        .attr(
            "withheld",
            those(members, outcome, |v| v == MemberVerdict::Withheld).join(","),
        )
        .attr("failed_members", failed)
        .attr("committee_power", outcome.committee_power)
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
    upheld: Option<challenge::Part>,
) -> Result<(), AttestationError> {
    let escrow = inf::escrow();
    if !outcome.completed {
        // An incident (a correlated failure) is nobody's doing: all of it back.
        let base = if outcome.incident {
            Uint128::zero()
        } else {
            // In the fee's denom (a listed fee denom at its price, rounded up).
            p.in_fee_denom(p.job_base_fee, &job.fee.denom)
                .unwrap_or(p.job_base_fee)
                .min(job.fee.amount)
        };
        let back = job.fee.amount.saturating_sub(base);
        if !back.is_zero() {
            let refund = [Coin::new(back.u128(), &job.fee.denom)];
            Bank::transfer(s, &escrow, &Addr(job.requester), &refund)?;
        }
        if !base.is_zero() {
            let base = Coin::new(base.u128(), &job.fee.denom);
            if base.denom == FEE_DENOM {
                verdict_distribution::state::fund_community_pool(s, &escrow, &base)?;
            } else {
                // The community pool holds the bond denom only: burned.
                Bank::burn_from(s, &escrow, std::slice::from_ref(&base), true)?;
            }
        }
        return Ok(());
    }
    let shares: Vec<([u8; 20], u64)> = (0..members.len())
        .filter(|i| outcome.paid(*i))
        .filter_map(|i| Some((members.get(i)?.operator, seats.get(i)?.weight)))
        .collect();
    let mut fee = job.fee.clone();
    if let Some(part) = upheld {
        // Each committee's part by its own weights (seats, or power for a
        // committee that is the whole set: units that do not mix).
        pay_shares(s, &part.amount, &part.shares)?;
        fee.amount = fee.amount.saturating_sub(part.amount.amount);
    }
    pay_shares(s, &fee, &shares)?;
    let total = PAID.may_load(s)?.unwrap_or_default();
    // In the bond denom: a fee in another denom counts at its price.
    let value = p.fee_value(&job.fee).unwrap_or(job.fee.amount);
    PAID.save(s, &total.saturating_add(value))?;
    Ok(())
}

/// Pays `fee` from the escrow to `shares` (operator, weight) by weight
/// (through distribution: commission to the operator, the rest to its
/// delegators), the rounding dust to the first; a share of a validator
/// removed since goes to the community pool.
pub(super) fn pay_shares(
    s: &mut dyn Storage,
    fee: &Coin,
    shares: &[([u8; 20], u64)],
) -> Result<(), AttestationError> {
    let escrow = inf::escrow();
    let total_weight: u128 = shares.iter().map(|(_, w)| u128::from(*w)).sum();
    let amount = fee.amount.u128();
    let mut paid: u128 = 0;
    let parts: Vec<(Addr, u128)> = shares
        .iter()
        .map(|(op, w)| {
            let part = amount
                .checked_mul(u128::from(*w))
                .and_then(|v| v.checked_div(total_weight))
                .unwrap_or(0);
            paid = paid.saturating_add(part);
            (Addr(*op), part)
        })
        .collect();
    let dust = amount.saturating_sub(paid);
    for (i, (to, part)) in parts.into_iter().enumerate() {
        let amount = if i == 0 {
            part.saturating_add(dust)
        } else {
            part
        };
        if amount > 0 {
            let coins = [Coin::new(amount, &fee.denom)];
            if fee.denom != FEE_DENOM {
                // Distribution's reward books are in the bond denom: a fee in
                // another denom goes to the operator's account whole (or is
                // burned for a validator removed since).
                if lookup::is_validator(s, &to.0) {
                    Bank::transfer(s, &escrow, &to, &coins)?;
                } else {
                    Bank::burn_from(s, &escrow, &coins, true)?;
                }
            } else if lookup::is_validator(s, &to.0) {
                verdict_distribution::state::pay_validator(s, &escrow, &to, &coins)?;
            } else {
                // Removed since it was drawn: nobody to pay, so no halt either.
                let [c] = coins;
                verdict_distribution::state::fund_community_pool(s, &escrow, &c)?;
            }
        }
    }
    Ok(())
}

fn slash_fraction(p: &InferenceParams, kind: FaultKind) -> Decimal {
    match kind {
        FaultKind::WrongOutput => p.slash_fraction_wrong_output,
        FaultKind::BadReveal => p.slash_fraction_bad_reveal,
    }
}

/// Slashes, in committee order, each at the job's submission height and
/// within the block's [`Budget`]; every fault recorded (with what it took).
/// Returns what each member's slash took (into the insurance pool) with the
/// events.
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
) -> Result<(Vec<Uint128>, Vec<Event>), AttestationError> {
    let mut events = Vec::new();
    let mut taken = vec![Uint128::zero(); members.len()];
    for ((m, v), t) in members.iter().zip(&outcome.verdicts).zip(taken.iter_mut()) {
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
            proven: false,
        };
        let done = budget.slash(s, &penalty, now)?;
        *t = done.taken;
        let record = FaultRecord {
            job_id: job.id,
            address: m.hex.clone(),
            operator: m.operator,
            kind,
            height,
            slashed: done.taken,
            jailed: done.jailed,
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
        events.extend(done.events.into_iter().map(|e| e.attr("job_id", job.id)));
    }
    Ok((taken, events))
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

/// The result's faults, in committee order: a wrong output keeps its digest
/// (a challenge that overturns the result tells an outvoted honest member
/// from a liar by it), each fault what its slash took.
fn faults_of(
    members: &[Member],
    seats: &[Seat],
    outcome: &Outcome,
    slashed: &[Uint128],
) -> Vec<Fault> {
    members
        .iter()
        .zip(&outcome.verdicts)
        .zip(seats)
        .zip(slashed)
        .filter_map(|(((m, v), x), taken)| {
            let kind = v.fault()?;
            // A wrong output's digest stays: a challenge that overturns the
            // result tells an outvoted honest member from a liar by it.
            let digest = match (&x.answer, kind) {
                (Answer::Revealed(d), FaultKind::WrongOutput) => d.clone(),
                _ => vec![],
            };
            Some(Fault {
                address: m.hex.clone(),
                operator: m.operator,
                kinds: vec![kind],
                digest,
                slashed: *taken,
            })
        })
        .collect()
}

/// What settlement decided and did, for [`record`].
struct Settled {
    outcome: Outcome,
    height: u64,
    /// The result is a projection of a longer output (`max_output_len`).
    projected: bool,
    /// Paid to the requester from the slashes ([`compensate`]).
    compensation: Uint128,
    /// Per member, in committee order: what its slash took.
    slashed: Vec<Uint128>,
}

/// The result into the job (which leaves the live set, its attestation
/// records gone: threats.md §9), and its `inference_job_result` event.
fn record(
    s: &mut dyn Storage,
    job: &mut Job,
    members: &[Member],
    seats: &[Seat],
    done: Settled,
) -> Result<Event, AttestationError> {
    let Settled {
        outcome,
        height,
        projected,
        compensation,
        slashed,
    } = done;
    let faults = faults_of(members, seats, &outcome, &slashed);
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
        compensation,
        incident: outcome.incident,
        // Set by `finish` (the challenge window is the inference module's).
        challenge_until: 0,
        provisional: false,
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
        .attr("latency_ms", result.latency_ms)
        .attr("incident", result.incident)
        .attr("compensation", result.compensation);
    jobs::finish(s, job, outcome.completed, result)?;
    let finality = if jobs::is_provisional(job) {
        "provisional"
    } else {
        "final"
    };
    Ok(event.attr("finality", finality))
}
