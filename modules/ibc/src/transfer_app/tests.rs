//! ICS-20 unit tests: denoms, escrow accounts, the token context's checks and
//! the receive callback's acknowledgements (the packet round trips between two
//! chains are in the app's `ibc` tests and the wasmd e2e).

use std::cell::RefCell;

use cosmwasm_std::testing::MockStorage;
use cosmwasm_std::Storage;
use ibc::apps::transfer::context::TokenTransferValidationContext;
use ibc::apps::transfer::types::{Memo, PrefixedCoin, PrefixedDenom};
use ibc::core::channel::types::packet::Packet;
use ibc::core::channel::types::timeout::{TimeoutHeight, TimeoutTimestamp};
use ibc::core::host::types::identifiers::ChannelId;
use ibc::core::router::module::Module;
use ibc::primitives::Signer;
use verdict_bank::Bank;
use verdict_core::address::Addr;
use verdict_core::coin::Coin;

use super::*;
use crate::shared::{SharedStore, StoreCell};

fn coin(denom: &str, amount: u64) -> PrefixedCoin {
    PrefixedCoin {
        denom: denom.parse().expect("denom"),
        amount: amount.into(),
    }
}

#[test]
fn voucher_denoms_are_ibc_gos() {
    // ATOM on Osmosis: the best-known voucher there is.
    let d: PrefixedDenom = "transfer/channel-0/uatom".parse().expect("denom");
    assert_eq!(
        bank_denom(&d),
        "ibc/27394FB092D2ECCD56123C74F36E4C1F926001CEADA9CA97EA622B25F41E5EB2"
    );
    let native: PrefixedDenom = "uverd".parse().expect("denom");
    assert_eq!(bank_denom(&native), "uverd");
    // ibc-go's escrow of transfer/channel-0 (cosmos1a53udazy8ayufvy0s434pfwjcedzqv34kvz9tw
    // on the Hub; wasmd v0.70.3 answers the same bytes, `make e2e-ibc-go`).
    let want = "ed23c6f4443f49c4b08f856350a5d2c65a203235";
    let got: String = escrow_address("transfer", "channel-0")
        .0
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(got, want);
    // Escrow accounts differ per channel and are no module account name.
    assert_ne!(
        escrow_address("transfer", "channel-0"),
        escrow_address("transfer", "channel-1")
    );
}

#[test]
fn amounts_beyond_128_bits_and_zero_are_refused() {
    let mut big = coin("uverd", 1);
    big.amount = "340282366920938463463374607431768211456"
        .parse()
        .expect("2^128");
    assert!(bank_amount(&big).is_err());
    let mut max = coin("uverd", 1);
    max.amount = "340282366920938463463374607431768211455"
        .parse()
        .expect("2^128-1");
    assert_eq!(bank_amount(&max).expect("fits").u128(), u128::MAX);
    let s = MockStorage::new();
    let ctx = TokenCtx::new(s);
    let who = Addr([1; 20]);
    assert!(ctx.mint_coins_validate(&who, &coin("uverd", 0)).is_err());
}

#[test]
fn escrow_and_release_keep_the_total_and_refuse_what_is_not_there() {
    let mut s = MockStorage::new();
    let who = Addr([1; 20]);
    Bank::mint(&mut s, &who, &[Coin::new(1_000, "uverd")]).expect("mint");
    let port = PORT.parse().expect("port");
    let ch = ChannelId::new(0);
    let memo = Memo::from(String::new());
    let mut ctx = TokenCtx::new(s);
    use ibc::apps::transfer::context::TokenTransferExecutionContext as _;
    assert!(ctx
        .escrow_coins_validate(&who, &port, &ch, &coin("uverd", 1_001), &memo)
        .is_err());
    ctx.escrow_coins_validate(&who, &port, &ch, &coin("uverd", 600), &memo)
        .expect("validate");
    ctx.escrow_coins_execute(&who, &port, &ch, &coin("uverd", 600), &memo)
        .expect("escrow");
    let escrow = escrow_address(PORT, "channel-0");
    assert_eq!(
        Bank::balance(&ctx.store, &escrow, "uverd")
            .expect("b")
            .u128(),
        600
    );
    assert_eq!(
        TOTAL_ESCROW.load(&ctx.store, "uverd").expect("t").u128(),
        600
    );
    // More than the channel holds cannot be released, nor from another channel.
    assert!(ctx
        .unescrow_coins_validate(&who, &port, &ch, &coin("uverd", 601))
        .is_err());
    assert!(ctx
        .unescrow_coins_validate(&who, &port, &ChannelId::new(1), &coin("uverd", 1))
        .is_err());
    ctx.unescrow_coins_execute(&who, &port, &ch, &coin("uverd", 600))
        .expect("release");
    assert!(TOTAL_ESCROW
        .may_load(&ctx.store, "uverd")
        .expect("t")
        .is_none());
    check_invariants(&ctx.store).expect("invariants");
    assert_eq!(ctx.events.len(), 6, "spent, received, transfer twice");
}

