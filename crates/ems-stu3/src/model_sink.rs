//! [`ModelSink`]: an [`ElementSink`] that assembles the typed model.
//!
//! The sink records the calls on a tape (names are `&'static str`, values
//! are kept as the model's [`Str`], new resources are created at once) and
//! assembles the model from the tape at [`ModelSink::finish`], recursively,
//! as the readers do from XML: each level holds `&mut` to the node it fills
//! and hands its children `&mut` to theirs, so no call walks the model from
//! its root and no unsafe code is needed.

use crate::issue::{Issue, IssueType, Outcome, Severity};
use crate::node::{find_field, ChoiceMut, FieldKind, FieldMut, Node, TypeDesc};
use crate::primitive::{PrimKind, PrimNode};
use crate::read::{rules, Parsed, ReadError};
use crate::sink::ElementSink;
use crate::{Resource, Str};

/// Assembles the typed [`Resource`] from [`ElementSink`] calls through the
/// reflection layer ([`Node`]) the readers use: elements are found by name
/// in the type's table, values given at run time are set from their
/// lexical form by the same checks (literals, `value_static`, are the
/// describer's own text and are trusted: kept without the lexical check),
/// and an unknown element, a schema-order slip or a repeated
/// single-valued element is reported with the reader's rule id
/// (`SCHEMA-UNKNOWN`, `SCHEMA-ORDER`, `SCHEMA-REPEATED`, `PRIMITIVE-FORMAT`,
/// `RESOURCE-TYPE`). The calls are recorded and the model is assembled
/// from them by [`ModelSink::finish`], which reports the issues. A
/// structural slip stops assembling: `finish` then fails, because the model
/// would no longer be what was described.
///
/// ```
/// use ems_stu3::{ElementSink, ModelSink, Resource, xml::XmlStream};
/// fn describe(s: &mut impl ElementSink) {
///     s.value("id", "p1");
///     s.start("name");
///     s.value_static("use", "official");
///     s.value("family", "O'Brien");
///     s.end("name");
///     s.value("birthDate", "2019-10-01");
/// }
/// let mut m = ModelSink::new("Patient").unwrap();
/// describe(&mut m);
/// let model = m.finish().unwrap().resource;
/// let mut x = XmlStream::with_capacity(256);
/// x.root("Patient");
/// describe(&mut x);
/// x.end("Patient");
/// assert_eq!(ems_stu3::to_xml(&model), x.as_str());
///
/// // a slip is reported as the reader reports it
/// let mut m = ModelSink::new("Patient").unwrap();
/// m.value("birthDate", "2019-10-01");
/// m.value("gender", "female");
/// let e = m.finish().unwrap_err();
/// assert_eq!(e.issue().unwrap().rule, "SCHEMA-ORDER");
/// ```
#[derive(Debug)]
pub struct ModelSink {
    /// The root resource.
    root: Resource,
    /// The schema position after the elements the root held when given.
    at: Position,
    /// The calls so far (`tape`, in order) and the slot cache.
    scratch: Scratch,
}

/// What a sink reuses from the thread's previous sink: the emptied tape
/// and the slot cache (no allocation per message once they have grown).
#[derive(Debug, Default)]
struct Scratch {
    tape: Vec<Op>,
    slots: SlotCache,
}

thread_local! {
    /// The scratch of the thread's last finished sink, reused.
    static SCRATCH: std::cell::Cell<Scratch> = const {
        std::cell::Cell::new(Scratch { tape: Vec::new(), slots: SlotCache(Vec::new()) })
    };
}

/// log2 of the entries of the slot cache (the messages use a few hundred
/// pairs: call sites of one name share its address only within a crate).
const SLOT_BITS: u32 = 11;
const SLOTS: usize = 1 << SLOT_BITS;

/// The answers of [`find_field`] for (type, element name) pairs seen
/// before, direct-mapped on the addresses of the type's table and of the
/// name. Both are `&'static`: the same addresses and length mean the same
/// table and the same text, so a hit is the answer `find_field` would give
/// (it does not depend on the hint: a name matches one element of a table).
#[derive(Debug, Default)]
struct SlotCache(Vec<SlotEntry>);

