//! Errors of IBC messages: everything here ends a transaction with a code and a
//! log, never a panic, and leaves state untouched (the message overlay is dropped).

use verdict_core::{codes, AbciError};

/// Codespace of ibc-go's core errors, which relayers key on.
pub const IBC_CODESPACE: &str = "ibc";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IbcError {
    /// The message bytes or their contents do not decode.
    #[error("bad IBC message: {0}")]
    Decode(String),
    /// The message decodes but this chain does not handle it yet.
    #[error("{0}")]
    Unsupported(String),
    /// ibc-rs refused the message (validation or execution).
    #[error("ibc: {0}")]
    Handler(String),
    /// The signer cannot pay what the message escrows.
    #[error("{0}")]
    Funds(String),
}

impl AbciError for IbcError {
    fn code(&self) -> u32 {
        match self {
            IbcError::Decode(_) => codes::TX_DECODE,
            IbcError::Unsupported(_) => codes::UNKNOWN_REQUEST,
            IbcError::Handler(_) => codes::INVALID_REQUEST,
            IbcError::Funds(_) => codes::INSUFFICIENT_FUNDS,
        }
    }
}
