//! Shared message construction: header, routing demographics, entries with
//! `urn:uuid:` fullUrls, CareConnect Patient and Organization resources.

use crate::context::{BuildContext, OrgInfo, SourceContact};
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use ems_match::{EventType, NhsNumber};
use ems_stu3::*;

pub(crate) const SCT: &str = "http://snomed.info/sct";
pub(crate) const ODS_SYSTEM: &str = "https://fhir.nhs.uk/Id/ods-organization-code";
pub(crate) const NHS_SYSTEM: &str = "https://fhir.nhs.uk/Id/nhs-number";
pub(crate) const DIRECTORY: &str = "https://directory.spineservices.nhs.uk/STU3/Organization/";

/// `new`, `update` or `delete` (MessageEventType-1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MessageEventType {
    /// New information.
    New,
    /// A change to information sent earlier.
    Update,
    /// Removal of information sent earlier.
    Delete,
}

impl MessageEventType {
    /// The code.
    pub fn code(self) -> &'static str {
        match self {
            MessageEventType::New => "new",
            MessageEventType::Update => "update",
            MessageEventType::Delete => "delete",
        }
    }
    /// The MessageEventType-1 display.
    pub fn display(self) -> &'static str {
        match self {
            MessageEventType::New => "New event message",
            MessageEventType::Update => "Update event message",
            MessageEventType::Delete => "Delete event message",
        }
    }
    /// Parses a code.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "new" => Some(MessageEventType::New),
            "update" => Some(MessageEventType::Update),
            "delete" => Some(MessageEventType::Delete),
            _ => None,
        }
    }
}

/// Administrative gender.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gender {
    /// `male`
    Male,
    /// `female`
    Female,
    /// `other`
    Other,
    /// `unknown`
    Unknown,
}

impl Gender {
    pub(crate) fn code(self) -> &'static str {
        match self {
            Gender::Male => "male",
            Gender::Female => "female",
            Gender::Other => "other",
            Gender::Unknown => "unknown",
        }
    }
}

/// A postal address as PDS holds it: lines in order (town and district
/// included, never split into city/district), postcode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddressInfo {
    /// Address lines, first line first.
    pub lines: Vec<String>,
    /// Postcode.
    pub postcode: String,
    /// When the patient started living there.
    pub from: NaiveDate,
    /// When the patient stopped living there (previous addresses).
    pub to: Option<NaiveDate>,
}

impl AddressInfo {
    /// `Address.text`: "line, line, postcode", allocated once.
    pub(crate) fn text(&self) -> Str {
        let len = self.lines.iter().map(|l| l.len() + 2).sum::<usize>() + self.postcode.len();
        let mut text = Str::with_capacity(len);
        for l in &self.lines {
            text.push_str(l);
            text.push_str(", ");
        }
        text.push_str(&self.postcode);
        text
    }

    pub(crate) fn to_fhir(&self, use_: &'static str) -> Address {
        Address {
            use_: Some(Primitive::from_static(use_)),
            text: Some(Primitive::new(self.text())),
            line: self
                .lines
                .iter()
                .map(|l| Primitive::from(l.as_str()))
                .collect(),
            postal_code: Some(Primitive::from(self.postcode.as_str())),
            period: Some(Period {
                start: Some(Primitive::new(date(self.from))),
                end: self.to.map(|d| Primitive::new(date(d))),
                ..Default::default()
            }),
            ..Default::default()
        }
    }
}

/// The patient an event is about (as traced on PDS).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatientInfo {
    /// NHS number (verified against PDS).
    pub nhs_number: NhsNumber,
    /// Official family name.
    pub family: String,
    /// Official given names.
    pub given: Vec<String>,
    /// Date of birth.
    pub birth_date: NaiveDate,
    /// Gender, when known.
    pub gender: Option<Gender>,
    /// Home address, when known.
    pub address: Option<AddressInfo>,
}

impl PatientInfo {
    /// A patient with NHS number, official name and date of birth.
    pub fn new(
        nhs_number: NhsNumber,
        family: impl Into<String>,
        given: impl Into<String>,
        birth_date: NaiveDate,
    ) -> PatientInfo {
        PatientInfo {
            nhs_number,
            family: family.into(),
            given: vec![given.into()],
            birth_date,
            gender: None,
            address: None,
        }
    }
    /// Sets the gender.
    pub fn with_gender(mut self, g: Gender) -> Self {
        self.gender = Some(g);
        self
    }
    /// Sets the home address.
    pub fn with_address(mut self, a: AddressInfo) -> Self {
        self.address = Some(a);
        self
    }

