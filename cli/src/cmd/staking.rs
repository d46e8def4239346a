//! Staking and slashing: `verdict tx staking|slashing …`, `verdict query
//! staking|slashing …`, and `verdict genesis gentx`.

mod msgs;

use anyhow::{anyhow, Context};
use base64::Engine;
use clap::Subcommand;
use cosmrs::proto::cosmos::slashing::v1beta1 as slpb;
use cosmrs::proto::cosmos::staking::v1beta1 as stpb;
use serde_json::{json, Value};
use verdict_client::query::query as abci;
use verdict_client::txbuild::{sign_tx, TxSpec};

use super::{resolve_addr, Ctx};
use crate::output::{lines, print};
use crate::tx::{one_coin, submit, TxFlags};

pub use msgs::valoper;

#[derive(Subcommand)]
pub enum StakingTx {
    /// Bond AMOUNT from key FROM to validator VALOPER (verdictvaloper1…).
    Delegate {
        from: String,
        validator: String,
        amount: String,
        #[command(flatten)]
        flags: TxFlags,
    },
    /// Start unbonding AMOUNT; it returns after the unbonding time.
    Unbond {
        from: String,
        validator: String,
        amount: String,
        #[command(flatten)]
        flags: TxFlags,
    },
    /// Move AMOUNT of key FROM's delegation from SRC_VALOPER to DST_VALOPER at
    /// once (the stake answers for SRC's infractions until the unbonding time).
    Redelegate {
        src_validator: String,
        dst_validator: String,
        amount: String,
        #[arg(long)]
        from: String,
        #[command(flatten)]
        flags: TxFlags,
    },
    /// Change key FROM's validator: moniker, commission (±max change rate, once
    /// per 24 h), minimum self-delegation (only up).
    EditValidator {
        from: String,
        #[arg(long)]
        moniker: Option<String>,
        #[arg(long)]
        commission_rate: Option<String>,
        #[arg(long)]
        min_self_delegation: Option<String>,
        #[command(flatten)]
        flags: TxFlags,
    },
    /// Make key FROM's account a validator with an ed25519 consensus key.
    CreateValidator {
        from: String,
        /// Consensus public key, base64 (as in priv_validator_key.json).
        #[arg(long)]
        pubkey: String,
        #[arg(long)]
        amount: String,
        #[arg(long, default_value = "")]
        moniker: String,
        #[arg(long, default_value = "0.05")]
        commission_rate: String,
        #[command(flatten)]
        flags: TxFlags,
    },
}

#[derive(Subcommand)]
pub enum SlashingTx {
    /// Bring key FROM's jailed validator back after its jail time.
    Unjail {
        from: String,
        #[command(flatten)]
        flags: TxFlags,
    },
}

#[derive(Subcommand)]
pub enum GenesisCmd {
    /// Sign a MsgCreateValidator for genesis (offline): prints the tx as hex.
    Gentx {
        #[arg(long)]
        from: String,
        /// Consensus public key, base64 (priv_validator_key.json `pub_key.value`).
        #[arg(long)]
        pubkey: String,
        #[arg(long)]
        amount: String,
        /// The operator account's number in genesis.
        #[arg(long)]
        account_number: u64,
        #[arg(long)]
        chain_id: String,
        #[arg(long, default_value = "")]
        moniker: String,
    },
}

#[derive(Subcommand)]
pub enum StakingQuery {
    Validators,
    Validator {
        validator: String,
    },
    Delegation {
        delegator: String,
        validator: String,
    },
    /// Redelegations of DELEGATOR (an address or key name) still maturing.
    Redelegations {
        delegator: String,
    },
    /// Unbonding entries of DELEGATOR (an address or key name) at VALOPER.
    Unbonding {
        delegator: String,
        validator: String,
    },
    Params,
}

#[derive(Subcommand)]
pub enum SlashingQuery {
    /// Signing info by consensus address (verdictvalcons1…).
    SigningInfo {
        cons_address: String,
    },
    SigningInfos,
}

fn consensus_pubkey(pubkey: &str) -> anyhow::Result<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(pubkey)
        .context("--pubkey is not base64")
}

