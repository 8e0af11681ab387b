//! The NEMS event types (`../shared/spec/event-types.json`, digest section 10.0).

/// One supported NEMS event type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventType {
    /// EventType-1 code, e.g. `pds-change-of-address-1`.
    pub code: &'static str,
    /// EventType-1 display, e.g. `PDS Change of Address`.
    pub display: &'static str,
    /// MESH WorkflowID, e.g. `CHANGEOFADDRESS_1`.
    pub workflow_id: &'static str,
    /// Event code of the publish InteractionID (`None`: published by Spine only).
    pub publish_interaction_code: Option<&'static str>,
    /// Allowed `messageEventType` codes.
    pub message_event_types: &'static [&'static str],
    /// Resource type of `MessageHeader.focus`.
    pub focus: &'static str,
    /// Routing demographics extension 1..1 (0..1 only for PDS Birth Notification).
    pub routing_demographics_required: bool,
    /// In `delete` messages routing name and birth date are optional (screening events).
    pub delete_routing_name_dob_optional: bool,
    /// `MessageHeader.meta.lastUpdated` 1..1.
    pub meta_last_updated_required: bool,
    /// `MessageHeader.responsible` must be an Organization inside the bundle.
    pub responsible_in_bundle: bool,
    /// Organizations need a `name`.
    pub organization_name_required: bool,
    /// Maturity label.
    pub maturity: &'static str,
}

impl EventType {
    /// `urn:nhs:names:services:events:<Code>.Write`, for events with publish support.
    pub fn publish_interaction_id(&self) -> Option<String> {
        self.publish_interaction_code
            .map(|c| format!("urn:nhs:names:services:events:{c}.Write"))
    }
    /// `true` when publishers may publish it (not Spine-only).
    pub fn publication_supported(&self) -> bool {
        self.publish_interaction_code.is_some()
    }
}

/// EventType-1 code system URL.
pub const EVENT_TYPE_SYSTEM: &str = "https://fhir.nhs.uk/STU3/CodeSystem/EventType-1";
/// MessageEventType-1 code system URL.
pub const MESSAGE_EVENT_TYPE_SYSTEM: &str =
    "https://fhir.nhs.uk/STU3/CodeSystem/MessageEventType-1";

const ND: &[&str] = &["new", "delete"];
const N: &[&str] = &["new"];
const NUD: &[&str] = &["new", "update", "delete"];

/// The ten event types NEMS supports, in code order.
pub static EVENT_TYPES: [EventType; 10] = [
    EventType {
        code: "blood-spot-test-outcome-1",
        display: "Blood Spot Test Outcome",
        workflow_id: "BLOODSPOTTESTOUTCOME_1",
        publish_interaction_code: Some("Bloodspottestoutcome"),
        message_event_types: ND,
        focus: "Encounter",
        routing_demographics_required: true,
        delete_routing_name_dob_optional: true,
        meta_last_updated_required: true,
        responsible_in_bundle: false,
        organization_name_required: true,
        maturity: "Release Candidate",
    },
    EventType {
        code: "newborn-hearing-1",
        display: "Newborn Hearing",
        workflow_id: "NEWBORNHEARING_1",
        publish_interaction_code: Some("Newbornhearing"),
        message_event_types: ND,
        focus: "Encounter",
        routing_demographics_required: true,
        delete_routing_name_dob_optional: true,
        meta_last_updated_required: true,
        responsible_in_bundle: false,
        organization_name_required: true,
        maturity: "Release Candidate",
    },
    EventType {
        code: "nipe-outcome-1",
        display: "NIPE outcome",
        workflow_id: "NIPEOUTCOME_1",
        publish_interaction_code: Some("Nipeoutcome"),
        message_event_types: ND,
        focus: "Encounter",
        routing_demographics_required: true,
        delete_routing_name_dob_optional: true,
        meta_last_updated_required: true,
        responsible_in_bundle: false,
        organization_name_required: true,
        maturity: "Release Candidate",
    },
    EventType {
        code: "pds-birth-notification-1",
        display: "PDS Birth Notification",
        workflow_id: "BIRTHNOTIFICATION_1",
        publish_interaction_code: None,
        message_event_types: N,
        focus: "Communication",
        routing_demographics_required: false,
        delete_routing_name_dob_optional: false,
        meta_last_updated_required: false,
        responsible_in_bundle: true,
        organization_name_required: false,
        maturity: "Release Candidate",
    },
    EventType {
        code: "pds-change-of-address-1",
        display: "PDS Change of Address",
        workflow_id: "CHANGEOFADDRESS_1",
        publish_interaction_code: None,
        message_event_types: N,
        focus: "Communication",
        routing_demographics_required: true,
        delete_routing_name_dob_optional: false,
        meta_last_updated_required: true,
        responsible_in_bundle: true,
        organization_name_required: true,
        maturity: "Release Candidate",
    },
    EventType {
        code: "pds-change-of-gp-1",
        display: "PDS Change of GP",
        workflow_id: "CHANGEOFGP_1",
        publish_interaction_code: None,
        message_event_types: N,
        focus: "Communication",
        routing_demographics_required: true,
        delete_routing_name_dob_optional: false,
        meta_last_updated_required: true,
        responsible_in_bundle: false,
        organization_name_required: true,
        maturity: "Release Candidate",
    },
    EventType {
        code: "pds-death-notification-1",
        display: "PDS Death Notification",
        workflow_id: "DEATHNOTIFICATION_1",
        publish_interaction_code: None,
        message_event_types: N,
        focus: "Communication",
        routing_demographics_required: true,
        delete_routing_name_dob_optional: false,
        meta_last_updated_required: true,
        responsible_in_bundle: false,
        organization_name_required: true,
        maturity: "Release Candidate",
    },
    EventType {
        code: "pds-record-change-1",
        display: "PDS Record Change",
        workflow_id: "PDSRECORDCHANGE_1",
        publish_interaction_code: None,
        message_event_types: N,
        focus: "Patient",
        routing_demographics_required: true,
        delete_routing_name_dob_optional: false,
        meta_last_updated_required: false,
        responsible_in_bundle: false,
        organization_name_required: false,
        maturity: "Beta",
    },
    EventType {
        code: "professional-contacts-1",
        display: "Professional Contacts",
        workflow_id: "PROFESSIONALCONTACTS_1",
        publish_interaction_code: Some("Professionalcontacts"),
        message_event_types: NUD,
        focus: "EpisodeOfCare",
        routing_demographics_required: true,
        delete_routing_name_dob_optional: false,
        meta_last_updated_required: true,
        responsible_in_bundle: false,
        organization_name_required: true,
        maturity: "Release Candidate",
    },
    EventType {
        code: "vaccinations-1",
        display: "Vaccinations",
        workflow_id: "VACCINATIONS_1",
        publish_interaction_code: Some("Vaccinations"),
        message_event_types: NUD,
        focus: "Immunization",
        routing_demographics_required: true,
        delete_routing_name_dob_optional: false,
        meta_last_updated_required: true,
        responsible_in_bundle: false,
        organization_name_required: true,
        maturity: "Release Candidate",
    },
];

