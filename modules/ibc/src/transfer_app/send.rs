//! `MsgTransfer`: send a token over a transfer channel.

use std::cell::RefCell;

use cosmrs::Any as SdkAny;
use ibc::apps::transfer::handler::send_transfer;
use ibc::apps::transfer::types::msgs::transfer::MsgTransfer;
use ibc::core::handler::types::events::IbcEvent;
use prost::Message;
use verdict_core::address::Addr;
use verdict_core::ctx::Ctx;

use super::{resolve_voucher, TokenCtx, VOUCHER_PREFIX};
use crate::context::{HostInfo, IbcContext};
use crate::error::IbcError;
use crate::events::convert_events;
use crate::shared::{SharedStore, StoreCell};

type RawMsgTransfer = ibc::apps::transfer::types::proto::transfer::v1::MsgTransfer;
type RawMsgTransferResponse = ibc::apps::transfer::types::proto::transfer::v1::MsgTransferResponse;

/// Type URL of ICS-20's send message (ibc-go's).
pub const MSG_TRANSFER_URL: &str = "/ibc.applications.transfer.v1.MsgTransfer";
/// ibc-go's limits (`MaximumMemoLength`, `MaximumReceiverLength`).
pub const MAX_MEMO_BYTES: usize = 32_768;
pub const MAX_RECEIVER_BYTES: usize = 2_048;

/// A decoded `MsgTransfer` and the account that signs it (its sender).
#[derive(Debug, Clone)]
pub struct TransferMsg {
    pub raw: RawMsgTransfer,
    pub sender: Addr,
}

impl TransferMsg {
    /// Decodes and checks what needs no state: the sender's address, a
    /// positive amount, the lengths of memo and receiver.
    pub fn decode(value: &[u8]) -> Result<TransferMsg, IbcError> {
        let raw = RawMsgTransfer::decode(value)
            .map_err(|e| IbcError::Decode(format!("{MSG_TRANSFER_URL}: {e}")))?;
        let sender = Addr::parse(&raw.sender)
            .map_err(|e| IbcError::Decode(format!("sender {:?}: {e}", raw.sender)))?;
        if raw.memo.len() > MAX_MEMO_BYTES {
            return Err(IbcError::Decode(format!(
                "memo of {} bytes, at most {MAX_MEMO_BYTES}",
                raw.memo.len()
            )));
        }
        if raw.receiver.is_empty() || raw.receiver.len() > MAX_RECEIVER_BYTES {
            return Err(IbcError::Decode(format!(
                "receiver of {} bytes, must be 1 to {MAX_RECEIVER_BYTES}",
                raw.receiver.len()
            )));
        }
        if raw.timeout_timestamp == 0
            && raw
                .timeout_height
                .as_ref()
                .is_none_or(|h| h.revision_number == 0 && h.revision_height == 0)
        {
            return Err(IbcError::Decode(
                "a transfer needs a timeout height or a timeout timestamp".into(),
            ));
        }
        Ok(TransferMsg { raw, sender })
    }
}

/// Runs ibc-rs's `send_transfer` (escrow or burn, then the packet) with the
/// core and token contexts over one shared view. A voucher's `ibc/<hash>` is
/// first resolved to its full trace, which is what the packet carries.
pub fn send(ctx: &mut Ctx<'_>, host: &HostInfo, m: &TransferMsg) -> Result<SdkAny, IbcError> {
    let mut raw = m.raw.clone();
    let Some(token) = raw.token.as_mut() else {
        return Err(IbcError::Decode("a transfer without a token".into()));
    };
    if token.denom.starts_with(VOUCHER_PREFIX) {
        token.denom = resolve_voucher(ctx.store, &token.denom).ok_or_else(|| {
            IbcError::Handler(format!(
                "{} is no IBC voucher this chain has minted",
                token.denom
            ))
        })?;
    }
    let msg = MsgTransfer::try_from(raw).map_err(|e| IbcError::Decode(e.to_string()))?;
    let cell: StoreCell<'_> = RefCell::new(&mut *ctx.store);
    let (ibc_events, bank_events) = {
        let mut core_view = SharedStore::new(&cell);
        let mut ibc_ctx = IbcContext::new(&mut core_view, host.clone());
        let mut token_ctx = TokenCtx::new(SharedStore::new(&cell));
        send_transfer(&mut ibc_ctx, &mut token_ctx, msg)
            .map_err(|e| IbcError::Handler(e.to_string()))?;
        (std::mem::take(&mut ibc_ctx.events), token_ctx.events)
    };
    let sequence = ibc_events
        .iter()
        .find_map(|e| match e {
            IbcEvent::SendPacket(p) => Some(u64::from(*p.seq_on_a())),
            _ => None,
        })
        .ok_or_else(|| IbcError::Handler("send_transfer sent no packet".into()))?;
    ctx.events.extend(bank_events);
    let mut out = Vec::new();
    convert_events(ibc_events, &mut out)?;
    ctx.events.extend(out);
    Ok(SdkAny {
        type_url: format!("{MSG_TRANSFER_URL}Response"),
        value: RawMsgTransferResponse { sequence }.encode_to_vec(),
    })
}
