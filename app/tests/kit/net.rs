//! [`TestNet`]: the nodes and the heights CometBFT would run on them.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Deref;

use ed25519_consensus::SigningKey;
use prost::Message;
use tendermint_abci::Application;
use tendermint_proto::google::protobuf::Timestamp;
use tendermint_proto::v0_38::abci::{
    response_process_proposal::ProposalStatus, response_verify_vote_extension::VerifyStatus,
    CommitInfo, ExtendedCommitInfo, ExtendedVoteInfo, RequestExtendVote, RequestFinalizeBlock,
    RequestInitChain, RequestPrepareProposal, RequestProcessProposal, RequestVerifyVoteExtension,
    ResponseFinalizeBlock, Validator, ValidatorUpdate, VoteInfo,
};
use tendermint_proto::v0_38::crypto::public_key::Sum;
use verdict_app::app::tendermint_address;
use verdict_app::store::Store;
use verdict_app::vote_ext::extension_sign_bytes;
use verdict_app::VerdictApp;
use verdict_proto::app::v1::VoteExtension;

use super::keys::{attestor_with, consensus_address, consensus_key};
use super::Behaviour;

/// A node's running app; `restart` takes it down and opens it again from
/// disk. Dereferences to the `VerdictApp`.
pub struct NodeApp(Option<VerdictApp>);

impl Deref for NodeApp {
    type Target = VerdictApp;
    fn deref(&self) -> &VerdictApp {
        self.0.as_ref().expect("node is running")
    }
}

/// One validator's node: its store directory, app and consensus key.
pub struct Node {
    pub dir: tempfile::TempDir,
    pub app: NodeApp,
    pub key: SigningKey,
    pub behaviour: Behaviour,
    /// Whether it attests inference jobs (has an attestor).
    pub attests: bool,
    pub index: u8,
    /// Whether its store keeps the tx index (`index-txs`); read at (re)start.
    pub tx_index: bool,
}

impl Node {
    /// Node `i` over a fresh store.
    pub fn open(i: u8, behaviour: Behaviour, attests: bool) -> Node {
        let mut node = Node {
            dir: tempfile::tempdir().expect("tempdir"),
            app: NodeApp(None),
            key: consensus_key(i),
            behaviour,
            attests,
            index: i,
            tx_index: true,
        };
        node.app = NodeApp(Some(node.start()));
        node
    }

    fn start(&self) -> VerdictApp {
        let store = Store::open(self.dir.path()).expect("open");
        let app = VerdictApp::new(store.with_tx_index(self.tx_index)).with_invariant_checks(true);
        if self.attests {
            app.with_attestor(attestor_with(&self.key, self.index, self.behaviour))
        } else {
            app
        }
    }

    /// A crash and restart: everything in memory is lost (the block in
    /// flight, the attestor's results); the store is opened again.
    pub fn restart(&mut self) {
        self.app = NodeApp(None);
        self.app = NodeApp(Some(self.start()));
    }

    pub fn addr(&self) -> Vec<u8> {
        consensus_address(&self.key)
    }

    pub fn hex(&self) -> String {
        hex::encode_upper(self.addr())
    }
}

/// The plain commit (what ProcessProposal and FinalizeBlock get) of an
/// extended one.
pub fn plain(c: &ExtendedCommitInfo) -> CommitInfo {
    CommitInfo {
        round: c.round,
        votes: c
            .votes
            .iter()
            .map(|v| VoteInfo {
                validator: v.validator.clone(),
                block_id_flag: v.block_id_flag,
            })
            .collect(),
    }
}

pub struct TestNet {
    pub chain_id: String,
    pub nodes: Vec<Node>,
    /// Extended commit of the last decided height.
    pub last: Option<ExtendedCommitInfo>,
    pub height: i64,
    /// InitChain's app hash, and node 0's app hash after each height (index 0
    /// is height 1).
    pub genesis_hash: Vec<u8>,
    pub hashes: Vec<Vec<u8>>,
    /// Node 0's FinalizeBlock response of the last height.
    pub response: Option<ResponseFinalizeBlock>,
    /// CometBFT's validator set (address → power) and the updates still pending.
    pub active: BTreeMap<Vec<u8>, i64>,
    pub pending: Vec<(i64, Vec<ValidatorUpdate>)>,
    /// Jobs each node's sidecar already answered.
    pub fed: Vec<BTreeSet<u64>>,
    /// Validators whose extensions the proposer leaves out.
    pub drop: BTreeSet<Vec<u8>>,
    /// Validators that do not precommit (absent from the commit).
    pub absent: BTreeSet<Vec<u8>>,
    pub user_seq: u64,
    /// Models every validator's operator declares serving in the next block
    /// (after that block's other txs): set by `register`.
    pub serve_next: Vec<String>,
    /// Fee (uverd) and gas limit of the user's transactions.
    pub fee: u128,
    pub gas: u64,
    genesis_time: i64,
    time_shift: i64,
    next_validators_hash: Vec<u8>,
    replay: bool,
    /// The node that proposed in the round in flight, if not the rotation's.
    round_proposer: Option<usize>,
}

