//! `verdictd`: the Verdict ABCI application server.

use clap::{Parser, Subcommand};
use std::io::IsTerminal;
use verdict_app::{config::Start, genesis::AppGenesis, store::Store, VerdictApp};

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
    /// Create a node home: CometBFT's files (by `cometbft init`), the chain id
    /// and moniker, and a commented config/app.toml with every `start` setting.
    Init(verdict_app::config::init::InitArgs),
    /// Serve ABCI to a CometBFT node, with the settings of HOME/config/app.toml
    /// (when it exists) under the flags given.
    Start(Box<verdict_app::config::StartFlags>),
    /// Write the state at a height as the genesis of a new chain that starts at
    /// the next height (an upgrade: halt, export, new genesis, restart; the
    /// node must be stopped).
    Export(ExportArgs),
}

#[derive(clap::Args)]
struct ExportArgs {
    /// Node home (state in HOME/verdict, the old genesis in HOME/config/genesis.json).
    #[arg(long)]
    home: std::path::PathBuf,
    /// The height to export (default: the last committed; must not be pruned).
    #[arg(long)]
    height: Option<u64>,
    /// The new chain's id (default: the old one).
    #[arg(long)]
    chain_id: Option<String>,
    /// The new genesis time, RFC 3339 (default: the exported block's time).
    #[arg(long)]
    genesis_time: Option<String>,
    /// Where to write the genesis (default: standard output).
    #[arg(long)]
    out: Option<std::path::PathBuf>,
}

fn export(a: ExportArgs) -> anyhow::Result<()> {
    use anyhow::Context;
    let old_path = a.home.join("config").join("genesis.json");
    let old: serde_json::Value = serde_json::from_slice(
        &std::fs::read(&old_path).with_context(|| format!("cannot read {}", old_path.display()))?,
    )
    .with_context(|| format!("{} is not JSON", old_path.display()))?;
    let store = Store::open(&a.home.join("verdict"))?;
    let state = verdict_app::export::ExportedState::of(&store, a.height)?;
    let (height, items) = (state.height, state.items.len());
    let doc = verdict_app::export::genesis_doc(&old, state, a.chain_id, a.genesis_time)?;
    let text = serde_json::to_string_pretty(&doc)?;
    AppGenesis::from_app_state_bytes(doc["app_state"].to_string().as_bytes(), "exported genesis")?;
    match a.out {
        Some(p) => {
            std::fs::write(&p, text).with_context(|| format!("cannot write {}", p.display()))?;
            eprintln!(
                "exported height {height} ({items} keys) to {}: a chain starting at height {}",
                p.display(),
                height.saturating_add(1)
            );
        }
        None => println!("{text}"),
    }
    Ok(())
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
        Cmd::Init(args) => {
            let w = verdict_app::config::init::run(&args)?;
            println!(
                "initialized {} (chain id {}, moniker {}): CometBFT's files by {}, genesis {}, settings {}, attestation key {}",
                args.home.display(),
                args.chain_id,
                args.moniker,
                w.cometbft.display(),
                w.genesis.display(),
                w.app_toml.display(),
                w.attestation_key.display()
            );
            Ok(())
        }
        Cmd::Start(flags) => start(flags.resolve()?),
        Cmd::Export(a) => export(a),
    }
}

/// `verdictd start` with its merged settings.
fn start(s: Start) -> anyhow::Result<()> {
    let Start {
        home,
        file,
        config: c,
        fault,
    } = s;
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_new(&c.log)?)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    // Refuse a bad genesis before CometBFT connects: a clear line now beats a
    // halt inside InitChain later.
    if c.genesis.exists() {
        AppGenesis::from_genesis_file(&c.genesis)?;
    } else {
        anyhow::bail!("genesis file {} does not exist", c.genesis.display());
    }
    let store = Store::open(&home.join("verdict"))?
        .with_pruning(c.store_pruning()?)
        .with_tx_index(c.index_txs);
    let height = store.height()?;
    let mut app = VerdictApp::new(store)
        .with_invariant_checks(c.check_invariants)
        .with_halt(verdict_app::app::Halt {
            height: c.halt_height,
            time_seconds: c.halt_time,
        })
        .with_min_retain_blocks(c.min_retain_blocks);
    app = app.with_snapshots(home.join("verdict").join("snapshots"), c.snapshots());
    if let Some((url, key)) = c.attestation() {
        let token = c
            .sidecar_token_file()
            .map(|p| verdict_sidecar::auth::Token::from_file(&p).map_err(anyhow::Error::msg))
            .transpose()?;
        let sidecar = verdict_app::attestor::Sidecar { url, token };
        let a = verdict_app::attestor::Attestor::start(key.load()?, sidecar)?.with_fault(fault);
        app = app.with_attestor(a);
    }
    let backend = verdict_app::grpc::Backend::new(app.clone(), c.rpc().as_deref())
        .with_concurrency(c.query_concurrency);
    serve_clients(backend, c.grpc(), c.api(), c.api.cors.clone(), c.metrics())?;
    let abci = c.abci;
    let listener = std::net::TcpListener::bind(&abci)
        .map_err(|e| anyhow::anyhow!("cannot listen for ABCI on {abci}: {e}"))?;
    let settings = file.map_or_else(|| "flags and defaults".into(), |f| f.display().to_string());
    tracing::info!(%abci, height, home = %home.display(), %settings, "verdictd serving ABCI");
    verdict_app::abci_server::serve(listener, app)
        .map_err(|e| anyhow::anyhow!("ABCI server on {abci} stopped: {e}"))?;
    Ok(())
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
