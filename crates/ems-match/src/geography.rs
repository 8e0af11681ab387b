//! Geography used by the generic rules: postcode → local authority, sub-ICB
//! location and country; GP practice → sub-ICB location.
//!
//! Codes are compared exactly as the data gives them, so the geography data
//! and the subscriptions' `Organization.identifier` values must use the same
//! coding (for example ODS sub-ICB location codes such as `15F`, or ONS codes
//! such as `E38000225`, but not a mix).

use crate::index::MixMap;
use std::io::BufRead;

/// The areas a postcode lies in.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PostcodeArea {
    /// Local authority code (ONSPD `oslaua`).
    pub local_authority: Option<String>,
    /// Sub-ICB location code (ONSPD `sicbl`, or `ccg` in older releases).
    pub sub_icb: Option<String>,
    /// Country code (ONSPD `ctry`), e.g. `E92000001`.
    pub country: Option<String>,
}

/// Lookup of areas for the generic rule types.
pub trait Geography: Send + Sync {
    /// Areas of a postcode (any spacing or case), if known.
    fn postcode(&self, postcode: &str) -> Option<&PostcodeArea>;
    /// Sub-ICB location of a GP practice (ODS code), if known.
    fn practice_sub_icb(&self, practice: &str) -> Option<&str>;
}

