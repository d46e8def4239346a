//! The inference application's queries (served with the inference module's):
//! `RemoteRequest`, `RemoteRequests`, `ChannelPayer`.

use cosmwasm_std::{Order, Storage};
use prost::Message;
use verdict_bank::Bank;
use verdict_core::address::{Addr, FEE_DENOM};
use verdict_core::codes;
use verdict_core::module::QueryError;
use verdict_proto::inference::v1 as pb;

use super::state::{payer, RemoteRequest, RemoteStatus, BY_REQUESTER, REQUESTS};

/// Path prefix of this application's queries (served with the inference module's).
pub const QUERY_PREFIX: &str = "/verdict.inference.v1.Query/";

/// The result as decimals (output × tolerance), when completed.
fn output_values(r: &RemoteRequest) -> Vec<String> {
    let Some(res) = r.result.as_ref() else {
        return vec![];
    };
    let Ok(nano) = verdict_inference::msgs::parse_tolerance(&res.tolerance) else {
        return vec![];
    };
    res.output
        .iter()
        .map(|q| verdict_inference::query::decimal_of(*q, nano))
        .collect()
}

fn coin(c: &verdict_core::coin::Coin) -> pb::Coin {
    pb::Coin {
        denom: c.denom.clone(),
        amount: c.amount.to_string(),
    }
}

/// A request as the queries show it.
fn view(x: &RemoteRequest) -> pb::RemoteRequest {
    use pb::remote_request::Status as P;
    pb::RemoteRequest {
        channel_id: x.channel_id.clone(),
        sequence: x.sequence,
        requester: Addr(x.requester).bech32(),
        model_id: x.model_id.clone(),
        fee: Some(coin(&x.fee)),
        sent_height: x.sent_height,
        timeout_timestamp_nanos: x.timeout_timestamp_nanos,
        status: match x.status {
            RemoteStatus::Pending => P::Pending,
            RemoteStatus::Completed => P::Completed,
            RemoteStatus::Failed => P::Failed,
            RemoteStatus::TimedOut => P::TimedOut,
        } as i32,
        result: x.result.as_ref().map(|r| pb::RemoteResult {
            output: r.output.clone(),
            tolerance: r.tolerance.clone(),
            agreeing_power: r.agreeing_power,
            committee_power: r.committee_power,
            finalized_height: r.finalized_height,
        }),
        error: x.error.clone().unwrap_or_default(),
        closed_height: x.closed_height,
        output_values: output_values(x),
    }
}

/// A query error of this service: a bad request (SDK `ErrInvalidRequest`).
fn invalid(e: impl std::fmt::Display) -> QueryError {
    QueryError::new(codes::INVALID_REQUEST, e.to_string())
}

fn decode<M: Message + Default>(data: &[u8]) -> Result<M, QueryError> {
    M::decode(data).map_err(|e| invalid(format!("bad request: {e}")))
}

/// `RemoteRequest` {channel_id, sequence}, `RemoteRequests` {requester} (up to
/// 100, by channel id then sequence, descending), `ChannelPayer` {channel_id};
/// `Ok(None)` for any other method.
pub fn query(s: &dyn Storage, path: &str, data: &[u8]) -> Result<Option<Vec<u8>>, QueryError> {
    let Some(method) = path.strip_prefix(QUERY_PREFIX) else {
        return Ok(None);
    };
    let out = match method {
        "RemoteRequest" => {
            let r: pb::QueryRemoteRequestRequest = decode(data)?;
            if r.channel_id.is_empty() {
                return Err(invalid("channel_id is empty"));
            }
            let (ch, seq) = (r.channel_id.as_str(), r.sequence);
            let x = REQUESTS
                .may_load(s, (ch, seq))
                .map_err(invalid)?
                .ok_or_else(|| {
                    QueryError::new(
                        codes::NOT_FOUND,
                        format!("no request {seq} on channel {ch}: not found"),
                    )
                })?;
            pb::QueryRemoteRequestResponse {
                request: Some(view(&x)),
            }
            .encode_to_vec()
        }
        "RemoteRequests" => {
            let r: pb::QueryRemoteRequestsRequest = decode(data)?;
            let a = Addr::parse(&r.requester).map_err(|e| invalid(format!("requester: {e}")))?;
            let mut list = Vec::new();
            for k in BY_REQUESTER
                .sub_prefix(&a.0)
                .keys(s, None, None, Order::Descending)
                .take(100)
            {
                let (ch, seq) = k.map_err(invalid)?;
                if let Some(x) = REQUESTS.may_load(s, (ch.as_str(), seq)).map_err(invalid)? {
                    list.push(view(&x));
                }
            }
            pb::QueryRemoteRequestsResponse { requests: list }.encode_to_vec()
        }
        "ChannelPayer" => {
            let r: pb::QueryChannelPayerRequest = decode(data)?;
            if r.channel_id.is_empty() {
                return Err(invalid("channel_id is empty"));
            }
            let p = payer(&r.channel_id);
            let balance = Bank::balance(s, &p, FEE_DENOM).map_err(invalid)?;
            pb::QueryChannelPayerResponse {
                channel_id: r.channel_id,
                address: p.bech32(),
                balance: Some(pb::Coin {
                    denom: FEE_DENOM.into(),
                    amount: balance.to_string(),
                }),
            }
            .encode_to_vec()
        }
        _ => return Ok(None),
    };
    Ok(Some(out))
}
