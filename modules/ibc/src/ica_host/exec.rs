//! Running an interchain account's transaction and acknowledging it.

use cosmrs::proto::cosmos::base::abci::v1beta1::TxMsgData;
use cosmrs::Any;
use cosmwasm_std::{Binary, Storage};
use ibc::core::channel::types::acknowledgement::Acknowledgement;
use ibc::core::channel::types::packet::Packet;
use ibc_proto::ibc::applications::interchain_accounts::v1::CosmosTx;
use prost::Message;
use verdict_core::address::Addr;
use verdict_core::codes;
use verdict_core::ctx::{Ctx, RouteError};
use verdict_core::event::Event;
use verdict_core::storage::{charge_writes, Layered, Overlay};

use super::{channel_end, params, registered_account, IcaPacket, PORT};
use crate::context::HostInfo;
use crate::error::IbcError;
use crate::inference_app::write_ack_bytes;

/// Most messages one packet may carry.
pub const MAX_MSGS: usize = 64;

/// ibc-go's error acknowledgement: the code only (its text is the same on
/// every node; the reason goes into an event).
pub(crate) fn error_ack(
    e: &RouteError,
    ack_json: fn(&str, &str) -> Acknowledgement,
) -> Acknowledgement {
    ack_json(
        "error",
        &format!(
            "ABCI code: {}: error handling packet: see events for details",
            e.code
        ),
    )
}

fn bad(log: impl Into<String>) -> RouteError {
    RouteError {
        code: codes::INVALID_REQUEST,
        log: log.into(),
    }
}

/// The account a packet drives and its messages; an error for a packet that is
/// no `TYPE_EXECUTE_TX` of a proto3 `CosmosTx`, or on a channel with no account.
pub(crate) fn decode_packet(
    s: &dyn Storage,
    packet: &Packet,
) -> Result<(Addr, Vec<Any>), RouteError> {
    let v: serde_json::Value = serde_json::from_slice(&packet.data)
        .map_err(|_| bad("cannot unmarshal ICS-27 interchain account packet data"))?;
    let ty = &v["type"];
    if !(ty == "TYPE_EXECUTE_TX" || ty == 1) {
        return Err(bad(format!("unsupported packet type {ty}")));
    }
    let data = match &v["data"] {
        serde_json::Value::String(b64) => {
            Binary::from_base64(b64).map_err(|e| bad(format!("packet data: {e}")))?
        }
        serde_json::Value::Null => Binary::default(),
        _ => return Err(bad("packet data must be base64")),
    };
    let tx = CosmosTx::decode(data.as_slice()).map_err(|e| bad(format!("CosmosTx: {e}")))?;
    if tx.messages.is_empty() || tx.messages.len() > MAX_MSGS {
        return Err(bad(format!(
            "a transaction of {} messages (1 to {MAX_MSGS})",
            tx.messages.len()
        )));
    }
    let end = channel_end(s, PORT, packet.chan_id_on_b.as_str())
        .ok_or_else(|| bad("the packet's channel is gone"))?;
    let conn = end
        .connection_hops
        .first()
        .ok_or_else(|| bad("the channel has no connection"))?;
    let active = super::state::ACTIVE
        .may_load(s, (conn.as_str(), packet.port_id_on_a.as_str()))
        .ok()
        .flatten();
    if active.as_deref() != Some(packet.chan_id_on_b.as_str()) {
        return Err(bad(format!(
            "{} is not the active channel of {}",
            packet.chan_id_on_b, packet.port_id_on_a
        )));
    }
    let account = registered_account(s, conn, packet.port_id_on_a.as_str()).ok_or_else(|| {
        bad(format!(
            "no interchain account for {}/{conn}",
            packet.port_id_on_a
        ))
    })?;
    let msgs = tx
        .messages
        .into_iter()
        .map(|m| Any {
            type_url: m.type_url,
            value: m.value,
        })
        .collect();
    Ok((account, msgs))
}

/// Runs every message of `p` through the router in one overlay: all or none.
fn run_tx(ctx: &mut Ctx<'_>, p: &IcaPacket) -> Result<Vec<Any>, RouteError> {
    let prm = params(&*ctx.store);
    if !prm.host_enabled {
        return Err(RouteError {
            code: codes::UNAUTHORIZED,
            log: "the interchain-accounts host is disabled".into(),
        });
    }
    if let Some(m) = p.msgs.iter().find(|m| !prm.allows(&m.type_url)) {
        return Err(RouteError {
            code: codes::UNAUTHORIZED,
            log: format!("message type not allowed: {}", m.type_url),
        });
    }
    let router = ctx
        .router
        .ok_or_else(|| bad("no message router on this path"))?;
    let mut ov = Overlay::new();
    let mut events = Vec::new();
    let mut responses = Vec::with_capacity(p.msgs.len());
    let mut failed = None;
    {
        let mut layered = Layered::new(&*ctx.store, &mut ov);
        let mut sub = Ctx {
            store: &mut layered,
            gas: ctx.gas,
            events: &mut events,
            block: ctx.block,
            router: ctx.router,
        };
        for (i, m) in p.msgs.iter().enumerate() {
            match router.route(&mut sub, m, &p.account) {
                Ok(r) => responses.push(r),
                Err(e) => {
                    failed = Some(RouteError {
                        code: e.code,
                        log: format!("message {i}: {}", e.log),
                    });
                    break;
                }
            }
        }
    }
    if let Some(e) = failed {
        // Dropped, but paid for (security review of issue 20, finding 6).
        charge_writes(ctx.gas, &ov);
        return Err(e);
    }
    for (k, v) in ov {
        match v {
            Some(v) => ctx.store.set(&k, &v),
            None => ctx.store.remove(&k),
        }
    }
    ctx.events.extend(events);
    Ok(responses)
}

/// Runs the packets the host's callbacks queued and writes their
/// acknowledgements, in order.
pub fn execute_packets(
    ctx: &mut Ctx<'_>,
    host: &HostInfo,
    packets: Vec<IcaPacket>,
) -> Result<(), IbcError> {
    for p in packets {
        let ack = match run_tx(ctx, &p) {
            Ok(responses) => {
                #[allow(deprecated)] // `data` is the pre-0.46 field
                let data = TxMsgData {
                    data: vec![],
                    msg_responses: responses,
                }
                .encode_to_vec();
                ctx.emit(
                    Event::new("ica_host_tx")
                        .attr("account", p.account)
                        .attr("channel_id", p.packet.chan_id_on_b.as_str())
                        .attr("sequence", u64::from(p.packet.seq_on_a)),
                );
                crate::transfer_app::ack_json("result", &Binary::from(data).to_base64())
            }
            Err(e) => {
                ctx.emit(
                    Event::new("ica_host_tx_failed")
                        .attr("account", p.account)
                        .attr("channel_id", p.packet.chan_id_on_b.as_str())
                        .attr("sequence", u64::from(p.packet.seq_on_a))
                        .attr("code", e.code)
                        .attr("error", &e.log),
                );
                error_ack(&e, crate::transfer_app::ack_json)
            }
        };
        let events = write_ack_bytes(ctx.store, host, p.packet, ack.as_bytes().to_vec())
            .map_err(IbcError::from)?;
        ctx.events.extend(events);
    }
    Ok(())
}
