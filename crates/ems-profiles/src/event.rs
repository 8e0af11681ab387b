//! Event-message rules: Bundle (2.1), Event-MessageHeader-1 (2.2),
//! CareConnect Patient and Organization (2.5, 2.6) and the per-event rules of
//! section 10.

use crate::fnv::FnvMap;
use crate::rules::{Report, Strength};
use ems_match::{event_type, EventType, NhsNumber};
use ems_stu3::lexical::is_uuid;
use ems_stu3::*;
use std::collections::HashSet;

pub const ROUTING_URL: &str = ems_nhs::vocab::ROUTING_DEMOGRAPHICS_EXTENSION;
pub const MET_URL: &str = ems_nhs::vocab::MESSAGE_EVENT_TYPE_EXTENSION;
pub const MH_PROFILE: &str = ems_nhs::vocab::MESSAGE_HEADER_PROFILE;
pub const NHS_SYSTEM: &str = ems_nhs::vocab::NHS_NUMBER_SYSTEM;
pub const ODS_SYSTEM: &str = ems_nhs::vocab::ODS_ORGANIZATION_SYSTEM;
pub const VERIFICATION_URL: &str = ems_nhs::vocab::NHS_NUMBER_VERIFICATION_STATUS_EXTENSION;
pub const BIRTH_TIME_URL: &str = ems_nhs::vocab::BIRTH_TIME_EXTENSION;
pub const DEATH_URL: &str = ems_nhs::vocab::DEATH_NOTIFICATION_STATUS_EXTENSION;
pub const ETHNIC_URL: &str = ems_nhs::vocab::ETHNIC_CATEGORY_EXTENSION;
pub const VACC_PROC_URL: &str =
    "https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-VaccinationProcedure-1";
const SCT: &str = "http://snomed.info/sct";

fn ext<'a>(exts: &'a [Extension], url: &str) -> Option<&'a Extension> {
    exts.iter().find(|e| e.url.as_deref() == Some(url))
}

fn reference(r: &Option<Reference>) -> Option<&str> {
    r.as_ref().and_then(|r| r.reference.str_value())
}

pub(crate) struct Entry<'a> {
    pub i: usize,
    pub full_url: Option<&'a str>,
    pub res: &'a Resource,
}

impl Entry<'_> {
    /// The entry's location, formatted only when an issue uses it.
    fn loc(&self) -> Loc {
        Loc {
            i: self.i,
            ty: self.res.resource_type(),
        }
    }
}

/// `Bundle.entry[i].resource.ofType(T)`, written out only when displayed.
#[derive(Clone, Copy)]
struct Loc {
    i: usize,
    ty: &'static str,
}

impl std::fmt::Display for Loc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Bundle.entry[{}].resource.ofType({})", self.i, self.ty)
    }
}

impl From<Loc> for String {
    fn from(l: Loc) -> String {
        l.to_string()
    }
}

struct Ctx<'a, 'r> {
    rep: &'r mut Report,
    entries: Vec<Entry<'a>>,
    by_url: FnvMap<&'a str, usize>,
    event: Option<&'static EventType>,
    met: Option<String>,
    /// index (in `entries`) of the focus resource
    focus: Option<usize>,
    /// index of the subject Patient
    subject: Option<usize>,
}

impl<'a> Ctx<'a, '_> {
    fn resolve(&self, r: &str) -> Option<&Entry<'a>> {
        self.index_of(r).map(|k| &self.entries[k])
    }
    /// Index (in `entries`) of the entry a reference points at.
    fn index_of(&self, r: &str) -> Option<usize> {
        if let Some(&k) = self.by_url.get(r) {
            return Some(k);
        }
        // a reference to urn:uuid:X finds an entry whose fullUrl is the bare X
        // (FULLURL-FORMAT reports the bare fullUrl)
        let id = r.strip_prefix("urn:uuid:")?;
        self.entries.iter().position(|e| e.full_url == Some(id))
    }
    /// The subject Patient (with its entry location), once determined.
    fn subject_patient(&self) -> Option<(Loc, &'a Patient)> {
        let e = &self.entries[self.subject?];
        Some((e.loc(), e.res.get::<Patient>()?))
    }
    fn all<T: ResourceKind + 'a>(&self) -> impl Iterator<Item = (&Entry<'a>, &'a T)> + '_ {
        self.entries
            .iter()
            .filter_map(|e| e.res.get::<T>().map(|t| (e, t)))
    }
    fn is(&self, code: &str) -> bool {
        self.event.map(|e| e.code) == Some(code)
    }
    fn is_delete(&self) -> bool {
        self.met.as_deref() == Some("delete")
    }
    fn screening(&self) -> bool {
        self.is("blood-spot-test-outcome-1")
            || self.is("newborn-hearing-1")
            || self.is("nipe-outcome-1")
    }
    fn pds(&self) -> bool {
        self.event.is_some_and(|e| e.code.starts_with("pds-"))
    }
}

