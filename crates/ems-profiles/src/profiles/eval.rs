//! Evaluates the compiled profile constraints on one resource: walks each
//! constraint's path through the `ems_stu3::node` reflection layer (a
//! learned slot hint per step, so a step is one name comparison), keeps the
//! list indices on a fixed-size trail and formats a location only for a
//! finding. No allocation unless something is reported.

use super::{profile, Con, ConstraintKind, ProfileDef, Slice, Step, VALUE_SETS};
use crate::generated_profiles::STEPS;
use crate::rules::{id as R, Report, RuleId};
use crate::tables::{Check, Table, EVENT_TABLES, GENERIC};
use ems_stu3::node::{ChoiceRef, FieldDesc, FieldKind, FieldRef, Node, TypeDesc};
use ems_stu3::primitive::PrimNode;
use ems_stu3::Resource;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// The slot of each constraint step in its type's element table, learned on
/// first use: the type table's address and the slot, packed in one word, so
/// a hit costs one comparison and a miss (another type at a choice) a search.
static HINTS: [AtomicU64; STEPS] = [const { AtomicU64::new(0) }; STEPS];
/// The same for the first element of each sliced step's discriminator path.
static SLICE_HINTS: [AtomicU64; STEPS] = [const { AtomicU64::new(0) }; STEPS];
/// `Coding` in a CodeableConcept, `reference` in a Reference.
static CODING_HINT: AtomicU64 = AtomicU64::new(0);
static REFERENCE_HINT: AtomicU64 = AtomicU64::new(0);

/// Deepest constraint path the trail holds.
const DEPTH: usize = 6;
const NO_INDEX: u32 = u32::MAX;

