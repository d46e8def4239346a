use super::*;
use crate::txbuild::{msg_send, sign_tx, simulate_tx, AccountKey, TxSpec};
use cosmrs::proto::cosmos::tx::v1beta1::TxRaw;
use cosmwasm_std::testing::MockStorage as MemoryStorage;
use proptest::prelude::*;
use verdict_bank::genesis::{BankGenesis, GenesisBalance};
use verdict_bank::Bank;
use verdict_core::address::Addr;
use verdict_core::coin::Coin;

const CHAIN: &str = "verdict-test";

fn key(i: u8) -> AccountKey {
    AccountKey::from_bytes(&[i; 32]).expect("key")
}

fn block(h: u64) -> BlockInfo {
    BlockInfo {
        height: h,
        time_seconds: 1_700_000_000,
        time_nanos: 0,
        chain_id: CHAIN.into(),
    }
}

/// Alice (key 1) has 1 000 000 uverd; Bob (key 2) has an account with 10 uverd.
fn genesis() -> MemoryStorage {
    let mut s = MemoryStorage::new();
    verdict_auth::genesis::AuthGenesis::default()
        .init(&mut s)
        .expect("auth");
    Accounts::ensure(&mut s, &fee_collector()).expect("collector");
    BankGenesis {
        balances: vec![
            GenesisBalance {
                address: key(1).address().bech32(),
                coins: "1000000uverd".into(),
            },
            GenesisBalance {
                address: key(2).address().bech32(),
                coins: "10uverd".into(),
            },
        ],
    }
    .init(&mut s)
    .expect("bank");
    s
}

fn uverd(n: u128) -> Vec<Coin> {
    vec![Coin::new(n, "uverd")]
}

fn send_spec(from: &AccountKey, to: &Addr, amount: u128) -> TxSpec {
    TxSpec {
        msgs: vec![msg_send(&from.address(), to, &uverd(amount))],
        memo: "hi".into(),
        timeout_height: 0,
        fee: uverd(5000),
        gas_limit: 200_000,
    }
}

fn bal(s: &dyn Storage, a: &Addr) -> u128 {
    Bank::balance(s, a, "uverd").expect("balance").u128()
}

fn seq(s: &dyn Storage, a: &Addr) -> u64 {
    Accounts::get(s, a).expect("get").map_or(0, |a| a.sequence)
}

fn run_deliver(s: &mut MemoryStorage, tx: &[u8]) -> TxOutcome {
    run(s, tx, &block(5), &AppParams::default(), Mode::Deliver)
}

/// Runs a tx that must fail with `code` and change nothing at all.
fn assert_rejected_without_change(s: &mut MemoryStorage, tx: &[u8], code: u32) -> TxOutcome {
    let before: Vec<_> = s
        .range(None, None, cosmwasm_std::Order::Ascending)
        .collect();
    let out = run_deliver(s, tx);
    assert_eq!(out.code, code, "log: {}", out.log);
    assert_eq!(out.codespace, "sdk");
    assert!(!out.log.is_empty());
    let after: Vec<_> = s
        .range(None, None, cosmwasm_std::Order::Ascending)
        .collect();
    assert_eq!(before, after, "state changed on a rejected tx");
    out
}

#[test]
fn a_signed_send_moves_coins_pays_the_fee_and_bumps_the_sequence() {
    let mut s = genesis();
    let (alice, bob) = (key(1), key(2).address());
    let tx = sign_tx(&send_spec(&alice, &bob, 700), &alice, CHAIN, 1, 0);
    let out = run_deliver(&mut s, &tx);
    assert_eq!(out.code, 0, "{}", out.log);
    assert_eq!(bal(&s, &alice.address()), 1_000_000 - 700 - 5000);
    assert_eq!(bal(&s, &bob), 710);
    assert_eq!(bal(&s, &fee_collector()), 5000);
    assert_eq!(seq(&s, &alice.address()), 1);
    assert!(out.gas_used > 0 && out.gas_used <= 200_000);
    let data = TxMsgData::decode(out.data.as_slice()).expect("TxMsgData");
    assert_eq!(
        data.msg_responses[0].type_url,
        "/cosmos.bank.v1beta1.MsgSendResponse"
    );
    let kinds: Vec<_> = out.events.iter().map(|e| e.kind.as_str()).collect();
    for k in ["tx", "message", "coin_spent", "coin_received", "transfer"] {
        assert!(kinds.contains(&k), "missing event {k}: {kinds:?}");
    }
    verdict_bank::state::check_supply_invariant(&s).expect("supply");
}

