//! The ABCI 2.0 application CometBFT drives.
//!
//! One `VerdictApp` is cloned per ABCI connection (consensus, mempool, query,
//! snapshot). The committed store is shared and read without locks; the state of
//! the block being decided sits behind one mutex.
//!
//! # Invariants
//! - FinalizeBlock(h) always starts from committed state h-1 (plus, for the first
//!   block, the genesis writes of InitChain), never from anything PrepareProposal,
//!   ProcessProposal or an earlier FinalizeBlock left behind, so a replay after a
//!   crash recomputes exactly the same app hash.
//! - Nothing reaches disk before Commit.

use std::sync::{Arc, Mutex, MutexGuard};

use cosmwasm_std::Storage;
use tendermint_abci::Application;
use tendermint_proto::v0_38::abci::{
    RequestApplySnapshotChunk, RequestLoadSnapshotChunk, RequestOfferSnapshot,
    ResponseApplySnapshotChunk, ResponseListSnapshots, ResponseLoadSnapshotChunk,
    ResponseOfferSnapshot,
};
use tendermint_proto::v0_38::abci::{
    RequestCheckTx, RequestExtendVote, RequestFinalizeBlock, RequestInfo, RequestInitChain,
    RequestPrepareProposal, RequestProcessProposal, RequestQuery, RequestVerifyVoteExtension,
    ResponseCheckTx, ResponseCommit, ResponseExtendVote, ResponseFinalizeBlock, ResponseInfo,
    ResponseInitChain, ResponsePrepareProposal, ResponseProcessProposal, ResponseQuery,
    ResponseVerifyVoteExtension, ValidatorUpdate as AbciValidatorUpdate,
};
use tendermint_proto::v0_38::crypto::public_key::Sum;
use verdict_core::module::ValidatorUpdate;

use crate::attestor::Attestor;
use crate::error::{halt, TxError};
use crate::state;
use crate::store::{IndexedTx, Overlay, PendingCommit, StateView, Store};
use crate::tx::{self, Mode};
use crate::vote_ext;

pub const APP_VERSION: u64 = 1;

/// Tx index entries dropped per block at most (see `App::commit`).
const TX_INDEX_PRUNE_PER_BLOCK: usize = 2_000;

/// State of the block in flight. Reset at every FinalizeBlock.
#[derive(Default)]
pub(crate) struct BlockState {
    /// Genesis writes, kept in memory until the first block commits them.
    pub(crate) genesis: Option<(u64, Overlay)>,
    /// FinalizeBlock's result, waiting for Commit.
    pub(crate) pending: Option<PendingCommit>,
    /// Index entries of the pending block's transactions (not consensus state).
    pub(crate) pending_txs: Vec<IndexedTx>,
    /// CheckTx state: committed state plus the mempool's accepted txs since the
    /// last Commit. Reset at Commit; CometBFT's recheck then rebuilds it, so
    /// txs made stale by the block leave the mempool.
    check: Overlay,
}

#[derive(Clone)]
pub struct VerdictApp {
    pub(crate) store: Arc<Store>,
    block: Arc<Mutex<BlockState>>,
    /// Check the books after every block and halt if they disagree.
    pub(crate) check_invariants: bool,
    /// This validator's attestation side (sidecar results → vote extensions).
    pub(crate) attestor: Option<Arc<Attestor>>,
    /// Stop after committing this height, or the first block at or after this
    /// block time (Unix seconds): `verdictd start --halt-height/--halt-time`.
    halt: Halt,
    /// Blocks CometBFT keeps behind the latest (0: all).
    min_retain_blocks: u64,
    /// State sync: snapshots taken and served, and a restore in progress.
    pub(crate) snapshots: Arc<crate::snapshot::Snapshots>,
}

/// When to stop for an upgrade (0: never).
#[derive(Clone, Copy, Debug, Default)]
pub struct Halt {
    pub height: u64,
    pub time_seconds: i64,
}

impl VerdictApp {
    pub fn new(store: Store) -> Self {
        VerdictApp {
            store: Arc::new(store),
            block: Arc::new(Mutex::new(BlockState::default())),
            check_invariants: false,
            attestor: None,
            halt: Halt::default(),
            min_retain_blocks: 0,
            snapshots: Arc::default(),
        }
    }

    /// CometBFT may prune blocks more than `n` behind the latest (0: never).
    pub fn with_min_retain_blocks(mut self, n: u64) -> Self {
        self.min_retain_blocks = n;
        self
    }

    /// Stop cleanly after the block `halt` names (see [`Halt`]).
    pub fn with_halt(mut self, halt: Halt) -> Self {
        self.halt = halt;
        self
    }

