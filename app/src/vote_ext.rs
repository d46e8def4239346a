//! Vote extensions: what a validator attaches to its precommit, how others check
//! it, and the reserved tx[0] that carries the previous height's extensions into
//! the block.
//!
//! The shape follows the known failure modes of CometBFT 0.38 vote extensions
//! (see docs/reference.md): verification accepts everything an honest `ExtendVote`
//! produces; the proposer re-verifies and prunes before injecting; validation of
//! the injected tx checks every signature against the validator set in state and
//! never trusts a power the proposer supplies.

use std::collections::{BTreeMap, BTreeSet};

use prost::Message;
use tendermint_proto::v0_38::abci::{CommitInfo, ExtendedCommitInfo};
use tendermint_proto::v0_38::types::CanonicalVoteExtension;
use verdict_proto::app::v1::{
    InjectedVote, InjectedVoteExtensions, VoteExtension, INJECTED_TX_MARKER,
};

/// Version of the extension envelope this binary produces and accepts.
pub const VOTE_EXTENSION_VERSION: u32 = 1;

/// `BlockIDFlag` value of a precommit for the block (CometBFT `types.proto`).
const BLOCK_ID_FLAG_COMMIT: i32 = 2;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VoteExtensionError {
    #[error("vote extension is {len} bytes, above the cap of {cap}")]
    TooLarge { len: usize, cap: usize },
    #[error("vote extension does not decode: {0}")]
    Decode(String),
    #[error("vote extension version {0} is not supported (want {VOTE_EXTENSION_VERSION})")]
    Version(u32),
    #[error("vote extension is not in canonical encoding")]
    NotCanonical,
    #[error("vote extension payload: {0}")]
    Payload(String),
    #[error("injected tx is missing: block {height} must start with the vote extensions of height {prev}", prev = .height - 1)]
    MissingInjected { height: i64 },
    #[error("injected tx found where none is allowed (position {0})")]
    UnexpectedInjected(usize),
    #[error("injected tx is for height {got}, want {want}")]
    WrongHeight { got: i64, want: i64 },
    #[error("injected tx round {got} differs from the commit round {want}")]
    WrongRound { got: i32, want: i32 },
    #[error("validator {0} is not in the validator set")]
    UnknownValidator(String),
    #[error("validator {0} appears twice")]
    Duplicate(String),
    #[error("validator {0} did not precommit the block in the last commit")]
    NotInCommit(String),
    #[error("bad extension signature from validator {0}")]
    BadSignature(String),
    #[error("bad extension from validator {addr}: {reason}")]
    BadExtension { addr: String, reason: String },
    #[error("extensions carry {signed} of {total} voting power, need more than 2/3")]
    InsufficientPower { signed: u128, total: u128 },
}

/// A validator as the extension checks need it: key and power from state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidatorKey {
    pub pub_key: [u8; 32],
    pub power: u64,
}

/// Validator set keyed by 20-byte address.
pub type ValidatorSet = BTreeMap<Vec<u8>, ValidatorKey>;

/// The extension of a validator with nothing to attest (no sidecar, no jobs).
pub fn empty_extension() -> Vec<u8> {
    VoteExtension {
        version: VOTE_EXTENSION_VERSION,
        ..Default::default()
    }
    .encode_to_vec()
}

/// Deterministic, cheap, bounded check of one extension: size before decoding,
/// then format. Used by VerifyVoteExtension, PrepareProposal and ProcessProposal.
pub fn check_extension(bytes: &[u8], cap: usize) -> Result<VoteExtension, VoteExtensionError> {
    if bytes.len() > cap {
        return Err(VoteExtensionError::TooLarge {
            len: bytes.len(),
            cap,
        });
    }
    let ve = VoteExtension::decode(bytes).map_err(|e| VoteExtensionError::Decode(e.to_string()))?;
    if ve.version != VOTE_EXTENSION_VERSION {
        return Err(VoteExtensionError::Version(ve.version));
    }
    // Unknown fields or non-minimal encodings would let two byte strings mean the
    // same extension; only the canonical form is accepted.
    if ve.encode_to_vec() != bytes {
        return Err(VoteExtensionError::NotCanonical);
    }
    verdict_attestation::check_payload(&ve).map_err(VoteExtensionError::Payload)?;
    Ok(ve)
}

/// The bytes CometBFT signs for a vote extension.
pub fn extension_sign_bytes(extension: &[u8], height: i64, round: i64, chain_id: &str) -> Vec<u8> {
    CanonicalVoteExtension {
        extension: extension.to_vec(),
        height,
        round,
        chain_id: chain_id.to_string(),
    }
    .encode_length_delimited_to_vec()
}

fn verify_signature(pub_key: &[u8; 32], signature: &[u8], msg: &[u8]) -> bool {
    let Ok(vk) = ed25519_consensus::VerificationKey::try_from(*pub_key) else {
        return false;
    };
    let Ok(sig_bytes) = <[u8; 64]>::try_from(signature) else {
        return false;
    };
    vk.verify(&ed25519_consensus::Signature::from(sig_bytes), msg)
        .is_ok()
}

