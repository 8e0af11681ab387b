//! Build + serialise to XML for each event type, against serialising the
//! same finished bundle (same run).
//!
//! The builder holding the event's data (patient, organisation, codes — the
//! publisher's own data) is made once, outside the timing; each timed
//! iteration is what a publisher runs per message: `build` (ids, clock,
//! sequence number, every resource of the Bundle), serialise, and drop the
//! model. `serialise_only` writes the finished Bundle of the same event.
//! `clone_and_drop` copies and drops that finished Bundle: the allocations
//! and writes any builder of the owned model must make at least, i.e. a
//! floor under `build_and_serialise - serialise_only`.
//! `build` is the model alone (build and drop the message).
//! `build_xml` is the direct path ([`EventBuilder::build_xml`]): the same
//! message, byte for byte, written as wire XML without building the model
//! (the publisher's way to the NEMS wire format; the target is judged on it).

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use ems_bundle::samples::sample_builder;
use ems_bundle::{example_publisher, BuildContext, MessageEventType};
use ems_match::EVENT_TYPES;

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("build_xml");
    for e in &EVENT_TYPES {
        let mut cx = BuildContext::deterministic(example_publisher(), 1);
        let builder = sample_builder(e.code, MessageEventType::New, true).unwrap();
        let bundle = builder.build(&mut cx).unwrap().bundle;
        g.bench_function(format!("{}/serialise_only", e.code), |b| {
            b.iter(|| black_box(ems_stu3::to_xml_of(black_box(&bundle))))
        });
        g.bench_function(format!("{}/clone_and_drop", e.code), |b| {
            b.iter(|| black_box(black_box(&bundle).clone()))
        });
        g.bench_function(format!("{}/build_and_serialise", e.code), |b| {
            b.iter(|| {
                let m = builder.build(&mut cx).unwrap();
                black_box(ems_stu3::to_xml_of(&m.bundle))
            })
        });
        g.bench_function(format!("{}/build", e.code), |b| {
            b.iter(|| black_box(builder.build(&mut cx).unwrap()))
        });
        g.bench_function(format!("{}/build_xml", e.code), |b| {
            b.iter(|| black_box(builder.build_xml(&mut cx).unwrap()))
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
