//! The PDS events (digest 10.1-10.5, published by Spine): Birth
//! Notification, Change of Address, Change of GP, Death Notification,
//! Record Change.

use super::*;
use ems_stu3::{
    Coding, Communication, EpisodeOfCare, Extension, Observation, Organization, Patient, Quantity,
    RelatedPerson,
};

use vocab::{
    BIRTH_EPISODE_CATEGORY_SYSTEM, CONGENITAL_ABNORMALITY_INDICATOR_SYSTEM,
    DEATH_NOTIFICATION_STATUS_EXTENSION, DEATH_NOTIFICATION_STATUS_SYSTEM,
    ETHNIC_CATEGORY_EXTENSION, ETHNIC_CATEGORY_SYSTEM, REGISTERING_AUTHORITY_TYPE_SYSTEM,
    STILL_BORN_INDICATOR_SYSTEM,
};

const ROLE_CODE_SYSTEM: &str = "http://hl7.org/fhir/v3/RoleCode";
/// The birth notification's Observation codes (SNOMED CT).
const BIRTHS_IN_CONFINEMENT: (&str, &str) = (
    "382341000000101",
    "Total number of registerable births at delivery",
);
const GESTATION: (&str, &str) = ("412726003", "Length of gestation at birth");
const STILLBIRTH: (&str, &str) = ("237364002", "Stillbirth");
const CONGENITAL_ABNORMALITY: (&str, &str) =
    ("1097291000000101", "Suspected congenital abnormality");

/// Ends a PDS message: the Communication from the publisher `org` about
/// the Patient `pat` is the focus.
fn pds_message<S: MessageSink>(
    mut a: Message<S>,
    event: &'static EventType,
    patient: &PatientInfo,
    pat: &Urn,
    org: &str,
) -> Result<S::Message, BuildError> {
    let now = a.now();
    let focus = a.add(Communication::RESOURCE_TYPE, |w| {
        describe::communication(w, pat, org, &now)
    });
    a.message(event, MessageEventType::New, Some(patient), &focus, org)
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
}

