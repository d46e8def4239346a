//! `verdict-sidecar`: `serve` runs the loopback gRPC service (and metrics);
//! `infer` runs one model once and prints JSON. See the crate docs of
//! `verdict_sidecar` for what each part owns.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use verdict_sidecar::jobs::{Fault, JobConfig, JobQueue};
use verdict_sidecar::metrics::Metrics;
use verdict_sidecar::model::{Limits, Model, ModelStore};
use verdict_sidecar::runtime::{locate_library, DeviceRequest, Runtime};
use verdict_sidecar::service::SidecarService;
use verdict_sidecar::tensor::{tensors_from_json, tensors_to_json, NamedTensors};

#[derive(Parser)]
#[command(
    name = "verdict-sidecar",
    version,
    about = "Verdict inference sidecar (ONNX Runtime over loopback gRPC)"
)]
struct Cli {
    /// libonnxruntime to load (else $ORT_DYLIB_PATH, else .tools/libonnxruntime.so above the executable)
    #[arg(long, global = true)]
    ort_lib: Option<PathBuf>,
    /// auto, cpu or cuda (cuda falls back to cpu with a warning when unavailable)
    #[arg(long, global = true, default_value = "auto")]
    device: DeviceRequest,
    /// ONNX Runtime intra-op threads per session
    #[arg(long, global = true, default_value_t = 1)]
    intra_threads: usize,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Load every model in DIR, warm it up, and serve gRPC on a loopback address.
    Serve {
        #[arg(long)]
        models: PathBuf,
        #[arg(long, default_value = "127.0.0.1:50151")]
        listen: SocketAddr,
        /// Prometheus metrics (GET /metrics) on this loopback address
        #[arg(long)]
        metrics: Option<SocketAddr>,
        /// TEST ONLY: wrong | slow=MS | down | noise=REL | lie=MS
        #[arg(long)]
        fault: Option<Fault>,
        /// jobs that may wait; more are refused with RESOURCE_EXHAUSTED
        #[arg(long, default_value_t = 64)]
        queue: usize,
        /// per-job limit from acceptance to result
        #[arg(long, default_value_t = 2000)]
        timeout_ms: u64,
        /// worker threads (concurrent model runs)
        #[arg(long, default_value_t = 1)]
        workers: usize,
    },
    /// Run one model once on INPUT.json and print outputs and latency as JSON.
    Infer {
        #[arg(long)]
        model: PathBuf,
        /// {NAME: {"shape": [...], "data": [...], "dtype"?: "float32"|"float64"|"int32"|"int64"}}
        #[arg(long)]
        input: PathBuf,
        /// refuse the model unless its sha256 is this
        #[arg(long)]
        sha256: Option<String>,
    },
    /// Time ITERS in-process runs of one model on INPUT.json (the `infer` path,
    /// timing the model run only); prints {"latency_ns": [...], "device": ...} for bench/sidecar.py.
    Bench {
        #[arg(long)]
        model: PathBuf,
        #[arg(long)]
        input: PathBuf,
        #[arg(long, default_value_t = 1000)]
        iters: usize,
    },
}

fn require_loopback(addr: &SocketAddr, what: &str) -> Result<()> {
    // The sidecar has no authentication: it must never listen beyond this host.
    if !addr.ip().is_loopback() {
        bail!("{what} {addr} is not a loopback address; the sidecar only listens on loopback");
    }
    Ok(())
}

fn runtime(cli: &Cli) -> Result<Runtime> {
    let lib = locate_library(cli.ort_lib.as_deref())?;
    Ok(Runtime::new(&lib, cli.device, cli.intra_threads)?)
}

fn load_inputs(model: &Model, input: &Path) -> Result<NamedTensors> {
    let text =
        std::fs::read_to_string(input).with_context(|| format!("reading {}", input.display()))?;
    let json: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", input.display()))?;
    let inputs = tensors_from_json(&json, |n| model.input_dtype(n))?;
    model.validate(&inputs, &Limits::default())?;
    Ok(inputs)
}

