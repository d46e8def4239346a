//! What every new job takes: a slot of its block (`max_jobs_per_block`,
//! `max_jobs_per_source`), the BFT time it starts from, and its place in
//! state — for a `MsgSubmitJob` (and IBC request) as for a challenge's re-run.

use cosmwasm_std::Storage;
use verdict_core::address::Addr;
use verdict_core::coin::Coin;
use verdict_core::ctx::Ctx;
use verdict_core::event::Event;

use crate::error::InferenceError;
use crate::params::InferenceParams;
use crate::state::{self, Addr20, InputTensor, Job, JobStatus, Provenance};

/// What a new job is made of; the rest follows from the block.
pub(crate) struct NewJob<'a> {
    pub requester: Addr20,
    pub model_id: &'a str,
    pub max_latency_ms: u32,
    pub fee: &'a Coin,
    pub inputs: &'a Vec<InputTensor>,
    pub provenance: Option<Provenance>,
    pub challenge_of: Option<u64>,
}

/// Opens job `NEXT_JOB_ID` in this block: stored with its inputs, live, waiting
/// for its committee (drawn next block), the block's slots now `in_block`.
/// The fee must already be in escrow. Returns the job.
pub(crate) fn open(
    ctx: &mut Ctx<'_>,
    p: &InferenceParams,
    in_block: &state::BlockJobs,
    new: NewJob<'_>,
) -> Result<Job, InferenceError> {
    let height = ctx.block.height;
    let id = state::NEXT_JOB_ID.may_load(ctx.store)?.unwrap_or(1);
    let deadline = height.saturating_add(p.attestation_window_blocks);
    let job = Job {
        id,
        requester: new.requester,
        model_id: new.model_id.to_string(),
        max_latency_ms: new.max_latency_ms,
        fee: new.fee.clone(),
        submitted_height: height,
        submitted_time_ms: block_time_ms(ctx.block.time_seconds, ctx.block.time_nanos),
        commit_deadline: height.saturating_add(p.commit_blocks),
        commit_closed_height: 0,
        deadline_height: deadline,
        committee: vec![],
        status: JobStatus::Pending,
        result: None,
        provenance: new.provenance,
        challenge_of: new.challenge_of,
        challenge: None,
    };
    state::JOBS.save(ctx.store, id, &job)?;
    state::INPUTS.save(ctx.store, id, new.inputs)?;
    state::NEXT_JOB_ID.save(ctx.store, &id.saturating_add(1))?;
    state::JOBS_BY_REQUESTER.save(ctx.store, (&new.requester, id), &())?;
    state::LIVE.save(ctx.store, (deadline, id), &())?;
    state::UNASSIGNED.save(ctx.store, id, &())?;
    state::BLOCK_JOBS.save(ctx.store, in_block)?;
    Ok(job)
}

/// The `inference_job_submitted` event of a new job (a re-run's says which
/// job it re-runs).
pub(crate) fn submitted_event(job: &Job) -> Event {
    let ev = Event::new("inference_job_submitted")
        .attr("job_id", job.id)
        .attr("model_id", &job.model_id)
        .attr("requester", Addr(job.requester).bech32())
        .attr("fee", &job.fee)
        .attr("max_latency_ms", job.max_latency_ms)
        .attr("deadline_height", job.deadline_height);
    match job.challenge_of {
        Some(o) => ev.attr("challenge_of", o),
        None => ev,
    }
}

/// This block's job slots with one more taken by `remote` (IBC) or a local
/// job, or why there is none left.
pub(crate) fn take_slot(
    s: &dyn Storage,
    p: &InferenceParams,
    height: u64,
    remote: bool,
) -> Result<state::BlockJobs, InferenceError> {
    let mut in_block = match state::BLOCK_JOBS.may_load(s)? {
        Some(b) if b.height == height => b,
        _ => state::BlockJobs {
            height,
            ..Default::default()
        },
    };
    let used = in_block.local.saturating_add(in_block.remote);
    let mine = if remote {
        in_block.remote
    } else {
        in_block.local
    };
    if used >= p.max_jobs_per_block {
        return Err(InferenceError::BlockFull(p.max_jobs_per_block));
    }
    if mine >= p.max_jobs_per_source {
        return Err(InferenceError::SourceFull {
            kind: if remote { "IBC" } else { "local" },
            cap: p.max_jobs_per_source,
        });
    }
    if remote {
        in_block.remote = in_block.remote.saturating_add(1);
    } else {
        in_block.local = in_block.local.saturating_add(1);
    }
    Ok(in_block)
}

/// BFT time in milliseconds since the epoch.
pub fn block_time_ms(seconds: i64, nanos: i32) -> i64 {
    seconds
        .saturating_mul(1000)
        .saturating_add(i64::from(nanos / 1_000_000))
}
