//! App tests of inference and attestation: whole heights in-process on four
//! nodes with staking validators from gentxs (the shared kit in `kit/`).

mod kit;
use kit::*;

/// What each operator's MsgServeModel costs it (the kit's tx fee).
const SERVE_FEE: u128 = 10_000;

#[test]
fn an_honest_committee_completes_the_job_pays_it_and_slashes_nobody() {
    let mut net = TestNet::new(&[Honest; 4], 8);
    let ops: Vec<u128> = (0..4)
        .map(|i| net.balance(&operator(i).address().bech32()))
        .collect();
    let (job, r) = net.one_job();
    assert_eq!(job["status"], "completed");
    // Committee drawn in block H+1 (from its beacon), commit in VE(H+2)
    // (recorded at H+3, which closes the commit phase), reveal in VE(H+3) — the
    // extension of the very block that closes it —, settled in block H+4.
    let submitted = job["submitted_height"].as_u64().expect("h");
    assert_eq!(
        job["result"]["finalized_height"].as_u64(),
        Some(submitted + 4)
    );
    assert_eq!(job["result"]["agreeing"].as_array().map(Vec::len), Some(4));
    assert_eq!(
        job["result"]["digest"],
        json!([100, 101, 102, 103, 104, 105, 106, 107])
    );
    assert_eq!(job["output"][0], "0.1");
    // Addresses read as addresses, not byte arrays.
    assert_eq!(job["requester"], json!(user().address().bech32()));
    let op = job["committee"][0]["operator"].as_str().expect("a string");
    assert!(op.starts_with("verdictvaloper1"), "{op}");
    // Inputs live apart from the job; they stay while the result is
    // provisional (a challenge re-runs them) and go when it is final.
    assert_eq!(job["finality"], "provisional");
    assert_eq!(job["inputs"].as_array().map(Vec::len), Some(1));
    assert!(events(&r, "slash").is_empty());
    assert_eq!(events(&r, "inference_job_result").len(), 1);
    // 40 000 uverd split by equal power, paid through distribution: 5% commission
    // to each operator, the rest to its (self-)delegation; nothing lands in the
    // operators' accounts until they withdraw.
    use cosmrs::proto::cosmos::distribution::v1beta1 as dpb;
    let dec = |s: &str| -> u128 { s.parse::<u128>().expect("dec") / 1_000_000_000_000_000_000 };
    for i in 0..4u8 {
        let op = operator(i).address();
        // Each operator paid its MsgServeModel's 10 000 uverd fee.
        assert_eq!(
            net.balance(&op.bech32()),
            ops[i as usize] - SERVE_FEE,
            "operator {i}"
        );
        let rewards: dpb::QueryDelegationRewardsResponse = net.proto(
            "/cosmos.distribution.v1beta1.Query/DelegationRewards",
            dpb::QueryDelegationRewardsRequest {
                delegator_address: op.bech32(),
                validator_address: op.valoper(),
            },
        );
        let commission: dpb::QueryValidatorCommissionResponse = net.proto(
            "/cosmos.distribution.v1beta1.Query/ValidatorCommission",
            dpb::QueryValidatorCommissionRequest {
                validator_address: op.valoper(),
            },
        );
        let r: u128 = rewards.rewards.iter().map(|c| dec(&c.amount)).sum();
        let c: u128 = commission
            .commission
            .map(|c| c.commission.iter().map(|x| dec(&x.amount)).sum())
            .unwrap_or(0);
        // Job: 10 000 → 500 commission + 9 500. The six 10 000 uverd tx fees
        // (register, four serve declarations, submit) are shared too:
        // 15 000 → 750 + 14 250.
        assert_eq!(c, 1_250, "operator {i} commission");
        assert!((23_749..=23_750).contains(&r), "operator {i} rewards {r}");
    }
    assert!(net
        .query("Faults", json!({}))
        .as_array()
        .expect("list")
        .is_empty());
    // Issue 21 §4: the provenance a third party checks the job with.
    let pv = &job["provenance"];
    assert_eq!(pv["inputs_hash"].as_str().map(str::len), Some(64), "{pv}");
    assert_eq!(pv["spec_hash"].as_str().map(str::len), Some(64), "{pv}");
    assert_eq!(pv["seed"].as_str().map(str::len), Some(64), "{pv}");
    assert_eq!(pv["drawn_height"].as_u64(), Some(submitted + 1));
    let attested = pv["attested"].as_array().expect("attested");
    assert_eq!(attested.len(), 4);
    for a in attested {
        assert_eq!(a["commit_height"].as_u64(), Some(submitted + 3), "{a}");
        assert_eq!(a["reveal_height"].as_u64(), Some(submitted + 4), "{a}");
        // What each member's sidecar said ran it, from its commitment.
        assert_eq!(a["runtime"], "onnxruntime/kit cpu", "{a}");
    }
}

