//! The grader against the course's public samples, concurrent runs of the
//! simulator, and outputs made wrong on purpose.

use super::testutil::{fixture, grade_files, grade_texts, input};
use super::{Grade, ProblemKind};

fn lines(grade: &Grade) -> Vec<String> {
    grade.problems.iter().map(|p| p.line(&grade.files)).collect()
}

#[test]
fn scratch() {
    let cases: &[(&str, &[&str])] = &[
        ("p2-lamport-clocks/swantrace+cse531_project2/input.json", &["p2-lamport-clocks/swantrace+cse531_project2/output.customer.json", "p2-lamport-clocks/swantrace+cse531_project2/output.branch.json", "p2-lamport-clocks/swantrace+cse531_project2/output.customer_request.json"]),
        ("p2-lamport-clocks/anuragbnrj+cse531/input_10.json", &["p2-lamport-clocks/anuragbnrj+cse531/customer_events.json", "p2-lamport-clocks/anuragbnrj+cse531/branch_events.json", "p2-lamport-clocks/anuragbnrj+cse531/combined_events.json"]),
        ("p2-lamport-clocks/jthak002+cse531/input.json", &["p2-lamport-clocks/ychen404+CSE531_Grading/customer_events.json", "p2-lamport-clocks/ychen404+CSE531_Grading/branch_events.json"]),
        ("p2-lamport-clocks/jthak002+cse531/input.json", &["p2-lamport-clocks/ychen404+CSE531_Grading/all_events.json"]),
        ("p2-lamport-clocks/jthak002+cse531/input.json", &["p2-lamport-clocks/ychen404+CSE531_Grading/all_events_out_of_order.json"]),
        ("p2-lamport-clocks/jthak002+cse531/input.json", &["p2-lamport-clocks/CliffordCheefoon+C.Cheefoon-ASU-CSE_531-Project_2/output.json"]),
        ("p2-lamport-clocks/navarro165+Lamports-Logical-Clock/input_test.json", &["p2-lamport-clocks/navarro165+Lamports-Logical-Clock/expected_output.json"]),
        ("p1-branch-propagation/clin255+CSE531_project1/input.json", &["p2-lamport-clocks/huangheqing+cse531_project_3/output.txt"]),
        ("p1-branch-propagation/clin255+CSE531_project1/input.json", &["p1-branch-propagation/clin255+CSE531_project1/output1.json"]),
        ("p1-branch-propagation/clin255+CSE531_project1/input.json", &["p1-branch-propagation/bestHenryJ+CSE_531_project1/output.txt"]),
        ("p3-client-consistency/jthak002+cse531/input_big.json", &["p3-client-consistency/SophieAckley+CSE531-Client-Centric-Consistency-Project/output.json"]),
    ];
    for (i, files) in cases {
        let g = grade_files(&input(i), files);
        eprintln!("== {files:?}: format {:?} exact {} valid {}", g.format, g.exact, g.valid);
        for l in g
            .problems
            .iter()
            .filter(|p| p.kind != ProblemKind::Differs)
            .map(|p| format!("{} {}", p.kind, p.line(&g.files)))
            .take(12)
        {
            eprintln!("   {l}");
        }
    }
    let _ = (fixture, grade_texts, ProblemKind::Empty);
}
