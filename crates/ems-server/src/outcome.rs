//! Spine error responses: the HTTP status of each Spine-ErrorOrWarningCode-1
//! code, the response code of each validator rule, and the
//! `Spine-OperationOutcome-1` body (one issue per finding).

use ems::matching::{LifecycleDecision, NoticeSeverity};
use ems::profiles::{code_system, Rule, RULES};
use ems::stu3::issue::SPINE_ERROR_OR_WARNING_SYSTEM;
use ems::stu3::{
    CodeableConcept, Coding, Issue, IssueType, Meta, OperationOutcome, OperationOutcomeIssue,
    Primitive, Severity,
};

/// Canonical URL of the Spine core error profile (digest 3.3).
pub use ems_nhs::vocab::SPINE_OPERATION_OUTCOME_PROFILE;

/// `ACCESS DENIED` as the CodeSystem spells it (with a space; digest 11.6):
/// issue 15 writes `ACCESS_DENIED`; responses carry the CodeSystem's code.
pub use crate::auth::ACCESS_DENIED;

/// HTTP status of every Spine code the server answers with, as the NHS test
/// tool's NEMS simulator returns them (issue 15, "Publish API"). The last
/// three rows are our decisions (docs/server.md): the life-cycle rejections
/// and `INVALID_VALUE` never reach a response as such (see
/// [`RULE_CODE_TRANSLATION`]) but are kept total.
pub static STATUS_OF_CODE: &[(&str, u16)] = &[
    ("MISSING_OR_INVALID_HEADER", 400),
    ("INVALID_NHS_NUMBER", 400),
    ("MESSAGE_NOT_WELL_FORMED", 400),
    ("INVALID_REQUEST_MESSAGE", 400),
    ("INVALID_ELEMENT", 400),
    ("INVALID_CODE_VALUE", 400),
    ("INVALID_CODE_SYSTEM", 400),
    ("INVALID_IDENTIFIER_SYSTEM", 400),
    ("INVALID_IDENTIFIER_VALUE", 400),
    ("BAD_REQUEST", 400),
    (ACCESS_DENIED, 403),
    ("ASID_CHECK_FAILED", 403),
    ("NO_RECORD_FOUND", 404),
    ("ORGANISATION_NOT_FOUND", 404),
    ("UNSUPPORTED_MEDIA_TYPE", 415),
    ("INVALID_RESOURCE", 422),
    ("INVALID_PARAMETER", 422),
    ("REFERENCE_NOT_FOUND", 422),
    ("DUPLICATE_REJECTED", 422),
    ("INTERNAL_SERVER_ERROR", 500),
    ("NOT_IMPLEMENTED", 501),
    // decisions: a withdrawn / no longer supported event is a business-rule
    // rejection of a well-formed request
    ("WITHDRAWN", 422),
    ("NO_LONGER_SUPPORTED", 422),
    // the warning of an accepted publish (digest 3.3, 4.1)
    ("DEPRECATED", 202),
];

/// Validator Spine codes that are not response codes of issue 15, and the
/// response code each becomes. A rule without a Spine code answers
/// `INVALID_RESOURCE`.
pub static RULE_CODE_TRANSLATION: &[(&str, &str)] = &[
    // a value of the wrong form in an element
    ("INVALID_VALUE", "INVALID_ELEMENT"),
    // the routing demographics disagree with the Patient: the resource as a whole is invalid
    ("INVALID_PATIENT_DEMOGRAPHICS", "INVALID_RESOURCE"),
];

/// HTTP status of a Spine code (500 for a code outside [`STATUS_OF_CODE`]).
pub fn status_of(code: &str) -> u16 {
    STATUS_OF_CODE
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, s)| *s)
        .unwrap_or(500)
}

/// The response code of a validator rule: its own Spine code when that is a
/// response code, else the translation of [`RULE_CODE_TRANSLATION`], else
/// `INVALID_RESOURCE`.
pub fn response_code_of_rule(rule: &Rule) -> &'static str {
    response_code(rule.spine)
}

/// The response code of a finding's Spine code (see [`response_code_of_rule`]).
pub fn response_code(spine: Option<&'static str>) -> &'static str {
    let Some(code) = spine else {
        return "INVALID_RESOURCE";
    };
    if code == "ACCESS_DENIED" {
        return ACCESS_DENIED;
    }
    if STATUS_OF_CODE.iter().any(|(c, _)| *c == code) {
        return code;
    }
    RULE_CODE_TRANSLATION
        .iter()
        .find(|(from, _)| *from == code)
        .map(|(_, to)| *to)
        .unwrap_or("INVALID_RESOURCE")
}

/// Every validator rule with its response code and status, in table order
/// (rendered in docs/server.md).
pub fn rule_table() -> impl Iterator<Item = (&'static Rule, &'static str, u16)> {
    RULES.iter().map(|r| {
        let c = response_code_of_rule(r);
        (r, c, status_of(c))
    })
}

/// A failed request: HTTP status and the findings of the OperationOutcome.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// One issue per finding (errors first as found; warnings kept).
    pub issues: Vec<Issue>,
}

impl ApiError {
    /// One finding with the Spine code `spine` (status from [`STATUS_OF_CODE`]).
    pub fn new(
        spine: &'static str,
        code: IssueType,
        rule: &'static str,
        location: impl Into<String>,
        message: impl Into<String>,
    ) -> ApiError {
        let spine = response_code(Some(spine));
        let issue = Issue::new(Severity::Error, code, rule, location, message).with_spine(spine);
        ApiError {
            status: status_of(spine),
            issues: vec![issue],
        }
    }

