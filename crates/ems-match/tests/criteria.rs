//! Table-driven criteria tests: every component, valid and invalid, and the
//! examples of the specification (digest 6.3) and the corpus.

use ems_match::*;

const B: &str = "/Bundle?type=message";
const NHS: &str = "Patient.identifier=http://fhir.nhs.net/Id/nhs-number|9434765919";
const EV: &str = "MessageHeader.event=pds-change-of-address-1";
const GEN: &str = "subscriptionRuleType=CHO_POSTCODE_CCG&Organization.identifier=X2458";

fn explicit(extra: &str) -> String {
    format!("{B}&{NHS}&{EV}{extra}")
}
fn generic(extra: &str) -> String {
    format!("{B}&{GEN}&{EV}{extra}")
}

#[test]
fn spec_examples_parse() {
    let ex = [
        "/Bundle?type=message&serviceType=GP&Patient.identifier=http://fhir.nhs.net/Id/nhs-number|9434765919&MessageHeader.event=pds-change-of-address-1",
        "/Bundle?type=message&subscriptionRuleType=CHO_POSTCODE_CCG&Organization.identifier=X2458&MessageHeader.event=pds-change-of-address-1&tag=site123",
        "/Bundle?type=message&Patient.identifier=http://fhir.nhs.net/Id/nhs-number|9434765919&MessageHeader.event=pds-birth-notification-1&MessageHeader.event=vaccinations-1&MessageHeader.event=pds-change-of-address-1",
    ];
    for s in ex {
        let c = Criteria::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
        assert_eq!(Criteria::parse(&c.to_string()).unwrap(), c, "{s}");
    }
    let c = Criteria::parse(ex[2]).unwrap();
    assert_eq!(c.events.len(), 3);
    assert_eq!(
        Criteria::parse(ex[1]).unwrap().tag.as_deref(),
        Some("site123")
    );
}