#[test]
fn a_wrong_output_is_slashed_and_jailed_in_the_block_that_settles_the_job() {
    let mut net = TestNet::new(&[Honest, Wrong, Honest, Honest], 8);
    let (job, r) = net.one_job();
    assert_eq!(job["status"], "completed");
    assert_eq!(job["result"]["agreeing_power"], 300);
    let bad = net.nodes[1].hex();
    let slashes = events(&r, "slash");
    assert_eq!(slashes.len(), 1, "{slashes:?}");
    assert_eq!(slashes[0]["address"], bad);
    assert_eq!(slashes[0]["reason"], "inference_wrong_output");
    assert_eq!(slashes[0]["job_id"], "1");
    // 1% of 100 VERD slashed into the insurance pool (not burned), and the
    // power update leaves in the same response.
    assert_eq!(slashes[0]["slashed_coins"], "1000000");
    let pool = verdict_inference::state::insurance_pool().bech32();
    assert_eq!(slashes[0]["to"], pool);
    let zero: Vec<_> = r
        .validator_updates
        .iter()
        .filter(|u| u.power == 0)
        .collect();
    assert_eq!(zero.len(), 1);
    // The chain goes on with three validators.
    net.run_heights(4);
    assert_eq!(net.active.len(), 3);
}

fn supply(net: &TestNet) -> u128 {
    use cosmrs::proto::cosmos::bank::v1beta1 as bpb;
    let r: bpb::QuerySupplyOfResponse = net.proto(
        "/cosmos.bank.v1beta1.Query/SupplyOf",
        bpb::QuerySupplyOfRequest {
            denom: "uverd".into(),
        },
    );
    r.amount.expect("coin").amount.parse().expect("amount")
}

/// Issue 21 §2: inference slashes are not burned. The wrong member's 1 VERD
/// goes to the insurance pool; the job completed (the quorum's result reached
/// the requester), so all of it stays there — paying a completed job's
/// requester would let it and a mostly-delegated validator profit from the
/// delegators' stake. The supply is unchanged and the books balance.
#[test]
fn a_wrong_outputs_slash_goes_to_the_insurance_pool_not_a_burn() {
    let mut net = TestNet::new(&[Honest, Wrong, Honest, Honest], 8);
    let pool = verdict_inference::state::insurance_pool().bech32();
    let supply_before = supply(&net);
    let (job, r) = net.one_job();
    assert_eq!(job["status"], "completed");
    assert_eq!(events(&r, "slash")[0]["slashed_coins"], "1000000");
    assert!(events(&r, "inference_compensation").is_empty());
    assert_eq!(net.balance(&pool), 1_000_000);
    assert_eq!(supply(&net), supply_before, "nothing burned");
    net.check_invariants();
}

/// Issue 21 §2: a job the faults left without a result compensates its
/// requester. Two bad reveals of four fail the job; the first is slashed 1 VERD
/// (the second is over the third-of-the-power jail budget); the requester gets
/// its fee back but for the base fee, plus `compensation_fee_multiple` (10) ×
/// the fee (40 000) from the pool, which keeps the rest.
#[test]
fn a_job_failed_by_faults_compensates_its_requester_from_the_pool() {
    let mut net = TestNet::new(&[Honest, Honest, BadReveal, BadReveal], 8);
    let user_addr = user().address().bech32();
    let pool = verdict_inference::state::insurance_pool().bech32();
    let supply_before = supply(&net);
    let before = net.balance(&user_addr);
    let (job, r) = net.one_job();
    assert_eq!(job["status"], "failed");
    let comp = events(&r, "inference_compensation");
    assert_eq!(comp.len(), 1, "{comp:?}");
    assert_eq!(comp[0]["amount"], "400000uverd");
    assert_eq!(comp[0]["requester"], user_addr);
    assert_eq!(job["result"]["compensation"], "400000");
    // Two tx fees, the registration fee and the base fee left; 400 000 came.
    assert_eq!(
        before - net.balance(&user_addr),
        20_000 + 1_000_000 + 200 - 400_000
    );
    assert_eq!(net.balance(&pool), 600_000);
    assert_eq!(supply(&net), supply_before, "nothing burned");
    net.check_invariants();
}

/// Issue 21 §3: within `fault_cap_window_blocks` one validator's inference
/// slashes take at most `validator_slash_cap` of its stake. The wrong member
/// answered three jobs before its first slash jailed it: 1 % for the first, the
/// second cut to the 0.5 % left of a 1.5 % cap, the third takes nothing (the
/// validator stays jailed). Before the cap: three slashes of 1 % each.
#[test]
fn a_burst_of_faults_slashes_one_validator_at_most_its_cap_per_window() {
    let mut net = TestNet::inference(&[Honest, Wrong, Honest, Honest], 8)
        .inference_params(json!({"validator_slash_cap": "0.015"}))
        .start();
    let reg = net.register();
    net.run_height(vec![reg]);
    let mut slashes = Vec::new();
    for _ in 0..3 {
        let sub = net.submit();
        let r = net.run_height(vec![sub]);
        slashes.extend(events(&r, "slash"));
    }
    for _ in 0..12 {
        let r = net.run_height(vec![]);
        slashes.extend(events(&r, "slash"));
    }
    let took: Vec<&str> = slashes
        .iter()
        .map(|e| match e.get("capped") {
            Some(_) => "capped",
            None => e["slashed_coins"].as_str(),
        })
        .collect();
    assert_eq!(took, vec!["1000000", "500000", "0"], "{slashes:?}");
    assert!(slashes.iter().all(|e| e["jailed"] == "true"), "{slashes:?}");
    net.check_invariants();
}

