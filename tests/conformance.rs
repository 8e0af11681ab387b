//! Cross-crate conformance: hand-built (builder-made) valid messages for the
//! ten events, and single-defect mutations of them that must each produce
//! exactly the expected rule — no other error.

use ems::bundle::samples::sample;
use ems::bundle::{example_publisher, BuildContext, MessageEventType};
use ems::profiles::{Kind, Mode, Validator};
use ems::stu3::*;

fn valid(event: &str, met: MessageEventType) -> Bundle {
    let mut cx = BuildContext::deterministic(example_publisher(), 5);
    sample(event, met, true, &mut cx).unwrap().bundle
}

fn errors_of_xml(xml: &str) -> Vec<&'static str> {
    let v = Validator::new(Mode::Publish).validate_bytes(xml.as_bytes(), Kind::Event);
    let mut r: Vec<&'static str> = v
        .outcome
        .issues
        .iter()
        .filter(|i| i.severity.is_error())
        .map(|i| i.rule)
        .collect();
    r.sort();
    r.dedup();
    r
}

fn errors(b: Bundle) -> Vec<&'static str> {
    errors_of_xml(&to_xml(&Resource::from(b)))
}

fn mh(b: &mut Bundle) -> &mut MessageHeader {
    b.entry[0]
        .resource
        .as_mut()
        .and_then(|r| r.get_mut::<MessageHeader>())
        .unwrap()
}

fn first<T: ResourceKind>(b: &mut Bundle) -> &mut T {
    b.entry
        .iter_mut()
        .find_map(|e| e.resource.as_mut().and_then(|r| r.get_mut::<T>()))
        .unwrap()
}

fn routing<'a>(b: &'a mut Bundle, part: &str) -> &'a mut Extension {
    let rd = mh(b)
        .extension
        .iter_mut()
        .find(|e| {
            e.url
                .as_deref()
                .is_some_and(|u| u.ends_with("RoutingDemographics-1"))
        })
        .unwrap();
    rd.extension
        .iter_mut()
        .find(|e| e.url.as_deref() == Some(part))
        .unwrap()
}

type Mutation = (
    &'static str,
    MessageEventType,
    &'static str,
    fn(&mut Bundle),
);

#[test]
fn valid_messages_have_no_findings() {
    use ems::bundle::samples::all_pairs;
    for (e, m) in all_pairs() {
        let v = Validator::new(Mode::Publish)
            .validate_resource(&Resource::from(valid(e, m)), Kind::Event);
        assert!(
            v.issues
                .iter()
                .all(|i| i.severity > ems::stu3::Severity::Warning),
            "{e} {m:?}: {v}"
        );
    }
}

