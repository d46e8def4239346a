//! Distribution: `verdict tx distribution …` and `verdict query distribution …`.

use clap::Subcommand;
use cosmrs::proto::cosmos::distribution::v1beta1 as pb;
use cosmrs::Any;
use prost::Message;
use serde_json::json;
use verdict_client::query::query as abci;
use verdict_core::address::Addr;

use super::staking::valoper;
use super::{resolve_addr, Ctx};
use crate::output::print;
use crate::tx::{submit, TxFlags};

#[derive(Subcommand)]
pub enum DistributionTx {
    /// Withdraw key FROM's rewards from its delegation to VALOPER (with
    /// --commission, also the commission of FROM's own validator).
    WithdrawRewards {
        validator: String,
        #[arg(long)]
        from: String,
        #[arg(long)]
        commission: bool,
        #[command(flatten)]
        flags: TxFlags,
    },
    /// Withdraw the commission of key FROM's validator.
    WithdrawCommission {
        #[arg(long)]
        from: String,
        #[command(flatten)]
        flags: TxFlags,
    },
}

#[derive(Subcommand)]
pub enum DistributionQuery {
    /// Rewards DELEGATOR (address or key name) can withdraw from VALOPER.
    Rewards {
        delegator: String,
        validator: String,
    },
    /// Commission VALOPER can withdraw.
    Commission {
        validator: String,
    },
    CommunityPool,
}

pub fn tx(ctx: &Ctx, cmd: DistributionTx) -> anyhow::Result<()> {
    let kr = ctx.keyring()?;
    match cmd {
        DistributionTx::WithdrawRewards {
            validator,
            from,
            commission,
            flags,
        } => {
            let v = valoper(&validator)?;
            let msgs = |me: &Addr| {
                let mut msgs = vec![withdraw_rewards(me, &v)];
                if commission {
                    msgs.push(withdraw_commission(me));
                }
                Ok(msgs)
            };
            submit(ctx, &kr, &from, msgs, &[], &flags)
        }
        DistributionTx::WithdrawCommission { from, flags } => submit(
            ctx,
            &kr,
            &from,
            |me| Ok(vec![withdraw_commission(me)]),
            &[],
            &flags,
        ),
    }
}

pub fn query(ctx: &Ctx, what: DistributionQuery) -> anyhow::Result<()> {
    let (v, text) = match what {
        DistributionQuery::Rewards {
            delegator,
            validator,
        } => {
            let d = resolve_addr(&ctx.keyring()?, &delegator)?;
            let r = abci::<pb::QueryDelegationRewardsResponse>(
                &ctx.rpc,
                "/cosmos.distribution.v1beta1.Query/DelegationRewards",
                &pb::QueryDelegationRewardsRequest {
                    delegator_address: d.bech32(),
                    validator_address: validator,
                },
            )??;
            let t = dec_coins(&r.rewards);
            (json!({"rewards": t}), t)
        }
        DistributionQuery::Commission { validator } => {
            let r = abci::<pb::QueryValidatorCommissionResponse>(
                &ctx.rpc,
                "/cosmos.distribution.v1beta1.Query/ValidatorCommission",
                &pb::QueryValidatorCommissionRequest {
                    validator_address: validator,
                },
            )??;
            let t = dec_coins(&r.commission.map(|c| c.commission).unwrap_or_default());
            (json!({"commission": t}), t)
        }
        DistributionQuery::CommunityPool => {
            let r = abci::<pb::QueryCommunityPoolResponse>(
                &ctx.rpc,
                "/cosmos.distribution.v1beta1.Query/CommunityPool",
                &pb::QueryCommunityPoolRequest {},
            )??;
            let t = dec_coins(&r.pool);
            (json!({"pool": t}), t)
        }
    };
    print(ctx.out, &v, text);
    Ok(())
}

pub fn withdraw_rewards(me: &Addr, validator: &Addr) -> Any {
    Any {
        type_url: "/cosmos.distribution.v1beta1.MsgWithdrawDelegatorReward".into(),
        value: pb::MsgWithdrawDelegatorReward {
            delegator_address: me.bech32(),
            validator_address: validator.valoper(),
        }
        .encode_to_vec(),
    }
}

pub fn withdraw_commission(me: &Addr) -> Any {
    Any {
        type_url: "/cosmos.distribution.v1beta1.MsgWithdrawValidatorCommission".into(),
        value: pb::MsgWithdrawValidatorCommission {
            validator_address: me.valoper(),
        }
        .encode_to_vec(),
    }
}

/// A `LegacyDec` amount (atomics, 18 decimals) as a decimal string, without
/// trailing zeros.
pub fn legacy_dec_display(atomics: &str) -> String {
    let full = verdict_proto::json::legacy_dec(atomics);
    match full.split_once('.') {
        Some((int, frac)) if frac.bytes().all(|b| b == b'0') => int.to_string(),
        Some((int, frac)) => format!("{int}.{}", frac.trim_end_matches('0')),
        None => full,
    }
}

/// `DecCoin`s as "12.5uverd,…".
pub fn dec_coins(cs: &[cosmrs::proto::cosmos::base::v1beta1::DecCoin]) -> String {
    if cs.is_empty() {
        return "0".into();
    }
    cs.iter()
        .map(|c| format!("{}{}", legacy_dec_display(&c.amount), c.denom))
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::legacy_dec_display;

    #[test]
    fn legacy_decs_print_as_decimals() {
        assert_eq!(legacy_dec_display("0"), "0");
        assert_eq!(legacy_dec_display("1500000000000000000"), "1.5");
        assert_eq!(legacy_dec_display("27000000000000000000000"), "27000");
        assert_eq!(legacy_dec_display("5"), "0.000000000000000005");
    }
}
