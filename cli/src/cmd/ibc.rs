//! `verdict relayer …`: the command line of `verdict-relayer`, a small IBC
//! relayer between two Verdict chains.

use std::path::PathBuf;

use clap::Subcommand;
use serde_json::json;
use verdict_client::keyring::Keyring;
use verdict_relayer::endpoint::Endpoint;
use verdict_relayer::path::PathFile;
use verdict_relayer::status;

#[derive(Subcommand)]
pub enum RelayerCmd {
    /// Create clients on both chains, open a connection and an `inference`
    /// channel between them, and write the ids to the path file.
    Link {
        /// RPC address of a node of chain A (the side that initiates).
        #[arg(long)]
        a_node: String,
        /// RPC address of a node of chain B.
        #[arg(long)]
        b_node: String,
        /// Key that signs on both chains (it needs fees on each).
        #[arg(long)]
        from: String,
        /// Where to write the path (JSON).
        #[arg(long)]
        path_file: PathBuf,
    },
    /// Relay packets, acknowledgements and timeouts on a linked path.
    Start {
        #[arg(long)]
        path_file: PathBuf,
        /// Signing key (default: the one `link` used).
        #[arg(long)]
        from: Option<String>,
        /// One pass over both chains, then exit.
        #[arg(long)]
        once: bool,
        /// Seconds between passes.
        #[arg(long, default_value_t = 1.0)]
        interval: f64,
    },
    /// The path's clients, connection and channel as each chain reports them
    /// (through the ibc.core query services), proofs checked.
    Status {
        #[arg(long)]
        path_file: PathBuf,
    },
}

pub fn run(cmd: RelayerCmd, kr: &Keyring) -> anyhow::Result<()> {
    match cmd {
        RelayerCmd::Link {
            a_node,
            b_node,
            from,
            path_file,
        } => {
            let a = Endpoint::connect(&a_node)?;
            let b = Endpoint::connect(&b_node)?;
            let (path, txs) = verdict_relayer::link(&a, &b, kr, &from)?;
            path.save(&path_file)?;
            println!(
                "{}",
                json!({"a": {"chain_id": path.a.chain_id, "client_id": path.a.client_id,
                         "connection_id": path.a.connection_id, "channel_id": path.a.channel_id},
                       "b": {"chain_id": path.b.chain_id, "client_id": path.b.client_id,
                         "connection_id": path.b.connection_id, "channel_id": path.b.channel_id},
                       "txs": txs})
            );
            Ok(())
        }
        RelayerCmd::Start {
            path_file,
            from,
            once,
            interval,
        } => verdict_relayer::start(&path_file, from, once, interval, kr),
        RelayerCmd::Status { path_file } => {
            let path = PathFile::load(&path_file)?;
            let v = json!({
                "a": status::of_end(&Endpoint::connect(&path.a.node)?, &path.a)?,
                "b": status::of_end(&Endpoint::connect(&path.b.node)?, &path.b)?,
            });
            println!("{v}");
            Ok(())
        }
    }
}
