//! The flags every `verdict tx …` command takes, and signing and sending with
//! them (the work itself is `verdict_client::tx`: gas, fees, funds check,
//! sign, simulate, broadcast, wait).

use anyhow::{anyhow, bail};
use clap::Args;
use cosmrs::Any;
use serde_json::json;
use verdict_client::keyring::Keyring;
use verdict_client::response::TxResponse;
use verdict_client::tx::{self, Submitted, TxOptions, DEFAULT_GAS_ADJUSTMENT, DEFAULT_GAS_PRICES};
use verdict_core::address::Addr;
use verdict_core::coin::{self, Coin};

use crate::ctx::Ctx;
use crate::output::report_tx;

#[derive(Args, Clone)]
pub struct TxFlags {
    /// Chain id (default: asked from the node's /status).
    #[arg(long)]
    pub chain_id: Option<String>,
    /// Fee, e.g. 5000uverd (default: gas × --gas-prices).
    #[arg(long)]
    pub fees: Option<String>,
    /// Gas limit, or `auto` to simulate and multiply by --gas-adjustment
    /// (default: `auto` for inference txs, whose gas grows with the input;
    /// 200000 for the others).
    #[arg(long)]
    pub gas: Option<String>,
    #[arg(long, default_value = DEFAULT_GAS_ADJUSTMENT)]
    pub gas_adjustment: String,
    /// Price per unit of gas for the default fee.
    #[arg(long, default_value = DEFAULT_GAS_PRICES)]
    pub gas_prices: String,
    #[arg(long, default_value = "")]
    pub memo: String,
    /// Broadcast and return without waiting for inclusion.
    #[arg(long)]
    pub no_wait: bool,
}

impl TxFlags {
    pub fn options(&self) -> TxOptions {
        TxOptions {
            chain_id: self.chain_id.clone(),
            fees: self.fees.clone(),
            gas: self.gas.clone(),
            gas_adjustment: self.gas_adjustment.clone(),
            gas_prices: self.gas_prices.clone(),
            memo: self.memo.clone(),
            no_wait: self.no_wait,
        }
    }
}

/// Signs `msgs` (built for the signer's address) with key `from`, chooses gas
/// and fee, checks that `spend` + fee is affordable, broadcasts, waits, and
/// reports the result.
pub fn submit(
    ctx: &Ctx,
    kr: &Keyring,
    from: &str,
    msgs: impl FnOnce(&Addr) -> anyhow::Result<Vec<Any>>,
    spend: &[Coin],
    flags: &TxFlags,
) -> anyhow::Result<()> {
    match submit_tx(ctx, kr, from, msgs, spend, flags)? {
        Some(r) => report_tx(&r, ctx.out),
        None => Ok(()),
    }
}

/// Signs (asking for a sealed key's passphrase), broadcasts and, unless
/// --no-wait, waits: the committed tx. With --no-wait it prints the hash and
/// returns `None`.
pub fn submit_tx(
    ctx: &Ctx,
    kr: &Keyring,
    from: &str,
    msgs: impl FnOnce(&Addr) -> anyhow::Result<Vec<Any>>,
    spend: &[Coin],
    flags: &TxFlags,
) -> anyhow::Result<Option<TxResponse>> {
    let key = kr.unlock(from)?;
    match tx::submit(&ctx.rpc, &key, msgs, spend, &flags.options())? {
        Submitted::Pending(hash) => {
            println!("{}", json!({ "txhash": hash }));
            Ok(None)
        }
        Submitted::Committed(r) => Ok(Some(r)),
    }
}

/// An amount that must be a single coin.
pub fn one_coin(s: &str) -> anyhow::Result<Coin> {
    let mut cs = coin::parse_coins(s).map_err(|e| anyhow!("amount: {e}"))?;
    if cs.len() != 1 {
        bail!("amount must be a single coin, e.g. 1000000uverd");
    }
    Ok(cs.remove(0))
}
