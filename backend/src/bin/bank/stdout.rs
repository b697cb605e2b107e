//! What `bank` prints on stdout, through one writer that knows a closed
//! pipe from a failure.
//!
//! A reader that stops early (`bank check history.json | head`) closes the
//! pipe; `println!` would panic there ("failed printing to stdout"), and a
//! plain write error reads as an internal error. Here it ends the command
//! quietly with status 141 (128 + SIGPIPE, what `cat` or `grep` end with
//! in the same place): [`Failure::StdoutClosed`]. Any other write error
//! (a full disk behind `> file`) is an output that cannot be written,
//! status 73 ([`Failure::Unwritable`]).

use std::fmt;
use std::io::{ErrorKind, Write};

use anyhow::anyhow;

use crate::exit::Failure;

/// Writes `text` to stdout and flushes it.
pub fn write(text: fmt::Arguments<'_>) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    match out.write_fmt(text).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::BrokenPipe => Err(Failure::StdoutClosed),
        Err(e) => Err(Failure::Unwritable(anyhow!("cannot write to stdout: {e}"))),
    }
}

/// `print!` that returns a [`Failure`] instead of panicking.
macro_rules! out {
    ($($arg:tt)*) => { $crate::stdout::write(format_args!($($arg)*)) };
}

/// `println!` that returns a [`Failure`] instead of panicking.
macro_rules! outln {
    () => { $crate::stdout::write(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::stdout::write(format_args!("{}\n", format_args!($($arg)*))) };
}

pub(crate) use {out, outln};
