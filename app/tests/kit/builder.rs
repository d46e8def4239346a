//! [`TestNetBuilder`]: what the genesis of a test net holds, written as
//! CometBFT's InitChain request (genesis time, chain id, consensus params,
//! genesis validators and `app_state`) and given to every node.

use serde_json::{json, Value};
use tendermint_proto::v0_38::abci::{RequestInitChain, ValidatorUpdate};
use tendermint_proto::v0_38::crypto::{public_key::Sum, PublicKey};
use tendermint_proto::v0_38::types::{AbciParams, ConsensusParams};

use super::keys::{consensus_key, gentx, user};
use super::net::{Node, TestNet};
use super::{operator, Behaviour, CHAIN, GENESIS_POWER, GENESIS_TIME, TEST_CHAIN};

/// Where the validators of a test net come from.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Genesis {
    /// Each validator's operator is funded and bonds its stake in a gentx: the
    /// set is staking's, as on a real network.
    Gentxs,
    /// CometBFT's genesis validators, [`GENESIS_POWER`] each, no staking
    /// validator at all (nor any operator account).
    CometBft,
}

/// Builds a [`TestNet`]; see the methods for the defaults.
#[derive(Clone, Debug)]
pub struct TestNetBuilder {
    chain_id: String,
    behaviours: Vec<Behaviour>,
    attestors: bool,
    genesis: Genesis,
    genesis_time: i64,
    user_coins: u128,
    operator_coins: u128,
    stakes: Vec<u128>,
    commission: String,
    inference_params: Option<Value>,
    app_state: Value,
    next_validators_hash: Vec<u8>,
    replay: bool,
    fee: u128,
    gas: u64,
    /// More coins of the user's at genesis (`"5ibc/AB,7foo"`, sorted, each
    /// before `uverd`).
    user_extra_coins: String,
}

impl Default for TestNetBuilder {
    fn default() -> Self {
        TestNetBuilder {
            chain_id: TEST_CHAIN.into(),
            behaviours: vec![Behaviour::Honest],
            attestors: false,
            genesis: Genesis::Gentxs,
            genesis_time: GENESIS_TIME,
            user_coins: 1_000_000_000_000,
            user_extra_coins: String::new(),
            operator_coins: 1_000_000_000,
            stakes: vec![],
            commission: "50000000000000000".into(),
            inference_params: None,
            app_state: json!({}),
            next_validators_hash: vec![],
            replay: false,
            fee: 10_000,
            gas: 400_000,
        }
    }
}

impl TestNet {
    /// One validator, staking's (from a gentx), no attestor, chain
    /// `verdict-test`, vote extensions from height 1.
    pub fn builder() -> TestNetBuilder {
        TestNetBuilder::default()
    }

    /// The inference preset: one validator per behaviour, each with an
    /// attestor, jobs attested in `window` blocks by committees of 4.
    pub fn inference(behaviours: &[Behaviour], window: u64) -> TestNetBuilder {
        TestNet::builder()
            .chain_id(CHAIN)
            .behaviours(behaviours)
            .inference_params(
                json!({"committee_size": 4, "attestation_window_blocks": window,
                "commit_blocks": (window / 2).saturating_sub(1).max(3),
                "max_jobs_per_block": 4}),
            )
    }

    /// The inference preset, started (see [`TestNetBuilder::start`]).
    pub fn new(behaviours: &[Behaviour], window: u64) -> TestNet {
        TestNet::inference(behaviours, window).start()
    }
}

impl TestNetBuilder {
    pub fn chain_id(mut self, id: &str) -> Self {
        self.chain_id = id.into();
        self
    }

    /// `n` validators (nodes), without attestors.
    pub fn validators(mut self, n: usize) -> Self {
        self.behaviours = vec![Behaviour::Honest; n];
        self.attestors = false;
        self
    }

    /// One validator per behaviour, each with an attestor the kit feeds as
    /// that behaviour's sidecar would.
    pub fn behaviours(mut self, behaviours: &[Behaviour]) -> Self {
        self.behaviours = behaviours.to_vec();
        self.attestors = true;
        self
    }

    /// Validators from gentxs (the default).
    pub fn gentxs(mut self) -> Self {
        self.genesis = Genesis::Gentxs;
        self
    }

    /// CometBFT's genesis validators only (power [`GENESIS_POWER`]): no
    /// gentx, no operator account.
    pub fn genesis_validators_only(mut self) -> Self {
        self.genesis = Genesis::CometBft;
        self
    }

    /// Genesis time in seconds (default [`GENESIS_TIME`]); height `h` is `h`
    /// seconds later.
    pub fn genesis_time(mut self, seconds: i64) -> Self {
        self.genesis_time = seconds;
        self
    }

    /// The user's genesis balance in uverd (default 1 000 000 VERD).
    pub fn user_coins(mut self, uverd: u128) -> Self {
        self.user_coins = uverd;
        self
    }

    /// Each validator's self-bond in uverd (default 100 VERD each; a missing
    /// entry is 100 VERD).
    pub fn stakes(mut self, uverd: &[u128]) -> Self {
        self.stakes = uverd.to_vec();
        self
    }

