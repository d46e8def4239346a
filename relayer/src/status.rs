//! `verdict relayer status`: one end of the path as its chain reports it through
//! the `ibc.core.{client,connection,channel}.v1.Query` services, with the
//! connection and channel proofs checked against the header that commits them.

use anyhow::{anyhow, Context};
use prost::Message;
use serde_json::{json, Value};
use verdict_ibc::ibc;

use ibc::clients::tendermint::client_state::ClientState as TmClientState;
use ibc::core::channel::types::proto::v1 as chq;
use ibc::core::client::types::proto::v1 as clq;
use ibc::core::client::types::proto::v1::Height as RawHeight;
use ibc::core::commitment_types::merkle::MerkleProof;
use ibc::core::connection::types::proto::v1 as cq;
use ibc::primitives::proto::{Any, Protobuf};

use verdict_client::query::query;

use crate::endpoint::Endpoint;
use crate::path::End;

/// Checks `proof` of `value` at `path`, taken at `height` (the state after that
/// block), against the app hash in header `height + 1`.
fn check(
    x: &Endpoint,
    height: Option<RawHeight>,
    proof: &[u8],
    path: &str,
    value: &[u8],
) -> anyhow::Result<u64> {
    let h = height
        .ok_or_else(|| anyhow!("{}: answer without proof height", x.chain_id))?
        .revision_height;
    x.wait_for_height(h.saturating_add(1))?;
    let app_hash = x.signed_header(h.saturating_add(1))?.header.app_hash;
    let proof =
        <MerkleProof as Protobuf<ibc::core::commitment_types::proto::v1::MerkleProof>>::decode_vec(
            proof,
        )
        .map_err(|e| anyhow!("{}: proof of {path}: {e}", x.chain_id))?;
    verdict_ibc::verify_membership(&proof, app_hash.as_bytes(), path.as_bytes(), value).map_err(
        |e| {
            anyhow!(
                "{}: proof of {path} at {h} does not verify: {e}",
                x.chain_id
            )
        },
    )?;
    Ok(h)
}

/// The end's client, connection and channel as `x` reports them, the
/// connection and channel proven.
pub fn of_end(x: &Endpoint, end: &End) -> anyhow::Result<Value> {
    let client = client_json(x, end)?;
    let connection = connection_json(x, end)?;
    let channel = channel_json(x, end)?;
    Ok(json!({
        "chain_id": x.chain_id,
        "client": client,
        "connection": connection,
        "channel": channel,
    }))
}

fn state_name(s: Option<&str>) -> String {
    s.unwrap_or("?").to_string()
}

fn client_json(x: &Endpoint, end: &End) -> anyhow::Result<Value> {
    let client_status: clq::QueryClientStatusResponse = query(
        &x.rpc,
        "/ibc.core.client.v1.Query/ClientStatus",
        &clq::QueryClientStatusRequest {
            client_id: end.client_id.clone(),
        },
    )??;
    let cs: clq::QueryClientStateResponse = query(
        &x.rpc,
        "/ibc.core.client.v1.Query/ClientState",
        &clq::QueryClientStateRequest {
            client_id: end.client_id.clone(),
        },
    )??;
    let any = cs.client_state.context("no client state")?;
    let tm = TmClientState::try_from(Any {
        type_url: any.type_url,
        value: any.value,
    })
    .map_err(|e| anyhow!("client state: {e}"))?;
    let tm = tm.inner();
    Ok(json!({
        "id": end.client_id,
        "status": client_status.status,
        "chain_id": tm.chain_id.as_str(),
        "latest_height": tm.latest_height.to_string(),
        "trusting_period_s": tm.trusting_period.as_secs(),
        "unbonding_period_s": tm.unbonding_period.as_secs(),
    }))
}

fn connection_json(x: &Endpoint, end: &End) -> anyhow::Result<Value> {
    let c: cq::QueryConnectionResponse = query(
        &x.rpc,
        "/ibc.core.connection.v1.Query/Connection",
        &cq::QueryConnectionRequest {
            connection_id: end.connection_id.clone(),
        },
    )??;
    let conn = c.connection.context("no connection end")?;
    let conn_proven_at = check(
        x,
        c.proof_height,
        &c.proof,
        &format!("connections/{}", end.connection_id),
        &conn.encode_to_vec(),
    )?;
    let conn_cp = conn.counterparty.clone().unwrap_or_default();
    Ok(json!({
        "id": end.connection_id,
        "state": state_name(cq::State::try_from(conn.state).ok().map(|s| s.as_str_name())),
        "client_id": conn.client_id,
        "counterparty_client_id": conn_cp.client_id,
        "counterparty_connection_id": conn_cp.connection_id,
        "proven_at": conn_proven_at,
    }))
}

fn channel_json(x: &Endpoint, end: &End) -> anyhow::Result<Value> {
    let ch: chq::QueryChannelResponse = query(
        &x.rpc,
        "/ibc.core.channel.v1.Query/Channel",
        &chq::QueryChannelRequest {
            port_id: end.port_id.clone(),
            channel_id: end.channel_id.clone(),
        },
    )??;
    let chan = ch.channel.context("no channel end")?;
    let chan_proven_at = check(
        x,
        ch.proof_height,
        &ch.proof,
        &format!(
            "channelEnds/ports/{}/channels/{}",
            end.port_id, end.channel_id
        ),
        &chan.encode_to_vec(),
    )?;
    let chan_cp = chan.counterparty.clone().unwrap_or_default();
    Ok(json!({
        "port_id": end.port_id,
        "id": end.channel_id,
        "state": state_name(chq::State::try_from(chan.state).ok().map(|s| s.as_str_name())),
        "ordering": state_name(chq::Order::try_from(chan.ordering).ok().map(|s| s.as_str_name())),
        "version": chan.version,
        "connection_hops": chan.connection_hops,
        "counterparty_port_id": chan_cp.port_id,
        "counterparty_channel_id": chan_cp.channel_id,
        "proven_at": chan_proven_at,
    }))
}
