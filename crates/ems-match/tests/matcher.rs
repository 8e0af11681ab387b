//! The indexed matcher against a straightforward reference matcher, plus
//! focused tests of every matching rule.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use ems_match::*;
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::sync::Arc;

const NHS: [&str; 4] = ["9434765919", "9912003888", "4010232137", "9999999999"];
const PRACTICES: [&str; 4] = ["B86001", "B83001", "P84001", "Z99999"];
const POSTCODES: [&str; 6] = [
    "LS17 7DF", "BD1 1AA", "YO1 7HH", "CF10 1EP", "EH1 1YZ", "ZZ1 1ZZ",
];
const ORGS: [&str; 12] = [
    "B86001",
    "B83001",
    "15F",
    "36J",
    "42D",
    "14L",
    "E08000035",
    "E06000014",
    "E92000001",
    "W92000004",
    "S92000003",
    "X1",
];
const MAILBOXES: [&str; 3] = ["MBOXA01", "MBOXB02", "MBOXC03"];

fn t(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_000_000_000 + secs, 0).unwrap()
}

/// The reference: the rules of digest section 7, written plainly.
fn reference(subs: &[Subscription], geo: &CsvGeography, ev: &MatchEvent) -> Vec<Delivery> {
    if ev.patient.pds_flag.is_some() {
        return vec![];
    }
    let Some(et) = event_type(&ev.event_code) else {
        return vec![];
    };
    let mut by_mailbox: BTreeMap<String, Vec<&Subscription>> = BTreeMap::new();
    for s in subs {
        if s.status != SubscriptionStatus::Active || !s.criteria.events.contains(&ev.event_code) {
            continue;
        }
        if s.created > ev.at || s.end.is_some_and(|e| e < ev.at) {
            continue;
        }
        let matches = match &s.criteria.kind {
            CriteriaKind::Explicit { nhs_number, .. } => ev.nhs_number == Some(*nhs_number),
            CriteriaKind::Generic { rule, organization } => {
                let areas: Vec<&PostcodeArea> = [
                    ev.patient.postcode.as_deref(),
                    ev.patient.previous_postcode.as_deref(),
                ]
                .into_iter()
                .flatten()
                .filter_map(|p| geo.postcode(p))
                .collect();
                let org = Some(organization.as_str());
                match rule {
                    RuleType::GpGpGp => ev.patient.gp_practice.as_deref() == org,
                    RuleType::ChoGpCcg => {
                        ev.patient
                            .gp_practice
                            .as_deref()
                            .and_then(|p| geo.practice_sub_icb(p))
                            == org
                    }
                    RuleType::ChoPostcodeCcg => areas.iter().any(|a| a.sub_icb.as_deref() == org),
                    RuleType::UhvPostcodeLacode => {
                        areas.iter().any(|a| a.local_authority.as_deref() == org)
                    }
                    RuleType::CountryCode => areas.iter().any(|a| a.country.as_deref() == org),
                }
            }
        };
        if !matches {
            continue;
        }
        match s.criteria.gp_registration {
            Some(GpRegistration::RegisteredOnly) if ev.patient.gp_practice.is_none() => continue,
            Some(GpRegistration::UnregisteredOnly) if ev.patient.gp_practice.is_some() => continue,
            _ => {}
        }
        if !s.criteria.age.is_empty() {
            let Some(b) = ev.birth_date else { continue };
            let age = age_on(b, ev.at.date_naive());
            if !s.criteria.age.iter().all(|f| f.accepts(age)) {
                continue;
            }
        }
        by_mailbox.entry(s.mailbox.clone()).or_default().push(s);
    }
    by_mailbox
        .into_iter()
        .map(|(mailbox, mut v)| {
            v.sort_by(|a, b| a.id.cmp(&b.id));
            let tagged: Vec<String> = v
                .iter()
                .filter_map(|s| s.tag().map(|t| format!("{}|{}", s.id, t)))
                .collect();
            Delivery {
                mailbox,
                workflow_id: et.workflow_id,
                subscriptions: v.iter().map(|s| s.id.clone()).collect(),
                partner_id: if tagged.is_empty() {
                    None
                } else {
                    Some(tagged.join("~~~"))
                },
            }
        })
        .collect()
}

