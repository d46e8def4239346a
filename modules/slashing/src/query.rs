//! `cosmos.slashing.v1beta1.Query` over protobuf bytes. Consensus addresses are
//! bech32 with prefix `verdictvalcons`.

use cosmrs::proto::cosmos::slashing::v1beta1 as pb;
use cosmwasm_std::{Order, Storage};
use prost::Message;
use tendermint_proto::google::protobuf::{Duration, Timestamp};

use crate::state::keys::SIGNING_INFO;
use crate::{params, SigningInfo, SlashingError};

pub use verdict_core::address::{valcons, VALCONS_PREFIX};

fn info_proto(addr: &[u8], i: &SigningInfo) -> pb::ValidatorSigningInfo {
    pb::ValidatorSigningInfo {
        address: valcons(addr),
        start_height: i64::try_from(i.start_height).unwrap_or(i64::MAX),
        index_offset: i64::try_from(i.index_offset).unwrap_or(i64::MAX),
        jailed_until: Some(Timestamp {
            seconds: i.jailed_until.min(253_402_300_799),
            nanos: 0,
        }),
        tombstoned: i.tombstoned,
        missed_blocks_counter: i64::try_from(i.missed_blocks_counter).unwrap_or(i64::MAX),
    }
}

fn dec(d: cosmwasm_std::Decimal) -> Vec<u8> {
    // LegacyDec on the wire: atomics (value × 10^18) as a decimal string.
    d.atomics().to_string().into_bytes()
}

pub fn signing_info(s: &dyn Storage, req: &[u8]) -> Result<Vec<u8>, SlashingError> {
    let r = pb::QuerySigningInfoRequest::decode(req)
        .map_err(|e| SlashingError::InvalidAddress(format!("bad QuerySigningInfoRequest: {e}")))?;
    let (hrp, data) = bech32::decode(&r.cons_address).map_err(|e| {
        SlashingError::InvalidAddress(format!("consensus address {:?}: {e}", r.cons_address))
    })?;
    if hrp.as_str() != VALCONS_PREFIX {
        return Err(SlashingError::InvalidAddress(format!(
            "consensus address must start with {VALCONS_PREFIX}"
        )));
    }
    let info = SIGNING_INFO.may_load(s, &data)?.ok_or_else(|| {
        SlashingError::NotFound(format!(
            "rpc error: code = NotFound desc = no signing info for {}",
            r.cons_address
        ))
    })?;
    Ok(pb::QuerySigningInfoResponse {
        val_signing_info: Some(info_proto(&data, &info)),
    }
    .encode_to_vec())
}

pub fn signing_infos(s: &dyn Storage, req: &[u8]) -> Result<Vec<u8>, SlashingError> {
    let r = pb::QuerySigningInfosRequest::decode(req)
        .map_err(|e| SlashingError::Decode(format!("bad QuerySigningInfosRequest: {e}")))?;
    let infos: Vec<(Vec<u8>, pb::ValidatorSigningInfo)> = SIGNING_INFO
        .range(s, None, None, Order::Ascending)
        .filter_map(Result::ok)
        .map(|(a, i)| (a.to_vec(), info_proto(&a, &i)))
        .collect();
    let (info, pagination) = verdict_core::page::paginate(infos, r.pagination.as_ref())
        .map_err(SlashingError::InvalidRequest)?;
    Ok(pb::QuerySigningInfosResponse {
        pagination: Some(pagination),
        info,
    }
    .encode_to_vec())
}

pub fn params_query(s: &dyn Storage, _req: &[u8]) -> Result<Vec<u8>, SlashingError> {
    let p = params(s);
    Ok(pb::QueryParamsResponse {
        params: Some(pb::Params {
            signed_blocks_window: i64::try_from(p.signed_blocks_window).unwrap_or(i64::MAX),
            min_signed_per_window: dec(p.min_signed_per_window),
            downtime_jail_duration: Some(Duration {
                seconds: i64::try_from(p.downtime_jail_duration_seconds).unwrap_or(i64::MAX),
                nanos: 0,
            }),
            slash_fraction_double_sign: dec(p.slash_fraction_double_sign),
            slash_fraction_downtime: dec(p.slash_fraction_downtime),
        }),
    }
    .encode_to_vec())
}
