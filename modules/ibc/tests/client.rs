//! 07-tendermint clients through ibc-rs's `dispatch` over Verdict's context:
//! created and updated with headers that real validator keys sign (tendermint-
//! testgen builds and signs the light blocks), and refused, with nothing
//! written, when the header is not what the trusted validators signed.

use std::time::Duration;

use cosmwasm_std::testing::MockStorage as MemoryStorage;
use cosmwasm_std::{Order, Storage};
use ibc::clients::tendermint::client_state::ClientState as TmClientState;
use ibc::clients::tendermint::types::{
    AllowUpdate, ClientState as ClientStateType, ConsensusState as ConsensusStateType,
    Header as TmHeader, TrustThreshold,
};
use ibc::core::client::types::msgs::{MsgCreateClient, MsgUpdateClient};
use ibc::core::client::types::Height;
use ibc::core::commitment_types::specs::ProofSpecs;
use ibc::core::host::types::identifiers::{ChainId, ClientId};
use ibc::primitives::proto::{Any, Protobuf};
use prost::Message;
use tendermint_testgen::{Generator, Header, LightBlock, Validator};
use verdict_core::address::Addr;
use verdict_core::ctx::{BlockInfo, Ctx};
use verdict_core::event::Event;
use verdict_core::gas::GasMeter;
use verdict_core::storage::{Layered, Overlay};
use verdict_ibc::{flat_key, IbcError, IbcMsg};

const COUNTERPARTY: &str = "mock-1";
/// Counterparty block times: 1_700_000_000 + height seconds.
const T0: i64 = 1_700_000_000;

fn signer() -> String {
    Addr::from_slice(&[7; 20]).expect("addr").bech32()
}

fn validators() -> Vec<Validator> {
    vec![
        Validator::new("a").voting_power(50),
        Validator::new("b").voting_power(50),
    ]
}

fn light_block(height: u64, vals: &[Validator]) -> tendermint_testgen::light_block::TmLightBlock {
    light_block_at(height, T0 + i64::try_from(height).expect("h"), vals)
}

fn light_block_at(
    height: u64,
    secs: i64,
    vals: &[Validator],
) -> tendermint_testgen::light_block::TmLightBlock {
    let header = Header::new(vals)
        .height(height)
        .chain_id(COUNTERPARTY)
        .next_validators(vals)
        .app_hash(
            tendermint::AppHash::try_from(vec![u8::try_from(height % 256).expect("byte"); 32])
                .expect("app hash"),
        )
        .time(tendermint::Time::from_unix_timestamp(secs, 0).expect("time"));
    LightBlock::new_default_with_header(header)
        .validators(vals)
        .next_validators(vals)
        .generate()
        .expect("light block")
}

fn rev_height(h: u64) -> Height {
    Height::new(1, h).expect("height")
}

fn create_client_msg(h: u64) -> Any {
    let lb = light_block(h, &validators());
    let cs = ClientStateType::new(
        ChainId::new(COUNTERPARTY).expect("chain id"),
        TrustThreshold::ONE_THIRD,
        Duration::from_secs(14 * 24 * 3600),
        Duration::from_secs(21 * 24 * 3600),
        Duration::from_secs(60),
        rev_height(h),
        ProofSpecs::cosmos(),
        vec![],
        AllowUpdate {
            after_expiry: false,
            after_misbehaviour: false,
        },
    )
    .expect("client state");
    let cons: ConsensusStateType = lb.signed_header.header.clone().into();
    let msg = MsgCreateClient::new(
        TmClientState::from(cs).into(),
        ibc::clients::tendermint::consensus_state::ConsensusState::from(cons).into(),
        signer().into(),
    );
    Any {
        type_url: "/ibc.core.client.v1.MsgCreateClient".into(),
        value: msg.encode_vec(),
    }
}

fn update_client_msg(trusted: u64, h: u64, signers: &[Validator]) -> Any {
    update_client_msg_at(trusted, h, T0 + i64::try_from(h).expect("h"), signers)
}

fn update_client_msg_at(trusted: u64, h: u64, secs: i64, signers: &[Validator]) -> Any {
    let lb = light_block_at(h, secs, signers);
    let header = TmHeader {
        signed_header: lb.signed_header,
        validator_set: lb.validators,
        trusted_height: rev_height(trusted),
        trusted_next_validator_set: light_block(trusted, &validators()).next_validators,
    };
    let msg = MsgUpdateClient {
        client_id: ClientId::new("07-tendermint", 0).expect("id"),
        client_message: header.into(),
        signer: signer().into(),
    };
    Any {
        type_url: "/ibc.core.client.v1.MsgUpdateClient".into(),
        value: msg.encode_vec(),
    }
}

