//! EMS-Subscription-1 and OperationOutcome rules, table-driven: a valid
//! resource and single-defect mutations of it.

use ems_profiles::{InputKind, Mode, Severity, Validator};

const VALID: &str = r#"<Subscription xmlns="http://hl7.org/fhir">
  <meta><profile value="https://fhir.nhs.uk/STU3/StructureDefinition/EMS-Subscription-1"/></meta>
  <status value="requested"/>
  <contact><system value="url"/><value value="https://directory.spineservices.nhs.uk/STU3/Organization/RR8"/><use value="work"/></contact>
  <reason value="Health visiting service responsible for the patient"/>
  <criteria value="/Bundle?type=message&amp;serviceType=UHV&amp;Patient.identifier=https://fhir.nhs.uk/Id/nhs-number|9434765919&amp;MessageHeader.event=pds-change-of-address-1"/>
  <channel><type value="message"/><endpoint value="RR8OT001"/></channel>
</Subscription>"#;

fn findings(xml: &str, mode: Mode) -> Vec<(&'static str, Severity)> {
    let v = Validator::new(mode).validate_bytes(xml.as_bytes(), InputKind::Subscription);
    let mut r: Vec<_> = v
        .outcome
        .issues
        .iter()
        .map(|i| (i.rule, i.severity))
        .collect();
    r.sort();
    r.dedup();
    r
}

#[test]
fn valid_create_request_and_corpus_examples() {
    assert!(findings(VALID, Mode::Publish).is_empty());
    for f in [
        "subscription-create-explicit.xml",
        "subscription-create-generic.xml",
    ] {
        let xml = String::from_utf8(ems_testdata::nems(f)).unwrap();
        assert!(findings(&xml, Mode::Publish).is_empty(), "{f}");
    }
}

#[test]
fn subscription_mutations() {
    use Severity::{Error, Warning};
    let cases: &[(&str, &str, (&str, Severity))] = &[
        ("<meta><profile value=\"https://fhir.nhs.uk/STU3/StructureDefinition/EMS-Subscription-1\"/></meta>", "", ("SUB-PROFILE", Warning)),
        ("<status value=\"requested\"/>", "<status value=\"active\"/>", ("SUB-STATUS", Error)),
        ("<use value=\"work\"/>", "<use value=\"home\"/>", ("SUB-CONTACT", Error)),
        ("Organization/RR8", "Organization/rr-8", ("SUB-CONTACT", Error)),
        ("<reason value=\"Health visiting service responsible for the patient\"/>", "", ("SUB-REASON", Error)),
        ("<type value=\"message\"/>", "<type value=\"rest-hook\"/>", ("SUB-CHANNEL", Error)),
        ("<endpoint value=\"RR8OT001\"/>", "", ("SUB-CHANNEL", Error)),
        ("</channel>", "</channel><tag><system value=\"http://example.org/tags\"/><code value=\"x\"/></tag>", ("SUB-PROHIBITED", Error)),
        ("<channel>", "<error value=\"oops\"/><channel>", ("SUB-PROHIBITED", Error)),
        ("<meta>", "<meta><versionId value=\"1\"/>", ("SUB-CREATE-META", Error)),
        ("serviceType=UHV&amp;", "serviceType=UHV&amp;subscriptionRuleType=GP_GP_GP&amp;", ("SUB-CRITERIA-KIND", Error)),
        ("/Bundle?type=message", "/Patient?type=message", ("SUB-CRITERIA-PATH", Error)),
        ("serviceType=UHV", "serviceType=XX", ("SUB-CRITERIA-VALUE", Error)),
        ("pds-change-of-address-1", "PDS002", ("SUB-CRITERIA-EVENT", Error)),
        ("9434765919", "9434765918", ("NHS-NUMBER-CHECKDIGIT", Error)),
        ("serviceType=UHV&amp;", "colour=red&amp;", ("SUB-CRITERIA-UNKNOWN", Error)),
        ("serviceType=UHV&amp;", "serviceType=UHV&amp;serviceType=GP&amp;", ("SUB-CRITERIA-CARDINALITY", Error)),
    ];
    for (from, to, want) in cases {
        assert!(VALID.contains(from), "{from}");
        let xml = VALID.replacen(from, to, 1);
        assert_eq!(findings(&xml, Mode::Publish), vec![*want], "{from} -> {to}");
    }
    // a stored subscription (with id) may be active and carry meta
    let stored = VALID.replacen("<meta>", "<id value=\"abc\"/><meta><versionId value=\"1\"/><lastUpdated value=\"2024-01-01T00:00:00Z\"/>", 1).replacen("requested", "active", 1);
    assert!(findings(&stored, Mode::Publish).is_empty());
}