    /// The validators' commission rate, 18-decimal atomics (default 5%).
    pub fn commission(mut self, atomics: &str) -> Self {
        self.commission = atomics.into();
        self
    }

    /// The user also holds `coins` at genesis (denoms sorting before `uverd`).
    pub fn user_also_holds(mut self, coins: &str) -> Self {
        self.user_extra_coins = coins.into();
        self
    }

    /// Inference params, merged over the ones set so far.
    pub fn inference_params(mut self, params: Value) -> Self {
        let mut have = self.inference_params.take().unwrap_or_else(|| json!({}));
        merge(&mut have, &params);
        self.inference_params = Some(have);
        self
    }

    /// `app_state` sections, merged (recursively) over what the builder
    /// writes.
    pub fn app_state(mut self, extra: Value) -> Self {
        merge(&mut self.app_state, &extra);
        self
    }

    /// What every FinalizeBlock gets as the header's `next_validators_hash`
    /// (default empty).
    pub fn next_validators_hash(mut self, hash: Vec<u8>) -> Self {
        self.next_validators_hash = hash;
        self
    }

    /// Finalize every block twice on every node, as after a crash before
    /// Commit, and check the replay gives the same hash, results and events.
    pub fn replay_every_block(mut self) -> Self {
        self.replay = true;
        self
    }

    /// Fee (uverd) and gas limit of the user's transactions (default 10 000
    /// and 400 000).
    pub fn tx_fee(mut self, fee: u128, gas: u64) -> Self {
        self.fee = fee;
        self.gas = gas;
        self
    }

    fn stake(&self, i: usize) -> u128 {
        self.stakes.get(i).copied().unwrap_or(100_000_000)
    }

    /// The InitChain request every node gets.
    pub fn init_chain_request(&self) -> RequestInitChain {
        let n = self.behaviours.len();
        let coins = if self.user_extra_coins.is_empty() {
            format!("{}uverd", self.user_coins)
        } else {
            format!("{},{}uverd", self.user_extra_coins, self.user_coins)
        };
        let mut balances = vec![json!({"address": user().address().bech32(), "coins": coins})];
        let mut app_state = json!({
            "app": {"params": {"max_vote_extension_bytes": 8192}},
        });
        if self.genesis == Genesis::Gentxs {
            for i in 0..n as u8 {
                balances.push(json!({"address": operator(i).address().bech32(),
                                     "coins": format!("{}uverd", self.operator_coins)}));
            }
            let gentxs: Vec<String> = (0..n)
                .map(|i| {
                    let key = consensus_key(i as u8);
                    gentx(
                        &self.chain_id,
                        i as u8,
                        &key,
                        self.stake(i),
                        &self.commission,
                    )
                })
                .collect();
            app_state["staking"] = json!({ "gentxs": gentxs });
        }
        app_state["bank"] = json!({ "balances": balances });
        if let Some(p) = &self.inference_params {
            app_state["inference"] = json!({ "params": p });
        }
        merge(&mut app_state, &self.app_state);
        let validators = (0..n)
            .map(|i| ValidatorUpdate {
                pub_key: Some(PublicKey {
                    sum: Some(Sum::Ed25519(
                        consensus_key(i as u8)
                            .verification_key()
                            .to_bytes()
                            .to_vec(),
                    )),
                }),
                power: match self.genesis {
                    Genesis::Gentxs => i64::try_from(self.stake(i) / 1_000_000).expect("power"),
                    Genesis::CometBft => GENESIS_POWER,
                },
            })
            .collect();
        RequestInitChain {
            time: Some(tendermint_proto::google::protobuf::Timestamp {
                seconds: self.genesis_time,
                nanos: 0,
            }),
            chain_id: self.chain_id.clone(),
            consensus_params: Some(ConsensusParams {
                abci: Some(AbciParams {
                    vote_extensions_enable_height: 1,
                }),
                ..Default::default()
            }),
            validators,
            app_state_bytes: app_state.to_string().into_bytes().into(),
            initial_height: 1,
        }
    }

    /// The net at genesis: every node has run InitChain (and agrees on its
    /// hash), no block yet.
    pub fn build(self) -> TestNet {
        let req = self.init_chain_request();
        let nodes: Vec<Node> = self
            .behaviours
            .iter()
            .enumerate()
            .map(|(i, b)| Node::open(i as u8, *b, self.attestors))
            .collect();
        let mut net = TestNet::empty(
            nodes,
            self.chain_id,
            self.genesis_time,
            self.next_validators_hash,
            self.replay,
            (self.fee, self.gas),
        );
        net.init_chain(&req, self.genesis == Genesis::Gentxs);
        net
    }

    /// The net after its first (empty) height.
    pub fn start(self) -> TestNet {
        let mut net = self.build();
        net.run_height(vec![]);
        net
    }
}

/// `extra` over `base`: objects merge key by key, anything else replaces.
fn merge(base: &mut Value, extra: &Value) {
    match (base, extra) {
        (Value::Object(b), Value::Object(e)) => {
            for (k, v) in e {
                merge(b.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
        (b, e) => *b = e.clone(),
    }
}
