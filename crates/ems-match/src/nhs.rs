//! NHS numbers.

use std::fmt;
use std::str::FromStr;

/// A 10-digit NHS number with a valid Modulus 11 check digit.
///
/// ```
/// use ems_match::NhsNumber;
/// let n: NhsNumber = "9434765919".parse().unwrap();
/// assert_eq!(n.to_string(), "9434765919");
/// assert!("9434765918".parse::<NhsNumber>().is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NhsNumber(u64);

/// Why a string is not an NHS number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NhsNumberError {
    /// Not exactly 10 ASCII digits.
    #[error("an NHS number is exactly 10 digits")]
    Format,
    /// The Modulus 11 check digit does not match (or the remainder gives 10).
    #[error("the NHS number check digit is wrong (Modulus 11)")]
    CheckDigit,
}

impl NhsNumber {
    /// Parses and checks a 10-digit NHS number (no spaces).
    pub fn parse(s: &str) -> Result<NhsNumber, NhsNumberError> {
        let b = s.as_bytes();
        if b.len() != 10 || !b.iter().all(u8::is_ascii_digit) {
            return Err(NhsNumberError::Format);
        }
        let digit = |i: usize| u32::from(b[i] - b'0');
        let sum: u32 = (0..9).map(|i| digit(i) * (10 - i as u32)).sum();
        let check = match 11 - sum % 11 {
            11 => 0,
            10 => return Err(NhsNumberError::CheckDigit),
            c => c,
        };
        if check != digit(9) {
            return Err(NhsNumberError::CheckDigit);
        }
        // ten ASCII digits always fit in a u64
        Ok(NhsNumber(
            b.iter().fold(0u64, |v, c| v * 10 + u64::from(c - b'0')),
        ))
    }

    /// The number as an integer.
    pub fn as_u64(self) -> u64 {
        self.0
    }

    /// Builds from an integer, checking it.
    pub fn from_u64(v: u64) -> Result<NhsNumber, NhsNumberError> {
        NhsNumber::parse(&format!("{v:010}"))
    }

    /// `true` for numbers that pass the check digit but are obviously
    /// placeholders: all ten digits the same (e.g. `9999999999`).
    pub fn is_placeholder(self) -> bool {
        // the ten digits (leading zeros kept) are all `d` exactly when the
        // number is d × 1111111111: no string, no allocation (the validator
        // asks for every NHS number of every message)
        const ONES: u64 = 1_111_111_111;
        let ten = self.0 % 10_000_000_000; // the digits `Display` writes
        ten.is_multiple_of(ONES) && ten / ONES <= 9
    }
}

impl fmt::Display for NhsNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // ten digits, leading zeros kept; no integer formatting machinery
        let mut d = [b'0'; 10];
        let mut n = self.0;
        for b in d.iter_mut().rev() {
            *b = b'0' + (n % 10) as u8;
            n /= 10;
        }
        // the bytes are ASCII digits, so this never fails
        f.pad(std::str::from_utf8(&d).map_err(|_| fmt::Error)?)
    }
}

impl FromStr for NhsNumber {
    type Err = NhsNumberError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        NhsNumber::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn check_digits() {
        for ok in ["9434765919", "9912003888", "9999999999", "4010232137"] {
            assert!(NhsNumber::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "1112223330",
            "6101231234",
            "943476591",
            "94347659190",
            "943476591a",
            "9434765918",
        ] {
            assert!(NhsNumber::parse(bad).is_err(), "{bad}");
        }
        assert!(NhsNumber::parse("9999999999").unwrap().is_placeholder());
        // the arithmetic test says what comparing the ten written digits says
        let by_digits = |n: NhsNumber| {
            let s = n.to_string();
            s.bytes().all(|c| c == s.as_bytes()[0])
        };
        let samples = (0..=9u64)
            .map(|d| d * 1_111_111_111)
            .chain([
                1,
                10,
                11,
                111_111_111,
                1_111_111_110,
                2_222_222_221,
                9_999_999_998,
            ])
            .chain([11_111_111_110, 12_222_222_222, u64::MAX])
            .chain((0..2000u64).map(|k| k * 4_999_999 + 7));
        for v in samples {
            let n = NhsNumber(v);
            assert_eq!(n.is_placeholder(), by_digits(n), "{v}");
        }
        assert!(!NhsNumber::parse("9434765919").unwrap().is_placeholder());
        assert_eq!(
            NhsNumber::from_u64(9434765919).unwrap().as_u64(),
            9434765919
        );
    }

    #[test]
    fn display_keeps_ten_digits() {
        // leading zeros are part of the number
        let n = NhsNumber::parse("0000000019").unwrap();
        assert_eq!(n.to_string(), "0000000019");
        assert_eq!(NhsNumber::from_u64(19).unwrap().to_string(), "0000000019");
        assert_eq!(
            NhsNumber::parse("9434765919").unwrap().to_string(),
            "9434765919"
        );
        // width and alignment flags are honoured
        assert_eq!(format!("[{:>12}]", n), "[  0000000019]");
    }
}
