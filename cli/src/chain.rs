//! Talking to a node: gRPC-path queries over `abci_query`, broadcasting, and
//! waiting for inclusion.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail};
use base64::Engine;
use prost::Message;
use serde_json::Value;

use crate::rpc::Rpc;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// A failed query, with the chain's code and log.
#[derive(Debug)]
pub struct QueryError {
    pub code: u64,
    pub log: String,
}

impl std::fmt::Display for QueryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "query failed (code {}): {}", self.code, self.log)
    }
}

impl std::error::Error for QueryError {}

/// `abci_query` with a gRPC method path and a protobuf request.
pub fn query<Resp: Message + Default>(
    rpc: &Rpc,
    path: &str,
    req: &impl Message,
) -> anyhow::Result<Result<Resp, QueryError>> {
    let r = rpc.get(&format!(
        "abci_query?path=%22{path}%22&data=0x{}",
        hex::encode(req.encode_to_vec())
    ))?;
    let resp = &r["response"];
    let code = resp["code"].as_u64().unwrap_or(0);
    if code != 0 {
        return Ok(Err(QueryError {
            code,
            log: resp["log"].as_str().unwrap_or("").to_string(),
        }));
    }
    let bytes = B64.decode(resp["value"].as_str().unwrap_or(""))?;
    Ok(Ok(Resp::decode(bytes.as_slice())?))
}

pub fn chain_id(rpc: &Rpc) -> anyhow::Result<String> {
    rpc.get("status")?["node_info"]["network"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| anyhow!("{} /status has no network (chain id)", rpc.url()))
}

/// Broadcasts and returns the tx hash (hex, upper case); a CheckTx failure is an
/// error carrying the chain's code and log.
pub fn broadcast(rpc: &Rpc, tx: &[u8]) -> anyhow::Result<String> {
    let r = rpc.get(&format!("broadcast_tx_sync?tx=0x{}", hex::encode(tx)))?;
    let code = r["code"].as_u64().unwrap_or(0);
    if code != 0 {
        bail!(
            "transaction rejected (code {code}, {}): {}",
            r["codespace"].as_str().unwrap_or(""),
            r["log"].as_str().unwrap_or("")
        );
    }
    Ok(r["hash"].as_str().unwrap_or("").to_string())
}

/// Polls `/tx` until the transaction is in a block, with a spinner on a terminal.
pub fn wait_for_tx(rpc: &Rpc, hash: &str, timeout: Duration) -> anyhow::Result<Value> {
    let start = Instant::now();
    let frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
    let tty = std::io::stderr().is_terminal();
    let mut i = 0usize;
    loop {
        if let Ok(r) = rpc.get(&format!("tx?hash=0x{hash}")) {
            if tty {
                eprint!("\r\x1b[2K");
            }
            return Ok(r);
        }
        if start.elapsed() > timeout {
            if tty {
                eprintln!();
            }
            bail!(
                "tx {hash} was not included within {} s; it may still be in the mempool",
                timeout.as_secs()
            );
        }
        if tty {
            eprint!(
                "\r{} waiting for inclusion of {}… {:.0}s",
                frames[i % frames.len()],
                &hash[..12.min(hash.len())],
                start.elapsed().as_secs_f64()
            );
            let _ = std::io::stderr().flush();
        }
        i = i.wrapping_add(1);
        std::thread::sleep(Duration::from_millis(250));
    }
}
