//! `bank grade` end to end: a class folder in every report form, outputs
//! of concurrent `bank run`s graded valid, and the exit statuses and
//! messages for submissions that cannot be graded.

mod common;
use common::{course_file, stderr};

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A fresh folder for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bank-grade-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `bank ARGS` in `dir`.
fn bank_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bank"))
        .args(args)
        .current_dir(dir)
        .env_remove("BANK_TOKEN")
        .output()
        .expect("bank runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

const P2B_INPUT: &str = "p2-lamport-clocks/swantrace+cse531_project2/input.json";

/// alice: the published (concurrent, valid) outputs; bob: `bank run`'s;
/// carol: a branch list naming the receiver instead of the sender; dave:
/// not JSON.
fn class(dir: &Path) -> PathBuf {
    let class = dir.join("class");
    for student in ["alice", "bob", "carol", "dave"] {
        std::fs::create_dir_all(class.join(student)).unwrap();
    }
    let published = course_file("p2-lamport-clocks/swantrace+cse531_project2");
    for name in ["output.customer.json", "output.branch.json", "output.customer_request.json"] {
        std::fs::copy(published.join(name), class.join("alice").join(name)).unwrap();
    }
    let input = course_file(P2B_INPUT);
    let run = bank_in(dir, &["run", input.to_str().unwrap(), "--out-dir", "class/bob"]);
    assert!(run.status.success(), "{}", stderr(&run));
    let branches = std::fs::read_to_string(published.join("output.branch.json")).unwrap();
    let wrong =
        branches.replacen("\"event_recv from branch 1\"", "\"event_recv from branch 2\"", 1);
    std::fs::write(class.join("carol").join("b.json"), wrong).unwrap();
    std::fs::write(class.join("dave").join("out.txt"), "not json {\n").unwrap();
    class
}

const CAROL: &str = "class/carol/b.json:124:20: $[1].events[4].comment: branch 2: \
                     \"event_recv from branch 2\" names the receiving branch, not the sender (branch 1)";
const DAVE: &str = "class/dave/out.txt: not JSON (line 1, column 2): expected ident";

#[test]
fn a_class_gives_its_table_in_every_form() {
    let dir = scratch("class");
    class(&dir);
    let input = course_file(P2B_INPUT);
    let input = input.to_str().unwrap();
    std::fs::write(
        dir.join("points.toml"),
        "exact = 2\nanswers = 2\nclocks = 3\npropagation = 3\n",
    )
    .unwrap();

    let csv = bank_in(&dir, &["grade", input, "class", "--csv", "--points", "points.toml"]);
    assert_eq!(csv.status.code(), Some(65), "dave's file cannot be read: {}", stderr(&csv));
    assert!(
        stderr(&csv).contains("1 submission(s) could not be graded at all: dave"),
        "{}",
        stderr(&csv)
    );
    let expected = format!(
        "student,format,exact,valid,problems,score,max,first_problem\n\
         alice,p2b,false,true,0,8,10,\n\
         bob,p2b,true,true,0,10,10,\n\
         carol,p2b,false,false,1,5,10,\"{}\"\n\
         dave,?,false,false,1,0,10,\"{DAVE}\"\n",
        CAROL.replace('"', "\"\"")
    );
    assert_eq!(stdout(&csv), expected);

    let text = bank_in(&dir, &["grade", input, "class"]);
    let text = stdout(&text);
    let table: Vec<&str> = text.lines().take(5).collect();
    assert_eq!(table[0], "student  format  exact  valid  problems  first problem");
    assert_eq!(table[1], "alice    p2b     ✗      ✓      0");
    assert_eq!(table[2], "bob      p2b     ✓      ✓      0");
    assert_eq!(table[3], format!("carol    p2b     ✗      ✗      1         {CAROL}"));
    assert_eq!(table[4], format!("dave     ?       ✗      ✗      1         {DAVE}"));
    assert!(text.contains("2 of 4 submission(s) valid"), "{text}");
    assert!(text.contains("more differences from bank run's output"), "{text}");

    let markdown = stdout(&bank_in(&dir, &["grade", input, "class", "--markdown"]));
    let rows: Vec<&str> = markdown.lines().take(6).collect();
    assert_eq!(rows[0], "| student | format | exact | valid | problems | first problem |");
    assert_eq!(rows[2], "| alice | p2b | ✗ | ✓ | 0 |  |");
    assert_eq!(rows[3], "| bob | p2b | ✓ | ✓ | 0 |  |");
    assert_eq!(rows[4], format!("| carol | p2b | ✗ | ✗ | 1 | `{CAROL}` |"));
    assert!(markdown.contains("\n### carol\n"), "{markdown}");

    let json = bank_in(&dir, &["grade", input, "class", "--json", "--points", "points.toml"]);
    let json: serde_json::Value = serde_json::from_str(&stdout(&json)).expect("JSON report");
    let students: Vec<(&str, bool, bool, f64)> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let score = s["score"].as_f64().unwrap();
            (s["student"].as_str().unwrap(), s["exact"] == true, s["valid"] == true, score)
        })
        .collect();
    assert_eq!(
        students,
        [
            ("alice", false, true, 8.0),
            ("bob", true, true, 10.0),
            ("carol", false, false, 5.0),
            ("dave", false, false, 0.0)
        ]
    );
    let carol = &json[2]["problems"];
    let named: Vec<&serde_json::Value> =
        carol.as_array().unwrap().iter().filter(|p| p["kind"] == "receiver_named").collect();
    assert_eq!(named.len(), 1);
    assert_eq!((named[0]["line"].as_u64(), named[0]["column"].as_u64()), (Some(124), Some(20)));
    assert_eq!(named[0]["path"], "$[1].events[4].comment");
    assert_eq!(json[3]["problems"][0]["kind"], "not_json");

    // Without the unreadable one: 1 (carol is not valid); alice and bob alone: 0.
    std::fs::remove_dir_all(dir.join("class/dave")).unwrap();
    assert_eq!(bank_in(&dir, &["grade", input, "class"]).status.code(), Some(1));
    let ok = bank_in(&dir, &["grade", input, "class/alice", "class/bob"]);
    assert_eq!(ok.status.code(), Some(0), "{}", stdout(&ok));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn concurrent_runs_are_graded_valid() {
    let dir = scratch("concurrent");
    for (input, format) in [
        (P2B_INPUT, "p2b"),
        ("p2-lamport-clocks/jthak002+cse531/input.json", "p2b"),
        ("p1-branch-propagation/clin255+CSE531_project1/input.json", "p2a"),
        ("p1-branch-propagation/clin255+CSE531_project1/input.json", "p1"),
        ("p3-client-consistency/clin255+CSE531_project3/input.json", "p3"),
    ] {
        let input = course_file(input);
        let input = input.to_str().unwrap();
        for seed in ["1", "2", "3"] {
            let out = format!("run-{format}-{seed}");
            let run = bank_in(
                &dir,
                &[
                    "run",
                    input,
                    "--format",
                    format,
                    "--schedule",
                    "concurrent",
                    "--seed",
                    seed,
                    "--out-dir",
                    &out,
                ],
            );
            assert!(run.status.success(), "{}", stderr(&run));
            let graded = bank_in(&dir, &["grade", input, &out]);
            assert_eq!(
                graded.status.code(),
                Some(0),
                "{input} {format} seed {seed}:\n{}",
                stdout(&graded)
            );
            assert!(stdout(&graded).contains("valid ✓"), "{}", stdout(&graded));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn unreadable_submissions_have_distinct_messages_and_status_65() {
    let dir = scratch("unreadable");
    let p2b = course_file(P2B_INPUT);
    let p2b = p2b.to_str().unwrap();
    std::fs::write(dir.join("empty.json"), "\n").unwrap();
    std::fs::write(dir.join("broken.json"), "[{\"id\": 1,]").unwrap();
    let p3 = course_file("p3-client-consistency/anuragbnrj+cse531/output_sample.json");
    for (file, message) in [
        ("empty.json", "empty.json: the file is empty"),
        ("broken.json", "broken.json: not JSON (line 1, column 11)"),
        (p3.to_str().unwrap(), "this is project 3 answers per event (p3), but the input is a project 2 generation B input"),
    ] {
        let o = bank_in(&dir, &["grade", p2b, file]);
        assert_eq!(o.status.code(), Some(65), "{file}");
        assert!(stdout(&o).contains(message), "{file}: {}", stdout(&o));
    }
    let o = bank_in(&dir, &["grade", "no-such-input.json", "empty.json"]);
    assert_eq!(o.status.code(), Some(66));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn fifos_devices_and_folder_loops_in_a_class_do_not_stall_it() {
    use std::process::Stdio;
    let dir = scratch("special");
    let erin = dir.join("class/erin");
    std::fs::create_dir_all(&erin).unwrap();
    std::fs::create_dir_all(dir.join("class/frank")).unwrap();
    std::fs::write(dir.join("class/frank/out.json"), "\n").unwrap();
    // Before: the FIFO blocked the whole class, /dev/zero was read until
    // memory ran out, and `up -> ..` graded class/erin/up/erin/up/...
    let made = Command::new("mkfifo").arg(erin.join("f.json")).status().unwrap();
    assert!(made.success());
    std::os::unix::fs::symlink("/dev/zero", erin.join("z.json")).unwrap();
    std::os::unix::fs::symlink("..", erin.join("up")).unwrap();
    let input = common::repo("examples/project1-sample.json");
    let child = Command::new(env!("CARGO_BIN_EXE_bank"))
        .args(["grade", input.to_str().unwrap(), "class"])
        .current_dir(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let Ok(Ok(o)) = rx.recv_timeout(std::time::Duration::from_secs(60)) else {
        let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
        panic!("bank grade did not finish within 60 s");
    };
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(65), "{out}{}", stderr(&o));
    assert!(out.contains("f.json: it is a FIFO, not a regular file"), "{out}");
    assert!(out.contains("z.json: it is a device, not a regular file"), "{out}");
    assert!(!out.contains("up/erin"), "{out}");
    assert!(
        stderr(&o).contains("warning: skipped class/erin/up: it leads back to"),
        "{}",
        stderr(&o)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn points_are_plain_numbers_from_0_to_1000_and_errors_say_where() {
    let dir = scratch("points");
    let input = common::repo("examples/project1-sample.json");
    let input = input.to_str().unwrap();
    std::fs::write(dir.join("out.json"), "[]").unwrap();
    // Before: NaN and -5 made a grade book of NaN and -5 of -5, and a
    // string said "invalid type: string \"x\", expected f64".
    for (weights, expected) in [
        (
            "exact = 2\nanswers = nan\n",
            "points.toml:2:11: expected a number of points from 0 to 1000",
        ),
        (
            "exact = -5\n",
            "points.toml:1:9: expected a number of points from 0 to 1000 (like 2 or 2.5), found -5",
        ),
        ("exact = 1e300\n", "found 1e300"),
        ("balances = \"x\"\n", "points.toml:1:12: expected a number of points"),
    ] {
        std::fs::write(dir.join("points.toml"), weights).unwrap();
        let o = bank_in(&dir, &["grade", input, "out.json", "--csv", "--points", "points.toml"]);
        assert_eq!(o.status.code(), Some(65), "{weights}: {}", stderr(&o));
        assert!(stderr(&o).contains(expected), "{weights}: {}", stderr(&o));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_submission_can_come_on_standard_input_once() {
    use std::io::Write;
    use std::process::Stdio;
    let input = common::repo("examples/seed-test-1.json");
    let input = input.to_str().unwrap();
    let expected = std::fs::read(common::repo("examples/seed-test-1.expected.json")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_bank"))
        .args(["grade", input, "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&expected).unwrap();
    let o = child.wait_with_output().unwrap();
    // Before: "cannot open submission -", status 66.
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("exact ✓"), "{}", stdout(&o));
    let twice =
        Command::new(env!("CARGO_BIN_EXE_bank")).args(["grade", "-", "-"]).output().unwrap();
    assert_eq!(twice.status.code(), Some(2), "{}", stderr(&twice));
    assert!(stderr(&twice).contains("standard input (`-`) can be read once"), "{}", stderr(&twice));
}

#[test]
fn the_course_input_beside_the_outputs_is_skipped_with_a_note() {
    let dir = scratch("input-beside");
    // A student's repository: the input next to the three lists, and a
    // TA's class folder with the input at its top.
    let published = course_file("p2-lamport-clocks/swantrace+cse531_project2");
    let erin = dir.join("class").join("erin");
    std::fs::create_dir_all(&erin).unwrap();
    for name in
        ["input.json", "output.customer.json", "output.branch.json", "output.customer_request.json"]
    {
        std::fs::copy(published.join(name), erin.join(name)).unwrap();
    }
    std::fs::copy(published.join("input.json"), dir.join("class").join("input.json")).unwrap();
    let input = course_file(P2B_INPUT);
    for (submission, skipped) in [
        ("class/erin", vec!["class/erin/input.json"]),
        ("class", vec!["class/input.json", "class/erin/input.json"]),
    ] {
        let out = bank_in(&dir, &["grade", input.to_str().unwrap(), submission]);
        assert_eq!(out.status.code(), Some(0), "{submission}: {}{}", stdout(&out), stderr(&out));
        for file in skipped {
            let note = format!("note: skipped {file}: a course input file, not an output");
            assert!(stderr(&out).contains(&note), "{submission}: {}", stderr(&out));
        }
        assert!(stdout(&out).contains("p2b"), "{}", stdout(&out));
    }
    // Alone, it is still what was given to grade: refused, as before.
    let alone = bank_in(&dir, &["grade", input.to_str().unwrap(), "class/erin/input.json"]);
    assert_eq!(alone.status.code(), Some(65), "{}", stdout(&alone));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn nothing_handed_in_and_two_outputs_in_one_folder_are_said_not_passed_over() {
    // Found by a hostile pass: an empty folder graded nothing and exited 0
    // (a TA's wrong path was a success), and a student folder with two
    // outputs was read as one output with every answer twice.
    let dir = scratch("nothing-or-two");
    let input = common::repo("examples/project1-sample.json");
    let input = input.to_str().unwrap();
    let run = bank_in(&dir, &["run", input]);
    assert!(run.status.success(), "{}", stderr(&run));
    for student in ["ann", "ben", "cat"] {
        std::fs::create_dir_all(dir.join("class").join(student)).unwrap();
    }
    std::fs::write(dir.join("class/ann/output.json"), &run.stdout).unwrap();
    std::fs::write(dir.join("class/cat/output.json"), &run.stdout).unwrap();
    std::fs::write(dir.join("class/cat/output_old.json"), &run.stdout).unwrap();
    std::fs::create_dir_all(dir.join("empty")).unwrap();

    let empty = bank_in(&dir, &["grade", input, "empty"]);
    assert_eq!(empty.status.code(), Some(65), "{}", stdout(&empty));
    assert!(stdout(&empty).contains("empty: the folder holds no file: nothing was handed in"));

    let class = bank_in(&dir, &["grade", input, "class"]);
    assert_eq!(class.status.code(), Some(65), "{}", stdout(&class));
    let table = stdout(&class);
    assert!(table.contains("ben: the folder holds no file"), "{table}");
    assert!(
        table.contains(
            "2 files each hold a p1 output (class/cat/output.json, class/cat/output_old.json): \
             hand in one"
        ),
        "{table}"
    );
    assert!(table.contains("1 of 3 submission(s) valid"), "{table}");
    assert!(stderr(&class).contains("could not be graded at all: ben, cat"), "{}", stderr(&class));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn what_bank_run_prints_in_another_format_is_graded_in_it_when_asked() {
    let dir = scratch("forced-format");
    let input = common::repo("examples/project1-sample.json");
    let input = input.to_str().unwrap();
    let run = bank_in(&dir, &["run", input, "--format", "p3"]);
    assert!(run.status.success(), "{}", stderr(&run));
    std::fs::write(dir.join("p3.json"), &run.stdout).unwrap();
    let asked = bank_in(&dir, &["grade", input, "p3.json", "--format", "p3"]);
    assert_eq!(asked.status.code(), Some(0), "{}", stdout(&asked));
    assert!(stdout(&asked).contains("p3 exact ✓, valid ✓"), "{}", stdout(&asked));
    // Not asked for, it is another project's output, and the message says how.
    let detected = bank_in(&dir, &["grade", input, "p3.json"]);
    assert_eq!(detected.status.code(), Some(65));
    assert!(stdout(&detected).contains("grade it with --format p3"), "{}", stdout(&detected));
    std::fs::remove_dir_all(&dir).ok();
}
