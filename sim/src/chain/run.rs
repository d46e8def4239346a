//! One run of the chain: block after block through `finalize_block` and
//! `commit`, with the proposer's tx[0] (and its grinding decision), every
//! validator's vote extension, the users' txs, and what the block's events and
//! validator updates say.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use prost::Message;
use serde_json::json;
use sha2::{Digest, Sha256};
use tendermint_abci::Application;
use tendermint_proto::v0_38::abci::{
    CommitInfo, RequestFinalizeBlock, ResponseFinalizeBlock, Validator, VoteInfo,
};
use tendermint_proto::v0_38::crypto::public_key::Sum;
use verdict_app::app::tendermint_address;
use verdict_app::store::{Overlay, StateView};
use verdict_app::vote_ext::encode_injected;
use verdict_attestation::{build_extension, NextBlock};
use verdict_inference::state as inf;
use verdict_inference::{beacon, committee};
use verdict_proto::app::v1::{InjectedVote, InjectedVoteExtensions, VoteExtension};

use super::net::Sim;
use super::result::ChainResult;
use super::setup::{squat_model_id, time, REQ_MAX_FEE, SQUAT_MAX_FEE, T0, VE_CAP, WINDOW};
use super::tally::tally_job;
use crate::model::{Rng, Strategy, Tally, Val, FEE};

/// Committees by job: (member address, weight).
type Draw = BTreeMap<u64, Vec<(String, u64)>>;

fn beacon_value(prev: &[u8; 32], height: u64, reveal: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new()
        .chain_update(b"verdict-beacon")
        .chain_update(prev)
        .chain_update(height.to_be_bytes());
    if !reveal.is_empty() {
        h.update(reveal);
    }
    h.finalize().into()
}

fn attrs(e: &tendermint_proto::v0_38::abci::Event) -> BTreeMap<String, String> {
    e.attributes
        .iter()
        .map(|a| (a.key.clone(), a.value.clone()))
        .collect()
}

/// A correlated outage: the sidecars of `region` are down for the blocks
/// `from..to` (their nodes still sign blocks and extensions).
#[derive(Debug, Clone, Default)]
pub(super) struct Outage {
    pub from: i64,
    pub to: i64,
    pub region: BTreeSet<usize>,
}

/// How a run plays.
#[derive(Debug, Clone, Default)]
pub(super) struct RunOpts {
    /// The coalition grinds the beacon.
    pub grind: bool,
    pub missed_window: Option<u64>,
    /// The slot-squatter's jobs per block.
    pub squat: u64,
    pub outage: Option<Outage>,
    /// Genesis `incident_share` 1: the incident rule off.
    pub incident_off: bool,
    /// The coalition forges only where it holds more than 2/3 of a committee.
    pub rational: bool,
    /// The requester challenges this many per mille of its completed results
    /// (drawn at random), in the block after they settle.
    pub challenge_permille: u64,
}

/// The coalition's share of the validator set's power now, per mille.
fn coalition_share(sim: &Sim<'_>) -> u64 {
    let (mut ours, mut all) = (0i64, 0i64);
    for (&i, &p) in &sim.active {
        all += p;
        if sim.vals[i].strategy == Strategy::Coalition {
            ours += p;
        }
    }
    if all == 0 {
        return 0;
    }
    (ours * 1000 / all) as u64
}

