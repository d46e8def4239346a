//! The flags of `verdictd start`: each one is an `Option` laid over app.toml,
//! so that the defaults live only in `AppConfig::default()`.

use std::path::PathBuf;

use super::{default_path, AppConfig, ConfigError};
use crate::attestor::AttestorFault;

/// `verdictd start`. Every flag but `--home`, `--config` and `--fault` has a
/// key in app.toml (in brackets); a flag given overrides the file, and a key
/// in neither takes its default (`verdictd init` writes them all, commented,
/// to HOME/config/app.toml; docs/config.md). An empty address turns a server
/// off, e.g. `--grpc ""`.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct StartFlags {
    /// Node home; state lives in HOME/verdict, settings in HOME/config/app.toml.
    #[arg(long)]
    pub home: PathBuf,
    /// Settings file instead of HOME/config/app.toml (which is optional; this
    /// one must exist). Relative paths in it are relative to HOME.
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// ABCI listen address: CometBFT's `proxy_app` [abci].
    #[arg(long)]
    pub abci: Option<String>,
    /// gRPC query server address, e.g. 127.0.0.1:9090 [grpc.address; off by default].
    #[arg(long)]
    pub grpc: Option<String>,
    /// REST (LCD) gateway address, e.g. 127.0.0.1:1317 [api.address; off by default].
    #[arg(long)]
    pub api: Option<String>,
    /// Origins the REST gateway allows cross-origin requests from (repeatable;
    /// `*` for any) [api.cors; none by default].
    #[arg(long = "api-cors", value_name = "ORIGIN")]
    pub api_cors: Vec<String>,
    /// This node's CometBFT RPC (e.g. http://127.0.0.1:26657): the gRPC and
    /// REST methods answered by the node (broadcast, tx search, blocks,
    /// validator sets, syncing) ask it [rpc].
    #[arg(long)]
    pub rpc: Option<String>,
    /// gRPC and REST queries run at once, together; more are refused
    /// (`Unavailable`, HTTP 503) until one ends [query-concurrency].
    #[arg(long)]
    pub query_concurrency: Option<usize>,
    /// Which state versions to keep: default (the last 362 880), nothing
    /// (all), everything (the last 2) or custom (see the next two) [pruning].
    #[arg(long)]
    pub pruning: Option<String>,
    /// custom pruning: versions kept, at least 2 [pruning-keep-recent].
    #[arg(long)]
    pub pruning_keep_recent: Option<u64>,
    /// custom pruning: prune every this many blocks [pruning-interval].
    #[arg(long)]
    pub pruning_interval: Option<u64>,
    /// Blocks CometBFT keeps (returned as Commit's retain_height); 0 keeps all
    /// [min-retain-blocks].
    #[arg(long)]
    pub min_retain_blocks: Option<u64>,
    /// Stop cleanly after committing this height (an upgrade: export, new
    /// binary or genesis, restart). 0: never [halt-height].
    #[arg(long)]
    pub halt_height: Option<u64>,
    /// Stop cleanly after the first block at or after this block time (Unix
    /// seconds). 0: never [halt-time].
    #[arg(long)]
    pub halt_time: Option<i64>,
    /// Take a state-sync snapshot every this many blocks; 0: never
    /// [state-sync.snapshot-interval].
    #[arg(long)]
    pub snapshot_interval: Option<u64>,
    /// Snapshots kept on disk, the newest; at least 1
    /// [state-sync.snapshot-keep-recent].
    #[arg(long)]
    pub snapshot_keep_recent: Option<u32>,
    /// Prometheus metrics address, e.g. 127.0.0.1:26662 (`GET /metrics`)
    /// [metrics.address; off by default].
    #[arg(long)]
    pub metrics: Option<String>,
    /// CometBFT genesis file to check before serving [genesis;
    /// HOME/config/genesis.json by default].
    #[arg(long)]
    pub genesis: Option<PathBuf>,
    /// Check the supply and staking invariants after every block; halt if
    /// broken (`--check-invariants=false` turns off the file's true)
    /// [check-invariants].
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub check_invariants: Option<bool>,
    /// Keep this node's own tx index, which GetTx and GetTxsEvent read
    /// (`--index-txs=false`: none, saving its writes; a validator that serves
    /// no queries needs none) [index-txs].
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub index_txs: Option<bool>,
    /// This node's inference sidecar (e.g. http://127.0.0.1:26659 or unix:PATH); with
    /// --attestation-key, the node attests the jobs its validator is drawn for
    /// [attestation.sidecar].
    #[arg(long)]
    pub sidecar: Option<String>,
    /// The attestor's key file (config/attestation_key.json, written by
    /// `verdictd init`): the validator it attests for and the secret its
    /// commit-reveal salts derive from. Works with a remote signer
    /// [attestation.key].
    #[arg(long)]
    pub attestation_key: Option<PathBuf>,
    /// The file holding the token the sidecar asks for (the sidecar's
    /// --token-file) [attestation.sidecar-token-file].
    #[arg(long)]
    pub sidecar_token_file: Option<PathBuf>,
    /// The older way: CometBFT's priv_validator_key.json of this node, for
    /// the address and a salt secret (rules out a remote signer)
    /// [attestation.validator-key].
    #[arg(long)]
    pub validator_key: Option<PathBuf>,
    /// Log filter (tracing `EnvFilter` syntax) [log].
    #[arg(long)]
    pub log: Option<String>,
    /// TEST ONLY (flag only): make this validator's attestor misbehave on
    /// purpose: `copy` (never runs a job; tries to commit an answer it copies
    /// from the chain once one is public) or `withhold` (commits, never reveals).
    #[arg(long)]
    pub fault: Option<AttestorFault>,
}

