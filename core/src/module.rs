//! The one shape every module has.
//!
//! A module is a type that implements [`Module`]: its genesis section, its
//! messages and how they run, its query routes, its module accounts, its
//! invariants and its part of each block (begin and end). The app lists its
//! modules once, in order (`app/src/modules.rs`); the message enum, the
//! dispatch, the genesis struct, the route table, the blocked recipients and the
//! block phases all derive from that list, so they cannot drift apart.
//!
//! Order is consensus: genesis sections are initialised, begin-block hooks run
//! and end-block hooks run in list order. A module's hooks get the storage of
//! the block being decided and the facts of that block ([`Block`]); they never
//! see the wall clock, the network or anything another node could not see.

use std::convert::Infallible;
use std::fmt::Debug;

pub use cosmrs::Any;
use cosmwasm_std::Storage;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use verdict_proto::app::v1::VoteExtension;

use crate::address::Addr;
use crate::ctx::{BlockInfo, Ctx};
use crate::event::Event;
use crate::AbciError;

/// What a query handler answers: the response's protobuf bytes, or an ABCI
/// code with a log.
pub type QueryAnswer = Result<Vec<u8>, QueryError>;

/// A query that failed, with the SDK code clients key on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{log}")]
pub struct QueryError {
    pub code: u32,
    pub log: String,
}

impl QueryError {
    pub fn new(code: u32, log: impl Into<String>) -> Self {
        QueryError {
            code,
            log: log.into(),
        }
    }
}

impl<E: AbciError> From<E> for QueryError {
    fn from(e: E) -> Self {
        QueryError::new(e.code(), e.to_string())
    }
}

/// Lifts a module's typed query result into a [`QueryAnswer`].
pub fn answer<E: AbciError>(r: Result<Vec<u8>, E>) -> QueryAnswer {
    r.map_err(QueryError::from)
}

/// A query handler over committed state: request bytes in, response bytes out.
pub type QueryFn = fn(&dyn Storage, &[u8]) -> QueryAnswer;

/// One gRPC method a module serves (`/cosmos.bank.v1beta1.Query/Balance`).
#[derive(Clone, Copy)]
pub struct Route {
    pub path: &'static str,
    pub handler: QueryFn,
}

/// A failure in a genesis or block hook. These end in a halt of the node (the
/// state would otherwise fork), so they carry the reason for the operator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{module} {phase}: {reason}")]
pub struct HookError {
    pub module: &'static str,
    pub phase: &'static str,
    pub reason: String,
}

impl HookError {
    pub fn new(module: &'static str, phase: &'static str, reason: impl std::fmt::Display) -> Self {
        HookError {
            module,
            phase,
            reason: reason.to_string(),
        }
    }
}

/// A validator's vote in the decided last commit (CometBFT `VoteInfo`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockVote {
    /// CometBFT consensus address (sha256(ed25519 pubkey)[..20]).
    pub address: [u8; 20],
    pub power: u64,
    pub flag: BlockIdFlag,
}

/// CometBFT's `BlockIDFlag`: what a validator's precommit was for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockIdFlag {
    /// No precommit received (1).
    Absent,
    /// A precommit for the block (2).
    Commit,
    /// A precommit for nil (3).
    Nil,
    /// Any other value a future CometBFT may send.
    Unknown(i32),
}

impl BlockIdFlag {
    pub fn from_i32(v: i32) -> Self {
        match v {
            1 => BlockIdFlag::Absent,
            2 => BlockIdFlag::Commit,
            3 => BlockIdFlag::Nil,
            x => BlockIdFlag::Unknown(x),
        }
    }
}

/// Evidence of a double sign CometBFT hands over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Misbehavior {
    pub address: [u8; 20],
    /// Height of the infraction.
    pub height: i64,
    /// The validator's power at that height.
    pub power: i64,
}

/// What the proposer's injected tx[0] carried, after the app's size and format
/// checks: the vote extensions of the previous height (the first per
/// validator that decodes) and the proposer's randomness-beacon contribution.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Extensions {
    pub votes: Vec<([u8; 20], VoteExtension)>,
    pub beacon_reveal: Vec<u8>,
    pub beacon_anchor: Vec<u8>,
}

