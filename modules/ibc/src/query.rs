//! `ibc.core.client.v1.Query`, `ibc.core.connection.v1.Query` and
//! `ibc.core.channel.v1.Query` over committed state: ibc-query's query
//! functions over [`IbcContext`], with proofs from the store's two-level
//! commitment.
//!
//! The app serves gRPC by passing protobuf bytes through its ABCI query router,
//! so each method here is bytes in, bytes out, and answers the same over ABCI
//! `Query` (path `/ibc.core.client.v1.Query/<Method>`) and gRPC. Proofs are at
//! the latest committed height, as `proof_height` says (revision of the chain id).

use cosmwasm_std::{Order, Storage};
use ibc::clients::tendermint::client_state::ClientState as TmClientState;
use ibc::clients::tendermint::consensus_state::ConsensusState as TmConsensusState;
use ibc::core::channel::types::channel::IdentifiedChannelEnd;
use ibc::core::channel::types::packet::PacketState;
use ibc::core::client::context::ClientValidationContext;
use ibc::core::client::types::Height;
use ibc::core::connection::types::IdentifiedConnectionEnd;
use ibc::core::host::types::error::HostError;
use ibc::core::host::types::identifiers::{ChannelId, ClientId, ConnectionId, PortId, Sequence};
use ibc::core::host::types::path::{
    ChannelEndPath, ClientConnectionPath, ClientConsensusStatePath, CommitmentPath, Path,
    ReceiptPath,
};
use ibc::core::host::ValidationContext;
use ibc_query::core::client::{
    query_client_state, query_client_states, query_client_status, query_consensus_state,
    query_consensus_state_heights, query_consensus_states, QueryClientStateRequest,
    QueryClientStatusRequest, QueryConsensusStateHeightsRequest, QueryConsensusStateRequest,
    QueryConsensusStatesRequest,
};
use ibc_query::core::context::{ProvableContext, QueryContext};
use ibc_query::error::QueryError;
use prost::Message;
use verdict_core::codes;

use crate::context::IbcContext;
use crate::keys::{self, flat_key};

/// Path prefix of the client query service.
pub const CLIENT_QUERY_PREFIX: &str = "/ibc.core.client.v1.Query/";
/// Path prefix of the connection query service.
pub const CONNECTION_QUERY_PREFIX: &str = "/ibc.core.connection.v1.Query/";
/// Path prefix of the channel query service.
pub const CHANNEL_QUERY_PREFIX: &str = "/ibc.core.channel.v1.Query/";

/// Whether `path` belongs to one of the IBC query services this module answers.
pub fn serves(path: &str) -> bool {
    [
        CLIENT_QUERY_PREFIX,
        CONNECTION_QUERY_PREFIX,
        CHANNEL_QUERY_PREFIX,
    ]
    .iter()
    .any(|p| path.starts_with(p))
}

/// Every method this module answers.
pub const PATHS: &[&str] = &[
    "/ibc.core.client.v1.Query/ClientState",
    "/ibc.core.client.v1.Query/ClientStates",
    "/ibc.core.client.v1.Query/ConsensusState",
    "/ibc.core.client.v1.Query/ConsensusStates",
    "/ibc.core.client.v1.Query/ConsensusStateHeights",
    "/ibc.core.client.v1.Query/ClientStatus",
    "/ibc.core.client.v1.Query/ClientParams",
    "/ibc.core.connection.v1.Query/Connection",
    "/ibc.core.connection.v1.Query/Connections",
    "/ibc.core.connection.v1.Query/ClientConnections",
    "/ibc.core.connection.v1.Query/ConnectionClientState",
    "/ibc.core.connection.v1.Query/ConnectionConsensusState",
    "/ibc.core.connection.v1.Query/ConnectionParams",
    "/ibc.core.channel.v1.Query/Channel",
    "/ibc.core.channel.v1.Query/Channels",
    "/ibc.core.channel.v1.Query/ConnectionChannels",
    "/ibc.core.channel.v1.Query/ChannelClientState",
    "/ibc.core.channel.v1.Query/ChannelConsensusState",
    "/ibc.core.channel.v1.Query/PacketCommitment",
    "/ibc.core.channel.v1.Query/PacketCommitments",
    "/ibc.core.channel.v1.Query/PacketReceipt",
    "/ibc.core.channel.v1.Query/PacketAcknowledgement",
    "/ibc.core.channel.v1.Query/PacketAcknowledgements",
    "/ibc.core.channel.v1.Query/UnreceivedPackets",
    "/ibc.core.channel.v1.Query/UnreceivedAcks",
    "/ibc.core.channel.v1.Query/NextSequenceReceive",
    "/ibc.core.channel.v1.Query/NextSequenceSend",
];

