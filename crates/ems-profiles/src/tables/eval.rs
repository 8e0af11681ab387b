//! The one evaluator of the requirement tables: finds each role's members,
//! reads element paths through the `ems_stu3::node` reflection layer and
//! reports every row that a message breaks.

use super::{Check, Row, Sel, Table, To};
use crate::rules::{id as R, Report};
use ems_stu3::node::{find_field, ChoiceRef, FieldRef, Node};
use ems_stu3::primitive::PrimNode;
use ems_stu3::Resource;

/// What the evaluator needs to know about a message.
pub(crate) trait View<'a> {
    /// Number of entries with a resource.
    fn len(&self) -> usize;
    /// Resource of entry `k`.
    fn res(&self, k: usize) -> &'a Resource;
    /// `Bundle.entry` index of entry `k`.
    fn bundle_index(&self, k: usize) -> usize;
    /// Entry a reference points at.
    fn resolve(&self, reference: &str) -> Option<usize>;
    /// Whether entry `k` repeats another entry's fullUrl (FULLURL-UNIQUE
    /// reports it; it is not counted a second time).
    fn repeated(&self, k: usize) -> bool;
    /// Entry of the focus.
    fn focus(&self) -> Option<usize>;
    /// messageEventType code.
    fn met(&self) -> Option<&str>;
}

/// One value found at a path.
#[derive(Clone, Copy)]
pub(crate) enum Val<'a> {
    Node(&'a dyn Node),
    Prim(&'a dyn PrimNode),
    Attr(&'a str),
    Res(&'a Resource),
}

/// Splits the first segment off a path (`extension(url)` may contain dots).
fn split(path: &str) -> (&str, &str) {
    let end = if path.starts_with("extension(") {
        path.find(')').map_or(path.len(), |i| i + 1)
    } else {
        path.find('.').unwrap_or(path.len())
    };
    let (seg, rest) = path.split_at(end);
    (seg, rest.strip_prefix('.').unwrap_or(rest))
}

/// The string value of primitive or attribute element `name` of `n`.
pub(crate) fn str_of<'a>(n: &'a dyn Node, name: &str) -> Option<&'a str> {
    let (i, _) = find_field(n.desc(), name, 0)?;
    match n.field(i) {
        FieldRef::Prim(Some(p)) => p.value_str(),
        FieldRef::Attr(a) => a,
        _ => None,
    }
}

fn push_field<'a>(n: &'a dyn Node, seg: &str, out: &mut Vec<Val<'a>>) {
    let Some((i, alt)) = find_field(n.desc(), seg, 0) else {
        return;
    };
    match n.field(i) {
        FieldRef::Attr(Some(s)) => out.push(Val::Attr(s)),
        FieldRef::Prim(Some(p)) => out.push(Val::Prim(p)),
        FieldRef::PrimList(v) => out.extend((0..v.len()).filter_map(|j| v.get(j).map(Val::Prim))),
        FieldRef::One(Some(x)) => out.push(Val::Node(x)),
        FieldRef::Many(v) => out.extend((0..v.len()).filter_map(|j| v.get(j).map(Val::Node))),
        FieldRef::Choice(Some((a, v))) if alt.is_none_or(|want| want == a) => match v {
            ChoiceRef::Prim(p) => out.push(Val::Prim(p)),
            ChoiceRef::Node(x) => out.push(Val::Node(x)),
        },
        FieldRef::Resource(Some(r)) => out.push(Val::Res(r)),
        FieldRef::Resources(v) => out.extend(v.iter().map(Val::Res)),
        _ => {}
    }
}

