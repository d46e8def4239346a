//! Jobs through commit, reveal and settlement in `process_block`.

use super::*;

#[test]
fn a_job_settles_once_every_member_revealed_and_reveals_open_commitments() {
    let mut s = MockStorage::new();
    setup(&mut s, 8);
    let a = [1u8; 20];
    let b = [2u8; 20];
    put_live(
        &mut s,
        &job(1, vec![member(a), member(b)], JobStatus::Pending),
    );
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
    assert_eq!(load(&s, 1).status, JobStatus::Revealing);
    // Reveals; recorded and settled in the same block.
    let ves = round(&s, &mut locals);
    assert!(ves
        .iter()
        .all(|(_, v)| v.reveals.len() == 1 && v.commitments.is_empty()));
    let ev = process_block(&mut s, 4, 0, 0, &ves).unwrap();
    let j = load(&s, 1);
    assert_eq!(j.status, JobStatus::Completed, "{ev:?}");
    assert_eq!(j.result.unwrap().digest, vec![5, 6]);
    // Settled jobs drop out of the local cache and of later extensions.
    let ve = build_extension(&s, &a, &mut locals[0], 2048, 1, None);
    assert!(ve.commitments.is_empty() && ve.reveals.is_empty());
    assert!(locals[0].is_empty());
}

#[test]
fn a_digest_of_another_length_cannot_veto_the_job() {
    let mut s = MockStorage::new();
    setup(&mut s, 8);
    let ms: Vec<[u8; 20]> = (1..=4u8).map(|i| [i; 20]).collect();
    put_live(
        &mut s,
        &job(
            1,
            ms.iter().map(|m| member(*m)).collect(),
            JobStatus::Pending,
        ),
    );
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
    let j = load(&s, 1);
    assert_eq!(j.status, JobStatus::Completed);
    let r = j.result.unwrap();
    assert_eq!(r.digest, vec![5, 6]);
    assert_eq!(r.agreeing.len(), 3);
    assert_eq!(r.faults.len(), 1);
    assert_eq!(r.faults[0].kinds, vec![FaultKind::WrongOutput]);
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
    put_live(&mut s, &job(1, committee, JobStatus::Pending));
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
    load(&s, 1)
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
    assert_eq!(r.faults[0].kinds, vec![FaultKind::WrongOutput]);
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
    put_live(&mut s, &j);
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
    assert_eq!(load(&s, 1).status, JobStatus::Revealing);
    let ve_a = build_extension(&s, &a, &mut la, 2048, 1, None);
    let ve_b = build_extension(&s, &b, &mut lb, 2048, 1, None);
    process_block(&mut s, 14, 104, 104_000, &[(a, ve_a), (b, ve_b)]).unwrap();
    let j = load(&s, 1);
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
    put_live(&mut s, &j);
    process_block(&mut s, 13, 103, 103_000, &[]).unwrap();
    assert_eq!(load(&s, 2).status, JobStatus::Pending);
    process_block(&mut s, 14, 105, 105_000, &[]).unwrap();
    assert_eq!(load(&s, 2).status, JobStatus::Revealing);
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
    put_live(&mut s, &j);
    // Job 2, settled in the same block (c withholds there too): d silent
    // (half the committee late or withholding: not yet an incident).
    let mut j2 = job(
        2,
        vec![member(a), member(b), member(c), member(d)],
        JobStatus::Pending,
    );
    j2.deadline_height = 6;
    j2.commit_deadline = 4;
    put_live(&mut s, &j2);
    let mut ls: Vec<BTreeMap<u64, LocalJob>> = [1u8, 2, 3]
        .iter()
        .map(|k| BTreeMap::from([(1, local(vec![5], *k)), (2, local(vec![5], *k))]))
        .collect();
    for h in 3..=6 {
        let ves = withholding(&s, &[a, b, c], &mut ls, c);
        process_block(&mut s, h, 0, 0, &ves).unwrap();
    }
    assert_eq!(load(&s, 1).status, JobStatus::Failed);
    let missed = |x: [u8; 20]| crate::att_info(&s, &x).unwrap().unwrap_or_default();
    assert_eq!(missed(c).missed, 2, "withheld after committing");
    assert_eq!(missed(d).missed, 1, "silent");
    assert_eq!((missed(a).missed, missed(b).missed), (0, 0));
    // One block, two jobs: a has one entry for the block, not one per seat.
    assert_eq!(missed(a).seats, 1);
}

