//! The model store: `.onnx` files addressed by the sha256 of their bytes, each
//! with a created and warmed-up session, its declared inputs/outputs, and the
//! checks a job's inputs must pass before anything is handed to ONNX Runtime.
//!
//! # Invariants
//! - A model is known by the hash of the exact bytes its session was built from
//!   (hashed and loaded from one read, so a file swapped in between cannot slip
//!   through under the old hash).
//! - A file whose bytes do not match the hash it is listed under (`SHA256SUMS`
//!   in the models dir, or a 64-hex file name) is refused.
//! - [`Model::run`] only ever sees inputs that passed [`Model::validate`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use ort::session::{RunOptions, Session};
use ort::value::{DynValue, ValueType};
use sha2::{Digest, Sha256};

use crate::runtime::{Device, Runtime};
use crate::tensor::{element_count, DType, NamedTensors, Tensor};
use crate::SidecarError;

/// Name of the optional `sha256sum`-format manifest in a models directory.
pub const MANIFEST: &str = "SHA256SUMS";

/// A declared model input or output; `-1` marks a dynamic dimension.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TensorSpec {
    pub name: String,
    pub dtype: DType,
    pub shape: Vec<i64>,
}

/// Per-job input limits, checked before any allocation on ONNX Runtime's side.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_elements_per_tensor: u64,
    pub max_job_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_elements_per_tensor: 4 << 20,
            max_job_bytes: 16 << 20,
        }
    }
}

/// One model run's result.
#[derive(Clone, Debug)]
pub struct RunOutput {
    pub outputs: NamedTensors,
    /// Wall time of the ONNX Runtime call only (monotonic clock).
    pub latency: Duration,
    pub device: Device,
}

/// A loaded model with its session.
pub struct Model {
    pub sha256: String,
    pub path: PathBuf,
    pub inputs: Vec<TensorSpec>,
    pub outputs: Vec<TensorSpec>,
    pub device: Device,
    // `Session::run` takes `&mut self`; one run per model at a time.
    session: Mutex<Session>,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("sha256", &self.sha256)
            .field("path", &self.path)
            .field("device", &self.device)
            .finish_non_exhaustive()
    }
}

/// Lower-case hex sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn specs(
    path: &Path,
    outlets: &[ort::value::Outlet],
    what: &str,
) -> Result<Vec<TensorSpec>, SidecarError> {
    outlets
        .iter()
        .map(|o| match o.dtype() {
            ValueType::Tensor { ty, shape, .. } => {
                let dtype = DType::from_ort(*ty).ok_or_else(|| SidecarError::UnsupportedModel {
                    path: path.to_path_buf(),
                    reason: format!(
                        "{what} `{}` has element type {ty:?}; supported: float32, float64, int32, int64",
                        o.name()
                    ),
                })?;
                Ok(TensorSpec {
                    name: o.name().to_string(),
                    dtype,
                    // Dynamic and symbolic dims both come back negative; normalise to -1.
                    shape: shape.iter().map(|&d| if d < 0 { -1 } else { d }).collect(),
                })
            }
            other => Err(SidecarError::UnsupportedModel {
                path: path.to_path_buf(),
                reason: format!("{what} `{}` is {other:?}, only tensors are supported", o.name()),
            }),
        })
        .collect()
}

