//! The app's [`MsgRouter`]: how a module that carries other modules' messages
//! (the interchain-accounts host) runs them, with the checks a transaction's
//! messages get: decoded by their module, signed by the account that runs
//! them, paying no module account. IBC core messages and the inference
//! application's remote requests are refused whatever the caller allows: they
//! would nest IBC handling inside IBC handling.

use cosmrs::Any;
use verdict_core::address::Addr;
use verdict_core::codes;
use verdict_core::ctx::{Ctx, MsgRouter, RouteError};
use verdict_core::event::Event;

use super::env::blocked_recipient;
use crate::modules::Msg;

/// The router over every module of the app.
pub struct AppRouter;

impl MsgRouter for AppRouter {
    fn blocked_recipients(&self) -> fn(&Addr) -> bool {
        blocked_recipient
    }

    fn route(&self, ctx: &mut Ctx<'_>, any: &Any, signer: &Addr) -> Result<Any, RouteError> {
        // IBC core messages are a relayer's, never an account's: run from here
        // they would nest packet handling in packet handling without bound.
        if any.type_url.starts_with("/ibc.core.")
            || any.type_url.starts_with("/verdict.inference.v1.Msg")
                && any.type_url.ends_with("Remote")
        {
            return Err(RouteError {
                code: codes::UNAUTHORIZED,
                log: format!(
                    "{} cannot be run from another message (only a transaction): unauthorized",
                    any.type_url
                ),
            });
        }
        let m = Msg::decode(any).map_err(|f| RouteError {
            code: f.code,
            log: f.log,
        })?;
        if m.signer() != *signer {
            return Err(RouteError {
                code: codes::UNAUTHORIZED,
                log: format!(
                    "{} must be signed by {}, not {}: unauthorized",
                    any.type_url,
                    m.signer(),
                    signer
                ),
            });
        }
        if let Some(to) = m.recipients().into_iter().find(blocked_recipient) {
            return Err(RouteError {
                code: codes::UNAUTHORIZED,
                log: format!(
                    "{to} is a module account and is not allowed to receive funds: unauthorized"
                ),
            });
        }
        ctx.emit(
            Event::new("message")
                .attr("action", m.type_url())
                .attr("sender", m.signer())
                .attr("module", m.module()),
        );
        m.execute(ctx).map_err(|f| RouteError {
            code: f.code,
            log: f.log,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cosmwasm_std::testing::MockStorage;
    use verdict_core::ctx::BlockInfo;
    use verdict_core::gas::GasMeter;

    /// Security review of issue 20, finding 2: run from an interchain
    /// account, a MsgRecvPacket would nest packet handling without bound.
    #[test]
    fn ibc_core_and_remote_request_messages_are_never_routed() {
        let mut s = MockStorage::new();
        let gas = GasMeter::new(1_000_000);
        let mut events = Vec::new();
        let block = BlockInfo::default();
        let mut ctx = Ctx {
            store: &mut s,
            gas: &gas,
            events: &mut events,
            block: &block,
            router: Some(&AppRouter),
        };
        for url in [
            "/ibc.core.channel.v1.MsgRecvPacket",
            "/ibc.core.client.v1.MsgUpdateClient",
            "/verdict.inference.v1.MsgRequestRemote",
        ] {
            let any = Any {
                type_url: url.into(),
                value: vec![],
            };
            let e = AppRouter
                .route(&mut ctx, &any, &Addr([1; 20]))
                .expect_err(url);
            assert_eq!(e.code, codes::UNAUTHORIZED, "{url}: {}", e.log);
        }
    }
}
