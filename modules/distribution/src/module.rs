//! distribution as a [`Module`]: every block's fees to the validators that
//! signed the previous one, commission and delegator rewards.

use cosmrs::Any;
use cosmwasm_std::Storage;
use verdict_core::address::Addr;
use verdict_core::ctx::Ctx;
use verdict_core::event::Event;
use verdict_core::module::{
    answer, Block, BlockIdFlag, HookError, Module, ModuleMsg, NoGenesis, Route,
};

use crate::{msgs, query, state, DistributionError, DistributionMsg, SignedVote};

pub struct Distribution;

impl Module for Distribution {
    const NAME: &'static str = "distribution";
    type Genesis = NoGenesis;
    type Msg = DistributionMsg;
    type Error = DistributionError;

    /// No genesis section: its state starts empty and has no genesis form.
    fn export_genesis(_s: &dyn Storage) -> Result<NoGenesis, HookError> {
        Ok(NoGenesis {})
    }

    fn module_accounts() -> Vec<Addr> {
        vec![state::module_account()]
    }

    fn check_invariants(s: &dyn Storage) -> Result<(), String> {
        state::check_invariants(s)
    }

    fn decode_msg(any: &Any) -> Result<Option<DistributionMsg>, DistributionError> {
        DistributionMsg::decode(any)
    }

    fn execute(ctx: &mut Ctx<'_>, msg: &DistributionMsg) -> Result<Any, DistributionError> {
        msgs::execute(ctx, msg)
    }

    fn routes() -> &'static [Route] {
        &[
            Route {
                path: "/cosmos.distribution.v1beta1.Query/DelegationRewards",
                handler: |s, r| answer(query::delegation_rewards(s, r)),
            },
            Route {
                path: "/cosmos.distribution.v1beta1.Query/ValidatorCommission",
                handler: |s, r| answer(query::validator_commission(s, r)),
            },
            Route {
                path: "/cosmos.distribution.v1beta1.Query/CommunityPool",
                handler: |s, r| answer(query::community_pool(s, r)),
            },
        ]
    }

    /// The fee collector's balance (the previous block's fees) goes to the
    /// validators whose precommit for that block is in the decided last commit,
    /// pro rata to power.
    fn begin_block(s: &mut dyn Storage, b: &Block<'_>) -> Result<Vec<Event>, HookError> {
        let signers: Vec<SignedVote> = b
            .last_commit
            .iter()
            .filter(|v| v.flag == BlockIdFlag::Commit)
            .map(|v| SignedVote {
                consensus_address: v.address,
                power: v.power,
            })
            .collect();
        state::allocate_fees(s, &verdict_auth::fee_collector(), &signers)
            .map_err(|e| HookError::new(Self::NAME, "fee distribution", e))?;
        Ok(vec![])
    }
}

impl ModuleMsg for DistributionMsg {
    fn signer(&self) -> Addr {
        DistributionMsg::signer(self)
    }

    fn type_url(&self) -> &str {
        DistributionMsg::type_url(self)
    }
}
