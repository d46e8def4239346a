//! `verdict relayer`: a small IBC relayer between two Verdict chains, in the
//! repository so that the IBC end-to-end tests need nothing from outside.
//!
//! It is not a replacement for Hermes or the Go relayer: one path (a client pair,
//! one connection, one channel on port `inference`), one signing key, polling
//! over CometBFT's HTTP RPC (parsed with `tendermint-rpc`'s response types), no
//! misbehaviour detection. What it does, it does the standard way:
//!
//! - `link` creates a 07-tendermint client of each chain on the other (trust
//!   level 1/3, the chain's own unbonding period from staking params, trusting
//!   period 2/3 of it, Verdict's [`verdict_ibc::proof_specs`]), then runs the
//!   ICS-03 and ICS-04 handshakes. Each proof-carrying message goes in one tx
//!   after a MsgUpdateClient: a value of the source's state at height `h` is
//!   proven against the consensus state of header `h+1` (whose app hash commits
//!   block `h`), so `proof_height = h+1`.
//! - `start` reads `block_results` of both chains height by height (txs' events
//!   and FinalizeBlock's), relays `send_packet` as MsgRecvPacket, carries
//!   `write_acknowledgement` back as MsgAcknowledgement, and times out packets
//!   the destination can no longer accept with a proof that no receipt exists.
//!   Progress lives in the path file ([`path`]), so a restart relays nothing twice.
//!
//! It may call the CLI's RPC client, keyring and tx signing; the chain it talks
//! to is any node that serves `store/ibc/key` queries with proofs.

pub mod endpoint;
pub mod packets;
pub mod path;
mod relay;
mod status;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use clap::Subcommand;
use prost::Message;
use serde_json::json;
use verdict_ibc::ibc;

use ibc::clients::tendermint::client_state::ClientState as TmClientState;
use ibc::clients::tendermint::consensus_state::ConsensusState as TmConsensusState;
use ibc::clients::tendermint::types::{
    AllowUpdate, ClientState as ClientStateType, ConsensusState as ConsensusStateType,
    TrustThreshold,
};
use ibc::core::channel::types::proto::v1 as chan;
use ibc::core::client::types::msgs::MsgCreateClient;
use ibc::core::client::types::proto::v1::Height as RawHeight;
use ibc::core::client::types::Height;
use ibc::core::commitment_types::proto::v1::MerklePrefix;
use ibc::core::connection::types::proto::v1 as conn;
use ibc::core::host::types::identifiers::ChainId;
use ibc::primitives::proto::{Any, Protobuf};

use crate::keyring::Keyring;
use endpoint::{any_of, event_attr, Endpoint};
use path::{End, PathFile};

/// The port and channel version the inference application binds.
pub const PORT: &str = "inference";
pub const VERSION: &str = "verdict-inference-1";
/// Clock drift a client tolerates between the two chains' block times.
pub const MAX_CLOCK_DRIFT: Duration = Duration::from_secs(40);

#[derive(Subcommand)]
pub enum RelayerCmd {
    /// Create clients on both chains, open a connection and an `inference`
    /// channel between them, and write the ids to the path file.
    Link {
        /// RPC address of a node of chain A (the side that initiates).
        #[arg(long)]
        a_node: String,
        /// RPC address of a node of chain B.
        #[arg(long)]
        b_node: String,
        /// Key that signs on both chains (it needs fees on each).
        #[arg(long)]
        from: String,
        /// Where to write the path (JSON).
        #[arg(long)]
        path_file: PathBuf,
    },
    /// Relay packets, acknowledgements and timeouts on a linked path.
    Start {
        #[arg(long)]
        path_file: PathBuf,
        /// Signing key (default: the one `link` used).
        #[arg(long)]
        from: Option<String>,
        /// One pass over both chains, then exit.
        #[arg(long)]
        once: bool,
        /// Seconds between passes.
        #[arg(long, default_value_t = 1.0)]
        interval: f64,
    },
    /// The path's clients, connection and channel as each chain reports them
    /// (through the ibc.core query services), proofs checked.
    Status {
        #[arg(long)]
        path_file: PathBuf,
    },
}

