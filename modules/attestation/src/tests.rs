#![allow(clippy::arithmetic_side_effects, clippy::unwrap_used)]

use std::collections::BTreeMap;

use cosmwasm_std::testing::MockStorage;
use cosmwasm_std::Binary;
use proptest::prelude::*;
use prost::Message;
use verdict_core::coin::Coin;
use verdict_inference::state::{self as inf, Attestation, Job, JobStatus, Member, Model};
use verdict_proto::app::v1::{JobCommitment, JobReveal, VoteExtension};

use crate::digest::commitment;
use crate::{
    build_extension, check_against_state, check_payload, process_block, LocalJob, NextBlock,
};

const ME: [u8; 20] = [7; 20];
const MODEL: &str = "m";

fn member(a: [u8; 20]) -> Member {
    Member {
        address: hex::encode_upper(a),
        operator: a,
        power: 10,
        seats: 1,
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
                rtol_nano: 100_000,
                input_range: None,
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
        max_latency_ms: 1000,
        fee: Coin::new(0, "uverd"),
        submitted_height: 1,
        submitted_time_ms: 0,
        commit_deadline: 100,
        commit_closed_height: 0,
        deadline_height: 1000,
        committee,
        status,
        result: None,
    }
}

fn local(digest: Vec<i64>, salt: u8) -> LocalJob {
    LocalJob {
        digest,
        latency_ms: 3,
        salt: vec![salt; 16],
    }
}

#[derive(Debug, Clone)]
struct Case {
    on_committee: bool,
    status: u8,
    digest_len: usize,
    /// 0: no commitment on chain, 1: ours, 2: one our digest and salt do not open.
    chain_commit: u8,
    chain_reveal: bool,
}

fn case() -> impl Strategy<Value = Case> {
    (any::<bool>(), 0u8..7, 0usize..40, 0u8..3, any::<bool>()).prop_map(
        |(on_committee, status, digest_len, chain_commit, chain_reveal)| Case {
            on_committee,
            status,
            digest_len,
            chain_commit,
            chain_reveal,
        },
    )
}

const STATUSES: [JobStatus; 7] = [
    JobStatus::Pending,
    JobStatus::Committed,
    JobStatus::Revealing,
    JobStatus::Revealed,
    JobStatus::Completed,
    JobStatus::Failed,
    JobStatus::Expired,
];

proptest! {
    /// docs/design.md §6.6: verification accepts every extension an honest ExtendVote makes,
    /// whatever the local cache and the state look like, within the byte cap.
    #[test]
    fn verification_accepts_every_honest_extension(
        cases in proptest::collection::vec(case(), 0..24),
        cap in 2usize..4096,
        max_len in 1u32..32,
        closing in any::<bool>(),
    ) {
        let mut s = MockStorage::new();
        setup(&mut s, max_len);
        let mut cache = BTreeMap::new();
        for (i, c) in cases.iter().enumerate() {
            let id = i as u64 + 1;
            let mut committee = vec![member([1; 20]), member([2; 20])];
            if c.on_committee {
                committee.push(member(ME));
            }
            inf::JOBS.save(&mut s, id, &job(id, committee, STATUSES[c.status as usize])).unwrap();
            let digest: Vec<i64> = (0..c.digest_len as i64).map(|k| k * 1_000_003 - id as i64).collect();
            if c.chain_commit > 0 || c.chain_reveal {
                let salt = if c.chain_commit == 2 { [4; 16] } else { [3; 16] };
                inf::ATTESTATIONS.save(&mut s, (id, &ME), &Attestation {
                    commitment: Some(Binary::from(commitment(id, &ME, &digest, &salt).to_vec())),
                    digest: c.chain_reveal.then(|| digest.clone()),
                    ..Default::default()
                }).unwrap();
            }
            cache.insert(id, local(digest, 3));
        }
        // The block being voted on closes every commit phase (its height is past
        // every commit deadline), or we know nothing of it.
        let next = NextBlock { height: 10_000, ..Default::default() };
        let ve = build_extension(&s, &ME, &mut cache, cap, 1, closing.then_some(&next));
        prop_assert!(ve.encoded_len() <= cap.max(2));
        prop_assert!(check_payload(&ve).is_ok(), "{:?}", check_payload(&ve));
        prop_assert!(check_against_state(&s, &ve, &ME).is_ok(), "{:?}", check_against_state(&s, &ve, &ME));
    }
}

