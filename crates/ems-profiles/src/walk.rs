//! Checks that apply to every element of every resource, found by walking
//! the model through the `ems_stu3::node` reflection layer: NEMS dateTime
//! forms, codings against the embedded code systems, and `urn:uuid:`
//! references that do not resolve inside the bundle.

use crate::codes::{code_system, CODE_SYSTEMS};
use crate::fnv::FnvMap;
use crate::rules::id as R;
use crate::rules::Report;
use ems_stu3::lexical;
use ems_stu3::node::{find_field, ChoiceRef, FieldKind, FieldRef, Node};
use ems_stu3::primitive::{PrimKind, PrimNode};
use ems_stu3::{PathStack, Resource};

/// The required-element mask cache: direct-mapped by TypeDesc address,
/// `(address, mask)` per slot.
type RequiredCache = [(usize, u128); 512];

thread_local! {
    /// Each thread's [`RequiredCache`], kept between walks (the masks are
    /// properties of the static tables), so a walk starts with warm slots
    /// instead of clearing and refilling 8 KiB.
    static REQUIRED: std::cell::Cell<Option<Box<RequiredCache>>> =
        const { std::cell::Cell::new(None) };
}

/// Element slots of the datatypes the walk inspects by name, looked up in
/// the STU3 tables once per process instead of once per node.
struct Slots {
    coding: [Option<usize>; 3],
    reference: Option<usize>,
    contact_point: [Option<usize>; 2],
    /// Presence bits of `Extension.value` and `Extension.extension` (ext-1).
    extension: [u128; 2],
}

fn slots() -> &'static Slots {
    static SLOTS: std::sync::OnceLock<Slots> = std::sync::OnceLock::new();
    SLOTS.get_or_init(|| {
        let at = |d: &ems_stu3::node::TypeDesc, name: &str| find_field(d, name, 0).map(|(i, _)| i);
        let (c, r, cp, x) = (
            &ems_stu3::CODING_DESC,
            &ems_stu3::REFERENCE_DESC,
            &ems_stu3::CONTACTPOINT_DESC,
            &ems_stu3::EXTENSION_DESC,
        );
        let bit = |name: &str| {
            x.fields
                .iter()
                .position(|f| f.name == name)
                .filter(|&i| i < 128)
                .map_or(0, |i| 1u128 << i)
        };
        Slots {
            coding: [at(c, "system"), at(c, "code"), at(c, "display")],
            reference: at(r, "reference"),
            contact_point: [at(cp, "system"), at(cp, "value")],
            extension: [bit("value"), bit("extension")],
        }
    })
}

struct Walker<'r, 'u> {
    /// Each TypeDesc's required-element mask: the base layer's minimums
    /// without a field loop per node.
    required: Box<RequiredCache>,
    rep: &'r mut Report,
    path: PathStack,
    full_urls: Option<&'u FnvMap<&'u str, usize>>,
    slots: &'static Slots,
}

/// Walks `r`; `full_urls` (the bundle's entry fullUrls) enables the
/// unresolved-reference check.
pub(crate) fn walk(r: &Resource, rep: &mut Report, full_urls: Option<&FnvMap<&str, usize>>) {
    let required = REQUIRED
        .with(|c| c.take())
        .unwrap_or_else(|| Box::new([(0, 0); 512]));
    let mut w = Walker {
        required,
        rep,
        path: PathStack::default(),
        full_urls,
        slots: slots(),
    };
    w.path.push(r.resource_type(), None, None);
    w.node(r.as_node());
    REQUIRED.with(|c| c.set(Some(w.required)));
}

/// The string value of the primitive in slot `i` of `n` (a slot from
/// [`Slots`]; `desc` is `n`'s table), borrowed. Sets bit `i` of `done` when
/// the element loop has nothing to check on it ([`checked`] is false), so
/// that the loop does not fetch it again.
#[inline]
fn prim_at<'a>(
    n: &'a dyn Node,
    desc: &ems_stu3::node::TypeDesc,
    i: Option<usize>,
    done: &mut u128,
) -> Option<&'a str> {
    let i = i?;
    match n.field(i) {
        FieldRef::Prim(Some(p)) => {
            if let Some(f) = desc.fields.get(i).filter(|_| i < 128) {
                if matches!(f.kind, FieldKind::Prim(k) if !checked(f, k, p)) {
                    *done |= 1 << i;
                }
            }
            p.value_str()
        }
        _ => None,
    }
}

