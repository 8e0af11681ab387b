//! The mutation test generated from the requirement tables: for every
//! declarative row of `ems_profiles::tables`, a single-defect mutation of a
//! valid message (builder output, or a corpus message when the builder
//! sample lacks the role) must produce that row's rule at that row's element
//! and no other new error; for every optional row, removing the optional
//! element or resource must add no error. Mutations are made on the JSON
//! form of the message, so one generic mutator serves every row.

use ems::bundle::samples::{all_pairs, sample};
use ems::bundle::{example_publisher, BuildContext, MessageEventType};
use ems::profiles::tables::{
    all_tables, members_of, Check, Form, Met, Points, Row, Sel, Table, To,
};
use ems::profiles::{code_system, InputKind, Mode, Validator};
use ems::stu3::node::find_field;
use ems::stu3::{Bundle, Resource};
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// (is an error, rule, location, message)
type Found = BTreeSet<(bool, String, String, String)>;

/// Errors and warnings of a JSON message. Entry indexes in locations are
/// replaced by the entry's fullUrl, so that removing an entry does not make
/// the findings about the others look new.
fn errors(v: &Value) -> Found {
    let bytes = serde_json::to_vec(v).unwrap();
    let out = Validator::new(Mode::Publish).validate_bytes(&bytes, InputKind::Event);
    let stable = |loc: &str| -> String {
        let Some(rest) = loc.strip_prefix("Bundle.entry[") else {
            return loc.to_string();
        };
        let Some((n, tail)) = rest.split_once(']') else {
            return loc.to_string();
        };
        let url = n
            .parse::<usize>()
            .ok()
            .and_then(|n| {
                v.pointer(&format!("/entry/{n}/fullUrl"))?
                    .as_str()
                    .map(str::to_string)
            })
            .unwrap_or_else(|| n.to_string());
        format!("Bundle.entry({url}){tail}")
    };
    out.outcome
        .issues
        .iter()
        .filter(|i| i.severity.is_error() || i.severity == ems::stu3::Severity::Warning)
        .map(|i| {
            (
                i.severity.is_error(),
                i.rule.to_string(),
                stable(&i.location),
                i.message.clone(),
            )
        })
        .collect()
}

/// A message the rows can be mutated from.
struct Base {
    name: String,
    json: Value,
    bundle: Bundle,
    met: &'static str,
}

fn met_str(m: MessageEventType) -> &'static str {
    match m {
        MessageEventType::New => "new",
        MessageEventType::Update => "update",
        MessageEventType::Delete => "delete",
    }
}

fn base_of(name: String, r: Resource, met: &'static str) -> Option<Base> {
    let json: Value = serde_json::from_str(&ems::stu3::to_json(&r)).ok()?;
    let Resource::Bundle(b) = r else { return None };
    Some(Base {
        name,
        json,
        bundle: *b,
        met,
    })
}

/// Builder samples first, then the corpus messages of the event.
fn bases(event: &str) -> Vec<Base> {
    let mut v = Vec::new();
    for (e, m) in all_pairs() {
        if e == event {
            let mut cx = BuildContext::deterministic(example_publisher(), 5);
            let b = sample(e, m, true, &mut cx).unwrap().bundle;
            v.extend(base_of(
                format!("builder {e} {}", met_str(m)),
                Resource::from(b),
                met_str(m),
            ));
        }
    }
    for path in ems_testdata::files("corpus/nems", "xml") {
        let bytes = std::fs::read(&path).unwrap();
        let Ok(p) = ems::stu3::ReadOptions::default().read_xml(&bytes) else {
            continue;
        };
        let Some(b) = p.resource.get::<Bundle>() else {
            continue;
        };
        let Some(mh) = b
            .entry
            .first()
            .and_then(|e| e.resource.as_ref()?.get::<ems::stu3::MessageHeader>())
        else {
            continue;
        };
        let code = mh
            .event
            .as_ref()
            .and_then(|e| e.code.as_ref()?.value.as_deref());
        if code != Some(event) {
            continue;
        }
        let met = if path.to_string_lossy().contains("delete") {
            "delete"
        } else {
            "new"
        };
        let name = format!("corpus {}", path.file_name().unwrap().to_string_lossy());
        v.extend(base_of(name, p.resource, met));
    }
    v
}