#[test]
fn a_job_settles_once_every_member_revealed_and_reveals_open_commitments() {
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
    let mut locals: Vec<BTreeMap<u64, LocalJob>> = (0..2)
        .map(|_| BTreeMap::from([(1, local(vec![5, 6], 9))]))
        .collect();
    let round = |s: &MockStorage, locals: &mut Vec<BTreeMap<u64, LocalJob>>| {
        [a, b]
            .iter()
            .zip(locals.iter_mut())
            .map(|(who, l)| (*who, build_extension(s, who, l, 2048, 1, None)))
            .collect::<Vec<_>>()
    };
    // Commitments; both in, so the commit phase closes in that block.
    let ves = round(&s, &mut locals);
    assert!(ves
        .iter()
        .all(|(_, v)| v.commitments.len() == 1 && v.reveals.is_empty()));
    process_block(&mut s, 3, 0, 0, &ves).unwrap();
    assert_eq!(inf::JOBS.load(&s, 1).unwrap().status, JobStatus::Revealing);
    // Reveals; recorded and settled in the same block.
    let ves = round(&s, &mut locals);
    assert!(ves
        .iter()
        .all(|(_, v)| v.reveals.len() == 1 && v.commitments.is_empty()));
    let ev = process_block(&mut s, 4, 0, 0, &ves).unwrap();
    let j = inf::JOBS.load(&s, 1).unwrap();
    assert_eq!(j.status, JobStatus::Completed, "{ev:?}");
    assert_eq!(j.result.unwrap().digest, vec![5, 6]);
    // Settled jobs drop out of the local cache and of later extensions.
    let ve = build_extension(&s, &a, &mut locals[0], 2048, 1, None);
    assert!(ve.commitments.is_empty() && ve.reveals.is_empty());
    assert!(locals[0].is_empty());
}

#[test]
fn duplicate_votes_count_once() {
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
    let mut l = BTreeMap::from([(1, local(vec![1], 9))]);
    let ve = build_extension(&s, &a, &mut l, 2048, 1, None);
    let mut forged = ve.clone();
    forged.commitments[0].commitment = vec![0; 32];
    // The same validator twice in one injected tx: the first one counts.
    process_block(&mut s, 3, 0, 0, &[(a, ve.clone()), (a, forged)]).unwrap();
    let att = inf::ATTESTATIONS.load(&s, (1, &a)).unwrap();
    assert_eq!(
        att.commitment.unwrap().to_vec(),
        ve.commitments[0].commitment
    );
}

#[test]
fn commitments_after_the_commit_phase_and_reveals_before_it_are_ignored() {
    let mut s = MockStorage::new();
    setup(&mut s, 8);
    let (a, b) = ([1u8; 20], [2u8; 20]);
    let mut j = job(1, vec![member(a), member(b)], JobStatus::Pending);
    j.commit_deadline = 5;
    inf::JOBS.save(&mut s, 1, &j).unwrap();
    inf::LIVE.save(&mut s, (1000, 1), &()).unwrap();
    let mut la = BTreeMap::from([(1, local(vec![5], 1))]);
    let ve_a = build_extension(&s, &a, &mut la, 2048, 1, None);
    // A reveal while commitments are still open is ignored.
    let early = VoteExtension {
        version: 1,
        reveals: vec![JobReveal {
            job_id: 1,
            digest: vec![5],
            salt: vec![1; 16],
        }],
        ..Default::default()
    };
    // Verification lets it through (an honest node reveals in the extension of
    // the block that closes the phase); FinalizeBlock ignores it.
    assert!(check_against_state(&s, &early, &b).is_ok());
    process_block(&mut s, 3, 0, 0, &[(a, ve_a), (b, early)]).unwrap();
    assert!(inf::ATTESTATIONS.load(&s, (1, &b)).is_err());
    assert_eq!(inf::JOBS.load(&s, 1).unwrap().status, JobStatus::Committed);
    // The commit deadline closes the phase without b.
    process_block(&mut s, 5, 0, 0, &[]).unwrap();
    assert_eq!(inf::JOBS.load(&s, 1).unwrap().status, JobStatus::Revealing);
    // b's late commitment (say, copied from a's reveal) is refused, and an honest
    // b's builder knows it has nothing more to say about the job.
    let mut lb = BTreeMap::from([(1, local(vec![5], 2))]);
    let ve_b = build_extension(&s, &b, &mut lb, 2048, 1, None);
    assert!(ve_b.commitments.is_empty() && ve_b.reveals.is_empty());
    let late = VoteExtension {
        version: 1,
        commitments: vec![JobCommitment {
            job_id: 1,
            commitment: commitment(1, &b, &[5], &[2; 16]).to_vec(),
            latency_ms: 1,
        }],
        ..Default::default()
    };
    assert!(check_against_state(&s, &late, &b).is_err());
    process_block(&mut s, 6, 0, 0, &[(b, late)]).unwrap();
    assert!(inf::ATTESTATIONS.load(&s, (1, &b)).is_err());
    // a reveals; nothing is left to wait for: the job settles.
    let ve = build_extension(&s, &a, &mut la, 2048, 1, None);
    assert_eq!(ve.reveals.len(), 1);
    process_block(&mut s, 7, 0, 0, &[(a, ve)]).unwrap();
    assert!(inf::JOBS.load(&s, 1).unwrap().status.is_final());
}

