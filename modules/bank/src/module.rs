//! bank as a [`Module`]: balances, supply, sends.

use cosmrs::Any;
use cosmwasm_std::Storage;
use verdict_core::ctx::Ctx;
use verdict_core::module::{answer, HookError, Module, Route};

use crate::error::BankError;
use crate::genesis::BankGenesis;
use crate::msgs::BankMsg;
use crate::{handler, query};

pub struct BankModule;

impl Module for BankModule {
    const NAME: &'static str = "bank";
    type Genesis = BankGenesis;
    type Msg = BankMsg;
    type Error = BankError;

    fn validate_genesis(g: &BankGenesis) -> Result<(), String> {
        g.validate()
    }

    fn init_genesis(s: &mut dyn Storage, g: &BankGenesis) -> Result<(), HookError> {
        g.init(s)
            .map_err(|e| HookError::new(Self::NAME, "genesis", e))
    }

    /// Every balance; supply follows from them at init.
    fn export_genesis(s: &dyn Storage) -> Result<BankGenesis, HookError> {
        let holders = crate::state::Bank::all_holders(s)
            .map_err(|e| HookError::new(Self::NAME, "export", e))?;
        Ok(BankGenesis {
            balances: holders
                .into_iter()
                .map(|(a, coins)| crate::genesis::GenesisBalance {
                    address: a.bech32(),
                    coins: verdict_core::coin::display(&coins),
                })
                .collect(),
        })
    }

    fn check_invariants(s: &dyn Storage) -> Result<(), String> {
        crate::state::check_supply_invariant(s)
    }

    fn decode_msg(any: &Any) -> Result<Option<BankMsg>, BankError> {
        BankMsg::decode(any)
    }

    fn execute(ctx: &mut Ctx<'_>, msg: &BankMsg) -> Result<Any, BankError> {
        handler::execute(ctx, msg)
    }

    fn routes() -> &'static [Route] {
        &[
            Route {
                path: "/cosmos.bank.v1beta1.Query/Balance",
                handler: |s, r| answer(query::balance(s, r)),
            },
            Route {
                path: "/cosmos.bank.v1beta1.Query/AllBalances",
                handler: |s, r| answer(query::all_balances(s, r)),
            },
            Route {
                path: "/cosmos.bank.v1beta1.Query/TotalSupply",
                handler: |s, r| answer(query::total_supply(s, r)),
            },
            Route {
                path: "/cosmos.bank.v1beta1.Query/SupplyOf",
                handler: |s, r| answer(query::supply_of(s, r)),
            },
        ]
    }
}

impl verdict_core::module::ModuleMsg for BankMsg {
    fn signer(&self) -> verdict_core::address::Addr {
        BankMsg::signer(self)
    }

    fn type_url(&self) -> &str {
        BankMsg::type_url(self)
    }

    fn recipients(&self) -> Vec<verdict_core::address::Addr> {
        match self {
            BankMsg::Send { to, .. } => vec![*to],
            BankMsg::MultiSend { outputs, .. } => outputs.iter().map(|(a, _)| *a).collect(),
        }
    }
}
