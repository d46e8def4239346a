//! Parameters of the inference and attestation protocol (one set, owned here).

use cosmwasm_std::{Decimal, Uint128};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InferenceParams {
    /// Sum of the input tensors' data bytes a job may carry.
    pub max_input_bytes: u32,
    /// Upper bound of a model's `max_output_len` (the digest length).
    pub max_output_len: u32,
    /// Seats of a job's committee. With more bonded validators than seats, each
    /// seat is drawn by stake with replacement (a validator drawn k times holds
    /// k seats); otherwise every bonded validator sits, weighted by its power.
    pub committee_size: u32,
    pub max_jobs_per_block: u32,
    /// Of a block's job slots, at most this many for local jobs and at most
    /// this many for IBC requests, so neither source can starve the other.
    pub max_jobs_per_source: u32,
    /// Largest model file a registration may declare (bytes); sidecars never
    /// download more than the declared size.
    pub max_model_bytes: u64,
    /// A job is refused at submit unless at least this many bonded validators
    /// serve its model (`MsgServeModel`): a job nobody can run is not accepted.
    /// 0 accepts jobs on unserved models (they expire, refunded but the base fee).
    pub min_model_servers: u32,
    /// Paid by whoever registers a model, into the community pool: claiming a
    /// model id (first come, first served) is not free.
    pub model_registration_fee: Uint128,
    /// Minimum escrowed fee per job, in the bond denom.
    pub min_job_fee: Uint128,
    /// Largest fee a request received over IBC may name: the channel's payer
    /// account pays it, so no one packet can empty that account.
    pub max_remote_job_fee: Uint128,
    /// Part of every job's fee that is never refunded (to the community pool
    /// when the job fails): filling blocks with jobs nobody can serve is not
    /// free. At most `min_job_fee`.
    pub job_base_fee: Uint128,
    /// Highest `max_latency_ms` a job may ask for.
    pub max_latency_ms: u32,
    /// Lowest `max_latency_ms` a job may ask for: a requester must not be able to
    /// set an SLA no honest validator can meet (and get the committee slashed).
    pub min_latency_ms: u32,
    /// Smallest absolute model tolerance (units of 10^-9): below float noise,
    /// honest validators on different hardware would disagree.
    pub min_tolerance_nano: u64,
    /// Largest absolute model tolerance (units of 10^-9).
    pub max_tolerance_nano: u64,
    /// Smallest relative model tolerance (units of 10^-9): float32 reductions in
    /// another order (threads, BLAS, CUDA) differ by ~1e-6..1e-5 relative.
    pub min_rtol_nano: u64,
    /// Largest relative model tolerance (units of 10^-9).
    pub max_rtol_nano: u64,
    /// A revealed answer is `wrong_output` (slashed) only when some element is
    /// more than this many tolerances from the result; between one and this
    /// many it is in the grey zone: not paid, never slashed.
    pub wrong_output_multiple: u32,
    /// Commit phase: commitments are accepted until every member has committed,
    /// or the job's SLA has passed in BFT time (at the earliest two blocks after
    /// the committee is drawn), or at most this many blocks after inclusion;
    /// reveals only after it closes, so nobody can commit to an answer that is
    /// already public.
    pub commit_blocks: u64,
    /// Blocks after inclusion during which commitments and reveals count; the
    /// job is settled with what it has when the window closes.
    pub attestation_window_blocks: u64,
    /// Settled jobs (result, faults) stay in state this many blocks after
    /// settlement, then go (0: kept forever); their events stay in the block
    /// results.
    pub job_retention_blocks: u64,
    /// Reveal phase: a job settles at the latest this many blocks after its
    /// commit phase closed (an honest reveal lands in the first; the rest
    /// absorb a proposer that leaves extensions out), so a member that commits
    /// and holds back its reveal cannot keep a job open to the window's end.
    pub reveal_blocks: u64,
    /// Liveness of attestation: each validator's last `missed_window` committee
    /// seats are tracked; revealing for fewer than `min_attested_fraction` of
    /// them slashes `slash_fraction_missed` and jails.
    pub missed_window: u32,
    pub min_attested_fraction: Decimal,
    pub slash_fraction_wrong_output: Decimal,
    pub slash_fraction_bad_reveal: Decimal,
    pub slash_fraction_missed: Decimal,
    /// Jail time after an inference fault; `MsgUnjail` works after it.
    pub fault_jail_seconds: u64,
    /// Within any this many blocks, inference faults jail at most a third of
    /// the bonded power; faults beyond are recorded but slash and jail nothing.
    pub fault_cap_window_blocks: u64,
    /// Within any `fault_cap_window_blocks`, inference slashes (wrong outputs,
    /// bad reveals, missed attestations) take at most this fraction, in all,
    /// of one validator's stake: a burst of faults on jobs it had already
    /// answered (a bad driver, a corrupted model file) costs a bounded amount.
    /// A slash beyond is cut to what is left (0 once it is used up: the
    /// validator is still jailed).
    pub validator_slash_cap: Decimal,
    /// Correlated failures: when more than this share of a job's committee
    /// weight (excused seats aside) is late or withheld its reveal, the job is
    /// an incident (a cloud region down, a bad driver): refunded in full, no
    /// liveness miss for the late members, an `inference_incident` event.
    /// Withholding still costs its misses and wrong outputs and bad reveals
    /// are slashed as always; a validator is excused at most half its
    /// `missed_window` of blocks in a row (a lazy majority is not free). In
    /// (0, 1]; 1 turns the rule off.
    pub incident_share: Decimal,
    /// Inference slashes go to the insurance pool (a module account), not a
    /// burn; of what the faults of a job that did not complete slashed, the
    /// job's requester receives up to this many times the job's fee, the rest
    /// stays in the pool (a completed job's slashes all stay there).
    pub compensation_fee_multiple: u32,
    /// For this many blocks after a job completes, anyone may challenge its
    /// result with a bond (`MsgChallengeJob`): the result is `provisional`
    /// until the window closes (or the challenge resolves), `final` after.
    /// 0: no challenges, results final when they settle.
    pub challenge_window_blocks: u64,
    /// Seats of the committee that re-runs a challenged job (at least
    /// `committee_size`). The bond must cover it: at least the job's fee ×
    /// this / `committee_size` (and `min_job_fee`).
    pub challenge_committee_size: u32,
    /// Of what an overturn slashes (into the insurance pool), the share the
    /// challenger receives on top of its bond.
    pub challenge_reward_share: Decimal,
    /// Denoms besides the bond denom a job fee may be paid in (IBC vouchers a
    /// consumer chain's users hold), each with its price in bond-denom units:
    /// fee floors, base fees, bonds and compensation use that value. See
    /// the `fee_denoms` module. Empty by default.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fee_denoms: Vec<FeeDenom>,
}

