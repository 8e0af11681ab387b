//! One typed builder per supported event (digest section 10). Mandatory data
//! are constructor arguments; `update()`/`delete()` exist only where the event
//! allows them, so an incomplete message does not compile.

use crate::build::*;
use crate::context::{BuildContext, OrgInfo};
use chrono::{DateTime, NaiveDate, Utc};
use compact_str::ToCompactString;
use ems_match::{event_type, EventType};
use ems_stu3::*;

mod direct;
pub use direct::XmlMessage;

const DEATH_STATUS_EXTENSION: &str = "https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-DeathNotificationStatus-1";
const DEATH_STATUS_SYSTEM: &str =
    "https://fhir.hl7.org.uk/STU3/CodeSystem/CareConnect-DeathNotificationStatus-1";
const ETHNIC_CATEGORY_EXTENSION: &str =
    "https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-EthnicCategory-1";
const ETHNIC_CATEGORY_SYSTEM: &str =
    "https://fhir.hl7.org.uk/STU3/CodeSystem/CareConnect-EthnicCategory-1";
const ROLE_CODE_SYSTEM: &str = "http://hl7.org/fhir/v3/RoleCode";
const STILL_BORN_SYSTEM: &str = "https://fhir.nhs.uk/STU3/CodeSystem/EMS-PDS-StillBornIndicator-1";
const CONGENITAL_ABNORMALITY_SYSTEM: &str =
    "https://fhir.nhs.uk/STU3/CodeSystem/EMS-PDS-SuspectedCongenitalAbnormalityIndicator-1";
const REGISTERING_AUTHORITY_TYPE_SYSTEM: &str =
    "https://fhir.nhs.uk/STU3/CodeSystem/EMS-PDS-RegisteringAuthorityType-1";
const BIRTH_EPISODE_SYSTEM: &str = "https://fhir.nhs.uk/STU3/CodeSystem/BirthEpisodeCategory-1";
const VACCINATION_PROCEDURE_EXTENSION: &str =
    "https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-VaccinationProcedure-1";
/// The birth notification's Observation codes (SNOMED CT).
const BIRTHS_IN_CONFINEMENT: (&str, &str) = (
    "382341000000101",
    "Total number of registerable births at delivery",
);
const GESTATION: (&str, &str) = ("412726003", "Length of gestation at birth");
const STILLBIRTH: (&str, &str) = ("237364002", "Stillbirth");
const CONGENITAL_ABNORMALITY: (&str, &str) =
    ("1097291000000101", "Suspected congenital abnormality");

/// A finished event message.
#[derive(Clone, Debug, PartialEq)]
pub struct BuiltMessage {
    /// The message Bundle (MessageHeader first).
    pub bundle: Bundle,
    /// The event type.
    pub event: &'static EventType,
    /// new / update / delete.
    pub message_event_type: MessageEventType,
}

impl BuiltMessage {
    /// `MessageHeader.id`.
    pub fn message_id(&self) -> &str {
        self.bundle
            .entry
            .first()
            .and_then(|e| e.resource.as_ref())
            .and_then(|r| r.id())
            .unwrap_or("")
    }
    /// XML in schema order (the NEMS wire format).
    pub fn to_xml(&self) -> String {
        ems_stu3::to_xml_of(&self.bundle)
    }
    /// Indented XML.
    pub fn to_xml_pretty(&self) -> String {
        ems_stu3::to_xml_pretty_of(&self.bundle)
    }
    /// FHIR JSON.
    pub fn to_json(&self) -> String {
        ems_stu3::to_json_of(&self.bundle)
    }
    /// Indented FHIR JSON.
    pub fn to_json_pretty(&self) -> String {
        ems_stu3::to_json_pretty_of(&self.bundle)
    }
    /// Publish `InteractionID` (`urn:nhs:names:services:events:<Code>.Write`);
    /// `None` for the PDS events, which only Spine publishes.
    pub fn interaction_id(&self) -> Option<String> {
        self.event.publish_interaction_id()
    }
    /// MESH WorkflowID of the event.
    pub fn workflow_id(&self) -> &'static str {
        self.event.workflow_id
    }
    /// The Bundle as a resource.
    pub fn into_resource(self) -> Resource {
        Resource::from(self.bundle)
    }
}

fn ev(code: &str) -> &'static EventType {
    event_type(code).expect("built-in event table holds every builder's event")
}

/// A business identifier the publisher keeps stable across messages
/// (e.g. `Encounter.identifier`), so receivers can link new/update/delete.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordId {
    /// Identifier system (a URI owned by the publisher).
    pub system: String,
    /// Identifier value.
    pub value: String,
}

impl RecordId {
    /// A record identifier.
    pub fn new(system: impl Into<String>, value: impl Into<String>) -> RecordId {
        RecordId {
            system: system.into(),
            value: value.into(),
        }
    }
    fn fhir(&self) -> Identifier {
        Identifier {
            system: st(&self.system),
            value: st(&self.value),
            ..Default::default()
        }
    }
}

/// A practitioner's name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PractitionerInfo {
    /// Family name.
    pub family: String,
    /// Given names.
    pub given: Vec<String>,
}

impl PractitionerInfo {
    /// A practitioner.
    pub fn new(family: impl Into<String>, given: impl Into<String>) -> Self {
        PractitionerInfo {
            family: family.into(),
            given: vec![given.into()],
        }
    }
    fn fhir(&self) -> Practitioner {
        Practitioner {
            meta: Some(care_connect_meta!("Practitioner")),
            name: vec![human_name(None, &self.family, &self.given)],
            ..Default::default()
        }
    }
}

/// A SNOMED CT concept (code and display).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snomed {
    /// Concept id.
    pub code: String,
    /// Display (preferred term).
    pub display: String,
}

impl Snomed {
    /// A SNOMED CT concept.
    pub fn new(code: impl Into<String>, display: impl Into<String>) -> Snomed {
        Snomed {
            code: code.into(),
            display: display.into(),
        }
    }
    fn coding(&self) -> Coding {
        coding_of(SCT, &self.code, &self.display)
    }
}

