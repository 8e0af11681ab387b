//! Lexical checks for FHIR STU3 primitive types (the regular expressions of
//! the STU3 datatypes page, written as hand-rolled scanners: no regex engine,
//! no allocation).

use crate::primitive::PrimKind;

/// Checks `s` against the STU3 lexical rules for `kind`.
/// Returns a short description of the expected form on failure.
pub fn check(kind: PrimKind, s: &str) -> Result<(), &'static str> {
    let ok = match kind {
        PrimKind::Boolean => s == "true" || s == "false",
        PrimKind::Integer => is_integer(s) && s.parse::<i32>().is_ok(),
        PrimKind::PositiveInt => {
            let t = s.strip_prefix('+').unwrap_or(s);
            is_unsigned(t) && t != "0" && t.parse::<i32>().is_ok()
        }
        PrimKind::UnsignedInt => is_unsigned(s) && s.parse::<i32>().is_ok(),
        PrimKind::Decimal => is_decimal(s),
        PrimKind::String | PrimKind::Markdown => is_string(s),
        PrimKind::Uri => is_uri(s),
        PrimKind::Code => is_code(s),
        PrimKind::Id => is_id(s),
        PrimKind::Oid => is_oid(s),
        PrimKind::Base64Binary => is_base64(s),
        PrimKind::Date => is_date(s),
        PrimKind::DateTime => is_date_time(s),
        PrimKind::Instant => is_instant(s),
        PrimKind::Time => is_time(s),
    };
    if ok {
        Ok(())
    } else {
        Err(expected(kind))
    }
}

/// A `string` (or `markdown`): not empty.
#[inline(always)]
pub(crate) fn is_string(s: &str) -> bool {
    !s.is_empty()
}

fn expected(kind: PrimKind) -> &'static str {
    match kind {
        PrimKind::Boolean => "`true` or `false`",
        PrimKind::Integer => "an integer between -2147483648 and 2147483647 without leading zeros",
        PrimKind::PositiveInt => "an integer between 1 and 2147483647",
        PrimKind::UnsignedInt => "an integer between 0 and 2147483647",
        PrimKind::Decimal => "a decimal such as `-1.50` (no leading zeros)",
        PrimKind::String | PrimKind::Markdown => "a non-empty string",
        PrimKind::Uri => "a URI without whitespace",
        PrimKind::Code => "a code without leading, trailing or repeated whitespace",
        PrimKind::Id => "1-64 characters from A-Z a-z 0-9 - .",
        PrimKind::Oid => "an OID of the form urn:oid:1.2.3",
        PrimKind::Base64Binary => "base64 text",
        PrimKind::Date => "a date YYYY, YYYY-MM or YYYY-MM-DD",
        PrimKind::DateTime => {
            "a dateTime YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss[.f] with a time zone (Z or +hh:mm)"
        }
        PrimKind::Instant => "an instant YYYY-MM-DDThh:mm:ss[.f] with a time zone (Z or +hh:mm)",
        PrimKind::Time => "a time hh:mm:ss[.f]",
    }
}

fn digits(b: &[u8]) -> bool {
    !b.is_empty() && b.iter().all(u8::is_ascii_digit)
}

fn is_unsigned(s: &str) -> bool {
    let b = s.as_bytes();
    digits(b) && (b.len() == 1 || b[0] != b'0')
}

fn is_integer(s: &str) -> bool {
    is_unsigned(s.strip_prefix('-').unwrap_or(s))
}

/// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
pub fn is_decimal(s: &str) -> bool {
    let s = s.strip_prefix('-').unwrap_or(s);
    let (mant, exp) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let (int, frac) = match mant.find('.') {
        Some(i) => (&mant[..i], Some(&mant[i + 1..])),
        None => (mant, None),
    };
    if !is_unsigned(int) {
        return false;
    }
    if let Some(f) = frac {
        if !digits(f.as_bytes()) {
            return false;
        }
    }
    if let Some(e) = exp {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        if !digits(e.as_bytes()) {
            return false;
        }
    }
    true
}

