//! Hostile-input regressions for the validator (issue 14 fuzz findings and
//! time bounds).

use ems_profiles::{InputKind, Mode, Severity, Validator};

/// The corpus create request with `extra` appended to its criteria.
fn subscription_with(extra: &str) -> String {
    let xml = String::from_utf8(ems_testdata::nems("subscription-create-explicit.xml")).unwrap();
    let at = xml.find("<criteria value=\"").unwrap() + "<criteria value=\"".len();
    let end = at + xml[at..].find('"').unwrap();
    format!("{}{extra}{}", &xml[..end], &xml[end..])
}

/// Fuzz finding 1: a Subscription with `Patient.age=gé5` panicked the
/// criteria parser (exit 101); it is a `SUB-CRITERIA-VALUE` error.
#[test]
fn finding_1_patient_age_multibyte_reports_sub_criteria_value() {
    for age in ["gé5", "gé", "é", "l€1"] {
        let xml = subscription_with(&format!("&amp;Patient.age={age}"));
        let v =
            Validator::new(Mode::Publish).validate_bytes(xml.as_bytes(), InputKind::Subscription);
        let rules: Vec<_> = v.outcome.issues.iter().map(|i| i.rule).collect();
        assert_eq!(rules, vec!["SUB-CRITERIA-VALUE"], "{age}: {}", v.outcome);
    }
    let clean = subscription_with("&amp;Patient.age=gt5");
    let v = Validator::new(Mode::Publish).validate_bytes(clean.as_bytes(), InputKind::Subscription);
    assert!(v.outcome.issues.is_empty(), "{}", v.outcome);
}

/// Fuzz finding 3: the reader's PRIMITIVE-FORMAT findings replaced by the
/// validator's DATETIME-FORMAT ones were matched pair by pair (600 KB of bad
/// `Timing.event` dateTimes took 18.8 s). Now linear, and each bad dateTime
/// is still reported once, as DATETIME-FORMAT.
#[test]
fn finding_3_bad_timing_events_are_linear() {
    let v = Validator::new(Mode::Publish);
    let small = ems_testdata::hostile::bad_timing_events_xml(4096);
    let out = v.validate_bytes(&small, InputKind::Event).outcome;
    let events = small.windows(7).filter(|w| w == b"<event ").count();
    assert_eq!(out.with_rule("DATETIME-FORMAT").count(), events, "{out}");
    assert_eq!(out.with_rule("PRIMITIVE-FORMAT").count(), 0, "{out}");
    for (what, make) in [
        (
            "bad Timing.event (XML)",
            ems_testdata::hostile::bad_timing_events_xml as fn(usize) -> Vec<u8>,
        ),
        (
            "bad Timing.event (JSON)",
            ems_testdata::hostile::bad_timing_events_json,
        ),
    ] {
        ems_testdata::hostile::assert_scales_linearly(what, 1024 * 1024, make, |b| {
            let o = v.validate_bytes(b, InputKind::Event).outcome;
            assert!(o.with_rule("DATETIME-FORMAT").next().is_some(), "{what}");
        });
    }
}

/// Issue 14 bounds: validating any pathological shape at the 3 MiB cap takes
/// at most `LINEAR_FACTOR` times validating a clean message of the same
/// size (same run), and the outcome lists at most `MAX_ISSUES` issues plus
/// the summary, in both modes.
#[test]
fn hostile_shapes_at_the_cap_are_validated_in_linear_time() {
    use ems_testdata::hostile;
    let clean_xml = hostile::clean_xml("PDS-Change-Of-Address-ems-example.xml", hostile::CAP);
    let clean_json = {
        let p = ems_stu3::from_xml(&clean_xml).unwrap();
        ems_stu3::to_json(&p.resource).into_bytes()
    };
    for mode in [Mode::Publish, Mode::Receive] {
        let v = Validator::new(mode);
        for (what, make) in hostile::SHAPES {
            let input = make(hostile::CAP);
            let o = v.validate_bytes(&input, InputKind::Auto).outcome;
            assert!(
                o.issues.len() <= ems_stu3::MAX_ISSUES + 2,
                "{what}: {}",
                o.issues.len()
            );
            if mode == Mode::Receive {
                continue; // timed once: the modes differ only in severities
            }
            let clean = if input[0] == b'{' {
                &clean_json
            } else {
                &clean_xml
            };
            let (base, bad) = hostile::assert_linear(what, clean, &input, |b| {
                v.validate_bytes(b, InputKind::Auto);
            });
            eprintln!(
                "{mode:?} {what}: {bad:?} vs clean {base:?}; {} listed, {} counted",
                o.issues.len(),
                o.omitted()
            );
        }
    }
}

/// The summary issue is classified like the findings it counts: an error
/// in Publish mode, a warning in Receive mode for reader findings (a corpus
/// message, valid in Receive mode, with 2,000 unknown elements).
#[test]
fn summary_issue_follows_the_mode() {
    let src =
        String::from_utf8(ems_testdata::nems("PDS-Change-Of-Address-ems-example.xml")).unwrap();
    let at = src.find("<entry>").unwrap();
    let input = format!("{}{}{}", &src[..at], "<x/>".repeat(2000), &src[at..]);
    for (mode, want) in [
        (Mode::Publish, Severity::Error),
        (Mode::Receive, Severity::Warning),
    ] {
        let o = Validator::new(mode)
            .validate_bytes(input.as_bytes(), InputKind::Auto)
            .outcome;
        let s = o.with_rule("ISSUES-TRUNCATED").next().expect("summary");
        assert_eq!(s.severity, want, "{mode:?}: {}", s.message);
        assert!(o.omitted() >= 1000, "{mode:?}");
        assert_eq!(o.has_errors(), mode == Mode::Publish, "{mode:?}");
        assert!(o.warning_count() + o.error_count() >= 2000, "{mode:?}");
    }
}
