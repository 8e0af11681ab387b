//! Generator of `crates/ems-stu3/src/generated/visit.rs`: the statically
//! dispatched visitor of the STU3 model (`ems_stu3::visit`). Every generated
//! struct gets an `impl Visit` that reports its table and present mask to the
//! visitor, calls the typed hook of the few datatypes walkers check by type
//! (Coding, Reference, ContactPoint, Extension), then goes over its elements
//! in schema order with direct field accesses, each with its static
//! `FieldDesc`; the `Resource` enum gets one `match`. The element tables the
//! visitor hands out are the ones of the generated structs (`*_DESC`), so the
//! visitor and the reflection layer (`ems_stu3::node`) share one description.

use crate::{prim, FieldKind, Model, HEADER};
use std::fmt::Write as _;

/// The datatypes with a typed hook on `ems_stu3::visit::Visitor`: FHIR name
/// and hook method.
const HOOKS: &[(&str, &str)] = &[
    ("Coding", "coding"),
    ("Reference", "reference"),
    ("ContactPoint", "contact_point"),
    ("Extension", "extension"),
];

/// The text of `generated/visit.rs`.
pub fn emit(m: &Model) -> String {
    let mut o = String::from(HEADER);
    o.push_str(
        "//! Generated `Visit` impls of the STU3 model (see `crate::visit`).\n\n\
         use crate::generated::*;\nuse crate::node::Node;\nuse crate::primitive::PrimKind;\n\
         use crate::visit::{alt_node, alt_prim, many, one, prim, prims, site, Visit, Visitor};\n\n",
    );
    for s in &m.structs {
        let upper = s.rust.to_ascii_uppercase();
        let required = s
            .fields
            .iter()
            .enumerate()
            .filter(|(_, f)| f.min > 0)
            .fold(0u128, |a, (i, _)| a | 1 << i);
        let _ = writeln!(o, "impl Visit for {} {{", s.rust);
        // datatypes are visited from many places and resources from the
        // `Resource` match: out of line, so that their code is not copied
        // into every caller (backbone elements, visited from their owner
        // only, are left to the inliner)
        if s.kind != "backbone" {
            let _ = writeln!(o, "    #[inline(never)]");
        }
        let _ = writeln!(o, "    fn visit<V: Visitor + ?Sized>(&self, v: &mut V) {{");
        let _ = writeln!(o, "        let d = &{upper}_DESC;");
        let _ = writeln!(
            o,
            "        if !v.node(d, Node::present(self), {required:#x}) {{ return; }}"
        );
        if let Some((_, hook)) = HOOKS.iter().find(|(t, _)| *t == s.fhir) {
            let _ = writeln!(o, "        v.{hook}(self);");
        }
        if s.fields
            .iter()
            .any(|f| !matches!(f.kind, FieldKind::Attr | FieldKind::Xhtml))
        {
            let _ = writeln!(o, "        let f = d.fields;");
        }
        for (k, f) in s.fields.iter().enumerate() {
            let r = &f.rust;
            match &f.kind {
                FieldKind::Attr | FieldKind::Xhtml => {}
                FieldKind::Prim(p) => {
                    let kind = prim(p).map_or("String", |x| x.2);
                    let call = if f.many { "prims" } else { "prim" };
                    let bound = f.codes_complete && !f.codes.is_empty();
                    let _ = writeln!(
                        o,
                        "        {call}(v, site(d, &f[{k}], PrimKind::{kind}, {bound}), &self.{r});"
                    );
                }
                FieldKind::Complex(_) => {
                    let call = if f.many { "many" } else { "one" };
                    let _ = writeln!(o, "        {call}(v, &f[{k}], &self.{r});");
                }
                FieldKind::Resource if f.many => {
                    let _ = writeln!(
                        o,
                        "        for (j, x) in self.{r}.iter().enumerate() {{ v.resource(&f[{k}], Some(j), x); }}"
                    );
                }
                FieldKind::Resource => {
                    let _ = writeln!(
                        o,
                        "        if let Some(x) = &self.{r} {{ v.resource(&f[{k}], None, x); }}"
                    );
                }
                FieldKind::Choice(alts) => {
                    let en = Model::choice_enum_name(&s.rust, &f.name);
                    let _ = writeln!(
                        o,
                        "        if let Some(x) = &self.{r} {{ let c = (d, &f[{k}]); match x {{"
                    );
                    for (_, ty) in alts {
                        let (var, _) = m.variant(ty);
                        match prim(ty) {
                            Some((_, _, kind)) => {
                                let _ = writeln!(
                                    o,
                                    "            {en}::{var}(p) => alt_prim(v, c, PrimKind::{kind}, \"{ty}\", p),"
                                );
                            }
                            None => {
                                let _ = writeln!(
                                    o,
                                    "            {en}::{var}(x) => alt_node(v, c.1, \"{ty}\", x),"
                                );
                            }
                        }
                    }
                    let _ = writeln!(o, "        }} }}");
                }
            }
        }
        let _ = writeln!(o, "    }}\n}}\n");
    }
    o.push_str("impl Visit for Resource {\n    fn visit<V: Visitor + ?Sized>(&self, v: &mut V) {\n        match self {\n");
    for s in m.structs.iter().filter(|s| s.kind == "resource") {
        let _ = writeln!(o, "            Resource::{}(r) => r.visit(v),", s.rust);
    }
    o.push_str("        }\n    }\n}\n");
    o
}
