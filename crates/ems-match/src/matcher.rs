//! The matching engine: an index over explicit and generic subscriptions,
//! and per-mailbox deliveries with their `Mex-Partnerid` header.

use crate::criteria::{AgeFilter, CriteriaKind, GpRegistration, RuleType, ServiceType};
use crate::events::{event_index, EVENT_TYPES};
use crate::geography::Geography;
use crate::index::{id_hash, Chunked, Interner, MixMap, SortedIndex};
use crate::nhs::NhsNumber;
use crate::subscription::{Subscription, SubscriptionStatus};
use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use std::sync::Arc;

/// PDS record flags that stop all deliveries (digest 7.1 item 4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PdsFlag {
    /// `S`: sensitive record.
    Sensitive,
    /// `I`: invalid record.
    Invalid,
}

impl PdsFlag {
    /// Parses `S` or `I`.
    pub fn parse(s: &str) -> Option<PdsFlag> {
        match s.trim() {
            "S" | "s" => Some(PdsFlag::Sensitive),
            "I" | "i" => Some(PdsFlag::Invalid),
            _ => None,
        }
    }
}

/// What the matcher knows about the patient from PDS (not from the message).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PatientContext {
    /// Current home postcode.
    pub postcode: Option<String>,
    /// Previous home postcode; set it for PDS Change of Address so that the
    /// residential rules match the old and the new address (7.1 item 3).
    pub previous_postcode: Option<String>,
    /// Registered GP practice (ODS code); `None` when not registered.
    pub gp_practice: Option<String>,
    /// `S` or `I` flag on the PDS record.
    pub pds_flag: Option<PdsFlag>,
}

/// The matcher's input for one published message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MatchEvent {
    /// Routing NHS number (`None` for a birth notification without the mother's number).
    pub nhs_number: Option<NhsNumber>,
    /// `MessageHeader.event.code`.
    pub event_code: String,
    /// Patient's date of birth (for `Patient.age`).
    pub birth_date: Option<NaiveDate>,
    /// Evaluation instant: when NEMS accepted the message.
    pub at: DateTime<Utc>,
    /// PDS context.
    pub patient: PatientContext,
}

/// One copy of the message for one MESH mailbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// MESH mailbox id.
    pub mailbox: String,
    /// MESH WorkflowID of the event type.
    pub workflow_id: &'static str,
    /// Ids of all matching subscriptions of this mailbox, ascending.
    pub subscriptions: Vec<String>,
    /// `Mex-Partnerid` value: `id|tag` for each matching subscription with a
    /// tag, ascending by id, joined by `~~~`; `None` when none has a tag.
    pub partner_id: Option<String>,
}

/// Why a subscription cannot be indexed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MatcherError {
    /// An id is empty.
    #[error("subscription id is empty")]
    EmptyId,
    /// The mailbox is empty.
    #[error("subscription {0}: mailbox (channel.endpoint) is empty")]
    EmptyMailbox(String),
    /// The index holds its maximum of 2^30 records (compact or restart from a snapshot).
    #[error("the matcher is full (2^30 subscription records)")]
    Full,
}

/// Seconds since 2000-01-01T00:00:00Z, saturating into `u32` (good to 2136).
const EPOCH_2000: i64 = 946_684_800;

fn to_secs(t: DateTime<Utc>) -> u32 {
    (t.timestamp() - EPOCH_2000).clamp(0, u32::MAX as i64 - 1) as u32
}

fn from_secs(s: u32) -> DateTime<Utc> {
    Utc.timestamp_opt(EPOCH_2000 + s as i64, 0)
        .single()
        .unwrap_or_default()
}

const NO_END: u32 = u32::MAX;
const NO_AGE: u8 = u8::MAX;

/// A subscription in 48 bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Record {
    /// canonical UUID bytes (`flags[7] == 0`) or arena offset/len (`flags[7] == 1`)
    pub id: [u8; 16],
    pub mailbox: u32,
    pub events: u32,
    pub created: u32,
    pub end: u32,
    pub tag: u32,
    pub contact: u32,
    /// status, kind (0 explicit, 1 + rule index), gp registration (0 any, 1
    /// registered, 2 unregistered), service type (0 none, 1..), age lt, age
    /// gt, live, id kind
    pub flags: [u8; 8],
}

pub(crate) const RECORD_BYTES: usize = 48;

impl Record {
    pub fn write_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.id);
        for v in [
            self.mailbox,
            self.events,
            self.created,
            self.end,
            self.tag,
            self.contact,
        ] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(&self.flags);
    }
    pub fn from_bytes(b: &[u8]) -> Option<Record> {
        let b = b.get(..RECORD_BYTES)?;
        let u = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let mut id = [0u8; 16];
        id.copy_from_slice(&b[..16]);
        let mut flags = [0u8; 8];
        flags.copy_from_slice(&b[40..48]);
        Some(Record {
            id,
            mailbox: u(16),
            events: u(20),
            created: u(24),
            end: u(28),
            tag: u(32),
            contact: u(36),
            flags,
        })
    }
    fn live(&self) -> bool {
        self.flags[6] == 1
    }
}

