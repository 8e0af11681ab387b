//! Generators of pathological inputs up to the 3 MiB size cap (issue 14:
//! shapes that once pinned a core for minutes) and the bounded-time check
//! the tests apply to them.
//!
//! Every generator returns an input of `size` bytes or slightly less (never
//! more), so it is always under the readers' cap when `size` is.

use std::time::{Duration, Instant};

/// NEMS' size cap (3 MiB), the size the bounded tests use.
pub const CAP: usize = 3 * 1024 * 1024;

/// `head` + as many copies of `unit` as fit + `tail`, at most `size` bytes.
pub fn repeat(head: &str, unit: &str, tail: &str, size: usize) -> Vec<u8> {
    let n = size.saturating_sub(head.len() + tail.len()) / unit.len().max(1);
    let mut s = String::with_capacity(head.len() + n * unit.len() + tail.len());
    s.push_str(head);
    for _ in 0..n {
        s.push_str(unit);
    }
    s.push_str(tail);
    s.into_bytes()
}

/// A clean, realistic message of about `size` bytes: the entries of a corpus
/// Bundle (`corpus/nems/<name>`, XML) repeated until the size is reached.
/// The baseline the hostile shapes are measured against.
pub fn clean_xml(name: &str, size: usize) -> Vec<u8> {
    let src = String::from_utf8(crate::nems(name)).expect("corpus is UTF-8");
    let first = src.find("<entry>").expect("a Bundle with entries");
    let last = src.rfind("</entry>").expect("a Bundle with entries") + "</entry>".len();
    let (head, entries, tail) = (&src[..first], &src[first..last], &src[last..]);
    repeat(head, entries, tail, size)
}

/// One line of unknown elements: `<Bundle xmlns=...><x/><x/>...</Bundle>`
/// (finding 2: one issue each, positions rescanned from byte 0).
pub fn unknown_elements_xml(size: usize) -> Vec<u8> {
    repeat(
        r#"<Bundle xmlns="http://hl7.org/fhir">"#,
        "<x/>",
        "</Bundle>",
        size,
    )
}

