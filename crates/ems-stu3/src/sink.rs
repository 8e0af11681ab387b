//! The element sink: what a producer that already knows its content calls,
//! element by element in schema order, to write a FHIR resource.
//!
//! One description (the `ems-bundle` event messages) drives any sink:
//!
//! * [`XmlStream`] writes compact wire XML as it goes (the same bytes as
//!   [`crate::to_xml`] of the equivalent model);
//! * [`ModelSink`](crate::ModelSink) assembles the typed [`Resource`](crate::Resource)
//!   through per-type placement code generated with the model (each
//!   element found by name in its type and written straight into its
//!   field), and reports an unknown element, a schema-order slip, a repeat
//!   or a malformed value exactly as the reader would (same rule ids and
//!   words, from the reflection layer [`crate::node`] the readers use).
//!
//! The calls nest like the XML: every `start*` is closed by the matching
//! `end*`. A sink is created with its root resource already open (see each
//! sink), so a description writes the root's content.

use crate::xml::XmlStream;

/// Receives a resource's elements in schema order (see the module docs).
///
/// Names are element names as in FHIR XML (`valueCodeableConcept` for a
/// choice alternative), always literals (`&'static str`: a sink may keep
/// them without copying, as [`ModelSink`](crate::ModelSink) keeps the
/// names of its open elements). Values are lexical forms. Methods taking a
/// `&'static str` let sinks that keep the text (the model) refer to it
/// instead of copying it.
pub trait ElementSink {
    /// Opens complex element `name` (a datatype or backbone element, or the
    /// wrapper of a nested resource: `resource`, `contained`).
    fn start(&mut self, name: &'static str);
    /// Opens extension element `name` (`extension`, `modifierExtension`)
    /// with its `url`.
    fn start_extension(&mut self, name: &'static str, url: &'static str);
    /// Closes the element opened last by [`ElementSink::start`],
    /// [`ElementSink::start_extension`] or [`ElementSink::start_value`].
    fn end(&mut self, name: &'static str);
    /// Primitive element `name` with value `v`.
    fn value(&mut self, name: &'static str, v: &str);
    /// [`ElementSink::value`] of a literal. A literal is the describer's own
    /// text: [`ModelSink`](crate::ModelSink) trusts its lexical form (keeps
    /// it without the check; the describer's tests must read its output
    /// back with the reader, as `ems-bundle`'s sink contract test does).
    fn value_static(&mut self, name: &'static str, v: &'static str) {
        self.value(name, v)
    }
    /// [`ElementSink::value`] of text the describer formatted itself from
    /// typed data (a `urn:uuid:` URL or id from a UUID, a date or instant
    /// from chrono values, NHS number digits), which cannot be malformed:
    /// [`ModelSink`](crate::ModelSink) trusts it as it trusts literals
    /// (the same test duty); other sinks write it as any value.
    fn value_formatted(&mut self, name: &'static str, v: &str) {
        self.value(name, v)
    }
    /// An integer or decimal primitive.
    fn value_i64(&mut self, name: &'static str, n: i64) {
        self.value(name, &compact_str::ToCompactString::to_compact_string(&n))
    }
    /// Opens primitive element `name` with value `v` whose extensions
    /// follow; close it with [`ElementSink::end`].
    fn start_value(&mut self, name: &'static str, v: &str);
    /// Complex element `name` present with no content (`<period/>`).
    fn empty(&mut self, name: &'static str);
    /// Opens resource `rtype` inside the wrapper element opened last
    /// (`<resource>` of a Bundle entry, `<contained>`).
    fn start_resource(&mut self, rtype: &'static str);
    /// Closes the resource opened last.
    fn end_resource(&mut self, rtype: &'static str);
}

/// Wire XML. Create the stream and write the root with [`XmlStream::root`];
/// a stream without a root is a fragment (a continuation of another
/// stream's open element, joined with [`XmlStream::prepend`]).
impl ElementSink for XmlStream {
    #[inline]
    fn start(&mut self, name: &'static str) {
        XmlStream::start(self, name)
    }
    #[inline]
    fn start_extension(&mut self, name: &'static str, url: &'static str) {
        XmlStream::start_url(self, name, url)
    }
    #[inline]
    fn end(&mut self, name: &'static str) {
        XmlStream::end(self, name)
    }
    #[inline]
    fn value(&mut self, name: &'static str, v: &str) {
        XmlStream::value(self, name, v)
    }
    #[inline]
    fn value_i64(&mut self, name: &'static str, n: i64) {
        XmlStream::value_i64(self, name, n)
    }
    #[inline]
    fn start_value(&mut self, name: &'static str, v: &str) {
        XmlStream::value_start(self, name, v)
    }
    #[inline]
    fn empty(&mut self, name: &'static str) {
        XmlStream::empty(self, name)
    }
    #[inline]
    fn start_resource(&mut self, rtype: &'static str) {
        XmlStream::start(self, rtype)
    }
    #[inline]
    fn end_resource(&mut self, rtype: &'static str) {
        XmlStream::end(self, rtype)
    }
}