impl Describe for PdsChangeOfAddress {
    fn refusal(&self) -> Option<Refusal> {
        (self.patient.address.is_none())
            .then_some(("patient.address", "the new home address is required"))
    }
    fn describe<S: MessageSink>(&self, event: Ev, mut a: Message<S>) -> Out<S> {
        let org = a.publisher_org();
        let x = PatientExtra {
            scn: Some(self.scn),
            previous: Some(&self.previous),
            ..Default::default()
        };
        let pat = a.add(Patient::RESOURCE_TYPE, |w| {
            describe::patient(w, Some(&self.patient), &x)
        });
        pds_message(a, event, &self.patient, &pat, &org)
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
}

impl Describe for PdsChangeOfGp {
    fn refusal(&self) -> Option<Refusal> {
        (self.new_practice.is_none() && self.previous.is_none()).then_some((
            "new_practice",
            "a new practice, a previous registration, or both",
        ))
    }
    fn describe<S: MessageSink>(&self, event: Ev, mut a: Message<S>) -> Out<S> {
        // 10.3: every Organization in the bundle has partOf 1..1, and the
        // publisher's commissioner is not known, so (as in the specification's
        // own example, and as 12.5 allows for this event) the publisher is
        // referenced by its ODS directory URL instead of an in-bundle
        // Organization; the bundle's Organizations are the practices.
        let org = directory_url(&a.cx.publisher.organization.ods_code);
        let practice = |a: &mut Message<S>, p: &PracticeInfo| {
            a.add(Organization::RESOURCE_TYPE, |w| {
                describe::organization(w, &p.practice, None, Some(&p.commissioner))
            })
        };
        let gp = self.new_practice.as_ref().map(|p| practice(&mut a, p));
        let x = PatientExtra {
            scn: Some(self.scn),
            gp: gp.as_ref().map(Urn::as_str),
            ..Default::default()
        };
        let pat = a.add(Patient::RESOURCE_TYPE, |w| {
            describe::patient(w, Some(&self.patient), &x)
        });
        if let Some((prev, start, end)) = &self.previous {
            let prev_url = practice(&mut a, prev);
            a.add(EpisodeOfCare::RESOURCE_TYPE, |w| {
                describe::meta(
                    w,
                    EpisodeOfCare::META,
                    care_connect_profile!("EpisodeOfCare"),
                    None,
                );
                w.value_static(EpisodeOfCare::STATUS, "finished");
                describe::nhs_codeable(
                    w,
                    EpisodeOfCare::TYPE,
                    vocab::PATIENT_CARE_PROVISION_TYPE_SYSTEM,
                    "1",
                );
                describe::entry_reference(w, EpisodeOfCare::PATIENT, &pat);
                describe::reference(w, EpisodeOfCare::MANAGING_ORGANIZATION, &prev_url);
                describe::date_period(w, EpisodeOfCare::PERIOD, *start, *end);
            });
        }
        pds_message(a, event, &self.patient, &pat, &org)
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
}

impl Describe for PdsDeathNotification {
    fn describe<S: MessageSink>(&self, event: Ev, mut a: Message<S>) -> Out<S> {
        let org = a.publisher_org();
        let (code, died) = self.status.code_and_time();
        let status = |w: &mut S| {
            w.start_extension(Patient::EXTENSION, DEATH_NOTIFICATION_STATUS_EXTENSION);
            w.start_extension(Extension::EXTENSION, "deathNotificationStatus");
            describe::nhs_codeable(
                w,
                Extension::VALUE_CODEABLE_CONCEPT,
                DEATH_NOTIFICATION_STATUS_SYSTEM,
                code,
            );
            w.end(Extension::EXTENSION);
            w.start_extension(Extension::EXTENSION, "systemEffectiveDate");
            describe::instant_value(w, Extension::VALUE_DATE_TIME, self.effective);
            w.end(Extension::EXTENSION);
            w.end(Patient::EXTENSION);
        };
        let x = PatientExtra {
            scn: Some(self.scn),
            extension: Some(&status),
            deceased: died,
            ..Default::default()
        };
        let pat = a.add(Patient::RESOURCE_TYPE, |w| {
            describe::patient(w, Some(&self.patient), &x)
        });
        pds_message(a, event, &self.patient, &pat, &org)
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
}

impl Describe for PdsRecordChange {
    fn describe<S: MessageSink>(&self, event: Ev, mut a: Message<S>) -> Out<S> {
        let responsible = directory_url(&a.cx.publisher.organization.ods_code);
        let x = PatientExtra {
            scn: Some(self.scn),
            ..Default::default()
        };
        let focus = a.add(Patient::RESOURCE_TYPE, |w| {
            describe::patient(w, Some(&self.patient), &x)
        });
        a.message(
            event,
            MessageEventType::New,
            Some(&self.patient),
            &focus,
            &responsible,
        )
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
}

impl Describe for PdsBirthNotification {
    fn refusal(&self) -> Option<Refusal> {
        (self.baby.patient.gender.is_none())
            .then_some(("baby.patient.gender", "the baby's gender is required"))
    }
    fn describe<S: MessageSink>(&self, event: Ev, mut a: Message<S>) -> Out<S> {
        let org = a.publisher_org();
        // baby
        let ethnic = |w: &mut S| {
            w.start_extension(Patient::EXTENSION, ETHNIC_CATEGORY_EXTENSION);
            describe::nhs_codeable(
                w,
                Extension::VALUE_CODEABLE_CONCEPT,
                ETHNIC_CATEGORY_SYSTEM,
                &self.baby.ethnic_category,
            );
            w.end(Patient::EXTENSION);
        };
        let x = PatientExtra {
            scn: Some(self.baby.scn),
            extension: Some(&ethnic),
            birth_time: Some(self.baby.birth_time),
            multiple_birth: Some(self.baby.birth_order as i32),
            ..Default::default()
        };
        let baby = a.add(Patient::RESOURCE_TYPE, |w| {
            describe::patient(w, Some(&self.baby.patient), &x)
        });
        // mother and the RelatedPerson linking her to the baby
        let rp = a.reserve();
        let x = PatientExtra {
            link: Some(rp.as_str()),
            ..Default::default()
        };
        let mother = a.add(Patient::RESOURCE_TYPE, |w| {
            describe::patient(w, self.mother.as_ref(), &x)
        });
        a.add_reserved(&rp, RelatedPerson::RESOURCE_TYPE, |w| {
            describe::meta(
                w,
                RelatedPerson::META,
                care_connect_profile!("RelatedPerson"),
                None,
            );
            describe::entry_reference(w, RelatedPerson::PATIENT, &baby);
            describe::codeable(
                w,
                RelatedPerson::RELATIONSHIP,
                ROLE_CODE_SYSTEM,
                "NMTH",
                "natural mother",
            );
        });
        // notifying practitioner
        let enterer = a.add(Practitioner::RESOURCE_TYPE, |w| self.notifier.describe(w));
        // observations
        let obs = |a: &mut Message<S>,
                   subject: &Urn,
                   category: bool,
                   code: &dyn Fn(&mut S),
                   value: &dyn Fn(&mut S)| {
            a.add(Observation::RESOURCE_TYPE, |w| {
                describe::meta(
                    w,
                    Observation::META,
                    care_connect_profile!("Observation"),
                    None,
                );
                w.value_static(Observation::STATUS, "final");
                if category {
                    describe::codeable(
                        w,
                        Observation::CATEGORY,
                        "http://hl7.org/fhir/observation-category",
                        "vital-signs",
                        "Vital Signs",
                    );
                }
                code(w);
                describe::reference(w, Observation::SUBJECT, subject);
                value(w);
            });
        };
        let d = &self.details;
        let weight = |w: &mut S| {
            w.start(Observation::CODE);
            w.start(CodeableConcept::CODING);
            w.value_static(Coding::SYSTEM, "http://loinc.org");
            w.value_static(Coding::CODE, "29463-7");
            w.end(CodeableConcept::CODING);
            describe::coding(
                w,
                CodeableConcept::CODING,
                SNOMED_CT,
                "364589006",
                Some("Birth weight"),
            );
            w.end(Observation::CODE);
        };
        let (births, gestation, stillbirth, abnormality) = (
            sct(BIRTHS_IN_CONFINEMENT),
            sct(GESTATION),
            sct(STILLBIRTH),
            sct(CONGENITAL_ABNORMALITY),
        );
        let (births_n, grams, weeks) = (
            qty(d.births_in_confinement, None),
            qty(d.weight_grams, Some("g")),
            qty(d.gestation_weeks, Some("wk")),
        );
        let still_born = indicator(STILL_BORN_INDICATOR_SYSTEM, &d.still_born_indicator);
        let abnormal = indicator(
            CONGENITAL_ABNORMALITY_INDICATOR_SYSTEM,
            &d.congenital_abnormality,
        );
        // (subject, vital-signs category, code, value), in message order
        let observations: [(&Urn, bool, Part<S>, Part<S>); 5] = [
            (&mother, false, &births, &births_n),
            (&baby, true, &weight, &grams),
            (&baby, false, &gestation, &weeks),
            (&baby, false, &stillbirth, &still_born),
            (&baby, false, &abnormality, &abnormal),
        ];
        for (subject, category, code, value) in observations {
            obs(&mut a, subject, category, code, value);
        }
        // registering authority
        let ra = a.add(Organization::RESOURCE_TYPE, |w| {
            describe::organization(
                w,
                &self.registering_authority,
                Some((
                    REGISTERING_AUTHORITY_TYPE_SYSTEM,
                    &self.registering_authority_type,
                )),
                None,
            )
        });
        a.add(EpisodeOfCare::RESOURCE_TYPE, |w| {
            describe::meta(
                w,
                EpisodeOfCare::META,
                care_connect_profile!("EpisodeOfCare"),
                None,
            );
            w.value_static(EpisodeOfCare::STATUS, "active");
            describe::nhs_codeable(
                w,
                EpisodeOfCare::TYPE,
                BIRTH_EPISODE_CATEGORY_SYSTEM,
                "registering-authority",
            );
            describe::entry_reference(w, EpisodeOfCare::PATIENT, &baby);
            describe::reference(w, EpisodeOfCare::MANAGING_ORGANIZATION, &ra);
        });
        let now = a.now();
        let focus = a.add(Communication::RESOURCE_TYPE, |w| {
            describe::communication(w, &mother, &org, &now)
        });
        a.finish(Header {
            event,
            met: MessageEventType::New,
            patient: self.mother.as_ref(),
            focus: &focus,
            responsible: &org,
            enterer: Some(&enterer),
        })
    }
}

/// A part of a resource written by a closure.
type Part<'a, S> = &'a dyn Fn(&mut S);

/// A SNOMED CT `code` of literals (code, display).
fn sct<S: ElementSink>((code, display): (&'static str, &'static str)) -> impl Fn(&mut S) {
    move |w| describe::codeable(w, Observation::CODE, SNOMED_CT, code, display)
}

/// A `valueQuantity` (UCUM `unit`, when given).
fn qty<S: ElementSink>(v: u32, unit: Option<&'static str>) -> impl Fn(&mut S) {
    move |w| {
        w.start(Observation::VALUE_QUANTITY);
        w.value_i64(Quantity::VALUE, v.into());
        if let Some(u) = unit {
            w.value_static(Quantity::UNIT, u);
            w.value_static(Quantity::SYSTEM, "http://unitsofmeasure.org");
            w.value_static(Quantity::CODE, u);
        }
        w.end(Observation::VALUE_QUANTITY);
    }
}

/// A `valueCodeableConcept` from an NHS code system.
fn indicator<'a, S: ElementSink>(system: &'static str, code: &'a str) -> impl Fn(&mut S) + 'a {
    move |w| describe::nhs_codeable(w, Observation::VALUE_CODEABLE_CONCEPT, system, code)
}
