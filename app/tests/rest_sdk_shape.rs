//! Verdict's REST (LCD) JSON compared, field by field, with what a real Cosmos
//! SDK chain's gateway answers for the same state shape.
//!
//! The SDK side is recorded by `scripts/sdk-gateway-fixtures.sh` (a throwaway
//! wasmd chain where alice sends to bob and delegates; see
//! `tests/fixtures/sdk_gateway/SOURCE`). Here a test net builds the same shape
//! of state (the user sends, delegates and pays fees), Verdict's gateway runs
//! in-process, and each answer must have the fixture's shape: the same keys at
//! every object level, the same JSON type per key, the same `@type` in every
//! `Any`, the same kind of string (integer, decimal, timestamp, duration)
//! where both are non-empty, arrays compared by their first element. Values
//! themselves differ (addresses, denoms, amounts, heights).
//!
//! The node services (blocks, validator sets, the node part of node_info) are
//! answered from CometBFT's RPC: the gateway is given a stand-in RPC that
//! replays what the wasmd chain's CometBFT answered (`cometbft_*.json`), so
//! Verdict's conversion of a real node's answer is what is compared.
//!
//! Differences that are justified are listed in [`ALLOWED`], each with its
//! reason; every other difference fails the test with its JSON path.

mod kit;
use kit::*;

use std::io::{BufRead, BufReader, Write};

use cosmrs::proto::cosmos::staking::v1beta1 as staking_pb;
use sha2::Digest;
use verdict_app::grpc::Backend;
use verdict_app::rest;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sdk_gateway");

/// Known, justified differences: (fixture, JSON path, reason). A listed
/// difference that no longer occurs fails the test too, so the list stays true.
/// Only differences that come from the recording chain being newer than the
/// SDK release Verdict's protos are from (v0.50.13, proto/third_party/SOURCES)
/// belong here; a rendering difference does not.
const ALLOWED: &[(&str, &str, &str)] = &[
    (
        "tx",
        "$.tx.body.unordered",
        "TxBody.unordered was added in cosmos-sdk 0.53; Verdict speaks the 0.50 TxBody",
    ),
    (
        "tx",
        "$.tx.body.timeout_timestamp",
        "TxBody.timeout_timestamp was added in cosmos-sdk 0.53; Verdict speaks the 0.50 TxBody",
    ),
    (
        "tx",
        "$.tx_response.tx.body.unordered",
        "TxBody.unordered (in the Any of tx_response.tx) was added in cosmos-sdk 0.53",
    ),
    (
        "tx",
        "$.tx_response.tx.body.timeout_timestamp",
        "TxBody.timeout_timestamp (in the Any of tx_response.tx) was added in cosmos-sdk 0.53",
    ),
];

/// A GET to the gateway: (status, JSON body).
fn get(addr: &str, path: &str) -> (u16, Value) {
    let (status, json, _) = http(addr, "GET", path, b"");
    (status, json)
}

fn fixture(name: &str) -> Value {
    let path = format!("{FIXTURES}/{name}.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// What a non-empty string holds, where the SDK's JSON is particular about it.
fn format(s: &str) -> &'static str {
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let unsigned = s.strip_prefix('-').unwrap_or(s);
    if digits(unsigned) {
        return "integer";
    }
    if let Some((i, f)) = unsigned.split_once('.') {
        if digits(i) && digits(f) {
            return "decimal";
        }
    }
    if let Some(d) = s.strip_suffix('s') {
        let (i, f) = d.split_once('.').unwrap_or((d, "0"));
        if digits(i) && digits(f) {
            return "duration";
        }
    }
    let b = s.as_bytes();
    if b.len() >= 20 && b[4] == b'-' && b[7] == b'-' && b[10] == b'T' && s.ends_with('Z') {
        return "timestamp";
    }
    "text"
}

fn brief(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(60).collect::<String>())
    } else {
        s
    }
}

