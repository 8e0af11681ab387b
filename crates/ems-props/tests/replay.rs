//! The stable replay of the fuzz targets: every committed corpus entry
//! (`fuzz/corpus/<target>/`), every regression input
//! (`fuzz/regressions/<target>/`) and, for the FHIR targets, every message
//! of the shared corpus go through the same property functions the
//! cargo-fuzz targets call. Needs no nightly toolchain.
//!
//! Time is bounded too: each input must complete within a budget linear in
//! its size, relative to the same target on a clean corpus message measured
//! in the same run (a quadratic reader or validator blows it on the
//! hostile regression inputs; a fuzzer reports those as timeouts).

use ems_props::{replay, Target, TARGETS};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

/// The files of `dir` (recursively), sorted; none when it does not exist.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd {
            let p = e.expect("directory entry").path();
            if p.is_dir() {
                todo.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// A clean, larger-than-average corpus message: the same-run baseline.
fn baseline_input() -> Vec<u8> {
    let mut msgs = ems_testdata::nems_xml();
    msgs.sort_by_key(|m| m.len());
    msgs.swap_remove(msgs.len() * 3 / 4)
}

/// Per-target time budgets from the baseline measured now.
struct Budget {
    per_byte: Duration,
}

impl Budget {
    /// The best of a few runs of `t` on the baseline message (and on its JSON
    /// form, whichever is slower per byte).
    fn measure(t: &Target) -> Budget {
        let xml = baseline_input();
        let parsed = ems::stu3::from_xml(&xml).expect("baseline message reads");
        let json = ems::stu3::to_json(&parsed.resource).into_bytes();
        let per_byte = [xml, json]
            .iter()
            .map(|input| {
                let best = (0..3)
                    .map(|_| {
                        let start = Instant::now();
                        let _ = replay(t, input);
                        start.elapsed()
                    })
                    .min()
                    .expect("three runs");
                best / input.len().max(1) as u32
            })
            .max()
            .expect("two inputs");
        Budget { per_byte }
    }

    /// Linear in the input: 40 times the baseline's cost per byte, plus a
    /// floor for small inputs and a noisy, shared machine.
    fn allowed(&self, len: usize) -> Duration {
        Duration::from_millis(500) + self.per_byte * 40 * len as u32
    }
}

/// Runs every input through `t` and returns the failures, one line each.
fn run(t: &Target, inputs: &[PathBuf], budget: &Budget) -> Vec<String> {
    let mut failures = Vec::new();
    for p in inputs {
        let data = std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        let start = Instant::now();
        let r = replay(t, &data);
        let took = start.elapsed();
        if let Err(v) = r {
            failures.push(format!("{} {}: {v}", t.name, p.display()));
        }
        let allowed = budget.allowed(data.len());
        if took > allowed {
            failures.push(format!(
                "{} {}: took {took:?} for {} bytes; linear budget {allowed:?} (baseline {:?}/byte)",
                t.name,
                p.display(),
                data.len(),
                budget.per_byte
            ));
        }
    }
    failures
}

fn report(failures: Vec<String>, inputs: usize) {
    assert!(
        failures.is_empty(),
        "{} of {inputs} replayed inputs break a property:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn committed_corpus_and_regressions_hold() {
    let (mut failures, mut n) = (Vec::new(), 0);
    for t in TARGETS {
        let mut inputs = files(&fuzz_dir().join("corpus").join(t.name));
        inputs.extend(files(&fuzz_dir().join("regressions").join(t.name)));
        n += inputs.len();
        failures.extend(run(t, &inputs, &Budget::measure(t)));
    }
    assert!(
        n > 0,
        "no committed fuzz inputs under {}",
        fuzz_dir().display()
    );
    report(failures, n);
}

#[test]
fn shared_corpus_holds() {
    let inputs: Vec<PathBuf> = files(&ems_testdata::shared().join("corpus"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|x| x == "xml" || x == "json"))
        .collect();
    assert!(inputs.len() > 50, "the shared corpus is missing");
    let (mut failures, mut n) = (Vec::new(), 0);
    for t in TARGETS.iter().filter(|t| t.fhir_seeds) {
        n += inputs.len();
        failures.extend(run(t, &inputs, &Budget::measure(t)));
    }
    report(failures, n);
}

/// One description: the targets of `ems_props::TARGETS` are exactly the
/// cargo-fuzz binaries, each calls its own property, and every committed
/// input directory belongs to a target.
#[test]
fn fuzz_layout_matches_the_targets() {
    let manifest = std::fs::read_to_string(fuzz_dir().join("Cargo.toml")).expect("fuzz/Cargo.toml");
    let mut bins: Vec<String> = manifest
        .lines()
        .filter_map(|l| l.trim().strip_prefix("name = \""))
        .filter_map(|l| l.strip_suffix('"'))
        .filter(|n| *n != "ems-fuzz")
        .map(str::to_string)
        .collect();
    bins.sort();
    let mut names: Vec<String> = TARGETS.iter().map(|t| t.name.to_string()).collect();
    names.sort();
    assert_eq!(
        bins, names,
        "fuzz/Cargo.toml [[bin]] names vs ems_props::TARGETS"
    );
    for t in TARGETS {
        let src = fuzz_dir()
            .join("fuzz_targets")
            .join(format!("{}.rs", t.name));
        let text =
            std::fs::read_to_string(&src).unwrap_or_else(|e| panic!("{}: {e}", src.display()));
        assert!(
            text.contains(&format!("ems_props::fuzz(\"{}\", data)", t.name)),
            "{} does not call ems_props::fuzz(\"{}\", data)",
            src.display(),
            t.name
        );
        assert!(
            !files(&fuzz_dir().join("corpus").join(t.name)).is_empty(),
            "target {} has no committed corpus",
            t.name
        );
        for d in t.dicts {
            let dict = std::fs::read_to_string(fuzz_dir().join("dict").join(d))
                .unwrap_or_else(|e| panic!("target {}: fuzz/dict/{d}: {e}", t.name));
            assert!(
                dict.lines().all(|l| l.is_empty()
                    || l.starts_with('#')
                    || (l.starts_with('"') && l.ends_with('"'))),
                "fuzz/dict/{d}: every line is a comment or a quoted token"
            );
        }
    }
    for sub in ["corpus", "regressions"] {
        for e in std::fs::read_dir(fuzz_dir().join(sub)).expect("fuzz input directory") {
            let name = e
                .expect("entry")
                .file_name()
                .into_string()
                .expect("UTF-8 name");
            assert!(
                ems_props::target(&name).is_some(),
                "fuzz/{sub}/{name} is not a target of ems_props::TARGETS"
            );
        }
    }
}
