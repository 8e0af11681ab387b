//! The NEMS event types (digest section 10.0). The table itself
//! (`generated_events.rs`) is generated from `../shared/spec/event-types.json`
//! by `cargo xtask codegen`.

/// One supported NEMS event type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventType {
    /// EventType-1 code, e.g. `pds-change-of-address-1`.
    pub code: &'static str,
    /// EventType-1 display, e.g. `PDS Change of Address`.
    pub display: &'static str,
    /// MESH WorkflowID, e.g. `CHANGEOFADDRESS_1`.
    pub workflow_id: &'static str,
    /// Event code of the publish InteractionID (`None`: published by Spine only).
    pub publish_interaction_code: Option<&'static str>,
    /// Allowed `messageEventType` codes.
    pub message_event_types: &'static [&'static str],
    /// Resource type of `MessageHeader.focus`.
    pub focus: &'static str,
    /// Routing demographics extension 1..1 (0..1 only for PDS Birth Notification).
    pub routing_demographics_required: bool,
    /// In `delete` messages routing name and birth date are optional (screening events).
    pub delete_routing_name_dob_optional: bool,
    /// `MessageHeader.meta.lastUpdated` 1..1.
    pub meta_last_updated_required: bool,
    /// `MessageHeader.responsible` must be an Organization inside the bundle.
    pub responsible_in_bundle: bool,
    /// Organizations need a `name`.
    pub organization_name_required: bool,
    /// Maturity label.
    pub maturity: &'static str,
}

impl EventType {
    /// `urn:nhs:names:services:events:<Code>.Write`, for events with publish support.
    pub fn publish_interaction_id(&self) -> Option<String> {
        self.publish_interaction_code
            .map(|c| format!("urn:nhs:names:services:events:{c}.Write"))
    }
    /// `true` when publishers may publish it (not Spine-only).
    pub fn publication_supported(&self) -> bool {
        self.publish_interaction_code.is_some()
    }
}

pub use crate::generated_events::{
    EVENT_TYPES, EVENT_TYPE_SYSTEM, LEGACY_EVENT_CODES, MESSAGE_EVENT_TYPE_SYSTEM,
    UNSUPPORTED_EVENT_CODES,
};

/// Looks up a supported event type by code.
///
/// ```
/// let e = ems_match::event_type("vaccinations-1").unwrap();
/// assert_eq!(e.workflow_id, "VACCINATIONS_1");
/// assert_eq!(e.publish_interaction_id().as_deref(), Some("urn:nhs:names:services:events:Vaccinations.Write"));
/// ```
pub fn event_type(code: &str) -> Option<&'static EventType> {
    EVENT_TYPES.iter().find(|e| e.code == code)
}

/// Index of a supported event type in [`EVENT_TYPES`] (used as a bit position).
pub fn event_index(code: &str) -> Option<usize> {
    EVENT_TYPES.iter().position(|e| e.code == code)
}

/// How a code that is not a supported event relates to the code systems.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnknownEvent {
    /// In EventType-1 but not supported by NEMS.
    Unsupported,
    /// A pre-2.0.0 `EMS-EventType-1` code.
    Legacy,
    /// Not in any NEMS code system.
    Unknown,
}

/// Classifies a code that is not in [`EVENT_TYPES`].
pub fn classify_unknown_event(code: &str) -> UnknownEvent {
    if UNSUPPORTED_EVENT_CODES.contains(&code) {
        UnknownEvent::Unsupported
    } else if LEGACY_EVENT_CODES.iter().any(|(c, _)| *c == code) {
        UnknownEvent::Legacy
    } else {
        UnknownEvent::Unknown
    }
}
