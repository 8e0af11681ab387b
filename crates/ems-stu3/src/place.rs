//! Placement by element index, the model sink's fast path.
//!
//! `cargo xtask codegen` implements [`Place`] for every generated struct
//! (`generated/place.rs`): [`Place::find`] turns an element name into a
//! packed [`u32`] slot (a `match` on the name's length and a
//! distinguishing byte, then one comparison), and [`Place::put`] /
//! [`Place::open`] write the element of a slot straight into its field
//! (one dynamic call, a jump on the slot, a direct field write). The
//! [`ModelSink`](crate::ModelSink) checks schema order and repeats on the
//! slot's field index (integer compares) and goes to the reflection layer
//! ([`crate::node`]) only to report a slip with the reader's words.
//!
//! Slot layout: bits 0..8 the element's index in the type's
//! [`TypeDesc::fields`](crate::node::TypeDesc) table, bits 8..20 the slot
//! number (dense per type: one per element, one per choice alternative,
//! in schema order) that `put` and `open` match on, bits 20..24 the kind,
//! bit 24 set for a repeating element; [`NONE`] for an unknown name.

use crate::node::Node;
use crate::primitive::{PrimKind, PrimNode, PrimValue, Primitive};
use crate::{Extension, Str};
use std::ptr::NonNull;

/// An attribute-like string (`id` of a datatype, `Extension.url`).
pub(crate) const ATTR: u32 = 0;
/// A primitive (or a primitive choice alternative).
pub(crate) const PRIM: u32 = 1;
/// A complex element (or a complex choice alternative).
pub(crate) const COMPLEX: u32 = 2;
/// A resource slot (`contained`, `Bundle.entry.resource`).
pub(crate) const RESOURCE: u32 = 3;
/// `Narrative.div` (neither set nor opened by the sink).
#[cfg(test)]
pub(crate) const XHTML: u32 = 4;
/// No element of that name.
pub(crate) const NONE: u32 = u32::MAX;

/// The element index of slot `s`.
#[inline]
pub(crate) fn field(s: u32) -> usize {
    (s & 0xff) as usize
}

/// The kind of slot `s` ([`ATTR`] ... [`XHTML`]).
#[inline]
pub(crate) fn kind(s: u32) -> u32 {
    (s >> 20) & 0xf
}

/// Whether slot `s` is a repeating element.
#[inline]
pub(crate) fn many(s: u32) -> bool {
    s & (1 << 24) != 0
}

/// The slot number `put` and `open` match on.
#[inline]
pub(crate) fn number(s: u32) -> u32 {
    (s >> 8) & 0xfff
}

/// `s` when `n` is `name`, else [`NONE`] (the last step of [`Place::find`]).
#[inline(always)]
pub(crate) fn is(n: &str, name: &'static str, s: u32) -> u32 {
    if n.as_bytes() == name.as_bytes() {
        s
    } else {
        NONE
    }
}

