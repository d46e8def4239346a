//! Requesting side: `MsgReclaimRemote`, closing a pending request that can no
//! longer be answered (its channel is not open, or no acknowledgement came a
//! day past its timeout). Its fee goes to the community pool, as a result's
//! would: only a timeout, which proves the packet was never received, refunds.

use cosmrs::Any as SdkAny;
use ibc::core::host::types::identifiers::{ChannelId, PortId};
use ibc::core::host::types::path::ChannelEndPath;
use ibc::core::host::ValidationContext;
use prost::Message;
use verdict_core::address::Addr;
use verdict_core::ctx::Ctx;
use verdict_proto::inference::v1 as pb;

use super::close::{finish, Outcome, RemoteRef};
use super::state::{RemoteStatus, REQUESTS};
use crate::context::{HostInfo, IbcContext};
use crate::error::IbcError;
use crate::inference_port::PORT;

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

/// Closes a pending request that can no longer be answered (see
/// [`RECLAIM_GRACE_SECONDS`]), its fee into the community pool. An
/// acknowledgement or timeout that still arrives afterwards finds the request
/// closed and moves nothing.
pub fn reclaim(ctx: &mut Ctx<'_>, host: &HostInfo, m: &ReclaimRemote) -> Result<SdkAny, IbcError> {
    let refused = |s: String| IbcError::Handler(s);
    let ch = m.channel_id.as_str();
    let r = REQUESTS
        .may_load(ctx.store, (ch, m.sequence))
        .map_err(IbcError::storage)?
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