type Answer = Result<Vec<u8>, (u32, String)>;

fn query_err(e: QueryError) -> (u32, String) {
    let code = match &e {
        QueryError::Host(HostError::MissingState { .. }) | QueryError::MissingProof(_) => {
            codes::NOT_FOUND
        }
        QueryError::Decoding(_) | QueryError::MissingField(_) => codes::INVALID_REQUEST,
        _ => 1,
    };
    let grpc = if code == codes::NOT_FOUND {
        "rpc error: code = NotFound desc = "
    } else {
        ""
    };
    (code, format!("{grpc}{e}"))
}

fn decode<R: Message + Default>(data: &[u8]) -> Result<R, (u32, String)> {
    R::decode(data).map_err(|e| (codes::INVALID_REQUEST, format!("bad request: {e}")))
}

/// Answers one method of the IBC query services, or `None` for another path.
pub fn handle(ctx: &IbcContext<'_>, path: &str, data: &[u8]) -> Option<Answer> {
    if let Some(method) = path.strip_prefix(CONNECTION_QUERY_PREFIX) {
        return Some(connection_method(ctx, method, data));
    }
    if let Some(method) = path.strip_prefix(CHANNEL_QUERY_PREFIX) {
        return Some(channel_method(ctx, method, data));
    }
    client_method(ctx, path, data)
}

/// Decodes the raw request, converts it to ibc-query's domain request (`try`
/// when the conversion can fail), runs the query and encodes the raw response.
macro_rules! answer {
    ($ctx:expr, $data:expr, $raw_req:ty, try, $query:path, $raw_resp:ty) => {{
        let req = decode::<$raw_req>($data)?.try_into().map_err(query_err)?;
        let resp = $query($ctx, &req).map_err(query_err)?;
        Ok(<$raw_resp>::from(resp).encode_to_vec())
    }};
    ($ctx:expr, $data:expr, $raw_req:ty, into, $query:path, $raw_resp:ty) => {{
        let req = decode::<$raw_req>($data)?.into();
        let resp = $query($ctx, &req).map_err(query_err)?;
        Ok(<$raw_resp>::from(resp).encode_to_vec())
    }};
}

fn unknown(prefix: &str, method: &str) -> Answer {
    Err((
        codes::UNKNOWN_REQUEST,
        format!("unknown query path \"{prefix}{method}\": unknown request"),
    ))
}

fn connection_method(ctx: &IbcContext<'_>, method: &str, data: &[u8]) -> Answer {
    use ibc::core::connection::types::proto::v1 as raw;
    use ibc_query::core::connection as q;
    match method {
        "Connection" => answer!(
            ctx,
            data,
            raw::QueryConnectionRequest,
            try,
            q::query_connection,
            raw::QueryConnectionResponse
        ),
        "Connections" => answer!(
            ctx,
            data,
            raw::QueryConnectionsRequest,
            into,
            q::query_connections,
            raw::QueryConnectionsResponse
        ),
        "ClientConnections" => answer!(
            ctx,
            data,
            raw::QueryClientConnectionsRequest,
            try,
            q::query_client_connections,
            raw::QueryClientConnectionsResponse
        ),
        "ConnectionClientState" => answer!(
            ctx,
            data,
            raw::QueryConnectionClientStateRequest,
            try,
            q::query_connection_client_state,
            raw::QueryConnectionClientStateResponse
        ),
        "ConnectionConsensusState" => answer!(
            ctx,
            data,
            raw::QueryConnectionConsensusStateRequest,
            try,
            q::query_connection_consensus_state,
            raw::QueryConnectionConsensusStateResponse
        ),
        "ConnectionParams" => answer!(
            ctx,
            data,
            raw::QueryConnectionParamsRequest,
            into,
            q::query_connection_params,
            raw::QueryConnectionParamsResponse
        ),
        other => unknown(CONNECTION_QUERY_PREFIX, other),
    }
}

