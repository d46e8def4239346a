//! FinalizeBlock's part: record commitments and reveals from the injected vote
//! extensions, then settle every job that is complete or out of time — result,
//! payment or refund, and the slashes — all in this one block.

use std::collections::{BTreeMap, BTreeSet};

use cosmwasm_std::{Decimal, Order, Storage, Uint128};
use cw_storage_plus::{Item, Map};
use serde::{Deserialize, Serialize};
use verdict_bank::Bank;
use verdict_core::address::Addr;
use verdict_core::coin::Coin;
use verdict_core::event::Event;
use verdict_inference::state::{
    self as inf, Attestation, Fault, FaultRecord, Job, JobResult, JobStatus,
};
use verdict_proto::app::v1::VoteExtension;

use crate::digest::{commitment, is_projection, judge, weighted_median, Verdict};

/// Attestation liveness per validator address: a ring of its last
/// `missed_window` committee seats.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttInfo {
    pub seats: u64,
    pub missed: u64,
}

pub const ATT_INFO: Map<&[u8], AttInfo> = Map::new("attestation/info");
pub const ATT_MISSED: Map<(&[u8], u64), ()> = Map::new("attestation/missed");
/// Total paid to validators for completed jobs (for the supply books and queries).
pub const PAID: Item<Uint128> = Item::new("attestation/paid");

