//! The validator (ems-profiles) on arbitrary bytes, in both modes and for
//! every kind.

use crate::{ensure, first_difference, Check};
use ems::profiles::{rule, InputKind, Mode, Validation, Validator};
use ems::stu3::{from_json, from_xml, to_json, to_xml, Resource, Severity};

/// Every validation mode.
pub const MODES: [Mode; 2] = [Mode::Publish, Mode::Receive];
/// Every kind a caller can ask for.
pub const KINDS: [InputKind; 4] = [
    InputKind::Auto,
    InputKind::Event,
    InputKind::Subscription,
    InputKind::Outcome,
];

/// Validates `data` as every kind in both modes ([`validate_as`] each) and
/// checks that Receive mode reports no error that Publish mode does not.
pub fn validate(data: &[u8]) -> Check {
    for kind in KINDS {
        let publish = validate_as(data, Mode::Publish, kind)?;
        let receive = validate_as(data, Mode::Receive, kind)?;
        let errors = |v: &Validation| -> Vec<(&'static str, String)> {
            v.outcome
                .issues
                .iter()
                .filter(|i| i.severity.is_error())
                .map(|i| (i.rule, i.location.clone()))
                .collect()
        };
        let in_publish = errors(&publish);
        if let Some(e) = errors(&receive)
            .into_iter()
            .find(|e| !in_publish.contains(e))
        {
            return Err(crate::Violation {
                property: "receive-errors-within-publish-errors",
                detail: format!(
                    "{kind:?}: Receive mode reports error [{}] at {} that Publish mode does not",
                    e.0, e.1
                ),
            });
        }
    }
    Ok(())
}

/// One validation: never panics; every issue has a registered rule id; the
/// resource is missing exactly when the last issue is fatal (unreadable
/// input) and then no other issue is; the OperationOutcome the CLI and the
/// server emit re-reads to an equal model from JSON and from XML.
pub fn validate_as(
    data: &[u8],
    mode: Mode,
    kind: InputKind,
) -> Result<Validation, crate::Violation> {
    let v = Validator::new(mode).validate_bytes(data, kind);
    let ctx = || format!("{mode:?}/{kind:?}");
    for i in &v.outcome.issues {
        ensure(rule(i.rule).is_some(), "rule-id-registered", || {
            format!(
                "{}: issue with a rule id missing from the rule table: {i}",
                ctx()
            )
        })?;
    }
    let fatal: Vec<usize> = (0..v.outcome.issues.len())
        .filter(|&n| v.outcome.issues[n].severity == Severity::Fatal)
        .collect();
    match &v.resource {
        Some(_) => ensure(fatal.is_empty(), "fatal-only-when-unreadable", || {
            format!(
                "{}: the input was read but an issue is fatal: {}",
                ctx(),
                v.outcome.issues[fatal[0]]
            )
        })?,
        None => ensure(
            fatal == [v.outcome.issues.len().wrapping_sub(1)],
            "fatal-only-when-unreadable",
            || {
                format!(
                    "{}: unreadable input must end with its one fatal issue; fatal at {fatal:?} of {}",
                    ctx(),
                    v.outcome.issues.len()
                )
            },
        )?,
    }
    ensure(
        !v.is_valid() || v.resource.is_some(),
        "valid-means-read",
        || format!("{}: valid without a resource", ctx()),
    )?;
    outcome_rereads(&v, &ctx())?;
    Ok(v)
}

/// The OperationOutcome of a validation, as FHIR JSON (the `ems validate
/// --format json` line) and XML, reads back to the same OperationOutcome.
fn outcome_rereads(v: &Validation, ctx: &str) -> Check {
    let oo = Resource::from(v.outcome.to_operation_outcome());
    let json = to_json(&oo);
    ensure(
        serde_json::from_str::<serde_json::Value>(&json).is_ok(),
        "outcome-json-is-json",
        || format!("{ctx}: the OperationOutcome's JSON is not JSON: {json}"),
    )?;
    let xml = to_xml(&oo);
    for (syntax, text, back) in [
        ("JSON", &json, from_json(json.as_bytes())),
        ("XML", &xml, from_xml(xml.as_bytes())),
    ] {
        match back {
            Ok(p) => ensure(
                p.outcome.issues.is_empty() && p.resource == oo,
                "outcome-rereads-equal",
                || {
                    format!(
                        "{ctx}: the OperationOutcome's {syntax} re-reads with {} issue(s) or to another model; {}",
                        p.outcome.issues.len(),
                        first_difference(&format!("{oo:?}"), &format!("{:?}", p.resource))
                    )
                },
            )?,
            Err(e) => ensure(false, "outcome-rereads-equal", || {
                format!("{ctx}: the OperationOutcome's {syntax} cannot be re-read: {e}: {text}")
            })?,
        }
    }
    Ok(())
}
