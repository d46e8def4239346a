//! The app's modules, listed once and in order.
//!
//! Everything that must know every module derives from the list at the bottom
//! of this file: the [`Msg`] enum with its decoding and dispatch, the
//! [`AppGenesis`] struct with one section per module, the query route table,
//! the module accounts users cannot pay into, the invariants, and the begin-
//! and end-block phases. Adding a module is one line here.
//!
//! The order is consensus, and it is the one order that satisfies every
//! dependency between modules:
//! - genesis: auth's accounts (and the fee collector) are numbered before
//!   bank's, which come before inference's escrow;
//! - begin block: slashing (liveness, evidence) before distribution (fees to
//!   the signers of the previous block) before attestation (commitments,
//!   reveals and settlement from tx[0], which may slash);
//! - end block: attestation (settlement when tx[0] carried no extensions)
//!   before inference (committees for the previous block's jobs, drawn from
//!   the validators settlement left unjailed) before ibc (acknowledgements of
//!   the jobs that settled or expired) before staking (matured unbondings and
//!   the new validator set, last, so it reflects every jailing of the block).

use serde::{Deserialize, Serialize};

use crate::params::AppParams;

/// What the `modules!` expansion names, wherever it is expanded.
#[doc(hidden)]
pub mod reexport {
    pub use verdict_core::address::Addr;
    pub use verdict_core::codes;
    pub use verdict_core::ctx::Ctx;
    pub use verdict_core::event::Event;
    pub use verdict_core::module::{Any, Block, EndBlock, HookError, Module, ModuleMsg, Route};
}

/// The app's own genesis section (`app_state.app`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppSection {
    #[serde(default)]
    pub params: AppParams,
}

/// Derives, from an ordered list of `Variant(field): ModuleType`, everything
/// that must know every module (see the module docs). Exported so a test can
/// compose an app with one more module (`app/tests/modules.rs`).
#[macro_export]
macro_rules! modules {
    ($($variant:ident($field:ident): $m:ty),* $(,)?) => {
        /// Every message the chain accepts: one variant per module.
        #[derive(Debug, Clone, PartialEq)]
        pub enum Msg {
            $($variant(<$m as $crate::modules::reexport::Module>::Msg),)*
        }

        impl Msg {
            /// Decodes a tx message by asking each module in turn.
            pub fn decode(any: &$crate::modules::reexport::Any) -> Result<Msg, $crate::error::TxFail> {
                $(
                    if let Some(m) = <$m as $crate::modules::reexport::Module>::decode_msg(any)? {
                        return Ok(Msg::$variant(m));
                    }
                )*
                Err($crate::error::TxFail::new(
                    $crate::modules::reexport::codes::UNKNOWN_REQUEST,
                    format!("unrecognized message type {:?}: unknown request", any.type_url),
                ))
            }

            /// The account that must sign (a validator operator signs with the
            /// account key of the same 20 bytes).
            pub fn signer(&self) -> $crate::modules::reexport::Addr {
                match self {
                    $(Msg::$variant(m) => $crate::modules::reexport::ModuleMsg::signer(m),)*
                }
            }

            pub fn type_url(&self) -> &str {
                match self {
                    $(Msg::$variant(m) => $crate::modules::reexport::ModuleMsg::type_url(m),)*
                }
            }

            /// Accounts this message pays into (checked against module accounts).
            pub fn recipients(&self) -> Vec<$crate::modules::reexport::Addr> {
                match self {
                    $(Msg::$variant(m) => $crate::modules::reexport::ModuleMsg::recipients(m),)*
                }
            }

            /// The module that runs it (the `module` attribute of its event).
            pub fn module(&self) -> &'static str {
                match self {
                    $(Msg::$variant(_) => <$m as $crate::modules::reexport::Module>::NAME,)*
                }
            }

            /// Runs the message in its module.
            pub fn execute(
                &self,
                ctx: &mut $crate::modules::reexport::Ctx<'_>,
            ) -> Result<$crate::modules::reexport::Any, $crate::error::TxFail> {
                match self {
                    $(Msg::$variant(m) => <$m as $crate::modules::reexport::Module>::execute(ctx, m).map_err($crate::error::TxFail::from),)*
                }
            }
        }

        /// Genesis `app_state`: the JSON object CometBFT passes to InitChain,
        /// one section per module. An unknown section or field is an error,
        /// so a typo in a genesis file stops the node instead of silently
        /// using a default.
        #[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct AppGenesis {
            #[serde(default)]
            pub app: $crate::modules::AppSection,
            /// The whole state of an exported chain (`verdictd export`); the
            /// module sections are then empty.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub exported: Option<$crate::export::ExportedState>,
            $(
                #[serde(default)]
                pub $field: <$m as $crate::modules::reexport::Module>::Genesis,
            )*
        }

        /// Names of the modules, in order.
        pub const MODULES: &[&str] = &[$(<$m as $crate::modules::reexport::Module>::NAME,)*];

        /// Every module's genesis checks, in order.
        pub fn validate_genesis(g: &AppGenesis) -> Result<(), String> {
            $(<$m as $crate::modules::reexport::Module>::validate_genesis(&g.$field)?;)*
            Ok(())
        }

        /// Every module's genesis section into state, in order.
        pub fn init_genesis(
            s: &mut dyn cosmwasm_std::Storage,
            g: &AppGenesis,
        ) -> Result<(), $crate::modules::reexport::HookError> {
            $(<$m as $crate::modules::reexport::Module>::init_genesis(s, &g.$field)?;)*
            Ok(())
        }

        /// Every module's state as its genesis section.
        pub fn export_genesis(
            s: &dyn cosmwasm_std::Storage,
            app: $crate::modules::AppSection,
        ) -> Result<AppGenesis, $crate::modules::reexport::HookError> {
            Ok(AppGenesis {
                app,
                exported: None,
                $($field: <$m as $crate::modules::reexport::Module>::export_genesis(s)?,)*
            })
        }

        /// Module accounts: balances other state must match (the SDK's
        /// blocked addresses), so users cannot send to them.
        pub fn module_accounts() -> Vec<$crate::modules::reexport::Addr> {
            let mut v = Vec::new();
            $(v.extend(<$m as $crate::modules::reexport::Module>::module_accounts());)*
            v
        }

        /// Every module's books, in order; the first broken one is reported.
        pub fn check_invariants(s: &dyn cosmwasm_std::Storage) -> Result<(), String> {
            $(
                <$m as $crate::modules::reexport::Module>::check_invariants(s)
                    .map_err(|e| format!("{}: {e}", <$m as $crate::modules::reexport::Module>::NAME))?;
            )*
            Ok(())
        }

        /// Every module's query routes.
        pub fn routes() -> Vec<$crate::modules::reexport::Route> {
            let mut v = Vec::new();
            $(v.extend_from_slice(<$m as $crate::modules::reexport::Module>::routes());)*
            v
        }

        /// Begin block: each module's hook in order.
        pub fn begin_block(
            s: &mut dyn cosmwasm_std::Storage,
            b: &$crate::modules::reexport::Block<'_>,
        ) -> Result<Vec<$crate::modules::reexport::Event>, $crate::modules::reexport::HookError> {
            let mut events = Vec::new();
            $(events.extend(<$m as $crate::modules::reexport::Module>::begin_block(s, b)?);)*
            Ok(events)
        }

        /// End block: each module's hook in order.
        pub fn end_block(
            s: &mut dyn cosmwasm_std::Storage,
            b: &$crate::modules::reexport::Block<'_>,
        ) -> Result<$crate::modules::reexport::EndBlock, $crate::modules::reexport::HookError> {
            let mut out = $crate::modules::reexport::EndBlock::default();
            $(
                let part = <$m as $crate::modules::reexport::Module>::end_block(s, b)?;
                out.events.extend(part.events);
                out.validator_updates.extend(part.validator_updates);
            )*
            Ok(out)
        }
    };
}

