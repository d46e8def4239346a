//! Every table of the slashing module: the only place that names one of its
//! storage namespaces (`slashing/…`). Other crates go through the crate's
//! functions ([`crate::params`], [`crate::handle_commit`], …).

use cw_storage_plus::{Item, Map};

use super::SigningInfo;
use crate::params::SlashingParams;

pub(crate) const PARAMS: Item<SlashingParams> = Item::new("slashing/params");
/// Consensus address → signing info.
pub(crate) const SIGNING_INFO: Map<&[u8], SigningInfo> = Map::new("slashing/info");
/// (consensus address, index in window) present = missed.
pub(crate) const MISSED: Map<(&[u8], u64), ()> = Map::new("slashing/missed");

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// The storage layout, written out: a change to any namespace (a migration,
    /// a new app hash for the same history) must be a deliberate edit here.
    #[test]
    fn state_layout() {
        let ns = |b: &[u8]| String::from_utf8(b.to_vec()).unwrap();
        let got = [
            ("PARAMS", ns(PARAMS.as_slice())),
            ("SIGNING_INFO", ns(SIGNING_INFO.namespace_bytes())),
            ("MISSED", ns(MISSED.namespace_bytes())),
        ];
        let got: Vec<(&str, &str)> = got.iter().map(|(n, k)| (*n, k.as_str())).collect();
        assert_eq!(
            got,
            [
                ("PARAMS", "slashing/params"),
                ("SIGNING_INFO", "slashing/info"),
                ("MISSED", "slashing/missed"),
            ]
        );
    }
}
