//! Inference messages and their inputs: model specs, input tensors from JSON
//! files, and the ids committed txs answer with.

use std::path::Path;

use anyhow::{anyhow, bail, Context};
use prost::Message;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use verdict_client::response::TxResponse;
use verdict_client::rpc::Rpc;
use verdict_core::address::Addr;
use verdict_proto::inference::v1 as pb;

use super::query_json;

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
pub fn job_id_of(tx: &TxResponse) -> anyhow::Result<u64> {
    Ok(tx
        .tx_result
        .first_msg_response::<pb::MsgSubmitJobResponse>()?
        .job_id)
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
pub fn remote_sequence_of(tx: &TxResponse) -> anyhow::Result<(String, u64)> {
    let r = tx
        .tx_result
        .first_msg_response::<pb::MsgRequestRemoteResponse>()?;
    Ok((r.channel_id, r.sequence))
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
