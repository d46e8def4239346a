//! A job's way through commit, reveal and settlement (docs/design.md §6.4–6.9),
//! as the attestation module drives it: the writes it may make to this
//! module's state, and nothing else. Each function writes exactly what the
//! transition changes (no write when nothing changes).

use cosmwasm_std::{Order, StdResult, Storage};
use cw_storage_plus::Bound;
use verdict_core::event::Event;

use crate::state::{
    params, Attestation, ChallengeOutcome, Job, JobResult, JobStatus, ATTESTATIONS, INPUTS, JOBS,
    LIVE, PROVISIONAL, SETTLED,
};

/// What `address` (20 bytes) has recorded for job `id`, if anything.
pub fn attestation(s: &dyn Storage, id: u64, address: &[u8]) -> StdResult<Option<Attestation>> {
    ATTESTATIONS.may_load(s, (id, address))
}

/// Records a member's commitment or reveal for job `id`.
pub fn record_attestation(
    s: &mut dyn Storage,
    id: u64,
    address: &[u8],
    att: &Attestation,
) -> StdResult<()> {
    ATTESTATIONS.save(s, (id, address), att)
}

/// The job's first commitment was recorded: `Pending` → `Committed`.
pub fn mark_committed(s: &mut dyn Storage, job: &mut Job) -> StdResult<()> {
    if job.status != JobStatus::Pending {
        return Ok(());
    }
    job.status = JobStatus::Committed;
    JOBS.save(s, job.id, job)
}

/// A reveal was recorded: the job is `Revealed` (if it was not already).
pub fn mark_revealed(s: &mut dyn Storage, job: &mut Job) -> StdResult<()> {
    if job.status == JobStatus::Revealed {
        return Ok(());
    }
    job.status = JobStatus::Revealed;
    JOBS.save(s, job.id, job)
}

/// FinalizeBlock(`height`) closed the job's commit phase: no commitment counts
/// any more, reveals do.
pub fn close_commit_phase(s: &mut dyn Storage, job: &mut Job, height: u64) -> StdResult<()> {
    job.status = JobStatus::Revealing;
    job.commit_closed_height = height;
    JOBS.save(s, job.id, job)
}

/// Settlement in FinalizeBlock(`result.finalized_height`): the job takes its
/// settled status (`Completed` or `Failed`) and result, leaves the live index,
/// loses its members' attestation records (the result keeps what matters;
/// threats.md §9) and waits for pruning. A completed job (not itself a
/// re-run) stays `provisional` for `challenge_window_blocks` and keeps its
/// inputs for a re-run until then; any other loses its inputs now.
pub fn finish(
    s: &mut dyn Storage,
    job: &mut Job,
    completed: bool,
    mut result: JobResult,
) -> StdResult<()> {
    let height = result.finalized_height;
    job.status = if completed {
        JobStatus::Completed
    } else {
        JobStatus::Failed
    };
    let window = params(s).challenge_window_blocks;
    if completed && window > 0 && job.challenge_of.is_none() {
        result.challenge_until = height.saturating_add(window);
        result.provisional = true;
        PROVISIONAL.save(s, (result.challenge_until, job.id), &())?;
    } else {
        INPUTS.remove(s, job.id);
    }
    job.result = Some(result);
    LIVE.remove(s, (job.deadline_height, job.id));
    SETTLED.save(s, (height, job.id), &())?;
    for a in job.committee.iter().filter_map(|m| m.address_bytes()) {
        ATTESTATIONS.remove(s, (job.id, &a));
    }
    JOBS.save(s, job.id, job)
}

/// Whether the job's result may still change (its challenge window or a
/// challenge of it is open).
pub fn is_provisional(job: &Job) -> bool {
    job.result.as_ref().is_some_and(|r| r.provisional)
}

/// The job's result is final from FinalizeBlock(`height`) on: it leaves the
/// provisional index and loses its inputs. Returns its `inference_job_final`
/// event (none when it already was final).
pub fn make_final(s: &mut dyn Storage, job: &mut Job, height: u64) -> StdResult<Option<Event>> {
    let Some(r) = job.result.as_mut().filter(|r| r.provisional) else {
        return Ok(None);
    };
    r.provisional = false;
    PROVISIONAL.remove(s, (r.challenge_until, job.id));
    INPUTS.remove(s, job.id);
    JOBS.save(s, job.id, job)?;
    let mut ev = Event::new("inference_job_final")
        .attr("job_id", job.id)
        .attr("status", status_name(job.status))
        .attr("height", height);
    if let Some(c) = &job.challenge {
        ev = ev.attr("challenge", c.outcome.as_str());
    }
    Ok(Some(ev))
}

/// FinalizeBlock(`height`): every provisional result whose challenge window
/// ended before `height` becomes final, unless a challenge of it is still
/// open (its resolution makes it final). At most `PRUNE_PER_BLOCK` per block;
/// the rest follow in the next blocks.
pub fn close_windows(s: &mut dyn Storage, height: u64) -> StdResult<Vec<Event>> {
    let due: Vec<(u64, u64)> = PROVISIONAL
        .keys(
            s,
            None,
            Some(Bound::exclusive((height, 0u64))),
            Order::Ascending,
        )
        .take(crate::state::PRUNE_PER_BLOCK)
        .collect::<StdResult<_>>()?;
    let mut events = Vec::new();
    for (until, id) in due {
        let Some(mut job) = JOBS.may_load(s, id)? else {
            PROVISIONAL.remove(s, (until, id));
            continue;
        };
        if job
            .challenge
            .as_ref()
            .is_some_and(|c| c.outcome == ChallengeOutcome::Open)
        {
            // Out of the index; the challenge's resolution finalizes it.
            PROVISIONAL.remove(s, (until, id));
            continue;
        }
        events.extend(make_final(s, &mut job, height)?);
    }
    Ok(events)
}

/// A job status's name in events and queries.
pub fn status_name(status: JobStatus) -> &'static str {
    match status {
        JobStatus::Pending => "pending",
        JobStatus::Committed => "committed",
        JobStatus::Revealing => "revealing",
        JobStatus::Revealed => "revealed",
        JobStatus::Completed => "completed",
        JobStatus::Failed => "failed",
        JobStatus::Expired => "expired",
        JobStatus::Overturned => "overturned",
    }
}
