//! Project automation, in Rust so it runs wherever cargo does.
//!
//! * `cargo xtask test`: install whatever this machine lacks, then run every
//!   test of the project. CI (`.ci/run`) calls exactly this.
//! * `cargo xtask install`: only the installation step.
//!
//! Every install step is skipped when the tool is already there, so a second
//! run costs nothing.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  test      install what is missing, then run every test (what CI runs)
  install   install what is missing (Rust targets and tools) and stop";

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("test") => {
            install()?;
            test()
        }
        Some("install") => install(),
        Some("-h" | "--help" | "help") | None => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => bail!("unknown command `{other}`\n{USAGE}"),
    }
}

/// The workspace root (the parent of this crate's directory).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the workspace").to_path_buf()
}

/// Runs a command in the workspace root, echoing it, failing on a non-zero exit.
fn run(program: &str, args: &[&str]) -> Result<()> {
    eprintln!("$ {program} {}", args.join(" "));
    let status = Command::new(program)
        .args(args)
        .current_dir(root())
        .status()
        .with_context(|| format!("could not start `{program}`"))?;
    if !status.success() {
        bail!("`{program} {}` failed ({status})", args.join(" "));
    }
    Ok(())
}

fn install() -> Result<()> {
    // Nothing beyond the Rust toolchain is needed yet: protos are compiled
    // with protox (pure Rust), and every test runs on loopback.
    eprintln!("xtask: nothing to install for the native crates");
    Ok(())
}

fn test() -> Result<()> {
    run("cargo", &["test", "--workspace", "--locked"])
}