#[test]
fn single_defect_mutations_give_exactly_the_expected_rule() {
    use MessageEventType::*;
    let cases: &[Mutation] = &[
        ("vaccinations-1", New, "BUNDLE-TYPE", |b| {
            b.type_ = Some(Primitive::from("collection"))
        }),
        ("vaccinations-1", New, "MH-FIRST", |b| {
            b.entry.rotate_left(1)
        }),
        ("vaccinations-1", New, "FULLURL-FORMAT", |b| {
            let u = b.entry[1].full_url.as_ref().unwrap().value.clone().unwrap();
            b.entry[1].full_url = Some(Primitive::new(
                u.trim_start_matches("urn:uuid:").to_string(),
            ));
        }),
        ("vaccinations-1", New, "FULLURL-UNIQUE", |b| {
            let dup = b.entry[2].clone();
            b.entry.push(dup);
        }),
        ("vaccinations-1", New, "MH-ID", |b| mh(b).id = None),
        ("vaccinations-1", New, "MH-SOURCE-NAME", |b| {
            mh(b).source.as_mut().unwrap().name = None
        }),
        ("vaccinations-1", New, "MH-SOURCE-CONTACT", |b| {
            mh(b)
                .source
                .as_mut()
                .unwrap()
                .contact
                .as_mut()
                .unwrap()
                .value = Some(Primitive::from("0113 2433144"))
        }),
        ("vaccinations-1", New, "MH-SOURCE-ENDPOINT", |b| {
            mh(b).source.as_mut().unwrap().endpoint = None
        }),
        ("vaccinations-1", New, "MH-LASTUPDATED", |b| {
            mh(b).meta.as_mut().unwrap().last_updated = None
        }),
        ("vaccinations-1", New, "MH-SEQ", |b| {
            mh(b).meta.as_mut().unwrap().version_id = Some(Primitive::from("first"))
        }),
        ("vaccinations-1", New, "MH-EVENT-DISPLAY", |b| {
            mh(b).event.as_mut().unwrap().display = Some(Primitive::from("Vaccination"))
        }),
        ("vaccinations-1", New, "MH-EVENT-CODE", |b| {
            mh(b).event.as_mut().unwrap().code = Some(Primitive::from("referral-1"))
        }),
        ("vaccinations-1", New, "MH-EVENT-SYSTEM", |b| {
            mh(b).event.as_mut().unwrap().system =
                Some(Primitive::from("http://hl7.org/fhir/message-events"))
        }),
        ("vaccinations-1", New, "MH-RESPONSIBLE", |b| {
            mh(b).responsible = None
        }),
        ("vaccinations-1", New, "MH-PROHIBITED", |b| {
            mh(b).reason = Some(CodeableConcept {
                text: Some(Primitive::from("x")),
                ..Default::default()
            })
        }),
        ("vaccinations-1", New, "MH-FOCUS", |b| {
            mh(b).focus[0].reference = Some(Primitive::from(
                "urn:uuid:00000000-0000-4000-8000-000000000000",
            ))
        }),
        ("vaccinations-1", New, "MH-FOCUS-TYPE", |b| {
            let org = b.entry[1].full_url.clone();
            mh(b).focus[0].reference = org;
        }),
        ("vaccinations-1", New, "MH-ROUTING-MISMATCH", |b| {
            routing(b, "birthDateTime").value =
                Some(ExtensionValue::DateTime(Primitive::from("2001-01-01")))
        }),
        ("vaccinations-1", New, "MH-ROUTING-MISMATCH", |b| {
            routing(b, "nhsNumber").value = Some(ExtensionValue::Identifier(Box::new(Identifier {
                system: Some(Primitive::from("https://fhir.nhs.uk/Id/nhs-number")),
                value: Some(Primitive::from("9912003888")),
                ..Default::default()
            })))
        }),
        ("vaccinations-1", New, "MH-ROUTING", |b| {
            let rd = mh(b)
                .extension
                .iter_mut()
                .find(|e| {
                    e.url
                        .as_deref()
                        .is_some_and(|u| u.ends_with("RoutingDemographics-1"))
                })
                .unwrap();
            rd.extension.retain(|e| e.url.as_deref() != Some("name"));
        }),
        ("vaccinations-1", New, "MH-ROUTING-NHSNUMBER", |b| {
            mh(b).extension.retain(|e| {
                !e.url
                    .as_deref()
                    .is_some_and(|u| u.ends_with("RoutingDemographics-1"))
            })
        }),
        ("blood-spot-test-outcome-1", New, "MH-MSGEVENTTYPE", |b| {
            let x = mh(b)
                .extension
                .iter_mut()
                .find(|e| {
                    e.url
                        .as_deref()
                        .is_some_and(|u| u.ends_with("MessageEventType-1"))
                })
                .unwrap();
            if let Some(ExtensionValue::CodeableConcept(cc)) = &mut x.value {
                cc.coding[0].code = Some(Primitive::from("update"));
                cc.coding[0].display = Some(Primitive::from("Update event message"));
            }
        }),
        ("vaccinations-1", New, "NHS-NUMBER-CHECKDIGIT", |b| {
            let bad = Primitive::from("9434765918");
            first::<Patient>(b).identifier[0].value = Some(bad.clone());
            routing(b, "nhsNumber").value =
                Some(ExtensionValue::Identifier(Box::new(Identifier {
                    system: Some(Primitive::from("https://fhir.nhs.uk/Id/nhs-number")),
                    value: Some(bad),
                    ..Default::default()
                })));
        }),
        ("vaccinations-1", New, "PATIENT-BIRTHDATE", |b| {
            first::<Patient>(b).birth_date = None
        }),
        ("vaccinations-1", New, "PATIENT-NHSNUMBER", |b| {
            first::<Patient>(b).identifier.clear()
        }),
        ("vaccinations-1", New, "PROFILE-PATIENT", |b| {
            first::<Patient>(b).identifier[0].extension.clear()
        }),
        ("vaccinations-1", New, "CODING-SYSTEM", |b| {
            if let Some(ExtensionValue::CodeableConcept(cc)) =
                &mut first::<Patient>(b).identifier[0].extension[0].value
            {
                cc.coding[0].system = Some(Primitive::from(
                    "https://fhir.hl7.org.uk/STU3/CareConnect-NHSNumberVerificationStatus-1",
                ));
            }
        }),
        ("vaccinations-1", New, "CODE-INVALID", |b| {
            if let Some(ExtensionValue::CodeableConcept(cc)) =
                &mut first::<Patient>(b).identifier[0].extension[0].value
            {
                cc.coding[0].code = Some(Primitive::from("99"));
            }
        }),
        ("vaccinations-1", New, "CODE-INVALID", |b| {
            first::<Patient>(b).gender = Some(Primitive::from("F"))
        }),
        ("vaccinations-1", New, "ORG-ODS", |b| {
            first::<Organization>(b).identifier.clear()
        }),
        ("vaccinations-1", New, "ORG-NAME", |b| {
            first::<Organization>(b).name = None
        }),
        ("vaccinations-1", New, "VACC-IMMUNIZATION", |b| {
            first::<Immunization>(b).primary_source = None
        }),
        ("vaccinations-1", New, "DATETIME-FORMAT", |b| {
            mh(b).timestamp = Some(Primitive::from("2024-06-01T12:00:00"))
        }),
        ("professional-contacts-1", Update, "PC-ORG-TELECOM", |b| {
            first::<Organization>(b).telecom.clear()
        }),
        ("professional-contacts-1", New, "PC-EOC", |b| {
            first::<EpisodeOfCare>(b).identifier.clear()
        }),
        ("newborn-hearing-1", New, "SCREENING-ENCOUNTER", |b| {
            first::<Encounter>(b).period = None
        }),
        ("nipe-outcome-1", Delete, "SCREENING-ENCOUNTER", |b| {
            first::<Encounter>(b).identifier.clear()
        }),
        ("pds-change-of-address-1", New, "COA-ADDRESS-TEXT", |b| {
            first::<Patient>(b).address[1].text = None
        }),
        ("pds-change-of-address-1", New, "COA-ADDRESS", |b| {
            first::<Patient>(b).address[0].city = Some(Primitive::from("YORK"))
        }),
        ("pds-change-of-address-1", New, "PDS-SCN", |b| {
            first::<Patient>(b).meta.as_mut().unwrap().version_id = None
        }),
        (
            "pds-change-of-address-1",
            New,
            "MH-RESPONSIBLE-INBUNDLE",
            |b| {
                mh(b).responsible.as_mut().unwrap().reference = Some(Primitive::from(
                    "https://directory.spineservices.nhs.uk/STU3/Organization/X26",
                ))
            },
        ),
        ("pds-change-of-address-1", New, "COMM-STATUS", |b| {
            first::<Communication>(b).status = Some(Primitive::from("in-progress"))
        }),
        ("pds-change-of-gp-1", New, "COGP-ORG-PARTOF", |b| {
            let practice = b
                .entry
                .iter_mut()
                .filter_map(|e| {
                    e.resource
                        .as_mut()
                        .and_then(|r| r.get_mut::<Organization>())
                })
                .find(|o| o.part_of.is_some())
                .unwrap();
            practice.part_of = None;
        }),
        ("pds-change-of-gp-1", New, "COGP-EOC", |b| {
            first::<EpisodeOfCare>(b).status = Some(Primitive::from("active"))
        }),
        ("pds-death-notification-1", New, "DEATH-DECEASED", |b| {
            first::<Patient>(b).deceased = None
        }),
        ("pds-death-notification-1", New, "DEATH-STATUS", |b| {
            first::<Patient>(b).extension.clear()
        }),
        ("pds-death-notification-1", New, "PDS-ORG-COUNT", |b| {
            for _ in 0..2 {
                let mut org = b
                    .entry
                    .iter()
                    .find(|e| matches!(e.resource, Some(Resource::Organization(_))))
                    .unwrap()
                    .clone();
                let id = format!("00000000-0000-4000-8000-00000000000{}", b.entry.len());
                org.full_url = Some(Primitive::new(format!("urn:uuid:{id}")));
                if let Some(Resource::Organization(o)) = &mut org.resource {
                    o.id = Some(Primitive::new(id));
                }
                b.entry.push(org);
            }
        }),
        ("pds-birth-notification-1", New, "BN-RELATIONSHIP", |b| {
            first::<RelatedPerson>(b)
                .relationship
                .as_mut()
                .unwrap()
                .coding[0]
                .code = Some(Primitive::from("MTH"))
        }),
        ("pds-birth-notification-1", New, "BN-OBSERVATION", |b| {
            let o = b
                .entry
                .iter_mut()
                .filter_map(|e| e.resource.as_mut().and_then(|r| r.get_mut::<Observation>()))
                .nth(1)
                .unwrap();
            o.category.clear();
        }),
        (
            "pds-birth-notification-1",
            New,
            "BN-REGISTERING-AUTHORITY",
            |b| {
                b.entry
                    .retain(|e| !matches!(e.resource, Some(Resource::EpisodeOfCare(_))))
            },
        ),
        ("pds-birth-notification-1", New, "BN-BABY", |b| {
            let baby = b
                .entry
                .iter_mut()
                .filter_map(|e| e.resource.as_mut().and_then(|r| r.get_mut::<Patient>()))
                .next()
                .unwrap();
            baby.multiple_birth = None;
        }),
    ];
    for (event, met, rule, mutate) in cases {
        let mut b = valid(event, *met);
        mutate(&mut b);
        assert_eq!(
            errors(b),
            vec![*rule],
            "{event} {met:?}: mutation for {rule}"
        );
    }
}

