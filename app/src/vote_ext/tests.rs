use super::*;
use ed25519_consensus::SigningKey;
use proptest::prelude::*;
use tendermint_proto::v0_38::abci::{ExtendedVoteInfo, Validator, VoteInfo};

const CHAIN: &str = "verdict-test";
const CAP: usize = 2048;

pub(crate) fn keys(n: u8) -> Vec<SigningKey> {
    (1..=n).map(|i| SigningKey::from([i; 32])).collect()
}

pub(crate) fn addr(k: &SigningKey) -> Vec<u8> {
    crate::app::tendermint_address(k.verification_key().as_bytes())
}

fn set(keys: &[SigningKey], powers: &[u64]) -> ValidatorSet {
    keys.iter()
        .zip(powers)
        .map(|(k, p)| {
            (
                addr(k),
                ValidatorKey {
                    pub_key: k.verification_key().to_bytes(),
                    power: *p,
                },
            )
        })
        .collect()
}

fn signed_vote(k: &SigningKey, ext: &[u8], height: i64, round: i32) -> ExtendedVoteInfo {
    let sig = k.sign(&extension_sign_bytes(ext, height, i64::from(round), CHAIN));
    ExtendedVoteInfo {
        validator: Some(Validator {
            address: addr(k).into(),
            power: 1,
        }),
        vote_extension: ext.to_vec().into(),
        extension_signature: sig.to_bytes().to_vec().into(),
        block_id_flag: BLOCK_ID_FLAG_COMMIT,
    }
}

fn commit_of(votes: Vec<ExtendedVoteInfo>, round: i32) -> (ExtendedCommitInfo, CommitInfo) {
    let plain = CommitInfo {
        round,
        votes: votes
            .iter()
            .map(|v| VoteInfo {
                validator: v.validator.clone(),
                block_id_flag: v.block_id_flag,
            })
            .collect(),
    };
    (ExtendedCommitInfo { round, votes }, plain)
}

#[test]
fn own_extension_passes_verification() {
    check_extension(&empty_extension(), CAP).expect("own extension must verify");
}

#[test]
fn size_cap_is_checked_before_decoding() {
    let big = vec![0xffu8; CAP + 1];
    assert_eq!(
        check_extension(&big, CAP),
        Err(VoteExtensionError::TooLarge {
            len: CAP + 1,
            cap: CAP
        })
    );
}

#[test]
fn malformed_wrong_version_and_non_canonical_extensions_are_rejected() {
    assert!(matches!(
        check_extension(&[0xff, 0x01], CAP),
        Err(VoteExtensionError::Decode(_))
    ));
    let v2 = VoteExtension {
        version: 2,
        ..Default::default()
    }
    .encode_to_vec();
    assert_eq!(
        check_extension(&v2, CAP),
        Err(VoteExtensionError::Version(2))
    );
    assert_eq!(
        check_extension(&[], CAP),
        Err(VoteExtensionError::Version(0))
    );
    // Version 1 followed by an unknown field 9.
    let mut extra = empty_extension();
    extra.extend_from_slice(&[0x48, 0x01]);
    assert_eq!(
        check_extension(&extra, CAP),
        Err(VoteExtensionError::NotCanonical)
    );
}

#[test]
fn honest_commit_is_injected_whole_and_validates() {
    let ks = keys(4);
    let vs = set(&ks, &[10, 10, 10, 10]);
    let check = ExtensionCheck {
        validators: &vs,
        chain_id: CHAIN,
        cap: CAP,
    };
    let votes = ks
        .iter()
        .map(|k| signed_vote(k, &empty_extension(), 6, 0))
        .collect();
    let (ext, plain) = commit_of(votes, 0);
    let inj = check.build_injected(&ext, 7);
    assert_eq!(inj.votes.len(), 4);
    assert_eq!(inj.height, 6);
    check
        .validate_injected(&inj, 7, Some(&plain))
        .expect("valid");
    // And survives the wire.
    let round_trip = decode_injected(&encode_injected(&inj)).expect("decode");
    assert_eq!(round_trip, inj);
}

