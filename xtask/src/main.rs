//! Project automation, in Rust so it runs wherever cargo does.
//!
//! * `cargo xtask serve [bank serve options]`: build the visualizer (release)
//!   and start `bank serve`, printing the URL. The README's run command.
//! * `cargo xtask test`: install whatever this machine lacks, then run every
//!   test of the project: native unit / property / cluster tests, the
//!   frontend's wasm tests in headless Chromium, and the browser end-to-end
//!   test against the real `bank serve`. CI (`.ci/run`) calls exactly this.
//! * `cargo xtask bench`: speed next to the machine's limit, into `BENCHMARKS.md`.
//! * `cargo xtask site [DIR]`: the visualizer as a folder for any static host
//!   (relative paths, the simulator inside), `site/` by default.
//! * `cargo xtask lint`: `cargo fmt --check` and clippy (`-D warnings`),
//!   native and wasm; the first step of `test`.
//! * `cargo xtask install`: only the installation step.
//!
//! Every install step is skipped when the tool is already there at the
//! right version, so a second run costs nothing. Nothing is downloaded from
//! GitHub (it is unreachable here): trunk and wasm-bindgen-cli come from
//! crates.io, wasm-opt from npm's `binaryen`, Chromium from Debian.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  serve [ARGS]  build the visualizer (release) and run `bank serve ARGS` (default 127.0.0.1:8080)
  test          install what is missing, check formatting and lints, then run every test
                (what CI runs)
  lint          only `cargo fmt --check` and clippy (warnings are errors)
  bench         measure the cluster against the raw gRPC limit; writes BENCHMARKS.md
  bench scale   only how `bank run` scales (memory by branches, time by events): replaces
                that section of BENCHMARKS.md
  site [DIR]    build the visualizer into DIR (default site/) for any static host: relative
                paths, no server needed (the bank runs in the browser)
  install       install what is missing (Rust target, trunk, wasm-bindgen-cli, wasm-opt,
                Chromium, playwright-core, nginx) and stop";

const TRUNK_VERSION: &str = "0.21.14";
const BINARYEN_VERSION: &str = "132.0.0";

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("test") => {
            install(Needs { browser: true })?;
            test()
        }
        Some("serve") => {
            install(Needs { browser: false })?;
            build_frontend()?;
            let mut bank = vec![
                "run",
                "--release",
                "--locked",
                "-p",
                "bank-backend",
                "--bin",
                "bank",
                "--",
                "serve",
            ];
            bank.extend(args[1..].iter().map(String::as_str));
            run(cmd("cargo", &bank))
        }
        Some("install") => install(Needs { browser: true }),
        Some("lint") => {
            ensure_wasm_target()?;
            lint()
        }
        Some("bench") if args.get(1).map(String::as_str) == Some("scale") => bench_scale(),
        Some("bench") => bench(),
        Some("site") => {
            install(Needs { browser: false })?;
            site(args.get(1).map_or("site", String::as_str))
        }
        Some("-h" | "--help" | "help") | None => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => bail!("unknown command `{other}`\n{USAGE}"),
    }
}

/// The workspace root (the parent of this crate's directory).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

/// Cargo's target directory (`CARGO_TARGET_DIR` if set, else `target/`).
fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root().join(dir),
        None => root().join("target"),
    }
}

/// Where npm-installed tools go (`.tools/node_modules/.bin`), gitignored.
fn tools_dir() -> PathBuf {
    root().join(".tools")
}

/// PATH with cargo's bin directory and the npm tools in front, so the tools
/// installed here are found by trunk and by the tests.
fn tool_path() -> String {
    let mut dirs = vec![tools_dir().join("node_modules/.bin")];
    if let Some(home) = std::env::var_os("HOME") {
        dirs.push(PathBuf::from(home).join(".cargo/bin"));
    }
    let mut path =
        std::env::join_paths(dirs).expect("valid dirs").into_string().expect("utf-8 path");
    if let Ok(rest) = std::env::var("PATH") {
        path = format!("{path}:{rest}");
    }
    path
}

