//! `--fast`: the pure simulation (see the crate documentation): the real
//! beacon on a `MockStorage`, the real committee draws and digests, and the
//! real pure settlement decision `settle::tally`, with no chain state.

use std::collections::BTreeMap;
use std::time::Instant;

use cosmwasm_std::testing::MockStorage;
use cosmwasm_std::{Order, Storage};
use sha2::{Digest, Sha256};
use verdict_attestation::digest::{digest_of, judge, Verdict};
use verdict_attestation::settle::{tally, Answer, MemberVerdict, Seat, Terms};
use verdict_inference::beacon;
use verdict_inference::committee;
use verdict_inference::state::Member;
use verdict_inference::InferenceParams;

use crate::model::{
    answer, reference, validators, Rng, Strategy, Tally, Val, FEE, OUT_LEN, RTOL_NANO,
    TOLERANCE_NANO,
};
use crate::stats::{binomial_tail, group_total, pct};

#[derive(Default)]
struct RunResult {
    tally: Vec<Tally>,
    jobs: u64,
    completed: u64,
    coalition_sat: u64,
    coalition_seats: u64,
    total_seats: u64,
    forged_accepted: u64,
    stalled_by_coalition: u64,
    grind_blocks: u64,
    grind_flips: u64,
    honest_slashed: u64,
    wrong_unslashed: u64,
    /// The same two counts on the jobs that were not captured.
    honest_slashed_uncaptured: u64,
    wrong_unslashed_uncaptured: u64,
    fee_mismatch: u64,
}

/// A copy of the beacon state (MockStorage is not Clone).
fn copy_storage(s: &MockStorage) -> MockStorage {
    let mut t = MockStorage::new();
    for (k, v) in s.range(None, None, Order::Ascending) {
        t.set(&k, &v);
    }
    t
}

struct Outcome {
    completed: bool,
    median: Vec<i64>,
    verdicts: Vec<MemberVerdict>,
    pay: Vec<u128>,
}

/// Settlement of one job: the decision is the real `settle::tally` (no member
/// is excused: all are bonded), the fee split that of settlement's payment.
fn settle(committee: &[Member], digests: &[Option<Vec<i64>>], multiple: u32) -> Outcome {
    let seats: Vec<Seat> = committee
        .iter()
        .zip(digests)
        .map(|(m, d)| Seat {
            weight: m.weight(),
            answer: d.clone().map_or(Answer::Silent, Answer::Revealed),
            out_of_set: false,
            commit_time_ms: 0,
        })
        .collect();
    let terms = Terms {
        rtol_nano: RTOL_NANO,
        max_len: OUT_LEN,
        wrong_output_multiple: multiple,
        submitted_time_ms: 0,
        incident_share: verdict_inference::InferenceParams::default().incident_share,
    };
    let out = tally(&seats, &terms);
    let mut pay = vec![0u128; committee.len()];
    if out.completed {
        let mut paid = 0u128;
        let mut first = None;
        for (i, m) in committee.iter().enumerate() {
            if out.paid(i) {
                let part = FEE * u128::from(m.weight()) / u128::from(out.agreeing_power);
                pay[i] = part;
                paid += part;
                first.get_or_insert(i);
            }
        }
        if let Some(i) = first {
            pay[i] += FEE - paid;
        }
    }
    Outcome {
        completed: out.completed,
        median: out.digest,
        verdicts: out.verdicts,
        pay,
    }
}

