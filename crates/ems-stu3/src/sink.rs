//! The element sink: what a producer that already knows its content calls,
//! element by element in schema order, to write a FHIR resource.
//!
//! One description (the `ems-bundle` event messages) drives any sink:
//!
//! * [`XmlStream`] writes compact wire XML as it goes (the same bytes as
//!   [`crate::to_xml`] of the equivalent model);
//! * [`ModelSink`](crate::ModelSink) assembles the typed [`Resource`](crate::Resource)
//!   through per-type placement code generated with the model (an element
//!   of the type open on top written straight into its field, any other
//!   found by name), and reports an unknown element, a schema-order slip, a repeat
//!   or a malformed value exactly as the reader would (same rule ids and
//!   words, from the reflection layer [`crate::node`] the readers use).
//!
//! The calls nest like the XML: every `start*` is closed by the matching
//! `end*`. A sink is created with its root resource already open (see each
//! sink), so a description writes the root's content.

use crate::element::{Complex, Named, Prim, Res};
use crate::xml::XmlStream;
use crate::Extension;

/// Receives a resource's elements in schema order (see the module docs).
///
/// Elements are named by the typed constants of [`crate::element`]
/// (`Patient::NAME`, `HumanName::FAMILY`, `Extension::VALUE_CODEABLE_CONCEPT`,
/// generated for every type), which carry the element name (as in FHIR
/// XML) and its place in the owner's model; an element known only by name
/// is [`Complex::named`] / [`Prim::named`]. Values are lexical forms.
/// Methods taking a `&'static str` value let sinks that keep the text (the
/// model) refer to it instead of copying it.
pub trait ElementSink {
    /// Opens complex element `e` (a datatype or backbone element, or the
    /// wrapper of a nested resource: `BundleEntry::RESOURCE`,
    /// `contained`).
    fn start<O, C>(&mut self, e: Complex<O, C>);
    /// Opens extension element `e` (`extension`, `modifierExtension`;
    /// [`crate::PRIMITIVE_EXTENSION`] in a primitive opened with
    /// [`ElementSink::start_value`]) with its `url`.
    fn start_extension<O>(&mut self, e: Complex<O, Extension>, url: &'static str);
    /// Closes the element opened last by [`ElementSink::start`],
    /// [`ElementSink::start_extension`] or [`ElementSink::start_value`]
    /// (`e`: its constant, or its name).
    fn end<E: Named>(&mut self, e: E);
    /// Primitive element `e` with value `v`.
    fn value<O>(&mut self, e: Prim<O>, v: &str);
    /// [`ElementSink::value`] of a literal. A literal is the describer's own
    /// text: [`ModelSink`](crate::ModelSink) trusts its lexical form (keeps
    /// it without the check; the describer's tests must read its output
    /// back with the reader, as `ems-bundle`'s sink contract test does).
    fn value_static<O>(&mut self, e: Prim<O>, v: &'static str) {
        self.value(e, v)
    }
    /// [`ElementSink::value`] of text the describer formatted itself from
    /// typed data (a `urn:uuid:` URL or id from a UUID, a date or instant
    /// from chrono values, NHS number digits), which cannot be malformed:
    /// [`ModelSink`](crate::ModelSink) trusts it as it trusts literals
    /// (the same test duty); other sinks write it as any value.
    fn value_formatted<O>(&mut self, e: Prim<O>, v: &str) {
        self.value(e, v)
    }
    /// An integer or decimal primitive.
    fn value_i64<O>(&mut self, e: Prim<O>, n: i64) {
        self.value(e, &compact_str::ToCompactString::to_compact_string(&n))
    }
    /// Opens primitive element `e` with value `v` whose extensions follow
    /// ([`crate::PRIMITIVE_EXTENSION`]); close it with [`ElementSink::end`].
    fn start_value<O>(&mut self, e: Prim<O>, v: &str);
    /// Complex element `e` present with no content (`<period/>`).
    fn empty<O, C>(&mut self, e: Complex<O, C>);
    /// Opens resource `r` inside the wrapper element opened last
    /// (`<resource>` of a Bundle entry, `<contained>`).
    fn start_resource<R>(&mut self, r: Res<R>);
    /// Closes the resource opened last.
    fn end_resource<R>(&mut self, r: Res<R>);
}

/// Wire XML. Create the stream and write the root with [`XmlStream::root`];
/// a stream without a root is a fragment (a continuation of another
/// stream's open element, joined with [`XmlStream::prepend`]).
impl ElementSink for XmlStream {
    #[inline]
    fn start<O, C>(&mut self, e: Complex<O, C>) {
        XmlStream::start(self, e.name())
    }
    #[inline]
    fn start_extension<O>(&mut self, e: Complex<O, Extension>, url: &'static str) {
        XmlStream::start_url(self, e.name(), url)
    }
    #[inline]
    fn end<E: Named>(&mut self, e: E) {
        XmlStream::end(self, e.name())
    }
    #[inline]
    fn value<O>(&mut self, e: Prim<O>, v: &str) {
        XmlStream::value(self, e.name(), v)
    }
    #[inline]
    fn value_i64<O>(&mut self, e: Prim<O>, n: i64) {
        XmlStream::value_i64(self, e.name(), n)
    }
    #[inline]
    fn start_value<O>(&mut self, e: Prim<O>, v: &str) {
        XmlStream::value_start(self, e.name(), v)
    }
    #[inline]
    fn empty<O, C>(&mut self, e: Complex<O, C>) {
        XmlStream::empty(self, e.name())
    }
    #[inline]
    fn start_resource<R>(&mut self, r: Res<R>) {
        XmlStream::start(self, r.name())
    }
    #[inline]
    fn end_resource<R>(&mut self, r: Res<R>) {
        XmlStream::end(self, r.name())
    }
}
