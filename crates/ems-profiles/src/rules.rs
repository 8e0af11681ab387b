//! The rule table: every rule id the validator reports, its strength, how
//! each mode classifies it, and where the requirement comes from.

use crate::Mode;
use ems_stu3::{Issue, IssueType, Outcome, Severity};

/// How strongly the specification states a rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Strength {
    /// SHALL / MUST (or a 1..1 cardinality).
    Must,
    /// SHOULD.
    Should,
    /// Informational.
    Info,
}

/// One validation rule.
#[derive(Debug)]
pub struct Rule {
    /// Stable rule id (from the digest where it names one).
    pub id: &'static str,
    /// Strength in the specification.
    pub strength: Strength,
    /// `true` when a receiver cannot process the message safely if the rule
    /// is broken (an error in Receive mode too).
    pub critical: bool,
    /// FHIR issue type.
    pub code: IssueType,
    /// Spine ErrorOrWarningCode.
    pub spine: Option<&'static str>,
    /// Digest section (or `stu3` for FHIR base rules).
    pub section: &'static str,
    /// What the rule requires.
    pub summary: &'static str,
}

impl Rule {
    /// Severity of a breach in `mode`.
    pub fn severity(&self, mode: Mode) -> Severity {
        self.severity_as(self.strength, mode)
    }

    /// Severity of a breach stated with `strength` in `mode`.
    pub fn severity_as(&self, strength: Strength, mode: Mode) -> Severity {
        match (mode, strength) {
            (_, Strength::Info) => Severity::Information,
            (Mode::Publish, Strength::Must) => Severity::Error,
            (Mode::Publish, Strength::Should) => Severity::Warning,
            (Mode::Receive, _) if self.critical => Severity::Error,
            (Mode::Receive, _) => Severity::Warning,
        }
    }
}

use IssueType as T;
use Strength::{Info, Must, Should};

macro_rules! r {
    ($id:literal, $s:expr, $crit:expr, $code:expr, $spine:expr, $sec:literal, $sum:literal) => {
        Rule {
            id: $id,
            strength: $s,
            critical: $crit,
            code: $code,
            spine: $spine,
            section: $sec,
            summary: $sum,
        }
    };
}

