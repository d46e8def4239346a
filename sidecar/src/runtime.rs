//! ONNX Runtime: finding the library, the one process-wide environment, and the
//! choice of execution provider.
//!
//! The library is the `libonnxruntime.so` of the `onnxruntime` (or
//! `onnxruntime-gpu`) wheel, loaded at run time (`ort`'s `load-dynamic`), so
//! nothing is downloaded at build time. It is looked for, in order, at
//! `--ort-lib PATH`, `$ORT_DYLIB_PATH`, then [`BUILD_TREE_LIBRARY`], the
//! `.tools/libonnxruntime.so` of the checkout the binary was built in (what
//! `make setup` installs). Never a path relative to where the executable lies:
//! a binary copied under a directory others can write would load whatever
//! library they planted there (security review L-8). An installed sidecar
//! names its library with `--ort-lib` or `$ORT_DYLIB_PATH`.
//!
//! CUDA: `--device cuda` registers the CUDA execution provider where the loaded
//! library has it and session creation succeeds with it; otherwise it falls back
//! to CPU with one warning. `auto` does the same silently (an info line). The
//! device a session really got is recorded per model and reported per result.
//!
//! The CUDA provider runs in full float32: ONNX Runtime's CUDA provider turns
//! TensorFloat-32 on by default for MatMul, Gemm and cuDNN convolutions on
//! Ampere and later GPUs (10-bit mantissas, relative errors near 1e-3), which
//! would put an honest GPU validator's outputs outside the chain's tolerance
//! (rtol from 1e-4) against CPU validators. See [`cuda_provider`].

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use ort::environment::Environment;
use ort::ep::{ArbitrarilyConfigurableExecutionProvider, ExecutionProvider};
use ort::session::Session;

use crate::SidecarError;

/// Environment variable naming the library, as `ort` itself uses it.
pub const ORT_DYLIB_ENV: &str = "ORT_DYLIB_PATH";

/// What the operator asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceRequest {
    Auto,
    Cpu,
    Cuda,
}

impl FromStr for DeviceRequest {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(DeviceRequest::Auto),
            "cpu" => Ok(DeviceRequest::Cpu),
            "cuda" => Ok(DeviceRequest::Cuda),
            other => Err(format!("unknown device `{other}` (auto, cpu, cuda)")),
        }
    }
}

/// The device a session actually runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Device {
    Cpu,
    Cuda,
}

impl Device {
    pub fn name(self) -> &'static str {
        match self {
            Device::Cpu => "cpu",
            Device::Cuda => "cuda",
        }
    }
}

/// Finds `libonnxruntime`; the error names every place tried.
pub fn locate_library(explicit: Option<&Path>) -> Result<PathBuf, SidecarError> {
    let mut tried = Vec::new();
    // An explicit choice that is wrong is an error, not a reason to look elsewhere:
    // silently loading a different library would hide a misconfiguration.
    if let Some(p) = explicit {
        if p.is_file() {
            return Ok(p.to_path_buf());
        }
        tried.push(p.to_path_buf());
        return Err(SidecarError::OrtLibraryNotFound { tried });
    }
    if let Some(p) = std::env::var_os(ORT_DYLIB_ENV).filter(|v| !v.is_empty()) {
        let p = PathBuf::from(p);
        if p.is_file() {
            return Ok(p);
        }
        tried.push(p);
        return Err(SidecarError::OrtLibraryNotFound { tried });
    }
    let p = PathBuf::from(BUILD_TREE_LIBRARY);
    if p.is_file() && !writable_by_others(&p) {
        return Ok(p);
    }
    tried.push(p);
    Err(SidecarError::OrtLibraryNotFound { tried })
}

/// A library file (or, for a link, its target) that users other than its
/// owner may write is not loaded from the fallback path.
fn writable_by_others(p: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(p)
            .map(|m| m.permissions().mode() & 0o022 != 0)
            .unwrap_or(true)
    }
    #[cfg(not(unix))]
    {
        let _ = p;
        false
    }
}

/// The library `make setup` installs in the checkout this binary was built from
/// (an absolute path fixed at build time).
pub const BUILD_TREE_LIBRARY: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../.tools/libonnxruntime.so");

/// The loaded library's version, from its real file name
/// (`libonnxruntime.so.1.32.0`, what the wheel ships and `make setup` links
/// to); set once, when the library is loaded.
static VERSION: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// The version in a library's file name, after symlinks: `libonnxruntime.so.X.Y.Z`.
fn version_of(lib: &Path) -> Option<String> {
    let real = std::fs::canonicalize(lib).ok()?;
    let name = real.file_name()?.to_str()?;
    let v = name.strip_prefix("libonnxruntime.so.")?;
    (!v.is_empty() && v.chars().all(|c| c.is_ascii_digit() || c == '.')).then(|| v.to_string())
}

/// What a result says ran it: "onnxruntime/<version> <device>". Validators
/// put it in their commitments; the chain keeps it as provenance.
pub fn runtime_label(device: Device) -> String {
    let v = VERSION.get().map_or("unknown", String::as_str);
    format!("onnxruntime/{v} {}", device.name())
}

// `ort` allows one environment per process and binds the first library loaded.
static ENVIRONMENT: Mutex<Option<(Environment, PathBuf)>> = Mutex::new(None);