impl TestNet {
    pub(super) fn empty(
        nodes: Vec<Node>,
        chain_id: String,
        genesis_time: i64,
        next_validators_hash: Vec<u8>,
        replay: bool,
        (fee, gas): (u128, u64),
    ) -> TestNet {
        let fed = vec![BTreeSet::new(); nodes.len()];
        TestNet {
            chain_id,
            nodes,
            last: None,
            height: 0,
            genesis_hash: vec![],
            hashes: vec![],
            response: None,
            active: BTreeMap::new(),
            pending: vec![],
            fed,
            drop: BTreeSet::new(),
            absent: BTreeSet::new(),
            user_seq: 0,
            serve_next: vec![],
            fee,
            gas,
            genesis_time,
            time_shift: 0,
            next_validators_hash,
            replay,
            round_proposer: None,
        }
    }

    /// InitChain on every node; they must agree. The set CometBFT starts with
    /// is the one the app returns (staking's), or else the request's.
    pub(super) fn init_chain(&mut self, req: &RequestInitChain, gentxs: bool) {
        let resps: Vec<_> = self
            .nodes
            .iter()
            .map(|n| n.app.init_chain(req.clone()))
            .collect();
        assert!(
            resps.windows(2).all(|w| w[0].app_hash == w[1].app_hash),
            "genesis hash differs"
        );
        if gentxs {
            assert_eq!(
                resps[0].validators.len(),
                self.nodes.len(),
                "gentxs make the set"
            );
        }
        let set = if resps[0].validators.is_empty() {
            &req.validators
        } else {
            &resps[0].validators
        };
        for u in set {
            if let Some(Sum::Ed25519(pk)) = u.pub_key.as_ref().and_then(|k| k.sum.clone()) {
                self.active.insert(tendermint_address(&pk), u.power);
            }
        }
        self.genesis_hash = resps[0].app_hash.to_vec();
    }

    /// Node 0's app.
    pub fn app(&self) -> &VerdictApp {
        &self.nodes[0].app
    }

    /// Node 0's app hash after height `h` (≥ 1).
    pub fn app_hash(&self, h: i64) -> &[u8] {
        &self.hashes[usize::try_from(h - 1).expect("height")]
    }

    /// Block time of height `h` (shifted by every `skip_time` so far).
    pub fn time(&self, h: i64) -> Timestamp {
        Timestamp {
            seconds: self.genesis_time + h + self.time_shift,
            nanos: 0,
        }
    }

    /// The next heights come `seconds` later than they would have.
    pub fn skip_time(&mut self, seconds: i64) {
        self.time_shift += seconds;
    }

    /// Crash and restart node `i` (see [`Node::restart`]); its sidecar
    /// answers its jobs again.
    pub fn restart(&mut self, i: usize) {
        self.nodes[i].restart();
        self.fed[i].clear();
    }

