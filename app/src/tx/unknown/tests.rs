use cosmrs::proto::cosmos::bank::v1beta1::MsgSend;
use cosmrs::proto::cosmos::base::v1beta1::Coin;
use proptest::prelude::*;
use prost::Message;
use prost_reflect::{DynamicMessage, ReflectMessage, Value};

use super::{check, Refusal};

fn desc(name: &str) -> prost_reflect::MessageDescriptor {
    verdict_proto::descriptor_pool()
        .get_message_by_name(name)
        .expect("descriptor")
}

fn body_check(bytes: &[u8]) -> Result<(), Refusal> {
    check(&desc("cosmos.tx.v1beta1.TxBody"), bytes, true)
}

/// The check as it was (a DynamicMessage decode and walk), plus the Any
/// envelope's own fields, which it skipped: the oracle for the wire scanner.
fn oracle(type_name: &str, bytes: &[u8], body: bool) -> bool {
    fn walk(m: &DynamicMessage, body: bool) -> bool {
        if m.unknown_fields()
            .any(|f| !(body && f.number() & 1024 != 0))
        {
            return false;
        }
        let check = |v: &Value| match v {
            Value::Message(inner) => check_msg(inner),
            _ => true,
        };
        m.fields().all(|(_, value)| match value {
            Value::List(items) => items.iter().all(check),
            other => check(other),
        })
    }
    fn check_msg(m: &DynamicMessage) -> bool {
        if m.descriptor().full_name() != "google.protobuf.Any" {
            return walk(m, false);
        }
        if m.unknown_fields().next().is_some() {
            return false;
        }
        let url = match m.get_field_by_name("type_url").as_deref() {
            Some(Value::String(u)) => u.clone(),
            _ => return true,
        };
        let Some(desc) =
            verdict_proto::descriptor_pool().get_message_by_name(url.trim_start_matches('/'))
        else {
            return true;
        };
        let value = match m.get_field_by_name("value").as_deref() {
            Some(Value::Bytes(b)) => b.clone(),
            _ => return true,
        };
        DynamicMessage::decode(desc, value).is_ok_and(|inner| walk(&inner, false))
    }
    DynamicMessage::decode(desc(type_name), bytes).is_ok_and(|m| walk(&m, body))
}

/// A length-delimited field.
fn field(number: u32, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    prost::encoding::encode_key(number, prost::encoding::WireType::LengthDelimited, &mut out);
    prost::encoding::encode_varint(bytes.len() as u64, &mut out);
    out.extend_from_slice(bytes);
    out
}

/// A varint field.
fn vfield(number: u32, v: u64) -> Vec<u8> {
    let mut out = Vec::new();
    prost::encoding::encode_key(number, prost::encoding::WireType::Varint, &mut out);
    prost::encoding::encode_varint(v, &mut out);
    out
}

/// Any string: the check does not read values.
const ADDR_A: &str = "verdict1sender";

/// A TxBody holding one MsgSend, with `extra[i]` appended to, in order: the
/// coin, the MsgSend, the Any envelope, the body.
fn body_with(extra: [&[u8]; 4]) -> Vec<u8> {
    let mut coin = Coin {
        denom: "uverd".into(),
        amount: "1".into(),
    }
    .encode_to_vec();
    coin.extend_from_slice(extra[0]);
    let mut send = MsgSend {
        from_address: ADDR_A.into(),
        to_address: ADDR_A.into(),
        amount: vec![],
    }
    .encode_to_vec();
    send.extend(field(3, &coin));
    send.extend_from_slice(extra[1]);
    let mut any = field(1, b"/cosmos.bank.v1beta1.MsgSend");
    any.extend(field(2, &send));
    any.extend_from_slice(extra[2]);
    let mut body = field(1, &any);
    body.extend(field(2, b"memo"));
    body.extend_from_slice(extra[3]);
    body
}

#[test]
fn a_clean_body_passes_and_agrees_with_the_oracle() {
    let b = body_with([&[]; 4]);
    assert_eq!(body_check(&b), Ok(()));
    assert!(oracle("cosmos.tx.v1beta1.TxBody", &b, true));
}

#[test]
fn an_unknown_field_is_found_at_every_depth_with_its_path() {
    let unknown = vfield(99, 1);
    let cases = [
        (
            0,
            "cosmos.tx.v1beta1.TxBody.messages (/cosmos.bank.v1beta1.MsgSend).amount",
        ),
        (
            1,
            "cosmos.tx.v1beta1.TxBody.messages (/cosmos.bank.v1beta1.MsgSend)",
        ),
        (2, "cosmos.tx.v1beta1.TxBody.messages"),
        (3, "cosmos.tx.v1beta1.TxBody"),
    ];
    for (at, path) in cases {
        let mut extra: [&[u8]; 4] = [&[]; 4];
        extra[at] = &unknown;
        let b = body_with(extra);
        assert_eq!(
            body_check(&b),
            Err(Refusal::Unknown {
                number: 99,
                path: path.into()
            }),
            "at {at}"
        );
        assert!(!oracle("cosmos.tx.v1beta1.TxBody", &b, true), "at {at}");
    }
}

