//! IBC messages in transactions: decoded once into [`IbcMsg`], executed by
//! ibc-rs's `dispatch` (validate, then execute) over an [`IbcContext`] on the
//! transaction's metered view, with ibc-rs's events turned into indexed ABCI
//! events.
//!
//! Served: ICS-02 client messages (create, update, misbehaviour, upgrade), the
//! ICS-03 connection handshake, the ICS-04 channel handshake and packets
//! (receive, acknowledgement, timeout, timeout on close), routed to the
//! applications of [`crate::router::Applications`] (ports `inference` and
//! `transfer`; the inference port's queued work [`crate::inference_app::apply`]
//! does after the dispatch); ICS-20's `MsgTransfer`; and the inference
//! application's own `MsgRequestRemote`.

use cosmrs::Any as SdkAny;
use ibc::core::channel::types::msgs::{ChannelMsg, PacketMsg};
use ibc::core::client::types::msgs::ClientMsg;
use ibc::core::client::types::msgs::{RECOVER_CLIENT_TYPE_URL, UPGRADE_CLIENT_TYPE_URL};
use ibc::core::connection::types::msgs::ConnectionMsg;
use ibc::core::entrypoint::dispatch;
use ibc::core::handler::types::msgs::MsgEnvelope;
use ibc::primitives::proto::Any;
use verdict_core::address::Addr;
use verdict_core::ctx::{BlockInfo, Ctx};

use crate::context::{HostInfo, IbcContext};
use crate::error::{BlockDataError, IbcError};
use crate::events::convert_events;
use crate::ica_host;
use crate::inference_app::{self, ReclaimRemote, RequestRemote};
use crate::router::Applications;
use crate::shared::{SharedStore, StoreCell};
use crate::transfer_app::{self, TransferMsg};

/// Type URLs of IBC core messages start with this.
pub const IBC_CORE_PREFIX: &str = "/ibc.core.";

/// A decoded IBC message: its `Any` (decoded again by ibc-rs when it runs) and
/// the account that must sign it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IbcMsg {
    pub type_url: String,
    pub value: Vec<u8>,
    pub signer: Addr,
}

impl IbcMsg {
    /// `Ok(None)` for a message that is not IBC core's; an error for an IBC
    /// message that does not decode, has a bad signer, or is not served.
    pub fn decode(any: &SdkAny) -> Result<Option<IbcMsg>, IbcError> {
        if let Some(signer) = app_msg_signer(any)? {
            return Ok(Some(IbcMsg {
                type_url: any.type_url.clone(),
                value: any.value.clone(),
                signer,
            }));
        }
        if !any.type_url.starts_with(IBC_CORE_PREFIX) {
            return Ok(None);
        }
        // ibc-rs checks no authority for these (ibc-go gives them to
        // governance): whoever sent one could swap an expired or frozen client
        // for one of their own chain (security review H-1). Refused until the
        // chain has an authority.
        if matches!(
            any.type_url.as_str(),
            RECOVER_CLIENT_TYPE_URL | UPGRADE_CLIENT_TYPE_URL
        ) {
            return Err(IbcError::Unauthorized(format!(
                "{} can only be run by a governance authority, which this chain does not have yet: unauthorized",
                any.type_url
            )));
        }
        let env = envelope(&any.type_url, &any.value)?;
        let signer = match &env {
            MsgEnvelope::Client(m) => match m {
                ClientMsg::CreateClient(m) => &m.signer,
                ClientMsg::UpdateClient(m) => &m.signer,
                // Deprecated in favour of MsgUpdateClient, still a message relayers send.
                #[allow(deprecated)]
                ClientMsg::Misbehaviour(m) => &m.signer,
                ClientMsg::UpgradeClient(m) => &m.signer,
                ClientMsg::RecoverClient(m) => &m.signer,
            },
            MsgEnvelope::Connection(m) => match m {
                ConnectionMsg::OpenInit(m) => &m.signer,
                ConnectionMsg::OpenTry(m) => &m.signer,
                ConnectionMsg::OpenAck(m) => &m.signer,
                ConnectionMsg::OpenConfirm(m) => &m.signer,
            },
            MsgEnvelope::Channel(m) => match m {
                ChannelMsg::OpenInit(m) => &m.signer,
                ChannelMsg::OpenTry(m) => &m.signer,
                ChannelMsg::OpenAck(m) => &m.signer,
                ChannelMsg::OpenConfirm(m) => &m.signer,
                ChannelMsg::CloseInit(m) => &m.signer,
                ChannelMsg::CloseConfirm(m) => &m.signer,
            },
            MsgEnvelope::Packet(m) => match m {
                PacketMsg::Recv(m) => &m.signer,
                PacketMsg::Ack(m) => &m.signer,
                PacketMsg::Timeout(m) => &m.signer,
                PacketMsg::TimeoutOnClose(m) => &m.signer,
            },
        };
        let signer = Addr::parse(signer.as_ref())
            .map_err(|e| IbcError::Decode(format!("signer {:?}: {e}", signer.as_ref())))?;
        Ok(Some(IbcMsg {
            type_url: any.type_url.clone(),
            value: any.value.clone(),
            signer,
        }))
    }
}