/// Validates an event-message Bundle; returns the entry fullUrls (with their
/// indices) for the walk's reference check.
pub(crate) fn validate<'a>(r: &'a Resource, rep: &mut Report) -> Option<FnvMap<&'a str, usize>> {
    let Some(b) = r.get::<Bundle>() else {
        rep.add(
            "BUNDLE-TYPE",
            r.resource_type(),
            format!(
                "an event message is a Bundle of type `message`, not a {}",
                r.resource_type()
            ),
        );
        return None;
    };
    match b.type_.str_value() {
        Some("message") => {}
        Some(t) => rep.add(
            "BUNDLE-TYPE",
            "Bundle.type",
            format!("Bundle.type is `{t}`; an event message has type `message`"),
        ),
        None => rep.add(
            "BUNDLE-TYPE",
            "Bundle.type",
            "Bundle.type is missing; an event message has type `message`",
        ),
    }
    let mut entries = Vec::new();
    for (i, e) in b.entry.iter().enumerate() {
        if let Some(res) = &e.resource {
            entries.push(Entry {
                i,
                full_url: e.full_url.str_value(),
                res,
            });
        }
    }
    let mut by_url = FnvMap::with_capacity_and_hasher(entries.len(), Default::default());
    for (k, e) in entries.iter().enumerate() {
        let loc = || format!("Bundle.entry[{}].fullUrl", e.i);
        match e.full_url {
            None => rep.add(
                "FULLURL-FORMAT",
                loc(),
                "entry has no fullUrl; NEMS uses `urn:uuid:` + the resource id",
            ),
            Some(u) => {
                let urn = u.strip_prefix("urn:uuid:").is_some_and(is_uuid);
                if !urn {
                    rep.add(
                        "FULLURL-FORMAT",
                        loc(),
                        format!("fullUrl `{u}` is not `urn:uuid:<uuid>`"),
                    );
                } else if let Some(id) = e.res.id() {
                    if &u[9..] != id {
                        rep.add(
                            "FULLURL-FORMAT",
                            loc(),
                            format!("fullUrl `{u}` does not carry the resource id `{id}`"),
                        );
                    }
                }
                if by_url.insert(u, k).is_some() {
                    rep.add(
                        "FULLURL-UNIQUE",
                        loc(),
                        format!("fullUrl `{u}` is used by more than one entry"),
                    );
                }
            }
        }
    }
    let mut cx = Ctx {
        rep,
        entries,
        by_url,
        event: None,
        met: None,
        focus: None,
        subject: None,
    };
    let Some(mh_pos) = cx
        .entries
        .iter()
        .position(|e| matches!(e.res, Resource::MessageHeader(_)))
    else {
        cx.rep.add(
            "MH-MISSING",
            "Bundle.entry",
            "the bundle has no MessageHeader, so the event cannot be determined",
        );
        return Some(cx.by_url);
    };
    if cx.entries[mh_pos].i != 0 {
        let loc = cx.entries[mh_pos].loc();
        cx.rep.add(
            "MH-FIRST",
            loc,
            "the MessageHeader must be the first entry of the bundle",
        );
    }
    let (mh_entry_loc, mh) = {
        let e = &cx.entries[mh_pos];
        (e.loc().to_string(), e.res.get::<MessageHeader>())
    };
    if let Some(mh) = mh {
        header(&mut cx, mh, &mh_entry_loc);
        patients(&mut cx);
        organizations(&mut cx);
        per_event(&mut cx, mh, &mh_entry_loc);
    }
    Some(cx.by_url)
}