#[test]
fn a_reveal_that_does_not_open_its_commitment_is_slashed() {
    let mut net = TestNet::new(&[Honest, Honest, BadReveal, Honest], 8);
    let (job, r) = net.one_job();
    assert_eq!(job["status"], "completed");
    let slashes = events(&r, "slash");
    assert_eq!(slashes.len(), 1, "{slashes:?}");
    assert_eq!(slashes[0]["address"], net.nodes[2].hex());
    assert_eq!(slashes[0]["reason"], "inference_bad_reveal");
}

/// threats.md §3: the SLA is judged from consensus data. A member whose
/// commitment is not on chain when the commit phase closes (here: it answers
/// late and reports 1 ms) is late — a missed seat, never a slash, never paid —
/// and the job does not wait for it.
#[test]
fn a_late_member_is_late_whatever_it_reports_and_never_slashed_for_it() {
    let mut net = TestNet::new(&[Honest, Honest, Honest, Slow], 8);
    let ops: Vec<u128> = (0..4)
        .map(|i| net.balance(&operator(i).address().bech32()))
        .collect();
    let (job, r) = net.one_job();
    assert_eq!(job["status"], "completed");
    let submitted = job["submitted_height"].as_u64().expect("h");
    assert_eq!(
        job["result"]["finalized_height"].as_u64(),
        Some(submitted + 4),
        "the slow member does not delay the result"
    );
    assert_eq!(job["result"]["agreeing"].as_array().map(Vec::len), Some(3));
    assert_eq!(job["result"]["late"], json!([net.nodes[3].hex()]));
    assert!(events(&r, "slash").is_empty());
    // Latency measured by the chain: commitments recorded 3 blocks (3 s of BFT
    // time) after the job's block.
    assert_eq!(job["result"]["latency_ms"], json!(3000));
    // Paid: the three on-time members; not the late one.
    let after: Vec<u128> = (0..4)
        .map(|i| net.balance(&operator(i).address().bech32()))
        .collect();
    assert_eq!(
        ops[3] - SERVE_FEE,
        after[3],
        "the late member earns nothing"
    );
    let missed = net.query("Faults", json!({}));
    assert!(missed.as_array().expect("list").is_empty(), "{missed}");
}

/// A lazy copier (verdictd `--fault copy`) never has an answer before the
/// commit phase closes, and after it no commitment is accepted: it is late on
/// every job, never paid, never in the result.
#[test]
fn a_copier_cannot_commit_to_an_answer_it_copied() {
    let mut net = TestNet::new(&[Honest, Honest, Honest, Copier], 8);
    let before = net.balance(&operator(3).address().bech32());
    let (job, r) = net.one_job();
    assert_eq!(job["status"], "completed");
    assert_eq!(job["result"]["late"], json!([net.nodes[3].hex()]));
    assert_eq!(job["result"]["agreeing"].as_array().map(Vec::len), Some(3));
    assert!(events(&r, "slash").is_empty());
    assert_eq!(
        net.balance(&operator(3).address().bech32()),
        before - SERVE_FEE
    );
    // The copier did see the public answer: its cache holds it, to no avail.
    net.run_heights(3);
    assert_eq!(net.job(1)["result"]["late"], json!([net.nodes[3].hex()]));
}

/// Without a quorum the job fails: the fee comes back but for the base fee
/// (threats.md §9: a job nobody serves is not free), nobody is slashed.
#[test]
fn without_a_quorum_the_fee_is_refunded_but_the_base_fee_and_nobody_is_slashed() {
    let mut net = TestNet::new(&[Honest, Honest, Silent, Silent], 5);
    let before = net.balance(&user().address().bech32());
    let (job, r) = net.one_job();
    assert_eq!(job["status"], "failed");
    assert_eq!(job["result"]["missing"].as_array().map(Vec::len), Some(2));
    assert!(events(&r, "slash").is_empty());
    // The two tx fees, the model registration fee (1 VERD, to the community
    // pool) and the job's base fee (200) left the requester; the rest of the
    // job fee came back.
    assert_eq!(
        before - net.balance(&user().address().bech32()),
        20_000 + 1_000_000 + 200
    );
    assert_eq!(net.balance(&verdict_inference::state::escrow().bech32()), 0);
}

#[test]
fn a_proposer_dropping_a_quarter_of_the_extensions_causes_no_slash() {
    let mut net = TestNet::new(&[Honest; 4], 6);
    net.drop.insert(net.nodes[3].addr());
    let (job, r) = net.one_job();
    // Three of four (75% > 2/3) agree; the fourth is missing, not faulty.
    assert_eq!(job["status"], "completed");
    assert_eq!(job["result"]["missing"], json!([net.nodes[3].hex()]));
    assert!(events(&r, "slash").is_empty());
    assert!(net
        .query("Faults", json!({}))
        .as_array()
        .expect("list")
        .is_empty());
}

