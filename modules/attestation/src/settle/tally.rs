//! The decision of settlement, with no storage (docs/design.md §6.8–6.9):
//! from what each committee member committed and revealed, the result (the
//! weighted element-wise median of the revealed digests of the most common
//! length), who agrees with it, whether the job completed (agreeing weight
//! above 2/3 of the committee's), and each member's verdict — what it is paid,
//! slashed or counted for. [`super::apply`] writes the outcome to state.
//!
//! Integer arithmetic only; the outcome does not depend on the order of the
//! seats (only the per-member verdicts follow it).

use std::collections::BTreeMap;

use cosmwasm_std::{Decimal, Uint128};
use verdict_inference::state::{Attestation, FaultKind};

use crate::digest::{judge, weighted_median, Verdict};

/// What one member put on chain for a job by the time the job settles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// No commitment recorded when the commit phase closed.
    Silent,
    /// A commitment, never revealed.
    Withheld,
    /// A reveal that does not open the commitment.
    BadReveal,
    /// A reveal that opens the commitment: this digest.
    Revealed(Vec<i64>),
}

impl Answer {
    /// From the member's attestation record. Recording (`process_block`) keeps
    /// the four apart: a reveal is recorded only over a recorded commitment,
    /// and sets either the digest or `bad_reveal`, never both.
    pub fn of(att: &Attestation) -> Answer {
        match (&att.digest, att.bad_reveal, &att.commitment) {
            (Some(d), _, _) => Answer::Revealed(d.clone()),
            (None, true, _) => Answer::BadReveal,
            (None, false, Some(_)) => Answer::Withheld,
            (None, false, None) => Answer::Silent,
        }
    }

    /// Whether the member committed (every answer but silence).
    pub fn committed(&self) -> bool {
        !matches!(self, Answer::Silent)
    }
}

/// One committee member as the tally sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seat {
    /// Committee weight: seats drawn (quorum, median and pay count weight).
    pub weight: u64,
    pub answer: Answer,
    /// Jailed or unbonded when the job settles: out of CometBFT's set.
    pub out_of_set: bool,
    /// BFT time (ms) of the block that recorded its commitment.
    pub commit_time_ms: i64,
}

/// The model's and the chain's terms a job is judged by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Terms {
    /// Relative tolerance (10^-9 units) of the model.
    pub rtol_nano: u64,
    /// The model's digest length (`max_output_len`).
    pub max_len: usize,
    /// Beyond this many tolerances an answer is wrong, not grey.
    pub wrong_output_multiple: u32,
    /// BFT time (ms) of the job's block: latency is measured from it.
    pub submitted_time_ms: i64,
    /// More than this share of the committee weight late or withholding, on
    /// a job that did not complete: an incident (see [`Outcome::incident`]).
    pub incident_share: Decimal,
}

/// What settlement makes of one member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberVerdict {
    /// Out of the set and silent: it may have been unable to sign extensions,
    /// so its seat leaves the committee (no vote, no fault, no missed seat).
    /// A member that committed is judged whatever happened to it since.
    Excused,
    /// No commitment when the commit phase closed (late or silent): one
    /// liveness miss, never a per-job slash.
    Late,
    /// Committed, never revealed: two liveness misses (withholding after
    /// seeing others' reveals must cost more than silence).
    Withheld,
    /// A reveal that does not open the commitment: slashed (`bad_reveal`).
    BadReveal,
    /// Within the tolerance of the result: paid when the job completes.
    Agreed,
    /// Beyond the tolerance but within `wrong_output_multiple` × it (what
    /// honest but unusual hardware could produce): not paid, not slashed.
    Grey,
    /// Far off the result of a completed quorum: slashed (`wrong_output`).
    Wrong,
    /// Far off a result no quorum backs (the job failed): a split committee
    /// proves nobody wrong, so neither paid nor slashed.
    Disputed,
}

