//! What a message handler is given.

use cosmrs::Any;
use cosmwasm_std::Storage;

use crate::address::Addr;
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
    /// Runs messages of any module for a module that carries them (an
    /// interchain account's transaction); `None` where none may be run.
    pub router: Option<&'a dyn MsgRouter>,
}

/// Why a routed message did not run: an ABCI code and a log, as a tx's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteError {
    pub code: u32,
    pub log: String,
}

/// The app's message router, lent to modules through [`Ctx::router`].
pub trait MsgRouter {
    /// Decodes `any` in its module, checks that `signer` is the account that
    /// must sign it and that it pays no module account, and runs it on `ctx`.
    /// On an error the caller drops what it wrote.
    fn route(&self, ctx: &mut Ctx<'_>, any: &Any, signer: &Addr) -> Result<Any, RouteError>;

    /// Whether `a` may not receive funds (a module account: its balance is
    /// another book's invariant), for modules that credit accounts outsiders
    /// name (an IBC transfer's receiver).
    fn blocked_recipients(&self) -> fn(&Addr) -> bool;
}

impl Ctx<'_> {
    pub fn emit(&mut self, e: Event) {
        self.events.push(e);
    }
}
