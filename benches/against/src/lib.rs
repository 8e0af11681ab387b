//! What the two harnesses of `cargo xtask bench-against` share: one
//! [`Pair`] per event (the new and the old sample builder of the event, each
//! with its own deterministic context), the run's header line and the
//! environment knobs.
//!
//! `ems_bundle` / `ems_match` are the working tree's crates,
//! `ems_bundle_old` / `ems_match_old` those of the old revision exported by
//! the xtask (renamed packages, unchanged sources). Both build the sample of
//! each event with every optional part present
//! (`samples::sample_builder(code, New, true)`), the message
//! `cargo bench -p ems-bundle --bench build` times on its `build` lines.

use ems_bundle::BuildContext;
use ems_bundle_old::BuildContext as OldBuildContext;

/// Events whose message changed on purpose after fce5018 (the revision of
/// the earlier figures; the default revision 563842b has the change), with
/// the commit and the change: when old and new do not build the same
/// message, the event's line is printed marked and left out of the
/// summary. Any other difference between the two messages fails the run.
pub const CHANGED: &[(&str, &str)] = &[(
    "pds-change-of-gp-1",
    "2913923 took the publisher Organization out of the bundle (10.3, COGP-ORG-PARTOF): one entry fewer",
)];

/// The new and the old builder of one event.
pub struct Pair {
    /// The event code (`ems_match::EVENT_TYPES`).
    pub code: &'static str,
    /// The working tree's sample builder and its context.
    pub new: Box<dyn ems_bundle::EventBuilder>,
    pub new_cx: BuildContext,
    /// The old revision's sample builder and its context.
    pub old: Box<dyn ems_bundle_old::EventBuilder>,
    pub old_cx: OldBuildContext,
    /// Bundle entries of the new and of the old message.
    pub entries: (usize, usize),
    /// `Some(why)` when the two messages differ (an event of [`CHANGED`]).
    pub changed: Option<&'static str>,
}

impl Pair {
    /// The entries column: `7`, or `6 (old 7)*` when the messages differ.
    pub fn entries_column(&self) -> String {
        match (self.entries, self.changed) {
            (_, None) => self.entries.0.to_string(),
            ((n, o), Some(_)) => format!("{n} (old {o})*"),
        }
    }
}

/// The events of the working tree (those whose code contains `ONLY`, when
/// set) that the old revision has too, in the new table's order. An event
/// the old revision lacks, or cannot build a sample of, is reported on
/// stdout and left out.
///
/// Sanity check: the first message of each side (fresh deterministic
/// contexts, seed 1) must have the same number of bundle entries and the
/// same XML, byte for byte, unless the event is one of [`CHANGED`].
///
/// # Panics
///
/// When old and new build different messages for an event not in
/// [`CHANGED`]: then the comparison would mean nothing.
pub fn pairs() -> Vec<Pair> {
    let only = std::env::var("ONLY").ok();
    let mut out = Vec::new();
    for e in ems_match::EVENT_TYPES {
        if only.as_deref().is_some_and(|o| !e.code.contains(o)) {
            continue;
        }
        let Some(eo) = ems_match_old::EVENT_TYPES.iter().find(|o| o.code == e.code) else {
            println!("{:32} skipped: not an event at the old revision", e.code);
            continue;
        };
        let new =
            ems_bundle::samples::sample_builder(e.code, ems_bundle::MessageEventType::New, true)
                .unwrap_or_else(|err| panic!("{}: new sample: {err:?}", e.code));
        let old = match ems_bundle_old::samples::sample_builder(
            eo.code,
            ems_bundle_old::MessageEventType::New,
            true,
        ) {
            Ok(b) => b,
            Err(err) => {
                println!("{:32} skipped: no old sample ({err:?})", e.code);
                continue;
            }
        };
        let mut new_cx = BuildContext::deterministic(ems_bundle::example_publisher(), 1);
        let mut old_cx = OldBuildContext::deterministic(ems_bundle_old::example_publisher(), 1);
        let new_msg = new.build(&mut new_cx).expect("new build");
        let old_msg = old.build(&mut old_cx).expect("old build");
        let entries = (new_msg.bundle.entry.len(), old_msg.bundle.entry.len());
        let same = entries.0 == entries.1 && new_msg.to_xml() == old_msg.to_xml();
        let changed = CHANGED.iter().find(|c| c.0 == e.code).map(|c| c.1);
        assert!(
            same || changed.is_some(),
            "{}: old and new build different messages (bundle entries: new {}, old {}; \
             XML differs): a deliberate change goes into CHANGED (benches/against/src/lib.rs)",
            e.code,
            entries.0,
            entries.1
        );
        out.push(Pair {
            code: e.code,
            new,
            new_cx,
            old,
            old_cx,
            entries,
            changed: if same { None } else { changed },
        });
    }
    assert!(!out.is_empty(), "no event to compare (ONLY={only:?})");
    out
}

/// The notes on the events of [`CHANGED`] among `pairs`, one line each.
pub fn changed_notes(pairs: &[Pair]) -> Vec<String> {
    pairs
        .iter()
        .filter_map(|p| {
            p.changed.map(|why| {
                format!(
                    "* {}: not the same message ({why}); left out of the summary",
                    p.code
                )
            })
        })
        .collect()
}

/// Whether `TIMED` asks for the direct path (`build_xml`) rather than the
/// model path (`build`, the default).
///
/// # Panics
///
/// On any other value of `TIMED`.
pub fn timed_xml() -> bool {
    match std::env::var("TIMED").as_deref() {
        Err(_) | Ok("build") => false,
        Ok("build_xml") => true,
        Ok(v) => panic!("TIMED={v}: expected build or build_xml"),
    }
}

/// A positive integer from the environment, or `default`.
pub fn env_usize(var: &str, default: usize) -> usize {
    match std::env::var(var) {
        Ok(v) => match v.parse() {
            Ok(n) if n > 0 => n,
            _ => panic!("{var}={v}: expected a positive integer"),
        },
        Err(_) => default,
    }
}

/// `bench-against: old <rev> | new <tree> | <what> | <cpu> x <n> | <rustc>`
/// (the revisions and the compiler as the xtask passes them in
/// `BENCH_AGAINST_OLD`, `BENCH_AGAINST_NEW`, `BENCH_AGAINST_RUSTC`).
pub fn header(what: &str) -> String {
    let var = |v: &str| std::env::var(v).unwrap_or_else(|_| "?".to_owned());
    format!(
        "bench-against: old {} | new {} | {what} | {} | {}",
        var("BENCH_AGAINST_OLD"),
        var("BENCH_AGAINST_NEW"),
        machine(),
        var("BENCH_AGAINST_RUSTC"),
    )
}

/// `<model name of /proc/cpuinfo> x <available cores>`.
pub fn machine() -> String {
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_owned())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_owned());
    let n = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{model} x {n}")
}
