//! [`ModelSink`]: an [`ElementSink`] that assembles the typed model.
//!
//! The sink places each element as it is called: it keeps a stack of the
//! open nodes (the root resource, then each open element, primitive,
//! resource slot and nested resource, innermost on top) and places the
//! next element into the top one through the generated per-type placement
//! code ([`crate::place`]), after the reader's checks (known name, schema
//! order, single values) made on the slot's element index: an element
//! constant of the top node's own type ([`crate::element`]) carries its
//! slot (the typed fast path: the owner's placement called directly on
//! that slot), any other element's slot is found by name. The reflection layer
//! ([`crate::node`]) is used only to word a slip as the reader does and
//! for resource slots. There is no tape and no replay: the model is
//! complete when the last call returns.
//!
//! The stack holds raw pointers (see [`Open`] for the argument why they
//! stay valid); everything else is safe code over the generated types.

use crate::element::{Complex, Named, Prim, Res};
use crate::issue::{Issue, IssueType, Outcome, Severity};
use crate::node::{FieldMut, Node};
use crate::place::{self, Miss, Place};
use crate::primitive::PrimNode;
use crate::read::{rules, Parsed, ReadError};
use crate::sink::ElementSink;
use crate::{Extension, Resource, Str};
use std::ptr::NonNull;

/// Assembles the typed [`Resource`] from [`ElementSink`] calls: an element
/// constant of the open node's own type is written straight into its
/// field (the order check and the field write; see [`crate::element`]),
/// any other element is found by name in the generated placement code of
/// the open node's type; values given at run time are set
/// from their lexical form by the reader's checks (literals,
/// `value_static`, and the describer's own formatted text,
/// `value_formatted`, are trusted: kept without the lexical check), and an
/// unknown element, a schema-order slip or a repeated single-valued
/// element is reported with the reader's rule id (`SCHEMA-UNKNOWN`,
/// `SCHEMA-ORDER`, `SCHEMA-REPEATED`, `PRIMITIVE-FORMAT`, `RESOURCE-TYPE`)
/// and wording. Each call places its element at once;
/// [`ModelSink::finish`] hands over the model and reports the issues. A
/// structural slip stops assembling (later calls are ignored): `finish`
/// then fails, because the model would no longer be what was described.
/// A half-built sink is `Send`: it can be finished on another thread.
///
/// ```
/// use ems_stu3::{ElementSink, HumanName, ModelSink, Patient, Prim, xml::XmlStream};
/// fn describe(s: &mut impl ElementSink) {
///     s.value(Patient::ID, "p1");
///     s.start(Patient::NAME);
///     s.value_static(HumanName::USE, "official");
///     s.value(HumanName::FAMILY, "O'Brien");
///     s.end(Patient::NAME);
///     s.value(Patient::BIRTH_DATE, "2019-10-01");
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
/// m.value(Patient::BIRTH_DATE, "2019-10-01");
/// m.value(Patient::GENDER, "female");
/// let e = m.finish().unwrap_err();
/// assert_eq!(e.issue().unwrap().rule, "SCHEMA-ORDER");
///
/// // an element given by name is placed by name
/// let mut m = ModelSink::new("Patient").unwrap();
/// m.value(Prim::named("gender"), "female");
/// let p = m.finish().unwrap().resource;
/// assert_eq!(p.get::<Patient>().unwrap().gender.as_ref().unwrap().value.as_deref(), Some("female"));
/// ```
#[derive(Debug)]
pub struct ModelSink {
    /// The root resource, owned: a `Box<Option<Resource>>` turned into a
    /// raw pointer (so that moving the sink moves no `Box` the open
    /// nodes' pointers were derived from), given back as a `Box` on drop.
    /// `None` once [`ModelSink::finish`] has taken the resource.
    root: NonNull<Option<Resource>>,
    /// The open nodes, the root's frame first, the innermost (where the
    /// next element goes) last (see [`Open`]); emptied by a structural
    /// slip, so that the calls that follow find no node and are ignored.
    open: Vec<Open>,
    /// Open resources inside the root (the nesting limit; the other
    /// frames above the root's are open elements).
    nested: usize,
    outcome: Outcome,
}

// SAFETY: a `ModelSink` owns everything its pointers point into: `root`
// is its own box (leaked in `with_root`, given back in `Drop`) and every
// pointer of the stack (`open`) was derived from it and points into the
// tree of that one `Resource` (see `Open`); no other value — on this
// thread or another — holds a reference into that tree while the sink
// lives, and the pointers are dereferenced only in the sink's own `&mut
// self` methods. Sending the sink therefore moves the unique owner of a
// `Resource` (with its `Outcome` and `&'static str` names), which is
// sound exactly when those are `Send` — checked at compile time below.
// The thread-local scratch is not part of the sink: `with_root` takes it
// from the creating thread, `Drop` gives it (emptied of pointers) to the
// dropping thread's.
unsafe impl Send for ModelSink {}

/// The owned content of a [`ModelSink`] is `Send` (the premise of its
/// `Send` impl).
const _: () = {
    const fn send<T: Send>() {}
    send::<Resource>();
    send::<Outcome>();
};

/// What a sink reuses from the thread's previous sink: the stack and the
/// root's box (no allocation per message once they have grown).
#[derive(Debug, Default)]
struct Scratch {
    open: Vec<Open>,
    root: Option<Box<Option<Resource>>>,
}

thread_local! {
    /// The scratch of the thread's last dropped sink, reused.
    static SCRATCH: std::cell::Cell<Scratch> = const {
        std::cell::Cell::new(Scratch { open: Vec::new(), root: None })
    };
}

/// Deepest resource nesting inside the root.
const MAX_NESTED: usize = 8;
/// Most elements open at once (over all open resources).
const MAX_STEPS: usize = 48;
/// The most frames the stack holds (the root, the nested resources, the
/// open elements): its capacity from the first sink on, so that pushing
/// a frame never reallocates.
const MAX_FRAMES: usize = 1 + MAX_NESTED + MAX_STEPS;

/// What an [`Open::Node`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Level {
    /// The root resource (closed by [`ModelSink::finish`]).
    Root,
    /// A resource inside a resource slot (closed by `end_resource`).
    Resource,
    /// A complex element (closed by `end`).
    Element,
}