#[test]
fn replaying_a_tx_is_refused_with_wrong_sequence() {
    let mut s = genesis();
    let alice = key(1);
    let tx = sign_tx(
        &send_spec(&alice, &key(2).address(), 1),
        &alice,
        CHAIN,
        1,
        0,
    );
    assert_eq!(run_deliver(&mut s, &tx).code, 0);
    let out = assert_rejected_without_change(&mut s, &tx, 32);
    assert!(out.log.contains("expected 1, got 0"), "{}", out.log);
}

#[test]
fn bad_signatures_wrong_chain_id_and_account_number_are_unauthorized() {
    let mut s = genesis();
    let alice = key(1);
    let spec = send_spec(&alice, &key(2).address(), 1);
    let out =
        assert_rejected_without_change(&mut s, &sign_tx(&spec, &alice, "other-chain", 1, 0), 4);
    assert!(out.log.contains("chain-id (verdict-test)"), "{}", out.log);
    assert_rejected_without_change(&mut s, &sign_tx(&spec, &alice, CHAIN, 7, 0), 4);
    // Flip one bit of the signature.
    let mut raw = TxRaw::decode(sign_tx(&spec, &alice, CHAIN, 1, 0).as_slice()).expect("raw");
    raw.signatures[0][10] ^= 1;
    assert_rejected_without_change(&mut s, &raw.encode_to_vec(), 4);
    // No signature at all.
    raw.signatures.clear();
    assert_rejected_without_change(&mut s, &raw.encode_to_vec(), 4);
}

#[test]
fn a_key_that_is_not_the_senders_is_refused() {
    let mut s = genesis();
    let (alice, mallory) = (key(1), key(3));
    // Mallory signs a send out of Alice's account with her own key.
    let spec = TxSpec {
        msgs: vec![msg_send(&alice.address(), &mallory.address(), &uverd(1))],
        ..send_spec(&alice, &mallory.address(), 1)
    };
    assert_rejected_without_change(&mut s, &sign_tx(&spec, &mallory, CHAIN, 1, 0), 8);
}

#[test]
fn malformed_oversized_and_unknown_txs_are_rejected_statelessly() {
    let mut s = genesis();
    assert_rejected_without_change(&mut s, &[0xde, 0xad, 0xbe, 0xef], 2);
    assert_rejected_without_change(&mut s, &[], 18);
    let big = vec![0x0a; 70_000];
    assert_rejected_without_change(&mut s, &big, 21);
    let alice = key(1);
    let mut spec = send_spec(&alice, &key(2).address(), 1);
    spec.msgs = vec![Any {
        type_url: "/cosmos.gov.v1.MsgVote".into(),
        value: vec![],
    }];
    let out = assert_rejected_without_change(&mut s, &sign_tx(&spec, &alice, CHAIN, 1, 0), 6);
    assert!(out.log.contains("cosmos.gov.v1.MsgVote"));
}

