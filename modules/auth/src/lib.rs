//! Module auth: accounts with number, sequence and public key, as
//! `cosmos.auth.v1beta1.BaseAccount`. Owns keys under `auth/`. Calls nothing.
//!
//! # Invariants
//! - Account numbers are assigned once, in creation order, from `auth/next_number`.
//! - A sequence only ever increases, by one per signed transaction.
//! - A stored public key always hashes to its account's address.

pub mod error;
pub mod genesis;
pub mod module;
pub mod params;
pub mod query;
pub mod state;

pub use error::AuthError;
pub use module::{fee_collector, Auth};
pub use state::{Account, Accounts};