crate::modules! {
    Auth(auth): verdict_auth::Auth,
    Bank(bank): verdict_bank::BankModule,
    Slashing(slashing): verdict_slashing::Slashing,
    Distribution(distribution): verdict_distribution::Distribution,
    Attestation(attestation): verdict_attestation::Attestation,
    Inference(inference): verdict_inference::Inference,
    Ibc(ibc): verdict_ibc::Ibc,
    Staking(staking): verdict_staking::Staking,
}

#[cfg(test)]
mod tests {
    use cosmwasm_std::testing::MockStorage;
    use verdict_core::address::Addr;

    use super::*;

    /// Export gives a genesis that starts a chain with the same accounts
    /// (same numbers), balances and params; exporting that chain again gives
    /// the same genesis.
    #[test]
    fn an_exported_genesis_starts_the_same_state_and_exports_itself() {
        let (a, b) = (Addr([1; 20]).bech32(), Addr([2; 20]).bech32());
        let g: AppGenesis = serde_json::from_str(&format!(
            r#"{{"auth":{{"accounts":["{a}"]}},
                "bank":{{"balances":[{{"address":"{a}","coins":"5uverd"}},
                                     {{"address":"{b}","coins":"7uverd"}}]}},
                "slashing":{{"params":{{"signed_blocks_window":50}}}},
                "inference":{{"params":{{"committee_size":5}}}}}}"#
        ))
        .expect("genesis");
        let mut s = MockStorage::new();
        init_genesis(&mut s, &g).expect("init");
        let out = export_genesis(&s, AppSection::default()).expect("export");
        assert_eq!(out.bank, g.bank);
        assert_eq!(out.slashing, g.slashing);
        assert_eq!(out.inference, g.inference);
        // The genesis account first, then the module accounts init created.
        assert_eq!(out.auth.accounts[0], g.auth.accounts[0]);
        assert!(out
            .auth
            .accounts
            .contains(&verdict_auth::fee_collector().bech32()));
        let mut again = MockStorage::new();
        init_genesis(&mut again, &out).expect("init from export");
        assert_eq!(
            export_genesis(&again, AppSection::default()).expect("export"),
            out
        );
    }
}
