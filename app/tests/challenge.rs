//! Challenges (issue 21 §1): a completed result is provisional for
//! `challenge_window_blocks`; a bonded challenge re-runs the job on a larger,
//! freshly drawn committee that decides it — overturned (the agreeing members
//! slashed, the requester refunded and compensated, the challenger repaid and
//! rewarded), upheld (the bond pays the members that answered correctly) or
//! inconclusive. Written with the change (there was nothing to challenge
//! before it); the kit gained a rational `Colluder` for them.

mod kit;

use kit::*;
use verdict_proto::inference::v1 as pb;

const FEE: u128 = 40_000;

fn challenge_msg(job_id: u64, bond: u128) -> cosmrs::Any {
    cosmrs::Any {
        type_url: pb::MSG_CHALLENGE_JOB_URL.into(),
        value: pb::MsgChallengeJob {
            challenger: user().address().bech32(),
            job_id,
            bond: Some(pb::Coin {
                denom: "uverd".into(),
                amount: bond.to_string(),
            }),
        }
        .encode_to_vec(),
    }
}

/// Runs the user's `challenge` of `job_id` with `bond` in one height; the
/// tx result.
fn challenge(net: &mut TestNet, job_id: u64, bond: u128) -> ExecTxResult {
    let tx = net.user_tx(vec![challenge_msg(job_id, bond)]);
    let r = net.run_height(vec![tx]);
    r.tx_results.into_iter().last().expect("the tx")
}

/// Runs heights until a challenge resolves; that block's response.
fn until_resolved(net: &mut TestNet) -> ResponseFinalizeBlock {
    for _ in 0..20 {
        let r = net.run_height(vec![]);
        if !events(&r, "inference_challenge_resolved").is_empty() {
            return r;
        }
    }
    panic!("no challenge resolved in 20 blocks");
}

fn refused(res: &ExecTxResult, text: &str) {
    assert_ne!(res.code, 0, "{}", res.log);
    assert!(res.log.contains(text), "{}", res.log);
}

