//! Where this crate's state lives in the store.
//!
//! - ICS-24 paths (built by ibc-rs's `path` types) go to the `ibc` sub-store,
//!   committed under [`STORE_KEY`]; modules write them through the flat key
//!   [`flat_key`] (`FLAT_PREFIX ‖ path`).
//! - Bookkeeping counterparties never need proofs of (the host's own consensus
//!   states, the per-client consensus height index) lives in the app tree under
//!   the raw keys built here.
//! - The inference application's tables are in
//!   [`crate::inference_app`] (`ibc_inference/…`), crate-private.
//!
//! The key-layout tests (`keys/layout_tests.rs`) pin every namespace and
//! prefix: a change to any of them changes the app hash and must be deliberate.

/// Key of the `ibc` sub-store root in the app-state tree, and the commitment
/// prefix this chain announces to counterparties.
pub const STORE_KEY: &[u8] = b"ibc";

/// Prefix of IBC paths in the flat key space modules write through: the store
/// puts `FLAT_PREFIX ‖ path` into the `ibc` sub-store under `path`.
pub const FLAT_PREFIX: &[u8] = b"ibc/";

/// The flat key of an ICS-24 path.
pub fn flat_key(path: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(FLAT_PREFIX.len().saturating_add(path.len()));
    k.extend_from_slice(FLAT_PREFIX);
    k.extend_from_slice(path);
    k
}

/// The upgrade path this chain announces (ibc-go's, which every Cosmos SDK chain
/// uses and stock relayers put into the clients they create); a counterparty's
/// client of this chain must carry it (ICS-03 `validate_self_client`). Verdict
/// has no upgrade module yet: nothing is ever written there.
pub fn upgrade_path() -> Vec<String> {
    vec!["upgrade".to_string(), "upgradedIBCState".to_string()]
}

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

#[cfg(test)]
mod layout_tests;
