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
    /// Validators sampled by stake for each job.
    pub committee_size: u32,
    pub max_jobs_per_block: u32,
    /// Minimum escrowed fee per job, in the bond denom.
    pub min_job_fee: Uint128,
    /// Highest `max_latency_ms` a job may ask for.
    pub max_latency_ms: u32,
    /// Blocks after inclusion during which commitments and reveals count; the
    /// job is settled with what it has when the window closes.
    pub attestation_window_blocks: u64,
    /// Liveness of attestation: each validator's last `missed_window` committee
    /// seats are tracked; revealing for fewer than `min_attested_fraction` of
    /// them slashes `slash_fraction_missed` and jails.
    pub missed_window: u32,
    pub min_attested_fraction: Decimal,
    pub slash_fraction_wrong_output: Decimal,
    pub slash_fraction_bad_reveal: Decimal,
    pub slash_fraction_sla: Decimal,
    pub slash_fraction_missed: Decimal,
    /// Jail time after an inference fault; `MsgUnjail` works after it.
    pub fault_jail_seconds: u64,
}

impl Default for InferenceParams {
    fn default() -> Self {
        InferenceParams {
            max_input_bytes: 16 * 1024,
            max_output_len: 64,
            committee_size: 16,
            max_jobs_per_block: 8,
            min_job_fee: Uint128::new(1_000),
            max_latency_ms: 60_000,
            attestation_window_blocks: 20,
            missed_window: 100,
            min_attested_fraction: Decimal::percent(50),
            slash_fraction_wrong_output: Decimal::percent(1),
            slash_fraction_bad_reveal: Decimal::percent(1),
            slash_fraction_sla: Decimal::permille(5),
            slash_fraction_missed: Decimal::permille(1),
            fault_jail_seconds: 600,
        }
    }
}

impl InferenceParams {
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
        frac("slash_fraction_sla", self.slash_fraction_sla)?;
        frac("slash_fraction_missed", self.slash_fraction_missed)?;
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
        positive("attestation_window_blocks", self.attestation_window_blocks)?;
        positive("missed_window", self.missed_window.into())?;
        if self.max_output_len > 1024 {
            return Err("inference.params.max_output_len must be at most 1024".into());
        }
        Ok(())
    }
}
