//! Staking messages under their standard type URLs, with stateless checks.

use cosmrs::proto::cosmos::staking::v1beta1::{
    MsgBeginRedelegate, MsgCreateValidator, MsgDelegate, MsgEditValidator, MsgUndelegate,
};
use cosmrs::Any;
use cosmwasm_std::{Decimal, Uint128};
use prost::Message;
use verdict_core::address::Addr;
use verdict_core::coin::Coin;

use crate::error::StakingError;

pub const MSG_CREATE_VALIDATOR_URL: &str = "/cosmos.staking.v1beta1.MsgCreateValidator";
pub const MSG_DELEGATE_URL: &str = "/cosmos.staking.v1beta1.MsgDelegate";
pub const MSG_UNDELEGATE_URL: &str = "/cosmos.staking.v1beta1.MsgUndelegate";
pub const ED25519_PUBKEY_URL: &str = "/cosmos.crypto.ed25519.PubKey";
pub const MSG_EDIT_VALIDATOR_URL: &str = "/cosmos.staking.v1beta1.MsgEditValidator";
pub const MSG_BEGIN_REDELEGATE_URL: &str = "/cosmos.staking.v1beta1.MsgBeginRedelegate";
const NOT_YET: [&str; 1] = ["/cosmos.staking.v1beta1.MsgCancelUnbondingDelegation"];

use crate::state::{MAX_DETAILS, MAX_IDENTITY, MAX_MONIKER, MAX_SECURITY_CONTACT, MAX_WEBSITE};

