//! `ems validate --jobs N`: the worker pool changes nothing but the speed.
//! The output (both formats), the I/O error lines and the exit code are the
//! same for one job and for four, over a directory tree of several hundred
//! inputs of every kind (valid, invalid, unreadable).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A temporary directory, removed when dropped (also when a test fails).
struct TempTree(PathBuf);

impl Drop for TempTree {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A tree of inputs: the shared corpus three times over, in nested
/// directories, with a file that cannot be read (a dangling symlink).
fn tree() -> TempTree {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    let dir = std::env::temp_dir().join(format!("ems-cli-jobs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut n = 0;
    for copy in 0..3 {
        for sub in std::fs::read_dir(&src).expect("../shared/corpus beside the checkout") {
            let sub = sub.unwrap().path();
            if !sub.is_dir() {
                continue;
            }
            let to = dir
                .join(format!("copy{copy}"))
                .join(sub.file_name().unwrap());
            std::fs::create_dir_all(&to).unwrap();
            for f in std::fs::read_dir(&sub).unwrap() {
                let f = f.unwrap().path();
                std::fs::copy(&f, to.join(f.file_name().unwrap())).unwrap();
                n += 1;
            }
        }
    }
    assert!(n > 250, "only {n} corpus files");
    #[cfg(unix)]
    std::os::unix::fs::symlink(dir.join("nowhere"), dir.join("copy1/unreadable.xml")).unwrap();
    TempTree(dir)
}

fn validate(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ems"))
        .arg("validate")
        .args(args)
        .arg(dir)
        .output()
        .unwrap()
}

#[test]
fn output_is_identical_for_one_job_and_four() {
    let tree = tree();
    let dir = &tree.0;
    for format in ["text", "json"] {
        for mode in ["publish", "receive"] {
            let one = validate(&["--format", format, "--mode", mode, "--jobs", "1"], dir);
            let four = validate(&["--format", format, "--mode", mode, "--jobs", "4"], dir);
            let default = validate(&["--format", format, "--mode", mode], dir);
            let lines = String::from_utf8_lossy(&one.stdout).lines().count();
            assert!(lines > 250, "{format}/{mode}: {lines} lines");
            for (jobs, o) in [("4", &four), ("default", &default)] {
                let (a, b) = (
                    String::from_utf8_lossy(&one.stdout),
                    String::from_utf8_lossy(&o.stdout),
                );
                if let Some((n, (x, y))) = a
                    .lines()
                    .zip(b.lines())
                    .enumerate()
                    .find(|(_, (x, y))| x != y)
                {
                    panic!("{format}/{mode}: stdout line {} with --jobs {jobs} differs from --jobs 1:\n{y}\nnot\n{x}", n + 1);
                }
                assert_eq!(
                    a.lines().count(),
                    b.lines().count(),
                    "{format}/{mode}: stdout lines, --jobs {jobs}"
                );
                assert_eq!(
                    o.stderr, one.stderr,
                    "{format}/{mode}: stderr, --jobs {jobs}"
                );
                assert_eq!(
                    o.status.code(),
                    one.status.code(),
                    "{format}/{mode}: exit, --jobs {jobs}"
                );
            }
            #[cfg(unix)]
            {
                assert_eq!(
                    one.status.code(),
                    Some(2),
                    "the unreadable file is an I/O error"
                );
                assert!(String::from_utf8_lossy(&one.stderr).contains("unreadable.xml"));
            }
        }
    }
}

#[test]
fn jobs_must_be_a_positive_number() {
    for bad in ["0", "-1", "many"] {
        let o = Command::new(env!("CARGO_BIN_EXE_ems"))
            .args(["validate", "--jobs", bad, "examples/messages"])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "--jobs {bad}");
    }
}
