//! Typed NEMS event-message builders (all ten events) and the receiver
//! toolkit.
//!
//! # Overview
//!
//! * Builders — [`BloodSpotTestOutcome`], [`NewbornHearing`], [`NipeOutcome`],
//!   [`PdsBirthNotification`], [`PdsChangeOfAddress`], [`PdsChangeOfGp`],
//!   [`PdsDeathNotification`], [`PdsRecordChange`], [`ProfessionalContacts`],
//!   [`Vaccinations`] — take the event's mandatory data as constructor
//!   arguments and produce a [`BuiltMessage`]: MessageHeader first, routing
//!   demographics from the Patient, `urn:uuid:` fullUrls, profiles,
//!   `meta.lastUpdated` and a `meta.versionId` sequence number, written as
//!   schema-ordered XML. A [`BuildContext`] injects the clock, ids and
//!   sequence numbers (deterministic for tests). A builder keeps its data:
//!   each `build` makes a new message; [`EventBuilder`] holds builders of
//!   different events behind one type. Each builder describes its message
//!   once, element by element, against [`ems_stu3::ElementSink`]: `build`
//!   drives the description into [`ems_stu3::ModelSink`] (the typed
//!   Bundle), `build_xml` into [`ems_stu3::xml::XmlStream`]
//!   ([`XmlMessage`], byte-identical to [`BuiltMessage::to_xml`], without
//!   the model — the fast way to bytes for sending).
//! * [`EventMessage`] reads a received message and answers the receiver's
//!   questions (id, event, patient, sequence, focus) without walking the
//!   bundle; [`EventMessage::to_match_event`] is the matcher's input for it.
//! * [`SequenceTracker`] classifies messages as new, duplicate, stale or after
//!   a gap; [`OwnIdentity`] recognises loop-back.
//! * [`to_match_subscription`] maps a FHIR Subscription to the matcher's
//!   [`ems_match::Subscription`] (the one mapping `ems route`, the router
//!   example and the server use).
//!
//! ```
//! use ems_bundle::*;
//! use chrono::NaiveDate;
//!
//! let patient = PatientInfo::new("9434765919".parse().unwrap(), "SMITH", "Jo",
//!     NaiveDate::from_ymd_opt(2023, 2, 1).unwrap());
//! let mut cx = BuildContext::deterministic(example_publisher(), 42);
//! let builder = Vaccinations::given(patient, RecordId::new("https://example.org/Id/imm", "IMM-1"),
//!         Snomed::new("170433008", "Measles mumps and rubella vaccination - second dose (procedure)"),
//!         Snomed::new("34925411000001109", "Priorix vaccine powder and solvent for solution for injection 0.5ml pre-filled syringes (GlaxoSmithKline UK Ltd) 1 pre-filled disposable injection (product)"),
//!         NaiveDate::from_ymd_opt(2024, 5, 30).unwrap(), example_publisher().organization);
//! let msg = builder.build(&mut cx)?;
//! assert_eq!(msg.interaction_id().as_deref(), Some("urn:nhs:names:services:events:Vaccinations.Write"));
//! let xml = msg.to_xml();
//! let received = EventMessage::from_xml(xml.as_bytes()).unwrap();
//! assert_eq!(received.event_type(), EventKind::Vaccinations);
//! // the same message written straight to wire XML (a context in the same state)
//! let direct = builder.build_xml(&mut BuildContext::deterministic(example_publisher(), 42))?;
//! assert_eq!(direct.xml, xml);
//! assert_eq!(direct.message_id(), msg.message_id());
//! # Ok::<(), BuildError>(())
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod build;
mod builders;
mod context;
mod describe;
mod match_event;
mod message;
mod read;
pub mod samples;
mod sequence;
mod subscription;

pub use build::{AddressInfo, BuildError, Gender, MessageEventType, PatientInfo};
pub use builders::*;
pub use context::*;
pub use read::{EventMessage, EventMessageError};
pub use sequence::{
    Classification, InMemoryStore, OwnIdentity, SequenceTracker, StreamKey, StreamState,
    TrackerStore,
};
pub use subscription::{to_match_subscription, SubscriptionMapError};
