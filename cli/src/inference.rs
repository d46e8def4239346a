//! `verdict tx inference …` and `verdict query inference …`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use clap::Subcommand;
use prost::Message;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use verdict_core::address::Addr;
use verdict_proto::inference::v1 as pb;

use crate::rpc::Rpc;

#[derive(Subcommand)]
pub enum InferenceTx {
    /// Register a model: its spec (JSON: name, inputs, outputs, tolerance,
    /// max_output_len) and either the .onnx file (hashed here) or --model-id.
    RegisterModel {
        #[arg(long)]
        from: String,
        #[arg(long)]
        spec: PathBuf,
        /// The .onnx file; its sha256 is the model id.
        #[arg(long, conflicts_with = "model_id")]
        file: Option<PathBuf>,
        #[arg(long)]
        model_id: Option<String>,
        #[command(flatten)]
        flags: crate::TxFlags,
    },
    /// Pay for one inference run; with --wait, print the result once settled.
    Submit {
        #[arg(long)]
        from: String,
        /// Model id (sha256 hex).
        #[arg(long)]
        model: String,
        /// Input JSON: {"NAME": {"dtype", "shape", "data"}, …} (or a file with an
        /// "inputs" object of that form, like models/reference/*.json).
        #[arg(long)]
        input: PathBuf,
        #[arg(long, default_value_t = 2000)]
        max_latency_ms: u32,
        /// Escrowed job fee, paid to the agreeing validators (refunded on failure).
        #[arg(long, default_value = "10000uverd")]
        fee: String,
        /// Wait for the job to settle and print its result.
        #[arg(long)]
        wait: bool,
        /// How long --wait waits for settlement.
        #[arg(long, default_value_t = 120)]
        wait_seconds: u64,
        /// Pin the model's spec: the job is refused unless the model is
        /// registered with exactly this spec hash (`query inference model`).
        #[arg(long)]
        spec_hash: Option<String>,
        #[command(flatten)]
        flags: crate::TxFlags,
    },
    /// Ask the chain at the other end of an IBC `inference` channel to run a
    /// job. The fee is what the serving chain charges (from its payer account of
    /// that channel); the same coin is escrowed here until the acknowledgement:
    /// paid into the community pool on a result, refunded on an error or timeout.
    RequestRemote {
        #[arg(long)]
        from: String,
        /// This chain's end of the channel, e.g. channel-0.
        #[arg(long)]
        channel: String,
        /// Model id (sha256 hex) on the serving chain.
        #[arg(long)]
        model: String,
        /// Input JSON as for `submit`. Tensors go in the order of the model's
        /// inputs, read from --serving-node when given, else by name.
        #[arg(long)]
        input: PathBuf,
        /// RPC of a node of the serving chain (to read the model's input order).
        #[arg(long)]
        serving_node: Option<String>,
        #[arg(long, default_value_t = 2000)]
        max_latency_ms: u32,
        #[arg(long, default_value = "10000uverd")]
        fee: String,
        /// Seconds until the request times out (refunded) if not received.
        #[arg(long, default_value_t = 600)]
        timeout_seconds: u64,
        /// Wait for the acknowledgement (or timeout) and print the outcome.
        #[arg(long)]
        wait: bool,
        #[arg(long, default_value_t = 300)]
        wait_seconds: u64,
        #[command(flatten)]
        flags: crate::TxFlags,
    },
    /// Refund a request sent over IBC that can no longer be answered: past its
    /// timeout, and its channel is no longer open or a day has passed since.
    ReclaimRemote {
        #[arg(long)]
        from: String,
        #[arg(long)]
        channel: String,
        #[arg(long)]
        sequence: u64,
        #[command(flatten)]
        flags: crate::TxFlags,
    },
}

#[derive(Subcommand)]
pub enum InferenceQuery {
    /// A request this chain sent over IBC: status, result or error.
    RemoteResult {
        #[arg(long)]
        channel: String,
        sequence: u64,
    },
    /// The requests one account sent over IBC (newest first).
    RemoteResults {
        #[arg(long)]
        requester: String,
    },
    /// The account that pays for jobs requested over a channel (fund it with a
    /// bank send).
    ChannelPayer {
        #[arg(long)]
        channel: String,
    },
    /// A job: status, committee, result, faults.
    Job {
        id: u64,
    },
    /// Jobs, optionally of one requester.
    Jobs {
        #[arg(long)]
        requester: Option<String>,
        #[arg(long)]
        start_after: Option<u64>,
        #[arg(long)]
        limit: Option<u32>,
    },
    Model {
        id: String,
    },
    Models,
    /// Slashed inference faults, optionally of one validator (address or valoper).
    Faults {
        #[arg(long)]
        validator: Option<String>,
    },
    Params,
}

