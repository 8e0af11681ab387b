//! Event-message rules: Bundle (2.1), Event-MessageHeader-1 (2.2),
//! CareConnect Patient and Organization (2.5, 2.6) and the per-event rules of
//! section 10.

use crate::rules::id as R;
use crate::rules::{Report, Strength};
use crate::urls::FullUrls;
use ems_match::{event_type, EventType, NhsNumber};
use ems_stu3::lexical::is_uuid;
use ems_stu3::*;
use std::collections::HashSet;

pub(crate) mod header;
mod logic;
mod resources;

use header::*;
use logic::*;
use resources::*;

pub const ROUTING_URL: &str = ems_nhs::vocab::ROUTING_DEMOGRAPHICS_EXTENSION;
pub const MET_URL: &str = ems_nhs::vocab::MESSAGE_EVENT_TYPE_EXTENSION;
pub const NHS_SYSTEM: &str = ems_nhs::vocab::NHS_NUMBER_SYSTEM;
pub const ODS_SYSTEM: &str = ems_nhs::vocab::ODS_ORGANIZATION_SYSTEM;
pub const VERIFICATION_URL: &str = ems_nhs::vocab::NHS_NUMBER_VERIFICATION_STATUS_EXTENSION;
pub const BIRTH_TIME_URL: &str = ems_nhs::vocab::BIRTH_TIME_EXTENSION;
pub const DEATH_URL: &str = ems_nhs::vocab::DEATH_NOTIFICATION_STATUS_EXTENSION;

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

impl Loc {
    /// `Bundle.entry[i].resource.ofType(T).x` (`x` empty: the resource).
    fn join(self, x: &str) -> String {
        entry_loc(self.i, self.ty, x)
    }
}

/// `Bundle.entry[i].resource.ofType(ty).x` (`x` empty: the resource), in
/// one allocation of the right size and without the formatting machinery
/// (findings name their locations this way most often).
pub(crate) fn entry_loc(i: usize, ty: &str, x: &str) -> String {
    let mut s = String::with_capacity(40 + ty.len() + x.len());
    s.push_str("Bundle.entry[");
    ems_stu3::push_decimal(&mut s, i);
    s.push_str("].resource.ofType(");
    s.push_str(ty);
    s.push(')');
    if !x.is_empty() {
        s.push('.');
        s.push_str(x);
    }
    s
}

/// A piece of a finding's text for [`cat`]: a string or a number.
pub(crate) trait Piece {
    /// An upper bound of its length.
    fn len_hint(&self) -> usize;
    /// Appends it as `{}` writes it.
    fn put(&self, s: &mut String);
}

impl Piece for &str {
    fn len_hint(&self) -> usize {
        self.len()
    }
    fn put(&self, s: &mut String) {
        s.push_str(self)
    }
}

impl Piece for String {
    fn len_hint(&self) -> usize {
        self.len()
    }
    fn put(&self, s: &mut String) {
        s.push_str(self)
    }
}

impl Piece for usize {
    fn len_hint(&self) -> usize {
        20
    }
    fn put(&self, s: &mut String) {
        ems_stu3::push_decimal(s, *self)
    }
}

impl Piece for u32 {
    fn len_hint(&self) -> usize {
        10
    }
    fn put(&self, s: &mut String) {
        ems_stu3::push_decimal(s, *self as usize)
    }
}

/// The pieces one after the other, in one allocation and without the
/// formatting machinery: what `format!` of them as `{}` writes (findings
/// are built this way where they are frequent).
pub(crate) fn cat(parts: &[&dyn Piece]) -> String {
    let mut s = String::with_capacity(parts.iter().map(|p| p.len_hint()).sum());
    for p in parts {
        p.put(&mut s);
    }
    s
}

impl From<Loc> for String {
    fn from(l: Loc) -> String {
        l.join("")
    }
}

struct Ctx<'a, 'r> {
    rep: &'r mut Report,
    entries: Vec<Entry<'a>>,
    by_url: FullUrls<'a>,
    event: Option<&'static EventType>,
    /// The messageEventType code (borrowed from the header).
    met: Option<&'a str>,
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
        index_of(&self.entries, &self.by_url, r)
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
        self.met == Some("delete")
    }
    fn pds(&self) -> bool {
        self.event.is_some_and(|e| e.code.starts_with("pds-"))
    }
}

/// Index (in `entries`) of the entry a reference points at.
#[inline]
fn index_of(entries: &[Entry], by_url: &FullUrls, r: &str) -> Option<usize> {
    if let Some(k) = by_url.get(r) {
        return Some(k);
    }
    // a reference to urn:uuid:X finds an entry whose fullUrl is the bare X
    // (FULLURL-FORMAT reports the bare fullUrl): a `FullUrls` lookup (a map
    // past a few entries), so that many unresolved references stay linear
    let id = r.strip_prefix("urn:uuid:")?;
    by_url.get(id).filter(|&k| entries[k].full_url == Some(id))
}

/// The message as the table evaluator sees it.
struct Message<'c, 'a> {
    /// Some fullUrl is used by more than one entry.
    duplicates: bool,
    entries: &'c [Entry<'a>],
    by_url: &'c FullUrls<'a>,
    focus: Option<usize>,
    met: Option<&'c str>,
    event: Option<&'static EventType>,
}

