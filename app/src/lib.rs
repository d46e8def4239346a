//! Verdict's ABCI application: the store, the block pipeline and the vote-extension
//! plumbing that CometBFT drives.

pub mod app;
pub mod attestor;
pub mod error;
pub mod genesis;
pub mod grpc;
pub mod msgs;
pub mod params;
pub mod query;
pub mod rewards;
pub mod state;
pub mod store;
pub mod tx;
pub mod txbuild;
pub mod vote_ext;

pub use app::VerdictApp;
