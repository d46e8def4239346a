use verdict_core::{codes, AbciError};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InferenceError {
    #[error("unknown model {0}")]
    UnknownModel(String),
    #[error("model {0} is already registered")]
    ModelExists(String),
    #[error("job {0} does not exist")]
    UnknownJob(u64),
    #[error("job {0} was settled and pruned: results stay in state for job_retention_blocks ({1}) after settlement (its events stay in the block results)")]
    PrunedJob(u64, u64),
    #[error("input does not match the model: {0}")]
    BadInput(String),
    #[error("input is {len} bytes, above the cap of {cap}")]
    InputTooLarge { len: u64, cap: u32 },
    #[error("fee {got} is below the minimum job fee {want}")]
    FeeTooLow { got: String, want: String },
    #[error("this block already holds the maximum of {0} jobs; submit again in a later block")]
    BlockFull(u32),
    #[error("this block already holds the {kind} share of its job slots ({cap}); submit again in a later block")]
    SourceFull { kind: &'static str, cap: u32 },
    #[error("invalid request: {0}")]
    Invalid(String),
    #[error(transparent)]
    Bank(#[from] verdict_bank::BankError),
    #[error(transparent)]
    Auth(#[from] verdict_auth::AuthError),
    #[error("overflow in {0}")]
    Overflow(&'static str),
    #[error("storage: {0}")]
    Storage(String),
}

impl AbciError for InferenceError {
    fn code(&self) -> u32 {
        match self {
            InferenceError::Bank(e) => e.code(),
            InferenceError::Auth(e) => e.code(),
            InferenceError::Storage(_) => 1,
            InferenceError::UnknownModel(_)
            | InferenceError::UnknownJob(_)
            | InferenceError::PrunedJob(..) => codes::NOT_FOUND,
            InferenceError::FeeTooLow { .. } => codes::INSUFFICIENT_FEE,
            InferenceError::InputTooLarge { .. } => codes::TX_TOO_LARGE,
            _ => codes::INVALID_REQUEST,
        }
    }
}

impl From<cosmwasm_std::StdError> for InferenceError {
    fn from(e: cosmwasm_std::StdError) -> Self {
        InferenceError::Storage(e.to_string())
    }
}

/// Why a proposer's beacon contribution in tx[0] is refused (ProcessProposal;
/// FinalizeBlock counts a refused one as none). See [`crate::beacon`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BeaconError {
    #[error("beacon: a reveal and an anchor in one block")]
    RevealAndAnchor,
    #[error("beacon: a reveal is 32 bytes")]
    RevealLength,
    #[error("beacon: the proposer has no anchored chain")]
    NoChain,
    #[error("beacon: the proposer's chain is used up; anchor a new one")]
    ChainUsedUp,
    #[error("beacon: the reveal is not the preimage of the last element")]
    NotPreimage,
    #[error("beacon: an anchor is 32 bytes")]
    AnchorLength,
    #[error("beacon: the proposer's chain is not used up")]
    ChainNotUsedUp,
    #[error("{0}")]
    Storage(String),
}

impl From<cosmwasm_std::StdError> for BeaconError {
    fn from(e: cosmwasm_std::StdError) -> Self {
        BeaconError::Storage(e.to_string())
    }
}
