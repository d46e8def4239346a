use cosmwasm_std::Storage;
use serde::{Deserialize, Serialize};
use verdict_core::address::Addr;
use verdict_core::coin::{self, Coin};

use crate::error::BankError;
use crate::state::Bank;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisBalance {
    pub address: String,
    /// e.g. "1000000000uverd"
    pub coins: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BankGenesis {
    #[serde(default)]
    pub balances: Vec<GenesisBalance>,
}

impl BankGenesis {
    fn parsed(&self) -> Result<Vec<(Addr, Vec<Coin>)>, String> {
        let mut seen = std::collections::BTreeSet::new();
        self.balances
            .iter()
            .map(|b| {
                let a = Addr::parse(&b.address).map_err(|e| format!("bank.balances: {e}"))?;
                if !seen.insert(a) {
                    return Err(format!("bank.balances: {} listed twice", b.address));
                }
                let c = coin::parse_coins(&b.coins)
                    .map_err(|e| format!("bank.balances[{}]: {e}", b.address))?;
                Ok((a, c))
            })
            .collect()
    }

    pub fn validate(&self) -> Result<(), String> {
        self.parsed().map(|_| ())
    }

    pub fn init(&self, s: &mut dyn Storage) -> Result<(), BankError> {
        for (a, coins) in self.parsed().map_err(BankError::InvalidRequest)? {
            Bank::mint(s, &a, &coins)?;
        }
        Ok(())
    }
}
