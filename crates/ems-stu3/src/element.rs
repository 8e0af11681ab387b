//! Typed element constants: what an [`ElementSink`](crate::ElementSink)
//! call names.
//!
//! `cargo xtask codegen` gives every generated type one associated
//! constant per element (`generated/elements.rs`): `Patient::NAME` is a
//! [`Complex<HumanName>`](Complex), `Patient::GENDER` a [`Prim`],
//! `Observation::VALUE_CODEABLE_CONCEPT` a `Complex<CodeableConcept>`,
//! `BundleEntry::RESOURCE` a `Complex<Resource>` (a resource slot); every
//! resource type has its [`Res`] (`Patient::RESOURCE_TYPE`). A constant carries the element
//! name (what [`XmlStream`](crate::xml::XmlStream) writes) and where the
//! element lives in its owner's model (its slot and the owner's type):
//! [`ModelSink`](crate::ModelSink) places an element of the very type it
//! has open straight into its field (the order check and the field write,
//! no name lookup), and any other element by name, exactly as the reader
//! would (so a describer's slip is reported with the reader's rule and
//! words, whichever constant it used).
//!
//! The content type makes the describer's shape checked by the compiler:
//! a helper that writes a Coding takes a `Complex<Coding>`, whatever the
//! owner (which is run-time data: a constant of another type than the
//! open node is placed by name, so its slip is reported as the reader
//! would, and the helper is compiled once for all owners).
//!
//! An element known only by its name (a producer that does not know the
//! types statically, or a test of a slip) is [`Complex::named`] /
//! [`Prim::named`]: placed by name.

use crate::model_sink::{open_of, put_of};
use crate::place::{Place, Tagged};
use crate::primitive::PrimNode;
use crate::{Extension, Resource, Str};
use std::marker::PhantomData;
use std::ptr::NonNull;

/// The content of an element given by name whose type the caller does not
/// state ([`Complex::named`]); it has no values.
#[derive(Debug)]
pub enum Untyped {}

/// The owner tag of a constant placed by name (no node has it).
pub(crate) const BY_NAME: u16 = u16::MAX;

/// The slot of a constant placed by name (see `place::NONE`).
const NO_SLOT: u32 = u32::MAX;

/// The owner's generated placement of the complex element of a slot
/// (`Place::open` of the owner type behind the pointer; see
/// `model_sink::open_of` for its contract).
pub(crate) type OpenFn =
    unsafe fn(NonNull<()>, u32, Option<&'static str>) -> Option<NonNull<dyn Place>>;

/// The owner's generated placement of the primitive of a slot
/// (`Place::put`; see `model_sink::put_of`).
pub(crate) type PutFn = unsafe fn(NonNull<()>, u32, Str, bool) -> Option<NonNull<dyn PrimNode>>;

/// Complex element whose content is a `C` (a datatype, a backbone element,
/// an extension, a choice alternative), or a resource slot (`C` is
/// [`Resource`]). Its owner type is data (a tag), not a type parameter:
/// a describer's helper that writes a Coding takes a `Complex<Coding>`
/// and is compiled once whatever the owner. See the [module docs](self).
pub struct Complex<C> {
    /// The element name (`valueCodeableConcept` for a choice alternative).
    pub(crate) name: &'static str,
    /// Its slot in its owner (see `place`).
    pub(crate) slot: u32,
    /// The type tag of its owner ([`BY_NAME`]: placed by name).
    pub(crate) owner: u16,
    /// The owner's placement of a complex element of a slot.
    pub(crate) open: OpenFn,
    content: PhantomData<fn() -> C>,
}

/// Primitive element (a primitive choice alternative too). See the
/// [module docs](self).
#[derive(Clone, Copy)]
pub struct Prim {
    /// The element name (`valueDateTime` for a choice alternative).
    pub(crate) name: &'static str,
    /// Its slot in its owner (see `place`).
    pub(crate) slot: u32,
    /// The type tag of its owner ([`BY_NAME`]: placed by name).
    pub(crate) owner: u16,
    /// The owner's placement of a primitive of a slot.
    pub(crate) put: PutFn,
}

/// Resource type (what a resource slot holds): its name and its `id`.
#[derive(Clone, Copy)]
pub struct Res {
    /// The resource type name.
    pub(crate) name: &'static str,
    /// The resource's `id`.
    pub(crate) id: Prim,
    /// A new empty resource of the type (`None`: found by name).
    pub(crate) new: Option<fn() -> Resource>,
}

/// The constant of element `name` of generated type `O` in `slot`: its
/// owner tag and its placement are both `O`'s (the type parameter ties
/// them together: a node whose tag is the constant's is an `O`, which
/// `open_of::<O>` places into).
pub(crate) const fn typed_complex<O: Place + Tagged, C>(
    name: &'static str,
    slot: u32,
) -> Complex<C> {
    Complex {
        name,
        slot,
        owner: O::TAG,
        open: open_of::<O>,
        content: PhantomData,
    }
}

/// The constant of primitive element `name` of generated type `O` in
/// `slot` (see [`typed_complex`]).
pub(crate) const fn typed_prim<O: Place + Tagged>(name: &'static str, slot: u32) -> Prim {
    Prim {
        name,
        slot,
        owner: O::TAG,
        put: put_of::<O>,
    }
}

impl<C> Complex<C> {
    /// The element name.
    pub const fn name(&self) -> &'static str {
        self.name
    }

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

impl Prim {
    /// The element name.
    pub const fn name(&self) -> &'static str {
        self.name
    }

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

impl Res {
    /// Resource type `name`, placed by name (its `id` too; see the
    /// [module docs](self)).
    pub const fn named(name: &'static str) -> Self {
        Res {
            name,
            id: Prim::named("id"),
            new: None,
        }
    }

    /// The resource type name.
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// The resource's `id` element.
    pub const fn id(&self) -> Prim {
        self.id
    }
}

/// An extension of a primitive opened with
/// [`ElementSink::start_value`](crate::ElementSink::start_value) (placed by
/// name: a primitive has no generated type).
pub const PRIMITIVE_EXTENSION: Complex<Extension> = Complex::named("extension");

/// The placement of a constant given by name: never called (no node has
/// its owner tag, [`BY_NAME`]).
fn untyped_open(_: NonNull<()>, _: u32, _: Option<&'static str>) -> Option<NonNull<dyn Place>> {
    None
}

/// See [`untyped_open`].
fn untyped_put(_: NonNull<()>, _: u32, _: Str, _: bool) -> Option<NonNull<dyn PrimNode>> {
    None
}

/// What names an element or a resource: the constants of this module (and
/// a `&'static str` name), for the calls that only need the name
/// ([`ElementSink::end`](crate::ElementSink::end)).
pub trait Named: Copy {
    /// The element (or resource type) name.
    fn name(self) -> &'static str;
}

impl<C> Named for Complex<C> {
    #[inline(always)]
    fn name(self) -> &'static str {
        self.name
    }
}

impl Named for Prim {
    #[inline(always)]
    fn name(self) -> &'static str {
        self.name
    }
}

impl Named for Res {
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

// `derive` would ask `C: Clone`: the constant is copied whatever its
// content type (a name, numbers and a function pointer).
impl<C> Clone for Complex<C> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<C> Copy for Complex<C> {}

impl<C> std::fmt::Debug for Complex<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Complex").field(&self.name).finish()
    }
}
impl std::fmt::Debug for Prim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Prim").field(&self.name).finish()
    }
}
impl std::fmt::Debug for Res {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Res").field(&self.name).finish()
    }
}
