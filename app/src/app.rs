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

use prost::Message;

use cosmwasm_std::Storage;
use tendermint_abci::Application;
use tendermint_proto::v0_38::abci::{
    response_process_proposal::ProposalStatus, response_verify_vote_extension::VerifyStatus, Event,
    EventAttribute, ExecTxResult, RequestCheckTx, RequestExtendVote, RequestFinalizeBlock,
    RequestInfo, RequestInitChain, RequestPrepareProposal, RequestProcessProposal, RequestQuery,
    RequestVerifyVoteExtension, ResponseCheckTx, ResponseCommit, ResponseExtendVote,
    ResponseFinalizeBlock, ResponseInfo, ResponseInitChain, ResponsePrepareProposal,
    ResponseProcessProposal, ResponseQuery, ResponseVerifyVoteExtension, ValidatorUpdate,
};
use tendermint_proto::v0_38::crypto::public_key::Sum;

use crate::attestor::Attestor;
use crate::error::{halt, TxError};
use crate::genesis::AppGenesis;
use crate::params::AppParams;
use crate::state::{self, BlockRecord, ConsensusValidator};
use crate::store::IndexedTx;
use crate::store::{Overlay, PendingCommit, StateView, Store};
use crate::tx::{self, Mode, TxOutcome};
use crate::vote_ext::{self, ExtensionCheck, ValidatorKey, ValidatorSet};
use verdict_core::ctx::BlockInfo;

pub const APP_VERSION: u64 = 1;

/// State of the block in flight. Reset at every FinalizeBlock.
#[derive(Default)]
struct BlockState {
    /// Genesis writes, kept in memory until the first block commits them.
    genesis: Option<(u64, Overlay)>,
    /// FinalizeBlock's result, waiting for Commit.
    pending: Option<PendingCommit>,
    /// Index entries of the pending block's transactions (not consensus state).
    pending_txs: Vec<IndexedTx>,
    /// CheckTx state: committed state plus the mempool's accepted txs since the
    /// last Commit. Reset at Commit; CometBFT's recheck then rebuilds it, so
    /// txs made stale by the block leave the mempool.
    check: Overlay,
}

#[derive(Clone)]
pub struct VerdictApp {
    store: Arc<Store>,
    block: Arc<Mutex<BlockState>>,
    /// Check the books after every block and halt if they disagree.
    check_invariants: bool,
    /// This validator's attestation side (sidecar results → vote extensions).
    attestor: Option<Arc<Attestor>>,
}

impl VerdictApp {
    pub fn new(store: Store) -> Self {
        VerdictApp {
            store: Arc::new(store),
            block: Arc::new(Mutex::new(BlockState::default())),
            check_invariants: false,
            attestor: None,
        }
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

    fn lock(&self) -> MutexGuard<'_, BlockState> {
        // A poisoned lock means a handler panicked mid-block: state is unknown.
        self.block
            .lock()
            .unwrap_or_else(|_| halt("block state lock poisoned by an earlier panic"))
    }

