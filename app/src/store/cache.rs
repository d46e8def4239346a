//! The JMT nodes of the last few commits, in memory (issue 18, commit time).
//!
//! Each block's `put_value_set` reads the nodes on the paths it rewrites: the
//! upper levels were all written by the previous commits, so reading them back
//! from sled (a lookup and a borsh decode each) cost about a third of hashing
//! a 1 000-write block. A node key names one node forever (version and nibble
//! path), so a cached node is never out of date; pruning only deletes nodes of
//! versions no read reaches. Not consensus: a miss reads sled.

use std::collections::BTreeMap;
use std::sync::Mutex;

use jmt::storage::{Node, NodeBatch};

/// How many commits' nodes are kept (about 2 500 nodes each for 1 000 writes).
const VERSIONS: u64 = 4;

/// Key: the node's sled key (tree prefix ‖ borsh(NodeKey)).
#[derive(Default)]
pub(super) struct NodeCache {
    nodes: Mutex<BTreeMap<Vec<u8>, (u64, Node)>>,
}

impl NodeCache {
    pub(super) fn get(&self, key: &[u8]) -> Option<Node> {
        let nodes = self.nodes.lock().ok()?;
        nodes.get(key).map(|(_, n)| n.clone())
    }

    /// After commit `version`: adds its nodes (`batches`: each with its tree's
    /// node prefix) and drops those of commits `VERSIONS` or more before.
    pub(super) fn committed(&self, version: u64, batches: &[(u8, &NodeBatch)]) {
        let Ok(mut nodes) = self.nodes.lock() else {
            return;
        };
        let keep_from = version.saturating_sub(VERSIONS - 1);
        nodes.retain(|_, (v, _)| *v >= keep_from);
        for (prefix, batch) in batches {
            for (node_key, node) in batch.nodes() {
                if let Ok(k) = borsh::to_vec(node_key) {
                    nodes.insert(
                        super::layout::prefixed(*prefix, &k),
                        (version, node.clone()),
                    );
                }
            }
        }
    }
}