fn encounter(
    record: &RecordId,
    type_code: Option<&str>,
    patient: Option<&str>,
    provider: Option<&str>,
    start: Option<DateTime<Utc>>,
    deleted: bool,
) -> Encounter {
    Encounter {
        meta: Some(care_connect_meta!("Encounter")),
        identifier: vec![record.fhir()],
        status: lit(if deleted {
            "entered-in-error"
        } else {
            "finished"
        }),
        type_: type_code
            .map(|c| {
                cc(nhs_coding(
                    "https://fhir.nhs.uk/STU3/CodeSystem/DCH-ChildHealthEncounterType-1",
                    c,
                ))
            })
            .into_iter()
            .collect(),
        subject: patient.map(reference),
        period: start.map(|s| Period {
            start: Some(Primitive::new(instant(s))),
            ..Default::default()
        }),
        service_provider: provider.map(reference),
        ..Default::default()
    }
}

fn procedure(
    code: Coding,
    outcome: Option<Coding>,
    patient: &str,
    context: &str,
    performed: Option<DateTime<Utc>>,
) -> Procedure {
    Procedure {
        meta: Some(care_connect_meta!("Procedure")),
        status: lit("completed"),
        code: Some(cc(code)),
        subject: Some(reference(patient)),
        context: Some(reference(context)),
        performed: performed.map(|t| ProcedurePerformed::DateTime(Primitive::new(instant(t)))),
        outcome: outcome.map(cc),
        ..Default::default()
    }
}

/// What the three screening builders (blood spot, hearing, NIPE) share.
#[derive(Clone, Debug)]
struct Screening {
    met: MessageEventType,
    /// The baby.
    patient: PatientInfo,
    /// The Encounter's identifier.
    record: RecordId,
    /// The screening provider.
    provider: OrgInfo,
}

/// The common shape of the three screening messages. A `delete` carries
/// only the Encounter (entered-in-error, found by its identifier) with the
/// provider's ODS directory URL as responsible; otherwise the provider
/// Organization, the Patient, the event's own entries (added by `entries`,
/// given the Patient and Encounter fullUrls) and the Encounter, which is
/// the focus.
fn screening_message(
    cx: &mut BuildContext,
    event: &'static EventType,
    s: &Screening,
    encounter_type: &str,
    start: Option<DateTime<Utc>>,
    entries: impl FnOnce(&mut Assembly, &str, &str),
) -> BuiltMessage {
    let mut a = Assembly::new(cx);
    let enc = a.reserve();
    let (responsible, resource) = if s.met == MessageEventType::Delete {
        let resource = encounter(&s.record, None, None, None, None, true);
        (
            Responsible::Url(directory_url(&s.provider.ods_code)),
            resource,
        )
    } else {
        let org = a.organization(&s.provider);
        let pat = a.patient(&s.patient);
        entries(&mut a, &pat, &enc);
        let resource = encounter(
            &s.record,
            Some(encounter_type),
            Some(&pat),
            Some(&org),
            start,
            false,
        );
        (Responsible::Entry(org), resource)
    };
    a.add_reserved(&enc, resource);
    a.message(event, s.met, Some(&s.patient), &enc, &responsible)
}

// ------------------------------------------------------------ blood spot

/// A newborn blood spot screening condition (fixed Procedure codes, 10.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BloodSpotCondition {
    /// Phenylketonuria.
    Pku,
    /// Sickle cell disease.
    Scd,
    /// Cystic fibrosis.
    Cf,
    /// Congenital hypothyroidism.
    Cht,
    /// MCADD.
    Mcadd,
    /// Homocystinuria.
    Hcu,
    /// Maple syrup urine disease.
    Msud,
    /// Glutaric aciduria type 1.
    Ga1,
    /// Isovaleric acidaemia.
    Iva,
    /// Severe combined immunodeficiency.
    Scid,
    /// Tyrosinaemia type 1.
    Ht1,
}

impl BloodSpotCondition {
    /// The fixed SNOMED CT procedure code and display.
    pub fn procedure(self) -> (&'static str, &'static str) {
        match self {
            BloodSpotCondition::Pku => ("314081000", "Phenylketonuria screening test"),
            BloodSpotCondition::Scd => ("314090007", "Sickle cell disease screening test"),
            BloodSpotCondition::Cf => ("171191008", "Cystic fibrosis screening"),
            BloodSpotCondition::Cht => ("400984005", "Congenital hypothyroidism screening test"),
            BloodSpotCondition::Mcadd => (
                "428056008",
                "Medium-chain acyl-coenzyme A dehydrogenase deficiency screening test",
            ),
            BloodSpotCondition::Hcu => (
                "940201000000107",
                "Blood spot homocystinuria screening test",
            ),
            BloodSpotCondition::Msud => (
                "940221000000103",
                "Blood spot MSUD (maple syrup urine disease) screening test",
            ),
            BloodSpotCondition::Ga1 => (
                "940131000000109",
                "Blood spot glutaric aciduria type 1 screening test",
            ),
            BloodSpotCondition::Iva => (
                "940151000000102",
                "Blood spot isovaleric acidaemia screening test",
            ),
            BloodSpotCondition::Scid => (
                "1239891000000106",
                "Severe combined immunodeficiency screening test",
            ),
            BloodSpotCondition::Ht1 => ("2201661000000107", "Tyrosinaemia type 1 screening test"),
        }
    }
}

/// Blood Spot Test Outcome (`blood-spot-test-outcome-1`): `new` or `delete`.
///
/// ```
/// use ems_bundle::*;
/// use chrono::NaiveDate;
/// let patient = PatientInfo::new("9434765919".parse().unwrap(), "SMITH", "Jo", NaiveDate::from_ymd_opt(2024, 5, 1).unwrap());
/// let mut cx = BuildContext::deterministic(example_publisher(), 1);
/// let msg = BloodSpotTestOutcome::new(patient, RecordId::new("https://example.org/Id/bs", "BS-1"),
///         OrgInfo::new("RR8", "LEEDS LAB"), "2024-05-20T10:00:00Z".parse().unwrap())
///     .result(BloodSpotCondition::Pku, Snomed::new("946431000000102",
///         "Phenylketonuria screening, unsuitable sample: date of sample missing/not accurately recorded (finding)"))
///     .build(&mut cx).unwrap();
/// assert_eq!(msg.workflow_id(), "BLOODSPOTTESTOUTCOME_1");
/// ```
#[derive(Clone, Debug)]
pub struct BloodSpotTestOutcome {
    s: Screening,
    received: Option<DateTime<Utc>>,
    results: Vec<(BloodSpotCondition, Snomed)>,
}