fn arb_sub() -> impl Strategy<Value = Subscription> {
    (
        prop_oneof![
            (0usize..4, prop::collection::btree_set(0usize..10, 1..3)).prop_map(|(n, evs)| {
                let e: Vec<String> = evs.into_iter().map(|i| format!("&MessageHeader.event={}", EVENT_TYPES[i].code)).collect();
                format!("/Bundle?type=message&Patient.identifier=https://fhir.nhs.uk/Id/nhs-number|{}{}", NHS[n], e.concat())
            }),
            (0usize..5, 0usize..12, 0usize..10).prop_filter_map("country codes", |(r, o, e)| {
                let rule = RuleType::ALL[r];
                if rule == RuleType::CountryCode && !COUNTRY_CODES.iter().any(|(c, _)| *c == ORGS[o]) {
                    return None;
                }
                Some(format!(
                    "/Bundle?type=message&subscriptionRuleType={}&Organization.identifier={}&MessageHeader.event={}",
                    rule.code(), ORGS[o], EVENT_TYPES[e].code
                ))
            }),
        ],
        prop::option::of(prop_oneof![Just("&Patient.age=gt5"), Just("&Patient.age=lt19"), Just("&Patient.age=gt2&Patient.age=lt11")]),
        prop::option::of(prop_oneof![Just("&GPRegistration=RegisteredOnly"), Just("&GPRegistration=UnregisteredOnly")]),
        prop::option::of("[a-z|,]{1,6}"),
        (0usize..3, 0u8..8, 0i64..1000, prop::option::of(0i64..2000)),
        prop_oneof![Just(true), Just(false)],
    )
        .prop_map(|(base, age, gp, tag, (mb, st, created, end), uuid)| (base, age, gp, tag, mb, st, created, end, uuid))
        .prop_map(|(base, age, gp, tag, mb, st, created, end, uuid)| {
            let mut c = base;
            c.push_str(age.unwrap_or(""));
            c.push_str(gp.unwrap_or(""));
            if let Some(t) = tag {
                c.push_str(&format!("&tag={t}"));
            }
            let criteria = Criteria::parse(&c).unwrap_or_else(|e| panic!("{c}: {e}"));
            let _ = uuid;
            Subscription {
                id: String::new(),
                status: if st == 0 { SubscriptionStatus::Requested } else if st == 1 { SubscriptionStatus::Off } else { SubscriptionStatus::Active },
                end: end.map(t),
                created: t(created),
                mailbox: MAILBOXES[mb].to_string(),
                contact_ods: Some("X26".into()),
                criteria,
            }
        })
}

