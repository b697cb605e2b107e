//! The grader against the course's public samples, concurrent runs of the
//! simulator, and real outputs made wrong on purpose (one mistake each:
//! each must be reported with the right kind at the right place, and
//! nothing else but the exact check's differences).

use serde_json::{json, Value};

use super::testutil::{fixture, grade_files, grade_texts, input};
use super::{exact, Grade, ProblemKind};
use crate::experiment::demo;
use crate::formats::{parse_input, OutputFormat};
use crate::network::{Delay, NetworkPlan};
use crate::scenario::Scenario;
use crate::schedule::Schedule;
use crate::sim::{self, SimConfig};

/// The valid-check problems (everything but exact differences): kind and path.
fn valid_problems(grade: &Grade) -> Vec<(ProblemKind, String)> {
    grade
        .problems
        .iter()
        .filter(|p| p.kind != ProblemKind::Differs)
        .map(|p| (p.kind, p.place.as_ref().map(|pl| pl.path.to_string()).unwrap_or_default()))
        .collect()
}

fn explain(grade: &Grade) -> String {
    grade.problems.iter().map(|p| p.line(&grade.files)).collect::<Vec<_>>().join("\n")
}

const P2: &str = "p2-lamport-clocks";

#[test]
fn the_samples_the_readme_marks_correct_are_valid() {
    let cases: &[(&str, &[&str])] = &[
        (
            "p2-lamport-clocks/swantrace+cse531_project2/input.json",
            &[
                "p2-lamport-clocks/swantrace+cse531_project2/output.customer.json",
                "p2-lamport-clocks/swantrace+cse531_project2/output.branch.json",
                "p2-lamport-clocks/swantrace+cse531_project2/output.customer_request.json",
            ],
        ),
        (
            "p2-lamport-clocks/anuragbnrj+cse531/input_10.json",
            &[
                "p2-lamport-clocks/anuragbnrj+cse531/customer_events.json",
                "p2-lamport-clocks/anuragbnrj+cse531/branch_events.json",
                "p2-lamport-clocks/anuragbnrj+cse531/combined_events.json",
            ],
        ),
        (
            "p2-lamport-clocks/jthak002+cse531/input.json",
            &["p2-lamport-clocks/ychen404+CSE531_Grading/customer_events.json"],
        ),
        (
            "p2-lamport-clocks/jthak002+cse531/input.json",
            &["p2-lamport-clocks/ychen404+CSE531_Grading/all_events_out_of_order.json"],
        ),
        (
            "p2-lamport-clocks/navarro165+Lamports-Logical-Clock/input_test.json",
            &["p2-lamport-clocks/navarro165+Lamports-Logical-Clock/expected_output.json"],
        ),
        (
            "p1-branch-propagation/clin255+CSE531_project1/input.json",
            &["p2-lamport-clocks/huangheqing+cse531_project_3/output.txt"],
        ),
        (
            "p1-branch-propagation/clin255+CSE531_project1/input.json",
            &["p1-branch-propagation/clin255+CSE531_project1/output1.json"],
        ),
    ];
    for (input_file, files) in cases {
        let grade = grade_files(&input(input_file), files);
        assert!(grade.valid, "{files:?}:\n{}", explain(&grade));
    }
}

#[test]
fn the_ta_samples_break_the_receive_rule_where_the_readme_says_they_disagree() {
    let scenario = input("p2-lamport-clocks/jthak002+cse531/input.json");
    // Branch 2 sends request 3 to branch 3 at clock 10, which receives it at 8.
    let grade = grade_files(
        &scenario,
        &[
            "p2-lamport-clocks/ychen404+CSE531_Grading/customer_events.json",
            "p2-lamport-clocks/ychen404+CSE531_Grading/branch_events.json",
        ],
    );
    assert_eq!(
        valid_problems(&grade),
        [(ProblemKind::ReceiveRule, "$[2].events[4].logical_clock".into())]
    );
    let receive = grade.problems.iter().find(|p| p.kind == ProblemKind::ReceiveRule).unwrap();
    assert_eq!(
        receive.sentence(),
        "branch 3, request 3 (propagate_deposit received from branch 2): clock 8, expected ≥ 11: \
         the receive rule max(local 6, message 10) + 1 was not applied"
    );
    // The customer's two sends both at clock 2, and branch 1 receiving the first at 2.
    let grade =
        grade_files(&scenario, &["p2-lamport-clocks/ychen404+CSE531_Grading/all_events.json"]);
    assert_eq!(
        valid_problems(&grade),
        [
            (ProblemKind::ClockNotIncreasing, "$[6].logical_clock".into()),
            (ProblemKind::ReceiveRule, "$[1].logical_clock".into()),
        ]
    );
}

