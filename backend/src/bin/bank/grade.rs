//! `bank grade`: students' outputs against a course input, every difference
//! explained; a whole class at once.
//!
//! The grading is [`bank_core::grade`] (pure); this file is its edge: it
//! reads the input and the `--points` TOML, walks the submissions (a file
//! is one student; a folder of files is one student, its files found by
//! content; a folder of folders is a class, one student per sub-folder),
//! and prints the report. Exit status: 0 when every submission is valid,
//! 1 when some is not, 65 when some could not be read at all (not JSON,
//! empty, another project's format) or the input is bad.

use std::path::{Path, PathBuf};

use anyhow::Context;
use bank_core::formats;
use bank_core::grade::report::{self, Entry, Style};
use bank_core::grade::{self, Expected, Points, SubmittedFile};

use crate::args::GradeArgs;
use crate::exit::Failure;
use crate::input::read_input;
use crate::stdout::out;

/// `bank grade`; see the module docs.
pub fn grade(args: GradeArgs) -> Result<(), Failure> {
    let stdin = std::iter::once(&args.input).chain(&args.submissions);
    if stdin.filter(|p| p.as_os_str() == "-").count() > 1 {
        return Err(Failure::Usage(
            "standard input (`-`) can be read once: give the input or one submission as `-`".into(),
        ));
    }
    let source = args.input.display().to_string();
    let text = read_input(&args.input, args.max_input_bytes)?;
    let scenario = formats::parse_input(&text, &source).map_err(Failure::bad_input)?;
    for warning in &scenario.warnings {
        eprintln!("warning: {source}: {warning}");
    }
    for note in grade::notes(&scenario) {
        eprintln!("note: {source}: {note}");
    }
    let points = match &args.points {
        None => None,
        Some(path) => {
            let text = read_input(path, 1024 * 1024)?;
            let points: Points = toml::from_str(&text).map_err(|e| {
                // file:line:column, as every other file's errors.
                let at = e.span().map_or(0, |s| s.start).min(text.len());
                let before = text.get(..at).unwrap_or_default();
                let line = before.matches('\n').count() + 1;
                let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
                Failure::BadInput(format!("{}:{line}:{column}: {}", path.display(), e.message()))
            })?;
            Some(points)
        }
    };

    let mut students = Vec::new();
    let mut class = args.submissions.len() > 1;
    for path in &args.submissions {
        class |= collect(path, &mut students)?;
    }
    let expected = Expected::new(&scenario);
    let entries: Vec<Entry> = students
        .into_iter()
        .filter_map(|Submission { student, files, folder }| {
            let empty = files.is_empty();
            let mut files: Vec<SubmittedFile> =
                files.iter().map(|f| read_submission(f, args.max_input_bytes)).collect();
            // Student repositories often hold the course input beside their
            // outputs, and a TA's class folder the input beside the students'.
            if files.len() > 1 || class {
                files.retain(|f| {
                    let input =
                        f.cannot_read.is_none() && formats::parse_input(&f.text, &f.name).is_ok();
                    if input {
                        eprintln!("note: skipped {}: a course input file, not an output", f.name);
                    }
                    !input
                });
            }
            // Nothing to grade is said, not passed over: a wrong path, or a
            // student who handed in nothing, is no success.
            // A course input given alone, or at the top of a class folder.
            if files.is_empty() && !folder {
                return None;
            }
            if files.is_empty() {
                let why = if empty {
                    "the folder holds no file: nothing was handed in"
                } else {
                    "the folder holds only the course input, no output"
                };
                files.push(SubmittedFile::unreadable(student.clone(), why.to_owned()));
            }
            Some(Entry { student, grade: grade::grade(&scenario, &expected, &files, args.format) })
        })
        .collect();
    let style = if args.csv {
        Style::Csv
    } else if args.json {
        Style::Json
    } else if args.markdown {
        Style::Markdown
    } else {
        Style::Text
    };
    out!("{}", report::render(&entries, style, points.as_ref(), class))?;

    let unreadable: Vec<&str> =
        entries.iter().filter(|e| e.grade.unreadable).map(|e| e.student.as_str()).collect();
    if !unreadable.is_empty() {
        return Err(Failure::BadInput(format!(
            "{} submission(s) could not be graded at all: {}",
            unreadable.len(),
            unreadable.join(", ")
        )));
    }
    if entries.iter().all(|e| e.grade.valid) {
        Ok(())
    } else {
        Err(Failure::Violations)
    }
}

