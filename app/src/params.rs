//! Chain-level parameters owned by the app itself (module params live in modules).

use cosmwasm_std::Decimal;
use serde::{Deserialize, Serialize};

/// # Invariants
/// - `max_vote_extension_bytes` > 0 and ≤ 64 KiB: CometBFT's QA saw rounds stall at
///   16–32 KiB per validator, so anything above 64 KiB is refused outright.
/// - `min_gas_price` is a decimal string (fixed point, 18 places): consensus never
///   sees a float.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AppParams {
    /// Hard cap on one validator's vote extension, checked before decoding.
    pub max_vote_extension_bytes: u32,
    /// Minimum fee per unit of gas, in uverd, enforced in CheckTx and FinalizeBlock.
    pub min_gas_price: String,
    /// Largest accepted transaction, checked before decoding.
    pub max_tx_bytes: u32,
    /// Largest gas limit one transaction may ask for.
    pub max_tx_gas: u64,
}

impl Default for AppParams {
    fn default() -> Self {
        AppParams {
            max_vote_extension_bytes: 8192,
            min_gas_price: "0.025".into(),
            max_tx_bytes: 65536,
            max_tx_gas: 10_000_000,
        }
    }
}

impl AppParams {
    pub fn validate(&self) -> Result<(), String> {
        if self.max_vote_extension_bytes == 0 || self.max_vote_extension_bytes > 64 * 1024 {
            return Err(format!(
                "max_vote_extension_bytes must be in 1..=65536, got {}",
                self.max_vote_extension_bytes
            ));
        }
        self.min_gas_price()?;
        if self.max_tx_bytes < 256 {
            return Err("max_tx_bytes must be at least 256".into());
        }
        if self.max_tx_gas == 0 {
            return Err("max_tx_gas must be positive".into());
        }
        Ok(())
    }

    pub fn min_gas_price(&self) -> Result<Decimal, String> {
        self.min_gas_price
            .parse::<Decimal>()
            .map_err(|e| format!("min_gas_price {:?}: {e}", self.min_gas_price))
    }
}
