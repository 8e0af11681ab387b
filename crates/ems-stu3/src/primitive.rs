//! FHIR primitive values.
//!
//! A primitive element carries an optional value, an optional element `id`
//! and any number of extensions; a primitive may have extensions and no
//! value. Values keep their lexical form where FHIR gives it meaning:
//! decimals keep trailing zeros (`1.50`), dates and date-times keep their
//! precision (`2019`, `2019-10`, `2019-10-02T12:00:00+01:00`).

use crate::lexical;
use crate::Extension;
use std::fmt;

/// The string type of string-valued primitives (`string`, `uri`, `code`,
/// `id`, `dateTime`, ...): a [`compact_str::CompactString`], 24 bytes like
/// `String`, that keeps values of up to 24 bytes inline and can refer to a
/// `&'static str` without copying it ([`Str::const_new`]). It derefs to
/// `str`, compares with `&str` and `String`, and converts from both.
///
/// ```
/// use ems_stu3::Str;
/// let code = Str::from("female");
/// assert_eq!(code, "female");
/// let system = Str::const_new("https://fhir.nhs.uk/Id/nhs-number");
/// assert_eq!(system.as_static_str(), Some("https://fhir.nhs.uk/Id/nhs-number"));
/// ```
pub type Str = compact_str::CompactString;

/// The FHIR primitive type of an element, used to validate lexical forms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PrimKind {
    /// `boolean`
    Boolean,
    /// `integer` (32-bit signed)
    Integer,
    /// `positiveInt` (1 ..= 2^31-1)
    PositiveInt,
    /// `unsignedInt` (0 ..= 2^31-1)
    UnsignedInt,
    /// `decimal`, lexical form kept
    Decimal,
    /// `string`
    String,
    /// `uri`
    Uri,
    /// `code`
    Code,
    /// `id`
    Id,
    /// `oid`
    Oid,
    /// `markdown`
    Markdown,
    /// `base64Binary`
    Base64Binary,
    /// `date`
    Date,
    /// `dateTime`
    DateTime,
    /// `instant`
    Instant,
    /// `time`
    Time,
}

impl PrimKind {
    /// The FHIR type name (`dateTime`, `positiveInt`, ...).
    pub fn fhir_name(self) -> &'static str {
        match self {
            PrimKind::Boolean => "boolean",
            PrimKind::Integer => "integer",
            PrimKind::PositiveInt => "positiveInt",
            PrimKind::UnsignedInt => "unsignedInt",
            PrimKind::Decimal => "decimal",
            PrimKind::String => "string",
            PrimKind::Uri => "uri",
            PrimKind::Code => "code",
            PrimKind::Id => "id",
            PrimKind::Oid => "oid",
            PrimKind::Markdown => "markdown",
            PrimKind::Base64Binary => "base64Binary",
            PrimKind::Date => "date",
            PrimKind::DateTime => "dateTime",
            PrimKind::Instant => "instant",
            PrimKind::Time => "time",
        }
    }

    /// How the value is written in JSON.
    pub fn json_kind(self) -> JsonKind {
        match self {
            PrimKind::Boolean => JsonKind::Bool,
            PrimKind::Integer
            | PrimKind::PositiveInt
            | PrimKind::UnsignedInt
            | PrimKind::Decimal => JsonKind::Number,
            _ => JsonKind::String,
        }
    }

    /// Checks a lexical form against the STU3 rules for this type.
    /// Returns a short description of the expected form on failure.
    pub fn check(self, s: &str) -> Result<(), &'static str> {
        lexical::check(self, s)
    }
}

/// JSON representation of a primitive value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JsonKind {
    /// `true` / `false`
    Bool,
    /// a JSON number
    Number,
    /// a JSON string
    String,
}

/// A decimal kept in its lexical form (`1.50` stays `1.50`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct DecimalValue(Str);

