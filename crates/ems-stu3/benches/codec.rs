//! Codec throughput over the NEMS corpus, with same-run baselines:
//! raw quick-xml tokenisation (no allocation) of the same XML bytes,
//! `serde_json::from_slice::<Value>` of the same JSON bytes (read) and
//! `serde_json::to_vec` of the same documents as `Value`s (write).

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use ems_stu3::{from_json, from_xml, to_json, to_xml};
use ems_testdata::{nems_xml as corpus, tokenise};

fn bench(c: &mut Criterion) {
    let xml = corpus();
    let xml_bytes: u64 = xml.iter().map(|x| x.len() as u64).sum();
    let parsed: Vec<_> = xml.iter().map(|x| from_xml(x).unwrap().resource).collect();
    let json: Vec<Vec<u8>> = parsed.iter().map(|r| to_json(r).into_bytes()).collect();
    let json_bytes: u64 = json.iter().map(|x| x.len() as u64).sum();
    let values: Vec<serde_json::Value> = json
        .iter()
        .map(|j| serde_json::from_slice(j).unwrap())
        .collect();

    let mut g = c.benchmark_group("xml");
    g.throughput(Throughput::Bytes(xml_bytes));
    g.bench_function("baseline_quick_xml_tokenise", |b| {
        b.iter(|| xml.iter().map(|x| tokenise(black_box(x))).sum::<usize>())
    });
    g.bench_function("typed_read", |b| {
        b.iter(|| {
            for x in &xml {
                black_box(from_xml(black_box(x)).unwrap());
            }
        })
    });
    g.bench_function("write", |b| {
        b.iter(|| {
            for r in &parsed {
                black_box(to_xml(black_box(r)));
            }
        })
    });
    g.finish();

    let mut g = c.benchmark_group("json");
    g.throughput(Throughput::Bytes(json_bytes));
    g.bench_function("baseline_serde_json_value", |b| {
        b.iter(|| {
            for j in &json {
                black_box(serde_json::from_slice::<serde_json::Value>(black_box(j)).unwrap());
            }
        })
    });
    g.bench_function("typed_read", |b| {
        b.iter(|| {
            for j in &json {
                black_box(from_json(black_box(j)).unwrap());
            }
        })
    });
    g.bench_function("write", |b| {
        b.iter(|| {
            for r in &parsed {
                black_box(to_json(black_box(r)));
            }
        })
    });
    // the writer's same-run baseline (issue 14): serialising the same
    // documents held as `serde_json::Value`s, what a writer that keeps Bundle
    // entries as `Value`s (the `fhir` crate's) runs at
    g.bench_function("baseline_serde_json_to_vec_value", |b| {
        b.iter(|| {
            for v in &values {
                black_box(serde_json::to_vec(black_box(v)).unwrap());
            }
        })
    });
    g.finish();

    // one typical 6 KB NEMS message
    let one = xml
        .iter()
        .min_by_key(|x| x.len().abs_diff(6000))
        .unwrap()
        .clone();
    let mut g = c.benchmark_group("single_message");
    g.throughput(Throughput::Bytes(one.len() as u64));
    g.bench_function("typed_xml_read", |b| {
        b.iter(|| black_box(from_xml(black_box(&one)).unwrap()))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(3)).warm_up_time(std::time::Duration::from_secs(1));
    targets = bench
}
criterion_main!(benches);
