//! The client contexts 07-tendermint needs: client and consensus states, their
//! update metadata, and the per-client consensus height index
//! ([`crate::keys::consensus_height`]) behind next/previous consensus state.

use cosmwasm_std::Order;
use ibc::clients::tendermint::client_state::ClientState as TmClientState;
use ibc::clients::tendermint::consensus_state::ConsensusState as TmConsensusState;
use ibc::core::client::context::{
    ClientExecutionContext, ClientValidationContext, ExtClientValidationContext,
};
use ibc::core::client::types::Height;
use ibc::core::host::types::error::HostError;
use ibc::core::host::types::identifiers::ClientId;
use ibc::core::host::types::path::{
    ClientConsensusStatePath, ClientStatePath, ClientUpdateHeightPath, ClientUpdateTimePath,
};
use ibc::primitives::proto::Any;
use ibc::primitives::Timestamp;
use prost::Message;

use super::{get_err, IbcContext};
use crate::keys;

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
