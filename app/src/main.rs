//! `verdictd`: the Verdict ABCI application server.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use verdict_app::{genesis::AppGenesis, store::Store, VerdictApp};

#[derive(Parser)]
#[command(
    name = "verdictd",
    version,
    about = "Verdict ABCI application (CometBFT v0.38, ABCI 2.0)"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Serve ABCI to a CometBFT node.
    Start {
        /// Node home; state lives in HOME/verdict.
        #[arg(long)]
        home: PathBuf,
        /// ABCI listen address (CometBFT's `proxy_app`).
        #[arg(long, default_value = "127.0.0.1:26658")]
        abci: String,
        /// gRPC query server address (off when not given).
        #[arg(long)]
        grpc: Option<String>,
        /// REST (LCD) gateway address, e.g. 127.0.0.1:1317 (off when not given).
        #[arg(long)]
        api: Option<String>,
        /// Origins the REST gateway allows cross-origin requests from
        /// (repeatable; `*` for any). None by default.
        #[arg(long = "api-cors", value_name = "ORIGIN")]
        api_cors: Vec<String>,
        /// This node's CometBFT RPC (e.g. http://127.0.0.1:26657): the gRPC and
        /// REST methods answered by the node (broadcast, tx search, blocks,
        /// validator sets, syncing) ask it.
        #[arg(long)]
        rpc: Option<String>,
        /// gRPC and REST queries run at once, together; more are refused
        /// (`Unavailable`, HTTP 503) until one ends.
        #[arg(long, default_value_t = verdict_app::grpc::DEFAULT_QUERY_CONCURRENCY)]
        query_concurrency: usize,
        /// Which state versions to keep: default (the last 362 880), nothing
        /// (all), everything (the last 2) or custom (see the next two).
        #[arg(long, default_value = "default")]
        pruning: String,
        /// custom pruning: versions kept (at least 2).
        #[arg(long, default_value_t = 0)]
        pruning_keep_recent: u64,
        /// custom pruning: prune every this many blocks.
        #[arg(long, default_value_t = 0)]
        pruning_interval: u64,
        /// Blocks CometBFT keeps (returned as Commit's retain_height); 0 keeps all.
        #[arg(long, default_value_t = 0)]
        min_retain_blocks: u64,
        /// Stop cleanly after committing this height (an upgrade: export, new
        /// binary or genesis, restart). 0: never.
        #[arg(long, default_value_t = 0)]
        halt_height: u64,
        /// Stop cleanly after the first block at or after this block time (Unix
        /// seconds). 0: never.
        #[arg(long, default_value_t = 0)]
        halt_time: i64,
        /// Prometheus metrics address, e.g. 127.0.0.1:26662 (`GET /metrics`; off when not given).
        #[arg(long)]
        metrics: Option<String>,
        /// CometBFT genesis file to check before serving (default HOME/config/genesis.json).
        #[arg(long)]
        genesis: Option<PathBuf>,
        /// Check the supply and staking invariants after every block; halt if broken.
        #[arg(long)]
        check_invariants: bool,
        /// This node's inference sidecar (e.g. http://127.0.0.1:26659); with
        /// --validator-key, the node attests the jobs its validator is drawn for.
        #[arg(long, requires = "validator_key")]
        sidecar: Option<String>,
        /// CometBFT's priv_validator_key.json of this node: its validator address,
        /// and the secret its commit-reveal salts derive from.
        #[arg(long, requires = "sidecar")]
        validator_key: Option<PathBuf>,
        /// Log filter (tracing `EnvFilter` syntax).
        #[arg(long, default_value = "info")]
        log: String,
        /// TEST ONLY: make this validator's attestor misbehave on purpose:
        /// `copy` (never runs a job; tries to commit an answer it copies from
        /// the chain once one is public) or `withhold` (commits, never reveals).
        #[arg(long, requires = "sidecar")]
        fault: Option<verdict_app::attestor::AttestorFault>,
    },
}

