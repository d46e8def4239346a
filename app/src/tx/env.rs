//! What every stage of the pipeline shares: the mode it runs in and the
//! accounts no message may pay into.

use std::sync::OnceLock;

use verdict_core::address::Addr;

/// Module accounts whose balances other state must match (the SDK's blocked
/// addresses): users cannot send to them. Every module's accounts, from the
/// module list.
pub fn blocked_recipient(a: &Addr) -> bool {
    static BLOCKED: OnceLock<Vec<Addr>> = OnceLock::new();
    BLOCKED
        .get_or_init(crate::modules::module_accounts)
        .contains(a)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Check,
    ReCheck,
    Deliver,
    Simulate,
    /// Gentxs at InitChain: like Deliver, but no minimum fee (the SDK runs them
    /// with a zero gas price).
    Genesis,
}
