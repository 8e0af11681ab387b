//! Validates files given on the command line and prints every issue.
//! `cargo run -p ems-profiles --example validate_files -- [--receive] FILE...`
use ems_profiles::{InputKind, Mode, Validator};

fn main() {
    let mut mode = Mode::Publish;
    for a in std::env::args().skip(1) {
        if a == "--receive" {
            mode = Mode::Receive;
            continue;
        }
        let bytes = std::fs::read(&a).expect("readable file");
        let v = Validator::new(mode).validate_bytes(&bytes, InputKind::Auto);
        println!(
            "== {a}: {} errors, {} warnings",
            v.outcome.error_count(),
            v.outcome.warning_count()
        );
        for i in &v.outcome.issues {
            println!("  {i}");
        }
    }
}
