//! IBC through the whole app: a 07-tendermint client created and updated by
//! signed transactions in finalized blocks, its state proven from `store/ibc/key`
//! queries with ibc-rs's verifier against each height's app hash, the host
//! consensus states FinalizeBlock records, the client queries, and an ICS-03
//! connection opened between two in-process Verdict chains.

use prost::Message;
use tendermint_abci::Application;
use tendermint_proto::google::protobuf::Timestamp;
use tendermint_proto::v0_38::abci::{
    ExecTxResult, RequestFinalizeBlock, RequestInitChain, RequestQuery,
};
use tendermint_testgen::{Generator, Header, LightBlock, Validator};
use verdict_app::store::Store;
use verdict_app::txbuild::{sign_tx, AccountKey, TxSpec};
use verdict_app::VerdictApp;
use verdict_core::coin::Coin;
use verdict_ibc::ibc;

use ibc::clients::tendermint::client_state::ClientState as TmClientState;
use ibc::clients::tendermint::consensus_state::ConsensusState as TmConsensusState;
use ibc::clients::tendermint::types::{
    AllowUpdate, ClientState as ClientStateType, ConsensusState as ConsensusStateType,
    Header as TmHeader, TrustThreshold,
};
use ibc::core::client::types::msgs::{MsgCreateClient, MsgUpdateClient};
use ibc::core::client::types::Height;
use ibc::core::commitment_types::merkle::MerkleProof;
use ibc::core::commitment_types::specs::ProofSpecs;
use ibc::core::host::types::identifiers::{ChainId, ClientId};
use ibc::primitives::proto::{Any, Protobuf};

const CHAIN: &str = "verdict-1";
const COUNTERPARTY: &str = "mock-1";
const T0: i64 = 1_700_000_000;
const CLIENT_STATE: &[u8] = b"clients/07-tendermint-0/clientState";

fn user() -> AccountKey {
    AccountKey::from_bytes(&[42; 32]).expect("key")
}

fn time(h: i64) -> Timestamp {
    Timestamp {
        seconds: T0 + 100 + h,
        nanos: 0,
    }
}

struct Chain {
    chain_id: String,
    _dir: tempfile::TempDir,
    app: VerdictApp,
    height: i64,
    seq: u64,
    /// App hash after each height (index 0 = height 1).
    hashes: Vec<Vec<u8>>,
    genesis_hash: Vec<u8>,
}

impl Chain {
    fn new() -> Chain {
        Chain::named(CHAIN)
    }

    fn named(chain_id: &str) -> Chain {
        let dir = tempfile::tempdir().expect("tempdir");
        let app = VerdictApp::new(Store::open(dir.path()).expect("open"));
        let val = ed25519_consensus::SigningKey::from([1; 32]);
        let init = app.init_chain(RequestInitChain {
            time: Some(time(0)),
            chain_id: chain_id.into(),
            validators: vec![tendermint_proto::v0_38::abci::ValidatorUpdate {
                pub_key: Some(tendermint_proto::v0_38::crypto::PublicKey {
                    sum: Some(tendermint_proto::v0_38::crypto::public_key::Sum::Ed25519(
                        val.verification_key().to_bytes().to_vec(),
                    )),
                }),
                power: 10,
            }],
            app_state_bytes: format!(
                r#"{{"bank":{{"balances":[{{"address":"{}","coins":"1000000000uverd"}}]}}}}"#,
                user().address()
            )
            .into_bytes()
            .into(),
            initial_height: 1,
            ..Default::default()
        });
        Chain {
            chain_id: chain_id.into(),
            _dir: dir,
            app,
            height: 0,
            seq: 0,
            hashes: vec![],
            genesis_hash: init.app_hash.to_vec(),
        }
    }

    /// Finalizes and commits one block holding one tx with `msgs` (or none).
    fn block(&mut self, msgs: Vec<Any>) -> Option<ExecTxResult> {
        let h = self.height + 1;
        let txs = if msgs.is_empty() {
            vec![]
        } else {
            let spec = TxSpec {
                msgs: msgs
                    .into_iter()
                    .map(|a| cosmrs::Any {
                        type_url: a.type_url,
                        value: a.value,
                    })
                    .collect(),
                memo: String::new(),
                timeout_height: 0,
                fee: vec![Coin::new(100_000, "uverd")],
                gas_limit: 4_000_000,
            };
            self.seq += 1;
            vec![sign_tx(&spec, &user(), &self.chain_id, 1, self.seq - 1).into()]
        };
        let resp = self.app.finalize_block(RequestFinalizeBlock {
            txs,
            hash: vec![h as u8; 32].into(),
            height: h,
            time: Some(time(h)),
            next_validators_hash: next_validators_hash().into(),
            ..Default::default()
        });
        self.app.commit();
        self.height = h;
        self.hashes.push(resp.app_hash.to_vec());
        resp.tx_results.into_iter().next()
    }

    fn query_ibc(&self, path: &[u8], height: i64) -> (Vec<u8>, MerkleProof) {
        let resp = self.app.query(RequestQuery {
            data: path.to_vec().into(),
            path: "store/ibc/key".into(),
            height,
            prove: true,
        });
        assert_eq!(resp.code, 0, "{}", resp.log);
        assert_eq!(resp.height, height);
        let ops = resp.proof_ops.expect("proof ops").ops;
        assert_eq!(
            ops.len(),
            2,
            "path in the ibc sub-store, then ibc in the app hash"
        );
        assert_eq!(ops[0].key, path);
        assert_eq!(ops[1].key, b"ibc");
        let proofs = ops
            .iter()
            .map(|op| ics23::CommitmentProof::decode(op.data.as_slice()).expect("ics23 proof"))
            .collect();
        (resp.value.to_vec(), MerkleProof { proofs })
    }

    fn app_hash(&self, height: i64) -> &[u8] {
        &self.hashes[usize::try_from(height - 1).expect("height")]
    }
}

fn validators() -> Vec<Validator> {
    vec![
        Validator::new("a").voting_power(50),
        Validator::new("b").voting_power(50),
    ]
}

fn light_block(height: u64, vals: &[Validator]) -> tendermint_testgen::light_block::TmLightBlock {
    let header = Header::new(vals)
        .height(height)
        .chain_id(COUNTERPARTY)
        .next_validators(vals)
        .app_hash(tendermint::AppHash::try_from(vec![7u8; 32]).expect("app hash"))
        .time(
            tendermint::Time::from_unix_timestamp(T0 + i64::try_from(height).expect("h"), 0)
                .expect("time"),
        );
    LightBlock::new_default_with_header(header)
        .validators(vals)
        .next_validators(vals)
        .generate()
        .expect("light block")
}

