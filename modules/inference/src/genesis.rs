//! Genesis section `inference`: params only (models are registered by txs).

use cosmwasm_std::Storage;
use serde::{Deserialize, Serialize};

use crate::error::InferenceError;
use crate::params::InferenceParams;
use crate::state;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InferenceGenesis {
    pub params: InferenceParams,
}

impl InferenceGenesis {
    pub fn validate(&self) -> Result<(), String> {
        self.params.validate()
    }

    pub fn init(&self, s: &mut dyn Storage) -> Result<(), InferenceError> {
        state::PARAMS.save(s, &self.params)?;
        verdict_auth::Accounts::ensure(s, &state::escrow())?;
        Ok(())
    }
}
