//! The commands, one module per area. Each takes the [`Ctx`] of the run.

pub mod bank;
pub mod distribution;
pub mod ibc;
pub mod inference;
pub mod keys;
pub mod query;
pub mod staking;
pub mod transfer;

pub use crate::ctx::{resolve_addr, Ctx};
