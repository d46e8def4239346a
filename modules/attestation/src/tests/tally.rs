//! Properties of [`crate::settle::tally`], the pure decision of settlement,
//! and its equivalence with the decision `settle_job` made before it was
//! split out (kept below as `before`, on attestation records).

use std::collections::BTreeMap;

use cosmwasm_std::Decimal;

use super::*;
use crate::digest::{judge, weighted_median, Verdict};
use crate::settle::{tally, Answer, MemberVerdict, Outcome, Seat, Terms};

/// A reachable attestation record: nothing, a commitment, a commitment with a
/// bad reveal, or a commitment opened by a digest.
fn attestation() -> impl Strategy<Value = Attestation> {
    let digest = (1usize..=4, 0i64..3).prop_flat_map(|(len, base)| {
        proptest::collection::vec(
            prop_oneof![Just(0i64), -120i64..120, -900i64..900, -20_000i64..20_000,]
                .prop_map(move |n| 1_000_000 * (base + 1) + n),
            len,
        )
    });
    let c = Some(Binary::from(vec![1u8; 32]));
    (0u8..4, digest, -5_000i64..50_000).prop_map(move |(kind, d, t)| Attestation {
        commitment: (kind > 0).then(|| c.clone()).flatten(),
        bad_reveal: kind == 2,
        digest: (kind == 3).then_some(d),
        commit_time_ms: if kind > 0 { t } else { 0 },
        ..Default::default()
    })
}

/// A committee: (weight, record, out of the set) per member.
fn committee() -> impl Strategy<Value = Vec<(u64, Attestation, bool)>> {
    proptest::collection::vec(
        (0u64..10, attestation(), proptest::bool::weighted(0.2)),
        0..9,
    )
}

fn terms() -> impl Strategy<Value = Terms> {
    (
        0u64..1_000_000,
        1usize..4,
        2u32..10,
        0i64..1_000,
        0u64..=100,
    )
        .prop_map(|(r, l, m, t, share)| Terms {
            rtol_nano: r,
            max_len: l,
            wrong_output_multiple: m,
            submitted_time_ms: t,
            incident_share: Decimal::percent(share),
        })
}

fn seats(c: &[(u64, Attestation, bool)]) -> Vec<Seat> {
    c.iter()
        .map(|(w, a, out)| Seat {
            weight: *w,
            answer: Answer::of(a),
            out_of_set: *out,
            commit_time_ms: a.commit_time_ms,
        })
        .collect()
}

