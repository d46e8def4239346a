//! auth as a [`Module`]: accounts, sequences and the fee collector.

use std::convert::Infallible;

use cosmrs::Any;
use cosmwasm_std::Storage;
use verdict_core::address::Addr;
use verdict_core::ctx::Ctx;
use verdict_core::module::{answer, HookError, Module, Route};

use crate::error::AuthError;
use crate::genesis::AuthGenesis;
use crate::query;
use crate::state::Accounts;

/// The fee collector module account: the ante handler pays fees into it,
/// distribution empties it every block.
pub fn fee_collector() -> Addr {
    Addr::module("fee_collector")
}

pub struct Auth;

impl Module for Auth {
    const NAME: &'static str = "auth";
    type Genesis = AuthGenesis;
    type Msg = Infallible;
    type Error = AuthError;

    fn validate_genesis(g: &AuthGenesis) -> Result<(), String> {
        g.validate()
    }

    fn init_genesis(s: &mut dyn Storage, g: &AuthGenesis) -> Result<(), HookError> {
        g.init(s)
            .map_err(|e| HookError::new(Self::NAME, "genesis", e))?;
        // Numbered after the genesis accounts.
        Accounts::ensure(s, &fee_collector())
            .map_err(|e| HookError::new(Self::NAME, "genesis", e))?;
        Ok(())
    }

    /// Params and every account address in account-number order, so a chain
    /// started from the export numbers them the same (sequences and public
    /// keys are not part of the genesis format: the first tx of each account
    /// carries its key again).
    fn export_genesis(s: &dyn Storage) -> Result<AuthGenesis, HookError> {
        let accounts = Accounts::all(s).map_err(|e| HookError::new(Self::NAME, "export", e))?;
        Ok(AuthGenesis {
            params: Accounts::params(s),
            accounts: accounts.into_iter().map(|(a, _)| a.bech32()).collect(),
        })
    }

    fn module_accounts() -> Vec<Addr> {
        vec![fee_collector()]
    }

    fn execute(_ctx: &mut Ctx<'_>, msg: &Infallible) -> Result<Any, AuthError> {
        match *msg {}
    }

    fn routes() -> &'static [Route] {
        &[
            Route {
                path: "/cosmos.auth.v1beta1.Query/Account",
                handler: |s, r| answer(query::account(s, r)),
            },
            Route {
                path: "/cosmos.auth.v1beta1.Query/Params",
                handler: |s, r| answer(query::params(s, r)),
            },
        ]
    }
}
