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

use core::time::Duration;

use cosmwasm_std::{Order, Storage};
use ibc::clients::tendermint::client_state::ClientState as TmClientState;
use ibc::clients::tendermint::consensus_state::ConsensusState as TmConsensusState;
use ibc::core::channel::types::channel::ChannelEnd;
use ibc::core::channel::types::commitment::{AcknowledgementCommitment, PacketCommitment};
use ibc::core::channel::types::packet::Receipt;
use ibc::core::client::context::{
    ClientExecutionContext, ClientValidationContext, ExtClientValidationContext,
};
use ibc::core::client::types::Height;
use ibc::core::commitment_types::commitment::CommitmentPrefix;
use ibc::core::commitment_types::specs::ProofSpecs;
use ibc::core::connection::types::ConnectionEnd;
use ibc::core::handler::types::events::IbcEvent;
use ibc::core::host::types::error::HostError;
use ibc::core::host::types::identifiers::{ChainId, ClientId, ConnectionId, Sequence};
use ibc::core::host::types::path::{
    AckPath, ChannelEndPath, ClientConnectionPath, ClientConsensusStatePath, ClientStatePath,
    ClientUpdateHeightPath, ClientUpdateTimePath, CommitmentPath, ConnectionPath,
    NextChannelSequencePath, NextClientSequencePath, NextConnectionSequencePath, ReceiptPath,
    SeqAckPath, SeqRecvPath, SeqSendPath,
};
use ibc::core::host::{ExecutionContext, ValidationContext};
use ibc::cosmos_host::ValidateSelfClientContext;
use ibc::primitives::proto::{Any, Protobuf};
use ibc::primitives::{Signer, Timestamp};
use prost::Message;

use crate::{flat_key, keys, STORE_KEY};

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
    /// Host facts from block data; `None` when the chain id is not a valid ICS-24
    /// chain id or the height is 0.
    pub fn new(
        chain_id: &str,
        height: u64,
        time_seconds: i64,
        time_nanos: i32,
        unbonding_seconds: u64,
    ) -> Result<HostInfo, String> {
        let chain_id = ChainId::new(chain_id).map_err(|e| format!("chain id: {e}"))?;
        let height = Height::new(chain_id.revision_number(), height)
            .map_err(|e| format!("host height: {e}"))?;
        let secs = u64::try_from(time_seconds).map_err(|_| "negative block time".to_string())?;
        let nanos = u32::try_from(time_nanos).map_err(|_| "negative block nanos".to_string())?;
        let timestamp =
            Timestamp::from_unix_timestamp(secs, nanos).map_err(|e| format!("block time: {e}"))?;
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
            proof_specs: crate::proof_specs(),
            upgrade_path: crate::upgrade_path(),
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

impl ClientValidationContext for IbcContext<'_> {
    type ClientStateRef = TmClientState;
    type ConsensusStateRef = TmConsensusState;

    fn client_state(&self, client_id: &ClientId) -> Result<TmClientState, HostError> {
        let bytes = self.must_get(&ClientStatePath::new(client_id.clone()))?;
        let any = Any::decode(bytes.as_slice()).map_err(get_err("client state"))?;
        TmClientState::try_from(any)
            .map_err(|e| HostError::failed_to_retrieve(format!("client state: {e}")))
    }

    fn consensus_state(
        &self,
        path: &ClientConsensusStatePath,
    ) -> Result<TmConsensusState, HostError> {
        let bytes = self.must_get(path)?;
        let any = Any::decode(bytes.as_slice()).map_err(get_err("consensus state"))?;
        TmConsensusState::try_from(any)
            .map_err(|e| HostError::failed_to_retrieve(format!("consensus state: {e}")))
    }

    fn client_update_meta(
        &self,
        client_id: &ClientId,
        height: &Height,
    ) -> Result<(Timestamp, Height), HostError> {
        let (rev, h) = (height.revision_number(), height.revision_height());
        let time = self
            .get_u64(&ClientUpdateTimePath::new(client_id.clone(), rev, h))?
            .ok_or_else(|| {
                HostError::missing_state(format!("no update time of {client_id} at {height}"))
            })?;
        let bytes = self.must_get(&ClientUpdateHeightPath::new(client_id.clone(), rev, h))?;
        let arr: [u8; 16] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| HostError::failed_to_retrieve("update height is not 16 bytes"))?;
        let (r, hh) = arr.split_at(8);
        let to_u64 = |b: &[u8]| <[u8; 8]>::try_from(b).map(u64::from_be_bytes);
        let (Ok(r), Ok(hh)) = (to_u64(r), to_u64(hh)) else {
            return Err(HostError::failed_to_retrieve(
                "update height is not 16 bytes",
            ));
        };
        let processed =
            Height::new(r, hh).map_err(|e| HostError::failed_to_retrieve(e.to_string()))?;
        Ok((Timestamp::from_nanoseconds(time), processed))
    }
}

