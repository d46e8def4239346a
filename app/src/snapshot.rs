//! State sync: snapshots of the state served to new nodes, and their restore
//! (ABCI ListSnapshots, LoadSnapshotChunk, OfferSnapshot, ApplySnapshotChunk).
//!
//! Every `interval` blocks, Commit pins that height against pruning and hands
//! it to a background thread, which walks both trees at that version (see
//! `store::snapshot`) and cuts the items into chunks of about [`CHUNK_BYTES`]
//! in `DIR/<height>/`; Commit never waits for it. The newest `keep_recent`
//! snapshots are kept.
//!
//! Format 1, on disk and on the wire:
//! - a chunk is the protobuf `Chunk { repeated Item items = 1 }` with
//!   `Item { bytes key = 1; bytes value = 2 }`;
//! - the snapshot's `metadata` is `Metadata { repeated bytes chunk_hashes = 1 }`,
//!   the SHA-256 of each chunk, and its `hash` is the SHA-256 of those hashes
//!   concatenated.
//!
//! Restoring trusts nothing a peer sends: a chunk whose hash is not the
//! metadata's is refetched from another peer; the items are kept in memory
//! until the last chunk, and written only if the roots they give are the app
//! hash CometBFT's light client verified for that height (else the snapshot is
//! rejected and CometBFT tries another). Nothing is served from a half-restored
//! store.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use prost::Message;
use sha2::{Digest, Sha256};
use tendermint_proto::v0_38::abci::{
    response_apply_snapshot_chunk::Result as ApplyResult,
    response_offer_snapshot::Result as OfferResult, RequestApplySnapshotChunk,
    RequestLoadSnapshotChunk, RequestOfferSnapshot, ResponseApplySnapshotChunk,
    ResponseListSnapshots, ResponseLoadSnapshotChunk, ResponseOfferSnapshot, Snapshot,
};

use crate::store::{Store, StoreError};

/// The only snapshot format.
pub const FORMAT: u32 = 1;
/// Target size of a chunk (CometBFT's p2p messages carry up to 16 MiB).
pub const CHUNK_BYTES: usize = 4 << 20;
/// Most chunks a snapshot offered to us may have.
const MAX_CHUNKS: u32 = 100_000;
/// Most bytes of items a restore holds in memory before it gives up, counting
/// [`ITEM_OVERHEAD`] per item besides its key and value.
const MAX_RESTORE_BYTES: usize = 4 << 30;
/// What one item costs in memory beyond its bytes (map entry, two vectors).
const ITEM_OVERHEAD: usize = 128;

/// When to take snapshots (`verdictd start --snapshot-interval
/// --snapshot-keep-recent`, or `[state-sync]` in app.toml).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotConfig {
    /// Take a snapshot every this many blocks (0: never).
    pub interval: u64,
    /// Snapshots kept on disk (the newest); at least 1.
    pub keep_recent: u32,
}

impl Default for SnapshotConfig {
    fn default() -> Self {
        SnapshotConfig {
            interval: 0,
            keep_recent: 2,
        }
    }
}

#[derive(Clone, PartialEq, Message)]
struct Item {
    #[prost(bytes = "vec", tag = "1")]
    key: Vec<u8>,
    #[prost(bytes = "vec", tag = "2")]
    value: Vec<u8>,
}

#[derive(Clone, PartialEq, Message)]
struct Chunk {
    #[prost(message, repeated, tag = "1")]
    items: Vec<Item>,
}

#[derive(Clone, PartialEq, Message)]
struct Metadata {
    #[prost(bytes = "vec", repeated, tag = "1")]
    chunk_hashes: Vec<Vec<u8>>,
}

/// A restore in progress: the accepted snapshot and the items so far.
struct Restoring {
    height: u64,
    app_hash: [u8; 32],
    chunk_hashes: Vec<Vec<u8>>,
    next: u32,
    items: BTreeMap<Vec<u8>, Vec<u8>>,
    bytes: usize,
    /// The store already holds this state (written before a crash): chunks are
    /// checked, nothing is written again.
    already: bool,
}

/// Taking, serving and restoring snapshots; one per app, shared by its ABCI
/// connections.
pub struct Snapshots {
    dir: Option<PathBuf>,
    cfg: SnapshotConfig,
    chunk_bytes: usize,
    /// A snapshot is being written (one at a time; a due one is skipped).
    busy: Arc<std::sync::atomic::AtomicBool>,
    restoring: Mutex<Option<Restoring>>,
}

impl Default for Snapshots {
    fn default() -> Self {
        Snapshots::new(None, SnapshotConfig::default())
    }
}

