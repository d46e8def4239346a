//! `ibc.applications.transfer.v1.Query`: `DenomTrace`, `DenomTraces`,
//! `DenomHash`, `EscrowAddress`, `TotalEscrowForDenom`, `Params` (ibc-go's
//! requests and responses).

use cosmrs::proto::cosmos::base::query::v1beta1::PageRequest;
use cosmwasm_std::{Order, Storage};
use ibc::apps::transfer::types::proto::transfer::v1 as pb;
use ibc::apps::transfer::types::PrefixedDenom;
use ibc::core::host::types::identifiers::{ChannelId, PortId};
use ibc_proto::cosmos::base::query::v1beta1::PageResponse;
use ibc_proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use prost::Message;
use verdict_core::codes;
use verdict_core::module::{QueryAnswer, QueryError};

use super::{escrow_address, trace_hash, DENOM_TRACES, TOTAL_ESCROW, VOUCHER_PREFIX};

/// Path prefix of these queries.
pub const QUERY_PREFIX: &str = "/ibc.applications.transfer.v1.Query/";

fn bad(what: &str, e: impl std::fmt::Display) -> QueryError {
    QueryError::new(codes::INVALID_REQUEST, format!("bad {what}: {e}"))
}

fn trace_of(full_path: &str) -> Result<pb::DenomTrace, QueryError> {
    let d: PrefixedDenom = full_path
        .parse()
        .map_err(|e| bad("stored denom trace", e))?;
    Ok(d.into())
}

fn denom_trace(s: &dyn Storage, req: &[u8]) -> QueryAnswer {
    let r = pb::QueryDenomTraceRequest::decode(req).map_err(|e| bad("request", e))?;
    let hash = r.hash.strip_prefix(VOUCHER_PREFIX).unwrap_or(&r.hash);
    if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad("hash", format!("{:?} is no SHA-256 in hex", r.hash)));
    }
    let found = DENOM_TRACES
        .may_load(s, &hash.to_ascii_uppercase())
        .map_err(|e| bad("store", e))?
        .ok_or_else(|| {
            QueryError::new(
                codes::NOT_FOUND,
                format!("denomination trace {hash} not found"),
            )
        })?;
    Ok(pb::QueryDenomTraceResponse {
        denom_trace: Some(trace_of(&found)?),
    }
    .encode_to_vec())
}

fn denom_traces(s: &dyn Storage, req: &[u8]) -> QueryAnswer {
    let r = pb::QueryDenomTracesRequest::decode(req).map_err(|e| bad("request", e))?;
    let page = r.pagination.map(|p| PageRequest {
        key: p.key,
        offset: p.offset,
        limit: p.limit,
        count_total: p.count_total,
        reverse: p.reverse,
    });
    let mut items = Vec::new();
    for kv in DENOM_TRACES.range(s, None, None, Order::Ascending) {
        let (hash, path) = kv.map_err(|e| bad("store", e))?;
        items.push((hash.into_bytes(), path));
    }
    let (paths, p) =
        verdict_core::page::paginate(items, page.as_ref()).map_err(|e| bad("pagination", e))?;
    let denom_traces = paths
        .iter()
        .map(|x| trace_of(x))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(pb::QueryDenomTracesResponse {
        denom_traces,
        pagination: Some(PageResponse {
            next_key: p.next_key,
            total: p.total,
        }),
    }
    .encode_to_vec())
}

fn denom_hash(_s: &dyn Storage, req: &[u8]) -> QueryAnswer {
    let r = pb::QueryDenomHashRequest::decode(req).map_err(|e| bad("request", e))?;
    let d: PrefixedDenom = r.trace.parse().map_err(|e| bad("trace", e))?;
    if d.trace_path.is_empty() {
        return Err(bad(
            "trace",
            format!("{:?} has no port/channel prefix", r.trace),
        ));
    }
    Ok(pb::QueryDenomHashResponse {
        hash: trace_hash(&d.to_string()),
    }
    .encode_to_vec())
}

fn escrow(_s: &dyn Storage, req: &[u8]) -> QueryAnswer {
    let r = pb::QueryEscrowAddressRequest::decode(req).map_err(|e| bad("request", e))?;
    let port: PortId = r.port_id.parse().map_err(|e| bad("port id", e))?;
    let channel: ChannelId = r.channel_id.parse().map_err(|e| bad("channel id", e))?;
    Ok(pb::QueryEscrowAddressResponse {
        escrow_address: escrow_address(port.as_str(), channel.as_str()).bech32(),
    }
    .encode_to_vec())
}

fn total_escrow(s: &dyn Storage, req: &[u8]) -> QueryAnswer {
    let r = pb::QueryTotalEscrowForDenomRequest::decode(req).map_err(|e| bad("request", e))?;
    verdict_core::coin::validate_denom(&r.denom).map_err(|e| bad("denom", e))?;
    let amount = TOTAL_ESCROW
        .may_load(s, &r.denom)
        .map_err(|e| bad("store", e))?
        .unwrap_or_default();
    Ok(pb::QueryTotalEscrowForDenomResponse {
        amount: Some(ProtoCoin {
            denom: r.denom,
            amount: amount.to_string(),
        }),
    }
    .encode_to_vec())
}

fn params(_s: &dyn Storage, _req: &[u8]) -> QueryAnswer {
    Ok(pb::QueryParamsResponse {
        params: Some(pb::Params {
            send_enabled: true,
            receive_enabled: true,
        }),
    }
    .encode_to_vec())
}

/// Answers `path` when it is one of these queries.
pub fn query(s: &dyn Storage, path: &str, data: &[u8]) -> Option<QueryAnswer> {
    let method = path.strip_prefix(QUERY_PREFIX)?;
    let f: fn(&dyn Storage, &[u8]) -> QueryAnswer = match method {
        "DenomTrace" => denom_trace,
        "DenomTraces" => denom_traces,
        "DenomHash" => denom_hash,
        "EscrowAddress" => escrow,
        "TotalEscrowForDenom" => total_escrow,
        "Params" => params,
        _ => return None,
    };
    Some(f(s, data))
}
