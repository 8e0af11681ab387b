//! The builders' input types (patient, address, gender, message event
//! type, errors) and the text the descriptions share: dates and instants
//! formatted on the stack, `urn:uuid:` fullUrls and ODS directory URLs
//! in reused buffers, NHS code-system displays.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use ems_match::NhsNumber;
use ems_stu3::*;

pub(crate) use ems_nhs::care_connect_profile;
pub(crate) use ems_nhs::vocab::{
    self, NHS_NUMBER_SYSTEM, ODS_DIRECTORY, ODS_ORGANIZATION_SYSTEM, SNOMED_CT,
};

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
    /// `Address.text`: "line, line, postcode", in a reused buffer.
    pub(crate) fn text(&self) -> Text {
        let mut text = Text::new();
        for l in &self.lines {
            text.push_str(l);
            text.push_str(", ");
        }
        text.push_str(&self.postcode);
        text
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
        // the UTC date and time read once (each field of a `DateTime`
        // would apply the offset again)
        let n = t.naive_utc();
        let (d, tm) = (n.date(), n.time());
        let y = d.year();
        if !(0..=9999).contains(&y) || tm.nanosecond() >= 1_000_000_000 {
            return InstantText::Long(t.to_rfc3339_opts(SecondsFormat::Secs, false));
        }
        let mut b = *b"0000-00-00T00:00:00+00:00";
        put_digits(&mut b[0..4], y as u32);
        put_digits(&mut b[5..7], d.month());
        put_digits(&mut b[8..10], d.day());
        put_digits(&mut b[11..13], tm.hour());
        put_digits(&mut b[14..16], tm.minute());
        put_digits(&mut b[17..19], tm.second());
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

/// A resource's `urn:uuid:<id>` fullUrl, formatted once into a [`Text`]
/// buffer (the UUID's own encoder gives the text, so it is never validated
/// again); derefs to the fullUrl text.
#[derive(Debug)]
pub(crate) struct Urn(Text);

impl Urn {
    /// The fullUrl of resource id `id`.
    pub fn new(id: uuid::Uuid) -> Urn {
        let mut t = Text::new();
        t.push_str("urn:uuid:");
        t.push_str(
            id.hyphenated()
                .encode_lower(&mut uuid::Uuid::encode_buffer()),
        );
        Urn(t)
    }
    /// `urn:uuid:<id>`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The id (the UUID).
    pub fn id(&self) -> &str {
        self.as_str().get(9..).unwrap_or_default()
    }
}

/// A fullUrl kept by a finished message (its bytes: no buffer of the
/// thread leaves with the message).
#[derive(Clone, Copy, Debug)]
pub(crate) struct KeptUrn([u8; 45]);

impl KeptUrn {
    /// The bytes of `u`.
    pub fn of(u: &Urn) -> KeptUrn {
        let mut b = [0; 45];
        for (k, c) in b.iter_mut().zip(u.as_bytes()) {
            *k = *c;
        }
        KeptUrn(b)
    }
    /// The id (the UUID).
    pub fn id(&self) -> &str {
        // "urn:uuid:" and a hyphenated lower-case UUID: ASCII
        std::str::from_utf8(&self.0[9..]).unwrap_or_default()
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
    Url(Text),
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
pub(crate) fn directory_url(ods: &str) -> Text {
    Text::cat(ODS_DIRECTORY, ods)
}

/// Code and display of `code` in the embedded NHS code system `system`
/// (`None`: not found; ems-nhs looks both up by key).
pub(crate) fn nhs_concept(system: &str, code: &str) -> Option<(&'static str, &'static str)> {
    ems_nhs::code_system(system).and_then(|c| c.concept(code))
}

/// The ten digits of an NHS number (inline in a [`Str`], no heap allocation).
pub(crate) fn nhs_digits(n: NhsNumber) -> Str {
    // the digits of the value, leading zeros kept (as `NhsNumber`'s
    // `Display`), without the formatting machinery
    // (two halves of five digits: 32-bit arithmetic)
    let v = n.as_u64();
    let mut b = [b'0'; 10];
    put_digits(&mut b[..5], (v / 100_000 % 100_000) as u32);
    put_digits(&mut b[5..], (v % 100_000) as u32);
    Str::from_utf8(b).unwrap_or_default()
}

/// A short-lived text of a description (an ODS directory URL, the ASID
/// endpoint, an address's text: the sinks copy what they keep), made in a
/// buffer the thread reuses, so that a message allocates none once the
/// buffers have grown; derefs to the text.
#[derive(Debug)]
pub(crate) struct Text(String);

/// How many [`Text`] buffers a thread keeps (more at once are allocated):
/// the fullUrls of the largest messages' entries and the other texts.
const TEXT_BUFFERS: usize = 32;

/// Room of a new [`Text`] buffer: the texts above fit.
const TEXT_ROOM: usize = 128;

thread_local! {
    /// The buffers of the thread's dropped [`Text`]s, empty.
    static TEXTS: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl Text {
    /// An empty text in a reused buffer.
    pub fn new() -> Text {
        let reused = TEXTS.with_borrow_mut(Vec::pop);
        Text(reused.unwrap_or_else(|| String::with_capacity(TEXT_ROOM)))
    }
    /// `a` followed by `b`.
    pub fn cat(a: &str, b: &str) -> Text {
        let mut t = Text::new();
        t.push_str(a);
        t.push_str(b);
        t
    }
    /// Appends `s`.
    pub fn push_str(&mut self, s: &str) {
        self.0.push_str(s);
    }
}

impl std::ops::Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl Drop for Text {
    fn drop(&mut self) {
        let mut buf = std::mem::take(&mut self.0);
        buf.clear();
        // `try_with`: a thread being torn down drops the buffer
        let _ = TEXTS.try_with(|texts| {
            let mut texts = texts.borrow_mut();
            if texts.len() < TEXT_BUFFERS {
                texts.push(buf);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// The digits of an NHS number are its `Display` form (leading zeros
    /// kept).
    #[test]
    fn nhs_digits_match_display() {
        let numbers: Vec<NhsNumber> = (0..2_000u64)
            .chain(9_999_990_000..10_000_000_000)
            .chain([4_010_232_137, 9_434_765_919, 123_456_788])
            .filter_map(|v| NhsNumber::from_u64(v).ok())
            .collect();
        assert!(numbers.len() > 200, "{}", numbers.len());
        for n in numbers {
            assert_eq!(nhs_digits(n), n.to_string(), "{n:?}");
        }
    }

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
        }
    }
}