/// The facts of the block being decided, as every node sees them.
pub struct Block<'a> {
    pub info: &'a BlockInfo,
    /// The app hash this block's header carries (state after the previous block).
    pub header_app_hash: &'a [u8],
    pub next_validators_hash: &'a [u8],
    pub proposer: &'a [u8],
    pub last_commit: &'a [BlockVote],
    pub misbehavior: &'a [Misbehavior],
    /// `None` when the block carries no (decodable) injected tx[0].
    pub extensions: Option<&'a Extensions>,
}

/// A change to CometBFT's validator set (power 0 removes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValidatorUpdate {
    pub pubkey: [u8; 32],
    pub power: u64,
}

/// What an end-block hook hands back to the app.
#[derive(Debug, Default)]
pub struct EndBlock {
    pub events: Vec<Event>,
    pub validator_updates: Vec<ValidatorUpdate>,
}

impl From<Vec<Event>> for EndBlock {
    fn from(events: Vec<Event>) -> Self {
        EndBlock {
            events,
            validator_updates: vec![],
        }
    }
}

/// A module's decoded message.
pub trait ModuleMsg: Debug + Clone + PartialEq {
    /// The account that must sign.
    fn signer(&self) -> Addr;
    /// The `Any` type URL it arrived as.
    fn type_url(&self) -> &str;
    /// Accounts this message pays into (checked against module accounts).
    fn recipients(&self) -> Vec<Addr> {
        vec![]
    }
}

/// Modules without messages use `Infallible`.
impl ModuleMsg for Infallible {
    fn signer(&self) -> Addr {
        match *self {}
    }
    fn type_url(&self) -> &str {
        match *self {}
    }
}

/// A genesis section for modules that have nothing to configure: `{}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoGenesis {}

/// Every module's interface to the app. All methods are associated functions:
/// a module's state lives in the store, never in the module value.
pub trait Module {
    /// Lower-case name: the genesis section, the `module` attribute of message
    /// events, and the prefix of the module's store keys.
    const NAME: &'static str;
    /// The module's genesis section.
    type Genesis: Serialize + DeserializeOwned + Default + Clone + PartialEq + Debug;
    /// The module's messages (`Infallible` when it has none).
    type Msg: ModuleMsg;
    /// The typed error its messages end in (with its ABCI code).
    type Error: AbciError + Debug;

    /// Checks a genesis section without touching state.
    fn validate_genesis(_g: &Self::Genesis) -> Result<(), String> {
        Ok(())
    }

    /// Writes the genesis section into state.
    fn init_genesis(_s: &mut dyn Storage, _g: &Self::Genesis) -> Result<(), HookError> {
        Ok(())
    }

    /// The genesis section that describes the module's state now, as far as
    /// the section's format can express it (a module without state to carry
    /// over returns its default section). Required, so that no module exports
    /// defaults by accident.
    fn export_genesis(s: &dyn Storage) -> Result<Self::Genesis, HookError>;

    /// The module's accounts: balances that other state must match, so users
    /// cannot send to them.
    fn module_accounts() -> Vec<Addr> {
        vec![]
    }

    /// Checks the module's books (run after every block with
    /// `--check-invariants`).
    fn check_invariants(_s: &dyn Storage) -> Result<(), String> {
        Ok(())
    }

    /// `Ok(None)` when the type URL is not this module's.
    fn decode_msg(_any: &Any) -> Result<Option<Self::Msg>, Self::Error> {
        Ok(None)
    }

    /// Runs one message; the answer is the message's response `Any`.
    fn execute(ctx: &mut Ctx<'_>, msg: &Self::Msg) -> Result<Any, Self::Error>;

    /// The gRPC query methods the module answers over committed state.
    fn routes() -> &'static [Route] {
        &[]
    }

    /// Before the block's transactions.
    fn begin_block(_s: &mut dyn Storage, _b: &Block<'_>) -> Result<Vec<Event>, HookError> {
        Ok(vec![])
    }

    /// After the block's transactions.
    fn end_block(_s: &mut dyn Storage, _b: &Block<'_>) -> Result<EndBlock, HookError> {
        Ok(EndBlock::default())
    }
}

/// Modules without messages have no message errors either.
impl AbciError for Infallible {
    fn code(&self) -> u32 {
        match *self {}
    }
}
