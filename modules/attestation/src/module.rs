//! attestation as a [`Module`]: commitments and reveals from the injected vote
//! extensions, and every job settled — result, payment, slashes — in the block
//! that closes it.

use std::convert::Infallible;

use cosmwasm_std::Storage;
use verdict_core::ctx::Ctx;
use verdict_core::event::Event;
use verdict_core::module::{Any, Block, EndBlock, HookError, Module, NoGenesis};
use verdict_proto::app::v1::VoteExtension;

pub struct Attestation;

fn process(
    s: &mut dyn Storage,
    b: &Block<'_>,
    votes: &[([u8; 20], VoteExtension)],
) -> Result<Vec<Event>, HookError> {
    let now_ms = verdict_inference::handler::block_time_ms(b.info.time_seconds, b.info.time_nanos);
    crate::settle::process_block(s, b.info.height, b.info.time_seconds, now_ms, votes)
        .map_err(|e| HookError::new(Attestation::NAME, "settlement", e))
}

impl Module for Attestation {
    const NAME: &'static str = "attestation";
    type Genesis = NoGenesis;
    type Msg = Infallible;
    type Error = Infallible;

    /// No genesis section: its state starts empty and has no genesis form.
    fn export_genesis(_s: &dyn Storage) -> Result<NoGenesis, HookError> {
        Ok(NoGenesis {})
    }

    fn execute(_ctx: &mut Ctx<'_>, msg: &Infallible) -> Result<Any, Infallible> {
        match *msg {}
    }

    /// With the previous height's extensions in tx[0]: their commitments and
    /// reveals, then settlement, before any user transaction.
    fn begin_block(s: &mut dyn Storage, b: &Block<'_>) -> Result<Vec<Event>, HookError> {
        match b.extensions {
            Some(x) => process(s, b, &x.votes),
            None => Ok(vec![]),
        }
    }

    /// Without extensions in this block (none expected, or tx[0] did not
    /// decode) jobs whose window closed still settle.
    fn end_block(s: &mut dyn Storage, b: &Block<'_>) -> Result<EndBlock, HookError> {
        match b.extensions {
            Some(_) => Ok(EndBlock::default()),
            None => Ok(process(s, b, &[])?.into()),
        }
    }
}