pub fn query_json(rpc: &Rpc, method: &str, req: &Value) -> anyhow::Result<Value> {
    let path = format!("/verdict.inference.v1.Query/{method}");
    let r = rpc.get(&format!(
        "abci_query?path=%22{path}%22&data=0x{}",
        hex::encode(req.to_string())
    ))?;
    let resp = &r["response"];
    let code = resp["code"].as_u64().unwrap_or(0);
    if code != 0 {
        bail!(
            "query failed (code {code}): {}",
            resp["log"].as_str().unwrap_or("")
        );
    }
    use base64::Engine;
    let bytes =
        base64::engine::general_purpose::STANDARD.decode(resp["value"].as_str().unwrap_or(""))?;
    Ok(serde_json::from_slice(&bytes)?)
}

pub fn query(rpc: &Rpc, q: InferenceQuery) -> anyhow::Result<Value> {
    match q {
        InferenceQuery::RemoteResult { channel, sequence } => query_json(
            rpc,
            "RemoteRequest",
            &json!({"channel_id": channel, "sequence": sequence}),
        ),
        InferenceQuery::RemoteResults { requester } => {
            query_json(rpc, "RemoteRequests", &json!({ "requester": requester }))
        }
        InferenceQuery::ChannelPayer { channel } => {
            query_json(rpc, "ChannelPayer", &json!({ "channel_id": channel }))
        }
        InferenceQuery::Job { id } => query_json(rpc, "Job", &json!({ "id": id })),
        InferenceQuery::Jobs {
            requester,
            start_after,
            limit,
        } => query_json(
            rpc,
            "Jobs",
            &json!({"requester": requester, "start_after": start_after, "limit": limit}),
        ),
        InferenceQuery::Model { id } => query_json(rpc, "Model", &json!({ "id": id })),
        InferenceQuery::Models => query_json(rpc, "Models", &json!({})),
        InferenceQuery::Faults { validator } => {
            query_json(rpc, "Faults", &json!({ "validator": validator }))
        }
        InferenceQuery::Params => query_json(rpc, "Params", &json!({})),
    }
}

fn specs(v: &Value, what: &str) -> anyhow::Result<Vec<pb::TensorSpec>> {
    v[what]
        .as_array()
        .ok_or_else(|| anyhow!("spec: `{what}` must be a list"))?
        .iter()
        .map(|t| {
            Ok(pb::TensorSpec {
                name: t["name"].as_str().unwrap_or_default().to_string(),
                dtype: t["dtype"].as_str().unwrap_or_default().to_string(),
                shape: t["shape"]
                    .as_array()
                    .ok_or_else(|| anyhow!("spec: {what}.shape must be a list"))?
                    .iter()
                    .map(|d| {
                        d.as_i64()
                            .ok_or_else(|| anyhow!("spec: shape entries are integers"))
                    })
                    .collect::<anyhow::Result<_>>()?,
            })
        })
        .collect()
}

pub fn register_msg(
    me: &Addr,
    spec: &Path,
    file: Option<&Path>,
    model_id: Option<&str>,
) -> anyhow::Result<cosmrs::Any> {
    let v: Value = serde_json::from_slice(
        &std::fs::read(spec).with_context(|| format!("reading {}", spec.display()))?,
    )
    .with_context(|| format!("{} is not JSON", spec.display()))?;
    let id = match (file, model_id) {
        (Some(f), _) => hex::encode(Sha256::digest(
            std::fs::read(f).with_context(|| format!("reading {}", f.display()))?,
        )),
        (None, Some(id)) => id.to_string(),
        (None, None) => bail!("give the model --file or its --model-id"),
    };
    let m = pb::MsgRegisterModel {
        owner: me.bech32(),
        model_id: id,
        name: v["name"].as_str().unwrap_or_default().to_string(),
        inputs: specs(&v, "inputs")?,
        outputs: specs(&v, "outputs")?,
        tolerance: v["tolerance"].as_str().unwrap_or("0.001").to_string(),
        max_output_len: u32::try_from(v["max_output_len"].as_u64().unwrap_or(64)).unwrap_or(64),
        // Optional: "rtol" (decimal string; default the chain's minimum) and
        // "input_range": ["MIN", "MAX"] (decimal strings).
        rtol: v["rtol"].as_str().unwrap_or_default().to_string(),
        input_min: v["input_range"][0].as_str().unwrap_or_default().to_string(),
        input_max: v["input_range"][1].as_str().unwrap_or_default().to_string(),
    };
    Ok(cosmrs::Any {
        type_url: pb::MSG_REGISTER_MODEL_URL.into(),
        value: m.encode_to_vec(),
    })
}

