//! What every new job takes: a slot of its block (`max_jobs_per_block`,
//! `max_jobs_per_source`), and the BFT time it starts from.

use cosmwasm_std::Storage;

use crate::error::InferenceError;
use crate::params::InferenceParams;
use crate::state;

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
