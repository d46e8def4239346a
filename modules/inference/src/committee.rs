//! Committee sampling: `committee_size` seats drawn by stake with replacement
//! (or the whole set, weighted by power, when it is no larger), from a seed the
//! including proposer cannot know or steer (the beacon of the next block).

use cosmwasm_std::Storage;
use sha2::{Digest, Sha256};
use verdict_bank::Bank;
use verdict_core::address::Addr;
use verdict_core::event::Event;
use verdict_staking::state as staking;

use crate::error::InferenceError;
use crate::state::{self, Job, JobStatus, Member};

/// The bonded, unjailed validators with their power, in operator order (read
/// from the active set, not from every validator).
pub fn bonded(s: &dyn Storage) -> Result<Vec<Member>, InferenceError> {
    let mut out = Vec::new();
    for v in staking::bonded_validators(s)? {
        let power = v.power();
        let Ok(pk) = staking::pubkey_bytes(&v) else {
            continue;
        };
        out.push(Member {
            address: hex::encode_upper(staking::consensus_address(&pk)),
            operator: v.operator,
            power,
            seats: 0,
        });
    }
    Ok(out)
}

/// The members a job on `model_id` may be drawn from: the bonded validators
/// (`bonded`, in operator order) that serve it.
pub fn candidates(
    s: &dyn Storage,
    bonded: &[Member],
    model_id: &str,
) -> Result<Vec<Member>, InferenceError> {
    let servers = state::servers(s, model_id)?;
    Ok(bonded
        .iter()
        .filter(|m| servers.binary_search(&m.operator).is_ok())
        .cloned()
        .collect())
}

/// The committee of one job: `size` seats drawn by stake **with replacement**
/// (a validator drawn k times holds k seats, so its expected share of the
/// committee's weight equals its share of the stake — stake counts once), or,
/// when there are no more bonded validators than seats, every one of them
/// weighted by its power (the committee is the validator set). Members come
/// out sorted by address, each with `seats` = its weight. Deterministic in
/// (`seed`, `candidates`); integer arithmetic only.
pub fn sample(candidates: &[Member], size: usize, seed: &[u8]) -> Vec<Member> {
    let total: u128 = candidates.iter().map(|m| u128::from(m.power)).sum();
    if total == 0 || size == 0 {
        return vec![];
    }
    let mut chosen: Vec<Member> = if candidates.len() <= size {
        candidates
            .iter()
            .filter(|m| m.power > 0)
            .map(|m| Member {
                seats: m.power,
                ..m.clone()
            })
            .collect()
    } else {
        let mut seats = vec![0u64; candidates.len()];
        for round in 0..size as u64 {
            let h = Sha256::new()
                .chain_update(b"verdict-seat")
                .chain_update(seed)
                .chain_update(round.to_be_bytes())
                .finalize();
            let mut b = [0u8; 16];
            b.copy_from_slice(&h[..16]);
            // 2^128 mod total is below total/2^64 for any total < 2^64·2^64: the
            // modulo bias is negligible (< 2^-64 for powers below 2^64).
            let mut r = u128::from_be_bytes(b).checked_rem(total).unwrap_or(0);
            let mut pick = candidates.len().saturating_sub(1);
            for (i, m) in candidates.iter().enumerate() {
                let p = u128::from(m.power);
                if r < p {
                    pick = i;
                    break;
                }
                r = r.saturating_sub(p);
            }
            if let Some(x) = seats.get_mut(pick) {
                *x = x.saturating_add(1);
            }
        }
        candidates
            .iter()
            .zip(seats)
            .filter(|(_, k)| *k > 0)
            .map(|(m, k)| Member {
                seats: k,
                ..m.clone()
            })
            .collect()
    };
    chosen.sort_by(|a, b| a.address.cmp(&b.address));
    chosen
}

/// The seed of a job's committee: sha256("verdict-committee" ‖ beacon ‖ job id),
/// where `beacon` is the chain's randomness beacon after the block *following*
/// the job's block (see [`crate::beacon`]): nothing in it is known or chosen by
/// the proposer that included the job — no tx order, no block hash, no choice
/// of vote extensions.
pub fn seed(beacon: &[u8; 32], job_id: u64) -> [u8; 32] {
    Sha256::new()
        .chain_update(b"verdict-committee")
        .chain_update(beacon)
        .chain_update(job_id.to_be_bytes())
        .finalize()
        .into()
}

