//! The inputs of a command: files, directories (recursively, `*.xml` and
//! `*.json`, in path order) and `-` for stdin.

use std::borrow::Cow;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

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
    /// A directory that could not be listed: reported in its turn.
    Unlisted(String),
}

impl Source {
    /// The bytes (read now for a file), or the I/O error.
    pub fn bytes(&self) -> Result<Cow<'_, [u8]>, String> {
        match &self.origin {
            Origin::Stdin(r) => r.as_deref().map(Cow::Borrowed).map_err(Clone::clone),
            Origin::File(p) => std::fs::read(p).map(Cow::Owned).map_err(|e| e.to_string()),
            Origin::Unlisted(e) => Err(e.clone()),
        }
    }
}

/// A command-line input, checked to exist.
enum Arg {
    Ready(Source),
    Dir(PathBuf, String),
}

/// The sources of the command-line paths, listed as they are taken: a
/// directory is read when the walk reaches it, so a worker pool starts on
/// the first files while the rest are listed. The order is the path order
/// of the old whole-tree sort: each directory's entries sorted by name and
/// walked depth first (a path sorts by its components, so the two orders
/// are the same; `tests::the_walk_gives_the_order_of_a_whole_tree_sort`).
pub(crate) struct Sources {
    args: std::vec::IntoIter<Arg>,
    /// The open directories, innermost last: their remaining entries
    /// (path, is a directory), in order.
    open: Vec<std::vec::IntoIter<(PathBuf, bool)>>,
    listed: Arc<AtomicUsize>,
}

impl Sources {
    /// How many sources have been listed so far (shared, for a progress
    /// bar while the pool owns the listing).
    pub fn counter(&self) -> Arc<AtomicUsize> {
        self.listed.clone()
    }
}

impl Iterator for Sources {
    type Item = Source;
    fn next(&mut self) -> Option<Source> {
        let s = self.next_source()?;
        self.listed.fetch_add(1, Ordering::Relaxed);
        Some(s)
    }
}

impl Sources {
    fn next_source(&mut self) -> Option<Source> {
        loop {
            let (dir, shown) = match self.open.last_mut() {
                Some(level) => match level.next() {
                    Some((p, false)) => return Some(file(p)),
                    Some((p, true)) => {
                        let shown = p.display().to_string();
                        (p, shown)
                    }
                    None => {
                        self.open.pop();
                        continue;
                    }
                },
                None => match self.args.next()? {
                    Arg::Ready(s) => return Some(s),
                    Arg::Dir(p, shown) => (p, shown),
                },
            };
            match entries(&dir) {
                Ok(e) => self.open.push(e.into_iter()),
                Err(e) => {
                    return Some(Source {
                        origin: Origin::Unlisted(e.to_string()),
                        path: shown,
                    })
                }
            }
        }
    }
}

fn file(p: PathBuf) -> Source {
    Source {
        path: p.display().to_string(),
        origin: Origin::File(p),
    }
}

/// A directory's subdirectories and `*.xml` / `*.json` files, sorted by
/// name.
fn entries(dir: &Path) -> std::io::Result<Vec<(PathBuf, bool)>> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let p = e.path();
        // the directory entry's own type costs no system call; a symbolic
        // link is followed (one `stat`), as `Path::is_dir` does
        let ty = e.file_type()?;
        let is_dir = if ty.is_symlink() {
            p.is_dir()
        } else {
            ty.is_dir()
        };
        if is_dir || p.extension().is_some_and(|x| x == "xml" || x == "json") {
            out.push((p, is_dir));
        }
    }
    out.sort_by(|a, b| a.0.file_name().cmp(&b.0.file_name()));
    Ok(out)
}

