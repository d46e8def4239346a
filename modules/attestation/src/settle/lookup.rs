//! What settlement reads of other modules' state, for `phases` and `apply`.

use cosmwasm_std::Storage;
use verdict_inference::state::{self as inf, Job};

use crate::error::AttestationError;

/// Whether a committee member is out of the vote: not bonded or jailed (so out of
/// CometBFT's set, unable to sign extensions).
pub(crate) fn out_of_set(s: &dyn Storage, operator: &[u8; 20]) -> bool {
    verdict_staking::state::find_validator(s, operator)
        .ok()
        .flatten()
        .is_some_and(|v| v.power() == 0)
}

/// A job the live index names (its absence is a broken index, not a fault).
pub(crate) fn load_job(s: &dyn Storage, id: u64) -> Result<Job, AttestationError> {
    inf::job(s, id)?.ok_or(AttestationError::MissingJob(id))
}
