//! docs/conformance.md lists exactly the rules of the RULES table.

#[test]
fn conformance_doc_lists_every_rule() {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/conformance.md");
    let doc = std::fs::read_to_string(p).unwrap();
    let rows: Vec<&str> = doc.lines().filter(|l| l.starts_with("| `")).collect();
    let ids: Vec<&str> = rows.iter().map(|l| l.split('`').nth(1).unwrap()).collect();
    for r in ems_profiles::RULES {
        assert!(
            ids.contains(&r.id),
            "{} missing from docs/conformance.md",
            r.id
        );
    }
    for id in &ids {
        assert!(
            ems_profiles::rule(id).is_some(),
            "docs/conformance.md lists unknown rule {id}"
        );
    }
    assert_eq!(ids.len(), ems_profiles::RULES.len());
}
