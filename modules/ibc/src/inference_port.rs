//! The IBC application bound to port `inference`: its channel handshake rules.
//!
//! Channels on this port are UNORDERED with version `verdict-inference-1`; any
//! other ordering or version is refused in the handshake callbacks, before
//! ibc-rs writes anything, so a refused handshake message changes no state.
//! The counterparty's port is another chain's `inference` or a CosmWasm
//! contract's `wasm.<address>` (the packets are specified in
//! docs/ibc.md, for other implementations). The port's channels stay open: a user-initiated close is refused (a closed
//! channel could strand requests whose acknowledgements are still pending);
//! a close confirmed from the counterparty is accepted, as ICS-04 requires.
//!
//! Packets: ibc-rs gives the callbacks no store, so they decide only what
//! needs no state and queue the rest as [`PortEvent`]s, which
//! [`crate::inference_app::apply`] applies right after ibc-rs's dispatch, in the
//! same message. A received packet that is no [`InferenceRequest`] is answered
//! at once with an error acknowledgement (except data that is not UTF-8: ibc-rs
//! cannot put it into its events and refuses the whole receive, so such a packet
//! times out on its sender, which refunds); one that is gets no acknowledgement
//! yet (it is written when its job settles). Acknowledgements and timeouts of
//! this chain's own requests are queued as they are.

use ibc::core::channel::types::acknowledgement::Acknowledgement;
use ibc::core::channel::types::channel::{Counterparty, Order};
use ibc::core::channel::types::error::ChannelError;
use ibc::core::channel::types::packet::Packet;
use ibc::core::channel::types::Version;
use ibc::core::host::types::identifiers::{ChannelId, ConnectionId, PortId};
use ibc::core::router::module::Module;
use ibc::core::router::types::module::ModuleExtras;
use ibc::primitives::Signer;

use crate::inference_packet::{InferenceAck, InferenceRequest};

/// The port the inference application is bound to.
pub const PORT: &str = "inference";
/// The only channel version the inference application speaks.
pub const VERSION: &str = "verdict-inference-1";
/// A CosmWasm contract's IBC port starts with this.
pub const WASM_PORT_PREFIX: &str = "wasm.";
/// The only channel ordering the inference application accepts.
pub const ORDER: Order = Order::Unordered;

/// What the port callbacks saw during one IBC message, for
/// [`crate::inference_app::apply`].
#[derive(Debug, Clone)]
pub enum PortEvent {
    /// A request that decodes, received without an acknowledgement yet.
    Request {
        packet: Packet,
        request: InferenceRequest,
    },
    /// The acknowledgement of one of this chain's requests.
    Ack { packet: Packet, ack: Vec<u8> },
    /// One of this chain's requests timed out.
    Timeout { packet: Packet },
    /// The counterparty closed this channel (ChanCloseConfirm): its payer's
    /// funds go to the community pool.
    ChannelClosed { channel_id: ChannelId },
}

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

