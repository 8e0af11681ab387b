//! The readers and writers of ems-stu3: reading arbitrary bytes, the
//! round trips through each format and the conversion between them.
//!
//! The principle (issue 14): a writer never emits what it did not check.
//! Writing a model and reading the output back must give the same model,
//! not merely stable bytes: an invalid lexical form copied into the output
//! can re-read *clean* as a different document.

use crate::{ensure, first_difference, Check, Violation};
use ems::stu3::{
    from_json, from_xml, rules, to_json, to_json_pretty, to_xml, to_xml_pretty, Issue, Parsed,
    ReadError, Resource, Severity,
};

/// The two FHIR syntaxes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Syntax {
    /// FHIR XML.
    Xml,
    /// FHIR JSON.
    Json,
}

impl Syntax {
    fn read(self, bytes: &[u8]) -> Result<Parsed, ReadError> {
        match self {
            Syntax::Xml => from_xml(bytes),
            Syntax::Json => from_json(bytes),
        }
    }
    fn write(self, r: &Resource, pretty: bool) -> String {
        match (self, pretty) {
            (Syntax::Xml, false) => to_xml(r),
            (Syntax::Xml, true) => to_xml_pretty(r),
            (Syntax::Json, false) => to_json(r),
            (Syntax::Json, true) => to_json_pretty(r),
        }
    }
    fn other(self) -> Syntax {
        match self {
            Syntax::Xml => Syntax::Json,
            Syntax::Json => Syntax::Xml,
        }
    }
    /// The syntax `ems` detects for `bytes` (the CLI's and validator's rule).
    pub fn detect(bytes: &[u8]) -> Syntax {
        match ems::stu3::Format::detect(bytes) {
            ems::profiles::Format::Xml => Syntax::Xml,
            ems::profiles::Format::Json => Syntax::Json,
        }
    }
}

/// Reader property: never panics; a failure holds its fatal issue last and
/// only there, a success holds none; every position is inside the input.
pub fn read_xml(data: &[u8]) -> Check {
    read(data, Syntax::Xml).map(drop)
}

/// [`read_xml`] for the JSON reader.
pub fn read_json(data: &[u8]) -> Check {
    read(data, Syntax::Json).map(drop)
}

/// Reads `data` and checks the reader properties; `Ok(None)` when the input
/// is (correctly) refused.
pub fn read(data: &[u8], syntax: Syntax) -> Result<Option<Parsed>, Violation> {
    let lines = LineIndex::new(data);
    match syntax.read(data) {
        Ok(p) => {
            for i in &p.outcome.issues {
                ensure(
                    i.severity != Severity::Fatal,
                    "read-fatal-only-on-failure",
                    || format!("{syntax:?} reader succeeded with a fatal issue: {i}"),
                )?;
                lines.check(i)?;
            }
            Ok(Some(p))
        }
        Err(e) => {
            let Some((last, before)) = e.outcome.issues.split_last() else {
                return Err(Violation {
                    property: "read-failure-has-issue",
                    detail: format!("{syntax:?} reader failed without an issue"),
                });
            };
            ensure(
                last.severity == Severity::Fatal,
                "read-failure-fatal-last",
                || format!("{syntax:?} reader failed and its last issue is not fatal: {last}"),
            )?;
            for i in before {
                ensure(
                    i.severity != Severity::Fatal,
                    "read-failure-fatal-last",
                    || format!("{syntax:?} reader reported a fatal issue before the last one: {i}"),
                )?;
            }
            for i in &e.outcome.issues {
                lines.check(i)?;
            }
            Ok(None)
        }
    }
}

/// XML → model → XML: the output re-reads, to the same model and the same
/// bytes, without structural issues; the pretty form re-reads to the same
/// model.
pub fn roundtrip_xml(data: &[u8]) -> Check {
    roundtrip(data, Syntax::Xml)
}

/// JSON → model → JSON, as [`roundtrip_xml`]; the output is also JSON by
/// `serde_json`'s reading.
pub fn roundtrip_json(data: &[u8]) -> Check {
    roundtrip(data, Syntax::Json)
}

fn roundtrip(data: &[u8], syntax: Syntax) -> Check {
    let Some(p) = read(data, syntax)? else {
        return Ok(());
    };
    let first = written(&p.resource, syntax, false)?;
    let again = reread(&first, syntax, "the writer's output", &p)?;
    same_model(&p.resource, &again.resource, || {
        format!("{syntax:?} -> model -> {syntax:?}")
    })?;
    let second = syntax.write(&again.resource, false);
    ensure(first == second, "rewrite-same-bytes", || {
        format!(
            "writing the re-read model gives other bytes: {}",
            first_difference(&first, &second)
        )
    })?;
    let pretty = written(&p.resource, syntax, true)?;
    let again = reread(&pretty, syntax, "the pretty writer's output", &p)?;
    same_model(&p.resource, &again.resource, || {
        format!("{syntax:?} -> model -> pretty {syntax:?}")
    })
}

/// XML ↔ JSON: a resource read from one syntax, written in the other,
/// re-reads to an equal model (and JSON output is JSON).
pub fn cross(data: &[u8]) -> Check {
    let from = Syntax::detect(data);
    let Some(p) = read(data, from)? else {
        return Ok(());
    };
    let to = from.other();
    let text = written(&p.resource, to, false)?;
    let q = reread(&text, to, "the converted output", &p)?;
    same_model(&p.resource, &q.resource, || {
        format!("{from:?} -> model -> {to:?}")
    })
}