/// What the validators `a` and `b` of every test chain hash to: each chain's
/// FinalizeBlock gets it, as CometBFT would pass the header's.
fn next_validators_hash() -> Vec<u8> {
    light_block(1, &validators())
        .signed_header
        .header
        .next_validators_hash
        .as_bytes()
        .to_vec()
}

fn rev(h: u64) -> Height {
    Height::new(1, h).expect("height")
}

fn create_client(h: u64) -> Any {
    let cs = ClientStateType::new(
        ChainId::new(COUNTERPARTY).expect("chain id"),
        TrustThreshold::ONE_THIRD,
        std::time::Duration::from_secs(14 * 24 * 3600),
        std::time::Duration::from_secs(21 * 24 * 3600),
        std::time::Duration::from_secs(60),
        rev(h),
        ProofSpecs::cosmos(),
        vec![],
        AllowUpdate {
            after_expiry: false,
            after_misbehaviour: false,
        },
    )
    .expect("client state");
    let cons: ConsensusStateType = light_block(h, &validators()).signed_header.header.into();
    let msg = MsgCreateClient::new(
        TmClientState::from(cs).into(),
        TmConsensusState::from(cons).into(),
        user().address().bech32().into(),
    );
    Any {
        type_url: "/ibc.core.client.v1.MsgCreateClient".into(),
        value: msg.encode_vec(),
    }
}

fn update_client(trusted: u64, h: u64, signers: &[Validator]) -> Any {
    let lb = light_block(h, signers);
    let header = TmHeader {
        signed_header: lb.signed_header,
        validator_set: lb.validators,
        trusted_height: rev(trusted),
        trusted_next_validator_set: light_block(trusted, &validators()).next_validators,
    };
    let msg = MsgUpdateClient {
        client_id: ClientId::new("07-tendermint", 0).expect("id"),
        client_message: header.into(),
        signer: user().address().bech32().into(),
    };
    Any {
        type_url: "/ibc.core.client.v1.MsgUpdateClient".into(),
        value: msg.encode_vec(),
    }
}

fn latest_height(client_state: &[u8]) -> Height {
    let any = Any::decode(client_state).expect("any");
    TmClientState::try_from(any)
        .expect("client state")
        .inner()
        .latest_height
}

