//! Stateful checks and execution of inference messages.

use cosmrs::Any;
use prost::Message;
use verdict_bank::Bank;
use verdict_core::address::{Addr, FEE_DENOM};
use verdict_core::coin::Coin;
use verdict_core::ctx::Ctx;
use verdict_core::event::Event;
use verdict_proto::inference::v1 as pb;

use crate::error::InferenceError;
use crate::msgs::{element_size, InferenceMsg};
use crate::params::InferenceParams;
use crate::slots::{open, submitted_event, take_slot, NewJob};
// Where other crates have always found it.
pub use crate::slots::block_time_ms;
use crate::state::{self, InputTensor, Model, Provenance, Spec};

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
            uris,
            size_bytes,
        } => {
            let p = state::params(ctx.store);
            let model = Model {
                id: model_id.clone(),
                name: name.clone(),
                owner: owner.0,
                inputs: inputs.clone(),
                outputs: outputs.clone(),
                tolerance_nano: *tolerance_nano,
                rtol_nano: rtol_nano.unwrap_or(p.min_rtol_nano),
                input_range: *input_range,
                max_output_len: *max_output_len,
                registered_height: ctx.block.height,
                uris: uris.clone(),
                size_bytes: *size_bytes,
            };
            register_model(ctx, &p, owner, &model)
        }
        InferenceMsg::ServeModel {
            operator,
            model_ids,
            serve,
        } => crate::serving::serve(ctx, operator, model_ids, *serve),
        InferenceMsg::SubmitJob {
            requester,
            model_id,
            inputs,
            max_latency_ms,
            fee,
            remote,
            spec_hash,
        } => submit_job(
            ctx,
            &Submission {
                requester,
                model_id,
                inputs,
                max_latency_ms: *max_latency_ms,
                fee,
                remote: *remote,
                spec_hash: spec_hash.as_deref(),
            },
        ),
        InferenceMsg::ChallengeJob {
            challenger,
            job_id,
            bond,
        } => crate::challenge::file(ctx, challenger, *job_id, bond),
    }
}

/// The chain's bounds on a model's tolerances and digest length.
fn check_model_bounds(p: &InferenceParams, model: &Model) -> Result<(), InferenceError> {
    if !(p.min_tolerance_nano..=p.max_tolerance_nano).contains(&model.tolerance_nano) {
        return Err(InferenceError::Invalid(format!(
            "tolerance must be within the chain's range {}..={} × 10^-9",
            p.min_tolerance_nano, p.max_tolerance_nano
        )));
    }
    if !(p.min_rtol_nano..=p.max_rtol_nano).contains(&model.rtol_nano) {
        return Err(InferenceError::Invalid(format!(
            "rtol must be within the chain's range {}..={} × 10^-9",
            p.min_rtol_nano, p.max_rtol_nano
        )));
    }
    if model.max_output_len > p.max_output_len {
        return Err(InferenceError::Invalid(format!(
            "max_output_len {} is above the chain's cap of {}",
            model.max_output_len, p.max_output_len
        )));
    }
    if model.size_bytes > p.max_model_bytes {
        return Err(InferenceError::Invalid(format!(
            "size_bytes {} is above the chain's cap of {} (max_model_bytes)",
            model.size_bytes, p.max_model_bytes
        )));
    }
    Ok(())
}

/// `MsgRegisterModel`: bounds, first come first served, the registration fee
/// to the community pool, then the model.
fn register_model(
    ctx: &mut Ctx<'_>,
    p: &InferenceParams,
    owner: &Addr,
    model: &Model,
) -> Result<Any, InferenceError> {
    check_model_bounds(p, model)?;
    if state::MODELS.has(ctx.store, &model.id) {
        return Err(InferenceError::ModelExists(model.id.clone()));
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
    state::MODELS.save(ctx.store, &model.id, model)?;
    ctx.emit(
        Event::new("inference_model_registered")
            .attr("model_id", &model.id)
            .attr("name", &model.name)
            .attr("owner", owner.bech32()),
    );
    Ok(Any {
        type_url: "/verdict.inference.v1.MsgRegisterModelResponse".into(),
        value: vec![],
    })
}

/// The fields of a `MsgSubmitJob`.
struct Submission<'a> {
    requester: &'a Addr,
    model_id: &'a String,
    inputs: &'a Vec<InputTensor>,
    max_latency_ms: u32,
    fee: &'a Coin,
    remote: bool,
    spec_hash: Option<&'a str>,
}