/// threats.md §9: attestation records go when the job settles (the result
/// keeps the digest, who agreed, faults, late and grey members).
#[test]
fn attestation_records_go_at_settlement() {
    let mut s = MockStorage::new();
    setup(&mut s, 8);
    let ms = [[1u8; 20], [2u8; 20]];
    put_live(
        &mut s,
        &job(
            1,
            ms.iter().map(|a| member(*a)).collect(),
            JobStatus::Pending,
        ),
    );
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
            assert!(jobs::attestation(&s, 1, &ms[0]).unwrap().is_some());
        }
    }
    assert!(load(&s, 1).status.is_final());
    assert!(jobs::attestation(&s, 1, &ms[0]).unwrap().is_none());
    assert!(jobs::attestation(&s, 1, &ms[1]).unwrap().is_none());
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
    put_live(
        &mut s,
        &job(1, vec![two(a), two(b), member(c)], JobStatus::Pending),
    );
    let mut ls: Vec<_> = [1u8, 2, 3]
        .iter()
        .map(|k| BTreeMap::from([(1, local(vec![5], *k))]))
        .collect();
    let mut settled_at = None;
    for h in 3..20 {
        let ves = withholding(&s, &[a, b, c], &mut ls, c);
        process_block(&mut s, h, 0, 0, &ves).unwrap();
        let j = load(&s, 1);
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
    assert_eq!(crate::att_info(&s, &c).unwrap().unwrap().missed, 2);
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
    put_live(&mut s, &j);
    for h in 3..=6 {
        process_block(&mut s, h, 0, 0, &[]).unwrap();
    }
    assert_eq!(load(&s, 1).status, JobStatus::Failed);
    assert!(crate::att_info(&s, &a).unwrap().is_none());
    assert!(crate::att_info(&s, &b).unwrap().is_none());
}

/// Issue 21 §3: more than `incident_share` (1/2) of a committee late or
/// withholding on a failed job is an incident: the silent member is charged
/// no miss, the withholder still its two, and the result says so.
#[test]
fn a_correlated_failure_excuses_the_late_but_not_the_withholder() {
    let mut s = MockStorage::new();
    setup(&mut s, 8);
    let (a, c, d) = ([1u8; 20], [3u8; 20], [4u8; 20]);
    let mut j = job(1, vec![member(a), member(c), member(d)], JobStatus::Pending);
    j.deadline_height = 6;
    j.commit_deadline = 4;
    put_live(&mut s, &j);
    let mut ls: Vec<BTreeMap<u64, LocalJob>> = [1u8, 3]
        .iter()
        .map(|k| BTreeMap::from([(1, local(vec![5], *k))]))
        .collect();
    let mut events = Vec::new();
    for h in 3..=6 {
        let ves = withholding(&s, &[a, c], &mut ls, c);
        events.extend(process_block(&mut s, h, 0, 0, &ves).unwrap());
    }
    let j = load(&s, 1);
    assert_eq!(j.status, JobStatus::Failed);
    assert!(j.result.unwrap().incident);
    assert!(
        events.iter().any(|e| e.kind == "inference_incident"),
        "{events:?}"
    );
    let missed = |x: [u8; 20]| crate::att_info(&s, &x).unwrap().unwrap_or_default();
    assert_eq!(missed(c).missed, 2, "withholding is never excused");
    assert_eq!(missed(d).seats, 0, "the late seat does not count");
    assert_eq!(missed(a).missed, 0);
}

/// One round of extensions of `who` (with their local results), where
/// `withholder` commits like the others but never reveals.
fn withholding(
    s: &MockStorage,
    who: &[[u8; 20]],
    ls: &mut [BTreeMap<u64, LocalJob>],
    withholder: [u8; 20],
) -> Vec<([u8; 20], VoteExtension)> {
    who.iter()
        .zip(ls.iter_mut())
        .map(|(w, l)| {
            let mut ve = build_extension(s, w, l, 2048, 1, None);
            if *w == withholder {
                ve.reveals.clear();
            }
            (*w, ve)
        })
        .collect()
}