/// Everything settlement derives from a tally, by member index.
#[derive(Debug, PartialEq, Eq)]
struct Decision {
    digest: Vec<i64>,
    agreeing_power: u64,
    committee_power: u64,
    completed: bool,
    latency_ms: u32,
    agreeing: Vec<usize>,
    late: Vec<usize>,
    grey: Vec<usize>,
    missing: Vec<usize>,
    excused: Vec<usize>,
    faults: Vec<(usize, Vec<&'static str>)>,
    paid: Vec<usize>,
    liveness: Vec<(usize, u8)>,
}

fn decision(o: &Outcome) -> Decision {
    let with = |f: &dyn Fn(MemberVerdict) -> bool| -> Vec<usize> {
        (0..o.verdicts.len())
            .filter(|i| f(o.verdicts[*i]))
            .collect()
    };
    Decision {
        digest: o.digest.clone(),
        agreeing_power: o.agreeing_power,
        committee_power: o.committee_power,
        completed: o.completed,
        latency_ms: o.latency_ms,
        agreeing: with(&|v| v == MemberVerdict::Agreed),
        late: with(&|v| v == MemberVerdict::Late),
        grey: with(&|v| v == MemberVerdict::Grey),
        missing: with(&|v| v.is_missing()),
        excused: with(&|v| v == MemberVerdict::Excused),
        faults: (0..o.verdicts.len())
            .filter_map(|i| Some((i, vec![o.verdicts[i].fault()?.as_str()])))
            .collect(),
        paid: (0..o.verdicts.len()).filter(|i| o.paid(*i)).collect(),
        liveness: (0..o.verdicts.len())
            .filter_map(|i| Some((i, o.misses(i)?)))
            .collect(),
    }
}

/// The decision as `settle_job` made it before the split (commit 258e0f2),
/// line for line, on attestation records.
fn before(c: &[(u64, Attestation, bool)], t: &Terms) -> Decision {
    let excused: Vec<bool> = c
        .iter()
        .map(|(_, a, out)| *out && a.commitment.is_none())
        .collect();
    let live = || c.iter().zip(&excused).filter(|(_, e)| !**e).map(|(x, _)| x);
    let committee_power = live().map(|x| x.0).fold(0, u64::saturating_add);
    let mut by_len: BTreeMap<usize, u64> = BTreeMap::new();
    for (w, a, _) in live() {
        if let Some(d) = &a.digest {
            let e = by_len.entry(d.len()).or_insert(0);
            *e = e.saturating_add(*w);
        }
    }
    let (mut dim, mut best) = (0usize, 0u64);
    for (len, w) in &by_len {
        if *w > best {
            best = *w;
            dim = *len;
        }
    }
    let mut median = Vec::with_capacity(dim);
    for i in 0..dim {
        let mut col: Vec<(i64, u64)> = live()
            .filter_map(|(w, a, _)| {
                let d = a.digest.as_ref()?;
                (d.len() == dim).then(|| (d[i], *w))
            })
            .collect();
        median.push(weighted_median(&mut col).unwrap_or(0));
    }
    let verdicts: Vec<Option<Verdict>> = c
        .iter()
        .map(|(_, a, _)| {
            a.digest
                .as_ref()
                .map(|d| judge(d, &median, t.rtol_nano, t.max_len, t.wrong_output_multiple))
        })
        .collect();
    let agreeing: Vec<usize> = (0..c.len())
        .filter(|i| !excused[*i] && verdicts[*i] == Some(Verdict::Agrees))
        .collect();
    let agreeing_power = agreeing
        .iter()
        .map(|i| c[*i].0)
        .fold(0, u64::saturating_add);
    let completed =
        committee_power > 0 && u128::from(agreeing_power) * 3 > u128::from(committee_power) * 2;
    let mut d = Decision {
        digest: vec![],
        agreeing_power,
        committee_power,
        completed,
        latency_ms: 0,
        agreeing: agreeing.clone(),
        late: vec![],
        grey: vec![],
        missing: vec![],
        excused: (0..c.len()).filter(|i| excused[*i]).collect(),
        faults: vec![],
        paid: if completed { agreeing.clone() } else { vec![] },
        liveness: vec![],
    };
    let anyone_committed = c.iter().any(|x| x.1.commitment.is_some());
    for i in (0..c.len()).filter(|i| !excused[*i]) {
        let a = &c[i].1;
        let mut kinds = Vec::new();
        match verdicts[i] {
            Some(Verdict::Wrong) if completed => kinds.push("wrong_output"),
            Some(Verdict::Grey) => d.grey.push(i),
            _ => {}
        }
        if a.bad_reveal {
            kinds.push("bad_reveal");
        }
        if a.commitment.is_none() {
            d.late.push(i);
        }
        if a.digest.is_none() && !a.bad_reveal {
            d.missing.push(i);
        }
        if !kinds.is_empty() {
            d.faults.push((i, kinds));
        }
        if anyone_committed {
            let missed = match (&a.commitment, &a.digest, a.bad_reveal) {
                (_, Some(_), _) | (_, _, true) => 0,
                (None, None, false) => 1,
                (Some(_), None, false) => 2,
            };
            d.liveness.push((i, missed));
        }
    }
    let mut lat: Vec<u32> = agreeing
        .iter()
        .map(|i| {
            let d = c[*i].1.commit_time_ms.saturating_sub(t.submitted_time_ms);
            u32::try_from(d.max(0)).unwrap_or(u32::MAX)
        })
        .collect();
    lat.sort_unstable();
    d.latency_ms = lat
        .get(lat.len().saturating_sub(1) / 2)
        .copied()
        .unwrap_or(0);
    d.digest = median;
    d
}

proptest! {
    /// The split changed the structure, not one decision: on every reachable
    /// record the tally decides what `settle_job` decided (with the incident
    /// rule, which came later, off).
    #[test]
    fn tally_decides_what_settlement_decided_before(c in committee(), t in terms()) {
        let t = Terms { incident_share: Decimal::one(), ..t };
        prop_assert_eq!(decision(&tally(&seats(&c), &t)), before(&c, &t));
    }

    /// Issue 21 §3: an incident is a job that failed although someone ran
    /// it, with more than `incident_share` of the committee late or
    /// withholding; it excuses exactly the late seats' misses and changes no
    /// other decision (withholders keep their two misses, faults stay).
    #[test]
    fn an_incident_excuses_only_lateness_on_a_failed_job(c in committee(), t in terms()) {
        let out = tally(&seats(&c), &t);
        let off = tally(&seats(&c), &Terms { incident_share: Decimal::one(), ..t });
        let missing: u64 = (0..c.len())
            .filter(|i| out.verdicts[*i].is_missing())
            .map(|i| c[i].0)
            .sum();
        let over = u128::from(missing) * 100
            > u128::from(out.committee_power) * cosmwasm_std::Uint128::new(100).mul_floor(t.incident_share).u128();
        prop_assert_eq!(out.incident, !out.completed && out.anyone_committed && over);
        prop_assert!(!off.incident);
        prop_assert_eq!(&out.verdicts, &off.verdicts);
        prop_assert_eq!(out.completed, off.completed);
        for i in 0..c.len() {
            let excused = out.incident && out.verdicts[i] == MemberVerdict::Late;
            if excused {
                prop_assert_eq!(out.misses(i), None);
            } else {
                prop_assert_eq!(out.misses(i), off.misses(i));
            }
        }
    }

    /// The result, the powers, completion and latency do not depend on the
    /// order of the committee; each member's verdict follows the member.
    #[test]
    fn the_result_is_independent_of_member_order(
        (c, order) in committee().prop_flat_map(|c| {
            let n = c.len();
            (Just(c), Just((0..n).collect::<Vec<usize>>()).prop_shuffle())
        }),
        t in terms(),
    ) {
        let a = tally(&seats(&c), &t);
        let shuffled: Vec<_> = order.iter().map(|i| c[*i].clone()).collect();
        let b = tally(&seats(&shuffled), &t);
        prop_assert_eq!(&a.digest, &b.digest);
        prop_assert_eq!(a.agreeing_power, b.agreeing_power);
        prop_assert_eq!(a.committee_power, b.committee_power);
        prop_assert_eq!(a.completed, b.completed);
        prop_assert_eq!(a.latency_ms, b.latency_ms);
        prop_assert_eq!(a.anyone_committed, b.anyone_committed);
        for (k, i) in order.iter().enumerate() {
            prop_assert_eq!(b.verdicts[k], a.verdicts[*i]);
        }
    }

    /// Honest members holding more than 2/3 of the (not excused) weight reveal
    /// the same output: the job completes with it, each of them is paid and
    /// none is slashed, whatever the others do.
    #[test]
    fn an_honest_two_thirds_completes_with_its_output_and_is_never_slashed(
        others in committee(),
        honest in proptest::collection::vec((1u64..10, any::<bool>(), 0i64..9_000), 1..6),
        output in proptest::collection::vec(-2_000_000i64..2_000_000, 1..5),
        rotate in any::<usize>(),
        t in terms(),
    ) {
        let weight_of = |c: &[(u64, Attestation, bool)]| -> u64 {
            c.iter().filter(|(_, a, out)| !(*out && a.commitment.is_none())).map(|x| x.0).sum()
        };
        let o = weight_of(&others);
        let revealed = |w: u64, out: bool, time: i64| (w, Attestation {
            commitment: Some(Binary::from(vec![2u8; 32])),
            digest: Some(output.clone()),
            commit_time_ms: time,
            ..Default::default()
        }, out);
        let mut good: Vec<_> = honest.iter().map(|(w, out, time)| revealed(*w, *out, *time)).collect();
        let h = weight_of(&good);
        if h <= 2 * o {
            // Top the honest side up to just above 2/3 of the committee.
            good.push(revealed(2 * o + 1 - h, false, 0));
        }
        let n = good.len();
        let mut c: Vec<_> = good.into_iter().chain(others).collect();
        let k = rotate % c.len();
        c.rotate_left(k);
        let is_honest = |i: usize| (i + k) % c.len() < n;
        let out = tally(&seats(&c), &t);
        prop_assert!(out.completed, "{:?}", out);
        prop_assert_eq!(&out.digest, &output);
        for i in (0..c.len()).filter(|i| is_honest(*i)) {
            prop_assert_eq!(out.verdicts[i], MemberVerdict::Agreed);
            prop_assert!(out.paid(i));
            prop_assert!(out.verdicts[i].fault().is_none());
        }
    }

    /// No member is both paid and slashed; the agreeing weight never exceeds
    /// the committee's; a completed job has more than 2/3 of it agreeing; a
    /// member that did not reveal is never paid; an excused one costs nothing.
    #[test]
    fn payment_and_slashing_exclude_each_other_and_powers_are_bounded(
        c in committee(),
        t in terms(),
    ) {
        let out = tally(&seats(&c), &t);
        prop_assert!(out.agreeing_power <= out.committee_power);
        if out.completed {
            prop_assert!(3 * u128::from(out.agreeing_power) > 2 * u128::from(out.committee_power));
        }
        for (i, v) in out.verdicts.iter().enumerate() {
            prop_assert!(!(out.paid(i) && v.fault().is_some()), "{i}: {v:?}");
            if out.paid(i) {
                prop_assert!(c[i].1.digest.is_some());
            }
            if *v == MemberVerdict::Excused {
                prop_assert!(v.fault().is_none() && out.misses(i).is_none() && !out.paid(i));
            }
        }
    }
}

/// A job nobody committed to charges nobody's liveness; a split committee
/// slashes nobody for being far off.
#[test]
fn silence_all_round_costs_nothing_and_a_split_proves_nobody_wrong() {
    let t = Terms {
        rtol_nano: 100_000,
        max_len: 8,
        wrong_output_multiple: 8,
        submitted_time_ms: 0,
        incident_share: Decimal::percent(50),
    };
    let silent = Seat {
        weight: 1,
        answer: Answer::Silent,
        out_of_set: false,
        commit_time_ms: 0,
    };
    let out = tally(&[silent.clone(), silent], &t);
    assert!(!out.completed && !out.anyone_committed);
    assert_eq!(out.verdicts, vec![MemberVerdict::Late; 2]);
    assert_eq!((out.misses(0), out.misses(1)), (None, None));
    let said = |d: i64| Seat {
        weight: 1,
        answer: Answer::Revealed(vec![d]),
        out_of_set: false,
        commit_time_ms: 0,
    };
    let out = tally(&[said(1_000_000), said(9_000_000)], &t);
    assert!(!out.completed);
    assert_eq!(
        out.verdicts,
        vec![MemberVerdict::Agreed, MemberVerdict::Disputed]
    );
    assert!(out.verdicts.iter().all(|v| v.fault().is_none()));
}
