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
        severity(strength, self.critical, mode)
    }
}

/// Severity of a breach stated with `strength`, receive-critical or not, in `mode`.
pub fn severity(strength: Strength, critical: bool, mode: Mode) -> Severity {
    match (mode, strength) {
        (_, Strength::Info) => Severity::Information,
        (Mode::Publish, Strength::Must) => Severity::Error,
        (Mode::Publish, Strength::Should) => Severity::Warning,
        (Mode::Receive, _) if critical => Severity::Error,
        (Mode::Receive, _) => Severity::Warning,
    }
}

use IssueType as T;
use Strength::{Info, Must, Should};

/// A rule id that exists in [`RULES`]: the only way to report a finding, so
/// a misspelt id does not compile and no finding carries an unknown id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RuleId {
    id: &'static str,
    /// Row in [`RULES`].
    ix: u16,
}

impl RuleId {
    /// The id as written in the digest (`MH-ROUTING`).
    pub const fn as_str(self) -> &'static str {
        self.id
    }
    /// The rule's row in [`RULES`] (an index, no search).
    pub fn rule(self) -> &'static Rule {
        &RULES[self.ix as usize]
    }
}

impl RuleId {
    /// The typed id of a rule named by another crate (ems-match's criteria
    /// checks name theirs as strings); `None` when `RULES` has no such id.
    pub fn known(id: &str) -> Option<RuleId> {
        RULES.iter().position(|r| r.id == id).map(|ix| RuleId {
            id: RULES[ix].id,
            ix: ix as u16,
        })
    }
}

impl std::fmt::Display for RuleId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id)
    }
}

impl PartialEq<RuleId> for &str {
    fn eq(&self, other: &RuleId) -> bool {
        *self == other.id
    }
}

macro_rules! rules {
    ($($c:ident = $id:literal, $s:expr, $crit:expr, $code:expr, $spine:expr, $sec:literal, $sum:literal;)*) => {
        /// Row numbers of [`RULES`], in table order.
        #[allow(non_camel_case_types, clippy::upper_case_acronyms, dead_code)]
        #[repr(u16)]
        enum Ix {
            $($c,)*
        }

        /// The typed rule ids, one constant per row of [`RULES`]
        /// (`id::MH_ROUTING` is `MH-ROUTING`).
        pub mod id {
            use super::{Ix, RuleId};
            $(
                #[doc = $sum]
                pub const $c: RuleId = RuleId { id: $id, ix: Ix::$c as u16 };
            )*
        }

        /// Every rule, grouped as in `docs/conformance.md`.
        pub static RULES: &[Rule] = &[
            $(Rule {
                id: $id,
                strength: $s,
                critical: $crit,
                code: $code,
                spine: $spine,
                section: $sec,
                summary: $sum,
            },)*
        ];
    };
}