fn header(cx: &mut Ctx, mh: &MessageHeader, at: &str) {
    let l = |x: &str| format!("{at}.{x}");
    // id
    match mh.id.str_value() {
        None => cx.rep.add(
            "MH-ID",
            l("id"),
            "MessageHeader.id is missing; it identifies the message (duplicate detection, support)",
        ),
        Some(id) if !is_uuid(id) => cx.rep.add(
            "MH-ID",
            l("id"),
            format!("MessageHeader.id `{id}` is not a UUID"),
        ),
        _ => {}
    }
    // event
    match &mh.event {
        None => cx.rep.add(
            "MH-EVENT-CODE",
            l("event"),
            "MessageHeader.event is missing",
        ),
        Some(ev) => {
            if ev.system.str_value() != Some(ems_match::EVENT_TYPE_SYSTEM) {
                cx.rep.add(
                    "MH-EVENT-SYSTEM",
                    l("event.system"),
                    format!(
                        "event.system is `{}`; expected {}",
                        ev.system.str_value().unwrap_or("(missing)"),
                        ems_match::EVENT_TYPE_SYSTEM
                    ),
                );
            }
            match ev.code.str_value() {
                None => cx
                    .rep
                    .add("MH-EVENT-CODE", l("event.code"), "event.code is missing"),
                Some(c) => {
                    match event_type(c) {
                        Some(et) => {
                            cx.event = Some(et);
                            if ev.display.str_value() != Some(et.display) {
                                cx.rep.add(
                                "MH-EVENT-DISPLAY",
                                l("event.display"),
                                format!("event.display is `{}`; the EventType-1 display of {c} is `{}`", ev.display.str_value().unwrap_or("(missing)"), et.display),
                            );
                            }
                        }
                        None => cx.rep.add(
                            "MH-EVENT-CODE",
                            l("event.code"),
                            format!("`{c}` is not a supported NEMS event"),
                        ),
                    }
                }
            }
            if ev.user_selected.is_some() {
                cx.rep.add(
                    "MH-EVENT-DISPLAY",
                    l("event.userSelected"),
                    "event.userSelected is prohibited",
                );
            }
        }
    }
    // meta
    let meta = mh.meta.as_ref();
    if !meta.is_some_and(|m| {
        m.profile
            .iter()
            .any(|p| p.value.as_deref() == Some(MH_PROFILE))
    }) {
        cx.rep.add(
            "MH-PROFILE",
            l("meta.profile"),
            format!("meta.profile should carry {MH_PROFILE}"),
        );
    }
    if let Some(v) = meta.and_then(|m| m.version_id.str_value()) {
        if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
            cx.rep.add(
                "MH-SEQ",
                l("meta.versionId"),
                format!("meta.versionId `{v}` is not an integer sequence number"),
            );
        }
    }
    let last_updated = meta.and_then(|m| m.last_updated.str_value());
    if last_updated.is_none() && cx.event.is_some_and(|e| e.meta_last_updated_required) {
        cx.rep.add(
            "MH-LASTUPDATED",
            l("meta.lastUpdated"),
            "meta.lastUpdated is required for this event (receivers order messages by it)",
        );
    }
    // timestamp
    match mh.timestamp.str_value() {
        None => cx.rep.add(
            "MH-TIMESTAMP",
            l("timestamp"),
            "MessageHeader.timestamp is missing",
        ),
        Some(ts) => {
            if let (Some(lu), Ok(t)) = (last_updated, chrono::DateTime::parse_from_rfc3339(ts)) {
                if let Ok(u) = chrono::DateTime::parse_from_rfc3339(lu) {
                    if t < u {
                        cx.rep.add(
                            "INFO-TIMESTAMP",
                            l("timestamp"),
                            format!("timestamp {ts} is earlier than meta.lastUpdated {lu}"),
                        );
                    }
                }
            }
        }
    }
    // messageEventType
    let met_loc = || format!("{at}.extension('{MET_URL}')");
    match ext(&mh.extension, MET_URL) {
        None => cx.rep.add(
            "MH-MSGEVENTTYPE",
            met_loc(),
            "the messageEventType extension is missing (new, update or delete)",
        ),
        Some(x) => match &x.value {
            Some(ExtensionValue::CodeableConcept(cc)) => {
                if cc.coding.len() != 1 {
                    cx.rep.add(
                        "MH-MSGEVENTTYPE",
                        format!("{}.value.ofType(CodeableConcept).coding", met_loc()),
                        "exactly one coding is required",
                    );
                }
                if cc.text.is_some() {
                    cx.rep.add(
                        "MH-MSGEVENTTYPE",
                        format!("{}.value.ofType(CodeableConcept).text", met_loc()),
                        "text is prohibited",
                    );
                }
                if let Some(c) = cc.coding.first() {
                    let cl = || format!("{}.value.ofType(CodeableConcept).coding[0]", met_loc());
                    if c.system.str_value() != Some(ems_match::MESSAGE_EVENT_TYPE_SYSTEM) {
                        cx.rep.add(
                            "MH-MSGEVENTTYPE",
                            format!("{}.system", cl()),
                            format!("system must be {}", ems_match::MESSAGE_EVENT_TYPE_SYSTEM),
                        );
                    }
                    if c.version.is_some() || c.user_selected.is_some() {
                        cx.rep.add(
                            "MH-MSGEVENTTYPE",
                            cl(),
                            "version and userSelected are prohibited",
                        );
                    }
                    let display = |code: &str| match code {
                        "new" => Some("New event message"),
                        "update" => Some("Update event message"),
                        "delete" => Some("Delete event message"),
                        _ => None,
                    };
                    match c.code.str_value() {
                        Some(code) if display(code).is_some() => {
                            cx.met = Some(code.to_string());
                            if let Some(et) = cx.event {
                                if !et.message_event_types.contains(&code) {
                                    cx.rep.add(
                                        "MH-MSGEVENTTYPE",
                                        format!("{}.code", cl()),
                                        format!(
                                            "`{code}` is not allowed for {} (allowed: {})",
                                            et.code,
                                            et.message_event_types.join(", ")
                                        ),
                                    );
                                }
                            }
                            if c.display.str_value() != display(code) {
                                cx.rep.add(
                                    "MH-MSGEVENTTYPE",
                                    format!("{}.display", cl()),
                                    format!("display must be `{}`", display(code).unwrap_or("")),
                                );
                            }
                        }
                        other => cx.rep.add(
                            "MH-MSGEVENTTYPE",
                            format!("{}.code", cl()),
                            format!(
                                "`{}` is not new, update or delete",
                                other.unwrap_or("(missing)")
                            ),
                        ),
                    }
                }
            }
            _ => cx.rep.add(
                "MH-MSGEVENTTYPE",
                met_loc(),
                "the messageEventType extension needs a valueCodeableConcept",
            ),
        },
    }
    // source
    match &mh.source {
        None => cx.rep.add(
            "MH-SOURCE-NAME",
            l("source"),
            "MessageHeader.source is missing",
        ),
        Some(src) => {
            if src.name.str_value().is_none() {
                cx.rep.add(
                    "MH-SOURCE-NAME",
                    l("source.name"),
                    "source.name (the name of the publishing system) is required",
                );
            }
            match &src.contact {
                None => cx.rep.add("MH-SOURCE-CONTACT", l("source.contact"), "source.contact is required: subscribers use it to report problems with this message"),
                Some(cp) => {
                    let sys = cp.system.str_value();
                    let val = cp.value.str_value();
                    match (sys, val) {
                        (Some("email"), Some(v)) if !looks_like_email(v) => cx.rep.add("MH-SOURCE-CONTACT", l("source.contact.value"), format!("`{v}` is not an e-mail address")),
                        (Some("phone"), Some(v)) if !looks_like_phone(v) => cx.rep.add("MH-SOURCE-CONTACT", l("source.contact.value"), format!("`{v}` is not a phone number")),
                        (Some("email" | "phone"), Some(_)) => {}
                        (Some(o), _) if o != "email" && o != "phone" => cx.rep.add("MH-SOURCE-CONTACT", l("source.contact.system"), format!("contact system is `{o}`; use phone or email")),
                        (None, _) => cx.rep.add("MH-SOURCE-CONTACT", l("source.contact.system"), "contact system (phone or email) is required"),
                        (_, None) => cx.rep.add("MH-SOURCE-CONTACT", l("source.contact.value"), "contact value is required"),
                        _ => {}
                    }
                }
            }
            if src.endpoint.str_value().is_none() {
                cx.rep.add(
                    "MH-SOURCE-ENDPOINT",
                    l("source.endpoint"),
                    "source.endpoint is required (e.g. urn:nhs:addressing:asid:<ASID>)",
                );
            }
        }
    }
    // responsible
    match reference(&mh.responsible) {
        None => cx.rep.add(
            "MH-RESPONSIBLE",
            l("responsible"),
            "responsible.reference is required",
        ),
        Some(r) => {
            if cx.event.is_some_and(|e| e.responsible_in_bundle) {
                let ok = cx
                    .resolve(r)
                    .is_some_and(|e| matches!(e.res, Resource::Organization(_)));
                if !ok {
                    cx.rep.add(
                        "MH-RESPONSIBLE-INBUNDLE",
                        l("responsible.reference"),
                        format!("responsible `{r}` must be a CareConnect-Organization-1 inside the bundle for this event"),
                    );
                }
            }
        }
    }
    // focus
    if mh.focus.len() != 1 {
        cx.rep.add(
            "MH-FOCUS",
            l("focus"),
            format!("exactly one focus is required, found {}", mh.focus.len()),
        );
    }
    if let Some(f) = mh.focus.first() {
        match f.reference.str_value() {
            None => cx.rep.add(
                "MH-FOCUS",
                l("focus[0].reference"),
                "focus.reference is missing",
            ),
            Some(r) => match cx.index_of(r) {
                None => cx.rep.add(
                    "MH-FOCUS",
                    l("focus[0].reference"),
                    format!("focus `{r}` is not in the bundle"),
                ),
                Some(k) => {
                    cx.focus = Some(k);
                    let ty = cx.entries[k].res.resource_type();
                    if let Some(et) = cx.event {
                        if ty != et.focus {
                            cx.rep.add(
                                "MH-FOCUS-TYPE",
                                l("focus[0].reference"),
                                format!(
                                    "focus is a {ty}; the focus of {} is a {}",
                                    et.code, et.focus
                                ),
                            );
                        }
                    }
                }
            },
        }
    }
    // prohibited
    for (present, name) in [
        (mh.receiver.is_some(), "receiver"),
        (mh.author.is_some(), "author"),
        (mh.reason.is_some(), "reason"),
        (mh.response.is_some(), "response"),
    ] {
        if present {
            cx.rep.add(
                "MH-PROHIBITED",
                l(name),
                format!("MessageHeader.{name} is prohibited by Event-MessageHeader-1"),
            );
        }
    }
    if mh.destination.len() > 1 {
        cx.rep
            .add("MH-PROHIBITED", l("destination"), "at most one destination");
    }
    // subject patient
    cx.subject = subject_patient(cx);
    routing(cx, mh, at);
}