/// One open node of a [`ModelSink`] (40 bytes: the enum's tag lives in
/// the spare values of [`Level`]).
///
/// **Why the pointers stay valid (soundness).** The stack (the frames in
/// `ModelSink::open`, the top last) is a chain: the
/// root's pointer comes from the sink's own box, and every other node's
/// pointer was derived, when it was opened, from a `&mut` made from the
/// pointer of the frame below it (the generated [`Place::start`] /
/// [`Place::set`] / [`Place::put`] of the frame's node, which derive the
/// child's pointer from `&mut self` — `Option::insert`, `Vec::push` or
/// `Vec::resize_with` then `last_mut`, the new choice variant — `extension_mut` of a primitive,
/// or the resource slot), so each frame's node lies inside the node of
/// the frame below. The frames themselves are plain values in the `Vec`
/// (its buffer is the sink's, apart from the model: a schema position
/// borrowed from the top frame while the top node is borrowed aliases
/// nothing). Only the innermost node's pointer is ever turned into a
/// `&mut` (for the duration of one sink call, never kept) — the top
/// frame's, or, when the top is a resource slot (which has no pointer of
/// its own), the slot owner's just below it — and a frame is popped
/// before the one below it is used again: this is the discipline of
/// nested reborrows, so no two live `&mut` alias. A node cannot move or
/// be freed while its frame is on the stack: only the top node is
/// mutated, and what it mutates are its own slots — its children, none
/// of which is open (an open child would be above it), so growing a
/// child `Vec` moves no open node; the nodes below the top contain the
/// top and are not touched. Nested resources are placed into their slot
/// *before* their frame is pushed (the pointer is derived from the slot,
/// and a `Resource` boxes its content, so pushing it moves no node). A
/// structural slip empties the stack (the pointers are dropped, nothing
/// is dereferenced after it). The root's box is reached only through the
/// raw pointer until the stack is cleared, in [`ModelSink::finish`] or
/// on drop, after which it is a `Box` again. Every pointer is to a
/// `'static` generated type (the trait objects are `dyn Place + 'static`
/// / `dyn PrimNode + 'static` by coercion, no lifetime is widened); a
/// pointer never outlives its sink.
/// Tested by `deep_nesting_and_regrown_lists_keep_the_open_nodes` (lists
/// regrown next to open nodes, resources nested to the limit, the sink
/// moved with elements open, a sink dropped unfinished), the placement
/// test of every generated type and the sink contract tests; every test
/// of this module runs clean under Miri (the two large ones with smaller
/// sizes under `cfg(miri)`:
/// `cargo +nightly miri test -p ems-stu3 --lib model_sink`).
#[derive(Clone, Copy, Debug)]
enum Open {
    /// A resource or complex element: the node, the schema position after
    /// its last element (index + 1, 0: none yet), the node's own type tag
    /// ([`Place::tag`], read from the node when the frame is pushed), the
    /// element name (the resource type for resources).
    Node {
        node: NonNull<dyn Place>,
        at: u32,
        level: Level,
        tag: u16,
        name: &'static str,
    },
    /// A primitive opened for its extensions.
    Prim {
        prim: NonNull<dyn PrimNode>,
        name: &'static str,
    },
    /// Resource slot `field` of the node of the frame below (a resource
    /// wrapper: `resource`, `contained`): the call that follows starts its
    /// resource; `filled` once it has (a wrapper holds exactly one).
    Slot {
        field: u32,
        filled: bool,
        name: &'static str,
    },
}

/// A frame is 40 bytes (see [`Open`]).
const _: () = assert!(std::mem::size_of::<Open>() <= 40);

impl Open {
    /// The frame's element name (the resource type of a resource).
    fn name(&self) -> &'static str {
        match self {
            Open::Node { name, .. } | Open::Prim { name, .. } | Open::Slot { name, .. } => name,
        }
    }
}

