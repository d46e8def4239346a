//! The job queue: bounded admission, worker threads, per-job deadlines, result
//! retention, and the test-only fault modes.
//!
//! # Invariants
//! - Memory is bounded: at most `queue_capacity` jobs wait (a full queue answers
//!   [`SidecarError::QueueFull`] at once), at most `workers` run, and at most
//!   `max_results` finished results are kept (oldest evicted first).
//! - A job's deadline counts from acceptance. A job still queued at its deadline
//!   is never run; a running one is terminated through ONNX Runtime's
//!   `RunOptions::terminate` by a per-worker watchdog; both end `TimedOut`.
//! - `latency` covers the model run only (plus the `slow` fault's sleep, which
//!   is meant to look like a slow device); queue wait is reported apart. Only
//!   the `lie` fault reports anything else (see below).
//!
//! Fault modes exist only to make a testnet validator misbehave on purpose:
//! `wrong` adds [`WRONG_DELTA`] to every output element, `slow=MS` sleeps MS
//! after the run, `down` refuses every job and reports not ready,
//! `noise=REL` scales every float output element by `1 ± REL` (sign fixed per
//! job, output and element: an honest-looking device with other rounding), and
//! `lie=MS` sleeps MS like `slow` but reports [`LIE_LATENCY`] and no queue wait.

use std::collections::{HashMap, VecDeque};
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ort::session::RunOptions;
use tokio::sync::Notify;

use crate::metrics::Metrics;
use crate::model::{Limits, Model, ModelStore};
use crate::runtime::Device;
use crate::tensor::NamedTensors;
use crate::SidecarError;

/// What the `wrong` fault adds to every output element.
pub const WRONG_DELTA: f64 = 1000.0;

/// The latency (and, as zero, the queue wait) the `lie` fault reports.
pub const LIE_LATENCY: Duration = Duration::from_millis(1);

/// Test-only misbehaviour, selected with `--fault`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Fault {
    #[default]
    None,
    Wrong,
    Slow(Duration),
    Down,
    /// `noise=REL`: the bits of REL (`f64::to_bits`, so that `Fault` stays `Eq`);
    /// always finite and positive when built by [`Fault::noise`] or parsing.
    Noise(u64),
    /// `lie=MS`: sleeps MS after the run, reports [`LIE_LATENCY`] and no queue wait.
    Lie(Duration),
}

impl Fault {
    /// `noise=REL`; `None` unless `rel` is finite and positive.
    pub fn noise(rel: f64) -> Option<Fault> {
        (rel.is_finite() && rel > 0.0).then(|| Fault::Noise(rel.to_bits()))
    }

    /// REL of a `noise` fault.
    pub fn noise_rel(self) -> Option<f64> {
        match self {
            Fault::Noise(bits) => Some(f64::from_bits(bits)),
            _ => None,
        }
    }
}

impl FromStr for Fault {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let ms = |v: &str| v.parse::<u64>().ok().map(Duration::from_millis);
        let parsed = match s {
            "" | "none" => Some(Fault::None),
            "wrong" => Some(Fault::Wrong),
            "down" => Some(Fault::Down),
            _ => match s.split_once('=') {
                Some(("slow", v)) => ms(v).map(Fault::Slow),
                Some(("lie", v)) => ms(v).map(Fault::Lie),
                Some(("noise", v)) => v.parse::<f64>().ok().and_then(Fault::noise),
                _ => None,
            },
        };
        parsed
            .ok_or_else(|| format!("unknown fault `{s}` (wrong, slow=MS, down, noise=REL, lie=MS)"))
    }
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fault::None => Ok(()),
            Fault::Wrong => f.write_str("wrong"),
            Fault::Slow(d) => write!(f, "slow={}", d.as_millis()),
            Fault::Down => f.write_str("down"),
            // f64's Display is the shortest text that parses back to the same value.
            Fault::Noise(bits) => write!(f, "noise={}", f64::from_bits(*bits)),
            Fault::Lie(d) => write!(f, "lie={}", d.as_millis()),
        }
    }
}

/// FNV-1a, 64 bit: a stable seed from a job id or an output name.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Queue and worker settings.
#[derive(Clone, Debug)]
pub struct JobConfig {
    pub queue_capacity: usize,
    pub workers: usize,
    pub timeout: Duration,
    pub max_results: usize,
    pub limits: Limits,
    pub fault: Fault,
}