fn arb_event() -> impl Strategy<Value = MatchEvent> {
    (
        prop::option::of(0usize..4),
        0usize..11,
        prop::option::of(0i64..40 * 365),
        0i64..2500,
        prop::option::of(0usize..6),
        prop::option::of(0usize..6),
        prop::option::of(0usize..4),
        0u8..20,
    )
        .prop_map(|(n, e, b, at, pc, prev, gp, flag)| MatchEvent {
            nhs_number: n.map(|i| NHS[i].parse().unwrap()),
            event_code: if e == 10 {
                "referral-1".into()
            } else {
                EVENT_TYPES[e].code.into()
            },
            birth_date: b.map(|d| NaiveDate::from_ymd_opt(1990, 1, 1).unwrap() + Duration::days(d)),
            at: t(at),
            patient: PatientContext {
                postcode: pc.map(|i| POSTCODES[i].into()),
                previous_postcode: prev.map(|i| POSTCODES[i].into()),
                gp_practice: gp.map(|i| PRACTICES[i].into()),
                pds_flag: match flag {
                    0 => Some(PdsFlag::Sensitive),
                    1 => Some(PdsFlag::Invalid),
                    _ => None,
                },
            },
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn indexed_matcher_equals_reference(
        mut subs in prop::collection::vec(arb_sub(), 0..60),
        remove in prop::collection::vec(any::<bool>(), 60),
        events in prop::collection::vec(arb_event(), 1..20),
    ) {
        let geo = CsvGeography::sample();
        for (i, s) in subs.iter_mut().enumerate() {
            // mix UUID ids (compact) and free-text ids
            s.id = if i % 2 == 0 { format!("00000000-0000-4000-8000-{:012x}", i * 7919) } else { format!("sub-{i:03}") };
        }
        let mut m = Matcher::new(Arc::new(geo.clone()));
        for s in &subs {
            m.insert(s).unwrap();
        }
        let mut kept = Vec::new();
        for (s, r) in subs.iter().zip(&remove) {
            if *r {
                prop_assert!(m.remove(&s.id));
            } else {
                kept.push(s.clone());
            }
        }
        prop_assert_eq!(m.len(), kept.len());
        let restored = Matcher::from_snapshot(&m.snapshot(), Arc::new(geo.clone())).unwrap();
        prop_assert_eq!(restored.len(), kept.len());
        // one buffer reused across all events must give the same deliveries
        let mut buf = Vec::new();
        for ev in &events {
            let want = reference(&kept, &geo, ev);
            prop_assert_eq!(&m.match_event(ev), &want, "{:?}", ev);
            prop_assert_eq!(&restored.match_event(ev), &want);
            m.match_event_into(ev, &mut buf);
            prop_assert_eq!(&buf, &want);
        }
    }

    #[test]
    fn bulk_built_matcher_equals_inserts_in_order(
        mut subs in prop::collection::vec(arb_sub(), 0..60),
        ids in prop::collection::vec(0usize..20, 60),
        events in prop::collection::vec(arb_event(), 1..20),
    ) {
        let geo = CsvGeography::sample();
        for (s, i) in subs.iter_mut().zip(&ids) {
            // repeated ids (a later one replaces an earlier), UUID and free text
            s.id = if i % 2 == 0 { format!("00000000-0000-4000-8000-{:012x}", i * 7919) } else { format!("sub-{i:03}") };
        }
        let mut m = Matcher::new(Arc::new(geo.clone()));
        let mut b = MatcherBuilder::new(Arc::new(geo.clone()));
        for s in &subs {
            m.insert(s).unwrap();
            b.push(s).unwrap();
        }
        prop_assert_eq!(b.len(), subs.len());
        let mut built = b.build();
        prop_assert_eq!(built.len(), m.len());
        for ev in &events {
            prop_assert_eq!(&built.match_event(ev), &m.match_event(ev), "{:?}", ev);
        }
        // and it stays a normal index: removals, inserts, snapshots
        for s in subs.iter().step_by(3) {
            prop_assert_eq!(built.remove(&s.id), m.remove(&s.id));
        }
        let restored = Matcher::from_snapshot(&built.snapshot(), Arc::new(geo.clone())).unwrap();
        for ev in &events {
            let want = m.match_event(ev);
            prop_assert_eq!(&built.match_event(ev), &want);
            prop_assert_eq!(&restored.match_event(ev), &want);
        }
    }
}

fn sub(id: &str, mailbox: &str, c: &str) -> Subscription {
    Subscription::new(id, mailbox, c.parse().unwrap(), t(0))
}

fn event(code: &str) -> MatchEvent {
    MatchEvent {
        nhs_number: Some("9434765919".parse().unwrap()),
        event_code: code.into(),
        birth_date: Some(NaiveDate::from_ymd_opt(2015, 6, 1).unwrap()),
        at: t(100),
        patient: PatientContext {
            postcode: Some("LS17 7DF".into()),
            gp_practice: Some("B86001".into()),
            ..Default::default()
        },
    }
}

const EXP: &str = "/Bundle?type=message&Patient.identifier=https://fhir.nhs.uk/Id/nhs-number|9434765919&MessageHeader.event=vaccinations-1";

#[test]
fn one_delivery_per_mailbox_with_partner_ids() {
    let mut m = Matcher::new(Arc::new(CsvGeography::sample()));
    m.insert(&sub("subC", "MBOX1", &format!("{EXP}&tag=tagC")))
        .unwrap();
    m.insert(&sub("subA", "MBOX1", &format!("{EXP}&tag=tagA")))
        .unwrap();
    m.insert(&sub("subB", "MBOX1", EXP)).unwrap();
    m.insert(&sub("subD", "MBOX0", "/Bundle?type=message&subscriptionRuleType=GP_GP_GP&Organization.identifier=B86001&MessageHeader.event=vaccinations-1")).unwrap();
    let d = m.match_event(&event("vaccinations-1"));
    assert_eq!(d.len(), 2);
    assert_eq!(d[0].mailbox, "MBOX0");
    assert_eq!(d[0].partner_id, None);
    assert_eq!(d[1].subscriptions, vec!["subA", "subB", "subC"]);
    assert_eq!(d[1].partner_id.as_deref(), Some("subA|tagA~~~subC|tagC"));
    assert_eq!(d[1].workflow_id, "VACCINATIONS_1");
    let pairs = parse_partner_id(d[1].partner_id.as_deref().unwrap()).unwrap();
    assert_eq!(pairs.len(), 2);
}

#[test]
fn status_end_created_and_flags() {
    let geo = Arc::new(CsvGeography::sample());
    let mut m = Matcher::new(geo);
    let mut s = sub("s", "M", EXP);
    s.status = SubscriptionStatus::Requested;
    m.insert(&s).unwrap();
    assert!(
        m.match_event(&event("vaccinations-1")).is_empty(),
        "requested does not match"
    );
    s.status = SubscriptionStatus::Active;
    s.end = Some(t(50));
    m.insert(&s).unwrap();
    assert_eq!(m.len(), 1, "same id replaces");
    assert!(
        m.match_event(&event("vaccinations-1")).is_empty(),
        "past end"
    );
    s.end = Some(t(500));
    s.created = t(200);
    m.insert(&s).unwrap();
    assert!(
        m.match_event(&event("vaccinations-1")).is_empty(),
        "created after publication"
    );
    s.created = t(0);
    m.insert(&s).unwrap();
    assert_eq!(m.match_event(&event("vaccinations-1")).len(), 1);
    for flag in [PdsFlag::Sensitive, PdsFlag::Invalid] {
        let mut e = event("vaccinations-1");
        e.patient.pds_flag = Some(flag);
        assert!(m.match_event(&e).is_empty(), "{flag:?}");
    }
    assert!(
        m.match_event(&event("pds-change-of-gp-1")).is_empty(),
        "other event"
    );
    assert!(m.remove("s"));
    assert!(!m.remove("s"));
    assert!(m.match_event(&event("vaccinations-1")).is_empty());
}

#[test]
fn change_of_address_matches_old_and_new_area() {
    let mut m = Matcher::new(Arc::new(CsvGeography::sample()));
    let coa = "MessageHeader.event=pds-change-of-address-1";
    m.insert(&sub("leeds", "LEEDS01", &format!("/Bundle?type=message&subscriptionRuleType=CHO_POSTCODE_CCG&Organization.identifier=15F&{coa}"))).unwrap();
    m.insert(&sub("york", "YORK001", &format!("/Bundle?type=message&subscriptionRuleType=UHV_POSTCODE_LACODE&Organization.identifier=E06000014&{coa}"))).unwrap();
    m.insert(&sub("eng", "ENG0001", &format!("/Bundle?type=message&subscriptionRuleType=COUNTRYCODE&Organization.identifier=E92000001&{coa}"))).unwrap();
    let mut e = event("pds-change-of-address-1");
    e.patient.postcode = Some("YO1 7HH".into());
    e.patient.previous_postcode = Some("LS17 7DF".into());
    let d = m.match_event(&e);
    let boxes: Vec<_> = d.iter().map(|d| d.mailbox.as_str()).collect();
    assert_eq!(boxes, vec!["ENG0001", "LEEDS01", "YORK001"]);
    assert_eq!(
        d[0].subscriptions,
        vec!["eng"],
        "both addresses in England: one match"
    );
}

#[test]
fn age_and_gp_registration_filters() {
    let mut m = Matcher::new(Arc::new(CsvGeography::sample()));
    m.insert(&sub(
        "kids",
        "M1",
        &format!("{EXP}&Patient.age=gt2&Patient.age=lt11"),
    ))
    .unwrap();
    m.insert(&sub(
        "reg",
        "M2",
        &format!("{EXP}&GPRegistration=RegisteredOnly"),
    ))
    .unwrap();
    m.insert(&sub(
        "unreg",
        "M3",
        &format!("{EXP}&GPRegistration=UnregisteredOnly"),
    ))
    .unwrap();
    m.insert(&sub("ccg", "M4", "/Bundle?type=message&subscriptionRuleType=CHO_GP_CCG&Organization.identifier=15F&MessageHeader.event=vaccinations-1")).unwrap();
    let mut e = event("vaccinations-1"); // born 2015-06-01, event in 2001 → age 0
    e.at = Utc.with_ymd_and_hms(2020, 6, 1, 0, 0, 0).unwrap(); // age 5
    let boxes = |e: &MatchEvent| {
        m.match_event(e)
            .into_iter()
            .map(|d| d.mailbox)
            .collect::<Vec<_>>()
    };
    assert_eq!(boxes(&e), vec!["M1", "M2", "M4"]);
    e.patient.gp_practice = None;
    assert_eq!(boxes(&e), vec!["M1", "M3"]);
    e.birth_date = None;
    assert_eq!(boxes(&e), vec!["M3"], "age filter needs a birth date");
}

#[test]
fn birth_notification_without_nhs_number_matches_only_generic() {
    let mut m = Matcher::new(Arc::new(CsvGeography::sample()));
    let bn = "MessageHeader.event=pds-birth-notification-1";
    m.insert(&sub("exp", "M1", &format!("/Bundle?type=message&Patient.identifier=https://fhir.nhs.uk/Id/nhs-number|9434765919&{bn}"))).unwrap();
    m.insert(&sub("gen", "M2", &format!("/Bundle?type=message&subscriptionRuleType=CHO_POSTCODE_CCG&Organization.identifier=15F&{bn}"))).unwrap();
    let mut e = event("pds-birth-notification-1");
    e.nhs_number = None;
    let d = m.match_event(&e);
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].subscriptions, vec!["gen"]);
}

