//! Queries under `/verdict.inference.v1.Query/*` (`proto/verdict/inference/v1/query.proto`):
//! protobuf requests and answers, as every other query; addresses in answers
//! are bech32.

use cosmrs::proto::cosmos::base::query::v1beta1::{PageRequest, PageResponse};
use cosmwasm_std::{Order, Storage};
use cw_storage_plus::Bound;
use prost::Message;
use verdict_core::address::Addr;
use verdict_proto::inference::v1 as pb;

use crate::error::InferenceError;
use crate::params::InferenceParams;
use crate::state::{self, FaultKind, FaultRecord, Job, JobStatus, Model};

pub const PREFIX: &str = "/verdict.inference.v1.Query/";
const MAX_LIMIT: u64 = 100;

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

fn decode<M: Message + Default>(data: &[u8]) -> Result<M, InferenceError> {
    M::decode(data).map_err(|e| InferenceError::Invalid(format!("bad request: {e}")))
}

/// Answers one query; `Ok(None)` when the method is not ours.
pub fn handle(s: &dyn Storage, path: &str, data: &[u8]) -> Result<Option<Vec<u8>>, InferenceError> {
    let Some(method) = path.strip_prefix(PREFIX) else {
        return Ok(None);
    };
    let out = match method {
        "Params" => {
            let _: pb::QueryParamsRequest = decode(data)?;
            pb::QueryParamsResponse {
                params: Some(params_pb(&state::params(s))),
                job_fee_floor: state::job_fee_floor(s).to_string(),
            }
            .encode_to_vec()
        }
        "Model" => model(s, decode(data)?)?.encode_to_vec(),
        "Models" => models(s, decode(data)?)?.encode_to_vec(),
        "Job" => job(s, decode(data)?)?.encode_to_vec(),
        "Jobs" => jobs(s, decode(data)?)?.encode_to_vec(),
        "Faults" => faults(s, decode(data)?)?.encode_to_vec(),
        _ => return Ok(None),
    };
    Ok(Some(out))
}

/// A list request's page: where it starts (exclusive or inclusive key), how
/// many, how many to skip, whether to count all.
struct Page<K> {
    /// The first key, and whether it is included (a pagination key is; a
    /// legacy `start_after` is not).
    start: Option<(K, bool)>,
    limit: usize,
    offset: usize,
    count_total: bool,
}

fn page<K>(
    legacy_start: Option<K>,
    legacy_limit: u64,
    p: Option<&PageRequest>,
    key: impl Fn(&[u8]) -> Result<K, InferenceError>,
) -> Result<Page<K>, InferenceError> {
    let p = p.cloned().unwrap_or_default();
    if p.reverse {
        return Err(InferenceError::Invalid(
            "reverse pagination is not served".into(),
        ));
    }
    if !p.key.is_empty() && p.offset > 0 {
        return Err(InferenceError::Invalid(
            "pagination: key and offset cannot both be set".into(),
        ));
    }
    let start = if !p.key.is_empty() {
        Some((key(&p.key)?, true))
    } else {
        legacy_start.map(|k| (k, false))
    };
    let limit = match (p.limit, legacy_limit) {
        (0, 0) => MAX_LIMIT,
        (0, l) | (l, _) => l.min(MAX_LIMIT),
    };
    Ok(Page {
        start,
        limit: usize::try_from(limit).unwrap_or(100),
        offset: usize::try_from(p.offset).unwrap_or(usize::MAX),
        count_total: p.count_total,
    })
}

fn params_pb(p: &InferenceParams) -> pb::Params {
    pb::Params {
        max_input_bytes: p.max_input_bytes,
        max_output_len: p.max_output_len,
        committee_size: p.committee_size,
        max_jobs_per_block: p.max_jobs_per_block,
        max_jobs_per_source: p.max_jobs_per_source,
        max_model_bytes: p.max_model_bytes,
        min_model_servers: p.min_model_servers,
        model_registration_fee: p.model_registration_fee.to_string(),
        min_job_fee: p.min_job_fee.to_string(),
        job_base_fee: p.job_base_fee.to_string(),
        max_latency_ms: p.max_latency_ms,
        min_latency_ms: p.min_latency_ms,
        min_tolerance_nano: p.min_tolerance_nano,
        max_tolerance_nano: p.max_tolerance_nano,
        min_rtol_nano: p.min_rtol_nano,
        max_rtol_nano: p.max_rtol_nano,
        wrong_output_multiple: p.wrong_output_multiple,
        commit_blocks: p.commit_blocks,
        attestation_window_blocks: p.attestation_window_blocks,
        job_retention_blocks: p.job_retention_blocks,
        reveal_blocks: p.reveal_blocks,
        missed_window: p.missed_window,
        min_attested_fraction: p.min_attested_fraction.to_string(),
        slash_fraction_wrong_output: p.slash_fraction_wrong_output.to_string(),
        slash_fraction_bad_reveal: p.slash_fraction_bad_reveal.to_string(),
        slash_fraction_missed: p.slash_fraction_missed.to_string(),
        fault_jail_seconds: p.fault_jail_seconds,
        fault_cap_window_blocks: p.fault_cap_window_blocks,
        max_remote_job_fee: p.max_remote_job_fee.to_string(),
        validator_slash_cap: p.validator_slash_cap.to_string(),
        incident_share: p.incident_share.to_string(),
        compensation_fee_multiple: p.compensation_fee_multiple,
        challenge_window_blocks: p.challenge_window_blocks,
        challenge_committee_size: p.challenge_committee_size,
        challenge_reward_share: p.challenge_reward_share.to_string(),
    }
}

