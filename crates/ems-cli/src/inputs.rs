//! The inputs of a command: files, directories (recursively, `*.xml` and
//! `*.json`, sorted) and `-` for stdin.

use std::borrow::Cow;
use std::io::Read;
use std::path::{Path, PathBuf};

/// One input: a display path and its bytes (or the I/O error).
pub(crate) struct Input {
    pub path: String,
    pub bytes: Result<Vec<u8>, String>,
}

/// One input before it is read: stdin is read when listed (it can be read
/// only once), files when [`Source::bytes`] is called, so a worker pool
/// reads them in parallel.
pub(crate) struct Source {
    /// The display path.
    pub path: String,
    origin: Origin,
}

enum Origin {
    Stdin(Result<Vec<u8>, String>),
    File(PathBuf),
}

impl Source {
    /// The bytes (read now for a file), or the I/O error.
    pub fn bytes(&self) -> Result<Cow<'_, [u8]>, String> {
        match &self.origin {
            Origin::Stdin(r) => r.as_deref().map(Cow::Borrowed).map_err(Clone::clone),
            Origin::File(p) => std::fs::read(p).map(Cow::Owned).map_err(|e| e.to_string()),
        }
    }
}

/// Lists files, directories (recursively: `*.xml`, `*.json`) and `-`, in
/// order (a directory's files sorted by path). Returns the sources, or an
/// I/O error message for a path that does not exist.
pub(crate) fn list_inputs(paths: &[String]) -> Result<Vec<Source>, String> {
    let mut out = Vec::new();
    for p in paths {
        if p == "-" {
            let mut buf = Vec::new();
            let r = std::io::stdin()
                .read_to_end(&mut buf)
                .map(|_| buf)
                .map_err(|e| e.to_string());
            out.push(Source {
                path: "-".into(),
                origin: Origin::Stdin(r),
            });
            continue;
        }
        let path = Path::new(p);
        let meta = std::fs::metadata(path).map_err(|e| format!("{p}: {e}"))?;
        if meta.is_dir() {
            let mut files = Vec::new();
            walk_dir(path, &mut files).map_err(|e| format!("{p}: {e}"))?;
            files.sort();
            out.extend(files.into_iter().map(|f| Source {
                path: f.display().to_string(),
                origin: Origin::File(f),
            }));
        } else {
            out.push(Source {
                path: p.clone(),
                origin: Origin::File(path.to_path_buf()),
            });
        }
    }
    Ok(out)
}

/// [`list_inputs`], every file read.
pub(crate) fn collect_inputs(paths: &[String]) -> Result<Vec<Input>, String> {
    Ok(list_inputs(paths)?
        .into_iter()
        .map(|s| Input {
            bytes: s.bytes().map(Cow::into_owned),
            path: s.path,
        })
        .collect())
}

fn walk_dir(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let p = e?.path();
        if p.is_dir() {
            walk_dir(&p, out)?;
        } else if p.extension().is_some_and(|x| x == "xml" || x == "json") {
            out.push(p);
        }
    }
    Ok(())
}
