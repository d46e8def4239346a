//! `verdict-sidecar`: `serve` runs the loopback gRPC service (and metrics);
//! `infer` runs one model once and prints JSON. See the crate docs of
//! `verdict_sidecar` for what each part owns.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use verdict_sidecar::fetch::FetchLimits;
use verdict_sidecar::jobs::{Fault, JobConfig, JobQueue};
use verdict_sidecar::listen::Listen;
use verdict_sidecar::loader::{Loader, LoaderConfig};
use verdict_sidecar::metrics::Metrics;
use verdict_sidecar::model::{Limits, Model, ModelStore};
use verdict_sidecar::policy::ServePolicy;
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
    /// libonnxruntime to load (else $ORT_DYLIB_PATH, else the .tools/libonnxruntime.so of the checkout this binary was built in)
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
    /// Load every model in DIR the --serve policy allows, warm it up, and serve gRPC
    /// on a loopback address; LoadModel fetches and hot-loads more.
    Serve(ServeArgs),
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

#[derive(Args)]
struct ServeArgs {
    /// models directory; LoadModel caches verified downloads in DIR/cache
    #[arg(long)]
    models: PathBuf,
    /// gRPC on a loopback host:port, or on a Unix socket `unix:PATH` (mode 0600,
    /// only this user's processes are served)
    #[arg(long, default_value = "127.0.0.1:50151")]
    listen: Listen,
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
    /// which models to load (models dir and LoadModel): all, none, or FILE with one
    /// sha256 per line (`#` comments; a SHA256SUMS file works as it is)
    #[arg(long = "serve", default_value = "all", value_name = "all|none|FILE")]
    serve: String,
    /// largest model file LoadModel fetches, in MiB
    #[arg(long, default_value_t = 1024)]
    fetch_max_mib: u64,
    /// limit for one fetch (one URI, redirects included), in seconds
    #[arg(long, default_value_t = 600)]
    fetch_timeout_s: u64,
    /// limit for one connection attempt (DNS included), in seconds
    #[arg(long, default_value_t = 10)]
    fetch_connect_timeout_s: u64,
    /// refuse to fetch from loopback, private and link-local addresses
    #[arg(long)]
    fetch_public_only: bool,
    /// load attempts per LoadModel for passing failures (back-off 1 s doubling to 60 s); 0: for ever
    #[arg(long, default_value_t = 0)]
    load_attempts: u32,
    /// answer only calls carrying this file's token (`authorization: Bearer …`,
    /// first line, at least 16 printable characters); verdictd reads the same
    /// file ([attestation] sidecar-token-file). Without it any local process may call.
    #[arg(long)]
    token_file: Option<PathBuf>,
}

impl ServeArgs {
    fn loader_config(&self, policy: ServePolicy) -> LoaderConfig {
        let mut c = LoaderConfig::new(&self.models);
        c.policy = policy;
        c.fetch = FetchLimits {
            max_bytes: self.fetch_max_mib.saturating_mul(1 << 20),
            timeout: Duration::from_secs(self.fetch_timeout_s),
            connect_timeout: Duration::from_secs(self.fetch_connect_timeout_s),
            public_only: self.fetch_public_only,
            ..FetchLimits::default()
        };
        c.retry.max_attempts = self.load_attempts;
        c
    }
}

fn require_loopback(addr: &SocketAddr, what: &str) -> Result<()> {
    // A token is not transport security: the sidecar never listens beyond this host.
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

async fn serve(cli: &Cli, a: &ServeArgs) -> Result<()> {
    if let Some(m) = a.metrics {
        require_loopback(&m, "--metrics")?;
    }
    let token = match &a.token_file {
        Some(p) => Some(verdict_sidecar::auth::Token::from_file(p).map_err(anyhow::Error::msg)?),
        None => {
            tracing::warn!("no --token-file: any local process may call this sidecar");
            None
        }
    };
    let fault = a.fault.unwrap_or_default();
    if fault != Fault::None {
        tracing::warn!(%fault, "TEST-ONLY fault mode is on: this sidecar misbehaves on purpose");
    }
    let policy = ServePolicy::parse(&a.serve)?;
    tracing::info!(%policy, "serve policy");
    let config = JobConfig {
        queue_capacity: a.queue,
        workers: a.workers,
        timeout: Duration::from_millis(a.timeout_ms),
        fault,
        ..JobConfig::default()
    };
    let metrics = Arc::new(Metrics::new(a.queue));
    // Bind first: a port clash fails fast, and Health answers "not ready" while models warm up.
    let bound = verdict_sidecar::listen::bind(&a.listen)
        .await
        .with_context(|| format!("binding {}", a.listen))?;
    let (service, slot) = SidecarService::loading();
    let loader_slot = service.loader_slot();
    let grpc = tokio::spawn(verdict_sidecar::service::serve_bound(service, bound, token));
    tracing::info!(listen = %a.listen, "gRPC listening (not ready until models are warmed up)");

    let rt = Arc::new(runtime(cli)?);
    tracing::info!(library = %rt.library().display(), "ONNX Runtime loaded");
    let (models, rt2, pol) = (a.models.clone(), rt.clone(), policy.clone());
    let (store, refused) = tokio::task::spawn_blocking(move || {
        ModelStore::load_dir_filtered(&rt2, &models, &|h| pol.allows(h))
    })
    .await??;
    if store.is_empty() {
        tracing::warn!("no *.onnx models loaded from the models dir; jobs wait for LoadModel");
    }
    let store = Arc::new(store);
    let loader = Loader::new(rt, store.clone(), metrics.clone(), a.loader_config(policy))?;
    loader.mark_refused(&refused);
    let queue = JobQueue::start(store, config, metrics.clone())?;
    if let Some(addr) = a.metrics {
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
    let _ = loader_slot.set(loader);
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
        Cmd::Serve(args) => {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()?;
            rt.block_on(serve(&cli, args))
        }
    }
}
