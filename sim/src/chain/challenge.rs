//! Issue 21 §1, §5: a random challenger against a coalition that captures
//! committees. The coalition (the top validators, ~30 % of the stake) is
//! rational: it forges only on committees it holds more than 2/3 of and
//! answers truly everywhere else, so settlement alone never catches it. With
//! committees of 4 seats it captures some jobs; the requester challenges a
//! random 1 % (and, in a second run, 10 %) of its completed results. Each
//! challenge is a re-run on `challenge_committee_size` seats (the default 96).

use super::report::{books_balance, or_none, slashed_ranks};
use super::result::ChainResult;
use super::run::{run_chain, RunOpts};
use crate::model::{validators, Strategy};
use crate::stats::pct;

/// Seats of the thin committees the coalition captures.
const THIN: usize = 4;

fn line(label: &str, r: &ChainResult, honest_slashed: &[String], coalition: &[String]) {
    let paid = |k: &str| r.challenge_paid.get(k).copied().unwrap_or(0);
    println!(
        "- {label}: {} of {} jobs completed, {} forged results accepted; {} challenges \
         ({} re-runs): {} forged results caught and overturned ({:.1} % of the forged), \
         {} honest results upheld, {} forged results upheld, {} honest results overturned, \
         {} inconclusive",
        r.completed,
        r.submitted,
        r.forged_accepted,
        r.challenges,
        r.reruns,
        r.caught,
        pct(r.caught, r.forged_accepted),
        r.upheld,
        r.upheld_captured,
        r.false_overturns,
        r.inconclusive,
    );
    println!(
        "  - resolved while the coalition held ≥ 1/3 of the set's power (outvoted honest \
         members jailed; beyond the BFT assumption, not under the goal): {} challenges, \
         {} forged results overturned, {} honest results overturned, {} forged results \
         upheld; the coalition's peak share of the set {:.1} %",
        r.beyond_third,
        r.beyond_caught,
        r.beyond_false_overturns,
        r.beyond_upheld_captured,
        r.coalition_peak_permille as f64 / 10.0,
    );
    println!(
        "  - paid from the insurance pool on overturns: refunds {}, bonds back {}, \
         compensation {}, challenger rewards {}, restitution to outvoted honest members {} \
         (uverd); slashed in all {} uverd, pool at the end {} uverd",
        paid("refund"),
        paid("bond"),
        paid("compensation"),
        paid("reward"),
        r.restitution,
        r.slashed_coins,
        r.pool_end,
    );
    println!(
        "  - honest validators slashed (outvoted in captured committees): {}",
        or_none(honest_slashed, "; ")
    );
    println!(
        "  - coalition validators slashed (by overturns): {}",
        or_none(coalition, "; ")
    );
}

/// Runs the section; (goals hold, books balance).
pub(super) fn challenge_section(
    jobs: u64,
    n: usize,
    seed: u64,
    missed_window: Option<u64>,
    squat: u64,
) -> (bool, bool) {
    let vals = validators(n, seed, 0.30);
    let total: u64 = vals.iter().map(|v| v.member.power).sum();
    let cpow: u64 = vals
        .iter()
        .filter(|v| v.strategy == Strategy::Coalition)
        .map(|v| v.member.power)
        .sum();
    let at = |permille| RunOpts {
        missed_window,
        squat,
        rational: true,
        challenge_permille: permille,
        ..RunOpts::default()
    };
    let (one, ten) = std::thread::scope(|sc| {
        let other = sc.spawn(|| run_chain(&vals, jobs, seed, THIN, &at(100)));
        let one = run_chain(&vals, jobs, seed, THIN, &at(10));
        (one, other.join().expect("run at 10 %"))
    });
    println!();
    println!(
        "## Challenges: a rational coalition of {:.1} % of the stake on committees of {THIN} seats",
        pct(cpow, total)
    );
    println!();
    let mut ok = true;
    let mut books = true;
    for (label, r) in [
        ("1 % of results challenged", &one),
        ("10 % challenged", &ten),
    ] {
        let honest_slashed = slashed_ranks(&vals, r, |v| v.strategy.honest(), false);
        let coalition = slashed_ranks(&vals, r, |v| v.strategy == Strategy::Coalition, true);
        line(label, r, &honest_slashed, &coalition);
        ok &= r.false_overturns == 0 && r.upheld_captured == 0;
        books &= books_balance(r);
    }
    (ok, books)
}
