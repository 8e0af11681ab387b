//! Element descriptions shared by the event messages: datatypes and the
//! CareConnect Patient, Organization and Communication, written once
//! against [`ElementSink`] in schema order. Driven into [`XmlStream`]
//! (`build_xml`) they write wire XML; into [`ModelSink`] (`build`) they
//! assemble the typed model.
//!
//! Literal text goes through `value_static`, so the model refers to it
//! instead of copying it.
//!
//! [`XmlStream`]: ems_stu3::xml::XmlStream
//! [`ModelSink`]: ems_stu3::ModelSink

use crate::build::*;
use crate::context::OrgInfo;
use chrono::{DateTime, NaiveDate, Utc};
use ems_stu3::ElementSink;

/// `meta` with a profile (and a version id).
pub(crate) fn meta<S: ElementSink>(w: &mut S, profile: &'static str, version: Option<u32>) {
    w.start("meta");
    if let Some(v) = version {
        w.value_i64("versionId", v.into());
    }
    w.value_static("profile", profile);
    w.end("meta");
}

/// A Coding element `name` of literals.
pub(crate) fn coding<S: ElementSink>(
    w: &mut S,
    name: &'static str,
    system: &'static str,
    code: &'static str,
    display: Option<&'static str>,
) {
    w.start(name);
    w.value_static("system", system);
    w.value_static("code", code);
    if let Some(d) = display {
        w.value_static("display", d);
    }
    w.end(name);
}

/// A CodeableConcept element `name` of one coding of literals.
pub(crate) fn codeable<S: ElementSink>(
    w: &mut S,
    name: &'static str,
    system: &'static str,
    code: &'static str,
    display: &'static str,
) {
    w.start(name);
    coding(w, "coding", system, code, Some(display));
    w.end(name);
}

/// A CodeableConcept element `name` of one coding with a literal system and
/// a given code and display.
pub(crate) fn codeable_of<S: ElementSink>(
    w: &mut S,
    name: &'static str,
    system: &'static str,
    code: &str,
    display: &str,
) {
    w.start(name);
    w.start("coding");
    w.value_static("system", system);
    w.value("code", code);
    w.value("display", display);
    w.end("coding");
    w.end(name);
}

/// A CodeableConcept of one coding whose display comes from the embedded
/// NHS code system (an unknown code is its own display).
pub(crate) fn nhs_codeable<S: ElementSink>(
    w: &mut S,
    name: &'static str,
    system: &'static str,
    code: &str,
) {
    match nhs_concept(system, code) {
        Some((code, display)) => codeable(w, name, system, code, display),
        None => codeable_of(w, name, system, code, code),
    }
}

/// A CodeableConcept of text only.
pub(crate) fn text_concept<S: ElementSink>(w: &mut S, name: &'static str, text: &'static str) {
    w.start(name);
    w.value_static("text", text);
    w.end(name);
}

/// A Reference element `name`.
pub(crate) fn reference<S: ElementSink>(w: &mut S, name: &'static str, url: &str) {
    w.start(name);
    w.value("reference", url);
    w.end(name);
}

/// A Reference element `name` to an entry of the message by its fullUrl
/// (formatted from the entry's UUID: `value_formatted`).
pub(crate) fn entry_reference<S: ElementSink>(w: &mut S, name: &'static str, u: &Urn) {
    w.start(name);
    w.value_formatted("reference", u);
    w.end(name);
}

/// An `identifier`.
pub(crate) fn identifier<S: ElementSink>(w: &mut S, system: &str, value: &str) {
    w.start("identifier");
    w.value("system", system);
    w.value("value", value);
    w.end("identifier");
}

/// A HumanName element `name`.
pub(crate) fn human_name<S: ElementSink>(
    w: &mut S,
    name: &'static str,
    use_: Option<&'static str>,
    family: &str,
    given: &[String],
) {
    w.start(name);
    if let Some(u) = use_ {
        w.value_static("use", u);
    }
    w.value("family", family);
    for g in given {
        w.value("given", g);
    }
    w.end(name);
}

/// A `period` of dates; `<period/>` when both are absent.
pub(crate) fn date_period<S: ElementSink>(
    w: &mut S,
    start: Option<NaiveDate>,
    end: Option<NaiveDate>,
) {
    if start.is_none() && end.is_none() {
        w.empty("period");
        return;
    }
    w.start("period");
    if let Some(d) = start {
        w.value_formatted("start", &date(d));
    }
    if let Some(d) = end {
        w.value_formatted("end", &date(d));
    }
    w.end("period");
}

/// A dateTime element `name` of an instant.
pub(crate) fn instant_value<S: ElementSink>(w: &mut S, name: &'static str, t: DateTime<Utc>) {
    w.value_formatted(name, InstantText::new(t).as_str());
}

fn address<S: ElementSink>(w: &mut S, a: &AddressInfo, use_: &'static str) {
    w.start("address");
    w.value_static("use", use_);
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
pub(crate) fn organization<S: ElementSink>(
    w: &mut S,
    o: &OrgInfo,
    type_: Option<(&'static str, &str)>,
    part_of: Option<&str>,
) {
    meta(w, care_connect_profile!("Organization"), None);
    w.start("identifier");
    w.value_static("system", ODS_ORGANIZATION_SYSTEM);
    w.value("value", &o.ods_code);
    w.end("identifier");
    if let Some((system, code)) = type_ {
        nhs_codeable(w, "type", system, code);
    }
    w.value("name", &o.name);
    if let Some(p) = &o.phone {
        w.start("telecom");
        w.value_static("system", "phone");
        w.value("value", p);
        w.value_static("use", "work");
        w.end("telecom");
    }
    if let Some(c) = part_of {
        reference(w, "partOf", &directory_url(c));
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
    meta(w, care_connect_profile!("Patient"), x.scn);
    if let Some(f) = x.extension {
        f(w);
    }
    if let Some(p) = p {
        w.start("identifier");
        w.start_extension("extension", vocab::NHS_NUMBER_VERIFICATION_STATUS_EXTENSION);
        nhs_codeable(
            w,
            "valueCodeableConcept",
            vocab::NHS_NUMBER_VERIFICATION_STATUS_SYSTEM,
            "01",
        );
        w.end("extension");
        w.value_static("system", NHS_NUMBER_SYSTEM);
        w.value_formatted("value", &nhs_digits(p.nhs_number));
        w.end("identifier");
        human_name(w, "name", Some("official"), &p.family, &p.given);
        if let Some(g) = p.gender {
            w.value_static("gender", g.code());
        }
        let birth = date(p.birth_date);
        match x.birth_time {
            Some(t) => {
                w.start_value("birthDate", &birth);
                w.start_extension("extension", vocab::BIRTH_TIME_EXTENSION);
                instant_value(w, "valueDateTime", t);
                w.end("extension");
                w.end("birthDate");
            }
            None => w.value_formatted("birthDate", &birth),
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
        w.value_static("type", "seealso");
        w.end("link");
    }
}

/// A CareConnect Communication's content (the PDS events' focus).
pub(crate) fn communication<S: ElementSink>(
    w: &mut S,
    subject: &Urn,
    sender: &str,
    sent: &InstantText,
) {
    meta(w, care_connect_profile!("Communication"), None);
    w.value_static("status", "completed");
    entry_reference(w, "subject", subject);
    w.value_formatted("sent", sent.as_str());
    reference(w, "sender", sender);
}

/// A boolean's lexical form.
pub(crate) fn bool_text(b: bool) -> &'static str {
    if b {
        "true"
    } else {
        "false"
    }
}