/// The list index and choice type of each step of the current value.
struct Trail {
    idx: [u32; DEPTH],
    ty: [&'static str; DEPTH],
    /// The element description of each step (its STU3 code list).
    field: [Option<&'static FieldDesc>; DEPTH],
}

/// One value on a path.
#[derive(Clone, Copy)]
enum V<'a> {
    Node(&'a dyn Node),
    Prim(&'a dyn PrimNode),
    Attr(&'a str),
    Res(&'a Resource),
}

impl<'a> V<'a> {
    fn node(self) -> Option<&'a dyn Node> {
        match self {
            V::Node(n) => Some(n),
            V::Res(r) => Some(r.as_node()),
            _ => None,
        }
    }
    fn str(self) -> Option<&'a str> {
        match self {
            V::Prim(p) => p.value_str(),
            V::Attr(s) => Some(s),
            _ => None,
        }
    }
}

/// The slot of element `name` in `desc`, checking `hint` first.
#[inline]
fn slot(desc: &'static TypeDesc, name: &str, hint: &AtomicU64) -> Option<usize> {
    let addr = desc as *const TypeDesc as u64;
    let h = hint.load(Relaxed);
    if h >> 8 == addr & (u64::MAX >> 8) && h & 0xff != 0 {
        return Some((h & 0xff) as usize - 1);
    }
    let i = desc.fields.iter().position(|f| f.name == name)?;
    if i < 255 {
        hint.store(((addr & (u64::MAX >> 8)) << 8) | (i as u64 + 1), Relaxed);
    }
    Some(i)
}

/// Calls `f` with every value of element `name` of `v` (index for a list
/// item, choice type for a choice). Generic over `f` (not `dyn`): each caller
/// gets its own copy with the closure inlined, one indirect call fewer per
/// value visited.
#[inline]
fn children<'a>(
    v: V<'a>,
    name: &str,
    hint: &AtomicU64,
    mut f: impl FnMut(V<'a>, u32, &'static str, Option<&'static FieldDesc>),
) {
    if let V::Prim(p) = v {
        // a primitive's extensions are not an element of a type table
        if name == "extension" {
            for (j, e) in p.extension().iter().enumerate() {
                f(V::Node(e), j as u32, "", None);
            }
        }
        return;
    }
    let Some(n) = v.node() else { return };
    let desc = n.desc();
    let Some(i) = slot(desc, name, hint) else {
        return;
    };
    let fd = desc.fields.get(i);
    match n.field(i) {
        FieldRef::Attr(Some(s)) => f(V::Attr(s), NO_INDEX, "", fd),
        FieldRef::Prim(Some(p)) => f(V::Prim(p), NO_INDEX, "", fd),
        FieldRef::PrimList(l) => {
            for j in 0..l.len() {
                if let Some(p) = l.get(j) {
                    f(V::Prim(p), j as u32, "", fd);
                }
            }
        }
        FieldRef::One(Some(x)) => f(V::Node(x), NO_INDEX, "", fd),
        FieldRef::Many(l) => {
            for j in 0..l.len() {
                if let Some(x) = l.get(j) {
                    f(V::Node(x), j as u32, "", fd);
                }
            }
        }
        FieldRef::Choice(Some((a, c))) => {
            let ty = match &desc.fields[i].kind {
                FieldKind::Choice(alts) => alts.get(a).map_or("", |x| x.type_name),
                _ => "",
            };
            match c {
                ChoiceRef::Prim(p) => f(V::Prim(p), NO_INDEX, ty, fd),
                ChoiceRef::Node(x) => f(V::Node(x), NO_INDEX, ty, fd),
            }
        }
        FieldRef::Resource(Some(r)) => f(V::Res(r), NO_INDEX, "", fd),
        FieldRef::Resources(l) => {
            for (j, r) in l.iter().enumerate() {
                f(V::Res(r), j as u32, "", fd);
            }
        }
        _ => {}
    }
}

/// Whether some value at dotted `path` below `v` has the string value
/// `want`; `hint` is the slot hint of the path's first element.
fn has_value_at(v: V<'_>, path: &str, want: &str, hint: &AtomicU64) -> bool {
    if path.is_empty() {
        return v.str() == Some(want);
    }
    // a byte scan: discriminator paths are a few ASCII bytes
    let (seg, rest) = match path.bytes().position(|b| b == b'.') {
        Some(i) => (&path[..i], &path[i + 1..]),
        None => (path, ""),
    };
    if rest.is_empty() {
        // the usual discriminator (`system`, `url`, `use`): one element
        if let Some(n) = v.node() {
            let desc = n.desc();
            return slot(desc, seg, hint).is_some_and(|i| match n.field(i) {
                FieldRef::Attr(Some(a)) => a == want,
                FieldRef::Prim(Some(p)) => p.value_str() == Some(want),
                _ => false,
            });
        }
    }
    let mut found = false;
    children(v, seg, hint, |c, _, _, _| {
        // deeper discriminator steps (`coding.system`) are rare: no hint
        found = found || has_value_at(c, rest, want, &AtomicU64::new(0));
    });
    found
}

/// Whether `v` is a member of slice `s` (step number `at` of the tables).
#[inline]
fn member(v: V<'_>, s: &Slice, at: usize) -> bool {
    has_value_at(v, s.on, s.value, &SLICE_HINTS[at])
}

/// The top-level elements (as the table writes them: `name`,
/// `extension(url)`, `performedDateTime`) whose cardinality the event table
/// `t` (or the generic rows, or a page statement) states for resources of
/// type `ty`; collected once per plan, not once per constraint.
fn stated_elements(t: Option<&'static Table>, ty: &str) -> Vec<&'static str> {
    let seg = |path: &'static str| -> &'static str {
        if path.starts_with("extension(") {
            path.split_once(')').map_or(path, |(a, _)| a)
        } else {
            path.split('.').next().unwrap_or(path)
        }
    };
    let event = t.map_or("*", |t| t.event);
    let pages = super::PAGE_CARDINALITIES
        .iter()
        .filter(|p| p.event == event && p.ty == ty)
        .map(|p| seg(p.path));
    let rows = std::iter::once(&GENERIC).chain(t).flat_map(|t| {
        t.rows.iter().filter_map(move |row| {
            let path = match row.check {
                Check::Card { path, .. } => path,
                Check::CardEach { parent, .. } => parent,
                _ => return None,
            };
            t.role(row.role)
                .is_some_and(|r| r.ty == ty)
                .then(|| seg(path))
        })
    });
    let mut all: Vec<&'static str> = Vec::new();
    for s in pages.chain(rows) {
        if !all.contains(&s) {
            all.push(s);
        }
    }
    all
}

/// Whether the stated element `seg` ([`stated_elements`]) is the
/// top-level element `con` constrains.
fn states(seg: &str, con: &Con) -> bool {
    let first = &con.steps[0];
    if let Some(url) = seg.strip_prefix("extension(") {
        return first.name == "extension" && first.slice.as_ref().is_some_and(|s| s.value == url);
    }
    // `performedDateTime` states `performed[x]`
    seg == first.name
        || seg
            .strip_prefix(first.name)
            .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_uppercase()))
}

/// The number [`active`] knows event table `t` by (0: no event table).
pub(super) fn table_index(t: Option<&'static Table>) -> usize {
    t.and_then(|t| EVENT_TABLES.iter().position(|x| std::ptr::eq(*x, t)))
        .map_or(0, |i| i + 1)
}

/// A constraint to evaluate (while a [`Plan`] is built): its index in the
/// profile and the slot of its first element in the resource type's table.
#[derive(Clone, Copy, Debug)]
struct Active {
    ci: u16,
    s0: u8,
    /// For the first of adjacent nested cardinality constraints with the
    /// same parent path (`code.coding:snomedCT.code`, `….display`): how
    /// many there are (their parents are walked once); 1 otherwise.
    group: u8,
}

/// The constraints of one profile to evaluate under one event table, as a
/// trie of their paths: each element is visited once for all the
/// constraints on it, and nothing below an element no constraint names.
#[derive(Debug)]
pub(super) struct Plan {
    /// The trie's nodes.
    nodes: Vec<TrieNode>,
    /// The nodes of the resource's own elements (indices into `nodes`),
    /// in the order of their element's slot.
    roots: Vec<u32>,
    /// For each slot with roots, in slot order: the slot and the range of
    /// `roots` on it.
    slots: Vec<(u8, u32, u32)>,
    /// The slots with roots (a bit each).
    with_roots: u128,
    /// The slots with a root that counts a minimum: visited when the
    /// element is absent too (its count 0 is a finding).
    needed: u128,
}

/// One step of the constraint paths: the values of element `step` (slice
/// members only) inside each value of the parent node.
#[derive(Debug)]
struct TrieNode {
    /// The step (name and slice) the constraints through here share.
    step: &'static Step,
    /// Its slot hint (`HINTS` / `SLICE_HINTS` index).
    hint: usize,
    /// For a root: the slot of the element in the resource type's table
    /// (its presence bit); 255 below the root.
    s0: u8,
    /// The constraints checked on each value here (fixed, binding, target).
    on_value: Vec<Use>,
    /// The cardinality constraints counting the values here in each parent.
    on_count: Vec<Use>,
    /// Child nodes (indices into [`Plan::nodes`]), in constraint order.
    kids: Vec<u32>,
}

/// One constraint's use at a trie node, with its place in the evaluation
/// order the findings are reported in: `unit` is the position of the
/// constraint (or of its cardinality group) in the plan's constraint order,
/// `sub` its position inside the group.
#[derive(Clone, Copy, Debug)]
struct Use {
    ci: u16,
    unit: u16,
    sub: u8,
    /// For a target constraint: [`wanted_types`] of its list, looked up
    /// once when the plan is built instead of for every reference.
    wanted: &'static [(&'static str, bool)],
}

