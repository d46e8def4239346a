//! Every table of the attestation module: the only place that names one of its
//! storage namespaces (`attestation/…`). Other crates read them through
//! [`crate::settle::att_info`] and [`crate::settle::paid`].

use cosmwasm_std::Uint128;
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
        ];
        let got: Vec<(&str, &str)> = layout.iter().map(|(n, k)| (*n, k.as_str())).collect();
        assert_eq!(
            got,
            vec![
                ("ATT_INFO", "attestation/info"),
                ("ATT_MISSED", "attestation/missed"),
                ("PAID", "attestation/paid"),
                ("RECENT_JAILS", "attestation/recent_jails"),
            ]
        );
        // Every table of this file is in the list above, and no other source
        // file of the crate declares one.
        let decls = |src: &str| {
            src.matches(concat!("= Item", "::new(\"")).count()
                + src.matches(concat!("= Map", "::new(\"")).count()
        };
        assert_eq!(decls(include_str!("keys.rs")), layout.len());
        let src = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
        for path in rust_files(std::path::Path::new(src)) {
            if path.ends_with("src/keys.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            assert_eq!(decls(&text), 0, "a table outside keys.rs: {path:?}");
        }
    }

    fn rust_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                out.extend(rust_files(&p));
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
        out
    }
}