fn rule_index(r: RuleType) -> u8 {
    RuleType::ALL.iter().position(|x| *x == r).unwrap_or(0) as u8
}

fn parse_uuid(s: &str) -> Option<[u8; 16]> {
    let b = s.as_bytes();
    if b.len() != 36 {
        return None;
    }
    let mut out = [0u8; 16];
    let mut k = 0;
    let mut i = 0;
    while i < 36 {
        if matches!(i, 8 | 13 | 18 | 23) {
            if b[i] != b'-' {
                return None;
            }
            i += 1;
            continue;
        }
        let hi = hex(b[i])?;
        let lo = hex(b[i + 1])?;
        out[k] = hi << 4 | lo;
        k += 1;
        i += 2;
    }
    Some(out)
}

fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

fn format_uuid(b: &[u8; 16], out: &mut String) {
    const H: &[u8; 16] = b"0123456789abcdef";
    for (i, v) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        out.push(H[(v >> 4) as usize] as char);
        out.push(H[(v & 15) as usize] as char);
    }
}

/// The subscription index and matcher.
///
/// Reads (`match_event`) take `&self` and no lock; `Matcher` is `Send + Sync`,
/// so a service shares it behind an `Arc<RwLock<Matcher>>` (one read guard per
/// batch of events) or swaps whole snapshots.
///
/// Memory: about 68 bytes per subscription (10 M explicit + 100 k generic,
/// see `docs/benchmarks.md`). Under glibc, a process that builds a large index
/// online keeps some freed merge buffers resident (glibc raises its mmap
/// threshold dynamically, so buffers up to 32 MiB come from the heap and their
/// holes are not returned): 82.5 instead of 68.0 bytes per subscription at
/// 10 M. Start such a process with `MALLOC_MMAP_THRESHOLD_=131072` (or use
/// jemalloc/mimalloc), or load the index from a [`snapshot`](Self::snapshot),
/// which has no such overhead.
///
/// ```
/// use ems_match::*;
/// let geo = std::sync::Arc::new(CsvGeography::sample());
/// let mut m = Matcher::new(geo);
/// let c = "/Bundle?type=message&Patient.identifier=https://fhir.nhs.uk/Id/nhs-number|9434765919&MessageHeader.event=pds-change-of-address-1&tag=siteA";
/// m.insert(&Subscription::new("s1", "X26ABC1", c.parse().unwrap(), "2024-01-01T00:00:00Z".parse().unwrap())).unwrap();
/// let ev = MatchEvent {
///     nhs_number: Some("9434765919".parse().unwrap()),
///     event_code: "pds-change-of-address-1".into(),
///     birth_date: None,
///     at: "2024-06-01T00:00:00Z".parse().unwrap(),
///     patient: PatientContext::default(),
/// };
/// let d = m.match_event(&ev);
/// assert_eq!(d.len(), 1);
/// assert_eq!(d[0].workflow_id, "CHANGEOFADDRESS_1");
/// assert_eq!(d[0].partner_id.as_deref(), Some("s1|siteA"));
/// ```
pub struct Matcher {
    geography: Arc<dyn Geography>,
    records: Chunked<Record>,
    explicit: SortedIndex<u64>,
    ids: SortedIndex<u32>,
    generic: MixMap<u64, Vec<u32>>,
    strings: Interner,
    arena: String,
    live: usize,
    dead: usize,
}

impl std::fmt::Debug for Matcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Matcher")
            .field("subscriptions", &self.live)
            .finish_non_exhaustive()
    }
}

/// Generic index key: rule, event and organisation code. A generic
/// subscription has exactly one event (digest 6.1), so lists only hold
/// candidates for the event being matched.
fn generic_key(rule: u8, event: u32, org: u32) -> u64 {
    (rule as u64) << 40 | (event as u64) << 32 | org as u64
}

impl Matcher {
    /// An empty matcher using `geography` for the generic rules.
    pub fn new(geography: Arc<dyn Geography>) -> Matcher {
        Matcher {
            geography,
            records: Chunked::default(),
            explicit: SortedIndex::default(),
            ids: SortedIndex::default(),
            generic: MixMap::default(),
            strings: Interner::default(),
            arena: String::new(),
            live: 0,
            dead: 0,
        }
    }

    /// Number of subscriptions held.
    pub fn len(&self) -> usize {
        self.live
    }