impl Default for JobConfig {
    fn default() -> Self {
        JobConfig {
            queue_capacity: 64,
            workers: 1,
            timeout: Duration::from_millis(2000),
            max_results: 1024,
            limits: Limits::default(),
            fault: Fault::None,
        }
    }
}

/// Where a job is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobStatus {
    Queued,
    Running,
    Done,
    Failed,
    TimedOut,
}

impl JobStatus {
    pub fn is_final(self) -> bool {
        matches!(
            self,
            JobStatus::Done | JobStatus::Failed | JobStatus::TimedOut
        )
    }
}

/// A job's state as GetResult reports it.
#[derive(Clone, Debug)]
pub struct JobReport {
    pub job_id: String,
    pub model_hash: String,
    pub status: JobStatus,
    pub outputs: NamedTensors,
    pub latency: Duration,
    pub queue_wait: Duration,
    pub device: Option<Device>,
    pub error: Option<String>,
}

struct Job {
    id: String,
    model: Arc<Model>,
    inputs: NamedTensors,
    accepted: Instant,
    deadline: Instant,
}

#[derive(Default)]
struct JobTable {
    jobs: HashMap<String, JobReport>,
    finished: VecDeque<String>,
}

struct Shared {
    config: JobConfig,
    table: Mutex<JobTable>,
    changed: Notify,
    ready: AtomicBool,
    metrics: Arc<Metrics>,
}

/// Handle to the queue; cheap to clone. Workers stop when every handle is dropped.
#[derive(Clone)]
pub struct JobQueue {
    store: Arc<ModelStore>,
    tx: SyncSender<Job>,
    shared: Arc<Shared>,
}

enum Watch {
    Arm(Instant, Arc<RunOptions>),
    Disarm,
}

impl JobQueue {
    /// Starts `config.workers` worker threads. The store's models are already
    /// warmed up, so the queue is ready unless the `down` fault is on.
    pub fn start(
        store: Arc<ModelStore>,
        config: JobConfig,
        metrics: Arc<Metrics>,
    ) -> Result<JobQueue, SidecarError> {
        // sync_channel(0) would be a rendezvous channel; keep at least one slot.
        let (tx, rx) = mpsc::sync_channel::<Job>(config.queue_capacity.max(1));
        for m in store.models() {
            metrics.set_device(&m.sha256, m.device.name());
        }
        let shared = Arc::new(Shared {
            ready: AtomicBool::new(config.fault != Fault::Down),
            config,
            table: Mutex::new(JobTable::default()),
            changed: Notify::new(),
            metrics,
        });
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..shared.config.workers.max(1) {
            let (shared, rx) = (shared.clone(), rx.clone());
            let options = Arc::new(RunOptions::new().map_err(SidecarError::ort)?);
            let (wd_tx, wd_rx) = mpsc::channel::<Watch>();
            std::thread::Builder::new()
                .name(format!("sidecar-watchdog-{i}"))
                .spawn(move || watchdog(wd_rx))
                .map_err(|e| SidecarError::Run(format!("spawn watchdog: {e}")))?;
            std::thread::Builder::new()
                .name(format!("sidecar-worker-{i}"))
                .spawn(move || worker(shared, rx, options, wd_tx))
                .map_err(|e| SidecarError::Run(format!("spawn worker: {e}")))?;
        }
        Ok(JobQueue { store, tx, shared })
    }

    pub fn store(&self) -> &ModelStore {
        &self.store
    }