type R<T> = Result<T, String>;

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Whether a committee member is out of the vote: not bonded or jailed (so out of
/// CometBFT's set, unable to sign extensions).
fn out_of_set(s: &dyn Storage, operator: &[u8; 20]) -> bool {
    verdict_staking::state::VALIDATORS
        .may_load(s, operator)
        .ok()
        .flatten()
        .is_some_and(|v| v.power() == 0)
}

/// One block's work. `votes` are the (validator address, extension) pairs of the
/// injected tx, already size- and format-checked by the caller; anything they
/// claim that does not fit the state is ignored, never trusted.
///
/// Order: all reveals (for jobs whose commit phase closed in an earlier block),
/// then all commitments (for jobs still in their commit phase), then commit
/// phases close (every active member committed; or the job's SLA has passed in
/// BFT time, at the earliest two blocks after its committee was drawn; or
/// `commit_deadline`), then jobs settle (every member that committed answered,
/// or `deadline_height`). `now` is the block's BFT time in seconds, `now_ms` in
/// milliseconds.
pub fn process_block(
    s: &mut dyn Storage,
    height: u64,
    now: i64,
    now_ms: i64,
    votes: &[([u8; 20], VoteExtension)],
) -> R<Vec<Event>> {
    let mut seen = BTreeSet::new();
    let votes: Vec<&([u8; 20], VoteExtension)> =
        votes.iter().filter(|(a, _)| seen.insert(*a)).collect();
    let mut touched = BTreeSet::new();
    for (addr, ve) in &votes {
        for r in &ve.reveals {
            let Some(mut job) = inf::JOBS.may_load(s, r.job_id).map_err(err)? else {
                continue;
            };
            if !job.status.reveal_phase() || inf::member(&job, addr).is_none() {
                continue;
            }
            let max = inf::MODELS
                .may_load(s, &job.model_id)
                .map_err(err)?
                .map_or(0, |m| m.max_output_len as usize);
            if r.digest.len() > max.saturating_add(1) {
                continue;
            }
            let mut att = inf::ATTESTATIONS
                .may_load(s, (r.job_id, addr))
                .map_err(err)?
                .unwrap_or_default();
            let Some(c) = att.commitment.as_ref() else {
                continue; // a reveal for a job never committed: ignored
            };
            if att.digest.is_some() || att.bad_reveal {
                continue;
            }
            if commitment(r.job_id, addr, &r.digest, &r.salt).as_slice() == c.as_slice() {
                att.digest = Some(r.digest.clone());
            } else {
                att.bad_reveal = true;
            }
            att.reveal_height = height;
            inf::ATTESTATIONS
                .save(s, (r.job_id, addr), &att)
                .map_err(err)?;
            if job.status != JobStatus::Revealed {
                job.status = JobStatus::Revealed;
                inf::JOBS.save(s, job.id, &job).map_err(err)?;
            }
            touched.insert(r.job_id);
        }
    }
    for (addr, ve) in &votes {
        for c in &ve.commitments {
            let Some(mut job) = inf::JOBS.may_load(s, c.job_id).map_err(err)? else {
                continue;
            };
            if !job.status.commit_phase() || inf::member(&job, addr).is_none() {
                continue;
            }
            let mut att = inf::ATTESTATIONS
                .may_load(s, (c.job_id, addr))
                .map_err(err)?
                .unwrap_or_default();
            if att.commitment.is_some() {
                continue;
            }
            att.commitment = Some(c.commitment.clone().into());
            att.latency_ms = c.latency_ms;
            att.commit_height = height;
            att.commit_time_ms = now_ms;
            inf::ATTESTATIONS
                .save(s, (c.job_id, addr), &att)
                .map_err(err)?;
            if job.status == JobStatus::Pending {
                job.status = JobStatus::Committed;
                inf::JOBS.save(s, job.id, &job).map_err(err)?;
            }
        }
    }
    let live: Vec<u64> = inf::LIVE
        .keys(s, None, None, Order::Ascending)
        .map(|k| k.map(|(_, id)| id))
        .collect::<Result<_, _>>()
        .map_err(err)?;
    let mut settle = BTreeSet::new();
    let reveal_blocks = inf::params(s).reveal_blocks;
    for id in live {
        let mut job = inf::JOBS.load(s, id).map_err(err)?;
        if job.committee.is_empty() {
            continue;
        }
        let att = |s: &dyn Storage, m: &inf::Member| -> Attestation {
            m.address_bytes()
                .and_then(|a| inf::ATTESTATIONS.may_load(s, (id, &a)).ok().flatten())
                .unwrap_or_default()
        };
        if job.status.commit_phase() {
            let all_committed = job
                .committee
                .iter()
                .all(|m| out_of_set(s, &m.operator) || att(s, m).commitment.is_some());
            // The SLA, judged from consensus data only: the job's block time
            // against this block's. A commitment for a job of block H is drawn
            // at H+1 and recorded at H+3 at the earliest.
            let sla_passed = height >= job.submitted_height.saturating_add(3)
                && now_ms.saturating_sub(job.submitted_time_ms) >= i64::from(job.max_latency_ms);
            if all_committed || sla_passed || height >= job.commit_deadline {
                job.status = JobStatus::Revealing;
                job.commit_closed_height = height;
                inf::JOBS.save(s, id, &job).map_err(err)?;
            }
        } else if job.commit_closed_height > 0
            && height >= job.commit_closed_height.saturating_add(reveal_blocks)
        {
            // The reveal phase is over: whoever has not revealed by now withholds.
            settle.insert(id);
        } else if touched.contains(&id) {
            // Nothing more to wait for from a member that answered, never
            // committed (it cannot any more), or left the set.
            let all = job.committee.iter().all(|m| {
                let a = att(s, m);
                a.digest.is_some()
                    || a.bad_reveal
                    || a.commitment.is_none()
                    || out_of_set(s, &m.operator)
            });
            if all {
                settle.insert(id);
            }
        }
        if job.deadline_height <= height {
            settle.insert(id);
        }
    }
    let mut events = Vec::new();
    let mut budget = Budget::new(s, height)?;
    // Attestation liveness of this block: per validator, the worst of its seats
    // in the jobs settled here (0 = answered, 1 = silent, 2 = withheld a reveal
    // after committing), so the window counts blocks, like downtime.
    let mut liveness: BTreeMap<[u8; 20], (u64, u8)> = BTreeMap::new();
    for id in settle {
        let job = inf::JOBS.load(s, id).map_err(err)?;
        if job.status.is_final() || job.committee.is_empty() {
            continue;
        }
        events.extend(settle_job(s, job, height, now, &mut budget, &mut liveness)?);
    }
    let p = inf::params(s);
    for (address, (power, missed)) in liveness {
        events.extend(record_block(
            s,
            &address,
            power,
            missed,
            &p,
            height,
            now,
            &mut budget,
        )?);
    }
    budget.save(s)?;
    Ok(events)
}

struct Seat {
    address: [u8; 20],
    hex: String,
    operator: [u8; 20],
    /// Stake when drawn (what a slash is computed on).
    power: u64,
    /// Committee weight: seats drawn (see `committee::sample`).
    weight: u64,
    att: Attestation,
    /// Jailed or unbonded when the job settles and never committed: out of
    /// CometBFT's set, it may have been unable to attest; its seat leaves the
    /// committee (no vote, no fault, no missed seat).
    excused: bool,
}

fn sum_weight<'a>(it: impl Iterator<Item = &'a Seat>) -> u64 {
    it.map(|x| x.weight).fold(0, u64::saturating_add)
}

