//! The default mode: settlement through the real chain. One `VerdictApp` over a
//! temporary `Store` per run; InitChain with gentxs of Zipf stake; every block
//! goes through `Application::finalize_block` (→ `verdict_attestation::
//! process_block`, `beacon::advance`, `committee::assign`, staking end block)
//! and `commit`. The sim plays every validator's node: its sidecar (what it
//! answers, by strategy), its `ExtendVote` (the real `build_extension` over the
//! committed state, with the `NextBlock` the app itself would pass) and the
//! proposer's tx[0] (`encode_injected`, with the real beacon `contribution`).
//! ProcessProposal (the signature checks of tx[0]) and PrepareProposal are not
//! run: FinalizeBlock only decodes tx[0], so extension signatures are empty.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use cosmwasm_std::Order;
use ed25519_consensus::SigningKey;
use prost::Message;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tendermint_abci::Application;
use tendermint_proto::google::protobuf::Timestamp;
use tendermint_proto::v0_38::abci::{
    CommitInfo, RequestFinalizeBlock, RequestInitChain, RequestQuery, ResponseFinalizeBlock,
    Validator, ValidatorUpdate, VoteInfo,
};
use tendermint_proto::v0_38::crypto::{public_key::Sum, PublicKey};
use tendermint_proto::v0_38::types::{AbciParams, ConsensusParams};
use verdict_app::app::tendermint_address;
use verdict_app::store::{Overlay, StateView, Store};
use verdict_app::txbuild::{sign_tx, AccountKey, TxSpec};
use verdict_app::vote_ext::encode_injected;
use verdict_app::VerdictApp;
use verdict_attestation::digest::{digest_of, judge, Verdict};
use verdict_attestation::{build_extension, LocalJob, NextBlock};
use verdict_core::coin::Coin;
use verdict_inference::state as inf;
use verdict_inference::{beacon, committee};
use verdict_proto::app::v1::{InjectedVote, InjectedVoteExtensions, VoteExtension};
use verdict_proto::inference::v1 as pb;

use crate::{
    answer, binomial_tail, pct, reference, validators, Rng, Strategy, Tally, Val, FEE, OUT_LEN,
    RTOL_NANO, TOLERANCE_NANO,
};

/// The most the slot-squatter pays per job (uverd); above it, it stops.
const SQUAT_MAX_FEE: u128 = 20_000;
/// The most the requester pays per job (uverd); above it, it waits a block.
const REQ_MAX_FEE: u128 = 100_000;

const CHAIN: &str = "verdict-sim-1";
const T0: i64 = 1_700_000_000;
/// Job slots per block (`max_jobs_per_block`); local jobs are further capped
/// by `max_jobs_per_source` when the chain has that parameter.
const JOBS_PER_BLOCK: u64 = 8;
const WINDOW: u64 = 8;
const COMMIT_BLOCKS: u64 = 3;
const MAX_LATENCY_MS: u32 = 1_000;
const VE_CAP: u32 = 8192;

/// Committees by job: (member address, weight).
type Draw = BTreeMap<u64, Vec<(String, u64)>>;

fn model_id() -> String {
    hex::encode(Sha256::digest(b"verdict-sim-model"))
}

/// The second model: registered by the squatter, served by no validator.
fn squat_model_id() -> String {
    hex::encode(Sha256::digest(b"verdict-sim-squatted-model"))
}

fn user() -> AccountKey {
    AccountKey::from_bytes(&[42; 32]).expect("user key")
}

/// The slot-squatter's account (not a validator).
fn squatter() -> AccountKey {
    AccountKey::from_bytes(&[77; 32]).expect("squatter key")
}

/// Jobs the squatter submits per block by default (before the requester's, as
/// if its txs came first in the proposer's block); `--squat N` sets it.
pub(crate) const SQUAT_PER_BLOCK: u64 = 2;

fn key32(tag: &[u8], seed: u64, i: usize) -> [u8; 32] {
    Sha256::new()
        .chain_update(tag)
        .chain_update(seed.to_be_bytes())
        .chain_update((i as u64).to_be_bytes())
        .finalize()
        .into()
}

fn time(h: i64) -> Timestamp {
    Timestamp {
        seconds: T0 + h,
        nanos: 0,
    }
}

