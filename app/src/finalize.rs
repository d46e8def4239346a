//! FinalizeBlock: one block, as a list of phases.
//!
//! 1. Start from committed state h-1 (or, for the first block, the genesis
//!    writes of InitChain) — never from anything an earlier call left behind.
//! 2. Read the block's facts: the decided last commit, evidence, and the
//!    proposer's injected tx[0] (vote extensions of h-1, beacon contribution).
//! 3. Begin block: each module's hook, in module-list order.
//! 4. The block's transactions.
//! 5. End block: each module's hook, in module-list order.
//! 6. The app's own records: the block, the validator set CometBFT will use.
//! 7. Invariants (with `--check-invariants`), then the app hash.

use cosmwasm_std::Storage;
use tendermint_proto::v0_38::abci::{
    Event, EventAttribute, ExecTxResult, RequestFinalizeBlock, ResponseFinalizeBlock,
};
use verdict_core::ctx::BlockInfo;
use verdict_core::module::{
    Block, BlockIdFlag, BlockVote, Extensions, Misbehavior, ValidatorUpdate,
};

use crate::app::{power_update, tendermint_address, VerdictApp};
use crate::error::{AppError, TxError, TxOutcome};
use crate::params::AppParams;
use crate::state::{self, BlockRecord, ConsensusValidator};
use crate::store::{IndexedTx, Overlay, StateView};
use crate::tx::{self, Mode};
use crate::vote_ext;

/// What the block's transactions left: their results, index entries and the
/// vote extensions tx[0] carried.
struct Delivered {
    tx_results: Vec<ExecTxResult>,
    indexed: Vec<IndexedTx>,
    extensions: u32,
}

/// What tx[0] turned out to be, read before any phase runs (decoding it
/// changes no state).
enum Tx0 {
    /// Not an injected tx (or none expected): an ordinary tx, if any.
    None,
    /// Decoded: `count` extensions, those that pass the checks in `ext`.
    Injected { count: u32, ext: Extensions },
    /// Marked as injected but undecodable.
    Bad(String),
}

impl VerdictApp {
    pub(crate) fn finalize_block_inner(
        &self,
        req: RequestFinalizeBlock,
    ) -> Result<ResponseFinalizeBlock, AppError> {
        let height = u64::try_from(req.height)
            .map_err(|_| AppError::Order(format!("negative height {}", req.height)))?;
        let mut block = self.lock();
        let (mut ov, header_app_hash) = self.block_start(block.genesis.as_ref(), height)?;
        let (delivered, events, updates) = {
            let mut view = StateView::new(&*self.store, &mut ov);
            self.run_block(&mut view, &req, height, &header_app_hash)?
        };
        let pending = self.store.prepare_commit(height, ov)?;
        let app_hash = pending.app_hash;
        block.pending = Some(pending);
        block.pending_txs = delivered.indexed;
        Ok(ResponseFinalizeBlock {
            events: events
                .into_iter()
                .chain([Event {
                    r#type: "block".into(),
                    attributes: vec![EventAttribute {
                        key: "vote_extensions".into(),
                        value: delivered.extensions.to_string(),
                        index: true,
                    }],
                }])
                .collect(),
            tx_results: delivered.tx_results,
            validator_updates: updates.iter().map(power_update).collect(),
            consensus_param_updates: None,
            app_hash: app_hash.to_vec().into(),
        })
    }

    /// Phase 1: the overlay the block starts from, and the app hash its header
    /// carries (for the IBC host consensus state).
    fn block_start(
        &self,
        genesis: Option<&(u64, Overlay)>,
        height: u64,
    ) -> Result<(Overlay, Vec<u8>), AppError> {
        let committed = self.store.height()?;
        if committed != 0 {
            if height != committed.saturating_add(1) {
                return Err(AppError::Order(format!(
                    "FinalizeBlock for height {height} but committed height is {committed}"
                )));
            }
            return Ok((Overlay::new(), self.store.last_app_hash()?.to_vec()));
        }
        let (initial, g) = genesis.cloned().ok_or_else(|| {
            AppError::Order("FinalizeBlock before InitChain on an empty store".into())
        })?;
        if height != initial {
            return Err(AppError::Order(format!(
                "first block is {height}, genesis says {initial}"
            )));
        }
        let hash = self
            .store
            .prepare_commit(initial.saturating_sub(1), g.clone())?
            .app_hash;
        Ok((g, hash.to_vec()))
    }

    /// Phases 2 to 7 over the block's overlay.
    fn run_block(
        &self,
        view: &mut dyn Storage,
        req: &RequestFinalizeBlock,
        height: u64,
        header_app_hash: &[u8],
    ) -> Result<(Delivered, Vec<Event>, Vec<ValidatorUpdate>), AppError> {
        let params = state::params(view);
        let time = req.time.unwrap_or_default();
        let info = BlockInfo {
            height,
            time_seconds: time.seconds,
            time_nanos: time.nanos,
            chain_id: state::chain_id(view),
        };
        let tx0 = read_tx0(view, req, &params);
        let last_commit = last_commit_votes(req);
        let misbehavior = misbehavior(req);
        let b = Block {
            info: &info,
            header_app_hash,
            next_validators_hash: &req.next_validators_hash,
            proposer: &req.proposer_address,
            last_commit: &last_commit,
            misbehavior: &misbehavior,
            extensions: match &tx0 {
                Tx0::Injected { ext, .. } => Some(ext),
                _ => None,
            },
        };
        let mut events = crate::modules::begin_block(view, &b)?;
        let index = self.store.tx_index_on();
        let delivered = deliver_txs(view, req, &info, &params, &tx0, index);
        let end = crate::modules::end_block(view, &b)?;
        events.extend(end.events);
        state::LAST_BLOCK.save(
            view,
            &BlockRecord {
                height,
                time_seconds: time.seconds,
                time_nanos: time.nanos,
                hash: hex::encode_upper(&req.hash),
                extensions: delivered.extensions,
            },
        )?;
        record_validator_set(view, height, &end.validator_updates)?;
        if self.check_invariants {
            crate::modules::check_invariants(view).map_err(|e| {
                AppError::Order(format!("invariant broken after block {height}: {e}"))
            })?;
        }
        let abci_events = events.iter().map(|e| e.to_abci()).collect();
        Ok((delivered, abci_events, end.validator_updates))
    }
}