/// The first entry of one of `types` in `doc` (its fullUrl).
fn entry_of(doc: &Value, types: &[&str]) -> Option<String> {
    doc.get("entry")?.as_array()?.iter().find_map(|e| {
        let ty = e.pointer("/resource/resourceType")?.as_str()?;
        types
            .contains(&ty)
            .then(|| e.get("fullUrl")?.as_str().map(str::to_string))?
    })
}

/// A member of `role` built from the table's own rows for it (fixed values,
/// codings, references to resources of the right type), for roles that a
/// base message lacks (the screening comment Communication).
fn synthesize(t: &'static Table, role: &str, doc: &Value, n: usize) -> Option<Value> {
    let r = t.role(role)?;
    let res = Resource::new_of_type(r.ty)?;
    let desc = res.as_node().desc();
    let kind = |name: &str| -> Option<(&'static str, bool)> {
        let (i, _) = find_field(desc, name, 0)?;
        let f = &desc.fields[i];
        match f.kind {
            ems::stu3::node::FieldKind::Complex(ty) => Some((ty, f.many)),
            _ => Some(("", f.many)),
        }
    };
    let wrap = |name: &str, v: Value| {
        if kind(name).is_some_and(|k| k.1) {
            json!([v])
        } else {
            v
        }
    };
    let mut out = json!({ "resourceType": r.ty, "id": fresh(900 + n) });
    for row in t
        .rows
        .iter()
        .filter(|x| x.role == role && applies(x.met, "new"))
    {
        let Some(path) = row
            .element()
            .filter(|p| !p.contains('.') && !p.starts_with("extension("))
        else {
            continue;
        };
        let coding = |system: &str, code: &str, display: &str| {
            let c = json!({ "system": system, "code": code, "display": display });
            if kind(path).is_some_and(|k| k.0 == "Coding") {
                c
            } else {
                json!({ "coding": [c] })
            }
        };
        let v = match row.check {
            Check::Value { value, .. } => json!(value),
            Check::Fixed {
                system: Some(sys),
                code,
                display,
                ..
            } => coding(sys, code, display.unwrap_or("")),
            Check::OneOf { system, codes, .. } => coding(system, codes[0].0, codes[0].1),
            Check::Target {
                to: To::Types(tys), ..
            } => json!({ "reference": entry_of(doc, tys)? }),
            Check::Card { min, .. } if min >= 1 && out.get(path).is_none() => match kind(path) {
                Some(("Reference", _)) => {
                    let tys: &[&str] = if path == "subject" {
                        &["Patient"]
                    } else {
                        &["Organization"]
                    };
                    json!({ "reference": entry_of(doc, tys)? })
                }
                Some(("CodeableConcept", _)) => json!({ "text": "synthesized" }),
                _ => continue,
            },
            _ => continue,
        };
        out[path] = wrap(path, v);
    }
    Some(out)
}