fn specs(v: &[state::Spec]) -> Vec<pb::Spec> {
    v.iter()
        .map(|x| pb::Spec {
            name: x.name.clone(),
            dtype: x.dtype.clone(),
            shape: x.shape.clone(),
        })
        .collect()
}

/// A model as queries show it (without its servers).
pub fn model_pb(m: &Model) -> pb::Model {
    pb::Model {
        id: m.id.clone(),
        name: m.name.clone(),
        owner: Addr(m.owner).bech32(),
        inputs: specs(&m.inputs),
        outputs: specs(&m.outputs),
        tolerance_nano: m.tolerance_nano,
        rtol_nano: m.rtol_nano,
        input_range: m.input_range.map(|(min, max)| pb::InputRange { min, max }),
        max_output_len: m.max_output_len,
        registered_height: m.registered_height,
        uris: m.uris.clone(),
        size_bytes: m.size_bytes,
        spec_hash: m.spec_hash(),
        servers: vec![],
    }
}

fn model(
    s: &dyn Storage,
    r: pb::QueryModelRequest,
) -> Result<pb::QueryModelResponse, InferenceError> {
    if r.id.is_empty() {
        return Err(InferenceError::Invalid("model id is empty".into()));
    }
    let m: Model = state::MODELS
        .may_load(s, &r.id)?
        .ok_or_else(|| InferenceError::UnknownModel(r.id.clone()))?;
    let mut v = model_pb(&m);
    for op in state::servers(s, &r.id)? {
        let power = verdict_staking::state::find_validator(s, &op)?.map_or(0, |v| v.power());
        v.servers.push(pb::Server {
            operator: Addr(op).valoper(),
            power,
        });
    }
    Ok(pb::QueryModelResponse { model: Some(v) })
}

fn models(
    s: &dyn Storage,
    r: pb::QueryModelsRequest,
) -> Result<pb::QueryModelsResponse, InferenceError> {
    let legacy = (!r.start_after_id.is_empty()).then(|| r.start_after_id.clone());
    let p = page(legacy, u64::from(r.limit), r.pagination.as_ref(), |k| {
        String::from_utf8(k.to_vec())
            .map_err(|_| InferenceError::Invalid("pagination key is not a model id".into()))
    })?;
    let start = p.start.as_ref().map(|(k, i)| (k.as_str(), *i));
    let mut it = state::MODELS
        .range(s, bound(start), None, Order::Ascending)
        .skip(p.offset);
    let mut out = Vec::new();
    for x in it.by_ref().take(p.limit) {
        out.push(model_pb(&x?.1));
    }
    let next_key = it
        .next()
        .transpose()?
        .map(|(k, _)| k.into_bytes())
        .unwrap_or_default();
    let total = if p.count_total {
        state::MODELS.keys(s, None, None, Order::Ascending).count() as u64
    } else {
        0
    };
    Ok(pb::QueryModelsResponse {
        models: out,
        pagination: Some(page_response(next_key, total)),
    })
}

fn bound<'a, K: cw_storage_plus::PrimaryKey<'a>>(start: Option<(K, bool)>) -> Option<Bound<'a, K>> {
    start.map(|(k, incl)| {
        if incl {
            Bound::inclusive(k)
        } else {
            Bound::exclusive(k)
        }
    })
}

fn page_response(next_key: Vec<u8>, total: u64) -> PageResponse {
    PageResponse { next_key, total }
}

