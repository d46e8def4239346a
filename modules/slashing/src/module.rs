//! slashing as a [`Module`]: liveness over the decided last commit, double
//! signs from CometBFT's evidence, and `MsgUnjail`.

use cosmrs::proto::cosmos::slashing::v1beta1::MsgUnjail;
use cosmrs::Any;
use cosmwasm_std::Storage;
use prost::Message;
use serde::{Deserialize, Serialize};
use verdict_core::address::Addr;
use verdict_core::ctx::Ctx;
use verdict_core::event::Event;
use verdict_core::module::{answer, Block, BlockIdFlag, HookError, Module, ModuleMsg, Route};

use crate::error::SlashingError;
use crate::liveness::CommitVote;
use crate::params::SlashingParams;
use crate::query;
use crate::state::keys::PARAMS;

pub const MSG_UNJAIL_URL: &str = "/cosmos.slashing.v1beta1.MsgUnjail";
const MSG_UNJAIL_RESPONSE_URL: &str = "/cosmos.slashing.v1beta1.MsgUnjailResponse";

/// The `slashing` genesis section.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlashingGenesis {
    #[serde(default)]
    pub params: SlashingParams,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlashingMsg {
    /// `MsgUnjail{validator_addr}` (a valoper address).
    Unjail(Addr),
}

impl ModuleMsg for SlashingMsg {
    fn signer(&self) -> Addr {
        match self {
            SlashingMsg::Unjail(op) => *op,
        }
    }

    fn type_url(&self) -> &str {
        MSG_UNJAIL_URL
    }
}

pub struct Slashing;

impl Module for Slashing {
    const NAME: &'static str = "slashing";
    type Genesis = SlashingGenesis;
    type Msg = SlashingMsg;
    type Error = SlashingError;

    fn validate_genesis(g: &SlashingGenesis) -> Result<(), String> {
        g.params.validate()
    }

    fn init_genesis(s: &mut dyn Storage, g: &SlashingGenesis) -> Result<(), HookError> {
        PARAMS
            .save(s, &g.params)
            .map_err(|e| HookError::new(Self::NAME, "genesis", e))
    }

    fn export_genesis(s: &dyn Storage) -> Result<SlashingGenesis, HookError> {
        Ok(SlashingGenesis {
            params: crate::state::params(s),
        })
    }

    fn decode_msg(any: &Any) -> Result<Option<SlashingMsg>, SlashingError> {
        if any.type_url != MSG_UNJAIL_URL {
            return Ok(None);
        }
        let m = MsgUnjail::decode(any.value.as_slice())
            .map_err(|e| SlashingError::Decode(format!("bad MsgUnjail: {e}")))?;
        let op = Addr::parse_valoper(&m.validator_addr)
            .map_err(|e| SlashingError::MsgAddress(format!("validator_addr: {e}")))?;
        Ok(Some(SlashingMsg::Unjail(op)))
    }

    fn execute(ctx: &mut Ctx<'_>, msg: &SlashingMsg) -> Result<Any, SlashingError> {
        let SlashingMsg::Unjail(op) = msg;
        crate::unjail::unjail(ctx.store, op, ctx.block.time_seconds)?;
        ctx.emit(Event::new("unjail").attr("validator", op.valoper()));
        Ok(Any {
            type_url: MSG_UNJAIL_RESPONSE_URL.into(),
            value: vec![],
        })
    }

    fn routes() -> &'static [Route] {
        &[
            Route {
                path: "/cosmos.slashing.v1beta1.Query/SigningInfo",
                handler: |s, r| answer(query::signing_info(s, r)),
            },
            Route {
                path: "/cosmos.slashing.v1beta1.Query/SigningInfos",
                handler: |s, r| answer(query::signing_infos(s, r)),
            },
            Route {
                path: "/cosmos.slashing.v1beta1.Query/Params",
                handler: |s, r| answer(query::params_query(s, r)),
            },
        ]
    }

    /// Liveness over the decided last commit, then CometBFT's evidence.
    fn begin_block(s: &mut dyn Storage, b: &Block<'_>) -> Result<Vec<Event>, HookError> {
        let votes: Vec<CommitVote> = b
            .last_commit
            .iter()
            .map(|v| CommitVote {
                consensus_address: v.address,
                power: v.power,
                // Absent votes are missed; commit and nil votes count as signed.
                signed: v.flag != BlockIdFlag::Absent,
            })
            .collect();
        let mut events =
            crate::liveness::handle_commit(s, b.info.height, b.info.time_seconds, &votes)
                .map_err(|e| HookError::new(Self::NAME, "liveness", e))?;
        for m in b.misbehavior {
            events.extend(
                crate::evidence::handle_double_sign(
                    s,
                    &m.address,
                    // Power at H reflects state after H-1: entries created from
                    // H-1 on answer for the infraction (the SDK's distribution height).
                    u64::try_from(m.height.saturating_sub(1)).unwrap_or(0),
                    u64::try_from(m.power).unwrap_or(0),
                )
                .map_err(|e| HookError::new(Self::NAME, "evidence", e))?,
            );
        }
        Ok(events)
    }
}