impl MemberVerdict {
    /// The fault it is slashed for, if any.
    pub fn fault(self) -> Option<FaultKind> {
        match self {
            MemberVerdict::Wrong => Some(FaultKind::WrongOutput),
            MemberVerdict::BadReveal => Some(FaultKind::BadReveal),
            _ => None,
        }
    }

    /// Without a valid reveal when the job settled (the result's `missing`).
    pub fn is_missing(self) -> bool {
        matches!(self, MemberVerdict::Late | MemberVerdict::Withheld)
    }

    /// Attestation-liveness misses for this seat: 0 answered, 1 late, 2
    /// withheld; `None` when the seat does not count (excused).
    pub fn misses(self) -> Option<u8> {
        match self {
            MemberVerdict::Excused => None,
            MemberVerdict::Late => Some(1),
            MemberVerdict::Withheld => Some(2),
            _ => Some(0),
        }
    }
}

/// The tally of one job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Per seat, in the order given.
    pub verdicts: Vec<MemberVerdict>,
    /// The result: per element, the weighted lower median of the revealed
    /// digests of the length with the most revealed weight (ties: the
    /// shorter); empty when nobody revealed.
    pub digest: Vec<i64>,
    /// Weight of the members that agree with the result.
    pub agreeing_power: u64,
    /// Weight of the members not excused.
    pub committee_power: u64,
    /// Agreeing weight above 2/3 of the committee's: paid, not refunded.
    pub completed: bool,
    /// Lower median over the agreeing members of (commit block time − job
    /// block time), in ms: latency as the chain saw it, never as reported.
    pub latency_ms: u32,
    /// Someone committed. A job nobody committed to is one nobody could run
    /// (a model no sidecar serves): it costs its committee no liveness, or
    /// anyone could get honest validators jailed by filling blocks with such jobs.
    pub anyone_committed: bool,
    /// A correlated failure (issue 21 §3): the job did not complete, someone
    /// committed (the model is served: a job nobody could run stays what it
    /// is, so squatting is not made free), and the weight of late and
    /// withholding members is above `incident_share` of the committee's. The
    /// fee is refunded in full and late members are charged no miss;
    /// withholders still are, and bad reveals are slashed as always.
    pub incident: bool,
}

impl Outcome {
    /// Whether seat `i` is paid: it agreed, and the job completed.
    pub fn paid(&self, i: usize) -> bool {
        self.completed && self.verdicts.get(i) == Some(&MemberVerdict::Agreed)
    }

    /// Seat `i` is late on an incident: its miss may be excused (see
    /// `liveness`: at most half the window in a row per validator).
    pub fn excusable(&self, i: usize) -> bool {
        self.incident && self.verdicts.get(i) == Some(&MemberVerdict::Late)
    }

    /// Liveness misses seat `i` is charged for this job (`None`: not counted;
    /// an [`Outcome::excusable`] seat is decided by `liveness`).
    pub fn misses(&self, i: usize) -> Option<u8> {
        if !self.anyone_committed || self.excusable(i) {
            return None;
        }
        self.verdicts.get(i).and_then(|v| v.misses())
    }
}

fn excused(x: &Seat) -> bool {
    x.out_of_set && x.answer == Answer::Silent
}

fn sum_weight<'a>(it: impl Iterator<Item = &'a Seat>) -> u64 {
    it.map(|x| x.weight).fold(0, u64::saturating_add)
}

