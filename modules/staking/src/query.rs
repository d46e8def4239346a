//! `cosmos.staking.v1beta1.Query` over protobuf bytes.

use cosmrs::proto::cosmos::base::query::v1beta1::PageResponse;
use cosmrs::proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use cosmrs::proto::cosmos::staking::v1beta1 as pb;
use cosmwasm_std::{Order, Storage, Uint128};
use prost::Message;
use tendermint_proto::google::protobuf::{Any, Duration, Timestamp};
use verdict_core::address::Addr;

use crate::error::StakingError;
use crate::msgs::ED25519_PUBKEY_URL;
use crate::state::keys::{DELEGATIONS, REDELEGATIONS, REDELEGATIONS_BY_SRC, UNBONDING};
use crate::state::{self, Status, Validator};

/// Shares are kept as integers (10^6 per token at the start); on the wire they
/// are a `LegacyDec` where one token starts as 1.0 share: atomics = shares × 10^12.
fn shares_dec(shares: Uint128) -> String {
    (shares.u128().saturating_mul(1_000_000_000_000)).to_string()
}

fn bad(what: &str, e: impl std::fmt::Display) -> StakingError {
    StakingError::Invalid(format!("bad {what}: {e}"))
}

pub fn validator_proto(v: &Validator) -> pb::Validator {
    let op = Addr(v.operator);
    let pk = hex::decode(&v.consensus_pubkey).unwrap_or_default();
    pb::Validator {
        operator_address: op.valoper(),
        consensus_pubkey: Some(Any {
            type_url: ED25519_PUBKEY_URL.into(),
            value: cosmrs::proto::cosmos::crypto::ed25519::PubKey { key: pk }.encode_to_vec(),
        }),
        jailed: v.jailed,
        status: match v.status {
            Status::Unbonded => pb::BondStatus::Unbonded as i32,
            Status::Unbonding => pb::BondStatus::Unbonding as i32,
            Status::Bonded => pb::BondStatus::Bonded as i32,
        },
        tokens: v.tokens.to_string(),
        delegator_shares: shares_dec(v.delegator_shares),
        description: Some(pb::Description {
            moniker: v.moniker.clone(),
            ..Default::default()
        }),
        unbonding_height: i64::try_from(v.unbonding_height).unwrap_or(i64::MAX),
        unbonding_time: (v.unbonding_time != 0).then_some(Timestamp {
            seconds: v.unbonding_time,
            nanos: 0,
        }),
        commission: Some(pb::Commission {
            commission_rates: Some(pb::CommissionRates {
                rate: v.commission_rate.atomics().to_string(),
                max_rate: v.commission_max_rate.atomics().to_string(),
                max_change_rate: v.commission_max_change_rate.atomics().to_string(),
            }),
            update_time: None,
        }),
        min_self_delegation: v.min_self_delegation.to_string(),
        unbonding_on_hold_ref_count: 0,
        unbonding_ids: vec![],
    }
}

/// One page of `items` (ascending by key) as `req` asks.
fn page<T>(
    items: Vec<(Vec<u8>, T)>,
    req: Option<&cosmrs::proto::cosmos::base::query::v1beta1::PageRequest>,
) -> Result<(Vec<T>, Option<PageResponse>), StakingError> {
    let (v, p) = verdict_core::page::paginate(items, req).map_err(StakingError::Invalid)?;
    Ok((v, Some(p)))
}

pub fn validators(s: &dyn Storage, req: &[u8]) -> Result<Vec<u8>, StakingError> {
    let r =
        pb::QueryValidatorsRequest::decode(req).map_err(|e| bad("QueryValidatorsRequest", e))?;
    let want = match r.status.as_str() {
        "" => None,
        "BOND_STATUS_BONDED" => Some(Status::Bonded),
        "BOND_STATUS_UNBONDING" => Some(Status::Unbonding),
        "BOND_STATUS_UNBONDED" => Some(Status::Unbonded),
        other => return Err(StakingError::Invalid(format!("unknown status {other:?}"))),
    };
    let vals: Vec<(Vec<u8>, pb::Validator)> = state::all_validators(s)
        .filter_map(Result::ok)
        .filter(|v| want.is_none_or(|w| v.status == w))
        .map(|v| (v.operator.to_vec(), validator_proto(&v)))
        .collect();
    let (validators, pagination) = page(vals, r.pagination.as_ref())?;
    Ok(pb::QueryValidatorsResponse {
        pagination,
        validators,
    }
    .encode_to_vec())
}

fn valoper(s: &str) -> Result<Addr, StakingError> {
    Addr::parse_valoper(s).map_err(|e| StakingError::Invalid(e.to_string()))
}

fn acc(s: &str) -> Result<Addr, StakingError> {
    Addr::parse(s).map_err(|e| StakingError::Invalid(e.to_string()))
}

