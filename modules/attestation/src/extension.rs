//! The payload of a vote extension: how an honest validator builds it and the
//! deterministic checks every other validator runs on it.

use std::collections::BTreeMap;

use cosmwasm_std::Storage;
use prost::Message;
use verdict_inference::jobs;
use verdict_inference::state as inf;
use verdict_proto::app::v1::{JobCommitment, JobReveal, VoteExtension};

use crate::digest::commitment;
use crate::error::ExtensionError;
use crate::settle::sla_passed;

pub use crate::limits::{MAX_DIGEST, MAX_SALT, MIN_SALT};

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
                runtime: "r".repeat(MAX_RUNTIME),
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

/// Longest `runtime` a commitment may carry, in bytes.
pub const MAX_RUNTIME: usize = 48;

/// `runtime` as a commitment carries it: printable ASCII, at most
/// [`MAX_RUNTIME`] bytes (anything else is dropped).
pub fn runtime_field(r: &str) -> String {
    r.chars()
        .filter(|c| c.is_ascii_graphic() || *c == ' ')
        .take(MAX_RUNTIME)
        .collect()
}

/// State-independent checks (PrepareProposal, ProcessProposal, VerifyVoteExtension):
/// sorted unique job ids, 32-byte commitments, 16..32-byte salts, bounded digests.
pub fn validate_payload(ve: &VoteExtension) -> Result<(), ExtensionError> {
    if !sorted_unique(ve.commitments.iter().map(|c| c.job_id)) {
        return Err(ExtensionError::UnsortedCommitments);
    }
    if !sorted_unique(ve.reveals.iter().map(|r| r.job_id)) {
        return Err(ExtensionError::UnsortedReveals);
    }
    if let Some(c) = ve.commitments.iter().find(|c| c.commitment.len() != 32) {
        return Err(ExtensionError::CommitmentLength(c.job_id));
    }
    if let Some(c) = ve
        .commitments
        .iter()
        .find(|c| c.runtime.len() > MAX_RUNTIME || runtime_field(&c.runtime) != c.runtime)
    {
        return Err(ExtensionError::Runtime(c.job_id));
    }
    for r in &ve.reveals {
        if !(MIN_SALT..=MAX_SALT).contains(&r.salt.len()) {
            return Err(ExtensionError::SaltLength(r.job_id));
        }
        if r.digest.is_empty() || r.digest.len() > MAX_DIGEST {
            return Err(ExtensionError::DigestLength {
                job: r.job_id,
                len: r.digest.len(),
            });
        }
    }
    Ok(())
}

/// [`validate_payload`] with the reason as text (what app's vote-extension
/// checks wrap).
pub fn check_payload(ve: &VoteExtension) -> Result<(), String> {
    validate_payload(ve).map_err(|e| e.to_string())
}

/// The job's model's `max_output_len` (0 for an unknown model).
fn max_output_len(s: &dyn Storage, job: &inf::Job) -> Result<usize, ExtensionError> {
    Ok(inf::model(s, &job.model_id)?.map_or(0, |m| m.max_output_len as usize))
}

/// VerifyVoteExtension's state checks, against the committed state the extension
/// was built on: every job exists, is unsettled, has `validator` on its
/// committee, is in its commit phase (for commitments), and a revealed digest
/// fits the model. A reveal may come while the commit phase is still open in
/// that state: an honest node reveals in the extension of the very block that
/// closes the phase (see [`NextBlock`]); FinalizeBlock records a reveal only
/// for a job whose phase had closed before it, and ignores any other (a member
/// that reveals early only publishes its own answer).
pub fn validate_against_state(
    s: &dyn Storage,
    ve: &VoteExtension,
    validator: &[u8],
) -> Result<(), ExtensionError> {
    let live_member = |id: u64| -> Result<inf::Job, ExtensionError> {
        let job = inf::job(s, id)?.ok_or(ExtensionError::UnknownJob(id))?;
        if job.status.is_final() {
            return Err(ExtensionError::Settled(id));
        }
        if inf::member(&job, validator).is_none() {
            return Err(ExtensionError::NotMember(id));
        }
        Ok(job)
    };
    for c in &ve.commitments {
        if !live_member(c.job_id)?.status.commit_phase() {
            return Err(ExtensionError::CommitPhaseOver(c.job_id));
        }
    }
    for r in &ve.reveals {
        let max = max_output_len(s, &live_member(r.job_id)?)?;
        // `max` values, or a projection of `max` elements plus its scale.
        if r.digest.len() > max.saturating_add(1) {
            return Err(ExtensionError::DigestTooLong {
                job: r.job_id,
                len: r.digest.len(),
                max,
            });
        }
    }
    Ok(())
}

