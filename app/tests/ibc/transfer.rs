//! ICS-20 between two in-process Verdict chains over a `transfer` channel
//! (version `ics20-1`), the test playing the relayer: `uverd` out and back,
//! vouchers and their traces, an error acknowledgement and a timeout refunding
//! the sender, and the escrow accounting.

use super::*;
use cosmrs::proto::cosmos::bank::v1beta1::{QueryBalanceRequest, QueryBalanceResponse};
use ibc::apps::transfer::types::proto::transfer::v1 as tr;
use verdict_ibc::transfer_app::{escrow_address, trace_hash};

const FEE: u128 = 100_000;

fn transfer_chains() -> (TestNet, TestNet) {
    let (mut a, mut b) = open_connection();
    // ICS-20 refuses an ordered channel and a foreign version on its port.
    let r = refused(a.block(vec![chan_open_init("transfer", 2, "ics20-1")]));
    assert!(r.log.to_lowercase().contains("order"), "{}", r.log);
    refused(a.block(vec![chan_open_init("transfer", 1, "verdict-inference-1")]));
    assert!(channel_end(&a, "channelEnds/ports/transfer/channels/channel-0").is_none());
    handshake(&mut a, &mut b, "transfer", "ics20-1");
    (a, b)
}

fn bank(x: &TestNet, who: &str, denom: &str) -> u128 {
    let r: QueryBalanceResponse = x.proto(
        "/cosmos.bank.v1beta1.Query/Balance",
        QueryBalanceRequest {
            address: who.into(),
            denom: denom.into(),
        },
    );
    r.balance
        .map(|c| c.amount.parse().expect("amount"))
        .unwrap_or(0)
}

fn total_escrow(x: &TestNet, denom: &str) -> u128 {
    let r: tr::QueryTotalEscrowForDenomResponse = x.proto(
        "/ibc.applications.transfer.v1.Query/TotalEscrowForDenom",
        tr::QueryTotalEscrowForDenomRequest {
            denom: denom.into(),
        },
    );
    r.amount.expect("amount").amount.parse().expect("amount")
}

/// `MsgTransfer` of `amount` `denom` from the user to `receiver` over
/// `channel-0`, timing out at `timeout_secs` (unix seconds).
fn transfer(denom: &str, amount: u128, receiver: &str, timeout_secs: i64) -> Any {
    any_of(
        tr::MsgTransfer {
            source_port: "transfer".into(),
            source_channel: "channel-0".into(),
            token: Some(ibc_proto_coin(denom, amount)),
            sender: user().address().bech32(),
            receiver: receiver.into(),
            timeout_height: None,
            timeout_timestamp: u64::try_from(timeout_secs).expect("t") * 1_000_000_000,
            memo: "kept as sent".into(),
        },
        "/ibc.applications.transfer.v1.MsgTransfer",
    )
}

fn ibc_proto_coin(denom: &str, amount: u128) -> ibc_proto::cosmos::base::v1beta1::Coin {
    ibc_proto::cosmos::base::v1beta1::Coin {
        denom: denom.into(),
        amount: amount.to_string(),
    }
}

fn far() -> i64 {
    T0 + 100_000
}

#[test]
fn uverd_goes_to_the_other_chain_as_a_voucher_and_comes_back() {
    let (mut a, mut b) = transfer_chains();
    let me = user().address().bech32();
    let escrow = escrow_address("transfer", "channel-0").bech32();
    let voucher = format!("ibc/{}", trace_hash("transfer/channel-0/uverd"));
    let supply_b = |x: &TestNet| bank(x, &me, &voucher);

    // A: 1000uverd escrowed, the packet carries the plain denom and the memo.
    let before = bank(&a, &me, "uverd");
    let r = ok(a.block(vec![transfer("uverd", 1_000, &me, far())]));
    let h_sent = u(&a);
    let (packet, _) = packet_of(&r.events, "send_packet").expect("send_packet");
    let data: serde_json::Value = serde_json::from_slice(&packet.data).expect("json");
    assert_eq!(data["denom"], "uverd");
    assert_eq!(data["amount"], "1000");
    assert_eq!(data["memo"], "kept as sent");
    assert_eq!(bank(&a, &me, "uverd"), before - 1_000 - FEE);
    assert_eq!(bank(&a, &escrow, "uverd"), 1_000);
    assert_eq!(total_escrow(&a, "uverd"), 1_000);

    // B: the voucher ibc/<hash of transfer/channel-0/uverd> is minted; a
    // success acknowledgement is written in the same transaction.
    let r = ok(b.block(recv_on_a(&b, &a, &packet, h_sent)));
    let (_, ack) = packet_of(&r.events, "write_acknowledgement").expect("ack");
    assert_eq!(
        String::from_utf8(ack.clone()).expect("utf8"),
        r#"{"result":"AQ=="}"#
    );
    let h_acked = u(&b);
    assert_eq!(supply_b(&b), 1_000);
    let t: tr::QueryDenomTraceResponse = b.proto(
        "/ibc.applications.transfer.v1.Query/DenomTrace",
        tr::QueryDenomTraceRequest {
            hash: voucher.clone(),
        },
    );
    let t = t.denom_trace.expect("trace");
    assert_eq!(
        (t.path.as_str(), t.base_denom.as_str()),
        ("transfer/channel-0", "uverd")
    );
    let h: tr::QueryDenomHashResponse = b.proto(
        "/ibc.applications.transfer.v1.Query/DenomHash",
        tr::QueryDenomHashRequest {
            trace: "transfer/channel-0/uverd".into(),
        },
    );
    assert_eq!(format!("ibc/{}", h.hash), voucher);

    // A: the success acknowledgement changes no balance.
    ok(a.block(ack_on_b(&a, &b, &packet, &ack, h_acked)));
    assert_eq!(bank(&a, &escrow, "uverd"), 1_000);

    // B sends 400 of the voucher home: burned on B (the packet names the full
    // trace), released from escrow on A.
    let r = ok(b.block(vec![transfer(&voucher, 400, &me, far())]));
    let h_back = u(&b);
    let (back, _) = packet_of(&r.events, "send_packet").expect("send_packet");
    let data: serde_json::Value = serde_json::from_slice(&back.data).expect("json");
    assert_eq!(data["denom"], "transfer/channel-0/uverd");
    assert_eq!(supply_b(&b), 600);
    let before = bank(&a, &me, "uverd");
    let r = ok(a.block(recv_on_a(&a, &b, &back, h_back)));
    let (_, ack) = packet_of(&r.events, "write_acknowledgement").expect("ack");
    assert_eq!(
        String::from_utf8(ack).expect("utf8"),
        r#"{"result":"AQ=="}"#
    );
    assert_eq!(bank(&a, &me, "uverd"), before + 400 - FEE);
    assert_eq!(bank(&a, &escrow, "uverd"), 600);
    assert_eq!(total_escrow(&a, "uverd"), 600);

    // An unknown voucher cannot be sent; nothing changes.
    let bogus = format!("ibc/{}", trace_hash("transfer/channel-9/nothing"));
    let r = refused(b.block(vec![transfer(&bogus, 1, &me, far())]));
    assert!(r.log.contains("no IBC voucher"), "{}", r.log);
    a.check_invariants();
    b.check_invariants();
}