/// What a job must be for its model and the chain: the pinned spec, inputs
/// that fit, an SLA within the chain's range.
fn check_submission(
    p: &InferenceParams,
    model: &Model,
    sub: &Submission<'_>,
) -> Result<(), InferenceError> {
    if let Some(want) = sub.spec_hash {
        let have = model.spec_hash();
        if want != have {
            return Err(InferenceError::Invalid(format!(
                "model {} is registered with spec {have}, not the pinned {want}",
                sub.model_id
            )));
        }
    }
    check_inputs(&model.inputs, sub.inputs, p.max_input_bytes)?;
    check_values(sub.inputs, model.input_range)?;
    if sub.max_latency_ms > p.max_latency_ms || sub.max_latency_ms < p.min_latency_ms {
        return Err(InferenceError::Invalid(format!(
            "max_latency_ms {} is outside the chain's range {}..={}",
            sub.max_latency_ms, p.min_latency_ms, p.max_latency_ms
        )));
    }
    Ok(())
}

/// sha256 of the inputs as the job stores them (their JSON), hex: the
/// provenance keeps it after the inputs leave state.
pub fn inputs_hash(inputs: &[InputTensor]) -> Result<String, InferenceError> {
    use sha2::{Digest, Sha256};
    let bytes = cosmwasm_std::to_json_vec(inputs)?;
    Ok(hex::encode(Sha256::digest(bytes)))
}

/// `MsgSubmitJob`: checks, the fee into escrow, then the job, live and
/// waiting for its committee.
fn submit_job(ctx: &mut Ctx<'_>, sub: &Submission<'_>) -> Result<Any, InferenceError> {
    let p = state::params(ctx.store);
    let model = state::MODELS
        .may_load(ctx.store, sub.model_id)?
        .ok_or_else(|| InferenceError::UnknownModel(sub.model_id.clone()))?;
    check_submission(&p, &model, sub)?;
    crate::serving::check_served(ctx.store, &p, sub.model_id)?;
    let floor = state::job_fee_floor(ctx.store);
    // Another denom counts at its price in the params; one not listed, never.
    let Some(value) = p.fee_value(sub.fee) else {
        return Err(InferenceError::Invalid(format!(
            "a job fee is paid in {FEE_DENOM} or a denom of params.fee_denoms, not {}",
            sub.fee.denom
        )));
    };
    if value < floor {
        return Err(InferenceError::FeeTooLow {
            got: sub.fee.to_string(),
            want: format!("{floor}{FEE_DENOM} (or its worth)"),
        });
    }
    let height = ctx.block.height;
    let in_block = take_slot(ctx.store, &p, height, sub.remote)?;
    Bank::transfer(
        ctx.store,
        sub.requester,
        &state::escrow(),
        std::slice::from_ref(sub.fee),
    )?;
    let provenance = Provenance {
        spec_hash: model.spec_hash(),
        inputs_hash: inputs_hash(sub.inputs)?,
        ..Provenance::default()
    };
    let job = open(
        ctx,
        &p,
        &in_block,
        NewJob {
            requester: sub.requester.0,
            model_id: sub.model_id,
            max_latency_ms: sub.max_latency_ms,
            fee: sub.fee,
            inputs: sub.inputs,
            provenance: Some(provenance),
            challenge_of: None,
        },
    )?;
    let id = job.id;
    ctx.emit(submitted_event(&job));
    Ok(Any {
        type_url: "/verdict.inference.v1.MsgSubmitJobResponse".into(),
        value: pb::MsgSubmitJobResponse { job_id: id }.encode_to_vec(),
    })
}

