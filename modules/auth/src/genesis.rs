use cosmwasm_std::Storage;
use serde::{Deserialize, Serialize};
use verdict_core::address::Addr;

use crate::error::AuthError;
use crate::params::AuthParams;
use crate::state::keys::PARAMS;
use crate::state::Accounts;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthGenesis {
    #[serde(default)]
    pub params: AuthParams,
    /// Bech32 addresses, numbered in this order.
    #[serde(default)]
    pub accounts: Vec<String>,
}

impl AuthGenesis {
    pub fn validate(&self) -> Result<(), String> {
        self.params.validate()?;
        let mut seen = std::collections::BTreeSet::new();
        for a in &self.accounts {
            Addr::parse(a).map_err(|e| format!("auth.accounts: {e}"))?;
            if !seen.insert(a) {
                return Err(format!("auth.accounts: {a} listed twice"));
            }
        }
        Ok(())
    }

    pub fn init(&self, s: &mut dyn Storage) -> Result<(), AuthError> {
        PARAMS.save(s, &self.params)?;
        for a in &self.accounts {
            let addr = Addr::parse(a).map_err(|e| AuthError::InvalidAddress(e.to_string()))?;
            Accounts::ensure(s, &addr)?;
        }
        Ok(())
    }
}
