//! `verdict-client`: what a client of a Verdict chain needs, without linking the
//! node (no store, no ABCI server, no sidecar).
//!
//! - [`txbuild`]: building and signing transactions (re-exported by the node as
//!   `verdict_app::txbuild`);
//! - [`proof`]: checking the ICS-23 proofs of `/store/key` queries (re-exported
//!   as `verdict_app::store::verify_proof`);
//! - feature `rpc`: a CometBFT JSON-RPC client ([`rpc`]), gRPC-path queries
//!   ([`query`]), tx submission ([`tx`]) and CometBFT's tx replies as types
//!   ([`response`]);
//! - feature `keyring`: the CLI's file keyring ([`keyring`]).

pub mod proof;
pub mod txbuild;

#[cfg(feature = "keyring")]
pub mod keyring;
#[cfg(feature = "rpc")]
pub mod query;
#[cfg(feature = "rpc")]
pub mod response;
#[cfg(feature = "rpc")]
pub mod rpc;
#[cfg(feature = "rpc")]
pub mod tx;