const OO: &str = r#"<OperationOutcome xmlns="http://hl7.org/fhir">
  <issue>
    <severity value="information"/>
    <code value="informational"/>
    <details><coding><system value="https://fhir.nhs.uk/STU3/CodeSystem/Spine-ErrorOrWarningCode-1"/><code value="DEPRECATED"/><display value="Event message type has been deprecated"/></coding></details>
    <diagnostics value="Deprecation of newborn-hearing-1 will occur on 22/06/2019, see https://example.org/nh"/>
  </issue>
</OperationOutcome>"#;

#[test]
fn operation_outcome_rules() {
    let f = |xml: &str| {
        let v = Validator::new(Mode::Publish).validate_bytes(xml.as_bytes(), InputKind::Outcome);
        let mut r: Vec<_> = v
            .outcome
            .issues
            .iter()
            .map(|i| (i.rule, i.severity))
            .collect();
        r.sort();
        r.dedup();
        r
    };
    assert!(f(OO).is_empty());
    assert_eq!(
        f(&OO.replacen("<severity value=\"information\"/>", "", 1)),
        vec![("OO-ISSUE", Severity::Error)]
    );
    assert_eq!(
        f(&OO.replacen(
            "https://fhir.nhs.uk/STU3/CodeSystem/Spine-ErrorOrWarningCode-1",
            "http://example.org/codes",
            1
        )),
        vec![("OO-SPINE-CODE", Severity::Error)]
    );
    let no_diag = OO.replacen("<diagnostics value=\"Deprecation of newborn-hearing-1 will occur on 22/06/2019, see https://example.org/nh\"/>", "", 1);
    assert_eq!(f(&no_diag), vec![("OO-DIAGNOSTICS", Severity::Warning)]);
    assert_eq!(
        f(&OO.replacen("DEPRECATED", "NOT_A_CODE", 1)),
        vec![("CODE-INVALID", Severity::Error)]
    );
    let empty =
        "<OperationOutcome xmlns=\"http://hl7.org/fhir\"><id value=\"x\"/></OperationOutcome>";
    assert_eq!(f(empty), vec![("OO-ISSUE", Severity::Error)]);
    // an Outcome rendered by ems validates as a NEMS OperationOutcome when it carries Spine codes
    let mut o = ems_stu3::Outcome::new();
    o.push(
        ems_stu3::Issue::new(
            Severity::Error,
            ems_stu3::IssueType::Value,
            "NHS-NUMBER-CHECKDIGIT",
            "Patient.identifier[0].value",
            "bad",
        )
        .with_spine("INVALID_NHS_NUMBER"),
    );
    let xml = ems_stu3::to_xml(&ems_stu3::Resource::from(o.to_operation_outcome()));
    assert!(f(&xml).is_empty(), "{:?}", f(&xml));
}

/// Regression (issue 13): a create request that wrongly carries `id` and
/// `meta.lastUpdated` was taken for a stored subscription and passed.
#[test]
fn create_request_with_id_and_last_updated_is_rejected() {
    use ems_profiles::SubscriptionContext as C;
    let xml = VALID.replace(
        "<meta><profile",
        "<id value=\"6e2a3b3c-9b7e-4e7c-8a2f-1d2c3b4a5f60\"/><meta><lastUpdated value=\"2024-06-01T12:00:00+00:00\"/><profile",
    );
    let rules = |cx: C| -> Vec<(String, Severity)> {
        let v = Validator::new(Mode::Publish)
            .with_subscription_context(cx)
            .validate_bytes(xml.as_bytes(), InputKind::Subscription);
        let mut r: Vec<_> = v
            .outcome
            .issues
            .iter()
            .map(|i| (format!("{} {}", i.rule, i.location), i.severity))
            .collect();
        r.sort();
        r
    };
    let want = vec![
        (
            "SUB-CREATE-META Subscription.id".to_string(),
            Severity::Error,
        ),
        (
            "SUB-CREATE-META Subscription.meta.lastUpdated".to_string(),
            Severity::Error,
        ),
    ];
    // inferred from status = requested, and explicit
    assert_eq!(rules(C::Auto), want);
    assert_eq!(rules(C::Create), want);
    // the same resource as a stored subscription is fine
    assert!(rules(C::Stored).is_empty());
    // a stored subscription from the corpus validates as stored
    let read = ems_testdata::nems("subscription-read-response.xml");
    let v = Validator::new(Mode::Publish)
        .with_subscription_context(C::Create)
        .validate_bytes(&read, InputKind::Subscription);
    assert!(v.outcome.with_rule("SUB-CREATE-META").next().is_some());
}
