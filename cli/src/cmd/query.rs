//! Queries of no one module: `verdict status`, `query auth account`,
//! `query tx`, and `query store` with its proof check.

use anyhow::{anyhow, bail, Context};
use base64::Engine;
use clap::Subcommand;
use prost::Message;
use serde_json::{json, Value};
use verdict_client::proof::verify_proof;
use verdict_client::query::account;

use super::{resolve_addr, Ctx};
use crate::output::{print, report_tx};

#[derive(Subcommand)]
pub enum AuthQuery {
    /// Account number, sequence and public key of an address (or key name).
    Account { address: String },
}

pub fn status(ctx: &Ctx) -> anyhow::Result<()> {
    let s = ctx.rpc.get("status")?;
    let v = json!({
        "chain_id": s["node_info"]["network"],
        "moniker": s["node_info"]["moniker"],
        "node_id": s["node_info"]["id"],
        "cometbft": s["node_info"]["version"],
        "latest_block_height": s["sync_info"]["latest_block_height"],
        "latest_app_hash": s["sync_info"]["latest_app_hash"],
        "latest_block_time": s["sync_info"]["latest_block_time"],
        "catching_up": s["sync_info"]["catching_up"],
    });
    let text = format!(
        "chain {}  height {}  app_hash {}\nnode {} ({}), cometbft {}, catching up: {}",
        v["chain_id"].as_str().unwrap_or("?"),
        v["latest_block_height"].as_str().unwrap_or("?"),
        v["latest_app_hash"].as_str().unwrap_or("?"),
        v["moniker"].as_str().unwrap_or("?"),
        v["node_id"].as_str().unwrap_or("?"),
        v["cometbft"].as_str().unwrap_or("?"),
        v["catching_up"],
    );
    print(ctx.out, &v, text);
    Ok(())
}

pub fn auth(ctx: &Ctx, what: AuthQuery) -> anyhow::Result<()> {
    let AuthQuery::Account { address } = what;
    let addr = resolve_addr(&ctx.keyring()?, &address)?;
    let acc = account(&ctx.rpc, &addr)?.ok_or_else(|| anyhow!("account {addr} not found"))?;
    let pk = acc
        .pub_key
        .as_ref()
        .and_then(|a| {
            cosmrs::proto::cosmos::crypto::secp256k1::PubKey::decode(a.value.as_slice()).ok()
        })
        .map(|p| hex::encode(p.key));
    let v = json!({"address": acc.address, "account_number": acc.account_number, "sequence": acc.sequence, "pub_key": pk});
    print(
        ctx.out,
        &v,
        format!(
            "address {}\naccount_number {}\nsequence {}\npub_key {}",
            acc.address,
            acc.account_number,
            acc.sequence,
            pk.unwrap_or_else(|| "(none yet)".into())
        ),
    );
    Ok(())
}

pub fn tx(ctx: &Ctx, hash: &str) -> anyhow::Result<()> {
    let h = hash.trim_start_matches("0x");
    if h.len() != 64 || hex::decode(h).is_err() {
        bail!("tx hash must be 64 hex characters, got {hash:?}");
    }
    let r = verdict_client::tx::find_tx(&ctx.rpc, h)
        .map_err(|e| anyhow!("tx {h}: {e}"))?
        .ok_or_else(|| anyhow!("tx {h} not found"))?;
    report_tx(&r, ctx.out)
}

/// The value of a raw store key at `height` (0: the latest provable), with
/// `prove` checked against the app hash of the header of `height + 1`.
pub fn store(ctx: &Ctx, key: String, is_hex: bool, height: u64, prove: bool) -> anyhow::Result<()> {
    let key = if is_hex {
        hex::decode(&key).context("--hex key is not valid hex")?
    } else {
        key.into_bytes()
    };
    let (height, value, verified) = read_store(ctx, &key, height, prove)?;
    let verified = verified.map_or(Value::Null, Value::String);
    let shown = match std::str::from_utf8(&value) {
        Ok(s) => s.to_string(),
        Err(_) => hex::encode(&value),
    };
    let v = json!({"height": height, "value": shown, "found": !value.is_empty(), "proof_verified_against": verified});
    let mut text = if value.is_empty() {
        format!("height {height}: (no value)")
    } else {
        format!("height {height}: {shown}")
    };
    if let Some(h) = verified.as_str() {
        text.push_str(&proof_note(h, height));
    }
    print(ctx.out, &v, text);
    Ok(())
}

/// The line saying a proof read at `height` verified against app hash `h`.
pub fn proof_note(h: &str, height: u64) -> String {
    format!(
        "\nproof verified against app hash {h} (header of block {})",
        height.saturating_add(1)
    )
}

/// A raw store key at `height` (0: the latest provable): the height read,
/// the value (empty when absent) and, with `prove`, the app hash (hex) the
/// ICS-23 proof was checked against (an error when it does not verify).
pub fn read_store(
    ctx: &Ctx,
    key: &[u8],
    height: u64,
    prove: bool,
) -> anyhow::Result<(u64, Vec<u8>, Option<String>)> {
    let height = if height == 0 {
        latest_provable(ctx)?
    } else {
        height
    };
    if height == 0 {
        bail!("the chain has no committed block to read yet");
    }
    let r = ctx.rpc.get(&format!(
        "abci_query?path=%22/store/key%22&data=0x{}&height={height}&prove={prove}",
        hex::encode(key)
    ))?;
    let resp = &r["response"];
    let code = resp["code"].as_u64().unwrap_or(0);
    if code != 0 {
        bail!(
            "query failed (code {code}): {}",
            resp["log"].as_str().unwrap_or("")
        );
    }
    let value = B64.decode(resp["value"].as_str().unwrap_or(""))?;
    let verified = if prove {
        Some(check_proof(ctx, resp, key, &value, height)?)
    } else {
        None
    };
    Ok((height, value, verified))
}

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// The app hash of height h is committed to by the header of h+1, so the
/// newest provable height is one below the latest block.
fn latest_provable(ctx: &Ctx) -> anyhow::Result<u64> {
    let latest: u64 = ctx.rpc.get("status")?["sync_info"]["latest_block_height"]
        .as_str()
        .unwrap_or("0")
        .parse()?;
    Ok(latest.saturating_sub(1))
}

/// Checks the proof in the `abci_query` reply `resp` of `key` (found as
/// `value`, absent when empty) against the app hash in the header of
/// `height + 1`; returns that app hash (hex, upper case).
fn check_proof(
    ctx: &Ctx,
    resp: &Value,
    key: &[u8],
    value: &[u8],
    height: u64,
) -> anyhow::Result<String> {
    let header = ctx
        .rpc
        .get(&format!("header?height={}", height.saturating_add(1)))?;
    let app_hash = hex::decode(header["header"]["app_hash"].as_str().unwrap_or(""))?;
    let op = resp["proofOps"]["ops"]
        .get(0)
        .ok_or_else(|| anyhow!("node returned no proof"))?;
    let proof =
        ics23::CommitmentProof::decode(B64.decode(op["data"].as_str().unwrap_or(""))?.as_slice())?;
    let present = (!value.is_empty()).then_some(value);
    if !verify_proof(&app_hash, &proof, key, present) {
        bail!(
            "PROOF DOES NOT VERIFY against app hash {} of block {}",
            hex::encode_upper(&app_hash),
            height.saturating_add(1)
        );
    }
    Ok(hex::encode_upper(&app_hash))
}
