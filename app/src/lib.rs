//! Verdict's ABCI application: the store, the block pipeline and the vote-extension
//! plumbing that CometBFT drives.

pub mod store;
