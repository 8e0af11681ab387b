//! The NHS profile layer (issue 13, layer 2) on builder outputs: one named
//! single-defect mutation per profile check kind, each giving exactly that
//! rule at that element and no other error; and every compiled profile
//! with constraints is either claimed by a builder output (so its tables run
//! on every such message) or listed as not applicable with the reason.

use ems_bundle::samples::{all_pairs, sample};
use ems_bundle::*;
use ems_profiles::profiles::PROFILES;
use ems_profiles::{InputKind, Mode, Severity, Validator};
use ems_stu3::*;

fn vaccination() -> Bundle {
    let mut cx = BuildContext::deterministic(example_publisher(), 1);
    sample("vaccinations-1", MessageEventType::New, true, &mut cx)
        .unwrap()
        .bundle
}

/// (rule, location) of every error and warning in Publish mode.
fn findings(b: &Bundle) -> Vec<(String, String)> {
    let xml = to_xml(&Resource::from(b.clone()));
    let v = Validator::new(Mode::Publish).validate_bytes(xml.as_bytes(), InputKind::Event);
    v.outcome
        .issues
        .iter()
        .filter(|i| i.severity <= Severity::Warning)
        .map(|i| (i.rule.to_string(), i.location.clone()))
        .collect()
}

/// The entry index and resource of the first `T`.
fn first<T: ResourceKind>(b: &mut Bundle) -> (usize, &mut T) {
    b.entry
        .iter_mut()
        .enumerate()
        .find_map(|(i, e)| {
            e.resource
                .as_mut()
                .and_then(|r| r.get_mut::<T>())
                .map(|r| (i, r))
        })
        .unwrap()
}

fn at(i: usize, ty: &str, rest: &str) -> String {
    format!("Bundle.entry[{i}].resource.ofType({ty}).{rest}")
}

/// Asserts that `b` gives exactly `rule` at `loc` (and that the unmutated
/// message is clean, so the mutation is the only defect).
fn exactly(b: &Bundle, rule: &str, loc: &str) {
    assert!(
        findings(&vaccination()).is_empty(),
        "the base message is clean"
    );
    assert_eq!(findings(b), vec![(rule.to_string(), loc.to_string())]);
}

fn coding(system: &str, code: &str, display: &str) -> Coding {
    Coding {
        system: Some(Primitive::from(system)),
        code: Some(Primitive::from(code)),
        display: Some(Primitive::from(display)),
        ..Default::default()
    }
}

/// PROFILE-MIN on a nested element: CareConnect-Patient-1 makes
/// `telecom.system` 1..1.
#[test]
fn profile_min_nested_telecom_system() {
    let mut b = vaccination();
    let (i, p) = first::<Patient>(&mut b);
    p.telecom.push(ContactPoint {
        value: Some(Primitive::from("0113 2433144")),
        ..Default::default()
    });
    let k = p.telecom.len() - 1;
    exactly(
        &b,
        "PROFILE-MIN",
        &at(i, "Patient", &format!("telecom[{k}].system")),
    );
}

/// PROFILE-MAX on a nested element: CareConnect-Immunization-1 prohibits
/// `doseQuantity.comparator`.
#[test]
fn profile_max_nested_dose_comparator() {
    let mut b = vaccination();
    let (i, imm) = first::<Immunization>(&mut b);
    imm.dose_quantity = Some(Quantity {
        comparator: Some(Primitive::from("<")),
        unit: Some(Primitive::from("ml")),
        ..Default::default()
    });
    exactly(
        &b,
        "PROFILE-MAX",
        &at(i, "Immunization", "doseQuantity.comparator"),
    );
}

/// PROFILE-SLICE: CareConnect-Patient-1 allows one `name:official` (the
/// names with use = official); a second official name is reported.
#[test]
fn profile_slice_second_official_name() {
    let mut b = vaccination();
    let (i, p) = first::<Patient>(&mut b);
    let official = p.name[0].clone();
    p.name.push(official);
    exactly(&b, "PROFILE-SLICE", &at(i, "Patient", "name"));
}