/// An input element as exact integers: ±m·2^k (floats, decoded from their IEEE
/// bits) or an integer. `None` for a NaN or an infinity.
#[derive(Clone, Copy)]
enum Exact {
    Int(i64),
    Float { neg: bool, m: u64, k: i32 },
}

// Shifts and sums here are on the fixed IEEE field widths (≤ 52 fraction and ≤ 11
// exponent bits) and on |m| < 2^53 times 10^9 < 2^83 in u128: none can overflow.
#[allow(clippy::arithmetic_side_effects, clippy::cast_possible_wrap)]
impl Exact {
    /// IEEE 754 bits of a binary float with `frac_bits` fraction and
    /// `exp_bits` exponent bits (f32: 23, 8; f64: 52, 11).
    fn float(bits: u64, frac_bits: u32, exp_bits: u32) -> Option<Exact> {
        let frac = bits & ((1u64 << frac_bits) - 1);
        let exp = (bits >> frac_bits) & ((1u64 << exp_bits) - 1);
        let neg = (bits >> (frac_bits + exp_bits)) & 1 == 1;
        if exp == (1u64 << exp_bits) - 1 {
            return None;
        }
        // value = m·2^k: (1.frac)·2^(exp−bias), or 0.frac·2^(1−bias) when subnormal.
        let bias = (1i32 << (exp_bits - 1)) - 1;
        let (m, k) = if exp == 0 {
            (frac, 1 - bias - frac_bits as i32)
        } else {
            (
                frac | (1u64 << frac_bits),
                exp as i32 - bias - frac_bits as i32,
            )
        };
        Some(Exact::Float { neg, m, k })
    }

    /// This value against `nano` × 10^-9, exactly (integer arithmetic only).
    fn cmp_nano(self, nano: i64) -> std::cmp::Ordering {
        use std::cmp::Ordering::{Greater, Less};
        let (neg, m, k) = match self {
            Exact::Int(x) => {
                return (i128::from(x) * 1_000_000_000).cmp(&i128::from(nano));
            }
            Exact::Float { neg, m, k } => (neg, m, k),
        };
        if m == 0 {
            return 0i64.cmp(&nano);
        }
        match (neg, nano < 0) {
            (false, true) => return Greater,
            (true, false) => return Less,
            _ => {}
        }
        // |value|·10^9 = a·2^k against |nano|.
        let a = u128::from(m) * 1_000_000_000;
        let n = u128::from(nano.unsigned_abs());
        let abs = if k >= 0 {
            let k = k.unsigned_abs();
            if k >= 128 || a > (u128::MAX >> k) {
                Greater
            } else {
                (a << k).cmp(&n)
            }
        } else {
            let j = k.unsigned_abs();
            if n == 0 {
                Greater
            } else if j >= 128 || n > (u128::MAX >> j) {
                Less
            } else {
                a.cmp(&(n << j))
            }
        };
        if neg {
            abs.reverse()
        } else {
            abs
        }
    }
}

