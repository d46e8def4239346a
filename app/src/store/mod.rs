//! Authenticated, versioned state on disk.
//!
//! One sled tree holds everything, split by one-byte-tagged prefixes, so that a whole
//! block is written by a single atomic `apply_batch`:
//!
//! | prefix | key                          | value                              |
//! |--------|------------------------------|------------------------------------|
//! | `n`    | borsh(NodeKey)               | borsh(Node) — app-tree JMT nodes   |
//! | `v`    | key_hash ‖ version (BE u64)  | `0` deleted, `1` ‖ value — history |
//! | `N`    | borsh(NodeKey)               | borsh(Node) — `ibc` sub-store JMT  |
//! | `V`    | key_hash ‖ version (BE u64)  | as `v`, for the `ibc` sub-store    |
//! | `p`    | key_hash                     | key — preimages for ICS-23 proofs  |
//! | `l`    | key                          | value — latest value, ordered      |
//! | `m`    | meta name                    | committed height, app hashes       |
//! | `b` `B` (`s` `S` `x` `X` `t` `T` before) | see [`prune`] | what each commit made stale |
//!
//! Two Merkle trees, both versioned by height: the `ibc` sub-store holds the IBC
//! paths (flat keys `ibc/<path>`, stored in the sub-store as `<path>`), and the
//! app tree holds every other key plus the key `ibc`, whose value is the root of
//! the `ibc` sub-store at the same height. The app hash of height `h` is the root
//! of the app tree at version `h`, so a proof of an app key is one ICS-23 proof
//! (unchanged), and a proof of an IBC path is two: path → sub-store root →
//! app hash, the `["ibc", path]` Merkle path IBC verifies (see `verdict_ibc`).
//!
//! Modules never touch this type directly: they see a block's [`Overlay`]
//! through [`StateView`], which implements `cosmwasm_std::Storage` so typed
//! access is cw-storage-plus.
//!
//! # Invariants
//! - Nothing is written to the state tree but the blocks [`Store::commit`]
//!   takes (and pruning, after each), one atomic batch per block, in height
//!   order (the tx index, not consensus, has trees of its own).
//! - Both trees get version `h` at every committed height (an empty change set
//!   copies the previous root), and the app tree's `ibc` value at `h` is the
//!   `ibc` sub-store root at `h`; no module may write the bare key `ibc`.
//! - After `commit(h)` returns, `height() == h` and every key reads at `h` as the
//!   block left it, whether or not the writer thread has put it on disk yet
//!   ([`flight`]); a crash at any instant leaves either version `h-1` or `h`
//!   whole on disk.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use jmt::storage::TreeUpdateBatch;
use jmt::{KeyHash, RootHash, Sha256Jmt};
use sha2::Sha256;

mod cache;
mod error;
mod flight;
mod ibc;
mod layout;
mod prune;
mod snapshot;
mod txindex;
mod txqueue;
mod write;

pub use error::StoreError;
use layout::*;
pub use prune::Pruning;
pub use snapshot::state_root;
pub use txindex::{decode_tx, tx_hash, IndexedTx};
pub use verdict_core::storage::{Layered as StateView, Overlay};

/// The root hash a key set would have: what the store computes for a block before
/// it is committed.
pub type AppHash = [u8; 32];

/// A block's computed but not yet persisted result: produced by
/// [`Store::prepare_commit`] during FinalizeBlock, written by [`Store::commit`].
pub struct PendingCommit {
    pub height: u64,
    pub app_hash: AppHash,
    /// Root of the `ibc` sub-store at `height`.
    pub ibc_root: AppHash,
    changes: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    /// Every written key (as its tree knows it, and `ibc`) by its hash.
    preimages: Preimages,
    tree_batch: TreeUpdateBatch,
    ibc_batch: TreeUpdateBatch,
}