    /// From validator findings: response codes per rule, status of the first
    /// error (parse findings come first, so a message that cannot be read
    /// answers as such).
    pub fn from_findings(mut issues: Vec<Issue>) -> ApiError {
        for i in &mut issues {
            // the rule table decides (the reader stamps MESSAGE_NOT_WELL_FORMED
            // on any fatal finding without a code, e.g. INPUT-DEPTH)
            let spine = ems::profiles::rule(i.rule).map_or(i.spine_code, |r| r.spine);
            i.spine_code = Some(response_code(spine));
        }
        ApiError::of_issues(issues)
    }

    /// The status of the first error's code (422 when no issue is an error).
    fn of_issues(issues: Vec<Issue>) -> ApiError {
        let status = issues
            .iter()
            .find(|i| i.severity.is_error())
            .and_then(|i| i.spine_code)
            .map(status_of)
            .unwrap_or(422);
        ApiError { status, issues }
    }

    /// `500 INTERNAL_SERVER_ERROR` with `message`.
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(
            "INTERNAL_SERVER_ERROR",
            IssueType::Exception,
            "SERVER-INTERNAL",
            "",
            message,
        )
    }

    /// The rule ids of the findings (for audit records and tests).
    pub fn rules(&self) -> Vec<&'static str> {
        self.issues.iter().map(|i| i.rule).collect()
    }
}

/// The `Spine-OperationOutcome-1` of `issues`: `meta.profile`, per issue
/// `severity`, `code`, one `details.coding` from Spine-ErrorOrWarningCode-1
/// (with its display), `diagnostics` = `[RULE-ID] message`, `expression` =
/// the FHIRPath location when there is one.
pub fn operation_outcome(issues: &[Issue]) -> OperationOutcome {
    let cs = code_system(SPINE_ERROR_OR_WARNING_SYSTEM);
    let mut oo = OperationOutcome {
        meta: Some(Meta {
            profile: vec![Primitive::from(SPINE_OPERATION_OUTCOME_PROFILE)],
            ..Default::default()
        }),
        ..Default::default()
    };
    for i in issues {
        let code = response_code(i.spine_code);
        let display = cs.and_then(|c| c.display(code));
        oo.issue.push(OperationOutcomeIssue {
            severity: Some(Primitive::from(i.severity.code())),
            code: Some(Primitive::from(i.code.code())),
            details: Some(CodeableConcept {
                coding: vec![Coding {
                    system: Some(Primitive::from(SPINE_ERROR_OR_WARNING_SYSTEM)),
                    code: Some(Primitive::from(code)),
                    display: display.map(Primitive::from),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            diagnostics: Some(Primitive::new(format!("[{}] {}", i.rule, i.message))),
            expression: if i.location.is_empty() {
                Vec::new()
            } else {
                vec![Primitive::from(i.location.as_str())]
            },
            ..Default::default()
        });
    }
    oo
}

/// Rule id of a life-cycle notice (digest 4.2): `LIFECYCLE-` + the code.
fn lifecycle_rule(spine: &str) -> &'static str {
    match spine {
        "DEPRECATED" => "LIFECYCLE-DEPRECATED",
        "NO_LONGER_SUPPORTED" => "LIFECYCLE-NO-LONGER-SUPPORTED",
        "WITHDRAWN" => "LIFECYCLE-WITHDRAWN",
        _ => "LIFECYCLE-UNKNOWN-EVENT",
    }
}

/// The issues of a life-cycle decision (digest 4.3): accepted notices are
/// `information`/`informational` warnings, rejections `error`s; the
/// location points at `location`.
pub fn lifecycle_issues(d: &LifecycleDecision, location: &str) -> Vec<Issue> {
    d.notices
        .iter()
        .map(|n| {
            let (sev, code) = match n.severity {
                NoticeSeverity::Warning => (Severity::Information, IssueType::Informational),
                NoticeSeverity::Error => (Severity::Error, IssueType::BusinessRule),
            };
            Issue::new(
                sev,
                code,
                lifecycle_rule(n.spine_code),
                location,
                n.diagnostics.clone(),
            )
            .with_spine(n.spine_code)
        })
        .collect()
}

/// The rejection of a life-cycle decision that was not accepted.
pub fn lifecycle_rejection(d: &LifecycleDecision, location: &str) -> ApiError {
    ApiError::of_issues(lifecycle_issues(d, location))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_code_is_a_spine_code() {
        let cs = code_system(SPINE_ERROR_OR_WARNING_SYSTEM).unwrap();
        for (c, _) in STATUS_OF_CODE {
            assert!(
                cs.display(c).is_some(),
                "{c} is not in Spine-ErrorOrWarningCode-1"
            );
        }
        for (_, to) in RULE_CODE_TRANSLATION {
            assert!(STATUS_OF_CODE.iter().any(|(c, _)| c == to), "{to}");
        }
    }

    #[test]
    fn every_rule_answers_with_a_listed_code() {
        for (r, code, status) in rule_table() {
            assert!(
                STATUS_OF_CODE[..21].iter().any(|(c, _)| *c == code),
                "{} answers {code}, which is not a response code of issue 15",
                r.id
            );
            assert!((400..500).contains(&status), "{}", r.id);
        }
        assert_eq!(response_code(Some("INVALID_VALUE")), "INVALID_ELEMENT");
        assert_eq!(response_code(None), "INVALID_RESOURCE");
        assert_eq!(response_code(Some("ACCESS_DENIED")), ACCESS_DENIED);
        assert_eq!(status_of("NO_SUCH"), 500);
    }
}