#[derive(Clone, Copy, Debug, Default)]
struct SlotEntry {
    /// Address of the `TypeDesc` (0: empty entry).
    desc: usize,
    /// Address and length of the name.
    name: usize,
    len: u32,
    /// The element's index and the alternative's index + 1 (0: none).
    field: u16,
    alt: u16,
}

impl SlotCache {
    /// [`find_field`] of `name` in `desc`, answered from the cache when the
    /// pair was seen before (unknown names are not cached). The hit is
    /// inlined at the call; the miss is a call of its own.
    #[inline]
    fn find(
        &mut self,
        desc: &'static TypeDesc,
        name: &'static str,
        hint: usize,
    ) -> Option<(usize, Option<usize>)> {
        let d = desc as *const TypeDesc as usize;
        let p = name.as_ptr() as usize;
        // Fibonacci hashing of both addresses (the high bits of the product)
        let k = (d.rotate_left(29) ^ p) as u64;
        let h = (k.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - SLOT_BITS)) as usize;
        match self.0.get(h) {
            Some(e) if e.desc == d && e.name == p && e.len as usize == name.len() => {
                Some((e.field as usize, e.alt.checked_sub(1).map(usize::from)))
            }
            _ => self.miss(h, desc, name, hint),
        }
    }

    /// [`SlotCache::find`] of a pair not in the cache: scans the table and
    /// keeps the answer in entry `h`.
    #[cold]
    #[inline(never)]
    fn miss(
        &mut self,
        h: usize,
        desc: &'static TypeDesc,
        name: &'static str,
        hint: usize,
    ) -> Option<(usize, Option<usize>)> {
        if self.0.is_empty() {
            self.0 = vec![SlotEntry::default(); SLOTS];
        }
        let (field, alt) = find_field(desc, name, hint)?;
        // the tables are far smaller than the index types (a name longer
        // than u32::MAX is not cached)
        if let (Some(e), Ok(len), Ok(f), Ok(a)) = (
            self.0.get_mut(h),
            u32::try_from(name.len()),
            u16::try_from(field),
            u16::try_from(alt.map_or(0, |a| a + 1)),
        ) {
            *e = SlotEntry {
                desc: desc as *const TypeDesc as usize,
                name: name.as_ptr() as usize,
                len,
                field: f,
                alt: a,
            };
        }
        Some((field, alt))
    }
}

/// Deepest resource nesting inside the root.
const MAX_NESTED: usize = 8;
/// Most elements open at once (over all open resources).
const MAX_STEPS: usize = 48;
/// Entries of a location path: the root, the open resources and elements.
const MAX_PATH: usize = 1 + MAX_NESTED + MAX_STEPS;

/// Index + 1 of the last element written at one level (0: none yet).
#[derive(Clone, Copy, Debug, Default)]
struct Position(usize);