/// Every input element must be finite (floats) and, when the model declares a
/// range, inside it: decoded to exact integers and compared in integer
/// arithmetic (no float operation decides what enters state).
pub fn check_values(
    inputs: &[InputTensor],
    range: Option<(i64, i64)>,
) -> Result<(), InferenceError> {
    for t in inputs {
        let b = t.data.as_slice();
        let bad = |i: usize, v: String| {
            InferenceError::BadInput(format!("input {} element {i}: {v}", t.name))
        };
        let check = |i: usize, v: Option<Exact>| -> Result<(), InferenceError> {
            let v = v.ok_or_else(|| bad(i, "not a finite number".into()))?;
            if let Some((lo, hi)) = range {
                if v.cmp_nano(lo).is_lt() || v.cmp_nano(hi).is_gt() {
                    return Err(bad(
                        i,
                        format!(
                            "outside the model's input range [{}, {}]",
                            crate::query::decimal_of(lo, 1),
                            crate::query::decimal_of(hi, 1)
                        ),
                    ));
                }
            }
            Ok(())
        };
        let word = |c: &[u8]| {
            let mut a = [0u8; 8];
            a[..c.len()].copy_from_slice(c);
            u64::from_le_bytes(a)
        };
        match t.dtype.as_str() {
            "float32" => {
                for (i, c) in b.chunks_exact(4).enumerate() {
                    check(i, Exact::float(word(c), 23, 8))?;
                }
            }
            "float64" => {
                for (i, c) in b.chunks_exact(8).enumerate() {
                    check(i, Exact::float(word(c), 52, 11))?;
                }
            }
            "int32" => {
                for (i, c) in b.chunks_exact(4).enumerate() {
                    check(
                        i,
                        Some(Exact::Int(i64::from(i32::from_le_bytes([
                            c[0], c[1], c[2], c[3],
                        ])))),
                    )?;
                }
            }
            "int64" => {
                for (i, c) in b.chunks_exact(8).enumerate() {
                    #[allow(clippy::cast_possible_wrap)]
                    check(i, Some(Exact::Int(word(c) as i64)))?;
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::arithmetic_side_effects)]
    use std::cmp::Ordering::{Equal, Greater, Less};

    use super::*;

    fn f32x(x: f32) -> Exact {
        Exact::float(u64::from(x.to_bits()), 23, 8).unwrap()
    }

    fn f64x(x: f64) -> Exact {
        Exact::float(x.to_bits(), 52, 11).unwrap()
    }

    #[test]
    fn input_values_compare_exactly_with_nano_bounds() {
        assert_eq!(f32x(0.5).cmp_nano(500_000_000), Equal);
        assert_eq!(f32x(-0.25).cmp_nano(-250_000_000), Equal);
        assert_eq!(f32x(1.0000001).cmp_nano(1_000_000_000), Greater);
        assert_eq!(f32x(0.99999994).cmp_nano(1_000_000_000), Less);
        assert_eq!(f64x(1e-300).cmp_nano(0), Greater);
        assert_eq!(f64x(-1e-300).cmp_nano(0), Less);
        assert_eq!(
            f32x(f32::from_bits(1)).cmp_nano(1),
            Less,
            "smallest subnormal"
        );
        assert_eq!(f64x(1e30).cmp_nano(i64::MAX), Greater);
        assert_eq!(f64x(-1e30).cmp_nano(i64::MIN), Less);
        assert_eq!(f64x(0.0).cmp_nano(0), Equal);
        assert_eq!(f64x(-0.0).cmp_nano(0), Equal);
        // 0.1 is not exactly 10^8 nano in binary: the comparison knows.
        assert_eq!(f64x(0.1).cmp_nano(100_000_000), Greater);
        assert_eq!(f32x(0.1).cmp_nano(100_000_000), Greater);
        assert_eq!(Exact::Int(-3).cmp_nano(-3_000_000_000), Equal);
        assert_eq!(Exact::Int(i64::MAX).cmp_nano(i64::MAX), Greater);
        assert!(Exact::float(u64::from(f32::NAN.to_bits()), 23, 8).is_none());
        assert!(Exact::float(f64::INFINITY.to_bits(), 52, 11).is_none());
    }

    #[test]
    fn inputs_outside_the_declared_range_or_not_finite_are_refused() {
        let t = |xs: &[f32]| InputTensor {
            name: "x".into(),
            dtype: "float32".into(),
            shape: vec![xs.len() as i64],
            data: xs
                .iter()
                .flat_map(|x| x.to_le_bytes())
                .collect::<Vec<u8>>()
                .into(),
        };
        let r = Some((-1_000_000_000, 1_000_000_000));
        assert!(check_values(&[t(&[-1.0, 0.0, 1.0])], r).is_ok());
        let e = check_values(&[t(&[0.0, 1.0000001])], r)
            .unwrap_err()
            .to_string();
        assert!(e.contains("element 1") && e.contains("[-1, 1]"), "{e}");
        assert!(check_values(&[t(&[f32::NAN])], None).is_err());
        assert!(check_values(&[t(&[f32::INFINITY])], None).is_err());
        assert!(check_values(&[t(&[1e30])], None).is_ok());
    }
}