fn channel_method(ctx: &IbcContext<'_>, method: &str, data: &[u8]) -> Answer {
    use ibc::core::channel::types::proto::v1 as raw;
    use ibc_query::core::channel as q;
    match method {
        "Channel" => answer!(
            ctx,
            data,
            raw::QueryChannelRequest,
            try,
            q::query_channel,
            raw::QueryChannelResponse
        ),
        "Channels" => answer!(
            ctx,
            data,
            raw::QueryChannelsRequest,
            into,
            q::query_channels,
            raw::QueryChannelsResponse
        ),
        "ConnectionChannels" => answer!(
            ctx,
            data,
            raw::QueryConnectionChannelsRequest,
            try,
            q::query_connection_channels,
            raw::QueryConnectionChannelsResponse
        ),
        "ChannelClientState" => answer!(
            ctx,
            data,
            raw::QueryChannelClientStateRequest,
            try,
            q::query_channel_client_state,
            raw::QueryChannelClientStateResponse
        ),
        "ChannelConsensusState" => answer!(
            ctx,
            data,
            raw::QueryChannelConsensusStateRequest,
            try,
            q::query_channel_consensus_state,
            raw::QueryChannelConsensusStateResponse
        ),
        // Packets, acknowledgements and sequences.
        other => packet_method(ctx, other, data),
    }
}

/// The packet methods of `ibc.core.channel.v1.Query`.
fn packet_method(ctx: &IbcContext<'_>, method: &str, data: &[u8]) -> Answer {
    use ibc::core::channel::types::proto::v1 as raw;
    use ibc_query::core::channel as q;
    match method {
        "PacketCommitment" => answer!(
            ctx,
            data,
            raw::QueryPacketCommitmentRequest,
            try,
            q::query_packet_commitment,
            raw::QueryPacketCommitmentResponse
        ),
        "PacketCommitments" => answer!(
            ctx,
            data,
            raw::QueryPacketCommitmentsRequest,
            try,
            q::query_packet_commitments,
            raw::QueryPacketCommitmentsResponse
        ),
        "PacketReceipt" => answer!(
            ctx,
            data,
            raw::QueryPacketReceiptRequest,
            try,
            q::query_packet_receipt,
            raw::QueryPacketReceiptResponse
        ),
        "PacketAcknowledgement" => answer!(
            ctx,
            data,
            raw::QueryPacketAcknowledgementRequest,
            try,
            q::query_packet_acknowledgement,
            raw::QueryPacketAcknowledgementResponse
        ),
        "PacketAcknowledgements" => answer!(
            ctx,
            data,
            raw::QueryPacketAcknowledgementsRequest,
            try,
            q::query_packet_acknowledgements,
            raw::QueryPacketAcknowledgementsResponse
        ),
        "UnreceivedPackets" => answer!(
            ctx,
            data,
            raw::QueryUnreceivedPacketsRequest,
            try,
            q::query_unreceived_packets,
            raw::QueryUnreceivedPacketsResponse
        ),
        "UnreceivedAcks" => answer!(
            ctx,
            data,
            raw::QueryUnreceivedAcksRequest,
            try,
            q::query_unreceived_acks,
            raw::QueryUnreceivedAcksResponse
        ),
        "NextSequenceReceive" => answer!(
            ctx,
            data,
            raw::QueryNextSequenceReceiveRequest,
            try,
            q::query_next_sequence_receive,
            raw::QueryNextSequenceReceiveResponse
        ),
        "NextSequenceSend" => answer!(
            ctx,
            data,
            raw::QueryNextSequenceSendRequest,
            try,
            q::query_next_sequence_send,
            raw::QueryNextSequenceSendResponse
        ),
        other => unknown(CHANNEL_QUERY_PREFIX, other),
    }
}

