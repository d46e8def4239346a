//! Committee sampling (DESIGN §6.2): up to `committee_size` bonded validators,
//! drawn by stake without replacement, from a seed of consensus data.

use cosmwasm_std::{Order, Storage};
use sha2::{Digest, Sha256};
use verdict_bank::Bank;
use verdict_core::address::Addr;
use verdict_core::event::Event;
use verdict_staking::state as staking;

use crate::error::InferenceError;
use crate::state::{self, JobStatus, Member};

/// The bonded, unjailed validators with their power, in operator order.
pub fn bonded(s: &dyn Storage) -> Result<Vec<Member>, InferenceError> {
    let mut out = Vec::new();
    for item in staking::VALIDATORS.range(s, None, None, Order::Ascending) {
        let (_, v) = item?;
        let power = v.power();
        if power == 0 {
            continue;
        }
        let Ok(pk) = staking::pubkey_bytes(&v) else {
            continue;
        };
        out.push(Member {
            address: hex::encode_upper(staking::consensus_address(&pk)),
            operator: v.operator,
            power,
        });
    }
    Ok(out)
}

/// Draws `size` members from `candidates` weighted by power, without
/// replacement. Deterministic in (`seed`, `candidates`); integer arithmetic only.
pub fn sample(candidates: &[Member], size: usize, seed: &[u8]) -> Vec<Member> {
    let mut pool: Vec<Member> = candidates.to_vec();
    let mut chosen = Vec::with_capacity(size.min(pool.len()));
    let mut round: u64 = 0;
    while chosen.len() < size && !pool.is_empty() {
        let total: u128 = pool.iter().map(|m| u128::from(m.power)).sum();
        if total == 0 {
            break;
        }
        let h = Sha256::new()
            .chain_update(seed)
            .chain_update(round.to_be_bytes())
            .finalize();
        let mut b = [0u8; 16];
        b.copy_from_slice(&h[..16]);
        let mut r = u128::from_be_bytes(b).checked_rem(total).unwrap_or(0);
        let mut pick = pool.len().saturating_sub(1);
        for (i, m) in pool.iter().enumerate() {
            let p = u128::from(m.power);
            if r < p {
                pick = i;
                break;
            }
            r = r.saturating_sub(p);
        }
        chosen.push(pool.remove(pick));
        round = round.saturating_add(1);
    }
    chosen.sort_by(|a, b| a.address.cmp(&b.address));
    chosen
}

/// End of FinalizeBlock(H): every job submitted in H gets its committee, seeded
/// by sha256(block hash ‖ job id). With no bonded validator the job expires at
/// once and its fee goes back.
pub fn assign(
    s: &mut dyn Storage,
    block_hash: &[u8],
    height: u64,
) -> Result<Vec<Event>, InferenceError> {
    let ids: Vec<u64> = state::UNASSIGNED
        .keys(s, None, None, Order::Ascending)
        .collect::<Result<_, _>>()?;
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let p = state::params(s);
    let candidates = bonded(s)?;
    let mut events = Vec::new();
    for id in ids {
        state::UNASSIGNED.remove(s, id);
        let mut job = state::JOBS.load(s, id)?;
        let seed = Sha256::new()
            .chain_update(block_hash)
            .chain_update(id.to_be_bytes())
            .finalize();
        job.committee = sample(
            &candidates,
            usize::try_from(p.committee_size).unwrap_or(usize::MAX),
            &seed,
        );
        if job.committee.is_empty() {
            job.status = JobStatus::Expired;
            state::LIVE.remove(s, (job.deadline_height, id));
            state::INPUTS.remove(s, id);
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
                    .attr("reason", "no bonded validator")
                    .attr("height", height),
            );
        } else {
            events.push(
                Event::new("inference_committee").attr("job_id", id).attr(
                    "members",
                    job.committee
                        .iter()
                        .map(|m| m.address.as_str())
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
        }
    }

    #[test]
    fn sampling_is_deterministic_unique_and_bounded() {
        let c: Vec<Member> = (1..=10).map(|i| m(i, u64::from(i) * 10)).collect();
        let a = sample(&c, 4, b"seed");
        assert_eq!(a, sample(&c, 4, b"seed"));
        assert_eq!(a.len(), 4);
        let mut addrs: Vec<_> = a.iter().map(|x| x.address.clone()).collect();
        addrs.dedup();
        assert_eq!(addrs.len(), 4);
        assert_eq!(sample(&c, 50, b"x").len(), 10);
        assert!(sample(&[], 3, b"x").is_empty());
    }

    #[test]
    fn sampling_follows_stake() {
        let c = vec![m(1, 900), m(2, 100)];
        let first: usize = (0..400u32)
            .filter(|i| sample(&c, 1, &i.to_be_bytes())[0].operator == [1; 20])
            .count();
        assert!((320..=390).contains(&first), "{first}");
    }
}
