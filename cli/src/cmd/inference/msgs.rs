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

use super::query_one;

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

/// Where a model's bytes are and what they hash to: from the local file
/// (hashed and measured here), or given as `--model-id` and `--size`.
pub struct ModelSource<'a> {
    pub file: Option<&'a Path>,
    pub model_id: Option<&'a str>,
    pub size: Option<u64>,
    pub uris: &'a [String],
}

impl ModelSource<'_> {
    /// (model id, size in bytes).
    fn identity(&self) -> anyhow::Result<(String, u64)> {
        match (self.file, self.model_id, self.size) {
            (Some(f), None, None) => {
                let bytes = std::fs::read(f).with_context(|| format!("reading {}", f.display()))?;
                Ok((hex::encode(Sha256::digest(&bytes)), bytes.len() as u64))
            }
            (Some(_), _, _) => {
                bail!("--file gives the model id and size: drop --model-id and --size")
            }
            (None, Some(id), Some(size)) => {
                if id.len() != 64 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
                    bail!("--model-id must be the file's sha256: 64 hex digits");
                }
                Ok((id.to_ascii_lowercase(), size))
            }
            (None, _, _) => bail!("give the model's --file, or its --model-id and --size"),
        }
    }
}

/// Notes on stderr for URIs a stock sidecar cannot fetch by itself.
fn warn_uris(uris: &[String]) {
    if uris.iter().all(|u| u.starts_with("https://")) {
        eprintln!(
            "note: verdict-sidecar builds without TLS refuse https://; an http:// mirror is \
             safe to add (each sidecar checks the sha256 before loading)"
        );
    }
}

pub fn register_msg(me: &Addr, spec: &Path, src: &ModelSource<'_>) -> anyhow::Result<cosmrs::Any> {
    let v: Value = serde_json::from_slice(
        &std::fs::read(spec).with_context(|| format!("reading {}", spec.display()))?,
    )
    .with_context(|| format!("{} is not JSON", spec.display()))?;
    if src.uris.is_empty() {
        bail!("give at least one --uri saying where validators fetch the model's bytes");
    }
    let (id, size_bytes) = src.identity()?;
    warn_uris(src.uris);
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
        uris: src.uris.to_vec(),
        size_bytes,
    };
    Ok(cosmrs::Any {
        type_url: pb::MSG_REGISTER_MODEL_URL.into(),
        value: m.encode_to_vec(),
    })
}

/// Models one `MsgServeModel` may name (the chain's limit); more go in
/// further messages of the same tx.
pub const MAX_SERVE_IDS: usize = 32;

/// `MsgServeModel`s from the signer's validator (its operator address is the
/// signer's key): start (`serve`) or stop serving `model_ids`.
pub fn serve_msgs(
    me: &Addr,
    model_ids: &[String],
    serve: bool,
) -> anyhow::Result<Vec<cosmrs::Any>> {
    if model_ids.is_empty() {
        bail!("name at least one model id");
    }
    let ids: Vec<String> = model_ids.iter().map(|m| m.to_ascii_lowercase()).collect();
    if let Some(bad) = ids
        .iter()
        .find(|id| id.len() != 64 || !id.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        bail!("model id {bad:?} is not a sha256 (64 hex digits)");
    }
    Ok(ids
        .chunks(MAX_SERVE_IDS)
        .map(|chunk| cosmrs::Any {
            type_url: pb::MSG_SERVE_MODEL_URL.into(),
            value: pb::MsgServeModel {
                operator: me.valoper(),
                model_ids: chunk.to_vec(),
                serve,
            }
            .encode_to_vec(),
        })
        .collect())
}

