//! Which output to write, and the small style choices inside it.
//!
//! The course changed its expected outputs from year to year, so the writer
//! takes an [`OutputFormat`] (which shape) and [`OutputOptions`] (float money,
//! the spelling of "propagate", which project 2 list to print). Each format
//! also knows the run conventions its expected outputs were made under: the
//! [`Schedule`] of the customers and the [`ClockScheme`] of the branches.

use std::fmt;
use std::str::FromStr;

use crate::clock::ClockScheme;
use crate::scenario::InputShape;
use crate::schedule::Schedule;

/// The course output shapes bank-sim can write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    /// Project 1, autumn 2023 on: JSON array, one object per customer entry {"id","recv":[...]},
    /// writes {"interface","result":"success"}, queries {"interface":"query","result":"success","balance":B}.
    P1,
    /// Project 1 handout up to spring 2023: same, but queries answer under "money".
    P1Money,
    /// Project 2 generation A: [{"pid":B,"data":[{"id","name","clock"}]}..., {"eventid":E,"data":[{"clock","name"}]}...]
    P2a,
    /// Project 2 generation B: the three lists (customer events, branch events, all events).
    P2b,
    /// Project 3: generation A ([{"id":C,"balance":B}]) for `dest` inputs, generation B (one object per executed event) otherwise.
    P3,
}

impl OutputFormat {
    pub const ALL: [OutputFormat; 5] = [
        OutputFormat::P1,
        OutputFormat::P1Money,
        OutputFormat::P2a,
        OutputFormat::P2b,
        OutputFormat::P3,
    ];

    /// The name used on the command line: `p1`, `p1-money`, `p2a`, `p2b`, `p3`.
    pub fn as_str(self) -> &'static str {
        match self {
            OutputFormat::P1 => "p1",
            OutputFormat::P1Money => "p1-money",
            OutputFormat::P2a => "p2a",
            OutputFormat::P2b => "p2b",
            OutputFormat::P3 => "p3",
        }
    }

    /// The output that goes with an input shape when the user names none.
    pub fn default_for(shape: InputShape) -> OutputFormat {
        match shape {
            InputShape::Events => OutputFormat::P1,
            InputShape::CustomerRequests => OutputFormat::P2b,
            InputShape::EventsWithDest | InputShape::EventsWithBranch => OutputFormat::P3,
        }
    }

    /// The schedule the format's expected outputs were produced under: the
    /// handout's "every query sees the final balance" for [`P1Money`](Self::P1Money),
    /// one customer after another for everything else.
    pub fn default_schedule(self) -> Schedule {
        match self {
            OutputFormat::P1Money => Schedule::WritesFirst,
            _ => Schedule::Sequential,
        }
    }

    /// Which events tick the branches' Lamport clocks for this format.
    pub fn clock_scheme(self) -> ClockScheme {
        match self {
            OutputFormat::P2a => ClockScheme::ExecuteAndRespond,
            _ => ClockScheme::SendAndReceive,
        }
    }
}

impl fmt::Display for OutputFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OutputFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase();
        OutputFormat::ALL.into_iter().find(|f| f.as_str() == wanted).ok_or_else(|| {
            format!(
                "unknown output format `{s}` (expected one of: {})",
                names(OutputFormat::ALL.map(|f| f.as_str()))
            )
        })
    }
}

/// How the propagate events are spelled in project 2 outputs. The course
/// files use all three; the seed's expected output uses `propogate`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Spelling {
    /// `deposit_propagate_request`, `propagate_deposit`.
    #[default]
    Propagate,
    /// `deposit_propogate_request`, `propogate_deposit` (sic).
    Propogate,
    /// `deposit_broadcast_request`, `broadcast_deposit`.
    Broadcast,
}

impl Spelling {
    pub const ALL: [Spelling; 3] = [Spelling::Propagate, Spelling::Propogate, Spelling::Broadcast];