/// No whitespace (one pass over the bytes; non-ASCII text falls back to
/// Unicode whitespace).
fn is_uri(s: &str) -> bool {
    // fast path: printable ASCII without spaces (checked without early
    // exit, which the compiler vectorises)
    let b = s.as_bytes();
    if !b.is_empty() && b.iter().fold(true, |ok, &c| ok & (c > b' ') & (c < 0x7f)) {
        return true;
    }
    for &c in b {
        if c >= 0x80 {
            return !s.chars().any(char::is_whitespace);
        }
        if c.is_ascii_whitespace() {
            return false;
        }
    }
    !s.is_empty()
}

/// `[^\s]+(\s[^\s]+)*` where the only whitespace allowed is single spaces
/// (one pass over the bytes; non-ASCII text takes the Unicode path).
fn is_code(s: &str) -> bool {
    let b = s.as_bytes();
    // fast path: printable ASCII without any whitespace (most codes)
    if !b.is_empty() && b.iter().fold(true, |ok, &c| ok & (c > b' ') & (c < 0x7f)) {
        return true;
    }
    let ws = |c: u8| matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c);
    let mut prev_ws = true; // rejects leading whitespace
    for &c in b {
        if c >= 0x80 {
            return is_code_unicode(s);
        }
        let w = ws(c);
        if w && (prev_ws || c != b' ') {
            return false;
        }
        prev_ws = w;
    }
    !b.is_empty() && !prev_ws
}

fn is_code_unicode(s: &str) -> bool {
    if s.is_empty() || s.starts_with(char::is_whitespace) || s.ends_with(char::is_whitespace) {
        return false;
    }
    let mut prev_ws = false;
    for c in s.chars() {
        let ws = c.is_whitespace();
        if ws && (prev_ws || c != ' ') {
            return false;
        }
        prev_ws = ws;
    }
    true
}

fn is_id(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.')
}

fn is_oid(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("urn:oid:") else {
        return false;
    };
    let mut parts = rest.split('.');
    match parts.next() {
        Some("0" | "1" | "2") => {}
        _ => return false,
    }
    let mut n = 0;
    for p in parts {
        if !is_unsigned(p) || p == "0" {
            return false;
        }
        n += 1;
    }
    n >= 1
}

fn is_base64(s: &str) -> bool {
    let mut n = 0usize;
    for c in s.bytes() {
        if c.is_ascii_whitespace() {
            continue;
        }
        if !(c.is_ascii_alphanumeric() || c == b'+' || c == b'/' || c == b'=') {
            return false;
        }
        n += 1;
    }
    n.is_multiple_of(4)
}

fn two(b: &[u8], i: usize) -> Option<u32> {
    let d = b.get(i..i + 2)?;
    if digits(d) {
        Some(((d[0] - b'0') * 10 + (d[1] - b'0')) as u32)
    } else {
        None
    }
}

/// Parses `YYYY[-MM[-DD]]` at the start of `b`; returns bytes consumed and
/// the precision (1 year, 2 month, 3 day).
fn date_prefix(b: &[u8]) -> Option<(usize, u8)> {
    let y = b.get(0..4)?;
    if !digits(y) {
        return None;
    }
    let year = y.iter().fold(0u32, |n, d| n * 10 + (d - b'0') as u32);
    if b.len() == 4 || b[4] != b'-' {
        return Some((4, 1));
    }
    let month = two(b, 5)?;
    if !(1..=12).contains(&month) {
        return None;
    }
    if b.len() == 7 || b[7] != b'-' {
        return Some((7, 2));
    }
    let day = two(b, 8)?;
    let leap = (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
    let max = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if day == 0 || day > max {
        return None;
    }
    Some((10, 3))
}

/// `hh:mm:ss(.f+)?`; returns bytes consumed.
fn time_prefix(b: &[u8]) -> Option<usize> {
    let h = two(b, 0)?;
    let m = two(b, 3)?;
    let s = two(b, 6)?;
    if b[2] != b':' || b[5] != b':' || h > 23 || m > 59 || s > 60 {
        return None;
    }
    let mut i = 8;
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        i = start;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return None;
        }
    }
    Some(i)
}

