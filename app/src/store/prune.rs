//! Pruning of old versions of the two trees (`verdictd start --pruning`).
//!
//! Every commit records, next to its new nodes and values, what they made
//! stale: the JMT's stale node index (a node stale since version `v` belongs
//! to no tree at `v` or later) and, for each key written at `v`, the value it
//! replaced (read at `v` or later, the new one wins). Pruning to version `P`
//! deletes every node and value stale since `P` or earlier, and the
//! tombstone of every key deleted at `P` or earlier (with the key's preimage
//! when no version of it is left): the trees at `P` and later stay whole, so
//! the app hash, proofs and queries at those heights are unchanged, and the
//! heights before `P` answer a clear error. It is not consensus: two nodes
//! with different pruning agree on every app hash.
//!
//! One record per tree and version holds all three kinds (a commit adds one
//! sled entry per tree, not one per stale node: issue 18, commit time):
//!
//! | prefix | key            | value                                                  |
//! |--------|----------------|--------------------------------------------------------|
//! | `b`/`B`| since (BE u64) | borsh([`StaleRecord`]): app/ibc nodes stale since, values replaced since, keys deleted at |
//!
//! Stores written before kept one entry per item, which pruning still reads:
//!
//! | prefix | key                                            | meaning                      |
//! |--------|------------------------------------------------|------------------------------|
//! | `s`/`S`| since (BE u64) ‖ borsh(NodeKey)                | app/ibc node stale since     |
//! | `x`/`X`| since (BE u64) ‖ key_hash ‖ old version (BE u64) | app/ibc value replaced since |
//! | `t`/`T`| version (BE u64) ‖ key_hash                    | app/ibc key deleted at       |

use std::collections::{BTreeMap, BTreeSet};

use borsh::{BorshDeserialize, BorshSerialize};

use jmt::storage::{NibblePath, NodeKey, TreeUpdateBatch};

use super::error::StoreError;
use super::layout::{
    app_hash_key, meta_key, prefixed, tree_err, value_key, P_IBC_NODE, P_IBC_VALUE, P_PREIMAGE,
};
use super::layout::{P_NODE, P_VALUE};

pub(super) const P_STALE: u8 = b's';
pub(super) const P_IBC_STALE: u8 = b'S';
pub(super) const P_STALE_VALUE: u8 = b'x';
pub(super) const P_IBC_STALE_VALUE: u8 = b'X';
pub(super) const P_TOMBSTONE: u8 = b't';
pub(super) const P_IBC_TOMBSTONE: u8 = b'T';
pub(super) const P_RECORD: u8 = b'b';
pub(super) const P_IBC_RECORD: u8 = b'B';

/// What one commit made stale in one tree, all since the same version.
#[derive(Debug, Default, BorshSerialize, BorshDeserialize)]
pub(super) struct StaleRecord {
    /// Nodes no tree at `since` or later holds.
    pub(super) nodes: Vec<NodeKey>,
    /// (key hash, version) of values replaced at `since`.
    pub(super) values: Vec<([u8; 32], u64)>,
    /// Keys deleted at `since` (their tombstone is the value at `since`).
    pub(super) deleted: Vec<[u8; 32]>,
}
const META_PRUNED_UNTIL: &[u8] = b"pruned_until";

/// What to keep: the last `keep_recent` versions (0: everything), pruned every
/// `interval` blocks. The SDK's strategies by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pruning {
    pub keep_recent: u64,
    pub interval: u64,
}

impl Pruning {
    pub const NOTHING: Pruning = Pruning {
        keep_recent: 0,
        interval: 0,
    };
    /// The SDK's `default`: about three weeks of 5 s blocks.
    pub const DEFAULT: Pruning = Pruning {
        keep_recent: 362_880,
        interval: 10,
    };
    /// The SDK's `everything`: the last two versions.
    pub const EVERYTHING: Pruning = Pruning {
        keep_recent: 2,
        interval: 10,
    };

