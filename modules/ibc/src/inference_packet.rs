//! The inference application's packet data and acknowledgements, as JSON.
//!
//! The wire forms of the `inference` port (see [`crate::inference_app`] for
//! what each side does with them), so that any consumer chain can speak them.
//!
//! Request (packet data): `{"model_id", "inputs", "max_latency_ms", "fee"[,
//! "wait_final": true]}`,
//! `inputs` in the form of `MsgSubmitJob`'s tensors (name, dtype, shape, base64
//! data), `fee` a coin `{"denom", "amount"}` with the amount as a decimal string.
//! Unknown fields are refused. With `wait_final` the acknowledgement waits
//! until the result is final (its challenge window closed, or its challenge
//! resolved) instead of being written when the job settles.
//!
//! Acknowledgement: `{"result":{"output","tolerance","agreeing_power",
//! "committee_power","finalized_height","finality"}}` where `output` is the settled digest
//! (stake-weighted median, in units of the model's `tolerance`, a decimal
//! string: value ≈ output × tolerance) and `finality` is "provisional" (the
//! result may still be overturned by a challenge) or "final", or
//! `{"error":"…"}`.

use serde::{Deserialize, Serialize};
use verdict_core::coin::Coin;
use verdict_inference::state::{InputTensor, JobResult};

/// Largest packet data a request may have, in bytes (before any model check).
pub const MAX_REQUEST_BYTES: usize = 1 << 20;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InferenceRequest {
    pub model_id: String,
    pub inputs: Vec<InputTensor>,
    pub max_latency_ms: u32,
    pub fee: Coin,
    /// Acknowledge only once the result is final (issue 21 §1).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub wait_final: bool,
}

impl InferenceRequest {
    /// Decodes packet data; the stateful checks (model, shapes, latency range,
    /// fee) are `MsgSubmitJob`'s and run where the job is created.
    pub fn decode(data: &[u8]) -> Result<InferenceRequest, String> {
        if data.len() > MAX_REQUEST_BYTES {
            return Err(format!(
                "inference request of {} bytes is above the cap of {MAX_REQUEST_BYTES}",
                data.len()
            ));
        }
        let req: InferenceRequest =
            serde_json::from_slice(data).map_err(|e| format!("bad inference request: {e}"))?;
        if req.model_id.is_empty() {
            return Err("bad inference request: empty model_id".into());
        }
        Ok(req)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InferenceResult {
    /// The settled digest: value ≈ output × tolerance.
    pub output: Vec<i64>,
    /// The model's tolerance as a decimal string (e.g. "0.0001").
    pub tolerance: String,
    pub agreeing_power: u64,
    pub committee_power: u64,
    pub finalized_height: u64,
    /// "provisional" or "final" (absent from acks of before challenges).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub finality: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum InferenceAck {
    Result(InferenceResult),
    Error(String),
}

impl InferenceAck {
    /// The result ack of a completed job of a model with `tolerance_nano`.
    pub fn from_result(r: &JobResult, tolerance_nano: u64) -> InferenceAck {
        InferenceAck::Result(InferenceResult {
            output: r.digest.clone(),
            tolerance: verdict_inference::query::decimal_of(1, tolerance_nano),
            agreeing_power: r.agreeing_power,
            committee_power: r.committee_power,
            finalized_height: r.finalized_height,
            finality: if r.provisional {
                "provisional"
            } else {
                "final"
            }
            .into(),
        })
    }

    /// The acknowledgement bytes (JSON, fields in declaration order).
    pub fn to_bytes(&self) -> Vec<u8> {
        match serde_json::to_vec(self) {
            Ok(v) => v,
            // Serializing these plain structs cannot fail; keep a valid ack anyway.
            Err(_) => br#"{"error":"acknowledgement encoding"}"#.to_vec(),
        }
    }

    pub fn decode(data: &[u8]) -> Result<InferenceAck, String> {
        serde_json::from_slice(data).map_err(|e| format!("bad inference acknowledgement: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_decodes_from_json_and_bad_ones_are_refused_with_a_reason() {
        let data = br#"{"model_id":"m1","inputs":[{"name":"x","dtype":"float32","shape":[1,2],"data":"AAAAAAAAgD8="}],"max_latency_ms":500,"fee":{"denom":"uverd","amount":"1000"}}"#;
        let r = InferenceRequest::decode(data).expect("decodes");
        assert_eq!(r.model_id, "m1");
        assert_eq!(r.inputs[0].shape, vec![1, 2]);
        assert_eq!(r.inputs[0].data.len(), 8);
        assert_eq!(r.fee, Coin::new(1000, "uverd"));
        let again = serde_json::to_vec(&r).expect("json");
        assert_eq!(InferenceRequest::decode(&again), Ok(r));

        for bad in [
            &b"not json"[..],
            br#"{"model_id":"m1"}"#,
            br#"{"model_id":"","inputs":[],"max_latency_ms":1,"fee":{"denom":"uverd","amount":"1"}}"#,
            br#"{"model_id":"m","inputs":[],"max_latency_ms":-1,"fee":{"denom":"uverd","amount":"1"}}"#,
            br#"{"model_id":"m","inputs":[],"max_latency_ms":1,"fee":{"denom":"uverd","amount":"1"},"extra":1}"#,
        ] {
            let e = InferenceRequest::decode(bad).expect_err("refused");
            assert!(e.starts_with("bad inference request"), "{e}");
        }
        let big = vec![b' '; MAX_REQUEST_BYTES + 1];
        assert!(InferenceRequest::decode(&big)
            .expect_err("too big")
            .contains("cap"));
    }

    #[test]
    fn acknowledgements_have_a_fixed_json_form() {
        let ok = InferenceAck::Result(InferenceResult {
            output: vec![3, -1],
            tolerance: "0.001".into(),
            agreeing_power: 20,
            committee_power: 30,
            finalized_height: 42,
            finality: String::new(),
        });
        assert_eq!(
            ok.to_bytes(),
            br#"{"result":{"output":[3,-1],"tolerance":"0.001","agreeing_power":20,"committee_power":30,"finalized_height":42}}"#
        );
        assert_eq!(InferenceAck::decode(&ok.to_bytes()), Ok(ok));
        let err = InferenceAck::Error("job 7 expired".into());
        assert_eq!(err.to_bytes(), br#"{"error":"job 7 expired"}"#);
        assert_eq!(InferenceAck::decode(&err.to_bytes()), Ok(err));
        assert!(InferenceAck::decode(b"{}").is_err());
    }
}
