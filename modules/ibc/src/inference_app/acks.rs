//! Serving side: the acknowledgements of served jobs, written when the job
//! settles (end of FinalizeBlock), and the error acknowledgements of refused
//! requests.

use cosmwasm_std::{Order, Storage};
use ibc::core::channel::handler::{
    commit_packet_acknowledgment, emit_packet_acknowledgement_event,
};
use ibc::core::channel::types::acknowledgement::Acknowledgement;
use ibc::core::channel::types::packet::Packet;
use ibc::core::channel::types::proto::v1::Packet as RawPacket;
use ibc::core::host::types::path::ChannelEndPath;
use ibc::core::host::ValidationContext;
use prost::Message;
use verdict_core::event::Event;
use verdict_inference::state::{self as inf, JobStatus};

use super::state::{SERVED, WAIT_FINAL};
use crate::context::{HostInfo, IbcContext};
use crate::error::AckError;
use crate::events::convert_events;
use crate::inference_packet::InferenceAck;

fn storage(e: impl ToString) -> AckError {
    AckError::Storage(e.to_string())
}

/// Writes `ack` for `packet` (received on this chain) and its
/// `write_acknowledgement` event.
pub fn write_ack(
    store: &mut dyn Storage,
    host: &HostInfo,
    packet: Packet,
    ack: &InferenceAck,
) -> Result<Vec<Event>, AckError> {
    write_ack_bytes(store, host, packet, ack.to_bytes())
}

/// Writes the acknowledgement `ack` (any application's bytes) for `packet`
/// and its `write_acknowledgement` event.
pub fn write_ack_bytes(
    store: &mut dyn Storage,
    host: &HostInfo,
    packet: Packet,
    ack: Vec<u8>,
) -> Result<Vec<Event>, AckError> {
    let acknowledgement =
        Acknowledgement::try_from(ack).map_err(|e| AckError::Acknowledgement(e.to_string()))?;
    let mut ibc = IbcContext::new(store, host.clone());
    commit_packet_acknowledgment(&mut ibc, &packet, &acknowledgement)
        .map_err(|e| AckError::Acknowledgement(e.to_string()))?;
    emit_packet_acknowledgement_event(&mut ibc, packet, acknowledgement)
        .map_err(|e| AckError::AcknowledgementEvent(e.to_string()))?;
    let mut out = Vec::new();
    convert_events(std::mem::take(&mut ibc.events), &mut out)?;
    Ok(out)
}

/// End of FinalizeBlock: the acknowledgement of every served job that is now
/// final. A packet whose acknowledgement cannot be written (its channel end is
/// gone) is dropped with an `inference_remote_ack_failed` event rather than
/// halting the chain.
pub fn write_settled_acks(s: &mut dyn Storage, host: &HostInfo) -> Result<Vec<Event>, AckError> {
    // Keys only: a live job's packet is not loaded until its job is final.
    let served: Vec<u64> = SERVED
        .keys(s, None, None, Order::Ascending)
        .collect::<Result<_, _>>()
        .map_err(storage)?;
    let mut out = Vec::new();
    for job_id in served {
        let Some(ack) = settled_ack(s, job_id)? else {
            continue;
        };
        let raw = SERVED.may_load(s, job_id).map_err(storage)?;
        SERVED.remove(s, job_id);
        WAIT_FINAL.remove(s, job_id);
        match write_served(s, host, raw.map(|r| r.to_vec()), &ack) {
            Ok(ev) => out.extend(ev),
            Err(e) => {
                let closed = match &e {
                    AckError::ChannelNotOpen(ch) => Some(ch.to_string()),
                    _ => None,
                };
                out.push(
                    Event::new("inference_remote_ack_failed")
                        .attr("job_id", job_id)
                        .attr("error", e),
                );
                // A failed job's refund went back to the payer of a channel
                // that serves nothing more.
                if let Some(ch) = closed {
                    match super::sweep::sweep_payer(s, &ch) {
                        Ok(swept) => out.extend(swept),
                        Err(e) => out.push(
                            Event::new("inference_payer_sweep_failed")
                                .attr("channel_id", ch)
                                .attr("error", e),
                        ),
                    }
                }
            }
        }
    }
    Ok(out)
}

/// The acknowledgement of served job `job_id`, or `None` while it is live.
fn settled_ack(s: &dyn Storage, job_id: u64) -> Result<Option<InferenceAck>, AckError> {
    let job = inf::job(s, job_id).map_err(storage)?;
    let ack = match &job {
        Some(j) if !j.status.is_final() => return Ok(None),
        Some(j) if verdict_inference::jobs::is_provisional(j) && WAIT_FINAL.has(s, job_id) => {
            return Ok(None)
        }
        Some(j) => match (j.status, &j.result) {
            (JobStatus::Completed | JobStatus::Overturned, Some(r)) => {
                let nano = inf::model(s, &j.model_id)
                    .map_err(storage)?
                    .map_or(0, |m| m.tolerance_nano);
                InferenceAck::from_result(r, nano)
            }
            (JobStatus::Expired, _) => {
                InferenceAck::Error(format!("job {job_id} expired: no validator could serve it"))
            }
            (_, Some(r)) => InferenceAck::Error(format!(
                "job {job_id} failed: {} of {} committee power agreed (more than 2/3 needed)",
                r.agreeing_power, r.committee_power
            )),
            (_, None) => InferenceAck::Error(format!("job {job_id} failed")),
        },
        None => InferenceAck::Error(format!("job {job_id} is gone")),
    };
    Ok(Some(ack))
}

/// Writes `ack` for the served packet `raw` (`ibc.core.channel.v1.Packet`
/// bytes). As ibc-go's WriteAcknowledgement: only on an open channel (a
/// counterparty may have closed it meanwhile; nobody could relay it).
fn write_served(
    s: &mut dyn Storage,
    host: &HostInfo,
    raw: Option<Vec<u8>>,
    ack: &InferenceAck,
) -> Result<Vec<Event>, AckError> {
    let raw = raw.ok_or(AckError::PacketGone)?;
    let raw = RawPacket::decode(raw.as_slice()).map_err(|e| AckError::BadPacket(e.to_string()))?;
    let packet = Packet::try_from(raw).map_err(|e| AckError::BadPacket(e.to_string()))?;
    let open = IbcContext::new(&mut *s, host.clone())
        .channel_end(&ChannelEndPath::new(
            &packet.port_id_on_b,
            &packet.chan_id_on_b,
        ))
        .map(|end| end.is_open())
        .unwrap_or(false);
    if !open {
        return Err(AckError::ChannelNotOpen(packet.chan_id_on_b));
    }
    write_ack(s, host, packet, ack)
}