    /// `default`, `nothing`, `everything`, or `custom` with both numbers.
    pub fn named(name: &str, keep_recent: u64, interval: u64) -> Result<Pruning, String> {
        match name {
            "default" => Ok(Self::DEFAULT),
            "nothing" => Ok(Self::NOTHING),
            "everything" => Ok(Self::EVERYTHING),
            "custom" if keep_recent >= 2 && interval >= 1 => Ok(Pruning {
                keep_recent,
                interval,
            }),
            "custom" => Err(
                "pruning custom needs --pruning-keep-recent >= 2 and --pruning-interval >= 1"
                    .into(),
            ),
            other => Err(format!(
                "unknown pruning {other:?}: default, nothing, everything or custom"
            )),
        }
    }

    /// The oldest version to keep once `height` is committed, when this
    /// commit is one to prune at.
    pub(super) fn due(&self, height: u64) -> Option<u64> {
        if self.keep_recent == 0 || self.interval == 0 || !height.is_multiple_of(self.interval) {
            return None;
        }
        height
            .checked_sub(self.keep_recent)
            .map(|h| h.saturating_add(1))
            .filter(|oldest| *oldest > 1)
    }
}

/// The prefixes of one tree's data and of its stale records.
#[derive(Clone, Copy)]
pub(super) struct Ids {
    pub(super) nodes: u8,
    pub(super) values: u8,
    stale: u8,
    stale_values: u8,
    tombstones: u8,
    records: u8,
}

pub(super) const APP: Ids = Ids {
    nodes: P_NODE,
    values: P_VALUE,
    stale: P_STALE,
    stale_values: P_STALE_VALUE,
    tombstones: P_TOMBSTONE,
    records: P_RECORD,
};
pub(super) const IBC: Ids = Ids {
    nodes: P_IBC_NODE,
    values: P_IBC_VALUE,
    stale: P_IBC_STALE,
    stale_values: P_IBC_STALE_VALUE,
    tombstones: P_IBC_TOMBSTONE,
    records: P_IBC_RECORD,
};

/// Adds to a commit's batch what its tree batch makes stale: one
/// [`StaleRecord`] per version (the commit's own; one already on disk for
/// that version is extended, never overwritten). Adds to `missing` the hashes
/// of the keys written whose preimage may not be stored.
///
/// The value a write replaces, and whether the key's preimage is stored, come
/// from `latest` when this process last wrote the key as live (a live newest
/// value is never pruned, so its preimage is stored), else from disk: no
/// preimage means no version of the key in either tree (pruning drops a
/// preimage only with a key's last version), otherwise the newest earlier
/// value is read. A key last deleted is asked of disk, since pruning may have
/// removed its tombstone since: so the records are the same bytes whatever
/// `latest` holds (`write_tests` checks it).
pub(super) fn record_stale(
    batch: &mut sled::Batch,
    db: &sled::Tree,
    tree_batch: &TreeUpdateBatch,
    ids: Ids,
    latest: &super::cache::LatestVersions,
    missing: &mut BTreeSet<[u8; 32]>,
) -> Result<(), StoreError> {
    let mut records: BTreeMap<u64, StaleRecord> = BTreeMap::new();
    for idx in &tree_batch.stale_node_index_batch {
        records
            .entry(idx.stale_since_version)
            .or_default()
            .nodes
            .push(idx.node_key.clone());
    }
    for ((version, key_hash), value) in tree_batch.node_batch.values() {
        if value.is_none() {
            // Nothing replaces a deletion: it is recorded to go by its own version.
            records
                .entry(*version)
                .or_default()
                .deleted
                .push(key_hash.0);
        }
        let known = latest
            .get(ids.values, &key_hash.0)
            .filter(|old| old < version);
        let prev = match known {
            Some(old) => Some(old),
            None if !db.contains_key(prefixed(P_PREIMAGE, &key_hash.0))? => {
                missing.insert(key_hash.0);
                None
            }
            None => newest_before(db, ids, key_hash, *version)?,
        };
        if let Some(old) = prev {
            records
                .entry(*version)
                .or_default()
                .values
                .push((key_hash.0, old));
        }
    }
    for (since, mut record) in records {
        let key = prefixed(ids.records, &since.to_be_bytes());
        if let Some(old) = db.get(&key)? {
            let old = StaleRecord::try_from_slice(&old).map_err(tree_err)?;
            record.nodes.extend(old.nodes);
            record.values.extend(old.values);
            record.deleted.extend(old.deleted);
        }
        batch.insert(key, borsh::to_vec(&record).map_err(tree_err)?);
    }
    Ok(())
}