/// Context for checking the extensions of one height.
pub struct ExtensionCheck<'a> {
    pub validators: &'a ValidatorSet,
    pub chain_id: &'a str,
    pub cap: usize,
}

impl ExtensionCheck<'_> {
    fn check_vote(
        &self,
        vote: &InjectedVote,
        height: i64,
        round: i32,
    ) -> Result<u64, VoteExtensionError> {
        let addr = hex::encode_upper(&vote.validator_address);
        let v = self
            .validators
            .get(&vote.validator_address)
            .ok_or_else(|| VoteExtensionError::UnknownValidator(addr.clone()))?;
        check_extension(&vote.vote_extension, self.cap).map_err(|e| {
            VoteExtensionError::BadExtension {
                addr: addr.clone(),
                reason: e.to_string(),
            }
        })?;
        let msg = extension_sign_bytes(
            &vote.vote_extension,
            height,
            i64::from(round),
            self.chain_id,
        );
        if !verify_signature(&v.pub_key, &vote.extension_signature, &msg) {
            return Err(VoteExtensionError::BadSignature(addr));
        }
        Ok(v.power)
    }

    fn total_power(&self) -> u128 {
        self.validators.values().map(|v| u128::from(v.power)).sum()
    }

    /// PrepareProposal: keep only the extensions that verify, in commit order.
    pub fn build_injected(
        &self,
        commit: &ExtendedCommitInfo,
        height: i64,
    ) -> InjectedVoteExtensions {
        let prev = height.saturating_sub(1);
        let mut seen = BTreeSet::new();
        let mut votes = Vec::new();
        for v in &commit.votes {
            if v.block_id_flag != BLOCK_ID_FLAG_COMMIT {
                continue;
            }
            let Some(val) = &v.validator else { continue };
            let vote = InjectedVote {
                validator_address: val.address.to_vec(),
                vote_extension: v.vote_extension.to_vec(),
                extension_signature: v.extension_signature.to_vec(),
            };
            match self.check_vote(&vote, prev, commit.round) {
                Ok(_) if seen.insert(vote.validator_address.clone()) => votes.push(vote),
                Ok(_) => {}
                Err(e) => tracing::warn!(height, error = %e, "pruned vote extension"),
            }
        }
        InjectedVoteExtensions {
            height: prev,
            round: commit.round,
            votes,
            ..Default::default()
        }
    }

    /// ProcessProposal: the injected tx must be exactly right. Powers come from
    /// state, never from the request.
    pub fn validate_injected(
        &self,
        injected: &InjectedVoteExtensions,
        height: i64,
        last_commit: Option<&CommitInfo>,
    ) -> Result<(), VoteExtensionError> {
        let want = height.saturating_sub(1);
        if injected.height != want {
            return Err(VoteExtensionError::WrongHeight {
                got: injected.height,
                want,
            });
        }
        let committed: Option<BTreeSet<Vec<u8>>> = last_commit.map(|c| {
            c.votes
                .iter()
                .filter(|v| v.block_id_flag == BLOCK_ID_FLAG_COMMIT)
                .filter_map(|v| v.validator.as_ref().map(|val| val.address.to_vec()))
                .collect()
        });
        if let Some(c) = last_commit {
            if c.round != injected.round {
                return Err(VoteExtensionError::WrongRound {
                    got: injected.round,
                    want: c.round,
                });
            }
        }
        let mut seen = BTreeSet::new();
        let mut signed: u128 = 0;
        for vote in &injected.votes {
            let addr = hex::encode_upper(&vote.validator_address);
            if !seen.insert(vote.validator_address.clone()) {
                return Err(VoteExtensionError::Duplicate(addr));
            }
            if let Some(c) = &committed {
                if !c.contains(&vote.validator_address) {
                    return Err(VoteExtensionError::NotInCommit(addr));
                }
            }
            let power = self.check_vote(vote, want, injected.round)?;
            signed = signed.saturating_add(u128::from(power));
        }
        let total = self.total_power();
        if signed.saturating_mul(3) <= total.saturating_mul(2) {
            return Err(VoteExtensionError::InsufficientPower { signed, total });
        }
        Ok(())
    }
}

/// `tx[0]` bytes for an injected set.
pub fn encode_injected(inj: &InjectedVoteExtensions) -> Vec<u8> {
    let mut out = INJECTED_TX_MARKER.to_vec();
    inj.encode(&mut out)
        .expect("encoding into a Vec cannot fail");
    out
}

/// Whether a transaction claims to be the injected one (by its marker).
pub fn is_injected(tx: &[u8]) -> bool {
    tx.starts_with(INJECTED_TX_MARKER)
}

pub fn decode_injected(tx: &[u8]) -> Result<InjectedVoteExtensions, VoteExtensionError> {
    let body = tx
        .strip_prefix(INJECTED_TX_MARKER.as_slice())
        .ok_or_else(|| VoteExtensionError::Decode("missing injected-tx marker".into()))?;
    InjectedVoteExtensions::decode(body).map_err(|e| VoteExtensionError::Decode(e.to_string()))
}

#[cfg(test)]
mod tests;
