//! The sink contract: each builder describes its message once, and the
//! two sinks it is driven into agree. For every builder and every sample
//! (every event and message event type, optional parts present and absent,
//! the variants the samples do not cover, several messages per context,
//! hostile text and out-of-range dates), the XML sink (`build_xml`) and the
//! model sink then the model writer (`to_xml_of(&build().bundle)`) give
//! identical bytes, and both refuse the same builders with the same error.
//! For the samples, reading the XML back gives the model the model sink
//! assembled, without an issue.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use ems_bundle::samples::{all_pairs, sample_builder, sample_child};
use ems_bundle::*;
use proptest::prelude::*;

/// Builds three messages from `b` into each sink, from contexts in the
/// same state, and compares them byte for byte (and, with `reread`, with
/// the reader's model of the XML); `false` when both sinks refused the
/// builder (with the same error).
fn sinks_agree(
    b: &dyn EventBuilder,
    publisher: &Publisher,
    seed: u64,
    reread: bool,
    what: &str,
) -> bool {
    let mut model = BuildContext::deterministic(publisher.clone(), seed);
    let mut direct = BuildContext::deterministic(publisher.clone(), seed);
    for n in 1..=3 {
        let m = b.build(&mut model);
        let x = b.build_xml(&mut direct);
        match (m, x) {
            (Ok(m), Ok(x)) => {
                assert_eq!(x.xml, m.to_xml(), "{what}, message {n}");
                assert_eq!(x.message_id(), m.message_id(), "{what}");
                assert_eq!(x.event.code, m.event.code);
                assert_eq!(x.message_event_type, m.message_event_type);
                assert_eq!(x.workflow_id(), m.workflow_id());
                assert_eq!(x.interaction_id(), m.interaction_id());
                if reread {
                    let read = ems_stu3::from_xml(x.xml.as_bytes()).unwrap();
                    assert!(read.outcome.issues.is_empty(), "{what}: {:?}", read.outcome);
                    assert_eq!(read.resource, m.into_resource(), "{what}, message {n}");
                }
            }
            (Err(a), Err(b)) => {
                assert_eq!(a, b, "{what}");
                return false;
            }
            (m, x) => panic!("{what}: model {:?} but XML {:?}", m.err(), x.err()),
        }
    }
    true
}

#[test]
fn both_sinks_write_every_sample_alike() {
    for (event, met) in all_pairs() {
        for full in [false, true] {
            let b = sample_builder(event, met, full).unwrap();
            for seed in 1..=3 {
                assert!(sinks_agree(
                    &*b,
                    &example_publisher(),
                    seed,
                    true,
                    &format!("{event} {met:?} full={full} seed={seed}"),
                ));
            }
        }
    }
}

