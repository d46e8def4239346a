//! [`link`]: a client of each chain on the other, then the ICS-03 connection
//! and ICS-04 channel handshakes, chain A initiating each. Every
//! proof-carrying message goes in one tx after the MsgUpdateClient that makes
//! the counterparty trust the proof's header (see [`proof_point`]).

use anyhow::{anyhow, bail};
use prost::Message;
use serde_json::json;
use verdict_client::keyring::Keyring;
use verdict_client::response::TxResponse;
use verdict_ibc::ibc;

use ibc::clients::tendermint::client_state::ClientState as TmClientState;
use ibc::clients::tendermint::consensus_state::ConsensusState as TmConsensusState;
use ibc::clients::tendermint::types::{
    AllowUpdate, ClientState as ClientStateType, ConsensusState as ConsensusStateType,
    TrustThreshold,
};
use ibc::core::channel::types::proto::v1 as chan;
use ibc::core::client::types::msgs::MsgCreateClient;
use ibc::core::client::types::Height;
use ibc::core::commitment_types::proto::v1::MerklePrefix;
use ibc::core::connection::types::proto::v1 as conn;
use ibc::core::host::types::identifiers::ChainId;
use ibc::primitives::proto::{Any, Protobuf};

use crate::endpoint::{any_of, Endpoint, Proven};
use crate::path::{End, PathFile};
use crate::{proof_point, signer_of, ProofPoint, MAX_CLOCK_DRIFT, PORT, VERSION};

/// The whole link: clients, connection, channel. A initiates each handshake.
/// Returns the path (ids and the heights to relay from) and the txs sent.
pub fn link(
    a: &Endpoint,
    b: &Endpoint,
    kr: &Keyring,
    key: &str,
) -> anyhow::Result<(PathFile, Vec<serde_json::Value>)> {
    if a.chain_id == b.chain_id {
        bail!("both nodes are on chain {}", a.chain_id);
    }
    let mut l = Linker {
        a,
        b,
        kr,
        key,
        signer: signer_of(kr, key)?,
        prefix: Some(MerklePrefix {
            key_prefix: verdict_ibc::STORE_KEY.to_vec(),
        }),
        log: TxLog::default(),
        last_a: 0,
        last_b: 0,
    };
    let (client_a, client_b) = l.clients()?;
    let (conn_a, conn_b) = l.connection(&client_a, &client_b)?;
    let (chan_a, chan_b) = l.channel(&client_a, &client_b, &conn_a, &conn_b)?;

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
        a: end(a, client_a, conn_a, chan_a, l.last_a),
        b: end(b, client_b, conn_b, chan_b, l.last_b),
    };
    Ok((path, l.log.0))
}

/// The handshakes' state: who signs, and the last height each chain's txs
/// landed in (the next proof of that chain must be of a later state).
struct Linker<'a> {
    a: &'a Endpoint,
    b: &'a Endpoint,
    kr: &'a Keyring,
    key: &'a str,
    signer: String,
    prefix: Option<MerklePrefix>,
    log: TxLog,
    last_a: u64,
    last_b: u64,
}

