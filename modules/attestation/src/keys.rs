//! Every table of the attestation module: the only place that names one of its
//! storage namespaces (`attestation/…`). Other crates read them through
//! [`crate::settle::att_info`] and [`crate::settle::paid`].

use cosmwasm_std::{Decimal, Uint128};
use cw_storage_plus::{Item, Map};

use crate::types::AttInfo;

/// Attestation liveness per validator address: a ring of its last
/// `missed_window` blocks with seats in settled jobs.
pub(crate) const ATT_INFO: Map<&[u8], AttInfo> = Map::new("attestation/info");
/// The missed entries of that ring, by (address, index).
pub(crate) const ATT_MISSED: Map<(&[u8], u64), ()> = Map::new("attestation/missed");
/// Total paid to validators for completed jobs (for the supply books and queries).
pub(crate) const PAID: Item<Uint128> = Item::new("attestation/paid");
/// Power jailed by inference faults at recent heights (`fault_cap_window_blocks`).
pub(crate) const RECENT_JAILS: Item<Vec<(u64, u64)>> = Item::new("attestation/recent_jails");
/// Per validator (consensus address): the fractions inference slashes took
/// from it at recent heights (`fault_cap_window_blocks`), against
/// `validator_slash_cap`. Entries older than the window are dropped when the
/// validator is next slashed (one small record per validator ever slashed).
pub(crate) const VAL_SLASHES: Map<&[u8], Vec<(u64, Decimal)>> = Map::new("attestation/val_slashes");

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::arithmetic_side_effects)]
    use super::*;

    /// The storage layout, written out: a change to any namespace (a migration,
    /// a new app hash for the same history) must be a deliberate edit here.
    #[test]
    fn key_layout_snapshot() {
        let ns = |b: &[u8]| String::from_utf8(b.to_vec()).unwrap();
        let layout: Vec<(&str, String)> = vec![
            ("ATT_INFO", ns(ATT_INFO.namespace_bytes())),
            ("ATT_MISSED", ns(ATT_MISSED.namespace_bytes())),
            ("PAID", ns(PAID.as_slice())),
            ("RECENT_JAILS", ns(RECENT_JAILS.as_slice())),
            ("VAL_SLASHES", ns(VAL_SLASHES.namespace_bytes())),
        ];
        let got: Vec<(&str, &str)> = layout.iter().map(|(n, k)| (*n, k.as_str())).collect();
        assert_eq!(
            got,
            vec![
                ("ATT_INFO", "attestation/info"),
                ("ATT_MISSED", "attestation/missed"),
                ("PAID", "attestation/paid"),
                ("RECENT_JAILS", "attestation/recent_jails"),
                ("VAL_SLASHES", "attestation/val_slashes"),
            ]
        );
        // Every table of this file is in the list above (no other file
        // declares one: scripts/arch/check.sh).
        let decls = |src: &str| {
            src.matches(concat!("= Item", "::new(\"")).count()
                + src.matches(concat!("= Map", "::new(\"")).count()
        };
        assert_eq!(decls(include_str!("keys.rs")), layout.len());
    }
}
