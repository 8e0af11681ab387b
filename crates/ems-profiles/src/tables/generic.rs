//! The generic rows of section 2 (every event message). The MessageHeader
//! rows and the Patient's prohibited elements are declarative (the
//! event-type table supplies what depends on the event). Rows that name
//! their hand-written check (`Check::Logic`): the routing consistency with
//! the Patient; the Bundle structure (entries, fullUrls: cross-entry); the
//! Patient's NHS-number slice, name and birth date (the identifier slice by
//! system is not a table path, and the birth-notification mother is
//! exempt: cross-resource); the Organization's ODS code and name (strength
//! by event and by the EpisodeOfCare that manages it: cross-resource); and
//! the 2.4 timestamp order (information level, which the mutation test's
//! error/warning judgement cannot show: its named test is in
//! tests/conformance.rs).

use super::Check::{Card, CardEach, InBundle, Includes, Is, Logic, Target};
use super::Met::Any;
use super::{Check, Flag, Form, Points, Role, Row, Sel, Table, To};
use crate::rules::id as R;
use ems_nhs::vocab;

/// The messageEventType codes with their fixed displays (2.2).
pub const MESSAGE_EVENT_TYPES: &[(&str, &str)] = &[
    ("new", "New event message"),
    ("update", "Update event message"),
    ("delete", "Delete event message"),
];

/// The path of the messageEventType extension.
const MET: &str = concat!("extension(", ems_nhs::extension_url!(MESSAGE_EVENT_TYPE_EXTENSION), ")");

const fn mh(id: &'static str, check: Check, text: &'static str) -> Row {
    Row::new(id, "MessageHeader", Any, check, text)
}

const fn logic(
    id: &'static str,
    role: &'static str,
    rule: crate::RuleId,
    code: &'static str,
    test: &'static str,
    text: &'static str,
) -> Row {
    Row::new(id, role, Any, Logic { code, test }, text).rule(rule)
}

const HEADER: &str = "event/header.rs timestamp_order";
const ROUTING: &str = "event/header.rs routing";
const BUNDLE: &str = "event/mod.rs validate";
const PATIENTS: &str = "event/resources.rs patients";
const ORGS: &str = "event/resources.rs organizations";
const WALK: &str = "walk.rs";
const MUT: &str = "tests/conformance.rs single_defect_mutations_give_exactly_the_expected_rule";
const CORPUS: &str = "crates/ems-profiles/tests/corpus.rs";

