//! The screening events (digest 10.6-10.8): Blood Spot Test Outcome,
//! Newborn Hearing, NIPE Outcome. They share one shape: the provider
//! Organization, the Patient, the event's own entries and the Encounter,
//! which is the focus.

use super::*;
use ems_stu3::{
    CodeableConcept, Complex, DiagnosticReport, Encounter, Meta, Observation, Period, Prim,
    Procedure, Reference,
};

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

impl Screening {
    fn new(
        met: MessageEventType,
        patient: PatientInfo,
        record: RecordId,
        provider: OrgInfo,
    ) -> Self {
        Screening {
            met,
            patient,
            record,
            provider,
        }
    }
}

/// The Encounter's content: CareConnect meta, identifier, status
/// (`entered-in-error` for a delete), type (DCH-ChildHealthEncounterType-1),
/// subject, period start, service provider.
#[allow(clippy::too_many_arguments)]
fn encounter<S: ElementSink>(
    w: &mut S,
    record: &RecordId,
    type_code: Option<&str>,
    patient: Option<&Urn>,
    provider: Option<&Urn>,
    start: Option<DateTime<Utc>>,
    deleted: bool,
) {
    describe::meta(w, Encounter::META, care_connect_profile!("Encounter"), None);
    record.describe(w, Encounter::IDENTIFIER);
    w.value_static(
        Encounter::STATUS,
        if deleted {
            "entered-in-error"
        } else {
            "finished"
        },
    );
    if let Some(c) = type_code {
        describe::nhs_codeable(
            w,
            Encounter::TYPE,
            vocab::CHILD_HEALTH_ENCOUNTER_TYPE_SYSTEM,
            c,
        );
    }
    if let Some(p) = patient {
        describe::entry_reference(w, Encounter::SUBJECT, p);
    }
    if let Some(s) = start {
        w.start(Encounter::PERIOD);
        describe::instant_value(w, Period::START, s);
        w.end(Encounter::PERIOD);
    }
    if let Some(p) = provider {
        describe::entry_reference(w, Encounter::SERVICE_PROVIDER, p);
    }
}

/// A screening Procedure's content: a literal SNOMED CT code, the outcome.
fn procedure<S: ElementSink>(
    w: &mut S,
    code: (&'static str, &'static str),
    outcome: &Snomed,
    patient: &Urn,
    context: &Urn,
    performed: Option<DateTime<Utc>>,
) {
    describe::meta(w, Procedure::META, care_connect_profile!("Procedure"), None);
    w.value_static(Procedure::STATUS, "completed");
    describe::codeable(w, Procedure::CODE, SNOMED_CT, code.0, code.1);
    describe::entry_reference(w, Procedure::SUBJECT, patient);
    describe::entry_reference(w, Procedure::CONTEXT, context);
    if let Some(t) = performed {
        describe::instant_value(w, Procedure::PERFORMED_DATE_TIME, t);
    }
    outcome.describe(w, Procedure::OUTCOME);
}

/// The elements a screening finding starts with, in its resource type
/// `O` (a DiagnosticReport or an Observation).
struct Finding<O> {
    meta: Complex<O, Meta>,
    status: Prim<O>,
    code: Complex<O, CodeableConcept>,
    subject: Complex<O, Reference>,
    context: Complex<O, Reference>,
}

/// A screening report's.
const REPORT: Finding<DiagnosticReport> = Finding {
    meta: DiagnosticReport::META,
    status: DiagnosticReport::STATUS,
    code: DiagnosticReport::CODE,
    subject: DiagnosticReport::SUBJECT,
    context: DiagnosticReport::CONTEXT,
};

/// A screening observation's.
const OBSERVATION: Finding<Observation> = Finding {
    meta: Observation::META,
    status: Observation::STATUS,
    code: Observation::CODE,
    subject: Observation::SUBJECT,
    context: Observation::CONTEXT,
};

/// How a screening report or observation (elements `e`) starts: meta,
/// status `final`, a text-only code, the baby and the Encounter.
fn finding<S: ElementSink, O>(
    w: &mut S,
    e: &Finding<O>,
    profile: &'static str,
    code: &'static str,
    patient: &Urn,
    context: &Urn,
) {
    describe::meta(w, e.meta, profile, None);
    w.value_static(e.status, "final");
    describe::text_concept(w, e.code, code);
    describe::entry_reference(w, e.subject, patient);
    describe::entry_reference(w, e.context, context);
}

