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
/// ODS site code identifier system (a Location's site).
pub const ODS_SITE_SYSTEM: &str = "https://fhir.nhs.uk/Id/ods-site-code";
/// Accredited-system (ASID) identifier system (the JWT `requesting_system`).
pub const ACCREDITED_SYSTEM: &str = "https://fhir.nhs.uk/Id/accredited-system";
/// SNOMED CT.
pub const SNOMED_CT: &str = "http://snomed.info/sct";
/// LOINC.
pub const LOINC: &str = "http://loinc.org";
/// The base of NHS England's FHIR URLs (profiles, code systems, identifier
/// systems).
pub const NHS_FHIR_BASE: &str = "https://fhir.nhs.uk/";
/// The base of the HL7 UK (CareConnect) FHIR URLs.
pub const HL7_UK_FHIR_BASE: &str = "https://fhir.hl7.org.uk/";

/// The ODS code of an ODS directory URL (`None`: not a directory URL, or no
/// code after it).
pub fn ods_from_directory(url: &str) -> Option<&str> {
    url.strip_prefix(ODS_DIRECTORY)
        .filter(|ods| !ods.is_empty())
}

/// Event-MessageHeader-1.
pub const MESSAGE_HEADER_PROFILE: &str =
    "https://fhir.nhs.uk/STU3/StructureDefinition/Event-MessageHeader-1";
/// Spine-OperationOutcome-1 (the profile of the server's outcomes).
pub const SPINE_OPERATION_OUTCOME_PROFILE: &str =
    "https://fhir.nhs.uk/STU3/StructureDefinition/Spine-OperationOutcome-1";
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

/// The literal of an extension URL of this module by its constant's name,
/// for `concat!` (the requirement tables' paths `extension(<url>)`); the
/// constants are defined from it, so each URL is spelled once.
///
/// ```
/// assert_eq!(ems_nhs::extension_url!(BIRTH_TIME_EXTENSION), ems_nhs::vocab::BIRTH_TIME_EXTENSION);
/// ```
#[macro_export]
macro_rules! extension_url {
    (ROUTING_DEMOGRAPHICS_EXTENSION) => {
        "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-RoutingDemographics-1"
    };
    (MESSAGE_EVENT_TYPE_EXTENSION) => {
        "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-MessageEventType-1"
    };
    (NHS_NUMBER_VERIFICATION_STATUS_EXTENSION) => {
        "https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-NHSNumberVerificationStatus-1"
    };
    (DEATH_NOTIFICATION_STATUS_EXTENSION) => {
        "https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-DeathNotificationStatus-1"
    };
    (ETHNIC_CATEGORY_EXTENSION) => {
        "https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-EthnicCategory-1"
    };
    (VACCINATION_PROCEDURE_EXTENSION) => {
        "https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-VaccinationProcedure-1"
    };
    (BIRTH_TIME_EXTENSION) => {
        "http://hl7.org/fhir/StructureDefinition/patient-birthTime"
    };
}

/// Extension-RoutingDemographics-1 (on the MessageHeader).
pub const ROUTING_DEMOGRAPHICS_EXTENSION: &str =
    crate::extension_url!(ROUTING_DEMOGRAPHICS_EXTENSION);
/// Extension-MessageEventType-1 (on the MessageHeader).
pub const MESSAGE_EVENT_TYPE_EXTENSION: &str = crate::extension_url!(MESSAGE_EVENT_TYPE_EXTENSION);
/// Extension-CareConnect-NHSNumberVerificationStatus-1.
pub const NHS_NUMBER_VERIFICATION_STATUS_EXTENSION: &str =
    crate::extension_url!(NHS_NUMBER_VERIFICATION_STATUS_EXTENSION);
/// Extension-CareConnect-DeathNotificationStatus-1.
pub const DEATH_NOTIFICATION_STATUS_EXTENSION: &str =
    crate::extension_url!(DEATH_NOTIFICATION_STATUS_EXTENSION);
/// Extension-CareConnect-EthnicCategory-1.
pub const ETHNIC_CATEGORY_EXTENSION: &str = crate::extension_url!(ETHNIC_CATEGORY_EXTENSION);
/// Extension-CareConnect-VaccinationProcedure-1.
pub const VACCINATION_PROCEDURE_EXTENSION: &str =
    crate::extension_url!(VACCINATION_PROCEDURE_EXTENSION);
/// HL7 `patient-birthTime` (on `Patient.birthDate`).
pub const BIRTH_TIME_EXTENSION: &str = crate::extension_url!(BIRTH_TIME_EXTENSION);

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
/// EMS-PDS-DeliveryPlaceType-1.
pub const DELIVERY_PLACE_TYPE_SYSTEM: &str =
    "https://fhir.nhs.uk/STU3/CodeSystem/EMS-PDS-DeliveryPlaceType-1";
/// DCH-ProfessionalCommentType-1.
pub const PROFESSIONAL_COMMENT_TYPE_SYSTEM: &str =
    "https://fhir.nhs.uk/STU3/CodeSystem/DCH-ProfessionalCommentType-1";
/// EMS-HealthcareServiceType-1.
pub const HEALTHCARE_SERVICE_TYPE_SYSTEM: &str =
    "https://fhir.nhs.uk/STU3/CodeSystem/EMS-HealthcareServiceType-1";
