use verdict_core::{codes, AbciError};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BankError {
    #[error("spendable balance {have} is smaller than {need}: insufficient funds")]
    InsufficientFunds { have: String, need: String },
    #[error("invalid address: {0}")]
    InvalidAddress(String),
    #[error("invalid coins: {0}")]
    InvalidCoins(String),
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    #[error("overflow of {0}")]
    Overflow(String),
    #[error(transparent)]
    Auth(#[from] verdict_auth::AuthError),
    #[error("storage: {0}")]
    Storage(String),
}

impl AbciError for BankError {
    fn code(&self) -> u32 {
        match self {
            BankError::InsufficientFunds { .. } => codes::INSUFFICIENT_FUNDS,
            BankError::InvalidAddress(_) => codes::INVALID_ADDRESS,
            BankError::InvalidCoins(_) => codes::INVALID_COINS,
            BankError::InvalidRequest(_) => codes::INVALID_REQUEST,
            BankError::Overflow(_) => codes::INVALID_COINS,
            BankError::Auth(e) => e.code(),
            BankError::Storage(_) => 1,
        }
    }
}

impl From<cosmwasm_std::StdError> for BankError {
    fn from(e: cosmwasm_std::StdError) -> Self {
        BankError::Storage(e.to_string())
    }
}
