//! InitChain: genesis into state, kept in memory until the first block commits
//! it.
//!
//! 1. The app's own records: chain id, params, the vote-extension height.
//! 2. Every module's genesis section, in module-list order.
//! 3. The gentxs (signed `MsgCreateValidator` txs) through the normal pipeline.
//! 4. The initial validator set: staking's, or CometBFT's genesis validators
//!    when staking has none.

use cosmwasm_std::Storage;
use tendermint_proto::v0_38::abci::{RequestInitChain, ResponseInitChain};
use tendermint_proto::v0_38::crypto::public_key::Sum;
use verdict_core::ctx::BlockInfo;
use verdict_core::module::ValidatorUpdate;

use crate::app::{power_update, tendermint_address, VerdictApp};
use crate::error::AppError;
use crate::genesis::AppGenesis;
use crate::state::{self, ConsensusValidator};
use crate::store::{Overlay, StateView};
use crate::tx::{self, Mode};

impl VerdictApp {
    pub(crate) fn init_chain_inner(
        &self,
        req: RequestInitChain,
    ) -> Result<ResponseInitChain, AppError> {
        let genesis = AppGenesis::from_app_state_bytes(&req.app_state_bytes, "genesis app_state")
            .map_err(|e| AppError::Genesis(e.to_string()))?;
        let mut ov = Overlay::new();
        let initial = u64::try_from(req.initial_height.max(1)).unwrap_or(1);
        let updates = {
            let mut view = StateView::new(&*self.store, &mut ov);
            if let Some(e) = &genesis.exported {
                restore_exported(&mut view, &req, &genesis, e, initial)?
            } else {
                app_records(&mut view, &req, &genesis)?;
                crate::modules::init_genesis(&mut view, &genesis)?;
                run_gentxs(&mut view, &req, &genesis)?;
                let updates = verdict_staking::module::validator_updates(
                    &mut view,
                    initial,
                    req.time.map_or(0, |t| t.seconds),
                )?;
                initial_valset(&mut view, &req, &updates)?;
                updates
            }
        };
        // The genesis hash is what the tree would hold at the version before the
        // first block; it is computed, not written.
        let app_hash = self
            .store
            .prepare_commit(initial.saturating_sub(1), ov.clone())?
            .app_hash;
        self.lock().genesis = Some((initial, ov));
        tracing::info!(chain_id = %req.chain_id, validators = req.validators.len(), app_hash = %hex::encode_upper(app_hash), "init chain");
        Ok(ResponseInitChain {
            consensus_params: None,
            validators: updates.iter().map(power_update).collect(),
            app_hash: app_hash.to_vec().into(),
        })
    }
}

/// An exported chain's state, under this chain's own records; the validator
/// set it had decided on, from the first height.
fn restore_exported(
    s: &mut dyn Storage,
    req: &RequestInitChain,
    genesis: &AppGenesis,
    e: &crate::export::ExportedState,
    initial: u64,
) -> Result<Vec<ValidatorUpdate>, AppError> {
    if initial != e.height.saturating_add(1) {
        return Err(AppError::Genesis(format!(
            "the state exported at height {} starts a chain at initial_height {}, not {initial}",
            e.height,
            e.height.saturating_add(1)
        )));
    }
    let set = crate::export::restore(s, e, initial).map_err(AppError::Genesis)?;
    app_records(s, req, genesis)?;
    set.iter()
        .map(|(addr, v)| {
            let pubkey: [u8; 32] = hex::decode(&v.pub_key)
                .ok()
                .and_then(|k| k.try_into().ok())
                .ok_or_else(|| AppError::Genesis(format!("validator {addr}: bad public key")))?;
            Ok(ValidatorUpdate {
                pubkey,
                power: v.power,
            })
        })
        .collect()
}

/// Phase 1: chain id, params, and the height from which CometBFT asks for
/// vote extensions; a block too small for tx[0] is refused (threats.md §13).
fn app_records(
    s: &mut dyn Storage,
    req: &RequestInitChain,
    genesis: &AppGenesis,
) -> Result<(), AppError> {
    state::CHAIN_ID.save(s, &req.chain_id)?;
    state::PARAMS.save(s, &genesis.app.params)?;
    let consensus = req.consensus_params.as_ref();
    let enable = consensus
        .and_then(|p| p.abci.as_ref())
        .map(|a| a.vote_extensions_enable_height)
        .unwrap_or(0);
    if let Some(max_bytes) = consensus
        .and_then(|p| p.block.as_ref())
        .map(|b| b.max_bytes)
    {
        genesis
            .check_block_size(max_bytes)
            .map_err(AppError::Genesis)?;
    }
    state::VE_ENABLE_HEIGHT.save(s, &u64::try_from(enable).unwrap_or(0))?;
    Ok(())
}

/// Phase 3: the gentxs, as height-0 transactions without a minimum fee.
fn run_gentxs(
    s: &mut dyn Storage,
    req: &RequestInitChain,
    genesis: &AppGenesis,
) -> Result<(), AppError> {
    let info = BlockInfo {
        height: 0,
        time_seconds: req.time.map_or(0, |t| t.seconds),
        time_nanos: req.time.map_or(0, |t| t.nanos),
        chain_id: req.chain_id.clone(),
    };
    for (i, gentx) in genesis.staking.gentx_bytes().iter().enumerate() {
        let out = tx::run(s, gentx, &info, &genesis.app.params, Mode::Genesis);
        if out.code != 0 {
            return Err(AppError::Genesis(format!(
                "staking.gentxs[{i}] failed (code {}): {}",
                out.code, out.log
            )));
        }
    }
    Ok(())
}

/// Phase 4: the set in force from the first block. Without staking validators
/// in genesis, CometBFT's genesis set stands.
fn initial_valset(
    s: &mut dyn Storage,
    req: &RequestInitChain,
    updates: &[ValidatorUpdate],
) -> Result<(), AppError> {
    let mut set: Vec<(String, ConsensusValidator)> = updates
        .iter()
        .map(|u| {
            (
                hex::encode_upper(tendermint_address(&u.pubkey)),
                ConsensusValidator {
                    pub_key: hex::encode(u.pubkey),
                    power: u.power,
                },
            )
        })
        .collect();
    for v in req.validators.iter().filter(|_| updates.is_empty()) {
        let Some(Sum::Ed25519(pk)) = v.pub_key.as_ref().and_then(|k| k.sum.clone()) else {
            return Err(AppError::Genesis(
                "genesis validators must have ed25519 keys".into(),
            ));
        };
        let power = u64::try_from(v.power).map_err(|_| {
            AppError::Genesis(format!("negative genesis validator power {}", v.power))
        })?;
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
    state::VALSETS.save(s, first, &set)?;
    Ok(())
}
