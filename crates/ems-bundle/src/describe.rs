//! Element descriptions shared by the event messages: datatypes and the
//! CareConnect Patient, Organization and Communication, written once
//! against [`ElementSink`] in schema order. Driven into [`XmlStream`]
//! (`build_xml`) they write wire XML; into [`ModelSink`] (`build`) they
//! assemble the typed model.
//!
//! Literal text goes through `value_static`, so the model refers to it
//! instead of copying it.
//!
//! A helper that takes an element constant of any owner (`meta`, `coding`,
//! `reference`, ...) is an inlined shell (`start(e)`, content, `end(e)`:
//! the owner's constant folds at each call site) around a content
//! function compiled once per sink (`#[inline(never)]`), so the content
//! is not copied for every owner type (the instruction-cache footprint:
//! docs/benchmarks.md, "Content once per sink").
//!
//! [`XmlStream`]: ems_stu3::xml::XmlStream
//! [`ModelSink`]: ems_stu3::ModelSink

use crate::build::*;
use crate::context::OrgInfo;
use chrono::{DateTime, NaiveDate, Utc};
use ems_stu3::{
    Address, CodeableConcept, Coding, Communication, Complex, ContactPoint, ElementSink, Extension,
    HumanName, Identifier, Meta, Organization, Patient, PatientLink, Period, Prim, Reference,
    PRIMITIVE_EXTENSION,
};

/// `meta` with a profile (and a version id).
#[inline(always)]
pub(crate) fn meta<S: ElementSink, O>(
    w: &mut S,
    e: Complex<O, Meta>,
    profile: &'static str,
    version: Option<u32>,
) {
    w.start(e);
    meta_content(w, profile, version);
    w.end(e);
}

/// `meta`'s content.
#[inline(never)]
fn meta_content<S: ElementSink>(w: &mut S, profile: &'static str, version: Option<u32>) {
    if let Some(v) = version {
        w.value_i64(Meta::VERSION_ID, v.into());
    }
    w.value_static(Meta::PROFILE, profile);
}

/// A Coding element `e` of literals.
#[inline(always)]
pub(crate) fn coding<S: ElementSink, O>(
    w: &mut S,
    e: Complex<O, Coding>,
    system: &'static str,
    code: &'static str,
    display: Option<&'static str>,
) {
    w.start(e);
    coding_content(w, system, code, display);
    w.end(e);
}

/// A Coding's content (literals).
#[inline(never)]
fn coding_content<S: ElementSink>(
    w: &mut S,
    system: &'static str,
    code: &'static str,
    display: Option<&'static str>,
) {
    w.value_static(Coding::SYSTEM, system);
    w.value_static(Coding::CODE, code);
    if let Some(d) = display {
        w.value_static(Coding::DISPLAY, d);
    }
}

/// A CodeableConcept element `e` of one coding of literals.
#[inline(always)]
pub(crate) fn codeable<S: ElementSink, O>(
    w: &mut S,
    e: Complex<O, CodeableConcept>,
    system: &'static str,
    code: &'static str,
    display: &'static str,
) {
    w.start(e);
    coding(w, CodeableConcept::CODING, system, code, Some(display));
    w.end(e);
}

/// A CodeableConcept element `e` of one coding with a literal system and
/// a given code and display.
#[inline(always)]
pub(crate) fn codeable_of<S: ElementSink, O>(
    w: &mut S,
    e: Complex<O, CodeableConcept>,
    system: &'static str,
    code: &str,
    display: &str,
) {
    w.start(e);
    one_coding(w, system, code, display);
    w.end(e);
}

/// A CodeableConcept's one `coding` (literal system, given code and display).
#[inline(never)]
fn one_coding<S: ElementSink>(w: &mut S, system: &'static str, code: &str, display: &str) {
    w.start(CodeableConcept::CODING);
    w.value_static(Coding::SYSTEM, system);
    w.value(Coding::CODE, code);
    w.value(Coding::DISPLAY, display);
    w.end(CodeableConcept::CODING);
}

/// A CodeableConcept of one coding whose display comes from the embedded
/// NHS code system (an unknown code is its own display).
#[inline(always)]
pub(crate) fn nhs_codeable<S: ElementSink, O>(
    w: &mut S,
    e: Complex<O, CodeableConcept>,
    system: &'static str,
    code: &str,
) {
    w.start(e);
    nhs_coding(w, system, code);
    w.end(e);
}

/// A CodeableConcept's one `coding` of an NHS code system concept.
#[inline(never)]
fn nhs_coding<S: ElementSink>(w: &mut S, system: &'static str, code: &str) {
    match nhs_concept(system, code) {
        Some((code, display)) => coding(w, CodeableConcept::CODING, system, code, Some(display)),
        None => one_coding(w, system, code, code),
    }
}

