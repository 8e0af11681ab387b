//! Compiles the NHS StructureDefinitions of `../shared/fhir-assets/nhs/`
//! (CareConnect-*, Event-MessageHeader-1, EMS-*) into
//! `crates/ems-profiles/src/generated_profiles.rs`: for each resource
//! profile its canonical URL, resource type, base profile and the
//! constraints of its snapshot that narrow STU3:
//!
//! * cardinalities (`min` above, `max` below the element's `base`), nested
//!   elements and slices included;
//! * identifier / coding / name / extension slices, each with its
//!   discriminator (`value:system`, `value:use`, `value:url`, ...) and the
//!   value that selects its members (the slice's fixed value at the
//!   discriminator path, or an extension slice's `type.profile`);
//! * `fixed[x]` primitive values (except at a slice's discriminator, which
//!   its members have by definition);
//! * `required` bindings to NHS / HL7 UK value sets (their includes are
//!   compiled into `VALUE_SETS`; whole code systems are referenced by URL
//!   and looked up in ems-nhs' embedded code systems at run time);
//! * `type.targetProfile` lists of Reference elements that name an NHS /
//!   HL7 UK profile.
//!
//! What is not compiled is listed in `docs/conformance.md` ("NHS profiles").

use quick_xml::events::Event;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// One snapshot element, as far as the compiler reads it.
#[derive(Default, Debug)]
struct El {
    id: String,
    min: Option<u32>,
    max: Option<String>,
    base_min: Option<u32>,
    base_max: Option<String>,
    /// primitive `fixed[x]` value
    fixed: Option<String>,
    /// first slicing discriminator path (`system`, `url`, `coding.system`)
    discriminator: Option<String>,
    type_profiles: Vec<String>,
    target_profiles: Vec<String>,
    binding_required: bool,
    value_set: Option<String>,
}

struct Profile {
    url: String,
    ty: String,
    base: String,
    elements: Vec<El>,
}

fn attr(e: &quick_xml::events::BytesStart<'_>, key: &[u8]) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.as_ref() == key)
        .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()))
}

/// The text of file `path` without a leading byte-order mark.
fn read(path: &Path) -> Result<String, String> {
    Ok(crate::read(path)?
        .trim_start_matches('\u{feff}')
        .to_string())
}