#[test]
fn snapshot_rejects_garbage() {
    let geo: Arc<dyn Geography> = Arc::new(CsvGeography::sample());
    assert!(Matcher::from_snapshot(b"", geo.clone()).is_err());
    assert!(
        Matcher::from_snapshot(b"EMSMATCH\x01\x00\x00\x00\xff\xff\xff\xff", geo.clone()).is_err()
    );
    let mut m = Matcher::new(geo.clone());
    m.insert(&sub("a", "M", EXP)).unwrap();
    let snap = m.snapshot();
    for cut in 0..snap.len() {
        assert!(
            Matcher::from_snapshot(&snap[..cut], geo.clone()).is_err(),
            "cut {cut}"
        );
    }
    let back = Matcher::from_snapshot(&snap, geo).unwrap();
    assert_eq!(back.subscriptions().len(), 1);
    assert_eq!(
        back.subscriptions()[0].criteria.to_string(),
        sub("a", "M", EXP).criteria.to_string()
    );
}

#[test]
fn lifecycle_rules() {
    let d = |s: &str| s.parse::<NaiveDate>().unwrap();
    let mut reg = LifecycleRegistry::new();
    reg.schedule(
        "nipe-outcome-1",
        d("2025-01-01"),
        LifecycleState::Deprecated,
        None,
    );
    reg.schedule(
        "nipe-outcome-1",
        d("2025-06-01"),
        LifecycleState::NoLongerSupported,
        None,
    );
    reg.schedule(
        "nipe-outcome-1",
        d("2026-01-01"),
        LifecycleState::Withdrawn,
        None,
    );
    let on = |day| {
        (
            reg.check_publish("nipe-outcome-1", d(day)),
            reg.check_subscribe(&["nipe-outcome-1", "vaccinations-1"], d(day)),
        )
    };
    let (p, s) = on("2024-12-31");
    assert!(p.accepted && p.notices.is_empty() && s.accepted && s.notices.is_empty());
    let (p, s) = on("2025-02-01");
    assert!(p.accepted && s.accepted);
    assert_eq!(
        (p.notices[0].spine_code, s.notices[0].spine_code),
        ("DEPRECATED", "DEPRECATED")
    );
    let (p, s) = on("2025-07-01");
    assert!(p.accepted && !s.accepted);
    assert_eq!(s.notices[0].spine_code, "NO_LONGER_SUPPORTED");
    assert_eq!(s.notices[0].severity, NoticeSeverity::Error);
    let (p, s) = on("2026-02-01");
    assert!(!p.accepted && !s.accepted);
    assert_eq!(p.notices[0].spine_code, "WITHDRAWN");
    assert!(!reg.check_publish("referral-1", d("2025-01-01")).accepted);
}

