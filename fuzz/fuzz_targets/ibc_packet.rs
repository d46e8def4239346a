//! The `inference` port's packet data and acknowledgements on arbitrary bytes:
//! decoding, then the serving side (a request becomes a job or an error
//! acknowledgement: tensors, shapes, fee checks of `MsgSubmitJob`), and the
//! same bytes as an acknowledgement (decode and round trip; the close of a
//! packet with no request on record), over an open channel, a registered model
//! (id `MODEL`, 64 hex characters) and a funded payer. Never panics; the
//! inference module's and the inference app's books hold after.
//!
//!   make fuzz FUZZ_TARGET=ibc_packet
#![no_main]

use cosmwasm_std::testing::MockStorage;
use ibc::core::channel::types::channel::{ChannelEnd, Counterparty, Order, State};
use ibc::core::channel::types::packet::Packet;
use ibc::core::channel::types::timeout::{TimeoutHeight, TimeoutTimestamp};
use ibc::core::channel::types::Version;
use ibc::core::host::types::identifiers::{ChannelId, ConnectionId, PortId};
use ibc::core::host::types::path::ChannelEndPath;
use ibc::core::host::ExecutionContext;
use ibc::primitives::Timestamp;
use libfuzzer_sys::fuzz_target;
use prost::Message;
use verdict_core::ctx::{BlockInfo, Ctx};
use verdict_core::gas::GasMeter;
use verdict_ibc::context::{HostInfo, IbcContext};
use verdict_ibc::inference_app::{apply, check_invariants, payer, PortEvent};
use verdict_ibc::inference_packet::{InferenceAck, InferenceRequest};
use verdict_ibc::inference_port::{PORT, VERSION};
use verdict_inference::msgs::InferenceMsg;
use verdict_proto::inference::v1 as pb;

const MODEL: &str = "abababababababababababababababababababababababababababababababab";

fn host() -> HostInfo {
    HostInfo::new("verdict-1", 30, 1_700_000_000, 0, 1_814_400).expect("host")
}

fn block() -> BlockInfo {
    BlockInfo {
        height: 30,
        time_seconds: 1_700_000_000,
        time_nanos: 0,
        chain_id: "verdict-1".into(),
    }
}

fn port() -> PortId {
    PortId::new(PORT.to_string()).expect("port")
}

/// An open channel-0, its payer funded, model [`MODEL`] registered.
fn setup() -> MockStorage {
    let mut s = MockStorage::new();
    let owner = verdict_app::txbuild::AccountKey::from_bytes(&[7; 32])
        .expect("key")
        .address();
    verdict_bank::genesis::BankGenesis {
        balances: vec![
            verdict_bank::genesis::GenesisBalance {
                address: payer("channel-0").bech32(),
                coins: "1000000000uverd".into(),
            },
            verdict_bank::genesis::GenesisBalance {
                address: owner.bech32(),
                coins: "1000000000uverd".into(),
            },
        ],
    }
    .init(&mut s)
    .expect("bank");
    verdict_inference::genesis::InferenceGenesis::default()
        .init(&mut s)
        .expect("inference");
    let end = ChannelEnd::new(
        State::Open,
        Order::Unordered,
        Counterparty::new(port(), Some(ChannelId::new(4))),
        vec![ConnectionId::new(0)],
        Version::new(VERSION.into()),
    )
    .expect("end");
    IbcContext::new(&mut s, host())
        .store_channel(&ChannelEndPath::new(&port(), &ChannelId::new(0)), end)
        .expect("channel");
    let register = verdict_inference::msgs::mlp_register_msg(
        owner.bech32(),
        MODEL,
        vec!["http://models.example/mlp.onnx".into()],
        1024,
    );
    let msg = InferenceMsg::decode(&cosmrs::Any {
        type_url: pb::MSG_REGISTER_MODEL_URL.into(),
        value: register.encode_to_vec(),
    })
    .expect("decode")
    .expect("an inference msg");
    with_ctx(&mut s, |ctx| {
        verdict_inference::handler::execute(ctx, &msg).map(|_| ())
    })
    .expect("register");
    s
}

fn with_ctx<R>(s: &mut MockStorage, f: impl FnOnce(&mut Ctx<'_>) -> R) -> R {
    let gas = GasMeter::infinite();
    let mut events = Vec::new();
    let block = block();
    let mut ctx = Ctx {
        store: s,
        gas: &gas,
        events: &mut events,
        block: &block,
        router: None,
    };
    f(&mut ctx)
}

fn packet(seq: u64, data: &[u8]) -> Packet {
    Packet {
        seq_on_a: seq.into(),
        port_id_on_a: port(),
        chan_id_on_a: ChannelId::new(4),
        port_id_on_b: port(),
        chan_id_on_b: ChannelId::new(0),
        data: data.to_vec(),
        timeout_height_on_b: TimeoutHeight::Never,
        timeout_timestamp_on_b: TimeoutTimestamp::At(Timestamp::from_nanoseconds(u64::MAX / 2)),
    }
}

fuzz_target!(|data: &[u8]| {
    let mut s = setup();
    let host = host();
    if let Ok(request) = InferenceRequest::decode(data) {
        let ev = PortEvent::Request {
            packet: packet(1, data),
            request,
        };
        let _ = with_ctx(&mut s, |ctx| apply(ctx, &host, vec![ev]));
        check_invariants(&s).expect("books after a request");
        verdict_inference::state::check_invariants(&s, "uverd")
            .expect("jobs' books after a request");
    }
    if let Ok(ack) = InferenceAck::decode(data) {
        assert_eq!(
            InferenceAck::decode(&ack.to_bytes()).ok(),
            Some(ack),
            "ack round trip"
        );
    }
    let ev = PortEvent::Ack {
        packet: packet(2, b"{}"),
        ack: data.to_vec(),
    };
    let _ = with_ctx(&mut s, |ctx| apply(ctx, &host, vec![ev]));
    check_invariants(&s).expect("books after an ack");
});