/// Whether two steps are the same element and slice.
fn same_step(x: &Step, y: &Step) -> bool {
    x.name == y.name
        && match (&x.slice, &y.slice) {
            (None, None) => true,
            (Some(p), Some(q)) => p.on == q.on && p.value == q.value,
            _ => false,
        }
}

/// Whether two paths are the same steps (names and slices).
fn same_steps(a: &[Step], b: &[Step]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_step(x, y))
}

/// The parent path of a nested cardinality constraint.
fn card_parent(c: &Con) -> Option<&'static [Step]> {
    match c.kind {
        ConstraintKind::Card { .. } if c.steps.len() >= 2 => Some(&c.steps[..c.steps.len() - 1]),
        _ => None,
    }
}

/// For profile `pi` under event table number `ti` ([`table_index`]): the
/// constraints to evaluate, without those the page's cardinality rows
/// replace (computed once per table and profile).
pub(super) fn active(ti: usize, pi: usize) -> &'static Plan {
    type Lazy = std::sync::OnceLock<Plan>;
    static ACTIVE: std::sync::OnceLock<Vec<Lazy>> = std::sync::OnceLock::new();
    let n = super::PROFILES.len();
    let all = ACTIVE.get_or_init(|| {
        (0..(EVENT_TABLES.len() + 1) * n)
            .map(|_| Lazy::new())
            .collect()
    });
    let t = ti.checked_sub(1).and_then(|i| EVENT_TABLES.get(i).copied());
    static EMPTY: Plan = Plan {
        nodes: Vec::new(),
        roots: Vec::new(),
        slots: Vec::new(),
        with_roots: 0,
        needed: 0,
    };
    let Some(p) = super::PROFILES.get(pi) else {
        return &EMPTY;
    };
    all.get(ti * n + pi).map_or(&EMPTY, |cell| {
        cell.get_or_init(|| {
            let fields = Resource::new_of_type(p.resource_type)
                .map(|r| r.as_node().desc().fields)
                .unwrap_or(&[]);
            let stated = stated_elements(t, p.resource_type);
            let mut list = p
                .cons
                .iter()
                .enumerate()
                .filter(|(_, c)| c.steps.len() <= DEPTH && c.steps.len() < 256)
                .filter(|(_, c)| {
                    !(matches!(c.kind, ConstraintKind::Card { .. })
                        && stated.iter().any(|seg| states(seg, c)))
                })
                .filter_map(|(ci, c)| {
                    let s0 = fields.iter().position(|f| f.name == c.steps[0].name)?;
                    Some(Active {
                        ci: u16::try_from(ci).ok()?,
                        s0: u8::try_from(s0).ok().filter(|&s| s < 128)?,
                        group: 1,
                    })
                })
                .collect::<Vec<Active>>();
            // group adjacent nested cardinalities under one parent walk
            let mut i = 0;
            while i < list.len() {
                let Some(parent) = card_parent(&p.cons[list[i].ci as usize]) else {
                    i += 1;
                    continue;
                };
                let mut j = i + 1;
                while j < list.len()
                    && j - i < 255
                    && card_parent(&p.cons[list[j].ci as usize])
                        .is_some_and(|q| same_steps(parent, q))
                {
                    j += 1;
                }
                list[i].group = (j - i) as u8;
                i = j;
            }
            // by first element (stable: groups stay together): the order
            // the findings are reported in
            list.sort_by_key(|a| a.s0);
            trie(p, &list)
        })
    })
}