/// A denom a job fee may be paid in besides the bond denom, with its price
/// (see `crate::fee_denoms`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeeDenom {
    pub denom: String,
    /// Bond-denom units one unit of `denom` is worth.
    pub price: Decimal,
}

impl Default for InferenceParams {
    fn default() -> Self {
        InferenceParams {
            max_input_bytes: 16 * 1024,
            max_output_len: 64,
            committee_size: 48,
            max_jobs_per_block: 8,
            max_jobs_per_source: 6,
            max_model_bytes: 1 << 30,
            min_model_servers: 1,
            model_registration_fee: Uint128::new(1_000_000),
            min_job_fee: Uint128::new(1_000),
            max_remote_job_fee: Uint128::new(1_000_000),
            job_base_fee: Uint128::new(200),
            max_latency_ms: 60_000,
            min_latency_ms: 1_000,
            min_tolerance_nano: 1_000,
            max_tolerance_nano: 1_000_000_000,
            min_rtol_nano: 100_000,
            max_rtol_nano: 100_000_000,
            wrong_output_multiple: 8,
            commit_blocks: 10,
            attestation_window_blocks: 20,
            reveal_blocks: 3,
            job_retention_blocks: 100_000,
            missed_window: 100,
            min_attested_fraction: Decimal::percent(50),
            slash_fraction_wrong_output: Decimal::percent(1),
            slash_fraction_bad_reveal: Decimal::percent(1),
            slash_fraction_missed: Decimal::permille(1),
            fault_jail_seconds: 600,
            fault_cap_window_blocks: 100,
            validator_slash_cap: Decimal::percent(5),
            incident_share: Decimal::percent(50),
            compensation_fee_multiple: 10,
            challenge_window_blocks: 20,
            challenge_committee_size: 96,
            challenge_reward_share: Decimal::percent(10),
            fee_denoms: Vec::new(),
        }
    }
}

impl InferenceParams {
    /// The smallest bond that may challenge a job of `fee`: what its re-run
    /// costs at the job's pay per seat (fee × `challenge_committee_size` /
    /// `committee_size`, rounded up), and never below `min_job_fee`.
    pub fn challenge_bond_min(&self, fee: Uint128) -> Uint128 {
        let seats = Uint128::from(self.challenge_committee_size);
        let per = Uint128::from(self.committee_size.max(1));
        let cost = fee
            .checked_mul(seats)
            .ok()
            .and_then(|x| x.checked_add(per.saturating_sub(Uint128::one())).ok())
            .and_then(|x| x.checked_div(per).ok())
            .unwrap_or(Uint128::MAX);
        cost.max(self.min_job_fee)
    }

