//! Stateful check and execution of staking messages, in one step each.

use cosmrs::proto::cosmos::staking::v1beta1::{MsgBeginRedelegateResponse, MsgUndelegateResponse};
use cosmrs::Any;
use cosmwasm_std::{Decimal, Uint128};
use prost::Message;
use verdict_core::address::Addr;
use verdict_core::coin::Coin;
use verdict_core::ctx::Ctx;
use verdict_core::event::Event;

use crate::error::StakingError;
use crate::msgs::StakingMsg;
use crate::state;

fn check_denom(ctx: &Ctx<'_>, denom: &str) -> Result<(), StakingError> {
    let want = state::params(ctx.store).bond_denom;
    if denom != want {
        return Err(StakingError::Invalid(format!(
            "invalid coin denomination: got {denom}, expected {want}"
        )));
    }
    Ok(())
}

pub fn execute(ctx: &mut Ctx<'_>, msg: &StakingMsg) -> Result<Any, StakingError> {
    match msg {
        StakingMsg::CreateValidator {
            operator,
            pubkey,
            amount,
            commission,
            min_self_delegation,
            moniker,
        } => create_validator(
            ctx,
            operator,
            pubkey,
            amount,
            *commission,
            *min_self_delegation,
            moniker,
        ),
        StakingMsg::Delegate {
            delegator,
            validator,
            amount,
        } => delegate(ctx, delegator, validator, amount),
        StakingMsg::EditValidator {
            operator,
            moniker,
            commission_rate,
            min_self_delegation,
        } => edit_validator(
            ctx,
            operator,
            moniker.as_deref(),
            *commission_rate,
            *min_self_delegation,
        ),
        StakingMsg::Redelegate {
            delegator,
            src,
            dst,
            amount,
        } => redelegate(ctx, delegator, src, dst, amount),
        StakingMsg::Undelegate {
            delegator,
            validator,
            amount,
        } => undelegate(ctx, delegator, validator, amount),
    }
}

/// A response with no fields.
fn empty_response(type_url: &str) -> Any {
    Any {
        type_url: type_url.into(),
        value: vec![],
    }
}

fn create_validator(
    ctx: &mut Ctx<'_>,
    operator: &Addr,
    pubkey: &[u8; 32],
    amount: &Coin,
    commission: state::Commission,
    min_self_delegation: Uint128,
    moniker: &str,
) -> Result<Any, StakingError> {
    check_denom(ctx, &amount.denom)?;
    state::create_validator_with(
        ctx.store,
        operator,
        pubkey,
        amount.amount,
        commission,
        min_self_delegation,
        moniker,
    )?;
    ctx.emit(
        Event::new("create_validator")
            .attr("validator", operator.valoper())
            .attr("amount", amount),
    );
    Ok(empty_response(
        "/cosmos.staking.v1beta1.MsgCreateValidatorResponse",
    ))
}

fn delegate(
    ctx: &mut Ctx<'_>,
    delegator: &Addr,
    validator: &Addr,
    amount: &Coin,
) -> Result<Any, StakingError> {
    check_denom(ctx, &amount.denom)?;
    state::delegate(ctx.store, delegator, validator, amount.amount)?;
    ctx.emit(
        Event::new("delegate")
            .attr("validator", validator.valoper())
            .attr("delegator", delegator)
            .attr("amount", amount),
    );
    Ok(empty_response(
        "/cosmos.staking.v1beta1.MsgDelegateResponse",
    ))
}

fn edit_validator(
    ctx: &mut Ctx<'_>,
    operator: &Addr,
    moniker: Option<&str>,
    commission_rate: Option<Decimal>,
    min_self_delegation: Option<Uint128>,
) -> Result<Any, StakingError> {
    state::edit_validator(
        ctx.store,
        operator,
        moniker,
        commission_rate,
        min_self_delegation,
        ctx.block.time_seconds,
    )?;
    ctx.emit(
        Event::new("edit_validator")
            .attr("validator", operator.valoper())
            .attr(
                "commission_rate",
                commission_rate.map(|r| r.to_string()).unwrap_or_default(),
            )
            .attr(
                "min_self_delegation",
                min_self_delegation
                    .map(|m| m.to_string())
                    .unwrap_or_default(),
            ),
    );
    Ok(empty_response(
        "/cosmos.staking.v1beta1.MsgEditValidatorResponse",
    ))
}

fn redelegate(
    ctx: &mut Ctx<'_>,
    delegator: &Addr,
    src: &Addr,
    dst: &Addr,
    amount: &Coin,
) -> Result<Any, StakingError> {
    check_denom(ctx, &amount.denom)?;
    let done = state::begin_redelegation(
        ctx.store,
        delegator,
        src,
        dst,
        amount.amount,
        ctx.block.height,
        ctx.block.time_seconds,
    )?;
    ctx.emit(
        Event::new("redelegate")
            .attr("source_validator", src.valoper())
            .attr("destination_validator", dst.valoper())
            .attr("delegator", delegator)
            .attr("amount", amount)
            .attr("completion_time", done),
    );
    Ok(Any {
        type_url: "/cosmos.staking.v1beta1.MsgBeginRedelegateResponse".into(),
        value: MsgBeginRedelegateResponse {
            completion_time: Some(tendermint_proto_ts(done)),
        }
        .encode_to_vec(),
    })
}

fn undelegate(
    ctx: &mut Ctx<'_>,
    delegator: &Addr,
    validator: &Addr,
    amount: &Coin,
) -> Result<Any, StakingError> {
    check_denom(ctx, &amount.denom)?;
    let done = state::undelegate(
        ctx.store,
        delegator,
        validator,
        amount.amount,
        ctx.block.height,
        ctx.block.time_seconds,
    )?;
    ctx.emit(
        Event::new("unbond")
            .attr("validator", validator.valoper())
            .attr("delegator", delegator)
            .attr("amount", amount)
            .attr("completion_time", done),
    );
    Ok(Any {
        type_url: "/cosmos.staking.v1beta1.MsgUndelegateResponse".into(),
        value: MsgUndelegateResponse {
            completion_time: Some(tendermint_proto_ts(done)),
            amount: Some(amount.to_proto()),
        }
        .encode_to_vec(),
    })
}

fn tendermint_proto_ts(seconds: i64) -> tendermint_proto::google::protobuf::Timestamp {
    tendermint_proto::google::protobuf::Timestamp { seconds, nanos: 0 }
}
