//! ibc-rs's host contexts over a block's state.
//!
//! [`IbcContext`] implements `ValidationContext`/`ExecutionContext` and the
//! client contexts 07-tendermint needs, reading and writing through the
//! transaction's storage view: ICS-24 paths go to the `ibc` sub-store
//! ([`crate::flat_key`]), bookkeeping that counterparties never prove (the
//! per-client height index, the host's own consensus states) to the app tree
//! ([`crate::keys`]). Values follow ibc-go's encodings where a counterparty
//! proves them: client and consensus states as protobuf `Any`, connection and
//! channel ends as their protobuf messages, sequences as 8 big-endian bytes,
//! packet commitments and acknowledgements as their hashes, receipts as `[1]`.
//!
//! # Invariants
//! - Reads and writes go only through `store`, so a failed message leaves
//!   nothing behind (its overlay is dropped by the tx pipeline).
//! - Host height and time come from the block being executed, never the clock.
//!
//! The trait implementations live in `client` (the client contexts) and `ibc_core`
//! (validation and execution of connections, channels and packets).

use core::time::Duration;

use cosmwasm_std::{Order, Storage};
use ibc::clients::tendermint::consensus_state::ConsensusState as TmConsensusState;
use ibc::core::client::context::ClientValidationContext;
use ibc::core::client::types::Height;
use ibc::core::commitment_types::specs::ProofSpecs;
use ibc::core::handler::types::events::IbcEvent;
use ibc::core::host::types::error::HostError;
use ibc::core::host::types::identifiers::{ChainId, ClientId, Sequence};
use ibc::core::host::types::path::ClientConsensusStatePath;
use ibc::primitives::Timestamp;

use crate::error::BlockDataError;
use crate::keys::{self, flat_key};

mod client;
mod ibc_core;

/// What the host knows about the block being executed.
#[derive(Debug, Clone)]
pub struct HostInfo {
    pub chain_id: ChainId,
    /// `Height{revision of chain_id, block height}`.
    pub height: Height,
    pub timestamp: Timestamp,
    /// The staking unbonding period: a counterparty's client of this chain must
    /// use it (ICS-03 `validate_self_client`).
    pub unbonding_period: Duration,
}

impl HostInfo {
    /// Host facts from block data; an error when the chain id is not a valid
    /// ICS-24 chain id, the height is 0 or the time is negative.
    pub fn new(
        chain_id: &str,
        height: u64,
        time_seconds: i64,
        time_nanos: i32,
        unbonding_seconds: u64,
    ) -> Result<HostInfo, BlockDataError> {
        let chain_id =
            ChainId::new(chain_id).map_err(|e| BlockDataError::ChainId(e.to_string()))?;
        let height = Height::new(chain_id.revision_number(), height)
            .map_err(|e| BlockDataError::Height(e.to_string()))?;
        let secs = u64::try_from(time_seconds).map_err(|_| BlockDataError::NegativeTime)?;
        let nanos = u32::try_from(time_nanos).map_err(|_| BlockDataError::NegativeNanos)?;
        let timestamp = Timestamp::from_unix_timestamp(secs, nanos)
            .map_err(|e| BlockDataError::Time(e.to_string()))?;
        Ok(HostInfo {
            chain_id,
            height,
            timestamp,
            unbonding_period: Duration::from_secs(unbonding_seconds),
        })
    }
}

/// Expected time per block, for ICS-03 delay periods in blocks.
pub const MAX_EXPECTED_TIME_PER_BLOCK: Duration = Duration::from_secs(30);

/// Proves an ICS-24 path at a committed height: `MerkleProof` bytes, or `None`
/// when that height is not available.
pub type Prover<'a> = &'a dyn Fn(u64, &[u8]) -> Option<Vec<u8>>;

/// ibc-rs's view of the chain during one IBC message (or one query, with a
/// [`Prover`] over committed heights).
pub struct IbcContext<'a> {
    pub(crate) store: &'a mut dyn Storage,
    pub(crate) prover: Option<Prover<'a>>,
    host: HostInfo,
    proof_specs: ProofSpecs,
    upgrade_path: Vec<String>,
    /// Events ibc-rs emitted, in order.
    pub events: Vec<IbcEvent>,
    /// Log lines ibc-rs emitted.
    pub logs: Vec<String>,
}

fn get_err(what: &str) -> impl FnOnce(prost::DecodeError) -> HostError + '_ {
    move |e| HostError::failed_to_retrieve(format!("{what} does not decode: {e}"))
}

