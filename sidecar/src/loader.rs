//! Hot-loading models while serving (the LoadModel RPC): fetch by URI, verify,
//! create and warm up the session, add the model to the live [`ModelStore`] the
//! job queue reads, with bounded retries.
//!
//! # Invariants
//! - [`Loader::load`] never blocks on the network or ONNX Runtime: it records
//!   the request and returns the model's state; the work runs on a background
//!   task. A second request for a model that is ready or loading changes nothing.
//! - A model the serve policy refuses is recorded as `refused_by_policy` and is
//!   never fetched.
//! - A model only enters the store after its bytes matched the requested sha256
//!   (checked by the fetcher, then again by [`Model::load`] on the bytes the
//!   session is built from) and its warm-up run succeeded.
//! - One model's failure (or panic) costs only that model: it ends `failed` with
//!   its last error; the store, the queue and the gRPC service are untouched.
//! - Retries: an attempt tries the cache, then each URI in order. When every URI
//!   failed and at least one failure may pass (network, timeout, 404/408/429/5xx,
//!   disk), the next attempt follows after 1 s, 2 s, 4 s … capped at 60 s, for
//!   ever unless `max_attempts` is set; the model stays `loading` meanwhile, with
//!   `last_error` and `attempts` showing why. Wrong bytes, wrong sizes, oversized
//!   files, unusable URIs and models ONNX Runtime rejects are not retried: the
//!   model is `failed` until a new LoadModel starts over.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use crate::fetch::{self, FetchLimits};
use crate::metrics::Metrics;
use crate::model::{Model, ModelStore, Refused};
use crate::policy::ServePolicy;
use crate::runtime::Runtime;
use crate::SidecarError;

/// At most this many URIs per request, each at most [`MAX_URI_LEN`] bytes.
pub const MAX_URIS: usize = 16;
pub const MAX_URI_LEN: usize = 2048;
/// Downloads running at once (the rest wait their turn).
pub const PARALLEL_FETCHES: usize = 2;

/// Where a model stands, as ListModels reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoadState {
    Loading,
    Ready,
    Failed,
    RefusedByPolicy,
}

impl LoadState {
    pub fn name(self) -> &'static str {
        match self {
            LoadState::Loading => "loading",
            LoadState::Ready => "ready",
            LoadState::Failed => "failed",
            LoadState::RefusedByPolicy => "refused_by_policy",
        }
    }
}

/// A model the loader knows about (hot-loaded, being loaded, failed or refused).
#[derive(Clone, Debug)]
pub struct ModelStatus {
    pub sha256: String,
    pub state: LoadState,
    /// The file the model was loaded from, once ready (or refused from the models dir).
    pub file_name: String,
    pub last_error: String,
    /// Attempts started so far.
    pub attempts: u32,
    /// When the next attempt starts, while one is scheduled.
    pub next_attempt: Option<Instant>,
}

impl ModelStatus {
    fn new(sha256: &str, state: LoadState) -> Self {
        ModelStatus {
            sha256: sha256.to_string(),
            state,
            file_name: String::new(),
            last_error: String::new(),
            attempts: 0,
            next_attempt: None,
        }
    }

    /// Time left before the next attempt, while one is scheduled.
    pub fn retry_in(&self) -> Option<Duration> {
        self.next_attempt
            .map(|t| t.saturating_duration_since(Instant::now()))
    }
}

/// Exponential back-off between attempts.
#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    pub initial: Duration,
    pub max: Duration,
    /// 0: keep retrying passing failures for ever.
    pub max_attempts: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(60),
            max_attempts: 0,
        }
    }
}

impl RetryPolicy {
    /// The wait after the `failed`-th failed attempt (1-based): initial × 2^(failed−1), capped.
    pub fn delay(&self, failed: u32) -> Duration {
        let factor = 1u32 << failed.saturating_sub(1).min(20);
        self.initial.saturating_mul(factor).min(self.max)
    }

    fn exhausted(&self, attempts: u32) -> bool {
        self.max_attempts != 0 && attempts >= self.max_attempts
    }
}

/// The loader's settings.
#[derive(Clone, Debug)]
pub struct LoaderConfig {
    /// Where verified downloads go: `<models>/cache`.
    pub cache_dir: PathBuf,
    pub fetch: FetchLimits,
    pub retry: RetryPolicy,
    pub policy: ServePolicy,
    /// Models tracked at most (any state but those of the models dir).
    pub max_tracked: usize,
}

impl LoaderConfig {
    /// Defaults, caching under `<models_dir>/cache`.
    pub fn new(models_dir: &Path) -> Self {
        LoaderConfig {
            cache_dir: models_dir.join(fetch::CACHE_DIR),
            fetch: FetchLimits::default(),
            retry: RetryPolicy::default(),
            policy: ServePolicy::All,
            max_tracked: 1024,
        }
    }
}

