//! The on-disk layout: key prefixes of the one sled tree, and the two JMTs
//! (the app tree and the `ibc` sub-store) read and written under their own
//! node and value prefixes.

use jmt::storage::{HasPreimage, LeafNode, Node, NodeKey, TreeReader, TreeUpdateBatch};
use jmt::{KeyHash, OwnedValue, Version};

use super::error::StoreError;

pub(super) const P_NODE: u8 = b'n';
pub(super) const P_VALUE: u8 = b'v';
pub(super) const P_IBC_NODE: u8 = b'N';
pub(super) const P_IBC_VALUE: u8 = b'V';
pub(super) const P_PREIMAGE: u8 = b'p';
pub(super) const P_LATEST: u8 = b'l';
pub(super) const P_META: u8 = b'm';

pub(super) const META_HEIGHT: &[u8] = b"height";
pub(super) const META_APP_HASH_AT: &[u8] = b"app_hash/";

pub(super) fn prefixed(prefix: u8, key: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(key.len().saturating_add(1));
    out.push(prefix);
    out.extend_from_slice(key);
    out
}

pub(super) fn value_key(prefix: u8, key_hash: &KeyHash, version: Version) -> Vec<u8> {
    let mut out = Vec::with_capacity(41);
    out.push(prefix);
    out.extend_from_slice(&key_hash.0);
    out.extend_from_slice(&version.to_be_bytes());
    out
}

pub(super) fn meta_key(name: &[u8]) -> Vec<u8> {
    prefixed(P_META, name)
}

pub(super) fn app_hash_key(height: u64) -> Vec<u8> {
    let mut k = META_APP_HASH_AT.to_vec();
    k.extend_from_slice(&height.to_be_bytes());
    meta_key(&k)
}

/// A value set of one of the two trees.
pub(super) type ValueSet = Vec<(KeyHash, Option<OwnedValue>)>;

/// Splits flat keys into the app tree's value set and the `ibc` sub-store's
/// (`ibc/<path>` is `<path>` there).
pub(super) fn split_sets<'a>(
    items: impl IntoIterator<Item = (&'a [u8], Option<&'a [u8]>)>,
) -> (ValueSet, ValueSet) {
    let (mut app, mut ibc) = (Vec::new(), Vec::new());
    for (k, v) in items {
        let v = v.map(<[u8]>::to_vec);
        match k.strip_prefix(verdict_ibc::FLAT_PREFIX) {
            Some(path) => ibc.push((KeyHash::with::<sha2::Sha256>(path), v)),
            None => app.push((KeyHash::with::<sha2::Sha256>(k), v)),
        }
    }
    (app, ibc)
}

/// The app tree's entry holding the `ibc` sub-store's root.
pub(super) fn ibc_root_entry(root: [u8; 32]) -> (KeyHash, Option<OwnedValue>) {
    (
        KeyHash::with::<sha2::Sha256>(verdict_ibc::STORE_KEY),
        Some(root.to_vec()),
    )
}

pub(super) fn tree_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Tree(e.to_string())
}

/// Adds one tree's new nodes and values to the block's write batch.
pub(super) fn write_tree_batch(
    batch: &mut sled::Batch,
    tree_batch: &TreeUpdateBatch,
    nodes: u8,
    values: u8,
) -> Result<(), StoreError> {
    for (node_key, node) in tree_batch.node_batch.nodes() {
        batch.insert(
            prefixed(nodes, &borsh::to_vec(node_key).map_err(tree_err)?),
            borsh::to_vec(node).map_err(tree_err)?,
        );
    }
    for ((version, key_hash), value) in tree_batch.node_batch.values() {
        let encoded = match value {
            None => vec![0u8],
            Some(v) => {
                let mut e = Vec::with_capacity(v.len().saturating_add(1));
                e.push(1u8);
                e.extend_from_slice(v);
                e
            }
        };
        batch.insert(value_key(values, key_hash, *version), encoded);
    }
    Ok(())
}

/// One of the store's two JMTs: the same sled tree under its own node and value
/// prefixes (preimages are shared: a key hash names the same bytes in both).
pub(super) struct Tree<'a> {
    pub(super) db: &'a sled::Tree,
    pub(super) nodes: u8,
    pub(super) values: u8,
    /// The last commits' nodes, looked up before sled.
    pub(super) cache: Option<&'a super::cache::NodeCache>,
}

impl TreeReader for Tree<'_> {
    fn get_node_option(&self, node_key: &NodeKey) -> anyhow::Result<Option<Node>> {
        let k = prefixed(self.nodes, &borsh::to_vec(node_key)?);
        if let Some(node) = self.cache.and_then(|c| c.get(&k)) {
            return Ok(Some(node));
        }
        match self.db.get(k)? {
            None => Ok(None),
            Some(bytes) => Ok(Some(borsh::from_slice(&bytes)?)),
        }
    }

    fn get_value_option(
        &self,
        max_version: Version,
        key_hash: KeyHash,
    ) -> anyhow::Result<Option<OwnedValue>> {
        // Newest entry for this key hash at or below max_version.
        let lo = value_key(self.values, &key_hash, 0);
        let hi = value_key(self.values, &key_hash, max_version);
        match self.db.range(lo..=hi).next_back() {
            None => Ok(None),
            Some(item) => {
                let (_, v) = item?;
                match v.first() {
                    Some(1) => Ok(Some(v[1..].to_vec())),
                    Some(0) => Ok(None),
                    _ => Err(anyhow::anyhow!("corrupt value record")),
                }
            }
        }
    }

    fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(NodeKey, LeafNode)>> {
        // Only state-sync restore needs this; Verdict does not restore JMTs that way.
        Err(anyhow::anyhow!("get_rightmost_leaf is not supported"))
    }
}

impl HasPreimage for Tree<'_> {
    fn preimage(&self, key_hash: KeyHash) -> anyhow::Result<Option<Vec<u8>>> {
        Ok(self
            .db
            .get(prefixed(P_PREIMAGE, &key_hash.0))?
            .map(|v| v.to_vec()))
    }
}