#[test]
fn replaying_the_settling_block_after_a_crash_gives_the_same_app_hash() {
    let mut net = TestNet::new(&[Honest, Wrong, Honest, Honest], 8);
    let reg = net.register();
    net.run_height(vec![reg]);
    let sub = net.submit();
    net.run_height(vec![sub]);
    net.run_height(vec![]);
    net.run_height(vec![]);
    net.run_height(vec![]);
    // The next block settles job 1: decide it on node 2, crash before Commit.
    let block = net.propose(0, vec![]);
    let first = net.finalize(2, &block);
    assert!(
        !events(&first, "slash").is_empty(),
        "this block settles the job"
    );
    net.restart(2);
    let replay = net.finalize(2, &block);
    assert_eq!(first.app_hash, replay.app_hash);
    for i in [0usize, 1, 3] {
        assert_eq!(net.finalize(i, &block).app_hash, first.app_hash);
    }
}

#[test]
fn bad_jobs_are_refused_with_clear_codes_and_change_nothing() {
    let mut net = TestNet::new(&[Honest; 4], 8);
    let reg = net.register();
    net.run_height(vec![reg]);
    let mut unknown = pb::MsgSubmitJob::decode(
        TestNet::submit_msg(vec![0; 8], vec![1, 2], 40_000)
            .value
            .as_slice(),
    )
    .expect("decode");
    unknown.model_id = "ab".repeat(32);
    let mut tight = unknown.clone();
    tight.model_id = MODEL.into();
    tight.max_latency_ms = 1;
    let cases = [
        (
            TestNet::submit_msg(vec![0; 8], vec![1, 2], 10),
            13,
            "below the minimum job fee",
        ),
        (
            TestNet::submit_msg(vec![0; 12], vec![1, 3], 40_000),
            18,
            "does not fit",
        ),
        (
            TestNet::submit_msg(vec![0; 7], vec![1, 2], 40_000),
            18,
            "needs 8 bytes",
        ),
        (
            TestNet::submit_msg(vec![0; 8], vec![5_000, 2], 40_000),
            21,
            "above the cap",
        ),
        (
            cosmrs::Any {
                type_url: pb::MSG_SUBMIT_JOB_URL.into(),
                value: unknown.encode_to_vec(),
            },
            38,
            "unknown model",
        ),
        // An SLA nobody can meet would let a requester slash the committee.
        (
            cosmrs::Any {
                type_url: pb::MSG_SUBMIT_JOB_URL.into(),
                value: tight.encode_to_vec(),
            },
            18,
            "outside the chain's range",
        ),
    ];
    let escrow = verdict_inference::state::escrow().bech32();
    let txs: Vec<Vec<u8>> = cases
        .iter()
        .map(|(m, _, _)| net.user_tx(vec![m.clone()]))
        .collect();
    let r = net.run_height(txs);
    // tx[0] is the injected extensions.
    for (i, (_, code, text)) in cases.iter().enumerate() {
        let res = &r.tx_results[i + 1];
        assert_eq!(res.code, *code, "case {i}: {}", res.log);
        assert!(res.log.contains(text), "case {i}: {}", res.log);
    }
    assert!(net
        .query("Jobs", json!({}))
        .as_array()
        .expect("list")
        .is_empty());
    assert_eq!(net.balance(&escrow), 0);
    // A junk JSON query is a clear error too.
    let q = raw_query(
        net.app(),
        "/verdict.inference.v1.Query/Job",
        b"{not json".to_vec(),
        0,
        false,
    );
    assert_eq!(q.code, 18, "{}", q.log);
}

#[test]
fn forged_oversized_or_foreign_extensions_are_rejected_by_verification() {
    let mut net = TestNet::new(&[Honest; 4], 8);
    let reg = net.register();
    net.run_height(vec![reg]);
    let sub = net.submit();
    net.run_height(vec![sub]);
    let h = net.height + 1;
    let verify = |net: &Net, ve: &VoteExtension, who: Vec<u8>| {
        net.nodes[0]
            .app
            .verify_vote_extension(RequestVerifyVoteExtension {
                validator_address: who.into(),
                height: h,
                vote_extension: ve.encode_to_vec().into(),
                ..Default::default()
            })
            .status
    };
    let reveal = |job_id| verdict_proto::app::v1::JobReveal {
        job_id,
        digest: vec![1, 2],
        salt: vec![0; 16],
    };
    let me = net.nodes[1].addr();
    let ok = VoteExtension {
        version: 1,
        reveals: vec![reveal(1)],
        ..Default::default()
    };
    // Job 1 is in its commit phase: a reveal now would publish an answer others
    // could still commit to.
    assert_eq!(verify(&net, &ok, me.clone()), VerifyStatus::Reject as i32);
    let unknown_job = VoteExtension {
        version: 1,
        reveals: vec![reveal(99)],
        ..Default::default()
    };
    assert_eq!(
        verify(&net, &unknown_job, me.clone()),
        VerifyStatus::Reject as i32
    );
    // Not on the committee (an address outside the set).
    assert_eq!(verify(&net, &ok, vec![9; 20]), VerifyStatus::Reject as i32);
    let unsorted = VoteExtension {
        version: 1,
        reveals: vec![reveal(1), reveal(1)],
        ..Default::default()
    };
    assert_eq!(
        verify(&net, &unsorted, me.clone()),
        VerifyStatus::Reject as i32
    );
    let big = VoteExtension {
        version: 1,
        reveals: vec![verdict_proto::app::v1::JobReveal {
            job_id: 1,
            digest: vec![i64::MAX; 300],
            salt: vec![0; 16],
        }],
        ..Default::default()
    };
    assert_eq!(verify(&net, &big, me.clone()), VerifyStatus::Reject as i32);
    let short_salt = VoteExtension {
        version: 1,
        reveals: vec![verdict_proto::app::v1::JobReveal {
            job_id: 1,
            digest: vec![1],
            salt: vec![0; 3],
        }],
        ..Default::default()
    };
    assert_eq!(verify(&net, &short_salt, me), VerifyStatus::Reject as i32);
    // The job still settles normally.
    net.run_heights(5);
    assert_eq!(net.job(1)["status"], "completed");
}