/// A command in the workspace root with the tool PATH.
fn cmd(program: &str, args: &[&str]) -> Command {
    let mut c = Command::new(program);
    c.args(args).current_dir(root()).env("PATH", tool_path());
    c
}

/// Runs a command, echoing it, failing on a non-zero exit.
fn run(mut command: Command) -> Result<()> {
    let shown = format!("{command:?}");
    eprintln!("$ {shown}");
    let status = command.status().with_context(|| format!("could not start {shown}"))?;
    if !status.success() {
        bail!("{shown} failed ({status})");
    }
    Ok(())
}

/// The first line a command prints on stdout, or `None` if it cannot run.
fn output_of(program: &str, args: &[&str]) -> Option<String> {
    let out = cmd(program, args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// The version of `package` that Cargo.lock pins.
fn locked_version(package: &str) -> Result<String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock")).context("reading Cargo.lock")?;
    let needle = format!("name = \"{package}\"\nversion = \"");
    let start = lock.find(&needle).with_context(|| format!("{package} is not in Cargo.lock"))?
        + needle.len();
    let end = lock[start..].find('"').context("malformed Cargo.lock")? + start;
    Ok(lock[start..end].to_owned())
}

#[derive(Clone, Copy, Debug)]
struct Needs {
    /// Chromium, chromedriver, playwright-core and nginx (tests only).
    browser: bool,
}

/// The wasm32 target (the frontend's build, tests and lints need it).
fn ensure_wasm_target() -> Result<()> {
    let targets = output_of("rustup", &["target", "list", "--installed"]).unwrap_or_default();
    if !targets.lines().any(|t| t == "wasm32-unknown-unknown") {
        run(cmd("rustup", &["target", "add", "wasm32-unknown-unknown"]))?;
    }
    Ok(())
}

fn install(needs: Needs) -> Result<()> {
    ensure_wasm_target()?;

    // trunk 0.22 needs a newer rustc than this project's 1.95.
    if output_of("trunk", &["--version"]).as_deref() != Some(&format!("trunk {TRUNK_VERSION}")) {
        eprintln!("xtask: installing trunk {TRUNK_VERSION} (several minutes on 2 cores)");
        run(cmd("cargo", &["install", "trunk", "--version", TRUNK_VERSION, "--locked"]))?;
    }

    // wasm-bindgen-cli must match the wasm-bindgen library exactly. Its own
    // lockfile pins a crate the registry lacks, so no `--locked` here.
    let bindgen = locked_version("wasm-bindgen")?;
    if output_of("wasm-bindgen", &["--version"]).as_deref()
        != Some(&format!("wasm-bindgen {bindgen}"))
    {
        eprintln!("xtask: installing wasm-bindgen-cli {bindgen}");
        run(cmd("cargo", &["install", "wasm-bindgen-cli", "--version", &bindgen, "--force"]))?;
    }

    // wasm-opt from npm's binaryen (Debian's version 108 breaks the app at runtime).
    let wasm_opt = tools_dir().join("node_modules/.bin/wasm-opt");
    if !output_of(wasm_opt.to_str().expect("utf-8 path"), &["--version"])
        .is_some_and(|v| v.contains("132"))
    {
        std::fs::create_dir_all(tools_dir())?;
        let prefix = tools_dir();
        run(cmd(
            "npm",
            &[
                "install",
                "--no-audit",
                "--no-fund",
                "--prefix",
                prefix.to_str().expect("utf-8"),
                &format!("binaryen@{BINARYEN_VERSION}"),
            ],
        ))?;
    }

    if needs.browser {
        let mut packages: Vec<&str> = Vec::new();
        if !Path::new("/usr/bin/chromium").exists() || !Path::new("/usr/bin/chromedriver").exists()
        {
            packages.extend(["chromium", "chromium-driver"]);
        }
        // The reverse proxy of backend/tests/proxy.rs (deploy/nginx.conf).
        if !Path::new("/usr/sbin/nginx").exists() {
            packages.push("nginx");
        }
        if !packages.is_empty() {
            eprintln!("xtask: installing {} from Debian", packages.join(", "));
            let sudo: &[&str] = if is_root() { &[] } else { &["sudo"] };
            let apt = |args: &[&str]| {
                let mut all: Vec<&str> = sudo.to_vec();
                all.push("apt-get");
                all.extend_from_slice(args);
                let mut c = cmd(all[0], &all[1..]);
                c.env("DEBIAN_FRONTEND", "noninteractive");
                c
            };
            run(apt(&["update", "-qq"]))?;
            let mut install = vec!["install", "-y", "-qq"];
            install.extend(&packages);
            run(apt(&install))?;
        }
        if e2e_modules_stale() {
            run(cmd("npm", &["ci", "--no-audit", "--no-fund", "--prefix", "frontend/e2e"]))?;
        }
    }
    Ok(())
}

/// Whether `frontend/e2e/node_modules` is missing or older than its
/// `package-lock.json` (a dependency added since the last `npm ci`, such as
/// axe-core): npm writes `node_modules/.package-lock.json` on every install.
fn e2e_modules_stale() -> bool {
    let modified = |path: &str| std::fs::metadata(root().join(path)).and_then(|m| m.modified());
    match (
        modified("frontend/e2e/node_modules/.package-lock.json"),
        modified("frontend/e2e/package-lock.json"),
    ) {
        (Ok(installed), Ok(locked)) => installed < locked,
        _ => true,
    }
}

/// The network-namespace test needs `ip` (iproute2), which a minimal
/// Debian lacks. Without root the test skips itself, so nothing to install.
fn ensure_iproute2() -> Result<()> {
    if output_of("ip", &["-V"]).is_some() || !is_root() {
        return Ok(());
    }
    eprintln!("xtask: installing iproute2 (for the network-namespace test)");
    let apt = |args: &[&str]| {
        let mut c = cmd("apt-get", args);
        c.env("DEBIAN_FRONTEND", "noninteractive");
        c
    };
    run(apt(&["update", "-qq"]))?;
    run(apt(&["install", "-y", "-qq", "iproute2"]))
}

fn is_root() -> bool {
    output_of("id", &["-u"]).as_deref() == Some("0")
}

/// `cargo fmt --check` and clippy with every warning an error, over the
/// native crates and the frontend's wasm build.
fn lint() -> Result<()> {
    run(cmd("cargo", &["fmt", "--all", "--check"]))?;
    let deny = ["--", "-D", "warnings"];
    let mut native =
        vec!["clippy", "--locked", "--workspace", "--exclude", "bank-frontend", "--all-targets"];
    native.extend(deny);
    run(cmd("cargo", &native))?;
    let mut wasm = vec![
        "clippy",
        "--locked",
        "-p",
        "bank-frontend",
        "--target",
        "wasm32-unknown-unknown",
        "--all-targets",
    ];
    wasm.extend(deny);
    run(cmd("cargo", &wasm))
}

/// `trunk build --release` into `dist/`, with relative paths (`./`), so the
/// folder works wherever it is served: by `bank serve` at `/`, or copied
/// anywhere on a static host.
fn build_frontend() -> Result<()> {
    run(cmd("trunk", &["build", "--release", "--public-url", "./"]))
}

/// `cargo xtask site DIR`: the release build into `DIR`, checked to load
/// nothing by an absolute path (a static host may put it under any prefix).
fn site(dir: &str) -> Result<()> {
    let out = root().join(dir);
    let out_str = out.to_str().context("non-UTF-8 path")?;
    run(cmd("trunk", &["build", "--release", "--public-url", "./", "--dist", out_str]))?;
    let index_path = out.join("index.html");
    let index = std::fs::read_to_string(&index_path).context("the built index.html")?;
    let index = mark_static(&index).context("the built index.html has no <head>")?;
    std::fs::write(&index_path, &index)
        .with_context(|| format!("writing {}", index_path.display()))?;
    for absolute in ["href=\"/", "src=\"/", "from '/", "from \"/", "('/"] {
        if index.contains(absolute) {
            bail!(
                "{}: an absolute path ({absolute}…): not relocatable",
                out.join("index.html").display()
            );
        }
    }
    eprintln!(
        "xtask: {} is ready: copy it to any static host (see the README, \"A course page with no server\")",
        out.display()
    );
    Ok(())
}

/// What tells the page it was built for a static host, so it starts on the
/// in-browser simulator without probing for a lab server first
/// (`frontend/src/engine/choose.rs`, `SITE_META`: the same text).
const SITE_META: &str = r#"<meta name="bank-site" content="static">"#;

/// `index` with [`SITE_META`] first in its `<head>`; `None` without one.
fn mark_static(index: &str) -> Option<String> {
    if index.contains(SITE_META) {
        return Some(index.to_owned());
    }
    let head = index.find("<head>")? + "<head>".len();
    Some(format!("{}\n    {SITE_META}{}", &index[..head], &index[head..]))
}

/// `BENCHMARKS.md`: the Rust harness (cluster, limit, simulator, sizes,
/// memory), then the browser numbers spliced in at its marker.
fn bench() -> Result<()> {
    install(Needs { browser: true })?;
    build_frontend()?;
    run(cmd("cargo", &["build", "--release", "--locked", "-p", "bank-backend", "--bin", "bank"]))?;
    // Absolute: cargo runs a bench from its package's directory.
    let out = root().join("BENCHMARKS.md");
    let out_str = out.to_str().context("non-UTF-8 path")?;
    run(cmd(
        "cargo",
        &["bench", "--locked", "-p", "bank-backend", "--bench", "cluster", "--", "--out", out_str],
    ))?;

    eprintln!("$ node frontend/e2e/bench/browser.mjs");
    let browser = cmd("node", &["frontend/e2e/bench/browser.mjs"])
        .env("BANK_BIN", target_dir().join("release/bank"))
        .env("BANK_DIST", root().join("dist"))
        .output()
        .context("running the browser benchmark")?;
    if !browser.status.success() {
        bail!("browser benchmark failed: {}", String::from_utf8_lossy(&browser.stderr));
    }
    let section = String::from_utf8(browser.stdout).context("browser benchmark output")?;
    let report = std::fs::read_to_string(&out)?;
    let marker = report
        .lines()
        .find(|l| l.starts_with("<!-- browser measurements"))
        .context("no browser marker in BENCHMARKS.md")?;
    std::fs::write(&out, report.replace(marker, section.trim_end()))?;
    eprintln!("xtask: wrote {}", out.display());
    Ok(())
}

/// `cargo xtask bench scale`: the harness's scale section alone (see
/// `backend/benches/scale/mod.rs`), put in place of that section of
/// `BENCHMARKS.md` (or before the record of fixes if it has none yet).
fn bench_scale() -> Result<()> {
    run(cmd("cargo", &["build", "--release", "--locked", "-p", "bank-backend", "--bin", "bank"]))?;
    eprintln!("$ cargo bench -p bank-backend --bench cluster -- --only scale");
    let bench = cmd(
        "cargo",
        &["bench", "--locked", "-p", "bank-backend", "--bench", "cluster", "--", "--only", "scale"],
    )
    .stderr(std::process::Stdio::inherit())
    .output()
    .context("running the scale benchmark")?;
    if !bench.status.success() {
        bail!("the scale benchmark failed");
    }
    let section = String::from_utf8(bench.stdout).context("scale benchmark output")?;
    let out = root().join("BENCHMARKS.md");
    let report = std::fs::read_to_string(&out).context("reading BENCHMARKS.md")?;
    std::fs::write(&out, splice_section(&report, section.trim()))?;
    eprintln!("xtask: wrote {}", out.display());
    Ok(())
}

/// `report` with the markdown section whose heading line is `section`'s
/// first line replaced by `section` (up to the next `## ` heading), or with
/// `section` inserted before the record of fixes (`## 6. What the numbers`)
/// or at the end.
fn splice_section(report: &str, section: &str) -> String {
    let heading = section.lines().next().unwrap_or_default();
    let lines: Vec<&str> = report.lines().collect();
    let start = lines.iter().position(|l| *l == heading);
    let (before, after) = match start {
        Some(i) => {
            let end = lines[i + 1..]
                .iter()
                .position(|l| l.starts_with("## "))
                .map_or(lines.len(), |e| i + 1 + e);
            (&lines[..i], &lines[end..])
        }
        None => {
            let at = lines
                .iter()
                .position(|l| l.starts_with("## 6. What the numbers"))
                .unwrap_or(lines.len());
            (&lines[..at], &lines[at..])
        }
    };
    let mut out = before.join("\n");
    out.push_str(if before.is_empty() { "" } else { "\n" });
    out.push_str(section);
    out.push_str("\n\n");
    out.push_str(&after.join("\n"));
    out.push('\n');
    out
}

fn test() -> Result<()> {
    ensure_iproute2()?;
    // 0. Style and lints first: they take seconds and fail the fastest.
    lint()?;
    // 1. Native crates: core unit + property tests, formats, real cluster, CLI, lab,
    //    and branch processes in network namespaces (`backend/tests/netns.rs`, as root).
    run(cmd("cargo", &["test", "--locked", "--workspace", "--exclude", "bank-frontend"]))?;

    // 2. The frontend's wasm tests, in headless Chromium via chromedriver.
    let mut wasm = cmd(
        "cargo",
        &["test", "--locked", "-p", "bank-frontend", "--target", "wasm32-unknown-unknown"],
    );
    wasm.env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER", "wasm-bindgen-test-runner")
        .env("CHROMEDRIVER", "/usr/bin/chromedriver")
        .env("WASM_BINDGEN_TEST_TIMEOUT", "120")
        .current_dir(root().join("frontend"));
    run(wasm)?;

    // 3. The browser end-to-end test: release frontend + release server.
    build_frontend()?;
    run(cmd("cargo", &["build", "--release", "--locked", "-p", "bank-backend", "--bin", "bank"]))?;
    let mut e2e = cmd("node", &["--test", "--test-reporter=spec", "frontend/e2e/"]);
    e2e.env("BANK_BIN", target_dir().join("release/bank"))
        .env("BANK_DIST", root().join("dist"))
        .env("ARTIFACTS", target_dir().join("e2e-artifacts"));
    run(e2e)?;
    eprintln!(
        "xtask: all tests passed; browser screenshots in {}",
        target_dir().join("e2e-artifacts").display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{mark_static, splice_section, SITE_META};

    #[test]
    fn a_site_build_says_it_is_for_a_static_host_once() {
        let index = "<!doctype html>\n<html>\n  <head>\n    <title>t</title>\n  </head>\n</html>\n";
        let marked = mark_static(index).unwrap();
        assert_eq!(marked.matches(SITE_META).count(), 1);
        assert!(marked.find(SITE_META) < marked.find("<title>"), "{marked}");
        assert_eq!(mark_static(&marked).unwrap(), marked, "building again adds no second one");
        assert_eq!(mark_static("<html></html>"), None);
    }

    #[test]
    fn a_section_replaces_its_old_text_or_goes_before_the_record_of_fixes() {
        let old = "# B\n\n## 5. Memory\n\nm\n\n## 5b. Scale\n\nold rows\n\n## 6. What the numbers led to\n\nr\n";
        let new = splice_section(old, "## 5b. Scale\n\nnew rows");
        assert_eq!(new, "# B\n\n## 5. Memory\n\nm\n\n## 5b. Scale\n\nnew rows\n\n## 6. What the numbers led to\n\nr\n");
        let without = "# B\n\n## 5. Memory\n\nm\n\n## 6. What the numbers led to\n\nr\n";
        assert_eq!(splice_section(without, "## 5b. Scale\n\nnew rows"), new);
        assert_eq!(splice_section("", "## 5b. Scale"), "## 5b. Scale\n\n\n");
    }
}
