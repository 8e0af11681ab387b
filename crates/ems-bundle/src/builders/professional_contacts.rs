//! Professional Contacts (digest 10.9).

use super::*;
use ems_stu3::EpisodeOfCare;

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
    update_delete!();
    /// When responsibility started and ended.
    pub fn period(mut self, start: Option<NaiveDate>, end: Option<NaiveDate>) -> Self {
        self.period = (start, end);
        self
    }
}

impl Describe for ProfessionalContacts {
    fn refusal(&self) -> Option<Refusal> {
        (self.organization.phone.is_none()).then_some((
            "organization.phone",
            "the managing organisation must have contact details",
        ))
    }
    fn describe<S: MessageSink>(&self, event: Ev, mut a: Message<S>) -> Out<S> {
        let org = a.organization(&self.organization);
        let pat = a.patient(&self.patient);
        let focus = a.add(EpisodeOfCare::RESOURCE_TYPE, |w| {
            describe::meta(
                w,
                EpisodeOfCare::META,
                care_connect_profile!("EpisodeOfCare"),
                None,
            );
            self.record.describe(w, EpisodeOfCare::IDENTIFIER);
            w.value(EpisodeOfCare::STATUS, &self.status);
            self.care_setting.describe(w, EpisodeOfCare::TYPE);
            describe::entry_reference(w, EpisodeOfCare::PATIENT, &pat);
            describe::entry_reference(w, EpisodeOfCare::MANAGING_ORGANIZATION, &org);
            if self.period != (None, None) {
                describe::date_period(w, EpisodeOfCare::PERIOD, self.period.0, self.period.1);
            }
        });
        a.message(event, self.met, Some(&self.patient), &focus, &org)
    }
}
