//! Errors a transaction or query can end in, with SDK-compatible codes, and the
//! node-halting path for failures that would otherwise fork the node.

use tendermint_proto::v0_38::abci::ExecTxResult;

/// Codespace of the Cosmos SDK's root errors, which clients key on.
pub const SDK_CODESPACE: &str = "sdk";

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
            TxError::Decode(_) => 2,
            TxError::Reserved => 18,
        }
    }

    pub fn codespace(&self) -> &'static str {
        SDK_CODESPACE
    }

    pub fn outcome(&self) -> crate::tx::TxOutcome {
        crate::tx::TxOutcome {
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