/// The counterparty's port: another chain's `inference`, or a CosmWasm
/// contract's IBC port (`wasm.<contract address>`) speaking the same packets.
fn check_counterparty_port(counterparty: &Counterparty) -> Result<(), ChannelError> {
    let p = counterparty.port_id().as_str();
    let contract = p
        .strip_prefix(WASM_PORT_PREFIX)
        .is_some_and(|a| !a.is_empty());
    if p != PORT && !contract {
        return Err(app_error(format!(
            "the counterparty port must be {PORT:?} or a contract's {WASM_PORT_PREFIX:?}<address>, not {p:?}"
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

/// The inference IBC application.
#[derive(Debug, Default)]
pub struct InferenceModule {
    /// What the packet callbacks saw, in order, for [`crate::inference_app::apply`].
    pub events: Vec<PortEvent>,
}

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
        check_counterparty_port(counterparty)?;
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
        check_counterparty_port(counterparty)?;
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

    // ChanCloseConfirm: the counterparty closed its end (ICS-04 lets it); ours
    // follows, and nothing can spend the channel's payer any more.
    fn on_chan_close_confirm_execute(
        &mut self,
        _port_id: &PortId,
        channel_id: &ChannelId,
    ) -> Result<ModuleExtras, ChannelError> {
        self.events.push(PortEvent::ChannelClosed {
            channel_id: channel_id.clone(),
        });
        Ok(ModuleExtras::empty())
    }

    fn on_recv_packet_execute(
        &mut self,
        packet: &Packet,
        _relayer: &Signer,
    ) -> (ModuleExtras, Option<Acknowledgement>) {
        match InferenceRequest::decode(&packet.data) {
            Ok(request) => {
                self.events.push(PortEvent::Request {
                    packet: packet.clone(),
                    request,
                });
                // Asynchronous: written when the job settles.
                (ModuleExtras::empty(), None)
            }
            Err(e) => {
                let ack = Acknowledgement::try_from(InferenceAck::Error(e).to_bytes()).ok();
                (ModuleExtras::empty(), ack)
            }
        }
    }

    fn on_acknowledgement_packet_validate(
        &self,
        _packet: &Packet,
        _acknowledgement: &Acknowledgement,
        _relayer: &Signer,
    ) -> Result<(), ChannelError> {
        // Any acknowledgement closes the request: one that does not decode
        // counts as an error and refunds (refusing it would strand the fee).
        Ok(())
    }

    fn on_acknowledgement_packet_execute(
        &mut self,
        packet: &Packet,
        acknowledgement: &Acknowledgement,
        _relayer: &Signer,
    ) -> (ModuleExtras, Result<(), ChannelError>) {
        self.events.push(PortEvent::Ack {
            packet: packet.clone(),
            ack: acknowledgement.as_bytes().to_vec(),
        });
        (ModuleExtras::empty(), Ok(()))
    }

    fn on_timeout_packet_validate(
        &self,
        _packet: &Packet,
        _relayer: &Signer,
    ) -> Result<(), ChannelError> {
        Ok(())
    }

    fn on_timeout_packet_execute(
        &mut self,
        packet: &Packet,
        _relayer: &Signer,
    ) -> (ModuleExtras, Result<(), ChannelError>) {
        self.events.push(PortEvent::Timeout {
            packet: packet.clone(),
        });
        (ModuleExtras::empty(), Ok(()))
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
        let m = InferenceModule::default();
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
        // A CosmWasm contract's port may be the counterparty; `wasm.` alone not.
        for (cp, ok) in [
            (
                "wasm.wasm14hj2tavq8fpesdwxxcu44rty3hh90vhujrvcmstl4zr3txmfvw9s0phg4d",
                true,
            ),
            ("wasm.", false),
        ] {
            let r = m.on_chan_open_try_validate(
                Order::Unordered,
                &hops,
                &port(PORT),
                &ch,
                &Counterparty::new(port(cp), None),
                &Version::new(VERSION.into()),
            );
            assert_eq!(r.is_ok(), ok, "{cp}: {r:?}");
        }
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

    fn packet(data: &[u8]) -> Packet {
        use ibc::core::channel::types::timeout::{TimeoutHeight, TimeoutTimestamp};
        Packet {
            seq_on_a: 1u64.into(),
            port_id_on_a: port(PORT),
            chan_id_on_a: ChannelId::new(0),
            port_id_on_b: port(PORT),
            chan_id_on_b: ChannelId::new(0),
            data: data.to_vec(),
            timeout_height_on_b: TimeoutHeight::Never,
            timeout_timestamp_on_b: TimeoutTimestamp::Never,
        }
    }

    #[test]
    fn a_request_is_queued_without_an_ack_and_garbage_gets_an_error_ack_at_once() {
        let mut m = InferenceModule::default();
        let relayer = Signer::from("relayer".to_string());
        let (_, ack) = m.on_recv_packet_execute(&packet(b"nonsense"), &relayer);
        let ack = ack.expect("an error acknowledgement at once");
        let text = String::from_utf8(ack.as_bytes().to_vec()).expect("utf8");
        assert!(
            text.starts_with(r#"{"error":"bad inference request"#),
            "{text}"
        );
        assert!(m.events.is_empty(), "nothing queued");

        let data = br#"{"model_id":"m1","inputs":[],"max_latency_ms":1500,"fee":{"denom":"uverd","amount":"1000"}}"#;
        let (_, ack) = m.on_recv_packet_execute(&packet(data), &relayer);
        assert!(ack.is_none(), "asynchronous: written when the job settles");
        assert!(matches!(
            m.events.as_slice(),
            [PortEvent::Request { request, .. }] if request.model_id == "m1"
        ));

        // Any acknowledgement and any timeout of our own requests is queued.
        let any_ack = Acknowledgement::try_from(b"x".to_vec()).expect("ack");
        assert!(m
            .on_acknowledgement_packet_validate(&packet(data), &any_ack, &relayer)
            .is_ok());
        let (_, r) = m.on_acknowledgement_packet_execute(&packet(data), &any_ack, &relayer);
        assert!(r.is_ok());
        let (_, r) = m.on_timeout_packet_execute(&packet(data), &relayer);
        assert!(r.is_ok());
        assert_eq!(m.events.len(), 3);
    }
}