/// A value to set: run-time text (checked), a literal or the describer's
/// formatted text (both trusted: kept without the lexical check).
pub(crate) enum Text {
    Checked(Str),
    Literal(&'static str),
    Trusted(Str),
}

/// What [`Place::put`] did: the primitive it set (for `start_value`, whose
/// extensions follow) and, for a malformed value (kept as the reader keeps
/// it), the text and the expected form.
#[derive(Default)]
pub(crate) struct Put {
    pub prim: Option<NonNull<dyn PrimNode>>,
    pub bad: Option<(Str, &'static str)>,
}

/// Element placement of a generated type (see the module docs). The
/// pointers handed out are derived from `&mut self` (see `model_sink::Open`
/// for why they stay valid while the sink uses them).
pub(crate) trait Place: Node {
    /// The slot of element `name` ([`NONE`]: not an element of the type).
    fn find(&self, name: &str) -> u32;
    /// Sets the primitive or attribute of slot `s` (a [`PRIM`] or [`ATTR`]
    /// slot of [`Place::find`]; other slots are left alone).
    fn put(&mut self, s: u32, t: Text) -> Put;
    /// Adds the complex element of slot `s` (a [`COMPLEX`] slot) and
    /// returns it; an extension gets `url`. `None` when `url` is given for
    /// an element that is not an extension (or the slot is not complex).
    fn open(&mut self, s: u32, url: Option<&'static str>) -> Option<NonNull<dyn Place>>;
}

/// The primitive of text `t` as `kind`, and the malformed text if it is.
#[inline]
pub(crate) fn prim_of<V: PrimValue>(
    kind: PrimKind,
    t: Text,
) -> (Primitive<V>, Option<(Str, &'static str)>) {
    let mut p = Primitive::<V>::default();
    let bad = match t {
        Text::Literal(s) => p.set_literal(kind, s).err().map(|e| (Str::const_new(s), e)),
        Text::Trusted(s) => p.set_trusted(kind, s).err(),
        Text::Checked(s) => p.set_owned(kind, s).err(),
    };
    (p, bad)
}

/// The pointer of a primitive just placed.
#[inline]
pub(crate) fn prim_ptr<V: PrimValue>(p: &mut Primitive<V>) -> NonNull<dyn PrimNode> {
    NonNull::from(p as &mut (dyn PrimNode + 'static))
}

/// The pointer of a node just placed.
#[inline]
pub(crate) fn place_ptr<T: Place + 'static>(n: &mut T) -> NonNull<dyn Place> {
    NonNull::from(n as &mut (dyn Place + 'static))
}

/// [`Place::put`] of a single-valued primitive.
#[inline]
pub(crate) fn put_one<V: PrimValue>(slot: &mut Option<Primitive<V>>, k: PrimKind, t: Text) -> Put {
    let (p, bad) = prim_of(k, t);
    Put {
        prim: Some(prim_ptr(slot.insert(p))),
        bad,
    }
}

/// [`Place::put`] of a repeating primitive.
#[inline]
pub(crate) fn put_many<V: PrimValue>(list: &mut Vec<Primitive<V>>, k: PrimKind, t: Text) -> Put {
    let (p, bad) = prim_of(k, t);
    list.push(p);
    Put {
        prim: list.last_mut().map(prim_ptr),
        bad,
    }
}

/// [`Place::put`] of an attribute (never malformed, never opened).
#[inline]
pub(crate) fn put_attr(slot: &mut Option<Str>, t: Text) -> Put {
    *slot = Some(match t {
        Text::Literal(s) => Str::const_new(s),
        Text::Checked(v) | Text::Trusted(v) => v,
    });
    Put::default()
}

/// [`Place::open`] of a single-valued complex element.
#[inline]
pub(crate) fn open_one<T: Place + Default + 'static>(slot: &mut Option<T>) -> NonNull<dyn Place> {
    place_ptr(slot.insert(T::default()))
}

/// [`Place::open`] of a single-valued complex element kept in a box.
#[inline]
pub(crate) fn open_boxed<T: Place + Default + 'static>(
    slot: &mut Option<Box<T>>,
) -> NonNull<dyn Place> {
    place_ptr(&mut **slot.insert(Box::default()))
}

/// [`Place::open`] of a repeating complex element.
#[inline]
pub(crate) fn open_many<T: Place + Default + 'static>(
    list: &mut Vec<T>,
) -> Option<NonNull<dyn Place>> {
    list.push(T::default());
    list.last_mut().map(place_ptr)
}

/// [`Place::open`] of a repeating extension element, with its `url`.
#[inline]
pub(crate) fn open_extension(
    list: &mut Vec<Extension>,
    url: Option<&'static str>,
) -> Option<NonNull<dyn Place>> {
    list.push(Extension {
        url: url.map(Str::const_new),
        ..Default::default()
    });
    list.last_mut().map(place_ptr)
}
