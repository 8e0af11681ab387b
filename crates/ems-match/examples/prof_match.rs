//! Profiling driver for `perf record`: 1M explicit + 100k generic, then
//! matches in a loop. Uses the bench generators.
#[path = "../benches/common/mod.rs"]
mod common;
use common::*;
use ems_match::*;
use std::sync::Arc;

fn main() {
    let nhs: Vec<NhsNumber> = NhsGen::new().take(1_000_000).collect();
    let codes = generic_codes();
    let mut m = Matcher::new(Arc::new(geography()));
    for (i, n) in nhs.iter().enumerate() {
        m.insert(&explicit(i, *n)).unwrap();
    }
    for i in 0..100_000 {
        m.insert(&generic(i, &codes)).unwrap();
    }
    m.compact();
    let events: Vec<MatchEvent> = (0..4096)
        .map(|i| event(nhs[(i * 7919) % nhs.len()], i * 31))
        .collect();
    let mut n = 0;
    for _ in 0..300 {
        for e in &events {
            n += m.match_event(e).len();
        }
    }
    println!("{n}");
}