    /// `true` when no subscription is held.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    fn id_of(&self, r: &Record, out: &mut String) {
        if r.flags[7] == 0 {
            format_uuid(&r.id, out);
        } else {
            let off = u64::from_le_bytes(r.id[..8].try_into().unwrap_or([0; 8])) as usize;
            let len = u32::from_le_bytes(r.id[8..12].try_into().unwrap_or([0; 4])) as usize;
            out.push_str(self.arena.get(off..off + len).unwrap_or(""));
        }
    }

    fn id_string(&self, r: &Record) -> String {
        let mut s = String::with_capacity(36);
        self.id_of(r, &mut s);
        s
    }

    fn find(&self, id: &str) -> Option<u32> {
        let mut found = None;
        let mut buf = String::new();
        self.ids.for_each(id_hash(id), |i| {
            if found.is_none() {
                if let Some(r) = self.records.get(i) {
                    if r.live() {
                        buf.clear();
                        self.id_of(r, &mut buf);
                        if buf == id {
                            found = Some(i);
                        }
                    }
                }
            }
        });
        found
    }

    fn record_of(&mut self, s: &Subscription) -> Record {
        let mut r = Record::default();
        match parse_uuid(&s.id) {
            Some(u) => r.id = u,
            None => {
                let off = self.arena.len() as u64;
                self.arena.push_str(&s.id);
                r.id[..8].copy_from_slice(&off.to_le_bytes());
                r.id[8..12].copy_from_slice(&(s.id.len() as u32).to_le_bytes());
                r.flags[7] = 1;
            }
        }
        r.mailbox = self.strings.intern(&s.mailbox);
        for e in &s.criteria.events {
            if let Some(i) = event_index(e) {
                r.events |= 1 << i;
            }
        }
        r.created = to_secs(s.created);
        r.end = s.end.map(to_secs).unwrap_or(NO_END);
        r.tag = s
            .criteria
            .tag
            .as_deref()
            .map(|t| self.strings.intern(t))
            .unwrap_or(0);
        r.contact = s
            .contact_ods
            .as_deref()
            .map(|t| self.strings.intern(t))
            .unwrap_or(0);
        r.flags[0] = s.status.to_u8();
        r.flags[1] = match &s.criteria.kind {
            CriteriaKind::Explicit { .. } => 0,
            CriteriaKind::Generic { rule, .. } => 1 + rule_index(*rule),
        };
        r.flags[2] = match s.criteria.gp_registration {
            None => 0,
            Some(GpRegistration::RegisteredOnly) => 1,
            Some(GpRegistration::UnregisteredOnly) => 2,
        };
        r.flags[3] = match s.criteria.service_type {
            None => 0,
            Some(ServiceType::Gp) => 1,
            Some(ServiceType::Cho) => 2,
            Some(ServiceType::Uhv) => 3,
            Some(ServiceType::Epchr) => 4,
        };
        r.flags[4] = NO_AGE;
        r.flags[5] = NO_AGE;
        for a in &s.criteria.age {
            match *a {
                AgeFilter::LessThan(n) => r.flags[4] = n.min(254) as u8,
                AgeFilter::GreaterThan(n) => r.flags[5] = n.min(254) as u8,
            }
        }
        r.flags[6] = 1;
        r
    }

    /// Adds a subscription; one with the same id is replaced.
    pub fn insert(&mut self, s: &Subscription) -> Result<(), MatcherError> {
        self.check_insert(s)?;
        self.remove(&s.id);
        let (rec, key) = self.record_and_key(s);
        self.push(rec, key, id_hash(&s.id));
        Ok(())
    }

    /// Why `s` cannot be added, if it cannot.
    fn check_insert(&self, s: &Subscription) -> Result<(), MatcherError> {
        if s.id.is_empty() {
            return Err(MatcherError::EmptyId);
        }
        if s.mailbox.is_empty() {
            return Err(MatcherError::EmptyMailbox(s.id.clone()));
        }
        if self.records.len() as u64 > crate::index::MAX_VAL as u64 {
            return Err(MatcherError::Full);
        }
        Ok(())
    }

    /// The record of `s` and its index key: `Ok(nhs number)` for explicit,
    /// `Err(generic key)` for generic.
    fn record_and_key(&mut self, s: &Subscription) -> (Record, Result<u64, u64>) {
        let rec = self.record_of(s);
        let key = match &s.criteria.kind {
            CriteriaKind::Explicit { nhs_number, .. } => Ok(nhs_number.as_u64()),
            CriteriaKind::Generic { rule, organization } => Err(generic_key(
                rule_index(*rule),
                rec.events.trailing_zeros(),
                self.strings.intern(organization),
            )),
        };
        (rec, key)
    }

    /// `key`: `Ok(nhs number)` for explicit, `Err(generic key)` for generic.
    fn push(&mut self, rec: Record, key: Result<u64, u64>, idh: u32) {
        let i = self.records.push(rec);
        let records = &self.records;
        let live = |v: u32| records.get(v).is_some_and(|r| r.live());
        match key {
            Ok(nhs) => self.explicit.insert(nhs, i, live),
            Err(g) => self.generic.entry(g).or_default().push(i),
        }
        self.ids.insert(idh, i, live);
        self.live += 1;
    }

    /// Removes the subscription with this id; `false` when there is none.
    pub fn remove(&mut self, id: &str) -> bool {
        let Some(i) = self.find(id) else {
            return false;
        };
        if let Some(r) = self.records.get_mut(i) {
            r.flags[6] = 0;
        }
        self.live -= 1;
        self.dead += 1;
        if self.dead > 65_536 && self.dead > self.live / 4 {
            self.compact();
        }
        true
    }

    /// Merges pending inserts into the sorted arrays and drops removed entries
    /// from the indexes (called automatically; call after a bulk load to
    /// release the insert buffers).
    pub fn compact(&mut self) {
        let records = &self.records;
        let live = |v: u32| records.get(v).is_some_and(|r| r.live());
        self.explicit.merge(live);
        self.ids.merge(live);
        for v in self.generic.values_mut() {
            v.retain(|&i| live(i));
        }
        self.generic.retain(|_, v| !v.is_empty());
        // dead records stay in the store until the next snapshot round trip
        self.dead = 0;
    }

    /// Bytes held by the index structures (excluding the geography).
    pub fn heap_bytes(&self) -> usize {
        self.records.heap_bytes()
            + self.explicit.heap_bytes()
            + self.ids.heap_bytes()
            + self.generic.capacity() * 40
            + self
                .generic
                .values()
                .map(|v| v.capacity() * 4)
                .sum::<usize>()
            + self.arena.capacity()
    }

    #[inline]
    fn accepts(&self, r: &Record, bit: u32, at: u32, age: Option<u32>, registered: bool) -> bool {
        if !r.live() || r.flags[0] != SubscriptionStatus::Active.to_u8() || r.events & bit == 0 {
            return false;
        }
        if r.created > at || (r.end != NO_END && r.end < at) {
            return false;
        }
        match r.flags[2] {
            1 if !registered => return false,
            2 if registered => return false,
            _ => {}
        }
        if r.flags[4] != NO_AGE || r.flags[5] != NO_AGE {
            let Some(a) = age else {
                return false;
            };
            if r.flags[4] != NO_AGE && a >= r.flags[4] as u32 {
                return false;
            }
            if r.flags[5] != NO_AGE && a <= r.flags[5] as u32 {
                return false;
            }
        }
        true
    }

    /// Finds every matching subscription and returns one delivery per mailbox,
    /// sorted by mailbox. Unknown event codes and patients flagged `S`/`I` on
    /// PDS get no deliveries.
    pub fn match_event(&self, ev: &MatchEvent) -> Vec<Delivery> {
        let mut out = Vec::new();
        self.match_event_into(ev, &mut out);
        out
    }

    /// Like [`match_event`](Self::match_event), writing into `out` and reusing
    /// the strings and vectors already in it (a router that keeps one buffer
    /// per thread allocates almost nothing per event). `out` holds exactly the
    /// deliveries of `ev` afterwards.
    ///
    /// ```
    /// # use ems_match::*;
    /// # let m = Matcher::new(std::sync::Arc::new(CsvGeography::sample()));
    /// # let ev = MatchEvent { nhs_number: None, event_code: "vaccinations-1".into(), birth_date: None,
    /// #     at: "2024-01-01T00:00:00Z".parse().unwrap(), patient: PatientContext::default() };
    /// let mut buf = Vec::new();
    /// m.match_event_into(&ev, &mut buf);
    /// assert!(buf.is_empty());
    /// ```
    pub fn match_event_into(&self, ev: &MatchEvent, out: &mut Vec<Delivery>) {
        let mut hits: Vec<u32> = Vec::new();
        self.collect(ev, &mut hits);
        self.deliveries_into(ev, &hits, out);
    }

    /// Record numbers of the matching subscriptions (unsorted, deduplicated).
    fn collect(&self, ev: &MatchEvent, hits: &mut Vec<u32>) {
        if ev.patient.pds_flag.is_some() {
            return;
        }
        let Some(ei) = event_index(&ev.event_code) else {
            return;
        };
        let bit = 1u32 << ei;
        let at = to_secs(ev.at);
        let age = ev.birth_date.map(|b| age_on(b, ev.at.date_naive()));
        let registered = ev.patient.gp_practice.is_some();
        if let Some(n) = ev.nhs_number {
            self.explicit.for_each(n.as_u64(), |i| {
                if let Some(r) = self.records.get(i) {
                    if self.accepts(r, bit, at, age, registered) {
                        hits.push(i);
                    }
                }
            });
        }
        if self.generic.is_empty() {
            return;
        }
        let mut keys: [(RuleType, &str); 8] = [(RuleType::GpGpGp, ""); 8];
        let mut nk = 0usize;
        macro_rules! add {
            ($k:expr) => {
                if nk < keys.len() {
                    keys[nk] = $k;
                    nk += 1;
                }
            };
        }
        if let Some(p) = ev.patient.gp_practice.as_deref() {
            add!((RuleType::GpGpGp, p));
            if let Some(s) = self.geography.practice_sub_icb(p) {
                add!((RuleType::ChoGpCcg, s));
            }
        }
        for pc in [
            ev.patient.postcode.as_deref(),
            ev.patient.previous_postcode.as_deref(),
        ]
        .into_iter()
        .flatten()
        {
            if let Some(a) = self.geography.postcode(pc) {
                if let Some(s) = a.sub_icb.as_deref() {
                    add!((RuleType::ChoPostcodeCcg, s));
                }
                if let Some(s) = a.local_authority.as_deref() {
                    add!((RuleType::UhvPostcodeLacode, s));
                }
                if let Some(s) = a.country.as_deref() {
                    add!((RuleType::CountryCode, s));
                }
            }
        }
        let start = hits.len();
        // gather the candidate lists first, then touch every candidate record
        // in one pass of independent loads (the CPU overlaps the cache
        // misses), then evaluate them
        let mut lists: [&[u32]; 8] = [&[]; 8];
        let mut nl = 0usize;
        for &(rule, code) in &keys[..nk] {
            let Some(org) = self.strings.get(code) else {
                continue;
            };
            if let Some(v) = self
                .generic
                .get(&generic_key(rule_index(rule), ei as u32, org))
            {
                lists[nl] = v;
                nl += 1;
            }
        }
        let mut live = 0u32;
        for list in &lists[..nl] {
            for &i in *list {
                if let Some(r) = self.records.get(i) {
                    live = live.wrapping_add(r.flags[6] as u32);
                }
            }
        }
        std::hint::black_box(live);
        for list in &lists[..nl] {
            for &i in *list {
                if let Some(r) = self.records.get(i) {
                    if self.accepts(r, bit, at, age, registered) {
                        hits.push(i);
                    }
                }
            }
        }
        // old and new address in the same area give the same subscription
        // twice; explicit and generic hits are different records
        if hits.len() > start + 1 {
            hits[start..].sort_unstable();
            let mut w = start + 1;
            for k in start + 1..hits.len() {
                if hits[k] != hits[w - 1] {
                    hits[w] = hits[k];
                    w += 1;
                }
            }
            hits.truncate(w);
        }
    }

    fn deliveries_into(&self, ev: &MatchEvent, hits: &[u32], out: &mut Vec<Delivery>) {
        let workflow_id = event_index(&ev.event_code)
            .map(|i| EVENT_TYPES[i].workflow_id)
            .unwrap_or("");
        // (mailbox, id as sortable bytes, record): UUID ids sort by their
        // bytes exactly as by their lower-case text
        let mut rows: Vec<(&str, &Record)> = hits
            .iter()
            .filter_map(|&i| self.records.get(i))
            .map(|r| (self.strings.resolve(r.mailbox), r))
            .collect();
        rows.sort_unstable_by(|a, b| a.0.cmp(b.0).then_with(|| self.cmp_ids(a.1, b.1)));
        rows.dedup_by(|a, b| std::ptr::eq(a.1, b.1));
        let mut n = 0usize;
        let mut k = 0usize;
        for (i, (mailbox, r)) in rows.iter().enumerate() {
            let new_mailbox = i == 0 || rows[i - 1].0 != *mailbox;
            if new_mailbox {
                if n > 0 {
                    out[n - 1].subscriptions.truncate(k);
                }
                if n == out.len() {
                    out.push(Delivery {
                        mailbox: String::new(),
                        workflow_id,
                        subscriptions: Vec::new(),
                        partner_id: None,
                    });
                }
                let d = &mut out[n];
                d.mailbox.clear();
                d.mailbox.push_str(mailbox);
                d.workflow_id = workflow_id;
                if let Some(p) = d.partner_id.as_mut() {
                    p.clear();
                }
                n += 1;
                k = 0;
            }
            let d = &mut out[n - 1];
            if k == d.subscriptions.len() {
                d.subscriptions.push(String::with_capacity(36));
            }
            let id = &mut d.subscriptions[k];
            id.clear();
            self.id_of(r, id);
            k += 1;
            if r.tag != 0 {
                let p = d
                    .partner_id
                    .get_or_insert_with(|| String::with_capacity(64));
                if !p.is_empty() {
                    p.push_str("~~~");
                }
                p.push_str(&d.subscriptions[k - 1]);
                p.push('|');
                p.push_str(self.strings.resolve(r.tag));
            }
        }
        if n > 0 {
            out[n - 1].subscriptions.truncate(k);
        }
        out.truncate(n);
        for d in out.iter_mut() {
            if d.partner_id.as_deref() == Some("") {
                d.partner_id = None;
            }
        }
    }

    fn cmp_ids(&self, a: &Record, b: &Record) -> std::cmp::Ordering {
        if a.flags[7] == 0 && b.flags[7] == 0 {
            return a.id.cmp(&b.id);
        }
        let (mut x, mut y) = (String::new(), String::new());
        self.id_of(a, &mut x);
        self.id_of(b, &mut y);
        x.cmp(&y)
    }

    /// Number of matching subscriptions (no delivery grouping); for benchmarks
    /// and capacity planning.
    pub fn count_matches(&self, ev: &MatchEvent) -> usize {
        let mut hits = Vec::new();
        self.collect(ev, &mut hits);
        hits.len()
    }

    /// All live subscriptions as plain data (for snapshots and inspection).
    /// The criteria are rebuilt from the index, so they come back in canonical form.
    pub fn subscriptions(&self) -> Vec<Subscription> {
        let mut nhs_of: MixMap<u32, u64> = MixMap::default();
        for (k, v) in self.explicit.pairs() {
            nhs_of.insert(v, k);
        }
        let mut org_of: MixMap<u32, u64> = MixMap::default();
        for (k, vs) in &self.generic {
            for v in vs {
                org_of.insert(*v, *k);
            }
        }
        let mut out = Vec::with_capacity(self.live);
        for (i, r) in self.records.iter().enumerate() {
            if !r.live() {
                continue;
            }
            let kind = if r.flags[1] == 0 {
                match nhs_of
                    .get(&(i as u32))
                    .and_then(|n| NhsNumber::from_u64(*n).ok())
                {
                    Some(nhs_number) => CriteriaKind::Explicit {
                        system: crate::criteria::NhsNumberSystem::Current,
                        nhs_number,
                    },
                    None => continue,
                }
            } else {
                let Some(k) = org_of.get(&(i as u32)) else {
                    continue;
                };
                CriteriaKind::Generic {
                    rule: RuleType::ALL[(r.flags[1] - 1) as usize % 5],
                    organization: self.strings.resolve(*k as u32).to_string(),
                }
            };
            out.push(self.to_subscription(r, kind));
        }
        out
    }

    fn to_subscription(&self, r: &Record, kind: CriteriaKind) -> Subscription {
        let mut age = Vec::new();
        if r.flags[5] != NO_AGE {
            age.push(AgeFilter::GreaterThan(r.flags[5] as u32));
        }
        if r.flags[4] != NO_AGE {
            age.push(AgeFilter::LessThan(r.flags[4] as u32));
        }
        Subscription {
            id: self.id_string(r),
            status: SubscriptionStatus::from_u8(r.flags[0]),
            end: (r.end != NO_END).then(|| from_secs(r.end)),
            created: from_secs(r.created),
            mailbox: self.strings.resolve(r.mailbox).to_string(),
            contact_ods: (r.contact != 0).then(|| self.strings.resolve(r.contact).to_string()),
            criteria: crate::criteria::Criteria {
                kind,
                service_type: match r.flags[3] {
                    1 => Some(ServiceType::Gp),
                    2 => Some(ServiceType::Cho),
                    3 => Some(ServiceType::Uhv),
                    4 => Some(ServiceType::Epchr),
                    _ => None,
                },
                events: EVENT_TYPES
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| r.events & (1 << i) != 0)
                    .map(|(_, e)| e.code.to_string())
                    .collect(),
                age,
                gp_registration: match r.flags[2] {
                    1 => Some(GpRegistration::RegisteredOnly),
                    2 => Some(GpRegistration::UnregisteredOnly),
                    _ => None,
                },
                tag: (r.tag != 0).then(|| self.strings.resolve(r.tag).to_string()),
            },
        }
    }
}

