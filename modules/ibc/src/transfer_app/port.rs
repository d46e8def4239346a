//! The ICS-20 application as an ibc-rs [`Module`]: ibc-rs's transfer callbacks
//! over [`TokenCtx`]. Channels are unordered with version `ics20-1`; a
//! user-initiated close is refused (as ibc-go's transfer module does), a close
//! confirmed from the counterparty is accepted.

use ibc::apps::transfer::handler::process_recv_packet_execute;
use ibc::apps::transfer::module as ics20;
use ibc::apps::transfer::types::error::TokenTransferError;
use ibc::apps::transfer::types::events::RecvEvent;
use ibc::apps::transfer::types::packet::PacketData;
use ibc::core::channel::types::acknowledgement::Acknowledgement;
use ibc::core::channel::types::channel::{Counterparty, Order};
use ibc::core::channel::types::error::ChannelError;
use ibc::core::channel::types::packet::Packet;
use ibc::core::channel::types::Version;
use ibc::core::host::types::identifiers::{ChannelId, ConnectionId, PortId};
use ibc::core::router::module::Module;
use ibc::core::router::types::event::ModuleEvent;
use ibc::core::router::types::module::ModuleExtras;
use ibc::primitives::Signer;

use super::{TokenCtx, VERSION};
use crate::shared::SharedStore;

/// ICS-20 on one dispatch's shared store view.
pub struct TransferModule<'c, 's> {
    pub token: TokenCtx<SharedStore<'c, 's>>,
}

impl<'c, 's> TransferModule<'c, 's> {
    pub fn new(store: SharedStore<'c, 's>) -> Self {
        TransferModule {
            token: TokenCtx::new(store),
        }
    }
}

impl std::fmt::Debug for TransferModule<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransferModule").finish_non_exhaustive()
    }
}

fn ch(e: TokenTransferError) -> ChannelError {
    ChannelError::AppSpecific {
        description: e.to_string(),
    }
}

/// An ICS-20 acknowledgement, `{"result":…}` or `{"error":…}`, as JSON.
pub(crate) fn ack_json(key: &str, value: &str) -> Acknowledgement {
    let mut m = serde_json::Map::new();
    m.insert(
        key.to_string(),
        serde_json::Value::String(value.to_string()),
    );
    let bytes = serde_json::Value::Object(m).to_string().into_bytes();
    // Never empty: it is at least `{"":""}`.
    Acknowledgement::try_from(bytes).unwrap_or_else(|_| unreachable!("non-empty"))
}

/// ICS-20's error acknowledgement (ibc-go's form: the code only).
pub(crate) fn error_ack() -> Acknowledgement {
    ack_json(
        "error",
        &format!(
            "ABCI code: {}: error handling packet: see events for details",
            verdict_core::codes::INVALID_REQUEST
        ),
    )
}

/// The reason a received transfer failed, as an event.
fn failed(reason: &str) -> ModuleEvent {
    ModuleEvent {
        kind: "ics20_receive_failed".into(),
        attributes: vec![("error", reason).into()],
    }
}

fn version() -> Version {
    Version::new(VERSION.to_string())
}

impl Module for TransferModule<'_, '_> {
    fn on_chan_open_init_validate(
        &self,
        order: Order,
        hops: &[ConnectionId],
        port_id: &PortId,
        channel_id: &ChannelId,
        counterparty: &Counterparty,
        version_: &Version,
    ) -> Result<Version, ChannelError> {
        ics20::on_chan_open_init_validate(
            &self.token,
            order,
            hops,
            port_id,
            channel_id,
            counterparty,
            version_,
        )
        .map_err(ch)?;
        Ok(version())
    }

    fn on_chan_open_init_execute(
        &mut self,
        order: Order,
        hops: &[ConnectionId],
        port_id: &PortId,
        channel_id: &ChannelId,
        counterparty: &Counterparty,
        version_: &Version,
    ) -> Result<(ModuleExtras, Version), ChannelError> {
        ics20::on_chan_open_init_execute(
            &mut self.token,
            order,
            hops,
            port_id,
            channel_id,
            counterparty,
            version_,
        )
        .map_err(ch)
    }

    fn on_chan_open_try_validate(
        &self,
        order: Order,
        hops: &[ConnectionId],
        port_id: &PortId,
        channel_id: &ChannelId,
        counterparty: &Counterparty,
        counterparty_version: &Version,
    ) -> Result<Version, ChannelError> {
        ics20::on_chan_open_try_validate(
            &self.token,
            order,
            hops,
            port_id,
            channel_id,
            counterparty,
            counterparty_version,
        )
        .map_err(ch)?;
        Ok(version())
    }