/// Answers one `ibc.core.client.v1.Query` method, or `None` for another path.
fn client_method(ctx: &IbcContext<'_>, path: &str, data: &[u8]) -> Option<Answer> {
    use ibc::core::client::types::proto::v1 as raw;
    let method = path.strip_prefix(CLIENT_QUERY_PREFIX)?;
    let answer = (|| -> Answer {
        match method {
            "ClientState" => {
                let req: QueryClientStateRequest = decode::<raw::QueryClientStateRequest>(data)?
                    .try_into()
                    .map_err(query_err)?;
                let resp = query_client_state(ctx, &req).map_err(query_err)?;
                Ok(raw::QueryClientStateResponse::from(resp).encode_to_vec())
            }
            "ClientStates" => {
                let req = decode::<raw::QueryClientStatesRequest>(data)?.into();
                let resp = query_client_states(ctx, &req).map_err(query_err)?;
                Ok(raw::QueryClientStatesResponse::from(resp).encode_to_vec())
            }
            "ConsensusState" => {
                let req: QueryConsensusStateRequest =
                    decode::<raw::QueryConsensusStateRequest>(data)?
                        .try_into()
                        .map_err(query_err)?;
                let resp = query_consensus_state(ctx, &req).map_err(query_err)?;
                Ok(raw::QueryConsensusStateResponse::from(resp).encode_to_vec())
            }
            "ConsensusStates" => {
                let req: QueryConsensusStatesRequest =
                    decode::<raw::QueryConsensusStatesRequest>(data)?
                        .try_into()
                        .map_err(query_err)?;
                let resp = query_consensus_states(ctx, &req).map_err(query_err)?;
                Ok(raw::QueryConsensusStatesResponse::from(resp).encode_to_vec())
            }
            "ConsensusStateHeights" => {
                let req: QueryConsensusStateHeightsRequest =
                    decode::<raw::QueryConsensusStateHeightsRequest>(data)?
                        .try_into()
                        .map_err(query_err)?;
                let resp = query_consensus_state_heights(ctx, &req).map_err(query_err)?;
                Ok(raw::QueryConsensusStateHeightsResponse::from(resp).encode_to_vec())
            }
            "ClientStatus" => {
                let req: QueryClientStatusRequest = decode::<raw::QueryClientStatusRequest>(data)?
                    .try_into()
                    .map_err(query_err)?;
                let resp = query_client_status(ctx, &req).map_err(query_err)?;
                Ok(raw::QueryClientStatusResponse::from(resp).encode_to_vec())
            }
            "ClientParams" => Ok(raw::QueryClientParamsResponse {
                params: Some(raw::Params {
                    allowed_clients: vec![ibc::clients::tendermint::TENDERMINT_CLIENT_TYPE.into()],
                }),
            }
            .encode_to_vec()),
            other => Err((
                codes::UNKNOWN_REQUEST,
                format!("unknown query path \"{CLIENT_QUERY_PREFIX}{other}\": unknown request"),
            )),
        }
    })();
    Some(answer)
}

/// Latest values under a flat-key prefix, as (suffix after the prefix, value).
fn scan<'s>(
    store: &'s dyn Storage,
    ics24_prefix: &str,
) -> impl Iterator<Item = (String, Vec<u8>)> + 's {
    let prefix = flat_key(ics24_prefix.as_bytes());
    let end = keys::prefix_end(&prefix);
    let n = prefix.len();
    store
        .range(Some(&prefix), Some(&end), Order::Ascending)
        .filter_map(move |(k, v)| {
            let suffix = k.get(n..)?;
            Some((String::from_utf8(suffix.to_vec()).ok()?, v))
        })
}

fn parse<T: std::str::FromStr>(s: &str, what: &str) -> Result<T, HostError> {
    s.parse()
        .map_err(|_| HostError::failed_to_retrieve(format!("stored {what} {s:?} does not parse")))
}

impl ProvableContext for IbcContext<'_> {
    fn get_proof(&self, height: Height, path: &Path) -> Option<Vec<u8>> {
        let prover = self.prover?;
        if height.revision_number() != ValidationContext::host_height(self).ok()?.revision_number()
        {
            return None;
        }
        prover(height.revision_height(), path.to_string().as_bytes())
    }
}

