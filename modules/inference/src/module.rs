//! inference as a [`Module`]: the model registry, paid jobs, the randomness
//! beacon and committee draws, the job fee floor.

use cosmrs::Any;
use cosmwasm_std::Storage;
use verdict_core::address::{Addr, FEE_DENOM};
use verdict_core::ctx::Ctx;
use verdict_core::module::{
    Block, EndBlock, HookError, Module, ModuleMsg, QueryAnswer, QueryError, Route,
};

use crate::error::InferenceError;
use crate::genesis::InferenceGenesis;
use crate::msgs::InferenceMsg;
use crate::{beacon, committee, handler, query, state};

pub struct Inference;

/// One `/verdict.inference.v1.Query/*` method (protobuf in and out, `query.proto`).
fn route(s: &dyn Storage, path: &str, data: &[u8]) -> QueryAnswer {
    match query::handle(s, path, data) {
        Ok(Some(v)) => Ok(v),
        Ok(None) => Err(QueryError::new(
            verdict_core::codes::UNKNOWN_REQUEST,
            "unknown request",
        )),
        Err(e) => Err(e.into()),
    }
}

macro_rules! inference_routes {
    ($($method:literal),*) => {
        &[$(Route {
            path: concat!("/verdict.inference.v1.Query/", $method),
            handler: |s, r| route(s, concat!("/verdict.inference.v1.Query/", $method), r),
        }),*]
    };
}

impl Module for Inference {
    const NAME: &'static str = "inference";
    type Genesis = InferenceGenesis;
    type Msg = InferenceMsg;
    type Error = InferenceError;

    fn validate_genesis(g: &InferenceGenesis) -> Result<(), String> {
        g.validate()
    }

    fn init_genesis(s: &mut dyn Storage, g: &InferenceGenesis) -> Result<(), HookError> {
        g.init(s)
            .map_err(|e| HookError::new(Self::NAME, "genesis", e))
    }

    /// The params (models and jobs enter state only by txs).
    fn export_genesis(s: &dyn Storage) -> Result<InferenceGenesis, HookError> {
        Ok(InferenceGenesis {
            params: state::params(s),
        })
    }

    fn module_accounts() -> Vec<Addr> {
        vec![state::escrow()]
    }

    fn check_invariants(s: &dyn Storage) -> Result<(), String> {
        state::check_invariants(s, FEE_DENOM)
    }

    fn decode_msg(any: &Any) -> Result<Option<InferenceMsg>, InferenceError> {
        InferenceMsg::decode(any)
    }

    fn execute(ctx: &mut Ctx<'_>, msg: &InferenceMsg) -> Result<Any, InferenceError> {
        handler::execute(ctx, msg)
    }

    fn routes() -> &'static [Route] {
        inference_routes!("Params", "Model", "Models", "Job", "Jobs", "Faults")
    }

    /// The beacon takes this block's proposer's contribution (an invalid one
    /// counts as none); then the jobs of the previous block get their
    /// committees from it — randomness their includer could not know. Then the
    /// job fee floor follows how full this block's job slots were, and settled
    /// jobs past their retention go (bounded per block).
    fn end_block(s: &mut dyn Storage, b: &Block<'_>) -> Result<EndBlock, HookError> {
        let height = b.info.height;
        let (reveal, anchor) = b.extensions.map_or((&[][..], &[][..]), |x| {
            (x.beacon_reveal.as_slice(), x.beacon_anchor.as_slice())
        });
        let seed = beacon::advance(s, height, b.proposer, reveal, anchor)
            .map_err(|e| HookError::new(Self::NAME, "beacon", e))?;
        let events = committee::assign(s, &seed, height)
            .map_err(|e| HookError::new(Self::NAME, "committees", e))?;
        state::update_job_fee_floor(s, height)
            .map_err(|e| HookError::new(Self::NAME, "job fee floor", e))?;
        state::prune_settled(s, height)
            .map_err(|e| HookError::new(Self::NAME, "pruning settled jobs", e))?;
        Ok(events.into())
    }
}

impl ModuleMsg for InferenceMsg {
    fn signer(&self) -> Addr {
        InferenceMsg::signer(self)
    }

    fn type_url(&self) -> &str {
        InferenceMsg::type_url(self)
    }
}
