//! Profiling driver for `perf record`: validates the parsed NEMS corpus repeatedly.
fn main() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/nems");
    let parsed: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            ems_stu3::from_xml(&std::fs::read(e.unwrap().path()).unwrap())
                .unwrap()
                .resource
        })
        .collect();
    let v = ems_profiles::Validator::new(ems_profiles::Mode::Publish);
    let mut n = 0;
    for _ in 0..std::env::var("N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000)
    {
        for r in &parsed {
            n += v
                .validate_resource(r, ems_profiles::Kind::Auto)
                .issues
                .len();
        }
    }
    println!("{n}");
}