/// The trie of the constraints `list` (in evaluation order) of profile `p`.
fn trie(p: &ProfileDef, list: &[Active]) -> Plan {
    let mut plan = Plan {
        nodes: Vec::new(),
        roots: Vec::new(),
        slots: Vec::new(),
        with_roots: 0,
        needed: 0,
    };
    let mut k = 0;
    while k < list.len() {
        let group = list[k].group.max(1) as usize;
        for (sub, a) in list[k..(k + group).min(list.len())].iter().enumerate() {
            let Some(con) = p.cons.get(a.ci as usize) else {
                continue;
            };
            let u = Use {
                ci: a.ci,
                unit: k as u16,
                sub: sub as u8,
                wanted: match con.kind {
                    ConstraintKind::Target(to) => wanted_types(to),
                    _ => &[],
                },
            };
            // the node of each step, created on first use
            let mut at: Option<usize> = None;
            for (d, st) in con.steps.iter().enumerate() {
                let kids = match at {
                    Some(n) => &plan.nodes[n].kids,
                    None => &plan.roots,
                };
                let found = kids
                    .iter()
                    .map(|&i| i as usize)
                    .find(|&i| same_step(plan.nodes[i].step, st));
                let n = found.unwrap_or_else(|| {
                    plan.nodes.push(TrieNode {
                        step: st,
                        hint: con.hint + d,
                        s0: if d == 0 { a.s0 } else { u8::MAX },
                        on_value: Vec::new(),
                        on_count: Vec::new(),
                        kids: Vec::new(),
                    });
                    let n = plan.nodes.len() - 1;
                    match at {
                        Some(parent) => plan.nodes[parent].kids.push(n as u32),
                        None => plan.roots.push(n as u32),
                    }
                    n
                });
                at = Some(n);
            }
            if let Some(n) = at {
                let node = &mut plan.nodes[n];
                match con.kind {
                    ConstraintKind::Card { .. } => node.on_count.push(u),
                    _ => node.on_value.push(u),
                }
            }
        }
        k += group;
    }
    // roots by slot (stable: they are already, `list` is sorted by slot)
    let nodes = &plan.nodes;
    plan.roots.sort_by_key(|&r| nodes[r as usize].s0);
    for (i, &r) in plan.roots.iter().enumerate() {
        let node = &plan.nodes[r as usize];
        let s0 = node.s0;
        if s0 >= 128 {
            continue;
        }
        match plan.slots.last_mut() {
            Some(last) if last.0 == s0 => last.2 = i as u32 + 1,
            _ => plan.slots.push((s0, i as u32, i as u32 + 1)),
        }
        plan.with_roots |= 1u128 << s0;
        let counts_min = node.on_count.iter().any(|u| {
            matches!(p.cons.get(u.ci as usize).map(|c| &c.kind), Some(ConstraintKind::Card { min, .. }) if *min > 0)
        });
        if counts_min {
            plan.needed |= 1u128 << s0;
        }
    }
    plan
}

/// One profile's evaluation on one resource.
pub(super) struct Eval<'e, 'a> {
    pub def: &'static ProfileDef,
    pub loc: &'e dyn Fn() -> String,
    pub resolve: &'e dyn Fn(&str) -> Option<&'a Resource>,
    pub rep: &'e mut Report,
}

