//! The inference IBC application's state, and the work its port callbacks
//! cannot do themselves (ibc-rs gives a [`crate::inference_port::InferenceModule`]
//! no store): what they queue is applied by [`apply`] right after ibc-rs's
//! dispatch, inside the same message, so it commits or fails with it.
//!
//! Serving side (a request arrives on this chain):
//! - a packet that does not decode is answered at once with an error
//!   acknowledgement (by the port callback);
//! - otherwise the request becomes a job exactly as `MsgSubmitJob` would make
//!   it, paid by the channel's payer account [`payer`] (an ordinary account no
//!   key controls, funded with plain bank sends by whoever operates the
//!   channel). A request `MsgSubmitJob` would refuse (unknown model, bad inputs,
//!   latency out of range, fee too low, payer short of funds, block full) is
//!   answered at once with an error acknowledgement, and nothing else changes;
//! - the job's acknowledgement is written when it settles
//!   ([`write_settled_acks`], end of FinalizeBlock): its result (output,
//!   agreeing power, finalizing height), or an error when it failed or expired,
//!   in which case the fee went back to the payer account.
//!
//! Requesting side ([`request`], `MsgRequestRemote`): the fee is escrowed from
//! the requester in [`request_escrow`] and the packet sent; a result
//! acknowledgement pays the escrowed fee into the community pool (the chain's
//! budget for keeping the serving chain's payer account funded: moving tokens
//! between chains is ICS-20's business, not this application's), an error
//! acknowledgement or a timeout refunds it. Each request's outcome is kept and
//! served by the `RemoteRequest`/`RemoteRequests` queries.

use cosmrs::Any as SdkAny;
use cosmwasm_std::{Binary, Order, Storage};
use cw_storage_plus::Map;
use ibc::core::channel::handler::{
    commit_packet_acknowledgment, emit_packet_acknowledgement_event, send_packet,
};
use ibc::core::channel::types::acknowledgement::Acknowledgement;
use ibc::core::channel::types::packet::Packet;
use ibc::core::channel::types::proto::v1::Packet as RawPacket;
use ibc::core::channel::types::timeout::{TimeoutHeight, TimeoutTimestamp};
use ibc::core::handler::types::events::IbcEvent;
use ibc::core::host::types::identifiers::{ChannelId, PortId};
use ibc::core::host::types::path::{ChannelEndPath, SeqSendPath};
use ibc::core::host::ValidationContext;
use ibc::primitives::Timestamp;
use prost::Message;
use serde::{Deserialize, Serialize};
use verdict_bank::Bank;
use verdict_core::address::{Addr, FEE_DENOM};
use verdict_core::coin::Coin;
use verdict_core::ctx::Ctx;
use verdict_core::event::Event;
use verdict_core::storage::{Layered, Overlay};
use verdict_inference::msgs::InferenceMsg;
use verdict_inference::state::{self as inf, Addr20, JobStatus};
use verdict_proto::inference::v1 as pb;

use crate::context::{HostInfo, IbcContext};
use crate::error::IbcError;
use crate::inference_packet::{InferenceAck, InferenceRequest, InferenceResult, MAX_REQUEST_BYTES};
use crate::inference_port::PORT;

/// Timeout of a request when `MsgRequestRemote` leaves it at 0.
pub const DEFAULT_TIMEOUT_SECONDS: u64 = 600;
/// Longest timeout a request may ask for (a week): the fee stays escrowed until then.
pub const MAX_TIMEOUT_SECONDS: u64 = 7 * 24 * 3600;

/// The account that pays for the jobs requested over `channel_id` of port
/// `inference` on this (serving) chain. Anyone may fund it with a bank send;
/// only jobs spend from it, and failed jobs refund to it.
pub fn payer(channel_id: &str) -> Addr {
    Addr::module(&format!("ibc-inference/{channel_id}"))
}

/// Escrow of the fees of this chain's requests still in flight.
pub fn request_escrow() -> Addr {
    Addr::module("ibc-inference-requests")
}

/// Serving side: job id → the packet (`ibc.core.channel.v1.Packet` bytes) whose
/// acknowledgement the job's settlement writes.
pub const SERVED: Map<u64, Binary> = Map::new("ibc_inference/served");
/// Requesting side: (channel, sequence) → the request and its outcome.
pub const REQUESTS: Map<(&str, u64), RemoteRequest> = Map::new("ibc_inference/requests");
/// Requests still waiting for an acknowledgement or a timeout.
pub const IN_FLIGHT: Map<(&str, u64), ()> = Map::new("ibc_inference/in_flight");
/// (requester, channel, sequence) → (): a requester's requests.
pub const BY_REQUESTER: Map<(&[u8], &str, u64), ()> = Map::new("ibc_inference/by_requester");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RemoteStatus {
    /// Sent, no acknowledgement or timeout yet.
    Pending,
    /// The serving chain's committee finalized a result.
    Completed,
    /// An error acknowledgement (refused request, failed or expired job): refunded.
    Failed,
    /// The packet timed out before it was received: refunded.
    TimedOut,
}