/// The common shape of the three screening messages. A `delete` carries
/// only the Encounter (entered-in-error, found by its identifier) with the
/// provider's ODS directory URL as responsible; otherwise the provider
/// Organization, the Patient, the event's own entries (added by `entries`,
/// given the Patient and Encounter fullUrls) and the Encounter, which is
/// the focus.
fn screening_message<S: MessageSink>(
    mut a: Message<S>,
    event: &'static EventType,
    s: &Screening,
    encounter_type: &str,
    start: Option<DateTime<Utc>>,
    entries: impl FnOnce(&mut Message<S>, &Urn, &Urn),
) -> Out<S> {
    let enc = a.reserve();
    let responsible = if s.met == MessageEventType::Delete {
        a.add_reserved(&enc, Encounter::RESOURCE_TYPE, |w| {
            encounter(w, &s.record, None, None, None, None, true)
        });
        Responsible::Url(directory_url(&s.provider.ods_code))
    } else {
        let org = a.organization(&s.provider);
        let pat = a.patient(&s.patient);
        entries(&mut a, &pat, &enc);
        a.add_reserved(&enc, Encounter::RESOURCE_TYPE, |w| {
            encounter(
                w,
                &s.record,
                Some(encounter_type),
                Some(&pat),
                Some(&org),
                start,
                false,
            )
        });
        Responsible::Entry(org)
    };
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
            s: Screening::new(MessageEventType::New, patient, record, provider),
            received: Some(received),
            results: Vec::new(),
        }
    }
    /// A `delete` of the record `record`.
    pub fn delete(patient: PatientInfo, record: RecordId, provider: OrgInfo) -> Self {
        BloodSpotTestOutcome {
            s: Screening::new(MessageEventType::Delete, patient, record, provider),
            received: None,
            results: Vec::new(),
        }
    }
    /// Adds the outcome for one condition (SNOMED CT concept from DCH-BloodSpotOutcome-1).
    pub fn result(mut self, condition: BloodSpotCondition, outcome: Snomed) -> Self {
        self.results.push((condition, outcome));
        self
    }
}

impl Describe for BloodSpotTestOutcome {
    fn refusal(&self) -> Option<Refusal> {
        (self.results.len() > 11).then_some(("results", "at most 11 conditions"))
    }
    fn describe<S: MessageSink>(&self, event: Ev, a: Message<S>) -> Out<S> {
        screening_message(a, event, &self.s, "008", None, |a, pat, enc_url| {
            a.add(DiagnosticReport::RESOURCE_TYPE, |w| {
                finding(
                    w,
                    &REPORT,
                    care_connect_profile!("DiagnosticReport"),
                    "Newborn blood spot screening",
                    pat,
                    enc_url,
                );
                if let Some(t) = self.received {
                    describe::instant_value(w, DiagnosticReport::ISSUED, t);
                }
            });
            for (cond, outcome) in &self.results {
                a.add(Procedure::RESOURCE_TYPE, |w| {
                    procedure(w, cond.procedure(), outcome, pat, enc_url, None)
                });
            }
        })
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
            s: Screening::new(MessageEventType::New, patient, record, provider),
            start: Some(encounter_start),
            outcome: Some((outcome, outcome_set)),
            tests: Vec::new(),
        }
    }
    /// A `delete` of the record.
    pub fn delete(patient: PatientInfo, record: RecordId, provider: OrgInfo) -> Self {
        NewbornHearing {
            s: Screening::new(MessageEventType::Delete, patient, record, provider),
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
}

impl Describe for NewbornHearing {
    fn refusal(&self) -> Option<Refusal> {
        let aabr = self.tests.iter().filter(|t| t.aabr).count();
        (aabr > 2 || self.tests.len() - aabr > 4)
            .then_some(("tests", "at most 2 AABR and 4 AOAE tests"))
    }
    fn describe<S: MessageSink>(&self, event: Ev, a: Message<S>) -> Out<S> {
        screening_message(a, event, &self.s, "007", self.start, |a, pat, enc_url| {
            if let Some((outcome, set)) = &self.outcome {
                a.add(Observation::RESOURCE_TYPE, |w| {
                    finding(
                        w,
                        &OBSERVATION,
                        care_connect_profile!("Observation"),
                        "Newborn hearing screening outcome",
                        pat,
                        enc_url,
                    );
                    describe::instant_value(w, Observation::EFFECTIVE_DATE_TIME, *set);
                    outcome.describe(w, Observation::VALUE_CODEABLE_CONCEPT);
                });
            }
            for t in &self.tests {
                a.add(Procedure::RESOURCE_TYPE, |w| {
                    procedure(
                        w,
                        hearing_test_code(t.aabr),
                        &t.outcome,
                        pat,
                        enc_url,
                        Some(t.performed),
                    )
                });
            }
        })
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
            s: Screening::new(MessageEventType::New, patient, record, provider),
            start: Some(encounter_start),
            examiner: Some(examiner),
            findings: Some(findings),
        }
    }
    /// A `delete` of the record.
    pub fn delete(patient: PatientInfo, record: RecordId, provider: OrgInfo) -> Self {
        NipeOutcome {
            s: Screening::new(MessageEventType::Delete, patient, record, provider),
            start: None,
            examiner: None,
            findings: None,
        }
    }
}

impl Describe for NipeOutcome {
    fn describe<S: MessageSink>(&self, event: Ev, a: Message<S>) -> Out<S> {
        screening_message(a, event, &self.s, "006", self.start, |a, pat, enc_url| {
            if let Some(ex) = &self.examiner {
                a.add(Practitioner::RESOURCE_TYPE, |w| ex.describe(w));
            }
            if let Some(f) = &self.findings {
                for (code, display, outcome) in f.procedures() {
                    a.add(Procedure::RESOURCE_TYPE, |w| {
                        procedure(w, (code, display), outcome, pat, enc_url, self.start)
                    });
                }
            }
        })
    }
}
