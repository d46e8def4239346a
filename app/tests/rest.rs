//! One route table, three ways in: every REST binding of every served method is
//! called over the REST gateway, the gRPC server and ABCI `Query`, on the same
//! committed state, and the three answers must agree (the same bytes over gRPC
//! and ABCI, the SDK gateway's JSON of those bytes over REST, the same error
//! code everywhere).

mod kit;
use kit::*;

use std::str::FromStr;

use verdict_app::grpc::{Backend, RawCodec};
use verdict_app::rest;

/// A value for a path variable, by field name, that exists in the test state
/// where the field names something (an account, a validator, a denom).
fn sample(field: &str) -> String {
    let v = operator(0).address();
    match field {
        "address" | "delegator_addr" | "delegator_address" | "owner" | "depositor" => {
            user().address().bech32()
        }
        "validator_addr" | "validator_address" | "src_validator_addr" | "dst_validator_addr" => {
            v.valoper()
        }
        "cons_address" => {
            let a: [u8; 20] = consensus_address(&consensus_key(0))
                .try_into()
                .expect("20 bytes");
            verdict_core::address::Addr(a).valcons()
        }
        "denom" => "uverd".into(),
        "height" | "sequence" | "revision_number" | "revision_height" => "1".into(),
        "client_id" => "07-tendermint-0".into(),
        "connection_id" => "connection-0".into(),
        "channel_id" => "channel-0".into(),
        "port_id" => "transfer".into(),
        "hash" => "AB".repeat(32),
        _ => "1".into(),
    }
}

#[test]
fn every_route_answers_the_same_over_rest_grpc_and_abci() {
    let mut net = TestNet::builder().validators(1).build();
    net.run_heights(2);
    let to = account_key(7).address();
    let tx = net.user_tx(vec![msg_send(
        &user().address(),
        &to,
        &[Coin::new(777, "uverd")],
    )]);
    let r = net.run_tx(tx);
    assert_eq!(r.code, 0, "{}", r.log);
    let app = net.app().clone();

    // Every method served has a REST binding.
    let bound: std::collections::BTreeSet<&str> = rest::table().iter().map(|e| e.method).collect();
    for p in verdict_app::service::grpc_paths() {
        assert!(bound.contains(p), "{p} has no REST path");
    }

    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let backend = Backend::new(app.clone(), None);
    let grpc_addr = serve_grpc(&rt, backend.clone());
    let rest_addr = serve_rest(
        &rt,
        backend,
        rest::Cors {
            origins: vec!["http://explorer.test".into()],
        },
    );
    let mut grpc = rt.block_on(async {
        let ch = tonic::transport::Channel::from_shared(format!("http://{grpc_addr}"))
            .expect("url")
            .connect()
            .await
            .expect("connect gRPC");
        tonic::client::Grpc::new(ch)
    });

    let mut ok = std::collections::BTreeSet::new();
    let mut calls = 0;
    for entry in rest::table() {
        if verdict_app::node_rpc::serves(entry.method) {
            continue; // they need a CometBFT node: the e2e test calls them
        }
        let url = entry.template.fill(sample);
        let vars = entry
            .template
            .matches(&url)
            .expect("a filled template matches");
        let body: &[u8] = if entry.takes_body() { b"{}" } else { b"" };
        let req = entry.request(&[], &vars, body).expect("request");

        let abci = raw_query(&app, entry.method, req.clone(), 0, false);
        let over_grpc = rt.block_on(async {
            grpc.ready().await.expect("ready");
            let path = http::uri::PathAndQuery::from_str(entry.method).expect("path");
            grpc.unary(tonic::Request::new(req.clone()), path, RawCodec)
                .await
        });
        let (status, json, head) = http(&rest_addr, entry.verb.as_str(), &url, body);
        assert!(
            head.contains("access-control-allow-origin: http://explorer.test"),
            "{url}: CORS header missing"
        );
        calls += 1;
        if abci.code == 0 {
            let g = over_grpc.unwrap_or_else(|e| panic!("{}: gRPC failed: {e}", entry.method));
            assert_eq!(
                g.get_ref(),
                &abci.value.to_vec(),
                "{}: gRPC bytes",
                entry.method
            );
            assert_eq!(status, 200, "{url}: {json}");
            let want = entry.render(&abci.value).expect("render");
            assert_eq!(json, want, "{url}");
            assert!(
                head.contains("x-cosmos-block-height: 3"),
                "{url}: height header"
            );
            ok.insert(url);
        } else {
            let g = over_grpc.expect_err("gRPC must fail where ABCI does");
            let want = verdict_app::grpc::status_of(abci.code, abci.log.clone());
            assert_eq!(g.code(), want.code(), "{}: {}", entry.method, abci.log);
            assert_ne!(status, 200, "{url}");
            assert_eq!(json["code"], want.code() as i32, "{url}: {json}");
            assert!(!json["message"].as_str().unwrap_or("").is_empty());
        }
    }
    assert!(calls >= 50, "only {calls} REST bindings called");
    // The answers wallets and explorers start from, with data in them.
    let user_addr = user().address().bech32();
    for must in [
        format!("/cosmos/auth/v1beta1/accounts/{user_addr}"),
        format!("/cosmos/bank/v1beta1/balances/{user_addr}"),
        "/cosmos/bank/v1beta1/supply".to_string(),
        "/cosmos/staking/v1beta1/validators".to_string(),
        "/cosmos/staking/v1beta1/params".to_string(),
        "/cosmos/slashing/v1beta1/signing_infos".to_string(),
        "/cosmos/distribution/v1beta1/community_pool".to_string(),
        "/cosmos/base/tendermint/v1beta1/node_info".to_string(),
        "/cosmos/base/node/v1beta1/config".to_string(),
        "/verdict/inference/v1/params".to_string(),
        "/verdict/inference/v1/models".to_string(),
    ] {
        assert!(
            ok.contains(&must),
            "{must} did not answer 200; answered: {ok:#?}"
        );
    }
}

