//! Requesting side: closing one of this chain's requests. A result
//! acknowledgement pays the escrowed fee into the community pool; an error
//! acknowledgement or a timeout (proven non-receipt) refunds it to the
//! requester; a reclaim (no proof either way: the packet may have been served
//! and its ack withheld) pays it into the community pool, as a result would.

use cosmwasm_std::Storage;
use ibc::core::channel::types::packet::Packet;
use verdict_bank::Bank;
use verdict_core::address::Addr;
use verdict_core::coin::Coin;
use verdict_core::ctx::Ctx;
use verdict_core::event::Event;

use super::state::{request_escrow, RemoteStatus, IN_FLIGHT, REQUESTS};
use crate::error::IbcError;
use crate::inference_packet::InferenceAck;

/// How one of this chain's requests ended.
pub(super) enum Outcome {
    Ack(Vec<u8>),
    Timeout,
    Reclaimed,
}

/// One of this chain's requests: (channel, sequence) of its packet.
pub(super) struct RemoteRef {
    pub(super) channel: String,
    pub(super) sequence: u64,
}

/// Records the acknowledgement or timeout of one of this chain's requests and
/// moves its escrowed fee: to the community pool on a result, back to the
/// requester otherwise.
pub(super) fn close(ctx: &mut Ctx<'_>, packet: &Packet, outcome: Outcome) -> Result<(), IbcError> {
    let at = RemoteRef {
        channel: packet.chan_id_on_a.to_string(),
        sequence: u64::from(packet.seq_on_a),
    };
    finish(ctx, at, outcome)
}

/// Closes the pending request `at` with `outcome` (a closed one is left as it
/// is: nothing moves twice).
pub(super) fn finish(ctx: &mut Ctx<'_>, at: RemoteRef, outcome: Outcome) -> Result<(), IbcError> {
    let ch = at.channel.as_str();
    let seq = at.sequence;
    let Some(mut r) = REQUESTS
        .may_load(ctx.store, (ch, seq))
        .map_err(IbcError::storage)?
    else {
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
            // Security review M-4: refunding here would let a requester who
            // withholds the ack of a served request get the service free.
            verdict_distribution::state::fund_community_pool(ctx.store, &escrow, &r.fee)
                .map_err(|e| IbcError::Handler(format!("community pool: {e}")))?;
            r.status = RemoteStatus::Failed;
            r.error = Some(
                "reclaimed: no acknowledgement could arrive (channel not open, or none a day past the timeout); without a proof that the packet was never received the fee went to the community pool"
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
    REQUESTS
        .save(ctx.store, (ch, seq), &r)
        .map_err(IbcError::storage)?;
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