/// The schema position after the last element `n` holds.
fn last_present(n: &dyn Node) -> u32 {
    crate::node::present_fields(n)
        .last()
        .map_or(0, |(i, _)| i as u32 + 1)
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
        // the thread's scratch of the previous sink: no allocation per
        // sink once it has grown to the size of the messages
        let Scratch {
            mut open,
            root: boxed,
        } = SCRATCH.try_with(std::cell::Cell::take).unwrap_or_default();
        let at = last_present(root.as_node());
        let name = root.resource_type();
        let mut boxed = boxed.unwrap_or_default();
        *boxed = Some(root);
        let root = NonNull::from(Box::leak(boxed));
        // SAFETY: `root` is the leaked box, valid and not otherwise
        // referred to; the `&mut` lives for this statement only.
        let (node, tag) = match unsafe { &mut *root.as_ptr() } {
            Some(r) => {
                let p = r.as_place_mut();
                let tag = p.tag();
                (NonNull::from(p), tag)
            }
            None => unreachable!("the root was just stored"),
        };
        open.clear();
        open.reserve(MAX_FRAMES);
        open.push(Open::Node {
            node,
            at,
            level: Level::Root,
            tag,
            name,
        });
        ModelSink {
            root,
            open,
            nested: 0,
            outcome: Outcome::new(),
        }
    }

    /// Hands over the model: the root resource and the non-structural
    /// issues (malformed values, kept as given, as the reader keeps them);
    /// `Err` after a structural slip or when elements are left open.
    pub fn finish(mut self) -> Result<Parsed, ReadError> {
        if self.open.len() > 1 {
            self.slip(
                rules::SCHEMA_CONTENT,
                None,
                "the description left elements open".into(),
            );
        }
        let slipped = self.slipped();
        self.open.clear();
        // SAFETY: the stack is empty, so no pointer derived from the root
        // is left; the root is the sink's own live box.
        let resource = unsafe { (*self.root.as_ptr()).take() };
        let outcome = std::mem::take(&mut self.outcome);
        match resource {
            Some(resource) if !slipped => Ok(Parsed { resource, outcome }),
            _ => Err(ReadError { outcome }),
        }
    }

    /// `Type.element.element` of the open nodes (and `name`).
    fn location(&self, name: Option<&str>) -> String {
        let mut s = String::new();
        let names = self.open.iter().map(|o| -> &str { o.name() });
        for (k, p) in names.chain(name).enumerate() {
            if k > 0 {
                s.push('.');
            }
            s.push_str(p);
        }
        s
    }

    /// Reports a structural slip at `name`: assembling stops (the stack is
    /// emptied, so the calls that follow find no open node).
    #[cold]
    #[inline(never)]
    fn slip(&mut self, rule: &'static str, name: Option<&str>, message: String) {
        let location = self.location(name);
        self.outcome.push(Issue::new(
            Severity::Error,
            IssueType::Structure,
            rule,
            location,
            message,
        ));
        self.open.clear();
        self.nested = 0;
    }

    /// Whether a structural slip was reported: only a slip empties the
    /// stack (the root's frame is popped by no `end`).
    #[inline]
    fn slipped(&self) -> bool {
        self.open.is_empty()
    }

    /// Reports malformed value `shown` of primitive element `name` (slot
    /// `s`), kept as the reader keeps it.
    #[cold]
    #[inline(never)]
    fn bad_value(&mut self, name: &str, s: u32, shown: &str, expected: &'static str) {
        let shown: String = shown.chars().take(80).collect();
        let kind = place::prim_kind(s).fhir_name();
        let message = format!("`{shown}` is not a valid {kind}: expected {expected}");
        let location = self.location(Some(name));
        self.outcome.push(Issue::new(
            Severity::Error,
            IssueType::Value,
            rules::PRIMITIVE_FORMAT,
            location,
            message,
        ));
    }

    /// Pushes the frame of an element opened in the top node.
    #[inline(always)]
    fn push_element(&mut self, frame: Open, name: &'static str) {
        if self.open.len() - self.nested > MAX_STEPS {
            return self.too_deep(name);
        }
        debug_assert!(
            self.open.len() < self.open.capacity(),
            "the stack is reserved once"
        );
        self.open.push(frame);
    }

    #[cold]
    #[inline(never)]
    fn too_deep(&mut self, name: &'static str) {
        self.slip(
            rules::INPUT_DEPTH,
            Some(name),
            format!("more than {MAX_STEPS} elements open"),
        )
    }

    /// Reports element `name` where the top frame takes none: in a
    /// primitive (only `extension`) or a resource slot (only resources);
    /// nothing after a slip (no frame).
    #[cold]
    #[inline(never)]
    fn misplaced(&mut self, name: &'static str) {
        match self.open.last() {
            Some(Open::Prim { .. }) => self.slip(
                rules::SCHEMA_UNKNOWN,
                Some(name),
                format!("`{name}` is not allowed in a primitive (only `extension`)"),
            ),
            Some(Open::Slot { .. }) => self.slip(
                rules::SCHEMA_CONTENT,
                Some(name),
                format!("`{name}` where a resource must start"),
            ),
            _ => {}
        }
    }

    /// Reports element `name` that the top node did not place (`m`, see
    /// [`place::Miss`]) with the reader's rule and words; a malformed
    /// value is reported and placed as the reader keeps it (its
    /// primitive returned).
    #[cold]
    #[inline(never)]
    fn missed(
        &mut self,
        node: NonNull<dyn Place>,
        name: &'static str,
        m: Miss,
    ) -> Option<NonNull<dyn PrimNode>> {
        match m {
            Miss::Order { s, at } => self.out_of_place(node, name, s, at as usize),
            Miss::Not(what) => self.not(node, name, what),
            Miss::Attr => self.slip(
                rules::SCHEMA_UNKNOWN,
                Some(name),
                format!("`{name}` must be an XML attribute here, not an element"),
            ),
            Miss::Slot(_) => self.not(node, name, "a primitive"),
            Miss::Bad { s, v, expected } => {
                self.bad_value(name, s, &v, expected);
                // SAFETY: the top frame's node (see `Open`): the `&mut`
                // lives for this call, the primitive's pointer is derived
                // from it.
                return unsafe { &mut *node.as_ptr() }.put(s, v, false);
            }
        }
        None
    }

    /// Reports element `name` of slot `s` of `node` at schema position
    /// `at` with the reader's rule and words (unknown, repeated, out of
    /// order).
    fn out_of_place(&mut self, node: NonNull<dyn Place>, name: &'static str, s: u32, at: usize) {
        // SAFETY: the top frame's node (see `Open`), shared for this call.
        let desc = unsafe { node.as_ref() }.desc();
        let i = place::field(s);
        let (rule, msg) = if s == place::NONE {
            (
                rules::SCHEMA_UNKNOWN,
                format!("`{name}` is not an element of {}", desc.name),
            )
        } else if at == i + 1 {
            (
                rules::SCHEMA_REPEATED,
                format!("`{name}` may appear only once in {}", desc.name),
            )
        } else {
            let after = desc.fields[at - 1].name;
            (
                rules::SCHEMA_ORDER,
                format!(
                    "`{name}` is out of schema order: it must come before `{after}` in {}",
                    desc.name
                ),
            )
        };
        self.slip(rule, Some(name), msg)
    }

    /// Opens complex element `name` of the top node (the extension's `url`
    /// set when `url` is given): the path by name behind the typed fast
    /// path ([`ModelSink::start_typed`]), out of line — the describers'
    /// calls take the fast path, so this one is not expanded at each of
    /// them.
    #[cold]
    #[inline(never)]
    fn open_by_name(&mut self, name: &'static str, url: Option<&'static str>) {
        let node = match self.open.last_mut() {
            Some(Open::Node { node, at, .. }) => (*node, at),
            Some(Open::Prim { prim, .. }) => {
                let prim = *prim;
                return self.prim_extension(prim, name, url);
            }
            _ => return self.misplaced(name),
        };
        let (node, at) = node;
        // SAFETY: the top frame's node (see `Open`): the `&mut` lives for
        // this call, the child's pointer is derived from it.
        let frame = match unsafe { &mut *node.as_ptr() }.start(name, at, url) {
            // the element is closed by the name it was opened with: the
            // describer's own text, at the address its `end` usually
            // passes too (so `same` compares addresses, not bytes)
            Ok(child) => Open::Node {
                node: child,
                at: 0,
                level: Level::Element,
                // SAFETY: the child just placed (see `Open`), shared for
                // this call (the parent's `&mut` has ended).
                tag: unsafe { child.as_ref() }.tag(),
                name,
            },
            Err(Miss::Slot(field)) => Open::Slot {
                field: field as u32,
                filled: false,
                name,
            },
            Err(m) => {
                self.missed(node, name, m);
                return;
            }
        };
        self.push_element(frame, name)
    }

    #[cold]
    #[inline(never)]
    fn not(&mut self, node: NonNull<dyn Place>, name: &'static str, what: &str) {
        // SAFETY: the top frame's node (see `Open`), shared for this call.
        let desc = unsafe { node.as_ref() }.desc();
        self.slip(
            rules::SCHEMA_CONTENT,
            Some(name),
            format!("`{name}` is not {what} in {}", desc.name),
        )
    }

    /// Sets primitive element `name` of the top node to `v` (`checked`:
    /// run-time text, checked as the reader checks it; otherwise a literal
    /// or the describer's formatted text, trusted when held as text);
    /// `open`: keeps it open for its extensions. The path by name behind
    /// the typed fast path ([`ModelSink::put_value`]), out of line as
    /// [`ModelSink::open_by_name`].
    #[cold]
    #[inline(never)]
    fn set_by_name(&mut self, name: &'static str, v: Str, checked: bool, open: bool) {
        let Some(Open::Node { node, at, .. }) = self.open.last_mut() else {
            return self.misplaced(name);
        };
        let node = *node;
        // SAFETY: the top frame's node (see `Open`): the `&mut` lives for
        // this call, the primitive's pointer is derived from it.
        let prim = match unsafe { &mut *node.as_ptr() }.set(name, at, v, checked) {
            Ok(prim) => prim,
            Err(m) => self.missed(node, name, m),
        };
        if open {
            match prim {
                Some(prim) => self.push_element(Open::Prim { prim, name }, name),
                None => self.not_prim(node, name),
            }
        }
    }

    /// `start_value` of an element that placed no primitive (after a
    /// slip: nothing).
    #[cold]
    #[inline(never)]
    fn not_prim(&mut self, node: NonNull<dyn Place>, name: &'static str) {
        if !self.slipped() {
            self.not(node, name, "a primitive")
        }
    }

    /// An extension (with `url` when given) inside a primitive opened for
    /// its extensions.
    #[cold]
    #[inline(never)]
    fn prim_extension(
        &mut self,
        p: NonNull<dyn PrimNode>,
        name: &'static str,
        url: Option<&'static str>,
    ) {
        if name != "extension" {
            return self.misplaced(name);
        }
        // SAFETY: the top frame's primitive (see `Open`): the `&mut` lives
        // for this call, the extension's pointer is derived from it.
        let p = unsafe { &mut *p.as_ptr() };
        let Some(node) = place::open_extension(p.extension_mut(), url) else {
            return;
        };
        let frame = Open::Node {
            node,
            at: 0,
            level: Level::Element,
            // SAFETY: the extension just placed (see `Open`), shared for
            // this call (the primitive's `&mut` has ended).
            tag: unsafe { node.as_ref() }.tag(),
            name: "extension",
        };
        self.push_element(frame, "extension")
    }

    #[cold]
    #[inline(never)]
    fn not_open(&mut self, rtype: &str) {
        self.slip(
            rules::SCHEMA_CONTENT,
            Some(rtype),
            format!("`{rtype}` closed while it is not the open resource"),
        )
    }

    /// A second resource started in one resource wrapper.
    #[cold]
    #[inline(never)]
    fn second_resource(&mut self, rtype: &'static str) {
        self.slip(
            rules::SCHEMA_CONTENT,
            Some(rtype),
            "a resource wrapper holds exactly one resource".into(),
        )
    }

    /// A resource started where no resource slot is open.
    #[cold]
    #[inline(never)]
    fn stray(&mut self, rtype: &'static str) {
        if Resource::new_of_type(rtype).is_none() {
            return self.slip(
                rules::RESOURCE_TYPE,
                Some(rtype),
                format!("`{rtype}` is not a resource type"),
            );
        }
        self.slip(
            rules::SCHEMA_CONTENT,
            Some(rtype),
            format!("a {rtype} outside a resource slot (`resource`, `contained`)"),
        )
    }

    /// Starts resource `rtype` (made by `new` when given) in resource slot
    /// `field` of the node below the top frame.
    fn resource(&mut self, field: usize, rtype: &'static str, new: Option<fn() -> Resource>) {
        let Some(resource) = new.map_or_else(|| Resource::new_of_type(rtype), |f| Some(f())) else {
            return self.slip(
                rules::RESOURCE_TYPE,
                Some(rtype),
                format!("`{rtype}` is not a resource type"),
            );
        };
        if self.nested == MAX_NESTED {
            return self.slip(
                rules::INPUT_DEPTH,
                Some(rtype),
                format!("resources nested more than {MAX_NESTED} deep"),
            );
        }
        let below = self.open.len().wrapping_sub(2);
        let owner = match self.open.get(below) {
            Some(Open::Node { node, .. }) => *node,
            _ => return self.not_open(rtype),
        };
        // SAFETY: the slot frame on top has no node of its own: the owner
        // below it is the innermost node in use (see `Open`); the `&mut`
        // lives for this call, the resource's pointer is derived from it.
        let owner = unsafe { &mut *owner.as_ptr() };
        let placed: &mut Resource = match owner.field_mut(field) {
            FieldMut::Resource(r) if r.is_none() => r.insert(resource),
            FieldMut::Resources(v) => {
                v.push(resource);
                match v.last_mut() {
                    Some(r) => r,
                    None => return,
                }
            }
            _ => {
                return self.slip(
                    rules::SCHEMA_REPEATED,
                    Some(rtype),
                    "a second resource in one `resource` slot".into(),
                );
            }
        };
        self.nested += 1;
        let placed = placed.as_place_mut();
        let frame = Open::Node {
            tag: placed.tag(),
            node: NonNull::from(placed),
            at: 0,
            level: Level::Resource,
            name: rtype,
        };
        self.open.push(frame);
    }

    /// `end(name)` of an element opened with the same name at another
    /// address (closed), or that does not close the top frame (reported).
    #[cold]
    #[inline(never)]
    fn end_other(&mut self, name: &'static str) {
        let elem = match self.open.last() {
            Some(Open::Slot {
                name: elem,
                filled: false,
                ..
            }) if same(name, elem) => {
                return self.slip(
                    rules::SCHEMA_CONTENT,
                    None,
                    "resource wrapper holds no resource".into(),
                )
            }
            Some(
                Open::Node {
                    level: Level::Element,
                    name: elem,
                    ..
                }
                | Open::Prim { name: elem, .. }
                | Open::Slot { name: elem, .. },
            ) if same(name, elem) => {
                self.open.pop();
                return;
            }
            Some(Open::Node {
                level: Level::Root | Level::Resource,
                ..
            }) => {
                return self.slip(
                    rules::SCHEMA_CONTENT,
                    Some(name),
                    format!("`{name}` closed, but no element is open"),
                )
            }
            Some(top) => top.name(),
            None => return,
        };
        self.slip(
            rules::SCHEMA_CONTENT,
            Some(name),
            format!("`{name}` closed while `{elem}` is open"),
        )
    }
}

