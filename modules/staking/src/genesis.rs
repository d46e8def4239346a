use cosmwasm_std::Storage;
use serde::{Deserialize, Serialize};

use crate::error::StakingError;
use crate::state::{StakingParams, PARAMS};

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