    /// Reads committed state (or, before the first commit, genesis writes) with a
    /// throwaway overlay.
    fn with_committed<R>(&self, f: impl FnOnce(&dyn Storage) -> R) -> R {
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

    /// Block facts for CheckTx and Simulate: the block that would come next.
    pub(crate) fn next_block_info(&self, s: &dyn Storage, committed: u64) -> BlockInfo {
        let last = state::LAST_BLOCK.may_load(s).ok().flatten();
        BlockInfo {
            height: committed.saturating_add(1),
            time_seconds: last.as_ref().map_or(0, |b| b.time_seconds),
            time_nanos: last.as_ref().map_or(0, |b| b.time_nanos),
            chain_id: state::CHAIN_ID
                .may_load(s)
                .ok()
                .flatten()
                .unwrap_or_default(),
        }
    }

    pub(crate) fn store_arc(&self) -> &Arc<Store> {
        &self.store
    }

    fn store_height(&self) -> u64 {
        self.store
            .height()
            .unwrap_or_else(|e| halt(&format!("reading committed height: {e}")))
    }

    pub(crate) fn params(&self, s: &dyn Storage) -> AppParams {
        state::PARAMS.may_load(s).ok().flatten().unwrap_or_default()
    }

    /// The validator set that signed the votes of `height`.
    fn validator_set(s: &dyn Storage, height: i64) -> ValidatorSet {
        state::valset_at(s, u64::try_from(height).unwrap_or(0))
            .into_iter()
            .filter_map(|(addr, v)| {
                let pk: [u8; 32] = hex::decode(&v.pub_key).ok()?.try_into().ok()?;
                Some((
                    hex::decode(addr).ok()?,
                    ValidatorKey {
                        pub_key: pk,
                        power: v.power,
                    },
                ))
            })
            .collect()
    }

    /// Whether blocks at `height` must carry the extensions of `height - 1`.
    fn expects_injected(s: &dyn Storage, height: i64) -> bool {
        let enable = state::VE_ENABLE_HEIGHT
            .may_load(s)
            .ok()
            .flatten()
            .unwrap_or(0);
        enable > 0 && u64::try_from(height).is_ok_and(|h| h > enable)
    }

    fn init_chain_inner(&self, req: RequestInitChain) -> Result<ResponseInitChain, String> {
        let genesis = AppGenesis::from_app_state_bytes(&req.app_state_bytes, "genesis app_state")
            .map_err(|e| e.to_string())?;
        let mut initial_validators = Vec::new();
        let mut ov = Overlay::new();
        {
            let mut view = StateView::new(&*self.store, &mut ov);
            state::CHAIN_ID
                .save(&mut view, &req.chain_id)
                .map_err(|e| e.to_string())?;
            state::PARAMS
                .save(&mut view, &genesis.app.params)
                .map_err(|e| e.to_string())?;
            let enable = req
                .consensus_params
                .as_ref()
                .and_then(|p| p.abci.as_ref())
                .map(|a| a.vote_extensions_enable_height)
                .unwrap_or(0);
            if let Some(max_bytes) = req
                .consensus_params
                .as_ref()
                .and_then(|p| p.block.as_ref())
                .map(|b| b.max_bytes)
            {
                // tx[0] must fit a block (protocol review §13).
                genesis.check_block_size(max_bytes)?;
            }
            state::VE_ENABLE_HEIGHT
                .save(&mut view, &u64::try_from(enable).unwrap_or(0))
                .map_err(|e| e.to_string())?;
            genesis.auth.init(&mut view).map_err(|e| e.to_string())?;
            verdict_ibc::genesis::init(&mut view);
            verdict_auth::Accounts::ensure(&mut view, &tx::fee_collector())
                .map_err(|e| e.to_string())?;
            genesis.bank.init(&mut view).map_err(|e| e.to_string())?;
            genesis.staking.init(&mut view).map_err(|e| e.to_string())?;
            verdict_slashing::PARAMS
                .save(&mut view, &genesis.slashing.params)
                .map_err(|e| e.to_string())?;
            genesis
                .inference
                .init(&mut view)
                .map_err(|e| e.to_string())?;
            // Gentxs: signed MsgCreateValidator txs, through the normal pipeline.
            let info = BlockInfo {
                height: 0,
                time_seconds: req.time.map_or(0, |t| t.seconds),
                time_nanos: req.time.map_or(0, |t| t.nanos),
                chain_id: req.chain_id.clone(),
            };
            for (i, gentx) in genesis.staking.gentx_bytes().iter().enumerate() {
                let out = tx::run(&mut view, gentx, &info, &genesis.app.params, Mode::Genesis);
                if out.code != 0 {
                    return Err(format!(
                        "genesis: staking.gentxs[{i}] failed (code {}): {}",
                        out.code, out.log
                    ));
                }
            }
            let updates =
                verdict_staking::state::end_block_updates(&mut view).map_err(|e| e.to_string())?;
            let mut set: Vec<(String, ConsensusValidator)> = Vec::new();
            if !updates.is_empty() {
                initial_validators = updates.iter().map(power_update).collect();
                for u in &updates {
                    set.push((
                        hex::encode_upper(tendermint_address(&u.pubkey)),
                        ConsensusValidator {
                            pub_key: hex::encode(u.pubkey),
                            power: u.power,
                        },
                    ));
                }
            }
            // Without staking validators in genesis, CometBFT's genesis set stands.
            for v in req.validators.iter().filter(|_| updates.is_empty()) {
                let Some(Sum::Ed25519(pk)) = v.pub_key.as_ref().and_then(|k| k.sum.clone()) else {
                    return Err("genesis validators must have ed25519 keys".into());
                };
                let power = u64::try_from(v.power)
                    .map_err(|_| format!("negative genesis validator power {}", v.power))?;
                set.push((
                    hex::encode_upper(tendermint_address(&pk)),
                    ConsensusValidator {
                        pub_key: hex::encode(&pk),
                        power,
                    },
                ));
            }
            set.sort_by(|a, b| a.0.cmp(&b.0));
            let first = u64::try_from(req.initial_height.max(1)).unwrap_or(1);
            state::VALSETS
                .save(&mut view, first, &set)
                .map_err(|e| e.to_string())?;
        }
        let initial = u64::try_from(req.initial_height.max(1)).unwrap_or(1);
        // The genesis hash is what the tree would hold at the version before the
        // first block; it is computed, not written.
        let app_hash = self
            .store
            .prepare_commit(initial.saturating_sub(1), ov.clone())
            .map_err(|e| e.to_string())?
            .app_hash;
        self.lock().genesis = Some((initial, ov));
        tracing::info!(chain_id = %req.chain_id, validators = req.validators.len(), app_hash = %hex::encode_upper(app_hash), "init chain");
        Ok(ResponseInitChain {
            consensus_params: None,
            validators: initial_validators,
            app_hash: app_hash.to_vec().into(),
        })
    }

    fn finalize_block_inner(
        &self,
        req: RequestFinalizeBlock,
    ) -> Result<ResponseFinalizeBlock, String> {
        let committed = self.store.height().map_err(|e| e.to_string())?;
        let height = u64::try_from(req.height).map_err(|_| "negative height".to_string())?;
        let mut block = self.lock();
        // The app hash this block's header carries (for the IBC host consensus state).
        let mut header_app_hash = self.store.last_app_hash().map_err(|e| e.to_string())?;
        let mut ov = if committed == 0 {
            let (initial, g) = block
                .genesis
                .clone()
                .ok_or("FinalizeBlock before InitChain on an empty store")?;
            if height != initial {
                return Err(format!("first block is {height}, genesis says {initial}"));
            }
            header_app_hash = self
                .store
                .prepare_commit(initial.saturating_sub(1), g.clone())
                .map_err(|e| e.to_string())?
                .app_hash;
            g
        } else {
            if height != committed.saturating_add(1) {
                return Err(format!(
                    "FinalizeBlock for height {height} but committed height is {committed}"
                ));
            }
            Overlay::new()
        };
        let mut tx_results = Vec::with_capacity(req.txs.len());
        let mut begin_events: Vec<Event>;
        let mut validator_updates = Vec::new();
        let mut extensions = 0u32;
        let mut indexed = Vec::new();
        let time = req.time.unwrap_or_default();
        {
            let mut view = StateView::new(&*self.store, &mut ov);
            let expects = Self::expects_injected(&view, req.height);
            let mut attested = false;
            // The proposer's beacon contribution from tx[0] (none without it).
            let mut beacon_in: (Vec<u8>, Vec<u8>) = (vec![], vec![]);
            let now_ms = verdict_inference::handler::block_time_ms(time.seconds, time.nanos);
            let params = self.params(&view);
            let info = BlockInfo {
                height,
                time_seconds: time.seconds,
                time_nanos: time.nanos,
                chain_id: state::CHAIN_ID
                    .may_load(&view)
                    .ok()
                    .flatten()
                    .unwrap_or_default(),
            };
            verdict_ibc::host::record_block(
                &mut view,
                &verdict_ibc::host::BlockCommitment {
                    height,
                    time_seconds: time.seconds,
                    time_nanos: time.nanos,
                    app_hash: &header_app_hash,
                    next_validators_hash: &req.next_validators_hash,
                },
            )
            .map_err(|e| format!("ibc host consensus state: {e}"))?;
            // Begin block: liveness over the decided last commit, then evidence.
            let votes: Vec<verdict_slashing::CommitVote> = req
                .decided_last_commit
                .as_ref()
                .map(|c| c.votes.as_slice())
                .unwrap_or_default()
                .iter()
                .filter_map(|v| {
                    let val = v.validator.as_ref()?;
                    Some(verdict_slashing::CommitVote {
                        consensus_address: val.address.as_ref().try_into().ok()?,
                        power: u64::try_from(val.power).ok()?,
                        // BlockIDFlag 1 = absent; commit (2) and nil (3) count as signed.
                        signed: v.block_id_flag != 1,
                    })
                })
                .collect();
            let mut ev = verdict_slashing::handle_commit(&mut view, height, time.seconds, &votes)
                .map_err(|e| format!("liveness: {e}"))?;
            for m in &req.misbehavior {
                let Some(val) = m.validator.as_ref() else {
                    continue;
                };
                let Ok(addr) = <[u8; 20]>::try_from(val.address.as_ref()) else {
                    continue;
                };
                ev.extend(
                    verdict_slashing::handle_double_sign(
                        &mut view,
                        &addr,
                        // Power at H reflects state after H-1: entries created from
                        // H-1 on answer for the infraction (the SDK's distribution height).
                        u64::try_from(m.height.saturating_sub(1)).unwrap_or(0),
                        u64::try_from(val.power).unwrap_or(0),
                    )
                    .map_err(|e| format!("evidence: {e}"))?,
                );
            }
            // Then the previous block's fees to the validators that signed it.
            crate::rewards::allocate_fees(&mut view, req.decided_last_commit.as_ref())
                .map_err(|e| format!("fee distribution: {e}"))?;
            begin_events = ev.iter().map(|e| e.to_abci()).collect();
            for (i, tx) in req.txs.iter().enumerate() {
                if i == 0 && expects && vote_ext::is_injected(tx) {
                    // ProcessProposal vouched for it, but replay skips ProcessProposal:
                    // only decode here, never trust more than that.
                    match vote_ext::decode_injected(tx) {
                        Ok(inj) => {
                            extensions = u32::try_from(inj.votes.len()).unwrap_or(u32::MAX);
                            // Attestations: whatever does not decode or fit is skipped.
                            let cap = params.max_vote_extension_bytes as usize;
                            let votes: Vec<([u8; 20], verdict_proto::app::v1::VoteExtension)> = inj
                                .votes
                                .iter()
                                .filter_map(|v| {
                                    let a = <[u8; 20]>::try_from(v.validator_address.as_slice())
                                        .ok()?;
                                    let ve =
                                        vote_ext::check_extension(&v.vote_extension, cap).ok()?;
                                    Some((a, ve))
                                })
                                .collect();
                            beacon_in = (inj.beacon_reveal.clone(), inj.beacon_anchor.clone());
                            let ev = verdict_attestation::process_block(
                                &mut view,
                                height,
                                time.seconds,
                                now_ms,
                                &votes,
                            )
                            .map_err(|e| format!("attestation: {e}"))?;
                            begin_events.extend(ev.iter().map(|e| e.to_abci()));
                            attested = true;
                            tx_results.push(ExecTxResult {
                                code: 0,
                                log: format!("{extensions} vote extensions"),
                                ..Default::default()
                            });
                        }
                        Err(e) => tx_results.push(TxError::Decode(e.to_string()).exec_result()),
                    }
                    continue;
                }
                let out = if vote_ext::is_injected(tx) {
                    TxError::Reserved.outcome()
                } else {
                    tx::run(&mut view, tx, &info, &params, Mode::Deliver)
                };
                indexed.push(IndexedTx::new(tx, height, i, &out, &info));
                tx_results.push(exec_result(out));
            }
            // Without extensions in this block (none expected, or tx[0] did not
            // decode) jobs whose window closed still settle.
            if !attested {
                let ev = verdict_attestation::process_block(
                    &mut view,
                    height,
                    time.seconds,
                    now_ms,
                    &[],
                )
                .map_err(|e| format!("attestation: {e}"))?;
                begin_events.extend(ev.iter().map(|e| e.to_abci()));
            }
            // The beacon takes this block's proposer's contribution (an invalid
            // one counts as none); then the jobs of the previous block get their
            // committees from it — randomness their includer could not know.
            let beacon = verdict_inference::beacon::advance(
                &mut view,
                height,
                &req.proposer_address,
                &beacon_in.0,
                &beacon_in.1,
            )
            .map_err(|e| format!("beacon: {e}"))?;
            let ev = verdict_inference::committee::assign(&mut view, &beacon, height)
                .map_err(|e| format!("committees: {e}"))?;
            begin_events.extend(ev.iter().map(|e| e.to_abci()));
            // Acknowledgements of jobs requested over IBC that settled (or
            // expired) in this block.
            // (A chain id that is no ICS-24 chain id has no IBC, so no served jobs.)
            if let Ok(host) = verdict_ibc::host_info(&view, &info) {
                let ev = verdict_ibc::inference_app::write_settled_acks(&mut view, &host)
                    .map_err(|e| format!("ibc acknowledgements: {e}"))?;
                begin_events.extend(ev.iter().map(|e| e.to_abci()));
            }
            // The job fee floor follows how full this block's job slots were.
            verdict_inference::state::update_job_fee_floor(&mut view, height)
                .map_err(|e| format!("job fee floor: {e}"))?;
            // Settled jobs past their retention go (bounded per block).
            verdict_inference::state::prune_settled(&mut view, height)
                .map_err(|e| format!("pruning settled jobs: {e}"))?;
        }
        let record = BlockRecord {
            height,
            time_seconds: time.seconds,
            time_nanos: time.nanos,
            hash: hex::encode_upper(&req.hash),
            extensions,
        };
        {
            let mut view = StateView::new(&*self.store, &mut ov);
            state::LAST_BLOCK
                .save(&mut view, &record)
                .map_err(|e| e.to_string())?;
            // End block: matured unbondings, then the new validator set.
            verdict_staking::state::complete_unbondings(&mut view, time.seconds)
                .map_err(|e| format!("unbonding queue: {e}"))?;
            let updates = verdict_staking::state::end_block_updates(&mut view)
                .map_err(|e| format!("validator set: {e}"))?;
            if !updates.is_empty() {
                let mut set = state::valset_at(&view, height.saturating_add(1));
                for u in &updates {
                    let addr = hex::encode_upper(tendermint_address(&u.pubkey));
                    if u.power == 0 {
                        set.remove(&addr);
                    } else {
                        set.insert(
                            addr,
                            ConsensusValidator {
                                pub_key: hex::encode(u.pubkey),
                                power: u.power,
                            },
                        );
                    }
                }
                state::VALSETS
                    .save(
                        &mut view,
                        height.saturating_add(2),
                        &set.into_iter().collect(),
                    )
                    .map_err(|e| e.to_string())?;
                // Only the set in force at this height and later ones are ever
                // read again (block h+1 checks the extensions of h): older
                // copies go (state growth).
                state::prune_valsets_before(&mut view, height).map_err(|e| e.to_string())?;
                validator_updates = updates.iter().map(power_update).collect();
            }
            if self.check_invariants {
                verdict_bank::state::check_supply_invariant(&view)
                    .and_then(|()| verdict_staking::state::check_invariants(&view))
                    .and_then(|()| {
                        verdict_inference::state::check_invariants(
                            &view,
                            verdict_core::address::FEE_DENOM,
                        )
                    })
                    .and_then(|()| verdict_distribution::state::check_invariants(&view))
                    .and_then(|()| verdict_ibc::inference_app::check_invariants(&view))
                    .map_err(|e| format!("invariant broken after block {height}: {e}"))?;
            }
        }
        let pending = self
            .store
            .prepare_commit(height, ov)
            .map_err(|e| e.to_string())?;
        let app_hash = pending.app_hash;
        block.pending = Some(pending);
        block.pending_txs = indexed;
        Ok(ResponseFinalizeBlock {
            events: begin_events
                .into_iter()
                .chain([Event {
                    r#type: "block".into(),
                    attributes: vec![EventAttribute {
                        key: "vote_extensions".into(),
                        value: extensions.to_string(),
                        index: true,
                    }],
                }])
                .collect(),
            tx_results,
            validator_updates,
            consensus_param_updates: None,
            app_hash: app_hash.to_vec().into(),
        })
    }
}

/// What ExtendVote knows of the block it votes on: height, BFT time and the
/// commitments its tx[0] carries, filtered as FinalizeBlock will (extensions
/// that pass the size and format checks; the first per validator).
fn next_block(req: &RequestExtendVote, cap: usize) -> verdict_attestation::NextBlock {
    let time = req.time.unwrap_or_default();
    let mut next = verdict_attestation::NextBlock {
        height: u64::try_from(req.height).unwrap_or(0),
        time_ms: verdict_inference::handler::block_time_ms(time.seconds, time.nanos),
        ..Default::default()
    };
    let Some(inj) = req
        .txs
        .first()
        .filter(|t| vote_ext::is_injected(t))
        .and_then(|t| vote_ext::decode_injected(t).ok())
    else {
        return next;
    };
    let mut seen = std::collections::BTreeSet::new();
    for v in &inj.votes {
        let Ok(a) = <[u8; 20]>::try_from(v.validator_address.as_slice()) else {
            continue;
        };
        if !seen.insert(a) {
            continue;
        }
        let Ok(ve) = vote_ext::check_extension(&v.vote_extension, cap) else {
            continue;
        };
        for c in ve.commitments {
            next.commitments
                .entry((c.job_id, a))
                .or_insert(c.commitment);
        }
    }
    next
}

/// Bytes a tx takes in the block's `Data.txs` as CometBFT counts them against
/// `max_tx_bytes` (`ComputeProtoSizeForTxs`): field tag, length varint, bytes.
fn proto_tx_len(n: usize) -> usize {
    n.saturating_add(1)
        .saturating_add(prost::encoding::encoded_len_varint(n as u64))
}

fn exec_result(out: TxOutcome) -> ExecTxResult {
    ExecTxResult {
        code: out.code,
        data: out.data.into(),
        log: out.log,
        info: String::new(),
        gas_wanted: i64::try_from(out.gas_wanted).unwrap_or(i64::MAX),
        gas_used: i64::try_from(out.gas_used).unwrap_or(i64::MAX),
        events: out.events.iter().map(|e| e.to_abci()).collect(),
        codespace: out.codespace,
    }
}

fn power_update(u: &verdict_staking::state::PowerUpdate) -> ValidatorUpdate {
    ValidatorUpdate {
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
        crate::query::handle(self, &req)
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
            let info = self.next_block_info(&view, committed);
            let params = self.params(&view);
            tx::run(&mut view, &req.tx, &info, &params, mode)
        };
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
        // The tx index is not consensus state: a failure is logged, not fatal, and
        // a replay after a crash writes it again.
        if let Err(e) = self.store.index_txs(&txs) {
            tracing::error!(height, error = %e, "writing the tx index failed");
        }
        tracing::info!(height, app_hash = %hex::encode_upper(hash), "committed");
        // Non-consensus side effect: new jobs of ours go to the sidecar.
        if let Some(a) = &self.attestor {
            self.with_committed(|s| a.after_commit(s));
        }
        ResponseCommit { retain_height: 0 }
    }