pub fn validator(s: &dyn Storage, req: &[u8]) -> Result<Vec<u8>, StakingError> {
    let r = pb::QueryValidatorRequest::decode(req).map_err(|e| bad("QueryValidatorRequest", e))?;
    let v = state::validator(s, &valoper(&r.validator_addr)?)?;
    Ok(pb::QueryValidatorResponse {
        validator: Some(validator_proto(&v)),
    }
    .encode_to_vec())
}

fn delegation_response(
    s: &dyn Storage,
    d: &Addr,
    v: &Addr,
    shares: Uint128,
) -> Result<pb::DelegationResponse, StakingError> {
    let val = state::validator(s, v)?;
    let balance = state::tokens_of_shares(&val, shares)?;
    Ok(pb::DelegationResponse {
        delegation: Some(pb::Delegation {
            delegator_address: d.bech32(),
            validator_address: v.valoper(),
            shares: shares_dec(shares),
        }),
        balance: Some(ProtoCoin {
            denom: state::params(s).bond_denom,
            amount: balance.to_string(),
        }),
    })
}

pub fn delegation(s: &dyn Storage, req: &[u8]) -> Result<Vec<u8>, StakingError> {
    let r =
        pb::QueryDelegationRequest::decode(req).map_err(|e| bad("QueryDelegationRequest", e))?;
    let (d, v) = (acc(&r.delegator_addr)?, valoper(&r.validator_addr)?);
    let shares =
        DELEGATIONS
            .may_load(s, (&d.0, &v.0))?
            .ok_or_else(|| StakingError::NoDelegation {
                delegator: d.bech32(),
                validator: v.valoper(),
            })?;
    Ok(pb::QueryDelegationResponse {
        delegation_response: Some(delegation_response(s, &d, &v, shares)?),
    }
    .encode_to_vec())
}

pub fn delegator_delegations(s: &dyn Storage, req: &[u8]) -> Result<Vec<u8>, StakingError> {
    let r = pb::QueryDelegatorDelegationsRequest::decode(req)
        .map_err(|e| bad("QueryDelegatorDelegationsRequest", e))?;
    let d = acc(&r.delegator_addr)?;
    let mut out = Vec::new();
    for item in DELEGATIONS
        .prefix(&d.0)
        .range(s, None, None, Order::Ascending)
    {
        let (v, shares) = item?;
        let v =
            Addr::from_slice(&v).ok_or_else(|| StakingError::Invalid("stored address".into()))?;
        out.push((v.0.to_vec(), delegation_response(s, &d, &v, shares)?));
    }
    let (delegation_responses, pagination) = page(out, r.pagination.as_ref())?;
    Ok(pb::QueryDelegatorDelegationsResponse {
        pagination,
        delegation_responses,
    }
    .encode_to_vec())
}

pub fn unbonding_delegation(s: &dyn Storage, req: &[u8]) -> Result<Vec<u8>, StakingError> {
    let r = pb::QueryUnbondingDelegationRequest::decode(req)
        .map_err(|e| bad("QueryUnbondingDelegationRequest", e))?;
    let (d, v) = (acc(&r.delegator_addr)?, valoper(&r.validator_addr)?);
    let entries =
        UNBONDING
            .may_load(s, (&d.0, &v.0))?
            .ok_or_else(|| StakingError::NoDelegation {
                delegator: d.bech32(),
                validator: v.valoper(),
            })?;
    Ok(pb::QueryUnbondingDelegationResponse {
        unbond: Some(pb::UnbondingDelegation {
            delegator_address: d.bech32(),
            validator_address: v.valoper(),
            entries: entries
                .iter()
                .map(|e| pb::UnbondingDelegationEntry {
                    creation_height: i64::try_from(e.creation_height).unwrap_or(i64::MAX),
                    completion_time: Some(tendermint_proto::google::protobuf::Timestamp {
                        seconds: e.completion_time,
                        nanos: 0,
                    }),
                    initial_balance: e.initial_balance.to_string(),
                    balance: e.balance.to_string(),
                    unbonding_id: 0,
                    unbonding_on_hold_ref_count: 0,
                })
                .collect(),
        }),
    }
    .encode_to_vec())
}

pub fn params(s: &dyn Storage, _req: &[u8]) -> Result<Vec<u8>, StakingError> {
    let p = state::params(s);
    Ok(pb::QueryParamsResponse {
        params: Some(pb::Params {
            unbonding_time: Some(Duration {
                seconds: i64::try_from(p.unbonding_time_seconds).unwrap_or(i64::MAX),
                nanos: 0,
            }),
            max_validators: p.max_validators,
            max_entries: p.max_entries,
            historical_entries: p.historical_entries,
            bond_denom: p.bond_denom,
            min_commission_rate: "0".into(),
        }),
    }
    .encode_to_vec())
}