/// A submission file's text, or why it cannot be read (the grader reports
/// it as unreadable, with that reason). A
/// FIFO or a device is not read at all (one would block the whole class's
/// grading, the other never end), and no more than `max` bytes are read
/// of what claims to be smaller.
fn read_submission(path: &Path, max: u64) -> SubmittedFile {
    use std::io::Read;
    let name = path.display().to_string();
    let read = || -> Result<String, String> {
        let over = |len: u64| format!("the file is {len} bytes, over the limit of {max}");
        let source: Box<dyn Read> = if path.as_os_str() == "-" {
            Box::new(std::io::stdin())
        } else {
            let kind = std::fs::metadata(path).map_err(|e| format!("cannot read the file: {e}"))?;
            if !kind.is_file() {
                let kind = bank_backend::cluster::file::describe_file_type(kind.file_type());
                return Err(format!("it is {kind}, not a regular file"));
            }
            // Opened without blocking, and checked again: it may have changed.
            let file = crate::input::open_regular(path).map_err(|e| format!("{e:#}"))?;
            let size = file.metadata().map_or(0, |m| m.len());
            if size > max {
                return Err(over(size));
            }
            Box::new(file)
        };
        let mut bytes = Vec::new();
        source
            .take(max.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|e| format!("cannot read the file: {e}"))?;
        if bytes.len() as u64 > max {
            // Read up to one byte past the limit: its real size is not known.
            return Err(format!("it holds more than {max} bytes, the limit (--max-input-bytes)"));
        }
        String::from_utf8(bytes).map_err(|e| {
            format!("not UTF-8 text: invalid byte at offset {}", e.utf8_error().valid_up_to())
        })
    };
    match read() {
        Ok(text) => SubmittedFile::new(name, text),
        Err(why) => SubmittedFile::unreadable(name, why),
    }
}

/// One student's files: a folder of them, or one file.
struct Submission {
    student: String,
    files: Vec<PathBuf>,
    /// A folder (a student's), not a file given or at the top of a class.
    folder: bool,
}

impl Submission {
    fn file(student: String, path: PathBuf) -> Submission {
        Submission { student, files: vec![path], folder: false }
    }

    fn folder(student: String, files: Vec<PathBuf>) -> Submission {
        Submission { student, files, folder: true }
    }
}

/// Adds the students under `path`. Returns true when `path` is a class
/// folder (a folder of folders).
fn collect(path: &Path, students: &mut Vec<Submission>) -> Result<bool, Failure> {
    let name = |p: &Path| {
        p.file_name().map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into_owned())
    };
    if path.as_os_str() == "-" {
        // A submission piped in: `bank run INPUT | bank grade INPUT -`.
        students.push(Submission::file("stdin".to_owned(), path.to_owned()));
        return Ok(false);
    }
    if !path.is_dir() {
        if !path.exists() {
            return Err(Failure::NoInput(anyhow::anyhow!(
                "cannot open submission {}",
                path.display()
            )));
        }
        students.push(Submission::file(name(path), path.to_owned()));
        return Ok(false);
    }
    let (dirs, files) = listing(path)?;
    if dirs.is_empty() {
        students.push(Submission::folder(name(path), files));
        return Ok(false);
    }
    for file in files {
        students.push(Submission::file(name(&file), file));
    }
    for dir in dirs {
        let mut all = Vec::new();
        walk(&dir, &mut all)?;
        students.push(Submission::folder(name(&dir), all));
    }
    Ok(true)
}

/// Sub-folders and files of a folder, sorted, hidden ones left out.
fn listing(dir: &Path) -> Result<(Vec<PathBuf>, Vec<PathBuf>), Failure> {
    let read = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read the folder {}", dir.display()))
        .map_err(Failure::NoInput)?;
    let mut paths: Vec<PathBuf> = read
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')))
        .collect();
    paths.sort();
    Ok(paths.into_iter().partition(|p| p.is_dir()))
}

/// Every file under `dir`, sorted. A folder reached again through a
/// symbolic link (`up -> ..`) is skipped with a warning: it would be graded
/// again and again, to the longest path the system allows.
fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), Failure> {
    let root = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_owned());
    walk_once(dir, &root, out, &mut std::collections::HashSet::new())
}

fn walk_once(
    dir: &Path,
    root: &Path,
    out: &mut Vec<PathBuf>,
    seen: &mut std::collections::HashSet<PathBuf>,
) -> Result<(), Failure> {
    let real = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_owned());
    // An ancestor of the student's folder is a loop too: `up -> ..`.
    let around = real != root && root.starts_with(&real);
    if around || !seen.insert(real.clone()) {
        eprintln!(
            "warning: skipped {}: it leads back to {}, already graded (a symbolic link)",
            dir.display(),
            real.display()
        );
        return Ok(());
    }
    let (dirs, files) = listing(dir)?;
    out.extend(files);
    for d in dirs {
        walk_once(&d, root, out, seen)?;
    }
    Ok(())
}