/// Registers the model and submits jobs, 8 a block, until one completes with
/// only `liars` agreeing (and, with `minority`, an honest member outvoted and
/// slashed: something taken); its id.
fn capture(net: &mut TestNet, liars: &[String], minority: bool) -> u64 {
    let reg = net.register();
    net.run_height(vec![reg]);
    for _ in 0..8 {
        let jobs = (0..8)
            .map(|_| TestNet::submit_msg(vec![0; 8], vec![1, 2], FEE))
            .collect();
        let tx = net.user_tx(jobs);
        let r = net.run_height(vec![tx]);
        let res = r.tx_results.last().expect("the tx");
        assert_eq!(res.code, 0, "{}", res.log);
        net.run_heights(6);
        let faults = net.query("Faults", json!({}));
        for j in net.query("Jobs", json!({})).as_array().expect("jobs") {
            let agreeing = j["result"]["agreeing"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let slashed =
                faults.as_array().expect("faults").iter().any(|f| {
                    f["job_id"] == j["id"] && f["slashed"].as_str().is_some_and(|x| x != "0")
                });
            if j["status"] == "completed"
                && agreeing.iter().all(|a| liars.iter().any(|l| a == l))
                && slashed == minority
            {
                return j["id"].as_u64().expect("id");
            }
        }
    }
    panic!("no job captured by the liars in 64 jobs");
}

/// 7 validators, two of them lying the same way; committees of 2, so the two
/// sometimes hold a whole committee: a captured job completes with their
/// wrong answer. A challenge re-runs it on 5 seats drawn without them (the
/// other five hold 5/7 ≥ 2/3 of the stake) and overturns it.
#[test]
fn a_challenge_overturns_a_captured_result_slashes_its_members_and_pays_the_wronged() {
    let mut net = TestNet::inference(&[Wrong, Wrong, Honest, Honest, Honest, Honest, Honest], 8)
        .inference_params(json!({"committee_size": 2, "challenge_committee_size": 5,
        "challenge_window_blocks": 12, "max_jobs_per_block": 8, "max_jobs_per_source": 8}))
        .tx_fee(50_000, 2_000_000)
        .start();
    let liars: Vec<String> = (0..2).map(|i| net.nodes[i].hex()).collect();
    let id = capture(&mut net, &liars, false);
    let job = net.job(id);
    assert_eq!(job["finality"], "provisional", "{job}");
    assert_eq!(
        job["result"]["digest"][3],
        json!(id as i64 * 100 + 3 + 1000)
    );
    let user_addr = user().address().bech32();
    let before = net.balance(&user_addr);

    // The bond must cover the re-run: 40 000 × 5 / 2.
    let min_bond = FEE * 5 / 2;
    refused(
        &challenge(&mut net, id, min_bond - 1),
        "below what the re-run costs",
    );
    let ok = challenge(&mut net, id, min_bond);
    assert_eq!(ok.code, 0, "{}", ok.log);
    refused(
        &challenge(&mut net, id, min_bond),
        "already been challenged",
    );
    let rerun = net.job(id)["challenge"]["rerun_job_id"]
        .as_u64()
        .expect("rerun");
    let r = until_resolved(&mut net);

    // The re-run's committee: the honest five only.
    let rj = net.job(rerun);
    assert_eq!(rj["challenge_of"], json!(id));
    for m in rj["committee"].as_array().expect("committee") {
        assert!(!liars.iter().any(|l| m["address"] == *l), "{rj}");
    }
    let job = net.job(id);
    assert_eq!(job["status"], "overturned", "{job}");
    assert_eq!(job["finality"], "final");
    assert_eq!(job["challenge"]["outcome"], "overturned");
    // The result is the re-run's; the original one is kept beside it.
    assert_eq!(job["result"]["digest"][3], json!(id as i64 * 100 + 3));
    assert_eq!(
        job["challenge"]["original_digest"][3],
        json!(id as i64 * 100 + 3 + 1000)
    );
    // Both liars slashed for a wrong output of this job, into the pool.
    let faults = net.query("Faults", json!({}));
    let theirs: Vec<&Value> = faults
        .as_array()
        .expect("faults")
        .iter()
        .filter(|f| f["job_id"] == json!(id))
        .collect();
    assert_eq!(theirs.len(), 2, "{faults}");
    assert!(theirs.iter().all(|f| f["kind"] == "wrong_output"));
    let slashed: u128 = job["challenge"]["slashed"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("slashed");
    assert!(slashed > 0);
    let reward: u128 = job["challenge"]["reward"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("reward");
    assert_eq!(reward, slashed / 10);
    assert_eq!(events(&r, "inference_job_final").len(), 1);
    // The user (requester and challenger): three challenge tx fees and the
    // bond out; the fee back, the bond back, compensation (up to 10 × the
    // fee) and the reward in.
    let fees = 3 * 50_000;
    let compensation = slashed.min(10 * FEE);
    assert_eq!(
        net.balance(&user_addr),
        before - fees + FEE + compensation + reward
    );
    net.check_invariants();
}

/// An honest result challenged: the re-run agrees, the bond pays the members
/// of both committees that answered correctly, the result stands and is final.
/// Also: what cannot be challenged, and a window that closes on its own.
#[test]
fn an_honest_result_survives_a_challenge_and_the_windows_close() {
    let mut net = TestNet::inference(&[Honest; 4], 8)
        .inference_params(json!({"challenge_committee_size": 4, "challenge_window_blocks": 6}))
        .start();
    let (job, _) = net.one_job();
    assert_eq!(job["status"], "completed");
    assert_eq!(job["finality"], "provisional");
    let user_addr = user().address().bech32();
    let before = net.balance(&user_addr);
    refused(&challenge(&mut net, 99, FEE), "does not exist");
    let ok = challenge(&mut net, 1, FEE);
    assert_eq!(ok.code, 0, "{}", ok.log);
    refused(&challenge(&mut net, 2, FEE), "re-runs a challenge");
    until_resolved(&mut net);
    let job = net.job(1);
    assert_eq!(job["status"], "completed");
    assert_eq!(job["finality"], "final");
    assert_eq!(job["challenge"]["outcome"], "upheld");
    assert_eq!(job["inputs"], json!([]));
    assert_eq!(net.job(2)["status"], "completed");
    // The bond is gone (to the members), with three tx fees.
    assert_eq!(net.balance(&user_addr), before - FEE - 3 * 10_000);
    assert!(net
        .query("Faults", json!({}))
        .as_array()
        .expect("f")
        .is_empty());

    // A job nobody challenges is final once its window has passed.
    let rs = net.job_round(6);
    let id = 3;
    assert_eq!(net.job(id)["finality"], "provisional");
    let until = net.job(id)["result"]["challenge_until"]
        .as_u64()
        .expect("until");
    let mut finals = rs
        .iter()
        .map(|r| events(r, "inference_job_final").len())
        .sum::<usize>();
    while (net.height as u64) <= until {
        finals += events(&net.run_height(vec![]), "inference_job_final").len();
    }
    assert_eq!(finals, 1);
    let job = net.job(id);
    assert_eq!(job["finality"], "final");
    assert_eq!(job["inputs"], json!([]));
    refused(&challenge(&mut net, id, FEE), "window closed");
    net.check_invariants();
}

/// Two rational colluders (they lie only where they hold more than 2/3 of a
/// committee) capture a committee of 4 seats with an honest member in it:
/// settlement slashed the honest one for a "wrong" output. The overturn
/// proves it right and gives its slash back (the colluders hold 1/3 of the
/// stake: the re-run is drawn without them).
#[test]
fn an_overturn_restores_the_slash_of_an_outvoted_honest_member() {
    let mut net = TestNet::inference(
        &[Colluder, Colluder, Honest, Honest, Honest, Honest, Honest],
        8,
    )
    .stakes(&[
        150_000_000,
        150_000_000,
        120_000_000,
        120_000_000,
        120_000_000,
        120_000_000,
        120_000_000,
    ])
    .inference_params(json!({"committee_size": 4, "challenge_committee_size": 6,
        "challenge_window_blocks": 12, "max_jobs_per_block": 8, "max_jobs_per_source": 8}))
    .tx_fee(50_000, 2_000_000)
    .start();
    let liars: Vec<String> = (0..2).map(|i| net.nodes[i].hex()).collect();
    let id = capture(&mut net, &liars, true);
    let job = net.job(id);
    let outvoted = &job["result"]["faults"][0];
    let wronged = outvoted["address"].as_str().expect("address").to_string();
    assert!(!liars.contains(&wronged));
    let ok = challenge(&mut net, id, FEE * 6 / 4);
    assert_eq!(ok.code, 0, "{}", ok.log);
    let r = until_resolved(&mut net);
    assert_eq!(net.job(id)["status"], "overturned");
    let back = events(&r, "inference_restitution");
    assert_eq!(
        back.len(),
        1,
        "{back:?} {} {:?}",
        net.job(id),
        net.query("Faults", json!({}))
    );
    assert_eq!(back[0]["address"], wronged);
    let slashed: u128 = net
        .query("Faults", json!({}))
        .as_array()
        .expect("faults")
        .iter()
        .find(|f| f["job_id"] == json!(id) && f["address"] == json!(wronged))
        .and_then(|f| f["slashed"].as_str().map(str::to_string))
        .and_then(|s| s.parse().ok())
        .expect("its fault");
    assert!(slashed > 0);
    assert_eq!(back[0]["amount"], format!("{slashed}uverd"));
    net.check_invariants();
}
