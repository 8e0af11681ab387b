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

const NS_X: &str = r#"xmlns=\"http://www.w3.org/1999/xhtml\""#;

fn patient_with_div(div_json: &str) -> String {
    format!(
        r#"{{"resourceType":"Patient","text":{{"status":"generated","div":"{div_json}"}},"gender":"male"}}"#
    )
}

/// Finding 5: the JSON reader accepted any `Narrative.div` and the XML
/// writer inserted it verbatim: `</text><active value="true"/>` injected
/// elements, `<b>unclosed` gave malformed XML, an empty div was lost
/// silently. The div is now checked when read (well-formed, XHTML
/// namespace, txt-1, txt-2): one that is not well-formed is reported as
/// XHTML-MALFORMED and not kept; the rest is reported with its rule id.
#[test]
fn finding_5_narrative_div_is_checked_and_cannot_inject() {
    for (div, rule) in [
        (
            format!(
                r#"<div {NS_X}>x</div></text><active value=\"true\"/><text><status value=\"generated\"/><div {NS_X}>y</div>"#
            ),
            "XHTML-MALFORMED",
        ),
        (
            format!(r#"<div {NS_X}><b>unclosed</div>"#),
            "XHTML-MALFORMED",
        ),
        (
            format!(r#"<div {NS_X}>a &nbsp; b</div>"#),
            "XHTML-MALFORMED",
        ),
        (String::new(), "XHTML-MALFORMED"),
        ("plain text".to_string(), "XHTML-MALFORMED"),
        (
            format!(r#"<div {NS_X}><script>alert(1)</script>x</div>"#),
            "TXT-1",
        ),
        (
            format!(r#"<div {NS_X}><p onclick=\"alert(1)\">x</p></div>"#),
            "TXT-1",
        ),
        (
            format!(r#"<div {NS_X}><form><input/></form>x</div>"#),
            "TXT-1",
        ),
        (format!(r#"<div {NS_X}>  </div>"#), "TXT-2"),
        (r#"<div>x</div>"#.to_string(), "XML-NAMESPACE"),
    ] {
        let p = from_json(patient_with_div(&div).as_bytes()).unwrap();
        let found: Vec<_> = p
            .outcome
            .issues
            .iter()
            .map(|i| (i.rule, i.location.as_str()))
            .collect();
        assert!(
            found.contains(&(rule, "Patient.text.div")),
            "{div}: {found:?}"
        );
        let kept = p
            .resource
            .get::<ems_stu3::Patient>()
            .unwrap()
            .text
            .as_ref()
            .unwrap()
            .div
            .is_some();
        assert_eq!(kept, rule != "XHTML-MALFORMED", "{div}");
        let xml = xml_round_trip(&p);
        assert!(!xml.contains("<active"), "{xml}");
        json_round_trip(&p);
        // the same div read from XML gives the same findings
        if rule != "XHTML-MALFORMED" {
            let again = from_xml(xml.as_bytes()).unwrap();
            assert!(again.outcome.with_rule(rule).next().is_some(), "{xml}");
        }
    }
    let x = r#"<Patient xmlns="http://hl7.org/fhir"><text><status value="generated"/><div xmlns="http://www.w3.org/1999/xhtml">a &nbsp; b</div></text></Patient>"#;
    let p = from_xml(x.as_bytes()).unwrap();
    assert_eq!(
        p.outcome.issues.iter().map(|i| i.rule).collect::<Vec<_>>(),
        ["XHTML-MALFORMED"]
    );
    assert_eq!(
        p.outcome.issues[0].column,
        Some(113),
        "at the text in the div"
    );
    xml_round_trip(&p);

    // a div set in code is never inserted unchecked by the XML writer
    let pat = ems_stu3::Patient {
        text: Some(ems_stu3::Narrative {
            status: Some("generated".into()),
            div: Some(
                r#"<div xmlns="http://www.w3.org/1999/xhtml">x</div></text><active value="true"/><text>"#
                    .into(),
            ),
            ..Default::default()
        }),
        ..Default::default()
    };
    let xml = to_xml(&ems_stu3::Resource::from(pat));
    let back = from_xml(xml.as_bytes()).unwrap();
    let back_pat = back.resource.get::<ems_stu3::Patient>().unwrap();
    assert!(back_pat.active.is_none(), "{xml}");
    assert!(back.outcome.issues.is_empty(), "{xml}: {}", back.outcome);
}
