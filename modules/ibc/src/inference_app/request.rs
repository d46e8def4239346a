//! Requesting side: `MsgRequestRemote` sends a request over an open
//! `inference` channel and escrows its fee in [`request_escrow`] until the
//! acknowledgement or timeout closes it (see `close`).

use cosmrs::Any as SdkAny;
use ibc::core::channel::handler::send_packet;
use ibc::core::channel::types::packet::Packet;
use ibc::core::channel::types::timeout::{TimeoutHeight, TimeoutTimestamp};
use ibc::core::handler::types::events::IbcEvent;
use ibc::core::host::types::identifiers::{ChannelId, PortId};
use ibc::core::host::types::path::{ChannelEndPath, SeqSendPath};
use ibc::core::host::ValidationContext;
use ibc::primitives::Timestamp;
use prost::Message;
use verdict_bank::Bank;
use verdict_core::address::{Addr, FEE_DENOM};
use verdict_core::ctx::Ctx;
use verdict_core::event::Event;
use verdict_inference::msgs::InferenceMsg;
use verdict_proto::inference::v1 as pb;

use super::state::{
    request_escrow, RemoteRequest, RemoteStatus, BY_REQUESTER, IN_FLIGHT, REQUESTS,
};
use crate::context::{HostInfo, IbcContext};
use crate::error::IbcError;
use crate::events::convert_events;
use crate::inference_packet::{InferenceRequest, MAX_REQUEST_BYTES};
use crate::inference_port::PORT;

/// Timeout of a request when `MsgRequestRemote` leaves it at 0.
pub const DEFAULT_TIMEOUT_SECONDS: u64 = 600;
/// Longest timeout a request may ask for (a week): the fee stays escrowed until then.
pub const MAX_TIMEOUT_SECONDS: u64 = 7 * 24 * 3600;

/// `MsgRequestRemote`, decoded and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRemote {
    pub requester: Addr,
    pub channel_id: ChannelId,
    pub request: InferenceRequest,
    pub timeout_seconds: u64,
}

impl RequestRemote {
    pub fn decode(value: &[u8]) -> Result<RequestRemote, IbcError> {
        let bad = |s: String| IbcError::Decode(format!("MsgRequestRemote: {s}"));
        let m = pb::MsgRequestRemote::decode(value).map_err(|e| bad(e.to_string()))?;
        let channel_id: ChannelId = m
            .channel_id
            .parse()
            .map_err(|e| bad(format!("channel_id {:?}: {e}", m.channel_id)))?;
        if m.timeout_seconds > MAX_TIMEOUT_SECONDS {
            return Err(bad(format!(
                "timeout_seconds {} is above the cap of {MAX_TIMEOUT_SECONDS}",
                m.timeout_seconds
            )));
        }
        // The same stateless checks as a local job's.
        let job = pb::MsgSubmitJob {
            requester: m.requester,
            model_id: m.model_id,
            inputs: m.inputs,
            max_latency_ms: m.max_latency_ms,
            fee: m.fee,
            spec_hash: String::new(),
        };
        let any = SdkAny {
            type_url: pb::MSG_SUBMIT_JOB_URL.into(),
            value: job.encode_to_vec(),
        };
        match InferenceMsg::decode(&any).map_err(|e| bad(e.to_string()))? {
            Some(InferenceMsg::SubmitJob {
                requester,
                model_id,
                inputs,
                max_latency_ms,
                fee,
                ..
            }) => Ok(RequestRemote {
                requester,
                channel_id,
                request: InferenceRequest {
                    model_id,
                    inputs,
                    max_latency_ms,
                    fee,
                    wait_final: m.wait_final,
                },
                timeout_seconds: if m.timeout_seconds == 0 {
                    DEFAULT_TIMEOUT_SECONDS
                } else {
                    m.timeout_seconds
                },
            }),
            _ => Err(bad("not a job".into())),
        }
    }
}