/// The version of the newest value of `key_hash` below `version`: the greatest
/// value key below this one, when it is of the same key hash.
fn newest_before(
    db: &sled::Tree,
    ids: Ids,
    key_hash: &jmt::KeyHash,
    version: u64,
) -> Result<Option<u64>, StoreError> {
    let hi = value_key(ids.values, key_hash, version);
    let Some((k, _)) = db.get_lt(&hi)?.filter(|(k, _)| k.get(..33) == hi.get(..33)) else {
        return Ok(None);
    };
    k.get(33..41)
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map(|b| Some(u64::from_be_bytes(b)))
        .ok_or_else(|| StoreError::Tree(format!("bad value key {k:?}")))
}

/// Deletes what is stale since `oldest` or earlier in both trees, the
/// tombstones of keys deleted at `oldest` or earlier, and the roots and app
/// hashes of the versions before `oldest`; returns how many entries went.
///
/// A tombstone at `d <= oldest` reads as nothing, and so does its key once
/// it is gone: every earlier value of the key was replaced at `d` or before,
/// so it goes in the same batch; so does the key's preimage, when neither tree
/// holds any version of the key besides those the batch removes (a key
/// written again keeps it). One batch: a crash leaves all or nothing.
///
/// A version's root node (its key: the version and the empty nibble path) is
/// read only as that version's root, never as a child, so the roots of pruned
/// versions can go whether or not the JMT marked them stale: it does not when
/// a tree is empty, so an unused sub-store left one root per block behind.
///
/// The versions visited are those with an app hash still recorded, so a store
/// whose history starts late (a snapshot restore, a chain from an export) or
/// that was pruned before costs only what it holds. History never shrinks
/// backwards: a target at or below the oldest kept version (a restored store
/// under a long `keep-recent`) does nothing.
pub(super) fn prune(db: &sled::Tree, oldest: u64) -> Result<usize, StoreError> {
    if oldest <= oldest_kept(db)? {
        return Ok(0);
    }
    let mut r = Removal::default();
    // The empty nibble path (jmt has no public constructor): no nibbles (a
    // u64), no bytes (a u32 length), in borsh.
    let empty: NibblePath = borsh::from_slice(&[0u8; 12]).map_err(tree_err)?;
    for item in db.range(app_hash_key(0)..app_hash_key(oldest)) {
        let (k, _) = item?;
        let Some(version) = k
            .len()
            .checked_sub(8)
            .and_then(|at| <[u8; 8]>::try_from(k.get(at..)?).ok())
            .map(u64::from_be_bytes)
        else {
            continue;
        };
        let root = borsh::to_vec(&NodeKey::new(version, empty.clone())).map_err(tree_err)?;
        for ids in [APP, IBC] {
            r.batch.remove(prefixed(ids.nodes, &root));
        }
        r.entry(k.to_vec());
    }
    let end = oldest.saturating_add(1).to_be_bytes();
    for ids in [APP, IBC] {
        for item in db.range(prefixed(ids.records, &[])..prefixed(ids.records, &end)) {
            let (k, v) = item?;
            let since = k.get(1..9).unwrap_or_default();
            let record = StaleRecord::try_from_slice(&v).map_err(tree_err)?;
            for node in &record.nodes {
                r.entry(prefixed(ids.nodes, &borsh::to_vec(node).map_err(tree_err)?));
            }
            for (hash, old) in &record.values {
                r.value(value_key(ids.values, &jmt::KeyHash(*hash), *old));
            }
            for hash in &record.deleted {
                r.tombstone(ids.values, hash, since);
            }
            r.batch.remove(k);
        }
        legacy_records(db, ids, &end, &mut r)?;
    }
    let Removal {
        mut batch,
        mut n,
        deleted,
        gone,
    } = r;
    n = n.saturating_add(drop_orphan_preimages(db, &mut batch, deleted, &gone)?);
    batch.insert(meta_key(META_PRUNED_UNTIL), oldest.to_be_bytes().as_slice());
    db.apply_batch(batch)?;
    Ok(n)
}

