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

/// Calls `f` with every value of element `seg` of `n`.
fn each_field<'a>(n: &'a dyn Node, seg: &str, f: &mut dyn FnMut(Val<'a>)) {
    if let Some((i, alt)) = find_field(n.desc(), seg, 0) {
        each_in_slot(n, i, alt, f);
    }
}

/// Calls `f` with every value in slot `i` (choice alternative `alt`) of `n`.
fn each_in_slot<'a>(n: &'a dyn Node, i: usize, alt: Option<usize>, f: &mut dyn FnMut(Val<'a>)) {
    if i >= n.desc().fields.len() {
        return;
    }
    match n.field(i) {
        FieldRef::Attr(Some(s)) => f(Val::Attr(s)),
        FieldRef::Prim(Some(p)) => f(Val::Prim(p)),
        FieldRef::PrimList(v) => (0..v.len())
            .filter_map(|j| v.get(j))
            .for_each(|p| f(Val::Prim(p))),
        FieldRef::One(Some(x)) => f(Val::Node(x)),
        FieldRef::Many(v) => (0..v.len())
            .filter_map(|j| v.get(j))
            .for_each(|x| f(Val::Node(x))),
        FieldRef::Choice(Some((a, v))) if alt.is_none_or(|want| want == a) => match v {
            ChoiceRef::Prim(p) => f(Val::Prim(p)),
            ChoiceRef::Node(x) => f(Val::Node(x)),
        },
        FieldRef::Resource(Some(r)) => f(Val::Res(r)),
        FieldRef::Resources(v) => v.iter().for_each(|r| f(Val::Res(r))),
        _ => {}
    }
}

/// Calls `f` with every value of step `seg` below `v`.
fn each_step<'a>(v: Val<'a>, seg: &str, f: &mut dyn FnMut(Val<'a>)) {
    if let Some(url) = seg
        .strip_prefix("extension(")
        .and_then(|s| s.strip_suffix(')'))
    {
        match v {
            Val::Prim(p) => p
                .extension()
                .iter()
                .filter(|e| e.url.as_deref() == Some(url))
                .for_each(|e| f(Val::Node(e as &dyn Node))),
            Val::Node(n) => each_field(n, "extension", &mut |x| {
                if let Val::Node(e) = x {
                    if str_of(e, "url") == Some(url) {
                        f(x);
                    }
                }
            }),
            Val::Res(r) => each_step(Val::Node(r.as_node()), seg, f),
            Val::Attr(_) => {}
        }
        return;
    }
    match v {
        Val::Node(n) => each_field(n, seg, f),
        Val::Res(r) => each_field(r.as_node(), seg, f),
        Val::Prim(_) | Val::Attr(_) => {}
    }
}

/// Calls `f` with every value at `path` below `v` (no allocation).
fn visit<'a>(v: Val<'a>, path: &str, f: &mut dyn FnMut(Val<'a>)) {
    if path.is_empty() {
        return f(v);
    }
    let (seg, rest) = split(path);
    each_step(v, seg, &mut |x| visit(x, rest, f));
}

/// The number of values at `path` in `r`; `slot` is the element's slot
/// when the path is one plain element (most rows: read its length directly).
fn count(r: &Resource, path: &str, slot: Option<(usize, Option<usize>)>) -> u32 {
    if let Some((i, alt)) = slot {
        let n = r.as_node();
        if i >= n.desc().fields.len() {
            return 0;
        }
        return match n.field(i) {
            FieldRef::PrimList(v) => v.len() as u32,
            FieldRef::Many(v) => v.len() as u32,
            FieldRef::Resources(v) => v.len() as u32,
            FieldRef::Choice(Some((a, _))) => u32::from(alt.is_none_or(|w| w == a)),
            f => u32::from(ems_stu3::node::is_present(&f)),
        };
    }
    let mut n = 0;
    visit(Val::Res(r), path, &mut |_| n += 1);
    n
}

/// Calls `f` with every value at `path` in `r`; `slot` is the element's
/// slot when the path is one plain element (resolved once per table).
fn visit_res<'a>(
    r: &'a Resource,
    path: &str,
    slot: Option<(usize, Option<usize>)>,
    f: &mut dyn FnMut(Val<'a>),
) {
    match slot {
        Some((i, alt)) => each_in_slot(r.as_node(), i, alt, f),
        None => visit(Val::Res(r), path, f),
    }
}

/// Every value at `path` in `r`.
pub(crate) fn values<'a>(r: &'a Resource, path: &str) -> Vec<Val<'a>> {
    values_in(Val::Res(r), path)
}

/// Every value at `path` below `v`.
fn values_in<'a>(v: Val<'a>, path: &str) -> Vec<Val<'a>> {
    let mut out = Vec::new();
    visit(v, path, &mut |x| out.push(x));
    out
}

