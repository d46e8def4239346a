//! Deterministic gas: the Cosmos SDK's KV gas schedule, charged by a metered
//! storage view, plus per-byte and per-signature costs in the ante handler.

use std::cell::Cell;

/// The SDK's `KVGasConfig` and auth params defaults.
pub mod cost {
    pub const HAS: u64 = 1000;
    pub const DELETE: u64 = 1000;
    pub const READ_FLAT: u64 = 1000;
    pub const READ_PER_BYTE: u64 = 3;
    pub const WRITE_FLAT: u64 = 2000;
    pub const WRITE_PER_BYTE: u64 = 30;
    pub const ITER_NEXT_FLAT: u64 = 30;
    pub const TX_SIZE_PER_BYTE: u64 = 10;
    pub const SIG_VERIFY_SECP256K1: u64 = 1000;
}

/// Gas used against a limit. Interior mutability so that the metered storage and
/// the handler can both charge it. Once the limit is crossed it stays crossed, and
/// the transaction's writes are discarded by the caller.
#[derive(Debug)]
pub struct GasMeter {
    limit: u64,
    used: Cell<u64>,
    exceeded_at: Cell<Option<&'static str>>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("out of gas in location: {location}; gasWanted: {limit}, gasUsed: {used}")]
pub struct OutOfGas {
    pub location: &'static str,
    pub limit: u64,
    pub used: u64,
}

impl crate::AbciError for OutOfGas {
    fn code(&self) -> u32 {
        crate::codes::OUT_OF_GAS
    }
}

impl GasMeter {
    pub fn new(limit: u64) -> Self {
        GasMeter {
            limit,
            used: Cell::new(0),
            exceeded_at: Cell::new(None),
        }
    }

    /// A meter without a limit (genesis, queries).
    pub fn infinite() -> Self {
        Self::new(u64::MAX)
    }

    pub fn limit(&self) -> u64 {
        self.limit
    }

    pub fn used(&self) -> u64 {
        self.used.get()
    }

    /// Adds `amount`; the first crossing of the limit is recorded, and once
    /// crossed nothing more is added (the work it would pay for is not done,
    /// see `Metered`), so `used` ends at most one charge past the limit.
    pub fn consume(&self, amount: u64, location: &'static str) -> Result<(), OutOfGas> {
        self.check()?;
        let used = self.used.get().saturating_add(amount);
        self.used.set(used);
        if used > self.limit && self.exceeded_at.get().is_none() {
            self.exceeded_at.set(Some(location));
        }
        self.check()
    }

    pub fn check(&self) -> Result<(), OutOfGas> {
        match self.exceeded_at.get() {
            None => Ok(()),
            Some(location) => Err(OutOfGas {
                location,
                limit: self.limit,
                used: self.used.get(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crossing_the_limit_sticks() {
        let m = GasMeter::new(10);
        assert!(m.consume(10, "a").is_ok());
        let e = m.consume(1, "b").expect_err("over");
        assert_eq!(e.location, "b");
        assert!(m.consume(0, "c").is_err());
        assert_eq!(m.check().expect_err("over").location, "b");
    }
}
