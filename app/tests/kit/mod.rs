//! The app-test kit: a [`TestNet`] of in-process nodes, each a real
//! `VerdictApp` over its own sled store, built through the real genesis path
//! (InitChain with bank balances and either gentxs, so the validators are
//! staking's, or CometBFT's genesis validators) and driven height by height
//! through the ABCI methods in the order CometBFT calls them.
//!
//! ```ignore
//! let mut net = TestNet::builder()
//!     .validators(4)              // or .behaviours(&[Honest, Wrong, ..]) for attestors
//!     .gentxs()                   // or .genesis_validators_only()
//!     .inference_params(json!({"committee_size": 4}))
//!     .start();                   // .build() stops at genesis
//! let tx = net.user_tx(msgs);
//! let r = net.run_height(vec![tx]);
//! ```
//!
//! - `keys`: the fixed keys (user, operators, consensus keys), block times,
//!   gentxs and attestors;
//! - `builder`: the [`TestNetBuilder`] and the genesis it writes;
//! - `net`: nodes, heights (propose, process, extend/verify, finalize, commit),
//!   restarts from disk, CometBFT's view of the validator set;
//! - `query`: ABCI queries (JSON, protobuf, proven IBC paths) and balances;
//! - `tx`: signed user transactions;
//! - `inference`: the sidecar stand-in (each node's attestor is fed results
//!   directly; the e2e tests use the real one), which can make a node lie,
//!   reveal badly, be slow or copy, and the model/job helpers.
#![allow(dead_code, unused_imports)]

mod builder;
mod http;
mod inference;
mod keys;
mod net;
mod query;
mod tx;

pub use builder::{Genesis, TestNetBuilder};
pub use http::{http, serve_grpc, serve_rest};
pub use keys::*;
pub use net::{Node, NodeApp, TestNet};
pub use query::*;

pub use std::collections::{BTreeMap, BTreeSet};

pub use ed25519_consensus::SigningKey;
pub use prost::Message;
pub use serde_json::{json, Value};
pub use tendermint_abci::Application;
pub use tendermint_proto::google::protobuf::Timestamp;
pub use tendermint_proto::v0_38::abci::{
    response_process_proposal::ProposalStatus, response_verify_vote_extension::VerifyStatus,
    CommitInfo, ExecTxResult, ExtendedCommitInfo, ExtendedVoteInfo, RequestCheckTx,
    RequestExtendVote, RequestFinalizeBlock, RequestInfo, RequestInitChain, RequestPrepareProposal,
    RequestProcessProposal, RequestQuery, RequestVerifyVoteExtension, ResponseFinalizeBlock,
    ResponseQuery, Validator, ValidatorUpdate, VoteInfo,
};
pub use tendermint_proto::v0_38::crypto::{public_key::Sum, PublicKey};
pub use tendermint_proto::v0_38::types::{AbciParams, ConsensusParams};
pub use verdict_app::app::tendermint_address;
pub use verdict_app::attestor::{Attestor, AttestorFault};
pub use verdict_app::store::Store;
pub use verdict_app::txbuild::{msg_send, sign_tx, simulate_tx, AccountKey, TxSpec};
pub use verdict_app::vote_ext::extension_sign_bytes;
pub use verdict_app::VerdictApp;
pub use verdict_core::coin::Coin;
pub use verdict_proto::app::v1::VoteExtension;
pub use verdict_proto::inference::v1 as pb;

/// The name `app_hash.rs` (whose sequence never changes) knows the net by.
pub type Net = TestNet;

/// The chain id of the inference preset ([`TestNet::inference`]).
pub const CHAIN: &str = "verdict-inference-test";
/// The builder's default chain id.
pub const TEST_CHAIN: &str = "verdict-test";
/// The model the inference helpers register.
pub const MODEL: &str = "d314a04eacd41b4e02fa9d89d5ab913db15ab8c50faf4db94a1b3ea2d9210200";
/// Voting power of a validator with the default 100 VERD self-bond.
pub const POWER: i64 = 100;
/// Voting power of each of CometBFT's genesis validators
/// ([`TestNetBuilder::genesis_validators_only`]).
pub const GENESIS_POWER: i64 = 10;
/// The default genesis time, in seconds; height `h` is `h` seconds later.
pub const GENESIS_TIME: i64 = 1_700_000_000;

/// How a node's "sidecar" answers.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Behaviour {
    Honest,
    Wrong,
    /// Answers only after the commit phase closed (and reports 1 ms).
    Slow,
    /// Never produces a result.
    Silent,
    /// Commits honestly, then reveals a different digest.
    BadReveal,
    /// verdictd's `copy` fault: never runs a job, takes the first public answer.
    Copier,
    /// A rational colluder: lies (the same way as its fellows, another way
    /// than `Wrong`)
    /// only on jobs whose committee the colluders hold more than 2/3 of, and
    /// answers honestly everywhere else (so it is never outvoted and jailed).
    Colluder,
    /// Answers jobs truly and challenges' re-runs falsely (it overturns its
    /// own results where it is the re-run).
    Flipper,
}

pub use Behaviour::*;

/// The attributes of every `kind` event of a FinalizeBlock response (its own
/// events, not its transactions').
pub fn events(r: &ResponseFinalizeBlock, kind: &str) -> Vec<BTreeMap<String, String>> {
    r.events
        .iter()
        .filter(|e| e.r#type == kind)
        .map(|e| {
            e.attributes
                .iter()
                .map(|a| (a.key.clone(), a.value.clone()))
                .collect()
        })
        .collect()
}