impl BloodSpotTestOutcome {
    /// A `new` message (also used for changes: the same record id replaces
    /// the earlier outcome). `received` is when the laboratory result arrived.
    pub fn new(
        patient: PatientInfo,
        record: RecordId,
        provider: OrgInfo,
        received: DateTime<Utc>,
    ) -> Self {
        BloodSpotTestOutcome {
            s: Screening {
                met: MessageEventType::New,
                patient,
                record,
                provider,
            },
            received: Some(received),
            results: Vec::new(),
        }
    }
    /// A `delete` of the record `record`.
    pub fn delete(patient: PatientInfo, record: RecordId, provider: OrgInfo) -> Self {
        BloodSpotTestOutcome {
            s: Screening {
                met: MessageEventType::Delete,
                patient,
                record,
                provider,
            },
            received: None,
            results: Vec::new(),
        }
    }
    /// Adds the outcome for one condition (SNOMED CT concept from DCH-BloodSpotOutcome-1).
    pub fn result(mut self, condition: BloodSpotCondition, outcome: Snomed) -> Self {
        self.results.push((condition, outcome));
        self
    }
    /// The builder's own checks (shared by `build` and `build_xml`).
    fn check(&self, event: &EventType) -> Result<(), BuildError> {
        if self.results.len() > 11 {
            return Err(BuildError {
                event: event.code,
                field: "results",
                message: "at most 11 conditions".into(),
            });
        }
        Ok(())
    }
    /// Builds the message.
    pub fn build(&self, cx: &mut BuildContext) -> Result<BuiltMessage, BuildError> {
        let event = ev("blood-spot-test-outcome-1");
        self.check(event)?;
        Ok(screening_message(
            cx,
            event,
            &self.s,
            "008",
            None,
            |a, pat, enc_url| {
                let report = DiagnosticReport {
                    meta: Some(care_connect_meta!("DiagnosticReport")),
                    status: lit("final"),
                    code: Some(CodeableConcept {
                        text: lit("Newborn blood spot screening"),
                        ..Default::default()
                    }),
                    subject: Some(reference(pat)),
                    context: Some(reference(enc_url)),
                    issued: self.received.map(|t| Primitive::new(instant(t))),
                    ..Default::default()
                };
                a.add(report);
                for (cond, outcome) in &self.results {
                    let (c, d) = cond.procedure();
                    let p = procedure(
                        coding(SCT, c, d),
                        Some(outcome.coding()),
                        pat,
                        enc_url,
                        None,
                    );
                    a.add(p);
                }
            },
        ))
    }
}

// ------------------------------------------------------------ newborn hearing

/// A hearing test (AABR or AOAE) result for one ear.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HearingTest {
    /// `true` for AABR (413083006), `false` for AOAE (446077009).
    pub aabr: bool,
    /// Outcome (DCH-AABRHearingTest-Outcome-1 / DCH-AOAEHearingTest-Outcome-1).
    pub outcome: Snomed,
    /// When the test was entered in the screening application.
    pub performed: DateTime<Utc>,
}

/// Newborn Hearing (`newborn-hearing-1`): `new` or `delete`.
#[derive(Clone, Debug)]
pub struct NewbornHearing {
    s: Screening,
    start: Option<DateTime<Utc>>,
    outcome: Option<(Snomed, DateTime<Utc>)>,
    tests: Vec<HearingTest>,
}

impl NewbornHearing {
    /// A `new` message: the encounter start and the summary outcome
    /// (DCH-HearingScreeningOutcome-1) with when it was set are mandatory.
    pub fn new(
        patient: PatientInfo,
        record: RecordId,
        provider: OrgInfo,
        encounter_start: DateTime<Utc>,
        outcome: Snomed,
        outcome_set: DateTime<Utc>,
    ) -> Self {
        NewbornHearing {
            s: Screening {
                met: MessageEventType::New,
                patient,
                record,
                provider,
            },
            start: Some(encounter_start),
            outcome: Some((outcome, outcome_set)),
            tests: Vec::new(),
        }
    }
    /// A `delete` of the record.
    pub fn delete(patient: PatientInfo, record: RecordId, provider: OrgInfo) -> Self {
        NewbornHearing {
            s: Screening {
                met: MessageEventType::Delete,
                patient,
                record,
                provider,
            },
            start: None,
            outcome: None,
            tests: Vec::new(),
        }
    }
    /// Adds a test (at most 2 AABR and 4 AOAE).
    pub fn test(mut self, t: HearingTest) -> Self {
        self.tests.push(t);
        self
    }
    /// The builder's own checks (shared by `build` and `build_xml`).
    fn check(&self, event: &EventType) -> Result<(), BuildError> {
        let aabr = self.tests.iter().filter(|t| t.aabr).count();
        if aabr > 2 || self.tests.len() - aabr > 4 {
            return Err(BuildError {
                event: event.code,
                field: "tests",
                message: "at most 2 AABR and 4 AOAE tests".into(),
            });
        }
        Ok(())
    }
    /// Builds the message.
    pub fn build(&self, cx: &mut BuildContext) -> Result<BuiltMessage, BuildError> {
        let event = ev("newborn-hearing-1");
        self.check(event)?;
        Ok(screening_message(
            cx,
            event,
            &self.s,
            "007",
            self.start,
            |a, pat, enc_url| {
                if let Some((outcome, set)) = &self.outcome {
                    let o = Observation {
                        meta: Some(care_connect_meta!("Observation")),
                        status: lit("final"),
                        code: Some(CodeableConcept {
                            text: lit("Newborn hearing screening outcome"),
                            ..Default::default()
                        }),
                        subject: Some(reference(pat)),
                        context: Some(reference(enc_url)),
                        effective: Some(ObservationEffective::DateTime(Primitive::new(instant(
                            *set,
                        )))),
                        value: Some(ObservationValue::CodeableConcept(Box::new(cc(
                            outcome.coding()
                        )))),
                        ..Default::default()
                    };
                    a.add(o);
                }
                for t in &self.tests {
                    let (c, d) = hearing_test_code(t.aabr);
                    let p = procedure(
                        coding(SCT, c, d),
                        Some(t.outcome.coding()),
                        pat,
                        enc_url,
                        Some(t.performed),
                    );
                    a.add(p);
                }
            },
        ))
    }
}

