//! Inference messages (`verdict.inference.v1`) with their stateless checks.

use cosmrs::Any;
use cosmwasm_std::{Decimal, Uint128};
use prost::Message;
use verdict_core::address::Addr;
use verdict_core::coin::Coin;
use verdict_proto::inference::v1 as pb;

use crate::error::InferenceError;
use crate::state::{InputTensor, Spec};

pub use pb::{
    MSG_CHALLENGE_JOB_URL, MSG_REGISTER_MODEL_URL, MSG_SERVE_MODEL_URL, MSG_SUBMIT_JOB_URL,
};

const MAX_TENSORS: usize = 8;
/// URIs a registration may name, and the length of each.
pub const MAX_URIS: usize = 4;
pub const MAX_URI_LEN: usize = 256;
/// Models one `MsgServeModel` may name.
pub const MAX_SERVE_IDS: usize = 32;
/// The URI schemes a sidecar may be pointed at (`file://` is for local nets:
/// a sidecar reads only what its operator's policy allows, and checks the hash).
const SCHEMES: [&str; 4] = ["http://", "https://", "file://", "ipfs://"];
const MAX_RANK: usize = 8;
const MAX_NAME: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InferenceMsg {
    RegisterModel {
        owner: Addr,
        model_id: String,
        name: String,
        inputs: Vec<Spec>,
        outputs: Vec<Spec>,
        tolerance_nano: u64,
        rtol_nano: Option<u64>,
        input_range: Option<(i64, i64)>,
        max_output_len: u32,
        /// Where the bytes are, tried in order.
        uris: Vec<String>,
        size_bytes: u64,
    },
    /// An operator declares its validator serves (or stops serving) models.
    ServeModel {
        operator: Addr,
        model_ids: Vec<String>,
        serve: bool,
    },
    SubmitJob {
        requester: Addr,
        model_id: String,
        inputs: Vec<InputTensor>,
        max_latency_ms: u32,
        fee: Coin,
        /// Requested over IBC (a channel's payer pays): counted against the
        /// remote share of a block's job slots.
        remote: bool,
        /// The registered spec the requester pins (see `Model::spec_hash`).
        spec_hash: Option<String>,
    },
    /// Challenges a provisional result with a bond (`crate::challenge`).
    ChallengeJob {
        challenger: Addr,
        job_id: u64,
        bond: Coin,
    },
}

pub fn element_size(dtype: &str) -> Option<u64> {
    match dtype {
        "float32" | "int32" => Some(4),
        "float64" | "int64" => Some(8),
        _ => None,
    }
}

fn invalid(s: impl Into<String>) -> InferenceError {
    InferenceError::Invalid(s.into())
}

/// 1..=[`MAX_URIS`] URIs of a known scheme, printable ASCII, each at most
/// [`MAX_URI_LEN`] bytes and with something after the scheme.
fn check_uris(uris: &[String]) -> Result<(), InferenceError> {
    if uris.is_empty() || uris.len() > MAX_URIS {
        return Err(invalid(format!(
            "a model needs 1..{MAX_URIS} uris saying where its bytes are"
        )));
    }
    for u in uris {
        let scheme = SCHEMES.iter().find(|s| u.starts_with(*s));
        let ok = u.len() <= MAX_URI_LEN
            && u.chars().all(|c| c.is_ascii_graphic())
            && scheme.is_some_and(|s| u.len() > s.len());
        if !ok {
            return Err(invalid(format!(
                "uri {u:?} must be http://, https://, file:// or ipfs:// with a location, \
                 printable ASCII, at most {MAX_URI_LEN} bytes"
            )));
        }
    }
    Ok(())
}

fn check_name(what: &str, n: &str) -> Result<(), InferenceError> {
    if n.is_empty() || n.len() > MAX_NAME || !n.chars().all(|c| c.is_ascii_graphic()) {
        return Err(invalid(format!(
            "{what} must be 1..{MAX_NAME} printable ASCII characters"
        )));
    }
    Ok(())
}