/// A CodeableConcept of text only.
#[inline(always)]
pub(crate) fn text_concept<S: ElementSink, O>(
    w: &mut S,
    e: Complex<O, CodeableConcept>,
    text: &'static str,
) {
    w.start(e);
    w.value_static(CodeableConcept::TEXT, text);
    w.end(e);
}

/// A Reference element `e`.
#[inline(always)]
pub(crate) fn reference<S: ElementSink, O>(w: &mut S, e: Complex<O, Reference>, url: &str) {
    w.start(e);
    reference_content(w, url);
    w.end(e);
}

/// A Reference's content.
#[inline(never)]
fn reference_content<S: ElementSink>(w: &mut S, url: &str) {
    w.value(Reference::REFERENCE, url);
}

/// A Reference element `e` to an entry of the message by its fullUrl
/// (formatted from the entry's UUID: `value_formatted`).
#[inline(always)]
pub(crate) fn entry_reference<S: ElementSink, O>(w: &mut S, e: Complex<O, Reference>, u: &Urn) {
    w.start(e);
    entry_reference_content(w, u);
    w.end(e);
}

/// A Reference's content, to an entry's fullUrl.
#[inline(never)]
fn entry_reference_content<S: ElementSink>(w: &mut S, u: &Urn) {
    w.value_formatted(Reference::REFERENCE, u);
}

/// An identifier element `e`.
#[inline(always)]
pub(crate) fn identifier<S: ElementSink, O>(
    w: &mut S,
    e: Complex<O, Identifier>,
    system: &str,
    value: &str,
) {
    w.start(e);
    identifier_content(w, system, value);
    w.end(e);
}

/// An Identifier's content.
#[inline(never)]
fn identifier_content<S: ElementSink>(w: &mut S, system: &str, value: &str) {
    w.value(Identifier::SYSTEM, system);
    w.value(Identifier::VALUE, value);
}

/// A HumanName element `e`.
#[inline(always)]
pub(crate) fn human_name<S: ElementSink, O>(
    w: &mut S,
    e: Complex<O, HumanName>,
    use_: Option<&'static str>,
    family: &str,
    given: &[String],
) {
    w.start(e);
    human_name_content(w, use_, family, given);
    w.end(e);
}

/// A HumanName's content.
#[inline(never)]
fn human_name_content<S: ElementSink>(
    w: &mut S,
    use_: Option<&'static str>,
    family: &str,
    given: &[String],
) {
    if let Some(u) = use_ {
        w.value_static(HumanName::USE, u);
    }
    w.value(HumanName::FAMILY, family);
    for g in given {
        w.value(HumanName::GIVEN, g);
    }
}

/// A Period element `e` of dates; empty (`<period/>`) when both are absent.
pub(crate) fn date_period<S: ElementSink, O>(
    w: &mut S,
    e: Complex<O, Period>,
    start: Option<NaiveDate>,
    end: Option<NaiveDate>,
) {
    if start.is_none() && end.is_none() {
        w.empty(e);
        return;
    }
    w.start(e);
    if let Some(d) = start {
        w.value_formatted(Period::START, &date(d));
    }
    if let Some(d) = end {
        w.value_formatted(Period::END, &date(d));
    }
    w.end(e);
}

/// A dateTime element `e` of an instant.
#[inline(always)]
pub(crate) fn instant_value<S: ElementSink, O>(w: &mut S, e: Prim<O>, t: DateTime<Utc>) {
    w.value_formatted(e, InstantText::new(t).as_str());
}

fn address<S: ElementSink>(w: &mut S, a: &AddressInfo, use_: &'static str) {
    w.start(Patient::ADDRESS);
    w.value_static(Address::USE, use_);
    w.value(Address::TEXT, &a.text());
    for l in &a.lines {
        w.value(Address::LINE, l);
    }
    w.value(Address::POSTAL_CODE, &a.postcode);
    date_period(w, Address::PERIOD, Some(a.from), a.to);
    w.end(Patient::ADDRESS);
}

