//! The simulated network: one `VerdictApp` over a temporary `Store` and every
//! validator's node around it — its keys, its sidecar's answers (`feed`), the
//! user's, squatter's and self-jailer's signed txs, and queries of committed
//! state.

use std::collections::{BTreeMap, BTreeSet};

use ed25519_consensus::SigningKey;
use prost::Message;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tendermint_abci::Application;
use tendermint_proto::v0_38::abci::{RequestInitChain, RequestQuery, ValidatorUpdate};
use tendermint_proto::v0_38::crypto::{public_key::Sum, PublicKey};
use tendermint_proto::v0_38::types::{AbciParams, ConsensusParams};
use verdict_app::app::tendermint_address;
use verdict_app::store::{Overlay, StateView, Store};
use verdict_app::txbuild::{sign_tx, AccountKey, TxSpec};
use verdict_app::VerdictApp;
use verdict_attestation::digest::digest_of;
use verdict_attestation::LocalJob;
use verdict_core::coin::Coin;
use verdict_inference::state as inf;
use verdict_proto::inference::v1 as pb;

use super::setup::{
    gentx, key32, model_id, squat_model_id, squatter, time, user, CHAIN, COMMIT_BLOCKS,
    JOBS_PER_BLOCK, MAX_LATENCY_MS, VE_CAP, WINDOW,
};
use crate::model::{answer, reference, Rng, Strategy, Val, OUT_LEN, TOLERANCE_NANO};

pub(super) struct Sim<'a> {
    pub(super) vals: &'a [Val],
    seed: u64,
    pub(super) cons: Vec<[u8; 20]>,
    pub(super) index: BTreeMap<String, usize>,
    pub(super) app: VerdictApp,
    _dir: tempfile::TempDir,
    /// CometBFT's validator set (validator index → power) and pending updates.
    pub(super) active: BTreeMap<usize, i64>,
    pub(super) pending: Vec<(i64, Vec<ValidatorUpdate>)>,
    user_seq: u64,
    squat_seq: u64,
    ops: Vec<AccountKey>,
    /// Each node's local results (its sidecar's answers) and what it was fed.
    pub(super) local: Vec<BTreeMap<u64, LocalJob>>,
    fed: Vec<BTreeSet<u64>>,
    pub(super) per_block: u64,
    /// Validators whose sidecars are down at this block (a correlated
    /// outage): they answer nothing new; what they already had still goes out.
    pub(super) out: BTreeSet<usize>,
    /// The coalition forges only on committees it holds more than 2/3 of
    /// (and answers truly elsewhere, so it is never outvoted and slashed).
    pub(super) rational: bool,
}

