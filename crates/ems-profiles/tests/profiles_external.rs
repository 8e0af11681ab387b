//! The NHS profile layer on real systems' messages
//! (`../shared/corpus/nems-external`): a receiver accepts them (profile
//! findings are warnings in Receive mode), and in Publish mode the profile
//! layer reports exactly the two real defects it finds there (neither is in
//! the corpus README, both break STU3's own reference types as well):
//!
//! * `FHIR_MESH--NEMSBloodSpot.xml`: `Encounter.serviceProvider` points at
//!   a HealthcareService (CareConnect-Encounter-1, and STU3, require an
//!   Organization);
//! * `FHIR_MESH--NEMSNewbornHearing.xml`: `PractitionerRole.organization`
//!   points at a Location (CareConnect-PractitionerRole-1 requires a
//!   CareConnect-Organization-1).

use ems_profiles::{InputKind, Mode, Validator};

fn profile_findings(mode: Mode) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    let dir = "corpus/nems-external";
    for p in ems_testdata::files(dir, "xml")
        .into_iter()
        .chain(ems_testdata::files(dir, "json"))
    {
        let b = std::fs::read(&p).unwrap();
        let v = Validator::new(mode).validate_bytes(&b, InputKind::Auto);
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        for i in v
            .outcome
            .issues
            .iter()
            .filter(|i| i.rule.starts_with("PROFILE-"))
        {
            out.push((
                name.clone(),
                i.rule.to_string(),
                format!("{:?} {}", i.severity, i.location),
            ));
        }
    }
    out
}

#[test]
fn external_messages_profile_findings() {
    let publish = profile_findings(Mode::Publish);
    assert_eq!(
        publish,
        vec![
            (
                "FHIR_MESH--NEMSBloodSpot.xml".into(),
                "PROFILE-TARGET".into(),
                "Error Bundle.entry[14].resource.ofType(Encounter).serviceProvider.reference"
                    .into()
            ),
            (
                "FHIR_MESH--NEMSNewbornHearing.xml".into(),
                "PROFILE-TARGET".into(),
                "Error Bundle.entry[11].resource.ofType(PractitionerRole).organization.reference"
                    .into()
            ),
        ]
    );
    // a receiver is not stopped by a profile detail
    let receive = profile_findings(Mode::Receive);
    assert_eq!(receive.len(), 2);
    assert!(
        receive.iter().all(|(_, _, s)| s.starts_with("Warning ")),
        "{receive:?}"
    );
}
