//! Compiles `bank.proto` with protox (pure Rust: no system `protoc` needed).
//!
//! Server traits are generated but gated behind the crate's `server` feature,
//! and no transport-dependent `connect()` is generated (clients are built with
//! `BranchClient::new(channel)`), so the wasm frontend can use this same crate
//! client-only, over a grpc-web transport.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=bank.proto");
    let descriptors = protox::compile(["bank.proto"], ["."])?;
    tonic_prost_build::configure()
        .server_mod_attribute(".", r#"#[cfg(feature = "server")]"#)
        .build_transport(false)
        .compile_fds(descriptors)?;
    Ok(())
}