/// The codings of a CodeableConcept or Coding value (no allocation).
enum Codings<'a> {
    Done,
    One(&'a dyn Node),
    Many(&'a dyn ems_stu3::node::NodeVec, usize),
}

impl<'a> Iterator for Codings<'a> {
    type Item = &'a dyn Node;
    fn next(&mut self) -> Option<&'a dyn Node> {
        match std::mem::replace(self, Codings::Done) {
            Codings::Done => None,
            Codings::One(n) => Some(n),
            Codings::Many(v, i) => {
                let n = v.get(i)?;
                *self = Codings::Many(v, i + 1);
                Some(n)
            }
        }
    }
}

fn codings<'a>(v: Val<'a>) -> Codings<'a> {
    let Val::Node(n) = v else {
        return Codings::Done;
    };
    match n.desc().name {
        "Coding" => Codings::One(n),
        "CodeableConcept" => match find_field(n.desc(), "coding", 0).map(|(i, _)| n.field(i)) {
            Some(FieldRef::Many(list)) => Codings::Many(list, 0),
            _ => Codings::Done,
        },
        _ => Codings::Done,
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
    /// Resource-type number of each entry (repeated fullUrls: `u16::MAX`).
    types: Vec<u16>,
    /// Members of each role, as a range of `arena`, once computed.
    members: Vec<Option<(u32, u32)>>,
    arena: Vec<usize>,
    _a: std::marker::PhantomData<&'a ()>,
}