#[test]
fn rest_json_has_the_sdk_gateway_shape() {
    let mut net = TestNet::builder().validators(1).build();
    net.run_heights(2);
    let app = net.app().clone();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let addr = serve_rest(&rt, Backend::new(app, None), rest::Cors::default());
    let user_addr = user().address().bech32();

    // auth: the account as an Any with "@type", numbers as strings.
    let (s, acc, _) = http(
        &addr,
        "GET",
        &format!("/cosmos/auth/v1beta1/accounts/{user_addr}"),
        b"",
    );
    assert_eq!(s, 200, "{acc}");
    assert_eq!(acc["account"]["@type"], "/cosmos.auth.v1beta1.BaseAccount");
    assert_eq!(acc["account"]["address"], user_addr);
    assert!(acc["account"]["account_number"].is_string());
    assert!(acc["account"]["sequence"].is_string());

    // bank: coins, and pagination with next_key null and total as a string.
    let (s, bal, _) = http(
        &addr,
        "GET",
        &format!("/cosmos/bank/v1beta1/balances/{user_addr}"),
        b"",
    );
    assert_eq!(s, 200, "{bal}");
    assert_eq!(bal["balances"][0]["denom"], "uverd");
    assert!(bal["balances"][0]["amount"].is_string());
    assert!(bal.get("pagination").is_some());

    // staking: a validator with every SDK field, enums by name.
    let (s, vals, _) = http(
        &addr,
        "GET",
        "/cosmos/staking/v1beta1/validators?pagination.limit=10&status=BOND_STATUS_BONDED",
        b"",
    );
    assert_eq!(s, 200, "{vals}");
    let v = &vals["validators"][0];
    for field in [
        "operator_address",
        "consensus_pubkey",
        "jailed",
        "status",
        "tokens",
        "delegator_shares",
        "description",
        "unbonding_height",
        "unbonding_time",
        "commission",
        "min_self_delegation",
    ] {
        assert!(v.get(field).is_some(), "validator JSON lacks {field}: {v}");
    }
    assert_eq!(v["status"], "BOND_STATUS_BONDED");
    assert_eq!(
        v["consensus_pubkey"]["@type"],
        "/cosmos.crypto.ed25519.PubKey"
    );
    assert!(v["description"]["moniker"].is_string());
    assert!(v["commission"]["commission_rates"]["rate"].is_string());

    // Errors: grpc-gateway's body, the status of the gRPC code.
    let (s, e, _) = http(
        &addr,
        "GET",
        "/cosmos/auth/v1beta1/accounts/verdict1nope",
        b"",
    );
    assert_eq!(s, 400, "{e}");
    assert_eq!(e["code"], 3);
    let (s, e, _) = http(
        &addr,
        "GET",
        "/cosmos/bank/v1beta1/balances/x?pagination.limit=ten",
        b"",
    );
    assert_eq!((s, e["code"].as_i64()), (400, Some(3)), "{e}");
    let (s, e, _) = http(&addr, "GET", "/no/such/path", b"");
    assert_eq!((s, e["code"].as_i64()), (404, Some(5)));
    let (s, _, _) = http(&addr, "DELETE", "/cosmos/bank/v1beta1/supply", b"");
    assert_eq!(s, 501);
    let (s, e, _) = http(&addr, "POST", "/cosmos/tx/v1beta1/simulate", b"{not json");
    assert_eq!((s, e["code"].as_i64()), (400, Some(3)), "{e}");
    // The node services need --rpc; without it they say so.
    let (s, e, _) = http(
        &addr,
        "GET",
        "/cosmos/base/tendermint/v1beta1/blocks/latest",
        b"",
    );
    assert_ne!(s, 200);
    assert!(e["message"].as_str().unwrap_or("").contains("--rpc"), "{e}");
    // No CORS header for an origin that is not allowed.
    let (_, _, head) = http(&addr, "GET", "/cosmos/bank/v1beta1/supply", b"");
    assert!(!head.contains("access-control-allow-origin"));
}

