//! Waiting on the chain: a job until it settles (or its result is final), a
//! request sent over IBC until it is acknowledged.

use std::time::{Duration, Instant};

use anyhow::bail;
use serde_json::{json, Value};
use verdict_client::rpc::Rpc;

use super::query_one;

/// What [`wait_job`] waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Until {
    /// The job settled (completed, failed or expired).
    Settled,
    /// Settled, and its result final: not provisional (challenge window
    /// closed, or its challenge resolved).
    Final,
}

/// Polls the job until `until`.
pub fn wait_job(rpc: &Rpc, id: u64, until: Until, timeout: Duration) -> anyhow::Result<Value> {
    let start = Instant::now();
    loop {
        let j = query_one(rpc, "Job", "job", &json!({ "id": id }))?;
        let st = j["status"].as_str().unwrap_or("");
        let settled = matches!(st, "completed" | "failed" | "expired" | "overturned");
        let provisional = j["finality"].as_str() == Some("provisional");
        if settled && (until == Until::Settled || !provisional) {
            return Ok(j);
        }
        if start.elapsed() > timeout {
            let what = if settled { "become final" } else { "settle" };
            bail!(
                "job {id} did not {what} within {}s (status {st})",
                timeout.as_secs()
            );
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// Polls a remote request until it is acknowledged or times out.
pub fn wait_remote(rpc: &Rpc, channel: &str, seq: u64, timeout: Duration) -> anyhow::Result<Value> {
    let start = Instant::now();
    loop {
        let r = query_one(
            rpc,
            "RemoteRequest",
            "request",
            &json!({"channel_id": channel, "sequence": seq}),
        )?;
        let st = r["status"].as_str().unwrap_or("");
        if st != "pending" {
            return Ok(r);
        }
        if start.elapsed() > timeout {
            bail!(
                "request {seq} on {channel} got no acknowledgement within {}s (is a relayer running?)",
                timeout.as_secs()
            );
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}
