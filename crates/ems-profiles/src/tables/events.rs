//! Section 10 of the digest, transcribed row by row: one table per event.
//! Each row id is `<section>/<role>/<element>` (`card`, `card-new`,
//! `card-delete` for a role's cardinality in the bundle).
//!
//! Rows that only restate STU3's own minimum (Procedure.subject,
//! Provenance.recorded, ...) carry rule `SCHEMA-MIN`: the base layer reports
//! the missing element and the row checks only a narrower maximum. Rows
//! with a NEMS rule report it themselves; the base layer then drops its
//! own finding at the same element.

use super::Check::{Card, CardEach, Count, Fixed, Logic, OneOf, System, Target, Value};
use super::Met::{Any, Delete, New, NotDelete};
use super::{Check, Met, Role, Row, Sel, Table, To};
use crate::rules::id as R;
use ems_nhs::vocab;

const SCT: &str = vocab::SNOMED_CT;
const LOINC: &str = vocab::LOINC;
const ENCOUNTER_TYPE: &str = vocab::CHILD_HEALTH_ENCOUNTER_TYPE_SYSTEM;
const COMMENT_TYPE: &str = vocab::PROFESSIONAL_COMMENT_TYPE_SYSTEM;
const HS_TYPE: &str = vocab::HEALTHCARE_SERVICE_TYPE_SYSTEM;
const BIRTH_TIME: &str = concat!("birthDate.extension(", ems_nhs::extension_url!(BIRTH_TIME_EXTENSION), ")");
const ETHNIC: &str = concat!("extension(", ems_nhs::extension_url!(ETHNIC_CATEGORY_EXTENSION), ")");
const DEATH_EXT: &str = concat!("extension(", ems_nhs::extension_url!(DEATH_NOTIFICATION_STATUS_EXTENSION), ")");
const VACC_PROC: &str = concat!("extension(", ems_nhs::extension_url!(VACCINATION_PROCEDURE_EXTENSION), ")");