    /// True when the block just committed is the one to stop after.
    fn halt_due(&self, height: u64) -> bool {
        let Halt {
            height: at,
            time_seconds,
        } = self.halt;
        if at > 0 && height >= at {
            return true;
        }
        time_seconds > 0
            && self.with_committed(|s| {
                state::LAST_BLOCK
                    .may_load(s)
                    .ok()
                    .flatten()
                    .is_some_and(|b| b.time_seconds >= time_seconds)
            })
    }

    pub fn attestor(&self) -> Option<&Attestor> {
        self.attestor.as_deref()
    }

    /// Attest inference jobs as the validator `attestor` speaks for.
    pub fn with_attestor(mut self, attestor: Attestor) -> Self {
        self.attestor = Some(Arc::new(attestor));
        self
    }

    /// Runs the supply and staking invariants after every block (`verdictd start
    /// --check-invariants`); a broken invariant halts the node with the reason.
    pub fn with_invariant_checks(mut self, on: bool) -> Self {
        self.check_invariants = on;
        self
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, BlockState> {
        // A poisoned lock means a handler panicked mid-block: state is unknown.
        self.block
            .lock()
            .unwrap_or_else(|_| halt("block state lock poisoned by an earlier panic"))
    }

    /// Reads committed state (or, before the first commit, genesis writes) with a
    /// throwaway overlay.
    pub(crate) fn with_committed<R>(&self, f: impl FnOnce(&dyn Storage) -> R) -> R {
        let mut ov = if self.store_height() == 0 {
            self.lock()
                .genesis
                .as_ref()
                .map(|(_, g)| g.clone())
                .unwrap_or_default()
        } else {
            Overlay::new()
        };
        let view = StateView::new(&*self.store, &mut ov);
        f(&view)
    }

    fn store_height(&self) -> u64 {
        self.store
            .height()
            .unwrap_or_else(|e| halt(&format!("reading committed height: {e}")))
    }
}

pub(crate) fn power_update(u: &ValidatorUpdate) -> AbciValidatorUpdate {
    AbciValidatorUpdate {
        pub_key: Some(tendermint_proto::v0_38::crypto::PublicKey {
            sum: Some(Sum::Ed25519(u.pubkey.to_vec())),
        }),
        power: i64::try_from(u.power).unwrap_or(i64::MAX),
    }
}

/// CometBFT's validator address: the first 20 bytes of sha256(ed25519 pubkey).
pub fn tendermint_address(pub_key: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(pub_key)[..20].to_vec()
}

impl Application for VerdictApp {
    fn info(&self, _req: RequestInfo) -> ResponseInfo {
        let height = self.store_height();
        let app_hash = if height == 0 {
            Vec::new()
        } else {
            self.store
                .last_app_hash()
                .unwrap_or_else(|e| halt(&format!("reading app hash: {e}")))
                .to_vec()
        };
        ResponseInfo {
            data: "verdict".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            app_version: APP_VERSION,
            last_block_height: i64::try_from(height).unwrap_or(i64::MAX),
            last_block_app_hash: app_hash.into(),
        }
    }

    fn init_chain(&self, req: RequestInitChain) -> ResponseInitChain {
        self.init_chain_inner(req)
            .unwrap_or_else(|e| halt(&format!("InitChain: {e}")))
    }

    fn query(&self, req: RequestQuery) -> ResponseQuery {
        crate::query::handle(&self.store, &req)
    }

    fn check_tx(&self, req: RequestCheckTx) -> ResponseCheckTx {
        let mode = if req.r#type == 1 {
            Mode::ReCheck
        } else {
            Mode::Check
        };
        let out = if vote_ext::is_injected(&req.tx) {
            TxError::Reserved.outcome()
        } else {
            let committed = self.store_height();
            let mut block = self.lock();
            let mut view = StateView::new(&*self.store, &mut block.check);
            let info = state::next_block_info(&view, committed);
            let params = state::params(&view);
            tx::run(&mut view, &req.tx, &info, &params, mode)
        };
        crate::metrics::metrics().check_tx(mode == Mode::ReCheck, out.code);
        ResponseCheckTx {
            code: out.code,
            data: out.data.into(),
            log: out.log,
            gas_wanted: i64::try_from(out.gas_wanted).unwrap_or(i64::MAX),
            gas_used: i64::try_from(out.gas_used).unwrap_or(i64::MAX),
            events: vec![],
            codespace: out.codespace,
            ..Default::default()
        }
    }