/// PROFILE-SLICE on the identifier slice: CareConnect-Patient-1 allows one
/// `identifier:nhsNumber` (system https://fhir.nhs.uk/Id/nhs-number); a
/// second NHS number is reported, and its message names the slice's system.
#[test]
fn profile_slice_second_nhs_number() {
    let mut b = vaccination();
    let (i, p) = first::<Patient>(&mut b);
    let nhs = p.identifier[0].clone();
    p.identifier.push(nhs);
    let xml = to_xml(&Resource::from(b.clone()));
    let v = Validator::new(Mode::Publish).validate_bytes(xml.as_bytes(), InputKind::Event);
    let slice: Vec<_> = v.outcome.with_rule("PROFILE-SLICE").collect();
    assert_eq!(slice.len(), 1, "{:?}", v.outcome.issues);
    assert_eq!(slice[0].location, at(i, "Patient", "identifier"));
    assert!(
        slice[0].message.contains("identifier:nhsNumber")
            && slice[0]
                .message
                .contains("https://fhir.nhs.uk/Id/nhs-number"),
        "{}",
        slice[0].message
    );
}

/// PROFILE-FIXED: an Immunization that claims CareConnect-DCH-Immunization-1
/// (as well as CareConnect-Immunization-1) must code its route in SNOMED CT
/// (`route.coding.system` fixed `http://snomed.info/sct`). The DCH profile
/// differs from the NEMS page in other points (that is why NEMS messages do
/// not claim it), so the mutation is judged by the findings it adds.
#[test]
fn profile_fixed_route_system() {
    const DCH: &str = "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-DCH-Immunization-1";
    let mut b = vaccination();
    let (_, imm) = first::<Immunization>(&mut b);
    imm.meta
        .get_or_insert_with(Default::default)
        .profile
        .push(Primitive::from(DCH));
    let before = findings(&b);
    let (i, imm) = first::<Immunization>(&mut b);
    imm.route = Some(CodeableConcept {
        coding: vec![coding("http://example.org/route", "IM", "Intramuscular")],
        ..Default::default()
    });
    let added: Vec<_> = findings(&b)
        .into_iter()
        .filter(|f| !before.contains(f))
        .collect();
    let want = at(i, "Immunization", "route.coding[0].system");
    assert_eq!(added, vec![("PROFILE-FIXED".to_string(), want)]);
}

/// PROFILE-BINDING: CareConnect-Patient-1 binds `maritalStatus` (required)
/// to CareConnect-MaritalStatus-1; a v3 MaritalStatus code outside it is
/// reported at the element.
#[test]
fn profile_binding_marital_status() {
    let mut b = vaccination();
    let (i, p) = first::<Patient>(&mut b);
    p.marital_status = Some(CodeableConcept {
        coding: vec![coding(
            "http://hl7.org/fhir/v3/MaritalStatus",
            "Z",
            "Unknown code",
        )],
        ..Default::default()
    });
    exactly(&b, "PROFILE-BINDING", &at(i, "Patient", "maritalStatus"));
    // a code of the value set is fine
    let (_, p) = first::<Patient>(&mut b);
    p.marital_status = Some(CodeableConcept {
        coding: vec![coding(
            "http://hl7.org/fhir/v3/MaritalStatus",
            "M",
            "Married",
        )],
        ..Default::default()
    });
    assert!(findings(&b).is_empty(), "{:?}", findings(&b));
}

/// PROFILE-TARGET: CareConnect-Patient-1's `managingOrganization` targets
/// CareConnect-Organization-1; pointing it at the in-bundle
/// Immunization is reported at the reference.
#[test]
fn profile_target_managing_organization() {
    let mut b = vaccination();
    let hs = b
        .entry
        .iter()
        .find(|e| matches!(e.resource, Some(Resource::Immunization(_))))
        .and_then(|e| e.full_url.str_value().map(str::to_string))
        .unwrap();
    let (i, p) = first::<Patient>(&mut b);
    p.managing_organization = Some(Reference {
        reference: Some(Primitive::from(hs.as_str())),
        ..Default::default()
    });
    exactly(
        &b,
        "PROFILE-TARGET",
        &at(i, "Patient", "managingOrganization.reference"),
    );
}

/// The profile findings are warnings in Receive mode (a receiver does not
/// reject a message over a profile detail).
#[test]
fn profile_findings_are_warnings_when_receiving() {
    let mut b = vaccination();
    let (_, p) = first::<Patient>(&mut b);
    let official = p.name[0].clone();
    p.name.push(official);
    let xml = to_xml(&Resource::from(b));
    let v = Validator::new(Mode::Receive).validate_bytes(xml.as_bytes(), InputKind::Event);
    let slice: Vec<_> = v.outcome.with_rule("PROFILE-SLICE").collect();
    assert_eq!(slice.len(), 1);
    assert_eq!(slice[0].severity, Severity::Warning);
}

