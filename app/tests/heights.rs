//! App tests: whole heights driven in-process through the ABCI methods, in the
//! order CometBFT calls them, on several independent nodes with their own stores.

mod kit;
use kit::*;

use verdict_app::store::verify_proof;
use verdict_app::vote_ext;

/// `n` nodes of CometBFT's genesis validators (power 10, no staking
/// validator), the user funded with 1000 VERD; no block yet.
fn genesis_net(n: usize) -> TestNet {
    TestNet::builder()
        .validators(n)
        .genesis_validators_only()
        .user_coins(1_000_000_000)
        .build()
}

#[test]
fn four_validators_agree_on_the_app_hash_at_every_height() {
    let mut net = genesis_net(4);
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..12 {
        let h = net.run_height(vec![]).app_hash;
        assert!(seen.insert(h), "every height has its own root");
    }
    for n in &net.nodes {
        let info = n.app.info(RequestInfo::default());
        assert_eq!(info.last_block_height, 12);
        assert_eq!(info.last_block_app_hash.to_vec(), net.hashes[11]);
    }
}

#[test]
fn blocks_above_genesis_carry_the_verified_extensions_of_the_previous_height() {
    let mut net = genesis_net(4);
    net.run_height(vec![]);
    let block = net.propose(0, vec![]);
    assert!(vote_ext::is_injected(&block[0]));
    let inj = vote_ext::decode_injected(&block[0]).expect("decode");
    assert_eq!(inj.height, 1);
    assert_eq!(inj.votes.len(), 4);
}

#[test]
fn a_node_restarted_from_disk_reports_its_last_height_and_hash_and_keeps_going() {
    let mut net = genesis_net(4);
    net.run_heights(5);
    net.restart(2);
    let info = net.nodes[2].app.info(RequestInfo::default());
    assert_eq!(info.last_block_height, 5);
    assert_eq!(info.last_block_app_hash.to_vec(), net.hashes[4]);
    net.run_heights(3);
}

#[test]
fn replaying_a_block_after_a_crash_before_commit_gives_the_same_app_hash() {
    let mut net = genesis_net(4);
    net.run_heights(3);
    let block = net.propose(0, vec![]);
    let before = net.finalize(1, &block).app_hash;
    // Crash between FinalizeBlock and Commit: nothing of height 4 reached disk.
    net.restart(1);
    let info = net.nodes[1].app.info(RequestInfo::default());
    assert_eq!(info.last_block_height, 3);
    // CometBFT's handshake replays block 4 (without ProcessProposal).
    let after = net.finalize(1, &block).app_hash;
    assert_eq!(before, after);
    net.commit(1);
    // The other nodes decide the same block and agree.
    for i in [0usize, 2, 3] {
        assert_eq!(net.finalize(i, &block).app_hash, before);
        net.commit(i);
    }
}

#[test]
fn proposals_with_missing_misplaced_or_forged_extensions_are_rejected() {
    let mut net = genesis_net(4);
    // Block 1 must not carry an injected tx (nothing to inject yet).
    let fake = vote_ext::encode_injected(&Default::default());
    assert_eq!(net.process(0, &[fake]), ProposalStatus::Reject);
    net.run_height(vec![]);
    net.run_height(vec![]);

    let good = net.propose(0, vec![]);
    assert_eq!(net.process(1, &good), ProposalStatus::Accept);
    // Missing.
    assert_eq!(net.process(1, &[]), ProposalStatus::Reject);
    // Not first.
    assert_eq!(
        net.process(1, &[b"user tx".to_vec(), good[0].clone()]),
        ProposalStatus::Reject
    );
    // Twice.
    assert_eq!(
        net.process(1, &[good[0].clone(), good[0].clone()]),
        ProposalStatus::Reject
    );
    // Forged signature.
    let mut inj = vote_ext::decode_injected(&good[0]).expect("decode");
    inj.votes[0].extension_signature[0] ^= 0x01;
    assert_eq!(
        net.process(1, &[vote_ext::encode_injected(&inj)]),
        ProposalStatus::Reject
    );
    // Too few: only 2 of 4 equal-power validators.
    let mut inj = vote_ext::decode_injected(&good[0]).expect("decode");
    inj.votes.truncate(2);
    assert_eq!(
        net.process(1, &[vote_ext::encode_injected(&inj)]),
        ProposalStatus::Reject
    );
    // Garbage after the marker.
    let mut garbage = verdict_proto::app::v1::INJECTED_TX_MARKER.to_vec();
    garbage.extend_from_slice(&[0xff; 9]);
    assert_eq!(net.process(1, &[garbage]), ProposalStatus::Reject);
}