/// `Z` or `(+|-)hh:mm` with hh:mm between 00:00 and 14:00 (13:59 max below 14).
fn zone(b: &[u8]) -> bool {
    match b {
        [b'Z'] => true,
        [s, ..] if (*s == b'+' || *s == b'-') && b.len() == 6 && b[3] == b':' => {
            match (two(b, 1), two(b, 4)) {
                (Some(h), Some(m)) => (h <= 13 && m <= 59) || (h == 14 && m == 0),
                _ => false,
            }
        }
        _ => false,
    }
}

/// FHIR `date`: `YYYY`, `YYYY-MM` or `YYYY-MM-DD` (real calendar dates).
pub fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    matches!(date_prefix(b), Some((n, _)) if n == b.len())
}

/// FHIR `dateTime`; a time requires seconds and a time zone (this is also
/// the NEMS `dateTime` rule of the requirements digest, section 2.8).
pub fn is_date_time(s: &str) -> bool {
    let b = s.as_bytes();
    match date_prefix(b) {
        Some((n, _)) if n == b.len() => true,
        Some((10, 3)) if b.get(10) == Some(&b'T') => match time_prefix(&b[11..]) {
            Some(t) => zone(&b[11 + t..]),
            None => false,
        },
        _ => false,
    }
}

/// FHIR `instant`: full date and time with seconds and a time zone.
pub fn is_instant(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() > 10 && b[10] == b'T' && matches!(date_prefix(b), Some((10, 3))) && is_date_time(s)
}

/// FHIR `time`: `hh:mm:ss[.f]`.
pub fn is_time(s: &str) -> bool {
    let b = s.as_bytes();
    time_prefix(b) == Some(b.len())
}

/// A UUID in its canonical textual form (8-4-4-4-12 hex digits, either case).
pub fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b[8] == b'-'
        && b[13] == b'-'
        && b[18] == b'-'
        && b[23] == b'-'
        && [&b[0..8], &b[9..13], &b[14..18], &b[19..23], &b[24..36]]
            .iter()
            .all(|g| g.iter().fold(true, |ok, c| ok & c.is_ascii_hexdigit()))
}

