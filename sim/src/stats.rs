//! Arithmetic of the reports (both modes).

use crate::model::{Tally, Val};

/// Stake and summed tally of the validators `idx` (one strategy's group).
pub(crate) fn group_total(vals: &[Val], tally: &[Tally], idx: &[usize]) -> (u64, Tally) {
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

/// P[Binomial(n, p) ≥ k]: the chance that a coalition of stake share `p` holds
/// at least `k` of `n` seats drawn with replacement.
pub(crate) fn binomial_tail(n: u64, p: f64, k: u64) -> f64 {
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

pub(crate) fn pct(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        100.0 * a as f64 / b as f64
    }
}