/// A string-valued primitive element of `n`, borrowed. `hint` is where the
/// element normally sits in the table (checked first, so the usual lookup is
/// one comparison).
fn prim_str<'a>(n: &'a dyn Node, name: &str, hint: usize) -> Option<&'a str> {
    let (i, _) = find_field(n.desc(), name, hint)?;
    match n.field(i) {
        FieldRef::Prim(Some(p)) => p.value_str(),
        _ => None,
    }
}

/// Whether element `name` of `n` holds something.
fn prim_or_list_present(n: &dyn Node, name: &str) -> bool {
    find_field(n.desc(), name, 0).is_some_and(|(i, _)| ems_stu3::node::is_present(&n.field(i)))
}

/// Whether primitive `p` of element `f` has anything for the walk to check:
/// a complete required binding, a NEMS dateTime/instant form, or extensions.
#[inline]
fn checked(f: &ems_stu3::node::FieldDesc, k: PrimKind, p: &dyn PrimNode) -> bool {
    (f.codes_complete && !f.codes.is_empty())
        || matches!(k, PrimKind::DateTime | PrimKind::Instant)
        || !p.extension().is_empty()
}

impl Walker<'_, '_> {
    /// The base STU3 layer: minimum cardinalities from the element tables
    /// (`SCHEMA-MIN`), `ele-1` (an element has a value or children) and
    /// `ext-1` (an extension has a value or extensions, not both). A base
    /// finding is dropped where a NEMS rule already reports the element.
    fn base(&mut self, desc: &'static ems_stu3::node::TypeDesc, present: u128) {
        if present == 0 && !desc.is_resource {
            let loc = self.path.render(None);
            self.rep.add(
                R::ELE_1,
                loc,
                "ele-1: the element has neither a value nor children",
            );
            return;
        }
        let addr = desc as *const ems_stu3::node::TypeDesc as usize;
        // Fibonacci hashing of the address: the top nine bits pick the slot
        let slot = &mut self.required
            [(((addr as u64) >> 3).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 55) as usize];
        if slot.0 != addr {
            let mut m = 0u128;
            for (i, f) in desc.fields.iter().enumerate().take(128) {
                if f.min > 0 {
                    m |= 1 << i;
                }
            }
            *slot = (addr, m);
        }
        let mut missing = slot.1 & !present;
        while missing != 0 {
            let i = missing.trailing_zeros() as usize;
            missing &= missing - 1;
            let f = &desc.fields[i];
            let loc = self.path.render(Some(f.name));
            if !self.rep.has_at(&loc) {
                self.rep.add(
                    R::SCHEMA_MIN,
                    loc,
                    format!(
                        "{}.{} is required (STU3 {}..{})",
                        desc.name,
                        f.name,
                        f.min,
                        if f.many { "*" } else { "1" }
                    ),
                );
            }
        }
        if std::ptr::eq(desc, &ems_stu3::EXTENSION_DESC) {
            let [value, children] = self.slots.extension.map(|b| present & b != 0);
            if value == children {
                let loc = self.path.render(None);
                self.rep.add(
                    R::EXT_1,
                    loc,
                    if value {
                        "ext-1: an extension has a value or nested extensions, not both"
                    } else {
                        "ext-1: an extension needs a value or nested extensions"
                    },
                );
            }
        }
    }

    /// `dom-2` (no nested contained) and `dom-4` (no meta.versionId or
    /// meta.lastUpdated) on a contained resource.
    fn contained(&mut self, r: &Resource) {
        let n = r.as_node();
        if prim_or_list_present(n, "contained") {
            let loc = self.path.render(Some("contained"));
            self.rep.add(
                R::DOM_2,
                loc,
                "dom-2: a contained resource cannot contain resources",
            );
        }
        if let Some((i, _)) = find_field(n.desc(), "meta", 0) {
            if let FieldRef::One(Some(m)) = n.field(i) {
                if prim_str(m, "versionId", 0).is_some() || prim_str(m, "lastUpdated", 0).is_some()
                {
                    let loc = self.path.render(Some("meta"));
                    self.rep.add(
                        R::DOM_4,
                        loc,
                        "dom-4: a contained resource carries no meta.versionId or meta.lastUpdated",
                    );
                }
            }
        }
    }