#[test]
fn a_digest_of_another_length_cannot_veto_the_job() {
    let mut s = MockStorage::new();
    setup(&mut s, 8);
    let ms: Vec<[u8; 20]> = (1..=4u8).map(|i| [i; 20]).collect();
    inf::JOBS
        .save(
            &mut s,
            1,
            &job(
                1,
                ms.iter().map(|m| member(*m)).collect(),
                JobStatus::Pending,
            ),
        )
        .unwrap();
    inf::LIVE.save(&mut s, (1000, 1), &()).unwrap();
    let mut locals: Vec<BTreeMap<u64, LocalJob>> = ms
        .iter()
        .enumerate()
        .map(|(i, _)| {
            let d = if i == 3 {
                vec![5, 6, 7, 8, 9, 10, 11, 12]
            } else {
                vec![5, 6]
            };
            BTreeMap::from([(1, local(d, 9))])
        })
        .collect();
    for h in [3, 4] {
        let ves: Vec<_> = ms
            .iter()
            .zip(locals.iter_mut())
            .map(|(who, l)| (*who, build_extension(&s, who, l, 2048, 1, None)))
            .collect();
        process_block(&mut s, h, 0, 0, &ves).unwrap();
    }
    let j = inf::JOBS.load(&s, 1).unwrap();
    assert_eq!(j.status, JobStatus::Completed);
    let r = j.result.unwrap();
    assert_eq!(r.digest, vec![5, 6]);
    assert_eq!(r.agreeing.len(), 3);
    assert_eq!(r.faults.len(), 1);
    assert_eq!(r.faults[0].kinds, vec!["wrong_output".to_string()]);
}

/// Runs a committee with the given weights and revealed digests through commit,
/// reveal and settlement; returns the settled job.
fn settle_with(weights: &[u64], digests: &[Vec<i64>]) -> Job {
    let mut s = MockStorage::new();
    setup(&mut s, 8);
    let ms: Vec<[u8; 20]> = (1..=weights.len() as u8).map(|i| [i; 20]).collect();
    let committee = ms
        .iter()
        .zip(weights)
        .map(|(a, w)| Member {
            seats: *w,
            ..member(*a)
        })
        .collect();
    inf::JOBS
        .save(&mut s, 1, &job(1, committee, JobStatus::Pending))
        .unwrap();
    inf::LIVE.save(&mut s, (1000, 1), &()).unwrap();
    let mut locals: Vec<BTreeMap<u64, LocalJob>> = digests
        .iter()
        .map(|d| BTreeMap::from([(1, local(d.clone(), 9))]))
        .collect();
    for h in [3, 4] {
        let ves: Vec<_> = ms
            .iter()
            .zip(locals.iter_mut())
            .map(|(who, l)| (*who, build_extension(&s, who, l, 4096, 1, None)))
            .collect();
        process_block(&mut s, h, 0, 0, &ves).unwrap();
    }
    inf::JOBS.load(&s, 1).unwrap()
}

/// threats.md §4: 70 % of the committee at q, 30 % two quanta away (another
/// BLAS, another GPU): with a relative tolerance both agree; nobody is slashed.
#[test]
fn an_honest_hardware_minority_a_few_quanta_off_is_not_slashed() {
    let q = vec![30_214_357i64, 1_000];
    let off = vec![30_214_443i64, 1_002];
    let j = settle_with(&[7, 3], &[q.clone(), off]);
    let r = j.result.unwrap();
    assert_eq!(j.status, JobStatus::Completed);
    assert!(r.faults.is_empty(), "{:?}", r.faults);
    assert_eq!(r.agreeing.len(), 2);
}