fn environment(lib: &Path) -> Result<Environment, SidecarError> {
    let mut slot = ENVIRONMENT
        .lock()
        .map_err(|_| SidecarError::Ort("environment lock poisoned".into()))?;
    if let Some((env, first)) = slot.as_ref() {
        if first != lib {
            tracing::warn!(
                loaded = %first.display(),
                requested = %lib.display(),
                "ONNX Runtime is already loaded in this process; keeping the first library"
            );
        }
        return Ok(env.clone());
    }
    let builder = ort::init_from(lib).map_err(|e| SidecarError::OrtLibraryLoad {
        path: lib.to_path_buf(),
        reason: e.to_string(),
    })?;
    let env = builder
        .with_name("verdict-sidecar")
        .build()
        .map_err(SidecarError::ort)?;
    *slot = Some((env.clone(), lib.to_path_buf()));
    Ok(env)
}

/// The CUDA execution provider as every session uses it: TensorFloat-32 off
/// (`use_tf32=0`; ONNX Runtime's default is on), so MatMul, Gemm and
/// convolutions round like the CPU's float32 and only the summation order
/// differs. Measured CPU-vs-CUDA differences: `scripts/gpu-check.sh`.
/// Written as "0", which every ONNX Runtime parses (`ort`'s `with_tf32(false)`
/// writes "false", which older ones refuse, failing the provider).
pub fn cuda_provider() -> ort::ep::CUDA {
    ort::ep::CUDA::default().with_arbitrary_config("use_tf32", "0")
}

/// Loaded ONNX Runtime plus the device policy; creates sessions.
pub struct Runtime {
    env: Environment,
    lib: PathBuf,
    request: DeviceRequest,
    try_cuda: bool,
    intra_threads: usize,
    warned_fallback: AtomicBool,
}

impl Runtime {
    /// Loads the library (once per process) and settles whether CUDA will be tried.
    pub fn new(
        lib: &Path,
        request: DeviceRequest,
        intra_threads: usize,
    ) -> Result<Runtime, SidecarError> {
        let env = environment(lib)?;
        let _ = VERSION.set(version_of(lib).unwrap_or_else(|| "unknown".into()));
        let rt = Runtime {
            env,
            lib: lib.to_path_buf(),
            request,
            try_cuda: false,
            intra_threads: intra_threads.max(1),
            warned_fallback: AtomicBool::new(false),
        };
        let try_cuda = match request {
            DeviceRequest::Cpu => false,
            DeviceRequest::Auto | DeviceRequest::Cuda => match ort::ep::CUDA::is_available() {
                Ok(true) => true,
                Ok(false) => {
                    rt.fallback("the loaded ONNX Runtime has no CUDA execution provider (install the onnxruntime-gpu wheel: `make setup GPU=1`)");
                    false
                }
                Err(e) => {
                    rt.fallback(&format!("could not query execution providers: {e}"));
                    false
                }
            },
        };
        Ok(Runtime { try_cuda, ..rt })
    }

    pub fn library(&self) -> &Path {
        &self.lib
    }

    pub fn request(&self) -> DeviceRequest {
        self.request
    }

    /// Logs the CUDA → CPU fallback once per runtime: loud for `cuda`, quiet for `auto`.
    fn fallback(&self, why: &str) {
        if self.warned_fallback.swap(true, Ordering::Relaxed) {
            return;
        }
        match self.request {
            DeviceRequest::Cuda => {
                tracing::warn!("--device cuda: {why}; falling back to CPU");
            }
            _ => tracing::info!("device auto: {why}; using CPU"),
        }
    }

    /// Creates a session from model bytes on the best allowed device.
    pub fn session(&self, bytes: &[u8]) -> Result<(Session, Device), SidecarError> {
        if self.try_cuda {
            // error_on_failure: a CUDA EP that cannot register must fail here, so the
            // fallback is ours (and reported) rather than a silent CPU session labelled cuda.
            let cuda = || -> Result<Session, SidecarError> {
                Session::builder(&self.env)
                    .map_err(SidecarError::ort)?
                    .with_intra_threads(self.intra_threads)
                    .map_err(SidecarError::ort)?
                    .with_execution_providers([cuda_provider().build().error_on_failure()])
                    .map_err(SidecarError::ort)?
                    .commit_from_memory(bytes)
                    .map_err(SidecarError::ort)
            };
            let cuda = cuda();
            match cuda {
                Ok(s) => return Ok((s, Device::Cuda)),
                Err(e) => self.fallback(&format!("CUDA session creation failed: {e}")),
            }
        }
        let mut builder = Session::builder(&self.env)
            .map_err(SidecarError::ort)?
            .with_intra_threads(self.intra_threads)
            .map_err(SidecarError::ort)?;
        let session = builder
            .commit_from_memory(bytes)
            .map_err(SidecarError::ort)?;
        Ok((session, Device::Cpu))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ONNX Runtime's CUDA provider defaults to TensorFloat-32; ours must ask for
    /// float32 explicitly, or ONNX Runtime's default applies.
    #[test]
    fn the_cuda_provider_asks_for_full_float32() {
        let options = format!("{:?}", cuda_provider());
        assert!(options.contains(r#""use_tf32": "0""#), "{options}");
        let default = format!("{:?}", ort::ep::CUDA::default());
        assert!(!default.contains("use_tf32"), "{default}");
    }
}
