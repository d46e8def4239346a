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
/// Hard bound on a digest's length whatever the params say (1024 elements).
pub const MAX_DIGEST: usize = 1024;

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
/// committee, and a revealed digest fits the model.
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
        live_member(c.job_id)?;
    }
    for r in &ve.reveals {
        let job = live_member(r.job_id)?;
        let max = inf::MODELS
            .may_load(s, &job.model_id)
            .map_err(|e| e.to_string())?
            .map_or(0, |m| m.max_output_len as usize);
        if r.digest.len() > max {
            return Err(format!(
                "job {}: digest of {} elements, the model allows {max}",
                r.job_id,
                r.digest.len()
            ));
        }
    }
    Ok(())
}

/// What a validator's node knows about a job it ran (never consensus state).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalJob {
    pub digest: Vec<i64>,
    pub latency_ms: u32,
    pub salt: Vec<u8>,
    /// Height of the vote extension that first carried our commitment.
    pub commit_height: Option<u64>,
}

/// ExtendVote(height) over committed state height-1: reveals for what we
/// committed one height earlier (or what the chain already holds from us),
/// commitments for finished jobs, within `cap` bytes (reveals first, oldest jobs
/// first). Settled, unknown or foreign jobs are dropped from `local`.
pub fn build_extension(
    s: &dyn Storage,
    me: &[u8],
    local: &mut BTreeMap<u64, LocalJob>,
    height: u64,
    cap: usize,
    version: u32,
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
        if lj.digest.is_empty() || lj.digest.len() > max.min(MAX_DIGEST) {
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
        let reveal = att.commitment.is_some()
            || lj
                .commit_height
                .is_some_and(|c| c.saturating_add(1) == height);
        if reveal {
            reveals.push(JobReveal {
                job_id: *id,
                digest: lj.digest.clone(),
                salt: lj.salt.clone(),
            });
        } else {
            commits.push(JobCommitment {
                job_id: *id,
                commitment: commitment(*id, me, &lj.digest, &lj.salt).to_vec(),
                latency_ms: lj.latency_ms,
            });
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
    for c in &ve.commitments {
        if let Some(lj) = local.get_mut(&c.job_id) {
            if lj
                .commit_height
                .is_none_or(|h| h.saturating_add(1) < height)
            {
                lj.commit_height = Some(height);
            }
        }
    }
    ve
}