/// Beyond the tolerance but inside `wrong_output_multiple` × it: the grey
/// zone is neither paid nor slashed; far beyond is `wrong_output`.
#[test]
fn the_grey_zone_is_not_paid_and_not_slashed_far_off_is() {
    let q = vec![1_000_000i64];
    // tolerance at |r| = 10^6 quanta and rtol 1e-4: 102 quanta.
    let grey = vec![1_000_300i64];
    let wrong = vec![1_001_000i64];
    let j = settle_with(&[5, 1, 1], &[q.clone(), grey, wrong]);
    let r = j.result.unwrap();
    assert_eq!(j.status, JobStatus::Completed);
    assert_eq!(r.grey, vec![hex::encode_upper([2u8; 20])]);
    assert_eq!(r.faults.len(), 1);
    assert_eq!(r.faults[0].address, hex::encode_upper([3u8; 20]));
    assert_eq!(r.faults[0].kinds, vec!["wrong_output".to_string()]);
    // A split in the grey zone without a quorum slashes nobody.
    let j = settle_with(&[1, 1], &[q, vec![1_000_300]]);
    assert_eq!(j.status, JobStatus::Failed);
    assert!(j.result.unwrap().faults.is_empty());
}

/// Weight is seats, not stake: a member with most of the stake but one seat of
/// four cannot carry a result alone.
#[test]
fn quorum_counts_seats() {
    let j = settle_with(&[1, 3], &[vec![5], vec![9_000]]);
    let r = j.result.unwrap();
    assert_eq!(j.status, JobStatus::Completed);
    assert_eq!(r.digest, vec![9_000]);
    assert_eq!(r.agreeing_power, 3);
    assert_eq!(r.committee_power, 4);
}

/// threats.md §3: what a member reports as its latency is never judged; a
/// member whose commitment is not recorded when the SLA closes the commit
/// phase is late (no reveal possible, a missed seat), never slashed.
#[test]
fn reported_latency_is_ignored_and_lateness_is_measured_by_the_chain() {
    let mut s = MockStorage::new();
    setup(&mut s, 8);
    let (a, b, c) = ([1u8; 20], [2u8; 20], [3u8; 20]);
    let two = |x: [u8; 20]| Member {
        seats: 2,
        ..member(x)
    };
    let mut j = job(1, vec![two(a), two(b), member(c)], JobStatus::Pending);
    j.submitted_height = 10;
    j.submitted_time_ms = 100_000;
    j.max_latency_ms = 2_000;
    inf::JOBS.save(&mut s, 1, &j).unwrap();
    inf::LIVE.save(&mut s, (1000, 1), &()).unwrap();
    let mut la = BTreeMap::from([(
        1,
        LocalJob {
            latency_ms: 0,
            ..local(vec![5], 1)
        },
    )]);
    let mut lb = BTreeMap::from([(
        1,
        LocalJob {
            latency_ms: 60_000,
            ..local(vec![5], 2)
        },
    )]);
    let ve_a = build_extension(&s, &a, &mut la, 2048, 1, None);
    let ve_b = build_extension(&s, &b, &mut lb, 2048, 1, None);
    // Block 13, 3 s after the job's block: a and b commit, c has nothing; the
    // SLA (2 s) has passed, so the phase closes without c.
    process_block(&mut s, 13, 103, 103_000, &[(a, ve_a), (b, ve_b)]).unwrap();
    assert_eq!(inf::JOBS.load(&s, 1).unwrap().status, JobStatus::Revealing);
    let ve_a = build_extension(&s, &a, &mut la, 2048, 1, None);
    let ve_b = build_extension(&s, &b, &mut lb, 2048, 1, None);
    process_block(&mut s, 14, 104, 104_000, &[(a, ve_a), (b, ve_b)]).unwrap();
    let j = inf::JOBS.load(&s, 1).unwrap();
    let r = j.result.unwrap();
    assert_eq!(j.status, JobStatus::Completed);
    assert!(r.faults.is_empty(), "{:?}", r.faults);
    assert_eq!(r.late, vec![hex::encode_upper(c)]);
    assert_eq!(
        r.latency_ms, 3_000,
        "from BFT times, not the reports (0 and 60 000)"
    );
    // Before the SLA has passed (and before every member committed) the phase
    // stays open.
    let mut s = MockStorage::new();
    setup(&mut s, 8);
    let mut j = job(2, vec![member(a), member(b), member(c)], JobStatus::Pending);
    j.submitted_height = 10;
    j.submitted_time_ms = 100_000;
    j.max_latency_ms = 5_000;
    inf::JOBS.save(&mut s, 2, &j).unwrap();
    inf::LIVE.save(&mut s, (1000, 2), &()).unwrap();
    process_block(&mut s, 13, 103, 103_000, &[]).unwrap();
    assert_eq!(inf::JOBS.load(&s, 2).unwrap().status, JobStatus::Pending);
    process_block(&mut s, 14, 105, 105_000, &[]).unwrap();
    assert_eq!(inf::JOBS.load(&s, 2).unwrap().status, JobStatus::Revealing);
}