#[test]
fn the_kept_wrong_project_3_output_breaks_read_your_writes() {
    let grade = grade_files(&input("p3-client-consistency/jthak002+cse531/input_big.json"), &[
        "p3-client-consistency/SophieAckley+CSE531-Client-Centric-Consistency-Project/output.json",
    ]);
    let kinds = valid_problems(&grade);
    assert!(
        !kinds.is_empty() && kinds.iter().all(|(k, _)| *k == ProblemKind::ReadYourWrites),
        "{}",
        explain(&grade)
    );
    assert_eq!(kinds[0].1, "$[0].balance[3].balance");
    assert!(grade.problems.iter().any(|p| p
        .message
        .contains("misses this customer's own earlier deposit of 10 (event 2) at branch 1")));
}

/// Runs `scenario` concurrently in the simulator with random delays.
fn concurrent(scenario: &Scenario, format: OutputFormat, seed: u64) -> Vec<String> {
    let config = SimConfig {
        schedule: Schedule::Concurrent,
        seed,
        network: NetworkPlan { delay_ms: Delay::Between(0, 30), ..NetworkPlan::default() },
        ..demo::base_for(format)
    };
    let record = sim::run(scenario, &config).expect("the run finishes").record;
    exact::render(format, scenario, &record)
}

#[test]
fn concurrent_runs_are_valid_and_usually_not_exact() {
    let cases = [
        ("p1-branch-propagation/clin255+CSE531_project1/input.json", OutputFormat::P1),
        ("p1-branch-propagation/clin255+CSE531_project1/input.json", OutputFormat::P1Money),
        ("p1-branch-propagation/clin255+CSE531_project1/input.json", OutputFormat::P2a),
        ("p2-lamport-clocks/jthak002+cse531/input.json", OutputFormat::P2b),
        ("p2-lamport-clocks/swantrace+cse531_project2/input.json", OutputFormat::P2b),
        ("p3-client-consistency/clin255+CSE531_project3/input.json", OutputFormat::P3),
        ("p3-client-consistency/anuragbnrj+cse531/input_sample.json", OutputFormat::P3),
        (
            "p3-client-consistency/swantrace+cse531_project3/input.monotonic_writes.json",
            OutputFormat::P3,
        ),
    ];
    for (input_file, format) in cases {
        let scenario = input(input_file);
        let mut inexact = 0;
        for seed in 1..=5 {
            let texts = concurrent(&scenario, format, seed);
            let names = ["customer_events.json", "branch_events.json", "all_events.json"];
            let files: Vec<(&str, &str)> =
                texts.iter().zip(names).map(|(t, n)| (n, t.as_str())).collect();
            let grade = super::grade(
                &scenario,
                &super::Expected::new(&scenario),
                &to_files(&files),
                Some(format),
            );
            assert!(grade.valid, "{input_file} {format} seed {seed}:\n{}", explain(&grade));
            inexact += usize::from(!grade.exact);
        }
        if matches!(format, OutputFormat::P2a | OutputFormat::P2b) {
            assert!(
                inexact > 0,
                "{input_file} {format}: concurrent clocks differ from the sequential run's"
            );
        }
    }
}

fn to_files(files: &[(&str, &str)]) -> Vec<super::SubmittedFile> {
    files.iter().map(|(n, t)| super::SubmittedFile::new(*n, *t)).collect()
}

/// `bank run`'s output for `format` (sequential), as JSON values.
fn real_output(scenario: &Scenario, format: OutputFormat) -> Vec<Value> {
    let record = sim::run(scenario, &demo::base_for(format)).unwrap().record;
    exact::render(format, scenario, &record)
        .iter()
        .map(|t| serde_json::from_str(t).unwrap())
        .collect()
}

