//! `ems validate` over a directory of 5,100 files (the NEMS corpus, 34
//! messages and subscriptions, copied 150 times into nested directories
//! made in a temporary directory for the run): `--jobs 1` against
//! `--jobs 2` and the default (every core), same run, same files. The
//! release `ems` binary runs end to end (listing, reading, validating,
//! rendering JSON lines; stdout to /dev/null).
//!
//! Not criterion: on a shared machine the load changes within seconds, and
//! criterion measures one configuration after the other. This bench
//! interleaves them — each round runs every configuration once, in a
//! rotating order — and reports per configuration the best and the median
//! wall time, the CPU time the runs used (Linux), and the speed-up of
//! `--jobs 2` over `--jobs 1` both from the best times and as the median of
//! the per-round ratios. The same-run baseline is what the machine gives a
//! perfectly parallel job at that moment: each round also times a fixed
//! amount of pure arithmetic on one thread and split over two threads.
//!
//! `cargo bench -p ems-cli --bench validate_jobs` (`EMS_BENCH_ROUNDS`,
//! default 30).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const COPIES: usize = 150;

/// The corpus copied `COPIES` times into a fresh temporary directory.
fn file_set() -> (PathBuf, u64, u64) {
    let dir = std::env::temp_dir().join(format!("ems-validate-jobs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let corpus = ems_testdata::files("corpus/nems", "xml");
    let (mut files, mut bytes) = (0, 0);
    for copy in 0..COPIES {
        let to = dir
            .join(format!("batch{:02}", copy / 10))
            .join(format!("copy{copy:03}"));
        std::fs::create_dir_all(&to).expect("temporary directory");
        for f in &corpus {
            bytes += std::fs::copy(f, to.join(f.file_name().expect("file name"))).expect("copy");
            files += 1;
        }
    }
    (dir, files, bytes)
}

/// CPU time (user + system) of this process's waited-for children, from
/// `/proc/self/stat` (Linux; `None` elsewhere).
fn children_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // fields after the parenthesised command name; cutime and cstime are
    // fields 16 and 17 (1-based), in clock ticks (100 per second on Linux)
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split(' ').collect();
    let ticks: u64 = f.get(13)?.parse::<u64>().ok()? + f.get(14)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

/// One run: wall time and the children's CPU time it added.
fn validate(dir: &Path, jobs: Option<&str>) -> (Duration, Option<Duration>) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ems"));
    c.args(["validate", "--format", "json"]);
    if let Some(j) = jobs {
        c.args(["--jobs", j]);
    }
    let cpu0 = children_cpu();
    let start = Instant::now();
    let status = c
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run ems");
    let wall = start.elapsed();
    // the corpus has invalid messages: exit 1, never 2 (I/O) or a crash
    assert_eq!(status.code(), Some(1), "ems validate {jobs:?}");
    let cpu = children_cpu().zip(cpu0).map(|(a, b)| a.saturating_sub(b));
    (wall, cpu)
}

/// `units` slices of pure arithmetic split over `threads` threads: the
/// ideal parallel job (no memory traffic, no coordination).
fn spin(threads: u64, units: u64) -> Duration {
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(move || {
                let mut x = 0x9e37_79b9_7f4a_7c15u64;
                for _ in 0..units / threads * 40_000_000 {
                    x = std::hint::black_box(x.rotate_left(5) ^ 0x2545_f491);
                }
                x
            });
        }
    });
    start.elapsed()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not: then
    // one round checks that the bench runs
    let rounds = if std::env::args().any(|a| a == "--bench") {
        std::env::var("EMS_BENCH_ROUNDS")
            .ok()
            .and_then(|r| r.parse().ok())
            .unwrap_or(30)
    } else {
        1
    };
    let (dir, files, bytes) = file_set();
    assert!(files >= 5_000, "{files} files");
    let configs: [(&str, Option<&str>); 3] = [
        ("--jobs 1", Some("1")),
        ("--jobs 2", Some("2")),
        ("default", None),
    ];
    println!(
        "validate_jobs: {files} files, {:.1} MiB, available parallelism {}, {rounds} rounds",
        bytes as f64 / (1 << 20) as f64,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    for (_, j) in configs {
        validate(&dir, j); // warm the page cache and the binary
    }
    let mut wall: Vec<Vec<f64>> = vec![Vec::new(); configs.len()];
    let mut cpu: Vec<Vec<f64>> = vec![Vec::new(); configs.len()];
    let mut ideal: Vec<(f64, f64)> = Vec::new();
    for round in 0..rounds {
        ideal.push((spin(1, 2).as_secs_f64(), spin(2, 2).as_secs_f64()));
        for k in 0..configs.len() {
            let c = (round + k) % configs.len();
            let (w, u) = validate(&dir, configs[c].1);
            wall[c].push(w.as_secs_f64());
            if let Some(u) = u {
                cpu[c].push(u.as_secs_f64());
            }
        }
    }
    for (c, (name, _)) in configs.iter().enumerate() {
        let best = wall[c].iter().copied().fold(f64::INFINITY, f64::min);
        let cpu_median = (!cpu[c].is_empty()).then(|| median(cpu[c].clone()));
        println!(
            "{name:<9} best {:>7.1} ms  median {:>7.1} ms  ({:.0} files/s at best)  CPU per run (median) {}",
            best * 1e3,
            median(wall[c].clone()) * 1e3,
            files as f64 / best,
            cpu_median.map_or("n/a".into(), |u| format!("{:.0} ms", u * 1e3))
        );
    }
    let best = |c: usize| wall[c].iter().copied().fold(f64::INFINITY, f64::min);
    let ratios: Vec<f64> = wall[0].iter().zip(&wall[1]).map(|(a, b)| a / b).collect();
    println!(
        "speed-up of --jobs 2 over --jobs 1: {:.2}x (best times), {:.2}x (median of per-round ratios)",
        best(0) / best(1),
        median(ratios)
    );
    let ideal_best = ideal.iter().map(|r| r.0).fold(f64::INFINITY, f64::min)
        / ideal.iter().map(|r| r.1).fold(f64::INFINITY, f64::min);
    println!(
        "baseline, pure arithmetic on 2 threads over 1: {ideal_best:.2}x (best times), {:.2}x (median of per-round ratios)",
        median(ideal.iter().map(|r| r.0 / r.1).collect())
    );
    let _ = std::fs::remove_dir_all(&dir);
}