fn settle_job(
    s: &mut dyn Storage,
    mut job: Job,
    height: u64,
    now: i64,
    budget: &mut Budget,
    liveness: &mut BTreeMap<[u8; 20], (u64, u8)>,
) -> R<Vec<Event>> {
    let p = inf::params(s);
    let model = inf::MODELS.may_load(s, &job.model_id).map_err(err)?;
    let max_len = model.as_ref().map_or(0, |m| m.max_output_len as usize);
    let rtol = model.as_ref().map_or(p.min_rtol_nano, |m| m.rtol_nano);
    let mut seats = Vec::with_capacity(job.committee.len());
    for m in &job.committee {
        let Some(address) = m.address_bytes() else {
            continue;
        };
        let att = inf::ATTESTATIONS
            .may_load(s, (job.id, &address))
            .map_err(err)?
            .unwrap_or_default();
        // Out of the set now *and* silent: it may have been unable to sign
        // extensions. A member that committed or revealed is judged whatever
        // happened to it since: a jail after the fact never erases a fault.
        let excused = out_of_set(s, &m.operator) && att.commitment.is_none();
        seats.push(Seat {
            address,
            hex: m.address.clone(),
            operator: m.operator,
            power: m.power,
            weight: m.weight(),
            att,
            excused,
        });
    }
    let committee_power = sum_weight(seats.iter().filter(|x| !x.excused));
    // The digest length with the most revealed weight (ties: the shorter); a
    // digest of another length simply disagrees, so one member cannot veto the job.
    let mut by_len: BTreeMap<usize, u64> = BTreeMap::new();
    for x in seats.iter().filter(|x| !x.excused) {
        if let Some(d) = &x.att.digest {
            let e = by_len.entry(d.len()).or_insert(0);
            *e = e.saturating_add(x.weight);
        }
    }
    let mut dim = 0usize;
    let mut best = 0u64;
    for (len, w) in &by_len {
        if *w > best {
            best = *w;
            dim = *len;
        }
    }
    // Only digests of the common length take part in the weighted median.
    let mut median = Vec::with_capacity(dim);
    for i in 0..dim {
        let mut col: Vec<(i64, u64)> = seats
            .iter()
            .filter(|x| !x.excused)
            .filter_map(|x| {
                let d = x.att.digest.as_ref()?;
                (d.len() == dim).then(|| (d[i], x.weight))
            })
            .collect();
        median.push(weighted_median(&mut col).unwrap_or(0));
    }
    // Each revealed digest judged once against the median.
    let verdicts: Vec<Option<Verdict>> = seats
        .iter()
        .map(|x| {
            x.att
                .digest
                .as_ref()
                .map(|d| judge(d, &median, rtol, max_len, p.wrong_output_multiple))
        })
        .collect();
    let agreeing: Vec<&Seat> = seats
        .iter()
        .zip(&verdicts)
        .filter(|(x, v)| !x.excused && **v == Some(Verdict::Agrees))
        .map(|(x, _)| x)
        .collect();
    let agreeing_power = sum_weight(agreeing.iter().copied());
    let completed = committee_power > 0
        && u128::from(agreeing_power).saturating_mul(3)
            > u128::from(committee_power).saturating_mul(2);
    let mut faults: Vec<Fault> = Vec::new();
    let mut missing = Vec::new();
    let mut late = Vec::new();
    let mut grey = Vec::new();
    for (x, verdict) in seats.iter().zip(&verdicts).filter(|(x, _)| !x.excused) {
        let mut kinds = Vec::new();
        match verdict {
            // Only a completed quorum makes a far-off answer provably wrong; a
            // split committee is no quorum and slashes nobody.
            Some(Verdict::Wrong) if completed => kinds.push("wrong_output".to_string()),
            Some(Verdict::Grey) => grey.push(x.hex.clone()),
            _ => {}
        }
        if x.att.bad_reveal {
            kinds.push("bad_reveal".to_string());
        }
        if x.att.commitment.is_none() {
            late.push(x.hex.clone());
        }
        if x.att.digest.is_none() && !x.att.bad_reveal {
            missing.push(x.hex.clone());
        }
        if !kinds.is_empty() {
            faults.push(Fault {
                address: x.hex.clone(),
                operator: x.operator,
                kinds,
            });
        }
    }
    let mut events = Vec::new();
    // Money first: pay the agreeing validators, or refund the requester.
    let escrow = inf::escrow();
    if completed {
        let fee = job.fee.amount.u128();
        let mut paid: u128 = 0;
        let shares: Vec<(Addr, u128)> = agreeing
            .iter()
            .map(|x| {
                let part = fee
                    .checked_mul(u128::from(x.weight))
                    .and_then(|v| v.checked_div(u128::from(agreeing_power)))
                    .unwrap_or(0);
                paid = paid.saturating_add(part);
                (Addr(x.operator), part)
            })
            .collect();
        let dust = fee.saturating_sub(paid);
        for (i, (to, part)) in shares.into_iter().enumerate() {
            let amount = if i == 0 {
                part.saturating_add(dust)
            } else {
                part
            };
            if amount > 0 {
                // Through distribution: commission to the operator, the rest to
                // its delegators by shares.
                verdict_distribution::state::pay_validator(
                    s,
                    &escrow,
                    &to,
                    &[Coin::new(amount, &job.fee.denom)],
                )
                .map_err(err)?;
            }
        }
        let total = PAID.may_load(s).map_err(err)?.unwrap_or_default();
        PAID.save(s, &total.saturating_add(job.fee.amount))
            .map_err(err)?;
    } else {
        // Failed: the fee comes back but for the base fee, which goes to the
        // community pool (a job that fails still cost the committee its work).
        let base = p.job_base_fee.min(job.fee.amount);
        let back = job.fee.amount.saturating_sub(base);
        if !back.is_zero() {
            Bank::transfer(
                s,
                &escrow,
                &Addr(job.requester),
                &[Coin::new(back.u128(), &job.fee.denom)],
            )
            .map_err(err)?;
        }
        if !base.is_zero() {
            verdict_distribution::state::fund_community_pool(
                s,
                &escrow,
                &Coin::new(base.u128(), &job.fee.denom),
            )
            .map_err(err)?;
        }
    }
    // Slashes, in committee order, each at the job's submission height.
    let fraction = |k: &str| match k {
        "wrong_output" => p.slash_fraction_wrong_output,
        _ => p.slash_fraction_bad_reveal,
    };
    for f in &faults {
        let Some(x) = seats.iter().find(|x| x.hex == f.address) else {
            continue;
        };
        let frac = f
            .kinds
            .iter()
            .map(|k| fraction(k))
            .max()
            .unwrap_or(Decimal::zero());
        let reason = f.kinds.join("+");
        let (burned, ev) = budget.slash(
            s,
            &x.address,
            &x.operator,
            job.submitted_height,
            x.power,
            frac,
            p.fault_jail_seconds,
            now,
            &format!("inference_{reason}"),
        )?;
        for k in &f.kinds {
            inf::record_fault(
                s,
                &FaultRecord {
                    job_id: job.id,
                    address: x.hex.clone(),
                    operator: x.operator,
                    kind: k.clone(),
                    height,
                    burned,
                    jailed: !burned.is_zero(),
                },
            )
            .map_err(err)?;
            events.push(
                Event::new("inference_fault")
                    .attr("job_id", job.id)
                    .attr("address", &x.hex)
                    .attr("validator", Addr(x.operator).valoper())
                    .attr("kind", k)
                    .attr("height", height),
            );
        }
        events.extend(ev.into_iter().map(|e| e.attr("job_id", job.id)));
    }
    // Attestation liveness, on every settled job, completed or not (a veto by
    // silence is not free): no commitment by the SLA (late or silent) misses
    // the seat; a commitment whose reveal never came counts double (withholding
    // after seeing others' reveals must cost more than silence). Recorded per
    // block in `process_block`, since a proposer can delay an extension.
    // A job no member committed to is one nobody could run (a model no
    // sidecar serves): it costs its committee nothing, or anyone could get
    // honest validators jailed by filling blocks with such jobs.
    let anyone_committed = seats.iter().any(|x| x.att.commitment.is_some());
    for x in seats.iter().filter(|x| !x.excused && anyone_committed) {
        let missed: u8 = match (&x.att.commitment, &x.att.digest, x.att.bad_reveal) {
            (_, Some(_), _) | (_, _, true) => 0,
            (None, None, false) => 1,
            (Some(_), None, false) => 2,
        };
        let e = liveness.entry(x.address).or_insert((x.power, 0));
        e.1 = e.1.max(missed);
    }
    // Latency as the chain saw it: BFT time of the block that recorded each
    // agreeing commitment minus the job's block time.
    let mut lat: Vec<u32> = agreeing
        .iter()
        .map(|x| {
            let d = x.att.commit_time_ms.saturating_sub(job.submitted_time_ms);
            u32::try_from(d.max(0)).unwrap_or(u32::MAX)
        })
        .collect();
    lat.sort_unstable();
    let latency_ms = lat
        .get(lat.len().saturating_sub(1) / 2)
        .copied()
        .unwrap_or(0);
    job.status = if completed {
        JobStatus::Completed
    } else {
        JobStatus::Failed
    };
    let faulty: Vec<String> = faults.iter().map(|f| f.address.clone()).collect();
    let projected = is_projection(median.len(), max_len);
    job.result = Some(JobResult {
        digest: median,
        agreeing: agreeing.iter().map(|x| x.hex.clone()).collect(),
        agreeing_power,
        committee_power,
        latency_ms,
        late: late.clone(),
        grey: grey.clone(),
        faults,
        missing: missing.clone(),
        excused: seats
            .iter()
            .filter(|x| x.excused)
            .map(|x| x.hex.clone())
            .collect(),
        finalized_height: height,
    });
    inf::LIVE.remove(s, (job.deadline_height, job.id));
    inf::INPUTS.remove(s, job.id);
    inf::SETTLED.save(s, (height, job.id), &()).map_err(err)?;
    // The result keeps what matters (digest, who agreed, faults, late, grey);
    // the per-member commitment and reveal records go (state growth, §9).
    for x in &seats {
        inf::ATTESTATIONS.remove(s, (job.id, &x.address));
    }
    let status = if completed { "completed" } else { "failed" };
    let agreeing_list = job
        .result
        .as_ref()
        .map(|r| r.agreeing.join(","))
        .unwrap_or_default();
    events.insert(
        0,
        Event::new("inference_job_result")
            .attr("job_id", job.id)
            .attr("status", status)
            .attr("model_id", &job.model_id)
            .attr("height", height)
            .attr("agreeing", agreeing_list)
            .attr("agreeing_power", agreeing_power)
            .attr("committee_power", committee_power)
            .attr("faulty", faulty.join(","))
            .attr("missing", missing.join(","))
            .attr("late", late.join(","))
            .attr("grey", grey.join(","))
            .attr("projected", projected)
            .attr("latency_ms", latency_ms),
    );
    inf::JOBS.save(s, job.id, &job).map_err(err)?;
    Ok(events)
}