/// Every way `ours` is not shaped like `sdk`: (JSON path, what differs).
fn diff(path: &str, sdk: &Value, ours: &Value, out: &mut Vec<(String, String)>) {
    match (sdk, ours) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, va) in a {
                let p = format!("{path}.{k}");
                match b.get(k) {
                    None => out.push((
                        p,
                        format!("missing in ours (SDK: {} {})", kind(va), brief(va)),
                    )),
                    Some(vb) => diff(&p, va, vb, out),
                }
            }
            for (k, vb) in b {
                if !a.contains_key(k) {
                    out.push((
                        format!("{path}.{k}"),
                        format!(
                            "extra in ours ({} {}), not in the SDK's",
                            kind(vb),
                            brief(vb)
                        ),
                    ));
                }
            }
            if let (Some(Value::String(ta)), Some(Value::String(tb))) =
                (a.get("@type"), b.get("@type"))
            {
                if ta != tb {
                    out.push((format!("{path}.@type"), format!("SDK {ta}, ours {tb}")));
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => match (a.first(), b.first()) {
            (Some(x), Some(y)) => diff(&format!("{path}[0]"), x, y, out),
            (None, None) => {}
            (Some(x), None) => out.push((
                format!("{path}[0]"),
                format!(
                    "ours is empty, the SDK's is not (SDK: {}): element shape not compared",
                    brief(x)
                ),
            )),
            (None, Some(y)) => out.push((
                format!("{path}[0]"),
                format!(
                    "the SDK's is empty, ours is not (ours: {}): element shape not compared",
                    brief(y)
                ),
            )),
        },
        (Value::String(a), Value::String(b)) => {
            if !a.is_empty() && !b.is_empty() && format(a) != format(b) {
                out.push((
                    path.to_string(),
                    format!(
                        "SDK {} string {a:?}, ours {} string {b:?}",
                        format(a),
                        format(b)
                    ),
                ));
            }
        }
        (a, b) if kind(a) == kind(b) => {}
        (a, b) => out.push((
            path.to_string(),
            format!(
                "SDK {} {}, ours {} {}",
                kind(a),
                brief(a),
                kind(b),
                brief(b)
            ),
        )),
    }
}

/// A stand-in for a CometBFT node's RPC that answers `/status`, `/block` and
/// `/validators` with what the wasmd chain's CometBFT answered.
fn fake_cometbft() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let docs: Vec<(&str, Value)> = vec![
        ("/status", fixture("cometbft_status")),
        ("/block", fixture("cometbft_block")),
        ("/validators", fixture("cometbft_validators")),
    ];
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut line = String::new();
            let mut reader = BufReader::new(conn.try_clone().expect("clone"));
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            loop {
                let mut h = String::new();
                match reader.read_line(&mut h) {
                    Ok(n) if n > 2 => continue,
                    _ => break,
                }
            }
            let target = line.split_whitespace().nth(1).unwrap_or_default();
            let body = match docs.iter().find(|(p, _)| target.starts_with(p)) {
                Some((_, result)) => json!({"jsonrpc": "2.0", "id": -1, "result": result}),
                None => json!({"jsonrpc": "2.0", "id": -1, "error": {"code": -32601, "message": "Method not found"}}),
            }
            .to_string();
            let _ = write!(
                conn,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    addr
}

fn delegate(amount: u128) -> cosmrs::Any {
    cosmrs::Any {
        type_url: "/cosmos.staking.v1beta1.MsgDelegate".into(),
        value: staking_pb::MsgDelegate {
            delegator_address: user().address().bech32(),
            validator_address: operator(0).address().valoper(),
            amount: Some(Coin::new(amount, "uverd").to_proto()),
        }
        .encode_to_vec(),
    }
}