/// FHIR `uuid`: `urn:uuid:` followed by a lower-case UUID.
pub fn is_urn_uuid(s: &str) -> bool {
    s.strip_prefix("urn:uuid:")
        .is_some_and(|u| is_uuid(u) && !u.bytes().any(|c| c.is_ascii_uppercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        for ok in ["2019", "2019-10", "2019-10-02", "2000-02-29", "0001"] {
            assert!(is_date(ok), "{ok}");
        }
        for bad in [
            "19",
            "2019-13",
            "2019-02-29",
            "2019-1-02",
            "2019-10-02T",
            "",
        ] {
            assert!(!is_date(bad), "{bad}");
        }
    }

    #[test]
    fn date_times() {
        for ok in [
            "2019",
            "2019-07-27T14:22:00+01:00",
            "2019-01-14T13:35:00.123Z",
            "2017-10-02T12:00:00+00:00",
            "2017-10-02T12:00:00+14:00",
            "2017-10-02T12:00:00-13:59",
        ] {
            assert!(is_date_time(ok), "{ok}");
        }
        for bad in [
            "2017-11-01T16:02:04+58:00",
            "2017-10-02T12:00:00",
            "2017-10-02T12:00Z",
            "2017-10-02T24:00:00Z",
            "2017-10-02T12:00:00+14:01",
            "2017-10-02 12:00:00Z",
        ] {
            assert!(!is_date_time(bad), "{bad}");
        }
        assert!(!is_instant("2017-10-02"));
        assert!(is_instant("2017-10-02T12:00:00Z"));
    }

    #[test]
    fn numbers() {
        assert!(check(PrimKind::Integer, "-12").is_ok());
        assert!(check(PrimKind::Integer, "012").is_err());
        assert!(check(PrimKind::Integer, "2147483648").is_err());
        assert!(check(PrimKind::PositiveInt, "0").is_err());
        assert!(check(PrimKind::UnsignedInt, "0").is_ok());
        assert!(check(PrimKind::Decimal, "1.50").is_ok());
        assert!(check(PrimKind::Decimal, "01.5").is_err());
        assert!(check(PrimKind::Decimal, "1.").is_err());
        assert!(check(PrimKind::Decimal, "1e-3").is_ok());
    }

    #[test]
    fn strings() {
        assert!(check(PrimKind::Code, "a b").is_ok());
        assert!(check(PrimKind::Code, "a  b").is_err());
        assert!(check(PrimKind::Code, " a").is_err());
        assert!(check(PrimKind::Code, "a ").is_err());
        assert!(check(PrimKind::Code, "a\tb").is_err());
        assert!(check(PrimKind::Code, "").is_err());
        assert!(check(PrimKind::Code, "x").is_ok());
        // non-ASCII codes: Unicode whitespace rules
        assert!(check(PrimKind::Code, "café au lait").is_ok());
        assert!(check(PrimKind::Code, "café\u{00a0}x").is_err());
        assert!(check(PrimKind::Code, "café ").is_err());
        assert!(check(PrimKind::Uri, "").is_err());
        assert!(check(PrimKind::Uri, "urn:x\n").is_err());
        assert!(check(PrimKind::Uri, "http://ex.org/é").is_ok());
        assert!(check(PrimKind::Uri, "http://ex.org/é\u{2003}").is_err());
        assert!(check(PrimKind::Date, "2024-02-29").is_ok());
        assert!(check(PrimKind::Date, "2023-02-29").is_err());
        assert!(check(PrimKind::Date, "1900-02-29").is_err());
        assert!(check(PrimKind::Date, "2000-02-29").is_ok());
        assert!(check(PrimKind::Id, "abc-1.2").is_ok());
        assert!(check(PrimKind::Id, "a_b").is_err());
        assert!(check(PrimKind::Oid, "urn:oid:1.2.840").is_ok());
        assert!(check(PrimKind::Oid, "1.2.840").is_err());
        assert!(check(PrimKind::Uri, "http://x y").is_err());
        assert!(check(PrimKind::Base64Binary, "aGVsbG8=").is_ok());
        assert!(check(PrimKind::Base64Binary, "aGVsbG8").is_err());
        assert!(check(PrimKind::Time, "12:00:00").is_ok());
        assert!(check(PrimKind::Time, "12:00").is_err());
        assert!(is_urn_uuid("urn:uuid:3cfdf880-13e9-4f6b-8299-53e96ef5ec02"));
        assert!(is_uuid("3CFDF880-13e9-4f6b-8299-53e96ef5ec02"));
        assert!(!is_uuid("3cfdf880-13e9-4f6b-8299-53e96ef5ec0g"));
        assert!(!is_uuid("3cfdf880-13e9-4f6b-8299_53e96ef5ec02"));
        assert!(!is_uuid("3cfdf88013e9-4f6b-8299-53e96ef5ec02-"));
        assert!(!is_uuid("3cfdf880-13e9-4f6b-8299-53e96ef5ec0"));
        assert!(!is_urn_uuid("3cfdf880-13e9-4f6b-8299-53e96ef5ec02"));
        assert!(!is_urn_uuid(
            "urn:uuid:3CFDF880-13e9-4f6b-8299-53e96ef5ec02"
        ));
    }
}
