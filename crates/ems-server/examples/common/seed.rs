//! The stored subscriptions of the load tools (`loadgen`, `startload`): one
//! description of the seed, shared by both.

use ems_server::pipeline::StoredSubscription;
use std::path::Path;

/// The i-th valid NHS number from 4 000 000 000 on.
fn nhs_numbers() -> impl Iterator<Item = u64> {
    (4_000_000_000u64..).filter(|n| ems::matching::NhsNumber::from_u64(*n).is_ok())
}

const EVENTS: [&str; 10] = [
    "blood-spot-test-outcome-1",
    "newborn-hearing-1",
    "nipe-outcome-1",
    "pds-birth-notification-1",
    "pds-change-of-address-1",
    "pds-change-of-gp-1",
    "pds-death-notification-1",
    "pds-record-change-1",
    "professional-contacts-1",
    "vaccinations-1",
];

fn stored(i: usize, criteria: String) -> StoredSubscription {
    let mailbox = format!("MBX{:05}", i % 20_000);
    StoredSubscription {
        id: format!("{:08x}-0000-4000-8000-{:012x}", i, i),
        owner_asid: "200000000001".into(),
        contact_ods: format!("A{:05}", i % 20_000),
        dup_key: format!("{criteria}\u{1f}{mailbox}"),
        mailbox,
        status: "active".into(),
        created: chrono::DateTime::from_timestamp(1_600_000_000, 0).unwrap(),
        end: None,
        resource_json: format!("{{\"resourceType\":\"Subscription\",\"id\":\"{i}\"}}"),
        criteria,
    }
}

/// Seeds a fresh data folder `dir` with `n` stored active subscriptions
/// (90 % explicit, 10 % generic; the first ten match the example patient,
/// one per event); returns how many were stored.
pub fn seed(dir: &Path, n: usize) -> usize {
    let log = ems_server::SqlitePipeline::open(dir).unwrap();
    let mut nhs = nhs_numbers();
    let generic = [
        ("GP_GP_GP", "B86001"),
        ("CHO_POSTCODE_CCG", "15F"),
        ("COUNTRYCODE", "W92000004"),
        ("UHV_POSTCODE_LACODE", "E08000035"),
    ];
    let subs = (0..n).map(|i| {
        let event = EVENTS[i % 10];
        if i < 10 {
            // the example patient, one per event: every publish makes an outbox row
            stored(i, format!("/Bundle?type=message&Patient.identifier=https://fhir.nhs.uk/Id/nhs-number|9434765919&MessageHeader.event={event}"))
        } else if i % 10 == 3 {
            let (rule, org) = generic[i % 4];
            stored(i, format!("/Bundle?type=message&subscriptionRuleType={rule}&Organization.identifier={org}{i}&MessageHeader.event={event}"))
        } else {
            let n = nhs.next().unwrap();
            stored(i, format!("/Bundle?type=message&Patient.identifier=https://fhir.nhs.uk/Id/nhs-number|{n}&MessageHeader.event={event}"))
        }
    });
    log.import_subscriptions(subs).unwrap()
}