/// One block in a validator's attestation-liveness window (`missed_window`
/// entries): `missed` 0 (answered every seat it had in this block's
/// settlements), 1 (silent or late on one), 2 (withheld a reveal after
/// committing: two entries). Too many misses → `slash_fraction_missed` and jail,
/// like downtime, within the block's [`Budget`].
#[allow(clippy::too_many_arguments)]
fn record_block(
    s: &mut dyn Storage,
    address: &[u8; 20],
    power: u64,
    missed: u8,
    p: &verdict_inference::InferenceParams,
    height: u64,
    now: i64,
    budget: &mut Budget,
) -> R<Vec<Event>> {
    let window = u64::from(p.missed_window.max(1));
    let mut info = ATT_INFO
        .may_load(s, address)
        .map_err(err)?
        .unwrap_or_default();
    let entries: &[bool] = match missed {
        0 => &[false],
        1 => &[true],
        _ => &[true, true],
    };
    for &m in entries {
        let idx = info.seats.checked_rem(window).unwrap_or(0);
        info.seats = info.seats.saturating_add(1);
        let was = ATT_MISSED.has(s, (address, idx));
        match (was, m) {
            (false, true) => {
                ATT_MISSED.save(s, (address, idx), &()).map_err(err)?;
                info.missed = info.missed.saturating_add(1);
            }
            (true, false) => {
                ATT_MISSED.remove(s, (address, idx));
                info.missed = info.missed.saturating_sub(1);
            }
            _ => {}
        }
    }
    let min_attested = Uint128::from(window)
        .mul_ceil(p.min_attested_fraction)
        .u128();
    let max_missed = u128::from(window).saturating_sub(min_attested);
    let mut events = Vec::new();
    if info.seats >= window && u128::from(info.missed) > max_missed {
        let operator = verdict_staking::state::BY_CONS_ADDR
            .may_load(s, address)
            .map_err(err)?
            .unwrap_or([0; 20]);
        let (_, ev) = budget.slash(
            s,
            address,
            &operator,
            height.saturating_sub(2),
            power,
            p.slash_fraction_missed,
            p.fault_jail_seconds,
            now,
            "inference_missed_attestations",
        )?;
        events.extend(ev);
        info = AttInfo::default();
        let keys: Vec<u64> = ATT_MISSED
            .prefix(address)
            .keys(s, None, None, Order::Ascending)
            .collect::<Result<_, _>>()
            .map_err(err)?;
        for k in keys {
            ATT_MISSED.remove(s, (address, k));
        }
    }
    ATT_INFO.save(s, address, &info).map_err(err)?;
    Ok(events)
}

