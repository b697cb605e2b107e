//! Money as an exact integer number of cents.
//!
//! The reference implementation used Python floats, so `400.5` could round
//! differently on two branches. Here every amount is a [`Cents`] (an `i64`),
//! parsed exactly from the text of the input and formatted exactly on output.
//!
//! ## The maximum
//!
//! Amounts and balances are bounded by [`Cents::MAX`], 9,999,999,999,999.99:
//! fifteen significant digits, the most a double (`f64`) keeps exactly. The
//! course's graders read the outputs with Python's `json`, a browser with
//! JavaScript: both read numbers as doubles, so every amount bank-sim prints
//! reads back as exactly that amount. An amount above the maximum is refused
//! when it is parsed ([`MoneyError::TooLarge`]); a deposit that would take a
//! balance above it fails
//! ([`FailReason::BalanceLimit`](crate::op::FailReason::BalanceLimit)).
//! Nothing saturates silently, and nothing is printed through a float:
//! [`Cents::json_text`] builds the digits from the integer.

use std::fmt;

/// An amount of money in cents. `Cents(40050)` is 400.50.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cents(pub i64);

/// Why a piece of text is not an amount of money.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("`{0}` is not an amount like 400 or 400.50 (digits, a point, at most two decimals)")]
    NotANumber(String),
    #[error("`{0}` is negative; amounts must be zero or more")]
    Negative(String),
    #[error("`{0}` has more than two decimal places; amounts are whole cents")]
    SubCent(String),
    #[error("`{0}` is above the maximum amount {max}", max = Cents::MAX.decimal_text())]
    TooLarge(String),
}

impl Cents {
    pub const ZERO: Cents = Cents(0);

    /// The largest amount or balance, 9,999,999,999,999.99 (see the module
    /// docs); balances stay within `-MAX..=MAX`.
    pub const MAX: Cents = Cents(999_999_999_999_999);

    /// Whole units (dollars), e.g. `Cents::units(400)` is 400.00.
    pub const fn units(units: i64) -> Cents {
        Cents(units * 100)
    }

    /// Parses a non-negative decimal amount such as `400`, `400.5` or `400.05`
    /// exactly (no float on the way). Used for input amounts, which the course
    /// files write as JSON numbers or strings. Amounts above [`Cents::MAX`]
    /// are [`MoneyError::TooLarge`].
    pub fn parse(text: &str) -> Result<Cents, MoneyError> {
        if text.trim().starts_with('-') {
            // "-0" is still a sign error for the user: they wrote a minus.
            return Err(MoneyError::Negative(text.to_owned()));
        }
        match Cents::parse_any(text) {
            Some(Ok(c)) if c.is_within_limit() => Ok(c),
            Some(Err(e)) => Err(e),
            _ => Err(MoneyError::TooLarge(text.to_owned())),
        }
    }

    /// Parses a balance a file recorded (a history): like [`Cents::parse`],
    /// but it may be negative (an overdraft) and, because concurrent
    /// deposits may meet at a replica after each was accepted, beyond
    /// [`Cents::MAX`], up to what an `i64` holds.
    pub fn parse_balance(text: &str) -> Result<Cents, MoneyError> {
        let t = text.trim();
        let (negative, abs) = match t.strip_prefix('-') {
            Some(abs) if abs.starts_with(['-', '+']) => {
                return Err(MoneyError::NotANumber(text.to_owned()))
            }
            Some(abs) => (true, abs),
            None => (false, t),
        };
        match Cents::parse_any(abs) {
            Some(Ok(c)) => Ok(if negative { Cents(-c.0) } else { c }),
            Some(Err(e)) => Err(e),
            None => Err(MoneyError::TooLarge(text.to_owned())),
        }
    }

    /// The exact amount of a non-negative decimal text; `None` when it does
    /// not fit an `i64` of cents.
    fn parse_any(text: &str) -> Option<Result<Cents, MoneyError>> {
        let t = text.trim();
        let t = t.strip_prefix('+').unwrap_or(t);
        let (whole, frac) = match t.split_once('.') {
            Some((w, f)) => (w, f),
            None => (t, ""),
        };
        // Exponent forms like 4e2 are valid JSON numbers; accept only plain decimals.
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if (whole.is_empty() && frac.is_empty()) || !digits(whole) || !digits(frac) {
            return Some(Err(MoneyError::NotANumber(text.to_owned())));
        }
        let frac = frac.trim_end_matches('0');
        if frac.len() > 2 {
            return Some(Err(MoneyError::SubCent(text.to_owned())));
        }
        let whole: i64 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
        // At most two digits, each checked above.
        let cents = frac.bytes().map(|b| i64::from(b - b'0')).fold(0, |c, d| c * 10 + d)
            * if frac.len() == 1 { 10 } else { 1 };
        whole.checked_mul(100).and_then(|c| c.checked_add(cents)).map(|c| Ok(Cents(c)))
    }

    /// True when `-MAX <= self <= MAX`.
    pub fn is_within_limit(self) -> bool {
        self.0.unsigned_abs() <= Cents::MAX.0.unsigned_abs()
    }

