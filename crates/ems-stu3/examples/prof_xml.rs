//! Profiling driver: reads the NEMS corpus repeatedly (`perf record`).
fn main() {
    let files = ems_testdata::nems_xml();
    for _ in 0..std::env::var("N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000)
    {
        for f in &files {
            std::hint::black_box(ems_stu3::from_xml(f).unwrap());
        }
    }
}
