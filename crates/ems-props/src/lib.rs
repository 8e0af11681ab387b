//! The robustness properties of the ems crates, in one place: the fuzz
//! targets in `fuzz/` (cargo-fuzz, nightly) and the stable replay test
//! (`cargo test -p ems-props`) call the same functions, so a property is
//! described once and every input a fuzzer ever kept or found is checked on
//! stable too. Internal, not published.
//!
//! Each [`Target`] takes arbitrary bytes and returns `Err(Violation)` when
//! the code under test breaks a property; a panic inside the code under test
//! is a violation as well (the fuzzer reports it, the replay catches it).
//!
//! ```
//! let t = ems_props::target("criteria").unwrap();
//! assert!((t.check)(b"/Bundle?type=message&Patient.age=gt5").is_ok());
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod codec;
pub mod criteria;
pub mod event;
pub mod partner;
pub mod server;
pub mod validate;

use std::fmt;

/// A broken property: which one, and what was seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// Short name of the property (`reread-equal-model`, `parse-check-agree`, ...).
    pub property: &'static str,
    /// What happened, with enough context to reproduce it.
    pub detail: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "property `{}` broken: {}", self.property, self.detail)
    }
}

impl std::error::Error for Violation {}

/// The result of checking one input.
pub type Check = Result<(), Violation>;

/// `Err(Violation)` unless `ok`.
pub(crate) fn ensure(ok: bool, property: &'static str, detail: impl FnOnce() -> String) -> Check {
    if ok {
        Ok(())
    } else {
        Err(Violation {
            property,
            detail: detail(),
        })
    }
}

/// One fuzz target. `name` is also the file `fuzz/fuzz_targets/<name>.rs`,
/// the committed corpus `fuzz/corpus/<name>/` and the regression inputs
/// `fuzz/regressions/<name>/`.
pub struct Target {
    /// Target name.
    pub name: &'static str,
    /// The properties, checked on one input.
    pub check: fn(&[u8]) -> Check,
    /// What the target exercises.
    pub summary: &'static str,
    /// `true` when the messages of the shared corpus (`../shared/corpus`:
    /// FHIR XML and JSON) are seeds of this target; `false` for targets
    /// whose input is a header or criteria string.
    pub fhir_seeds: bool,
    /// The libFuzzer dictionaries (files of `fuzz/dict/`), concatenated.
    pub dicts: &'static [&'static str],
}

/// Every fuzz target, in the order the fuzz smoke runs them.
pub const TARGETS: &[Target] = &[
    Target {
        name: "read_xml",
        check: codec::read_xml,
        summary: "FHIR XML reader: no panic; fatal issue last on failure, none on success; positions inside the input",
        fhir_seeds: true,
        dicts: &["xml.dict"],
    },
    Target {
        name: "read_json",
        check: codec::read_json,
        summary: "FHIR JSON reader: no panic; fatal issue last on failure, none on success; positions inside the input",
        fhir_seeds: true,
        dicts: &["json.dict"],
    },
    Target {
        name: "validate",
        check: validate::validate,
        summary: "validator, both modes and every kind: registered rule ids, a fatal issue exactly when unreadable, Receive errors within Publish errors, the OperationOutcome re-reads equal from JSON and XML",
        fhir_seeds: true,
        dicts: &["xml.dict", "json.dict"],
    },
    Target {
        name: "roundtrip_xml",
        check: codec::roundtrip_xml,
        summary: "XML -> model -> XML (compact and pretty): re-read succeeds, bytes and model equal, no structural issue on re-read",
        fhir_seeds: true,
        dicts: &["xml.dict"],
    },
    Target {
        name: "roundtrip_json",
        check: codec::roundtrip_json,
        summary: "JSON -> model -> JSON (compact and pretty): output is JSON, re-read succeeds, bytes and model equal, no structural issue on re-read",
        fhir_seeds: true,
        dicts: &["json.dict"],
    },
    Target {
        name: "cross",
        check: codec::cross,
        summary: "XML <-> JSON: the other format re-reads to an equal model",
        fhir_seeds: true,
        dicts: &["xml.dict", "json.dict"],
    },
    Target {
        name: "criteria",
        check: criteria::criteria,
        summary: "criteria: parse and check agree, errors at char boundaries with registered rules, Display re-parses to an equal value",
        fhir_seeds: false,
        dicts: &["criteria.dict"],
    },
    Target {
        name: "partner_id",
        check: partner::partner_id,
        summary: "Mex-Partnerid: format then parse is the identity on valid ids and tags; parse, format, parse is stable",
        fhir_seeds: false,
        dicts: &["partner_id.dict"],
    },
    Target {
        name: "event_message",
        check: event::event_message,
        summary: "EventMessage: accessors never panic and agree between the XML and JSON forms of the same message",
        fhir_seeds: true,
        dicts: &["xml.dict", "json.dict"],
    },
    Target {
        name: "server_request",
        check: server::server_request,
        summary: "ems-server request front: authorise never panics and denies only by a security rule with its status and Spine code; the publish API answers 202 or a client error with a Spine OperationOutcome, never a 5xx",
        fhir_seeds: false,
        dicts: &["xml.dict", "server.dict"],
    },
];

/// The fuzzing plan, one line per target: name, `fhir` or `text` seeds,
/// and the dictionaries; read by `fuzz/run` (`cargo run -p ems-props --bin
/// fuzz-plan`).
pub fn plan() -> String {
    TARGETS
        .iter()
        .map(|t| {
            format!(
                "{} {} {}\n",
                t.name,
                if t.fhir_seeds { "fhir" } else { "text" },
                t.dicts.join(",")
            )
        })
        .collect()
}

/// The target called `name`.
pub fn target(name: &str) -> Option<&'static Target> {
    TARGETS.iter().find(|t| t.name == name)
}

/// What a fuzz target calls: checks `data` against target `name` and panics
/// with the violation, so libFuzzer records the input as a crash.
///
/// # Panics
/// On a violation, and when `name` is not a target.
pub fn fuzz(name: &str, data: &[u8]) {
    let t = target(name).unwrap_or_else(|| panic!("no fuzz target `{name}` in ems_props::TARGETS"));
    if let Err(v) = (t.check)(data) {
        panic!("{name}: {v}");
    }
}

/// Runs target `name` on `data` and turns a panic in the code under test
/// into a [`Violation`] (`no-panic`), for the replay.
pub fn replay(t: &Target, data: &[u8]) -> Check {
    match std::panic::catch_unwind(|| (t.check)(data)) {
        Ok(r) => r,
        Err(p) => Err(Violation {
            property: "no-panic",
            detail: p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "panic with a non-string payload".into()),
        }),
    }
}

/// The first difference between two texts, with a little context on each
/// side, for violation messages about unequal output.
pub(crate) fn first_difference(a: &str, b: &str) -> String {
    let at = a
        .bytes()
        .zip(b.bytes())
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()));
    let window = |s: &str| {
        let mut lo = at.saturating_sub(60);
        while !s.is_char_boundary(lo) {
            lo -= 1;
        }
        let mut hi = (at + 60).min(s.len());
        while !s.is_char_boundary(hi) {
            hi += 1;
        }
        s[lo..hi].to_string()
    };
    format!(
        "first difference at byte {at} (lengths {} and {}): {:?} vs {:?}",
        a.len(),
        b.len(),
        window(a),
        window(b)
    )
}
