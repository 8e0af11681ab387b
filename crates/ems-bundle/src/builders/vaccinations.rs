//! Vaccinations (digest 10.10).

use super::*;

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
        let focus = a.add("Immunization", |w| {
            describe::meta(w, care_connect_profile!("Immunization"), None);
            w.start_extension("extension", VACCINATION_PROCEDURE_EXTENSION);
            self.procedure.describe(w, "valueCodeableConcept");
            w.end("extension");
            self.record.describe(w);
            w.value_static("status", "completed");
            w.value_static(
                "notGiven",
                describe::bool_text(self.not_given_reason.is_some()),
            );
            self.vaccine.describe(w, "vaccineCode");
            describe::entry_reference(w, "patient", &pat);
            w.value_formatted("date", &date(self.date));
            w.value_static("primarySource", describe::bool_text(self.primary_source));
            if let Some(r) = &self.not_given_reason {
                w.start("explanation");
                r.describe(w, "reasonNotGiven");
                w.end("explanation");
            }
        });
        a.message(event, self.met, Some(&self.patient), &focus, &org)
    }
}
