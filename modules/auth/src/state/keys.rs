//! Every table of the auth module: the only place that names one of its
//! storage namespaces (`auth/…`). Other crates go through
//! [`Accounts`](super::Accounts).

use cw_storage_plus::{Item, Map};

use super::Account;
use crate::params::AuthParams;

pub(crate) const ACCOUNTS: Map<&[u8], Account> = Map::new("auth/accounts");
pub(crate) const NEXT_NUMBER: Item<u64> = Item::new("auth/next_number");
pub(crate) const PARAMS: Item<AuthParams> = Item::new("auth/params");

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
            ("ACCOUNTS", ns(ACCOUNTS.namespace_bytes())),
            ("NEXT_NUMBER", ns(NEXT_NUMBER.as_slice())),
            ("PARAMS", ns(PARAMS.as_slice())),
        ];
        let got: Vec<(&str, &str)> = got.iter().map(|(n, k)| (*n, k.as_str())).collect();
        assert_eq!(
            got,
            [
                ("ACCOUNTS", "auth/accounts"),
                ("NEXT_NUMBER", "auth/next_number"),
                ("PARAMS", "auth/params"),
            ]
        );
    }
}