/// Checks that every path exists (`-` is stdin, read now) and returns the
/// sources in order, listed lazily; or the message for a path that does
/// not exist. A directory below them that cannot be listed is a source
/// whose [`Source::bytes`] is the I/O error.
pub(crate) fn sources(paths: &[String]) -> Result<Sources, String> {
    let mut args = Vec::with_capacity(paths.len());
    for p in paths {
        if p == "-" {
            let mut buf = Vec::new();
            let r = std::io::stdin()
                .read_to_end(&mut buf)
                .map(|_| buf)
                .map_err(|e| e.to_string());
            args.push(Arg::Ready(Source {
                path: "-".into(),
                origin: Origin::Stdin(r),
            }));
            continue;
        }
        let path = Path::new(p);
        let meta = std::fs::metadata(path).map_err(|e| format!("{p}: {e}"))?;
        args.push(if meta.is_dir() {
            Arg::Dir(path.to_path_buf(), p.clone())
        } else {
            Arg::Ready(Source {
                path: p.clone(),
                origin: Origin::File(path.to_path_buf()),
            })
        });
    }
    Ok(Sources {
        args: args.into_iter(),
        open: Vec::new(),
        listed: Arc::default(),
    })
}

/// [`sources`], every file read (a directory that cannot be listed is an
/// error).
pub(crate) fn collect_inputs(paths: &[String]) -> Result<Vec<Input>, String> {
    let mut out = Vec::new();
    for s in sources(paths)? {
        if let Origin::Unlisted(e) = &s.origin {
            return Err(format!("{}: {e}", s.path));
        }
        out.push(Input {
            bytes: s.bytes().map(Cow::into_owned),
            path: s.path,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_walk_gives_the_order_of_a_whole_tree_sort() {
        let root = std::env::temp_dir().join(format!("ems-inputs-order-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        // names that sort differently as strings and as path components
        // (`a-b` < `a/` as bytes, but the directory `a` comes first as a
        // component), a directory named like an input, files beside dirs
        let files = [
            "a/x.xml",
            "a/b/y.json",
            "a-b/z.xml",
            "a.xml",
            "a0.json",
            "b.xml/inner.xml",
            "B.xml",
            "c/d/e/f.xml",
            "c/d.xml",
            "c/ignored.txt",
            "é.json",
        ];
        for f in files {
            let p = root.join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, b"<x/>").unwrap();
        }
        let arg = root.display().to_string();
        let walked: Vec<String> = sources(std::slice::from_ref(&arg))
            .unwrap()
            .map(|s| s.path)
            .collect();
        // the reference: every input path of the tree, sorted as paths
        fn all(dir: &Path, out: &mut Vec<PathBuf>) {
            for e in std::fs::read_dir(dir).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    all(&p, out);
                } else if p.extension().is_some_and(|x| x == "xml" || x == "json") {
                    out.push(p);
                }
            }
        }
        let mut want = Vec::new();
        all(&root, &mut want);
        want.sort();
        let want: Vec<String> = want.iter().map(|p| p.display().to_string()).collect();
        assert_eq!(walked.len(), files.len() - 1);
        assert_eq!(walked, want);
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn a_directory_that_cannot_be_listed_is_a_source_with_its_error() {
        // read_dir of a file fails (ENOTDIR) as an unreadable directory
        // would (tests run as root, so permissions cannot make one)
        let f = std::env::temp_dir().join(format!("ems-inputs-unlisted-{}", std::process::id()));
        std::fs::write(&f, b"x").unwrap();
        let mut s = Sources {
            args: vec![Arg::Dir(f.clone(), "shown/dir".into())].into_iter(),
            open: Vec::new(),
            listed: Arc::default(),
        };
        let one = s.next().unwrap();
        assert_eq!(one.path, "shown/dir");
        assert!(one.bytes().is_err());
        assert!(s.next().is_none());
        assert_eq!(s.counter().load(Ordering::Relaxed), 1);
        std::fs::remove_file(f).unwrap();
    }

    #[test]
    fn a_missing_path_is_an_error_before_anything_is_listed() {
        let e = sources(&["/nonexistent/ems-input".to_string()])
            .err()
            .unwrap();
        assert!(e.starts_with("/nonexistent/ems-input: "), "{e}");
    }
}