    fn node(&mut self, n: &dyn Node) {
        let desc = n.desc();
        let present = n.present();
        self.base(desc, present);
        // the type checks, by table identity (no name comparisons per node);
        // `done`: the primitives they fetched that need nothing more
        let mut done = 0u128;
        if std::ptr::eq(desc, &ems_stu3::CODING_DESC) {
            self.coding(n, desc, &mut done);
        } else if std::ptr::eq(desc, &ems_stu3::REFERENCE_DESC) {
            self.reference(n, desc, &mut done);
        } else if std::ptr::eq(desc, &ems_stu3::CONTACTPOINT_DESC) {
            self.contact_point(n, desc, &mut done);
        }
        // the elements the value holds, in schema order (the bits of `present`)
        let mut bits = present & !done;
        while bits != 0 {
            let i = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            let Some(f) = desc.fields.get(i) else { break };
            match n.field(i) {
                FieldRef::Prim(Some(p)) => {
                    if let FieldKind::Prim(k) = f.kind {
                        if checked(f, k, p) {
                            self.path.push(f.name, None, None);
                            self.bound(desc.name, f, p);
                            self.prim(k, p);
                            self.path.pop();
                        }
                    }
                }
                FieldRef::PrimList(v) => {
                    if let FieldKind::Prim(k) = f.kind {
                        for j in 0..v.len() {
                            if let Some(p) = v.get(j).filter(|p| checked(f, k, *p)) {
                                self.path.push(f.name, Some(j), None);
                                self.bound(desc.name, f, p);
                                self.prim(k, p);
                                self.path.pop();
                            }
                        }
                    }
                }
                FieldRef::One(Some(c)) => {
                    self.path.push(f.name, None, None);
                    self.node(c);
                    self.path.pop();
                }
                FieldRef::Many(v) => {
                    for j in 0..v.len() {
                        if let Some(c) = v.get(j) {
                            self.path.push(f.name, Some(j), None);
                            self.node(c);
                            self.path.pop();
                        }
                    }
                }
                FieldRef::Choice(Some((a, v))) => {
                    if let FieldKind::Choice(alts) = &f.kind {
                        match v {
                            ChoiceRef::Prim(p) => {
                                let k = alts[a].prim.unwrap_or(PrimKind::String);
                                if checked(f, k, p) {
                                    self.path.push(f.name, None, Some(alts[a].type_name));
                                    self.prim(k, p);
                                    self.path.pop();
                                }
                            }
                            ChoiceRef::Node(c) => {
                                self.path.push(f.name, None, Some(alts[a].type_name));
                                self.node(c);
                                self.path.pop();
                            }
                        }
                    }
                }
                FieldRef::Resource(Some(r)) => {
                    self.path.push(f.name, None, None);
                    self.path.push("", None, Some(r.resource_type()));
                    self.node(r.as_node());
                    self.path.pop();
                    self.path.pop();
                }
                FieldRef::Resources(v) => {
                    for (j, r) in v.iter().enumerate() {
                        self.path.push(f.name, Some(j), None);
                        self.path.push("", None, Some(r.resource_type()));
                        if f.name == "contained" {
                            self.contained(r);
                        }
                        self.node(r.as_node());
                        self.path.pop();
                        self.path.pop();
                    }
                }
                _ => {}
            }
        }
    }

    /// Required bindings to core value sets (`codes` of the STU3 element
    /// table); partial lists (`codes_complete == false`) are not enforced.
    fn bound(&mut self, owner: &str, f: &ems_stu3::node::FieldDesc, p: &dyn PrimNode) {
        if f.codes.is_empty() || !f.codes_complete {
            return;
        }
        if let Some(v) = p.value_str() {
            if !f.codes.contains(&v) {
                let loc = self.path.render(None);
                self.rep.add(
                    R::CODE_INVALID,
                    loc,
                    format!(
                        "`{v}` is not an allowed {owner}.{} code ({})",
                        f.name,
                        f.codes.join(", ")
                    ),
                );
            }
        }
    }

    fn contact_point(&mut self, n: &dyn Node, desc: &ems_stu3::node::TypeDesc, done: &mut u128) {
        let [system, value] = self.slots.contact_point;
        let (Some(system), Some(value)) = (
            prim_at(n, desc, system, done),
            prim_at(n, desc, value, done),
        ) else {
            return;
        };
        if !crate::contact::shape_ok(system, value) {
            let loc = self.path.render(Some("value"));
            self.rep.add(
                R::CONTACTPOINT_VALUE,
                loc,
                format!("`{value}` does not look like a {system} contact"),
            );
        }
    }

