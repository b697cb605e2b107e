//! The files and directories a command was asked to write (`--history`,
//! `--out-dir`, `--data-dir`): checked before the command runs, so a wrong
//! path fails at once with a message and status 73
//! ([`Failure::Unwritable`]) instead of after the run, or as an internal
//! error.

use std::fs::OpenOptions;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use anyhow::{anyhow, Context};
use bank_backend::cluster::file::describe_file_type;

use crate::exit::Failure;

/// Makes sure `dir` (given as `flag`) is a directory this process can write
/// in: created if missing, refused if it is a file or read-only.
pub fn writable_dir(dir: &Path, flag: &str) -> Result<(), Failure> {
    let shown = dir.display();
    if dir.as_os_str() == "-" {
        return Err(Failure::Usage(format!("{flag} -: give a directory name")));
    }
    if dir.exists() && !dir.is_dir() {
        return Err(Failure::Unwritable(anyhow!("{flag} {shown}: not a directory")));
    }
    std::fs::create_dir_all(dir)
        .with_context(|| format!("{flag} {shown}: cannot create the directory"))
        .map_err(Failure::Unwritable)?;
    // Creating a file is the one test of writability that cannot lie.
    let probe = dir.join(format!(".bank-write-test-{}", std::process::id()));
    std::fs::write(&probe, b"")
        .with_context(|| format!("{flag} {shown}: cannot write in the directory"))
        .map_err(Failure::Unwritable)?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// Makes sure the file `path` (given as `flag`) can be written, by opening
/// it for appending: an existing file is left as it is, a new one removed
/// again. A directory, FIFO or device is refused.
pub fn writable_file(path: &Path, flag: &str) -> Result<(), Failure> {
    let shown = path.display();
    if path.as_os_str() == "-" {
        // Not a file named `-` in the current folder, as it was.
        return Err(Failure::Usage(format!(
            "{flag} -: give a file name (stdout has the command's own output)"
        )));
    }
    let existing = std::fs::metadata(path).ok();
    if let Some(kind) = existing.as_ref().map(std::fs::Metadata::file_type) {
        if !kind.is_file() {
            return Err(Failure::Unwritable(anyhow!(
                "{flag} {shown}: it is {}, not a regular file",
                describe_file_type(kind)
            )));
        }
    }
    OpenOptions::new()
        .append(true)
        .create(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .with_context(|| format!("{flag} {shown}: cannot write the file"))
        .map_err(Failure::Unwritable)?;
    if existing.is_none() {
        let _ = std::fs::remove_file(path);
    }
    Ok(())
}

/// Writes `text` to `path` (given as `flag`); a failure is
/// [`Failure::Unwritable`].
pub fn write_file(path: &Path, text: &str, flag: &str) -> Result<(), Failure> {
    std::fs::write(path, text)
        .with_context(|| format!("{flag} {}: cannot write the file", path.display()))
        .map_err(Failure::Unwritable)
}