/// Calls `f(name, ancestors, element)` for every element of the XML file
/// at `path`, in document order (local names; the ancestors outermost
/// first).
fn each_element(
    path: &Path,
    mut f: impl FnMut(&str, &[&str], &quick_xml::events::BytesStart<'_>),
) -> Result<(), String> {
    let text = read(path)?;
    let mut r = quick_xml::Reader::from_str(&text);
    let mut stack: Vec<String> = Vec::new();
    loop {
        let ev = r
            .read_event()
            .map_err(|e| format!("{}: {e}", path.display()))?;
        let (e, empty) = match &ev {
            Event::Start(e) => (e, false),
            Event::Empty(e) => (e, true),
            Event::End(_) => {
                stack.pop();
                continue;
            }
            Event::Eof => break,
            _ => continue,
        };
        let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
        let here: Vec<&str> = stack.iter().map(String::as_str).collect();
        f(&name, &here, e);
        if !empty {
            stack.push(name);
        }
    }
    Ok(())
}

fn parse(path: &Path) -> Result<Option<Profile>, String> {
    let (mut url, mut ty, mut kind, mut base) =
        (String::new(), String::new(), String::new(), String::new());
    let mut elements: Vec<El> = Vec::new();
    each_element(path, |name, here, e| {
        let value = || attr(e, b"value");
        match (name, here) {
            ("url", ["StructureDefinition"]) => url = value().unwrap_or_default(),
            ("type", ["StructureDefinition"]) => ty = value().unwrap_or_default(),
            ("kind", ["StructureDefinition"]) => kind = value().unwrap_or_default(),
            ("baseDefinition", ["StructureDefinition"]) => base = value().unwrap_or_default(),
            ("element", ["StructureDefinition", "snapshot"]) => elements.push(El {
                id: attr(e, b"id").unwrap_or_default(),
                ..El::default()
            }),
            (n, ["StructureDefinition", "snapshot", "element", rest @ ..]) => {
                let Some(el) = elements.last_mut() else {
                    return;
                };
                match (n, rest) {
                    ("min", []) => el.min = value().and_then(|v| v.parse().ok()),
                    ("max", []) => el.max = value(),
                    ("min", ["base"]) => el.base_min = value().and_then(|v| v.parse().ok()),
                    ("max", ["base"]) => el.base_max = value(),
                    (f, []) if f.starts_with("fixed") => el.fixed = value(),
                    ("path", ["slicing", "discriminator"]) if el.discriminator.is_none() => {
                        el.discriminator = value()
                    }
                    ("profile", ["type"]) => el.type_profiles.extend(value()),
                    ("targetProfile", ["type"]) => el.target_profiles.extend(value()),
                    ("strength", ["binding"]) => {
                        el.binding_required = value().as_deref() == Some("required")
                    }
                    ("reference", ["binding", "valueSetReference"])
                    | ("valueSetUri", ["binding"]) => el.value_set = value(),
                    _ => {}
                }
            }
            _ => {}
        }
    })?;
    // profiles of resources only (extensions and datatypes are not entries)
    if kind != "resource" || ty == "Extension" {
        return Ok(None);
    }
    Ok(Some(Profile {
        url,
        ty,
        base,
        elements,
    }))
}

/// A compiled value set: (system, codes) includes; no codes = the whole system.
struct ValueSet {
    url: String,
    includes: Vec<(String, Vec<String>)>,
    /// a filter or an included value set: not compiled
    expandable: bool,
}

fn parse_value_set(path: &Path) -> Result<ValueSet, String> {
    let mut vs = ValueSet {
        url: String::new(),
        includes: Vec::new(),
        expandable: true,
    };
    each_element(path, |name, here, e| match (name, here) {
        ("url", ["ValueSet"]) => vs.url = attr(e, b"value").unwrap_or_default(),
        ("include", ["ValueSet", "compose"]) => vs.includes.push((String::new(), Vec::new())),
        ("exclude", ["ValueSet", "compose"]) => vs.expandable = false,
        ("system", ["ValueSet", "compose", "include"]) => {
            if let Some(i) = vs.includes.last_mut() {
                i.0 = attr(e, b"value").unwrap_or_default();
            }
        }
        ("filter" | "valueSet", ["ValueSet", "compose", "include"]) => vs.expandable = false,
        ("code", ["ValueSet", "compose", "include", "concept"]) => {
            if let Some(i) = vs.includes.last_mut() {
                i.1.extend(attr(e, b"value"));
            }
        }
        _ => {}
    })?;
    if vs.includes.is_empty() || vs.includes.iter().any(|i| i.0.is_empty()) {
        vs.expandable = false;
    }
    Ok(vs)
}

/// Whether `url` is an NHS or HL7 UK canonical (not HL7 core).
fn national(url: &str) -> bool {
    url.starts_with("https://fhir.nhs.uk/") || url.starts_with("https://fhir.hl7.org.uk/")
}

fn max_of(m: &str) -> Option<u32> {
    if m == "*" {
        None
    } else {
        m.parse().ok()
    }
}

/// One path step: element name and, for a slice, (slice name, discriminator path, value).
#[derive(Clone)]
struct Step {
    name: String,
    slice: Option<(String, String, String)>,
}

enum ConstraintKind {
    Card(u32, Option<u32>),
    Fixed(String),
    Binding(usize),
    Target(Vec<String>),
}

struct Con {
    id: String,
    steps: Vec<Step>,
    kind: ConstraintKind,
}

/// The constraints of profile `p` (see the module comment); `sets` collects
/// the value sets the bindings use.
fn compile(
    p: &Profile,
    value_sets: &BTreeMap<String, ValueSet>,
    used: &mut Vec<String>,
) -> Vec<Con> {
    let by_id: BTreeMap<&str, &El> = p.elements.iter().map(|e| (e.id.as_str(), e)).collect();
    let root = format!("{}.", p.ty);
    let mut out = Vec::new();
    'el: for el in &p.elements {
        let Some(rel) = el.id.strip_prefix(&root) else {
            continue;
        };
        let segs: Vec<&str> = rel.split('.').collect();
        let mut steps: Vec<Step> = Vec::new();
        // (index of the nearest sliced step, its discriminator path)
        let mut nearest_slice: Option<(usize, String)> = None;
        for (k, seg) in segs.iter().enumerate() {
            // element ids of this step, of the element it slices, of its parent
            let id_at = |k: usize| format!("{}.{}", p.ty, segs[..=k].join("."));
            let (raw, slice) = match seg.split_once(':') {
                Some((n, s)) => (n, Some(s)),
                None => (*seg, None),
            };
            // type slices (`value[x]:valueQuantity`) are not compiled
            if slice.is_some() && raw.ends_with("[x]") {
                continue 'el;
            }
            let name = raw.trim_end_matches("[x]");
            let is_ext = name == "extension" || name == "modifierExtension";
            // elements inside an extension are the extension definition's
            if k + 1 < segs.len() && slice.is_some() && is_ext {
                continue 'el;
            }
            // nothing below a prohibited element can be present
            if k + 1 < segs.len()
                && by_id.get(id_at(k).as_str()).and_then(|e| e.max.as_deref()) == Some("0")
            {
                continue 'el;
            }
            let slice = match slice {
                None => None,
                Some(s) => {
                    let sliced = match k {
                        0 => format!("{}.{raw}", p.ty),
                        _ => format!("{}.{raw}", id_at(k - 1)),
                    };
                    let Some(disc) = by_id
                        .get(sliced.as_str())
                        .and_then(|e| e.discriminator.clone())
                    else {
                        continue 'el;
                    };
                    let slice_id = id_at(k);
                    let value = if disc == "url" && is_ext {
                        by_id
                            .get(slice_id.as_str())
                            .and_then(|e| e.type_profiles.first().cloned())
                    } else {
                        by_id
                            .get(format!("{slice_id}.{disc}").as_str())
                            .and_then(|e| e.fixed.clone())
                    };
                    let Some(value) = value else { continue 'el };
                    nearest_slice = Some((k, disc.clone()));
                    Some((s.to_string(), disc, value))
                }
            };
            steps.push(Step {
                name: name.to_string(),
                slice,
            });
        }
        if steps.is_empty() {
            continue;
        }
        // the discriminator element of the nearest slice: its members have it
        let is_disc = nearest_slice.as_ref().is_some_and(|(k, disc)| {
            let below: Vec<&str> = steps[k + 1..].iter().map(|s| s.name.as_str()).collect();
            below.join(".") == *disc
        });
        let last_sliced = steps.last().is_some_and(|s| s.slice.is_some());
        let (min, max) = (el.min.unwrap_or(0), el.max.as_deref().and_then(max_of));
        let (bmin, bmax) = (
            el.base_min.unwrap_or(0),
            el.base_max.as_deref().and_then(max_of),
        );
        if !is_disc {
            let narrowed_max = match (max, bmax) {
                (Some(m), None) => Some(m),
                (Some(m), Some(b)) if m < b => Some(m),
                _ => None,
            };
            // a slice's own cardinality counts its members (base 0..*)
            let narrowed_min = if last_sliced || min > bmin { min } else { 0 };
            let narrowed_max = if last_sliced { max } else { narrowed_max };
            if narrowed_min > 0 || narrowed_max.is_some() {
                out.push(Con {
                    id: rel.to_string(),
                    steps: steps.clone(),
                    kind: ConstraintKind::Card(narrowed_min, narrowed_max),
                });
            }
            if let Some(f) = &el.fixed {
                out.push(Con {
                    id: rel.to_string(),
                    steps: steps.clone(),
                    kind: ConstraintKind::Fixed(f.clone()),
                });
            }
        }
        if el.binding_required && el.max.as_deref() != Some("0") {
            if let Some(vs) = el.value_set.as_deref().filter(|u| national(u)) {
                if value_sets.get(vs).is_some_and(|v| v.expandable) {
                    let ix = match used.iter().position(|u| u == vs) {
                        Some(i) => i,
                        None => {
                            used.push(vs.to_string());
                            used.len() - 1
                        }
                    };
                    out.push(Con {
                        id: rel.to_string(),
                        steps: steps.clone(),
                        kind: ConstraintKind::Binding(ix),
                    });
                }
            }
        }
        let targets = &el.target_profiles;
        if targets.iter().any(|t| national(t)) && el.max.as_deref() != Some("0") {
            out.push(Con {
                id: rel.to_string(),
                steps: steps.clone(),
                kind: ConstraintKind::Target(targets.clone()),
            });
        }
    }
    out
}

fn lit(s: &str) -> String {
    format!("{s:?}")
}

/// The generated file.
pub fn emit(shared: &Path) -> Result<Vec<(PathBuf, String)>, String> {
    let dir = shared.join("fhir-assets/nhs/StructureDefinitions");
    let files = crate::codes::xml_files(&dir)?;
    let mut profiles = Vec::new();
    for f in &files {
        if let Some(p) = parse(f)? {
            profiles.push(p);
        }
    }
    profiles.sort_by(|a, b| a.url.cmp(&b.url));
    profiles.dedup_by(|a, b| a.url == b.url);
    let mut value_sets = BTreeMap::new();
    for f in crate::codes::xml_files(&shared.join("fhir-assets/nhs/ValueSets"))? {
        let vs = parse_value_set(&f)?;
        value_sets.insert(vs.url.clone(), vs);
    }
    let mut used: Vec<String> = Vec::new();
    let compiled: Vec<Vec<Con>> = profiles
        .iter()
        .map(|p| compile(p, &value_sets, &mut used))
        .collect();
    let mut o = String::from(
        "// @generated by `cargo xtask codegen` from ../shared/fhir-assets/nhs/StructureDefinitions and ValueSets.\n// DO NOT EDIT: change xtask/src/profiles.rs and regenerate.\n\n",
    );
    o.push_str(
        "use crate::profiles::{Con, Include, ConstraintKind::*, ProfileDef, ValueSetDef, step, slice};\n\n",
    );
    let mut hint = 0usize;
    let _ = writeln!(
        o,
        "/// The NHS resource profiles, sorted by URL, with the constraints that narrow STU3."
    );
    let _ = writeln!(
        o,
        "pub static PROFILES: [ProfileDef; {}] = [",
        profiles.len()
    );
    for (p, cons) in profiles.iter().zip(&compiled) {
        let _ = writeln!(
            o,
            "    ProfileDef {{ url: {}, resource_type: {}, base: {}, cons: &[",
            lit(&p.url),
            lit(&p.ty),
            lit(&p.base)
        );
        for c in cons {
            let steps: Vec<String> = c
                .steps
                .iter()
                .map(|s| match &s.slice {
                    None => format!("step({})", lit(&s.name)),
                    Some((n, on, v)) => {
                        format!(
                            "slice({}, {}, {}, {})",
                            lit(&s.name),
                            lit(n),
                            lit(on),
                            lit(v)
                        )
                    }
                })
                .collect();
            let kind = match &c.kind {
                ConstraintKind::Card(min, max) => format!(
                    "Card {{ min: {min}, max: {} }}",
                    max.map_or("None".to_string(), |m| format!("Some({m})"))
                ),
                ConstraintKind::Fixed(v) => format!("Fixed({})", lit(v)),
                ConstraintKind::Binding(i) => format!("Binding({i})"),
                ConstraintKind::Target(t) => format!(
                    "Target(&[{}])",
                    t.iter().map(|x| lit(x)).collect::<Vec<_>>().join(", ")
                ),
            };
            let _ = writeln!(
                o,
                "        Con {{ id: {}, steps: &[{}], hint: {hint}, kind: {kind} }},",
                lit(&c.id),
                steps.join(", ")
            );
            hint += c.steps.len();
        }
        o.push_str("    ] },\n");
    }
    o.push_str("];\n\n");
    let _ = writeln!(
        o,
        "/// Number of path steps over all constraints (one learned slot hint each)."
    );
    let _ = writeln!(o, "pub const STEPS: usize = {hint};\n");
    let _ = writeln!(
        o,
        "/// The value sets of the compiled required bindings, by `Binding` index."
    );
    let _ = writeln!(
        o,
        "pub static VALUE_SETS: [ValueSetDef; {}] = [",
        used.len()
    );
    let mut seen = BTreeSet::new();
    for u in &used {
        seen.insert(u.clone());
        let vs = &value_sets[u];
        let inc: Vec<String> = vs
            .includes
            .iter()
            .map(|(s, codes)| {
                format!(
                    "Include {{ system: {}, codes: &[{}] }}",
                    lit(s),
                    codes.iter().map(|c| lit(c)).collect::<Vec<_>>().join(", ")
                )
            })
            .collect();
        let _ = writeln!(
            o,
            "    ValueSetDef {{ url: {}, includes: &[{}] }},",
            lit(u),
            inc.join(", ")
        );
    }
    o.push_str("];\n");
    Ok(vec![(
        PathBuf::from("crates/ems-profiles/src/generated_profiles.rs"),
        o,
    )])
}
