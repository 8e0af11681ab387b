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
//! It adds nothing of its own: a received message becomes the matcher's input
//! with `ems::bundle::EventMessage::to_match_event`, a FHIR Subscription the
//! matcher's with `ems::bundle::to_match_subscription`.
//!
//! ```
//! use ems::bundle::{samples, BuildContext, EventMessage, MessageEventType, example_publisher};
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
