use cosmwasm_std::Storage;
use serde::{Deserialize, Serialize};

use crate::error::StakingError;
use crate::state::keys::PARAMS;
use crate::state::StakingParams;

/// Staking genesis: params, and gentxs — signed `MsgCreateValidator` transactions
/// (hex `TxRaw`) that InitChain delivers through the normal tx pipeline.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StakingGenesis {
    #[serde(default)]
    pub params: StakingParams,
    #[serde(default)]
    pub gentxs: Vec<String>,
}

impl StakingGenesis {
    pub fn validate(&self) -> Result<(), String> {
        if self.params.max_validators == 0 {
            return Err("staking.params.max_validators must be positive".into());
        }
        // A validator that leaves the set stays slashable (and in state) for
        // the unbonding time; zero would let it vanish before evidence of what
        // it did while bonded arrives.
        if self.params.unbonding_time_seconds == 0 {
            return Err("staking.params.unbonding_time_seconds must be positive".into());
        }
        // Fees, job payments and rewards are all in the fee denom; distribution
        // pays validators only in the bond denom. Another bond denom would halt
        // the chain at the first completed job (protocol review §14): refuse it.
        if self.params.bond_denom != verdict_core::address::FEE_DENOM {
            return Err(format!(
                "staking.params.bond_denom must be {} (the denom of fees and job payments), got {:?}",
                verdict_core::address::FEE_DENOM,
                self.params.bond_denom
            ));
        }
        for (i, g) in self.gentxs.iter().enumerate() {
            hex::decode(g).map_err(|e| format!("staking.gentxs[{i}] is not hex: {e}"))?;
        }
        Ok(())
    }

    pub fn init(&self, s: &mut dyn Storage) -> Result<(), StakingError> {
        PARAMS.save(s, &self.params)?;
        Ok(())
    }

    pub fn gentx_bytes(&self) -> Vec<Vec<u8>> {
        self.gentxs
            .iter()
            .filter_map(|g| hex::decode(g).ok())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_bond_denom_other_than_the_fee_denom_is_refused() {
        let mut g = StakingGenesis::default();
        assert!(g.validate().is_ok());
        g.params.bond_denom = "stake".into();
        let e = g.validate().unwrap_err();
        assert!(e.contains("bond_denom must be uverd"), "{e}");
    }

    #[test]
    fn a_zero_unbonding_time_is_refused() {
        let mut g = StakingGenesis::default();
        g.params.unbonding_time_seconds = 0;
        let e = g.validate().unwrap_err();
        assert!(e.contains("unbonding_time_seconds must be positive"), "{e}");
    }
}