/// Age in completed years on `on` of someone born on `birth`.
///
/// ```
/// use chrono::NaiveDate;
/// let b = NaiveDate::from_ymd_opt(2010, 6, 15).unwrap();
/// assert_eq!(ems_match::age_on(b, NaiveDate::from_ymd_opt(2020, 6, 14).unwrap()), 9);
/// assert_eq!(ems_match::age_on(b, NaiveDate::from_ymd_opt(2020, 6, 15).unwrap()), 10);
/// ```
pub fn age_on(birth: NaiveDate, on: NaiveDate) -> u32 {
    if on < birth {
        return 0;
    }
    let mut years = on.year() - birth.year();
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        years -= 1;
    }
    years.max(0) as u32
}

// ---------------------------------------------------------------- snapshot

const MAGIC: &[u8; 8] = b"EMSMATCH";
const VERSION: u32 = 1;

/// A snapshot that cannot be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("snapshot byte {offset}: {message}")]
pub struct SnapshotError {
    /// Where reading failed.
    pub offset: usize,
    /// What is wrong.
    pub message: String,
}

struct Cur<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Cur<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], SnapshotError> {
        let s = self
            .b
            .get(self.pos..self.pos.saturating_add(n))
            .ok_or(SnapshotError {
                offset: self.pos,
                message: format!("truncated: {n} more bytes expected"),
            })?;
        self.pos += n;
        Ok(s)
    }
    fn u32(&mut self) -> Result<u32, SnapshotError> {
        let s = self.take(4)?;
        Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    }
    fn u64(&mut self) -> Result<u64, SnapshotError> {
        let s = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(s);
        Ok(u64::from_le_bytes(a))
    }
}

