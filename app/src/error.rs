//! What a transaction ends in ([`TxOutcome`], [`TxFail`], [`TxError`]) with
//! SDK-compatible codes, the app's own consensus-path error ([`AppError`]),
//! and the node-halting path for failures that would otherwise fork the node.
//!
//! Codes are chosen in one place per error type: modules' typed errors carry
//! theirs through [`AbciError`] (`From<E: AbciError> for TxFail`), the app's
//! root errors through [`TxError::code`].

use tendermint_proto::v0_38::abci::ExecTxResult;
use verdict_core::codes;
use verdict_core::module::HookError;

pub use crate::outcome::{TxFail, TxOutcome};
pub use verdict_core::SDK_CODESPACE;

/// A failure on the consensus path (InitChain, FinalizeBlock, Commit): the
/// node halts with it rather than fork.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Hook(#[from] HookError),
    #[error("store: {0}")]
    Store(#[from] crate::store::StoreError),
    #[error("state: {0}")]
    State(#[from] cosmwasm_std::StdError),
    #[error("genesis: {0}")]
    Genesis(String),
    #[error("block order: {0}")]
    Order(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TxError {
    /// SDK `ErrTxDecode` (2).
    #[error("tx parse error: {0}")]
    Decode(String),
    /// The injected vote-extension tx is the proposer's alone; SDK `ErrInvalidRequest` (18).
    #[error("invalid request: transactions starting with the reserved vote-extension marker cannot be submitted")]
    Reserved,
}

impl TxError {
    pub fn code(&self) -> u32 {
        match self {
            TxError::Decode(_) => codes::TX_DECODE,
            TxError::Reserved => codes::INVALID_REQUEST,
        }
    }

    pub fn codespace(&self) -> &'static str {
        SDK_CODESPACE
    }

    pub fn outcome(&self) -> TxOutcome {
        TxOutcome {
            code: self.code(),
            codespace: self.codespace().into(),
            log: self.to_string(),
            ..Default::default()
        }
    }

    pub fn exec_result(&self) -> ExecTxResult {
        ExecTxResult {
            code: self.code(),
            log: self.to_string(),
            codespace: self.codespace().into(),
            ..Default::default()
        }
    }
}

/// Stops the node on a consensus-path failure that must not be papered over
/// (disk errors, out-of-order blocks, an invalid genesis). CometBFT then stops
/// too, and an operator sees one clear line.
pub fn halt(msg: &str) -> ! {
    tracing::error!("HALT: {msg}");
    eprintln!("verdictd: halting: {msg}");
    std::process::exit(70)
}