/// Profiles the builders do not claim, and why their constraints are not
/// exercised by builder outputs.
const NOT_APPLICABLE: &[(&str, &str)] = &[
    ("https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-DCH-", "Digital Child Health profiles: reference material for codes and bindings; NEMS messages claim the plain CareConnect profiles (fhir-assets README); PROFILE-FIXED is exercised on CareConnect-DCH-Immunization-1 by profile_fixed_route_system"),
    ("https://fhir.nhs.uk/STU3/StructureDefinition/DCH-", "Digital Child Health profiles (as above)"),
    ("https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-EMS-", "EMS-specific PDS profiles: not claimed by the NEMS pages' messages (they name CareConnect-Patient-1, CareConnect-Observation-1, CareConnect-Organization-1)"),
    ("https://fhir.nhs.uk/STU3/StructureDefinition/EMS-", "pre-2.0.0 EMS model (EMS-Bundle-1, EMS-MessageHeader-1, ...) and EMS tasks: not used by current event messages; EMS-Subscription-1 is checked by the subscription rules (SUB-*)"),
    ("https://fhir.nhs.uk/STU3/StructureDefinition/ODSAPI-Organization-1", "ODS API response profile, not an event-message resource"),
    ("https://fhir.nhs.uk/STU3/StructureDefinition/Spine-OperationOutcome-1", "OperationOutcome profile: checked by the OO-* rules"),
    ("https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Location-1", "no builder output holds a Location"),
    ("https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-CareTeam-1", "the builders' CareTeam, HealthcareService and PractitionerRole claim no profile (the pages do not require one); corpus messages that claim them are checked by crates/ems-profiles/tests/corpus.rs"),
    ("https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-HealthcareService-1", "as CareConnect-CareTeam-1"),
    ("https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-PractitionerRole-1", "as CareConnect-CareTeam-1"),
];

/// Every compiled profile with constraints is claimed by some builder
/// output (and that output is clean, so the profile's checks ran and
/// passed) or listed in NOT_APPLICABLE.
#[test]
fn every_profile_with_constraints_is_exercised_or_not_applicable() {
    let mut claimed = std::collections::BTreeSet::new();
    for (event, met) in all_pairs() {
        for full in [false, true] {
            let mut cx = BuildContext::deterministic(example_publisher(), 1);
            let msg = sample(event, met, full, &mut cx).unwrap();
            for e in &msg.bundle.entry {
                if let Some(m) = e.resource.as_ref().and_then(|r| r.meta()) {
                    for p in &m.profile {
                        claimed.extend(p.value.as_deref().map(str::to_string));
                    }
                }
            }
        }
    }
    let mut unexplained = Vec::new();
    let (mut exercised, mut listed) = (0, 0);
    for p in PROFILES.iter().filter(|p| !p.cons.is_empty()) {
        if claimed.contains(p.url) {
            exercised += 1;
        } else if NOT_APPLICABLE
            .iter()
            .any(|(prefix, _)| p.url.starts_with(prefix))
        {
            listed += 1;
        } else {
            unexplained.push(p.url);
        }
    }
    println!("profiles with constraints: {exercised} claimed by builder outputs, {listed} not applicable");
    assert!(
        unexplained.is_empty(),
        "neither claimed nor listed: {unexplained:#?}"
    );
    assert!(
        exercised >= 10,
        "the CareConnect profiles are claimed: {claimed:?}"
    );
}

/// The page wins: 10.1 makes the mother's `name` (official) 0..1, so
/// CareConnect-Patient-1's `name:official` 1..1 is not applied to the
/// birth notification without the mother's details (its mother Patient
/// has no name at all).
#[test]
fn profile_minimum_relaxed_by_the_page_is_not_applied() {
    let mut cx = BuildContext::deterministic(example_publisher(), 1);
    let b = sample(
        "pds-birth-notification-1",
        MessageEventType::New,
        false,
        &mut cx,
    )
    .unwrap()
    .bundle;
    let nameless = b
        .entry
        .iter()
        .any(|e| matches!(&e.resource, Some(Resource::Patient(p)) if p.name.is_empty()));
    assert!(nameless, "the mother Patient carries no name");
    assert!(findings(&b).is_empty(), "{:?}", findings(&b));
    // without the page's statement CareConnect-Patient-1 would report
    // PROFILE-SLICE at the mother's `name` here (1..1 `name:official`)
}
