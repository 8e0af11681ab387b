//! FHIR STU3 data model with lossless, schema-ordered XML and JSON codecs.
//!
//! # Overview
//!
//! * [`Resource`] is an enum of all 117 STU3 resource types; each variant holds
//!   a generated struct ([`Bundle`], [`Patient`], [`MessageHeader`], ...) whose
//!   fields follow the STU3 element table, with choice elements as enums
//!   ([`PatientDeceased`]) and primitives as [`Primitive`] values that keep
//!   their lexical form, element id and extensions. String values are
//!   [`Str`]s: inline up to 24 bytes, and literals are referenced without a
//!   copy ([`Primitive::from_static`]), so most values cost no allocation.
//! * [`from_xml`] / [`from_json`] read bytes straight into the model (no DOM)
//!   and return a [`Parsed`] resource with an [`Outcome`] of non-fatal issues,
//!   or a [`ReadError`] for input that cannot be read (malformed, hostile,
//!   oversized). Bounds are set with [`ReadOptions`].
//! * [`to_xml`] / [`to_json`] (and the `_pretty` variants) write the model back,
//!   XML in schema element order with the namespace on the root only.
//!
//! ```
//! use ems_stu3::{from_xml, to_json, to_xml, Resource, Patient};
//!
//! let xml = br#"<Patient xmlns="http://hl7.org/fhir">
//!   <id value="p1"/>
//!   <birthDate value="2019-10"/>
//! </Patient>"#;
//! let parsed = from_xml(xml)?;
//! assert!(parsed.outcome.issues.is_empty());
//! let patient: &Patient = parsed.resource.get().unwrap();
//! assert_eq!(patient.birth_date.as_ref().unwrap().value.as_deref(), Some("2019-10"));
//! assert_eq!(to_json(&parsed.resource),
//!            r#"{"resourceType":"Patient","id":"p1","birthDate":"2019-10"}"#);
//! assert_eq!(to_xml(&parsed.resource),
//!            r#"<Patient xmlns="http://hl7.org/fhir"><id value="p1"/><birthDate value="2019-10"/></Patient>"#);
//! # Ok::<(), ems_stu3::ReadError>(())
//! ```
//!
//! Repeating elements are public `Vec` fields; every one also has a generated
//! `push_<name>` accessor that converts its argument and chains:
//!
//! ```
//! use ems_stu3::{to_xml, HumanName, Identifier, Patient, Resource};
//!
//! let mut name = HumanName::default();
//! name.push_given("Jane").push_given("Ann");
//! let mut patient = Patient::default();
//! patient
//!     .push_identifier(Identifier {
//!         system: Some("https://fhir.nhs.uk/Id/nhs-number".into()),
//!         value: Some("9434765919".into()),
//!         ..Default::default()
//!     })
//!     .push_name(name);
//! assert_eq!(patient.name[0].given.len(), 2);
//! assert!(to_xml(&Resource::from(patient)).contains(r#"<given value="Ann"/>"#));
//! ```
//!
//! Findings use the shared [`Issue`] type: severity, FHIR issue type, a stable
//! rule id (`SCHEMA-ORDER`, `SCHEMA-UNKNOWN`, `PRIMITIVE-FORMAT`, ...; see
//! [`rules`]), a FHIRPath-like location and line:column.

// Unsafe code is denied everywhere but in the model sink's stack of open
// nodes (`model_sink`, whose `Open` documents why its pointers are sound).
#![deny(unsafe_code)]
#![warn(missing_docs)]

mod detect;
pub mod element;
mod generated;
pub mod issue;
pub mod json;
pub mod lexical;
#[allow(unsafe_code)]
mod model_sink;
pub mod node;
mod place;
pub mod primitive;
mod read;
mod scan;
mod sink;
pub mod visit;
mod xhtml;
pub mod xml;

pub use detect::{from_bytes, Format};
pub use element::{Complex, Named, Prim, Res, Untyped, PRIMITIVE_EXTENSION};
pub use generated::*;
pub use issue::{Issue, IssueType, Outcome, Severity, MAX_ISSUES};
pub use json::{from_json, to_json, to_json_of, to_json_pretty, to_json_pretty_of};
pub use model_sink::ModelSink;
pub use primitive::*;
pub use read::{
    line_col, push_decimal, rules, LineIndex, Parsed, PathStack, ReadError, ReadOptions,
    DEFAULT_MAX_DEPTH, DEFAULT_MAX_SIZE, FHIR_NS, XHTML_NS,
};
pub use sink::ElementSink;
pub use xml::{from_xml, to_xml, to_xml_of, to_xml_pretty, to_xml_pretty_of};

impl Extension {
    /// An extension with a URL and a value.
    ///
    /// ```
    /// use ems_stu3::{Extension, ExtensionValue, Primitive};
    /// let e = Extension::new("nhsNumber", ExtensionValue::String(Primitive::from("x")));
    /// assert_eq!(e.url.as_deref(), Some("nhsNumber"));
    /// ```
    pub fn new(url: impl Into<Str>, value: ExtensionValue) -> Extension {
        Extension {
            url: Some(url.into()),
            value: Some(value),
            ..Default::default()
        }
    }

    /// An extension with a URL and nested extensions (a complex extension).
    pub fn complex(url: impl Into<Str>, extension: Vec<Extension>) -> Extension {
        Extension {
            url: Some(url.into()),
            extension,
            ..Default::default()
        }
    }
}

impl Resource {
    /// Borrows the resource as concrete type `T`, if it is one.
    pub fn get<T: ResourceKind>(&self) -> Option<&T> {
        T::from_resource(self)
    }
    /// Mutably borrows the resource as concrete type `T`, if it is one.
    pub fn get_mut<T: ResourceKind>(&mut self) -> Option<&mut T> {
        T::from_resource_mut(self)
    }
}
