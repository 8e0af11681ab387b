//! Format detection: XML or JSON from the bytes themselves, and
//! [`ReadOptions::read`], the reader that uses it. The one place that decides
//! how a FHIR input is serialised (the validator, `ems route`, `ems convert`
//! and the server all read through it).

use crate::read::{Parsed, ReadError, ReadOptions};

/// Serialisation of a FHIR input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// FHIR XML.
    Xml,
    /// FHIR JSON.
    Json,
}

impl Format {
    /// Detects the format from the first byte that is not whitespace or a
    /// UTF-8 byte-order mark: `{` is JSON, anything else is read as XML (so
    /// that non-FHIR input gets the XML reader's located error).
    ///
    /// ```
    /// use ems_stu3::Format;
    /// assert_eq!(Format::detect(b"\xEF\xBB\xBF \n{\"resourceType\":\"Patient\"}"), Format::Json);
    /// assert_eq!(Format::detect(b"<Patient xmlns=\"http://hl7.org/fhir\"/>"), Format::Xml);
    /// assert_eq!(Format::detect(b""), Format::Xml);
    /// ```
    pub fn detect(bytes: &[u8]) -> Format {
        let first = bytes
            .iter()
            .copied()
            .find(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n' | 0xEF | 0xBB | 0xBF));
        if first == Some(b'{') {
            Format::Json
        } else {
            Format::Xml
        }
    }
}

impl ReadOptions {
    /// Reads a resource from FHIR XML or JSON, detected by [`Format::detect`].
    ///
    /// ```
    /// use ems_stu3::{ReadOptions, Resource};
    /// let opts = ReadOptions::default();
    /// let x = opts.read(br#"<Patient xmlns="http://hl7.org/fhir"><id value="p"/></Patient>"#).unwrap();
    /// let j = opts.read(br#"{"resourceType":"Patient","id":"p"}"#).unwrap();
    /// assert_eq!(x.resource, j.resource);
    /// assert!(matches!(x.resource, Resource::Patient(_)));
    /// ```
    pub fn read(&self, input: &[u8]) -> Result<Parsed, ReadError> {
        self.read_format(Format::detect(input), input)
    }

    /// Reads a resource in the given format.
    pub fn read_format(&self, format: Format, input: &[u8]) -> Result<Parsed, ReadError> {
        match format {
            Format::Xml => self.read_xml(input),
            Format::Json => self.read_json(input),
        }
    }
}

/// Reads FHIR XML or JSON (detected) with the default [`ReadOptions`].
pub fn from_bytes(input: &[u8]) -> Result<Parsed, ReadError> {
    ReadOptions::default().read(input)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detection_skips_whitespace_and_bom_only() {
        assert_eq!(Format::detect(b" \t\r\n{"), Format::Json);
        assert_eq!(Format::detect(b"\xEF\xBB\xBF{"), Format::Json);
        assert_eq!(Format::detect(b"x{"), Format::Xml);
        assert_eq!(Format::detect(b"[{}]"), Format::Xml);
        assert_eq!(Format::detect(b"   "), Format::Xml);
    }

    #[test]
    fn read_uses_the_detected_reader() {
        let opts = ReadOptions::default();
        // JSON bytes through the XML reader would fail, and the reverse
        assert!(opts.read(br#" {"resourceType":"Basic"}"#).is_ok());
        assert!(opts.read_xml(br#" {"resourceType":"Basic"}"#).is_err());
        assert!(opts
            .read(br#"<Basic xmlns="http://hl7.org/fhir"/>"#)
            .is_ok());
        assert!(opts
            .read_json(br#"<Basic xmlns="http://hl7.org/fhir"/>"#)
            .is_err());
        // the caps apply whichever reader runs
        let small = ReadOptions::default().max_size(4);
        assert!(small.read(br#"{"resourceType":"Basic"}"#).is_err());
        assert!(small
            .read(br#"<Basic xmlns="http://hl7.org/fhir"/>"#)
            .is_err());
    }
}