#[test]
fn bad_addresses_and_amounts_are_rejected() {
    let mut s = genesis();
    let alice = key(1);
    let send = |to: &str, amount: &str| TxSpec {
        msgs: vec![Any {
            type_url: "/cosmos.bank.v1beta1.MsgSend".into(),
            value: cosmrs::proto::cosmos::bank::v1beta1::MsgSend {
                from_address: alice.address().bech32(),
                to_address: to.into(),
                amount: vec![cosmrs::proto::cosmos::base::v1beta1::Coin {
                    denom: "uverd".into(),
                    amount: amount.into(),
                }],
            }
            .encode_to_vec(),
        }],
        ..send_spec(&alice, &alice.address(), 1)
    };
    let bob = key(2).address().bech32();
    let mut bad_checksum = bob.clone();
    let last = bad_checksum.pop().expect("char");
    bad_checksum.push(if last == 'q' { 'p' } else { 'q' });
    let out = assert_rejected_without_change(
        &mut s,
        &sign_tx(&send(&bad_checksum, "1"), &alice, CHAIN, 1, 0),
        7,
    );
    assert!(out.log.contains("checksum"), "{}", out.log);
    assert_rejected_without_change(&mut s, &sign_tx(&send(&bob, "0"), &alice, CHAIN, 1, 0), 10);
    assert_rejected_without_change(&mut s, &sign_tx(&send(&bob, "-5"), &alice, CHAIN, 1, 0), 10);
}

#[test]
fn fees_below_the_minimum_gas_price_or_in_another_denom_are_refused() {
    let mut s = genesis();
    let alice = key(1);
    let mut spec = send_spec(&alice, &key(2).address(), 1);
    spec.fee = uverd(4999); // 200 000 gas × 0.025 = 5 000
    let out = assert_rejected_without_change(&mut s, &sign_tx(&spec, &alice, CHAIN, 1, 0), 13);
    assert!(
        out.log.contains("got: 4999uverd required: 5000uverd"),
        "{}",
        out.log
    );
    spec.fee = vec![Coin::new(5000, "stake")];
    assert_rejected_without_change(&mut s, &sign_tx(&spec, &alice, CHAIN, 1, 0), 13);
}

#[test]
fn an_account_that_cannot_pay_the_fee_changes_nothing() {
    let mut s = genesis();
    let bob = key(2); // 10 uverd
    let spec = send_spec(&bob, &key(1).address(), 1);
    let out = assert_rejected_without_change(&mut s, &sign_tx(&spec, &bob, CHAIN, 2, 0), 5);
    assert!(
        out.log.contains("10uverd is smaller than 5000uverd"),
        "{}",
        out.log
    );
}

#[test]
fn a_failing_message_keeps_the_fee_and_the_sequence_bump() {
    let mut s = genesis();
    let alice = key(1);
    let spec = send_spec(&alice, &key(2).address(), 999_000); // + 5 000 fee > balance
    let out = run_deliver(&mut s, &sign_tx(&spec, &alice, CHAIN, 1, 0));
    assert_eq!(out.code, 5, "{}", out.log);
    assert!(
        out.log.contains("995000uverd is smaller than 999000uverd"),
        "{}",
        out.log
    );
    assert_eq!(bal(&s, &alice.address()), 1_000_000 - 5000);
    assert_eq!(bal(&s, &fee_collector()), 5000);
    assert_eq!(seq(&s, &alice.address()), 1);
    assert_eq!(bal(&s, &key(2).address()), 10);
    verdict_bank::state::check_supply_invariant(&s).expect("supply");
}

#[test]
fn running_out_of_gas_in_ante_changes_nothing_and_in_messages_keeps_the_fee() {
    let mut s = genesis();
    let alice = key(1);
    let mut spec = send_spec(&alice, &key(2).address(), 1);
    spec.gas_limit = 1000;
    spec.fee = uverd(25);
    assert_rejected_without_change(&mut s, &sign_tx(&spec, &alice, CHAIN, 1, 0), 11);
    // Enough for the ante handler, not for the transfer.
    let sim = run(
        &mut s.clone_storage(),
        &simulate_tx(&send_spec(&alice, &key(2).address(), 1), &alice, 0),
        &block(5),
        &AppParams::default(),
        Mode::Simulate,
    );
    assert_eq!(sim.code, 0, "{}", sim.log);
    spec.gas_limit = sim.gas_used - 3000;
    spec.fee = uverd(u128::from(spec.gas_limit));
    let out = run_deliver(&mut s, &sign_tx(&spec, &alice, CHAIN, 1, 0));
    assert_eq!(out.code, 11, "{}", out.log);
    assert_eq!(seq(&s, &alice.address()), 1);
    assert_eq!(bal(&s, &fee_collector()), u128::from(spec.gas_limit));
    assert_eq!(bal(&s, &key(2).address()), 10);
}

