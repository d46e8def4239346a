//! Inference on a test net: each attesting node's sidecar stand-in, and the
//! model and job helpers.

use prost::Message;
use serde_json::{json, Value};
use tendermint_proto::v0_38::abci::ResponseFinalizeBlock;
use verdict_proto::inference::v1 as pb;

use super::keys::{operator, user};
use super::net::TestNet;
use super::{Behaviour, MODEL};

impl TestNet {
    /// Each attesting node's sidecar answers the live jobs it sits on, as its
    /// behaviour says (run before every height).
    pub fn feed(&mut self) {
        if self.height == 0 || !self.nodes.iter().any(|n| n.attests) {
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
                    Some("completed" | "failed" | "expired" | "overturned")
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
                // The answer depends on the inputs only: a challenge's re-run
                // (same inputs) has its original's.
                let base = j["challenge_of"].as_u64().filter(|x| *x > 0).unwrap_or(id);
                let mut digest: Vec<i64> = (0..8).map(|k| base as i64 * 100 + k).collect();
                if n.behaviour == Behaviour::Wrong {
                    digest[3] += 1000;
                }
                if n.behaviour == Behaviour::Colluder && self.colluders_hold(j) {
                    digest[3] += 2000;
                }
                if n.behaviour == Behaviour::Flipper && base != id {
                    digest[3] += 3000;
                }
                // A slow node lies: it reports 1 ms (the chain never asks).
                let latency = if n.behaviour == Behaviour::Slow {
                    1
                } else {
                    12
                };
                att.insert_ran(id, digest, latency, "onnxruntime/kit cpu");
                self.fed[i].insert(id);
            }
        }
    }

    /// Whether the `Colluder` nodes hold more than 2/3 of job `j`'s seats.
    fn colluders_hold(&self, j: &Value) -> bool {
        let (mut ours, mut all) = (0u64, 0u64);
        for m in j["committee"].as_array().expect("committee") {
            let seats = m["seats"].as_u64().unwrap_or(0);
            all += seats;
            if self
                .nodes
                .iter()
                .any(|n| n.behaviour == Behaviour::Colluder && m["address"] == n.hex())
            {
                ours += seats;
            }
        }
        3 * ours > 2 * all
    }

    /// The user registers [`MODEL`] (an mlp: 2 inputs, 8 outputs) by URI;
    /// every validator's operator then declares serving it in the same block
    /// (as the local nets do once their sidecars have it).
    pub fn register(&mut self) -> Vec<u8> {
        self.serve_next.push(MODEL.into());
        self.register_tx()
    }

    /// Operator `i`'s `MsgServeModel` for `models`.
    pub fn serve_tx(&self, i: u8, models: &[String], serve: bool) -> Vec<u8> {
        let m = pb::MsgServeModel {
            operator: operator(i).address().valoper(),
            model_ids: models.to_vec(),
            serve,
        };
        self.tx_by(
            &operator(i),
            vec![cosmrs::Any {
                type_url: pb::MSG_SERVE_MODEL_URL.into(),
                value: m.encode_to_vec(),
            }],
        )
    }

    /// The user's `MsgRegisterModel` for [`MODEL`] at `uris`, `size_bytes`.
    pub fn register_msg(uris: Vec<String>, size_bytes: u64) -> pb::MsgRegisterModel {
        verdict_inference::msgs::mlp_register_msg(
            user().address().bech32(),
            MODEL,
            uris,
            size_bytes,
        )
    }

    /// The user's `MsgRegisterModel` for [`MODEL`], nobody declared serving.
    pub fn register_tx(&mut self) -> Vec<u8> {
        let m = Self::register_msg(vec![format!("http://models.example/{MODEL}.onnx")], 1_024);
        self.user_tx(vec![cosmrs::Any {
            type_url: pb::MSG_REGISTER_MODEL_URL.into(),
            value: m.encode_to_vec(),
        }])
    }

    /// The user's job for [`MODEL`] on input `data` of `shape`, paying `fee`.
    pub fn submit_msg(data: Vec<u8>, shape: Vec<i64>, fee: u128) -> cosmrs::Any {
        Self::submit_msg_in(data, shape, fee, "uverd")
    }

    /// [`Self::submit_msg`] with the fee in `denom`.
    pub fn submit_msg_in(data: Vec<u8>, shape: Vec<i64>, fee: u128, denom: &str) -> cosmrs::Any {
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
                    denom: denom.into(),
                    amount: fee.to_string(),
                }),
                spec_hash: String::new(),
            }
            .encode_to_vec(),
        }
    }

    /// The user's next job: one input row, 40 000 uverd.
    pub fn submit(&mut self) -> Vec<u8> {
        self.user_tx(vec![Self::submit_msg(vec![0; 8], vec![1, 2], 40_000)])
    }

    /// Submits the user's next job and runs its height and `more` empty ones;
    /// returns every height's response.
    pub fn job_round(&mut self, more: usize) -> Vec<ResponseFinalizeBlock> {
        let sub = self.submit();
        let mut rs = vec![self.run_height(vec![sub])];
        for _ in 0..more {
            rs.push(self.run_height(vec![]));
        }
        rs
    }

    /// Registers the model, submits one job, runs until it settles; returns the
    /// job and the response of its settling block.
    pub fn one_job(&mut self) -> (Value, ResponseFinalizeBlock) {
        self.one_job_with(|net| net.submit())
    }

    /// [`Self::one_job`] with the submission `sub` makes (a tx of the user's,
    /// signed after the registration's).
    pub fn one_job_with(
        &mut self,
        sub: impl FnOnce(&mut Self) -> Vec<u8>,
    ) -> (Value, ResponseFinalizeBlock) {
        let reg = self.register();
        let r = self.run_height(vec![reg]);
        assert!(
            r.tx_results.iter().all(|t| t.code == 0),
            "{:?}",
            r.tx_results
        );
        let sub = sub(self);
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