fn spec(what: &str, s: &pb::TensorSpec) -> Result<Spec, InferenceError> {
    check_name(what, &s.name)?;
    if element_size(&s.dtype).is_none() {
        return Err(invalid(format!(
            "{what} {}: dtype {:?} is not one of float32, float64, int32, int64",
            s.name, s.dtype
        )));
    }
    if s.shape.is_empty() || s.shape.len() > MAX_RANK {
        return Err(invalid(format!(
            "{what} {}: rank must be 1..{MAX_RANK}",
            s.name
        )));
    }
    if s.shape.iter().any(|&d| d == 0 || d < -1) {
        return Err(invalid(format!(
            "{what} {}: dimensions must be positive or -1 (dynamic)",
            s.name
        )));
    }
    Ok(Spec {
        name: s.name.clone(),
        dtype: s.dtype.clone(),
        shape: s.shape.clone(),
    })
}

/// The unsigned decimal `digits` ("0.001") in units of 10^-9, rounded down;
/// errors name `what` and the field as sent, `s`.
fn nano_of(what: &str, s: &str, digits: &str) -> Result<Uint128, InferenceError> {
    let d: Decimal = verdict_core::coin::parse_udec(digits)
        .ok_or_else(|| invalid(format!("{what} {s:?} is not a decimal")))?;
    Ok(d.checked_mul(Decimal::from_ratio(1_000_000_000u128, 1u128))
        .map_err(|_| invalid(format!("{what} is too large")))?
        .to_uint_floor())
}

/// A decimal tolerance ("0.001") in units of 10^-9, at least 1.
pub fn parse_tolerance(s: &str) -> Result<u64, InferenceError> {
    let nano = nano_of("tolerance", s, s)?;
    if nano.is_zero() || nano > Uint128::new(1_000_000_000_000_000) {
        return Err(invalid(format!(
            "tolerance {s:?} must be between 0.000000001 and 1000000"
        )));
    }
    u64::try_from(nano.u128()).map_err(|_| invalid("tolerance is too large"))
}

