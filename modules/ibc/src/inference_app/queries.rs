//! The inference application's queries (served with the inference module's):
//! `RemoteRequest`, `RemoteRequests`, `ChannelPayer`.

use cosmwasm_std::{Order, Storage};
use serde::{Deserialize, Serialize};
use verdict_bank::Bank;
use verdict_core::address::{Addr, FEE_DENOM};
use verdict_core::codes;
use verdict_core::coin::Coin;
use verdict_core::module::QueryError;

use super::state::{payer, RemoteRequest, BY_REQUESTER, REQUESTS};

/// Path prefix of this application's queries (served with the inference module's).
pub const QUERY_PREFIX: &str = "/verdict.inference.v1.Query/";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Req {
    channel_id: Option<String>,
    sequence: Option<u64>,
    requester: Option<String>,
}

#[derive(Serialize)]
struct RequestView<'a> {
    #[serde(flatten)]
    request: &'a RemoteRequest,
    requester_address: String,
    /// The result as decimals (output × tolerance), when completed.
    output_values: Option<Vec<String>>,
}

fn output_values(r: &RemoteRequest) -> Option<Vec<String>> {
    let res = r.result.as_ref()?;
    let nano = verdict_inference::msgs::parse_tolerance(&res.tolerance).ok()?;
    Some(
        res.output
            .iter()
            .map(|q| verdict_inference::query::decimal_of(*q, nano))
            .collect(),
    )
}

/// `RemoteRequest` {channel_id, sequence}, `RemoteRequests` {requester} (up to
/// 100, by channel id then sequence, descending), `ChannelPayer` {channel_id};
/// `Ok(None)` for any other method.
/// A query error of this service: a bad request (SDK `ErrInvalidRequest`).
fn invalid(e: impl std::fmt::Display) -> QueryError {
    QueryError::new(codes::INVALID_REQUEST, e.to_string())
}

pub fn query(s: &dyn Storage, path: &str, data: &[u8]) -> Result<Option<Vec<u8>>, QueryError> {
    let Some(method) = path.strip_prefix(QUERY_PREFIX) else {
        return Ok(None);
    };
    if !matches!(method, "RemoteRequest" | "RemoteRequests" | "ChannelPayer") {
        return Ok(None);
    }
    let r: Req = if data.is_empty() {
        Req::default()
    } else {
        serde_json::from_slice(data)
            .map_err(|e| invalid(format!("request is not the expected JSON: {e}")))?
    };
    let view = |x: &RemoteRequest| -> Result<serde_json::Value, QueryError> {
        serde_json::to_value(RequestView {
            request: x,
            requester_address: Addr(x.requester).bech32(),
            output_values: output_values(x),
        })
        .map_err(invalid)
    };
    let value = match method {
        "RemoteRequest" => {
            let (Some(ch), Some(seq)) = (r.channel_id.as_deref(), r.sequence) else {
                return Err(invalid("want {\"channel_id\": CHANNEL, \"sequence\": N}"));
            };
            let x = REQUESTS
                .may_load(s, (ch, seq))
                .map_err(invalid)?
                .ok_or_else(|| {
                    QueryError::new(
                        codes::NOT_FOUND,
                        format!("no request {seq} on channel {ch}: not found"),
                    )
                })?;
            view(&x)?
        }
        "RemoteRequests" => {
            let who = r
                .requester
                .as_deref()
                .ok_or_else(|| invalid("want {\"requester\": ADDRESS}"))?;
            let a = Addr::parse(who).map_err(|e| invalid(format!("requester: {e}")))?;
            let mut list = Vec::new();
            for k in BY_REQUESTER
                .sub_prefix(&a.0)
                .keys(s, None, None, Order::Descending)
                .take(100)
            {
                let (ch, seq) = k.map_err(invalid)?;
                if let Some(x) = REQUESTS.may_load(s, (ch.as_str(), seq)).map_err(invalid)? {
                    list.push(view(&x)?);
                }
            }
            serde_json::Value::Array(list)
        }
        _ => {
            let ch = r
                .channel_id
                .as_deref()
                .ok_or_else(|| invalid("want {\"channel_id\": CHANNEL}"))?;
            let p = payer(ch);
            let balance = Bank::balance(s, &p, FEE_DENOM).map_err(invalid)?;
            serde_json::json!({
                "channel_id": ch,
                "address": p.bech32(),
                "balance": Coin::new(balance.u128(), FEE_DENOM),
            })
        }
    };
    serde_json::to_vec(&value).map(Some).map_err(invalid)
}