/// Enough subscriptions to force delta merges and compaction in the indexes.
#[test]
fn large_sets_with_merges_and_removals_equal_reference() {
    let geo = CsvGeography::sample();
    let mut m = Matcher::new(Arc::new(geo.clone()));
    let valid: Vec<NhsNumber> = (9_000_000_000u64..)
        .filter_map(|v| NhsNumber::from_u64(v).ok())
        .take(500)
        .collect();
    let mut subs = Vec::new();
    for i in 0..30_000usize {
        let n = valid[i % valid.len()];
        let ev = EVENT_TYPES[i % 10].code;
        let c = format!("/Bundle?type=message&Patient.identifier=https://fhir.nhs.uk/Id/nhs-number|{n}&MessageHeader.event={ev}&tag=t{}", i % 7);
        let s = Subscription::new(
            format!("{:08x}-0000-4000-8000-000000000000", i),
            MAILBOXES[i % 3],
            c.parse().unwrap(),
            t(0),
        );
        m.insert(&s).unwrap();
        subs.push(s);
    }
    // remove two thirds (forces compaction), re-add some
    let mut kept = Vec::new();
    for (i, s) in subs.into_iter().enumerate() {
        if i % 3 != 0 {
            assert!(m.remove(&s.id));
            if i % 10 == 1 {
                m.insert(&s).unwrap();
                kept.push(s);
            }
        } else {
            kept.push(s);
        }
    }
    assert_eq!(m.len(), kept.len());
    let restored = Matcher::from_snapshot(&m.snapshot(), Arc::new(geo.clone())).unwrap();
    for (k, n) in valid.iter().enumerate().step_by(37) {
        let mut e = event(EVENT_TYPES[k % 10].code);
        e.nhs_number = Some(*n);
        let want = reference(&kept, &geo, &e);
        assert!(!want.is_empty() || k % 10 >= 3);
        assert_eq!(m.match_event(&e), want);
        assert_eq!(restored.match_event(&e), want);
    }
}