/// The SNOMED CT procedure of an AABR (`true`) or AOAE hearing test.
fn hearing_test_code(aabr: bool) -> (&'static str, &'static str) {
    if aabr {
        ("413083006", "Automated auditory brainstem response test")
    } else {
        ("446077009", "Automated otoacoustic emission test")
    }
}

// ------------------------------------------------------------ NIPE

/// NIPE examination outcomes (SNOMED concepts from NIPE-Outcome-1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NipeFindings {
    /// Hip examination outcome.
    pub hips: Snomed,
    /// Eye examination outcome.
    pub eyes: Snomed,
    /// Heart examination outcome.
    pub heart: Snomed,
    /// Testes examination outcome (boys).
    pub testes: Option<Snomed>,
}

impl NipeFindings {
    /// (procedure code, display, outcome) of each examination, in message order.
    fn procedures(&self) -> impl Iterator<Item = (&'static str, &'static str, &Snomed)> {
        macro_rules! nipe {
            ($what:literal) => {
                concat!(
                    "Newborn and Infant Physical Examination Screening Programme, ",
                    $what
                )
            };
        }
        let procs = [
            ("985531000000102", nipe!("hip examination"), &self.hips),
            ("988361000000105", nipe!("eye examination"), &self.eyes),
            ("988351000000107", nipe!("heart examination"), &self.heart),
        ];
        let testes = self
            .testes
            .as_ref()
            .map(|t| ("988371000000103", nipe!("testis examination"), t));
        procs.into_iter().chain(testes)
    }
}

/// NIPE Outcome (`nipe-outcome-1`): `new` or `delete`.
#[derive(Clone, Debug)]
pub struct NipeOutcome {
    s: Screening,
    start: Option<DateTime<Utc>>,
    examiner: Option<PractitionerInfo>,
    findings: Option<NipeFindings>,
}

impl NipeOutcome {
    /// A `new` message: encounter start, examiner and the hip, eye and heart
    /// outcomes are mandatory.
    pub fn new(
        patient: PatientInfo,
        record: RecordId,
        provider: OrgInfo,
        encounter_start: DateTime<Utc>,
        examiner: PractitionerInfo,
        findings: NipeFindings,
    ) -> Self {
        NipeOutcome {
            s: Screening {
                met: MessageEventType::New,
                patient,
                record,
                provider,
            },
            start: Some(encounter_start),
            examiner: Some(examiner),
            findings: Some(findings),
        }
    }
    /// A `delete` of the record.
    pub fn delete(patient: PatientInfo, record: RecordId, provider: OrgInfo) -> Self {
        NipeOutcome {
            s: Screening {
                met: MessageEventType::Delete,
                patient,
                record,
                provider,
            },
            start: None,
            examiner: None,
            findings: None,
        }
    }
    /// Builds the message.
    pub fn build(&self, cx: &mut BuildContext) -> Result<BuiltMessage, BuildError> {
        let event = ev("nipe-outcome-1");
        Ok(screening_message(
            cx,
            event,
            &self.s,
            "006",
            self.start,
            |a, pat, enc_url| {
                if let Some(ex) = &self.examiner {
                    let p = ex.fhir();
                    a.add(p);
                }
                if let Some(f) = &self.findings {
                    for (code, display, outcome) in f.procedures() {
                        let p = procedure(
                            coding(SCT, code, display),
                            Some(outcome.coding()),
                            pat,
                            enc_url,
                            self.start,
                        );
                        a.add(p);
                    }
                }
            },
        ))
    }
}

// ------------------------------------------------------------ PDS events

fn communication(subject: &str, sender: &str, sent: &str) -> Communication {
    Communication {
        meta: Some(care_connect_meta!("Communication")),
        status: lit("completed"),
        subject: Some(reference(subject)),
        sent: Some(Primitive::from(sent)),
        sender: Some(reference(sender)),
        ..Default::default()
    }
}

/// Ends a PDS message: the Communication from the publisher `org` about
/// the Patient `pat` is the focus.
fn pds_message(
    mut a: Assembly,
    event: &'static EventType,
    patient: &PatientInfo,
    pat: &str,
    org: &str,
) -> BuiltMessage {
    let now = a.now();
    let focus = a.add(communication(pat, org, &now));
    a.message(event, MessageEventType::New, Some(patient), &focus, org)
}

fn with_scn(mut p: Patient, scn: u32) -> Patient {
    p.meta.get_or_insert_with(Meta::default).version_id =
        Some(Primitive::new(scn.to_compact_string()));
    p
}

/// PDS Change of Address (`pds-change-of-address-1`, published by Spine).
#[derive(Clone, Debug)]
pub struct PdsChangeOfAddress {
    patient: PatientInfo,
    previous: AddressInfo,
    scn: u32,
}

impl PdsChangeOfAddress {
    /// `patient.address` is the new home address (required); `previous` the old one; `scn` the PDS serial change number.
    pub fn new(patient: PatientInfo, previous: AddressInfo, scn: u32) -> Self {
        PdsChangeOfAddress {
            patient,
            previous,
            scn,
        }
    }
    /// The builder's own checks (shared by `build` and `build_xml`).
    fn check(&self, event: &EventType) -> Result<(), BuildError> {
        if self.patient.address.is_none() {
            return Err(BuildError {
                event: event.code,
                field: "patient.address",
                message: "the new home address is required".into(),
            });
        }
        Ok(())
    }
    /// Builds the message.
    pub fn build(&self, cx: &mut BuildContext) -> Result<BuiltMessage, BuildError> {
        let event = ev("pds-change-of-address-1");
        self.check(event)?;
        let mut a = Assembly::new(cx);
        let org = a.publisher_org();
        let p = with_scn(patient(&self.patient, Some(&self.previous)), self.scn);
        let pat = a.add(p);
        Ok(pds_message(a, event, &self.patient, &pat, &org))
    }
}