/// threats.md §8: being jailed before a job settles no longer excuses a member
/// that answered: its wrong reveal on job 2 is judged and recorded although the
/// wrong answer of job 1 jailed it first. Only a silent member out of the set
/// is excused (it may have been unable to sign extensions).
#[test]
fn a_jail_after_the_fact_never_erases_a_fault() {
    let mut net = TestNet::new(&[Honest, Wrong, Honest, Honest], 8);
    let reg = net.register();
    net.run_height(vec![reg]);
    let a = net.submit();
    net.run_height(vec![a]);
    let b = net.submit();
    net.run_height(vec![b]);
    net.run_heights(12);
    let (j1, j2) = (net.job(1), net.job(2));
    assert_eq!(j1["status"], "completed");
    assert_eq!(j1["result"]["faults"][0]["address"], net.nodes[1].hex());
    // Node 1 was jailed when job 1 settled, before job 2 did; it had revealed
    // for job 2 already: judged, not excused.
    assert_eq!(j2["status"], "completed", "{j2}");
    assert_eq!(j2["result"]["excused"], json!([]));
    assert_eq!(j2["result"]["committee_power"], 400);
    assert_eq!(j2["result"]["faults"][0]["address"], net.nodes[1].hex());
    assert_eq!(
        net.query("Faults", json!({})).as_array().map(Vec::len),
        Some(2)
    );
}

#[test]
fn a_member_that_keeps_missing_its_seats_is_slashed_and_jailed_like_downtime() {
    let mut net = TestNet::inference(&[Honest, Honest, Honest, Silent], 5)
        .inference_params(json!({"missed_window": 3, "min_attested_fraction": "0.5"}))
        .start();
    let reg = net.register();
    net.run_height(vec![reg]);
    let mut slash = None;
    for _ in 0..4 {
        let sub = net.submit();
        net.run_height(vec![sub]);
        for _ in 0..6 {
            let r = net.run_height(vec![]);
            if let Some(e) = events(&r, "slash").into_iter().next() {
                slash = Some((net.height, e));
            }
        }
    }
    // Three seats, at most one may be missed: the third miss slashes.
    let (_, e) = slash.expect("the silent validator is slashed");
    assert_eq!(e["address"], net.nodes[3].hex());
    assert_eq!(e["reason"], "inference_missed_attestations");
    assert!(
        !net.active.contains_key(&net.nodes[3].addr()),
        "jailed, out of the set"
    );
    // Every job still completed: three of four agree.
    for id in 1..=4 {
        assert_eq!(net.job(id)["status"], "completed", "job {id}");
    }
}

/// Issue 21 §3: three sidecars of four down is a correlated failure, not
/// three faults: with more than `incident_share` (1/2) of the committee late,
/// each job is an incident — refunded in full, an `inference_incident` event,
/// no liveness miss — for up to half the liveness window (here 10 blocks) in a
/// row per validator.
#[test]
fn an_outage_of_most_of_a_committee_is_an_incident_refunded_and_slashing_nobody() {
    let mut net = TestNet::inference(&[Honest, Silent, Silent, Silent], 5)
        .inference_params(json!({"missed_window": 20, "min_attested_fraction": "0.9"}))
        .start();
    let user_addr = user().address().bech32();
    let reg = net.register();
    net.run_height(vec![reg]);
    let mut incidents = 0;
    for _ in 0..6 {
        let before = net.balance(&user_addr);
        let rs = net.job_round(5);
        assert!(rs.iter().all(|r| events(r, "slash").is_empty()));
        incidents += rs
            .iter()
            .map(|r| events(r, "inference_incident").len())
            .sum::<usize>();
        // Refunded in full, the base fee too: only the tx fee is gone.
        assert_eq!(before - net.balance(&user_addr), 10_000);
    }
    assert_eq!(incidents, 6);
    assert_eq!(net.active.len(), 4, "nobody jailed");
    let j = net.job(1);
    assert_eq!(j["status"], "failed");
    assert_eq!(j["result"]["incident"], true);
    net.check_invariants();
}

/// Review of issue 21 §3: a majority that never answers is not excused
/// forever. With a window of 4, two incident blocks in a row are excused;
/// then the late seats count, the liveness slashes come (within the jail
/// budget: one validator of four), and the jobs are still refunded.
#[test]
fn a_majority_that_never_answers_is_excused_only_half_a_window() {
    let mut net = TestNet::inference(&[Honest, Silent, Silent, Silent], 5)
        .inference_params(json!({"missed_window": 4, "min_attested_fraction": "0.5"}))
        .start();
    let reg = net.register();
    net.run_height(vec![reg]);
    let mut slashed = 0;
    for _ in 0..12 {
        let rs = net.job_round(5);
        slashed += rs
            .iter()
            .flat_map(|r| events(r, "slash"))
            .filter(|e| e.get("capped").is_none())
            .count();
    }
    assert_eq!(
        slashed, 1,
        "one of the silent majority jailed, the rest capped"
    );
    assert_eq!(net.active.len(), 3);
    net.check_invariants();
}

