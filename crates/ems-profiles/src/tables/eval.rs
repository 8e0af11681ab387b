//! The one evaluator of the requirement tables: finds each role's members,
//! checks each member by one descent of its role's plan (`plan.rs`: the
//! trie of the rows' element paths, read through the `ems_stu3::node`
//! reflection layer) and reports every row that a message breaks, in row
//! order.

use super::plan::{PNode, RolePlan};
use super::{Check, Form, Points, Sel, Table, To};
use crate::event::cat;
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
    /// The message's event in the event-type table.
    fn event(&self) -> Option<&'static ems_match::EventType>;
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

/// The slot where element `name` sits in the datatypes the evaluator reads
/// by name (Coding, CodeableConcept, Extension, Reference, ContactPoint):
/// `find_field` tries it first, so a lookup there is one comparison; in any
/// other type the scan finds the element as before (a hint never changes
/// the answer, only how soon it is found).
fn hint(name: &str) -> usize {
    match name {
        "system" | "url" | "coding" | "reference" => 2,
        "text" | "value" | "version" | "identifier" => 3,
        "code" => 4,
        "display" => 5,
        "userSelected" => 6,
        _ => 0,
    }
}

/// The slot of `extension` in `n` (datatypes and backbone elements: 1;
/// DomainResources: 6).
fn extension_slot(n: &dyn Node) -> Option<(usize, Option<usize>)> {
    let d = n.desc();
    find_field(d, "extension", if d.is_resource { 6 } else { 1 })
}

/// An element of a datatype the evaluator reads (a Coding's `system`, an
/// Extension's `url`, ...), its slot found by name when the crate is
/// compiled: reading it from a node of that type costs no name comparison
/// (a node of any other type: found by name, as [`str_of`] does).
#[derive(Clone, Copy)]
struct El {
    desc: &'static ems_stu3::node::TypeDesc,
    name: &'static str,
    slot: usize,
}

impl El {
    /// Element `name` of type `desc` (a compile error when there is none).
    const fn of(desc: &'static ems_stu3::node::TypeDesc, name: &'static str) -> El {
        let (f, want) = (desc.fields, name.as_bytes());
        let mut i = 0;
        while i < f.len() {
            let have = f[i].name.as_bytes();
            if have.len() == want.len() {
                let mut j = 0;
                while j < have.len() && have[j] == want[j] {
                    j += 1;
                }
                if j == have.len() {
                    return El {
                        desc,
                        name,
                        slot: i,
                    };
                }
            }
            i += 1;
        }
        panic!("no such element")
    }

    /// The element's slot in `n`, when `n` is of the element's type.
    fn slot_in(&self, n: &dyn Node) -> Option<usize> {
        std::ptr::eq(n.desc(), self.desc).then_some(self.slot)
    }

    /// The string value of the element in `n` (what `str_of` gives).
    fn str<'a>(&self, n: &'a dyn Node) -> Option<&'a str> {
        match self.slot_in(n) {
            Some(i) => match n.field(i) {
                FieldRef::Prim(Some(p)) => p.value_str(),
                FieldRef::Attr(a) => a,
                _ => None,
            },
            None => str_of(n, self.name),
        }
    }

    /// Whether the element is present in `n` (what `has` gives).
    fn has(&self, n: &dyn Node) -> bool {
        match self.slot_in(n) {
            Some(i) => ems_stu3::node::is_present(&n.field(i)),
            None => has(n, self.name),
        }
    }
}

const CODING_SYSTEM: El = El::of(&ems_stu3::CODING_DESC, "system");
const CODING_VERSION: El = El::of(&ems_stu3::CODING_DESC, "version");
const CODING_CODE: El = El::of(&ems_stu3::CODING_DESC, "code");
const CODING_DISPLAY: El = El::of(&ems_stu3::CODING_DESC, "display");
const CODING_USER_SELECTED: El = El::of(&ems_stu3::CODING_DESC, "userSelected");
const CC_CODING: El = El::of(&ems_stu3::CODEABLECONCEPT_DESC, "coding");
const CC_TEXT: El = El::of(&ems_stu3::CODEABLECONCEPT_DESC, "text");
const EXT_URL: El = El::of(&ems_stu3::EXTENSION_DESC, "url");
const EXT_VALUE: El = El::of(&ems_stu3::EXTENSION_DESC, "value");
const REF_REFERENCE: El = El::of(&ems_stu3::REFERENCE_DESC, "reference");
const CONTACT_SYSTEM: El = El::of(&ems_stu3::CONTACTPOINT_DESC, "system");
const CONTACT_VALUE: El = El::of(&ems_stu3::CONTACTPOINT_DESC, "value");

/// The string value of primitive or attribute element `name` of `n`.
pub(crate) fn str_of<'a>(n: &'a dyn Node, name: &str) -> Option<&'a str> {
    let (i, _) = find_field(n.desc(), name, hint(name))?;
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

/// Calls `f` with every extension `url` of `v`.
fn each_ext<'a>(v: Val<'a>, url: &str, f: &mut dyn FnMut(Val<'a>)) {
    match v {
        Val::Prim(p) => p
            .extension()
            .iter()
            .filter(|e| e.url.as_deref() == Some(url))
            .for_each(|e| f(Val::Node(e as &dyn Node))),
        Val::Node(n) => {
            if let Some((i, alt)) = extension_slot(n) {
                each_in_slot(n, i, alt, &mut |x| {
                    if let Val::Node(e) = x {
                        if EXT_URL.str(e) == Some(url) {
                            f(x);
                        }
                    }
                })
            }
        }
        Val::Res(r) => each_ext(Val::Node(r.as_node()), url, f),
        Val::Attr(_) => {}
    }
}

/// Calls `f` with every value of step `seg` below `v`.
fn each_step<'a>(v: Val<'a>, seg: &str, f: &mut dyn FnMut(Val<'a>)) {
    if let Some(url) = seg
        .strip_prefix("extension(")
        .and_then(|s| s.strip_suffix(')'))
    {
        return each_ext(v, url, f);
    }
    match v {
        Val::Node(n) => each_field(n, seg, f),
        Val::Res(r) => each_field(r.as_node(), seg, f),
        Val::Prim(_) | Val::Attr(_) => {}
    }
}