/// Bases with a synthesized member for each role a base message lacks.
fn synthesized_bases(t: &'static Table, bases: &[Base]) -> Vec<Base> {
    let mut v = Vec::new();
    for (n, role) in t.roles.iter().enumerate() {
        if !matches!(role.sel, Sel::All) || t.event == "*" {
            continue;
        }
        // into the first `new` base that lacks the role
        for base in bases
            .iter()
            .filter(|b| b.met == "new" && members_of(t, role.name, &b.bundle).is_empty())
        {
            let Some(member) = synthesize(t, role.name, &base.json, n) else {
                continue;
            };
            let mut doc = base.json.clone();
            let id = member["id"].as_str().unwrap().to_string();
            doc["entry"]
                .as_array_mut()
                .unwrap()
                .push(json!({ "fullUrl": format!("urn:uuid:{id}"), "resource": member }));
            // only a clean addition is a base: no error the base lacks
            let before = errors(&base.json);
            if errors(&doc).iter().any(|e| e.0 && !before.contains(e)) {
                continue;
            }
            let Ok(p) = ems::stu3::from_json(serde_json::to_string(&doc).unwrap().as_bytes())
            else {
                continue;
            };
            v.extend(base_of(
                format!("{} + synthesized {}", base.name, role.name),
                p.resource,
                "new",
            ));
            break;
        }
    }
    v
}

/// Whether a Card row only restates the STU3 maximum of a single-valued
/// element (`0..1`): the reader's SCHEMA-REPEATED enforces it.
fn restates_base_max(t: &'static Table, row: &Row) -> bool {
    match row.check {
        Check::Card {
            path,
            min: 0,
            max: Some(1),
        } if !path.contains('.') && !path.starts_with("extension(") => {
            t.role(row.role).is_some_and(|r| !many(r.ty, path))
        }
        _ => false,
    }
}

fn applies(m: Met, met: &str) -> bool {
    m.applies(Some(met))
}

/// Splits a table path into segments (`extension(url)` may contain dots).
fn segments(path: &str) -> Vec<&str> {
    let mut v = Vec::new();
    let mut rest = path;
    while !rest.is_empty() {
        let end = if rest.starts_with("extension(") {
            rest.find(')').map_or(rest.len(), |i| i + 1)
        } else {
            rest.find('.').unwrap_or(rest.len())
        };
        v.push(&rest[..end]);
        rest = rest[end..].strip_prefix('.').unwrap_or(&rest[end..]);
    }
    v
}

/// JSON pointers of the values at `path` below the pointer `at`.
fn pointers(doc: &Value, at: &str, path: &str) -> Vec<String> {
    let segs = segments(path);
    let mut cur = vec![at.to_string()];
    for (n, seg) in segs.iter().enumerate() {
        let mut next = Vec::new();
        for p in &cur {
            let Some(node) = doc.pointer(p) else { continue };
            if let Some(url) = seg
                .strip_prefix("extension(")
                .and_then(|s| s.strip_suffix(')'))
            {
                if let Some(a) = node.get("extension").and_then(Value::as_array) {
                    for (j, e) in a.iter().enumerate() {
                        if e.get("url").and_then(Value::as_str) == Some(url) {
                            next.push(format!("{p}/extension/{j}"));
                        }
                    }
                }
                continue;
            }
            // a primitive followed by extension(…) keeps its extensions in `_name`
            let key = match segs.get(n + 1) {
                Some(s) if s.starts_with("extension(") => format!("_{seg}"),
                _ => seg.to_string(),
            };
            match node.get(&key) {
                Some(Value::Array(a)) => {
                    next.extend((0..a.len()).map(|j| format!("{p}/{key}/{j}")))
                }
                Some(_) => next.push(format!("{p}/{key}")),
                None => {}
            }
        }
        cur = next;
    }
    cur
}