/// Input tensors in the model's input order, values packed little-endian.
pub fn input_tensors(rpc: &Rpc, model: &str, input: &Path) -> anyhow::Result<Vec<pb::Tensor>> {
    let m = query_json(rpc, "Model", &json!({ "id": model }))?;
    let names: Vec<String> = m["inputs"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|s| s["name"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default();
    tensors_from_file(input, Some(names))
}

/// Tensors from an input JSON file, in the order of `names` (all of the file's
/// inputs by name when `None`).
pub fn tensors_from_file(
    input: &Path,
    names: Option<Vec<String>>,
) -> anyhow::Result<Vec<pb::Tensor>> {
    let v: Value = serde_json::from_slice(
        &std::fs::read(input).with_context(|| format!("reading {}", input.display()))?,
    )
    .with_context(|| format!("{} is not JSON", input.display()))?;
    let map = if v.get("inputs").is_some() {
        &v["inputs"]
    } else {
        &v
    };
    let names = match names {
        Some(n) => n,
        None => map
            .as_object()
            .ok_or_else(|| anyhow!("{}: inputs must be an object", input.display()))?
            .keys()
            .cloned()
            .collect(),
    };
    names
        .iter()
        .map(|name| {
            let t = map
                .get(name)
                .ok_or_else(|| anyhow!("{}: no input named {name:?}", input.display()))?;
            let dtype = t["dtype"].as_str().unwrap_or("float32").to_string();
            let shape: Vec<i64> = t["shape"]
                .as_array()
                .ok_or_else(|| anyhow!("input {name}: shape must be a list"))?
                .iter()
                .filter_map(Value::as_i64)
                .collect();
            let vals = t["data"]
                .as_array()
                .ok_or_else(|| anyhow!("input {name}: data must be a list"))?;
            let mut data = Vec::new();
            for x in vals {
                match dtype.as_str() {
                    "float32" => data.extend((x.as_f64().unwrap_or(0.0) as f32).to_le_bytes()),
                    "float64" => data.extend(x.as_f64().unwrap_or(0.0).to_le_bytes()),
                    "int32" => data.extend((x.as_i64().unwrap_or(0) as i32).to_le_bytes()),
                    "int64" => data.extend(x.as_i64().unwrap_or(0).to_le_bytes()),
                    other => bail!("input {name}: dtype {other:?} is not supported"),
                }
            }
            Ok(pb::Tensor {
                name: name.clone(),
                dtype,
                shape,
                data,
            })
        })
        .collect()
}

pub fn submit_msg(
    me: &Addr,
    model: &str,
    inputs: Vec<pb::Tensor>,
    max_latency_ms: u32,
    fee: &verdict_core::coin::Coin,
    spec_hash: Option<&str>,
) -> cosmrs::Any {
    cosmrs::Any {
        type_url: pb::MSG_SUBMIT_JOB_URL.into(),
        value: pb::MsgSubmitJob {
            requester: me.bech32(),
            model_id: model.to_string(),
            inputs,
            max_latency_ms,
            fee: Some(pb::Coin {
                denom: fee.denom.clone(),
                amount: fee.amount.to_string(),
            }),
            spec_hash: spec_hash.unwrap_or_default().to_string(),
        }
        .encode_to_vec(),
    }
}

/// The job id from a committed MsgSubmitJob tx (its TxMsgData).
pub fn job_id_of(tx: &Value) -> anyhow::Result<u64> {
    use base64::Engine;
    let data = base64::engine::general_purpose::STANDARD
        .decode(tx["tx_result"]["data"].as_str().unwrap_or(""))?;
    let msg_data = cosmrs::proto::cosmos::base::abci::v1beta1::TxMsgData::decode(data.as_slice())?;
    let any = msg_data
        .msg_responses
        .first()
        .ok_or_else(|| anyhow!("the tx has no message response"))?;
    Ok(pb::MsgSubmitJobResponse::decode(any.value.as_slice())?.job_id)
}

/// Polls the job until it settles.
pub fn wait_job(rpc: &Rpc, id: u64, timeout: Duration) -> anyhow::Result<Value> {
    let start = Instant::now();
    loop {
        let j = query_json(rpc, "Job", &json!({ "id": id }))?;
        let st = j["status"].as_str().unwrap_or("");
        if matches!(st, "completed" | "failed" | "expired") {
            return Ok(j);
        }
        if start.elapsed() > timeout {
            bail!(
                "job {id} did not settle within {}s (status {st})",
                timeout.as_secs()
            );
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

pub fn describe_job(j: &Value) -> String {
    let r = &j["result"];
    let mut s = format!(
        "job {}  model {}  status {}",
        j["id"],
        j["model_id"].as_str().unwrap_or("?"),
        j["status"].as_str().unwrap_or("?")
    );
    if !r.is_null() {
        s.push_str(&format!(
            "\nfinalized at height {}  latency {} ms (median of agreeing)\nagreeing ({}/{} power): {}",
            r["finalized_height"],
            r["latency_ms"],
            r["agreeing_power"],
            r["committee_power"],
            join(&r["agreeing"])
        ));
        let faults: Vec<String> = r["faults"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|f| {
                        format!(
                            "{} ({})",
                            f["address"].as_str().unwrap_or("?"),
                            join(&f["kinds"])
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        s.push_str(&format!(
            "\nfaulty: {}",
            if faults.is_empty() {
                "none".into()
            } else {
                faults.join(", ")
            }
        ));
        if let Some(m) = r["missing"].as_array().filter(|m| !m.is_empty()) {
            s.push_str(&format!("\nmissing: {}", join(&Value::Array(m.clone()))));
        }
    }
    if let Some(out) = j["output"].as_array() {
        s.push_str(&format!(
            "\noutput (±{}): [{}]",
            j["tolerance"].as_str().unwrap_or("?"),
            out.iter()
                .map(|x| x.as_str().unwrap_or("?").to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    s
}

fn join(v: &Value) -> String {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|x| x.as_str().unwrap_or("?").to_string())
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

pub struct RemoteRequestArgs<'a> {
    pub channel: &'a str,
    pub model: &'a str,
    pub inputs: Vec<pb::Tensor>,
    pub max_latency_ms: u32,
    pub fee: &'a verdict_core::coin::Coin,
    pub timeout_seconds: u64,
}

pub fn request_remote_msg(me: &Addr, a: RemoteRequestArgs<'_>) -> cosmrs::Any {
    cosmrs::Any {
        type_url: pb::MSG_REQUEST_REMOTE_URL.into(),
        value: pb::MsgRequestRemote {
            requester: me.bech32(),
            channel_id: a.channel.to_string(),
            model_id: a.model.to_string(),
            inputs: a.inputs,
            max_latency_ms: a.max_latency_ms,
            fee: Some(pb::Coin {
                denom: a.fee.denom.clone(),
                amount: a.fee.amount.to_string(),
            }),
            timeout_seconds: a.timeout_seconds,
        }
        .encode_to_vec(),
    }
}

/// (channel, sequence) from a committed MsgRequestRemote tx.
pub fn remote_sequence_of(tx: &Value) -> anyhow::Result<(String, u64)> {
    use base64::Engine;
    let data = base64::engine::general_purpose::STANDARD
        .decode(tx["tx_result"]["data"].as_str().unwrap_or(""))?;
    let msg_data = cosmrs::proto::cosmos::base::abci::v1beta1::TxMsgData::decode(data.as_slice())?;
    let any = msg_data
        .msg_responses
        .first()
        .ok_or_else(|| anyhow!("the tx has no message response"))?;
    let r = pb::MsgRequestRemoteResponse::decode(any.value.as_slice())?;
    Ok((r.channel_id, r.sequence))
}

/// Polls a remote request until it is acknowledged or times out.
pub fn wait_remote(rpc: &Rpc, channel: &str, seq: u64, timeout: Duration) -> anyhow::Result<Value> {
    let start = Instant::now();
    loop {
        let r = query_json(
            rpc,
            "RemoteRequest",
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

pub fn describe_remote(r: &Value) -> String {
    let mut s = format!(
        "request {} on {}  model {}  status {}",
        r["sequence"],
        r["channel_id"].as_str().unwrap_or("?"),
        r["model_id"].as_str().unwrap_or("?"),
        r["status"].as_str().unwrap_or("?")
    );
    if let Some(res) = r.get("result").filter(|v| !v.is_null()) {
        s.push_str(&format!(
            "\n  output {}  agreeing power {}/{}  finalized at height {} of the serving chain",
            r["output_values"],
            res["agreeing_power"],
            res["committee_power"],
            res["finalized_height"]
        ));
    }
    if let Some(e) = r["error"].as_str() {
        s.push_str(&format!("\n  error: {e}"));
    }
    s
}

pub fn reclaim_remote_msg(me: &Addr, channel: &str, sequence: u64) -> cosmrs::Any {
    cosmrs::Any {
        type_url: pb::MSG_RECLAIM_REMOTE_URL.into(),
        value: pb::MsgReclaimRemote {
            requester: me.bech32(),
            channel_id: channel.to_string(),
            sequence,
        }
        .encode_to_vec(),
    }
}
