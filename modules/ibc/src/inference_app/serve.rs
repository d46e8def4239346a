//! Serving side: a request received from another chain becomes a job paid by
//! the channel's payer account, or is answered at once with an error
//! acknowledgement that says why not.

use cosmwasm_std::Binary;
use ibc::core::channel::types::packet::Packet;
use ibc::core::channel::types::proto::v1::Packet as RawPacket;
use prost::Message;
use verdict_core::ctx::Ctx;
use verdict_core::event::Event;
use verdict_core::storage::{charge_writes, Layered, Overlay};
use verdict_inference::msgs::InferenceMsg;
use verdict_proto::inference::v1 as pb;

use super::acks::write_ack;
use super::state::{payer, SERVED, WAIT_FINAL};
use crate::context::HostInfo;
use crate::error::IbcError;
use crate::inference_packet::{InferenceAck, InferenceRequest};

/// A received request becomes a job paid by the channel's payer, or is
/// answered with an error acknowledgement that says why not.
/// Why a request's fee is above this chain's `max_remote_job_fee` (in the
/// bond denom: a fee in a listed denom at its price; an unlisted denom is
/// refused where the job is made, as MsgSubmitJob refuses it).
fn above_cap(s: &dyn cosmwasm_std::Storage, fee: &verdict_core::coin::Coin) -> Option<String> {
    let p = verdict_inference::state::params(s);
    let cap = p.max_remote_job_fee;
    let value = p.fee_value(fee).unwrap_or(fee.amount);
    (value > cap)
        .then(|| format!("request refused: fee {fee} above this chain's max_remote_job_fee {cap}"))
}

pub(super) fn serve(
    ctx: &mut Ctx<'_>,
    host: &HostInfo,
    packet: Packet,
    request: InferenceRequest,
) -> Result<(), IbcError> {
    let payer = payer(packet.chan_id_on_b.as_str());
    // The payer pays what the packet names: bounded here, before anything runs.
    if let Some(reason) = above_cap(&*ctx.store, &request.fee) {
        return refuse(ctx, host, packet, reason);
    }
    let wait_final = request.wait_final;
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
            router: ctx.router,
        };
        verdict_inference::handler::execute(&mut sub, &msg)
    };
    match res {
        Ok(resp) => {
            let channel = packet.chan_id_on_b.to_string();
            let sequence = u64::from(packet.seq_on_a);
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
                .map_err(IbcError::storage)?;
            if wait_final {
                WAIT_FINAL
                    .save(ctx.store, job_id, &())
                    .map_err(IbcError::storage)?;
            }
            ctx.emit(
                Event::new("inference_remote_job")
                    .attr("job_id", job_id)
                    .attr("channel_id", &channel)
                    .attr("sequence", sequence)
                    .attr("payer", payer.bech32()),
            );
        }
        Err(e) => {
            // The refused job's writes are dropped, but paid for.
            charge_writes(ctx.gas, &ov);
            refuse(ctx, host, packet, format!("request refused: {e}"))?
        }
    }
    Ok(())
}

/// Answers `packet` at once with an error acknowledgement saying `reason`.
fn refuse(
    ctx: &mut Ctx<'_>,
    host: &HostInfo,
    packet: Packet,
    reason: String,
) -> Result<(), IbcError> {
    let channel = packet.chan_id_on_b.to_string();
    let sequence = u64::from(packet.seq_on_a);
    let events = write_ack(
        ctx.store,
        host,
        packet,
        &InferenceAck::Error(reason.clone()),
    )?;
    ctx.events.extend(events);
    ctx.emit(
        Event::new("inference_remote_refused")
            .attr("channel_id", &channel)
            .attr("sequence", sequence)
            .attr("reason", reason),
    );
    Ok(())
}
