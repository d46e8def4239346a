//! What a transaction ends in: [`TxOutcome`] (code, log, gas, events, data)
//! and [`TxFail`] (a failure with its SDK code). Modules' typed errors carry
//! their codes through [`AbciError`] (`From<E: AbciError> for TxFail`), so
//! codes are chosen in one place per error type.

use verdict_core::event::Event;
use verdict_core::{AbciError, SDK_CODESPACE};

/// What a transaction ended in. `code == 0` is success.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TxOutcome {
    pub code: u32,
    pub codespace: String,
    pub log: String,
    pub gas_wanted: u64,
    pub gas_used: u64,
    pub events: Vec<Event>,
    /// Encoded `TxMsgData`.
    pub data: Vec<u8>,
}

impl TxOutcome {
    /// A failed tx: the SDK's root codespace, no events, no data.
    pub fn failed(f: TxFail, gas_wanted: u64, gas_used: u64) -> Self {
        TxOutcome {
            code: f.code,
            codespace: SDK_CODESPACE.into(),
            log: f.log,
            gas_wanted,
            gas_used,
            events: vec![],
            data: vec![],
        }
    }
}

/// A failure with its SDK code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxFail {
    pub code: u32,
    pub log: String,
}

impl TxFail {
    pub fn new(code: u32, log: impl Into<String>) -> Self {
        TxFail {
            code,
            log: log.into(),
        }
    }
}

impl<E: AbciError> From<E> for TxFail {
    fn from(e: E) -> Self {
        TxFail::new(e.code(), e.to_string())
    }
}