/// Writes `r`; JSON output must be JSON for a standard parser too.
fn written(r: &Resource, syntax: Syntax, pretty: bool) -> Result<String, Violation> {
    let text = syntax.write(r, pretty);
    if syntax == Syntax::Json {
        if let Err(e) = serde_json::from_str::<serde_json::Value>(&text) {
            // serde_json stops at 128 levels; our own reader re-reads deeper
            // output and is checked next
            ensure(
                e.to_string().starts_with("recursion limit exceeded"),
                "writer-output-is-json",
                || {
                    format!(
                        "the JSON writer's output is not JSON ({e}); near it: {}",
                        at_position(&text, e.line(), e.column())
                    )
                },
            )?;
        }
    }
    Ok(text)
}

/// Re-reads writer output: it must be readable, and free of structural
/// issues (unknown, misplaced or repeated elements, wrong shapes, a wrong
/// namespace) other than those that carry a defect the `original` input
/// itself reported at the same place: the same issue (a narrative's wrong
/// XHTML namespace is written as read), or a JSON string where a number or
/// boolean belongs for a value that was not one (`PRIMITIVE-FORMAT`; the
/// writers' documented form for an invalid number, which cannot change the
/// document's structure). The writer emits only the schema's structure.
fn reread(text: &str, syntax: Syntax, what: &str, original: &Parsed) -> Result<Parsed, Violation> {
    let reported = |i: &Issue| {
        original.outcome.issues.iter().any(|o| {
            o.location == i.location
                && (o.rule == i.rule
                    || (i.rule == rules::SCHEMA_CONTENT && o.rule == rules::PRIMITIVE_FORMAT))
        })
    };
    match syntax.read(text.as_bytes()) {
        Ok(p) => {
            if let Some(i) = p
                .outcome
                .issues
                .iter()
                .find(|i| is_structural(i) && !reported(i))
            {
                return Err(Violation {
                    property: "reread-no-structural-issue",
                    detail: format!(
                        "re-reading {what} as {syntax:?} reports {i}; near it: {}",
                        near(text, i)
                    ),
                });
            }
            Ok(p)
        }
        Err(e) => Err(Violation {
            property: "reread-succeeds",
            detail: format!(
                "{what} cannot be re-read as {syntax:?}: {e}; near it: {}",
                e.issue().map(|i| near(text, i)).unwrap_or_default()
            ),
        }),
    }
}

/// Issues about the document's structure rather than a value's lexical form.
fn is_structural(i: &Issue) -> bool {
    [
        rules::SCHEMA_UNKNOWN,
        rules::SCHEMA_ORDER,
        rules::SCHEMA_REPEATED,
        rules::SCHEMA_CONTENT,
        rules::XML_NAMESPACE,
        rules::RESOURCE_TYPE,
    ]
    .contains(&i.rule)
}

fn same_model(a: &Resource, b: &Resource, what: impl FnOnce() -> String) -> Check {
    ensure(a == b, "reread-equal-model", || {
        format!(
            "{}: the re-read model differs; {}",
            what(),
            first_difference(&format!("{a:?}"), &format!("{b:?}"))
        )
    })
}

/// The text around an issue's line and column.
fn near(text: &str, i: &Issue) -> String {
    match (i.line, i.column) {
        (Some(l), Some(c)) => at_position(text, l as usize, c as usize),
        _ => String::new(),
    }
}

/// Up to 60 characters on each side of 1-based `line` and character `col`.
fn at_position(text: &str, line: usize, col: usize) -> String {
    let line = text.lines().nth(line.saturating_sub(1)).unwrap_or("");
    let chars: Vec<char> = line.chars().collect();
    let at = col.saturating_sub(1).min(chars.len());
    chars[at.saturating_sub(60)..(at + 60).min(chars.len())]
        .iter()
        .collect::<String>()
}

/// Where the lines of an input start, to check issue positions in constant
/// time each (an input may be one 3 MiB line with a thousand issues).
struct LineIndex {
    starts: Vec<usize>,
    len: usize,
}

impl LineIndex {
    fn new(data: &[u8]) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(
            data.iter()
                .enumerate()
                .filter(|(_, b)| **b == b'\n')
                .map(|(i, _)| i + 1),
        );
        LineIndex {
            starts,
            len: data.len(),
        }
    }

    /// A position, when given, is a line of the input and a column no
    /// further than one past its end (columns count characters, which are
    /// never more than the line's bytes).
    fn check(&self, i: &Issue) -> Check {
        let (line, column) = match (i.line, i.column) {
            (None, None) => return Ok(()),
            (Some(l), Some(c)) => (l as usize, c as usize),
            _ => {
                return Err(Violation {
                    property: "issue-position-inside-input",
                    detail: format!("issue has a line or a column but not both: {i}"),
                })
            }
        };
        let inside = line >= 1 && column >= 1 && line <= self.starts.len() && {
            let start = self.starts[line - 1];
            let end = self.starts.get(line).map_or(self.len, |s| s - 1);
            column <= end - start + 1
        };
        ensure(inside, "issue-position-inside-input", || {
            format!(
                "issue at {line}:{column} is outside the input ({} lines, {} bytes): {i}",
                self.starts.len(),
                self.len
            )
        })
    }
}
