//! `verdictd`'s node settings: `HOME/config/app.toml`, the command-line flags
//! of `verdictd start` over it, and `verdictd init`, which writes it.
//!
//! Precedence: a flag > the value in app.toml > the default. Every default is
//! written once, in the `Default` impls below; the flags are `Option`s laid
//! over the file (`flags.rs`), and the template `verdictd init` writes is
//! rendered from the defaults (`template.rs`). docs/config.md lists every key.

mod flags;
pub mod init;
mod template;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use flags::{Start, StartFlags};
pub use template::template;

/// Where `verdictd start --home H` looks for its settings: `H/config/app.toml`.
pub fn default_path(home: &Path) -> PathBuf {
    home.join("config").join("app.toml")
}

/// Every setting of `verdictd start` but the test-only `--fault`. In app.toml,
/// every key is optional (a missing key takes its default) and an unknown key
/// is an error. An empty address is "off"; relative paths are relative to the
/// node home.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct AppConfig {
    /// ABCI listen address (CometBFT's `proxy_app`).
    pub abci: String,
    /// This node's CometBFT RPC, e.g. `http://127.0.0.1:26657` ("": none).
    pub rpc: String,
    /// gRPC and REST queries served at once, together.
    pub query_concurrency: usize,
    /// The CometBFT genesis file checked before serving.
    pub genesis: PathBuf,
    /// Check the supply and staking invariants after every block.
    pub check_invariants: bool,
    /// Log filter (tracing `EnvFilter` syntax).
    pub log: String,
    /// default, nothing, everything or custom.
    pub pruning: String,
    /// custom pruning: versions kept (at least 2).
    pub pruning_keep_recent: u64,
    /// custom pruning: prune every this many blocks (at least 1).
    pub pruning_interval: u64,
    /// Blocks CometBFT keeps (Commit's retain_height); 0 keeps all.
    pub min_retain_blocks: u64,
    /// Keep this node's own tx index (GetTx, GetTxsEvent).
    pub index_txs: bool,
    /// Stop after committing this height; 0: never.
    pub halt_height: u64,
    /// Stop after the first block at or after this time (Unix s); 0: never.
    pub halt_time: i64,
    pub grpc: GrpcConfig,
    pub api: ApiConfig,
    pub metrics: MetricsConfig,
    pub state_sync: StateSyncConfig,
    pub attestation: AttestationConfig,
}

impl Default for AppConfig {
    fn default() -> Self {
        AppConfig {
            abci: "127.0.0.1:26658".into(),
            rpc: String::new(),
            query_concurrency: crate::grpc::DEFAULT_QUERY_CONCURRENCY,
            genesis: Path::new("config").join("genesis.json"),
            check_invariants: false,
            log: "info".into(),
            pruning: "default".into(),
            pruning_keep_recent: 0,
            pruning_interval: 0,
            min_retain_blocks: 0,
            index_txs: true,
            halt_height: 0,
            halt_time: 0,
            grpc: GrpcConfig::default(),
            api: ApiConfig::default(),
            metrics: MetricsConfig::default(),
            state_sync: StateSyncConfig::default(),
            attestation: AttestationConfig::default(),
        }
    }
}

/// `[grpc]`: the gRPC query server.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct GrpcConfig {
    /// Listen address, e.g. `127.0.0.1:9090` ("": off).
    pub address: String,
}

/// `[api]`: the REST (LCD) gateway.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct ApiConfig {
    /// Listen address, e.g. `127.0.0.1:1317` ("": off).
    pub address: String,
    /// Origins allowed cross-origin requests (`*`: any); none by default.
    pub cors: Vec<String>,
}

/// `[metrics]`: verdictd's Prometheus endpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct MetricsConfig {
    /// Listen address of `GET /metrics`, e.g. `127.0.0.1:26662` ("": off).
    pub address: String,
}

/// `[state-sync]`: the snapshots this node takes and serves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct StateSyncConfig {
    /// Take a snapshot every this many blocks (0: never).
    pub snapshot_interval: u64,
    /// Snapshots kept on disk (the newest); at least 1.
    pub snapshot_keep_recent: u32,
}

impl Default for StateSyncConfig {
    fn default() -> Self {
        let s = crate::snapshot::SnapshotConfig::default();
        StateSyncConfig {
            snapshot_interval: s.interval,
            snapshot_keep_recent: s.keep_recent,
        }
    }
}

/// `[attestation]`: the inference sidecar and the attestation key (or, the
/// older way, CometBFT's own key file); a sidecar and one key, or neither.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct AttestationConfig {
    /// The node's sidecar, e.g. `http://127.0.0.1:26659` ("": none).
    pub sidecar: String,
    /// The attestor's key file, config/attestation_key.json ("": none).
    pub key: PathBuf,
    /// The token the sidecar asks for (its `--token-file`; "": none).
    pub sidecar_token_file: PathBuf,
    /// CometBFT's priv_validator_key.json of this node, read for the address
    /// and a salt secret when there is no attestation key ("": none).
    pub validator_key: PathBuf,
}

/// Where the attestor's validator address and secret come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttestorKey {
    /// `config/attestation_key.json`: works with a remote signer.
    Own(PathBuf),
    /// CometBFT's `priv_validator_key.json` (no remote signer).
    Consensus(PathBuf),
}

impl AttestorKey {
    pub fn load(&self) -> anyhow::Result<crate::attestation_key::AttestationKey> {
        match self {
            AttestorKey::Own(p) => crate::attestation_key::AttestationKey::load(p),
            AttestorKey::Consensus(p) => {
                crate::attestation_key::AttestationKey::from_consensus_key(p)
            }
        }
    }
}