impl ClientExecutionContext for IbcContext<'_> {
    type ClientStateMut = TmClientState;

    fn store_client_state(
        &mut self,
        path: ClientStatePath,
        client_state: TmClientState,
    ) -> Result<(), HostError> {
        let any: Any = client_state.into();
        self.set_path(&path, &any.encode_to_vec());
        Ok(())
    }

    fn store_consensus_state(
        &mut self,
        path: ClientConsensusStatePath,
        consensus_state: TmConsensusState,
    ) -> Result<(), HostError> {
        let any: Any = consensus_state.into();
        self.set_path(&path, &any.encode_to_vec());
        let idx = keys::consensus_height(
            path.client_id.as_str(),
            path.revision_number,
            path.revision_height,
        );
        self.store.set(&idx, &[1]);
        Ok(())
    }

    fn delete_consensus_state(&mut self, path: ClientConsensusStatePath) -> Result<(), HostError> {
        self.remove_path(&path);
        let idx = keys::consensus_height(
            path.client_id.as_str(),
            path.revision_number,
            path.revision_height,
        );
        self.store.remove(&idx);
        Ok(())
    }

    fn store_update_meta(
        &mut self,
        client_id: ClientId,
        height: Height,
        host_timestamp: Timestamp,
        host_height: Height,
    ) -> Result<(), HostError> {
        let (rev, h) = (height.revision_number(), height.revision_height());
        self.set_path(
            &ClientUpdateTimePath::new(client_id.clone(), rev, h),
            &host_timestamp.nanoseconds().to_be_bytes(),
        );
        let mut processed = host_height.revision_number().to_be_bytes().to_vec();
        processed.extend_from_slice(&host_height.revision_height().to_be_bytes());
        self.set_path(&ClientUpdateHeightPath::new(client_id, rev, h), &processed);
        Ok(())
    }

    fn delete_update_meta(&mut self, client_id: ClientId, height: Height) -> Result<(), HostError> {
        let (rev, h) = (height.revision_number(), height.revision_height());
        self.remove_path(&ClientUpdateTimePath::new(client_id.clone(), rev, h));
        self.remove_path(&ClientUpdateHeightPath::new(client_id, rev, h));
        Ok(())
    }
}

impl ExtClientValidationContext for IbcContext<'_> {
    fn host_timestamp(&self) -> Result<Timestamp, HostError> {
        Ok(self.host.timestamp)
    }

    fn host_height(&self) -> Result<Height, HostError> {
        Ok(self.host.height)
    }

    fn consensus_state_heights(&self, client_id: &ClientId) -> Result<Vec<Height>, HostError> {
        let prefix = keys::consensus_heights_prefix(client_id.as_str());
        let end = keys::prefix_end(&prefix);
        self.indexed_heights(client_id, prefix, end, Order::Ascending)
            .collect()
    }

    fn next_consensus_state(
        &self,
        client_id: &ClientId,
        height: &Height,
    ) -> Result<Option<TmConsensusState>, HostError> {
        self.neighbour_consensus_state(client_id, height, true)
    }

    fn prev_consensus_state(
        &self,
        client_id: &ClientId,
        height: &Height,
    ) -> Result<Option<TmConsensusState>, HostError> {
        self.neighbour_consensus_state(client_id, height, false)
    }
}