/// Input tensors in the model's input order, values packed little-endian.
pub fn input_tensors(rpc: &Rpc, model: &str, input: &Path) -> anyhow::Result<Vec<pb::Tensor>> {
    let m = query_one(rpc, "Model", "model", &json!({ "id": model }))?;
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
    pub wait_final: bool,
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
            wait_final: a.wait_final,
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

pub fn challenge_msg(me: &Addr, job_id: u64, bond: &verdict_core::coin::Coin) -> cosmrs::Any {
    cosmrs::Any {
        type_url: pb::MSG_CHALLENGE_JOB_URL.into(),
        value: pb::MsgChallengeJob {
            challenger: me.bech32(),
            job_id,
            bond: Some(pb::Coin {
                denom: bond.denom.clone(),
                amount: bond.amount.to_string(),
            }),
        }
        .encode_to_vec(),
    }
}

/// The smallest bond the chain takes to challenge job `job_id`: its fee (or
/// the job fee floor now, if higher) × challenge_committee_size /
/// committee_size (rounded up), at least min_job_fee (what
/// `InferenceParams::challenge_bond_min` computes).
pub fn min_bond(rpc: &Rpc, job_id: u64) -> anyhow::Result<verdict_core::coin::Coin> {
    let job = query_one(rpc, "Job", "job", &json!({ "id": job_id }))?;
    let answer = super::query_json(rpc, "Params", &json!({}))?;
    let params = &answer["params"];
    let num = |v: &Value| -> u128 {
        v.as_str()
            .and_then(|s| s.parse().ok())
            .or_else(|| v.as_u64().map(u128::from))
            .unwrap_or(0)
    };
    let fee = num(&job["fee"]["amount"]).max(num(&answer["job_fee_floor"]));
    let seats = num(&params["challenge_committee_size"]);
    let per = num(&params["committee_size"]).max(1);
    let cost = fee.saturating_mul(seats).div_ceil(per);
    let amount = cost.max(num(&params["min_job_fee"]));
    let denom = job["fee"]["denom"].as_str().unwrap_or("uverd");
    Ok(verdict_core::coin::Coin::new(amount, denom))
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn me() -> Addr {
        Addr([7u8; 20])
    }

    #[test]
    fn serve_msgs_are_signed_by_the_valoper_and_split_by_the_chains_limit() {
        let ids: Vec<String> = (0..40).map(|i| format!("{i:064x}")).collect();
        let msgs = serve_msgs(&me(), &ids, true).unwrap();
        assert_eq!(msgs.len(), 2);
        let first = pb::MsgServeModel::decode(msgs[0].value.as_slice()).unwrap();
        let second = pb::MsgServeModel::decode(msgs[1].value.as_slice()).unwrap();
        assert_eq!(msgs[0].type_url, pb::MSG_SERVE_MODEL_URL);
        assert_eq!(first.operator, me().valoper());
        assert!(first.serve);
        assert_eq!(first.model_ids.len(), MAX_SERVE_IDS);
        assert_eq!(second.model_ids.len(), 40 - MAX_SERVE_IDS);
        let stop = serve_msgs(&me(), &ids[..1], false).unwrap();
        assert!(
            !pb::MsgServeModel::decode(stop[0].value.as_slice())
                .unwrap()
                .serve
        );
        assert!(serve_msgs(&me(), &["ab".into()], true).is_err());
        assert!(serve_msgs(&me(), &[], true).is_err());
    }

    #[test]
    fn a_registration_carries_uris_and_the_files_hash_and_size() {
        let dir = std::env::temp_dir().join(format!("verdict-cli-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let spec = dir.join("spec.json");
        std::fs::write(
            &spec,
            r#"{"name": "m", "tolerance": "0.001", "max_output_len": 8,
                "inputs": [{"name": "x", "dtype": "float32", "shape": [-1, 2]}],
                "outputs": [{"name": "y", "dtype": "float32", "shape": [-1, 2]}]}"#,
        )
        .unwrap();
        let file = dir.join("m.onnx");
        std::fs::write(&file, b"not really onnx").unwrap();
        let uris = vec!["http://127.0.0.1:26690/m.onnx".to_string()];
        let src = ModelSource {
            file: Some(&file),
            model_id: None,
            size: None,
            uris: &uris,
        };
        let any = register_msg(&me(), &spec, &src).unwrap();
        let m = pb::MsgRegisterModel::decode(any.value.as_slice()).unwrap();
        assert_eq!(m.model_id, hex::encode(Sha256::digest(b"not really onnx")));
        assert_eq!(m.size_bytes, 15);
        assert_eq!(m.uris, uris);

        let id = "AB".repeat(32);
        let by_id = ModelSource {
            file: None,
            model_id: Some(&id),
            size: Some(1234),
            uris: &uris,
        };
        let m = register_msg(&me(), &spec, &by_id).unwrap();
        let m = pb::MsgRegisterModel::decode(m.value.as_slice()).unwrap();
        assert_eq!(
            (m.model_id.as_str(), m.size_bytes),
            ("ab".repeat(32).as_str(), 1234)
        );
        let no_size = ModelSource {
            size: None,
            ..by_id
        };
        assert!(register_msg(&me(), &spec, &no_size).is_err());
        let no_uri = ModelSource { uris: &[], ..src };
        assert!(register_msg(&me(), &spec, &no_uri).is_err());
        std::fs::remove_dir_all(&dir).ok();
    }
}
