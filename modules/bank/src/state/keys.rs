//! Every table of the bank module: the only place that names one of its
//! storage namespaces (`bank/…`). Other crates go through [`Bank`](super::Bank).

use cosmwasm_std::Uint128;
use cw_storage_plus::Map;

/// (address, denom) → balance; a zero balance is never stored.
pub(crate) const BALANCES: Map<(&[u8], &str), Uint128> = Map::new("bank/balances");
/// Denom → total supply.
pub(crate) const SUPPLY: Map<&str, Uint128> = Map::new("bank/supply");

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
            ("BALANCES", ns(BALANCES.namespace_bytes())),
            ("SUPPLY", ns(SUPPLY.namespace_bytes())),
        ];
        let got: Vec<(&str, &str)> = got.iter().map(|(n, k)| (*n, k.as_str())).collect();
        assert_eq!(
            got,
            [("BALANCES", "bank/balances"), ("SUPPLY", "bank/supply")]
        );
    }
}
