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
//!
//! A channel the counterparty closes has its payer's funds moved to the
//! community pool (`sweep`, security review I-7).
//!
//! Files: `state` (accounts, tables, records), `serve`, `acks` and `sweep`
//! (serving side), `request`, `close` and `reclaim` (requesting side), `invariants`,
//! `queries`.

use verdict_core::ctx::Ctx;

use crate::context::HostInfo;
use crate::error::IbcError;

mod acks;
mod close;
mod invariants;
mod queries;
mod reclaim;
mod request;
mod serve;
pub(crate) mod state;
mod sweep;
#[cfg(test)]
mod tests;

pub use self::acks::{write_ack, write_ack_bytes, write_settled_acks};
pub use self::invariants::check_invariants;
pub use self::queries::{query, QUERY_PREFIX};
pub use self::reclaim::{reclaim, ReclaimRemote, RECLAIM_GRACE_SECONDS};
pub use self::request::{request, RequestRemote, DEFAULT_TIMEOUT_SECONDS, MAX_TIMEOUT_SECONDS};
pub use self::state::{payer, request_escrow, RemoteRequest, RemoteStatus};
// Defined with the port callbacks that queue it; kept here at its old path.
pub use crate::inference_port::PortEvent;

/// Applies what the port callbacks queued, in order.
pub fn apply(ctx: &mut Ctx<'_>, host: &HostInfo, events: Vec<PortEvent>) -> Result<(), IbcError> {
    for ev in events {
        match ev {
            PortEvent::Request { packet, request } => serve::serve(ctx, host, packet, request)?,
            PortEvent::Ack { packet, ack } => close::close(ctx, &packet, close::Outcome::Ack(ack))?,
            PortEvent::Timeout { packet } => close::close(ctx, &packet, close::Outcome::Timeout)?,
            PortEvent::ChannelClosed { channel_id } => {
                if let Some(e) =
                    sweep::sweep_payer(ctx.store, channel_id.as_str()).map_err(IbcError::Handler)?
                {
                    ctx.emit(e);
                }
            }
        }
    }
    Ok(())
}
