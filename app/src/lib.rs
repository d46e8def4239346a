//! Verdict's ABCI application: the store, the block pipeline and the vote-extension
//! plumbing that CometBFT drives.

pub mod abci_server;
pub mod app;
pub mod attestation_key;
pub mod attestor;
pub mod config;
pub mod error;
pub mod export;
mod finalize;
pub mod genesis;
pub mod grpc;
mod ibc_page;
mod init;
pub mod metrics;
pub mod modules;
pub mod node_rpc;
mod outcome;
pub mod params;
mod proposal;
pub mod query;
pub mod rest;
pub mod service;
pub mod snapshot;
pub mod state;
pub mod store;
pub mod tx;
pub use verdict_client::txbuild;
pub mod vote_ext;

pub use app::VerdictApp;
