//! [`SlashingError`] and its ABCI codes.

use cosmwasm_std::Uint128;
use verdict_core::{codes, AbciError};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlashingError {
    #[error("validator {0} is not jailed")]
    NotJailed(String),
    #[error("validator {0} is tombstoned for double signing and can never be unjailed")]
    Tombstoned(String),
    #[error("validator {valoper} is jailed until {until} (unix seconds); block time is {now}")]
    StillJailed {
        valoper: String,
        until: i64,
        now: i64,
    },
    #[error("validator {0} has no self-delegation left")]
    NoSelfDelegation(String),
    /// The SDK's `ErrSelfDelegationTooLowToUnjail`.
    #[error("validator's self delegation less than minimum; cannot be unjailed: {valoper} has {have}, needs {min}")]
    SelfDelegationTooLow {
        valoper: String,
        have: Uint128,
        min: Uint128,
    },
    #[error("invalid address: {0}")]
    InvalidAddress(String),
    /// A message that does not decode (SDK `ErrTxDecode`).
    #[error("{0}")]
    Decode(String),
    /// A message field that is not a valid address (SDK `ErrInvalidAddress`).
    #[error("{0}")]
    MsgAddress(String),
    #[error("{0}")]
    NotFound(String),
    /// A query that asks for something it cannot have (SDK `ErrInvalidRequest`).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    #[error(transparent)]
    Staking(#[from] verdict_staking::StakingError),
    #[error("storage: {0}")]
    Storage(String),
}

impl AbciError for SlashingError {
    fn code(&self) -> u32 {
        match self {
            SlashingError::Staking(e) => e.code(),
            SlashingError::Storage(_) => 1,
            SlashingError::InvalidAddress(_) | SlashingError::MsgAddress(_) => {
                codes::INVALID_ADDRESS
            }
            SlashingError::Decode(_) => codes::TX_DECODE,
            SlashingError::NotFound(_) => codes::NOT_FOUND,
            _ => codes::INVALID_REQUEST,
        }
    }
}

impl From<cosmwasm_std::StdError> for SlashingError {
    fn from(e: cosmwasm_std::StdError) -> Self {
        SlashingError::Storage(e.to_string())
    }
}