fn step<'a>(v: Val<'a>, seg: &str, out: &mut Vec<Val<'a>>) {
    if let Some(url) = seg
        .strip_prefix("extension(")
        .and_then(|s| s.strip_suffix(')'))
    {
        let exts: &'a [ems_stu3::Extension] = match v {
            Val::Prim(p) => p.extension(),
            Val::Node(n) => {
                let mut tmp = Vec::new();
                push_field(n, "extension", &mut tmp);
                for x in tmp {
                    if let Val::Node(e) = x {
                        if str_of(e, "url") == Some(url) {
                            out.push(Val::Node(e));
                        }
                    }
                }
                return;
            }
            Val::Res(r) => return step(Val::Node(r.as_node()), seg, out),
            Val::Attr(_) => return,
        };
        out.extend(
            exts.iter()
                .filter(|e| e.url.as_deref() == Some(url))
                .map(|e| Val::Node(e as &dyn Node)),
        );
        return;
    }
    match v {
        Val::Node(n) => push_field(n, seg, out),
        Val::Res(r) => push_field(r.as_node(), seg, out),
        Val::Prim(_) | Val::Attr(_) => {}
    }
}

/// Every value at `path` in `r`.
pub(crate) fn values<'a>(r: &'a Resource, path: &str) -> Vec<Val<'a>> {
    values_in(Val::Res(r), path)
}

/// Every value at `path` below `v`.
fn values_in<'a>(v: Val<'a>, path: &str) -> Vec<Val<'a>> {
    let mut cur = vec![v];
    let mut rest = path;
    while !rest.is_empty() {
        let (seg, tail) = split(rest);
        let mut next = Vec::new();
        for v in cur {
            step(v, seg, &mut next);
        }
        cur = next;
        rest = tail;
    }
    cur
}

/// The codings of a CodeableConcept or Coding value.
fn codings<'a>(v: Val<'a>) -> Vec<&'a dyn Node> {
    let Val::Node(n) = v else { return Vec::new() };
    match n.desc().name {
        "Coding" => vec![n],
        "CodeableConcept" => {
            let mut out = Vec::new();
            push_field(n, "coding", &mut out);
            out.into_iter()
                .filter_map(|c| match c {
                    Val::Node(c) => Some(c),
                    _ => None,
                })
                .collect()
        }
        _ => Vec::new(),
    }
}

/// The reference string of a Reference value.
fn reference_of(v: Val<'_>) -> Option<&str> {
    match v {
        Val::Node(n) if n.desc().name == "Reference" => str_of(n, "reference"),
        _ => None,
    }
}

/// The resource type an unresolved absolute reference names
/// (`https://directory.spineservices.nhs.uk/STU3/Organization/X26` → Organization).
fn type_in_url(r: &str) -> Option<&str> {
    if r.starts_with("urn:") || !r.contains("://") {
        return None;
    }
    let mut parts = r.rsplit('/');
    parts.next()?;
    parts.next()
}

struct Eval<'a, 'v, V: View<'a>> {
    table: &'static Table,
    view: &'v V,
    members: Vec<Option<Vec<usize>>>,
    _a: std::marker::PhantomData<&'a ()>,
}

impl<'a, V: View<'a>> Eval<'a, '_, V> {
    fn members(&mut self, role: &str, depth: u8) -> Vec<usize> {
        let Some(ri) = self.table.roles.iter().position(|r| r.name == role) else {
            return Vec::new();
        };
        if let Some(m) = &self.members[ri] {
            return m.clone();
        }
        let r = &self.table.roles[ri];
        let of_type =
            |k: &usize| self.view.res(*k).resource_type() == r.ty && !self.view.repeated(*k);
        let m: Vec<usize> = match r.sel {
            Sel::All => (0..self.view.len()).filter(of_type).collect(),
            Sel::Focus => self.view.focus().into_iter().filter(of_type).collect(),
            Sel::Coded { path, codes } => (0..self.view.len())
                .filter(of_type)
                .filter(|&k| {
                    values(self.view.res(k), path).into_iter().any(|v| {
                        codings(v)
                            .iter()
                            .any(|c| str_of(*c, "code").is_some_and(|x| codes.contains(&x)))
                    })
                })
                .collect(),
            Sel::RefBy { role, path } if depth < 4 => {
                let from = self.members(role, depth + 1);
                let mut m: Vec<usize> = from
                    .iter()
                    .flat_map(|&k| values(self.view.res(k), path))
                    .filter_map(|v| reference_of(v).and_then(|s| self.view.resolve(s)))
                    .filter(of_type)
                    .collect();
                m.sort_unstable();
                m.dedup();
                m
            }
            Sel::RefBy { .. } => Vec::new(),
        };
        self.members[ri] = Some(m.clone());
        m
    }

