//! `build_xml` of every builder: the same message as `build`, written
//! straight to wire XML (see `crate::wire`). Each function follows its
//! `build` step by step — the same ids drawn in the same order, the same
//! entries — so the bytes are those of `to_xml_of(&build()?.bundle)`.

use super::*;
use crate::build::Urn;
use crate::wire::{self, PatientExtra, Wire};
use ems_stu3::xml::XmlStream;

/// A finished event message written as compact wire XML by
/// [`EventBuilder::build_xml`]: the bytes of
/// [`BuiltMessage::to_xml`] for the same message, made without building
/// the model.
#[derive(Clone, Debug)]
pub struct XmlMessage {
    /// The Bundle as compact XML in schema order (the NEMS wire format).
    pub xml: String,
    pub(crate) message_id: Urn,
    /// The event type.
    pub event: &'static EventType,
    /// new / update / delete.
    pub message_event_type: MessageEventType,
}

impl XmlMessage {
    /// `MessageHeader.id`.
    pub fn message_id(&self) -> &str {
        self.message_id.id()
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
}

fn record_identifier(w: &mut XmlStream, r: &RecordId) {
    wire::identifier(w, &r.system, &r.value);
}

fn practitioner(w: &mut XmlStream, p: &PractitionerInfo) {
    wire::meta(w, care_connect_profile!("Practitioner"), None);
    wire::human_name(w, "name", None, &p.family, &p.given);
}

fn snomed(w: &mut XmlStream, name: &str, s: &Snomed) {
    wire::codeable(w, name, SCT, &s.code, &s.display);
}

/// The counterpart of `encounter`.
fn encounter(
    w: &mut XmlStream,
    record: &RecordId,
    type_code: Option<&str>,
    patient: Option<&str>,
    provider: Option<&str>,
    start: Option<DateTime<Utc>>,
    deleted: bool,
) {
    wire::meta(w, care_connect_profile!("Encounter"), None);
    record_identifier(w, record);
    w.value(
        "status",
        if deleted {
            "entered-in-error"
        } else {
            "finished"
        },
    );
    if let Some(c) = type_code {
        wire::nhs_codeable(
            w,
            "type",
            "https://fhir.nhs.uk/STU3/CodeSystem/DCH-ChildHealthEncounterType-1",
            c,
        );
    }
    if let Some(p) = patient {
        wire::reference(w, "subject", p);
    }
    if let Some(s) = start {
        w.start("period");
        wire::instant_value(w, "start", s);
        w.end("period");
    }
    if let Some(p) = provider {
        wire::reference(w, "serviceProvider", p);
    }
}

/// The counterpart of `procedure` (a literal SNOMED CT code, an outcome).
fn procedure(
    w: &mut XmlStream,
    code: (&str, &str),
    outcome: &Snomed,
    patient: &str,
    context: &str,
    performed: Option<DateTime<Utc>>,
) {
    wire::meta(w, care_connect_profile!("Procedure"), None);
    w.value("status", "completed");
    wire::codeable(w, "code", SCT, code.0, code.1);
    wire::reference(w, "subject", patient);
    wire::reference(w, "context", context);
    if let Some(t) = performed {
        wire::instant_value(w, "performedDateTime", t);
    }
    snomed(w, "outcome", outcome);
}

/// The counterpart of `screening_message`.
fn screening_message(
    cx: &mut BuildContext,
    event: &'static EventType,
    s: &Screening,
    encounter_type: &str,
    start: Option<DateTime<Utc>>,
    entries: impl FnOnce(&mut Wire, &str, &str),
) -> XmlMessage {
    let mut a = Wire::new(cx);
    let enc = a.reserve();
    let responsible = if s.met == MessageEventType::Delete {
        a.add_reserved(&enc, "Encounter", |w| {
            encounter(w, &s.record, None, None, None, None, true)
        });
        Responsible::Url(directory_url(&s.provider.ods_code))
    } else {
        let org = a.organization(&s.provider);
        let pat = a.patient(&s.patient);
        entries(&mut a, &pat, &enc);
        a.add_reserved(&enc, "Encounter", |w| {
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

impl BloodSpotTestOutcome {
    /// Builds the message as wire XML (see [`EventBuilder::build_xml`]).
    pub fn build_xml(&self, cx: &mut BuildContext) -> Result<XmlMessage, BuildError> {
        let event = ev("blood-spot-test-outcome-1");
        self.check(event)?;
        Ok(screening_message(
            cx,
            event,
            &self.s,
            "008",
            None,
            |a, pat, enc_url| {
                a.add("DiagnosticReport", |w| {
                    wire::meta(w, care_connect_profile!("DiagnosticReport"), None);
                    w.value("status", "final");
                    wire::text_concept(w, "code", "Newborn blood spot screening");
                    wire::reference(w, "subject", pat);
                    wire::reference(w, "context", enc_url);
                    if let Some(t) = self.received {
                        wire::instant_value(w, "issued", t);
                    }
                });
                for (cond, outcome) in &self.results {
                    a.add("Procedure", |w| {
                        procedure(w, cond.procedure(), outcome, pat, enc_url, None)
                    });
                }
            },
        ))
    }
}

impl NewbornHearing {
    /// Builds the message as wire XML (see [`EventBuilder::build_xml`]).
    pub fn build_xml(&self, cx: &mut BuildContext) -> Result<XmlMessage, BuildError> {
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
                    a.add("Observation", |w| {
                        wire::meta(w, care_connect_profile!("Observation"), None);
                        w.value("status", "final");
                        wire::text_concept(w, "code", "Newborn hearing screening outcome");
                        wire::reference(w, "subject", pat);
                        wire::reference(w, "context", enc_url);
                        wire::instant_value(w, "effectiveDateTime", *set);
                        snomed(w, "valueCodeableConcept", outcome);
                    });
                }
                for t in &self.tests {
                    a.add("Procedure", |w| {
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
            },
        ))
    }
}

impl NipeOutcome {
    /// Builds the message as wire XML (see [`EventBuilder::build_xml`]).
    pub fn build_xml(&self, cx: &mut BuildContext) -> Result<XmlMessage, BuildError> {
        let event = ev("nipe-outcome-1");
        Ok(screening_message(
            cx,
            event,
            &self.s,
            "006",
            self.start,
            |a, pat, enc_url| {
                if let Some(ex) = &self.examiner {
                    a.add("Practitioner", |w| practitioner(w, ex));
                }
                if let Some(f) = &self.findings {
                    for (code, display, outcome) in f.procedures() {
                        a.add("Procedure", |w| {
                            procedure(w, (code, display), outcome, pat, enc_url, self.start)
                        });
                    }
                }
            },
        ))
    }
}

/// Ends a PDS message (the counterpart of `pds_message`): the
/// Communication from the publisher `org` about the Patient `pat` is the focus.
fn pds_message(
    mut a: Wire,
    event: &'static EventType,
    patient: &PatientInfo,
    pat: &Urn,
    org: &str,
) -> XmlMessage {
    let now = a.now();
    let focus = a.add("Communication", |w| {
        wire::communication(w, pat.as_str(), org, now.as_str())
    });
    a.message(
        event,
        MessageEventType::New,
        Some(patient),
        focus.as_str(),
        org,
    )
}

impl PdsChangeOfAddress {
    /// Builds the message as wire XML (see [`EventBuilder::build_xml`]).
    pub fn build_xml(&self, cx: &mut BuildContext) -> Result<XmlMessage, BuildError> {
        let event = ev("pds-change-of-address-1");
        self.check(event)?;
        let mut a = Wire::new(cx);
        let org = a.publisher_org();
        let x = PatientExtra {
            scn: Some(self.scn),
            previous: Some(&self.previous),
            ..Default::default()
        };
        let pat = a.add("Patient", |w| wire::patient(w, Some(&self.patient), &x));
        Ok(pds_message(a, event, &self.patient, &pat, org.as_str()))
    }
}

impl PdsChangeOfGp {
    /// Builds the message as wire XML (see [`EventBuilder::build_xml`]).
    pub fn build_xml(&self, cx: &mut BuildContext) -> Result<XmlMessage, BuildError> {
        let event = ev("pds-change-of-gp-1");
        self.check(event)?;
        let mut a = Wire::new(cx);
        // the publisher by its ODS directory URL (see the model path)
        let org = directory_url(&a.cx.publisher.organization.ods_code);
        let practice = |a: &mut Wire, p: &PracticeInfo| {
            a.add("Organization", |w| {
                wire::organization(w, &p.practice, None, Some(&p.commissioner))
            })
        };
        let gp = self.new_practice.as_ref().map(|p| practice(&mut a, p));
        let x = PatientExtra {
            scn: Some(self.scn),
            gp: gp.as_ref().map(Urn::as_str),
            ..Default::default()
        };
        let pat = a.add("Patient", |w| wire::patient(w, Some(&self.patient), &x));
        if let Some((prev, start, end)) = &self.previous {
            let prev_url = practice(&mut a, prev);
            a.add("EpisodeOfCare", |w| {
                wire::meta(w, care_connect_profile!("EpisodeOfCare"), None);
                w.value("status", "finished");
                wire::nhs_codeable(
                    w,
                    "type",
                    "https://fhir.nhs.uk/STU3/CodeSystem/EMS-PDS-PatientCareProvisionType-1",
                    "1",
                );
                wire::reference(w, "patient", pat.as_str());
                wire::reference(w, "managingOrganization", prev_url.as_str());
                wire::date_period(w, *start, *end);
            });
        }
        Ok(pds_message(a, event, &self.patient, &pat, org.as_str()))
    }
}

impl PdsDeathNotification {
    /// Builds the message as wire XML (see [`EventBuilder::build_xml`]).
    pub fn build_xml(&self, cx: &mut BuildContext) -> Result<XmlMessage, BuildError> {
        let event = ev("pds-death-notification-1");
        let mut a = Wire::new(cx);
        let org = a.publisher_org();
        let (code, died) = self.status.code_and_time();
        let status = |w: &mut XmlStream| {
            w.start_url("extension", DEATH_STATUS_EXTENSION);
            w.start_url("extension", "deathNotificationStatus");
            wire::nhs_codeable(w, "valueCodeableConcept", DEATH_STATUS_SYSTEM, code);
            w.end("extension");
            w.start_url("extension", "systemEffectiveDate");
            wire::instant_value(w, "valueDateTime", self.effective);
            w.end("extension");
            w.end("extension");
        };
        let x = PatientExtra {
            scn: Some(self.scn),
            extension: Some(&status),
            deceased: died,
            ..Default::default()
        };
        let pat = a.add("Patient", |w| wire::patient(w, Some(&self.patient), &x));
        Ok(pds_message(a, event, &self.patient, &pat, org.as_str()))
    }
}

impl PdsRecordChange {
    /// Builds the message as wire XML (see [`EventBuilder::build_xml`]).
    pub fn build_xml(&self, cx: &mut BuildContext) -> Result<XmlMessage, BuildError> {
        let event = ev("pds-record-change-1");
        let mut a = Wire::new(cx);
        let responsible = directory_url(&a.cx.publisher.organization.ods_code);
        let x = PatientExtra {
            scn: Some(self.scn),
            ..Default::default()
        };
        let focus = a.add("Patient", |w| wire::patient(w, Some(&self.patient), &x));
        Ok(a.message(
            event,
            MessageEventType::New,
            Some(&self.patient),
            focus.as_str(),
            &responsible,
        ))
    }
}

impl PdsBirthNotification {
    /// Builds the message as wire XML (see [`EventBuilder::build_xml`]).
    pub fn build_xml(&self, cx: &mut BuildContext) -> Result<XmlMessage, BuildError> {
        let event = ev("pds-birth-notification-1");
        self.check(event)?;
        let mut a = Wire::new(cx);
        let org = a.publisher_org();
        // baby
        let ethnic = |w: &mut XmlStream| {
            w.start_url("extension", ETHNIC_CATEGORY_EXTENSION);
            wire::nhs_codeable(
                w,
                "valueCodeableConcept",
                ETHNIC_CATEGORY_SYSTEM,
                &self.baby.ethnic_category,
            );
            w.end("extension");
        };
        let x = PatientExtra {
            scn: Some(self.baby.scn),
            extension: Some(&ethnic),
            birth_time: Some(self.baby.birth_time),
            multiple_birth: Some(self.baby.birth_order as i32),
            ..Default::default()
        };
        let baby = a.add("Patient", |w| {
            wire::patient(w, Some(&self.baby.patient), &x)
        });
        // mother and the RelatedPerson linking her to the baby
        let rp = a.reserve();
        let x = PatientExtra {
            link: Some(rp.as_str()),
            ..Default::default()
        };
        let mother = a.add("Patient", |w| wire::patient(w, self.mother.as_ref(), &x));
        a.add_reserved(&rp, "RelatedPerson", |w| {
            wire::meta(w, care_connect_profile!("RelatedPerson"), None);
            wire::reference(w, "patient", baby.as_str());
            wire::codeable(
                w,
                "relationship",
                ROLE_CODE_SYSTEM,
                "NMTH",
                "natural mother",
            );
        });
        // notifying practitioner
        let enterer = a.add("Practitioner", |w| practitioner(w, &self.notifier));
        // observations
        let obs = |a: &mut Wire,
                   subject: &Urn,
                   category: bool,
                   code: &dyn Fn(&mut XmlStream),
                   value: &dyn Fn(&mut XmlStream)| {
            a.add("Observation", |w| {
                wire::meta(w, care_connect_profile!("Observation"), None);
                w.value("status", "final");
                if category {
                    wire::codeable(
                        w,
                        "category",
                        "http://hl7.org/fhir/observation-category",
                        "vital-signs",
                        "Vital Signs",
                    );
                }
                code(w);
                wire::reference(w, "subject", subject.as_str());
                value(w);
            });
        };
        let d = &self.details;
        let (c, disp) = BIRTHS_IN_CONFINEMENT;
        obs(
            &mut a,
            &mother,
            false,
            &sct(c, disp),
            &qty(d.births_in_confinement, None),
        );
        let weight = |w: &mut XmlStream| {
            w.start("code");
            w.start("coding");
            w.value("system", "http://loinc.org");
            w.value("code", "29463-7");
            w.end("coding");
            wire::coding(w, "coding", SCT, "364589006", Some("Birth weight"));
            w.end("code");
        };
        obs(
            &mut a,
            &baby,
            true,
            &weight,
            &qty(d.weight_grams, Some("g")),
        );
        let (c, disp) = GESTATION;
        obs(
            &mut a,
            &baby,
            false,
            &sct(c, disp),
            &qty(d.gestation_weeks, Some("wk")),
        );
        let (c, disp) = STILLBIRTH;
        obs(
            &mut a,
            &baby,
            false,
            &sct(c, disp),
            &indicator(STILL_BORN_SYSTEM, &d.still_born_indicator),
        );
        let (c, disp) = CONGENITAL_ABNORMALITY;
        obs(
            &mut a,
            &baby,
            false,
            &sct(c, disp),
            &indicator(CONGENITAL_ABNORMALITY_SYSTEM, &d.congenital_abnormality),
        );
        // registering authority
        let ra = a.add("Organization", |w| {
            wire::organization(
                w,
                &self.registering_authority,
                Some((
                    REGISTERING_AUTHORITY_TYPE_SYSTEM,
                    &self.registering_authority_type,
                )),
                None,
            )
        });
        a.add("EpisodeOfCare", |w| {
            wire::meta(w, care_connect_profile!("EpisodeOfCare"), None);
            w.value("status", "active");
            wire::nhs_codeable(w, "type", BIRTH_EPISODE_SYSTEM, "registering-authority");
            wire::reference(w, "patient", baby.as_str());
            wire::reference(w, "managingOrganization", ra.as_str());
        });
        let now = a.now();
        let focus = a.add("Communication", |w| {
            wire::communication(w, mother.as_str(), org.as_str(), now.as_str())
        });
        Ok(a.finish(Header {
            event,
            met: MessageEventType::New,
            patient: self.mother.as_ref(),
            focus: focus.as_str(),
            responsible: org.as_str(),
            enterer: Some(enterer.as_str()),
        }))
    }
}

impl ProfessionalContacts {
    /// Builds the message as wire XML (see [`EventBuilder::build_xml`]).
    pub fn build_xml(&self, cx: &mut BuildContext) -> Result<XmlMessage, BuildError> {
        let event = ev("professional-contacts-1");
        self.check(event)?;
        let mut a = Wire::new(cx);
        let org = a.organization(&self.organization);
        let pat = a.patient(&self.patient);
        let focus = a.add("EpisodeOfCare", |w| {
            wire::meta(w, care_connect_profile!("EpisodeOfCare"), None);
            record_identifier(w, &self.record);
            w.value("status", &self.status);
            snomed(w, "type", &self.care_setting);
            wire::reference(w, "patient", pat.as_str());
            wire::reference(w, "managingOrganization", org.as_str());
            if self.period != (None, None) {
                wire::date_period(w, self.period.0, self.period.1);
            }
        });
        Ok(a.message(
            event,
            self.met,
            Some(&self.patient),
            focus.as_str(),
            org.as_str(),
        ))
    }
}

impl Vaccinations {
    /// Builds the message as wire XML (see [`EventBuilder::build_xml`]).
    pub fn build_xml(&self, cx: &mut BuildContext) -> Result<XmlMessage, BuildError> {
        let event = ev("vaccinations-1");
        let mut a = Wire::new(cx);
        let org = a.organization(&self.organization);
        let pat = a.patient(&self.patient);
        let focus = a.add("Immunization", |w| {
            wire::meta(w, care_connect_profile!("Immunization"), None);
            w.start_url("extension", VACCINATION_PROCEDURE_EXTENSION);
            snomed(w, "valueCodeableConcept", &self.procedure);
            w.end("extension");
            record_identifier(w, &self.record);
            w.value("status", "completed");
            w.value("notGiven", bool_text(self.not_given_reason.is_some()));
            snomed(w, "vaccineCode", &self.vaccine);
            wire::reference(w, "patient", pat.as_str());
            w.value("date", &date(self.date));
            w.value("primarySource", bool_text(self.primary_source));
            if let Some(r) = &self.not_given_reason {
                w.start("explanation");
                snomed(w, "reasonNotGiven", r);
                w.end("explanation");
            }
        });
        Ok(a.message(
            event,
            self.met,
            Some(&self.patient),
            focus.as_str(),
            org.as_str(),
        ))
    }
}

/// A SNOMED CT `code` of literals.
fn sct(code: &'static str, display: &'static str) -> impl Fn(&mut XmlStream) {
    move |w| wire::codeable(w, "code", SCT, code, display)
}

/// A `valueQuantity` (UCUM `unit`, when given).
fn qty(v: u32, unit: Option<&'static str>) -> impl Fn(&mut XmlStream) {
    move |w| {
        w.start("valueQuantity");
        w.value_i64("value", v.into());
        if let Some(u) = unit {
            w.value("unit", u);
            w.value("system", "http://unitsofmeasure.org");
            w.value("code", u);
        }
        w.end("valueQuantity");
    }
}

/// A `valueCodeableConcept` from an NHS code system.
fn indicator<'a>(system: &'static str, code: &'a str) -> impl Fn(&mut XmlStream) + 'a {
    move |w| wire::nhs_codeable(w, "valueCodeableConcept", system, code)
}

fn bool_text(b: bool) -> &'static str {
    if b {
        "true"
    } else {
        "false"
    }
}
