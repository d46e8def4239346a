//! What settlement reads of other modules' state, for `phases` and `apply`.

use cosmwasm_std::Storage;
use verdict_inference::state::{self as inf, Job};

use crate::error::AttestationError;

/// Whether a committee member is out of the vote: not bonded or jailed (so out of
/// CometBFT's set, unable to sign extensions). A member staking no longer knows
/// (removed once unbonded with no delegation left, an unbonding time after it
/// left the set, so long after any job it was drawn for) counts as in the vote
/// and silent.
pub(crate) fn out_of_set(s: &dyn Storage, operator: &[u8; 20]) -> bool {
    verdict_staking::state::find_validator(s, operator)
        .ok()
        .flatten()
        .is_some_and(|v| v.power() == 0)
}

/// Whether staking still has a validator with this operator (a member paid at
/// settlement may have been removed since it was drawn).
pub(crate) fn is_validator(s: &dyn Storage, operator: &[u8; 20]) -> bool {
    matches!(
        verdict_staking::state::find_validator(s, operator),
        Ok(Some(_))
    )
}

/// A job the live index names (its absence is a broken index, not a fault).
pub(crate) fn load_job(s: &dyn Storage, id: u64) -> Result<Job, AttestationError> {
    inf::job(s, id)?.ok_or(AttestationError::MissingJob(id))
}
