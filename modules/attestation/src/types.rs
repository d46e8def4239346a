//! The records the attestation tables hold (`keys`), with no storage access.

use serde::{Deserialize, Serialize};

/// Attestation liveness of one validator address: a ring of its last
/// `missed_window` entries (`seats` ever written, `missed` set now).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttInfo {
    pub seats: u64,
    pub missed: u64,
    /// Blocks in a row in which an incident excused its lateness (issue 21
    /// §3); reset by a block in which it answered every seat. At most half
    /// the window is excused in a row: a validator that never answers is
    /// charged like any late one. Omitted when 0.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub excused: u64,
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}
