//! The slashing parameters.

use cosmwasm_std::Decimal;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SlashingParams {
    pub signed_blocks_window: u64,
    pub min_signed_per_window: Decimal,
    pub downtime_jail_duration_seconds: u64,
    pub slash_fraction_double_sign: Decimal,
    pub slash_fraction_downtime: Decimal,
}

impl Default for SlashingParams {
    /// The Cosmos SDK's defaults.
    fn default() -> Self {
        SlashingParams {
            signed_blocks_window: 100,
            min_signed_per_window: Decimal::percent(50),
            downtime_jail_duration_seconds: 600,
            slash_fraction_double_sign: Decimal::percent(5),
            slash_fraction_downtime: Decimal::percent(1),
        }
    }
}

impl SlashingParams {
    pub fn validate(&self) -> Result<(), String> {
        if self.signed_blocks_window == 0 {
            return Err("slashing.params.signed_blocks_window must be positive".into());
        }
        for (name, d) in [
            ("min_signed_per_window", self.min_signed_per_window),
            (
                "slash_fraction_double_sign",
                self.slash_fraction_double_sign,
            ),
            ("slash_fraction_downtime", self.slash_fraction_downtime),
        ] {
            if d > Decimal::one() {
                return Err(format!("slashing.params.{name} must be at most 1, got {d}"));
            }
        }
        Ok(())
    }
}