fn status_pb(s: JobStatus) -> pb::job::Status {
    use pb::job::Status as P;
    match s {
        JobStatus::Pending => P::Pending,
        JobStatus::Committed => P::Committed,
        JobStatus::Revealing => P::Revealing,
        JobStatus::Revealed => P::Revealed,
        JobStatus::Completed => P::Completed,
        JobStatus::Failed => P::Failed,
        JobStatus::Expired => P::Expired,
        JobStatus::Overturned => P::Overturned,
    }
}

pub fn fault_kind_pb(k: FaultKind) -> pb::FaultKind {
    match k {
        FaultKind::WrongOutput => pb::FaultKind::WrongOutput,
        FaultKind::BadReveal => pb::FaultKind::BadReveal,
    }
}

/// A job as queries show it: the record, its live inputs, and its result as
/// decimals.
fn job_pb(s: &dyn Storage, job: &Job) -> Result<pb::Job, InferenceError> {
    let nano = state::MODELS
        .may_load(s, &job.model_id)?
        .map(|m| m.tolerance_nano);
    let output = match (&job.result, nano) {
        (Some(r), Some(n))
            if matches!(job.status, JobStatus::Completed | JobStatus::Overturned) =>
        {
            r.digest.iter().map(|q| decimal_of(*q, n)).collect()
        }
        _ => vec![],
    };
    let inputs = state::INPUTS.may_load(s, job.id)?.unwrap_or_default();
    Ok(pb::Job {
        id: job.id,
        requester: Addr(job.requester).bech32(),
        model_id: job.model_id.clone(),
        max_latency_ms: job.max_latency_ms,
        fee: Some(pb::Coin {
            denom: job.fee.denom.clone(),
            amount: job.fee.amount.to_string(),
        }),
        submitted_height: job.submitted_height,
        submitted_time_ms: job.submitted_time_ms,
        commit_deadline: job.commit_deadline,
        commit_closed_height: job.commit_closed_height,
        deadline_height: job.deadline_height,
        committee: job
            .committee
            .iter()
            .map(|m| pb::Member {
                address: m.address.clone(),
                operator: Addr(m.operator).valoper(),
                power: m.power,
                seats: m.seats,
            })
            .collect(),
        status: status_pb(job.status) as i32,
        result: job.result.as_ref().map(result_pb),
        inputs: inputs
            .into_iter()
            .map(|t| pb::InputTensor {
                name: t.name,
                dtype: t.dtype,
                shape: t.shape,
                data: t.data.to_vec(),
            })
            .collect(),
        output,
        tolerance: nano.map(|n| decimal_of(1, n)).unwrap_or_default(),
        provenance: job.provenance.as_ref().map(provenance_pb),
        finality: match &job.result {
            Some(r) if r.provisional => "provisional".into(),
            Some(_) => "final".into(),
            None => String::new(),
        },
        challenge_of: job.challenge_of.unwrap_or(0),
        challenge: job.challenge.as_ref().map(challenge_pb),
    })
}

fn result_pb(r: &state::JobResult) -> pb::JobResult {
    pb::JobResult {
        digest: r.digest.clone(),
        agreeing: r.agreeing.clone(),
        agreeing_power: r.agreeing_power,
        committee_power: r.committee_power,
        latency_ms: r.latency_ms,
        late: r.late.clone(),
        grey: r.grey.clone(),
        faults: r
            .faults
            .iter()
            .map(|f| pb::Fault {
                address: f.address.clone(),
                operator: Addr(f.operator).valoper(),
                kinds: f.kinds.iter().map(|k| fault_kind_pb(*k) as i32).collect(),
            })
            .collect(),
        missing: r.missing.clone(),
        excused: r.excused.clone(),
        finalized_height: r.finalized_height,
        compensation: r.compensation.to_string(),
        incident: r.incident,
        challenge_until: r.challenge_until,
    }
}

fn challenge_pb(c: &state::Challenge) -> pb::Challenge {
    pb::Challenge {
        challenger: Addr(c.challenger).bech32(),
        bond: Some(pb::Coin {
            denom: c.bond.denom.clone(),
            amount: c.bond.amount.to_string(),
        }),
        rerun_job_id: c.rerun_job,
        filed_height: c.filed_height,
        outcome: c.outcome.as_str().into(),
        resolved_height: c.resolved_height,
        original_digest: c.original_digest.clone(),
        slashed: c.slashed.to_string(),
        reward: c.reward.to_string(),
    }
}