fn bench(cli: &Cli, model: &Path, input: &Path, iters: usize) -> Result<()> {
    let rt = runtime(cli)?;
    let model = Model::load(&rt, model, None)?;
    let inputs = load_inputs(&model, input)?;
    model.warm_up()?;
    let mut lat = Vec::with_capacity(iters);
    let mut device = "cpu";
    for _ in 0..iters {
        // The clone is outside the timed region: `latency` covers Session::run only.
        let out = model.run(inputs.clone(), None)?;
        lat.push(out.latency.as_nanos() as u64);
        device = out.device.name();
    }
    println!(
        "{}",
        serde_json::json!({"latency_ns": lat, "device": device})
    );
    Ok(())
}

fn infer(cli: &Cli, model: &Path, input: &Path, sha256: Option<&str>) -> Result<()> {
    let rt = runtime(cli)?;
    let model = Model::load(&rt, model, sha256)?;
    let inputs = load_inputs(&model, input)?;
    let out = model.run(inputs, None)?;
    let doc = serde_json::json!({
        "outputs": tensors_to_json(&out.outputs),
        "latency_us": out.latency.as_micros() as u64,
        "device": out.device.name(),
        "sha256": model.sha256,
    });
    println!("{doc}");
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn serve(
    cli: &Cli,
    models: &Path,
    listen: SocketAddr,
    metrics_addr: Option<SocketAddr>,
    fault: Fault,
    queue: usize,
    timeout_ms: u64,
    workers: usize,
) -> Result<()> {
    require_loopback(&listen, "--listen")?;
    if let Some(m) = metrics_addr {
        require_loopback(&m, "--metrics")?;
    }
    if fault != Fault::None {
        tracing::warn!(%fault, "TEST-ONLY fault mode is on: this sidecar misbehaves on purpose");
    }
    let config = JobConfig {
        queue_capacity: queue,
        workers,
        timeout: Duration::from_millis(timeout_ms),
        fault,
        ..JobConfig::default()
    };
    let metrics = Arc::new(Metrics::new(queue));
    // Bind first: a port clash fails fast, and Health answers "not ready" while models warm up.
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("binding {listen}"))?;
    let (service, slot) = SidecarService::loading();
    let grpc = tokio::spawn(verdict_sidecar::service::serve(service, listener));
    tracing::info!(%listen, "gRPC listening (not ready until models are warmed up)");

    let rt = runtime(cli)?;
    tracing::info!(library = %rt.library().display(), "ONNX Runtime loaded");
    let models = models.to_path_buf();
    let store = tokio::task::spawn_blocking(move || ModelStore::load_dir(&rt, &models)).await??;
    if store.is_empty() {
        tracing::warn!("no *.onnx models found; every job will be refused as unknown");
    }
    let queue = JobQueue::start(Arc::new(store), config, metrics.clone())?;
    if let Some(addr) = metrics_addr {
        let l = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("binding metrics {addr}"))?;
        let q = queue.clone();
        tokio::spawn(verdict_sidecar::metrics::serve(l, move || {
            q.metrics()
                .render(q.is_ready(), &q.config().fault.to_string())
        }));
        tracing::info!(%addr, "metrics listening");
    }
    let ready = queue.is_ready();
    let _ = slot.set(queue);
    tracing::info!(ready, "models loaded");
    grpc.await?.context("gRPC server")?;
    Ok(())
}

fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match &cli.cmd {
        Cmd::Infer {
            model,
            input,
            sha256,
        } => infer(&cli, model, input, sha256.as_deref()),
        Cmd::Bench {
            model,
            input,
            iters,
        } => bench(&cli, model, input, *iters),
        Cmd::Serve {
            models,
            listen,
            metrics,
            fault,
            queue,
            timeout_ms,
            workers,
        } => {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()?;
            rt.block_on(serve(
                &cli,
                models,
                *listen,
                *metrics,
                fault.unwrap_or_default(),
                *queue,
                *timeout_ms,
                *workers,
            ))
        }
    }
}
