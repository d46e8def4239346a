#![allow(clippy::arithmetic_side_effects, clippy::unwrap_used)]

use std::collections::BTreeMap;

use cosmwasm_std::testing::MockStorage;
use cosmwasm_std::Binary;
use proptest::prelude::*;
use prost::Message;
use verdict_core::coin::Coin;
use verdict_inference::state::{self as inf, Attestation, Job, JobStatus, Member, Model};

use crate::digest::commitment;
use crate::{build_extension, check_against_state, check_payload, process_block, LocalJob};

const ME: [u8; 20] = [7; 20];
const MODEL: &str = "m";

fn member(a: [u8; 20]) -> Member {
    Member {
        address: hex::encode_upper(a),
        operator: a,
        power: 10,
    }
}

fn setup(s: &mut MockStorage, max_output_len: u32) {
    inf::MODELS
        .save(
            s,
            MODEL,
            &Model {
                id: MODEL.into(),
                name: "m".into(),
                owner: [0; 20],
                inputs: vec![],
                outputs: vec![],
                tolerance_nano: 1000,
                max_output_len,
                registered_height: 1,
            },
        )
        .unwrap();
}

fn job(id: u64, committee: Vec<Member>, status: JobStatus) -> Job {
    Job {
        id,
        requester: [1; 20],
        model_id: MODEL.into(),
        inputs: vec![],
        max_latency_ms: 1000,
        fee: Coin::new(0, "uverd"),
        submitted_height: 1,
        deadline_height: 1000,
        committee,
        status,
        result: None,
    }
}

#[derive(Debug, Clone)]
struct Case {
    on_committee: bool,
    status: u8,
    digest_len: usize,
    commit_height: Option<u64>,
    chain_commit: bool,
    chain_reveal: bool,
}

fn case() -> impl Strategy<Value = Case> {
    (
        any::<bool>(),
        0u8..6,
        0usize..40,
        proptest::option::of(1u64..12),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(on_committee, status, digest_len, commit_height, chain_commit, chain_reveal)| Case {
                on_committee,
                status,
                digest_len,
                commit_height,
                chain_commit,
                chain_reveal,
            },
        )
}

proptest! {
    /// DESIGN §6.6: verification accepts every extension an honest ExtendVote makes,
    /// whatever the local cache and the state look like, within the byte cap.
    #[test]
    fn verification_accepts_every_honest_extension(
        cases in proptest::collection::vec(case(), 0..24),
        height in 2u64..14,
        cap in 2usize..4096,
        max_len in 1u32..32,
    ) {
        let mut s = MockStorage::new();
        setup(&mut s, max_len);
        let statuses = [JobStatus::Pending, JobStatus::Committed, JobStatus::Revealed,
                        JobStatus::Completed, JobStatus::Failed, JobStatus::Expired];
        let mut local = BTreeMap::new();
        for (i, c) in cases.iter().enumerate() {
            let id = i as u64 + 1;
            let mut committee = vec![member([1; 20]), member([2; 20])];
            if c.on_committee {
                committee.push(member(ME));
            }
            inf::JOBS.save(&mut s, id, &job(id, committee, statuses[c.status as usize])).unwrap();
            let digest: Vec<i64> = (0..c.digest_len as i64).map(|k| k * 1_000_003 - id as i64).collect();
            if c.chain_commit || c.chain_reveal {
                inf::ATTESTATIONS.save(&mut s, (id, &ME), &Attestation {
                    commitment: Some(Binary::from(commitment(id, &ME, &digest, &[3; 16]).to_vec())),
                    digest: c.chain_reveal.then(|| digest.clone()),
                    ..Default::default()
                }).unwrap();
            }
            local.insert(id, LocalJob { digest, latency_ms: 5, salt: vec![3; 16], commit_height: c.commit_height });
        }
        let ve = build_extension(&s, &ME, &mut local, height, cap, 1);
        prop_assert!(ve.encoded_len() <= cap.max(2));
        prop_assert!(check_payload(&ve).is_ok(), "{:?}", check_payload(&ve));
        prop_assert!(check_against_state(&s, &ve, &ME).is_ok(), "{:?}", check_against_state(&s, &ve, &ME));
    }
}

#[test]
fn a_job_is_settled_once_every_member_revealed_and_reveals_open_commitments() {
    let mut s = MockStorage::new();
    setup(&mut s, 8);
    let a = [1u8; 20];
    let b = [2u8; 20];
    inf::JOBS
        .save(
            &mut s,
            1,
            &job(1, vec![member(a), member(b)], JobStatus::Pending),
        )
        .unwrap();
    inf::LIVE.save(&mut s, (1000, 1), &()).unwrap();
    let mut locals: Vec<BTreeMap<u64, LocalJob>> = [a, b]
        .iter()
        .map(|_| {
            BTreeMap::from([(
                1,
                LocalJob {
                    digest: vec![5, 6],
                    latency_ms: 3,
                    salt: vec![9; 16],
                    commit_height: None,
                },
            )])
        })
        .collect();
    // VE(2): commitments; recorded at 3.
    let ves: Vec<_> = [a, b]
        .iter()
        .zip(locals.iter_mut())
        .map(|(who, l)| (*who, build_extension(&s, who, l, 2, 2048, 1)))
        .collect();
    assert!(ves
        .iter()
        .all(|(_, v)| v.commitments.len() == 1 && v.reveals.is_empty()));
    process_block(&mut s, 3, 0, &ves).unwrap();
    assert_eq!(inf::JOBS.load(&s, 1).unwrap().status, JobStatus::Committed);
    // VE(3): reveals; recorded and settled at 4 (escrow empty: a zero fee).
    let ves: Vec<_> = [a, b]
        .iter()
        .zip(locals.iter_mut())
        .map(|(who, l)| (*who, build_extension(&s, who, l, 3, 2048, 1)))
        .collect();
    assert!(ves
        .iter()
        .all(|(_, v)| v.reveals.len() == 1 && v.commitments.is_empty()));
    let ev = process_block(&mut s, 4, 0, &ves).unwrap();
    let j = inf::JOBS.load(&s, 1).unwrap();
    assert_eq!(j.status, JobStatus::Completed, "{ev:?}");
    assert_eq!(j.result.unwrap().digest, vec![5, 6]);
    // Settled jobs drop out of the local cache and of later extensions.
    let ve = build_extension(&s, &a, &mut locals[0], 5, 2048, 1);
    assert!(ve.commitments.is_empty() && ve.reveals.is_empty());
    assert!(locals[0].is_empty());
}

#[test]
fn duplicate_votes_and_replayed_entries_count_once() {
    let mut s = MockStorage::new();
    setup(&mut s, 8);
    let a = [1u8; 20];
    inf::JOBS
        .save(
            &mut s,
            1,
            &job(1, vec![member(a), member([2; 20])], JobStatus::Pending),
        )
        .unwrap();
    let mut l = BTreeMap::from([(
        1,
        LocalJob {
            digest: vec![1],
            latency_ms: 3,
            salt: vec![9; 16],
            commit_height: None,
        },
    )]);
    let ve = build_extension(&s, &a, &mut l, 2, 2048, 1);
    let mut forged = ve.clone();
    forged.commitments[0].commitment = vec![0; 32];
    // The same validator twice in one injected tx: the first one counts.
    process_block(&mut s, 3, 0, &[(a, ve.clone()), (a, forged)]).unwrap();
    let att = inf::ATTESTATIONS.load(&s, (1, &a)).unwrap();
    assert_eq!(
        att.commitment.unwrap().to_vec(),
        ve.commitments[0].commitment
    );
    let _ = ve.encode_to_vec();
}
