//! Reflection layer between the generated model and the codecs.
//!
//! Every generated struct implements [`Node`]: a static [`TypeDesc`] lists
//! its elements in XML schema order, and [`Node::field_mut`] / [`Node::field`]
//! hand out one element slot at a time. The XML and JSON readers and writers
//! are written once against this trait, so the generated code stays small
//! (a struct, a table and two `match`es per type) and quick to compile.

use crate::primitive::{PrimKind, PrimNode};
use crate::Resource;

/// Static description of a complex type, resource or backbone element.
#[derive(Debug)]
pub struct TypeDesc {
    /// FHIR name (`Patient`, `HumanName`) or backbone path (`Bundle.entry`).
    pub name: &'static str,
    /// Elements in XML schema (`xs:sequence`) order.
    pub fields: &'static [FieldDesc],
    /// `true` for resources (their `id` is an element, they start a path).
    pub is_resource: bool,
}

/// Static description of one element of a [`TypeDesc`].
#[derive(Debug)]
pub struct FieldDesc {
    /// Element name; choice elements drop the `[x]` (`value`, `deceased`).
    pub name: &'static str,
    /// Minimum cardinality from the STU3 definitions.
    pub min: u32,
    /// `true` when the maximum cardinality is `*`.
    pub many: bool,
    /// What kind of value the element holds.
    pub kind: FieldKind,
    /// Allowed codes of a `code` element with a required binding to a core
    /// value set (empty when unbound or bound to a large/external value set).
    pub codes: &'static [&'static str],
    /// `false` when `codes` is only a prefix of the allowed codes (the STU3
    /// model truncates 14 lists): other values must not be rejected.
    pub codes_complete: bool,
}

