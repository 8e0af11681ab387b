//! What a publisher injects into the builders: clock, id generator,
//! sequence numbers and its own identity.

use chrono::{DateTime, TimeZone, Utc};
use std::collections::HashMap;

/// Source of "now".
pub trait Clock: Send {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A fixed instant (for tests and reproducible examples).
#[derive(Clone, Copy, Debug)]
pub struct FixedClock(pub DateTime<Utc>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

/// Source of resource and message ids (UUIDs).
pub trait IdGenerator: Send {
    /// A new UUID.
    fn next_uuid(&mut self) -> uuid::Uuid;
}

/// Random version-4 UUIDs.
#[derive(Clone, Copy, Debug, Default)]
pub struct RandomIds;

impl IdGenerator for RandomIds {
    fn next_uuid(&mut self) -> uuid::Uuid {
        uuid::Uuid::new_v4()
    }
}

/// Deterministic version-4-shaped UUIDs from a seed (xorshift64*).
#[derive(Clone, Copy, Debug)]
pub struct SeededIds(u64);

impl SeededIds {
    /// A generator for `seed`; the same seed gives the same sequence.
    pub fn new(seed: u64) -> SeededIds {
        SeededIds(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

impl IdGenerator for SeededIds {
    fn next_uuid(&mut self) -> uuid::Uuid {
        let hi = self.next_u64().to_be_bytes();
        let lo = self.next_u64().to_be_bytes();
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&hi);
        b[8..].copy_from_slice(&lo);
        uuid::Builder::from_random_bytes(b).into_uuid()
    }
}

/// Sequence numbers for `MessageHeader.meta.versionId`: one counter per
/// (publishing system, patient, event type), incremented by 1 per message
/// (digest 2.2, MH-SEQ). Persist it with the publisher's database in production.
pub trait SequenceSource: Send {
    /// The next number for this stream (first message: 1).
    fn next(&mut self, publisher: &str, nhs_number: &str, event_code: &str) -> u64;
}

/// In-memory sequence numbers.
#[derive(Clone, Debug, Default)]
pub struct InMemorySequence {
    /// NHS number → that patient's streams. One hash a message (of the
    /// NHS number, found by `&str` without building a key); a patient's
    /// few streams (publishers × event types) are scanned.
    counters: HashMap<String, Vec<Stream>>,
}

/// One stream of a patient and its last number.
#[derive(Clone, Debug)]
struct Stream {
    publisher: String,
    event_code: String,
    last: u64,
}

impl SequenceSource for InMemorySequence {
    fn next(&mut self, publisher: &str, nhs_number: &str, event_code: &str) -> u64 {
        let streams = match self.counters.get_mut(nhs_number) {
            Some(s) => s,
            None => self.counters.entry(nhs_number.to_string()).or_default(),
        };
        let known = streams
            .iter_mut()
            .find(|s| s.event_code == event_code && s.publisher == publisher);
        match known {
            Some(s) => {
                s.last += 1;
                s.last
            }
            None => {
                streams.push(Stream {
                    publisher: publisher.to_string(),
                    event_code: event_code.to_string(),
                    last: 1,
                });
                1
            }
        }
    }
}

/// How to reach the publisher about a message (`MessageHeader.source.contact`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SourceContact {
    /// A phone number.
    Phone(String),
    /// An e-mail address.
    Email(String),
}

/// An organisation by ODS code and name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrgInfo {
    /// ODS organisation code.
    pub ods_code: String,
    /// Organisation name.
    pub name: String,
    /// Contact phone number (required for the organisation managing a
    /// professional-contacts episode).
    pub phone: Option<String>,
}

impl OrgInfo {
    /// An organisation with ODS code and name.
    pub fn new(ods_code: impl Into<String>, name: impl Into<String>) -> OrgInfo {
        OrgInfo {
            ods_code: ods_code.into(),
            name: name.into(),
            phone: None,
        }
    }
    /// Adds a phone number.
    pub fn with_phone(mut self, phone: impl Into<String>) -> OrgInfo {
        self.phone = Some(phone.into());
        self
    }
}

/// The publishing system.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Publisher {
    /// `MessageHeader.source.name`: the system's name.
    pub system_name: String,
    /// `MessageHeader.source.contact`.
    pub contact: SourceContact,
    /// Spine ASID of the system (`source.endpoint` = `urn:nhs:addressing:asid:<ASID>`).
    pub asid: String,
    /// The organisation responsible for the events (`MessageHeader.responsible`).
    pub organization: OrgInfo,
}

impl Publisher {
    /// `urn:nhs:addressing:asid:<ASID>`.
    pub fn endpoint(&self) -> String {
        self.endpoint_text().to_string()
    }

    /// [`Publisher::endpoint`] in a reused buffer.
    pub(crate) fn endpoint_text(&self) -> crate::build::Text {
        crate::build::Text::cat("urn:nhs:addressing:asid:", &self.asid)
    }
}

/// Everything a builder needs besides the event data.
pub struct BuildContext {
    /// The publisher.
    pub publisher: Publisher,
    /// Clock.
    pub clock: Box<dyn Clock>,
    /// Id generator.
    pub ids: Box<dyn IdGenerator>,
    /// Sequence numbers.
    pub sequence: Box<dyn SequenceSource>,
}

impl BuildContext {
    /// Production context: system clock, random UUIDs, in-memory sequence.
    pub fn new(publisher: Publisher) -> BuildContext {
        BuildContext {
            publisher,
            clock: Box::new(SystemClock),
            ids: Box::new(RandomIds),
            sequence: Box::new(InMemorySequence::default()),
        }
    }

    /// Deterministic context for tests: fixed clock (2024-06-01T12:00:00Z),
    /// seeded UUIDs, in-memory sequence.
    pub fn deterministic(publisher: Publisher, seed: u64) -> BuildContext {
        BuildContext {
            publisher,
            clock: Box::new(FixedClock(
                Utc.with_ymd_and_hms(2024, 6, 1, 12, 0, 0)
                    .single()
                    .unwrap_or_default(),
            )),
            ids: Box::new(SeededIds::new(seed)),
            sequence: Box::new(InMemorySequence::default()),
        }
    }

    /// A new id as a `urn:uuid:` fullUrl, in a reused buffer (no heap
    /// allocation once the thread's buffers exist).
    pub(crate) fn urn(&mut self) -> crate::build::Urn {
        crate::build::Urn::new(self.ids.next_uuid())
    }

    pub(crate) fn now_text(&self) -> crate::build::InstantText {
        crate::build::InstantText::new(self.clock.now())
    }
}

/// A sample publisher for examples and tests.
pub fn example_publisher() -> Publisher {
    Publisher {
        system_name: "Example Child Health System".into(),
        contact: SourceContact::Email("support@example-chis.nhs.uk".into()),
        asid: "200000000123".into(),
        organization: OrgInfo::new("RR8", "LEEDS TEACHING HOSPITALS NHS TRUST")
            .with_phone("0113 2433144"),
    }
}