/// A job nobody can be drawn for expires at once, its fee back; a re-run
/// that expires leaves its challenge inconclusive.
fn expire(s: &mut dyn Storage, job: &mut Job, height: u64) -> Result<Vec<Event>, InferenceError> {
    let id = job.id;
    let mut events = Vec::new();
    job.status = JobStatus::Expired;
    state::LIVE.remove(s, (job.deadline_height, id));
    state::INPUTS.remove(s, id);
    state::SETTLED.save(s, (height, id), &())?;
    Bank::transfer(
        s,
        &state::escrow(),
        &Addr(job.requester),
        std::slice::from_ref(&job.fee),
    )?;
    events.push(
        Event::new("inference_job_result")
            .attr("job_id", id)
            .attr("status", "expired")
            .attr("reason", "no bonded validator serves the model")
            .attr("height", height),
    );
    if let Some(original) = job.challenge_of {
        // A re-run nobody can be drawn for settles nothing: the
        // result stands (the bond went back above).
        events.extend(crate::challenge::close(
            s,
            original,
            state::ChallengeOutcome::Inconclusive,
            height,
            None,
        )?);
    }
    Ok(events)
}

/// FinalizeBlock(H), after the beacon took block H's contribution: every job
/// submitted before H (so in H−1) gets its committee from [`seed`]. With no
/// bonded validator the job expires at once and its fee goes back.
pub fn assign(
    s: &mut dyn Storage,
    beacon: &[u8; 32],
    height: u64,
) -> Result<Vec<Event>, InferenceError> {
    let ids: Vec<u64> = state::unassigned(s)?;
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let p = state::params(s);
    let bonded = bonded(s)?;
    let mut events = Vec::new();
    for id in ids {
        let mut job = state::JOBS.load(s, id)?;
        if job.submitted_height >= height {
            continue;
        }
        state::UNASSIGNED.remove(s, id);
        // Only validators that serve the model sit on its committees.
        let mut candidates = candidates(s, &bonded, &job.model_id)?;
        if let Some(original) = job.challenge_of {
            if let Some(o) = state::JOBS.may_load(s, original)? {
                candidates = crate::challenge::rerun_candidates(candidates, &o);
            }
        }
        let job_seed = seed(beacon, id);
        job.committee = sample(&candidates, crate::challenge::seats(&p, &job), &job_seed);
        if let Some(pv) = job.provenance.as_mut() {
            pv.beacon = hex::encode(beacon);
            pv.seed = hex::encode(job_seed);
            pv.drawn_height = height;
        }
        if job.committee.is_empty() {
            events.extend(expire(s, &mut job, height)?);
        } else {
            events.push(
                Event::new("inference_committee")
                    .attr("job_id", id)
                    .attr(
                        "members",
                        job.committee
                            .iter()
                            .map(|m| m.address.as_str())
                            .collect::<Vec<_>>()
                            .join(","),
                    )
                    .attr(
                        "seats",
                        job.committee
                            .iter()
                            .map(|m| m.seats.to_string())
                            .collect::<Vec<_>>()
                            .join(","),
                    ),
            );
        }
        state::JOBS.save(s, id, &job)?;
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::arithmetic_side_effects, clippy::unwrap_used)]
    use super::*;

    fn m(i: u8, power: u64) -> Member {
        Member {
            address: format!("{i:040X}"),
            operator: [i; 20],
            power,
            seats: 0,
        }
    }

    fn weight(c: &[Member]) -> u64 {
        c.iter().map(|m| m.seats).sum()
    }

    #[test]
    fn sampling_is_deterministic_unique_and_weighs_seats() {
        let c: Vec<Member> = (1..=40).map(|i| m(i, u64::from(i) * 10)).collect();
        let a = sample(&c, 16, b"seed");
        assert_eq!(a, sample(&c, 16, b"seed"));
        assert_eq!(weight(&a), 16, "{a:?}");
        let mut addrs: Vec<_> = a.iter().map(|x| x.address.clone()).collect();
        addrs.dedup();
        assert_eq!(addrs.len(), a.len());
        assert!(sample(&[], 3, b"x").is_empty());
        assert!(sample(&c, 0, b"x").is_empty());
    }

    #[test]
    fn a_set_no_larger_than_the_committee_is_the_committee_weighted_by_power() {
        let c: Vec<Member> = (1..=10).map(|i| m(i, u64::from(i) * 10)).collect();
        let a = sample(&c, 16, b"x");
        assert_eq!(a.len(), 10);
        assert!(a.iter().all(|x| x.seats == x.power));
    }

    #[test]
    fn sampling_follows_stake() {
        let mut c = vec![m(1, 900)];
        c.extend((2..=21).map(|i| m(i, 5)));
        // 1 000 seats over 50 draws: the 90 % validator holds ~90 % of them.
        let big: u64 = (0..50u32)
            .map(|i| {
                let com = sample(&c, 20, &i.to_be_bytes());
                com.iter()
                    .filter(|x| x.operator == [1; 20])
                    .map(|x| x.seats)
                    .sum::<u64>()
            })
            .sum();
        assert!((850..=950).contains(&big), "{big}");
    }

    /// Zipf-like stake over `n` validators (power of rank r ∝ 1/r), scaled.
    fn zipf(n: u8) -> Vec<Member> {
        (0..n)
            .map(|r| m(r, 100_000_000 / (u64::from(r) + 1)))
            .collect()
    }

    /// P(coalition holds > 2/3 of the committee's weight) over `draws` seeds.
    fn capture_rate(c: &[Member], coalition: &[u8], size: usize, draws: u32) -> f64 {
        let captured = (0..draws)
            .filter(|i| {
                let com = sample(c, size, &Sha256::digest(i.to_be_bytes()));
                let tot = weight(&com);
                let bad: u64 = com
                    .iter()
                    .filter(|x| coalition.contains(&x.operator[0]))
                    .map(|x| x.seats)
                    .sum();
                3 * bad > 2 * tot
            })
            .count();
        captured as f64 / f64::from(draws)
    }

    /// threats.md §1: with stake drawn *and* weighted a 25 % validator held
    /// > 2/3 of ~99 % of 16-seat committees. Now it captures < 1 %.
    #[test]
    fn a_quarter_of_the_stake_never_holds_two_thirds_of_a_committee() {
        let mut c = vec![m(0, 25_000_000)];
        c.extend((1..100u8).map(|i| m(i, 757_575)));
        let p = capture_rate(&c, &[0], 24, 4000);
        assert!(p < 0.01, "captured {p}");
        // Even at 16 seats.
        assert!(capture_rate(&c, &[0], 16, 4000) < 0.01);
    }

    /// The top validators of a Zipf-like set, taken together while below 1/3 of
    /// the stake, capture at most 1 % of committees at the default size (the
    /// top 5 of 100 with 44 % captured 94 % before).
    #[test]
    fn coalitions_below_a_third_of_zipf_stake_capture_at_most_one_percent() {
        let size = crate::params::InferenceParams::default().committee_size as usize;
        for n in [50u8, 100] {
            let c = zipf(n);
            let total: u64 = c.iter().map(|x| x.power).sum();
            // Largest prefix of the ranking below 1/3 of the stake.
            let mut acc = 0;
            let mut top = Vec::new();
            for x in &c {
                if 3 * (acc + x.power) >= total {
                    break;
                }
                acc += x.power;
                top.push(x.operator[0]);
            }
            let p = capture_rate(&c, &top, size, 4000);
            assert!(
                p <= 0.01,
                "n={n}: top {} ({acc}/{total}) captured {p}",
                top.len()
            );
        }
    }

    /// threats.md §5, after the fix: the only choice that reaches a committee
    /// seed is the next block's proposer's — give its hash-chain element or
    /// withhold it. Even if a coalition proposed *every* such block and always
    /// picked the better of its two committees, a coalition below 1/3 of the
    /// stake captures at most 1 % of jobs (equal stakes: the worst case for
    /// sampling, 33 % in 33 validators of 100).
    #[test]
    fn a_grinding_proposer_with_every_option_it_has_gains_at_most_one_percent() {
        use cosmwasm_std::testing::MockStorage;
        let size = crate::params::InferenceParams::default().committee_size as usize;
        let equal: Vec<Member> = (0..100u8).map(|i| m(i, 1_000_000)).collect();
        let coalition: Vec<u8> = (0..33u8).collect();
        let proposer = [0u8; 20];
        let trials = 1000u32;
        let mut captured = 0u32;
        let mut s = MockStorage::new();
        let seed_of = |e: u32| -> [u8; 32] { Sha256::digest(e.to_be_bytes()).into() };
        let (_, anchor) = crate::beacon::contribution(&s, &proposer, seed_of);
        crate::beacon::advance(&mut s, 1, &proposer, &[], &anchor).unwrap();
        for t in 0..trials {
            let h = u64::from(t) + 2;
            let (reveal, _) = crate::beacon::contribution(&s, &proposer, seed_of);
            let prev = crate::beacon::latest(&s).unwrap().unwrap();
            let options: Vec<[u8; 32]> = [Some(&reveal), None]
                .iter()
                .map(|r| {
                    let mut x = Sha256::new()
                        .chain_update(b"verdict-beacon")
                        .chain_update(prev)
                        .chain_update(h.to_be_bytes());
                    if let Some(r) = r {
                        x.update(r);
                    }
                    x.finalize().into()
                })
                .collect();
            let job = u64::from(t);
            let wins = options.iter().any(|b| {
                let com = sample(&equal, size, &seed(b, job));
                let bad: u64 = com
                    .iter()
                    .filter(|x| coalition.contains(&x.operator[0]))
                    .map(|x| x.seats)
                    .sum();
                3 * bad > 2 * weight(&com)
            });
            captured += u32::from(wins);
            // The chain goes on with the honest choice.
            let next = crate::beacon::advance(&mut s, h, &proposer, &reveal, &[]).unwrap();
            assert_eq!(next, options[0]);
        }
        let rate = f64::from(captured) / f64::from(trials);
        assert!(rate <= 0.01, "captured {captured}/{trials}");
    }
}