#[test]
fn rest_json_is_shaped_like_the_sdk_gateways() {
    // The fixtures' state: alice sends 777 to bob, then delegates 5 VERD to
    // the one validator, and a few more blocks pass (fees become rewards).
    let mut net = TestNet::builder().validators(1).build();
    net.run_heights(2);
    let to = account_key(7).address();
    let send = net.user_tx(vec![msg_send(
        &user().address(),
        &to,
        &[Coin::new(777, "uverd")],
    )]);
    let send_hash = hex::encode_upper(sha2::Sha256::digest(&send));
    let r = net.run_tx(send);
    assert_eq!(r.code, 0, "{}", r.log);
    let tx = net.user_tx(vec![delegate(5_000_000)]);
    let r = net.run_tx(tx);
    assert_eq!(r.code, 0, "{}", r.log);
    for _ in 0..2 {
        let tx = net.user_tx(vec![msg_send(
            &user().address(),
            &to,
            &[Coin::new(1, "uverd")],
        )]);
        let r = net.run_tx(tx);
        assert_eq!(r.code, 0, "{}", r.log);
    }
    net.run_heights(2);

    let rpc = fake_cometbft();
    let app = net.app().clone();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let addr = serve_rest(
        &rt,
        Backend::new(app, Some(&format!("http://{rpc}"))),
        rest::Cors::default(),
    );

    let user_addr = user().address().bech32();
    let valoper = operator(0).address().valoper();
    let calls: Vec<(&str, String, u16)> = vec![
        (
            "auth_account",
            format!("/cosmos/auth/v1beta1/accounts/{user_addr}"),
            200,
        ),
        ("auth_params", "/cosmos/auth/v1beta1/params".into(), 200),
        (
            "bank_balances",
            format!("/cosmos/bank/v1beta1/balances/{user_addr}"),
            200,
        ),
        (
            "bank_balance_by_denom",
            format!("/cosmos/bank/v1beta1/balances/{user_addr}/by_denom?denom=uverd"),
            200,
        ),
        ("bank_supply", "/cosmos/bank/v1beta1/supply".into(), 200),
        (
            "staking_validators",
            "/cosmos/staking/v1beta1/validators".into(),
            200,
        ),
        (
            "staking_validator",
            format!("/cosmos/staking/v1beta1/validators/{valoper}"),
            200,
        ),
        (
            "staking_delegations",
            format!("/cosmos/staking/v1beta1/delegations/{user_addr}"),
            200,
        ),
        (
            "staking_params",
            "/cosmos/staking/v1beta1/params".into(),
            200,
        ),
        ("staking_pool", "/cosmos/staking/v1beta1/pool".into(), 200),
        (
            "distribution_delegation_rewards",
            format!("/cosmos/distribution/v1beta1/delegators/{user_addr}/rewards/{valoper}"),
            200,
        ),
        (
            "slashing_signing_infos",
            "/cosmos/slashing/v1beta1/signing_infos".into(),
            200,
        ),
        (
            "slashing_params",
            "/cosmos/slashing/v1beta1/params".into(),
            200,
        ),
        (
            "node_info",
            "/cosmos/base/tendermint/v1beta1/node_info".into(),
            200,
        ),
        (
            "blocks_latest",
            "/cosmos/base/tendermint/v1beta1/blocks/latest".into(),
            200,
        ),
        (
            "validatorsets_latest",
            "/cosmos/base/tendermint/v1beta1/validatorsets/latest".into(),
            200,
        ),
        ("tx", format!("/cosmos/tx/v1beta1/txs/{send_hash}"), 200),
        (
            "error_bad_address",
            "/cosmos/bank/v1beta1/balances/verdict1nope".into(),
            400,
        ),
    ];

    let mut found: Vec<(String, String, String)> = Vec::new();
    for (name, url, want) in &calls {
        let sdk = fixture(name);
        let (status, ours) = get(&addr, url);
        // SDK_SHAPE_DUMP=dir: our answers beside the fixtures' names, to read.
        if let Ok(dir) = std::env::var("SDK_SHAPE_DUMP") {
            let text = serde_json::to_string_pretty(&ours).expect("JSON");
            std::fs::write(format!("{dir}/{name}.json"), text).expect("dump");
        }
        assert_eq!(status, *want, "{url}: {ours}");
        let mut d = Vec::new();
        diff("$", &sdk, &ours, &mut d);
        found.extend(d.into_iter().map(|(p, what)| (name.to_string(), p, what)));
    }

    let allowed = |name: &str, path: &str| ALLOWED.iter().any(|(n, p, _)| *n == name && *p == path);
    let unexpected: Vec<String> = found
        .iter()
        .filter(|(n, p, _)| !allowed(n, p))
        .map(|(n, p, what)| format!("{n}.json {p}: {what}"))
        .collect();
    let stale: Vec<String> = ALLOWED
        .iter()
        .filter(|(n, p, _)| !found.iter().any(|(fn_, fp, _)| fn_ == n && fp == p))
        .map(|(n, p, why)| format!("{n}.json {p} ({why})"))
        .collect();
    assert!(
        unexpected.is_empty() && stale.is_empty(),
        "REST JSON not shaped like the SDK gateway's:\n  {}\nallowed differences that no longer occur:\n  {}",
        unexpected.join("\n  "),
        stale.join("\n  ")
    );
}

#[test]
fn the_shape_comparison_finds_every_kind_of_difference() {
    let sdk = json!({
        "a": {"b": "1", "c": [{"d": true}], "e": null, "@type": "/x.Y"},
        "f": "0.500000000000000000",
        "g": [1],
        "h": "1814400s",
    });
    let ours = json!({
        "a": {"b": 1, "c": [{"d": true, "z": 0}], "e": {}, "@type": "/x.Z"},
        "f": "500000000000000000",
        "g": [],
        "h": "1814400s",
        "i": "extra",
    });
    let mut d = Vec::new();
    diff("$", &sdk, &ours, &mut d);
    let paths: Vec<&str> = d.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            "$.a.b",
            "$.a.c[0].z",
            "$.a.e",
            "$.a.@type",
            "$.f",
            "$.g[0]",
            "$.i"
        ],
        "{d:#?}"
    );
    let mut none = Vec::new();
    diff("$", &sdk, &sdk, &mut none);
    assert!(none.is_empty());
}
