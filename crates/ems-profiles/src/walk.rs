//! Checks that apply to every element of every resource, found by walking
//! the model with the generated visitor of `ems_stu3::visit` (statically
//! dispatched: no `dyn` call per element): minimum cardinalities, `ele-1`,
//! `ext-1`, `dom-2`/`dom-4`, NEMS dateTime forms, required bindings, codings
//! against the embedded code systems, ContactPoint shapes, and `urn:uuid:`
//! references that do not resolve inside the bundle.

use crate::codes::{code_system, CODE_SYSTEMS};
use crate::event::cat;
use crate::rules::id as R;
use crate::rules::Report;
use crate::urls::FullUrls;
use ems_stu3::lexical;
use ems_stu3::node::{find_field, FieldDesc, TypeDesc};
use ems_stu3::primitive::{PrimKind, PrimValue, Primitive};
use ems_stu3::visit::{PrimSite, Visit, Visitor};
use ems_stu3::{Coding, ContactPoint, Extension, PathStack, Reference, Resource};

struct Walker<'r, 'u> {
    rep: &'r mut Report,
    path: PathStack,
    full_urls: Option<&'u FullUrls<'u>>,
}

/// Walks `r`; `full_urls` (the bundle's entry fullUrls) enables the
/// unresolved-reference check.
pub(crate) fn walk(r: &Resource, rep: &mut Report, full_urls: Option<&FullUrls>) {
    let mut w = Walker {
        rep,
        path: PATH.take(),
        full_urls,
    };
    w.path.push(r.resource_type(), None, None);
    r.visit(&mut w);
    w.path.pop();
    PATH.set(w.path);
}

thread_local! {
    /// Each thread's path stack, empty between walks: kept so that a walk
    /// starts with the room the last one grew instead of growing it again.
    static PATH: std::cell::Cell<PathStack> = std::cell::Cell::new(PathStack::default());
}

/// The value of a string primitive element, inlined (the walk reads a few
/// per Coding, Reference and ContactPoint).
#[inline(always)]
fn text(p: &Option<Primitive<ems_stu3::Str>>) -> Option<&str> {
    p.as_ref().and_then(|p| p.value.as_deref())
}

/// Whether a primitive has anything for the walk to check: a complete
/// required binding, a NEMS dateTime/instant form, or extensions. (`site`
/// holds constants of each generated call site, so the usual primitive costs
/// the extension test only.)
#[inline(always)]
fn checked<T>(site: &PrimSite, p: &Primitive<T>) -> bool {
    site.bound
        || matches!(site.kind, PrimKind::DateTime | PrimKind::Instant)
        || !p.extension().is_empty()
}

impl Visitor for Walker<'_, '_> {
    /// The base STU3 layer: `ele-1` (an element has a value or children) and
    /// minimum cardinalities from the element tables (`SCHEMA-MIN`).
    #[inline]
    fn node(&mut self, desc: &'static TypeDesc, present: u128, required: u128) -> bool {
        if present == 0 && !desc.is_resource {
            self.ele_1();
            return false;
        }
        let missing = required & !present;
        if missing != 0 {
            self.schema_min(desc, missing);
        }
        true
    }

    fn coding(&mut self, c: &Coding) {
        self.check_coding(c)
    }

    fn reference(&mut self, r: &Reference) {
        self.check_reference(r)
    }

    fn contact_point(&mut self, c: &ContactPoint) {
        let (Some(system), Some(value)) = (text(&c.system), text(&c.value)) else {
            return;
        };
        if !crate::contact::shape_ok(system, value) {
            let loc = self.path.render(Some("value"));
            self.rep.add(
                R::CONTACTPOINT_VALUE,
                loc,
                cat(&[
                    &"`",
                    &value,
                    &"` does not look like a ",
                    &system,
                    &" contact",
                ]),
            );
        }
    }

    /// `ext-1`: an extension has a value or extensions, not both.
    fn extension(&mut self, x: &Extension) {
        let (value, children) = (x.value.is_some(), !x.extension.is_empty());
        if value != children {
            return;
        }
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

    #[inline]
    fn enter(
        &mut self,
        f: &'static FieldDesc,
        index: Option<usize>,
        of_type: Option<&'static str>,
    ) {
        self.path.push(f.name, index, of_type);
    }

    #[inline]
    fn leave(&mut self) {
        self.path.pop();
    }

    #[inline(always)]
    fn prim<T: PrimValue>(&mut self, site: PrimSite, index: Option<usize>, p: &Primitive<T>) {
        if checked(&site, p) {
            self.checked_prim(&site, index, p);
        }
    }

    fn resource(&mut self, f: &'static FieldDesc, index: Option<usize>, r: &Resource) {
        self.path.push(f.name, index, None);
        self.path.push("", None, Some(r.resource_type()));
        if index.is_some() && f.name == "contained" {
            self.contained(r);
        }
        r.visit(self);
        self.path.pop();
        self.path.pop();
    }
}

impl Walker<'_, '_> {
    #[cold]
    #[inline(never)]
    fn ele_1(&mut self) {
        let loc = self.path.render(None);
        self.rep.add(
            R::ELE_1,
            loc,
            "ele-1: the element has neither a value nor children",
        );
    }