/// What `verdictd start` runs with: the merged, checked settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Start {
    pub home: PathBuf,
    /// The settings file read, if any.
    pub file: Option<PathBuf>,
    pub config: AppConfig,
    pub fault: AttestorFault,
}

fn set<T>(slot: &mut T, flag: Option<T>) {
    if let Some(v) = flag {
        *slot = v;
    }
}

impl StartFlags {
    /// The file's settings (or the defaults, when there is no HOME/config/app.toml
    /// and no `--config`), these flags over them, checked.
    pub fn resolve(self) -> Result<Start, ConfigError> {
        let (file, base) = match &self.config {
            Some(path) => (Some(path.clone()), AppConfig::read(path)?),
            None => {
                let path = default_path(&self.home);
                if path.exists() {
                    (Some(path.clone()), AppConfig::read(&path)?)
                } else {
                    (None, AppConfig::default())
                }
            }
        };
        let home = self.home.clone();
        let fault = self.fault.unwrap_or_default();
        let config = self.over(base.rooted(&home));
        let checked = config.validate().and_then(|()| {
            if fault != AttestorFault::None && config.attestation().is_none() {
                return Err(ConfigError::Invalid(
                    "--fault needs a sidecar and a validator key".into(),
                ));
            }
            Ok(())
        });
        // Say where the settings came from.
        if let (Err(ConfigError::Invalid(reason)), Some(f)) = (&checked, &file) {
            return Err(ConfigError::Invalid(format!(
                "{reason} (settings from {} and the flags)",
                f.display()
            )));
        }
        checked?;
        Ok(Start {
            home,
            file,
            config,
            fault,
        })
    }

    /// These flags over `c`.
    pub fn over(self, mut c: AppConfig) -> AppConfig {
        let f = self;
        set(&mut c.abci, f.abci);
        set(&mut c.rpc, f.rpc);
        set(&mut c.query_concurrency, f.query_concurrency);
        set(&mut c.genesis, f.genesis);
        set(&mut c.check_invariants, f.check_invariants);
        set(&mut c.log, f.log);
        set(&mut c.pruning, f.pruning);
        set(&mut c.pruning_keep_recent, f.pruning_keep_recent);
        set(&mut c.pruning_interval, f.pruning_interval);
        set(&mut c.min_retain_blocks, f.min_retain_blocks);
        set(&mut c.index_txs, f.index_txs);
        set(&mut c.halt_height, f.halt_height);
        set(&mut c.halt_time, f.halt_time);
        set(&mut c.grpc.address, f.grpc);
        set(&mut c.api.address, f.api);
        if !f.api_cors.is_empty() {
            c.api.cors = f.api_cors;
        }
        set(&mut c.metrics.address, f.metrics);
        set(&mut c.state_sync.snapshot_interval, f.snapshot_interval);
        set(
            &mut c.state_sync.snapshot_keep_recent,
            f.snapshot_keep_recent,
        );
        set(&mut c.attestation.sidecar, f.sidecar);
        set(&mut c.attestation.validator_key, f.validator_key);
        set(&mut c.attestation.key, f.attestation_key);
        set(&mut c.attestation.sidecar_token_file, f.sidecar_token_file);
        c
    }
}