impl Linker<'_> {
    /// A hosts a client of B, B a client of A.
    fn clients(&mut self) -> anyhow::Result<(String, String)> {
        let (a, b) = (self.a, self.b);
        let r = a.submit(self.kr, self.key, vec![create_client_msg(b, &self.signer)?])?;
        let client_a = required(&r, "create_client", "client_id")?;
        self.log.say(
            &format!("client {client_a} of {}", b.chain_id),
            &a.chain_id,
            &r,
        );
        let r = b.submit(self.kr, self.key, vec![create_client_msg(a, &self.signer)?])?;
        let client_b = required(&r, "create_client", "client_id")?;
        self.log.say(
            &format!("client {client_b} of {}", a.chain_id),
            &b.chain_id,
            &r,
        );
        Ok((client_a, client_b))
    }

    /// ICS-03: Init on A, Try on B, Ack on A, Confirm on B.
    fn connection(&mut self, client_a: &str, client_b: &str) -> anyhow::Result<(String, String)> {
        let conn_a = self.conn_open_init(client_a, client_b)?;
        let (conn_b, versions) = self.conn_open_try(client_a, client_b, &conn_a)?;
        self.conn_open_ack(client_a, client_b, &conn_a, &conn_b, versions)?;
        self.conn_open_confirm(client_b, &conn_a, &conn_b)?;
        Ok((conn_a, conn_b))
    }

    fn conn_open_init(&mut self, client_a: &str, client_b: &str) -> anyhow::Result<String> {
        let init = conn::MsgConnectionOpenInit {
            client_id: client_a.to_string(),
            counterparty: Some(conn::Counterparty {
                client_id: client_b.to_string(),
                connection_id: String::new(),
                prefix: self.prefix.clone(),
            }),
            version: None,
            delay_period: 0,
            signer: self.signer.clone(),
        };
        let r = self.a.submit(
            self.kr,
            self.key,
            vec![any_of(
                init,
                "/ibc.core.connection.v1.MsgConnectionOpenInit",
            )],
        )?;
        let conn_a = required(&r, "connection_open_init", "connection_id")?;
        self.log
            .say(&format!("ConnOpenInit {conn_a}"), &self.a.chain_id, &r);
        self.last_a = r.height;
        Ok(conn_a)
    }

    /// B: ConnOpenTry, proving A's connection end, A's client of B and its
    /// consensus state, at one height of A. Returns B's connection id and the
    /// versions A offered.
    fn conn_open_try(
        &mut self,
        client_a: &str,
        client_b: &str,
        conn_a: &str,
    ) -> anyhow::Result<(String, Vec<conn::Version>)> {
        let (a, b) = (self.a, self.b);
        let pt = proof_point(a, b, client_b, self.last_a, &self.signer)?;
        let end_a = a.prove(&format!("connections/{conn_a}"), pt.h, &pt.app_hash)?;
        let end_a_value = conn::ConnectionEnd::decode(end_a.value.as_slice())?;
        let (client_on_a, cons_h) = prove_client(a, client_a, &pt)?;
        let cons_on_a = prove_consensus(a, client_a, cons_h, &pt)?;
        let try_msg = conn::MsgConnectionOpenTry {
            client_id: client_b.to_string(),
            #[allow(deprecated)] // still on the wire type
            previous_connection_id: String::new(),
            client_state: Some(tendermint_proto::google::protobuf::Any::decode(
                client_on_a.value.as_slice(),
            )?),
            counterparty: Some(conn::Counterparty {
                client_id: client_a.to_string(),
                connection_id: conn_a.to_string(),
                prefix: self.prefix.clone(),
            }),
            delay_period: 0,
            counterparty_versions: end_a_value.versions.clone(),
            proof_height: pt.raw_height(),
            proof_init: end_a.proof,
            proof_client: client_on_a.proof,
            proof_consensus: cons_on_a.proof,
            consensus_height: Some(cons_h.into()),
            signer: self.signer.clone(),
            host_consensus_state_proof: vec![],
        };
        let r = b.submit(
            self.kr,
            self.key,
            with_update(
                &pt,
                any_of(try_msg, "/ibc.core.connection.v1.MsgConnectionOpenTry"),
            ),
        )?;
        let conn_b = required(&r, "connection_open_try", "connection_id")?;
        self.log
            .say(&format!("ConnOpenTry {conn_b}"), &b.chain_id, &r);
        self.last_b = r.height;
        Ok((conn_b, end_a_value.versions))
    }

    /// A: ConnOpenAck, proving B's end, B's client of A and its consensus state.
    fn conn_open_ack(
        &mut self,
        client_a: &str,
        client_b: &str,
        conn_a: &str,
        conn_b: &str,
        versions: Vec<conn::Version>,
    ) -> anyhow::Result<()> {
        let (a, b) = (self.a, self.b);
        let pt = proof_point(b, a, client_a, self.last_b, &self.signer)?;
        let end_b = b.prove(&format!("connections/{conn_b}"), pt.h, &pt.app_hash)?;
        let (client_on_b, cons_h) = prove_client(b, client_b, &pt)?;
        // ibc-rs requires A to be past the height B's client of A trusts.
        a.wait_for_height(cons_h.revision_height().saturating_add(1))?;
        let cons_on_b = prove_consensus(b, client_b, cons_h, &pt)?;
        let ack = conn::MsgConnectionOpenAck {
            connection_id: conn_a.to_string(),
            counterparty_connection_id: conn_b.to_string(),
            version: versions.first().cloned(),
            client_state: Some(tendermint_proto::google::protobuf::Any::decode(
                client_on_b.value.as_slice(),
            )?),
            proof_height: pt.raw_height(),
            proof_try: end_b.proof,
            proof_client: client_on_b.proof,
            proof_consensus: cons_on_b.proof,
            consensus_height: Some(cons_h.into()),
            signer: self.signer.clone(),
            host_consensus_state_proof: vec![],
        };
        let r = a.submit(
            self.kr,
            self.key,
            with_update(
                &pt,
                any_of(ack, "/ibc.core.connection.v1.MsgConnectionOpenAck"),
            ),
        )?;
        self.log.say("ConnOpenAck", &a.chain_id, &r);
        self.last_a = r.height;
        Ok(())
    }

    /// B: ConnOpenConfirm, proving A's end is OPEN.
    fn conn_open_confirm(
        &mut self,
        client_b: &str,
        conn_a: &str,
        conn_b: &str,
    ) -> anyhow::Result<()> {
        let (a, b) = (self.a, self.b);
        let pt = proof_point(a, b, client_b, self.last_a, &self.signer)?;
        let end_a = a.prove(&format!("connections/{conn_a}"), pt.h, &pt.app_hash)?;
        let confirm = conn::MsgConnectionOpenConfirm {
            connection_id: conn_b.to_string(),
            proof_ack: end_a.proof,
            proof_height: pt.raw_height(),
            signer: self.signer.clone(),
        };
        let r = b.submit(
            self.kr,
            self.key,
            with_update(
                &pt,
                any_of(confirm, "/ibc.core.connection.v1.MsgConnectionOpenConfirm"),
            ),
        )?;
        self.log.say("ConnOpenConfirm", &b.chain_id, &r);
        self.last_b = r.height;
        Ok(())
    }

    /// ICS-04 on port `inference`: Init on A, Try on B, Ack on A, Confirm on B.
    fn channel(
        &mut self,
        client_a: &str,
        client_b: &str,
        conn_a: &str,
        conn_b: &str,
    ) -> anyhow::Result<(String, String)> {
        let chan_a = self.chan_open_init(conn_a)?;
        let chan_b = self.chan_open_try(client_b, conn_b, &chan_a)?;
        self.chan_open_ack(client_a, &chan_a, &chan_b)?;
        self.chan_open_confirm(client_b, &chan_a, &chan_b)?;
        Ok((chan_a, chan_b))
    }

    fn chan_open_init(&mut self, conn_a: &str) -> anyhow::Result<String> {
        let init = chan::MsgChannelOpenInit {
            port_id: PORT.into(),
            channel: Some(chan::Channel {
                state: chan::State::Init as i32,
                ordering: chan::Order::Unordered as i32,
                counterparty: Some(chan::Counterparty {
                    port_id: PORT.into(),
                    channel_id: String::new(),
                }),
                connection_hops: vec![conn_a.to_string()],
                version: VERSION.into(),
                upgrade_sequence: 0,
            }),
            signer: self.signer.clone(),
        };
        let r = self.a.submit(
            self.kr,
            self.key,
            vec![any_of(init, "/ibc.core.channel.v1.MsgChannelOpenInit")],
        )?;
        let chan_a = required(&r, "channel_open_init", "channel_id")?;
        self.log
            .say(&format!("ChanOpenInit {chan_a}"), &self.a.chain_id, &r);
        self.last_a = r.height;
        Ok(chan_a)
    }

    fn chan_open_try(
        &mut self,
        client_b: &str,
        conn_b: &str,
        chan_a: &str,
    ) -> anyhow::Result<String> {
        let (a, b) = (self.a, self.b);
        let pt = proof_point(a, b, client_b, self.last_a, &self.signer)?;
        let end = a.prove(&channel_path(chan_a), pt.h, &pt.app_hash)?;
        let try_msg = chan::MsgChannelOpenTry {
            port_id: PORT.into(),
            #[allow(deprecated)] // still on the wire type
            previous_channel_id: String::new(),
            channel: Some(chan::Channel {
                state: chan::State::Tryopen as i32,
                ordering: chan::Order::Unordered as i32,
                counterparty: Some(chan::Counterparty {
                    port_id: PORT.into(),
                    channel_id: chan_a.to_string(),
                }),
                connection_hops: vec![conn_b.to_string()],
                version: VERSION.into(),
                upgrade_sequence: 0,
            }),
            counterparty_version: VERSION.into(),
            proof_init: end.proof,
            proof_height: pt.raw_height(),
            signer: self.signer.clone(),
        };
        let r = b.submit(
            self.kr,
            self.key,
            with_update(
                &pt,
                any_of(try_msg, "/ibc.core.channel.v1.MsgChannelOpenTry"),
            ),
        )?;
        let chan_b = required(&r, "channel_open_try", "channel_id")?;
        self.log
            .say(&format!("ChanOpenTry {chan_b}"), &b.chain_id, &r);
        self.last_b = self.last_b.max(r.height);
        Ok(chan_b)
    }

    fn chan_open_ack(&mut self, client_a: &str, chan_a: &str, chan_b: &str) -> anyhow::Result<()> {
        let (a, b) = (self.a, self.b);
        let pt = proof_point(b, a, client_a, self.last_b, &self.signer)?;
        let end = b.prove(&channel_path(chan_b), pt.h, &pt.app_hash)?;
        let ack = chan::MsgChannelOpenAck {
            port_id: PORT.into(),
            channel_id: chan_a.to_string(),
            counterparty_channel_id: chan_b.to_string(),
            counterparty_version: VERSION.into(),
            proof_try: end.proof,
            proof_height: pt.raw_height(),
            signer: self.signer.clone(),
        };
        let r = a.submit(
            self.kr,
            self.key,
            with_update(&pt, any_of(ack, "/ibc.core.channel.v1.MsgChannelOpenAck")),
        )?;
        self.log.say("ChanOpenAck", &a.chain_id, &r);
        self.last_a = r.height;
        Ok(())
    }

    fn chan_open_confirm(
        &mut self,
        client_b: &str,
        chan_a: &str,
        chan_b: &str,
    ) -> anyhow::Result<()> {
        let (a, b) = (self.a, self.b);
        let pt = proof_point(a, b, client_b, self.last_a, &self.signer)?;
        let end = a.prove(&channel_path(chan_a), pt.h, &pt.app_hash)?;
        let confirm = chan::MsgChannelOpenConfirm {
            port_id: PORT.into(),
            channel_id: chan_b.to_string(),
            proof_ack: end.proof,
            proof_height: pt.raw_height(),
            signer: self.signer.clone(),
        };
        let r = b.submit(
            self.kr,
            self.key,
            with_update(
                &pt,
                any_of(confirm, "/ibc.core.channel.v1.MsgChannelOpenConfirm"),
            ),
        )?;
        self.log.say("ChanOpenConfirm", &b.chain_id, &r);
        self.last_b = r.height;
        Ok(())
    }
}

