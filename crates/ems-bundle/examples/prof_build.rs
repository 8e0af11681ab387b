//! Profiling driver for `perf record` / callgrind: builds one message per
//! event type repeatedly (`N` rounds, default 2000) from prepared builders,
//! as the `build` benchmark does; `SER=1` also serialises; `XML=1` runs
//! the direct path (`build_xml`) instead; `ONLY=<event code>` builds that
//! event's message alone (as one `build` benchmark line does).
use ems_bundle::samples::sample_builder;
use ems_bundle::{example_publisher, BuildContext, MessageEventType};
use ems_match::EVENT_TYPES;

fn main() {
    let rounds: usize = std::env::var("N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let ser = std::env::var_os("SER").is_some();
    let direct = std::env::var_os("XML").is_some();
    let only = std::env::var("ONLY").ok();
    let mut cx = BuildContext::deterministic(example_publisher(), 1);
    let builders: Vec<_> = EVENT_TYPES
        .iter()
        .filter(|e| only.as_deref().is_none_or(|o| o == e.code))
        .map(|e| sample_builder(e.code, MessageEventType::New, true).unwrap())
        .collect();
    let mut bytes = 0;
    for _ in 0..rounds {
        for b in &builders {
            if direct {
                bytes += b.build_xml(&mut cx).unwrap().xml.len();
                continue;
            }
            let m = b.build(&mut cx).unwrap();
            if ser {
                bytes += ems_stu3::to_xml_of(&m.bundle).len();
            } else {
                bytes += m.bundle.entry.len();
            }
        }
    }
    println!("{bytes}");
}