/// Reads and hashes a file in one go; `expected` (hex sha256) must match when given.
fn read_verified(path: &Path, expected: Option<&str>) -> Result<(Vec<u8>, String), SidecarError> {
    let bytes = std::fs::read(path).map_err(|source| SidecarError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let sha256 = sha256_hex(&bytes);
    if let Some(exp) = expected {
        if !exp.eq_ignore_ascii_case(&sha256) {
            return Err(SidecarError::HashMismatch {
                path: path.to_path_buf(),
                expected: exp.to_ascii_lowercase(),
                actual: sha256,
            });
        }
    }
    Ok((bytes, sha256))
}

impl Model {
    /// Reads, hashes and loads a model; `expected` (hex sha256) must match when given.
    pub fn load(rt: &Runtime, path: &Path, expected: Option<&str>) -> Result<Model, SidecarError> {
        let (bytes, sha256) = read_verified(path, expected)?;
        Model::from_bytes(rt, path, &bytes, sha256)
    }

    /// Creates the session from bytes already hashed to `sha256`.
    fn from_bytes(
        rt: &Runtime,
        path: &Path,
        bytes: &[u8],
        sha256: String,
    ) -> Result<Model, SidecarError> {
        let (session, device) = rt
            .session(bytes)
            .map_err(|e| SidecarError::UnsupportedModel {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })?;
        let inputs = specs(path, session.inputs(), "input")?;
        let outputs = specs(path, session.outputs(), "output")?;
        Ok(Model {
            sha256,
            path: path.to_path_buf(),
            inputs,
            outputs,
            device,
            session: Mutex::new(session),
        })
    }

    pub fn file_name(&self) -> String {
        self.path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    fn input_names(&self) -> String {
        self.inputs
            .iter()
            .map(|s| format!("{}: {}{:?}", s.name, s.dtype, s.shape))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The declared dtype of an input, if the model has one by that name.
    pub fn input_dtype(&self, name: &str) -> Option<DType> {
        self.inputs.iter().find(|s| s.name == name).map(|s| s.dtype)
    }

    /// Checks names, dtypes, shapes (dynamic dims any size >= 1), element counts
    /// and the size limits. Runs before a job is queued.
    pub fn validate(&self, inputs: &NamedTensors, limits: &Limits) -> Result<(), SidecarError> {
        for name in inputs.keys() {
            if self.input_dtype(name).is_none() {
                return Err(SidecarError::UnknownInput {
                    name: name.clone(),
                    expected: self.input_names(),
                });
            }
        }
        let mut bytes: u64 = 0;
        for spec in &self.inputs {
            let t = inputs
                .get(&spec.name)
                .ok_or_else(|| SidecarError::MissingInput {
                    name: spec.name.clone(),
                    expected: self.input_names(),
                })?;
            if t.dtype() != spec.dtype {
                return Err(SidecarError::WrongDType {
                    name: spec.name.clone(),
                    expected: spec.dtype,
                    actual: t.dtype(),
                });
            }
            let shape_ok = t.shape.len() == spec.shape.len()
                && t.shape.iter().zip(&spec.shape).all(|(&got, &want)| {
                    if want < 0 {
                        got >= 1
                    } else {
                        got == want
                    }
                });
            if !shape_ok {
                return Err(SidecarError::WrongShape {
                    name: spec.name.clone(),
                    expected: spec.shape.clone(),
                    actual: t.shape.clone(),
                });
            }
            let expected = element_count(&t.shape).unwrap_or(u64::MAX);
            if expected > limits.max_elements_per_tensor {
                return Err(SidecarError::TooManyElements {
                    name: spec.name.clone(),
                    elements: expected,
                    limit: limits.max_elements_per_tensor,
                });
            }
            if expected != t.len() as u64 {
                return Err(SidecarError::WrongElementCount {
                    name: spec.name.clone(),
                    shape: t.shape.clone(),
                    expected,
                    actual: t.len() as u64,
                });
            }
            bytes = bytes.saturating_add(expected.saturating_mul(spec.dtype.size_bytes()));
        }
        if bytes > limits.max_job_bytes {
            return Err(SidecarError::TooManyBytes {
                bytes,
                limit: limits.max_job_bytes,
            });
        }
        Ok(())
    }

    /// Runs the model on validated inputs. `options` lets a watchdog terminate the run.
    pub fn run(
        &self,
        inputs: NamedTensors,
        options: Option<&RunOptions>,
    ) -> Result<RunOutput, SidecarError> {
        let mut inputs = inputs;
        // Feed in the model's declared order; validation guarantees every name is present.
        let mut feed: Vec<(String, DynValue)> = Vec::with_capacity(self.inputs.len());
        for spec in &self.inputs {
            let t = inputs
                .remove(&spec.name)
                .ok_or_else(|| SidecarError::Run(format!("input `{}` missing", spec.name)))?;
            feed.push((spec.name.clone(), t.into_ort()?));
        }
        let mut session = self
            .session
            .lock()
            .map_err(|_| SidecarError::Run("session lock poisoned by an earlier panic".into()))?;
        let start = Instant::now();
        let result = match options {
            Some(o) => session.run_with_options(feed, o),
            None => session.run(feed),
        };
        let latency = start.elapsed();
        let outs = result.map_err(|e| SidecarError::Run(e.to_string()))?;
        let mut outputs = NamedTensors::new();
        for spec in &self.outputs {
            let v = outs
                .get(&spec.name)
                .ok_or_else(|| SidecarError::Run(format!("output `{}` missing", spec.name)))?;
            outputs.insert(spec.name.clone(), Tensor::from_ort(&spec.name, v)?);
        }
        Ok(RunOutput {
            outputs,
            latency,
            device: self.device,
        })
    }

    /// One run on zeros of the declared shapes (dynamic dims = 1): pays one-time
    /// allocation and kernel selection costs before the first real job.
    pub fn warm_up(&self) -> Result<(), SidecarError> {
        let mut inputs = NamedTensors::new();
        for spec in &self.inputs {
            let shape = spec
                .shape
                .iter()
                .map(|&d| if d < 0 { 1 } else { d })
                .collect();
            inputs.insert(spec.name.clone(), Tensor::zeros(spec.dtype, shape)?);
        }
        self.run(inputs, None)
            .map(|_| ())
            .map_err(|e| SidecarError::UnsupportedModel {
                path: self.path.clone(),
                reason: format!("warm-up run failed: {e}"),
            })
    }
}

/// The live models, by sha256: those of the models directory plus those
/// hot-loaded since. Shared by the job queue and the loader; models are only
/// ever added, and a job holds its own `Arc` to the model it runs.
#[derive(Debug, Default)]
pub struct ModelStore {
    models: RwLock<BTreeMap<String, Arc<Model>>>,
}

/// A models-directory file that the serve policy refused: hashed, never loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refused {
    pub sha256: String,
    pub file_name: String,
}

fn read_manifest(dir: &Path) -> Result<BTreeMap<String, String>, SidecarError> {
    let path = dir.join(MANIFEST);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(source) => return Err(SidecarError::Io { path, source }),
    };
    let mut out = BTreeMap::new();
    for line in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        // sha256sum format: HASH, two spaces (or " *" for binary mode), FILE.
        let (hash, file) = line
            .split_once(char::is_whitespace)
            .map(|(h, f)| (h, f.trim_start().trim_start_matches('*')))
            .filter(|(h, f)| is_sha256_hex(h) && !f.is_empty())
            .ok_or_else(|| SidecarError::UnsupportedModel {
                path: path.clone(),
                reason: format!("bad line `{line}` (want `SHA256  FILE`)"),
            })?;
        out.insert(file.to_string(), hash.to_ascii_lowercase());
    }
    Ok(out)
}

