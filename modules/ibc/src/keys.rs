//! Keys this crate writes outside the ICS-24 paths (which are built by ibc-rs's
//! `path` types and stored under [`crate::flat_key`]).
//!
//! These live in the app tree, not the `ibc` sub-store: counterparties never
//! need proofs of them.

/// `ibc_host/consensus/<height BE>` → the host's own 07-tendermint consensus
/// state at that height (protobuf `Any`), recorded in FinalizeBlock.
pub fn host_consensus(height: u64) -> Vec<u8> {
    let mut k = b"ibc_host/consensus/".to_vec();
    k.extend_from_slice(&height.to_be_bytes());
    k
}

/// Prefix of [`consensus_height`] keys of one client.
pub fn consensus_heights_prefix(client_id: &str) -> Vec<u8> {
    let mut k = b"ibc_index/consensus_heights/".to_vec();
    k.extend_from_slice(client_id.as_bytes());
    k.push(b'/');
    k
}

/// `ibc_index/consensus_heights/<client>/<revision BE><height BE>` → `[1]`: the
/// heights a client has consensus states for, in height order (ICS-24 paths
/// sort as strings, so they cannot answer "next/previous height").
pub fn consensus_height(client_id: &str, revision: u64, height: u64) -> Vec<u8> {
    let mut k = consensus_heights_prefix(client_id);
    k.extend_from_slice(&revision.to_be_bytes());
    k.extend_from_slice(&height.to_be_bytes());
    k
}

/// The end of a prefix range: the prefix with its last byte incremented.
pub fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last.saturating_add(1));
            return end;
        }
    }
    end
}
