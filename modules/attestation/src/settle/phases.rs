//! Commit and reveal phases (docs/design.md §6.4–6.5): what a block's injected
//! vote extensions record, which commit phases close, which jobs are due.

use std::collections::BTreeSet;

use cosmwasm_std::Storage;
use verdict_inference::jobs;
use verdict_inference::state::{self as inf, Attestation, Job, Member};
use verdict_proto::app::v1::{JobCommitment, JobReveal, VoteExtension};

use super::lookup::{load_job, out_of_set};
use crate::digest::commitment;
use crate::error::AttestationError;

/// Whether the job's SLA has passed at a block of `height` and BFT time
/// `now_ms`, judged from consensus data only: the job's block time against
/// this block's. A commitment for a job of block H is drawn at H+1 and
/// recorded at H+3 at the earliest, so the SLA closes nothing before H+3.
pub(crate) fn sla_passed(job: &Job, height: u64, now_ms: i64) -> bool {
    height >= job.submitted_height.saturating_add(3)
        && now_ms.saturating_sub(job.submitted_time_ms) >= i64::from(job.max_latency_ms)
}

/// Records `addr`'s reveal if its job is in the reveal phase, the digest fits
/// the model, and a commitment waits for it unopened: the digest when it
/// opens the commitment, `bad_reveal` when not. Whether it was recorded.
fn record_reveal(
    s: &mut dyn Storage,
    height: u64,
    addr: &[u8; 20],
    r: &JobReveal,
) -> Result<bool, AttestationError> {
    let Some(mut job) = inf::job(s, r.job_id)? else {
        return Ok(false);
    };
    if !job.status.reveal_phase() || inf::member(&job, addr).is_none() {
        return Ok(false);
    }
    let max = inf::model(s, &job.model_id)?.map_or(0, |m| m.max_output_len as usize);
    if r.digest.len() > max.saturating_add(1) {
        return Ok(false);
    }
    let mut att = jobs::attestation(s, r.job_id, addr)?.unwrap_or_default();
    let Some(c) = att.commitment.as_ref() else {
        return Ok(false); // a reveal for a job never committed: ignored
    };
    if att.digest.is_some() || att.bad_reveal {
        return Ok(false);
    }
    if commitment(r.job_id, addr, &r.digest, &r.salt).as_slice() == c.as_slice() {
        att.digest = Some(r.digest.clone());
    } else {
        att.bad_reveal = true;
    }
    att.reveal_height = height;
    jobs::record_attestation(s, r.job_id, addr, &att)?;
    jobs::mark_revealed(s, &mut job)?;
    Ok(true)
}

/// Records `addr`'s first commitment to a job still in its commit phase.
fn record_commitment(
    s: &mut dyn Storage,
    height: u64,
    now_ms: i64,
    addr: &[u8; 20],
    c: &JobCommitment,
) -> Result<(), AttestationError> {
    let Some(mut job) = inf::job(s, c.job_id)? else {
        return Ok(());
    };
    if !job.status.commit_phase() || inf::member(&job, addr).is_none() {
        return Ok(());
    }
    let mut att = jobs::attestation(s, c.job_id, addr)?.unwrap_or_default();
    if att.commitment.is_some() {
        return Ok(());
    }
    att.commitment = Some(c.commitment.clone().into());
    att.latency_ms = c.latency_ms;
    att.runtime = c.runtime.clone();
    att.commit_height = height;
    att.commit_time_ms = now_ms;
    jobs::record_attestation(s, c.job_id, addr, &att)?;
    jobs::mark_committed(s, &mut job)?;
    Ok(())
}

/// Every reveal of the block (only for jobs whose commit phase closed in an
/// earlier block), then every commitment. Returns the jobs a reveal was
/// recorded for.
pub(super) fn record_votes(
    s: &mut dyn Storage,
    height: u64,
    now_ms: i64,
    votes: &[&([u8; 20], VoteExtension)],
) -> Result<BTreeSet<u64>, AttestationError> {
    let mut touched = BTreeSet::new();
    for (addr, ve) in votes {
        for r in &ve.reveals {
            if record_reveal(s, height, addr, r)? {
                touched.insert(r.job_id);
            }
        }
    }
    for (addr, ve) in votes {
        for c in &ve.commitments {
            record_commitment(s, height, now_ms, addr, c)?;
        }
    }
    Ok(touched)
}

/// A member's record for the job (none, or unreadable: nothing recorded).
fn att(s: &dyn Storage, id: u64, m: &Member) -> Attestation {
    m.address_bytes()
        .and_then(|a| jobs::attestation(s, id, &a).ok().flatten())
        .unwrap_or_default()
}

/// The commit phase ends in this block: every member in the set committed,
/// or the SLA passed, or the commit deadline came.
fn commit_phase_ends(s: &dyn Storage, job: &Job, height: u64, now_ms: i64) -> bool {
    let all_committed = job
        .committee
        .iter()
        .all(|m| out_of_set(s, &m.operator) || att(s, job.id, m).commitment.is_some());
    all_committed || sla_passed(job, height, now_ms) || height >= job.commit_deadline
}

/// Nothing more to wait for: every member answered, never committed (it
/// cannot any more), or left the set.
fn all_answered(s: &dyn Storage, job: &Job) -> bool {
    job.committee.iter().all(|m| {
        let a = att(s, job.id, m);
        a.digest.is_some() || a.bad_reveal || a.commitment.is_none() || out_of_set(s, &m.operator)
    })
}

/// Closes the commit phases that end in this block and returns the live jobs
/// due for settlement: the reveal phase over (`reveal_blocks` after the
/// commit phase closed; whoever has not revealed by then withholds), nothing
/// left to wait for after this block's reveals (`touched`), or the deadline.
pub(super) fn close_phases(
    s: &mut dyn Storage,
    height: u64,
    now_ms: i64,
    touched: &BTreeSet<u64>,
) -> Result<BTreeSet<u64>, AttestationError> {
    let live: Vec<u64> = inf::live_jobs(s)?.into_iter().map(|(_, id)| id).collect();
    let mut due = BTreeSet::new();
    let reveal_blocks = inf::params(s).reveal_blocks;
    for id in live {
        let mut job = load_job(s, id)?;
        if job.committee.is_empty() {
            continue;
        }
        if job.status.commit_phase() {
            if commit_phase_ends(s, &job, height, now_ms) {
                jobs::close_commit_phase(s, &mut job, height)?;
            }
        } else {
            // The reveal phase is over: whoever has not revealed by now withholds.
            let reveal_over = job.commit_closed_height > 0
                && height >= job.commit_closed_height.saturating_add(reveal_blocks);
            if reveal_over || (touched.contains(&id) && all_answered(s, &job)) {
                due.insert(id);
            }
        }
        if job.deadline_height <= height {
            due.insert(id);
        }
    }
    Ok(due)
}