#[rustfmt::skip]
rules! {
    // reader (ems-stu3)
    SCHEMA_ORDER = "SCHEMA-ORDER", Must, false, T::Structure, Some("INVALID_RESOURCE"), "2.7", "elements in STU3 schema order";
    SCHEMA_UNKNOWN = "SCHEMA-UNKNOWN", Must, false, T::Structure, Some("INVALID_ELEMENT"), "2.7", "only elements the STU3 type defines";
    SCHEMA_REPEATED = "SCHEMA-REPEATED", Must, false, T::Structure, Some("INVALID_RESOURCE"), "stu3", "single-valued elements appear at most once";
    SCHEMA_CONTENT = "SCHEMA-CONTENT", Must, false, T::Structure, Some("INVALID_RESOURCE"), "stu3", "no text content; JSON values of the right shape";
    PROFILE_MAX = "PROFILE-MAX", Must, false, T::Structure, Some("INVALID_ELEMENT"), "2, 10", "elements (nested too) within the maximum of the NHS profile named in meta.profile (compiled from the StructureDefinitions)";
    // branch profiles2: the compiled NHS profiles (issue 13, layer 2)
    PROFILE_MIN = "PROFILE-MIN", Must, false, T::Required, Some("INVALID_RESOURCE"), "2, 10", "elements (nested too) present at least as often as the NHS profile's minimum, where the event page states no cardinality of its own";
    PROFILE_SLICE = "PROFILE-SLICE", Must, false, T::Structure, Some("INVALID_RESOURCE"), "2, 10", "identifier/coding/name/extension slices of the NHS profile (members selected by their fixed system, use or url) within the slice's cardinality";
    PROFILE_FIXED = "PROFILE-FIXED", Must, false, T::Value, Some("INVALID_VALUE"), "2, 10", "elements the NHS profile fixes (fixedUri, fixedCode, fixedString, ...) carry the fixed value";
    PROFILE_BINDING = "PROFILE-BINDING", Must, false, T::CodeInvalid, Some("INVALID_CODE_VALUE"), "2, 10", "codes of elements with a required binding to an NHS / HL7 UK value set are in the value set";
    PROFILE_TARGET = "PROFILE-TARGET", Must, false, T::Invalid, Some("INVALID_RESOURCE"), "2, 10", "an in-bundle reference target is of a type the NHS profile's targetProfile allows (and of the profile, where the target declares one)";
    // end branch profiles2
    SCHEMA_MIN = "SCHEMA-MIN", Must, false, T::Required, Some("INVALID_RESOURCE"), "stu3", "elements present at least as often as the STU3 minimum cardinality";
    ELE_1 = "ELE-1", Must, false, T::Invariant, Some("FHIR_CONSTRAINT_VIOLATION"), "stu3", "ele-1: every element has a value or children";
    EXT_1 = "EXT-1", Must, false, T::Invariant, Some("FHIR_CONSTRAINT_VIOLATION"), "stu3", "ext-1: an extension has a value or nested extensions, not both";
    DOM_2 = "DOM-2", Must, false, T::Invariant, Some("FHIR_CONSTRAINT_VIOLATION"), "stu3", "dom-2: a contained resource contains no resources";
    DOM_4 = "DOM-4", Must, false, T::Invariant, Some("FHIR_CONSTRAINT_VIOLATION"), "stu3", "dom-4: a contained resource has no meta.versionId or meta.lastUpdated";
    PRIMITIVE_EMPTY = "PRIMITIVE-EMPTY", Must, false, T::Required, Some("INVALID_VALUE"), "stu3", "a primitive has a value or an extension";
    PRIMITIVE_FORMAT = "PRIMITIVE-FORMAT", Must, false, T::Value, Some("INVALID_VALUE"), "stu3", "primitive values in their STU3 lexical form";
    XML_NAMESPACE = "XML-NAMESPACE", Must, false, T::Structure, Some("MESSAGE_NOT_WELL_FORMED"), "2.1", "XML in the FHIR namespace";
    XML_MALFORMED = "XML-MALFORMED", Must, true, T::Structure, Some("MESSAGE_NOT_WELL_FORMED"), "2.1", "well-formed XML";
    XML_DTD = "XML-DTD", Must, true, T::Security, Some("MESSAGE_NOT_WELL_FORMED"), "2.1", "no DTD or entity declarations";
    XHTML_MALFORMED = "XHTML-MALFORMED", Must, false, T::Structure, Some("INVALID_RESOURCE"), "stu3", "Narrative.div is one well-formed XHTML div element (otherwise not kept)";
    TXT_1 = "TXT-1", Must, false, T::Invariant, Some("INVALID_RESOURCE"), "stu3", "a narrative holds only basic HTML elements and attributes: no scripts, forms, event attributes (FHIR txt-1)";
    TXT_2 = "TXT-2", Must, false, T::Invariant, Some("INVALID_RESOURCE"), "stu3", "a narrative has non-whitespace content (FHIR txt-2)";
    ISSUES_TRUNCATED = "ISSUES-TRUNCATED", Must, false, T::TooCostly, None, "stu3", "an outcome lists at most 1,000 issues; one summary issue counts the rest by rule, with their worst severity";
    JSON_MALFORMED = "JSON-MALFORMED", Must, true, T::Structure, Some("MESSAGE_NOT_WELL_FORMED"), "2.9", "well-formed JSON";
    RESOURCE_TYPE = "RESOURCE-TYPE", Must, true, T::NotSupported, Some("INVALID_RESOURCE"), "stu3", "a known STU3 resource type";
    INPUT_TOO_LARGE = "INPUT-TOO-LARGE", Must, true, T::TooCostly, Some("INVALID_REQUEST_MESSAGE"), "2.1", "a message is at most 3 MB (3 MiB cap)";
    INPUT_DEPTH = "INPUT-DEPTH", Must, true, T::TooCostly, Some("INVALID_REQUEST_MESSAGE"), "stu3", "nesting within the depth cap";
    INPUT_UTF8 = "INPUT-UTF8", Must, true, T::Structure, Some("MESSAGE_NOT_WELL_FORMED"), "2.1", "UTF-8 text";
    // bundle
    BUNDLE_TYPE = "BUNDLE-TYPE", Must, true, T::Invalid, Some("INVALID_RESOURCE"), "2.1", "Bundle.type is `message`";
    MH_FIRST = "MH-FIRST", Must, false, T::Structure, Some("INVALID_RESOURCE"), "2.1", "the first entry is the MessageHeader";
    MH_MISSING = "MH-MISSING", Must, true, T::Required, Some("INVALID_RESOURCE"), "2.1", "the bundle has a MessageHeader";
    FULLURL_FORMAT = "FULLURL-FORMAT", Must, false, T::Value, Some("INVALID_VALUE"), "2.1", "entry.fullUrl is `urn:uuid:` + the resource id (a UUID)";
    FULLURL_UNIQUE = "FULLURL-UNIQUE", Must, false, T::Duplicate, Some("INVALID_RESOURCE"), "2.1", "entry.fullUrl values are unique";
    REF_UNRESOLVED = "REF-UNRESOLVED", Should, false, T::NotFound, Some("REFERENCE_NOT_FOUND"), "2.1", "every `urn:uuid:` reference resolves inside the bundle";
    // message header
    MH_ID = "MH-ID", Must, true, T::Required, Some("INVALID_VALUE"), "2.2", "MessageHeader.id is a UUID";
    MH_PROFILE = "MH-PROFILE", Should, false, T::Invalid, None, "2.2", "meta.profile carries Event-MessageHeader-1";
    MH_SEQ = "MH-SEQ", Must, false, T::Value, Some("INVALID_VALUE"), "2.2", "meta.versionId is an integer sequence number";
    MH_LASTUPDATED = "MH-LASTUPDATED", Must, false, T::Required, Some("INVALID_VALUE"), "2.2", "meta.lastUpdated present where the event requires it";
    MH_ROUTING = "MH-ROUTING", Must, false, T::Required, Some("INVALID_PATIENT_DEMOGRAPHICS"), "2.2", "routing demographics extension with nhsNumber, official name, birthDateTime";
    MH_ROUTING_NHSNUMBER = "MH-ROUTING-NHSNUMBER", Must, true, T::Required, Some("INVALID_NHS_NUMBER"), "2.2", "routing NHS number present (the patient can be determined)";
    MH_ROUTING_MISMATCH = "MH-ROUTING-MISMATCH", Must, false, T::BusinessRule, Some("INVALID_PATIENT_DEMOGRAPHICS"), "2.2", "routing demographics match the subject Patient";
    MH_MSGEVENTTYPE = "MH-MSGEVENTTYPE", Must, true, T::CodeInvalid, Some("INVALID_CODE_VALUE"), "2.2", "messageEventType extension: one coding, allowed code, display";
    MH_EVENT_SYSTEM = "MH-EVENT-SYSTEM", Must, true, T::CodeInvalid, Some("INVALID_CODE_SYSTEM"), "2.2", "event.system is EventType-1";
    MH_EVENT_CODE = "MH-EVENT-CODE", Must, true, T::CodeInvalid, Some("INVALID_CODE_VALUE"), "2.2", "event.code is a supported NEMS event";
    MH_EVENT_DISPLAY = "MH-EVENT-DISPLAY", Must, false, T::CodeInvalid, Some("INVALID_CODE_VALUE"), "2.2", "event.display is the EventType-1 display; userSelected absent";
    MH_SOURCE_NAME = "MH-SOURCE-NAME", Must, false, T::Required, Some("INVALID_RESOURCE"), "2.2", "source.name present";
    MH_SOURCE_CONTACT = "MH-SOURCE-CONTACT", Must, false, T::Required, Some("INVALID_RESOURCE"), "2.2", "source.contact with system phone|email matching the value";
    MH_SOURCE_ENDPOINT = "MH-SOURCE-ENDPOINT", Must, false, T::Required, Some("INVALID_RESOURCE"), "2.2", "source.endpoint present (STU3 1..1)";
    MH_TIMESTAMP = "MH-TIMESTAMP", Must, false, T::Required, Some("INVALID_RESOURCE"), "2.2", "timestamp present (STU3 1..1)";
    MH_RESPONSIBLE = "MH-RESPONSIBLE", Must, false, T::Required, Some("INVALID_RESOURCE"), "2.2", "responsible.reference present";
    MH_RESPONSIBLE_INBUNDLE = "MH-RESPONSIBLE-INBUNDLE", Must, false, T::NotFound, Some("REFERENCE_NOT_FOUND"), "2.2", "responsible is an Organization in the bundle (birth notification, change of address)";
    MH_FOCUS = "MH-FOCUS", Must, true, T::NotFound, Some("REFERENCE_NOT_FOUND"), "2.2", "focus present and resolves in the bundle";
    MH_FOCUS_TYPE = "MH-FOCUS-TYPE", Must, true, T::Invalid, Some("INVALID_RESOURCE"), "2.2", "focus is the event's resource type";
    MH_PROHIBITED = "MH-PROHIBITED", Must, false, T::Invalid, Some("INVALID_ELEMENT"), "2.2", "receiver, author, reason, response absent; destination at most once";
    DATETIME_FORMAT = "DATETIME-FORMAT", Must, false, T::Value, Some("INVALID_VALUE"), "2.8", "dateTime/instant with a time carry a UTC offset (NEMS regex)";
    // resources
    PATIENT_SUBJECT = "PATIENT-SUBJECT", Must, false, T::NotFound, Some("REFERENCE_NOT_FOUND"), "2.5", "the event's subject Patient is in the bundle";
    PATIENT_NHSNUMBER = "PATIENT-NHSNUMBER", Must, true, T::Required, Some("INVALID_IDENTIFIER_SYSTEM"), "2.5", "Patient has an NHS number identifier";
    PROFILE_PATIENT = "PROFILE-PATIENT", Must, false, T::Invalid, Some("INVALID_RESOURCE"), "2.5", "CareConnect-Patient-1: verification status on the NHS number; animal/communication absent";
    PATIENT_NHSNUMBER_VERIFIED = "PATIENT-NHSNUMBER-VERIFIED", Must, true, T::BusinessRule, Some("INVALID_NHS_NUMBER"), "2.5", "the NHS number's verification status is `01` (number present and verified)";
    PATIENT_NAME = "PATIENT-NAME", Must, false, T::Required, Some("INVALID_RESOURCE"), "2.5", "Patient has an official name with family";
    PATIENT_BIRTHDATE = "PATIENT-BIRTHDATE", Must, false, T::Required, Some("INVALID_RESOURCE"), "2.5", "Patient.birthDate present";
    PATIENT_BIRTHTIME = "PATIENT-BIRTHTIME", Should, false, T::BusinessRule, None, "2.5", "patient-birthTime falls on birthDate";
    NHS_NUMBER_CHECKDIGIT = "NHS-NUMBER-CHECKDIGIT", Must, true, T::Value, Some("INVALID_NHS_NUMBER"), "2.5", "NHS numbers are 10 digits with a valid Modulus 11 check digit";
    NHS_NUMBER_PLACEHOLDER = "NHS-NUMBER-PLACEHOLDER", Should, false, T::Value, Some("INVALID_NHS_NUMBER"), "2.5", "NHS number is not a placeholder such as 9999999999";
    ORG_ODS = "ORG-ODS", Must, false, T::Required, Some("INVALID_IDENTIFIER_SYSTEM"), "2.6", "Organization has an ODS code identifier of the right shape";
    ORG_NAME = "ORG-NAME", Must, false, T::Required, Some("INVALID_RESOURCE"), "2.6", "Organization has a name";
    CODING_SYSTEM = "CODING-SYSTEM", Must, false, T::CodeInvalid, Some("INVALID_CODE_SYSTEM"), "11", "coding.system is a known code system (not a ValueSet or malformed URL)";
    CODING_NO_SYSTEM = "CODING-NO-SYSTEM", Should, false, T::CodeInvalid, Some("INVALID_CODE_SYSTEM"), "11", "codings carry a system";
    CODE_INVALID = "CODE-INVALID", Must, false, T::CodeInvalid, Some("INVALID_CODE_VALUE"), "11", "codes exist in their (complete) code system; required core bindings (STU3 element table)";
    CONTACTPOINT_VALUE = "CONTACTPOINT-VALUE", Should, false, T::Value, Some("INVALID_VALUE"), "2.2", "phone and e-mail contact points have values of that shape";
    CODE_DISPLAY = "CODE-DISPLAY", Should, false, T::CodeInvalid, None, "11", "displays match the code system";
    // per event
    COMM_STATUS = "COMM-STATUS", Must, false, T::Value, Some("INVALID_VALUE"), "10", "focus Communication status `completed` with a subject";
    PDS_SCN = "PDS-SCN", Must, false, T::Required, Some("INVALID_RESOURCE"), "10.1-10.5", "PDS Patient meta.versionId (serial change number)";
    PDS_ORG_COUNT = "PDS-ORG-COUNT", Must, false, T::Invalid, Some("INVALID_RESOURCE"), "10.2, 10.4", "1..2 Organizations";
    BN_RELATIONSHIP = "BN-RELATIONSHIP", Must, false, T::Value, Some("INVALID_CODE_VALUE"), "10.1", "RelatedPerson.relationship is RoleCode NMTH natural mother";
    BN_REGISTERING_AUTHORITY = "BN-REGISTERING-AUTHORITY", Must, false, T::Required, Some("INVALID_RESOURCE"), "10.1", "one registering-authority EpisodeOfCare with its Organization";
    BN_OBSERVATION = "BN-OBSERVATION", Must, false, T::Value, Some("INVALID_VALUE"), "10.1", "birth Observations carry the fixed codings and displays";
    BN_BABY = "BN-BABY", Must, false, T::Required, Some("INVALID_RESOURCE"), "10.1", "baby Patient: NHS number, name, gender, birthDate, birth order";
    COA_ADDRESS = "COA-ADDRESS", Must, false, T::Required, Some("INVALID_RESOURCE"), "10.2", "home and old addresses with lines, postcode, period.start; no city/district";
    COA_ADDRESS_TEXT = "COA-ADDRESS-TEXT", Must, false, T::Required, Some("INVALID_RESOURCE"), "10.2", "both addresses carry address.text";
    COGP_ORG_PARTOF = "COGP-ORG-PARTOF", Must, false, T::Required, Some("INVALID_RESOURCE"), "10.3", "every Organization has partOf (commissioning organisation)";
    COGP_EOC = "COGP-EOC", Must, false, T::Invalid, Some("INVALID_RESOURCE"), "10.3", "previous-registration EpisodeOfCare: finished, primary care, patient, managingOrganization";
    DEATH_STATUS = "DEATH-STATUS", Must, false, T::Required, Some("INVALID_RESOURCE"), "10.4", "deathNotificationStatus extension with code 1/2/U and systemEffectiveDate";
    DEATH_DECEASED = "DEATH-DECEASED", Must, false, T::Invalid, Some("INVALID_RESOURCE"), "10.4", "deceasedDateTime present for 1/2, absent for U";
    SCREENING_ENCOUNTER = "SCREENING-ENCOUNTER", Must, false, T::Required, Some("INVALID_RESOURCE"), "10.6-10.8", "focus Encounter: identifier; new: type, serviceProvider, subject (period.start for hearing/NIPE)";
    PC_EOC = "PC-EOC", Must, false, T::Required, Some("INVALID_RESOURCE"), "10.9", "focus EpisodeOfCare: identifier, status, type, managingOrganization";
    PC_ORG_TELECOM = "PC-ORG-TELECOM", Must, false, T::Required, Some("INVALID_RESOURCE"), "10.9", "the managing Organization has contact details";
    VACC_IMMUNIZATION = "VACC-IMMUNIZATION", Must, false, T::Required, Some("INVALID_RESOURCE"), "10.10", "Immunization: vaccinationProcedure, identifier, notGiven, vaccineCode, date, primarySource; reasonNotGiven when not given";
    VACC_VACCINECODE = "VACC-VACCINECODE", Should, false, T::CodeInvalid, None, "10.10", "vaccineCode from CareConnect-VaccineCode-1 (NullFlavor NAVU/UNC/UNK)";
    EVENT_RESOURCE_COUNT = "EVENT-RESOURCE-COUNT", Must, false, T::Invalid, Some("INVALID_RESOURCE"), "10", "the bundle holds each resource role of the event within its cardinality (event tables)";
    EVENT_ELEMENT = "EVENT-ELEMENT", Must, false, T::Required, Some("INVALID_RESOURCE"), "10", "elements of the event's resources within their cardinality (event tables)";
    EVENT_CODE = "EVENT-CODE", Must, false, T::CodeInvalid, Some("INVALID_CODE_VALUE"), "10", "fixed codes, values and code systems of the event's resources (event tables)";
    EVENT_REFERENCE = "EVENT-REFERENCE", Must, false, T::Invalid, Some("INVALID_RESOURCE"), "2.2, 10", "references point at the resource type or role the row names (event tables)";
    COGP_INTERPRETATION = "COGP-INTERPRETATION", Must, true, T::BusinessRule, Some("INVALID_RESOURCE"), "10.3", "a current GP (generalPractitioner), a finished previous-registration EpisodeOfCare, or both";
    HS_SPECIALTY = "HS-SPECIALTY", Must, false, T::Required, Some("INVALID_RESOURCE"), "10.6-10.10", "HealthcareService has providedBy, type and specialty";
    // subscriptions
    SUB_PROFILE = "SUB-PROFILE", Should, false, T::Invalid, None, "5.2", "meta.profile carries EMS-Subscription-1";
    SUB_STATUS = "SUB-STATUS", Must, false, T::Value, Some("INVALID_VALUE"), "5.2", "status `requested` on create (stored: a Subscription status)";
    SUB_CONTACT = "SUB-CONTACT", Must, false, T::Required, Some("INVALID_VALUE"), "5.2", "contact: system url, use work, value the ODS directory URL";
    SUB_REASON = "SUB-REASON", Must, false, T::Required, Some("INVALID_RESOURCE"), "5.2", "reason present";
    SUB_CHANNEL = "SUB-CHANNEL", Must, false, T::Required, Some("INVALID_VALUE"), "5.2", "channel.type `message`, channel.endpoint the MESH mailbox";
    SUB_PROHIBITED = "SUB-PROHIBITED", Must, false, T::Invalid, Some("INVALID_ELEMENT"), "5.2", "error and tag absent; contained only Provenance";
    SUB_CREATE_META = "SUB-CREATE-META", Must, false, T::Invalid, Some("INVALID_ELEMENT"), "5.2", "create requests carry no id, meta.versionId or meta.lastUpdated";
    SUB_CRITERIA_PATH = "SUB-CRITERIA-PATH", Must, false, T::Value, Some("INVALID_PARAMETER"), "6.1", "criteria starts `/Bundle?` and has `type=message`";
    SUB_CRITERIA_KIND = "SUB-CRITERIA-KIND", Must, false, T::Value, Some("INVALID_PARAMETER"), "6.1", "explicit or generic, not both or neither";
    SUB_CRITERIA_UNKNOWN = "SUB-CRITERIA-UNKNOWN", Must, false, T::Value, Some("INVALID_PARAMETER"), "6.1", "only known criteria components";
    SUB_CRITERIA_CARDINALITY = "SUB-CRITERIA-CARDINALITY", Must, false, T::Value, Some("INVALID_PARAMETER"), "6.1", "components within their explicit/generic cardinalities";
    SUB_CRITERIA_VALUE = "SUB-CRITERIA-VALUE", Must, false, T::Value, Some("INVALID_PARAMETER"), "6.1", "component values allowed";
    SUB_CRITERIA_EVENT = "SUB-CRITERIA-EVENT", Must, false, T::CodeInvalid, Some("INVALID_CODE_VALUE"), "6.1", "events are supported NEMS events";
    BUNDLE_TOTAL = "BUNDLE-TOTAL", Must, false, T::Value, Some("INVALID_VALUE"), "5.5", "searchset Bundle.total equals the number of matches";
    // operation outcome
    OO_ISSUE = "OO-ISSUE", Must, false, T::Required, Some("INVALID_RESOURCE"), "3.3", "issues with severity and code";
    OO_SPINE_CODE = "OO-SPINE-CODE", Must, false, T::CodeInvalid, Some("INVALID_CODE_VALUE"), "3.3, 4.3", "issue.details carries one Spine-ErrorOrWarningCode-1 coding";
    OO_DIAGNOSTICS = "OO-DIAGNOSTICS", Should, false, T::Required, None, "4.3", "life-cycle warnings carry diagnostics";
    INFO_TIMESTAMP = "INFO-TIMESTAMP", Info, false, T::Informational, None, "2.4", "timestamp not earlier than meta.lastUpdated";}

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
    /// Hashes of the locations reported so far (`has_at` in constant time:
    /// the base layer asks once per missing element).
    at: std::collections::HashSet<u64, std::hash::BuildHasherDefault<crate::fnv::Fnv>>,
}

