//! `verdict tx bank …`, `verdict query bank …`, and the hidden `loadgen`
//! (pre-signed MsgSends for bench/).

use std::path::Path;

use anyhow::{anyhow, bail};
use clap::Subcommand;
use cosmrs::proto::cosmos::bank::v1beta1::{
    QueryAllBalancesRequest, QueryAllBalancesResponse, QueryBalanceRequest, QueryBalanceResponse,
};
use prost::Message;
use serde_json::json;
use verdict_client::keyring::Keyring;
use verdict_client::query::{account, chain_id, query as abci};
use verdict_client::tx::{broadcast, fee_for, wait_for_tx, INCLUSION_TIMEOUT};
use verdict_client::txbuild::{msg_send, sign_tx, AccountKey, TxSpec};
use verdict_core::address::{Addr, FEE_DENOM};
use verdict_core::coin::{self, Coin};

use super::{resolve_addr, Ctx};
use crate::output::{lines, print};
use crate::tx::{submit, TxFlags};

#[derive(Subcommand)]
pub enum BankTx {
    /// Send coins: FROM is a key name, TO a bech32 address, AMOUNT e.g. 1000uverd.
    Send {
        from: String,
        to: String,
        amount: String,
        #[command(flatten)]
        flags: TxFlags,
    },
}

#[derive(Subcommand)]
pub enum BankQuery {
    /// Balances of an address (or key name).
    Balances {
        address: String,
        #[arg(long)]
        denom: Option<String>,
    },
}

pub fn tx(ctx: &Ctx, cmd: BankTx) -> anyhow::Result<()> {
    let BankTx::Send {
        from,
        to,
        amount,
        flags,
    } = cmd;
    let kr = ctx.keyring()?;
    let to = Addr::parse(&to).map_err(|e| anyhow!("recipient: {e}"))?;
    let coins = coin::parse_coins(&amount).map_err(|e| anyhow!("amount: {e}"))?;
    submit(
        ctx,
        &kr,
        &from,
        |me| Ok(vec![msg_send(me, &to, &coins)]),
        &coins,
        &flags,
    )
}

pub fn query(ctx: &Ctx, what: BankQuery) -> anyhow::Result<()> {
    let BankQuery::Balances { address, denom } = what;
    let addr = resolve_addr(&ctx.keyring()?, &address)?;
    let coins: Vec<(String, String)> = match denom {
        Some(d) => {
            let r = abci::<QueryBalanceResponse>(
                &ctx.rpc,
                "/cosmos.bank.v1beta1.Query/Balance",
                &QueryBalanceRequest {
                    address: addr.bech32(),
                    denom: d,
                },
            )??;
            r.balance.into_iter().map(|c| (c.denom, c.amount)).collect()
        }
        None => {
            let r = abci::<QueryAllBalancesResponse>(
                &ctx.rpc,
                "/cosmos.bank.v1beta1.Query/AllBalances",
                &QueryAllBalancesRequest {
                    address: addr.bech32(),
                    ..Default::default()
                },
            )??;
            r.balances
                .into_iter()
                .map(|c| (c.denom, c.amount))
                .collect()
        }
    };
    let v = json!({"address": addr.bech32(), "balances": coins.iter().map(|(d, a)| json!({"denom": d, "amount": a})).collect::<Vec<_>>()});
    let text = if coins.is_empty() {
        format!("{addr}: no balances")
    } else {
        lines(coins.iter().map(|(d, a)| format!("{a}{d}")))
    };
    print(ctx.out, &v, text);
    Ok(())
}

/// Funds `accounts` fresh senders with one multi-send, then pre-signs
/// `per_account` MsgSends from each (sequences 0..per_account), written
/// round-robin so that every sender's txs arrive in sequence order.
pub fn loadgen(
    ctx: &Ctx,
    kr: &Keyring,
    from: &str,
    accounts: u32,
    per_account: u32,
    file: &Path,
) -> anyhow::Result<()> {
    let funder = kr.signing_key(from, None)?;
    let chain_id = chain_id(&ctx.rpc)?;
    let senders: Vec<AccountKey> = (0..accounts)
        .map(|i| {
            let mut seed = [0u8; 32];
            seed[..4].copy_from_slice(&i.to_be_bytes());
            seed[31] = 0x5a;
            AccountKey::from_bytes(&seed).ok_or_else(|| anyhow!("bad seed"))
        })
        .collect::<anyhow::Result<_>>()?;
    fund(ctx, &funder, &chain_id, &senders)?;
    let mut numbers = Vec::with_capacity(senders.len());
    for k in &senders {
        numbers.push(
            account(&ctx.rpc, &k.address())?
                .ok_or_else(|| anyhow!("sender not funded"))?
                .account_number,
        );
    }
    let sink = funder.address();
    let mut out = String::new();
    for seq in 0..u64::from(per_account) {
        for (k, n) in senders.iter().zip(&numbers) {
            let spec = TxSpec {
                msgs: vec![msg_send(&k.address(), &sink, &[Coin::new(1, FEE_DENOM)])],
                memo: String::new(),
                timeout_height: 0,
                fee: vec![Coin::new(2500, FEE_DENOM)],
                gas_limit: 100_000,
            };
            out.push_str(&hex::encode(sign_tx(&spec, k, &chain_id, *n, seq)));
            out.push('\n');
        }
    }
    std::fs::write(file, out)?;
    eprintln!(
        "wrote {} signed txs to {}",
        u64::from(accounts).saturating_mul(u64::from(per_account)),
        file.display()
    );
    Ok(())
}

/// One MsgMultiSend from `funder` of 10 VERD to each sender, waited for.
fn fund(
    ctx: &Ctx,
    funder: &AccountKey,
    chain_id: &str,
    senders: &[AccountKey],
) -> anyhow::Result<()> {
    use cosmrs::proto::cosmos::bank::v1beta1::{Input, MsgMultiSend, Output as BankOutput};
    let each = 10_000_000u128;
    let n = u32::try_from(senders.len()).unwrap_or(u32::MAX);
    let total = each.saturating_mul(u128::from(n));
    let multi = MsgMultiSend {
        inputs: vec![Input {
            address: funder.address().bech32(),
            coins: vec![Coin::new(total, FEE_DENOM).to_proto()],
        }],
        outputs: senders
            .iter()
            .map(|k| BankOutput {
                address: k.address().bech32(),
                coins: vec![Coin::new(each, FEE_DENOM).to_proto()],
            })
            .collect(),
    };
    let acc =
        account(&ctx.rpc, &funder.address())?.ok_or_else(|| anyhow!("funder has no account"))?;
    let gas = 100_000u64.saturating_add(40_000u64.saturating_mul(u64::from(n)));
    let spec = TxSpec {
        msgs: vec![cosmrs::Any {
            type_url: "/cosmos.bank.v1beta1.MsgMultiSend".into(),
            value: multi.encode_to_vec(),
        }],
        memo: String::new(),
        timeout_height: 0,
        fee: vec![fee_for(gas, "0.025uverd")?],
        gas_limit: gas,
    };
    let hash = broadcast(
        &ctx.rpc,
        &sign_tx(&spec, funder, chain_id, acc.account_number, acc.sequence),
    )?;
    let r = wait_for_tx(&ctx.rpc, &hash, INCLUSION_TIMEOUT)?;
    if !r.is_ok() {
        bail!("funding failed: {}", json!(r.tx_result.log));
    }
    Ok(())
}