/// The signer of an application message this module runs itself
/// (`MsgRequestRemote`, `MsgReclaimRemote`, ICS-20's `MsgTransfer`), or `None`
/// for any other message.
fn app_msg_signer(any: &SdkAny) -> Result<Option<Addr>, IbcError> {
    Ok(Some(match any.type_url.as_str() {
        verdict_proto::inference::v1::MSG_REQUEST_REMOTE_URL => {
            RequestRemote::decode(&any.value)?.requester
        }
        verdict_proto::inference::v1::MSG_RECLAIM_REMOTE_URL => {
            ReclaimRemote::decode(&any.value)?.requester
        }
        transfer_app::MSG_TRANSFER_URL => TransferMsg::decode(&any.value)?.sender,
        _ => return Ok(None),
    }))
}

fn envelope(type_url: &str, value: &[u8]) -> Result<MsgEnvelope, IbcError> {
    MsgEnvelope::try_from(Any {
        type_url: type_url.to_string(),
        value: value.to_vec(),
    })
    .map_err(|e| IbcError::Decode(format!("{type_url}: {e}")))
}

/// This block's host facts for ibc-rs.
pub fn host_info(
    store: &dyn cosmwasm_std::Storage,
    block: &BlockInfo,
) -> Result<HostInfo, BlockDataError> {
    let unbonding = verdict_staking::state::params(store).unbonding_time_seconds;
    HostInfo::new(
        &block.chain_id,
        block.height,
        block.time_seconds,
        block.time_nanos,
        unbonding,
    )
}

/// Runs one IBC message. On error nothing it wrote counts: the tx pipeline
/// drops the message overlay.
pub fn execute(ctx: &mut Ctx<'_>, msg: &IbcMsg) -> Result<SdkAny, IbcError> {
    let host = host_info(ctx.store, ctx.block)?;
    if msg.type_url == verdict_proto::inference::v1::MSG_REQUEST_REMOTE_URL {
        let m = RequestRemote::decode(&msg.value)?;
        return inference_app::request(ctx, &host, &m);
    }
    if msg.type_url == verdict_proto::inference::v1::MSG_RECLAIM_REMOTE_URL {
        let m = ReclaimRemote::decode(&msg.value)?;
        return inference_app::reclaim(ctx, &host, &m);
    }
    if msg.type_url == transfer_app::MSG_TRANSFER_URL {
        return transfer_app::send(ctx, &host, &TransferMsg::decode(&msg.value)?);
    }
    let env = envelope(&msg.type_url, &msg.value)?;
    // ibc-rs's core context and ICS-20's token context share the view.
    let blocked = ctx.router.map(|r| r.blocked_recipients());
    let cell: StoreCell<'_> = std::cell::RefCell::new(&mut *ctx.store);
    let (events, bank_events, inference_events, ica_packets) = {
        let mut core_view = SharedStore::new(&cell);
        let mut apps = Applications::new(SharedStore::new(&cell), blocked);
        let mut ibc_ctx = IbcContext::new(&mut core_view, host.clone());
        dispatch(&mut ibc_ctx, &mut apps, env).map_err(|e| IbcError::Handler(e.to_string()))?;
        (
            std::mem::take(&mut ibc_ctx.events),
            std::mem::take(&mut apps.transfer.token.events),
            std::mem::take(&mut apps.inference.events),
            std::mem::take(&mut apps.ica_host.packets),
        )
    };
    let mut out = Vec::new();
    convert_events(events, &mut out)?;
    ctx.events.extend(out);
    ctx.events.extend(bank_events);
    inference_app::apply(ctx, &host, inference_events)?;
    ica_host::execute_packets(ctx, &host, ica_packets)?;
    Ok(SdkAny {
        type_url: format!("{}Response", msg.type_url),
        value: vec![],
    })
}
