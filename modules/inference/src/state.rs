//! Typed state of the inference module: the records it keeps (defined in
//! `types`) and the functions other modules read them with. The tables
//! themselves are in `keys` (this crate's only); the job lifecycle writes
//! attestation makes go through [`crate::jobs`].

use cosmwasm_std::{Order, StdResult, Storage, Uint128};
use verdict_core::address::Addr;

use crate::params::InferenceParams;

pub(crate) mod keys;
pub(crate) mod types;
pub(crate) use keys::{
    ATTESTATIONS, BEACON, BLOCK_JOBS, CHAINS, FAULTS, INPUTS, JOBS, JOBS_BY_REQUESTER,
    JOB_FEE_FLOOR, LIVE, MODELS, NEXT_FAULT, NEXT_JOB_ID, PARAMS, PROVISIONAL, SERVERS, SETTLED,
    UNASSIGNED,
};
pub use types::{
    Addr20, Attestation, Attested, BlockJobs, Challenge, ChallengeOutcome, Fault, FaultKind,
    FaultRecord, InputTensor, Job, JobResult, JobStatus, Member, Model, Provenance, Spec,
};

/// The escrow of job fees.
pub fn escrow() -> Addr {
    Addr::module("inference")
}

/// The insurance pool: every inference slash lands here (not a burn); it
/// compensates the requesters of faulty jobs (`compensation_fee_multiple`).
pub fn insurance_pool() -> Addr {
    Addr::module("inference_insurance")
}

/// The fee a job must carry now (see `keys::JOB_FEE_FLOOR`).
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

/// At most this many settled jobs are pruned per block (bounded work).
pub const PRUNE_PER_BLOCK: usize = 64;

/// A job by id: how other modules read jobs (the tables stay this crate's).
pub fn job(s: &dyn Storage, id: u64) -> StdResult<Option<Job>> {
    JOBS.may_load(s, id)
}

/// A registered model by id.
pub fn model(s: &dyn Storage, id: &str) -> StdResult<Option<Model>> {
    MODELS.may_load(s, id)
}

/// Every registered model id, in order (for sidecars to fetch).
pub fn model_ids(s: &dyn Storage) -> StdResult<Vec<String>> {
    MODELS
        .keys(s, None, None, Order::Ascending)
        .collect::<StdResult<_>>()
}

/// The operators that declared serving `model_id`, in operator order.
pub fn servers(s: &dyn Storage, model_id: &str) -> StdResult<Vec<Addr20>> {
    SERVERS
        .prefix(model_id)
        .keys(s, None, None, Order::Ascending)
        .map(|k| {
            k.and_then(|v| {
                <Addr20>::try_from(v.as_slice())
                    .map_err(|_| cosmwasm_std::StdError::msg("a server key is not 20 bytes"))
            })
        })
        .collect()
}

/// Records that `operator` serves (or no longer serves) `model_id`.
pub fn set_serving(
    s: &mut dyn Storage,
    model_id: &str,
    operator: &Addr20,
    serve: bool,
) -> StdResult<()> {
    if serve {
        SERVERS.save(s, (model_id, operator), &())
    } else {
        SERVERS.remove(s, (model_id, operator));
        Ok(())
    }
}

/// A live job's input tensors (gone once it settles).
pub fn inputs(s: &dyn Storage, id: u64) -> StdResult<Option<Vec<InputTensor>>> {
    INPUTS.may_load(s, id)
}

/// Jobs waiting for their committee (drawn at the end of the next block), by id.
pub fn unassigned(s: &dyn Storage) -> StdResult<Vec<u64>> {
    UNASSIGNED.keys(s, None, None, Order::Ascending).collect()
}

/// Test support for other crates: write a job as settlement would have left it.
#[cfg(any(test, feature = "testing"))]
pub fn put_job_for_test(s: &mut dyn Storage, job: &Job) -> StdResult<()> {
    JOBS.save(s, job.id, job)
}

/// Test support for other crates: a job as submission leaves it (stored and
/// in the live index, so attestation settles it), its committee given.
#[cfg(any(test, feature = "testing"))]
pub fn put_live_job_for_test(s: &mut dyn Storage, job: &Job) -> StdResult<()> {
    JOBS.save(s, job.id, job)?;
    LIVE.save(s, (job.deadline_height, job.id), &())
}

