//! Time and size bounds on hostile input (issue 14): every pathological shape
//! is read in time linear in its size, checked against a clean message of the
//! same size read in the same run (`ems_testdata::hostile::assert_linear`).

use ems_stu3::{from_json, from_xml, line_col, LineIndex};
use ems_testdata::hostile;

/// Reference for the line index: rescan from byte 0 (the old `line_col`).
fn rescan(src: &[u8], pos: usize) -> (u32, u32) {
    let before = &src[..pos.min(src.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    let col = String::from_utf8_lossy(&before[start..]).chars().count() + 1;
    (line as u32, col as u32)
}

/// Finding 2: the index gives the rescan's answer at every offset, across
/// block boundaries, multi-byte characters and empty lines.
#[test]
fn finding_2_line_index_matches_a_rescan() {
    let mut s = String::new();
    for i in 0..700 {
        s.push_str(["ab", "é", "\n", "𝄞x", "\n\n", "€€€", "<x/>"][i % 7]);
    }
    for len in [0, 1, 1023, 1024, 1025, s.len()] {
        let src = &s.as_bytes()[..len.min(s.len())];
        let src = &src[..(0..=src.len())
            .rev()
            .find(|&k| s.is_char_boundary(k))
            .unwrap()];
        let ix = LineIndex::new(src);
        for pos in 0..=src.len() + 2 {
            if pos <= src.len() && !s.is_char_boundary(pos) {
                continue;
            }
            assert_eq!(ix.line_col(pos), rescan(src, pos), "len {len} pos {pos}");
            assert_eq!(line_col(src, pos), rescan(src, pos));
        }
    }
}

/// Finding 2: one line of unknown elements (an issue each) was quadratic:
/// 600 KB took 68 s. Positions now come from a line index.
#[test]
fn finding_2_unknown_elements_are_linear() {
    let size = 1024 * 1024;
    hostile::assert_scales_linearly(
        "unknown elements (XML)",
        size,
        hostile::unknown_elements_xml,
        |b| {
            assert!(!from_xml(b).expect("reads").outcome.issues.is_empty());
        },
    );
    hostile::assert_scales_linearly(
        "unknown properties (JSON)",
        size,
        hostile::unknown_properties_json,
        |b| {
            assert!(!from_json(b).expect("reads").outcome.issues.is_empty());
        },
    );
}

/// Clean baselines of `size` bytes: the corpus entries of a change of
/// address repeated, in XML and (converted) in JSON.
fn clean(size: usize) -> (Vec<u8>, Vec<u8>) {
    let xml = hostile::clean_xml("PDS-Change-Of-Address-ems-example.xml", size);
    let json = ems_stu3::to_json(&from_xml(&xml).expect("clean XML reads").resource).into_bytes();
    (xml, json)
}

/// Issue 14 time and size bounds: every pathological shape at the 3 MiB cap
/// is read within `LINEAR_FACTOR` times a clean message of the same size
/// read in the same run, and lists at most `MAX_ISSUES` issues plus the
/// `ISSUES-TRUNCATED` summary.
#[test]
fn hostile_shapes_at_the_cap_are_read_in_linear_time() {
    let (cx, cj) = clean(hostile::CAP);
    assert!(
        cx.len() > hostile::CAP - 64 * 1024 && cj.len() <= hostile::CAP,
        "{} {}",
        cx.len(),
        cj.len()
    );
    let read = |b: &[u8]| match b.first() {
        Some(b'{') => from_json(b).map(|p| p.outcome),
        _ => from_xml(b).map(|p| p.outcome),
    };
    for (what, make) in hostile::SHAPES {
        let input = make(hostile::CAP);
        assert!(input.len() <= hostile::CAP, "{what}");
        let outcome = read(&input).unwrap_or_else(|e| e.outcome);
        assert!(!outcome.issues.is_empty(), "{what}");
        assert!(
            outcome.issues.len() <= ems_stu3::MAX_ISSUES + 2,
            "{what}: {}",
            outcome.issues.len()
        );
        let clean = if input[0] == b'{' { &cj } else { &cx };
        let (base, bad) = hostile::assert_linear(what, clean, &input, |b| {
            let _ = read(b);
        });
        eprintln!(
            "{what}: {} issues listed, {} counted; {bad:?} vs clean {base:?}",
            outcome.issues.len(),
            outcome.omitted()
        );
    }
}

/// The summary issue: counts by rule, worst severity, fatal issues still
/// last and listed.
#[test]
fn issues_beyond_the_limit_are_counted_in_one_summary() {
    let n = ems_stu3::MAX_ISSUES + 250;
    let x = format!(
        r#"<Patient xmlns="http://hl7.org/fhir">{}<birthDate value="x"/></Patient>"#,
        "<x/>".repeat(n)
    );
    let o = from_xml(x.as_bytes()).unwrap().outcome;
    assert_eq!(o.issues.len(), ems_stu3::MAX_ISSUES + 1);
    let s = o.issues.last().unwrap();
    assert_eq!(s.rule, ems_stu3::rules::ISSUES_TRUNCATED);
    assert_eq!(s.severity, ems_stu3::Severity::Error);
    assert!(s.message.starts_with("251 more issues"), "{}", s.message);
    assert!(
        s.message
            .ends_with(": 250 SCHEMA-UNKNOWN, 1 PRIMITIVE-FORMAT"),
        "{}",
        s.message
    );
    assert_eq!((o.omitted(), o.error_count()), (251, n + 1));
    let oo = o.to_operation_outcome();
    assert_eq!(oo.issue.len(), ems_stu3::MAX_ISSUES + 1);
    // a fatal error after the limit is listed, last, after the summary
    let e = from_xml(
        format!(
            r#"<Patient xmlns="http://hl7.org/fhir">{}<a></b></Patient>"#,
            "<x/>".repeat(n)
        )
        .as_bytes(),
    )
    .unwrap_err();
    let k = e.outcome.issues.len();
    assert_eq!(k, ems_stu3::MAX_ISSUES + 2);
    assert_eq!(e.issue().unwrap().rule, ems_stu3::rules::XML_MALFORMED);
    assert_eq!(
        e.outcome.issues[k - 2].rule,
        ems_stu3::rules::ISSUES_TRUNCATED
    );
    // JSON the same
    let j = format!(r#"{{"resourceType":"Patient"{}}}"#, r#","x":1"#.repeat(n));
    let o = from_json(j.as_bytes()).unwrap().outcome;
    assert_eq!(
        (o.issues.len(), o.omitted()),
        (ems_stu3::MAX_ISSUES + 1, 250)
    );
}
