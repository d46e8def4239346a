//! The counts of one run (filled by `run` and `tally`, printed by `report`).

use std::collections::BTreeMap;

use crate::model::Tally;

/// What one run of the chain produced.
#[derive(Default)]
pub(crate) struct ChainResult {
    pub tally: Vec<Tally>,
    pub jobs: u64,
    pub submitted: u64,
    pub completed: u64,
    pub failed: u64,
    pub coalition_sat: u64,
    pub coalition_seats: u64,
    pub total_seats: u64,
    pub forged_accepted: u64,
    pub stalled_by_coalition: u64,
    pub grind_blocks: u64,
    pub grind_flips: u64,
    /// Blocks where the grinder's prediction of the committees (on committed
    /// state) differed from what `committee::assign` drew.
    pub grind_mispredicted: u64,
    pub honest_slashed: u64,
    pub wrong_unslashed: u64,
    pub honest_slashed_uncaptured: u64,
    pub wrong_unslashed_uncaptured: u64,
    /// `attestation/paid` in state against fee × completed.
    pub paid_state: u128,
    /// Per validator: height jailed (validator update to power 0).
    pub jailed_at: Vec<Option<u64>>,
    /// Per validator: slash events by reason (applied, capped).
    pub slash_events: Vec<BTreeMap<String, (u64, u64)>>,
    /// Seats held by a validator in a committee drawn at or after its jail.
    pub jailed_seated: u64,
    /// Members excused (jailed and silent) at settlement.
    pub excused: u64,
    pub blocks: u64,
    pub seconds: f64,
    /// Local jobs submitted per block (the chain's per-source cap).
    pub per_block: u64,
    /// Sum of the fees of the completed jobs (from their JSON).
    pub fees_completed: u128,
    /// Jobs where withholders held ≥ 1/3 of the seats, and how many of them failed.
    pub withheld_third: u64,
    pub withheld_third_failed: u64,
    /// Self-jailers: height of their unbonding tx, wrong answers revealed on
    /// completed jobs, and how many of those are `wrong_output` faults.
    pub self_jail_tx: Vec<Option<u64>>,
    pub sj_wrong_completed: u64,
    pub sj_recorded: u64,
    /// Per validator at the end: (seats, missed) of its attestation-liveness window.
    pub att_info: Vec<(u64, u64)>,
    /// The squatter: jobs accepted, settled, completed, fees escrowed, fees
    /// lost (fee − refund) on its settled jobs, its own submissions refused.
    pub sq_jobs: u64,
    pub sq_settled: u64,
    pub sq_completed: u64,
    pub sq_fees: u128,
    pub sq_lost: u128,
    pub sq_refused: u64,
    /// The honest requester's submissions refused, by reason.
    pub req_refused: BTreeMap<String, u64>,
    /// The requester's fee raised to the floor (blocks), the floor at the end and its maximum.
    pub req_raised: u64,
    pub floor_final: u128,
    pub floor_max: u128,
    /// Issue 21: uverd inference slashes took (into the insurance pool), what
    /// requesters received from it, what the pool holds at the end, and the
    /// incidents (correlated failures) declared.
    pub slashed_coins: u128,
    pub compensation: u128,
    pub compensated_jobs: u64,
    pub pool_end: u128,
    pub incidents: u64,
    /// Issue 21 §1: the requester's results found forged (`tally`), the
    /// challenges it filed, how they ended (overturned ones split by whether
    /// the result was forged), the re-run jobs, and what the pool paid out
    /// for them (refunds, bonds, compensation, rewards; restitutions apart).
    pub captured_ids: std::collections::BTreeSet<u64>,
    pub challenges: u64,
    pub caught: u64,
    pub false_overturns: u64,
    pub upheld: u64,
    pub upheld_captured: u64,
    pub inconclusive: u64,
    pub reruns: u64,
    pub challenge_paid: BTreeMap<String, u128>,
    pub restitution: u128,
    /// Challenges resolved while the coalition held at least 1/3 of the
    /// validator set's power (beyond the BFT assumption: jailings of
    /// outvoted honest members grew its share), and how many of those
    /// overturned an honest result or upheld a forged one.
    pub beyond_third: u64,
    pub beyond_caught: u64,
    pub beyond_false_overturns: u64,
    pub beyond_upheld_captured: u64,
    /// The coalition's largest share of the set's power seen (per mille).
    pub coalition_peak_permille: u64,
}