impl ValidateSelfClientContext for IbcContext<'_> {
    fn chain_id(&self) -> &ChainId {
        &self.host.chain_id
    }

    fn host_current_height(&self) -> Height {
        self.host.height
    }

    fn proof_specs(&self) -> &ProofSpecs {
        &self.proof_specs
    }

    fn unbonding_period(&self) -> Duration {
        self.host.unbonding_period
    }

    fn upgrade_path(&self) -> &[String] {
        &self.upgrade_path
    }
}

impl ValidationContext for IbcContext<'_> {
    type V = Self;
    type HostClientState = TmClientState;
    type HostConsensusState = TmConsensusState;

    fn get_client_validation_context(&self) -> &Self {
        self
    }

    fn host_height(&self) -> Result<Height, HostError> {
        Ok(self.host.height)
    }

    fn host_timestamp(&self) -> Result<Timestamp, HostError> {
        Ok(self.host.timestamp)
    }

    fn host_consensus_state(&self, height: &Height) -> Result<TmConsensusState, HostError> {
        if height.revision_number() != self.host.height.revision_number() {
            return Err(HostError::missing_state(format!(
                "no host consensus state at {height}: this chain is at revision {}",
                self.host.height.revision_number()
            )));
        }
        crate::host::consensus_state(&*self.store, height.revision_height())?.ok_or_else(|| {
            HostError::missing_state(format!("no host consensus state at height {height}"))
        })
    }

    fn client_counter(&self) -> Result<u64, HostError> {
        Ok(self.get_u64(&NextClientSequencePath)?.unwrap_or(0))
    }

    fn connection_end(&self, conn_id: &ConnectionId) -> Result<ConnectionEnd, HostError> {
        let bytes = self.must_get(&ConnectionPath::new(conn_id))?;
        ConnectionEnd::decode_vec(&bytes)
            .map_err(|e| HostError::failed_to_retrieve(format!("connection {conn_id}: {e}")))
    }

    fn validate_self_client(&self, client_state: TmClientState) -> Result<(), HostError> {
        self.validate_self_tendermint_client(client_state.inner().clone())
    }

    fn commitment_prefix(&self) -> CommitmentPrefix {
        CommitmentPrefix::from_bytes(STORE_KEY)
    }

    fn connection_counter(&self) -> Result<u64, HostError> {
        Ok(self.get_u64(&NextConnectionSequencePath)?.unwrap_or(0))
    }

    fn channel_end(&self, path: &ChannelEndPath) -> Result<ChannelEnd, HostError> {
        let bytes = self.must_get(path)?;
        ChannelEnd::decode_vec(&bytes)
            .map_err(|e| HostError::failed_to_retrieve(format!("channel end: {e}")))
    }

    fn get_next_sequence_send(&self, path: &SeqSendPath) -> Result<Sequence, HostError> {
        self.sequence(path)
    }

    fn get_next_sequence_recv(&self, path: &SeqRecvPath) -> Result<Sequence, HostError> {
        self.sequence(path)
    }

    fn get_next_sequence_ack(&self, path: &SeqAckPath) -> Result<Sequence, HostError> {
        self.sequence(path)
    }

    fn get_packet_commitment(&self, path: &CommitmentPath) -> Result<PacketCommitment, HostError> {
        self.must_get(path).map(PacketCommitment::from)
    }

    fn get_packet_receipt(&self, path: &ReceiptPath) -> Result<Receipt, HostError> {
        Ok(match self.get_path(path) {
            Some(_) => Receipt::Ok,
            None => Receipt::None,
        })
    }

    fn get_packet_acknowledgement(
        &self,
        path: &AckPath,
    ) -> Result<AcknowledgementCommitment, HostError> {
        self.must_get(path).map(AcknowledgementCommitment::from)
    }

    fn channel_counter(&self) -> Result<u64, HostError> {
        Ok(self.get_u64(&NextChannelSequencePath)?.unwrap_or(0))
    }

    fn max_expected_time_per_block(&self) -> Duration {
        MAX_EXPECTED_TIME_PER_BLOCK
    }

    fn validate_message_signer(&self, signer: &Signer) -> Result<(), HostError> {
        // The tx pipeline already required the signature of this address.
        verdict_core::address::Addr::parse(signer.as_ref())
            .map(|_| ())
            .map_err(|e| HostError::invalid_state(format!("signer {signer}: {e}")))
    }
}

