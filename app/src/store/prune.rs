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
//! | prefix | key                                            | meaning                      |
//! |--------|------------------------------------------------|------------------------------|
//! | `s`/`S`| since (BE u64) ‖ borsh(NodeKey)                | app/ibc node stale since     |
//! | `x`/`X`| since (BE u64) ‖ key_hash ‖ old version (BE u64) | app/ibc value replaced since |
//! | `t`/`T`| version (BE u64) ‖ key_hash                    | app/ibc key deleted at       |

use std::collections::BTreeSet;

use jmt::storage::{NibblePath, NodeKey, TreeUpdateBatch};

use super::error::StoreError;
use super::layout::{
    app_hash_key, meta_key, prefixed, tree_err, value_key, P_IBC_NODE, P_IBC_VALUE, P_PREIMAGE,
};
use super::layout::{P_NODE, P_VALUE};

const P_STALE: u8 = b's';
const P_IBC_STALE: u8 = b'S';
const P_STALE_VALUE: u8 = b'x';
const P_IBC_STALE_VALUE: u8 = b'X';
const P_TOMBSTONE: u8 = b't';
const P_IBC_TOMBSTONE: u8 = b'T';
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
    nodes: u8,
    values: u8,
    stale: u8,
    stale_values: u8,
    tombstones: u8,
}

pub(super) const APP: Ids = Ids {
    nodes: P_NODE,
    values: P_VALUE,
    stale: P_STALE,
    stale_values: P_STALE_VALUE,
    tombstones: P_TOMBSTONE,
};
pub(super) const IBC: Ids = Ids {
    nodes: P_IBC_NODE,
    values: P_IBC_VALUE,
    stale: P_IBC_STALE,
    stale_values: P_IBC_STALE_VALUE,
    tombstones: P_IBC_TOMBSTONE,
};

/// Adds to a commit's batch what its tree batch makes stale.
pub(super) fn record_stale(
    batch: &mut sled::Batch,
    db: &sled::Tree,
    tree_batch: &TreeUpdateBatch,
    ids: Ids,
) -> Result<(), StoreError> {
    for idx in &tree_batch.stale_node_index_batch {
        let mut k = idx.stale_since_version.to_be_bytes().to_vec();
        k.extend_from_slice(&borsh::to_vec(&idx.node_key).map_err(tree_err)?);
        batch.insert(prefixed(ids.stale, &k), &[]);
    }
    for ((version, key_hash), value) in tree_batch.node_batch.values() {
        if value.is_none() {
            // Nothing replaces a deletion: it is recorded to go by its own version.
            let mut t = version.to_be_bytes().to_vec();
            t.extend_from_slice(&key_hash.0);
            batch.insert(prefixed(ids.tombstones, &t), &[]);
        }
        let lo = value_key(ids.values, key_hash, 0);
        let hi = value_key(ids.values, key_hash, *version);
        if let Some(prev) = db.range(lo..hi).next_back() {
            let (k, _) = prev?;
            let mut r = version.to_be_bytes().to_vec();
            r.extend_from_slice(&key_hash.0);
            r.extend_from_slice(k.get(33..41).unwrap_or_default());
            batch.insert(prefixed(ids.stale_values, &r), &[]);
        }
    }
    Ok(())
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
    let mut batch = sled::Batch::default();
    let mut n = 0usize;
    let mut deleted = Vec::new();
    // Value records this batch removes (what the preimage check must not count).
    let mut gone: BTreeSet<Vec<u8>> = BTreeSet::new();
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
            batch.remove(prefixed(ids.nodes, &root));
        }
        batch.remove(k);
        n = n.saturating_add(1);
    }
    let end = oldest.saturating_add(1).to_be_bytes();
    for ids in [APP, IBC] {
        for item in db.range(prefixed(ids.stale, &[])..prefixed(ids.stale, &end)) {
            let (k, _) = item?;
            batch.remove(prefixed(ids.nodes, k.get(9..).unwrap_or_default()));
            batch.remove(k);
            n = n.saturating_add(1);
        }
        for item in db.range(prefixed(ids.stale_values, &[])..prefixed(ids.stale_values, &end)) {
            let (k, _) = item?;
            let mut v = vec![ids.values];
            v.extend_from_slice(k.get(9..49).unwrap_or_default());
            batch.remove(v.clone());
            gone.insert(v);
            batch.remove(k);
            n = n.saturating_add(1);
        }
        for item in db.range(prefixed(ids.tombstones, &[])..prefixed(ids.tombstones, &end)) {
            let (k, _) = item?;
            let (Some(version), Some(hash)) = (k.get(1..9), k.get(9..41)) else {
                continue;
            };
            let mut v = vec![ids.values];
            v.extend_from_slice(hash);
            v.extend_from_slice(version);
            batch.remove(v.clone());
            gone.insert(v);
            batch.remove(k.clone());
            deleted.push(hash.to_vec());
            n = n.saturating_add(1);
        }
    }
    n = n.saturating_add(drop_orphan_preimages(db, &mut batch, deleted, &gone)?);
    batch.insert(meta_key(META_PRUNED_UNTIL), oldest.to_be_bytes().as_slice());
    db.apply_batch(batch)?;
    Ok(n)
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