/// A request this chain sent, as the queries show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteRequest {
    pub channel_id: String,
    pub sequence: u64,
    pub requester: Addr20,
    pub model_id: String,
    pub fee: Coin,
    pub sent_height: u64,
    pub timeout_timestamp_nanos: u64,
    pub status: RemoteStatus,
    pub result: Option<InferenceResult>,
    pub error: Option<String>,
    /// Height of the acknowledgement or timeout (0 while pending).
    pub closed_height: u64,
}

/// What the port callbacks saw during one IBC message.
#[derive(Debug, Clone)]
pub enum PortEvent {
    /// A request that decodes, received without an acknowledgement yet.
    Request {
        packet: Packet,
        request: InferenceRequest,
    },
    /// The acknowledgement of one of this chain's requests.
    Ack { packet: Packet, ack: Vec<u8> },
    /// One of this chain's requests timed out.
    Timeout { packet: Packet },
}

fn storage(e: impl std::fmt::Display) -> IbcError {
    IbcError::Handler(format!("storage: {e}"))
}

/// ibc-rs events as this chain's indexed events.
pub(crate) fn convert_events(events: Vec<IbcEvent>, out: &mut Vec<Event>) -> Result<(), String> {
    for ev in events {
        let abci = tendermint::abci::Event::try_from(ev).map_err(|e| format!("event: {e}"))?;
        let mut e = Event::new(&abci.kind);
        for a in &abci.attributes {
            e = e.attr(
                &String::from_utf8_lossy(a.key_bytes()),
                String::from_utf8_lossy(a.value_bytes()),
            );
        }
        out.push(e);
    }
    Ok(())
}

/// Applies what the port callbacks queued, in order.
pub fn apply(ctx: &mut Ctx<'_>, host: &HostInfo, events: Vec<PortEvent>) -> Result<(), IbcError> {
    for ev in events {
        match ev {
            PortEvent::Request { packet, request } => serve(ctx, host, packet, request)?,
            PortEvent::Ack { packet, ack } => close(ctx, &packet, Outcome::Ack(ack))?,
            PortEvent::Timeout { packet } => close(ctx, &packet, Outcome::Timeout)?,
        }
    }
    Ok(())
}

/// Writes `ack` for `packet` (received on this chain) and its
/// `write_acknowledgement` event.
pub fn write_ack(
    store: &mut dyn Storage,
    host: &HostInfo,
    packet: Packet,
    ack: &InferenceAck,
) -> Result<Vec<Event>, String> {
    let acknowledgement =
        Acknowledgement::try_from(ack.to_bytes()).map_err(|e| format!("acknowledgement: {e}"))?;
    let mut ibc = IbcContext::new(store, host.clone());
    commit_packet_acknowledgment(&mut ibc, &packet, &acknowledgement)
        .map_err(|e| format!("acknowledgement: {e}"))?;
    emit_packet_acknowledgement_event(&mut ibc, packet, acknowledgement)
        .map_err(|e| format!("acknowledgement event: {e}"))?;
    let mut out = Vec::new();
    convert_events(std::mem::take(&mut ibc.events), &mut out)?;
    Ok(out)
}

/// A received request becomes a job paid by the channel's payer, or is
/// answered with an error acknowledgement that says why not.
fn serve(
    ctx: &mut Ctx<'_>,
    host: &HostInfo,
    packet: Packet,
    request: InferenceRequest,
) -> Result<(), IbcError> {
    let payer = payer(packet.chan_id_on_b.as_str());
    let msg = InferenceMsg::SubmitJob {
        requester: payer,
        model_id: request.model_id.clone(),
        inputs: request.inputs,
        max_latency_ms: request.max_latency_ms,
        fee: request.fee,
        remote: true,
        spec_hash: None,
    };
    // The job is created in its own overlay: a refusal leaves nothing behind
    // but the error acknowledgement.
    let mut ov = Overlay::new();
    let mut job_events = Vec::new();
    let res = {
        let mut layered = Layered::new(&*ctx.store, &mut ov);
        let mut sub = Ctx {
            store: &mut layered,
            gas: ctx.gas,
            events: &mut job_events,
            block: ctx.block,
        };
        verdict_inference::handler::execute(&mut sub, &msg)
    };
    let channel = packet.chan_id_on_b.to_string();
    let sequence = u64::from(packet.seq_on_a);
    match res {
        Ok(resp) => {
            for (k, v) in ov {
                match v {
                    Some(v) => ctx.store.set(&k, &v),
                    None => ctx.store.remove(&k),
                }
            }
            ctx.events.extend(job_events);
            let job_id = pb::MsgSubmitJobResponse::decode(resp.value.as_slice())
                .map_err(|e| IbcError::Handler(format!("job response: {e}")))?
                .job_id;
            SERVED
                .save(
                    ctx.store,
                    job_id,
                    &Binary::from(RawPacket::from(packet).encode_to_vec()),
                )
                .map_err(storage)?;
            ctx.emit(
                Event::new("inference_remote_job")
                    .attr("job_id", job_id)
                    .attr("channel_id", &channel)
                    .attr("sequence", sequence)
                    .attr("payer", payer.bech32()),
            );
        }
        Err(e) => {
            let reason = format!("request refused: {e}");
            let events = write_ack(
                ctx.store,
                host,
                packet,
                &InferenceAck::Error(reason.clone()),
            )
            .map_err(IbcError::Handler)?;
            ctx.events.extend(events);
            ctx.emit(
                Event::new("inference_remote_refused")
                    .attr("channel_id", &channel)
                    .attr("sequence", sequence)
                    .attr("reason", reason),
            );
        }
    }
    Ok(())
}