    pub(crate) fn official_name(&self) -> HumanName {
        human_name(Some("official"), &self.family, &self.given)
    }
}

/// An incomplete or inconsistent message: the builder names what is wrong.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{event}: {field}: {message}")]
pub struct BuildError {
    /// Event code.
    pub event: &'static str,
    /// The field that is missing or wrong.
    pub field: &'static str,
    /// What is wrong.
    pub message: String,
}

/// A HumanName of a family name and given names (copied; inline when short).
pub(crate) fn human_name(use_: Option<&'static str>, family: &str, given: &[String]) -> HumanName {
    HumanName {
        use_: use_.map(Primitive::from_static),
        family: st(family),
        given: given.iter().map(|g| Primitive::from(g.as_str())).collect(),
        ..Default::default()
    }
}

/// Writes `v` as decimal digits filling `b` (leading zeros).
fn put_digits(b: &mut [u8], v: u32) {
    let mut v = v;
    for c in b.iter_mut().rev() {
        *c = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

/// `YYYY-MM-DD` of a date, written without the formatting machinery (and
/// without a heap allocation: ten bytes are inline in a [`Str`]). Years
/// outside 0..=9999 fall back to chrono's own form.
pub(crate) fn date(d: NaiveDate) -> Str {
    use chrono::Datelike;
    let y = d.year();
    if !(0..=9999).contains(&y) {
        return compact_str::format_compact!("{d}");
    }
    let mut b = *b"0000-00-00";
    put_digits(&mut b[0..4], y as u32);
    put_digits(&mut b[5..7], d.month());
    put_digits(&mut b[8..10], d.day());
    Str::from_utf8(b).unwrap_or_default()
}

/// An instant as chrono's RFC 3339 form with whole seconds and `+00:00`
/// (`2024-06-01T12:00:00+00:00`), formatted on the stack; years outside
/// 0..=9999 and leap seconds fall back to chrono.
#[derive(Clone, Debug)]
pub(crate) enum InstantText {
    Short([u8; 25]),
    Long(String),
}

impl InstantText {
    pub fn new(t: DateTime<Utc>) -> InstantText {
        use chrono::{Datelike, Timelike};
        let y = t.year();
        if !(0..=9999).contains(&y) || t.nanosecond() >= 1_000_000_000 {
            return InstantText::Long(t.to_rfc3339_opts(SecondsFormat::Secs, false));
        }
        let mut b = *b"0000-00-00T00:00:00+00:00";
        put_digits(&mut b[0..4], y as u32);
        put_digits(&mut b[5..7], t.month());
        put_digits(&mut b[8..10], t.day());
        put_digits(&mut b[11..13], t.hour());
        put_digits(&mut b[14..16], t.minute());
        put_digits(&mut b[17..19], t.second());
        InstantText::Short(b)
    }
    pub fn as_str(&self) -> &str {
        match self {
            // ASCII digits and separators only
            InstantText::Short(b) => std::str::from_utf8(b).unwrap_or_default(),
            InstantText::Long(s) => s,
        }
    }
}

/// [`InstantText`] as a model string.
pub(crate) fn instant(t: DateTime<Utc>) -> Str {
    Str::from(InstantText::new(t).as_str())
}

/// A resource's `urn:uuid:<id>` fullUrl, on the stack; derefs to the
/// fullUrl text.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Urn([u8; 45]);

impl Urn {
    /// The fullUrl of resource id `id`.
    pub fn new(id: uuid::Uuid) -> Urn {
        let mut b = *b"urn:uuid:000000000000000000000000000000000000";
        id.hyphenated().encode_lower(&mut b[9..]);
        Urn(b)
    }
    /// `urn:uuid:<id>`.
    pub fn as_str(&self) -> &str {
        // "urn:uuid:" and a hyphenated lower-case UUID: ASCII
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
    /// The id (the UUID).
    pub fn id(&self) -> &str {
        self.as_str().get(9..).unwrap_or_default()
    }
}

impl std::ops::Deref for Urn {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

/// `MessageHeader.responsible`: an Organization entry of the message, or
/// an ODS directory URL.
pub(crate) enum Responsible {
    Entry(Urn),
    Url(Str),
}

impl std::ops::Deref for Responsible {
    type Target = str;
    fn deref(&self) -> &str {
        match self {
            Responsible::Entry(u) => u,
            Responsible::Url(s) => s,
        }
    }
}

/// The ODS directory URL of an organisation code.
pub(crate) fn directory_url(ods: &str) -> Str {
    cat(DIRECTORY, ods)
}

/// Code and display of `code` in the embedded NHS code system `system`
/// (`None`: not found).
pub(crate) fn nhs_concept(system: &str, code: &str) -> Option<(&'static str, &'static str)> {
    ems_profiles::code_system(system).and_then(|c| c.concept(code))
}

/// The ten digits of an NHS number (inline in a [`Str`], no heap allocation).
pub(crate) fn nhs_digits(n: NhsNumber) -> Str {
    use compact_str::ToCompactString;
    n.to_compact_string()
}

/// `a` followed by `b`, allocated once (and not at all when short).
pub(crate) fn cat(a: &str, b: &str) -> Str {
    let mut s = Str::with_capacity(a.len() + b.len());
    s.push_str(a);
    s.push_str(b);
    s
}

/// A string primitive copied from `s` (inline when short).
pub(crate) fn st(s: &str) -> Option<FhirString> {
    Some(Primitive::from(s))
}

/// A string primitive referring to a literal (no copy, no allocation):
/// fixed codes, systems and displays make up most of a message's values.
pub(crate) fn lit(s: &'static str) -> Option<FhirString> {
    Some(Primitive::from_static(s))
}

/// An extension with a literal URL.
pub(crate) fn ext(url: &'static str, value: ExtensionValue) -> Extension {
    Extension::new(Str::const_new(url), value)
}

/// A complex extension with a literal URL.
pub(crate) fn ext_complex(url: &'static str, extension: Vec<Extension>) -> Extension {
    Extension::complex(Str::const_new(url), extension)
}

/// A coding made of literals.
pub(crate) fn coding(system: &'static str, code: &'static str, display: &'static str) -> Coding {
    Coding {
        system: lit(system),
        code: lit(code),
        display: lit(display),
        ..Default::default()
    }
}

/// A coding with a literal system and caller-supplied code and display.
pub(crate) fn coding_of(system: &'static str, code: &str, display: &str) -> Coding {
    Coding {
        system: lit(system),
        code: st(code),
        display: st(display),
        ..Default::default()
    }
}

/// A coding whose display comes from the embedded NHS code system (code and
/// display then refer to the embedded text; an unknown code is copied).
pub(crate) fn nhs_coding(system: &'static str, code: &str) -> Coding {
    match nhs_concept(system, code) {
        Some((code, display)) => coding(system, code, display),
        None => coding_of(system, code, code),
    }
}

pub(crate) fn cc(c: Coding) -> CodeableConcept {
    CodeableConcept {
        coding: vec![c],
        ..Default::default()
    }
}

pub(crate) fn reference(r: &str) -> Reference {
    Reference {
        reference: st(r),
        ..Default::default()
    }
}

/// `Meta` with the CareConnect profile of resource type `$r`
/// (`https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-$r-1`).
macro_rules! care_connect_meta {
    ($r:literal) => {
        $crate::build::meta($crate::build::care_connect_profile!($r))
    };
}
pub(crate) use care_connect_meta;

/// The CareConnect profile URL of resource type `$r`.
macro_rules! care_connect_profile {
    ($r:literal) => {
        concat!(
            "https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-",
            $r,
            "-1"
        )
    };
}
pub(crate) use care_connect_profile;

pub(crate) fn meta(profile: &'static str) -> Meta {
    Meta {
        profile: vec![Primitive::from_static(profile)],
        ..Default::default()
    }
}

pub(crate) fn identifier(system: &'static str, value: &str) -> Identifier {
    Identifier {
        system: lit(system),
        value: st(value),
        ..Default::default()
    }
}

pub(crate) fn organization(o: &OrgInfo) -> Organization {
    Organization {
        meta: Some(care_connect_meta!("Organization")),
        identifier: vec![identifier(ODS_SYSTEM, &o.ods_code)],
        name: st(&o.name),
        telecom: o
            .phone
            .iter()
            .map(|p| ContactPoint {
                system: lit("phone"),
                value: st(p),
                use_: lit("work"),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    }
}

/// A CareConnect Patient; `previous` adds a former home address (`use`
/// `old`) after the current one.
pub(crate) fn patient(p: &PatientInfo, previous: Option<&AddressInfo>) -> Patient {
    let mut nhs = Identifier {
        system: lit(NHS_SYSTEM),
        value: Some(Primitive::new(nhs_digits(p.nhs_number))),
        extension: Vec::with_capacity(1),
        ..Default::default()
    };
    nhs.extension.push(ext(
        "https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-NHSNumberVerificationStatus-1",
        ExtensionValue::CodeableConcept(Box::new(cc(nhs_coding(
            "https://fhir.hl7.org.uk/STU3/CodeSystem/CareConnect-NHSNumberVerificationStatus-1",
            "01",
        )))),
    ));
    Patient {
        meta: Some(care_connect_meta!("Patient")),
        identifier: vec![nhs],
        name: vec![p.official_name()],
        gender: p.gender.map(|g| Primitive::from_static(g.code())),
        birth_date: Some(Primitive::new(date(p.birth_date))),
        address: p
            .address
            .iter()
            .map(|a| a.to_fhir("home"))
            .chain(previous.map(|a| a.to_fhir("old")))
            .collect(),
        ..Default::default()
    }
}

/// The header data of one message (both paths).
pub(crate) struct Header<'a> {
    pub event: &'static EventType,
    pub met: MessageEventType,
    /// Routing demographics (NHS number, name, birth date) when `Some`.
    pub patient: Option<&'a PatientInfo>,
    pub focus: &'a str,
    pub responsible: &'a str,
    pub enterer: Option<&'a str>,
}

/// What a message's MessageHeader and Bundle take from the context, drawn
/// by both paths in this order after every entry's id: the header id, the
/// message instant (unless an entry already read it), the sequence number
/// of the publisher + patient + event stream, the Bundle id.
pub(crate) struct Stamp {
    pub header_id: Urn,
    pub now: InstantText,
    /// `urn:nhs:addressing:asid:<ASID>`.
    pub endpoint: Str,
    /// The routing NHS number's digits.
    pub nhs_number: Option<Str>,
    pub version: Option<u64>,
    pub bundle_id: Urn,
}

impl Stamp {
    pub fn draw(cx: &mut BuildContext, now: Option<InstantText>, h: &Header<'_>) -> Stamp {
        let header_id = cx.urn();
        let now = now.unwrap_or_else(|| cx.now_text());
        let endpoint = cx.publisher.endpoint_str();
        let nhs_number = h.patient.map(|p| nhs_digits(p.nhs_number));
        let version = nhs_number
            .as_deref()
            .map(|n| cx.sequence.next(&endpoint, n, h.event.code));
        let bundle_id = cx.urn();
        Stamp {
            header_id,
            now,
            endpoint,
            nhs_number,
            version,
            bundle_id,
        }
    }
}

/// The message's instant, read from the clock once per message (`slot`
/// caches it).
pub(crate) fn message_now<'s>(
    slot: &'s mut Option<InstantText>,
    cx: &BuildContext,
) -> &'s InstantText {
    slot.get_or_insert_with(|| cx.now_text())
}

/// Collects the Bundle's entries; slot 0 is kept for the MessageHeader,
/// which `finish` writes last (it refers to the others).
pub(crate) struct Assembly<'c> {
    pub cx: &'c mut BuildContext,
    entries: Vec<BundleEntry>,
    now: Option<InstantText>,
}

impl<'c> Assembly<'c> {
    pub fn new(cx: &'c mut BuildContext) -> Self {
        // room for the largest messages without regrowing (a blood spot
        // outcome with all 11 conditions has 16 entries)
        let mut entries = Vec::with_capacity(16);
        entries.push(BundleEntry::default());
        Assembly {
            cx,
            entries,
            now: None,
        }
    }

    /// The message's instant.
    pub fn now(&mut self) -> Str {
        Str::from(message_now(&mut self.now, self.cx).as_str())
    }

    /// Reserves the id of a resource that is referred to before it can be
    /// built (add it with [`Assembly::add_reserved`]).
    pub fn reserve(&mut self) -> Urn {
        self.cx.urn()
    }

    /// Adds a resource as the next entry under a new id (its logical id;
    /// fullUrl `urn:uuid:<id>`); returns the fullUrl for references.
    pub fn add(&mut self, r: impl Into<Resource>) -> Urn {
        let u = self.cx.urn();
        self.add_reserved(&u, r);
        u
    }

    /// Adds a resource under an id from [`Assembly::reserve`].
    pub fn add_reserved(&mut self, u: &Urn, r: impl Into<Resource>) {
        let mut r = r.into();
        *r.id_mut() = Some(Primitive::from(u.id()));
        self.entries.push(BundleEntry {
            full_url: Some(Primitive::from(u.as_str())),
            resource: Some(r),
            ..Default::default()
        });
    }

    /// Adds an Organization; returns its fullUrl.
    pub fn organization(&mut self, o: &OrgInfo) -> Urn {
        self.add(organization(o))
    }

    /// Adds a Patient; returns its fullUrl.
    pub fn patient(&mut self, p: &PatientInfo) -> Urn {
        self.add(patient(p, None))
    }

    /// The publisher's own Organization.
    pub fn publisher_org(&mut self) -> Urn {
        let org = organization(&self.cx.publisher.organization);
        self.add(org)
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
    ) -> crate::events::BuiltMessage {
        let bundle = self.finish(Header {
            event,
            met,
            patient,
            focus,
            responsible,
            enterer: None,
        });
        crate::events::BuiltMessage {
            bundle,
            event,
            message_event_type: met,
        }
    }

    /// Builds the MessageHeader and the Bundle.
    pub fn finish(mut self, h: Header<'_>) -> Bundle {
        let stamp = Stamp::draw(self.cx, self.now.take(), &h);
        let publisher = &self.cx.publisher;
        let now = stamp.now.as_str();
        let mut exts = Vec::with_capacity(2);
        if let (Some(p), Some(n)) = (h.patient, stamp.nhs_number) {
            exts.push(ext_complex(
                "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-RoutingDemographics-1",
                vec![
                    ext(
                        "nhsNumber",
                        ExtensionValue::Identifier(Box::new(Identifier {
                            system: lit(NHS_SYSTEM),
                            value: Some(Primitive::new(n)),
                            ..Default::default()
                        })),
                    ),
                    ext(
                        "name",
                        ExtensionValue::HumanName(Box::new(p.official_name())),
                    ),
                    ext(
                        "birthDateTime",
                        ExtensionValue::DateTime(Primitive::new(date(p.birth_date))),
                    ),
                ],
            ));
        }
        exts.push(ext(
            "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-MessageEventType-1",
            ExtensionValue::CodeableConcept(Box::new(cc(coding(
                ems_match::MESSAGE_EVENT_TYPE_SYSTEM,
                h.met.code(),
                h.met.display(),
            )))),
        ));
        let contact = match &publisher.contact {
            SourceContact::Phone(p) => ContactPoint {
                system: lit("phone"),
                value: st(p),
                ..Default::default()
            },
            SourceContact::Email(e) => ContactPoint {
                system: lit("email"),
                value: st(e),
                ..Default::default()
            },
        };
        let mh = MessageHeader {
            id: Some(Primitive::from(stamp.header_id.id())),
            meta: Some(Meta {
                version_id: stamp.version.map(|v| {
                    use compact_str::ToCompactString;
                    Primitive::new(v.to_compact_string())
                }),
                last_updated: Some(Primitive::from(now)),
                profile: vec![Primitive::from_static(
                    "https://fhir.nhs.uk/STU3/StructureDefinition/Event-MessageHeader-1",
                )],
                ..Default::default()
            }),
            extension: exts,
            event: Some(coding(
                ems_match::EVENT_TYPE_SYSTEM,
                h.event.code,
                h.event.display,
            )),
            timestamp: Some(Primitive::from(now)),
            enterer: h.enterer.map(reference),
            source: Some(MessageHeaderSource {
                name: st(&publisher.system_name),
                contact: Some(contact),
                endpoint: Some(Primitive::new(stamp.endpoint)),
                ..Default::default()
            }),
            responsible: Some(reference(h.responsible)),
            focus: vec![reference(h.focus)],
            ..Default::default()
        };
        self.entries[0] = BundleEntry {
            full_url: Some(Primitive::from(stamp.header_id.as_str())),
            resource: Some(Resource::from(mh)),
            ..Default::default()
        };
        Bundle {
            id: Some(Primitive::from(stamp.bundle_id.id())),
            type_: lit("message"),
            entry: self.entries,
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// The stack-formatted instant is chrono's RFC 3339 form with whole
    /// seconds, including the fallbacks (years outside 0..=9999, leap second).
    #[test]
    fn instants_match_chrono() {
        let mut cases: Vec<DateTime<Utc>> = [
            (2024, 6, 1, 12, 0, 0),
            (1, 1, 1, 0, 0, 0),
            (0, 1, 1, 0, 0, 0),
            (9999, 12, 31, 23, 59, 59),
            (10000, 1, 1, 0, 0, 0),
            (-1, 6, 15, 7, 8, 9),
            (2024, 2, 29, 9, 5, 3),
        ]
        .iter()
        .map(|&(y, mo, d, h, mi, s)| Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap())
        .collect();
        let leap = NaiveDate::from_ymd_opt(2016, 12, 31)
            .unwrap()
            .and_hms_nano_opt(23, 59, 59, 1_500_000_000)
            .unwrap();
        cases.push(Utc.from_utc_datetime(&leap));
        cases.push(Utc.timestamp_nanos(1_700_000_000_999_999_999));
        for t in cases {
            assert_eq!(
                InstantText::new(t).as_str(),
                t.to_rfc3339_opts(SecondsFormat::Secs, false),
                "{t:?}"
            );
            assert_eq!(instant(t), t.to_rfc3339_opts(SecondsFormat::Secs, false));
        }
    }
}
