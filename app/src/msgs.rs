//! Every message type the chain accepts, decoded once and dispatched to its
//! module. The order of modules here is the app's fixed composition.

use cosmrs::proto::cosmos::slashing::v1beta1::MsgUnjail;
use cosmrs::Any;
use prost::Message;
use verdict_bank::BankMsg;
use verdict_core::address::Addr;
use verdict_core::codes;
use verdict_distribution::DistributionMsg;
use verdict_ibc::IbcMsg;
use verdict_inference::InferenceMsg;
use verdict_staking::StakingMsg;

use crate::tx::TxFail;

pub const MSG_UNJAIL_URL: &str = "/cosmos.slashing.v1beta1.MsgUnjail";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Msg {
    Bank(BankMsg),
    Staking(StakingMsg),
    /// `MsgUnjail{validator_addr}` (a valoper address).
    Unjail(Addr),
    Inference(InferenceMsg),
    Distribution(DistributionMsg),
    /// An IBC core message (`/ibc.core.*`), run by ibc-rs.
    Ibc(IbcMsg),
}

impl Msg {
    pub fn decode(any: &Any) -> Result<Msg, TxFail> {
        if let Some(m) = BankMsg::decode(any)? {
            return Ok(Msg::Bank(m));
        }
        if let Some(m) = StakingMsg::decode(any)? {
            return Ok(Msg::Staking(m));
        }
        if let Some(m) = InferenceMsg::decode(any)
            .map_err(|e| TxFail::new(verdict_core::AbciError::code(&e), e.to_string()))?
        {
            return Ok(Msg::Inference(m));
        }
        if let Some(m) = DistributionMsg::decode(any)? {
            return Ok(Msg::Distribution(m));
        }
        if let Some(m) = IbcMsg::decode(any)
            .map_err(|e| TxFail::new(verdict_core::AbciError::code(&e), e.to_string()))?
        {
            return Ok(Msg::Ibc(m));
        }
        if any.type_url == MSG_UNJAIL_URL {
            let m = MsgUnjail::decode(any.value.as_slice())
                .map_err(|e| TxFail::new(codes::TX_DECODE, format!("bad MsgUnjail: {e}")))?;
            let op = Addr::parse_valoper(&m.validator_addr)
                .map_err(|e| TxFail::new(codes::INVALID_ADDRESS, format!("validator_addr: {e}")))?;
            return Ok(Msg::Unjail(op));
        }
        Err(TxFail::new(
            codes::UNKNOWN_REQUEST,
            format!(
                "unrecognized message type {:?}: unknown request",
                any.type_url
            ),
        ))
    }

    /// The account that must sign (a validator operator signs with the account
    /// key of the same 20 bytes).
    pub fn signer(&self) -> Addr {
        match self {
            Msg::Bank(m) => m.signer(),
            Msg::Staking(m) => m.signer(),
            Msg::Unjail(op) => *op,
            Msg::Inference(m) => m.signer(),
            Msg::Distribution(m) => m.signer(),
            Msg::Ibc(m) => m.signer,
        }
    }

    /// Accounts this message pays into (checked against module accounts).
    pub fn recipients(&self) -> Vec<Addr> {
        match self {
            Msg::Bank(BankMsg::Send { to, .. }) => vec![*to],
            Msg::Bank(BankMsg::MultiSend { outputs, .. }) => {
                outputs.iter().map(|(a, _)| *a).collect()
            }
            _ => vec![],
        }
    }

    pub fn type_url(&self) -> &str {
        match self {
            Msg::Bank(m) => m.type_url(),
            Msg::Staking(m) => m.type_url(),
            Msg::Unjail(_) => MSG_UNJAIL_URL,
            Msg::Inference(m) => m.type_url(),
            Msg::Distribution(m) => m.type_url(),
            Msg::Ibc(m) => &m.type_url,
        }
    }

    pub fn module(&self) -> &'static str {
        match self {
            Msg::Bank(_) => "bank",
            Msg::Staking(_) => "staking",
            Msg::Unjail(_) => "slashing",
            Msg::Inference(_) => "inference",
            Msg::Distribution(_) => "distribution",
            Msg::Ibc(_) => "ibc",
        }
    }
}
