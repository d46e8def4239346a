//! Compiles every `.proto` file of the project (`verdict/**`) and the vendored
//! third-party ones it serves (`third_party/**`, see scripts/proto-vendor.py)
//! with protox, a pure-Rust protobuf compiler: no protoc on the machine.
//!
//! Two outputs in OUT_DIR:
//! - `descriptor.bin`: the encoded `FileDescriptorSet` of all of them, which the
//!   node uses for the REST gateway's paths and JSON, amino-JSON signing and
//!   gRPC reflection;
//! - `verdict.*.rs`: the prost types of Verdict's own packages and the tonic
//!   server trait and client of each of their services, so the `.proto` files
//!   and the Rust code cannot disagree. Cosmos types are not generated
//!   again: they resolve to `cosmos-sdk-proto`'s (the ones cosmrs re-exports).

use std::path::{Path, PathBuf};

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

    let mut compiler = protox::Compiler::new([&third, &root])?;
    compiler
        .include_imports(true)
        .include_source_info(true)
        .open_files(&files)?;
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    // `encode_file_descriptor_set`, not `file_descriptor_set().encode_to_vec()`:
    // prost-types' option messages have no extension fields, so going through
    // them would drop every custom option (amino names, google.api.http rules).
    std::fs::write(
        out.join("descriptor.bin"),
        compiler.encode_file_descriptor_set(),
    )?;
    let fds = compiler.file_descriptor_set();

    let ours = prost_types::FileDescriptorSet {
        file: fds
            .file
            .iter()
            .filter(|f| f.package().starts_with("verdict."))
            .cloned()
            .collect(),
    };
    // Messages by prost-build; each service's gRPC server trait and client by
    // tonic-build's generator, from the same descriptors.
    let grpc = tonic_build::configure()
        .build_server(true)
        .build_client(true)
        .service_generator();
    prost_build::Config::new()
        .extern_path(".cosmos", "::cosmos_sdk_proto::cosmos")
        .service_generator(grpc)
        .compile_fds(ours)?;
    Ok(())
}