pub fn run(cmd: RelayerCmd, kr: &Keyring) -> anyhow::Result<()> {
    match cmd {
        RelayerCmd::Link {
            a_node,
            b_node,
            from,
            path_file,
        } => {
            let a = Endpoint::connect(&a_node)?;
            let b = Endpoint::connect(&b_node)?;
            let (path, txs) = link(&a, &b, kr, &from)?;
            path.save(&path_file)?;
            println!(
                "{}",
                json!({"a": {"chain_id": path.a.chain_id, "client_id": path.a.client_id,
                         "connection_id": path.a.connection_id, "channel_id": path.a.channel_id},
                       "b": {"chain_id": path.b.chain_id, "client_id": path.b.client_id,
                         "connection_id": path.b.connection_id, "channel_id": path.b.channel_id},
                       "txs": txs})
            );
            Ok(())
        }
        RelayerCmd::Start {
            path_file,
            from,
            once,
            interval,
        } => relay::start(&path_file, from, once, interval, kr),
        RelayerCmd::Status { path_file } => {
            let path = PathFile::load(&path_file)?;
            let v = json!({
                "a": status::of_end(&Endpoint::connect(&path.a.node)?, &path.a)?,
                "b": status::of_end(&Endpoint::connect(&path.b.node)?, &path.b)?,
            });
            println!("{v}");
            Ok(())
        }
    }
}

fn signer_of(kr: &Keyring, key: &str) -> anyhow::Result<String> {
    Ok(kr
        .show(key)
        .with_context(|| format!("key {key:?} in the keyring"))?
        .address)
}

/// A 07-tendermint client of `src` at its latest header, for `dst` to host.
fn create_client_msg(src: &Endpoint, signer: &str) -> anyhow::Result<Any> {
    let (h, _) = src.latest()?;
    let header = src.signed_header(h)?.header;
    let unbonding = src.unbonding_period();
    // Trusting period below the unbonding period, as light clients require.
    let trusting = unbonding.mul_f64(2.0 / 3.0);
    let cs = ClientStateType::new(
        ChainId::new(&src.chain_id).map_err(|e| anyhow!("{e}"))?,
        TrustThreshold::ONE_THIRD,
        trusting,
        unbonding,
        MAX_CLOCK_DRIFT,
        src.height(h)?,
        verdict_ibc::proof_specs(),
        verdict_ibc::upgrade_path(),
        AllowUpdate {
            after_expiry: false,
            after_misbehaviour: false,
        },
    )
    .map_err(|e| anyhow!("client state of {}: {e}", src.chain_id))?;
    let cons: ConsensusStateType = header.into();
    let msg = MsgCreateClient::new(
        TmClientState::from(cs).into(),
        TmConsensusState::from(cons).into(),
        signer.to_string().into(),
    );
    Ok(Any {
        type_url: "/ibc.core.client.v1.MsgCreateClient".into(),
        value: msg.encode_vec(),
    })
}

/// Where a proof of `src`'s state is taken, and how `dst` comes to trust it.
pub struct ProofPoint {
    /// Height of the state proven.
    pub h: u64,
    /// `h + 1`: the header (and consensus state on `dst`) that commits it.
    pub proof_height: Height,
    pub app_hash: Vec<u8>,
    /// Block time of header `h + 1` (Unix ns): what a timeout is judged against.
    pub time_ns: u64,
    /// MsgUpdateClient to put first in the tx, when `dst`'s client is behind.
    pub update: Option<Any>,
}

impl ProofPoint {
    pub fn raw_height(&self) -> Option<RawHeight> {
        Some(self.proof_height.into())
    }
}

/// Picks the newest header of `src` (at least `min_h + 1`, so that state `min_h`
/// and later is provable) and the update that makes `dst`'s client
/// `client_on_dst` hold its consensus state.
pub fn proof_point(
    src: &Endpoint,
    dst: &Endpoint,
    client_on_dst: &str,
    min_h: u64,
    signer: &str,
) -> anyhow::Result<ProofPoint> {
    let latest = src.wait_for_height(min_h.saturating_add(1))?;
    let trusted = dst.client_state(client_on_dst)?.inner().latest_height;
    let (p, update) = if trusted.revision_height() >= latest {
        // The client is already there (another message just updated it).
        (trusted.revision_height(), None)
    } else {
        let msg = src.update_client_msg(client_on_dst, trusted, latest, signer)?;
        (latest, Some(msg))
    };
    let header = src.signed_header(p)?.header;
    let time_ns = u64::try_from(header.time.unix_timestamp_nanos()).unwrap_or(0);
    Ok(ProofPoint {
        h: p.saturating_sub(1),
        proof_height: src.height(p)?,
        app_hash: header.app_hash.as_bytes().to_vec(),
        time_ns,
        update,
    })
}