/// (criteria, Ok or Err(component, rule))
#[allow(clippy::type_complexity)]
fn table() -> Vec<(String, Result<(), (&'static str, &'static str)>)> {
    use ems_match::criteria::rules as r;
    vec![
        // path and type
        (format!("{B}&{NHS}&{EV}"), Ok(())),
        (format!("/Bundle?{NHS}&{EV}"), Err(("type", r::PATH))),
        (format!("Bundle?type=message&{NHS}&{EV}"), Err(("criteria", r::PATH))),
        (format!("/Bundle?type=document&{NHS}&{EV}"), Err(("type", r::PATH))),
        (format!("{B}&type=message&{NHS}&{EV}"), Err(("type", r::CARDINALITY))),
        (format!("{B}&&{NHS}&{EV}"), Err(("criteria", r::VALUE))),
        (format!("{B}&{NHS}&{EV}&"), Err(("criteria", r::VALUE))),
        // serviceType
        (explicit("&serviceType=GP"), Ok(())),
        (explicit("&serviceType=CHO"), Ok(())),
        (explicit("&serviceType=UHV"), Ok(())),
        (explicit("&serviceType=EPCHR"), Ok(())),
        (explicit("&serviceType=gp"), Err(("serviceType", r::VALUE))),
        (explicit("&serviceType=GP&serviceType=CHO"), Err(("serviceType", r::CARDINALITY))),
        (explicit("&serviceType="), Err(("serviceType", r::VALUE))),
        // Patient.identifier
        (format!("{B}&Patient.identifier=https://fhir.nhs.uk/Id/nhs-number|9434765919&{EV}"), Ok(())),
        (format!("{B}&Patient.identifier=http://example.org/nhs|9434765919&{EV}"), Err(("Patient.identifier", r::VALUE))),
        (format!("{B}&Patient.identifier=9434765919&{EV}"), Err(("Patient.identifier", r::VALUE))),
        (format!("{B}&Patient.identifier=http://fhir.nhs.net/Id/nhs-number|9434765918&{EV}"), Err(("Patient.identifier", r::NHS_NUMBER))),
        (format!("{B}&Patient.identifier=http://fhir.nhs.net/Id/nhs-number|943476591&{EV}"), Err(("Patient.identifier", r::NHS_NUMBER))),
        (format!("{B}&{NHS}&{NHS}&{EV}"), Err(("Patient.identifier", r::CARDINALITY))),
        // MessageHeader.event
        (explicit("&MessageHeader.event=vaccinations-1"), Ok(())),
        (format!("{B}&{NHS}"), Err(("MessageHeader.event", r::CARDINALITY))),
        (explicit("&MessageHeader.event=pds-change-of-address-1"), Err(("MessageHeader.event", r::CARDINALITY))),
        (explicit("&MessageHeader.event=pds-person-death-1"), Err(("MessageHeader.event", r::EVENT))),
        (explicit("&MessageHeader.event=referral-1"), Err(("MessageHeader.event", r::EVENT))),
        (explicit("&MessageHeader.event=PDS002"), Err(("MessageHeader.event", r::EVENT))),
        (generic("&MessageHeader.event=vaccinations-1"), Err(("MessageHeader.event", r::CARDINALITY))),
        // Patient.age
        (explicit("&Patient.age=gt5"), Ok(())),
        (explicit("&Patient.age=lt19"), Ok(())),
        (explicit("&Patient.age=gt5&Patient.age=lt19"), Ok(())),
        (explicit("&Patient.age=lt19&Patient.age=gt5"), Ok(())),
        (explicit("&Patient.age=ge5"), Err(("Patient.age", r::VALUE))),
        (explicit("&Patient.age=gt"), Err(("Patient.age", r::VALUE))),
        (explicit("&Patient.age=gt5y"), Err(("Patient.age", r::VALUE))),
        (explicit("&Patient.age=gt5&Patient.age=gt6"), Err(("Patient.age", r::CARDINALITY))),
        (explicit("&Patient.age=gt5&Patient.age=lt6"), Err(("Patient.age", r::VALUE))),
        (explicit("&Patient.age=gt5&Patient.age=lt19&Patient.age=lt20"), Err(("Patient.age", r::CARDINALITY))),
        // GPRegistration
        (explicit("&GPRegistration=RegisteredOnly"), Ok(())),
        (explicit("&GPRegistration=UnregisteredOnly"), Ok(())),
        (explicit("&GPRegistration=Registered"), Err(("GPRegistration", r::VALUE))),
        (explicit("&GPRegistration=RegisteredOnly&GPRegistration=RegisteredOnly"), Err(("GPRegistration", r::CARDINALITY))),
        // subscriptionRuleType
        (format!("{B}&subscriptionRuleType=GP_GP_GP&Organization.identifier=B86001&{EV}"), Ok(())),
        (format!("{B}&subscriptionRuleType=UHV_POSTCODE_LACODE&Organization.identifier=E08000035&{EV}"), Ok(())),
        (format!("{B}&subscriptionRuleType=CHO_GP_CCG&Organization.identifier=15F&{EV}"), Ok(())),
        (format!("{B}&subscriptionRuleType=CHO_POSTCODE_CCG&Organization.identifier=15F&{EV}"), Ok(())),
        (format!("{B}&subscriptionRuleType=COUNTRYCODE&Organization.identifier=W92000004&{EV}"), Ok(())),
        (format!("{B}&subscriptionRuleType=COUNTRYCODE&Organization.identifier=X92000004&{EV}"), Err(("Organization.identifier", r::VALUE))),
        (format!("{B}&subscriptionRuleType=HSS&Organization.identifier=E92000001&{EV}"), Err(("subscriptionRuleType", r::VALUE))),
        (format!("{B}&subscriptionRuleType=GP_GP_GP&{EV}"), Err(("Organization.identifier", r::CARDINALITY))),
        (format!("{B}&Organization.identifier=X2458&{EV}"), Err(("subscriptionRuleType", r::CARDINALITY))),
        (generic("&subscriptionRuleType=GP_GP_GP"), Err(("subscriptionRuleType", r::CARDINALITY))),
        // Organization.identifier
        (generic("&Organization.identifier=Y1"), Err(("Organization.identifier", r::CARDINALITY))),
        (format!("{B}&subscriptionRuleType=GP_GP_GP&Organization.identifier=B86-001&{EV}"), Err(("Organization.identifier", r::VALUE))),
        // explicit vs generic
        (format!("{B}&{NHS}&{GEN}&{EV}"), Err(("subscriptionRuleType", r::KIND))),
        (format!("{B}&{NHS}&Organization.identifier=X1&{EV}"), Err(("Organization.identifier", r::KIND))),
        (format!("{B}&{EV}"), Err(("criteria", r::KIND))),
        // tag
        (explicit("&tag=site-1_A|b,c"), Ok(())),
        (explicit(&format!("&tag={}", "a".repeat(100))), Ok(())),
        (explicit(&format!("&tag={}", "a".repeat(101))), Err(("tag", r::VALUE))),
        (explicit("&tag=a b"), Err(("tag", r::VALUE))),
        (explicit("&tag=a.b"), Err(("tag", r::VALUE))),
        (explicit("&tag=a&tag=b"), Err(("tag", r::CARDINALITY))),
        // unknown
        (explicit("&colour=red"), Err(("colour", r::UNKNOWN))),
        (explicit("&Patient.birthdate=2000"), Err(("Patient.birthdate", r::UNKNOWN))),
        (explicit("&serviceType"), Err(("serviceType", r::VALUE))),
    ]
}

#[test]
fn every_component_valid_and_invalid() {
    for (s, want) in table() {
        match (Criteria::parse(&s), want) {
            (Ok(c), Ok(())) => {
                assert_eq!(
                    Criteria::parse(&c.to_string()).as_ref(),
                    Ok(&c),
                    "canonical form of {s}"
                );
            }
            (Err(e), Err((component, rule))) => {
                assert_eq!(
                    (e.component.as_str(), e.rule),
                    (component, rule),
                    "{s}: {e}"
                );
                assert!(e.offset <= s.len(), "{s}: offset {}", e.offset);
                // missing components point where they belong (or at the end)
                if e.component != "criteria"
                    && e.offset < s.len()
                    && s.contains(&format!("{component}="))
                {
                    assert!(
                        s[e.offset..].starts_with(component),
                        "{s}: offset {} does not point at {component}",
                        e.offset
                    );
                }
            }
            (got, want) => panic!("{s}: got {got:?}, want {want:?}"),
        }
    }
}

