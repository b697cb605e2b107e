//! Which `bank serve` process a lab id belongs to: `--instance NAME`.
//!
//! Labs live in one process's memory, so several `bank serve` processes
//! behind a reverse proxy act as one server only if the proxy sends every
//! call for a lab to the process that holds it. The proxy cannot read a
//! gRPC message's fields, but it can read a header: so a server started
//! with `--instance a` issues ids that say so, `a-` followed by the 32 hex
//! digits of the [`LabKey`] (the lab id and the follow id alike), the page
//! names its lab in the `x-lab-id` header of every call (`Open` included),
//! and the proxy routes on the header's prefix (`deploy/nginx.conf`). A
//! call with no id (a new lab's `Open`, the page itself) may go anywhere.
//!
//! The prefix is public: the capability is the 128 random bits after it. A
//! server without `--instance` issues and accepts bare keys, as before.

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

use crate::lab::key::{BadKey, LabKey};

/// The most characters an instance name has.
const MAX_NAME: usize = 16;

/// A server instance's name: 1 to 16 lowercase ASCII letters and digits,
/// starting with a letter (so it reads the same in a URL, a header and a
/// proxy's pattern).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Instance(String);

/// Not an instance name.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error(
    "{0:?} is not an instance name: give 1 to {MAX_NAME} lowercase letters and digits, \
     starting with a letter (e.g. a, b, serve2)"
)]
pub struct BadInstance(String);

impl FromStr for Instance {
    type Err = BadInstance;

    fn from_str(s: &str) -> Result<Instance, BadInstance> {
        let ok = (1..=MAX_NAME).contains(&s.len())
            && s.starts_with(|c: char| c.is_ascii_lowercase())
            && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        if ok {
            Ok(Instance(s.to_owned()))
        } else {
            Err(BadInstance(s.chars().take(40).collect()))
        }
    }
}

impl fmt::Display for Instance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a wire id names no lab of this server.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum BadId {
    /// Not an id at all.
    #[error(transparent)]
    Malformed(#[from] BadKey),
    /// An id of another instance (or, `theirs` `None`, of a server without
    /// `--instance`), so its lab cannot be here.
    #[error(
        "lab {shown}… was issued by {}, and this is {}: a proxy in front of several servers \
         must send each call to the server named by the prefix of its x-lab-id header \
         (see deploy/nginx.conf)",
        describe(.theirs.as_ref()),
        describe(.ours.as_ref())
    )]
    ElsewhereIssued { shown: String, theirs: Option<Instance>, ours: Option<Instance> },
}

fn describe(instance: Option<&Instance>) -> String {
    match instance {
        Some(name) => format!("server instance {name}"),
        None => "a server without --instance".to_owned(),
    }
}

/// How this server writes and reads lab ids on the wire.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WireIds {
    instance: Option<Instance>,
}

impl WireIds {
    pub fn new(instance: Option<Instance>) -> WireIds {
        WireIds { instance }
    }

    pub fn instance(&self) -> Option<&Instance> {
        self.instance.as_ref()
    }

    /// `key` as this server issues it: `NAME-<hex>`, or bare hex.
    pub fn show(&self, key: LabKey) -> String {
        match &self.instance {
            Some(name) => format!("{name}-{key}"),
            None => key.to_string(),
        }
    }

    /// The first digits of `key` as issued, for logs and messages.
    pub fn short(&self, key: LabKey) -> String {
        match &self.instance {
            Some(name) => format!("{name}-{}", key.prefix()),
            None => key.prefix(),
        }
    }

    /// The key of a wire id, if this server issued it.
    pub fn read(&self, text: &str) -> Result<LabKey, BadId> {
        let (theirs, hex) = match text.split_once('-') {
            Some((name, hex)) => (Some(name.parse::<Instance>().map_err(|_| bad(text))?), hex),
            None => (None, text),
        };
        let key = hex.parse::<LabKey>().map_err(|_| bad(text))?;
        if theirs == self.instance {
            Ok(key)
        } else {
            let shown = match &theirs {
                Some(name) => format!("{name}-{}", key.prefix()),
                None => key.prefix(),
            };
            Err(BadId::ElsewhereIssued { shown, theirs, ours: self.instance.clone() })
        }
    }
}

fn bad(text: &str) -> BadId {
    BadId::Malformed(BadKey::new(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instance(name: &str) -> Option<Instance> {
        Some(name.parse().unwrap())
    }

    #[test]
    fn instance_names_are_short_lowercase_words() {
        for good in ["a", "b2", "serve10", "abcdefghijklmnop"] {
            assert_eq!(good.parse::<Instance>().unwrap().to_string(), good);
        }
        for bad in ["", "A", "2a", "a-b", "a.b", "abcdefghijklmnopq", "é"] {
            let e = bad.parse::<Instance>().unwrap_err();
            assert!(e.to_string().contains("lowercase letters and digits"), "{e}");
        }
    }

    #[test]
    fn an_instance_prefixes_the_ids_it_issues_and_reads_them_back() {
        let key = LabKey::random();
        let ids = WireIds::new(instance("a"));
        let shown = ids.show(key);
        assert_eq!(shown, format!("a-{key}"));
        assert_eq!(ids.read(&shown), Ok(key));
        assert_eq!(ids.short(key), format!("a-{}", key.prefix()));
        let bare = WireIds::default();
        assert_eq!(bare.show(key), key.to_string());
        assert_eq!(bare.read(&key.to_string()), Ok(key));
    }

    #[test]
    fn an_id_of_another_instance_is_refused_naming_both() {
        let key = LabKey::random();
        let (a, b, bare) =
            (WireIds::new(instance("a")), WireIds::new(instance("b")), WireIds::default());
        let e = b.read(&a.show(key)).unwrap_err();
        assert!(matches!(e, BadId::ElsewhereIssued { .. }));
        let text = e.to_string();
        assert!(text.contains("issued by server instance a, and this is server instance b"));
        assert!(text.contains(&format!("a-{}…", key.prefix())), "{text}");
        assert!(!text.contains(&key.to_string()), "the whole key is never shown: {text}");
        let e = a.read(&bare.show(key)).unwrap_err().to_string();
        assert!(e.contains("issued by a server without --instance"), "{e}");
        let e = bare.read(&a.show(key)).unwrap_err().to_string();
        assert!(e.contains("and this is a server without --instance"), "{e}");
    }

    #[test]
    fn malformed_ids_are_malformed() {
        let ids = WireIds::new(instance("a"));
        for text in ["", "a-", "a-xyz", "A-0123", &format!("a-{}", "0".repeat(31)), "-"] {
            assert!(matches!(ids.read(text), Err(BadId::Malformed(_))), "{text:?}");
        }
    }
}