impl<'a, 'v, V: View<'a>> Eval<'a, 'v, V> {
    fn new(table: &'static Table, view: &'v V) -> Self {
        let types = (0..view.len())
            .map(|k| {
                if view.repeated(k) {
                    u16::MAX
                } else {
                    super::type_number(view.res(k).resource_type())
                }
            })
            .collect();
        Eval {
            table,
            view,
            types,
            members: vec![None; table.roles.len()],
            arena: Vec::new(),
            _a: std::marker::PhantomData,
        }
    }

    /// The members of role `ri` (entry indexes), as a range of `arena`.
    fn members(&mut self, ri: usize, depth: u8) -> (u32, u32) {
        let Some(r) = self.table.roles.get(ri) else {
            return (0, 0);
        };
        if let Some(m) = self.members[ri] {
            return m;
        }
        let ty = self.table.index().role_ty[ri];
        let mut start = self.arena.len();
        match r.sel {
            Sel::All => {
                for k in 0..self.view.len() {
                    if self.types[k] == ty {
                        self.arena.push(k);
                    }
                }
            }
            Sel::Focus => {
                if let Some(k) = self.view.focus().filter(|&k| self.types[k] == ty) {
                    self.arena.push(k);
                }
            }
            Sel::Coded { path, codes } => {
                for k in 0..self.view.len() {
                    if self.types[k] != ty {
                        continue;
                    }
                    let mut hit = false;
                    visit(Val::Res(self.view.res(k)), path, &mut |v| {
                        hit |= codings(v)
                            .any(|c| str_of(c, "code").is_some_and(|x| codes.contains(&x)))
                    });
                    if hit {
                        self.arena.push(k);
                    }
                }
            }
            Sel::RefBy { path, .. } if depth < 4 => {
                let from =
                    self.table.index().ref_role[ri].map_or((0, 0), |s| self.members(s, depth + 1));
                // the source's members may have been pushed just now
                start = self.arena.len();
                let mut found: Vec<usize> = Vec::new();
                for i in from.0..from.1 {
                    let k = self.arena[i as usize];
                    visit(Val::Res(self.view.res(k)), path, &mut |v| {
                        if let Some(t) = reference_of(v).and_then(|s| self.view.resolve(s)) {
                            if self.types[t] == ty {
                                found.push(t);
                            }
                        }
                    });
                }
                found.sort_unstable();
                found.dedup();
                self.arena.extend(found);
            }
            Sel::RefBy { .. } => {}
        }
        let m = (start as u32, self.arena.len() as u32);
        self.members[ri] = Some(m);
        m
    }

    /// The members of role `ri` as a list.
    fn member_list(&mut self, ri: usize) -> Vec<usize> {
        let (a, b) = self.members(ri, 0);
        self.arena[a as usize..b as usize].to_vec()
    }

    fn loc(&self, k: usize) -> String {
        format!(
            "Bundle.entry[{}].resource.ofType({})",
            self.view.bundle_index(k),
            self.view.res(k).resource_type()
        )
    }

    fn row(&mut self, ix: usize, row: &'static Row, rep: &mut Report) {
        if matches!(row.check, Check::Logic { .. }) || !row.met.applies(self.view.met()) {
            return;
        }
        let ri = self.table.index().row_role[ix];
        let mut report = |loc: String, msg: String| {
            rep.add_full(
                row.rule,
                Some(row.strength),
                Some(row.critical || row.rule.rule().critical),
                loc,
                format!("[{}] {msg}", row.id),
            )
        };
        let ty = self.table.roles.get(ri).map_or("", |r| r.ty);
        let (a, b) = self.members(ri, 0);
        if a == b && !matches!(row.check, Check::Count { .. }) {
            return;
        }
        // the target role's members, computed before the borrow of `arena`
        let allowed: Option<Vec<usize>> = match row.check {
            Check::Target {
                to: To::Role(_), ..
            } => self.table.index().row_target[ix].map(|t| self.member_list(t)),
            _ => None,
        };
        let members: &[usize] = &self.arena[a as usize..b as usize];
        let slot = self.table.index().row_field[ix];
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
                for &k in members.iter() {
                    let n = count(self.view.res(k), path, slot);
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
                for &k in members.iter() {
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
                for &k in members.iter() {
                    visit_res(self.view.res(k), path, slot, &mut |v| {
                        let hit = codings(v).enumerate().find(|(_, c)| {
                            str_of(*c, "system") == system && str_of(*c, "code") == Some(code)
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
                                    if str_of(c, "display") != Some(d) {
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
                    });
                }
            }
            Check::OneOf {
                path,
                system,
                codes,
            } => {
                for &k in members.iter() {
                    visit_res(self.view.res(k), path, slot, &mut |v| {
                        let hit = codings(v).enumerate().find_map(|(j, c)| {
                            if str_of(c, "system") != Some(system) {
                                return None;
                            }
                            let code = str_of(c, "code")?;
                            codes
                                .iter()
                                .find(|(x, _)| *x == code)
                                .map(|(_, d)| (j, c, *d))
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
                    });
                }
            }
            Check::System { path, system } => {
                for &k in members.iter() {
                    visit_res(self.view.res(k), path, slot, &mut |v| {
                        if !codings(v).any(|c| str_of(c, "system") == Some(system)) {
                            report(
                                format!("{}.{path}", self.loc(k)),
                                format!("{path} must carry a coding from {system}"),
                            );
                        }
                    });
                }
            }
            Check::Value { path, value } => {
                for &k in members.iter() {
                    visit_res(self.view.res(k), path, slot, &mut |v| {
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
                    });
                }
            }
            Check::Target { path, to } => {
                for &k in members.iter() {
                    visit_res(self.view.res(k), path, slot, &mut |v| {
                        let Some(r) = reference_of(v) else { return };
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
                    });
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

/// A Bundle read on its own (for [`members_of`]).
struct BundleView<'a> {
    entries: Vec<(usize, &'a Resource, Option<&'a str>)>,
    focus: Option<usize>,
    met: Option<&'a str>,
}

impl<'a> View<'a> for BundleView<'a> {
    fn len(&self) -> usize {
        self.entries.len()
    }
    fn res(&self, k: usize) -> &'a Resource {
        self.entries[k].1
    }
    fn bundle_index(&self, k: usize) -> usize {
        self.entries[k].0
    }
    fn resolve(&self, reference: &str) -> Option<usize> {
        self.entries.iter().position(|e| e.2 == Some(reference))
    }
    fn repeated(&self, k: usize) -> bool {
        let u = self.entries[k].2;
        u.is_some() && self.entries[..k].iter().any(|e| e.2 == u)
    }
    fn focus(&self) -> Option<usize> {
        self.focus
    }
    fn met(&self) -> Option<&str> {
        self.met
    }
}

/// The `Bundle.entry` indexes of the members of role `role` of `table` in
/// `bundle` (the same selection the evaluator makes; tests use it to find
/// what to mutate).
pub fn members_of(table: &'static Table, role: &str, bundle: &ems_stu3::Bundle) -> Vec<usize> {
    let entries: Vec<(usize, &Resource, Option<&str>)> = bundle
        .entry
        .iter()
        .enumerate()
        .filter_map(|(i, e)| {
            e.resource
                .as_ref()
                .map(|r| (i, r, e.full_url.as_ref().and_then(|u| u.value.as_deref())))
        })
        .collect();
    let mh = entries
        .iter()
        .find_map(|(_, r, _)| r.get::<ems_stu3::MessageHeader>());
    let focus = mh
        .and_then(|m| m.focus.first())
        .and_then(|f| f.reference.as_ref()?.value.as_deref())
        .and_then(|f| entries.iter().position(|e| e.2 == Some(f)));
    let view = BundleView {
        entries,
        focus,
        met: None,
    };
    let mut e = Eval::new(table, &view);
    let Some(ri) = table.roles.iter().position(|r| r.name == role) else {
        return Vec::new();
    };
    e.member_list(ri)
        .into_iter()
        .map(|k| view.bundle_index(k))
        .collect()
}

/// Checks every row of `tables` against the message.
pub(crate) fn evaluate<'a, V: View<'a>>(tables: &[&'static Table], view: &V, rep: &mut Report) {
    let Some(first) = tables.first() else { return };
    let mut e = Eval::new(first, view);
    for t in tables {
        if !std::ptr::eq(*t, e.table) {
            e.table = t;
            e.members.clear();
            e.members.resize(t.roles.len(), None);
            e.arena.clear();
        }
        for (ix, row) in t.rows.iter().enumerate() {
            e.row(ix, row, rep);
        }
    }
}
