//! A job's way through commit, reveal and settlement (docs/design.md §6.4–6.9),
//! as the attestation module drives it: the writes it may make to this
//! module's state, and nothing else. Each function writes exactly what the
//! transition changes (no write when nothing changes).

use cosmwasm_std::{StdResult, Storage};

use crate::state::{
    Attestation, Job, JobResult, JobStatus, ATTESTATIONS, INPUTS, JOBS, LIVE, SETTLED,
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
/// final status (`Completed` or `Failed`) and result, leaves the live index,
/// loses its inputs and its members' attestation records (the result keeps
/// what matters; threats.md §9) and waits for pruning.
pub fn finish(
    s: &mut dyn Storage,
    job: &mut Job,
    completed: bool,
    result: JobResult,
) -> StdResult<()> {
    let height = result.finalized_height;
    job.status = if completed {
        JobStatus::Completed
    } else {
        JobStatus::Failed
    };
    job.result = Some(result);
    LIVE.remove(s, (job.deadline_height, job.id));
    INPUTS.remove(s, job.id);
    SETTLED.save(s, (height, job.id), &())?;
    for a in job.committee.iter().filter_map(|m| m.address_bytes()) {
        ATTESTATIONS.remove(s, (job.id, &a));
    }
    JOBS.save(s, job.id, job)
}
