//! Every builder output validates in Publish mode with zero errors and zero
//! warnings: all ten events × allowed messageEventTypes, optional parts
//! present and absent, XML and JSON.

use ems_bundle::samples::{all_pairs, sample};
use ems_bundle::*;
use ems_profiles::{InputKind, Mode, Severity, Validator};

fn check(bytes: &[u8], what: &str) {
    let v = Validator::new(Mode::Publish).validate_bytes(bytes, InputKind::Event);
    let bad: Vec<String> = v
        .outcome
        .issues
        .iter()
        .filter(|i| i.severity <= Severity::Warning)
        .map(|i| i.to_string())
        .collect();
    assert!(bad.is_empty(), "{what}:\n{}", bad.join("\n"));
}

#[test]
fn every_event_and_message_event_type_is_valid() {
    let pairs = all_pairs();
    assert_eq!(
        pairs.len(),
        17,
        "10 events, 17 (event, messageEventType) pairs"
    );
    for (event, met) in pairs {
        for full in [false, true] {
            let mut cx = BuildContext::deterministic(example_publisher(), 1);
            let msg = sample(event, met, full, &mut cx)
                .unwrap_or_else(|e| panic!("{event}/{met:?}: {e}"));
            assert_eq!(msg.event.code, event);
            check(
                msg.to_xml().as_bytes(),
                &format!("{event} {met:?} full={full} (XML)"),
            );
            check(
                msg.to_json().as_bytes(),
                &format!("{event} {met:?} full={full} (JSON)"),
            );
            // the receiver view agrees with what was built
            let m = EventMessage::from_xml(msg.to_xml().as_bytes()).unwrap();
            assert_eq!(m.event_type().code(), event);
            assert_eq!(m.message_event_type(), Some(met));
            assert_eq!(m.message_id(), Some(msg.message_id()));
            assert!(m.focus().is_some());
            // a birth notification without the mother has no routing patient,
            // so no per-patient sequence number
            let no_patient = event == "pds-birth-notification-1" && !full;
            assert_eq!(m.version_id(), if no_patient { None } else { Some(1) });
            assert!(m.last_updated().is_some());
            assert_eq!(m.source_asid(), Some("200000000123"));
        }
    }
}

#[test]
fn disallowed_message_event_types_are_rejected() {
    let mut cx = BuildContext::deterministic(example_publisher(), 1);
    let e = sample(
        "blood-spot-test-outcome-1",
        MessageEventType::Update,
        false,
        &mut cx,
    )
    .unwrap_err();
    assert_eq!(e.field, "message_event_type");
    let e = sample(
        "pds-change-of-gp-1",
        MessageEventType::Delete,
        false,
        &mut cx,
    )
    .unwrap_err();
    assert!(e.message.contains("allowed: new"));
}

#[test]
fn missing_mandatory_data_is_named() {
    let mut cx = BuildContext::deterministic(example_publisher(), 1);
    let p = samples::sample_adult();
    let e = PdsChangeOfGp::new(p.clone(), 1).build(&mut cx).unwrap_err();
    assert_eq!(e.field, "new_practice");
    let mut no_addr = p.clone();
    no_addr.address = None;
    let prev = AddressInfo {
        lines: vec!["1 A ROAD".into()],
        postcode: "LS1 4AP".into(),
        from: chrono::NaiveDate::from_ymd_opt(2000, 1, 1).unwrap(),
        to: None,
    };
    assert_eq!(
        PdsChangeOfAddress::new(no_addr, prev, 1)
            .build(&mut cx)
            .unwrap_err()
            .field,
        "patient.address"
    );
    let no_phone = OrgInfo::new("RR8", "TRUST");
    let e = ProfessionalContacts::new(
        p,
        RecordId::new("https://x/Id/e", "1"),
        "active",
        Snomed::new("1078501000000104", "Health visiting service"),
        no_phone,
    )
    .build(&mut cx)
    .unwrap_err();
    assert_eq!(e.field, "organization.phone");
}

#[test]
fn deterministic_mode_is_reproducible() {
    let a = sample(
        "vaccinations-1",
        MessageEventType::New,
        true,
        &mut BuildContext::deterministic(example_publisher(), 9),
    )
    .unwrap();
    let b = sample(
        "vaccinations-1",
        MessageEventType::New,
        true,
        &mut BuildContext::deterministic(example_publisher(), 9),
    )
    .unwrap();
    assert_eq!(a.to_xml(), b.to_xml());
    let c = sample(
        "vaccinations-1",
        MessageEventType::New,
        true,
        &mut BuildContext::deterministic(example_publisher(), 10),
    )
    .unwrap();
    assert_ne!(a.message_id(), c.message_id());
}

#[test]
fn sequence_numbers_increment_per_patient_and_event() {
    let mut cx = BuildContext::deterministic(example_publisher(), 3);
    let v: Vec<u64> = (0..3)
        .map(|_| {
            let m = sample("vaccinations-1", MessageEventType::New, false, &mut cx).unwrap();
            EventMessage::from_resource(m.into_resource())
                .unwrap()
                .version_id()
                .unwrap()
        })
        .collect();
    assert_eq!(v, vec![1, 2, 3]);
    let other = sample(
        "professional-contacts-1",
        MessageEventType::New,
        false,
        &mut cx,
    )
    .unwrap();
    assert_eq!(
        EventMessage::from_resource(other.into_resource())
            .unwrap()
            .version_id(),
        Some(1)
    );
}

#[test]
fn in_memory_sequence_counts_each_publisher_patient_event_stream() {
    use ems_bundle::{InMemorySequence, SequenceSource};
    let mut s = InMemorySequence::default();
    let asid = "urn:nhs:addressing:asid:200000000123";
    assert_eq!(s.next(asid, "9434765919", "vaccinations-1"), 1);
    assert_eq!(s.next(asid, "9434765919", "vaccinations-1"), 2);
    // another event, patient or publisher: a stream of its own
    assert_eq!(s.next(asid, "9434765919", "newborn-hearing-1"), 1);
    assert_eq!(s.next(asid, "9912003888", "vaccinations-1"), 1);
    assert_eq!(
        s.next("urn:nhs:addressing:asid:1", "9434765919", "vaccinations-1"),
        1
    );
    assert_eq!(s.next(asid, "9434765919", "vaccinations-1"), 3);
    // the parts are not concatenated into one key
    assert_eq!(s.next("a", "bc", "d"), 1);
    assert_eq!(s.next("ab", "c", "d"), 1);
}

/// Dates are written as `YYYY-MM-DD` by the builders' own formatter; it
/// must agree with chrono's for every kind of date (leading zeros, leap
/// days, the ends of the supported range).
#[test]
fn built_dates_match_chrono() {
    use chrono::NaiveDate;
    let mut cx = BuildContext::deterministic(example_publisher(), 5);
    for (y, m, d) in [
        (2024, 2, 29),
        (1, 1, 1),
        (999, 12, 31),
        (9999, 12, 31),
        (2000, 10, 9),
        (1900, 3, 1),
        (10000, 1, 1),
        (-1, 6, 15),
    ] {
        let day = NaiveDate::from_ymd_opt(y, m, d).unwrap();
        let p = PatientInfo::new("9434765919".parse().unwrap(), "SMITH", "JO", day);
        let m = PdsRecordChange::new(p, 1).build(&mut cx).unwrap();
        let r = EventMessage::from_resource(m.into_resource()).unwrap();
        assert_eq!(
            r.routing_birth_date(),
            Some(day.to_string().as_str()),
            "{day}"
        );
    }
}
