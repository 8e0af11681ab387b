//! Old and new `build` interleaved in paired blocks (`cargo xtask
//! bench-against`).
//!
//! Method, per event (see [`ems_bench_against::pairs`]): both builders warm
//! up (`20 * ITERS` builds each), then `BLOCKS` pairs of blocks run, a block
//! being `ITERS` back-to-back `build` calls of one side, timed as a whole
//! (`Instant`, per-build ns = block time / `ITERS`). The two blocks of a pair
//! run one right after the other, old first in even pairs and new first in
//! odd ones, so that a slow phase of the machine (another process, a
//! frequency change) falls on both sides of a pair alike and cancels out of
//! its ratio new / old. Each pair gives one ratio; the event's figure is
//! the median of its `BLOCKS` ratios, with the 95 % interval of that median
//! from the sign test (order statistics `n/2 ± 1.96 √n / 2`), which assumes
//! nothing about the distribution of the ratios.
//!
//! Output: a header line (old and new revisions, `BLOCKS`, `ITERS`, CPU
//! model and available cores, rustc), one line per event:
//!
//! - `entries`: bundle entries of the message; both sides must build the
//!   same message (same entries, same XML), except the events of
//!   [`ems_bench_against::CHANGED`], shown `6 (old 7)*` with a note at the
//!   end and left out of the summary;
//! - `old ns`, `new ns`: the median per-build time of the side's blocks, and
//!   in parentheses its 10th percentile (the least disturbed blocks);
//! - `new/old`: the median of the paired ratios and its 95 % interval (below
//!   100 % is faster than the old revision);
//! - `p10 new/old`: the ratio of the two 10th percentiles;
//!
//! and a summary line (over the events building the same message): the median of the events' median ratios, the lowest
//! and highest, and how many events have their interval wholly below 100 %,
//! wholly above it, or across it.
//!
//! Environment: `BLOCKS` (default 1000), `ITERS` (default 100), `ONLY`
//! (event codes containing it), `TIMED` (`build`, the default: the model
//! path; `build_xml`: the direct path, wire XML).

use ems_bench_against::{changed_notes, env_usize, header, pairs, timed_xml};
use std::hint::black_box;
use std::time::Instant;

/// One event's figures (ns per build; ratios as fractions).
struct Row {
    code: &'static str,
    changed: bool,
    ratio: f64,
    lo: f64,
    hi: f64,
}

/// A closure timing `n` back-to-back builds of one side (`build`, or
/// `build_xml` when `$xml`), in ns per build: one description for the old
/// and the new builder, whose traits are different types.
macro_rules! timed_block {
    ($xml:expr, $builder:expr, $cx:expr, $side:literal) => {
        |n: usize| {
            let t = Instant::now();
            for _ in 0..n {
                if $xml {
                    black_box(
                        $builder
                            .build_xml(&mut $cx)
                            .expect(concat!($side, " build_xml")),
                    );
                } else {
                    black_box($builder.build(&mut $cx).expect(concat!($side, " build")));
                }
            }
            t.elapsed().as_nanos() as f64 / n as f64
        }
    };
}

fn main() {
    let blocks = env_usize("BLOCKS", 1000);
    let iters = env_usize("ITERS", 100);
    let xml = timed_xml();
    let timed = if xml { "build_xml" } else { "build" };
    println!(
        "{}",
        header(&format!("TIMED={timed} BLOCKS={blocks} ITERS={iters}"))
    );
    let mut ps = pairs();
    println!(
        "{:32} {:>12} {:>16} {:>16} {:>24} {:>12}",
        "event",
        "entries",
        "old ns (p10)",
        "new ns (p10)",
        "new/old [95 % interval]",
        "p10 new/old"
    );
    let mut rows = Vec::new();
    for p in &mut ps {
        let mut old = Vec::with_capacity(blocks);
        let mut new = Vec::with_capacity(blocks);
        let mut run_old = timed_block!(xml, p.old, p.old_cx, "old");
        let mut run_new = timed_block!(xml, p.new, p.new_cx, "new");
        run_old(iters * 20);
        run_new(iters * 20);
        for k in 0..blocks {
            if k % 2 == 0 {
                old.push(run_old(iters));
                new.push(run_new(iters));
            } else {
                new.push(run_new(iters));
                old.push(run_old(iters));
            }
        }
        let mut ratios: Vec<f64> = old.iter().zip(&new).map(|(o, n)| n / o).collect();
        for v in [&mut old, &mut new, &mut ratios] {
            v.sort_by(f64::total_cmp);
        }
        let (lo, hi) = sign_interval(&ratios);
        let row = Row {
            code: p.code,
            changed: p.changed.is_some(),
            ratio: median(&ratios),
            lo,
            hi,
        };
        println!(
            "{:32} {:>12} {:>8.0} ({:>6.0}) {:>8.0} ({:>6.0}) {:>7.1} % [{:>5.1}, {:>5.1}] {:>10.1} %",
            p.code,
            p.entries_column(),
            median(&old),
            p10(&old),
            median(&new),
            p10(&new),
            100.0 * row.ratio,
            100.0 * row.lo,
            100.0 * row.hi,
            100.0 * p10(&new) / p10(&old),
        );
        rows.push(row);
    }
    for note in changed_notes(&ps) {
        println!("{note}");
    }
    summary(&rows);
}

/// The median of sorted values (the upper one of an even count).
fn median(sorted: &[f64]) -> f64 {
    sorted[sorted.len() / 2]
}

/// The 10th percentile of sorted values.
fn p10(sorted: &[f64]) -> f64 {
    sorted[sorted.len() / 10]
}

/// 95 % interval of the median of sorted values by the sign test: the
/// order statistics `n/2 ± 1.96 √n / 2` (clamped to the sample).
fn sign_interval(sorted: &[f64]) -> (f64, f64) {
    let n = sorted.len();
    let h = (1.96 * (n as f64).sqrt() / 2.0).ceil() as usize;
    let mid = n / 2;
    (sorted[mid.saturating_sub(h)], sorted[(mid + h).min(n - 1)])
}

/// The summary line, over the events whose messages are the same.
fn summary(rows: &[Row]) {
    let rows: Vec<&Row> = rows.iter().filter(|r| !r.changed).collect();
    if rows.is_empty() {
        println!("summary: no event builds the same message on both sides");
        return;
    }
    let mut by_ratio = rows.clone();
    by_ratio.sort_by(|a, b| a.ratio.total_cmp(&b.ratio));
    let (first, last) = (by_ratio[0], by_ratio[by_ratio.len() - 1]);
    let below = rows.iter().filter(|r| r.hi < 1.0).count();
    let above = rows.iter().filter(|r| r.lo > 1.0).count();
    println!(
        "summary: {} events building the same message; median of the events' new/old medians {:.1} % (lowest {:.1} % {}, highest {:.1} % {}); \
         interval wholly below 100 %: {below}, wholly above: {above}, across: {}",
        rows.len(),
        100.0 * by_ratio[by_ratio.len() / 2].ratio,
        100.0 * first.ratio,
        first.code,
        100.0 * last.ratio,
        last.code,
        rows.len() - below - above,
    );
}
