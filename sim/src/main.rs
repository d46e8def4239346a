//! `verdict-sim`: a seeded adversarial simulation of Verdict's committee
//! selection and settlement (no CometBFT, no network, no sidecar).
//!
//! Two modes. The default (`chain.rs`) runs every block through the real
//! `VerdictApp::finalize_block`: settlement, payments, slashes, jailing and
//! committee assignment are the chain's own; see that module. `--fast` is the
//! pure simulation described below (the settlement decision re-implemented).
//!
//! Model (`--fast`). `--validators` validators with Zipf stake (power of rank r ∝ 1/r) are
//! the bonded set. Blocks carry 8 jobs each (`max_jobs_per_block`); every block's
//! proposer is drawn by stake and feeds the **real** randomness beacon
//! (`verdict_inference::beacon::{contribution, advance}` on a `MockStorage`,
//! anchors and hash-chain elements included). The jobs of block H get their
//! committees from the beacon after block H+1 through the **real**
//! `committee::seed` and `committee::sample` (`committee_size` seats by stake with
//! replacement). Each job is a model with 8 outputs of magnitude 1..1000; each
//! member computes its answer according to its strategy and quantizes it with
//! the **real** `digest::digest_of` (tolerance 1e-6 absolute); members without a
//! commitment when the commit phase closes (copiers, slow, down) are late.
//! Settlement re-implements only the decision of `settle::settle_job` (weighted
//! element-wise median with the **real** `digest::weighted_median` over the
//! most common digest length, the **real** `digest::judge` with rtol 1e-4 and
//! multiple 8, completion iff agreeing weight · 3 > committee weight · 2, Wrong
//! slashed on completed jobs only, Grey neither paid nor slashed, the fee split
//! by weight among the agreeing members with the dust to the first one).
//!
//! Adversaries: one coalition of the top validators per scenario (~10 %, ~20 %,
//! ~30 % of stake, plus a ~40 % control above 1/3) always reveals the same
//! forged answer. With grinding on, whenever a coalition member proposes block
//! H+1 it evaluates both of its options (give or withhold its beacon element),
//! each on its own copy of the beacon state through the real `advance`, and
//! picks the one that gives it more seats in the committees of block H's jobs.
//!
//! Also (ranks below the top quarter, `max(1, n/30)` each): a **withholder**
//! commits like an honest node and never reveals (chain mode: the real
//! `build_extension` with its `reveals` cleared; `--fast`: modelled as a seat
//! with nothing revealed, like a late one, since it has no liveness window);
//! a **self-jailer** reveals a wrong answer like `wrong` and (chain mode) its
//! operator, in the block that records its first reveal, raises its
//! `min_self_delegation` and unbonds 90 % of its self-delegation with
//! `MsgEditValidator` + `MsgUndelegate`, so staking jails it at once (`--fast`:
//! the same as `wrong`, no jailing). Chain mode only: a **slot-squatter**
//! account submits jobs every block at the job fee floor for a second model
//! that no validator serves (see `chain.rs`).
//!
//! Not modelled: jailing and stake loss (a slash is counted per job; on the
//! chain the first one jails the validator and it leaves later committees),
//! bad reveals, IBC. "slashed" counts `wrong_output` faults (one per job);
//! "late" counts seats without a commitment (missed seat, no slash, no pay).
//! A job that does not complete refunds its fee and slashes nobody.
//!
//! Exit status: 1 when a settlement rule is broken on a job the coalition did
//! not capture (an honest member slashed, a wrong answer on a completed job not
//! slashed, a fee not fully paid out); a capture by a coalition below 1/3 is a
//! sampling event whose probability is printed next to the count (the goal line
//! still says FAIL), not a rule violation.
#![allow(
    clippy::arithmetic_side_effects,
    clippy::cast_possible_truncation,
    clippy::cast_precision_loss,
    clippy::cast_sign_loss,
    clippy::float_arithmetic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;
use std::time::Instant;

mod chain;

use cosmwasm_std::testing::MockStorage;
use cosmwasm_std::{Order, Storage};
use sha2::{Digest, Sha256};
use verdict_attestation::digest::{digest_of, judge, weighted_median, Verdict};
use verdict_inference::beacon;
use verdict_inference::committee;
use verdict_inference::state::Member;
use verdict_inference::InferenceParams;