fn main() {
    let cli = Cli::parse();
    if let Err(e) = run(cli) {
        eprintln!("verdictd: error: {e:#}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.cmd {
        Cmd::Start {
            home,
            abci,
            grpc,
            api,
            api_cors,
            rpc,
            query_concurrency,
            metrics,
            halt_height,
            halt_time,
            pruning,
            pruning_keep_recent,
            pruning_interval,
            min_retain_blocks,
            genesis,
            check_invariants,
            sidecar,
            validator_key,
            log,
            fault,
        } => {
            tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::try_new(&log)?)
                .with_writer(std::io::stderr)
                .with_ansi(std::io::stderr().is_terminal())
                .init();
            // Refuse a bad genesis before CometBFT connects: a clear line now beats a
            // halt inside InitChain later.
            let genesis = genesis.unwrap_or_else(|| home.join("config").join("genesis.json"));
            if genesis.exists() {
                AppGenesis::from_genesis_file(&genesis)?;
            } else {
                anyhow::bail!("genesis file {} does not exist", genesis.display());
            }
            let pruning =
                verdict_app::store::Pruning::named(&pruning, pruning_keep_recent, pruning_interval)
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
            let store = Store::open(&home.join("verdict"))?.with_pruning(pruning);
            let height = store.height()?;
            let mut app = VerdictApp::new(store)
                .with_invariant_checks(check_invariants)
                .with_halt(verdict_app::app::Halt {
                    height: halt_height,
                    time_seconds: halt_time,
                })
                .with_min_retain_blocks(min_retain_blocks);
            if let (Some(url), Some(key)) = (sidecar, validator_key) {
                let a = verdict_app::attestor::Attestor::start(&key, url)?
                    .with_fault(fault.unwrap_or_default());
                app = app.with_attestor(a);
            }
            let backend = verdict_app::grpc::Backend::new(app.clone(), rpc.as_deref())
                .with_concurrency(query_concurrency);
            serve_clients(backend, grpc, api, api_cors, metrics)?;
            let server = tendermint_abci::ServerBuilder::default()
                .bind(&abci, app)
                .map_err(|e| anyhow::anyhow!("cannot listen for ABCI on {abci}: {e}"))?;
            tracing::info!(%abci, height, home = %home.display(), "verdictd serving ABCI");
            server
                .listen()
                .map_err(|e| anyhow::anyhow!("ABCI server on {abci} stopped: {e}"))?;
            Ok(())
        }
    }
}

/// Binds a listener now, so that a busy port is a clear startup error.
fn bind(what: &str, addr: &str) -> anyhow::Result<std::net::TcpListener> {
    let l = std::net::TcpListener::bind(addr)
        .map_err(|e| anyhow::anyhow!("cannot listen for {what} on {addr}: {e}"))?;
    l.set_nonblocking(true)?;
    Ok(l)
}

/// The gRPC server, the REST gateway and the metrics endpoint, on one runtime
/// in their own thread.
fn serve_clients(
    backend: verdict_app::grpc::Backend,
    grpc: Option<String>,
    api: Option<String>,
    cors: Vec<String>,
    metrics: Option<String>,
) -> anyhow::Result<()> {
    let grpc = grpc.map(|a| bind("gRPC", &a).map(|l| (a, l))).transpose()?;
    let api = api.map(|a| bind("REST", &a).map(|l| (a, l))).transpose()?;
    let metrics = metrics
        .map(|a| bind("metrics", &a).map(|l| (a, l)))
        .transpose()?;
    if grpc.is_none() && api.is_none() && metrics.is_none() {
        return Ok(());
    }
    std::thread::Builder::new()
        .name("clients".into())
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    tracing::error!(error = %e, "gRPC/REST runtime failed to start");
                    return;
                }
            };
            rt.block_on(async move {
                let mut tasks = Vec::new();
                if let Some((addr, l)) = grpc {
                    let b = backend.clone();
                    tasks.push(tokio::spawn(async move {
                        match tokio::net::TcpListener::from_std(l) {
                            Ok(l) => {
                                tracing::info!(%addr, "gRPC server listening");
                                if let Err(e) = verdict_app::grpc::run(b, l).await {
                                    tracing::error!(error = %e, "gRPC server stopped");
                                }
                            }
                            Err(e) => tracing::error!(error = %e, "gRPC listener"),
                        }
                    }));
                }
                if let Some((addr, l)) = api {
                    let cors = verdict_app::rest::Cors { origins: cors };
                    tasks.push(tokio::spawn(async move {
                        match tokio::net::TcpListener::from_std(l) {
                            Ok(l) => {
                                tracing::info!(%addr, "REST gateway listening");
                                if let Err(e) = verdict_app::rest::run(backend, cors, l).await {
                                    tracing::error!(error = %e, "REST gateway stopped");
                                }
                            }
                            Err(e) => tracing::error!(error = %e, "REST listener"),
                        }
                    }));
                }
                if let Some((addr, l)) = metrics {
                    tasks.push(tokio::spawn(async move {
                        match tokio::net::TcpListener::from_std(l) {
                            Ok(l) => {
                                tracing::info!(%addr, "metrics listening");
                                if let Err(e) = verdict_app::metrics::serve(l).await {
                                    tracing::error!(error = %e, "metrics server stopped");
                                }
                            }
                            Err(e) => tracing::error!(error = %e, "metrics listener"),
                        }
                    }));
                }
                for t in tasks {
                    let _ = t.await;
                }
            });
        })?;
    Ok(())
}
