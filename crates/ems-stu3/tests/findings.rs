//! Regression tests for the writer findings of issue 14 (fuzzing): a writer
//! never emits what it did not check. An invalid value goes out in a form
//! that cannot change the document's structure, and re-reading the output
//! gives the same model.

use ems_stu3::{
    from_json, from_xml, rules, to_json, to_json_pretty, to_xml, to_xml_pretty, Parsed,
};

/// Both JSON writers' output is well-formed JSON that reads back to the
/// same model; returns the compact output.
fn json_round_trip(p: &Parsed) -> String {
    let out = to_json(&p.resource);
    for s in [out.clone(), to_json_pretty(&p.resource)] {
        serde_json::from_str::<serde_json::Value>(&s)
            .unwrap_or_else(|e| panic!("writer emitted malformed JSON ({e}): {s}"));
        let again = from_json(s.as_bytes()).unwrap_or_else(|e| panic!("{s}: {e}"));
        assert_eq!(again.resource, p.resource, "JSON re-read differs: {s}");
    }
    out
}

/// Both XML writers' output reads back to the same model; returns the
/// compact output.
fn xml_round_trip(p: &Parsed) -> String {
    let out = to_xml(&p.resource);
    for s in [out.clone(), to_xml_pretty(&p.resource)] {
        let again = from_xml(s.as_bytes()).unwrap_or_else(|e| panic!("{s}: {e}"));
        assert_eq!(again.resource, p.resource, "XML re-read differs: {s}");
    }
    out
}

const OBS_JSON: &str = r#"{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":VALUE}}"#;
const OBS_XML: &str = r#"<Observation xmlns="http://hl7.org/fhir"><status value="final"/><code><text value="x"/></code><valueQuantity><value value="VALUE"/></valueQuantity></Observation>"#;

/// Finding 4: the stored lexical form of an invalid decimal was written
/// unquoted: `"value":"1,\"unit\":\"mg\""` came out as `"value":1,"unit":"mg"`
/// (reads back clean with an extra element) and `<value value="1 OR 1"/>`
/// gave malformed JSON.
#[test]
fn finding_4_invalid_decimal_is_written_as_a_json_string() {
    let p = from_json(
        OBS_JSON
            .replace("VALUE", r#""1,\"unit\":\"mg\"""#)
            .as_bytes(),
    )
    .unwrap();
    assert!(p
        .outcome
        .with_rule(rules::PRIMITIVE_FORMAT)
        .next()
        .is_some());
    let out = json_round_trip(&p);
    assert!(out.contains(r#""value":"1,\"unit\":\"mg\"""#), "{out}");
    assert!(!out.contains(r#""unit""#), "{out}");
    let again = from_json(out.as_bytes()).unwrap();
    assert!(
        again
            .outcome
            .with_rule(rules::PRIMITIVE_FORMAT)
            .next()
            .is_some(),
        "still reported"
    );
    xml_round_trip(&p);

    for v in [
        "1 OR 1", "1,", "}", "1]", "01", "1.", ".5", "+1", "1e", "-", "NaN", "1\"", "é",
    ] {
        let x = OBS_XML.replace("VALUE", &v.replace('"', "&quot;"));
        let p = from_xml(x.as_bytes()).unwrap();
        assert!(
            p.outcome
                .with_rule(rules::PRIMITIVE_FORMAT)
                .next()
                .is_some(),
            "{v}"
        );
        let out = json_round_trip(&p);
        xml_round_trip(&from_json(out.as_bytes()).unwrap());
    }
    // valid decimals stay numbers, exactly as written
    for v in ["1", "-0", "1.50", "1e3", "-2.5E-3", "0.000"] {
        let p = from_xml(OBS_XML.replace("VALUE", v).as_bytes()).unwrap();
        assert!(p.outcome.issues.is_empty(), "{v}: {}", p.outcome);
        assert!(
            json_round_trip(&p).contains(&format!(r#""value":{v}}}"#)),
            "{v}"
        );
    }
}

/// Finding 6: a list of primitives whose values could not be kept
/// (`"careTeamLinkId":[0]`, 0 is not a positiveInt) was dropped by the JSON
/// writer while a single one was kept as `"_name":{}`.
#[test]
fn finding_6_list_of_invalid_primitives_is_kept() {
    let claim =
        |items: &str| format!(r#"{{"resourceType":"Claim","item":[{{"sequence":1,{items}}}]}}"#);
    for (items, want) in [
        (r#""careTeamLinkId":[0]"#, r#""_careTeamLinkId":[{}]"#),
        (
            r#""careTeamLinkId":[0,-1,"x"]"#,
            r#""_careTeamLinkId":[{},{},{}]"#,
        ),
        (
            r#""careTeamLinkId":[0],"_careTeamLinkId":[{"id":"a"}]"#,
            r#""_careTeamLinkId":[{"id":"a"}]"#,
        ),
        (r#""careTeamLinkId":[0,2]"#, r#""careTeamLinkId":[null,2]"#),
        (r#""careTeamLinkId":[2]"#, r#""careTeamLinkId":[2]}"#),
    ] {
        let p = from_json(claim(items).as_bytes()).unwrap();
        let out = json_round_trip(&p);
        assert!(out.contains(want), "{items}: {out}");
        let xml = xml_round_trip(&p);
        let again = from_xml(xml.as_bytes()).unwrap();
        assert_eq!(json_round_trip(&again), out, "{items}: XML -> JSON");
    }
    // XML: the same list read from XML
    let x = r#"<Claim xmlns="http://hl7.org/fhir"><item><sequence value="1"/><careTeamLinkId value="0"/><careTeamLinkId value="0"/></item></Claim>"#;
    let p = from_xml(x.as_bytes()).unwrap();
    assert!(json_round_trip(&p).contains(r#""_careTeamLinkId":[{},{}]"#));
}