#[test]
fn oversized_or_malformed_vote_extensions_are_rejected_by_verification() {
    let net = genesis_net(4);
    let app = net.app();
    for bad in [vec![0x08u8; 1025], vec![0xff, 0xff], vec![0x08, 0x02]] {
        let st = app
            .verify_vote_extension(RequestVerifyVoteExtension {
                validator_address: net.nodes[1].addr().into(),
                height: 1,
                vote_extension: bad.into(),
                ..Default::default()
            })
            .status;
        assert_eq!(st, VerifyStatus::Reject as i32);
    }
}

#[test]
fn check_tx_refuses_junk_and_the_reserved_marker_and_changes_nothing() {
    let mut net = genesis_net(1);
    net.run_height(vec![]);
    let app = net.app();
    let before = app.info(RequestInfo::default());
    let junk = app.check_tx(RequestCheckTx {
        tx: vec![1, 2, 3].into(),
        r#type: 0,
    });
    assert_eq!(junk.code, 2);
    assert_eq!(junk.codespace, "sdk");
    let reserved = app.check_tx(RequestCheckTx {
        tx: vote_ext::encode_injected(&Default::default()).into(),
        r#type: 0,
    });
    assert_eq!(reserved.code, 18);
    assert_eq!(app.info(RequestInfo::default()), before);
    // A proposer never includes a marker tx from the mempool.
    let block = net.propose(0, vec![vote_ext::encode_injected(&Default::default())]);
    assert_eq!(block.len(), 1, "only the proposer's own tx[0]");
}

