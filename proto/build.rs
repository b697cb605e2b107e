//! Compiles the five files of `bank/v1/` with protox (pure Rust: no system
//! `protoc` needed). They share the package `bank.v1`, so everything lands in
//! one generated module, `bank_proto::v1`.
//!
//! Server traits are generated but gated behind the crate's `server` feature,
//! and no transport-dependent `connect()` is generated (clients are built with
//! `CustomerClient::new(channel)` and so on), so the wasm frontend can use this
//! same crate client-only, over a grpc-web transport.

/// Every file of the contract, shared vocabulary first.
const FILES: [&str; 5] = [
    "bank/v1/types.proto",
    "bank/v1/customer.proto",
    "bank/v1/replica.proto",
    "bank/v1/admin.proto",
    "bank/v1/lab.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A directory named here is watched as a whole: adding a file reruns too.
    println!("cargo:rerun-if-changed=bank");
    let descriptors = protox::compile(FILES, ["."])?;
    tonic_prost_build::configure()
        .server_mod_attribute(".", r#"#[cfg(feature = "server")]"#)
        .build_transport(false)
        .compile_fds(descriptors)?;
    Ok(())
}