/// A finding, formatted only when reported.
struct Finding {
    rule: RuleId,
    at: String,
    message: String,
    /// Locations inside the element where a NEMS finding also says it (the
    /// system or code of a bound coding).
    near: Vec<String>,
}

/// A finding with its place in the evaluation order (`unit`, the visit
/// number of the value or parent it is about, `sub`).
type Keyed = ((u16, u32, u8), Finding);

impl<'a> Eval<'_, 'a> {
    /// Evaluates the constraints of `plan` ([`active`]) on `r`: one walk
    /// over the elements the constraints name, then the findings in the
    /// order of the constraints (and, for one constraint, of the values).
    pub fn run(&mut self, r: &'a Resource, plan: &Plan) {
        // which top-level elements the resource has: a constraint below an
        // absent element has nothing to check (a top-level minimum counts 0)
        let present = r.as_node().present();
        let mut trail = Trail {
            idx: [NO_INDEX; DEPTH],
            ty: [""; DEPTH],
            field: [None; DEPTH],
        };
        let mut found: Vec<Keyed> = Vec::new();
        let mut seq = 0;
        // only the elements the resource has (and those whose absence a
        // minimum reports), by their presence bits: the roots of one slot
        // are adjacent (`Plan::slots`), so the roots of absent elements
        // are never looked at
        let mut todo = (present & plan.with_roots) | plan.needed;
        let mut slots = plan.slots.iter();
        while todo != 0 {
            let s0 = todo.trailing_zeros() as u8;
            todo &= todo - 1;
            let Some(&(_, a, b)) = slots.by_ref().find(|&&(s, _, _)| s == s0) else {
                break;
            };
            let here = present & (1u128 << s0) != 0;
            for &ni in plan.roots.get(a as usize..b as usize).unwrap_or(&[]) {
                self.node(
                    plan,
                    V::Res(r),
                    ni,
                    here,
                    (0, 0),
                    &mut trail,
                    &mut found,
                    &mut seq,
                );
            }
        }
        // stable: a constraint's findings stay in document order
        found.sort_by_key(|(k, _)| *k);
        for (_, f) in found {
            // a NEMS rule (or another profile) at the same element says it first
            if !self.rep.has_at(&f.at) && !f.near.iter().any(|n| self.rep.has_at(n)) {
                self.rep.add(f.rule, f.at, f.message);
            }
        }
    }

    /// Visits the trie nodes `kids` below value `v` (its depth and visit
    /// number in `at`).
    #[allow(clippy::too_many_arguments)]
    fn visit(
        &self,
        plan: &Plan,
        v: V<'a>,
        kids: &[u32],
        at: (usize, u32),
        trail: &mut Trail,
        found: &mut Vec<Keyed>,
        seq: &mut u32,
    ) {
        for &ni in kids {
            self.node(plan, v, ni, true, at, trail, found, seq);
        }
    }

    /// Visits trie node `ni` below value `v` (its depth and visit number in
    /// `at`); `here`: whether `v` may have the element at all (`false`: a
    /// top-level element the resource lacks, whose count is 0).
    #[allow(clippy::too_many_arguments)]
    fn node(
        &self,
        plan: &Plan,
        v: V<'a>,
        ni: u32,
        here: bool,
        at: (usize, u32),
        trail: &mut Trail,
        found: &mut Vec<Keyed>,
        seq: &mut u32,
    ) {
        let (k, parent) = at;
        let Some(node) = plan.nodes.get(ni as usize) else {
            return;
        };
        let st = node.step;
        let mut n = 0u32;
        if here {
            children(v, st.name, &HINTS[node.hint], |c, j, ty, fd| {
                if st.slice.as_ref().is_none_or(|s| member(c, s, node.hint)) {
                    n += 1;
                    trail.idx[k] = j;
                    trail.ty[k] = ty;
                    trail.field[k] = fd;
                    *seq += 1;
                    let me = *seq;
                    for u in &node.on_value {
                        if let Some(f) = self.on_value(u, c, trail) {
                            found.push(((u.unit, me, u.sub), f));
                        }
                    }
                    if !node.kids.is_empty() && k + 1 < DEPTH {
                        self.visit(plan, c, &node.kids, (k + 1, me), trail, found, seq);
                    }
                }
            });
        }
        for u in &node.on_count {
            let Some(con) = self.def.cons.get(u.ci as usize) else {
                continue;
            };
            if let ConstraintKind::Card { min, max } = con.kind {
                if n < min || max.is_some_and(|m| n > m) {
                    found.push(((u.unit, parent, u.sub), self.card(con, trail, n, min, max)));
                }
            }
        }
    }

    /// Constraint `ci` (fixed, binding or target) on value `v`.
    fn on_value(&self, u: &Use, v: V<'_>, trail: &Trail) -> Option<Finding> {
        let con = self.def.cons.get(u.ci as usize)?;
        match con.kind {
            ConstraintKind::Card { .. } => None,
            ConstraintKind::Fixed(want) => self.fixed(con, v, trail, want),
            ConstraintKind::Binding(vs) => self.binding(con, v, trail, vs),
            ConstraintKind::Target(to) => self.target(con, v, trail, to, u.wanted),
        }
    }

    /// The location of the value `trail` holds after `upto` steps, then `extra`.
    fn render(&self, con: &Con, trail: &Trail, upto: usize, extra: Option<&str>) -> String {
        let mut s = (self.loc)();
        for (k, st) in con.steps.iter().enumerate().take(upto) {
            s.push('.');
            s.push_str(st.name);
            if trail.idx[k] != NO_INDEX {
                s.push('[');
                s.push_str(&trail.idx[k].to_string());
                s.push(']');
            }
            if !trail.ty[k].is_empty() {
                s.push_str(".ofType(");
                s.push_str(trail.ty[k]);
                s.push(')');
            }
        }
        if let Some(e) = extra {
            s.push('.');
            s.push_str(e);
        }
        s
    }

    fn card(&self, con: &Con, trail: &Trail, n: u32, min: u32, max: Option<u32>) -> Finding {
        let k = con.steps.len() - 1;
        let st = &con.steps[k];
        let at = self.render(con, trail, k, Some(st.name));
        let short = self.def.short();
        let id = con.id;
        let (rule, message) = match (&st.slice, n < min) {
            (Some(s), true) => (
                R::PROFILE_SLICE,
                format!(
                    "{short} requires at least {min} {id} ({} with {} = {}), found {n}",
                    st.name, s.on, s.value
                ),
            ),
            (Some(s), false) => (
                R::PROFILE_SLICE,
                format!(
                    "{short} allows at most {} {id} ({} with {} = {}), found {n}",
                    max.unwrap_or(0),
                    st.name,
                    s.on,
                    s.value
                ),
            ),
            (None, true) => (
                R::PROFILE_MIN,
                format!("{short} requires {id} (at least {min}), found {n}"),
            ),
            (None, false) => (
                R::PROFILE_MAX,
                format!(
                    "{short} allows at most {} {id}, found {n}",
                    max.unwrap_or(0)
                ),
            ),
        };
        // a NEMS rule reported at the parent (`identifier[0]`: "the NHS
        // number lacks its verification status") is the same finding
        let near = if k > 0 {
            vec![self.render(con, trail, k, None)]
        } else {
            Vec::new()
        };
        Finding {
            rule,
            at,
            message,
            near,
        }
    }

    fn fixed(&self, con: &Con, v: V<'_>, trail: &Trail, want: &str) -> Option<Finding> {
        let mut owned = String::new();
        let got = match v {
            V::Prim(p) => match p.value_str() {
                Some(s) => s,
                None => {
                    // booleans and integers have no borrowed text
                    if !p.write_value(&mut owned) {
                        return None;
                    }
                    owned.as_str()
                }
            },
            V::Attr(s) => s,
            _ => return None,
        };
        (got != want).then(|| Finding {
            rule: R::PROFILE_FIXED,
            at: self.render(con, trail, con.steps.len(), None),
            message: format!(
                "{} requires {} = {want}, found `{got}`",
                self.def.short(),
                con.id
            ),
            near: Vec::new(),
        })
    }

    fn binding(&self, con: &Con, v: V<'_>, trail: &Trail, vs: usize) -> Option<Finding> {
        let vs = VALUE_SETS.get(vs)?;
        // the finding's text and, for a coding, where it is (`Some(None)`:
        // the element is the Coding; `Some(Some(j))`: its coding[j])
        type Bad = (String, Option<Option<u32>>);
        let bad: Option<Bad> = match v {
            V::Prim(_) | V::Attr(_) => {
                let code = v.str()?;
                // outside STU3's own complete list: CODE-INVALID's (walk.rs)
                let f = trail.field[con.steps.len() - 1];
                if f.is_some_and(|f| {
                    f.codes_complete && !f.codes.is_empty() && !f.codes.contains(&code)
                }) {
                    return None;
                }
                (vs.contains(None, code) == Some(false)).then(|| (format!("`{code}`"), None))
            }
            V::Node(n) if std::ptr::eq(n.desc(), &ems_stu3::CODING_DESC) => {
                coding_outside(n, vs).map(|s| (s, Some(None)))
            }
            V::Node(n) => {
                // a CodeableConcept: fine when one of its codings is in the set
                let (mut any_in, mut first_out) = (false, None);
                children(V::Node(n), "coding", &CODING_HINT, |c, j, _, _| {
                    if let Some(c) = c.node() {
                        match coding_outside(c, vs) {
                            None => any_in = true,
                            Some(s) => {
                                first_out.get_or_insert((s, Some(Some(j))));
                            }
                        }
                    }
                });
                if any_in {
                    None
                } else {
                    first_out
                }
            }
            V::Res(_) => None,
        };
        bad.map(|(what, coding)| {
            let at = self.render(con, trail, con.steps.len(), None);
            let inner = match coding {
                Some(Some(j)) => format!("{at}.coding[{j}]"),
                Some(None) => at.clone(),
                None => String::new(),
            };
            let near = if inner.is_empty() {
                Vec::new()
            } else {
                vec![format!("{inner}.system"), format!("{inner}.code")]
            };
            Finding {
                rule: R::PROFILE_BINDING,
                message: format!(
                    "{} binds {} to {} (required): {what} is not in it",
                    self.def.short(),
                    con.id,
                    vs.url
                ),
                at,
                near,
            }
        })
    }

    fn target(
        &self,
        con: &Con,
        v: V<'_>,
        trail: &Trail,
        to: &'static [&'static str],
        wanted: &'static [(&'static str, bool)],
    ) -> Option<Finding> {
        let n = v.node()?;
        let mut reference = None;
        children(V::Node(n), "reference", &REFERENCE_HINT, |c, _, _, _| {
            reference = c.str()
        });
        let target = (self.resolve)(reference?)?;
        let ty = target.resource_type();
        // the usual case without a lookup: the target claims an allowed
        // profile by name, or claims none and has an allowed type
        let claims = target.meta().map_or(&[][..], |m| m.profile.as_slice());
        let named = claims.iter().any(|p| {
            p.value.as_deref().is_some_and(|u| {
                to.iter()
                    .zip(wanted)
                    .any(|(w, (wty, _))| *wty == ty && *w == u)
            })
        });
        if named
            || (claims.is_empty()
                && wanted
                    .iter()
                    .any(|(wty, _)| *wty == ty || *wty == "Resource"))
        {
            return None;
        }
        // the (first four) NHS profiles the target claims for its own type
        let mut claimed: [Option<&'static ProfileDef>; 4] = [None; 4];
        let own = target
            .meta()
            .into_iter()
            .flat_map(|m| m.profile.iter())
            .filter_map(|p| p.value.as_deref().and_then(profile))
            .filter(|d| d.resource_type == ty);
        for (slot, d) in claimed.iter_mut().zip(own) {
            *slot = Some(d);
        }
        let declares = claimed[0].is_some();
        let ok = to.iter().zip(wanted).any(|(want, (wty, nhs))| {
            (*wty == ty || *wty == "Resource")
                && (!nhs || !declares || claimed.iter().flatten().any(|c| c.is_or_derives(want)))
        });
        if ok {
            return None;
        }
        let wanted: Vec<&str> = to
            .iter()
            .map(|u| u.rsplit('/').next().unwrap_or(u))
            .collect();
        let what = match claimed[0] {
            Some(c) => format!("a {ty} claiming {}", c.short()),
            None => format!("a {ty}"),
        };
        Some(Finding {
            rule: R::PROFILE_TARGET,
            at: self.render(con, trail, con.steps.len(), Some("reference")),
            message: format!(
                "{} requires {} to reference {}, found {what}",
                self.def.short(),
                con.id,
                wanted.join(" or ")
            ),
            near: Vec::new(),
        })
    }
}

