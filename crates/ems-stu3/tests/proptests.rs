//! Property tests: generated resources round-trip in both formats, and no
//! byte sequence makes either reader panic.

use ems_stu3::*;
use proptest::prelude::*;

fn text() -> impl Strategy<Value = String> {
    // printable ASCII, XML/JSON specials, newline/tab, non-ASCII
    "[ -~\n\t\u{e9}\u{4e2d}\u{1F600}]{1,24}"
}

fn code() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9-]{0,8}"
}

fn date() -> impl Strategy<Value = String> {
    (1900u32..2100, proptest::option::of(1u32..=12), 1u32..=28).prop_map(|(y, m, d)| match m {
        None => format!("{y}"),
        Some(m) if d % 2 == 0 => format!("{y}-{m:02}"),
        Some(m) => format!("{y}-{m:02}-{d:02}"),
    })
}

fn date_time() -> impl Strategy<Value = String> {
    (
        date(),
        0u32..24,
        0u32..60,
        proptest::option::of(0u32..1000),
        -13i32..14,
    )
        .prop_map(|(d, h, m, frac, tz)| {
            if d.len() < 10 {
                return d;
            }
            let f = frac.map(|f| format!(".{f:03}")).unwrap_or_default();
            let z = if tz == 0 {
                "Z".to_string()
            } else {
                format!("{:+03}:00", tz)
            };
            format!("{d}T{h:02}:{m:02}:07{f}{z}")
        })
}

fn decimal() -> impl Strategy<Value = String> {
    (
        any::<bool>(),
        0u32..100000,
        proptest::option::of("[0-9]{1,4}"),
    )
        .prop_map(|(neg, i, f)| {
            let s = match f {
                Some(f) => format!("{i}.{f}"),
                None => i.to_string(),
            };
            if neg {
                format!("-{s}")
            } else {
                s
            }
        })
}

fn ext() -> impl Strategy<Value = Extension> {
    prop_oneof![
        (code(), text()).prop_map(|(u, v)| Extension::new(
            format!("http://x/{u}"),
            ExtensionValue::String(Primitive::new(v))
        )),
        (code(), decimal()).prop_map(|(u, v)| Extension::new(
            format!("http://x/{u}"),
            ExtensionValue::Decimal(Primitive::new(DecimalValue::parse(&v).unwrap()))
        )),
        (code(), any::<bool>()).prop_map(|(u, v)| Extension::new(
            format!("http://x/{u}"),
            ExtensionValue::Boolean(Primitive::new(v))
        )),
        (code(), code()).prop_map(|(u, c)| Extension::complex(
            format!("http://x/{u}"),
            vec![Extension::new(
                "inner",
                ExtensionValue::Code(Primitive::new(c))
            )]
        )),
    ]
}

/// A string primitive that may have only extensions (no value), an id, or both.
fn prim_str(v: impl Strategy<Value = String>) -> impl Strategy<Value = FhirString> {
    (
        proptest::option::of(v),
        proptest::option::of("[a-z0-9]{1,6}"),
        proptest::collection::vec(ext(), 0..2),
    )
        .prop_filter("value or extension", |(v, _, e)| {
            v.is_some() || !e.is_empty()
        })
        .prop_map(|(value, id, extension)| {
            let mut p: FhirString = value.map(Primitive::new).unwrap_or_default();
            p.set_id(id);
            p.extension_mut().extend(extension);
            p
        })
}

fn human_name() -> impl Strategy<Value = HumanName> {
    (
        proptest::option::of(prop_oneof![Just("official"), Just("usual"), Just("old")]),
        proptest::option::of(text()),
        proptest::collection::vec(prim_str(text()), 0..4),
    )
        .prop_map(|(u, family, given)| HumanName {
            use_: u.map(Primitive::from),
            family: family.map(Primitive::new),
            given,
            ..Default::default()
        })
}

fn patient() -> impl Strategy<Value = Resource> {
    (
        proptest::option::of("[A-Za-z0-9.-]{1,20}"),
        proptest::option::of(any::<bool>()),
        proptest::option::of(prop_oneof![
            Just("male"),
            Just("female"),
            Just("other"),
            Just("unknown")
        ]),
        proptest::option::of(prim_str(date())),
        proptest::collection::vec(human_name(), 0..3),
        proptest::option::of(prop_oneof![
            any::<bool>().prop_map(|b| PatientDeceased::Boolean(Primitive::new(b))),
            date_time().prop_map(|d| PatientDeceased::DateTime(Primitive::new(d))),
        ]),
        proptest::option::of(any::<i32>()),
        proptest::collection::vec(ext(), 0..3),
    )
        .prop_map(
            |(id, active, gender, birth, name, deceased, mb, extension)| {
                Resource::from(Patient {
                    id: id.map(Primitive::new),
                    active: active.map(Primitive::new),
                    gender: gender.map(Primitive::from),
                    birth_date: birth,
                    name,
                    deceased,
                    multiple_birth: mb.map(|v| PatientMultipleBirth::Integer(Primitive::new(v))),
                    extension,
                    ..Default::default()
                })
            },
        )
}

