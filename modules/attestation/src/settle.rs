//! FinalizeBlock's part: record commitments and reveals from the injected vote
//! extensions, then settle every job that is complete or out of time — result,
//! payment or refund, and the slashes — all in this one block.
//!
//! - `phases`: what the extensions record, which commit phases close, which
//!   jobs are due;
//! - [`tally`]: the decision for one job, with no storage;
//! - `apply`: that decision written to state (pay, slash, record);
//! - `liveness`: the per-block attestation-liveness window;
//! - `budget`: the cap on what inference faults may jail (threats.md §2);
//! - `lookup`: the jobs and validators settlement reads from other modules.

use std::collections::BTreeSet;

use cosmwasm_std::{StdResult, Storage, Uint128};
use verdict_core::event::Event;
use verdict_proto::app::v1::VoteExtension;

use crate::error::AttestationError;
use crate::keys::PAID;

mod apply;
mod budget;
mod challenge;
mod liveness;
mod lookup;
mod phases;
pub mod tally;

pub use budget::{Budget, Penalty};
pub use liveness::att_info;
use lookup::load_job;
pub(crate) use phases::sla_passed;
pub use tally::{tally, Answer, MemberVerdict, Outcome, Seat, Terms};

pub use crate::types::AttInfo;

/// Total paid to validators for completed jobs (for the supply books and queries).
pub fn paid(s: &dyn Storage) -> StdResult<Uint128> {
    Ok(PAID.may_load(s)?.unwrap_or_default())
}

/// One block's work. `votes` are the (validator address, extension) pairs of the
/// injected tx, already size- and format-checked by the caller; anything they
/// claim that does not fit the state is ignored, never trusted.
///
/// Order: all reveals (for jobs whose commit phase closed in an earlier block),
/// then all commitments (for jobs still in their commit phase), then commit
/// phases close (every active member committed; or the job's SLA has passed in
/// BFT time, at the earliest two blocks after its committee was drawn; or
/// `commit_deadline`), then jobs settle (every member that committed answered,
/// or `deadline_height`). `now` is the block's BFT time in seconds, `now_ms` in
/// milliseconds.
pub fn process_block(
    s: &mut dyn Storage,
    height: u64,
    now: i64,
    now_ms: i64,
    votes: &[([u8; 20], VoteExtension)],
) -> Result<Vec<Event>, AttestationError> {
    // The same validator twice in one injected tx: the first one counts.
    let mut seen = BTreeSet::new();
    let votes: Vec<&([u8; 20], VoteExtension)> =
        votes.iter().filter(|(a, _)| seen.insert(*a)).collect();
    let touched = phases::record_votes(s, height, now_ms, &votes)?;
    let due = phases::close_phases(s, height, now_ms, &touched)?;
    let mut events = Vec::new();
    let mut budget = Budget::new(s, height)?;
    // Attestation liveness counts per block: per validator, the worst of its
    // seats in the jobs settled here.
    let mut liveness = liveness::BlockLiveness::default();
    for id in due {
        let job = load_job(s, id)?;
        if job.status.is_final() || job.committee.is_empty() {
            continue;
        }
        events.extend(apply::settle_job(
            s,
            job,
            height,
            now,
            &mut budget,
            &mut liveness,
        )?);
    }
    events.extend(liveness.record(s, height, now, &mut budget)?);
    budget.save(s)?;
    // Results whose challenge window has closed are final (issue 21 §1).
    events.extend(verdict_inference::jobs::close_windows(s, height)?);
    Ok(events)
}