pub fn pool(s: &dyn Storage, _req: &[u8]) -> Result<Vec<u8>, StakingError> {
    let denom = state::params(s).bond_denom;
    let b = verdict_bank::Bank::balance(s, &state::bonded_pool(), &denom)?;
    let nb = verdict_bank::Bank::balance(s, &state::not_bonded_pool(), &denom)?;
    Ok(pb::QueryPoolResponse {
        pool: Some(pb::Pool {
            not_bonded_tokens: nb.to_string(),
            bonded_tokens: b.to_string(),
        }),
    }
    .encode_to_vec())
}

fn redelegation_response(
    s: &dyn Storage,
    d: &[u8],
    src: &[u8],
    dst: &[u8],
    entries: &[state::RedelegationEntry],
) -> Result<pb::RedelegationResponse, StakingError> {
    let addr = |b: &[u8]| {
        Addr::from_slice(b).ok_or_else(|| StakingError::Invalid("stored address".into()))
    };
    let (d, src, dst) = (addr(d)?, addr(src)?, addr(dst)?);
    // A destination removed since (Unbonded, every delegation gone) is worth nothing.
    let dst_val = state::find_validator(s, &dst.0)?;
    let pb_entries: Vec<pb::RedelegationEntry> = entries
        .iter()
        .map(|e| pb::RedelegationEntry {
            creation_height: i64::try_from(e.creation_height).unwrap_or(i64::MAX),
            completion_time: Some(tendermint_proto::google::protobuf::Timestamp {
                seconds: e.completion_time,
                nanos: 0,
            }),
            initial_balance: e.initial_balance.to_string(),
            shares_dst: shares_dec(e.shares_dst),
            unbonding_id: 0,
            unbonding_on_hold_ref_count: 0,
        })
        .collect();
    let mut responses = Vec::with_capacity(entries.len());
    for (e, pe) in entries.iter().zip(&pb_entries) {
        responses.push(pb::RedelegationEntryResponse {
            redelegation_entry: Some(pe.clone()),
            balance: match &dst_val {
                Some(v) => state::tokens_of_shares(v, e.shares_dst)?.to_string(),
                None => "0".into(),
            },
        });
    }
    Ok(pb::RedelegationResponse {
        redelegation: Some(pb::Redelegation {
            delegator_address: d.bech32(),
            validator_src_address: src.valoper(),
            validator_dst_address: dst.valoper(),
            entries: pb_entries,
        }),
        entries: responses,
    })
}

/// `Redelegations`: by delegator (optionally narrowed to a source and a
/// destination), or by source validator alone.
pub fn redelegations(s: &dyn Storage, req: &[u8]) -> Result<Vec<u8>, StakingError> {
    let r = pb::QueryRedelegationsRequest::decode(req)
        .map_err(|e| bad("QueryRedelegationsRequest", e))?;
    let opt_val = |a: &str| -> Result<Option<Addr>, StakingError> {
        if a.is_empty() {
            Ok(None)
        } else {
            valoper(a).map(Some)
        }
    };
    let (src, dst) = (
        opt_val(&r.src_validator_addr)?,
        opt_val(&r.dst_validator_addr)?,
    );
    let mut out = Vec::new();
    if r.delegator_addr.is_empty() {
        let src = src.ok_or_else(|| {
            StakingError::Invalid("give a delegator address or a source validator".into())
        })?;
        for k in REDELEGATIONS_BY_SRC
            .sub_prefix(&src.0)
            .keys(s, None, None, Order::Ascending)
        {
            let (d, dv) = k?;
            if dst.is_some_and(|x| x.0.as_slice() != dv.as_slice()) {
                continue;
            }
            if let Some(es) = REDELEGATIONS.may_load(s, (&d, &src.0, &dv))? {
                let key = [d.as_slice(), dv.as_slice()].concat();
                out.push((key, redelegation_response(s, &d, &src.0, &dv, &es)?));
            }
        }
    } else {
        let d = acc(&r.delegator_addr)?;
        for item in REDELEGATIONS
            .sub_prefix(&d.0)
            .range(s, None, None, Order::Ascending)
        {
            let ((sv, dv), es) = item?;
            if src.is_some_and(|x| x.0.as_slice() != sv.as_slice())
                || dst.is_some_and(|x| x.0.as_slice() != dv.as_slice())
            {
                continue;
            }
            let key = [sv.as_slice(), dv.as_slice()].concat();
            out.push((key, redelegation_response(s, &d.0, &sv, &dv, &es)?));
        }
    }
    if out.is_empty() && !r.delegator_addr.is_empty() && src.is_some() && dst.is_some() {
        return Err(StakingError::NotFound(format!(
            "rpc error: code = NotFound desc = redelegation not found for delegator address {} from validator address {}",
            r.delegator_addr, r.src_validator_addr
        )));
    }
    let (redelegation_responses, pagination) = page(out, r.pagination.as_ref())?;
    Ok(pb::QueryRedelegationsResponse {
        pagination,
        redelegation_responses,
    }
    .encode_to_vec())
}
