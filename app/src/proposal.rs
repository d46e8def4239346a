//! The proposal and vote-extension side of ABCI 2.0: PrepareProposal (tx[0]
//! with the previous height's extensions and the beacon contribution),
//! ProcessProposal (tx[0] checked against the validator set in force),
//! ExtendVote (this validator's commitments and reveals) and
//! VerifyVoteExtension. All read committed state only and change nothing.

use prost::Message;
use tendermint_proto::v0_38::abci::{
    response_process_proposal::ProposalStatus, response_verify_vote_extension::VerifyStatus,
    RequestExtendVote, RequestPrepareProposal, RequestProcessProposal, RequestVerifyVoteExtension,
    ResponseExtendVote, ResponsePrepareProposal, ResponseProcessProposal,
    ResponseVerifyVoteExtension,
};

use cosmwasm_std::Storage;

use crate::app::VerdictApp;
use crate::state;
use crate::vote_ext::{self, ExtensionCheck, ValidatorKey, ValidatorSet};

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

impl VerdictApp {
    pub(crate) fn propose(&self, req: RequestPrepareProposal) -> ResponsePrepareProposal {
        let max = usize::try_from(req.max_tx_bytes).unwrap_or(0);
        let mut txs = Vec::with_capacity(req.txs.len().saturating_add(1));
        let mut used = 0usize;
        self.with_committed(|s| {
            if state::expects_injected(s, req.height) {
                let validators = validator_set(s, req.height.saturating_sub(1));
                let chain_id = state::chain_id(s);
                let check = ExtensionCheck {
                    validators: &validators,
                    chain_id: &chain_id,
                    cap: state::params(s).max_vote_extension_bytes as usize,
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

    pub(crate) fn check_proposal(&self, req: RequestProcessProposal) -> ResponseProcessProposal {
        let verdict = self.with_committed(|s| -> Result<(), String> {
            let expects = state::expects_injected(s, req.height);
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
            let validators = validator_set(s, req.height.saturating_sub(1));
            let chain_id = state::chain_id(s);
            let check = ExtensionCheck {
                validators: &validators,
                chain_id: &chain_id,
                cap: state::params(s).max_vote_extension_bytes as usize,
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

    pub(crate) fn extension_for(&self, req: RequestExtendVote) -> ResponseExtendVote {
        let ext = match &self.attestor {
            Some(a) => self.with_committed(|s| {
                let cap = state::params(s).max_vote_extension_bytes as usize;
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

    pub(crate) fn verify_extension(
        &self,
        req: RequestVerifyVoteExtension,
    ) -> ResponseVerifyVoteExtension {
        let checked = self.with_committed(|s| {
            let cap = state::params(s).max_vote_extension_bytes as usize;
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