fn packet(data: &[u8]) -> Packet {
    Packet {
        seq_on_a: 1u64.into(),
        port_id_on_a: PORT.parse().expect("port"),
        chan_id_on_a: ChannelId::new(3),
        port_id_on_b: PORT.parse().expect("port"),
        chan_id_on_b: ChannelId::new(0),
        data: data.to_vec(),
        timeout_height_on_b: TimeoutHeight::Never,
        timeout_timestamp_on_b: TimeoutTimestamp::Never,
    }
}

const BLOCKED: Addr = Addr([9; 20]);

fn recv(s: &mut MockStorage, data: &[u8]) -> serde_json::Value {
    let cell: StoreCell<'_> = RefCell::new(s as &mut dyn Storage);
    let mut m = TransferModule::new(SharedStore::new(&cell));
    m.token.blocked = Some(|a| *a == BLOCKED);
    let (_, ack) = m.on_recv_packet_execute(&packet(data), &Signer::from("r".to_string()));
    let ack = ack.expect("a synchronous acknowledgement");
    serde_json::from_slice(ack.as_bytes()).expect("the acknowledgement is JSON")
}

#[test]
fn receiving_mints_a_voucher_records_its_trace_and_errors_are_valid_json() {
    let mut s = MockStorage::new();
    let to = Addr([2; 20]);
    let data = format!(
        r#"{{"denom":"stake","amount":"25","sender":"wasm1x","receiver":"{}","memo":"m"}}"#,
        to.bech32()
    );
    let ack = recv(&mut s, data.as_bytes());
    assert_eq!(ack, serde_json::json!({"result": "AQ=="}));
    let voucher = format!("ibc/{}", trace_hash("transfer/channel-0/stake"));
    assert_eq!(Bank::balance(&s, &to, &voucher).expect("b").u128(), 25);
    assert_eq!(
        resolve_voucher(&s, &voucher).as_deref(),
        Some("transfer/channel-0/stake")
    );

    // An error naming the bad receiver in quotes is still valid JSON (ibc-rs
    // 0.57's own formatting would not escape it), and its text is ibc-go's
    // code-only one: the reason goes into an event, not into the commitment.
    let bad =
        r#"{"denom":"stake","amount":"25","sender":"wasm1x","receiver":"\"quoted\"","memo":""}"#;
    let ack = recv(&mut s, bad.as_bytes());
    assert_eq!(
        ack["error"],
        "ABCI code: 18: error handling packet: see events for details"
    );
    // Module accounts never receive (their balances are other books'
    // invariants): security review of issue 20, finding 1.
    let to_module = format!(
        r#"{{"denom":"stake","amount":"25","sender":"wasm1x","receiver":"{}","memo":""}}"#,
        BLOCKED.bech32()
    );
    assert!(recv(&mut s, to_module.as_bytes())["error"].is_string());
    assert_eq!(Bank::balance(&s, &BLOCKED, &voucher).expect("b").u128(), 0);
    // A base denom that reads as a trace would make a voucher that can never
    // be resolved back to it (finding 7).
    let trace_like = format!(
        r#"{{"denom":"transfer/channel-3","amount":"1","sender":"wasm1x","receiver":"{}","memo":""}}"#,
        to.bech32()
    );
    assert!(recv(&mut s, trace_like.as_bytes())["error"].is_string());
    // Not ICS-20 packet data at all.
    let ack = recv(&mut s, b"\x00garbage");
    assert!(ack["error"].is_string(), "{ack}");
    // Coming home with nothing escrowed on this side: an error, nothing moves.
    let home = format!(
        r#"{{"denom":"transfer/channel-3/uverd","amount":"5","sender":"wasm1x","receiver":"{}","memo":""}}"#,
        to.bech32()
    );
    let ack = recv(&mut s, home.as_bytes());
    assert!(ack["error"].is_string(), "{ack}");
    assert_eq!(Bank::balance(&s, &to, "uverd").expect("b").u128(), 0);
}