/// Every rule, grouped as in `docs/conformance.md`.
pub static RULES: &[Rule] = &[
    // reader (ems-stu3)
    r!("SCHEMA-ORDER", Must, false, T::Structure, Some("INVALID_RESOURCE"), "2.7", "elements in STU3 schema order"),
    r!("SCHEMA-UNKNOWN", Must, false, T::Structure, Some("INVALID_ELEMENT"), "2.7", "only elements the STU3 type defines"),
    r!("SCHEMA-REPEATED", Must, false, T::Structure, Some("INVALID_RESOURCE"), "stu3", "single-valued elements appear at most once"),
    r!("SCHEMA-CONTENT", Must, false, T::Structure, Some("INVALID_RESOURCE"), "stu3", "no text content; JSON values of the right shape"),
    r!("PRIMITIVE-EMPTY", Must, false, T::Required, Some("INVALID_VALUE"), "stu3", "a primitive has a value or an extension"),
    r!("PRIMITIVE-FORMAT", Must, false, T::Value, Some("INVALID_VALUE"), "stu3", "primitive values in their STU3 lexical form"),
    r!("XML-NAMESPACE", Must, false, T::Structure, Some("MESSAGE_NOT_WELL_FORMED"), "2.1", "XML in the FHIR namespace"),
    r!("XML-MALFORMED", Must, true, T::Structure, Some("MESSAGE_NOT_WELL_FORMED"), "2.1", "well-formed XML"),
    r!("XML-DTD", Must, true, T::Security, Some("MESSAGE_NOT_WELL_FORMED"), "2.1", "no DTD or entity declarations"),
    r!("XHTML-MALFORMED", Must, false, T::Structure, Some("INVALID_RESOURCE"), "stu3", "Narrative.div is one well-formed XHTML div element (otherwise not kept)"),
    r!("TXT-1", Must, false, T::Invariant, Some("INVALID_RESOURCE"), "stu3", "a narrative holds only basic HTML elements and attributes: no scripts, forms, event attributes (FHIR txt-1)"),
    r!("TXT-2", Must, false, T::Invariant, Some("INVALID_RESOURCE"), "stu3", "a narrative has non-whitespace content (FHIR txt-2)"),
    r!("JSON-MALFORMED", Must, true, T::Structure, Some("MESSAGE_NOT_WELL_FORMED"), "2.9", "well-formed JSON"),
    r!("RESOURCE-TYPE", Must, true, T::NotSupported, Some("INVALID_RESOURCE"), "stu3", "a known STU3 resource type"),
    r!("INPUT-TOO-LARGE", Must, true, T::TooCostly, Some("INVALID_REQUEST_MESSAGE"), "2.1", "a message is at most 3 MB (3 MiB cap)"),
    r!("INPUT-DEPTH", Must, true, T::TooCostly, Some("INVALID_REQUEST_MESSAGE"), "stu3", "nesting within the depth cap"),
    r!("INPUT-UTF8", Must, true, T::Structure, Some("MESSAGE_NOT_WELL_FORMED"), "2.1", "UTF-8 text"),
    r!("ISSUES-TRUNCATED", Must, false, T::TooCostly, None, "stu3", "an outcome lists at most 1,000 issues; one summary issue counts the rest by rule, with their worst severity"),
    // bundle
    r!("BUNDLE-TYPE", Must, true, T::Invalid, Some("INVALID_RESOURCE"), "2.1", "Bundle.type is `message`"),
    r!("MH-FIRST", Must, false, T::Structure, Some("INVALID_RESOURCE"), "2.1", "the first entry is the MessageHeader"),
    r!("MH-MISSING", Must, true, T::Required, Some("INVALID_RESOURCE"), "2.1", "the bundle has a MessageHeader"),
    r!("FULLURL-FORMAT", Must, false, T::Value, Some("INVALID_VALUE"), "2.1", "entry.fullUrl is `urn:uuid:` + the resource id (a UUID)"),
    r!("FULLURL-UNIQUE", Must, false, T::Duplicate, Some("INVALID_RESOURCE"), "2.1", "entry.fullUrl values are unique"),
    r!("REF-UNRESOLVED", Should, false, T::NotFound, Some("REFERENCE_NOT_FOUND"), "2.1", "every `urn:uuid:` reference resolves inside the bundle"),
    // message header
    r!("MH-ID", Must, true, T::Required, Some("INVALID_VALUE"), "2.2", "MessageHeader.id is a UUID"),
    r!("MH-PROFILE", Should, false, T::Invalid, None, "2.2", "meta.profile carries Event-MessageHeader-1"),
    r!("MH-SEQ", Must, false, T::Value, Some("INVALID_VALUE"), "2.2", "meta.versionId is an integer sequence number"),
    r!("MH-LASTUPDATED", Must, false, T::Required, Some("INVALID_VALUE"), "2.2", "meta.lastUpdated present where the event requires it"),
    r!("MH-ROUTING", Must, false, T::Required, Some("INVALID_PATIENT_DEMOGRAPHICS"), "2.2", "routing demographics extension with nhsNumber, official name, birthDateTime"),
    r!("MH-ROUTING-NHSNUMBER", Must, true, T::Required, Some("INVALID_NHS_NUMBER"), "2.2", "routing NHS number present (the patient can be determined)"),
    r!("MH-ROUTING-MISMATCH", Must, false, T::BusinessRule, Some("INVALID_PATIENT_DEMOGRAPHICS"), "2.2", "routing demographics match the subject Patient"),
    r!("MH-MSGEVENTTYPE", Must, true, T::CodeInvalid, Some("INVALID_CODE_VALUE"), "2.2", "messageEventType extension: one coding, allowed code, display"),
    r!("MH-EVENT-SYSTEM", Must, true, T::CodeInvalid, Some("INVALID_CODE_SYSTEM"), "2.2", "event.system is EventType-1"),
    r!("MH-EVENT-CODE", Must, true, T::CodeInvalid, Some("INVALID_CODE_VALUE"), "2.2", "event.code is a supported NEMS event"),
    r!("MH-EVENT-DISPLAY", Must, false, T::CodeInvalid, Some("INVALID_CODE_VALUE"), "2.2", "event.display is the EventType-1 display; userSelected absent"),
    r!("MH-SOURCE-NAME", Must, false, T::Required, Some("INVALID_RESOURCE"), "2.2", "source.name present"),
    r!("MH-SOURCE-CONTACT", Must, false, T::Required, Some("INVALID_RESOURCE"), "2.2", "source.contact with system phone|email matching the value"),
    r!("MH-SOURCE-ENDPOINT", Must, false, T::Required, Some("INVALID_RESOURCE"), "2.2", "source.endpoint present (STU3 1..1)"),
    r!("MH-TIMESTAMP", Must, false, T::Required, Some("INVALID_RESOURCE"), "2.2", "timestamp present (STU3 1..1)"),
    r!("MH-RESPONSIBLE", Must, false, T::Required, Some("INVALID_RESOURCE"), "2.2", "responsible.reference present"),
    r!("MH-RESPONSIBLE-INBUNDLE", Must, false, T::NotFound, Some("REFERENCE_NOT_FOUND"), "2.2", "responsible is an Organization in the bundle (birth notification, change of address)"),
    r!("MH-FOCUS", Must, true, T::NotFound, Some("REFERENCE_NOT_FOUND"), "2.2", "focus present and resolves in the bundle"),
    r!("MH-FOCUS-TYPE", Must, true, T::Invalid, Some("INVALID_RESOURCE"), "2.2", "focus is the event's resource type"),
    r!("MH-PROHIBITED", Must, false, T::Invalid, Some("INVALID_ELEMENT"), "2.2", "receiver, author, reason, response absent; destination at most once"),
    r!("DATETIME-FORMAT", Must, false, T::Value, Some("INVALID_VALUE"), "2.8", "dateTime/instant with a time carry a UTC offset (NEMS regex)"),
    // resources
    r!("PATIENT-SUBJECT", Must, false, T::NotFound, Some("REFERENCE_NOT_FOUND"), "2.5", "the event's subject Patient is in the bundle"),
    r!("PATIENT-NHSNUMBER", Must, false, T::Required, Some("INVALID_IDENTIFIER_SYSTEM"), "2.5", "Patient has an NHS number identifier"),
    r!("PROFILE-PATIENT", Must, false, T::Invalid, Some("INVALID_RESOURCE"), "2.5", "CareConnect-Patient-1: verification status on the NHS number; animal/communication absent"),
    r!("PATIENT-NAME", Must, false, T::Required, Some("INVALID_RESOURCE"), "2.5", "Patient has an official name with family"),
    r!("PATIENT-BIRTHDATE", Must, false, T::Required, Some("INVALID_RESOURCE"), "2.5", "Patient.birthDate present"),
    r!("PATIENT-BIRTHTIME", Should, false, T::BusinessRule, None, "2.5", "patient-birthTime falls on birthDate"),
    r!("NHS-NUMBER-CHECKDIGIT", Must, false, T::Value, Some("INVALID_NHS_NUMBER"), "2.5", "NHS numbers are 10 digits with a valid Modulus 11 check digit"),
    r!("NHS-NUMBER-PLACEHOLDER", Should, false, T::Value, Some("INVALID_NHS_NUMBER"), "2.5", "NHS number is not a placeholder such as 9999999999"),
    r!("ORG-ODS", Must, false, T::Required, Some("INVALID_IDENTIFIER_SYSTEM"), "2.6", "Organization has an ODS code identifier of the right shape"),
    r!("ORG-NAME", Must, false, T::Required, Some("INVALID_RESOURCE"), "2.6", "Organization has a name"),
    r!("CODING-SYSTEM", Must, false, T::CodeInvalid, Some("INVALID_CODE_SYSTEM"), "11", "coding.system is a known code system (not a ValueSet or malformed URL)"),
    r!("CODING-NO-SYSTEM", Should, false, T::CodeInvalid, Some("INVALID_CODE_SYSTEM"), "11", "codings carry a system"),
    r!("CODE-INVALID", Must, false, T::CodeInvalid, Some("INVALID_CODE_VALUE"), "11", "codes exist in their (complete) code system; required core bindings (STU3 element table)"),
    r!("CONTACTPOINT-VALUE", Should, false, T::Value, Some("INVALID_VALUE"), "2.2", "phone and e-mail contact points have values of that shape"),
    r!("CODE-DISPLAY", Should, false, T::CodeInvalid, None, "11", "displays match the code system"),
    // per event
    r!("COMM-STATUS", Must, false, T::Value, Some("INVALID_VALUE"), "10", "focus Communication status `completed` with a subject"),
    r!("PDS-SCN", Must, false, T::Required, Some("INVALID_RESOURCE"), "10.1-10.5", "PDS Patient meta.versionId (serial change number)"),
    r!("PDS-ORG-COUNT", Must, false, T::Invalid, Some("INVALID_RESOURCE"), "10.2, 10.4", "1..2 Organizations"),
    r!("BN-RELATIONSHIP", Must, false, T::Value, Some("INVALID_CODE_VALUE"), "10.1", "RelatedPerson.relationship is RoleCode NMTH natural mother"),
    r!("BN-REGISTERING-AUTHORITY", Must, false, T::Required, Some("INVALID_RESOURCE"), "10.1", "one registering-authority EpisodeOfCare with its Organization"),
    r!("BN-OBSERVATION", Must, false, T::Value, Some("INVALID_VALUE"), "10.1", "birth Observations carry the fixed codings and displays"),
    r!("BN-BABY", Must, false, T::Required, Some("INVALID_RESOURCE"), "10.1", "baby Patient: NHS number, name, gender, birthDate, birth order"),
    r!("COA-ADDRESS", Must, false, T::Required, Some("INVALID_RESOURCE"), "10.2", "home and old addresses with lines, postcode, period.start; no city/district"),
    r!("COA-ADDRESS-TEXT", Must, false, T::Required, Some("INVALID_RESOURCE"), "10.2", "both addresses carry address.text"),
    r!("COGP-ORG-PARTOF", Must, false, T::Required, Some("INVALID_RESOURCE"), "10.3", "practice Organizations have partOf"),
    r!("COGP-EOC", Must, false, T::Invalid, Some("INVALID_RESOURCE"), "10.3", "previous-registration EpisodeOfCare: finished, primary care, patient, managingOrganization"),
    r!("DEATH-STATUS", Must, false, T::Required, Some("INVALID_RESOURCE"), "10.4", "deathNotificationStatus extension with code 1/2/U and systemEffectiveDate"),
    r!("DEATH-DECEASED", Must, false, T::Invalid, Some("INVALID_RESOURCE"), "10.4", "deceasedDateTime present for 1/2, absent for U"),
    r!("SCREENING-ENCOUNTER", Must, false, T::Required, Some("INVALID_RESOURCE"), "10.6-10.8", "focus Encounter: identifier; new: type, serviceProvider, subject (period.start for hearing/NIPE)"),
    r!("PC-EOC", Must, false, T::Required, Some("INVALID_RESOURCE"), "10.9", "focus EpisodeOfCare: identifier, status, type, managingOrganization"),
    r!("PC-ORG-TELECOM", Must, false, T::Required, Some("INVALID_RESOURCE"), "10.9", "the managing Organization has contact details"),
    r!("VACC-IMMUNIZATION", Must, false, T::Required, Some("INVALID_RESOURCE"), "10.10", "Immunization: vaccinationProcedure, identifier, notGiven, vaccineCode, date, primarySource; reasonNotGiven when not given"),
    r!("VACC-VACCINECODE", Should, false, T::CodeInvalid, None, "10.10", "vaccineCode from CareConnect-VaccineCode-1 (NullFlavor NAVU/UNC/UNK)"),
    r!("HS-SPECIALTY", Must, false, T::Required, Some("INVALID_RESOURCE"), "10.6-10.10", "HealthcareService has providedBy, type and specialty"),
    // subscriptions
    r!("SUB-PROFILE", Should, false, T::Invalid, None, "5.2", "meta.profile carries EMS-Subscription-1"),
    r!("SUB-STATUS", Must, false, T::Value, Some("INVALID_VALUE"), "5.2", "status `requested` on create (stored: a Subscription status)"),
    r!("SUB-CONTACT", Must, false, T::Required, Some("INVALID_VALUE"), "5.2", "contact: system url, use work, value the ODS directory URL"),
    r!("SUB-REASON", Must, false, T::Required, Some("INVALID_RESOURCE"), "5.2", "reason present"),
    r!("SUB-CHANNEL", Must, false, T::Required, Some("INVALID_VALUE"), "5.2", "channel.type `message`, channel.endpoint the MESH mailbox"),
    r!("SUB-PROHIBITED", Must, false, T::Invalid, Some("INVALID_ELEMENT"), "5.2", "error and tag absent; contained only Provenance"),
    r!("SUB-CREATE-META", Must, false, T::Invalid, Some("INVALID_ELEMENT"), "5.2", "create requests carry no id, meta.versionId or meta.lastUpdated"),
    r!("SUB-CRITERIA-PATH", Must, false, T::Value, Some("INVALID_PARAMETER"), "6.1", "criteria starts `/Bundle?` and has `type=message`"),
    r!("SUB-CRITERIA-KIND", Must, false, T::Value, Some("INVALID_PARAMETER"), "6.1", "explicit or generic, not both or neither"),
    r!("SUB-CRITERIA-UNKNOWN", Must, false, T::Value, Some("INVALID_PARAMETER"), "6.1", "only known criteria components"),
    r!("SUB-CRITERIA-CARDINALITY", Must, false, T::Value, Some("INVALID_PARAMETER"), "6.1", "components within their explicit/generic cardinalities"),
    r!("SUB-CRITERIA-VALUE", Must, false, T::Value, Some("INVALID_PARAMETER"), "6.1", "component values allowed"),
    r!("SUB-CRITERIA-EVENT", Must, false, T::CodeInvalid, Some("INVALID_CODE_VALUE"), "6.1", "events are supported NEMS events"),
    r!("BUNDLE-TOTAL", Must, false, T::Value, Some("INVALID_VALUE"), "5.5", "searchset Bundle.total equals the number of matches"),
    // operation outcome
    r!("OO-ISSUE", Must, false, T::Required, Some("INVALID_RESOURCE"), "3.3", "issues with severity and code"),
    r!("OO-SPINE-CODE", Must, false, T::CodeInvalid, Some("INVALID_CODE_VALUE"), "3.3, 4.3", "issue.details carries one Spine-ErrorOrWarningCode-1 coding"),
    r!("OO-DIAGNOSTICS", Should, false, T::Required, None, "4.3", "life-cycle warnings carry diagnostics"),
    r!("INFO-TIMESTAMP", Info, false, T::Informational, None, "2.4", "timestamp not earlier than meta.lastUpdated"),
];

