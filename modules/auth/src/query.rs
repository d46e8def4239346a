//! `cosmos.auth.v1beta1.Query` over protobuf bytes.

use cosmrs::proto::cosmos::auth::v1beta1::{
    BaseAccount, Params, QueryAccountRequest, QueryAccountResponse, QueryParamsResponse,
};
use cosmrs::proto::cosmos::crypto::secp256k1::PubKey;
use cosmrs::Any;
use cosmwasm_std::Storage;
use prost::Message;
use verdict_core::address::Addr;

use crate::error::AuthError;
use crate::state::{Account, Accounts};

pub const BASE_ACCOUNT_URL: &str = "/cosmos.auth.v1beta1.BaseAccount";
pub const SECP256K1_PUBKEY_URL: &str = "/cosmos.crypto.secp256k1.PubKey";

pub fn base_account_any(addr: &Addr, acc: &Account) -> Any {
    let pub_key = acc
        .pub_key
        .as_ref()
        .and_then(|h| hex::decode(h).ok())
        .map(|key| Any {
            type_url: SECP256K1_PUBKEY_URL.into(),
            value: PubKey { key }.encode_to_vec(),
        });
    Any {
        type_url: BASE_ACCOUNT_URL.into(),
        value: BaseAccount {
            address: addr.bech32(),
            pub_key,
            account_number: acc.number,
            sequence: acc.sequence,
        }
        .encode_to_vec(),
    }
}

pub fn account(s: &dyn Storage, req: &[u8]) -> Result<Vec<u8>, AuthError> {
    let req = QueryAccountRequest::decode(req)
        .map_err(|e| AuthError::InvalidRequest(format!("bad QueryAccountRequest: {e}")))?;
    let addr = Addr::parse(&req.address).map_err(|e| AuthError::InvalidAddress(e.to_string()))?;
    let acc = Accounts::get(s, &addr)?.ok_or_else(|| AuthError::NotFound(req.address.clone()))?;
    Ok(QueryAccountResponse {
        account: Some(base_account_any(&addr, &acc)),
    }
    .encode_to_vec())
}

pub fn params(s: &dyn Storage, _req: &[u8]) -> Result<Vec<u8>, AuthError> {
    let p = Accounts::params(s);
    Ok(QueryParamsResponse {
        params: Some(Params {
            max_memo_characters: p.max_memo_characters,
            tx_sig_limit: p.tx_sig_limit,
            tx_size_cost_per_byte: p.tx_size_cost_per_byte,
            sig_verify_cost_ed25519: 590,
            sig_verify_cost_secp256k1: p.sig_verify_cost_secp256k1,
        }),
    }
    .encode_to_vec())
}