/// Normalises a postcode for lookup: upper case, no spaces.
///
/// ```
/// assert_eq!(ems_match::normalise_postcode(" ls17 7df"), "LS177DF");
/// ```
pub fn normalise_postcode(p: &str) -> String {
    p.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// An error in a geography CSV file.
#[derive(Debug, thiserror::Error)]
pub enum GeographyError {
    /// Reading failed.
    #[error("reading geography data: {0}")]
    Io(#[from] std::io::Error),
    /// The header lacks a required column.
    #[error("line 1: missing column `{0}`")]
    MissingColumn(&'static str),
    /// A line could not be used.
    #[error("line {line}: {message}")]
    Line {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
}

/// Splits one CSV record (RFC 4180 quoting; no embedded newlines); fields
/// are trimmed.
///
/// ```
/// assert_eq!(ems_match::split_csv(r#"a, "b,c" ,d"#), vec!["a", "b,c", "d"]);
/// ```
pub fn split_csv(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', true) => quoted = false,
            ('"', false) if cur.trim().is_empty() => {
                cur.clear();
                quoted = true
            }
            (',', false) => out.push(std::mem::take(&mut cur)),
            (c, _) => cur.push(c),
        }
    }
    out.push(cur);
    out.iter_mut().for_each(|s| *s = s.trim().to_string());
    out
}

/// Geography loaded from published CSV layouts (in memory).
///
/// ```
/// use ems_match::{CsvGeography, Geography};
/// let mut g = CsvGeography::default();
/// g.load_postcodes("pcd,pcds,oslaua,ctry,sicbl\nX,LS17 7DF,E08000035,E92000001,15F\n".as_bytes()).unwrap();
/// g.load_practices_simple("practice,sicbl\nB86001,15F\n".as_bytes()).unwrap();
/// assert_eq!(g.postcode("ls177df").unwrap().sub_icb.as_deref(), Some("15F"));
/// assert_eq!(g.practice_sub_icb("B86001"), Some("15F"));
/// ```
#[derive(Clone, Debug, Default)]
pub struct CsvGeography {
    postcodes: MixMap<String, PostcodeArea>,
    practices: MixMap<String, String>,
}

fn opt(s: &str) -> Option<String> {
    if s.is_empty() {
        None
    } else {
        Some(s.to_string())
    }
}

/// The non-blank rows of a CSV, split, with their 1-based line numbers.
fn csv_rows(r: impl BufRead) -> impl Iterator<Item = Result<(usize, Vec<String>), GeographyError>> {
    r.lines().enumerate().filter_map(|(i, l)| match l {
        Err(e) => Some(Err(e.into())),
        Ok(l) if l.trim().is_empty() => None,
        Ok(l) => Some(Ok((i + 1, split_csv(&l)))),
    })
}

/// The header row; an empty file lacks `first` (its first required column).
fn header(
    rows: &mut impl Iterator<Item = Result<(usize, Vec<String>), GeographyError>>,
    first: &'static str,
) -> Result<Vec<String>, GeographyError> {
    match rows.next() {
        Some(h) => Ok(h?.1),
        None => Err(GeographyError::MissingColumn(first)),
    }
}

/// The index of the first of `names` present in `header` (case-insensitive);
/// a missing column is reported by its first name.
fn column(header: &[String], names: &[&'static str]) -> Result<usize, GeographyError> {
    names
        .iter()
        .find_map(|n| header.iter().position(|h| h.eq_ignore_ascii_case(n)))
        .ok_or(GeographyError::MissingColumn(names[0]))
}

impl CsvGeography {
    /// Loads an ONS Postcode Directory style CSV: header row; uses `pcds`,
    /// `oslaua`, `ctry` and `sicbl` (or `ccg`); other columns are ignored.
    /// Returns the number of postcodes loaded.
    pub fn load_postcodes(&mut self, r: impl BufRead) -> Result<usize, GeographyError> {
        let mut rows = csv_rows(r);
        let header = header(&mut rows, "pcds")?;
        let pcds = column(&header, &["pcds"])?;
        let la = column(&header, &["oslaua"])?;
        let ctry = column(&header, &["ctry"])?;
        let sicbl = column(&header, &["sicbl", "ccg"])?;
        let mut n = 0;
        for row in rows {
            let (line, f) = row?;
            let get = |k: usize| f.get(k).map(String::as_str).unwrap_or("");
            let pc = normalise_postcode(get(pcds));
            if pc.is_empty() {
                return Err(GeographyError::Line {
                    line,
                    message: "empty postcode".into(),
                });
            }
            self.postcodes.insert(
                pc,
                PostcodeArea {
                    local_authority: opt(get(la)),
                    sub_icb: opt(get(sicbl)),
                    country: opt(get(ctry)),
                },
            );
            n += 1;
        }
        Ok(n)
    }

    /// Loads an ODS `epraccur` style CSV: no header; column 1 is the practice
    /// code, column 15 the commissioner (sub-ICB location).
    pub fn load_practices_epraccur(&mut self, r: impl BufRead) -> Result<usize, GeographyError> {
        let mut n = 0;
        for row in csv_rows(r) {
            let (line, f) = row?;
            if f.len() < 15 {
                return Err(GeographyError::Line {
                    line,
                    message: format!("{} columns; epraccur has at least 15", f.len()),
                });
            }
            if !f[0].is_empty() && !f[14].is_empty() {
                self.practices
                    .insert(f[0].to_ascii_uppercase(), f[14].clone());
                n += 1;
            }
        }
        Ok(n)
    }

    /// Loads a simple `practice,sicbl` CSV with a header row.
    pub fn load_practices_simple(&mut self, r: impl BufRead) -> Result<usize, GeographyError> {
        let mut rows = csv_rows(r);
        let header = header(&mut rows, "practice")?;
        let p = column(&header, &["practice"])?;
        let s = column(&header, &["sicbl", "ccg"])?;
        let mut n = 0;
        for row in rows {
            let (line, f) = row?;
            match (f.get(p), f.get(s)) {
                (Some(pr), Some(sc)) if !pr.is_empty() && !sc.is_empty() => {
                    self.practices.insert(pr.to_ascii_uppercase(), sc.clone());
                    n += 1;
                }
                _ => {
                    return Err(GeographyError::Line {
                        line,
                        message: "practice or sicbl missing".into(),
                    })
                }
            }
        }
        Ok(n)
    }

    /// Loads a practices CSV in either layout: a header row with the columns
    /// `practice` and `sicbl` (or `ccg`) selects the simple layout, otherwise
    /// `epraccur`.
    pub fn load_practices(&mut self, text: &str) -> Result<usize, GeographyError> {
        let first = text.lines().next().unwrap_or_default().to_ascii_lowercase();
        let cols = split_csv(&first);
        let has = |n: &str| cols.iter().any(|c| c == n);
        if has("practice") && (has("sicbl") || has("ccg")) {
            self.load_practices_simple(text.as_bytes())
        } else {
            self.load_practices_epraccur(text.as_bytes())
        }
    }

    /// Adds one postcode.
    pub fn insert_postcode(&mut self, postcode: &str, area: PostcodeArea) {
        self.postcodes.insert(normalise_postcode(postcode), area);
    }

    /// Adds one practice.
    pub fn insert_practice(&mut self, practice: &str, sub_icb: &str) {
        self.practices
            .insert(practice.to_ascii_uppercase(), sub_icb.to_string());
    }

    /// The sample data set shipped with the crate (`data/`): a handful of
    /// postcodes and practices for examples and tests.
    pub fn sample() -> CsvGeography {
        let mut g = CsvGeography::default();
        g.load_postcodes(include_str!("../data/sample-postcodes.csv").as_bytes())
            .expect("sample postcodes are valid");
        g.load_practices_epraccur(include_str!("../data/sample-epraccur.csv").as_bytes())
            .expect("sample practices are valid");
        g
    }
}

impl Geography for CsvGeography {
    fn postcode(&self, postcode: &str) -> Option<&PostcodeArea> {
        // normalise on the stack (UK postcodes are at most 7 characters)
        let mut buf = [0u8; 16];
        let mut n = 0;
        for b in postcode.bytes() {
            if b.is_ascii_whitespace() {
                continue;
            }
            if n == buf.len() || !b.is_ascii() {
                return self.postcodes.get(&normalise_postcode(postcode));
            }
            buf[n] = b.to_ascii_uppercase();
            n += 1;
        }
        self.postcodes.get(std::str::from_utf8(&buf[..n]).ok()?)
    }
    fn practice_sub_icb(&self, practice: &str) -> Option<&str> {
        match self.practices.get(practice) {
            Some(s) => Some(s),
            None => self
                .practices
                .get(&practice.to_ascii_uppercase())
                .map(String::as_str),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn csv_quoting() {
        assert_eq!(
            split_csv(r#"a,"b,c","d""e",f"#),
            vec!["a", "b,c", "d\"e", "f"]
        );
    }
    #[test]
    fn layouts() {
        let mut g = CsvGeography::default();
        assert!(matches!(
            g.load_postcodes("pcds,ctry\nX,Y\n".as_bytes()),
            Err(GeographyError::MissingColumn("oslaua"))
        ));
        g.load_postcodes("\"pcds\",\"oslaua\",\"ctry\",\"ccg\"\n\"LS1 1AA\",\"E08000035\",\"E92000001\",\"E38000225\"\n".as_bytes())
            .unwrap();
        assert_eq!(
            g.postcode("LS1 1AA").unwrap().sub_icb.as_deref(),
            Some("E38000225")
        );
        // an epraccur row whose name column is PRACTICE is not a header
        let epr = "B86001,PRACTICE,X,Y,Z,LEEDS,,,LS1 1AA,,,A,B,C,15F,,\n";
        assert_eq!(g.load_practices(epr).unwrap(), 1);
        assert_eq!(g.load_practices("practice,sicbl\nB86003,15F\n").unwrap(), 1);
        assert_eq!(g.practice_sub_icb("b86001"), Some("15F"));
        assert!(g.load_practices_epraccur("A,B\n".as_bytes()).is_err());
        let s = CsvGeography::sample();
        assert!(s.postcode("LS17 7DF").is_some());
    }
    #[test]
    fn errors_name_the_line_and_column() {
        let mut g = CsvGeography::default();
        let line_of = |r: Result<usize, GeographyError>| match r {
            Err(GeographyError::Line { line, .. }) => line,
            other => panic!("{other:?}"),
        };
        // blank lines are skipped but still counted
        assert_eq!(
            line_of(
                g.load_postcodes("pcds,oslaua,ctry,sicbl\nLS1 1AA,a,b,c\n\n,a,b,c\n".as_bytes())
            ),
            4
        );
        assert_eq!(line_of(g.load_practices_epraccur("\nA,B\n".as_bytes())), 2);
        assert_eq!(
            line_of(g.load_practices_simple("practice,sicbl\nB86001,\n".as_bytes())),
            2
        );
        assert!(matches!(
            g.load_postcodes("".as_bytes()),
            Err(GeographyError::MissingColumn("pcds"))
        ));
        assert!(matches!(
            g.load_practices_simple("practice,x\n".as_bytes()),
            Err(GeographyError::MissingColumn("sicbl"))
        ));
    }
}