impl DecimalValue {
    /// Creates a decimal from its lexical form, checking it.
    pub fn parse(s: &str) -> Result<Self, &'static str> {
        lexical::check(PrimKind::Decimal, s)?;
        Ok(DecimalValue(Str::from(s)))
    }
    /// The lexical form.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The value as `f64` (may lose precision).
    pub fn to_f64(&self) -> f64 {
        self.0.parse().unwrap_or(f64::NAN)
    }
}

impl fmt::Display for DecimalValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<i64> for DecimalValue {
    fn from(v: i64) -> Self {
        DecimalValue(compact_str::ToCompactString::to_compact_string(&v))
    }
}

/// A value type that can sit inside a [`Primitive`].
pub trait PrimValue: Clone + fmt::Debug + PartialEq + Default + 'static {
    /// Parses a lexical form already checked by [`PrimKind::check`].
    /// `Err` keeps nothing (the value cannot be represented).
    fn from_lexical(kind: PrimKind, s: &str) -> Result<Self, &'static str>;
    /// Builds a value from a lexical form that failed the check, when the
    /// type can keep it (strings and decimals do; numbers and booleans cannot).
    fn keep_invalid(s: &str) -> Option<Self>;
    /// [`PrimValue::from_lexical`] of a literal: string-backed values refer
    /// to it instead of copying it.
    fn from_static(kind: PrimKind, s: &'static str) -> Result<Self, &'static str> {
        Self::from_lexical(kind, s)
    }
    /// [`PrimValue::from_lexical`] of text the caller already holds as a
    /// [`Str`]: string-backed values take it without copying. `Err` hands
    /// the text back.
    fn from_owned(kind: PrimKind, s: Str) -> Result<Self, (Str, &'static str)> {
        Self::from_lexical(kind, &s).map_err(|e| (s, e))
    }
    /// Appends the lexical form.
    fn write_lexical(&self, out: &mut String);
    /// The value as text without copying, for string-backed values.
    fn as_str(&self) -> Option<&str> {
        None
    }
}

impl PrimValue for Str {
    fn from_lexical(_: PrimKind, s: &str) -> Result<Self, &'static str> {
        Ok(Str::from(s))
    }
    fn from_static(_: PrimKind, s: &'static str) -> Result<Self, &'static str> {
        Ok(Str::const_new(s))
    }
    fn from_owned(_: PrimKind, s: Str) -> Result<Self, (Str, &'static str)> {
        Ok(s)
    }
    fn keep_invalid(s: &str) -> Option<Self> {
        Some(Str::from(s))
    }
    fn write_lexical(&self, out: &mut String) {
        out.push_str(self)
    }
    fn as_str(&self) -> Option<&str> {
        Some(self)
    }
}

impl PrimValue for bool {
    fn from_lexical(_: PrimKind, s: &str) -> Result<Self, &'static str> {
        match s {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err("`true` or `false`"),
        }
    }
    fn keep_invalid(_: &str) -> Option<Self> {
        None
    }
    fn write_lexical(&self, out: &mut String) {
        out.push_str(if *self { "true" } else { "false" })
    }
}

impl PrimValue for i32 {
    fn from_lexical(_: PrimKind, s: &str) -> Result<Self, &'static str> {
        s.parse().map_err(|_| "a 32-bit integer")
    }
    fn keep_invalid(_: &str) -> Option<Self> {
        None
    }
    fn write_lexical(&self, out: &mut String) {
        use fmt::Write;
        let _ = write!(out, "{self}");
    }
}

impl PrimValue for u32 {
    fn from_lexical(_: PrimKind, s: &str) -> Result<Self, &'static str> {
        s.trim_start_matches('+')
            .parse()
            .map_err(|_| "a non-negative 32-bit integer")
    }
    fn keep_invalid(_: &str) -> Option<Self> {
        None
    }
    fn write_lexical(&self, out: &mut String) {
        use fmt::Write;
        let _ = write!(out, "{self}");
    }
}