pub(crate) fn looks_like_email(v: &str) -> bool {
    let v = v.strip_prefix("mailto:").unwrap_or(v);
    match v.split_once('@') {
        Some((a, d)) => {
            !a.is_empty()
                && d.contains('.')
                && !d.starts_with('.')
                && !d.ends_with('.')
                && !v.contains(char::is_whitespace)
        }
        None => false,
    }
}

pub(crate) fn looks_like_phone(v: &str) -> bool {
    let digits = v.chars().filter(|c| c.is_ascii_digit()).count();
    digits >= 6 && v.chars().all(|c| c.is_ascii_digit() || " +-()".contains(c)) && !v.is_empty()
}

fn subject_patient(cx: &Ctx) -> Option<usize> {
    let focus = cx.focus.map(|k| cx.entries[k].res);
    let r = match focus {
        Some(Resource::Communication(c)) => reference(&c.subject),
        Some(Resource::Encounter(e)) => reference(&e.subject),
        Some(Resource::EpisodeOfCare(e)) => reference(&e.patient),
        Some(Resource::Immunization(i)) => reference(&i.patient),
        Some(Resource::Patient(_)) => return cx.focus,
        _ => None,
    };
    if let Some(k) = r.and_then(|r| cx.index_of(r)) {
        if matches!(cx.entries[k].res, Resource::Patient(_)) {
            return Some(k);
        }
    }
    let pats: Vec<usize> = (0..cx.entries.len())
        .filter(|&k| matches!(cx.entries[k].res, Resource::Patient(_)))
        .collect();
    if pats.len() == 1 && !cx.is("pds-birth-notification-1") {
        Some(pats[0])
    } else {
        None
    }
}

fn nhs_identifier(p: &Patient) -> Option<(usize, &Identifier)> {
    p.identifier
        .iter()
        .enumerate()
        .find(|(_, i)| i.system.str_value() == Some(NHS_SYSTEM))
}

fn official_name(p: &Patient) -> Option<(usize, &HumanName)> {
    p.name
        .iter()
        .enumerate()
        .find(|(_, n)| n.use_.str_value() == Some("official"))
}

