//! ibc-rs's host validation and execution contexts: connections, channels,
//! sequences, packet commitments, receipts and acknowledgements, the
//! identifier counters, and the checks of a counterparty's client of this
//! chain (ICS-03).

use core::time::Duration;

use ibc::clients::tendermint::client_state::ClientState as TmClientState;
use ibc::clients::tendermint::consensus_state::ConsensusState as TmConsensusState;
use ibc::core::channel::types::channel::ChannelEnd;
use ibc::core::channel::types::commitment::{AcknowledgementCommitment, PacketCommitment};
use ibc::core::channel::types::packet::Receipt;
use ibc::core::client::types::Height;
use ibc::core::commitment_types::commitment::CommitmentPrefix;
use ibc::core::commitment_types::specs::ProofSpecs;
use ibc::core::connection::types::ConnectionEnd;
use ibc::core::handler::types::events::IbcEvent;
use ibc::core::host::types::error::HostError;
use ibc::core::host::types::identifiers::{ChainId, ConnectionId, Sequence};
use ibc::core::host::types::path::{
    AckPath, ChannelEndPath, ClientConnectionPath, CommitmentPath, ConnectionPath,
    NextChannelSequencePath, NextClientSequencePath, NextConnectionSequencePath, ReceiptPath,
    SeqAckPath, SeqRecvPath, SeqSendPath,
};
use ibc::core::host::{ExecutionContext, ValidationContext};
use ibc::cosmos_host::ValidateSelfClientContext;
use ibc::primitives::proto::Protobuf;
use ibc::primitives::{Signer, Timestamp};
use prost::Message;

use super::{get_err, IbcContext, MAX_EXPECTED_TIME_PER_BLOCK};
use crate::keys::STORE_KEY;

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