/// End of FinalizeBlock: the acknowledgement of every served job that is now
/// final. A packet whose acknowledgement cannot be written (its channel end is
/// gone) is dropped with an `inference_remote_ack_failed` event rather than
/// halting the chain.
pub fn write_settled_acks(s: &mut dyn Storage, host: &HostInfo) -> Result<Vec<Event>, String> {
    // Keys only: a live job's packet is not loaded until its job is final.
    let served: Vec<u64> = SERVED
        .keys(s, None, None, Order::Ascending)
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for job_id in served {
        let job = inf::JOBS.may_load(s, job_id).map_err(|e| e.to_string())?;
        let ack = match &job {
            Some(j) if !j.status.is_final() => continue,
            Some(j) => match (j.status, &j.result) {
                (JobStatus::Completed, Some(r)) => {
                    let nano = inf::MODELS
                        .may_load(s, &j.model_id)
                        .map_err(|e| e.to_string())?
                        .map_or(0, |m| m.tolerance_nano);
                    InferenceAck::from_result(r, nano)
                }
                (JobStatus::Expired, _) => InferenceAck::Error(format!(
                    "job {job_id} expired: no validator could serve it"
                )),
                (_, Some(r)) => InferenceAck::Error(format!(
                    "job {job_id} failed: {} of {} committee power agreed (more than 2/3 needed)",
                    r.agreeing_power, r.committee_power
                )),
                (_, None) => InferenceAck::Error(format!("job {job_id} failed")),
            },
            None => InferenceAck::Error(format!("job {job_id} is gone")),
        };
        let raw = SERVED.may_load(s, job_id).map_err(|e| e.to_string())?;
        SERVED.remove(s, job_id);
        let written = raw
            .ok_or_else(|| "packet record is gone".to_string())
            .and_then(|raw| RawPacket::decode(raw.as_slice()).map_err(|e| e.to_string()))
            .and_then(|p| Packet::try_from(p).map_err(|e| e.to_string()))
            .and_then(|packet| {
                // As ibc-go's WriteAcknowledgement: only on an open channel (a
                // counterparty may have closed it meanwhile; nobody could relay it).
                let open = IbcContext::new(&mut *s, host.clone())
                    .channel_end(&ChannelEndPath::new(
                        &packet.port_id_on_b,
                        &packet.chan_id_on_b,
                    ))
                    .map(|end| end.is_open())
                    .unwrap_or(false);
                if open {
                    write_ack(s, host, packet, &ack)
                } else {
                    Err(format!("channel {} is not open", packet.chan_id_on_b))
                }
            });
        match written {
            Ok(ev) => out.extend(ev),
            Err(e) => out.push(
                Event::new("inference_remote_ack_failed")
                    .attr("job_id", job_id)
                    .attr("error", e),
            ),
        }
    }
    Ok(out)
}

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
    let handler = |e: String| IbcError::Handler(e);
    if m.request.fee.denom != FEE_DENOM || m.request.fee.amount.is_zero() {
        return Err(IbcError::Decode(format!(
            "MsgRequestRemote: the fee must be a positive amount of {FEE_DENOM}, not {}",
            m.request.fee
        )));
    }
    let data = serde_json::to_vec(&m.request).map_err(|e| handler(e.to_string()))?;
    if data.len() > MAX_REQUEST_BYTES {
        return Err(IbcError::Decode(format!(
            "MsgRequestRemote: the request is {} bytes, above the packet cap of {MAX_REQUEST_BYTES}",
            data.len()
        )));
    }
    let port = PortId::new(PORT.to_string()).map_err(|e| handler(e.to_string()))?;
    let channel = m.channel_id.clone();
    let timeout_nanos = host.timestamp.nanoseconds().saturating_add(
        m.timeout_seconds
            .saturating_mul(1_000_000_000)
            .min(u64::MAX / 2),
    );
    let (sequence, ibc_events) = {
        let mut ibc = IbcContext::new(&mut *ctx.store, host.clone());
        let end = ibc
            .channel_end(&ChannelEndPath::new(&port, &channel))
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
            .get_next_sequence_send(&SeqSendPath::new(&port, &channel))
            .map_err(|e| handler(e.to_string()))?;
        let packet = Packet {
            seq_on_a: seq,
            port_id_on_a: port.clone(),
            chan_id_on_a: channel.clone(),
            port_id_on_b: cp.port_id().clone(),
            chan_id_on_b: cp_channel,
            data,
            timeout_height_on_b: TimeoutHeight::Never,
            timeout_timestamp_on_b: TimeoutTimestamp::At(Timestamp::from_nanoseconds(
                timeout_nanos,
            )),
        };
        send_packet(&mut ibc, packet).map_err(|e| handler(e.to_string()))?;
        (u64::from(seq), std::mem::take(&mut ibc.events))
    };
    Bank::transfer(
        ctx.store,
        &m.requester,
        &request_escrow(),
        std::slice::from_ref(&m.request.fee),
    )
    .map_err(|e| IbcError::Funds(e.to_string()))?;
    let record = RemoteRequest {
        channel_id: channel.to_string(),
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
    let ch = channel.as_str();
    REQUESTS
        .save(ctx.store, (ch, sequence), &record)
        .map_err(storage)?;
    IN_FLIGHT
        .save(ctx.store, (ch, sequence), &())
        .map_err(storage)?;
    BY_REQUESTER
        .save(ctx.store, (&m.requester.0, ch, sequence), &())
        .map_err(storage)?;
    let mut out = Vec::new();
    convert_events(ibc_events, &mut out).map_err(handler)?;
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

/// How long after its timeout a request whose channel is still open may be
/// reclaimed: the serving chain settles a job within its attestation window (a
/// minute on the default params) and relayers deliver the acknowledgement
/// shortly after, so a day without one means it is withheld.
pub const RECLAIM_GRACE_SECONDS: u64 = 24 * 3600;

/// `MsgReclaimRemote`, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReclaimRemote {
    pub requester: Addr,
    pub channel_id: ChannelId,
    pub sequence: u64,
}