/// A fixed coding: (system, code, display).
type Coding3 = (&'static str, &'static str, &'static str);
/// A static string.
type S = &'static str;

const fn count(id: S, role: S, met: Met, min: u32, max: Option<u32>, text: S) -> Row {
    Row::new(id, role, met, Count { min, max }, text)
}
const fn card(id: S, role: S, met: Met, path: S, min: u32, max: Option<u32>, text: S) -> Row {
    Row::new(id, role, met, Card { path, min, max }, text)
}
const fn fixed(id: S, role: S, met: Met, path: S, (system, code, display): Coding3, text: S) -> Row {
    Row::new(id, role, met, Fixed { path, system: Some(system), code, display: Some(display) }, text)
}
const fn target(id: S, role: S, met: Met, path: S, to: To, text: S) -> Row {
    Row::new(id, role, met, Target { path, to }, text)
}
const fn value(id: S, role: S, met: Met, path: S, v: S, text: S) -> Row {
    Row::new(id, role, met, Value { path, value: v }, text)
}
const fn system(id: S, role: S, met: Met, path: S, s: S, text: S) -> Row {
    Row::new(id, role, met, System { path, system: s }, text)
}
const fn logic(id: S, role: S, rule: crate::RuleId, code: S, test: S, text: S) -> Row {
    Row::new(id, role, Any, Logic { code, test }, text).rule(rule)
}
const fn check(c: Check) -> Check {
    c
}

const ORG: &[&str] = &["Organization"];
const PAT: &[&str] = &["Patient"];
const PRAC: &[&str] = &["Practitioner"];
const ENC: &[&str] = &["Encounter"];
const LOC: &[&str] = &["Location"];
const ONE: Option<u32> = Some(1);
const MANY: Option<u32> = None;
const MUT: &str = "tests/conformance.rs single_defect_mutations_give_exactly_the_expected_rule";
const PATIENTS: &str = "event/resources.rs patients";

macro_rules! role {
    ($name:literal, $ty:literal) => {
        Role {
            name: $name,
            ty: $ty,
            sel: Sel::All,
        }
    };
    ($name:literal, $ty:literal, $sel:expr) => {
        Role {
            name: $name,
            ty: $ty,
            sel: $sel,
        }
    };
}

const fn coded(path: &'static str, codes: &'static [&'static str]) -> Sel {
    Sel::Coded { path, codes }
}
const fn ref_by(role: &'static str, path: &'static str) -> Sel {
    Sel::RefBy { role, path }
}

/// The PDS Communication focus (10.1-10.4).
macro_rules! pds_communication {
    ($s:literal) => {
        [
            count(concat!($s, "/Communication/card"), "Communication", Any, 1, ONE, "Communication 1..1 (the focus)").critical(),
            value(concat!($s, "/Communication/status"), "Communication", Any, "status", "completed", "`status` = `completed`").rule(R::COMM_STATUS),
            card(concat!($s, "/Communication/subject"), "Communication", Any, "subject", 1, ONE, "`subject` 1..1 → Patient").rule(R::COMM_STATUS).critical(),
            target(concat!($s, "/Communication/subject.target"), "Communication", Any, "subject", To::Types(PAT), "`subject` → Patient"),
            card(concat!($s, "/Communication/sender"), "Communication", Any, "sender", 0, ONE, "`sender` 0..1 → sending Organization"),
            target(concat!($s, "/Communication/sender.target"), "Communication", Any, "sender", To::Types(ORG), "`sender` → Organization"),
        ]
    };
}

/// The PDS HealthcareService (10.1-10.4).
macro_rules! pds_service {
    ($s:literal) => {
        [
            count(concat!($s, "/HealthcareService/card"), "HealthcareService", Any, 0, ONE, "HealthcareService 0..1"),
            card(concat!($s, "/HealthcareService/providedBy"), "HealthcareService", Any, "providedBy", 1, ONE, "`providedBy` 1..1 → sender Organization").rule(R::HS_SPECIALTY),
            target(concat!($s, "/HealthcareService/providedBy.target"), "HealthcareService", Any, "providedBy", To::Types(ORG), "`providedBy` → Organization"),
            card(concat!($s, "/HealthcareService/type"), "HealthcareService", Any, "type", 1, ONE, "`type` 1..1").rule(R::HS_SPECIALTY),
            fixed(concat!($s, "/HealthcareService/type.code"), "HealthcareService", Any, "type", (HS_TYPE, "PDS", "Personal Demographics Service"), "`type` = EMS-HealthcareServiceType-1 `PDS` \"Personal Demographics Service\""),
        ]
    };
}

const PDS_ROLES: &[Role] = &[
    role!("MessageHeader", "MessageHeader"),
    role!("Communication", "Communication"),
    role!("Patient", "Patient"),
    role!("Organization", "Organization"),
    role!("HealthcareService", "HealthcareService"),
    role!("EpisodeOfCare", "EpisodeOfCare"),
];

const BIRTH_ROWS: [Row; 71] = {
    let c = pds_communication!("10.1");
    let h = pds_service!("10.1");
    [
        c[0], c[1], c[2], c[3], c[4], c[5],
        h[0], h[1], h[2], h[3], h[4],
        card("10.1/HealthcareService/identifier", "HealthcareService", Any, "identifier", 1, ONE, "the profile requires `identifier` 1..1"),
        card("10.1/MessageHeader/enterer", "MessageHeader", Any, "enterer", 0, ONE, "`enterer` 0..1 → the notifying Practitioner"),
        logic("10.1/MessageHeader/responsible", "MessageHeader", R::MH_RESPONSIBLE_INBUNDLE, "event/header.rs header", "crates/ems-profiles/tests/corpus.rs", "`responsible` 1..1 → CareConnect-Organization-1 in the bundle"),
        count("10.1/Patient-mother/card", "Patient-mother", Any, 0, ONE, "Patient — mother 1..1 (relaxed since 2.1.1: a birth can be registered without the mother's details)").decided("0..1: the Communication's subject is the mother when known; 'a birth can be registered without the mother's details, so the mother-related cardinalities are relaxed'"),
        card("10.1/Patient-mother/link", "Patient-mother", Any, "link", 1, ONE, "`link` 1..1 → the RelatedPerson"),
        target("10.1/Patient-mother/link.other", "Patient-mother", Any, "link.other", To::Types(&["RelatedPerson"]), "`link` → the RelatedPerson (not the baby)"),
        card("10.1/Patient-mother/generalPractitioner", "Patient-mother", Any, "generalPractitioner", 0, ONE, "`generalPractitioner` 0..1 → the mother's GP Organization"),
        target("10.1/Patient-mother/generalPractitioner.target", "Patient-mother", Any, "generalPractitioner", To::Types(ORG), "`generalPractitioner` → Organization"),
        count("10.1/RelatedPerson/card", "RelatedPerson", Any, 1, ONE, "RelatedPerson 1..1").rule(R::BN_RELATIONSHIP).critical(),
        card("10.1/RelatedPerson/patient", "RelatedPerson", Any, "patient", 1, ONE, "`patient` 1..1 → baby Patient").rule(R::BN_RELATIONSHIP),
        target("10.1/RelatedPerson/patient.target", "RelatedPerson", Any, "patient", To::Types(PAT), "`patient` → the baby Patient"),
        card("10.1/RelatedPerson/relationship", "RelatedPerson", Any, "relationship", 1, ONE, "`relationship` 1..1").rule(R::BN_RELATIONSHIP),
        card("10.1/RelatedPerson/relationship.coding", "RelatedPerson", Any, "relationship.coding", 1, ONE, "`relationship` with one `coding`").rule(R::BN_RELATIONSHIP),
        fixed("10.1/RelatedPerson/relationship.code", "RelatedPerson", Any, "relationship", ("http://hl7.org/fhir/v3/RoleCode", "NMTH", "natural mother"), "system `http://hl7.org/fhir/v3/RoleCode`, code `NMTH`, display `natural mother` (all fixed)").rule(R::BN_RELATIONSHIP),
        count("10.1/Patient-baby/card", "Patient-baby", Any, 1, ONE, "Patient — baby 1..1").rule(R::BN_BABY).critical(),
        logic("10.1/Patient-baby/meta.versionId", "Patient-baby", R::PDS_SCN, PATIENTS, MUT, "`meta.versionId` 1..1 (baby's SCN)"),
        card("10.1/Patient-baby/gender", "Patient-baby", Any, "gender", 1, ONE, "`gender` 1..1").rule(R::BN_BABY),
        card("10.1/Patient-baby/birthTime", "Patient-baby", Any, BIRTH_TIME, 1, ONE, "`birthDate` 1..1 with extension `patient-birthTime` 1..1 (delivery time)").rule(R::BN_BABY),
        card("10.1/Patient-baby/multipleBirthInteger", "Patient-baby", Any, "multipleBirthInteger", 1, ONE, "`multipleBirthInteger` 1..1 (birth order)").rule(R::BN_BABY),
        card("10.1/Patient-baby/ethnicCategory", "Patient-baby", Any, ETHNIC, 1, ONE, "`extension(ethnicCategory)` 1..1").rule(R::BN_BABY),
        card("10.1/Patient-baby/deathNotificationStatus", "Patient-baby", Any, DEATH_EXT, 0, ONE, "`extension(deathNotificationStatus)` 0..1"),
        count("10.1/Practitioner/card", "Practitioner", Any, 1, ONE, "Practitioner 1..1 (the notifying practitioner)"),
        card("10.1/Practitioner/name.given", "Practitioner", Any, "name.given", 1, MANY, "`name.given` 1..*"),
        card("10.1/Practitioner/name.family", "Practitioner", Any, "name.family", 1, ONE, "`name.family` 1..1"),
        count("10.1/Observation-births/card", "Observation-births", Any, 1, ONE, "Observation — number of births 1..1").rule(R::BN_OBSERVATION),
        fixed("10.1/Observation-births/code", "Observation-births", Any, "code", (SCT, "382341000000101", "Total number of registerable births at delivery"), "`code.coding` = SNOMED `382341000000101` \"Total number of registerable births at delivery\"").rule(R::BN_OBSERVATION),
        target("10.1/Observation-births/subject", "Observation-births", Any, "subject", To::Role("Patient-mother"), "`subject` → mother"),
        card("10.1/Observation-births/valueQuantity", "Observation-births", Any, "valueQuantity", 1, ONE, "`valueQuantity` 1..1"),
        count("10.1/Observation-weight/card", "Observation-weight", Any, 1, ONE, "Observation — birth weight 1..1").rule(R::BN_OBSERVATION),
        card("10.1/Observation-weight/category", "Observation-weight", Any, "category", 1, MANY, "`category` present").rule(R::BN_OBSERVATION),
        fixed("10.1/Observation-weight/category.code", "Observation-weight", Any, "category", ("http://hl7.org/fhir/observation-category", "vital-signs", "Vital Signs"), "`category.coding` = observation-category `vital-signs` \"Vital Signs\"").rule(R::BN_OBSERVATION),
        fixed("10.1/Observation-weight/code", "Observation-weight", Any, "code", (SCT, "364589006", "Birth weight"), "`code` SNOMED `364589006` \"Birth weight\"").rule(R::BN_OBSERVATION),
        Row::new("10.1/Observation-weight/code.loinc", "Observation-weight", Any, check(Fixed { path: "code", system: Some(LOINC), code: "29463-7", display: None }), "`code` with two codings: `http://loinc.org` / `29463-7` and SNOMED").rule(R::BN_OBSERVATION),
        target("10.1/Observation-weight/subject", "Observation-weight", Any, "subject", To::Role("Patient-baby"), "`subject` → baby"),
        card("10.1/Observation-weight/valueQuantity", "Observation-weight", Any, "valueQuantity", 1, ONE, "`valueQuantity` 1..1"),
        count("10.1/Observation-gestation/card", "Observation-gestation", Any, 1, ONE, "Observation — gestation age 1..1").rule(R::BN_OBSERVATION),
        fixed("10.1/Observation-gestation/code", "Observation-gestation", Any, "code", (SCT, "412726003", "Length of gestation at birth"), "`code.coding` = SNOMED `412726003` \"Length of gestation at birth\"").rule(R::BN_OBSERVATION),
        target("10.1/Observation-gestation/subject", "Observation-gestation", Any, "subject", To::Role("Patient-baby"), "`subject` → baby"),
        card("10.1/Observation-gestation/valueQuantity", "Observation-gestation", Any, "valueQuantity", 1, ONE, "`valueQuantity` 1..1"),
        count("10.1/Observation-stillbirth/card", "Observation-stillbirth", Any, 1, ONE, "Observation — stillborn indicator 1..1").rule(R::BN_OBSERVATION),
        fixed("10.1/Observation-stillbirth/code", "Observation-stillbirth", Any, "code", (SCT, "237364002", "Stillbirth"), "`code.coding` = SNOMED `237364002` \"Stillbirth\"").rule(R::BN_OBSERVATION),
        target("10.1/Observation-stillbirth/subject", "Observation-stillbirth", Any, "subject", To::Role("Patient-baby"), "`subject` → baby"),
        card("10.1/Observation-stillbirth/valueCodeableConcept", "Observation-stillbirth", Any, "valueCodeableConcept", 1, ONE, "`valueCodeableConcept` 1..1"),
        system("10.1/Observation-stillbirth/value.system", "Observation-stillbirth", Any, "valueCodeableConcept", vocab::STILL_BORN_INDICATOR_SYSTEM, "`valueCodeableConcept.coding.system` = EMS-PDS-StillBornIndicator-1"),
        count("10.1/Observation-abnormality/card", "Observation-abnormality", Any, 1, ONE, "Observation — suspected congenital abnormality 1..1").rule(R::BN_OBSERVATION),
        fixed("10.1/Observation-abnormality/code", "Observation-abnormality", Any, "code", (SCT, "1097291000000101", "Suspected congenital abnormality"), "`code.coding` = SNOMED `1097291000000101` \"Suspected congenital abnormality\"").rule(R::BN_OBSERVATION),
        target("10.1/Observation-abnormality/subject", "Observation-abnormality", Any, "subject", To::Role("Patient-baby"), "`subject` → baby"),
        card("10.1/Observation-abnormality/valueCodeableConcept", "Observation-abnormality", Any, "valueCodeableConcept", 1, ONE, "`valueCodeableConcept` 1..1"),
        system("10.1/Observation-abnormality/value.system", "Observation-abnormality", Any, "valueCodeableConcept", vocab::CONGENITAL_ABNORMALITY_INDICATOR_SYSTEM, "`valueCodeableConcept.coding.system` = EMS-PDS-SuspectedCongenitalAbnormalityIndicator-1"),
        count("10.1/EpisodeOfCare-delivery/card", "EpisodeOfCare-delivery", Any, 0, ONE, "EpisodeOfCare — delivery place 0..1"),
        count("10.1/EpisodeOfCare-registering/card", "EpisodeOfCare-registering", Any, 1, ONE, "EpisodeOfCare — registering authority 1..1").rule(R::BN_REGISTERING_AUTHORITY),
        count("10.1/EpisodeOfCare-partner/card", "EpisodeOfCare-partner", Any, 0, ONE, "EpisodeOfCare — partner CHO 0..1"),
        count("10.1/EpisodeOfCare-responsible/card", "EpisodeOfCare-responsible", Any, 0, ONE, "EpisodeOfCare — responsible CHO 0..1"),
        card("10.1/EpisodeOfCare/managingOrganization", "EpisodeOfCare", Any, "managingOrganization", 1, ONE, "`managingOrganization` 1..1 on every birth EpisodeOfCare").rule(R::BN_REGISTERING_AUTHORITY),
        target("10.1/EpisodeOfCare/managingOrganization.target", "EpisodeOfCare", Any, "managingOrganization", To::Types(ORG), "`managingOrganization` → Organization").rule(R::BN_REGISTERING_AUTHORITY),
        target("10.1/EpisodeOfCare/patient", "EpisodeOfCare", Any, "patient", To::Role("Patient-baby"), "patient = baby").decided("the digest states `patient = baby` on the delivery-place row; applied to every birth EpisodeOfCare (all four are about the baby's care)"),
        card("10.1/Organization-registering/type", "Organization-registering", Any, "type", 1, ONE, "`type` 1..1 from EMS-PDS-RegisteringAuthorityType-1"),
        system("10.1/Organization-registering/type.system", "Organization-registering", Any, "type", vocab::REGISTERING_AUTHORITY_TYPE_SYSTEM, "`type` from ValueSet EMS-PDS-RegisteringAuthorityType-1 (codes a–y)"),
        system("10.1/Organization-delivery/type.system", "Organization-delivery", Any, "type", vocab::DELIVERY_PLACE_TYPE_SYSTEM, "`type` 0..1 SHOULD be from EMS-PDS-DeliveryPlaceType-1").should(),
        count("10.1/Organization/card", "Organization", Any, 1, MANY, "Organization — responsible, sender, partner CHO, responsible CHO 1..*"),
    ]
};

/// 10.1 PDS Birth Notification.
static BIRTH: Table = Table {
    index: std::sync::OnceLock::new(),
    event: "pds-birth-notification-1",
    section: "10.1",
    roles: &[
        role!("MessageHeader", "MessageHeader"),
        role!("Communication", "Communication"),
        role!("Patient-mother", "Patient", ref_by("Communication", "subject")),
        role!("RelatedPerson", "RelatedPerson"),
        role!("Patient-baby", "Patient", ref_by("RelatedPerson", "patient")),
        role!("Practitioner", "Practitioner"),
        role!("Observation-births", "Observation", coded("code", &["382341000000101"])),
        role!("Observation-weight", "Observation", coded("code", &["364589006", "29463-7"])),
        role!("Observation-gestation", "Observation", coded("code", &["412726003"])),
        role!("Observation-stillbirth", "Observation", coded("code", &["237364002"])),
        role!("Observation-abnormality", "Observation", coded("code", &["1097291000000101"])),
        role!("EpisodeOfCare", "EpisodeOfCare"),
        role!("EpisodeOfCare-delivery", "EpisodeOfCare", coded("type", &["delivery-place"])),
        role!("EpisodeOfCare-registering", "EpisodeOfCare", coded("type", &["registering-authority"])),
        role!("EpisodeOfCare-partner", "EpisodeOfCare", coded("type", &["partner-child-health-organisation"])),
        role!("EpisodeOfCare-responsible", "EpisodeOfCare", coded("type", &["responsible-child-health-organisation"])),
        role!("Organization-delivery", "Organization", ref_by("EpisodeOfCare-delivery", "managingOrganization")),
        role!("Organization-registering", "Organization", ref_by("EpisodeOfCare-registering", "managingOrganization")),
        role!("Organization", "Organization"),
        role!("HealthcareService", "HealthcareService"),
    ],
    rows: &BIRTH_ROWS,
};

const COA_ROWS: [Row; 17] = {
    let c = pds_communication!("10.2");
    let h = pds_service!("10.2");
    [
        c[0], c[1], c[2], c[3], c[4], c[5],
        h[0], h[1], h[2], h[3], h[4],
        count("10.2/Patient/card", "Patient", Any, 1, ONE, "Patient 1..1").critical(),
        logic("10.2/Patient/meta.versionId", "Patient", R::PDS_SCN, PATIENTS, MUT, "`meta.versionId` 1..1 (PDS SCN)"),
        logic("10.2/Patient/address", "Patient", R::COA_ADDRESS, "event/logic.rs change_of_address", MUT, "current (`home`) and previous (`old`) address: `line` 1..*, `postalCode` 1..1, `period.start` 1..1; all lines in `line`, never `city`/`district`").critical(),
        logic("10.2/Patient/address.text", "Patient", R::COA_ADDRESS_TEXT, "event/logic.rs change_of_address", MUT, "both addresses carry `text` 1..1 (whole address as text)"),
        count("10.2/Organization/card", "Organization", Any, 1, Some(2), "Organization 1..2 (responsible and sender may be one or two)").rule(R::PDS_ORG_COUNT),
        card("10.2/Organization/name", "Organization", Any, "name", 1, ONE, "`name` 1..1").rule(R::ORG_NAME),
    ]
};

/// 10.2 PDS Change of Address.
static COA: Table = Table {
    index: std::sync::OnceLock::new(),
    event: "pds-change-of-address-1",
    section: "10.2",
    roles: PDS_ROLES,
    rows: &COA_ROWS,
};

const COGP_ROWS: [Row; 26] = {
    let c = pds_communication!("10.3");
    let h = pds_service!("10.3");
    [
        c[0], c[1], c[2], c[3], c[4], c[5],
        h[0], h[1], h[2], h[3], h[4],
        count("10.3/Patient/card", "Patient", Any, 1, ONE, "Patient 1..1").critical(),
        logic("10.3/Patient/meta.versionId", "Patient", R::PDS_SCN, PATIENTS, MUT, "`meta.versionId` 1..1 (SCN)"),
        card("10.3/Patient/generalPractitioner", "Patient", Any, "generalPractitioner", 0, ONE, "`generalPractitioner` 0..1 → Organization of the new practice (absent on de-registration)"),
        target("10.3/Patient/generalPractitioner.target", "Patient", Any, "generalPractitioner", To::Types(ORG), "`generalPractitioner` → Organization"),
        logic("10.3/Patient/interpretation", "Patient", R::COGP_INTERPRETATION, "event/logic.rs change_of_gp", "tests/conformance.rs receiver_rejects_change_of_gp_without_gp_or_finished_episode", "interpretation matrix: new GP + finished EpisodeOfCare = transfer; new GP only = first registration; finished EpisodeOfCare only = de-registration").critical(),
        count("10.3/Organization/card", "Organization", Any, 1, MANY, "Organization 1..*"),
        logic("10.3/Organization/identifier", "Organization", R::ORG_ODS, "event/resources.rs organizations", "tests/conformance.rs receiver_rejects_a_previous_practice_without_ods_code", "`identifier` 1..1 (ODS slice) with a value").critical(),
        card("10.3/Organization/name", "Organization", Any, "name", 1, ONE, "`name` 1..1").rule(R::ORG_NAME),
        card("10.3/Organization/partOf", "Organization", Any, "partOf", 1, ONE, "`partOf` 1..1 → commissioning organisation").rule(R::COGP_ORG_PARTOF),
        count("10.3/EpisodeOfCare/card", "EpisodeOfCare", Any, 0, ONE, "EpisodeOfCare 0..1 (the previous registration)").rule(R::COGP_EOC),
        value("10.3/EpisodeOfCare/status", "EpisodeOfCare", Any, "status", "finished", "`status` = `finished`").rule(R::COGP_EOC).critical(),
        card("10.3/EpisodeOfCare/type", "EpisodeOfCare", Any, "type", 1, MANY, "`type.coding` present").rule(R::COGP_EOC),
        fixed("10.3/EpisodeOfCare/type.code", "EpisodeOfCare", Any, "type", (vocab::PATIENT_CARE_PROVISION_TYPE_SYSTEM, "1", "Primary care"), "`type.coding` = EMS-PDS-PatientCareProvisionType-1 / `1` / \"Primary care\"").rule(R::COGP_EOC),
        card("10.3/EpisodeOfCare/managingOrganization", "EpisodeOfCare", Any, "managingOrganization.reference", 1, ONE, "`managingOrganization` 1..1 → previous practice (with a reference)").rule(R::COGP_EOC).critical(),
        logic("10.3/EpisodeOfCare/managingOrganization.inbundle", "EpisodeOfCare", R::COGP_EOC, "event/logic.rs change_of_gp", "tests/conformance.rs receiver_rejects_a_previous_practice_outside_the_bundle", "`managingOrganization` → the previous practice Organization in the bundle").critical(),
    ]
};

/// 10.3 PDS Change of GP.
static COGP: Table = Table {
    index: std::sync::OnceLock::new(),
    event: "pds-change-of-gp-1",
    section: "10.3",
    roles: PDS_ROLES,
    rows: &COGP_ROWS,
};

const DEATH_ROWS: [Row; 18] = {
    let c = pds_communication!("10.4");
    let h = pds_service!("10.4");
    [
        c[0],
        c[1],
        c[2],
        c[3],
        c[4],
        c[5],
        h[0],
        h[1],
        h[2],
        h[3],
        h[4],
        count("10.4/Patient/card", "Patient", Any, 1, ONE, "Patient 1..1").critical(),
        logic("10.4/Patient/meta.versionId", "Patient", R::PDS_SCN, PATIENTS, MUT, "`meta.versionId` 1..1 (SCN)"),
        card("10.4/Patient/deathNotificationStatus", "Patient", Any, DEATH_EXT, 1, ONE, "extension DeathNotificationStatus 1..1").rule(R::DEATH_STATUS).critical(),
        logic("10.4/Patient/deathNotificationStatus.code", "Patient", R::DEATH_STATUS, "event/logic.rs death", MUT, "sub-extensions `deathNotificationStatus` (code 1/2/U) and `systemEffectiveDate` 1..1").critical(),
        logic("10.4/Patient/deceasedDateTime", "Patient", R::DEATH_DECEASED, "event/logic.rs death", MUT, "`deceasedDateTime` for 1 and 2, absent for U").critical(),
        count("10.4/Organization/card", "Organization", Any, 1, Some(2), "Organization 1..2").rule(R::PDS_ORG_COUNT),
        card("10.4/Organization/name", "Organization", Any, "name", 1, ONE, "`name` 1..1").rule(R::ORG_NAME),
    ]
};

/// 10.4 PDS Death Notification.
static DEATH: Table = Table {
    index: std::sync::OnceLock::new(),
    event: "pds-death-notification-1",
    section: "10.4",
    roles: PDS_ROLES,
    rows: &DEATH_ROWS,
};

/// 10.5 PDS Record Change.
static RECORD_CHANGE: Table = Table {
    index: std::sync::OnceLock::new(),
    event: "pds-record-change-1",
    section: "10.5",
    roles: &[
        role!("MessageHeader", "MessageHeader"),
        role!("Patient", "Patient"),
        role!("Provenance", "Provenance"),
    ],
    rows: &[
        logic("10.5/MessageHeader/routingDemographics", "MessageHeader", R::MH_ROUTING, "event/header.rs routing", MUT, "routing demographics 1..1 with nhsNumber, name, birthDateTime (all 1..1)"),
        count("10.5/Patient/card", "Patient", Any, 1, ONE, "Patient 1..1 (the focus)").critical(),
        logic("10.5/Patient/meta.versionId", "Patient", R::PDS_SCN, PATIENTS, MUT, "`meta.versionId` 1..1 (SCN)"),
        card("10.5/Patient/name", "Patient", Any, "name", 1, MANY, "`name` 1..* (PDS names)").rule(R::PATIENT_NAME),
        count("10.5/Provenance/card", "Provenance", Any, 0, ONE, "Provenance 0..1 (who made the change)"),
        card("10.5/Provenance/target", "Provenance", Any, "target", 1, ONE, "`target` 1..1 → Patient").rule(R::SCHEMA_MIN),
        target("10.5/Provenance/target.type", "Provenance", Any, "target", To::Types(PAT), "`target` → Patient"),
        card("10.5/Provenance/recorded", "Provenance", Any, "recorded", 1, ONE, "`recorded` 1..1").rule(R::SCHEMA_MIN),
        card("10.5/Provenance/agent", "Provenance", Any, "agent", 1, MANY, "`agent` 1..*").rule(R::SCHEMA_MIN),
        card("10.5/Provenance/agent.whoReference", "Provenance", Any, "agent.whoReference", 1, MANY, "`agent.whoReference` 1..1 → the Patient or the ODS URL of the organisation"),
        target("10.5/Provenance/agent.whoReference.type", "Provenance", Any, "agent.whoReference", To::Types(&["Patient", "Organization"]), "`agent.whoReference` → the Patient (citizen) or an Organization"),
    ],
};

const SCREENING_ROLES: &[Role] = &[
    role!("MessageHeader", "MessageHeader"),
    role!("Encounter", "Encounter"),
    role!("Organization", "Organization"),
    role!("Patient", "Patient"),
    role!("HealthcareService", "HealthcareService"),
    role!("Location", "Location"),
    role!("Practitioner", "Practitioner"),
    role!("PractitionerRole", "PractitionerRole"),
    role!("DiagnosticReport", "DiagnosticReport"),
    role!("Procedure", "Procedure"),
    role!("Procedure-AABR", "Procedure", coded("code", &["413083006"])),
    role!("Procedure-AOAE", "Procedure", coded("code", &["446077009"])),
    role!("Observation", "Observation"),
    role!("Communication", "Communication"),
];

/// The rows the three screening events share (10.6 states them; 10.7 and
/// 10.8 say "as blood spot"). `$s` is the section, `$enc` the encounter type
/// code and display, `$comment` the comment category.
macro_rules! screening_common {
    ($s:literal, $enc:literal, $encd:literal) => {
        [
            count(concat!($s, "/Encounter/card"), "Encounter", Any, 1, ONE, "Encounter 1..1 / 1..1 (the focus)").rule(R::SCREENING_ENCOUNTER).critical(),
            card(concat!($s, "/Encounter/identifier"), "Encounter", Any, "identifier", 1, ONE, "`identifier` 1..1 / 1..1 (publisher's persistent id)").rule(R::SCREENING_ENCOUNTER).critical(),
            card(concat!($s, "/Encounter/type-new"), "Encounter", New, "type", 1, ONE, "`type` 1..1 / 0..1 with a coding from DCH-ChildHealthEncounterType-1").rule(R::SCREENING_ENCOUNTER),
            card(concat!($s, "/Encounter/type.coding"), "Encounter", Any, "type.coding", 0, ONE, "profile: at most one coding per `type`"),
            fixed(concat!($s, "/Encounter/type.code"), "Encounter", Any, "type", (ENCOUNTER_TYPE, $enc, $encd), concat!("encounter type `", $enc, "` \"", $encd, "\"")),
            card(concat!($s, "/Encounter/serviceProvider-new"), "Encounter", New, "serviceProvider", 1, ONE, "`serviceProvider` 1..1 / 0..1 → Organization").rule(R::SCREENING_ENCOUNTER),
            target(concat!($s, "/Encounter/serviceProvider.target"), "Encounter", Any, "serviceProvider", To::Types(ORG), "`serviceProvider` → Organization"),
            target(concat!($s, "/Encounter/location.target"), "Encounter", Any, "location.location", To::Types(LOC), "`location` 0..1 → Location"),
            card(concat!($s, "/Encounter/subject-new"), "Encounter", New, "subject", 1, ONE, "`subject` 1..1 / 0..1 → Patient").rule(R::SCREENING_ENCOUNTER).critical(),
            target(concat!($s, "/Encounter/subject.target"), "Encounter", Any, "subject", To::Types(PAT), "`subject` → Patient"),
            count(concat!($s, "/Organization/card-new"), "Organization", New, 1, ONE, "Organization 1..1 (new)"),
            count(concat!($s, "/Organization/card-delete"), "Organization", Delete, 0, ONE, "Organization 0..1 (delete)"),
            card(concat!($s, "/Organization/name"), "Organization", Any, "name", 1, ONE, "`name` 1..1").rule(R::ORG_NAME),
            count(concat!($s, "/Patient/card-new"), "Patient", New, 1, ONE, "Patient 1..1 (new)").critical(),
            count(concat!($s, "/Patient/card-delete"), "Patient", Delete, 0, ONE, "Patient 0..1 (delete)"),
            count(concat!($s, "/HealthcareService/card"), "HealthcareService", Any, 0, ONE, "HealthcareService 0..1 / 0..1"),
            card(concat!($s, "/HealthcareService/providedBy"), "HealthcareService", Any, "providedBy", 1, ONE, "`providedBy` 1..1 → sender Organization").rule(R::HS_SPECIALTY),
            target(concat!($s, "/HealthcareService/providedBy.target"), "HealthcareService", Any, "providedBy", To::Types(ORG), "`providedBy` → Organization"),
            card(concat!($s, "/HealthcareService/type"), "HealthcareService", Any, "type", 1, ONE, "`type` 1..1 from CareConnect-CareSettingType-1").rule(R::HS_SPECIALTY),
            card(concat!($s, "/HealthcareService/specialty"), "HealthcareService", Any, "specialty", 1, ONE, "`specialty` 1..1 from DCH-Specialty-1").rule(R::HS_SPECIALTY),
            count(concat!($s, "/Location/card"), "Location", Any, 0, ONE, "Location 0..1 / 0..1"),
            count(concat!($s, "/Communication/card"), "Communication", Any, 0, ONE, "Communication 0..1 / 0..1"),
            value(concat!($s, "/Communication/status"), "Communication", Any, "status", "completed", "`status` = `completed`").rule(R::COMM_STATUS),
            card(concat!($s, "/Communication/sender"), "Communication", Any, "sender", 1, ONE, "`sender` 1..1"),
            card(concat!($s, "/Communication/subject"), "Communication", Any, "subject", 1, ONE, "`subject` 1..1 → Patient").rule(R::COMM_STATUS),
            target(concat!($s, "/Communication/subject.target"), "Communication", Any, "subject", To::Types(PAT), "`subject` → Patient"),
            card(concat!($s, "/Procedure/subject"), "Procedure", Any, "subject", 1, ONE, "`subject` 1..1 → Patient").rule(R::SCHEMA_MIN),
            target(concat!($s, "/Procedure/subject.target"), "Procedure", Any, "subject", To::Types(PAT), "`subject` → Patient"),
        ]
    };
}

/// The PractitionerRole rows of 10.7 and 10.8.
macro_rules! practitioner_role {
    ($s:literal) => {
        [
            count(concat!($s, "/PractitionerRole/card"), "PractitionerRole", Any, 0, ONE, "PractitionerRole 0..1 / 0..1"),
            card(concat!($s, "/PractitionerRole/organization"), "PractitionerRole", Any, "organization", 1, ONE, "`organization` 1..1"),
            target(concat!($s, "/PractitionerRole/organization.target"), "PractitionerRole", Any, "organization", To::Types(ORG), "`organization` → Organization"),
            card(concat!($s, "/PractitionerRole/practitioner"), "PractitionerRole", Any, "practitioner", 1, ONE, "`practitioner` 1..1"),
            target(concat!($s, "/PractitionerRole/practitioner.target"), "PractitionerRole", Any, "practitioner", To::Types(PRAC), "`practitioner` → Practitioner"),
            card(concat!($s, "/PractitionerRole/code"), "PractitionerRole", Any, "code", 1, MANY, "`code` careProfessionalType 1..1 (DCH-ProfessionalType-1)"),
        ]
    };
}

const BLOOD_SPOT_CODES: &[(&str, &str)] = &[
    ("314081000", "Phenylketonuria screening test"),
    ("314090007", "Sickle cell disease screening test"),
    ("171191008", "Cystic fibrosis screening"),
    ("400984005", "Congenital hypothyroidism screening test"),
    (
        "428056008",
        "Medium-chain acyl-coenzyme A dehydrogenase deficiency screening test",
    ),
    (
        "940201000000107",
        "Blood spot homocystinuria screening test",
    ),
    (
        "940221000000103",
        "Blood spot MSUD (maple syrup urine disease) screening test",
    ),
    (
        "940131000000109",
        "Blood spot glutaric aciduria type 1 screening test",
    ),
    (
        "940151000000102",
        "Blood spot isovaleric acidaemia screening test",
    ),
    (
        "1239891000000106",
        "Severe combined immunodeficiency screening test",
    ),
    ("2201661000000107", "Tyrosinaemia type 1 screening test"),
];

const BLOOD_SPOT_ROWS: [Row; 40] = {
    let c = screening_common!("10.6", "008", "Newborn Blood Spot Screening");
    [
        c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10], c[11], c[12], c[13],
        c[14], c[15], c[16], c[17], c[18], c[19], c[20], c[21], c[22], c[23], c[24], c[25],
        c[26], c[27],
        fixed("10.6/Communication/category", "Communication", Any, "category", (COMMENT_TYPE, "007", "Newborn Blood Spot Screening"), "`category.coding` = DCH-ProfessionalCommentType-1 `007` \"Newborn Blood Spot Screening\""),
        count("10.6/DiagnosticReport/card-new", "DiagnosticReport", New, 1, ONE, "DiagnosticReport 1..1 (new)").critical(),
        count("10.6/DiagnosticReport/card-delete", "DiagnosticReport", Delete, 0, ONE, "DiagnosticReport 0..1 (delete)"),
        card("10.6/DiagnosticReport/subject", "DiagnosticReport", Any, "subject", 1, ONE, "`subject` 1..1 → Patient"),
        target("10.6/DiagnosticReport/subject.target", "DiagnosticReport", Any, "subject", To::Types(PAT), "`subject` → Patient"),
        card("10.6/DiagnosticReport/issued", "DiagnosticReport", Any, "issued", 1, ONE, "`issued` 1..1 (outcome received from the laboratory)"),
        count("10.6/Procedure/card", "Procedure", Any, 0, Some(11), "Procedure 0..11 / 0..11 (one per condition)"),
        card("10.6/Procedure/code", "Procedure", Any, "code", 1, ONE, "`code.coding` fixed per condition").critical(),
        Row::new("10.6/Procedure/code.code", "Procedure", Any, check(OneOf { path: "code", system: SCT, codes: BLOOD_SPOT_CODES }), "`code.coding` (SNOMED) one of the eleven condition codes with its display (CF `171191008` since 2.15.0)").decided("the retired CF code 314080004 is not accepted (2.15.0 replaced it with 171191008)"),
        card("10.6/Procedure/outcome", "Procedure", Any, "outcome.coding", 1, ONE, "`outcome.coding` (SNOMED) 1..1 from DCH-BloodSpotOutcome-1").critical(),
        count("10.6/Location/card-delete", "Location", Delete, 0, ONE, "Location 0..1 (delete)"),
        count("10.6/Encounter/card-delete", "Encounter", Delete, 1, ONE, "Encounter 1..1 (delete: minimum MessageHeader + Encounter)").rule(R::SCREENING_ENCOUNTER),
    ]
};

/// 10.6 Blood Spot Test Outcome.
static BLOOD_SPOT: Table = Table {
    index: std::sync::OnceLock::new(),
    event: "blood-spot-test-outcome-1",
    section: "10.6",
    roles: SCREENING_ROLES,
    rows: &BLOOD_SPOT_ROWS,
};

const HEARING_ROWS: [Row; 53] = {
    let c = screening_common!("10.7", "007", "Newborn Hearing Screening");
    let p = practitioner_role!("10.7");
    [
        c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10], c[11], c[12], c[13],
        c[14], c[15], c[16], c[17], c[18], c[19], c[20], c[21], c[22], c[23], c[24], c[25],
        c[26], c[27],
        p[0], p[1], p[2], p[3], p[4], p[5],
        card("10.7/Encounter/period.start-new", "Encounter", New, "period.start", 1, ONE, "`period.start` 1..1 / 0..1").rule(R::SCREENING_ENCOUNTER),
        fixed("10.7/Communication/category", "Communication", Any, "category", (COMMENT_TYPE, "008", "Newborn Hearing Screening"), "category DCH-ProfessionalCommentType-1 `008` \"Newborn Hearing Screening\""),
        count("10.7/Practitioner/card", "Practitioner", Any, 0, ONE, "Practitioner 0..1 / 0..1 (screener)"),
        count("10.7/Procedure/card", "Procedure", Any, 0, Some(6), "Procedure 0..6 / 0..6"),
        card("10.7/Procedure/performedDateTime", "Procedure", Any, "performedDateTime", 1, ONE, "`performedDateTime` 1..1 (when the test was entered)"),
        card("10.7/Procedure/code", "Procedure", Any, "code", 1, ONE, "`code`: AABR or AOAE").critical(),
        Row::new("10.7/Procedure/code.code", "Procedure", Any, check(OneOf { path: "code", system: SCT, codes: &[("413083006", "Automated auditory brainstem response test"), ("446077009", "Automated otoacoustic emission test")] }), "SNOMED `413083006` \"Automated auditory brainstem response test\" (AABR) or `446077009` \"Automated otoacoustic emission test\" (AOAE)"),
        card("10.7/Procedure/outcome", "Procedure", Any, "outcome.coding", 1, ONE, "`outcome` from the AABR/AOAE outcome value set").critical(),
        count("10.7/Procedure-AABR/card", "Procedure-AABR", Any, 0, Some(2), "AABR 0..2 (one per ear)"),
        Row::new("10.7/Procedure-AABR/outcome", "Procedure-AABR", Any, check(OneOf { path: "outcome", system: SCT, codes: &[("1085431000000105", ""), ("1085451000000103", ""), ("1085461000000100", ""), ("1085471000000107", "")] }), "outcome from DCH-AABRHearingTest-Outcome-1 (1085431000000105, 1085451000000103, 1085461000000100, 1085471000000107)"),
        count("10.7/Procedure-AOAE/card", "Procedure-AOAE", Any, 0, Some(4), "AOAE 0..4 (two per test, one per ear)"),
        Row::new("10.7/Procedure-AOAE/outcome", "Procedure-AOAE", Any, check(OneOf { path: "outcome", system: SCT, codes: &[("1085491000000106", ""), ("1085501000000100", ""), ("1085511000000103", ""), ("1085521000000109", "")] }), "outcome from DCH-AOAEHearingTest-Outcome-1 (1085491000000106, 1085501000000100, 1085511000000103, 1085521000000109)"),
        count("10.7/Observation/card-new", "Observation", New, 1, ONE, "Observation — summary outcome 1..1 (new)").critical(),
        count("10.7/Observation/card-delete", "Observation", Delete, 0, ONE, "Observation — summary outcome 0..1 (delete)"),
        card("10.7/Observation/subject", "Observation", Any, "subject", 1, ONE, "`subject` 1..1"),
        target("10.7/Observation/subject.target", "Observation", Any, "subject", To::Types(PAT), "`subject` → Patient"),
        card("10.7/Observation/valueCodeableConcept", "Observation", Any, "valueCodeableConcept", 1, ONE, "`valueCodeableConcept` 1..1 from DCH-HearingScreeningOutcome-1").critical(),
        card("10.7/Observation/effectiveDateTime", "Observation", Any, "effectiveDateTime", 1, ONE, "`effectiveDateTime` 1..1 (when the outcome was set)"),
        count("10.7/Encounter/card-delete", "Encounter", Delete, 1, ONE, "Encounter 1..1 (delete)").rule(R::SCREENING_ENCOUNTER),
    ]
};

