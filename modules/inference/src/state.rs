//! Typed state of the inference module.

use cosmwasm_std::{Binary, Order, StdResult, Storage, Uint128};
use cw_storage_plus::{Item, Map};
use serde::{Deserialize, Serialize};
use verdict_core::address::Addr;
use verdict_core::coin::Coin;

use crate::params::InferenceParams;

pub type Addr20 = [u8; 20];

/// The escrow of job fees.
pub fn escrow() -> Addr {
    Addr::module("inference")
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Spec {
    pub name: String,
    pub dtype: String,
    pub shape: Vec<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Model {
    /// Lower-case hex sha256 of the .onnx bytes.
    pub id: String,
    pub name: String,
    pub owner: Addr20,
    pub inputs: Vec<Spec>,
    pub outputs: Vec<Spec>,
    /// Absolute tolerance per output element in units of 10^-9 (always ≥ 1);
    /// also the quantum digests are expressed in.
    pub tolerance_nano: u64,
    /// Relative tolerance in units of 10^-9: x agrees with a reference r when
    /// |x − r| ≤ tolerance + rtol·|r| (in quanta, see `verdict_attestation::digest`).
    #[serde(default)]
    pub rtol_nano: u64,
    /// Declared range of every input element, in units of 10^-9 (inclusive);
    /// `None`: unbounded (inputs must still be finite).
    #[serde(default)]
    pub input_range: Option<(i64, i64)>,
    /// Digest length (see docs/design.md §6.8).
    pub max_output_len: u32,
    pub registered_height: u64,
}

impl Model {
    /// sha256 (lower-case hex) of what a job's answer depends on: the file
    /// hash, input and output specs, tolerances, input range and digest length,
    /// as canonical JSON in this order. Jobs may pin it (`spec_hash`).
    pub fn spec_hash(&self) -> String {
        #[derive(Serialize)]
        struct Key<'a> {
            id: &'a str,
            inputs: &'a [Spec],
            outputs: &'a [Spec],
            tolerance_nano: u64,
            rtol_nano: u64,
            input_range: Option<(i64, i64)>,
            max_output_len: u32,
        }
        let key = Key {
            id: &self.id,
            inputs: &self.inputs,
            outputs: &self.outputs,
            tolerance_nano: self.tolerance_nano,
            rtol_nano: self.rtol_nano,
            input_range: self.input_range,
            max_output_len: self.max_output_len,
        };
        let bytes = serde_json::to_vec(&key).unwrap_or_default();
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(bytes))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputTensor {
    pub name: String,
    pub dtype: String,
    pub shape: Vec<i64>,
    pub data: Binary,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// Waiting for commitments.
    Pending,
    /// At least one commitment recorded.
    Committed,
    /// Commit phase closed: no more commitments, reveals accepted.
    Revealing,
    /// At least one reveal recorded.
    Revealed,
    /// More than 2/3 of the committee's stake agreed; result written, fee paid.
    Completed,
    /// Settled without a quorum (disagreement or too few reveals): fee refunded.
    Failed,
    /// No validator could serve it (empty bonded set): fee refunded.
    Expired,
}

impl JobStatus {
    /// Commitments are accepted.
    pub fn commit_phase(self) -> bool {
        matches!(self, JobStatus::Pending | JobStatus::Committed)
    }

    /// Reveals are accepted.
    pub fn reveal_phase(self) -> bool {
        matches!(self, JobStatus::Revealing | JobStatus::Revealed)
    }

    pub fn is_final(self) -> bool {
        matches!(
            self,
            JobStatus::Completed | JobStatus::Failed | JobStatus::Expired
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// CometBFT validator address (20 bytes), upper-case hex.
    pub address: String,
    pub operator: Addr20,
    /// Voting power when the committee was drawn.
    pub power: u64,
    /// The member's weight in the committee: how many of the `committee_size`
    /// seats it was drawn for (sortition with replacement), or its power when
    /// the whole set is the committee. Quorum, median and pay count weight.
    #[serde(default)]
    pub seats: u64,
}

impl Member {
    /// The member's weight in quorum, median and pay: its seats (its power for
    /// a committee recorded without seats).
    pub fn weight(&self) -> u64 {
        if self.seats > 0 {
            self.seats
        } else {
            self.power
        }
    }

    pub fn address_bytes(&self) -> Option<Addr20> {
        hex::decode(&self.address).ok()?.try_into().ok()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fault {
    pub address: String,
    pub operator: Addr20,
    /// `wrong_output` or `bad_reveal`.
    pub kinds: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobResult {
    /// Stake-weighted element-wise median of the revealed digests, in units of
    /// the model's tolerance (value ≈ digest × tolerance).
    pub digest: Vec<i64>,
    pub agreeing: Vec<String>,
    /// Committee weight (seats) of the agreeing members.
    pub agreeing_power: u64,
    /// Committee weight (seats) of the members that were not excused.
    pub committee_power: u64,
    /// Latency as the chain measured it: median over the agreeing members of
    /// (BFT time of the block that recorded the commitment − BFT time of the
    /// job's block), in milliseconds. Never a number a validator reports.
    pub latency_ms: u32,
    /// Members with no commitment recorded when the commit phase closed (the
    /// SLA deadline): late or silent. A liveness count, never a per-job slash.
    #[serde(default)]
    pub late: Vec<String>,
    /// Members whose answer missed the tolerance but stayed within
    /// `wrong_output_multiple` × tolerance: not paid, not slashed.
    #[serde(default)]
    pub grey: Vec<String>,
    pub faults: Vec<Fault>,
    /// Members with no valid reveal when the job settled.
    pub missing: Vec<String>,
    /// Members jailed when the job settled: out of CometBFT's set, they may not
    /// have been able to attest, so their seats leave the committee (their stake
    /// neither counts towards nor blocks the quorum; no fault is charged).
    #[serde(default)]
    pub excused: Vec<String>,
    pub finalized_height: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    pub id: u64,
    pub requester: Addr20,
    pub model_id: String,
    pub max_latency_ms: u32,
    pub fee: Coin,
    pub submitted_height: u64,
    /// BFT time of the job's block, in ms since the epoch (the SLA's start).
    #[serde(default)]
    pub submitted_time_ms: i64,
    /// Last height whose FinalizeBlock may still record commitments.
    #[serde(default)]
    pub commit_deadline: u64,
    /// Height whose FinalizeBlock closed the commit phase (0 while open).
    #[serde(default)]
    pub commit_closed_height: u64,
    /// Last height whose FinalizeBlock may still record attestations.
    pub deadline_height: u64,
    pub committee: Vec<Member>,
    pub status: JobStatus,
    pub result: Option<JobResult>,
}

/// One member's attestation of one job, as recorded from vote extensions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attestation {
    pub commitment: Option<Binary>,
    /// What the validator reported (information only: never judged or paid on).
    pub latency_ms: u32,
    pub commit_height: u64,
    /// BFT time (ms) of the block that recorded the commitment.
    #[serde(default)]
    pub commit_time_ms: i64,
    pub digest: Option<Vec<i64>>,
    pub reveal_height: u64,
    /// A reveal arrived that does not open the commitment.
    pub bad_reveal: bool,
}

/// A fault as the `faults` query lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultRecord {
    pub job_id: u64,
    pub address: String,
    pub operator: Addr20,
    pub kind: String,
    pub height: u64,
    pub burned: Uint128,
    pub jailed: bool,
}

pub const PARAMS: Item<InferenceParams> = Item::new("inference/params");
pub const MODELS: Map<&str, Model> = Map::new("inference/models");
pub const NEXT_JOB_ID: Item<u64> = Item::new("inference/next_job");
pub const JOBS: Map<u64, Job> = Map::new("inference/jobs");
/// A live job's input tensors, apart from the job so that the hot paths
/// (extension checks, settlement) never load them; removed when the job settles.
pub const INPUTS: Map<u64, Vec<InputTensor>> = Map::new("inference/inputs");
pub const JOBS_BY_REQUESTER: Map<(&[u8], u64), ()> = Map::new("inference/by_requester");
/// Jobs not yet settled, keyed by deadline height then id.
pub const LIVE: Map<(u64, u64), ()> = Map::new("inference/live");
/// Jobs submitted at a height, waiting for their committee (FinalizeBlock of that height).
pub const UNASSIGNED: Map<u64, ()> = Map::new("inference/unassigned");
/// Jobs submitted at a height: local (signed txs) and remote (IBC requests);
/// enforces `max_jobs_per_block` and `max_jobs_per_source`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockJobs {
    pub height: u64,
    pub local: u32,
    pub remote: u32,
}

pub const BLOCK_JOBS: Item<BlockJobs> = Item::new("inference/block_jobs");
/// The job fee floor: at least `min_job_fee`; +12.5 % after every block whose
/// job slots were all taken (or one source's whole share of them), −12.5 %
/// (down to `min_job_fee`) after one at most half full. Job slots go to those who pay for them, not to whoever is first.
pub const JOB_FEE_FLOOR: Item<Uint128> = Item::new("inference/job_fee_floor");

/// The fee a job must carry now.
pub fn job_fee_floor(s: &dyn Storage) -> Uint128 {
    let min = params(s).min_job_fee;
    JOB_FEE_FLOOR
        .may_load(s)
        .ok()
        .flatten()
        .unwrap_or(min)
        .max(min)
}

/// End of FinalizeBlock(height): moves the fee floor by how full the block's
/// job slots were. Writes only when it changes.
pub fn update_job_fee_floor(s: &mut dyn Storage, height: u64) -> StdResult<()> {
    let p = params(s);
    let b = match BLOCK_JOBS.may_load(s)? {
        Some(b) if b.height == height => b,
        _ => BlockJobs::default(),
    };
    let used = b.local.saturating_add(b.remote);
    // Demand met supply: every slot taken, or one source's whole share.
    let full = used >= p.max_jobs_per_block
        || b.local >= p.max_jobs_per_source
        || b.remote >= p.max_jobs_per_source;
    let floor = job_fee_floor(s);
    let next = if full {
        floor.saturating_add(floor.multiply_ratio(1u128, 8u128).max(Uint128::one()))
    } else if used.saturating_mul(2) <= p.max_jobs_per_block {
        floor
            .saturating_sub(floor.multiply_ratio(1u128, 8u128))
            .max(p.min_job_fee)
    } else {
        floor
    };
    if next != floor {
        JOB_FEE_FLOOR.save(s, &next)?;
    }
    Ok(())
}
pub const ATTESTATIONS: Map<(u64, &[u8]), Attestation> = Map::new("inference/attest");
pub const NEXT_FAULT: Item<u64> = Item::new("inference/next_fault");
/// Settled jobs by (height settled, id), for pruning after `job_retention_blocks`.
pub const SETTLED: Map<(u64, u64), ()> = Map::new("inference/settled");

/// At most this many settled jobs are pruned per block (bounded work).
pub const PRUNE_PER_BLOCK: usize = 64;
pub const FAULTS: Map<u64, FaultRecord> = Map::new("inference/faults");

pub fn params(s: &dyn Storage) -> InferenceParams {
    PARAMS.may_load(s).ok().flatten().unwrap_or_default()
}

pub fn live_jobs(s: &dyn Storage) -> StdResult<Vec<(u64, u64)>> {
    LIVE.keys(s, None, None, Order::Ascending).collect()
}

/// Whether `address` (20 bytes) sits on the job's committee.
pub fn member<'a>(job: &'a Job, address: &[u8]) -> Option<&'a Member> {
    job.committee
        .iter()
        .find(|m| m.address_bytes().is_some_and(|a| a.as_slice() == address))
}

/// End of FinalizeBlock (after IBC acknowledgements are written): drops up to
/// [`PRUNE_PER_BLOCK`] jobs settled more than `job_retention_blocks` ago, with
/// their requester index entries, and as many fault records as old. Returns
/// how many went.
pub fn prune_settled(s: &mut dyn Storage, height: u64) -> StdResult<usize> {
    let keep = params(s).job_retention_blocks;
    if keep == 0 || height <= keep {
        return Ok(0);
    }
    let cutoff = height.saturating_sub(keep);
    let due: Vec<(u64, u64)> = SETTLED
        .keys(
            s,
            None,
            Some(cw_storage_plus::Bound::exclusive((cutoff, 0u64))),
            Order::Ascending,
        )
        .take(PRUNE_PER_BLOCK)
        .collect::<StdResult<_>>()?;
    for (h, id) in &due {
        if let Some(job) = JOBS.may_load(s, *id)? {
            JOBS_BY_REQUESTER.remove(s, (&job.requester, *id));
        }
        JOBS.remove(s, *id);
        SETTLED.remove(s, (*h, *id));
    }
    // Fault records (ids follow heights) go after the same retention.
    let old_faults: Vec<u64> = FAULTS
        .range(s, None, None, Order::Ascending)
        .take(PRUNE_PER_BLOCK)
        .take_while(|r| r.as_ref().map_or(true, |(_, f)| f.height < cutoff))
        .map(|r| r.map(|(k, _)| k))
        .collect::<StdResult<_>>()?;
    for k in &old_faults {
        FAULTS.remove(s, *k);
    }
    Ok(due.len().saturating_add(old_faults.len()))
}

pub fn record_fault(s: &mut dyn Storage, f: &FaultRecord) -> StdResult<u64> {
    let id = NEXT_FAULT.may_load(s)?.unwrap_or(0);
    FAULTS.save(s, id, f)?;
    NEXT_FAULT.save(s, &id.saturating_add(1))?;
    Ok(id)
}

/// Sum of the fees of live jobs (the escrow invariant).
pub fn check_invariants(s: &dyn Storage, denom: &str) -> Result<(), String> {
    let mut sum = Uint128::zero();
    for k in LIVE.keys(s, None, None, Order::Ascending) {
        let (_, id) = k.map_err(|e| e.to_string())?;
        let job = JOBS.load(s, id).map_err(|e| e.to_string())?;
        if job.fee.denom == denom {
            sum = sum.checked_add(job.fee.amount).map_err(|e| e.to_string())?;
        }
    }
    let held = verdict_bank::Bank::balance(s, &escrow(), denom).map_err(|e| e.to_string())?;
    if held != sum {
        return Err(format!(
            "inference escrow holds {held}{denom}, live jobs' fees sum to {sum}{denom}"
        ));
    }
    Ok(())
}