/// A config file that cannot be used: the file, and what is wrong with it.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid config file {path}: {reason}")]
    Parse { path: String, reason: String },
    #[error("invalid settings: {0}")]
    Invalid(String),
}

/// "" is off.
fn some(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

impl AppConfig {
    /// Parses app.toml text; `path` names the file in errors, each of which
    /// names the key at fault.
    pub fn parse(text: &str, path: &Path) -> Result<Self, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.display().to_string(),
            reason: describe(&e, text),
        })
    }

    /// Reads and parses a config file.
    pub fn read(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Makes the relative paths of the file (or the defaults) relative to `home`.
    pub fn rooted(mut self, home: &Path) -> Self {
        let root = |p: PathBuf| {
            if p.as_os_str().is_empty() || p.is_absolute() {
                p
            } else {
                home.join(p)
            }
        };
        self.genesis = root(self.genesis);
        self.attestation.validator_key = root(self.attestation.validator_key);
        self.attestation.key = root(self.attestation.key);
        self.attestation.sidecar_token_file = root(self.attestation.sidecar_token_file);
        self
    }

    /// Checks what can be checked before anything starts.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.store_pruning()?;
        if self.state_sync.snapshot_keep_recent == 0 {
            return Err(ConfigError::Invalid(
                "state-sync.snapshot-keep-recent must be at least 1".into(),
            ));
        }
        let own = !self.attestation.key.as_os_str().is_empty();
        let consensus = !self.attestation.validator_key.as_os_str().is_empty();
        if own && consensus {
            return Err(ConfigError::Invalid(
                "give the attestor one key: attestation.key (--attestation-key) or the older \
                 attestation.validator-key (--validator-key), not both"
                    .into(),
            ));
        }
        if self.attestation.sidecar.is_empty() == (own || consensus) {
            return Err(ConfigError::Invalid(
                "attestation needs both a sidecar (--sidecar, attestation.sidecar) and a \
                 key (--attestation-key, attestation.key), or neither"
                    .into(),
            ));
        }
        if !self.attestation.sidecar_token_file.as_os_str().is_empty()
            && self.attestation.sidecar.is_empty()
        {
            return Err(ConfigError::Invalid(
                "attestation.sidecar-token-file is set without a sidecar".into(),
            ));
        }
        if self.genesis.as_os_str().is_empty() {
            return Err(ConfigError::Invalid("genesis must name a file".into()));
        }
        Ok(())
    }

    /// The store's pruning, from `pruning`, `pruning-keep-recent` and
    /// `pruning-interval`.
    pub fn store_pruning(&self) -> Result<crate::store::Pruning, ConfigError> {
        crate::store::Pruning::named(
            &self.pruning,
            self.pruning_keep_recent,
            self.pruning_interval,
        )
        .map_err(|e| ConfigError::Invalid(format!("pruning: {e}")))
    }

    pub fn snapshots(&self) -> crate::snapshot::SnapshotConfig {
        crate::snapshot::SnapshotConfig {
            interval: self.state_sync.snapshot_interval,
            keep_recent: self.state_sync.snapshot_keep_recent,
        }
    }

    pub fn rpc(&self) -> Option<String> {
        some(&self.rpc)
    }

    pub fn grpc(&self) -> Option<String> {
        some(&self.grpc.address)
    }

    pub fn api(&self) -> Option<String> {
        some(&self.api.address)
    }

    pub fn metrics(&self) -> Option<String> {
        some(&self.metrics.address)
    }

    /// The sidecar token file, when set.
    pub fn sidecar_token_file(&self) -> Option<PathBuf> {
        let p = &self.attestation.sidecar_token_file;
        (!p.as_os_str().is_empty()).then(|| p.clone())
    }

    /// The sidecar and the attestor's key, when attesting.
    pub fn attestation(&self) -> Option<(String, AttestorKey)> {
        let a = &self.attestation;
        let key = if !a.key.as_os_str().is_empty() {
            AttestorKey::Own(a.key.clone())
        } else if !a.validator_key.as_os_str().is_empty() {
            AttestorKey::Consensus(a.validator_key.clone())
        } else {
            return None;
        };
        some(&a.sidecar).map(|url| (url, key))
    }
}

/// A TOML or schema error as one line: where, which key, what.
fn describe(e: &toml::de::Error, text: &str) -> String {
    let msg = e.message().trim().replace('\n', "; ");
    let hint = if msg.contains("`minimum-gas-prices`") {
        " (the minimum gas price is a chain parameter, genesis \
         app_state.app.params.min_gas_price, not a node setting)"
    } else {
        ""
    };
    let Some(span) = e.span() else {
        return format!("{msg}{hint}");
    };
    let before = text.get(..span.start).unwrap_or("");
    let line_no = before.matches('\n').count().saturating_add(1);
    let line_start = before.rfind('\n').map_or(0, |i| i.saturating_add(1));
    let line = text
        .get(line_start..)
        .and_then(|t| t.lines().next())
        .unwrap_or("");
    let section = before
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('[') && l.ends_with(']'))
        .map(|l| l.trim_matches(|c| c == '[' || c == ']').trim().to_string());
    let key = line
        .split_once('=')
        .map(|(k, _)| k.trim().trim_matches('"').to_string())
        .filter(|k| !k.is_empty() && !k.starts_with('['));
    match (key, section) {
        (Some(k), Some(s)) => format!("line {line_no}, key `{s}.{k}`: {msg}{hint}"),
        (Some(k), None) => format!("line {line_no}, key `{k}`: {msg}{hint}"),
        (None, _) => format!("line {line_no}: {msg}{hint}"),
    }
}
