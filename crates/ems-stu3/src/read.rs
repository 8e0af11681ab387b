//! Shared reader infrastructure: options, results, paths and positions.

use crate::issue::{Issue, IssueType, Outcome, Severity};
use crate::primitive::{PrimKind, PrimNode};
use crate::Resource;

/// NEMS' message size limit: 3 MiB.
pub const DEFAULT_MAX_SIZE: usize = 3 * 1024 * 1024;
/// Default nesting depth limit (elements or JSON containers).
pub const DEFAULT_MAX_DEPTH: usize = 100;

/// The FHIR XML namespace.
pub const FHIR_NS: &str = "http://hl7.org/fhir";
/// The XHTML namespace required on `Narrative.div`.
pub const XHTML_NS: &str = "http://www.w3.org/1999/xhtml";

/// Bounds and behaviour of the XML and JSON readers.
///
/// ```
/// use ems_stu3::ReadOptions;
/// let opts = ReadOptions::default().max_size(1 << 20);
/// assert_eq!(opts.max_depth, ems_stu3::DEFAULT_MAX_DEPTH);
/// ```
#[derive(Clone, Debug)]
pub struct ReadOptions {
    /// Largest accepted input in bytes (default [`DEFAULT_MAX_SIZE`], 3 MiB).
    pub max_size: usize,
    /// Deepest accepted nesting (default [`DEFAULT_MAX_DEPTH`]).
    pub max_depth: usize,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            max_size: DEFAULT_MAX_SIZE,
            max_depth: DEFAULT_MAX_DEPTH,
        }
    }
}

impl ReadOptions {
    /// Sets the size cap.
    pub fn max_size(mut self, bytes: usize) -> Self {
        self.max_size = bytes;
        self
    }
    /// Sets the depth cap.
    pub fn max_depth(mut self, depth: usize) -> Self {
        self.max_depth = depth;
        self
    }
    /// Reads a resource from FHIR XML.
    pub fn read_xml(&self, input: &[u8]) -> Result<Parsed, ReadError> {
        crate::xml::read(input, self)
    }
    /// Reads a resource from FHIR JSON.
    pub fn read_json(&self, input: &[u8]) -> Result<Parsed, ReadError> {
        crate::json::read(input, self)
    }
}

/// A successfully read resource and the non-fatal issues found on the way.
#[derive(Clone, Debug, PartialEq)]
pub struct Parsed {
    /// The resource.
    pub resource: Resource,
    /// Issues that did not stop reading (unknown elements, order, lexical forms, ...).
    pub outcome: Outcome,
}

/// Reading stopped: the input is not readable (malformed, hostile or oversized).
/// The outcome holds the fatal issue last, after any issues found before it.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{}", .outcome.issues.last().map(|i| i.to_string()).unwrap_or_default())]
pub struct ReadError {
    /// All issues, the fatal one last.
    pub outcome: Outcome,
}

impl ReadError {
    /// The fatal issue.
    pub fn issue(&self) -> Option<&Issue> {
        self.outcome.issues.last()
    }
}

/// One step of a location path.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Frame {
    pub name: &'static str,
    pub index: Option<usize>,
    pub of_type: Option<&'static str>,
}

/// A FHIRPath-like location (`Bundle.entry[2].resource.ofType(Patient).birthDate`)
/// kept as a stack of static steps, so tracking it allocates nothing until a
/// finding renders it. Used by the readers and by model walkers (the
/// validator).
///
/// ```
/// let mut p = ems_stu3::PathStack::default();
/// p.push("Bundle", None, None);
/// p.push("entry", Some(2), None);
/// p.push("resource", None, Some("Patient"));
/// assert_eq!(p.render(Some("birthDate")), "Bundle.entry[2].resource.ofType(Patient).birthDate");
/// p.pop();
/// assert_eq!(p.render(None), "Bundle.entry[2]");
/// ```
#[derive(Clone, Debug, Default)]
pub struct PathStack {
    frames: Vec<Frame>,
}

