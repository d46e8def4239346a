//! Reads of the `ibc` sub-store, with and without their two-level proofs.
//!
//! A sub-store nothing was ever written to (a chain before its first IBC
//! client, or one whose IBC state was all deleted) has the empty root, and
//! `jmt` keeps no root node for it at that version (for an empty tree it
//! writes the null root under the version before): reading it as a tree fails
//! with "missing root node, probably pruned". Such heights are recognised by
//! the root the app tree commits for the sub-store: a read finds nothing, and a
//! proof is refused with [`StoreError::EmptyIbcStore`] (ICS-23 has no absence
//! proof in an empty tree: it needs a neighbour), and a snapshot's walk
//! (`Store::for_each_item`) has no ibc items to give.

use jmt::{KeyHash, Sha256Jmt};
use sha2::Sha256;

use super::layout::tree_err;
use super::{Store, StoreError};

impl Store {
    /// Value of the IBC path `path` (an ICS-24 path, without the flat `ibc/`
    /// prefix) as committed at `height`.
    pub fn get_ibc_at(&self, path: &[u8], height: u64) -> Result<Option<Vec<u8>>, StoreError> {
        self.check_height(height)?;
        if self.ibc_store_empty_at(height)? {
            return Ok(None);
        }
        let ibc_tree = self.ibc_tree();
        Sha256Jmt::new(&ibc_tree)
            .get(KeyHash::with::<Sha256>(path), height)
            .map_err(tree_err)
    }

    /// Value of the IBC path `path` (an ICS-24 path, without the flat `ibc/`
    /// prefix) at `height`, with its two-level proof against that height's app
    /// hash: existence or non-existence in the `ibc` sub-store, then the
    /// sub-store root under `ibc` in the app tree.
    pub fn get_ibc_with_proof(
        &self,
        path: &[u8],
        height: u64,
    ) -> Result<(Option<Vec<u8>>, verdict_ibc::IbcProof), StoreError> {
        self.check_height(height)?;
        // The sub-store's root in the app tree first: it says whether there is
        // a sub-store tree to prove in.
        let app_tree = self.app_tree();
        let (root, ibc_root_in_app) = Sha256Jmt::new(&app_tree)
            .get_with_ics23_proof(verdict_ibc::STORE_KEY.to_vec(), height)
            .map_err(tree_err)?;
        match root {
            None => {
                return Err(StoreError::Inconsistent {
                    path: self.path.clone(),
                    what: format!("no ibc sub-store root in the app tree at height {height}"),
                })
            }
            Some(r) if is_empty_root(&r) => return Err(StoreError::EmptyIbcStore { height }),
            Some(_) => {}
        }
        let ibc_tree = self.ibc_tree();
        let (value, in_ibc_store) = Sha256Jmt::new(&ibc_tree)
            .get_with_ics23_proof(path.to_vec(), height)
            .map_err(tree_err)?;
        Ok((
            value,
            verdict_ibc::IbcProof {
                in_ibc_store,
                ibc_root_in_app,
            },
        ))
    }

    /// Whether the `ibc` sub-store is empty at `height` (a checked height), by
    /// the root the app tree holds for it.
    pub(super) fn ibc_store_empty_at(&self, height: u64) -> Result<bool, StoreError> {
        let app_tree = self.app_tree();
        let root = Sha256Jmt::new(&app_tree)
            .get(KeyHash::with::<Sha256>(verdict_ibc::STORE_KEY), height)
            .map_err(tree_err)?;
        Ok(root.as_deref().is_some_and(is_empty_root))
    }
}

/// Whether a committed sub-store root is the empty tree's.
fn is_empty_root(root: &[u8]) -> bool {
    root == Sha256Jmt::<super::layout::Tree>::EMPTY_ROOT.0
}
