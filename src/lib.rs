//! **ems** — Rust libraries for the NHS National Events Management Service
//! (NEMS): FHIR STU3 event messages, their validation, builders, and the
//! subscription-matching engine.
//!
//! This facade re-exports the member crates behind features (all on by default):
//!
//! | module | crate | feature |
//! |---|---|---|
//! | [`stu3`] | `ems-stu3`: STU3 model, XML and JSON codecs, `Issue`/`Outcome` | `stu3` |
//! | [`profiles`] | `ems-profiles`: NEMS conformance validator | `profiles` |
//! | [`bundle`] | `ems-bundle`: event-message builders, read view, sequencing | `bundle` |
//! | [`matching`] | `ems-match`: criteria, subscription index, matcher | `matching` |
//!
//! and adds the bridge between a received message and the matcher:
//! [`ToMatchEvent`].
//!
//! ```
//! use ems::bundle::{samples, BuildContext, EventMessage, MessageEventType, example_publisher};
//! use ems::ToMatchEvent;
//!
//! let mut cx = BuildContext::deterministic(example_publisher(), 1);
//! let built = samples::sample("pds-change-of-address-1", MessageEventType::New, false, &mut cx).unwrap();
//! let msg = EventMessage::from_xml(built.to_xml().as_bytes()).unwrap();
//! let ev = msg.to_match_event().unwrap();
//! assert_eq!(ev.event_code, "pds-change-of-address-1");
//! assert_eq!(ev.patient.postcode.as_deref(), Some("YO1 7HH"));
//! assert_eq!(ev.patient.previous_postcode.as_deref(), Some("LS1 4AP"));
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "bundle")]
pub use ems_bundle as bundle;
#[cfg(feature = "matching")]
pub use ems_match as matching;
#[cfg(feature = "profiles")]
pub use ems_profiles as profiles;
#[cfg(feature = "stu3")]
pub use ems_stu3 as stu3;

#[cfg(feature = "bundle")]
mod bridge {
    use chrono::{DateTime, NaiveDate, Utc};
    use ems_bundle::EventMessage;
    use ems_match::{MatchEvent, PatientContext};
    use ems_stu3::{OptStrExt, Organization, Resource};

    /// Builds the matcher's input from a received event message.
    ///
    /// (A `From<&EventMessage> for MatchEvent` impl is not possible here: the
    /// trait and both types belong to other crates, so the facade offers this
    /// trait instead.)
    pub trait ToMatchEvent {
        /// The [`MatchEvent`] for this message: routing NHS number and birth
        /// date, event code, evaluation instant (`MessageHeader.timestamp`,
        /// else `meta.lastUpdated`), and the patient context the message
        /// carries (home and previous postcode, registered practice). The PDS
        /// flag is not in messages: set `patient.pds_flag` from PDS.
        /// `None` when the message has no usable timestamp.
        fn to_match_event(&self) -> Option<MatchEvent>;
    }

    impl ToMatchEvent for EventMessage {
        fn to_match_event(&self) -> Option<MatchEvent> {
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
                patient.postcode = p
                    .address
                    .iter()
                    .find(|a| a.use_.str_value() == Some("home"))
                    .and_then(|a| a.postal_code.str_value())
                    .map(str::to_string);
                patient.previous_postcode = p
                    .address
                    .iter()
                    .find(|a| a.use_.str_value() == Some("old"))
                    .and_then(|a| a.postal_code.str_value())
                    .map(str::to_string);
                patient.gp_practice = p
                    .general_practitioner
                    .first()
                    .and_then(|g| g.reference.str_value())
                    .and_then(|r| {
                        r.strip_prefix("https://directory.spineservices.nhs.uk/STU3/Organization/")
                            .map(str::to_string)
                            .or_else(|| {
                                let org: &Organization = self.resolve(r).and_then(Resource::get)?;
                                org.identifier
                                    .iter()
                                    .find(|i| {
                                        i.system.str_value()
                                            == Some("https://fhir.nhs.uk/Id/ods-organization-code")
                                    })
                                    .and_then(|i| i.value.str_value())
                                    .map(str::to_string)
                            })
                    });
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
}

#[cfg(feature = "bundle")]
pub use bridge::ToMatchEvent;