const OUT_LEN: usize = 8;
const TOLERANCE_NANO: u64 = 1_000;
const RTOL_NANO: u64 = 100_000;
const FEE: u128 = 1_000;
/// Jobs per run in the (default) chain mode.
const CHAIN_JOBS: u64 = 1_500;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Strategy {
    Cpu,
    Noisy6,
    Noisy5,
    Sloppy,
    Wrong,
    Copier,
    Slow,
    Down,
    Withholder,
    SelfJailer,
    Coalition,
}

impl Strategy {
    const ALL: [Strategy; 11] = [
        Strategy::Cpu,
        Strategy::Noisy6,
        Strategy::Noisy5,
        Strategy::Sloppy,
        Strategy::Wrong,
        Strategy::Copier,
        Strategy::Slow,
        Strategy::Down,
        Strategy::Withholder,
        Strategy::SelfJailer,
        Strategy::Coalition,
    ];
    fn name(self) -> &'static str {
        match self {
            Strategy::Cpu => "honest CPU (exact)",
            Strategy::Noisy6 => "honest GPU noise 1e-6",
            Strategy::Noisy5 => "honest GPU noise 1e-5",
            Strategy::Sloppy => "sloppy (rel 3e-4, grey)",
            Strategy::Wrong => "wrong (+10 offset)",
            Strategy::Copier => "lazy copier",
            Strategy::Slow => "latency liar / slow",
            Strategy::Down => "down",
            Strategy::Withholder => "withholder (commits, never reveals)",
            Strategy::SelfJailer => "self-jailer (wrong, then unbonds)",
            Strategy::Coalition => "coalition (forged)",
        }
    }
    fn honest(self) -> bool {
        matches!(self, Strategy::Cpu | Strategy::Noisy6 | Strategy::Noisy5)
    }
}

/// splitmix64: the only randomness, all derived from `--seed`.
/// Stake and summed tally of the validators `idx` (one strategy's group).
fn group_total(vals: &[Val], tally: &[Tally], idx: &[usize]) -> (u64, Tally) {
    let stake: u64 = idx.iter().map(|&i| vals[i].member.power).sum();
    let mut t = Tally::default();
    for &i in idx {
        let x = &tally[i];
        t.seats += x.seats;
        t.jobs += x.jobs;
        t.paid += x.paid;
        t.slashed += x.slashed;
        t.late += x.late;
        t.grey += x.grey;
    }
    (stake, t)
}

fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn unit(x: u64) -> f64 {
    (mix(x) >> 11) as f64 / (1u64 << 53) as f64
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            v.swap(i, j);
        }
    }
}

#[derive(Clone)]
struct Val {
    member: Member,
    strategy: Strategy,
}

#[derive(Default, Clone)]
struct Tally {
    seats: u64,
    jobs: u64,
    paid: u128,
    slashed: u64,
    late: u64,
    grey: u64,
}

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

fn addr20(seed: u64, i: usize) -> [u8; 20] {
    let h = Sha256::new()
        .chain_update(b"sim-validator")
        .chain_update(seed.to_be_bytes())
        .chain_update((i as u64).to_be_bytes())
        .finalize();
    let mut a = [0u8; 20];
    a.copy_from_slice(&h[..20]);
    a
}

