//! SIGN_MODE_LEGACY_AMINO_JSON through the whole tx pipeline (CheckTx, blocks,
//! execution): amino-signed transactions are accepted like direct ones; a
//! signature does not survive a change to what it signed (fee, gas, memo,
//! message), and such a tx is refused as unauthorized without touching state;
//! messages without an amino name are refused with a reason.

mod kit;
use kit::*;

use cosmrs::proto::cosmos::staking::v1beta1 as st;
use cosmrs::proto::cosmos::tx::v1beta1::{AuthInfo, TxBody, TxRaw};
use cosmrs::Any;

const UNAUTHORIZED: u32 = 4;

fn send_msg(to: u8, amount: u128) -> Any {
    msg_send(
        &user().address(),
        &account_key(to).address(),
        &[Coin::new(amount, "uverd")],
    )
}

fn delegate_msg(validator: u8, amount: u128) -> Any {
    Any {
        type_url: "/cosmos.staking.v1beta1.MsgDelegate".into(),
        value: st::MsgDelegate {
            delegator_address: user().address().bech32(),
            validator_address: operator(validator).address().valoper(),
            amount: Some(Coin::new(amount, "uverd").to_proto()),
        }
        .encode_to_vec(),
    }
}

/// The user's delegation to validator `v` in uverd (0 when none).
fn delegation(net: &TestNet, v: u8) -> u128 {
    let r = proto_query(
        net.app(),
        "/cosmos.staking.v1beta1.Query/Delegation",
        st::QueryDelegationRequest {
            delegator_addr: user().address().bech32(),
            validator_addr: operator(v).address().valoper(),
        },
    );
    if r.code != 0 {
        return 0;
    }
    st::QueryDelegationResponse::decode(r.value.as_ref())
        .expect("decode")
        .delegation_response
        .and_then(|d| d.balance)
        .map(|c| c.amount.parse().expect("amount"))
        .unwrap_or(0)
}

#[test]
fn amino_signed_send_delegate_and_job_are_accepted_and_run() {
    let mut net = TestNet::new(&[Honest; 4], 8);
    let reg = net.register();
    let r = net.run_height(vec![reg]);
    assert!(
        r.tx_results.iter().all(|t| t.code == 0),
        "{:?}",
        r.tx_results
    );
    let to = account_key(7).address().bech32();
    let (user_before, to_before) = (net.balance(&user().address().bech32()), net.balance(&to));

    // A send and a delegation in one amino-signed tx; CheckTx accepts it too.
    let tx = net.user_tx_amino(vec![send_msg(7, 1234), delegate_msg(0, 5_000_000)]);
    let check = net.app().check_tx(RequestCheckTx {
        tx: tx.clone().into(),
        r#type: 0,
    });
    assert_eq!(check.code, 0, "{}", check.log);
    let r = net.run_tx(tx);
    assert_eq!(r.code, 0, "{}", r.log);
    assert_eq!(net.balance(&to), to_before + 1234);
    assert_eq!(
        net.balance(&user().address().bech32()),
        user_before - 1234 - 5_000_000 - 10_000
    );
    assert_eq!(delegation(&net, 0), 5_000_000);

    // An inference job, amino-signed, settles like any other.
    let job = net.user_tx_amino(vec![TestNet::submit_msg(vec![0; 8], vec![1, 2], 40_000)]);
    let r = net.run_tx(job);
    assert_eq!(r.code, 0, "{}", r.log);
    for _ in 0..30 {
        net.run_height(vec![]);
        if matches!(
            net.job(1)["status"].as_str(),
            Some("completed" | "failed" | "expired")
        ) {
            break;
        }
    }
    let j = net.job(1);
    assert_eq!(j["status"], "completed", "{j}");
    assert_eq!(j["requester"], json!(user().address().bech32()));
}

/// The signed tx's parts, to tamper with.
fn parts(tx: &[u8]) -> (TxBody, AuthInfo, TxRaw) {
    let raw = TxRaw::decode(tx).expect("raw");
    let body = TxBody::decode(raw.body_bytes.as_slice()).expect("body");
    let auth = AuthInfo::decode(raw.auth_info_bytes.as_slice()).expect("auth info");
    (body, auth, raw)
}

fn reassemble(body: &TxBody, auth: &AuthInfo, signatures: Vec<Vec<u8>>) -> Vec<u8> {
    TxRaw {
        body_bytes: body.encode_to_vec(),
        auth_info_bytes: auth.encode_to_vec(),
        signatures,
    }
    .encode_to_vec()
}

/// Everything a refused tx must leave as it was.
fn books(net: &TestNet) -> (u128, u128, Option<(u64, u64)>) {
    (
        net.balance(&user().address().bech32()),
        net.balance(&account_key(7).address().bech32()),
        account_of(net.app(), &user().address()),
    )
}