impl Drop for ModelSink {
    fn drop(&mut self) {
        self.open.clear();
        // SAFETY: the stack is empty (no derived pointer is left) and
        // `root` is the box leaked by `with_root`, given back once, here.
        let mut boxed = unsafe { Box::from_raw(self.root.as_ptr()) };
        *boxed = None;
        let scratch = Scratch {
            open: std::mem::take(&mut self.open),
            root: Some(boxed),
        };
        // keep the scratch for the thread's next sink (the larger one);
        // during thread exit the thread's scratch may be gone already
        // (then the buffers are freed)
        let _ = SCRATCH.try_with(|cell| {
            let kept = cell.take();
            cell.set(if kept.open.capacity() > scratch.open.capacity() {
                kept
            } else {
                scratch
            });
        });
    }
}

impl ModelSink {
    /// The typed fast path of complex element `e`: when the top node is
    /// an `O` (its tag is `e`'s owner tag) and the element may come at the
    /// top node's schema position, the child is placed by `O`'s own
    /// placement (a direct call on a constant slot: the field write) and
    /// its frame pushed; `false` (nothing done) otherwise — a constant of
    /// another type, given by name, out of order, a resource slot, a url
    /// for an element that is no extension — for the path by name, which
    /// places it or reports it as the reader does.
    #[inline(always)]
    fn start_typed<O, C>(&mut self, e: Complex<O, C>, url: Option<&'static str>) -> bool {
        let Some(Open::Node { node, at, tag, .. }) = self.open.last_mut() else {
            return false;
        };
        if *tag != e.owner || place::kind(e.slot) != place::COMPLEX || !place::fits(e.slot, *at) {
            return false;
        }
        // SAFETY: the node is an `O`: the frame's tag is the node's own
        // `Place::tag` (read from the node when its frame was pushed),
        // equal to `e.owner`, which is `O::TAG` (`element::typed_complex`
        // sets it from `O`; a constant given by name has `BY_NAME`, which
        // no type has), and tags are distinct per generated type (tested
        // by `generated_placement_agrees_with_the_tables`). So the node's
        // data pointer is a valid `*mut O`, made a `&mut` for this call
        // only, as `&mut *node.as_ptr()` is on the path by name (see
        // `Open`); the child's pointer is derived from it.
        let o = unsafe { node.cast::<O>().as_mut() };
        let Some(child) = (e.open)(o, e.slot, url) else {
            return false;
        };
        *at = place::field(e.slot) as u32 + 1;
        let frame = Open::Node {
            node: child,
            at: 0,
            level: Level::Element,
            // SAFETY: the child just placed (see `Open`), shared for this
            // call (the parent's `&mut` has ended).
            tag: unsafe { child.as_ref() }.tag(),
            name: e.name,
        };
        self.push_element(frame, e.name);
        true
    }

    /// The typed fast path of resource slot `e` (as
    /// [`ModelSink::start_typed`]): its frame pushed, the resources that
    /// follow go into it; `false` (nothing done) for the path by name.
    #[inline(always)]
    fn slot_typed<O, C>(&mut self, e: Complex<O, C>) -> bool {
        let Some(Open::Node { at, tag, .. }) = self.open.last_mut() else {
            return false;
        };
        if *tag != e.owner || !place::fits(e.slot, *at) {
            return false;
        }
        *at = place::field(e.slot) as u32 + 1;
        let frame = Open::Slot {
            field: place::field(e.slot) as u32,
            filled: false,
            name: e.name,
        };
        self.push_element(frame, e.name);
        true
    }