/// Builds a [`Matcher`] from many subscriptions at once, as a start-up load
/// does: the result is the index [`Matcher::insert`] of each in order makes
/// (a later subscription replaces an earlier one with the same id), but the
/// indexes are built with one sort each at [`MatcherBuilder::build`] instead
/// of being updated (and merged) insert by insert.
///
/// ```
/// use ems_match::*;
/// let geo = std::sync::Arc::new(CsvGeography::sample());
/// let mut b = MatcherBuilder::new(geo);
/// let c = "/Bundle?type=message&Patient.identifier=https://fhir.nhs.uk/Id/nhs-number|9434765919&MessageHeader.event=vaccinations-1";
/// b.push(&Subscription::new("s1", "X26ABC1", c.parse().unwrap(), "2024-01-01T00:00:00Z".parse().unwrap())).unwrap();
/// assert_eq!(b.build().len(), 1);
/// ```
pub struct MatcherBuilder {
    m: Matcher,
    /// (mix(key), NHS number, record) of the explicit subscriptions.
    explicit: Vec<(u64, u64, u32)>,
    /// (mix(id hash), id hash, record).
    ids: Vec<(u64, u32, u32)>,
}

impl MatcherBuilder {
    /// An empty builder of a matcher using `geography` for the generic rules.
    pub fn new(geography: Arc<dyn Geography>) -> MatcherBuilder {
        MatcherBuilder {
            m: Matcher::new(geography),
            explicit: Vec::new(),
            ids: Vec::new(),
        }
    }

