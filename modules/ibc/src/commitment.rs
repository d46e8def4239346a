//! The two-level commitment and its proofs.
//!
//! Both levels are Jellyfish Merkle trees (SHA-256), so both proofs follow
//! [`jmt::ics23_spec`]: a counterparty's 07-tendermint client of this chain
//! must carry [`proof_specs`] (two copies of that spec), not the IAVL/tendermint
//! specs of a Cosmos SDK chain.

use ibc::core::commitment_types::commitment::CommitmentRoot;
use ibc::core::commitment_types::error::CommitmentError;
use ibc::core::commitment_types::merkle::{MerklePath, MerkleProof};
use ibc::core::commitment_types::specs::ProofSpecs;
use ibc::core::host::types::path::PathBytes;
use ibc::primitives::proto::Protobuf;
use ics23::CommitmentProof;

use crate::keys::STORE_KEY;

/// Proof specs of this chain's commitments: the `ibc` sub-store, then the app
/// tree (ibc-rs orders specs innermost first).
pub fn proof_specs() -> ProofSpecs {
    // ibc-rs's conversion only rejects negative depths, non-positive child sizes
    // and unknown hash ops; the JMT spec has none of them (a unit test pins this).
    vec![jmt::ics23_spec(), jmt::ics23_spec()]
        .try_into()
        .unwrap_or_else(|_| unreachable!("jmt::ics23_spec() is a valid ibc-rs ProofSpec"))
}

/// A proof of one IBC path at one height: `[path in the ibc sub-store, sub-store
/// root in the app hash]`.
#[derive(Clone, Debug, PartialEq)]
pub struct IbcProof {
    pub in_ibc_store: CommitmentProof,
    pub ibc_root_in_app: CommitmentProof,
}

impl IbcProof {
    /// The ibc-rs form (what a `proof_*` field of an IBC message carries, encoded).
    pub fn to_merkle_proof(&self) -> MerkleProof {
        MerkleProof {
            proofs: vec![self.in_ibc_store.clone(), self.ibc_root_in_app.clone()],
        }
    }

    /// `MerkleProof` protobuf bytes, as relayers put them in IBC messages.
    pub fn to_bytes(&self) -> Vec<u8> {
        Protobuf::<ibc::core::commitment_types::proto::v1::MerkleProof>::encode_vec(
            self.to_merkle_proof(),
        )
    }
}

fn merkle_path(path: &[u8]) -> MerklePath {
    MerklePath::new(vec![
        PathBytes::from_bytes(STORE_KEY),
        PathBytes::from_bytes(path),
    ])
}

/// Checks with ibc-rs's own verifier that `value` is stored under `path` in the
/// IBC state committed by `app_hash`.
pub fn verify_membership(
    proof: &MerkleProof,
    app_hash: &[u8],
    path: &[u8],
    value: &[u8],
) -> Result<(), CommitmentError> {
    let root = CommitmentRoot::from_bytes(app_hash);
    proof.verify_membership::<ics23::HostFunctionsManager>(
        &proof_specs(),
        root.into(),
        merkle_path(path),
        value.to_vec(),
        0,
    )
}

/// Checks with ibc-rs's own verifier that nothing is stored under `path` in the
/// IBC state committed by `app_hash`.
pub fn verify_non_membership(
    proof: &MerkleProof,
    app_hash: &[u8],
    path: &[u8],
) -> Result<(), CommitmentError> {
    let root = CommitmentRoot::from_bytes(app_hash);
    proof.verify_non_membership::<ics23::HostFunctionsManager>(
        &proof_specs(),
        root.into(),
        merkle_path(path),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_declared_specs_are_two_jmt_specs_that_ibc_rs_accepts() {
        let specs = proof_specs();
        assert!(specs.validate().is_ok());
        let raw: Vec<ics23::ProofSpec> = specs.into();
        assert_eq!(raw, vec![jmt::ics23_spec(), jmt::ics23_spec()]);
    }
}
