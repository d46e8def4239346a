//! The inference application's unit tests: serving (acknowledgements of
//! settled jobs), requesting (acknowledgements, timeouts, reclaims) and
//! `MsgRequestRemote` decoding.

use cosmwasm_std::testing::MockStorage as MemoryStorage;
use cosmwasm_std::{Binary, Storage};
use ibc::core::channel::types::acknowledgement::Acknowledgement;
use ibc::core::channel::types::channel::{ChannelEnd, Counterparty, Order, State};
use ibc::core::channel::types::commitment::compute_ack_commitment;
use ibc::core::channel::types::packet::Packet;
use ibc::core::channel::types::proto::v1::Packet as RawPacket;
use ibc::core::channel::types::timeout::{TimeoutHeight, TimeoutTimestamp};
use ibc::core::channel::types::Version;
use ibc::core::host::types::identifiers::{ChannelId, ConnectionId, PortId};
use ibc::core::host::types::path::{AckPath, ChannelEndPath};
use ibc::core::host::ExecutionContext;
use ibc::primitives::Timestamp;
use prost::Message;
use verdict_bank::Bank;
use verdict_core::address::{Addr, FEE_DENOM};
use verdict_core::coin::Coin;
use verdict_core::ctx::{BlockInfo, Ctx};
use verdict_core::gas::GasMeter;
use verdict_inference::state::{put_job_for_test, Job, JobResult, JobStatus};
use verdict_proto::inference::v1 as pb;

use super::state::{IN_FLIGHT, REQUESTS, SERVED};
use super::{
    apply, check_invariants, payer, query, reclaim, request_escrow, write_settled_acks, PortEvent,
    ReclaimRemote, RemoteRequest, RemoteStatus, RequestRemote, DEFAULT_TIMEOUT_SECONDS,
    MAX_TIMEOUT_SECONDS,
};
use crate::context::{HostInfo, IbcContext};
use crate::inference_packet::{InferenceAck, InferenceResult};
use crate::inference_port::{PORT, VERSION};
use crate::keys::flat_key;

fn host() -> HostInfo {
    HostInfo::new("verdict-1", 30, 1_700_000_000, 0, 1_814_400).expect("host")
}

fn port() -> PortId {
    PortId::new(PORT.to_string()).expect("port")
}

fn setup() -> MemoryStorage {
    let mut s = MemoryStorage::new();
    let end = ChannelEnd::new(
        State::Open,
        Order::Unordered,
        Counterparty::new(port(), Some(ChannelId::new(4))),
        vec![ConnectionId::new(0)],
        Version::new(VERSION.into()),
    )
    .expect("end");
    let mut ctx = IbcContext::new(&mut s, host());
    ctx.store_channel(&ChannelEndPath::new(&port(), &ChannelId::new(0)), end)
        .expect("channel");
    s
}

fn packet(seq: u64) -> Packet {
    Packet {
        seq_on_a: seq.into(),
        port_id_on_a: port(),
        chan_id_on_a: ChannelId::new(4),
        port_id_on_b: port(),
        chan_id_on_b: ChannelId::new(0),
        data: b"{}".to_vec(),
        timeout_height_on_b: TimeoutHeight::Never,
        timeout_timestamp_on_b: TimeoutTimestamp::At(Timestamp::from_nanoseconds(9)),
    }
}

fn job(id: u64, status: JobStatus, agreeing_power: u64) -> Job {
    Job {
        id,
        requester: payer("channel-0").0,
        model_id: "m".into(),
        max_latency_ms: 1000,
        fee: Coin::new(1000, FEE_DENOM),
        submitted_height: 1,
        submitted_time_ms: 0,
        commit_deadline: 11,
        commit_closed_height: 0,
        deadline_height: 21,
        committee: vec![],
        status,
        result: (status.is_final()).then(|| JobResult {
            digest: vec![7, -3],
            agreeing: vec![],
            agreeing_power,
            committee_power: 30,
            latency_ms: 5,
            faults: vec![],
            missing: vec![],
            late: vec![],
            grey: vec![],
            excused: vec![],
            finalized_height: 30,
            compensation: Default::default(),
            incident: false,
            challenge_until: 0,
            provisional: false,
        }),
        provenance: None,
        challenge_of: None,
        challenge: None,
    }
}

