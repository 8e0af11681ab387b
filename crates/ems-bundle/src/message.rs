//! One message, whatever it is written into: [`Message`] collects the
//! entries of an event message as the event describes them and finishes it
//! with the MessageHeader and the Bundle, driving a [`MessageSink`]:
//! [`XmlStream`] gives the wire XML ([`XmlMessage`], `build_xml`),
//! [`ModelSink`] the typed Bundle ([`BuiltMessage`], `build`). The ids are
//! drawn in the same order whichever the sink, so both give the same
//! message.

use crate::build::*;
use crate::builders::{BuiltMessage, XmlMessage};
use crate::context::{BuildContext, OrgInfo, SourceContact};
use crate::describe::{self, PatientExtra};
use ems_match::EventType;
use ems_stu3::xml::XmlStream;
use ems_stu3::{
    Bundle, BundleEntry, ContactPoint, ElementSink, Extension, Identifier, MessageHeader,
    MessageHeaderSource, Meta, ModelSink, Organization, Patient, Primitive, Res, Resource,
};

/// A sink a whole message can be written into. The entries are written
/// first (they are described before the MessageHeader, which refers to
/// them); [`MessageSink::finish`] puts the Bundle's start and the header
/// entry in front of them.
pub(crate) trait MessageSink: ElementSink + Sized {
    /// The finished message.
    type Message;
    /// A sink for the entries (inside the Bundle, after its header entry).
    fn entries() -> Self;
    /// Puts the Bundle's `id`, `type` and the header entry (the
    /// MessageHeader `made.message_id`, whose content after its `id` is
    /// written by `header` into a sink of this kind) in front of the
    /// entries and closes the Bundle.
    fn finish(
        self,
        made: Made,
        header: impl FnOnce(&mut Self),
    ) -> Result<Self::Message, BuildError>;
}

/// What every finished message records besides its content.
pub(crate) struct Made {
    pub event: &'static EventType,
    pub met: MessageEventType,
    pub message_id: Urn,
    pub bundle_id: Urn,
}

/// Wire XML: the header is written into its own buffer, which goes in
/// front of the entries' (one copy of the short header, none of the
/// entries).
impl MessageSink for XmlStream {
    type Message = XmlMessage;
    fn entries() -> Self {
        // room for most messages and their header (a birth notification,
        // ~11 KB, regrows once)
        XmlStream::with_capacity(8 * 1024)
    }
    fn finish(
        mut self,
        made: Made,
        header: impl FnOnce(&mut Self),
    ) -> Result<XmlMessage, BuildError> {
        let mut head = XmlStream::with_capacity(2048);
        head.root("Bundle");
        bundle_start(&mut head, &made.bundle_id);
        entry(
            &mut head,
            &made.message_id,
            MessageHeader::RESOURCE_TYPE,
            header,
        );
        self.prepend(&head);
        self.end("Bundle");
        Ok(XmlMessage {
            xml: self.into_string(),
            message_id: KeptUrn::of(&made.message_id),
            event: made.event,
            message_event_type: made.met,
        })
    }
}

/// The typed model: the entries follow an empty first entry, kept for the
/// header; the MessageHeader is assembled in a sink of its own once the
/// entries' sink is finished (reusing its scratch) and put into that first
/// entry, so no entry is moved. The Bundle's `id` and `type` are then set
/// on the assembled Bundle (written after the entries they would be out of
/// schema order).
impl MessageSink for ModelSink {
    type Message = BuiltMessage;
    fn entries() -> Self {
        // the Bundle made in its box (not moved into it); room for the
        // largest messages without regrowing (a blood spot outcome with
        // all 11 conditions has 16 entries)
        let mut bundle = Box::<ems_stu3::Bundle>::default();
        bundle.entry.reserve_exact(16);
        bundle.entry.push(ems_stu3::BundleEntry::default());
        ModelSink::with_root(Resource::Bundle(bundle))
    }
    fn finish(
        self,
        made: Made,
        header: impl FnOnce(&mut Self),
    ) -> Result<BuiltMessage, BuildError> {
        let slip = |outcome: &ems_stu3::Outcome| BuildError {
            event: made.event.code,
            field: "(description)",
            message: outcome
                .issues
                .first()
                .map(|i| i.to_string())
                .unwrap_or_default(),
        };
        let parsed = self.finish().map_err(|e| slip(&e.outcome))?;
        let Resource::Bundle(mut bundle) = parsed.resource else {
            return Err(slip(&parsed.outcome));
        };
        let mut w = ModelSink::with_root(Resource::MessageHeader(Box::default()));
        w.value_formatted(MessageHeader::ID, made.message_id.id());
        header(&mut w);
        let parsed = w.finish().map_err(|e| slip(&e.outcome))?;
        if let Some(first) = bundle.entry.first_mut() {
            first.full_url = Some(Primitive::from(made.message_id.as_str()));
            first.resource = Some(parsed.resource);
        }
        bundle.id = Some(Primitive::from(made.bundle_id.id()));
        bundle.type_ = Some(Primitive::from_static(BUNDLE_TYPE));
        Ok(BuiltMessage {
            bundle: *bundle,
            event: made.event,
            message_event_type: made.met,
        })
    }
}