/// Sends a request over an open `inference` channel, escrowing its fee.
pub fn request(ctx: &mut Ctx<'_>, host: &HostInfo, m: &RequestRemote) -> Result<SdkAny, IbcError> {
    let data = packet_data(m)?;
    let timeout_nanos = host.timestamp.nanoseconds().saturating_add(
        m.timeout_seconds
            .saturating_mul(1_000_000_000)
            .min(u64::MAX / 2),
    );
    let (sequence, ibc_events) = send(ctx, host, &m.channel_id, data, timeout_nanos)?;
    Bank::transfer(
        ctx.store,
        &m.requester,
        &request_escrow(),
        std::slice::from_ref(&m.request.fee),
    )
    .map_err(|e| IbcError::Funds(e.to_string()))?;
    let ch = m.channel_id.as_str();
    record(ctx, m, sequence, timeout_nanos)?;
    let mut out = Vec::new();
    convert_events(ibc_events, &mut out)?;
    ctx.events.extend(out);
    ctx.emit(
        Event::new("inference_remote_request")
            .attr("channel_id", ch)
            .attr("sequence", sequence)
            .attr("requester", m.requester.bech32())
            .attr("model_id", &m.request.model_id)
            .attr("fee", &m.request.fee)
            .attr("timeout_timestamp", timeout_nanos),
    );
    Ok(SdkAny {
        type_url: format!("{}Response", pb::MSG_REQUEST_REMOTE_URL),
        value: pb::MsgRequestRemoteResponse {
            channel_id: ch.to_string(),
            sequence,
        }
        .encode_to_vec(),
    })
}

/// The packet data of `m`: a positive fee in the fee denom, within the packet cap.
fn packet_data(m: &RequestRemote) -> Result<Vec<u8>, IbcError> {
    if m.request.fee.denom != FEE_DENOM || m.request.fee.amount.is_zero() {
        return Err(IbcError::Decode(format!(
            "MsgRequestRemote: the fee must be a positive amount of {FEE_DENOM}, not {}",
            m.request.fee
        )));
    }
    let data = serde_json::to_vec(&m.request).map_err(|e| IbcError::Handler(e.to_string()))?;
    if data.len() > MAX_REQUEST_BYTES {
        return Err(IbcError::Decode(format!(
            "MsgRequestRemote: the request is {} bytes, above the packet cap of {MAX_REQUEST_BYTES}",
            data.len()
        )));
    }
    Ok(data)
}

/// Sends `data` over `channel` of port `inference` (which must be open): the
/// packet's sequence and ibc-rs's events.
fn send(
    ctx: &mut Ctx<'_>,
    host: &HostInfo,
    channel: &ChannelId,
    data: Vec<u8>,
    timeout_nanos: u64,
) -> Result<(u64, Vec<IbcEvent>), IbcError> {
    let handler = |e: String| IbcError::Handler(e);
    let port = PortId::new(PORT.to_string()).map_err(|e| handler(e.to_string()))?;
    let mut ibc = IbcContext::new(&mut *ctx.store, host.clone());
    let end = ibc
        .channel_end(&ChannelEndPath::new(&port, channel))
        .map_err(|_| handler(format!("no channel {channel} on port {PORT}")))?;
    if !end.is_open() {
        return Err(handler(format!(
            "channel {channel} on port {PORT} is not open"
        )));
    }
    let cp = end.counterparty();
    let cp_channel = cp
        .channel_id()
        .cloned()
        .ok_or_else(|| handler(format!("channel {channel} has no counterparty channel")))?;
    let seq = ibc
        .get_next_sequence_send(&SeqSendPath::new(&port, channel))
        .map_err(|e| handler(e.to_string()))?;
    let packet = Packet {
        seq_on_a: seq,
        port_id_on_a: port.clone(),
        chan_id_on_a: channel.clone(),
        port_id_on_b: cp.port_id().clone(),
        chan_id_on_b: cp_channel,
        data,
        timeout_height_on_b: TimeoutHeight::Never,
        timeout_timestamp_on_b: TimeoutTimestamp::At(Timestamp::from_nanoseconds(timeout_nanos)),
    };
    send_packet(&mut ibc, packet).map_err(|e| handler(e.to_string()))?;
    Ok((u64::from(seq), std::mem::take(&mut ibc.events)))
}

/// Records the pending request `m`, sent as `sequence`.
fn record(
    ctx: &mut Ctx<'_>,
    m: &RequestRemote,
    sequence: u64,
    timeout_nanos: u64,
) -> Result<(), IbcError> {
    let ch = m.channel_id.as_str();
    let record = RemoteRequest {
        channel_id: m.channel_id.to_string(),
        sequence,
        requester: m.requester.0,
        model_id: m.request.model_id.clone(),
        fee: m.request.fee.clone(),
        sent_height: ctx.block.height,
        timeout_timestamp_nanos: timeout_nanos,
        status: RemoteStatus::Pending,
        result: None,
        error: None,
        closed_height: 0,
    };
    REQUESTS
        .save(ctx.store, (ch, sequence), &record)
        .map_err(IbcError::storage)?;
    IN_FLIGHT
        .save(ctx.store, (ch, sequence), &())
        .map_err(IbcError::storage)?;
    BY_REQUESTER
        .save(ctx.store, (&m.requester.0, ch, sequence), &())
        .map_err(IbcError::storage)?;
    Ok(())
}