/// EventType-1 codes that exist but are not supported NEMS events (rejected
/// for publish and subscribe).
pub static UNSUPPORTED_EVENT_CODES: [&str; 44] = [
    "additional-demographics-1",
    "admission-details-1",
    "allergies-and-adverse-reactions-1",
    "assessment-scales-1",
    "birth-details-1",
    "blood-spot-sample-taken-1",
    "clinical-risk-factors-1",
    "problem-list-1",
    "discharge-details-1",
    "early-years-progress-1",
    "emergency-care-attendance-1",
    "examination-findings-1",
    "family-history-1",
    "feeding-status-1",
    "individual-requirements-1",
    "information-and-advice-given-1",
    "observations-1",
    "medication-statement-1",
    "developmental-skills-1",
    "parent-guardian-or-personal-comment-1",
    "personal-contacts-1",
    "plan-and-requested-actions-1",
    "professional-summary-1",
    "referral-1",
    "safety-alerts-1",
    "social-context-household-1",
    "social-context-1",
    "educational-history-1",
    "legal-information-1",
    "blood-spot-card-received-1",
    "medication-administration-1",
    "investigation-results-1",
    "national-population-failsafe-alert-1",
    "national-population-failsafe-alert-nullify-1",
    "failsafe-message-gp-1",
    "failsafe-message-hvs-1",
    "failsafe-message-bloodspot-outcome-1",
    "failsafe-message-nipe-newborn-1",
    "failsafe-message-newborn-hearing-1",
    "failsafe-message-response-gp-1",
    "failsafe-message-response-hvs-1",
    "failsafe-message-response-bloodspot-outcome-1",
    "failsafe-message-response-nipe-newborn-1",
    "failsafe-message-response-newborn-hearing-1",
];

/// Pre-2.0.0 codes (`EMS-EventType-1`) and their displays.
pub static LEGACY_EVENT_CODES: [(&str, &str); 6] = [
    ("FM001", "National Population Failsafe Alert"),
    ("FM002", "National Population Failsafe Alert Nullify"),
    ("PDS001", "PDS Change of GP"),
    ("PDS002", "PDS Change of Address"),
    ("PDS003", "PDS Birth Notification"),
    ("PDS004", "PDS Person Death"),
];

/// Looks up a supported event type by code.
///
/// ```
/// let e = ems_match::event_type("vaccinations-1").unwrap();
/// assert_eq!(e.workflow_id, "VACCINATIONS_1");
/// assert_eq!(e.publish_interaction_id().as_deref(), Some("urn:nhs:names:services:events:Vaccinations.Write"));
/// ```
pub fn event_type(code: &str) -> Option<&'static EventType> {
    EVENT_TYPES.iter().find(|e| e.code == code)
}

/// Index of a supported event type in [`EVENT_TYPES`] (used as a bit position).
pub fn event_index(code: &str) -> Option<usize> {
    EVENT_TYPES.iter().position(|e| e.code == code)
}

/// How a code that is not a supported event relates to the code systems.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnknownEvent {
    /// In EventType-1 but not supported by NEMS.
    Unsupported,
    /// A pre-2.0.0 `EMS-EventType-1` code.
    Legacy,
    /// Not in any NEMS code system.
    Unknown,
}

/// Classifies a code that is not in [`EVENT_TYPES`].
pub fn classify_unknown_event(code: &str) -> UnknownEvent {
    if UNSUPPORTED_EVENT_CODES.contains(&code) {
        UnknownEvent::Unsupported
    } else if LEGACY_EVENT_CODES.iter().any(|(c, _)| *c == code) {
        UnknownEvent::Legacy
    } else {
        UnknownEvent::Unknown
    }
}
