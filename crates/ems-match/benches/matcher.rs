//! Criterion benchmarks of the matcher at 1 million explicit + 100 000
//! generic subscriptions, with a linear scan over the same 1 million
//! explicit subscriptions as the same-run baseline.

use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion};
use ems_match::*;
use std::sync::Arc;

mod common;
use common::*;

fn bench(c: &mut Criterion) {
    let n_explicit = 1_000_000;
    let nhs: Vec<NhsNumber> = NhsGen::new().take(n_explicit).collect();
    let codes = generic_codes();
    let mut m = Matcher::new(Arc::new(geography()));
    let mut plain = Vec::with_capacity(n_explicit);
    for (i, n) in nhs.iter().enumerate() {
        let s = explicit(i, *n);
        m.insert(&s).unwrap();
        plain.push(s);
    }
    for i in 0..100_000 {
        m.insert(&generic(i, &codes)).unwrap();
    }
    m.compact();
    let events: Vec<MatchEvent> = (0..1024)
        .map(|i| event(nhs[(i * 7919) % nhs.len()], i * 7919))
        .collect();

    let mut g = c.benchmark_group("match_1m");
    let mut k = 0usize;
    g.bench_function("indexed_match_event", |b| {
        b.iter(|| {
            k = (k + 1) & 1023;
            black_box(m.match_event(black_box(&events[k])))
        })
    });
    g.bench_function("indexed_count_matches", |b| {
        b.iter(|| {
            k = (k + 1) & 1023;
            black_box(m.count_matches(black_box(&events[k])))
        })
    });
    g.sample_size(10);
    g.bench_function("baseline_linear_scan_explicit", |b| {
        b.iter(|| {
            k = (k + 1) & 1023;
            let ev = &events[k];
            black_box(
                plain
                    .iter()
                    .filter(|s| {
                        matches!(&s.criteria.kind, CriteriaKind::Explicit { nhs_number, .. } if Some(*nhs_number) == ev.nhs_number)
                            && s.criteria.events.contains(&ev.event_code)
                    })
                    .count(),
            )
        })
    });
    g.finish();

    let mut g = c.benchmark_group("update_1m");
    let fresh: Vec<NhsNumber> = NhsGen::new().skip(n_explicit).take(200_000).collect();
    let mut j = 0usize;
    g.bench_function("insert_then_remove", |b| {
        b.iter_batched(
            || {
                j = (j + 1) % fresh.len();
                explicit(n_explicit + j, fresh[j])
            },
            |s| {
                m.insert(&s).unwrap();
                m.remove(&s.id)
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(50).measurement_time(std::time::Duration::from_secs(3)).warm_up_time(std::time::Duration::from_secs(1));
    targets = bench
}
criterion_main!(benches);