/// The revealed digests of members that count, with their weights.
fn revealed<'a>(seats: &'a [Seat]) -> impl Iterator<Item = (&'a [i64], u64)> + 'a {
    seats
        .iter()
        .filter(|x| !excused(x))
        .filter_map(|x| match &x.answer {
            Answer::Revealed(d) => Some((d.as_slice(), x.weight)),
            _ => None,
        })
}

/// The result digest (see [`Outcome::digest`]). A digest of another length
/// than the heaviest one simply disagrees: one member cannot veto the job.
fn result_digest(seats: &[Seat]) -> Vec<i64> {
    let mut by_len: BTreeMap<usize, u64> = BTreeMap::new();
    for (d, w) in revealed(seats) {
        let e = by_len.entry(d.len()).or_insert(0);
        *e = e.saturating_add(w);
    }
    let mut dim = 0usize;
    let mut best = 0u64;
    for (len, w) in &by_len {
        if *w > best {
            best = *w;
            dim = *len;
        }
    }
    (0..dim)
        .map(|i| {
            let mut col: Vec<(i64, u64)> = revealed(seats)
                .filter(|(d, _)| d.len() == dim)
                .filter_map(|(d, w)| Some((*d.get(i)?, w)))
                .collect();
            weighted_median(&mut col).unwrap_or(0)
        })
        .collect()
}

/// A member's verdict, once its digest is judged and the quorum known.
fn verdict(x: &Seat, judged: Option<Verdict>, completed: bool) -> MemberVerdict {
    if excused(x) {
        return MemberVerdict::Excused;
    }
    match (&x.answer, judged) {
        (Answer::Silent, _) => MemberVerdict::Late,
        (Answer::Withheld, _) => MemberVerdict::Withheld,
        (Answer::BadReveal, _) => MemberVerdict::BadReveal,
        (Answer::Revealed(_), Some(Verdict::Agrees)) => MemberVerdict::Agreed,
        (Answer::Revealed(_), Some(Verdict::Grey)) => MemberVerdict::Grey,
        (Answer::Revealed(_), _) if completed => MemberVerdict::Wrong,
        (Answer::Revealed(_), _) => MemberVerdict::Disputed,
    }
}

/// See [`Outcome::latency_ms`].
fn latency(seats: &[Seat], verdicts: &[MemberVerdict], submitted_time_ms: i64) -> u32 {
    let mut lat: Vec<u32> = seats
        .iter()
        .zip(verdicts)
        .filter(|(_, v)| **v == MemberVerdict::Agreed)
        .map(|(x, _)| {
            let d = x.commit_time_ms.saturating_sub(submitted_time_ms);
            u32::try_from(d.max(0)).unwrap_or(u32::MAX)
        })
        .collect();
    lat.sort_unstable();
    lat.get(lat.len().saturating_sub(1) / 2)
        .copied()
        .unwrap_or(0)
}

/// Settles one job on paper: see [`Outcome`].
pub fn tally(seats: &[Seat], terms: &Terms) -> Outcome {
    let committee_power = sum_weight(seats.iter().filter(|x| !excused(x)));
    let digest = result_digest(seats);
    // Each revealed digest judged once against the result.
    let judged: Vec<Option<Verdict>> = seats
        .iter()
        .map(|x| match &x.answer {
            Answer::Revealed(d) => Some(judge(
                d,
                &digest,
                terms.rtol_nano,
                terms.max_len,
                terms.wrong_output_multiple,
            )),
            _ => None,
        })
        .collect();
    let agreeing_power = sum_weight(
        seats
            .iter()
            .zip(&judged)
            .filter(|(x, v)| !excused(x) && **v == Some(Verdict::Agrees))
            .map(|(x, _)| x),
    );
    let completed = committee_power > 0
        && u128::from(agreeing_power).saturating_mul(3)
            > u128::from(committee_power).saturating_mul(2);
    let verdicts: Vec<MemberVerdict> = seats
        .iter()
        .zip(&judged)
        .map(|(x, v)| verdict(x, *v, completed))
        .collect();
    let anyone_committed = seats.iter().any(|x| x.answer.committed());
    let failed_sla = sum_weight(
        seats
            .iter()
            .zip(&verdicts)
            .filter(|(_, v)| v.is_missing())
            .map(|(x, _)| x),
    );
    let incident = !completed
        && anyone_committed
        && Uint128::from(failed_sla)
            > Uint128::from(committee_power).mul_floor(terms.incident_share);
    Outcome {
        latency_ms: latency(seats, &verdicts, terms.submitted_time_ms),
        verdicts,
        digest,
        agreeing_power,
        committee_power,
        completed,
        anyone_committed,
        incident,
    }
}