impl ModelStore {
    /// Loads and warms up every `*.onnx` in `dir` (not recursive). Any refused
    /// file fails the whole load: a validator must not come up with a model set
    /// different from the one its operator put there.
    pub fn load_dir(rt: &Runtime, dir: &Path) -> Result<ModelStore, SidecarError> {
        Ok(ModelStore::load_dir_filtered(rt, dir, &|_| true)?.0)
    }

    /// [`ModelStore::load_dir`], loading only the models `allow` accepts (by
    /// sha256); every file is still read and checked against its listed hash.
    pub fn load_dir_filtered(
        rt: &Runtime,
        dir: &Path,
        allow: &dyn Fn(&str) -> bool,
    ) -> Result<(ModelStore, Vec<Refused>), SidecarError> {
        let manifest = read_manifest(dir)?;
        let entries = std::fs::read_dir(dir).map_err(|source| SidecarError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "onnx"))
            .collect();
        files.sort();
        for listed in manifest.keys() {
            if !dir.join(listed).is_file() {
                return Err(SidecarError::Io {
                    path: dir.join(listed),
                    source: std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        format!("listed in {MANIFEST} but missing"),
                    ),
                });
            }
        }
        let store = ModelStore::default();
        let mut refused = Vec::new();
        for path in files {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let stem = path
                .file_stem()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let expected = manifest
                .get(&name)
                .cloned()
                .or_else(|| is_sha256_hex(&stem).then_some(stem));
            let (bytes, sha256) = read_verified(&path, expected.as_deref())?;
            if !allow(&sha256) {
                tracing::info!(%sha256, file = %name, "model refused by the serve policy; not loaded");
                refused.push(Refused {
                    sha256,
                    file_name: name,
                });
                continue;
            }
            let model = Model::from_bytes(rt, &path, &bytes, sha256)?;
            model.warm_up()?;
            tracing::info!(sha256 = %model.sha256, file = %name, device = model.device.name(), "model ready");
            store.insert(model)?;
        }
        Ok((store, refused))
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Arc<Model>>> {
        // A panic while holding the lock cannot leave the map half-updated.
        self.models.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a loaded model; two files with the same bytes are an operator error.
    pub fn insert(&self, model: Model) -> Result<Arc<Model>, SidecarError> {
        let mut models = self.models.write().unwrap_or_else(|e| e.into_inner());
        if let Some(prev) = models.get(&model.sha256) {
            return Err(SidecarError::DuplicateModel {
                hash: model.sha256.clone(),
                first: prev.path.clone(),
                second: model.path.clone(),
            });
        }
        let model = Arc::new(model);
        models.insert(model.sha256.clone(), model.clone());
        Ok(model)
    }

    pub fn get(&self, sha256: &str) -> Result<Arc<Model>, SidecarError> {
        self.read()
            .get(&sha256.to_ascii_lowercase())
            .cloned()
            .ok_or_else(|| SidecarError::UnknownModel(sha256.to_string()))
    }

    pub fn contains(&self, sha256: &str) -> bool {
        self.read().contains_key(&sha256.to_ascii_lowercase())
    }

    /// A snapshot of the live models, by sha256.
    pub fn models(&self) -> Vec<Arc<Model>> {
        self.read().values().cloned().collect()
    }

    pub fn len(&self) -> usize {
        self.read().len()
    }

    pub fn is_empty(&self) -> bool {
        self.read().is_empty()
    }
}
