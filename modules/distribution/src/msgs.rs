//! Distribution messages under their standard type URLs, and their execution.

use cosmrs::proto::cosmos::distribution::v1beta1 as pb;
use cosmrs::Any;
use cosmwasm_std::Uint128;
use prost::Message;
use verdict_core::address::Addr;
use verdict_core::coin::Coin;
use verdict_core::ctx::Ctx;
use verdict_core::event::Event;

use crate::state;
use crate::DistributionError;

pub const MSG_WITHDRAW_DELEGATOR_REWARD_URL: &str =
    "/cosmos.distribution.v1beta1.MsgWithdrawDelegatorReward";
pub const MSG_WITHDRAW_VALIDATOR_COMMISSION_URL: &str =
    "/cosmos.distribution.v1beta1.MsgWithdrawValidatorCommission";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DistributionMsg {
    WithdrawDelegatorReward { delegator: Addr, validator: Addr },
    WithdrawValidatorCommission { operator: Addr },
}

fn acc(s: &str, what: &str) -> Result<Addr, DistributionError> {
    Addr::parse(s).map_err(|e| DistributionError::Invalid(format!("{what}: {e}")))
}

fn valoper(s: &str, what: &str) -> Result<Addr, DistributionError> {
    Addr::parse_valoper(s).map_err(|e| DistributionError::Invalid(format!("{what}: {e}")))
}

impl DistributionMsg {
    /// `Ok(None)` when the message is not a distribution message.
    pub fn decode(any: &Any) -> Result<Option<DistributionMsg>, DistributionError> {
        let bad = |e: prost::DecodeError| {
            DistributionError::Invalid(format!("bad {}: {e}", any.type_url))
        };
        Ok(Some(match any.type_url.as_str() {
            MSG_WITHDRAW_DELEGATOR_REWARD_URL => {
                let m =
                    pb::MsgWithdrawDelegatorReward::decode(any.value.as_slice()).map_err(bad)?;
                DistributionMsg::WithdrawDelegatorReward {
                    delegator: acc(&m.delegator_address, "delegator_address")?,
                    validator: valoper(&m.validator_address, "validator_address")?,
                }
            }
            MSG_WITHDRAW_VALIDATOR_COMMISSION_URL => {
                let m = pb::MsgWithdrawValidatorCommission::decode(any.value.as_slice())
                    .map_err(bad)?;
                DistributionMsg::WithdrawValidatorCommission {
                    operator: valoper(&m.validator_address, "validator_address")?,
                }
            }
            _ => return Ok(None),
        }))
    }

    pub fn signer(&self) -> Addr {
        match self {
            DistributionMsg::WithdrawDelegatorReward { delegator, .. } => *delegator,
            DistributionMsg::WithdrawValidatorCommission { operator } => *operator,
        }
    }

    pub fn type_url(&self) -> &'static str {
        match self {
            DistributionMsg::WithdrawDelegatorReward { .. } => MSG_WITHDRAW_DELEGATOR_REWARD_URL,
            DistributionMsg::WithdrawValidatorCommission { .. } => {
                MSG_WITHDRAW_VALIDATOR_COMMISSION_URL
            }
        }
    }
}

fn paid(ctx: &Ctx<'_>, amount: Uint128) -> Vec<Coin> {
    if amount.is_zero() {
        return vec![];
    }
    vec![Coin {
        denom: verdict_staking::state::bond_denom(ctx.store),
        amount,
    }]
}

fn coins_attr(c: &[Coin]) -> String {
    c.iter()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

pub fn execute(ctx: &mut Ctx<'_>, msg: &DistributionMsg) -> Result<Any, DistributionError> {
    match msg {
        DistributionMsg::WithdrawDelegatorReward {
            delegator,
            validator,
        } => {
            let amount = state::withdraw_delegator_reward(ctx.store, delegator, validator)?;
            let coins = paid(ctx, amount);
            ctx.emit(
                Event::new("withdraw_rewards")
                    .attr("amount", coins_attr(&coins))
                    .attr("validator", validator.valoper())
                    .attr("delegator", delegator),
            );
            Ok(Any {
                type_url: "/cosmos.distribution.v1beta1.MsgWithdrawDelegatorRewardResponse".into(),
                value: pb::MsgWithdrawDelegatorRewardResponse {
                    amount: coins.iter().map(Coin::to_proto).collect(),
                }
                .encode_to_vec(),
            })
        }
        DistributionMsg::WithdrawValidatorCommission { operator } => {
            let amount = state::withdraw_validator_commission(ctx.store, operator)?;
            let coins = paid(ctx, amount);
            ctx.emit(
                Event::new("withdraw_commission")
                    .attr("amount", coins_attr(&coins))
                    .attr("validator", operator.valoper()),
            );
            Ok(Any {
                type_url: "/cosmos.distribution.v1beta1.MsgWithdrawValidatorCommissionResponse"
                    .into(),
                value: pb::MsgWithdrawValidatorCommissionResponse {
                    amount: coins.iter().map(Coin::to_proto).collect(),
                }
                .encode_to_vec(),
            })
        }
    }
}