    pub fn as_str(self) -> &'static str {
        match self {
            Spelling::Propagate => "propagate",
            Spelling::Propogate => "propogate",
            Spelling::Broadcast => "broadcast",
        }
    }
}

impl fmt::Display for Spelling {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Spelling {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase();
        Spelling::ALL.into_iter().find(|x| x.as_str() == wanted).ok_or_else(|| {
            format!(
                "unknown spelling `{s}` (expected one of: {})",
                names(Spelling::ALL.map(|x| x.as_str()))
            )
        })
    }
}

/// Which of the three project 2 generation B lists [`render`](super::render)
/// prints (all three are available from [`render_p2b_files`](super::render_p2b_files)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum P2bPart {
    /// The flat list of all events, grouped by request.
    #[default]
    All,
    /// The customer events list.
    Customer,
    /// The branch events list.
    Branch,
}

impl P2bPart {
    pub const ALL: [P2bPart; 3] = [P2bPart::All, P2bPart::Customer, P2bPart::Branch];

    pub fn as_str(self) -> &'static str {
        match self {
            P2bPart::All => "all",
            P2bPart::Customer => "customer",
            P2bPart::Branch => "branch",
        }
    }
}

impl fmt::Display for P2bPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for P2bPart {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase();
        P2bPart::ALL.into_iter().find(|x| x.as_str() == wanted).ok_or_else(|| {
            format!(
                "unknown project 2 list `{s}` (expected one of: {})",
                names(P2bPart::ALL.map(|x| x.as_str()))
            )
        })
    }
}

/// Style choices shared by all writers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct OutputOptions {
    /// Print whole amounts as `400.0` (the seed's style) instead of `400`.
    pub float_money: bool,
    /// The spelling of "propagate" in project 2 event names.
    pub spelling: Spelling,
    /// Which project 2 generation B list `render` prints.
    pub p2b_part: P2bPart,
}

fn names<const N: usize>(names: [&str; N]) -> String {
    names.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for f in OutputFormat::ALL {
            assert_eq!(f.as_str().parse::<OutputFormat>(), Ok(f));
            assert_eq!(f.to_string(), f.as_str());
        }
        for s in Spelling::ALL {
            assert_eq!(s.as_str().parse::<Spelling>(), Ok(s));
        }
        for p in P2bPart::ALL {
            assert_eq!(p.as_str().parse::<P2bPart>(), Ok(p));
        }
        assert_eq!("P1-Money".parse::<OutputFormat>(), Ok(OutputFormat::P1Money));
        let err = "p4".parse::<OutputFormat>().unwrap_err();
        assert_eq!(err, "unknown output format `p4` (expected one of: p1, p1-money, p2a, p2b, p3)");
        assert!("x".parse::<Spelling>().unwrap_err().contains("propogate"));
        assert!("x".parse::<P2bPart>().unwrap_err().contains("customer"));
    }

    #[test]
    fn defaults_follow_the_course() {
        assert_eq!(OutputFormat::default_for(InputShape::Events), OutputFormat::P1);
        assert_eq!(OutputFormat::default_for(InputShape::CustomerRequests), OutputFormat::P2b);
        assert_eq!(OutputFormat::default_for(InputShape::EventsWithDest), OutputFormat::P3);
        assert_eq!(OutputFormat::default_for(InputShape::EventsWithBranch), OutputFormat::P3);
        assert_eq!(OutputFormat::P1Money.default_schedule(), Schedule::WritesFirst);
        assert_eq!(OutputFormat::P3.default_schedule(), Schedule::Sequential);
        assert_eq!(OutputFormat::P2a.clock_scheme(), ClockScheme::ExecuteAndRespond);
        assert_eq!(OutputFormat::P2b.clock_scheme(), ClockScheme::SendAndReceive);
        let o = OutputOptions::default();
        assert_eq!(
            (o.float_money, o.spelling, o.p2b_part),
            (false, Spelling::Propagate, P2bPart::All)
        );
    }
}