#[test]
fn an_error_acknowledgement_and_a_timeout_refund_the_sender() {
    let (mut a, mut b) = transfer_chains();
    let me = user().address().bech32();
    let escrow = escrow_address("transfer", "channel-0").bech32();

    // A receiver B cannot parse: B answers with an error acknowledgement and
    // mints nothing; A refunds the escrow on that acknowledgement.
    let before = bank(&a, &me, "uverd");
    let r = ok(a.block(vec![transfer("uverd", 700, "not-an-address", far())]));
    let h_sent = u(&a);
    let (packet, _) = packet_of(&r.events, "send_packet").expect("send_packet");
    let r = ok(b.block(recv_on_a(&b, &a, &packet, h_sent)));
    let (_, ack) = packet_of(&r.events, "write_acknowledgement").expect("ack");
    let text = String::from_utf8(ack.clone()).expect("utf8");
    assert!(text.starts_with(r#"{"error":"#), "{text}");
    let h_acked = u(&b);
    let r = ok(a.block(ack_on_b(&a, &b, &packet, &ack, h_acked)));
    assert!(r.events.iter().any(|e| e.r#type == "acknowledge_packet"));
    assert_eq!(bank(&a, &escrow, "uverd"), 0);
    assert_eq!(bank(&a, &me, "uverd"), before - 2 * FEE);
    assert_eq!(total_escrow(&a, "uverd"), 0);

    // A transfer that times out: B never receives it; A refunds on the proof
    // that B has no receipt at a height past the timeout.
    let before = bank(&a, &me, "uverd");
    let deadline = b.time(b.height).seconds + 2;
    let r = ok(a.block(vec![transfer("uverd", 300, &me, deadline)]));
    let (packet, _) = packet_of(&r.events, "send_packet").expect("send_packet");
    assert_eq!(bank(&a, &escrow, "uverd"), 300);
    for _ in 0..4 {
        b.block(vec![]);
    }
    let h = u(&b);
    let r = ok(a.block(timeout_on_b(&a, &b, &packet, h)));
    assert!(
        r.events.iter().any(|e| e.r#type == "timeout_packet"),
        "{r:?}"
    );
    assert_eq!(bank(&a, &escrow, "uverd"), 0);
    assert_eq!(bank(&a, &me, "uverd"), before - 2 * FEE);
    // The voucher was never minted on B.
    let voucher = format!("ibc/{}", trace_hash("transfer/channel-0/uverd"));
    assert_eq!(bank(&b, &me, &voucher), 0);
    a.check_invariants();
    b.check_invariants();
}

#[test]
fn bad_transfers_are_refused_before_anything_moves() {
    let (mut a, _b) = transfer_chains();
    let me = user().address().bech32();
    let before = bank(&a, &me, "uverd");
    // More than the sender has.
    let r = refused(a.block(vec![transfer("uverd", before * 2, &me, far())]));
    assert!(r.log.contains("insufficient funds"), "{}", r.log);
    // No timeout at all.
    let r = refused(a.block(vec![transfer("uverd", 1, &me, 0)]));
    assert!(r.log.contains("timeout"), "{}", r.log);
    // A memo over ibc-go's limit.
    let mut m =
        tr::MsgTransfer::decode(transfer("uverd", 1, &me, far()).value.as_slice()).expect("decode");
    m.memo = "x".repeat(32_769);
    let r = refused(a.block(vec![any_of(m, "/ibc.applications.transfer.v1.MsgTransfer")]));
    assert!(r.log.contains("memo"), "{}", r.log);
    // A channel that does not exist.
    let mut m =
        tr::MsgTransfer::decode(transfer("uverd", 1, &me, far()).value.as_slice()).expect("decode");
    m.source_channel = "channel-7".into();
    refused(a.block(vec![any_of(m, "/ibc.applications.transfer.v1.MsgTransfer")]));
    assert_eq!(
        bank(
            &a,
            &escrow_address("transfer", "channel-0").bech32(),
            "uverd"
        ),
        0
    );
    a.check_invariants();
}