const BUNDLE_TYPE: &str = "message";

/// The Bundle's own elements before its entries.
fn bundle_start(w: &mut XmlStream, id: &Urn) {
    ElementSink::value_formatted(w, Bundle::ID, id.id());
    ElementSink::value_static(w, Bundle::TYPE, BUNDLE_TYPE);
}

/// `<entry><fullUrl/><resource><rtype><id/>` … `</rtype></resource></entry>`.
/// (The parts that are the same for every resource type are compiled once
/// per sink, not at every entry.)
#[inline(always)]
pub(crate) fn entry<S: ElementSink, R>(w: &mut S, u: &Urn, r: Res<R>, body: impl FnOnce(&mut S)) {
    entry_start(w, u);
    w.start_resource(r);
    w.value_formatted(r.id(), u.id());
    body(w);
    w.end_resource(r);
    entry_end(w);
}

/// `<entry><fullUrl/><resource>`.
#[inline(never)]
fn entry_start<S: ElementSink>(w: &mut S, u: &Urn) {
    w.start(Bundle::ENTRY);
    w.value_formatted(BundleEntry::FULL_URL, u.as_str());
    w.start(BundleEntry::RESOURCE);
}

/// `</resource></entry>`.
#[inline(never)]
fn entry_end<S: ElementSink>(w: &mut S) {
    w.end(BundleEntry::RESOURCE);
    w.end(Bundle::ENTRY);
}

/// The header data of one message.
pub(crate) struct Header<'a> {
    pub event: &'static EventType,
    pub met: MessageEventType,
    /// Routing demographics (NHS number, name, birth date) when `Some`.
    pub patient: Option<&'a PatientInfo>,
    pub focus: &'a Urn,
    pub responsible: &'a str,
    pub enterer: Option<&'a str>,
}

/// What a message's MessageHeader and Bundle take from the context, drawn
/// in this order after every entry's id: the header id, the message instant
/// (unless an entry already read it), the sequence number of the publisher
/// + patient + event stream, the Bundle id.
///
/// The two ids are handed back beside the stamp: they go into [`Made`].
struct Stamp {
    now: InstantText,
    /// `urn:nhs:addressing:asid:<ASID>`.
    endpoint: Text,
    /// The routing NHS number's digits.
    nhs_number: Option<ems_stu3::Str>,
    version: Option<u64>,
}

impl Stamp {
    /// The header id, the stamp and the Bundle id.
    fn draw(cx: &mut BuildContext, now: Option<InstantText>, h: &Header<'_>) -> (Urn, Stamp, Urn) {
        let header_id = cx.urn();
        let now = now.unwrap_or_else(|| cx.now_text());
        let endpoint = cx.publisher.endpoint_text();
        let nhs_number = h.patient.map(|p| nhs_digits(p.nhs_number));
        let version = nhs_number
            .as_deref()
            .map(|n| cx.sequence.next(&endpoint, n, h.event.code));
        let bundle_id = cx.urn();
        let stamp = Stamp {
            now,
            endpoint,
            nhs_number,
            version,
        };
        (header_id, stamp, bundle_id)
    }
}

/// Collects a message's entries in a [`MessageSink`]; the MessageHeader is
/// written by [`Message::finish`] (it refers to the entries).
pub(crate) struct Message<'c, S> {
    pub cx: &'c mut BuildContext,
    w: S,
    /// The message's instant, read from the clock once per message.
    now: Option<InstantText>,
}

impl<'c, S: MessageSink> Message<'c, S> {
    pub fn new(cx: &'c mut BuildContext) -> Self {
        Message {
            cx,
            w: S::entries(),
            now: None,
        }
    }

    /// The message's instant.
    pub fn now(&mut self) -> InstantText {
        let cx = &*self.cx;
        self.now.get_or_insert_with(|| cx.now_text()).clone()
    }

    /// A new id for a resource that is referred to before it is written.
    pub fn reserve(&mut self) -> Urn {
        self.cx.urn()
    }

    /// Writes the next entry, a resource of type `r` under a new id, whose
    /// content after `id` is written by `body`; returns its fullUrl.
    pub fn add<R>(&mut self, r: Res<R>, body: impl FnOnce(&mut S)) -> Urn {
        let u = self.cx.urn();
        self.add_reserved(&u, r, body);
        u
    }

    /// [`Message::add`] under an id from [`Message::reserve`].
    pub fn add_reserved<R>(&mut self, u: &Urn, r: Res<R>, body: impl FnOnce(&mut S)) {
        entry(&mut self.w, u, r, body);
    }

    /// Adds an Organization; returns its fullUrl.
    pub fn organization(&mut self, o: &OrgInfo) -> Urn {
        self.add(Organization::RESOURCE_TYPE, |w| {
            describe::organization(w, o, None, None)
        })
    }