impl PathStack {
    /// Enters an element: its name, its index when it repeats, and the type
    /// of a choice or contained resource (`ofType(..)`). An empty name adds
    /// only the `ofType` step.
    #[inline]
    pub fn push(
        &mut self,
        name: &'static str,
        index: Option<usize>,
        of_type: Option<&'static str>,
    ) {
        self.frames.push(Frame {
            name,
            index,
            of_type,
        });
    }
    /// Leaves the innermost element.
    #[inline]
    pub fn pop(&mut self) {
        self.frames.pop();
    }
    /// Renders the path, optionally followed by one more (dynamic) name.
    pub fn render(&self, extra: Option<&str>) -> String {
        // sized up front: one allocation for the usual path
        let cap = extra.map_or(0, |e| e.len() + 1)
            + self
                .frames
                .iter()
                .map(|f| {
                    f.name.len()
                        + 1
                        + f.index.map_or(0, |_| 6)
                        + f.of_type.map_or(0, |t| t.len() + 8)
                })
                .sum::<usize>();
        let mut s = String::with_capacity(cap);
        for (k, f) in self.frames.iter().enumerate() {
            if k > 0 && !f.name.is_empty() {
                s.push('.');
            }
            s.push_str(f.name);
            if let Some(i) = f.index {
                s.push('[');
                push_decimal(&mut s, i);
                s.push(']');
            }
            if let Some(t) = f.of_type {
                s.push_str(".ofType(");
                s.push_str(t);
                s.push(')');
            }
        }
        if let Some(e) = extra {
            if !s.is_empty() {
                s.push('.');
            }
            s.push_str(e);
        }
        s
    }
}

/// Appends `n` in decimal, as `{}` writes it, without the formatting
/// machinery (paths and finding texts are built this way on hot paths).
///
/// ```
/// let mut s = String::from("entry[");
/// ems_stu3::push_decimal(&mut s, 4096);
/// assert_eq!(s, "entry[4096");
/// ```
pub fn push_decimal(s: &mut String, mut n: usize) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &b in &buf[i..] {
        s.push(b as char);
    }
}

/// 1-based line and column (in characters) of byte offset `pos` in `src`.
///
/// A one-off lookup costs one pass over `src`; for many lookups in the same
/// input build a [`LineIndex`] once (the readers do).
///
/// ```
/// assert_eq!(ems_stu3::line_col("ab\ncé\nx".as_bytes(), 6), (2, 3));
/// ```
pub fn line_col(src: &[u8], pos: usize) -> (u32, u32) {
    LineIndex::new(src).line_col(pos)
}

/// Bytes per block of the character-count index of [`LineIndex`].
const CHAR_BLOCK: usize = 1024;

/// Line starts and a character-count index of one input, built in one pass,
/// so that each issue position costs a binary search plus at most one
/// [`CHAR_BLOCK`] of counting instead of a rescan from byte 0 (the rescan
/// made a 3 MiB line of unknown elements take half an hour: issue 14,
/// finding 2).
///
/// Columns count characters: UTF-8 lead bytes, i.e. every byte that is not a
/// continuation byte (`0b10xx_xxxx`).
///
/// ```
/// let src = "<a>\n  <é/>\n".as_bytes();
/// let ix = ems_stu3::LineIndex::new(src);
/// assert_eq!(ix.line_col(0), (1, 1));
/// assert_eq!(ix.line_col(6), (2, 3));
/// assert_eq!(ix.line_col(9), (2, 5));
/// assert_eq!(ix.line_col(999), (3, 1));
/// ```
#[derive(Clone, Debug)]
pub struct LineIndex<'a> {
    src: &'a [u8],
    /// Byte offset of the start of each line after the first.
    line_starts: Vec<usize>,
    /// Continuation bytes before the start of each block of `CHAR_BLOCK`
    /// bytes, and the total last.
    cont_before_block: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    /// Indexes `src` (one pass).
    pub fn new(src: &'a [u8]) -> LineIndex<'a> {
        let line_starts = memchr::memchr_iter(b'\n', src).map(|p| p + 1).collect();
        let mut cont_before_block = Vec::with_capacity(src.len() / CHAR_BLOCK + 2);
        let mut n = 0;
        for block in src.chunks(CHAR_BLOCK) {
            cont_before_block.push(n);
            n += continuation_bytes(block);
        }
        // the end, so that `pos == src.len()` at a block boundary has an entry
        cont_before_block.push(n);
        LineIndex {
            src,
            line_starts,
            cont_before_block,
        }
    }

    /// Continuation bytes in `src[..pos]` (`pos <= src.len()`).
    fn cont_before(&self, pos: usize) -> usize {
        let b = pos / CHAR_BLOCK;
        self.cont_before_block[b] + continuation_bytes(&self.src[b * CHAR_BLOCK..pos])
    }

    /// 1-based line and column (in characters) of byte offset `pos`
    /// (clamped to the input length).
    pub fn line_col(&self, pos: usize) -> (u32, u32) {
        let pos = pos.min(self.src.len());
        let line = self.line_starts.partition_point(|&s| s <= pos);
        let start = if line == 0 {
            0
        } else {
            self.line_starts[line - 1]
        };
        let chars = (pos - start) - (self.cont_before(pos) - self.cont_before(start));
        (line as u32 + 1, chars as u32 + 1)
    }
}

