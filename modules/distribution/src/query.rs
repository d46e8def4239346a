//! `cosmos.distribution.v1beta1.Query` over protobuf bytes. Amounts are
//! `DecCoin`s whose amount is a `LegacyDec` on the wire (atomics, 18 decimals).

use cosmrs::proto::cosmos::base::v1beta1::DecCoin;
use cosmrs::proto::cosmos::distribution::v1beta1 as pb;
use cosmwasm_std::{Decimal256, Storage, Uint128, Uint256};
use prost::Message;
use verdict_core::address::Addr;
use verdict_staking::state as staking;

use crate::state;
use crate::state::keys::{DELEGATION_REWARDS, VALIDATOR_REWARDS};
use crate::DistributionError;

fn bad(what: &str, e: impl std::fmt::Display) -> DistributionError {
    DistributionError::Invalid(format!("bad {what}: {e}"))
}

fn dec_coins(s: &dyn Storage, d: Decimal256) -> Vec<DecCoin> {
    if d.is_zero() {
        return vec![];
    }
    vec![DecCoin {
        denom: staking::bond_denom(s),
        amount: d.atomics().to_string(),
    }]
}

fn int_dec(n: Uint128) -> Decimal256 {
    Decimal256::new(Uint256::from(n).saturating_mul(Uint256::from(10u128.pow(18))))
}

/// `DelegationRewards`: what the delegation could withdraw now (with fractions).
pub fn delegation_rewards(s: &dyn Storage, req: &[u8]) -> Result<Vec<u8>, DistributionError> {
    let r = pb::QueryDelegationRewardsRequest::decode(req)
        .map_err(|e| bad("QueryDelegationRewardsRequest", e))?;
    let d = Addr::parse(&r.delegator_address)
        .map_err(|e| DistributionError::Invalid(format!("delegator_address: {e}")))?;
    let v = Addr::parse_valoper(&r.validator_address)
        .map_err(|e| DistributionError::Invalid(format!("validator_address: {e}")))?;
    state::known_validator(s, &v)?;
    let dr = DELEGATION_REWARDS.may_load(s, (&d.0, &v.0))?;
    if dr.is_none() && !staking::has_delegation(s, &d.0, &v.0) {
        return Err(DistributionError::NoDelegation {
            delegator: d.bech32(),
            validator: v.valoper(),
        });
    }
    let vr = VALIDATOR_REWARDS.may_load(s, &v.0)?.unwrap_or_default();
    let earned = state::earned(&vr, &dr.unwrap_or_default())?;
    Ok(pb::QueryDelegationRewardsResponse {
        rewards: dec_coins(s, earned),
    }
    .encode_to_vec())
}

/// `ValidatorCommission`.
pub fn validator_commission(s: &dyn Storage, req: &[u8]) -> Result<Vec<u8>, DistributionError> {
    let r = pb::QueryValidatorCommissionRequest::decode(req)
        .map_err(|e| bad("QueryValidatorCommissionRequest", e))?;
    let v = Addr::parse_valoper(&r.validator_address)
        .map_err(|e| DistributionError::Invalid(format!("validator_address: {e}")))?;
    state::known_validator(s, &v)?;
    let vr = VALIDATOR_REWARDS.may_load(s, &v.0)?.unwrap_or_default();
    Ok(pb::QueryValidatorCommissionResponse {
        commission: Some(pb::ValidatorAccumulatedCommission {
            commission: dec_coins(s, int_dec(vr.commission)),
        }),
    }
    .encode_to_vec())
}

/// `CommunityPool`.
pub fn community_pool(s: &dyn Storage, _req: &[u8]) -> Result<Vec<u8>, DistributionError> {
    Ok(pb::QueryCommunityPoolResponse {
        pool: dec_coins(s, int_dec(state::community_pool(s)?)),
    }
    .encode_to_vec())
}