struct Inner {
    rt: Arc<Runtime>,
    store: Arc<ModelStore>,
    metrics: Arc<Metrics>,
    config: LoaderConfig,
    states: Mutex<BTreeMap<String, ModelStatus>>,
    fetches: Semaphore,
    // Session creation is CPU- and memory-heavy: one at a time.
    builds: Semaphore,
    handle: tokio::runtime::Handle,
}

impl Inner {
    fn states(&self) -> MutexGuard<'_, BTreeMap<String, ModelStatus>> {
        // Every update is a whole-field assignment: a poisoned map is still consistent.
        self.states.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn update(&self, hash: &str, f: impl FnOnce(&mut ModelStatus)) {
        if let Some(s) = self.states().get_mut(hash) {
            f(s);
        }
    }
}

/// Handle to the loader; cheap to clone.
#[derive(Clone)]
pub struct Loader {
    inner: Arc<Inner>,
}

/// A failed attempt: the message for ListModels and whether to try again.
struct Failure {
    message: String,
    transient: bool,
}

impl Failure {
    fn permanent(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            transient: false,
        }
    }
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

impl Loader {
    /// Must be called inside a tokio runtime: background loads are spawned on it.
    pub fn new(
        rt: Arc<Runtime>,
        store: Arc<ModelStore>,
        metrics: Arc<Metrics>,
        config: LoaderConfig,
    ) -> Result<Loader, SidecarError> {
        let handle = tokio::runtime::Handle::try_current().map_err(|e| {
            SidecarError::Run(format!("the model loader needs a tokio runtime: {e}"))
        })?;
        fetch::sweep_temp_files(&config.cache_dir);
        Ok(Loader {
            inner: Arc::new(Inner {
                rt,
                store,
                metrics,
                config,
                states: Mutex::new(BTreeMap::new()),
                fetches: Semaphore::new(PARALLEL_FETCHES),
                builds: Semaphore::new(1),
                handle,
            }),
        })
    }

    pub fn store(&self) -> &Arc<ModelStore> {
        &self.inner.store
    }

    pub fn config(&self) -> &LoaderConfig {
        &self.inner.config
    }

    /// Records the models-directory files the policy refused at start.
    pub fn mark_refused(&self, refused: &[Refused]) {
        let why = self.inner.config.policy.refusal();
        let mut states = self.inner.states();
        for r in refused {
            let mut s = ModelStatus::new(&r.sha256, LoadState::RefusedByPolicy);
            s.file_name = r.file_name.clone();
            s.last_error = why.clone();
            states.insert(r.sha256.clone(), s);
        }
    }

    /// Every model the loader tracks, by sha256 (ready ones included).
    pub fn statuses(&self) -> BTreeMap<String, ModelStatus> {
        self.inner.states().clone()
    }

    pub fn status(&self, sha256: &str) -> Option<ModelStatus> {
        self.inner
            .states()
            .get(&sha256.to_ascii_lowercase())
            .cloned()
    }

    /// Starts loading `sha256` from `uris` (tried in order after the cache) unless
    /// it is ready, loading or refused; returns its state at once. `size` is the
    /// declared size in bytes (0: not declared).
    pub fn load(
        &self,
        sha256: &str,
        size: u64,
        uris: Vec<String>,
    ) -> Result<LoadState, SidecarError> {
        let bad = |m: String| Err(SidecarError::InvalidRequest(m));
        if !is_sha256_hex(sha256) {
            return bad(format!(
                "model_hash `{sha256}` is not a sha256 (64 hex digits)"
            ));
        }
        if uris.len() > MAX_URIS {
            return bad(format!("{} URIs, at most {MAX_URIS}", uris.len()));
        }
        if uris.iter().any(|u| u.len() > MAX_URI_LEN) {
            return bad(format!("a URI is longer than {MAX_URI_LEN} bytes"));
        }
        let hash = sha256.to_ascii_lowercase();
        let inner = &self.inner;
        if inner.store.contains(&hash) {
            return Ok(LoadState::Ready);
        }
        let mut states = inner.states();
        let known = states.get(&hash).map(|s| s.state);
        if !inner.config.policy.allows(&hash) {
            if known.is_none() && states.len() >= inner.config.max_tracked {
                return Err(SidecarError::TooManyModels(inner.config.max_tracked));
            }
            let mut s = ModelStatus::new(&hash, LoadState::RefusedByPolicy);
            s.last_error = inner.config.policy.refusal();
            states.insert(hash, s);
            inner.metrics.model_load("refused_by_policy");
            return Ok(LoadState::RefusedByPolicy);
        }
        match known {
            Some(state @ (LoadState::Loading | LoadState::Ready)) => return Ok(state),
            None if states.len() >= inner.config.max_tracked => {
                return Err(SidecarError::TooManyModels(inner.config.max_tracked));
            }
            _ => {}
        }
        let mut status = ModelStatus::new(&hash, LoadState::Loading);
        let cap = inner.config.fetch.max_bytes;
        if size > cap {
            status.state = LoadState::Failed;
            status.last_error =
                format!("declared size {size} bytes is over this sidecar's cap of {cap} bytes");
            states.insert(hash, status);
            inner.metrics.model_load("failed");
            return Ok(LoadState::Failed);
        }
        states.insert(hash.clone(), status);
        drop(states);
        tracing::info!(sha256 = %hash, size, uris = uris.len(), "loading model");
        inner.handle.spawn(run(inner.clone(), hash, size, uris));
        Ok(LoadState::Loading)
    }
}