impl PrimValue for DecimalValue {
    fn from_lexical(_: PrimKind, s: &str) -> Result<Self, &'static str> {
        Ok(DecimalValue(Str::from(s)))
    }
    fn from_owned(_: PrimKind, s: Str) -> Result<Self, (Str, &'static str)> {
        Ok(DecimalValue(s))
    }
    fn keep_invalid(s: &str) -> Option<Self> {
        Some(DecimalValue(Str::from(s)))
    }
    fn write_lexical(&self, out: &mut String) {
        out.push_str(&self.0)
    }
    fn as_str(&self) -> Option<&str> {
        Some(&self.0)
    }
}

/// A FHIR primitive element: value, element id and extensions.
///
/// The value is a public field; the element id and the extensions, which
/// few primitives carry, live behind one optional box so that a primitive
/// is small (32 bytes for strings) — the model holds thousands of them.
///
/// ```
/// use ems_stu3::{Date, Extension, ExtensionValue, Primitive};
/// let mut d: Date = Primitive::new("2019-10".to_string());
/// assert_eq!(d.value.as_deref(), Some("2019-10"));
/// assert!(d.extension().is_empty() && d.id().is_none());
/// d.set_id(Some("d1".into()));
/// d.extension_mut().push(Extension::new("http://example.org/x", ExtensionValue::Boolean(true.into())));
/// assert_eq!((d.id(), d.extension().len()), (Some("d1"), 1));
/// ```
#[derive(Clone, Debug, Default)]
pub struct Primitive<V> {
    /// The value; `None` when the primitive only carries extensions.
    pub value: Option<V>,
    extra: Option<Box<PrimExtra>>,
}

/// The rarely present parts of a primitive.
#[derive(Clone, Debug, Default)]
struct PrimExtra {
    id: Option<String>,
    extension: Vec<Extension>,
}

impl<V: PartialEq> PartialEq for Primitive<V> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
            && self.id() == other.id()
            && self.extension() == other.extension()
    }
}

impl<V> Primitive<V> {
    /// A primitive with a value and nothing else.
    pub fn new(value: impl Into<V>) -> Self {
        Primitive {
            value: Some(value.into()),
            extra: None,
        }
    }
    /// The value, if any.
    pub fn value(&self) -> Option<&V> {
        self.value.as_ref()
    }
    /// Element id (`id` attribute in XML, `_name.id` in JSON).
    pub fn id(&self) -> Option<&str> {
        self.extra.as_ref().and_then(|x| x.id.as_deref())
    }
    /// Sets (or with `None` clears) the element id.
    pub fn set_id(&mut self, id: Option<String>) {
        match (id, &mut self.extra) {
            (None, None) => {}
            (id, _) => self.extra_mut().id = id,
        }
    }
    /// Extensions on the primitive.
    pub fn extension(&self) -> &[Extension] {
        self.extra.as_ref().map_or(&[], |x| &x.extension)
    }
    /// Extensions on the primitive, for adding or editing.
    pub fn extension_mut(&mut self) -> &mut Vec<Extension> {
        &mut self.extra_mut().extension
    }
    /// Builder form: adds an extension.
    pub fn with_extension(mut self, e: Extension) -> Self {
        self.extension_mut().push(e);
        self
    }
    fn extra_mut(&mut self) -> &mut PrimExtra {
        self.extra.get_or_insert_with(Box::default)
    }
}

impl Primitive<Str> {
    /// A string primitive that refers to a `&'static str` without copying
    /// it (system URIs, profile URLs, codes and displays known at compile
    /// time); usable in `const` items.
    ///
    /// ```
    /// use ems_stu3::{Primitive, Uri};
    /// const NHS_NUMBER: Uri = Primitive::from_static("https://fhir.nhs.uk/Id/nhs-number");
    /// assert_eq!(NHS_NUMBER.value.as_deref(), Some("https://fhir.nhs.uk/Id/nhs-number"));
    /// ```
    pub const fn from_static(s: &'static str) -> Self {
        Primitive {
            value: Some(Str::const_new(s)),
            extra: None,
        }
    }
}

