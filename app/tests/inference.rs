//! App tests of inference and attestation: whole heights in-process on four
//! nodes with staking validators from gentxs. Each node's attestor is fed results
//! directly (a stand-in for its sidecar; the e2e tests use the real one); the
//! harness can make a node lie, reveal badly or be slow, and can play a proposer
//! that drops extensions.

use std::collections::{BTreeMap, BTreeSet};

use ed25519_consensus::SigningKey;
use prost::Message;
use serde_json::{json, Value};
use tendermint_abci::Application;
use tendermint_proto::google::protobuf::Timestamp;
use tendermint_proto::v0_38::abci::{
    response_process_proposal::ProposalStatus, response_verify_vote_extension::VerifyStatus,
    CommitInfo, ExtendedCommitInfo, ExtendedVoteInfo, RequestCheckTx, RequestExtendVote,
    RequestFinalizeBlock, RequestInitChain, RequestPrepareProposal, RequestProcessProposal,
    RequestQuery, RequestVerifyVoteExtension, ResponseFinalizeBlock, Validator, ValidatorUpdate,
    VoteInfo,
};
use tendermint_proto::v0_38::crypto::{public_key::Sum, PublicKey};
use tendermint_proto::v0_38::types::{AbciParams, ConsensusParams};
use verdict_app::app::tendermint_address;
use verdict_app::attestor::{Attestor, AttestorFault};
use verdict_app::store::Store;
use verdict_app::txbuild::{sign_tx, AccountKey, TxSpec};
use verdict_app::vote_ext::extension_sign_bytes;
use verdict_app::VerdictApp;
use verdict_core::coin::Coin;
use verdict_proto::app::v1::VoteExtension;
use verdict_proto::inference::v1 as pb;

const CHAIN: &str = "verdict-inference-test";
const MODEL: &str = "d314a04eacd41b4e02fa9d89d5ab913db15ab8c50faf4db94a1b3ea2d9210200";
const POWER: i64 = 100;

fn user() -> AccountKey {
    AccountKey::from_bytes(&[42; 32]).expect("key")
}

fn operator(i: u8) -> AccountKey {
    AccountKey::from_bytes(&[100 + i; 32]).expect("key")
}

fn time(h: i64) -> Timestamp {
    Timestamp {
        seconds: 1_700_000_000 + h,
        nanos: 0,
    }
}

/// How a node's "sidecar" answers.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Behaviour {
    Honest,
    Wrong,
    /// Answers only after the commit phase closed (and reports 1 ms).
    Slow,
    /// Never produces a result.
    Silent,
    /// Commits honestly, then reveals a different digest.
    BadReveal,
    /// verdictd's `copy` fault: never runs a job, takes the first public answer.
    Copier,
}

struct Node {
    dir: tempfile::TempDir,
    app: VerdictApp,
    key: SigningKey,
    behaviour: Behaviour,
}

impl Node {
    fn addr(&self) -> Vec<u8> {
        tendermint_address(self.key.verification_key().as_bytes())
    }
    fn hex(&self) -> String {
        hex::encode_upper(self.addr())
    }
}

fn attestor_for(key: &SigningKey, i: u8) -> Attestor {
    let a: [u8; 20] = tendermint_address(key.verification_key().as_bytes())
        .try_into()
        .expect("20 bytes");
    Attestor::offline(a, [i; 32])
}

fn gentx(i: u8, key: &SigningKey) -> String {
    let op = operator(i);
    let msg = verdict_app::txbuild::create_validator_msg(
        &op.address(),
        &key.verification_key().to_bytes(),
        &Coin::new(100_000_000, "uverd"),
        &format!("v{i}"),
        "50000000000000000",
    );
    let spec = TxSpec {
        msgs: vec![msg],
        memo: String::new(),
        timeout_height: 0,
        fee: vec![],
        gas_limit: 400_000,
    };
    // Account numbers: fee collector 0, user 1, operators 2.. (genesis order).
    hex::encode(sign_tx(&spec, &op, CHAIN, 2 + u64::from(i), 0))
}

struct Net {
    nodes: Vec<Node>,
    last: Option<ExtendedCommitInfo>,
    height: i64,
    /// CometBFT's validator set (address → power) and the updates still pending.
    active: BTreeMap<Vec<u8>, i64>,
    pending: Vec<(i64, Vec<ValidatorUpdate>)>,
    /// Jobs each node's sidecar already answered.
    fed: Vec<BTreeSet<u64>>,
    /// Validators whose extensions the proposer leaves out.
    drop: BTreeSet<Vec<u8>>,
    user_seq: u64,
}

impl Net {
    fn new(behaviours: &[Behaviour], window: u64) -> Net {
        Self::with_params(behaviours, window, json!({}))
    }

