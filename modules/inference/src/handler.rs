//! Stateful checks and execution of inference messages.

use cosmrs::Any;
use prost::Message;
use verdict_bank::Bank;
use verdict_core::address::FEE_DENOM;
use verdict_core::ctx::Ctx;
use verdict_core::event::Event;
use verdict_proto::inference::v1 as pb;

use crate::error::InferenceError;
use crate::msgs::{element_size, InferenceMsg};
use crate::state::{self, InputTensor, Job, JobStatus, Model, Spec};

pub fn execute(ctx: &mut Ctx<'_>, msg: &InferenceMsg) -> Result<Any, InferenceError> {
    match msg {
        InferenceMsg::RegisterModel {
            owner,
            model_id,
            name,
            inputs,
            outputs,
            tolerance_nano,
            rtol_nano,
            input_range,
            max_output_len,
        } => {
            let p = state::params(ctx.store);
            if !(p.min_tolerance_nano..=p.max_tolerance_nano).contains(tolerance_nano) {
                return Err(InferenceError::Invalid(format!(
                    "tolerance must be within the chain's range {}..={} × 10^-9",
                    p.min_tolerance_nano, p.max_tolerance_nano
                )));
            }
            let rtol_nano = rtol_nano.unwrap_or(p.min_rtol_nano);
            if !(p.min_rtol_nano..=p.max_rtol_nano).contains(&rtol_nano) {
                return Err(InferenceError::Invalid(format!(
                    "rtol must be within the chain's range {}..={} × 10^-9",
                    p.min_rtol_nano, p.max_rtol_nano
                )));
            }
            if *max_output_len > p.max_output_len {
                return Err(InferenceError::Invalid(format!(
                    "max_output_len {max_output_len} is above the chain's cap of {}",
                    p.max_output_len
                )));
            }
            if state::MODELS.has(ctx.store, model_id) {
                return Err(InferenceError::ModelExists(model_id.clone()));
            }
            if !p.model_registration_fee.is_zero() {
                verdict_distribution::state::fund_community_pool(
                    ctx.store,
                    owner,
                    &verdict_core::coin::Coin::new(p.model_registration_fee.u128(), FEE_DENOM),
                )
                .map_err(|e| {
                    InferenceError::Invalid(format!(
                        "the model registration fee of {}{FEE_DENOM} cannot be paid: {e}",
                        p.model_registration_fee
                    ))
                })?;
            }
            let model = Model {
                id: model_id.clone(),
                name: name.clone(),
                owner: owner.0,
                inputs: inputs.clone(),
                outputs: outputs.clone(),
                tolerance_nano: *tolerance_nano,
                rtol_nano,
                input_range: *input_range,
                max_output_len: *max_output_len,
                registered_height: ctx.block.height,
            };
            state::MODELS.save(ctx.store, model_id, &model)?;
            ctx.emit(
                Event::new("inference_model_registered")
                    .attr("model_id", model_id)
                    .attr("name", name)
                    .attr("owner", owner.bech32()),
            );
            Ok(Any {
                type_url: "/verdict.inference.v1.MsgRegisterModelResponse".into(),
                value: vec![],
            })
        }
        InferenceMsg::SubmitJob {
            requester,
            model_id,
            inputs,
            max_latency_ms,
            fee,
            remote,
            spec_hash,
        } => {
            let p = state::params(ctx.store);
            let model = state::MODELS
                .may_load(ctx.store, model_id)?
                .ok_or_else(|| InferenceError::UnknownModel(model_id.clone()))?;
            if let Some(want) = spec_hash {
                let have = model.spec_hash();
                if *want != have {
                    return Err(InferenceError::Invalid(format!(
                        "model {model_id} is registered with spec {have}, not the pinned {want}"
                    )));
                }
            }
            check_inputs(&model.inputs, inputs, p.max_input_bytes)?;
            check_values(inputs, model.input_range)?;
            if *max_latency_ms > p.max_latency_ms || *max_latency_ms < p.min_latency_ms {
                return Err(InferenceError::Invalid(format!(
                    "max_latency_ms {max_latency_ms} is outside the chain's range {}..={}",
                    p.min_latency_ms, p.max_latency_ms
                )));
            }
            let floor = state::job_fee_floor(ctx.store);
            if fee.denom != FEE_DENOM || fee.amount < floor {
                return Err(InferenceError::FeeTooLow {
                    got: fee.to_string(),
                    want: format!("{floor}{FEE_DENOM}"),
                });
            }
            let height = ctx.block.height;
            let mut in_block = match state::BLOCK_JOBS.may_load(ctx.store)? {
                Some(b) if b.height == height => b,
                _ => state::BlockJobs {
                    height,
                    ..Default::default()
                },
            };
            let used = in_block.local.saturating_add(in_block.remote);
            let mine = if *remote {
                in_block.remote
            } else {
                in_block.local
            };
            if used >= p.max_jobs_per_block {
                return Err(InferenceError::BlockFull(p.max_jobs_per_block));
            }
            if mine >= p.max_jobs_per_source {
                return Err(InferenceError::SourceFull {
                    kind: if *remote { "IBC" } else { "local" },
                    cap: p.max_jobs_per_source,
                });
            }
            Bank::transfer(
                ctx.store,
                requester,
                &state::escrow(),
                std::slice::from_ref(fee),
            )?;
            let id = state::NEXT_JOB_ID.may_load(ctx.store)?.unwrap_or(1);
            let deadline = height.saturating_add(p.attestation_window_blocks);
            let job = Job {
                id,
                requester: requester.0,
                model_id: model_id.clone(),
                max_latency_ms: *max_latency_ms,
                fee: fee.clone(),
                submitted_height: height,
                submitted_time_ms: block_time_ms(ctx.block.time_seconds, ctx.block.time_nanos),
                commit_deadline: height.saturating_add(p.commit_blocks),
                commit_closed_height: 0,
                deadline_height: deadline,
                committee: vec![],
                status: JobStatus::Pending,
                result: None,
            };
            state::JOBS.save(ctx.store, id, &job)?;
            state::INPUTS.save(ctx.store, id, inputs)?;
            state::NEXT_JOB_ID.save(ctx.store, &id.saturating_add(1))?;
            state::JOBS_BY_REQUESTER.save(ctx.store, (&requester.0, id), &())?;
            state::LIVE.save(ctx.store, (deadline, id), &())?;
            state::UNASSIGNED.save(ctx.store, id, &())?;
            if *remote {
                in_block.remote = in_block.remote.saturating_add(1);
            } else {
                in_block.local = in_block.local.saturating_add(1);
            }
            state::BLOCK_JOBS.save(ctx.store, &in_block)?;
            ctx.emit(
                Event::new("inference_job_submitted")
                    .attr("job_id", id)
                    .attr("model_id", model_id)
                    .attr("requester", requester.bech32())
                    .attr("fee", fee)
                    .attr("max_latency_ms", max_latency_ms)
                    .attr("deadline_height", deadline),
            );
            Ok(Any {
                type_url: "/verdict.inference.v1.MsgSubmitJobResponse".into(),
                value: pb::MsgSubmitJobResponse { job_id: id }.encode_to_vec(),
            })
        }
    }
}

