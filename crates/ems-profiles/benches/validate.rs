//! Parse + validate of the NEMS corpus against raw quick-xml tokenisation of
//! the same bytes (same run), and validation alone against parsing.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use ems_profiles::{InputKind, Mode, Validator};
use ems_testdata::{nems_xml as corpus, tokenise};

fn bench(c: &mut Criterion) {
    let xml = corpus();
    let bytes: u64 = xml.iter().map(|x| x.len() as u64).sum();
    let parsed: Vec<_> = xml
        .iter()
        .map(|x| ems_stu3::from_xml(x).unwrap().resource)
        .collect();
    let v = Validator::new(Mode::Publish);
    let mut g = c.benchmark_group("validate_corpus");
    g.throughput(Throughput::Bytes(bytes));
    g.bench_function("baseline_quick_xml_tokenise", |b| {
        b.iter(|| xml.iter().map(|x| tokenise(black_box(x))).sum::<usize>())
    });
    g.bench_function("parse_only", |b| {
        b.iter(|| {
            for x in &xml {
                black_box(ems_stu3::from_xml(black_box(x)).unwrap());
            }
        })
    });
    g.bench_function("parse_and_validate", |b| {
        b.iter(|| {
            for x in &xml {
                black_box(v.validate_bytes(black_box(x), InputKind::Auto));
            }
        })
    });
    g.bench_function("validate_only", |b| {
        b.iter(|| {
            for r in &parsed {
                black_box(v.validate_resource(black_box(r), InputKind::Auto));
            }
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(3)).warm_up_time(std::time::Duration::from_secs(1));
    targets = bench
}
criterion_main!(benches);
