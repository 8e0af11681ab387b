//! The direct path: event messages written straight to compact wire XML
//! with [`XmlStream`], without building the `ems_stu3` model first.
//!
//! Each writer here is the XML counterpart of a model constructor in
//! `build.rs` / `events.rs` and writes the elements in schema order. The
//! model path is the reference: `tests/direct.rs` checks, for every event
//! and message event type (and for hostile text), that
//! `build_xml` gives exactly the bytes of `to_xml_of(&build().bundle)`.

use crate::build::*;
use crate::context::{BuildContext, OrgInfo, SourceContact};
use crate::events::XmlMessage;
use chrono::{DateTime, NaiveDate, Utc};
use ems_match::EventType;
use ems_stu3::xml::XmlStream;

/// Collects the entries of a message as XML (the counterpart of
/// `Assembly`); the MessageHeader entry is written in front by `finish`.
pub(crate) struct Wire<'c> {
    pub cx: &'c mut BuildContext,
    /// The entries after the MessageHeader's; `finish` puts the Bundle
    /// start and the header in front, and this becomes the message.
    w: XmlStream,
    now: Option<InstantText>,
}

impl<'c> Wire<'c> {
    pub fn new(cx: &'c mut BuildContext) -> Self {
        Wire {
            cx,
            // room for most messages and their header (a birth
            // notification, ~11 KB, regrows once)
            w: XmlStream::with_capacity(8 * 1024),
            now: None,
        }
    }

    /// The message's instant.
    pub fn now(&mut self) -> InstantText {
        message_now(&mut self.now, self.cx).clone()
    }

    /// A new id for a resource that is referred to before it is written.
    pub fn reserve(&mut self) -> Urn {
        self.cx.urn()
    }

    /// Writes the next entry, a `rtype` resource under a new id, whose
    /// content after `id` is written by `body`; returns its fullUrl.
    pub fn add(&mut self, rtype: &str, body: impl FnOnce(&mut XmlStream)) -> Urn {
        let u = self.cx.urn();
        self.add_reserved(&u, rtype, body);
        u
    }

    /// [`Wire::add`] under an id from [`Wire::reserve`].
    pub fn add_reserved(&mut self, u: &Urn, rtype: &str, body: impl FnOnce(&mut XmlStream)) {
        entry(&mut self.w, u, rtype, body);
    }

    /// Adds an Organization; returns its fullUrl.
    pub fn organization(&mut self, o: &OrgInfo) -> Urn {
        self.add("Organization", |w| organization(w, o, None, None))
    }

    /// Adds a Patient; returns its fullUrl.
    pub fn patient(&mut self, p: &PatientInfo) -> Urn {
        self.add("Patient", |w| patient(w, Some(p), &PatientExtra::default()))
    }

