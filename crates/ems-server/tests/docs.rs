//! docs/conformance.md, "Server responses", lists the response code and
//! status of every validator rule (`outcome::rule_table`), every status of
//! `STATUS_OF_CODE`, and every rule id the server itself reports.

use ems_server::outcome::{rule_table, STATUS_OF_CODE};

/// Rule ids the server reports besides the validator's and auth's.
const SERVER_RULES: &[&str] = &[
    "HTTP-MEDIA-TYPE",
    "HTTP-BODY",
    "HTTP-BODY-TIMEOUT",
    "HTTP-BODY-FORMAT",
    "HTTP-HEADER-REPEATED",
    "HTTP-HEAD-TOO-LARGE",
    "HTTP-URI-TOO-LONG",
    "HTTP-HEAD-SYNTAX",
    "HTTP-PATH",
    "HTTP-QUERY",
    "HTTP-NOT-IMPLEMENTED",
    "HTTP-INTERACTION",
    "PUBLISH-XML",
    "PUBLISH-INTERACTION",
    "PUBLISH-PDS-ASID",
    "SUB-CREATE-META",
    "SUB-RESOURCE",
    "SUB-MAP",
    "SUB-NOT-FOUND",
    "SUB-ID",
    "SUB-OWNER",
    "SUB-ASID-ODS",
    "SUB-MAILBOX-OWNER",
    "SUB-DUPLICATE",
    "LIFECYCLE-DEPRECATED",
    "LIFECYCLE-NO-LONGER-SUPPORTED",
    "LIFECYCLE-WITHDRAWN",
    "LIFECYCLE-UNKNOWN-EVENT",
    "SERVER-INTERNAL",
];

fn doc() -> String {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/conformance.md");
    let text = std::fs::read_to_string(p).unwrap();
    let at = text
        .find("## Server responses")
        .expect("section `## Server responses`");
    text[at..].to_string()
}

#[test]
fn every_rule_has_its_response_row() {
    let doc = doc();
    let expected: Vec<String> = rule_table()
        .map(|(r, code, status)| format!("| {} | {code} | {status} |", r.id))
        .collect();
    let missing: Vec<&String> = expected
        .iter()
        .filter(|row| !doc.contains(row.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/conformance.md lacks (or disagrees with):\n{}",
        expected.join("\n")
    );
    for (code, status) in STATUS_OF_CODE {
        assert!(
            doc.contains(&format!("| {code} | {status} |")),
            "status row of {code}"
        );
    }
    for id in SERVER_RULES {
        assert!(
            doc.contains(&format!("| {id} |")),
            "server rule {id} is not documented"
        );
    }
}

#[test]
fn the_server_reports_exactly_the_documented_rule_ids() {
    // every rule id literal in the server's sources is documented
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = Vec::new();
    for f in [
        "publish.rs",
        "subscriptions.rs",
        "http.rs",
        "outcome.rs",
        "admin.rs",
        "head.rs",
        "refusal.rs",
    ] {
        let text = std::fs::read_to_string(src.join(f)).unwrap();
        for piece in text.split('"').skip(1).step_by(2) {
            let rule_like = piece.len() > 4
                && piece.chars().all(|c| c.is_ascii_uppercase() || c == '-')
                && piece.contains('-')
                && ["HTTP-", "PUBLISH-", "SUB-", "LIFECYCLE-", "SERVER-"]
                    .iter()
                    .any(|p| piece.starts_with(p));
            if rule_like && !found.contains(&piece.to_string()) {
                found.push(piece.to_string());
            }
        }
    }
    for id in &found {
        let known = SERVER_RULES.contains(&id.as_str()) || ems::profiles::rule(id).is_some();
        assert!(known, "rule id {id} in the server sources is not listed");
    }
}
