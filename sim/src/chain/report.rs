//! The report of the chain mode: eight runs (four coalitions, without and
//! with grinding), printed as markdown, and the goals.

use std::time::Instant;

use super::result::ChainResult;
use super::run::{run_chain, Outage, RunOpts};
use super::setup::{COMMIT_BLOCKS, JOBS_PER_BLOCK, MAX_LATENCY_MS, REQ_MAX_FEE, WINDOW};
use crate::model::{validators, Strategy, FEE, OUT_LEN, RTOL_NANO, TOLERANCE_NANO};
use crate::stats::{binomial_tail, group_total, pct};

/// The whole report of the chain mode.
pub(crate) fn main_chain(
    jobs: u64,
    n: usize,
    seed: u64,
    size: usize,
    missed_window: Option<u64>,
    squat: u64,
) -> bool {
    let start = Instant::now();
    println!("# Verdict adversarial simulation — settlement through the real chain");
    println!();
    println!(
        "jobs {jobs} per run (8 runs: 4 coalitions × without/with grinding), validators {n} \
         (Zipf stake: gentx value ∝ 1/rank), seed {seed}, committee_size {size} (genesis param), \
         {JOBS_PER_BLOCK} job slots/block (local jobs per block: `max_jobs_per_source`), 1 s blocks, max_latency_ms {MAX_LATENCY_MS}, \
         commit_blocks {COMMIT_BLOCKS}, attestation_window_blocks {WINDOW}, outputs {OUT_LEN} × |1..1000|, \
         tolerance_nano {TOLERANCE_NANO}, rtol_nano {RTOL_NANO}, fee {FEE} uverd/job."
    );
    println!();
    println!(
        "Real code: every block is `VerdictApp::finalize_block` + `commit` on a sled `Store` \
         (InitChain with gentxs; MsgRegisterModel, then as many MsgSubmitJob per block as the chain takes from one source, as signed user txs): \
         `verdict_attestation::process_block` (commitments, reveals, commit phases closed by SLA, \
         `settle_job`: median/quorum/grey/wrong, payment through distribution, slashes through \
         slashing within the blast-radius `Budget`, attestation liveness), `beacon::advance` with \
         the proposer's `beacon::contribution` from tx[0], `committee::assign`, staking end block \
         (jailed validators leave the set and later committees). Each validator's vote extension \
         is the real `build_extension` over the committed state (with the `NextBlock` of the \
         block it votes on); its sidecar's answer is `digest_of` of its strategy's output. \
         Skipped: CometBFT, PrepareProposal and ProcessProposal (tx[0] is built by the sim; \
         extension signatures are empty — FinalizeBlock only decodes tx[0]); every validator in \
         the set signs every block. Grinding is decided on committed state with the real \
         `committee::{{bonded, sample, seed}}` (a jail in the same block can make the prediction \
         differ; counted). Results: each settled job's JSON from `/verdict.inference.v1.Query/Job`, \
         `slash` events from FinalizeBlock. `--fast` runs the old pure simulation."
    );
    println!();
    println!(
        "Added adversaries: withholder = the real `build_extension` with its `reveals` cleared \
         (commits to the true answer, never reveals: 2 entries per settling block in its \
         attestation-liveness window, a silent one costs 1); self-jailer = reveals the `wrong` answer, \
         and in the block that records its first reveal its operator sends MsgEditValidator \
         (min_self_delegation = half its stake) + MsgUndelegate (90 %), so staking jails it at once — \
         its reveals must still be judged (`wrong_output`); slot-squatter = an account that registers \
         a second model nobody serves and submits {squat} jobs every block at the job fee floor, \
         ahead of the requester (which pays max(fee, floor), read before each block, up to \
         100 000 uverd, else it waits; the squatter stops above 20 000); refused \
         submissions are retried next block). Squatter jobs are left out of the table and the goals. \
         missed_window (attestation-liveness window, entries): {}.",
        missed_window.map_or("the chain default".into(), |w| format!("{w} (--missed-window)"))
    );
    println!();
    println!(
        "Columns: seats held = committee weight (seats drawn; when the bonded set is no larger than \
         committee_size every bonded validator sits weighted by its power, so jailings can switch a \
         run to power units); paid = uverd as `settle_job` split the fee among `result.agreeing`; \
         slashed = `wrong_output` faults in settled jobs' results; late = seats with no commitment; \
         grey = grey verdicts; jailed = validators of the group jailed (validator update to power 0). \
         Tables are the runs with grinding."
    );
    let mut goals_honest = true;
    let mut goals_forged = true;
    let mut goals_wrong = true;
    let mut goals_fee = true;
    let mut rules = true;
    let mut goals_sj = true;
    let mut goals_books = true;
    for target in [0.10, 0.20, 0.30, 0.40] {
        let vals = validators(n, seed, target);
        let total: u64 = vals.iter().map(|v| v.member.power).sum();
        let cpow: u64 = vals
            .iter()
            .filter(|v| v.strategy == Strategy::Coalition)
            .map(|v| v.member.power)
            .sum();
        let cshare = cpow as f64 / total as f64;
        // The two runs are independent chains: one on another thread.
        let opts = RunOpts {
            grind: false,
            missed_window,
            squat,
            ..RunOpts::default()
        };
        let (plain, ground) = std::thread::scope(|sc| {
            let other = sc.spawn(|| run_chain(&vals, jobs, seed, size, &opts));
            let grinding = RunOpts {
                grind: true,
                ..opts.clone()
            };
            let ground = run_chain(&vals, jobs, seed, size, &grinding);
            (other.join().expect("run without grinding"), ground)
        });
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
            "With beacon grinding: {} of {} jobs completed ({} settled, {} blocks of {} local jobs, {:.1} s; \
             without grinding {:.1} s).",
            ground.completed,
            ground.submitted,
            ground.jobs,
            ground.blocks,
            ground.per_block,
            ground.seconds,
            plain.seconds
        );
        println!();
        println!("| strategy | validators | stake % | seats held | jobs seated | paid (fee units) | slashed | late | grey | jailed |");
        println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        for s in Strategy::ALL {
            let idx: Vec<usize> = (0..vals.len()).filter(|&i| vals[i].strategy == s).collect();
            if idx.is_empty() {
                continue;
            }
            let (stake, t) = group_total(&vals, &ground.tally, &idx);
            let jailed = idx
                .iter()
                .filter(|&&i| ground.jailed_at[i].is_some())
                .count();
            println!(
                "| {} | {} | {:.1} | {} | {} | {} | {} | {} | {} | {} |",
                s.name(),
                idx.len(),
                pct(stake, total),
                t.seats,
                t.jobs,
                t.paid,
                t.slashed,
                t.late,
                t.grey,
                jailed
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
                r.submitted,
                if r.grind_blocks > 0 {
                    format!(
                        "; coalition proposed {} blocks with jobs to draw, withheld its element in {} \
                         (prediction ≠ actual draw in {})",
                        r.grind_blocks, r.grind_flips, r.grind_mispredicted
                    )
                } else {
                    String::new()
                }
            );
            let jailed: Vec<String> = (0..vals.len())
                .filter_map(|i| {
                    let at = r.jailed_at[i]?;
                    Some(format!(
                        "rank {} ({}) at height {at}: {}",
                        i + 1,
                        vals[i].strategy.name(),
                        reasons(r, i)
                    ))
                })
                .collect();
            let capped: u64 = r
                .slash_events
                .iter()
                .flat_map(|m| m.values())
                .map(|(_, c)| c)
                .sum();
            println!(
                "  - jailed {label}: {}; capped slash events (over the 1/3 budget): {capped}; \
                 seats of validators jailed before their committee was drawn: {}; excused seats: {}",
                or_none(&jailed, "; "),
                r.jailed_seated,
                r.excused
            );
            let window = |s: Strategy| -> String {
                (0..vals.len())
                    .filter(|&i| vals[i].strategy == s)
                    .map(|i| {
                        let (seats, missed) = r.att_info[i];
                        format!("rank {} {missed}/{seats}", i + 1)
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let sj: Vec<String> = (0..vals.len())
                .filter_map(|i| {
                    let at = r.self_jail_tx[i]?;
                    Some(format!(
                        "rank {} unbonded at {at}, jailed at {}",
                        i + 1,
                        r.jailed_at[i].map_or("never".into(), |j| j.to_string())
                    ))
                })
                .collect();
            let honest_worst = (0..vals.len())
                .filter(|&i| vals[i].strategy.honest())
                .map(|i| (r.att_info[i].1, r.att_info[i].0, i))
                .max()
                .map_or("none".into(), |(m, e, i)| format!("rank {} {m}/{e}", i + 1));
            println!(
                "  - {label}: liveness window at the end (missed/entries): withholders {}; down {}; \
                 worst honest {honest_worst}; \
                 jobs with withholders ≥ 1/3 of seats {} (failed {}); self-jailers: {}; their wrong \
                 answers on completed jobs {} recorded as wrong_output {}",
                window(Strategy::Withholder),
                window(Strategy::Down),
                r.withheld_third,
                r.withheld_third_failed,
                if sj.is_empty() {
                    "never unbonded".into()
                } else {
                    sj.join("; ")
                },
                r.sj_wrong_completed,
                r.sj_recorded
            );
            let refused: Vec<String> = r
                .req_refused
                .iter()
                .map(|(k, v)| format!("{k} ×{v}"))
                .collect();
            println!(
                "  - squatter {label}: jobs {} (settled {}, completed {}, own submissions refused {}), \
                 fees paid {} uverd, base fees lost {} uverd; requester's jobs refused: {}; requester \
                 raised its fee to the floor in {} blocks; job_fee_floor max {} final {}",
                r.sq_jobs,
                r.sq_settled,
                r.sq_completed,
                r.sq_refused,
                r.sq_fees,
                r.sq_lost,
                or_none(&refused, ", "),
                r.req_raised,
                r.floor_max,
                r.floor_final
            );
            println!("  - {label}: {}", money_line(r));
            goals_sj &= r.sj_recorded == r.sj_wrong_completed;
            goals_books &= books_balance(r);
        }
        let size = size as u64;
        let k = (2 * size) / 3 + 1;
        let tail = binomial_tail(size, cshare, k);
        println!(
            "- analytic: P[coalition holds ≥ {k} of {size} seats] = P[Bin({size}, {cshare:.3}) ≥ {k}] = {tail:.2e} per job \
             → {:.2} forged acceptances expected in {jobs} jobs without grinding (ignoring jailing)",
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
            let fee_ok = r.paid_state == r.fees_completed;
            goals_fee &= fee_ok;
            rules &= fee_ok
                && r.honest_slashed_uncaptured == 0
                && r.wrong_unslashed_uncaptured == 0
                && r.jailed_seated == 0;
            if !control {
                goals_honest &= r.honest_slashed == 0;
                goals_wrong &= r.wrong_unslashed == 0;
                goals_forged &= r.forged_accepted == 0;
            }
        }
        println!(
            "- all jobs: honest seats slashed {} / {}, truly wrong answers left unslashed on completed jobs {} / {}; \
             attestation/paid in state {} / {} uverd vs the fees of the completed jobs {} / {} (without / with grinding)",
            plain.honest_slashed,
            ground.honest_slashed,
            plain.wrong_unslashed,
            ground.wrong_unslashed,
            plain.paid_state,
            ground.paid_state,
            plain.fees_completed,
            ground.fees_completed
        );
    }
    let (outage_ok, outage_books) = outage_section(jobs, n, seed, size, missed_window, squat);
    goals_books &= outage_books;
    let (challenge_ok, challenge_books) =
        super::challenge::challenge_section(jobs, n, seed, missed_window, squat);
    goals_books &= challenge_books;
    let pf = |b: bool| if b { "PASS" } else { "FAIL" };
    println!();
    println!(
        "goals (coalitions < 1/3): honest slashed = 0: {}; forged accepted = 0 for coalitions < 1/3: {}; \
         every wrong answer on a completed job slashed: {}; self-jailers escape = 0: {}; \
         (fee fully paid out on every completed job, attestation/paid: {})",
        pf(goals_honest),
        pf(goals_forged),
        pf(goals_wrong),
        pf(goals_sj),
        pf(goals_fee)
    );
    println!(
        "issue 21: every uverd slashed is in the insurance pool or paid to a requester, compensation ≤ {} × fee per job: {}; a correlated outage slashes no honest validator: {}",
        verdict_inference::InferenceParams::default().compensation_fee_multiple,
        pf(goals_books),
        pf(outage_ok)
    );
    println!(
        "issue 21 §1: no honest result overturned and every challenged forged result overturned: {}",
        pf(challenge_ok)
    );
    println!(
        "settlement rules on every job not captured (no honest slash, every wrong answer slashed, fee paid out, \
         no jailed validator drawn): {}",
        pf(rules)
    );
    println!();
    println!("wall time {:.2} s", start.elapsed().as_secs_f64());
    rules && goals_books && outage_ok && challenge_ok
}

/// `items` joined by `sep`, or "none".
pub(super) fn or_none(items: &[String], sep: &str) -> String {
    if items.is_empty() {
        "none".into()
    } else {
        items.join(sep)
    }
}

/// The validators `pick` chooses that a run slashed (with `capped`, also
/// those whose every slash was capped), as "rank N reasons".
pub(super) fn slashed_ranks(
    vals: &[crate::model::Val],
    r: &ChainResult,
    pick: impl Fn(&crate::model::Val) -> bool,
    capped: bool,
) -> Vec<String> {
    (0..vals.len())
        .filter(|&i| pick(&vals[i]))
        .filter_map(|i| {
            let n: u64 = r.slash_events[i]
                .values()
                .map(|(a, c)| if capped { a + c } else { *a })
                .sum();
            (n > 0).then(|| format!("rank {} {}", i + 1, reasons(r, i)))
        })
        .collect()
}

/// Validator `i`'s slash events of a run by reason: `reason ×applied (+capped)`.
pub(super) fn reasons(r: &ChainResult, i: usize) -> String {
    r.slash_events[i]
        .iter()
        .map(|(k, (a, c))| {
            if *c > 0 {
                format!("{k} ×{a} (+{c} capped)")
            } else {
                format!("{k} ×{a}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Issue 21 §2: where the slashes of a run went.
fn money_line(r: &ChainResult) -> String {
    format!(
        "insurance: slashed {} uverd into the pool, {} uverd compensation to requesters on {} jobs, \
         pool holds {} uverd at the end; incidents {}",
        r.slashed_coins, r.compensation, r.compensated_jobs, r.pool_end, r.incidents
    )
}

/// Every uverd a run slashed is in the pool or was paid out, and no job was
/// paid more than the multiple of its fee allows.
pub(super) fn books_balance(r: &ChainResult) -> bool {
    let multiple =
        u128::from(verdict_inference::InferenceParams::default().compensation_fee_multiple);
    let paid_out: u128 = r.challenge_paid.values().sum::<u128>() + r.restitution;
    r.slashed_coins == r.compensation + paid_out + r.pool_end
        && r.compensation <= u128::from(r.compensated_jobs) * multiple * REQ_MAX_FEE
}

/// The outage's blocks: long enough that, without the incident rule, the
/// region's attestation-liveness windows (100 entries, half may miss) fill.
const OUTAGE: (i64, i64) = (40, 200);

/// Issue 21 §3, §5: a region of honest validators holding ~70 % of the stake
/// loses its sidecars for 160 blocks while jobs keep coming. With the incident
/// rule (default) and without it (`incident_share` 1), side by side.
fn outage_section(
    jobs: u64,
    n: usize,
    seed: u64,
    size: usize,
    missed_window: Option<u64>,
    squat: u64,
) -> (bool, bool) {
    let vals = validators(n, seed, 0.0);
    let total: u64 = vals.iter().map(|v| v.member.power).sum();
    let mut region = std::collections::BTreeSet::new();
    let mut held = 0u64;
    for (i, v) in vals.iter().enumerate() {
        if v.strategy.honest() && (held as f64) < 0.7 * total as f64 {
            region.insert(i);
            held += v.member.power;
        }
    }
    let outage = Outage {
        from: OUTAGE.0,
        to: OUTAGE.1,
        region: region.clone(),
    };
    let on = RunOpts {
        missed_window,
        squat,
        outage: Some(outage),
        ..RunOpts::default()
    };
    let off = RunOpts {
        incident_off: true,
        ..on.clone()
    };
    let (with_rule, without) = std::thread::scope(|sc| {
        let other = sc.spawn(|| run_chain(&vals, jobs, seed, size, &off));
        let with_rule = run_chain(&vals, jobs, seed, size, &on);
        (
            with_rule,
            other.join().expect("run without the incident rule"),
        )
    });
    println!();
    println!(
        "## Correlated outage: the sidecars of {} honest validators ({:.1} % of stake) down for blocks {}..{}",
        region.len(),
        pct(held, total),
        OUTAGE.0,
        OUTAGE.1
    );
    println!();
    let mut ok = true;
    for (label, r) in [
        ("incident rule on (default)", &with_rule),
        ("incident rule off (incident_share 1)", &without),
    ] {
        let honest_slashed = slashed_ranks(&vals, r, |v| v.strategy.honest(), false);
        println!(
            "- {label}: {} of {} jobs completed, incidents {}; honest validators slashed: {}; {}",
            r.completed,
            r.submitted,
            r.incidents,
            or_none(&honest_slashed, "; "),
            money_line(r)
        );
        if std::ptr::eq(r, &with_rule) {
            ok = honest_slashed.is_empty() && r.incidents > 0;
        }
    }
    (ok, books_balance(&with_rule) && books_balance(&without))
}