/// Removes the values at `ptrs` (last first, so array indexes stay right).
fn remove_all(doc: &mut Value, ptrs: &[String]) {
    let mut ptrs = ptrs.to_vec();
    // last first, comparing array indexes as numbers
    let key = |p: &String| -> Vec<(usize, String)> {
        p.split('/')
            .map(|s| (s.parse::<usize>().unwrap_or(usize::MAX), s.to_string()))
            .collect()
    };
    ptrs.sort_by_key(|p| std::cmp::Reverse(key(p)));
    for p in ptrs {
        let (parent, last) = p.rsplit_once('/').unwrap();
        match doc.pointer_mut(parent) {
            Some(Value::Array(a)) => {
                a.remove(last.parse::<usize>().unwrap());
            }
            Some(Value::Object(o)) => {
                o.remove(last);
                o.remove(&format!("_{last}"));
                if let Some(plain) = last.strip_prefix('_') {
                    o.remove(plain);
                }
            }
            _ => {}
        }
        // drop the arrays and objects emptied by the removal, upwards
        let mut at = parent.to_string();
        while let Some((gp, key)) = at.rsplit_once('/') {
            let empty = doc.pointer(&at).is_some_and(|v| {
                v.as_array().is_some_and(|a| a.is_empty())
                    || v.as_object().is_some_and(|o| o.is_empty())
            });
            if !empty || at.ends_with("/resource") {
                break;
            }
            match doc.pointer_mut(gp) {
                Some(Value::Object(o)) => {
                    o.remove(key);
                }
                Some(Value::Array(a)) => {
                    a.remove(key.parse::<usize>().unwrap());
                }
                _ => break,
            }
            at = gp.to_string();
        }
    }
}

fn res_ptr(i: usize) -> String {
    format!("/entry/{i}/resource")
}

fn fresh(n: usize) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

/// Whether element `name` of resource type `ty` repeats in STU3.
fn many(ty: &str, name: &str) -> bool {
    let r = Resource::new_of_type(ty).unwrap();
    find_field(r.as_node().desc(), name, 0).is_some_and(|(i, _)| r.as_node().desc().fields[i].many)
}

/// A wrong code in `system` (not `avoid`, not in `also`).
fn wrong_code(system: Option<&str>, avoid: &[&str]) -> String {
    if let Some(cs) = system.and_then(code_system) {
        if let Some((c, _)) = cs.concepts.iter().find(|(c, _)| !avoid.contains(c)) {
            return c.to_string();
        }
    }
    "1234567".into()
}

/// The codings (pointers) of the CodeableConcepts or Codings at `ptrs`.
fn coding_ptrs(doc: &Value, ptrs: &[String]) -> Vec<String> {
    let mut v = Vec::new();
    for p in ptrs {
        match doc.pointer(p).and_then(|x| x.get("coding")) {
            Some(Value::Array(a)) => v.extend((0..a.len()).map(|j| format!("{p}/coding/{j}"))),
            _ => {
                if doc
                    .pointer(p)
                    .is_some_and(|x| x.get("code").is_some() || x.get("system").is_some())
                {
                    v.push(p.clone());
                }
            }
        }
    }
    v
}

fn set(doc: &mut Value, ptr: &str, key: &str, val: Value) {
    if let Some(Value::Object(o)) = doc.pointer_mut(ptr) {
        o.insert(key.to_string(), val);
    }
}

enum Outcome {
    /// The row's rule at its element, nothing else new.
    Exact,
    /// The row's rule at its element, with other new errors that the
    /// mutation necessarily causes (listed).
    Collateral(Vec<String>),
    /// The mutation was made but the row's rule did not appear.
    Missed(String),
    /// No base message offers what the row needs.
    NotApplicable,
}

