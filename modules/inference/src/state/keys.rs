//! Every table of the inference module: the only place that names one of its
//! storage namespaces (`inference/…`). Other crates read and write through the
//! functions of [`crate::state`], [`crate::jobs`] and [`crate::beacon`]
//! (`state::{job, model, inputs}`, `jobs::attestation`, ...).

use cw_storage_plus::{Item, Map};

use super::types::{Attestation, BeaconChain, BlockJobs, FaultRecord, InputTensor, Job, Model};
use crate::params::InferenceParams;

pub(crate) const PARAMS: Item<InferenceParams> = Item::new("inference/params");
pub(crate) const MODELS: Map<&str, Model> = Map::new("inference/models");
pub(crate) const NEXT_JOB_ID: Item<u64> = Item::new("inference/next_job");
pub(crate) const JOBS: Map<u64, Job> = Map::new("inference/jobs");
/// A live job's input tensors, apart from the job so that the hot paths
/// (extension checks, settlement) never load them; removed when the job settles.
pub(crate) const INPUTS: Map<u64, Vec<InputTensor>> = Map::new("inference/inputs");
pub(crate) const JOBS_BY_REQUESTER: Map<(&[u8], u64), ()> = Map::new("inference/by_requester");
/// Jobs not yet settled, keyed by deadline height then id.
pub(crate) const LIVE: Map<(u64, u64), ()> = Map::new("inference/live");
/// Jobs submitted at a height, waiting for their committee (FinalizeBlock of that height).
pub(crate) const UNASSIGNED: Map<u64, ()> = Map::new("inference/unassigned");
/// Jobs submitted in the current block, by source (see [`BlockJobs`]).
pub(crate) const BLOCK_JOBS: Item<BlockJobs> = Item::new("inference/block_jobs");
/// The job fee floor: at least `min_job_fee`; +12.5 % after every block whose
/// job slots were all taken (or one source's whole share of them), −12.5 %
/// (down to `min_job_fee`) after one at most half full. Job slots go to those
/// who pay for them, not to whoever is first.
pub(crate) const JOB_FEE_FLOOR: Item<cosmwasm_std::Uint128> = Item::new("inference/job_fee_floor");
/// One member's commitment and reveal for one job, by (job id, validator address).
pub(crate) const ATTESTATIONS: Map<(u64, &[u8]), Attestation> = Map::new("inference/attest");
pub(crate) const NEXT_FAULT: Item<u64> = Item::new("inference/next_fault");
/// Settled jobs by (height settled, id), for pruning after `job_retention_blocks`.
pub(crate) const SETTLED: Map<(u64, u64), ()> = Map::new("inference/settled");
pub(crate) const FAULTS: Map<u64, FaultRecord> = Map::new("inference/faults");
/// The randomness beacon after the last block (see [`crate::beacon`]).
/// (model id, validator operator) present = that validator serves the model.
pub(crate) const SERVERS: Map<(&str, &[u8]), ()> = Map::new("inference/servers");
pub(crate) const BEACON: Item<[u8; 32]> = Item::new("inference/beacon");
/// Each proposer's hash chain, by operator or proposer address.
pub(crate) const CHAINS: Map<&[u8], BeaconChain> = Map::new("inference/beacon_chains");
/// Completed jobs whose result is still provisional, by (last height of
/// their challenge window, id): final once the window closes (issue 21 §1).
pub(crate) const PROVISIONAL: Map<(u64, u64), ()> = Map::new("inference/provisional");

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// The storage layout, written out: a change to any namespace (a migration,
    /// a new app hash for the same history) must be a deliberate edit here.
    #[test]
    fn key_layout_snapshot() {
        let ns = |b: &[u8]| String::from_utf8(b.to_vec()).unwrap();
        let layout: Vec<(&str, String)> = vec![
            ("PARAMS", ns(PARAMS.as_slice())),
            ("MODELS", ns(MODELS.namespace_bytes())),
            ("NEXT_JOB_ID", ns(NEXT_JOB_ID.as_slice())),
            ("JOBS", ns(JOBS.namespace_bytes())),
            ("INPUTS", ns(INPUTS.namespace_bytes())),
            ("JOBS_BY_REQUESTER", ns(JOBS_BY_REQUESTER.namespace_bytes())),
            ("LIVE", ns(LIVE.namespace_bytes())),
            ("UNASSIGNED", ns(UNASSIGNED.namespace_bytes())),
            ("BLOCK_JOBS", ns(BLOCK_JOBS.as_slice())),
            ("JOB_FEE_FLOOR", ns(JOB_FEE_FLOOR.as_slice())),
            ("ATTESTATIONS", ns(ATTESTATIONS.namespace_bytes())),
            ("NEXT_FAULT", ns(NEXT_FAULT.as_slice())),
            ("SETTLED", ns(SETTLED.namespace_bytes())),
            ("FAULTS", ns(FAULTS.namespace_bytes())),
            ("SERVERS", ns(SERVERS.namespace_bytes())),
            ("BEACON", ns(BEACON.as_slice())),
            ("CHAINS", ns(CHAINS.namespace_bytes())),
            ("PROVISIONAL", ns(PROVISIONAL.namespace_bytes())),
        ];
        let got: Vec<(&str, &str)> = layout.iter().map(|(n, k)| (*n, k.as_str())).collect();
        assert_eq!(
            got,
            vec![
                ("PARAMS", "inference/params"),
                ("MODELS", "inference/models"),
                ("NEXT_JOB_ID", "inference/next_job"),
                ("JOBS", "inference/jobs"),
                ("INPUTS", "inference/inputs"),
                ("JOBS_BY_REQUESTER", "inference/by_requester"),
                ("LIVE", "inference/live"),
                ("UNASSIGNED", "inference/unassigned"),
                ("BLOCK_JOBS", "inference/block_jobs"),
                ("JOB_FEE_FLOOR", "inference/job_fee_floor"),
                ("ATTESTATIONS", "inference/attest"),
                ("NEXT_FAULT", "inference/next_fault"),
                ("SETTLED", "inference/settled"),
                ("FAULTS", "inference/faults"),
                ("SERVERS", "inference/servers"),
                ("BEACON", "inference/beacon"),
                ("CHAINS", "inference/beacon_chains"),
                ("PROVISIONAL", "inference/provisional"),
            ]
        );
        // Every table of this file is in the list above (no other file
        // declares one: scripts/arch/check.sh).
        let decls = |src: &str| {
            src.matches(concat!("= Item", "::new(\"")).count()
                + src.matches(concat!("= Map", "::new(\"")).count()
        };
        assert_eq!(decls(include_str!("keys.rs")), layout.len());
    }
}