/// Grades one mutated list (p2b: the branch list with the customer list).
fn graded(scenario: &Scenario, values: &[Value]) -> Grade {
    let texts: Vec<String> =
        values.iter().map(|v| serde_json::to_string_pretty(v).unwrap()).collect();
    let files: Vec<(&str, &str)> = texts.iter().map(|t| ("out.json", t.as_str())).collect();
    grade_texts(scenario, &files)
}

fn assert_only(grade: &Grade, want: &[(ProblemKind, &str)]) {
    let want: Vec<(ProblemKind, String)> =
        want.iter().map(|(k, p)| (*k, (*p).to_owned())).collect();
    assert_eq!(valid_problems(grade), want, "\n{}", explain(grade));
}

#[test]
fn project_1_mutations() {
    use ProblemKind::*;
    let scenario = input("p1-branch-propagation/jthak002+cse531/input_small.json");
    let real = real_output(&scenario, OutputFormat::P1).remove(0);
    assert!(graded(&scenario, std::slice::from_ref(&real)).exact);

    let mut v = real.clone();
    v[1]["recv"].as_array_mut().unwrap().remove(1);
    assert_only(&graded(&scenario, &[v]), &[(MissingAnswer, "$[1].recv")]);

    let mut v = real.clone();
    v[1]["recv"].as_array_mut().unwrap().swap(0, 1);
    assert_only(&graded(&scenario, &[v]), &[(WrongOrder, "$[1].recv[0]")]);

    let mut v = real.clone();
    v[1]["recv"][1]["balance"] = json!(571);
    let grade = graded(&scenario, &[v]);
    assert_only(&grade, &[(WrongBalance, "$[1].recv[1].balance")]);
    assert!(
        grade
            .problems
            .iter()
            .any(|p| p.message.starts_with("\"balance\": 571, expected 500 or 570")),
        "{}",
        explain(&grade)
    );

    let mut v = real.clone();
    v[1]["recv"][0]["interface"] = json!("deopsit");
    assert_only(&graded(&scenario, &[v]), &[(UnknownName, "$[1].recv[0].interface")]);

    // A deposit said to have failed is that one problem, not also a wrong
    // balance in another customer's correct answers (a hostile pass saw
    // customer 3's 500 blamed, "expected 330").
    let deposit =
        real[1]["recv"].as_array().unwrap().iter().position(|a| a["interface"] == "deposit");
    let mut v = real.clone();
    let deposit = deposit.expect("customer 2 deposits");
    v[1]["recv"][deposit]["result"] = json!("fail");
    let at = format!("$[1].recv[{deposit}].result");
    assert_only(&graded(&scenario, &[v]), &[(RefusedWithFunds, at.as_str())]);

    let upper = serde_json::to_string(&real)
        .unwrap()
        .replace("\"query\"", "\"QUERY\"")
        .replace("\"success\"", "\"Success\"");
    let grade = grade_texts(&scenario, &[("out.json", &upper)]);
    assert!(grade.exact && grade.problems.is_empty(), "{}", explain(&grade));

    // An overdraft: branch 1 has 400, the customer withdraws 500.
    let overdraft = parse_input(
        r#"[{"id": 1, "type": "customer", "events": [{"id": 1, "interface": "withdraw", "money": 500}, {"id": 2, "interface": "query"}]},
            {"id": 1, "type": "branch", "balance": 400}]"#,
        "x.json",
    )
    .unwrap();
    let mut v = real_output(&overdraft, OutputFormat::P1).remove(0);
    assert_eq!(v[0]["recv"][0]["result"], "fail");
    v[0]["recv"][0]["result"] = json!("success");
    let grade = graded(&overdraft, &[v]);
    assert_only(&grade, &[(Overdraft, "$[0].recv[0].result")]);
    assert_eq!(
        grade.problems.iter().find(|p| p.kind == Overdraft).unwrap().sentence(),
        "customer 1, event 1 (withdraw 500 at branch 1): \"result\": \"success\", expected \"fail\": \
         the balance there was at most 400 (an overdraft must fail and change nothing)"
    );
}

