//! Money as an exact integer number of cents.
//!
//! The reference implementation used Python floats, so `400.5` could round
//! differently on two branches. Here every amount is a [`Cents`] (an `i64`),
//! parsed exactly from the text of the input and formatted exactly on output.

use std::fmt;

/// An amount of money in cents. `Cents(40050)` is 400.50.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cents(pub i64);

/// Why a piece of text is not an amount of money.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("`{0}` is not a number")]
    NotANumber(String),
    #[error("`{0}` is negative; amounts must be zero or more")]
    Negative(String),
    #[error("`{0}` has more than two decimal places; amounts are whole cents")]
    SubCent(String),
    #[error("`{0}` is too large")]
    TooLarge(String),
}

impl Cents {
    pub const ZERO: Cents = Cents(0);

    /// Whole units (dollars), e.g. `Cents::units(400)` is 400.00.
    pub const fn units(units: i64) -> Cents {
        Cents(units * 100)
    }

    /// Parses a non-negative decimal amount such as `400`, `400.5` or `400.05`
    /// exactly (no float on the way). Used for input amounts, which the course
    /// files write as JSON numbers or strings.
    pub fn parse(text: &str) -> Result<Cents, MoneyError> {
        let t = text.trim();
        if t.starts_with('-') {
            // "-0" is still a sign error for the user: they wrote a minus.
            return Err(MoneyError::Negative(text.to_owned()));
        }
        let t = t.strip_prefix('+').unwrap_or(t);
        let (whole, frac) = match t.split_once('.') {
            Some((w, f)) => (w, f),
            None => (t, ""),
        };
        // Exponent forms like 4e2 are valid JSON numbers; accept only plain decimals.
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if (whole.is_empty() && frac.is_empty()) || !digits(whole) || !digits(frac) {
            return Err(MoneyError::NotANumber(text.to_owned()));
        }
        let frac = frac.trim_end_matches('0');
        if frac.len() > 2 {
            return Err(MoneyError::SubCent(text.to_owned()));
        }
        let whole: i64 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| MoneyError::TooLarge(text.to_owned()))?
        };
        let mut cents: i64 =
            if frac.is_empty() { 0 } else { frac.parse().expect("checked digits") };
        if frac.len() == 1 {
            cents *= 10;
        }
        whole
            .checked_mul(100)
            .and_then(|c| c.checked_add(cents))
            .map(Cents)
            .ok_or_else(|| MoneyError::TooLarge(text.to_owned()))
    }

    pub fn checked_add(self, other: Cents) -> Option<Cents> {
        self.0.checked_add(other.0).map(Cents)
    }

    pub fn checked_sub(self, other: Cents) -> Option<Cents> {
        self.0.checked_sub(other.0).map(Cents)
    }

    /// True when the amount has no cents part (prints as an integer).
    pub fn is_whole(self) -> bool {
        self.0 % 100 == 0
    }

    /// The amount as a JSON number the way course outputs print money:
    /// an integer when whole (`400`), else a decimal (`400.5`).
    /// With `float_style`, whole amounts print as `400.0` (the seed's style).
    pub fn to_json(self, float_style: bool) -> serde_json::Value {
        if self.is_whole() && !float_style {
            serde_json::Value::from(self.0 / 100)
        } else {
            // Exact: the decimal text is built from integers, then read back
            // as an f64 only to hand it to the JSON printer.
            let text = self.decimal_text();
            let value: f64 = text.parse().expect("decimal text parses");
            serde_json::Value::from(value)
        }
    }

    /// Shortest exact decimal text: `400`, `400.5`, `400.05`, `-3.1`.
    pub fn decimal_text(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let (units, cents) = (abs / 100, abs % 100);
        match cents {
            0 => format!("{sign}{units}"),
            c if c % 10 == 0 => format!("{sign}{units}.{}", c / 10),
            c => format!("{sign}{units}.{c:02}"),
        }
    }
}

/// Human format with two decimals, e.g. `400.00`, for traces and errors.
impl fmt::Display for Cents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_exact_decimals() {
        assert_eq!(Cents::parse("400"), Ok(Cents(40000)));
        assert_eq!(Cents::parse("400.5"), Ok(Cents(40050)));
        assert_eq!(Cents::parse("400.05"), Ok(Cents(40005)));
        assert_eq!(Cents::parse("400.50"), Ok(Cents(40050)));
        assert_eq!(Cents::parse("400.500"), Ok(Cents(40050)));
        assert_eq!(Cents::parse(".5"), Ok(Cents(50)));
        assert_eq!(Cents::parse("0"), Ok(Cents(0)));
        assert_eq!(Cents::parse(" 12 "), Ok(Cents(1200)));
    }

    #[test]
    fn rejects_what_is_not_money() {
        assert!(matches!(Cents::parse("-1"), Err(MoneyError::Negative(_))));
        assert!(matches!(Cents::parse("abc"), Err(MoneyError::NotANumber(_))));
        assert!(matches!(Cents::parse(""), Err(MoneyError::NotANumber(_))));
        assert!(matches!(Cents::parse("."), Err(MoneyError::NotANumber(_))));
        assert!(matches!(Cents::parse("4e2"), Err(MoneyError::NotANumber(_))));
        assert!(matches!(Cents::parse("1.005"), Err(MoneyError::SubCent(_))));
        assert!(matches!(Cents::parse("99999999999999999999"), Err(MoneyError::TooLarge(_))));
    }

    #[test]
    fn prints_like_the_course_outputs() {
        assert_eq!(Cents(40000).to_json(false).to_string(), "400");
        assert_eq!(Cents(40000).to_json(true).to_string(), "400.0");
        assert_eq!(Cents(0).to_json(true).to_string(), "0.0");
        assert_eq!(Cents(40050).to_json(false).to_string(), "400.5");
        assert_eq!(Cents(40005).to_json(false).to_string(), "400.05");
        assert_eq!(Cents(40050).to_string(), "400.50");
        assert_eq!(Cents(-5).to_string(), "-0.05");
        assert_eq!(Cents(-310).decimal_text(), "-3.1");
    }
}
