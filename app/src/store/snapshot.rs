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
use super::layout::{
    ibc_root_entry, split_sets, tree_err, Tree, P_IBC_NODE, P_IBC_VALUE, P_NODE, P_VALUE,
};
use super::{AppHash, Store};

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
        // The walk reads nodes from disk only: the block in flight first lands.
        self.sync()?;
        let ibc_root_key = KeyHash::with::<Sha256>(verdict_ibc::STORE_KEY);
        // An empty ibc sub-store has no root node at `height` (store/ibc.rs): no items.
        let ibc_empty = self.ibc_store_empty_at(height)?;
        for (nodes, values, flat) in [(P_NODE, P_VALUE, false), (P_IBC_NODE, P_IBC_VALUE, true)] {
            if flat && ibc_empty {
                continue;
            }
            let tree = Arc::new(Tree {
                db: &self.tree,
                nodes,
                values,
                cache: None,
                fill: false,
                flight: None,
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
        // The reserved key `ibc` among the items is refused by prepare_commit.
        let changes = items.into_iter().map(|(k, v)| (k, Some(v))).collect();
        // Whatever the items make the trees fail on is the snapshot's fault;
        // only the disk is ours.
        let pending = self.prepare_commit(height, changes).map_err(|e| match e {
            StoreError::Sled(_) => e,
            other => StoreError::Restore(other.to_string()),
        })?;
        if pending.app_hash != app_hash {
            return Err(StoreError::Restore(format!(
                "the snapshot's state hashes to {}, not the trusted app hash {} of height {height}",
                hex::encode_upper(pending.app_hash),
                hex::encode_upper(app_hash)
            )));
        }
        self.commit(pending)?;
        Ok(())
    }

    /// True when this store holds exactly the state of `height` with
    /// `app_hash`: a restore that was written before a crash (CometBFT
    /// offers the snapshot again) need not be written twice.
    pub fn holds(&self, height: u64, app_hash: &AppHash) -> Result<bool, StoreError> {
        Ok(self.height()? == height && self.app_hash_at(height)?.as_ref() == Some(app_hash))
    }
}

/// A tree with nothing in it: the base on which [`state_root`] builds.
struct Empty;

impl jmt::storage::TreeReader for Empty {
    fn get_node_option(
        &self,
        _: &jmt::storage::NodeKey,
    ) -> anyhow::Result<Option<jmt::storage::Node>> {
        Ok(None)
    }

    fn get_value_option(
        &self,
        _: jmt::Version,
        _: KeyHash,
    ) -> anyhow::Result<Option<jmt::OwnedValue>> {
        Ok(None)
    }

    fn get_rightmost_leaf(
        &self,
    ) -> anyhow::Result<Option<(jmt::storage::NodeKey, jmt::storage::LeafNode)>> {
        Ok(None)
    }
}

/// The app hash a state of these items has (the app tree over the `ibc`
/// sub-store's root, as [`Store::prepare_commit`] builds them), computed in
/// memory: how an exported genesis is checked against the hash it names.
pub fn state_root<'a>(
    items: impl IntoIterator<Item = (&'a [u8], &'a [u8])>,
) -> Result<AppHash, StoreError> {
    let items: Vec<(&[u8], &[u8])> = items.into_iter().collect();
    if let Some((k, _)) = items.iter().find(|(k, _)| *k == verdict_ibc::STORE_KEY) {
        return Err(StoreError::ReservedKey {
            key: String::from_utf8_lossy(k).into_owned(),
        });
    }
    let (mut app, ibc) = split_sets(items.into_iter().map(|(k, v)| (k, Some(v))), None);
    let (ibc_root, _) = jmt::Sha256Jmt::new(&Empty)
        .put_value_set(ibc, 1)
        .map_err(tree_err)?;
    app.push(ibc_root_entry(ibc_root.0));
    let (root, _) = jmt::Sha256Jmt::new(&Empty)
        .put_value_set(app, 1)
        .map_err(tree_err)?;
    Ok(root.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_root_of_items_is_the_committed_app_hash() {
        let d = tempfile::tempdir().expect("tmp");
        let s = Store::open(d.path()).expect("open");
        let items: BTreeMap<Vec<u8>, Option<Vec<u8>>> = [
            (b"a".to_vec(), Some(b"1".to_vec())),
            (b"ibc/clients/x".to_vec(), Some(b"2".to_vec())),
        ]
        .into_iter()
        .collect();
        let hash = s
            .commit(s.prepare_commit(9, items.clone()).expect("prep"))
            .expect("commit");
        let flat: Vec<(Vec<u8>, Vec<u8>)> = items
            .into_iter()
            .map(|(k, v)| (k, v.expect("value")))
            .collect();
        let root = state_root(flat.iter().map(|(k, v)| (k.as_slice(), v.as_slice())));
        assert_eq!(root.expect("root"), hash);
        assert!(state_root([(b"ibc".as_slice(), b"x".as_slice())]).is_err());
    }
}