impl Snapshots {
    /// Snapshots in `dir` (none taken or served without one; restore works
    /// either way).
    pub fn new(dir: Option<PathBuf>, cfg: SnapshotConfig) -> Self {
        Snapshots {
            dir,
            cfg,
            chunk_bytes: CHUNK_BYTES,
            busy: Arc::default(),
            restoring: Mutex::new(None),
        }
    }

    /// Cut chunks of about `n` bytes instead of [`CHUNK_BYTES`] (tests).
    pub fn with_chunk_bytes(mut self, n: usize) -> Self {
        self.chunk_bytes = n.max(1);
        self
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Restoring>> {
        self.restoring.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// After Commit of `height`: starts a snapshot in the background when one
    /// is due. `wait` makes it synchronous (tests).
    pub fn after_commit(&self, store: &Arc<Store>, height: u64, wait: bool) {
        let (Some(dir), interval) = (self.dir.clone(), self.cfg.interval) else {
            return;
        };
        if interval == 0 || !height.is_multiple_of(interval) {
            return;
        }
        if self.busy.swap(true, std::sync::atomic::Ordering::SeqCst) {
            tracing::warn!(
                height,
                "snapshot skipped: the previous one is still being written"
            );
            return;
        }
        store.pin(height);
        // Releases the pin and the busy flag however the job ends: done, failed,
        // panicked, or never started.
        let guard = Release {
            store: Arc::clone(store),
            busy: Arc::clone(&self.busy),
            height,
        };
        let (keep, chunk) = (self.cfg.keep_recent.max(1), self.chunk_bytes);
        let job = move || {
            let store = Arc::clone(&guard.store);
            let started = std::time::Instant::now();
            match write_snapshot(&store, &dir, height, chunk) {
                Ok(s) => tracing::info!(
                    height,
                    chunks = s.chunks,
                    hash = %hex::encode_upper(&s.hash),
                    ms = started.elapsed().as_millis() as u64,
                    "snapshot taken"
                ),
                Err(e) => tracing::error!(height, error = %e, "snapshot failed"),
            }
            if let Err(e) = remove_old(&dir, keep) {
                tracing::warn!(error = %e, "removing old snapshots failed");
            }
            drop(guard);
        };
        if wait {
            job();
        } else if let Err(e) = std::thread::Builder::new()
            .name("snapshot".into())
            .spawn(job)
        {
            tracing::error!(height, error = %e, "cannot start the snapshot thread");
        }
    }

    /// The snapshots on disk, newest first.
    pub fn list(&self) -> ResponseListSnapshots {
        let snapshots = self
            .dir
            .as_deref()
            .map(|d| {
                let mut all = list_dir(d)
                    .into_iter()
                    .filter_map(|h| read_manifest(d, h).ok())
                    .collect::<Vec<_>>();
                all.sort_by_key(|s| std::cmp::Reverse(s.height));
                all
            })
            .unwrap_or_default();
        ResponseListSnapshots { snapshots }
    }

    /// One chunk of a snapshot on disk (empty when there is no such chunk).
    pub fn load_chunk(&self, req: &RequestLoadSnapshotChunk) -> ResponseLoadSnapshotChunk {
        let chunk = match (&self.dir, req.format) {
            (Some(d), FORMAT) => {
                std::fs::read(d.join(req.height.to_string()).join(req.chunk.to_string()))
                    .unwrap_or_default()
            }
            _ => Vec::new(),
        };
        ResponseLoadSnapshotChunk {
            chunk: chunk.into(),
        }
    }

    /// CometBFT offers a snapshot and the app hash its light client trusts
    /// for that height.
    pub fn offer(&self, store: &Store, req: RequestOfferSnapshot) -> ResponseOfferSnapshot {
        let result = match self.check_offer(store, req) {
            Ok(r) => {
                tracing::info!(
                    height = r.height,
                    chunks = r.chunk_hashes.len(),
                    "state sync: snapshot accepted"
                );
                *self.lock() = Some(r);
                OfferResult::Accept
            }
            Err((result, why)) => {
                tracing::warn!(reason = %why, "state sync: snapshot refused");
                result
            }
        };
        ResponseOfferSnapshot {
            result: result as i32,
        }
    }

    fn check_offer(
        &self,
        store: &Store,
        req: RequestOfferSnapshot,
    ) -> Result<Restoring, (OfferResult, String)> {
        let reject = |why: &str| (OfferResult::Reject, why.to_string());
        let s = req.snapshot.ok_or_else(|| reject("no snapshot"))?;
        if s.format != FORMAT {
            return Err((
                OfferResult::RejectFormat,
                format!("format {} (this node restores format {FORMAT})", s.format),
            ));
        }
        let app_hash: [u8; 32] = req
            .app_hash
            .as_ref()
            .try_into()
            .map_err(|_| reject("the trusted app hash is not 32 bytes"))?;
        let meta =
            Metadata::decode(s.metadata.as_ref()).map_err(|_| reject("undecodable metadata"))?;
        if s.height == 0 || s.chunks == 0 || s.chunks > MAX_CHUNKS {
            return Err(reject(&format!(
                "height {} with {} chunks",
                s.height, s.chunks
            )));
        }
        if meta.chunk_hashes.len() != s.chunks as usize
            || meta.chunk_hashes.iter().any(|h| h.len() != 32)
            || s.hash.as_ref() != hash_of_hashes(&meta.chunk_hashes).as_slice()
        {
            return Err(reject(
                "metadata does not match the snapshot's hash and chunk count",
            ));
        }
        let already = match store.height() {
            Ok(0) => false,
            Ok(h) if h == s.height && store.holds(h, &app_hash).unwrap_or(false) => true,
            Ok(h) => {
                return Err((
                    OfferResult::Abort,
                    format!(
                        "the store already holds height {h}: state sync needs an empty one \
                         (remove HOME/verdict)"
                    ),
                ))
            }
            Err(e) => return Err((OfferResult::Abort, e.to_string())),
        };
        Ok(Restoring {
            height: s.height,
            app_hash,
            chunk_hashes: meta.chunk_hashes,
            next: 0,
            items: BTreeMap::new(),
            bytes: 0,
            already,
        })
    }

    /// One chunk of the accepted snapshot, in order.
    pub fn apply_chunk(
        &self,
        store: &Store,
        req: RequestApplySnapshotChunk,
    ) -> ResponseApplySnapshotChunk {
        let mut guard = self.lock();
        let Some(r) = guard.as_mut() else {
            return apply(ApplyResult::Abort, None, None);
        };
        if req.index != r.next {
            return apply(ApplyResult::Retry, Some(r.next), None);
        }
        let expected = r.chunk_hashes.get(req.index as usize);
        if expected.map(Vec::as_slice) != Some(Sha256::digest(&req.chunk).as_slice()) {
            tracing::warn!(index = req.index, sender = %req.sender, "state sync: chunk hash mismatch");
            return apply(ApplyResult::Retry, Some(req.index), Some(req.sender));
        }
        if let Err(why) = add_items(r, &req.chunk) {
            tracing::warn!(index = req.index, reason = %why, "state sync: snapshot rejected");
            *guard = None;
            return apply(ApplyResult::RejectSnapshot, None, None);
        }
        r.next = r.next.saturating_add(1);
        if (r.next as usize) < r.chunk_hashes.len() {
            return apply(ApplyResult::Accept, None, None);
        }
        let Some(done) = guard.take() else {
            return apply(ApplyResult::Abort, None, None);
        };
        if done.already {
            tracing::info!(
                height = done.height,
                "state sync: the store already holds this state"
            );
            return apply(ApplyResult::Accept, None, None);
        }
        let (height, n) = (done.height, done.items.len());
        match store.restore(done.height, done.items, done.app_hash) {
            Ok(()) => {
                tracing::info!(height, items = n, "state sync: state restored and verified");
                apply(ApplyResult::Accept, None, None)
            }
            Err(StoreError::Restore(why)) => {
                tracing::warn!(height, reason = %why, "state sync: snapshot rejected");
                apply(ApplyResult::RejectSnapshot, None, None)
            }
            Err(e) => {
                tracing::error!(height, error = %e, "state sync: restore failed");
                apply(ApplyResult::Abort, None, None)
            }
        }
    }
}

/// Unpins a snapshot's height and frees the next snapshot when dropped.
struct Release {
    store: Arc<Store>,
    busy: Arc<std::sync::atomic::AtomicBool>,
    height: u64,
}

impl Drop for Release {
    fn drop(&mut self) {
        self.store.unpin(self.height);
        self.busy.store(false, std::sync::atomic::Ordering::SeqCst);
    }
}

fn apply(
    result: ApplyResult,
    refetch: Option<u32>,
    reject: Option<String>,
) -> ResponseApplySnapshotChunk {
    ResponseApplySnapshotChunk {
        result: result as i32,
        refetch_chunks: refetch.into_iter().collect(),
        reject_senders: reject.into_iter().collect(),
    }
}

/// Decodes a chunk whose hash matched into the restore's items.
fn add_items(r: &mut Restoring, chunk: &[u8]) -> Result<(), String> {
    let c = Chunk::decode(chunk).map_err(|e| format!("undecodable chunk: {e}"))?;
    if r.already {
        return Ok(());
    }
    for Item { key, value } in c.items {
        if key == verdict_ibc::STORE_KEY {
            return Err("the reserved key `ibc` is derived, never in a snapshot".into());
        }
        r.bytes = r
            .bytes
            .saturating_add(key.len())
            .saturating_add(value.len())
            .saturating_add(ITEM_OVERHEAD);
        if r.bytes > MAX_RESTORE_BYTES {
            return Err(format!("more than {MAX_RESTORE_BYTES} bytes of state"));
        }
        if r.items.insert(key, value).is_some() {
            return Err("a key appears twice".into());
        }
    }
    Ok(())
}

fn hash_of_hashes(hashes: &[Vec<u8>]) -> [u8; 32] {
    let mut h = Sha256::new();
    for x in hashes {
        h.update(x);
    }
    h.finalize().into()
}

const MANIFEST: &str = "snapshot.pb";

/// Writes the snapshot of `height` into `dir/<height>/` (through a temporary
/// directory renamed at the end, so a crash leaves no half snapshot listed).
fn write_snapshot(
    store: &Store,
    dir: &Path,
    height: u64,
    chunk_bytes: usize,
) -> Result<Snapshot, Box<dyn std::error::Error>> {
    let tmp = dir.join(format!(".tmp-{height}"));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp)?;
    let mut hashes: Vec<Vec<u8>> = Vec::new();
    let mut chunk = Chunk::default();
    let mut size = 0usize;
    let flush = |chunk: &mut Chunk, hashes: &mut Vec<Vec<u8>>| -> std::io::Result<()> {
        let bytes = std::mem::take(chunk).encode_to_vec();
        write_synced(&tmp.join(hashes.len().to_string()), &bytes)?;
        hashes.push(Sha256::digest(&bytes).to_vec());
        Ok(())
    };
    store.for_each_item(height, |key, value| {
        size = size.saturating_add(key.len()).saturating_add(value.len());
        chunk.items.push(Item { key, value });
        if size >= chunk_bytes {
            size = 0;
            flush(&mut chunk, &mut hashes).map_err(|e| StoreError::Tree(e.to_string()))?;
        }
        Ok(())
    })?;
    if !chunk.items.is_empty() || hashes.is_empty() {
        flush(&mut chunk, &mut hashes)?;
    }
    let snapshot = Snapshot {
        height,
        format: FORMAT,
        chunks: u32::try_from(hashes.len())?,
        hash: hash_of_hashes(&hashes).to_vec().into(),
        metadata: Metadata {
            chunk_hashes: hashes,
        }
        .encode_to_vec()
        .into(),
    };
    write_synced(&tmp.join(MANIFEST), &snapshot.encode_to_vec())?;
    // The files are on disk before the directory is renamed into the list, so a
    // power loss never leaves a listed snapshot with short chunks.
    std::fs::File::open(&tmp)?.sync_all()?;
    let done = dir.join(height.to_string());
    let _ = std::fs::remove_dir_all(&done);
    std::fs::rename(&tmp, &done)?;
    Ok(snapshot)
}

fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut f = std::fs::File::create(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// Heights of the snapshots in `dir` (directories named by a number).
fn list_dir(dir: &Path) -> Vec<u64> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u64>().ok())
        .collect()
}

fn read_manifest(dir: &Path, height: u64) -> Result<Snapshot, Box<dyn std::error::Error>> {
    let bytes = std::fs::read(dir.join(height.to_string()).join(MANIFEST))?;
    Ok(Snapshot::decode(bytes.as_slice())?)
}

/// Keeps the newest `keep` snapshots.
fn remove_old(dir: &Path, keep: u32) -> std::io::Result<()> {
    let mut heights = list_dir(dir);
    heights.sort_unstable_by(|a, b| b.cmp(a));
    for h in heights.into_iter().skip(keep as usize) {
        std::fs::remove_dir_all(dir.join(h.to_string()))?;
    }
    Ok(())
}

impl crate::VerdictApp {
    /// Takes snapshots into `dir` as `cfg` says and serves them to peers.
    pub fn with_snapshots(mut self, dir: PathBuf, cfg: SnapshotConfig) -> Self {
        self.snapshots = Arc::new(Snapshots::new(Some(dir), cfg));
        self
    }
}

#[cfg(test)]
#[path = "snapshot_tests.rs"]
mod tests;
