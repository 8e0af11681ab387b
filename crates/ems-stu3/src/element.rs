//! Typed element constants: what an [`ElementSink`](crate::ElementSink)
//! call names.
//!
//! `cargo xtask codegen` gives every generated type one associated
//! constant per element (`generated/elements.rs`): `Patient::NAME` is a
//! [`Complex<Patient, HumanName>`](Complex), `Patient::GENDER` a
//! [`Prim<Patient>`](Prim), `Observation::VALUE_CODEABLE_CONCEPT` a
//! `Complex<Observation, CodeableConcept>`, `BundleEntry::RESOURCE` a
//! `Complex<BundleEntry, Resource>` (a resource slot); every resource type
//! has its [`Res`] (`Patient::RESOURCE`). A constant carries the element
//! name (what [`XmlStream`](crate::xml::XmlStream) writes) and where the
//! element lives in its owner's model (its slot and the owner's type):
//! [`ModelSink`](crate::ModelSink) places an element of the very type it
//! has open straight into its field (the order check and the field write,
//! no name lookup), and any other element by name, exactly as the reader
//! would (so a describer's slip is reported with the reader's rule and
//! words, whichever constant it used).
//!
//! The types also make the describer's shape checked by the compiler: a
//! helper that writes a Coding takes a `Complex<O, Coding>`, for any owner
//! `O`.
//!
//! An element known only by its name (a producer that does not know the
//! types statically, or a test of a slip) is [`Complex::named`] /
//! [`Prim::named`]: placed by name.

use crate::place::{Place, Tagged};
use crate::primitive::PrimNode;
use crate::{Extension, Resource, Str};
use std::marker::PhantomData;
use std::ptr::NonNull;

/// The owner of an element given by name only ([`Complex::named`],
/// [`Prim::named`]); it has no values.
#[derive(Debug)]
pub enum Untyped {}

/// The owner tag of a constant placed by name (no node has it).
pub(crate) const BY_NAME: u16 = u16::MAX;

/// The slot of a constant placed by name (see `place::NONE`).
const NO_SLOT: u32 = u32::MAX;

/// `O`'s generated placement of the complex element of a slot
/// (`Place::open`).
pub(crate) type OpenFn<O> = fn(&mut O, u32, Option<&'static str>) -> Option<NonNull<dyn Place>>;

/// `O`'s generated placement of the primitive of a slot (`Place::put`).
pub(crate) type PutFn<O> = fn(&mut O, u32, Str, bool) -> Option<NonNull<dyn PrimNode>>;

/// Complex element of `O` whose content is a `C` (a datatype, a backbone
/// element, an extension, a choice alternative), or a resource slot (`C`
/// is [`Resource`]). See the [module docs](self).
pub struct Complex<O, C> {
    /// The element name (`valueCodeableConcept` for a choice alternative).
    pub(crate) name: &'static str,
    /// Its slot in `O` (see `place`).
    pub(crate) slot: u32,
    /// The type tag of `O` ([`BY_NAME`]: placed by name).
    pub(crate) owner: u16,
    /// `O`'s generated placement of a complex element of a slot.
    pub(crate) open: OpenFn<O>,
    content: PhantomData<fn() -> C>,
}

/// Primitive element of `O` (a primitive choice alternative too). See the
/// [module docs](self).
pub struct Prim<O> {
    /// The element name (`valueDateTime` for a choice alternative).
    pub(crate) name: &'static str,
    /// Its slot in `O` (see `place`).
    pub(crate) slot: u32,
    /// The type tag of `O` ([`BY_NAME`]: placed by name).
    pub(crate) owner: u16,
    /// `O`'s generated placement of a primitive of a slot.
    pub(crate) put: PutFn<O>,
}

/// Resource type `R` (what a resource slot holds): its name and its `id`.
pub struct Res<R> {
    /// The resource type name.
    pub(crate) name: &'static str,
    /// `R.id`.
    pub(crate) id: Prim<R>,
    /// A new empty `R` (`None`: found by name).
    pub(crate) new: Option<fn() -> Resource>,
}

/// The constant of element `name` of generated type `O` in `slot` (its
/// owner tag is `O`'s: the type system ties the tag, the type and its
/// placement together).
pub(crate) const fn typed_complex<O: Tagged, C>(
    name: &'static str,
    slot: u32,
    open: OpenFn<O>,
) -> Complex<O, C> {
    Complex {
        name,
        slot,
        owner: O::TAG,
        open,
        content: PhantomData,
    }
}

/// The constant of primitive element `name` of generated type `O` in
/// `slot` (see [`typed_complex`]).
pub(crate) const fn typed_prim<O: Tagged>(name: &'static str, slot: u32, put: PutFn<O>) -> Prim<O> {
    Prim {
        name,
        slot,
        owner: O::TAG,
        put,
    }
}

impl<O, C> Complex<O, C> {
    /// The element name.
    pub const fn name(&self) -> &'static str {
        self.name
    }
}