/// [`validate_against_state`] with the reason as text (what app's
/// VerifyVoteExtension logs).
pub fn check_against_state(
    s: &dyn Storage,
    ve: &VoteExtension,
    validator: &[u8],
) -> Result<(), String> {
    validate_against_state(s, ve, validator).map_err(|e| e.to_string())
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
                    || jobs::attestation(s, job.id, &a)
                        .ok()
                        .flatten()
                        .is_some_and(|x| x.commitment.is_some())
            })
        });
        all || sla_passed(job, self.height, self.time_ms) || self.height >= job.commit_deadline
    }
}

/// What a validator's node knows about a job it ran (never consensus state).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalJob {
    pub digest: Vec<i64>,
    pub latency_ms: u32,
    pub salt: Vec<u8>,
    /// What ran it (the sidecar's `runtime`), cut to [`MAX_RUNTIME`] bytes.
    pub runtime: String,
}

/// What an honest validator says about one job in the extension it builds.
enum Say {
    /// Nothing now (its commitment is in; the phase is still open).
    Nothing,
    /// Nothing ever again: drop the job from the local cache.
    Drop,
    Commit(JobCommitment),
    Reveal(JobReveal),
}

/// [`Say`] for job `id` that we ran (`lj`), on state `s`.
fn plan(s: &dyn Storage, me: &[u8], id: u64, lj: &LocalJob, next: Option<&NextBlock>) -> Say {
    let job = match inf::job(s, id) {
        Ok(Some(j)) if !j.status.is_final() && inf::member(&j, me).is_some() => j,
        _ => return Say::Drop,
    };
    let max = inf::model(s, &job.model_id)
        .ok()
        .flatten()
        .map_or(0, |m| m.max_output_len as usize);
    if lj.digest.is_empty() || lj.digest.len() > max.saturating_add(1).min(MAX_DIGEST) {
        return Say::Drop;
    }
    let att = jobs::attestation(s, id, me)
        .ok()
        .flatten()
        .unwrap_or_default();
    if att.digest.is_some() || att.bad_reveal {
        return Say::Drop;
    }
    let mine = commitment(id, me, &lj.digest, &lj.salt);
    let reveal = || {
        Say::Reveal(JobReveal {
            job_id: id,
            digest: lj.digest.clone(),
            salt: lj.salt.clone(),
        })
    };
    if !job.status.commit_phase() {
        // Commit phase over: reveal what our recorded commitment opens to, or,
        // without one (or with one this digest does not open), say nothing.
        return match &att.commitment {
            Some(c) if c.as_slice() == mine.as_slice() => reveal(),
            _ => Say::Drop,
        };
    }
    let in_next = next.and_then(|n| {
        let a: [u8; 20] = me.try_into().ok()?;
        n.commitments.get(&(id, a))
    });
    let recorded = att
        .commitment
        .as_ref()
        .map(|c| c.as_slice())
        .or(in_next.map(Vec::as_slice));
    match recorded {
        None => Say::Commit(JobCommitment {
            job_id: id,
            commitment: mine.to_vec(),
            latency_ms: lj.latency_ms,
            runtime: runtime_field(&lj.runtime),
        }),
        Some(c) if c == mine.as_slice() && next.is_some_and(|n| n.closes(s, &job)) => reveal(),
        Some(_) => Say::Nothing,
    }
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
    let mut commitments = Vec::new();
    let mut reveals = Vec::new();
    let mut done = Vec::new();
    for (id, lj) in local.iter() {
        match plan(s, me, *id, lj, next) {
            Say::Nothing => {}
            Say::Drop => done.push(*id),
            Say::Commit(c) => commitments.push(c),
            Say::Reveal(r) => reveals.push(r),
        }
    }
    for id in done {
        local.remove(&id);
    }
    let mut ve = VoteExtension {
        version,
        commitments,
        reveals,
    };
    while ve.encoded_len() > cap {
        if ve.commitments.pop().is_none() && ve.reveals.pop().is_none() {
            break;
        }
    }
    ve
}
