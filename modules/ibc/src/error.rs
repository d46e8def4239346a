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
    /// A message only an authority may send (SDK `ErrUnauthorized`).
    #[error("{0}")]
    Unauthorized(String),
}

impl AbciError for IbcError {
    fn code(&self) -> u32 {
        match self {
            IbcError::Decode(_) => codes::TX_DECODE,
            IbcError::Unsupported(_) => codes::UNKNOWN_REQUEST,
            IbcError::Handler(_) => codes::INVALID_REQUEST,
            IbcError::Funds(_) => codes::INSUFFICIENT_FUNDS,
            IbcError::Unauthorized(_) => codes::UNAUTHORIZED,
        }
    }
}

impl IbcError {
    /// A storage failure inside a handler.
    pub(crate) fn storage(e: impl std::fmt::Display) -> IbcError {
        IbcError::Handler(format!("storage: {e}"))
    }
}

/// Block data from consensus (chain id, height, time, hashes) that does not
/// make this block's host facts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlockDataError {
    #[error("chain id: {0}")]
    ChainId(String),
    #[error("host height: {0}")]
    Height(String),
    #[error("negative block time")]
    NegativeTime,
    #[error("negative block nanos")]
    NegativeNanos,
    #[error("block time: {0}")]
    Time(String),
    #[error("next validators hash: {0}")]
    NextValidatorsHash(String),
}

/// An ibc-rs event that has no ABCI form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("event: {0}")]
pub struct EventError(pub String);

/// Why the acknowledgement of a served job was not written. Its text is the
/// `error` attribute of the `inference_remote_ack_failed` event, which is part
/// of the block's results: keep every message as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AckError {
    /// ibc-rs refused the acknowledgement bytes or their commitment.
    #[error("acknowledgement: {0}")]
    Acknowledgement(String),
    /// ibc-rs could not emit the `write_acknowledgement` event.
    #[error("acknowledgement event: {0}")]
    AcknowledgementEvent(String),
    #[error(transparent)]
    Event(#[from] EventError),
    /// The served job's packet record is missing.
    #[error("packet record is gone")]
    PacketGone,
    /// The served job's packet record does not decode.
    #[error("{0}")]
    BadPacket(String),
    /// Acknowledgements are only written on open channels (as ibc-go's
    /// `WriteAcknowledgement`).
    #[error("channel {0} is not open")]
    ChannelNotOpen(ibc::core::host::types::identifiers::ChannelId),
    #[error("{0}")]
    Storage(String),
}

// Inside a message, these end the transaction as ibc-rs refusals (`ibc: …`).
impl From<BlockDataError> for IbcError {
    fn from(e: BlockDataError) -> IbcError {
        IbcError::Handler(e.to_string())
    }
}

impl From<EventError> for IbcError {
    fn from(e: EventError) -> IbcError {
        IbcError::Handler(e.to_string())
    }
}

impl From<AckError> for IbcError {
    fn from(e: AckError) -> IbcError {
        IbcError::Handler(e.to_string())
    }
}
