//! Challenges (issue 21 §1, docs/design.md §6.11): for `challenge_window_blocks`
//! after a job completes, anyone may post a bond and challenge its result
//! (`MsgChallengeJob`). The challenge becomes a *re-run*: a new job on the same
//! model and inputs, paid by the bond, drawn with `challenge_committee_size`
//! seats among the validators serving the model — without the original
//! members when the others hold at least 2/3 of that stake (otherwise from all
//! of them: excluding a large honest committee would hand an attacker a larger
//! share of the re-run). The re-run goes through commit, reveal and
//! settlement like any job; its settlement (the attestation module) resolves
//! the challenge and calls [`close`].
//!
//! Work a challenge can cause is bounded: one challenge per job, ever; the
//! bond covers the re-run at the job's pay per seat
//! ([`InferenceParams::challenge_bond_min`]); a re-run takes a job slot of its
//! block like any job; a re-run cannot itself be challenged.

use cosmrs::Any;
use cosmwasm_std::{StdResult, Storage, Uint128};
use prost::Message;
use verdict_bank::Bank;
use verdict_core::address::{Addr, FEE_DENOM};
use verdict_core::coin::Coin;
use verdict_core::ctx::Ctx;
use verdict_core::event::Event;
use verdict_proto::inference::v1 as pb;

use crate::error::InferenceError;
use crate::jobs;
use crate::params::InferenceParams;
use crate::slots::{open, submitted_event, take_slot, NewJob};
use crate::state::{self, Challenge, ChallengeOutcome, Job, JobStatus, Member};

/// Why `job` cannot be challenged at `height` (None: it can).
fn refusal(job: &Job, height: u64) -> Option<String> {
    let id = job.id;
    if job.challenge_of.is_some() {
        return Some(format!(
            "job {id} re-runs a challenge and cannot be challenged itself"
        ));
    }
    if job.challenge.is_some() {
        return Some(format!(
            "job {id} has already been challenged (one challenge per job)"
        ));
    }
    if job.status != JobStatus::Completed {
        return Some(format!(
            "only a completed result can be challenged; job {id} is {}",
            jobs::status_name(job.status)
        ));
    }
    match &job.result {
        Some(r) if r.provisional && height <= r.challenge_until => None,
        Some(r) if r.challenge_until > 0 => Some(format!(
            "job {id}'s challenge window closed at height {}: its result is final",
            r.challenge_until
        )),
        _ => Some(format!("job {id}'s result is final (no challenge window)")),
    }
}

/// `MsgChallengeJob`: the bond into escrow as the re-run's fee, the re-run
/// job created (committee drawn next block), the challenge recorded.
pub fn file(
    ctx: &mut Ctx<'_>,
    challenger: &Addr,
    job_id: u64,
    bond: &Coin,
) -> Result<Any, InferenceError> {
    let p = state::params(ctx.store);
    let height = ctx.block.height;
    let mut job = state::JOBS
        .may_load(ctx.store, job_id)?
        .ok_or(InferenceError::UnknownJob(job_id))?;
    if let Some(why) = refusal(&job, height) {
        return Err(InferenceError::Invalid(why));
    }
    // The re-run takes a job slot now: priced at today's floor if higher.
    let fee_value = p.fee_value(&job.fee).unwrap_or(job.fee.amount);
    let min = p.challenge_bond_min(fee_value.max(state::job_fee_floor(ctx.store)));
    if bond.denom != FEE_DENOM || bond.amount < min {
        return Err(InferenceError::Invalid(format!(
            "the bond {bond} is below what the re-run costs: at least {min}{FEE_DENOM} \
             (the fee × challenge_committee_size / committee_size)"
        )));
    }
    let inputs = state::INPUTS
        .may_load(ctx.store, job_id)?
        .ok_or_else(|| InferenceError::Invalid(format!("job {job_id}'s inputs are gone")))?;
    let in_block = take_slot(ctx.store, &p, height, false)?;
    Bank::transfer(
        ctx.store,
        challenger,
        &state::escrow(),
        std::slice::from_ref(bond),
    )?;
    let rerun = open(
        ctx,
        &p,
        &in_block,
        NewJob {
            requester: challenger.0,
            model_id: &job.model_id,
            max_latency_ms: job.max_latency_ms,
            fee: bond,
            inputs: &inputs,
            provenance: job.provenance.as_ref().map(|pv| state::Provenance {
                spec_hash: pv.spec_hash.clone(),
                inputs_hash: pv.inputs_hash.clone(),
                ..state::Provenance::default()
            }),
            challenge_of: Some(job_id),
        },
    )?;
    let id = rerun.id;
    job.challenge = Some(Challenge {
        challenger: challenger.0,
        bond: bond.clone(),
        rerun_job: id,
        filed_height: height,
        outcome: ChallengeOutcome::Open,
        resolved_height: 0,
        original_digest: vec![],
        slashed: Uint128::zero(),
        reward: Uint128::zero(),
    });
    state::JOBS.save(ctx.store, job_id, &job)?;
    ctx.emit(
        Event::new("inference_challenge")
            .attr("job_id", job_id)
            .attr("challenger", challenger.bech32())
            .attr("bond", bond)
            .attr("rerun_job_id", id),
    );
    ctx.emit(submitted_event(&rerun));
    Ok(Any {
        type_url: "/verdict.inference.v1.MsgChallengeJobResponse".into(),
        value: pb::MsgChallengeJobResponse { rerun_job_id: id }.encode_to_vec(),
    })
}

