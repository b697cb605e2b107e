//! Reading an input file (or standard input, for `-`) as text, with a size
//! limit checked before the file is read, so a wrong path to a huge file
//! fails at once instead of filling the memory.

use std::io::Read;
use std::path::Path;

use anyhow::Context;

use crate::exit::Failure;

/// The whole file at `path` (or stdin for `-`), refusing more than `max`
/// bytes. A file that cannot be opened or read is [`Failure::NoInput`]; one
/// too big or not UTF-8 is [`Failure::BadInput`].
pub fn read_input(path: &Path, max: u64) -> Result<String, Failure> {
    let too_big = |size: u64| {
        Failure::BadInput(format!(
            "{}: the file is {size} bytes, over the limit of {max} bytes \
             (raise it with --max-input-bytes)",
            path.display()
        ))
    };
    let mut bytes = Vec::new();
    if path.as_os_str() == "-" {
        std::io::stdin()
            .take(max + 1)
            .read_to_end(&mut bytes)
            .context("reading standard input")
            .map_err(Failure::NoInput)?;
    } else {
        let file = std::fs::File::open(path)
            .with_context(|| format!("cannot open input file {}", path.display()))
            .map_err(Failure::NoInput)?;
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        if size > max {
            return Err(too_big(size));
        }
        file.take(max + 1)
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