impl ExecutionContext for IbcContext<'_> {
    type E = Self;

    fn get_client_execution_context(&mut self) -> &mut Self {
        self
    }

    fn increase_client_counter(&mut self) -> Result<(), HostError> {
        self.increase(&NextClientSequencePath)
    }

    fn store_connection(
        &mut self,
        path: &ConnectionPath,
        connection_end: ConnectionEnd,
    ) -> Result<(), HostError> {
        self.set_path(path, &connection_end.encode_vec());
        Ok(())
    }

    fn store_connection_to_client(
        &mut self,
        path: &ClientConnectionPath,
        conn_id: ConnectionId,
    ) -> Result<(), HostError> {
        use ibc::core::connection::types::proto::v1::ClientPaths;
        let mut paths = match self.get_path(path) {
            Some(b) => ClientPaths::decode(b.as_slice()).map_err(get_err("client connections"))?,
            None => ClientPaths::default(),
        };
        paths.paths.push(conn_id.to_string());
        self.set_path(path, &paths.encode_to_vec());
        Ok(())
    }

    fn increase_connection_counter(&mut self) -> Result<(), HostError> {
        self.increase(&NextConnectionSequencePath)
    }

    fn store_packet_commitment(
        &mut self,
        path: &CommitmentPath,
        commitment: PacketCommitment,
    ) -> Result<(), HostError> {
        self.set_path(path, commitment.as_ref());
        Ok(())
    }

    fn delete_packet_commitment(&mut self, path: &CommitmentPath) -> Result<(), HostError> {
        self.remove_path(path);
        Ok(())
    }

    fn store_packet_receipt(&mut self, path: &ReceiptPath, _: Receipt) -> Result<(), HostError> {
        self.set_path(path, &[1]);
        Ok(())
    }

    fn store_packet_acknowledgement(
        &mut self,
        path: &AckPath,
        ack_commitment: AcknowledgementCommitment,
    ) -> Result<(), HostError> {
        self.set_path(path, ack_commitment.as_ref());
        Ok(())
    }

    fn delete_packet_acknowledgement(&mut self, path: &AckPath) -> Result<(), HostError> {
        self.remove_path(path);
        Ok(())
    }

    fn store_channel(
        &mut self,
        path: &ChannelEndPath,
        channel_end: ChannelEnd,
    ) -> Result<(), HostError> {
        self.set_path(path, &channel_end.encode_vec());
        Ok(())
    }

    fn store_next_sequence_send(
        &mut self,
        path: &SeqSendPath,
        seq: Sequence,
    ) -> Result<(), HostError> {
        self.set_path(path, &u64::from(seq).to_be_bytes());
        Ok(())
    }

    fn store_next_sequence_recv(
        &mut self,
        path: &SeqRecvPath,
        seq: Sequence,
    ) -> Result<(), HostError> {
        self.set_path(path, &u64::from(seq).to_be_bytes());
        Ok(())
    }

    fn store_next_sequence_ack(
        &mut self,
        path: &SeqAckPath,
        seq: Sequence,
    ) -> Result<(), HostError> {
        self.set_path(path, &u64::from(seq).to_be_bytes());
        Ok(())
    }

    fn increase_channel_counter(&mut self) -> Result<(), HostError> {
        self.increase(&NextChannelSequencePath)
    }

    fn emit_ibc_event(&mut self, event: IbcEvent) -> Result<(), HostError> {
        self.events.push(event);
        Ok(())
    }

    fn log_message(&mut self, message: String) -> Result<(), HostError> {
        self.logs.push(message);
        Ok(())
    }
}
