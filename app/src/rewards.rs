//! Begin-block glue between the decided last commit and the distribution module.

use cosmwasm_std::Storage;
use tendermint_proto::v0_38::abci::CommitInfo;
use verdict_distribution::{DistributionError, SignedVote};

/// CometBFT's `BlockIDFlag` for a precommit for the block (absent = 1, nil = 3).
const BLOCK_ID_FLAG_COMMIT: i32 = 2;

/// Allocates the fee collector's balance to the validators whose precommit for
/// the previous block is in `commit`, pro rata to their power.
pub fn allocate_fees(
    s: &mut dyn Storage,
    commit: Option<&CommitInfo>,
) -> Result<(), DistributionError> {
    let signers: Vec<SignedVote> = commit
        .map(|c| c.votes.as_slice())
        .unwrap_or_default()
        .iter()
        .filter(|v| v.block_id_flag == BLOCK_ID_FLAG_COMMIT)
        .filter_map(|v| {
            let val = v.validator.as_ref()?;
            Some(SignedVote {
                consensus_address: val.address.as_ref().try_into().ok()?,
                power: u64::try_from(val.power).ok()?,
            })
        })
        .collect();
    verdict_distribution::allocate_fees(s, &crate::tx::fee_collector(), &signers)
}