/// The reveal goes into the extension of the block that closes the commit
/// phase: with an honest committee, commitments recorded at h close the phase
/// at h and the reveals recorded at h+1 settle the job there.
#[test]
fn a_member_reveals_in_the_extension_of_the_block_that_closes_the_phase() {
    let mut s = MockStorage::new();
    setup(&mut s, 8);
    let (a, b) = ([1u8; 20], [2u8; 20]);
    inf::JOBS
        .save(
            &mut s,
            1,
            &job(1, vec![member(a), member(b)], JobStatus::Pending),
        )
        .unwrap();
    inf::LIVE.save(&mut s, (1000, 1), &()).unwrap();
    let mut la = BTreeMap::from([(1, local(vec![5], 1))]);
    let mut lb = BTreeMap::from([(1, local(vec![5], 2))]);
    // VE(2): commitments (built on state 1, nothing known of block 2).
    let ca = build_extension(&s, &a, &mut la, 2048, 1, None);
    let cb = build_extension(&s, &b, &mut lb, 2048, 1, None);
    // VE(3), voted on block 3 whose tx[0] holds both commitments: it closes
    // the phase, so both reveal now (built on state 2, still in commit phase).
    let mut next = NextBlock {
        height: 3,
        ..Default::default()
    };
    for (who, ve) in [(a, &ca), (b, &cb)] {
        next.commitments
            .insert((1, who), ve.commitments[0].commitment.clone());
    }
    let ra = build_extension(&s, &a, &mut la, 2048, 1, Some(&next));
    let rb = build_extension(&s, &b, &mut lb, 2048, 1, Some(&next));
    assert_eq!((ra.reveals.len(), ra.commitments.len()), (1, 0));
    assert!(check_against_state(&s, &ra, &a).is_ok());
    // Block 3 records the commitments and closes the phase; block 4 the reveals.
    process_block(&mut s, 3, 0, 0, &[(a, ca), (b, cb)]).unwrap();
    assert_eq!(inf::JOBS.load(&s, 1).unwrap().status, JobStatus::Revealing);
    process_block(&mut s, 4, 0, 0, &[(a, ra), (b, rb)]).unwrap();
    let j = inf::JOBS.load(&s, 1).unwrap();
    assert_eq!(j.status, JobStatus::Completed);
    assert_eq!(j.result.unwrap().finalized_height, 4);
    // If the block does not close the phase (one commitment missing, SLA not
    // passed), nobody reveals early.
    let mut s = MockStorage::new();
    setup(&mut s, 8);
    inf::JOBS
        .save(
            &mut s,
            1,
            &job(1, vec![member(a), member(b)], JobStatus::Pending),
        )
        .unwrap();
    let mut la = BTreeMap::from([(1, local(vec![5], 1))]);
    let ca = build_extension(&s, &a, &mut la, 2048, 1, None);
    let mut next = NextBlock {
        height: 3,
        ..Default::default()
    };
    next.commitments
        .insert((1, a), ca.commitments[0].commitment.clone());
    let ra = build_extension(&s, &a, &mut la, 2048, 1, Some(&next));
    assert!(ra.reveals.is_empty() && ra.commitments.is_empty());
}