impl<'a> Sim<'a> {
    pub(super) fn new(
        vals: &'a [Val],
        seed: u64,
        size: usize,
        missed_window: Option<u64>,
        incident_off: bool,
    ) -> Sim<'a> {
        let n = vals.len();
        let keys: Vec<SigningKey> = (0..n)
            .map(|i| SigningKey::from(key32(b"sim-consensus", seed, i)))
            .collect();
        let ops: Vec<AccountKey> = (0..n)
            .map(|i| AccountKey::from_bytes(&key32(b"sim-operator", seed, i)).expect("op key"))
            .collect();
        let cons: Vec<[u8; 20]> = keys
            .iter()
            .map(|k| {
                tendermint_address(k.verification_key().as_bytes())
                    .try_into()
                    .expect("20 bytes")
            })
            .collect();
        let index: BTreeMap<String, usize> = cons
            .iter()
            .enumerate()
            .map(|(i, a)| (hex::encode_upper(a), i))
            .collect();
        let tokens = |i: usize| u128::from(vals[i].member.power) * 1_000_000;
        let mut balances =
            vec![json!({"address": user().address().bech32(), "coins": "1000000000000000uverd"})];
        for (i, op) in ops.iter().enumerate() {
            balances.push(json!({"address": op.address().bech32(),
                                 "coins": format!("{}uverd", tokens(i) + 1_000_000_000)}));
        }
        balances
            .push(json!({"address": squatter().address().bech32(), "coins": "1000000000000uverd"}));
        let gentxs: Vec<String> = (0..n)
            .map(|i| gentx(i, &ops[i], &keys[i], tokens(i)))
            .collect();
        let mut app_state = json!({
            "app": {"params": {"max_vote_extension_bytes": VE_CAP}},
            "bank": {"balances": balances},
            "staking": {"gentxs": gentxs},
            "inference": {"params": {"max_jobs_per_block": JOBS_PER_BLOCK,
                                     "attestation_window_blocks": WINDOW,
                                     "commit_blocks": COMMIT_BLOCKS,
                                     "committee_size": size}},
        });
        if let Some(w) = missed_window {
            app_state["inference"]["params"]["missed_window"] = json!(w);
        }
        if incident_off {
            app_state["inference"]["params"]["incident_share"] = json!("1");
        }
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
                .enumerate()
                .map(|(i, k)| ValidatorUpdate {
                    pub_key: Some(PublicKey {
                        sum: Some(Sum::Ed25519(k.verification_key().to_bytes().to_vec())),
                    }),
                    power: vals[i].member.power as i64,
                })
                .collect(),
            app_state_bytes: app_state.to_string().into_bytes().into(),
            initial_height: 1,
        };
        let dir = tempfile::tempdir().expect("tempdir");
        let app = VerdictApp::new(Store::open(dir.path()).expect("open store"));
        let r = app.init_chain(req);
        let mut active = BTreeMap::new();
        for u in &r.validators {
            let Some(Sum::Ed25519(pk)) = u.pub_key.as_ref().and_then(|k| k.sum.clone()) else {
                continue;
            };
            let a = hex::encode_upper(tendermint_address(&pk));
            if let Some(&i) = index.get(&a) {
                active.insert(i, u.power);
            }
        }
        assert_eq!(active.len(), n, "gentxs make the validator set");
        Sim {
            vals,
            seed,
            cons,
            index,
            app,
            _dir: dir,
            active,
            pending: vec![],
            user_seq: 0,
            squat_seq: 0,
            ops,
            local: vec![BTreeMap::new(); n],
            fed: vec![BTreeSet::new(); n],
            per_block: JOBS_PER_BLOCK,
            out: BTreeSet::new(),
            rational: false,
        }
    }

    /// Local jobs a block takes (queried once the chain has a committed block).
    pub(super) fn read_per_block(&mut self) {
        let p = self.query("Params", json!({}))["params"].take();
        let slots = p["max_jobs_per_block"].as_u64().unwrap_or(JOBS_PER_BLOCK);
        self.per_block = p["max_jobs_per_source"]
            .as_u64()
            .map_or(slots, |x| x.min(slots));
    }

    /// The job fee floor now (committed state).
    pub(super) fn floor(&self) -> u128 {
        self.query("Params", json!({}))["job_fee_floor"]
            .as_str()
            .and_then(|x| x.parse().ok())
            .unwrap_or(0)
    }

    /// (account number, sequence) of an account, from the auth query.
    fn account(&self, addr: &str) -> (u64, u64) {
        use cosmrs::proto::cosmos::auth::v1beta1 as au;
        let r = self.app.query(RequestQuery {
            path: "/cosmos.auth.v1beta1.Query/Account".into(),
            data: au::QueryAccountRequest {
                address: addr.to_string(),
            }
            .encode_to_vec()
            .into(),
            height: 0,
            prove: false,
        });
        assert_eq!(r.code, 0, "account {addr}: {}", r.log);
        let any = au::QueryAccountResponse::decode(r.value.as_ref())
            .expect("account response")
            .account
            .expect("account");
        let b = au::BaseAccount::decode(any.value.as_slice()).expect("base account");
        (b.account_number, b.sequence)
    }

    /// The self-jailer's operator: raises its `min_self_delegation` to half its
    /// self-delegation and unbonds 90 % of it, in one tx (staking jails it).
    #[allow(deprecated)] // `delegator_address` of MsgEditValidator is deprecated
    /// Validator `i`'s operator declares serving the requester's model (every
    /// validator of the sim serves it; nobody serves the squatter's).
    pub(super) fn serve(&self, i: usize) -> Vec<u8> {
        let op = &self.ops[i];
        let serve = cosmrs::Any {
            type_url: pb::MSG_SERVE_MODEL_URL.into(),
            value: pb::MsgServeModel {
                operator: op.address().valoper(),
                model_ids: vec![model_id()],
                serve: true,
            }
            .encode_to_vec(),
        };
        let spec = TxSpec {
            msgs: vec![serve],
            memo: String::new(),
            timeout_height: 0,
            fee: vec![Coin::new(10_000, "uverd")],
            gas_limit: 400_000,
        };
        let (number, seq) = self.account(&op.address().bech32());
        sign_tx(&spec, op, CHAIN, number, seq)
    }

    pub(super) fn self_jail(&self, i: usize) -> Vec<u8> {
        use cosmrs::proto::cosmos::staking::v1beta1 as st;
        let op = &self.ops[i];
        let tokens = u128::from(self.vals[i].member.power) * 1_000_000;
        let edit = cosmrs::Any {
            type_url: "/cosmos.staking.v1beta1.MsgEditValidator".into(),
            value: st::MsgEditValidator {
                description: None,
                validator_address: op.address().valoper(),
                commission_rate: String::new(),
                min_self_delegation: (tokens / 2).to_string(),
            }
            .encode_to_vec(),
        };
        let undelegate = cosmrs::Any {
            type_url: "/cosmos.staking.v1beta1.MsgUndelegate".into(),
            value: st::MsgUndelegate {
                delegator_address: op.address().bech32(),
                validator_address: op.address().valoper(),
                amount: Some(Coin::new(tokens * 9 / 10, "uverd").to_proto()),
            }
            .encode_to_vec(),
        };
        let spec = TxSpec {
            msgs: vec![edit, undelegate],
            memo: String::new(),
            timeout_height: 0,
            fee: vec![Coin::new(10_000, "uverd")],
            gas_limit: 400_000,
        };
        let (number, seq) = self.account(&op.address().bech32());
        sign_tx(&spec, op, CHAIN, number, seq)
    }

    pub(super) fn committed<R>(&self, f: impl FnOnce(&dyn cosmwasm_std::Storage) -> R) -> R {
        let mut ov = Overlay::new();
        let view = StateView::new(self.app.store(), &mut ov);
        f(&view)
    }

    /// An inference query, request and answer as JSON (`query.proto`'s
    /// messages, 64-bit integers as numbers).
    pub(super) fn query(&self, method: &str, req: Value) -> Value {
        use verdict_proto::json;
        let path = format!("/verdict.inference.v1.Query/{method}");
        let r = self.app.query(RequestQuery {
            data: json::request(&path, &req).expect("request").into(),
            path: path.clone(),
            height: 0,
            prove: false,
        });
        assert_eq!(r.code, 0, "query {method}: {}", r.log);
        json::response(&path, &r.value, json::Style::Plain).expect("query json")
    }

    fn user_tx(&mut self, msg: cosmrs::Any) -> Vec<u8> {
        let spec = TxSpec {
            msgs: vec![msg],
            memo: String::new(),
            timeout_height: 0,
            fee: vec![Coin::new(10_000, "uverd")],
            gas_limit: 400_000,
        };
        let tx = sign_tx(&spec, &user(), CHAIN, 1, self.user_seq);
        self.user_seq += 1;
        tx
    }

    /// A tx of the squatter (a failed message still bumps its sequence).
    fn squat_tx(&mut self, msg: cosmrs::Any) -> Vec<u8> {
        let spec = TxSpec {
            msgs: vec![msg],
            memo: String::new(),
            timeout_height: 0,
            fee: vec![Coin::new(10_000, "uverd")],
            gas_limit: 400_000,
        };
        let number = 2 + self.vals.len() as u64;
        let tx = sign_tx(&spec, &squatter(), CHAIN, number, self.squat_seq);
        self.squat_seq += 1;
        tx
    }

    pub(super) fn register(&mut self, squat: bool) -> Vec<u8> {
        let owner = if squat { squatter() } else { user() };
        let m = pb::MsgRegisterModel {
            owner: owner.address().bech32(),
            model_id: if squat { squat_model_id() } else { model_id() },
            name: "sim".into(),
            inputs: vec![pb::TensorSpec {
                name: "x".into(),
                dtype: "float32".into(),
                shape: vec![-1, 2],
            }],
            outputs: vec![pb::TensorSpec {
                name: "y".into(),
                dtype: "float32".into(),
                shape: vec![-1, OUT_LEN as i64],
            }],
            tolerance: "0.000001".into(),
            rtol: "0.0001".into(),
            max_output_len: OUT_LEN as u32,
            uris: vec!["http://models.sim.invalid/model.onnx".into()],
            size_bytes: 1_024,
            ..Default::default()
        };
        let any = cosmrs::Any {
            type_url: pb::MSG_REGISTER_MODEL_URL.into(),
            value: m.encode_to_vec(),
        };
        if squat {
            self.squat_tx(any)
        } else {
            self.user_tx(any)
        }
    }

    pub(super) fn submit(&mut self, k: u64, fee: u128, squat: bool) -> Vec<u8> {
        let who = if squat { squatter() } else { user() };
        let msg = pb::MsgSubmitJob {
            requester: who.address().bech32(),
            model_id: if squat { squat_model_id() } else { model_id() },
            inputs: vec![pb::Tensor {
                name: "x".into(),
                dtype: "float32".into(),
                shape: vec![1, 2],
                data: [(k as f32).to_le_bytes(), 1f32.to_le_bytes()].concat(),
            }],
            max_latency_ms: MAX_LATENCY_MS,
            fee: Some(pb::Coin {
                denom: "uverd".into(),
                amount: fee.to_string(),
            }),
            spec_hash: String::new(),
        };
        let any = cosmrs::Any {
            type_url: pb::MSG_SUBMIT_JOB_URL.into(),
            value: msg.encode_to_vec(),
        };
        if squat {
            self.squat_tx(any)
        } else {
            self.user_tx(any)
        }
    }

    /// The sidecars: each committee member of a live job gets its answer.
    pub(super) fn feed(&mut self, live: &BTreeSet<u64>) {
        let jobs: Vec<inf::Job> = self.committed(|s| {
            live.iter()
                .filter_map(|id| inf::job(s, *id).ok().flatten())
                .collect()
        });
        for job in jobs {
            // Nobody serves the squatter's model: no sidecar answers it.
            if job.status.is_final() || job.model_id != model_id() {
                continue;
            }
            // A challenge's re-run computes its original's job (same inputs)
            // and projects with its seed (`Job::digest_seed`).
            let seed_id = job.digest_seed();
            let refr = reference(self.seed, seed_id);
            let forge = !self.rational || self.coalition_holds(&job);
            for m in &job.committee {
                let Some(&i) = self.index.get(&m.address) else {
                    continue;
                };
                if self.fed[i].contains(&job.id) || self.out.contains(&i) {
                    continue;
                }
                let s = self.vals[i].strategy;
                let out = match s {
                    Strategy::Copier | Strategy::Down => continue,
                    // Its answer arrives only after the commit phase closed; the
                    // node then has nothing it may say (build_extension drops it).
                    Strategy::Slow if job.status.commit_phase() => continue,
                    // It computes the true answer and commits to it (it only
                    // withholds the reveal: see run_chain).
                    Strategy::Slow | Strategy::Withholder => refr.clone(),
                    Strategy::Coalition if !forge => refr.clone(),
                    _ => match answer(s, &refr, self.seed, seed_id, i) {
                        Some(o) => o,
                        None => continue,
                    },
                };
                let salt = key32(b"sim-salt", self.seed ^ job.id, i)[..16].to_vec();
                self.local[i].insert(
                    job.id,
                    LocalJob {
                        digest: digest_of(&out, seed_id, TOLERANCE_NANO, OUT_LEN),
                        latency_ms: if s == Strategy::Slow { 1 } else { 300 },
                        salt,
                        runtime: "sim".into(),
                    },
                );
                self.fed[i].insert(job.id);
            }
        }
    }

    /// Whether the coalition holds more than 2/3 of `job`'s committee weight.
    fn coalition_holds(&self, job: &inf::Job) -> bool {
        let (mut ours, mut all) = (0u64, 0u64);
        for m in &job.committee {
            all += m.weight();
            if self
                .index
                .get(&m.address)
                .is_some_and(|&i| self.vals[i].strategy == Strategy::Coalition)
            {
                ours += m.weight();
            }
        }
        3 * ours > 2 * all
    }

    /// The requester challenges job `id` with the smallest bond the chain
    /// takes for a job of `fee`.
    pub(super) fn challenge(&mut self, id: u64, fee: u128) -> Vec<u8> {
        let p = self.committed(inf::params);
        let fee = fee.max(self.floor());
        let bond = p.challenge_bond_min(cosmwasm_std::Uint128::new(fee)).u128();
        let msg = pb::MsgChallengeJob {
            challenger: user().address().bech32(),
            job_id: id,
            bond: Some(pb::Coin {
                denom: "uverd".into(),
                amount: bond.to_string(),
            }),
        };
        self.user_tx(cosmrs::Any {
            type_url: pb::MSG_CHALLENGE_JOB_URL.into(),
            value: msg.encode_to_vec(),
        })
    }

    pub(super) fn pick_proposer(&self, rng: &mut Rng) -> usize {
        let total: u64 = self.active.values().map(|p| *p as u64).sum();
        let mut r = rng.below(total);
        let mut last = 0;
        for (&i, &p) in &self.active {
            last = i;
            if r < p as u64 {
                return i;
            }
            r -= p as u64;
        }
        last
    }

    pub(super) fn chain_seed(&self, v: usize) -> impl Fn(u32) -> [u8; 32] {
        let seed = self.seed;
        move |e: u32| -> [u8; 32] {
            Sha256::new()
                .chain_update(b"sim-chain")
                .chain_update(seed.to_be_bytes())
                .chain_update((v as u64).to_be_bytes())
                .chain_update(e.to_be_bytes())
                .finalize()
                .into()
        }
    }
}