    fn prepare_proposal(&self, req: RequestPrepareProposal) -> ResponsePrepareProposal {
        let max = usize::try_from(req.max_tx_bytes).unwrap_or(0);
        let mut txs = Vec::with_capacity(req.txs.len().saturating_add(1));
        let mut used = 0usize;
        self.with_committed(|s| {
            if Self::expects_injected(s, req.height) {
                let validators = Self::validator_set(s, req.height.saturating_sub(1));
                let chain_id = state::CHAIN_ID
                    .may_load(s)
                    .ok()
                    .flatten()
                    .unwrap_or_default();
                let check = ExtensionCheck {
                    validators: &validators,
                    chain_id: &chain_id,
                    cap: self.params(s).max_vote_extension_bytes as usize,
                };
                let commit = req.local_last_commit.clone().unwrap_or_default();
                let mut injected = check.build_injected(&commit, req.height);
                if let Some(a) = &self.attestor {
                    (injected.beacon_reveal, injected.beacon_anchor) = a.beacon_contribution(s);
                }
                let tx0 = vote_ext::encode_injected(&injected);
                used = proto_tx_len(tx0.len());
                txs.push(tx0.into());
            }
        });
        for tx in req.txs {
            // A user tx with the marker would be rejected by every validator.
            if vote_ext::is_injected(&tx) {
                continue;
            }
            let next = used.saturating_add(proto_tx_len(tx.len()));
            if next > max {
                continue;
            }
            used = next;
            txs.push(tx);
        }
        ResponsePrepareProposal { txs }
    }

