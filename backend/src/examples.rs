//! The example scenarios shipped in `examples/`, compiled into the binary so
//! `bank serve` offers them wherever it runs.

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
            text: include_str!("../../examples/seed-test-1.json"),
        },
        Example {
            name: "seed-test-2",
            title: "Reference test 2: read your writes (deposit at 1, query at 2)",
            text: include_str!("../../examples/seed-test-2.json"),
        },
        Example {
            name: "project1-sample",
            title: "Project 1 sample: 3 customers, 3 branches",
            text: include_str!("../../examples/project1-sample.json"),
        },
        Example {
            name: "project2-sample",
            title: "Project 2 sample: Lamport clocks, 3 customers",
            text: include_str!("../../examples/project2-sample.json"),
        },
        Example {
            name: "project3-big",
            title: "Project 3 big: 60 events across 10 branches",
            text: include_str!("../../examples/project3-big.json"),
        },
    ]
}

/// The example called `name`.
pub fn find(name: &str) -> Option<Example> {
    all().into_iter().find(|e| e.name == name)
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_example_parses() {
        for e in super::all() {
            bank_core::formats::parse_input(e.text, e.name).unwrap_or_else(|err| panic!("{}: {err}", e.name));
        }
    }
}
