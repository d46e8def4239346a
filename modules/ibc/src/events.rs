//! ibc-rs events as this chain's indexed events.

use ibc::core::handler::types::events::IbcEvent;
use verdict_core::event::Event;

use crate::error::EventError;

/// Appends `events` to `out` as this chain's events, attributes in order.
pub(crate) fn convert_events(
    events: Vec<IbcEvent>,
    out: &mut Vec<Event>,
) -> Result<(), EventError> {
    for ev in events {
        let abci = tendermint::abci::Event::try_from(ev).map_err(|e| EventError(e.to_string()))?;
        let mut e = Event::new(&abci.kind);
        for a in &abci.attributes {
            e = e.attr(
                &String::from_utf8_lossy(a.key_bytes()),
                String::from_utf8_lossy(a.value_bytes()),
            );
        }
        out.push(e);
    }
    Ok(())
}