    fn with_params(behaviours: &[Behaviour], window: u64, extra: Value) -> Net {
        let keys: Vec<SigningKey> = (1..=behaviours.len() as u8)
            .map(|i| SigningKey::from([i; 32]))
            .collect();
        let mut balances =
            vec![json!({"address": user().address().bech32(), "coins": "1000000000000uverd"})];
        for i in 0..keys.len() as u8 {
            balances.push(
                json!({"address": operator(i).address().bech32(), "coins": "1000000000uverd"}),
            );
        }
        let gentxs: Vec<String> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| gentx(i as u8, k))
            .collect();
        let mut params = json!({"committee_size": 4, "attestation_window_blocks": window,
                                "commit_blocks": (window / 2).saturating_sub(1).max(3),
                                "max_jobs_per_block": 4});
        for (k, v) in extra.as_object().expect("object") {
            params[k] = v.clone();
        }
        let app_state = json!({
            "app": {"params": {"max_vote_extension_bytes": 8192}},
            "bank": {"balances": balances},
            "staking": {"gentxs": gentxs},
            "inference": {"params": params},
        });
        let req = RequestInitChain {
            time: Some(time(0)),
            chain_id: CHAIN.into(),
            consensus_params: Some(ConsensusParams {
                abci: Some(AbciParams {
                    vote_extensions_enable_height: 1,
                }),
                ..Default::default()
            }),
            validators: keys
                .iter()
                .map(|k| ValidatorUpdate {
                    pub_key: Some(PublicKey {
                        sum: Some(Sum::Ed25519(k.verification_key().to_bytes().to_vec())),
                    }),
                    power: POWER,
                })
                .collect(),
            app_state_bytes: app_state.to_string().into_bytes().into(),
            initial_height: 1,
        };
        let nodes: Vec<Node> = keys
            .into_iter()
            .zip(behaviours)
            .enumerate()
            .map(|(i, (key, b))| {
                let dir = tempfile::tempdir().expect("tempdir");
                let mut attestor = attestor_for(&key, i as u8);
                if *b == Behaviour::Copier {
                    attestor = attestor.with_fault(AttestorFault::Copy);
                }
                let app = VerdictApp::new(Store::open(dir.path()).expect("open"))
                    .with_invariant_checks(true)
                    .with_attestor(attestor);
                Node {
                    dir,
                    app,
                    key,
                    behaviour: *b,
                }
            })
            .collect();
        let resps: Vec<_> = nodes
            .iter()
            .map(|n| n.app.init_chain(req.clone()))
            .collect();
        assert!(resps.windows(2).all(|w| w[0].app_hash == w[1].app_hash));
        assert_eq!(
            resps[0].validators.len(),
            nodes.len(),
            "gentxs make the set"
        );
        let active = nodes.iter().map(|n| (n.addr(), POWER)).collect();
        let fed = vec![BTreeSet::new(); nodes.len()];
        let mut net = Net {
            nodes,
            last: None,
            height: 0,
            active,
            pending: vec![],
            fed,
            drop: BTreeSet::new(),
            user_seq: 0,
        };
        net.run_height(vec![]);
        net
    }

    fn query(&self, method: &str, req: Value) -> Value {
        let r = self.nodes[0].app.query(RequestQuery {
            path: format!("/verdict.inference.v1.Query/{method}"),
            data: req.to_string().into_bytes().into(),
            height: 0,
            prove: false,
        });
        assert_eq!(r.code, 0, "{}", r.log);
        serde_json::from_slice(&r.value).expect("json")
    }

    fn job(&self, id: u64) -> Value {
        self.query("Job", json!({ "id": id }))
    }

    fn balance(&self, addr: &str) -> u128 {
        use cosmrs::proto::cosmos::bank::v1beta1::{QueryBalanceRequest, QueryBalanceResponse};
        let r = self.nodes[0].app.query(RequestQuery {
            path: "/cosmos.bank.v1beta1.Query/Balance".into(),
            data: QueryBalanceRequest {
                address: addr.into(),
                denom: "uverd".into(),
            }
            .encode_to_vec()
            .into(),
            height: 0,
            prove: false,
        });
        let b = QueryBalanceResponse::decode(r.value.as_ref()).expect("decode");
        b.balance.map_or(0, |c| c.amount.parse().expect("amount"))
    }

    fn user_tx(&mut self, msgs: Vec<cosmrs::Any>) -> Vec<u8> {
        let spec = TxSpec {
            msgs,
            memo: String::new(),
            timeout_height: 0,
            fee: vec![Coin::new(10_000, "uverd")],
            gas_limit: 400_000,
        };
        let tx = sign_tx(&spec, &user(), CHAIN, 1, self.user_seq);
        self.user_seq += 1;
        tx
    }

    /// What each node's sidecar would answer for `job`.
    fn feed(&mut self) {
        if self.height == 0 {
            return;
        }
        let live: Vec<Value> = self
            .query("Jobs", json!({}))
            .as_array()
            .expect("list")
            .iter()
            .filter(|j| {
                !matches!(
                    j["status"].as_str(),
                    Some("completed" | "failed" | "expired")
                )
            })
            .cloned()
            .collect();
        for (i, n) in self.nodes.iter().enumerate() {
            let Some(att) = n.app.attestor() else {
                continue;
            };
            for j in &live {
                let id = j["id"].as_u64().expect("id");
                let member = j["committee"]
                    .as_array()
                    .expect("committee")
                    .iter()
                    .any(|m| m["address"] == n.hex());
                if !member
                    || self.fed[i].contains(&id)
                    || matches!(n.behaviour, Behaviour::Silent | Behaviour::Copier)
                {
                    continue;
                }
                // A slow sidecar finishes only after the commit phase closed.
                if n.behaviour == Behaviour::Slow
                    && matches!(j["status"].as_str(), Some("pending" | "committed"))
                {
                    continue;
                }
                let mut digest: Vec<i64> = (0..8).map(|k| id as i64 * 100 + k).collect();
                if n.behaviour == Behaviour::Wrong {
                    digest[3] += 1000;
                }
                // A slow node lies: it reports 1 ms (the chain never asks).
                let latency = if n.behaviour == Behaviour::Slow {
                    1
                } else {
                    12
                };
                att.insert(id, digest, latency);
                self.fed[i].insert(id);
            }
        }
    }

    /// Node i's precommit of `block` at height h, with its vote extension.
    fn vote(&self, i: usize, h: i64, block: &[Vec<u8>]) -> ExtendedVoteInfo {
        let n = &self.nodes[i];
        let mut ext = n
            .app
            .extend_vote(RequestExtendVote {
                height: h,
                time: Some(time(h)),
                txs: block.iter().cloned().map(Into::into).collect(),
                ..Default::default()
            })
            .vote_extension
            .to_vec();
        if n.behaviour == Behaviour::BadReveal {
            let mut ve = VoteExtension::decode(ext.as_slice()).expect("own extension");
            for r in &mut ve.reveals {
                r.digest[0] += 1;
            }
            ext = ve.encode_to_vec();
        }
        for m in &self.nodes {
            let st = m
                .app
                .verify_vote_extension(RequestVerifyVoteExtension {
                    validator_address: n.addr().into(),
                    height: h,
                    vote_extension: ext.clone().into(),
                    ..Default::default()
                })
                .status;
            assert_eq!(
                st,
                VerifyStatus::Accept as i32,
                "extension of node {i} at {h}"
            );
        }
        let sig = n.key.sign(&extension_sign_bytes(&ext, h, 0, CHAIN));
        ExtendedVoteInfo {
            validator: Some(Validator {
                address: n.addr().into(),
                power: self.active[&n.addr()],
            }),
            vote_extension: ext.into(),
            extension_signature: sig.to_bytes().to_vec().into(),
            block_id_flag: 2,
        }
    }

    /// One height: every node in CometBFT's set votes; returns node 0's response.
    fn run_height(&mut self, txs: Vec<Vec<u8>>) -> ResponseFinalizeBlock {
        self.feed();
        let h = self.height + 1;
        let voters: Vec<usize> = (0..self.nodes.len())
            .filter(|i| self.active.contains_key(&self.nodes[*i].addr()))
            .collect();
        let proposer = voters[h as usize % voters.len()];
        let mut local = self.last.clone();
        if let Some(c) = &mut local {
            c.votes.retain(|v| {
                !self
                    .drop
                    .contains(&v.validator.as_ref().expect("validator").address.to_vec())
            });
        }
        let block: Vec<Vec<u8>> = self.nodes[proposer]
            .app
            .prepare_proposal(RequestPrepareProposal {
                max_tx_bytes: 1 << 20,
                txs: txs.into_iter().map(Into::into).collect(),
                local_last_commit: local,
                height: h,
                time: Some(time(h)),
                proposer_address: self.nodes[proposer].addr().into(),
                ..Default::default()
            })
            .txs
            .into_iter()
            .map(|t| t.to_vec())
            .collect();
        let plain = self.last.as_ref().map(|c| CommitInfo {
            round: c.round,
            votes: c
                .votes
                .iter()
                .map(|v| VoteInfo {
                    validator: v.validator.clone(),
                    block_id_flag: v.block_id_flag,
                })
                .collect(),
        });
        for n in &self.nodes {
            let st = n.app.process_proposal(RequestProcessProposal {
                txs: block.iter().cloned().map(Into::into).collect(),
                proposed_last_commit: plain.clone(),
                height: h,
                time: Some(time(h)),
                proposer_address: self.nodes[proposer].addr().into(),
                ..Default::default()
            });
            assert_eq!(st.status, ProposalStatus::Accept as i32, "proposal at {h}");
        }
        let votes: Vec<ExtendedVoteInfo> =
            voters.iter().map(|i| self.vote(*i, h, &block)).collect();
        let resps: Vec<ResponseFinalizeBlock> = self
            .nodes
            .iter()
            .map(|n| {
                n.app.finalize_block(RequestFinalizeBlock {
                    txs: block.iter().cloned().map(Into::into).collect(),
                    decided_last_commit: plain.clone(),
                    hash: vec![h as u8; 32].into(),
                    height: h,
                    time: Some(time(h)),
                    proposer_address: self.nodes[proposer].addr().into(),
                    ..Default::default()
                })
            })
            .collect();
        assert!(
            resps.windows(2).all(|w| w[0].app_hash == w[1].app_hash),
            "app hash differs at {h}"
        );
        for n in &self.nodes {
            n.app.commit();
        }
        // CometBFT applies updates two heights later.
        self.pending
            .push((h + 2, resps[0].validator_updates.clone()));
        let due: Vec<_> = self
            .pending
            .iter()
            .filter(|(at, _)| *at == h + 1)
            .cloned()
            .collect();
        for (_, ups) in due {
            for u in ups {
                let Some(Sum::Ed25519(pk)) = u.pub_key.and_then(|k| k.sum) else {
                    continue;
                };
                let a = tendermint_address(&pk);
                if u.power == 0 {
                    self.active.remove(&a);
                } else {
                    self.active.insert(a, u.power);
                }
            }
        }
        self.last = Some(ExtendedCommitInfo { round: 0, votes });
        self.height = h;
        resps.into_iter().next().expect("node 0")
    }

    fn register(&mut self) -> Vec<u8> {
        let m = pb::MsgRegisterModel {
            owner: user().address().bech32(),
            model_id: MODEL.into(),
            name: "mlp".into(),
            inputs: vec![pb::TensorSpec {
                name: "x".into(),
                dtype: "float32".into(),
                shape: vec![-1, 2],
            }],
            outputs: vec![pb::TensorSpec {
                name: "y".into(),
                dtype: "float32".into(),
                shape: vec![-1, 8],
            }],
            tolerance: "0.001".into(),
            max_output_len: 16,
            ..Default::default()
        };
        self.user_tx(vec![cosmrs::Any {
            type_url: pb::MSG_REGISTER_MODEL_URL.into(),
            value: m.encode_to_vec(),
        }])
    }

    fn submit_msg(data: Vec<u8>, shape: Vec<i64>, fee: u128) -> cosmrs::Any {
        cosmrs::Any {
            type_url: pb::MSG_SUBMIT_JOB_URL.into(),
            value: pb::MsgSubmitJob {
                requester: user().address().bech32(),
                model_id: MODEL.into(),
                inputs: vec![pb::Tensor {
                    name: "x".into(),
                    dtype: "float32".into(),
                    shape,
                    data,
                }],
                max_latency_ms: 2000,
                fee: Some(pb::Coin {
                    denom: "uverd".into(),
                    amount: fee.to_string(),
                }),
                spec_hash: String::new(),
            }
            .encode_to_vec(),
        }
    }

    fn submit(&mut self) -> Vec<u8> {
        self.user_tx(vec![Self::submit_msg(vec![0; 8], vec![1, 2], 40_000)])
    }

    /// Registers the model, submits one job, runs until it settles; returns the
    /// job and the response of its settling block.
    fn one_job(&mut self) -> (Value, ResponseFinalizeBlock) {
        let reg = self.register();
        let r = self.run_height(vec![reg]);
        assert!(
            r.tx_results.iter().all(|t| t.code == 0),
            "{:?}",
            r.tx_results
        );
        let sub = self.submit();
        let r = self.run_height(vec![sub]);
        assert!(
            r.tx_results.iter().all(|t| t.code == 0),
            "{:?}",
            r.tx_results
        );
        for _ in 0..30 {
            let r = self.run_height(vec![]);
            let j = self.job(1);
            if matches!(
                j["status"].as_str(),
                Some("completed" | "failed" | "expired")
            ) {
                assert_eq!(j["result"]["finalized_height"], json!(self.height));
                return (j, r);
            }
        }
        panic!("job 1 did not settle: {}", self.job(1));
    }
}

