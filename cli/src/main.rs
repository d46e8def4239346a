//! `verdict`: the user CLI. Today: node status and raw, proof-checked state reads.
//! Keys, transactions and module queries arrive with their modules.

mod rpc;

use anyhow::{anyhow, bail, Context};
use base64::Engine;
use clap::{Parser, Subcommand, ValueEnum};
use prost::Message;
use serde_json::{json, Value};

use rpc::Rpc;

#[derive(Parser)]
#[command(name = "verdict", version, about = "Verdict chain CLI")]
struct Cli {
    /// CometBFT RPC address of a node.
    #[arg(long, global = true, default_value = "127.0.0.1:26657")]
    node: String,
    #[arg(long, global = true, value_enum, default_value = "text")]
    output: Output,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Clone, Copy, ValueEnum)]
enum Output {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Cmd {
    /// Chain id, height, app hash and sync state of the node.
    Status,
    /// Read state.
    Query {
        #[command(subcommand)]
        what: Query,
    },
}

#[derive(Subcommand)]
enum Query {
    /// A raw store key; with --prove, the ICS-23 proof is checked against the app
    /// hash that the next block's header commits to.
    Store {
        /// Key as UTF-8 text (or hex with --hex).
        key: String,
        #[arg(long)]
        hex: bool,
        /// Height to read at (default: latest provable).
        #[arg(long, default_value_t = 0)]
        height: u64,
        #[arg(long)]
        prove: bool,
    },
}

fn main() {
    let cli = Cli::parse();
    if let Err(e) = run(cli) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn print(output: Output, v: &Value, text: String) {
    match output {
        Output::Json => println!("{v}"),
        Output::Text => println!("{text}"),
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let rpc = Rpc::new(&cli.node);
    match cli.cmd {
        Cmd::Status => {
            let s = rpc.get("status")?;
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
            print(cli.output, &v, text);
        }
        Cmd::Query {
            what:
                Query::Store {
                    key,
                    hex: is_hex,
                    height,
                    prove,
                },
        } => {
            let key = if is_hex {
                hex::decode(&key).context("--hex key is not valid hex")?
            } else {
                key.into_bytes()
            };
            let height = if height == 0 {
                // The app hash of height h is committed to by the header of h+1,
                // so the newest provable height is one below the latest block.
                let latest: u64 = rpc.get("status")?["sync_info"]["latest_block_height"]
                    .as_str()
                    .unwrap_or("0")
                    .parse()?;
                latest.saturating_sub(1)
            } else {
                height
            };
            if height == 0 {
                bail!("the chain has no committed block to read yet");
            }
            let r = rpc.get(&format!(
                "abci_query?path=%22/store/key%22&data=0x{}&height={height}&prove={prove}",
                hex::encode(&key)
            ))?;
            let resp = &r["response"];
            let code = resp["code"].as_u64().unwrap_or(0);
            if code != 0 {
                bail!(
                    "query failed (code {code}): {}",
                    resp["log"].as_str().unwrap_or("")
                );
            }
            let b64 = base64::engine::general_purpose::STANDARD;
            let value = b64.decode(resp["value"].as_str().unwrap_or(""))?;
            let mut verified = Value::Null;
            if prove {
                let header = rpc.get(&format!("header?height={}", height.saturating_add(1)))?;
                let app_hash = hex::decode(header["header"]["app_hash"].as_str().unwrap_or(""))?;
                let op = resp["proofOps"]["ops"]
                    .get(0)
                    .ok_or_else(|| anyhow!("node returned no proof"))?;
                let proof = ics23::CommitmentProof::decode(
                    b64.decode(op["data"].as_str().unwrap_or(""))?.as_slice(),
                )?;
                let present = (!value.is_empty()).then_some(value.as_slice());
                if !verdict_app::store::verify_proof(&app_hash, &proof, &key, present) {
                    bail!(
                        "PROOF DOES NOT VERIFY against app hash {} of block {}",
                        hex::encode_upper(&app_hash),
                        height.saturating_add(1)
                    );
                }
                verified = json!(hex::encode_upper(&app_hash));
            }
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
                text.push_str(&format!(
                    "\nproof verified against app hash {h} (header of block {})",
                    height.saturating_add(1)
                ));
            }
            print(cli.output, &v, text);
        }
    }
    Ok(())
}
