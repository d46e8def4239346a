//! Protobuf types of Verdict, generated at build time from `proto/verdict/**.proto`
//! (see `build.rs`: protox + prost-build, no protoc), and the encoded descriptor
//! set of those files and of the vendored Cosmos, IBC and CometBFT files the node
//! serves (`proto/third_party`).

/// `FileDescriptorSet` of every `.proto` file under `proto/` (Verdict's and the
/// vendored third-party ones), encoded.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/descriptor.bin"));

pub mod json;

/// The descriptors of [`FILE_DESCRIPTOR_SET`], decoded once: every message,
/// service, method and option (HTTP rules, amino names) the node knows.
pub fn descriptor_pool() -> &'static prost_reflect::DescriptorPool {
    static POOL: std::sync::OnceLock<prost_reflect::DescriptorPool> = std::sync::OnceLock::new();
    POOL.get_or_init(|| {
        // The bytes were produced by protox from the same files in build.rs, so
        // they decode; a failure here is a build defect, caught by every test.
        #[allow(clippy::expect_used)]
        prost_reflect::DescriptorPool::decode(FILE_DESCRIPTOR_SET)
            .expect("the build's own descriptor set decodes")
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn pool_has_served_services_and_ours() {
        let pool = super::descriptor_pool();
        for s in [
            "cosmos.bank.v1beta1.Query",
            "cosmos.tx.v1beta1.Service",
            "cosmos.base.tendermint.v1beta1.Service",
            "ibc.core.channel.v1.Query",
        ] {
            assert!(pool.get_service_by_name(s).is_some(), "{s}");
        }
        assert!(pool
            .get_message_by_name("verdict.inference.v1.MsgSubmitJob")
            .is_some());
        assert!(pool.get_extension_by_name("google.api.http").is_some());
    }

    /// Extension options (amino names, signers) survive into the pool: the
    /// amino-JSON sign mode and the REST gateway read them.
    #[test]
    fn pool_keeps_extension_options() {
        let pool = super::descriptor_pool();
        let name = pool
            .get_extension_by_name("amino.name")
            .expect("amino.name");
        let send = pool
            .get_message_by_name("cosmos.bank.v1beta1.MsgSend")
            .expect("MsgSend");
        let opts = send.options();
        assert_eq!(
            opts.get_extension(&name).as_str(),
            Some("cosmos-sdk/MsgSend")
        );
    }
}

#[allow(clippy::all, missing_docs)]
mod generated {
    pub mod app {
        include!(concat!(env!("OUT_DIR"), "/verdict.app.v1.rs"));
    }
    pub mod inference {
        include!(concat!(env!("OUT_DIR"), "/verdict.inference.v1.rs"));
    }
    pub mod sidecar {
        include!(concat!(env!("OUT_DIR"), "/verdict.sidecar.v1.rs"));
    }
}

pub mod app {
    pub mod v1 {
        pub use crate::generated::app::*;

        /// Marker that starts the reserved tx[0]; `0xFF` is not a valid protobuf
        /// field key, so no `TxRaw` (or other protobuf message) can begin with it.
        pub const INJECTED_TX_MARKER: &[u8; 8] = b"\xffVRDVE1\x00";
    }
}

pub mod inference {
    pub mod v1 {
        pub use crate::generated::inference::*;
        pub use cosmos_sdk_proto::cosmos::base::v1beta1::Coin;

        pub const MSG_REGISTER_MODEL_URL: &str = "/verdict.inference.v1.MsgRegisterModel";
        pub const MSG_SUBMIT_JOB_URL: &str = "/verdict.inference.v1.MsgSubmitJob";
        pub const MSG_SERVE_MODEL_URL: &str = "/verdict.inference.v1.MsgServeModel";
        pub const MSG_REQUEST_REMOTE_URL: &str = "/verdict.inference.v1.MsgRequestRemote";
        pub const MSG_RECLAIM_REMOTE_URL: &str = "/verdict.inference.v1.MsgReclaimRemote";
        pub const MSG_CHALLENGE_JOB_URL: &str = "/verdict.inference.v1.MsgChallengeJob";
    }
}

pub mod sidecar {
    pub mod v1 {
        pub use crate::generated::sidecar::*;
    }
}
