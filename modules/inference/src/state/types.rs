//! The records the inference tables hold (`keys`), with no storage access:
//! models, jobs and their results, attestations, faults, the per-block job
//! counts and the proposers' beacon hash chains. Re-exported by `state`
//! (`BeaconChain` by `beacon`).

use cosmwasm_std::{Binary, Uint128};
use serde::{Deserialize, Serialize};
use verdict_core::coin::Coin;

pub type Addr20 = [u8; 20];

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
    /// Where the bytes are (tried in order by every sidecar).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub uris: Vec<String>,
    /// Size of the .onnx file in bytes.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub size_bytes: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
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
    /// Completed, then a challenge's re-run found the result wrong (issue 21
    /// §1): the result is the re-run's, the requester refunded and
    /// compensated, the agreeing members slashed.
    Overturned,
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
            JobStatus::Completed | JobStatus::Failed | JobStatus::Expired | JobStatus::Overturned
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

/// What a member did wrong on a job. Stored (in `Fault::kinds`,
/// `FaultRecord::kind`) and shown in events as its snake_case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// A revealed answer far beyond the tolerance of a completed quorum's result.
    WrongOutput,
    /// A reveal that does not open the member's commitment.
    BadReveal,
}

impl FaultKind {
    /// The name in state, events and slash reasons.
    pub fn as_str(self) -> &'static str {
        match self {
            FaultKind::WrongOutput => "wrong_output",
            FaultKind::BadReveal => "bad_reveal",
        }
    }
}

impl std::fmt::Display for FaultKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fault {
    pub address: String,
    pub operator: Addr20,
    pub kinds: Vec<FaultKind>,
    /// A wrong output's revealed digest, kept so that a challenge that
    /// overturns the result can tell an outvoted honest member (whose slash
    /// it restores) from a liar. Empty for other faults.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub digest: Vec<i64>,
    /// What its slash took (omitted when zero).
    #[serde(default, skip_serializing_if = "Uint128::is_zero")]
    pub slashed: Uint128,
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
    /// Paid to the requester out of what this job's faults slashed (issue 21:
    /// up to `compensation_fee_multiple` × the fee). Omitted when zero, so
    /// results without it keep their bytes.
    #[serde(default, skip_serializing_if = "Uint128::is_zero")]
    pub compensation: Uint128,
    /// A correlated failure (`incident_share`): refunded in full, the late
    /// members charged no liveness miss. Omitted when false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub incident: bool,
    /// The last height at which the result may be challenged (0: none).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub challenge_until: u64,
    /// The result may still change: its challenge window is open, or a
    /// challenge of it is. `final` (false) otherwise.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub provisional: bool,
}

/// How a challenge ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChallengeOutcome {
    /// The re-run has not settled.
    Open,
    /// The re-run agreed with the result (or stayed within the grey band):
    /// the bond paid the members that answered correctly.
    Upheld,
    /// The re-run found the result wrong: it was replaced, the agreeing
    /// members slashed, the challenger repaid and rewarded.
    Overturned,
    /// The re-run reached no quorum (or could not be drawn): the result
    /// stands, the bond went back but for the base fee.
    Inconclusive,
}

impl ChallengeOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            ChallengeOutcome::Open => "open",
            ChallengeOutcome::Upheld => "upheld",
            ChallengeOutcome::Overturned => "overturned",
            ChallengeOutcome::Inconclusive => "inconclusive",
        }
    }
}

/// A challenge of a completed job (issue 21 §1); one per job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Challenge {
    pub challenger: Addr20,
    /// Escrowed as the re-run job's fee.
    pub bond: Coin,
    /// The job that re-runs it (a larger committee, freshly drawn).
    pub rerun_job: u64,
    pub filed_height: u64,
    pub outcome: ChallengeOutcome,
    /// Height of the block that settled the re-run (0 while open).
    #[serde(default)]
    pub resolved_height: u64,
    /// On an overturn: the result as the original committee settled it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub original_digest: Vec<i64>,
    /// On an overturn: what the agreeing members' slashes took, and what the
    /// challenger received on top of its bond.
    #[serde(default, skip_serializing_if = "Uint128::is_zero")]
    pub slashed: Uint128,
    #[serde(default, skip_serializing_if = "Uint128::is_zero")]
    pub reward: Uint128,
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
    /// What a third party needs to check the job (issue 21 §4), filled as
    /// the job goes: at submission, at the draw, at settlement. Omitted on
    /// jobs from before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provenance: Option<Provenance>,
    /// This job re-runs job N for a challenge: drawn with
    /// `challenge_committee_size` seats, its settlement resolves the challenge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub challenge_of: Option<u64>,
    /// The challenge of this job's result, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub challenge: Option<Challenge>,
}

impl Job {
    /// The id a job's digests are computed with (the seed of the projection
    /// of an output longer than `max_output_len`): its own, but a re-run's
    /// is its original's, so that the re-run's digests compare with the
    /// original result element by element.
    pub fn digest_seed(&self) -> u64 {
        self.challenge_of.unwrap_or(self.id)
    }
}

/// A job's provenance: with the job's own fields (model id, requester, fee,
/// committee, heights, result) it says what was asked, who was drawn from
/// what, and when each member answered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    /// The model's `spec_hash` when the job was accepted (hex).
    pub spec_hash: String,
    /// sha256 of the job's inputs as stored (their JSON), hex: the inputs
    /// leave state at settlement, their hash stays.
    pub inputs_hash: String,
    /// The beacon value the committee was drawn from, and the committee seed
    /// (`committee::seed(beacon, id)`), hex; empty before the draw.
    #[serde(default)]
    pub beacon: String,
    #[serde(default)]
    pub seed: String,
    /// Height of the block that drew the committee (0 before).
    #[serde(default)]
    pub drawn_height: u64,
    /// Per member that committed, in committee order: the heights that
    /// recorded its commitment and its reveal (0: none). Set at settlement.
    #[serde(default)]
    pub attested: Vec<Attested>,
}

/// When one member's commitment and reveal were recorded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attested {
    /// Consensus address, upper-case hex.
    pub address: String,
    pub commit_height: u64,
    pub reveal_height: u64,
    /// The reveal did not open the commitment.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub bad_reveal: bool,
    /// What the member said ran it ("onnxruntime/<version> <device>").
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub runtime: String,
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
    /// What the member said ran it (from its commitment; information only).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub runtime: String,
}

/// A fault as the `faults` query lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultRecord {
    pub job_id: u64,
    pub address: String,
    pub operator: Addr20,
    pub kind: FaultKind,
    pub height: u64,
    /// What the slash took (into the insurance pool; burned before it
    /// existed). Stored under its old name: the same bytes as before.
    #[serde(rename = "burned")]
    pub slashed: Uint128,
    pub jailed: bool,
}

/// Jobs submitted at a height: local (signed txs) and remote (IBC requests);
/// enforces `max_jobs_per_block` and `max_jobs_per_source`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockJobs {
    pub height: u64,
    pub local: u32,
    pub remote: u32,
}

/// One proposer's beacon hash chain (see `crate::beacon`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BeaconChain {
    /// Which chain of this validator (0, 1, …): a new anchor starts the next.
    pub epoch: u32,
    /// The last element recorded (the anchor at first).
    pub last: [u8; 32],
    /// Elements revealed since the anchor.
    pub used: u32,
}