impl<C> Complex<Untyped, C> {
    /// Complex element `name`, placed by name (see the [module docs](self)).
    pub const fn named(name: &'static str) -> Self {
        Complex {
            name,
            slot: NO_SLOT,
            owner: BY_NAME,
            open: untyped_open,
            content: PhantomData,
        }
    }
}

impl<O> Prim<O> {
    /// The element name.
    pub const fn name(&self) -> &'static str {
        self.name
    }
}

impl Prim<Untyped> {
    /// Primitive element `name`, placed by name (see the [module docs](self)).
    pub const fn named(name: &'static str) -> Self {
        Prim {
            name,
            slot: NO_SLOT,
            owner: BY_NAME,
            put: untyped_put,
        }
    }
}

impl Res<Untyped> {
    /// Resource type `name`, placed by name (its `id` too; see the
    /// [module docs](self)).
    pub const fn named(name: &'static str) -> Self {
        Res {
            name,
            id: Prim::named("id"),
            new: None,
        }
    }
}

impl<R> Res<R> {
    /// The resource type name.
    pub const fn name(&self) -> &'static str {
        self.name
    }
    /// The resource's `id` element.
    pub const fn id(&self) -> Prim<R> {
        self.id
    }
}

/// An extension of a primitive opened with
/// [`ElementSink::start_value`](crate::ElementSink::start_value) (placed by
/// name: a primitive has no generated type).
pub const PRIMITIVE_EXTENSION: Complex<Untyped, Extension> = Complex::named("extension");

fn untyped_open(o: &mut Untyped, _: u32, _: Option<&'static str>) -> Option<NonNull<dyn Place>> {
    match *o {}
}

fn untyped_put(o: &mut Untyped, _: u32, _: Str, _: bool) -> Option<NonNull<dyn PrimNode>> {
    match *o {}
}

/// What names an element or a resource: the constants of this module (and
/// a `&'static str` name), for the calls that only need the name
/// ([`ElementSink::end`](crate::ElementSink::end)).
pub trait Named: Copy {
    /// The element (or resource type) name.
    fn name(self) -> &'static str;
}

impl<O, C> Named for Complex<O, C> {
    #[inline(always)]
    fn name(self) -> &'static str {
        self.name
    }
}

impl<O> Named for Prim<O> {
    #[inline(always)]
    fn name(self) -> &'static str {
        self.name
    }
}

impl<R> Named for Res<R> {
    #[inline(always)]
    fn name(self) -> &'static str {
        self.name
    }
}

impl Named for &'static str {
    #[inline(always)]
    fn name(self) -> &'static str {
        self
    }
}

// `derive` would ask `O: Clone`: the constants are copied whatever their
// owner (a name, numbers and a function pointer).
impl<O, C> Clone for Complex<O, C> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<O, C> Copy for Complex<O, C> {}
impl<O> Clone for Prim<O> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<O> Copy for Prim<O> {}
impl<R> Clone for Res<R> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<R> Copy for Res<R> {}

impl<O, C> std::fmt::Debug for Complex<O, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Complex").field(&self.name).finish()
    }
}
impl<O> std::fmt::Debug for Prim<O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Prim").field(&self.name).finish()
    }
}
impl<R> std::fmt::Debug for Res<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Res").field(&self.name).finish()
    }
}