    fn commit(&self) -> ResponseCommit {
        let started = std::time::Instant::now();
        let pending = self
            .lock()
            .pending
            .take()
            .unwrap_or_else(|| halt("Commit without a finalized block"));
        let height = pending.height;
        let hash = self
            .store
            .commit(pending)
            .unwrap_or_else(|e| halt(&format!("Commit of height {height}: {e}")));
        let mut block = self.lock();
        block.genesis = None;
        block.check = Overlay::new();
        let txs = std::mem::take(&mut block.pending_txs);
        drop(block);
        let retain = match self.min_retain_blocks {
            0 => 0,
            n => height.saturating_sub(n),
        };
        // The tx index is not consensus state: written off Commit's path, after
        // it the entries below CometBFT's retain height go (a bounded amount per
        // block, so a first prune is spread out); a failure is logged, not fatal.
        let prune = (retain > 0).then_some((retain, TX_INDEX_PRUNE_PER_BLOCK));
        if let Err(e) = self.store.index_txs(txs, prune) {
            tracing::error!(height, error = %e, "queueing the tx index failed");
        }
        tracing::info!(height, app_hash = %hex::encode_upper(hash), "committed");
        // The store's size (a walk of sled's files) is sampled, not read per block.
        let m = crate::metrics::metrics();
        let size = (height.is_multiple_of(100) || !m.has_store_size())
            .then(|| self.store.size_on_disk())
            .flatten();
        m.committed(height, started.elapsed(), size);
        // Not consensus: a snapshot of this height, written in the background.
        self.snapshots.after_commit(&self.store, height, false);
        // Non-consensus side effect: new jobs of ours go to the sidecar.
        if let Some(a) = &self.attestor {
            self.with_committed(|s| a.after_commit(s));
        }
        if self.halt_due(height) {
            // Committed and flushed: stop once this answer has reached CometBFT,
            // as the SDK's halt-height does, so a new binary or genesis can take over.
            tracing::warn!(
                height,
                "halt height/time reached: verdictd stops after this commit"
            );
            // The block and the tx index are written by threads of their
            // own: finish both first. The block must be on disk: a new binary
            // would otherwise replay it under its own rules.
            if let Err(e) = self.store.sync() {
                halt(&format!("Commit of height {height}: {e}"));
            }
            if let Err(e) = self.store.sync_tx_index() {
                tracing::error!(height, error = %e, "finishing the tx index failed");
            }
            let _ = std::thread::Builder::new().name("halt".into()).spawn(|| {
                std::thread::sleep(std::time::Duration::from_millis(300));
                std::process::exit(0);
            });
        }
        ResponseCommit {
            retain_height: i64::try_from(retain).unwrap_or(0),
        }
    }

    fn list_snapshots(&self) -> ResponseListSnapshots {
        self.snapshots.list()
    }

    fn load_snapshot_chunk(&self, req: RequestLoadSnapshotChunk) -> ResponseLoadSnapshotChunk {
        self.snapshots.load_chunk(&req)
    }

    fn offer_snapshot(&self, req: RequestOfferSnapshot) -> ResponseOfferSnapshot {
        self.snapshots.offer(&self.store, req)
    }

    fn apply_snapshot_chunk(&self, req: RequestApplySnapshotChunk) -> ResponseApplySnapshotChunk {
        self.snapshots.apply_chunk(&self.store, req)
    }

    fn prepare_proposal(&self, req: RequestPrepareProposal) -> ResponsePrepareProposal {
        self.propose(req)
    }

    fn process_proposal(&self, req: RequestProcessProposal) -> ResponseProcessProposal {
        self.check_proposal(req)
    }

    fn extend_vote(&self, req: RequestExtendVote) -> ResponseExtendVote {
        let r = self.extension_for(req);
        crate::metrics::metrics().vote_extension(r.vote_extension.len());
        r
    }

    fn verify_vote_extension(
        &self,
        req: RequestVerifyVoteExtension,
    ) -> ResponseVerifyVoteExtension {
        let r = self.verify_extension(req);
        if r.status
            != tendermint_proto::v0_38::abci::response_verify_vote_extension::VerifyStatus::Accept
                as i32
        {
            crate::metrics::metrics().vote_extension_rejected();
        }
        r
    }

    fn finalize_block(&self, req: RequestFinalizeBlock) -> ResponseFinalizeBlock {
        let height = req.height;
        let started = std::time::Instant::now();
        let resp = self
            .finalize_block_inner(req)
            .unwrap_or_else(|e| halt(&format!("FinalizeBlock {height}: {e}")));
        // Only the counted events' labels are looked up.
        let events = resp
            .events
            .iter()
            .filter(|e| crate::metrics::counted_event(&e.r#type).is_some())
            .map(|e| {
                let label = e
                    .attributes
                    .iter()
                    .find(|a| matches!(a.key.as_str(), "status" | "kind" | "reason"))
                    .map(|a| a.value.as_str());
                (e.r#type.as_str(), label)
            });
        crate::metrics::metrics().finalized(
            started.elapsed(),
            resp.tx_results.iter().map(|r| r.code),
            events,
        );
        resp
    }
}
