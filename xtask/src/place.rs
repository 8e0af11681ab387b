//! Generator of `crates/ems-stu3/src/generated/place.rs`: the model sink's
//! per-type placement code (`ems_stu3::place::Place` for every generated
//! struct, see that module for the slot layout): `find` (element name →
//! slot, a `match` on the length and a distinguishing byte), `put`
//! (primitive or attribute of a slot → direct field write) and `open`
//! (complex element of a slot → the new child), `Resource::as_place_mut`
//! and `resource_index` (resource type name → its index in
//! `RESOURCE_TYPES`, for `Resource::new_of_type`), each type's tag
//! (`Tagged`, its index in the model); and
//! `crates/ems-stu3/src/generated/elements.rs`: the typed element
//! constants of every type (`ems_stu3::element`; one per element that the
//! sinks write — not the attributes nor `Narrative.div` — named
//! `LIKE_THIS` after the element, with its slot and its owner's
//! placement, and the `RESOURCE_TYPE` of each resource).
//!
//! xtask builds against ems-stu3, which includes the generated file: a
//! change of the `Place` trait's signature is made in two steps (generate
//! with the old `crates/ems-stu3/src/place.rs` and `model_sink.rs` in
//! place, e.g. stashed, then put the new ones back).

use crate::{prim, FieldKind, Model, Struct, HEADER, PRIMS};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Slot kinds (as `ems_stu3::place::{ATTR, PRIM, ...}`).
const ATTR: u32 = 0;
const PRIM: u32 = 1;
const COMPLEX: u32 = 2;
const RESOURCE: u32 = 3;
const XHTML: u32 = 4;

/// Packs a slot (see `ems_stu3::place`); `prim`: the primitive's FHIR
/// type.
fn slot(field: usize, number: usize, kind: u32, many: bool, prim_type: Option<&str>) -> u32 {
    assert!(field < 256 && number < 4096, "slot out of range");
    let (k, text) = match prim_type {
        Some(t) => {
            let k = PRIMS.iter().position(|p| p.0 == t).expect("a primitive");
            // values held as text (`Primitive<Str>`) are kept unchecked when trusted
            let text = !matches!(
                PRIMS[k].1,
                "Boolean" | "Integer" | "PositiveInt" | "UnsignedInt" | "Decimal"
            );
            (k as u32, text)
        }
        None => (0, false),
    };
    field as u32
        | (number as u32) << 8
        | kind << 20
        | u32::from(many) << 23
        | k << 24
        | u32::from(text) << 28
}

/// One name a type's `find` answers.
struct Name {
    name: String,
    slot: u32,
    /// The content's Rust type of a complex element or a resource slot
    /// (`Resource`); `None` for the others.
    child: Option<String>,
}

/// The generated files: `place.rs` and `elements.rs`.
pub fn emit(m: &Model) -> (String, String) {
    let mut e = HEADER.replace("xtask/src/main.rs", "xtask/src/place.rs");
    e.push_str(
        "//! The typed element constants of every generated type (see\n\
         //! `crate::element`): one per element, named after it, and the\n\
         //! [`Res`] of each resource type.\n\n\
         use crate::element::{typed_complex, typed_prim, Complex, Prim, Res};\n\
         use crate::generated::*;\n\
         use crate::place::Place;\n\n",
    );
    let mut o = HEADER.replace("xtask/src/main.rs", "xtask/src/place.rs");
    o.push_str(
        "//! Per-type placement of the model sink (see `crate::place`).\n\n\
         use crate::generated::*;\n\
         use crate::place::*;\n\
         use crate::primitive::{PrimKind, PrimNode};\n\
         use crate::Str;\n\
         use std::ptr::NonNull;\n\n",
    );
    o.push_str("/// The primitive kinds by their number in a slot.\npub(crate) static PRIM_KINDS: [PrimKind; ");
    let _ = writeln!(o, "{}] = [", PRIMS.len());
    for p in PRIMS {
        let _ = writeln!(o, "    PrimKind::{},", p.2);
    }
    o.push_str("];\n\n");
    for s in &m.structs {
        let elems = emit_struct(m, &mut o, s);
        emit_elements(&mut e, s, &elems);
    }
    o.push_str(
        "impl Resource {\n    /// The resource as a [`Place`].\n    \
         pub(crate) fn as_place_mut(&mut self) -> &mut (dyn Place + 'static) {\n        match self {\n",
    );
    for s in m.structs.iter().filter(|s| s.kind == "resource") {
        let _ = writeln!(o, "            Resource::{}(r) => &mut **r,", s.rust);
    }
    o.push_str("        }\n    }\n}\n\n");
    // resource type name -> its index in RESOURCE_TYPES (`Resource::new_of_type`)
    let names: Vec<Name> = m
        .structs
        .iter()
        .filter(|s| s.kind == "resource")
        .enumerate()
        .map(|(k, s)| Name {
            name: s.fhir.clone(),
            slot: k as u32,
            child: None,
        })
        .collect();
    o.push_str(
        "/// The index of resource type `n` in `RESOURCE_TYPES` ([`NONE`]: not a\n\
         /// resource type), found as [`Place::find`] finds element names.\n\
         pub(crate) fn resource_index(n: &str) -> u32 {\n",
    );
    emit_match(&mut o, &names);
    o.push_str("}\n");
    (o, e)
}