#[test]
fn project_3_mutations() {
    use ProblemKind::*;
    let scenario = input("p3-client-consistency/anuragbnrj+cse531/input_sample.json");
    let real = real_output(&scenario, OutputFormat::P3).remove(0);
    let mut v = real.clone();
    v[2]["recv"][0]["balance"] = json!(0);
    assert_only(&graded(&scenario, &[v]), &[(ReadYourWrites, "$[2].recv[0].balance")]);
    let mut v = real.clone();
    v.as_array_mut().unwrap().swap(1, 2);
    assert_only(&graded(&scenario, &[v]), &[(WrongOrder, "$[1].recv[0]")]);
    let mut v = real.clone();
    v.as_array_mut().unwrap().remove(1);
    assert_only(&graded(&scenario, &[v]), &[(MissingAnswer, "$[0].recv[0]")]);

    let mw = input("p3-client-consistency/swantrace+cse531_project3/input.monotonic_writes.json");
    let grade = grade_texts(&mw, &[("out.json", r#"[{"id": 1, "balance": 400}]"#)]);
    assert_only(&grade, &[(MonotonicWrites, "$[0].balance")]);
    let rw = input("p3-client-consistency/swantrace+cse531_project3/input.read_writes.json");
    let grade = grade_texts(&rw, &[("out.json", r#"[{"id": 1, "balance": 0}]"#)]);
    assert_only(&grade, &[(ReadYourWrites, "$[0].balance")]);
}

/// The index of the first entry in `list` with `comment`.
fn find(list: &Value, comment: &str) -> usize {
    list["events"].as_array().unwrap().iter().position(|e| e["comment"] == comment).unwrap()
}

#[test]
fn project_2b_mutations() {
    use ProblemKind::*;
    let scenario = input(&format!("{P2}/jthak002+cse531/input.json"));
    let lists = real_output(&scenario, OutputFormat::P2b);
    let (customers, branches) = (lists[0].clone(), lists[1].clone());
    assert!(graded(&scenario, &[customers.clone(), branches.clone()]).exact);

    // Branch 2 receives request 1 from branch 1 one tick too early.
    let mut b = branches.clone();
    let i = find(&b[1], "event_recv from branch 1");
    let clock = b[1]["events"][i]["logical_clock"].as_u64().unwrap();
    b[1]["events"][i]["logical_clock"] = json!(clock - 1);
    let at = format!("$[1].events[{i}].logical_clock");
    assert_only(&graded(&scenario, &[customers.clone(), b]), &[(ReceiveRule, &at)]);

    // It names itself as the sender.
    let mut b = branches.clone();
    b[1]["events"][i]["comment"] = json!("event_recv from branch 2");
    let grade = graded(&scenario, &[customers.clone(), b]);
    assert_only(&grade, &[(ReceiverNamed, &format!("$[1].events[{i}].comment"))]);
    assert!(explain(&grade).contains("branch 2: \"event_recv from branch 2\" names the receiving branch, not the sender (branch 1)"));

    // The receive is missing.
    let mut b = branches.clone();
    b[1]["events"].as_array_mut().unwrap().remove(i);
    assert_only(&graded(&scenario, &[customers.clone(), b]), &[(MissingPropagation, "")]);

    // The receive is there twice (the copy last, with a later clock).
    let mut b = branches.clone();
    let events = b[1]["events"].as_array_mut().unwrap();
    let mut copy = events[i].clone();
    copy["logical_clock"] = json!(events.last().unwrap()["logical_clock"].as_u64().unwrap() + 1);
    events.push(copy);
    let n = events.len() - 1;
    assert_only(
        &graded(&scenario, &[customers.clone(), b]),
        &[(DuplicatePropagation, &format!("$[1].events[{n}]"))],
    );

    // Two of branch 1's events swapped: its clock goes back.
    let mut b = branches.clone();
    b[0]["events"].as_array_mut().unwrap().swap(0, 1);
    assert_only(
        &graded(&scenario, &[customers.clone(), b]),
        &[(ClockNotIncreasing, "$[0].events[1].logical_clock")],
    );

    // Upper case and the other spellings are no mistake; a typo is.
    let text = serde_json::to_string(&branches)
        .unwrap()
        .replace("event_recv from customer", "Event_Recv from Customer")
        .replace("propagate_", "PROPOGATE_");
    let customers_text = serde_json::to_string(&customers).unwrap();
    let grade = grade_texts(&scenario, &[("c.json", &customers_text), ("b.json", &text)]);
    assert!(grade.exact && grade.problems.is_empty(), "{}", explain(&grade));
    let text = serde_json::to_string(&branches).unwrap().replacen(
        "propagate_deposit",
        "propagte_deposit",
        1,
    );
    let grade = grade_texts(&scenario, &[("c.json", &customers_text), ("b.json", &text)]);
    assert_eq!(
        valid_problems(&grade).iter().map(|(k, _)| *k).collect::<Vec<_>>(),
        [UnknownName],
        "{}",
        explain(&grade)
    );
}

#[test]
fn project_2a_mutations() {
    use ProblemKind::*;
    let scenario = input("p1-branch-propagation/clin255+CSE531_project1/input.json");
    let real = real_output(&scenario, OutputFormat::P2a).remove(0);
    assert!(graded(&scenario, std::slice::from_ref(&real)).exact);
    // Branch 1 receives event 2 one tick early, in both views.
    let text = serde_json::to_string(&real).unwrap();
    let clock = real[0]["data"][0]["clock"].as_u64().unwrap();
    assert_eq!(real[0]["data"][0]["name"], "deposit_propagate_request");
    let early = text
        .replace(
            &format!("{{\"id\":2,\"name\":\"deposit_propagate_request\",\"clock\":{clock}}}"),
            &format!("{{\"id\":2,\"name\":\"deposit_propagate_request\",\"clock\":{}}}", clock - 1),
        )
        .replacen(
            &format!("{{\"clock\":{clock},\"name\":\"deposit_propagate_request\"}}"),
            &format!("{{\"clock\":{},\"name\":\"deposit_propagate_request\"}}", clock - 1),
            1,
        );
    let grade = grade_texts(&scenario, &[("out.json", &early)]);
    assert_only(&grade, &[(ReceiveRule, "$[0].data[0].clock")]);
    // Branch 3 never gets event 4... (its entries removed from both views).
    let mut v = real.clone();
    v[0]["data"].as_array_mut().unwrap().retain(|e| e["id"] != 4);
    for view in v.as_array_mut().unwrap().iter_mut().filter(|o| o.get("eventid") == Some(&json!(4)))
    {
        let data = view["data"].as_array_mut().unwrap();
        let first = data.iter().position(|e| e["name"] == "withdraw_propagate_request").unwrap();
        data.drain(first..first + 2);
    }
    let grade = graded(&scenario, &[v]);
    let kinds: Vec<ProblemKind> = valid_problems(&grade).into_iter().map(|(k, _)| k).collect();
    assert_eq!(kinds, [MissingPropagation, MissingPropagation], "{}", explain(&grade));
    let text = text.replacen("deposit_propagate_request", "deposit_propagete_request", 1);
    let grade = grade_texts(&scenario, &[("out.json", &text)]);
    assert_only(&grade, &[(UnknownName, "$[0].data[0].name")]);
    let _ = fixture;
}

/// Project 2 prints no balances, but a withdraw's result shows in whether
/// it was propagated: an output whose withdraw went through although no
/// legal run covers it (the same events, one amount apart) is an overdraft;
/// one refused although every run covers it is refused with funds.
#[test]
fn project_2_results_show_in_what_was_propagated() {
    use ProblemKind::*;
    let events = |amount: u32| {
        format!(
            r#"[{{"id": 1, "type": "customer", "events": [
                {{"id": 1, "interface": "deposit", "money": 50}},
                {{"id": 2, "interface": "withdraw", "money": {amount}}}]}},
              {{"id": 1, "type": "branch", "balance": 400}},
              {{"id": 2, "type": "branch", "balance": 400}}]"#
        )
    };
    let requests = |amount: u32| {
        format!(
            r#"[{{"id": 1, "type": "customer", "customer-requests": [
                {{"customer-request-id": 1, "interface": "deposit", "money": 50}},
                {{"customer-request-id": 2, "interface": "withdraw", "money": {amount}}}]}},
              {{"id": 1, "type": "branch", "balance": 400}},
              {{"id": 2, "type": "branch", "balance": 400}}]"#
        )
    };
    for (format, text) in
        [(OutputFormat::P2a, &events as &dyn Fn(u32) -> String), (OutputFormat::P2b, &requests)]
    {
        let fits = parse_input(&text(300), "in.json").unwrap();
        let too_much = parse_input(&text(500), "in.json").unwrap();
        // p2b: the customer and branch lists.
        let parts = if format == OutputFormat::P2b { 2 } else { 1 };
        let paid = real_output(&fits, format)[..parts].to_vec();
        let refused = real_output(&too_much, format)[..parts].to_vec();
        assert!(graded(&fits, &paid).valid, "{format}: {}", explain(&graded(&fits, &paid)));
        assert!(graded(&too_much, &refused).valid);

        let grade = graded(&too_much, &paid);
        let kinds: Vec<ProblemKind> = valid_problems(&grade).into_iter().map(|(k, _)| k).collect();
        assert_eq!(kinds, [Overdraft], "{format}:\n{}", explain(&grade));
        let problem = grade.problems.iter().find(|p| p.kind == Overdraft).unwrap();
        assert!(
            problem.message.starts_with("propagated to the other branches, so it succeeded, expected \"fail\": the balance there was at most 450"),
            "{}",
            problem.message
        );
        let grade = graded(&fits, &refused);
        let kinds: Vec<ProblemKind> = valid_problems(&grade).into_iter().map(|(k, _)| k).collect();
        assert_eq!(kinds, [RefusedWithFunds], "{format}:\n{}", explain(&grade));
    }
}

