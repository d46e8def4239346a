//! The interchain-accounts host's tables and params (in the app tree).

use cw_storage_plus::{Item, Map};
use serde::{Deserialize, Serialize};

/// (host connection, controller port) → the interchain account's 20 bytes.
pub(crate) const ACCOUNTS: Map<(&str, &str), Vec<u8>> = Map::new("ibc_ica_host/accounts");
/// (host connection, controller port) → the channel that account listens on.
pub(crate) const ACTIVE: Map<(&str, &str), String> = Map::new("ibc_ica_host/active");
/// Channel in TRYOPEN → (host connection, controller port), until confirmed.
pub(crate) const PENDING: Map<&str, (String, String)> = Map::new("ibc_ica_host/pending");
/// The host's params, when genesis set them (else [`IcaHostParams::default`]).
pub(crate) const PARAMS: Item<IcaHostParams> = Item::new("ibc_ica_host/params");

/// ibc-go's host params: whether the host runs transactions at all, and the
/// message types it runs (`*`: any).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IcaHostParams {
    pub host_enabled: bool,
    pub allow_messages: Vec<String>,
}

impl Default for IcaHostParams {
    /// Jobs, payments, staking and transfers; nothing that administers the
    /// chain.
    fn default() -> Self {
        IcaHostParams {
            host_enabled: true,
            allow_messages: [
                "/verdict.inference.v1.MsgSubmitJob",
                "/cosmos.bank.v1beta1.MsgSend",
                "/cosmos.staking.v1beta1.MsgDelegate",
                "/cosmos.staking.v1beta1.MsgUndelegate",
                "/cosmos.staking.v1beta1.MsgBeginRedelegate",
                "/cosmos.distribution.v1beta1.MsgWithdrawDelegatorReward",
                "/ibc.applications.transfer.v1.MsgTransfer",
            ]
            .map(String::from)
            .to_vec(),
        }
    }
}

impl IcaHostParams {
    pub fn allows(&self, type_url: &str) -> bool {
        self.allow_messages
            .iter()
            .any(|m| m == "*" || m == type_url)
    }

    pub fn validate(&self) -> Result<(), String> {
        for m in &self.allow_messages {
            if m != "*" && !m.starts_with('/') {
                return Err(format!(
                    "ica_host.allow_messages: {m:?} is neither \"*\" nor a type URL"
                ));
            }
        }
        Ok(())
    }
}

pub fn params(s: &dyn cosmwasm_std::Storage) -> IcaHostParams {
    PARAMS.may_load(s).ok().flatten().unwrap_or_default()
}