    fn process_proposal(&self, req: RequestProcessProposal) -> ResponseProcessProposal {
        let verdict = self.with_committed(|s| -> Result<(), String> {
            let expects = Self::expects_injected(s, req.height);
            for (i, tx) in req.txs.iter().enumerate() {
                if vote_ext::is_injected(tx) && !(i == 0 && expects) {
                    return Err(vote_ext::VoteExtensionError::UnexpectedInjected(i).to_string());
                }
            }
            if !expects {
                return Ok(());
            }
            let tx0 = req
                .txs
                .first()
                .filter(|t| vote_ext::is_injected(t))
                .ok_or_else(|| {
                    vote_ext::VoteExtensionError::MissingInjected { height: req.height }.to_string()
                })?;
            let injected = vote_ext::decode_injected(tx0).map_err(|e| e.to_string())?;
            let validators = Self::validator_set(s, req.height.saturating_sub(1));
            let chain_id = state::CHAIN_ID
                .may_load(s)
                .ok()
                .flatten()
                .unwrap_or_default();
            let check = ExtensionCheck {
                validators: &validators,
                chain_id: &chain_id,
                cap: self.params(s).max_vote_extension_bytes as usize,
            };
            check
                .validate_injected(&injected, req.height, req.proposed_last_commit.as_ref())
                .map_err(|e| e.to_string())?;
            // A beacon contribution must be the proposer's next chain element
            // (or a due anchor); FinalizeBlock ignores a bad one in any case.
            verdict_inference::beacon::check(
                s,
                &req.proposer_address,
                &injected.beacon_reveal,
                &injected.beacon_anchor,
            )
            .map(|_| ())
        });
        let status = match verdict {
            Ok(()) => ProposalStatus::Accept,
            Err(reason) => {
                tracing::warn!(height = req.height, %reason, "rejecting proposal");
                ProposalStatus::Reject
            }
        };
        ResponseProcessProposal {
            status: status as i32,
        }
    }