/// A GP practice and the sub-ICB location that commissions it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PracticeInfo {
    /// The practice.
    pub practice: OrgInfo,
    /// ODS code of the commissioning organisation (`Organization.partOf`).
    pub commissioner: String,
}

/// PDS Change of GP (`pds-change-of-gp-1`, published by Spine).
#[derive(Clone, Debug)]
pub struct PdsChangeOfGp {
    patient: PatientInfo,
    scn: u32,
    new_practice: Option<PracticeInfo>,
    previous: Option<(PracticeInfo, Option<NaiveDate>, Option<NaiveDate>)>,
}

impl PdsChangeOfGp {
    /// A change of GP; add the new practice and/or the previous registration
    /// (new + previous = transfer; new only = first registration; previous only = de-registration).
    pub fn new(patient: PatientInfo, scn: u32) -> Self {
        PdsChangeOfGp {
            patient,
            scn,
            new_practice: None,
            previous: None,
        }
    }
    /// The new registered practice.
    pub fn new_practice(mut self, p: PracticeInfo) -> Self {
        self.new_practice = Some(p);
        self
    }
    /// The previous registration (practice, start, end).
    pub fn previous(
        mut self,
        p: PracticeInfo,
        start: Option<NaiveDate>,
        end: Option<NaiveDate>,
    ) -> Self {
        self.previous = Some((p, start, end));
        self
    }
    /// The builder's own checks (shared by `build` and `build_xml`).
    fn check(&self, event: &EventType) -> Result<(), BuildError> {
        if self.new_practice.is_none() && self.previous.is_none() {
            return Err(BuildError {
                event: event.code,
                field: "new_practice",
                message: "a new practice, a previous registration, or both".into(),
            });
        }
        Ok(())
    }
    /// Builds the message.
    pub fn build(&self, cx: &mut BuildContext) -> Result<BuiltMessage, BuildError> {
        let event = ev("pds-change-of-gp-1");
        self.check(event)?;
        let mut a = Assembly::new(cx);
        // 10.3: every Organization in the bundle has partOf 1..1, and the
        // publisher's commissioner is not known, so (as in the specification's
        // own example, and as 12.5 allows for this event) the publisher is
        // referenced by its ODS directory URL instead of an in-bundle
        // Organization; the bundle's Organizations are the practices.
        let org = directory_url(&a.cx.publisher.organization.ods_code);
        let practice = |a: &mut Assembly, p: &PracticeInfo| {
            let mut o = organization(&p.practice);
            o.part_of = Some(reference(&directory_url(&p.commissioner)));
            a.add(o)
        };
        let gp = self.new_practice.as_ref().map(|p| practice(&mut a, p));
        let mut p = with_scn(patient(&self.patient, None), self.scn);
        if let Some(gp) = &gp {
            p.general_practitioner.push(reference(gp));
        }
        let pat = a.add(p);
        if let Some((prev, start, end)) = &self.previous {
            let prev_url = practice(&mut a, prev);
            let eoc = EpisodeOfCare {
                meta: Some(care_connect_meta!("EpisodeOfCare")),
                status: lit("finished"),
                type_: vec![cc(nhs_coding(
                    "https://fhir.nhs.uk/STU3/CodeSystem/EMS-PDS-PatientCareProvisionType-1",
                    "1",
                ))],
                patient: Some(reference(&pat)),
                managing_organization: Some(reference(&prev_url)),
                period: Some(Period {
                    start: start.map(|d| Primitive::new(date(d))),
                    end: end.map(|d| Primitive::new(date(d))),
                    ..Default::default()
                }),
                ..Default::default()
            };
            a.add(eoc);
        }
        Ok(pds_message(a, event, &self.patient, &pat, &org))
    }
}

/// The PDS death notification status (10.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeathStatus {
    /// `1` Informal: believed dead, no certificate yet (time of death).
    Informal(DateTime<Utc>),
    /// `2` Formal: death registered (time of death).
    Formal(DateTime<Utc>),
    /// `U` Removed: a status set in error was removed.
    Removed,
}

impl DeathStatus {
    /// The CareConnect-DeathNotificationStatus-1 code and the time of death.
    fn code_and_time(self) -> (&'static str, Option<DateTime<Utc>>) {
        match self {
            DeathStatus::Informal(t) => ("1", Some(t)),
            DeathStatus::Formal(t) => ("2", Some(t)),
            DeathStatus::Removed => ("U", None),
        }
    }
}

/// PDS Death Notification (`pds-death-notification-1`, published by Spine).
#[derive(Clone, Debug)]
pub struct PdsDeathNotification {
    patient: PatientInfo,
    scn: u32,
    status: DeathStatus,
    effective: DateTime<Utc>,
}

impl PdsDeathNotification {
    /// `effective`: when the status was updated on Spine.
    pub fn new(
        patient: PatientInfo,
        scn: u32,
        status: DeathStatus,
        effective: DateTime<Utc>,
    ) -> Self {
        PdsDeathNotification {
            patient,
            scn,
            status,
            effective,
        }
    }
    /// Builds the message.
    pub fn build(&self, cx: &mut BuildContext) -> Result<BuiltMessage, BuildError> {
        let event = ev("pds-death-notification-1");
        let mut a = Assembly::new(cx);
        let org = a.publisher_org();
        let mut p = with_scn(patient(&self.patient, None), self.scn);
        let (code, died) = self.status.code_and_time();
        p.extension.push(ext_complex(
            DEATH_STATUS_EXTENSION,
            vec![
                ext(
                    "deathNotificationStatus",
                    ExtensionValue::CodeableConcept(Box::new(cc(nhs_coding(
                        DEATH_STATUS_SYSTEM,
                        code,
                    )))),
                ),
                ext(
                    "systemEffectiveDate",
                    ExtensionValue::DateTime(Primitive::new(instant(self.effective))),
                ),
            ],
        ));
        p.deceased = died.map(|t| PatientDeceased::DateTime(Primitive::new(instant(t))));
        let pat = a.add(p);
        Ok(pds_message(a, event, &self.patient, &pat, &org))
    }
}