    /// Primitive element `e` with value `v` (`checked`: run-time text;
    /// `open`: kept open for its extensions): the typed fast path as
    /// [`ModelSink::start_typed`] (`O`'s placement on a constant slot,
    /// after the lexical check of run-time text and of values not held as
    /// text), else the path by name.
    #[inline(always)]
    fn put_value<O>(&mut self, e: Prim<O>, v: Str, checked: bool, open: bool) {
        if let Some(Open::Node { node, at, tag, .. }) = self.open.last_mut() {
            let check = checked || !place::text_valued(e.slot);
            if *tag == e.owner
                && place::kind(e.slot) == place::PRIM
                && place::fits(e.slot, *at)
                && (!check || place::lexical_ok(place::prim_kind(e.slot), &v))
            {
                *at = place::field(e.slot) as u32 + 1;
                // SAFETY: as in `start_typed`: the frame's tag is the
                // node's own and equals `O::TAG`, so the node is an `O`;
                // the `&mut` lives for this call, the primitive's pointer
                // is derived from it.
                let node = *node;
                let o = unsafe { node.cast::<O>().as_mut() };
                let prim = (e.put)(o, e.slot, v, true);
                if open {
                    match prim {
                        Some(prim) => self.push_element(Open::Prim { prim, name: e.name }, e.name),
                        None => self.not_prim(node, e.name),
                    }
                }
                return;
            }
        }
        self.set_by_name(e.name, v, checked, open)
    }
}

// `#[inline(always)]` (`#[inline]` for the rarer calls): the describers
// (generic over the sink) take each call's fast path in place — the top
// frame's type checked against the constant's owner, the order check, the
// owner's placement on the constant slot (a field write), the frame pushed
// or popped — with the literal names and values as constants; the path by
// name and the slips are out of line.
impl ElementSink for ModelSink {
    #[inline(always)]
    fn start<O, C>(&mut self, e: Complex<O, C>) {
        let placed = if place::kind(e.slot) == place::RESOURCE {
            self.slot_typed(e)
        } else {
            self.start_typed(e, None)
        };
        if !placed {
            self.open_by_name(e.name, None)
        }
    }
    #[inline(always)]
    fn start_extension<O>(&mut self, e: Complex<O, Extension>, url: &'static str) {
        if !self.start_typed(e, Some(url)) {
            self.open_by_name(e.name, Some(url))
        }
    }
    #[inline(always)]
    fn end<E: Named>(&mut self, e: E) {
        let name = e.name();
        // the usual case, without a call: `name` is the very literal the
        // element was opened with
        if let Some(
            Open::Node {
                level: Level::Element,
                name: elem,
                ..
            }
            | Open::Prim { name: elem, .. }
            | Open::Slot {
                name: elem,
                filled: true,
                ..
            },
        ) = self.open.last()
        {
            if elem.as_ptr() == name.as_ptr() && elem.len() == name.len() {
                self.open.pop();
                return;
            }
        }
        self.end_other(name)
    }
    #[inline(always)]
    fn value<O>(&mut self, e: Prim<O>, v: &str) {
        self.put_value(e, Str::from(v), true, false)
    }
    #[inline(always)]
    fn value_static<O>(&mut self, e: Prim<O>, v: &'static str) {
        self.put_value(e, Str::const_new(v), false, false)
    }
    #[inline(always)]
    fn value_formatted<O>(&mut self, e: Prim<O>, v: &str) {
        self.put_value(e, Str::from(v), false, false)
    }
    #[inline]
    fn value_i64<O>(&mut self, e: Prim<O>, n: i64) {
        let v = compact_str::ToCompactString::to_compact_string(&n);
        self.put_value(e, v, true, false)
    }
    #[inline(always)]
    fn start_value<O>(&mut self, e: Prim<O>, v: &str) {
        self.put_value(e, Str::from(v), true, true)
    }
    #[inline(always)]
    fn empty<O, C>(&mut self, e: Complex<O, C>) {
        self.start(e);
        self.end(e)
    }
    #[inline]
    fn start_resource<R>(&mut self, r: Res<R>) {
        let rtype = r.name;
        match self.open.last_mut() {
            Some(Open::Slot { filled: true, .. }) => self.second_resource(rtype),
            Some(Open::Slot { field, filled, .. }) => {
                *filled = true;
                let field = *field as usize;
                self.resource(field, rtype, r.new)
            }
            Some(_) => self.stray(rtype),
            None => {}
        }
    }
    #[inline(always)]
    fn end_resource<R>(&mut self, r: Res<R>) {
        let rtype = r.name;
        match self.open.last() {
            Some(Open::Node {
                level: Level::Resource,
                name,
                ..
            }) if same(name, rtype) => {
                self.open.pop();
                self.nested -= 1;
            }
            Some(_) => self.not_open(rtype),
            None => {}
        }
    }
}

