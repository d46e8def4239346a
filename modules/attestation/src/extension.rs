//! The payload of a vote extension: how an honest validator builds it and the
//! deterministic checks every other validator runs on it.

use std::collections::BTreeMap;

use cosmwasm_std::Storage;
use prost::Message;
use verdict_inference::state as inf;
use verdict_proto::app::v1::{JobCommitment, JobReveal, VoteExtension};

use crate::digest::commitment;

pub const MIN_SALT: usize = 16;
pub const MAX_SALT: usize = 32;
/// Hard bound on a digest's length whatever the params say (a projection of
/// 1024 elements plus its scale).
pub const MAX_DIGEST: usize = 1025;

fn sorted_unique(ids: impl Iterator<Item = u64>) -> bool {
    let mut last: Option<u64> = None;
    for id in ids {
        if last.is_some_and(|l| l >= id) {
            return false;
        }
        last = Some(id);
    }
    true
}

/// Bytes of the largest extension an honest validator may need in one height at
/// full load: a commitment for each of `max_jobs_per_block` new jobs and a reveal
/// for each of `max_jobs_per_block` closing ones, every digest at its longest
/// (`max_output_len` + 1 elements, each at the 10-byte varint maximum) with a
/// 32-byte salt. Genesis requires the extension cap to hold it, so that a full
/// block of maximal jobs never pushes an answer out of an extension.
pub fn worst_case_extension_bytes(max_jobs_per_block: u32, max_output_len: u32) -> usize {
    let n = u64::from(max_jobs_per_block);
    let ve = VoteExtension {
        version: u32::MAX,
        commitments: (0..n)
            .map(|i| JobCommitment {
                job_id: u64::MAX.saturating_sub(i),
                commitment: vec![0xFF; 32],
                latency_ms: u32::MAX,
            })
            .collect(),
        reveals: (0..n)
            .map(|i| JobReveal {
                job_id: u64::MAX.saturating_sub(n).saturating_sub(i),
                digest: vec![i64::MIN; (max_output_len as usize).saturating_add(1)],
                salt: vec![0xFF; MAX_SALT],
            })
            .collect(),
    };
    ve.encoded_len()
}

/// State-independent checks (PrepareProposal, ProcessProposal, VerifyVoteExtension):
/// sorted unique job ids, 32-byte commitments, 16..32-byte salts, bounded digests.
pub fn check_payload(ve: &VoteExtension) -> Result<(), String> {
    if !sorted_unique(ve.commitments.iter().map(|c| c.job_id)) {
        return Err("commitments are not sorted by job id without duplicates".into());
    }
    if !sorted_unique(ve.reveals.iter().map(|r| r.job_id)) {
        return Err("reveals are not sorted by job id without duplicates".into());
    }
    if let Some(c) = ve.commitments.iter().find(|c| c.commitment.len() != 32) {
        return Err(format!("job {}: commitment is not 32 bytes", c.job_id));
    }
    for r in &ve.reveals {
        if !(MIN_SALT..=MAX_SALT).contains(&r.salt.len()) {
            return Err(format!(
                "job {}: salt must be {MIN_SALT}..{MAX_SALT} bytes",
                r.job_id
            ));
        }
        if r.digest.is_empty() || r.digest.len() > MAX_DIGEST {
            return Err(format!(
                "job {}: digest length {}",
                r.job_id,
                r.digest.len()
            ));
        }
    }
    Ok(())
}

/// VerifyVoteExtension's state checks, against the committed state the extension
/// was built on: every job exists, is unsettled, has `validator` on its
/// committee, is in its commit phase (for commitments), and a revealed digest
/// fits the model. A reveal may come while the commit phase is still open in
/// that state: an honest node reveals in the extension of the very block that
/// closes the phase (see [`NextBlock`]); FinalizeBlock records a reveal only
/// for a job whose phase had closed before it, and ignores any other (a member
/// that reveals early only publishes its own answer).
pub fn check_against_state(
    s: &dyn Storage,
    ve: &VoteExtension,
    validator: &[u8],
) -> Result<(), String> {
    let live_member = |id: u64| -> Result<inf::Job, String> {
        let job = inf::JOBS
            .may_load(s, id)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("job {id} does not exist"))?;
        if job.status.is_final() {
            return Err(format!("job {id} is already settled"));
        }
        if inf::member(&job, validator).is_none() {
            return Err(format!("validator is not on the committee of job {id}"));
        }
        Ok(job)
    };
    for c in &ve.commitments {
        if !live_member(c.job_id)?.status.commit_phase() {
            return Err(format!("job {}: its commit phase is over", c.job_id));
        }
    }
    for r in &ve.reveals {
        let job = live_member(r.job_id)?;
        let max = inf::MODELS
            .may_load(s, &job.model_id)
            .map_err(|e| e.to_string())?
            .map_or(0, |m| m.max_output_len as usize);
        // `max` values, or a projection of `max` elements plus its scale.
        if r.digest.len() > max.saturating_add(1) {
            return Err(format!(
                "job {}: digest of {} elements, the model allows {max}",
                r.job_id,
                r.digest.len()
            ));
        }
    }
    Ok(())
}