impl ReclaimRemote {
    pub fn decode(value: &[u8]) -> Result<ReclaimRemote, IbcError> {
        let bad = |s: String| IbcError::Decode(format!("MsgReclaimRemote: {s}"));
        let m = pb::MsgReclaimRemote::decode(value).map_err(|e| bad(e.to_string()))?;
        let requester = Addr::parse(&m.requester).map_err(|e| bad(format!("requester: {e}")))?;
        let channel_id: ChannelId = m
            .channel_id
            .parse()
            .map_err(|e| bad(format!("channel_id {:?}: {e}", m.channel_id)))?;
        Ok(ReclaimRemote {
            requester,
            channel_id,
            sequence: m.sequence,
        })
    }
}

/// Refunds a pending request that can no longer be answered (see
/// [`RECLAIM_GRACE_SECONDS`]). An acknowledgement or timeout that still arrives
/// afterwards finds the request closed and moves nothing.
pub fn reclaim(ctx: &mut Ctx<'_>, host: &HostInfo, m: &ReclaimRemote) -> Result<SdkAny, IbcError> {
    let refused = |s: String| IbcError::Handler(s);
    let ch = m.channel_id.as_str();
    let r = REQUESTS
        .may_load(ctx.store, (ch, m.sequence))
        .map_err(storage)?
        .ok_or_else(|| refused(format!("no request {} on {ch}", m.sequence)))?;
    if r.requester != m.requester.0 {
        return Err(refused("only the requester may reclaim a request".into()));
    }
    if r.status != RemoteStatus::Pending {
        return Err(refused(format!(
            "request {} on {ch} is already closed ({:?})",
            m.sequence, r.status
        )));
    }
    let now = host.timestamp.nanoseconds();
    if now <= r.timeout_timestamp_nanos {
        return Err(refused(format!(
            "request {} on {ch} has not timed out yet: relay its packet or wait",
            m.sequence
        )));
    }
    let port = PortId::new(PORT.to_string()).map_err(|e| refused(e.to_string()))?;
    let open = IbcContext::new(&mut *ctx.store, host.clone())
        .channel_end(&ChannelEndPath::new(&port, &m.channel_id))
        .map(|end| end.is_open())
        .unwrap_or(false);
    let grace_over = now
        > r.timeout_timestamp_nanos
            .saturating_add(RECLAIM_GRACE_SECONDS.saturating_mul(1_000_000_000));
    if open && !grace_over {
        return Err(refused(format!(
            "channel {ch} is open: relay the packet's timeout or acknowledgement, or wait {RECLAIM_GRACE_SECONDS} s past the timeout"
        )));
    }
    let packet_ref = RemoteRef {
        channel: ch.to_string(),
        sequence: m.sequence,
    };
    finish(ctx, packet_ref, Outcome::Reclaimed)?;
    Ok(SdkAny {
        type_url: format!("{}Response", pb::MSG_RECLAIM_REMOTE_URL),
        value: vec![],
    })
}

enum Outcome {
    Ack(Vec<u8>),
    Timeout,
    Reclaimed,
}

struct RemoteRef {
    channel: String,
    sequence: u64,
}

/// Records the acknowledgement or timeout of one of this chain's requests and
/// moves its escrowed fee: to the community pool on a result, back to the
/// requester otherwise.
fn close(ctx: &mut Ctx<'_>, packet: &Packet, outcome: Outcome) -> Result<(), IbcError> {
    let at = RemoteRef {
        channel: packet.chan_id_on_a.to_string(),
        sequence: u64::from(packet.seq_on_a),
    };
    finish(ctx, at, outcome)
}