#[test]
fn a_tampered_fee_gas_memo_or_message_is_unauthorized_and_changes_nothing() {
    let mut net = TestNet::builder().start();
    let spec = TxSpec {
        msgs: vec![send_msg(7, 1000)],
        memo: "pay <bob> & co".into(),
        timeout_height: 0,
        fee: vec![Coin::new(10_000, "uverd")],
        gas_limit: 400_000,
    };
    let (number, sequence) = account_of(net.app(), &user().address()).expect("user");
    let good = net.sign_amino(&spec, &user(), number, sequence);
    let (body, auth, raw) = parts(&good);

    let mut tampered = Vec::new();
    let mut fee_up = auth.clone();
    fee_up.fee.as_mut().expect("fee").amount[0].amount = "10001".into();
    tampered.push(("fee", reassemble(&body, &fee_up, raw.signatures.clone())));
    let mut gas_up = auth.clone();
    gas_up.fee.as_mut().expect("fee").gas_limit = 399_999;
    tampered.push(("gas", reassemble(&body, &gas_up, raw.signatures.clone())));
    let mut memo = body.clone();
    memo.memo = "pay <eve> & co".into();
    tampered.push(("memo", reassemble(&memo, &auth, raw.signatures.clone())));
    let mut msg = body.clone();
    msg.messages = vec![send_msg(8, 1000)];
    tampered.push(("message", reassemble(&msg, &auth, raw.signatures.clone())));
    // The right amino signature under a DIRECT signer info.
    let mut direct = auth.clone();
    let direct_sig = net.sign(&spec, &user(), number, sequence);
    direct.signer_infos = parts(&direct_sig).1.signer_infos;
    tampered.push((
        "sign mode",
        reassemble(&body, &direct, raw.signatures.clone()),
    ));

    let before = books(&net);
    for (what, tx) in &tampered {
        let check = net.app().check_tx(RequestCheckTx {
            tx: tx.clone().into(),
            r#type: 0,
        });
        assert_eq!(check.code, UNAUTHORIZED, "{what}: {}", check.log);
        assert!(
            check.log.contains("signature verification failed"),
            "{what}: {}",
            check.log
        );
        let r = net.run_tx(tx.clone());
        assert_eq!(r.code, UNAUTHORIZED, "{what}: {}", r.log);
        assert_eq!(books(&net), before, "{what} changed state");
    }
    // The untampered tx goes through.
    let r = net.run_tx(good);
    assert_eq!(r.code, 0, "{}", r.log);
    let after = books(&net);
    assert_eq!(after.0, before.0 - 1000 - 10_000);
    assert_eq!(after.1, before.1 + 1000);
    assert_eq!(after.2, Some((number, sequence + 1)));
}

/// ibc-go's `MsgUpdateClient`, which has no amino name (relayers sign direct).
#[derive(Clone, PartialEq, prost::Message)]
struct MsgUpdateClient {
    #[prost(string, tag = "1")]
    client_id: String,
    #[prost(message, optional, tag = "2")]
    client_message: Option<Any>,
    #[prost(string, tag = "3")]
    signer: String,
}

#[test]
fn a_message_without_an_amino_name_is_refused_in_amino_mode_only() {
    let mut net = TestNet::builder().start();
    let update = Any {
        type_url: "/ibc.core.client.v1.MsgUpdateClient".into(),
        value: MsgUpdateClient {
            client_id: "07-tendermint-0".into(),
            client_message: Some(Any {
                type_url: "/ibc.lightclients.tendermint.v1.Header".into(),
                value: vec![],
            }),
            signer: user().address().bech32(),
        }
        .encode_to_vec(),
    };
    let spec = net.spec(vec![update]);
    let (number, sequence) = account_of(net.app(), &user().address()).expect("user");
    // The kit's signer cannot make an amino doc for it either: sign anything.
    let tx = verdict_app::txbuild::sign_tx_amino(&spec, &user(), sequence, |_, _| b"x".to_vec());
    let before = books(&net);
    let r = net.run_tx(tx);
    assert_eq!(r.code, UNAUTHORIZED, "{}", r.log);
    assert!(
        r.log
            .contains("/ibc.core.client.v1.MsgUpdateClient has no amino name")
            && r.log.contains("SIGN_MODE_DIRECT"),
        "{}",
        r.log
    );
    assert_eq!(books(&net), before);
    // Signed direct, it passes the ante handler (and fails in IBC: no client).
    let r = net.run_tx(net.sign(&spec, &user(), number, sequence));
    assert_ne!(r.code, UNAUTHORIZED, "{}", r.log);
    assert_eq!(
        account_of(net.app(), &user().address()),
        Some((number, sequence + 1))
    );
}