pub fn tx(ctx: &Ctx, cmd: StakingTx) -> anyhow::Result<()> {
    let kr = ctx.keyring()?;
    match cmd {
        StakingTx::Delegate {
            from,
            validator,
            amount,
            flags,
        } => {
            let v = valoper(&validator)?;
            let c = one_coin(&amount)?;
            let msg = |me: &_| Ok(vec![msgs::delegate(me, &v, &c)]);
            submit(ctx, &kr, &from, msg, std::slice::from_ref(&c), &flags)
        }
        StakingTx::Unbond {
            from,
            validator,
            amount,
            flags,
        } => {
            let v = valoper(&validator)?;
            let c = one_coin(&amount)?;
            let msg = |me: &_| Ok(vec![msgs::undelegate(me, &v, &c)]);
            submit(ctx, &kr, &from, msg, &[], &flags)
        }
        StakingTx::Redelegate {
            src_validator,
            dst_validator,
            amount,
            from,
            flags,
        } => {
            let (src, dst) = (valoper(&src_validator)?, valoper(&dst_validator)?);
            let c = one_coin(&amount)?;
            let msg = |me: &_| Ok(vec![msgs::redelegate(me, &src, &dst, &c)]);
            submit(ctx, &kr, &from, msg, &[], &flags)
        }
        StakingTx::EditValidator {
            from,
            moniker,
            commission_rate,
            min_self_delegation,
            flags,
        } => {
            let rate = commission_rate
                .as_deref()
                .map(msgs::legacy_dec)
                .transpose()?;
            let msg = |me: &_| {
                let (m, msd) = (moniker.as_deref(), min_self_delegation.as_deref());
                Ok(vec![msgs::edit_validator(me, m, rate, msd)])
            };
            submit(ctx, &kr, &from, msg, &[], &flags)
        }
        StakingTx::CreateValidator {
            from,
            pubkey,
            amount,
            moniker,
            commission_rate,
            flags,
        } => {
            let pk = consensus_pubkey(&pubkey)?;
            let c = one_coin(&amount)?;
            let msg = |me: &_| {
                Ok(vec![msgs::create_validator(
                    me,
                    &pk,
                    &c,
                    &moniker,
                    &commission_rate,
                )?])
            };
            submit(ctx, &kr, &from, msg, std::slice::from_ref(&c), &flags)
        }
    }
}

pub fn slashing_tx(ctx: &Ctx, cmd: SlashingTx) -> anyhow::Result<()> {
    let SlashingTx::Unjail { from, flags } = cmd;
    let kr = ctx.keyring()?;
    submit(
        ctx,
        &kr,
        &from,
        |me| Ok(vec![msgs::unjail(me)]),
        &[],
        &flags,
    )
}

/// `verdict genesis gentx`: signed offline, account sequence 0, no fee.
pub fn genesis(ctx: &Ctx, cmd: GenesisCmd) -> anyhow::Result<()> {
    let GenesisCmd::Gentx {
        from,
        pubkey,
        amount,
        account_number,
        chain_id,
        moniker,
    } = cmd;
    let kr = ctx.keyring()?;
    let key = kr.signing_key(&from, None)?;
    let pk = consensus_pubkey(&pubkey)?;
    let c = one_coin(&amount)?;
    let spec = TxSpec {
        msgs: vec![msgs::create_validator(
            &key.address(),
            &pk,
            &c,
            &moniker,
            "0.05",
        )?],
        memo: String::new(),
        timeout_height: 0,
        fee: vec![],
        gas_limit: 400_000,
    };
    println!(
        "{}",
        hex::encode(sign_tx(&spec, &key, &chain_id, account_number, 0))
    );
    Ok(())
}

fn show_val(v: &stpb::Validator) -> String {
    format!(
        "{}  {:<12} tokens {}  status {}  jailed {}",
        v.operator_address,
        v.description
            .as_ref()
            .map(|d| d.moniker.as_str())
            .unwrap_or(""),
        v.tokens,
        v.status,
        v.jailed
    )
}

fn val_json(v: &stpb::Validator) -> Value {
    json!({"operator_address": v.operator_address, "moniker": v.description.as_ref().map(|d| d.moniker.clone()), "tokens": v.tokens, "status": v.status, "jailed": v.jailed, "delegator_shares": v.delegator_shares})
}

pub fn query(ctx: &Ctx, what: StakingQuery) -> anyhow::Result<()> {
    let (rpc, out) = (&ctx.rpc, ctx.out);
    match what {
        StakingQuery::Validators => {
            let r = abci::<stpb::QueryValidatorsResponse>(
                rpc,
                "/cosmos.staking.v1beta1.Query/Validators",
                &stpb::QueryValidatorsRequest::default(),
            )??;
            let v = json!(r.validators.iter().map(val_json).collect::<Vec<_>>());
            print(out, &v, lines(r.validators.iter().map(show_val)));
        }
        StakingQuery::Validator { validator } => {
            let r = abci::<stpb::QueryValidatorResponse>(
                rpc,
                "/cosmos.staking.v1beta1.Query/Validator",
                &stpb::QueryValidatorRequest {
                    validator_addr: validator,
                },
            )??;
            let v = r
                .validator
                .ok_or_else(|| anyhow!("no validator in reply"))?;
            print(out, &val_json(&v), show_val(&v));
        }
        StakingQuery::Delegation {
            delegator,
            validator,
        } => delegation(ctx, &delegator, validator)?,
        StakingQuery::Unbonding {
            delegator,
            validator,
        } => unbonding(ctx, &delegator, validator)?,
        StakingQuery::Redelegations { delegator } => redelegations(ctx, &delegator)?,
        StakingQuery::Params => {
            let r = abci::<stpb::QueryParamsResponse>(
                rpc,
                "/cosmos.staking.v1beta1.Query/Params",
                &stpb::QueryParamsRequest {},
            )??;
            let p = r.params.unwrap_or_default();
            let v = json!({"unbonding_time_seconds": p.unbonding_time.map(|d| d.seconds), "max_validators": p.max_validators, "max_entries": p.max_entries, "historical_entries": p.historical_entries, "bond_denom": p.bond_denom});
            print(out, &v, v.to_string());
        }
    }
    Ok(())
}

