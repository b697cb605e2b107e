//! Reading an input file (or standard input, for `-`) as text, with a size
//! limit checked before the file is read, so a wrong path to a huge file
//! fails at once instead of filling the memory.
//!
//! Only regular files are read: a FIFO, a directory or a device is refused
//! with a message before it is opened (opening a FIFO would wait for a
//! writer forever), and the file is opened without blocking and checked
//! again, in case it was swapped in between. Standard input may be a pipe.

use std::fs::{File, OpenOptions};
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use anyhow::{anyhow, Context};
use bank_backend::cluster::file::describe_file_type;

use crate::exit::Failure;

/// The whole file at `path` (or stdin for `-`), refusing more than `max`
/// bytes. A file that cannot be opened or read, or is not a regular file,
/// is [`Failure::NoInput`]; one too big or not UTF-8 is
/// [`Failure::BadInput`].
pub fn read_input(path: &Path, max: u64) -> Result<String, Failure> {
    let too_big = |size: u64| {
        Failure::BadInput(format!(
            "{}: the file is {size} bytes, over the limit of {max} bytes \
             (raise it with --max-input-bytes)",
            path.display()
        ))
    };
    // One byte more than allowed tells "too big" from "exactly the limit".
    let limit = max.saturating_add(1);
    let mut bytes = Vec::new();
    if path.as_os_str() == "-" {
        std::io::stdin()
            .take(limit)
            .read_to_end(&mut bytes)
            .context("reading standard input")
            .map_err(Failure::NoInput)?;
    } else {
        let file = open_regular(path).map_err(Failure::NoInput)?;
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        if size > max {
            return Err(too_big(size));
        }
        file.take(limit)
            .read_to_end(&mut bytes)
            .with_context(|| format!("reading {}", path.display()))
            .map_err(Failure::NoInput)?;
    }
    if bytes.len() as u64 > max {
        return Err(too_big(bytes.len() as u64));
    }
    String::from_utf8(bytes).map_err(|e| {
        Failure::BadInput(format!(
            "{}: not UTF-8 text (invalid byte at offset {})",
            path.display(),
            e.utf8_error().valid_up_to()
        ))
    })
}

/// Opens `path` for reading if it is a regular file, without ever blocking.
pub fn open_regular(path: &Path) -> anyhow::Result<File> {
    let not_regular = |kind| {
        anyhow!(
            "cannot read input file {}: it is {}, not a regular file",
            path.display(),
            describe_file_type(kind)
        )
    };
    let kind = std::fs::metadata(path)
        .with_context(|| format!("cannot open input file {}", path.display()))?
        .file_type();
    if !kind.is_file() {
        return Err(not_regular(kind));
    }
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .with_context(|| format!("cannot open input file {}", path.display()))?;
    let kind = file.metadata().with_context(|| format!("reading {}", path.display()))?.file_type();
    if !kind.is_file() {
        return Err(not_regular(kind));
    }
    Ok(file)
}