impl<'a> IbcContext<'a> {
    pub fn new(store: &'a mut dyn Storage, host: HostInfo) -> Self {
        IbcContext {
            store,
            prover: None,
            host,
            proof_specs: crate::commitment::proof_specs(),
            upgrade_path: keys::upgrade_path(),
            events: Vec::new(),
            logs: Vec::new(),
        }
    }

    /// For queries: proofs come from `prover`.
    pub fn with_prover(mut self, prover: Prover<'a>) -> Self {
        self.prover = Some(prover);
        self
    }

    pub(crate) fn get_path(&self, path: &impl ToString) -> Option<Vec<u8>> {
        self.store.get(&flat_key(path.to_string().as_bytes()))
    }

    fn must_get(&self, path: &impl ToString) -> Result<Vec<u8>, HostError> {
        self.get_path(path)
            .ok_or_else(|| HostError::missing_state(format!("no {}", path.to_string())))
    }

    fn set_path(&mut self, path: &impl ToString, value: &[u8]) {
        self.store
            .set(&flat_key(path.to_string().as_bytes()), value)
    }

    fn remove_path(&mut self, path: &impl ToString) {
        self.store.remove(&flat_key(path.to_string().as_bytes()))
    }

    fn get_u64(&self, path: &impl ToString) -> Result<Option<u64>, HostError> {
        match self.get_path(path) {
            None => Ok(None),
            Some(v) => {
                let arr: [u8; 8] = v.as_slice().try_into().map_err(|_| {
                    HostError::failed_to_retrieve(format!("{} is not 8 bytes", path.to_string()))
                })?;
                Ok(Some(u64::from_be_bytes(arr)))
            }
        }
    }

    fn increase(&mut self, path: &impl ToString) -> Result<(), HostError> {
        let n = self.get_u64(path)?.unwrap_or(0);
        let next = n
            .checked_add(1)
            .ok_or_else(|| HostError::failed_to_store(format!("{} overflows", path.to_string())))?;
        self.set_path(path, &next.to_be_bytes());
        Ok(())
    }

    fn sequence(&self, path: &impl ToString) -> Result<Sequence, HostError> {
        self.get_u64(path)?
            .map(Sequence::from)
            .ok_or_else(|| HostError::missing_state(format!("no {}", path.to_string())))
    }

    /// Heights with a consensus state of `client_id`, in `[lo, hi)` of the index.
    fn indexed_heights(
        &self,
        client_id: &ClientId,
        lo: Vec<u8>,
        hi: Vec<u8>,
        order: Order,
    ) -> impl Iterator<Item = Result<Height, HostError>> + '_ {
        let prefix_len = keys::consensus_heights_prefix(client_id.as_str()).len();
        self.store
            .range(Some(&lo), Some(&hi), order)
            .map(move |(k, _)| {
                let suffix = k.get(prefix_len..).unwrap_or_default();
                let (rev, h) = suffix.split_at(suffix.len().min(8));
                let rev = <[u8; 8]>::try_from(rev);
                let h = <[u8; 8]>::try_from(h);
                match (rev, h) {
                    (Ok(r), Ok(h)) => Height::new(u64::from_be_bytes(r), u64::from_be_bytes(h))
                        .map_err(|e| HostError::failed_to_retrieve(e.to_string())),
                    _ => Err(HostError::failed_to_retrieve(
                        "corrupt consensus height index",
                    )),
                }
            })
    }

    fn neighbour_consensus_state(
        &self,
        client_id: &ClientId,
        height: &Height,
        next: bool,
    ) -> Result<Option<TmConsensusState>, HostError> {
        let prefix = keys::consensus_heights_prefix(client_id.as_str());
        let at = keys::consensus_height(
            client_id.as_str(),
            height.revision_number(),
            height.revision_height(),
        );
        let found = if next {
            let mut after = at;
            after.push(0);
            self.indexed_heights(
                client_id,
                after,
                keys::prefix_end(&prefix),
                Order::Ascending,
            )
            .next()
        } else {
            self.indexed_heights(client_id, prefix, at, Order::Descending)
                .next()
        };
        match found {
            None => Ok(None),
            Some(h) => {
                let h = h?;
                let path = ClientConsensusStatePath::new(
                    client_id.clone(),
                    h.revision_number(),
                    h.revision_height(),
                );
                self.consensus_state(&path).map(Some)
            }
        }
    }
}
