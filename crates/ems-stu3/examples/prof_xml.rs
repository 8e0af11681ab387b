//! Profiling driver: reads the NEMS corpus repeatedly (`perf record`).
fn main() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/nems");
    let files: Vec<Vec<u8>> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .collect();
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
