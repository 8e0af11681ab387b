//! The one issue type shared by every ems crate.
//!
//! Parsing (this crate) and validation (`ems-profiles`) report findings the
//! same way: an [`Issue`] with a severity, a FHIR `IssueType` code, a stable
//! rule id (`SCHEMA-ORDER`, `MH-ROUTING-MISMATCH`, ...), an optional Spine
//! `ErrorOrWarningCode`, a FHIRPath-like location and a line/column. An
//! [`Outcome`] collects them and converts to an STU3 `OperationOutcome`.

use crate::{
    CodeableConcept, Coding, Extension, ExtensionValue, OperationOutcome, OperationOutcomeIssue,
    Primitive,
};
use std::fmt;

/// Code system of the Spine error/warning codes.
pub const SPINE_ERROR_OR_WARNING_SYSTEM: &str =
    "https://fhir.nhs.uk/STU3/CodeSystem/Spine-ErrorOrWarningCode-1";

/// Code system used in `issue.details.coding` to carry the ems rule id.
pub const RULE_ID_SYSTEM: &str = "urn:ems:rule-id";

/// Extension on `OperationOutcome.issue` carrying `line:column` of the finding.
pub const SOURCE_POSITION_EXTENSION: &str = "urn:ems:source-position";

/// Issue severity (FHIR `IssueSeverity`), most severe first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The input cannot be processed at all.
    Fatal,
    /// A rule is broken.
    Error,
    /// A recommendation is not followed, or a tolerated defect.
    Warning,
    /// For information only.
    Information,
}

impl Severity {
    /// FHIR code (`fatal`, `error`, `warning`, `information`).
    pub fn code(self) -> &'static str {
        match self {
            Severity::Fatal => "fatal",
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Information => "information",
        }
    }
    /// `true` for `fatal` and `error`.
    pub fn is_error(self) -> bool {
        matches!(self, Severity::Fatal | Severity::Error)
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// FHIR `IssueType` codes used by ems.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IssueType {
    /// `invalid`
    Invalid,
    /// `structure`
    Structure,
    /// `required`
    Required,
    /// `value`
    Value,
    /// `invariant`
    Invariant,
    /// `code-invalid`
    CodeInvalid,
    /// `not-found`
    NotFound,
    /// `not-supported`
    NotSupported,
    /// `duplicate`
    Duplicate,
    /// `too-costly`
    TooCostly,
    /// `security`
    Security,
    /// `business-rule`
    BusinessRule,
    /// `conflict`
    Conflict,
    /// `informational`
    Informational,
    /// `processing`
    Processing,
    /// `exception`
    Exception,
}

impl IssueType {
    /// FHIR code.
    pub fn code(self) -> &'static str {
        match self {
            IssueType::Invalid => "invalid",
            IssueType::Structure => "structure",
            IssueType::Required => "required",
            IssueType::Value => "value",
            IssueType::Invariant => "invariant",
            IssueType::CodeInvalid => "code-invalid",
            IssueType::NotFound => "not-found",
            IssueType::NotSupported => "not-supported",
            IssueType::Duplicate => "duplicate",
            IssueType::TooCostly => "too-costly",
            IssueType::Security => "security",
            IssueType::BusinessRule => "business-rule",
            IssueType::Conflict => "conflict",
            IssueType::Informational => "informational",
            IssueType::Processing => "processing",
            IssueType::Exception => "exception",
        }
    }
}

/// One finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Issue {
    /// How bad it is.
    pub severity: Severity,
    /// FHIR issue type.
    pub code: IssueType,
    /// Stable rule id (`SCHEMA-ORDER`, `MH-ROUTING-MISMATCH`, ...).
    pub rule: &'static str,
    /// Spine `ErrorOrWarningCode` where one applies (`INVALID_NHS_NUMBER`, ...).
    pub spine_code: Option<&'static str>,
    /// FHIRPath-like location, e.g. `Bundle.entry[2].resource.ofType(Patient).birthDate`.
    pub location: String,
    /// 1-based line in the input, when the finding comes from parsing.
    pub line: Option<u32>,
    /// 1-based column (in characters) in the input.
    pub column: Option<u32>,
    /// What is wrong, in words a person can act on.
    pub message: String,
}