#[test]
fn wire_level_mutations() {
    let b = valid("pds-death-notification-1", MessageEventType::New);
    let xml = to_xml(&Resource::from(b));
    // write Communication.sender before sent (the spec examples' defect)
    let start = xml.find("<sent ").unwrap();
    let end = xml[start..].find("/>").unwrap() + start + 2;
    let sent = xml[start..end].to_string();
    let s_start = xml.find("<sender>").unwrap();
    let s_end = xml.find("</sender>").unwrap() + "</sender>".len();
    let sender = xml[s_start..s_end].to_string();
    let swapped = xml.replacen(&format!("{sent}{sender}"), &format!("{sender}{sent}"), 1);
    assert_ne!(swapped, xml);
    assert_eq!(errors_of_xml(&swapped), vec!["SCHEMA-ORDER"]);
    // unknown element
    let unknown = xml.replacen(
        "<status value=\"completed\"/>",
        "<status value=\"completed\"/><colour value=\"red\"/>",
        1,
    );
    assert_eq!(errors_of_xml(&unknown), vec!["SCHEMA-UNKNOWN"]);
}

fn findings(b: Bundle) -> Vec<(&'static str, ems::stu3::Severity)> {
    let v = Validator::new(Mode::Publish).validate_resource(&Resource::from(b), Kind::Event);
    let mut r: Vec<_> = v.issues.iter().map(|i| (i.rule, i.severity)).collect();
    r.sort();
    r.dedup();
    r
}