#[test]
fn non_critical_fields_pass_in_the_body_only() {
    let nc = vfield(1025, 1);
    assert_eq!(body_check(&body_with([&[], &[], &[], &nc])), Ok(()));
    let inner = body_with([&[], &nc, &[], &[]]);
    assert!(matches!(
        body_check(&inner),
        Err(Refusal::Unknown { number: 1025, .. })
    ));
    // AuthInfo has no non-critical range.
    let auth = desc("cosmos.tx.v1beta1.AuthInfo");
    assert!(check(&auth, &nc, false).is_err());
}

#[test]
fn malformed_wire_is_refused_not_panicked_on() {
    let b = body_with([&[]; 4]);
    for bad in [
        vec![0x0a, 0x05, 0x01], // a length past the end
        vec![0x08],             // a truncated varint
        vec![0x0b],             // a group start (wire type 3)
        vec![0x0e],             // wire type 6
        vec![0x00, 0x01],       // field number 0
        vec![
            0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
        ],
        // timeout_height, a varint past 64 bits
        vec![
            0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02,
        ],
        vfield(1, 5), // messages (an Any) as a varint
    ] {
        assert!(
            matches!(body_check(&bad), Err(Refusal::Malformed(_))),
            "{bad:02x?}"
        );
        let mut long = b.clone();
        long.extend_from_slice(&bad);
        assert!(body_check(&long).is_err(), "{bad:02x?}");
    }
}

#[test]
fn an_any_field_with_another_wire_type_is_refused() {
    // Review of 8343f89: a type_url given as a fixed32 after the real one left
    // the type empty, so the value went unchecked.
    let mut any = field(1, b"/cosmos.bank.v1beta1.MsgSend");
    any.extend(field(2, &vfield(99, 1)));
    any.extend([0x0d, 0, 0, 0, 0]);
    let r = body_check(&field(1, &any));
    assert!(
        matches!(&r, Err(Refusal::Malformed(m)) if m.contains("type_url")),
        "{r:?}"
    );
}

#[test]
fn a_oneof_that_switches_members_is_checked_in_every_member() {
    // mode_info = single, then multi, then single: prost keeps the last single
    // only. Every occurrence is checked, so an unknown field in a member prost
    // replaces is refused too (stricter than prost needs, never looser).
    let single = |extra: &[u8]| field(1, &[vfield(1, 1), extra.to_vec()].concat());
    let multi = field(2, &[]);
    let info = |first: Vec<u8>| field(1, &field(2, &[first, multi.clone(), single(&[])].concat()));
    assert_eq!(auth_check(&info(single(&[]))), Ok(()));
    assert!(oracle(
        "cosmos.tx.v1beta1.AuthInfo",
        &info(single(&[])),
        false
    ));
    assert!(matches!(
        auth_check(&info(single(&vfield(9, 1)))),
        Err(Refusal::Unknown { number: 9, .. })
    ));
}

#[test]
fn nesting_past_the_limit_is_refused() {
    // An Any may hold a TxBody, whose messages are Anys: nesting without end.
    let d = desc("cosmos.tx.v1beta1.TxBody");
    let mut any = Vec::new();
    for _ in 0..200 {
        let mut a = field(1, b"/cosmos.tx.v1beta1.TxBody");
        a.extend(field(2, &field(1, &any)));
        any = a;
    }
    let r = check(&d, &field(1, &any), true);
    assert!(
        matches!(&r, Err(Refusal::Malformed(m)) if m.contains("recursion")),
        "{r:?}"
    );
}

/// An AuthInfo with one SignerInfo whose public key (a secp256k1 PubKey in an
/// Any) is given as one occurrence (`split` 0), as two (type_url in the
/// first, value in the second: 1), or whole twice (2); `extra[i]` appended to,
/// in order: the PubKey, the Any, the SignerInfo, the AuthInfo.
fn auth_with(split: u8, extra: [&[u8]; 4]) -> Vec<u8> {
    let mut pk = field(1, &[2u8; 33]);
    pk.extend_from_slice(extra[0]);
    let url = field(1, b"/cosmos.crypto.secp256k1.PubKey");
    let value = field(2, &pk);
    let mut info = Vec::new();
    match split {
        0 => info.extend(field(1, &[url, value, extra[1].to_vec()].concat())),
        1 => {
            info.extend(field(1, &url));
            info.extend(field(1, &[value, extra[1].to_vec()].concat()));
        }
        _ => {
            let whole = [url, value].concat();
            info.extend(field(1, &whole));
            info.extend(field(1, &[whole.as_slice(), extra[1]].concat()));
        }
    }
    info.extend(field(2, &field(1, &vfield(1, 1)))); // mode_info.single.mode
    info.extend(vfield(3, 7)); // sequence
    info.extend_from_slice(extra[2]);
    let mut auth = field(1, &info);
    auth.extend_from_slice(extra[3]);
    auth
}