impl QueryContext for IbcContext<'_> {
    fn client_states(&self) -> Result<Vec<(ClientId, TmClientState)>, HostError> {
        let mut out = Vec::new();
        for (suffix, _) in scan(&*self.store, "clients/") {
            if let Some(id) = suffix.strip_suffix("/clientState") {
                let id: ClientId = parse(id, "client id")?;
                let cs = self.client_state(&id)?;
                out.push((id, cs));
            }
        }
        Ok(out)
    }

    fn consensus_states(
        &self,
        client_id: &ClientId,
    ) -> Result<Vec<(Height, TmConsensusState)>, HostError> {
        ibc::core::client::context::ExtClientValidationContext::consensus_state_heights(
            self, client_id,
        )?
        .into_iter()
        .map(|h| {
            let path = ClientConsensusStatePath::new(
                client_id.clone(),
                h.revision_number(),
                h.revision_height(),
            );
            self.consensus_state(&path).map(|cs| (h, cs))
        })
        .collect()
    }

    fn consensus_state_heights(&self, client_id: &ClientId) -> Result<Vec<Height>, HostError> {
        ibc::core::client::context::ExtClientValidationContext::consensus_state_heights(
            self, client_id,
        )
    }

    fn connection_ends(&self) -> Result<Vec<IdentifiedConnectionEnd>, HostError> {
        let mut out = Vec::new();
        for (suffix, _) in scan(&*self.store, "connections/") {
            let id: ConnectionId = parse(&suffix, "connection id")?;
            let end = self.connection_end(&id)?;
            out.push(IdentifiedConnectionEnd::new(id, end));
        }
        Ok(out)
    }

    fn client_connection_ends(&self, client_id: &ClientId) -> Result<Vec<ConnectionId>, HostError> {
        use ibc::core::connection::types::proto::v1::ClientPaths;
        let Some(bytes) = self.get_path(&ClientConnectionPath::new(client_id.clone())) else {
            return Ok(vec![]);
        };
        let paths = ClientPaths::decode(bytes.as_slice())
            .map_err(|e| HostError::failed_to_retrieve(format!("client connections: {e}")))?;
        paths
            .paths
            .iter()
            .map(|p| parse(p, "connection id"))
            .collect()
    }

    fn channel_ends(&self) -> Result<Vec<IdentifiedChannelEnd>, HostError> {
        let mut out = Vec::new();
        for (suffix, _) in scan(&*self.store, "channelEnds/ports/") {
            let Some((port, chan)) = suffix.split_once("/channels/") else {
                continue;
            };
            let port: PortId = parse(port, "port id")?;
            let chan: ChannelId = parse(chan, "channel id")?;
            let end = self.channel_end(&ChannelEndPath::new(&port, &chan))?;
            out.push(IdentifiedChannelEnd::new(port, chan, end));
        }
        Ok(out)
    }

    fn packet_commitments(&self, path: &ChannelEndPath) -> Result<Vec<PacketState>, HostError> {
        let prefix = format!(
            "commitments/ports/{}/channels/{}/sequences/",
            path.0, path.1
        );
        scan(&*self.store, &prefix)
            .map(|(seq, data)| {
                Ok(PacketState {
                    port_id: path.0.clone(),
                    chan_id: path.1.clone(),
                    seq: parse::<u64>(&seq, "sequence")?.into(),
                    data,
                })
            })
            .collect()
    }

    fn packet_acknowledgements(
        &self,
        path: &ChannelEndPath,
        sequences: impl ExactSizeIterator<Item = Sequence>,
    ) -> Result<Vec<PacketState>, HostError> {
        let wanted: Vec<Sequence> = sequences.collect();
        let prefix = format!("acks/ports/{}/channels/{}/sequences/", path.0, path.1);
        let mut out = Vec::new();
        for (seq, data) in scan(&*self.store, &prefix) {
            let seq: Sequence = parse::<u64>(&seq, "sequence")?.into();
            if wanted.is_empty() || wanted.contains(&seq) {
                out.push(PacketState {
                    port_id: path.0.clone(),
                    chan_id: path.1.clone(),
                    seq,
                    data,
                });
            }
        }
        Ok(out)
    }

    fn unreceived_packets(
        &self,
        path: &ChannelEndPath,
        sequences: impl ExactSizeIterator<Item = Sequence>,
    ) -> Result<Vec<Sequence>, HostError> {
        Ok(sequences
            .filter(|s| {
                self.get_path(&ReceiptPath::new(&path.0, &path.1, *s))
                    .is_none()
            })
            .collect())
    }

    fn unreceived_acks(
        &self,
        path: &ChannelEndPath,
        sequences: impl ExactSizeIterator<Item = Sequence>,
    ) -> Result<Vec<Sequence>, HostError> {
        // An ack is unreceived while our commitment to the packet still stands.
        Ok(sequences
            .filter(|s| {
                self.get_path(&CommitmentPath::new(&path.0, &path.1, *s))
                    .is_some()
            })
            .collect())
    }
}