fn delegation(ctx: &Ctx, delegator: &str, validator: String) -> anyhow::Result<()> {
    let d = resolve_addr(&ctx.keyring()?, delegator)?;
    let r = abci::<stpb::QueryDelegationResponse>(
        &ctx.rpc,
        "/cosmos.staking.v1beta1.Query/Delegation",
        &stpb::QueryDelegationRequest {
            delegator_addr: d.bech32(),
            validator_addr: validator,
        },
    )??;
    let bal = r
        .delegation_response
        .and_then(|d| d.balance)
        .map(|c| format!("{}{}", c.amount, c.denom))
        .unwrap_or_default();
    print(ctx.out, &json!({"balance": bal}), bal.clone());
    Ok(())
}

fn unbonding(ctx: &Ctx, delegator: &str, validator: String) -> anyhow::Result<()> {
    let d = resolve_addr(&ctx.keyring()?, delegator)?;
    let r = abci::<stpb::QueryUnbondingDelegationResponse>(
        &ctx.rpc,
        "/cosmos.staking.v1beta1.Query/UnbondingDelegation",
        &stpb::QueryUnbondingDelegationRequest {
            delegator_addr: d.bech32(),
            validator_addr: validator,
        },
    )??;
    let rows: Vec<_> = r
        .unbond
        .map(|u| u.entries)
        .unwrap_or_default()
        .iter()
        .map(|e| {
            json!({"creation_height": e.creation_height, "initial_balance": e.initial_balance,
                   "balance": e.balance, "completion_time": e.completion_time.map(|t| t.seconds)})
        })
        .collect();
    print(
        ctx.out,
        &json!(rows),
        lines(rows.iter().map(Value::to_string)),
    );
    Ok(())
}

fn redelegations(ctx: &Ctx, delegator: &str) -> anyhow::Result<()> {
    let d = resolve_addr(&ctx.keyring()?, delegator)?;
    let r = abci::<stpb::QueryRedelegationsResponse>(
        &ctx.rpc,
        "/cosmos.staking.v1beta1.Query/Redelegations",
        &stpb::QueryRedelegationsRequest {
            delegator_addr: d.bech32(),
            ..Default::default()
        },
    )??;
    let rows: Vec<_> = r
        .redelegation_responses
        .iter()
        .filter_map(|rr| rr.redelegation.as_ref())
        .flat_map(|rd| {
            rd.entries.iter().map(move |e| {
                json!({"src": rd.validator_src_address, "dst": rd.validator_dst_address,
                       "creation_height": e.creation_height, "initial_balance": e.initial_balance,
                       "completion_time": e.completion_time.map(|t| t.seconds)})
            })
        })
        .collect();
    print(
        ctx.out,
        &json!(rows),
        lines(rows.iter().map(Value::to_string)),
    );
    Ok(())
}

pub fn slashing_query(ctx: &Ctx, what: SlashingQuery) -> anyhow::Result<()> {
    let v = match what {
        SlashingQuery::SigningInfo { cons_address } => {
            let r = abci::<slpb::QuerySigningInfoResponse>(
                &ctx.rpc,
                "/cosmos.slashing.v1beta1.Query/SigningInfo",
                &slpb::QuerySigningInfoRequest { cons_address },
            )??;
            let i = r.val_signing_info.unwrap_or_default();
            json!({"address": i.address, "start_height": i.start_height, "missed_blocks_counter": i.missed_blocks_counter, "tombstoned": i.tombstoned, "jailed_until": i.jailed_until.map(|t| t.seconds)})
        }
        SlashingQuery::SigningInfos => {
            let r = abci::<slpb::QuerySigningInfosResponse>(
                &ctx.rpc,
                "/cosmos.slashing.v1beta1.Query/SigningInfos",
                &slpb::QuerySigningInfosRequest::default(),
            )??;
            json!(r.info.iter().map(|i| json!({"address": i.address, "missed_blocks_counter": i.missed_blocks_counter, "tombstoned": i.tombstoned, "jailed_until": i.jailed_until.map(|t| t.seconds)})).collect::<Vec<_>>())
        }
    };
    print(ctx.out, &v, v.to_string());
    Ok(())
}
