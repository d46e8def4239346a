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

/// The fault records of job `id` among `faults` (the Faults query).
fn of_job(faults: &Value, id: u64) -> Vec<&Value> {
    faults
        .as_array()
        .expect("faults")
        .iter()
        .filter(|f| f["job_id"] == json!(id))
        .collect()
}

/// A uverd amount the queries give as a decimal string.
fn amount(v: &Value) -> u128 {
    v.as_str().and_then(|s| s.parse().ok()).expect("an amount")
}

fn refused(res: &ExecTxResult, text: &str) {
    assert_ne!(res.code, 0, "{}", res.log);
    assert!(res.log.contains(text), "{}", res.log);
}

/// A net of `behaviours` (with `stakes`, or 100 000 000 each) whose jobs
/// get committees of `seats` and challenges re-runs of `rerun` seats, 8 jobs
/// a block, a challenge window of 12 blocks.
fn thin_net(behaviours: &[Behaviour], stakes: &[u128], seats: u32, rerun: u32) -> TestNet {
    TestNet::inference(behaviours, 8)
        .stakes(stakes)
        .inference_params(
            json!({"committee_size": seats, "challenge_committee_size": rerun,
            "challenge_window_blocks": 12, "max_jobs_per_block": 8, "max_jobs_per_source": 8}),
        )
        .tx_fee(50_000, 2_000_000)
        .start()
}

/// Registers the model and submits jobs, 8 a block, until one completes with
/// exactly the `liars` agreeing (and, with `minority`, an honest member
/// outvoted and slashed: something taken); its id.
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
                && agreeing.len() == liars.len()
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
    let mut net = thin_net(
        &[Wrong, Wrong, Honest, Honest, Honest, Honest, Honest],
        &[],
        2,
        5,
    );
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
    let theirs = of_job(&faults, id);
    assert_eq!(theirs.len(), 2, "{faults}");
    assert!(theirs.iter().all(|f| f["kind"] == "wrong_output"));
    let slashed: u128 = amount(&job["challenge"]["slashed"]);
    assert!(slashed > 0);
    let reward: u128 = amount(&job["challenge"]["reward"]);
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
    let big = 150_000_000;
    let rest = 120_000_000;
    let mut net = thin_net(
        &[Colluder, Colluder, Honest, Honest, Honest, Honest, Honest],
        &[big, big, rest, rest, rest, rest, rest],
        4,
        6,
    );
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

/// A fraud an overturn proves is slashed even when the window's jail budget
/// (a third of the bonded power) is spent: two validators (20 %) were jailed
/// for bad reveals first, so only one of the two colluders (10 % each) may
/// still be jailed. The other is slashed all the same, and stays
/// in the set (`make sim` found overturns that took nothing: every slash of
/// the coalition's largest validator was capped).
#[test]
fn an_overturn_slashes_past_the_jail_budget_without_jailing() {
    let (one, two) = (100_000_000, 200_000_000);
    let mut net = thin_net(
        &[
            Colluder, Colluder, BadReveal, BadReveal, Honest, Honest, Honest,
        ],
        &[one, one, one, one, two, two, two],
        2,
        5,
    );
    let colluders: Vec<String> = (0..2).map(|i| net.nodes[i].hex()).collect();
    let id = capture(&mut net, &colluders, false);
    let ok = challenge(&mut net, id, FEE * 5 / 2);
    assert_eq!(ok.code, 0, "{}", ok.log);
    until_resolved(&mut net);
    let rerun = net.job(id)["challenge"]["rerun_job_id"]
        .as_u64()
        .expect("rerun");
    assert_eq!(
        net.job(id)["status"],
        "overturned",
        "{}\n{}",
        net.job(id),
        net.job(rerun)
    );
    let faults = net.query("Faults", json!({}));
    let bad: Vec<&Value> = faults
        .as_array()
        .expect("faults")
        .iter()
        .filter(|f| {
            net.nodes[2..4]
                .iter()
                .any(|n| f["address"] == json!(n.hex()))
        })
        .collect();
    assert!(
        bad.iter().filter(|f| f["jailed"] == json!(true)).count() >= 2,
        "{faults}"
    );
    let theirs = of_job(&faults, id);
    assert_eq!(theirs.len(), 2, "{faults}");
    for f in &theirs {
        let taken: u128 = amount(&f["slashed"]);
        assert!(taken > 0, "an overturn took nothing: {faults}");
    }
    assert_eq!(
        theirs.iter().filter(|f| f["jailed"] == json!(true)).count(),
        1,
        "{faults}"
    );
    net.check_invariants();
}

