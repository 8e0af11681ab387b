//! Placement by element index, the model sink's fast path.
//!
//! `cargo xtask codegen` implements [`Place`] for every generated struct
//! (`generated/place.rs`): [`Place::find`] turns an element name into a
//! packed [`u32`] slot (a `match` on the name's length and a
//! distinguishing byte, then one comparison), and [`Place::put`] /
//! [`Place::open`] write the element of a slot straight into its field
//! (one dynamic call, a jump on the slot, a direct field write). The
//! generated [`Place::set`] / [`Place::start`] of each type (one dynamic
//! call per element) find the slot, check schema order and repeats on
//! its field index (integer compares) and place the element; the
//! [`ModelSink`](crate::ModelSink) goes to the reflection layer
//! ([`crate::node`]) only to report a slip with the reader's words.
//!
//! Slot layout: bits 0..8 the element's index in the type's
//! [`TypeDesc::fields`](crate::node::TypeDesc) table, bits 8..20 the slot
//! number (dense per type: one per element, one per choice alternative,
//! in schema order) that `put` and `open` match on, bits 20..23 the kind,
//! bit 23 set for a repeating element, and for primitives bits 24..28 the
//! primitive kind (its index in `PRIM_KINDS`) and bit 28 set when the
//! value is held as text (`Primitive<Str>`: trusted text is kept without
//! the lexical check); [`NONE`] for an unknown name.

use crate::node::Node;
use crate::primitive::{PrimKind, PrimNode, PrimValue, Primitive};
use crate::{Extension, Str};

pub(crate) use crate::generated::place::PRIM_KINDS;
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
    (s >> 20) & 0x7
}

/// Whether slot `s` is a repeating element.
#[inline]
pub(crate) fn many(s: u32) -> bool {
    s & (1 << 23) != 0
}

/// The primitive kind of a [`PRIM`] slot `s`.
#[inline]
pub(crate) fn prim_kind(s: u32) -> PrimKind {
    PRIM_KINDS[((s >> 24) & 0xf) as usize]
}

