//! What a message handler is given.

use cosmwasm_std::Storage;

use crate::event::Event;
use crate::gas::GasMeter;

/// Block facts from consensus data: never the wall clock.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlockInfo {
    pub height: u64,
    pub time_seconds: i64,
    pub time_nanos: i32,
    pub chain_id: String,
}

pub struct Ctx<'a> {
    /// Gas-metered view of the transaction's overlay.
    pub store: &'a mut dyn Storage,
    pub gas: &'a GasMeter,
    pub events: &'a mut Vec<Event>,
    pub block: &'a BlockInfo,
}

impl Ctx<'_> {
    pub fn emit(&mut self, e: Event) {
        self.events.push(e);
    }
}
