//! Internal helper for the workspace's tests, benches and profiling drivers:
//! where the shared reference material is, the NEMS corpus as bytes, and the
//! raw quick-xml tokenisation that benchmarks use as their same-run baseline.
//! Not published.

pub mod hostile;

use std::path::PathBuf;

/// `../shared` beside the checkout, or the directory in `EMS_SHARED`.
pub fn shared() -> PathBuf {
    match std::env::var_os("EMS_SHARED") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
    }
}

/// The files of `shared()/dir` whose extension is `ext`, sorted by path.
///
/// Panics with the directory named when it cannot be read: tests need the
/// corpus beside the checkout.
pub fn files(dir: &str, ext: &str) -> Vec<PathBuf> {
    let d = shared().join(dir);
    let mut v: Vec<PathBuf> = std::fs::read_dir(&d)
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e} (the shared corpus must sit beside the checkout)",
                d.display()
            )
        })
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    v.sort();
    v
}

/// One file of the NEMS corpus (`shared()/corpus/nems/<name>`).
pub fn nems(name: &str) -> Vec<u8> {
    let p = shared().join("corpus/nems").join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The bytes of every XML file of the NEMS corpus, in path order.
pub fn nems_xml() -> Vec<Vec<u8>> {
    files("corpus/nems", "xml")
        .into_iter()
        .map(|p| std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
        .collect()
}

/// Raw quick-xml tokenisation of `bytes` (no allocation, no model): the
/// same-run baseline of the XML benchmarks. Returns the number of events.
pub fn tokenise(bytes: &[u8]) -> usize {
    let mut r = quick_xml::Reader::from_reader(bytes);
    let mut n = 0;
    loop {
        match r.read_event() {
            Ok(quick_xml::events::Event::Eof) | Err(_) => break,
            Ok(_) => n += 1,
        }
    }
    n
}