/// Issue 21 §1: a request that asked for `wait_final` is acknowledged only
/// once its result is final; one that did not, when it settles (saying it is
/// provisional).
#[test]
fn a_request_waiting_for_finality_is_acknowledged_only_once_final() {
    let mut s = setup();
    for id in [1u64, 2] {
        let mut j = job(id, JobStatus::Completed, 30);
        if let Some(r) = j.result.as_mut() {
            r.provisional = true;
            r.challenge_until = 40;
        }
        put_job_for_test(&mut s, &j).expect("job");
        SERVED
            .save(
                &mut s,
                id,
                &Binary::from(RawPacket::from(packet(id + 100)).encode_to_vec()),
            )
            .expect("served");
    }
    super::state::WAIT_FINAL.save(&mut s, 2, &()).expect("wait");
    let acks = |s: &mut MemoryStorage| {
        write_settled_acks(s, &host())
            .expect("acks")
            .iter()
            .filter(|e| e.kind == "write_acknowledgement")
            .count()
    };
    assert_eq!(acks(&mut s), 1, "job 1 at once, job 2 waits");
    let provisional = InferenceAck::Result(InferenceResult {
        output: vec![7, -3],
        tolerance: "0".into(),
        agreeing_power: 30,
        committee_power: 30,
        finalized_height: 30,
        finality: "provisional".into(),
    });
    let want =
        compute_ack_commitment(&Acknowledgement::try_from(provisional.to_bytes()).expect("ack"));
    assert_eq!(stored_ack(&s, 101), Some(want.into_vec()));
    assert_eq!(stored_ack(&s, 102), None);
    assert_eq!(acks(&mut s), 0, "still provisional");
    let mut j = verdict_inference::state::job(&s, 2)
        .expect("load")
        .expect("job 2");
    verdict_inference::jobs::make_final(&mut s, &mut j, 41).expect("final");
    assert_eq!(acks(&mut s), 1);
    assert!(stored_ack(&s, 102).is_some());
    assert!(!super::state::WAIT_FINAL.has(&s, 2));
    assert_eq!(acks(&mut s), 0, "written once");
}

fn stored_ack(s: &MemoryStorage, seq: u64) -> Option<Vec<u8>> {
    let path = AckPath::new(&port(), &ChannelId::new(0), seq.into());
    s.get(&flat_key(path.to_string().as_bytes()))
}

/// Block `height` at a fixed time on chain verdict-1.
fn block_at(height: u64) -> BlockInfo {
    BlockInfo {
        height,
        time_seconds: 1_700_000_000,
        time_nanos: 0,
        chain_id: "verdict-1".into(),
    }
}