/// `src`'s client `client` (of the counterparty) at `pt`, and its latest height.
fn prove_client(src: &Endpoint, client: &str, pt: &ProofPoint) -> anyhow::Result<(Proven, Height)> {
    let proven = src.prove(&format!("clients/{client}/clientState"), pt.h, &pt.app_hash)?;
    let cons_h = client_latest(&proven.value)?;
    Ok((proven, cons_h))
}

/// The consensus state at `cons_h` of `src`'s client `client`, at `pt`.
fn prove_consensus(
    src: &Endpoint,
    client: &str,
    cons_h: Height,
    pt: &ProofPoint,
) -> anyhow::Result<Proven> {
    src.prove(
        &format!(
            "clients/{client}/consensusStates/{}-{}",
            cons_h.revision_number(),
            cons_h.revision_height()
        ),
        pt.h,
        &pt.app_hash,
    )
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

fn with_update(point: &ProofPoint, msg: Any) -> Vec<Any> {
    point.update.iter().cloned().chain([msg]).collect()
}

fn required(r: &TxResponse, kind: &str, key: &str) -> anyhow::Result<String> {
    r.event_attr(kind, key)
        .map(str::to_string)
        .ok_or_else(|| anyhow!("tx {} has no {kind}.{key} event", r.hash))
}

/// The txs a link sent, for its report.
#[derive(Default)]
struct TxLog(Vec<serde_json::Value>);

impl TxLog {
    fn say(&mut self, step: &str, chain: &str, r: &TxResponse) {
        eprintln!(
            "relayer: {step} on {chain} in block {} (tx {})",
            r.height, r.hash
        );
        self.0
            .push(json!({"step": step, "chain_id": chain, "height": r.height, "txhash": r.hash}));
    }
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
