//! The IBC application bound to port `inference`: its channel handshake rules.
//!
//! Channels on this port are UNORDERED with version `verdict-inference-1`; any
//! other ordering or version is refused in the handshake callbacks, before
//! ibc-rs writes anything, so a refused handshake message changes no state.
//! The port's channels stay open: a user-initiated close is refused (a closed
//! channel could strand requests whose acknowledgements are still pending);
//! a close confirmed from the counterparty is accepted, as ICS-04 requires.
//!
//! Packets are not served yet: `MsgRecvPacket`, `MsgAcknowledgement` and
//! `MsgTimeout` are refused at decode (see [`crate::handler`]), so the packet
//! callbacks below are never reached by a transaction; they answer with an
//! error acknowledgement or an error, never a panic.

use ibc::core::channel::types::acknowledgement::{
    Acknowledgement, AcknowledgementStatus, StatusValue,
};
use ibc::core::channel::types::channel::{Counterparty, Order};
use ibc::core::channel::types::error::ChannelError;
use ibc::core::channel::types::packet::Packet;
use ibc::core::channel::types::Version;
use ibc::core::host::types::identifiers::{ChannelId, ConnectionId, PortId};
use ibc::core::router::module::Module;
use ibc::core::router::router::Router;
use ibc::core::router::types::module::{ModuleExtras, ModuleId};
use ibc::primitives::Signer;

/// The port the inference application is bound to.
pub const PORT: &str = "inference";
/// The only channel version the inference application speaks.
pub const VERSION: &str = "verdict-inference-1";
/// The only channel ordering the inference application accepts.
pub const ORDER: Order = Order::Unordered;

fn app_error(description: String) -> ChannelError {
    ChannelError::AppSpecific { description }
}

/// Refuses anything but an unordered channel with version [`VERSION`] on
/// port [`PORT`]. An empty proposed version (ChanOpenInit) means [`VERSION`].
fn check_channel(order: Order, port_id: &PortId, version: &Version) -> Result<(), ChannelError> {
    if port_id.as_str() != PORT {
        return Err(app_error(format!(
            "the inference application is bound to port {PORT:?}, not {:?}",
            port_id.as_str()
        )));
    }
    if order != ORDER {
        return Err(app_error(format!(
            "channels on port {PORT:?} must be UNORDERED, not {order}"
        )));
    }
    if !version.is_empty() && version.as_str() != VERSION {
        return Err(app_error(format!(
            "channels on port {PORT:?} must have version {VERSION:?}, not {:?}",
            version.as_str()
        )));
    }
    Ok(())
}

fn check_counterparty_version(version: &Version) -> Result<(), ChannelError> {
    if version.as_str() != VERSION {
        return Err(app_error(format!(
            "the counterparty's channel version must be {VERSION:?}, not {:?}",
            version.as_str()
        )));
    }
    Ok(())
}

/// The inference IBC application (the handshake side; packets are a later slice).
#[derive(Debug, Default)]
pub struct InferenceModule;

impl Module for InferenceModule {
    fn on_chan_open_init_validate(
        &self,
        order: Order,
        _connection_hops: &[ConnectionId],
        port_id: &PortId,
        _channel_id: &ChannelId,
        counterparty: &Counterparty,
        version: &Version,
    ) -> Result<Version, ChannelError> {
        check_channel(order, port_id, version)?;
        if counterparty.port_id().as_str() != PORT {
            return Err(app_error(format!(
                "the counterparty port must be {PORT:?}, not {:?}",
                counterparty.port_id().as_str()
            )));
        }
        Ok(Version::new(VERSION.to_string()))
    }

    fn on_chan_open_init_execute(
        &mut self,
        order: Order,
        connection_hops: &[ConnectionId],
        port_id: &PortId,
        channel_id: &ChannelId,
        counterparty: &Counterparty,
        version: &Version,
    ) -> Result<(ModuleExtras, Version), ChannelError> {
        let v = self.on_chan_open_init_validate(
            order,
            connection_hops,
            port_id,
            channel_id,
            counterparty,
            version,
        )?;
        Ok((ModuleExtras::empty(), v))
    }

    fn on_chan_open_try_validate(
        &self,
        order: Order,
        _connection_hops: &[ConnectionId],
        port_id: &PortId,
        _channel_id: &ChannelId,
        counterparty: &Counterparty,
        counterparty_version: &Version,
    ) -> Result<Version, ChannelError> {
        check_channel(order, port_id, counterparty_version)?;
        check_counterparty_version(counterparty_version)?;
        if counterparty.port_id().as_str() != PORT {
            return Err(app_error(format!(
                "the counterparty port must be {PORT:?}, not {:?}",
                counterparty.port_id().as_str()
            )));
        }
        Ok(Version::new(VERSION.to_string()))
    }

    fn on_chan_open_try_execute(
        &mut self,
        order: Order,
        connection_hops: &[ConnectionId],
        port_id: &PortId,
        channel_id: &ChannelId,
        counterparty: &Counterparty,
        counterparty_version: &Version,
    ) -> Result<(ModuleExtras, Version), ChannelError> {
        let v = self.on_chan_open_try_validate(
            order,
            connection_hops,
            port_id,
            channel_id,
            counterparty,
            counterparty_version,
        )?;
        Ok((ModuleExtras::empty(), v))
    }

    fn on_chan_open_ack_validate(
        &self,
        _port_id: &PortId,
        _channel_id: &ChannelId,
        counterparty_version: &Version,
    ) -> Result<(), ChannelError> {
        check_counterparty_version(counterparty_version)
    }

