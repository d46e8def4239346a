//! The records the attestation tables hold (`keys`), with no storage access.

use serde::{Deserialize, Serialize};

/// Attestation liveness of one validator address: a ring of its last
/// `missed_window` entries (`seats` ever written, `missed` set now).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttInfo {
    pub seats: u64,
    pub missed: u64,
}
