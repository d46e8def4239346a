//! A committed block's one atomic batch: a version's JMT nodes, its values,
//! the preimages of keys new to the store, the latest values, the stale
//! records (`prune::record_stale`) and the height and app hash; then the
//! flush, and after it the pruning the block makes due. Run by the writer thread
//! ([`super::flight`]), or inline for a store's first commit.

use std::collections::BTreeSet;

use jmt::storage::NodeBatch;

use super::error::StoreError;
use super::flight::Disk;
use super::layout::{
    app_hash_key, meta_key, prefixed, tree_err, value_key, META_HEIGHT, P_LATEST, P_PREIMAGE,
};
use super::{prune, PendingCommit};

/// Writes `pending` in one atomic batch and flushes it. The store is at the
/// version before `pending`'s; `first` when it holds none yet.
pub(super) fn block(disk: &Disk, pending: &PendingCommit, first: bool) -> Result<(), StoreError> {
    let trees = [
        (&pending.tree_batch, prune::APP),
        (&pending.ibc_batch, prune::IBC),
    ];
    let nodes_of = trees.map(|(tree, ids)| (ids.nodes, &tree.node_batch));
    let values_of = trees.map(|(tree, ids)| (ids.values, &tree.node_batch));
    let mut batch = sled::Batch::default();
    nodes(&mut batch, &nodes_of)?;
    let mut missing = BTreeSet::new();
    for (tree, ids) in trees {
        values(&mut batch, &tree.node_batch, ids.values);
        prune::record_stale(
            &mut batch,
            &disk.tree,
            tree,
            ids,
            &disk.latest,
            &mut missing,
        )?;
    }
    for hash in &missing {
        if let Some(key) = pending.preimages.get(hash) {
            batch.insert(prefixed(P_PREIMAGE, hash), key.as_slice());
        }
    }
    for (key, value) in &pending.changes {
        match value {
            Some(v) => batch.insert(prefixed(P_LATEST, key), v.as_slice()),
            None => batch.remove(prefixed(P_LATEST, key)),
        }
    }
    batch.insert(
        meta_key(META_HEIGHT),
        pending.height.to_be_bytes().as_slice(),
    );
    batch.insert(app_hash_key(pending.height), pending.app_hash.as_slice());
    // The history starts at the first commit: height 1, a chain's initial
    // height (one started from an export), or a restored snapshot's.
    if first {
        prune::mark_oldest(&mut batch, pending.height);
    }
    disk.tree.apply_batch(batch)?;
    disk.db.flush()?;
    // Only after the batch is on disk: a failed flush is fatal (the app
    // halts), else `latest` would describe a version that is not there.
    disk.latest.committed(pending.height, &values_of);
    Ok(())
}

/// After the block of `height` is on disk: prunes to `oldest`. Not
/// consensus: a failure is logged and leaves more on disk, nothing else.
pub(super) fn prune(disk: &Disk, height: u64, oldest: u64) {
    match prune::prune(&disk.tree, oldest) {
        Ok(n) => tracing::debug!(height, oldest, removed = n, "pruned"),
        Err(e) => tracing::warn!(height, error = %e, "pruning failed"),
    }
}

/// Adds the nodes of `batches` (each with its tree's node prefix).
pub(super) fn nodes(
    batch: &mut sled::Batch,
    batches: &[(u8, &NodeBatch)],
) -> Result<(), StoreError> {
    for (prefix, nodes) in batches {
        for (node_key, node) in nodes.nodes() {
            batch.insert(
                prefixed(*prefix, &borsh::to_vec(node_key).map_err(tree_err)?),
                borsh::to_vec(node).map_err(tree_err)?,
            );
        }
    }
    Ok(())
}

/// Adds one tree's values of the version to the batch
/// (`0`: deleted, `1` ‖ value).
pub(super) fn values(batch: &mut sled::Batch, node_batch: &NodeBatch, prefix: u8) {
    for ((version, key_hash), value) in node_batch.values() {
        let encoded = match value {
            None => vec![0u8],
            Some(v) => {
                let mut e = Vec::with_capacity(v.len().saturating_add(1));
                e.push(1u8);
                e.extend_from_slice(v);
                e
            }
        };
        batch.insert(value_key(prefix, key_hash, *version), encoded);
    }
}
