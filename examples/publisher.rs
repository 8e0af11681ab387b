//! Publisher: builds one message of every event type and message event type
//! with the typed builders and writes them as XML (the NEMS wire format).
//!
//! `cargo run --example publisher [-- OUT_DIR [SEED]]` (default `examples/out`;
//! with a seed the output is reproducible — `examples/messages/` was written
//! with `cargo run --example publisher -- examples/messages 1`).

use ems::bundle::samples::{all_pairs, sample};
use ems::bundle::{example_publisher, BuildContext};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = args.next().unwrap_or_else(|| "examples/out".into());
    if dir.starts_with('-') {
        // `--help` (or any option) is not an output folder
        println!("usage: cargo run --example publisher [-- OUT_DIR [SEED]]");
        return Ok(());
    }
    let seed: Option<u64> = args.next().map(|s| s.parse()).transpose()?;
    std::fs::create_dir_all(&dir)?;
    let mut cx = match seed {
        Some(s) => BuildContext::deterministic(example_publisher(), s),
        None => BuildContext::new(example_publisher()),
    };
    for (event, met) in all_pairs() {
        let msg = sample(event, met, true, &mut cx)?;
        let path = format!("{dir}/{event}-{}.xml", met.code());
        std::fs::write(&path, msg.to_xml_pretty())?;
        println!(
            "{path}: {} ({}), InteractionID {}, WorkflowID {}",
            msg.message_id(),
            met.code(),
            msg.interaction_id()
                .unwrap_or_else(|| "(Spine only)".into()),
            msg.workflow_id()
        );
    }
    Ok(())
}