fn gentx(i: usize, op: &AccountKey, key: &SigningKey, tokens: u128) -> String {
    let msg = verdict_app::txbuild::create_validator_msg(
        &op.address(),
        &key.verification_key().to_bytes(),
        &Coin::new(tokens, "uverd"),
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
    hex::encode(sign_tx(&spec, op, CHAIN, 2 + i as u64, 0))
}

/// What one run of the chain produced.
#[derive(Default)]
pub(crate) struct ChainResult {
    pub tally: Vec<Tally>,
    pub jobs: u64,
    pub submitted: u64,
    pub completed: u64,
    pub failed: u64,
    pub coalition_sat: u64,
    pub coalition_seats: u64,
    pub total_seats: u64,
    pub forged_accepted: u64,
    pub stalled_by_coalition: u64,
    pub grind_blocks: u64,
    pub grind_flips: u64,
    /// Blocks where the grinder's prediction of the committees (on committed
    /// state) differed from what `committee::assign` drew.
    pub grind_mispredicted: u64,
    pub honest_slashed: u64,
    pub wrong_unslashed: u64,
    pub honest_slashed_uncaptured: u64,
    pub wrong_unslashed_uncaptured: u64,
    /// `attestation/paid` in state against fee × completed.
    pub paid_state: u128,
    /// Per validator: height jailed (validator update to power 0).
    pub jailed_at: Vec<Option<u64>>,
    /// Per validator: slash events by reason (applied, capped).
    pub slash_events: Vec<BTreeMap<String, (u64, u64)>>,
    /// Seats held by a validator in a committee drawn at or after its jail.
    pub jailed_seated: u64,
    /// Members excused (jailed and silent) at settlement.
    pub excused: u64,
    pub blocks: u64,
    pub seconds: f64,
    /// Local jobs submitted per block (the chain's per-source cap).
    pub per_block: u64,
    /// Sum of the fees of the completed jobs (from their JSON).
    pub fees_completed: u128,
    /// Jobs where withholders held ≥ 1/3 of the seats, and how many of them failed.
    pub withheld_third: u64,
    pub withheld_third_failed: u64,
    /// Self-jailers: height of their unbonding tx, wrong answers revealed on
    /// completed jobs, and how many of those are `wrong_output` faults.
    pub self_jail_tx: Vec<Option<u64>>,
    pub sj_wrong_completed: u64,
    pub sj_recorded: u64,
    /// Per validator at the end: (seats, missed) of its attestation-liveness window.
    pub att_info: Vec<(u64, u64)>,
    /// The squatter: jobs accepted, settled, completed, fees escrowed, fees
    /// lost (fee − refund) on its settled jobs, its own submissions refused.
    pub sq_jobs: u64,
    pub sq_settled: u64,
    pub sq_completed: u64,
    pub sq_fees: u128,
    pub sq_lost: u128,
    pub sq_refused: u64,
    /// The honest requester's submissions refused, by reason.
    pub req_refused: BTreeMap<String, u64>,
    /// The requester's fee raised to the floor (blocks), the floor at the end and its maximum.
    pub req_raised: u64,
    pub floor_final: u128,
    pub floor_max: u128,
}

struct Sim<'a> {
    vals: &'a [Val],
    seed: u64,
    cons: Vec<[u8; 20]>,
    index: BTreeMap<String, usize>,
    app: VerdictApp,
    _dir: tempfile::TempDir,
    /// CometBFT's validator set (validator index → power) and pending updates.
    active: BTreeMap<usize, i64>,
    pending: Vec<(i64, Vec<ValidatorUpdate>)>,
    user_seq: u64,
    squat_seq: u64,
    ops: Vec<AccountKey>,
    /// Each node's local results (its sidecar's answers) and what it was fed.
    local: Vec<BTreeMap<u64, LocalJob>>,
    fed: Vec<BTreeSet<u64>>,
    per_block: u64,
}

impl<'a> Sim<'a> {
    fn new(vals: &'a [Val], seed: u64, size: usize, missed_window: Option<u64>) -> Sim<'a> {
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
        }
    }

    /// Local jobs a block takes (queried once the chain has a committed block).
    fn read_per_block(&mut self) {
        let p = self.query("Params", json!({}));
        let slots = p["max_jobs_per_block"].as_u64().unwrap_or(JOBS_PER_BLOCK);
        self.per_block = p["max_jobs_per_source"]
            .as_u64()
            .map_or(slots, |x| x.min(slots));
    }

