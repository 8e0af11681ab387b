//! One typed builder per supported event (digest section 10), by event
//! family: [`pds`], [`screening`], [`professional_contacts`],
//! [`vaccinations`]. Mandatory data are constructor arguments;
//! `update()`/`delete()` exist only where the event allows them, so an
//! incomplete message does not compile.
//!
//! Each builder describes its message once (`describe`, generic over a
//! [`MessageSink`]); `build` drives the description into the model sink,
//! `build_xml` into the XML sink.

use crate::build::*;
use crate::context::{BuildContext, OrgInfo};
use crate::describe::{self, PatientExtra};
use crate::message::{Header, Message, MessageSink};
use chrono::{DateTime, NaiveDate, Utc};
use ems_match::{event_type, EventType};
use ems_stu3::xml::XmlStream;
use ems_stu3::{
    Bundle, CodeableConcept, Complex, ElementSink, Identifier, ModelSink, Practitioner, Resource,
};

/// `update()` and `delete()`, for the builders whose event allows them.
macro_rules! update_delete {
    () => {
        /// Sends as `update`.
        pub fn update(mut self) -> Self {
            self.met = MessageEventType::Update;
            self
        }
        /// Sends as `delete`.
        pub fn delete(mut self) -> Self {
            self.met = MessageEventType::Delete;
            self
        }
    };
}

mod pds;
mod professional_contacts;
mod screening;
mod vaccinations;
pub use pds::*;
pub use professional_contacts::*;
pub use screening::*;
pub use vaccinations::*;

/// A finished event message.
#[derive(Clone, Debug, PartialEq)]
pub struct BuiltMessage {
    /// The message Bundle (MessageHeader first).
    pub bundle: Bundle,
    /// The event type.
    pub event: &'static EventType,
    /// new / update / delete.
    pub message_event_type: MessageEventType,
}

impl BuiltMessage {
    /// `MessageHeader.id`.
    pub fn message_id(&self) -> &str {
        self.bundle
            .entry
            .first()
            .and_then(|e| e.resource.as_ref())
            .and_then(|r| r.id())
            .unwrap_or("")
    }
    /// XML in schema order (the NEMS wire format).
    pub fn to_xml(&self) -> String {
        ems_stu3::to_xml_of(&self.bundle)
    }
    /// Indented XML.
    pub fn to_xml_pretty(&self) -> String {
        ems_stu3::to_xml_pretty_of(&self.bundle)
    }
    /// FHIR JSON.
    pub fn to_json(&self) -> String {
        ems_stu3::to_json_of(&self.bundle)
    }
    /// Indented FHIR JSON.
    pub fn to_json_pretty(&self) -> String {
        ems_stu3::to_json_pretty_of(&self.bundle)
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
    /// The Bundle as a resource.
    pub fn into_resource(self) -> Resource {
        Resource::from(self.bundle)
    }
}

/// A finished event message written as compact wire XML by
/// [`EventBuilder::build_xml`]: the bytes of
/// [`BuiltMessage::to_xml`] for the same message, made without building
/// the model.
#[derive(Clone, Debug)]
pub struct XmlMessage {
    /// The Bundle as compact XML in schema order (the NEMS wire format).
    pub xml: String,
    pub(crate) message_id: KeptUrn,
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

/// An event type of the built-in table.
type Ev = &'static EventType;
/// A builder's refusal: the field at fault and why.
type Refusal = (&'static str, &'static str);
/// What a description gives: the message in the sink's form.
type Out<S> = Result<<S as MessageSink>::Message, BuildError>;

/// An event's one description of its message.
trait Describe {
    /// The builder's own checks, before anything is drawn from the
    /// context: the field at fault and why.
    fn refusal(&self) -> Option<Refusal> {
        None
    }
    /// Writes the message into `a`'s sink.
    fn describe<S: MessageSink>(&self, event: Ev, a: Message<S>) -> Out<S>;
}

/// Checks and describes `b`'s message into a new message of sink `S`.
fn run<B: Describe, S: MessageSink>(b: &B, code: &str, cx: &mut BuildContext) -> Out<S> {
    let event = ev(code);
    if let Some((field, message)) = b.refusal() {
        return Err(BuildError {
            event: event.code,
            field,
            message: message.into(),
        });
    }
    b.describe(event, Message::<S>::new(cx))
}

fn ev(code: &str) -> &'static EventType {
    event_type(code).expect("built-in event table holds every builder's event")
}

/// A business identifier the publisher keeps stable across messages
/// (e.g. `Encounter.identifier`), so receivers can link new/update/delete.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordId {
    /// Identifier system (a URI owned by the publisher).
    pub system: String,
    /// Identifier value.
    pub value: String,
}

impl RecordId {
    /// A record identifier.
    pub fn new(system: impl Into<String>, value: impl Into<String>) -> RecordId {
        RecordId {
            system: system.into(),
            value: value.into(),
        }
    }
    /// Identifier element `e` (the resource's `identifier`).
    #[inline(always)]
    fn describe<S: ElementSink, O>(&self, w: &mut S, e: Complex<O, Identifier>) {
        describe::identifier(w, e, &self.system, &self.value);
    }
}