pub(super) fn run_chain(
    vals: &[Val],
    jobs: u64,
    seed: u64,
    size: usize,
    opts: &RunOpts,
) -> ChainResult {
    let start = Instant::now();
    let n = vals.len();
    let RunOpts {
        grind,
        missed_window,
        squat,
        ..
    } = *opts;
    let mut sim = Sim::new(vals, seed, size, missed_window, opts.incident_off);
    sim.rational = opts.rational;
    // Its own stream: runs without challenges draw exactly as before.
    let mut challenger = Rng(seed ^ 0xC4A1_1E06);
    let mut to_challenge: Vec<(u64, u128)> = vec![];
    let mut res = ChainResult {
        tally: vec![Tally::default(); n],
        jailed_at: vec![None; n],
        slash_events: vec![BTreeMap::new(); n],
        self_jail_tx: vec![None; n],
        ..ChainResult::default()
    };
    let in_coalition = |i: usize| vals[i].strategy == Strategy::Coalition;
    let size = sim.committed(inf::params).committee_size as usize;
    let mut rng = Rng(seed ^ 0xB10C);
    let mut live: BTreeSet<u64> = BTreeSet::new();
    // The extensions of the previous height (ExtendVote), by validator.
    let mut last_votes: Vec<(usize, VoteExtension)> = vec![];
    let mut last_voters: Vec<(usize, i64)> = vec![];
    let mut h: i64 = 0;
    let mut last_submit_height: i64 = 0;
    loop {
        h += 1;
        let hu = h as u64;
        if res.submitted >= jobs && live.is_empty() && to_challenge.is_empty() {
            break;
        }
        if res.submitted >= jobs && h > last_submit_height + 3 * WINDOW as i64 {
            break;
        }
        sim.out = match &opts.outage {
            Some(o) if (o.from..o.to).contains(&h) => o.region.clone(),
            _ => BTreeSet::new(),
        };
        sim.feed(&live);
        let voters: Vec<(usize, i64)> = sim.active.iter().map(|(i, p)| (*i, *p)).collect();
        let p = sim.pick_proposer(&mut rng);
        let op = sim.cons[p];
        // The proposer's beacon contribution, and the grinding decision.
        let (reveal, anchor) = sim.committed(|s| beacon::contribution(s, &op, sim.chain_seed(p)));
        let mut predicted: Option<Draw> = None;
        let mut give = true;
        let mut expect_beacon = None;
        if h >= 2 {
            let (prev, pending, candidates) = sim.committed(|s| {
                let prev = beacon::latest(s).ok().flatten().unwrap_or([0; 32]);
                let pending: Vec<u64> = inf::unassigned(s).unwrap_or_default();
                (prev, pending, committee::bonded(s).unwrap_or_default())
            });
            let with = beacon_value(&prev, hu, &reveal);
            let without = beacon_value(&prev, hu, &[]);
            if grind && in_coalition(p) && !reveal.is_empty() && !pending.is_empty() {
                res.grind_blocks += 1;
                let draw = |b: &[u8; 32]| -> Draw {
                    pending
                        .iter()
                        .map(|&j| {
                            let c = committee::sample(&candidates, size, &committee::seed(b, j));
                            (
                                j,
                                c.iter().map(|m| (m.address.clone(), m.weight())).collect(),
                            )
                        })
                        .collect()
                };
                let share = |d: &Draw| -> u64 {
                    d.values()
                        .flatten()
                        .filter(|(a, _)| sim.index.get(a).is_some_and(|&i| in_coalition(i)))
                        .map(|(_, w)| *w)
                        .sum()
                };
                let (dw, dwo) = (draw(&with), draw(&without));
                give = share(&dw) >= share(&dwo);
                if !give {
                    res.grind_flips += 1;
                }
                predicted = Some(if give { dw } else { dwo });
            }
            expect_beacon = Some(if give && !reveal.is_empty() {
                with
            } else {
                without
            });
        }
        let (reveal, anchor) = if give {
            (reveal, anchor)
        } else {
            (vec![], vec![])
        };
        let mut txs: Vec<Vec<u8>> = vec![];
        if h >= 2 {
            let inj = InjectedVoteExtensions {
                height: h - 1,
                round: 0,
                votes: last_votes
                    .iter()
                    .map(|(i, ve)| InjectedVote {
                        validator_address: sim.cons[*i].to_vec(),
                        vote_extension: ve.encode_to_vec(),
                        extension_signature: vec![],
                    })
                    .collect(),
                beacon_reveal: reveal,
                beacon_anchor: anchor,
            };
            txs.push(encode_injected(&inj));
        }
        // ExtendVote(h) of every validator in the set, over the committed state,
        // knowing the commitments block h records (as the app's own next_block).
        let mut next = NextBlock {
            height: hu,
            time_ms: (T0 + h) * 1000,
            ..Default::default()
        };
        for (i, ve) in &last_votes {
            for c in &ve.commitments {
                next.commitments
                    .entry((c.job_id, sim.cons[*i]))
                    .or_insert_with(|| c.commitment.clone());
            }
        }
        let mut votes = Vec::with_capacity(voters.len());
        {
            let mut ov = Overlay::new();
            let view = StateView::new(sim.app.store(), &mut ov);
            for &(i, _) in &voters {
                let ve = build_extension(
                    &view,
                    &sim.cons[i],
                    &mut sim.local[i],
                    VE_CAP as usize,
                    1,
                    Some(&next),
                );
                let mut ve = ve;
                if vals[i].strategy == Strategy::Withholder {
                    ve.reveals.clear();
                }
                votes.push((i, ve));
            }
        }
        // Self-jailers: in the block that records their first reveal (carried
        // by tx[0] from their extension of h−1), the operator unbonds.
        let mut jail_txs = 0usize;
        for (i, ve) in &last_votes {
            if vals[*i].strategy == Strategy::SelfJailer
                && !ve.reveals.is_empty()
                && res.self_jail_tx[*i].is_none()
            {
                txs.push(sim.self_jail(*i));
                res.self_jail_tx[*i] = Some(hu);
                jail_txs += 1;
            }
        }
        // User txs: the models, then the squatter's jobs at the fee floor and
        // as many of the requester's as the chain takes from one source.
        // Block 2 (accounts are readable once block 1 is committed): every
        // validator's operator declares serving the requester's model.
        if h == 2 {
            for i in 0..sim.vals.len() {
                txs.push(sim.serve(i));
            }
        }
        for (id, fee) in std::mem::take(&mut to_challenge) {
            txs.push(sim.challenge(id, fee));
            res.challenges += 1;
        }
        let first_user_tx = txs.len();
        // Submissions of this block: Some(true) squatter, Some(false) requester.
        let mut kinds: Vec<Option<bool>> = vec![];
        if h == 1 {
            let t = sim.register(false);
            txs.push(t);
            let t = sim.register(true);
            txs.push(t);
            kinds.extend([None, None]);
        } else if res.submitted < jobs {
            let floor = sim.floor();
            res.floor_max = res.floor_max.max(floor);
            // Neither pays without bound: above its price the squatter stops,
            // the requester waits for the floor to come down.
            if floor <= SQUAT_MAX_FEE {
                for k in 0..squat {
                    let t = sim.submit(k, floor, true);
                    txs.push(t);
                    kinds.push(Some(true));
                }
            }
            let fee = FEE.max(floor);
            if fee > FEE {
                res.req_raised += 1;
            }
            let mut k = 0;
            while fee <= REQ_MAX_FEE && k < sim.per_block && res.submitted + k < jobs {
                let t = sim.submit(res.submitted + k, fee, false);
                txs.push(t);
                kinds.push(Some(false));
                k += 1;
            }
        }
        let decided = (!last_voters.is_empty()).then(|| CommitInfo {
            round: 0,
            votes: last_voters
                .iter()
                .map(|(i, pw)| VoteInfo {
                    validator: Some(Validator {
                        address: sim.cons[*i].to_vec().into(),
                        power: *pw,
                    }),
                    block_id_flag: 2,
                })
                .collect(),
        });
        let r: ResponseFinalizeBlock = sim.app.finalize_block(RequestFinalizeBlock {
            txs: txs.iter().cloned().map(Into::into).collect(),
            decided_last_commit: decided,
            hash: Sha256::digest(hu.to_be_bytes()).to_vec().into(),
            height: h,
            time: Some(time(h)),
            proposer_address: op.to_vec().into(),
            ..Default::default()
        });
        let offset = r.tx_results.len() + first_user_tx - txs.len();
        for (k, t) in r.tx_results.iter().enumerate() {
            let kind = k
                .checked_sub(offset)
                .and_then(|u| kinds.get(u).copied())
                .flatten();
            match kind {
                Some(true) if t.code == 0 => res.sq_jobs += 1,
                Some(true) => res.sq_refused += 1,
                Some(false) if t.code == 0 => {
                    res.submitted += 1;
                    last_submit_height = h;
                }
                Some(false) => {
                    let why = if t.log.contains("maximum of") {
                        "BlockFull"
                    } else if t.log.contains("share of its job slots") {
                        "SourceFull"
                    } else if t.log.contains("minimum job fee") {
                        "FeeTooLow"
                    } else {
                        eprintln!("block {h}: job tx {k} failed (code {}): {}", t.code, t.log);
                        std::process::exit(2);
                    };
                    *res.req_refused
                        .entry(format!("{why} (code {})", t.code))
                        .or_insert(0) += 1;
                }
                None if t.code != 0 => {
                    eprintln!("block {h}: tx {k} failed (code {}): {}", t.code, t.log);
                    std::process::exit(2);
                }
                None => {}
            }
        }
        assert!(r.tx_results.len() >= txs.len() - first_user_tx + jail_txs);
        sim.app.commit();
        res.blocks += 1;
        if h == 1 {
            sim.read_per_block();
            res.per_block = sim.per_block;
        }
        // The beacon as FinalizeBlock computed it, against the formula by hand.
        let (b_now, new_jobs) = sim.committed(|s| {
            (
                beacon::latest(s).ok().flatten().unwrap_or([0; 32]),
                inf::unassigned(s).unwrap_or_default(),
            )
        });
        if let Some(want) = expect_beacon {
            assert_eq!(want, b_now, "beacon formula at {h}");
        }
        if let Some(pred) = predicted {
            let actual: Draw = sim.committed(|s| {
                pred.keys()
                    .filter_map(|j| {
                        let job = inf::job(s, *j).ok().flatten()?;
                        Some((
                            *j,
                            job.committee
                                .iter()
                                .map(|m| (m.address.clone(), m.weight()))
                                .collect(),
                        ))
                    })
                    .collect()
            });
            if actual != pred {
                res.grind_mispredicted += 1;
            }
        }
        live.extend(new_jobs);
        // Events: slashes and settled jobs.
        let mut settled = vec![];
        for e in &r.events {
            let a = attrs(e);
            match e.r#type.as_str() {
                "slash" => {
                    let Some(&i) = a.get("address").and_then(|x| sim.index.get(x)) else {
                        continue;
                    };
                    let reason = a.get("reason").cloned().unwrap_or_default();
                    let capped = a.get("capped").is_some_and(|c| c == "true");
                    res.slashed_coins += a
                        .get("slashed_coins")
                        .and_then(|x| x.parse::<u128>().ok())
                        .unwrap_or(0);
                    let x = res.slash_events[i].entry(reason).or_insert((0, 0));
                    if capped {
                        x.1 += 1;
                    } else {
                        x.0 += 1;
                    }
                }
                "inference_compensation" => {
                    let amount = a.get("amount").map_or("", |x| x.trim_end_matches("uverd"));
                    res.compensation += amount.parse::<u128>().unwrap_or(0);
                    res.compensated_jobs += 1;
                }
                "inference_incident" => res.incidents += 1,
                "inference_challenge_resolved" => {
                    let id = a.get("job_id").and_then(|x| x.parse::<u64>().ok());
                    let forged = id.is_some_and(|id| res.captured_ids.contains(&id));
                    let outcome = a.get("outcome").map(String::as_str);
                    if coalition_share(&sim) * 3 >= 1000 {
                        res.beyond_third += 1;
                        match outcome {
                            Some("overturned") if forged => res.beyond_caught += 1,
                            Some("overturned") => res.beyond_false_overturns += 1,
                            Some("upheld") if forged => res.beyond_upheld_captured += 1,
                            _ => {}
                        }
                        continue;
                    }
                    match outcome {
                        Some("overturned") if forged => res.caught += 1,
                        Some("overturned") => res.false_overturns += 1,
                        Some("upheld") if forged => res.upheld_captured += 1,
                        Some("upheld") => res.upheld += 1,
                        _ => res.inconclusive += 1,
                    }
                }
                "inference_challenge_payout" | "inference_restitution" => {
                    let amount = a.get("amount").map_or("", |x| x.trim_end_matches("uverd"));
                    let amount = amount.parse::<u128>().unwrap_or(0);
                    match a.get("what") {
                        Some(w) => *res.challenge_paid.entry(w.clone()).or_insert(0) += amount,
                        None => res.restitution += amount,
                    }
                }
                "inference_job_result" => {
                    if let Some(id) = a.get("job_id").and_then(|x| x.parse::<u64>().ok()) {
                        settled.push(id);
                    }
                }
                _ => {}
            }
        }
        for id in settled {
            live.remove(&id);
            let job = sim.query("Job", json!({ "id": id }))["job"].take();
            if job["challenge_of"].as_u64().is_some_and(|o| o > 0) {
                res.reruns += 1;
                continue;
            }
            if opts.challenge_permille > 0
                && job["status"].as_str() == Some("completed")
                && job["model_id"].as_str() != Some(squat_model_id().as_str())
                && challenger.below(1000) < opts.challenge_permille
            {
                let fee = job["fee"]["amount"].as_str().and_then(|a| a.parse().ok());
                to_challenge.push((id, fee.unwrap_or(FEE)));
            }
            if job["model_id"].as_str() == Some(squat_model_id().as_str()) {
                let fee: u128 = job["fee"]["amount"]
                    .as_str()
                    .and_then(|a| a.parse().ok())
                    .unwrap_or(0);
                res.sq_settled += 1;
                res.sq_fees += fee;
                if job["status"].as_str() == Some("completed") {
                    res.sq_completed += 1;
                    res.sq_lost += fee;
                } else {
                    res.sq_lost += fee.min(200);
                }
                continue;
            }
            tally_job(&sim, &job, id, seed, &mut res);
        }
        res.coalition_peak_permille = res.coalition_peak_permille.max(coalition_share(&sim));
        // Validator set changes: CometBFT applies them two heights later.
        for u in &r.validator_updates {
            if u.power == 0 {
                if let Some(Sum::Ed25519(pk)) = u.pub_key.as_ref().and_then(|k| k.sum.clone()) {
                    let a = hex::encode_upper(tendermint_address(&pk));
                    if let Some(&i) = sim.index.get(&a) {
                        res.jailed_at[i].get_or_insert(hu);
                    }
                }
            }
        }
        sim.pending.push((h + 2, r.validator_updates.clone()));
        let due: Vec<_> = sim
            .pending
            .iter()
            .filter(|(at, _)| *at == h + 1)
            .cloned()
            .collect();
        sim.pending.retain(|(at, _)| *at > h + 1);
        for (_, ups) in due {
            for u in ups {
                let Some(Sum::Ed25519(pk)) = u.pub_key.and_then(|k| k.sum) else {
                    continue;
                };
                let a = hex::encode_upper(tendermint_address(&pk));
                let Some(&i) = sim.index.get(&a) else {
                    continue;
                };
                if u.power == 0 {
                    sim.active.remove(&i);
                } else {
                    sim.active.insert(i, u.power);
                }
            }
        }
        last_votes = votes;
        last_voters = voters;
        if sim.active.is_empty() {
            break;
        }
    }
    res.paid_state =
        sim.committed(|s| verdict_attestation::settle::paid(s).map_or(0, |p| p.u128()));
    res.floor_final = sim.floor();
    res.pool_end = sim.committed(|s| {
        verdict_bank::Bank::balance(s, &inf::insurance_pool(), "uverd").map_or(0, |b| b.u128())
    });
    res.att_info = sim.committed(|s| {
        sim.cons
            .iter()
            .map(|a| {
                verdict_attestation::att_info(s, a.as_slice())
                    .ok()
                    .flatten()
                    .map_or((0, 0), |x| (x.seats, x.missed))
            })
            .collect()
    });
    res.seconds = start.elapsed().as_secs_f64();
    res
}
