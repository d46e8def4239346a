//! The state as a list of items for state sync, and its restore into an empty
//! store.
//!
//! A snapshot of height `h` is every key of both trees at version `h` with its
//! value: the app tree's keys by key hash (without the derived `ibc` root),
//! then the `ibc` sub-store's paths by key hash, as flat `ibc/<path>` keys.
//! The order depends only on the state, so every node cuts the same chunks
//! and CometBFT can fetch them from several peers. Restoring computes both
//! roots from the items alone; nothing is written unless the app hash they
//! give is the one CometBFT's light client trusts.

use std::collections::BTreeMap;
use std::sync::Arc;

use jmt::{JellyfishMerkleIterator, KeyHash};
use sha2::Sha256;

use super::error::StoreError;
use super::layout::{tree_err, Tree, P_IBC_NODE, P_IBC_VALUE, P_NODE, P_VALUE};
use super::{prune, AppHash, Store};

impl Store {
    /// Keeps version `height` whole (pruning stops short of it) until
    /// [`Store::unpin`]: a snapshot is read from it in the background.
    pub fn pin(&self, height: u64) {
        self.pins_mut().insert(height);
    }

    pub fn unpin(&self, height: u64) {
        self.pins_mut().remove(&height);
    }

    /// The oldest pinned version, if any.
    pub(super) fn oldest_pin(&self) -> Option<u64> {
        self.pins_mut().first().copied()
    }

    fn pins_mut(&self) -> std::sync::MutexGuard<'_, std::collections::BTreeSet<u64>> {
        // The set is only inserted into and removed from: a panic elsewhere
        // cannot leave it half-changed.
        self.pins.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Calls `f` with every key and value of the state at `height`, in
    /// snapshot order (see the module doc). Reads only version `height`, so
    /// it may run while later blocks commit, as long as `height` is pinned.
    pub fn for_each_item(
        &self,
        height: u64,
        mut f: impl FnMut(Vec<u8>, Vec<u8>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.check_height(height)?;
        let ibc_root_key = KeyHash::with::<Sha256>(verdict_ibc::STORE_KEY);
        for (nodes, values, flat) in [(P_NODE, P_VALUE, false), (P_IBC_NODE, P_IBC_VALUE, true)] {
            let tree = Arc::new(Tree {
                db: &self.tree,
                nodes,
                values,
            });
            let iter = JellyfishMerkleIterator::new(Arc::clone(&tree), height, KeyHash([0; 32]))
                .map_err(tree_err)?;
            for item in iter {
                let (key_hash, value) = item.map_err(tree_err)?;
                if !flat && key_hash == ibc_root_key {
                    continue;
                }
                let key = jmt::storage::HasPreimage::preimage(&*tree, key_hash)
                    .map_err(tree_err)?
                    .ok_or_else(|| {
                        StoreError::Tree(format!(
                            "no preimage of key hash {}",
                            hex::encode(key_hash.0)
                        ))
                    })?;
                let key = if flat {
                    [verdict_ibc::FLAT_PREFIX, key.as_slice()].concat()
                } else {
                    key
                };
                f(key, value)?;
            }
        }
        Ok(())
    }

    /// Writes the state of `height` from its items into this empty store, if
    /// and only if they give `app_hash`. Heights before `height` answer
    /// "pruned" afterwards; the store's history starts here.
    pub fn restore(
        &self,
        height: u64,
        items: BTreeMap<Vec<u8>, Vec<u8>>,
        app_hash: AppHash,
    ) -> Result<(), StoreError> {
        let committed = self.height()?;
        if committed != 0 {
            return Err(StoreError::Restore(format!(
                "the store already holds height {committed}: state sync needs an empty one"
            )));
        }
        let changes = items.into_iter().map(|(k, v)| (k, Some(v))).collect();
        let pending = self.prepare_commit(height, changes)?;
        if pending.app_hash != app_hash {
            return Err(StoreError::Restore(format!(
                "the snapshot's state hashes to {}, not the trusted app hash {} of height {height}",
                hex::encode_upper(pending.app_hash),
                hex::encode_upper(app_hash)
            )));
        }
        self.commit(pending)?;
        prune::mark_oldest(&self.tree, height)
    }
}