/// Power jailed by inference faults at recent heights (`fault_cap_window_blocks`).
pub const RECENT_JAILS: Item<Vec<(u64, u64)>> = Item::new("attestation/recent_jails");

/// The blast radius of inference faults. Within any `fault_cap_window_blocks`,
/// inference faults jail at most a third of the bonded power (measured before
/// those jails), a validator is slashed at most once per block for them, and the
/// last validator with power is never touched: a fault beyond the cap is
/// recorded (with its event, `capped`) but burns and jails nothing, so no burst
/// of faults — correlated failures, a model every sidecar fails on — can empty
/// the set or take consensus below its BFT assumption.
pub struct Budget {
    /// Bonded power now (after this block's earlier changes); read from
    /// staking on the first fault of the block (most blocks have none).
    bonded: Option<u128>,
    /// Power jailed by inference faults in the window, this block included.
    recent: Vec<(u64, u64)>,
    height: u64,
    slashed: BTreeSet<[u8; 20]>,
    /// `recent` differs from what state holds (pruned or grown).
    dirty: bool,
}

impl Budget {
    pub fn new(s: &dyn Storage, height: u64) -> R<Budget> {
        let window = inf::params(s).fault_cap_window_blocks;
        let mut recent = RECENT_JAILS.may_load(s).map_err(err)?.unwrap_or_default();
        let stored = recent.len();
        recent.retain(|(h, _)| h.saturating_add(window) > height);
        let dirty = recent.len() != stored;
        Ok(Budget {
            bonded: None,
            recent,
            height,
            slashed: BTreeSet::new(),
            dirty,
        })
    }

