//! One settled job, from its JSON (`/verdict.inference.v1.Query/Job`), into a
//! run's counts, against the ground truth of what each member answered.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use verdict_attestation::digest::{digest_of, judge, Verdict};

use super::net::Sim;
use super::result::ChainResult;
use crate::model::{answer, reference, Strategy, FEE, OUT_LEN, RTOL_NANO, TOLERANCE_NANO};

fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

pub(super) fn tally_job(sim: &Sim<'_>, job: &Value, id: u64, seed: u64, res: &mut ChainResult) {
    let vals = sim.vals;
    let status = job["status"].as_str().unwrap_or("");
    res.jobs += 1;
    let completed = status == "completed";
    let fee: u128 = job["fee"]["amount"]
        .as_str()
        .and_then(|a| a.parse().ok())
        .unwrap_or(FEE);
    if completed {
        res.completed += 1;
        res.fees_completed += fee;
    } else {
        res.failed += 1;
    }
    let r = &job["result"];
    let agreeing = strs(&r["agreeing"]);
    let late = strs(&r["late"]);
    let grey = strs(&r["grey"]);
    let missing = strs(&r["missing"]);
    let excused = strs(&r["excused"]);
    let agreeing_power = r["agreeing_power"].as_u64().unwrap_or(0);
    let mut wrong_faults: BTreeSet<String> = BTreeSet::new();
    for f in r["faults"].as_array().into_iter().flatten() {
        if strs(&f["kinds"]).iter().any(|k| k == "wrong_output") {
            if let Some(a) = f["address"].as_str() {
                wrong_faults.insert(a.to_string());
            }
        }
    }
    let median: Vec<i64> = r["digest"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_i64).collect())
        .unwrap_or_default();
    let refr = reference(seed, id);
    let ref_digest = digest_of(&refr, id, TOLERANCE_NANO, OUT_LEN);
    let multiple = 8;
    let captured =
        completed && judge(&median, &ref_digest, RTOL_NANO, OUT_LEN, multiple) != Verdict::Agrees;
    let members: Vec<(String, u64)> = job["committee"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| {
            let a = m["address"].as_str()?.to_string();
            let seats = m["seats"].as_u64().unwrap_or(0);
            let w = if seats > 0 {
                seats
            } else {
                m["power"].as_u64().unwrap_or(0)
            };
            Some((a, w))
        })
        .collect();
    let submitted = job["submitted_height"].as_u64().unwrap_or(0);
    let weight: u64 = members.iter().map(|(_, w)| w).sum();
    res.total_seats += weight;
    let cw: u64 = members
        .iter()
        .filter(|(a, _)| {
            sim.index
                .get(a)
                .is_some_and(|&i| vals[i].strategy == Strategy::Coalition)
        })
        .map(|(_, w)| *w)
        .sum();
    if cw > 0 {
        res.coalition_sat += 1;
        res.coalition_seats += cw;
    }
    if captured {
        res.forged_accepted += 1;
        res.captured_ids.insert(id);
    }
    if !completed && cw * 3 >= weight {
        res.stalled_by_coalition += 1;
    }
    let ww: u64 = members
        .iter()
        .filter(|(a, _)| {
            sim.index
                .get(a)
                .is_some_and(|&i| vals[i].strategy == Strategy::Withholder)
        })
        .map(|(_, w)| *w)
        .sum();
    if ww > 0 && ww * 3 >= weight {
        res.withheld_third += 1;
        if !completed {
            res.withheld_third_failed += 1;
        }
    }
    // Payments as settle_job made them (through distribution): fee × weight /
    // agreeing power, the dust to the first agreeing member.
    let mut pay: BTreeMap<String, u128> = BTreeMap::new();
    if completed && agreeing_power > 0 {
        let mut paid = 0u128;
        for a in &agreeing {
            let w = members.iter().find(|(m, _)| m == a).map_or(0, |(_, w)| *w);
            let part = fee * u128::from(w) / u128::from(agreeing_power);
            paid += part;
            *pay.entry(a.clone()).or_insert(0) += part;
        }
        if let Some(a) = agreeing.first() {
            *pay.entry(a.clone()).or_insert(0) += fee - paid;
        }
    }
    for (a, w) in &members {
        let Some(&i) = sim.index.get(a) else {
            continue;
        };
        if res.jailed_at[i].is_some_and(|j| j <= submitted + 1) {
            res.jailed_seated += w;
        }
        if excused.contains(a) {
            res.excused += 1;
        }
        let t = &mut res.tally[i];
        t.seats += w;
        t.jobs += 1;
        t.paid += pay.get(a).copied().unwrap_or(0);
        let slashed = wrong_faults.contains(a);
        if slashed {
            t.slashed += 1;
            if vals[i].strategy.honest() {
                res.honest_slashed += 1;
                if !captured {
                    res.honest_slashed_uncaptured += 1;
                }
            }
        }
        if grey.contains(a) {
            t.grey += 1;
        }
        if late.contains(a) {
            t.late += 1;
        }
        // Ground truth: the answer it revealed (if it did) far from the true output.
        let revealed = !missing.contains(a) && !excused.contains(a);
        let truly_wrong = revealed
            && answer(vals[i].strategy, &refr, seed, id, i).is_some_and(|o| {
                let d = digest_of(&o, id, TOLERANCE_NANO, OUT_LEN);
                judge(&d, &ref_digest, RTOL_NANO, OUT_LEN, multiple) == Verdict::Wrong
            });
        if completed && truly_wrong && vals[i].strategy == Strategy::SelfJailer {
            res.sj_wrong_completed += 1;
            if slashed {
                res.sj_recorded += 1;
            }
        }
        if completed && truly_wrong && !slashed {
            res.wrong_unslashed += 1;
            if !captured {
                res.wrong_unslashed_uncaptured += 1;
            }
        }
    }
}
