//! Profiling driver for `perf record` / callgrind: validates the parsed NEMS
//! corpus repeatedly (`N` rounds, default 3000); with `BYTES=1` it parses and
//! validates the bytes (`validate_bytes`) instead, with `PARSE=1` it only
//! parses them (the `parse_only` bench).
fn main() {
    let xml = ems_testdata::nems_xml();
    let parsed: Vec<_> = xml
        .iter()
        .map(|x| ems_stu3::from_xml(x).unwrap().resource)
        .collect();
    let v = ems_profiles::Validator::new(ems_profiles::Mode::Publish);
    let bytes = std::env::var_os("BYTES").is_some();
    let parse = std::env::var_os("PARSE").is_some();
    let mut n = 0;
    for _ in 0..std::env::var("N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000)
    {
        if parse {
            for x in &xml {
                n += ems_stu3::from_xml(x).unwrap().outcome.issues.len();
            }
        } else if bytes {
            for x in &xml {
                n += v
                    .validate_bytes(x, ems_profiles::InputKind::Auto)
                    .outcome
                    .issues
                    .len();
            }
        } else {
            for r in &parsed {
                n += v
                    .validate_resource(r, ems_profiles::InputKind::Auto)
                    .issues
                    .len();
            }
        }
    }
    println!("{n}");
}
