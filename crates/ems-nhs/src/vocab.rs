//! NHS identifier systems, directory, profile, extension and code-system
//! URLs (digest sections 2-5 and 10), each spelled once. (The EventType-1
//! and MessageEventType-1 system URLs come with the event-type table in
//! `ems_match`, generated from `../shared/spec/event-types.json`.)

/// NHS number identifier system.
pub const NHS_NUMBER_SYSTEM: &str = "https://fhir.nhs.uk/Id/nhs-number";
/// The older NHS number system, still used by the specification's criteria
/// examples (accepted in criteria, digest section 12 decision 13).
pub const NHS_NUMBER_SYSTEM_LEGACY: &str = "http://fhir.nhs.net/Id/nhs-number";
/// ODS organisation code identifier system.
pub const ODS_ORGANIZATION_SYSTEM: &str = "https://fhir.nhs.uk/Id/ods-organization-code";
/// The ODS directory's Organization base URL: followed by an ODS code, it
/// references an organisation outside the message.
pub const ODS_DIRECTORY: &str = "https://directory.spineservices.nhs.uk/STU3/Organization/";
/// SNOMED CT.
pub const SNOMED_CT: &str = "http://snomed.info/sct";

/// The ODS code of an ODS directory URL (`None`: not a directory URL, or no
/// code after it).
pub fn ods_from_directory(url: &str) -> Option<&str> {
    url.strip_prefix(ODS_DIRECTORY)
        .filter(|ods| !ods.is_empty())
}

/// Event-MessageHeader-1.
pub const MESSAGE_HEADER_PROFILE: &str =
    "https://fhir.nhs.uk/STU3/StructureDefinition/Event-MessageHeader-1";
/// EMS-Subscription-1.
pub const SUBSCRIPTION_PROFILE: &str =
    "https://fhir.nhs.uk/STU3/StructureDefinition/EMS-Subscription-1";

/// The CareConnect profile URL of resource type `$r`
/// (`https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-$r-1`), as
/// a literal.
///
/// ```
/// assert_eq!(ems_nhs::care_connect_profile!("Patient"),
///     "https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Patient-1");
/// ```
#[macro_export]
macro_rules! care_connect_profile {
    ($r:literal) => {
        concat!(
            "https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-",
            $r,
            "-1"
        )
    };
}

/// Extension-RoutingDemographics-1 (on the MessageHeader).
pub const ROUTING_DEMOGRAPHICS_EXTENSION: &str =
    "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-RoutingDemographics-1";
/// Extension-MessageEventType-1 (on the MessageHeader).
pub const MESSAGE_EVENT_TYPE_EXTENSION: &str =
    "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-MessageEventType-1";
/// Extension-CareConnect-NHSNumberVerificationStatus-1.
pub const NHS_NUMBER_VERIFICATION_STATUS_EXTENSION: &str =
    "https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-NHSNumberVerificationStatus-1";
/// Extension-CareConnect-DeathNotificationStatus-1.
pub const DEATH_NOTIFICATION_STATUS_EXTENSION: &str =
    "https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-DeathNotificationStatus-1";
/// Extension-CareConnect-EthnicCategory-1.
pub const ETHNIC_CATEGORY_EXTENSION: &str =
    "https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-EthnicCategory-1";
/// Extension-CareConnect-VaccinationProcedure-1.
pub const VACCINATION_PROCEDURE_EXTENSION: &str =
    "https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-VaccinationProcedure-1";
/// HL7 `patient-birthTime` (on `Patient.birthDate`).
pub const BIRTH_TIME_EXTENSION: &str = "http://hl7.org/fhir/StructureDefinition/patient-birthTime";

/// CareConnect-NHSNumberVerificationStatus-1.
pub const NHS_NUMBER_VERIFICATION_STATUS_SYSTEM: &str =
    "https://fhir.hl7.org.uk/STU3/CodeSystem/CareConnect-NHSNumberVerificationStatus-1";
/// CareConnect-DeathNotificationStatus-1.
pub const DEATH_NOTIFICATION_STATUS_SYSTEM: &str =
    "https://fhir.hl7.org.uk/STU3/CodeSystem/CareConnect-DeathNotificationStatus-1";
/// CareConnect-EthnicCategory-1.
pub const ETHNIC_CATEGORY_SYSTEM: &str =
    "https://fhir.hl7.org.uk/STU3/CodeSystem/CareConnect-EthnicCategory-1";
/// DCH-ChildHealthEncounterType-1.
pub const CHILD_HEALTH_ENCOUNTER_TYPE_SYSTEM: &str =
    "https://fhir.nhs.uk/STU3/CodeSystem/DCH-ChildHealthEncounterType-1";
/// EMS-PDS-PatientCareProvisionType-1.
pub const PATIENT_CARE_PROVISION_TYPE_SYSTEM: &str =
    "https://fhir.nhs.uk/STU3/CodeSystem/EMS-PDS-PatientCareProvisionType-1";
/// EMS-PDS-StillBornIndicator-1.
pub const STILL_BORN_INDICATOR_SYSTEM: &str =
    "https://fhir.nhs.uk/STU3/CodeSystem/EMS-PDS-StillBornIndicator-1";
/// EMS-PDS-SuspectedCongenitalAbnormalityIndicator-1.
pub const CONGENITAL_ABNORMALITY_INDICATOR_SYSTEM: &str =
    "https://fhir.nhs.uk/STU3/CodeSystem/EMS-PDS-SuspectedCongenitalAbnormalityIndicator-1";
/// EMS-PDS-RegisteringAuthorityType-1.
pub const REGISTERING_AUTHORITY_TYPE_SYSTEM: &str =
    "https://fhir.nhs.uk/STU3/CodeSystem/EMS-PDS-RegisteringAuthorityType-1";
/// BirthEpisodeCategory-1.
pub const BIRTH_EPISODE_CATEGORY_SYSTEM: &str =
    "https://fhir.nhs.uk/STU3/CodeSystem/BirthEpisodeCategory-1";