/// threats.md §6: withholding is not free. Committee of three equal members;
/// a and b reveal the same digest, c commits and never reveals: at the deadline
/// the job fails (2/3 is not > 2/3), and c's withheld reveal costs two missed
/// entries — more than silence (one) — although the job did not complete.
#[test]
fn withholding_a_reveal_costs_more_than_silence_even_on_a_failed_job() {
    let mut s = MockStorage::new();
    setup(&mut s, 8);
    let (a, b, c, d) = ([1u8; 20], [2u8; 20], [3u8; 20], [4u8; 20]);
    let mut j = job(1, vec![member(a), member(b), member(c)], JobStatus::Pending);
    j.deadline_height = 6;
    j.commit_deadline = 4;
    inf::JOBS.save(&mut s, 1, &j).unwrap();
    inf::LIVE.save(&mut s, (6, 1), &()).unwrap();
    // Job 2, settled in the same block (c withholds there too): d silent.
    let mut j2 = job(2, vec![member(a), member(c), member(d)], JobStatus::Pending);
    j2.deadline_height = 6;
    j2.commit_deadline = 4;
    inf::JOBS.save(&mut s, 2, &j2).unwrap();
    inf::LIVE.save(&mut s, (6, 2), &()).unwrap();
    let mut ls: Vec<BTreeMap<u64, LocalJob>> = [1u8, 2, 3]
        .iter()
        .map(|k| BTreeMap::from([(1, local(vec![5], *k)), (2, local(vec![5], *k))]))
        .collect();
    for h in 3..=6 {
        let ves: Vec<_> = [a, b, c]
            .iter()
            .zip(ls.iter_mut())
            .map(|(who, l)| {
                let mut ve = build_extension(&s, who, l, 2048, 1, None);
                if *who == c {
                    ve.reveals.clear();
                }
                (*who, ve)
            })
            .collect();
        process_block(&mut s, h, 0, 0, &ves).unwrap();
    }
    assert_eq!(inf::JOBS.load(&s, 1).unwrap().status, JobStatus::Failed);
    let missed = |x: [u8; 20]| {
        crate::ATT_INFO
            .may_load(&s, &x)
            .unwrap()
            .unwrap_or_default()
    };
    assert_eq!(missed(c).missed, 2, "withheld after committing");
    assert_eq!(missed(d).missed, 1, "silent");
    assert_eq!((missed(a).missed, missed(b).missed), (0, 0));
    // One block, two jobs: a has one entry for the block, not one per seat.
    assert_eq!(missed(a).seats, 1);
}

/// threats.md §7: at full load a validator owes, in one extension, a
/// commitment for each new job and a reveal for each closing one. With every
/// digest at its longest and largest (65 elements of i64::MIN), 8 + 8 entries
/// all fit the default cap (the old 2048 bytes held 3 reveals and no
/// commitment), and genesis refuses a cap that cannot hold them.
#[test]
fn a_full_block_of_maximal_jobs_fits_the_default_extension_cap() {
    let p = verdict_inference::InferenceParams::default();
    let cap = 8192usize;
    let worst =
        crate::extension::worst_case_extension_bytes(p.max_jobs_per_block, p.max_output_len);
    eprintln!("worst case extension at the defaults: {worst} bytes");
    assert!(worst <= cap, "{worst}");
    assert!(worst > 2048, "the old cap could not hold it: {worst}");
    let mut s = MockStorage::new();
    setup(&mut s, p.max_output_len);
    let n = u64::from(p.max_jobs_per_block);
    let mut cache = BTreeMap::new();
    for id in 1..=2 * n {
        let revealing = id <= n;
        let status = if revealing {
            JobStatus::Revealing
        } else {
            JobStatus::Pending
        };
        inf::JOBS
            .save(&mut s, id, &job(id, vec![member(ME)], status))
            .unwrap();
        let digest = vec![i64::MIN; p.max_output_len as usize + 1];
        let mut lj = local(digest.clone(), 0xFF);
        lj.salt = vec![0xFF; 32];
        lj.latency_ms = u32::MAX;
        if revealing {
            inf::ATTESTATIONS
                .save(
                    &mut s,
                    (id, &ME),
                    &Attestation {
                        commitment: Some(Binary::from(
                            commitment(id, &ME, &digest, &lj.salt).to_vec(),
                        )),
                        ..Default::default()
                    },
                )
                .unwrap();
        }
        cache.insert(id, lj);
    }
    let ve = build_extension(&s, &ME, &mut cache, cap, 1, None);
    assert_eq!(
        (ve.reveals.len(), ve.commitments.len()),
        (n as usize, n as usize)
    );
    assert!(ve.encoded_len() <= cap);
}