/// A signed decimal ("-1.5") in units of 10^-9, within ±9.2·10^9.
pub fn parse_signed_nano(what: &str, s: &str) -> Result<i64, InferenceError> {
    let (neg, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let nano = nano_of(what, s, digits)?;
    let v = i64::try_from(nano.u128()).map_err(|_| invalid(format!("{what} is too large")))?;
    Ok(if neg { v.saturating_neg() } else { v })
}

pub fn is_model_id(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl InferenceMsg {
    /// `Ok(None)` when the message is not an inference message.
    pub fn decode(any: &Any) -> Result<Option<InferenceMsg>, InferenceError> {
        match any.type_url.as_str() {
            MSG_REGISTER_MODEL_URL => {
                let m = pb::MsgRegisterModel::decode(any.value.as_slice())
                    .map_err(|e| invalid(format!("bad MsgRegisterModel: {e}")))?;
                Self::register(m).map(Some)
            }
            MSG_SUBMIT_JOB_URL => {
                let m = pb::MsgSubmitJob::decode(any.value.as_slice())
                    .map_err(|e| invalid(format!("bad MsgSubmitJob: {e}")))?;
                Self::submit(m).map(Some)
            }
            MSG_SERVE_MODEL_URL => {
                let m = pb::MsgServeModel::decode(any.value.as_slice())
                    .map_err(|e| invalid(format!("bad MsgServeModel: {e}")))?;
                Self::serve(m).map(Some)
            }
            MSG_CHALLENGE_JOB_URL => {
                let m = pb::MsgChallengeJob::decode(any.value.as_slice())
                    .map_err(|e| invalid(format!("bad MsgChallengeJob: {e}")))?;
                Self::challenge(m).map(Some)
            }
            _ => Ok(None),
        }
    }

    fn register(m: pb::MsgRegisterModel) -> Result<InferenceMsg, InferenceError> {
        let owner = Addr::parse(&m.owner).map_err(|e| invalid(format!("owner: {e}")))?;
        if !is_model_id(&m.model_id) {
            return Err(invalid(
                "model_id must be the lower-case hex sha256 of the model file (64 characters)",
            ));
        }
        check_name("name", &m.name)?;
        for (what, list) in [("input", &m.inputs), ("output", &m.outputs)] {
            if list.is_empty() || list.len() > MAX_TENSORS {
                return Err(invalid(format!("a model needs 1..{MAX_TENSORS} {what}s")));
            }
        }
        let inputs = m
            .inputs
            .iter()
            .map(|s| spec("input", s))
            .collect::<Result<Vec<_>, _>>()?;
        let outputs = m
            .outputs
            .iter()
            .map(|s| spec("output", s))
            .collect::<Result<Vec<_>, _>>()?;
        let tolerance_nano = parse_tolerance(&m.tolerance)?;
        let rtol_nano = if m.rtol.is_empty() {
            None
        } else {
            let nano = nano_of("rtol", &m.rtol, &m.rtol)?;
            Some(u64::try_from(nano.u128()).map_err(|_| invalid("rtol is too large"))?)
        };
        let input_range = match (m.input_min.is_empty(), m.input_max.is_empty()) {
            (true, true) => None,
            (false, false) => {
                let lo = parse_signed_nano("input_min", &m.input_min)?;
                let hi = parse_signed_nano("input_max", &m.input_max)?;
                if lo > hi {
                    return Err(invalid("input_min must not exceed input_max"));
                }
                Some((lo, hi))
            }
            _ => return Err(invalid("input_min and input_max go together")),
        };
        if m.max_output_len == 0 {
            return Err(invalid("max_output_len must be positive"));
        }
        check_uris(&m.uris)?;
        if m.size_bytes == 0 {
            return Err(invalid(
                "size_bytes must be the model file's size (positive)",
            ));
        }
        Ok(InferenceMsg::RegisterModel {
            owner,
            model_id: m.model_id,
            name: m.name,
            inputs,
            outputs,
            tolerance_nano,
            rtol_nano,
            input_range,
            max_output_len: m.max_output_len,
            uris: m.uris,
            size_bytes: m.size_bytes,
        })
    }

    fn serve(m: pb::MsgServeModel) -> Result<InferenceMsg, InferenceError> {
        let operator =
            Addr::parse_valoper(&m.operator).map_err(|e| invalid(format!("operator: {e}")))?;
        if m.model_ids.is_empty() || m.model_ids.len() > MAX_SERVE_IDS {
            return Err(invalid(format!("name 1..{MAX_SERVE_IDS} model ids")));
        }
        if let Some(bad) = m.model_ids.iter().find(|id| !is_model_id(id)) {
            return Err(invalid(format!(
                "model id {bad:?} is not 64 lower-case hex characters"
            )));
        }
        Ok(InferenceMsg::ServeModel {
            operator,
            model_ids: m.model_ids,
            serve: m.serve,
        })
    }

    fn submit(m: pb::MsgSubmitJob) -> Result<InferenceMsg, InferenceError> {
        let requester =
            Addr::parse(&m.requester).map_err(|e| invalid(format!("requester: {e}")))?;
        if !is_model_id(&m.model_id) {
            return Err(invalid("model_id must be 64 lower-case hex characters"));
        }
        if m.inputs.is_empty() || m.inputs.len() > MAX_TENSORS {
            return Err(invalid(format!(
                "a job needs 1..{MAX_TENSORS} input tensors"
            )));
        }
        if m.max_latency_ms == 0 {
            return Err(invalid("max_latency_ms must be positive"));
        }
        let fee = m.fee.ok_or_else(|| invalid("fee is missing"))?;
        let amount: u128 = verdict_core::coin::parse_uint(&fee.amount)
            .ok_or_else(|| invalid(format!("fee amount {:?} is not an integer", fee.amount)))?;
        verdict_core::coin::validate_denom(&fee.denom).map_err(|e| invalid(format!("fee: {e}")))?;
        let inputs = m
            .inputs
            .into_iter()
            .map(|t| InputTensor {
                name: t.name,
                dtype: t.dtype,
                shape: t.shape,
                data: t.data.into(),
            })
            .collect();
        Ok(InferenceMsg::SubmitJob {
            requester,
            model_id: m.model_id,
            inputs,
            max_latency_ms: m.max_latency_ms,
            fee: Coin::new(amount, &fee.denom),
            remote: false,
            spec_hash: if m.spec_hash.is_empty() {
                None
            } else if is_model_id(&m.spec_hash) {
                Some(m.spec_hash)
            } else {
                return Err(invalid("spec_hash must be 64 lower-case hex characters"));
            },
        })
    }

    fn challenge(m: pb::MsgChallengeJob) -> Result<InferenceMsg, InferenceError> {
        let challenger =
            Addr::parse(&m.challenger).map_err(|e| invalid(format!("challenger: {e}")))?;
        if m.job_id == 0 {
            return Err(invalid("job_id must be positive"));
        }
        let bond = m.bond.ok_or_else(|| invalid("bond is missing"))?;
        let amount: u128 = verdict_core::coin::parse_uint(&bond.amount)
            .ok_or_else(|| invalid(format!("bond amount {:?} is not an integer", bond.amount)))?;
        verdict_core::coin::validate_denom(&bond.denom)
            .map_err(|e| invalid(format!("bond: {e}")))?;
        Ok(InferenceMsg::ChallengeJob {
            challenger,
            job_id: m.job_id,
            bond: Coin::new(amount, &bond.denom),
        })
    }

    pub fn signer(&self) -> Addr {
        match self {
            InferenceMsg::RegisterModel { owner, .. } => *owner,
            InferenceMsg::ServeModel { operator, .. } => *operator,
            InferenceMsg::SubmitJob { requester, .. } => *requester,
            InferenceMsg::ChallengeJob { challenger, .. } => *challenger,
        }
    }

    pub fn type_url(&self) -> &'static str {
        match self {
            InferenceMsg::RegisterModel { .. } => MSG_REGISTER_MODEL_URL,
            InferenceMsg::ServeModel { .. } => MSG_SERVE_MODEL_URL,
            InferenceMsg::SubmitJob { .. } => MSG_SUBMIT_JOB_URL,
            InferenceMsg::ChallengeJob { .. } => MSG_CHALLENGE_JOB_URL,
        }
    }
}

/// Test support for other crates: a `MsgRegisterModel` of the small mlp the
/// tests and fuzz targets serve (input `x` [-1, 2] float32, output `y` [-1, 8],
/// tolerance 0.001).
#[cfg(any(test, feature = "testing"))]
pub fn mlp_register_msg(
    owner: String,
    model_id: &str,
    uris: Vec<String>,
    size_bytes: u64,
) -> pb::MsgRegisterModel {
    let spec = |name: &str, width: i64| pb::TensorSpec {
        name: name.into(),
        dtype: "float32".into(),
        shape: vec![-1, width],
    };
    pb::MsgRegisterModel {
        owner,
        model_id: model_id.into(),
        name: "mlp".into(),
        inputs: vec![spec("x", 2)],
        outputs: vec![spec("y", 8)],
        tolerance: "0.001".into(),
        max_output_len: 16,
        uris,
        size_bytes,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fee_amount_with_a_sign_or_spaces_is_refused() {
        // Security review I-6: Rust's integer parser takes "+5"; the SDK does not.
        let submit = |amount: &str| {
            let m = pb::MsgSubmitJob {
                requester: Addr([1; 20]).bech32(),
                model_id: "ab".repeat(32),
                inputs: vec![pb::Tensor {
                    name: "x".into(),
                    dtype: "float32".into(),
                    shape: vec![1, 2],
                    data: vec![0; 8],
                }],
                max_latency_ms: 1000,
                fee: Some(pb::Coin {
                    denom: "uverd".into(),
                    amount: amount.into(),
                }),
                spec_hash: String::new(),
            };
            InferenceMsg::decode(&Any {
                type_url: MSG_SUBMIT_JOB_URL.into(),
                value: m.encode_to_vec(),
            })
        };
        assert!(matches!(submit("40000"), Ok(Some(_))));
        for bad in ["+40000", " 40000", "40000 ", "-1", ""] {
            assert!(submit(bad).is_err(), "fee amount {bad:?}");
        }
        // Decimals too: tolerances and signed bounds take no '+' or spaces.
        assert_eq!(parse_tolerance("0.001").ok(), Some(1_000_000));
        for bad in ["+0.001", " 0.001", "0.001 "] {
            assert!(parse_tolerance(bad).is_err(), "tolerance {bad:?}");
        }
        assert_eq!(parse_signed_nano("min", "-1.5").ok(), Some(-1_500_000_000));
        for bad in ["+1.5", "-+1.5", "--1", " 1"] {
            assert!(parse_signed_nano("min", bad).is_err(), "bound {bad:?}");
        }
    }
}