/// A practitioner's name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PractitionerInfo {
    /// Family name.
    pub family: String,
    /// Given names.
    pub given: Vec<String>,
}

impl PractitionerInfo {
    /// A practitioner.
    pub fn new(family: impl Into<String>, given: impl Into<String>) -> Self {
        PractitionerInfo {
            family: family.into(),
            given: vec![given.into()],
        }
    }
    /// A CareConnect Practitioner's content.
    fn describe<S: ElementSink>(&self, w: &mut S) {
        describe::meta(
            w,
            Practitioner::META,
            care_connect_profile!("Practitioner"),
            None,
        );
        describe::human_name(w, Practitioner::NAME, None, &self.family, &self.given);
    }
}

/// A SNOMED CT concept (code and display).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snomed {
    /// Concept id.
    pub code: String,
    /// Display (preferred term).
    pub display: String,
}

impl Snomed {
    /// A SNOMED CT concept.
    pub fn new(code: impl Into<String>, display: impl Into<String>) -> Snomed {
        Snomed {
            code: code.into(),
            display: display.into(),
        }
    }
    /// A CodeableConcept element `e` of this concept.
    #[inline(always)]
    fn describe<S: ElementSink, O>(&self, w: &mut S, e: Complex<O, CodeableConcept>) {
        describe::codeable_of(w, e, SNOMED_CT, &self.code, &self.display);
    }
}

/// Any event builder: holds the event's data and builds a message from it
/// on each call (the builders keep their data, so one builder can make many
/// messages, each with new ids, timestamps and sequence numbers).
///
/// ```
/// use ems_bundle::*;
/// let builders: Vec<Box<dyn EventBuilder>> = vec![
///     samples::sample_builder("vaccinations-1", MessageEventType::New, false).unwrap(),
///     samples::sample_builder("pds-record-change-1", MessageEventType::New, false).unwrap(),
/// ];
/// let mut cx = BuildContext::deterministic(example_publisher(), 1);
/// let first: Vec<_> = builders.iter().map(|b| b.build(&mut cx).unwrap()).collect();
/// let again = builders[0].build(&mut cx).unwrap();
/// assert_eq!(first[1].event.code, "pds-record-change-1");
/// assert_ne!(again.message_id(), first[0].message_id());
/// ```
pub trait EventBuilder {
    /// Builds the message (the same as the builder's own `build`).
    fn build(&self, cx: &mut BuildContext) -> Result<BuiltMessage, BuildError>;
    /// Builds the same message written straight to compact wire XML,
    /// without building the model: the bytes of [`BuiltMessage::to_xml`]
    /// (same ids, timestamps and sequence number for the same context
    /// state) at a fraction of the cost. Use it when the XML is all that
    /// is needed (sending over MESH).
    fn build_xml(&self, cx: &mut BuildContext) -> Result<XmlMessage, BuildError>;
    /// This builder behind a `Box<dyn EventBuilder>`, for lists of
    /// builders of different events.
    fn boxed(self) -> Box<dyn EventBuilder>
    where
        Self: Sized + 'static,
    {
        Box::new(self)
    }
}

/// The ten events, each named once with its builder and code (the list
/// is ems-match's [`ems_match::for_each_event_type`], generated from
/// `../shared/spec/event-types.json`; every event there needs its builder
/// type here): the builders' `build` and `build_xml` (their one
/// description, `describe`, driven into the model sink or the XML sink),
/// their [`EventBuilder`] impl, and [`EventKind`], the event of a received
/// message.
macro_rules! events {
    ($($t:ident = $code:literal),* $(,)?) => {
        $(
            impl $t {
                /// Builds the message (the typed Bundle).
                pub fn build(&self, cx: &mut BuildContext) -> Result<BuiltMessage, BuildError> {
                    run::<_, ModelSink>(self, $code, cx)
                }
                /// Builds the message as wire XML (see [`EventBuilder::build_xml`]).
                pub fn build_xml(&self, cx: &mut BuildContext) -> Result<XmlMessage, BuildError> {
                    run::<_, XmlStream>(self, $code, cx)
                }
            }
            impl EventBuilder for $t {
                fn build(&self, cx: &mut BuildContext) -> Result<BuiltMessage, BuildError> {
                    $t::build(self, cx)
                }
                fn build_xml(&self, cx: &mut BuildContext) -> Result<XmlMessage, BuildError> {
                    $t::build_xml(self, cx)
                }
            }
        )*

        /// The event type of a message: one of the ten, or another code.
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        pub enum EventKind {
            $(
                #[doc = concat!("`", $code, "`")]
                $t,
            )*
            /// Any other code.
            Other(String),
        }

        impl EventKind {
            /// From an EventType-1 code.
            pub fn from_code(code: &str) -> EventKind {
                match code {
                    $($code => EventKind::$t,)*
                    other => EventKind::Other(other.to_string()),
                }
            }
            /// The EventType-1 code.
            pub fn code(&self) -> &str {
                match self {
                    $(EventKind::$t => $code,)*
                    EventKind::Other(c) => c,
                }
            }
        }
    };
}
ems_match::for_each_event_type!(events);
