//! Complete example messages for every event and message event type, made
//! by the builders (used by `ems example`, the examples and the tests).

use crate::build::{AddressInfo, BuildError, Gender, MessageEventType, PatientInfo};
use crate::builders::*;
use crate::context::{BuildContext, OrgInfo};
use chrono::{NaiveDate, TimeZone, Utc};
use ems_match::{event_type, EVENT_TYPES};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default()
}

fn t(y: i32, m: u32, day: u32, h: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, day, h, 0, 0)
        .single()
        .unwrap_or_default()
}

fn nhs(s: &str) -> ems_match::NhsNumber {
    s.parse().expect("sample NHS numbers are valid")
}

/// A child with a home address in Leeds.
pub fn sample_child() -> PatientInfo {
    PatientInfo::new(nhs("9434765919"), "SMITH", "OLIVIA", d(2024, 3, 12))
        .with_gender(Gender::Female)
        .with_address(AddressInfo {
            lines: vec!["1 MOORTOWN ROAD".into(), "LEEDS".into()],
            postcode: "LS17 7DF".into(),
            from: d(2024, 3, 12),
            to: None,
        })
}

/// An adult.
pub fn sample_adult() -> PatientInfo {
    PatientInfo::new(nhs("9912003888"), "DAWKINS", "JACK", d(1960, 7, 4)).with_gender(Gender::Male)
}

fn provider() -> OrgInfo {
    OrgInfo::new("RR8", "LEEDS TEACHING HOSPITALS NHS TRUST").with_phone("0113 2433144")
}

fn record(kind: &str) -> RecordId {
    RecordId::new(
        format!("https://fhir.example-chis.nhs.uk/Id/{kind}"),
        format!("{}-0001", kind.to_uppercase()),
    )
}

/// Builds the sample message for `event` / `met`. SNOMED CT concepts are
/// taken from the specification's own example messages. `full` adds the optional
/// parts (tests, results, previous registration, ...).
pub fn sample(
    event: &str,
    met: MessageEventType,
    full: bool,
    cx: &mut BuildContext,
) -> Result<BuiltMessage, BuildError> {
    sample_builder(event, met, full)?.build(cx)
}