/// `LIKE_THIS` of element name `likeThis`.
fn screaming(name: &str) -> String {
    let mut s = String::new();
    for c in name.chars() {
        if c.is_ascii_uppercase() && !s.is_empty() {
            s.push('_');
        }
        s.push(c.to_ascii_uppercase());
    }
    s
}

/// The element constants of `s` (and its [`Res`] when it is a resource).
fn emit_elements(o: &mut String, s: &Struct, elems: &[Name]) {
    let ty = &s.rust;
    let mut seen = std::collections::BTreeSet::new();
    let _ = writeln!(o, "impl {ty} {{");
    // attributes (`id` of an element, `Extension.url`) and `Narrative.div`
    // are not written by the sinks' element calls
    for e in elems
        .iter()
        .filter(|e| matches!(e.slot >> 20 & 7, PRIM | COMPLEX | RESOURCE))
    {
        let c = screaming(&e.name);
        assert!(
            c != "RESOURCE_TYPE" || s.kind != "resource",
            "{}.{}: an element named like the resource constant",
            s.fhir,
            e.name
        );
        assert!(seen.insert(c.clone()), "{}: two elements named {c}", s.fhir);
        let _ = writeln!(o, "    /// `{}.{}`.", s.fhir, e.name);
        match &e.child {
            Some(child) => {
                let _ = writeln!(
                    o,
                    "    pub const {c}: Complex<{ty}, {child}> = typed_complex({:?}, {}, <{ty} as Place>::open);",
                    e.name, e.slot
                );
            }
            None => {
                let _ = writeln!(
                    o,
                    "    pub const {c}: Prim<{ty}> = typed_prim({:?}, {}, <{ty} as Place>::put);",
                    e.name, e.slot
                );
            }
        }
    }
    if s.kind == "resource" {
        let _ = writeln!(
            o,
            "    /// The `{0}` resource type.\n    pub const RESOURCE_TYPE: Res<{ty}> = Res {{ name: {0:?}, id: {ty}::ID, new: Some(|| Resource::{ty}(Box::default())) }};",
            s.fhir
        );
    }
    o.push_str("}\n\n");
}

/// `match n.len() { ... }`: the answer for `names` (see [`emit_group`]).
fn emit_match(o: &mut String, names: &[Name]) {
    let mut by_len: BTreeMap<usize, Vec<&Name>> = BTreeMap::new();
    for n in names {
        by_len.entry(n.name.len()).or_default().push(n);
    }
    o.push_str("        match n.len() {\n");
    for (len, group) in &by_len {
        let _ = write!(o, "            {len} => ");
        emit_group(o, group, 3);
        o.push_str(",\n");
    }
    o.push_str("            _ => NONE,\n        }\n");
}