/// SHOULD-level defects: exactly one warning, no error.
#[test]
fn single_defect_mutations_giving_warnings() {
    use ems::stu3::Severity::{Information, Warning};
    use MessageEventType::*;
    let cases: &[Mutation] = &[
        ("vaccinations-1", New, "REF-UNRESOLVED", |b| {
            first::<Immunization>(b).location = Some(Reference {
                reference: Some(Primitive::from(
                    "urn:uuid:00000000-0000-4000-8000-000000000001",
                )),
                ..Default::default()
            })
        }),
        ("vaccinations-1", New, "MH-PROFILE", |b| {
            mh(b).meta.as_mut().unwrap().profile.clear()
        }),
        ("vaccinations-1", New, "CONTACTPOINT-VALUE", |b| {
            first::<Organization>(b).telecom[0].value = Some(Primitive::from("call the ward"))
        }),
        ("vaccinations-1", New, "PATIENT-BIRTHTIME", |b| {
            let p = first::<Patient>(b);
            p.birth_date
                .as_mut()
                .unwrap()
                .extension_mut()
                .push(Extension::new(
                    "http://hl7.org/fhir/StructureDefinition/patient-birthTime",
                    ExtensionValue::DateTime(Primitive::from("2020-01-01T10:00:00Z")),
                ));
        }),
        ("vaccinations-1", New, "CODING-NO-SYSTEM", |b| {
            first::<Immunization>(b)
                .vaccine_code
                .as_mut()
                .unwrap()
                .coding[0]
                .system = None
        }),
        ("vaccinations-1", New, "CODE-DISPLAY", |b| {
            if let Some(ExtensionValue::CodeableConcept(cc)) =
                &mut first::<Patient>(b).identifier[0].extension[0].value
            {
                cc.coding[0].display = Some(Primitive::from("Verified"));
            }
        }),
        ("vaccinations-1", New, "VACC-VACCINECODE", |b| {
            first::<Immunization>(b)
                .vaccine_code
                .as_mut()
                .unwrap()
                .coding[0] = Coding {
                system: Some(Primitive::from("http://hl7.org/fhir/v3/NullFlavor")),
                code: Some(Primitive::from("NA")),
                display: Some(Primitive::from("not applicable")),
                ..Default::default()
            }
        }),
    ];
    for (event, met, rule, mutate) in cases {
        let mut b = valid(event, *met);
        mutate(&mut b);
        let f: Vec<_> = findings(b)
            .into_iter()
            .filter(|(_, s)| *s != Information)
            .collect();
        assert_eq!(
            f,
            vec![(*rule, Warning)],
            "{event} {met:?}: mutation for {rule}"
        );
    }
}