/// Every description field within the SDK's limits (characters).
fn check_description(
    d: &cosmrs::proto::cosmos::staking::v1beta1::Description,
) -> Result<(), StakingError> {
    for (name, value, max) in [
        ("moniker", &d.moniker, MAX_MONIKER),
        ("identity", &d.identity, MAX_IDENTITY),
        ("website", &d.website, MAX_WEBSITE),
        (
            "security contact",
            &d.security_contact,
            MAX_SECURITY_CONTACT,
        ),
        ("details", &d.details, MAX_DETAILS),
    ] {
        let n = value.chars().count();
        if n > max {
            return Err(StakingError::Invalid(format!(
                "invalid {name} length; got: {n}, max: {max}"
            )));
        }
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StakingMsg {
    CreateValidator {
        operator: Addr,
        pubkey: [u8; 32],
        amount: Coin,
        commission: crate::state::Commission,
        min_self_delegation: Uint128,
        moniker: String,
    },
    Delegate {
        delegator: Addr,
        validator: Addr,
        amount: Coin,
    },
    Undelegate {
        delegator: Addr,
        validator: Addr,
        amount: Coin,
    },
    EditValidator {
        operator: Addr,
        moniker: Option<String>,
        commission_rate: Option<Decimal>,
        min_self_delegation: Option<Uint128>,
    },
    Redelegate {
        delegator: Addr,
        src: Addr,
        dst: Addr,
        amount: Coin,
    },
}

/// A `LegacyDec` as the SDK puts it on the wire: the integer of value × 10^18
/// (what cosmjs sends); a decimal with a point is accepted too.
pub fn parse_legacy_dec(s: &str) -> Result<Decimal, StakingError> {
    let bad = || StakingError::Invalid(format!("invalid decimal {s:?}"));
    if s.contains('.') {
        return verdict_core::coin::parse_udec(s).ok_or_else(bad);
    }
    let atomics: u128 = verdict_core::coin::parse_uint(s).ok_or_else(bad)?;
    Decimal::from_atomics(Uint128::new(atomics), 18).map_err(|_| bad())
}

fn coin(c: Option<&cosmrs::proto::cosmos::base::v1beta1::Coin>) -> Result<Coin, StakingError> {
    let c = c.ok_or_else(|| StakingError::Invalid("amount is missing".into()))?;
    let coin = Coin::from_proto(c).map_err(|e| StakingError::Invalid(e.to_string()))?;
    if coin.amount.is_zero() {
        return Err(StakingError::Invalid("amount must be positive".into()));
    }
    Ok(coin)
}

fn acc(s: &str, what: &str) -> Result<Addr, StakingError> {
    Addr::parse(s).map_err(|e| StakingError::Invalid(format!("{what}: {e}")))
}

fn valoper(s: &str, what: &str) -> Result<Addr, StakingError> {
    Addr::parse_valoper(s).map_err(|e| StakingError::Invalid(format!("{what}: {e}")))
}

/// The error for an `Any` whose value does not decode as its type URL says.
fn bad(any: &Any) -> impl Fn(prost::DecodeError) -> StakingError + '_ {
    move |e| StakingError::Invalid(format!("bad {}: {e}", any.type_url))
}

/// `MsgCreateValidator`: an ed25519 consensus key and a commission rate of at
/// most 1.
fn decode_create_validator(any: &Any) -> Result<StakingMsg, StakingError> {
    let m = MsgCreateValidator::decode(any.value.as_slice()).map_err(bad(any))?;
    let pk_any = m
        .pubkey
        .ok_or_else(|| StakingError::Invalid("consensus pubkey is missing".into()))?;
    if pk_any.type_url != ED25519_PUBKEY_URL {
        return Err(StakingError::Invalid(format!(
            "consensus pubkey must be {ED25519_PUBKEY_URL}, got {}",
            pk_any.type_url
        )));
    }
    let pk = cosmrs::proto::cosmos::crypto::ed25519::PubKey::decode(pk_any.value.as_slice())
        .map_err(bad(any))?;
    let pubkey: [u8; 32] = pk
        .key
        .try_into()
        .map_err(|_| StakingError::Invalid("ed25519 key must be 32 bytes".into()))?;
    let rates = m.commission.unwrap_or_default();
    let dec = |v: &str, default: &str| parse_legacy_dec(if v.is_empty() { default } else { v });
    let commission = crate::state::Commission {
        rate: dec(&rates.rate, "0")?,
        // An empty max rate or max change rate: the widest bounds (1, 1 % a day).
        max_rate: dec(&rates.max_rate, "1")?,
        max_change_rate: dec(&rates.max_change_rate, "0.01")?,
    };
    if commission.rate > Decimal::one() || commission.max_rate > Decimal::one() {
        return Err(StakingError::Invalid("commission rate above 1".into()));
    }
    let min_self_delegation = match m.min_self_delegation.as_str() {
        "" => Uint128::one(),
        v => Uint128::new(verdict_core::coin::parse_uint(v).ok_or_else(|| {
            StakingError::Invalid(format!("min_self_delegation {v:?} is not an integer"))
        })?),
    };
    let description = m.description.unwrap_or_default();
    check_description(&description)?;
    if description.moniker.is_empty() {
        return Err(StakingError::Invalid("moniker cannot be blank".into()));
    }
    Ok(StakingMsg::CreateValidator {
        operator: valoper(&m.validator_address, "validator_address")?,
        pubkey,
        amount: coin(m.value.as_ref())?,
        commission,
        min_self_delegation,
        moniker: description.moniker,
    })
}

/// `MsgEditValidator`: empty fields (and the SDK's `[do-not-modify]` moniker)
/// leave a value unchanged.
fn decode_edit_validator(any: &Any) -> Result<StakingMsg, StakingError> {
    let m = MsgEditValidator::decode(any.value.as_slice()).map_err(bad(any))?;
    if let Some(d) = &m.description {
        check_description(d)?;
    }
    // The SDK's "[do-not-modify]" moniker and empty strings mean "unchanged".
    let moniker = m
        .description
        .map(|d| d.moniker)
        .filter(|mo| !mo.is_empty() && mo != "[do-not-modify]");
    let commission_rate = match m.commission_rate.as_str() {
        "" => None,
        r => Some(parse_legacy_dec(r)?),
    };
    let min_self_delegation = match m.min_self_delegation.as_str() {
        "" => None,
        v => Some(Uint128::new(verdict_core::coin::parse_uint(v).ok_or_else(
            || StakingError::Invalid(format!("min_self_delegation {v:?} is not an integer")),
        )?)),
    };
    Ok(StakingMsg::EditValidator {
        operator: valoper(&m.validator_address, "validator_address")?,
        moniker,
        commission_rate,
        min_self_delegation,
    })
}

impl StakingMsg {
    /// `Ok(None)` when the message is not a staking message.
    pub fn decode(any: &Any) -> Result<Option<StakingMsg>, StakingError> {
        Ok(Some(match any.type_url.as_str() {
            MSG_CREATE_VALIDATOR_URL => decode_create_validator(any)?,
            MSG_DELEGATE_URL => {
                let m = MsgDelegate::decode(any.value.as_slice()).map_err(bad(any))?;
                StakingMsg::Delegate {
                    delegator: acc(&m.delegator_address, "delegator_address")?,
                    validator: valoper(&m.validator_address, "validator_address")?,
                    amount: coin(m.amount.as_ref())?,
                }
            }
            MSG_UNDELEGATE_URL => {
                let m = MsgUndelegate::decode(any.value.as_slice()).map_err(bad(any))?;
                StakingMsg::Undelegate {
                    delegator: acc(&m.delegator_address, "delegator_address")?,
                    validator: valoper(&m.validator_address, "validator_address")?,
                    amount: coin(m.amount.as_ref())?,
                }
            }
            MSG_BEGIN_REDELEGATE_URL => {
                let m = MsgBeginRedelegate::decode(any.value.as_slice()).map_err(bad(any))?;
                let src = valoper(&m.validator_src_address, "validator_src_address")?;
                let dst = valoper(&m.validator_dst_address, "validator_dst_address")?;
                if src == dst {
                    return Err(StakingError::SelfRedelegation);
                }
                StakingMsg::Redelegate {
                    delegator: acc(&m.delegator_address, "delegator_address")?,
                    src,
                    dst,
                    amount: coin(m.amount.as_ref())?,
                }
            }
            MSG_EDIT_VALIDATOR_URL => decode_edit_validator(any)?,
            url if NOT_YET.contains(&url) => {
                return Err(StakingError::Invalid(format!("{url} is not supported yet")))
            }
            _ => return Ok(None),
        }))
    }

    pub fn signer(&self) -> Addr {
        match self {
            StakingMsg::CreateValidator { operator, .. }
            | StakingMsg::EditValidator { operator, .. } => *operator,
            StakingMsg::Delegate { delegator, .. }
            | StakingMsg::Undelegate { delegator, .. }
            | StakingMsg::Redelegate { delegator, .. } => *delegator,
        }
    }

    pub fn type_url(&self) -> &'static str {
        match self {
            StakingMsg::CreateValidator { .. } => MSG_CREATE_VALIDATOR_URL,
            StakingMsg::Delegate { .. } => MSG_DELEGATE_URL,
            StakingMsg::Undelegate { .. } => MSG_UNDELEGATE_URL,
            StakingMsg::EditValidator { .. } => MSG_EDIT_VALIDATOR_URL,
            StakingMsg::Redelegate { .. } => MSG_BEGIN_REDELEGATE_URL,
        }
    }
}
