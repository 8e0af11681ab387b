//! Shared generators for the matcher benches.
#![allow(dead_code)]

use chrono::{DateTime, TimeZone, Utc};
use ems_match::*;

pub fn t(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_600_000_000 + secs, 0).unwrap()
}

/// The i-th valid NHS number at or after 4_000_000_000 (deterministic).
pub struct NhsGen(u64);
impl Default for NhsGen {
    fn default() -> Self {
        Self::new()
    }
}
impl NhsGen {
    pub fn new() -> Self {
        NhsGen(4_000_000_000)
    }
}
impl Iterator for NhsGen {
    type Item = NhsNumber;
    fn next(&mut self) -> Option<NhsNumber> {
        loop {
            self.0 += 1;
            if let Ok(n) = NhsNumber::from_u64(self.0) {
                return Some(n);
            }
        }
    }
}

pub fn explicit(i: usize, n: NhsNumber) -> Subscription {
    let ev = EVENT_TYPES[i % 10].code;
    let criteria = Criteria {
        kind: CriteriaKind::Explicit {
            system: NhsNumberSystem::Current,
            nhs_number: n,
        },
        service_type: Some(ServiceType::Gp),
        events: vec![ev.to_string()],
        age: vec![],
        gp_registration: None,
        tag: i.is_multiple_of(4).then(|| format!("t{}", i % 50)),
    };
    let mut s = Subscription::new(
        uuid_like(i as u64),
        format!("MBX{:05}", i % 20_000),
        criteria,
        t(0),
    );
    s.contact_ods = Some(format!("A{:05}", i % 20_000));
    s
}

pub fn generic(i: usize, geo_codes: &[(&RuleType, String)]) -> Subscription {
    let (rule, org) = &geo_codes[i % geo_codes.len()];
    let criteria = Criteria {
        kind: CriteriaKind::Generic {
            rule: **rule,
            organization: org.clone(),
        },
        service_type: None,
        events: vec![EVENT_TYPES[i % 10].code.to_string()],
        age: vec![],
        gp_registration: None,
        tag: Some(format!("g{}", i % 100)),
    };
    Subscription::new(
        uuid_like(0x8000_0000_0000 + i as u64),
        format!("GEN{:05}", i % 5_000),
        criteria,
        t(0),
    )
}

pub fn uuid_like(i: u64) -> String {
    let h = i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        (h >> 32) as u32,
        (h >> 16) as u16,
        (h & 0xfff) as u16,
        (i >> 48) & 0xfff,
        i & 0xffff_ffff_ffff
    )
}

/// Generic codes: practices, sub-ICBs, local authorities, countries (synthetic).
pub fn generic_codes() -> Vec<(&'static RuleType, String)> {
    let mut v = Vec::new();
    for p in 0..7000 {
        v.push((&RuleType::GpGpGp, format!("P{p:05}")));
    }
    for s in 0..106 {
        v.push((&RuleType::ChoGpCcg, format!("S{s:03}")));
        v.push((&RuleType::ChoPostcodeCcg, format!("S{s:03}")));
    }
    for l in 0..300 {
        v.push((&RuleType::UhvPostcodeLacode, format!("E0{l:07}")));
    }
    v.push((&RuleType::CountryCode, "E92000001".to_string()));
    v
}

pub fn geography() -> CsvGeography {
    let mut g = CsvGeography::default();
    for p in 0..7000 {
        g.insert_practice(&format!("P{p:05}"), &format!("S{:03}", p % 106));
    }
    for pc in 0..10_000 {
        g.insert_postcode(
            &format!("LS{} {}AA", pc / 100, pc % 100),
            PostcodeArea {
                local_authority: Some(format!("E0{:07}", pc % 300)),
                sub_icb: Some(format!("S{:03}", pc % 106)),
                country: Some("E92000001".into()),
            },
        );
    }
    g
}

pub fn event(n: NhsNumber, i: usize) -> MatchEvent {
    MatchEvent {
        nhs_number: Some(n),
        event_code: EVENT_TYPES[i % 10].code.to_string(),
        birth_date: None,
        at: t(1000),
        patient: PatientContext {
            postcode: Some(format!("LS{} {}AA", (i % 10_000) / 100, i % 100)),
            previous_postcode: None,
            gp_practice: Some(format!("P{:05}", i % 7000)),
            pds_flag: None,
        },
    }
}

/// Resident set size in bytes (Linux), 0 elsewhere.
pub fn rss() -> usize {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|v| v.parse::<usize>().ok())
        })
        .map(|pages| pages * 4096)
        .unwrap_or(0)
}
