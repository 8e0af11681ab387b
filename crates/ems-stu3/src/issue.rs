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

/// A list of issues: the result of parsing or validating one input.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// The findings, in the order they were found.
    pub issues: Vec<Issue>,
}

impl Outcome {
    /// An empty outcome.
    pub fn new() -> Outcome {
        Outcome::default()
    }
    /// Adds an issue.
    pub fn push(&mut self, issue: Issue) {
        self.issues.push(issue)
    }
    /// `true` when any issue is `fatal` or `error`.
    pub fn has_errors(&self) -> bool {
        self.issues.iter().any(|i| i.severity.is_error())
    }
    /// Number of `fatal` and `error` issues.
    pub fn error_count(&self) -> usize {
        self.issues.iter().filter(|i| i.severity.is_error()).count()
    }
    /// Number of warnings.
    pub fn warning_count(&self) -> usize {
        self.issues
            .iter()
            .filter(|i| i.severity == Severity::Warning)
            .count()
    }
    /// Issues with the given rule id.
    pub fn with_rule<'a>(&'a self, rule: &'a str) -> impl Iterator<Item = &'a Issue> + 'a {
        self.issues.iter().filter(move |i| i.rule == rule)
    }
    /// Appends all issues of `other`.
    pub fn extend(&mut self, other: Outcome) {
        self.issues.extend(other.issues)
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
        Outcome {
            issues: iter.into_iter().collect(),
        }
    }
}