    pub fn config(&self) -> &JobConfig {
        &self.shared.config
    }

    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.shared.metrics
    }

    /// Ready to take jobs: every session warmed up and not faulted `down`.
    pub fn is_ready(&self) -> bool {
        self.shared.ready.load(Ordering::Relaxed)
    }

    pub fn queue_depth(&self) -> usize {
        self.shared.metrics.queue_depth()
    }

    /// Validates and enqueues; returns the queue depth including this job.
    pub fn submit(
        &self,
        model_hash: &str,
        job_id: &str,
        inputs: NamedTensors,
    ) -> Result<usize, SidecarError> {
        let m = &self.shared.metrics;
        let res = self.submit_inner(model_hash, job_id, inputs);
        if let Err(e) = &res {
            m.error(match e {
                SidecarError::QueueFull { .. } => "queue_full",
                SidecarError::NotReady(_) => "not_ready",
                SidecarError::UnknownModel(_) => "unknown_model",
                SidecarError::DuplicateJob(_) => "duplicate_job",
                _ => "invalid_input",
            });
        }
        res
    }

    fn submit_inner(
        &self,
        model_hash: &str,
        job_id: &str,
        inputs: NamedTensors,
    ) -> Result<usize, SidecarError> {
        if self.shared.config.fault == Fault::Down {
            return Err(SidecarError::NotReady(
                "fault mode `down` refuses all jobs".into(),
            ));
        }
        if !self.is_ready() {
            return Err(SidecarError::NotReady("models are still warming up".into()));
        }
        if job_id.is_empty() || job_id.len() > 256 {
            return Err(SidecarError::InvalidRequest(
                "job_id must be 1 to 256 bytes".into(),
            ));
        }
        let model = self.store.get(model_hash)?;
        model.validate(&inputs, &self.shared.config.limits)?;
        let mut table = self
            .shared
            .table
            .lock()
            .map_err(|_| SidecarError::Run("job table lock poisoned".into()))?;
        if table.jobs.contains_key(job_id) {
            return Err(SidecarError::DuplicateJob(job_id.to_string()));
        }
        let now = Instant::now();
        let job = Job {
            id: job_id.to_string(),
            model: model.clone(),
            inputs,
            accepted: now,
            deadline: now + self.shared.config.timeout,
        };
        // Depth goes up before the send so a fast worker's decrement cannot underflow it.
        let depth = self.shared.metrics.queue_inc();
        match self.tx.try_send(job) {
            Ok(()) => {}
            Err(e) => {
                self.shared.metrics.queue_dec();
                return Err(match e {
                    TrySendError::Full(_) => SidecarError::QueueFull {
                        capacity: self.shared.config.queue_capacity,
                    },
                    TrySendError::Disconnected(_) => {
                        SidecarError::NotReady("workers stopped".into())
                    }
                });
            }
        }
        table.jobs.insert(
            job_id.to_string(),
            JobReport {
                job_id: job_id.to_string(),
                model_hash: model.sha256.clone(),
                status: JobStatus::Queued,
                outputs: NamedTensors::new(),
                latency: Duration::ZERO,
                queue_wait: Duration::ZERO,
                device: None,
                error: None,
            },
        );
        Ok(depth)
    }

    /// The job's current report.
    pub fn result(&self, job_id: &str) -> Result<JobReport, SidecarError> {
        let table = self
            .shared
            .table
            .lock()
            .map_err(|_| SidecarError::Run("job table lock poisoned".into()))?;
        table
            .jobs
            .get(job_id)
            .cloned()
            .ok_or_else(|| SidecarError::UnknownJob(job_id.to_string()))
    }

    /// Like [`JobQueue::result`] but waits up to `wait` for a final state.
    pub async fn wait_result(
        &self,
        job_id: &str,
        wait: Duration,
    ) -> Result<JobReport, SidecarError> {
        let until = tokio::time::Instant::now() + wait;
        loop {
            let notified = self.shared.changed.notified();
            tokio::pin!(notified);
            // Register interest before looking, so a finish in between is not missed.
            notified.as_mut().enable();
            let report = self.result(job_id)?;
            if report.status.is_final() || tokio::time::Instant::now() >= until {
                return Ok(report);
            }
            if tokio::time::timeout_at(until, notified).await.is_err() {
                return self.result(job_id);
            }
        }
    }
}