    fn prim(&mut self, kind: PrimKind, p: &dyn PrimNode) {
        if matches!(kind, PrimKind::DateTime | PrimKind::Instant) {
            if let Some(s) = p.value_str() {
                let ok = if kind == PrimKind::Instant {
                    lexical::is_instant(s)
                } else {
                    lexical::is_date_time(s)
                };
                if !ok {
                    let what = if kind == PrimKind::Instant {
                        "an instant"
                    } else {
                        "a dateTime"
                    };
                    let loc = self.path.render(None);
                    self.rep.add(
                        R::DATETIME_FORMAT,
                        loc,
                        format!("`{s}` is not {what} in the NEMS form: a time needs seconds and a UTC offset between -13:59 and +14:00 (Z or ±hh:mm)"),
                    );
                }
            }
        }
        for (j, x) in p.extension().iter().enumerate() {
            self.path.push("extension", Some(j), None);
            self.node(x);
            self.path.pop();
        }
    }

    fn reference(&mut self, n: &dyn Node, desc: &ems_stu3::node::TypeDesc, done: &mut u128) {
        let Some(urls) = self.full_urls else { return };
        if let Some(r) = prim_at(n, desc, self.slots.reference, done) {
            // `urn:uuid:X` also resolves to an entry whose fullUrl is the
            // bare UUID X (FULLURL-FORMAT reports that fullUrl)
            let bare = |id: &str| lexical::is_uuid(id) && urls.contains_key(id);
            let resolved = urls.contains_key(r) || r.strip_prefix("urn:uuid:").is_some_and(bare);
            if r.starts_with("urn:uuid:") && !resolved {
                let loc = self.path.render(Some("reference"));
                self.rep.add(
                    R::REF_UNRESOLVED,
                    loc,
                    format!("`{r}` does not match the fullUrl of any entry in the bundle"),
                );
            }
        }
    }

