//! The amino-JSON encoder against cosmjs: golden sign docs made by cosmjs
//! 0.39 itself (`clients/cosmjs/amino_vectors.mjs`), reproduced byte for byte
//! from the protobuf messages cosmjs puts in the tx body; and what is refused.

use cosmrs::proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use cosmrs::proto::cosmos::tx::v1beta1::Fee;
use prost::Message;

use super::*;

struct Vector {
    name: &'static str,
    chain_id: &'static str,
    account_number: u64,
    sequence: u64,
    memo: &'static str,
    timeout_height: u64,
    /// (amount, denom)
    fee: &'static [(&'static str, &'static str)],
    gas: u64,
    payer: &'static str,
    /// (type URL, protobuf value as hex)
    msgs: &'static [(&'static str, &'static str)],
    sign_doc: &'static str,
}

include!("amino_vectors.rs");

fn any(type_url: &str, value: Vec<u8>) -> Any {
    Any {
        type_url: type_url.into(),
        value,
    }
}

fn doc_of(v: &Vector) -> Result<String, String> {
    let msgs: Vec<Any> = v
        .msgs
        .iter()
        .map(|(url, hex_value)| any(url, hex::decode(hex_value).expect("hex")))
        .collect();
    let fee = Fee {
        amount: v
            .fee
            .iter()
            .map(|(amount, denom)| ProtoCoin {
                denom: (*denom).into(),
                amount: (*amount).into(),
            })
            .collect(),
        gas_limit: v.gas,
        payer: v.payer.into(),
        granter: String::new(),
    };
    let bytes = sign_bytes(&SignDocInput {
        chain_id: v.chain_id,
        account_number: v.account_number,
        sequence: v.sequence,
        timeout_height: v.timeout_height,
        memo: v.memo,
        msgs: &msgs,
        fee: &fee,
    })?;
    Ok(String::from_utf8(bytes).expect("UTF-8"))
}

#[test]
fn sign_docs_are_byte_for_byte_the_ones_cosmjs_signs() {
    let names: Vec<&str> = VECTORS.iter().map(|v| v.name).collect();
    // MsgSend, MsgDelegate, MsgCreateValidator, MsgSubmitJob with tensor bytes,
    // memos with <&>, and every other message type users send.
    for want in ["send", "delegate", "create_validator", "submit_job"] {
        assert!(names.contains(&want), "{want} missing from {names:?}");
    }
    for v in VECTORS {
        assert_eq!(doc_of(v).as_deref(), Ok(v.sign_doc), "vector {}", v.name);
    }
}

/// The vectors cover every message type a user can send (IBC core messages,
/// the relayers', are direct-only) and each of them has an amino name.
#[test]
fn every_user_message_type_has_an_amino_name_and_a_vector() {
    let user_msgs = [
        "/cosmos.bank.v1beta1.MsgSend",
        "/cosmos.bank.v1beta1.MsgMultiSend",
        "/cosmos.staking.v1beta1.MsgCreateValidator",
        "/cosmos.staking.v1beta1.MsgEditValidator",
        "/cosmos.staking.v1beta1.MsgDelegate",
        "/cosmos.staking.v1beta1.MsgUndelegate",
        "/cosmos.staking.v1beta1.MsgBeginRedelegate",
        "/cosmos.distribution.v1beta1.MsgWithdrawDelegatorReward",
        "/cosmos.distribution.v1beta1.MsgWithdrawValidatorCommission",
        "/cosmos.slashing.v1beta1.MsgUnjail",
        "/verdict.inference.v1.MsgRegisterModel",
        "/verdict.inference.v1.MsgServeModel",
        "/verdict.inference.v1.MsgSubmitJob",
        "/verdict.inference.v1.MsgRequestRemote",
        "/verdict.inference.v1.MsgReclaimRemote",
    ];
    for url in user_msgs {
        let name = amino_name(url).unwrap_or_else(|| panic!("{url} has no amino name"));
        assert!(name.len() <= 39, "{name}: over Ledger's 39 characters");
        assert!(
            VECTORS
                .iter()
                .any(|v| v.msgs.iter().any(|(u, _)| *u == url)),
            "no cosmjs vector for {url}"
        );
    }
    assert_eq!(
        amino_name("/verdict.inference.v1.MsgSubmitJob").as_deref(),
        Some("verdict/MsgSubmitJob")
    );
    assert_eq!(
        amino_name("/cosmos.distribution.v1beta1.MsgWithdrawValidatorCommission").as_deref(),
        Some("cosmos-sdk/MsgWithdrawValCommission")
    );
}

fn one_msg_doc(msg: Any) -> Result<Vec<u8>, String> {
    sign_bytes(&SignDocInput {
        chain_id: "c",
        account_number: 0,
        sequence: 0,
        timeout_height: 0,
        memo: "",
        msgs: &[msg],
        fee: &Fee::default(),
    })
}