#[test]
fn a_client_created_and_updated_in_blocks_is_proven_at_every_height_by_ibc_rs() {
    let mut chain = Chain::new();
    let create = chain.block(vec![create_client(5)]).expect("tx result");
    assert_eq!(create.code, 0, "{}", create.log);
    let ev = create
        .events
        .iter()
        .find(|e| e.r#type == "create_client")
        .expect("create_client event");
    assert!(ev
        .attributes
        .iter()
        .any(|a| a.key == "client_id" && a.value == "07-tendermint-0" && a.index));
    assert!(
        ev.attributes.iter().all(|a| a.index),
        "indexed for CometBFT"
    );

    chain.block(vec![]);
    let update = chain
        .block(vec![update_client(5, 8, &validators())])
        .expect("tx result");
    assert_eq!(update.code, 0, "{}", update.log);
    assert!(update.events.iter().any(|e| e.r#type == "update_client"));

    for (h, want) in [(1, 5), (2, 5), (3, 8)] {
        let (value, proof) = chain.query_ibc(CLIENT_STATE, h);
        assert_eq!(latest_height(&value), rev(want), "at height {h}");
        verdict_ibc::verify_membership(&proof, chain.app_hash(h), CLIENT_STATE, &value)
            .unwrap_or_else(|e| panic!("proof at height {h}: {e}"));
        // Not against another height's app hash.
        let other = if h == 3 { 1 } else { 3 };
        assert!(verdict_ibc::verify_membership(
            &proof,
            chain.app_hash(other),
            CLIENT_STATE,
            &value
        )
        .is_err());
    }
    // A value of one height does not pass with the proof of another.
    let (old, _) = chain.query_ibc(CLIENT_STATE, 1);
    let (_, new_proof) = chain.query_ibc(CLIENT_STATE, 3);
    assert!(
        verdict_ibc::verify_membership(&new_proof, chain.app_hash(3), CLIENT_STATE, &old).is_err()
    );
    // Absence is proven too.
    let absent = b"clients/07-tendermint-1/clientState";
    let (value, proof) = chain.query_ibc(absent, 3);
    assert!(value.is_empty());
    verdict_ibc::verify_non_membership(&proof, chain.app_hash(3), absent).expect("absent");
    // Heights not committed, or negative, are refused with a code.
    for (height, code) in [(4, 26), (-1, 18)] {
        let r = chain.app.query(RequestQuery {
            data: CLIENT_STATE.to_vec().into(),
            path: "store/ibc/key".into(),
            height,
            prove: true,
        });
        assert_eq!(r.code, code, "height {height}: {}", r.log);
    }
    // Without `prove`, the value alone, at any committed height.
    let r = chain.app.query(RequestQuery {
        data: CLIENT_STATE.to_vec().into(),
        path: "/store/ibc/key".into(),
        height: 1,
        prove: false,
    });
    assert_eq!(r.code, 0, "{}", r.log);
    assert!(r.proof_ops.is_none());
    assert_eq!(latest_height(&r.value), rev(5));
    // The consensus state the update wrote is provable.
    let cons_path = b"clients/07-tendermint-0/consensusStates/1-8";
    let (value, proof) = chain.query_ibc(cons_path, 3);
    verdict_ibc::verify_membership(&proof, chain.app_hash(3), cons_path, &value)
        .expect("consensus state proof");
}

#[test]
fn a_header_not_signed_by_the_trusted_validators_fails_the_tx_and_changes_no_ibc_state() {
    let mut chain = Chain::new();
    assert_eq!(chain.block(vec![create_client(5)]).expect("tx").code, 0);
    let strangers = vec![
        Validator::new("x").voting_power(50),
        Validator::new("y").voting_power(50),
    ];
    let bad = chain
        .block(vec![update_client(5, 8, &strangers)])
        .expect("tx result");
    assert_ne!(bad.code, 0);
    assert!(bad.log.contains("ibc"), "{}", bad.log);
    assert!(bad.events.iter().all(|e| e.r#type != "update_client"));
    let (before, _) = chain.query_ibc(CLIENT_STATE, 1);
    let (after, proof) = chain.query_ibc(CLIENT_STATE, 2);
    assert_eq!(before, after);
    verdict_ibc::verify_membership(&proof, chain.app_hash(2), CLIENT_STATE, &after)
        .expect("still proven");
    // Garbage in an IBC message is a decode error, not a panic.
    let garbage = Any {
        type_url: "/ibc.core.client.v1.MsgUpdateClient".into(),
        value: vec![0x0a, 0xff, 0xff],
    };
    let r = chain.block(vec![garbage]).expect("tx result");
    assert_eq!(r.code, 2, "{}", r.log);
}

#[test]
fn finalize_block_records_the_host_consensus_state_of_every_height() {
    let mut chain = Chain::new();
    for _ in 0..3 {
        chain.block(vec![]);
    }
    let store = chain.app.store();
    for h in 1..=3u64 {
        let bytes = store
            .get(&verdict_ibc::keys::host_consensus(h))
            .expect("read")
            .expect("host consensus state");
        let cs = TmConsensusState::try_from(Any::decode(bytes.as_slice()).expect("any"))
            .expect("tm consensus state");
        let cs = cs.inner();
        // The root is what header h carries: the app hash after h-1 (InitChain's
        // for the first block).
        let want = if h == 1 {
            chain.genesis_hash.as_slice()
        } else {
            chain.app_hash(i64::try_from(h).expect("h") - 1)
        };
        assert_eq!(cs.root.as_bytes(), want);
        assert_eq!(
            cs.timestamp,
            tendermint::Time::from_unix_timestamp(T0 + 100 + i64::try_from(h).expect("h"), 0)
                .expect("time")
        );
        assert_eq!(cs.next_validators_hash.as_bytes(), next_validators_hash());
    }
}

#[test]
fn ibc_blocks_give_every_node_and_a_replay_the_same_app_hash() {
    let mut a = Chain::new();
    let mut b = Chain::new();
    assert_eq!(a.genesis_hash, b.genesis_hash);
    a.block(vec![create_client(5)]);
    b.block(vec![create_client(5)]);
    assert_eq!(a.hashes, b.hashes);

    // Node a finalizes height 2, "crashes" before Commit, and replays it.
    let msgs = vec![update_client(5, 8, &validators())];
    let tx = sign_tx(
        &TxSpec {
            msgs: msgs
                .into_iter()
                .map(|m| cosmrs::Any {
                    type_url: m.type_url,
                    value: m.value,
                })
                .collect(),
            memo: String::new(),
            timeout_height: 0,
            fee: vec![Coin::new(100_000, "uverd")],
            gas_limit: 4_000_000,
        },
        &user(),
        CHAIN,
        1,
        1,
    );
    let req = RequestFinalizeBlock {
        txs: vec![tx.into()],
        hash: vec![2; 32].into(),
        height: 2,
        time: Some(time(2)),
        next_validators_hash: next_validators_hash().into(),
        ..Default::default()
    };
    let first = a.app.finalize_block(req.clone());
    assert_eq!(first.tx_results[0].code, 0, "{}", first.tx_results[0].log);
    let replay = a.app.finalize_block(req.clone());
    assert_eq!(first.app_hash, replay.app_hash);
    let other = b.app.finalize_block(req);
    assert_eq!(first.app_hash, other.app_hash);
}

fn abci_query<R: Message + Default>(chain: &Chain, path: &str, req: impl Message) -> R {
    let resp = chain.app.query(RequestQuery {
        data: req.encode_to_vec().into(),
        path: path.into(),
        height: 0,
        prove: false,
    });
    assert_eq!(resp.code, 0, "{path}: {}", resp.log);
    R::decode(resp.value.as_ref()).expect("response decodes")
}

#[test]
fn client_queries_answer_with_proofs_that_ibc_rs_verifies() {
    use ibc::core::client::types::proto::v1 as q;
    let mut chain = Chain::new();
    chain.block(vec![create_client(5)]);
    chain.block(vec![update_client(5, 8, &validators())]);
    chain.block(vec![]);
    let latest = chain.height;
    // "verdict-1" is revision 1 of its chain id.
    let proof_height = q::Height {
        revision_number: 1,
        revision_height: u64::try_from(latest).expect("h"),
    };

    let cs: q::QueryClientStateResponse = abci_query(
        &chain,
        "/ibc.core.client.v1.Query/ClientState",
        q::QueryClientStateRequest {
            client_id: "07-tendermint-0".into(),
        },
    );
    assert_eq!(cs.proof_height, Some(proof_height));
    let any = cs.client_state.expect("client state");
    let value = Any {
        type_url: any.type_url.clone(),
        value: any.value.clone(),
    }
    .encode_to_vec();
    assert_eq!(latest_height(&value), rev(8));
    let proof =
        <MerkleProof as Protobuf<ibc::core::commitment_types::proto::v1::MerkleProof>>::decode_vec(
            &cs.proof,
        )
        .expect("merkle proof");
    verdict_ibc::verify_membership(&proof, chain.app_hash(latest), CLIENT_STATE, &value)
        .expect("client state proof verifies");

    let cons: q::QueryConsensusStateResponse = abci_query(
        &chain,
        "/ibc.core.client.v1.Query/ConsensusState",
        q::QueryConsensusStateRequest {
            client_id: "07-tendermint-0".into(),
            revision_number: 1,
            revision_height: 8,
            latest_height: false,
        },
    );
    let any = cons.consensus_state.expect("consensus state");
    let value = Any {
        type_url: any.type_url,
        value: any.value,
    }
    .encode_to_vec();
    let proof =
        <MerkleProof as Protobuf<ibc::core::commitment_types::proto::v1::MerkleProof>>::decode_vec(
            &cons.proof,
        )
        .expect("merkle proof");
    verdict_ibc::verify_membership(
        &proof,
        chain.app_hash(latest),
        b"clients/07-tendermint-0/consensusStates/1-8",
        &value,
    )
    .expect("consensus state proof verifies");

    let heights: q::QueryConsensusStateHeightsResponse = abci_query(
        &chain,
        "/ibc.core.client.v1.Query/ConsensusStateHeights",
        q::QueryConsensusStateHeightsRequest {
            client_id: "07-tendermint-0".into(),
            pagination: None,
        },
    );
    let hs: Vec<u64> = heights
        .consensus_state_heights
        .iter()
        .map(|h| h.revision_height)
        .collect();
    assert_eq!(hs, vec![5, 8]);

    let all: q::QueryClientStatesResponse = abci_query(
        &chain,
        "/ibc.core.client.v1.Query/ClientStates",
        q::QueryClientStatesRequest { pagination: None },
    );
    assert_eq!(all.client_states.len(), 1);
    assert_eq!(all.client_states[0].client_id, "07-tendermint-0");

    let states: q::QueryConsensusStatesResponse = abci_query(
        &chain,
        "/ibc.core.client.v1.Query/ConsensusStates",
        q::QueryConsensusStatesRequest {
            client_id: "07-tendermint-0".into(),
            pagination: None,
        },
    );
    assert_eq!(states.consensus_states.len(), 2);

    let status: q::QueryClientStatusResponse = abci_query(
        &chain,
        "/ibc.core.client.v1.Query/ClientStatus",
        q::QueryClientStatusRequest {
            client_id: "07-tendermint-0".into(),
        },
    );
    assert_eq!(status.status, "Active");

    let params: q::QueryClientParamsResponse = abci_query(
        &chain,
        "/ibc.core.client.v1.Query/ClientParams",
        q::QueryClientParamsRequest {},
    );
    assert_eq!(
        params.params.expect("params").allowed_clients,
        vec!["07-tendermint".to_string()]
    );

    // Unknown clients and bad requests are errors, not panics.
    let missing = chain.app.query(RequestQuery {
        data: q::QueryClientStateRequest {
            client_id: "07-tendermint-9".into(),
        }
        .encode_to_vec()
        .into(),
        path: "/ibc.core.client.v1.Query/ClientState".into(),
        ..Default::default()
    });
    assert_eq!(missing.code, 38, "{}", missing.log);
    assert!(missing.log.contains("NotFound"), "{}", missing.log);
    for (path, data) in [
        ("/ibc.core.client.v1.Query/ClientState", vec![0xff, 0xff]),
        (
            "/ibc.core.client.v1.Query/ClientState",
            q::QueryClientStateRequest {
                client_id: "not an id!".into(),
            }
            .encode_to_vec(),
        ),
        ("/ibc.core.client.v1.Query/Nope", vec![]),
    ] {
        let r = chain.app.query(RequestQuery {
            data: data.into(),
            path: path.into(),
            ..Default::default()
        });
        assert_ne!(r.code, 0, "{path}");
    }
}

// ---- Two Verdict chains open a connection (ICS-03) to each other ----
//
// Each chain's headers are signed by the validators `a` and `b` (tendermint-
// testgen), carrying the chain's real app hashes and block times, so each
// chain's 07-tendermint client of the other verifies real proofs of the other's
// store: the two-level commitment checked by ibc-rs's connection handlers.

/// Header `p` of a Verdict test chain: app hash after `p-1`, block time of `p`.
fn header_of(x: &Chain, p: u64) -> tendermint_testgen::light_block::TmLightBlock {
    let app_hash = if p == 1 {
        x.genesis_hash.clone()
    } else {
        x.hashes[usize::try_from(p - 2).expect("p")].clone()
    };
    let vals = validators();
    let header = Header::new(&vals)
        .height(p)
        .chain_id(&x.chain_id)
        .next_validators(&vals)
        .app_hash(tendermint::AppHash::try_from(app_hash).expect("app hash"))
        .time(
            tendermint::Time::from_unix_timestamp(T0 + 100 + i64::try_from(p).expect("p"), 0)
                .expect("time"),
        );
    LightBlock::new_default_with_header(header)
        .validators(&vals)
        .next_validators(&vals)
        .generate()
        .expect("light block")
}

fn revision_of(x: &Chain) -> u64 {
    ChainId::new(&x.chain_id)
        .expect("chain id")
        .revision_number()
}

fn create_client_of(x: &Chain, p: u64) -> Any {
    let cs = ClientStateType::new(
        ChainId::new(&x.chain_id).expect("chain id"),
        TrustThreshold::ONE_THIRD,
        std::time::Duration::from_secs(14 * 24 * 3600),
        // The staking default unbonding time, which validate_self_client requires.
        std::time::Duration::from_secs(21 * 24 * 3600),
        std::time::Duration::from_secs(60),
        Height::new(revision_of(x), p).expect("height"),
        verdict_ibc::proof_specs(),
        vec![],
        AllowUpdate {
            after_expiry: false,
            after_misbehaviour: false,
        },
    )
    .expect("client state");
    let cons: ConsensusStateType = header_of(x, p).signed_header.header.into();
    let msg = MsgCreateClient::new(
        TmClientState::from(cs).into(),
        TmConsensusState::from(cons).into(),
        user().address().bech32().into(),
    );
    Any {
        type_url: "/ibc.core.client.v1.MsgCreateClient".into(),
        value: msg.encode_vec(),
    }
}

fn update_client_of(x: &Chain, trusted: u64, p: u64) -> Any {
    let lb = header_of(x, p);
    let header = TmHeader {
        signed_header: lb.signed_header,
        validator_set: lb.validators,
        trusted_height: Height::new(revision_of(x), trusted).expect("h"),
        trusted_next_validator_set: header_of(x, trusted).next_validators,
    };
    let msg = MsgUpdateClient {
        client_id: ClientId::new("07-tendermint", 0).expect("id"),
        client_message: header.into(),
        signer: user().address().bech32().into(),
    };
    Any {
        type_url: "/ibc.core.client.v1.MsgUpdateClient".into(),
        value: msg.encode_vec(),
    }
}

/// Value and `MerkleProof` bytes of `path` on `x` at committed height `h`.
fn prove(x: &Chain, path: &str, h: u64) -> (Vec<u8>, Vec<u8>) {
    let (value, proof) = x.query_ibc(path.as_bytes(), i64::try_from(h).expect("h"));
    let bytes =
        <MerkleProof as Protobuf<ibc::core::commitment_types::proto::v1::MerkleProof>>::encode_vec(
            proof,
        );
    (value, bytes)
}

fn raw_height(x: &Chain, h: u64) -> Option<ibc::core::client::types::proto::v1::Height> {
    Some(ibc::core::client::types::proto::v1::Height {
        revision_number: revision_of(x),
        revision_height: h,
    })
}

fn any_of(msg: impl Message, type_url: &str) -> Any {
    Any {
        type_url: type_url.into(),
        value: msg.encode_to_vec(),
    }
}

fn connection_state(x: &Chain) -> ibc::core::connection::types::proto::v1::ConnectionEnd {
    let (v, _) = x.query_ibc(b"connections/connection-0", x.height);
    ibc::core::connection::types::proto::v1::ConnectionEnd::decode(v.as_slice()).expect("end")
}

fn ok(r: Option<ExecTxResult>) -> ExecTxResult {
    let r = r.expect("tx result");
    assert_eq!(r.code, 0, "{}", r.log);
    r
}

#[test]
fn two_verdict_chains_open_a_connection_with_proofs_of_each_others_stores() {
    open_connection();
}

/// The full ICS-03 handshake between two fresh chains A (`alpha-1`) and B
/// (`beta-1`). Returns them with A at height 5 and B at height 4, B's client
/// of A at A's header 6 and A's client of B at B's header 4.
fn open_connection() -> (Chain, Chain) {
    use ibc::core::commitment_types::proto::v1::MerklePrefix;
    use ibc::core::connection::types::proto::v1 as conn;
    let signer = user().address().bech32();
    let mut a = Chain::named("alpha-1");
    let mut b = Chain::named("beta-1");
    a.block(vec![]);
    b.block(vec![]);
    // Height 2: each creates a client of the other from the other's header 2.
    ok(a.block(vec![create_client_of(&b, 2)]));
    ok(b.block(vec![create_client_of(&a, 2)]));

    // A (height 3): ConnOpenInit.
    let init = conn::MsgConnectionOpenInit {
        client_id: "07-tendermint-0".into(),
        counterparty: Some(conn::Counterparty {
            client_id: "07-tendermint-0".into(),
            connection_id: String::new(),
            prefix: Some(MerklePrefix {
                key_prefix: b"ibc".to_vec(),
            }),
        }),
        version: None,
        delay_period: 0,
        signer: signer.clone(),
    };
    let r = ok(a.block(vec![any_of(
        init,
        "/ibc.core.connection.v1.MsgConnectionOpenInit",
    )]));
    assert!(r.events.iter().any(|e| e.r#type == "connection_open_init"));
    assert_eq!(connection_state(&a).state, 1, "INIT");

    // B (height 3): update its client of A to A's header 4 (root = A after 3),
    // then ConnOpenTry with proofs of A's store at height 3.
    let conn_a = connection_state(&a);
    let (client_b_on_a, proof_client) = prove(&a, "clients/07-tendermint-0/clientState", 3);
    let (_, proof_init) = prove(&a, "connections/connection-0", 3);
    let (_, proof_consensus) = prove(&a, "clients/07-tendermint-0/consensusStates/1-2", 3);
    let try_msg = conn::MsgConnectionOpenTry {
        client_id: "07-tendermint-0".into(),
        #[allow(deprecated)] // still on the wire type
        previous_connection_id: String::new(),
        client_state: Some(
            tendermint_proto::google::protobuf::Any::decode(client_b_on_a.as_slice())
                .expect("any"),
        ),
        counterparty: Some(conn::Counterparty {
            client_id: "07-tendermint-0".into(),
            connection_id: "connection-0".into(),
            prefix: Some(MerklePrefix {
                key_prefix: b"ibc".to_vec(),
            }),
        }),
        delay_period: 0,
        counterparty_versions: conn_a.versions.clone(),
        proof_height: raw_height(&a, 4),
        proof_init,
        proof_client,
        proof_consensus,
        consensus_height: raw_height(&b, 2),
        signer: signer.clone(),
        host_consensus_state_proof: vec![],
    };
    let r = ok(b.block(vec![
        update_client_of(&a, 2, 4),
        any_of(try_msg, "/ibc.core.connection.v1.MsgConnectionOpenTry"),
    ]));
    assert!(r.events.iter().any(|e| e.r#type == "connection_open_try"));
    assert_eq!(connection_state(&b).state, 2, "TRYOPEN");

    // A: one more block, so its height passes B's client of A (at 4); then at
    // height 5 update its client of B to B's header 4 and ConnOpenAck.
    a.block(vec![]);
    let (client_a_on_b, proof_client) = prove(&b, "clients/07-tendermint-0/clientState", 3);
    let (_, proof_try) = prove(&b, "connections/connection-0", 3);
    let (_, proof_consensus) = prove(&b, "clients/07-tendermint-0/consensusStates/1-4", 3);
    let ack = conn::MsgConnectionOpenAck {
        connection_id: "connection-0".into(),
        counterparty_connection_id: "connection-0".into(),
        version: conn_a.versions.first().cloned(),
        client_state: Some(
            tendermint_proto::google::protobuf::Any::decode(client_a_on_b.as_slice()).expect("any"),
        ),
        proof_height: raw_height(&b, 4),
        proof_try,
        proof_client,
        proof_consensus,
        consensus_height: raw_height(&a, 4),
        signer: signer.clone(),
        host_consensus_state_proof: vec![],
    };
    let r = ok(a.block(vec![
        update_client_of(&b, 2, 4),
        any_of(ack, "/ibc.core.connection.v1.MsgConnectionOpenAck"),
    ]));
    assert!(r.events.iter().any(|e| e.r#type == "connection_open_ack"));
    assert_eq!(connection_state(&a).state, 3, "OPEN on A");

    // B (height 4): update its client of A to A's header 6 (root = A after 5),
    // then ConnOpenConfirm with the proof of A's open end.
    let (_, proof_ack) = prove(&a, "connections/connection-0", 5);
    let confirm = conn::MsgConnectionOpenConfirm {
        connection_id: "connection-0".into(),
        proof_ack,
        proof_height: raw_height(&a, 6),
        signer: signer.clone(),
    };
    let r = ok(b.block(vec![
        update_client_of(&a, 4, 6),
        any_of(confirm, "/ibc.core.connection.v1.MsgConnectionOpenConfirm"),
    ]));
    assert!(r
        .events
        .iter()
        .any(|e| e.r#type == "connection_open_confirm"));
    let (end_a, end_b) = (connection_state(&a), connection_state(&b));
    assert_eq!((end_a.state, end_b.state), (3, 3), "OPEN on both");
    assert_eq!(
        end_a.counterparty.expect("cp").connection_id,
        "connection-0"
    );
    assert_eq!(
        end_b.counterparty.expect("cp").connection_id,
        "connection-0"
    );
    (a, b)
}

#[test]
fn a_connection_proof_from_the_wrong_height_is_refused_and_changes_nothing() {
    use ibc::core::commitment_types::proto::v1::MerklePrefix;
    use ibc::core::connection::types::proto::v1 as conn;
    let signer = user().address().bech32();
    let mut a = Chain::named("alpha-1");
    let mut b = Chain::named("beta-1");
    a.block(vec![]);
    b.block(vec![]);
    ok(a.block(vec![create_client_of(&b, 2)]));
    ok(b.block(vec![create_client_of(&a, 2)]));
    let init = conn::MsgConnectionOpenInit {
        client_id: "07-tendermint-0".into(),
        counterparty: Some(conn::Counterparty {
            client_id: "07-tendermint-0".into(),
            connection_id: String::new(),
            prefix: Some(MerklePrefix {
                key_prefix: b"ibc".to_vec(),
            }),
        }),
        version: None,
        delay_period: 0,
        signer: signer.clone(),
    };
    ok(a.block(vec![any_of(
        init,
        "/ibc.core.connection.v1.MsgConnectionOpenInit",
    )]));
    ok(b.block(vec![update_client_of(&a, 2, 4)]));
    let conn_a = connection_state(&a);
    let (client_b_on_a, proof_client) = prove(&a, "clients/07-tendermint-0/clientState", 3);
    // The connection did not exist at height 2: a proof from there cannot show it.
    let (_, stale_proof_init) = prove(&a, "connections/connection-0", 2);
    let (_, proof_consensus) = prove(&a, "clients/07-tendermint-0/consensusStates/1-2", 3);
    let try_msg = conn::MsgConnectionOpenTry {
        client_id: "07-tendermint-0".into(),
        #[allow(deprecated)] // still on the wire type
        previous_connection_id: String::new(),
        client_state: Some(
            tendermint_proto::google::protobuf::Any::decode(client_b_on_a.as_slice())
                .expect("any"),
        ),
        counterparty: Some(conn::Counterparty {
            client_id: "07-tendermint-0".into(),
            connection_id: "connection-0".into(),
            prefix: Some(MerklePrefix {
                key_prefix: b"ibc".to_vec(),
            }),
        }),
        delay_period: 0,
        counterparty_versions: conn_a.versions.clone(),
        proof_height: raw_height(&a, 4),
        proof_init: stale_proof_init,
        proof_client,
        proof_consensus,
        consensus_height: raw_height(&b, 2),
        signer,
        host_consensus_state_proof: vec![],
    };
    let r = b
        .block(vec![any_of(
            try_msg,
            "/ibc.core.connection.v1.MsgConnectionOpenTry",
        )])
        .expect("tx result");
    assert_ne!(r.code, 0);
    assert!(r.log.contains("ICS23 verification"), "{}", r.log);
    let (v, _) = b.query_ibc(b"connections/connection-0", b.height);
    assert!(v.is_empty(), "no connection end on B");
    let (v, _) = b.query_ibc(b"nextConnectionSequence", b.height);
    assert_eq!(v, 0u64.to_be_bytes());
}

// ---- The inference application's channel (ICS-04) between two Verdict chains ----

const CHAN_END: &str = "channelEnds/ports/inference/channels/channel-0";

fn channel_end(x: &Chain, path: &str) -> Option<ibc::core::channel::types::proto::v1::Channel> {
    let (v, _) = x.query_ibc(path.as_bytes(), x.height);
    if v.is_empty() {
        None
    } else {
        Some(ibc::core::channel::types::proto::v1::Channel::decode(v.as_slice()).expect("channel"))
    }
}

fn chan_open_init(port: &str, ordering: i32, version: &str) -> Any {
    use ibc::core::channel::types::proto::v1 as chan;
    any_of(
        chan::MsgChannelOpenInit {
            port_id: port.into(),
            channel: Some(chan::Channel {
                state: 1,
                ordering,
                counterparty: Some(chan::Counterparty {
                    port_id: port.into(),
                    channel_id: String::new(),
                }),
                connection_hops: vec!["connection-0".into()],
                version: version.into(),
                upgrade_sequence: 0,
            }),
            signer: user().address().bech32(),
        },
        "/ibc.core.channel.v1.MsgChannelOpenInit",
    )
}

fn refused(r: Option<ExecTxResult>) -> ExecTxResult {
    let r = r.expect("tx result");
    assert_ne!(r.code, 0, "expected a refusal");
    r
}

/// After a refused handshake message: no channel end, no channel counted.
fn assert_no_channel(x: &Chain) {
    assert!(channel_end(x, CHAN_END).is_none(), "no channel end");
    let (v, _) = x.query_ibc(b"nextChannelSequence", x.height);
    assert!(
        v.is_empty() || v == 0u64.to_be_bytes(),
        "no channel counted"
    );
}

#[test]
fn two_verdict_chains_open_an_inference_channel_and_refuse_other_orderings_and_versions() {
    use ibc::core::channel::types::proto::v1 as chan;
    let signer = user().address().bech32();
    let (mut a, mut b) = open_connection();

    // Refused on A: an ORDERED channel, a foreign version, a port nobody binds.
    let r = refused(a.block(vec![chan_open_init("inference", 2, "verdict-inference-1")]));
    assert!(r.log.contains("UNORDERED"), "{}", r.log);
    assert_no_channel(&a);
    let r = refused(a.block(vec![chan_open_init("inference", 1, "ics20-1")]));
    assert!(r.log.contains("verdict-inference-1"), "{}", r.log);
    assert_no_channel(&a);
    refused(a.block(vec![chan_open_init("transfer", 1, "verdict-inference-1")]));
    assert_no_channel(&a);

    // A: ChanOpenInit (INIT).
    let r = ok(a.block(vec![chan_open_init("inference", 1, "verdict-inference-1")]));
    assert!(r.events.iter().any(|e| e.r#type == "channel_open_init"));
    let h_init = u64::try_from(a.height).expect("h");
    let end = channel_end(&a, CHAN_END).expect("end on A");
    assert_eq!((end.state, end.ordering), (1, 1), "INIT, UNORDERED");
    assert_eq!(end.version, "verdict-inference-1");

    // B: update its client of A to A's header h_init+1, then ChanOpenTry.
    let (_, proof_init) = prove(&a, CHAN_END, h_init);
    let try_msg = |counterparty_version: &str| {
        any_of(
            chan::MsgChannelOpenTry {
                port_id: "inference".into(),
                #[allow(deprecated)] // still on the wire type
                previous_channel_id: String::new(),
                channel: Some(chan::Channel {
                    state: 2,
                    ordering: 1,
                    counterparty: Some(chan::Counterparty {
                        port_id: "inference".into(),
                        channel_id: "channel-0".into(),
                    }),
                    connection_hops: vec!["connection-0".into()],
                    version: "verdict-inference-1".into(),
                    upgrade_sequence: 0,
                }),
                counterparty_version: counterparty_version.into(),
                proof_init: proof_init.clone(),
                proof_height: raw_height(&a, h_init + 1),
                signer: signer.clone(),
            },
            "/ibc.core.channel.v1.MsgChannelOpenTry",
        )
    };
    ok(b.block(vec![update_client_of(&a, 6, h_init + 1)]));
    // A Try claiming another version than the one A committed is refused
    // (the proof of A's end does not match), and B writes nothing.
    refused(b.block(vec![try_msg("ics20-1")]));
    assert_no_channel(&b);
    let r = ok(b.block(vec![try_msg("verdict-inference-1")]));
    assert!(r.events.iter().any(|e| e.r#type == "channel_open_try"));
    let h_try = u64::try_from(b.height).expect("h");
    let end = channel_end(&b, CHAN_END).expect("end on B");
    assert_eq!((end.state, end.ordering), (2, 1), "TRYOPEN, UNORDERED");

    // A: update its client of B to B's header h_try+1, then ChanOpenAck.
    let (_, proof_try) = prove(&b, CHAN_END, h_try);
    let ack = chan::MsgChannelOpenAck {
        port_id: "inference".into(),
        channel_id: "channel-0".into(),
        counterparty_channel_id: "channel-0".into(),
        counterparty_version: "verdict-inference-1".into(),
        proof_try,
        proof_height: raw_height(&b, h_try + 1),
        signer: signer.clone(),
    };
    let r = ok(a.block(vec![
        update_client_of(&b, 4, h_try + 1),
        any_of(ack, "/ibc.core.channel.v1.MsgChannelOpenAck"),
    ]));
    assert!(r.events.iter().any(|e| e.r#type == "channel_open_ack"));
    let h_ack = u64::try_from(a.height).expect("h");
    assert_eq!(
        channel_end(&a, CHAN_END).expect("end").state,
        3,
        "OPEN on A"
    );

    // B: update its client of A to A's header h_ack+1, then ChanOpenConfirm.
    let (_, proof_ack) = prove(&a, CHAN_END, h_ack);
    let confirm = chan::MsgChannelOpenConfirm {
        port_id: "inference".into(),
        channel_id: "channel-0".into(),
        proof_ack,
        proof_height: raw_height(&a, h_ack + 1),
        signer: signer.clone(),
    };
    let r = ok(b.block(vec![
        update_client_of(&a, h_init + 1, h_ack + 1),
        any_of(confirm, "/ibc.core.channel.v1.MsgChannelOpenConfirm"),
    ]));
    assert!(r.events.iter().any(|e| e.r#type == "channel_open_confirm"));
    let (end_a, end_b) = (
        channel_end(&a, CHAN_END).expect("A"),
        channel_end(&b, CHAN_END).expect("B"),
    );
    assert_eq!((end_a.state, end_b.state), (3, 3), "OPEN on both");
    assert_eq!(end_a.counterparty.expect("cp").channel_id, "channel-0");
    assert_eq!(end_b.counterparty.expect("cp").channel_id, "channel-0");
    assert_eq!(
        (end_a.version.as_str(), end_b.version.as_str()),
        ("verdict-inference-1", "verdict-inference-1")
    );

    // The inference channel stays open: a user close is refused, nothing changes.
    let close = chan::MsgChannelCloseInit {
        port_id: "inference".into(),
        channel_id: "channel-0".into(),
        signer,
    };
    let r = refused(a.block(vec![any_of(
        close,
        "/ibc.core.channel.v1.MsgChannelCloseInit",
    )]));
    assert!(r.log.contains("cannot be closed"), "{}", r.log);
    assert_eq!(channel_end(&a, CHAN_END).expect("end").state, 3);
}

/// The happy path of the ICS-04 handshake on port `inference` after
/// [`open_connection`]: `channel-0` OPEN on both chains.
fn open_inference_channel(a: &mut Chain, b: &mut Chain) {
    use ibc::core::channel::types::proto::v1 as chan;
    let signer = user().address().bech32();
    ok(a.block(vec![chan_open_init("inference", 1, "verdict-inference-1")]));
    let h_init = u64::try_from(a.height).expect("h");
    let (_, proof_init) = prove(a, CHAN_END, h_init);
    let try_msg = chan::MsgChannelOpenTry {
        port_id: "inference".into(),
        #[allow(deprecated)] // still on the wire type
        previous_channel_id: String::new(),
        channel: Some(chan::Channel {
            state: 2,
            ordering: 1,
            counterparty: Some(chan::Counterparty {
                port_id: "inference".into(),
                channel_id: "channel-0".into(),
            }),
            connection_hops: vec!["connection-0".into()],
            version: "verdict-inference-1".into(),
            upgrade_sequence: 0,
        }),
        counterparty_version: "verdict-inference-1".into(),
        proof_init,
        proof_height: raw_height(a, h_init + 1),
        signer: signer.clone(),
    };
    ok(b.block(vec![
        update_client_of(a, 6, h_init + 1),
        any_of(try_msg, "/ibc.core.channel.v1.MsgChannelOpenTry"),
    ]));
    let h_try = u64::try_from(b.height).expect("h");
    let (_, proof_try) = prove(b, CHAN_END, h_try);
    let ack = chan::MsgChannelOpenAck {
        port_id: "inference".into(),
        channel_id: "channel-0".into(),
        counterparty_channel_id: "channel-0".into(),
        counterparty_version: "verdict-inference-1".into(),
        proof_try,
        proof_height: raw_height(b, h_try + 1),
        signer: signer.clone(),
    };
    ok(a.block(vec![
        update_client_of(b, 4, h_try + 1),
        any_of(ack, "/ibc.core.channel.v1.MsgChannelOpenAck"),
    ]));
    let h_ack = u64::try_from(a.height).expect("h");
    let (_, proof_ack) = prove(a, CHAN_END, h_ack);
    let confirm = chan::MsgChannelOpenConfirm {
        port_id: "inference".into(),
        channel_id: "channel-0".into(),
        proof_ack,
        proof_height: raw_height(a, h_ack + 1),
        signer,
    };
    ok(b.block(vec![
        update_client_of(a, h_init + 1, h_ack + 1),
        any_of(confirm, "/ibc.core.channel.v1.MsgChannelOpenConfirm"),
    ]));
}

fn merkle_proof(bytes: &[u8]) -> MerkleProof {
    <MerkleProof as Protobuf<ibc::core::commitment_types::proto::v1::MerkleProof>>::decode_vec(
        bytes,
    )
    .expect("merkle proof")
}

#[test]
fn connection_and_channel_queries_answer_with_proofs_that_ibc_rs_verifies() {
    use ibc::core::channel::types::proto::v1 as chq;
    use ibc::core::connection::types::proto::v1 as cq;
    let (mut a, mut b) = open_connection();
    open_inference_channel(&mut a, &mut b);
    for (x, counterparty_chain) in [(&a, "beta-1"), (&b, "alpha-1")] {
        let latest = u64::try_from(x.height).expect("h");
        let app_hash = x.app_hash(x.height);

        let c: cq::QueryConnectionResponse = abci_query(
            x,
            "/ibc.core.connection.v1.Query/Connection",
            cq::QueryConnectionRequest {
                connection_id: "connection-0".into(),
            },
        );
        assert_eq!(c.proof_height, raw_height(x, latest));
        let end = c.connection.expect("connection end");
        assert_eq!(end.state, 3, "OPEN");
        assert_eq!(end.client_id, "07-tendermint-0");
        let cp = end.counterparty.clone().expect("counterparty");
        assert_eq!(
            (cp.client_id.as_str(), cp.connection_id.as_str()),
            ("07-tendermint-0", "connection-0")
        );
        verdict_ibc::verify_membership(
            &merkle_proof(&c.proof),
            app_hash,
            b"connections/connection-0",
            &end.encode_to_vec(),
        )
        .expect("connection proof verifies");

        let all: cq::QueryConnectionsResponse = abci_query(
            x,
            "/ibc.core.connection.v1.Query/Connections",
            cq::QueryConnectionsRequest { pagination: None },
        );
        assert_eq!(all.connections.len(), 1);
        assert_eq!(all.connections[0].id, "connection-0");

        let by_client: cq::QueryClientConnectionsResponse = abci_query(
            x,
            "/ibc.core.connection.v1.Query/ClientConnections",
            cq::QueryClientConnectionsRequest {
                client_id: "07-tendermint-0".into(),
            },
        );
        assert_eq!(by_client.connection_paths, vec!["connection-0".to_string()]);

        let cs: cq::QueryConnectionClientStateResponse = abci_query(
            x,
            "/ibc.core.connection.v1.Query/ConnectionClientState",
            cq::QueryConnectionClientStateRequest {
                connection_id: "connection-0".into(),
            },
        );
        let ics = cs.identified_client_state.expect("client state");
        assert_eq!(ics.client_id, "07-tendermint-0");
        let any = ics.client_state.expect("any");
        let tm = TmClientState::try_from(Any {
            type_url: any.type_url,
            value: any.value,
        })
        .expect("tm client state");
        assert_eq!(tm.inner().chain_id.as_str(), counterparty_chain);

        let ch: chq::QueryChannelResponse = abci_query(
            x,
            "/ibc.core.channel.v1.Query/Channel",
            chq::QueryChannelRequest {
                port_id: "inference".into(),
                channel_id: "channel-0".into(),
            },
        );
        assert_eq!(ch.proof_height, raw_height(x, latest));
        let chan = ch.channel.expect("channel end");
        assert_eq!((chan.state, chan.ordering), (3, 1), "OPEN, UNORDERED");
        assert_eq!(chan.version, "verdict-inference-1");
        assert_eq!(chan.connection_hops, vec!["connection-0".to_string()]);
        assert_eq!(
            chan.counterparty.clone().expect("cp").channel_id,
            "channel-0"
        );
        verdict_ibc::verify_membership(
            &merkle_proof(&ch.proof),
            app_hash,
            CHAN_END.as_bytes(),
            &chan.encode_to_vec(),
        )
        .expect("channel proof verifies");

        let chans: chq::QueryChannelsResponse = abci_query(
            x,
            "/ibc.core.channel.v1.Query/Channels",
            chq::QueryChannelsRequest { pagination: None },
        );
        assert_eq!(chans.channels.len(), 1);
        assert_eq!(
            (
                chans.channels[0].port_id.as_str(),
                chans.channels[0].channel_id.as_str()
            ),
            ("inference", "channel-0")
        );
        let on_conn: chq::QueryConnectionChannelsResponse = abci_query(
            x,
            "/ibc.core.channel.v1.Query/ConnectionChannels",
            chq::QueryConnectionChannelsRequest {
                connection: "connection-0".into(),
                pagination: None,
            },
        );
        assert_eq!(on_conn.channels.len(), 1);

        let chan_client: chq::QueryChannelClientStateResponse = abci_query(
            x,
            "/ibc.core.channel.v1.Query/ChannelClientState",
            chq::QueryChannelClientStateRequest {
                port_id: "inference".into(),
                channel_id: "channel-0".into(),
            },
        );
        assert_eq!(
            chan_client
                .identified_client_state
                .expect("client")
                .client_id,
            "07-tendermint-0"
        );

        let next: chq::QueryNextSequenceSendResponse = abci_query(
            x,
            "/ibc.core.channel.v1.Query/NextSequenceSend",
            chq::QueryNextSequenceSendRequest {
                port_id: "inference".into(),
                channel_id: "channel-0".into(),
            },
        );
        assert_eq!(next.next_sequence_send, 1);
        verdict_ibc::verify_membership(
            &merkle_proof(&next.proof),
            app_hash,
            b"nextSequenceSend/ports/inference/channels/channel-0",
            &1u64.to_be_bytes(),
        )
        .expect("next sequence proof verifies");

        // Nothing sent yet: no commitments, every sequence unreceived.
        let commitments: chq::QueryPacketCommitmentsResponse = abci_query(
            x,
            "/ibc.core.channel.v1.Query/PacketCommitments",
            chq::QueryPacketCommitmentsRequest {
                port_id: "inference".into(),
                channel_id: "channel-0".into(),
                pagination: None,
            },
        );
        assert!(commitments.commitments.is_empty());
        let unreceived: chq::QueryUnreceivedPacketsResponse = abci_query(
            x,
            "/ibc.core.channel.v1.Query/UnreceivedPackets",
            chq::QueryUnreceivedPacketsRequest {
                port_id: "inference".into(),
                channel_id: "channel-0".into(),
                packet_commitment_sequences: vec![1, 2],
            },
        );
        assert_eq!(unreceived.sequences, vec![1, 2]);
    }

    // Unknown ends are NotFound; unknown methods and bad bytes are errors, not panics.
    let missing = a.app.query(RequestQuery {
        data: ibc::core::channel::types::proto::v1::QueryChannelRequest {
            port_id: "inference".into(),
            channel_id: "channel-9".into(),
        }
        .encode_to_vec()
        .into(),
        path: "/ibc.core.channel.v1.Query/Channel".into(),
        ..Default::default()
    });
    assert_eq!(missing.code, 38, "{}", missing.log);
    assert!(missing.log.contains("NotFound"), "{}", missing.log);
    for (path, data) in [
        ("/ibc.core.connection.v1.Query/Connection", vec![0xff, 0xff]),
        ("/ibc.core.connection.v1.Query/Nope", vec![]),
        ("/ibc.core.channel.v1.Query/Nope", vec![]),
        (
            "/ibc.core.connection.v1.Query/Connection",
            ibc::core::connection::types::proto::v1::QueryConnectionRequest {
                connection_id: "not an id!".into(),
            }
            .encode_to_vec(),
        ),
    ] {
        let r = a.app.query(RequestQuery {
            data: data.into(),
            path: path.into(),
            ..Default::default()
        });
        assert_ne!(r.code, 0, "{path}");
    }
}