/// threats.md §2 / issue 13: three sidecars of four down. Each of the three
/// misses every seat, the liveness window fills, and the missed-attestation
/// slashes come — but within any `fault_cap_window_blocks` inference faults
/// jail at most a third of the bonded power, the rest are recorded as capped,
/// and the chain (here: every node agreeing on every block with > 2/3 of the
/// power voting) keeps going. With every sidecar down nobody commits: a job
/// nobody could run costs nothing (or a squatter with jobs for a model nobody
/// serves could get honest validators jailed).
#[test]
fn sidecars_down_never_jail_more_than_a_third_or_stop_the_chain() {
    let mut all = TestNet::inference(&[Silent; 4], 5)
        .inference_params(json!({"missed_window": 2, "min_attested_fraction": "0.5"}))
        .start();
    let reg = all.register();
    all.run_height(vec![reg]);
    for _ in 0..6 {
        let rs = all.job_round(5);
        assert!(rs.iter().all(|r| events(r, "slash").is_empty()));
    }
    assert_eq!(all.active.len(), 4);
    // Three of four down is an incident (the test above); with the incident
    // rule off the liveness slashes come, within the cap.
    let mut net = TestNet::inference(&[Honest, Silent, Silent, Silent], 5)
        .inference_params(json!({
            "missed_window": 2,
            "min_attested_fraction": "0.5",
            "incident_share": "1"
        }))
        .start();
    let reg = net.register();
    net.run_height(vec![reg]);
    let mut capped = 0;
    let mut slashed = 0;
    for _ in 0..12 {
        let rs = net.job_round(5);
        for r in &rs {
            for e in events(r, "slash") {
                if e.get("capped").map(String::as_str) == Some("true") {
                    capped += 1;
                } else {
                    slashed += 1;
                }
            }
        }
        assert!(net.active.len() >= 3, "{} of 4 left", net.active.len());
    }
    assert_eq!(slashed, 1, "one validator (a quarter of the power) jailed");
    assert!(capped > 0, "the others' faults were capped");
    net.run_heights(5);
    assert!(net.active.len() >= 3);
}

/// threats.md §9 (state growth): a settled job stays `job_retention_blocks`
/// after settlement, then goes with its requester index entry; the query then
/// says it was pruned (not that it never existed).
#[test]
fn settled_jobs_are_pruned_after_their_retention_and_the_query_says_so() {
    let mut net = TestNet::inference(&[Honest; 4], 8)
        .inference_params(json!({"job_retention_blocks": 3, "challenge_window_blocks": 0}))
        .start();
    let (job, _) = net.one_job();
    assert_eq!(job["status"], "completed");
    let settled = job["result"]["finalized_height"].as_u64().expect("h");
    while (net.height as u64) < settled + 3 {
        net.run_height(vec![]);
        assert_eq!(net.job(1)["id"], 1, "kept during its retention");
    }
    net.run_height(vec![]);
    let (code, log) = net.try_query("Job", json!({"id": 1}));
    assert_ne!(code, 0);
    assert!(
        log.as_str()
            .is_some_and(|l| l.contains("job 1 was settled and pruned")),
        "{log}"
    );
    let (_, log) = net.try_query("Job", json!({"id": 9}));
    assert!(
        log.as_str()
            .is_some_and(|l| l.contains("job 9 does not exist")),
        "{log}"
    );
    let listed = net.query("Jobs", json!({"requester": user().address().bech32()}));
    assert_eq!(listed, json!([]));
}

