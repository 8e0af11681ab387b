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
pub struct DecimalValue(String);

impl DecimalValue {
    /// Creates a decimal from its lexical form, checking it.
    pub fn parse(s: &str) -> Result<Self, &'static str> {
        lexical::check(PrimKind::Decimal, s)?;
        Ok(DecimalValue(s.to_owned()))
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
        DecimalValue(v.to_string())
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
    /// Appends the lexical form.
    fn write_lexical(&self, out: &mut String);
    /// The value as text without copying, for string-backed values.
    fn as_str(&self) -> Option<&str> {
        None
    }
}

impl PrimValue for String {
    fn from_lexical(_: PrimKind, s: &str) -> Result<Self, &'static str> {
        Ok(s.to_owned())
    }
    fn keep_invalid(s: &str) -> Option<Self> {
        Some(s.to_owned())
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
        Ok(DecimalValue(s.to_owned()))
    }
    fn keep_invalid(s: &str) -> Option<Self> {
        Some(DecimalValue(s.to_owned()))
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
/// ```
/// use ems_stu3::{Date, Primitive};
/// let d: Date = Primitive::new("2019-10".to_string());
/// assert_eq!(d.value.as_deref(), Some("2019-10"));
/// assert!(d.extension.is_empty());
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Primitive<V> {
    /// Element id (`id` attribute in XML, `_name.id` in JSON).
    pub id: Option<String>,
    /// Extensions on the primitive.
    pub extension: Vec<Extension>,
    /// The value; `None` when the primitive only carries extensions.
    pub value: Option<V>,
}

impl<V> Primitive<V> {
    /// A primitive with a value and nothing else.
    pub fn new(value: V) -> Self {
        Primitive {
            id: None,
            extension: Vec::new(),
            value: Some(value),
        }
    }
    /// The value, if any.
    pub fn value(&self) -> Option<&V> {
        self.value.as_ref()
    }
}

impl From<&str> for Primitive<String> {
    fn from(s: &str) -> Self {
        Primitive::new(s.to_owned())
    }
}
impl From<String> for Primitive<String> {
    fn from(s: String) -> Self {
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

/// Convenience for `Option<Primitive<String>>` fields.
pub trait OptStrExt {
    /// The string value, if the element and its value are present.
    fn str_value(&self) -> Option<&str>;
}

impl OptStrExt for Option<Primitive<String>> {
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
pub type FhirString = Primitive<String>;
/// `uri`
pub type Uri = Primitive<String>;
/// `code`
pub type Code = Primitive<String>;
/// `id`
pub type Id = Primitive<String>;
/// `oid`
pub type Oid = Primitive<String>;
/// `markdown`
pub type Markdown = Primitive<String>;
/// `base64Binary`
pub type Base64Binary = Primitive<String>;
/// `date` (partial precision kept: `2019`, `2019-10`, `2019-10-02`)
pub type Date = Primitive<String>;
/// `dateTime` (lexical form kept)
pub type DateTime = Primitive<String>;
/// `instant` (lexical form kept)
pub type Instant = Primitive<String>;
/// `time`
pub type Time = Primitive<String>;

/// Type-erased access to a [`Primitive`] used by the codecs.
pub trait PrimNode {
    /// Sets the value from a lexical form. On a malformed form the value is
    /// kept when the Rust type can hold it; the error describes the expected form.
    fn set_lexical(&mut self, kind: PrimKind, s: &str) -> Result<(), &'static str>;
    /// Appends the lexical form of the value; `false` when there is no value.
    fn write_value(&self, out: &mut String) -> bool;
    /// `true` when a value is present.
    fn has_value(&self) -> bool;
    /// The value as text without copying (strings, codes, dates, decimals, ...);
    /// `None` for booleans and integers or when there is no value.
    fn value_str(&self) -> Option<&str>;
    /// Element id.
    fn id_mut(&mut self) -> &mut Option<String>;
    /// Element id.
    fn id(&self) -> Option<&str>;
    /// Extensions.
    fn extension_mut(&mut self) -> &mut Vec<Extension>;
    /// Extensions.
    fn extension(&self) -> &[Extension];
}

impl<V: PrimValue> PrimNode for Primitive<V> {
    fn set_lexical(&mut self, kind: PrimKind, s: &str) -> Result<(), &'static str> {
        match lexical::check(kind, s).and_then(|_| V::from_lexical(kind, s)) {
            Ok(v) => {
                self.value = Some(v);
                Ok(())
            }
            Err(e) => {
                self.value = V::keep_invalid(s);
                Err(e)
            }
        }
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
    fn id_mut(&mut self) -> &mut Option<String> {
        &mut self.id
    }
    fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }
    fn extension_mut(&mut self) -> &mut Vec<Extension> {
        &mut self.extension
    }
    fn extension(&self) -> &[Extension] {
        &self.extension
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