fn sdk_any(a: &Any) -> cosmrs::Any {
    cosmrs::Any {
        type_url: a.type_url.clone(),
        value: a.value.clone(),
    }
}

/// Runs one message on a fresh overlay over `base`, the way the tx pipeline
/// does: returns the result, the writes, and the events.
fn run(
    base: &MemoryStorage,
    msg: &Any,
    host_height: u64,
) -> (Result<cosmrs::Any, IbcError>, Overlay, Vec<Event>) {
    let decoded = IbcMsg::decode(&sdk_any(msg))
        .expect("decodes")
        .expect("is ibc");
    let mut ov = Overlay::new();
    let mut events = Vec::new();
    let gas = GasMeter::new(u64::MAX);
    let block = BlockInfo {
        height: host_height,
        // The host runs a little after the counterparty's blocks.
        time_seconds: T0 + 100,
        time_nanos: 0,
        chain_id: "verdict-1".into(),
    };
    let result = {
        let mut view = Layered::new(base, &mut ov);
        let mut ctx = Ctx {
            store: &mut view,
            gas: &gas,
            events: &mut events,
            block: &block,
            router: None,
        };
        verdict_ibc::execute(&mut ctx, &decoded)
    };
    (result, ov, events)
}

fn apply(base: &mut MemoryStorage, ov: Overlay) {
    for (k, v) in ov {
        match v {
            Some(v) => base.set(&k, &v),
            None => base.remove(&k),
        }
    }
}

fn genesis() -> MemoryStorage {
    let mut s = MemoryStorage::new();
    verdict_ibc::genesis::init(&mut s);
    s
}

fn stored_client_state(s: &MemoryStorage) -> ClientStateType {
    let bytes = s
        .get(&flat_key(b"clients/07-tendermint-0/clientState"))
        .expect("client state stored");
    let any = Any::decode(bytes.as_slice()).expect("any");
    TmClientState::try_from(any)
        .expect("tm client state")
        .inner()
        .clone()
}

fn attr<'a>(events: &'a [Event], kind: &str, key: &str) -> Option<&'a str> {
    events
        .iter()
        .find(|e| e.kind == kind)
        .and_then(|e| e.attributes.iter().find(|(k, _)| k == key))
        .map(|(_, v)| v.as_str())
}

#[test]
fn a_tendermint_client_is_created_then_updated_with_a_validator_signed_header() {
    let mut s = genesis();
    let (r, ov, events) = run(&s, &create_client_msg(5), 10);
    let resp = r.expect("create client");
    assert_eq!(resp.type_url, "/ibc.core.client.v1.MsgCreateClientResponse");
    assert_eq!(
        attr(&events, "create_client", "client_id"),
        Some("07-tendermint-0")
    );
    assert_eq!(
        attr(&events, "create_client", "consensus_height"),
        Some("1-5")
    );
    // Indexed when they reach CometBFT.
    assert!(events[0].to_abci().attributes.iter().all(|a| a.index));
    apply(&mut s, ov);
    assert_eq!(stored_client_state(&s).latest_height, rev_height(5));
    assert_eq!(
        s.get(&flat_key(b"nextClientSequence")),
        Some(1u64.to_be_bytes().to_vec())
    );
    assert!(s
        .get(&flat_key(b"clients/07-tendermint-0/consensusStates/1-5"))
        .is_some());

    let (r, ov, events) = run(&s, &update_client_msg(5, 8, &validators()), 11);
    r.expect("update client");
    assert_eq!(
        attr(&events, "update_client", "client_id"),
        Some("07-tendermint-0")
    );
    assert_eq!(
        attr(&events, "update_client", "consensus_heights"),
        Some("1-8")
    );
    apply(&mut s, ov);
    assert_eq!(stored_client_state(&s).latest_height, rev_height(8));
    let cs = s
        .get(&flat_key(b"clients/07-tendermint-0/consensusStates/1-8"))
        .expect("consensus state at 8");
    let cs = ibc::clients::tendermint::consensus_state::ConsensusState::try_from(
        Any::decode(cs.as_slice()).expect("any"),
    )
    .expect("tm consensus state");
    assert_eq!(
        cs.inner().timestamp,
        tendermint::Time::from_unix_timestamp(T0 + 8, 0).expect("t")
    );
    // Processed time and height: the host block that accepted the header.
    assert_eq!(
        s.get(&flat_key(
            b"clients/07-tendermint-0/consensusStates/1-8/processedTime"
        )),
        Some(((T0 as u64 + 100) * 1_000_000_000).to_be_bytes().to_vec())
    );
    let heights: Vec<Vec<u8>> = s
        .range(Some(b"ibc_index/"), Some(b"ibc_index0"), Order::Ascending)
        .map(|(k, _)| k)
        .collect();
    assert_eq!(heights.len(), 2, "index of consensus heights 5 and 8");
}