/// The candidates of a re-run of `original`: without its members when the
/// other candidates hold at least 2/3 of the candidates' power, else all.
pub fn rerun_candidates(candidates: Vec<Member>, original: &Job) -> Vec<Member> {
    let total: u128 = candidates.iter().map(|m| u128::from(m.power)).sum();
    let others: Vec<Member> = candidates
        .iter()
        .filter(|c| !original.committee.iter().any(|m| m.operator == c.operator))
        .cloned()
        .collect();
    let rest: u128 = others.iter().map(|m| u128::from(m.power)).sum();
    if !others.is_empty() && rest.saturating_mul(3) >= total.saturating_mul(2) {
        others
    } else {
        candidates
    }
}

/// The seats a job is drawn with: a re-run's are `challenge_committee_size`.
pub fn seats(p: &InferenceParams, job: &Job) -> usize {
    let n = if job.challenge_of.is_some() {
        p.challenge_committee_size
    } else {
        p.committee_size
    };
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// What an overturn changes in the original job.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overturn {
    /// The re-run's result, which replaces the original's: its digest, its
    /// agreeing members and powers.
    pub digest: Vec<i64>,
    pub agreeing: Vec<String>,
    pub agreeing_power: u64,
    pub committee_power: u64,
    /// The original's agreeing members, now faults (`wrong_output`).
    pub liars: Vec<crate::state::Fault>,
    /// What the original agreeing members' slashes took.
    pub slashed: Uint128,
    /// Paid to the challenger on top of its bond.
    pub reward: Uint128,
}

/// The challenge of job `original_id` resolved in FinalizeBlock(`height`)
/// with `outcome` (an [`Overturn`] when overturned): recorded, and the
/// original's result made final. Returns the `inference_challenge_resolved`
/// event (and the `inference_job_final` one).
pub fn close(
    s: &mut dyn Storage,
    original_id: u64,
    outcome: ChallengeOutcome,
    height: u64,
    overturn: Option<Overturn>,
) -> StdResult<Vec<Event>> {
    let Some(mut job) = state::JOBS.may_load(s, original_id)? else {
        return Ok(vec![]);
    };
    let Some(c) = job.challenge.as_mut() else {
        return Ok(vec![]);
    };
    c.outcome = outcome;
    c.resolved_height = height;
    let mut ev = Event::new("inference_challenge_resolved")
        .attr("job_id", original_id)
        .attr("rerun_job_id", c.rerun_job)
        .attr("outcome", outcome.as_str())
        .attr("height", height);
    if let Some(o) = overturn {
        if let Some(r) = job.result.as_mut() {
            c.original_digest = std::mem::replace(&mut r.digest, o.digest);
            r.agreeing = o.agreeing;
            r.agreeing_power = o.agreeing_power;
            r.committee_power = o.committee_power;
            r.faults.extend(o.liars);
        }
        c.slashed = o.slashed;
        c.reward = o.reward;
        ev = ev.attr("slashed", o.slashed).attr("reward", o.reward);
        job.status = JobStatus::Overturned;
    }
    state::JOBS.save(s, original_id, &job)?;
    let mut events = vec![ev];
    events.extend(jobs::make_final(s, &mut job, height)?);
    Ok(events)
}