fn finish(ctx: &mut Ctx<'_>, at: RemoteRef, outcome: Outcome) -> Result<(), IbcError> {
    let ch = at.channel.as_str();
    let seq = at.sequence;
    let Some(mut r) = REQUESTS.may_load(ctx.store, (ch, seq)).map_err(storage)? else {
        // ibc-rs proved the packet was committed here, so it is one of ours; a
        // missing record can only mean it predates this application.
        return Ok(());
    };
    if r.status != RemoteStatus::Pending {
        return Ok(());
    }
    let escrow = request_escrow();
    let requester = Addr(r.requester);
    let refund = |s: &mut dyn Storage, fee: &Coin| {
        Bank::transfer(s, &escrow, &requester, std::slice::from_ref(fee))
            .map_err(|e| IbcError::Handler(format!("refund: {e}")))
    };
    match outcome {
        Outcome::Timeout => {
            refund(ctx.store, &r.fee)?;
            r.status = RemoteStatus::TimedOut;
            r.error = Some("the request timed out before the serving chain received it".into());
        }
        Outcome::Reclaimed => {
            refund(ctx.store, &r.fee)?;
            r.status = RemoteStatus::Failed;
            r.error = Some(
                "reclaimed by the requester: no acknowledgement could arrive (channel not open, or none a day past the timeout)"
                    .into(),
            );
        }
        Outcome::Ack(bytes) => match InferenceAck::decode(&bytes) {
            Ok(InferenceAck::Result(res)) => {
                verdict_distribution::state::fund_community_pool(ctx.store, &escrow, &r.fee)
                    .map_err(|e| IbcError::Handler(format!("community pool: {e}")))?;
                r.status = RemoteStatus::Completed;
                r.result = Some(res);
            }
            Ok(InferenceAck::Error(e)) => {
                refund(ctx.store, &r.fee)?;
                r.status = RemoteStatus::Failed;
                r.error = Some(e);
            }
            Err(e) => {
                refund(ctx.store, &r.fee)?;
                r.status = RemoteStatus::Failed;
                r.error = Some(e);
            }
        },
    }
    r.closed_height = ctx.block.height;
    REQUESTS.save(ctx.store, (ch, seq), &r).map_err(storage)?;
    IN_FLIGHT.remove(ctx.store, (ch, seq));
    let status = match r.status {
        RemoteStatus::Completed => "completed",
        RemoteStatus::Failed => "failed",
        RemoteStatus::TimedOut => "timed_out",
        RemoteStatus::Pending => "pending",
    };
    ctx.emit(
        Event::new("inference_remote_result")
            .attr("channel_id", ch)
            .attr("sequence", seq)
            .attr("status", status)
            .attr("requester", requester.bech32()),
    );
    Ok(())
}

/// The request escrow holds exactly the fees of the requests in flight.
pub fn check_invariants(s: &dyn Storage) -> Result<(), String> {
    let mut sum: u128 = 0;
    for k in IN_FLIGHT.keys(s, None, None, Order::Ascending) {
        let (ch, seq) = k.map_err(|e| e.to_string())?;
        let r = REQUESTS
            .load(s, (ch.as_str(), seq))
            .map_err(|e| e.to_string())?;
        if r.status != RemoteStatus::Pending {
            return Err(format!(
                "request {ch}/{seq} is in flight but {:?}",
                r.status
            ));
        }
        sum = sum.saturating_add(r.fee.amount.u128());
    }
    let held = Bank::balance(s, &request_escrow(), FEE_DENOM)
        .map_err(|e| e.to_string())?
        .u128();
    if held != sum {
        return Err(format!(
            "the IBC request escrow holds {held}{FEE_DENOM}, requests in flight {sum}{FEE_DENOM}"
        ));
    }
    Ok(())
}

/// Path prefix of this application's queries (served with the inference module's).
pub const QUERY_PREFIX: &str = "/verdict.inference.v1.Query/";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Req {
    channel_id: Option<String>,
    sequence: Option<u64>,
    requester: Option<String>,
}

#[derive(Serialize)]
struct RequestView<'a> {
    #[serde(flatten)]
    request: &'a RemoteRequest,
    requester_address: String,
    /// The result as decimals (output × tolerance), when completed.
    output_values: Option<Vec<String>>,
}

fn output_values(r: &RemoteRequest) -> Option<Vec<String>> {
    let res = r.result.as_ref()?;
    let nano = verdict_inference::msgs::parse_tolerance(&res.tolerance).ok()?;
    Some(
        res.output
            .iter()
            .map(|q| verdict_inference::query::decimal_of(*q, nano))
            .collect(),
    )
}