    fn extend_vote(&self, req: RequestExtendVote) -> ResponseExtendVote {
        let ext = match &self.attestor {
            Some(a) => self.with_committed(|s| {
                let cap = self.params(s).max_vote_extension_bytes as usize;
                let next = next_block(&req, cap);
                a.extension(s, cap, vote_ext::VOTE_EXTENSION_VERSION, Some(&next))
                    .encode_to_vec()
            }),
            None => vote_ext::empty_extension(),
        };
        ResponseExtendVote {
            vote_extension: ext.into(),
        }
    }

    fn verify_vote_extension(
        &self,
        req: RequestVerifyVoteExtension,
    ) -> ResponseVerifyVoteExtension {
        let checked = self.with_committed(|s| {
            let cap = self.params(s).max_vote_extension_bytes as usize;
            let ve =
                vote_ext::check_extension(&req.vote_extension, cap).map_err(|e| e.to_string())?;
            verdict_attestation::check_against_state(s, &ve, &req.validator_address)
        });
        let status = match checked {
            Ok(()) => VerifyStatus::Accept,
            Err(e) => {
                tracing::warn!(
                    height = req.height,
                    validator = %hex::encode_upper(&req.validator_address),
                    error = %e,
                    "rejecting vote extension"
                );
                VerifyStatus::Reject
            }
        };
        ResponseVerifyVoteExtension {
            status: status as i32,
        }
    }

    fn finalize_block(&self, req: RequestFinalizeBlock) -> ResponseFinalizeBlock {
        let height = req.height;
        self.finalize_block_inner(req)
            .unwrap_or_else(|e| halt(&format!("FinalizeBlock {height}: {e}")))
    }
}