/// The mutation of `row` on `base`: the mutated message and the member
/// entry the finding is expected at (`None`: `Bundle.entry`).
fn mutate(
    t: &'static Table,
    row: &Row,
    base: &Base,
    last_resort: bool,
) -> Option<(Value, Option<usize>)> {
    let role = t.role(row.role)?;
    let members = members_of(t, row.role, &base.bundle);
    let mut doc = base.json.clone();
    let mh_url = doc.pointer("/entry/0/fullUrl").cloned()?;
    match row.check {
        Check::Logic { .. } => None,
        Check::Count { min, max } => {
            if min >= 1 && !members.is_empty() {
                let ptrs: Vec<String> = members.iter().map(|i| format!("/entry/{i}")).collect();
                remove_all(&mut doc, &ptrs);
                return Some((doc, None));
            }
            let max = max?;
            // copies of a resource join a role selected by reference only if referenced
            if matches!(role.sel, Sel::RefBy { .. } | Sel::Focus) {
                return None;
            }
            if members.is_empty() && !last_resort {
                return None;
            }
            let template = members
                .first()
                .and_then(|i| doc.pointer(&res_ptr(*i)).cloned())
                .unwrap_or_else(|| json!({ "resourceType": role.ty }));
            let entries = doc.get_mut("entry")?.as_array_mut()?;
            let have = members.len() as u32;
            for n in have..=max {
                let id = fresh(n as usize + 1);
                let mut r = template.clone();
                r["id"] = json!(id);
                entries.push(json!({ "fullUrl": format!("urn:uuid:{id}"), "resource": r }));
            }
            Some((doc, None))
        }
        Check::Card { path, min, max } => {
            for &i in &members {
                let ptrs = pointers(&doc, &res_ptr(i), path);
                if min >= 1 && !ptrs.is_empty() {
                    remove_all(&mut doc, &ptrs);
                    return Some((doc, Some(i)));
                }
                if min == 0 {
                    if let Some(m) = max {
                        // over the maximum: repeat a value, or add one to a prohibited element
                        let segs = segments(path);
                        if let Some(first) = ptrs.first() {
                            let (parent, _) = first.rsplit_once('/')?;
                            if let Some(Value::Array(a)) = doc.pointer_mut(parent) {
                                let v = a[0].clone();
                                while a.len() as u32 <= m {
                                    a.push(v.clone());
                                }
                                return Some((doc, Some(i)));
                            }
                        } else if segs.len() == 1 {
                            if let Some(url) = segs[0]
                                .strip_prefix("extension(")
                                .and_then(|s| s.strip_suffix(')'))
                            {
                                // one extension more than the maximum
                                let x = json!({ "url": url, "valueString": "x" });
                                let r = doc.pointer_mut(&res_ptr(i))?;
                                let list =
                                    r.as_object_mut()?.entry("extension").or_insert(json!([]));
                                for _ in 0..=m {
                                    list.as_array_mut()?.push(x.clone());
                                }
                                return Some((doc, Some(i)));
                            }
                            let v = json!({ "extension": [{ "url": "https://example.org/x", "valueString": "x" }] });
                            let v = if many(role.ty, segs[0]) {
                                json!(vec![v; m as usize + 1])
                            } else if m == 0 {
                                v
                            } else {
                                return None;
                            };
                            set(&mut doc, &res_ptr(i), segs[0], v);
                            return Some((doc, Some(i)));
                        }
                    }
                }
            }
            None
        }
        Check::CardEach {
            parent, path, min, ..
        } => {
            for &i in &members {
                for p in pointers(&doc, &res_ptr(i), parent) {
                    let ptrs = pointers(&doc, &p, path);
                    if min >= 1 && !ptrs.is_empty() {
                        remove_all(&mut doc, &ptrs);
                        return Some((doc, Some(i)));
                    }
                }
            }
            None
        }
        Check::Fixed {
            path, system, code, ..
        } => {
            // a coding that also selects the role is mutated in its display
            let selects = matches!(role.sel, Sel::Coded { path: p, .. } if p == path);
            for &i in &members {
                for c in coding_ptrs(&doc, &pointers(&doc, &res_ptr(i), path)) {
                    let cv = doc.pointer(&c)?;
                    let hit = cv.get("system").and_then(Value::as_str) == system
                        && cv.get("code").and_then(Value::as_str) == Some(code);
                    if hit {
                        let wrong = wrong_code(system, &[code]);
                        let complete = system.and_then(code_system).is_some_and(|c| c.complete);
                        let display = matches!(
                            row.check,
                            Check::Fixed {
                                display: Some(_),
                                ..
                            }
                        );
                        if (selects || (complete && wrong == "1234567")) && display {
                            set(&mut doc, &c, "display", json!("a different display"));
                        } else if selects {
                            remove_all(&mut doc, &[c]);
                        } else {
                            set(&mut doc, &c, "code", json!(wrong));
                        }
                        return Some((doc, Some(i)));
                    }
                }
            }
            None
        }
        Check::OneOf {
            path,
            system,
            codes,
        } => {
            let avoid: Vec<&str> = codes.iter().map(|(c, _)| *c).collect();
            for &i in &members {
                for c in coding_ptrs(&doc, &pointers(&doc, &res_ptr(i), path)) {
                    let cv = doc.pointer(&c)?;
                    if cv.get("system").and_then(Value::as_str) == Some(system) {
                        set(
                            &mut doc,
                            &c,
                            "code",
                            json!(wrong_code(Some(system), &avoid)),
                        );
                        return Some((doc, Some(i)));
                    }
                }
            }
            None
        }
        Check::System { path, system } => {
            let other = if system == "http://snomed.info/sct" {
                "http://loinc.org"
            } else {
                "http://snomed.info/sct"
            };
            for &i in &members {
                let cs = coding_ptrs(&doc, &pointers(&doc, &res_ptr(i), path));
                if !cs.is_empty() {
                    for c in cs {
                        set(&mut doc, &c, "system", json!(other));
                    }
                    return Some((doc, Some(i)));
                }
            }
            None
        }
        Check::Value { path, value } => {
            // another code of the element's binding, or another string
            let r = Resource::new_of_type(role.ty)?;
            let desc = r.as_node().desc();
            let other = find_field(desc, path, 0)
                .and_then(|(fi, _)| desc.fields[fi].codes.iter().find(|c| **c != value).copied())
                .unwrap_or("https://example.org/other");
            for &i in &members {
                if let Some(p) = pointers(&doc, &res_ptr(i), path).first() {
                    *doc.pointer_mut(p)? = json!(other);
                    return Some((doc, Some(i)));
                }
            }
            None
        }
        Check::Is { path, is, required } => {
            // a required value removed, an optional one given a wrong form
            for &i in &members {
                let Some(p) = pointers(&doc, &res_ptr(i), path).first().cloned() else {
                    continue;
                };
                if required {
                    remove_all(&mut doc, &[p]);
                    return Some((doc, Some(i)));
                }
                match is {
                    Form::Uuid => *doc.pointer_mut(&p)? = json!("not-a-uuid"),
                    Form::Integer => *doc.pointer_mut(&p)? = json!("first"),
                    Form::Equals(_) => *doc.pointer_mut(&p)? = json!("https://example.org/other"),
                    Form::EventCode => *doc.pointer_mut(&p)? = json!("no-such-event-1"),
                    Form::EventDisplay => {
                        set(&mut doc, &p, "display", json!("a different display"))
                    }
                    Form::Contact(_) => set(&mut doc, &p, "value", json!("not a contact")),
                    Form::EventCoding { .. } => {
                        let c = format!("{p}/valueCodeableConcept/coding/0");
                        set(&mut doc, &c, "code", json!("no-such-code"));
                    }
                }
                return Some((doc, Some(i)));
            }
            None
        }
        Check::Includes { path, value } => {
            // the value removed from the list
            for &i in &members {
                let ptrs: Vec<String> = pointers(&doc, &res_ptr(i), path)
                    .into_iter()
                    .filter(|p| doc.pointer(p).and_then(Value::as_str) == Some(value))
                    .collect();
                if !ptrs.is_empty() {
                    remove_all(&mut doc, &ptrs);
                    return Some((doc, Some(i)));
                }
            }
            None
        }
        Check::InBundle { path, to, required } => {
            // a required reference pointed outside the bundle (at a resource of
            // the wanted type, where it names one), else at the MessageHeader
            let outside = match to {
                Points::Types(t) => format!("https://example.org/STU3/{}/X26", t[0]),
                _ => format!("urn:uuid:{}", fresh(0)),
            };
            let wrong = if required {
                json!(outside)
            } else {
                mh_url.clone()
            };
            for &i in &members {
                if let Some(p) = pointers(&doc, &res_ptr(i), path).first() {
                    set(&mut doc, p, "reference", wrong);
                    return Some((doc, Some(i)));
                }
            }
            None
        }
        Check::Target { path, to } => {
            // a wrong target: a same-type resource outside the role, else the MessageHeader
            let wrong = match to {
                To::Role(n) => {
                    let target_ty = t.role(n)?.ty;
                    let inside = members_of(t, n, &base.bundle);
                    base.bundle
                        .entry
                        .iter()
                        .enumerate()
                        .find(|(k, e)| {
                            !inside.contains(k)
                                && e.resource
                                    .as_ref()
                                    .is_some_and(|r| r.resource_type() == target_ty)
                        })
                        .and_then(|(_, e)| e.full_url.as_ref()?.value.as_deref())
                        .map(|u| json!(u))
                        .unwrap_or_else(|| mh_url.clone())
                }
                To::Types(_) | To::EventFocus => mh_url.clone(),
            };
            for &i in &members {
                let ptrs = pointers(&doc, &res_ptr(i), path);
                if let Some(p) = ptrs.first() {
                    set(&mut doc, p, "reference", wrong.clone());
                    return Some((doc, Some(i)));
                }
            }
            // add the optional reference to the first member
            let segs = segments(path);
            let i = *members.first()?;
            if segs.len() == 1 {
                let v = json!({ "reference": wrong });
                let v = if many(role.ty, segs[0]) {
                    json!([v])
                } else {
                    v
                };
                set(&mut doc, &res_ptr(i), segs[0], v);
                return Some((doc, Some(i)));
            }
            None
        }
    }
}

