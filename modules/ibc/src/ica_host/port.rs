//! The host's channel and packet callbacks (see the module doc).

use cosmwasm_std::Storage;
use ibc::core::channel::types::acknowledgement::Acknowledgement;
use ibc::core::channel::types::channel::{Counterparty, Order};
use ibc::core::channel::types::error::ChannelError;
use ibc::core::channel::types::packet::Packet;
use ibc::core::channel::types::Version;
use ibc::core::host::types::identifiers::{ChannelId, ConnectionId, PortId};
use ibc::core::router::module::Module;
use ibc::core::router::types::module::ModuleExtras;
use ibc::primitives::Signer;
use verdict_core::address::Addr;

use super::state::{ACCOUNTS, ACTIVE, PENDING};
use super::{
    account_address, channel_end, counterparty_connection, registered_account, Metadata,
    CONTROLLER_PORT_PREFIX, ENCODING, PORT, TX_TYPE, VERSION,
};
use crate::shared::SharedStore;

/// A packet to run after ibc-rs's dispatch: the account and its messages.
#[derive(Debug, Clone)]
pub struct IcaPacket {
    pub packet: Packet,
    pub account: Addr,
    pub msgs: Vec<cosmrs::Any>,
}

/// The host on one dispatch's shared store view.
pub struct IcaHostModule<'c, 's> {
    store: SharedStore<'c, 's>,
    /// Packets to run, in order ([`super::execute_packets`]).
    pub packets: Vec<IcaPacket>,
}

impl<'c, 's> IcaHostModule<'c, 's> {
    pub fn new(store: SharedStore<'c, 's>) -> Self {
        IcaHostModule {
            store,
            packets: Vec::new(),
        }
    }
}

impl std::fmt::Debug for IcaHostModule<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IcaHostModule")
            .field("packets", &self.packets.len())
            .finish_non_exhaustive()
    }
}

const NEVER_INITIATES: &str =
    "the interchain-accounts host never opens channels: the controller does";

fn err(description: impl Into<String>) -> ChannelError {
    ChannelError::AppSpecific {
        description: description.into(),
    }
}

/// ChanOpenTry's checks; the version to answer with (metadata with the address).
fn try_version(
    s: &dyn Storage,
    order: Order,
    hops: &[ConnectionId],
    port_id: &PortId,
    counterparty: &Counterparty,
    counterparty_version: &Version,
) -> Result<(Metadata, Addr), ChannelError> {
    if port_id.as_str() != PORT {
        return Err(err(format!("the host is bound to port {PORT:?}")));
    }
    let cp_port = counterparty.port_id().as_str();
    if !cp_port.starts_with(CONTROLLER_PORT_PREFIX) {
        return Err(err(format!(
            "the controller's port must start with {CONTROLLER_PORT_PREFIX:?}, not {cp_port:?}"
        )));
    }
    if !matches!(order, Order::Ordered | Order::Unordered) {
        return Err(err(format!("channel order {order} is not served")));
    }
    let [hop] = hops else {
        return Err(err(
            "an interchain-account channel has exactly one connection hop",
        ));
    };
    let conn = hop.as_str();
    let cp_conn = counterparty_connection(s, conn)
        .ok_or_else(|| err(format!("connection {conn} not found")))?;
    // Invalid metadata: ibc-go's host proposes its default instead.
    let mut md = Metadata::parse(counterparty_version.as_str()).unwrap_or(Metadata {
        version: VERSION.into(),
        controller_connection_id: cp_conn.clone(),
        host_connection_id: conn.into(),
        address: String::new(),
        encoding: ENCODING.into(),
        tx_type: TX_TYPE.into(),
    });
    if md.version != VERSION {
        return Err(err(format!(
            "expected version {VERSION}, got {}",
            md.version
        )));
    }
    if md.encoding != ENCODING {
        return Err(err(format!(
            "unsupported encoding format {} (this host speaks {ENCODING})",
            md.encoding
        )));
    }
    if md.tx_type != TX_TYPE {
        return Err(err(format!("unsupported transaction type {}", md.tx_type)));
    }
    if md.host_connection_id != conn || md.controller_connection_id != cp_conn {
        return Err(err(format!(
            "metadata connections {}/{} do not match the channel's {cp_conn}/{conn}",
            md.controller_connection_id, md.host_connection_id
        )));
    }
    if let Ok(Some(active)) = ACTIVE.may_load(s, (conn, cp_port)) {
        let closed = channel_end(s, PORT, &active).is_some_and(|c| c.state == 4);
        if !closed {
            return Err(err(format!(
                "existing active channel {active} for {cp_port} must be CLOSED"
            )));
        }
    }
    let account = registered_account(s, conn, cp_port).unwrap_or(account_address(conn, cp_port));
    md.address = account.bech32();
    Ok((md, account))
}

