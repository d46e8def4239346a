//! Typed storage of accounts.

use cosmwasm_std::Storage;
use serde::{Deserialize, Serialize};
use verdict_core::address::Addr;

use crate::error::AuthError;
use crate::params::AuthParams;

pub(crate) mod keys;
use keys::{ACCOUNTS, NEXT_NUMBER, PARAMS};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub number: u64,
    pub sequence: u64,
    /// Compressed secp256k1 key (33 bytes), hex; set by the first signed tx.
    pub pub_key: Option<String>,
}

/// Account access other modules use (bank creates recipients' accounts).
pub struct Accounts;

impl Accounts {
    pub fn get(s: &dyn Storage, a: &Addr) -> Result<Option<Account>, AuthError> {
        Ok(ACCOUNTS.may_load(s, &a.0)?)
    }

    pub fn set(s: &mut dyn Storage, a: &Addr, acc: &Account) -> Result<(), AuthError> {
        Ok(ACCOUNTS.save(s, &a.0, acc)?)
    }

    /// Returns the account, creating it with the next number if it is new.
    pub fn ensure(s: &mut dyn Storage, a: &Addr) -> Result<Account, AuthError> {
        if let Some(acc) = Self::get(s, a)? {
            return Ok(acc);
        }
        let number = NEXT_NUMBER.may_load(s)?.unwrap_or(0);
        NEXT_NUMBER.save(s, &number.saturating_add(1))?;
        let acc = Account {
            number,
            sequence: 0,
            pub_key: None,
        };
        Self::set(s, a, &acc)?;
        Ok(acc)
    }

    /// Every account, by account number (for genesis export).
    pub fn all(s: &dyn Storage) -> Result<Vec<(Addr, Account)>, AuthError> {
        let mut v = Vec::new();
        for r in keys::ACCOUNTS.range(s, None, None, cosmwasm_std::Order::Ascending) {
            let (k, acc) = r?;
            let a: [u8; 20] = k.as_slice().try_into().map_err(|_| {
                AuthError::InvalidAddress("a stored account key is not 20 bytes".into())
            })?;
            v.push((Addr(a), acc));
        }
        v.sort_by_key(|(_, acc)| acc.number);
        Ok(v)
    }

    pub fn params(s: &dyn Storage) -> AuthParams {
        PARAMS.may_load(s).ok().flatten().unwrap_or_default()
    }
}