/// Validators by rank (index 0 = rank 1), Zipf power, and the strategies for
/// one scenario with a coalition targeting `target` of the stake.
fn validators(n: usize, seed: u64, target: f64) -> Vec<Val> {
    let mut vals: Vec<Val> = (0..n)
        .map(|i| {
            let op = addr20(seed, i);
            Val {
                member: Member {
                    address: hex::encode_upper(op),
                    operator: op,
                    power: 1_000_000 / (i as u64 + 1),
                    seats: 0,
                },
                strategy: Strategy::Cpu,
            }
        })
        .collect();
    let total: u64 = vals.iter().map(|v| v.member.power).sum();
    // The coalition: the top validators, greedily, up to target + 1 %.
    let mut cum = 0u64;
    for v in &mut vals {
        let p = v.member.power;
        if (cum + p) as f64 <= (target + 0.01) * total as f64 {
            cum += p;
            v.strategy = Strategy::Coalition;
        }
    }
    // Faulty roles go to the tail (ranks beyond n/4), so that the honest
    // majority of most committees exceeds 2/3 and settlement is exercised.
    let mut rng = Rng(seed ^ 0x5157_0001);
    let mut tail: Vec<usize> = (n / 4..n)
        .filter(|&i| vals[i].strategy != Strategy::Coalition)
        .collect();
    rng.shuffle(&mut tail);
    let k = (n / 30).max(1);
    let mut roles = vec![Strategy::Sloppy];
    for s in [
        Strategy::Wrong,
        Strategy::Copier,
        Strategy::Slow,
        Strategy::Down,
        Strategy::Withholder,
        Strategy::SelfJailer,
    ] {
        for _ in 0..k {
            roles.push(s);
        }
    }
    for (i, r) in tail.iter().zip(roles) {
        vals[*i].strategy = r;
    }
    let mut rest: Vec<usize> = (0..n)
        .filter(|&i| vals[i].strategy == Strategy::Cpu)
        .collect();
    rng.shuffle(&mut rest);
    for (j, i) in rest.into_iter().enumerate() {
        vals[i].strategy = [Strategy::Cpu, Strategy::Noisy6, Strategy::Noisy5][j % 3];
    }
    vals
}

/// The model's exact output for a job: 8 values of magnitude 1..1000.
fn reference(seed: u64, job: u64) -> Vec<f64> {
    (0..OUT_LEN as u64)
        .map(|k| {
            let x = seed ^ job.wrapping_mul(0x1000_0001) ^ (k << 56);
            let mag = 10f64.powf(3.0 * unit(x));
            if mix(x) & 1 == 0 {
                mag
            } else {
                -mag
            }
        })
        .collect()
}

/// What one member reveals (None: no commitment in time, so nothing to reveal).
fn answer(s: Strategy, reference: &[f64], seed: u64, job: u64, v: usize) -> Option<Vec<f64>> {
    let noise = |rel: f64| -> Vec<f64> {
        reference
            .iter()
            .enumerate()
            .map(|(k, x)| {
                let r = mix(seed ^ job.rotate_left(20) ^ ((v as u64) << 8) ^ k as u64);
                x * if r & 1 == 0 { 1.0 + rel } else { 1.0 - rel }
            })
            .collect()
    };
    match s {
        Strategy::Cpu => Some(reference.to_vec()),
        Strategy::Noisy6 => Some(noise(1e-6)),
        Strategy::Noisy5 => Some(noise(1e-5)),
        Strategy::Sloppy => Some(noise(3e-4)),
        // A self-jailer reveals the same wrong answer, then unbonds (chain mode).
        Strategy::Wrong | Strategy::SelfJailer => {
            Some(reference.iter().map(|x| x + 10.0).collect())
        }
        // The same forged answer for every coalition member.
        Strategy::Coalition => Some(reference.iter().map(|x| x * 1.5 + 7.0).collect()),
        // A withholder commits to the true answer (chain.rs feeds its sidecar
        // the reference) but never reveals it: nothing revealed.
        Strategy::Copier | Strategy::Slow | Strategy::Down | Strategy::Withholder => None,
    }
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
    verdicts: Vec<Option<Verdict>>,
    pay: Vec<u128>,
}