/// One recorded call.
#[derive(Debug)]
enum Op {
    /// `start`.
    Start(&'static str),
    /// `start_extension`: name, url.
    Extension(&'static str, &'static str),
    /// `value` (`false`) / `start_value` (`true`).
    Value(&'static str, Str, bool),
    /// `value_static`.
    Static(&'static str, &'static str),
    /// `empty`.
    Empty(&'static str),
    /// `end`.
    End(&'static str),
    /// `start_resource` of a resource type: the new resource.
    Resource(Resource),
    /// `start_resource` of a name that is not a resource type.
    NotAResource(&'static str),
    /// `end_resource`.
    EndResource(&'static str),
}

/// The schema position after the last element `n` holds.
fn last_present(n: &dyn Node) -> Position {
    Position(
        crate::node::present_fields(n)
            .last()
            .map_or(0, |(i, _)| i + 1),
    )
}

impl ModelSink {
    /// A sink whose root resource `rtype` is open (`None`: not a resource
    /// type).
    pub fn new(rtype: &str) -> Option<ModelSink> {
        Resource::new_of_type(rtype).map(ModelSink::with_root)
    }

    /// A sink that writes into `root` (elements it already holds count as
    /// written: the description continues after them). Lets a producer
    /// size the root's lists up front.
    pub fn with_root(root: Resource) -> ModelSink {
        ModelSink {
            at: last_present(root.as_node()),
            root,
            // the thread's scratch of the previous sink: no allocation per
            // sink once it has grown to the size of the messages
            scratch: SCRATCH.take(),
        }
    }

    /// Assembles the model from the calls: the root resource and the
    /// non-structural issues (malformed values, kept as given, as the
    /// reader keeps them); `Err` after a structural slip or when elements
    /// are left open.
    pub fn finish(self) -> Result<Parsed, ReadError> {
        let ModelSink {
            mut root,
            at,
            scratch: Scratch {
                mut tape,
                mut slots,
            },
        } = self;
        let mut r = Replay {
            ops: tape.drain(..),
            slots: &mut slots,
            path: [""; MAX_PATH],
            len: 1,
            elements: 0,
            nested: 0,
            outcome: Outcome::new(),
        };
        r.path[0] = root.resource_type();
        let done = r.root(root.as_node_mut(), at);
        let outcome = std::mem::take(&mut r.outcome);
        drop(r);
        // keep the emptied tape for the thread's next sink (the larger one)
        let kept = SCRATCH.take();
        SCRATCH.set(if kept.tape.capacity() > tape.capacity() {
            kept
        } else {
            Scratch { tape, slots }
        });
        match done {
            Ok(()) => Ok(Parsed {
                resource: root,
                outcome,
            }),
            Err(Slipped) => Err(ReadError { outcome }),
        }
    }
}

impl ElementSink for ModelSink {
    fn start(&mut self, name: &'static str) {
        self.scratch.tape.push(Op::Start(name))
    }
    fn start_extension(&mut self, name: &'static str, url: &'static str) {
        self.scratch.tape.push(Op::Extension(name, url))
    }
    fn end(&mut self, name: &'static str) {
        self.scratch.tape.push(Op::End(name))
    }
    fn value(&mut self, name: &'static str, v: &str) {
        self.scratch.tape.push(Op::Value(name, Str::from(v), false))
    }
    fn value_static(&mut self, name: &'static str, v: &'static str) {
        self.scratch.tape.push(Op::Static(name, v))
    }
    fn value_i64(&mut self, name: &'static str, n: i64) {
        let v = compact_str::ToCompactString::to_compact_string(&n);
        self.scratch.tape.push(Op::Value(name, v, false))
    }
    fn start_value(&mut self, name: &'static str, v: &str) {
        self.scratch.tape.push(Op::Value(name, Str::from(v), true))
    }
    fn empty(&mut self, name: &'static str) {
        self.scratch.tape.push(Op::Empty(name))
    }
    fn start_resource(&mut self, rtype: &'static str) {
        self.scratch.tape.push(match Resource::new_of_type(rtype) {
            Some(r) => Op::Resource(r),
            None => Op::NotAResource(rtype),
        })
    }
    fn end_resource(&mut self, rtype: &'static str) {
        self.scratch.tape.push(Op::EndResource(rtype))
    }
}

/// A structural slip was reported: assembling stops.
struct Slipped;

/// How the calls of one level ended.
enum Flow {
    /// `end(name)`.
    End(&'static str),
    /// `end_resource(rtype)`.
    EndResource(&'static str),
    /// No more calls.
    Eof,
}

/// Assembles the model from the tape, one level per call of
/// [`Replay::node`] (the readers' shape).
struct Replay<'t> {
    ops: std::vec::Drain<'t, Op>,
    slots: &'t mut SlotCache,
    /// The root's type, the open resources' types and the open elements'
    /// names, outermost first (the location of an issue).
    path: [&'static str; MAX_PATH],
    len: usize,
    /// Open elements and resources inside the root.
    elements: usize,
    nested: usize,
    outcome: Outcome,
}

/// What a call asks [`place`] to create.
enum Make {
    Complex,
    Extension(&'static str),
    Value(Str, bool),
    Static(&'static str),
}

/// What [`place`] created and the replay fills next.
enum Target<'a> {
    /// Nothing to fill (a plain value).
    None,
    /// A complex element (its name for the end check).
    Node(&'a mut dyn Node, &'static str),
    /// A primitive opened for its extensions.
    Prim(&'a mut dyn PrimNode, &'static str),
    /// Resource slot `field` of the node: the next calls open resources.
    Slot(usize, &'static str),
}

/// What [`place`] did: what to fill next and a malformed value's message.
struct Placed<'a> {
    target: Target<'a>,
    value_error: Option<String>,
}

type Slip = (&'static str, String);

impl Replay<'_> {
    /// `Type.element.element` of the open elements (and `name`).
    fn location(&self, name: Option<&str>) -> String {
        let mut s = String::from(self.path[0]);
        for p in self.path[1..self.len].iter().chain(name.as_ref()) {
            s.push('.');
            s.push_str(p);
        }
        s
    }

    fn slip(&mut self, rule: &'static str, name: Option<&str>, message: String) -> Slipped {
        let location = self.location(name);
        self.outcome.push(Issue::new(
            Severity::Error,
            IssueType::Structure,
            rule,
            location,
            message,
        ));
        Slipped
    }

    /// Enters element `name` (for locations and the depth limit).
    #[inline]
    fn open(&mut self, name: &'static str) -> Result<(), Slipped> {
        if self.elements == MAX_STEPS {
            return Err(self.slip(
                rules::INPUT_DEPTH,
                Some(name),
                format!("more than {MAX_STEPS} elements open"),
            ));
        }
        self.elements += 1;
        self.path[self.len] = name;
        self.len += 1;
        Ok(())
    }

    /// Leaves element `elem`, which `flow` must close.
    #[inline]
    fn close(&mut self, elem: &'static str, flow: Flow) -> Result<(), Slipped> {
        match flow {
            Flow::End(name) if same(name, elem) => {
                self.len -= 1;
                self.elements -= 1;
                Ok(())
            }
            Flow::End(name) => Err(self.slip(
                rules::SCHEMA_CONTENT,
                Some(name),
                format!("`{name}` closed while `{elem}` is open"),
            )),
            Flow::EndResource(rtype) => Err(self.not_open(rtype)),
            Flow::Eof => Err(self.left_open()),
        }
    }

    fn not_open(&mut self, rtype: &str) -> Slipped {
        self.slip(
            rules::SCHEMA_CONTENT,
            Some(rtype),
            format!("`{rtype}` closed while it is not the open resource"),
        )
    }

    fn left_open(&mut self) -> Slipped {
        self.slip(
            rules::SCHEMA_CONTENT,
            None,
            "the description left elements open".into(),
        )
    }

    fn nothing_open(&mut self, name: &str) -> Slipped {
        self.slip(
            rules::SCHEMA_CONTENT,
            Some(name),
            format!("`{name}` closed, but no element is open"),
        )
    }

    /// A resource started where no resource slot is open.
    fn stray(&mut self, op: Op) -> Slipped {
        match op {
            Op::NotAResource(rtype) => self.slip(
                rules::RESOURCE_TYPE,
                Some(rtype),
                format!("`{rtype}` is not a resource type"),
            ),
            op => {
                let rtype = op_name(&op);
                self.slip(
                    rules::SCHEMA_CONTENT,
                    Some(rtype),
                    format!("a {rtype} outside a resource slot (`resource`, `contained`)"),
                )
            }
        }
    }

    /// The root resource: its calls up to the end of the tape.
    fn root(&mut self, n: &mut dyn Node, at: Position) -> Result<(), Slipped> {
        match self.node(n, at)? {
            Flow::Eof => Ok(()),
            Flow::End(name) => Err(self.nothing_open(name)),
            Flow::EndResource(rtype) => Err(self.not_open(rtype)),
        }
    }

    /// Fills node `n` (schema position `at`) until the call that ends it.
    fn node(&mut self, n: &mut dyn Node, mut at: Position) -> Result<Flow, Slipped> {
        loop {
            let Some(op) = self.ops.next() else {
                return Ok(Flow::Eof);
            };
            let (name, make, empty) = match op {
                Op::End(name) => return Ok(Flow::End(name)),
                Op::EndResource(rtype) => return Ok(Flow::EndResource(rtype)),
                Op::Resource(_) | Op::NotAResource(_) => return Err(self.stray(op)),
                Op::Start(name) => (name, Make::Complex, false),
                Op::Empty(name) => (name, Make::Complex, true),
                Op::Extension(name, url) => (name, Make::Extension(url), false),
                Op::Value(name, v, open) => (name, Make::Value(v, open), false),
                Op::Static(name, v) => (name, Make::Static(v), false),
            };
            let placed = match place(n, &mut at, name, make, self.slots) {
                Ok(p) => p,
                Err((rule, msg)) => return Err(self.slip(rule, Some(name), msg)),
            };
            if let Some(msg) = placed.value_error {
                let location = self.location(Some(name));
                self.outcome.push(Issue::new(
                    Severity::Error,
                    IssueType::Value,
                    rules::PRIMITIVE_FORMAT,
                    location,
                    msg,
                ));
            }
            match placed.target {
                Target::None => {}
                Target::Node(_, elem) | Target::Slot(_, elem) if empty => {
                    self.open(elem)?;
                    self.close(elem, Flow::End(elem))?;
                }
                Target::Node(child, elem) => {
                    self.open(elem)?;
                    let flow = self.node(child, Position::default())?;
                    self.close(elem, flow)?;
                }
                Target::Prim(p, elem) => {
                    self.open(elem)?;
                    let flow = self.prim(p)?;
                    self.close(elem, flow)?;
                }
                Target::Slot(field, elem) => {
                    self.open(elem)?;
                    let flow = self.slot(n, field)?;
                    self.close(elem, flow)?;
                }
            }
        }
    }

    /// Fills primitive `p` opened for its extensions.
    fn prim(&mut self, p: &mut dyn PrimNode) -> Result<Flow, Slipped> {
        loop {
            let Some(op) = self.ops.next() else {
                return Ok(Flow::Eof);
            };
            match op {
                Op::End(name) => return Ok(Flow::End(name)),
                Op::EndResource(rtype) => return Ok(Flow::EndResource(rtype)),
                Op::Resource(_) | Op::NotAResource(_) => return Err(self.stray(op)),
                Op::Extension("extension", url) => {
                    p.extension_mut().push(crate::Extension {
                        url: Some(Str::const_new(url)),
                        ..Default::default()
                    });
                    let Some(ext) = p.extension_mut().last_mut() else {
                        return Err(self.left_open());
                    };
                    self.open("extension")?;
                    let flow = self.node(ext, Position::default())?;
                    self.close("extension", flow)?;
                }
                op => {
                    let name = op_name(&op);
                    return Err(self.slip(
                        rules::SCHEMA_UNKNOWN,
                        Some(name),
                        format!("`{name}` is not allowed in a primitive (only `extension`)"),
                    ));
                }
            }
        }
    }

    /// Fills resource slot `field` of `owner` with the resources started in
    /// it, until the call that ends the slot's element.
    fn slot(&mut self, owner: &mut dyn Node, field: usize) -> Result<Flow, Slipped> {
        loop {
            let Some(op) = self.ops.next() else {
                return Ok(Flow::Eof);
            };
            let mut resource = match op {
                Op::End(name) => return Ok(Flow::End(name)),
                Op::EndResource(rtype) => return Err(self.not_open(rtype)),
                Op::NotAResource(_) => return Err(self.stray(op)),
                Op::Resource(r) => r,
                op => {
                    let name = op_name(&op);
                    return Err(self.slip(
                        rules::SCHEMA_CONTENT,
                        Some(name),
                        format!("`{name}` where a resource must start"),
                    ));
                }
            };
            let rtype = resource.resource_type();
            if self.nested == MAX_NESTED {
                return Err(self.slip(
                    rules::INPUT_DEPTH,
                    Some(rtype),
                    format!("resources nested more than {MAX_NESTED} deep"),
                ));
            }
            self.nested += 1;
            self.path[self.len] = rtype;
            self.len += 1;
            match self.node(resource.as_node_mut(), Position::default())? {
                Flow::EndResource(r) if same(r, rtype) => {}
                Flow::EndResource(r) => return Err(self.not_open(r)),
                Flow::End(name) => return Err(self.nothing_open(name)),
                Flow::Eof => return Err(self.left_open()),
            }
            self.nested -= 1;
            self.len -= 1;
            match owner.field_mut(field) {
                FieldMut::Resource(r) if r.is_none() => *r = Some(resource),
                FieldMut::Resources(v) => v.push(resource),
                _ => {
                    return Err(self.slip(
                        rules::SCHEMA_REPEATED,
                        Some(rtype),
                        "a second resource in one `resource` slot".into(),
                    ))
                }
            }
        }
    }
}

/// Equal names, by address first (literals usually share it).
#[inline]
fn same(a: &str, b: &str) -> bool {
    (a.as_ptr() == b.as_ptr() && a.len() == b.len()) || a == b
}

/// The element name (or resource type) a recorded call names.
fn op_name(op: &Op) -> &'static str {
    match op {
        Op::Start(n)
        | Op::Extension(n, _)
        | Op::Value(n, _, _)
        | Op::Static(n, _)
        | Op::Empty(n)
        | Op::End(n)
        | Op::NotAResource(n)
        | Op::EndResource(n) => n,
        Op::Resource(r) => r.resource_type(),
    }
}

/// Element `name` in node `n` at schema position `at`: checks the position
/// as the reader does and creates the element.
fn place<'a>(
    n: &'a mut dyn Node,
    at: &mut Position,
    name: &'static str,
    make: Make,
    slots: &mut SlotCache,
) -> Result<Placed<'a>, Slip> {
    let desc: &'static TypeDesc = n.desc();
    let Some((i, alt)) = slots.find(desc, name, at.0.saturating_sub(1)) else {
        return Err((
            rules::SCHEMA_UNKNOWN,
            format!("`{name}` is not an element of {}", desc.name),
        ));
    };
    let f = &desc.fields[i];
    if at.0 == i + 1 && !f.many {
        return Err((
            rules::SCHEMA_REPEATED,
            format!("`{name}` may appear only once in {}", desc.name),
        ));
    }
    if at.0 > i + 1 {
        let after = desc.fields[at.0 - 1].name;
        return Err((
            rules::SCHEMA_ORDER,
            format!(
                "`{name}` is out of schema order: it must come before `{after}` in {}",
                desc.name
            ),
        ));
    }
    at.0 = i + 1;
    // a choice element is opened and closed by its alternative's name
    let elem: &'static str = match (&f.kind, alt) {
        (FieldKind::Choice(alts), Some(a)) => alts[a].name,
        _ => f.name,
    };
    let not = |what: &str| {
        Err((
            rules::SCHEMA_CONTENT,
            format!("`{name}` is not {what} in {}", desc.name),
        ))
    };
    match make {
        Make::Complex | Make::Extension(_) => {
            let node: &mut dyn Node = match n.field_mut(i) {
                FieldMut::One(o) => o.get_or_insert(),
                FieldMut::Many(v) => v.push_default(),
                FieldMut::Choice(c) => match alt.and_then(|a| c.set_variant(a)) {
                    Some(ChoiceMut::Node(n)) => n,
                    _ => return not("a complex element"),
                },
                FieldMut::Resource(_) | FieldMut::Resources(_) if matches!(make, Make::Complex) => {
                    return Ok(Placed {
                        target: Target::Slot(i, elem),
                        value_error: None,
                    })
                }
                _ => return not("a complex element"),
            };
            if let Make::Extension(url) = make {
                match slots
                    .find(node.desc(), "url", 0)
                    .map(|(u, _)| node.field_mut(u))
                {
                    Some(FieldMut::Attr(slot)) => *slot = Some(Str::const_new(url)),
                    _ => return not("an extension"),
                }
            }
            Ok(Placed {
                target: Target::Node(node, elem),
                value_error: None,
            })
        }
        Make::Value(..) | Make::Static(_) => {
            let open = matches!(make, Make::Value(_, true));
            let set = |p: &mut dyn PrimNode, k: PrimKind, make: Make| {
                let (shown, exp) = match make {
                    // a literal is the describer's own text: trusted
                    Make::Static(s) => {
                        let exp = p.set_literal(k, s).err()?;
                        (Str::const_new(s), exp)
                    }
                    Make::Value(v, _) => p.set_owned(k, v).err()?,
                    _ => return None,
                };
                let shown: String = shown.chars().take(80).collect();
                Some(format!(
                    "`{shown}` is not a valid {}: expected {exp}",
                    k.fhir_name()
                ))
            };
            let (value_error, prim): (_, &mut dyn PrimNode) = match (n.field_mut(i), &f.kind) {
                (FieldMut::Prim(p), FieldKind::Prim(k)) => {
                    let p = p.get_or_insert();
                    (set(&mut *p, *k, make), p)
                }
                (FieldMut::PrimList(l), FieldKind::Prim(k)) => {
                    let p = l.push_default();
                    (set(&mut *p, *k, make), p)
                }
                (FieldMut::Choice(c), FieldKind::Choice(alts)) => {
                    let k = alt.and_then(|a| alts[a].prim);
                    match (alt.and_then(|a| c.set_variant(a)), k) {
                        (Some(ChoiceMut::Prim(p)), Some(k)) => (set(&mut *p, k, make), p),
                        _ => return not("a primitive"),
                    }
                }
                (FieldMut::Attr(slot), _) if !open => {
                    *slot = Some(match make {
                        Make::Static(s) => Str::const_new(s),
                        Make::Value(v, _) => v,
                        _ => Str::default(),
                    });
                    return Ok(Placed {
                        target: Target::None,
                        value_error: None,
                    });
                }
                _ => return not("a primitive"),
            };
            Ok(Placed {
                target: if open {
                    Target::Prim(prim, elem)
                } else {
                    Target::None
                },
                value_error,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::XmlStream;

    fn rule(f: impl FnOnce(&mut ModelSink)) -> Option<&'static str> {
        let mut m = ModelSink::new("Bundle").unwrap();
        f(&mut m);
        m.finish().err().and_then(|e| e.issue().map(|i| i.rule))
    }

    /// A cached answer is `find_field`'s, for every element and choice
    /// alternative of a few tables, asked twice (miss, then hit), and for
    /// the same text at another address; unknown names stay unknown.
    #[test]
    fn the_slot_cache_answers_as_find_field() {
        let mut c = SlotCache::default();
        let descs = [
            Resource::new_of_type("Patient").unwrap().as_node().desc(),
            Resource::new_of_type("Bundle").unwrap().as_node().desc(),
            crate::Extension::default().desc(),
        ];
        for desc in descs {
            let mut names: Vec<&'static str> = Vec::new();
            for f in desc.fields {
                match &f.kind {
                    FieldKind::Choice(alts) => names.extend(alts.iter().map(|a| a.name)),
                    _ => names.push(f.name),
                }
            }
            for name in names {
                let want = find_field(desc, name, 0);
                assert!(want.is_some(), "{name}");
                let copy: &'static str = Box::leak(name.to_string().into_boxed_str());
                for n in [name, name, copy, copy] {
                    assert_eq!(c.find(desc, n, 0), want, "{} {n}", desc.name);
                }
            }
            assert_eq!(c.find(desc, "nope", 0), None);
            assert_eq!(c.find(desc, "nope", 0), None);
        }
    }

    #[test]
    fn slips_are_reported_with_the_readers_rules() {
        assert_eq!(rule(|m| m.value("nope", "x")), Some(rules::SCHEMA_UNKNOWN));
        assert_eq!(
            rule(|m| {
                m.value("type", "message");
                m.value("id", "b");
            }),
            Some(rules::SCHEMA_ORDER)
        );
        assert_eq!(
            rule(|m| {
                m.value("id", "a");
                m.value("id", "b");
            }),
            Some(rules::SCHEMA_REPEATED)
        );
        assert_eq!(rule(|m| m.start("entry")), Some(rules::SCHEMA_CONTENT));
        assert_eq!(
            rule(|m| {
                m.start("entry");
                m.end("fullUrl");
            }),
            Some(rules::SCHEMA_CONTENT)
        );
        assert_eq!(
            rule(|m| {
                m.start("entry");
                m.start("resource");
                m.start_resource("NotAResource");
            }),
            Some(rules::RESOURCE_TYPE)
        );
        assert_eq!(
            rule(|m| m.start_resource("Patient")),
            Some(rules::SCHEMA_CONTENT)
        );
        assert_eq!(rule(|m| m.start("id")), Some(rules::SCHEMA_CONTENT));
        assert_eq!(rule(|m| m.value("entry", "x")), Some(rules::SCHEMA_CONTENT));
        assert_eq!(
            rule(|m| {
                m.start("entry");
                m.start("resource");
                m.start_resource("Patient");
                m.end_resource("Patient");
                m.start_resource("Patient");
                m.end_resource("Patient");
            }),
            Some(rules::SCHEMA_REPEATED)
        );
        // a slip stops assembling: what follows is not reported again
        let mut m = ModelSink::new("Bundle").unwrap();
        m.value("type", "message");
        m.value("id", "b");
        m.value("nope", "x");
        assert_eq!(m.finish().unwrap_err().outcome.issues.len(), 1);
    }

    #[test]
    fn malformed_values_are_kept_and_reported_as_the_reader_does() {
        let mut m = ModelSink::new("Patient").unwrap();
        m.value("birthDate", "2019-13-45");
        let p = m.finish().unwrap();
        assert_eq!(p.outcome.issues[0].rule, rules::PRIMITIVE_FORMAT);
        let read = crate::from_xml(
            br#"<Patient xmlns="http://hl7.org/fhir"><birthDate value="2019-13-45"/></Patient>"#,
        )
        .unwrap();
        assert_eq!(read.resource, p.resource);
        assert_eq!(read.outcome.issues[0].rule, rules::PRIMITIVE_FORMAT);
    }

    /// Nested resources, choice alternatives, primitives with extensions and
    /// empty elements assemble the model the reader makes of the same XML.
    #[test]
    fn nested_resources_and_extensions_match_the_reader() {
        fn describe(s: &mut impl ElementSink) {
            s.value("id", "b1");
            s.value_static("type", "collection");
            s.start("entry");
            s.value("fullUrl", "urn:uuid:1");
            s.start("resource");
            s.start_resource("Patient");
            s.start_extension("extension", "http://example.org/x");
            s.start("valueCodeableConcept");
            s.value("text", "t");
            s.end("valueCodeableConcept");
            s.end("extension");
            s.start_value("birthDate", "2020-01-01");
            s.start_extension("extension", "http://example.org/time");
            s.value("valueDateTime", "2020-01-01T10:00:00+00:00");
            s.end("extension");
            s.end("birthDate");
            s.value_i64("multipleBirthInteger", 2);
            s.start("contact");
            s.empty("period");
            s.end("contact");
            s.end_resource("Patient");
            s.end("resource");
            s.end("entry");
        }
        let mut m = ModelSink::new("Bundle").unwrap();
        describe(&mut m);
        let model = m.finish().unwrap();
        assert!(model.outcome.issues.is_empty(), "{:?}", model.outcome);
        let mut x = XmlStream::with_capacity(512);
        x.root("Bundle");
        describe(&mut x);
        x.end("Bundle");
        let read = crate::from_xml(x.as_str().as_bytes()).unwrap();
        assert_eq!(read.resource, model.resource);
        assert_eq!(crate::to_xml(&model.resource), x.as_str());
    }
}
