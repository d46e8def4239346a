//! ibc as a [`Module`]: IBC core messages (run by ibc-rs), the host's own
//! consensus states, and the acknowledgements of inference jobs other chains
//! asked for.

use cosmwasm_std::Storage;
use verdict_core::address::Addr;
use verdict_core::codes;
use verdict_core::ctx::Ctx;
use verdict_core::event::Event;
use verdict_core::module::{
    Any, Block, EndBlock, HookError, Module, ModuleMsg, QueryAnswer, QueryError, Route,
};

use crate::error::IbcError;
use crate::genesis::IbcGenesis;
use crate::handler::{self, IbcMsg};
use crate::ica_host::IcaHostParams;
use crate::{host, ica_host, inference_app, transfer_app};

pub struct Ibc;

/// The inference queries this module answers (requests from other chains).
fn remote_route(s: &dyn Storage, path: &str, data: &[u8]) -> QueryAnswer {
    match inference_app::query(s, path, data) {
        Ok(Some(v)) => Ok(v),
        Ok(None) => Err(QueryError::new(codes::UNKNOWN_REQUEST, "unknown request")),
        Err(e) => Err(e),
    }
}

/// The ICS-20 queries this module answers.
fn transfer_route(s: &dyn Storage, path: &str, data: &[u8]) -> QueryAnswer {
    transfer_app::queries::query(s, path, data)
        .unwrap_or_else(|| Err(QueryError::new(codes::UNKNOWN_REQUEST, "unknown request")))
}

/// The interchain-accounts host's params query.
fn ica_route(s: &dyn Storage, _path: &str, _data: &[u8]) -> QueryAnswer {
    use ibc_proto::ibc::applications::interchain_accounts::host::v1 as pb;
    use prost::Message;
    let p = ica_host::params(s);
    Ok(pb::QueryParamsResponse {
        params: Some(pb::Params {
            host_enabled: p.host_enabled,
            allow_messages: p.allow_messages,
        }),
    }
    .encode_to_vec())
}

macro_rules! routes {
    ($($prefix:literal => $f:ident [$($method:literal),*]);*) => {
        &[$($(Route {
            path: concat!($prefix, $method),
            handler: |s, r| $f(s, concat!($prefix, $method), r),
        }),*),*]
    };
}

impl Module for Ibc {
    const NAME: &'static str = "ibc";
    type Genesis = IbcGenesis;
    type Msg = IbcMsg;
    type Error = IbcError;

    fn validate_genesis(g: &IbcGenesis) -> Result<(), String> {
        g.ica_host.as_ref().map_or(Ok(()), IcaHostParams::validate)
    }

    fn init_genesis(s: &mut dyn Storage, g: &IbcGenesis) -> Result<(), HookError> {
        crate::genesis::init(s);
        if let Some(p) = &g.ica_host {
            ica_host::state::PARAMS
                .save(s, p)
                .map_err(|e| HookError::new(Self::NAME, "genesis", e))?;
        }
        Ok(())
    }

    /// The host params when genesis set them; IBC state itself has no
    /// genesis form (a new chain opens new clients).
    fn export_genesis(s: &dyn Storage) -> Result<IbcGenesis, HookError> {
        Ok(IbcGenesis {
            ica_host: ica_host::state::PARAMS
                .may_load(s)
                .map_err(|e| HookError::new(Self::NAME, "export", e))?,
        })
    }

    fn module_accounts() -> Vec<Addr> {
        vec![inference_app::request_escrow()]
    }

    fn check_invariants(s: &dyn Storage) -> Result<(), String> {
        inference_app::check_invariants(s)?;
        transfer_app::check_invariants(s)?;
        ica_host::check_invariants(s)
    }

    fn decode_msg(any: &Any) -> Result<Option<IbcMsg>, IbcError> {
        IbcMsg::decode(any)
    }

    fn execute(ctx: &mut Ctx<'_>, msg: &IbcMsg) -> Result<Any, IbcError> {
        handler::execute(ctx, msg)
    }

    fn routes() -> &'static [Route] {
        routes!(
            "/verdict.inference.v1.Query/" => remote_route
                ["RemoteRequest", "RemoteRequests", "ChannelPayer"];
            "/ibc.applications.transfer.v1.Query/" => transfer_route
                ["DenomTrace", "DenomTraces", "DenomHash", "EscrowAddress", "TotalEscrowForDenom", "Params"];
            "/ibc.applications.interchain_accounts.host.v1.Query/" => ica_route ["Params"]
        )
    }

    /// This block's header as a host consensus state (what counterparties'
    /// clients of this chain verify against).
    fn begin_block(s: &mut dyn Storage, b: &Block<'_>) -> Result<Vec<Event>, HookError> {
        host::record_block(
            s,
            &host::BlockCommitment {
                height: b.info.height,
                time_seconds: b.info.time_seconds,
                time_nanos: b.info.time_nanos,
                app_hash: b.header_app_hash,
                next_validators_hash: b.next_validators_hash,
            },
        )
        .map_err(|e| HookError::new(Self::NAME, "host consensus state", e))?;
        Ok(vec![])
    }

    /// Acknowledgements of jobs requested over IBC that settled (or expired) in
    /// this block. A chain id that is no ICS-24 chain id has no IBC, so no
    /// served jobs.
    fn end_block(s: &mut dyn Storage, b: &Block<'_>) -> Result<EndBlock, HookError> {
        let Ok(host) = handler::host_info(s, b.info) else {
            return Ok(EndBlock::default());
        };
        let events = inference_app::write_settled_acks(s, &host)
            .map_err(|e| HookError::new(Self::NAME, "acknowledgements", e))?;
        Ok(events.into())
    }
}

impl ModuleMsg for IbcMsg {
    fn signer(&self) -> Addr {
        self.signer
    }

    fn type_url(&self) -> &str {
        &self.type_url
    }
}