fn provenance_pb(p: &state::Provenance) -> pb::Provenance {
    pb::Provenance {
        spec_hash: p.spec_hash.clone(),
        inputs_hash: p.inputs_hash.clone(),
        beacon: p.beacon.clone(),
        seed: p.seed.clone(),
        drawn_height: p.drawn_height,
        attested: p
            .attested
            .iter()
            .map(|a| pb::Attested {
                address: a.address.clone(),
                commit_height: a.commit_height,
                reveal_height: a.reveal_height,
                bad_reveal: a.bad_reveal,
                runtime: a.runtime.clone(),
            })
            .collect(),
    }
}

fn job(s: &dyn Storage, r: pb::QueryJobRequest) -> Result<pb::QueryJobResponse, InferenceError> {
    let id = r.id;
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
    Ok(pb::QueryJobResponse {
        job: Some(job_pb(s, &job)?),
    })
}

fn u64_key(k: &[u8]) -> Result<u64, InferenceError> {
    <[u8; 8]>::try_from(k)
        .map(u64::from_be_bytes)
        .map_err(|_| InferenceError::Invalid("pagination key is not an 8-byte id".into()))
}

fn jobs(s: &dyn Storage, r: pb::QueryJobsRequest) -> Result<pb::QueryJobsResponse, InferenceError> {
    let legacy = (r.start_after > 0).then_some(r.start_after);
    let p = page(legacy, u64::from(r.limit), r.pagination.as_ref(), u64_key)?;
    let (ids, next, total): (Vec<u64>, Option<u64>, u64) = if r.requester.is_empty() {
        let mut it = state::JOBS
            .keys(s, bound(p.start), None, Order::Ascending)
            .skip(p.offset);
        let ids = it.by_ref().take(p.limit).collect::<Result<_, _>>()?;
        let next = it.next().transpose()?;
        let total = if p.count_total {
            state::JOBS.keys(s, None, None, Order::Ascending).count() as u64
        } else {
            0
        };
        (ids, next, total)
    } else {
        let a = Addr::parse(&r.requester)
            .map_err(|e| InferenceError::Invalid(format!("requester: {e}")))?;
        let by = state::JOBS_BY_REQUESTER.prefix(&a.0);
        let mut it = by
            .keys(s, bound(p.start), None, Order::Ascending)
            .skip(p.offset);
        let ids = it.by_ref().take(p.limit).collect::<Result<_, _>>()?;
        let next = it.next().transpose()?;
        let total = if p.count_total {
            by.keys(s, None, None, Order::Ascending).count() as u64
        } else {
            0
        };
        (ids, next, total)
    };
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        out.push(job_pb(s, &state::JOBS.load(s, id)?)?);
    }
    Ok(pb::QueryJobsResponse {
        jobs: out,
        pagination: Some(page_response(
            next.map(|n| n.to_be_bytes().to_vec()).unwrap_or_default(),
            total,
        )),
    })
}

fn fault_pb(f: &FaultRecord) -> pb::FaultRecord {
    pb::FaultRecord {
        job_id: f.job_id,
        address: f.address.clone(),
        operator: Addr(f.operator).valoper(),
        kind: fault_kind_pb(f.kind) as i32,
        height: f.height,
        slashed: f.slashed.to_string(),
        jailed: f.jailed,
    }
}

fn faults(
    s: &dyn Storage,
    r: pb::QueryFaultsRequest,
) -> Result<pb::QueryFaultsResponse, InferenceError> {
    let want = (!r.validator.is_empty()).then(|| r.validator.to_uppercase());
    let legacy = (r.start_after > 0).then_some(r.start_after);
    let p = page(legacy, u64::from(r.limit), r.pagination.as_ref(), u64_key)?;
    let keep = |f: &FaultRecord| {
        want.as_ref()
            .is_none_or(|w| *w == f.address || Addr(f.operator).valoper().to_uppercase() == *w)
    };
    let mut it = state::FAULTS
        .range(s, bound(p.start), None, Order::Ascending)
        .filter_map(Result::ok)
        .filter(|(_, f)| keep(f))
        .skip(p.offset);
    let out: Vec<pb::FaultRecord> = it
        .by_ref()
        .take(p.limit)
        .map(|(_, f)| fault_pb(&f))
        .collect();
    let next = it.next().map(|(k, _)| k);
    let total = if p.count_total {
        state::FAULTS
            .range(s, None, None, Order::Ascending)
            .filter_map(Result::ok)
            .filter(|(_, f)| keep(f))
            .count() as u64
    } else {
        0
    };
    Ok(pb::QueryFaultsResponse {
        faults: out,
        pagination: Some(page_response(
            next.map(|n| n.to_be_bytes().to_vec()).unwrap_or_default(),
            total,
        )),
    })
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