/// Outputs whose every read fits some run on its own, but no one run fits
/// them all: each is one [`ProblemKind::NoSingleRun`], on the read that
/// completes the contradiction, naming the others; the same reads in an
/// order some run gives stay valid.
#[test]
fn reads_that_no_single_run_gives_together() {
    use ProblemKind::*;
    let p1 = |customers: &str| {
        parse_input(
            &format!(
                r#"[{customers},
                {{"id": 1, "type": "branch", "balance": 400}},
                {{"id": 2, "type": "branch", "balance": 400}}]"#
            ),
            "in.json",
        )
        .unwrap()
    };
    let sentence = |grade: &Grade| {
        grade.problems.iter().find(|p| p.kind == NoSingleRun).map(|p| p.sentence()).unwrap()
    };

    // Customer 2 reads twice at branch 2 while customer 1 deposits 100 at
    // branch 1: 400 then 500 is a run, 500 then 400 is none.
    let scenario = p1(
        r#"{"id": 1, "type": "customer", "events": [{"id": 1, "interface": "deposit", "money": 100}]},
        {"id": 2, "type": "customer", "events": [{"id": 2, "interface": "query"}, {"id": 3, "interface": "query"}]}"#,
    );
    let real = real_output(&scenario, OutputFormat::P1).remove(0);
    assert_eq!(
        (&real[1]["recv"][0]["balance"], &real[1]["recv"][1]["balance"]),
        (&json!(500), &json!(500))
    );
    let mut v = real.clone();
    v[1]["recv"][0]["balance"] = json!(400);
    assert!(graded(&scenario, &[v]).valid);
    let mut v = real.clone();
    v[1]["recv"][1]["balance"] = json!(400);
    let grade = graded(&scenario, &[v]);
    assert_only(&grade, &[(NoSingleRun, "$[1].recv[1].balance")]);
    assert_eq!(
        sentence(&grade),
        "customer 2, event 3 (query at branch 2): \"balance\": 400: no single execution gives this \
         together with customer 2, event 2 (query at branch 2) answered 500: the writes branch 2 \
         had applied would have had to shrink in between (a branch's writes only grow)"
    );

    // The same customer 2 sees the deposit, then fails to withdraw 450.
    let scenario = p1(
        r#"{"id": 1, "type": "customer", "events": [{"id": 1, "interface": "deposit", "money": 100}]},
        {"id": 2, "type": "customer", "events": [{"id": 2, "interface": "query"}, {"id": 3, "interface": "withdraw", "money": 450}]}"#,
    );
    let mut v = real_output(&scenario, OutputFormat::P1).remove(0);
    assert_eq!(v[1]["recv"][1]["result"], "success");
    v[1]["recv"][1]["result"] = json!("fail");
    assert_only(&graded(&scenario, &[v]), &[(NoSingleRun, "$[1].recv[1].result")]);

    // Each customer deposits, then reads a balance without the other's
    // deposit: each read came before the other's deposit was everywhere,
    // so before the other's read: no order of the two gives both.
    let scenario = p1(
        r#"{"id": 1, "type": "customer", "events": [{"id": 1, "interface": "deposit", "money": 100}, {"id": 2, "interface": "query"}]},
        {"id": 2, "type": "customer", "events": [{"id": 3, "interface": "deposit", "money": 10}, {"id": 4, "interface": "query"}]}"#,
    );
    let real = real_output(&scenario, OutputFormat::P1).remove(0);
    assert_eq!(
        (&real[0]["recv"][1]["balance"], &real[1]["recv"][1]["balance"]),
        (&json!(500), &json!(510))
    );
    let mut v = real.clone();
    v[1]["recv"][1]["balance"] = json!(410);
    let grade = graded(&scenario, &[v]);
    assert_only(&grade, &[(NoSingleRun, "$[1].recv[1].balance")]);
    assert!(
        sentence(&grade)
            .contains("together with customer 1, event 2 (query at branch 1) answered 500"),
        "{}",
        explain(&grade)
    );

    // Project 3: customer 2 reads customer 1's deposit at branch 1, then
    // not at branch 2, where it was made (a write is at its own branch
    // first). The other way round it was on its way to branch 1: valid.
    let scenario = parse_input(
        r#"[{"id": 1, "type": "customer", "events": [{"id": 1, "interface": "deposit", "money": 10, "branch": 2}]},
            {"id": 2, "type": "customer", "events": [{"id": 2, "interface": "query", "branch": 1}, {"id": 3, "interface": "query", "branch": 2}]},
            {"id": 3, "type": "customer", "events": [{"id": 4, "interface": "query", "branch": 2}, {"id": 5, "interface": "query", "branch": 1}]},
            {"id": 1, "type": "branch", "balance": 0}, {"id": 2, "type": "branch", "balance": 0}]"#,
        "in.json",
    )
    .unwrap();
    let real = real_output(&scenario, OutputFormat::P3).remove(0);
    let balances: Vec<&Value> = (1..5).map(|i| &real[i]["recv"][0]["balance"]).collect();
    assert_eq!(balances, [&json!(10); 4]);
    let mut v = real.clone();
    v[4]["recv"][0]["balance"] = json!(0);
    assert!(graded(&scenario, &[v]).valid);
    let mut v = real.clone();
    v[2]["recv"][0]["balance"] = json!(0);
    assert_only(&graded(&scenario, &[v]), &[(NoSingleRun, "$[2].recv[0].balance")]);
}