#[test]
fn corpus_subscription_criteria() {
    let criteria_of = |f: &str| -> String {
        let t = String::from_utf8(ems_testdata::nems(f)).unwrap();
        let i = t.find("<criteria value=\"").unwrap() + 17;
        let j = t[i..].find('"').unwrap();
        t[i..i + j].replace("&amp;", "&")
    };
    let e = Criteria::parse(&criteria_of("subscription-create-explicit.xml")).unwrap();
    assert!(e.is_explicit());
    assert_eq!(e.service_type, Some(ServiceType::Uhv));
    let g = Criteria::parse(&criteria_of("subscription-create-generic.xml")).unwrap();
    assert_eq!(
        g.kind,
        CriteriaKind::Generic {
            rule: RuleType::ChoPostcodeCcg,
            organization: "X2458".into()
        }
    );
    // the read-response example: no subscriptionRuleType and a non-existent event
    let r = Criteria::parse(&criteria_of("subscription-read-response.xml")).unwrap_err();
    assert!(
        matches!(r.rule, "SUB-CRITERIA-EVENT" | "SUB-CRITERIA-CARDINALITY"),
        "{r}"
    );
}

#[test]
fn event_table_matches_event_types_json() {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/spec/event-types.json");
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
    let events = v["events"].as_array().unwrap();
    assert_eq!(events.len(), EVENT_TYPES.len());
    for (j, e) in events.iter().zip(EVENT_TYPES.iter()) {
        assert_eq!(j["code"], e.code);
        assert_eq!(j["display"], e.display);
        assert_eq!(j["meshWorkflowId"], e.workflow_id);
        assert_eq!(
            j["publishInteractionEventCode"].as_str(),
            e.publish_interaction_code
        );
        let mets: Vec<&str> = j["allowedMessageEventTypes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap())
            .collect();
        assert_eq!(mets, e.message_event_types);
        assert_eq!(j["focusResource"], e.focus);
        assert_eq!(
            j["routingDemographicsRequired"],
            e.routing_demographics_required
        );
        assert_eq!(
            j["deleteRoutingNameDobOptional"].as_bool().unwrap_or(false),
            e.delete_routing_name_dob_optional
        );
        assert_eq!(j["metaLastUpdatedRequired"], e.meta_last_updated_required);
        assert_eq!(j["responsibleInBundle"], e.responsible_in_bundle);
        assert_eq!(
            j["organizationNameRequired"].as_bool().unwrap_or(false),
            e.organization_name_required
        );
        assert_eq!(j["maturity"], e.maturity);
        if let Some(id) = j["publishInteractionId"].as_str() {
            assert_eq!(e.publish_interaction_id().as_deref(), Some(id));
        }
    }
    let other: Vec<&str> = v["otherEventTypeCodes"]["codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap())
        .collect();
    assert_eq!(other, UNSUPPORTED_EVENT_CODES.to_vec());
}

/// Fuzz finding 1 (issue 14): `Patient.age=gé` panicked (`split_at` inside a
/// multi-byte character). Every component with values that put a character
/// boundary at every byte offset must give an error, never a panic.
#[test]
fn finding_1_patient_age_multibyte_is_sub_criteria_value() {
    use ems_match::criteria::rules as r;
    let c = format!("/Bundle?type=message&{NHS}&{EV}&Patient.age=gé");
    let e = Criteria::parse(&c).unwrap_err();
    assert_eq!(
        (e.component.as_str(), e.rule),
        ("Patient.age", r::VALUE),
        "{e}"
    );
    let e = Criteria::parse(&explicit("&Patient.age=gé5")).unwrap_err();
    assert_eq!(
        (e.component.as_str(), e.rule),
        ("Patient.age", r::VALUE),
        "{e}"
    );
    assert!(Criteria::parse("/Bundle?Patient.age=gé").is_err());
    let components = [
        "type",
        "serviceType",
        "Patient.identifier",
        "MessageHeader.event",
        "subscriptionRuleType",
        "Organization.identifier",
        "Patient.age",
        "tag",
        "é",
    ];
    for comp in components {
        for v in [
            "é",
            "gé",
            "lé5",
            "gté",
            "g€5",
            "€",
            "gt5é",
            "𝄞",
            "l𝄞",
            "|é",
            "é|9434765919",
        ] {
            for s in [
                format!("/Bundle?{comp}={v}"),
                explicit(&format!("&{comp}={v}")),
                generic(&format!("&{comp}={v}")),
            ] {
                if let Err(e) = Criteria::parse(&s) {
                    assert!(
                        e.offset <= s.len() && s.is_char_boundary(e.offset),
                        "{s}: {e}"
                    );
                    let _ = e.to_string();
                }
            }
        }
    }
}