/// Test support for other crates: register a model without a transaction.
#[cfg(any(test, feature = "testing"))]
pub fn put_model_for_test(s: &mut dyn Storage, model: &Model) -> StdResult<()> {
    MODELS.save(s, &model.id, model)
}

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

/// The escrow holds, in every denom (the bond denom and each listed fee
/// denom), exactly the fees of the live jobs.
pub fn check_invariants(s: &dyn Storage, bond_denom: &str) -> Result<(), String> {
    let mut sums: std::collections::BTreeMap<String, Uint128> = Default::default();
    sums.insert(bond_denom.to_string(), Uint128::zero());
    for f in params(s).fee_denoms {
        sums.insert(f.denom, Uint128::zero());
    }
    for k in LIVE.keys(s, None, None, Order::Ascending) {
        let (_, id) = k.map_err(|e| e.to_string())?;
        let job = JOBS.load(s, id).map_err(|e| e.to_string())?;
        let e = sums.entry(job.fee.denom.clone()).or_default();
        *e = e.checked_add(job.fee.amount).map_err(|e| e.to_string())?;
    }
    for (denom, sum) in sums {
        let held = verdict_bank::Bank::balance(s, &escrow(), &denom).map_err(|e| e.to_string())?;
        if held != sum {
            return Err(format!(
                "inference escrow holds {held}{denom}, live jobs' fees sum to {sum}{denom}"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use cosmwasm_std::testing::MockStorage;
    use cosmwasm_std::to_json_vec;
    use serde::Serialize;

    use super::*;

    /// `FaultRecord` and `Fault` as they were with the kind as a string.
    #[derive(Serialize)]
    struct OldFaultRecord {
        job_id: u64,
        address: String,
        operator: Addr20,
        kind: String,
        height: u64,
        burned: Uint128,
        jailed: bool,
    }

    #[derive(Serialize)]
    struct OldFault {
        address: String,
        operator: Addr20,
        kinds: Vec<String>,
    }

    /// `FaultKind` changed the type, not a byte of state or of an event.
    #[test]
    fn fault_kinds_store_the_same_bytes_as_the_strings_they_replaced() {
        for (kind, name) in [
            (FaultKind::WrongOutput, "wrong_output"),
            (FaultKind::BadReveal, "bad_reveal"),
        ] {
            assert_eq!(kind.as_str(), name);
            assert_eq!(kind.to_string(), name);
            let new = FaultRecord {
                job_id: 7,
                address: "AB".repeat(20),
                operator: [3; 20],
                kind,
                height: 99,
                slashed: Uint128::new(12_345),
                jailed: true,
            };
            let old = OldFaultRecord {
                job_id: 7,
                address: "AB".repeat(20),
                operator: [3; 20],
                kind: name.into(),
                height: 99,
                burned: Uint128::new(12_345),
                jailed: true,
            };
            let mut s = MockStorage::new();
            let id = record_fault(&mut s, &new).unwrap();
            let stored = s
                .get(&[&[0, 16][..], b"inference/faults", &id.to_be_bytes()].concat())
                .unwrap();
            assert_eq!(stored, to_json_vec(&old).unwrap());
            assert_eq!(
                cosmwasm_std::from_json::<FaultRecord>(&stored).unwrap(),
                new
            );
            let fault = Fault {
                address: "CD".into(),
                operator: [4; 20],
                kinds: vec![kind, FaultKind::BadReveal],
                digest: vec![],
                slashed: Uint128::zero(),
            };
            let old_fault = OldFault {
                address: "CD".into(),
                operator: [4; 20],
                kinds: vec![name.into(), "bad_reveal".into()],
            };
            assert_eq!(
                to_json_vec(&fault).unwrap(),
                to_json_vec(&old_fault).unwrap()
            );
        }
        // And the bytes themselves, written out once.
        let r = FaultRecord {
            job_id: 1,
            address: "A".into(),
            operator: [0; 20],
            kind: FaultKind::WrongOutput,
            height: 2,
            slashed: Uint128::zero(),
            jailed: false,
        };
        assert_eq!(
            String::from_utf8(to_json_vec(&r).unwrap()).unwrap(),
            r#"{"job_id":1,"address":"A","operator":[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0],"kind":"wrong_output","height":2,"burned":"0","jailed":false}"#
        );
    }
}
