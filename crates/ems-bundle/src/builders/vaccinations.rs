//! Vaccinations (digest 10.10).

use super::*;
use ems_stu3::{Extension, Immunization, ImmunizationExplanation};

use vocab::VACCINATION_PROCEDURE_EXTENSION;

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
    /// A vaccination given (`procedure`: an immunisation procedure concept;
    /// `vaccine`: a dm+d concept); see [`Vaccinations::not_given`] for one
    /// that was not.
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
    /// Not given, for `reason` (a CareConnect-ImmunizationExplanationReason-1
    /// / SNOMED coding); `procedure` is then an "immunisation not done"
    /// situation.
    pub fn not_given(mut self, reason: Snomed) -> Self {
        self.not_given_reason = Some(reason);
        self
    }
    /// Reported by the patient or another provider rather than administered here.
    pub fn reported(mut self) -> Self {
        self.primary_source = false;
        self
    }
    update_delete!();
}

impl Describe for Vaccinations {
    fn describe<S: MessageSink>(&self, event: Ev, mut a: Message<S>) -> Out<S> {
        let org = a.organization(&self.organization);
        let pat = a.patient(&self.patient);
        let focus = a.add(Immunization::RESOURCE_TYPE, |w| {
            describe::meta(
                w,
                Immunization::META,
                care_connect_profile!("Immunization"),
                None,
            );
            w.start_extension(Immunization::EXTENSION, VACCINATION_PROCEDURE_EXTENSION);
            self.procedure
                .describe(w, Extension::VALUE_CODEABLE_CONCEPT);
            w.end(Immunization::EXTENSION);
            self.record.describe(w, Immunization::IDENTIFIER);
            w.value_static(Immunization::STATUS, "completed");
            w.value_static(
                Immunization::NOT_GIVEN,
                describe::bool_text(self.not_given_reason.is_some()),
            );
            self.vaccine.describe(w, Immunization::VACCINE_CODE);
            describe::entry_reference(w, Immunization::PATIENT, &pat);
            w.value_formatted(Immunization::DATE, &date(self.date));
            w.value_static(
                Immunization::PRIMARY_SOURCE,
                describe::bool_text(self.primary_source),
            );
            if let Some(r) = &self.not_given_reason {
                w.start(Immunization::EXPLANATION);
                r.describe(w, ImmunizationExplanation::REASON_NOT_GIVEN);
                w.end(Immunization::EXPLANATION);
            }
        });
        a.message(event, self.met, Some(&self.patient), &focus, &org)
    }
}