/// Section 2: the rows every event message follows.
pub static GENERIC: Table = Table {
    index: std::sync::OnceLock::new(),
    event: "*",
    section: "2",
    roles: &[
        Role { name: "Bundle", ty: "Bundle", sel: Sel::All },
        Role { name: "MessageHeader", ty: "MessageHeader", sel: Sel::All },
        Role { name: "Patient", ty: "Patient", sel: Sel::All },
        Role { name: "Organization", ty: "Organization", sel: Sel::All },
        Role { name: "Element", ty: "*", sel: Sel::All },
    ],
    rows: &[
        logic("2.1/Bundle/type", "Bundle", R::BUNDLE_TYPE, BUNDLE, MUT, "`type` 1..1, fixed `message`").critical(),
        logic("2.1/Bundle/first-entry", "Bundle", R::MH_FIRST, BUNDLE, MUT, "the first entry MUST be the MessageHeader"),
        logic("2.1/Bundle/messageheader", "Bundle", R::MH_MISSING, BUNDLE, CORPUS, "the bundle has a MessageHeader (the event can be determined)").critical(),
        logic("2.1/Bundle/fullUrl", "Bundle", R::FULLURL_FORMAT, BUNDLE, MUT, "`entry.fullUrl` is `urn:uuid:<uuid>` where `<uuid>` is the resource id"),
        logic("2.1/Bundle/fullUrl-unique", "Bundle", R::FULLURL_UNIQUE, BUNDLE, MUT, "entry fullUrls are unique"),
        logic("2.1/Bundle/references", "Bundle", R::REF_UNRESOLVED, WALK, MUT, "every `urn:uuid:` reference SHOULD resolve inside the bundle").should(),
        logic("2.1/Bundle/element-order", "Bundle", R::SCHEMA_ORDER, "ems-stu3 reader", CORPUS, "every resource MUST follow the STU3 XML schema order"),
        logic("2.1/Bundle/size", "Bundle", R::INPUT_TOO_LARGE, "ems-stu3 reader", "crates/ems-stu3 tests", "a published message MUST be at most 3 MB").critical(),
        mh("2.2/MessageHeader/id", Is { path: "id", is: Form::Uuid, required: true }, "`id` 1..1: publisher-generated UUID, unique per message").rule(R::MH_ID).critical(),
        mh("2.2/MessageHeader/meta.profile", Includes { path: "meta.profile", value: vocab::MESSAGE_HEADER_PROFILE }, "`meta.profile` SHOULD carry Event-MessageHeader-1").rule(R::MH_PROFILE).should(),
        mh("2.2/MessageHeader/meta.versionId", Is { path: "meta.versionId", is: Form::Integer, required: false }, "`meta.versionId` 0..1: an integer sequence number").rule(R::MH_SEQ),
        mh("2.2/MessageHeader/meta.lastUpdated", Card { path: "meta.lastUpdated", min: 1, max: Some(1) }, "`meta.lastUpdated` 1..1 for most events (event-types.json `metaLastUpdatedRequired`)").rule(R::MH_LASTUPDATED).when(Flag::MetaLastUpdatedRequired),
        logic("2.2/MessageHeader/routingDemographics", "MessageHeader", R::MH_ROUTING, ROUTING, MUT, "`extension(routingDemographics)` 1..1 (0..1 for PDS Birth Notification) with nhsNumber, name (official, family + given), birthDateTime"),
        logic("2.2/MessageHeader/routingDemographics.nhsNumber", "MessageHeader", R::MH_ROUTING_NHSNUMBER, ROUTING, MUT, "`…extension(nhsNumber)` 1..1: `valueIdentifier` with the NHS number").critical(),
        logic("2.2/MessageHeader/routingDemographics.match", "MessageHeader", R::MH_ROUTING_MISMATCH, ROUTING, MUT, "routing NHS number, name and birth date match the event's subject Patient [inferred]"),
        mh("2.2/MessageHeader/messageEventType", Is { path: MET, is: Form::EventCoding { system: ems_match::MESSAGE_EVENT_TYPE_SYSTEM, codes: MESSAGE_EVENT_TYPES }, required: true }, "`extension(messageEventType)` 1..1: one coding, MessageEventType-1, `new`/`update`/`delete` allowed for the event, display mandatory").rule(R::MH_MSGEVENTTYPE).critical(),
        mh("2.2/MessageHeader/event", Card { path: "event", min: 1, max: Some(1) }, "`event` 1..1 (FHIR base)").rule(R::MH_EVENT_CODE).critical(),
        mh("2.2/MessageHeader/event.system", Is { path: "event.system", is: Form::Equals(ems_match::EVENT_TYPE_SYSTEM), required: true }, "`event.system` is EventType-1").rule(R::MH_EVENT_SYSTEM).critical(),
        mh("2.2/MessageHeader/event.code", Is { path: "event.code", is: Form::EventCode, required: true }, "`event.code` 1..1, a supported NEMS event").rule(R::MH_EVENT_CODE).critical(),
        mh("2.2/MessageHeader/event.display", Is { path: "event", is: Form::EventDisplay, required: false }, "`event.display` 1..1, the EventType-1 display; `userSelected` prohibited").rule(R::MH_EVENT_DISPLAY),
        Row::new("2.2/MessageHeader/destination", "MessageHeader", Any, Card { path: "destination", min: 0, max: Some(1) }, "`destination` 0..1 (the profile narrows to max 1)").rule(R::MH_PROHIBITED),
        Row::new("2.2/MessageHeader/receiver", "MessageHeader", Any, Card { path: "receiver", min: 0, max: Some(0) }, "`receiver` 0..0 (prohibited by the profile)").rule(R::MH_PROHIBITED),
        Row::new("2.2/MessageHeader/sender", "MessageHeader", Any, Target { path: "sender", to: To::Types(&["Organization"]) }, "`sender` 0..1 Reference(CareConnect-Organization-1)"),
        mh("2.2/MessageHeader/timestamp", Card { path: "timestamp", min: 1, max: Some(1) }, "`timestamp` 1..1 (FHIR base)").rule(R::MH_TIMESTAMP),
        Row::new("2.2/MessageHeader/enterer", "MessageHeader", Any, Target { path: "enterer", to: To::Types(&["Practitioner"]) }, "`enterer` 0..1 Reference(CareConnect-Practitioner-1)"),
        Row::new("2.2/MessageHeader/author", "MessageHeader", Any, Card { path: "author", min: 0, max: Some(0) }, "`author` 0..0 (prohibited)").rule(R::MH_PROHIBITED),
        mh("2.2/MessageHeader/source", Card { path: "source", min: 1, max: Some(1) }, "`source` 1..1").rule(R::MH_SOURCE_NAME),
        mh("2.2/MessageHeader/source.name", CardEach { parent: "source", path: "name", min: 1, max: Some(1) }, "`source.name` 1..1").rule(R::MH_SOURCE_NAME),
        mh("2.2/MessageHeader/source.contact", Is { path: "source.contact", is: Form::Contact(&["phone", "email"]), required: true }, "`source.contact` 1..1 with `system` phone|email matching the `value`").rule(R::MH_SOURCE_CONTACT),
        mh("2.2/MessageHeader/source.endpoint", CardEach { parent: "source", path: "endpoint", min: 1, max: Some(1) }, "`source.endpoint` 1..1 (FHIR base)").rule(R::MH_SOURCE_ENDPOINT),
        mh("2.2/MessageHeader/responsible", Card { path: "responsible", min: 1, max: Some(1) }, "`responsible` 1..1").rule(R::MH_RESPONSIBLE),
        mh("2.2/MessageHeader/responsible.reference", CardEach { parent: "responsible", path: "reference", min: 1, max: Some(1) }, "`responsible.reference` 1..1").rule(R::MH_RESPONSIBLE),
        Row::new("2.2/MessageHeader/responsible.target", "MessageHeader", Any, Target { path: "responsible", to: To::Types(&["Organization", "Practitioner"]) }, "`responsible` → the Organization (or Practitioner: the profile allows both) responsible for the event"),
        mh("2.2/MessageHeader/responsible.inbundle", InBundle { path: "responsible", to: Points::Types(&["Organization"]), required: true }, "for PDS Birth Notification and Change of Address `responsible` is an Organization inside the bundle").rule(R::MH_RESPONSIBLE_INBUNDLE).when(Flag::ResponsibleInBundle),
        Row::new("2.2/MessageHeader/reason", "MessageHeader", Any, Card { path: "reason", min: 0, max: Some(0) }, "`reason` 0..0 (prohibited)").rule(R::MH_PROHIBITED),
        Row::new("2.2/MessageHeader/response", "MessageHeader", Any, Card { path: "response", min: 0, max: Some(0) }, "`response` 0..0 (prohibited)").rule(R::MH_PROHIBITED),
        mh("2.2/MessageHeader/focus", Card { path: "focus", min: 1, max: Some(1) }, "`focus` 1..1").rule(R::MH_FOCUS).critical(),
        mh("2.2/MessageHeader/focus.reference", InBundle { path: "focus", to: Points::Any, required: true }, "`focus` resolves inside the bundle").rule(R::MH_FOCUS).critical(),
        mh("2.2/MessageHeader/focus.type", InBundle { path: "focus", to: Points::EventFocus, required: false }, "`focus` is the event's focus resource type (section 10)").rule(R::MH_FOCUS_TYPE).critical(),
        logic("2.4/MessageHeader/timestamp-order", "MessageHeader", R::INFO_TIMESTAMP, HEADER, "tests/conformance.rs", "`timestamp` not earlier than `meta.lastUpdated` (information)"),
        logic("2.5/Patient/nhsNumber", "Patient", R::PATIENT_NHSNUMBER, PATIENTS, MUT, "`identifier` (slice nhsNumber) 1..1, system https://fhir.nhs.uk/Id/nhs-number").critical(),
        logic("2.5/Patient/nhsNumber.valid", "Patient", R::NHS_NUMBER_CHECKDIGIT, PATIENTS, MUT, "an NHS number is 10 digits with a Modulus 11 check digit").critical(),
        logic("2.5/Patient/nhsNumber.placeholder", "Patient", R::NHS_NUMBER_PLACEHOLDER, PATIENTS, "tests/conformance.rs single_defect_mutations_giving_warnings", "NHS numbers MUST have been verified against PDS: not a placeholder").should(),
        logic("2.5/Patient/nhsNumber.verificationStatus", "Patient", R::PROFILE_PATIENT, PATIENTS, MUT, "the profile requires the NHSNumberVerificationStatus extension on the NHS number").critical(),
        logic("2.5/Patient/nhsNumber.verified", "Patient", R::PATIENT_NHSNUMBER_VERIFIED, PATIENTS, "tests/conformance.rs receiver_rejects_an_unverified_nhs_number", "NHS numbers used in messages MUST have been verified: verification status `01`").critical(),
        logic("2.5/Patient/name", "Patient", R::PATIENT_NAME, PATIENTS, MUT, "`name` (slice official) 1..1 with `family`"),
        logic("2.5/Patient/birthDate", "Patient", R::PATIENT_BIRTHDATE, PATIENTS, MUT, "`birthDate` 1..1"),
        logic("2.5/Patient/birthTime", "Patient", R::PATIENT_BIRTHTIME, PATIENTS, "tests/conformance.rs single_defect_mutations_giving_warnings", "the `patient-birthTime` extension SHOULD fall on `birthDate`").should(),
        Row::new("2.5/Patient/prohibited", "Patient", Any, Card { path: "animal", min: 0, max: Some(0) }, "`animal` 0..0 (CareConnect-Patient-1, on every Patient; the compiled profile layer repeats it only where no row reported it)").rule(R::PROFILE_PATIENT),
        Row::new("2.5/Patient/communication", "Patient", Any, Card { path: "communication", min: 0, max: Some(0) }, "`communication` 0..0 (CareConnect-Patient-1, on every Patient)").rule(R::PROFILE_PATIENT),
        logic("2.6/Organization/identifier", "Organization", R::ORG_ODS, ORGS, MUT, "`identifier` (slice odsOrganizationCode) 0..1 generic (SHOULD), 1..1 on most event pages"),
        logic("2.6/Organization/name", "Organization", R::ORG_NAME, ORGS, MUT, "`name` 0..1 generic (SHOULD), 1..1 on most event pages"),
        logic("2/Element/profile-max", "Element", R::PROFILE_MAX, "profiles.rs (compiled by xtask/src/profiles.rs)", "tests/conformance.rs profile_layer_reports_elements_the_profile_prohibits", "the resources follow the NHS profiles their meta.profile names (Event-MessageHeader-1, CareConnect-*-1): top-level elements within the profile's maximum"),
        logic("2.8/Element/dateTime", "Element", R::DATETIME_FORMAT, WALK, MUT, "a `dateTime` with a time carries a UTC offset (the NEMS regex)"),
    ],
};
