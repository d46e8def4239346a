//! The host's own consensus states, which ICS-03 needs to check a
//! counterparty's client of this chain (`host_consensus_state`).
//!
//! A light client of this chain at height `h` sees header `h`: its root is the
//! app hash after `h-1` (what header `h` carries), its time the block time, and
//! its next-validators hash the header's. FinalizeBlock(h) has all three from
//! the request and committed state, so every node records the same bytes.

use cosmwasm_std::Storage;
use ibc::clients::tendermint::consensus_state::ConsensusState as TmConsensusState;
use ibc::clients::tendermint::types::ConsensusState as ConsensusStateType;
use ibc::core::commitment_types::commitment::CommitmentRoot;
use ibc::core::host::types::error::HostError;
use ibc::primitives::proto::Any;
use prost::Message;

use crate::error::BlockDataError;
use crate::keys;

/// How many heights of host consensus states are kept (the Cosmos SDK's
/// `historical_entries` default); older ones are pruned as blocks pass.
pub const HISTORICAL_ENTRIES: u64 = 10_000;

/// What header `height` of this chain commits to, from FinalizeBlock's request.
pub struct BlockCommitment<'a> {
    pub height: u64,
    pub time_seconds: i64,
    pub time_nanos: i32,
    /// App hash of `height - 1` (the header's `app_hash`).
    pub app_hash: &'a [u8],
    pub next_validators_hash: &'a [u8],
}

/// Records the host consensus state of `b.height` and prunes the one that fell
/// out of the window. Errors only on malformed block data from consensus.
pub fn record_block(
    store: &mut dyn Storage,
    b: &BlockCommitment<'_>,
) -> Result<(), BlockDataError> {
    let secs = b.time_seconds;
    let nanos = u32::try_from(b.time_nanos).map_err(|_| BlockDataError::NegativeNanos)?;
    let time = tendermint::Time::from_unix_timestamp(secs, nanos)
        .map_err(|e| BlockDataError::Time(e.to_string()))?;
    let next_vals =
        tendermint::Hash::from_bytes(tendermint::hash::Algorithm::Sha256, b.next_validators_hash)
            .map_err(|e| BlockDataError::NextValidatorsHash(e.to_string()))?;
    let cs: TmConsensusState =
        ConsensusStateType::new(CommitmentRoot::from_bytes(b.app_hash), time, next_vals).into();
    let any: Any = cs.into();
    store.set(&keys::host_consensus(b.height), &any.encode_to_vec());
    if let Some(old) = b.height.checked_sub(HISTORICAL_ENTRIES) {
        store.remove(&keys::host_consensus(old));
    }
    Ok(())
}

/// The host consensus state recorded for `height`, if still kept.
pub fn consensus_state(
    store: &dyn Storage,
    height: u64,
) -> Result<Option<TmConsensusState>, HostError> {
    let Some(bytes) = store.get(&keys::host_consensus(height)) else {
        return Ok(None);
    };
    let any = Any::decode(bytes.as_slice()).map_err(|e| {
        HostError::failed_to_retrieve(format!("host consensus state {height}: {e}"))
    })?;
    TmConsensusState::try_from(any)
        .map(Some)
        .map_err(|e| HostError::failed_to_retrieve(format!("host consensus state {height}: {e}")))
}