impl Issue {
    /// A new issue without source position or Spine code.
    pub fn new(
        severity: Severity,
        code: IssueType,
        rule: &'static str,
        location: impl Into<String>,
        message: impl Into<String>,
    ) -> Issue {
        Issue {
            severity,
            code,
            rule,
            spine_code: None,
            location: location.into(),
            line: None,
            column: None,
            message: message.into(),
        }
    }

    /// Sets the Spine ErrorOrWarningCode.
    pub fn with_spine(mut self, code: &'static str) -> Issue {
        self.spine_code = Some(code);
        self
    }

    /// Sets line and column.
    pub fn at(mut self, line: u32, column: u32) -> Issue {
        self.line = Some(line);
        self.column = Some(column);
        self
    }
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} [{}]", self.severity, self.rule)?;
        if !self.location.is_empty() {
            write!(f, " {}", self.location)?;
        }
        if let (Some(l), Some(c)) = (self.line, self.column) {
            write!(f, " ({l}:{c})")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// The most issues an [`Outcome`] lists. Findings beyond it are counted, by
/// rule and severity, in one summary issue (rule `ISSUES-TRUNCATED`) that
/// follows the listed ones, so an OperationOutcome can never be larger than
/// the attack that caused it (issue 14). A `fatal` issue is always listed.
pub const MAX_ISSUES: usize = 1000;

/// Rule id of the summary issue of an [`Outcome`] that reached [`MAX_ISSUES`].
const TRUNCATED: &str = crate::read::rules::ISSUES_TRUNCATED;

/// A list of issues: the result of parsing or validating one input.
///
/// At most [`MAX_ISSUES`] are listed; the rest are counted in a summary
/// issue whose severity is the worst of those it counts, so
/// [`has_errors`](Outcome::has_errors) and the counts stay true.
///
/// ```
/// use ems_stu3::{Issue, IssueType, Outcome, Severity, MAX_ISSUES};
/// let mut o = Outcome::new();
/// for k in 0..MAX_ISSUES + 5 {
///     let sev = if k < MAX_ISSUES { Severity::Warning } else { Severity::Error };
///     o.push(Issue::new(sev, IssueType::Structure, "SCHEMA-UNKNOWN", "x", "unknown"));
/// }
/// assert_eq!(o.issues.len(), MAX_ISSUES + 1);
/// let summary = o.issues.last().unwrap();
/// assert_eq!((summary.rule, summary.severity), ("ISSUES-TRUNCATED", Severity::Error));
/// assert!(summary.message.starts_with("5 more issues"));
/// assert_eq!((o.error_count(), o.warning_count(), o.omitted()), (5, MAX_ISSUES, 5));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// The findings, in the order they were found (at most [`MAX_ISSUES`]
    /// and the summary issue, then any fatal issue).
    pub issues: Vec<Issue>,
    /// Findings not listed: (rule, severity, count).
    omitted: Vec<(&'static str, Severity, usize)>,
}

impl Outcome {
    /// An empty outcome.
    pub fn new() -> Outcome {
        Outcome::default()
    }
    /// Adds an issue (counted in the summary once [`MAX_ISSUES`] are listed).
    pub fn push(&mut self, issue: Issue) {
        if self.list(issue) {
            self.refresh_summary();
        }
    }
    /// Lists `issue` or counts it; `true` when it was counted.
    fn list(&mut self, issue: Issue) -> bool {
        if issue.severity == Severity::Fatal || !self.is_full() {
            self.issues.push(issue);
            false
        } else {
            self.count_omitted(issue.rule, issue.severity, 1);
            true
        }
    }
    /// `true` while [`MAX_ISSUES`] are listed: further issues are only
    /// counted. (Issues removed from the list, as the validator does with
    /// findings it replaces, make room again.)
    pub fn is_full(&self) -> bool {
        let summary = usize::from(!self.omitted.is_empty());
        self.issues.len() >= MAX_ISSUES + summary
    }
    /// Number of findings counted in the summary issue instead of listed.
    pub fn omitted(&self) -> usize {
        self.omitted.iter().map(|o| o.2).sum()
    }
    /// Counts `n` unlisted findings of `rule` at `severity`; the summary is
    /// listed at the first and brought up to date by
    /// [`refresh_summary`](Self::refresh_summary).
    pub(crate) fn count_omitted(&mut self, rule: &'static str, severity: Severity, n: usize) {
        match self
            .omitted
            .iter_mut()
            .find(|o| o.0 == rule && o.1 == severity)
        {
            Some(o) => o.2 += n,
            None => {
                let first = self.omitted.is_empty();
                self.omitted.push((rule, severity, n));
                if first {
                    // the summary takes its place in the list at once
                    self.refresh_summary();
                }
            }
        }
    }
    /// `true` for this outcome's summary issue.
    fn is_summary(&self, i: &Issue) -> bool {
        i.rule == TRUNCATED && !self.omitted.is_empty()
    }
    /// Writes the summary issue from the omitted counts (adding it after the
    /// listed issues, before a trailing fatal one, when it is not there yet).
    pub(crate) fn refresh_summary(&mut self) {
        if self.omitted.is_empty() {
            return;
        }
        let total = self.omitted();
        let worst = self
            .omitted
            .iter()
            .map(|o| o.1)
            .min()
            .unwrap_or(Severity::Error);
        let mut by_rule: Vec<(&str, usize)> = Vec::new();
        for &(rule, _, n) in &self.omitted {
            match by_rule.iter_mut().find(|r| r.0 == rule) {
                Some(r) => r.1 += n,
                None => by_rule.push((rule, n)),
            }
        }
        by_rule.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let mut message = format!(
            "{total} more issues were found and not listed (an outcome lists the first {MAX_ISSUES}): "
        );
        for (k, (rule, n)) in by_rule.iter().enumerate() {
            if k == 5 {
                message.push_str(", ...");
                break;
            }
            if k > 0 {
                message.push_str(", ");
            }
            message.push_str(&format!("{n} {rule}"));
        }
        let summary = Issue::new(worst, IssueType::TooCostly, TRUNCATED, "", message);
        match self.issues.iter().rposition(|i| i.rule == TRUNCATED) {
            Some(at) => self.issues[at] = summary,
            None => {
                let at = self
                    .issues
                    .iter()
                    .rposition(|i| i.severity != Severity::Fatal)
                    .map_or(0, |p| p + 1);
                self.issues.insert(at, summary);
            }
        }
    }
    /// Sets the severity of every finding, listed or counted, to
    /// `f(rule, severity)` (the summary's follows from those it counts).
    pub fn reclassify(&mut self, mut f: impl FnMut(&'static str, Severity) -> Severity) {
        let has_summary = !self.omitted.is_empty();
        for i in &mut self.issues {
            if !(has_summary && i.rule == TRUNCATED) {
                i.severity = f(i.rule, i.severity);
            }
        }
        for (rule, sev, n) in std::mem::take(&mut self.omitted) {
            let s = f(rule, sev);
            self.count_omitted(rule, s, n);
        }
        self.refresh_summary();
    }
    /// `true` when any issue is `fatal` or `error` (counted ones included).
    pub fn has_errors(&self) -> bool {
        self.issues.iter().any(|i| i.severity.is_error())
    }
    /// Number of `fatal` and `error` findings, counted ones included.
    pub fn error_count(&self) -> usize {
        self.count(Severity::is_error)
    }
    /// Number of warnings, counted ones included.
    pub fn warning_count(&self) -> usize {
        self.count(|s| s == Severity::Warning)
    }
    fn count(&self, want: impl Fn(Severity) -> bool) -> usize {
        let listed = self
            .issues
            .iter()
            .filter(|i| want(i.severity) && !self.is_summary(i))
            .count();
        let counted: usize = self.omitted.iter().filter(|o| want(o.1)).map(|o| o.2).sum();
        listed + counted
    }
    /// Issues with the given rule id.
    pub fn with_rule<'a>(&'a self, rule: &'a str) -> impl Iterator<Item = &'a Issue> + 'a {
        self.issues.iter().filter(move |i| i.rule == rule)
    }
    /// Appends all issues of `other` (up to the limit; its counted findings
    /// are added to this outcome's).
    pub fn extend(&mut self, other: Outcome) {
        let other_summary = !other.omitted.is_empty();
        let mut counted = false;
        for i in other.issues {
            if other_summary && i.rule == TRUNCATED {
                continue;
            }
            counted |= self.list(i);
        }
        for (rule, sev, n) in other.omitted {
            self.count_omitted(rule, sev, n);
            counted = true;
        }
        if counted {
            self.refresh_summary();
        }
    }

    /// Converts to an STU3 `OperationOutcome`.
    ///
    /// Each issue becomes one `OperationOutcome.issue`: `severity`, `code`,
    /// `details.coding` with the Spine code (when there is one) and the rule id
    /// (system [`RULE_ID_SYSTEM`]), `details.text` and `diagnostics` with the
    /// message, `expression` and `location` with the location, and the
    /// `line:column` in an extension ([`SOURCE_POSITION_EXTENSION`]).
    /// An outcome without issues gets one `information`/`informational` issue
    /// ("no issues found"), as FHIR requires at least one.
    ///
    /// ```
    /// use ems_stu3::{Issue, IssueType, Outcome, Severity};
    /// let mut o = Outcome::new();
    /// o.push(Issue::new(Severity::Error, IssueType::Structure, "SCHEMA-ORDER",
    ///     "Communication.sender", "out of order"));
    /// let oo = o.to_operation_outcome();
    /// assert_eq!(oo.issue.len(), 1);
    /// ```
    pub fn to_operation_outcome(&self) -> OperationOutcome {
        let mut oo = OperationOutcome::default();
        for i in &self.issues {
            let mut coding = Vec::new();
            if let Some(s) = i.spine_code {
                coding.push(Coding {
                    system: Some(Primitive::from(SPINE_ERROR_OR_WARNING_SYSTEM)),
                    code: Some(Primitive::from(s)),
                    ..Default::default()
                });
            }
            coding.push(Coding {
                system: Some(Primitive::from(RULE_ID_SYSTEM)),
                code: Some(Primitive::from(i.rule)),
                ..Default::default()
            });
            let mut extension = Vec::new();
            if let (Some(l), Some(c)) = (i.line, i.column) {
                extension.push(Extension::new(
                    SOURCE_POSITION_EXTENSION,
                    ExtensionValue::String(Primitive::new(format!("{l}:{c}"))),
                ));
            }
            let mut loc = Vec::new();
            if !i.location.is_empty() {
                loc.push(Primitive::from(i.location.as_str()));
            }
            oo.issue.push(OperationOutcomeIssue {
                extension,
                severity: Some(Primitive::from(i.severity.code())),
                code: Some(Primitive::from(i.code.code())),
                details: Some(CodeableConcept {
                    coding,
                    text: Some(Primitive::from(i.message.as_str())),
                    ..Default::default()
                }),
                diagnostics: Some(Primitive::new(format!("[{}] {}", i.rule, i.message))),
                location: loc.clone(),
                expression: loc,
                ..Default::default()
            });
        }
        if oo.issue.is_empty() {
            oo.issue.push(OperationOutcomeIssue {
                severity: Some(Primitive::from("information")),
                code: Some(Primitive::from("informational")),
                diagnostics: Some(Primitive::from("no issues found")),
                ..Default::default()
            });
        }
        oo
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for i in &self.issues {
            writeln!(f, "{i}")?;
        }
        Ok(())
    }
}

impl FromIterator<Issue> for Outcome {
    fn from_iter<T: IntoIterator<Item = Issue>>(iter: T) -> Self {
        let mut o = Outcome::new();
        let mut counted = false;
        for i in iter {
            counted |= o.list(i);
        }
        if counted {
            o.refresh_summary();
        }
        o
    }
}