/// threats.md §9: attestation records go when the job settles (the result
/// keeps the digest, who agreed, faults, late and grey members).
#[test]
fn attestation_records_go_at_settlement() {
    let mut s = MockStorage::new();
    setup(&mut s, 8);
    let ms = [[1u8; 20], [2u8; 20]];
    inf::JOBS
        .save(
            &mut s,
            1,
            &job(
                1,
                ms.iter().map(|a| member(*a)).collect(),
                JobStatus::Pending,
            ),
        )
        .unwrap();
    inf::LIVE.save(&mut s, (1000, 1), &()).unwrap();
    let mut ls: Vec<_> = ms
        .iter()
        .map(|_| BTreeMap::from([(1, local(vec![5], 9))]))
        .collect();
    for h in [3, 4] {
        let ves: Vec<_> = ms
            .iter()
            .zip(ls.iter_mut())
            .map(|(who, l)| (*who, build_extension(&s, who, l, 2048, 1, None)))
            .collect();
        process_block(&mut s, h, 0, 0, &ves).unwrap();
        if h == 3 {
            assert!(inf::ATTESTATIONS.has(&s, (1, &ms[0])));
        }
    }
    assert!(inf::JOBS.load(&s, 1).unwrap().status.is_final());
    assert!(!inf::ATTESTATIONS.has(&s, (1, &ms[0])));
    assert!(!inf::ATTESTATIONS.has(&s, (1, &ms[1])));
}

/// threats.md §6(c): a member that commits and then holds back its reveal
/// cannot keep the job open to the window's end (here 1000): the job settles
/// `reveal_blocks` (3) after its commit phase closed, with the answers it has.
#[test]
fn a_withheld_reveal_holds_a_job_open_only_until_the_reveal_phase_ends() {
    let mut s = MockStorage::new();
    setup(&mut s, 8);
    let (a, b, c) = ([1u8; 20], [2u8; 20], [3u8; 20]);
    let two = |x: [u8; 20]| Member {
        seats: 2,
        ..member(x)
    };
    inf::JOBS
        .save(
            &mut s,
            1,
            &job(1, vec![two(a), two(b), member(c)], JobStatus::Pending),
        )
        .unwrap();
    inf::LIVE.save(&mut s, (1000, 1), &()).unwrap();
    let mut ls: Vec<_> = [1u8, 2, 3]
        .iter()
        .map(|k| BTreeMap::from([(1, local(vec![5], *k))]))
        .collect();
    let mut settled_at = None;
    for h in 3..20 {
        let ves: Vec<_> = [a, b, c]
            .iter()
            .zip(ls.iter_mut())
            .map(|(who, l)| {
                let mut ve = build_extension(&s, who, l, 2048, 1, None);
                if *who == c {
                    ve.reveals.clear();
                }
                (*who, ve)
            })
            .collect();
        process_block(&mut s, h, 0, 0, &ves).unwrap();
        let j = inf::JOBS.load(&s, 1).unwrap();
        if j.status.is_final() {
            settled_at = Some(h);
            assert_eq!(j.commit_closed_height, 3);
            assert_eq!(j.status, JobStatus::Completed, "4 of 5 seats agree");
            break;
        }
    }
    assert_eq!(
        settled_at,
        Some(6),
        "closed at 3, settled at 3 + reveal_blocks"
    );
    assert_eq!(crate::ATT_INFO.load(&s, &c).unwrap().missed, 2);
}

/// A job no member committed to (a model no sidecar serves) costs its
/// committee nothing: otherwise jobs for an unserved model would fill every
/// honest validator's liveness window.
#[test]
fn a_job_nobody_could_run_costs_its_committee_nothing() {
    let mut s = MockStorage::new();
    setup(&mut s, 8);
    let (a, b) = ([1u8; 20], [2u8; 20]);
    let mut j = job(1, vec![member(a), member(b)], JobStatus::Pending);
    j.commit_deadline = 4;
    j.deadline_height = 6;
    inf::JOBS.save(&mut s, 1, &j).unwrap();
    inf::LIVE.save(&mut s, (6, 1), &()).unwrap();
    for h in 3..=6 {
        process_block(&mut s, h, 0, 0, &[]).unwrap();
    }
    assert_eq!(inf::JOBS.load(&s, 1).unwrap().status, JobStatus::Failed);
    assert!(crate::ATT_INFO.may_load(&s, &a).unwrap().is_none());
    assert!(crate::ATT_INFO.may_load(&s, &b).unwrap().is_none());
}