fn watchdog(rx: Receiver<Watch>) {
    while let Ok(msg) = rx.recv() {
        let Watch::Arm(deadline, options) = msg else {
            continue;
        };
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(_) => {}
            Err(RecvTimeoutError::Timeout) => {
                if let Err(e) = options.terminate() {
                    tracing::warn!(error = %e, "could not terminate an overdue run");
                }
                // Wait for the worker to disarm before taking the next job.
                if rx.recv().is_err() {
                    return;
                }
            }
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

fn worker(
    shared: Arc<Shared>,
    rx: Arc<Mutex<Receiver<Job>>>,
    options: Arc<RunOptions>,
    watchdog: mpsc::Sender<Watch>,
) {
    loop {
        let job = {
            let Ok(rx) = rx.lock() else { return };
            match rx.recv() {
                Ok(job) => job,
                Err(_) => return,
            }
        };
        shared.metrics.queue_dec();
        let started = Instant::now();
        let queue_wait = started.saturating_duration_since(job.accepted);
        shared.metrics.observe_queue_wait(queue_wait);
        let report = run_job(&shared, job, queue_wait, &options, &watchdog);
        finish(&shared, report);
    }
}

fn run_job(
    shared: &Shared,
    job: Job,
    queue_wait: Duration,
    options: &Arc<RunOptions>,
    watchdog: &mpsc::Sender<Watch>,
) -> JobReport {
    let limit_ms = shared.config.timeout.as_millis() as u64;
    let mut report = JobReport {
        job_id: job.id.clone(),
        model_hash: job.model.sha256.clone(),
        status: JobStatus::Running,
        outputs: NamedTensors::new(),
        latency: Duration::ZERO,
        queue_wait,
        device: Some(job.model.device),
        error: None,
    };
    let timed_out = |report: &mut JobReport| {
        report.status = JobStatus::TimedOut;
        report.error = Some(
            SidecarError::Timeout {
                elapsed_ms: job.accepted.elapsed().as_millis() as u64,
                limit_ms,
            }
            .to_string(),
        );
    };
    if Instant::now() >= job.deadline {
        timed_out(&mut report);
        return report;
    }
    set_status(shared, &job.id, JobStatus::Running);
    let _ = options.unterminate();
    let _ = watchdog.send(Watch::Arm(job.deadline, options.clone()));
    let model = job.model.clone();
    // A panic inside a run must cost one job, not the worker thread.
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        model.run(job.inputs, Some(options))
    }))
    .unwrap_or_else(|_| Err(SidecarError::Run("panicked".into())));
    let _ = watchdog.send(Watch::Disarm);
    match result {
        Err(e) => {
            if Instant::now() >= job.deadline {
                timed_out(&mut report);
            } else {
                report.status = JobStatus::Failed;
                report.error = Some(e.to_string());
            }
        }
        Ok(out) => {
            let mut latency = out.latency;
            let mut outputs = out.outputs;
            let mut lie = false;
            match shared.config.fault {
                Fault::Wrong => outputs.values_mut().for_each(|t| t.perturb(WRONG_DELTA)),
                Fault::Slow(d) | Fault::Lie(d) => {
                    // Sleep no further than the deadline: the job is lost by then anyway.
                    let left = job.deadline.saturating_duration_since(Instant::now());
                    std::thread::sleep(d.min(left));
                    latency += d;
                    lie = matches!(shared.config.fault, Fault::Lie(_));
                }
                Fault::Noise(bits) => {
                    let rel = f64::from_bits(bits);
                    let seed = fnv1a(job.id.as_bytes());
                    for (name, t) in outputs.iter_mut() {
                        t.perturb_relative(rel, seed ^ fnv1a(name.as_bytes()));
                    }
                }
                Fault::None | Fault::Down => {}
            }
            // The metrics keep the true latency; only the result lies.
            report.latency = if lie { LIE_LATENCY } else { latency };
            if lie {
                report.queue_wait = Duration::ZERO;
            }
            report.device = Some(out.device);
            if Instant::now() >= job.deadline {
                timed_out(&mut report);
            } else {
                report.status = JobStatus::Done;
                report.outputs = outputs;
                shared.metrics.observe_run(&job.model.sha256, latency);
            }
        }
    }
    report
}

fn set_status(shared: &Shared, id: &str, status: JobStatus) {
    if let Ok(mut t) = shared.table.lock() {
        if let Some(r) = t.jobs.get_mut(id) {
            r.status = status;
        }
    }
}