#[test]
fn a_header_the_trusted_validators_did_not_sign_is_refused_and_writes_nothing() {
    let mut s = genesis();
    let (r, ov, _) = run(&s, &create_client_msg(5), 10);
    r.expect("create");
    apply(&mut s, ov);

    let strangers = vec![
        Validator::new("x").voting_power(50),
        Validator::new("y").voting_power(50),
    ];
    let (r, ov, events) = run(&s, &update_client_msg(5, 8, &strangers), 11);
    let err = r.expect_err("strangers' header");
    assert!(matches!(err, IbcError::Handler(_)), "{err}");
    assert!(ov.is_empty(), "nothing written: {ov:?}");
    assert!(events.is_empty());

    // A header for a client that does not exist.
    let mut fresh = genesis();
    let (r, ov, _) = run(&fresh, &update_client_msg(5, 8, &validators()), 11);
    assert!(r.is_err());
    assert!(ov.is_empty());
    apply(&mut fresh, ov);

    // A header older than the trusted height.
    let (r, ov, _) = run(&s, &update_client_msg(5, 4, &validators()), 11);
    assert!(r.is_err());
    assert!(ov.is_empty());
}

#[test]
fn malformed_ibc_messages_are_rejected_at_decode_and_packet_messages_decode() {
    let garbage = cosmrs::Any {
        type_url: "/ibc.core.client.v1.MsgCreateClient".into(),
        value: vec![0xff, 0x01, 0x02],
    };
    assert!(matches!(IbcMsg::decode(&garbage), Err(IbcError::Decode(_))));
    let unknown = cosmrs::Any {
        type_url: "/ibc.core.client.v1.MsgNope".into(),
        value: vec![],
    };
    assert!(matches!(IbcMsg::decode(&unknown), Err(IbcError::Decode(_))));
    // A signer that is not a Verdict address.
    let mut bad_signer = MsgCreateClient::decode_vec(&create_client_msg(5).value).expect("msg");
    bad_signer.signer = "cosmos1notours".to_string().into();
    let any = cosmrs::Any {
        type_url: "/ibc.core.client.v1.MsgCreateClient".into(),
        value: bad_signer.encode_vec(),
    };
    assert!(matches!(IbcMsg::decode(&any), Err(IbcError::Decode(_))));
    // Not IBC at all: left to other modules.
    let bank = cosmrs::Any {
        type_url: "/cosmos.bank.v1beta1.MsgSend".into(),
        value: vec![],
    };
    assert_eq!(IbcMsg::decode(&bank), Ok(None));
    // Channel handshake messages decode (the inference application is bound).
    use ibc::core::channel::types::proto::v1 as chan;
    let open_init = chan::MsgChannelOpenInit {
        port_id: "inference".into(),
        channel: Some(chan::Channel {
            state: 1,
            ordering: 1,
            counterparty: Some(chan::Counterparty {
                port_id: "inference".into(),
                channel_id: String::new(),
            }),
            connection_hops: vec!["connection-0".into()],
            version: "verdict-inference-1".into(),
            upgrade_sequence: 0,
        }),
        signer: signer(),
    };
    let any = cosmrs::Any {
        type_url: "/ibc.core.channel.v1.MsgChannelOpenInit".into(),
        value: open_init.encode_to_vec(),
    };
    let msg = IbcMsg::decode(&any)
        .expect("decodes")
        .expect("an IBC message");
    assert_eq!(msg.signer.bech32(), signer());
    // Packet messages decode, with the relayer as signer (ibc-rs checks them).
    let recv = chan::MsgRecvPacket {
        packet: Some(chan::Packet {
            sequence: 1,
            source_port: "inference".into(),
            source_channel: "channel-0".into(),
            destination_port: "inference".into(),
            destination_channel: "channel-0".into(),
            data: b"{}".to_vec(),
            timeout_height: Some(ibc::core::client::types::proto::v1::Height {
                revision_number: 0,
                revision_height: 100,
            }),
            timeout_timestamp: 0,
        }),
        proof_commitment: vec![1],
        proof_height: Some(ibc::core::client::types::proto::v1::Height {
            revision_number: 0,
            revision_height: 10,
        }),
        signer: signer(),
    };
    let any = cosmrs::Any {
        type_url: "/ibc.core.channel.v1.MsgRecvPacket".into(),
        value: recv.encode_to_vec(),
    };
    let msg = IbcMsg::decode(&any)
        .expect("decodes")
        .expect("an IBC message");
    assert_eq!(msg.signer.bech32(), signer());
    // One whose signer is no address is refused at decode.
    let mut bad = recv;
    bad.signer = "nobody".into();
    let any = cosmrs::Any {
        type_url: "/ibc.core.channel.v1.MsgRecvPacket".into(),
        value: bad.encode_to_vec(),
    };
    match IbcMsg::decode(&any) {
        Err(e @ IbcError::Decode(_)) => {
            assert_eq!(verdict_core::AbciError::code(&e), 2);
        }
        other => panic!("expected a decode error, got {other:?}"),
    }
}

