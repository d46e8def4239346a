use verdict_core::{codes, AbciError};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("account {0} does not exist: unknown address")]
    UnknownAddress(String),
    #[error("rpc error: code = NotFound desc = account {0} not found: key not found")]
    NotFound(String),
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    #[error("{0}")]
    InvalidAddress(String),
    #[error("storage: {0}")]
    Storage(String),
}

impl AbciError for AuthError {
    fn code(&self) -> u32 {
        match self {
            AuthError::UnknownAddress(_) => codes::UNKNOWN_ADDRESS,
            AuthError::NotFound(_) => codes::NOT_FOUND,
            AuthError::InvalidRequest(_) => codes::INVALID_REQUEST,
            AuthError::InvalidAddress(_) => codes::INVALID_ADDRESS,
            AuthError::Storage(_) => 1,
        }
    }
}

impl From<cosmwasm_std::StdError> for AuthError {
    fn from(e: cosmwasm_std::StdError) -> Self {
        AuthError::Storage(e.to_string())
    }
}