impl From<&str> for Primitive<Str> {
    fn from(s: &str) -> Self {
        Primitive::new(s)
    }
}
impl From<String> for Primitive<Str> {
    fn from(s: String) -> Self {
        Primitive::new(s)
    }
}
impl From<Str> for Primitive<Str> {
    fn from(s: Str) -> Self {
        Primitive::new(s)
    }
}
impl From<bool> for Primitive<bool> {
    fn from(v: bool) -> Self {
        Primitive::new(v)
    }
}
impl From<i32> for Primitive<i32> {
    fn from(v: i32) -> Self {
        Primitive::new(v)
    }
}
impl From<u32> for Primitive<u32> {
    fn from(v: u32) -> Self {
        Primitive::new(v)
    }
}
impl From<DecimalValue> for Primitive<DecimalValue> {
    fn from(v: DecimalValue) -> Self {
        Primitive::new(v)
    }
}

/// Convenience for `Option<Primitive<Str>>` fields.
pub trait OptStrExt {
    /// The string value, if the element and its value are present.
    fn str_value(&self) -> Option<&str>;
}

impl OptStrExt for Option<Primitive<Str>> {
    fn str_value(&self) -> Option<&str> {
        self.as_ref().and_then(|p| p.value.as_deref())
    }
}

/// `boolean`
pub type Boolean = Primitive<bool>;
/// `integer`
pub type Integer = Primitive<i32>;
/// `positiveInt`
pub type PositiveInt = Primitive<u32>;
/// `unsignedInt`
pub type UnsignedInt = Primitive<u32>;
/// `decimal` (lexical form kept)
pub type Decimal = Primitive<DecimalValue>;
/// `string`
pub type FhirString = Primitive<Str>;
/// `uri`
pub type Uri = Primitive<Str>;
/// `code`
pub type Code = Primitive<Str>;
/// `id`
pub type Id = Primitive<Str>;
/// `oid`
pub type Oid = Primitive<Str>;
/// `markdown`
pub type Markdown = Primitive<Str>;
/// `base64Binary`
pub type Base64Binary = Primitive<Str>;
/// `date` (partial precision kept: `2019`, `2019-10`, `2019-10-02`)
pub type Date = Primitive<Str>;
/// `dateTime` (lexical form kept)
pub type DateTime = Primitive<Str>;
/// `instant` (lexical form kept)
pub type Instant = Primitive<Str>;
/// `time`
pub type Time = Primitive<Str>;

/// What a writer reads from a primitive, fetched in one call
/// ([`PrimNode::view`]) instead of one virtual call per part.
#[derive(Clone, Copy, Debug)]
pub struct PrimView<'a> {
    /// `true` when a value is present.
    pub has_value: bool,
    /// The value as text when it is stored as text (see [`PrimNode::value_str`]).
    pub text: Option<&'a str>,
    /// Element id.
    pub id: Option<&'a str>,
    /// Extensions.
    pub extension: &'a [Extension],
}

impl PrimView<'_> {
    /// `true` when the primitive has an element id or extensions.
    pub fn has_extra(&self) -> bool {
        self.id.is_some() || !self.extension.is_empty()
    }
}

