//! Queries under `/verdict.inference.v1.Query/*`. Verdict's own queries take a
//! JSON request and answer JSON (the standard cosmos.* queries stay protobuf).

use cosmwasm_std::{Order, Storage};
use cw_storage_plus::Bound;
use serde::{Deserialize, Serialize};
use verdict_core::address::Addr;

use crate::error::InferenceError;
use crate::state::{self, FaultRecord, Job, Model};

pub const PREFIX: &str = "/verdict.inference.v1.Query/";
const MAX_LIMIT: u32 = 100;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Req {
    id: Option<serde_json::Value>,
    requester: Option<String>,
    validator: Option<String>,
    start_after: Option<u64>,
    /// Models: the id after which a page starts.
    start_after_id: Option<String>,
    limit: Option<u32>,
}

#[derive(Serialize)]
struct JobView<'a> {
    #[serde(flatten)]
    job: &'a Job,
    requester_address: String,
    /// Input tensors while the job is live (they are dropped when it settles).
    inputs: Option<Vec<state::InputTensor>>,
    /// The result as decimals (digest × tolerance), when completed.
    output: Option<Vec<String>>,
    tolerance: Option<String>,
}

/// q × 10^-9 · nano as an exact decimal string.
pub fn decimal_of(q: i64, nano: u64) -> String {
    let v = i128::from(q).saturating_mul(i128::from(nano));
    let neg = v < 0;
    let a = v.unsigned_abs();
    let int = a / 1_000_000_000;
    let frac = a % 1_000_000_000;
    let mut s = format!("{}{int}", if neg { "-" } else { "" });
    if frac != 0 {
        let f = format!("{frac:09}");
        s.push('.');
        s.push_str(f.trim_end_matches('0'));
    }
    s
}

fn job_json(s: &dyn Storage, job: &Job) -> Result<serde_json::Value, InferenceError> {
    let model = state::MODELS.may_load(s, &job.model_id)?;
    let nano = model.as_ref().map(|m| m.tolerance_nano);
    let output = match (&job.result, nano) {
        (Some(r), Some(n)) if job.status == state::JobStatus::Completed => {
            Some(r.digest.iter().map(|q| decimal_of(*q, n)).collect())
        }
        _ => None,
    };
    serde_json::to_value(JobView {
        job,
        requester_address: Addr(job.requester).bech32(),
        inputs: state::INPUTS.may_load(s, job.id)?,
        output,
        tolerance: nano.map(|n| decimal_of(1, n)),
    })
    .map_err(|e| InferenceError::Storage(e.to_string()))
}

/// A model as queries show it: the stored record plus its `spec_hash`.
fn model_view(m: &Model) -> Result<serde_json::Value, InferenceError> {
    let mut v = serde_json::to_value(m).map_err(|e| InferenceError::Storage(e.to_string()))?;
    if let Some(o) = v.as_object_mut() {
        o.insert("spec_hash".into(), serde_json::Value::String(m.spec_hash()));
    }
    Ok(v)
}

fn limit(r: &Req) -> usize {
    r.limit.unwrap_or(MAX_LIMIT).clamp(1, MAX_LIMIT) as usize
}

fn json<T: Serialize>(v: &T) -> Result<Vec<u8>, InferenceError> {
    let mut v = serde_json::to_value(v).map_err(|e| InferenceError::Storage(e.to_string()))?;
    render_addresses(&mut v);
    serde_json::to_vec(&v).map_err(|e| InferenceError::Storage(e.to_string()))
}

