//! Errors of the attestation module. [`AttestationError`] halts FinalizeBlock
//! (state that cannot be read or a transfer that cannot be made is a bug, not
//! a fault of a validator); [`ExtensionError`] refuses a vote extension.

use cosmwasm_std::StdError;
use verdict_bank::BankError;
use verdict_distribution::DistributionError;
use verdict_slashing::SlashingError;

use crate::limits::{MAX_SALT, MIN_SALT};

/// Why [`crate::process_block`] could not finish a block.
#[derive(Debug, thiserror::Error)]
pub enum AttestationError {
    /// State could not be read or written.
    #[error("{0}")]
    Storage(StdError),
    /// A live job missing from the jobs table (the live index is broken).
    #[error("live job {0} does not exist")]
    MissingJob(u64),
    #[error(transparent)]
    Bank(#[from] BankError),
    #[error(transparent)]
    Distribution(#[from] DistributionError),
    #[error(transparent)]
    Slashing(#[from] SlashingError),
}

// `StdError` implements no `std::error::Error` (cosmwasm-std 3), so no `#[from]`.
impl From<StdError> for AttestationError {
    fn from(e: StdError) -> Self {
        AttestationError::Storage(e)
    }
}

/// Why a vote extension is refused (VerifyVoteExtension, the proposer's
/// pruning); the texts are what `check_payload` / `check_against_state` return.
#[derive(Debug, thiserror::Error)]
pub enum ExtensionError {
    #[error("commitments are not sorted by job id without duplicates")]
    UnsortedCommitments,
    #[error("reveals are not sorted by job id without duplicates")]
    UnsortedReveals,
    #[error("job {0}: commitment is not 32 bytes")]
    CommitmentLength(u64),
    #[error("job {0}: runtime must be at most 48 printable ASCII bytes")]
    Runtime(u64),
    #[error("job {0}: salt must be {MIN_SALT}..{MAX_SALT} bytes")]
    SaltLength(u64),
    #[error("job {job}: digest length {len}")]
    DigestLength { job: u64, len: usize },
    #[error("job {0} does not exist")]
    UnknownJob(u64),
    #[error("job {0} is already settled")]
    Settled(u64),
    #[error("validator is not on the committee of job {0}")]
    NotMember(u64),
    #[error("job {0}: its commit phase is over")]
    CommitPhaseOver(u64),
    #[error("job {job}: digest of {len} elements, the model allows {max}")]
    DigestTooLong { job: u64, len: usize, max: usize },
    #[error("{0}")]
    Storage(StdError),
}

impl From<StdError> for ExtensionError {
    fn from(e: StdError) -> Self {
        ExtensionError::Storage(e)
    }
}