/// The block a vote extension is being built for (ExtendVote's request): its
/// height, BFT time and the commitments its tx[0] records (from extensions that
/// decode and pass the format checks, as FinalizeBlock filters them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NextBlock {
    pub height: u64,
    pub time_ms: i64,
    pub commitments: BTreeMap<(u64, [u8; 20]), Vec<u8>>,
}

impl NextBlock {
    /// Whether FinalizeBlock of this block will close `job`'s commit phase (on
    /// `s`, the state before it): every member's commitment recorded, or the
    /// SLA passed, or the commit deadline. Conservative: a member out of the set
    /// counts as not committed (FinalizeBlock may forgive it; then we reveal one
    /// block later, as before).
    pub fn closes(&self, s: &dyn Storage, job: &inf::Job) -> bool {
        let all = job.committee.iter().all(|m| {
            m.address_bytes().is_some_and(|a| {
                self.commitments.contains_key(&(job.id, a))
                    || inf::ATTESTATIONS
                        .may_load(s, (job.id, &a))
                        .ok()
                        .flatten()
                        .is_some_and(|x| x.commitment.is_some())
            })
        });
        let sla = self.height >= job.submitted_height.saturating_add(3)
            && self.time_ms.saturating_sub(job.submitted_time_ms) >= i64::from(job.max_latency_ms);
        all || sla || self.height >= job.commit_deadline
    }
}

/// What a validator's node knows about a job it ran (never consensus state).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalJob {
    pub digest: Vec<i64>,
    pub latency_ms: u32,
    pub salt: Vec<u8>,
}

/// ExtendVote(height) over committed state height-1: a commitment for every
/// finished job still in its commit phase that the chain has no commitment from
/// us for; a reveal for every job in its reveal phase whose recorded commitment
/// our digest and salt open (if they do not — a rerun after a restart that came
/// out different — we stay silent rather than reveal something else), and, when
/// `next` (the block being voted on) closes a job's commit phase with our
/// commitment in it or before it, already for that job: its reveal then reaches
/// the block right after the one that closed the phase. Within `cap` bytes,
/// reveals first, oldest jobs first. Settled, unknown or foreign jobs are
/// dropped from `local`.
pub fn build_extension(
    s: &dyn Storage,
    me: &[u8],
    local: &mut BTreeMap<u64, LocalJob>,
    cap: usize,
    version: u32,
    next: Option<&NextBlock>,
) -> VoteExtension {
    let mut commits = Vec::new();
    let mut reveals = Vec::new();
    let mut done = Vec::new();
    for (id, lj) in local.iter() {
        let job = match inf::JOBS.may_load(s, *id) {
            Ok(Some(j)) if !j.status.is_final() && inf::member(&j, me).is_some() => j,
            _ => {
                done.push(*id);
                continue;
            }
        };
        let max = inf::MODELS
            .may_load(s, &job.model_id)
            .ok()
            .flatten()
            .map_or(0, |m| m.max_output_len as usize);
        if lj.digest.is_empty() || lj.digest.len() > max.saturating_add(1).min(MAX_DIGEST) {
            done.push(*id);
            continue;
        }
        let att = inf::ATTESTATIONS
            .may_load(s, (*id, me))
            .ok()
            .flatten()
            .unwrap_or_default();
        if att.digest.is_some() || att.bad_reveal {
            done.push(*id);
            continue;
        }
        let mine = commitment(*id, me, &lj.digest, &lj.salt);
        if job.status.commit_phase() {
            let in_next = next.and_then(|n| {
                let a: [u8; 20] = me.try_into().ok()?;
                n.commitments.get(&(*id, a))
            });
            let recorded = att
                .commitment
                .as_ref()
                .map(|c| c.as_slice())
                .or(in_next.map(Vec::as_slice));
            match recorded {
                None => commits.push(JobCommitment {
                    job_id: *id,
                    commitment: mine.to_vec(),
                    latency_ms: lj.latency_ms,
                }),
                Some(c) if c == mine.as_slice() && next.is_some_and(|n| n.closes(s, &job)) => {
                    reveals.push(JobReveal {
                        job_id: *id,
                        digest: lj.digest.clone(),
                        salt: lj.salt.clone(),
                    });
                }
                Some(_) => {}
            }
        } else if att
            .commitment
            .as_ref()
            .is_some_and(|c| c.as_slice() == mine.as_slice())
        {
            reveals.push(JobReveal {
                job_id: *id,
                digest: lj.digest.clone(),
                salt: lj.salt.clone(),
            });
        } else {
            // Commit phase over without our commitment, or a commitment this
            // digest does not open: nothing we may say about this job.
            done.push(*id);
        }
    }
    for id in done {
        local.remove(&id);
    }
    let mut ve = VoteExtension {
        version,
        commitments: commits,
        reveals,
    };
    while ve.encoded_len() > cap {
        if ve.commitments.pop().is_none() && ve.reveals.pop().is_none() {
            break;
        }
    }
    ve
}