    /// The sum, or `None` when it overflows an `i64`.
    pub fn checked_add(self, other: Cents) -> Option<Cents> {
        self.0.checked_add(other.0).map(Cents)
    }

    /// The difference, or `None` when it overflows an `i64`.
    pub fn checked_sub(self, other: Cents) -> Option<Cents> {
        self.0.checked_sub(other.0).map(Cents)
    }

    /// The sum, or `None` when it leaves `-MAX..=MAX`: how a branch decides
    /// whether it may accept a deposit (see the module docs).
    pub fn checked_add_within_limit(self, other: Cents) -> Option<Cents> {
        self.checked_add(other).filter(|c| c.is_within_limit())
    }

    /// True when the amount has no cents part (prints as an integer).
    pub fn is_whole(self) -> bool {
        self.0 % 100 == 0
    }

    /// The amount as the text of a JSON number, the way course outputs
    /// print money: an integer when whole (`400`), else a decimal (`400.5`).
    /// With `float_style`, whole amounts print as `400.0` (the seed's style).
    /// Built from the integer, never through a float, so it is exact for
    /// every amount (and never in exponent form).
    pub fn json_text(self, float_style: bool) -> String {
        let mut text = self.decimal_text();
        if float_style && self.is_whole() {
            text.push_str(".0");
        }
        text
    }

    /// [`Cents::json_text`] as a raw JSON value, which serde_json's
    /// serializer writes out verbatim: how money goes into every JSON file
    /// bank-sim writes (outputs and histories).
    pub fn to_raw_json(self, float_style: bool) -> Box<serde_json::value::RawValue> {
        serde_json::value::RawValue::from_string(self.json_text(float_style))
            .expect("decimal digits are a JSON number")
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
    fn the_maximum_is_fifteen_digits_and_refused_beyond() {
        assert_eq!(Cents::parse("9999999999999.99"), Ok(Cents::MAX));
        assert_eq!(Cents::MAX.decimal_text(), "9999999999999.99");
        for too_large in ["10000000000000", "92233720368547758.07", "92233720368547758.08"] {
            let err = Cents::parse(too_large).unwrap_err();
            assert!(matches!(err, MoneyError::TooLarge(_)), "{too_large}: {err}");
            assert!(err.to_string().contains("maximum amount 9999999999999.99"), "{err}");
        }
    }

    #[test]
    fn recorded_balances_may_be_negative_or_beyond_the_maximum() {
        assert_eq!(Cents::parse_balance("-10.5"), Ok(Cents(-1050)));
        assert_eq!(Cents::parse_balance("92233720368547758.07"), Ok(Cents(i64::MAX)));
        assert_eq!(Cents::parse_balance("-92233720368547758.07"), Ok(Cents(-i64::MAX)));
        assert!(matches!(
            Cents::parse_balance("92233720368547758.08"),
            Err(MoneyError::TooLarge(_))
        ));
        assert!(matches!(Cents::parse_balance("--1"), Err(MoneyError::NotANumber(_))));
        assert!(matches!(Cents::parse_balance("-1e3"), Err(MoneyError::NotANumber(_))));
    }

    #[test]
    fn arithmetic_fails_beyond_the_maximum_instead_of_saturating() {
        assert_eq!(Cents::MAX.checked_add_within_limit(Cents(1)), None);
        assert_eq!(Cents(-Cents::MAX.0).checked_add_within_limit(Cents(-1)), None);
        assert_eq!(Cents(i64::MAX).checked_add(Cents(1)), None);
        assert_eq!(Cents(i64::MIN).checked_sub(Cents(1)), None);
        assert_eq!(Cents(1).checked_add_within_limit(Cents(2)), Some(Cents(3)));
        assert_eq!(Cents::MAX.checked_add_within_limit(Cents::ZERO), Some(Cents::MAX));
    }

    #[test]
    fn large_amounts_print_exactly() {
        // Through a float these were 9.223372036854776e16 and 90071992547409.9.
        assert_eq!(Cents(i64::MAX).json_text(false), "92233720368547758.07");
        assert_eq!(Cents(9_007_199_254_740_991).json_text(false), "90071992547409.91");
        assert_eq!(Cents::MAX.json_text(true), "9999999999999.99");
        assert_eq!(Cents(1_000_000_000_000_000).json_text(true), "10000000000000.0");
        let raw = Cents(9_223_372_036_854_735_807).to_raw_json(false);
        assert_eq!(serde_json::to_string(&raw).unwrap(), "92233720368547358.07");
    }

    #[test]
    fn prints_like_the_course_outputs() {
        assert_eq!(Cents(40000).json_text(false), "400");
        assert_eq!(Cents(40000).json_text(true), "400.0");
        assert_eq!(Cents(0).json_text(true), "0.0");
        assert_eq!(Cents(40050).json_text(false), "400.5");
        assert_eq!(Cents(40050).json_text(true), "400.5");
        assert_eq!(Cents(40005).json_text(false), "400.05");
        assert_eq!(Cents(40050).to_string(), "400.50");
        assert_eq!(Cents(-5).to_string(), "-0.05");
        assert_eq!(Cents(-310).decimal_text(), "-3.1");
    }
}
