//! The on-disk layout: key prefixes of the one sled tree, and the two JMTs
//! (the app tree and the `ibc` sub-store) read and written under their own
//! node and value prefixes.

use jmt::storage::{HasPreimage, LeafNode, Node, NodeKey, TreeReader, TreeUpdateBatch};
use jmt::{KeyHash, OwnedValue, RootHash, Sha256Jmt, Version};

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

/// Key hash → key as its tree knows it: what a commit may store as preimages.
pub(super) type Preimages = std::collections::BTreeMap<[u8; 32], Vec<u8>>;

/// Splits flat keys into the app tree's value set and the `ibc` sub-store's
/// (`ibc/<path>` is `<path>` there), hashing each key once; `preimages`
/// (when asked for) gets every key by its hash.
pub(super) fn split_sets<'a>(
    items: impl IntoIterator<Item = (&'a [u8], Option<&'a [u8]>)>,
    mut preimages: Option<&mut Preimages>,
) -> (ValueSet, ValueSet) {
    let (mut app, mut ibc) = (Vec::new(), Vec::new());
    for (k, v) in items {
        let v = v.map(<[u8]>::to_vec);
        let (set, key) = match k.strip_prefix(verdict_ibc::FLAT_PREFIX) {
            Some(path) => (&mut ibc, path),
            None => (&mut app, k),
        };
        let hash = KeyHash::with::<sha2::Sha256>(key);
        if let Some(p) = preimages.as_deref_mut() {
            p.insert(hash.0, key.to_vec());
        }
        set.push((hash, v));
    }
    (app, ibc)
}

/// Puts one tree's change set at `version`: its root and the nodes to write.
///
/// jmt's per-key insertion (`put_value_set`) walks down from the root for every
/// key and rehashes each node on the path every time, so the upper nodes of a
/// 1 000-write block were hashed hundreds of times over; its batch insertion
/// builds and hashes each touched node once (issue 18, commit time). The batch
/// form cannot delete, refuses an empty set and needs a previous root, so a
/// set with a deletion, an empty one, or a tree's first version takes the
/// per-key path. Both give the same tree, root and
/// stale nodes (a JMT's shape is a function of its key set):
/// `tests::batch_and_per_key_insertion_agree` checks it.
pub(super) fn put_set<R: TreeReader>(
    tree: &Sha256Jmt<'_, R>,
    set: ValueSet,
    version: Version,
) -> Result<(RootHash, TreeUpdateBatch), StoreError> {
    // Batch insertion also needs the previous version's root (the first
    // commit, or one above a chain's initial height, starts from none).
    let previous = match version.checked_sub(1) {
        Some(v) => tree.get_root_hash_option(v).map_err(tree_err)?,
        None => None,
    };
    if previous.is_none() || set.is_empty() || set.iter().any(|(_, v)| v.is_none()) {
        return tree.put_value_set(set, version).map_err(tree_err);
    }
    let set = set.into_iter().filter_map(|(k, v)| Some((k, v?))).collect();
    let (roots, batch) = tree
        .batch_put_value_sets(vec![set], None, version)
        .map_err(tree_err)?;
    let root = roots
        .first()
        .copied()
        .ok_or_else(|| StoreError::Tree("batch insertion returned no root".into()))?;
    Ok((root, batch))
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

/// One of the store's two JMTs: the same sled tree under its own node and value
/// prefixes (preimages are shared: a key hash names the same bytes in both).
pub(super) struct Tree<'a> {
    pub(super) db: &'a sled::Tree,
    pub(super) nodes: u8,
    pub(super) values: u8,
    /// The newest versions' nodes, looked up before sled.
    pub(super) cache: Option<&'a super::cache::NodeCache>,
    /// Hashing: nodes read from sled go into `cache` (they are live).
    pub(super) fill: bool,
    /// The block not yet on disk, whose values and preimages come first.
    pub(super) flight: Option<std::sync::Arc<super::flight::Inflight>>,
}

impl TreeReader for Tree<'_> {
    fn get_node_option(&self, node_key: &NodeKey) -> anyhow::Result<Option<Node>> {
        if let Some(node) = self.cache.and_then(|c| c.get(self.nodes, node_key)) {
            return Ok(Some(node));
        }
        let k = prefixed(self.nodes, &borsh::to_vec(node_key)?);
        let Some(bytes) = self.db.get(k)? else {
            return Ok(None);
        };
        let node: Node = borsh::from_slice(&bytes)?;
        if let Some(cache) = self.cache.filter(|_| self.fill) {
            cache.read(self.nodes, node_key, &node);
        }
        Ok(Some(node))
    }

    fn get_value_option(
        &self,
        max_version: Version,
        key_hash: KeyHash,
    ) -> anyhow::Result<Option<OwnedValue>> {
        if let Some(v) = self
            .flight
            .as_ref()
            .and_then(|f| f.value(self.values, max_version, key_hash))
        {
            return Ok(v);
        }
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
        if let Some(key) = self.flight.as_ref().and_then(|f| f.preimage(key_hash)) {
            return Ok(Some(key));
        }
        Ok(self
            .db
            .get(prefixed(P_PREIMAGE, &key_hash.0))?
            .map(|v| v.to_vec()))
    }
}

impl TreeReader for super::Store {
    fn get_node_option(&self, node_key: &NodeKey) -> anyhow::Result<Option<Node>> {
        self.app_tree().get_node_option(node_key)
    }

    fn get_value_option(
        &self,
        max_version: Version,
        key_hash: KeyHash,
    ) -> anyhow::Result<Option<OwnedValue>> {
        self.app_tree().get_value_option(max_version, key_hash)
    }

    fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(NodeKey, LeafNode)>> {
        self.app_tree().get_rightmost_leaf()
    }
}

impl HasPreimage for super::Store {
    fn preimage(&self, key_hash: KeyHash) -> anyhow::Result<Option<Vec<u8>>> {
        self.app_tree().preimage(key_hash)
    }
}
