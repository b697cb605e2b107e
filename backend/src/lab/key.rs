//! Lab keys: the unguessable ids that name a lab.
//!
//! A lab has two: its *lab id*, the owner's capability (whoever presents it
//! controls the lab), and its *follow id*, a follower's (read-only). Each is
//! 128 bits from the operating system's random source, drawn on its own, so
//! knowing the follow id says nothing about the lab id. On the wire and in
//! URLs a key is 32 lowercase hex digits. `Debug` and [`LabKey::prefix`]
//! show only the first 8 digits: enough to tell labs apart in a log, far too
//! few to use.

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

/// 128 random bits naming a lab (or its follow link).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct LabKey([u8; 16]);

/// A string that is not a lab key.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("{0:?} is not a lab id (32 hex digits)")]
pub struct BadKey(String);

impl BadKey {
    /// `text` (its first 40 characters) is not a lab id.
    pub(crate) fn new(text: &str) -> BadKey {
        BadKey(text.chars().take(40).collect())
    }
}

impl LabKey {
    /// A fresh key from the operating system's random source.
    pub fn random() -> LabKey {
        let mut bytes = [0u8; 16];
        // Without a random source no key can be unguessable: a server that
        // cannot draw one has nothing sensible to do.
        getrandom::getrandom(&mut bytes).expect("the operating system offers random bytes");
        LabKey(bytes)
    }

    /// The first 8 hex digits, for logs.
    pub fn prefix(&self) -> String {
        self.to_string()[..8].to_owned()
    }
}

impl fmt::Display for LabKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for LabKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LabKey({}…)", self.prefix())
    }
}

impl FromStr for LabKey {
    type Err = BadKey;

    fn from_str(s: &str) -> Result<LabKey, BadKey> {
        let bad = || BadKey::new(s);
        if s.len() != 32 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad());
        }
        let mut bytes = [0u8; 16];
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
        }
        Ok(LabKey(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_32_hex_digits_and_read_back() {
        let key = LabKey::random();
        let text = key.to_string();
        assert_eq!(text.len(), 32);
        assert_eq!(text.parse::<LabKey>(), Ok(key));
        assert_eq!(text.to_uppercase().parse::<LabKey>(), Ok(key));
        assert!(format!("{key:?}").contains(&key.prefix()));
        assert!(!format!("{key:?}").contains(&text));
    }

    #[test]
    fn two_keys_differ_and_malformed_ones_are_refused() {
        assert_ne!(LabKey::random(), LabKey::random());
        for bad in ["", "abc", &"g".repeat(32), &"a".repeat(33), "é".repeat(16).as_str()] {
            assert!(bad.parse::<LabKey>().is_err(), "{bad:?}");
        }
    }
}