/// Runs `f` in a message context on `s` in `block` (10 M gas); returns what
/// it returned and the events it emitted.
fn in_ctx<R>(
    s: &mut MemoryStorage,
    block: &BlockInfo,
    f: impl FnOnce(&mut Ctx<'_>) -> R,
) -> (R, Vec<verdict_core::event::Event>) {
    let gas = GasMeter::new(10_000_000);
    let mut events = Vec::new();
    let mut ctx = Ctx {
        store: s,
        gas: &gas,
        events: &mut events,
        block,
        router: None,
    };
    let r = f(&mut ctx);
    (r, events)
}

#[test]
fn settled_jobs_get_their_result_or_error_ack_and_live_ones_wait() {
    let mut s = setup();
    for (id, status, power) in [
        (1, JobStatus::Completed, 30),
        (2, JobStatus::Revealing, 0),
        (3, JobStatus::Failed, 10),
    ] {
        put_job_for_test(&mut s, &job(id, status, power)).expect("job");
        SERVED
            .save(
                &mut s,
                id,
                &Binary::from(RawPacket::from(packet(id + 100)).encode_to_vec()),
            )
            .expect("served");
    }
    let events = write_settled_acks(&mut s, &host()).expect("acks");
    let acks: Vec<_> = events
        .iter()
        .filter(|e| e.kind == "write_acknowledgement")
        .collect();
    assert_eq!(acks.len(), 2, "jobs 1 and 3 settled, job 2 is live");

    let result = InferenceAck::Result(InferenceResult {
        output: vec![7, -3],
        tolerance: "0".into(),
        agreeing_power: 30,
        committee_power: 30,
        finalized_height: 30,
        finality: "final".into(),
    });
    let want = compute_ack_commitment(&Acknowledgement::try_from(result.to_bytes()).expect("ack"));
    assert_eq!(stored_ack(&s, 101), Some(want.into_vec()));
    let err = InferenceAck::Error(
        "job 3 failed: 10 of 30 committee power agreed (more than 2/3 needed)".into(),
    );
    let want = compute_ack_commitment(&Acknowledgement::try_from(err.to_bytes()).expect("ack"));
    assert_eq!(stored_ack(&s, 103), Some(want.into_vec()));
    assert_eq!(stored_ack(&s, 102), None);
    let left: Vec<u64> = SERVED
        .keys(&s, None, None, cosmwasm_std::Order::Ascending)
        .collect::<Result<_, _>>()
        .expect("keys");
    assert_eq!(left, vec![2], "only the live job still waits");
    // Nothing more to write in the next block.
    let again = write_settled_acks(&mut s, &host()).expect("acks");
    assert!(again.is_empty());

    // A job whose channel is no longer open (closed by the counterparty, or
    // gone): no acknowledgement nobody could relay, an event saying why.
    let mut p = packet(104);
    p.chan_id_on_b = ChannelId::new(9);
    put_job_for_test(&mut s, &job(4, JobStatus::Completed, 30)).expect("job");
    SERVED
        .save(&mut s, 4, &Binary::from(RawPacket::from(p).encode_to_vec()))
        .expect("served");
    let events = write_settled_acks(&mut s, &host()).expect("acks");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, "inference_remote_ack_failed");
    assert!(!SERVED.has(&s, 4));
}

