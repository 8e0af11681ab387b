//! Old and new `build` of each event as criterion lines, interleaved in one
//! run (`cargo xtask bench-against --criterion`).
//!
//! Method: `ROUNDS` rounds (default 2) over the events (see
//! [`ems_bench_against::pairs`]); in each round the old and the new line of
//! an event are measured one right after the other, old first in even
//! rounds and new first in odd ones, so that each pair of adjacent lines
//! shares the machine's state of the moment. Criterion's own estimate per
//! line (30 samples, 0.5 s warm-up, 2 s measurement unless overridden on
//! the command line).
//!
//! Output: criterion's, one line `cmp/<event>/<old|new>/<round>` each,
//! after the header line of the run. Compare the `old` and `new` lines of
//! the same event and round (an event of [`ems_bench_against::CHANGED`]
//! builds different messages on the two sides: its note says so); the
//! paired harness (`--bin alt`, the default
//! of the xtask) computes the ratios and their intervals itself.
//!
//! Environment: `ROUNDS`, `ONLY` (event codes containing it).

use criterion::{criterion_group, criterion_main, Criterion};
use ems_bench_against::{changed_notes, env_usize, header, pairs};
use std::hint::black_box;
use std::time::Duration;

fn bench(c: &mut Criterion) {
    let rounds = env_usize("ROUNDS", 2);
    println!("{}", header(&format!("criterion, ROUNDS={rounds}")));
    let mut ps = pairs();
    for note in changed_notes(&ps) {
        println!("{note}");
    }
    let mut g = c.benchmark_group("cmp");
    for r in 0..rounds {
        for p in &mut ps {
            let order = if r % 2 == 0 {
                ["old", "new"]
            } else {
                ["new", "old"]
            };
            for which in order {
                g.bench_function(format!("{}/{which}/{r}", p.code), |b| {
                    if which == "old" {
                        b.iter(|| black_box(p.old.build(&mut p.old_cx).expect("old build")))
                    } else {
                        b.iter(|| black_box(p.new.build(&mut p.new_cx).expect("new build")))
                    }
                });
            }
        }
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(30)
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500));
    targets = bench
}
criterion_main!(benches);
