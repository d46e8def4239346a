//! What a commit adds to its one atomic batch, beside the latest values and
//! the stale records (`prune::record_stale`): a version's JMT nodes, its
//! values, and the preimages of keys new to the store.

use std::collections::BTreeSet;

use jmt::storage::NodeBatch;
use sha2::Sha256;

use super::error::StoreError;
use super::layout::{prefixed, tree_err, value_key, P_PREIMAGE};

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

/// Adds the preimage of each of `tree_keys` (keys as their
/// tree knows them) whose hash is in `missing` (see `prune::record_stale`).
pub(super) fn preimages<'a>(
    batch: &mut sled::Batch,
    missing: &BTreeSet<[u8; 32]>,
    tree_keys: impl IntoIterator<Item = &'a [u8]>,
) {
    if missing.is_empty() {
        return;
    }
    for key in tree_keys {
        let hash = jmt::KeyHash::with::<Sha256>(key).0;
        if missing.contains(&hash) {
            batch.insert(prefixed(P_PREIMAGE, &hash), key);
        }
    }
}