/// State keeps addresses as 20 raw bytes; answers show them as people read
/// them: `operator` as a `verdictvaloper…` address, `requester` and `owner` as
/// `verdict…` account addresses.
fn render_addresses(v: &mut serde_json::Value) {
    use serde_json::Value;
    fn addr20(v: &Value) -> Option<[u8; 20]> {
        let a = v.as_array()?;
        let bytes: Vec<u8> = a
            .iter()
            .map(|x| x.as_u64().and_then(|n| u8::try_from(n).ok()))
            .collect::<Option<_>>()?;
        bytes.try_into().ok()
    }
    match v {
        Value::Object(map) => {
            for (k, x) in map.iter_mut() {
                match (k.as_str(), addr20(x)) {
                    ("operator", Some(b)) => *x = Value::String(Addr(b).valoper()),
                    ("requester" | "owner", Some(b)) => *x = Value::String(Addr(b).bech32()),
                    _ => render_addresses(x),
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(render_addresses),
        _ => {}
    }
}

/// Answers one query; `Ok(None)` when the method is not ours.
pub fn handle(s: &dyn Storage, path: &str, data: &[u8]) -> Result<Option<Vec<u8>>, InferenceError> {
    let Some(method) = path.strip_prefix(PREFIX) else {
        return Ok(None);
    };
    let r: Req = if data.is_empty() {
        Req::default()
    } else {
        serde_json::from_slice(data).map_err(|e| {
            InferenceError::Invalid(format!("request is not the expected JSON: {e}"))
        })?
    };
    let out = match method {
        "Params" => params(s)?,
        "Model" => model(s, &r)?,
        "Models" => models(s, &r)?,
        "Job" => job(s, &r)?,
        "Jobs" => jobs(s, &r)?,
        "Faults" => faults(s, &r)?,
        other => {
            return Err(InferenceError::Invalid(format!(
                "unknown query method {other:?}"
            )))
        }
    };
    Ok(Some(out))
}

/// The params, plus the fee a job must carry right now.
fn params(s: &dyn Storage) -> Result<Vec<u8>, InferenceError> {
    let mut v = serde_json::to_value(state::params(s))
        .map_err(|e| InferenceError::Storage(e.to_string()))?;
    if let Some(o) = v.as_object_mut() {
        o.insert(
            "job_fee_floor".into(),
            serde_json::Value::String(state::job_fee_floor(s).to_string()),
        );
    }
    json(&v)
}

fn model(s: &dyn Storage, r: &Req) -> Result<Vec<u8>, InferenceError> {
    let id =
        r.id.as_ref()
            .and_then(|v| v.as_str())
            .ok_or_else(|| InferenceError::Invalid("want {\"id\": MODEL_ID}".into()))?;
    let m: Model = state::MODELS
        .may_load(s, id)?
        .ok_or_else(|| InferenceError::UnknownModel(id.into()))?;
    let mut v = model_view(&m)?;
    // Who serves it, with their power (0: not bonded, so never drawn).
    let mut servers = Vec::new();
    for op in state::servers(s, id)? {
        let power = verdict_staking::state::find_validator(s, &op)?.map_or(0, |v| v.power());
        servers.push(serde_json::json!({
            "operator": Addr(op).valoper(),
            "power": power,
        }));
    }
    if let Some(o) = v.as_object_mut() {
        o.insert("servers".into(), serde_json::Value::Array(servers));
    }
    json(&v)
}

fn models(s: &dyn Storage, r: &Req) -> Result<Vec<u8>, InferenceError> {
    let start = r.start_after_id.as_deref().map(Bound::exclusive);
    let v: Vec<Model> = state::MODELS
        .range(s, start, None, Order::Ascending)
        .take(limit(r))
        .map(|x| x.map(|(_, m)| m))
        .collect::<Result<_, _>>()?;
    let v: Vec<serde_json::Value> = v.iter().map(model_view).collect::<Result<_, _>>()?;
    json(&v)
}

fn job(s: &dyn Storage, r: &Req) -> Result<Vec<u8>, InferenceError> {
    let id =
        r.id.as_ref()
            .and_then(|v| v.as_u64().or_else(|| v.as_str()?.parse().ok()))
            .ok_or_else(|| InferenceError::Invalid("want {\"id\": JOB_ID}".into()))?;
    let job = match state::JOBS.may_load(s, id)? {
        Some(j) => j,
        None if id >= 1 && id < state::NEXT_JOB_ID.may_load(s)?.unwrap_or(1) => {
            return Err(InferenceError::PrunedJob(
                id,
                state::params(s).job_retention_blocks,
            ))
        }
        None => return Err(InferenceError::UnknownJob(id)),
    };
    json(&job_json(s, &job)?)
}

fn jobs(s: &dyn Storage, r: &Req) -> Result<Vec<u8>, InferenceError> {
    let start = r.start_after.map(Bound::exclusive);
    let ids: Vec<u64> = match &r.requester {
        Some(a) => {
            let a =
                Addr::parse(a).map_err(|e| InferenceError::Invalid(format!("requester: {e}")))?;
            state::JOBS_BY_REQUESTER
                .prefix(&a.0)
                .keys(s, start, None, Order::Ascending)
                .take(limit(r))
                .collect::<Result<_, _>>()?
        }
        None => state::JOBS
            .keys(s, start, None, Order::Ascending)
            .take(limit(r))
            .collect::<Result<_, _>>()?,
    };
    let mut v = Vec::with_capacity(ids.len());
    for id in ids {
        v.push(job_json(s, &state::JOBS.load(s, id)?)?);
    }
    json(&v)
}

fn faults(s: &dyn Storage, r: &Req) -> Result<Vec<u8>, InferenceError> {
    let want = r.validator.as_deref().map(str::to_uppercase);
    let v: Vec<FaultRecord> = state::FAULTS
        .range(
            s,
            r.start_after.map(Bound::exclusive),
            None,
            Order::Ascending,
        )
        .filter_map(Result::ok)
        .map(|(_, f)| f)
        .filter(|f| {
            want.as_ref()
                .is_none_or(|w| *w == f.address || Addr(f.operator).valoper().to_uppercase() == *w)
        })
        .take(limit(r))
        .collect();
    json(&v)
}

#[cfg(test)]
mod tests {
    use super::decimal_of;

    #[test]
    fn decimals_are_exact() {
        assert_eq!(decimal_of(1234, 1_000_000), "1.234");
        assert_eq!(decimal_of(-5, 100_000_000), "-0.5");
        assert_eq!(decimal_of(0, 1_000), "0");
        assert_eq!(decimal_of(3, 1_000_000_000), "3");
    }
}
