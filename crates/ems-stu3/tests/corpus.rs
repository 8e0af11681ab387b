//! Round-trip acceptance tests over ../shared/corpus.

mod common;
use common::*;
use ems_stu3::{from_json, from_xml, to_json, to_json_pretty, to_xml, to_xml_pretty, Severity};

#[test]
fn nems_xml_round_trips() {
    let files = files("corpus/nems", "xml");
    assert_eq!(files.len(), 34, "corpus/nems should hold 34 XML files");
    for f in files {
        let src = std::fs::read_to_string(&f).unwrap();
        let parsed = from_xml(src.as_bytes()).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let reordered = parsed.outcome.with_rule("SCHEMA-ORDER").count() > 0;
        let norm = |s: &str| {
            let mut n = canon_xml(s);
            strip_inner_ns(&mut n, true);
            if reordered {
                group_by_name(&mut n);
            }
            n
        };
        let want = norm(&src);
        for out in [to_xml(&parsed.resource), to_xml_pretty(&parsed.resource)] {
            let root = format!(
                "<{} xmlns=\"http://hl7.org/fhir\"",
                parsed.resource.resource_type()
            );
            assert!(out.starts_with(&root), "{}: root namespace", f.display());
            assert_eq!(
                out.matches("xmlns=\"http://hl7.org/fhir\"").count(),
                1,
                "{}",
                f.display()
            );
            let got = norm(&out);
            assert_eq!(got, want, "{}: XML -> model -> XML differs", f.display());
        }
        // XML -> JSON -> XML
        let json = to_json(&parsed.resource);
        let back = from_json(json.as_bytes()).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let key = |o: &ems_stu3::Outcome| -> Vec<(String, String)> {
            o.issues
                .iter()
                .filter(|i| !matches!(i.rule, "SCHEMA-ORDER" | "XML-NAMESPACE"))
                .map(|i| (i.rule.to_string(), i.location.clone()))
                .collect()
        };
        assert_eq!(
            key(&back.outcome),
            key(&parsed.outcome),
            "{}: JSON re-read issues differ",
            f.display()
        );
        let got = norm(&to_xml(&back.resource));
        assert_eq!(got, want, "{}: XML -> JSON -> XML differs", f.display());
        assert_eq!(
            back.resource,
            parsed.resource,
            "{}: models differ",
            f.display()
        );
    }
}

#[test]
fn stu3_official_json_round_trips() {
    let files = files("corpus/stu3-official", "json");
    assert_eq!(files.len(), 52);
    for f in files {
        let src = std::fs::read_to_string(&f).unwrap();
        let parsed = from_json(src.as_bytes()).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let errors: Vec<_> = parsed
            .outcome
            .issues
            .iter()
            .filter(|i| i.severity <= Severity::Error)
            .collect();
        assert!(errors.is_empty(), "{}: {:#?}", f.display(), errors);
        let want: serde_json::Value = serde_json::from_str(&strip_comments(&src)).unwrap();
        for out in [to_json(&parsed.resource), to_json_pretty(&parsed.resource)] {
            let got: serde_json::Value = serde_json::from_str(&out).unwrap();
            assert_eq!(got, want, "{}: JSON -> model -> JSON differs", f.display());
            assert_eq!(
                number_lexemes(&out),
                number_lexemes(&strip_comments(&src)),
                "{}: numbers",
                f.display()
            );
        }
        // JSON -> XML -> JSON
        let xml = to_xml(&parsed.resource);
        let back = from_xml(xml.as_bytes()).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        assert!(
            back.outcome.issues.is_empty(),
            "{}: {}",
            f.display(),
            back.outcome
        );
        let got: serde_json::Value = serde_json::from_str(&to_json(&back.resource)).unwrap();
        assert_eq!(got, want, "{}: JSON -> XML -> JSON differs", f.display());
    }
}

/// STU3 JSON `fhir_comments` are not part of the model (XML comments are not either).
fn strip_comments(s: &str) -> String {
    let mut v: serde_json::Value = serde_json::from_str(s).unwrap();
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(m) => {
                m.remove("fhir_comments");
                for (_, x) in m.iter_mut() {
                    strip(x);
                }
                let empty: Vec<String> = m
                    .iter()
                    .filter(|(k, x)| {
                        k.starts_with('_') && x.as_object().is_some_and(|o| o.is_empty())
                    })
                    .map(|(k, _)| k.clone())
                    .collect();
                for k in empty {
                    m.remove(&k);
                }
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    strip(&mut v);
    if s.contains("fhir_comments") {
        serde_json::to_string(&v).unwrap()
    } else {
        s.to_string()
    }
}

#[test]
fn death_notifications_report_schema_order_at_communication_sender() {
    for name in ["formal", "informal", "removed"] {
        let p = shared().join(format!(
            "corpus/nems/PDS-Death-Notification-{name}-ems-example.xml"
        ));
        let src = std::fs::read(&p).unwrap();
        let parsed = from_xml(&src).unwrap();
        let order: Vec<_> = parsed.outcome.with_rule("SCHEMA-ORDER").collect();
        assert_eq!(order.len(), 1, "{name}: {}", parsed.outcome);
        let i = order[0];
        assert!(
            i.location
                .ends_with(".resource.ofType(Communication).sender"),
            "{name}: {}",
            i.location
        );
        assert!(i.location.starts_with("Bundle.entry["), "{}", i.location);
        assert!(i.line.is_some() && i.column.is_some());
    }
}

/// The typed writers (`to_xml_of` & co, used on a `&Bundle` without moving
/// it into a `Resource`) write exactly the bytes of the `Resource` writers.
#[test]
fn typed_writers_match_resource_writers_over_the_corpus() {
    let mut bundles = 0;
    for f in files("corpus/nems", "xml") {
        let src = std::fs::read(&f).unwrap();
        let r = from_xml(&src).unwrap().resource;
        if let ems_stu3::Resource::Bundle(b) = &r {
            let b: &ems_stu3::Bundle = b;
            bundles += 1;
            assert_eq!(ems_stu3::to_xml_of(b), to_xml(&r), "{}", f.display());
            assert_eq!(ems_stu3::to_xml_pretty_of(b), to_xml_pretty(&r));
            assert_eq!(ems_stu3::to_json_of(b), to_json(&r));
            assert_eq!(ems_stu3::to_json_pretty_of(b), to_json_pretty(&r));
        }
    }
    assert_eq!(bundles, 29, "Bundles in corpus/nems");
}