fn finish(shared: &Shared, report: JobReport) {
    let outcome = match report.status {
        JobStatus::Done => "done",
        JobStatus::TimedOut => "timed_out",
        _ => "failed",
    };
    shared.metrics.job_finished(&report.model_hash, outcome);
    if outcome != "done" {
        shared.metrics.error(if outcome == "timed_out" {
            "timed_out"
        } else {
            "run_failed"
        });
    }
    if let Ok(mut t) = shared.table.lock() {
        let id = report.job_id.clone();
        t.jobs.insert(id.clone(), report);
        t.finished.push_back(id);
        while t.finished.len() > shared.config.max_results {
            if let Some(old) = t.finished.pop_front() {
                t.jobs.remove(&old);
            }
        }
    }
    shared.changed.notify_waiters();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::{Tensor, TensorData};

    #[test]
    fn new_fault_modes_parse_and_display_round_trip() {
        for (text, fault) in [
            ("noise=1e-6", Fault::noise(1e-6)),
            ("noise=0.001", Fault::noise(0.001)),
            ("noise=2.5E-3", Fault::noise(2.5e-3)),
            ("lie=3000", Some(Fault::Lie(Duration::from_millis(3000)))),
            ("lie=0", Some(Fault::Lie(Duration::ZERO))),
        ] {
            let fault = fault.expect("valid fault");
            let parsed = text.parse::<Fault>().expect(text);
            assert_eq!(parsed, fault, "{text}");
            let shown = parsed.to_string();
            assert_eq!(
                shown.parse::<Fault>(),
                Ok(fault),
                "{text} displays as {shown}"
            );
        }
        assert_eq!(
            "noise=1e-6".parse::<Fault>().map(Fault::noise_rel),
            Ok(Some(1e-6))
        );
        assert_eq!(
            Fault::Lie(Duration::from_millis(3000)).to_string(),
            "lie=3000"
        );
        // The old modes still round-trip too.
        for text in ["wrong", "down", "slow=250"] {
            let f = text.parse::<Fault>().expect(text);
            assert_eq!(f.to_string(), text);
        }
    }

    #[test]
    fn bad_new_fault_modes_are_rejected_with_every_mode_listed() {
        for bad in [
            "noise=abc",
            "noise=-1",
            "noise=0",
            "noise=",
            "noise=nan",
            "noise=inf",
            "lie=x",
            "lie=-5",
            "lie=",
            "lie",
            "noise",
            "copy",
        ] {
            let err = bad.parse::<Fault>().expect_err(bad);
            assert!(
                err.contains("wrong, slow=MS, down, noise=REL, lie=MS"),
                "{bad}: {err}"
            );
        }
        assert_eq!(Fault::noise(-1.0), None);
        assert_eq!(Fault::noise(f64::NAN), None);
    }

    #[test]
    fn noise_moves_float_elements_by_at_most_rel_and_never_by_zero() {
        let rel = 1e-3;
        let xs: Vec<f64> = (0..64)
            .map(|i| (f64::from(i) * 0.37).sin() * 10.0 + 0.5)
            .collect();
        let mut t64 = Tensor::new(vec![64], TensorData::F64(xs.clone()));
        t64.perturb_relative(rel, fnv1a(b"job-1"));
        let TensorData::F64(ys) = &t64.data else {
            panic!("f64")
        };
        let (mut up, mut down) = (0, 0);
        for (x, y) in xs.iter().zip(ys) {
            let r = (y - x) / x;
            assert!(r.abs() <= rel * (1.0 + 1e-9), "{x} -> {y}");
            assert!(
                r.abs() >= rel * (1.0 - 1e-9),
                "{x} -> {y} moved by less than REL"
            );
            if r > 0.0 {
                up += 1;
            } else {
                down += 1;
            }
        }
        assert!(
            up > 0 && down > 0,
            "signs vary per element: {up} up, {down} down"
        );

        // Deterministic: the same seed gives the same output, another seed another one.
        let mut again = Tensor::new(vec![64], TensorData::F64(xs.clone()));
        again.perturb_relative(rel, fnv1a(b"job-1"));
        assert_eq!(again, t64);
        let mut other = Tensor::new(vec![64], TensorData::F64(xs.clone()));
        other.perturb_relative(rel, fnv1a(b"job-2"));
        assert_ne!(other, t64);

        // f32: within REL plus one rounding, and not zero for a nonzero element.
        let xs32: Vec<f32> = xs.iter().map(|x| *x as f32).collect();
        let mut t32 = Tensor::new(vec![64], TensorData::F32(xs32.clone()));
        t32.perturb_relative(rel, 7);
        let TensorData::F32(ys32) = &t32.data else {
            panic!("f32")
        };
        for (x, y) in xs32.iter().zip(ys32) {
            let r = f64::from(y - x) / f64::from(*x);
            assert!(r.abs() <= rel + f64::from(f32::EPSILON), "{x} -> {y}");
            assert!(y != x, "{x} unchanged");
        }

        // Integer outputs are left alone.
        let ints = Tensor::new(vec![3], TensorData::I64(vec![1, -2, 3]));
        let mut t = ints.clone();
        t.perturb_relative(rel, 7);
        assert_eq!(t, ints);
        let ints = Tensor::new(vec![2], TensorData::I32(vec![5, 6]));
        let mut t = ints.clone();
        t.perturb_relative(rel, 7);
        assert_eq!(t, ints);
    }
}