/// Number of UTF-8 continuation bytes in `b`.
fn continuation_bytes(b: &[u8]) -> usize {
    b.iter().filter(|&&c| c & 0xC0 == 0x80).count()
}

/// Issue builder shared by both readers.
pub(crate) struct Reporter<'a> {
    pub src: &'a [u8],
    /// Built on the first issue.
    lines: std::cell::OnceCell<LineIndex<'a>>,
    pub path: PathStack,
    pub outcome: Outcome,
}

impl<'a> Reporter<'a> {
    pub fn new(src: &'a [u8]) -> Self {
        Reporter {
            src,
            lines: std::cell::OnceCell::new(),
            path: PathStack::default(),
            outcome: Outcome::new(),
        }
    }

    pub fn make(
        &self,
        severity: Severity,
        code: IssueType,
        rule: &'static str,
        extra: Option<&str>,
        pos: usize,
        message: String,
    ) -> Issue {
        let (l, c) = self
            .lines
            .get_or_init(|| LineIndex::new(self.src))
            .line_col(pos);
        Issue::new(severity, code, rule, self.path.render(extra), message).at(l, c)
    }

    pub fn error(
        &mut self,
        code: IssueType,
        rule: &'static str,
        extra: Option<&str>,
        pos: usize,
        message: String,
    ) {
        if self.outcome.is_full() {
            // only counted: no position, path or message is built
            self.outcome.count_omitted(rule, Severity::Error, 1);
            return;
        }
        let i = self.make(Severity::Error, code, rule, extra, pos, message);
        self.outcome.push(i);
    }

    /// The issues found, with the summary of those beyond the limit.
    pub fn finish(mut self) -> Outcome {
        self.outcome.refresh_summary();
        self.outcome
    }

    /// Stores the lexical value `v` of primitive `p`; a malformed one is
    /// reported as `PRIMITIVE-FORMAT` (value shown up to 80 characters).
    pub fn set_value(&mut self, p: &mut dyn PrimNode, kind: PrimKind, v: &str, pos: usize) {
        if let Err(exp) = p.set_lexical(kind, v) {
            if self.outcome.is_full() {
                self.outcome
                    .count_omitted(rules::PRIMITIVE_FORMAT, Severity::Error, 1);
                return;
            }
            let shown: String = v.chars().take(80).collect();
            self.error(
                IssueType::Value,
                rules::PRIMITIVE_FORMAT,
                None,
                pos,
                format!(
                    "`{shown}` is not a valid {}: expected {exp}",
                    kind.fhir_name()
                ),
            );
        }
    }

    /// Checks a `Narrative.div` and reports what is wrong with it
    /// (`XHTML-MALFORMED`, `XML-NAMESPACE`, `TXT-1`, `TXT-2`); `at` maps an
    /// offset in `div` to one in the input. `false` when the div is not
    /// well-formed XHTML and must not be kept.
    pub fn xhtml(&mut self, div: &str, extra: Option<&str>, at: impl Fn(usize) -> usize) -> bool {
        let mut found = Vec::new();
        let ok = match crate::xhtml::check(div, &mut |f| found.push(f)) {
            Ok(()) => true,
            Err(f) => {
                found.push(f);
                false
            }
        };
        for f in found {
            let code = match f.rule {
                rules::TXT_1 | rules::TXT_2 => IssueType::Invariant,
                _ => IssueType::Structure,
            };
            self.error(code, f.rule, extra, at(f.offset), f.message);
        }
        ok
    }

    /// Builds the fatal error that stops reading.
    pub fn fatal(
        &mut self,
        code: IssueType,
        rule: &'static str,
        pos: usize,
        message: String,
    ) -> ReadError {
        let i = self.make(Severity::Fatal, code, rule, None, pos, message);
        self.outcome.refresh_summary();
        let mut outcome = std::mem::take(&mut self.outcome);
        outcome.push(i);
        ReadError { outcome }
    }
}