/// The optional-row control: the optional element or resources removed.
fn control(t: &'static Table, row: &Row, base: &Base) -> Option<Value> {
    let members = members_of(t, row.role, &base.bundle);
    let mut doc = base.json.clone();
    match row.check {
        Check::Count { min: 0, .. } if !members.is_empty() => {
            let ptrs: Vec<String> = members.iter().map(|i| format!("/entry/{i}")).collect();
            remove_all(&mut doc, &ptrs);
            Some(doc)
        }
        Check::Card { path, min: 0, max } if max != Some(0) && !path.contains('.') => {
            let ptrs: Vec<String> = members
                .iter()
                .flat_map(|i| pointers(&doc, &res_ptr(*i), path))
                .collect();
            if ptrs.is_empty() {
                return None;
            }
            remove_all(&mut doc, &ptrs);
            Some(doc)
        }
        _ => None,
    }
}

fn first_segment(row: &Row) -> String {
    match row.check {
        Check::CardEach { parent, .. } => segments(parent)[0].to_string(),
        _ => row
            .element()
            .map(|p| segments(p)[0].to_string())
            .unwrap_or_default(),
    }
}

fn judge(row: &Row, base: &Base, mutated: &Value, at: Option<usize>) -> Outcome {
    let before = errors(&base.json);
    let after = errors(mutated);
    let new: Vec<&(bool, String, String, String)> =
        after.iter().filter(|e| !before.contains(e)).collect();
    let tag = format!("[{}]", row.id);
    let want_loc = at.map(|i| {
        let ty = base.bundle.entry[i]
            .resource
            .as_ref()
            .unwrap()
            .resource_type();
        let url = mutated
            .pointer(&format!("/entry/{i}/fullUrl"))
            .and_then(Value::as_str)
            .unwrap_or("");
        format!(
            "Bundle.entry({url}).resource.ofType({ty}).{}",
            first_segment(row)
        )
    });
    let should = row.strength == ems::profiles::Strength::Should;
    let hit = |e: &&(bool, String, String, String)| {
        (e.0 || should)
            && e.1 == row.rule.as_str()
            && (e.3.contains(&tag)
                || want_loc
                    .as_ref()
                    .is_some_and(|l| e.2.starts_with(l.as_str())))
    };
    if !new.iter().any(hit) {
        return Outcome::Missed(format!("{}: new findings {:?}", base.name, new));
    }
    let other: Vec<String> = new
        .iter()
        .filter(|e| e.0 && e.1 != row.rule.as_str())
        .map(|e| format!("{} at {}", e.1, e.2))
        .collect();
    if other.is_empty() {
        Outcome::Exact
    } else {
        Outcome::Collateral(other)
    }
}