/// Phase 2: tx[0] when the block must carry the previous height's extensions.
/// ProcessProposal vouched for it, but replay skips ProcessProposal: only
/// decode here, never trust more than that; whatever does not decode or fit
/// is skipped.
fn read_tx0(s: &dyn Storage, req: &RequestFinalizeBlock, params: &AppParams) -> Tx0 {
    let Some(tx) = req.txs.first() else {
        return Tx0::None;
    };
    if !(state::expects_injected(s, req.height) && vote_ext::is_injected(tx)) {
        return Tx0::None;
    }
    let inj = match vote_ext::decode_injected(tx) {
        Ok(inj) => inj,
        Err(e) => return Tx0::Bad(e.to_string()),
    };
    let cap = params.max_vote_extension_bytes as usize;
    let votes = inj
        .votes
        .iter()
        .filter_map(|v| {
            let a = <[u8; 20]>::try_from(v.validator_address.as_slice()).ok()?;
            let ve = vote_ext::check_extension(&v.vote_extension, cap).ok()?;
            Some((a, ve))
        })
        .collect();
    Tx0::Injected {
        count: u32::try_from(inj.votes.len()).unwrap_or(u32::MAX),
        ext: Extensions {
            votes,
            beacon_reveal: inj.beacon_reveal,
            beacon_anchor: inj.beacon_anchor,
        },
    }
}

/// The decided last commit's votes (entries with a malformed address or power
/// are skipped).
fn last_commit_votes(req: &RequestFinalizeBlock) -> Vec<BlockVote> {
    req.decided_last_commit
        .as_ref()
        .map(|c| c.votes.as_slice())
        .unwrap_or_default()
        .iter()
        .filter_map(|v| {
            let val = v.validator.as_ref()?;
            Some(BlockVote {
                address: val.address.as_ref().try_into().ok()?,
                power: u64::try_from(val.power).ok()?,
                flag: BlockIdFlag::from_i32(v.block_id_flag),
            })
        })
        .collect()
}

/// CometBFT's evidence of double signs.
fn misbehavior(req: &RequestFinalizeBlock) -> Vec<Misbehavior> {
    req.misbehavior
        .iter()
        .filter_map(|m| {
            let val = m.validator.as_ref()?;
            Some(Misbehavior {
                address: <[u8; 20]>::try_from(val.address.as_ref()).ok()?,
                height: m.height,
                power: val.power,
            })
        })
        .collect()
}

/// Phase 4: every transaction through the pipeline. tx[0], when injected, was
/// handled by attestation's begin-block hook and only gets its result here.
/// `index`: build the tx index entries (not consensus state).
fn deliver_txs(
    view: &mut dyn Storage,
    req: &RequestFinalizeBlock,
    info: &BlockInfo,
    params: &AppParams,
    tx0: &Tx0,
    index: bool,
) -> Delivered {
    let mut out = Delivered {
        tx_results: Vec::with_capacity(req.txs.len()),
        indexed: Vec::new(),
        extensions: 0,
    };
    for (i, tx) in req.txs.iter().enumerate() {
        if i == 0 {
            match tx0 {
                Tx0::Injected { count, .. } => {
                    out.extensions = *count;
                    out.tx_results.push(ExecTxResult {
                        code: 0,
                        log: format!("{count} vote extensions"),
                        ..Default::default()
                    });
                    continue;
                }
                Tx0::Bad(e) => {
                    out.tx_results
                        .push(TxError::Decode(e.clone()).exec_result());
                    continue;
                }
                Tx0::None => {}
            }
        }
        let result = if vote_ext::is_injected(tx) {
            TxError::Reserved.outcome()
        } else {
            tx::run(view, tx, info, params, Mode::Deliver)
        };
        if index {
            out.indexed
                .push(IndexedTx::new(tx, info.height, i, &result, info));
        }
        out.tx_results.push(exec_result(result));
    }
    out
}

/// Phase 6: the validator set CometBFT uses from h+2 (its delay), and the
/// stored sets older than the one in force go (only the set at a height and
/// later ones are ever read again: block h+1 checks the extensions of h).
fn record_validator_set(
    view: &mut dyn Storage,
    height: u64,
    updates: &[ValidatorUpdate],
) -> Result<(), AppError> {
    if updates.is_empty() {
        return Ok(());
    }
    let mut set = state::valset_at(view, height.saturating_add(1));
    for u in updates {
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
    state::VALSETS.save(view, height.saturating_add(2), &set.into_iter().collect())?;
    state::prune_valsets_before(view, height)?;
    Ok(())
}

pub(crate) fn exec_result(out: TxOutcome) -> ExecTxResult {
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
