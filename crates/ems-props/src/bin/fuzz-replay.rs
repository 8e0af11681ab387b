//! Runs fuzz target properties on files, on stable: `cargo run -p ems-props
//! --bin fuzz-replay -- <target> <file>...`. Prints `ok` or the violation
//! per file; exits 1 when any input breaks a property.

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(t) = args.next().and_then(|n| ems_props::target(&n)) else {
        let names: Vec<&str> = ems_props::TARGETS.iter().map(|t| t.name).collect();
        eprintln!(
            "usage: fuzz-replay <target> <file>...; targets: {}",
            names.join(" ")
        );
        std::process::exit(2);
    };
    let mut bad = false;
    for f in args {
        match std::fs::read(&f) {
            Ok(data) => match ems_props::replay(t, &data) {
                Ok(()) => println!("{f}: ok"),
                Err(v) => {
                    println!("{f}: {v}");
                    bad = true;
                }
            },
            Err(e) => {
                eprintln!("{f}: {e}");
                std::process::exit(2);
            }
        }
    }
    std::process::exit(i32::from(bad));
}
