//! Bank messages and their stateless checks.

use cosmrs::proto::cosmos::bank::v1beta1::{MsgMultiSend, MsgSend};
use cosmrs::Any;
use prost::Message;
use verdict_core::address::Addr;
use verdict_core::coin::{self, Coin};

use crate::error::BankError;

pub const MSG_SEND_URL: &str = "/cosmos.bank.v1beta1.MsgSend";
pub const MSG_MULTI_SEND_URL: &str = "/cosmos.bank.v1beta1.MsgMultiSend";
pub const MSG_SEND_RESPONSE_URL: &str = "/cosmos.bank.v1beta1.MsgSendResponse";
pub const MSG_MULTI_SEND_RESPONSE_URL: &str = "/cosmos.bank.v1beta1.MsgMultiSendResponse";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BankMsg {
    Send {
        from: Addr,
        to: Addr,
        amount: Vec<Coin>,
    },
    MultiSend {
        input: (Addr, Vec<Coin>),
        outputs: Vec<(Addr, Vec<Coin>)>,
    },
}

fn addr(s: &str, field: &str) -> Result<Addr, BankError> {
    Addr::parse(s).map_err(|e| BankError::InvalidAddress(format!("{field}: {e}")))
}

fn coins(cs: &[cosmrs::proto::cosmos::base::v1beta1::Coin]) -> Result<Vec<Coin>, BankError> {
    let v = coin::from_protos(cs).map_err(|e| BankError::InvalidCoins(e.to_string()))?;
    coin::validate_positive(&v).map_err(|e| BankError::InvalidCoins(e.to_string()))?;
    Ok(v)
}

impl BankMsg {
    /// `Ok(None)` when the message is not a bank message.
    pub fn decode(any: &Any) -> Result<Option<BankMsg>, BankError> {
        match any.type_url.as_str() {
            MSG_SEND_URL => {
                let m = MsgSend::decode(any.value.as_slice())
                    .map_err(|e| BankError::InvalidRequest(format!("bad MsgSend: {e}")))?;
                Ok(Some(BankMsg::Send {
                    from: addr(&m.from_address, "from_address")?,
                    to: addr(&m.to_address, "to_address")?,
                    amount: coins(&m.amount)?,
                }))
            }
            MSG_MULTI_SEND_URL => {
                let m = MsgMultiSend::decode(any.value.as_slice())
                    .map_err(|e| BankError::InvalidRequest(format!("bad MsgMultiSend: {e}")))?;
                // Since SDK 0.46 a multi-send has exactly one input.
                let [input] = m.inputs.as_slice() else {
                    return Err(BankError::InvalidRequest(
                        "multi-send needs exactly one input".into(),
                    ));
                };
                if m.outputs.is_empty() {
                    return Err(BankError::InvalidRequest(
                        "multi-send has no outputs".into(),
                    ));
                }
                let input = (addr(&input.address, "input")?, coins(&input.coins)?);
                let outputs = m
                    .outputs
                    .iter()
                    .map(|o| Ok((addr(&o.address, "output")?, coins(&o.coins)?)))
                    .collect::<Result<Vec<_>, BankError>>()?;
                let mut total: std::collections::BTreeMap<&str, cosmwasm_std::Uint128> =
                    Default::default();
                for (_, cs) in &outputs {
                    for c in cs {
                        let e = total.entry(c.denom.as_str()).or_default();
                        *e = e
                            .checked_add(c.amount)
                            .map_err(|_| BankError::Overflow(c.denom.clone()))?;
                    }
                }
                let inp: std::collections::BTreeMap<&str, cosmwasm_std::Uint128> = input
                    .1
                    .iter()
                    .map(|c| (c.denom.as_str(), c.amount))
                    .collect();
                if inp != total {
                    return Err(BankError::InvalidRequest(
                        "sum of inputs does not equal sum of outputs".into(),
                    ));
                }
                Ok(Some(BankMsg::MultiSend { input, outputs }))
            }
            _ => Ok(None),
        }
    }

    /// The accounts that must sign.
    pub fn signer(&self) -> Addr {
        match self {
            BankMsg::Send { from, .. } => *from,
            BankMsg::MultiSend { input, .. } => input.0,
        }
    }

    pub fn type_url(&self) -> &'static str {
        match self {
            BankMsg::Send { .. } => MSG_SEND_URL,
            BankMsg::MultiSend { .. } => MSG_MULTI_SEND_URL,
        }
    }
}