    /// Adds a subscription (the checks of [`Matcher::insert`]).
    pub fn push(&mut self, s: &Subscription) -> Result<(), MatcherError> {
        self.m.check_insert(s)?;
        let (rec, key) = self.m.record_and_key(s);
        let i = self.m.records.push(rec);
        match key {
            Ok(nhs) => self.explicit.push((crate::index::mix(nhs), nhs, i)),
            Err(g) => self.m.generic.entry(g).or_default().push(i),
        }
        let h = id_hash(&s.id);
        self.ids.push((crate::index::mix(h as u64), h, i));
        self.m.live += 1;
        Ok(())
    }

    /// Number of subscriptions pushed (a repeated id counted each time).
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// `true` when nothing was pushed.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The matcher: of subscriptions pushed with the same id only the last
    /// is kept.
    pub fn build(self) -> Matcher {
        let MatcherBuilder {
            mut m,
            explicit,
            mut ids,
        } = self;
        ids.sort_unstable_by_key(|e| (e.0, e.2));
        // equal ids have equal hashes: compare the ids within each run
        let (mut a, mut b) = (String::new(), String::new());
        let mut dead = Vec::new();
        for run in ids.chunk_by(|x, y| x.1 == y.1).filter(|r| r.len() > 1) {
            for (k, older) in run.iter().enumerate() {
                a.clear();
                m.id_of(&m.records.get(older.2).copied().unwrap_or_default(), &mut a);
                let replaced = run[k + 1..].iter().any(|newer| {
                    b.clear();
                    m.id_of(&m.records.get(newer.2).copied().unwrap_or_default(), &mut b);
                    a == b
                });
                if replaced {
                    dead.push(older.2);
                }
            }
        }
        for i in &dead {
            if let Some(r) = m.records.get_mut(*i) {
                r.flags[6] = 0;
            }
            m.live -= 1;
        }
        if dead.is_empty() {
            m.explicit.build(explicit);
            m.ids.build(ids);
        } else {
            let records = &m.records;
            let live = |v: u32| records.get(v).is_some_and(|r| r.live());
            m.explicit
                .build(explicit.into_iter().filter(|e| live(e.2)).collect());
            m.ids.build(ids.into_iter().filter(|e| live(e.2)).collect());
            for v in m.generic.values_mut() {
                v.retain(|&i| live(i));
            }
            m.generic.retain(|_, v| !v.is_empty());
        }
        m
    }
}