/// `RemoteRequest` {channel_id, sequence}, `RemoteRequests` {requester} (up to
/// 100, by channel id then sequence, descending), `ChannelPayer` {channel_id};
/// `Ok(None)` for any other method.
pub fn query(s: &dyn Storage, path: &str, data: &[u8]) -> Result<Option<Vec<u8>>, String> {
    let Some(method) = path.strip_prefix(QUERY_PREFIX) else {
        return Ok(None);
    };
    if !matches!(method, "RemoteRequest" | "RemoteRequests" | "ChannelPayer") {
        return Ok(None);
    }
    let r: Req = if data.is_empty() {
        Req::default()
    } else {
        serde_json::from_slice(data)
            .map_err(|e| format!("request is not the expected JSON: {e}"))?
    };
    let view = |x: &RemoteRequest| -> Result<serde_json::Value, String> {
        serde_json::to_value(RequestView {
            request: x,
            requester_address: Addr(x.requester).bech32(),
            output_values: output_values(x),
        })
        .map_err(|e| e.to_string())
    };
    let value = match method {
        "RemoteRequest" => {
            let (Some(ch), Some(seq)) = (r.channel_id.as_deref(), r.sequence) else {
                return Err("want {\"channel_id\": CHANNEL, \"sequence\": N}".into());
            };
            let x = REQUESTS
                .may_load(s, (ch, seq))
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("no request {seq} on channel {ch}: not found"))?;
            view(&x)?
        }
        "RemoteRequests" => {
            let who = r
                .requester
                .as_deref()
                .ok_or("want {\"requester\": ADDRESS}")?;
            let a = Addr::parse(who).map_err(|e| format!("requester: {e}"))?;
            let mut list = Vec::new();
            for k in BY_REQUESTER
                .sub_prefix(&a.0)
                .keys(s, None, None, Order::Descending)
                .take(100)
            {
                let (ch, seq) = k.map_err(|e| e.to_string())?;
                if let Some(x) = REQUESTS
                    .may_load(s, (ch.as_str(), seq))
                    .map_err(|e| e.to_string())?
                {
                    list.push(view(&x)?);
                }
            }
            serde_json::Value::Array(list)
        }
        _ => {
            let ch = r
                .channel_id
                .as_deref()
                .ok_or("want {\"channel_id\": CHANNEL}")?;
            let p = payer(ch);
            let balance = Bank::balance(s, &p, FEE_DENOM).map_err(|e| e.to_string())?;
            serde_json::json!({
                "channel_id": ch,
                "address": p.bech32(),
                "balance": Coin::new(balance.u128(), FEE_DENOM),
            })
        }
    };
    serde_json::to_vec(&value)
        .map(Some)
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use cosmwasm_std::testing::MockStorage as MemoryStorage;
    use ibc::core::channel::types::channel::{ChannelEnd, Counterparty, Order, State};
    use ibc::core::channel::types::commitment::compute_ack_commitment;
    use ibc::core::channel::types::Version;
    use ibc::core::host::types::identifiers::ConnectionId;
    use ibc::core::host::types::path::AckPath;
    use ibc::core::host::ExecutionContext;
    use verdict_inference::state::{Job, JobResult};

    fn host() -> HostInfo {
        HostInfo::new("verdict-1", 30, 1_700_000_000, 0, 1_814_400).expect("host")
    }

    fn port() -> PortId {
        PortId::new(PORT.to_string()).expect("port")
    }

    fn setup() -> MemoryStorage {
        let mut s = MemoryStorage::new();
        let end = ChannelEnd::new(
            State::Open,
            Order::Unordered,
            Counterparty::new(port(), Some(ChannelId::new(4))),
            vec![ConnectionId::new(0)],
            Version::new(crate::inference_port::VERSION.into()),
        )
        .expect("end");
        let mut ctx = IbcContext::new(&mut s, host());
        ctx.store_channel(&ChannelEndPath::new(&port(), &ChannelId::new(0)), end)
            .expect("channel");
        s
    }

    fn packet(seq: u64) -> Packet {
        Packet {
            seq_on_a: seq.into(),
            port_id_on_a: port(),
            chan_id_on_a: ChannelId::new(4),
            port_id_on_b: port(),
            chan_id_on_b: ChannelId::new(0),
            data: b"{}".to_vec(),
            timeout_height_on_b: TimeoutHeight::Never,
            timeout_timestamp_on_b: TimeoutTimestamp::At(Timestamp::from_nanoseconds(9)),
        }
    }

    fn job(id: u64, status: JobStatus, agreeing_power: u64) -> Job {
        Job {
            id,
            requester: payer("channel-0").0,
            model_id: "m".into(),
            max_latency_ms: 1000,
            fee: Coin::new(1000, FEE_DENOM),
            submitted_height: 1,
            submitted_time_ms: 0,
            commit_deadline: 11,
            commit_closed_height: 0,
            deadline_height: 21,
            committee: vec![],
            status,
            result: (status.is_final()).then(|| JobResult {
                digest: vec![7, -3],
                agreeing: vec![],
                agreeing_power,
                committee_power: 30,
                latency_ms: 5,
                faults: vec![],
                missing: vec![],
                late: vec![],
                grey: vec![],
                excused: vec![],
                finalized_height: 30,
            }),
        }
    }

    fn stored_ack(s: &MemoryStorage, seq: u64) -> Option<Vec<u8>> {
        let path = AckPath::new(&port(), &ChannelId::new(0), seq.into());
        s.get(&crate::flat_key(path.to_string().as_bytes()))
    }

    #[test]
    fn settled_jobs_get_their_result_or_error_ack_and_live_ones_wait() {
        let mut s = setup();
        for (id, status, power) in [
            (1, JobStatus::Completed, 30),
            (2, JobStatus::Revealing, 0),
            (3, JobStatus::Failed, 10),
        ] {
            inf::JOBS
                .save(&mut s, id, &job(id, status, power))
                .expect("job");
            SERVED
                .save(
                    &mut s,
                    id,
                    &Binary::from(RawPacket::from(packet(id + 100)).encode_to_vec()),
                )
                .expect("served");
        }
        let events = write_settled_acks(&mut s, &host()).expect("acks");
        let acks: Vec<_> = events
            .iter()
            .filter(|e| e.kind == "write_acknowledgement")
            .collect();
        assert_eq!(acks.len(), 2, "jobs 1 and 3 settled, job 2 is live");

        let result = InferenceAck::Result(InferenceResult {
            output: vec![7, -3],
            tolerance: "0".into(),
            agreeing_power: 30,
            committee_power: 30,
            finalized_height: 30,
        });
        let want =
            compute_ack_commitment(&Acknowledgement::try_from(result.to_bytes()).expect("ack"));
        assert_eq!(stored_ack(&s, 101), Some(want.into_vec()));
        let err = InferenceAck::Error(
            "job 3 failed: 10 of 30 committee power agreed (more than 2/3 needed)".into(),
        );
        let want = compute_ack_commitment(&Acknowledgement::try_from(err.to_bytes()).expect("ack"));
        assert_eq!(stored_ack(&s, 103), Some(want.into_vec()));
        assert_eq!(stored_ack(&s, 102), None);
        let left: Vec<u64> = SERVED
            .keys(&s, None, None, cosmwasm_std::Order::Ascending)
            .collect::<Result<_, _>>()
            .expect("keys");
        assert_eq!(left, vec![2], "only the live job still waits");
        // Nothing more to write in the next block.
        let again = write_settled_acks(&mut s, &host()).expect("acks");
        assert!(again.is_empty());

        // A job whose channel is no longer open (closed by the counterparty, or
        // gone): no acknowledgement nobody could relay, an event saying why.
        let mut p = packet(104);
        p.chan_id_on_b = ChannelId::new(9);
        inf::JOBS
            .save(&mut s, 4, &job(4, JobStatus::Completed, 30))
            .expect("job");
        SERVED
            .save(&mut s, 4, &Binary::from(RawPacket::from(p).encode_to_vec()))
            .expect("served");
        let events = write_settled_acks(&mut s, &host()).expect("acks");
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].kind, "inference_remote_ack_failed");
        assert!(!SERVED.has(&s, 4));
    }

    #[test]
    fn a_request_that_can_no_longer_be_answered_is_reclaimed_once_by_its_requester() {
        use verdict_core::ctx::BlockInfo;
        use verdict_core::gas::GasMeter;
        let mut s = setup(); // channel-0 open; channel-3 has no end
        let me = Addr([7; 20]);
        let fee = Coin::new(5000, FEE_DENOM);
        Bank::mint(&mut s, &request_escrow(), std::slice::from_ref(&fee)).expect("mint");
        Bank::mint(&mut s, &request_escrow(), std::slice::from_ref(&fee)).expect("mint");
        for ch in ["channel-0", "channel-3"] {
            let r = RemoteRequest {
                channel_id: ch.into(),
                sequence: 1,
                requester: me.0,
                model_id: "m".into(),
                fee: fee.clone(),
                sent_height: 1,
                timeout_timestamp_nanos: 1_700_000_000_000_000_000 - 1,
                status: RemoteStatus::Pending,
                result: None,
                error: None,
                closed_height: 0,
            };
            REQUESTS.save(&mut s, (ch, 1), &r).expect("save");
            IN_FLIGHT.save(&mut s, (ch, 1), &()).expect("save");
        }
        check_invariants(&s).expect("escrow = in flight");
        let gas = GasMeter::new(10_000_000);
        let block = BlockInfo {
            height: 30,
            time_seconds: 1_700_000_000,
            time_nanos: 0,
            chain_id: "verdict-1".into(),
        };
        let run = |s: &mut MemoryStorage, who: Addr, ch: &str| {
            let mut events = Vec::new();
            let mut ctx = Ctx {
                store: s,
                gas: &gas,
                events: &mut events,
                block: &block,
            };
            let m = ReclaimRemote {
                requester: who,
                channel_id: ch.parse().expect("channel"),
                sequence: 1,
            };
            reclaim(&mut ctx, &host(), &m)
                .map(|_| ())
                .map_err(|e| e.to_string())
        };
        // Open channel, a second past the timeout: not yet (relay it, or wait a day).
        let e = run(&mut s, me, "channel-0").expect_err("open channel");
        assert!(e.contains("is open"), "{e}");
        // Someone else: refused.
        let e = run(&mut s, Addr([8; 20]), "channel-3").expect_err("not the requester");
        assert!(e.contains("only the requester"), "{e}");
        // No open channel end: refunded, closed, escrow invariant still holds.
        run(&mut s, me, "channel-3").expect("reclaimed");
        assert_eq!(
            Bank::balance(&s, &me, FEE_DENOM).expect("balance").u128(),
            5000
        );
        let r = REQUESTS.load(&s, ("channel-3", 1)).expect("request");
        assert_eq!(r.status, RemoteStatus::Failed);
        assert!(r.error.as_deref().unwrap_or("").contains("reclaimed"));
        check_invariants(&s).expect("escrow = in flight");
        // Once only.
        let e = run(&mut s, me, "channel-3").expect_err("again");
        assert!(e.contains("already closed"), "{e}");
        assert_eq!(
            Bank::balance(&s, &me, FEE_DENOM).expect("balance").u128(),
            5000
        );
    }

    #[test]
    fn a_result_ack_pays_the_escrow_into_the_community_pool_and_an_error_ack_refunds() {
        use verdict_core::ctx::BlockInfo;
        use verdict_core::gas::GasMeter;
        let mut s = setup();
        let me = Addr([7; 20]);
        let fee = Coin::new(5000, FEE_DENOM);
        for seq in [1u64, 2] {
            Bank::mint(&mut s, &request_escrow(), std::slice::from_ref(&fee)).expect("mint");
            let r = RemoteRequest {
                channel_id: "channel-4".into(),
                sequence: seq,
                requester: me.0,
                model_id: "m".into(),
                fee: fee.clone(),
                sent_height: 1,
                timeout_timestamp_nanos: u64::MAX,
                status: RemoteStatus::Pending,
                result: None,
                error: None,
                closed_height: 0,
            };
            REQUESTS.save(&mut s, ("channel-4", seq), &r).expect("save");
            IN_FLIGHT
                .save(&mut s, ("channel-4", seq), &())
                .expect("save");
        }
        check_invariants(&s).expect("escrow = in flight");
        // Our requests went out on channel-4 (the counterparty's view of packet()).
        let ours = |seq: u64| {
            let mut p = packet(seq);
            p.chan_id_on_a = ChannelId::new(4);
            p
        };
        let result = InferenceAck::Result(InferenceResult {
            output: vec![1, 2],
            tolerance: "0.5".into(),
            agreeing_power: 3,
            committee_power: 4,
            finalized_height: 77,
        });
        let gas = GasMeter::new(10_000_000);
        let block = BlockInfo {
            height: 31,
            time_seconds: 1_700_000_000,
            time_nanos: 0,
            chain_id: "verdict-1".into(),
        };
        let mut events = Vec::new();
        let mut ctx = Ctx {
            store: &mut s,
            gas: &gas,
            events: &mut events,
            block: &block,
        };
        let port_events = vec![
            PortEvent::Ack {
                packet: ours(1),
                ack: result.to_bytes(),
            },
            PortEvent::Ack {
                packet: ours(2),
                ack: InferenceAck::Error("job 9 failed".into()).to_bytes(),
            },
            // A second delivery of the same ack (ibc-rs would refuse it; even so
            // nothing moves twice).
            PortEvent::Ack {
                packet: ours(1),
                ack: result.to_bytes(),
            },
        ];
        apply(&mut ctx, &host(), port_events).expect("applied");
        let done = REQUESTS.load(&s, ("channel-4", 1)).expect("request");
        assert_eq!(done.status, RemoteStatus::Completed);
        assert_eq!(done.closed_height, 31);
        assert_eq!(
            done.result.as_ref().map(|r| r.finalized_height),
            Some(77),
            "the serving chain's result is stored"
        );
        let view = serde_json::from_slice::<serde_json::Value>(
            &query(
                &s,
                "/verdict.inference.v1.Query/RemoteRequest",
                br#"{"channel_id":"channel-4","sequence":1}"#,
            )
            .expect("query")
            .expect("ours"),
        )
        .expect("json");
        assert_eq!(view["output_values"], serde_json::json!(["0.5", "1"]));
        assert_eq!(
            verdict_distribution::state::community_pool(&s)
                .expect("pool")
                .u128(),
            5000,
            "the fee of the answered request"
        );
        let failed = REQUESTS.load(&s, ("channel-4", 2)).expect("request");
        assert_eq!(failed.status, RemoteStatus::Failed);
        assert_eq!(
            Bank::balance(&s, &me, FEE_DENOM).expect("balance").u128(),
            5000,
            "the failed one refunded"
        );
        assert_eq!(
            Bank::balance(&s, &request_escrow(), FEE_DENOM)
                .expect("balance")
                .u128(),
            0
        );
        check_invariants(&s).expect("escrow = in flight");
    }

    #[test]
    fn request_remote_decoding_refuses_bad_messages_with_a_reason() {
        let good = pb::MsgRequestRemote {
            requester: Addr([1; 20]).bech32(),
            channel_id: "channel-0".into(),
            model_id: "a".repeat(64),
            inputs: vec![pb::Tensor {
                name: "x".into(),
                dtype: "float32".into(),
                shape: vec![1],
                data: vec![0; 4],
            }],
            max_latency_ms: 1500,
            fee: Some(pb::Coin {
                denom: FEE_DENOM.into(),
                amount: "1000".into(),
            }),
            timeout_seconds: 0,
        };
        let m = RequestRemote::decode(&good.encode_to_vec()).expect("decodes");
        assert_eq!(m.timeout_seconds, DEFAULT_TIMEOUT_SECONDS);
        assert_eq!(m.channel_id, ChannelId::new(0));
        let bad = |f: &dyn Fn(&mut pb::MsgRequestRemote)| {
            let mut m = good.clone();
            f(&mut m);
            RequestRemote::decode(&m.encode_to_vec())
                .expect_err("refused")
                .to_string()
        };
        assert!(bad(&|m| m.channel_id = "nope".into()).contains("channel_id"));
        assert!(bad(&|m| m.timeout_seconds = MAX_TIMEOUT_SECONDS + 1).contains("timeout"));
        assert!(bad(&|m| m.model_id = "x".into()).contains("model_id"));
        assert!(bad(&|m| m.fee = None).contains("fee"));
        assert!(bad(&|m| m.requester = "verdict1xyz".into()).contains("requester"));
        assert!(RequestRemote::decode(b"\xff\xff").is_err());
    }
}