/// An Organization's content: CareConnect meta, ODS identifier, `type`
/// (an NHS code system and code), name, work phone, `partOf` (a
/// commissioner's ODS code, as a directory URL).
pub(crate) fn organization<S: ElementSink>(
    w: &mut S,
    o: &OrgInfo,
    type_: Option<(&'static str, &str)>,
    part_of: Option<&str>,
) {
    meta(
        w,
        Organization::META,
        care_connect_profile!("Organization"),
        None,
    );
    w.start(Organization::IDENTIFIER);
    w.value_static(Identifier::SYSTEM, ODS_ORGANIZATION_SYSTEM);
    w.value(Identifier::VALUE, &o.ods_code);
    w.end(Organization::IDENTIFIER);
    if let Some((system, code)) = type_ {
        nhs_codeable(w, Organization::TYPE, system, code);
    }
    w.value(Organization::NAME, &o.name);
    if let Some(p) = &o.phone {
        w.start(Organization::TELECOM);
        w.value_static(ContactPoint::SYSTEM, "phone");
        w.value(ContactPoint::VALUE, p);
        w.value_static(ContactPoint::USE, "work");
        w.end(Organization::TELECOM);
    }
    if let Some(c) = part_of {
        reference(w, Organization::PART_OF, &directory_url(c));
    }
}

/// What some events add to the CareConnect Patient.
pub(crate) struct PatientExtra<'a, S> {
    /// PDS serial change number (`meta.versionId`).
    pub scn: Option<u32>,
    /// Patient-level extensions, written after `meta`.
    pub extension: Option<&'a dyn Fn(&mut S)>,
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

impl<S> Default for PatientExtra<'_, S> {
    fn default() -> Self {
        PatientExtra {
            scn: None,
            extension: None,
            birth_time: None,
            deceased: None,
            previous: None,
            multiple_birth: None,
            gp: None,
            link: None,
        }
    }
}

/// A CareConnect Patient's content (`p` `None`: a Patient of meta and
/// extras only, as the unknown mother of a birth notification).
pub(crate) fn patient<S: ElementSink>(w: &mut S, p: Option<&PatientInfo>, x: &PatientExtra<'_, S>) {
    meta(w, Patient::META, care_connect_profile!("Patient"), x.scn);
    if let Some(f) = x.extension {
        f(w);
    }
    if let Some(p) = p {
        w.start(Patient::IDENTIFIER);
        w.start_extension(
            Identifier::EXTENSION,
            vocab::NHS_NUMBER_VERIFICATION_STATUS_EXTENSION,
        );
        nhs_codeable(
            w,
            Extension::VALUE_CODEABLE_CONCEPT,
            vocab::NHS_NUMBER_VERIFICATION_STATUS_SYSTEM,
            "01",
        );
        w.end(Identifier::EXTENSION);
        w.value_static(Identifier::SYSTEM, NHS_NUMBER_SYSTEM);
        w.value_formatted(Identifier::VALUE, &nhs_digits(p.nhs_number));
        w.end(Patient::IDENTIFIER);
        human_name(w, Patient::NAME, Some("official"), &p.family, &p.given);
        if let Some(g) = p.gender {
            w.value_static(Patient::GENDER, g.code());
        }
        let birth = date(p.birth_date);
        match x.birth_time {
            Some(t) => {
                w.start_value(Patient::BIRTH_DATE, &birth);
                w.start_extension(PRIMITIVE_EXTENSION, vocab::BIRTH_TIME_EXTENSION);
                instant_value(w, Extension::VALUE_DATE_TIME, t);
                w.end(PRIMITIVE_EXTENSION);
                w.end(Patient::BIRTH_DATE);
            }
            None => w.value_formatted(Patient::BIRTH_DATE, &birth),
        }
        if let Some(t) = x.deceased {
            instant_value(w, Patient::DECEASED_DATE_TIME, t);
        }
        if let Some(a) = &p.address {
            address(w, a, "home");
        }
        if let Some(a) = x.previous {
            address(w, a, "old");
        }
    }
    if let Some(n) = x.multiple_birth {
        w.value_i64(Patient::MULTIPLE_BIRTH_INTEGER, n.into());
    }
    if let Some(gp) = x.gp {
        reference(w, Patient::GENERAL_PRACTITIONER, gp);
    }
    if let Some(l) = x.link {
        w.start(Patient::LINK);
        reference(w, PatientLink::OTHER, l);
        w.value_static(PatientLink::TYPE, "seealso");
        w.end(Patient::LINK);
    }
}

/// A CareConnect Communication's content (the PDS events' focus).
pub(crate) fn communication<S: ElementSink>(
    w: &mut S,
    subject: &Urn,
    sender: &str,
    sent: &InstantText,
) {
    meta(
        w,
        Communication::META,
        care_connect_profile!("Communication"),
        None,
    );
    w.value_static(Communication::STATUS, "completed");
    entry_reference(w, Communication::SUBJECT, subject);
    w.value_formatted(Communication::SENT, sent.as_str());
    reference(w, Communication::SENDER, sender);
}

/// A boolean's lexical form.
pub(crate) fn bool_text(b: bool) -> &'static str {
    if b {
        "true"
    } else {
        "false"
    }
}