/// threats.md §9 (slot squatting): job slots are priced. A block whose slots
/// are all taken raises the job fee floor 12.5 %, so the next cheap job is
/// refused; blocks at most half full bring it back down to `min_job_fee`. And no
/// source takes every slot: local jobs get at most `max_jobs_per_source`.
#[test]
fn full_blocks_raise_the_job_fee_floor_and_no_source_takes_every_slot() {
    let mut net = TestNet::inference(&[Honest; 4], 8)
        .inference_params(
            json!({"max_jobs_per_block": 4, "max_jobs_per_source": 3, "min_job_fee": "1000"}),
        )
        .start();
    let reg = net.register();
    net.run_height(vec![reg]);
    let floor = |net: &Net| {
        net.query("Params", json!({}))["job_fee_floor"]
            .as_str()
            .expect("floor")
            .to_string()
    };
    assert_eq!(floor(&net), "1000");
    // Four local jobs in one block: the fourth is over the local share.
    let txs: Vec<Vec<u8>> = (0..4)
        .map(|_| net.user_tx(vec![TestNet::submit_msg(vec![0; 8], vec![1, 2], 1000)]))
        .collect();
    let r = net.run_height(txs);
    let codes: Vec<u32> = r.tx_results[1..].iter().map(|t| t.code).collect();
    assert_eq!(codes[..3], [0, 0, 0], "{:?}", r.tx_results);
    assert_ne!(codes[3], 0);
    assert!(
        r.tx_results[4].log.contains("local share"),
        "{}",
        r.tx_results[4].log
    );
    // The local share was all taken: demand met supply, the floor rises.
    assert_eq!(floor(&net), "1125");
    // Three of four slots: not full, floor unchanged. Fill one block.
    let full_cfg = TestNet::inference(&[Honest; 4], 8)
        .inference_params(
            json!({"max_jobs_per_block": 3, "max_jobs_per_source": 3, "min_job_fee": "1000"}),
        )
        .start();
    let mut net = full_cfg;
    let reg = net.register();
    net.run_height(vec![reg]);
    let txs: Vec<Vec<u8>> = (0..3)
        .map(|_| net.user_tx(vec![TestNet::submit_msg(vec![0; 8], vec![1, 2], 1000)]))
        .collect();
    let r = net.run_height(txs);
    assert!(
        r.tx_results[1..].iter().all(|t| t.code == 0),
        "{:?}",
        r.tx_results
    );
    assert_eq!(floor(&net), "1125");
    let cheap = net.user_tx(vec![TestNet::submit_msg(vec![0; 8], vec![1, 2], 1000)]);
    let r = net.run_height(vec![cheap]);
    assert_eq!(r.tx_results[1].code, 13, "{}", r.tx_results[1].log);
    assert!(
        r.tx_results[1].log.contains("1125uverd"),
        "{}",
        r.tx_results[1].log
    );
    // An empty block or two and the floor is back at the minimum.
    net.run_height(vec![]);
    assert_eq!(floor(&net), "1000");
}

/// threats.md §9 (model squatting): claiming a model id costs the
/// registration fee (to the community pool); without the funds it is refused
/// and nothing is registered; the model list pages.
#[test]
fn registering_a_model_costs_its_fee_and_the_list_pages() {
    let mut net = TestNet::inference(&[Honest; 4], 8)
        .inference_params(json!({"model_registration_fee": "999999999999999"}))
        .start();
    let reg = net.register();
    let r = net.run_height(vec![reg]);
    assert_ne!(r.tx_results[1].code, 0);
    assert!(
        r.tx_results[1].log.contains("registration fee"),
        "{}",
        r.tx_results[1].log
    );
    assert_eq!(net.query("Models", json!({})), json!([]));
    let mut net = TestNet::new(&[Honest; 4], 8);
    let before = net.balance(&user().address().bech32());
    let reg = net.register();
    let r = net.run_height(vec![reg]);
    assert_eq!(r.tx_results[1].code, 0, "{}", r.tx_results[1].log);
    assert_eq!(
        before - net.balance(&user().address().bech32()),
        10_000 + 1_000_000
    );
    let page = net.query("Models", json!({"limit": 1}));
    assert_eq!(page.as_array().map(Vec::len), Some(1));
    let next = net.query("Models", json!({"start_after_id": MODEL}));
    assert_eq!(next, json!([]));
}

/// threats.md §5: the proposer that includes a job and the next one cannot
/// steer its committee through which > 2/3 of the extensions they put in tx[0]
/// (nor through tx order or the block hash: none of it enters the beacon). Two
/// nets identical but for node 3's extensions, left out of every block by the
/// proposers of one of them, draw the same sampled committees.
#[test]
fn the_choice_of_extensions_in_tx0_does_not_change_a_committee() {
    let committees = |drop_node3: bool| {
        let mut net = TestNet::inference(&[Honest; 4], 8)
            .inference_params(json!({"committee_size": 2}))
            .start();
        if drop_node3 {
            net.drop.insert(net.nodes[3].addr());
        }
        let reg = net.register();
        net.run_height(vec![reg]);
        let subs: Vec<Vec<u8>> = (0..3).map(|_| net.submit()).collect();
        net.run_height(subs);
        net.run_height(vec![]);
        (1..=3u64)
            .map(|id| net.job(id)["committee"].clone())
            .collect::<Vec<_>>()
    };
    let all = committees(false);
    assert!(all
        .iter()
        .all(|c| c.as_array().is_some_and(|a| !a.is_empty())));
    assert_eq!(all, committees(true));
}

/// Fault records go after the same retention as settled jobs (the slash
/// events stay in the block results).
#[test]
fn fault_records_are_pruned_after_the_retention() {
    let mut net = TestNet::inference(&[Honest, Wrong, Honest, Honest], 8)
        .inference_params(json!({"job_retention_blocks": 3, "challenge_window_blocks": 0}))
        .start();
    let (job, _) = net.one_job();
    assert_eq!(job["result"]["faults"][0]["address"], net.nodes[1].hex());
    assert_eq!(
        net.query("Faults", json!({})).as_array().map(Vec::len),
        Some(1)
    );
    net.run_heights(4);
    assert_eq!(net.query("Faults", json!({})), json!([]));
}