async fn run(inner: Arc<Inner>, hash: String, size: u64, uris: Vec<String>) {
    let retry = inner.config.retry;
    let mut attempts = 0u32;
    loop {
        attempts = attempts.saturating_add(1);
        inner.update(&hash, |s| {
            s.state = LoadState::Loading;
            s.attempts = attempts;
            s.next_attempt = None;
        });
        let failure = match attempt(&inner, &hash, size, &uris).await {
            Ok(model) => {
                inner.metrics.set_device(&hash, model.device.name());
                inner.metrics.model_load("ready");
                inner.update(&hash, |s| {
                    s.state = LoadState::Ready;
                    s.file_name = model.file_name();
                    s.last_error.clear();
                });
                tracing::info!(sha256 = %hash, attempts, device = model.device.name(), "hot-loaded model ready");
                return;
            }
            Err(f) => f,
        };
        if !failure.transient || retry.exhausted(attempts) {
            tracing::warn!(sha256 = %hash, attempts, error = %failure.message, "model load failed; not retrying");
            inner.metrics.model_load("failed");
            inner.update(&hash, |s| {
                s.state = LoadState::Failed;
                s.last_error = failure.message;
            });
            return;
        }
        let delay = retry.delay(attempts);
        tracing::warn!(sha256 = %hash, attempts, retry_in_ms = delay.as_millis() as u64, error = %failure.message, "model load failed; retrying");
        inner.metrics.model_load("retry");
        inner.update(&hash, |s| {
            s.last_error = failure.message;
            s.next_attempt = Some(Instant::now() + delay);
        });
        tokio::time::sleep(delay).await;
    }
}

/// The verified file: the cache, else each URI in order.
async fn locate(inner: &Inner, hash: &str, size: u64, uris: &[String]) -> Result<PathBuf, Failure> {
    let cache = &inner.config.cache_dir;
    if let Some(p) = fetch::cached(cache, hash, size).await {
        return Ok(p);
    }
    if uris.is_empty() {
        return Err(Failure::permanent("not in the cache and no URI given"));
    }
    let mut errors = Vec::new();
    let mut transient = false;
    for uri in uris {
        match fetch::fetch(uri, hash, size, cache, &inner.config.fetch).await {
            Ok(p) => return Ok(p),
            Err(e) => {
                tracing::debug!(sha256 = %hash, error = %e, "fetch failed");
                transient |= e.is_transient();
                errors.push(e.to_string());
            }
        }
    }
    Err(Failure {
        message: errors.join("; "),
        transient,
    })
}

async fn attempt(
    inner: &Arc<Inner>,
    hash: &str,
    size: u64,
    uris: &[String],
) -> Result<Arc<Model>, Failure> {
    let closed = |_| Failure::permanent("the loader is shutting down");
    let path = {
        let _permit = inner.fetches.acquire().await.map_err(closed)?;
        locate(inner, hash, size, uris).await?
    };
    let _permit = inner.builds.acquire().await.map_err(closed)?;
    let (rt, p, h) = (inner.rt.clone(), path.clone(), hash.to_string());
    // Model::load hashes the very bytes it builds the session from.
    let built = tokio::task::spawn_blocking(move || -> Result<Model, SidecarError> {
        let m = Model::load(&rt, &p, Some(&h))?;
        m.warm_up()?;
        Ok(m)
    })
    .await;
    match built {
        Ok(Ok(model)) => match inner.store.insert(model) {
            Ok(m) => Ok(m),
            Err(e) => inner
                .store
                .get(hash)
                .map_err(|_| Failure::permanent(e.to_string())),
        },
        // The cached file changed under us (disk, operator): drop it and fetch again.
        Ok(Err(e @ (SidecarError::HashMismatch { .. } | SidecarError::Io { .. }))) => {
            let _ = std::fs::remove_file(&path);
            Err(Failure {
                message: e.to_string(),
                transient: true,
            })
        }
        Ok(Err(e)) => Err(Failure::permanent(e.to_string())),
        Err(join) => Err(Failure::permanent(format!("loading panicked: {join}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_off_doubles_from_one_second_to_a_minute() {
        let r = RetryPolicy::default();
        let secs: Vec<u64> = (1..=9).map(|n| r.delay(n).as_secs()).collect();
        assert_eq!(secs, vec![1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(r.delay(u32::MAX), Duration::from_secs(60));
        assert!(!r.exhausted(1_000_000), "0 attempts: for ever");
        let r = RetryPolicy {
            max_attempts: 3,
            ..r
        };
        assert!(!r.exhausted(2) && r.exhausted(3));
    }
}