    fn on_chan_open_try_execute(
        &mut self,
        order: Order,
        hops: &[ConnectionId],
        port_id: &PortId,
        channel_id: &ChannelId,
        counterparty: &Counterparty,
        counterparty_version: &Version,
    ) -> Result<(ModuleExtras, Version), ChannelError> {
        ics20::on_chan_open_try_execute(
            &mut self.token,
            order,
            hops,
            port_id,
            channel_id,
            counterparty,
            counterparty_version,
        )
        .map_err(ch)
    }

    fn on_chan_open_ack_validate(
        &self,
        port_id: &PortId,
        channel_id: &ChannelId,
        counterparty_version: &Version,
    ) -> Result<(), ChannelError> {
        ics20::on_chan_open_ack_validate(&self.token, port_id, channel_id, counterparty_version)
            .map_err(ch)
    }

    fn on_chan_close_init_validate(
        &self,
        port_id: &PortId,
        channel_id: &ChannelId,
    ) -> Result<(), ChannelError> {
        ics20::on_chan_close_init_validate(&self.token, port_id, channel_id).map_err(ch)
    }

    fn on_chan_close_init_execute(
        &mut self,
        port_id: &PortId,
        channel_id: &ChannelId,
    ) -> Result<ModuleExtras, ChannelError> {
        ics20::on_chan_close_init_execute(&mut self.token, port_id, channel_id).map_err(ch)
    }

    /// ibc-rs's receive, with the acknowledgement written here as ibc-go
    /// writes it: `{"result":"AQ=="}`, or on failure the code-only
    /// `{"error":"ABCI code: 18: error handling packet: see events for
    /// details"}` with the reason in an `ics20_receive_failed` event. (ibc-rs
    /// 0.57 puts the error's text in the acknowledgement unescaped: a quote in
    /// it made an acknowledgement no chain can parse, and its wording would be
    /// committed state.)
    fn on_recv_packet_execute(
        &mut self,
        packet: &Packet,
        _relayer: &Signer,
    ) -> (ModuleExtras, Option<Acknowledgement>) {
        let Ok(data) = serde_json::from_slice::<PacketData>(&packet.data) else {
            let mut extras = ModuleExtras::empty();
            extras
                .events
                .push(failed("cannot deserialize the ICS-20 packet data"));
            return (extras, Some(error_ack()));
        };
        let (mut extras, ack) =
            match process_recv_packet_execute(&mut self.token, packet, data.clone()) {
                Ok(extras) => (extras, ack_json("result", "AQ==")),
                Err((mut extras, e)) => {
                    extras.events.push(failed(&e.to_string()));
                    (extras, error_ack())
                }
            };
        extras.events.push(
            RecvEvent {
                sender: data.sender,
                receiver: data.receiver,
                denom: data.token.denom,
                amount: data.token.amount,
                memo: data.memo,
                success: ack.as_bytes().starts_with(b"{\"result\""),
            }
            .into(),
        );
        (extras, Some(ack))
    }

    fn on_acknowledgement_packet_validate(
        &self,
        packet: &Packet,
        ack: &Acknowledgement,
        relayer: &Signer,
    ) -> Result<(), ChannelError> {
        ics20::on_acknowledgement_packet_validate(&self.token, packet, ack, relayer).map_err(ch)
    }

    fn on_acknowledgement_packet_execute(
        &mut self,
        packet: &Packet,
        ack: &Acknowledgement,
        relayer: &Signer,
    ) -> (ModuleExtras, Result<(), ChannelError>) {
        let (extras, r) =
            ics20::on_acknowledgement_packet_execute(&mut self.token, packet, ack, relayer);
        (extras, r.map_err(ch))
    }

    fn on_timeout_packet_validate(
        &self,
        packet: &Packet,
        relayer: &Signer,
    ) -> Result<(), ChannelError> {
        ics20::on_timeout_packet_validate(&self.token, packet, relayer).map_err(ch)
    }

    fn on_timeout_packet_execute(
        &mut self,
        packet: &Packet,
        relayer: &Signer,
    ) -> (ModuleExtras, Result<(), ChannelError>) {
        let (extras, r) = ics20::on_timeout_packet_execute(&mut self.token, packet, relayer);
        (extras, r.map_err(ch))
    }
}