#[test]
fn a_request_that_can_no_longer_be_answered_is_closed_once_and_its_fee_never_refunded_unproven() {
    let mut s = setup(); // channel-0 open; channel-3 has no end
    let me = Addr([7; 20]);
    let fee = Coin::new(5000, FEE_DENOM);
    Bank::mint(&mut s, &request_escrow(), std::slice::from_ref(&fee)).expect("mint");
    Bank::mint(&mut s, &request_escrow(), std::slice::from_ref(&fee)).expect("mint");
    for ch in ["channel-0", "channel-3"] {
        let r = RemoteRequest {
            channel_id: ch.into(),
            sequence: 1,
            requester: me.0,
            model_id: "m".into(),
            fee: fee.clone(),
            sent_height: 1,
            timeout_timestamp_nanos: 1_700_000_000_000_000_000 - 1,
            status: RemoteStatus::Pending,
            result: None,
            error: None,
            closed_height: 0,
        };
        REQUESTS.save(&mut s, (ch, 1), &r).expect("save");
        IN_FLIGHT.save(&mut s, (ch, 1), &()).expect("save");
    }
    check_invariants(&s).expect("escrow = in flight");
    let block = block_at(30);
    let run = |s: &mut MemoryStorage, who: Addr, ch: &str| {
        let m = ReclaimRemote {
            requester: who,
            channel_id: ch.parse().expect("channel"),
            sequence: 1,
        };
        in_ctx(s, &block, |ctx| reclaim(ctx, &host(), &m))
            .0
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    // Open channel, a second past the timeout: not yet (relay it, or wait a day).
    let e = run(&mut s, me, "channel-0").expect_err("open channel");
    assert!(e.contains("is open"), "{e}");
    // Someone else: refused.
    let e = run(&mut s, Addr([8; 20]), "channel-3").expect_err("not the requester");
    assert!(e.contains("only the requester"), "{e}");
    // No open channel end: closed, escrow invariant still holds. The packet may
    // have been received and served (security review M-4: a withheld ack), so
    // the fee goes where a result's would, the community pool, not back to the
    // requester; only a proven timeout refunds.
    let pool = verdict_distribution::state::community_pool(&s).expect("pool");
    run(&mut s, me, "channel-3").expect("reclaimed");
    assert_eq!(
        Bank::balance(&s, &me, FEE_DENOM).expect("balance").u128(),
        0
    );
    assert_eq!(
        verdict_distribution::state::community_pool(&s).expect("pool"),
        pool + cosmwasm_std::Uint128::new(5000)
    );
    let r = REQUESTS.load(&s, ("channel-3", 1)).expect("request");
    assert_eq!(r.status, RemoteStatus::Failed);
    assert!(r.error.as_deref().unwrap_or("").contains("reclaimed"));
    check_invariants(&s).expect("escrow = in flight");
    // Once only.
    let e = run(&mut s, me, "channel-3").expect_err("again");
    assert!(e.contains("already closed"), "{e}");
    assert_eq!(
        Bank::balance(&s, &me, FEE_DENOM).expect("balance").u128(),
        0
    );
}

#[test]
fn a_result_ack_pays_the_escrow_into_the_community_pool_and_an_error_ack_refunds() {
    let mut s = setup();
    let me = Addr([7; 20]);
    let fee = Coin::new(5000, FEE_DENOM);
    for seq in [1u64, 2] {
        Bank::mint(&mut s, &request_escrow(), std::slice::from_ref(&fee)).expect("mint");
        let r = RemoteRequest {
            channel_id: "channel-4".into(),
            sequence: seq,
            requester: me.0,
            model_id: "m".into(),
            fee: fee.clone(),
            sent_height: 1,
            timeout_timestamp_nanos: u64::MAX,
            status: RemoteStatus::Pending,
            result: None,
            error: None,
            closed_height: 0,
        };
        REQUESTS.save(&mut s, ("channel-4", seq), &r).expect("save");
        IN_FLIGHT
            .save(&mut s, ("channel-4", seq), &())
            .expect("save");
    }
    check_invariants(&s).expect("escrow = in flight");
    // Our requests went out on channel-4 (the counterparty's view of packet()).
    let ours = |seq: u64| {
        let mut p = packet(seq);
        p.chan_id_on_a = ChannelId::new(4);
        p
    };
    let result = InferenceAck::Result(InferenceResult {
        output: vec![1, 2],
        tolerance: "0.5".into(),
        agreeing_power: 3,
        committee_power: 4,
        finalized_height: 77,
        finality: String::new(),
    });
    let port_events = vec![
        PortEvent::Ack {
            packet: ours(1),
            ack: result.to_bytes(),
        },
        PortEvent::Ack {
            packet: ours(2),
            ack: InferenceAck::Error("job 9 failed".into()).to_bytes(),
        },
        // A second delivery of the same ack (ibc-rs would refuse it; even so
        // nothing moves twice).
        PortEvent::Ack {
            packet: ours(1),
            ack: result.to_bytes(),
        },
    ];
    in_ctx(&mut s, &block_at(31), |ctx| {
        apply(ctx, &host(), port_events)
    })
    .0
    .expect("applied");
    let done = REQUESTS.load(&s, ("channel-4", 1)).expect("request");
    assert_eq!(done.status, RemoteStatus::Completed);
    assert_eq!(done.closed_height, 31);
    assert_eq!(
        done.result.as_ref().map(|r| r.finalized_height),
        Some(77),
        "the serving chain's result is stored"
    );
    let req = verdict_proto::inference::v1::QueryRemoteRequestRequest {
        channel_id: "channel-4".into(),
        sequence: 1,
    };
    let view = verdict_proto::inference::v1::QueryRemoteRequestResponse::decode(
        query(
            &s,
            "/verdict.inference.v1.Query/RemoteRequest",
            &prost::Message::encode_to_vec(&req),
        )
        .expect("query")
        .expect("ours")
        .as_slice(),
    )
    .expect("protobuf")
    .request
    .expect("request");
    assert_eq!(view.output_values, vec!["0.5", "1"]);
    assert_eq!(
        verdict_distribution::state::community_pool(&s)
            .expect("pool")
            .u128(),
        5000,
        "the fee of the answered request"
    );
    let failed = REQUESTS.load(&s, ("channel-4", 2)).expect("request");
    assert_eq!(failed.status, RemoteStatus::Failed);
    assert_eq!(
        Bank::balance(&s, &me, FEE_DENOM).expect("balance").u128(),
        5000,
        "the failed one refunded"
    );
    assert_eq!(
        Bank::balance(&s, &request_escrow(), FEE_DENOM)
            .expect("balance")
            .u128(),
        0
    );
    check_invariants(&s).expect("escrow = in flight");
}

#[test]
fn request_remote_decoding_refuses_bad_messages_with_a_reason() {
    let good = pb::MsgRequestRemote {
        requester: Addr([1; 20]).bech32(),
        channel_id: "channel-0".into(),
        model_id: "a".repeat(64),
        inputs: vec![pb::Tensor {
            name: "x".into(),
            dtype: "float32".into(),
            shape: vec![1],
            data: vec![0; 4],
        }],
        max_latency_ms: 1500,
        fee: Some(pb::Coin {
            denom: FEE_DENOM.into(),
            amount: "1000".into(),
        }),
        timeout_seconds: 0,
        wait_final: false,
    };
    let m = RequestRemote::decode(&good.encode_to_vec()).expect("decodes");
    assert_eq!(m.timeout_seconds, DEFAULT_TIMEOUT_SECONDS);
    assert_eq!(m.channel_id, ChannelId::new(0));
    let bad = |f: &dyn Fn(&mut pb::MsgRequestRemote)| {
        let mut m = good.clone();
        f(&mut m);
        RequestRemote::decode(&m.encode_to_vec())
            .expect_err("refused")
            .to_string()
    };
    assert!(bad(&|m| m.channel_id = "nope".into()).contains("channel_id"));
    assert!(bad(&|m| m.timeout_seconds = MAX_TIMEOUT_SECONDS + 1).contains("timeout"));
    assert!(bad(&|m| m.model_id = "x".into()).contains("model_id"));
    assert!(bad(&|m| m.fee = None).contains("fee"));
    assert!(bad(&|m| m.requester = "verdict1xyz".into()).contains("requester"));
    assert!(RequestRemote::decode(b"\xff\xff").is_err());
}

#[test]
fn a_request_whose_fee_exceeds_the_serving_cap_is_refused_and_the_payer_pays_nothing() {
    // Security review I-7: the channel's payer paid whatever fee a packet
    // named, so one request could empty it.
    let mut s = setup();
    let rich = Coin::new(10_000_000, FEE_DENOM);
    Bank::mint(&mut s, &payer("channel-0"), std::slice::from_ref(&rich)).expect("mint");
    let cap = verdict_inference::state::params(&s).max_remote_job_fee;
    let request = |fee: u128| crate::inference_packet::InferenceRequest {
        model_id: "m".into(),
        inputs: vec![],
        max_latency_ms: 1000,
        fee: Coin::new(fee, FEE_DENOM),
        wait_final: false,
    };
    let port_events = vec![
        PortEvent::Request {
            packet: packet(1),
            request: request(cap.u128() + 1),
        },
        PortEvent::Request {
            packet: packet(2),
            request: request(cap.u128()),
        },
    ];
    let (applied, events) = in_ctx(&mut s, &BlockInfo::default(), |ctx| {
        apply(ctx, &host(), port_events)
    });
    applied.expect("applied");
    let first = stored_ack(&s, 1).expect("refused at once");
    let mut reasons = events
        .iter()
        .filter(|e| e.kind == "inference_remote_refused")
        .filter_map(|e| e.attributes.iter().find(|(k, _)| k == "reason"))
        .map(|(_, v)| v.clone());
    let r1 = reasons.next().expect("first refusal");
    assert!(r1.contains("max_remote_job_fee"), "{r1}");
    // At the cap the request goes on to MsgSubmitJob's checks (here: no such model).
    let r2 = reasons.next().expect("second refusal");
    assert!(!r2.contains("max_remote_job_fee"), "{r2}");
    assert!(!first.is_empty());
    assert_eq!(
        Bank::balance(&s, &payer("channel-0"), FEE_DENOM).expect("balance"),
        rich.amount,
        "the payer paid nothing"
    );
}

/// Security review I-7: a channel's payer account is an account nobody holds a
/// key to. Once the counterparty closes the channel (ChanCloseConfirm here),
/// nothing can spend what is left in it, so it goes to the community pool; so
/// does the refund of a job still in flight at the close, when its
/// acknowledgement finds the channel no longer open.
#[test]
fn a_closed_channels_payer_funds_go_to_the_community_pool() {
    use ibc::core::host::ValidationContext;
    use ibc::core::router::module::Module;
    let mut s = setup(); // channel-0 open
    let payer0 = payer("channel-0");
    Bank::mint(&mut s, &payer0, &[Coin::new(7000, FEE_DENOM)]).expect("mint");
    let pool = |s: &MemoryStorage| verdict_distribution::state::community_pool(s).expect("pool");
    let before = pool(&s);

    // The counterparty closed it: ibc-rs stores the closed end, then calls
    // the port, which queues the sweep for `apply`.
    let mut end = IbcContext::new(&mut s, host())
        .channel_end(&ChannelEndPath::new(&port(), &ChannelId::new(0)))
        .expect("end");
    end.set_state(State::Closed);
    IbcContext::new(&mut s, host())
        .store_channel(&ChannelEndPath::new(&port(), &ChannelId::new(0)), end)
        .expect("closed");
    let mut m = crate::inference_port::InferenceModule::default();
    m.on_chan_close_confirm_validate(&port(), &ChannelId::new(0))
        .expect("a counterparty's close is accepted");
    m.on_chan_close_confirm_execute(&port(), &ChannelId::new(0))
        .expect("close confirm");
    let (r, events) = in_ctx(&mut s, &block_at(30), |ctx| apply(ctx, &host(), m.events));
    r.expect("apply");
    assert_eq!(
        Bank::balance(&s, &payer0, FEE_DENOM)
            .expect("balance")
            .u128(),
        0
    );
    assert_eq!(pool(&s), before + cosmwasm_std::Uint128::new(7000));
    let swept: Vec<_> = events
        .iter()
        .filter(|e| e.kind == "inference_payer_swept")
        .collect();
    assert_eq!(swept.len(), 1, "{events:?}");

    // A job served on it failed after the close: its fee came back to the
    // payer, and the acknowledgement nobody can relay sweeps it too.
    put_job_for_test(&mut s, &job(5, JobStatus::Failed, 10)).expect("job");
    SERVED
        .save(
            &mut s,
            5,
            &Binary::from(RawPacket::from(packet(105)).encode_to_vec()),
        )
        .expect("served");
    Bank::mint(&mut s, &payer0, &[Coin::new(1000, FEE_DENOM)]).expect("refund");
    let events = write_settled_acks(&mut s, &host()).expect("acks");
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        ["inference_remote_ack_failed", "inference_payer_swept"]
    );
    assert_eq!(
        Bank::balance(&s, &payer0, FEE_DENOM)
            .expect("balance")
            .u128(),
        0
    );
    assert_eq!(pool(&s), before + cosmwasm_std::Uint128::new(8000));
}