impl Matcher {
    /// Serialises the index (live subscriptions only) for a fast restart.
    /// Format: magic `EMSMATCH`, version, string table, id arena, then one
    /// 56-byte row per subscription (48-byte record + 8-byte key), little-endian.
    pub fn snapshot(&self) -> Vec<u8> {
        let mut key_of: Vec<u64> = vec![u64::MAX; self.records.len()];
        for (k, v) in self.explicit.pairs() {
            if let Some(slot) = key_of.get_mut(v as usize) {
                *slot = k;
            }
        }
        for (k, vs) in &self.generic {
            for v in vs {
                if let Some(slot) = key_of.get_mut(*v as usize) {
                    *slot = *k;
                }
            }
        }
        let mut out = Vec::with_capacity(64 + self.live * 56 + self.arena.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        let strings = self.strings.strings();
        out.extend_from_slice(&(strings.len() as u32).to_le_bytes());
        for s in strings {
            out.extend_from_slice(&(s.len() as u32).to_le_bytes());
            out.extend_from_slice(s.as_bytes());
        }
        out.extend_from_slice(&(self.arena.len() as u64).to_le_bytes());
        out.extend_from_slice(self.arena.as_bytes());
        out.extend_from_slice(&(self.live as u64).to_le_bytes());
        for (i, r) in self.records.iter().enumerate() {
            if r.live() && key_of[i] != u64::MAX {
                r.write_to(&mut out);
                out.extend_from_slice(&key_of[i].to_le_bytes());
            }
        }
        out
    }

    /// Loads a snapshot made by [`Matcher::snapshot`].
    pub fn from_snapshot(
        bytes: &[u8],
        geography: Arc<dyn Geography>,
    ) -> Result<Matcher, SnapshotError> {
        let mut c = Cur { b: bytes, pos: 0 };
        if c.take(8)? != MAGIC {
            return Err(SnapshotError {
                offset: 0,
                message: "not an ems-match snapshot".into(),
            });
        }
        let v = c.u32()?;
        if v != VERSION {
            return Err(SnapshotError {
                offset: 8,
                message: format!("version {v}, expected {VERSION}"),
            });
        }
        let n = c.u32()? as usize;
        let mut strings: Vec<Box<str>> = Vec::with_capacity(n.min(bytes.len()));
        for _ in 0..n {
            let len = c.u32()? as usize;
            let at = c.pos;
            let s = std::str::from_utf8(c.take(len)?).map_err(|_| SnapshotError {
                offset: at,
                message: "string is not UTF-8".into(),
            })?;
            strings.push(s.into());
        }
        let alen = c.u64()? as usize;
        let at = c.pos;
        let arena = std::str::from_utf8(c.take(alen)?)
            .map_err(|_| SnapshotError {
                offset: at,
                message: "id arena is not UTF-8".into(),
            })?
            .to_string();
        let count = c.u64()? as usize;
        if count.saturating_mul(RECORD_BYTES + 8) > bytes.len().saturating_sub(c.pos) {
            return Err(SnapshotError {
                offset: c.pos,
                message: format!("{count} records do not fit in the remaining bytes"),
            });
        }
        let mut m = Matcher::new(geography);
        m.strings = Interner::from_strings(strings);
        m.arena = arena;
        let mut explicit = Vec::with_capacity(count);
        let mut ids = Vec::with_capacity(count);
        let mut idbuf = String::new();
        for _ in 0..count {
            let at = c.pos;
            let r = Record::from_bytes(c.take(RECORD_BYTES)?).ok_or(SnapshotError {
                offset: at,
                message: "bad record".into(),
            })?;
            let key = c.u64()?;
            if r.mailbox as usize >= m.strings.strings().len()
                || r.tag as usize >= m.strings.strings().len()
            {
                return Err(SnapshotError {
                    offset: at,
                    message: "record refers to a missing string".into(),
                });
            }
            idbuf.clear();
            m.id_of(&r, &mut idbuf);
            let i = m.records.push(r);
            ids.push((
                crate::index::mix(id_hash(&idbuf) as u64),
                id_hash(&idbuf),
                i,
            ));
            if r.flags[1] == 0 {
                explicit.push((crate::index::mix(key), key, i));
            } else {
                m.generic.entry(key).or_default().push(i);
            }
            m.live += 1;
        }
        m.explicit.build(explicit);
        m.ids.build(ids);
        Ok(m)
    }
}