/// The kind of value an element holds.
#[derive(Debug)]
pub enum FieldKind {
    /// An XML attribute in XML, a plain string property in JSON
    /// (`id` of datatypes and backbone elements, `Extension.url`).
    Attr,
    /// A FHIR primitive of the given kind.
    Prim(PrimKind),
    /// A complex datatype or backbone element (its FHIR type name).
    Complex(&'static str),
    /// A choice element (`value[x]`); the concrete names in schema order.
    Choice(&'static [ChoiceDesc]),
    /// A resource (`contained`, `Bundle.entry.resource`, `Parameters.parameter.resource`).
    Resource,
    /// `Narrative.div`: XHTML kept verbatim.
    Xhtml,
}

/// One alternative of a choice element.
#[derive(Debug)]
pub struct ChoiceDesc {
    /// Concrete element name, e.g. `valueQuantity`.
    pub name: &'static str,
    /// FHIR type name, e.g. `Quantity` or `dateTime`.
    pub type_name: &'static str,
    /// `Some` when the alternative is a primitive.
    pub prim: Option<PrimKind>,
}

/// Mutable access to one element slot of a [`Node`].
pub enum FieldMut<'a> {
    /// Attribute-like string (`id`, `Extension.url`).
    Attr(&'a mut Option<crate::Str>),
    /// Single-valued primitive.
    Prim(&'a mut dyn PrimOpt),
    /// Repeating primitive.
    PrimList(&'a mut dyn PrimVec),
    /// Single-valued complex element.
    One(&'a mut dyn NodeOpt),
    /// Repeating complex element.
    Many(&'a mut dyn NodeVec),
    /// Choice element.
    Choice(&'a mut dyn ChoiceSlot),
    /// Single resource.
    Resource(&'a mut Option<Resource>),
    /// Repeating resources (`contained`).
    Resources(&'a mut Vec<Resource>),
    /// XHTML (`Narrative.div`).
    Xhtml(&'a mut Option<String>),
}

/// Shared access to one element slot of a [`Node`].
pub enum FieldRef<'a> {
    /// Attribute-like string.
    Attr(Option<&'a str>),
    /// Single-valued primitive.
    Prim(Option<&'a dyn PrimNode>),
    /// Repeating primitive.
    PrimList(&'a dyn PrimVec),
    /// Single-valued complex element.
    One(Option<&'a dyn Node>),
    /// Repeating complex element.
    Many(&'a dyn NodeVec),
    /// Choice element: the index of the alternative in the [`ChoiceDesc`] list and its value.
    Choice(Option<(usize, ChoiceRef<'a>)>),
    /// Single resource.
    Resource(Option<&'a Resource>),
    /// Repeating resources.
    Resources(&'a [Resource]),
    /// XHTML.
    Xhtml(Option<&'a str>),
}

/// A generated type that the codecs can read into and write from.
pub trait Node: std::fmt::Debug {
    /// The static description of this type.
    fn desc(&self) -> &'static TypeDesc;
    /// Mutable slot of element `i` of [`TypeDesc::fields`].
    ///
    /// # Panics
    /// When `i >= desc().fields.len()` (a caller bug: the codecs only use
    /// indices taken from the table, never from input).
    fn field_mut(&mut self, i: usize) -> FieldMut<'_>;
    /// Shared slot of element `i` of [`TypeDesc::fields`].
    fn field(&self, i: usize) -> FieldRef<'_>;
    /// Bit `i` is set when element `i` holds something (a present value or
    /// a non-empty list). Walkers use it to visit only the elements a
    /// value has instead of asking for every slot of the table; generated
    /// types compute it in one branch-free pass.
    fn present(&self) -> u128 {
        let mut m = 0u128;
        for i in 0..self.desc().fields.len().min(128) {
            if is_present(&self.field(i)) {
                m |= 1 << i;
            }
        }
        m
    }
}

/// Whether a slot holds something (see [`Node::present`]).
pub fn is_present(f: &FieldRef<'_>) -> bool {
    match f {
        FieldRef::Attr(v) | FieldRef::Xhtml(v) => v.is_some(),
        FieldRef::Prim(p) => p.is_some(),
        FieldRef::PrimList(v) => !v.is_empty(),
        FieldRef::One(v) => v.is_some(),
        FieldRef::Many(v) => !v.is_empty(),
        FieldRef::Choice(v) => v.is_some(),
        FieldRef::Resource(v) => v.is_some(),
        FieldRef::Resources(v) => !v.is_empty(),
    }
}

/// The elements of `n` that hold something, in schema order, with their
/// descriptions (iterates the bits of [`Node::present`]).
///
/// ```
/// use ems_stu3::{node::{present_fields, Node}, Patient, Primitive};
/// let p = Patient { gender: Some(Primitive::from("female")), ..Default::default() };
/// let names: Vec<_> = present_fields(&p).map(|(_, f)| f.name).collect();
/// assert_eq!(names, ["gender"]);
/// ```
pub fn present_fields(n: &dyn Node) -> impl Iterator<Item = (usize, &'static FieldDesc)> {
    let fields = n.desc().fields;
    let mut m = n.present();
    std::iter::from_fn(move || {
        if m == 0 {
            return None;
        }
        let i = m.trailing_zeros() as usize;
        m &= m - 1;
        fields.get(i).map(|f| (i, f))
    })
}

/// A single-valued complex slot (`Option<T>` or `Option<Box<T>>`).
pub trait NodeOpt {
    /// Returns the value, creating a default one if absent.
    fn get_or_insert(&mut self) -> &mut dyn Node;
    /// Returns the value if present.
    fn get(&self) -> Option<&dyn Node>;
}

/// A repeating complex slot (`Vec<T>`).
pub trait NodeVec {
    /// Appends a default value and returns it.
    fn push_default(&mut self) -> &mut dyn Node;
    /// Number of items.
    fn len(&self) -> usize;
    /// `true` when there are no items.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Item `i`.
    fn get(&self, i: usize) -> Option<&dyn Node>;
    /// The last item, mutably (the one a writer is filling).
    fn last_mut(&mut self) -> Option<&mut dyn Node>;
}

/// A single-valued primitive slot.
pub trait PrimOpt {
    /// Returns the primitive, creating an empty one if absent.
    fn get_or_insert(&mut self) -> &mut dyn PrimNode;
    /// Returns the primitive if present.
    fn get(&self) -> Option<&dyn PrimNode>;
}

/// A repeating primitive slot.
pub trait PrimVec {
    /// Appends an empty primitive and returns it.
    fn push_default(&mut self) -> &mut dyn PrimNode;
    /// Returns item `i`, growing the list with empty primitives if needed
    /// (JSON `name`/`_name` arrays are aligned by index).
    fn ensure(&mut self, i: usize) -> &mut dyn PrimNode;
    /// Number of items.
    fn len(&self) -> usize;
    /// `true` when there are no items.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Item `i`.
    fn get(&self, i: usize) -> Option<&dyn PrimNode>;
}

/// Mutable access to the value of a choice alternative.
pub enum ChoiceMut<'a> {
    /// Primitive alternative.
    Prim(&'a mut dyn PrimNode),
    /// Complex alternative.
    Node(&'a mut dyn Node),
}

/// Shared access to the value of a choice alternative.
pub enum ChoiceRef<'a> {
    /// Primitive alternative.
    Prim(&'a dyn PrimNode),
    /// Complex alternative.
    Node(&'a dyn Node),
}

/// A generated choice enum (`ExtensionValue`, `PatientDeceased`, ...).
pub trait Choice {
    /// Creates the default value of alternative `i` (index into the [`ChoiceDesc`] list).
    fn new_variant(i: usize) -> Option<Self>
    where
        Self: Sized;
    /// Mutable access to the current alternative's value.
    fn value_mut(&mut self) -> ChoiceMut<'_>;
    /// Index of the current alternative and shared access to its value.
    fn value(&self) -> (usize, ChoiceRef<'_>);
}

/// A single-valued choice slot (`Option<E>` for a generated choice enum `E`).
pub trait ChoiceSlot {
    /// Replaces the slot with a default value of alternative `i` and returns it.
    fn set_variant(&mut self, i: usize) -> Option<ChoiceMut<'_>>;
    /// The current alternative, if any.
    fn get(&self) -> Option<(usize, ChoiceRef<'_>)>;
    /// Mutable access to the current alternative, if any.
    fn get_mut(&mut self) -> Option<ChoiceMut<'_>>;
    /// `true` when a value is present.
    fn is_set(&self) -> bool {
        self.get().is_some()
    }
}

impl<T: Node + Default> NodeOpt for Option<T> {
    fn get_or_insert(&mut self) -> &mut dyn Node {
        self.get_or_insert_with(T::default)
    }
    fn get(&self) -> Option<&dyn Node> {
        self.as_ref().map(|v| v as &dyn Node)
    }
}

impl<T: Node + ?Sized> Node for Box<T> {
    fn desc(&self) -> &'static TypeDesc {
        (**self).desc()
    }
    fn field_mut(&mut self, i: usize) -> FieldMut<'_> {
        (**self).field_mut(i)
    }
    fn field(&self, i: usize) -> FieldRef<'_> {
        (**self).field(i)
    }
}

impl<T: Node + Default> NodeVec for Vec<T> {
    fn push_default(&mut self) -> &mut dyn Node {
        self.push(T::default());
        let last = self.len() - 1;
        &mut self[last]
    }
    fn len(&self) -> usize {
        Vec::len(self)
    }
    fn get(&self, i: usize) -> Option<&dyn Node> {
        self.as_slice().get(i).map(|v| v as &dyn Node)
    }
    fn last_mut(&mut self) -> Option<&mut dyn Node> {
        self.as_mut_slice().last_mut().map(|v| v as &mut dyn Node)
    }
}

impl<E: Choice> ChoiceSlot for Option<E> {
    fn set_variant(&mut self, i: usize) -> Option<ChoiceMut<'_>> {
        *self = Some(E::new_variant(i)?);
        self.as_mut().map(|e| e.value_mut())
    }
    fn get(&self) -> Option<(usize, ChoiceRef<'_>)> {
        self.as_ref().map(|e| e.value())
    }
    fn get_mut(&mut self) -> Option<ChoiceMut<'_>> {
        self.as_mut().map(|e| e.value_mut())
    }
}

/// Equality of two short strings (element names) without a library call:
/// length and first byte first, then the bytes.
#[inline]
pub(crate) fn short_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.first() == b.first() && a.iter().zip(b).all(|(x, y)| x == y)
}

/// Finds the element called `name` in `desc`, trying index `hint` first
/// (elements normally arrive in schema order; any `hint` is accepted, one
/// past the table's end starts at 0). Returns the field index and, for
/// choice elements, the alternative index.
#[inline]
pub fn find_field(desc: &TypeDesc, name: &str, hint: usize) -> Option<(usize, Option<usize>)> {
    let fields = desc.fields;
    let n = fields.len();
    // a hint past the end (any usize is accepted) starts the scan at 0
    let hint = if hint < n { hint } else { 0 };
    for k in 0..n {
        let i = if hint + k < n { hint + k } else { hint + k - n };
        let f = &fields[i];
        match &f.kind {
            FieldKind::Choice(alts) => {
                if name.len() > f.name.len()
                    && short_eq(&name.as_bytes()[..f.name.len()], f.name.as_bytes())
                {
                    if let Some(a) = alts
                        .iter()
                        .position(|a| short_eq(a.name.as_bytes(), name.as_bytes()))
                    {
                        return Some((i, Some(a)));
                    }
                }
            }
            _ => {
                if short_eq(f.name.as_bytes(), name.as_bytes()) {
                    return Some((i, None));
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::find_field;

    /// Regression (found by branch valtab): a hint of twice the table's
    /// length or more indexed past its end and panicked.
    #[test]
    fn find_field_accepts_any_hint() {
        let d = &crate::CODING_DESC;
        let n = d.fields.len();
        let code = find_field(d, "code", 0);
        assert!(code.is_some());
        for hint in [n - 1, n, 2 * n, 2 * n + 1, usize::MAX] {
            assert_eq!(find_field(d, "code", hint), code, "hint {hint}");
            assert_eq!(find_field(d, "nope", hint), None, "hint {hint}");
        }
    }
}