fn emit_struct(m: &Model, o: &mut String, s: &Struct) -> Vec<Name> {
    let mut names = Vec::new();
    let mut put = String::new();
    let mut open = String::new();
    let mut number = 0;
    for (i, f) in s.fields.iter().enumerate() {
        let r = &f.rust;
        match &f.kind {
            FieldKind::Choice(alts) => {
                let en = Model::choice_enum_name(&s.rust, &f.name);
                for (cname, ty) in alts {
                    let (var, _) = m.variant(ty);
                    match prim(ty) {
                        Some((_, _, k)) => {
                            names.push(Name {
                                name: cname.clone(),
                                slot: slot(i, number, PRIM, false, Some(ty)),
                                child: None,
                            });
                            let _ = writeln!(
                                put,
                                "            {number} => match fill(&mut self.{r}, {en}::{var}(prim_of(PrimKind::{k}, v, ok))) {{ \
                                 {en}::{var}(p) => Some(prim_ptr(p)), _ => None }},"
                            );
                        }
                        None => {
                            names.push(Name {
                                name: cname.clone(),
                                slot: slot(i, number, COMPLEX, false, None),
                                child: Some(m.rust_of(ty)),
                            });
                            let _ = writeln!(
                                open,
                                "            {number} if url.is_none() => \
                                 match fill(&mut self.{r}, {en}::{var}(Box::default())) {{ \
                                 {en}::{var}(c) => Some(place_ptr(&mut **c)), _ => None }},"
                            );
                        }
                    }
                    number += 1;
                }
                continue;
            }
            FieldKind::Attr => {
                let _ = writeln!(put, "            {number} => put_attr(&mut self.{r}, v),");
                names.push(Name {
                    name: f.name.clone(),
                    slot: slot(i, number, ATTR, f.many, None),
                    child: None,
                });
            }
            FieldKind::Prim(p) => {
                let k = prim(p).map(|x| x.2).unwrap_or("String");
                let call = if f.many { "put_many" } else { "put_one" };
                let _ = writeln!(
                    put,
                    "            {number} => {call}(&mut self.{r}, PrimKind::{k}, v, ok),"
                );
                names.push(Name {
                    name: f.name.clone(),
                    slot: slot(i, number, PRIM, f.many, Some(p)),
                    child: None,
                });
            }
            FieldKind::Complex(t) => {
                let arm = if t == "Extension" && f.many {
                    format!("{number} => open_extension(&mut self.{r}, url),")
                } else if f.many {
                    format!("{number} if url.is_none() => open_many(&mut self.{r}),")
                } else if f.boxed {
                    format!("{number} if url.is_none() => Some(open_boxed(&mut self.{r})),")
                } else {
                    format!("{number} if url.is_none() => Some(open_one(&mut self.{r})),")
                };
                assert!(
                    t != "Extension" || f.many,
                    "{}.{}: a single Extension",
                    s.fhir,
                    f.name
                );
                let _ = writeln!(open, "            {arm}");
                names.push(Name {
                    name: f.name.clone(),
                    slot: slot(i, number, COMPLEX, f.many, None),
                    child: Some(m.rust_of(t)),
                });
            }
            FieldKind::Resource => {
                names.push(Name {
                    name: f.name.clone(),
                    slot: slot(i, number, RESOURCE, f.many, None),
                    child: Some("Resource".into()),
                });
            }
            FieldKind::Xhtml => names.push(Name {
                name: f.name.clone(),
                slot: slot(i, number, XHTML, f.many, None),
                child: None,
            }),
        }
        number += 1;
    }
    let _ = writeln!(
        o,
        "impl Tagged for {} {{\n    const TAG: u16 = {};\n}}\n",
        s.rust, m.index[&s.fhir]
    );
    let _ = writeln!(o, "impl Place for {} {{", s.rust);
    o.push_str("    #[inline]\n    fn tag(&self) -> u16 {\n        <Self as Tagged>::TAG\n    }\n");
    // `#[inline]`: the trait's `set` / `start`, compiled for each type,
    // inline the type's own `find`, `put` and `open` (one dynamic call per
    // element)
    let _ = writeln!(
        o,
        "    #[inline(always)]\n    fn find(&self, n: &str) -> u32 {{"
    );
    emit_match(o, &names);
    o.push_str("    }\n");
    let ok = if put.contains(", ok)") { "ok" } else { "_ok" };
    if put.is_empty() {
        o.push_str(
            "    #[inline(always)]\n    fn put(&mut self, _: u32, _: Str, _: bool) -> Option<NonNull<dyn PrimNode>> {\n        None\n    }\n",
        );
    } else {
        let _ = writeln!(
            o,
            "    #[inline(always)]\n    fn put(&mut self, s: u32, v: Str, {ok}: bool) -> Option<NonNull<dyn PrimNode>> {{\n        match number(s) {{\n{put}            _ => None,\n        }}\n    }}"
        );
    }
    if open.is_empty() {
        o.push_str(
            "    #[inline(always)]\n    fn open(&mut self, _: u32, _: Option<&'static str>) -> Option<NonNull<dyn Place>> {\n        None\n    }\n",
        );
    } else {
        let _ = writeln!(
            o,
            "    #[inline(always)]\n    fn open(&mut self, s: u32, url: Option<&'static str>) -> Option<NonNull<dyn Place>> {{\n        match number(s) {{\n{open}            _ => None,\n        }}\n    }}"
        );
    }
    o.push_str("}\n\n");
    names
}

/// The `find` answer for names of one length: a `match` on the byte that
/// tells most of them apart, down to one name, then its comparison.
fn emit_group(o: &mut String, group: &[&Name], depth: usize) {
    if let [one] = group {
        let _ = write!(o, "is(n, {:?}, {})", one.name, one.slot);
        return;
    }
    let len = group[0].name.len();
    let distinct = |p: usize| {
        let mut b: Vec<u8> = group.iter().map(|n| n.name.as_bytes()[p]).collect();
        b.sort_unstable();
        b.dedup();
        b.len()
    };
    let best = (0..len).max_by_key(|&p| (distinct(p), std::cmp::Reverse(p)));
    let Some(p) = best.filter(|&p| distinct(p) > 1) else {
        unreachable!("two elements of one type share a name")
    };
    let mut parts: BTreeMap<u8, Vec<&Name>> = BTreeMap::new();
    for n in group {
        parts.entry(n.name.as_bytes()[p]).or_default().push(n);
    }
    let pad = "    ".repeat(depth + 1);
    let _ = writeln!(o, "match n.as_bytes()[{p}] {{");
    for (b, part) in parts {
        let _ = write!(o, "{pad}    b'{}' => ", (b as char).escape_default());
        emit_group(o, &part, depth + 1);
        o.push_str(",\n");
    }
    let _ = write!(o, "{pad}    _ => NONE,\n{pad}}}");
}