/// Checks size and UTF-8 before any parsing.
pub(crate) fn precheck<'a>(input: &'a [u8], opts: &ReadOptions) -> Result<&'a str, ReadError> {
    if input.len() > opts.max_size {
        let mut r = Reporter::new(&[]);
        return Err(r.fatal(
            IssueType::TooCostly,
            rules::INPUT_TOO_LARGE,
            0,
            format!(
                "input is {} bytes; the limit is {} bytes (NEMS accepts at most 3 MB)",
                input.len(),
                opts.max_size
            ),
        ));
    }
    match std::str::from_utf8(input) {
        Ok(s) => Ok(s),
        Err(e) => {
            let mut r = Reporter::new(input);
            Err(r.fatal(
                IssueType::Structure,
                rules::INPUT_UTF8,
                e.valid_up_to(),
                "input is not valid UTF-8".into(),
            ))
        }
    }
}

/// Rule ids reported by the readers (see `docs/conformance.md`).
pub mod rules {
    /// Element not defined for this type (digest section 2.7).
    pub const SCHEMA_UNKNOWN: &str = "SCHEMA-UNKNOWN";
    /// Element out of schema order (digest section 2.7).
    pub const SCHEMA_ORDER: &str = "SCHEMA-ORDER";
    /// A single-valued element appears more than once.
    pub const SCHEMA_REPEATED: &str = "SCHEMA-REPEATED";
    /// Text content where FHIR XML allows none, or a JSON value of the wrong shape.
    pub const SCHEMA_CONTENT: &str = "SCHEMA-CONTENT";
    /// A primitive with neither a value nor an extension.
    pub const PRIMITIVE_EMPTY: &str = "PRIMITIVE-EMPTY";
    /// A primitive value whose lexical form is invalid for its type.
    pub const PRIMITIVE_FORMAT: &str = "PRIMITIVE-FORMAT";
    /// Missing or wrong XML namespace.
    pub const XML_NAMESPACE: &str = "XML-NAMESPACE";
    /// Not well-formed XML.
    pub const XML_MALFORMED: &str = "XML-MALFORMED";
    /// `Narrative.div` is not a well-formed XHTML `div` element (not kept).
    pub const XHTML_MALFORMED: &str = "XHTML-MALFORMED";
    /// FHIR invariant txt-1: only basic HTML elements and attributes in a
    /// narrative (no scripts, forms, event attributes).
    pub const TXT_1: &str = "TXT-1";
    /// FHIR invariant txt-2: a narrative has some non-whitespace content.
    pub const TXT_2: &str = "TXT-2";
    /// DTDs and entity declarations are rejected without expansion.
    pub const XML_DTD: &str = "XML-DTD";
    /// Not well-formed JSON.
    pub const JSON_MALFORMED: &str = "JSON-MALFORMED";
    /// Unknown or missing resource type.
    pub const RESOURCE_TYPE: &str = "RESOURCE-TYPE";
    /// Input larger than the size cap.
    pub const INPUT_TOO_LARGE: &str = "INPUT-TOO-LARGE";
    /// Nesting deeper than the depth cap.
    pub const INPUT_DEPTH: &str = "INPUT-DEPTH";
    /// Input is not UTF-8.
    pub const INPUT_UTF8: &str = "INPUT-UTF8";
    /// More findings than an outcome lists ([`crate::MAX_ISSUES`]): one
    /// summary issue counts the rest.
    pub const ISSUES_TRUNCATED: &str = "ISSUES-TRUNCATED";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendered_indices_and_types() {
        let mut p = PathStack::default();
        p.push("Bundle", None, None);
        for (i, want) in [(0, "[0]"), (9, "[9]"), (10, "[10]"), (1234567, "[1234567]")] {
            p.push("entry", Some(i), None);
            assert_eq!(p.render(None), format!("Bundle.entry{want}"));
            p.pop();
        }
        p.push("value", None, Some("CodeableConcept"));
        assert_eq!(
            p.render(Some("x")),
            "Bundle.value.ofType(CodeableConcept).x"
        );
        let mut s = String::new();
        push_decimal(&mut s, usize::MAX);
        assert_eq!(s, usize::MAX.to_string());
    }
}
