//! The example scenarios shipped in `examples/`, compiled in so `bank serve`
//! offers them wherever it runs, and the browser's simulator has them with no
//! server at all (a static `dist/`). The `demo-*` ones are
//! experiment files (a course input wrapped with guarantees, network plan and
//! seed, see [`crate::experiment`]): read them with
//! [`crate::experiment::parse_experiment`], which takes plain inputs too.

/// One shipped scenario.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Example {
    /// Short name, usable as `?scenario=<name>` in the visualizer.
    pub name: &'static str,
    pub title: &'static str,
    pub text: &'static str,
}

/// Every shipped example, in the order the picker shows them.
pub fn all() -> Vec<Example> {
    vec![
        Example {
            name: "seed-test-1",
            title: "Reference test 1: monotonic writes (deposit at 1, withdraw at 2, query at 2)",
            text: include_str!("../../../examples/seed-test-1.json"),
        },
        Example {
            name: "seed-test-2",
            title: "Reference test 2: read your writes (deposit at 1, query at 2)",
            text: include_str!("../../../examples/seed-test-2.json"),
        },
        Example {
            name: "project1-sample",
            title: "Project 1 sample: 3 customers, 3 branches",
            text: include_str!("../../../examples/project1-sample.json"),
        },
        Example {
            name: "project2-sample",
            title: "Project 2 sample: Lamport clocks, 3 customers",
            text: include_str!("../../../examples/project2-sample.json"),
        },
        Example {
            name: "project3-big",
            title: "Project 3 big: 60 events across 10 branches",
            text: include_str!("../../../examples/project3-big.json"),
        },
        Example {
            name: "demo-stale-read",
            title: "Demo: stale read (Read Your Writes off)",
            text: include_str!("../../../examples/demo-stale-read.json"),
        },
        Example {
            name: "demo-reads-backwards",
            title: "Demo: reads going backwards (Monotonic Reads off)",
            text: include_str!("../../../examples/demo-reads-backwards.json"),
        },
        Example {
            name: "demo-write-before-cause",
            title: "Demo: write applied before its cause (Writes Follow Reads off)",
            text: include_str!("../../../examples/demo-write-before-cause.json"),
        },
        Example {
            name: "demo-writes-out-of-order",
            title: "Demo: writes out of order (Monotonic Writes off)",
            text: include_str!("../../../examples/demo-writes-out-of-order.json"),
        },
        Example {
            name: "demo-overdraft",
            title: "Demo: overdraft (no session guarantee prevents it)",
            text: include_str!("../../../examples/demo-overdraft.json"),
        },
        Example {
            name: "busy-bank",
            title: "Busy bank: 20 branches, 32 customers at once, hundreds of messages in flight",
            text: include_str!("../../../examples/busy-bank.json"),
        },
    ]
}

/// The example called `name`.
pub fn find(name: &str) -> Option<Example> {
    all().into_iter().find(|e| e.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_example_parses() {
        for e in all() {
            let parsed = crate::experiment::parse_experiment(e.text, e.name)
                .unwrap_or_else(|err| panic!("{}: {err}", e.name));
            // Every demo tells its story (other experiments, such as
            // busy-bank, may describe themselves too).
            if e.name.starts_with("demo-") {
                assert!(parsed.settings.description.is_some(), "{}", e.name);
            }
        }
        let mut names: Vec<_> = all().into_iter().map(|e| e.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all().len(), "example names are unique");
    }
}