/// 10.7 Newborn Hearing.
static HEARING: Table = Table {
    index: std::sync::OnceLock::new(),
    event: "newborn-hearing-1",
    section: "10.7",
    roles: SCREENING_ROLES,
    rows: &HEARING_ROWS,
};

const NIPE_CODES: &[(&str, &str)] = &[
    (
        "985531000000102",
        "Newborn and Infant Physical Examination Screening Programme, hip examination",
    ),
    (
        "988361000000105",
        "Newborn and Infant Physical Examination Screening Programme, eye examination",
    ),
    (
        "988371000000103",
        "Newborn and Infant Physical Examination Screening Programme, testis examination",
    ),
    (
        "988351000000107",
        "Newborn and Infant Physical Examination Screening Programme, heart examination",
    ),
];

const NIPE_ROWS: [Row; 50] = {
    let c = screening_common!("10.8", "006", "Newborn Infant Physical Examination");
    let p = practitioner_role!("10.8");
    [
        c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10], c[11], c[12], c[13],
        c[14], c[15], c[16], c[17], c[18], c[19], c[20], c[21], c[22], c[23], c[24], c[25],
        c[26], c[27],
        p[0], p[1], p[2], p[3], p[4], p[5],
        card("10.8/PractitionerRole/specialty", "PractitionerRole", Any, "specialty", 1, ONE, "`specialty` 1..1 (DCH-Specialty-1)"),
        card("10.8/Encounter/period.start-new", "Encounter", New, "period.start", 1, ONE, "`period.start` 1..1 for new (as newborn hearing)").rule(R::SCREENING_ENCOUNTER),
        Row::new("10.8/Communication/category", "Communication", Any, check(OneOf { path: "category", system: COMMENT_TYPE, codes: &[("009", "Newborn and Infant Physical Examination (72 hours)"), ("010", "Newborn and Infant Physical Examination (6-8 Weeks)")] }), "category DCH-ProfessionalCommentType-1 `009` \"Newborn and Infant Physical Examination (72 hours)\" or `010` \"Newborn and Infant Physical Examination (6-8 Weeks)\""),
        count("10.8/Practitioner/card-new", "Practitioner", New, 1, ONE, "Practitioner 1..1 (new; the examiner)").critical(),
        count("10.8/Practitioner/card-delete", "Practitioner", Delete, 0, ONE, "Practitioner 0..1 (delete)"),
        count("10.8/Procedure/card-new", "Procedure", New, 3, Some(4), "Procedure 3..4 (new)").critical(),
        count("10.8/Procedure/card-delete", "Procedure", Delete, 0, Some(4), "Procedure 0..4 (delete)"),
        card("10.8/Procedure/code", "Procedure", Any, "code", 1, ONE, "`code`: hips, eyes, testes or heart").critical(),
        Row::new("10.8/Procedure/code.code", "Procedure", Any, check(OneOf { path: "code", system: SCT, codes: NIPE_CODES }), "SNOMED hips `985531000000102`, eyes `988361000000105`, testes `988371000000103`, heart `988351000000107` with their displays"),
        card("10.8/Procedure/outcome", "Procedure", Any, "outcome.coding", 1, ONE, "`outcome` SNOMED coding 1..1 from NIPE-Outcome-1").critical(),
        count("10.8/Observation/card", "Observation", Any, 0, ONE, "Observation — BCG eligibility 0..1 / 0..1"),
        card("10.8/Observation/subject", "Observation", Any, "subject", 1, ONE, "`subject` 1..1"),
        Row::new("10.8/Observation/code", "Observation", Any, check(Fixed { path: "code", system: None, code: "bcg-eligibility", display: Some("Eligibility for BCG") }), "`code.coding.code` = `bcg-eligibility`, display `Eligibility for BCG`").decided("no code system is defined for the BCG codes (gap 6): codings without a system are accepted"),
        logic("10.8/Observation/performer", "Observation", R::SCHEMA_UNKNOWN, "ems-stu3 reader", "tests/conformance.rs nipe_observation_performer_actor_is_unknown", "the Observation must not carry `performer.actor` (in STU3 `Observation.performer` is a plain Reference)"),
        count("10.8/Encounter/card-delete", "Encounter", Delete, 1, ONE, "Encounter 1..1 (delete)").rule(R::SCREENING_ENCOUNTER),
        value("10.8/Location/identifier", "Location", Any, "identifier.system", vocab::ODS_SITE_SYSTEM, "Location: ODS site code (`https://fhir.nhs.uk/Id/ods-site-code`)").should(),
    ]
};