    fn on_chan_open_ack_execute(
        &mut self,
        port_id: &PortId,
        channel_id: &ChannelId,
        counterparty_version: &Version,
    ) -> Result<ModuleExtras, ChannelError> {
        self.on_chan_open_ack_validate(port_id, channel_id, counterparty_version)?;
        Ok(ModuleExtras::empty())
    }

    fn on_chan_close_init_validate(
        &self,
        _port_id: &PortId,
        channel_id: &ChannelId,
    ) -> Result<(), ChannelError> {
        Err(app_error(format!(
            "channel {channel_id} on port {PORT:?} cannot be closed by a user"
        )))
    }

    fn on_chan_close_init_execute(
        &mut self,
        port_id: &PortId,
        channel_id: &ChannelId,
    ) -> Result<ModuleExtras, ChannelError> {
        self.on_chan_close_init_validate(port_id, channel_id)?;
        Ok(ModuleExtras::empty())
    }

    fn on_recv_packet_execute(
        &mut self,
        _packet: &Packet,
        _relayer: &Signer,
    ) -> (ModuleExtras, Option<Acknowledgement>) {
        let ack = StatusValue::new("inference packets are not served yet")
            .map(|v| Acknowledgement::from(AcknowledgementStatus::error(v)))
            .ok();
        (ModuleExtras::empty(), ack)
    }

    fn on_acknowledgement_packet_validate(
        &self,
        _packet: &Packet,
        _acknowledgement: &Acknowledgement,
        _relayer: &Signer,
    ) -> Result<(), ChannelError> {
        Err(app_error("inference packets are not served yet".into()))
    }

    fn on_acknowledgement_packet_execute(
        &mut self,
        _packet: &Packet,
        _acknowledgement: &Acknowledgement,
        _relayer: &Signer,
    ) -> (ModuleExtras, Result<(), ChannelError>) {
        (
            ModuleExtras::empty(),
            Err(app_error("inference packets are not served yet".into())),
        )
    }

    fn on_timeout_packet_validate(
        &self,
        _packet: &Packet,
        _relayer: &Signer,
    ) -> Result<(), ChannelError> {
        Err(app_error("inference packets are not served yet".into()))
    }

    fn on_timeout_packet_execute(
        &mut self,
        _packet: &Packet,
        _relayer: &Signer,
    ) -> (ModuleExtras, Result<(), ChannelError>) {
        (
            ModuleExtras::empty(),
            Err(app_error("inference packets are not served yet".into())),
        )
    }
}

/// The router of this chain's IBC applications: port `inference` only.
#[derive(Debug, Default)]
pub struct Applications {
    inference: InferenceModule,
}

impl Applications {
    fn module_id() -> ModuleId {
        ModuleId::new(PORT.to_string())
    }
}

impl Router for Applications {
    fn get_route(&self, module_id: &ModuleId) -> Option<&dyn Module> {
        (*module_id == Self::module_id()).then_some(&self.inference as &dyn Module)
    }

    fn get_route_mut(&mut self, module_id: &ModuleId) -> Option<&mut dyn Module> {
        if *module_id == Self::module_id() {
            Some(&mut self.inference)
        } else {
            None
        }
    }

    fn lookup_module(&self, port_id: &PortId) -> Option<ModuleId> {
        (port_id.as_str() == PORT).then(Self::module_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn port(s: &str) -> PortId {
        s.parse().expect("port")
    }

    fn cp() -> Counterparty {
        Counterparty::new(port(PORT), None)
    }

    #[test]
    fn only_unordered_channels_with_our_version_on_our_port_are_accepted() {
        let m = InferenceModule;
        let hops = [ConnectionId::new(0)];
        let ch = ChannelId::new(0);
        let ok = |order, v: &str| {
            m.on_chan_open_init_validate(
                order,
                &hops,
                &port(PORT),
                &ch,
                &cp(),
                &Version::new(v.into()),
            )
        };
        assert_eq!(ok(Order::Unordered, VERSION).expect("ok").as_str(), VERSION);
        assert_eq!(ok(Order::Unordered, "").expect("empty").as_str(), VERSION);
        let e = ok(Order::Ordered, VERSION).expect_err("ordered");
        assert!(e.to_string().contains("UNORDERED"), "{e}");
        let e = ok(Order::Unordered, "ics20-1").expect_err("version");
        assert!(e.to_string().contains(VERSION), "{e}");
        let e = m
            .on_chan_open_try_validate(
                Order::Unordered,
                &hops,
                &port(PORT),
                &ch,
                &cp(),
                &Version::empty(),
            )
            .expect_err("try needs the counterparty version");
        assert!(e.to_string().contains(VERSION), "{e}");
        assert!(m
            .on_chan_open_ack_validate(&port(PORT), &ch, &Version::new("x".into()))
            .is_err());
        assert!(m.on_chan_close_init_validate(&port(PORT), &ch).is_err());
        let other = Counterparty::new(port("transfer"), None);
        assert!(m
            .on_chan_open_init_validate(
                Order::Unordered,
                &hops,
                &port(PORT),
                &ch,
                &other,
                &Version::new(VERSION.into()),
            )
            .is_err());
    }

    #[test]
    fn the_router_binds_only_port_inference() {
        let mut r = Applications::default();
        let id = r.lookup_module(&port(PORT)).expect("bound");
        assert!(r.get_route(&id).is_some());
        assert!(r.get_route_mut(&id).is_some());
        assert!(r.lookup_module(&port("transfer")).is_none());
        assert!(r.get_route(&ModuleId::new("transfer".into())).is_none());
    }
}