fn t(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap()
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn snomed(code: &str) -> Snomed {
    Snomed::new(code, format!("concept {code} & <display>"))
}

fn practice(ods: &str) -> PracticeInfo {
    PracticeInfo {
        practice: OrgInfo::new(ods, "PRACTICE"),
        commissioner: "15F".into(),
    }
}

/// The builder variants and failures the samples do not reach.
fn variants() -> Vec<(&'static str, Box<dyn EventBuilder>)> {
    let child = sample_child;
    let rec = || RecordId::new("https://example.org/Id/rec", "REC-1");
    let org = || OrgInfo::new("RR8", "LEEDS").with_phone("0113");
    let mut all_conditions = BloodSpotTestOutcome::new(child(), rec(), org(), t(2024, 1, 2, 3));
    for c in [
        BloodSpotCondition::Pku,
        BloodSpotCondition::Scd,
        BloodSpotCondition::Cf,
        BloodSpotCondition::Cht,
        BloodSpotCondition::Mcadd,
        BloodSpotCondition::Hcu,
        BloodSpotCondition::Msud,
        BloodSpotCondition::Ga1,
        BloodSpotCondition::Iva,
        BloodSpotCondition::Scid,
        BloodSpotCondition::Ht1,
    ] {
        all_conditions = all_conditions.result(c, snomed("1"));
    }
    let too_many = all_conditions
        .clone()
        .result(BloodSpotCondition::Pku, snomed("2"));
    let hearing = |tests: &[(bool, u32)]| {
        let mut b = NewbornHearing::new(
            child(),
            rec(),
            org(),
            t(2024, 1, 2, 3),
            snomed("9"),
            t(2024, 1, 2, 4),
        );
        for &(aabr, h) in tests {
            b = b.test(HearingTest {
                aabr,
                outcome: snomed("8"),
                performed: t(2024, 1, 2, h),
            });
        }
        b
    };
    let adult = || samples::sample_adult();
    let address = AddressInfo {
        lines: vec!["A".into()],
        postcode: "LS1".into(),
        from: day(2000, 1, 1),
        to: None,
    };
    let mut twin = samples::sample_child();
    twin.gender = Some(Gender::Male);
    let baby = BabyInfo {
        patient: twin,
        scn: 3,
        birth_time: t(2024, 3, 12, 5),
        birth_order: 2,
        ethnic_category: "not-a-code".into(),
    };
    let details = BirthDetails {
        births_in_confinement: 2,
        weight_grams: 2900,
        gestation_weeks: 36,
        still_born_indicator: "1".into(),
        congenital_abnormality: "Y".into(),
    };
    let birth = PdsBirthNotification::new(
        baby.clone(),
        details.clone(),
        PractitionerInfo::new("B", "S"),
        OrgInfo::new("X1", "RA"),
        "zz",
    );
    let mut genderless = baby;
    genderless.patient.gender = None;
    let vaccine = || {
        Vaccinations::given(
            child(),
            rec(),
            snomed("3"),
            snomed("4"),
            day(2024, 5, 1),
            org(),
        )
        .not_given(snomed("5"))
    };
    vec![
        ("blood spot, all 11 conditions", all_conditions.boxed()),
        ("blood spot, 12 results", too_many.boxed()),
        (
            "hearing, AABR and AOAE",
            hearing(&[(true, 5), (false, 6), (true, 7)]).boxed(),
        ),
        (
            "hearing, 3 AABR",
            hearing(&[(true, 5), (true, 6), (true, 7)]).boxed(),
        ),
        (
            "change of GP, previous only, no dates",
            PdsChangeOfGp::new(adult(), 4)
                .previous(practice("B1"), None, None)
                .boxed(),
        ),
        (
            "change of GP, previous with start only",
            PdsChangeOfGp::new(adult(), 4)
                .new_practice(practice("B2"))
                .previous(practice("B1"), Some(day(2001, 1, 1)), None)
                .boxed(),
        ),
        (
            "change of GP, nothing",
            PdsChangeOfGp::new(adult(), 4).boxed(),
        ),
        (
            "change of address without a home address",
            PdsChangeOfAddress::new(adult(), address.clone(), 2).boxed(),
        ),
        (
            "death status removed",
            PdsDeathNotification::new(adult(), 2, DeathStatus::Removed, t(2024, 1, 1, 1)).boxed(),
        ),
        ("birth, twin, unknown codes", birth.clone().boxed()),
        (
            "birth, twin with mother",
            birth.mother(samples::sample_adult()).boxed(),
        ),
        (
            "birth without gender",
            PdsBirthNotification::new(
                genderless,
                details,
                PractitionerInfo::new("B", "S"),
                OrgInfo::new("X1", "RA"),
                "a",
            )
            .boxed(),
        ),
        (
            "professional contacts, end only, no phone",
            ProfessionalContacts::new(child(), rec(), "finished", snomed("6"), org())
                .period(None, Some(day(2024, 1, 1)))
                .update()
                .boxed(),
        ),
        (
            "professional contacts without a phone",
            ProfessionalContacts::new(
                child(),
                rec(),
                "active",
                snomed("6"),
                OrgInfo::new("A", "B"),
            )
            .boxed(),
        ),
        ("vaccination not given", vaccine().boxed()),
        (
            "vaccination not given, reported, update",
            vaccine().reported().update().boxed(),
        ),
    ]
}

#[test]
fn both_sinks_write_the_variants_alike_and_refuse_the_same() {
    let refused: Vec<&str> = variants()
        .into_iter()
        .filter(|(what, b)| !sinks_agree(&**b, &example_publisher(), 7, true, what))
        .map(|(what, _)| what)
        .collect();
    assert_eq!(
        refused,
        [
            "blood spot, 12 results",
            "hearing, 3 AABR",
            "change of GP, nothing",
            "change of address without a home address",
            "birth without gender",
            "professional contacts without a phone",
        ]
    );
}

#[test]
fn both_sinks_write_a_publisher_with_a_phone_contact_alike() {
    let mut p = example_publisher();
    p.contact = SourceContact::Phone("0113 <24>".into());
    p.asid = "\"asid\"".into();
    for (event, met) in all_pairs() {
        assert!(sinks_agree(
            &*sample_builder(event, met, true).unwrap(),
            &p,
            2,
            true,
            event
        ));
    }
}

/// Text with everything XML escaping must handle, and long enough to leave
/// the model's inline strings.
fn text() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[a-zA-Z0-9 &<>\"'\\n\\r\\t£é😀]{0,40}").unwrap()
}

