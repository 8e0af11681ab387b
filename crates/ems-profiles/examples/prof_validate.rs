//! Profiling driver for `perf record`: validates the parsed NEMS corpus repeatedly.
fn main() {
    let parsed: Vec<_> = ems_testdata::nems_xml()
        .iter()
        .map(|x| ems_stu3::from_xml(x).unwrap().resource)
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