/// Whether the primitive of slot `s` holds its value as text (trusted
/// text needs no check: it is kept as given).
#[inline]
pub(crate) fn text_valued(s: u32) -> bool {
    s & (1 << 28) != 0
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

/// Why [`Place::set`] or [`Place::start`] placed nothing (the sink reports
/// it, or, for [`Miss::Slot`] and [`Miss::Bad`], goes on).
#[derive(Debug)]
pub(crate) enum Miss {
    /// Slot `s` ([`NONE`]: an unknown name) is not allowed at schema
    /// position `at` (the position before the call, left unchanged): an
    /// unknown element, a slip of schema order or a repeated single value.
    Order { s: u32, at: u32 },
    /// The element is not what the call places (`"a primitive"`, `"a
    /// complex element"`, `"an extension"`); the position has moved past it.
    Not(&'static str),
    /// [`Place::set`] of an attribute (`id` of an element, `Extension.url`):
    /// in FHIR XML it is an attribute, never an element, so the sink
    /// reports it as the reader reports an `<id>` / `<url>` element; the
    /// position has moved past it.
    Attr,
    /// [`Place::start`] of resource slot `field` (the calls that follow
    /// start resources); the position has moved past it.
    Slot(usize),
    /// [`Place::set`] of run-time text `v` that fails the lexical check of
    /// slot `s` (`expected`: the reader's words): nothing placed yet, the
    /// position has moved past it; the sink reports it and places it with
    /// [`Place::put`] as malformed, as the reader keeps it.
    Bad {
        s: u32,
        v: Str,
        expected: &'static str,
    },
}

/// The type tag of a generated type: a number of its own (distinct per
/// type, `cargo xtask codegen`), which [`Place::tag`] gives for a node
/// behind a `dyn Place` and the typed element constants of
/// [`crate::element`] carry for their owner: a node whose tag is `O::TAG`
/// is an `O`.
pub(crate) trait Tagged {
    /// The type's tag.
    const TAG: u16;
}

/// Element placement of a generated type (see the module docs). The
/// pointers handed out are derived from `&mut self` (see `model_sink::Open`
/// for why they stay valid while the sink uses them).
///
/// [`Place::set`] and [`Place::start`] are what the sink calls: one
/// dynamic call per element, whose body (this trait's default, compiled
/// for each generated type) inlines the type's own `find`, the reader's
/// order checks as integer compares, and its `put` / `open`.
pub(crate) trait Place: Node {
    /// The type's [`Tagged::TAG`].
    fn tag(&self) -> u16;
    /// The slot of element `name` ([`NONE`]: not an element of the type).
    fn find(&self, name: &str) -> u32;
    /// Sets the primitive or attribute of slot `s` (a [`PRIM`] or [`ATTR`]
    /// slot of [`Place::find`]; other slots are left alone) to `v`, `ok`
    /// when it passed the lexical check or is trusted (otherwise it is
    /// kept as the reader keeps a malformed value); returns the primitive.
    fn put(&mut self, s: u32, v: Str, ok: bool) -> Option<NonNull<dyn PrimNode>>;
    /// Adds the complex element of slot `s` (a [`COMPLEX`] slot) and
    /// returns it; an extension gets `url`. `None` when `url` is given for
    /// an element that is not an extension (or the slot is not complex).
    fn open(&mut self, s: u32, url: Option<&'static str>) -> Option<NonNull<dyn Place>>;

    /// Places primitive element `name` with value `v` after
    /// the schema position `at` (index + 1 of the last element written, 0:
    /// none), which moves to it: [`Place::find`], the reader's checks (a
    /// known name, not before the last element written, not a second
    /// single value), the lexical check of `v` when `checked` (run-time
    /// text) or when the value is not held as text, then [`Place::put`].
    /// An attribute (`id` of an element, `Extension.url`) is [`Miss::Attr`]:
    /// the sinks' names are element names (the extension's `url` comes
    /// with `start_extension`). Returns the primitive placed.
    #[inline]
    fn set(
        &mut self,
        name: &str,
        at: &mut u32,
        v: Str,
        checked: bool,
    ) -> Result<Option<NonNull<dyn PrimNode>>, Miss> {
        let s = self.find(name);
        step(s, at)?;
        let ok = match kind(s) {
            PRIM if checked || !text_valued(s) => match crate::lexical::check(prim_kind(s), &v) {
                Ok(()) => true,
                Err(expected) => return Err(Miss::Bad { s, v, expected }),
            },
            PRIM => true,
            ATTR => return Err(Miss::Attr),
            _ => return Err(Miss::Not("a primitive")),
        };
        Ok(self.put(s, v, ok))
    }

    /// Opens complex element `name` (an extension with `url` when given)
    /// after schema position `at`, which moves to it: [`Place::find`], the
    /// reader's checks (as [`Place::set`]), then [`Place::open`]. Returns
    /// the new child; a resource slot is [`Miss::Slot`].
    #[inline]
    fn start(
        &mut self,
        name: &str,
        at: &mut u32,
        url: Option<&'static str>,
    ) -> Result<NonNull<dyn Place>, Miss> {
        let s = self.find(name);
        step(s, at)?;
        match kind(s) {
            COMPLEX => {}
            RESOURCE if url.is_none() => return Err(Miss::Slot(field(s))),
            _ => return Err(Miss::Not("a complex element")),
        }
        self.open(s, url).ok_or(Miss::Not("an extension"))
    }
}

/// The reader's checks of slot `s` at schema position `at` as integer
/// compares (a known name, not before the last element written, not a
/// second single value); moves `at` past the element.
#[inline(always)]
fn step(s: u32, at: &mut u32) -> Result<(), Miss> {
    if fits(s, *at) {
        *at = field(s) as u32 + 1;
        Ok(())
    } else {
        Err(Miss::Order { s, at: *at })
    }
}

/// Whether slot `s` may come at schema position `at` (a known name, not
/// before the last element written, not a second single value): the
/// reader's order checks as integer compares.
#[inline(always)]
pub(crate) fn fits(s: u32, at: u32) -> bool {
    let i = field(s) as u32;
    s != NONE && at <= i + 1 && (at <= i || many(s))
}

/// Whether `v` passes the reader's lexical check of `kind`: a string's
/// (the most common kind of run-time text) inlined, where `kind` is a
/// constant of the typed fast path, the others through
/// [`crate::lexical::check`].
#[inline(always)]
pub(crate) fn lexical_ok(kind: PrimKind, v: &str) -> bool {
    match kind {
        PrimKind::String | PrimKind::Markdown => crate::lexical::is_string(v),
        _ => crate::lexical::check(kind, v).is_ok(),
    }
}

/// The primitive of text `v` as `kind`: its value when `ok` (checked or
/// trusted: `from_owned` cannot fail after `lexical::check`, which checks
/// what the parsers parse, ranges included), otherwise what the reader
/// keeps of a malformed form.
#[inline(always)]
pub(crate) fn prim_of<V: PrimValue>(kind: PrimKind, v: Str, ok: bool) -> Primitive<V> {
    let mut p = Primitive::<V>::default();
    p.value = if ok {
        V::from_owned(kind, v).ok()
    } else {
        V::keep_invalid(&v)
    };
    p
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

/// `slot.insert(x)` with the replaced value's drop out of line: a slot the
/// order checks admit is empty (a single value is placed once), so on the
/// placement's path there is nothing to drop, and the drop glue of the
/// slot's type (a primitive's id, extensions and value; a choice's every
/// alternative) is not expanded at every element write.
#[inline(always)]
pub(crate) fn fill<T>(slot: &mut Option<T>, x: T) -> &mut T {
    if slot.is_none() {
        slot.insert(x)
    } else {
        refill(slot, x)
    }
}

/// [`fill`] of a slot that holds a value: the value is replaced (the sink's
/// order checks refuse a second single value before placing it, so only
/// a direct [`Place::put`] / [`Place::open`] gets here).
#[cold]
#[inline(never)]
fn refill<T>(slot: &mut Option<T>, x: T) -> &mut T {
    slot.insert(x)
}

/// [`Place::put`] of a single-valued primitive.
#[inline]
pub(crate) fn put_one<V: PrimValue>(
    slot: &mut Option<Primitive<V>>,
    k: PrimKind,
    v: Str,
    ok: bool,
) -> Option<NonNull<dyn PrimNode>> {
    Some(prim_ptr(fill(slot, prim_of(k, v, ok))))
}

/// [`Place::put`] of a repeating primitive.
#[inline]
pub(crate) fn put_many<V: PrimValue>(
    list: &mut Vec<Primitive<V>>,
    k: PrimKind,
    v: Str,
    ok: bool,
) -> Option<NonNull<dyn PrimNode>> {
    reserve_first(list);
    list.push(prim_of(k, v, ok));
    list.last_mut().map(prim_ptr)
}

/// [`Place::put`] of an attribute (never malformed, never opened).
#[inline]
pub(crate) fn put_attr(slot: &mut Option<Str>, v: Str) -> Option<NonNull<dyn PrimNode>> {
    *slot = Some(v);
    None
}

/// [`Place::open`] of a single-valued complex element.
#[inline]
pub(crate) fn open_one<T: Place + Default + 'static>(slot: &mut Option<T>) -> NonNull<dyn Place> {
    place_ptr(fill(slot, T::default()))
}

/// [`Place::open`] of a single-valued complex element kept in a box.
#[inline]
pub(crate) fn open_boxed<T: Place + Default + 'static>(
    slot: &mut Option<Box<T>>,
) -> NonNull<dyn Place> {
    place_ptr(&mut **fill(slot, Box::default()))
}

/// [`Place::open`] of a repeating complex element.
#[inline]
pub(crate) fn open_many<T: Place + Default + 'static>(
    list: &mut Vec<T>,
) -> Option<NonNull<dyn Place>> {
    // `resize_with` (the growth of `push`): the new element is written in
    // place, not built aside and copied in
    reserve_first(list);
    list.resize_with(list.len() + 1, T::default);
    list.last_mut().map(place_ptr)
}

/// [`Place::open`] of a repeating extension element, with its `url`.
#[inline]
pub(crate) fn open_extension(
    list: &mut Vec<Extension>,
    url: Option<&'static str>,
) -> Option<NonNull<dyn Place>> {
    reserve_first(list);
    list.resize_with(list.len() + 1, || Extension {
        url: url.map(Str::const_new),
        ..Default::default()
    });
    list.last_mut().map(place_ptr)
}

/// Before a list of the model gets its first element: makes room
/// for as many elements as fit in [`FIRST_BLOCK`] bytes (at least one, at
/// most the four `Vec` would make room for): `Vec`'s four elements of a
/// large type (`Identifier`, `HumanName`, `Address`, `ContactPoint`) are a
/// block above glibc's thread cache (1 032 bytes), served by the slow bin
/// search; most lists of a message hold one or two elements.
///
/// The first block is allocated as a new `Vec` of that capacity (the
/// direct allocation; growing an empty `Vec` goes through `RawVec`'s
/// general growth path, ~60 instructions more per list).
#[inline(always)]
fn reserve_first<T>(list: &mut Vec<T>) {
    if list.capacity() == 0 {
        *list = Vec::with_capacity(first_room::<T>());
    }
}

/// Room made by a list's first push (see [`reserve_first`]).
const fn first_room<T>() -> usize {
    let size = std::mem::size_of::<T>();
    if size == 0 || size * 4 <= FIRST_BLOCK {
        4
    } else if size >= FIRST_BLOCK {
        1
    } else {
        FIRST_BLOCK / size
    }
}

/// Largest first block of a list, in bytes (measured, callgrind of
/// `prof_build` N=300: 193.7 M -> 190.7 M instructions; room for
/// exactly one large element instead made the two-address messages regrow).
const FIRST_BLOCK: usize = 1024;

#[cfg(test)]
mod tests {
    use super::*;

    /// A list's first push makes room for what fits in one block of
    /// [`FIRST_BLOCK`] bytes (one at least, four at most), then the list
    /// grows as `Vec` does.
    #[test]
    fn first_push_makes_room_within_one_block() {
        fn first<T: Default>() -> usize {
            let mut list: Vec<T> = Vec::new();
            reserve_first(&mut list);
            list.push(T::default());
            list.capacity()
        }
        let address = std::mem::size_of::<crate::Address>();
        assert!(address * 4 > FIRST_BLOCK && address * 2 <= FIRST_BLOCK);
        assert_eq!(first::<crate::Address>(), FIRST_BLOCK / address);
        assert_eq!(first::<[[u64; 32]; 4]>(), 1);
        assert!(first::<u64>() >= 4);
        let mut list: Vec<crate::Address> = Vec::new();
        for n in 1..=5 {
            reserve_first(&mut list);
            list.push(Default::default());
            assert!(list.capacity() >= n);
        }
    }
}