    /// The publisher's own Organization.
    pub fn publisher_org(&mut self) -> Urn {
        let cx = &mut *self.cx;
        let u = cx.urn();
        let o = &cx.publisher.organization;
        entry(&mut self.w, &u, "Organization", |w| {
            organization(w, o, None, None)
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
        focus: &str,
        responsible: &str,
    ) -> XmlMessage {
        self.finish(Header {
            event,
            met,
            patient,
            focus,
            responsible,
            enterer: None,
        })
    }

    /// Writes the Bundle: its id, the MessageHeader entry, then the entries.
    pub fn finish(mut self, h: Header<'_>) -> XmlMessage {
        let stamp = Stamp::draw(self.cx, self.now.take(), &h);
        let now = stamp.now.as_str();
        let publisher = &self.cx.publisher;

        let mut w = XmlStream::with_capacity(2048);
        w.root("Bundle");
        w.value("id", stamp.bundle_id.id());
        w.value("type", "message");
        entry(&mut w, &stamp.header_id, "MessageHeader", |w| {
            w.start("meta");
            if let Some(v) = stamp.version {
                w.value_i64("versionId", v as i64);
            }
            w.value("lastUpdated", now);
            w.value(
                "profile",
                "https://fhir.nhs.uk/STU3/StructureDefinition/Event-MessageHeader-1",
            );
            w.end("meta");
            if let (Some(p), Some(n)) = (h.patient, &stamp.nhs_number) {
                w.start_url(
                    "extension",
                    "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-RoutingDemographics-1",
                );
                w.start_url("extension", "nhsNumber");
                w.start("valueIdentifier");
                w.value("system", NHS_SYSTEM);
                w.value("value", n);
                w.end("valueIdentifier");
                w.end("extension");
                w.start_url("extension", "name");
                human_name(w, "valueHumanName", Some("official"), &p.family, &p.given);
                w.end("extension");
                w.start_url("extension", "birthDateTime");
                w.value("valueDateTime", &date(p.birth_date));
                w.end("extension");
                w.end("extension");
            }
            w.start_url(
                "extension",
                "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-MessageEventType-1",
            );
            codeable(
                w,
                "valueCodeableConcept",
                ems_match::MESSAGE_EVENT_TYPE_SYSTEM,
                h.met.code(),
                h.met.display(),
            );
            w.end("extension");
            coding(
                w,
                "event",
                ems_match::EVENT_TYPE_SYSTEM,
                h.event.code,
                Some(h.event.display),
            );
            w.value("timestamp", now);
            if let Some(e) = h.enterer {
                reference(w, "enterer", e);
            }
            w.start("source");
            w.value("name", &publisher.system_name);
            w.start("contact");
            let (system, value) = match &publisher.contact {
                SourceContact::Phone(p) => ("phone", p),
                SourceContact::Email(e) => ("email", e),
            };
            w.value("system", system);
            w.value("value", value);
            w.end("contact");
            w.value("endpoint", &stamp.endpoint);
            w.end("source");
            reference(w, "responsible", h.responsible);
            reference(w, "focus", h.focus);
        });
        // the header goes in front of the entries, in the entries' buffer
        let mut out = self.w;
        out.prepend(&w);
        out.end("Bundle");
        XmlMessage {
            xml: out.into_string(),
            message_id: stamp.header_id,
            event: h.event,
            message_event_type: h.met,
        }
    }
}

/// `<entry><fullUrl/><resource><rtype><id/>` … `</rtype></resource></entry>`.
fn entry(w: &mut XmlStream, u: &Urn, rtype: &str, body: impl FnOnce(&mut XmlStream)) {
    w.start("entry");
    w.value("fullUrl", u.as_str());
    w.start("resource");
    w.start(rtype);
    w.value("id", u.id());
    body(w);
    w.end(rtype);
    w.end("resource");
    w.end("entry");
}

/// `meta` with a profile (and a version id).
pub(crate) fn meta(w: &mut XmlStream, profile: &str, version: Option<u32>) {
    w.start("meta");
    if let Some(v) = version {
        w.value_i64("versionId", v.into());
    }
    w.value("profile", profile);
    w.end("meta");
}

/// A Coding element `name`.
pub(crate) fn coding(
    w: &mut XmlStream,
    name: &str,
    system: &str,
    code: &str,
    display: Option<&str>,
) {
    w.start(name);
    w.value("system", system);
    w.value("code", code);
    if let Some(d) = display {
        w.value("display", d);
    }
    w.end(name);
}

/// A CodeableConcept element `name` of one coding.
pub(crate) fn codeable(w: &mut XmlStream, name: &str, system: &str, code: &str, display: &str) {
    w.start(name);
    coding(w, "coding", system, code, Some(display));
    w.end(name);
}

/// A CodeableConcept of one coding whose display comes from the embedded
/// NHS code system (an unknown code is its own display), as `nhs_coding`.
pub(crate) fn nhs_codeable(w: &mut XmlStream, name: &str, system: &str, code: &str) {
    match nhs_concept(system, code) {
        Some((code, display)) => codeable(w, name, system, code, display),
        None => codeable(w, name, system, code, code),
    }
}

/// A CodeableConcept of text only.
pub(crate) fn text_concept(w: &mut XmlStream, name: &str, text: &str) {
    w.start(name);
    w.value("text", text);
    w.end(name);
}

/// A Reference element `name`.
pub(crate) fn reference(w: &mut XmlStream, name: &str, url: &str) {
    w.start(name);
    w.value("reference", url);
    w.end(name);
}

/// An `identifier`.
pub(crate) fn identifier(w: &mut XmlStream, system: &str, value: &str) {
    w.start("identifier");
    w.value("system", system);
    w.value("value", value);
    w.end("identifier");
}

/// A HumanName element `name`.
pub(crate) fn human_name(
    w: &mut XmlStream,
    name: &str,
    use_: Option<&str>,
    family: &str,
    given: &[String],
) {
    w.start(name);
    if let Some(u) = use_ {
        w.value("use", u);
    }
    w.value("family", family);
    for g in given {
        w.value("given", g);
    }
    w.end(name);
}

/// A `period` of dates; `<period/>` when both are absent.
pub(crate) fn date_period(w: &mut XmlStream, start: Option<NaiveDate>, end: Option<NaiveDate>) {
    if start.is_none() && end.is_none() {
        w.empty("period");
        return;
    }
    w.start("period");
    if let Some(d) = start {
        w.value("start", &date(d));
    }
    if let Some(d) = end {
        w.value("end", &date(d));
    }
    w.end("period");
}

/// A dateTime element `name` of an instant.
pub(crate) fn instant_value(w: &mut XmlStream, name: &str, t: DateTime<Utc>) {
    w.value(name, InstantText::new(t).as_str());
}

fn address(w: &mut XmlStream, a: &AddressInfo, use_: &str) {
    w.start("address");
    w.value("use", use_);
    w.value("text", &a.text());
    for l in &a.lines {
        w.value("line", l);
    }
    w.value("postalCode", &a.postcode);
    date_period(w, Some(a.from), a.to);
    w.end("address");
}

/// An Organization's content: CareConnect meta, ODS identifier, `type`
/// (an NHS code system and code), name, work phone, `partOf` (a
/// commissioner's ODS code, as a directory URL).
pub(crate) fn organization(
    w: &mut XmlStream,
    o: &OrgInfo,
    type_: Option<(&str, &str)>,
    part_of: Option<&str>,
) {
    meta(w, care_connect_profile!("Organization"), None);
    identifier(w, ODS_SYSTEM, &o.ods_code);
    if let Some((system, code)) = type_ {
        nhs_codeable(w, "type", system, code);
    }
    w.value("name", &o.name);
    if let Some(p) = &o.phone {
        w.start("telecom");
        w.value("system", "phone");
        w.value("value", p);
        w.value("use", "work");
        w.end("telecom");
    }
    if let Some(c) = part_of {
        reference(w, "partOf", &directory_url(c));
    }
}

/// What some events add to the CareConnect Patient.
#[derive(Default)]
pub(crate) struct PatientExtra<'a> {
    /// PDS serial change number (`meta.versionId`).
    pub scn: Option<u32>,
    /// Patient-level extensions, written after `meta`.
    pub extension: Option<&'a dyn Fn(&mut XmlStream)>,
    /// `birthDate` extension `patient-birthTime`.
    pub birth_time: Option<DateTime<Utc>>,
    /// `deceasedDateTime`.
    pub deceased: Option<DateTime<Utc>>,
    /// A former home address (`use` `old`).
    pub previous: Option<&'a AddressInfo>,
    /// `multipleBirthInteger`.
    pub multiple_birth: Option<i32>,
    /// `generalPractitioner` reference.
    pub gp: Option<&'a str>,
    /// `link` (`seealso`) reference.
    pub link: Option<&'a str>,
}

/// A CareConnect Patient's content (`p` `None`: a Patient of meta and
/// extras only, as the unknown mother of a birth notification).
pub(crate) fn patient(w: &mut XmlStream, p: Option<&PatientInfo>, x: &PatientExtra<'_>) {
    meta(w, care_connect_profile!("Patient"), x.scn);
    if let Some(f) = x.extension {
        f(w);
    }
    if let Some(p) = p {
        w.start("identifier");
        w.start_url(
            "extension",
            "https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-NHSNumberVerificationStatus-1",
        );
        nhs_codeable(
            w,
            "valueCodeableConcept",
            "https://fhir.hl7.org.uk/STU3/CodeSystem/CareConnect-NHSNumberVerificationStatus-1",
            "01",
        );
        w.end("extension");
        w.value("system", NHS_SYSTEM);
        w.value("value", &nhs_digits(p.nhs_number));
        w.end("identifier");
        human_name(w, "name", Some("official"), &p.family, &p.given);
        if let Some(g) = p.gender {
            w.value("gender", g.code());
        }
        let birth = date(p.birth_date);
        match x.birth_time {
            Some(t) => {
                w.value_start("birthDate", &birth);
                w.start_url(
                    "extension",
                    "http://hl7.org/fhir/StructureDefinition/patient-birthTime",
                );
                instant_value(w, "valueDateTime", t);
                w.end("extension");
                w.end("birthDate");
            }
            None => w.value("birthDate", &birth),
        }
        if let Some(t) = x.deceased {
            instant_value(w, "deceasedDateTime", t);
        }
        if let Some(a) = &p.address {
            address(w, a, "home");
        }
        if let Some(a) = x.previous {
            address(w, a, "old");
        }
    }
    if let Some(n) = x.multiple_birth {
        w.value_i64("multipleBirthInteger", n.into());
    }
    if let Some(gp) = x.gp {
        reference(w, "generalPractitioner", gp);
    }
    if let Some(l) = x.link {
        w.start("link");
        reference(w, "other", l);
        w.value("type", "seealso");
        w.end("link");
    }
}

/// A CareConnect Communication's content (the PDS events' focus).
pub(crate) fn communication(w: &mut XmlStream, subject: &str, sender: &str, sent: &str) {
    meta(w, care_connect_profile!("Communication"), None);
    w.value("status", "completed");
    reference(w, "subject", subject);
    w.value("sent", sent);
    reference(w, "sender", sender);
}