#[test]
fn a_message_without_an_amino_name_is_refused_with_a_reason() {
    // IBC core messages (a relayer's) have none in ibc-go's protos.
    let update = any("/ibc.core.client.v1.MsgUpdateClient", vec![]);
    let err = one_msg_doc(update).expect_err("no amino name");
    assert!(
        err.contains("has no amino name") && err.contains("SIGN_MODE_DIRECT"),
        "{err}"
    );
    let err = one_msg_doc(any("/no.such.Msg", vec![])).expect_err("unknown type");
    assert!(err.contains("unknown message type"), "{err}");
    let err = one_msg_doc(any("/cosmos.bank.v1beta1.MsgSend", vec![0xff])).expect_err("bad bytes");
    assert!(err.contains("bad /cosmos.bank.v1beta1.MsgSend"), "{err}");
}

#[test]
fn fields_the_signature_would_not_cover_are_refused() {
    // MsgSend with an extra field 9 (unknown to the descriptor): the JSON would
    // not show it, so an amino signature cannot vouch for it.
    let mut value = cosmrs::proto::cosmos::bank::v1beta1::MsgSend {
        from_address: "a".into(),
        to_address: "b".into(),
        amount: vec![],
    }
    .encode_to_vec();
    value.extend_from_slice(&[0x48, 0x01]);
    let err = one_msg_doc(any("/cosmos.bank.v1beta1.MsgSend", value)).expect_err("unknown field");
    assert!(err.contains("does not know"), "{err}");
}

#[test]
fn empty_fields_follow_the_sdk_rules() {
    // MsgSend with no coins: `amount` is dont_omitempty + legacy_coins → [].
    let send = any(
        "/cosmos.bank.v1beta1.MsgSend",
        cosmrs::proto::cosmos::bank::v1beta1::MsgSend {
            from_address: "a".into(),
            to_address: String::new(),
            amount: vec![],
        }
        .encode_to_vec(),
    );
    let doc = String::from_utf8(one_msg_doc(send).expect("doc")).expect("utf8");
    assert!(
        doc.contains(r#"{"type":"cosmos-sdk/MsgSend","value":{"amount":[],"from_address":"a"}}"#),
        "{doc}"
    );
    // MsgDelegate without its (dont_omitempty) amount cannot be encoded.
    let delegate = any(
        "/cosmos.staking.v1beta1.MsgDelegate",
        cosmrs::proto::cosmos::staking::v1beta1::MsgDelegate {
            delegator_address: "a".into(),
            validator_address: "b".into(),
            amount: None,
        }
        .encode_to_vec(),
    );
    let err = one_msg_doc(delegate).expect_err("missing amount");
    assert!(err.contains("amount must be set"), "{err}");
    // MsgUnjail: amino.field_name "address", dont_omitempty.
    let unjail = any(
        "/cosmos.slashing.v1beta1.MsgUnjail",
        cosmrs::proto::cosmos::slashing::v1beta1::MsgUnjail {
            validator_addr: String::new(),
        }
        .encode_to_vec(),
    );
    let doc = String::from_utf8(one_msg_doc(unjail).expect("doc")).expect("utf8");
    assert!(
        doc.contains(r#"{"type":"cosmos-sdk/MsgUnjail","value":{"address":""}}"#),
        "{doc}"
    );
}

#[test]
fn legacy_decs_print_as_the_sdk_prints_them() {
    for (atomics, want) in [
        ("0", "0.000000000000000000"),
        ("000", "0.000000000000000000"),
        ("-0", "0.000000000000000000"),
        ("1", "0.000000000000000001"),
        ("100000000000000000", "0.100000000000000000"),
        ("1000000000000000000", "1.000000000000000000"),
        ("12345000000000000000000", "12345.000000000000000000"),
        ("-500000000000000000", "-0.500000000000000000"),
    ] {
        assert_eq!(legacy_dec_string(atomics).as_deref(), Ok(want), "{atomics}");
    }
    for bad in ["", "-", "0.1", "+1", "0x10", "1e18", " 1"] {
        assert!(legacy_dec_string(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn strings_are_escaped_as_json_stringify_then_cosmjs_does() {
    let s = Json::Str("a\"b\\c\n\r\t\u{8}\u{c}\u{1}\u{1f}\u{7f}<>&é✓😀".into());
    assert_eq!(
        String::from_utf8(s.to_bytes()).expect("utf8"),
        "\"a\\\"b\\\\c\\n\\r\\t\\b\\f\\u0001\\u001f\u{7f}\\u003c\\u003e\\u0026é✓😀\""
    );
    let mut o = BTreeMap::new();
    o.insert("b".to_string(), Json::Null);
    o.insert(
        "a".to_string(),
        Json::Arr(vec![Json::Bool(true), Json::Num("-3".into())]),
    );
    assert_eq!(Json::Obj(o).to_bytes(), br#"{"a":[true,-3],"b":null}"#);
}