    /// The nodes in CometBFT's validator set.
    pub fn voters(&self) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|i| self.active.contains_key(&self.nodes[*i].addr()))
            .collect()
    }

    /// The proposer of the next height: the last node asked to `propose` in
    /// this round, or else the rotation's.
    pub fn proposer(&self) -> usize {
        self.round_proposer.unwrap_or_else(|| {
            let voters = self.voters();
            voters[(self.height + 1) as usize % voters.len()]
        })
    }

    /// PrepareProposal of the next height on node `proposer`, with `txs` from
    /// its mempool; the extensions of `drop` are left out of its local commit.
    pub fn propose(&mut self, proposer: usize, txs: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
        self.round_proposer = Some(proposer);
        let h = self.height + 1;
        let mut local = self.last.clone();
        if let Some(c) = &mut local {
            c.votes.retain(|v| {
                !self
                    .drop
                    .contains(&v.validator.as_ref().expect("validator").address.to_vec())
            });
        }
        self.nodes[proposer]
            .app
            .prepare_proposal(RequestPrepareProposal {
                max_tx_bytes: 1 << 20,
                txs: txs.into_iter().map(Into::into).collect(),
                local_last_commit: local,
                height: h,
                time: Some(self.time(h)),
                proposer_address: self.nodes[proposer].addr().into(),
                ..Default::default()
            })
            .txs
            .into_iter()
            .map(|t| t.to_vec())
            .collect()
    }

    /// ProcessProposal of `block` (for the next height) on node `node`.
    pub fn process(&self, node: usize, block: &[Vec<u8>]) -> ProposalStatus {
        let h = self.height + 1;
        let st = self.nodes[node]
            .app
            .process_proposal(RequestProcessProposal {
                txs: block.iter().cloned().map(Into::into).collect(),
                proposed_last_commit: self.last.as_ref().map(plain),
                height: h,
                time: Some(self.time(h)),
                proposer_address: self.nodes[self.proposer()].addr().into(),
                next_validators_hash: self.next_validators_hash.clone().into(),
                ..Default::default()
            });
        ProposalStatus::try_from(st.status).expect("status")
    }

    /// FinalizeBlock of `block` (as the next height) on node `node`; nothing
    /// is committed.
    pub fn finalize(&self, node: usize, block: &[Vec<u8>]) -> ResponseFinalizeBlock {
        let h = self.height + 1;
        let resp = self.nodes[node].app.finalize_block(RequestFinalizeBlock {
            txs: block.iter().cloned().map(Into::into).collect(),
            decided_last_commit: self.last.as_ref().map(plain),
            hash: vec![h as u8; 32].into(),
            height: h,
            time: Some(self.time(h)),
            next_validators_hash: self.next_validators_hash.clone().into(),
            proposer_address: self.nodes[self.proposer()].addr().into(),
            ..Default::default()
        });
        assert_eq!(resp.tx_results.len(), block.len(), "one result per tx");
        resp
    }

    /// Commit on node `node`.
    pub fn commit(&self, node: usize) {
        self.nodes[node].app.commit();
    }

    /// Node i's precommit of `block` at height h, with its vote extension
    /// (every node verifies it), or its absence.
    pub fn vote(&self, i: usize, h: i64, block: &[Vec<u8>]) -> ExtendedVoteInfo {
        let n = &self.nodes[i];
        let validator = Some(Validator {
            address: n.addr().into(),
            power: self.active[&n.addr()],
        });
        if self.absent.contains(&n.addr()) {
            return ExtendedVoteInfo {
                validator,
                block_id_flag: 1,
                ..Default::default()
            };
        }
        let mut ext = n
            .app
            .extend_vote(RequestExtendVote {
                height: h,
                time: Some(self.time(h)),
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
        let sig = n
            .key
            .sign(&extension_sign_bytes(&ext, h, 0, &self.chain_id));
        ExtendedVoteInfo {
            validator,
            vote_extension: ext.into(),
            extension_signature: sig.to_bytes().to_vec().into(),
            block_id_flag: 2,
        }
    }

    /// One height: the proposer proposes `txs`, every node accepts the
    /// proposal, every node in CometBFT's set votes, every node finalizes (the
    /// same app hash) and commits. Returns node 0's response.
    pub fn run_height(&mut self, mut txs: Vec<Vec<u8>>) -> ResponseFinalizeBlock {
        let serve = std::mem::take(&mut self.serve_next);
        if !serve.is_empty() {
            for i in 0..self.nodes.len() {
                txs.push(self.serve_tx(i as u8, &serve, true));
            }
        }
        self.feed();
        let h = self.height + 1;
        let proposer = self.proposer();
        let block = self.propose(proposer, txs);
        for i in 0..self.nodes.len() {
            assert_eq!(
                self.process(i, &block),
                ProposalStatus::Accept,
                "proposal at {h} on node {i}"
            );
        }
        let votes: Vec<ExtendedVoteInfo> = self
            .voters()
            .iter()
            .map(|i| self.vote(*i, h, &block))
            .collect();
        let resps: Vec<ResponseFinalizeBlock> = (0..self.nodes.len())
            .map(|i| {
                let r = self.finalize(i, &block);
                if self.replay {
                    let again = self.finalize(i, &block);
                    assert_eq!(r.app_hash, again.app_hash, "replay of height {h}");
                    assert_eq!(r.tx_results, again.tx_results, "replay of height {h}");
                    assert_eq!(r.events, again.events, "replay of height {h}");
                }
                r
            })
            .collect();
        assert!(
            resps.windows(2).all(|w| w[0].app_hash == w[1].app_hash),
            "app hash differs at {h}"
        );
        for i in 0..self.nodes.len() {
            self.commit(i);
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
        self.round_proposer = None;
        let r = resps.into_iter().next().expect("node 0");
        self.hashes.push(r.app_hash.to_vec());
        self.response = Some(r.clone());
        r
    }

    /// `n` empty heights.
    pub fn run_heights(&mut self, n: usize) {
        for _ in 0..n {
            self.run_height(vec![]);
        }
    }

    /// Every module's books on every node's committed state.
    pub fn check_invariants(&self) {
        for (i, n) in self.nodes.iter().enumerate() {
            verdict_app::modules::check_invariants(n.app.store())
                .unwrap_or_else(|e| panic!("invariants of node {i}: {e}"));
        }
    }
}