#[test]
fn queries_over_the_concurrency_limit_are_refused_as_unavailable() {
    let mut net = TestNet::builder().validators(1).build();
    net.run_heights(1);
    let app = net.app().clone();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    // A limit of 0: every query finds the node at its limit.
    let busy = Backend::new(app, None).with_concurrency(0);
    let rest_addr = serve_rest(&rt, busy.clone(), rest::Cors::default());
    let grpc_addr = serve_grpc(&rt, busy);
    let (s, e, _) = http(&rest_addr, "GET", "/cosmos/bank/v1beta1/supply", b"");
    assert_eq!(s, 503, "{e}");
    assert!(e["message"].as_str().unwrap_or("").contains("busy"), "{e}");
    let status = rt.block_on(async {
        let ch = tonic::transport::Channel::from_shared(format!("http://{grpc_addr}"))
            .expect("url")
            .connect()
            .await
            .expect("connect gRPC");
        let mut g = tonic::client::Grpc::new(ch);
        g.ready().await.expect("ready");
        let path = http::uri::PathAndQuery::from_static("/cosmos.bank.v1beta1.Query/TotalSupply");
        g.unary(tonic::Request::new(Vec::new()), path, RawCodec)
            .await
            .expect_err("busy")
    });
    assert_eq!(status.code(), tonic::Code::Unavailable);
}

#[test]
fn lists_page_through_sdk_pagination_over_abci_and_rest() {
    use cosmrs::proto::cosmos::base::query::v1beta1::PageRequest;
    use cosmrs::proto::cosmos::slashing::v1beta1::{
        QuerySigningInfosRequest, QuerySigningInfosResponse,
    };
    use cosmrs::proto::cosmos::staking::v1beta1::{
        QueryValidatorsRequest, QueryValidatorsResponse,
    };
    let mut net = TestNet::builder().validators(4).build();
    net.run_heights(3);
    let app = net.app().clone();
    let page = |key: Vec<u8>| PageRequest {
        key,
        limit: 2,
        count_total: true,
        ..Default::default()
    };

    // Over ABCI: two pages of two validators, then no next key.
    let first: QueryValidatorsResponse = decode_query(
        &app,
        "/cosmos.staking.v1beta1.Query/Validators",
        QueryValidatorsRequest {
            pagination: Some(page(vec![])),
            ..Default::default()
        },
    );
    let p1 = first.pagination.expect("pagination");
    assert_eq!((first.validators.len(), p1.total), (2, 4));
    assert!(!p1.next_key.is_empty());
    let second: QueryValidatorsResponse = decode_query(
        &app,
        "/cosmos.staking.v1beta1.Query/Validators",
        QueryValidatorsRequest {
            pagination: Some(page(p1.next_key.clone())),
            ..Default::default()
        },
    );
    assert_eq!(second.validators.len(), 2);
    assert!(second.pagination.expect("pagination").next_key.is_empty());
    let mut all: Vec<String> = first
        .validators
        .iter()
        .chain(&second.validators)
        .map(|v| v.operator_address.clone())
        .collect();
    all.dedup();
    assert_eq!(all.len(), 4, "every validator once, in order");

    let infos: QuerySigningInfosResponse = decode_query(
        &app,
        "/cosmos.slashing.v1beta1.Query/SigningInfos",
        QuerySigningInfosRequest {
            pagination: Some(PageRequest {
                limit: 3,
                ..Default::default()
            }),
        },
    );
    assert_eq!(infos.info.len(), 3);
    // Key and offset together are refused.
    let both = raw_query(
        &app,
        "/cosmos.staking.v1beta1.Query/Validators",
        prost::Message::encode_to_vec(&QueryValidatorsRequest {
            pagination: Some(PageRequest {
                key: vec![1],
                offset: 1,
                ..Default::default()
            }),
            ..Default::default()
        }),
        0,
        false,
    );
    assert_eq!(both.code, 18, "{}", both.log);

    // Over REST: the same pages, the next key passed back as base64.
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let addr = serve_rest(&rt, Backend::new(app, None), rest::Cors::default());
    let (s, v, _) = http(
        &addr,
        "GET",
        "/cosmos/staking/v1beta1/validators?pagination.limit=2&pagination.count_total=true",
        b"",
    );
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["validators"].as_array().map(Vec::len), Some(2));
    assert_eq!(v["pagination"]["total"], "4");
    let next = v["pagination"]["next_key"].as_str().expect("next key");
    let url = format!(
        "/cosmos/staking/v1beta1/validators?pagination.limit=2&pagination.key={}",
        next.replace('+', "%2B")
            .replace('/', "%2F")
            .replace('=', "%3D")
    );
    let (s, v2, _) = http(&addr, "GET", &url, b"");
    assert_eq!(s, 200, "{v2}");
    assert_eq!(v2["validators"].as_array().map(Vec::len), Some(2));
    assert_eq!(v2["pagination"]["next_key"], serde_json::Value::Null);
    assert_ne!(v["validators"][0], v2["validators"][0]);
}
