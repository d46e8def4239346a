//! The router of this chain's IBC applications: port `inference`
//! ([`InferenceModule`]), port `transfer` (ICS-20, [`TransferModule`]) and
//! port `icahost` (ICS-27 host, [`IcaHostModule`]).
//! Any other port has no application, so ibc-rs refuses its channels.

use ibc::core::host::types::identifiers::PortId;
use ibc::core::router::module::Module;
use ibc::core::router::router::Router;
use ibc::core::router::types::module::ModuleId;
use verdict_core::address::Addr;

use crate::ica_host::{self, IcaHostModule};
use crate::inference_port::{self, InferenceModule};
use crate::shared::SharedStore;
use crate::transfer_app::{self, TransferModule};

/// The applications of one dispatch.
#[derive(Debug)]
pub struct Applications<'c, 's> {
    pub inference: InferenceModule,
    pub transfer: TransferModule<'c, 's>,
    pub ica_host: IcaHostModule<'c, 's>,
}

impl<'c, 's> Applications<'c, 's> {
    /// The applications, ICS-20's and the ICA host's over `store` (the
    /// dispatch's shared view); `blocked`: accounts ICS-20 may not credit.
    pub fn new(store: SharedStore<'c, 's>, blocked: Option<fn(&Addr) -> bool>) -> Self {
        let mut transfer = TransferModule::new(store);
        transfer.token.blocked = blocked;
        Applications {
            inference: InferenceModule::default(),
            transfer,
            ica_host: IcaHostModule::new(store),
        }
    }
}

impl Router for Applications<'_, '_> {
    fn get_route(&self, module_id: &ModuleId) -> Option<&dyn Module> {
        match module_id.to_string().as_str() {
            inference_port::PORT => Some(&self.inference),
            transfer_app::PORT => Some(&self.transfer),
            ica_host::PORT => Some(&self.ica_host),
            _ => None,
        }
    }

    fn get_route_mut(&mut self, module_id: &ModuleId) -> Option<&mut dyn Module> {
        match module_id.to_string().as_str() {
            inference_port::PORT => Some(&mut self.inference),
            transfer_app::PORT => Some(&mut self.transfer),
            ica_host::PORT => Some(&mut self.ica_host),
            _ => None,
        }
    }

    fn lookup_module(&self, port_id: &PortId) -> Option<ModuleId> {
        match port_id.as_str() {
            p @ (inference_port::PORT | transfer_app::PORT | ica_host::PORT) => {
                Some(ModuleId::new(p.to_string()))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shared::StoreCell;
    use cosmwasm_std::testing::MockStorage;
    use std::cell::RefCell;

    #[test]
    fn the_router_binds_ports_inference_transfer_and_icahost_only() {
        let mut inner = MockStorage::new();
        let cell: StoreCell<'_> = RefCell::new(&mut inner);
        let mut r = Applications::new(SharedStore::new(&cell), None);
        for p in ["inference", "transfer", "icahost"] {
            let id = r.lookup_module(&p.parse().expect("port")).expect("bound");
            assert!(r.get_route(&id).is_some(), "{p}");
            assert!(r.get_route_mut(&id).is_some(), "{p}");
        }
        assert!(r
            .lookup_module(&"nft-transfer".parse().expect("port"))
            .is_none());
        assert!(r
            .get_route(&ModuleId::new("icacontroller".into()))
            .is_none());
    }
}