    /// The job fee floor now (committed state).
    fn floor(&self) -> u128 {
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
    fn self_jail(&self, i: usize) -> Vec<u8> {
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

    fn committed<R>(&self, f: impl FnOnce(&dyn cosmwasm_std::Storage) -> R) -> R {
        let mut ov = Overlay::new();
        let view = StateView::new(self.app.store(), &mut ov);
        f(&view)
    }

    fn query(&self, method: &str, req: Value) -> Value {
        let r = self.app.query(RequestQuery {
            path: format!("/verdict.inference.v1.Query/{method}"),
            data: req.to_string().into_bytes().into(),
            height: 0,
            prove: false,
        });
        assert_eq!(r.code, 0, "query {method}: {}", r.log);
        serde_json::from_slice(&r.value).expect("query json")
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

    fn register(&mut self, squat: bool) -> Vec<u8> {
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

    fn submit(&mut self, k: u64, fee: u128, squat: bool) -> Vec<u8> {
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
    fn feed(&mut self, live: &BTreeSet<u64>) {
        let jobs: Vec<inf::Job> = self.committed(|s| {
            live.iter()
                .filter_map(|id| inf::JOBS.may_load(s, *id).ok().flatten())
                .collect()
        });
        for job in jobs {
            // Nobody serves the squatter's model: no sidecar answers it.
            if job.status.is_final() || job.model_id != model_id() {
                continue;
            }
            let refr = reference(self.seed, job.id);
            for m in &job.committee {
                let Some(&i) = self.index.get(&m.address) else {
                    continue;
                };
                if self.fed[i].contains(&job.id) {
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
                    _ => match answer(s, &refr, self.seed, job.id, i) {
                        Some(o) => o,
                        None => continue,
                    },
                };
                let salt = key32(b"sim-salt", self.seed ^ job.id, i)[..16].to_vec();
                self.local[i].insert(
                    job.id,
                    LocalJob {
                        digest: digest_of(&out, job.id, TOLERANCE_NANO, OUT_LEN),
                        latency_ms: if s == Strategy::Slow { 1 } else { 300 },
                        salt,
                    },
                );
                self.fed[i].insert(job.id);
            }
        }
    }

    fn pick_proposer(&self, rng: &mut Rng) -> usize {
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

    fn chain_seed(&self, v: usize) -> impl Fn(u32) -> [u8; 32] {
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

fn beacon_value(prev: &[u8; 32], height: u64, reveal: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new()
        .chain_update(b"verdict-beacon")
        .chain_update(prev)
        .chain_update(height.to_be_bytes());
    if !reveal.is_empty() {
        h.update(reveal);
    }
    h.finalize().into()
}

fn attrs(e: &tendermint_proto::v0_38::abci::Event) -> BTreeMap<String, String> {
    e.attributes
        .iter()
        .map(|a| (a.key.clone(), a.value.clone()))
        .collect()
}

fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

pub(crate) fn run_chain(
    vals: &[Val],
    jobs: u64,
    seed: u64,
    size: usize,
    grind: bool,
    missed_window: Option<u64>,
    squat: u64,
) -> ChainResult {
    let start = Instant::now();
    let n = vals.len();
    let mut sim = Sim::new(vals, seed, size, missed_window);
    let mut res = ChainResult {
        tally: vec![Tally::default(); n],
        jailed_at: vec![None; n],
        slash_events: vec![BTreeMap::new(); n],
        self_jail_tx: vec![None; n],
        ..ChainResult::default()
    };
    let in_coalition = |i: usize| vals[i].strategy == Strategy::Coalition;
    let size = sim.committed(inf::params).committee_size as usize;
    let mut rng = Rng(seed ^ 0xB10C);
    let mut live: BTreeSet<u64> = BTreeSet::new();
    // The extensions of the previous height (ExtendVote), by validator.
    let mut last_votes: Vec<(usize, VoteExtension)> = vec![];
    let mut last_voters: Vec<(usize, i64)> = vec![];
    let mut h: i64 = 0;
    let mut last_submit_height: i64 = 0;
    loop {
        h += 1;
        let hu = h as u64;
        if res.submitted >= jobs && live.is_empty() {
            break;
        }
        if res.submitted >= jobs && h > last_submit_height + 3 * WINDOW as i64 {
            break;
        }
        sim.feed(&live);
        let voters: Vec<(usize, i64)> = sim.active.iter().map(|(i, p)| (*i, *p)).collect();
        let p = sim.pick_proposer(&mut rng);
        let op = sim.cons[p];
        // The proposer's beacon contribution, and the grinding decision.
        let (reveal, anchor) = sim.committed(|s| beacon::contribution(s, &op, sim.chain_seed(p)));
        let mut predicted: Option<Draw> = None;
        let mut give = true;
        let mut expect_beacon = None;
        if h >= 2 {
            let (prev, pending, candidates) = sim.committed(|s| {
                let prev = beacon::BEACON.may_load(s).ok().flatten().unwrap_or([0; 32]);
                let pending: Vec<u64> = inf::UNASSIGNED
                    .keys(s, None, None, Order::Ascending)
                    .filter_map(Result::ok)
                    .collect();
                (prev, pending, committee::bonded(s).unwrap_or_default())
            });
            let with = beacon_value(&prev, hu, &reveal);
            let without = beacon_value(&prev, hu, &[]);
            if grind && in_coalition(p) && !reveal.is_empty() && !pending.is_empty() {
                res.grind_blocks += 1;
                let draw = |b: &[u8; 32]| -> Draw {
                    pending
                        .iter()
                        .map(|&j| {
                            let c = committee::sample(&candidates, size, &committee::seed(b, j));
                            (
                                j,
                                c.iter().map(|m| (m.address.clone(), m.weight())).collect(),
                            )
                        })
                        .collect()
                };
                let share = |d: &Draw| -> u64 {
                    d.values()
                        .flatten()
                        .filter(|(a, _)| sim.index.get(a).is_some_and(|&i| in_coalition(i)))
                        .map(|(_, w)| *w)
                        .sum()
                };
                let (dw, dwo) = (draw(&with), draw(&without));
                give = share(&dw) >= share(&dwo);
                if !give {
                    res.grind_flips += 1;
                }
                predicted = Some(if give { dw } else { dwo });
            }
            expect_beacon = Some(if give && !reveal.is_empty() {
                with
            } else {
                without
            });
        }
        let (reveal, anchor) = if give {
            (reveal, anchor)
        } else {
            (vec![], vec![])
        };
        let mut txs: Vec<Vec<u8>> = vec![];
        if h >= 2 {
            let inj = InjectedVoteExtensions {
                height: h - 1,
                round: 0,
                votes: last_votes
                    .iter()
                    .map(|(i, ve)| InjectedVote {
                        validator_address: sim.cons[*i].to_vec(),
                        vote_extension: ve.encode_to_vec(),
                        extension_signature: vec![],
                    })
                    .collect(),
                beacon_reveal: reveal,
                beacon_anchor: anchor,
            };
            txs.push(encode_injected(&inj));
        }
        // ExtendVote(h) of every validator in the set, over the committed state,
        // knowing the commitments block h records (as the app's own next_block).
        let mut next = NextBlock {
            height: hu,
            time_ms: (T0 + h) * 1000,
            ..Default::default()
        };
        for (i, ve) in &last_votes {
            for c in &ve.commitments {
                next.commitments
                    .entry((c.job_id, sim.cons[*i]))
                    .or_insert_with(|| c.commitment.clone());
            }
        }
        let mut votes = Vec::with_capacity(voters.len());
        {
            let mut ov = Overlay::new();
            let view = StateView::new(sim.app.store(), &mut ov);
            for &(i, _) in &voters {
                let ve = build_extension(
                    &view,
                    &sim.cons[i],
                    &mut sim.local[i],
                    VE_CAP as usize,
                    1,
                    Some(&next),
                );
                let mut ve = ve;
                if vals[i].strategy == Strategy::Withholder {
                    ve.reveals.clear();
                }
                votes.push((i, ve));
            }
        }
        // Self-jailers: in the block that records their first reveal (carried
        // by tx[0] from their extension of h−1), the operator unbonds.
        let mut jail_txs = 0usize;
        for (i, ve) in &last_votes {
            if vals[*i].strategy == Strategy::SelfJailer
                && !ve.reveals.is_empty()
                && res.self_jail_tx[*i].is_none()
            {
                txs.push(sim.self_jail(*i));
                res.self_jail_tx[*i] = Some(hu);
                jail_txs += 1;
            }
        }
        // User txs: the models, then the squatter's jobs at the fee floor and
        // as many of the requester's as the chain takes from one source.
        let first_user_tx = txs.len();
        // Submissions of this block: Some(true) squatter, Some(false) requester.
        let mut kinds: Vec<Option<bool>> = vec![];
        if h == 1 {
            let t = sim.register(false);
            txs.push(t);
            let t = sim.register(true);
            txs.push(t);
            kinds.extend([None, None]);
        } else if res.submitted < jobs {
            let floor = sim.floor();
            res.floor_max = res.floor_max.max(floor);
            // Neither pays without bound: above its price the squatter stops,
            // the requester waits for the floor to come down.
            if floor <= SQUAT_MAX_FEE {
                for k in 0..squat {
                    let t = sim.submit(k, floor, true);
                    txs.push(t);
                    kinds.push(Some(true));
                }
            }
            let fee = FEE.max(floor);
            if fee > FEE {
                res.req_raised += 1;
            }
            let mut k = 0;
            while fee <= REQ_MAX_FEE && k < sim.per_block && res.submitted + k < jobs {
                let t = sim.submit(res.submitted + k, fee, false);
                txs.push(t);
                kinds.push(Some(false));
                k += 1;
            }
        }
        let decided = (!last_voters.is_empty()).then(|| CommitInfo {
            round: 0,
            votes: last_voters
                .iter()
                .map(|(i, pw)| VoteInfo {
                    validator: Some(Validator {
                        address: sim.cons[*i].to_vec().into(),
                        power: *pw,
                    }),
                    block_id_flag: 2,
                })
                .collect(),
        });
        let r: ResponseFinalizeBlock = sim.app.finalize_block(RequestFinalizeBlock {
            txs: txs.iter().cloned().map(Into::into).collect(),
            decided_last_commit: decided,
            hash: Sha256::digest(hu.to_be_bytes()).to_vec().into(),
            height: h,
            time: Some(time(h)),
            proposer_address: op.to_vec().into(),
            ..Default::default()
        });
        let offset = r.tx_results.len() + first_user_tx - txs.len();
        for (k, t) in r.tx_results.iter().enumerate() {
            let kind = k
                .checked_sub(offset)
                .and_then(|u| kinds.get(u).copied())
                .flatten();
            match kind {
                Some(true) if t.code == 0 => res.sq_jobs += 1,
                Some(true) => res.sq_refused += 1,
                Some(false) if t.code == 0 => {
                    res.submitted += 1;
                    last_submit_height = h;
                }
                Some(false) => {
                    let why = if t.log.contains("maximum of") {
                        "BlockFull"
                    } else if t.log.contains("share of its job slots") {
                        "SourceFull"
                    } else if t.log.contains("minimum job fee") {
                        "FeeTooLow"
                    } else {
                        eprintln!("block {h}: job tx {k} failed (code {}): {}", t.code, t.log);
                        std::process::exit(2);
                    };
                    *res.req_refused
                        .entry(format!("{why} (code {})", t.code))
                        .or_insert(0) += 1;
                }
                None if t.code != 0 => {
                    eprintln!("block {h}: tx {k} failed (code {}): {}", t.code, t.log);
                    std::process::exit(2);
                }
                None => {}
            }
        }
        assert!(r.tx_results.len() >= txs.len() - first_user_tx + jail_txs);
        sim.app.commit();
        res.blocks += 1;
        if h == 1 {
            sim.read_per_block();
            res.per_block = sim.per_block;
        }
        // The beacon as FinalizeBlock computed it, against the formula by hand.
        let (b_now, new_jobs) = sim.committed(|s| {
            (
                beacon::BEACON.may_load(s).ok().flatten().unwrap_or([0; 32]),
                inf::UNASSIGNED
                    .keys(s, None, None, Order::Ascending)
                    .filter_map(Result::ok)
                    .collect::<Vec<u64>>(),
            )
        });
        if let Some(want) = expect_beacon {
            assert_eq!(want, b_now, "beacon formula at {h}");
        }
        if let Some(pred) = predicted {
            let actual: Draw = sim.committed(|s| {
                pred.keys()
                    .filter_map(|j| {
                        let job = inf::JOBS.may_load(s, *j).ok().flatten()?;
                        Some((
                            *j,
                            job.committee
                                .iter()
                                .map(|m| (m.address.clone(), m.weight()))
                                .collect(),
                        ))
                    })
                    .collect()
            });
            if actual != pred {
                res.grind_mispredicted += 1;
            }
        }
        live.extend(new_jobs);
        // Events: slashes and settled jobs.
        let mut settled = vec![];
        for e in &r.events {
            let a = attrs(e);
            match e.r#type.as_str() {
                "slash" => {
                    let Some(&i) = a.get("address").and_then(|x| sim.index.get(x)) else {
                        continue;
                    };
                    let reason = a.get("reason").cloned().unwrap_or_default();
                    let capped = a.get("capped").is_some_and(|c| c == "true");
                    let x = res.slash_events[i].entry(reason).or_insert((0, 0));
                    if capped {
                        x.1 += 1;
                    } else {
                        x.0 += 1;
                    }
                }
                "inference_job_result" => {
                    if let Some(id) = a.get("job_id").and_then(|x| x.parse::<u64>().ok()) {
                        settled.push(id);
                    }
                }
                _ => {}
            }
        }
        for id in settled {
            live.remove(&id);
            let job = sim.query("Job", json!({ "id": id }));
            if job["model_id"].as_str() == Some(squat_model_id().as_str()) {
                let fee: u128 = job["fee"]["amount"]
                    .as_str()
                    .and_then(|a| a.parse().ok())
                    .unwrap_or(0);
                res.sq_settled += 1;
                res.sq_fees += fee;
                if job["status"].as_str() == Some("completed") {
                    res.sq_completed += 1;
                    res.sq_lost += fee;
                } else {
                    res.sq_lost += fee.min(200);
                }
                continue;
            }
            tally_job(&sim, &job, id, seed, &mut res);
        }
        // Validator set changes: CometBFT applies them two heights later.
        for u in &r.validator_updates {
            if u.power == 0 {
                if let Some(Sum::Ed25519(pk)) = u.pub_key.as_ref().and_then(|k| k.sum.clone()) {
                    let a = hex::encode_upper(tendermint_address(&pk));
                    if let Some(&i) = sim.index.get(&a) {
                        res.jailed_at[i].get_or_insert(hu);
                    }
                }
            }
        }
        sim.pending.push((h + 2, r.validator_updates.clone()));
        let due: Vec<_> = sim
            .pending
            .iter()
            .filter(|(at, _)| *at == h + 1)
            .cloned()
            .collect();
        sim.pending.retain(|(at, _)| *at > h + 1);
        for (_, ups) in due {
            for u in ups {
                let Some(Sum::Ed25519(pk)) = u.pub_key.and_then(|k| k.sum) else {
                    continue;
                };
                let a = hex::encode_upper(tendermint_address(&pk));
                let Some(&i) = sim.index.get(&a) else {
                    continue;
                };
                if u.power == 0 {
                    sim.active.remove(&i);
                } else {
                    sim.active.insert(i, u.power);
                }
            }
        }
        last_votes = votes;
        last_voters = voters;
        if sim.active.is_empty() {
            break;
        }
    }
    res.paid_state = sim.committed(|s| {
        verdict_attestation::settle::PAID
            .may_load(s)
            .ok()
            .flatten()
            .map_or(0, |p| p.u128())
    });
    res.floor_final = sim.floor();
    res.att_info = sim.committed(|s| {
        sim.cons
            .iter()
            .map(|a| {
                verdict_attestation::settle::ATT_INFO
                    .may_load(s, a.as_slice())
                    .ok()
                    .flatten()
                    .map_or((0, 0), |x| (x.seats, x.missed))
            })
            .collect()
    });
    res.seconds = start.elapsed().as_secs_f64();
    res
}

fn tally_job(sim: &Sim<'_>, job: &Value, id: u64, seed: u64, res: &mut ChainResult) {
    let vals = sim.vals;
    let status = job["status"].as_str().unwrap_or("");
    res.jobs += 1;
    let completed = status == "completed";
    let fee: u128 = job["fee"]["amount"]
        .as_str()
        .and_then(|a| a.parse().ok())
        .unwrap_or(FEE);
    if completed {
        res.completed += 1;
        res.fees_completed += fee;
    } else {
        res.failed += 1;
    }
    let r = &job["result"];
    let agreeing = strs(&r["agreeing"]);
    let late = strs(&r["late"]);
    let grey = strs(&r["grey"]);
    let missing = strs(&r["missing"]);
    let excused = strs(&r["excused"]);
    let agreeing_power = r["agreeing_power"].as_u64().unwrap_or(0);
    let mut wrong_faults: BTreeSet<String> = BTreeSet::new();
    for f in r["faults"].as_array().into_iter().flatten() {
        if strs(&f["kinds"]).iter().any(|k| k == "wrong_output") {
            if let Some(a) = f["address"].as_str() {
                wrong_faults.insert(a.to_string());
            }
        }
    }
    let median: Vec<i64> = r["digest"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_i64).collect())
        .unwrap_or_default();
    let refr = reference(seed, id);
    let ref_digest = digest_of(&refr, id, TOLERANCE_NANO, OUT_LEN);
    let multiple = 8;
    let captured =
        completed && judge(&median, &ref_digest, RTOL_NANO, OUT_LEN, multiple) != Verdict::Agrees;
    let members: Vec<(String, u64)> = job["committee"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| {
            let a = m["address"].as_str()?.to_string();
            let seats = m["seats"].as_u64().unwrap_or(0);
            let w = if seats > 0 {
                seats
            } else {
                m["power"].as_u64().unwrap_or(0)
            };
            Some((a, w))
        })
        .collect();
    let submitted = job["submitted_height"].as_u64().unwrap_or(0);
    let weight: u64 = members.iter().map(|(_, w)| w).sum();
    res.total_seats += weight;
    let cw: u64 = members
        .iter()
        .filter(|(a, _)| {
            sim.index
                .get(a)
                .is_some_and(|&i| vals[i].strategy == Strategy::Coalition)
        })
        .map(|(_, w)| *w)
        .sum();
    if cw > 0 {
        res.coalition_sat += 1;
        res.coalition_seats += cw;
    }
    if captured {
        res.forged_accepted += 1;
    }
    if !completed && cw * 3 >= weight {
        res.stalled_by_coalition += 1;
    }
    let ww: u64 = members
        .iter()
        .filter(|(a, _)| {
            sim.index
                .get(a)
                .is_some_and(|&i| vals[i].strategy == Strategy::Withholder)
        })
        .map(|(_, w)| *w)
        .sum();
    if ww > 0 && ww * 3 >= weight {
        res.withheld_third += 1;
        if !completed {
            res.withheld_third_failed += 1;
        }
    }
    // Payments as settle_job made them (through distribution): fee × weight /
    // agreeing power, the dust to the first agreeing member.
    let mut pay: BTreeMap<String, u128> = BTreeMap::new();
    if completed && agreeing_power > 0 {
        let mut paid = 0u128;
        for a in &agreeing {
            let w = members.iter().find(|(m, _)| m == a).map_or(0, |(_, w)| *w);
            let part = fee * u128::from(w) / u128::from(agreeing_power);
            paid += part;
            *pay.entry(a.clone()).or_insert(0) += part;
        }
        if let Some(a) = agreeing.first() {
            *pay.entry(a.clone()).or_insert(0) += fee - paid;
        }
    }
    for (a, w) in &members {
        let Some(&i) = sim.index.get(a) else {
            continue;
        };
        if res.jailed_at[i].is_some_and(|j| j <= submitted + 1) {
            res.jailed_seated += w;
        }
        if excused.contains(a) {
            res.excused += 1;
        }
        let t = &mut res.tally[i];
        t.seats += w;
        t.jobs += 1;
        t.paid += pay.get(a).copied().unwrap_or(0);
        let slashed = wrong_faults.contains(a);
        if slashed {
            t.slashed += 1;
            if vals[i].strategy.honest() {
                res.honest_slashed += 1;
                if !captured {
                    res.honest_slashed_uncaptured += 1;
                }
            }
        }
        if grey.contains(a) {
            t.grey += 1;
        }
        if late.contains(a) {
            t.late += 1;
        }
        // Ground truth: the answer it revealed (if it did) far from the true output.
        let revealed = !missing.contains(a) && !excused.contains(a);
        let truly_wrong = revealed
            && answer(vals[i].strategy, &refr, seed, id, i).is_some_and(|o| {
                let d = digest_of(&o, id, TOLERANCE_NANO, OUT_LEN);
                judge(&d, &ref_digest, RTOL_NANO, OUT_LEN, multiple) == Verdict::Wrong
            });
        if completed && truly_wrong && vals[i].strategy == Strategy::SelfJailer {
            res.sj_wrong_completed += 1;
            if slashed {
                res.sj_recorded += 1;
            }
        }
        if completed && truly_wrong && !slashed {
            res.wrong_unslashed += 1;
            if !captured {
                res.wrong_unslashed_uncaptured += 1;
            }
        }
    }
}

/// The whole report of the chain mode.
pub(crate) fn main_chain(
    jobs: u64,
    n: usize,
    seed: u64,
    size: usize,
    missed_window: Option<u64>,
    squat: u64,
) -> bool {
    let start = Instant::now();
    println!("# Verdict adversarial simulation — settlement through the real chain");
    println!();
    println!(
        "jobs {jobs} per run (8 runs: 4 coalitions × without/with grinding), validators {n} \
         (Zipf stake: gentx value ∝ 1/rank), seed {seed}, committee_size {size} (genesis param), \
         {JOBS_PER_BLOCK} job slots/block (local jobs per block: `max_jobs_per_source`), 1 s blocks, max_latency_ms {MAX_LATENCY_MS}, \
         commit_blocks {COMMIT_BLOCKS}, attestation_window_blocks {WINDOW}, outputs {OUT_LEN} × |1..1000|, \
         tolerance_nano {TOLERANCE_NANO}, rtol_nano {RTOL_NANO}, fee {FEE} uverd/job."
    );
    println!();
    println!(
        "Real code: every block is `VerdictApp::finalize_block` + `commit` on a sled `Store` \
         (InitChain with gentxs; MsgRegisterModel, then as many MsgSubmitJob per block as the chain takes from one source, as signed user txs): \
         `verdict_attestation::process_block` (commitments, reveals, commit phases closed by SLA, \
         `settle_job`: median/quorum/grey/wrong, payment through distribution, slashes through \
         slashing within the blast-radius `Budget`, attestation liveness), `beacon::advance` with \
         the proposer's `beacon::contribution` from tx[0], `committee::assign`, staking end block \
         (jailed validators leave the set and later committees). Each validator's vote extension \
         is the real `build_extension` over the committed state (with the `NextBlock` of the \
         block it votes on); its sidecar's answer is `digest_of` of its strategy's output. \
         Skipped: CometBFT, PrepareProposal and ProcessProposal (tx[0] is built by the sim; \
         extension signatures are empty — FinalizeBlock only decodes tx[0]); every validator in \
         the set signs every block. Grinding is decided on committed state with the real \
         `committee::{{bonded, sample, seed}}` (a jail in the same block can make the prediction \
         differ; counted). Results: each settled job's JSON from `/verdict.inference.v1.Query/Job`, \
         `slash` events from FinalizeBlock. `--fast` runs the old pure simulation."
    );
    println!();
    println!(
        "Added adversaries: withholder = the real `build_extension` with its `reveals` cleared \
         (commits to the true answer, never reveals: 2 entries per settling block in its \
         attestation-liveness window, a silent one costs 1); self-jailer = reveals the `wrong` answer, \
         and in the block that records its first reveal its operator sends MsgEditValidator \
         (min_self_delegation = half its stake) + MsgUndelegate (90 %), so staking jails it at once — \
         its reveals must still be judged (`wrong_output`); slot-squatter = an account that registers \
         a second model nobody serves and submits {squat} jobs every block at the job fee floor, \
         ahead of the requester (which pays max(fee, floor), read before each block, up to \
         100 000 uverd, else it waits; the squatter stops above 20 000); refused \
         submissions are retried next block). Squatter jobs are left out of the table and the goals. \
         missed_window (attestation-liveness window, entries): {}.",
        missed_window.map_or("the chain default".into(), |w| format!("{w} (--missed-window)"))
    );
    println!();
    println!(
        "Columns: seats held = committee weight (seats drawn; when the bonded set is no larger than \
         committee_size every bonded validator sits weighted by its power, so jailings can switch a \
         run to power units); paid = uverd as `settle_job` split the fee among `result.agreeing`; \
         slashed = `wrong_output` faults in settled jobs' results; late = seats with no commitment; \
         grey = grey verdicts; jailed = validators of the group jailed (validator update to power 0). \
         Tables are the runs with grinding."
    );
    let mut goals_honest = true;
    let mut goals_forged = true;
    let mut goals_wrong = true;
    let mut goals_fee = true;
    let mut rules = true;
    let mut goals_sj = true;
    for target in [0.10, 0.20, 0.30, 0.40] {
        let vals = validators(n, seed, target);
        let total: u64 = vals.iter().map(|v| v.member.power).sum();
        let cpow: u64 = vals
            .iter()
            .filter(|v| v.strategy == Strategy::Coalition)
            .map(|v| v.member.power)
            .sum();
        let cshare = cpow as f64 / total as f64;
        // The two runs are independent chains: one on another thread.
        let (plain, ground) = std::thread::scope(|sc| {
            let other =
                sc.spawn(|| run_chain(&vals, jobs, seed, size, false, missed_window, squat));
            let ground = run_chain(&vals, jobs, seed, size, true, missed_window, squat);
            (other.join().expect("run without grinding"), ground)
        });
        let control = cshare * 3.0 >= 1.0;
        println!();
        println!(
            "## Coalition of the top validators: {:.1} % of stake ({}){}",
            cshare * 100.0,
            vals.iter()
                .filter(|v| v.strategy == Strategy::Coalition)
                .count(),
            if control {
                " — control above 1/3, not under the goals"
            } else {
                ""
            }
        );
        println!();
        println!(
            "With beacon grinding: {} of {} jobs completed ({} settled, {} blocks of {} local jobs, {:.1} s; \
             without grinding {:.1} s).",
            ground.completed,
            ground.submitted,
            ground.jobs,
            ground.blocks,
            ground.per_block,
            ground.seconds,
            plain.seconds
        );
        println!();
        println!("| strategy | validators | stake % | seats held | jobs seated | paid (fee units) | slashed | late | grey | jailed |");
        println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        for s in Strategy::ALL {
            let idx: Vec<usize> = (0..vals.len()).filter(|&i| vals[i].strategy == s).collect();
            if idx.is_empty() {
                continue;
            }
            let (stake, t) = super::group_total(&vals, &ground.tally, &idx);
            let jailed = idx
                .iter()
                .filter(|&&i| ground.jailed_at[i].is_some())
                .count();
            println!(
                "| {} | {} | {:.1} | {} | {} | {} | {} | {} | {} | {} |",
                s.name(),
                idx.len(),
                pct(stake, total),
                t.seats,
                t.jobs,
                t.paid,
                t.slashed,
                t.late,
                t.grey,
                jailed
            );
        }
        println!();
        for (label, r) in [("without grinding", &plain), ("with grinding", &ground)] {
            println!(
                "- {label}: forged results accepted: {} of {} jobs where it sat; capture rate {:.4} %; \
                 committee share {:.2} % of seats (stake {:.2} %); jobs stalled (coalition ≥ 1/3, not completed) {}; \
                 completed {} of {}{}",
                r.forged_accepted,
                r.coalition_sat,
                pct(r.forged_accepted, r.coalition_sat),
                pct(r.coalition_seats, r.total_seats),
                cshare * 100.0,
                r.stalled_by_coalition,
                r.completed,
                r.submitted,
                if r.grind_blocks > 0 {
                    format!(
                        "; coalition proposed {} blocks with jobs to draw, withheld its element in {} \
                         (prediction ≠ actual draw in {})",
                        r.grind_blocks, r.grind_flips, r.grind_mispredicted
                    )
                } else {
                    String::new()
                }
            );
            let mut jailed: Vec<String> = (0..vals.len())
                .filter_map(|i| {
                    let at = r.jailed_at[i]?;
                    let reasons: Vec<String> = r.slash_events[i]
                        .iter()
                        .map(|(k, (a, c))| {
                            format!(
                                "{k} ×{a}{}",
                                if *c > 0 {
                                    format!(" (+{c} capped)")
                                } else {
                                    String::new()
                                }
                            )
                        })
                        .collect();
                    Some(format!(
                        "rank {} ({}) at height {at}: {}",
                        i + 1,
                        vals[i].strategy.name(),
                        reasons.join(", ")
                    ))
                })
                .collect();
            if jailed.is_empty() {
                jailed.push("none".into());
            }
            let capped: u64 = r
                .slash_events
                .iter()
                .flat_map(|m| m.values())
                .map(|(_, c)| c)
                .sum();
            println!(
                "  - jailed {label}: {}; capped slash events (over the 1/3 budget): {capped}; \
                 seats of validators jailed before their committee was drawn: {}; excused seats: {}",
                jailed.join("; "),
                r.jailed_seated,
                r.excused
            );
            let window = |s: Strategy| -> String {
                (0..vals.len())
                    .filter(|&i| vals[i].strategy == s)
                    .map(|i| {
                        let (seats, missed) = r.att_info[i];
                        format!("rank {} {missed}/{seats}", i + 1)
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let sj: Vec<String> = (0..vals.len())
                .filter_map(|i| {
                    let at = r.self_jail_tx[i]?;
                    Some(format!(
                        "rank {} unbonded at {at}, jailed at {}",
                        i + 1,
                        r.jailed_at[i].map_or("never".into(), |j| j.to_string())
                    ))
                })
                .collect();
            let honest_worst = (0..vals.len())
                .filter(|&i| vals[i].strategy.honest())
                .map(|i| (r.att_info[i].1, r.att_info[i].0, i))
                .max()
                .map_or("none".into(), |(m, e, i)| format!("rank {} {m}/{e}", i + 1));
            println!(
                "  - {label}: liveness window at the end (missed/entries): withholders {}; down {}; \
                 worst honest {honest_worst}; \
                 jobs with withholders ≥ 1/3 of seats {} (failed {}); self-jailers: {}; their wrong \
                 answers on completed jobs {} recorded as wrong_output {}",
                window(Strategy::Withholder),
                window(Strategy::Down),
                r.withheld_third,
                r.withheld_third_failed,
                if sj.is_empty() {
                    "never unbonded".into()
                } else {
                    sj.join("; ")
                },
                r.sj_wrong_completed,
                r.sj_recorded
            );
            let refused: Vec<String> = r
                .req_refused
                .iter()
                .map(|(k, v)| format!("{k} ×{v}"))
                .collect();
            println!(
                "  - squatter {label}: jobs {} (settled {}, completed {}, own submissions refused {}), \
                 fees paid {} uverd, base fees lost {} uverd; requester's jobs refused: {}; requester \
                 raised its fee to the floor in {} blocks; job_fee_floor max {} final {}",
                r.sq_jobs,
                r.sq_settled,
                r.sq_completed,
                r.sq_refused,
                r.sq_fees,
                r.sq_lost,
                if refused.is_empty() {
                    "none".into()
                } else {
                    refused.join(", ")
                },
                r.req_raised,
                r.floor_max,
                r.floor_final
            );
            goals_sj &= r.sj_recorded == r.sj_wrong_completed;
        }
        let size = size as u64;
        let k = (2 * size) / 3 + 1;
        let tail = binomial_tail(size, cshare, k);
        println!(
            "- analytic: P[coalition holds ≥ {k} of {size} seats] = P[Bin({size}, {cshare:.3}) ≥ {k}] = {tail:.2e} per job \
             → {:.2} forged acceptances expected in {jobs} jobs without grinding (ignoring jailing)",
            tail * jobs as f64
        );
        println!(
            "- on jobs that were not captured: honest seats slashed {} / {}, truly wrong answers left unslashed on completed jobs {} / {} (without / with grinding)",
            plain.honest_slashed_uncaptured,
            ground.honest_slashed_uncaptured,
            plain.wrong_unslashed_uncaptured,
            ground.wrong_unslashed_uncaptured
        );
        for r in [&plain, &ground] {
            let fee_ok = r.paid_state == r.fees_completed;
            goals_fee &= fee_ok;
            rules &= fee_ok
                && r.honest_slashed_uncaptured == 0
                && r.wrong_unslashed_uncaptured == 0
                && r.jailed_seated == 0;
            if !control {
                goals_honest &= r.honest_slashed == 0;
                goals_wrong &= r.wrong_unslashed == 0;
                goals_forged &= r.forged_accepted == 0;
            }
        }
        println!(
            "- all jobs: honest seats slashed {} / {}, truly wrong answers left unslashed on completed jobs {} / {}; \
             attestation/paid in state {} / {} uverd vs the fees of the completed jobs {} / {} (without / with grinding)",
            plain.honest_slashed,
            ground.honest_slashed,
            plain.wrong_unslashed,
            ground.wrong_unslashed,
            plain.paid_state,
            ground.paid_state,
            plain.fees_completed,
            ground.fees_completed
        );
    }
    let pf = |b: bool| if b { "PASS" } else { "FAIL" };
    println!();
    println!(
        "goals (coalitions < 1/3): honest slashed = 0: {}; forged accepted = 0 for coalitions < 1/3: {}; \
         every wrong answer on a completed job slashed: {}; self-jailers escape = 0: {}; \
         (fee fully paid out on every completed job, attestation/paid: {})",
        pf(goals_honest),
        pf(goals_forged),
        pf(goals_wrong),
        pf(goals_sj),
        pf(goals_fee)
    );
    println!(
        "settlement rules on every job not captured (no honest slash, every wrong answer slashed, fee paid out, \
         no jailed validator drawn): {}",
        pf(rules)
    );
    println!();
    println!("wall time {:.2} s", start.elapsed().as_secs_f64());
    rules
}
