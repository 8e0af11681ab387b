//! Statically dispatched walk over the elements of the model.
//!
//! [`node`](crate::node) reflection (`dyn Node`, one virtual call and one
//! `FieldRef` match per element) is what the codecs need: they are written
//! once for all types. A walker that visits every element of a parsed
//! message (the validator's base STU3 layer) pays that per element; this
//! module gives it a visitor instead. `cargo xtask codegen` implements
//! [`Visit`] for every generated struct and for [`Resource`]: `visit` reports
//! the value's [`TypeDesc`] and present mask ([`Node::present`](crate::node::Node::present)) to
//! [`Visitor::node`], calls the typed hook of the datatypes walkers check by
//! type ([`Visitor::coding`], [`Visitor::reference`],
//! [`Visitor::contact_point`], [`Visitor::extension`]), then goes over the
//! elements that hold something in schema order, by direct field access:
//! primitives through [`Visitor::prim`] (typed, with a [`PrimSite`]: their
//! [`PrimKind`], static [`FieldDesc`] and whether codes are bound, as
//! constants of the call site), complex elements
//! between [`Visitor::enter`] and [`Visitor::leave`], resources through
//! [`Visitor::resource`]. Attributes (`id`, `Extension.url`) and
//! `Narrative.div` are not visited. With one visitor type the whole walk is
//! monomorphised once and has no dynamic call per element.
//!
//! The tables handed out are the generated `*_DESC` of the reflection layer:
//! one description of each type for both.
//!
//! ```
//! use ems_stu3::node::{FieldDesc, TypeDesc};
//! use ems_stu3::visit::{PrimSite, Visit, Visitor};
//! use ems_stu3::{Coding, CodeableConcept, Patient, PrimValue, Primitive, Resource};
//!
//! /// Collects the codes of all codings and counts the primitives.
//! #[derive(Default)]
//! struct Codes { codes: Vec<String>, prims: usize }
//! impl Visitor for Codes {
//!     fn node(&mut self, _: &'static TypeDesc, _: u128, _: u128) -> bool { true }
//!     fn coding(&mut self, c: &Coding) {
//!         self.codes.extend(c.code.as_ref().and_then(|p| p.value.as_deref()).map(String::from));
//!     }
//!     fn enter(&mut self, _: &'static FieldDesc, _: Option<usize>, _: Option<&'static str>) {}
//!     fn leave(&mut self) {}
//!     fn prim<T: PrimValue>(&mut self, _: PrimSite, _: Option<usize>, _: &Primitive<T>) {
//!         self.prims += 1;
//!     }
//! }
//! let p = Patient {
//!     gender: Some(Primitive::from("female")),
//!     marital_status: Some(CodeableConcept {
//!         coding: vec![Coding { code: Some(Primitive::from("M")), ..Default::default() }],
//!         ..Default::default()
//!     }),
//!     ..Default::default()
//! };
//! let mut v = Codes::default();
//! Resource::from(p).visit(&mut v);
//! assert_eq!((v.codes, v.prims), (vec!["M".to_string()], 2));
//! ```

use crate::node::{FieldDesc, TypeDesc};
use crate::primitive::{PrimKind, PrimValue, Primitive};
use crate::{Coding, ContactPoint, Extension, Reference, Resource};

/// A model type the generated visitor walks (every generated struct,
/// [`Resource`], and boxes of them).
pub trait Visit {
    /// Reports `self` to `v`, then its elements, in schema order (see the
    /// module documentation).
    fn visit<V: Visitor + ?Sized>(&self, v: &mut V);
}

impl<T: Visit + ?Sized> Visit for Box<T> {
    #[inline]
    fn visit<V: Visitor + ?Sized>(&self, v: &mut V) {
        (**self).visit(v)
    }
}

/// Where a primitive sits, as constants of the generated call site.
///
/// `kind` and `bound` repeat what the element table says
/// (`field.kind`, `field.codes`) as literals the optimiser sees: the tables
/// are statics of this crate, which a visitor monomorphised in another crate
/// cannot read at compile time, so a visitor's per-primitive test on them
/// folds away instead of loading the table at every element.
#[derive(Clone, Copy, Debug)]
pub struct PrimSite {
    /// The table of the value that holds the element.
    pub owner: &'static TypeDesc,
    /// The element's table entry (for a choice, the choice element).
    pub field: &'static FieldDesc,
    /// The primitive's kind (for a choice, the alternative's).
    pub kind: PrimKind,
    /// `true` when `field.codes` is the complete list of allowed codes of a
    /// required binding (`codes_complete` and not empty); never for a
    /// choice alternative.
    pub bound: bool,
    /// The type of a choice alternative (`dateTime` for `valueDateTime`).
    pub of_type: Option<&'static str>,
}