/// Review of the first version: the sole server of a model overturned its own
/// honest result (its re-run is itself) and the payouts came out of a pool
/// other validators' slashes had filled — the pool fell from 1 000 000 to
/// 100 000 for two tx fees. Payouts now come out of what the overturn
/// slashed and no more: the pool never pays for a self-overturn.
#[test]
fn a_sole_server_overturning_its_own_result_cannot_drain_the_pool() {
    let mut net = TestNet::inference(&[Flipper, Wrong, Honest, Honest], 8)
        .inference_params(json!({"challenge_committee_size": 8, "challenge_window_blocks": 12}))
        .tx_fee(50_000, 2_000_000)
        .start();
    let pool = verdict_inference::state::insurance_pool().bech32();
    // An ordinary job: the Wrong validator is slashed into the pool.
    let (first, _) = net.one_job();
    assert_eq!(first["status"], "completed");
    let txs = (1..4)
        .map(|i| net.serve_tx(i, &[MODEL.to_string()], false))
        .collect();
    let r = net.run_height(txs);
    assert!(
        r.tx_results.iter().all(|t| t.code == 0),
        "{:?}",
        r.tx_results
    );
    net.run_heights(12);
    let before = net.balance(&pool);
    assert!(before > 0);
    let fee = 300_000;
    let tx = net.user_tx(vec![TestNet::submit_msg(vec![0; 8], vec![1, 2], fee)]);
    net.run_height(vec![tx]);
    net.run_heights(6);
    let id = 2;
    assert_eq!(net.job(id)["status"], "completed", "{}", net.job(id));
    let ok = challenge(&mut net, id, fee * 8 / 4);
    assert_eq!(ok.code, 0, "{}", ok.log);
    until_resolved(&mut net);
    let job = net.job(id);
    assert_eq!(job["status"], "overturned", "{job}");
    let slashed: u128 = amount(&job["challenge"]["slashed"]);
    // The pool kept at least what it had: every payout came out of the
    // overturn's own slash.
    assert!(
        net.balance(&pool) >= before,
        "{} < {before}",
        net.balance(&pool)
    );
    assert!(net.balance(&pool) <= before + slashed);
    net.check_invariants();
}

/// Review of the first version: an upheld bond mixed the units of two
/// committees (seats drawn, and power for a committee that is the whole
/// set), so the original's members got 2/402 of it. Each committee's part is
/// now paid by its own weights: the original's 2 seats get 2/(2 + 4) of it.
#[test]
fn an_upheld_bond_pays_each_committee_its_part() {
    let mut net = TestNet::inference(&[Honest; 4], 8)
        .inference_params(json!({"committee_size": 2, "challenge_committee_size": 4,
            "challenge_window_blocks": 6}))
        .tx_fee(50_000, 2_000_000)
        .start();
    let (job, _) = net.one_job();
    assert_eq!(job["status"], "completed");
    let bond = 40_000 * 2;
    let ok = challenge(&mut net, 1, bond);
    assert_eq!(ok.code, 0, "{}", ok.log);
    // Outstanding rewards of every validator just before the resolving block.
    let mut before = BTreeMap::new();
    for _ in 0..20 {
        for i in 0..4u8 {
            let op = operator(i).address().valoper();
            before.insert(op.clone(), outstanding(&net, &op));
        }
        let r = net.run_height(vec![]);
        if !events(&r, "inference_challenge_resolved").is_empty() {
            break;
        }
    }
    assert_eq!(net.job(1)["challenge"]["outcome"], "upheld");
    // The re-run is the whole set (4 validators, 4 seats or fewer): its
    // weights are powers; the original's are seats.
    let rerun = net.job(2);
    assert!(rerun["committee"]
        .as_array()
        .expect("c")
        .iter()
        .all(|m| m["seats"] == m["power"]));
    let original: Vec<String> = net.job(1)["committee"]
        .as_array()
        .expect("c")
        .iter()
        .map(|m| m["operator"].as_str().expect("op").to_string())
        .collect();
    let other = (0..4u8)
        .map(|i| operator(i).address().valoper())
        .find(|op| !original.contains(op))
        .expect("a validator outside the original committee");
    // Each original member received its part of the bond on top of what
    // the re-run's part and the block's fees gave every validator alike.
    let (a, b) = (&before[&original[0]], &before[&other]);
    let gain = |op: &str, was: u128| outstanding(&net, op) - was;
    let diff = gain(&original[0], *a) as i128 - gain(&other, *b) as i128;
    assert!(
        diff >= 13_000,
        "the original's member got {diff} more than another"
    );
    net.check_invariants();
}

/// What validator `valoper` (its operator's self-delegation and commission)
/// has earned and not withdrawn, in whole uverd.
fn outstanding(net: &TestNet, valoper: &str) -> u128 {
    use cosmrs::proto::cosmos::distribution::v1beta1 as dpb;
    let dec = |s: &str| -> u128 { s.parse::<u128>().expect("dec") / 1_000_000_000_000_000_000 };
    let i = (0..4u8)
        .find(|i| operator(*i).address().valoper() == valoper)
        .expect("an operator");
    let rewards: dpb::QueryDelegationRewardsResponse = net.proto(
        "/cosmos.distribution.v1beta1.Query/DelegationRewards",
        dpb::QueryDelegationRewardsRequest {
            delegator_address: operator(i).address().bech32(),
            validator_address: valoper.into(),
        },
    );
    let commission: dpb::QueryValidatorCommissionResponse = net.proto(
        "/cosmos.distribution.v1beta1.Query/ValidatorCommission",
        dpb::QueryValidatorCommissionRequest {
            validator_address: valoper.into(),
        },
    );
    let r: u128 = rewards.rewards.iter().map(|c| dec(&c.amount)).sum();
    let c: u128 = commission
        .commission
        .map(|c| c.commission.iter().map(|x| dec(&x.amount)).sum())
        .unwrap_or(0);
    r + c
}
