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
            #[prost(message, repeated, tag = "2")]
            pub commitments: ::prost::alloc::vec::Vec<JobCommitment>,
            #[prost(message, repeated, tag = "3")]
            pub reveals: ::prost::alloc::vec::Vec<JobReveal>,
        }

        /// See `verdict/app/v1/vote_extension.proto`.
        #[derive(Clone, PartialEq, ::prost::Message)]
        pub struct JobCommitment {
            #[prost(uint64, tag = "1")]
            pub job_id: u64,
            #[prost(bytes = "vec", tag = "2")]
            pub commitment: ::prost::alloc::vec::Vec<u8>,
            #[prost(uint32, tag = "3")]
            pub latency_ms: u32,
        }

        /// See `verdict/app/v1/vote_extension.proto`.
        #[derive(Clone, PartialEq, ::prost::Message)]
        pub struct JobReveal {
            #[prost(uint64, tag = "1")]
            pub job_id: u64,
            #[prost(sint64, repeated, tag = "2")]
            pub digest: ::prost::alloc::vec::Vec<i64>,
            #[prost(bytes = "vec", tag = "3")]
            pub salt: ::prost::alloc::vec::Vec<u8>,
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
            #[prost(bytes = "vec", tag = "4")]
            pub beacon_reveal: ::prost::alloc::vec::Vec<u8>,
            #[prost(bytes = "vec", tag = "5")]
            pub beacon_anchor: ::prost::alloc::vec::Vec<u8>,
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

pub mod inference {
    pub mod v1 {
        /// See `verdict/inference/v1/tx.proto`.
        #[derive(Clone, PartialEq, ::prost::Message)]
        pub struct Tensor {
            #[prost(string, tag = "1")]
            pub name: ::prost::alloc::string::String,
            #[prost(string, tag = "2")]
            pub dtype: ::prost::alloc::string::String,
            #[prost(int64, repeated, tag = "3")]
            pub shape: ::prost::alloc::vec::Vec<i64>,
            #[prost(bytes = "vec", tag = "4")]
            pub data: ::prost::alloc::vec::Vec<u8>,
        }

        /// See `verdict/inference/v1/tx.proto`.
        #[derive(Clone, PartialEq, ::prost::Message)]
        pub struct TensorSpec {
            #[prost(string, tag = "1")]
            pub name: ::prost::alloc::string::String,
            #[prost(string, tag = "2")]
            pub dtype: ::prost::alloc::string::String,
            #[prost(int64, repeated, tag = "3")]
            pub shape: ::prost::alloc::vec::Vec<i64>,
        }

        /// See `verdict/inference/v1/tx.proto`.
        #[derive(Clone, PartialEq, ::prost::Message)]
        pub struct MsgRegisterModel {
            #[prost(string, tag = "1")]
            pub owner: ::prost::alloc::string::String,
            #[prost(string, tag = "2")]
            pub model_id: ::prost::alloc::string::String,
            #[prost(string, tag = "3")]
            pub name: ::prost::alloc::string::String,
            #[prost(message, repeated, tag = "4")]
            pub inputs: ::prost::alloc::vec::Vec<TensorSpec>,
            #[prost(message, repeated, tag = "5")]
            pub outputs: ::prost::alloc::vec::Vec<TensorSpec>,
            #[prost(string, tag = "6")]
            pub tolerance: ::prost::alloc::string::String,
            #[prost(uint32, tag = "7")]
            pub max_output_len: u32,
            #[prost(string, tag = "8")]
            pub rtol: ::prost::alloc::string::String,
            #[prost(string, tag = "9")]
            pub input_min: ::prost::alloc::string::String,
            #[prost(string, tag = "10")]
            pub input_max: ::prost::alloc::string::String,
            #[prost(string, repeated, tag = "11")]
            pub uris: ::prost::alloc::vec::Vec<::prost::alloc::string::String>,
            #[prost(uint64, tag = "12")]
            pub size_bytes: u64,
        }

        /// See `verdict/inference/v1/tx.proto`.
        #[derive(Clone, PartialEq, ::prost::Message)]
        pub struct MsgRegisterModelResponse {}

        /// See `verdict/inference/v1/tx.proto`.
        #[derive(Clone, PartialEq, ::prost::Message)]
        pub struct MsgServeModel {
            #[prost(string, tag = "1")]
            pub operator: ::prost::alloc::string::String,
            #[prost(string, repeated, tag = "2")]
            pub model_ids: ::prost::alloc::vec::Vec<::prost::alloc::string::String>,
            #[prost(bool, tag = "3")]
            pub serve: bool,
        }

        /// See `verdict/inference/v1/tx.proto`.
        #[derive(Clone, PartialEq, ::prost::Message)]
        pub struct MsgServeModelResponse {}

        /// See `verdict/inference/v1/tx.proto`.
        #[derive(Clone, PartialEq, ::prost::Message)]
        pub struct MsgSubmitJob {
            #[prost(string, tag = "1")]
            pub requester: ::prost::alloc::string::String,
            #[prost(string, tag = "2")]
            pub model_id: ::prost::alloc::string::String,
            #[prost(message, repeated, tag = "3")]
            pub inputs: ::prost::alloc::vec::Vec<Tensor>,
            #[prost(uint32, tag = "4")]
            pub max_latency_ms: u32,
            #[prost(message, optional, tag = "5")]
            pub fee: ::core::option::Option<Coin>,
            #[prost(string, tag = "6")]
            pub spec_hash: ::prost::alloc::string::String,
        }

        /// `cosmos.base.v1beta1.Coin`, field-for-field.
        #[derive(Clone, PartialEq, ::prost::Message)]
        pub struct Coin {
            #[prost(string, tag = "1")]
            pub denom: ::prost::alloc::string::String,
            #[prost(string, tag = "2")]
            pub amount: ::prost::alloc::string::String,
        }

        /// See `verdict/inference/v1/tx.proto`.
        #[derive(Clone, PartialEq, ::prost::Message)]
        pub struct MsgSubmitJobResponse {
            #[prost(uint64, tag = "1")]
            pub job_id: u64,
        }

        /// See `verdict/inference/v1/tx.proto`.
        #[derive(Clone, PartialEq, ::prost::Message)]
        pub struct MsgRequestRemote {
            #[prost(string, tag = "1")]
            pub requester: ::prost::alloc::string::String,
            #[prost(string, tag = "2")]
            pub channel_id: ::prost::alloc::string::String,
            #[prost(string, tag = "3")]
            pub model_id: ::prost::alloc::string::String,
            #[prost(message, repeated, tag = "4")]
            pub inputs: ::prost::alloc::vec::Vec<Tensor>,
            #[prost(uint32, tag = "5")]
            pub max_latency_ms: u32,
            #[prost(message, optional, tag = "6")]
            pub fee: ::core::option::Option<Coin>,
            #[prost(uint64, tag = "7")]
            pub timeout_seconds: u64,
        }

        /// See `verdict/inference/v1/tx.proto`.
        #[derive(Clone, PartialEq, ::prost::Message)]
        pub struct MsgRequestRemoteResponse {
            #[prost(string, tag = "1")]
            pub channel_id: ::prost::alloc::string::String,
            #[prost(uint64, tag = "2")]
            pub sequence: u64,
        }

        /// See `verdict/inference/v1/tx.proto`.
        #[derive(Clone, PartialEq, ::prost::Message)]
        pub struct MsgReclaimRemote {
            #[prost(string, tag = "1")]
            pub requester: ::prost::alloc::string::String,
            #[prost(string, tag = "2")]
            pub channel_id: ::prost::alloc::string::String,
            #[prost(uint64, tag = "3")]
            pub sequence: u64,
        }

        pub const MSG_REGISTER_MODEL_URL: &str = "/verdict.inference.v1.MsgRegisterModel";
        pub const MSG_SUBMIT_JOB_URL: &str = "/verdict.inference.v1.MsgSubmitJob";
        pub const MSG_SERVE_MODEL_URL: &str = "/verdict.inference.v1.MsgServeModel";
        pub const MSG_REQUEST_REMOTE_URL: &str = "/verdict.inference.v1.MsgRequestRemote";
        pub const MSG_RECLAIM_REMOTE_URL: &str = "/verdict.inference.v1.MsgReclaimRemote";
    }
}