#[test]
fn proposer_prunes_bad_signatures_and_validation_rejects_them() {
    let ks = keys(4);
    let vs = set(&ks, &[10, 10, 10, 10]);
    let check = ExtensionCheck {
        validators: &vs,
        chain_id: CHAIN,
        cap: CAP,
    };
    let mut votes: Vec<_> = ks
        .iter()
        .map(|k| signed_vote(k, &empty_extension(), 6, 0))
        .collect();
    // Validator 3 signed for another height.
    votes[3] = signed_vote(&ks[3], &empty_extension(), 5, 0);
    let (ext, plain) = commit_of(votes.clone(), 0);
    let inj = check.build_injected(&ext, 7);
    assert_eq!(inj.votes.len(), 3, "bad one pruned");
    check
        .validate_injected(&inj, 7, Some(&plain))
        .expect("3/4 is > 2/3");

    // A proposer that keeps the bad one gets its block rejected.
    let mut with_bad = inj.clone();
    with_bad.votes.push(InjectedVote {
        validator_address: addr(&ks[3]),
        vote_extension: votes[3].vote_extension.to_vec(),
        extension_signature: votes[3].extension_signature.to_vec(),
    });
    assert!(matches!(
        check.validate_injected(&with_bad, 7, Some(&plain)),
        Err(VoteExtensionError::BadSignature(_))
    ));
}

#[test]
fn duplicates_unknown_validators_and_wrong_heights_are_rejected() {
    let ks = keys(4);
    let vs = set(&ks[..3], &[10, 10, 10]);
    let check = ExtensionCheck {
        validators: &vs,
        chain_id: CHAIN,
        cap: CAP,
    };
    let votes: Vec<_> = ks
        .iter()
        .map(|k| signed_vote(k, &empty_extension(), 6, 0))
        .collect();
    let (ext, plain) = commit_of(votes, 0);
    let mut inj = check.build_injected(&ext, 7);
    assert_eq!(inj.votes.len(), 3, "unknown validator pruned");
    let dup = inj.votes[0].clone();
    inj.votes.push(dup);
    assert!(matches!(
        check.validate_injected(&inj, 7, Some(&plain)),
        Err(VoteExtensionError::Duplicate(_))
    ));
    inj.votes.pop();
    assert!(matches!(
        check.validate_injected(&inj, 8, Some(&plain)),
        Err(VoteExtensionError::WrongHeight { .. })
    ));
    let mut unknown = inj.clone();
    unknown.votes[0].validator_address = addr(&ks[3]);
    assert!(matches!(
        check.validate_injected(&unknown, 7, Some(&plain)),
        Err(VoteExtensionError::UnknownValidator(_))
    ));
}

#[test]
fn voting_power_comes_from_state_not_from_the_proposer() {
    let ks = keys(4);
    // In state validator 0 has almost nothing; the commit claims power 1 for all.
    let vs = set(&ks, &[1, 100, 100, 100]);
    let check = ExtensionCheck {
        validators: &vs,
        chain_id: CHAIN,
        cap: CAP,
    };
    let mut votes: Vec<_> = ks
        .iter()
        .map(|k| signed_vote(k, &empty_extension(), 6, 0))
        .collect();
    for v in &mut votes {
        if let Some(val) = v.validator.as_mut() {
            val.power = 1_000_000;
        }
    }
    let (ext, plain) = commit_of(votes[..2].to_vec(), 0);
    let inj = check.build_injected(&ext, 7);
    assert_eq!(inj.votes.len(), 2);
    // 101 of 301 is not > 2/3, whatever the request said.
    assert_eq!(
        check.validate_injected(&inj, 7, Some(&plain)),
        Err(VoteExtensionError::InsufficientPower {
            signed: 101,
            total: 301
        })
    );
}

#[test]
fn votes_not_in_the_last_commit_are_rejected() {
    let ks = keys(4);
    let vs = set(&ks, &[10, 10, 10, 10]);
    let check = ExtensionCheck {
        validators: &vs,
        chain_id: CHAIN,
        cap: CAP,
    };
    let votes: Vec<_> = ks
        .iter()
        .map(|k| signed_vote(k, &empty_extension(), 6, 0))
        .collect();
    let (ext, _) = commit_of(votes.clone(), 0);
    let (_, plain3) = commit_of(votes[..3].to_vec(), 0);
    let inj = check.build_injected(&ext, 7);
    assert!(matches!(
        check.validate_injected(&inj, 7, Some(&plain3)),
        Err(VoteExtensionError::NotInCommit(_))
    ));
}

proptest! {
    /// VerifyVoteExtension must accept whatever an honest ExtendVote makes
    /// (rejecting one's own extension deadlocks CometBFT), for any cap that the
    /// params allow.
    #[test]
    fn verification_accepts_every_honest_extension(cap in 16usize..=65536) {
        prop_assert!(check_extension(&empty_extension(), cap).is_ok());
    }

    /// Arbitrary bytes never panic the checks.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = check_extension(&bytes, CAP);
        let mut tx = INJECTED_TX_MARKER.to_vec();
        tx.extend_from_slice(&bytes);
        let _ = decode_injected(&tx);
    }
}
