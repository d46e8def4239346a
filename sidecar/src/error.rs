//! The sidecar's error type: one enum for everything a caller can get wrong or
//! the runtime can fail at, each variant carrying enough to act on.

use std::path::PathBuf;

use crate::tensor::DType;

/// Everything that can go wrong loading models or running a job.
#[derive(Debug, thiserror::Error)]
pub enum SidecarError {
    #[error(
        "could not find libonnxruntime: tried {}. Run `make setup` (it links .tools/libonnxruntime.so \
         from the onnxruntime wheel), or pass --ort-lib PATH, or set ORT_DYLIB_PATH",
        tried.iter().map(|p| format!("`{}`", p.display())).collect::<Vec<_>>().join(", ")
    )]
    OrtLibraryNotFound { tried: Vec<PathBuf> },
    #[error("could not load ONNX Runtime from `{path}`: {reason}")]
    OrtLibraryLoad { path: PathBuf, reason: String },
    #[error("ONNX Runtime: {0}")]
    Ort(String),

    #[error("cannot read `{path}`: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("model `{path}` has sha256 {actual}, expected {expected}: refused")]
    HashMismatch {
        path: PathBuf,
        expected: String,
        actual: String,
    },
    #[error("model `{path}`: {reason}")]
    UnsupportedModel { path: PathBuf, reason: String },
    #[error("two model files have the same sha256 {hash}: `{first}` and `{second}`")]
    DuplicateModel {
        hash: String,
        first: PathBuf,
        second: PathBuf,
    },
    #[error("no model with sha256 {0}")]
    UnknownModel(String),

    #[error("missing input `{name}` (model inputs: {expected})")]
    MissingInput { name: String, expected: String },
    #[error("unknown input `{name}` (model inputs: {expected})")]
    UnknownInput { name: String, expected: String },
    #[error("input `{name}` given twice")]
    DuplicateInput { name: String },
    #[error("input `{name}` has dtype {actual}, model expects {expected}")]
    WrongDType {
        name: String,
        expected: DType,
        actual: DType,
    },
    #[error(
        "input `{name}` has shape {actual:?}, model expects {expected:?} (-1 = any size >= 1)"
    )]
    WrongShape {
        name: String,
        expected: Vec<i64>,
        actual: Vec<i64>,
    },
    #[error("input `{name}`: shape {shape:?} needs {expected} elements, got {actual}")]
    WrongElementCount {
        name: String,
        shape: Vec<i64>,
        expected: u64,
        actual: u64,
    },
    #[error("input `{name}`: {elements} elements exceeds the limit of {limit} per tensor")]
    TooManyElements {
        name: String,
        elements: u64,
        limit: u64,
    },
    #[error("job inputs total {bytes} bytes, over the limit of {limit}")]
    TooManyBytes { bytes: u64, limit: u64 },
    #[error("{0}")]
    BadTensor(String),
    #[error("invalid request: {0}")]
    InvalidRequest(String),

    #[error("queue full ({capacity} jobs waiting): retry later")]
    QueueFull { capacity: usize },
    #[error("job id `{0}` is already in use")]
    DuplicateJob(String),
    #[error("no job `{0}` (unknown, or its result was evicted)")]
    UnknownJob(String),
    #[error("the loader already tracks {0} models: refused")]
    TooManyModels(usize),
    #[error("sidecar not ready: {0}")]
    NotReady(String),
    #[error("job timed out after {elapsed_ms} ms (limit {limit_ms} ms)")]
    Timeout { elapsed_ms: u64, limit_ms: u64 },
    #[error("model run failed: {0}")]
    Run(String),
}

impl SidecarError {
    pub(crate) fn ort(e: impl std::fmt::Display) -> Self {
        SidecarError::Ort(e.to_string())
    }
}
