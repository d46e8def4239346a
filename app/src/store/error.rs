//! What the store can fail with.

use std::path::PathBuf;

/// Errors of the store. Every one of them on the consensus path halts the node.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("state directory {path} is in use by another process (lock file {lock})")]
    Locked { path: PathBuf, lock: PathBuf },
    #[error("cannot open state directory {path}: {source}")]
    Open {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("state database {path} is unreadable or corrupt: {source}")]
    Corrupt {
        path: PathBuf,
        #[source]
        source: sled::Error,
    },
    #[error("state database {path} is inconsistent: {what}")]
    Inconsistent { path: PathBuf, what: String },
    #[error("storage i/o error: {0}")]
    Sled(#[from] sled::Error),
    #[error("writing a committed block to disk failed: {0}")]
    WriteFailed(String),
    #[error("merkle tree error: {0}")]
    Tree(String),
    #[error("height {requested} is not available (committed height is {committed})")]
    NoSuchHeight { requested: u64, committed: u64 },
    #[error(
        "height {requested} is pruned: this node keeps heights from {oldest} on (see --pruning)"
    )]
    Pruned { requested: u64, oldest: u64 },
    #[error("commit out of order: expected height {expected}, got {got}")]
    OutOfOrder { expected: u64, got: u64 },
    #[error("state sync restore refused: {0}")]
    Restore(String),
    #[error("the key {key:?} is reserved for the ibc sub-store root")]
    ReservedKey { key: String },
    #[error("this node keeps no tx index (index-txs = false in app.toml): ask a node that does, or CometBFT's /tx")]
    TxIndexOff,
    #[error("the ibc store holds nothing at height {height} (no IBC state yet): there is no path to prove present or absent")]
    EmptyIbcStore { height: u64 },
}