/// PDS Record Change (`pds-record-change-1`, published by Spine; Beta).
#[derive(Clone, Debug)]
pub struct PdsRecordChange {
    patient: PatientInfo,
    scn: u32,
}

impl PdsRecordChange {
    /// The (possibly superseded) record that changed.
    pub fn new(patient: PatientInfo, scn: u32) -> Self {
        PdsRecordChange { patient, scn }
    }
    /// Builds the message.
    pub fn build(&self, cx: &mut BuildContext) -> Result<BuiltMessage, BuildError> {
        let event = ev("pds-record-change-1");
        let mut a = Assembly::new(cx);
        let responsible = directory_url(&a.cx.publisher.organization.ods_code);
        let p = with_scn(patient(&self.patient, None), self.scn);
        let focus = a.add(p);
        Ok(a.message(
            event,
            MessageEventType::New,
            Some(&self.patient),
            &focus,
            &responsible,
        ))
    }
}

/// The baby of a birth notification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BabyInfo {
    /// NHS number, official name, birth date, gender (required) and address.
    pub patient: PatientInfo,
    /// PDS serial change number of the baby's record.
    pub scn: u32,
    /// Delivery time.
    pub birth_time: DateTime<Utc>,
    /// Birth order (1 for the first baby, 2 for the second twin, ...).
    pub birth_order: u32,
    /// Ethnic category code (CareConnect-EthnicCategory-1, e.g. `A`).
    pub ethnic_category: String,
}

/// Birth measurements and indicators (the Observations of 10.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BirthDetails {
    /// Births in the confinement.
    pub births_in_confinement: u32,
    /// Birth weight in grams.
    pub weight_grams: u32,
    /// Gestation in weeks.
    pub gestation_weeks: u32,
    /// EMS-PDS-StillBornIndicator-1 code (`1` live).
    pub still_born_indicator: String,
    /// EMS-PDS-SuspectedCongenitalAbnormalityIndicator-1 code (`N`, `U`, `Y`).
    pub congenital_abnormality: String,
}

/// PDS Birth Notification (`pds-birth-notification-1`, published by Spine).
#[derive(Clone, Debug)]
pub struct PdsBirthNotification {
    baby: BabyInfo,
    mother: Option<PatientInfo>,
    details: BirthDetails,
    notifier: PractitionerInfo,
    registering_authority: OrgInfo,
    registering_authority_type: String,
}

