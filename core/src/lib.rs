//! What every Verdict module shares. Modules depend on this crate and on the
//! lower modules they call; never on `verdict-app`.
//!
//! - [`storage`]: overlays that nest (a tx inside a block) and a gas-metered view.
//! - [`gas`]: the deterministic gas schedule (the Cosmos SDK's KV costs).
//! - [`coin`]: coins with checked `Uint128` arithmetic.
//! - [`address`]: bech32 addresses with the `verdict` prefix, module accounts.
//! - [`event`]: typed events turned into indexed ABCI events in one place.
//! - [`ctx`]: what a message handler gets: storage, gas, events, block info.
//! - [`module`]: the [`module::Module`] trait every module implements.

pub mod address;
pub mod coin;
pub mod ctx;
pub mod event;
pub mod gas;
pub mod module;
pub mod page;
pub mod storage;

/// Codespace of the Cosmos SDK's root errors (`types/errors`), which wallets and
/// relayers key on.
pub const SDK_CODESPACE: &str = "sdk";

/// An error that ends a transaction or query with an ABCI code.
pub trait AbciError: std::fmt::Display {
    fn code(&self) -> u32;
    fn codespace(&self) -> &'static str {
        SDK_CODESPACE
    }
}

/// The SDK's root error codes that Verdict uses (cosmos-sdk `types/errors/errors.go`).
pub mod codes {
    pub const TX_DECODE: u32 = 2;
    pub const INVALID_SEQUENCE: u32 = 3;
    pub const UNAUTHORIZED: u32 = 4;
    pub const INSUFFICIENT_FUNDS: u32 = 5;
    pub const UNKNOWN_REQUEST: u32 = 6;
    pub const INVALID_ADDRESS: u32 = 7;
    pub const INVALID_PUBKEY: u32 = 8;
    pub const UNKNOWN_ADDRESS: u32 = 9;
    pub const INVALID_COINS: u32 = 10;
    pub const OUT_OF_GAS: u32 = 11;
    pub const MEMO_TOO_LARGE: u32 = 12;
    pub const INSUFFICIENT_FEE: u32 = 13;
    pub const TOO_MANY_SIGNATURES: u32 = 14;
    pub const NO_SIGNATURES: u32 = 15;
    pub const INVALID_REQUEST: u32 = 18;
    pub const INVALID_HEIGHT: u32 = 26;
    pub const INVALID_TYPE: u32 = 29;
    pub const TX_TIMEOUT_HEIGHT: u32 = 30;
    pub const TX_TOO_LARGE: u32 = 21;
    pub const WRONG_SEQUENCE: u32 = 32;
    pub const NOT_FOUND: u32 = 38;
    pub const INVALID_GAS_LIMIT: u32 = 41;
}