/// The builder behind [`sample`], holding the sample's data: call
/// [`EventBuilder::build`] or [`EventBuilder::build_xml`] for each message
/// (the benchmarks time exactly those calls).
pub fn sample_builder(
    event: &str,
    met: MessageEventType,
    full: bool,
) -> Result<Box<dyn EventBuilder>, BuildError> {
    let et = event_type(event).ok_or(BuildError {
        event: "unknown",
        field: "event",
        message: format!("`{event}` is not a supported event"),
    })?;
    if !et.message_event_types.contains(&met.code()) {
        return Err(BuildError {
            event: et.code,
            field: "message_event_type",
            message: format!(
                "`{}` is not allowed (allowed: {})",
                met.code(),
                et.message_event_types.join(", ")
            ),
        });
    }
    let del = met == MessageEventType::Delete;
    Ok(match et.code {
        "blood-spot-test-outcome-1" => {
            if del {
                return Ok(BloodSpotTestOutcome::delete(
                    sample_child(),
                    record("bloodspot"),
                    provider(),
                )
                .boxed());
            }
            let mut b = BloodSpotTestOutcome::new(
                sample_child(),
                record("bloodspot"),
                provider(),
                t(2024, 3, 25, 9),
            );
            if full {
                b = b
                    .result(BloodSpotCondition::Pku, Snomed::new("946431000000102", "Phenylketonuria screening, unsuitable sample: date of sample missing/not accurately recorded (finding)"))
                    .result(BloodSpotCondition::Cf, Snomed::new("947511000000106", "Cystic fibrosis not screened for or screening incomplete, not contactable, reasonable efforts made (finding)"));
            }
            b.boxed()
        }
        "newborn-hearing-1" => {
            if del {
                return Ok(
                    NewbornHearing::delete(sample_child(), record("hearing"), provider()).boxed(),
                );
            }
            let mut b = NewbornHearing::new(sample_child(), record("hearing"), provider(), t(2024, 3, 13, 10), Snomed::new("276781000000109", "Newborn hearing screening programme completed, clear response no follow-up required"), t(2024, 3, 13, 11));
            if full {
                b = b.test(HearingTest {
                    aabr: false,
                    outcome: Snomed::new(
                        "1085491000000106",
                        "Automated oto-acoustic emission test left ear clear response",
                    ),
                    performed: t(2024, 3, 13, 10),
                });
            }
            b.boxed()
        }
        "nipe-outcome-1" => {
            if del {
                return Ok(NipeOutcome::delete(sample_child(), record("nipe"), provider()).boxed());
            }
            let nipe = |c: &str, what: &str| {
                Snomed::new(
                    c,
                    format!("Newborn and Infant Physical Examination Screening Programme, {what}"),
                )
            };
            let f = NipeFindings {
                hips: nipe(
                    "985891000000104",
                    "hip examination done, right abnormality suspected with risk factor",
                ),
                eyes: nipe(
                    "989071000000108",
                    "eye examination done, no abnormality and no risk factor",
                ),
                heart: nipe(
                    "988511000000100",
                    "heart examination done, no abnormality and no risk factor",
                ),
                testes: if full {
                    Some(nipe(
                        "988931000000101",
                        "testis examination done, no abnormality",
                    ))
                } else {
                    None
                },
            };
            NipeOutcome::new(
                sample_child(),
                record("nipe"),
                provider(),
                t(2024, 3, 14, 9),
                PractitionerInfo::new("JONES", "ANNA"),
                f,
            )
            .boxed()
        }
        "pds-birth-notification-1" => {
            let baby = BabyInfo {
                patient: sample_child(),
                scn: 1,
                birth_time: t(2024, 3, 12, 4),
                birth_order: 1,
                ethnic_category: "A".into(),
            };
            let details = BirthDetails {
                births_in_confinement: 1,
                weight_grams: 3400,
                gestation_weeks: 39,
                still_born_indicator: "1".into(),
                congenital_abnormality: "N".into(),
            };
            let mut b = PdsBirthNotification::new(
                baby,
                details,
                PractitionerInfo::new("BROWN", "SARAH"),
                OrgInfo::new("RR8", "LEEDS REGISTERING AUTHORITY"),
                "a",
            );
            if full {
                b = b.mother(
                    PatientInfo::new(nhs("4010232137"), "SMITH", "EMMA", d(1992, 11, 3))
                        .with_gender(Gender::Female),
                );
            }
            b.boxed()
        }
        "pds-change-of-address-1" => {
            let previous = AddressInfo {
                lines: vec!["12 PARK ROW".into(), "LEEDS".into()],
                postcode: "LS1 4AP".into(),
                from: d(2015, 1, 1),
                to: Some(d(2024, 5, 31)),
            };
            let mut p = sample_adult();
            p.address = Some(AddressInfo {
                lines: vec!["4 STONEGATE".into(), "YORK".into()],
                postcode: "YO1 7HH".into(),
                from: d(2024, 6, 1),
                to: None,
            });
            PdsChangeOfAddress::new(p, previous, 7).boxed()
        }
        "pds-change-of-gp-1" => {
            let new = PracticeInfo {
                practice: OrgInfo::new("B86001", "MOORTOWN SURGERY"),
                commissioner: "15F".into(),
            };
            let mut b = PdsChangeOfGp::new(sample_adult(), 8).new_practice(new);
            if full {
                b = b.previous(
                    PracticeInfo {
                        practice: OrgInfo::new("B83001", "BRADFORD MEDICAL CENTRE"),
                        commissioner: "36J".into(),
                    },
                    Some(d(2001, 2, 1)),
                    Some(d(2024, 5, 31)),
                );
            }
            b.boxed()
        }
        "pds-death-notification-1" => {
            let status = if full {
                DeathStatus::Formal(t(2024, 5, 30, 22))
            } else {
                DeathStatus::Informal(t(2024, 5, 30, 22))
            };
            PdsDeathNotification::new(sample_adult(), 9, status, t(2024, 5, 31, 9)).boxed()
        }
        "pds-record-change-1" => PdsRecordChange::new(sample_adult(), 10).boxed(),
        "professional-contacts-1" => {
            let mut b = ProfessionalContacts::new(
                sample_child(),
                record("episode"),
                if del { "entered-in-error" } else { "active" },
                Snomed::new("1078501000000104", "Health visiting service"),
                provider(),
            );
            if full {
                b = b.period(Some(d(2024, 3, 20)), None);
            }
            match met {
                MessageEventType::Update => b.update(),
                MessageEventType::Delete => b.delete(),
                MessageEventType::New => b,
            }
            .boxed()
        }
        _ => {
            // concepts from the specification's vaccinations examples
            let procedure = Snomed::new(
                "170433008",
                "Measles mumps and rubella vaccination - second dose (procedure)",
            );
            let vaccine = Snomed::new("34925411000001109", "Priorix vaccine powder and solvent for solution for injection 0.5ml pre-filled syringes (GlaxoSmithKline UK Ltd) 1 pre-filled disposable injection (product)");
            let b = if full {
                Vaccinations::given(
                    sample_child(),
                    record("immunisation"),
                    Snomed::new(
                        "61761000000109",
                        "Second measles, mumps and rubella vaccination not done",
                    ),
                    vaccine,
                    d(2024, 5, 14),
                    provider(),
                )
                .not_given(Snomed::new(
                    "310376006",
                    "Immunization consent not given (finding)",
                ))
            } else {
                Vaccinations::given(
                    sample_child(),
                    record("immunisation"),
                    procedure,
                    vaccine,
                    d(2024, 5, 14),
                    provider(),
                )
            };
            match met {
                MessageEventType::Update => b.update(),
                MessageEventType::Delete => b.delete(),
                MessageEventType::New => b,
            }
            .boxed()
        }
    })
}

/// Every (event, message event type) pair a builder supports.
pub fn all_pairs() -> Vec<(&'static str, MessageEventType)> {
    let mut v = Vec::new();
    for e in &EVENT_TYPES {
        for m in e.message_event_types {
            if let Some(met) = MessageEventType::parse(m) {
                v.push((e.code, met));
            }
        }
    }
    v
}