    fn loc(&self, k: usize) -> String {
        format!(
            "Bundle.entry[{}].resource.ofType({})",
            self.view.bundle_index(k),
            self.view.res(k).resource_type()
        )
    }

    fn row(&mut self, row: &'static Row, rep: &mut Report) {
        if !row.met.applies(self.view.met()) {
            return;
        }
        let mut report = |loc: String, msg: String| {
            rep.add_full(
                row.rule,
                Some(row.strength),
                Some(row.critical || row.rule.rule().critical),
                loc,
                format!("[{}] {msg}", row.id),
            )
        };
        let ty = self.table.role(row.role).map_or("", |r| r.ty);
        let members = self.members(row.role, 0);
        match row.check {
            Check::Logic { .. } => {}
            Check::Count { min, max } => {
                let n = members.len() as u32;
                if n < min || max.is_some_and(|m| n > m) {
                    report(
                        "Bundle.entry".into(),
                        format!(
                            "{} ({ty}): {} required, found {n}",
                            row.role,
                            card_text(min, max)
                        ),
                    );
                }
            }
            Check::Card { path, min, max } => {
                // a row whose minimum is STU3's own leaves it to the base layer
                let min = if row.rule == R::SCHEMA_MIN { 0 } else { min };
                for k in members {
                    let n = values(self.view.res(k), path).len() as u32;
                    if n < min || max.is_some_and(|m| n > m) {
                        report(
                            format!("{}.{path}", self.loc(k)),
                            format!(
                                "{}.{path}: {} required, found {n}",
                                row.role,
                                card_text(min, max)
                            ),
                        );
                    }
                }
            }
            Check::CardEach {
                parent,
                path,
                min,
                max,
            } => {
                for k in members {
                    let r = self.view.res(k);
                    for (j, p) in values(r, parent).into_iter().enumerate() {
                        let cur = values_in(p, path);
                        let n = cur.len() as u32;
                        if n < min || max.is_some_and(|m| n > m) {
                            report(
                                format!("{}.{parent}[{j}].{path}", self.loc(k)),
                                format!(
                                    "each {parent} needs {path} {}, found {n}",
                                    card_text(min, max)
                                ),
                            );
                        }
                    }
                }
            }
            Check::Fixed {
                path,
                system,
                code,
                display,
            } => {
                for k in members {
                    for v in values(self.view.res(k), path) {
                        let cs = codings(v);
                        let hit = cs.iter().enumerate().find(|(_, c)| {
                            str_of(**c, "system") == system && str_of(**c, "code") == Some(code)
                        });
                        match hit {
                            None => report(
                                format!("{}.{path}", self.loc(k)),
                                format!(
                                    "{path} must carry {}|{code}{}",
                                    system.unwrap_or("(no system)"),
                                    display.map(|d| format!(" `{d}`")).unwrap_or_default()
                                ),
                            ),
                            Some((j, c)) => {
                                if let Some(d) = display {
                                    if str_of(*c, "display") != Some(d) {
                                        report(
                                            display_loc(&self.loc(k), path, v, j),
                                            format!(
                                                "display must be `{d}`, found `{}`",
                                                str_of(*c, "display").unwrap_or("(missing)")
                                            ),
                                        );
                                    }
                                }
                            }
                        }
                    }
                }
            }
            Check::OneOf {
                path,
                system,
                codes,
            } => {
                for k in members {
                    for v in values(self.view.res(k), path) {
                        let cs = codings(v);
                        let hit = cs.iter().enumerate().find_map(|(j, c)| {
                            if str_of(*c, "system") != Some(system) {
                                return None;
                            }
                            let code = str_of(*c, "code")?;
                            codes
                                .iter()
                                .find(|(x, _)| *x == code)
                                .map(|(_, d)| (j, *c, *d))
                        });
                        match hit {
                            None => report(
                                format!("{}.{path}", self.loc(k)),
                                format!(
                                    "{path} must carry a {system} code of: {}",
                                    codes.iter().map(|(c, _)| *c).collect::<Vec<_>>().join(", ")
                                ),
                            ),
                            Some((j, c, d)) => {
                                if !d.is_empty() && str_of(c, "display") != Some(d) {
                                    report(
                                        display_loc(&self.loc(k), path, v, j),
                                        format!(
                                            "display must be `{d}`, found `{}`",
                                            str_of(c, "display").unwrap_or("(missing)")
                                        ),
                                    );
                                }
                            }
                        }
                    }
                }
            }
            Check::System { path, system } => {
                for k in members {
                    for v in values(self.view.res(k), path) {
                        if !codings(v)
                            .iter()
                            .any(|c| str_of(*c, "system") == Some(system))
                        {
                            report(
                                format!("{}.{path}", self.loc(k)),
                                format!("{path} must carry a coding from {system}"),
                            );
                        }
                    }
                }
            }
            Check::Value { path, value } => {
                for k in members {
                    for v in values(self.view.res(k), path) {
                        let got = match v {
                            Val::Prim(p) => p.value_str(),
                            Val::Attr(a) => Some(a),
                            _ => None,
                        };
                        if got.is_some_and(|g| g != value) {
                            report(
                                format!("{}.{path}", self.loc(k)),
                                format!("{path} must be `{value}`, found `{}`", got.unwrap_or("")),
                            );
                        }
                    }
                }
            }
            Check::Target { path, to } => {
                let allowed: Option<Vec<usize>> = match to {
                    To::Role(n) => Some(self.members(n, 0)),
                    To::Types(_) => None,
                };
                for k in members {
                    for v in values(self.view.res(k), path) {
                        let Some(r) = reference_of(v) else { continue };
                        let ok = match (self.view.resolve(r), to) {
                            (Some(t), To::Types(tys)) => {
                                tys.contains(&self.view.res(t).resource_type())
                            }
                            (Some(t), To::Role(_)) => {
                                allowed.as_ref().is_some_and(|a| a.contains(&t))
                            }
                            (None, To::Types(tys)) => {
                                type_in_url(r).is_none_or(|t| tys.contains(&t))
                            }
                            // an unresolved urn:uuid reference is REF-UNRESOLVED's
                            // (an absolute URL is never a member of a role)
                            (None, To::Role(_)) => r.starts_with("urn:"),
                        };
                        if !ok {
                            let want = match to {
                                To::Types(t) => t.join(" or "),
                                To::Role(n) => format!("the {n}"),
                            };
                            report(
                                format!("{}.{path}", self.loc(k)),
                                format!("{path} `{r}` must point at {want}"),
                            );
                        }
                    }
                }
            }
        }
    }
}

fn display_loc(loc: &str, path: &str, v: Val<'_>, j: usize) -> String {
    match v {
        Val::Node(n) if n.desc().name == "CodeableConcept" => {
            format!("{loc}.{path}.coding[{j}].display")
        }
        _ => format!("{loc}.{path}.display"),
    }
}

/// `1..1`, `0..*`.
pub(crate) fn card_text(min: u32, max: Option<u32>) -> String {
    match max {
        Some(m) => format!("{min}..{m}"),
        None => format!("{min}..*"),
    }
}

/// Checks every row of `table` against the message.
pub(crate) fn evaluate<'a, V: View<'a>>(table: &'static Table, view: &V, rep: &mut Report) {
    let mut e = Eval {
        table,
        view,
        members: vec![None; table.roles.len()],
        _a: std::marker::PhantomData,
    };
    for row in table.rows {
        e.row(row, rep);
    }
}