/// The callbacks of a walk over the model; see the module documentation for
/// the order. Paths are the visitor's business: `enter`/`leave` bracket a
/// complex element, a primitive comes with its element and index.
pub trait Visitor {
    /// A complex value (datatype, backbone element or resource) described
    /// by `desc`: `present` has bit `i` set when element `i` holds something
    /// ([`Node::present`](crate::node::Node::present)), `required` when element `i` has a minimum
    /// cardinality of 1 or more (the STU3 table's `min`). Called before its
    /// hook and elements; `false` skips them.
    fn node(&mut self, desc: &'static TypeDesc, present: u128, required: u128) -> bool;
    /// A `Coding`, after [`Visitor::node`] and before its elements.
    #[inline]
    fn coding(&mut self, _c: &Coding) {}
    /// A `Reference`, after [`Visitor::node`] and before its elements.
    #[inline]
    fn reference(&mut self, _r: &Reference) {}
    /// A `ContactPoint`, after [`Visitor::node`] and before its elements.
    #[inline]
    fn contact_point(&mut self, _c: &ContactPoint) {}
    /// An `Extension`, after [`Visitor::node`] and before its elements.
    #[inline]
    fn extension(&mut self, _x: &Extension) {}
    /// Entering complex element `f` (item `index` of a repeating element;
    /// `of_type` is the type of a choice alternative); its value's
    /// [`Visit::visit`] follows, then [`Visitor::leave`].
    fn enter(&mut self, f: &'static FieldDesc, index: Option<usize>, of_type: Option<&'static str>);
    /// Leaving the element of the matching [`Visitor::enter`].
    fn leave(&mut self);
    /// Primitive element `site.field` (item `index` of a repeating
    /// element). Its extensions are not visited: the visitor walks
    /// `p.extension()` if it wants them.
    fn prim<T: PrimValue>(&mut self, site: PrimSite, index: Option<usize>, p: &Primitive<T>);
    /// Resource element `f` (`contained`, `Bundle.entry.resource`, ...;
    /// item `index` of a repeating element). The default visits it between
    /// [`Visitor::enter`] and [`Visitor::leave`].
    fn resource(&mut self, f: &'static FieldDesc, index: Option<usize>, r: &Resource) {
        self.enter(f, index, None);
        r.visit(self);
        self.leave();
    }
}

/// A single-valued complex element (generated code).
#[inline(always)]
pub(crate) fn one<V: Visitor + ?Sized, T: Visit>(v: &mut V, f: &'static FieldDesc, x: &Option<T>) {
    if let Some(x) = x {
        v.enter(f, None, None);
        x.visit(v);
        v.leave();
    }
}

/// A repeating complex element (generated code).
#[inline(always)]
pub(crate) fn many<V: Visitor + ?Sized, T: Visit>(v: &mut V, f: &'static FieldDesc, xs: &[T]) {
    for (j, x) in xs.iter().enumerate() {
        v.enter(f, Some(j), None);
        x.visit(v);
        v.leave();
    }
}

/// The [`PrimSite`] of a primitive element that is not a choice (generated
/// code: keeps each call site on one line).
#[inline(always)]
pub(crate) const fn site(
    owner: &'static TypeDesc,
    field: &'static FieldDesc,
    kind: PrimKind,
    bound: bool,
) -> PrimSite {
    PrimSite {
        owner,
        field,
        kind,
        bound,
        of_type: None,
    }
}

/// A primitive alternative `of_type` of choice element `field` (generated
/// code).
#[inline(always)]
pub(crate) fn alt_prim<V: Visitor + ?Sized, T: PrimValue>(
    v: &mut V,
    (owner, field): (&'static TypeDesc, &'static FieldDesc),
    kind: PrimKind,
    of_type: &'static str,
    p: &Primitive<T>,
) {
    let site = PrimSite {
        owner,
        field,
        kind,
        bound: false,
        of_type: Some(of_type),
    };
    v.prim(site, None, p);
}

/// A complex alternative `of_type` of choice element `field` (generated
/// code).
#[inline(always)]
pub(crate) fn alt_node<V: Visitor + ?Sized, T: Visit>(
    v: &mut V,
    field: &'static FieldDesc,
    of_type: &'static str,
    x: &T,
) {
    v.enter(field, None, Some(of_type));
    x.visit(v);
    v.leave();
}

/// A single-valued primitive element (generated code).
#[inline(always)]
pub(crate) fn prim<V: Visitor + ?Sized, T: PrimValue>(
    v: &mut V,
    site: PrimSite,
    x: &Option<Primitive<T>>,
) {
    if let Some(p) = x {
        v.prim(site, None, p);
    }
}

/// A repeating primitive element (generated code).
#[inline(always)]
pub(crate) fn prims<V: Visitor + ?Sized, T: PrimValue>(
    v: &mut V,
    site: PrimSite,
    xs: &[Primitive<T>],
) {
    for (j, p) in xs.iter().enumerate() {
        v.prim(site, Some(j), p);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::{present_fields, ChoiceRef, FieldRef, Node};
    use crate::primitive::PrimNode;

    /// One visited element: its path and, for primitives, the kind.
    type Seen = Vec<(String, Option<PrimKind>)>;

    /// Records the paths the visitor reports.
    #[derive(Default)]
    struct Paths {
        stack: Vec<String>,
        seen: Seen,
        /// The type of each value reported to `node`, in order.
        nodes: Vec<&'static str>,
        /// The hooks called, each with the type of the `node` before it.
        hooks: Vec<(&'static str, &'static str)>,
        /// The types of the values being visited, innermost last.
        owners: Vec<&'static str>,
    }

    impl Paths {
        fn hook(&mut self, ty: &'static str) {
            let last = self.nodes.last().copied().unwrap_or_default();
            self.hooks.push((ty, last));
        }
        fn at(&self, f: &FieldDesc, index: Option<usize>, of_type: Option<&str>) -> String {
            step(
                self.stack.last().map_or("", String::as_str),
                f.name,
                index,
                of_type,
            )
        }
    }

    fn step(parent: &str, name: &str, index: Option<usize>, of_type: Option<&str>) -> String {
        let mut s = format!("{parent}.{name}");
        if let Some(j) = index {
            s += &format!("[{j}]");
        }
        if let Some(t) = of_type {
            s += &format!(".ofType({t})");
        }
        s
    }

    impl Visitor for Paths {
        fn node(&mut self, desc: &'static TypeDesc, present: u128, required: u128) -> bool {
            // the required mask is the table's `min`
            let want = desc
                .fields
                .iter()
                .enumerate()
                .filter(|(_, f)| f.min > 0)
                .fold(0u128, |a, (i, _)| a | 1 << i);
            assert_eq!(required, want, "{}", desc.name);
            let _ = present;
            self.nodes.push(desc.name);
            self.owners.push(desc.name);
            true
        }
        fn coding(&mut self, _: &Coding) {
            self.hook("Coding");
        }
        fn reference(&mut self, _: &Reference) {
            self.hook("Reference");
        }
        fn contact_point(&mut self, _: &ContactPoint) {
            self.hook("ContactPoint");
        }
        fn extension(&mut self, _: &Extension) {
            self.hook("Extension");
        }
        fn enter(
            &mut self,
            f: &'static FieldDesc,
            index: Option<usize>,
            of_type: Option<&'static str>,
        ) {
            let s = self.at(f, index, of_type);
            self.seen.push((s.clone(), None));
            self.stack.push(s);
        }
        fn leave(&mut self) {
            self.stack.pop();
            self.owners.pop();
        }
        fn prim<T: PrimValue>(&mut self, site: PrimSite, index: Option<usize>, p: &Primitive<T>) {
            let (f, kind, of_type) = (site.field, site.kind, site.of_type);
            // the site's constants agree with the tables
            assert_eq!(site.owner.name, *self.owners.last().expect("an owner"));
            let table_kind = match &f.kind {
                crate::node::FieldKind::Prim(k) => Some(*k),
                crate::node::FieldKind::Choice(alts) => alts
                    .iter()
                    .find(|a| Some(a.type_name) == of_type)
                    .and_then(|a| a.prim),
                _ => None,
            };
            assert_eq!(table_kind, Some(kind), "{}.{}", site.owner.name, f.name);
            let bound = of_type.is_none() && f.codes_complete && !f.codes.is_empty();
            assert_eq!(site.bound, bound, "{}.{}", site.owner.name, f.name);
            assert!(site.owner.fields.iter().any(|g| std::ptr::eq(g, f)));
            let s = self.at(f, index, of_type);
            self.seen.push((s.clone(), Some(kind)));
            self.stack.push(s);
            for (j, x) in p.extension().iter().enumerate() {
                let s = step(
                    self.stack.last().map_or("", String::as_str),
                    "extension",
                    Some(j),
                    None,
                );
                self.seen.push((s.clone(), None));
                self.stack.push(s);
                x.visit(self);
                self.stack.pop();
                self.owners.pop();
            }
            self.stack.pop();
        }
        fn resource(&mut self, f: &'static FieldDesc, index: Option<usize>, r: &Resource) {
            let s = self.at(f, index, Some(r.resource_type()));
            self.seen.push((s.clone(), None));
            self.stack.push(s);
            r.visit(self);
            self.stack.pop();
            self.owners.pop();
        }
    }

    /// The same description through the reflection layer: the present
    /// elements of `n` ([`present_fields`]), recursively, attributes and
    /// XHTML left out.
    fn reflect(n: &dyn Node, at: &str, out: &mut Seen) {
        for (i, f) in present_fields(n) {
            match n.field(i) {
                FieldRef::Prim(Some(p)) => reflect_prim(p, f, step(at, f.name, None, None), out),
                FieldRef::PrimList(v) => {
                    for j in 0..v.len() {
                        let p = v.get(j).expect("item");
                        reflect_prim(p, f, step(at, f.name, Some(j), None), out);
                    }
                }
                FieldRef::One(Some(c)) => {
                    let s = step(at, f.name, None, None);
                    out.push((s.clone(), None));
                    reflect(c, &s, out);
                }
                FieldRef::Many(v) => {
                    for j in 0..v.len() {
                        let s = step(at, f.name, Some(j), None);
                        out.push((s.clone(), None));
                        reflect(v.get(j).expect("item"), &s, out);
                    }
                }
                FieldRef::Choice(Some((a, c))) => {
                    let crate::node::FieldKind::Choice(alts) = &f.kind else {
                        panic!("choice without alternatives")
                    };
                    let s = step(at, f.name, None, Some(alts[a].type_name));
                    match c {
                        ChoiceRef::Prim(p) => {
                            let k = alts[a].prim.expect("primitive alternative");
                            reflect_prim_as(p, k, s, out)
                        }
                        ChoiceRef::Node(c) => {
                            out.push((s.clone(), None));
                            reflect(c, &s, out);
                        }
                    }
                }
                FieldRef::Resource(Some(r)) => {
                    let s = step(at, f.name, None, Some(r.resource_type()));
                    out.push((s.clone(), None));
                    reflect(r.as_node(), &s, out);
                }
                FieldRef::Resources(v) => {
                    for (j, r) in v.iter().enumerate() {
                        let s = step(at, f.name, Some(j), Some(r.resource_type()));
                        out.push((s.clone(), None));
                        reflect(r.as_node(), &s, out);
                    }
                }
                FieldRef::Attr(_) | FieldRef::Xhtml(_) => {}
                _ => panic!("present element {} without a value", f.name),
            }
        }
    }

    fn reflect_prim(p: &dyn PrimNode, f: &FieldDesc, s: String, out: &mut Seen) {
        let crate::node::FieldKind::Prim(k) = f.kind else {
            panic!("{} is not a primitive", f.name)
        };
        reflect_prim_as(p, k, s, out)
    }

    fn reflect_prim_as(p: &dyn PrimNode, k: PrimKind, s: String, out: &mut Seen) {
        out.push((s.clone(), Some(k)));
        for (j, x) in p.extension().iter().enumerate() {
            let e = step(&s, "extension", Some(j), None);
            out.push((e.clone(), None));
            reflect(x, &e, out);
        }
    }

    fn check(xml: &str) -> usize {
        check_resource(
            &crate::from_xml(xml.as_bytes())
                .expect("test message reads")
                .resource,
        )
    }

    fn check_resource(r: &Resource) -> usize {
        let mut v = Paths::default();
        r.visit(&mut v);
        let mut want = Seen::new();
        reflect(r.as_node(), "", &mut want);
        assert_eq!(v.seen, want);
        // each hooked type's values get their hook, right after `node`
        let hooked = ["Coding", "Reference", "ContactPoint", "Extension"];
        let typed: Vec<_> = v.nodes.iter().filter(|t| hooked.contains(t)).collect();
        assert_eq!(v.hooks.len(), typed.len());
        assert!(v.hooks.iter().all(|(h, last)| h == last), "{:?}", v.hooks);
        v.seen.len()
    }

    /// The visitor reports exactly the present elements, in schema order,
    /// with the paths and primitive kinds of the reflection layer's
    /// `present_fields`: choices (primitive and complex), extensions on
    /// primitives, contained resources, a bundle with nested resources.
    #[test]
    fn visits_what_reflection_describes() {
        let patient = r##"<Patient xmlns="http://hl7.org/fhir">
          <id value="p1"/>
          <meta><versionId value="1"/><lastUpdated value="2019-01-01T00:00:00Z"/></meta>
          <text><status value="generated"/><div xmlns="http://www.w3.org/1999/xhtml">x</div></text>
          <contained><Organization><id value="o1"/><name value="Org"/></Organization></contained>
          <contained><Practitioner><id value="pr1"/><name><family value="F"/></name></Practitioner></contained>
          <extension url="http://example.org/a"><valueCodeableConcept><coding><system value="http://snomed.info/sct"/><code value="1"/></coding></valueCodeableConcept></extension>
          <extension url="http://example.org/b"><valueDateTime value="2019-10-02"/></extension>
          <identifier><system value="https://fhir.nhs.uk/Id/nhs-number"/><value value="9434765919"/></identifier>
          <name><use value="official"/><family value="Smith"/><given value="Jane"/><given value="Ann"><extension url="http://example.org/c"><valueString value="x"/></extension></given></name>
          <telecom><system value="phone"/><value value="0123"/></telecom>
          <gender value="female"><extension url="http://example.org/d"><valueBoolean value="true"/></extension></gender>
          <birthDate value="2019-10"/>
          <deceasedBoolean value="false"/>
          <address><line value="1 Road"/><line value="Town"/></address>
          <multipleBirthInteger value="2"/>
          <managingOrganization><reference value="#o1"/></managingOrganization>
        </Patient>"##;
        let n = check(patient);
        assert!(n > 40, "{n} elements");
        let bundle = format!(
            r#"<Bundle xmlns="http://hl7.org/fhir"><id value="b"/><type value="message"/>
            <entry><fullUrl value="urn:uuid:1"/><resource>{}</resource></entry>
            <entry><fullUrl value="urn:uuid:2"/><resource><Observation><status value="final"/>
              <code><text value="t"/></code><valueQuantity><value value="1.50"/><unit value="kg"/></valueQuantity>
              <component><code><text value="c"/></code><valuePeriod><start value="2019"/></valuePeriod></component>
            </Observation></resource></entry></Bundle>"#,
            &patient[patient.find('<').unwrap()..].replacen(
                " xmlns=\"http://hl7.org/fhir\"",
                "",
                1
            )
        );
        assert!(check(&bundle) > n + 10);
        // every message of the NEMS corpus and of the official STU3 examples
        let official = ems_testdata::files("corpus/stu3-official", "xml");
        let mut read = 0;
        for bytes in ems_testdata::nems_xml().into_iter().chain(
            official
                .iter()
                .map(|p| std::fs::read(p).expect("corpus file")),
        ) {
            if let Ok(parsed) = crate::from_xml(&bytes) {
                check_resource(&parsed.resource);
                read += 1;
            }
        }
        assert!(read >= 30, "{read} corpus messages read");
    }

    /// `node` returning `false` skips the value's hook and elements.
    #[test]
    fn node_false_skips_elements() {
        struct Top(usize);
        impl Visitor for Top {
            fn node(&mut self, _: &'static TypeDesc, _: u128, _: u128) -> bool {
                self.0 += 1;
                false
            }
            fn coding(&mut self, _: &Coding) {
                panic!("hook of a skipped value")
            }
            fn enter(&mut self, _: &'static FieldDesc, _: Option<usize>, _: Option<&'static str>) {
                panic!("element of a skipped value")
            }
            fn leave(&mut self) {}
            fn prim<T: PrimValue>(&mut self, _: PrimSite, _: Option<usize>, _: &Primitive<T>) {
                panic!("primitive of a skipped value")
            }
        }
        let c = Coding {
            code: Some(Primitive::from("x")),
            ..Default::default()
        };
        let mut v = Top(0);
        c.visit(&mut v);
        assert_eq!(v.0, 1);
    }
}