fn given(n: &HumanName) -> String {
    n.given
        .iter()
        .filter_map(|g| g.value.as_deref())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Checks an NHS number; `loc` is only called when there is something to report.
fn check_nhs_number(rep: &mut Report, value: &str, loc: impl FnOnce() -> String) {
    match NhsNumber::parse(value) {
        Err(e) => rep.add("NHS-NUMBER-CHECKDIGIT", loc(), format!("`{value}`: {e}")),
        Ok(n) if n.is_placeholder() => rep.add(
            "NHS-NUMBER-PLACEHOLDER",
            loc(),
            format!(
                "`{value}` passes the check digit but is a placeholder, not a traced NHS number"
            ),
        ),
        Ok(_) => {}
    }
}

fn routing(cx: &mut Ctx, mh: &MessageHeader, at: &str) {
    let bn = cx.is("pds-birth-notification-1");
    let optional_name_dob =
        bn || (cx.is_delete() && cx.event.is_some_and(|e| e.delete_routing_name_dob_optional));
    let rl = || format!("{at}.extension('{ROUTING_URL}')");
    let Some(rd) = ext(&mh.extension, ROUTING_URL) else {
        if !bn {
            cx.rep.add(
                "MH-ROUTING-NHSNUMBER",
                rl(),
                "the routingDemographics extension is missing, so the patient cannot be determined",
            );
        }
        return;
    };
    let sub = |name: &str| ext(&rd.extension, name);
    let subject = cx.subject_patient().map(|(_, p)| p);
    // NHS number
    let nl = || format!("{}.extension('nhsNumber')", rl());
    match sub("nhsNumber").map(|x| &x.value) {
        None => {
            if !bn {
                cx.rep.add(
                    "MH-ROUTING-NHSNUMBER",
                    nl(),
                    "routing nhsNumber is missing, so the patient cannot be determined",
                );
            }
        }
        Some(Some(ExtensionValue::Identifier(id))) => {
            if id.system.str_value() != Some(NHS_SYSTEM) {
                cx.rep.add(
                    "MH-ROUTING",
                    format!("{}.value.ofType(Identifier).system", nl()),
                    format!("system must be {NHS_SYSTEM}"),
                );
            }
            match id.value.str_value() {
                None => cx.rep.add(
                    "MH-ROUTING-NHSNUMBER",
                    format!("{}.value.ofType(Identifier).value", nl()),
                    "routing NHS number has no value",
                ),
                Some(v) => {
                    check_nhs_number(cx.rep, v, || {
                        format!("{}.value.ofType(Identifier).value", nl())
                    });
                    if let Some((_, pid)) = subject.and_then(nhs_identifier) {
                        if let Some(pv) = pid.value.str_value() {
                            if pv != v {
                                cx.rep.add(
                                    "MH-ROUTING-MISMATCH",
                                    format!("{}.value.ofType(Identifier).value", nl()),
                                    format!("routing NHS number {v} differs from the subject Patient's NHS number {pv}"),
                                );
                            }
                        }
                    }
                }
            }
        }
        Some(_) => cx.rep.add(
            "MH-ROUTING-NHSNUMBER",
            nl(),
            "routing nhsNumber needs a valueIdentifier",
        ),
    }
    // name
    let nml = || format!("{}.extension('name')", rl());
    match sub("name").map(|x| &x.value) {
        None => {
            if !optional_name_dob {
                cx.rep.add(
                    "MH-ROUTING",
                    nml(),
                    "routing name (the patient's official name) is missing",
                );
            }
        }
        Some(Some(ExtensionValue::HumanName(n))) => {
            if n.use_.str_value() != Some("official") {
                cx.rep.add(
                    "MH-ROUTING",
                    format!("{}.value.ofType(HumanName).use", nml()),
                    "routing name use must be `official`",
                );
            }
            if n.family.str_value().is_none() || n.given.is_empty() {
                cx.rep.add(
                    "MH-ROUTING",
                    format!("{}.value.ofType(HumanName)", nml()),
                    "routing name needs family and given",
                );
            }
            if let Some((_, pn)) = subject.and_then(official_name) {
                let same_family = n.family.str_value().map(str::to_lowercase)
                    == pn.family.str_value().map(str::to_lowercase);
                let same_given = given(n).to_lowercase() == given(pn).to_lowercase();
                if !same_family || !same_given {
                    cx.rep.add(
                        "MH-ROUTING-MISMATCH",
                        format!("{}.value.ofType(HumanName)", nml()),
                        format!(
                            "routing name `{} {}` differs from the subject Patient's official name `{} {}`",
                            given(n),
                            n.family.str_value().unwrap_or(""),
                            given(pn),
                            pn.family.str_value().unwrap_or("")
                        ),
                    );
                }
            }
        }
        Some(_) => cx
            .rep
            .add("MH-ROUTING", nml(), "routing name needs a valueHumanName"),
    }
    // birthDateTime
    let bl = || format!("{}.extension('birthDateTime')", rl());
    match sub("birthDateTime").map(|x| &x.value) {
        None => {
            if !optional_name_dob {
                cx.rep
                    .add("MH-ROUTING", bl(), "routing birthDateTime is missing");
            }
        }
        Some(Some(ExtensionValue::DateTime(d))) => {
            if let (Some(v), Some(pb)) = (
                d.value.as_deref(),
                subject.and_then(|p| p.birth_date.str_value()),
            ) {
                if v.get(..10).unwrap_or(v) != pb {
                    cx.rep.add(
                        "MH-ROUTING-MISMATCH",
                        format!("{}.value.ofType(dateTime)", bl()),
                        format!("routing birthDateTime {v} is not on the subject Patient's birthDate {pb}"),
                    );
                }
            }
        }
        Some(_) => cx.rep.add(
            "MH-ROUTING",
            bl(),
            "routing birthDateTime needs a valueDateTime",
        ),
    }
    if subject.is_none() && !cx.is_delete() && !bn {
        cx.rep.add(
            "PATIENT-SUBJECT",
            format!("{at}.focus"),
            "the event's subject Patient is not in the bundle",
        );
    }
}

/// Entry indexes of the mother and baby of a birth notification.
fn birth_roles(cx: &Ctx) -> (Option<usize>, Option<usize>) {
    let mother = match cx.focus.map(|k| cx.entries[k].res) {
        Some(Resource::Communication(c)) => reference(&c.subject).and_then(|r| cx.index_of(r)),
        _ => None,
    };
    let baby = cx
        .all::<RelatedPerson>()
        .find_map(|(_, rp)| reference(&rp.patient).and_then(|r| cx.index_of(r)));
    (mother, baby)
}

fn patients(cx: &mut Ctx) {
    let bn = cx.is("pds-birth-notification-1");
    let (mother, baby) = if bn { birth_roles(cx) } else { (None, None) };
    let pds = cx.pds();
    let rc = cx.is("pds-record-change-1");
    let list: Vec<(usize, Loc)> = (0..cx.entries.len())
        .filter(|&k| matches!(cx.entries[k].res, Resource::Patient(_)))
        .map(|k| (k, cx.entries[k].loc()))
        .collect();
    for (k, loc) in list {
        let Some(p) = cx.entries[k].res.get::<Patient>() else {
            continue;
        };
        let is_mother = bn && Some(k) == mother;
        let l = |x: &str| format!("{loc}.{x}");
        match nhs_identifier(p) {
            None => {
                if !is_mother {
                    cx.rep.add(
                        "PATIENT-NHSNUMBER",
                        l("identifier"),
                        format!("no identifier with system {NHS_SYSTEM}"),
                    );
                }
            }
            Some((j, id)) => {
                if let Some(v) = id.value.str_value() {
                    check_nhs_number(cx.rep, v, || l(&format!("identifier[{j}].value")));
                }
                if ext(&id.extension, VERIFICATION_URL).is_none() {
                    cx.rep.add(
                        "PROFILE-PATIENT",
                        l(&format!("identifier[{j}]")),
                        "CareConnect-Patient-1 requires the NHSNumberVerificationStatus extension on the NHS number",
                    );
                }
            }
        }
        if !is_mother {
            match official_name(p) {
                None => cx.rep.add("PATIENT-NAME", l("name"), "no official name"),
                Some((j, n)) if n.family.str_value().is_none() => cx.rep.add(
                    "PATIENT-NAME",
                    l(&format!("name[{j}].family")),
                    "the official name needs a family name",
                ),
                _ => {}
            }
            if p.birth_date.is_none() {
                cx.rep.add(
                    "PATIENT-BIRTHDATE",
                    l("birthDate"),
                    "Patient.birthDate is required",
                );
            }
        }
        if let (Some(bd), Some(bt)) = (
            p.birth_date.str_value(),
            p.birth_date
                .as_ref()
                .and_then(|b| ext(b.extension(), BIRTH_TIME_URL)),
        ) {
            if let Some(ExtensionValue::DateTime(t)) = &bt.value {
                if let Some(v) = t.value.as_deref() {
                    if v.get(..10) != Some(bd) {
                        cx.rep.add(
                            "PATIENT-BIRTHTIME",
                            l(&format!("birthDate.extension('{BIRTH_TIME_URL}')")),
                            format!("birth time {v} is not on birthDate {bd}"),
                        );
                    }
                }
            }
        }
        if p.animal.is_some() || !p.communication.is_empty() {
            cx.rep.add(
                "PROFILE-PATIENT",
                loc,
                "animal and communication are prohibited by CareConnect-Patient-1",
            );
        }
        let needs_scn = (pds && !bn) || (bn && Some(k) == baby) || rc;
        if needs_scn
            && p.meta
                .as_ref()
                .and_then(|m| m.version_id.str_value())
                .is_none()
        {
            cx.rep.add(
                "PDS-SCN",
                l("meta.versionId"),
                "the PDS serial change number (meta.versionId) is required",
            );
        }
    }
}

fn is_ods_code(v: &str) -> bool {
    (3..=10).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

fn organizations(cx: &mut Ctx) {
    let name_strength = if cx.event.is_some_and(|e| e.organization_name_required) {
        Strength::Must
    } else {
        Strength::Should
    };
    // organisations whose ODS code is optional: BN delivery place; record change
    let mut ods_optional: HashSet<usize> = HashSet::new();
    if cx.is("pds-birth-notification-1") {
        for (_, eoc) in cx.all::<EpisodeOfCare>() {
            if eoc.type_.iter().any(|t| {
                t.coding
                    .iter()
                    .any(|c| c.code.str_value() == Some("delivery-place"))
            }) {
                if let Some(k) = reference(&eoc.managing_organization).and_then(|r| cx.index_of(r))
                {
                    ods_optional.insert(k);
                }
            }
        }
    }
    let ods_strength_default = if cx.is("pds-record-change-1") || cx.event.is_none() {
        Strength::Should
    } else {
        Strength::Must
    };
    let list: Vec<(usize, Loc)> = (0..cx.entries.len())
        .filter(|&k| matches!(cx.entries[k].res, Resource::Organization(_)))
        .map(|k| (k, cx.entries[k].loc()))
        .collect();
    for (k, loc) in list {
        let Some(o) = cx.entries[k].res.get::<Organization>() else {
            continue;
        };
        let strength = if ods_optional.contains(&k) {
            Strength::Should
        } else {
            ods_strength_default
        };
        match o
            .identifier
            .iter()
            .enumerate()
            .find(|(_, i)| i.system.str_value() == Some(ODS_SYSTEM))
        {
            None => cx.rep.add_as(
                "ORG-ODS",
                Some(strength),
                format!("{loc}.identifier"),
                format!("no identifier with system {ODS_SYSTEM}"),
            ),
            Some((j, i)) => match i.value.str_value() {
                Some(v) if !is_ods_code(v) => cx.rep.add(
                    "ORG-ODS",
                    format!("{loc}.identifier[{j}].value"),
                    format!("`{v}` is not an ODS code (3-10 upper-case letters and digits)"),
                ),
                None => cx.rep.add(
                    "ORG-ODS",
                    format!("{loc}.identifier[{j}].value"),
                    "ODS identifier has no value",
                ),
                _ => {}
            },
        }
        if o.name.is_none() {
            cx.rep.add_as(
                "ORG-NAME",
                Some(name_strength),
                format!("{loc}.name"),
                "Organization.name is missing",
            );
        }
    }
}

fn per_event(cx: &mut Ctx, mh: &MessageHeader, at: &str) {
    let Some(et) = cx.event else { return };
    let focus = cx.focus.map(|k| (cx.entries[k].loc(), cx.entries[k].res));
    // Communication focus events
    if et.focus == "Communication" {
        if let Some((loc, Resource::Communication(c))) = &focus {
            if c.status.str_value() != Some("completed") {
                cx.rep.add(
                    "COMM-STATUS",
                    format!("{loc}.status"),
                    "Communication.status must be `completed`",
                );
            }
            if reference(&c.subject).is_none() {
                cx.rep.add(
                    "COMM-STATUS",
                    format!("{loc}.subject"),
                    "Communication.subject (the Patient) is required",
                );
            }
        }
    }
    let orgs = cx.all::<Organization>().count();
    match et.code {
        "pds-birth-notification-1" => birth(cx),
        "pds-change-of-address-1" => {
            if !(1..=2).contains(&orgs) {
                cx.rep.add(
                    "PDS-ORG-COUNT",
                    "Bundle.entry",
                    format!(
                        "1 or 2 Organizations are required (responsible, sender), found {orgs}"
                    ),
                );
            }
            change_of_address(cx);
        }
        "pds-change-of-gp-1" => change_of_gp(cx),
        "pds-death-notification-1" => {
            if !(1..=2).contains(&orgs) {
                cx.rep.add(
                    "PDS-ORG-COUNT",
                    "Bundle.entry",
                    format!(
                        "1 or 2 Organizations are required (responsible, sender), found {orgs}"
                    ),
                );
            }
            death(cx);
        }
        "blood-spot-test-outcome-1" | "newborn-hearing-1" | "nipe-outcome-1" => {
            screening(cx, focus.as_ref().map(|f| (f.0, f.1)))
        }
        "professional-contacts-1" => professional_contacts(cx, focus.as_ref().map(|f| (f.0, f.1))),
        "vaccinations-1" => vaccinations(cx, focus.as_ref().map(|f| (f.0, f.1))),
        _ => {}
    }
    if cx.screening() || et.code == "vaccinations-1" {
        let list: Vec<(Loc, &HealthcareService)> = cx
            .all::<HealthcareService>()
            .map(|(e, h)| (e.loc(), h))
            .collect();
        for (loc, hs) in list {
            for (missing, name) in [
                (hs.provided_by.is_none(), "providedBy"),
                (hs.type_.is_empty(), "type"),
                (hs.specialty.is_empty(), "specialty"),
            ] {
                if missing {
                    cx.rep.add(
                        "HS-SPECIALTY",
                        format!("{loc}.{name}"),
                        format!("HealthcareService.{name} is required for this event"),
                    );
                }
            }
        }
    }
    let _ = (mh, at);
}

fn coding_is(c: &Coding, system: &str, code: &str) -> bool {
    c.system.str_value() == Some(system) && c.code.str_value() == Some(code)
}

fn birth(cx: &mut Ctx) {
    // RelatedPerson
    let rps: Vec<(Loc, &RelatedPerson)> = cx
        .all::<RelatedPerson>()
        .map(|(e, r)| (e.loc(), r))
        .collect();
    for (loc, rp) in rps {
        let ok = rp.relationship.as_ref().is_some_and(|cc| {
            cc.coding.len() == 1
                && coding_is(&cc.coding[0], "http://hl7.org/fhir/v3/RoleCode", "NMTH")
                && cc.coding[0].display.str_value() == Some("natural mother")
        });
        if !ok {
            cx.rep.add(
                "BN-RELATIONSHIP",
                format!("{loc}.relationship"),
                "relationship must be one coding http://hl7.org/fhir/v3/RoleCode NMTH `natural mother`",
            );
        }
        if rp.patient.is_none() {
            cx.rep.add(
                "BN-RELATIONSHIP",
                format!("{loc}.patient"),
                "RelatedPerson.patient (the baby) is required",
            );
        }
    }
    // registering authority
    let ra: Vec<Option<&str>> = cx
        .all::<EpisodeOfCare>()
        .filter(|(_, e)| {
            e.type_.iter().any(|t| {
                t.coding
                    .iter()
                    .any(|c| c.code.str_value() == Some("registering-authority"))
            })
        })
        .map(|(_, e)| reference(&e.managing_organization))
        .collect();
    if ra.len() != 1 {
        cx.rep.add(
            "BN-REGISTERING-AUTHORITY",
            "Bundle.entry",
            format!(
                "exactly one registering-authority EpisodeOfCare is required, found {}",
                ra.len()
            ),
        );
    } else if !ra[0]
        .and_then(|r| cx.resolve(r))
        .is_some_and(|e| matches!(e.res, Resource::Organization(_)))
    {
        cx.rep.add(
            "BN-REGISTERING-AUTHORITY",
            "Bundle.entry",
            "the registering-authority EpisodeOfCare must point at an Organization in the bundle",
        );
    }
    // baby
    let (_, baby) = birth_roles(cx);
    if let Some(k) = baby {
        let loc = cx.entries[k].loc();
        if let Some(p) = cx.entries[k].res.get::<Patient>() {
            if p.gender.is_none() {
                cx.rep.add(
                    "BN-BABY",
                    format!("{loc}.gender"),
                    "the baby's gender is required",
                );
            }
            if p.birth_date
                .as_ref()
                .is_none_or(|b| ext(b.extension(), BIRTH_TIME_URL).is_none())
            {
                cx.rep.add("BN-BABY", format!("{loc}.birthDate"), "the baby's birthDate with the patient-birthTime extension (delivery time) is required");
            }
            if !matches!(p.multiple_birth, Some(PatientMultipleBirth::Integer(_))) {
                cx.rep.add(
                    "BN-BABY",
                    format!("{loc}.multipleBirth"),
                    "multipleBirthInteger (birth order) is required",
                );
            }
            if ext(&p.extension, ETHNIC_URL).is_none() {
                cx.rep.add(
                    "BN-BABY",
                    format!("{loc}.extension"),
                    "the ethnic category extension is required",
                );
            }
        }
    } else {
        cx.rep.add(
            "BN-BABY",
            "Bundle.entry",
            "no baby Patient (RelatedPerson.patient) in the bundle",
        );
    }
    // observations: fixed SNOMED codings and displays
    const FIXED: [(&str, &str); 5] = [
        (
            "382341000000101",
            "Total number of registerable births at delivery",
        ),
        ("364589006", "Birth weight"),
        ("412726003", "Length of gestation at birth"),
        ("237364002", "Stillbirth"),
        ("1097291000000101", "Suspected congenital abnormality"),
    ];
    let obs: Vec<(Loc, &Observation)> =
        cx.all::<Observation>().map(|(e, o)| (e.loc(), o)).collect();
    for (loc, o) in obs {
        let Some(code) = &o.code else { continue };
        for (j, c) in code.coding.iter().enumerate() {
            if c.system.str_value() != Some(SCT) {
                continue;
            }
            if let Some((_, d)) = FIXED.iter().find(|(k, _)| Some(*k) == c.code.str_value()) {
                if c.display.str_value() != Some(d) {
                    cx.rep.add(
                        "BN-OBSERVATION",
                        format!("{loc}.code.coding[{j}].display"),
                        format!(
                            "display must be `{d}`, found `{}`",
                            c.display.str_value().unwrap_or("(missing)")
                        ),
                    );
                }
                if c.code.str_value() == Some("364589006") {
                    let ok = o.category.iter().any(|cat| {
                        cat.coding.iter().any(|x| {
                            coding_is(x, "http://hl7.org/fhir/observation-category", "vital-signs")
                                && x.display.str_value() == Some("Vital Signs")
                        })
                    });
                    if !ok {
                        cx.rep.add(
                            "BN-OBSERVATION",
                            format!("{loc}.category"),
                            "the birth-weight category must be observation-category vital-signs `Vital Signs`",
                        );
                    }
                }
            }
        }
    }
}

fn change_of_address(cx: &mut Ctx) {
    let Some((loc, p)) = cx.subject_patient() else {
        return;
    };
    for want in ["home", "old"] {
        match p
            .address
            .iter()
            .enumerate()
            .find(|(_, a)| a.use_.str_value() == Some(want))
        {
            None => cx.rep.add(
                "COA-ADDRESS",
                format!("{loc}.address"),
                format!("the {want} address (use = {want}) is required"),
            ),
            Some((j, a)) => {
                let al = format!("{loc}.address[{j}]");
                if a.line.is_empty() {
                    cx.rep.add(
                        "COA-ADDRESS",
                        format!("{al}.line"),
                        "address lines are required",
                    );
                }
                if a.postal_code.is_none() {
                    cx.rep.add(
                        "COA-ADDRESS",
                        format!("{al}.postalCode"),
                        "postalCode is required",
                    );
                }
                if a.text.is_none() {
                    cx.rep.add(
                        "COA-ADDRESS-TEXT",
                        format!("{al}.text"),
                        "address.text (the whole address as text) is required",
                    );
                }
                if a.period
                    .as_ref()
                    .and_then(|p| p.start.str_value())
                    .is_none()
                {
                    cx.rep.add(
                        "COA-ADDRESS",
                        format!("{al}.period.start"),
                        "period.start is required",
                    );
                }
                if a.city.is_some() || a.district.is_some() {
                    cx.rep.add("COA-ADDRESS", al.clone(), "PDS does not separate town/district: all lines go in `line`, never `city`/`district`");
                }
            }
        }
    }
}

fn change_of_gp(cx: &mut Ctx) {
    let eocs: Vec<(Loc, &EpisodeOfCare)> = cx
        .all::<EpisodeOfCare>()
        .map(|(e, x)| (e.loc(), x))
        .collect();
    if eocs.len() > 1 {
        cx.rep.add(
            "COGP-EOC",
            "Bundle.entry",
            "at most one EpisodeOfCare (the previous registration)",
        );
    }
    for (loc, eoc) in eocs {
        if eoc.status.str_value() != Some("finished") {
            cx.rep.add(
                "COGP-EOC",
                format!("{loc}.status"),
                "the previous registration's status must be `finished`",
            );
        }
        let ok_type = eoc.type_.iter().any(|t| {
            t.coding.iter().any(|c| {
                coding_is(
                    c,
                    "https://fhir.nhs.uk/STU3/CodeSystem/EMS-PDS-PatientCareProvisionType-1",
                    "1",
                )
            })
        });
        if !ok_type {
            cx.rep.add(
                "COGP-EOC",
                format!("{loc}.type"),
                "type must be EMS-PDS-PatientCareProvisionType-1 `1` Primary care",
            );
        }
        if eoc.patient.is_none() {
            cx.rep
                .add("COGP-EOC", format!("{loc}.patient"), "patient is required");
        }
        if reference(&eoc.managing_organization)
            .and_then(|r| cx.index_of(r))
            .is_none()
        {
            cx.rep.add(
                "COGP-EOC",
                format!("{loc}.managingOrganization"),
                "managingOrganization (the previous practice) must be in the bundle",
            );
        }
    }
    // 10.3 states `partOf 1..1` on the Organization row, which covers every
    // Organization of the message (practices and any other referenced
    // organisation), not only the practices
    let missing: Vec<Loc> = cx
        .all::<Organization>()
        .filter(|(_, o)| o.part_of.is_none())
        .map(|(e, _)| e.loc())
        .collect();
    for loc in missing {
        cx.rep.add(
            "COGP-ORG-PARTOF",
            format!("{loc}.partOf"),
            "every Organization of a change-of-GP message needs partOf (its commissioning organisation)",
        );
    }
}

fn death(cx: &mut Ctx) {
    let Some((loc, p)) = cx.subject_patient() else {
        return;
    };
    let status = ext(&p.extension, DEATH_URL);
    let code = status
        .and_then(|x| ext(&x.extension, "deathNotificationStatus"))
        .and_then(|x| match &x.value {
            Some(ExtensionValue::CodeableConcept(cc)) => {
                cc.coding.first().and_then(|c| c.code.str_value())
            }
            _ => None,
        });
    let xl = format!("{loc}.extension('{DEATH_URL}')");
    match code {
        None => cx.rep.add(
            "DEATH-STATUS",
            xl.clone(),
            "the deathNotificationStatus extension with a status code is required",
        ),
        Some(c) if !matches!(c, "1" | "2" | "U") => cx.rep.add(
            "DEATH-STATUS",
            xl.clone(),
            format!("status `{c}` is not 1, 2 or U"),
        ),
        _ => {}
    }
    if status.is_some()
        && status
            .and_then(|x| ext(&x.extension, "systemEffectiveDate"))
            .is_none()
    {
        cx.rep.add(
            "DEATH-STATUS",
            format!("{xl}.extension('systemEffectiveDate')"),
            "systemEffectiveDate is required",
        );
    }
    let deceased = matches!(p.deceased, Some(PatientDeceased::DateTime(_)));
    match code {
        Some("1" | "2") if !deceased => cx.rep.add(
            "DEATH-DECEASED",
            format!("{loc}.deceased"),
            "deceasedDateTime is required for informal and formal deaths",
        ),
        Some("U") if p.deceased.is_some() => cx.rep.add(
            "DEATH-DECEASED",
            format!("{loc}.deceased"),
            "deceased must be absent when the status is removed (U)",
        ),
        _ => {}
    }
}

fn screening(cx: &mut Ctx, focus: Option<(Loc, &Resource)>) {
    let Some((loc, Resource::Encounter(enc))) = focus else {
        return;
    };
    if enc.identifier.is_empty() {
        cx.rep.add(
            "SCREENING-ENCOUNTER",
            format!("{loc}.identifier"),
            "Encounter.identifier (the publisher's persistent record id) is required",
        );
    }
    if cx.is_delete() {
        return;
    }
    for (missing, name) in [
        (enc.type_.is_empty(), "type"),
        (enc.service_provider.is_none(), "serviceProvider"),
        (enc.subject.is_none(), "subject"),
    ] {
        if missing {
            cx.rep.add(
                "SCREENING-ENCOUNTER",
                format!("{loc}.{name}"),
                format!("Encounter.{name} is required in a new message"),
            );
        }
    }
    if (cx.is("newborn-hearing-1") || cx.is("nipe-outcome-1"))
        && enc
            .period
            .as_ref()
            .and_then(|p| p.start.str_value())
            .is_none()
    {
        cx.rep.add(
            "SCREENING-ENCOUNTER",
            format!("{loc}.period.start"),
            "Encounter.period.start is required in a new message",
        );
    }
}

fn professional_contacts(cx: &mut Ctx, focus: Option<(Loc, &Resource)>) {
    let Some((loc, Resource::EpisodeOfCare(eoc))) = focus else {
        return;
    };
    for (missing, name) in [
        (eoc.identifier.is_empty(), "identifier"),
        (eoc.status.is_none(), "status"),
        (eoc.type_.is_empty(), "type"),
        (eoc.managing_organization.is_none(), "managingOrganization"),
    ] {
        if missing {
            cx.rep.add(
                "PC-EOC",
                format!("{loc}.{name}"),
                format!("EpisodeOfCare.{name} is required"),
            );
        }
    }
    if let Some(k) = reference(&eoc.managing_organization).and_then(|r| cx.index_of(r)) {
        if let Some(o) = cx.entries[k].res.get::<Organization>() {
            if o.telecom.is_empty() {
                let l = cx.entries[k].loc();
                cx.rep.add(
                    "PC-ORG-TELECOM",
                    format!("{l}.telecom"),
                    "the Organization managing the episode must have contact details",
                );
            }
        }
    }
}

fn vaccinations(cx: &mut Ctx, focus: Option<(Loc, &Resource)>) {
    let Some((loc, Resource::Immunization(im))) = focus else {
        return;
    };
    for (missing, name) in [
        (ext(&im.extension, VACC_PROC_URL).is_none(), "extension"),
        (im.identifier.is_empty(), "identifier"),
        (im.not_given.is_none(), "notGiven"),
        (im.vaccine_code.is_none(), "vaccineCode"),
        (im.date.is_none(), "date"),
        (im.primary_source.is_none(), "primarySource"),
    ] {
        if missing {
            let what = if name == "extension" {
                "the vaccinationProcedure extension".to_string()
            } else {
                format!("Immunization.{name}")
            };
            cx.rep.add(
                "VACC-IMMUNIZATION",
                format!("{loc}.{name}"),
                format!("{what} is required"),
            );
        }
    }
    let not_given = im.not_given.as_ref().and_then(|b| b.value) == Some(true);
    let has_reason = im
        .explanation
        .as_ref()
        .is_some_and(|e| !e.reason_not_given.is_empty());
    if not_given && !has_reason {
        cx.rep.add(
            "VACC-IMMUNIZATION",
            format!("{loc}.explanation.reasonNotGiven"),
            "reasonNotGiven is required when notGiven is true",
        );
    }
    if let Some(vc) = &im.vaccine_code {
        for (j, c) in vc.coding.iter().enumerate() {
            if c.system.str_value() == Some("http://hl7.org/fhir/v3/NullFlavor")
                && !matches!(c.code.str_value(), Some("NAVU" | "UNC" | "UNK"))
            {
                cx.rep.add(
                    "VACC-VACCINECODE",
                    format!("{loc}.vaccineCode.coding[{j}]"),
                    format!(
                        "NullFlavor `{}` is not in CareConnect-VaccineCode-1 (NAVU, UNC, UNK)",
                        c.code.str_value().unwrap_or("")
                    ),
                );
            }
        }
    }
}