/// 10.8 NIPE Outcome.
static NIPE: Table = Table {
    index: std::sync::OnceLock::new(),
    event: "nipe-outcome-1",
    section: "10.8",
    roles: SCREENING_ROLES,
    rows: &NIPE_ROWS,
};

/// 10.9 Professional Contacts.
static PROFESSIONAL_CONTACTS: Table = Table {
    index: std::sync::OnceLock::new(),
    event: "professional-contacts-1",
    section: "10.9",
    roles: &[
        role!("MessageHeader", "MessageHeader"),
        role!("EpisodeOfCare", "EpisodeOfCare"),
        role!("Organization", "Organization"),
        role!("Organization-managing", "Organization", ref_by("EpisodeOfCare", "managingOrganization")),
        role!("Patient", "Patient"),
        role!("CareTeam", "CareTeam"),
        role!("Practitioner", "Practitioner"),
        role!("PractitionerRole", "PractitionerRole"),
    ],
    rows: &[
        count("10.9/EpisodeOfCare/card", "EpisodeOfCare", Any, 1, ONE, "EpisodeOfCare 1..1 (the focus)").rule(R::PC_EOC).critical(),
        card("10.9/EpisodeOfCare/identifier", "EpisodeOfCare", Any, "identifier", 1, ONE, "`identifier` 1..1 (persistent)").rule(R::PC_EOC).critical(),
        card("10.9/EpisodeOfCare/status", "EpisodeOfCare", Any, "status", 1, ONE, "`status` 1..1 = current status of the responsibility").rule(R::PC_EOC).critical(),
        card("10.9/EpisodeOfCare/type", "EpisodeOfCare", Any, "type", 1, MANY, "`type` 1..* including a CareConnect-CareSettingType-1 code").rule(R::PC_EOC),
        card("10.9/EpisodeOfCare/managingOrganization", "EpisodeOfCare", Any, "managingOrganization", 1, ONE, "`managingOrganization` 1..1 → responsible Organization").rule(R::PC_EOC).critical(),
        target("10.9/EpisodeOfCare/managingOrganization.target", "EpisodeOfCare", Any, "managingOrganization", To::Types(ORG), "`managingOrganization` → Organization"),
        target("10.9/EpisodeOfCare/team", "EpisodeOfCare", Any, "team", To::Types(&["CareTeam"]), "`team` 0..* → CareTeam"),
        target("10.9/EpisodeOfCare/patient", "EpisodeOfCare", Any, "patient", To::Types(PAT), "`patient` → Patient"),
        count("10.9/Organization/card", "Organization", Any, 1, MANY, "Organization 1..*"),
        card("10.9/Organization/name", "Organization", Any, "name", 1, ONE, "`name` 1..1").rule(R::ORG_NAME),
        card("10.9/Organization-managing/telecom", "Organization-managing", Any, "telecom", 1, MANY, "the Organization referenced by `EpisodeOfCare.managingOrganization` MUST have contact details").rule(R::PC_ORG_TELECOM),
        count("10.9/Patient/card", "Patient", Any, 1, ONE, "Patient 1..1").critical(),
        target("10.9/CareTeam/subject", "CareTeam", Any, "subject", To::Types(PAT), "`subject` 0..1 → Patient"),
        Row::new("10.9/CareTeam/participant.role", "CareTeam", Any, check(CardEach { parent: "participant", path: "role", min: 1, max: MANY }), "`participant` 0..* with role"),
    ],
};