impl std::fmt::Debug for PendingCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingCommit")
            .field("height", &self.height)
            .field("app_hash", &hex::encode(self.app_hash))
            .field("ibc_root", &hex::encode(self.ibc_root))
            .field("changes", &self.changes.len())
            .finish()
    }
}

/// The on-disk store.
pub struct Store {
    path: PathBuf,
    tree: sled::Tree,
    txs: txqueue::TxQueue,
    /// Puts committed blocks on disk; holds the one in flight. Declared
    /// before the lock: dropping it writes the block in flight, and only
    /// then may another store open the directory.
    writer: flight::Writer,
    db: sled::Db,
    // Held for the life of the store: a second process on the same directory gets
    // a clear error instead of sled's opaque one.
    _lock: File,
    pruning: Pruning,
    /// Versions pruning must keep: snapshots being read from them.
    pins: std::sync::Mutex<std::collections::BTreeSet<u64>>,
    /// The live trees' nodes, for the next block's hashing.
    nodes: cache::NodeCache,
}

impl Store {
    /// Opens (or creates) the store in `dir`, taking an exclusive lock on it.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        use fs2::FileExt;
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Open {
            path: dir.to_path_buf(),
            source,
        })?;
        let lock_path = dir.join("LOCK");
        let lock = File::create(&lock_path).map_err(|source| StoreError::Open {
            path: lock_path.clone(),
            source,
        })?;
        if lock.try_lock_exclusive().is_err() {
            return Err(StoreError::Locked {
                path: dir.to_path_buf(),
                lock: lock_path,
            });
        }
        let db_path = dir.join("db");
        let db = open_sled(&db_path).map_err(|source| StoreError::Corrupt {
            path: db_path.clone(),
            source,
        })?;
        let tree = db
            .open_tree("state")
            .map_err(|source| StoreError::Corrupt {
                path: db_path.clone(),
                source,
            })?;
        let txs = txindex::TxIndex::open(&db).map_err(|source| StoreError::Corrupt {
            path: db_path.clone(),
            source,
        })?;
        let txs = txqueue::TxQueue::new(txs)?;
        let writer = flight::Writer::new(flight::Disk {
            tree: tree.clone(),
            db: db.clone(),
            latest: Default::default(),
        })?;
        let store = Store {
            path: db_path,
            tree,
            txs,
            writer,
            db,
            _lock: lock,
            pruning: Pruning::NOTHING,
            pins: Default::default(),
            nodes: Default::default(),
        };
        store.check_consistency()?;
        Ok(store)
    }

    /// Keeps only the versions `pruning` says (see [`prune`]).
    pub fn with_pruning(mut self, pruning: Pruning) -> Self {
        self.pruning = pruning;
        self
    }

    /// The oldest height whose state is still whole.
    pub fn oldest_height(&self) -> Result<u64, StoreError> {
        prune::oldest_kept(&self.tree)
    }

    /// A committed height must have its app hash and JMT root; anything else means
    /// the files were damaged outside this program.
    fn check_consistency(&self) -> Result<(), StoreError> {
        let h = self.height()?;
        if h == 0 {
            return Ok(());
        }
        let recorded = self
            .app_hash_at(h)?
            .ok_or_else(|| StoreError::Inconsistent {
                path: self.path.clone(),
                what: format!("no app hash recorded for committed height {h}"),
            })?;
        let root =
            Sha256Jmt::new(self)
                .get_root_hash_option(h)
                .map_err(|e| StoreError::Inconsistent {
                    path: self.path.clone(),
                    what: format!("merkle root of height {h} unreadable: {e}"),
                })?;
        match root {
            Some(RootHash(r)) if r == recorded => Ok(()),
            _ => Err(StoreError::Inconsistent {
                path: self.path.clone(),
                what: format!("merkle root of height {h} does not match its recorded app hash"),
            }),
        }
    }

    /// Bytes the store takes on disk (sled's count; `None` if it cannot say).
    pub fn size_on_disk(&self) -> Option<u64> {
        self.db.size_on_disk().ok()
    }

    /// Last committed height (0 before the first block).
    pub fn height(&self) -> Result<u64, StoreError> {
        if let Some(f) = self.writer.flight() {
            return Ok(f.height());
        }
        match self.tree.get(meta_key(META_HEIGHT))? {
            None => Ok(0),
            Some(v) => {
                let arr: [u8; 8] = v
                    .as_ref()
                    .try_into()
                    .map_err(|_| StoreError::Inconsistent {
                        path: self.path.clone(),
                        what: "height record is not 8 bytes".into(),
                    })?;
                Ok(u64::from_be_bytes(arr))
            }
        }
    }

    /// App hash committed at `height`, if that height was committed.
    pub fn app_hash_at(&self, height: u64) -> Result<Option<AppHash>, StoreError> {
        if let Some(f) = self.writer.flight().filter(|f| f.height() == height) {
            return Ok(Some(f.pending.app_hash));
        }
        match self.tree.get(app_hash_key(height))? {
            None => Ok(None),
            Some(v) => Ok(Some(v.as_ref().try_into().map_err(|_| {
                StoreError::Inconsistent {
                    path: self.path.clone(),
                    what: format!("app hash of height {height} is not 32 bytes"),
                }
            })?)),
        }
    }

    /// App hash of the last committed height; the JMT empty root before genesis.
    pub fn last_app_hash(&self) -> Result<AppHash, StoreError> {
        let h = self.height()?;
        if h == 0 {
            return Ok(Sha256Jmt::<Self>::EMPTY_ROOT.0);
        }
        self.app_hash_at(h)?
            .ok_or_else(|| StoreError::Inconsistent {
                path: self.path.clone(),
                what: format!("no app hash for committed height {h}"),
            })
    }

    /// Latest committed value of `key`.
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        if let Some(f) = self.writer.flight() {
            if let Some(v) = f.latest(key) {
                return Ok(v.map(<[u8]>::to_vec));
            }
        }
        Ok(self.tree.get(prefixed(P_LATEST, key))?.map(|v| v.to_vec()))
    }

    /// Value of `key` as committed at `height`.
    pub fn get_at(&self, key: &[u8], height: u64) -> Result<Option<Vec<u8>>, StoreError> {
        self.check_height(height)?;
        Sha256Jmt::new(self)
            .get(KeyHash::with::<Sha256>(key), height)
            .map_err(|e| StoreError::Tree(e.to_string()))
    }

    /// Value of `key` at `height` with an ICS-23 proof (existence or non-existence)
    /// against the app hash of that height.
    pub fn get_with_proof(
        &self,
        key: &[u8],
        height: u64,
    ) -> Result<(Option<Vec<u8>>, ics23::CommitmentProof), StoreError> {
        self.check_height(height)?;
        Sha256Jmt::new(self)
            .get_with_ics23_proof(key.to_vec(), height)
            .map_err(|e| StoreError::Tree(e.to_string()))
    }

    /// One of the two Merkle trees, for jmt's reader traits.
    fn app_tree(&self) -> Tree<'_> {
        Tree {
            db: &self.tree,
            nodes: P_NODE,
            values: P_VALUE,
            cache: Some(&self.nodes),
            fill: false,
            flight: self.writer.flight(),
        }
    }

    fn ibc_tree(&self) -> Tree<'_> {
        Tree {
            db: &self.tree,
            nodes: P_IBC_NODE,
            values: P_IBC_VALUE,
            cache: Some(&self.nodes),
            fill: false,
            flight: self.writer.flight(),
        }
    }

    fn check_height(&self, height: u64) -> Result<(), StoreError> {
        let committed = self.height()?;
        if height == 0 || height > committed {
            return Err(StoreError::NoSuchHeight {
                requested: height,
                committed,
            });
        }
        let oldest = prune::oldest_kept(&self.tree)?;
        if height < oldest {
            return Err(StoreError::Pruned {
                requested: height,
                oldest,
            });
        }
        Ok(())
    }

    /// Ordered scan of the latest committed values in `[start, end)`.
    pub(crate) fn range_latest(
        &self,
        start: Option<&[u8]>,
        end: Option<&[u8]>,
        descending: bool,
    ) -> impl Iterator<Item = (Vec<u8>, Vec<u8>)> {
        let lo = prefixed(P_LATEST, start.unwrap_or_default());
        let hi = match end {
            Some(e) => prefixed(P_LATEST, e),
            None => vec![P_LATEST.saturating_add(1)],
        };
        let iter = if lo < hi {
            Some(self.tree.range(lo..hi))
        } else {
            None
        };
        let boxed: Box<dyn Iterator<Item = sled::Result<(sled::IVec, sled::IVec)>>> =
            match (iter, descending) {
                (None, _) => Box::new(std::iter::empty()),
                (Some(it), false) => Box::new(it),
                (Some(it), true) => Box::new(it.rev()),
            };
        let on_disk = boxed.map(|item| {
            // A read failure on committed data cannot be answered honestly: halt.
            let (k, v) = item.expect("state database read failed during range scan");
            (k[1..].to_vec(), v.to_vec())
        });
        let over = self
            .writer
            .flight()
            .map(|f| f.latest_range(start, end))
            .unwrap_or_default();
        flight::merged(on_disk, over, descending)
    }

    /// Computes the app hash of `height` from the block's changes without writing
    /// anything. Called in FinalizeBlock; the result is written by [`Store::commit`].
    pub fn prepare_commit(
        &self,
        height: u64,
        changes: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    ) -> Result<PendingCommit, StoreError> {
        let expected = self.height()?.saturating_add(1);
        // The first block may start above 1 (genesis initial_height); after that,
        // heights are consecutive.
        if self.height()? != 0 && height != expected {
            return Err(StoreError::OutOfOrder {
                expected,
                got: height,
            });
        }
        if changes.contains_key(verdict_ibc::STORE_KEY) {
            return Err(StoreError::ReservedKey {
                key: String::from_utf8_lossy(verdict_ibc::STORE_KEY).into_owned(),
            });
        }
        let changes = self.without_noop_deletions(changes)?;
        let mut preimages = Preimages::new();
        let (mut value_set, ibc_set) = split_sets(
            changes.iter().map(|(k, v)| (k.as_slice(), v.as_deref())),
            Some(&mut preimages),
        );
        // The sub-store first: its root is a value of the app tree. It gets a
        // version at every height, even an empty one, so proofs exist at every
        // committed height.
        // Hashing walks the newest versions: what it reads stays cached.
        let ibc_tree = Tree {
            fill: true,
            ..self.ibc_tree()
        };
        let (ibc_root, ibc_batch) = put_set(&Sha256Jmt::new(&ibc_tree), ibc_set, height)?;
        let ibc_entry = ibc_root_entry(ibc_root.0);
        preimages.insert(ibc_entry.0 .0, verdict_ibc::STORE_KEY.to_vec());
        value_set.push(ibc_entry);
        let app_tree = Tree {
            fill: true,
            ..self.app_tree()
        };
        let (root, tree_batch) = put_set(&Sha256Jmt::new(&app_tree), value_set, height)?;
        Ok(PendingCommit {
            height,
            app_hash: root.0,
            ibc_root: ibc_root.0,
            changes,
            preimages,
            tree_batch,
            ibc_batch,
        })
    }

    /// Drops the deletions of keys the last version does not hold: a block
    /// that writes a key and removes it again (the fee collector's balance,
    /// paid in and handed on in every block with fees) leaves a deletion in
    /// its change set that changes no tree and no root. Kept, it would force
    /// jmt's slow per-key insertion (see [`put_set`]) on nearly every block,
    /// and write a tombstone and a preimage for a key that never was.
    fn without_noop_deletions(
        &self,
        changes: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    ) -> Result<BTreeMap<Vec<u8>, Option<Vec<u8>>>, StoreError> {
        let mut kept = BTreeMap::new();
        let flight = self.writer.flight();
        for (key, value) in changes {
            let keep = value.is_some()
                || match flight.as_ref().and_then(|f| f.latest(&key)) {
                    Some(v) => v.is_some(),
                    None => self.tree.contains_key(prefixed(P_LATEST, &key))?,
                };
            if keep {
                kept.insert(key, value);
            }
        }
        Ok(kept)
    }

    /// Commits a prepared block: from now on it is the latest state. The
    /// writer thread puts it on disk in one atomic batch and flushes it
    /// ([`flight`]); a store's first commit is written before this returns.
    /// Waits for the previous block's write, and returns its error if it failed.
    pub fn commit(&self, pending: PendingCommit) -> Result<AppHash, StoreError> {
        self.writer.wait()?;
        let committed = self.height()?;
        if committed != 0 && pending.height != committed.saturating_add(1) {
            return Err(StoreError::OutOfOrder {
                expected: committed.saturating_add(1),
                got: pending.height,
            });
        }
        let (height, app_hash) = (pending.height, pending.app_hash);
        self.nodes.committed(&[
            (P_NODE, &pending.tree_batch),
            (P_IBC_NODE, &pending.ibc_batch),
        ]);
        // A snapshot being read keeps its version (and so every later one).
        let prune_to = self
            .pruning
            .due(height)
            .map(|o| self.oldest_pin().map_or(o, |p| o.min(p)));
        let first = committed == 0;
        self.writer.send(pending, prune_to, first)?;
        if first {
            // The history's start is on disk before anything reads it.
            self.writer.idle()?;
        }
        Ok(app_hash)
    }

    /// Waits until every committed block is on disk (and pruned); the error
    /// of a write that failed.
    pub fn sync(&self) -> Result<(), StoreError> {
        self.writer.idle()
    }
}

