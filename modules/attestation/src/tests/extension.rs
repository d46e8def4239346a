//! Building vote extensions and checking them (docs/design.md §6.4–6.6).

use super::*;

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
            put(&mut s, &job(id, committee, STATUSES[c.status as usize]));
            let digest: Vec<i64> = (0..c.digest_len as i64).map(|k| k * 1_000_003 - id as i64).collect();
            if c.chain_commit > 0 || c.chain_reveal {
                let salt = if c.chain_commit == 2 { [4; 16] } else { [3; 16] };
                jobs::record_attestation(&mut s, id, &ME, &Attestation {
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
fn duplicate_votes_count_once() {
    let mut s = MockStorage::new();
    setup(&mut s, 8);
    let a = [1u8; 20];
    put(
        &mut s,
        &job(1, vec![member(a), member([2; 20])], JobStatus::Pending),
    );
    let mut l = BTreeMap::from([(1, local(vec![1], 9))]);
    let ve = build_extension(&s, &a, &mut l, 2048, 1, None);
    let mut forged = ve.clone();
    forged.commitments[0].commitment = vec![0; 32];
    // The same validator twice in one injected tx: the first one counts.
    process_block(&mut s, 3, 0, 0, &[(a, ve.clone()), (a, forged)]).unwrap();
    let att = jobs::attestation(&s, 1, &a).unwrap().unwrap();
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
    put_live(&mut s, &j);
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
    assert!(jobs::attestation(&s, 1, &b).unwrap().is_none());
    assert_eq!(load(&s, 1).status, JobStatus::Committed);
    // The commit deadline closes the phase without b.
    process_block(&mut s, 5, 0, 0, &[]).unwrap();
    assert_eq!(load(&s, 1).status, JobStatus::Revealing);
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
            runtime: String::new(),
        }],
        ..Default::default()
    };
    assert!(check_against_state(&s, &late, &b).is_err());
    process_block(&mut s, 6, 0, 0, &[(b, late)]).unwrap();
    assert!(jobs::attestation(&s, 1, &b).unwrap().is_none());
    // a reveals; nothing is left to wait for: the job settles.
    let ve = build_extension(&s, &a, &mut la, 2048, 1, None);
    assert_eq!(ve.reveals.len(), 1);
    process_block(&mut s, 7, 0, 0, &[(a, ve)]).unwrap();
    assert!(load(&s, 1).status.is_final());
}

/// The reveal goes into the extension of the block that closes the commit
/// phase: with an honest committee, commitments recorded at h close the phase
/// at h and the reveals recorded at h+1 settle the job there.
#[test]
fn a_member_reveals_in_the_extension_of_the_block_that_closes_the_phase() {
    let mut s = MockStorage::new();
    setup(&mut s, 8);
    let (a, b) = ([1u8; 20], [2u8; 20]);
    put_live(
        &mut s,
        &job(1, vec![member(a), member(b)], JobStatus::Pending),
    );
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
    assert_eq!(load(&s, 1).status, JobStatus::Revealing);
    process_block(&mut s, 4, 0, 0, &[(a, ra), (b, rb)]).unwrap();
    let j = load(&s, 1);
    assert_eq!(j.status, JobStatus::Completed);
    assert_eq!(j.result.unwrap().finalized_height, 4);
    // If the block does not close the phase (one commitment missing, SLA not
    // passed), nobody reveals early.
    let mut s = MockStorage::new();
    setup(&mut s, 8);
    put(
        &mut s,
        &job(1, vec![member(a), member(b)], JobStatus::Pending),
    );
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
        put(&mut s, &job(id, vec![member(ME)], status));
        let digest = vec![i64::MIN; p.max_output_len as usize + 1];
        let mut lj = local(digest.clone(), 0xFF);
        lj.salt = vec![0xFF; 32];
        lj.latency_ms = u32::MAX;
        if revealing {
            jobs::record_attestation(
                &mut s,
                id,
                &ME,
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

/// Issue 21 §4: a commitment says what ran it (at most 48 printable ASCII
/// bytes); the chain records it with the commitment, for provenance.
#[test]
fn a_commitment_carries_its_runtime_within_bounds() {
    let ok = VoteExtension {
        version: 1,
        commitments: vec![JobCommitment {
            job_id: 1,
            commitment: vec![0; 32],
            latency_ms: 1,
            runtime: "onnxruntime/1.22.0 cuda".into(),
        }],
        ..Default::default()
    };
    assert!(check_payload(&ok).is_ok());
    for bad in ["r".repeat(49), "line\nbreak".into(), "é".into()] {
        let mut ve = ok.clone();
        ve.commitments[0].runtime = bad.clone();
        assert!(check_payload(&ve).is_err(), "{bad:?}");
    }
    assert_eq!(crate::extension::runtime_field(&"x".repeat(60)).len(), 48);
}