    /// Adds a Patient; returns its fullUrl.
    pub fn patient(&mut self, p: &PatientInfo) -> Urn {
        self.add(Patient::RESOURCE_TYPE, |w| {
            describe::patient(w, Some(p), &PatientExtra::default())
        })
    }

    /// The publisher's own Organization.
    pub fn publisher_org(&mut self) -> Urn {
        let u = self.cx.urn();
        let o = &self.cx.publisher.organization;
        entry(&mut self.w, &u, Organization::RESOURCE_TYPE, |w| {
            describe::organization(w, o, None, None)
        });
        u
    }

    /// Finishes a message with the routing demographics of `patient` and
    /// no enterer.
    pub fn message(
        self,
        event: &'static EventType,
        met: MessageEventType,
        patient: Option<&PatientInfo>,
        focus: &Urn,
        responsible: &str,
    ) -> Result<S::Message, BuildError> {
        self.finish(Header {
            event,
            met,
            patient,
            focus,
            responsible,
            enterer: None,
        })
    }

    /// Writes the MessageHeader entry and finishes the Bundle.
    pub fn finish(mut self, h: Header<'_>) -> Result<S::Message, BuildError> {
        let (header_id, stamp, bundle_id) = Stamp::draw(self.cx, self.now.take(), &h);
        let publisher = &self.cx.publisher;
        let made = Made {
            event: h.event,
            met: h.met,
            message_id: header_id,
            bundle_id,
        };
        self.w
            .finish(made, |w| message_header(w, &h, &stamp, publisher))
    }
}

/// The MessageHeader's content after its `id`.
fn message_header<S: ElementSink>(
    w: &mut S,
    h: &Header<'_>,
    stamp: &Stamp,
    publisher: &crate::context::Publisher,
) {
    let now = stamp.now.as_str();
    w.start(MessageHeader::META);
    if let Some(v) = stamp.version {
        w.value_i64(Meta::VERSION_ID, v as i64);
    }
    w.value_formatted(Meta::LAST_UPDATED, now);
    w.value_static(Meta::PROFILE, vocab::MESSAGE_HEADER_PROFILE);
    w.end(MessageHeader::META);
    if let (Some(p), Some(n)) = (h.patient, &stamp.nhs_number) {
        w.start_extension(
            MessageHeader::EXTENSION,
            vocab::ROUTING_DEMOGRAPHICS_EXTENSION,
        );
        w.start_extension(Extension::EXTENSION, "nhsNumber");
        w.start(Extension::VALUE_IDENTIFIER);
        w.value_static(Identifier::SYSTEM, NHS_NUMBER_SYSTEM);
        w.value_formatted(Identifier::VALUE, n);
        w.end(Extension::VALUE_IDENTIFIER);
        w.end(Extension::EXTENSION);
        w.start_extension(Extension::EXTENSION, "name");
        describe::human_name(
            w,
            Extension::VALUE_HUMAN_NAME,
            Some("official"),
            &p.family,
            &p.given,
        );
        w.end(Extension::EXTENSION);
        w.start_extension(Extension::EXTENSION, "birthDateTime");
        w.value_formatted(Extension::VALUE_DATE_TIME, &date(p.birth_date));
        w.end(Extension::EXTENSION);
        w.end(MessageHeader::EXTENSION);
    }
    w.start_extension(
        MessageHeader::EXTENSION,
        vocab::MESSAGE_EVENT_TYPE_EXTENSION,
    );
    describe::codeable(
        w,
        Extension::VALUE_CODEABLE_CONCEPT,
        ems_match::MESSAGE_EVENT_TYPE_SYSTEM,
        h.met.code(),
        h.met.display(),
    );
    w.end(MessageHeader::EXTENSION);
    describe::coding(
        w,
        MessageHeader::EVENT,
        ems_match::EVENT_TYPE_SYSTEM,
        h.event.code,
        Some(h.event.display),
    );
    w.value_formatted(MessageHeader::TIMESTAMP, now);
    if let Some(e) = h.enterer {
        describe::reference(w, MessageHeader::ENTERER, e);
    }
    w.start(MessageHeader::SOURCE);
    w.value(MessageHeaderSource::NAME, &publisher.system_name);
    w.start(MessageHeaderSource::CONTACT);
    let (system, value) = match &publisher.contact {
        SourceContact::Phone(p) => ("phone", p),
        SourceContact::Email(e) => ("email", e),
    };
    w.value_static(ContactPoint::SYSTEM, system);
    w.value(ContactPoint::VALUE, value);
    w.end(MessageHeaderSource::CONTACT);
    w.value(MessageHeaderSource::ENDPOINT, &stamp.endpoint);
    w.end(MessageHeader::SOURCE);
    describe::reference(w, MessageHeader::RESPONSIBLE, h.responsible);
    describe::entry_reference(w, MessageHeader::FOCUS, h.focus);
}