/// The decision of `settle::settle_job` (no member is excused: all are bonded).
fn settle(committee: &[Member], digests: &[Option<Vec<i64>>], multiple: u32) -> Outcome {
    let committee_power: u64 = committee.iter().map(Member::weight).sum();
    let mut by_len: BTreeMap<usize, u64> = BTreeMap::new();
    for (m, d) in committee.iter().zip(digests) {
        if let Some(d) = d {
            *by_len.entry(d.len()).or_insert(0) += m.weight();
        }
    }
    let (mut dim, mut best) = (0usize, 0u64);
    for (len, w) in &by_len {
        if *w > best {
            best = *w;
            dim = *len;
        }
    }
    let median: Vec<i64> = (0..dim)
        .map(|i| {
            let mut col: Vec<(i64, u64)> = committee
                .iter()
                .zip(digests)
                .filter_map(|(m, d)| {
                    let d = d.as_ref()?;
                    (d.len() == dim).then(|| (d[i], m.weight()))
                })
                .collect();
            weighted_median(&mut col).unwrap_or(0)
        })
        .collect();
    let verdicts: Vec<Option<Verdict>> = digests
        .iter()
        .map(|d| {
            d.as_ref()
                .map(|d| judge(d, &median, RTOL_NANO, OUT_LEN, multiple))
        })
        .collect();
    let agreeing_power: u64 = committee
        .iter()
        .zip(&verdicts)
        .filter(|(_, v)| **v == Some(Verdict::Agrees))
        .map(|(m, _)| m.weight())
        .sum();
    let completed =
        committee_power > 0 && u128::from(agreeing_power) * 3 > u128::from(committee_power) * 2;
    let mut pay = vec![0u128; committee.len()];
    if completed {
        let mut paid = 0u128;
        let mut first = None;
        for (i, (m, v)) in committee.iter().zip(&verdicts).enumerate() {
            if *v == Some(Verdict::Agrees) {
                let part = FEE * u128::from(m.weight()) / u128::from(agreeing_power);
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
        completed,
        median,
        verdicts,
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
        let prev = beacon::BEACON
            .may_load(&store)
            .ok()
            .flatten()
            .unwrap_or([0; 32]);
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
                let slashed = out.completed && out.verdicts[k] == Some(Verdict::Wrong);
                if slashed {
                    t.slashed += 1;
                    if vals[i].strategy.honest() {
                        res.honest_slashed += 1;
                        if !captured {
                            res.honest_slashed_uncaptured += 1;
                        }
                    }
                }
                if out.verdicts[k] == Some(Verdict::Grey) {
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

fn arg(args: &[String], name: &str, default: u64) -> u64 {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map_or(default, |v| {
            v.parse().unwrap_or_else(|_| {
                eprintln!("{name}: not a number: {v}");
                std::process::exit(2)
            })
        })
}

/// P[Binomial(n, p) ≥ k]: the chance that a coalition of stake share `p` holds
/// at least `k` of `n` seats drawn with replacement.
fn binomial_tail(n: u64, p: f64, k: u64) -> f64 {
    let mut sum = 0.0;
    for x in k..=n {
        let mut c = 1.0f64;
        for i in 0..x {
            c = c * (n - i) as f64 / (i + 1) as f64;
        }
        sum += c * p.powi(x as i32) * (1.0 - p).powi((n - x) as i32);
    }
    sum
}

fn pct(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        100.0 * a as f64 / b as f64
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!(
            "verdict-sim [--fast] [--jobs N] [--validators N] [--seed S] [--committee N] [--missed-window N] [--squat N]\n\
             default: every block through the real VerdictApp FinalizeBlock ({CHAIN_JOBS} jobs per run);\n\
             --fast: the pure simulation with a re-implemented settlement decision (10000 jobs);\n\
             --missed-window N (chain mode): genesis `missed_window`, so liveness jails show in short runs;\n\
             --squat N (chain mode): the slot-squatter's jobs per block (default {})",
            chain::SQUAT_PER_BLOCK
        );
        return;
    }
    let p = InferenceParams::default();
    let fast = args.iter().any(|a| a == "--fast");
    let jobs = arg(&args, "--jobs", if fast { 10_000 } else { CHAIN_JOBS });
    let n = arg(&args, "--validators", 60).max(2) as usize;
    let seed = arg(&args, "--seed", 1);
    let size = arg(&args, "--committee", u64::from(p.committee_size)) as usize;
    if !fast {
        let missed_window = args
            .iter()
            .any(|a| a == "--missed-window")
            .then(|| arg(&args, "--missed-window", 0));
        let squat = arg(&args, "--squat", chain::SQUAT_PER_BLOCK);
        if !chain::main_chain(jobs, n, seed, size, missed_window, squat) {
            std::process::exit(1);
        }
        return;
    }
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
         `InferenceParams::default()`. Re-implemented: the settlement *decision* of \
         `settle::settle_job` (median, quorum, slash/pay/late rules; no bank/staking/\
         distribution state, no commit-reveal messages: a late member has no commitment). \
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
    if !rules {
        std::process::exit(1);
    }
}
