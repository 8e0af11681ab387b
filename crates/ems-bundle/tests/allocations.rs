//! The builders make no temporary heap allocations: everything a `build`
//! allocates is still owned by the finished Bundle, apart from a few
//! short-lived strings (directory URLs, the message instant; 0–3 per
//! message, bounded here by one per entry). `build_xml` makes a fixed handful of allocations and
//! keeps only the XML.
//! One test in its own binary; allocations are counted per thread.

use ems_bundle::samples::sample_builder;
use ems_bundle::{example_publisher, BuildContext, MessageEventType};
use ems_match::EVENT_TYPES;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::Ordering::Relaxed;

/// Counts allocations and frees of the calling thread, delegating
/// everything to the system allocator. Per thread: the test harness's own
/// threads (its timeout monitor, output capture) may allocate while the test
/// runs, which made a process-wide count flaky on a loaded machine.
struct Counting;

/// A per-thread counter; `const` thread-locals of `Cell` never allocate.
struct Counter(&'static std::thread::LocalKey<std::cell::Cell<usize>>);

impl Counter {
    fn add(&self) {
        // `try_with`: a thread being torn down may still free memory
        let _ = self.0.try_with(|c| c.set(c.get() + 1));
    }
    fn load(&self, _: std::sync::atomic::Ordering) -> usize {
        self.0.with(|c| c.get())
    }
}

thread_local! {
    static T_ALLOCS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    static T_FREES: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    static T_REALLOCS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}
static ALLOCS: Counter = Counter(&T_ALLOCS);
static FREES: Counter = Counter(&T_FREES);
static REALLOCS: Counter = Counter(&T_REALLOCS);

// SAFETY: every method forwards its arguments unchanged to `System`, which
// upholds the `GlobalAlloc` contract; the counters are `const`-initialised
// thread-local `Cell`s, which never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        ALLOCS.add();
        System.alloc(l)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        FREES.add();
        System.dealloc(p, l)
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        // a regrown buffer counts as one more allocation
        ALLOCS.add();
        REALLOCS.add();
        System.realloc(p, l, n)
    }
}

#[global_allocator]
static A: Counting = Counting;

#[test]
fn builders_allocate_only_what_the_message_keeps() {
    let mut cx = BuildContext::deterministic(example_publisher(), 1);
    for e in &EVENT_TYPES {
        for met in e.message_event_types {
            let met = MessageEventType::parse(met).unwrap();
            let b = sample_builder(e.code, met, true).unwrap();
            b.build(&mut cx).unwrap(); // first message of each stream sets up the sequence counters
            let (a0, f0) = (ALLOCS.load(Relaxed), FREES.load(Relaxed));
            let m = b.build(&mut cx).unwrap();
            let (a1, f1) = (ALLOCS.load(Relaxed), FREES.load(Relaxed));
            let allocated = a1 - a0;
            let freed = f1 - f0;
            assert!(
                freed <= m.bundle.entry.len() + 1,
                "{} {}: {allocated} allocations, {freed} freed before the message was returned",
                e.code,
                met.code()
            );
            // and the message owns what is left: dropping it frees it all
            drop(m);
            let f2 = FREES.load(Relaxed);
            assert_eq!(f2 - f0, allocated, "{} {}", e.code, met.code());

            // the direct path: the output buffer (regrown at most once,
            // for the largest messages), the header's buffer and a few
            // short-lived strings (ASID endpoint, address text, directory
            // URLs), independent of the number of entries
            b.build_xml(&mut cx).unwrap();
            let (a0, f0, r0) = (
                ALLOCS.load(Relaxed),
                FREES.load(Relaxed),
                REALLOCS.load(Relaxed),
            );
            let x = b.build_xml(&mut cx).unwrap();
            let (a1, f1, r1) = (
                ALLOCS.load(Relaxed),
                FREES.load(Relaxed),
                REALLOCS.load(Relaxed),
            );
            let allocated = a1 - a0;
            let regrown = r1 - r0;
            assert!(
                allocated <= 6 && regrown <= 1,
                "{} {}: build_xml made {allocated} allocations ({regrown} regrown)",
                e.code,
                met.code()
            );
            assert_eq!(
                f1 - f0,
                allocated - regrown - 1,
                "{} {}: only the XML is kept ({} bytes)",
                e.code,
                met.code(),
                x.xml.len()
            );
            drop(x);
        }
    }
}