/// How many findings a [`Report`] has room for before it grows.
const REPORT_CAPACITY: usize = 16;

/// The hash `Report` keeps of a location.
fn location_hash(loc: &str) -> u64 {
    use std::hash::Hasher;
    let mut h = crate::fnv::Fnv::default();
    h.write(loc.as_bytes());
    h.finish()
}

impl Report {
    pub fn new(mode: Mode) -> Report {
        // sized for a typical message's findings up front: growing both
        // from empty reallocated several times per message
        let mut out = Outcome::new();
        out.issues.reserve(REPORT_CAPACITY);
        Report {
            mode,
            out,
            at: std::collections::HashSet::with_capacity_and_hasher(
                REPORT_CAPACITY,
                Default::default(),
            ),
        }
    }

    /// Reports a breach of rule `id` with its table strength.
    pub fn add(&mut self, id: RuleId, location: impl Into<String>, message: impl Into<String>) {
        self.add_as(id, None, location, message)
    }

    /// Reports a breach of rule `id` stated with `strength` (for rules whose
    /// strength depends on the event, e.g. ORG-NAME).
    pub fn add_as(
        &mut self,
        id: RuleId,
        strength: Option<Strength>,
        location: impl Into<String>,
        message: impl Into<String>,
    ) {
        self.add_full(id, strength, None, location, message)
    }

    /// Reports a breach of rule `id` stated with `strength` whose
    /// receive-criticality is `critical` (both default to the rule's): the
    /// event tables mark single rows receive-critical.
    pub fn add_full(
        &mut self,
        id: RuleId,
        strength: Option<Strength>,
        critical: Option<bool>,
        location: impl Into<String>,
        message: impl Into<String>,
    ) {
        let r = id.rule();
        let severity = severity(
            strength.unwrap_or(r.strength),
            critical.unwrap_or(r.critical),
            self.mode,
        );
        let mut i = Issue::new(severity, r.code, r.id, location, message);
        i.spine_code = r.spine;
        self.at.insert(location_hash(&i.location));
        self.out.push(i);
    }

    /// Whether an issue is already reported at `location`.
    pub fn has_at(&self, location: &str) -> bool {
        self.at.contains(&location_hash(location))
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