/// Opens sled. Our own LOCK file already excludes other processes, so a sled
/// lock failure here can only be a handle of this process that is still shutting
/// down (sled releases its file lock from a background thread): wait briefly.
fn open_sled(path: &Path) -> Result<sled::Db, sled::Error> {
    let mut attempts = 0u32;
    loop {
        match sled::Config::new().path(path).open() {
            Err(sled::Error::Io(e))
                if attempts < 50 && e.to_string().contains("could not acquire lock") =>
            {
                attempts = attempts.saturating_add(1);
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

/// Verifies a proof returned by [`Store::get_with_proof`] against `app_hash`:
/// membership of `value` under `key`, or non-membership when `value` is `None`.
/// It lives in `verdict-client`, so that clients check proofs without the node.
pub use verdict_client::proof::verify_proof;

/// Committed state, read-only, as the base that block overlays layer on.
impl cosmwasm_std::Storage for Store {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        // An I/O failure here cannot be turned into a wrong answer: halt.
        Store::get(self, key).expect("state database read failed")
    }

    fn range<'a>(
        &'a self,
        start: Option<&[u8]>,
        end: Option<&[u8]>,
        order: cosmwasm_std::Order,
    ) -> Box<dyn Iterator<Item = cosmwasm_std::Record> + 'a> {
        Box::new(self.range_latest(start, end, matches!(order, cosmwasm_std::Order::Descending)))
    }

    fn set(&mut self, _key: &[u8], _value: &[u8]) {
        unreachable!("committed state is written only by Store::commit")
    }

    fn remove(&mut self, _key: &[u8]) {
        unreachable!("committed state is written only by Store::commit")
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod flight_tests;
#[cfg(test)]
mod ibc_tests;
#[cfg(test)]
mod prune_tests;
#[cfg(test)]
mod write_tests;