    /// `SCHEMA-MIN` for the required elements in `missing`; a base finding
    /// is dropped where a NEMS rule already reports the element.
    #[inline(never)]
    fn schema_min(&mut self, desc: &'static TypeDesc, mut missing: u128) {
        while missing != 0 {
            let i = missing.trailing_zeros() as usize;
            missing &= missing - 1;
            let Some(f) = desc.fields.get(i) else { break };
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
    }

    /// A primitive with something to check (see [`checked`]): its required
    /// binding (not for choice alternatives), its dateTime/instant form, and
    /// its extensions, at its own location. Out of line: the generated call
    /// sites stay a test and a call.
    #[inline(never)]
    fn checked_prim<T: PrimValue>(
        &mut self,
        site: &PrimSite,
        index: Option<usize>,
        p: &Primitive<T>,
    ) {
        let text = p.value.as_ref().and_then(PrimValue::as_str);
        self.path.push(site.field.name, index, site.of_type);
        if site.of_type.is_none() {
            self.bound(site.owner.name, site.field, text);
        }
        self.date_time(site.kind, text);
        for (j, x) in p.extension().iter().enumerate() {
            self.path.push("extension", Some(j), None);
            x.visit(self);
            self.path.pop();
        }
        self.path.pop();
    }

    /// `dom-2` (no nested contained) and `dom-4` (no meta.versionId or
    /// meta.lastUpdated) on a contained resource.
    fn contained(&mut self, r: &Resource) {
        let n = r.as_node();
        if find_field(n.desc(), "contained", 0).is_some_and(|(i, _)| n.present() >> i & 1 != 0) {
            let loc = self.path.render(Some("contained"));
            self.rep.add(
                R::DOM_2,
                loc,
                "dom-2: a contained resource cannot contain resources",
            );
        }
        if let Some(m) = r.meta() {
            if text(&m.version_id).is_some() || text(&m.last_updated).is_some() {
                let loc = self.path.render(Some("meta"));
                self.rep.add(
                    R::DOM_4,
                    loc,
                    "dom-4: a contained resource carries no meta.versionId or meta.lastUpdated",
                );
            }
        }
    }

    /// Required bindings to core value sets (`codes` of the STU3 element
    /// table); partial lists (`codes_complete == false`) are not enforced.
    fn bound(&mut self, owner: &str, f: &FieldDesc, text: Option<&str>) {
        if f.codes.is_empty() || !f.codes_complete {
            return;
        }
        if let Some(v) = text {
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

    /// NEMS dateTime and instant forms.
    fn date_time(&mut self, kind: PrimKind, text: Option<&str>) {
        if matches!(kind, PrimKind::DateTime | PrimKind::Instant) {
            if let Some(s) = text {
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
    }

    /// `urn:uuid:` references that match no entry's fullUrl.
    fn check_reference(&mut self, reference: &Reference) {
        let Some(urls) = self.full_urls else { return };
        if let Some(r) = text(&reference.reference) {
            // `urn:uuid:X` also resolves to an entry whose fullUrl is the
            // bare UUID X (FULLURL-FORMAT reports that fullUrl)
            let bare = |id: &str| lexical::is_uuid(id) && urls.get(id).is_some();
            let resolved = urls.get(r).is_some() || r.strip_prefix("urn:uuid:").is_some_and(bare);
            if r.starts_with("urn:uuid:") && !resolved {
                let loc = self.path.render(Some("reference"));
                self.rep.add(
                    R::REF_UNRESOLVED,
                    loc,
                    cat(&[
                        &"`",
                        &r,
                        &"` does not match the fullUrl of any entry in the bundle",
                    ]),
                );
            }
        }
    }

    /// A coding's system and code against the embedded code systems.
    fn check_coding(&mut self, c: &Coding) {
        let (system, code, display) = (text(&c.system), text(&c.code), text(&c.display));
        let Some(system) = system else {
            if let Some(c) = code {
                let loc = self.path.render(None);
                self.rep.add(
                    R::CODING_NO_SYSTEM,
                    loc,
                    cat(&[
                        &"coding `",
                        &c,
                        &"` has no system, so its meaning is not defined",
                    ]),
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
                        cat(&[&"`", &code, &"` is not a code of ", &system]),
                    );
                }
                Some(d) => {
                    if let Some(disp) = display {
                        if disp != d {
                            let loc = self.path.render(Some("display"));
                            self.rep.add(
                                R::CODE_DISPLAY,
                                loc,
                                cat(&[
                                    &"display `",
                                    &disp,
                                    &"` for ",
                                    &code,
                                    &" differs from the code system display `",
                                    &d,
                                    &"`",
                                ]),
                            );
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
                cat(&[&"`", &system, &"` is a ValueSet URL, not a code system; use the code system of the codes (e.g. http://snomed.info/sct)"]),
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
                .map(|c| cat(&[&"; did you mean ", &c.url, &"?"]))
                .unwrap_or_default();
            self.rep.add(
                R::CODING_SYSTEM,
                loc,
                cat(&[
                    &"`",
                    &system,
                    &"` is not a known NHS or HL7 UK code system",
                    &hint,
                ]),
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
        let urls = FullUrls::default();
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
        let urls: FullUrls = [(full_url, 0)].into_iter().collect();
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