    fn recent_sum(&self) -> u128 {
        self.recent.iter().map(|(_, p)| u128::from(*p)).sum()
    }

    fn bonded(&mut self, s: &dyn Storage) -> u128 {
        *self.bonded.get_or_insert_with(|| {
            verdict_staking::state::VALIDATORS
                .range(s, None, None, Order::Ascending)
                .filter_map(Result::ok)
                .map(|(_, v)| u128::from(v.power()))
                .sum()
        })
    }

    /// Whether jailing a validator of `power` (now) stays within the cap.
    fn may_jail(&mut self, s: &dyn Storage, power: u64) -> bool {
        let bonded = self.bonded(s);
        let jailed = self.recent_sum();
        let before = bonded.saturating_add(jailed);
        let p = u128::from(power);
        p < bonded && jailed.saturating_add(p).saturating_mul(3) <= before
    }

    /// `slashing::slash_for_fault` within the budget; `(0, [capped event])`
    /// when over it.
    #[allow(clippy::too_many_arguments)]
    pub fn slash(
        &mut self,
        s: &mut dyn Storage,
        address: &[u8; 20],
        operator: &[u8; 20],
        infraction_height: u64,
        power: u64,
        fraction: Decimal,
        jail_seconds: u64,
        now: i64,
        reason: &str,
    ) -> R<(Uint128, Vec<Event>)> {
        let power_now = verdict_staking::state::VALIDATORS
            .may_load(s, operator)
            .map_err(err)?
            .map_or(0, |v| v.power());
        let allowed =
            !self.slashed.contains(address) && (power_now == 0 || self.may_jail(s, power_now));
        if !allowed {
            return Ok((
                Uint128::zero(),
                vec![Event::new("slash")
                    .attr("address", hex::encode_upper(address))
                    .attr("validator", Addr(*operator).valoper())
                    .attr("power", power)
                    .attr("reason", reason)
                    .attr("jailed", false)
                    .attr("burned_coins", Uint128::zero())
                    .attr("capped", true)],
            ));
        }
        self.slashed.insert(*address);
        let out = verdict_slashing::slash_for_fault(
            s,
            address,
            infraction_height,
            power,
            fraction,
            jail_seconds,
            now,
            reason,
        )
        .map_err(err)?;
        if power_now > 0 {
            self.dirty = true;
            self.recent.push((self.height, power_now));
            let b = self.bonded(s).saturating_sub(u128::from(power_now));
            self.bonded = Some(b);
        }
        Ok(out)
    }

    /// Writes only what changed (no write at all in a block without faults).
    fn save(&self, s: &mut dyn Storage) -> R<()> {
        if !self.dirty {
            return Ok(());
        }
        if self.recent.is_empty() {
            RECENT_JAILS.remove(s);
            return Ok(());
        }
        RECENT_JAILS.save(s, &self.recent).map_err(err)
    }
}