/// One step of a path resolved against the role's resource type
/// ([`compile`]): an element slot (with its choice alternative), or the
/// extensions with a URL.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Step {
    Slot(usize, Option<usize>),
    Ext(&'static str),
}

/// Resolves `paths` (each relative to where the one before it ends: a
/// parent and a path inside it) below resource `r` (a blank of the role's
/// type; the steps are made on it, so one blank serves every path of its
/// type) into element slots once, so that the evaluator walks slots, not
/// names. Gives the steps and the number of steps of the first path;
/// `None` when a step is not an element of its type.
pub(crate) fn compile(r: &mut Resource, paths: &[&'static str]) -> Option<(Box<[Step]>, usize)> {
    let mut out = Vec::new();
    let mut ends = Vec::new();
    let (first, more) = paths.split_first()?;
    compile_in(r.as_node_mut(), first, more, &mut out, &mut ends)?;
    let first_len = ends.first().copied().unwrap_or(out.len());
    Some((out.into_boxed_slice(), first_len))
}

fn compile_in(
    n: &mut dyn Node,
    path: &'static str,
    more: &[&'static str],
    out: &mut Vec<Step>,
    ends: &mut Vec<usize>,
) -> Option<()> {
    if path.is_empty() {
        ends.push(out.len());
        return match more.split_first() {
            Some((next, rest)) => compile_in(n, next, rest, out, ends),
            None => Some(()),
        };
    }
    let (seg, rest) = split(path);
    if let Some(url) = seg
        .strip_prefix("extension(")
        .and_then(|s| s.strip_suffix(')'))
    {
        out.push(Step::Ext(url));
        return compile_in(&mut ems_stu3::Extension::default(), rest, more, out, ends);
    }
    let (i, alt) = find_field(n.desc(), seg, 0)?;
    out.push(Step::Slot(i, alt));
    if rest.is_empty() && more.is_empty() {
        ends.push(out.len());
        return Some(());
    }
    // below a primitive, only its extensions
    let mut ext = ems_stu3::Extension::default();
    let below_primitive = rest.starts_with("extension(");
    let child: &mut dyn Node = match n.field_mut(i) {
        ems_stu3::node::FieldMut::One(o) => o.get_or_insert(),
        ems_stu3::node::FieldMut::Many(v) => v.push_default(),
        ems_stu3::node::FieldMut::Choice(c) => match c.set_variant(alt?)? {
            ems_stu3::node::ChoiceMut::Node(x) => x,
            ems_stu3::node::ChoiceMut::Prim(_) if below_primitive => &mut ext,
            ems_stu3::node::ChoiceMut::Prim(_) => return None,
        },
        ems_stu3::node::FieldMut::Prim(_) | ems_stu3::node::FieldMut::PrimList(_)
            if below_primitive =>
        {
            &mut ext
        }
        _ => return None,
    };
    compile_in(child, rest, more, out, ends)
}

/// Calls `f` with every value reached by `steps` below `v` (no allocation).
fn visit_steps<'a>(v: Val<'a>, steps: &[Step], f: &mut dyn FnMut(Val<'a>)) {
    let Some((first, rest)) = steps.split_first() else {
        return f(v);
    };
    match *first {
        Step::Ext(url) => each_ext(v, url, &mut |x| visit_steps(x, rest, f)),
        Step::Slot(i, alt) => {
            let n = match v {
                Val::Node(n) => n,
                Val::Res(r) => r.as_node(),
                _ => return,
            };
            each_in_slot(n, i, alt, &mut |x| visit_steps(x, rest, f))
        }
    }
}

/// Calls `f` with every value at `path` below `v`: through the compiled
/// `steps` where the table has them, else by name.
fn visit_by<'a>(v: Val<'a>, path: &str, steps: Option<&[Step]>, f: &mut dyn FnMut(Val<'a>)) {
    match steps {
        Some(s) => visit_steps(v, s, f),
        None => visit(v, path, f),
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

/// The number of values in slot `(i, alt)` of `r` (a one-element `Card`
/// row: its length, read directly).
fn count(r: &Resource, (i, alt): (usize, Option<usize>)) -> u32 {
    let n = r.as_node();
    if i >= n.desc().fields.len() {
        return 0;
    }
    match n.field(i) {
        FieldRef::PrimList(v) => v.len() as u32,
        FieldRef::Many(v) => v.len() as u32,
        FieldRef::Resources(v) => v.len() as u32,
        FieldRef::Choice(Some((a, _))) => u32::from(alt.is_none_or(|w| w == a)),
        f => u32::from(ems_stu3::node::is_present(&f)),
    }
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
    // each type has one description: comparing its address compares the type
    let d = n.desc();
    if std::ptr::eq(d, &ems_stu3::CODING_DESC) {
        Codings::One(n)
    } else if std::ptr::eq(d, &ems_stu3::CODEABLECONCEPT_DESC) {
        match n.field(CC_CODING.slot) {
            FieldRef::Many(list) => Codings::Many(list, 0),
            _ => Codings::Done,
        }
    } else {
        Codings::Done
    }
}

/// The reference string of a Reference value.
fn reference_of(v: Val<'_>) -> Option<&str> {
    match v {
        Val::Node(n) if std::ptr::eq(n.desc(), &ems_stu3::REFERENCE_DESC) => REF_REFERENCE.str(n),
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

/// The evaluator's per-message vectors, kept between messages by each
/// thread ([`SCRATCH`]) so that a message allocates none of them.
#[derive(Default)]
struct Scratch {
    /// Type key of each entry (`tables::type_key`; repeated fullUrls: `REPEATED`).
    types: Vec<usize>,
    /// Members of each role, as a range of `arena`, once computed.
    members: Vec<Option<(u32, u32)>>,
    arena: Vec<usize>,
    /// The entries of each type asked for, as ranges of `arena`.
    by_type: Vec<(usize, (u32, u32))>,
    /// Which roles of a `Coded` group each entry of the type belongs to.
    masks: Vec<u64>,
    /// Each row's state in the current member's descent.
    st: Vec<RowState>,
    /// The current table's findings, reported when it is done.
    found: Vec<Found>,
}

/// A row's state in one member's descent: the values counted (in the
/// current frame, or the member), the frames closed (a `CardEach` parent's
/// index, an `InBundle` value's index) and a flag (`Is`: a frame without a
/// value; `Includes`: the value seen).
#[derive(Clone, Copy, Default)]
struct RowState {
    n: u32,
    j: u32,
    flag: bool,
}

/// A finding of row `row`, kept until its table is done.
struct Found {
    row: u16,
    at: String,
    msg: String,
}

thread_local! {
    /// The vectors of the last evaluation on this thread (emptied).
    static SCRATCH: std::cell::Cell<Scratch> = std::cell::Cell::new(Scratch::default());
}

struct Eval<'a, 'v, V: View<'a>> {
    table: &'static Table,
    /// `table.index()`, looked up once per table.
    idx: &'static super::Index,
    view: &'v V,
    /// Type key of each entry (`tables::type_key`; repeated fullUrls: `REPEATED`).
    types: Vec<usize>,
    /// Members of each role, as a range of `arena`, once computed.
    members: Vec<Option<(u32, u32)>>,
    arena: Vec<usize>,
    by_type: Vec<(usize, (u32, u32))>,
    masks: Vec<u64>,
    /// The present elements of the member being checked (`Node::present`).
    present: u128,
    /// Whether each row of the current table applies to the message
    /// (`Index::active` of the message's class).
    active: &'static [bool],
    /// The last reference resolved (its text's address and length) and
    /// the entry it resolved to: rows reading one Reference resolve it once.
    last_ref: (*const u8, usize, Option<usize>),
    st: Vec<RowState>,
    found: Vec<Found>,
    _a: std::marker::PhantomData<&'a ()>,
}

impl<'a, 'v, V: View<'a>> Eval<'a, 'v, V> {
    /// An evaluator of `table` over `view`, in this thread's vectors.
    fn new(table: &'static Table, view: &'v V) -> Self {
        let Scratch {
            mut types,
            mut members,
            mut arena,
            mut by_type,
            masks,
            st,
            found,
        } = SCRATCH.take();
        types.clear();
        types.extend((0..view.len()).map(|k| {
            if view.repeated(k) {
                super::REPEATED
            } else {
                super::desc_key(view.res(k).as_node().desc())
            }
        }));
        members.clear();
        members.resize(table.roles.len(), None);
        arena.clear();
        by_type.clear();
        Eval {
            table,
            idx: table.index(),
            view,
            types,
            members,
            arena,
            by_type,
            masks,
            present: 0,
            active: &[],
            last_ref: (std::ptr::null(), 0, None),
            st,
            found,
            _a: std::marker::PhantomData,
        }
    }

    /// Hands the vectors back to the thread for the next message.
    fn finish(self) {
        SCRATCH.set(Scratch {
            types: self.types,
            members: self.members,
            arena: self.arena,
            by_type: self.by_type,
            masks: self.masks,
            st: self.st,
            found: self.found,
        });
    }

    /// The entries of type key `ty`, in entry order, as a range of
    /// `arena` (found once per message and type: several roles and both
    /// tables share them).
    fn of_type(&mut self, ty: usize) -> (u32, u32) {
        if let Some(&(_, m)) = self.by_type.iter().find(|(t, _)| *t == ty) {
            return m;
        }
        let start = self.arena.len();
        for k in 0..self.types.len() {
            if self.types[k] == ty {
                self.arena.push(k);
            }
        }
        let m = (start as u32, self.arena.len() as u32);
        self.by_type.push((ty, m));
        m
    }

    /// The members of role `ri` (entry indexes), as a range of `arena`.
    fn members(&mut self, ri: usize, depth: u8) -> (u32, u32) {
        let Some(r) = self.table.roles.get(ri) else {
            return (0, 0);
        };
        if let Some(m) = self.members[ri] {
            return m;
        }
        let ty = self.idx.role_ty[ri];
        let mut start = self.arena.len();
        match r.sel {
            Sel::All => {
                let m = self.of_type(ty);
                self.members[ri] = Some(m);
                return m;
            }
            Sel::Focus => {
                if let Some(k) = self.view.focus().filter(|&k| self.types[k] == ty) {
                    self.arena.push(k);
                }
            }
            Sel::Coded { path, .. } => {
                // every role of the group at once: one visit of each entry
                let group = &self.idx.coded_group[ri];
                let steps = self.idx.role_steps[ri].as_deref();
                let (a, b) = self.of_type(ty);
                self.masks.clear();
                for m in a..b {
                    let k = self.arena[m as usize];
                    let mut mask = 0u64;
                    visit_by(Val::Res(self.view.res(k)), path, steps, &mut |v| {
                        for c in codings(v) {
                            let Some(x) = CODING_CODE.str(c) else {
                                continue;
                            };
                            for (j, &g) in group.iter().enumerate() {
                                if let Some(Sel::Coded { codes, .. }) =
                                    self.table.roles.get(g).map(|r| r.sel)
                                {
                                    if codes.contains(&x) {
                                        mask |= 1 << j;
                                    }
                                }
                            }
                        }
                    });
                    self.masks.push(mask);
                }
                for (j, &g) in group.iter().enumerate() {
                    if self.members[g].is_some() {
                        continue;
                    }
                    let start = self.arena.len();
                    for (m, mask) in (a..b).zip(0..self.masks.len()) {
                        if self.masks[mask] & (1 << j) != 0 {
                            let k = self.arena[m as usize];
                            self.arena.push(k);
                        }
                    }
                    self.members[g] = Some((start as u32, self.arena.len() as u32));
                }
                return self.members[ri].unwrap_or((0, 0));
            }
            Sel::RefBy { path, .. } if depth < 4 => {
                let from = self.idx.ref_role[ri].map_or((0, 0), |s| self.members(s, depth + 1));
                // the source's members may have been pushed just now
                start = self.arena.len();
                let steps = self.idx.role_steps[ri].as_deref();
                let (view, types, arena) = (self.view, &self.types, &mut self.arena);
                for i in from.0..from.1 {
                    let k = arena[i as usize];
                    visit_by(Val::Res(view.res(k)), path, steps, &mut |v| {
                        if let Some(t) = reference_of(v).and_then(|s| view.resolve(s)) {
                            if types[t] == ty {
                                arena.push(t);
                            }
                        }
                    });
                }
                // the found entries, in entry order, each once
                arena[start..].sort_unstable();
                let mut end = start;
                for i in start..arena.len() {
                    if i == start || arena[i] != arena[end - 1] {
                        arena[end] = arena[i];
                        end += 1;
                    }
                }
                arena.truncate(end);
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
        self.loc_at(k, "")
    }

    /// The location of element `x` of entry `k` (`loc(k).x`).
    fn loc_at(&self, k: usize, x: &str) -> String {
        crate::event::entry_loc(
            self.view.bundle_index(k),
            self.view.res(k).resource_type(),
            x,
        )
    }

    /// The `[row id] message` text of a finding of row `ix`, kept until the
    /// table is done (findings are reported in row order).
    fn report(&mut self, ix: u16, at: String, msg: String) {
        let id = self.table.rows[ix as usize].id;
        // `[row id] message`, without the formatting machinery
        let mut m = String::with_capacity(id.len() + 3 + msg.len());
        m.push('[');
        m.push_str(id);
        m.push_str("] ");
        m.push_str(&msg);
        self.found.push(Found {
            row: ix,
            at,
            msg: m,
        });
    }

    /// Checks every row of the current table: the `Count` rows, then each
    /// role's members in one descent of the role's plan each; reports the
    /// findings in row order (for one row: member by member, in document
    /// order), as checking row after row would.
    fn table(&mut self, rep: &mut Report) {
        let (t, idx) = (self.table, self.idx);
        let class = super::class(self.view.met(), self.view.event());
        self.active = idx.active.get(class).map_or(&[], |a| &a[..]);
        self.st.clear();
        self.st.resize(t.rows.len(), RowState::default());
        for &ix in idx.plan.counts.iter() {
            if self.active[ix as usize] {
                self.count_row(ix);
            }
        }
        for (ri, rp) in idx.plan.roles.iter().enumerate() {
            if !rp.rows.iter().any(|&ix| self.active[ix as usize]) {
                continue;
            }
            let (a, b) = self.members(ri, 0);
            // the `To::Role` targets' members, before the descent
            for &ix in rp.rows.iter() {
                if let Some(tr) = idx.row_target[ix as usize] {
                    self.members(tr, 0);
                }
            }
            for m in a..b {
                let k = self.arena[m as usize];
                self.member(rp, k);
            }
        }
        // stable: one row's findings stay in the order they were found
        if !self.found.is_sorted_by_key(|f| f.row) {
            self.found.sort_by_key(|f| f.row);
        }
        for f in self.found.drain(..) {
            let row = &t.rows[f.row as usize];
            rep.add_full(
                row.rule,
                Some(row.strength),
                Some(row.critical || row.rule.rule().critical),
                f.at,
                f.msg,
            );
        }
    }

    /// A `Count` row: the number of members of the role.
    fn count_row(&mut self, ix: u16) {
        let row = &self.table.rows[ix as usize];
        let Check::Count { min, max } = row.check else {
            return;
        };
        let ri = self.idx.row_role[ix as usize];
        let ty = self.table.roles.get(ri).map_or("", |r| r.ty);
        let (a, b) = self.members(ri, 0);
        let n = b - a;
        if n < min || max.is_some_and(|m| n > m) {
            let msg = cat(&[
                &row.role,
                &" (",
                &ty,
                &"): ",
                &card_text(min, max),
                &" required, found ",
                &n,
            ]);
            self.report(ix, "Bundle.entry".into(), msg);
        }
    }

    /// One descent of role plan `rp` over member `k`, then the rows that
    /// conclude on the member.
    fn member(&mut self, rp: &'static RolePlan, k: usize) {
        let r = self.view.res(k);
        for &ix in rp.reset.iter() {
            self.st[ix as usize] = RowState::default();
        }
        let Some(root) = rp.nodes.first() else { return };
        // the member's present top-level elements: an absent one is not visited
        self.present = r.as_node().present();
        self.kids(rp, root, Val::Res(r), Some(self.present), k);
        for &ix in root.frame.iter() {
            if self.active[ix as usize] {
                self.end_frame(ix, k);
            }
        }
        for &ix in rp.ends.iter() {
            if self.active[ix as usize] {
                self.end_member(ix, k);
            }
        }
    }

    /// Visits the child nodes of `node` below value `v` (`present`: the
    /// member's presence bits, at the root).
    fn kids(
        &mut self,
        rp: &'static RolePlan,
        node: &'static PNode,
        v: Val<'a>,
        present: Option<u128>,
        k: usize,
    ) {
        for &c in node.kids.iter() {
            let Some(kid) = rp.nodes.get(c as usize) else {
                continue;
            };
            match kid.step {
                Step::Slot(i, alt) => {
                    if present.is_some_and(|p| i < 128 && p & (1u128 << i) == 0) {
                        continue;
                    }
                    let n = match v {
                        Val::Node(n) => n,
                        Val::Res(r) => r.as_node(),
                        _ => continue,
                    };
                    each_in_slot(n, i, alt, &mut |x| self.enter(rp, kid, x, k));
                }
                Step::Ext(url) => each_ext(v, url, &mut |x| self.enter(rp, kid, x, k)),
            }
        }
    }

    /// Value `x` at node `node`: its frames open, its rows read it, the
    /// nodes below are visited, its frames close.
    fn enter(&mut self, rp: &'static RolePlan, node: &'static PNode, x: Val<'a>, k: usize) {
        for &ix in node.frame.iter() {
            self.st[ix as usize].n = 0;
        }
        for &ix in node.leaf.iter() {
            if self.active[ix as usize] {
                self.leaf(ix, x, k);
            }
        }
        if !node.kids.is_empty() {
            self.kids(rp, node, x, None, k);
        }
        for &ix in node.frame.iter() {
            if self.active[ix as usize] {
                self.end_frame(ix, k);
            }
        }
    }

    /// Row `ix` reads value `v` at its path in member `k`.
    fn leaf(&mut self, ix: u16, v: Val<'a>, k: usize) {
        let row = &self.table.rows[ix as usize];
        match row.check {
            Check::Logic { .. } | Check::Count { .. } => {}
            Check::Card { .. } | Check::CardEach { .. } => self.st[ix as usize].n += 1,
            Check::Is { path, is, .. } => {
                if present(v) {
                    self.st[ix as usize].n += 1;
                    let event = self.view.event();
                    form(is, path, v, event, &mut |suffix, msg| {
                        let mut l = at(&self.loc(k), path);
                        l.push_str(suffix);
                        self.report(ix, l, msg)
                    });
                }
            }
            Check::Includes { value, .. } => {
                self.st[ix as usize].flag |= prim_str(v) == Some(value)
            }
            Check::Fixed {
                path,
                system,
                code,
                display,
            } => {
                let hit = codings(v).enumerate().find(|(_, c)| {
                    CODING_SYSTEM.str(*c) == system && CODING_CODE.str(*c) == Some(code)
                });
                match hit {
                    None => {
                        let msg = format!(
                            "{path} must carry {}|{code}{}",
                            system.unwrap_or("(no system)"),
                            display.map(|d| format!(" `{d}`")).unwrap_or_default()
                        );
                        self.report(ix, self.loc_at(k, path), msg)
                    }
                    Some((j, c)) => {
                        if let Some(d) = display {
                            self.display(ix, k, path, v, j, c, d);
                        }
                    }
                }
            }
            Check::OneOf {
                path,
                system,
                codes,
            } => {
                let hit = codings(v).enumerate().find_map(|(j, c)| {
                    if CODING_SYSTEM.str(c) != Some(system) {
                        return None;
                    }
                    let code = CODING_CODE.str(c)?;
                    codes
                        .iter()
                        .find(|(x, _)| *x == code)
                        .map(|(_, d)| (j, c, *d))
                });
                match hit {
                    None => {
                        let msg = format!(
                            "{path} must carry a {system} code of: {}",
                            codes.iter().map(|(c, _)| *c).collect::<Vec<_>>().join(", ")
                        );
                        self.report(ix, self.loc_at(k, path), msg)
                    }
                    Some((j, c, d)) => {
                        if !d.is_empty() {
                            self.display(ix, k, path, v, j, c, d);
                        }
                    }
                }
            }
            Check::System { path, system } => {
                if !codings(v).any(|c| CODING_SYSTEM.str(c) == Some(system)) {
                    let msg = format!("{path} must carry a coding from {system}");
                    self.report(ix, self.loc_at(k, path), msg);
                }
            }
            Check::Value { path, value } => {
                let got = prim_str(v);
                if got.is_some_and(|g| g != value) {
                    let msg = format!("{path} must be `{value}`, found `{}`", got.unwrap_or(""));
                    self.report(ix, self.loc_at(k, path), msg);
                }
            }
            Check::InBundle { path, to, required } => self.in_bundle(ix, k, v, path, to, required),
            Check::Target { path, to } => self.target(ix, k, v, path, to),
        }
    }

    /// The display check of a fixed coding `c` (coding `j` of value `v`).
    #[allow(clippy::too_many_arguments)]
    fn display(
        &mut self,
        ix: u16,
        k: usize,
        path: &str,
        v: Val<'_>,
        j: usize,
        c: &dyn Node,
        d: &str,
    ) {
        if CODING_DISPLAY.str(c) != Some(d) {
            let msg = cat(&[
                &"display must be `",
                &d,
                &"`, found `",
                &CODING_DISPLAY.str(c).unwrap_or("(missing)"),
                &"`",
            ]);
            self.report(ix, display_loc(&self.loc(k), path, v, j), msg);
        }
    }

    /// An `InBundle` row on Reference `v` (the next of its path in member `k`).
    fn in_bundle(&mut self, ix: u16, k: usize, v: Val<'_>, path: &str, to: Points, required: bool) {
        let i = self.st[ix as usize].j;
        self.st[ix as usize].j += 1;
        let event = self.view.event();
        let want = || match to {
            Points::Any => None,
            Points::Types(t) => Some(t.join(" or ")),
            Points::EventFocus => event.map(|e| e.focus.to_string()),
        };
        let loc = |e: &Self| {
            let r = e.view.res(k);
            let many = e.idx.row_field[ix as usize]
                .is_some_and(|(s, _)| r.as_node().desc().fields[s].many);
            let mut l = at(&e.loc(k), path);
            if many {
                l.push('[');
                ems_stu3::push_decimal(&mut l, i as usize);
                l.push(']');
            }
            l.push_str(".reference");
            l
        };
        let Some(rf) = reference_of(v) else {
            if required {
                self.report(ix, loc(self), format!("{path}.reference is missing"));
            }
            return;
        };
        let Some(t) = self.resolve(rf) else {
            if required {
                let msg = match want() {
                    Some(w) => cat(&[
                        &path,
                        &" `",
                        &rf,
                        &"` must be a ",
                        &w,
                        &" inside the bundle",
                    ]),
                    None => cat(&[&path, &" `", &rf, &"` is not in the bundle"]),
                };
                self.report(ix, loc(self), msg);
            }
            return;
        };
        let ty = self.view.res(t).resource_type();
        let ok = match to {
            Points::Any => true,
            Points::Types(tys) => tys.contains(&ty),
            Points::EventFocus => event.is_none_or(|e| e.focus == ty),
        };
        if !ok {
            let w = want().unwrap_or_default();
            let msg = match (to, event) {
                (Points::EventFocus, Some(e)) => {
                    format!("{path} is a {ty}; the {path} of {} is a {w}", e.code)
                }
                _ => format!("{path} `{rf}` is a {ty}, not a {w}"),
            };
            self.report(ix, loc(self), msg);
        }
    }

    /// The entry `reference` (a string of the message) points at.
    fn resolve(&mut self, reference: &str) -> Option<usize> {
        let key = (reference.as_ptr(), reference.len());
        if (self.last_ref.0, self.last_ref.1) == key {
            return self.last_ref.2;
        }
        let t = self.view.resolve(reference);
        self.last_ref = (key.0, key.1, t);
        t
    }

    /// A `Target` row on Reference `v` in member `k`.
    fn target(&mut self, ix: u16, k: usize, v: Val<'_>, path: &str, to: To) {
        let Some(r) = reference_of(v) else { return };
        let ok = match (self.resolve(r), to) {
            (Some(t), To::Types(tys)) => tys.contains(&self.view.res(t).resource_type()),
            (Some(t), To::Role(_)) => self.idx.row_target[ix as usize]
                .and_then(|tr| self.members[tr])
                .is_some_and(|(a, b)| self.arena[a as usize..b as usize].contains(&t)),
            (Some(t), To::EventFocus) => self
                .view
                .event()
                .is_none_or(|e| self.view.res(t).resource_type() == e.focus),
            (None, To::EventFocus) => true,
            (None, To::Types(tys)) => type_in_url(r).is_none_or(|t| tys.contains(&t)),
            // an unresolved urn:uuid reference is REF-UNRESOLVED's
            // (an absolute URL is never a member of a role)
            (None, To::Role(_)) => r.starts_with("urn:"),
        };
        if !ok {
            let want = match to {
                To::Types(t) => t.join(" or "),
                To::Role(n) => format!("the {n}"),
                To::EventFocus => self
                    .view
                    .event()
                    .map_or("the event's focus".into(), |e| e.focus.to_string()),
            };
            let msg = format!("{path} `{r}` must point at {want}");
            self.report(ix, self.loc_at(k, path), msg);
        }
    }

    /// Row `ix`'s frame (a value of its parent path) in member `k` closes.
    fn end_frame(&mut self, ix: u16, k: usize) {
        let row = &self.table.rows[ix as usize];
        let s = self.st[ix as usize];
        match row.check {
            Check::CardEach {
                parent,
                path,
                min,
                max,
            } => {
                self.st[ix as usize].j += 1;
                let n = s.n;
                if n < min || max.is_some_and(|m| n > m) {
                    let r = self.view.res(k);
                    // a single-valued parent is written without an index
                    // (`row_field`: the parent's slot, when it is one element)
                    let many = self.idx.row_field[ix as usize]
                        .is_none_or(|(i, _)| r.as_node().desc().fields[i].many);
                    let at = if many {
                        let mut s2 = self.loc_at(k, parent);
                        s2.push('[');
                        ems_stu3::push_decimal(&mut s2, s.j as usize);
                        s2.push_str("].");
                        s2.push_str(path);
                        s2
                    } else {
                        cat(&[&self.loc_at(k, parent), &".", &path])
                    };
                    let msg = cat(&[
                        &"each ",
                        &parent,
                        &" needs ",
                        &path,
                        &" ",
                        &card_text(min, max),
                        &", found ",
                        &n,
                    ]);
                    self.report(ix, at, msg);
                }
            }
            Check::Is { .. } => self.st[ix as usize].flag |= s.n == 0,
            _ => {}
        }
    }

    /// Row `ix` concludes on member `k` (counts, required values).
    fn end_member(&mut self, ix: u16, k: usize) {
        let row = &self.table.rows[ix as usize];
        let s = self.st[ix as usize];
        match row.check {
            Check::Card { path, min, max } => {
                // a row whose minimum is STU3's own leaves it to the base layer
                let min = if row.rule == R::SCHEMA_MIN { 0 } else { min };
                let n = match self.idx.row_field[ix as usize] {
                    // an absent element counts 0 (no need to read it)
                    Some((i, _)) if i < 128 && self.present & (1u128 << i) == 0 => 0,
                    Some(slot) => count(self.view.res(k), slot),
                    None => s.n,
                };
                if n < min || max.is_some_and(|m| n > m) {
                    let msg = cat(&[
                        &row.role,
                        &".",
                        &path,
                        &": ",
                        &card_text(min, max),
                        &" required, found ",
                        &n,
                    ]);
                    self.report(ix, self.loc_at(k, path), msg);
                }
            }
            Check::Is {
                path, is, required, ..
            } => {
                // a display drawn from the event-type table is not checked for an unknown event
                let required =
                    required && !(matches!(is, Form::EventDisplay) && self.view.event().is_none());
                if required && s.flag {
                    let msg = cat(&[&path, &" is missing"]);
                    self.report(ix, at(&self.loc(k), path), msg);
                }
            }
            Check::Includes { path, value } if !s.flag => {
                let msg = format!("{path} does not carry {value}");
                self.report(ix, at(&self.loc(k), path), msg);
            }
            _ => {}
        }
    }
}

/// The location of `path` below `loc`, in the validator's FHIRPath-like
/// form: `extension(url)` steps as `extension('url')`.
fn at(loc: &str, path: &str) -> String {
    let mut s = String::with_capacity(loc.len() + path.len() + 4);
    s.push_str(loc);
    let mut rest = path;
    while !rest.is_empty() {
        let (seg, tail) = split(rest);
        s.push('.');
        match seg
            .strip_prefix("extension(")
            .and_then(|u| u.strip_suffix(')'))
        {
            Some(url) => {
                s.push_str("extension('");
                s.push_str(url);
                s.push_str("')");
            }
            None => s.push_str(seg),
        }
        rest = tail;
    }
    s
}

/// Splits the last segment off a path (`source.endpoint` → `source`, `endpoint`).
pub(crate) fn split_last(path: &str) -> (&str, &str) {
    let mut parent_end = 0;
    let mut rest = path;
    let mut consumed = 0;
    loop {
        let (seg, tail) = split(rest);
        if tail.is_empty() {
            return (&path[..parent_end], seg);
        }
        consumed += rest.len() - tail.len();
        parent_end = consumed - 1;
        rest = tail;
    }
}

/// Whether a value counts as present (a primitive needs a value: one with
/// only extensions does not carry what the row asks for).
fn present(v: Val<'_>) -> bool {
    match v {
        Val::Prim(p) => p.value_str().is_some(),
        _ => true,
    }
}

/// The string of a primitive or attribute value.
fn prim_str<'a>(v: Val<'a>) -> Option<&'a str> {
    match v {
        Val::Prim(p) => p.value_str(),
        Val::Attr(a) => Some(a),
        _ => None,
    }
}

/// Whether element `name` of `n` is present.
fn has(n: &dyn Node, name: &str) -> bool {
    find_field(n.desc(), name, hint(name))
        .is_some_and(|(i, _)| ems_stu3::node::is_present(&n.field(i)))
}

/// Checks value `v` (at `path`) against form `is`; `bad` gets each breach:
/// the location suffix below `path` and the message.
fn form(
    is: Form,
    path: &str,
    v: Val<'_>,
    event: Option<&'static ems_match::EventType>,
    bad: &mut dyn FnMut(&str, String),
) {
    let s = prim_str(v);
    match is {
        Form::Uuid => {
            if let Some(x) = s.filter(|x| !ems_stu3::lexical::is_uuid(x)) {
                bad("", format!("{path} `{x}` is not a UUID"));
            }
        }
        Form::Integer => {
            if let Some(x) = s.filter(|x| x.is_empty() || !x.bytes().all(|b| b.is_ascii_digit())) {
                bad("", format!("{path} `{x}` is not an integer"));
            }
        }
        Form::Equals(want) => {
            if let Some(x) = s.filter(|x| *x != want) {
                bad("", format!("{path} is `{x}`; expected {want}"));
            }
        }
        Form::EventCode => {
            if let Some(x) = s.filter(|x| ems_match::event_type(x).is_none()) {
                bad("", format!("`{x}` is not a supported NEMS event"));
            }
        }
        Form::EventDisplay => {
            let Val::Node(n) = v else { return };
            if let Some(e) = event {
                let d = CODING_DISPLAY.str(n);
                if d != Some(e.display) {
                    bad(
                        ".display",
                        format!(
                            "{path}.display is `{}`; the EventType-1 display of {} is `{}`",
                            d.unwrap_or("(missing)"),
                            e.code,
                            e.display
                        ),
                    );
                }
            }
            if CODING_USER_SELECTED.has(n) {
                bad(
                    ".userSelected",
                    format!("{path}.userSelected is prohibited"),
                );
            }
        }
        Form::Contact(systems) => {
            let Val::Node(n) = v else { return };
            let one_of = || systems.join(" or ");
            match (CONTACT_SYSTEM.str(n), CONTACT_VALUE.str(n)) {
                (Some(sys), Some(x)) if systems.contains(&sys) => {
                    if !crate::contact::shape_ok(sys, x) {
                        bad(".value", format!("`{x}` is not a {sys} contact"));
                    }
                }
                (Some(o), _) if !systems.contains(&o) => bad(
                    ".system",
                    format!("contact system is `{o}`; use {}", one_of()),
                ),
                (None, _) => bad(
                    ".system",
                    format!("contact system ({}) is required", one_of()),
                ),
                _ => bad(".value", "contact value is required".into()),
            }
        }
        Form::EventCoding { system, codes } => {
            let Val::Node(x) = v else { return };
            let value = EXT_VALUE
                .slot_in(x)
                .or_else(|| x.desc().fields.iter().position(|f| f.name == "value"));
            let cc = match value.map(|i| x.field(i)) {
                Some(FieldRef::Choice(Some((_, ChoiceRef::Node(cc)))))
                    if cc.desc().name == "CodeableConcept" =>
                {
                    cc
                }
                _ => return bad("", "the extension needs a valueCodeableConcept".into()),
            };
            const CC: &str = ".value.ofType(CodeableConcept)";
            let n = codings(Val::Node(cc)).count();
            if n != 1 {
                bad(
                    &format!("{CC}.coding"),
                    format!("exactly one coding is required, found {n}"),
                );
            }
            if CC_TEXT.has(cc) {
                bad(&format!("{CC}.text"), "text is prohibited".into());
            }
            let Some(c) = codings(Val::Node(cc)).next() else {
                return;
            };
            let cl = || format!("{CC}.coding[0]");
            if CODING_SYSTEM.str(c) != Some(system) {
                bad(
                    &format!("{}.system", cl()),
                    format!("system must be {system}"),
                );
            }
            if CODING_VERSION.has(c) || CODING_USER_SELECTED.has(c) {
                bad(&cl(), "version and userSelected are prohibited".into());
            }
            let code = CODING_CODE.str(c);
            match codes.iter().find(|(k, _)| Some(*k) == code) {
                Some((k, display)) => {
                    if let Some(e) = event.filter(|e| !e.message_event_types.contains(k)) {
                        bad(
                            &format!("{}.code", cl()),
                            format!(
                                "`{k}` is not allowed for {} (allowed: {})",
                                e.code,
                                e.message_event_types.join(", ")
                            ),
                        );
                    }
                    if CODING_DISPLAY.str(c) != Some(display) {
                        bad(
                            &format!("{}.display", cl()),
                            format!("display must be `{display}`"),
                        );
                    }
                }
                None => bad(
                    &format!("{}.code", cl()),
                    format!(
                        "`{}` is not one of {}",
                        code.unwrap_or("(missing)"),
                        codes.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(", ")
                    ),
                ),
            }
        }
    }
}

fn display_loc(loc: &str, path: &str, v: Val<'_>, j: usize) -> String {
    match v {
        Val::Node(n) if std::ptr::eq(n.desc(), &ems_stu3::CODEABLECONCEPT_DESC) => {
            cat(&[&loc, &".", &path, &".coding[", &j, &"].display"])
        }
        _ => cat(&[&loc, &".", &path, &".display"]),
    }
}

/// `1..1`, `0..*`.
pub(crate) fn card_text(min: u32, max: Option<u32>) -> String {
    match max {
        Some(m) => cat(&[&min, &"..", &m]),
        None => cat(&[&min, &"..*"]),
    }
}

/// A Bundle read on its own (for [`members_of`]).
struct BundleView<'a> {
    entries: Vec<(usize, &'a Resource, Option<&'a str>)>,
    focus: Option<usize>,
    met: Option<&'a str>,
    event: Option<&'static ems_match::EventType>,
}

impl<'a> BundleView<'a> {
    /// The entries of `bundle`, its focus, and the message's
    /// messageEventType and event as given.
    fn new(
        bundle: &'a ems_stu3::Bundle,
        met: Option<&'a str>,
        event: Option<&'static ems_match::EventType>,
    ) -> BundleView<'a> {
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
        BundleView {
            entries,
            focus,
            met,
            event,
        }
    }
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
    fn event(&self) -> Option<&'static ems_match::EventType> {
        self.event
    }
}

/// The `Bundle.entry` indexes of the members of role `role` of `table` in
/// `bundle` (the same selection the evaluator makes; tests use it to find
/// what to mutate).
pub fn members_of(table: &'static Table, role: &str, bundle: &ems_stu3::Bundle) -> Vec<usize> {
    let view = BundleView::new(bundle, None, None);
    let Some(ri) = table.roles.iter().position(|r| r.name == role) else {
        return Vec::new();
    };
    let mut e = Eval::new(table, &view);
    let list = e.member_list(ri);
    e.finish();
    list.into_iter().map(|k| view.bundle_index(k)).collect()
}

/// Checks every row of `tables` against the message.
pub(crate) fn evaluate<'a, V: View<'a>>(tables: &[&'static Table], view: &V, rep: &mut Report) {
    let Some(first) = tables.first() else { return };
    let mut e = Eval::new(first, view);
    for t in tables {
        if !std::ptr::eq(*t, e.table) {
            e.table = t;
            e.idx = t.index();
            e.members.clear();
            e.members.resize(t.roles.len(), None);
            // `arena` stays: the entries by type are the message's
        }
        e.table(rep);
    }
    e.finish();
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each known element's slot is the one `find_field` finds by name, and
    /// reading through it gives what reading by name gives, on a node of
    /// the element's type and on one of another type.
    #[test]
    fn known_elements_read_what_names_read() {
        let coding = ems_stu3::Coding {
            system: Some("http://snomed.info/sct".into()),
            code: Some("123".into()),
            display: Some("d".into()),
            ..Default::default()
        };
        let ext = ems_stu3::Extension {
            url: Some("https://example.org/x".into()),
            ..Default::default()
        };
        let reference = ems_stu3::Reference {
            reference: Some("urn:uuid:1".into()),
            ..Default::default()
        };
        let nodes: [&dyn Node; 3] = [&coding, &ext, &reference];
        for el in [
            CODING_SYSTEM,
            CODING_VERSION,
            CODING_CODE,
            CODING_DISPLAY,
            CODING_USER_SELECTED,
            CC_CODING,
            CC_TEXT,
            EXT_URL,
            EXT_VALUE,
            REF_REFERENCE,
            CONTACT_SYSTEM,
            CONTACT_VALUE,
        ] {
            let by_name = el.desc.fields.iter().position(|f| f.name == el.name);
            assert_eq!(Some(el.slot), by_name, "{}", el.name);
            for n in nodes {
                assert_eq!(el.str(n), str_of(n, el.name), "{}", el.name);
                assert_eq!(el.has(n), has(n, el.name), "{}", el.name);
            }
        }
        assert_eq!(CODING_CODE.str(&coding), Some("123"));
        assert_eq!(EXT_URL.str(&ext), Some("https://example.org/x"));
        assert_eq!(REF_REFERENCE.str(&reference), Some("urn:uuid:1"));
    }

    /// A copy of row `ix` of `t` as a table of its own (its own plan: a
    /// trie of one path).
    fn one_row(t: &'static Table, ix: usize) -> &'static Table {
        Box::leak(Box::new(Table {
            index: std::sync::OnceLock::new(),
            event: t.event,
            section: t.section,
            roles: t.roles,
            rows: std::slice::from_ref(&t.rows[ix]),
        }))
    }

    /// The tables' plans (all rows of a role in one descent, findings put
    /// back in row order) report exactly what checking each row on its
    /// own, row after row, reports: on every corpus message, under each
    /// messageEventType, with the message's event and with none.
    #[test]
    fn the_plan_reports_what_rows_checked_one_at_a_time_report() {
        let tables: Vec<(&'static Table, Vec<&'static Table>)> = super::super::all_tables()
            .map(|t| (t, (0..t.rows.len()).map(|ix| one_row(t, ix)).collect()))
            .collect();
        let mut compared = 0;
        let mut found = 0;
        for xml in ems_testdata::nems_xml() {
            let parsed = ems_stu3::from_xml(&xml).unwrap().resource;
            let Some(bundle) = parsed.get::<ems_stu3::Bundle>() else {
                continue;
            };
            let code = bundle.entry.iter().find_map(|e| {
                let mh = e.resource.as_ref()?.get::<ems_stu3::MessageHeader>()?;
                mh.event.as_ref()?.code.as_ref()?.value.as_deref()
            });
            let event = code.and_then(ems_match::event_type);
            for met in [None, Some("new"), Some("update"), Some("delete")] {
                for ev in [event, None] {
                    let view = BundleView::new(bundle, met, ev);
                    for (t, rows) in &tables {
                        let mut all = Report::new(crate::Mode::Publish);
                        evaluate(&[t], &view, &mut all);
                        let mut each = Report::new(crate::Mode::Publish);
                        for r in rows {
                            evaluate(&[r], &view, &mut each);
                        }
                        let (all, each) = (all.finish().issues, each.finish().issues);
                        assert_eq!(all, each, "table {} met {met:?}", t.event);
                        found += all.len();
                        compared += 1;
                    }
                }
            }
        }
        // the corpus's known defects give findings to compare
        assert!(compared > 1000 && found > 100, "{compared} {found}");
    }

    /// A hint beyond a type's last slot (`userSelected` is slot 6 of a
    /// Coding; an Extension has four slots, a Parameters resource has no
    /// `extension`) finds the element, or none, without going out of
    /// bounds.
    #[test]
    fn hints_beyond_a_types_slots_are_safe() {
        let ext = ems_stu3::Extension {
            url: Some("u".into()),
            ..Default::default()
        };
        for name in ["userSelected", "display", "code", "url", "value", "nothing"] {
            assert_eq!(str_of(&ext, name), (name == "url").then_some("u"));
            assert!(!has(&ext, name) || name == "url");
        }
        let p = Resource::new_of_type("Parameters").unwrap();
        assert!(extension_slot(p.as_node()).is_none());
        let mut seen = 0;
        each_ext(Val::Res(&p), "u", &mut |_| seen += 1);
        assert_eq!(seen, 0);
    }
}
