//! Chain-level parameters owned by the app itself (module params live in modules).

use serde::{Deserialize, Serialize};

/// # Invariants
/// - `max_vote_extension_bytes` > 0 and ≤ 64 KiB: CometBFT's QA saw rounds stall at
///   16–32 KiB per validator, so anything above 64 KiB is refused outright.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppParams {
    /// Hard cap on one validator's vote extension, checked before decoding.
    pub max_vote_extension_bytes: u32,
}

impl Default for AppParams {
    fn default() -> Self {
        AppParams {
            max_vote_extension_bytes: 2048,
        }
    }
}

impl AppParams {
    pub fn validate(&self) -> Result<(), String> {
        if self.max_vote_extension_bytes == 0 || self.max_vote_extension_bytes > 64 * 1024 {
            return Err(format!(
                "max_vote_extension_bytes must be in 1..=65536, got {}",
                self.max_vote_extension_bytes
            ));
        }
        Ok(())
    }
}
