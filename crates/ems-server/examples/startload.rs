//! Where a start from the stored rows spends its time (issue 15: ready in
//! ≤ 5 s with 1,000,000 subscriptions): seeds a data folder once, then
//! times in one process, round after round, (1) the index built by
//! `Matcher::insert` per row (the former start), (2) by `MatcherBuilder`
//! (bulk), (3) `Routing::load` from the rows (the start: bulk) and (4)
//! `Routing::load` from the snapshot — wall and CPU seconds each, so the
//! ratios hold on a loaded machine.
//!
//! ```text
//! cargo run --release -p ems-server --example startload -- [--subscriptions 1000000] [--rounds 3]
//! ```

#[path = "common/seed.rs"]
mod seed;

use ems::matching::{CsvGeography, Matcher, MatcherBuilder};
use ems_server::pipeline::Pipeline;
use ems_server::routing::{active_subscription, Routing};
use std::sync::Arc;
use std::time::Instant;

/// CPU seconds (user + system, every thread) of this process so far.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

fn main() {
    let v: Vec<String> = std::env::args().skip(1).collect();
    let arg = |name: &str, default: usize| {
        v.iter()
            .position(|a| a == name)
            .and_then(|i| v.get(i + 1))
            .map_or(default, |n| n.parse().expect("a number"))
    };
    let (n, rounds) = (arg("--subscriptions", 1_000_000), arg("--rounds", 3));
    let dir = std::env::temp_dir().join(format!("ems-startload-{}", std::process::id()));
    let t = Instant::now();
    seed::seed(&dir, n);
    eprintln!(
        "startload: seeded {n} in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let log = ems_server::SqlitePipeline::open(&dir).unwrap();
    let geo = Arc::new(CsvGeography::default());
    let snapshot = dir.join(ems_server::SNAPSHOT_FILE);
    Routing::load(&log, geo.clone(), Default::default(), None)
        .unwrap()
        .write_snapshot(&log, &snapshot)
        .unwrap();
    for round in 1..=rounds {
        for variant in [
            "insert per row",
            "MatcherBuilder",
            "load (rows)",
            "load (snapshot)",
        ] {
            let (cpu, t) = (cpu_seconds(), Instant::now());
            let indexed = match variant {
                "insert per row" => {
                    let mut m = Matcher::new(geo.clone());
                    log.for_each_subscription(&mut |s| {
                        if let Some(s) = active_subscription(&s) {
                            m.insert(&s).unwrap();
                        }
                    })
                    .unwrap();
                    m.compact();
                    m.len()
                }
                "MatcherBuilder" => {
                    let mut b = MatcherBuilder::new(geo.clone());
                    log.for_each_subscription(&mut |s| {
                        if let Some(s) = active_subscription(&s) {
                            b.push(&s).unwrap();
                        }
                    })
                    .unwrap();
                    b.build().len()
                }
                "load (rows)" => Routing::load(&log, geo.clone(), Default::default(), None)
                    .unwrap()
                    .len(),
                _ => Routing::load(&log, geo.clone(), Default::default(), Some(&snapshot))
                    .unwrap()
                    .len(),
            };
            println!(
                "{{\"round\":{round},\"variant\":\"{variant}\",\"wall_s\":{:.2},\"cpu_s\":{:.2},\"indexed\":{indexed}}}",
                t.elapsed().as_secs_f64(),
                cpu_seconds() - cpu
            );
        }
    }
    drop(log);
    let _ = std::fs::remove_dir_all(&dir);
}
