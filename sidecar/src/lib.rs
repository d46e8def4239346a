//! `verdict-sidecar`: the validator's inference sidecar.
//!
//! Owns everything between "run model H on these tensors" and an answer: locating
//! and loading ONNX Runtime (the `libonnxruntime.so` of the `onnxruntime` wheel,
//! through `ort`'s `load-dynamic`), the model store keyed by the sha256 of each
//! `.onnx` file, session creation and warm-up, input validation against each
//! model's declared inputs, a bounded job queue with per-job timeouts, the
//! loopback gRPC service (`verdict.sidecar.v1.Sidecar`), Prometheus metrics and
//! the test-only fault modes used to make a validator misbehave on purpose.
//!
//! It knows nothing about consensus: the app calls it over gRPC and decides what
//! a result is worth. It may call ONNX Runtime, the file system and, to fetch a
//! model it was asked to load, plain HTTP; nothing else.
//!
//! Module map: [`runtime`] (library + device), [`model`] (store, specs,
//! validation, runs), [`tensor`] (dtypes, JSON form), [`jobs`] (queue, workers,
//! timeouts, faults), [`metrics`], [`proto`] (hand-written prost types),
//! [`service`] (tonic service), [`fetch`] (model files by URI into the
//! verified cache), [`loader`] (LoadModel: background fetch, verify, load,
//! retries) and [`policy`] (the operator's `--serve all|none|FILE`).

pub mod auth;
pub mod error;
pub mod fetch;
pub mod jobs;
pub mod listen;
pub mod loader;
pub mod metrics;
pub mod model;
pub mod policy;
pub mod proto;
pub mod runtime;
pub mod service;
pub mod tensor;

pub use error::SidecarError;