/// Looks up a rule by id.
pub fn rule(id: &str) -> Option<&'static Rule> {
    // rule ids sorted once, then a binary search per reported finding
    static BY_ID: std::sync::OnceLock<Vec<&'static Rule>> = std::sync::OnceLock::new();
    let by_id = BY_ID.get_or_init(|| {
        let mut v: Vec<&'static Rule> = RULES.iter().collect();
        v.sort_by_key(|r| r.id);
        v
    });
    by_id
        .binary_search_by(|r| r.id.cmp(id))
        .ok()
        .map(|i| by_id[i])
}

/// Collects issues for one validation run.
pub(crate) struct Report {
    mode: Mode,
    out: Outcome,
}

impl Report {
    pub fn new(mode: Mode) -> Report {
        Report {
            mode,
            out: Outcome::new(),
        }
    }

    /// Reports a breach of rule `id` with its table strength.
    pub fn add(
        &mut self,
        id: &'static str,
        location: impl Into<String>,
        message: impl Into<String>,
    ) {
        self.add_as(id, None, location, message)
    }

    /// Reports a breach of rule `id` stated with `strength` (for rules whose
    /// strength depends on the event, e.g. ORG-NAME).
    pub fn add_as(
        &mut self,
        id: &'static str,
        strength: Option<Strength>,
        location: impl Into<String>,
        message: impl Into<String>,
    ) {
        let (severity, code, spine) = match rule(id) {
            Some(r) => (
                r.severity_as(strength.unwrap_or(r.strength), self.mode),
                r.code,
                r.spine,
            ),
            None => (Severity::Error, IssueType::Invalid, None),
        };
        let mut i = Issue::new(severity, code, id, location, message);
        i.spine_code = spine;
        self.out.push(i);
    }

    pub fn finish(self) -> Outcome {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_is_found_by_its_id_and_ids_are_unique() {
        let mut ids: Vec<_> = RULES.iter().map(|r| r.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), RULES.len(), "duplicate rule ids");
        for r in RULES {
            assert!(std::ptr::eq(rule(r.id).unwrap(), r), "{}", r.id);
        }
        assert!(rule("NO-SUCH-RULE").is_none());
        assert!(rule("").is_none());
    }
}