impl PdsBirthNotification {
    /// The baby, birth details, notifying practitioner and registering
    /// authority (with its EMS-PDS-RegisteringAuthorityType-1 code) are mandatory.
    pub fn new(
        baby: BabyInfo,
        details: BirthDetails,
        notifier: PractitionerInfo,
        registering_authority: OrgInfo,
        registering_authority_type: impl Into<String>,
    ) -> Self {
        PdsBirthNotification {
            baby,
            mother: None,
            details,
            notifier,
            registering_authority,
            registering_authority_type: registering_authority_type.into(),
        }
    }
    /// The mother, when her details are known (the message then routes to her explicit subscribers).
    pub fn mother(mut self, m: PatientInfo) -> Self {
        self.mother = Some(m);
        self
    }
    /// The builder's own checks (shared by `build` and `build_xml`).
    fn check(&self, event: &EventType) -> Result<(), BuildError> {
        if self.baby.patient.gender.is_none() {
            return Err(BuildError {
                event: event.code,
                field: "baby.patient.gender",
                message: "the baby's gender is required".into(),
            });
        }
        Ok(())
    }
    /// Builds the message.
    pub fn build(&self, cx: &mut BuildContext) -> Result<BuiltMessage, BuildError> {
        let event = ev("pds-birth-notification-1");
        self.check(event)?;
        let mut a = Assembly::new(cx);
        let org = a.publisher_org();
        // baby
        let mut baby = with_scn(patient(&self.baby.patient, None), self.baby.scn);
        if let Some(bd) = baby.birth_date.as_mut() {
            bd.extension_mut().push(ext(
                "http://hl7.org/fhir/StructureDefinition/patient-birthTime",
                ExtensionValue::DateTime(Primitive::new(instant(self.baby.birth_time))),
            ));
        }
        baby.multiple_birth = Some(PatientMultipleBirth::Integer(Primitive::new(
            self.baby.birth_order as i32,
        )));
        baby.extension.push(ext(
            ETHNIC_CATEGORY_EXTENSION,
            ExtensionValue::CodeableConcept(Box::new(cc(nhs_coding(
                ETHNIC_CATEGORY_SYSTEM,
                &self.baby.ethnic_category,
            )))),
        ));
        let baby_url = a.add(baby);
        // mother and the RelatedPerson linking her to the baby
        let rp_url = a.reserve();
        let mut mother = match &self.mother {
            Some(m) => patient(m, None),
            None => Patient {
                meta: Some(care_connect_meta!("Patient")),
                ..Default::default()
            },
        };
        mother.link.push(PatientLink {
            other: Some(reference(&rp_url)),
            type_: lit("seealso"),
            ..Default::default()
        });
        let mother_url = a.add(mother);
        let rp = RelatedPerson {
            meta: Some(care_connect_meta!("RelatedPerson")),
            patient: Some(reference(&baby_url)),
            relationship: Some(cc(coding(ROLE_CODE_SYSTEM, "NMTH", "natural mother"))),
            ..Default::default()
        };
        a.add_reserved(&rp_url, rp);
        // notifying practitioner
        let pr = self.notifier.fhir();
        let enterer = a.add(pr);
        // observations
        let obs = |a: &mut Assembly,
                   subject: &str,
                   code: CodeableConcept,
                   category: Vec<CodeableConcept>,
                   value: ObservationValue| {
            let o = Observation {
                meta: Some(care_connect_meta!("Observation")),
                status: lit("final"),
                category,
                code: Some(code),
                subject: Some(reference(subject)),
                value: Some(value),
                ..Default::default()
            };
            a.add(o);
        };
        let qty = |v: u32, unit: &str| {
            ObservationValue::Quantity(Box::new(Quantity {
                value: Some(Primitive::new(DecimalValue::from(v as i64))),
                unit: st(unit),
                system: lit("http://unitsofmeasure.org"),
                code: st(unit),
                ..Default::default()
            }))
        };
        let d = &self.details;
        obs(
            &mut a,
            &mother_url,
            cc(coding(
                SCT,
                BIRTHS_IN_CONFINEMENT.0,
                BIRTHS_IN_CONFINEMENT.1,
            )),
            vec![],
            ObservationValue::Quantity(Box::new(Quantity {
                value: Some(Primitive::new(DecimalValue::from(
                    d.births_in_confinement as i64,
                ))),
                ..Default::default()
            })),
        );
        let weight_code = CodeableConcept {
            coding: vec![
                Coding {
                    system: lit("http://loinc.org"),
                    code: lit("29463-7"),
                    ..Default::default()
                },
                coding(SCT, "364589006", "Birth weight"),
            ],
            ..Default::default()
        };
        obs(
            &mut a,
            &baby_url,
            weight_code,
            vec![cc(coding(
                "http://hl7.org/fhir/observation-category",
                "vital-signs",
                "Vital Signs",
            ))],
            qty(d.weight_grams, "g"),
        );
        obs(
            &mut a,
            &baby_url,
            cc(coding(SCT, GESTATION.0, GESTATION.1)),
            vec![],
            qty(d.gestation_weeks, "wk"),
        );
        obs(
            &mut a,
            &baby_url,
            cc(coding(SCT, STILLBIRTH.0, STILLBIRTH.1)),
            vec![],
            ObservationValue::CodeableConcept(Box::new(cc(nhs_coding(
                STILL_BORN_SYSTEM,
                &d.still_born_indicator,
            )))),
        );
        obs(
            &mut a,
            &baby_url,
            cc(coding(
                SCT,
                CONGENITAL_ABNORMALITY.0,
                CONGENITAL_ABNORMALITY.1,
            )),
            vec![],
            ObservationValue::CodeableConcept(Box::new(cc(nhs_coding(
                CONGENITAL_ABNORMALITY_SYSTEM,
                &d.congenital_abnormality,
            )))),
        );
        // registering authority
        let mut ra = organization(&self.registering_authority);
        ra.type_.push(cc(nhs_coding(
            REGISTERING_AUTHORITY_TYPE_SYSTEM,
            &self.registering_authority_type,
        )));
        let ra_url = a.add(ra);
        let eoc = EpisodeOfCare {
            meta: Some(care_connect_meta!("EpisodeOfCare")),
            status: lit("active"),
            type_: vec![cc(nhs_coding(
                BIRTH_EPISODE_SYSTEM,
                "registering-authority",
            ))],
            patient: Some(reference(&baby_url)),
            managing_organization: Some(reference(&ra_url)),
            ..Default::default()
        };
        a.add(eoc);
        let now = a.now();
        let focus = a.add(communication(&mother_url, &org, &now));
        let bundle = a.finish(Header {
            event,
            met: MessageEventType::New,
            patient: self.mother.as_ref(),
            focus: &focus,
            responsible: &org,
            enterer: Some(&enterer),
        });
        Ok(BuiltMessage {
            bundle,
            event,
            message_event_type: MessageEventType::New,
        })
    }
}

// ------------------------------------------------------------ professional contacts

/// Professional Contacts (`professional-contacts-1`): `new`, `update`, `delete`.
#[derive(Clone, Debug)]
pub struct ProfessionalContacts {
    met: MessageEventType,
    patient: PatientInfo,
    record: RecordId,
    status: String,
    care_setting: Snomed,
    organization: OrgInfo,
    period: (Option<NaiveDate>, Option<NaiveDate>),
}

impl ProfessionalContacts {
    /// `status` is the EpisodeOfCare status (`active`, `finished`, ...);
    /// `care_setting` a CareConnect-CareSettingType-1 concept; the
    /// organisation must have a phone number (PC-ORG-TELECOM).
    pub fn new(
        patient: PatientInfo,
        record: RecordId,
        status: impl Into<String>,
        care_setting: Snomed,
        organization: OrgInfo,
    ) -> Self {
        ProfessionalContacts {
            met: MessageEventType::New,
            patient,
            record,
            status: status.into(),
            care_setting,
            organization,
            period: (None, None),
        }
    }
    /// Sends as `update`.
    pub fn update(mut self) -> Self {
        self.met = MessageEventType::Update;
        self
    }
    /// Sends as `delete`.
    pub fn delete(mut self) -> Self {
        self.met = MessageEventType::Delete;
        self
    }
    /// When responsibility started and ended.
    pub fn period(mut self, start: Option<NaiveDate>, end: Option<NaiveDate>) -> Self {
        self.period = (start, end);
        self
    }
    /// The builder's own checks (shared by `build` and `build_xml`).
    fn check(&self, event: &EventType) -> Result<(), BuildError> {
        if self.organization.phone.is_none() {
            return Err(BuildError {
                event: event.code,
                field: "organization.phone",
                message: "the managing organisation must have contact details".into(),
            });
        }
        Ok(())
    }
    /// Builds the message.
    pub fn build(&self, cx: &mut BuildContext) -> Result<BuiltMessage, BuildError> {
        let event = ev("professional-contacts-1");
        self.check(event)?;
        let mut a = Assembly::new(cx);
        let org = a.organization(&self.organization);
        let pat = a.patient(&self.patient);
        let eoc = EpisodeOfCare {
            meta: Some(care_connect_meta!("EpisodeOfCare")),
            identifier: vec![self.record.fhir()],
            status: st(&self.status),
            type_: vec![cc(self.care_setting.coding())],
            patient: Some(reference(&pat)),
            managing_organization: Some(reference(&org)),
            period: match self.period {
                (None, None) => None,
                (s, e) => Some(Period {
                    start: s.map(|d| Primitive::new(date(d))),
                    end: e.map(|d| Primitive::new(date(d))),
                    ..Default::default()
                }),
            },
            ..Default::default()
        };
        let focus = a.add(eoc);
        Ok(a.message(event, self.met, Some(&self.patient), &focus, &org))
    }
}