/// One line of unknown JSON properties: `{"resourceType":"Bundle","x":1,...}`.
pub fn unknown_properties_json(size: usize) -> Vec<u8> {
    repeat(r#"{"resourceType":"Bundle""#, r#","x":1"#, "}", size)
}

/// Invalid `Timing.event` dateTimes in a message Bundle (finding 3: every
/// reader finding compared with every validator finding).
pub fn bad_timing_events_xml(size: usize) -> Vec<u8> {
    repeat(
        r#"<Bundle xmlns="http://hl7.org/fhir"><type value="message"/><entry><resource><MedicationRequest><dosageInstruction><timing>"#,
        "\n<event value=\"2019-13-01T10:00\"/>",
        "</timing></dosageInstruction></MedicationRequest></resource></entry></Bundle>",
        size,
    )
}

/// The same in JSON: one `event` array of invalid dateTimes.
pub fn bad_timing_events_json(size: usize) -> Vec<u8> {
    // the first item is in the head so that every unit can start with `,`
    repeat(
        r#"{"resourceType":"Bundle","type":"message","entry":[{"resource":{"resourceType":"MedicationRequest","dosageInstruction":[{"timing":{"event":["2019-13-01T10:00""#,
        r#","2019-13-01T10:00""#,
        "]}}]}}]}",
        size,
    )
}

/// Elements out of schema order, repeated: `<Patient><gender/><active/>...`.
pub fn out_of_order_xml(size: usize) -> Vec<u8> {
    repeat(
        r#"<Patient xmlns="http://hl7.org/fhir">"#,
        r#"<name><given value="a"/></name><id value="x"/>"#,
        "</Patient>",
        size,
    )
}

/// Invalid decimals, one PRIMITIVE-FORMAT each, spread over many lines.
pub fn bad_decimals_xml(size: usize) -> Vec<u8> {
    repeat(
        r#"<Observation xmlns="http://hl7.org/fhir"><status value="final"/><code><text value="x"/></code><component><code><text value="x"/></code><valueQuantity>"#,
        "\n<value value=\"1 OR 1\"/>",
        "</valueQuantity></component></Observation>",
        size,
    )
}

/// One element carrying many namespace declarations and attributes.
pub fn many_attributes_xml(size: usize) -> Vec<u8> {
    repeat(
        r#"<Patient xmlns="http://hl7.org/fhir"><gender value="male""#,
        r#" xmlns:p="urn:x" p:a="1""#,
        "/></Patient>",
        size,
    )
}

/// Deeply nested unknown elements, repeatedly (each nest stays under the
/// depth cap).
pub fn nested_unknown_xml(size: usize) -> Vec<u8> {
    let open = "<x>".repeat(90);
    let close = "</x>".repeat(90);
    repeat(
        r#"<Bundle xmlns="http://hl7.org/fhir">"#,
        &format!("{open}{close}"),
        "</Bundle>",
        size,
    )
}

/// A JSON string full of escapes (every character escaped).
pub fn escaped_string_json(size: usize) -> Vec<u8> {
    repeat(
        r#"{"resourceType":"Patient","gender":""#,
        r"\u00e9\n",
        r#""}"#,
        size,
    )
}

/// Unknown properties inside the `_` objects of a primitive list, with
/// `null`-aligned values.
pub fn primitive_siblings_json(size: usize) -> Vec<u8> {
    repeat(
        r#"{"resourceType":"Patient","name":[{"given":[null"#,
        r#",null"#,
        r#"],"_given":[{"y":1}]}]}"#,
        size,
    )
}

/// A narrative full of elements txt-1 forbids, in XML.
pub fn narrative_xml(size: usize) -> Vec<u8> {
    repeat(
        r#"<Patient xmlns="http://hl7.org/fhir"><text><status value="generated"/><div xmlns="http://www.w3.org/1999/xhtml">"#,
        r#"<script>x</script><p onclick="y">z</p>"#,
        "</div></text></Patient>",
        size,
    )
}

/// The same narrative as a JSON string.
pub fn narrative_json(size: usize) -> Vec<u8> {
    repeat(
        r#"{"resourceType":"Patient","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">"#,
        r#"<script>x</script><p onclick=\"y\">z</p>"#,
        r#"</div>"}}"#,
        size,
    )
}

/// A generator: an input of at most the given size.
pub type Generator = fn(usize) -> Vec<u8>;

/// Every shape the bounds are tested on: (name, generator).
pub const SHAPES: &[(&str, Generator)] = &[
    ("unknown elements (XML)", unknown_elements_xml),
    ("unknown properties (JSON)", unknown_properties_json),
    ("bad Timing.event (XML)", bad_timing_events_xml),
    ("bad Timing.event (JSON)", bad_timing_events_json),
    ("out of order (XML)", out_of_order_xml),
    ("bad decimals (XML)", bad_decimals_xml),
    ("many attributes (XML)", many_attributes_xml),
    ("nested unknown (XML)", nested_unknown_xml),
    ("escaped string (JSON)", escaped_string_json),
    ("primitive siblings (JSON)", primitive_siblings_json),
    ("narrative (XML)", narrative_xml),
    ("narrative (JSON)", narrative_json),
];

/// Held while a bounded-time check measures, so that the timing tests of
/// one test binary (which run on parallel threads) do not measure each
/// other.
static TIMING: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn timing() -> std::sync::MutexGuard<'static, ()> {
    TIMING.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs per measurement (the fastest counts): enough that a moment of load
/// on a shared machine does not decide the result.
const RUNS: usize = 5;

/// The fastest of `runs` runs of `f`.
pub fn fastest(runs: usize, mut f: impl FnMut()) -> Duration {
    (0..runs.max(1))
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .unwrap_or_default()
}

/// How much slower than the same-run clean baseline a hostile input of the
/// same size may be. Linear work on hostile input costs a small constant
/// factor more per byte than a clean message (an issue per few bytes until
/// the cap); the quadratic behaviour this guards against was over 1,000
/// times slower at 3 MiB. The factor is generous so that a loaded machine or
/// a debug build (where relative costs shift) does not make the test flaky.
pub const LINEAR_FACTOR: u32 = 30;

/// Asserts that `work(hostile)` completes within [`LINEAR_FACTOR`] times
/// `work(clean)`, both measured now (the fastest of [`RUNS`] runs each), and
/// returns both times. `what` names the shape in the failure message.
pub fn assert_linear(
    what: &str,
    clean: &[u8],
    hostile: &[u8],
    mut work: impl FnMut(&[u8]),
) -> (Duration, Duration) {
    let _one_at_a_time = timing();
    let base = fastest(RUNS, || work(clean));
    let bad = fastest(RUNS, || work(hostile));
    // a floor so that a very fast baseline does not turn timer noise into failure
    let limit = (base * LINEAR_FACTOR).max(Duration::from_millis(50));
    assert!(
        bad <= limit,
        "{what}: {} bytes took {bad:?}, more than {LINEAR_FACTOR} x the clean baseline \
         ({} bytes in {base:?}) measured in the same run",
        hostile.len(),
        clean.len(),
    );
    (base, bad)
}

/// Asserts that `work` on `make(size)` takes at most 10 times as long as
/// on `make(size / 4)` (linear: 4 times; quadratic: 16 times), the fastest
/// of [`RUNS`] runs each; returns both times.
pub fn assert_scales_linearly(
    what: &str,
    size: usize,
    make: impl Fn(usize) -> Vec<u8>,
    mut work: impl FnMut(&[u8]),
) -> (Duration, Duration) {
    let (small, large) = (make(size / 4), make(size));
    let _one_at_a_time = timing();
    let t_small = fastest(RUNS, || work(&small));
    let t_large = fastest(RUNS, || work(&large));
    let limit = (t_small * 10).max(Duration::from_millis(50));
    assert!(
        t_large <= limit,
        "{what}: {} bytes took {t_large:?}, more than 10 x the {t_small:?} of {} bytes \
         (linear work would take about 4 x, quadratic 16 x)",
        large.len(),
        small.len(),
    );
    (t_small, t_large)
}