/// Equal names, by address first (literals usually share it).
#[inline]
fn same(a: &str, b: &str) -> bool {
    (a.as_ptr() == b.as_ptr() && a.len() == b.len()) || a == b
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::{find_field, FieldKind};
    use crate::primitive::PrimKind;
    use crate::xml::XmlStream;
    use crate::{Complex, Prim, Res, Untyped};

    /// Complex element `name`, placed by name.
    const fn el(name: &'static str) -> Complex<Untyped, Untyped> {
        Complex::named(name)
    }

    fn rule(f: impl FnOnce(&mut ModelSink)) -> Option<&'static str> {
        let mut m = ModelSink::new("Bundle").unwrap();
        f(&mut m);
        m.finish().err().and_then(|e| e.issue().map(|i| i.rule))
    }

    /// The generated placement of every type reachable from a resource
    /// agrees with its table: `find` answers `find_field`'s element (for
    /// every element and choice alternative, and for the same text at
    /// another address) with the table's kind and cardinality, unknown
    /// names (a near miss of each name, the bare choice name) are
    /// unknown, primitives carry their kind, `put` fills the element it
    /// was given, and `open` adds a child of the table's type (an
    /// extension with its `url`); every resource type name (and no near
    /// miss) gives its resource (the generated `resource_index`).
    ///
    /// Natively every type reachable from every resource is walked. Under
    /// Miri (an interpreter: the full walk does not finish in reasonable
    /// time) the types reachable from `MIRI_ROOTS` are, which hold every
    /// kind of slot the sink places into — asserted: the unsafe code (the
    /// pointers `open` and `put` hand out, turned into `&mut` here as the
    /// sink does) is exercised on each kind.
    #[test]
    fn generated_placement_agrees_with_the_tables() {
        /// What kinds of slot the walk met (see `MIRI_ROOTS`).
        type Kinds = std::collections::BTreeSet<&'static str>;
        /// The resources walked under Miri: `Bundle` (`entry`, a list of
        /// backbone elements, with `entry.resource`, a single resource)
        /// and `Patient` (`contained`, a list of resources; primitives,
        /// lists of primitives such as `HumanName.given`, complex elements
        /// and lists of them, choices with primitive and complex
        /// alternatives through `Extension.value[x]`, extensions, `id`
        /// and `url` attributes, `Narrative.div`).
        #[cfg(miri)]
        const MIRI_ROOTS: &[&str] = &["Bundle", "Patient"];
        fn walk(
            n: &mut dyn Place,
            seen: &mut std::collections::BTreeMap<&'static str, u16>,
            kinds: &mut Kinds,
        ) {
            let desc = n.desc();
            if seen.insert(desc.name, n.tag()).is_some() {
                return;
            }
            for (i, f) in desc.fields.iter().enumerate() {
                let mut alts: Vec<(&'static str, Option<&'static str>, u32, Option<PrimKind>)> =
                    Vec::new();
                kinds.insert(match (&f.kind, f.many) {
                    (FieldKind::Attr, _) => "attribute",
                    (FieldKind::Prim(_), false) => "primitive",
                    (FieldKind::Prim(_), true) => "list of primitives",
                    (FieldKind::Complex("Extension"), true) => "extension",
                    (FieldKind::Complex(_), false) => "complex",
                    (FieldKind::Complex(_), true) => "list",
                    (FieldKind::Choice(_), _) => "choice",
                    (FieldKind::Resource, false) => "resource",
                    (FieldKind::Resource, true) => "resources",
                    (FieldKind::Xhtml, _) => "xhtml",
                });
                match &f.kind {
                    FieldKind::Choice(cs) => {
                        assert_eq!(n.find(f.name), place::NONE, "{}.{}", desc.name, f.name);
                        for c in cs.iter() {
                            let k = if c.prim.is_some() {
                                place::PRIM
                            } else {
                                place::COMPLEX
                            };
                            alts.push((c.name, Some(c.type_name), k, c.prim));
                        }
                    }
                    FieldKind::Attr => alts.push((f.name, None, place::ATTR, None)),
                    FieldKind::Prim(k) => alts.push((f.name, None, place::PRIM, Some(*k))),
                    FieldKind::Complex(t) => alts.push((f.name, Some(t), place::COMPLEX, None)),
                    FieldKind::Resource => alts.push((f.name, None, place::RESOURCE, None)),
                    FieldKind::Xhtml => alts.push((f.name, None, place::XHTML, None)),
                }
                for (name, ty, kind, prim) in alts {
                    let what = format!("{}.{name}", desc.name);
                    assert_eq!(find_field(desc, name, 0).map(|x| x.0), Some(i), "{what}");
                    let s = n.find(name);
                    let copy = name.to_string();
                    assert_eq!(n.find(&copy), s, "{what}");
                    assert_eq!(place::field(s), i, "{what}");
                    assert_eq!(place::kind(s), kind, "{what}");
                    assert_eq!(place::many(s), f.many, "{what}");
                    if let Some(k) = prim {
                        assert_eq!(place::prim_kind(s), k, "{what}");
                        let text = !matches!(
                            k,
                            PrimKind::Boolean
                                | PrimKind::Integer
                                | PrimKind::PositiveInt
                                | PrimKind::UnsignedInt
                                | PrimKind::Decimal
                        );
                        assert_eq!(place::text_valued(s), text, "{what}");
                    }
                    let mut near = copy.into_bytes();
                    let last = near.len() - 1;
                    near[last] ^= 0x20;
                    let near = String::from_utf8(near).unwrap();
                    if find_field(desc, &near, 0).is_none() {
                        assert_eq!(n.find(&near), place::NONE, "{what}: {near}");
                    }
                    // `set` / `start`: the order checks on the position,
                    // which moves past the element
                    let again = |r: Result<(), Miss>, at: u32| match r {
                        // a second value (malformed, when checked) of a list
                        Ok(()) | Err(Miss::Bad { .. }) => assert!(f.many, "{what}: placed twice"),
                        Err(Miss::Order { s: m, at: a }) => {
                            assert!(!f.many, "{what}");
                            assert_eq!((m, a), (s, i as u32 + 1), "{what}");
                            assert_eq!(at, a, "{what}");
                        }
                        Err(m) => panic!("{what}: {m:?}"),
                    };
                    let mut at = 0;
                    match kind {
                        place::ATTR => {
                            // set by the reader's attributes (`put`), never
                            // as an element by the sink
                            let _ = n.put(s, Str::const_new("x"), true);
                            assert!(crate::node::is_present(&n.field(i)), "{what}");
                            let r = n.set(name, &mut at, Str::const_new("x"), false);
                            assert!(matches!(r, Err(Miss::Attr)), "{what}");
                            assert_eq!(at, i as u32 + 1, "{what}");
                        }
                        place::PRIM => {
                            let _ = n.put(s, Str::const_new("x"), true);
                            assert!(crate::node::is_present(&n.field(i)), "{what}");
                            let v = || Str::const_new("x");
                            // trusted text is kept as given; other values
                            // are checked ("x" is no number or boolean)
                            match n.set(name, &mut at, v(), false) {
                                Ok(p) => {
                                    assert!(p.is_some(), "{what}");
                                    assert!(place::text_valued(s), "{what}");
                                }
                                Err(Miss::Bad { s: b, .. }) => {
                                    assert_eq!(b, s, "{what}");
                                    assert!(!place::text_valued(s), "{what}");
                                }
                                Err(m) => panic!("{what}: {m:?}"),
                            }
                            assert_eq!(at, i as u32 + 1, "{what}");
                            let r = n.set(name, &mut at, v(), false);
                            again(r.map(drop), at);
                        }
                        place::COMPLEX => {
                            let ext = ty == Some("Extension");
                            assert_eq!(n.open(s, Some("u")).is_some(), ext, "{what}");
                            let _ = n.start(name, &mut at, None).unwrap();
                            assert_eq!(at, i as u32 + 1, "{what}");
                            let r = n.start(name, &mut at, None);
                            again(r.map(drop), at);
                            let r = n.set(name, &mut 0, Str::const_new("x"), false);
                            assert!(matches!(r, Err(Miss::Not(_))), "{what}");
                            let c = n.open(s, None).unwrap();
                            // SAFETY: the child was just placed in `n`, which
                            // is not used until this borrow ends.
                            let c = unsafe { &mut *c.as_ptr() };
                            assert_eq!(Some(c.desc().name), ty, "{what}");
                            walk(c, seen, kinds);
                        }
                        place::RESOURCE => {
                            let r = n.start(name, &mut at, None);
                            assert!(matches!(r, Err(Miss::Slot(x)) if x == i), "{what}");
                            assert_eq!(at, i as u32 + 1, "{what}");
                        }
                        _ => {
                            let r = n.start(name, &mut at, None);
                            assert!(matches!(r, Err(Miss::Not(_))), "{what}");
                        }
                    }
                    assert!(matches!(
                        n.set(name, &mut 0xfff, Str::const_new("x"), false),
                        Err(Miss::Order { .. })
                    ));
                }
            }
        }
        let mut seen = std::collections::BTreeMap::new();
        let mut kinds = Kinds::new();
        for t in crate::RESOURCE_TYPES {
            let mut r = Resource::new_of_type(t).unwrap();
            assert_eq!(r.resource_type(), t);
            #[cfg(miri)]
            let walked = MIRI_ROOTS.contains(&t);
            #[cfg(not(miri))]
            let walked = true;
            if walked {
                walk(r.as_place_mut(), &mut seen, &mut kinds);
            }
            let mut near = t.to_string();
            near.pop();
            assert!(Resource::new_of_type(&near).is_none(), "{near}");
            assert!(Resource::new_of_type(&t.to_lowercase()).is_none(), "{t}");
        }
        // every kind of slot is met (under Miri too)
        let all = [
            "attribute",
            "primitive",
            "list of primitives",
            "extension",
            "complex",
            "list",
            "choice",
            "resource",
            "resources",
            "xhtml",
        ];
        assert_eq!(kinds, Kinds::from(all));
        // every datatype and backbone element is reached
        #[cfg(not(miri))]
        assert!(seen.len() > 400, "{}", seen.len());
        #[cfg(miri)]
        assert!(seen.len() > 20, "{}", seen.len());
        // every type walked has a tag of its own (the typed fast path's
        // premise: a node whose tag is `O::TAG` is an `O`), and none is
        // the by-name constants' tag
        let tags: std::collections::BTreeSet<u16> = seen.values().copied().collect();
        assert_eq!(tags.len(), seen.len(), "two types share a tag");
        assert!(!tags.contains(&crate::element::BY_NAME));
        let e = crate::Extension::default();
        assert_eq!(e.find("nope"), place::NONE);
        assert_eq!(e.find(""), place::NONE);
    }

    /// A half-built sink sent to another thread (the pointers of its open
    /// nodes move with it, see the `Send` impl) is finished there: the
    /// model equals the one built on one thread; a half-built sink
    /// dropped on another thread frees its model there.
    #[test]
    fn a_half_built_sink_is_finished_on_another_thread() {
        fn first<S: ElementSink>(s: &mut S) {
            s.value(Prim::named("id"), "b1");
            s.value_static(Prim::named("type"), "collection");
            s.start(el("entry"));
            s.start(el("resource"));
            s.start_resource(Res::named("Patient"));
            s.start(el("name"));
            s.start_value(Prim::named("given"), "G");
            s.start_extension(Complex::named("extension"), "http://example.org/x");
        }
        fn rest<S: ElementSink>(s: &mut S) {
            s.value(Prim::named("valueString"), "x");
            s.end("extension");
            s.end("given");
            s.end("name");
            for _ in 0..5 {
                s.start(el("name"));
                s.value(Prim::named("family"), "F");
                s.end("name");
            }
            s.end_resource(Res::named("Patient"));
            s.end("resource");
            s.end("entry");
            s.start(el("entry"));
            s.value(Prim::named("fullUrl"), "urn:uuid:2");
            s.end("entry");
        }
        let mut m = ModelSink::new("Bundle").unwrap();
        first(&mut m);
        let sent = std::thread::spawn(move || {
            rest(&mut m);
            m.finish().unwrap()
        })
        .join()
        .unwrap();
        let mut m = ModelSink::new("Bundle").unwrap();
        first(&mut m);
        rest(&mut m);
        let here = m.finish().unwrap();
        assert!(sent.outcome.issues.is_empty(), "{:?}", sent.outcome);
        assert_eq!(sent.resource, here.resource);
        assert!(matches!(
            &here.resource,
            Resource::Bundle(b) if b.entry.len() == 2
        ));

        let mut m = ModelSink::new("Bundle").unwrap();
        first(&mut m);
        std::thread::spawn(move || drop(m)).join().unwrap();
    }

    #[test]
    fn slips_are_reported_with_the_readers_rules() {
        assert_eq!(
            rule(|m| m.value(Prim::named("nope"), "x")),
            Some(rules::SCHEMA_UNKNOWN)
        );
        assert_eq!(
            rule(|m| {
                m.value(Prim::named("type"), "message");
                m.value(Prim::named("id"), "b");
            }),
            Some(rules::SCHEMA_ORDER)
        );
        assert_eq!(
            rule(|m| {
                m.value(Prim::named("id"), "a");
                m.value(Prim::named("id"), "b");
            }),
            Some(rules::SCHEMA_REPEATED)
        );
        assert_eq!(rule(|m| m.start(el("entry"))), Some(rules::SCHEMA_CONTENT));
        assert_eq!(
            rule(|m| {
                m.start(el("entry"));
                m.end("fullUrl");
            }),
            Some(rules::SCHEMA_CONTENT)
        );
        assert_eq!(
            rule(|m| {
                m.start(el("entry"));
                m.start(el("resource"));
                m.start_resource(Res::named("NotAResource"));
            }),
            Some(rules::RESOURCE_TYPE)
        );
        assert_eq!(
            rule(|m| m.start_resource(Res::named("Patient"))),
            Some(rules::SCHEMA_CONTENT)
        );
        assert_eq!(rule(|m| m.start(el("id"))), Some(rules::SCHEMA_CONTENT));
        assert_eq!(
            rule(|m| m.value(Prim::named("entry"), "x")),
            Some(rules::SCHEMA_CONTENT)
        );
        assert_eq!(
            rule(|m| {
                m.start(el("entry"));
                m.start(el("resource"));
                m.start_resource(Res::named("Patient"));
                m.end_resource(Res::named("Patient"));
                m.start_resource(Res::named("Patient"));
                m.end_resource(Res::named("Patient"));
            }),
            // the reader's words for a wrapper of two resources
            Some(rules::SCHEMA_CONTENT)
        );
        // a slip stops assembling: what follows is not reported again
        let mut m = ModelSink::new("Bundle").unwrap();
        m.value(Prim::named("type"), "message");
        m.value(Prim::named("id"), "b");
        m.value(Prim::named("nope"), "x");
        assert_eq!(m.finish().unwrap_err().outcome.issues.len(), 1);
    }

    #[test]
    fn malformed_values_are_kept_and_reported_as_the_reader_does() {
        let mut m = ModelSink::new("Patient").unwrap();
        m.value(Prim::named("birthDate"), "2019-13-45");
        let p = m.finish().unwrap();
        assert_eq!(p.outcome.issues[0].rule, rules::PRIMITIVE_FORMAT);
        let read = crate::from_xml(
            br#"<Patient xmlns="http://hl7.org/fhir"><birthDate value="2019-13-45"/></Patient>"#,
        )
        .unwrap();
        assert_eq!(read.resource, p.resource);
        assert_eq!(read.outcome.issues[0].rule, rules::PRIMITIVE_FORMAT);
    }

    /// A malformed primitive opened for its extensions keeps them: the
    /// pointer `put` hands out for a malformed value is used as the sink
    /// uses it (the model equals the reader's, with the same issue).
    #[test]
    fn a_malformed_primitive_keeps_its_extensions() {
        const URL: &str = "https://example.org/ext";
        let mut m = ModelSink::new("Patient").unwrap();
        m.start_value(Prim::named("birthDate"), "2019-13-45");
        m.start_extension(Complex::named("extension"), URL);
        m.value(Prim::named("valueString"), "kept");
        m.end("extension");
        m.end("birthDate");
        let p = m.finish().unwrap();
        assert_eq!(p.outcome.issues.len(), 1, "{:?}", p.outcome);
        assert_eq!(p.outcome.issues[0].rule, rules::PRIMITIVE_FORMAT);
        let read = crate::from_xml(
            br#"<Patient xmlns="http://hl7.org/fhir"><birthDate value="2019-13-45"><extension url="https://example.org/ext"><valueString value="kept"/></extension></birthDate></Patient>"#,
        )
        .unwrap();
        assert_eq!(read.resource, p.resource);
        assert_eq!(read.outcome.issues[0].rule, rules::PRIMITIVE_FORMAT);
    }

    /// An attribute written as an element (`id` of an element, `url` of an
    /// extension opened with its url) is the reader's `SCHEMA-UNKNOWN`,
    /// with the reader's words (it used to replace the
    /// attribute silently).
    #[test]
    fn attributes_are_not_elements() {
        type Describe = fn(&mut ModelSink);
        let cases: [(&[u8], Describe); 2] = [
            (
                br#"<Patient xmlns="http://hl7.org/fhir"><name><id value="x"/></name></Patient>"#,
                |m| {
                    m.start(el("name"));
                    m.value(Prim::named("id"), "x");
                },
            ),
            (
                br#"<Patient xmlns="http://hl7.org/fhir"><extension url="a"><url value="b"/></extension></Patient>"#,
                |m| {
                    m.start_extension(Complex::named("extension"), "a");
                    m.value_static(Prim::named("url"), "b");
                },
            ),
        ];
        for (xml, describe) in cases {
            let read = crate::from_xml(xml).unwrap();
            let want = &read.outcome.issues[0];
            let mut m = ModelSink::new("Patient").unwrap();
            describe(&mut m);
            let err = m.finish().err().unwrap();
            let got = err.issue().unwrap();
            assert_eq!(got.rule, rules::SCHEMA_UNKNOWN);
            assert_eq!((got.rule, &got.message), (want.rule, &want.message));
            // the sink's locations carry no list indices
            let bare = want.location.replace("[0]", "");
            assert_eq!(got.location, bare);
        }
    }

    /// At most [`MAX_STEPS`] elements are open at once: one more is
    /// `INPUT-DEPTH` (and the stack, reserved once, is never regrown:
    /// the debug assertion of `push_element`).
    #[test]
    fn elements_open_at_once_are_limited() {
        fn nest(depth: usize) -> Result<Parsed, ReadError> {
            let mut m = ModelSink::new("Patient").unwrap();
            for _ in 0..depth {
                m.start_extension(Complex::named("extension"), "https://example.org/ext");
            }
            for _ in 0..depth {
                m.end("extension");
            }
            m.finish()
        }
        assert!(nest(MAX_STEPS).is_ok());
        let err = nest(MAX_STEPS + 1).err().unwrap();
        assert_eq!(err.issue().map(|i| i.rule), Some(rules::INPUT_DEPTH));
    }

    /// Nested resources, choice alternatives, primitives with extensions and
    /// empty elements assemble the model the reader makes of the same XML.
    #[test]
    fn nested_resources_and_extensions_match_the_reader() {
        fn describe(s: &mut impl ElementSink) {
            s.value(Prim::named("id"), "b1");
            s.value_static(Prim::named("type"), "collection");
            s.start(el("entry"));
            s.value(Prim::named("fullUrl"), "urn:uuid:1");
            s.start(el("resource"));
            s.start_resource(Res::named("Patient"));
            s.start_extension(Complex::named("extension"), "http://example.org/x");
            s.start(el("valueCodeableConcept"));
            s.value(Prim::named("text"), "t");
            s.end("valueCodeableConcept");
            s.end("extension");
            s.start_value(Prim::named("birthDate"), "2020-01-01");
            s.start_extension(Complex::named("extension"), "http://example.org/time");
            s.value(Prim::named("valueDateTime"), "2020-01-01T10:00:00+00:00");
            s.end("extension");
            s.end("birthDate");
            s.value_i64(Prim::named("multipleBirthInteger"), 2);
            s.start(el("contact"));
            s.empty(el("period"));
            s.end("contact");
            s.end_resource(Res::named("Patient"));
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

    /// The open nodes' pointers stay valid while the lists of their closed
    /// siblings (the parent's lists) regrow, through nested resources eight deep, and
    /// when the sink is moved between calls (see `Open`): the model equals
    /// the reader's of the same description's XML. A sink dropped with
    /// elements open frees its model (no leak, no double free).
    ///
    /// Under Miri (an interpreter) the sizes are smaller ([`Sizes`]) but
    /// still regrow every list the sink appends to here (`Bundle.entry`,
    /// `Patient.name`, `HumanName.given`: each list regrows past its first
    /// block — four elements, or what fits in 1 KiB for large ones, see
    /// `place::reserve_first` — moving the earlier, closed elements) while the frames of the
    /// parent nodes, resources nested several levels deep, stay open
    /// below; the over-the-limit nesting (`MAX_NESTED + 1`) is the same.
    #[test]
    fn deep_nesting_and_regrown_lists_keep_the_open_nodes() {
        /// How much the description holds.
        struct Sizes {
            /// Entries after the three moved ones.
            entries: usize,
            /// Patients nested in each entry's patient (`contained`).
            depth: usize,
            /// Names of each patient.
            names: usize,
            /// Given names (each with an extension) of each name.
            given: usize,
        }
        #[cfg(not(miri))]
        const SIZES: Sizes = Sizes {
            entries: 20,
            depth: 7,
            names: 10,
            given: 3,
        };
        #[cfg(miri)]
        const SIZES: Sizes = Sizes {
            entries: 3,
            depth: 3,
            names: 5,
            given: 5,
        };
        fn patient<S: ElementSink>(s: &mut S, depth: usize) {
            s.value(Prim::named("id"), "p");
            if depth > 0 {
                s.start(el("contained"));
                s.start_resource(Res::named("Patient"));
                patient(s, depth - 1);
                s.end_resource(Res::named("Patient"));
                s.end("contained");
            }
            for k in 0..SIZES.names {
                s.start(el("name"));
                s.value(
                    Prim::named("family"),
                    if k % 2 == 0 { "Even" } else { "Odd" },
                );
                for _ in 0..SIZES.given {
                    s.start_value(Prim::named("given"), "G");
                    s.start_extension(Complex::named("extension"), "http://example.org/x");
                    s.value(Prim::named("valueString"), "x");
                    s.end("extension");
                    s.end("given");
                }
                s.end("name");
            }
        }
        fn describe<S: ElementSink>(s: &mut S) {
            for _ in 0..SIZES.entries {
                s.start(el("entry"));
                s.start(el("resource"));
                s.start_resource(Res::named("Patient"));
                patient(s, SIZES.depth);
                s.end_resource(Res::named("Patient"));
                s.end("resource");
                s.end("entry");
            }
        }
        let mut m = ModelSink::new("Bundle").unwrap();
        let mut moved = Vec::new();
        for _ in 0..3 {
            m.start(el("entry"));
            m.value(Prim::named("fullUrl"), "urn:uuid:1");
            // the sink moves (into a Vec and out) with elements open
            moved.push(m);
            m = moved.pop().unwrap();
            m.end("entry");
        }
        describe(&mut m);
        let model = m.finish().unwrap();
        assert!(model.outcome.issues.is_empty(), "{:?}", model.outcome);
        let mut x = XmlStream::with_capacity(1 << 16);
        x.root("Bundle");
        for _ in 0..3 {
            x.start("entry");
            x.value("fullUrl", "urn:uuid:1");
            x.end("entry");
        }
        describe(&mut x);
        x.end("Bundle");
        let read = crate::from_xml(x.as_str().as_bytes()).unwrap();
        assert_eq!(read.resource, model.resource);

        let mut m = ModelSink::new("Bundle").unwrap();
        m.start(el("entry"));
        m.start(el("resource"));
        m.start_resource(Res::named("Patient"));
        m.start(el("name"));
        drop(m);
        // nesting past the limit is reported, not followed
        let mut m = ModelSink::new("Patient").unwrap();
        patient(&mut m, MAX_NESTED + 1);
        assert_eq!(
            m.finish().unwrap_err().issue().unwrap().rule,
            rules::INPUT_DEPTH
        );
    }
}
