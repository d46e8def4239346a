//! `verdict.sidecar.v1` messages, written by hand (no protoc in this project).
//! Field numbers and types follow `proto/verdict/sidecar/v1/sidecar.proto`;
//! change both together.

use crate::jobs::JobStatus as Status;
use crate::loader::{LoadState, ModelStatus};
use crate::model::{Model, TensorSpec as Spec};
use crate::tensor::{DType, NamedTensors, Tensor as T, TensorData};
use crate::SidecarError;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum DataType {
    Unspecified = 0,
    Float32 = 1,
    Int64 = 2,
    Int32 = 3,
    Float64 = 4,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum JobStatus {
    Unspecified = 0,
    Queued = 1,
    Running = 2,
    Done = 3,
    Failed = 4,
    TimedOut = 5,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum ModelState {
    Unspecified = 0,
    Loading = 1,
    Ready = 2,
    Failed = 3,
    RefusedByPolicy = 4,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Tensor {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(enumeration = "DataType", tag = "2")]
    pub dtype: i32,
    #[prost(int64, repeated, tag = "3")]
    pub shape: Vec<i64>,
    #[prost(float, repeated, tag = "4")]
    pub float32_data: Vec<f32>,
    #[prost(int64, repeated, tag = "5")]
    pub int64_data: Vec<i64>,
    #[prost(int32, repeated, tag = "6")]
    pub int32_data: Vec<i32>,
    #[prost(double, repeated, tag = "7")]
    pub float64_data: Vec<f64>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct TensorSpec {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(enumeration = "DataType", tag = "2")]
    pub dtype: i32,
    #[prost(int64, repeated, tag = "3")]
    pub shape: Vec<i64>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct SubmitJobRequest {
    #[prost(string, tag = "1")]
    pub model_hash: String,
    #[prost(string, tag = "2")]
    pub job_id: String,
    #[prost(message, repeated, tag = "3")]
    pub inputs: Vec<Tensor>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct SubmitJobResponse {
    #[prost(bool, tag = "1")]
    pub accepted: bool,
    #[prost(uint32, tag = "2")]
    pub queue_depth: u32,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct GetResultRequest {
    #[prost(string, tag = "1")]
    pub job_id: String,
    #[prost(uint32, tag = "2")]
    pub wait_ms: u32,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct GetResultResponse {
    #[prost(string, tag = "1")]
    pub job_id: String,
    #[prost(string, tag = "2")]
    pub model_hash: String,
    #[prost(enumeration = "JobStatus", tag = "3")]
    pub status: i32,
    #[prost(message, repeated, tag = "4")]
    pub outputs: Vec<Tensor>,
    #[prost(uint64, tag = "5")]
    pub latency_us: u64,
    #[prost(uint64, tag = "6")]
    pub queue_us: u64,
    #[prost(string, tag = "7")]
    pub device: String,
    #[prost(string, tag = "8")]
    pub error: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct ListModelsRequest {}

#[derive(Clone, PartialEq, prost::Message)]
pub struct ModelInfo {
    #[prost(string, tag = "1")]
    pub sha256: String,
    #[prost(string, tag = "2")]
    pub file_name: String,
    #[prost(message, repeated, tag = "3")]
    pub inputs: Vec<TensorSpec>,
    #[prost(message, repeated, tag = "4")]
    pub outputs: Vec<TensorSpec>,
    #[prost(string, tag = "5")]
    pub device: String,
    #[prost(enumeration = "ModelState", tag = "6")]
    pub state: i32,
    #[prost(string, tag = "7")]
    pub last_error: String,
    #[prost(uint32, tag = "8")]
    pub attempts: u32,
    #[prost(uint64, tag = "9")]
    pub retry_in_ms: u64,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct LoadModelRequest {
    #[prost(string, tag = "1")]
    pub model_hash: String,
    #[prost(uint64, tag = "2")]
    pub size_bytes: u64,
    #[prost(string, repeated, tag = "3")]
    pub uris: Vec<String>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct LoadModelResponse {
    #[prost(enumeration = "ModelState", tag = "1")]
    pub state: i32,
    #[prost(string, tag = "2")]
    pub detail: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct ListModelsResponse {
    #[prost(message, repeated, tag = "1")]
    pub models: Vec<ModelInfo>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct HealthRequest {}

#[derive(Clone, PartialEq, prost::Message)]
pub struct HealthResponse {
    #[prost(bool, tag = "1")]
    pub ready: bool,
    #[prost(string, tag = "2")]
    pub device: String,
    #[prost(uint32, tag = "3")]
    pub models: u32,
    #[prost(uint32, tag = "4")]
    pub queue_depth: u32,
    #[prost(uint32, tag = "5")]
    pub queue_capacity: u32,
    #[prost(string, tag = "6")]
    pub fault: String,
    #[prost(string, tag = "7")]
    pub detail: String,
}

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

impl ModelInfo {
    /// A model in the store; `attempts` from the loader when it was hot-loaded.
    pub fn ready(m: &Model, attempts: u32) -> Self {
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

impl Tensor {
    pub fn from_tensor(name: &str, t: &T) -> Self {
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
    pub fn into_tensor(self) -> Result<(String, T), SidecarError> {
        let bad = |m: &str| SidecarError::BadTensor(format!("input `{}`: {m}", self.name));
        let others_empty = |set: usize| {
            [
                self.float32_data.is_empty(),
                self.int64_data.is_empty(),
                self.int32_data.is_empty(),
                self.float64_data.is_empty(),
            ]
            .iter()
            .enumerate()
            .all(|(i, e)| i == set || *e)
        };
        let idx = match DataType::try_from(self.dtype) {
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
            0 => TensorData::F32(self.float32_data),
            1 => TensorData::I64(self.int64_data),
            2 => TensorData::I32(self.int32_data),
            _ => TensorData::F64(self.float64_data),
        };
        Ok((self.name, T::new(self.shape, data)))
    }
}

/// Proto tensors to named tensors; a repeated name is an error.
pub fn tensors_from_proto(list: Vec<Tensor>) -> Result<NamedTensors, SidecarError> {
    let mut out = NamedTensors::new();
    for t in list {
        let (name, tensor) = t.into_tensor()?;
        if out.contains_key(&name) {
            return Err(SidecarError::DuplicateInput { name });
        }
        out.insert(name, tensor);
    }
    Ok(out)
}

pub fn tensors_to_proto(tensors: &NamedTensors) -> Vec<Tensor> {
    tensors
        .iter()
        .map(|(n, t)| Tensor::from_tensor(n, t))
        .collect()
}
