//! NEMS subscription criteria and a matching engine for national scale.
//!
//! Stands alone: plain Rust types in, deliveries out (no FHIR dependency).
//!
//! # Overview
//!
//! * [`Criteria`] parses and checks the EMS criteria string of a subscription
//!   (digest section 6); `Display` gives the canonical form.
//! * [`Subscription`] is what the engine needs of a subscription: id, status,
//!   end, creation time, mailbox, contact and criteria (with its `tag`).
//! * [`Matcher`] indexes subscriptions (explicit by NHS number, generic by
//!   rule and organisation code) and turns a [`MatchEvent`] into one
//!   [`Delivery`] per MESH mailbox, with the WorkflowID and the
//!   `Mex-Partnerid` header; [`Geography`] answers the area questions of the
//!   generic rules ([`CsvGeography`] loads the published CSV layouts).
//! * [`LifecycleRegistry`] says what publishing or subscribing to a
//!   deprecated, no-longer-supported or withdrawn event gets.
//!
//! ```
//! use ems_match::*;
//! use std::sync::Arc;
//!
//! let mut m = Matcher::new(Arc::new(CsvGeography::sample()));
//! let generic: Criteria = "/Bundle?type=message&subscriptionRuleType=CHO_POSTCODE_CCG\
//!     &Organization.identifier=15F&MessageHeader.event=pds-change-of-address-1&tag=leeds"
//!     .parse()?;
//! m.insert(&Subscription::new("sub-a", "X26ABC1", generic, "2024-01-01T00:00:00Z".parse().unwrap())).unwrap();
//!
//! // the patient moved from Leeds (15F) to York (42D): the Leeds rule still matches
//! let ev = MatchEvent {
//!     nhs_number: Some("9434765919".parse().unwrap()),
//!     event_code: "pds-change-of-address-1".into(),
//!     birth_date: None,
//!     at: "2024-06-01T10:00:00Z".parse().unwrap(),
//!     patient: PatientContext {
//!         postcode: Some("YO1 7HH".into()),
//!         previous_postcode: Some("LS17 7DF".into()),
//!         ..Default::default()
//!     },
//! };
//! let deliveries = m.match_event(&ev);
//! assert_eq!(deliveries[0].mailbox, "X26ABC1");
//! assert_eq!(deliveries[0].partner_id.as_deref(), Some("sub-a|leeds"));
//! # Ok::<(), CriteriaError>(())
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod criteria;
pub mod events;
mod generated_events;
pub mod geography;
mod index;
pub mod lifecycle;
pub mod matcher;
pub mod nhs;
pub mod partner;
pub mod patients;
pub mod subscription;

pub use criteria::{
    AgeFilter, Criteria, CriteriaError, CriteriaKind, GpRegistration, NhsNumberSystem, RuleType,
    ServiceType, COUNTRY_CODES,
};
pub use events::{
    classify_unknown_event, event_index, event_type, EventType, UnknownEvent, EVENT_TYPES,
    EVENT_TYPE_SYSTEM, LEGACY_EVENT_CODES, MESSAGE_EVENT_TYPE_SYSTEM, UNSUPPORTED_EVENT_CODES,
};
pub use geography::{
    normalise_postcode, split_csv, CsvGeography, Geography, GeographyError, PostcodeArea,
};
pub use lifecycle::{
    LifecycleDecision, LifecycleNotice, LifecycleRegistry, LifecycleState, NoticeSeverity,
};
pub use matcher::{
    age_on, Delivery, MatchEvent, Matcher, MatcherBuilder, MatcherError, PatientContext, PdsFlag,
    SnapshotError,
};
pub use nhs::{NhsNumber, NhsNumberError};
pub use partner::{format_partner_id, parse_partner_id, PartnerIdError, PartnerPair};
pub use patients::{parse_patients_csv, PatientsCsvError};
pub use subscription::{Subscription, SubscriptionStatus};
