//! What the store keeps in memory between commits (issue 18, commit time).
//! Neither is consensus: a miss reads sled, and a store opened afresh starts
//! with both empty.
//!
//! - [`NodeCache`]: the JMT nodes of the last few commits. Each block's
//!   hashing reads the nodes on the paths it rewrites; the upper levels were
//!   all written by the previous commits, and reading them back from sled (a
//!   lookup and a borsh decode each) cost about a third of hashing a 1 000-write
//!   block. A node key names one node forever (version and nibble path), so a
//!   cached node is never out of date; pruning only deletes nodes of versions
//!   no read reaches.
//! - [`LatestVersions`]: per tree and key hash, the version of the key's newest
//!   value, for keys whose newest value is live (not a deletion). A commit needs, for every key
//!   it writes, the value it replaces (for pruning) and whether the key's
//!   preimage is stored; asking sled costs a reverse range scan and a lookup
//!   per key, about a fifth of a 1 000-write commit.

use std::collections::BTreeMap;
use std::sync::Mutex;

use jmt::storage::{Node, NodeBatch, NodeKey};

/// How many commits' nodes are kept (about 2 500 nodes each for 1 000 writes).
const VERSIONS: u64 = 4;

/// One commit's nodes, by tree prefix and node key.
type Commit = BTreeMap<(u8, NodeKey), Node>;

/// The nodes of the last [`VERSIONS`] commits, by version.
#[derive(Default)]
pub(super) struct NodeCache {
    nodes: Mutex<BTreeMap<u64, Commit>>,
}

impl NodeCache {
    pub(super) fn get(&self, prefix: u8, key: &NodeKey) -> Option<Node> {
        let nodes = self.nodes.lock().ok()?;
        nodes
            .get(&key.version())?
            .get(&(prefix, key.clone()))
            .cloned()
    }

    /// After commit `version`: adds its nodes (`batches`: each with its tree's
    /// node prefix) and drops those of commits `VERSIONS` or more before.
    pub(super) fn committed(&self, version: u64, batches: &[(u8, &NodeBatch)]) {
        let Ok(mut nodes) = self.nodes.lock() else {
            return;
        };
        let keep_from = version.saturating_sub(VERSIONS - 1);
        while nodes.first_key_value().is_some_and(|(v, _)| *v < keep_from) {
            nodes.pop_first();
        }
        for (prefix, batch) in batches {
            for (node_key, node) in batch.nodes() {
                // By the node key's own version, which is what a lookup asks:
                // jmt files an empty tree's root of version `v` under `v - 1`.
                nodes
                    .entry(node_key.version())
                    .or_default()
                    .insert((*prefix, node_key.clone()), node.clone());
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
