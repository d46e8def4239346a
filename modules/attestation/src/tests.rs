#![allow(clippy::arithmetic_side_effects, clippy::unwrap_used)]
//! Tests of the module through its public functions, on a `MockStorage` set
//! up with the inference crate's test helpers: `extension` (building and
//! checking vote extensions), `settlement` (jobs through commit, reveal and
//! settlement), `tally` (properties of the pure decision).

mod extension;
mod settlement;
mod tally;

use std::collections::BTreeMap;

use cosmwasm_std::testing::MockStorage;
use cosmwasm_std::Binary;
use proptest::prelude::*;
use prost::Message;
use verdict_core::coin::Coin;
use verdict_inference::jobs;
use verdict_inference::state::{
    self as inf, Attestation, FaultKind, Job, JobStatus, Member, Model,
};
use verdict_proto::app::v1::{JobCommitment, JobReveal, VoteExtension};

use crate::digest::commitment;
use crate::{
    build_extension, check_against_state, check_payload, process_block, LocalJob, NextBlock,
};

const ME: [u8; 20] = [7; 20];
const MODEL: &str = "m";

fn member(a: [u8; 20]) -> Member {
    Member {
        address: hex::encode_upper(a),
        operator: a,
        power: 10,
        seats: 1,
    }
}

fn setup(s: &mut MockStorage, max_output_len: u32) {
    inf::put_model_for_test(
        s,
        &Model {
            id: MODEL.into(),
            name: "m".into(),
            owner: [0; 20],
            inputs: vec![],
            outputs: vec![],
            tolerance_nano: 1000,
            rtol_nano: 100_000,
            input_range: None,
            max_output_len,
            registered_height: 1,
            uris: vec![],
            size_bytes: 0,
        },
    )
    .unwrap();
}

fn job(id: u64, committee: Vec<Member>, status: JobStatus) -> Job {
    Job {
        id,
        requester: [1; 20],
        model_id: MODEL.into(),
        max_latency_ms: 1000,
        fee: Coin::new(0, "uverd"),
        submitted_height: 1,
        submitted_time_ms: 0,
        commit_deadline: 100,
        commit_closed_height: 0,
        deadline_height: 1000,
        committee,
        status,
        result: None,
        provenance: None,
        challenge_of: None,
        challenge: None,
    }
}

/// A plain job for tests elsewhere in the crate.
pub(crate) fn job_for_digest_test() -> Job {
    job(1, vec![], JobStatus::Pending)
}

fn local(digest: Vec<i64>, salt: u8) -> LocalJob {
    LocalJob {
        digest,
        latency_ms: 3,
        salt: vec![salt; 16],
        runtime: "onnxruntime/1.22.0 cpu".into(),
    }
}

/// A job stored as submission and committee assignment leave it, not live.
fn put(s: &mut MockStorage, j: &Job) {
    inf::put_job_for_test(s, j).unwrap();
}

/// A job stored and live (settlement looks at it).
fn put_live(s: &mut MockStorage, j: &Job) {
    inf::put_live_job_for_test(s, j).unwrap();
}

/// A job that must exist.
fn load(s: &MockStorage, id: u64) -> Job {
    inf::job(s, id).unwrap().unwrap()
}