#[test]
fn a_header_between_two_consensus_states_fills_the_gap_in_height_order() {
    let mut s = genesis();
    for (msg, host) in [
        (create_client_msg(5), 10),
        (update_client_msg(5, 8, &validators()), 11),
        // Older than the latest: ibc-rs checks it against its neighbours 5 and 8.
        (update_client_msg(5, 6, &validators()), 12),
    ] {
        let (r, ov, _) = run(&s, &msg, host);
        r.expect("accepted");
        apply(&mut s, ov);
    }
    assert_eq!(
        stored_client_state(&s).latest_height,
        rev_height(8),
        "latest stays 8"
    );
    let heights: Vec<Vec<u8>> = s
        .range(Some(b"ibc_index/"), Some(b"ibc_index0"), Order::Ascending)
        .map(|(k, _)| k[k.len() - 8..].to_vec())
        .collect();
    let want: Vec<Vec<u8>> = [5u64, 6, 8]
        .iter()
        .map(|h| h.to_be_bytes().to_vec())
        .collect();
    assert_eq!(heights, want);
}

#[test]
fn a_header_whose_time_breaks_monotonicity_with_its_neighbours_freezes_the_client() {
    let mut s = genesis();
    for (msg, host) in [
        (create_client_msg(5), 10),
        (update_client_msg(5, 8, &validators()), 11),
    ] {
        let (r, ov, _) = run(&s, &msg, host);
        r.expect("accepted");
        apply(&mut s, ov);
    }
    // Height 6 claiming a time after height 8's: the validators signed two
    // histories that cannot both be true, which the prev/next lookups expose.
    let late = T0 + 50;
    let (r, ov, events) = run(&s, &update_client_msg_at(5, 6, late, &validators()), 12);
    r.expect("misbehaviour is handled, not an error");
    assert!(
        events.iter().any(|e| e.kind == "client_misbehaviour"),
        "{events:?}"
    );
    apply(&mut s, ov);
    assert!(stored_client_state(&s).frozen_height.is_some(), "frozen");
    // A frozen client takes no more updates.
    let (r, ov, _) = run(&s, &update_client_msg(8, 9, &validators()), 13);
    assert!(r.is_err());
    assert!(ov.is_empty());
}

/// security review H-1: `MsgRecoverClient` (and `MsgUpgradeClient`) carry no
/// authority check in ibc-rs; ibc-go gives them to governance. Verdict has no
/// authority yet, so both are refused at decode, for every signer, before any
/// state is read.
#[test]
fn recover_and_upgrade_client_are_refused_for_every_signer() {
    use ibc::core::client::types::proto::v1::{MsgRecoverClient, MsgUpgradeClient};
    let signer = Addr([7; 20]).bech32();
    let recover = cosmrs::Any {
        type_url: "/ibc.core.client.v1.MsgRecoverClient".into(),
        value: MsgRecoverClient {
            subject_client_id: "07-tendermint-0".into(),
            substitute_client_id: "07-tendermint-1".into(),
            signer: signer.clone(),
        }
        .encode_to_vec(),
    };
    let upgrade = cosmrs::Any {
        type_url: "/ibc.core.client.v1.MsgUpgradeClient".into(),
        value: MsgUpgradeClient {
            client_id: "07-tendermint-0".into(),
            signer,
            ..Default::default()
        }
        .encode_to_vec(),
    };
    for any in [recover, upgrade] {
        let e = IbcMsg::decode(&any).expect_err(&any.type_url);
        assert!(
            matches!(e, IbcError::Unauthorized(_)),
            "{}: {e:?}",
            any.type_url
        );
        assert_eq!(
            verdict_core::AbciError::code(&e),
            verdict_core::codes::UNAUTHORIZED
        );
        assert!(e.to_string().contains("governance authority"), "{e}");
    }
}