#[test]
fn memo_and_timeout_height_are_enforced() {
    let mut s = genesis();
    let alice = key(1);
    let mut spec = send_spec(&alice, &key(2).address(), 1);
    spec.memo = "x".repeat(257);
    assert_rejected_without_change(&mut s, &sign_tx(&spec, &alice, CHAIN, 1, 0), 12);
    spec.memo = String::new();
    spec.timeout_height = 4; // block is 5
    assert_rejected_without_change(&mut s, &sign_tx(&spec, &alice, CHAIN, 1, 0), 30);
    spec.timeout_height = 5;
    assert_eq!(
        run_deliver(&mut s, &sign_tx(&spec, &alice, CHAIN, 1, 0)).code,
        0
    );
}

#[test]
fn an_unknown_sender_is_refused() {
    let mut s = genesis();
    let nobody = key(9);
    let spec = send_spec(&nobody, &key(1).address(), 1);
    let out = assert_rejected_without_change(&mut s, &sign_tx(&spec, &nobody, CHAIN, 0, 0), 9);
    assert!(out.log.contains("does not exist"));
}

#[test]
fn check_mode_runs_only_the_ante_handler_and_simulate_needs_no_signature() {
    let mut s = genesis();
    let alice = key(1);
    let tx = sign_tx(
        &send_spec(&alice, &key(2).address(), 100),
        &alice,
        CHAIN,
        1,
        0,
    );
    let out = run(&mut s, &tx, &block(5), &AppParams::default(), Mode::Check);
    assert_eq!(out.code, 0, "{}", out.log);
    assert_eq!(
        seq(&s, &alice.address()),
        1,
        "check state tracks the sequence"
    );
    assert_eq!(bal(&s, &key(2).address()), 10, "no transfer in CheckTx");

    let mut s = genesis();
    let sim = simulate_tx(&send_spec(&alice, &key(2).address(), 100), &alice, 0);
    let out = run(
        &mut s,
        &sim,
        &block(5),
        &AppParams::default(),
        Mode::Simulate,
    );
    assert_eq!(out.code, 0, "{}", out.log);
    assert!(out.gas_used > 1000);
    // The same unsigned tx is refused for real.
    assert_eq!(run_deliver(&mut genesis(), &sim).code, 4);
}

trait CloneStorage {
    fn clone_storage(&self) -> MemoryStorage;
}