/// For a targetProfile list: each profile's resource type, and whether it
/// is a compiled NHS profile (resolved once for every list).
fn wanted_types(to: &[&str]) -> &'static [(&'static str, bool)] {
    type Map = crate::fnv::FnvMap<usize, Vec<(&'static str, bool)>>;
    static TYPES: std::sync::OnceLock<Map> = std::sync::OnceLock::new();
    let map = TYPES.get_or_init(|| {
        let mut m = Map::default();
        for p in super::PROFILES.iter() {
            for c in p.cons {
                if let ConstraintKind::Target(list) = c.kind {
                    m.entry(list.as_ptr() as usize).or_insert_with(|| {
                        list.iter()
                            .map(|u| match profile(u) {
                                Some(d) => (d.resource_type, true),
                                None => (u.rsplit('/').next().unwrap_or(u), false),
                            })
                            .collect()
                    });
                }
            }
        }
        m
    });
    map.get(&(to.as_ptr() as usize)).map_or(&[], Vec::as_slice)
}

/// `None` when Coding `c` is in `vs` (or membership cannot be decided, or it
/// has no code); otherwise the coding as written.
fn coding_outside(c: &dyn Node, vs: &super::ValueSetDef) -> Option<String> {
    let s = crate::tables::str_of(c, "system");
    let code = crate::tables::str_of(c, "code")?;
    if vs.contains(s, code) != Some(false) {
        return None;
    }
    // a code its own (complete, embedded) code system does not have is
    // CODE-INVALID's finding (walk.rs), not a second one here
    if let Some(cs) = s.and_then(crate::codes::code_system) {
        if cs.complete && cs.display(code).is_none() {
            return None;
        }
    }
    Some(format!("`{}|{code}`", s.unwrap_or("")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every plan's trie holds each constraint of its profile that applies
    /// (not replaced by a page cardinality, path not too deep, first element
    /// in the type's table) exactly once, at the node of its whole path,
    /// and the evaluation order (`unit`, `sub`) is a permutation of them.
    #[test]
    fn trie_holds_each_active_constraint_once() {
        for ti in 0..=EVENT_TABLES.len() {
            for (pi, p) in super::super::PROFILES.iter().enumerate() {
                let plan = active(ti, pi);
                let mut seen = vec![0u32; p.cons.len()];
                let mut order = Vec::new();
                // every node is reachable from the roots once
                let mut stack: Vec<(u32, usize)> = plan.roots.iter().map(|&r| (r, 0)).collect();
                let mut reached = 0;
                while let Some((n, depth)) = stack.pop() {
                    reached += 1;
                    let node = &plan.nodes[n as usize];
                    for u in node.on_value.iter().chain(&node.on_count) {
                        let con = &p.cons[u.ci as usize];
                        assert_eq!(con.steps.len(), depth + 1, "{} {}", p.url, con.id);
                        assert!(same_step(&con.steps[depth], node.step));
                        assert_eq!(
                            matches!(con.kind, ConstraintKind::Card { .. }),
                            node.on_count.iter().any(|x| x.ci == u.ci)
                        );
                        // a target's allowed types are its list's, resolved once
                        match con.kind {
                            ConstraintKind::Target(to) => {
                                assert!(std::ptr::eq(u.wanted, wanted_types(to)))
                            }
                            _ => assert!(u.wanted.is_empty()),
                        }
                        seen[u.ci as usize] += 1;
                        order.push((u.unit, u.sub));
                    }
                    stack.extend(node.kids.iter().map(|&k| (k, depth + 1)));
                }
                assert_eq!(reached, plan.nodes.len(), "{}", p.url);
                // the slot ranges cover the roots once, in slot order, and
                // the masks say which slots have roots and which count a minimum
                let mut covered = 0;
                let mut last = None;
                for &(s0, a, b) in &plan.slots {
                    assert!(last < Some(s0) && a < b, "{}", p.url);
                    assert_eq!(a as usize, covered, "{}", p.url);
                    covered = b as usize;
                    last = Some(s0);
                    let needs = plan.roots[a as usize..b as usize].iter().any(|&r| {
                        let node = &plan.nodes[r as usize];
                        assert_eq!(node.s0, s0, "{}", p.url);
                        node.on_count.iter().any(|u| {
                            matches!(p.cons[u.ci as usize].kind, ConstraintKind::Card { min, .. } if min > 0)
                        })
                    });
                    assert!(plan.with_roots & (1 << s0) != 0, "{}", p.url);
                    assert_eq!(plan.needed & (1 << s0) != 0, needs, "{}", p.url);
                }
                assert_eq!(covered, plan.roots.len(), "{}", p.url);
                assert_eq!(plan.with_roots.count_ones() as usize, plan.slots.len());
                assert!(seen.iter().all(|&n| n <= 1), "{}", p.url);
                let t = ti.checked_sub(1).map(|i| EVENT_TABLES[i]);
                for (ci, c) in p.cons.iter().enumerate() {
                    let applies = c.steps.len() <= DEPTH
                        && !(matches!(c.kind, ConstraintKind::Card { .. })
                            && stated_elements(t, p.resource_type)
                                .iter()
                                .any(|seg| states(seg, c)));
                    if !applies {
                        assert_eq!(seen[ci], 0, "{} {}", p.url, c.id);
                    }
                }
                order.sort_unstable();
                order.dedup();
                assert_eq!(order.len(), seen.iter().sum::<u32>() as usize, "{}", p.url);
            }
        }
    }
}
