//! `verdict`: the user CLI — keys, transactions, queries. This file is the
//! command line (clap) and its dispatch; the commands are in [`cmd`], one
//! module per area.

mod cmd;
mod ctx;
mod output;
mod tx;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use cmd::{bank, distribution, ibc, inference, keys, query, staking, transfer, Ctx};
use output::Output;

#[derive(Parser)]
#[command(
    name = "verdict",
    version,
    about = "Verdict chain CLI: keys, transactions, queries"
)]
struct Cli {
    /// CometBFT RPC address of a node: host:port, http://… or https://….
    #[arg(long, global = true, default_value = "127.0.0.1:26657")]
    node: String,
    /// PEM file of the CA that signed an https:// node's certificate (default:
    /// the Web PKI roots).
    #[arg(long, global = true)]
    node_ca: Option<PathBuf>,
    #[arg(long, global = true, value_enum, default_value = "text")]
    output: Output,
    /// Keyring directory (default $VERDICT_HOME/keyring or ~/.verdict/keyring).
    #[arg(long, global = true)]
    keyring_dir: Option<PathBuf>,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Chain id, height, app hash and sync state of the node.
    Status,
    /// Manage local keys (BIP39, m/44'/118'/0'/0/0, bech32 `verdict`).
    Keys {
        #[command(subcommand)]
        cmd: keys::KeysCmd,
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
        cmd: staking::GenesisCmd,
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
        cmd: ibc::RelayerCmd,
    },
}

#[derive(Subcommand)]
enum TxCmd {
    Bank {
        #[command(subcommand)]
        cmd: bank::BankTx,
    },
    Staking {
        #[command(subcommand)]
        cmd: staking::StakingTx,
    },
    Slashing {
        #[command(subcommand)]
        cmd: staking::SlashingTx,
    },
    /// Models and paid inference jobs.
    Inference {
        #[command(subcommand)]
        cmd: inference::InferenceTx,
    },
    Distribution {
        #[command(subcommand)]
        cmd: distribution::DistributionTx,
    },
    /// ICS-20 token transfers to and from other IBC chains.
    IbcTransfer {
        #[command(subcommand)]
        cmd: transfer::TransferTx,
    },
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
        what: staking::StakingQuery,
    },
    Slashing {
        #[command(subcommand)]
        what: staking::SlashingQuery,
    },
    Distribution {
        #[command(subcommand)]
        what: distribution::DistributionQuery,
    },
    Bank {
        #[command(subcommand)]
        what: bank::BankQuery,
    },
    /// ICS-20 vouchers, their traces and the escrow accounts.
    IbcTransfer {
        #[command(subcommand)]
        what: transfer::TransferQuery,
    },
    Auth {
        #[command(subcommand)]
        what: query::AuthQuery,
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

fn main() {
    let cli = Cli::parse();
    if let Err(e) = run(cli) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let ctx = Ctx::new(
        &cli.node,
        cli.node_ca.as_deref(),
        cli.output,
        cli.keyring_dir,
    )?;
    match cli.cmd {
        Cmd::Status => query::status(&ctx),
        Cmd::Keys { cmd } => keys::run(&ctx, &ctx.keyring()?, cmd),
        Cmd::Tx { cmd } => run_tx(&ctx, cmd),
        Cmd::Query { what } => run_query(&ctx, what),
        Cmd::Genesis { cmd } => staking::genesis(&ctx, cmd),
        Cmd::Relayer { cmd } => ibc::run(cmd, &ctx.keyring()?),
        Cmd::Loadgen {
            from,
            accounts,
            per_account,
            out,
        } => bank::loadgen(&ctx, &ctx.keyring()?, &from, accounts, per_account, &out),
    }
}

fn run_tx(ctx: &Ctx, cmd: TxCmd) -> anyhow::Result<()> {
    match cmd {
        TxCmd::Bank { cmd } => bank::tx(ctx, cmd),
        TxCmd::Staking { cmd } => staking::tx(ctx, cmd),
        TxCmd::Slashing { cmd } => staking::slashing_tx(ctx, cmd),
        TxCmd::Inference { cmd } => inference::tx(ctx, cmd),
        TxCmd::Distribution { cmd } => distribution::tx(ctx, cmd),
        TxCmd::IbcTransfer { cmd } => transfer::tx(ctx, cmd),
    }
}

fn run_query(ctx: &Ctx, what: Query) -> anyhow::Result<()> {
    match what {
        Query::Inference { what } => inference::query(ctx, what),
        Query::Staking { what } => staking::query(ctx, what),
        Query::Slashing { what } => staking::slashing_query(ctx, what),
        Query::Distribution { what } => distribution::query(ctx, what),
        Query::Bank { what } => bank::query(ctx, what),
        Query::IbcTransfer { what } => transfer::query(ctx, what),
        Query::Auth { what } => query::auth(ctx, what),
        Query::Tx { hash } => query::tx(ctx, &hash),
        Query::Store {
            key,
            hex,
            height,
            prove,
        } => query::store(ctx, key, hex, height, prove),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