    fn coding(&mut self, n: &dyn Node, desc: &ems_stu3::node::TypeDesc, done: &mut u128) {
        let [system, code, display] = self.slots.coding.map(|i| prim_at(n, desc, i, done));
        let Some(system) = system else {
            if let Some(c) = code {
                let loc = self.path.render(None);
                self.rep.add(
                    R::CODING_NO_SYSTEM,
                    loc,
                    format!("coding `{c}` has no system, so its meaning is not defined"),
                );
            }
            return;
        };
        if let Some(cs) = code_system(system) {
            let Some(code) = code else { return };
            match cs.display(code) {
                None if cs.complete => {
                    let loc = self.path.render(Some("code"));
                    self.rep.add(
                        R::CODE_INVALID,
                        loc,
                        format!("`{code}` is not a code of {system}"),
                    );
                }
                Some(d) => {
                    if let Some(disp) = display {
                        if disp != d {
                            let loc = self.path.render(Some("display"));
                            self.rep.add(R::CODE_DISPLAY, loc, format!("display `{disp}` for {code} differs from the code system display `{d}`"));
                        }
                    }
                }
                None => {}
            }
            return;
        }
        let nhs = system.starts_with(ems_nhs::vocab::NHS_FHIR_BASE)
            || system.starts_with(ems_nhs::vocab::HL7_UK_FHIR_BASE);
        if !nhs || system.contains("/Id/") {
            return;
        }
        let loc = self.path.render(Some("system"));
        if system.contains("/ValueSet/") {
            self.rep.add(
                R::CODING_SYSTEM,
                loc,
                format!("`{system}` is a ValueSet URL, not a code system; use the code system of the codes (e.g. http://snomed.info/sct)"),
            );
        } else {
            let last = system.rsplit('/').next().unwrap_or("");
            // same last path segment: a suffix compare per candidate
            let hint = CODE_SYSTEMS
                .iter()
                .find(|c| {
                    c.url
                        .strip_suffix(last)
                        .is_some_and(|head| head.ends_with('/'))
                })
                .map(|c| format!("; did you mean {}?", c.url))
                .unwrap_or_default();
            self.rep.add(
                R::CODING_SYSTEM,
                loc,
                format!("`{system}` is not a known NHS or HL7 UK code system{hint}"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Mode;
    use ems_stu3::{CodeableConcept, Coding, Patient, Primitive};

    fn coding_findings(system: &str) -> Vec<String> {
        let p = Patient {
            marital_status: Some(CodeableConcept {
                coding: vec![Coding {
                    system: Some(Primitive::from(system)),
                    code: Some(Primitive::from("x")),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            ..Default::default()
        };
        let mut rep = Report::new(Mode::Publish);
        walk(&Resource::from(p), &mut rep, None);
        rep.finish()
            .issues
            .into_iter()
            .filter(|i| i.rule == R::CODING_SYSTEM)
            .map(|i| i.message)
            .collect()
    }

    /// An unknown NHS code system URL gets a hint when a known code system
    /// has the same last path segment, and only then.
    #[test]
    fn unknown_code_system_hint() {
        let m = coding_findings(
            "https://fhir.hl7.org.uk/STU3/CareConnect-NHSNumberVerificationStatus-1",
        );
        assert_eq!(m.len(), 1);
        assert!(
            m[0].ends_with("did you mean https://fhir.hl7.org.uk/STU3/CodeSystem/CareConnect-NHSNumberVerificationStatus-1?"),
            "{}",
            m[0]
        );
        // a suffix of a segment is not the same segment
        let m = coding_findings("https://fhir.nhs.uk/STU3/CodeSystem/Type-1");
        assert_eq!(m.len(), 1);
        assert!(!m[0].contains("did you mean"), "{}", m[0]);
        // known systems and identifier systems are not reported
        assert!(coding_findings("https://fhir.nhs.uk/STU3/CodeSystem/EventType-1").is_empty());
        assert!(coding_findings("https://fhir.nhs.uk/Id/nhs-number").is_empty());
    }

    /// The primitives the Coding and Reference checks fetch are still
    /// walked when they carry extensions (the element loop skips only those
    /// with nothing to check): an empty extension on `Coding.code` and on
    /// `Reference.reference` is reported (ext-1) at its own location.
    #[test]
    fn extensions_on_type_checked_primitives_are_walked() {
        let empty = || ems_stu3::Extension {
            url: Some("http://example.org/x".into()),
            ..Default::default()
        };
        let p = Patient {
            marital_status: Some(CodeableConcept {
                coding: vec![Coding {
                    system: Some(Primitive::from("http://snomed.info/sct")),
                    code: Some(Primitive::from("x").with_extension(empty())),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            managing_organization: Some(ems_stu3::Reference {
                reference: Some(Primitive::from("Organization/1").with_extension(empty())),
                ..Default::default()
            }),
            ..Default::default()
        };
        let urls: FnvMap<&str, usize> = FnvMap::default();
        let mut rep = Report::new(Mode::Publish);
        walk(&Resource::from(p), &mut rep, Some(&urls));
        let at: Vec<String> = rep
            .finish()
            .issues
            .into_iter()
            .filter(|i| i.rule == R::EXT_1)
            .map(|i| i.location)
            .collect();
        assert_eq!(
            at,
            [
                "Patient.maritalStatus.coding[0].code.extension[0]",
                "Patient.managingOrganization.reference.extension[0]"
            ]
        );
    }

    fn unresolved(full_url: &str, reference: &str) -> bool {
        let p = Patient {
            managing_organization: Some(ems_stu3::Reference {
                reference: Some(Primitive::from(reference)),
                ..Default::default()
            }),
            ..Default::default()
        };
        let urls: FnvMap<&str, usize> = [(full_url, 0)].into_iter().collect();
        let mut rep = Report::new(Mode::Publish);
        walk(&Resource::from(p), &mut rep, Some(&urls));
        rep.finish()
            .issues
            .iter()
            .any(|i| i.rule == R::REF_UNRESOLVED)
    }

    /// `urn:uuid:X` resolves to fullUrl `urn:uuid:X`, or to a bare-UUID
    /// fullUrl X; not to a bare fullUrl that is no UUID.
    #[test]
    fn reference_resolution() {
        let u = "5d5845f3-398f-474b-af59-14882fc7b0ca";
        let urn = format!("urn:uuid:{u}");
        assert!(!unresolved(&urn, &urn));
        assert!(!unresolved(u, &urn));
        assert!(unresolved("foo", "urn:uuid:foo"));
        assert!(unresolved(
            &urn,
            "urn:uuid:3ff6d789-af64-4d9c-aa1d-0087d29e9e1c"
        ));
        // only urn:uuid references are checked
        assert!(!unresolved(&urn, "Patient/1"));
    }
}
