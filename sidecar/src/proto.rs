//! `verdict.sidecar.v1` messages (generated from
//! `proto/verdict/sidecar/v1/sidecar.proto` by the verdict-proto build) and their
//! conversions to and from the sidecar's own types.

use crate::jobs::JobStatus as Status;
use crate::loader::{LoadState, ModelStatus};
use crate::model::{Model, TensorSpec as Spec};
use crate::tensor::{DType, NamedTensors, Tensor as T, TensorData};
use crate::SidecarError;

pub use verdict_proto::sidecar::v1::*;

impl From<DType> for DataType {
    fn from(d: DType) -> Self {
        match d {
            DType::F32 => DataType::Float32,
            DType::F64 => DataType::Float64,
            DType::I32 => DataType::Int32,
            DType::I64 => DataType::Int64,
        }
    }
}

impl From<Status> for JobStatus {
    fn from(s: Status) -> Self {
        match s {
            Status::Queued => JobStatus::Queued,
            Status::Running => JobStatus::Running,
            Status::Done => JobStatus::Done,
            Status::Failed => JobStatus::Failed,
            Status::TimedOut => JobStatus::TimedOut,
        }
    }
}

impl From<LoadState> for ModelState {
    fn from(s: LoadState) -> Self {
        match s {
            LoadState::Loading => ModelState::Loading,
            LoadState::Ready => ModelState::Ready,
            LoadState::Failed => ModelState::Failed,
            LoadState::RefusedByPolicy => ModelState::RefusedByPolicy,
        }
    }
}

/// A model in the store; `attempts` from the loader when it was hot-loaded.
pub fn ready_model_info(m: &Model, attempts: u32) -> ModelInfo {
    ModelInfo {
        sha256: m.sha256.clone(),
        file_name: m.file_name(),
        inputs: m.inputs.iter().map(TensorSpec::from).collect(),
        outputs: m.outputs.iter().map(TensorSpec::from).collect(),
        device: m.device.name().to_string(),
        state: ModelState::Ready as i32,
        attempts,
        ..Default::default()
    }
}

impl From<&ModelStatus> for ModelInfo {
    fn from(s: &ModelStatus) -> Self {
        ModelInfo {
            sha256: s.sha256.clone(),
            file_name: s.file_name.clone(),
            state: ModelState::from(s.state) as i32,
            last_error: s.last_error.clone(),
            attempts: s.attempts,
            retry_in_ms: s.retry_in().map_or(0, |d| d.as_millis() as u64),
            ..Default::default()
        }
    }
}

impl From<&Spec> for TensorSpec {
    fn from(s: &Spec) -> Self {
        TensorSpec {
            name: s.name.clone(),
            dtype: DataType::from(s.dtype) as i32,
            shape: s.shape.clone(),
        }
    }
}

/// A named tensor as the wire carries it.
pub fn tensor_to_proto(name: &str, t: &T) -> Tensor {
    let mut out = Tensor {
        name: name.to_string(),
        dtype: DataType::from(t.dtype()) as i32,
        shape: t.shape.clone(),
        ..Default::default()
    };
    match &t.data {
        TensorData::F32(v) => out.float32_data = v.clone(),
        TensorData::F64(v) => out.float64_data = v.clone(),
        TensorData::I32(v) => out.int32_data = v.clone(),
        TensorData::I64(v) => out.int64_data = v.clone(),
    }
    out
}

/// Takes the data field named by `dtype`; data in any other field is an error,
/// so a caller that filled the wrong field hears about it.
pub fn tensor_from_proto(t: Tensor) -> Result<(String, T), SidecarError> {
    let bad = |m: &str| SidecarError::BadTensor(format!("input `{}`: {m}", t.name));
    let others_empty = |set: usize| {
        [
            t.float32_data.is_empty(),
            t.int64_data.is_empty(),
            t.int32_data.is_empty(),
            t.float64_data.is_empty(),
        ]
        .iter()
        .enumerate()
        .all(|(i, e)| i == set || *e)
    };
    let idx = match DataType::try_from(t.dtype) {
        Ok(DataType::Float32) => 0,
        Ok(DataType::Int64) => 1,
        Ok(DataType::Int32) => 2,
        Ok(DataType::Float64) => 3,
        _ => return Err(bad("dtype unspecified or unknown")),
    };
    if !others_empty(idx) {
        return Err(bad("data is in a field that does not match dtype"));
    }
    let data = match idx {
        0 => TensorData::F32(t.float32_data),
        1 => TensorData::I64(t.int64_data),
        2 => TensorData::I32(t.int32_data),
        _ => TensorData::F64(t.float64_data),
    };
    Ok((t.name, T::new(t.shape, data)))
}

/// Proto tensors to named tensors; a repeated name is an error.
pub fn tensors_from_proto(list: Vec<Tensor>) -> Result<NamedTensors, SidecarError> {
    let mut out = NamedTensors::new();
    for t in list {
        let (name, tensor) = tensor_from_proto(t)?;
        if out.contains_key(&name) {
            return Err(SidecarError::DuplicateInput { name });
        }
        out.insert(name, tensor);
    }
    Ok(out)
}

pub fn tensors_to_proto(tensors: &NamedTensors) -> Vec<Tensor> {
    tensors.iter().map(|(n, t)| tensor_to_proto(n, t)).collect()
}
