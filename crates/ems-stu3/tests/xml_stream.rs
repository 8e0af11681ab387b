//! `XmlStream` writes the bytes the model writer writes for the same
//! content: primitives with extensions, extensions with URLs, empty
//! elements, escaping, integers, and a part put in front of the rest.

use ems_stu3::xml::XmlStream;
use ems_stu3::*;

#[test]
fn stream_matches_the_model_writer() {
    let mut birth = Primitive::from("2024-03-12");
    birth.extension_mut().push(Extension::new(
        Str::from("http://hl7.org/fhir/StructureDefinition/patient-birthTime"),
        ExtensionValue::DateTime(Primitive::from("2024-03-12T04:00:00+00:00")),
    ));
    let p = Patient {
        id: Some(Primitive::from("p1")),
        extension: vec![Extension::new(
            Str::from("https://example.org/ext?a=1&b=\"2\""),
            ExtensionValue::Integer(Primitive::new(-42)),
        )],
        name: vec![HumanName {
            family: Some(Primitive::from("O'Brien <&>\n\t\r")),
            ..Default::default()
        }],
        birth_date: Some(birth),
        address: vec![Address {
            period: Some(Period::default()),
            ..Default::default()
        }],
        ..Default::default()
    };

    // written out of order on purpose: the id after the rest, then put in front
    let mut rest = XmlStream::default();
    rest.start_url("extension", "https://example.org/ext?a=1&b=\"2\"");
    rest.value_i64("valueInteger", -42);
    rest.end("extension");
    rest.start("name");
    rest.value("family", "O'Brien <&>\n\t\r");
    rest.end("name");
    rest.value_start("birthDate", "2024-03-12");
    rest.start_url(
        "extension",
        "http://hl7.org/fhir/StructureDefinition/patient-birthTime",
    );
    rest.value("valueDateTime", "2024-03-12T04:00:00+00:00");
    rest.end("extension");
    rest.end("birthDate");
    rest.start("address");
    rest.empty("period");
    rest.end("address");
    rest.end("Patient");
    let mut head = XmlStream::with_capacity(64);
    head.root("Patient");
    head.value("id", "p1");
    assert!(!head.is_empty());
    rest.prepend(&head);

    let expected = to_xml_of(&p);
    assert_eq!(rest.as_str(), expected);
    assert_eq!(rest.len(), expected.len());
    assert_eq!(rest.into_string(), expected);
}