fn events<'a>(r: &'a ResponseFinalizeBlock, kind: &str) -> Vec<BTreeMap<String, String>> {
    let _: &'a () = &();
    r.events
        .iter()
        .filter(|e| e.r#type == kind)
        .map(|e| {
            e.attributes
                .iter()
                .map(|a| (a.key.clone(), a.value.clone()))
                .collect()
        })
        .collect()
}

use Behaviour::*;

#[test]
fn an_honest_committee_completes_the_job_pays_it_and_slashes_nobody() {
    let mut net = Net::new(&[Honest; 4], 8);
    let ops: Vec<u128> = (0..4)
        .map(|i| net.balance(&operator(i).address().bech32()))
        .collect();
    let (job, r) = net.one_job();
    assert_eq!(job["status"], "completed");
    // Committee drawn in block H+1 (from its beacon), commit in VE(H+2)
    // (recorded at H+3, which closes the commit phase), reveal in VE(H+3) — the
    // extension of the very block that closes it —, settled in block H+4.
    let submitted = job["submitted_height"].as_u64().expect("h");
    assert_eq!(
        job["result"]["finalized_height"].as_u64(),
        Some(submitted + 4)
    );
    assert_eq!(job["result"]["agreeing"].as_array().map(Vec::len), Some(4));
    assert_eq!(
        job["result"]["digest"],
        json!([100, 101, 102, 103, 104, 105, 106, 107])
    );
    assert_eq!(job["output"][0], "0.1");
    // Addresses read as addresses, not byte arrays.
    assert_eq!(job["requester"], json!(user().address().bech32()));
    let op = job["committee"][0]["operator"].as_str().expect("a string");
    assert!(op.starts_with("verdictvaloper1"), "{op}");
    // Inputs live apart from the job and go when it settles.
    assert!(job["inputs"].is_null(), "{}", job["inputs"]);
    assert!(events(&r, "slash").is_empty());
    assert_eq!(events(&r, "inference_job_result").len(), 1);
    // 40 000 uverd split by equal power, paid through distribution: 5% commission
    // to each operator, the rest to its (self-)delegation; nothing lands in the
    // operators' accounts until they withdraw.
    use cosmrs::proto::cosmos::distribution::v1beta1 as dpb;
    let dec = |s: &str| -> u128 { s.parse::<u128>().expect("dec") / 1_000_000_000_000_000_000 };
    for i in 0..4u8 {
        let op = operator(i).address();
        assert_eq!(net.balance(&op.bech32()), ops[i as usize], "operator {i}");
        let q = |path: &str, req: Vec<u8>| {
            let r = net.nodes[0].app.query(RequestQuery {
                path: path.into(),
                data: req.into(),
                height: 0,
                prove: false,
            });
            assert_eq!(r.code, 0, "{}", r.log);
            r.value.to_vec()
        };
        let rewards = dpb::QueryDelegationRewardsResponse::decode(
            q(
                "/cosmos.distribution.v1beta1.Query/DelegationRewards",
                dpb::QueryDelegationRewardsRequest {
                    delegator_address: op.bech32(),
                    validator_address: op.valoper(),
                }
                .encode_to_vec(),
            )
            .as_slice(),
        )
        .expect("decode");
        let commission = dpb::QueryValidatorCommissionResponse::decode(
            q(
                "/cosmos.distribution.v1beta1.Query/ValidatorCommission",
                dpb::QueryValidatorCommissionRequest {
                    validator_address: op.valoper(),
                }
                .encode_to_vec(),
            )
            .as_slice(),
        )
        .expect("decode");
        let r: u128 = rewards.rewards.iter().map(|c| dec(&c.amount)).sum();
        let c: u128 = commission
            .commission
            .map(|c| c.commission.iter().map(|x| dec(&x.amount)).sum())
            .unwrap_or(0);
        // Job: 10 000 → 500 commission + 9 500. The two 10 000 uverd tx fees
        // (register, submit) are shared too: 5 000 → 250 + 4 750.
        assert_eq!(c, 750, "operator {i} commission");
        assert!((14_249..=14_250).contains(&r), "operator {i} rewards {r}");
    }
    assert!(net
        .query("Faults", json!({}))
        .as_array()
        .expect("list")
        .is_empty());
}

#[test]
fn a_wrong_output_is_slashed_and_jailed_in_the_block_that_settles_the_job() {
    let mut net = Net::new(&[Honest, Wrong, Honest, Honest], 8);
    let (job, r) = net.one_job();
    assert_eq!(job["status"], "completed");
    assert_eq!(job["result"]["agreeing_power"], 300);
    let bad = net.nodes[1].hex();
    let slashes = events(&r, "slash");
    assert_eq!(slashes.len(), 1, "{slashes:?}");
    assert_eq!(slashes[0]["address"], bad);
    assert_eq!(slashes[0]["reason"], "inference_wrong_output");
    assert_eq!(slashes[0]["job_id"], "1");
    // 1% of 100 VERD burned, and the power update leaves in the same response.
    assert_eq!(slashes[0]["burned_coins"], "1000000");
    let zero: Vec<_> = r
        .validator_updates
        .iter()
        .filter(|u| u.power == 0)
        .collect();
    assert_eq!(zero.len(), 1);
    // The chain goes on with three validators.
    for _ in 0..4 {
        net.run_height(vec![]);
    }
    assert_eq!(net.active.len(), 3);
}

#[test]
fn a_reveal_that_does_not_open_its_commitment_is_slashed() {
    let mut net = Net::new(&[Honest, Honest, BadReveal, Honest], 8);
    let (job, r) = net.one_job();
    assert_eq!(job["status"], "completed");
    let slashes = events(&r, "slash");
    assert_eq!(slashes.len(), 1, "{slashes:?}");
    assert_eq!(slashes[0]["address"], net.nodes[2].hex());
    assert_eq!(slashes[0]["reason"], "inference_bad_reveal");
}

/// threats.md §3: the SLA is judged from consensus data. A member whose
/// commitment is not on chain when the commit phase closes (here: it answers
/// late and reports 1 ms) is late — a missed seat, never a slash, never paid —
/// and the job does not wait for it.
#[test]
fn a_late_member_is_late_whatever_it_reports_and_never_slashed_for_it() {
    let mut net = Net::new(&[Honest, Honest, Honest, Slow], 8);
    let ops: Vec<u128> = (0..4)
        .map(|i| net.balance(&operator(i).address().bech32()))
        .collect();
    let (job, r) = net.one_job();
    assert_eq!(job["status"], "completed");
    let submitted = job["submitted_height"].as_u64().expect("h");
    assert_eq!(
        job["result"]["finalized_height"].as_u64(),
        Some(submitted + 4),
        "the slow member does not delay the result"
    );
    assert_eq!(job["result"]["agreeing"].as_array().map(Vec::len), Some(3));
    assert_eq!(job["result"]["late"], json!([net.nodes[3].hex()]));
    assert!(events(&r, "slash").is_empty());
    // Latency measured by the chain: commitments recorded 3 blocks (3 s of BFT
    // time) after the job's block.
    assert_eq!(job["result"]["latency_ms"], json!(3000));
    // Paid: the three on-time members; not the late one.
    let after: Vec<u128> = (0..4)
        .map(|i| net.balance(&operator(i).address().bech32()))
        .collect();
    assert_eq!(ops[3], after[3], "the late member earns nothing");
    let missed = net.query("Faults", json!({}));
    assert!(missed.as_array().expect("list").is_empty(), "{missed}");
}

/// A lazy copier (verdictd `--fault copy`) never has an answer before the
/// commit phase closes, and after it no commitment is accepted: it is late on
/// every job, never paid, never in the result.
#[test]
fn a_copier_cannot_commit_to_an_answer_it_copied() {
    let mut net = Net::new(&[Honest, Honest, Honest, Copier], 8);
    let before = net.balance(&operator(3).address().bech32());
    let (job, r) = net.one_job();
    assert_eq!(job["status"], "completed");
    assert_eq!(job["result"]["late"], json!([net.nodes[3].hex()]));
    assert_eq!(job["result"]["agreeing"].as_array().map(Vec::len), Some(3));
    assert!(events(&r, "slash").is_empty());
    assert_eq!(net.balance(&operator(3).address().bech32()), before);
    // The copier did see the public answer: its cache holds it, to no avail.
    for _ in 0..3 {
        net.run_height(vec![]);
    }
    assert_eq!(net.job(1)["result"]["late"], json!([net.nodes[3].hex()]));
}

/// Without a quorum the job fails: the fee comes back but for the base fee
/// (threats.md §9: a job nobody serves is not free), nobody is slashed.
#[test]
fn without_a_quorum_the_fee_is_refunded_but_the_base_fee_and_nobody_is_slashed() {
    let mut net = Net::new(&[Honest, Honest, Silent, Silent], 5);
    let before = net.balance(&user().address().bech32());
    let (job, r) = net.one_job();
    assert_eq!(job["status"], "failed");
    assert_eq!(job["result"]["missing"].as_array().map(Vec::len), Some(2));
    assert!(events(&r, "slash").is_empty());
    // The two tx fees, the model registration fee (1 VERD, to the community
    // pool) and the job's base fee (200) left the requester; the rest of the
    // job fee came back.
    assert_eq!(
        before - net.balance(&user().address().bech32()),
        20_000 + 1_000_000 + 200
    );
    assert_eq!(net.balance(&verdict_inference::state::escrow().bech32()), 0);
}

#[test]
fn a_proposer_dropping_a_quarter_of_the_extensions_causes_no_slash() {
    let mut net = Net::new(&[Honest; 4], 6);
    net.drop.insert(net.nodes[3].addr());
    let (job, r) = net.one_job();
    // Three of four (75% > 2/3) agree; the fourth is missing, not faulty.
    assert_eq!(job["status"], "completed");
    assert_eq!(job["result"]["missing"], json!([net.nodes[3].hex()]));
    assert!(events(&r, "slash").is_empty());
    assert!(net
        .query("Faults", json!({}))
        .as_array()
        .expect("list")
        .is_empty());
}

#[test]
fn replaying_the_settling_block_after_a_crash_gives_the_same_app_hash() {
    let mut net = Net::new(&[Honest, Wrong, Honest, Honest], 8);
    let reg = net.register();
    net.run_height(vec![reg]);
    let sub = net.submit();
    net.run_height(vec![sub]);
    net.run_height(vec![]);
    net.run_height(vec![]);
    net.run_height(vec![]);
    // The next block settles job 1: decide it on node 2, crash before Commit.
    let h = net.height + 1;
    let block: Vec<Vec<u8>> = net.nodes[0]
        .app
        .prepare_proposal(RequestPrepareProposal {
            max_tx_bytes: 1 << 20,
            local_last_commit: net.last.clone(),
            height: h,
            time: Some(time(h)),
            proposer_address: net.nodes[0].addr().into(),
            ..Default::default()
        })
        .txs
        .into_iter()
        .map(|t| t.to_vec())
        .collect();
    let req = RequestFinalizeBlock {
        txs: block.iter().cloned().map(Into::into).collect(),
        decided_last_commit: net.last.as_ref().map(|c| CommitInfo {
            round: c.round,
            votes: c
                .votes
                .iter()
                .map(|v| VoteInfo {
                    validator: v.validator.clone(),
                    block_id_flag: v.block_id_flag,
                })
                .collect(),
        }),
        hash: vec![h as u8; 32].into(),
        height: h,
        time: Some(time(h)),
        proposer_address: net.nodes[0].addr().into(),
        ..Default::default()
    };
    let first = net.nodes[2].app.finalize_block(req.clone());
    assert!(
        !events(&first, "slash").is_empty(),
        "this block settles the job"
    );
    let key = net.nodes[2].key.clone();
    let placeholder = tempfile::tempdir().expect("tempdir");
    drop(std::mem::replace(
        &mut net.nodes[2].app,
        VerdictApp::new(Store::open(placeholder.path()).expect("open")),
    ));
    net.nodes[2].app = VerdictApp::new(Store::open(net.nodes[2].dir.path()).expect("reopen"))
        .with_invariant_checks(true)
        .with_attestor(attestor_for(&key, 2));
    let replay = net.nodes[2].app.finalize_block(req.clone());
    assert_eq!(first.app_hash, replay.app_hash);
    for i in [0usize, 1, 3] {
        assert_eq!(
            net.nodes[i].app.finalize_block(req.clone()).app_hash,
            first.app_hash
        );
    }
}

#[test]
fn bad_jobs_are_refused_with_clear_codes_and_change_nothing() {
    let mut net = Net::new(&[Honest; 4], 8);
    let reg = net.register();
    net.run_height(vec![reg]);
    let mut unknown = pb::MsgSubmitJob::decode(
        Net::submit_msg(vec![0; 8], vec![1, 2], 40_000)
            .value
            .as_slice(),
    )
    .expect("decode");
    unknown.model_id = "ab".repeat(32);
    let mut tight = unknown.clone();
    tight.model_id = MODEL.into();
    tight.max_latency_ms = 1;
    let cases = [
        (
            Net::submit_msg(vec![0; 8], vec![1, 2], 10),
            13,
            "below the minimum job fee",
        ),
        (
            Net::submit_msg(vec![0; 12], vec![1, 3], 40_000),
            18,
            "does not fit",
        ),
        (
            Net::submit_msg(vec![0; 7], vec![1, 2], 40_000),
            18,
            "needs 8 bytes",
        ),
        (
            Net::submit_msg(vec![0; 8], vec![5_000, 2], 40_000),
            21,
            "above the cap",
        ),
        (
            cosmrs::Any {
                type_url: pb::MSG_SUBMIT_JOB_URL.into(),
                value: unknown.encode_to_vec(),
            },
            38,
            "unknown model",
        ),
        // An SLA nobody can meet would let a requester slash the committee.
        (
            cosmrs::Any {
                type_url: pb::MSG_SUBMIT_JOB_URL.into(),
                value: tight.encode_to_vec(),
            },
            18,
            "outside the chain's range",
        ),
    ];
    let escrow = verdict_inference::state::escrow().bech32();
    let txs: Vec<Vec<u8>> = cases
        .iter()
        .map(|(m, _, _)| net.user_tx(vec![m.clone()]))
        .collect();
    let r = net.run_height(txs);
    // tx[0] is the injected extensions.
    for (i, (_, code, text)) in cases.iter().enumerate() {
        let res = &r.tx_results[i + 1];
        assert_eq!(res.code, *code, "case {i}: {}", res.log);
        assert!(res.log.contains(text), "case {i}: {}", res.log);
    }
    assert!(net
        .query("Jobs", json!({}))
        .as_array()
        .expect("list")
        .is_empty());
    assert_eq!(net.balance(&escrow), 0);
    // A junk JSON query is a clear error too.
    let q = net.nodes[0].app.query(RequestQuery {
        path: "/verdict.inference.v1.Query/Job".into(),
        data: b"{not json".to_vec().into(),
        height: 0,
        prove: false,
    });
    assert_eq!(q.code, 18, "{}", q.log);
    let _ = RequestCheckTx::default();
}

#[test]
fn forged_oversized_or_foreign_extensions_are_rejected_by_verification() {
    let mut net = Net::new(&[Honest; 4], 8);
    let reg = net.register();
    net.run_height(vec![reg]);
    let sub = net.submit();
    net.run_height(vec![sub]);
    let h = net.height + 1;
    let verify = |net: &Net, ve: &VoteExtension, who: Vec<u8>| {
        net.nodes[0]
            .app
            .verify_vote_extension(RequestVerifyVoteExtension {
                validator_address: who.into(),
                height: h,
                vote_extension: ve.encode_to_vec().into(),
                ..Default::default()
            })
            .status
    };
    let reveal = |job_id| verdict_proto::app::v1::JobReveal {
        job_id,
        digest: vec![1, 2],
        salt: vec![0; 16],
    };
    let me = net.nodes[1].addr();
    let ok = VoteExtension {
        version: 1,
        reveals: vec![reveal(1)],
        ..Default::default()
    };
    // Job 1 is in its commit phase: a reveal now would publish an answer others
    // could still commit to.
    assert_eq!(verify(&net, &ok, me.clone()), VerifyStatus::Reject as i32);
    let unknown_job = VoteExtension {
        version: 1,
        reveals: vec![reveal(99)],
        ..Default::default()
    };
    assert_eq!(
        verify(&net, &unknown_job, me.clone()),
        VerifyStatus::Reject as i32
    );
    // Not on the committee (an address outside the set).
    assert_eq!(verify(&net, &ok, vec![9; 20]), VerifyStatus::Reject as i32);
    let unsorted = VoteExtension {
        version: 1,
        reveals: vec![reveal(1), reveal(1)],
        ..Default::default()
    };
    assert_eq!(
        verify(&net, &unsorted, me.clone()),
        VerifyStatus::Reject as i32
    );
    let big = VoteExtension {
        version: 1,
        reveals: vec![verdict_proto::app::v1::JobReveal {
            job_id: 1,
            digest: vec![i64::MAX; 300],
            salt: vec![0; 16],
        }],
        ..Default::default()
    };
    assert_eq!(verify(&net, &big, me.clone()), VerifyStatus::Reject as i32);
    let short_salt = VoteExtension {
        version: 1,
        reveals: vec![verdict_proto::app::v1::JobReveal {
            job_id: 1,
            digest: vec![1],
            salt: vec![0; 3],
        }],
        ..Default::default()
    };
    assert_eq!(verify(&net, &short_salt, me), VerifyStatus::Reject as i32);
    // The job still settles normally.
    for _ in 0..5 {
        net.run_height(vec![]);
    }
    assert_eq!(net.job(1)["status"], "completed");
}

/// threats.md §8: being jailed before a job settles no longer excuses a member
/// that answered: its wrong reveal on job 2 is judged and recorded although the
/// wrong answer of job 1 jailed it first. Only a silent member out of the set
/// is excused (it may have been unable to sign extensions).
#[test]
fn a_jail_after_the_fact_never_erases_a_fault() {
    let mut net = Net::new(&[Honest, Wrong, Honest, Honest], 8);
    let reg = net.register();
    net.run_height(vec![reg]);
    let a = net.submit();
    net.run_height(vec![a]);
    let b = net.submit();
    net.run_height(vec![b]);
    for _ in 0..12 {
        net.run_height(vec![]);
    }
    let (j1, j2) = (net.job(1), net.job(2));
    assert_eq!(j1["status"], "completed");
    assert_eq!(j1["result"]["faults"][0]["address"], net.nodes[1].hex());
    // Node 1 was jailed when job 1 settled, before job 2 did; it had revealed
    // for job 2 already: judged, not excused.
    assert_eq!(j2["status"], "completed", "{j2}");
    assert_eq!(j2["result"]["excused"], json!([]));
    assert_eq!(j2["result"]["committee_power"], 400);
    assert_eq!(j2["result"]["faults"][0]["address"], net.nodes[1].hex());
    assert_eq!(
        net.query("Faults", json!({})).as_array().map(Vec::len),
        Some(2)
    );
}

#[test]
fn a_member_that_keeps_missing_its_seats_is_slashed_and_jailed_like_downtime() {
    let mut net = Net::with_params(
        &[Honest, Honest, Honest, Silent],
        5,
        json!({"missed_window": 3, "min_attested_fraction": "0.5"}),
    );
    let reg = net.register();
    net.run_height(vec![reg]);
    let mut slash = None;
    for _ in 0..4 {
        let sub = net.submit();
        net.run_height(vec![sub]);
        for _ in 0..6 {
            let r = net.run_height(vec![]);
            if let Some(e) = events(&r, "slash").into_iter().next() {
                slash = Some((net.height, e));
            }
        }
    }
    // Three seats, at most one may be missed: the third miss slashes.
    let (_, e) = slash.expect("the silent validator is slashed");
    assert_eq!(e["address"], net.nodes[3].hex());
    assert_eq!(e["reason"], "inference_missed_attestations");
    assert!(
        !net.active.contains_key(&net.nodes[3].addr()),
        "jailed, out of the set"
    );
    // Every job still completed: three of four agree.
    for id in 1..=4 {
        assert_eq!(net.job(id)["status"], "completed", "job {id}");
    }
}

/// threats.md §2 / issue 13: three sidecars of four down. Each of the three
/// misses every seat, the liveness window fills, and the missed-attestation
/// slashes come — but within any `fault_cap_window_blocks` inference faults
/// jail at most a third of the bonded power, the rest are recorded as capped,
/// and the chain (here: every node agreeing on every block with > 2/3 of the
/// power voting) keeps going. With every sidecar down nobody commits: a job
/// nobody could run costs nothing (or a squatter with jobs for a model nobody
/// serves could get honest validators jailed).
#[test]
fn sidecars_down_never_jail_more_than_a_third_or_stop_the_chain() {
    let mut all = Net::with_params(
        &[Silent; 4],
        5,
        json!({"missed_window": 2, "min_attested_fraction": "0.5"}),
    );
    let reg = all.register();
    all.run_height(vec![reg]);
    for _ in 0..6 {
        let sub = all.submit();
        let mut rs = vec![all.run_height(vec![sub])];
        for _ in 0..5 {
            rs.push(all.run_height(vec![]));
        }
        assert!(rs.iter().all(|r| events(r, "slash").is_empty()));
    }
    assert_eq!(all.active.len(), 4);
    let mut net = Net::with_params(
        &[Honest, Silent, Silent, Silent],
        5,
        json!({"missed_window": 2, "min_attested_fraction": "0.5"}),
    );
    let reg = net.register();
    net.run_height(vec![reg]);
    let mut capped = 0;
    let mut slashed = 0;
    for _ in 0..12 {
        let sub = net.submit();
        let mut rs = vec![net.run_height(vec![sub])];
        for _ in 0..5 {
            rs.push(net.run_height(vec![]));
        }
        for r in &rs {
            for e in events(r, "slash") {
                if e.get("capped").map(String::as_str) == Some("true") {
                    capped += 1;
                } else {
                    slashed += 1;
                }
            }
        }
        assert!(net.active.len() >= 3, "{} of 4 left", net.active.len());
    }
    assert_eq!(slashed, 1, "one validator (a quarter of the power) jailed");
    assert!(capped > 0, "the others' faults were capped");
    for _ in 0..5 {
        net.run_height(vec![]);
    }
    assert!(net.active.len() >= 3);
}

/// threats.md §9 (state growth): a settled job stays `job_retention_blocks`
/// after settlement, then goes with its requester index entry; the query then
/// says it was pruned (not that it never existed).
#[test]
fn settled_jobs_are_pruned_after_their_retention_and_the_query_says_so() {
    let mut net = Net::with_params(&[Honest; 4], 8, json!({"job_retention_blocks": 3}));
    let (job, _) = net.one_job();
    assert_eq!(job["status"], "completed");
    let settled = job["result"]["finalized_height"].as_u64().expect("h");
    while (net.height as u64) < settled + 3 {
        net.run_height(vec![]);
        assert_eq!(net.job(1)["id"], 1, "kept during its retention");
    }
    net.run_height(vec![]);
    let r = net.nodes[0].app.query(RequestQuery {
        path: "/verdict.inference.v1.Query/Job".into(),
        data: json!({"id": 1}).to_string().into_bytes().into(),
        height: 0,
        prove: false,
    });
    assert_ne!(r.code, 0);
    assert!(r.log.contains("job 1 was settled and pruned"), "{}", r.log);
    let r = net.nodes[0].app.query(RequestQuery {
        path: "/verdict.inference.v1.Query/Job".into(),
        data: json!({"id": 9}).to_string().into_bytes().into(),
        height: 0,
        prove: false,
    });
    assert!(r.log.contains("job 9 does not exist"), "{}", r.log);
    let listed = net.query("Jobs", json!({"requester": user().address().bech32()}));
    assert_eq!(listed, json!([]));
}

/// threats.md §9 (slot squatting): job slots are priced. A block whose slots
/// are all taken raises the job fee floor 12.5 %, so the next cheap job is
/// refused; blocks at most half full bring it back down to `min_job_fee`. And no
/// source takes every slot: local jobs get at most `max_jobs_per_source`.
#[test]
fn full_blocks_raise_the_job_fee_floor_and_no_source_takes_every_slot() {
    let mut net = Net::with_params(
        &[Honest; 4],
        8,
        json!({"max_jobs_per_block": 4, "max_jobs_per_source": 3, "min_job_fee": "1000"}),
    );
    let reg = net.register();
    net.run_height(vec![reg]);
    let floor = |net: &Net| {
        net.query("Params", json!({}))["job_fee_floor"]
            .as_str()
            .expect("floor")
            .to_string()
    };
    assert_eq!(floor(&net), "1000");
    // Four local jobs in one block: the fourth is over the local share.
    let txs: Vec<Vec<u8>> = (0..4)
        .map(|_| net.user_tx(vec![Net::submit_msg(vec![0; 8], vec![1, 2], 1000)]))
        .collect();
    let r = net.run_height(txs);
    let codes: Vec<u32> = r.tx_results[1..].iter().map(|t| t.code).collect();
    assert_eq!(codes[..3], [0, 0, 0], "{:?}", r.tx_results);
    assert_ne!(codes[3], 0);
    assert!(
        r.tx_results[4].log.contains("local share"),
        "{}",
        r.tx_results[4].log
    );
    // The local share was all taken: demand met supply, the floor rises.
    assert_eq!(floor(&net), "1125");
    // Three of four slots: not full, floor unchanged. Fill one block.
    let full_cfg = Net::with_params(
        &[Honest; 4],
        8,
        json!({"max_jobs_per_block": 3, "max_jobs_per_source": 3, "min_job_fee": "1000"}),
    );
    let mut net = full_cfg;
    let reg = net.register();
    net.run_height(vec![reg]);
    let txs: Vec<Vec<u8>> = (0..3)
        .map(|_| net.user_tx(vec![Net::submit_msg(vec![0; 8], vec![1, 2], 1000)]))
        .collect();
    let r = net.run_height(txs);
    assert!(
        r.tx_results[1..].iter().all(|t| t.code == 0),
        "{:?}",
        r.tx_results
    );
    assert_eq!(floor(&net), "1125");
    let cheap = net.user_tx(vec![Net::submit_msg(vec![0; 8], vec![1, 2], 1000)]);
    let r = net.run_height(vec![cheap]);
    assert_eq!(r.tx_results[1].code, 13, "{}", r.tx_results[1].log);
    assert!(
        r.tx_results[1].log.contains("1125uverd"),
        "{}",
        r.tx_results[1].log
    );
    // An empty block or two and the floor is back at the minimum.
    net.run_height(vec![]);
    assert_eq!(floor(&net), "1000");
}

/// threats.md §9 (model squatting): claiming a model id costs the
/// registration fee (to the community pool); without the funds it is refused
/// and nothing is registered; the model list pages.
#[test]
fn registering_a_model_costs_its_fee_and_the_list_pages() {
    let mut net = Net::with_params(
        &[Honest; 4],
        8,
        json!({"model_registration_fee": "999999999999999"}),
    );
    let reg = net.register();
    let r = net.run_height(vec![reg]);
    assert_ne!(r.tx_results[1].code, 0);
    assert!(
        r.tx_results[1].log.contains("registration fee"),
        "{}",
        r.tx_results[1].log
    );
    assert_eq!(net.query("Models", json!({})), json!([]));
    let mut net = Net::new(&[Honest; 4], 8);
    let before = net.balance(&user().address().bech32());
    let reg = net.register();
    let r = net.run_height(vec![reg]);
    assert_eq!(r.tx_results[1].code, 0, "{}", r.tx_results[1].log);
    assert_eq!(
        before - net.balance(&user().address().bech32()),
        10_000 + 1_000_000
    );
    let page = net.query("Models", json!({"limit": 1}));
    assert_eq!(page.as_array().map(Vec::len), Some(1));
    let next = net.query("Models", json!({"start_after_id": MODEL}));
    assert_eq!(next, json!([]));
}

/// threats.md §5: the proposer that includes a job and the next one cannot
/// steer its committee through which > 2/3 of the extensions they put in tx[0]
/// (nor through tx order or the block hash: none of it enters the beacon). Two
/// nets identical but for node 3's extensions, left out of every block by the
/// proposers of one of them, draw the same sampled committees.
#[test]
fn the_choice_of_extensions_in_tx0_does_not_change_a_committee() {
    let committees = |drop_node3: bool| {
        let mut net = Net::with_params(&[Honest; 4], 8, json!({"committee_size": 2}));
        if drop_node3 {
            net.drop.insert(net.nodes[3].addr());
        }
        let reg = net.register();
        net.run_height(vec![reg]);
        let subs: Vec<Vec<u8>> = (0..3).map(|_| net.submit()).collect();
        net.run_height(subs);
        net.run_height(vec![]);
        (1..=3u64)
            .map(|id| net.job(id)["committee"].clone())
            .collect::<Vec<_>>()
    };
    let all = committees(false);
    assert!(all
        .iter()
        .all(|c| c.as_array().is_some_and(|a| !a.is_empty())));
    assert_eq!(all, committees(true));
}

/// Fault records go after the same retention as settled jobs (the slash
/// events stay in the block results).
#[test]
fn fault_records_are_pruned_after_the_retention() {
    let mut net = Net::with_params(
        &[Honest, Wrong, Honest, Honest],
        8,
        json!({"job_retention_blocks": 3}),
    );
    let (job, _) = net.one_job();
    assert_eq!(job["result"]["faults"][0]["address"], net.nodes[1].hex());
    assert_eq!(
        net.query("Faults", json!({})).as_array().map(Vec::len),
        Some(1)
    );
    for _ in 0..4 {
        net.run_height(vec![]);
    }
    assert_eq!(net.query("Faults", json!({})), json!([]));
}

/// threats.md §9 (model squatting): a requester can pin the spec it wants
/// served (`spec_hash` from `query inference model`); a job naming another spec
/// than the registered one — say, a squatter's — is refused, the right one runs.
#[test]
fn a_job_pinned_to_another_spec_is_refused() {
    let mut net = Net::new(&[Honest; 4], 8);
    let reg = net.register();
    net.run_height(vec![reg]);
    let model = net.query("Model", json!({ "id": MODEL }));
    let have = model["spec_hash"].as_str().expect("spec_hash").to_string();
    assert_eq!(have.len(), 64);
    let pinned = |hash: &str| {
        let mut m = pb::MsgSubmitJob::decode(
            Net::submit_msg(vec![0; 8], vec![1, 2], 40_000)
                .value
                .as_slice(),
        )
        .expect("decode");
        m.spec_hash = hash.into();
        cosmrs::Any {
            type_url: pb::MSG_SUBMIT_JOB_URL.into(),
            value: m.encode_to_vec(),
        }
    };
    let wrong = net.user_tx(vec![pinned(&"0".repeat(64))]);
    let right = net.user_tx(vec![pinned(&have)]);
    let r = net.run_height(vec![wrong, right]);
    assert_ne!(r.tx_results[1].code, 0);
    assert!(
        r.tx_results[1].log.contains("not the pinned"),
        "{}",
        r.tx_results[1].log
    );
    assert_eq!(r.tx_results[2].code, 0, "{}", r.tx_results[2].log);
}