// ------------------------------------------------------------ vaccinations

/// Vaccinations (`vaccinations-1`): `new`, `update`, `delete`.
#[derive(Clone, Debug)]
pub struct Vaccinations {
    met: MessageEventType,
    patient: PatientInfo,
    record: RecordId,
    procedure: Snomed,
    vaccine: Snomed,
    date: NaiveDate,
    primary_source: bool,
    not_given_reason: Option<Snomed>,
    organization: OrgInfo,
}

impl Vaccinations {
    /// A vaccination given (`procedure`: an immunisation procedure concept; `vaccine`: a dm+d concept).
    pub fn given(
        patient: PatientInfo,
        record: RecordId,
        procedure: Snomed,
        vaccine: Snomed,
        date: NaiveDate,
        organization: OrgInfo,
    ) -> Self {
        Vaccinations {
            met: MessageEventType::New,
            patient,
            record,
            procedure,
            vaccine,
            date,
            primary_source: true,
            not_given_reason: None,
            organization,
        }
    }
    /// A vaccination not given (`procedure`: an "immunisation not done"
    /// situation; `reason`: a CareConnect-ImmunizationExplanationReason-1 / SNOMED coding).
    pub fn not_given(
        patient: PatientInfo,
        record: RecordId,
        procedure: Snomed,
        vaccine: Snomed,
        date: NaiveDate,
        organization: OrgInfo,
        reason: Snomed,
    ) -> Self {
        Vaccinations {
            met: MessageEventType::New,
            patient,
            record,
            procedure,
            vaccine,
            date,
            primary_source: true,
            not_given_reason: Some(reason),
            organization,
        }
    }
    /// Reported by the patient or another provider rather than administered here.
    pub fn reported(mut self) -> Self {
        self.primary_source = false;
        self
    }
    /// Sends as `update`.
    pub fn update(mut self) -> Self {
        self.met = MessageEventType::Update;
        self
    }
    /// Sends as `delete`.
    pub fn delete(mut self) -> Self {
        self.met = MessageEventType::Delete;
        self
    }
    /// Builds the message.
    pub fn build(&self, cx: &mut BuildContext) -> Result<BuiltMessage, BuildError> {
        let event = ev("vaccinations-1");
        let mut a = Assembly::new(cx);
        let org = a.organization(&self.organization);
        let pat = a.patient(&self.patient);
        let im = Immunization {
            meta: Some(care_connect_meta!("Immunization")),
            extension: vec![ext(
                VACCINATION_PROCEDURE_EXTENSION,
                ExtensionValue::CodeableConcept(Box::new(cc(self.procedure.coding()))),
            )],
            identifier: vec![self.record.fhir()],
            status: lit("completed"),
            not_given: Some(Primitive::new(self.not_given_reason.is_some())),
            vaccine_code: Some(cc(self.vaccine.coding())),
            patient: Some(reference(&pat)),
            date: Some(Primitive::new(date(self.date))),
            primary_source: Some(Primitive::new(self.primary_source)),
            explanation: self
                .not_given_reason
                .as_ref()
                .map(|r| ImmunizationExplanation {
                    reason_not_given: vec![cc(r.coding())],
                    ..Default::default()
                }),
            ..Default::default()
        };
        let focus = a.add(im);
        Ok(a.message(event, self.met, Some(&self.patient), &focus, &org))
    }
}

/// Any event builder: holds the event's data and builds a message from it
/// on each call (the builders keep their data, so one builder can make many
/// messages, each with new ids, timestamps and sequence numbers).
///
/// ```
/// use ems_bundle::*;
/// let builders: Vec<Box<dyn EventBuilder>> = vec![
///     samples::sample_builder("vaccinations-1", MessageEventType::New, false).unwrap(),
///     samples::sample_builder("pds-record-change-1", MessageEventType::New, false).unwrap(),
/// ];
/// let mut cx = BuildContext::deterministic(example_publisher(), 1);
/// let first: Vec<_> = builders.iter().map(|b| b.build(&mut cx).unwrap()).collect();
/// let again = builders[0].build(&mut cx).unwrap();
/// assert_eq!(first[1].event.code, "pds-record-change-1");
/// assert_ne!(again.message_id(), first[0].message_id());
/// ```
pub trait EventBuilder {
    /// Builds the message (the same as the builder's own `build`).
    fn build(&self, cx: &mut BuildContext) -> Result<BuiltMessage, BuildError>;
    /// Builds the same message written straight to compact wire XML,
    /// without building the model: the bytes of [`BuiltMessage::to_xml`]
    /// (same ids, timestamps and sequence number for the same context
    /// state) at a fraction of the cost. Use it when the XML is all that
    /// is needed (sending over MESH).
    fn build_xml(&self, cx: &mut BuildContext) -> Result<XmlMessage, BuildError>;
    /// This builder behind a `Box<dyn EventBuilder>`, for lists of
    /// builders of different events.
    fn boxed(self) -> Box<dyn EventBuilder>
    where
        Self: Sized + 'static,
    {
        Box::new(self)
    }
}

macro_rules! event_builders {
    ($($t:ident),*) => {$(
        impl EventBuilder for $t {
            fn build(&self, cx: &mut BuildContext) -> Result<BuiltMessage, BuildError> {
                $t::build(self, cx)
            }
            fn build_xml(&self, cx: &mut BuildContext) -> Result<XmlMessage, BuildError> {
                $t::build_xml(self, cx)
            }
        }
    )*};
}
event_builders!(
    BloodSpotTestOutcome,
    NewbornHearing,
    NipeOutcome,
    PdsBirthNotification,
    PdsChangeOfAddress,
    PdsChangeOfGp,
    PdsDeathNotification,
    PdsRecordChange,
    ProfessionalContacts,
    Vaccinations
);