/// 10.10 Vaccinations.
static VACCINATIONS: Table = Table {
    index: std::sync::OnceLock::new(),
    event: "vaccinations-1",
    section: "10.10",
    roles: &[
        role!("MessageHeader", "MessageHeader"),
        role!("Immunization", "Immunization"),
        role!("Organization", "Organization"),
        role!("Patient", "Patient"),
        role!("Practitioner", "Practitioner"),
        role!("PractitionerRole", "PractitionerRole"),
        role!("Encounter", "Encounter"),
        role!("HealthcareService", "HealthcareService"),
        role!("Location", "Location"),
    ],
    rows: &[
        count("10.10/Immunization/card", "Immunization", Any, 1, ONE, "Immunization 1..1 (the focus)").rule(R::VACC_IMMUNIZATION).critical(),
        card("10.10/Immunization/vaccinationProcedure", "Immunization", NotDelete, VACC_PROC, 1, ONE, "`extension(vaccinationProcedure)` 1..1").rule(R::VACC_IMMUNIZATION).critical(),
        card("10.10/Immunization/identifier", "Immunization", Any, "identifier", 1, ONE, "`identifier` 1..1 (persistent)").rule(R::VACC_IMMUNIZATION).critical(),
        card("10.10/Immunization/notGiven", "Immunization", Any, "notGiven", 1, ONE, "`notGiven` 1..1").rule(R::VACC_IMMUNIZATION).critical(),
        card("10.10/Immunization/vaccineCode", "Immunization", Any, "vaccineCode", 1, ONE, "`vaccineCode` 1..1").rule(R::VACC_IMMUNIZATION).critical(),
        logic("10.10/Immunization/vaccineCode.valueSet", "Immunization", R::VACC_VACCINECODE, "event/logic.rs vaccinations", "tests/conformance.rs single_defect_mutations_giving_warnings", "`vaccineCode` SHOULD be from CareConnect-VaccineCode-1 (NullFlavor NAVU/UNC/UNK)").should(),
        card("10.10/Immunization/date", "Immunization", Any, "date", 1, ONE, "`date` 1..1").rule(R::VACC_IMMUNIZATION).critical(),
        card("10.10/Immunization/primarySource", "Immunization", Any, "primarySource", 1, ONE, "`primarySource` 1..1").rule(R::VACC_IMMUNIZATION),
        logic("10.10/Immunization/reasonNotGiven", "Immunization", R::VACC_IMMUNIZATION, "event/logic.rs vaccinations", MUT, "`explanation.reasonNotGiven` required when `notGiven` = `true`"),
        target("10.10/Immunization/patient", "Immunization", Any, "patient", To::Types(PAT), "`patient` → Patient"),
        target("10.10/Immunization/encounter", "Immunization", Any, "encounter", To::Types(ENC), "`encounter` → Encounter"),
        count("10.10/Organization/card", "Organization", Any, 1, MANY, "Organization 1..*"),
        card("10.10/Organization/name", "Organization", Any, "name", 1, ONE, "`name` 1..1").rule(R::ORG_NAME),
        count("10.10/Patient/card", "Patient", Any, 1, ONE, "Patient 1..1").critical(),
        card("10.10/PractitionerRole/organization", "PractitionerRole", Any, "organization", 1, ONE, "`organization` 1..1"),
        target("10.10/PractitionerRole/organization.target", "PractitionerRole", Any, "organization", To::Types(ORG), "`organization` → Organization"),
        card("10.10/PractitionerRole/practitioner", "PractitionerRole", Any, "practitioner", 1, ONE, "`practitioner` 1..1"),
        target("10.10/PractitionerRole/practitioner.target", "PractitionerRole", Any, "practitioner", To::Types(PRAC), "`practitioner` → Practitioner"),
        card("10.10/PractitionerRole/code", "PractitionerRole", Any, "code", 1, MANY, "`code` 1..* including a ProfessionalType-1 code"),
        card("10.10/PractitionerRole/specialty", "PractitionerRole", Any, "specialty", 1, ONE, "`specialty` 1..1 from Specialty-1"),
        count("10.10/Encounter/card", "Encounter", Any, 0, ONE, "Encounter 0..1"),
        card("10.10/Encounter/type", "Encounter", Any, "type", 1, MANY, "`type` 1..* (EncounterType-1)"),
        card("10.10/Encounter/location", "Encounter", Any, "location", 0, ONE, "`location` 0..1"),
        card("10.10/Encounter/subject", "Encounter", Any, "subject", 1, ONE, "`subject` 1..1"),
        count("10.10/HealthcareService/card", "HealthcareService", Any, 0, ONE, "HealthcareService 0..1"),
        card("10.10/HealthcareService/providedBy", "HealthcareService", Any, "providedBy", 1, ONE, "`providedBy` 1..1").rule(R::HS_SPECIALTY),
        card("10.10/HealthcareService/type", "HealthcareService", Any, "type", 1, ONE, "`type` 1..1 from CareConnect-CareSettingType-1").rule(R::HS_SPECIALTY),
        card("10.10/HealthcareService/specialty", "HealthcareService", Any, "specialty", 1, ONE, "`specialty` 1..1 from Specialty-1").rule(R::HS_SPECIALTY),
    ],
};

/// One table per event, in the order of section 10.
pub static EVENT_TABLES: &[&Table] = &[
    &BIRTH,
    &COA,
    &COGP,
    &DEATH,
    &RECORD_CHANGE,
    &BLOOD_SPOT,
    &HEARING,
    &NIPE,
    &PROFESSIONAL_CONTACTS,
    &VACCINATIONS,
];