fn with_update(point: &ProofPoint, msg: Any) -> Vec<Any> {
    point.update.iter().cloned().chain([msg]).collect()
}

fn required(
    r: &tendermint_rpc::endpoint::tx::Response,
    kind: &str,
    key: &str,
) -> anyhow::Result<String> {
    event_attr(r, kind, key).ok_or_else(|| anyhow!("tx {} has no {kind}.{key} event", r.hash))
}

/// The txs a link sent, for its report.
#[derive(Default)]
struct TxLog(Vec<serde_json::Value>);

impl TxLog {
    fn say(&mut self, step: &str, chain: &str, r: &tendermint_rpc::endpoint::tx::Response) {
        eprintln!(
            "relayer: {step} on {chain} in block {} (tx {})",
            r.height, r.hash
        );
        self.0.push(
            json!({"step": step, "chain_id": chain, "height": r.height.value(),
                           "txhash": r.hash.to_string()}),
        );
    }
}

/// The whole link: clients, connection, channel. A initiates each handshake.
pub fn link(
    a: &Endpoint,
    b: &Endpoint,
    kr: &Keyring,
    key: &str,
) -> anyhow::Result<(PathFile, Vec<serde_json::Value>)> {
    let mut log = TxLog::default();
    if a.chain_id == b.chain_id {
        bail!("both nodes are on chain {}", a.chain_id);
    }
    let signer = signer_of(kr, key)?;
    let prefix = Some(MerklePrefix {
        key_prefix: verdict_ibc::STORE_KEY.to_vec(),
    });

    // Clients: A hosts a client of B, B a client of A.
    let r = a.submit(kr, key, vec![create_client_msg(b, &signer)?])?;
    let client_a = required(&r, "create_client", "client_id")?;
    log.say(
        &format!("client {client_a} of {}", b.chain_id),
        &a.chain_id,
        &r,
    );
    let r = b.submit(kr, key, vec![create_client_msg(a, &signer)?])?;
    let client_b = required(&r, "create_client", "client_id")?;
    log.say(
        &format!("client {client_b} of {}", a.chain_id),
        &b.chain_id,
        &r,
    );

    // ICS-03. A: ConnOpenInit.
    let init = conn::MsgConnectionOpenInit {
        client_id: client_a.clone(),
        counterparty: Some(conn::Counterparty {
            client_id: client_b.clone(),
            connection_id: String::new(),
            prefix: prefix.clone(),
        }),
        version: None,
        delay_period: 0,
        signer: signer.clone(),
    };
    let r = a.submit(
        kr,
        key,
        vec![any_of(
            init,
            "/ibc.core.connection.v1.MsgConnectionOpenInit",
        )],
    )?;
    let conn_a = required(&r, "connection_open_init", "connection_id")?;
    log.say(&format!("ConnOpenInit {conn_a}"), &a.chain_id, &r);
    let mut last_a = r.height.value();

    // B: ConnOpenTry, proving A's connection end, A's client of B and its
    // consensus state, at one height of A.
    let pt = proof_point(a, b, &client_b, last_a, &signer)?;
    let end_a = a.prove(&format!("connections/{conn_a}"), pt.h, &pt.app_hash)?;
    let end_a_value = conn::ConnectionEnd::decode(end_a.value.as_slice())?;
    let client_on_a = a.prove(
        &format!("clients/{client_a}/clientState"),
        pt.h,
        &pt.app_hash,
    )?;
    let cons_h = client_latest(&client_on_a.value)?;
    let cons_on_a = a.prove(
        &format!(
            "clients/{client_a}/consensusStates/{}-{}",
            cons_h.revision_number(),
            cons_h.revision_height()
        ),
        pt.h,
        &pt.app_hash,
    )?;
    let try_msg = conn::MsgConnectionOpenTry {
        client_id: client_b.clone(),
        #[allow(deprecated)] // still on the wire type
        previous_connection_id: String::new(),
        client_state: Some(tendermint_proto::google::protobuf::Any::decode(
            client_on_a.value.as_slice(),
        )?),
        counterparty: Some(conn::Counterparty {
            client_id: client_a.clone(),
            connection_id: conn_a.clone(),
            prefix: prefix.clone(),
        }),
        delay_period: 0,
        counterparty_versions: end_a_value.versions.clone(),
        proof_height: pt.raw_height(),
        proof_init: end_a.proof,
        proof_client: client_on_a.proof,
        proof_consensus: cons_on_a.proof,
        consensus_height: Some(cons_h.into()),
        signer: signer.clone(),
        host_consensus_state_proof: vec![],
    };
    let r = b.submit(
        kr,
        key,
        with_update(
            &pt,
            any_of(try_msg, "/ibc.core.connection.v1.MsgConnectionOpenTry"),
        ),
    )?;
    let conn_b = required(&r, "connection_open_try", "connection_id")?;
    log.say(&format!("ConnOpenTry {conn_b}"), &b.chain_id, &r);
    let mut last_b = r.height.value();

    // A: ConnOpenAck, proving B's end, B's client of A and its consensus state.
    let pt = proof_point(b, a, &client_a, last_b, &signer)?;
    let end_b = b.prove(&format!("connections/{conn_b}"), pt.h, &pt.app_hash)?;
    let client_on_b = b.prove(
        &format!("clients/{client_b}/clientState"),
        pt.h,
        &pt.app_hash,
    )?;
    let cons_h = client_latest(&client_on_b.value)?;
    // ibc-rs requires A to be past the height B's client of A trusts.
    a.wait_for_height(cons_h.revision_height().saturating_add(1))?;
    let cons_on_b = b.prove(
        &format!(
            "clients/{client_b}/consensusStates/{}-{}",
            cons_h.revision_number(),
            cons_h.revision_height()
        ),
        pt.h,
        &pt.app_hash,
    )?;
    let ack = conn::MsgConnectionOpenAck {
        connection_id: conn_a.clone(),
        counterparty_connection_id: conn_b.clone(),
        version: end_a_value.versions.first().cloned(),
        client_state: Some(tendermint_proto::google::protobuf::Any::decode(
            client_on_b.value.as_slice(),
        )?),
        proof_height: pt.raw_height(),
        proof_try: end_b.proof,
        proof_client: client_on_b.proof,
        proof_consensus: cons_on_b.proof,
        consensus_height: Some(cons_h.into()),
        signer: signer.clone(),
        host_consensus_state_proof: vec![],
    };
    let r = a.submit(
        kr,
        key,
        with_update(
            &pt,
            any_of(ack, "/ibc.core.connection.v1.MsgConnectionOpenAck"),
        ),
    )?;
    log.say("ConnOpenAck", &a.chain_id, &r);
    last_a = r.height.value();

    // B: ConnOpenConfirm, proving A's end is OPEN.
    let pt = proof_point(a, b, &client_b, last_a, &signer)?;
    let end_a = a.prove(&format!("connections/{conn_a}"), pt.h, &pt.app_hash)?;
    let confirm = conn::MsgConnectionOpenConfirm {
        connection_id: conn_b.clone(),
        proof_ack: end_a.proof,
        proof_height: pt.raw_height(),
        signer: signer.clone(),
    };
    let r = b.submit(
        kr,
        key,
        with_update(
            &pt,
            any_of(confirm, "/ibc.core.connection.v1.MsgConnectionOpenConfirm"),
        ),
    )?;
    log.say("ConnOpenConfirm", &b.chain_id, &r);
    last_b = r.height.value();

    // ICS-04 on port `inference`. A: ChanOpenInit.
    let init = chan::MsgChannelOpenInit {
        port_id: PORT.into(),
        channel: Some(chan::Channel {
            state: chan::State::Init as i32,
            ordering: chan::Order::Unordered as i32,
            counterparty: Some(chan::Counterparty {
                port_id: PORT.into(),
                channel_id: String::new(),
            }),
            connection_hops: vec![conn_a.clone()],
            version: VERSION.into(),
            upgrade_sequence: 0,
        }),
        signer: signer.clone(),
    };
    let r = a.submit(
        kr,
        key,
        vec![any_of(init, "/ibc.core.channel.v1.MsgChannelOpenInit")],
    )?;
    let chan_a = required(&r, "channel_open_init", "channel_id")?;
    log.say(&format!("ChanOpenInit {chan_a}"), &a.chain_id, &r);
    last_a = r.height.value();

    // B: ChanOpenTry.
    let pt = proof_point(a, b, &client_b, last_a, &signer)?;
    let end = a.prove(&channel_path(&chan_a), pt.h, &pt.app_hash)?;
    let try_msg = chan::MsgChannelOpenTry {
        port_id: PORT.into(),
        #[allow(deprecated)] // still on the wire type
        previous_channel_id: String::new(),
        channel: Some(chan::Channel {
            state: chan::State::Tryopen as i32,
            ordering: chan::Order::Unordered as i32,
            counterparty: Some(chan::Counterparty {
                port_id: PORT.into(),
                channel_id: chan_a.clone(),
            }),
            connection_hops: vec![conn_b.clone()],
            version: VERSION.into(),
            upgrade_sequence: 0,
        }),
        counterparty_version: VERSION.into(),
        proof_init: end.proof,
        proof_height: pt.raw_height(),
        signer: signer.clone(),
    };
    let r = b.submit(
        kr,
        key,
        with_update(
            &pt,
            any_of(try_msg, "/ibc.core.channel.v1.MsgChannelOpenTry"),
        ),
    )?;
    let chan_b = required(&r, "channel_open_try", "channel_id")?;
    log.say(&format!("ChanOpenTry {chan_b}"), &b.chain_id, &r);
    last_b = last_b.max(r.height.value());

    // A: ChanOpenAck.
    let pt = proof_point(b, a, &client_a, last_b, &signer)?;
    let end = b.prove(&channel_path(&chan_b), pt.h, &pt.app_hash)?;
    let ack = chan::MsgChannelOpenAck {
        port_id: PORT.into(),
        channel_id: chan_a.clone(),
        counterparty_channel_id: chan_b.clone(),
        counterparty_version: VERSION.into(),
        proof_try: end.proof,
        proof_height: pt.raw_height(),
        signer: signer.clone(),
    };
    let r = a.submit(
        kr,
        key,
        with_update(&pt, any_of(ack, "/ibc.core.channel.v1.MsgChannelOpenAck")),
    )?;
    log.say("ChanOpenAck", &a.chain_id, &r);
    last_a = r.height.value();

    // B: ChanOpenConfirm.
    let pt = proof_point(a, b, &client_b, last_a, &signer)?;
    let end = a.prove(&channel_path(&chan_a), pt.h, &pt.app_hash)?;
    let confirm = chan::MsgChannelOpenConfirm {
        port_id: PORT.into(),
        channel_id: chan_b.clone(),
        proof_ack: end.proof,
        proof_height: pt.raw_height(),
        signer: signer.clone(),
    };
    let r = b.submit(
        kr,
        key,
        with_update(
            &pt,
            any_of(confirm, "/ibc.core.channel.v1.MsgChannelOpenConfirm"),
        ),
    )?;
    log.say("ChanOpenConfirm", &b.chain_id, &r);
    last_b = r.height.value();

    // Nothing can have been sent on a channel that was not open: `start`
    // begins after the handshake.
    let end = |x: &Endpoint, client: String, connection: String, channel: String, h: u64| End {
        node: x.node.clone(),
        chain_id: x.chain_id.clone(),
        client_id: client,
        connection_id: connection,
        port_id: PORT.into(),
        channel_id: channel,
        relayed_height: h,
        pending_recv: vec![],
        pending_acks: vec![],
    };
    let path = PathFile {
        key: key.to_string(),
        a: end(a, client_a, conn_a, chan_a, last_a),
        b: end(b, client_b, conn_b, chan_b, last_b),
    };
    Ok((path, log.0))
}

fn channel_path(channel: &str) -> String {
    format!("channelEnds/ports/{PORT}/channels/{channel}")
}

/// Latest height of an `Any`-encoded 07-tendermint client state.
fn client_latest(client_state: &[u8]) -> anyhow::Result<Height> {
    let any = Any::decode(client_state)?;
    Ok(TmClientState::try_from(any)
        .map_err(|e| anyhow!("client state: {e}"))?
        .inner()
        .latest_height)
}