    /// The caps, incidents and compensation of issue 21.
    fn validate_fault_costs(&self) -> Result<(), String> {
        if self.validator_slash_cap > Decimal::one() {
            return Err("inference.params.validator_slash_cap must be at most 1".into());
        }
        if self.incident_share.is_zero() || self.incident_share > Decimal::one() {
            return Err(
                "inference.params.incident_share must be in (0, 1] (1 turns the rule off)".into(),
            );
        }
        if self.compensation_fee_multiple > 1_000 {
            return Err("inference.params.compensation_fee_multiple must be at most 1000".into());
        }
        if self.challenge_reward_share > Decimal::one() {
            return Err("inference.params.challenge_reward_share must be at most 1".into());
        }
        if self.challenge_committee_size < self.committee_size
            || self.challenge_committee_size > 256
        {
            return Err(
                "inference.params.challenge_committee_size must be within committee_size..=256"
                    .into(),
            );
        }
        // The job must outlive its window and a challenge's re-run (0 keeps
        // jobs forever; without a window there are no challenges).
        let needed = self
            .challenge_window_blocks
            .saturating_add(self.attestation_window_blocks)
            .saturating_add(1);
        if self.challenge_window_blocks > 0
            && self.job_retention_blocks != 0
            && self.job_retention_blocks <= needed
        {
            return Err(
                "inference.params.job_retention_blocks must exceed challenge_window_blocks + \
                 attestation_window_blocks + 1 (or be 0: kept forever)"
                    .into(),
            );
        }
        Ok(())
    }

    pub fn validate(&self) -> Result<(), String> {
        let frac = |name: &str, d: Decimal| {
            if d > Decimal::one() {
                Err(format!(
                    "inference.params.{name} must be at most 1, got {d}"
                ))
            } else {
                Ok(())
            }
        };
        frac("min_attested_fraction", self.min_attested_fraction)?;
        frac(
            "slash_fraction_wrong_output",
            self.slash_fraction_wrong_output,
        )?;
        frac("slash_fraction_bad_reveal", self.slash_fraction_bad_reveal)?;
        frac("slash_fraction_missed", self.slash_fraction_missed)?;
        self.validate_fault_costs()?;
        let positive = |name: &str, v: u64| {
            if v == 0 {
                Err(format!("inference.params.{name} must be positive"))
            } else {
                Ok(())
            }
        };
        positive("max_input_bytes", self.max_input_bytes.into())?;
        positive("max_output_len", self.max_output_len.into())?;
        positive("committee_size", self.committee_size.into())?;
        positive("max_jobs_per_block", self.max_jobs_per_block.into())?;
        positive("max_latency_ms", self.max_latency_ms.into())?;
        positive("max_model_bytes", self.max_model_bytes)?;
        positive("attestation_window_blocks", self.attestation_window_blocks)?;
        positive("missed_window", self.missed_window.into())?;
        // A job of block H gets its committee in block H+1 (from that block's
        // beacon); a commitment arrives in block H+3 at the earliest.
        if self.commit_blocks < 3 {
            return Err("inference.params.commit_blocks must be at least 3".into());
        }
        if self.attestation_window_blocks <= self.commit_blocks.saturating_add(1) {
            return Err(
                "inference.params.attestation_window_blocks must exceed commit_blocks + 1".into(),
            );
        }
        if self.min_latency_ms > self.max_latency_ms {
            return Err("inference.params.min_latency_ms must not exceed max_latency_ms".into());
        }
        if self.max_jobs_per_source == 0 {
            return Err("inference.params.max_jobs_per_source must be positive".into());
        }
        if self.reveal_blocks < 2 {
            return Err("inference.params.reveal_blocks must be at least 2".into());
        }
        if self.max_remote_job_fee < self.min_job_fee {
            return Err("inference.params.max_remote_job_fee must be at least min_job_fee".into());
        }
        if self.job_base_fee > self.min_job_fee {
            return Err("inference.params.job_base_fee must not exceed min_job_fee".into());
        }
        if self.committee_size > 256 {
            return Err("inference.params.committee_size must be at most 256".into());
        }
        if self.min_tolerance_nano == 0 || self.min_tolerance_nano > self.max_tolerance_nano {
            return Err(
                "inference.params: need 0 < min_tolerance_nano <= max_tolerance_nano".into(),
            );
        }
        if self.min_rtol_nano > self.max_rtol_nano || self.max_rtol_nano > 1_000_000_000 {
            return Err(
                "inference.params: need min_rtol_nano <= max_rtol_nano <= 10^9 (100 %)".into(),
            );
        }
        if self.wrong_output_multiple < 2 {
            return Err("inference.params.wrong_output_multiple must be at least 2".into());
        }
        if self.max_output_len > 1024 {
            return Err("inference.params.max_output_len must be at most 1024".into());
        }
        self.validate_fee_denoms()
    }
}