/// What one pruning pass removes, in one batch.
#[derive(Default)]
struct Removal {
    batch: sled::Batch,
    /// Entries removed (records aside).
    n: usize,
    /// Key hashes of the deletions whose tombstones go.
    deleted: Vec<Vec<u8>>,
    /// Value records this batch removes (what the preimage check must not count).
    gone: BTreeSet<Vec<u8>>,
}

impl Removal {
    fn entry(&mut self, key: Vec<u8>) {
        self.batch.remove(key);
        self.n = self.n.saturating_add(1);
    }

    fn value(&mut self, key: Vec<u8>) {
        self.gone.insert(key.clone());
        self.entry(key);
    }

    /// The tombstone of key `hash` deleted at `version` (big-endian).
    fn tombstone(&mut self, values: u8, hash: &[u8], version: &[u8]) {
        let mut v = vec![values];
        v.extend_from_slice(hash);
        v.extend_from_slice(version);
        self.value(v);
        self.deleted.push(hash.to_vec());
    }
}

/// The per-item records of stores written before [`StaleRecord`], since
/// versions below `end`.
fn legacy_records(
    db: &sled::Tree,
    ids: Ids,
    end: &[u8],
    r: &mut Removal,
) -> Result<(), StoreError> {
    for item in db.range(prefixed(ids.stale, &[])..prefixed(ids.stale, end)) {
        let (k, _) = item?;
        r.entry(prefixed(ids.nodes, k.get(9..).unwrap_or_default()));
        r.batch.remove(k);
    }
    for item in db.range(prefixed(ids.stale_values, &[])..prefixed(ids.stale_values, end)) {
        let (k, _) = item?;
        let mut v = vec![ids.values];
        v.extend_from_slice(k.get(9..49).unwrap_or_default());
        r.value(v);
        r.batch.remove(k);
    }
    for item in db.range(prefixed(ids.tombstones, &[])..prefixed(ids.tombstones, end)) {
        let (k, _) = item?;
        if let (Some(version), Some(hash)) = (k.get(1..9), k.get(9..41)) {
            r.tombstone(ids.values, hash, version);
            r.batch.remove(k);
        }
    }
    Ok(())
}

/// Adds to `batch` the removal of the preimages of `hashes` that no value of
/// either tree names once the records in `gone` are removed.
fn drop_orphan_preimages(
    db: &sled::Tree,
    batch: &mut sled::Batch,
    mut hashes: Vec<Vec<u8>>,
    gone: &BTreeSet<Vec<u8>>,
) -> Result<usize, StoreError> {
    hashes.sort_unstable();
    hashes.dedup();
    let mut n = 0usize;
    for hash in hashes {
        let mut live = false;
        for values in [APP.values, IBC.values] {
            for item in db.scan_prefix(prefixed(values, &hash)) {
                let (k, _) = item?;
                if !gone.contains(k.as_ref()) {
                    live = true;
                    break;
                }
            }
            if live {
                break;
            }
        }
        if !live {
            batch.remove(prefixed(P_PREIMAGE, &hash));
            n = n.saturating_add(1);
        }
    }
    Ok(n)
}

/// The oldest version still whole (1 when nothing was pruned).
pub(super) fn oldest_kept(db: &sled::Tree) -> Result<u64, StoreError> {
    Ok(db
        .get(meta_key(META_PRUNED_UNTIL))?
        .and_then(|v| <[u8; 8]>::try_from(v.as_ref()).ok())
        .map_or(1, u64::from_be_bytes))
}

/// Records, in a commit's batch, that the history starts at `oldest` (the first
/// commit of a store): earlier heights answer "pruned".
pub(super) fn mark_oldest(batch: &mut sled::Batch, oldest: u64) {
    batch.insert(meta_key(META_PRUNED_UNTIL), oldest.to_be_bytes().as_slice());
}