fn run(vals: &[Val], jobs: u64, seed: u64, size: usize, grind: bool, multiple: u32) -> RunResult {
    let mut order: Vec<usize> = (0..vals.len()).collect();
    order.sort_by_key(|&i| vals[i].member.operator);
    let candidates: Vec<Member> = order.iter().map(|&i| vals[i].member.clone()).collect();
    let index: BTreeMap<String, usize> = vals
        .iter()
        .enumerate()
        .map(|(i, v)| (v.member.address.clone(), i))
        .collect();
    let in_coalition = |m: &Member| vals[index[&m.address]].strategy == Strategy::Coalition;
    let total_power: u64 = vals.iter().map(|v| v.member.power).sum();
    let per_block = InferenceParams::default().max_jobs_per_block as u64;
    let blocks = jobs.div_ceil(per_block);
    let mut res = RunResult {
        tally: vec![Tally::default(); vals.len()],
        ..RunResult::default()
    };
    let mut store = MockStorage::new();
    // The same proposer sequence with and without grinding.
    let mut rng = Rng(seed ^ 0xB10C);
    let chain_seed = |v: usize| {
        move |e: u32| -> [u8; 32] {
            Sha256::new()
                .chain_update(b"sim-chain")
                .chain_update(seed.to_be_bytes())
                .chain_update((v as u64).to_be_bytes())
                .chain_update(e.to_be_bytes())
                .finalize()
                .into()
        }
    };
    let jobs_of = |h: u64| -> Vec<u64> {
        let lo = (h - 1) * per_block;
        (lo..(lo + per_block).min(jobs)).collect()
    };
    for h in 1..=blocks + 1 {
        // The proposer, by stake.
        let mut r = rng.below(total_power);
        let mut p = vals.len() - 1;
        for (i, v) in vals.iter().enumerate() {
            if r < v.member.power {
                p = i;
                break;
            }
            r -= v.member.power;
        }
        let op = vals[p].member.operator;
        let (reveal, anchor) = beacon::contribution(&store, &op, chain_seed(p));
        let prev = beacon::latest(&store).ok().flatten().unwrap_or([0; 32]);
        // The jobs whose committees this block's beacon decides: block h−1's.
        let pending = if h >= 2 { jobs_of(h - 1) } else { vec![] };
        let mut give = true;
        if grind && vals[p].strategy == Strategy::Coalition && !reveal.is_empty() {
            res.grind_blocks += 1;
            let share = |b: &[u8; 32]| -> u64 {
                pending
                    .iter()
                    .map(|&j| {
                        committee::sample(&candidates, size, &committee::seed(b, j))
                            .iter()
                            .filter(|m| in_coalition(m))
                            .map(Member::weight)
                            .sum::<u64>()
                    })
                    .sum()
            };
            let mut a = copy_storage(&store);
            let mut w = copy_storage(&store);
            let with = beacon::advance(&mut a, h, &op, &reveal, &anchor).unwrap_or_default();
            let without = beacon::advance(&mut w, h, &op, &[], &[]).unwrap_or_default();
            give = share(&with) >= share(&without);
            if !give {
                res.grind_flips += 1;
            }
        }
        let (reveal, anchor) = if give {
            (reveal, anchor)
        } else {
            (vec![], vec![])
        };
        let b = beacon::advance(&mut store, h, &op, &reveal, &anchor).unwrap_or_default();
        // Cross-check the beacon formula of beacon.rs by hand.
        let mut want = Sha256::new()
            .chain_update(b"verdict-beacon")
            .chain_update(prev)
            .chain_update(h.to_be_bytes());
        if !reveal.is_empty() {
            want.update(&reveal);
        }
        assert_eq!(<[u8; 32]>::from(want.finalize()), b, "beacon formula");
        for j in pending {
            let committee = committee::sample(&candidates, size, &committee::seed(&b, j));
            let refr = reference(seed, j);
            let ref_digest = digest_of(&refr, j, TOLERANCE_NANO, OUT_LEN);
            let who: Vec<usize> = committee.iter().map(|m| index[&m.address]).collect();
            let digests: Vec<Option<Vec<i64>>> = who
                .iter()
                .map(|&i| {
                    answer(vals[i].strategy, &refr, seed, j, i)
                        .map(|o| digest_of(&o, j, TOLERANCE_NANO, OUT_LEN))
                })
                .collect();
            let out = settle(&committee, &digests, multiple);
            res.jobs += 1;
            let weight: u64 = committee.iter().map(Member::weight).sum();
            res.total_seats += weight;
            let cw: u64 = committee
                .iter()
                .filter(|m| in_coalition(m))
                .map(Member::weight)
                .sum();
            if cw > 0 {
                res.coalition_sat += 1;
                res.coalition_seats += cw;
            }
            let captured = out.completed
                && judge(&out.median, &ref_digest, RTOL_NANO, OUT_LEN, multiple) != Verdict::Agrees;
            if out.completed {
                res.completed += 1;
                if captured {
                    res.forged_accepted += 1;
                }
                if out.pay.iter().sum::<u128>() != FEE {
                    res.fee_mismatch += 1;
                }
            } else if cw * 3 >= weight {
                res.stalled_by_coalition += 1;
            }
            for (k, (m, &i)) in committee.iter().zip(&who).enumerate() {
                let t = &mut res.tally[i];
                t.seats += m.weight();
                t.jobs += 1;
                t.paid += out.pay[k];
                let slashed = out.verdicts[k] == MemberVerdict::Wrong;
                if slashed {
                    t.slashed += 1;
                    if vals[i].strategy.honest() {
                        res.honest_slashed += 1;
                        if !captured {
                            res.honest_slashed_uncaptured += 1;
                        }
                    }
                }
                if out.verdicts[k] == MemberVerdict::Grey {
                    t.grey += 1;
                }
                if digests[k].is_none() {
                    t.late += 1;
                }
                // Ground truth: a revealed answer far from the true output.
                let truly_wrong = digests[k].as_ref().is_some_and(|d| {
                    judge(d, &ref_digest, RTOL_NANO, OUT_LEN, multiple) == Verdict::Wrong
                });
                if out.completed && truly_wrong && !slashed {
                    res.wrong_unslashed += 1;
                    if !captured {
                        res.wrong_unslashed_uncaptured += 1;
                    }
                }
            }
        }
    }
    res
}

