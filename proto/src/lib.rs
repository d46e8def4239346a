//! Protobuf types of Verdict (`proto/verdict/**.proto`).
//!
//! The Rust types are written with `prost` derives next to their `.proto` files and
//! must stay field-for-field identical to them (same tags, same scalar types), so
//! that other-language clients generated from the `.proto` files interoperate. No
//! build script runs `protoc`: the build needs nothing outside crates.io.

pub mod app {
    pub mod v1 {
        /// See `verdict/app/v1/vote_extension.proto`.
        #[derive(Clone, PartialEq, ::prost::Message)]
        pub struct VoteExtension {
            #[prost(uint32, tag = "1")]
            pub version: u32,
        }

        /// See `verdict/app/v1/vote_extension.proto`.
        #[derive(Clone, PartialEq, ::prost::Message)]
        pub struct InjectedVoteExtensions {
            #[prost(int64, tag = "1")]
            pub height: i64,
            #[prost(int32, tag = "2")]
            pub round: i32,
            #[prost(message, repeated, tag = "3")]
            pub votes: ::prost::alloc::vec::Vec<InjectedVote>,
        }

        /// See `verdict/app/v1/vote_extension.proto`.
        #[derive(Clone, PartialEq, ::prost::Message)]
        pub struct InjectedVote {
            #[prost(bytes = "vec", tag = "1")]
            pub validator_address: ::prost::alloc::vec::Vec<u8>,
            #[prost(bytes = "vec", tag = "2")]
            pub vote_extension: ::prost::alloc::vec::Vec<u8>,
            #[prost(bytes = "vec", tag = "3")]
            pub extension_signature: ::prost::alloc::vec::Vec<u8>,
        }

        /// Marker that starts the reserved tx[0]; `0xFF` is not a valid protobuf
        /// field key, so no `TxRaw` (or other protobuf message) can begin with it.
        pub const INJECTED_TX_MARKER: &[u8; 8] = b"\xffVRDVE1\x00";
    }
}
