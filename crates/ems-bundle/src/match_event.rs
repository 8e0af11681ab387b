//! A received message as the matcher's input: [`EventMessage::to_match_event`].

use crate::read::EventMessage;
use chrono::{DateTime, NaiveDate, Utc};
use ems_match::{MatchEvent, PatientContext};
use ems_stu3::{OptStrExt, Patient};

impl EventMessage {
    /// The matcher's [`MatchEvent`] for this message: routing NHS number and
    /// birth date, event code, evaluation instant (`MessageHeader.timestamp`,
    /// else `meta.lastUpdated`), and the patient context the message carries
    /// (home and previous postcode, registered practice). The PDS flag is not
    /// in messages: set `patient.pds_flag` from PDS. `None` when the message
    /// has no usable timestamp.
    ///
    /// ```
    /// use ems_bundle::{samples, BuildContext, EventMessage, MessageEventType, example_publisher};
    ///
    /// let mut cx = BuildContext::deterministic(example_publisher(), 1);
    /// let built = samples::sample("pds-change-of-address-1", MessageEventType::New, false, &mut cx).unwrap();
    /// let msg = EventMessage::from_xml(built.to_xml().as_bytes()).unwrap();
    /// let ev = msg.to_match_event().unwrap();
    /// assert_eq!(ev.event_code, "pds-change-of-address-1");
    /// assert_eq!(ev.patient.postcode.as_deref(), Some("YO1 7HH"));
    /// assert_eq!(ev.patient.previous_postcode.as_deref(), Some("LS1 4AP"));
    /// ```
    pub fn to_match_event(&self) -> Option<MatchEvent> {
        let h = self.header()?;
        let at = h
            .timestamp
            .str_value()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc))
            .or_else(|| self.last_updated().map(|t| t.with_timezone(&Utc)))?;
        let birth_date = self
            .routing_birth_date()
            .and_then(|d| NaiveDate::parse_from_str(d.get(..10).unwrap_or(d), "%Y-%m-%d").ok());
        let mut patient = PatientContext::default();
        if let Some(p) = self.patient() {
            patient.postcode = postcode(p, "home");
            patient.previous_postcode = postcode(p, "old");
            patient.gp_practice = p
                .general_practitioner
                .first()
                .and_then(|g| g.reference.str_value())
                .and_then(|r| self.organization_ods(r))
                .map(str::to_string);
        }
        Some(MatchEvent {
            nhs_number: self.nhs_number(),
            event_code: self.event_type().code().to_string(),
            birth_date,
            at,
            patient,
        })
    }
}

/// The postal code of the patient's first address with this `use`.
fn postcode(p: &Patient, use_: &str) -> Option<String> {
    p.address
        .iter()
        .find(|a| a.use_.str_value() == Some(use_))
        .and_then(|a| a.postal_code.str_value())
        .map(str::to_string)
}
