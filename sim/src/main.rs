//! `verdict-sim`: a seeded adversarial simulation of Verdict's committee
//! selection and settlement (no CometBFT, no network, no sidecar).
//!
//! Two modes. The default (`chain.rs`) runs every block through the real
//! `VerdictApp::finalize_block`: settlement, payments, slashes, jailing and
//! committee assignment are the chain's own; see that module. `--fast` is the
//! pure simulation described below (`fast.rs`: no chain state, the real pure
//! settlement decision `settle::tally`).
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
//! Settlement's decision is the **real** pure `settle::tally` (weighted
//! element-wise median with `digest::weighted_median` over the most common
//! digest length, `digest::judge` with rtol 1e-4 and multiple 8, completion iff
//! agreeing weight · 3 > committee weight · 2, Wrong slashed on completed jobs
//! only, Grey neither paid nor slashed; every member is bonded, so none is
//! excused). Re-implemented: only the fee split of settlement's payment (by
//! weight among the agreeing members, the dust to the first one).
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

mod chain;
mod fast;
mod model;
mod stats;

use verdict_inference::InferenceParams;

/// Jobs per run in the (default) chain mode.
const CHAIN_JOBS: u64 = 1_500;

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

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!(
            "verdict-sim [--fast] [--jobs N] [--validators N] [--seed S] [--committee N] [--missed-window N] [--squat N]\n\
             default: every block through the real VerdictApp FinalizeBlock ({CHAIN_JOBS} jobs per run);\n\
             --fast: the pure simulation, settlement decided by the real `settle::tally` (10000 jobs);\n\
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
    if !fast::main_fast(jobs, n, seed, size) {
        std::process::exit(1);
    }
}
