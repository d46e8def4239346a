//! Compiles every `.proto` file of the project (`verdict/**`) and the vendored
//! third-party ones it serves (`third_party/**`, see scripts/proto-vendor.py)
//! with protox, a pure-Rust protobuf compiler: no protoc on the machine.
//!
//! Two outputs in OUT_DIR:
//! - `descriptor.bin`: the encoded `FileDescriptorSet` of all of them, which the
//!   node uses for the REST gateway's paths and JSON, amino-JSON signing and
//!   gRPC reflection;
//! - `verdict.*.rs`: the prost types of Verdict's own packages, so the `.proto`
//!   files and the Rust types cannot disagree. Cosmos types are not generated
//!   again: they resolve to `cosmos-sdk-proto`'s (the ones cosmrs re-exports).

use std::path::{Path, PathBuf};

use prost::Message;

fn protos(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            protos(&p, out);
        } else if p.extension().is_some_and(|e| e == "proto") {
            out.push(p);
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let third = root.join("third_party");
    let mut files = Vec::new();
    protos(&root.join("verdict"), &mut files);
    protos(&third, &mut files);
    println!("cargo:rerun-if-changed=verdict");
    println!("cargo:rerun-if-changed=third_party");

    let fds = protox::compile(&files, [&third, &root])?;
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(out.join("descriptor.bin"), fds.encode_to_vec())?;

    let ours = prost_types::FileDescriptorSet {
        file: fds
            .file
            .iter()
            .filter(|f| f.package().starts_with("verdict."))
            .cloned()
            .collect(),
    };
    prost_build::Config::new()
        .extern_path(".cosmos", "::cosmos_sdk_proto::cosmos")
        .compile_fds(ours)?;
    Ok(())
}
