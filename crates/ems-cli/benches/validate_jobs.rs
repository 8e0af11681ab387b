//! `ems validate` over a directory of 5,100 files (the NEMS corpus, 34
//! messages and subscriptions, copied 150 times into nested directories
//! made in a temporary directory for the run): `--jobs 1` against
//! `--jobs 2` and the default (every core), same run, same files. The
//! release `ems` binary is run end to end (listing, reading, validating,
//! rendering JSON lines; stdout to /dev/null).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::path::PathBuf;
use std::process::{Command, Stdio};

const COPIES: usize = 150;

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

fn validate(dir: &PathBuf, jobs: Option<&str>) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ems"));
    c.args(["validate", "--format", "json"]);
    if let Some(j) = jobs {
        c.args(["--jobs", j]);
    }
    let status = c
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run ems");
    // the corpus has invalid messages: exit 1, never 2 (I/O) or a crash
    assert_eq!(status.code(), Some(1), "ems validate {jobs:?}");
}

fn bench(c: &mut Criterion) {
    let (dir, files, bytes) = file_set();
    assert!(files >= 5_000, "{files} files");
    eprintln!(
        "validate_jobs: {files} files, {bytes} bytes, available parallelism {}",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let mut g = c.benchmark_group(format!("validate_{files}_files"));
    g.throughput(Throughput::Elements(files));
    g.bench_function("jobs_1", |b| b.iter(|| validate(&dir, Some("1"))));
    g.bench_function("jobs_2", |b| b.iter(|| validate(&dir, Some("2"))));
    g.bench_function("jobs_default", |b| b.iter(|| validate(&dir, None)));
    g.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).measurement_time(std::time::Duration::from_secs(8)).warm_up_time(std::time::Duration::from_secs(2));
    targets = bench
}
criterion_main!(benches);
