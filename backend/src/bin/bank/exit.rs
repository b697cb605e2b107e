//! How `bank` ends: the documented exit statuses, and [`Failure`], the
//! reason for any status but 0.
//!
//! Every subcommand returns `Result<(), Failure>`; `main` turns the error
//! into one line on stderr and its status with [`Failure::exit`]. The
//! statuses follow sysexits(3) where one fits, so scripts (and the course's
//! graders) can tell a wrong input from a broken tool:
//!
//! | status | meaning |
//! |---|---|
//! | 0 | success |
//! | 1 | `check` found violations; `sim` saw a guarantee that was on broken; `grade` found a submission not valid |
//! | 2 | bad command line: clap exits with it before any command runs, and [`Failure::Usage`] once the input shows a flag cannot work (`--base-port 65535` for three branches) |
//! | 3 | `run` completed, but some requests failed (a branch was down, cut off or not ready in time) or a branch's final state could not be read (the output is printed without it); stderr lists them |
//! | 65 | bad input file, cluster file or setting (EX_DATAERR) |
//! | 66 | the input, history or cluster file cannot be read, or is not a regular file (EX_NOINPUT) |
//! | 69 | an address or a branch the command needs is not available: a port already in use, or branches of a cluster file that refuse connections (EX_UNAVAILABLE) |
//! | 70 | internal failure (EX_SOFTWARE): a bug, never a user's mistake |
//! | 73 | an output cannot be created or written: `--history`, `--out-dir`, `--data-dir`, stdout (a full disk) (EX_CANTCREAT) |
//! | 130 | interrupted by Ctrl-C (128 + SIGINT) |
//! | 141 | stdout was closed before the output was all written (`\| head`); nothing is said on stderr (128 + SIGPIPE, as `cat` ends there) |
//!
//! Inside a command, `?` on an [`anyhow::Result`] is an internal failure:
//! give it a `.context(...)` that says what was being done. The other
//! variants are built where their cause is known.

use std::process::ExitCode;

use bank_backend::cluster::file::ClusterFileError;

/// Exit status when `check` or `sim` found what it looks for.
const EXIT_VIOLATIONS: u8 = 1;
/// Exit status for a bad command line (what clap uses too).
const EXIT_USAGE: u8 = 2;
/// Exit status when a run completed but some requests failed with a fault
/// (see `bank_core::FailReason::is_fault`).
const EXIT_FAILED_REQUESTS: u8 = 3;
/// Exit status for a bad input file (sysexits' EX_DATAERR).
const EXIT_BAD_INPUT: u8 = 65;
/// Exit status when the input file cannot be read (EX_NOINPUT).
const EXIT_NO_INPUT: u8 = 66;
/// Exit status when an address or branch is not available (EX_UNAVAILABLE).
const EXIT_UNAVAILABLE: u8 = 69;
/// Exit status for an internal failure (EX_SOFTWARE).
const EXIT_INTERNAL: u8 = 70;
/// Exit status when an output file or directory cannot be created (EX_CANTCREAT).
const EXIT_CANT_CREATE: u8 = 73;
/// Exit status after Ctrl-C (128 + SIGINT).
const EXIT_INTERRUPTED: u8 = 130;
/// Exit status when stdout's reader went away (128 + SIGPIPE).
const EXIT_STDOUT_CLOSED: u8 = 141;

/// Why a command ends with a status other than 0; see the module docs.
#[derive(Debug)]
pub enum Failure {
    /// The report is printed already and shows violations (status 1).
    Violations,
    /// A flag that cannot work with this input, found once the input was
    /// read (status 2, like clap's own refusals).
    Usage(String),
    /// The input, cluster file or a setting is wrong; the message says how
    /// (status 65).
    BadInput(String),
    /// The input file could not be opened or read (status 66).
    NoInput(anyhow::Error),
    /// Something that should have worked did not (status 70), reported as
    /// an internal error.
    Internal(anyhow::Error),
    /// The machine did not give what the command needs: a port in use, a
    /// branch that refuses connections (status 69). Not a bug.
    Unavailable(anyhow::Error),
    /// A file or directory the user named for output (`--history`,
    /// `--out-dir`, `--data-dir`) cannot be created or written (status 73).
    Unwritable(anyhow::Error),
    /// Ctrl-C stopped the run; the cluster was shut down (status 130).
    Interrupted,
    /// Ctrl-C stopped a computation, which printed what it had; this says
    /// what was left undone (status 130).
    InterruptedAfter(String),
    /// The run completed and its output is printed, but some requests
    /// failed with a fault; the summary is printed already (status 3).
    FailedRequests,
    /// Whoever read stdout stopped reading (`| head`): the command ends
    /// quietly (status 141). See `stdout.rs`.
    StdoutClosed,
}

impl Failure {
    /// `BadInput` with a message from anything displayable.
    pub fn bad_input(message: impl std::fmt::Display) -> Failure {
        Failure::BadInput(message.to_string())
    }

    /// Prints what went wrong on stderr (`Violations`: nothing, the report
    /// said it) and gives the exit status.
    pub fn exit(self) -> ExitCode {
        let status = match self {
            Failure::Violations => EXIT_VIOLATIONS,
            Failure::Usage(message) => {
                eprintln!("error: {message}");
                EXIT_USAGE
            }
            Failure::BadInput(message) => {
                eprintln!("error: {message}");
                EXIT_BAD_INPUT
            }
            Failure::NoInput(e) => {
                eprintln!("error: {e:#}");
                EXIT_NO_INPUT
            }
            Failure::Internal(e) => {
                eprintln!("internal error: {e:#}");
                EXIT_INTERNAL
            }
            Failure::Unavailable(e) => {
                eprintln!("error: {e:#}");
                EXIT_UNAVAILABLE
            }
            Failure::Unwritable(e) => {
                eprintln!("error: {e:#}");
                EXIT_CANT_CREATE
            }
            Failure::Interrupted => {
                eprintln!("interrupted: cluster stopped");
                EXIT_INTERRUPTED
            }
            Failure::InterruptedAfter(what) => {
                eprintln!("interrupted: {what}");
                EXIT_INTERRUPTED
            }
            Failure::FailedRequests => EXIT_FAILED_REQUESTS,
            Failure::StdoutClosed => EXIT_STDOUT_CLOSED,
        };
        ExitCode::from(status)
    }
}

/// A cluster file that cannot be read is a missing input (66); one that
/// reads but is wrong is bad input (65).
impl From<ClusterFileError> for Failure {
    fn from(e: ClusterFileError) -> Self {
        match e {
            ClusterFileError::Read { .. } => Failure::NoInput(e.into()),
            ClusterFileError::Invalid { .. } => Failure::bad_input(e),
        }
    }
}

/// `?` on an `anyhow::Result` inside a command: an internal failure,
/// unless what failed underneath is an address in use or a connection
/// refused, which the user can fix (another server on the port, branches
/// not started).
impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        use std::io::ErrorKind;
        let fixable = |io: &std::io::Error| {
            matches!(
                io.kind(),
                ErrorKind::AddrInUse | ErrorKind::AddrNotAvailable | ErrorKind::ConnectionRefused
            )
        };
        let unavailable = e.chain().any(|cause| {
            cause.downcast_ref::<std::io::Error>().is_some_and(fixable)
                || cause.downcast_ref::<bank_backend::error::RunError>().is_some_and(|r| {
                    matches!(r, bank_backend::error::RunError::Bind { error, .. } if fixable(error))
                })
        });
        if unavailable {
            Failure::Unavailable(e)
        } else {
            Failure::Internal(e)
        }
    }
}