/// Errors that need a coordinated change (the same defect in two places).
#[test]
fn mutations_with_related_findings() {
    use MessageEventType::*;
    // a placeholder NHS number passes the check digit: warning at both places
    let mut b = valid("vaccinations-1", New);
    let placeholder = Primitive::from("9999999999");
    first::<Patient>(&mut b).identifier[0].value = Some(placeholder.clone());
    routing(&mut b, "nhsNumber").value = Some(ExtensionValue::Identifier(Box::new(Identifier {
        system: Some(Primitive::from("https://fhir.nhs.uk/Id/nhs-number")),
        value: Some(placeholder),
        ..Default::default()
    })));
    assert_eq!(
        findings(b),
        vec![("NHS-NUMBER-PLACEHOLDER", ems::stu3::Severity::Warning)]
    );
    // no official name: PATIENT-NAME (the routing name cannot be compared)
    let mut b = valid("vaccinations-1", New);
    first::<Patient>(&mut b).name[0].use_ = Some(Primitive::from("usual"));
    assert_eq!(errors(b), vec!["PATIENT-NAME"]);
    // no timestamp
    let mut b = valid("vaccinations-1", New);
    mh(&mut b).timestamp = None;
    assert_eq!(errors(b), vec!["MH-TIMESTAMP"]);
    // a screening delete may omit the Patient; a new message may not
    assert!(errors(valid("blood-spot-test-outcome-1", Delete)).is_empty());
    let mut routing_only = valid("blood-spot-test-outcome-1", New);
    routing_only
        .entry
        .retain(|e| !matches!(e.resource, Some(Resource::Patient(_))));
    let errs = errors(routing_only);
    assert!(errs.contains(&"PATIENT-SUBJECT"), "{errs:?}");
    // sent before the change happened: information only
    let mut b = valid("vaccinations-1", New);
    mh(&mut b).timestamp = Some(Primitive::from("2020-01-01T00:00:00+00:00"));
    assert_eq!(
        findings(b),
        vec![("INFO-TIMESTAMP", ems::stu3::Severity::Information)]
    );
}

/// Regression (issue 13): `ems example pds-change-of-gp-1` emitted the
/// publisher Organization without `partOf`, which 10.3 requires of every
/// Organization, and the validator only looked at the practices.
#[test]
fn change_of_gp_every_organization_needs_part_of() {
    use MessageEventType::New;
    let b = valid("pds-change-of-gp-1", New);
    let orgs: Vec<&Organization> = b
        .entry
        .iter()
        .filter_map(|e| e.resource.as_ref().and_then(|r| r.get::<Organization>()))
        .collect();
    assert!(!orgs.is_empty());
    assert!(orgs.iter().all(|o| o.part_of.is_some()));
    assert!(errors(b.clone()).is_empty());
    // an in-bundle Organization that is not a practice (the sender) without partOf
    let mut m = b;
    let mut sender = m
        .entry
        .iter()
        .find_map(|e| e.resource.as_ref().and_then(|r| r.get::<Organization>()))
        .unwrap()
        .clone();
    sender.part_of = None;
    let id = "0f6c9c4e-0a47-4f43-9b0e-2f3c4f5a6b7c";
    sender.id = Some(Primitive::from(id));
    m.entry.push(BundleEntry {
        full_url: Some(Primitive::from(format!("urn:uuid:{id}"))),
        resource: Some(Resource::from(sender)),
        ..Default::default()
    });
    first::<Communication>(&mut m).sender = Some(Reference {
        reference: Some(Primitive::from(format!("urn:uuid:{id}"))),
        ..Default::default()
    });
    assert_eq!(errors(m), vec!["COGP-ORG-PARTOF"]);
}