/// threats.md §9 (model squatting): a requester can pin the spec it wants
/// served (`spec_hash` from `query inference model`); a job naming another spec
/// than the registered one — say, a squatter's — is refused, the right one runs.
#[test]
fn a_job_pinned_to_another_spec_is_refused() {
    let mut net = TestNet::new(&[Honest; 4], 8);
    let reg = net.register();
    net.run_height(vec![reg]);
    let model = net.query("Model", json!({ "id": MODEL }));
    let have = model["spec_hash"].as_str().expect("spec_hash").to_string();
    assert_eq!(have.len(), 64);
    let pinned = |hash: &str| {
        let mut m = pb::MsgSubmitJob::decode(
            TestNet::submit_msg(vec![0; 8], vec![1, 2], 40_000)
                .value
                .as_slice(),
        )
        .expect("decode");
        m.spec_hash = hash.into();
        cosmrs::Any {
            type_url: pb::MSG_SUBMIT_JOB_URL.into(),
            value: m.encode_to_vec(),
        }
    };
    let wrong = net.user_tx(vec![pinned(&"0".repeat(64))]);
    let right = net.user_tx(vec![pinned(&have)]);
    let r = net.run_height(vec![wrong, right]);
    assert_ne!(r.tx_results[1].code, 0);
    assert!(
        r.tx_results[1].log.contains("not the pinned"),
        "{}",
        r.tx_results[1].log
    );
    assert_eq!(r.tx_results[2].code, 0, "{}", r.tx_results[2].log);
}

// ---- Job fees in a listed IBC denom (issue 20) ----

const VOUCHER: &str = "ibc/27394FB092D2ECCD56123C74F36E4C1F926001CEADA9CA97EA622B25F41E5EB2";

fn balance_of(net: &TestNet, who: &str, denom: &str) -> u128 {
    use cosmrs::proto::cosmos::bank::v1beta1 as bpb;
    let r: bpb::QueryBalanceResponse = net.proto(
        "/cosmos.bank.v1beta1.Query/Balance",
        bpb::QueryBalanceRequest {
            address: who.into(),
            denom: denom.into(),
        },
    );
    r.balance.map_or(0, |c| c.amount.parse().expect("amount"))
}

/// The user's job paying 16 000 units of [`VOUCHER`] (40 000 uverd), settled.
fn voucher_job(net: &mut TestNet) -> Value {
    net.one_job_with(|net| {
        net.user_tx(vec![TestNet::submit_msg_in(
            vec![0; 8],
            vec![1, 2],
            16_000,
            VOUCHER,
        )])
    })
    .0
}

fn voucher_net(behaviours: &[Behaviour]) -> TestNet {
    TestNet::inference(behaviours, 8)
        .inference_params(json!({"fee_denoms": [{"denom": VOUCHER, "price": "2.5"}]}))
        .user_also_holds(&format!("1000000{VOUCHER}"))
        .start()
}

#[test]
fn a_job_paid_in_a_listed_ibc_denom_pays_its_committee_in_that_denom() {
    let mut net = voucher_net(&[Honest; 4]);
    let me = user().address().bech32();
    // 16 000 units (40 000 uverd): completed, split by equal power straight
    // to the four operators' accounts, in the voucher.
    let job = voucher_job(&mut net);
    assert_eq!(job["status"], "completed", "{job}");
    assert_eq!(balance_of(&net, &me, VOUCHER), 1_000_000 - 16_000);
    for i in 0..4u8 {
        let op = operator(i).address().bech32();
        assert_eq!(balance_of(&net, &op, VOUCHER), 4_000, "operator {i}");
    }
    let escrow = verdict_inference::state::escrow().bech32();
    assert_eq!(balance_of(&net, &escrow, VOUCHER), 0);
    // Refused, nothing taken: a denom nobody listed; 399 units (997 uverd at
    // 2.5) under the 1 000 uverd floor.
    for (fee, denom, why) in [(5_000, "ibc/0000", "fee_denoms"), (399, VOUCHER, "fee")] {
        let tx = net.user_tx(vec![TestNet::submit_msg_in(
            vec![0; 8],
            vec![1, 2],
            fee,
            denom,
        )]);
        let r = net.run_tx(tx);
        assert_ne!(r.code, 0, "{denom}: accepted");
        assert!(r.log.contains(why), "{}", r.log);
    }
    assert_eq!(balance_of(&net, &me, VOUCHER), 1_000_000 - 16_000);
    net.check_invariants();
}

#[test]
fn a_failed_job_paid_in_a_listed_ibc_denom_burns_its_base_fee_and_refunds_the_rest() {
    let mut net = voucher_net(&[Honest, Honest, Silent, Silent]);
    let me = user().address().bech32();
    let job = voucher_job(&mut net);
    assert_eq!(job["status"], "failed", "{job}");
    // The base fee, 200 uverd, is 80 units at 2.5: burned (the community
    // pool holds uverd only); the rest came back.
    assert_eq!(balance_of(&net, &me, VOUCHER), 1_000_000 - 80);
    use cosmrs::proto::cosmos::bank::v1beta1 as bpb;
    let supply: bpb::QuerySupplyOfResponse = net.proto(
        "/cosmos.bank.v1beta1.Query/SupplyOf",
        bpb::QuerySupplyOfRequest {
            denom: VOUCHER.into(),
        },
    );
    assert_eq!(supply.amount.expect("supply").amount, "999920");
    net.check_invariants();
}