impl CloneStorage for MemoryStorage {
    fn clone_storage(&self) -> MemoryStorage {
        let mut c = MemoryStorage::new();
        for (k, v) in self.range(None, None, cosmwasm_std::Order::Ascending) {
            c.set(&k, &v);
        }
        c
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// No byte string panics the pipeline or changes state unless it is a valid tx.
    #[test]
    fn arbitrary_bytes_never_panic_or_change_state(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let mut s = genesis();
        let before: Vec<_> = s.range(None, None, cosmwasm_std::Order::Ascending).collect();
        let out = run_deliver(&mut s, &bytes);
        prop_assert_ne!(out.code, 0);
        let after: Vec<_> = s.range(None, None, cosmwasm_std::Order::Ascending).collect();
        prop_assert_eq!(before, after);
    }

    /// Supply is conserved and balances add up across any sequence of sends.
    #[test]
    fn supply_is_conserved_across_random_sends(amounts in proptest::collection::vec((0u8..3, 0u8..3, 1u128..400_000), 1..8)) {
        let mut s = genesis();
        let keys = [key(1), key(2), key(3)];
        let mut seqs = [0u64; 3];
        let numbers = [1u64, 2, 3];
        for (from, to, amt) in amounts {
            let (f, t) = (from as usize, to as usize);
            let spec = send_spec(&keys[f], &keys[t].address(), amt);
            let out = run_deliver(&mut s, &sign_tx(&spec, &keys[f], CHAIN, numbers[f], seqs[f]));
            if out.code == 0 || out.log.contains("failed to execute") {
                seqs[f] += 1;
            }
            prop_assert!(verdict_bank::state::check_supply_invariant(&s).is_ok());
        }
    }
}

#[test]
fn high_s_signatures_are_refused_as_malleable() {
    let mut s = genesis();
    let alice = key(1);
    let tx = sign_tx(
        &send_spec(&alice, &key(2).address(), 1),
        &alice,
        CHAIN,
        1,
        0,
    );
    let mut raw = TxRaw::decode(tx.as_slice()).expect("raw");
    // (r, s) → (r, n - s): the same signature in its malleable high-S form.
    let sig = k256::ecdsa::Signature::from_slice(&raw.signatures[0]).expect("sig");
    let (r, s_) = sig.split_scalars();
    let high = k256::ecdsa::Signature::from_scalars(r, -*s_).expect("high-s");
    assert!(
        high.normalize_s().is_some(),
        "constructed a high-S signature"
    );
    raw.signatures[0] = high.to_bytes().to_vec();
    assert_rejected_without_change(&mut s, &raw.encode_to_vec(), 4);
    // The low-S original still goes through.
    assert_eq!(run_deliver(&mut s, &tx).code, 0);
}

#[test]
fn sends_to_module_accounts_are_refused() {
    let mut s = genesis();
    let alice = key(1);
    for pool in [
        fee_collector(),
        verdict_staking::state::bonded_pool(),
        verdict_staking::state::not_bonded_pool(),
    ] {
        let tx = sign_tx(&send_spec(&alice, &pool, 1), &alice, CHAIN, 1, 0);
        let out = assert_rejected_without_change(&mut s, &tx, 4);
        assert!(out.log.contains("module account"), "{}", out.log);
    }
}

#[test]
fn oversized_signatures_cannot_reuse_a_remembered_verification() {
    let mut s = genesis();
    let alice = key(1);
    let tx = sign_tx(
        &send_spec(&alice, &key(2).address(), 1),
        &alice,
        CHAIN,
        1,
        0,
    );
    assert_eq!(
        run(
            &mut s.clone_storage(),
            &tx,
            &block(5),
            &AppParams::default(),
            Mode::Check
        )
        .code,
        0
    );
    // Same signature with bytes appended: never valid, memo or not.
    let mut raw = TxRaw::decode(tx.as_slice()).expect("raw");
    raw.signatures[0].extend_from_slice(&[0u8; 8]);
    assert_rejected_without_change(&mut s, &raw.encode_to_vec(), 4);
}

/// security review M-5: Simulate runs with the chain's `max_tx_gas` as its
/// limit, not without one: a query cannot buy more work than a block's tx.
#[test]
fn simulation_stops_at_the_chains_max_tx_gas() {
    let mut s = genesis();
    let alice = key(1);
    let mut spec = send_spec(&alice, &key(2).address(), 1);
    spec.gas_limit = 0; // a simulation asks how much: no limit of its own
    let tx = simulate_tx(&spec, &alice, 0);
    let full = run(
        &mut s.clone_storage(),
        &tx,
        &block(5),
        &AppParams::default(),
        Mode::Simulate,
    );
    assert_eq!(full.code, 0, "{}", full.log);
    let tight = AppParams {
        max_tx_gas: full.gas_used - 1,
        ..AppParams::default()
    };
    let capped = run(&mut s, &tx, &block(5), &tight, Mode::Simulate);
    assert_eq!(capped.code, 11, "{}", capped.log);
    assert!(capped.log.contains("out of gas"), "{}", capped.log);
}

/// A send whose body bytes get `extra` appended (an extra protobuf field),
/// signed over those bytes in SIGN_MODE_DIRECT.
fn signed_with_body_suffix(extra: &[u8]) -> Vec<u8> {
    use cosmrs::proto::cosmos::tx::v1beta1::{SignDoc, Tx};
    let alice = key(1);
    let plain = sign_tx(
        &send_spec(&alice, &key(2).address(), 1),
        &alice,
        CHAIN,
        1,
        0,
    );
    let raw = TxRaw::decode(plain.as_slice()).expect("raw");
    let _ = Tx::default();
    let mut body_bytes = raw.body_bytes.clone();
    body_bytes.extend_from_slice(extra);
    let doc = SignDoc {
        body_bytes: body_bytes.clone(),
        auth_info_bytes: raw.auth_info_bytes.clone(),
        chain_id: CHAIN.into(),
        account_number: 1,
    };
    TxRaw {
        body_bytes,
        auth_info_bytes: raw.auth_info_bytes,
        signatures: vec![alice.sign(&doc.encode_to_vec())],
    }
    .encode_to_vec()
}

#[test]
fn unknown_fields_in_the_signed_body_are_refused_non_critical_ones_pass() {
    // ADR-020 (security review L-2): field 99 of TxBody is unknown and critical.
    let mut s = genesis();
    let out =
        assert_rejected_without_change(&mut s, &signed_with_body_suffix(&[0x98, 0x06, 0x01]), 2);
    assert!(out.log.contains("unknown field"), "{}", out.log);
    // Field 1025 (bit 11 set) is a non-critical extension: ignored, as in the SDK.
    let out = run_deliver(&mut s, &signed_with_body_suffix(&[0x88, 0x40, 0x01]));
    assert_eq!(out.code, 0, "{}", out.log);
}

#[test]
fn a_relayed_tx_cannot_be_given_another_hash() {
    // A third party appends an unknown field to the (unsigned) TxRaw: same
    // signature, another hash. Refused: only the canonical encoding is a tx.
    let mut s = genesis();
    let alice = key(1);
    let mut tx = sign_tx(
        &send_spec(&alice, &key(2).address(), 1),
        &alice,
        CHAIN,
        1,
        0,
    );
    tx.extend_from_slice(&[0x20, 0x01]);
    let out = assert_rejected_without_change(&mut s, &tx, 2);
    assert!(out.log.contains("TxRaw"), "{}", out.log);
}

/// Alice sends 1 uverd to Bob; the fee (5000 uverd) names `payer`, and both
/// sign (SIGN_MODE_DIRECT, each over its own account number).
fn send_with_fee_payer(payer: &AccountKey) -> Vec<u8> {
    use cosmrs::proto::cosmos::tx::signing::v1beta1::SignMode;
    use cosmrs::proto::cosmos::tx::v1beta1::{
        mode_info, AuthInfo, Fee, ModeInfo, SignDoc, SignerInfo, TxBody,
    };
    let alice = key(1);
    let spec = send_spec(&alice, &key(2).address(), 1);
    let body_bytes = TxBody {
        messages: spec.msgs.clone(),
        memo: spec.memo.clone(),
        ..Default::default()
    }
    .encode_to_vec();
    let info = |k: &AccountKey| SignerInfo {
        public_key: Some(k.pubkey_any()),
        mode_info: Some(ModeInfo {
            sum: Some(mode_info::Sum::Single(mode_info::Single {
                mode: SignMode::Direct as i32,
            })),
        }),
        sequence: 0,
    };
    #[allow(deprecated)] // `tip`: deprecated, still on the wire type
    let auth_info_bytes = AuthInfo {
        signer_infos: vec![info(&alice), info(payer)],
        fee: Some(Fee {
            amount: spec.fee.iter().map(Coin::to_proto).collect(),
            gas_limit: spec.gas_limit,
            payer: payer.address().bech32(),
            granter: String::new(),
        }),
        tip: None,
    }
    .encode_to_vec();
    let sig = |k: &AccountKey, account_number: u64| {
        k.sign(
            &SignDoc {
                body_bytes: body_bytes.clone(),
                auth_info_bytes: auth_info_bytes.clone(),
                chain_id: CHAIN.into(),
                account_number,
            }
            .encode_to_vec(),
        )
    };
    TxRaw {
        signatures: vec![sig(&alice, 1), sig(payer, 2)],
        body_bytes: body_bytes.clone(),
        auth_info_bytes: auth_info_bytes.clone(),
    }
    .encode_to_vec()
}

#[test]
fn the_fee_payer_named_in_the_fee_pays_it() {
    // Security review L-4: `fee.payer` signs, so it must be the one charged.
    let (alice, bob) = (key(1).address(), key(2).address());
    // Bob holds 10 uverd: as the payer he cannot cover 5000.
    let mut s = genesis();
    let out = assert_rejected_without_change(&mut s, &send_with_fee_payer(&key(2)), 5);
    assert!(out.log.contains("insufficient funds"), "{}", out.log);
    // Funded, he pays; Alice only sends.
    Bank::mint(&mut s, &bob, &uverd(100_000)).expect("mint");
    let out = run_deliver(&mut s, &send_with_fee_payer(&key(2)));
    assert_eq!(out.code, 0, "{}", out.log);
    assert_eq!(bal(&s, &alice), 1_000_000 - 1);
    assert_eq!(bal(&s, &bob), 10 + 100_000 + 1 - 5000);
    let tx_event = out
        .events
        .iter()
        .find(|e| e.kind == "tx")
        .expect("tx event");
    assert!(
        tx_event
            .attributes
            .iter()
            .any(|(k, v)| k == "fee_payer" && v == &bob.bech32()),
        "{:?}",
        tx_event.attributes
    );
}

#[test]
fn a_multisend_out_of_gas_stops_where_its_gas_ends() {
    // Security review M-1: a message past its gas limit ran to its end, so its
    // work was not bounded by the fee. 400 outputs; gas for the ante handler
    // and a few of them.
    use cosmrs::proto::cosmos::bank::v1beta1::{Input, MsgMultiSend, Output};
    let mut s = genesis();
    let alice = key(1);
    let outputs: Vec<Output> = (0..400u32)
        .map(|i| {
            let mut a = [7u8; 20];
            a[..4].copy_from_slice(&i.to_be_bytes());
            Output {
                address: Addr(a).bech32(),
                coins: vec![Coin::new(1, "uverd").to_proto()],
            }
        })
        .collect();
    let msg = cosmrs::Any {
        type_url: "/cosmos.bank.v1beta1.MsgMultiSend".into(),
        value: MsgMultiSend {
            inputs: vec![Input {
                address: alice.address().bech32(),
                coins: vec![Coin::new(400, "uverd").to_proto()],
            }],
            outputs,
        }
        .encode_to_vec(),
    };
    let limit = 400_000;
    let spec = TxSpec {
        msgs: vec![msg],
        memo: String::new(),
        timeout_height: 0,
        fee: uverd(10_000),
        gas_limit: limit,
    };
    let out = run_deliver(&mut s, &sign_tx(&spec, &alice, CHAIN, 1, 0));
    assert_eq!(out.code, 11, "{}", out.log);
    // One storage access past the limit at most, not 400 outputs' worth.
    assert!(
        out.gas_used < limit + 10_000,
        "gas used {} for a limit of {limit}",
        out.gas_used
    );
    assert_eq!(
        bal(&s, &alice.address()),
        1_000_000 - 10_000,
        "only the fee paid"
    );
}
