//! Receiver: reads a folder of event messages, validates each in Receive
//! mode, classifies them with the SequenceTracker (in shuffled order, with
//! one duplicate) and prints a summary table.
//!
//! `cargo run --example receiver [-- DIR]` (default `examples/out`, the
//! folder `publisher` writes; `examples/messages` is shipped in the repo).

use ems::bundle::{Classification, EventMessage, InMemoryStore, SequenceTracker};
use ems::profiles::{InputKind, Mode, Validator};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "examples/out".into());
    if dir.starts_with('-') {
        println!("usage: cargo run --example receiver [-- DIR]");
        return Ok(());
    }
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| format!("{dir}: {e} (run `cargo run --example publisher` first)"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "xml" || x == "json"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(format!("{dir}: no messages").into());
    }
    // deterministic shuffle (MESH does not preserve order) and one duplicate
    let n = files.len();
    let mut order: Vec<usize> = (0..n).map(|i| (i * 7 + 3) % n).collect();
    order.sort_unstable();
    order.dedup();
    let mut shuffled: Vec<usize> = (0..n).map(|i| (i * 7 + 3) % n).collect();
    if shuffled.len() != order.len() {
        shuffled = (0..n).rev().collect();
    }
    shuffled.push(shuffled[0]);

    let validator = Validator::new(Mode::Receive);
    let mut tracker = SequenceTracker::new(InMemoryStore::default());
    println!(
        "{:<46} {:<26} {:<7} {:>6} {:>8}  classification",
        "file", "event", "type", "errors", "warnings"
    );
    let mut counts = std::collections::BTreeMap::new();
    for i in shuffled {
        let path = &files[i];
        let bytes = std::fs::read(path)?;
        let v = validator.validate_bytes(&bytes, InputKind::Event);
        let name = path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        let class = match v.resource.clone().map(EventMessage::from_resource) {
            Some(Ok(m)) if v.is_valid() => {
                let c = tracker.classify(&m);
                println!(
                    "{:<46} {:<26} {:<7} {:>6} {:>8}  {:?}",
                    name,
                    m.event_type().code(),
                    m.message_event_type().map(|t| t.code()).unwrap_or("?"),
                    v.outcome.error_count(),
                    v.outcome.warning_count(),
                    c
                );
                c
            }
            _ => {
                println!(
                    "{:<46} {:<26} {:<7} {:>6} {:>8}  rejected",
                    name,
                    "?",
                    "?",
                    v.outcome.error_count(),
                    v.outcome.warning_count()
                );
                Classification::Unidentified
            }
        };
        *counts.entry(format!("{class:?}")).or_insert(0) += 1;
    }
    println!("\nsummary: {counts:?}");
    Ok(())
}
