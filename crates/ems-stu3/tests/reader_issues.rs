//! Negative tests: every reader issue kind and every bound, in both formats.

use ems_stu3::{from_json, from_xml, rules, ReadOptions, Severity};

fn xml_rules(x: &str) -> Vec<(&'static str, String)> {
    let p = from_xml(x.as_bytes()).unwrap_or_else(|e| panic!("{x}: {e}"));
    p.outcome
        .issues
        .iter()
        .map(|i| (i.rule, i.location.clone()))
        .collect()
}

fn json_rules(j: &str) -> Vec<(&'static str, String)> {
    let p = from_json(j.as_bytes()).unwrap_or_else(|e| panic!("{j}: {e}"));
    p.outcome
        .issues
        .iter()
        .map(|i| (i.rule, i.location.clone()))
        .collect()
}

fn xml_fatal(x: &[u8], opts: &ReadOptions) -> &'static str {
    let e = opts.read_xml(x).expect_err("must fail");
    let i = e.issue().unwrap();
    assert_eq!(i.severity, Severity::Fatal);
    assert!(i.line.is_some());
    i.rule
}

fn json_fatal(j: &[u8], opts: &ReadOptions) -> &'static str {
    let e = opts.read_json(j).expect_err("must fail");
    let i = e.issue().unwrap();
    assert_eq!(i.severity, Severity::Fatal);
    i.rule
}

const NS: &str = r#"xmlns="http://hl7.org/fhir""#;

