use verdict_core::{codes, AbciError};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StakingError {
    #[error("validator {0} does not exist")]
    NoValidator(String),
    #[error("validator {0} already exists")]
    ValidatorExists(String),
    #[error("consensus key already used by another validator")]
    PubkeyTaken,
    #[error("no delegation from {delegator} to {validator}")]
    NoDelegation {
        delegator: String,
        validator: String,
    },
    #[error("invalid shares amount: cannot undelegate {want} of {have}")]
    NotEnoughShares { want: String, have: String },
    #[error("too many unbonding entries for this delegator/validator pair (max {0})")]
    TooManyEntries(u32),
    #[error("invalid request: {0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
    /// The SDK's `ErrSelfRedelegation`.
    #[error("cannot redelegate to the same validator")]
    SelfRedelegation,
    /// The SDK's `ErrBadRedelegationDst`.
    #[error("redelegation destination validator not found: {0}")]
    NoRedelegationDst(String),
    /// The SDK's `ErrTransitiveRedelegation`.
    #[error("redelegation to this validator already in progress; first redelegation to this validator must complete before next redelegation")]
    TransitiveRedelegation,
    /// The SDK's `ErrMaxRedelegationEntries`.
    #[error("too many redelegation entries for (delegator, src-validator, dst-validator) tuple (max {0})")]
    TooManyRedelegationEntries(u32),
    #[error(transparent)]
    Bank(#[from] verdict_bank::BankError),
    #[error(transparent)]
    Auth(#[from] verdict_auth::AuthError),
    #[error("overflow in {0}")]
    Overflow(&'static str),
    #[error("storage: {0}")]
    Storage(String),
}

impl AbciError for StakingError {
    fn code(&self) -> u32 {
        match self {
            StakingError::Bank(e) => e.code(),
            StakingError::Auth(e) => e.code(),
            StakingError::Storage(_) => 1,
            // The staking module's own codespace numbers would go here; the SDK
            // root codes keep clients' generic handling working meanwhile.
            StakingError::NoValidator(_)
            | StakingError::NoDelegation { .. }
            | StakingError::NoRedelegationDst(_)
            | StakingError::NotFound(_) => codes::NOT_FOUND,
            _ => codes::INVALID_REQUEST,
        }
    }
}

impl From<cosmwasm_std::StdError> for StakingError {
    fn from(e: cosmwasm_std::StdError) -> Self {
        StakingError::Storage(e.to_string())
    }
}