/// BFT time in milliseconds since the epoch.
pub fn block_time_ms(seconds: i64, nanos: i32) -> i64 {
    seconds
        .saturating_mul(1000)
        .saturating_add(i64::from(nanos / 1_000_000))
}

/// Every input element must be finite (floats) and, when the model declares a
/// range, inside it. IEEE comparisons only: deterministic on every node.
pub fn check_values(
    inputs: &[InputTensor],
    range: Option<(i64, i64)>,
) -> Result<(), InferenceError> {
    // Bounds in the element's own units; i64 → f64 of a nano count is exact to
    // 2^53 and only matters at the boundary.
    #[allow(clippy::cast_precision_loss)]
    let bounds = range.map(|(lo, hi)| (lo as f64 / 1e9, hi as f64 / 1e9));
    for t in inputs {
        let b = t.data.as_slice();
        let bad = |i: usize, v: String| {
            InferenceError::BadInput(format!("input {} element {i}: {v}", t.name))
        };
        let check = |i: usize, v: f64| -> Result<(), InferenceError> {
            if !v.is_finite() {
                return Err(bad(i, format!("{v} is not finite")));
            }
            if let Some((lo, hi)) = bounds {
                if v < lo || v > hi {
                    return Err(bad(
                        i,
                        format!("{v} is outside the model's input range [{lo}, {hi}]"),
                    ));
                }
            }
            Ok(())
        };
        match t.dtype.as_str() {
            "float32" => {
                for (i, c) in b.chunks_exact(4).enumerate() {
                    check(i, f64::from(f32::from_le_bytes([c[0], c[1], c[2], c[3]])))?;
                }
            }
            "float64" => {
                for (i, c) in b.chunks_exact(8).enumerate() {
                    let mut a = [0u8; 8];
                    a.copy_from_slice(c);
                    check(i, f64::from_le_bytes(a))?;
                }
            }
            "int32" => {
                for (i, c) in b.chunks_exact(4).enumerate() {
                    check(i, f64::from(i32::from_le_bytes([c[0], c[1], c[2], c[3]])))?;
                }
            }
            "int64" => {
                for (i, c) in b.chunks_exact(8).enumerate() {
                    let mut a = [0u8; 8];
                    a.copy_from_slice(c);
                    #[allow(clippy::cast_precision_loss)]
                    check(i, i64::from_le_bytes(a) as f64)?;
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Inputs must match the model's spec in order: names, dtypes, ranks, fixed
/// dimensions, and data lengths; their bytes together stay under the cap.
pub fn check_inputs(
    spec: &[Spec],
    inputs: &[InputTensor],
    max_bytes: u32,
) -> Result<(), InferenceError> {
    let bad = |s: String| InferenceError::BadInput(s);
    if spec.len() != inputs.len() {
        return Err(bad(format!(
            "the model takes {} input tensors, the job has {}",
            spec.len(),
            inputs.len()
        )));
    }
    let mut total: u64 = 0;
    for (s, t) in spec.iter().zip(inputs) {
        if s.name != t.name {
            return Err(bad(format!(
                "expected input {:?}, got {:?}",
                s.name, t.name
            )));
        }
        if s.dtype != t.dtype {
            return Err(bad(format!(
                "input {}: dtype {} expected, got {}",
                s.name, s.dtype, t.dtype
            )));
        }
        if s.shape.len() != t.shape.len() {
            return Err(bad(format!(
                "input {}: rank {} expected, got shape {:?}",
                s.name,
                s.shape.len(),
                t.shape
            )));
        }
        let mut elems: u64 = 1;
        for (want, got) in s.shape.iter().zip(&t.shape) {
            if *got <= 0 || (*want != -1 && want != got) {
                return Err(bad(format!(
                    "input {}: shape {:?} does not fit {:?}",
                    s.name, t.shape, s.shape
                )));
            }
            elems = elems
                .checked_mul(u64::try_from(*got).unwrap_or(u64::MAX))
                .ok_or_else(|| bad(format!("input {}: shape too large", s.name)))?;
        }
        let size = element_size(&t.dtype).unwrap_or(8);
        let want_len = elems
            .checked_mul(size)
            .ok_or_else(|| bad(format!("input {}: shape too large", s.name)))?;
        if want_len > u64::from(max_bytes) {
            return Err(InferenceError::InputTooLarge {
                len: want_len,
                cap: max_bytes,
            });
        }
        let got_len = u64::try_from(t.data.len()).unwrap_or(u64::MAX);
        if got_len != want_len {
            return Err(bad(format!(
                "input {}: shape {:?} needs {want_len} bytes, data has {got_len}",
                s.name, t.shape
            )));
        }
        total = total.saturating_add(got_len);
    }
    if total > u64::from(max_bytes) {
        return Err(InferenceError::InputTooLarge {
            len: total,
            cap: max_bytes,
        });
    }
    Ok(())
}