/// Random inputs (4 branches, 4 customers of 5 events each, every kind of
/// event, project 1 and project 3 shapes) run concurrently with random
/// delays: every output is valid, the one-run check included (p2a: on the
/// results its propagations imply).
#[test]
fn concurrent_runs_of_random_inputs_are_valid() {
    use crate::sim::SplitMix64;
    for seed in 1..=40u64 {
        let mut rng = SplitMix64::new(seed);
        let p3 = seed % 2 == 0;
        let mut entries = Vec::new();
        let mut id = 0;
        for c in 1..=4 {
            let events: Vec<String> = (0..5)
                .map(|_| {
                    id += 1;
                    let branch = if p3 {
                        format!(r#", "branch": {}"#, rng.below(4) + 1)
                    } else {
                        String::new()
                    };
                    match rng.below(3) {
                        0 => format!(r#"{{"id": {id}, "interface": "query"{branch}}}"#),
                        1 => format!(
                            r#"{{"id": {id}, "interface": "deposit", "money": {}{branch}}}"#,
                            (rng.below(5) + 1) * 10
                        ),
                        _ => format!(
                            r#"{{"id": {id}, "interface": "withdraw", "money": {}{branch}}}"#,
                            (rng.below(5) + 1) * 20
                        ),
                    }
                })
                .collect();
            entries.push(format!(
                r#"{{"id": {c}, "type": "customer", "events": [{}]}}"#,
                events.join(", ")
            ));
        }
        for b in 1..=4 {
            entries.push(format!(r#"{{"id": {b}, "type": "branch", "balance": 50}}"#));
        }
        let scenario = parse_input(&format!("[{}]", entries.join(",\n")), "random.json").unwrap();
        let formats: &[OutputFormat] = if p3 {
            &[OutputFormat::P3]
        } else {
            &[OutputFormat::P1, OutputFormat::P1Money, OutputFormat::P2a]
        };
        for format in formats {
            // Without the simulator's periodic anti-entropy, which the
            // course's programs do not have: with random delays its pulls
            // resend writes still in flight, and the p2a writer prints
            // those catch-up sends as `propagate_request` entries (a known
            // gap of `formats::p2`, which the p2a check rightly reports).
            let config = SimConfig {
                schedule: Schedule::Concurrent,
                seed,
                network: NetworkPlan { delay_ms: Delay::Between(0, 30), ..NetworkPlan::default() },
                anti_entropy_ms: 0,
                ..demo::base_for(*format)
            };
            let record = sim::run(&scenario, &config).expect("the run finishes").record;
            let texts = exact::render(*format, &scenario, &record);
            let files: Vec<(&str, &str)> = texts.iter().map(|t| ("out.json", t.as_str())).collect();
            let grade = super::grade(
                &scenario,
                &super::Expected::new(&scenario),
                &to_files(&files),
                Some(*format),
            );
            assert!(grade.valid, "seed {seed} {format}:\n{}\n{}", explain(&grade), texts[0]);
        }
    }
}

#[test]
fn a_key_written_twice_is_a_problem_at_its_second_place() {
    let scenario = input("p1-branch-propagation/jthak002+cse531/input_small.json");
    let real = real_output(&scenario, OutputFormat::P1).remove(0);
    let text = serde_json::to_string_pretty(&real).unwrap();
    assert!(grade_texts(&scenario, &[("out.json", &text)]).valid);
    // Before: graded as the last "id" without a word.
    let twice = text.replacen("\"id\": 1,", "\"id\": 1, \"id\": 1,", 1);
    assert_ne!(twice, text);
    let grade = grade_texts(&scenario, &[("out.json", &twice)]);
    assert!(!grade.valid, "{}", explain(&grade));
    let problem = grade.problems.iter().find(|p| p.kind == ProblemKind::Malformed).unwrap();
    let line = problem.line(&grade.files);
    assert!(
        line.starts_with(
            "out.json:3:14: \"id\" appears twice in one object (first at line 3, column"
        ),
        "{line}"
    );
}

#[test]
fn a_deposit_past_the_maximum_balance_may_fail_and_no_other_may() {
    let at = |balance: &str| {
        let text = format!(
            r#"[{{"id": 1, "type": "customer", "events": [{{"id": 1, "interface": "deposit", "money": 1}},
               {{"id": 2, "interface": "query"}}]}}, {{"id": 1, "type": "branch", "balance": {balance}}}]"#
        );
        crate::formats::parse_input(&text, "in.json").unwrap()
    };
    let output = |balance: &str| {
        format!(
            r#"[{{"id": 1, "recv": [{{"interface": "deposit", "result": "fail"}},
               {{"interface": "query", "result": "success", "balance": {balance}}}]}}]"#
        )
    };
    // What bank run prints: the deposit would pass 9999999999999.99.
    let full = at("9999999999999.99");
    let grade = grade_texts(&full, &[("out.json", &output("9999999999999.99"))]);
    assert!(grade.exact && grade.valid, "{:?}", grade.problems);
    // With room for it, a deposit does not fail.
    let roomy = at("100");
    let grade = grade_texts(&roomy, &[("out.json", &output("100"))]);
    assert!(!grade.valid);
    let why = &grade.problems.iter().find(|p| p.kind == ProblemKind::RefusedWithFunds).unwrap();
    assert!(why.message.contains("fails only when it would take the balance past"), "{why:?}");
}

#[test]
fn an_answer_without_its_balance_costs_the_balance_points() {
    let scenario = crate::formats::parse_input(
        r#"[{"id": 1, "type": "customer", "events": [{"id": 1, "interface": "query"}]},
            {"id": 1, "type": "branch", "balance": 400}]"#,
        "in.json",
    )
    .unwrap();
    let grade = grade_texts(
        &scenario,
        &[("out.json", r#"[{"id": 1, "recv": [{"interface": "query", "result": "success"}]}]"#)],
    );
    let kinds: Vec<ProblemKind> = grade.problems.iter().map(|p| p.kind).collect();
    assert!(kinds.contains(&ProblemKind::WrongBalance), "{:?}", grade.problems);
    let points = super::testutil::p1_points();
    assert_eq!(points.score(&grade).earned, 20.0, "the answers were right, not the balances");
}