/// The whole report of the fast mode; false when a settlement rule broke.
pub(crate) fn main_fast(jobs: u64, n: usize, seed: u64, size: usize) -> bool {
    let p = InferenceParams::default();
    let multiple = p.wrong_output_multiple;
    let start = Instant::now();
    println!("# Verdict adversarial simulation");
    println!();
    println!(
        "jobs {jobs}, validators {n} (Zipf stake), seed {seed}, committee {size} seats, \
         {} jobs/block, outputs {OUT_LEN} × |1..1000|, tolerance_nano {TOLERANCE_NANO}, \
         rtol_nano {RTOL_NANO}, wrong_output_multiple {multiple}, fee {FEE}/job.",
        p.max_jobs_per_block
    );
    println!();
    println!(
        "Real code: `beacon::{{contribution, advance, check}}` on MockStorage (BEACON, CHAINS), \
         `committee::{{seed, sample}}`, `digest::{{digest_of, judge, weighted_median}}`, \
         `InferenceParams::default()`, the settlement decision `settle::tally` (median, quorum, \
         agree/grey/wrong/late verdicts). Re-implemented: the fee split of settlement's payment \
         (no bank/staking/distribution state, no commit-reveal messages: a late member has no \
         commitment). \
         Withholders are modelled as seats with nothing revealed (no liveness window here), \
         self-jailers as `wrong` (no jailing here); the slot-squatter exists only in chain mode."
    );
    let mut goals_honest = true;
    let mut goals_forged = true;
    let mut goals_wrong = true;
    let mut goals_fee = true;
    let mut rules = true;
    for target in [0.10, 0.20, 0.30, 0.40] {
        let vals = validators(n, seed, target);
        let total: u64 = vals.iter().map(|v| v.member.power).sum();
        let cpow: u64 = vals
            .iter()
            .filter(|v| v.strategy == Strategy::Coalition)
            .map(|v| v.member.power)
            .sum();
        let cshare = cpow as f64 / total as f64;
        let plain = run(&vals, jobs, seed, size, false, multiple);
        let ground = run(&vals, jobs, seed, size, true, multiple);
        let control = cshare * 3.0 >= 1.0;
        println!();
        println!(
            "## Coalition of the top validators: {:.1} % of stake ({}){}",
            cshare * 100.0,
            vals.iter()
                .filter(|v| v.strategy == Strategy::Coalition)
                .count(),
            if control {
                " — control above 1/3, not under the goals"
            } else {
                ""
            }
        );
        println!();
        println!(
            "With beacon grinding: {} of {} jobs completed.",
            ground.completed, ground.jobs
        );
        println!();
        println!("| strategy | validators | stake % | seats held | jobs seated | paid (fee units) | slashed | late | grey |");
        println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        for s in Strategy::ALL {
            let idx: Vec<usize> = (0..vals.len()).filter(|&i| vals[i].strategy == s).collect();
            if idx.is_empty() {
                continue;
            }
            let (stake, t) = group_total(&vals, &ground.tally, &idx);
            println!(
                "| {} | {} | {:.1} | {} | {} | {} | {} | {} | {} |",
                s.name(),
                idx.len(),
                pct(stake, total),
                t.seats,
                t.jobs,
                t.paid,
                t.slashed,
                t.late,
                t.grey
            );
        }
        println!();
        for (label, r) in [("without grinding", &plain), ("with grinding", &ground)] {
            println!(
                "- {label}: forged results accepted: {} of {} jobs where it sat; capture rate {:.4} %; \
                 committee share {:.2} % of seats (stake {:.2} %); jobs stalled (coalition ≥ 1/3, not completed) {}; \
                 completed {} of {}{}",
                r.forged_accepted,
                r.coalition_sat,
                pct(r.forged_accepted, r.coalition_sat),
                pct(r.coalition_seats, r.total_seats),
                cshare * 100.0,
                r.stalled_by_coalition,
                r.completed,
                r.jobs,
                if r.grind_blocks > 0 {
                    format!(
                        "; coalition proposed {} blocks, withheld its element in {}",
                        r.grind_blocks, r.grind_flips
                    )
                } else {
                    String::new()
                }
            );
        }
        // Forging needs coalition weight · 3 > 2 · committee weight (seats ≥ k).
        let k = (2 * size as u64) / 3 + 1;
        let tail = binomial_tail(size as u64, cshare, k);
        println!(
            "- analytic: P[coalition holds ≥ {k} of {size} seats] = P[Bin({size}, {cshare:.3}) ≥ {k}] = {tail:.2e} per job \
             → {:.2} forged acceptances expected in {jobs} jobs without grinding",
            tail * jobs as f64
        );
        println!(
            "- on jobs that were not captured: honest seats slashed {} / {}, truly wrong answers left unslashed on completed jobs {} / {} (without / with grinding)",
            plain.honest_slashed_uncaptured,
            ground.honest_slashed_uncaptured,
            plain.wrong_unslashed_uncaptured,
            ground.wrong_unslashed_uncaptured
        );
        for r in [&plain, &ground] {
            goals_fee &= r.fee_mismatch == 0;
            rules &= r.fee_mismatch == 0
                && r.honest_slashed_uncaptured == 0
                && r.wrong_unslashed_uncaptured == 0;
            if !control {
                goals_honest &= r.honest_slashed == 0;
                goals_wrong &= r.wrong_unslashed == 0;
                goals_forged &= r.forged_accepted == 0;
            }
        }
        println!(
            "- all jobs: honest seats slashed {} / {}, truly wrong answers left unslashed on completed jobs {} / {} (without / with grinding)",
            plain.honest_slashed, ground.honest_slashed, plain.wrong_unslashed, ground.wrong_unslashed
        );
    }
    let pf = |b: bool| if b { "PASS" } else { "FAIL" };
    println!();
    println!(
        "goals (coalitions < 1/3): honest slashed = 0: {}; forged accepted = 0 for coalitions < 1/3: {}; \
         every wrong answer on a completed job slashed: {}; (fee fully paid out on every completed job: {})",
        pf(goals_honest),
        pf(goals_forged),
        pf(goals_wrong),
        pf(goals_fee)
    );
    println!(
        "settlement rules on every job not captured (no honest slash, every wrong answer slashed, fee paid out): {}",
        pf(rules)
    );
    println!();
    println!("wall time {:.2} s", start.elapsed().as_secs_f64());
    rules
}