impl Module for IcaHostModule<'_, '_> {
    fn on_chan_open_init_validate(
        &self,
        _order: Order,
        _hops: &[ConnectionId],
        _port_id: &PortId,
        _channel_id: &ChannelId,
        _counterparty: &Counterparty,
        _version: &Version,
    ) -> Result<Version, ChannelError> {
        Err(err(NEVER_INITIATES))
    }

    fn on_chan_open_init_execute(
        &mut self,
        _order: Order,
        _hops: &[ConnectionId],
        _port_id: &PortId,
        _channel_id: &ChannelId,
        _counterparty: &Counterparty,
        _version: &Version,
    ) -> Result<(ModuleExtras, Version), ChannelError> {
        Err(err(NEVER_INITIATES))
    }

    fn on_chan_open_try_validate(
        &self,
        order: Order,
        hops: &[ConnectionId],
        port_id: &PortId,
        _channel_id: &ChannelId,
        counterparty: &Counterparty,
        counterparty_version: &Version,
    ) -> Result<Version, ChannelError> {
        let (md, _) = try_version(
            &self.store,
            order,
            hops,
            port_id,
            counterparty,
            counterparty_version,
        )?;
        Ok(Version::new(md.to_json()))
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
        let (md, account) = try_version(
            &self.store,
            order,
            hops,
            port_id,
            counterparty,
            counterparty_version,
        )?;
        let conn = md.host_connection_id.as_str();
        let cp_port = counterparty.port_id().as_str();
        let store_err = |e: cosmwasm_std::StdError| err(format!("storage: {e}"));
        ACCOUNTS
            .save(&mut self.store, (conn, cp_port), &account.0.to_vec())
            .map_err(store_err)?;
        verdict_auth::Accounts::ensure(&mut self.store, &account)
            .map_err(|e| err(format!("account {account}: {e}")))?;
        PENDING
            .save(
                &mut self.store,
                channel_id.as_str(),
                &(conn.to_string(), cp_port.to_string()),
            )
            .map_err(store_err)?;
        Ok((ModuleExtras::empty(), Version::new(md.to_json())))
    }

    fn on_chan_open_ack_validate(
        &self,
        _port_id: &PortId,
        _channel_id: &ChannelId,
        _counterparty_version: &Version,
    ) -> Result<(), ChannelError> {
        Err(err("the host never receives ChanOpenAck"))
    }

    fn on_chan_open_confirm_execute(
        &mut self,
        _port_id: &PortId,
        channel_id: &ChannelId,
    ) -> Result<ModuleExtras, ChannelError> {
        let pending = PENDING
            .may_load(&self.store, channel_id.as_str())
            .map_err(|e| err(format!("storage: {e}")))?
            .ok_or_else(|| err(format!("{channel_id} was never tried on this host")))?;
        PENDING.remove(&mut self.store, channel_id.as_str());
        ACTIVE
            .save(
                &mut self.store,
                (pending.0.as_str(), pending.1.as_str()),
                &channel_id.to_string(),
            )
            .map_err(|e| err(format!("storage: {e}")))?;
        Ok(ModuleExtras::empty())
    }

    fn on_chan_close_init_validate(
        &self,
        _port_id: &PortId,
        _channel_id: &ChannelId,
    ) -> Result<(), ChannelError> {
        Err(err("user cannot close an interchain-account channel"))
    }

    fn on_recv_packet_execute(
        &mut self,
        packet: &Packet,
        _relayer: &Signer,
    ) -> (ModuleExtras, Option<Acknowledgement>) {
        match super::exec::decode_packet(&self.store, packet) {
            Ok((account, msgs)) => {
                self.packets.push(IcaPacket {
                    packet: packet.clone(),
                    account,
                    msgs,
                });
                (ModuleExtras::empty(), None)
            }
            Err(e) => (
                ModuleExtras::empty(),
                Some(super::exec::error_ack(&e, crate::transfer_app::ack_json)),
            ),
        }
    }

    fn on_acknowledgement_packet_validate(
        &self,
        _packet: &Packet,
        _ack: &Acknowledgement,
        _relayer: &Signer,
    ) -> Result<(), ChannelError> {
        Err(err("the host sends no packets"))
    }

    fn on_acknowledgement_packet_execute(
        &mut self,
        _packet: &Packet,
        _ack: &Acknowledgement,
        _relayer: &Signer,
    ) -> (ModuleExtras, Result<(), ChannelError>) {
        (ModuleExtras::empty(), Err(err("the host sends no packets")))
    }

    fn on_timeout_packet_validate(
        &self,
        _packet: &Packet,
        _relayer: &Signer,
    ) -> Result<(), ChannelError> {
        Err(err("the host sends no packets"))
    }

    fn on_timeout_packet_execute(
        &mut self,
        _packet: &Packet,
        _relayer: &Signer,
    ) -> (ModuleExtras, Result<(), ChannelError>) {
        (ModuleExtras::empty(), Err(err("the host sends no packets")))
    }
}
