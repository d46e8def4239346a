//! ICS-20: `verdict tx ibc-transfer transfer …` and `verdict query
//! ibc-transfer …` (ibc-go's command names, so a consumer chain's scripts read
//! the same on both sides).

use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, bail};
use clap::Subcommand;
use cosmrs::Any;
use ibc_proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use ibc_proto::ibc::applications::transfer::v1 as pb;
use prost::Message;
use serde_json::json;
use verdict_client::query::query as abci;

use super::Ctx;
use crate::output::{lines, print};
use crate::tx::{one_coin, submit, TxFlags};

#[derive(Subcommand)]
pub enum TransferTx {
    /// Send AMOUNT (e.g. 1000uverd, or a voucher ibc/<hash>) from key FROM
    /// over CHANNEL (port `transfer`) to RECEIVER, an address on the other
    /// chain.
    Transfer {
        from: String,
        channel: String,
        receiver: String,
        amount: String,
        /// Seconds from now (this machine's clock) after which the packet
        /// times out and the tokens come back.
        #[arg(long, default_value_t = 600)]
        timeout_seconds: u64,
        /// The ICS-20 memo carried in the packet (`--memo` is the tx's own).
        #[arg(long, default_value = "")]
        packet_memo: String,
        #[command(flatten)]
        flags: TxFlags,
    },
}

#[derive(Subcommand)]
pub enum TransferQuery {
    /// The trace (path and base denom) of a voucher: its hash or `ibc/<hash>`.
    DenomTrace { hash: String },
    /// Every voucher this chain has minted, with its trace.
    DenomTraces,
    /// The escrow account of CHANNEL (port `transfer`).
    EscrowAddress { channel: String },
    /// How much of DENOM all transfer channels hold in escrow.
    TotalEscrow { denom: String },
}

pub fn tx(ctx: &Ctx, cmd: TransferTx) -> anyhow::Result<()> {
    let TransferTx::Transfer {
        from,
        channel,
        receiver,
        amount,
        timeout_seconds,
        packet_memo,
        flags,
    } = cmd;
    let coin = one_coin(&amount)?;
    if timeout_seconds == 0 {
        bail!("--timeout-seconds must be positive");
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|e| anyhow!("clock: {e}"))?;
    let timeout = now
        .as_secs()
        .checked_add(timeout_seconds)
        .and_then(|s| s.checked_mul(1_000_000_000))
        .ok_or_else(|| anyhow!("--timeout-seconds is too large"))?;
    let kr = ctx.keyring()?;
    submit(
        ctx,
        &kr,
        &from,
        |me| {
            let m = pb::MsgTransfer {
                source_port: "transfer".into(),
                source_channel: channel.clone(),
                token: Some(ProtoCoin {
                    denom: coin.denom.clone(),
                    amount: coin.amount.to_string(),
                }),
                sender: me.bech32(),
                receiver: receiver.clone(),
                timeout_height: None,
                timeout_timestamp: timeout,
                memo: packet_memo.clone(),
            };
            Ok(vec![Any {
                type_url: "/ibc.applications.transfer.v1.MsgTransfer".into(),
                value: m.encode_to_vec(),
            }])
        },
        std::slice::from_ref(&coin),
        &flags,
    )
}

fn trace_json(t: &pb::DenomTrace) -> serde_json::Value {
    json!({"path": t.path, "base_denom": t.base_denom})
}

pub fn query(ctx: &Ctx, what: TransferQuery) -> anyhow::Result<()> {
    const Q: &str = "/ibc.applications.transfer.v1.Query/";
    match what {
        TransferQuery::DenomTrace { hash } => {
            let r: pb::QueryDenomTraceResponse = abci(
                &ctx.rpc,
                &format!("{Q}DenomTrace"),
                &pb::QueryDenomTraceRequest { hash },
            )??;
            let t = r.denom_trace.unwrap_or_default();
            print(
                ctx.out,
                &json!({"denom_trace": trace_json(&t)}),
                format!("{}/{}", t.path, t.base_denom),
            );
        }
        TransferQuery::DenomTraces => {
            let r: pb::QueryDenomTracesResponse = abci(
                &ctx.rpc,
                &format!("{Q}DenomTraces"),
                &pb::QueryDenomTracesRequest { pagination: None },
            )??;
            let v: Vec<_> = r.denom_traces.iter().map(trace_json).collect();
            print(
                ctx.out,
                &json!({"denom_traces": v}),
                lines(
                    r.denom_traces
                        .iter()
                        .map(|t| format!("{}/{}", t.path, t.base_denom)),
                ),
            );
        }
        TransferQuery::EscrowAddress { channel } => {
            let r: pb::QueryEscrowAddressResponse = abci(
                &ctx.rpc,
                &format!("{Q}EscrowAddress"),
                &pb::QueryEscrowAddressRequest {
                    port_id: "transfer".into(),
                    channel_id: channel,
                },
            )??;
            print(
                ctx.out,
                &json!({"escrow_address": r.escrow_address}),
                r.escrow_address.clone(),
            );
        }
        TransferQuery::TotalEscrow { denom } => {
            let r: pb::QueryTotalEscrowForDenomResponse = abci(
                &ctx.rpc,
                &format!("{Q}TotalEscrowForDenom"),
                &pb::QueryTotalEscrowForDenomRequest {
                    denom: denom.clone(),
                },
            )??;
            let amount = r.amount.map(|c| c.amount).unwrap_or_else(|| "0".into());
            print(
                ctx.out,
                &json!({"amount": {"denom": denom, "amount": amount}}),
                format!("{amount}{denom}"),
            );
        }
    }
    Ok(())
}
