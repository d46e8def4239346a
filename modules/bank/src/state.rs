//! Balances and supply.

use cosmwasm_std::{Order, Storage, Uint128};
use verdict_core::address::Addr;
use verdict_core::coin::{self, Coin};

use crate::error::BankError;

pub(crate) mod keys;
use keys::{BALANCES, SUPPLY};

pub struct Bank;

impl Bank {
    pub fn balance(s: &dyn Storage, a: &Addr, denom: &str) -> Result<Uint128, BankError> {
        Ok(BALANCES.may_load(s, (&a.0, denom))?.unwrap_or_default())
    }

    pub fn all_balances(s: &dyn Storage, a: &Addr) -> Result<Vec<Coin>, BankError> {
        BALANCES
            .prefix(&a.0)
            .range(s, None, None, Order::Ascending)
            .map(|r| {
                r.map(|(denom, amount)| Coin { denom, amount })
                    .map_err(BankError::from)
            })
            .collect()
    }

    /// Every non-zero balance, by address (for genesis export).
    pub fn all_holders(s: &dyn Storage) -> Result<Vec<(Addr, Vec<Coin>)>, BankError> {
        let mut out: Vec<(Addr, Vec<Coin>)> = Vec::new();
        for r in BALANCES.range(s, None, None, Order::Ascending) {
            let ((addr, denom), amount) = r?;
            if amount.is_zero() {
                continue;
            }
            let a = Addr(addr.as_slice().try_into().map_err(|_| {
                BankError::InvalidRequest("a stored balance key is not 20 bytes".into())
            })?);
            let coin = Coin { denom, amount };
            match out.last_mut() {
                Some((last, coins)) if *last == a => coins.push(coin),
                _ => out.push((a, vec![coin])),
            }
        }
        Ok(out)
    }

    pub fn supply(s: &dyn Storage, denom: &str) -> Result<Uint128, BankError> {
        Ok(SUPPLY.may_load(s, denom)?.unwrap_or_default())
    }

    pub fn total_supply(s: &dyn Storage) -> Result<Vec<Coin>, BankError> {
        SUPPLY
            .range(s, None, None, Order::Ascending)
            .map(|r| {
                r.map(|(denom, amount)| Coin { denom, amount })
                    .map_err(BankError::from)
            })
            .collect()
    }

    fn set_balance(
        s: &mut dyn Storage,
        a: &Addr,
        denom: &str,
        amount: Uint128,
    ) -> Result<(), BankError> {
        if amount.is_zero() {
            BALANCES.remove(s, (&a.0, denom));
        } else {
            BALANCES.save(s, (&a.0, denom), &amount)?;
        }
        Ok(())
    }

    /// Moves coins; fails without writing anything if `from` lacks any of them.
    pub fn transfer(
        s: &mut dyn Storage,
        from: &Addr,
        to: &Addr,
        coins: &[Coin],
    ) -> Result<(), BankError> {
        Self::burn_from(s, from, coins, false)?;
        Self::credit(s, to, coins, false)
    }

    /// Removes coins from an account (and from supply when `burn`).
    pub fn burn_from(
        s: &mut dyn Storage,
        from: &Addr,
        coins: &[Coin],
        burn: bool,
    ) -> Result<(), BankError> {
        // Check every denom before writing any.
        for c in coins {
            let have = Self::balance(s, from, &c.denom)?;
            if have < c.amount {
                return Err(BankError::InsufficientFunds {
                    have: format!("{have}{}", c.denom),
                    need: c.to_string(),
                });
            }
        }
        for c in coins {
            let have = Self::balance(s, from, &c.denom)?;
            let left = have
                .checked_sub(c.amount)
                .map_err(|_| BankError::Overflow(c.denom.clone()))?;
            Self::set_balance(s, from, &c.denom, left)?;
            if burn {
                let sup = Self::supply(s, &c.denom)?
                    .checked_sub(c.amount)
                    .map_err(|_| BankError::Overflow(c.denom.clone()))?;
                SUPPLY.save(s, &c.denom, &sup)?;
            }
        }
        Ok(())
    }

    fn credit(s: &mut dyn Storage, to: &Addr, coins: &[Coin], mint: bool) -> Result<(), BankError> {
        verdict_auth::Accounts::ensure(s, to)?;
        for c in coins {
            let new = Self::balance(s, to, &c.denom)?
                .checked_add(c.amount)
                .map_err(|_| BankError::Overflow(c.denom.clone()))?;
            Self::set_balance(s, to, &c.denom, new)?;
            if mint {
                let sup = Self::supply(s, &c.denom)?
                    .checked_add(c.amount)
                    .map_err(|_| BankError::Overflow(c.denom.clone()))?;
                SUPPLY.save(s, &c.denom, &sup)?;
            }
        }
        Ok(())
    }

    /// Credits coins that were just debited elsewhere with `burn_from(.., false)`
    /// in the same transaction (multi-send outputs). Supply is unchanged.
    pub fn transfer_in(s: &mut dyn Storage, to: &Addr, coins: &[Coin]) -> Result<(), BankError> {
        Self::credit(s, to, coins, false)
    }

    /// Creates coins in an account and in supply (genesis; minting modules).
    pub fn mint(s: &mut dyn Storage, to: &Addr, coins: &[Coin]) -> Result<(), BankError> {
        Self::credit(s, to, coins, true)
    }
}

/// Sum of balances per denom equals supply. Used by tests after every block and
/// by `verdictd --check-invariants`.
pub fn check_supply_invariant(s: &dyn Storage) -> Result<(), String> {
    let mut sums: std::collections::BTreeMap<String, Uint128> = Default::default();
    for r in BALANCES.range(s, None, None, Order::Ascending) {
        let ((_, denom), amt) = r.map_err(|e| e.to_string())?;
        let e = sums.entry(denom).or_default();
        *e = e.checked_add(amt).map_err(|e| e.to_string())?;
    }
    let supply: std::collections::BTreeMap<String, Uint128> = SUPPLY
        .range(s, None, None, Order::Ascending)
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    let supply: std::collections::BTreeMap<_, _> =
        supply.into_iter().filter(|(_, v)| !v.is_zero()).collect();
    if sums != supply {
        return Err(format!(
            "bank supply invariant broken: balances {} vs supply {}",
            coin::display(
                &sums
                    .iter()
                    .map(|(d, a)| Coin {
                        denom: d.clone(),
                        amount: *a
                    })
                    .collect::<Vec<_>>()
            ),
            coin::display(
                &supply
                    .iter()
                    .map(|(d, a)| Coin {
                        denom: d.clone(),
                        amount: *a
                    })
                    .collect::<Vec<_>>()
            ),
        ));
    }
    Ok(())
}
