//! What the store keeps in memory between commits (issue 18, commit time).
//! Neither is consensus state, and a store opened afresh starts with both
//! empty. A miss reads sled, except for the nodes of the block in flight
//! (`super::flight`): until the writer lands it they are only here, so the
//! cache never drops them (see [`NodeCache::committed`]).
//!
//! - [`NodeCache`]: JMT nodes of the trees' newest versions. Each block's
//!   hashing reads the nodes on the paths it rewrites, and reading them from
//!   sled (a lookup and a borsh decode each) was most of hashing a 1 000-write
//!   block. The cache holds what the last commits wrote and what hashing read
//!   from disk, and drops a node when a commit makes it stale (jmt lists
//!   those), so it holds the live trees, up to a bound. A node key names one
//!   node forever (version and nibble path), so a cached node is never out of
//!   date; pruning only deletes stale nodes.
//! - [`LatestVersions`]: per tree and key hash, the version of the key's newest
//!   value, for keys whose newest value is live (not a deletion). A commit needs, for every key
//!   it writes, the value it replaces (for pruning) and whether the key's
//!   preimage is stored; asking sled costs a reverse range scan and a lookup
//!   per key, about a fifth of a 1 000-write commit.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

use jmt::storage::{Node, NodeBatch, NodeKey, TreeUpdateBatch};

/// Past this many nodes the cache takes no more nodes read from disk (a
/// commit's own nodes always go in: they replace about as many stale ones);
/// past twice this a commit empties it first (never the block in flight's
/// nodes: they go in after). About 2 500 nodes change per 1 000 writes.
const MAX_NODES: usize = 1 << 18;

#[derive(Default)]
struct Live {
    /// By tree (node prefix), then node key.
    trees: BTreeMap<u8, BTreeMap<NodeKey, Node>>,
    len: usize,
}

impl Live {
    fn insert(&mut self, prefix: u8, key: NodeKey, node: Node) {
        if self
            .trees
            .entry(prefix)
            .or_default()
            .insert(key, node)
            .is_none()
        {
            self.len = self.len.saturating_add(1);
        }
    }
}

/// Nodes of the trees' newest versions: those the last commits wrote and
/// those hashing read from disk, until a commit makes them stale.
#[derive(Default)]
pub(super) struct NodeCache {
    live: Mutex<Live>,
}

impl NodeCache {
    pub(super) fn get(&self, prefix: u8, key: &NodeKey) -> Option<Node> {
        // The cache holds the block in flight's nodes (not yet on disk): a
        // poisoned lock must not turn into a miss. Every update is a single
        // map operation, so a panic elsewhere cannot leave one half done.
        let live = self.live.lock().unwrap_or_else(PoisonError::into_inner);
        live.trees.get(&prefix)?.get(key).cloned()
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.live.lock().map_or(0, |l| l.len)
    }

    /// A node hashing read from disk: one of the newest version's (hashing
    /// walks down from its root), so it stays until a commit replaces it.
    pub(super) fn read(&self, prefix: u8, key: &NodeKey, node: &Node) {
        let mut live = self.live.lock().unwrap_or_else(PoisonError::into_inner);
        if live.len < MAX_NODES {
            live.insert(prefix, key.clone(), node.clone());
        }
    }

    /// After a commit: drops the nodes it made stale and adds those it wrote
    /// (`batches`: each with its tree's node prefix).
    pub(super) fn committed(&self, batches: &[(u8, &TreeUpdateBatch)]) {
        let mut live = self.live.lock().unwrap_or_else(PoisonError::into_inner);
        if live.len > MAX_NODES.saturating_mul(2) {
            *live = Live::default();
        }
        for (prefix, batch) in batches {
            for stale in &batch.stale_node_index_batch {
                let gone = live
                    .trees
                    .get_mut(prefix)
                    .and_then(|t| t.remove(&stale.node_key));
                if gone.is_some() {
                    live.len = live.len.saturating_sub(1);
                }
            }
            for (node_key, node) in batch.node_batch.nodes() {
                live.insert(*prefix, node_key.clone(), node.clone());
            }
        }
    }
}

/// Past this many keys the map is emptied and refills from the next commits
/// (about 20 MB at most; the keys a chain writes often come back at once).
const MAX_KEYS: usize = 1 << 18;

/// A tree's value prefix and a key hash.
type TreeKey = (u8, [u8; 32]);

/// The version of the newest value of each key a commit of this process last
/// wrote as live (a deletion takes the key out).
#[derive(Default)]
pub(super) struct LatestVersions {
    keys: Mutex<BTreeMap<TreeKey, u64>>,
}

impl LatestVersions {
    /// The version of the newest, live value of `key_hash` in the tree with
    /// value prefix `tree`; `None` when this process did not last write it live.
    pub(super) fn get(&self, tree: u8, key_hash: &[u8; 32]) -> Option<u64> {
        self.keys.lock().ok()?.get(&(tree, *key_hash)).copied()
    }

    /// After a commit: `written` holds, per tree value prefix, the values the
    /// commit wrote at `version` (`None`: deleted).
    pub(super) fn committed(&self, version: u64, written: &[(u8, &NodeBatch)]) {
        let Ok(mut keys) = self.keys.lock() else {
            return;
        };
        if keys.len() > MAX_KEYS {
            keys.clear();
        }
        for (tree, batch) in written {
            for ((_, key_hash), value) in batch.values() {
                match value {
                    Some(_) => keys.insert((*tree, key_hash.0), version),
                    None => keys.remove(&(*tree, key_hash.0)),
                };
            }
        }
    }
}
