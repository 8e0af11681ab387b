//! Duplicate and out-of-order detection for receivers (digest 2.4 and 8).
//!
//! A receiver keeps, per stream, what it last applied; a stream is
//! (publisher, patient, event type) and, when the focus resource carries a
//! business identifier (Encounter, EpisodeOfCare, Immunization), that
//! identifier too. Persist the state in the same transaction that applies a
//! message: implement [`TrackerStore`] over your database (two tables:
//! seen message ids, and stream → last lastUpdated/versionId).

use crate::read::EventMessage;
use chrono::{DateTime, FixedOffset};
use std::collections::{HashMap, HashSet};

/// How an incoming message relates to what was already applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Classification {
    /// Newer than anything applied for its stream: apply it.
    New,
    /// The same `MessageHeader.id` was seen before: drop it.
    Duplicate,
    /// Older (`meta.lastUpdated` earlier or `meta.versionId` lower) than what
    /// was applied: must not overwrite newer data.
    Stale,
    /// Newer, but `meta.versionId` skipped numbers: apply it and look for the
    /// missing messages (they may still arrive, out of order).
    Gap {
        /// The version that was expected next.
        expected: u64,
        /// The version that arrived.
        got: u64,
    },
    /// No message id: cannot be de-duplicated (treat as unsafe).
    Unidentified,
}

/// The identity of a stream of messages that order against each other.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct StreamKey {
    /// Publisher (source endpoint, or responsible ODS code).
    pub publisher: String,
    /// Patient NHS number (empty when unknown).
    pub nhs_number: String,
    /// Event code.
    pub event: String,
    /// Focus business identifier (`system|value`), when the focus has one.
    pub focus: Option<String>,
}

impl StreamKey {
    /// The key of a message.
    pub fn of(m: &EventMessage) -> StreamKey {
        StreamKey {
            publisher: m
                .source_endpoint()
                .or(m.responsible_ods())
                .unwrap_or("")
                .to_string(),
            nhs_number: m.nhs_number().map(|n| n.to_string()).unwrap_or_default(),
            event: m.event_type().code().to_string(),
            focus: m.focus_identifier().map(|(s, v)| format!("{s}|{v}")),
        }
    }
}

/// What was last applied for a stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct StreamState {
    /// `meta.lastUpdated` of the last applied message.
    pub last_updated: Option<DateTime<FixedOffset>>,
    /// `meta.versionId` of the last applied message.
    pub version: Option<u64>,
}

/// Where the tracker keeps its state.
pub trait TrackerStore {
    /// `true` when the message id was recorded before.
    fn seen(&self, message_id: &str) -> bool;
    /// Records a message id.
    fn mark_seen(&mut self, message_id: &str);
    /// The state of a stream.
    fn state(&self, key: &StreamKey) -> Option<StreamState>;
    /// Stores the state of a stream.
    fn set_state(&mut self, key: StreamKey, state: StreamState);
}

/// In-memory [`TrackerStore`].
#[derive(Clone, Debug, Default)]
pub struct InMemoryStore {
    seen: HashSet<String>,
    streams: HashMap<StreamKey, StreamState>,
}

impl TrackerStore for InMemoryStore {
    fn seen(&self, id: &str) -> bool {
        self.seen.contains(id)
    }
    fn mark_seen(&mut self, id: &str) {
        self.seen.insert(id.to_string());
    }
    fn state(&self, key: &StreamKey) -> Option<StreamState> {
        self.streams.get(key).copied()
    }
    fn set_state(&mut self, key: StreamKey, state: StreamState) {
        self.streams.insert(key, state);
    }
}

/// Classifies incoming messages as new, duplicate, stale or after a gap.
///
/// ```
/// use ems_bundle::*;
/// use chrono::NaiveDate;
/// let p = PatientInfo::new("9434765919".parse().unwrap(), "SMITH", "Jo", NaiveDate::from_ymd_opt(2010, 1, 1).unwrap());
/// let mut cx = BuildContext::deterministic(example_publisher(), 7);
/// let m = EventMessage::from_resource(PdsRecordChange::new(p, 3).build(&mut cx).unwrap().into_resource()).unwrap();
/// let mut t = SequenceTracker::new(InMemoryStore::default());
/// assert_eq!(t.classify(&m), Classification::New);
/// assert_eq!(t.classify(&m), Classification::Duplicate);
/// ```
#[derive(Debug)]
pub struct SequenceTracker<S: TrackerStore> {
    store: S,
}

impl<S: TrackerStore> SequenceTracker<S> {
    /// A tracker over `store`.
    pub fn new(store: S) -> Self {
        SequenceTracker { store }
    }
    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Classifies `m` and records it: the id is marked seen, and the stream
    /// state advances for `New` and `Gap` (stale messages never move it back).
    /// Equivalent to [`peek`](Self::peek) followed by [`commit`](Self::commit).
    pub fn classify(&mut self, m: &EventMessage) -> Classification {
        let c = self.peek(m);
        self.commit(m, &c);
        c
    }

    /// Classifies `m` without recording anything. A receiver that must not
    /// lose a message peeks, processes, then commits (and only then
    /// acknowledges): if processing fails, the message comes back and is
    /// still `New`.
    pub fn peek(&self, m: &EventMessage) -> Classification {
        let Some(id) = m.message_id() else {
            return Classification::Unidentified;
        };
        if self.store.seen(id) {
            return Classification::Duplicate;
        }
        let key = StreamKey::of(m);
        let now = StreamState {
            last_updated: m.last_updated(),
            version: m.version_id(),
        };
        match self.store.state(&key) {
            None => Classification::New,
            Some(p) => {
                let older_time =
                    matches!((now.last_updated, p.last_updated), (Some(n), Some(o)) if n < o);
                let lower_version =
                    matches!((now.version, p.version), (Some(n), Some(o)) if n <= o);
                if older_time || lower_version {
                    Classification::Stale
                } else {
                    match (now.version, p.version) {
                        (Some(n), Some(o)) if n > o + 1 => Classification::Gap {
                            expected: o + 1,
                            got: n,
                        },
                        _ => Classification::New,
                    }
                }
            }
        }
    }

    /// Records `m` as processed with classification `c` (from [`peek`](Self::peek)).
    pub fn commit(&mut self, m: &EventMessage, c: &Classification) {
        let Some(id) = m.message_id() else { return };
        self.store.mark_seen(id);
        if matches!(c, Classification::New | Classification::Gap { .. }) {
            let key = StreamKey::of(m);
            self.store.set_state(
                key,
                StreamState {
                    last_updated: m.last_updated(),
                    version: m.version_id(),
                },
            );
        }
    }
}

/// This system's own identities, to recognise its own publications when
/// they come back through its subscriptions (loop-back, digest 7.1 item 5).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OwnIdentity {
    /// Own ASIDs.
    pub asids: Vec<String>,
    /// Own ODS codes.
    pub ods_codes: Vec<String>,
}

impl OwnIdentity {
    /// `true` when `m` was published by this system (its ASID is the source
    /// endpoint, or its ODS code is the responsible organisation).
    pub fn is_loopback(&self, m: &EventMessage) -> bool {
        m.source_asid()
            .is_some_and(|a| self.asids.iter().any(|x| x == a))
            || m.responsible_ods()
                .is_some_and(|o| self.ods_codes.iter().any(|x| x == o))
    }
}