impl<'a> crate::tables::View<'a> for Message<'_, 'a> {
    fn len(&self) -> usize {
        self.entries.len()
    }
    fn res(&self, k: usize) -> &'a Resource {
        self.entries[k].res
    }
    fn bundle_index(&self, k: usize) -> usize {
        self.entries[k].i
    }
    fn resolve(&self, reference: &str) -> Option<usize> {
        index_of(self.entries, self.by_url, reference)
    }
    fn repeated(&self, k: usize) -> bool {
        self.duplicates
            && self.entries[k]
                .full_url
                .is_some_and(|u| self.by_url.get(u) != Some(k))
    }
    fn focus(&self) -> Option<usize> {
        self.focus
    }
    fn met(&self) -> Option<&str> {
        self.met
    }
    fn event(&self) -> Option<&'static EventType> {
        self.event
    }
}

/// Checks the generic rows and the event's table.
fn tables(cx: &mut Ctx, table: Option<&'static crate::tables::Table>) {
    let with_url = cx.entries.iter().filter(|e| e.full_url.is_some()).count();
    let m = Message {
        duplicates: with_url != cx.by_url.len(),
        entries: &cx.entries,
        by_url: &cx.by_url,
        focus: cx.focus,
        met: cx.met,
        event: cx.event,
    };
    match table {
        Some(t) => crate::tables::evaluate(&[&crate::tables::GENERIC, t], &m, cx.rep),
        None => crate::tables::evaluate(&[&crate::tables::GENERIC], &m, cx.rep),
    }
}

/// Validates an event-message Bundle; returns the entry fullUrls (with their
/// indices) for the walk's reference check.
pub(crate) fn validate<'a>(r: &'a Resource, rep: &mut Report) -> Option<FullUrls<'a>> {
    let Some(b) = r.get::<Bundle>() else {
        rep.add(
            R::BUNDLE_TYPE,
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
            R::BUNDLE_TYPE,
            "Bundle.type",
            format!("Bundle.type is `{t}`; an event message has type `message`"),
        ),
        None => rep.add(
            R::BUNDLE_TYPE,
            "Bundle.type",
            "Bundle.type is missing; an event message has type `message`",
        ),
    }
    // sized once: growing it entry by entry reallocated several times per message
    let mut entries = Vec::with_capacity(b.entry.len());
    for (i, e) in b.entry.iter().enumerate() {
        if let Some(res) = &e.resource {
            entries.push(Entry {
                i,
                full_url: e.full_url.str_value(),
                res,
            });
        }
    }
    let mut by_url = FullUrls::with_capacity(entries.len());
    for (k, e) in entries.iter().enumerate() {
        let loc = || format!("Bundle.entry[{}].fullUrl", e.i);
        match e.full_url {
            None => rep.add(
                R::FULLURL_FORMAT,
                loc(),
                "entry has no fullUrl; NEMS uses `urn:uuid:` + the resource id",
            ),
            Some(u) => {
                let urn = u.strip_prefix("urn:uuid:").is_some_and(is_uuid);
                if !urn {
                    rep.add(
                        R::FULLURL_FORMAT,
                        loc(),
                        format!("fullUrl `{u}` is not `urn:uuid:<uuid>`"),
                    );
                } else if let Some(id) = e.res.id() {
                    if &u[9..] != id {
                        rep.add(
                            R::FULLURL_FORMAT,
                            loc(),
                            format!("fullUrl `{u}` does not carry the resource id `{id}`"),
                        );
                    }
                }
                if by_url.insert(u, k).is_some() {
                    rep.add(
                        R::FULLURL_UNIQUE,
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
            R::MH_MISSING,
            "Bundle.entry",
            "the bundle has no MessageHeader, so the event cannot be determined",
        );
        return Some(cx.by_url);
    };
    if cx.entries[mh_pos].i != 0 {
        let loc = cx.entries[mh_pos].loc();
        cx.rep.add(
            R::MH_FIRST,
            loc,
            "the MessageHeader must be the first entry of the bundle",
        );
    }
    let (mh_entry_loc, mh) = {
        let e = &cx.entries[mh_pos];
        (String::from(e.loc()), e.res.get::<MessageHeader>())
    };
    if let Some(mh) = mh {
        header(&mut cx, mh, &mh_entry_loc);
        patients(&mut cx);
        organizations(&mut cx);
        per_event(&mut cx);
        // the event's table, looked up once for the rows and the profiles
        let event_table = cx.event.and_then(|e| crate::tables::event_table(e.code));
        tables(&mut cx, event_table);
        let table = crate::profiles::table_index(event_table);
        let (entries, by_url) = (&cx.entries, &cx.by_url);
        let resolve = |r: &str| index_of(entries, by_url, r).map(|k| entries[k].res);
        for e in entries {
            crate::profiles::check(e.res, &|| String::from(e.loc()), &resolve, table, cx.rep);
        }
    }
    Some(cx.by_url)
}

#[cfg(test)]
mod tests {
    use super::Loc;

    /// `Loc::join` writes what the `Display` form followed by `.x` writes.
    #[test]
    fn loc_join_matches_display() {
        for i in [0, 1, 9, 10, 99, 100, 12345, usize::MAX] {
            let l = Loc { i, ty: "Patient" };
            assert_eq!(l.join("name"), format!("{l}.name"));
            assert_eq!(l.join("a.b"), format!("{l}.a.b"));
            assert_eq!(String::from(l), l.to_string());
        }
    }

    /// `cat` writes what `format!` writes of the same pieces.
    #[test]
    fn cat_matches_format() {
        use super::cat;
        let (a, b) = ("x.y", String::from("zz"));
        for n in [0usize, 7, 10, 4096, usize::MAX] {
            let m = n as u32;
            assert_eq!(
                cat(&[&a, &"[", &n, &"] ", &b, &m, &""]),
                format!("{a}[{n}] {b}{m}")
            );
        }
        assert_eq!(cat(&[]), "");
    }
}