fn observation() -> impl Strategy<Value = Resource> {
    (
        decimal(),
        text(),
        proptest::option::of(date_time()),
        proptest::collection::vec(code(), 1..3),
    )
        .prop_map(|(v, unit, eff, codes)| {
            Resource::from(Observation {
                status: Some(Primitive::from("final")),
                code: Some(CodeableConcept {
                    coding: codes
                        .into_iter()
                        .map(|c| Coding {
                            system: Some(Primitive::from("http://loinc.org")),
                            code: Some(Primitive::new(c)),
                            ..Default::default()
                        })
                        .collect(),
                    ..Default::default()
                }),
                effective: eff.map(|d| ObservationEffective::DateTime(Primitive::new(d))),
                value: Some(ObservationValue::Quantity(Box::new(Quantity {
                    value: Some(Primitive::new(DecimalValue::parse(&v).unwrap())),
                    unit: Some(Primitive::new(unit)),
                    ..Default::default()
                }))),
                ..Default::default()
            })
        })
}

fn bundle() -> impl Strategy<Value = Resource> {
    proptest::collection::vec(prop_oneof![patient(), observation()], 0..4).prop_map(|rs| {
        Resource::from(Bundle {
            type_: Some(Primitive::from("collection")),
            entry: rs
                .into_iter()
                .enumerate()
                .map(|(i, r)| BundleEntry {
                    full_url: Some(Primitive::new(format!(
                        "urn:uuid:00000000-0000-4000-8000-{i:012}"
                    ))),
                    resource: Some(r),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn generated_resources_round_trip(r in prop_oneof![patient(), observation(), bundle()]) {
        for xml in [to_xml(&r), to_xml_pretty(&r)] {
            let back = from_xml(xml.as_bytes()).unwrap();
            prop_assert!(back.outcome.issues.is_empty(), "{}\n{}", xml, back.outcome);
            prop_assert_eq!(&back.resource, &r);
        }
        for json in [to_json(&r), to_json_pretty(&r)] {
            let back = from_json(json.as_bytes()).unwrap();
            prop_assert!(back.outcome.issues.is_empty(), "{}\n{}", json, back.outcome);
            prop_assert_eq!(&back.resource, &r);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = from_xml(&bytes);
        let _ = from_json(&bytes);
    }

    #[test]
    fn mutated_documents_never_panic(pos in 0usize..2000, b in any::<u8>(), cut in 0usize..2000) {
        let base = to_xml(&Resource::from(Patient {
            name: vec![HumanName { family: Some(Primitive::from("Smith")), ..Default::default() }],
            birth_date: Some(Primitive::from("2001-02-03")),
            ..Default::default()
        }));
        let mut x = base.clone().into_bytes();
        if !x.is_empty() { let p = pos % x.len(); x[p] = b; }
        x.truncate(cut.max(1).min(x.len()));
        let _ = from_xml(&x);
        let mut j = to_json(&from_xml(base.as_bytes()).unwrap().resource).into_bytes();
        let p = pos % j.len(); j[p] = b;
        j.truncate(cut.max(1).min(j.len()));
        let _ = from_json(&j);
    }
}

/// The escaping every XML writer uses, one byte at a time (the reference
/// for the 16-bytes-at-a-time fast path).
fn escape_reference(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c => out.push(c),
        }
    }
    out
}

proptest! {
    /// Values of every length around the 16-byte blocks, with the escaped
    /// bytes anywhere (first, last, in the padded tail) and multi-byte text.
    #[test]
    fn attribute_values_are_escaped_like_the_reference(
        s in "[a-z0-9&<>\"'\\n\\r\\t é😀\\x00-\\x1f]{0,70}"
    ) {
        let mut w = ems_stu3::xml::XmlStream::default();
        w.value("x", &s);
        prop_assert_eq!(w.as_str(), format!("<x value=\"{}\"/>", escape_reference(&s)));
    }

    #[test]
    fn integers_are_written_as_display(n in any::<i64>()) {
        let mut w = ems_stu3::xml::XmlStream::default();
        w.value_i64("x", n);
        prop_assert_eq!(w.as_str(), format!("<x value=\"{n}\"/>"));
    }
}

#[test]
fn integer_extremes_are_written_as_display() {
    for n in [0, -1, 9, 10, i64::MIN, i64::MAX] {
        let mut w = ems_stu3::xml::XmlStream::default();
        w.value_i64("x", n);
        assert_eq!(w.as_str(), format!("<x value=\"{n}\"/>"));
    }
}
