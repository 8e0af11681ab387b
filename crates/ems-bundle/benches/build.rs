//! Build + serialise to XML for each event type, against serialising the
//! same finished bundle (same run).

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use ems_bundle::samples::sample;
use ems_bundle::{example_publisher, BuildContext, MessageEventType};
use ems_match::EVENT_TYPES;

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("build_xml");
    for e in &EVENT_TYPES {
        let mut cx = BuildContext::deterministic(example_publisher(), 1);
        let built = sample(e.code, MessageEventType::New, true, &mut cx).unwrap();
        let resource = ems_stu3::Resource::from(built.bundle.clone());
        g.bench_function(format!("{}/serialise_only", e.code), |b| {
            b.iter(|| black_box(ems_stu3::to_xml(black_box(&resource))))
        });
        g.bench_function(format!("{}/build_and_serialise", e.code), |b| {
            b.iter(|| {
                let m = sample(e.code, MessageEventType::New, true, &mut cx).unwrap();
                black_box(ems_stu3::to_xml(&ems_stu3::Resource::from(m.bundle)))
            })
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(2)).warm_up_time(std::time::Duration::from_millis(500));
    targets = bench
}
criterion_main!(benches);