fn auth_check(bytes: &[u8]) -> Result<(), Refusal> {
    check(&desc("cosmos.tx.v1beta1.AuthInfo"), bytes, false)
}

#[test]
fn a_public_key_split_over_two_occurrences_is_checked_as_merged() {
    // Review of 82ae977: the type_url alone and the value alone each passed,
    // and prost merged them into a PubKey with field 15 it then dropped.
    let unknown = vfield(15, 1);
    for split in [0, 1, 2] {
        let clean = auth_with(split, [&[]; 4]);
        assert_eq!(auth_check(&clean), Ok(()), "split {split}");
        assert!(oracle("cosmos.tx.v1beta1.AuthInfo", &clean, false));
        let b = auth_with(split, [&unknown, &[], &[], &[]]);
        assert_eq!(
            auth_check(&b),
            Err(Refusal::Unknown {
                number: 15,
                path: "cosmos.tx.v1beta1.AuthInfo.signer_infos.public_key (/cosmos.crypto.secp256k1.PubKey)"
                    .into()
            }),
            "split {split}"
        );
        assert!(
            !oracle("cosmos.tx.v1beta1.AuthInfo", &b, false),
            "split {split}"
        );
    }
}

fn extra_field() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => Just(Vec::new()),
        1 => (1u32..20, any::<u64>()).prop_map(|(n, v)| vfield(n, v)),
        1 => (1u32..20, proptest::collection::vec(any::<u8>(), 0..12)).prop_map(|(n, b)| field(n, &b)),
        1 => (1020u32..1030, any::<u64>()).prop_map(|(n, v)| vfield(n, v)),
    ]
}

type Flips = Vec<(prop::sample::Index, u8)>;

/// `b` with `flips` applied, then: what the DynamicMessage walk (with the Any
/// envelope checked too) passes, the scanner passes; where the scanner passes
/// what the walk refused (it also checks values: UTF-8, scalar wire types),
/// `typed` (the decoders that follow) refuses it.
fn agree(
    type_name: &str,
    mut b: Vec<u8>,
    non_critical_ok: bool,
    flips: Flips,
    typed: impl Fn(&[u8]) -> bool,
) -> Result<(), TestCaseError> {
    for (i, x) in flips {
        let at = i.index(b.len());
        b[at] ^= x;
    }
    let new = check(&desc(type_name), &b, non_critical_ok).is_ok();
    if oracle(type_name, &b, non_critical_ok) {
        prop_assert!(new, "the scanner refused what the walk passed: {:02x?}", b);
    } else if new {
        prop_assert!(
            !typed(&b),
            "the scanner passed what nothing refuses: {:02x?}",
            b
        );
    }
    Ok(())
}

fn flips() -> impl Strategy<Value = Flips> {
    proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..3)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// On bodies with fields added at every depth, then bytes flipped.
    #[test]
    fn the_scanner_agrees_with_the_dynamic_walk(
        e0 in extra_field(), e1 in extra_field(), e2 in extra_field(), e3 in extra_field(),
        flips in flips(),
    ) {
        agree("cosmos.tx.v1beta1.TxBody", body_with([&e0, &e1, &e2, &e3]), true, flips, |b| {
            cosmrs::proto::cosmos::tx::v1beta1::TxBody::decode(b).is_ok_and(|body| {
                body.messages.iter().all(|m| MsgSend::decode(m.value.as_slice()).is_ok())
            })
        })?;
    }

    /// The same on AuthInfos whose public key may come in two occurrences.
    #[test]
    fn the_scanner_agrees_with_the_dynamic_walk_on_split_keys(
        split in 0u8..3,
        e0 in extra_field(), e1 in extra_field(), e2 in extra_field(), e3 in extra_field(),
        flips in flips(),
    ) {
        use cosmrs::proto::cosmos::crypto::secp256k1::PubKey;
        use cosmrs::proto::cosmos::tx::v1beta1::AuthInfo;
        agree("cosmos.tx.v1beta1.AuthInfo", auth_with(split, [&e0, &e1, &e2, &e3]), false, flips, |b| {
            AuthInfo::decode(b).is_ok_and(|a| {
                a.signer_infos
                    .iter()
                    .filter_map(|i| i.public_key.as_ref())
                    .filter(|k| k.type_url == "/cosmos.crypto.secp256k1.PubKey")
                    .all(|k| PubKey::decode(k.value.as_slice()).is_ok())
            })
        })?;
    }
}
