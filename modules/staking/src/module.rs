//! staking as a [`Module`]: validators, delegations, the active set.

use cosmrs::Any;
use cosmwasm_std::Storage;
use verdict_core::address::Addr;
use verdict_core::ctx::Ctx;
use verdict_core::module::{
    answer, Block, EndBlock, HookError, Module, ModuleMsg, Route, ValidatorUpdate,
};

use crate::error::StakingError;
use crate::genesis::StakingGenesis;
use crate::msgs::StakingMsg;
use crate::{handler, query, state};

pub struct Staking;

impl Module for Staking {
    const NAME: &'static str = "staking";
    type Genesis = StakingGenesis;
    type Msg = StakingMsg;
    type Error = StakingError;

    fn validate_genesis(g: &StakingGenesis) -> Result<(), String> {
        g.validate()
    }

    fn init_genesis(s: &mut dyn Storage, g: &StakingGenesis) -> Result<(), HookError> {
        g.init(s)
            .map_err(|e| HookError::new(Self::NAME, "genesis", e))
    }

    /// The params. Validators and delegations have no genesis form other than
    /// gentxs (signed txs a chain runs at InitChain), so they are not exported.
    fn export_genesis(s: &dyn Storage) -> Result<StakingGenesis, HookError> {
        Ok(StakingGenesis {
            params: state::params(s),
            ..Default::default()
        })
    }

    fn module_accounts() -> Vec<Addr> {
        vec![state::bonded_pool(), state::not_bonded_pool()]
    }

    fn check_invariants(s: &dyn Storage) -> Result<(), String> {
        state::check_invariants(s)
    }

    fn decode_msg(any: &Any) -> Result<Option<StakingMsg>, StakingError> {
        StakingMsg::decode(any)
    }

    fn execute(ctx: &mut Ctx<'_>, msg: &StakingMsg) -> Result<Any, StakingError> {
        handler::execute(ctx, msg)
    }

    fn routes() -> &'static [Route] {
        &[
            Route {
                path: "/cosmos.staking.v1beta1.Query/Validators",
                handler: |s, r| answer(query::validators(s, r)),
            },
            Route {
                path: "/cosmos.staking.v1beta1.Query/Validator",
                handler: |s, r| answer(query::validator(s, r)),
            },
            Route {
                path: "/cosmos.staking.v1beta1.Query/Delegation",
                handler: |s, r| answer(query::delegation(s, r)),
            },
            Route {
                path: "/cosmos.staking.v1beta1.Query/DelegatorDelegations",
                handler: |s, r| answer(query::delegator_delegations(s, r)),
            },
            Route {
                path: "/cosmos.staking.v1beta1.Query/UnbondingDelegation",
                handler: |s, r| answer(query::unbonding_delegation(s, r)),
            },
            Route {
                path: "/cosmos.staking.v1beta1.Query/Redelegations",
                handler: |s, r| answer(query::redelegations(s, r)),
            },
            Route {
                path: "/cosmos.staking.v1beta1.Query/Params",
                handler: |s, r| answer(query::params(s, r)),
            },
            Route {
                path: "/cosmos.staking.v1beta1.Query/Pool",
                handler: |s, r| answer(query::pool(s, r)),
            },
        ]
    }

    /// Matured unbondings complete, then the new active set goes to CometBFT.
    fn end_block(s: &mut dyn Storage, b: &Block<'_>) -> Result<EndBlock, HookError> {
        state::complete_unbondings(s, b.info.time_seconds)
            .map_err(|e| HookError::new(Self::NAME, "unbonding queue", e))?;
        let updates = validator_updates(s, b.info.height, b.info.time_seconds)?;
        Ok(EndBlock {
            events: vec![],
            validator_updates: updates,
        })
    }
}

/// The active set's changes since the last call (also the genesis set, after
/// the gentxs), at block `height` and block time `now` (unix seconds).
pub fn validator_updates(
    s: &mut dyn Storage,
    height: u64,
    now: i64,
) -> Result<Vec<ValidatorUpdate>, HookError> {
    Ok(state::end_block_updates(s, height, now)
        .map_err(|e| HookError::new(Staking::NAME, "validator set", e))?
        .into_iter()
        .map(|u| ValidatorUpdate {
            pubkey: u.pubkey,
            power: u.power,
        })
        .collect())
}

impl ModuleMsg for StakingMsg {
    fn signer(&self) -> Addr {
        StakingMsg::signer(self)
    }

    fn type_url(&self) -> &str {
        StakingMsg::type_url(self)
    }
}
