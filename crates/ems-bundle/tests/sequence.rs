//! SequenceTracker and loop-back classification.

use chrono::{TimeZone, Utc};
use ems_bundle::samples::sample;
use ems_bundle::*;

fn msg(cx: &mut BuildContext, met: MessageEventType) -> EventMessage {
    let m = sample("vaccinations-1", met, false, cx).unwrap();
    EventMessage::from_resource(m.into_resource()).unwrap()
}

#[test]
fn new_duplicate_stale_gap() {
    let mut cx = BuildContext::deterministic(example_publisher(), 11);
    let v1 = msg(&mut cx, MessageEventType::New); // versionId 1
    let v2 = msg(&mut cx, MessageEventType::Update); // 2
    let v3 = msg(&mut cx, MessageEventType::Update); // 3
    let v4 = msg(&mut cx, MessageEventType::Delete); // 4
    let mut t = SequenceTracker::new(InMemoryStore::default());
    assert_eq!(t.classify(&v1), Classification::New);
    assert_eq!(t.classify(&v1), Classification::Duplicate);
    assert_eq!(
        t.classify(&v3),
        Classification::Gap {
            expected: 2,
            got: 3
        }
    );
    assert_eq!(
        t.classify(&v2),
        Classification::Stale,
        "arrived after a newer version"
    );
    assert_eq!(t.classify(&v4), Classification::New);
}

#[test]
fn later_last_updated_wins() {
    let p = example_publisher();
    let mut early = BuildContext::deterministic(p.clone(), 1);
    early.clock = Box::new(FixedClock(
        Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap(),
    ));
    let mut late = BuildContext::deterministic(p, 2);
    late.clock = Box::new(FixedClock(
        Utc.with_ymd_and_hms(2024, 2, 1, 0, 0, 0).unwrap(),
    ));
    let old = msg(&mut early, MessageEventType::New);
    let new = msg(&mut late, MessageEventType::New);
    let mut t = SequenceTracker::new(InMemoryStore::default());
    assert_eq!(t.classify(&new), Classification::New);
    assert_eq!(t.classify(&old), Classification::Stale);
}

#[test]
fn peek_does_not_record() {
    let mut cx = BuildContext::deterministic(example_publisher(), 3);
    let m = msg(&mut cx, MessageEventType::New);
    let mut t = SequenceTracker::new(InMemoryStore::default());
    assert_eq!(t.peek(&m), Classification::New);
    assert_eq!(
        t.peek(&m),
        Classification::New,
        "processing failed: the redelivered message is still new"
    );
    let c = t.peek(&m);
    t.commit(&m, &c);
    assert_eq!(t.peek(&m), Classification::Duplicate);
}

#[test]
fn streams_are_separate_per_focus_identifier_and_event() {
    let mut cx = BuildContext::deterministic(example_publisher(), 4);
    let a = msg(&mut cx, MessageEventType::New);
    let b = EventMessage::from_resource(
        sample(
            "professional-contacts-1",
            MessageEventType::New,
            false,
            &mut cx,
        )
        .unwrap()
        .into_resource(),
    )
    .unwrap();
    assert_ne!(StreamKey::of(&a), StreamKey::of(&b));
    assert_eq!(
        StreamKey::of(&a).focus.as_deref(),
        Some("https://fhir.example-chis.nhs.uk/Id/immunisation|IMMUNISATION-0001")
    );
}

#[test]
fn loopback_is_recognised() {
    let mut cx = BuildContext::deterministic(example_publisher(), 5);
    let m = msg(&mut cx, MessageEventType::New);
    let me = OwnIdentity {
        asids: vec!["200000000123".into()],
        ods_codes: vec![],
    };
    assert!(me.is_loopback(&m));
    let by_ods = OwnIdentity {
        asids: vec![],
        ods_codes: vec!["RR8".into()],
    };
    assert!(by_ods.is_loopback(&m));
    assert!(!OwnIdentity {
        asids: vec!["1".into()],
        ods_codes: vec!["X26".into()]
    }
    .is_loopback(&m));
}