#[test]
fn unknown_element_and_property() {
    let x = format!(r#"<Patient {NS}><colour value="red"/><gender value="male"/></Patient>"#);
    assert_eq!(
        xml_rules(&x),
        vec![(rules::SCHEMA_UNKNOWN, "Patient.colour".to_string())]
    );
    let j = r#"{"resourceType":"Patient","colour":"red","gender":"male"}"#;
    assert_eq!(
        json_rules(j),
        vec![(rules::SCHEMA_UNKNOWN, "Patient.colour".to_string())]
    );
    // unknown attribute
    let x = format!(r#"<Patient {NS}><gender value="male" colour="red"/></Patient>"#);
    assert_eq!(
        xml_rules(&x),
        vec![(rules::SCHEMA_UNKNOWN, "Patient.gender.@colour".to_string())]
    );
    // `_` on a complex element
    let j = r#"{"resourceType":"Patient","_name":{"id":"x"}}"#;
    assert_eq!(json_rules(j)[0].0, rules::SCHEMA_UNKNOWN);
    // regression: non-ASCII names longer than a choice element's stem are
    // compared as bytes (a `str` slice inside `€` would panic)
    for name in ["valu€", "valueé", "deceas€d", "€"] {
        let x = format!(r#"<Observation {NS}><{name} value="x"/></Observation>"#);
        assert_eq!(
            xml_rules(&x),
            vec![(rules::SCHEMA_UNKNOWN, format!("Observation.{name}"))],
            "{name}"
        );
    }
}

#[test]
fn out_of_order_element_is_located() {
    // active written last: it belongs before gender, which came before it
    let x = format!(
        r#"<Patient {NS}><gender value="male"/><birthDate value="2000-01-01"/><active value="true"/></Patient>"#
    );
    assert_eq!(
        xml_rules(&x),
        vec![(rules::SCHEMA_ORDER, "Patient.active".to_string())]
    );
    // one element written too early: address before birthDate
    let x = format!(
        r#"<Patient {NS}><gender value="male"/><address><line value="x"/></address><birthDate value="2000-01-01"/></Patient>"#
    );
    assert_eq!(
        xml_rules(&x),
        vec![(rules::SCHEMA_ORDER, "Patient.address[0]".to_string())]
    );
    // the issue carries line and column of the offending element
    let x = format!(
        "<Patient {NS}>\n  <gender value=\"male\"/>\n  <birthDate value=\"2000-01-01\"/>\n  <active value=\"true\"/>\n</Patient>"
    );
    let p = from_xml(x.as_bytes()).unwrap();
    let i = &p.outcome.issues[0];
    assert_eq!(i.location, "Patient.active");
    assert_eq!((i.line, i.column), (Some(4), Some(3)));
}

#[test]
fn repeated_single_valued_element() {
    let x = format!(r#"<Patient {NS}><gender value="male"/><gender value="female"/></Patient>"#);
    assert_eq!(
        xml_rules(&x),
        vec![(rules::SCHEMA_REPEATED, "Patient.gender".to_string())]
    );
    let j = r#"{"resourceType":"Patient","gender":"male","gender":"female"}"#;
    assert_eq!(
        json_rules(j),
        vec![(rules::SCHEMA_REPEATED, "Patient.gender".to_string())]
    );
    let j = r#"{"resourceType":"Patient","deceasedBoolean":true,"deceasedDateTime":"2019"}"#;
    assert_eq!(json_rules(j)[0].0, rules::SCHEMA_REPEATED);
}

#[test]
fn empty_primitive() {
    let x = format!(r#"<Patient {NS}><birthDate/></Patient>"#);
    assert_eq!(
        xml_rules(&x),
        vec![(rules::PRIMITIVE_EMPTY, "Patient.birthDate".to_string())]
    );
    let j = r#"{"resourceType":"Patient","_birthDate":{"id":"a"}}"#;
    assert_eq!(
        json_rules(j),
        vec![(rules::PRIMITIVE_EMPTY, "Patient.birthDate".to_string())]
    );
    let j = r#"{"resourceType":"Patient","name":[{"given":["a",null]}]}"#;
    assert_eq!(
        json_rules(j),
        vec![(
            rules::PRIMITIVE_EMPTY,
            "Patient.name[0].given[1]".to_string()
        )]
    );
    // extension and no value is fine
    let x = format!(
        r#"<Patient {NS}><birthDate><extension url="http://x"><valueCode value="unknown"/></extension></birthDate></Patient>"#
    );
    assert!(xml_rules(&x).is_empty());
}

#[test]
fn malformed_lexical_forms_every_kind() {
    // (resource XML body, JSON body, location)
    let cases: &[(&str, &str, &str, &str)] = &[
        (
            "Patient",
            r#"<birthDate value="2019-02-30"/>"#,
            r#""birthDate":"2019-02-30""#,
            "Patient.birthDate",
        ),
        (
            "Patient",
            r#"<deceasedDateTime value="2019-01-01T10:00:00"/>"#,
            r#""deceasedDateTime":"2019-01-01T10:00:00""#,
            "Patient.deceased.ofType(dateTime)",
        ),
        (
            "Patient",
            r#"<meta><lastUpdated value="2019-01-01"/></meta>"#,
            r#""meta":{"lastUpdated":"2019-01-01"}"#,
            "Patient.meta.lastUpdated",
        ),
        (
            "Observation",
            r#"<status value="final"/><code><text value="x"/></code><valueTime value="25:00:00"/>"#,
            r#""status":"final","code":{"text":"x"},"valueTime":"25:00:00""#,
            "Observation.value.ofType(time)",
        ),
        (
            "Patient",
            r#"<multipleBirthInteger value="2147483648"/>"#,
            r#""multipleBirthInteger":2147483648"#,
            "Patient.multipleBirth.ofType(integer)",
        ),
        (
            "Observation",
            r#"<status value="final"/><code><text value="x"/></code><valueQuantity><value value="01.5"/></valueQuantity>"#,
            r#""status":"final","code":{"text":"x"},"valueQuantity":{"value":"1.5"}"#,
            "Observation.value.ofType(Quantity).value",
        ),
        (
            "Patient",
            r#"<active value="yes"/>"#,
            r#""active":"yes""#,
            "Patient.active",
        ),
        (
            "Patient",
            r#"<id value="a_b"/>"#,
            r#""id":"a_b""#,
            "Patient.id",
        ),
        (
            "Patient",
            r#"<implicitRules value="http://a b"/>"#,
            r#""implicitRules":"http://a b""#,
            "Patient.implicitRules",
        ),
        (
            "Patient",
            r#"<gender value=" male"/>"#,
            r#""gender":" male""#,
            "Patient.gender",
        ),
        (
            "ImagingStudy",
            r#"<uid value="1.2.3"/><patient><reference value="Patient/1"/></patient>"#,
            r#""uid":"1.2.3","patient":{"reference":"Patient/1"}"#,
            "ImagingStudy.uid",
        ),
        (
            "Immunization",
            r#"<vaccinationProtocol><doseSequence value="0"/></vaccinationProtocol>"#,
            r#""vaccinationProtocol":[{"doseSequence":0}]"#,
            "Immunization.vaccinationProtocol[0].doseSequence",
        ),
        (
            "Bundle",
            r#"<type value="searchset"/><total value="-1"/>"#,
            r#""type":"searchset","total":-1"#,
            "Bundle.total",
        ),
        (
            "Binary",
            r#"<contentType value="text/plain"/><content value="abc"/>"#,
            r#""contentType":"text/plain","content":"abc""#,
            "Binary.content",
        ),
    ];
    for (ty, x, j, loc) in cases {
        let xml = format!("<{ty} {NS}>{x}</{ty}>");
        let got = xml_rules(&xml);
        assert!(
            got.contains(&(rules::PRIMITIVE_FORMAT, loc.to_string())),
            "{xml}: {got:?}"
        );
        let json = format!(r#"{{"resourceType":"{ty}",{j}}}"#);
        let got = json_rules(&json);
        assert!(
            got.iter().any(
                |(r, l)| (*r == rules::PRIMITIVE_FORMAT || *r == rules::SCHEMA_CONTENT) && l == loc
            ),
            "{json}: {got:?}"
        );
    }
    // uuid is not an element type in STU3, but the lexical check exists for validators
    assert!(!ems_stu3::lexical::is_urn_uuid("urn:uuid:not-a-uuid"));
}

#[test]
fn json_types_and_ranges() {
    let j = r#"{"resourceType":"Patient","active":"true"}"#;
    assert_eq!(
        json_rules(j),
        vec![(rules::SCHEMA_CONTENT, "Patient.active".to_string())]
    );
    let j = r#"{"resourceType":"Patient","multipleBirthInteger":1.5}"#;
    assert_eq!(
        json_rules(j),
        vec![(
            rules::PRIMITIVE_FORMAT,
            "Patient.multipleBirth.ofType(integer)".to_string()
        )]
    );
    let j = r#"{"resourceType":"Patient","name":{"family":"x"}}"#;
    assert_eq!(json_rules(j)[0].0, rules::SCHEMA_CONTENT);
}

#[test]
fn namespace_rules() {
    assert_eq!(
        xml_rules(r#"<Patient><active value="true"/></Patient>"#),
        vec![(rules::XML_NAMESPACE, "Patient".to_string())]
    );
    assert_eq!(
        xml_rules(r#"<Patient xmlns="http://hl7.org/fhir/x"><active value="true"/></Patient>"#)[0]
            .0,
        rules::XML_NAMESPACE
    );
    let x =
        format!(r#"<Patient {NS}><text><status value="generated"/><div>x</div></text></Patient>"#);
    assert_eq!(
        xml_rules(&x),
        vec![(rules::XML_NAMESPACE, "Patient.text.div".to_string())]
    );
}

#[test]
fn narrative_is_verbatim() {
    let div = r#"<div xmlns="http://www.w3.org/1999/xhtml"><p>Hello <b>&amp;</b> world</p></div>"#;
    let x = format!(r#"<Patient {NS}><text><status value="generated"/>{div}</text></Patient>"#);
    let p = from_xml(x.as_bytes()).unwrap();
    let pat: &ems_stu3::Patient = p.resource.get().unwrap();
    assert_eq!(pat.text.as_ref().unwrap().div.as_deref(), Some(div));
    assert_eq!(ems_stu3::to_xml(&p.resource), x);
}

#[test]
fn bounds_size() {
    let opts = ReadOptions::default().max_size(10);
    assert_eq!(
        xml_fatal(format!("<Patient {NS}/>").as_bytes(), &opts),
        rules::INPUT_TOO_LARGE
    );
    assert_eq!(
        json_fatal(br#"{"resourceType":"Patient"}"#, &opts),
        rules::INPUT_TOO_LARGE
    );
    // default is NEMS' 3 MiB
    assert_eq!(ReadOptions::default().max_size, 3 * 1024 * 1024);
    let big = vec![b' '; 3 * 1024 * 1024 + 1];
    assert_eq!(
        xml_fatal(&big, &ReadOptions::default()),
        rules::INPUT_TOO_LARGE
    );
}

#[test]
fn bounds_depth() {
    let mut x = format!("<Questionnaire {NS}><status value=\"draft\"/>");
    for _ in 0..200 {
        x.push_str("<item><linkId value=\"a\"/><type value=\"group\"/>");
    }
    for _ in 0..200 {
        x.push_str("</item>");
    }
    x.push_str("</Questionnaire>");
    assert_eq!(
        xml_fatal(x.as_bytes(), &ReadOptions::default()),
        rules::INPUT_DEPTH
    );
    let j = format!("{}{}", "[".repeat(500), "]".repeat(500));
    let j = format!(r#"{{"resourceType":"Patient","x":{j}}}"#);
    assert_eq!(
        json_fatal(j.as_bytes(), &ReadOptions::default()),
        rules::INPUT_DEPTH
    );
    // within the limit it reads
    let opts = ReadOptions::default().max_depth(1000);
    assert!(opts.read_xml(x.as_bytes()).is_ok());
}

#[test]
fn dtd_and_entities_rejected() {
    let x = br#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><Patient xmlns="http://hl7.org/fhir"><gender value="&lol2;"/></Patient>"#;
    assert_eq!(xml_fatal(x, &ReadOptions::default()), rules::XML_DTD);
    // undeclared entity reference
    let x = format!(r#"<Patient {NS}><gender value="&lol;"/></Patient>"#);
    assert_eq!(
        xml_fatal(x.as_bytes(), &ReadOptions::default()),
        rules::XML_MALFORMED
    );
}

#[test]
fn invalid_utf8_rejected() {
    let mut x = format!(r#"<Patient {NS}><gender value="m"/></Patient>"#).into_bytes();
    x[30] = 0xff;
    assert_eq!(xml_fatal(&x, &ReadOptions::default()), rules::INPUT_UTF8);
    assert_eq!(
        json_fatal(
            b"{\"resourceType\":\"Pat\xffent\"}",
            &ReadOptions::default()
        ),
        rules::INPUT_UTF8
    );
}

#[test]
fn malformed_input() {
    let o = ReadOptions::default();
    assert_eq!(
        xml_fatal(
            format!("<Patient {NS}><gender value=\"m\"></Patient>").as_bytes(),
            &o
        ),
        rules::XML_MALFORMED
    );
    assert_eq!(xml_fatal(b"", &o), rules::XML_MALFORMED);
    assert_eq!(xml_fatal(b"hello", &o), rules::XML_MALFORMED);
    assert_eq!(
        xml_fatal(format!("<Patient {NS}>").as_bytes(), &o),
        rules::XML_MALFORMED
    );
    assert_eq!(json_fatal(b"", &o), rules::JSON_MALFORMED);
    assert_eq!(
        json_fatal(br#"{"resourceType":"Patient","#, &o),
        rules::JSON_MALFORMED
    );
    assert_eq!(
        json_fatal(br#"{"resourceType":"Patient"} x"#, &o),
        rules::JSON_MALFORMED
    );
    assert_eq!(
        json_fatal(br#"{"resourceType":"Patient","gender":"\x"}"#, &o),
        rules::JSON_MALFORMED
    );
    assert_eq!(json_fatal(br#"[1]"#, &o), rules::JSON_MALFORMED);
}

#[test]
fn unknown_resource_type() {
    let o = ReadOptions::default();
    assert_eq!(
        xml_fatal(format!("<Patientx {NS}/>").as_bytes(), &o),
        rules::RESOURCE_TYPE
    );
    assert_eq!(
        json_fatal(br#"{"resourceType":"Patientx"}"#, &o),
        rules::RESOURCE_TYPE
    );
    assert_eq!(json_fatal(br#"{"id":"a"}"#, &o), rules::RESOURCE_TYPE);
    // nested: reported, skipped
    let x = format!(
        r#"<Bundle {NS}><type value="collection"/><entry><resource><Nope/></resource></entry></Bundle>"#
    );
    assert_eq!(xml_rules(&x)[0].0, rules::RESOURCE_TYPE);
    let j = r#"{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Nope"}}]}"#;
    assert_eq!(
        json_rules(j),
        vec![(rules::RESOURCE_TYPE, "Bundle.entry[0].resource".to_string())]
    );
}

#[test]
fn resource_type_need_not_come_first_in_json() {
    let j = r#"{"gender":"male","resourceType":"Patient","id":"a"}"#;
    let p = from_json(j.as_bytes()).unwrap();
    assert!(p.outcome.issues.is_empty());
    assert_eq!(p.resource.id(), Some("a"));
}

#[test]
fn primitive_arrays_align_with_null() {
    let j = r#"{"resourceType":"Patient","name":[{"given":["A",null,"C"],"_given":[null,{"extension":[{"url":"http://x","valueString":"b"}]},{"id":"c"}]}]}"#;
    let p = from_json(j.as_bytes()).unwrap();
    assert!(p.outcome.issues.is_empty(), "{}", p.outcome);
    let pat: &ems_stu3::Patient = p.resource.get().unwrap();
    let g = &pat.name[0].given;
    assert_eq!(g.len(), 3);
    assert!(g[1].value.is_none() && g[1].extension().len() == 1);
    assert_eq!(g[2].id(), Some("c"));
    let out = ems_stu3::to_json(&p.resource);
    let a: serde_json::Value = serde_json::from_str(j).unwrap();
    let b: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(a, b);
}

#[test]
fn text_content_is_reported() {
    let x = format!(r#"<Patient {NS}><gender value="male">oops</gender>stray</Patient>"#);
    let r = xml_rules(&x);
    assert_eq!(
        r.iter()
            .filter(|(r, _)| *r == rules::SCHEMA_CONTENT)
            .count(),
        2,
        "{r:?}"
    );
}

#[test]
fn escaping_round_trips() {
    let x = format!(
        r#"<Patient {NS}><name><text value="a &amp; b &lt;c&gt; &quot;d&quot; &#10;e"/></name></Patient>"#
    );
    let p = from_xml(x.as_bytes()).unwrap();
    let pat: &ems_stu3::Patient = p.resource.get().unwrap();
    assert_eq!(
        pat.name[0].text.as_ref().unwrap().value.as_deref(),
        Some("a & b <c> \"d\" \ne")
    );
    let again = from_xml(ems_stu3::to_xml(&p.resource).as_bytes()).unwrap();
    assert_eq!(again.resource, p.resource);
    let j = from_json(ems_stu3::to_json(&p.resource).as_bytes()).unwrap();
    assert_eq!(j.resource, p.resource);
}

#[test]
fn duplicate_attribute_is_malformed() {
    let x = format!(r#"<Patient {NS}><gender value="male" value="female"/></Patient>"#);
    assert_eq!(
        xml_fatal(x.as_bytes(), &ReadOptions::default()),
        rules::XML_MALFORMED
    );
}

#[test]
fn namespace_prefixes_bound_to_fhir_are_read() {
    let plain = format!(
        r#"<Bundle {NS}><type value="collection"/><entry><resource><Patient><name><given value="A"/></name><gender value="male"/></Patient></resource></entry></Bundle>"#
    );
    let prefixed = r#"<f:Bundle xmlns:f="http://hl7.org/fhir"><f:type value="collection"/><f:entry><f:resource><f:Patient><f:name><f:given value="A"/></f:name><f:gender value="male"/></f:Patient></f:resource></f:entry></f:Bundle>"#;
    let a = from_xml(plain.as_bytes()).unwrap();
    let b = from_xml(prefixed.as_bytes()).unwrap();
    assert!(b.outcome.issues.is_empty(), "{}", b.outcome);
    assert_eq!(a.resource, b.resource);
    // a prefix declared on an inner element, mixed with the default namespace
    let inner = format!(
        r#"<Patient {NS}><h:name xmlns:h="http://hl7.org/fhir"><h:family value="X"/></h:name></Patient>"#
    );
    let c = from_xml(inner.as_bytes()).unwrap();
    assert!(c.outcome.issues.is_empty(), "{}", c.outcome);
    // elements in another namespace are reported and skipped, and the prefix goes out of scope
    let other = format!(
        r#"<Patient {NS} xmlns:x="urn:other"><x:colour value="red"/><gender value="male"/></Patient>"#
    );
    assert_eq!(
        xml_rules(&other),
        vec![(rules::XML_NAMESPACE, "Patient.x:colour".to_string())]
    );
    let scoped = format!(
        r#"<Patient {NS}><name xmlns:h="http://hl7.org/fhir"><h:family value="X"/></name><h:gender value="male"/></Patient>"#
    );
    assert_eq!(
        xml_rules(&scoped),
        vec![(rules::XML_NAMESPACE, "Patient.h:gender".to_string())]
    );
}
