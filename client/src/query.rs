//! Reading chain state over CometBFT's `abci_query`: gRPC-path queries with
//! protobuf requests and replies, and the account facts tx submission needs.

use anyhow::anyhow;
use base64::Engine;
use cosmrs::proto::cosmos::auth::v1beta1::{
    BaseAccount, QueryAccountRequest, QueryAccountResponse,
};
use cosmrs::proto::cosmos::bank::v1beta1::{QueryBalanceRequest, QueryBalanceResponse};
use prost::Message;
use verdict_core::address::Addr;

use crate::rpc::Rpc;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// A failed query, with the chain's code and log.
#[derive(Debug, thiserror::Error)]
#[error("query failed (code {code}): {log}")]
pub struct QueryError {
    pub code: u64,
    pub log: String,
}

/// `abci_query` with a gRPC method path and a protobuf request: the outer error
/// is the transport's, the inner one the chain's answer.
pub fn query<Resp: Message + Default>(
    rpc: &Rpc,
    path: &str,
    req: &impl Message,
) -> anyhow::Result<Result<Resp, QueryError>> {
    let r = rpc.get(&format!(
        "abci_query?path=%22{path}%22&data=0x{}",
        hex::encode(req.encode_to_vec())
    ))?;
    let resp = &r["response"];
    let code = resp["code"].as_u64().unwrap_or(0);
    if code != 0 {
        return Ok(Err(QueryError {
            code,
            log: resp["log"].as_str().unwrap_or("").to_string(),
        }));
    }
    let bytes = B64.decode(resp["value"].as_str().unwrap_or(""))?;
    Ok(Ok(Resp::decode(bytes.as_slice())?))
}

/// The chain id, from the node's `/status`.
pub fn chain_id(rpc: &Rpc) -> anyhow::Result<String> {
    rpc.get("status")?["node_info"]["network"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| anyhow!("{} /status has no network (chain id)", rpc.url()))
}

/// The account at `addr`, or `None` while it does not exist.
pub fn account(rpc: &Rpc, addr: &Addr) -> anyhow::Result<Option<BaseAccount>> {
    match query::<QueryAccountResponse>(
        rpc,
        "/cosmos.auth.v1beta1.Query/Account",
        &QueryAccountRequest {
            address: addr.bech32(),
        },
    )? {
        Ok(r) => {
            let any = r
                .account
                .ok_or_else(|| anyhow!("node returned no account"))?;
            Ok(Some(BaseAccount::decode(any.value.as_slice())?))
        }
        Err(e) if e.log.contains("code = NotFound") => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The balance of `addr` in `denom` (0 when it has none).
pub fn balance(rpc: &Rpc, addr: &Addr, denom: &str) -> anyhow::Result<u128> {
    let r = query::<QueryBalanceResponse>(
        rpc,
        "/cosmos.bank.v1beta1.Query/Balance",
        &QueryBalanceRequest {
            address: addr.bech32(),
            denom: denom.into(),
        },
    )??;
    Ok(r.balance
        .map(|c| c.amount.parse().unwrap_or(0))
        .unwrap_or(0))
}
