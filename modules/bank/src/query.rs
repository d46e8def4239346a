//! `cosmos.bank.v1beta1.Query` over protobuf bytes.

use cosmrs::proto::cosmos::bank::v1beta1::{
    QueryAllBalancesRequest, QueryAllBalancesResponse, QueryBalanceRequest, QueryBalanceResponse,
    QuerySupplyOfRequest, QuerySupplyOfResponse, QueryTotalSupplyRequest, QueryTotalSupplyResponse,
};
use cosmrs::proto::cosmos::base::query::v1beta1::PageResponse;
use cosmwasm_std::Storage;
use prost::Message;
use verdict_core::address::Addr;
use verdict_core::coin::{validate_denom, Coin};

use crate::error::BankError;
use crate::state::Bank;

fn bad(what: &str, e: impl std::fmt::Display) -> BankError {
    BankError::InvalidRequest(format!("bad {what}: {e}"))
}

fn addr(s: &str) -> Result<Addr, BankError> {
    Addr::parse(s).map_err(|e| BankError::InvalidAddress(e.to_string()))
}

pub fn balance(s: &dyn Storage, req: &[u8]) -> Result<Vec<u8>, BankError> {
    let r = QueryBalanceRequest::decode(req).map_err(|e| bad("QueryBalanceRequest", e))?;
    let a = addr(&r.address)?;
    validate_denom(&r.denom).map_err(|e| BankError::InvalidCoins(e.to_string()))?;
    let amount = Bank::balance(s, &a, &r.denom)?;
    Ok(QueryBalanceResponse {
        balance: Some(
            Coin {
                denom: r.denom,
                amount,
            }
            .to_proto(),
        ),
    }
    .encode_to_vec())
}

pub fn all_balances(s: &dyn Storage, req: &[u8]) -> Result<Vec<u8>, BankError> {
    let r = QueryAllBalancesRequest::decode(req).map_err(|e| bad("QueryAllBalancesRequest", e))?;
    let a = addr(&r.address)?;
    let coins = Bank::all_balances(s, &a)?;
    let (balances, pagination) = page(&coins, r.pagination.as_ref())?;
    Ok(QueryAllBalancesResponse {
        pagination: Some(pagination),
        balances,
    }
    .encode_to_vec())
}

/// One page of coins (ascending by denom; the denom is the page key).
fn page(
    coins: &[Coin],
    req: Option<&cosmrs::proto::cosmos::base::query::v1beta1::PageRequest>,
) -> Result<
    (
        Vec<cosmrs::proto::cosmos::base::v1beta1::Coin>,
        PageResponse,
    ),
    BankError,
> {
    let items = coins
        .iter()
        .map(|c| (c.denom.as_bytes().to_vec(), c.to_proto()))
        .collect();
    verdict_core::page::paginate(items, req).map_err(BankError::InvalidRequest)
}

pub fn total_supply(s: &dyn Storage, req: &[u8]) -> Result<Vec<u8>, BankError> {
    let r = QueryTotalSupplyRequest::decode(req).map_err(|e| bad("QueryTotalSupplyRequest", e))?;
    let coins = Bank::total_supply(s)?;
    let (supply, pagination) = page(&coins, r.pagination.as_ref())?;
    Ok(QueryTotalSupplyResponse {
        pagination: Some(pagination),
        supply,
    }
    .encode_to_vec())
}

pub fn supply_of(s: &dyn Storage, req: &[u8]) -> Result<Vec<u8>, BankError> {
    let r = QuerySupplyOfRequest::decode(req).map_err(|e| bad("QuerySupplyOfRequest", e))?;
    let amount = Bank::supply(s, &r.denom)?;
    Ok(QuerySupplyOfResponse {
        amount: Some(
            Coin {
                denom: r.denom,
                amount,
            }
            .to_proto(),
        ),
    }
    .encode_to_vec())
}
