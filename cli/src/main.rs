//! `verdict`: the user CLI — keys, transactions, queries.

mod chain;
mod distribution;
mod inference;
mod keyring;
mod relayer;
mod rpc;
mod staking;

use std::io::BufRead;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use base64::Engine;
use clap::{Parser, Subcommand, ValueEnum};
use cosmrs::proto::cosmos::auth::v1beta1::{
    BaseAccount, QueryAccountRequest, QueryAccountResponse,
};
use cosmrs::proto::cosmos::bank::v1beta1::{
    QueryAllBalancesRequest, QueryAllBalancesResponse, QueryBalanceRequest, QueryBalanceResponse,
};
use cosmrs::proto::cosmos::tx::v1beta1::{SimulateRequest, SimulateResponse};
use prost::Message;
use serde_json::{json, Value};
use verdict_app::txbuild::{msg_send, sign_tx, simulate_tx, AccountKey, TxSpec};
use verdict_core::address::{Addr, FEE_DENOM};
use verdict_core::coin::{self, Coin};

use keyring::Keyring;
use rpc::Rpc;

#[derive(Parser)]
#[command(
    name = "verdict",
    version,
    about = "Verdict chain CLI: keys, transactions, queries"
)]
struct Cli {
    /// CometBFT RPC address of a node.
    #[arg(long, global = true, default_value = "127.0.0.1:26657")]
    node: String,
    #[arg(long, global = true, value_enum, default_value = "text")]
    output: Output,
    /// Keyring directory (default $VERDICT_HOME/keyring or ~/.verdict/keyring).
    #[arg(long, global = true)]
    keyring_dir: Option<PathBuf>,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum Output {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Cmd {
    /// Chain id, height, app hash and sync state of the node.
    Status,
    /// Manage local keys (BIP39, m/44'/118'/0'/0/0, bech32 `verdict`).
    Keys {
        #[command(subcommand)]
        cmd: KeysCmd,
    },
    /// Sign and broadcast transactions.
    Tx {
        #[command(subcommand)]
        cmd: TxCmd,
    },
    /// Read chain state.
    Query {
        #[command(subcommand)]
        what: Query,
    },
    /// Genesis helpers for net generators.
    Genesis {
        #[command(subcommand)]
        cmd: GenesisCmd,
    },
    /// Load-generation helpers for bench/ (not for production use).
    #[command(hide = true)]
    Loadgen {
        /// Key that funds the senders (e.g. the testnet faucet).
        #[arg(long)]
        from: String,
        /// Number of sender accounts.
        #[arg(long, default_value_t = 100)]
        accounts: u32,
        /// Signed txs per sender.
        #[arg(long, default_value_t = 10)]
        per_account: u32,
        /// Output file: one hex-encoded signed tx per line, round-robin over senders.
        #[arg(long)]
        out: PathBuf,
    },
    /// A small IBC relayer between two Verdict chains (for tests and local nets).
    Relayer {
        #[command(subcommand)]
        cmd: relayer::RelayerCmd,
    },
}

#[derive(Subcommand)]
enum KeysCmd {
    /// Create a key from a new 24-word mnemonic (shown once).
    Add {
        name: String,
        /// Seal the key with a passphrase ($VERDICT_KEYRING_PASSPHRASE or prompted).
        #[arg(long)]
        encrypt: bool,
    },
    /// Restore a key from a mnemonic read from standard input.
    Recover {
        name: String,
        #[arg(long)]
        encrypt: bool,
    },
    List,
    Show {
        name: String,
        /// Print only the address.
        #[arg(long, short = 'a')]
        address: bool,
    },
    Delete {
        name: String,
    },
}

#[derive(Args, Clone)]
struct TxFlags {
    /// Chain id (default: asked from the node's /status).
    #[arg(long)]
    chain_id: Option<String>,
    /// Fee, e.g. 5000uverd (default: gas × --gas-prices).
    #[arg(long)]
    fees: Option<String>,
    /// Gas limit, or `auto` to simulate and multiply by --gas-adjustment
    /// (default: `auto` for inference txs, whose gas grows with the input;
    /// 200000 for the others).
    #[arg(long)]
    gas: Option<String>,
    #[arg(long, default_value = "1.3")]
    gas_adjustment: String,
    /// Price per unit of gas for the default fee.
    #[arg(long, default_value = "0.025uverd")]
    gas_prices: String,
    #[arg(long, default_value = "")]
    memo: String,
    /// Broadcast and return without waiting for inclusion.
    #[arg(long)]
    no_wait: bool,
}

use clap::Args;

#[derive(Subcommand)]
enum TxCmd {
    Bank {
        #[command(subcommand)]
        cmd: BankTx,
    },
    Staking {
        #[command(subcommand)]
        cmd: StakingTx,
    },
    Slashing {
        #[command(subcommand)]
        cmd: SlashingTx,
    },
    /// Models and paid inference jobs.
    Inference {
        #[command(subcommand)]
        cmd: inference::InferenceTx,
    },
    Distribution {
        #[command(subcommand)]
        cmd: DistributionTx,
    },
}

#[derive(Subcommand)]
enum DistributionTx {
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
enum DistributionQuery {
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

#[derive(Subcommand)]
enum StakingTx {
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
enum SlashingTx {
    /// Bring key FROM's jailed validator back after its jail time.
    Unjail {
        from: String,
        #[command(flatten)]
        flags: TxFlags,
    },
}

#[derive(Subcommand)]
enum BankTx {
    /// Send coins: FROM is a key name, TO a bech32 address, AMOUNT e.g. 1000uverd.
    Send {
        from: String,
        to: String,
        amount: String,
        #[command(flatten)]
        flags: TxFlags,
    },
}

#[derive(Subcommand)]
enum GenesisCmd {
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
enum StakingQuery {
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
enum SlashingQuery {
    /// Signing info by consensus address (verdictvalcons1…).
    SigningInfo {
        cons_address: String,
    },
    SigningInfos,
}

#[derive(Subcommand)]
enum Query {
    /// Jobs, results, models, faults (JSON).
    Inference {
        #[command(subcommand)]
        what: inference::InferenceQuery,
    },
    Staking {
        #[command(subcommand)]
        what: StakingQuery,
    },
    Slashing {
        #[command(subcommand)]
        what: SlashingQuery,
    },
    Distribution {
        #[command(subcommand)]
        what: DistributionQuery,
    },
    Bank {
        #[command(subcommand)]
        what: BankQuery,
    },
    Auth {
        #[command(subcommand)]
        what: AuthQuery,
    },
    /// A transaction by hash.
    Tx { hash: String },
    /// A raw store key; with --prove, the ICS-23 proof is checked against the app
    /// hash that the next block's header commits to.
    Store {
        /// Key as UTF-8 text (or hex with --hex).
        key: String,
        #[arg(long)]
        hex: bool,
        /// Height to read at (default: latest provable).
        #[arg(long, default_value_t = 0)]
        height: u64,
        #[arg(long)]
        prove: bool,
    },
}

#[derive(Subcommand)]
enum BankQuery {
    /// Balances of an address (or key name).
    Balances {
        address: String,
        #[arg(long)]
        denom: Option<String>,
    },
}

#[derive(Subcommand)]
enum AuthQuery {
    /// Account number, sequence and public key of an address (or key name).
    Account { address: String },
}

fn main() {
    let cli = Cli::parse();
    if let Err(e) = run(cli) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn print(output: Output, v: &Value, text: String) {
    match output {
        Output::Json => println!("{v}"),
        Output::Text => println!("{text}"),
    }
}

fn keyring_dir(flag: Option<PathBuf>) -> PathBuf {
    flag.or_else(|| std::env::var_os("VERDICT_HOME").map(|h| PathBuf::from(h).join("keyring")))
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".verdict")
                .join("keyring")
        })
}

fn passphrase(prompt: &str) -> anyhow::Result<String> {
    if let Ok(p) = std::env::var("VERDICT_KEYRING_PASSPHRASE") {
        return Ok(p);
    }
    eprint!("{prompt}: ");
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// An address argument may be a bech32 address or a key name.
fn resolve_addr(kr: &Keyring, s: &str) -> anyhow::Result<Addr> {
    if s.starts_with("verdict1") {
        return Addr::parse(s).map_err(|e| anyhow!("{e}"));
    }
    let info = kr.show(s).map_err(|_| {
        anyhow!("{s:?} is neither a verdict1… address nor a key name in the keyring")
    })?;
    Addr::parse(&info.address).map_err(|e| anyhow!("{e}"))
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let rpc = Rpc::new(&cli.node);
    let out = cli.output;
    let kr_dir = keyring_dir(cli.keyring_dir);
    match cli.cmd {
        Cmd::Status => status(&rpc, out),
        Cmd::Keys { cmd } => keys(&Keyring::open(&kr_dir)?, cmd, out),
        Cmd::Tx {
            cmd:
                TxCmd::Bank {
                    cmd:
                        BankTx::Send {
                            from,
                            to,
                            amount,
                            flags,
                        },
                },
        } => send(
            &rpc,
            &Keyring::open(&kr_dir)?,
            &from,
            &to,
            &amount,
            &flags,
            out,
        ),
        Cmd::Query {
            what: Query::Inference { what },
        } => {
            let v = inference::query(&rpc, what)?;
            let text = if v.get("committee").is_some() {
                inference::describe_job(&v)
            } else if v.get("sequence").is_some() && v.get("status").is_some() {
                inference::describe_remote(&v)
            } else {
                serde_json::to_string_pretty(&v)?
            };
            print(out, &v, text);
            Ok(())
        }
        Cmd::Query { what } => query(&rpc, &kr_dir, what, out),
        Cmd::Tx {
            cmd: TxCmd::Inference { cmd },
        } => {
            let kr = Keyring::open(&kr_dir)?;
            match cmd {
                inference::InferenceTx::RegisterModel {
                    from,
                    spec,
                    file,
                    model_id,
                    flags,
                } => submit(
                    &rpc,
                    &kr,
                    &from,
                    |me| {
                        Ok(vec![inference::register_msg(
                            me,
                            &spec,
                            file.as_deref(),
                            model_id.as_deref(),
                        )?])
                    },
                    &[],
                    &flags,
                    out,
                ),
                inference::InferenceTx::Submit {
                    from,
                    model,
                    input,
                    max_latency_ms,
                    fee,
                    wait,
                    wait_seconds,
                    spec_hash,
                    flags,
                } => {
                    let fee = one_coin(&fee)?;
                    let inputs = inference::input_tensors(&rpc, &model, &input)?;
                    let Some(r) = submit_tx(
                        &rpc,
                        &kr,
                        &from,
                        |me| {
                            Ok(vec![inference::submit_msg(
                                me,
                                &model,
                                inputs,
                                max_latency_ms,
                                &fee,
                                spec_hash.as_deref(),
                            )])
                        },
                        std::slice::from_ref(&fee),
                        &flags,
                    )?
                    else {
                        return Ok(());
                    };
                    if r["tx_result"]["code"].as_u64().unwrap_or(0) != 0 || !wait {
                        if r["tx_result"]["code"].as_u64().unwrap_or(0) == 0 {
                            let id = inference::job_id_of(&r)?;
                            print(
                                out,
                                &json!({"job_id": id, "txhash": r["hash"]}),
                                format!(
                                    "job {id} submitted in tx {}",
                                    r["hash"].as_str().unwrap_or("?")
                                ),
                            );
                            return Ok(());
                        }
                        return report_tx(&r, out);
                    }
                    let id = inference::job_id_of(&r)?;
                    let j = inference::wait_job(&rpc, id, Duration::from_secs(wait_seconds))?;
                    let text = inference::describe_job(&j);
                    print(out, &j, text);
                    if j["status"].as_str() != Some("completed") {
                        std::process::exit(2);
                    }
                    Ok(())
                }
                inference::InferenceTx::ReclaimRemote {
                    from,
                    channel,
                    sequence,
                    flags,
                } => submit(
                    &rpc,
                    &kr,
                    &from,
                    |me| Ok(vec![inference::reclaim_remote_msg(me, &channel, sequence)]),
                    &[],
                    &flags,
                    out,
                ),
                inference::InferenceTx::RequestRemote {
                    from,
                    channel,
                    model,
                    input,
                    serving_node,
                    max_latency_ms,
                    fee,
                    timeout_seconds,
                    wait,
                    wait_seconds,
                    flags,
                } => {
                    let fee = one_coin(&fee)?;
                    let inputs = match serving_node {
                        Some(node) => inference::input_tensors(&Rpc::new(&node), &model, &input)?,
                        None => inference::tensors_from_file(&input, None)?,
                    };
                    let Some(r) = submit_tx(
                        &rpc,
                        &kr,
                        &from,
                        |me| {
                            Ok(vec![inference::request_remote_msg(
                                me,
                                inference::RemoteRequestArgs {
                                    channel: &channel,
                                    model: &model,
                                    inputs,
                                    max_latency_ms,
                                    fee: &fee,
                                    timeout_seconds,
                                },
                            )])
                        },
                        std::slice::from_ref(&fee),
                        &flags,
                    )?
                    else {
                        return Ok(());
                    };
                    if r["tx_result"]["code"].as_u64().unwrap_or(0) != 0 {
                        return report_tx(&r, out);
                    }
                    let (ch, seq) = inference::remote_sequence_of(&r)?;
                    if !wait {
                        print(
                            out,
                            &json!({"channel_id": ch, "sequence": seq, "txhash": r["hash"]}),
                            format!(
                                "request {seq} sent on {ch} in tx {}",
                                r["hash"].as_str().unwrap_or("?")
                            ),
                        );
                        return Ok(());
                    }
                    let v =
                        inference::wait_remote(&rpc, &ch, seq, Duration::from_secs(wait_seconds))?;
                    let text = inference::describe_remote(&v);
                    print(out, &v, text);
                    if v["status"].as_str() != Some("completed") {
                        std::process::exit(2);
                    }
                    Ok(())
                }
            }
        }
        Cmd::Tx {
            cmd: TxCmd::Staking { cmd },
        } => {
            let kr = Keyring::open(&kr_dir)?;
            match cmd {
                StakingTx::Delegate {
                    from,
                    validator,
                    amount,
                    flags,
                } => {
                    let v = staking::valoper(&validator)?;
                    let c = one_coin(&amount)?;
                    submit(
                        &rpc,
                        &kr,
                        &from,
                        |me| Ok(vec![staking::delegate(me, &v, &c)]),
                        std::slice::from_ref(&c),
                        &flags,
                        out,
                    )
                }
                StakingTx::Unbond {
                    from,
                    validator,
                    amount,
                    flags,
                } => {
                    let v = staking::valoper(&validator)?;
                    let c = one_coin(&amount)?;
                    submit(
                        &rpc,
                        &kr,
                        &from,
                        |me| Ok(vec![staking::undelegate(me, &v, &c)]),
                        &[],
                        &flags,
                        out,
                    )
                }
                StakingTx::Redelegate {
                    src_validator,
                    dst_validator,
                    amount,
                    from,
                    flags,
                } => {
                    let (src, dst) = (
                        staking::valoper(&src_validator)?,
                        staking::valoper(&dst_validator)?,
                    );
                    let c = one_coin(&amount)?;
                    submit(
                        &rpc,
                        &kr,
                        &from,
                        |me| Ok(vec![staking::redelegate(me, &src, &dst, &c)]),
                        &[],
                        &flags,
                        out,
                    )
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
                        .map(staking::legacy_dec)
                        .transpose()?;
                    submit(
                        &rpc,
                        &kr,
                        &from,
                        |me| {
                            Ok(vec![staking::edit_validator(
                                me,
                                moniker.as_deref(),
                                rate,
                                min_self_delegation.as_deref(),
                            )])
                        },
                        &[],
                        &flags,
                        out,
                    )
                }
                StakingTx::CreateValidator {
                    from,
                    pubkey,
                    amount,
                    moniker,
                    commission_rate,
                    flags,
                } => {
                    let pk = base64::engine::general_purpose::STANDARD
                        .decode(&pubkey)
                        .context("--pubkey is not base64")?;
                    let c = one_coin(&amount)?;
                    submit(
                        &rpc,
                        &kr,
                        &from,
                        |me| {
                            Ok(vec![staking::create_validator(
                                me,
                                &pk,
                                &c,
                                &moniker,
                                &commission_rate,
                            )?])
                        },
                        std::slice::from_ref(&c),
                        &flags,
                        out,
                    )
                }
            }
        }
        Cmd::Tx {
            cmd: TxCmd::Distribution { cmd },
        } => {
            let kr = Keyring::open(&kr_dir)?;
            match cmd {
                DistributionTx::WithdrawRewards {
                    validator,
                    from,
                    commission,
                    flags,
                } => {
                    let v = staking::valoper(&validator)?;
                    submit(
                        &rpc,
                        &kr,
                        &from,
                        |me| {
                            let mut msgs = vec![distribution::withdraw_rewards(me, &v)];
                            if commission {
                                msgs.push(distribution::withdraw_commission(me));
                            }
                            Ok(msgs)
                        },
                        &[],
                        &flags,
                        out,
                    )
                }
                DistributionTx::WithdrawCommission { from, flags } => submit(
                    &rpc,
                    &kr,
                    &from,
                    |me| Ok(vec![distribution::withdraw_commission(me)]),
                    &[],
                    &flags,
                    out,
                ),
            }
        }
        Cmd::Tx {
            cmd:
                TxCmd::Slashing {
                    cmd: SlashingTx::Unjail { from, flags },
                },
        } => submit(
            &rpc,
            &Keyring::open(&kr_dir)?,
            &from,
            |me| Ok(vec![staking::unjail(me)]),
            &[],
            &flags,
            out,
        ),
        Cmd::Genesis {
            cmd:
                GenesisCmd::Gentx {
                    from,
                    pubkey,
                    amount,
                    account_number,
                    chain_id,
                    moniker,
                },
        } => {
            let kr = Keyring::open(&kr_dir)?;
            let key = kr.signing_key(&from, None)?;
            let pk = base64::engine::general_purpose::STANDARD
                .decode(&pubkey)
                .context("--pubkey is not base64")?;
            let c = one_coin(&amount)?;
            let spec = TxSpec {
                msgs: vec![staking::create_validator(
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
        Cmd::Relayer { cmd } => relayer::run(cmd, &Keyring::open(&kr_dir)?),
        Cmd::Loadgen {
            from,
            accounts,
            per_account,
            out: file,
        } => loadgen(
            &rpc,
            &Keyring::open(&kr_dir)?,
            &from,
            accounts,
            per_account,
            &file,
        ),
    }
}

fn status(rpc: &Rpc, out: Output) -> anyhow::Result<()> {
    let s = rpc.get("status")?;
    let v = json!({
        "chain_id": s["node_info"]["network"],
        "moniker": s["node_info"]["moniker"],
        "node_id": s["node_info"]["id"],
        "cometbft": s["node_info"]["version"],
        "latest_block_height": s["sync_info"]["latest_block_height"],
        "latest_app_hash": s["sync_info"]["latest_app_hash"],
        "latest_block_time": s["sync_info"]["latest_block_time"],
        "catching_up": s["sync_info"]["catching_up"],
    });
    let text = format!(
        "chain {}  height {}  app_hash {}\nnode {} ({}), cometbft {}, catching up: {}",
        v["chain_id"].as_str().unwrap_or("?"),
        v["latest_block_height"].as_str().unwrap_or("?"),
        v["latest_app_hash"].as_str().unwrap_or("?"),
        v["moniker"].as_str().unwrap_or("?"),
        v["node_id"].as_str().unwrap_or("?"),
        v["cometbft"].as_str().unwrap_or("?"),
        v["catching_up"],
    );
    print(out, &v, text);
    Ok(())
}

fn keys(kr: &Keyring, cmd: KeysCmd, out: Output) -> anyhow::Result<()> {
    let info_json = |i: &keyring::KeyInfo| json!({"name": i.name, "address": i.address, "pubkey": i.pubkey, "encrypted": i.encrypted});
    match cmd {
        KeysCmd::Add { name, encrypt } => {
            let mnemonic = keyring::new_mnemonic();
            let key = AccountKey::from_mnemonic(&mnemonic, "").map_err(|e| anyhow!(e))?;
            let pass = if encrypt {
                Some(passphrase("passphrase")?)
            } else {
                None
            };
            let info = kr.add(&name, &key, pass.as_deref())?;
            let mut v = info_json(&info);
            v["mnemonic"] = json!(mnemonic);
            print(
                out,
                &v,
                format!(
                    "- name: {}\n  address: {}\n\n**Write this mnemonic down and keep it safe; it is the only way to recover the key:**\n\n{mnemonic}",
                    info.name, info.address
                ),
            );
        }
        KeysCmd::Recover { name, encrypt } => {
            let mut phrase = String::new();
            std::io::stdin().lock().read_line(&mut phrase)?;
            let words = phrase.split_whitespace().count();
            if words != 24 {
                bail!("a mnemonic has 24 words; read {words} from standard input");
            }
            let key = AccountKey::from_mnemonic(&phrase, "").map_err(|e| anyhow!(e))?;
            let pass = if encrypt {
                Some(passphrase("passphrase")?)
            } else {
                None
            };
            let info = kr.add(&name, &key, pass.as_deref())?;
            print(
                out,
                &info_json(&info),
                format!("- name: {}\n  address: {}", info.name, info.address),
            );
        }
        KeysCmd::List => {
            let all = kr.list()?;
            let v = json!(all.iter().map(info_json).collect::<Vec<_>>());
            let text = all
                .iter()
                .map(|i| {
                    format!(
                        "{:<16} {}{}",
                        i.name,
                        i.address,
                        if i.encrypted { "  (encrypted)" } else { "" }
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            print(
                out,
                &v,
                if text.is_empty() {
                    "no keys".into()
                } else {
                    text
                },
            );
        }
        KeysCmd::Show { name, address } => {
            let i = kr.show(&name)?;
            if address {
                println!("{}", i.address);
            } else {
                print(
                    out,
                    &info_json(&i),
                    format!(
                        "- name: {}\n  address: {}\n  pubkey: {}",
                        i.name, i.address, i.pubkey
                    ),
                );
            }
        }
        KeysCmd::Delete { name } => {
            kr.delete(&name)?;
            print(
                out,
                &json!({"deleted": name}),
                format!("deleted key {name:?}"),
            );
        }
    }
    Ok(())
}

fn account(rpc: &Rpc, addr: &Addr) -> anyhow::Result<Option<BaseAccount>> {
    match chain::query::<QueryAccountResponse>(
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

fn uverd_balance(rpc: &Rpc, addr: &Addr) -> anyhow::Result<u128> {
    let r = chain::query::<QueryBalanceResponse>(
        rpc,
        "/cosmos.bank.v1beta1.Query/Balance",
        &QueryBalanceRequest {
            address: addr.bech32(),
            denom: FEE_DENOM.into(),
        },
    )??;
    Ok(r.balance
        .map(|c| c.amount.parse().unwrap_or(0))
        .unwrap_or(0))
}

/// `ceil(gas × price)` with the price as a decimal string, in integers only.
fn fee_for(gas: u64, price: &str) -> anyhow::Result<Coin> {
    let split = price
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or_else(|| anyhow!("--gas-prices {price:?}: want e.g. 0.025uverd"))?;
    let (num, denom) = price.split_at(split);
    let (int, frac) = num.split_once('.').unwrap_or((num, ""));
    let scale = 10u128.pow(u32::try_from(frac.len()).unwrap_or(0));
    let units: u128 = format!("{int}{frac}")
        .parse()
        .context("--gas-prices amount")?;
    let amount = u128::from(gas).saturating_mul(units).div_ceil(scale.max(1));
    Ok(Coin::new(amount, denom))
}

fn send(
    rpc: &Rpc,
    kr: &Keyring,
    from: &str,
    to: &str,
    amount: &str,
    flags: &TxFlags,
    out: Output,
) -> anyhow::Result<()> {
    let to = Addr::parse(to).map_err(|e| anyhow!("recipient: {e}"))?;
    let coins = coin::parse_coins(amount).map_err(|e| anyhow!("amount: {e}"))?;
    submit(
        rpc,
        kr,
        from,
        |me| Ok(vec![msg_send(me, &to, &coins)]),
        &coins,
        flags,
        out,
    )
}

/// Signs `msgs` (built for the signer's address) with key `from`, chooses gas
/// and fee, checks that `spend` + fee is affordable, broadcasts, and waits.
fn submit(
    rpc: &Rpc,
    kr: &Keyring,
    from: &str,
    msgs: impl FnOnce(&Addr) -> anyhow::Result<Vec<cosmrs::Any>>,
    spend: &[Coin],
    flags: &TxFlags,
    out: Output,
) -> anyhow::Result<()> {
    match submit_tx(rpc, kr, from, msgs, spend, flags)? {
        Some(r) => report_tx(&r, out),
        None => Ok(()),
    }
}

/// Signs, broadcasts and (unless --no-wait) waits: the committed tx as
/// CometBFT's `/tx` returns it.
fn submit_tx(
    rpc: &Rpc,
    kr: &Keyring,
    from: &str,
    msgs: impl FnOnce(&Addr) -> anyhow::Result<Vec<cosmrs::Any>>,
    spend: &[Coin],
    flags: &TxFlags,
) -> anyhow::Result<Option<Value>> {
    let pass = if kr.is_encrypted(from)? {
        Some(passphrase(&format!("passphrase of {from}"))?)
    } else {
        None
    };
    let key = kr.signing_key(from, pass.as_deref())?;
    let chain_id = match &flags.chain_id {
        Some(c) => c.clone(),
        None => chain::chain_id(rpc)?,
    };
    let acc = account(rpc, &key.address())?.ok_or_else(|| {
        anyhow!(
            "account {} does not exist on chain {chain_id} yet: it must receive tokens first",
            key.address()
        )
    })?;
    let mut spec = TxSpec {
        msgs: msgs(&key.address())?,
        memo: flags.memo.clone(),
        timeout_height: 0,
        fee: vec![],
        gas_limit: 0,
    };
    let inference = spec
        .msgs
        .iter()
        .any(|m| m.type_url.starts_with("/verdict.inference."));
    let gas = flags
        .gas
        .as_deref()
        .unwrap_or(if inference { "auto" } else { "200000" });
    spec.gas_limit = if gas == "auto" {
        let sim = chain::query::<SimulateResponse>(
            rpc,
            "/cosmos.tx.v1beta1.Service/Simulate",
            &SimulateRequest {
                tx_bytes: simulate_tx(&spec, &key, acc.sequence),
                ..Default::default()
            },
        )?
        .map_err(|e| anyhow!("simulation failed (code {}): {}", e.code, e.log))?;
        let used = sim.gas_info.map(|g| g.gas_used).unwrap_or(0);
        // gas × adjustment, rounded up, with the same integer decimal math as fees.
        let adj = fee_for(used, &format!("{}gas", flags.gas_adjustment))?
            .amount
            .u128();
        u64::try_from(adj).unwrap_or(u64::MAX)
    } else {
        gas.parse()
            .map_err(|_| anyhow!("--gas must be a number or `auto`, got {gas:?}"))?
    };
    spec.fee = match &flags.fees {
        Some(f) => coin::parse_coins(f).map_err(|e| anyhow!("--fees: {e}"))?,
        None => vec![fee_for(spec.gas_limit, &flags.gas_prices)?],
    };
    // Check funds here so the error names both amounts before anything is sent.
    let need: u128 = spend
        .iter()
        .chain(spec.fee.iter())
        .filter(|c| c.denom == FEE_DENOM)
        .map(|c| c.amount.u128())
        .sum();
    let have = uverd_balance(rpc, &key.address())?;
    if have < need {
        bail!(
            "insufficient funds: {} has {have}{FEE_DENOM}, needs {need}{FEE_DENOM} ({} + {} fee)",
            key.address(),
            if spend.is_empty() {
                "0uverd".to_string()
            } else {
                coin::display(spend)
            },
            coin::display(&spec.fee)
        );
    }
    let tx = sign_tx(&spec, &key, &chain_id, acc.account_number, acc.sequence);
    let hash = chain::broadcast(rpc, &tx)?;
    if flags.no_wait {
        println!("{}", json!({"txhash": hash}));
        return Ok(None);
    }
    Ok(Some(chain::wait_for_tx(
        rpc,
        &hash,
        Duration::from_secs(60),
    )?))
}

fn report_tx(r: &Value, out: Output) -> anyhow::Result<()> {
    let res = &r["tx_result"];
    let code = res["code"].as_u64().unwrap_or(0);
    let v = json!({
        "txhash": r["hash"],
        "height": r["height"],
        "code": code,
        "codespace": res["codespace"],
        "gas_wanted": res["gas_wanted"],
        "gas_used": res["gas_used"],
        "log": res["log"],
    });
    let mut text = format!(
        "txhash {}\nheight {}  code {}  gas used {} of {}",
        r["hash"].as_str().unwrap_or("?"),
        r["height"].as_str().unwrap_or("?"),
        code,
        res["gas_used"].as_str().unwrap_or("?"),
        res["gas_wanted"].as_str().unwrap_or("?"),
    );
    if code != 0 {
        text.push_str(&format!("\nfailed: {}", res["log"].as_str().unwrap_or("")));
    }
    print(out, &v, text);
    if code != 0 {
        std::process::exit(1);
    }
    Ok(())
}

fn one_coin(s: &str) -> anyhow::Result<Coin> {
    let mut cs = coin::parse_coins(s).map_err(|e| anyhow!("amount: {e}"))?;
    if cs.len() != 1 {
        bail!("amount must be a single coin, e.g. 1000000uverd");
    }
    Ok(cs.remove(0))
}

fn query(rpc: &Rpc, kr_dir: &std::path::Path, what: Query, out: Output) -> anyhow::Result<()> {
    use cosmrs::proto::cosmos::slashing::v1beta1 as slpb;
    use cosmrs::proto::cosmos::staking::v1beta1 as stpb;
    let show_val = |v: &stpb::Validator| {
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
    };
    let val_json = |v: &stpb::Validator| json!({"operator_address": v.operator_address, "moniker": v.description.as_ref().map(|d| d.moniker.clone()), "tokens": v.tokens, "status": v.status, "jailed": v.jailed, "delegator_shares": v.delegator_shares});
    match what {
        Query::Inference { .. } => bail!("inference queries are answered before this point"),
        Query::Staking {
            what: StakingQuery::Validators,
        } => {
            let r = chain::query::<stpb::QueryValidatorsResponse>(
                rpc,
                "/cosmos.staking.v1beta1.Query/Validators",
                &stpb::QueryValidatorsRequest::default(),
            )??;
            let v = json!(r.validators.iter().map(val_json).collect::<Vec<_>>());
            print(
                out,
                &v,
                r.validators
                    .iter()
                    .map(show_val)
                    .collect::<Vec<_>>()
                    .join("\n"),
            );
        }
        Query::Staking {
            what: StakingQuery::Validator { validator },
        } => {
            let r = chain::query::<stpb::QueryValidatorResponse>(
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
        Query::Staking {
            what:
                StakingQuery::Delegation {
                    delegator,
                    validator,
                },
        } => {
            let d = resolve_addr(&Keyring::open(kr_dir)?, &delegator)?;
            let r = chain::query::<stpb::QueryDelegationResponse>(
                rpc,
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
            print(out, &json!({"balance": bal}), bal.clone());
        }
        Query::Staking {
            what:
                StakingQuery::Unbonding {
                    delegator,
                    validator,
                },
        } => {
            let d = resolve_addr(&Keyring::open(kr_dir)?, &delegator)?;
            let r = chain::query::<stpb::QueryUnbondingDelegationResponse>(
                rpc,
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
            let text = rows
                .iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join("\n");
            print(out, &json!(rows), text);
        }
        Query::Staking {
            what: StakingQuery::Redelegations { delegator },
        } => {
            let d = resolve_addr(&Keyring::open(kr_dir)?, &delegator)?;
            let r = chain::query::<stpb::QueryRedelegationsResponse>(
                rpc,
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
            let text = rows
                .iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join("\n");
            print(out, &json!(rows), text);
        }
        Query::Staking {
            what: StakingQuery::Params,
        } => {
            let r = chain::query::<stpb::QueryParamsResponse>(
                rpc,
                "/cosmos.staking.v1beta1.Query/Params",
                &stpb::QueryParamsRequest {},
            )??;
            let p = r.params.unwrap_or_default();
            let v = json!({"unbonding_time_seconds": p.unbonding_time.map(|d| d.seconds), "max_validators": p.max_validators, "max_entries": p.max_entries, "historical_entries": p.historical_entries, "bond_denom": p.bond_denom});
            print(out, &v, v.to_string());
        }
        Query::Slashing {
            what: SlashingQuery::SigningInfo { cons_address },
        } => {
            let r = chain::query::<slpb::QuerySigningInfoResponse>(
                rpc,
                "/cosmos.slashing.v1beta1.Query/SigningInfo",
                &slpb::QuerySigningInfoRequest { cons_address },
            )??;
            let i = r.val_signing_info.unwrap_or_default();
            let v = json!({"address": i.address, "start_height": i.start_height, "missed_blocks_counter": i.missed_blocks_counter, "tombstoned": i.tombstoned, "jailed_until": i.jailed_until.map(|t| t.seconds)});
            print(out, &v, v.to_string());
        }
        Query::Slashing {
            what: SlashingQuery::SigningInfos,
        } => {
            let r = chain::query::<slpb::QuerySigningInfosResponse>(
                rpc,
                "/cosmos.slashing.v1beta1.Query/SigningInfos",
                &slpb::QuerySigningInfosRequest::default(),
            )??;
            let v = json!(r.info.iter().map(|i| json!({"address": i.address, "missed_blocks_counter": i.missed_blocks_counter, "tombstoned": i.tombstoned, "jailed_until": i.jailed_until.map(|t| t.seconds)})).collect::<Vec<_>>());
            print(out, &v, v.to_string());
        }
        Query::Bank {
            what: BankQuery::Balances { address, denom },
        } => {
            let addr = resolve_addr(&Keyring::open(kr_dir)?, &address)?;
            let coins: Vec<(String, String)> = match denom {
                Some(d) => {
                    let r = chain::query::<QueryBalanceResponse>(
                        rpc,
                        "/cosmos.bank.v1beta1.Query/Balance",
                        &QueryBalanceRequest {
                            address: addr.bech32(),
                            denom: d,
                        },
                    )??;
                    r.balance.into_iter().map(|c| (c.denom, c.amount)).collect()
                }
                None => {
                    let r = chain::query::<QueryAllBalancesResponse>(
                        rpc,
                        "/cosmos.bank.v1beta1.Query/AllBalances",
                        &QueryAllBalancesRequest {
                            address: addr.bech32(),
                            ..Default::default()
                        },
                    )??;
                    r.balances
                        .into_iter()
                        .map(|c| (c.denom, c.amount))
                        .collect()
                }
            };
            let v = json!({"address": addr.bech32(), "balances": coins.iter().map(|(d, a)| json!({"denom": d, "amount": a})).collect::<Vec<_>>()});
            let text = if coins.is_empty() {
                format!("{addr}: no balances")
            } else {
                coins
                    .iter()
                    .map(|(d, a)| format!("{a}{d}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            print(out, &v, text);
        }
        Query::Auth {
            what: AuthQuery::Account { address },
        } => {
            let addr = resolve_addr(&Keyring::open(kr_dir)?, &address)?;
            let acc = account(rpc, &addr)?.ok_or_else(|| anyhow!("account {addr} not found"))?;
            let pk = acc
                .pub_key
                .as_ref()
                .and_then(|a| {
                    cosmrs::proto::cosmos::crypto::secp256k1::PubKey::decode(a.value.as_slice())
                        .ok()
                })
                .map(|p| hex::encode(p.key));
            let v = json!({"address": acc.address, "account_number": acc.account_number, "sequence": acc.sequence, "pub_key": pk});
            print(
                out,
                &v,
                format!(
                    "address {}\naccount_number {}\nsequence {}\npub_key {}",
                    acc.address,
                    acc.account_number,
                    acc.sequence,
                    pk.unwrap_or_else(|| "(none yet)".into())
                ),
            );
        }
        Query::Distribution { what } => {
            use cosmrs::proto::cosmos::distribution::v1beta1 as dpb;
            let (v, text) = match what {
                DistributionQuery::Rewards {
                    delegator,
                    validator,
                } => {
                    let d = resolve_addr(&Keyring::open(kr_dir)?, &delegator)?;
                    let r = chain::query::<dpb::QueryDelegationRewardsResponse>(
                        rpc,
                        "/cosmos.distribution.v1beta1.Query/DelegationRewards",
                        &dpb::QueryDelegationRewardsRequest {
                            delegator_address: d.bech32(),
                            validator_address: validator,
                        },
                    )??;
                    let t = distribution::dec_coins(&r.rewards);
                    (json!({"rewards": t}), t)
                }
                DistributionQuery::Commission { validator } => {
                    let r = chain::query::<dpb::QueryValidatorCommissionResponse>(
                        rpc,
                        "/cosmos.distribution.v1beta1.Query/ValidatorCommission",
                        &dpb::QueryValidatorCommissionRequest {
                            validator_address: validator,
                        },
                    )??;
                    let t = distribution::dec_coins(
                        &r.commission.map(|c| c.commission).unwrap_or_default(),
                    );
                    (json!({"commission": t}), t)
                }
                DistributionQuery::CommunityPool => {
                    let r = chain::query::<dpb::QueryCommunityPoolResponse>(
                        rpc,
                        "/cosmos.distribution.v1beta1.Query/CommunityPool",
                        &dpb::QueryCommunityPoolRequest {},
                    )??;
                    let t = distribution::dec_coins(&r.pool);
                    (json!({"pool": t}), t)
                }
            };
            print(out, &v, text);
        }
        Query::Tx { hash } => {
            let h = hash.trim_start_matches("0x");
            if h.len() != 64 || hex::decode(h).is_err() {
                bail!("tx hash must be 64 hex characters, got {hash:?}");
            }
            let r = rpc
                .get(&format!("tx?hash=0x{h}"))
                .map_err(|e| anyhow!("tx {h}: {e}"))?;
            report_tx(&r, out)?;
        }
        Query::Store {
            key,
            hex: is_hex,
            height,
            prove,
        } => store_query(rpc, key, is_hex, height, prove, out)?,
    }
    Ok(())
}

fn store_query(
    rpc: &Rpc,
    key: String,
    is_hex: bool,
    height: u64,
    prove: bool,
    out: Output,
) -> anyhow::Result<()> {
    let key = if is_hex {
        hex::decode(&key).context("--hex key is not valid hex")?
    } else {
        key.into_bytes()
    };
    let height = if height == 0 {
        // The app hash of height h is committed to by the header of h+1, so the
        // newest provable height is one below the latest block.
        let latest: u64 = rpc.get("status")?["sync_info"]["latest_block_height"]
            .as_str()
            .unwrap_or("0")
            .parse()?;
        latest.saturating_sub(1)
    } else {
        height
    };
    if height == 0 {
        bail!("the chain has no committed block to read yet");
    }
    let r = rpc.get(&format!(
        "abci_query?path=%22/store/key%22&data=0x{}&height={height}&prove={prove}",
        hex::encode(&key)
    ))?;
    let resp = &r["response"];
    let code = resp["code"].as_u64().unwrap_or(0);
    if code != 0 {
        bail!(
            "query failed (code {code}): {}",
            resp["log"].as_str().unwrap_or("")
        );
    }
    let b64 = base64::engine::general_purpose::STANDARD;
    let value = b64.decode(resp["value"].as_str().unwrap_or(""))?;
    let mut verified = Value::Null;
    if prove {
        let header = rpc.get(&format!("header?height={}", height.saturating_add(1)))?;
        let app_hash = hex::decode(header["header"]["app_hash"].as_str().unwrap_or(""))?;
        let op = resp["proofOps"]["ops"]
            .get(0)
            .ok_or_else(|| anyhow!("node returned no proof"))?;
        let proof = ics23::CommitmentProof::decode(
            b64.decode(op["data"].as_str().unwrap_or(""))?.as_slice(),
        )?;
        let present = (!value.is_empty()).then_some(value.as_slice());
        if !verdict_app::store::verify_proof(&app_hash, &proof, &key, present) {
            bail!(
                "PROOF DOES NOT VERIFY against app hash {} of block {}",
                hex::encode_upper(&app_hash),
                height.saturating_add(1)
            );
        }
        verified = json!(hex::encode_upper(&app_hash));
    }
    let shown = match std::str::from_utf8(&value) {
        Ok(s) => s.to_string(),
        Err(_) => hex::encode(&value),
    };
    let v = json!({"height": height, "value": shown, "found": !value.is_empty(), "proof_verified_against": verified});
    let mut text = if value.is_empty() {
        format!("height {height}: (no value)")
    } else {
        format!("height {height}: {shown}")
    };
    if let Some(h) = verified.as_str() {
        text.push_str(&format!(
            "\nproof verified against app hash {h} (header of block {})",
            height.saturating_add(1)
        ));
    }
    print(out, &v, text);
    Ok(())
}

/// Funds `accounts` fresh senders with one multi-send, then pre-signs
/// `per_account` MsgSends from each (sequences 0..per_account), written
/// round-robin so that every sender's txs arrive in sequence order.
fn loadgen(
    rpc: &Rpc,
    kr: &Keyring,
    from: &str,
    accounts: u32,
    per_account: u32,
    file: &std::path::Path,
) -> anyhow::Result<()> {
    use cosmrs::proto::cosmos::bank::v1beta1::{Input, MsgMultiSend, Output as BankOutput};
    let funder = kr.signing_key(from, None)?;
    let chain_id = chain::chain_id(rpc)?;
    let senders: Vec<AccountKey> = (0..accounts)
        .map(|i| {
            let mut seed = [0u8; 32];
            seed[..4].copy_from_slice(&i.to_be_bytes());
            seed[31] = 0x5a;
            AccountKey::from_bytes(&seed).ok_or_else(|| anyhow!("bad seed"))
        })
        .collect::<anyhow::Result<_>>()?;
    let each = 10_000_000u128;
    let total = each.saturating_mul(u128::from(accounts));
    let multi = MsgMultiSend {
        inputs: vec![Input {
            address: funder.address().bech32(),
            coins: vec![Coin::new(total, FEE_DENOM).to_proto()],
        }],
        outputs: senders
            .iter()
            .map(|k| BankOutput {
                address: k.address().bech32(),
                coins: vec![Coin::new(each, FEE_DENOM).to_proto()],
            })
            .collect(),
    };
    let acc = account(rpc, &funder.address())?.ok_or_else(|| anyhow!("funder has no account"))?;
    let gas = 100_000u64.saturating_add(40_000u64.saturating_mul(u64::from(accounts)));
    let spec = TxSpec {
        msgs: vec![cosmrs::Any {
            type_url: "/cosmos.bank.v1beta1.MsgMultiSend".into(),
            value: multi.encode_to_vec(),
        }],
        memo: String::new(),
        timeout_height: 0,
        fee: vec![fee_for(gas, "0.025uverd")?],
        gas_limit: gas,
    };
    let hash = chain::broadcast(
        rpc,
        &sign_tx(&spec, &funder, &chain_id, acc.account_number, acc.sequence),
    )?;
    let r = chain::wait_for_tx(rpc, &hash, Duration::from_secs(60))?;
    if r["tx_result"]["code"].as_u64().unwrap_or(1) != 0 {
        bail!("funding failed: {}", r["tx_result"]["log"]);
    }
    let mut numbers = Vec::with_capacity(senders.len());
    for k in &senders {
        numbers.push(
            account(rpc, &k.address())?
                .ok_or_else(|| anyhow!("sender not funded"))?
                .account_number,
        );
    }
    let sink = funder.address();
    let mut lines = String::new();
    for seq in 0..u64::from(per_account) {
        for (k, n) in senders.iter().zip(&numbers) {
            let spec = TxSpec {
                msgs: vec![msg_send(&k.address(), &sink, &[Coin::new(1, FEE_DENOM)])],
                memo: String::new(),
                timeout_height: 0,
                fee: vec![Coin::new(2500, FEE_DENOM)],
                gas_limit: 100_000,
            };
            lines.push_str(&hex::encode(sign_tx(&spec, k, &chain_id, *n, seq)));
            lines.push('\n');
        }
    }
    std::fs::write(file, lines)?;
    eprintln!(
        "wrote {} signed txs to {}",
        u64::from(accounts).saturating_mul(u64::from(per_account)),
        file.display()
    );
    Ok(())
}