#[test]
fn store_queries_prove_values_against_the_app_hash_of_their_height() {
    let mut net = genesis_net(1);
    net.run_heights(3);
    let app = net.app();
    let key = b"app/last_block".to_vec();
    let resp = app.query(RequestQuery {
        data: key.clone().into(),
        path: "/store/key".into(),
        height: 2,
        prove: true,
    });
    assert_eq!(resp.code, 0, "{}", resp.log);
    assert_eq!(resp.height, 2);
    let op = &resp.proof_ops.as_ref().expect("proof").ops[0];
    assert_eq!(op.r#type, "ics23:jmt");
    let proof = ics23::CommitmentProof::decode(op.data.as_slice()).expect("decode proof");
    assert!(verify_proof(
        &net.hashes[1],
        &proof,
        &key,
        Some(&resp.value)
    ));
    assert!(!verify_proof(
        &net.hashes[2],
        &proof,
        &key,
        Some(&resp.value)
    ));
    let v: serde_json::Value = serde_json::from_slice(&resp.value).expect("json");
    assert_eq!(v["height"], 2);

    let future = app.query(RequestQuery {
        data: key.into(),
        path: "store/key".into(),
        height: 99,
        prove: false,
    });
    assert_eq!(future.code, 26);
    let unknown = app.query(RequestQuery {
        path: "/nope".into(),
        ..Default::default()
    });
    assert_eq!(unknown.code, 6);
}

/// The user's send of `amount` to account 7 with sequence `seq`.
fn send(net: &TestNet, seq: u64, amount: u128, memo: &str) -> Vec<u8> {
    let to = account_key(7).address();
    let spec = TxSpec {
        msgs: vec![msg_send(
            &user().address(),
            &to,
            &[Coin::new(amount, "uverd")],
        )],
        memo: memo.into(),
        timeout_height: 0,
        fee: vec![Coin::new(5000, "uverd")],
        gas_limit: 200_000,
    };
    net.sign(&spec, &user(), 1, seq)
}

#[test]
fn a_signed_send_goes_through_check_tx_a_block_and_the_query_router() {
    use cosmrs::proto::cosmos::auth::v1beta1::{
        BaseAccount, QueryAccountRequest, QueryAccountResponse,
    };
    use cosmrs::proto::cosmos::bank::v1beta1::{QueryBalanceRequest, QueryBalanceResponse};
    use cosmrs::proto::cosmos::tx::v1beta1::{
        GetTxRequest, GetTxResponse, SimulateRequest, SimulateResponse,
    };
    let mut net = genesis_net(4);
    net.run_height(vec![]);
    let tx = send(&net, 0, 1234, "first");
    let app = net.app();
    let check = app.check_tx(RequestCheckTx {
        tx: tx.clone().into(),
        r#type: 0,
    });
    assert_eq!(check.code, 0, "{}", check.log);
    assert!(check.gas_wanted == 200_000 && check.gas_used > 0);

    // Simulate through the router, as cosmjs does for gas estimation.
    let sim = proto_query(
        app,
        "/cosmos.tx.v1beta1.Service/Simulate",
        SimulateRequest {
            tx_bytes: simulate_tx(
                &TxSpec {
                    msgs: vec![msg_send(
                        &user().address(),
                        &user().address(),
                        &[Coin::new(1, "uverd")],
                    )],
                    gas_limit: 0,
                    ..Default::default()
                },
                &user(),
                0,
            ),
            ..Default::default()
        },
    );
    assert_eq!(sim.code, 0, "{}", sim.log);
    let gas = SimulateResponse::decode(sim.value.as_ref())
        .expect("decode")
        .gas_info
        .expect("gas");
    assert!(gas.gas_used > 10_000);

    net.run_height(vec![tx.clone()]);
    let app = &*net.nodes[2].app;
    let to = account_key(7).address();
    let r = proto_query(
        app,
        "/cosmos.bank.v1beta1.Query/Balance",
        QueryBalanceRequest {
            address: to.bech32(),
            denom: "uverd".into(),
        },
    );
    assert_eq!(r.code, 0, "{}", r.log);
    assert_eq!(r.height, 2);
    let b = QueryBalanceResponse::decode(r.value.as_ref())
        .expect("decode")
        .balance
        .expect("coin");
    assert_eq!(b.amount, "1234");

    let r = proto_query(
        app,
        "/cosmos.auth.v1beta1.Query/Account",
        QueryAccountRequest {
            address: user().address().bech32(),
        },
    );
    let any = QueryAccountResponse::decode(r.value.as_ref())
        .expect("decode")
        .account
        .expect("any");
    assert_eq!(any.type_url, "/cosmos.auth.v1beta1.BaseAccount");
    let acc = BaseAccount::decode(any.value.as_slice()).expect("account");
    assert_eq!((acc.account_number, acc.sequence), (1, 1));
    assert!(acc.pub_key.is_some());

    let nobody = account_key(99).address();
    let r = proto_query(
        app,
        "/cosmos.auth.v1beta1.Query/Account",
        QueryAccountRequest {
            address: nobody.bech32(),
        },
    );
    assert_ne!(r.code, 0);
    assert!(r.log.contains("rpc error: code = NotFound"), "{}", r.log);
    assert_eq!(r.height, 2);

    let hash = hex::encode_upper(verdict_app::store::tx_hash(&tx));
    let r = proto_query(
        app,
        "/cosmos.tx.v1beta1.Service/GetTx",
        GetTxRequest { hash: hash.clone() },
    );
    assert_eq!(r.code, 0, "{}", r.log);
    let got = GetTxResponse::decode(r.value.as_ref())
        .expect("decode")
        .tx_response
        .expect("resp");
    assert_eq!((got.height, got.code, got.txhash), (2, 0, hash));
}

/// `index-txs = false`: the node keeps no tx index, says so to GetTx, and
/// reaches the same app hash as the nodes that keep one (GetTxsEvent:
/// node_rpc's unit test).
#[test]
fn a_node_without_a_tx_index_says_so_and_agrees_on_the_app_hash() {
    use cosmrs::proto::cosmos::tx::v1beta1::GetTxRequest;
    let mut net = genesis_net(4);
    net.run_height(vec![]);
    net.nodes[2].tx_index = false;
    net.nodes[2].restart();
    let tx = send(&net, 0, 1234, "first");
    net.run_height(vec![tx.clone()]);
    let hashes: Vec<_> = (net.nodes.iter())
        .map(|n| n.app.store().app_hash_at(2).expect("hash"))
        .collect();
    assert!(hashes.windows(2).all(|w| w[0] == w[1]), "{hashes:?}");
    let hash = hex::encode_upper(verdict_app::store::tx_hash(&tx));
    let get = |i: usize| {
        let req = GetTxRequest { hash: hash.clone() };
        proto_query(&net.nodes[i].app, "/cosmos.tx.v1beta1.Service/GetTx", req)
    };
    assert_eq!(get(0).code, 0, "{}", get(0).log);
    let off = get(2);
    assert_eq!(off.code, verdict_core::codes::UNKNOWN_REQUEST);
    assert!(
        off.log.contains("keeps no tx index (index-txs = false"),
        "{}",
        off.log
    );
    assert_eq!(
        net.nodes[2].app.store().tx_index_len().expect("len"),
        (0, 0)
    );
}

#[test]
fn recheck_after_commit_evicts_txs_made_stale_by_the_block() {
    let mut net = genesis_net(4);
    net.run_height(vec![]);
    // Node 0's mempool holds one tx; the block decided another with the same sequence.
    let mine = send(&net, 0, 1, "mine");
    let theirs = send(&net, 0, 2, "theirs");
    let app0 = net.app();
    assert_eq!(
        app0.check_tx(RequestCheckTx {
            tx: mine.clone().into(),
            r#type: 0
        })
        .code,
        0
    );
    // A second tx with the same sequence is refused by the check state at once.
    assert_eq!(
        app0.check_tx(RequestCheckTx {
            tx: theirs.clone().into(),
            r#type: 0
        })
        .code,
        32
    );
    net.run_height(vec![theirs]);
    let recheck = net.nodes[0].app.check_tx(RequestCheckTx {
        tx: mine.into(),
        r#type: 1,
    });
    assert_eq!(recheck.code, 32, "{}", recheck.log);
    // The next sequence is welcome.
    let next = net.nodes[0].app.check_tx(RequestCheckTx {
        tx: send(&net, 1, 3, "next").into(),
        r#type: 0,
    });
    assert_eq!(next.code, 0, "{}", next.log);
}

#[test]
fn a_block_with_failing_and_junk_txs_is_deterministic_across_nodes_and_replay() {
    let mut net = genesis_net(4);
    net.run_height(vec![]);
    let txs = vec![
        send(&net, 0, 10, "ok"),
        vec![1, 2, 3],
        send(&net, 0, 11, "replay"),
        send(&net, 1, 2_000_000_000, "too much"),
    ];
    net.run_height(txs);
    // Node 3 restarts and everyone keeps agreeing.
    net.restart(3);
    net.run_height(vec![send(&net, 2, 5, "after")]);
}

#[test]
fn the_grpc_server_answers_stock_tonic_clients_from_the_same_router() {
    use cosmrs::proto::cosmos::auth::v1beta1::query_client::QueryClient as AuthClient;
    use cosmrs::proto::cosmos::auth::v1beta1::QueryAccountRequest;
    use cosmrs::proto::cosmos::bank::v1beta1::query_client::QueryClient as BankClient;
    use cosmrs::proto::cosmos::bank::v1beta1::QueryBalanceRequest;
    use cosmrs::proto::cosmos::tx::v1beta1::service_client::ServiceClient;
    use cosmrs::proto::cosmos::tx::v1beta1::SimulateRequest;

    let mut net = genesis_net(1);
    net.run_height(vec![]);
    net.run_height(vec![send(&net, 0, 777, "grpc")]);
    let app = net.app().clone();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let addr = serve_grpc(&rt, verdict_app::grpc::Backend::new(app, None));
    rt.block_on(async move {
        let url = format!("http://{addr}");
        let to = account_key(7).address();
        let mut bank = BankClient::connect(url.clone()).await.expect("connect");
        let resp = bank
            .balance(QueryBalanceRequest {
                address: to.bech32(),
                denom: "uverd".into(),
            })
            .await
            .expect("balance");
        assert_eq!(
            resp.metadata()
                .get("x-cosmos-block-height")
                .and_then(|v| v.to_str().ok()),
            Some("2")
        );
        assert_eq!(resp.into_inner().balance.expect("coin").amount, "777");

        let mut auth = AuthClient::connect(url.clone()).await.expect("connect");
        let missing = auth
            .account(QueryAccountRequest {
                address: account_key(98).address().bech32(),
            })
            .await
            .expect_err("missing account");
        assert_eq!(missing.code(), tonic::Code::NotFound);
        assert!(missing.message().contains("not found"));

        let mut txs = ServiceClient::connect(url).await.expect("connect");
        let sim = txs
            .simulate(SimulateRequest {
                tx_bytes: simulate_tx(
                    &TxSpec {
                        msgs: vec![msg_send(&user().address(), &to, &[Coin::new(1, "uverd")])],
                        ..Default::default()
                    },
                    &user(),
                    1,
                ),
                ..Default::default()
            })
            .await
            .expect("simulate");
        assert!(sim.into_inner().gas_info.expect("gas").gas_used > 10_000);
    });
}

#[test]
fn fees_of_a_block_reach_the_distribution_books_served_over_abci_and_grpc() {
    use cosmrs::proto::cosmos::distribution::v1beta1::query_client::QueryClient as DistrClient;
    use cosmrs::proto::cosmos::distribution::v1beta1::{
        QueryCommunityPoolRequest, QueryCommunityPoolResponse, QueryDelegationRewardsRequest,
    };
    let mut net = genesis_net(1);
    net.run_height(vec![]);
    net.run_height(vec![send(&net, 0, 1, "fee")]);
    // The next block allocates the fee; its signer is no staking validator here,
    // so the whole fee goes to the community pool.
    net.run_height(vec![]);
    let app = net.app().clone();
    let r = proto_query(
        &app,
        "/cosmos.distribution.v1beta1.Query/CommunityPool",
        QueryCommunityPoolRequest {},
    );
    assert_eq!(r.code, 0, "{}", r.log);
    let pool = QueryCommunityPoolResponse::decode(r.value.as_ref()).expect("decode");
    assert_eq!(pool.pool[0].denom, "uverd");
    assert_eq!(pool.pool[0].amount, format!("{}{}", 5000, "0".repeat(18)));
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let addr = serve_grpc(&rt, verdict_app::grpc::Backend::new(app, None));
    rt.block_on(async move {
        let mut d = DistrClient::connect(format!("http://{addr}"))
            .await
            .expect("connect");
        let pool = d
            .community_pool(QueryCommunityPoolRequest {})
            .await
            .expect("pool")
            .into_inner();
        assert_eq!(pool.pool[0].amount, format!("{}{}", 5000, "0".repeat(18)));
        let missing = d
            .delegation_rewards(QueryDelegationRewardsRequest {
                delegator_address: user().address().bech32(),
                validator_address: user().address().valoper(),
            })
            .await
            .expect_err("no such validator");
        assert_eq!(missing.code(), tonic::Code::NotFound);
    });
}