fn any_date() -> impl Strategy<Value = NaiveDate> {
    (-20000i32..20000, 1u32..=12, 1u32..=28).prop_map(|(y, m, d)| day(y, m, d))
}

fn any_instant() -> impl Strategy<Value = DateTime<Utc>> {
    (
        any_date(),
        0u32..24,
        0u32..60,
        0u32..60,
        0u32..2_000_000_000,
    )
        .prop_map(|(d, h, m, s, nano)| {
            // nanoseconds of 1e9 and more are chrono's leap second (at :59 only)
            let s = if nano >= 1_000_000_000 { 59 } else { s };
            Utc.from_utc_datetime(&d.and_hms_nano_opt(h, m, s, nano).unwrap())
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn both_sinks_write_hostile_text_and_dates_alike(
        family in text(), given in proptest::collection::vec(text(), 0..3),
        line in text(), postcode in text(), org_name in text(), ods in text(),
        system in text(), value in text(), display in text(),
        born in any_date(), when in any_instant(), scn in any::<u32>(),
        order in any::<u32>(), seed in any::<u64>(),
    ) {
        let mut p = PatientInfo::new("9434765919".parse().unwrap(), family, "x", born)
            .with_gender(Gender::Other)
            .with_address(AddressInfo {
                lines: vec![line.clone(), line],
                postcode,
                from: born,
                to: Some(born),
            });
        p.given = given;
        let org = OrgInfo::new(ods, org_name.clone()).with_phone(org_name);
        let rec = RecordId::new(system, value);
        let concept = Snomed::new(display.clone(), display);
        let prev = p.address.clone().unwrap();
        let builders: Vec<Box<dyn EventBuilder>> = vec![
            NipeOutcome::new(p.clone(), rec.clone(), org.clone(), when,
                PractitionerInfo::new(concept.code.clone(), concept.display.clone()),
                NipeFindings { hips: concept.clone(), eyes: concept.clone(), heart: concept.clone(), testes: Some(concept.clone()) }).boxed(),
            PdsChangeOfAddress::new(p.clone(), prev, scn).boxed(),
            PdsDeathNotification::new(p.clone(), scn, DeathStatus::Formal(when), when).boxed(),
            PdsBirthNotification::new(
                BabyInfo { patient: p.clone(), scn, birth_time: when, birth_order: order, ethnic_category: concept.code.clone() },
                BirthDetails { births_in_confinement: order, weight_grams: scn, gestation_weeks: order,
                    still_born_indicator: concept.code.clone(), congenital_abnormality: concept.code.clone() },
                PractitionerInfo::new("B", "S"), org.clone(), concept.code.clone()).mother(p.clone()).boxed(),
            ProfessionalContacts::new(p.clone(), rec.clone(), concept.code.clone(), concept.clone(), org.clone())
                .period(Some(born), Some(born)).boxed(),
            Vaccinations::given(p.clone(), rec.clone(), concept.clone(), concept.clone(), born, org.clone()).delete().boxed(),
            NewbornHearing::new(p, rec, org, when, concept.clone(), when)
                .test(HearingTest { aabr: true, outcome: concept, performed: when }).boxed(),
        ];
        for b in &builders {
            prop_assert!(sinks_agree(&**b, &example_publisher(), seed, false, "hostile"));
        }
    }
}