/// Type-erased access to a [`Primitive`] used by the codecs.
pub trait PrimNode {
    /// Sets the value from a lexical form. On a malformed form the value is
    /// kept when the Rust type can hold it; the error describes the expected form.
    fn set_lexical(&mut self, kind: PrimKind, s: &str) -> Result<(), &'static str>;
    /// [`PrimNode::set_lexical`] of a literal (string-backed values refer to
    /// it instead of copying it).
    fn set_static(&mut self, kind: PrimKind, s: &'static str) -> Result<(), &'static str> {
        self.set_lexical(kind, s)
    }
    /// [`PrimNode::set_lexical`] of text the caller already holds as a
    /// [`Str`] (string-backed values take it without copying); `Err` hands
    /// the text back with the expected form.
    fn set_owned(&mut self, kind: PrimKind, s: Str) -> Result<(), (Str, &'static str)> {
        self.set_lexical(kind, &s).map_err(|e| (s, e))
    }
    /// A literal whose lexical form the caller vouches for (its own source
    /// text, checked by its tests): kept without the lexical check
    /// (booleans and integers are still parsed). For producers only; input
    /// goes through [`PrimNode::set_lexical`].
    fn set_literal(&mut self, kind: PrimKind, s: &'static str) -> Result<(), &'static str> {
        self.set_static(kind, s)
    }
    /// Text the caller formatted itself from typed data (a UUID, a date)
    /// and vouches for, as for [`PrimNode::set_literal`]: kept without the
    /// lexical check (booleans and integers are still parsed). For
    /// producers only; input goes through [`PrimNode::set_owned`].
    fn set_trusted(&mut self, kind: PrimKind, s: Str) -> Result<(), (Str, &'static str)> {
        self.set_owned(kind, s)
    }
    /// Appends the lexical form of the value; `false` when there is no value.
    fn write_value(&self, out: &mut String) -> bool;
    /// `true` when a value is present.
    fn has_value(&self) -> bool;
    /// The value as text without copying (strings, codes, dates, decimals, ...);
    /// `None` for booleans and integers or when there is no value.
    fn value_str(&self) -> Option<&str>;
    /// Sets the element id.
    fn set_id(&mut self, id: Option<String>);
    /// Element id.
    fn id(&self) -> Option<&str>;
    /// Extensions.
    fn extension_mut(&mut self) -> &mut Vec<Extension>;
    /// Extensions.
    fn extension(&self) -> &[Extension];
    /// Value presence, text, id and extensions in one call.
    fn view(&self) -> PrimView<'_>;
}

impl<V: PrimValue> Primitive<V> {
    /// Keeps the value `r`, or what `invalid` keeps of the invalid lexical
    /// form the error is about.
    fn keep<E>(&mut self, r: Result<V, E>, invalid: impl FnOnce(&E) -> Option<V>) -> Result<(), E> {
        match r {
            Ok(v) => {
                self.value = Some(v);
                Ok(())
            }
            Err(e) => {
                self.value = invalid(&e);
                Err(e)
            }
        }
    }
    /// Keeps `parsed` (the value of lexical form `s` checked as `kind`), or
    /// what can be kept of an invalid `s`.
    fn store(
        &mut self,
        kind: PrimKind,
        s: &str,
        parsed: impl FnOnce() -> Result<V, &'static str>,
    ) -> Result<(), &'static str> {
        self.keep(lexical::check(kind, s).and_then(|_| parsed()), |_| {
            V::keep_invalid(s)
        })
    }
}

impl<V: PrimValue> PrimNode for Primitive<V> {
    fn set_lexical(&mut self, kind: PrimKind, s: &str) -> Result<(), &'static str> {
        self.store(kind, s, || V::from_lexical(kind, s))
    }
    fn set_static(&mut self, kind: PrimKind, s: &'static str) -> Result<(), &'static str> {
        self.store(kind, s, || V::from_static(kind, s))
    }
    fn set_owned(&mut self, kind: PrimKind, s: Str) -> Result<(), (Str, &'static str)> {
        let r = match lexical::check(kind, &s) {
            Ok(()) => V::from_owned(kind, s),
            Err(e) => Err((s, e)),
        };
        self.keep(r, |(s, _)| V::keep_invalid(s))
    }
    fn set_literal(&mut self, kind: PrimKind, s: &'static str) -> Result<(), &'static str> {
        self.keep(V::from_static(kind, s), |_| V::keep_invalid(s))
    }
    fn set_trusted(&mut self, kind: PrimKind, s: Str) -> Result<(), (Str, &'static str)> {
        self.keep(V::from_owned(kind, s), |(s, _)| V::keep_invalid(s))
    }
    fn write_value(&self, out: &mut String) -> bool {
        match &self.value {
            Some(v) => {
                v.write_lexical(out);
                true
            }
            None => false,
        }
    }
    fn has_value(&self) -> bool {
        self.value.is_some()
    }
    fn value_str(&self) -> Option<&str> {
        self.value.as_ref().and_then(|v| v.as_str())
    }
    fn set_id(&mut self, id: Option<String>) {
        Primitive::set_id(self, id)
    }
    fn id(&self) -> Option<&str> {
        Primitive::id(self)
    }
    fn extension_mut(&mut self) -> &mut Vec<Extension> {
        Primitive::extension_mut(self)
    }
    fn extension(&self) -> &[Extension] {
        Primitive::extension(self)
    }
    #[inline]
    fn view(&self) -> PrimView<'_> {
        let (id, extension) = match &self.extra {
            Some(x) => (x.id.as_deref(), x.extension.as_slice()),
            None => (None, &[][..]),
        };
        PrimView {
            has_value: self.value.is_some(),
            text: self.value.as_ref().and_then(|v| v.as_str()),
            id,
            extension,
        }
    }
}

impl<V: PrimValue> crate::node::PrimOpt for Option<Primitive<V>> {
    fn get_or_insert(&mut self) -> &mut dyn PrimNode {
        self.get_or_insert_with(Primitive::default)
    }
    fn get(&self) -> Option<&dyn PrimNode> {
        self.as_ref().map(|p| p as &dyn PrimNode)
    }
}

impl<V: PrimValue> crate::node::PrimVec for Vec<Primitive<V>> {
    fn push_default(&mut self) -> &mut dyn PrimNode {
        self.push(Primitive::default());
        let last = self.len() - 1;
        &mut self[last]
    }
    fn ensure(&mut self, i: usize) -> &mut dyn PrimNode {
        if self.len() <= i {
            self.resize_with(i + 1, Primitive::default);
        }
        &mut self[i]
    }
    fn len(&self) -> usize {
        Vec::len(self)
    }
    fn get(&self, i: usize) -> Option<&dyn PrimNode> {
        self.as_slice().get(i).map(|p| p as &dyn PrimNode)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The model holds thousands of primitives: keep them small (value
    /// inline, id and extensions behind one optional box).
    #[test]
    fn primitives_stay_small() {
        assert_eq!(std::mem::size_of::<Str>(), 24);
        assert_eq!(std::mem::size_of::<Primitive<Str>>(), 32);
        assert_eq!(std::mem::size_of::<Option<Primitive<Str>>>(), 32);
        assert_eq!(std::mem::size_of::<Option<Primitive<bool>>>(), 16);
    }

    #[test]
    fn equality_ignores_an_empty_extra_box() {
        let a: FhirString = Primitive::from("x");
        let mut b: FhirString = Primitive::from("x");
        b.set_id(Some("i".into()));
        assert_ne!(a, b);
        b.set_id(None);
        b.extension_mut();
        assert_eq!(a, b, "an allocated but empty id/extension part equals none");
        b.extension_mut().push(Extension::default());
        assert_ne!(a, b);
    }

    #[test]
    fn static_and_copied_values_compare_equal() {
        let long = "https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Patient-1";
        let s: Uri = Primitive::from_static(long);
        assert_eq!(s.value.as_ref().and_then(|v| v.as_static_str()), Some(long));
        assert_eq!(s, Primitive::from(long.to_string()));
        let mut p = s.clone();
        assert!(p.set_lexical(PrimKind::Uri, "urn:uuid:1").is_ok());
        assert_eq!(p.value.as_deref(), Some("urn:uuid:1"));
    }
}