#[test]
fn every_table_row_is_enforced() {
    let _heavy = crate::HEAVY.lock().unwrap_or_else(|e| e.into_inner());
    let (mut exact, mut collateral, mut logic, mut controls) = (0, Vec::new(), 0, 0);
    let mut base_max = Vec::new();
    let mut missed = Vec::new();
    let mut not_applicable = Vec::new();
    let mut control_failures = Vec::new();
    let mut total = 0;
    for t in all_tables() {
        if t.event == "*" {
            // the generic rows are exercised on one event's messages
        }
        let events: Vec<&str> = if t.event == "*" {
            vec!["vaccinations-1", "pds-birth-notification-1"]
        } else {
            vec![t.event]
        };
        let mut bases: Vec<Base> = events.iter().flat_map(|e| bases(e)).collect();
        let extra = synthesized_bases(t, &bases);
        bases.extend(extra);
        for row in t.rows {
            total += 1;
            if matches!(row.check, Check::Logic { .. }) {
                logic += 1;
                continue;
            }
            if restates_base_max(t, row) {
                base_max.push(row.id);
                continue;
            }
            let mut outcome = Outcome::NotApplicable;
            'bases: for last_resort in [false, true] {
                for base in bases.iter().filter(|b| applies(row.met, b.met)) {
                    if let Some((m, at)) = mutate(t, row, base, last_resort) {
                        outcome = judge(row, base, &m, at);
                        if matches!(outcome, Outcome::Exact) {
                            break 'bases;
                        }
                    }
                }
                if !matches!(outcome, Outcome::NotApplicable) {
                    break;
                }
            }
            match outcome {
                Outcome::Exact => exact += 1,
                Outcome::Collateral(o) => collateral.push(format!("{}: {}", row.id, o.join(", "))),
                Outcome::Missed(why) => missed.push(format!("{}: {why}", row.id)),
                Outcome::NotApplicable => not_applicable.push(row.id),
            }
            for base in bases.iter().filter(|b| applies(row.met, b.met)) {
                if let Some(c) = control(t, row, base) {
                    controls += 1;
                    let before = errors(&base.json);
                    let new: Vec<_> = errors(&c)
                        .into_iter()
                        .filter(|e| e.0 && !before.contains(e))
                        .collect();
                    if !new.is_empty() {
                        control_failures.push(format!("{} on {}: {:?}", row.id, base.name, new));
                    }
                    break;
                }
            }
        }
    }
    println!(
        "table rows: {total}; logic rows (named tests): {logic}; declarative rows covered exactly: {exact}, \
         covered with collateral findings: {}, restating an STU3 0..1 (the reader's SCHEMA-REPEATED): {}, \
         not applicable to any base message: {}; optional-row controls: {controls}",
        collateral.len(),
        base_max.len(),
        not_applicable.len()
    );
    for c in &collateral {
        println!("  collateral {c}");
    }
    for n in &not_applicable {
        println!("  not covered {n}");
    }
    assert!(
        missed.is_empty(),
        "rows whose mutation was not reported:\n{}",
        missed.join("\n")
    );
    // the mother is selected as the Communication's subject, a single
    // reference: a second mother cannot be made, so her 0..1 has no mutation
    assert_eq!(
        not_applicable,
        ["10.1/Patient-mother/card"],
        "rows no base message can exercise"
    );
    assert!(
        control_failures.is_empty(),
        "optional-row controls with errors:\n{}",
        control_failures.join("\n")
    );
}
