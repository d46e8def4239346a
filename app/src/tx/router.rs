//! The app's [`MsgRouter`]: how a module that carries other modules' messages
//! (the interchain-accounts host) runs them, with the checks a transaction's
//! messages get: decoded by their module, signed by the account that runs
//! them, paying no module account.

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
    fn route(&self, ctx: &mut Ctx<'_>, any: &Any, signer: &Addr) -> Result<Any, RouteError> {
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
