//! `cargo xtask bench-against [REV] [--quick] [--criterion] [--layout SEED]
//! [-- CRITERION-ARGS]`: the model path `build` of the working tree against
//! an old revision of the repository, both linked into one process and
//! timed interleaved, so that the drift of a shared machine cancels out of
//! the ratio.
//!
//! 1. `git archive REV` into `target/bench-against/old/` (wiped first;
//!    files dated now unless the last successful build in the profile was
//!    of the same commit, so that cargo rebuilds the old crates);
//! 2. the library packages the old `ems-bundle` needs (the workspace members
//!    among [`LIBS`] that exist at REV) are renamed `<name>-old` there, so
//!    that they can sit beside the new ones in one dependency graph while
//!    their sources keep `use ems_stu3::...` (the workspace dependency entry
//!    gets `package = "<name>-old"`); the root package and the other
//!    members are dropped from the old manifest;
//! 3. the harness `benches/against` (its own workspace, the root's
//!    `Cargo.lock` copied in) is run: `--bin alt` (paired blocks, by
//!    default), or `--bench cmp` (criterion) with `--criterion`; with
//!    `--layout SEED` the harness is linked by `ld.lld` with its functions
//!    in a shuffled order (`--shuffle-sections=.text*=SEED`), because the
//!    placement of the code alone moves a line by a few per cent (the A/A
//!    runs, the tree against itself, in docs/benchmarks.md): a difference
//!    is real when it holds over several layouts.
//!
//! Step 2 parses each manifest once as TOML, edits the tables and writes
//! them back; an entry not of the expected form (a workspace dependency
//! entry of a renamed crate that is not a table with its member's `path`
//! and no `package`, a renamed crate depending on another member other
//! than through a renamed workspace entry) is an error, never a tree that
//! would build the new code as "old".

use crate::{read, write};
use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};

/// The revision compared against by default: 563842b is the last revision
/// with the hand-written event builders (the parent of 3dd7f69, which
/// replaced them by the one description over the element sink; issue 16
/// asks that `build` through the model sink be no slower than they were).
/// It builds the same ten messages as the tree. The earlier figures of
/// docs/benchmarks.md are against fce5018, which predates the change-of-GP
/// fix (see `CHANGED` in `benches/against/src/lib.rs`).
const DEFAULT_REV: &str = "563842b";

/// Library packages renamed `<name>-old` in the old tree when they are
/// workspace members at REV (`ems-nhs` appeared after fce5018).
const LIBS: &[&str] = &[
    "ems-nhs",
    "ems-stu3",
    "ems-match",
    "ems-profiles",
    "ems-bundle",
];

/// The old packages the harness depends on.
const NEEDED: &[&str] = &["ems-bundle", "ems-match"];

pub(crate) fn usage() -> String {
    format!(
        "usage: cargo xtask bench-against [REV] [--quick] [--criterion] [--layout SEED] [-- CRITERION-ARGS]\n  \
REV defaults to {DEFAULT_REV} (the last revision with the hand-written builders);\n  \
--layout SEED links the harness with ld.lld, its functions shuffled by SEED;\n  \
BLOCKS / ITERS / TIMED (alt), ROUNDS (--criterion), ONLY (both) are read from the environment"
    )
}

#[derive(Debug, PartialEq)]
struct Options {
    rev: String,
    quick: bool,
    criterion: bool,
    layout: Option<u64>,
    extra: Vec<String>,
}

fn parse_args(args: &[String]) -> Result<Options, String> {
    let usage = usage();
    let mut o = Options {
        rev: DEFAULT_REV.to_owned(),
        quick: false,
        criterion: false,
        layout: None,
        extra: Vec::new(),
    };
    let mut rev = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--quick" => o.quick = true,
            "--criterion" => o.criterion = true,
            "--layout" => {
                let seed = it
                    .next()
                    .ok_or_else(|| format!("--layout needs a seed\n{usage}"))?;
                o.layout = Some(seed.parse().map_err(|_| {
                    format!("--layout {seed}: expected a positive integer\n{usage}")
                })?);
                if o.layout == Some(0) {
                    return Err(format!(
                        "--layout 0 would be a random layout, not reproducible\n{usage}"
                    ));
                }
            }
            "--" => {
                o.extra = it.by_ref().cloned().collect();
            }
            s if s.starts_with('-') => return Err(format!("unknown option `{s}`\n{usage}")),
            s => {
                if rev.replace(s.to_owned()).is_some() {
                    return Err(format!("more than one revision given\n{usage}"));
                }
            }
        }
    }
    if let Some(r) = rev {
        o.rev = r;
    }
    if o.criterion && o.layout.is_some() {
        return Err(format!(
            "--layout is for the paired blocks, not --criterion\n{usage}"
        ));
    }
    if !o.criterion && !o.extra.is_empty() {
        return Err(format!(
            "arguments after `--` are for criterion (--criterion)\n{usage}"
        ));
    }
    Ok(o)
}

/// Runs the subcommand (arguments after `bench-against`).
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let o = parse_args(args)?;
    let repo = crate::root();
    // what can be refused is refused before the old tree is touched
    refuse_timed(o.criterion, std::env::var_os("TIMED").is_some())?;
    if o.layout.is_some() {
        lld_available()?;
    }
    let harness = repo.join("benches/against");
    check_profiles(
        &read(&repo.join("Cargo.toml"))?,
        &read(&harness.join("Cargo.toml"))?,
    )?;
    let commit = git_commit(&repo, &o.rev)?;
    let base = repo.join("target/bench-against");
    let old = base.join("old");
    // `git archive` gives every file the commit's time: cargo would take a
    // build of another revision's files as fresh when they are older than
    // it. So the files get the time of extraction, unless the last build
    // in this profile was of this commit and succeeded: the stamp is
    // removed before the build and written once cargo has succeeded (an
    // interrupted or failed run leaves none: the next one rebuilds).
    let profile = if o.criterion { "bench" } else { "release" };
    let stamp = base.join(format!("old-{profile}.commit"));
    let same = std::fs::read_to_string(&stamp).is_ok_and(|s| s.trim() == commit);
    if stamp.exists() {
        std::fs::remove_file(&stamp).map_err(|e| format!("{}: {e}", stamp.display()))?;
    }
    if old.exists() {
        std::fs::remove_dir_all(&old).map_err(|e| format!("{}: {e}", old.display()))?;
    }
    std::fs::create_dir_all(&old).map_err(|e| format!("{}: {e}", old.display()))?;
    export(&repo, &commit, &old, !same)?;

    let root_path = old.join("Cargo.toml");
    let root = parse(&read(&root_path)?, "old Cargo.toml")?;
    let members = member_paths(&root)?
        .into_iter()
        .map(|p| {
            let what = format!("old {p}/Cargo.toml");
            let manifest = parse(&read(&old.join(&p).join("Cargo.toml"))?, &what)?;
            Ok(Member { path: p, manifest })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let renamed = rename(&root, &members)?;
    write(&root_path, &renamed.root.to_string())?;
    for (p, t) in &renamed.crates {
        write(&old.join(p).join("Cargo.toml"), &t.to_string())?;
    }
    let names: Vec<&str> = renamed
        .crates
        .iter()
        .filter_map(|(_, t)| package_name(t))
        .collect();
    println!(
        "bench-against: {} exported to {}, renamed {}",
        &commit[..12],
        old.display(),
        names.join(", ")
    );

    // The harness resolves with the root's lock, so that both sides and
    // the shared dependencies have the versions `cargo bench` uses; cargo
    // adds the entries of the old packages and prunes the rest.
    std::fs::copy(repo.join("Cargo.lock"), harness.join("Cargo.lock"))
        .map_err(|e| format!("copying Cargo.lock into {}: {e}", harness.display()))?;
    check_old_links(&harness.join("Cargo.toml"), &old)?;

    // the harness's environment, for whichever command runs it
    let tree = describe_tree(&repo);
    let mut env = vec![
        (
            "BENCH_AGAINST_OLD",
            format!("{} ({})", o.rev, &commit[..12]),
        ),
        (
            "BENCH_AGAINST_NEW",
            match o.layout {
                Some(seed) => format!("{tree} | layout {seed}"),
                None => tree,
            },
        ),
        ("BENCH_AGAINST_RUSTC", rustc_version()),
    ];
    // `--quick` (CI smoke: tiny numbers, the figures mean nothing, the tool
    // is exercised end to end); otherwise the harness's own defaults
    if o.quick {
        let quick: &[(&str, &str)] = if o.criterion {
            &[("ROUNDS", "1")]
        } else {
            &[("BLOCKS", "30"), ("ITERS", "10")]
        };
        for (var, n) in quick {
            if std::env::var_os(var).is_none() {
                env.push((var, (*n).to_owned()));
            }
        }
    }

    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&repo);
    let manifest = harness.join("Cargo.toml");
    let target = base.join("target");
    if o.criterion {
        cmd.arg("bench")
            .arg("--manifest-path")
            .arg(&manifest)
            .arg("--target-dir")
            .arg(&target)
            .args(["--bench", "cmp", "--"]);
        if o.quick {
            cmd.args([
                "--warm-up-time",
                "0.1",
                "--measurement-time",
                "0.2",
                "--sample-size",
                "10",
            ]);
        }
        cmd.args(&o.extra);
    } else {
        cmd.arg(if o.layout.is_some() { "rustc" } else { "run" })
            .arg("--release")
            .arg("--manifest-path")
            .arg(&manifest)
            .arg("--target-dir")
            .arg(&target)
            .args(["--bin", "alt"]);
        if let Some(seed) = o.layout {
            cmd.args(layout_args(seed));
        }
    }
    if o.layout.is_some() {
        // `cargo rustc` builds (links) the harness; the binary is run here
        status(&mut cmd, "building the harness")?;
        status(
            Command::new(target.join("release/alt")).envs(env),
            "the harness",
        )?;
    } else {
        status(cmd.envs(env), "the harness")?;
    }
    write(&stamp, &commit)
}

/// The old side must be the old revision all through: every path package
/// the old `ems-bundle` links is one of the export's (`old`). Cargo finds a
/// path package's workspace by walking up from it, and the export lies
/// inside this workspace's directory: without `target/bench-against` in
/// the root's `exclude`, the old crates' `workspace = true` dependencies
/// resolved to the tree's crates, and the old builders ran over the new
/// model. Read from `cargo metadata` (which resolves, as the build will).
fn check_old_links(manifest: &Path, old: &Path) -> Result<(), String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--manifest-path"])
        .arg(manifest)
        .output()
        .map_err(|e| format!("cargo metadata: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "cargo metadata of the harness failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let meta: serde_json::Value =
        serde_json::from_slice(&out.stdout).map_err(|e| format!("cargo metadata: {e}"))?;
    old_links(&meta, old)
}

/// [`check_old_links`] on parsed `cargo metadata` output.
fn old_links(meta: &serde_json::Value, old: &Path) -> Result<(), String> {
    let empty = Vec::new();
    let list = |v: &serde_json::Value, k: &str| {
        v.get(k)
            .and_then(|x| x.as_array())
            .unwrap_or(&empty)
            .clone()
    };
    let str_of =
        |v: &serde_json::Value, k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_owned();
    let packages = list(meta, "packages");
    let by_id = |id: &str| packages.iter().find(|p| str_of(p, "id") == id);
    let bundle = packages
        .iter()
        .find(|p| str_of(p, "name") == "ems-bundle-old")
        .ok_or("cargo metadata: no ems-bundle-old in the harness's graph")?;
    let resolve = meta.get("resolve").cloned().unwrap_or_default();
    let node = list(&resolve, "nodes")
        .into_iter()
        .find(|n| str_of(n, "id") == str_of(bundle, "id"))
        .ok_or("cargo metadata: ems-bundle-old not resolved")?;
    for d in list(&node, "deps") {
        let Some(p) = by_id(&str_of(&d, "pkg")) else {
            continue;
        };
        // registry packages have a source; path packages have none
        if p.get("source").is_some_and(|s| !s.is_null()) {
            continue;
        }
        let at = str_of(p, "manifest_path");
        if !Path::new(&at).starts_with(old) {
            return Err(format!(
                "the old ems-bundle links {} from {at}, not the old revision's ({}): \
                 the comparison would run the old builders over the new crates",
                str_of(p, "name"),
                old.display()
            ));
        }
    }
    Ok(())
}

/// Runs `cmd`; an error naming `what` when it cannot start or fails.
fn status(cmd: &mut Command, what: &str) -> Result<(), String> {
    let s = cmd
        .status()
        .map_err(|e| format!("{what} ({:?}): {e}", cmd.get_program()))?;
    if s.success() {
        Ok(())
    } else {
        Err(format!("{what} failed ({s})"))
    }
}

/// `TIMED` picks what alt times; cmp.rs (`--criterion`) would ignore it.
fn refuse_timed(criterion: bool, timed: bool) -> Result<(), String> {
    if criterion && timed {
        return Err(format!(
            "TIMED is for the paired blocks, not --criterion\n{}",
            usage()
        ));
    }
    Ok(())
}

/// The `cargo rustc` arguments that link the harness with `ld.lld`, its
/// functions (`.text.*` sections: rustc emits one per function) placed in
/// the order shuffled by `seed`: another code layout, the same code.
fn layout_args(seed: u64) -> Vec<String> {
    vec![
        "--".to_owned(),
        "-C".to_owned(),
        "link-arg=-fuse-ld=lld".to_owned(),
        "-C".to_owned(),
        format!("link-arg=-Wl,--shuffle-sections=.text*={seed}"),
    ]
}

/// `--layout` needs `ld.lld` (Debian: `apt-get install lld`).
fn lld_available() -> Result<(), String> {
    match Command::new("ld.lld")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
    {
        Ok(s) if s.success() => Ok(()),
        _ => Err("--layout links with ld.lld, which is not installed (apt-get install lld)".into()),
    }
}

fn git(repo: &Path) -> Command {
    let mut c = Command::new("git");
    c.arg("-C").arg(repo);
    c
}

/// The full hash of REV, or an error saying why it is not in this clone.
fn git_commit(repo: &Path, rev: &str) -> Result<String, String> {
    let out = git(repo)
        .args(["rev-parse", "--verify", "--quiet"])
        .arg(format!("{rev}^{{commit}}"))
        .output()
        .map_err(|e| format!("git: {e}"))?;
    if out.status.success() {
        return Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned());
    }
    let shallow = git(repo)
        .args(["rev-parse", "--is-shallow-repository"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "true")
        .unwrap_or(false);
    Err(format!(
        "`{rev}` is not a commit of this clone{}",
        if shallow {
            " (a shallow clone: `git fetch --unshallow`)"
        } else {
            ""
        }
    ))
}

/// `git archive COMMIT | tar -x -C DIR` (`-m`, files dated now, with
/// `touch`).
fn export(repo: &Path, commit: &str, dir: &Path, touch: bool) -> Result<(), String> {
    let mut archive = git(repo)
        .args(["archive", "--format=tar", commit])
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("git archive: {e}"))?;
    let tar_in = archive.stdout.take().ok_or("git archive: no stdout")?;
    let tar = Command::new("tar")
        .arg(if touch { "-xm" } else { "-x" })
        .arg("-C")
        .arg(dir)
        .stdin(tar_in)
        .status()
        .map_err(|e| format!("tar: {e}"))?;
    let archived = archive.wait().map_err(|e| format!("git archive: {e}"))?;
    if !archived.success() || !tar.success() {
        return Err(format!(
            "exporting {commit} into {} failed (git archive {archived}, tar {tar})",
            dir.display()
        ));
    }
    Ok(())
}

/// `HEAD`'s short hash, `+changes` when tracked files differ from it.
fn describe_tree(repo: &Path) -> String {
    let head = git(repo)
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let dirty = git(repo)
        .args(["status", "--porcelain", "--untracked-files=no"])
        .output()
        .map(|o| !o.stdout.is_empty())
        .unwrap_or(false);
    format!(
        "working tree ({}{})",
        if head.is_empty() { "?" } else { &head },
        if dirty { "+changes" } else { "" }
    )
}

fn rustc_version() -> String {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    Command::new(rustc)
        .arg("-V")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|_| "rustc ?".to_owned())
}

/// The harness must build with the root's profiles, so that the figures
/// are those of `cargo bench` in the workspace.
fn check_profiles(root: &str, harness: &str) -> Result<(), String> {
    let r = parse(root, "Cargo.toml")?;
    let h = parse(harness, "benches/against/Cargo.toml")?;
    if r.get("profile") != h.get("profile") {
        return Err(format!(
            "benches/against/Cargo.toml's [profile.*] differ from the root's: {:?} against {:?}",
            h.get("profile"),
            r.get("profile")
        ));
    }
    Ok(())
}

fn parse(text: &str, what: &str) -> Result<toml::Table, String> {
    text.parse::<toml::Table>()
        .map_err(|e| format!("{what}: {e}"))
}

/// `[workspace] members` of the old root manifest (plain paths; globs are
/// refused).
fn member_paths(root: &toml::Table) -> Result<Vec<String>, String> {
    let members = root
        .get("workspace")
        .and_then(|w| w.get("members"))
        .and_then(|m| m.as_array())
        .ok_or("old Cargo.toml: no [workspace] members")?;
    members
        .iter()
        .map(|m| match m.as_str() {
            Some(s) if !s.contains(['*', '?', '[']) => Ok(s.to_owned()),
            _ => Err(format!(
                "old Cargo.toml: member {m} is not a plain path (not supported)"
            )),
        })
        .collect()
}

/// One workspace member of the old tree: its path and parsed manifest.
struct Member {
    path: String,
    manifest: toml::Table,
}

/// The edited manifests: the root's, and each renamed member's (path,
/// manifest), written back with `to_string()`.
#[derive(Debug)]
struct Renamed {
    root: toml::Table,
    crates: Vec<(String, toml::Table)>,
}

/// `[package] name` of a manifest.
fn package_name(manifest: &toml::Table) -> Option<&str> {
    manifest
        .get("package")
        .and_then(|p| p.get("name"))
        .and_then(|n| n.as_str())
}

/// Renames the members among [`LIBS`] `<name>-old` (their `[package]
/// name`, and `package = "<name>-old"` in the root's
/// `[workspace.dependencies]` entry), reduces `members` to them and keeps
/// of the root only `[workspace]`, `[profile]`, `[patch]` and `[replace]`
/// (the root's own package goes).
fn rename(root: &toml::Table, members: &[Member]) -> Result<Renamed, String> {
    let empty = toml::Table::new();
    let ws_deps = root
        .get("workspace")
        .and_then(|w| w.get("dependencies"))
        .and_then(|d| d.as_table())
        .unwrap_or(&empty);
    // name of each member, and the selected ones (in member order)
    let mut names = BTreeSet::new();
    let mut tables = Vec::new();
    for m in members {
        let name = package_name(&m.manifest)
            .ok_or(format!("old {}/Cargo.toml: no [package] name", m.path))?;
        names.insert(name);
        tables.push((m, name));
    }
    let selected: Vec<_> = tables.iter().filter(|(_, n)| LIBS.contains(n)).collect();
    let chosen: BTreeSet<&str> = selected.iter().map(|(_, n)| *n).collect();
    for n in NEEDED {
        if !chosen.contains(n) {
            return Err(format!(
                "old Cargo.toml: `{n}` is not a workspace member at this revision"
            ));
        }
    }
    // every dependency of a renamed crate on a member must be on a renamed
    // one, through the workspace table (the only entry renamed)
    for (m, name) in &selected {
        for (key, dep) in dependencies(&m.manifest) {
            let via_ws = dep.get("workspace").and_then(|w| w.as_bool()) == Some(true);
            let target = if via_ws {
                ws_deps.get(key).and_then(|d| d.get("package"))
            } else {
                dep.get("package")
            }
            .and_then(|p| p.as_str())
            .unwrap_or(key);
            if !names.contains(target) {
                continue;
            }
            if !chosen.contains(target) {
                return Err(format!(
                    "old {}/Cargo.toml: `{name}` depends on the member `{target}`, which is not among the renamed {LIBS:?}",
                    m.path
                ));
            }
            if !via_ws {
                return Err(format!(
                    "old {}/Cargo.toml: `{name}` depends on `{target}` other than through `{key}.workspace = true` (not renamed)",
                    m.path
                ));
            }
        }
    }

    // root: the workspace tables only, members, dependency entries
    let mut out = toml::Table::new();
    for k in ["workspace", "profile", "patch", "replace"] {
        if let Some(v) = root.get(k) {
            out.insert(k.to_owned(), v.clone());
        }
    }
    let ws = out
        .get_mut("workspace")
        .and_then(|w| w.as_table_mut())
        .ok_or("old Cargo.toml: no [workspace] table")?;
    let paths = selected
        .iter()
        .map(|(m, _)| toml::Value::String(m.path.clone()))
        .collect();
    ws.insert("members".to_owned(), toml::Value::Array(paths));
    let mut no_deps = toml::Table::new();
    let deps = ws
        .get_mut("dependencies")
        .and_then(|d| d.as_table_mut())
        .unwrap_or(&mut no_deps);
    for (m, name) in &selected {
        match deps.get_mut(*name).and_then(|d| d.as_table_mut()) {
            Some(d)
                if d.get("path").and_then(|p| p.as_str()) == Some(m.path.as_str())
                    && !d.contains_key("package") =>
            {
                d.insert("package".to_owned(), format!("{name}-old").into());
            }
            d => {
                return Err(format!(
                    "old Cargo.toml: [workspace.dependencies] `{name}` is {d:?}, not a table with path = \"{}\" and no `package`",
                    m.path
                ))
            }
        }
    }
    // members: the package name
    let mut crates = Vec::new();
    for (m, name) in &selected {
        let mut t = m.manifest.clone();
        let package = t
            .get_mut("package")
            .and_then(|p| p.as_table_mut())
            .expect("package_name found [package]");
        package.insert("name".to_owned(), format!("{name}-old").into());
        crates.push((m.path.clone(), t));
    }
    Ok(Renamed { root: out, crates })
}

/// (key, value) of every dependency table of a manifest (normal, build,
/// per target; dev-dependencies are not built for a path dependency).
fn dependencies(t: &toml::Table) -> Vec<(&str, &toml::Value)> {
    let mut tables = Vec::new();
    for k in ["dependencies", "build-dependencies"] {
        tables.extend(t.get(k).and_then(|d| d.as_table()));
    }
    if let Some(targets) = t.get("target").and_then(|t| t.as_table()) {
        for spec in targets.values() {
            for k in ["dependencies", "build-dependencies"] {
                tables.extend(spec.get(k).and_then(|d| d.as_table()));
            }
        }
    }
    tables
        .into_iter()
        .flat_map(|d| d.iter().map(|(k, v)| (k.as_str(), v)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `cargo metadata` of a harness whose old ems-bundle links `stu3_at`'s
    /// ems-stu3 and a registry crate.
    fn metadata(stu3_at: &str) -> serde_json::Value {
        serde_json::json!({
            "packages": [
                {"id": "b", "name": "ems-bundle-old", "source": null,
                 "manifest_path": "/w/target/bench-against/old/crates/ems-bundle/Cargo.toml"},
                {"id": "s", "name": "ems-stu3-old", "source": null, "manifest_path": stu3_at},
                {"id": "u", "name": "uuid", "source": "registry+https://github.com/rust-lang/crates.io-index",
                 "manifest_path": "/home/.cargo/registry/uuid/Cargo.toml"}
            ],
            "resolve": {"nodes": [{"id": "b", "deps": [{"pkg": "s"}, {"pkg": "u"}]}]}
        })
    }

    #[test]
    fn the_old_bundle_must_link_the_old_crates() {
        let old = Path::new("/w/target/bench-against/old");
        let inside = metadata("/w/target/bench-against/old/crates/ems-stu3/Cargo.toml");
        assert_eq!(old_links(&inside, old), Ok(()));
        let err = old_links(&metadata("/w/crates/ems-stu3/Cargo.toml"), old).unwrap_err();
        assert!(
            err.contains("links ems-stu3-old from /w/crates/ems-stu3"),
            "{err}"
        );
        let none = serde_json::json!({"packages": [], "resolve": {"nodes": []}});
        assert!(old_links(&none, old).is_err());
    }

    const ROOT: &str = r#"[workspace]
resolver = "2"
members = [
    "crates/ems-stu3",
    "crates/ems-match", # the matcher
    "crates/ems-profiles",
    "crates/ems-bundle",
    "crates/ems-cli",
]

[workspace.package]
version = "0.1.0"

[workspace.dependencies]
ems-stu3 = { path = "crates/ems-stu3", version = "0.1.0" }
ems-match = { path = "crates/ems-match", version = "0.1.0" }
ems-profiles = { path = "crates/ems-profiles", version = "0.1.0" }
ems-bundle = { path = "crates/ems-bundle", version = "0.1.0" }
ems = { path = ".", version = "0.1.0" }
serde = { version = "1", features = ["derive"] }

[package]
name = "ems"
version.workspace = true

[features]
default = ["stu3"]
stu3 = ["dep:ems-stu3"]

[dependencies]
ems-stu3 = { workspace = true, optional = true }

[profile.release]
debug = false

[profile.bench]
debug = false
"#;

    fn root() -> toml::Table {
        parse(ROOT, "ROOT").unwrap()
    }

    fn krate(name: &str, deps: &[&str]) -> Member {
        let mut manifest =
            format!("[package]\nname = \"{name}\"\nversion.workspace = true\n\n[dependencies]\n");
        for d in deps {
            manifest.push_str(&format!("{d}.workspace = true\n"));
        }
        manifest.push_str("\n[dev-dependencies]\nems-testdata.workspace = true\n");
        member(name, &manifest)
    }

    fn member(name: &str, manifest: &str) -> Member {
        Member {
            path: format!("crates/{name}"),
            manifest: parse(manifest, name).unwrap(),
        }
    }

    fn members() -> Vec<Member> {
        vec![
            krate("ems-stu3", &[]),
            krate("ems-match", &["chrono"]),
            krate("ems-profiles", &["ems-stu3", "ems-match"]),
            krate("ems-bundle", &["ems-stu3", "ems-profiles", "ems-match"]),
            krate("ems-cli", &["ems-bundle"]),
        ]
    }

    /// `root[k1][k2]...`
    fn at<'a>(t: &'a toml::Table, keys: &[&str]) -> Option<&'a toml::Value> {
        let (first, rest) = keys.split_first()?;
        rest.iter().try_fold(t.get(*first)?, |v, k| v.get(*k))
    }

    #[test]
    fn renames_the_libraries_and_drops_the_root_package() {
        let r = rename(&root(), &members()).unwrap();
        for c in ["ems-stu3", "ems-match", "ems-profiles", "ems-bundle"] {
            let entry = at(&r.root, &["workspace", "dependencies", c]).unwrap();
            let want: toml::Table = parse(
                &format!("package = \"{c}-old\"\npath = \"crates/{c}\"\nversion = \"0.1.0\""),
                c,
            )
            .unwrap();
            assert_eq!(entry.as_table(), Some(&want), "{c}");
        }
        let got = at(&r.root, &["workspace", "members"]).unwrap();
        assert_eq!(
            got,
            &toml::Value::from(vec![
                "crates/ems-stu3",
                "crates/ems-match",
                "crates/ems-profiles",
                "crates/ems-bundle",
            ])
        );
        // the root's own package, features, dependencies; no ems-cli
        let keys: Vec<&str> = r.root.keys().map(String::as_str).collect();
        assert_eq!(keys.len(), 2);
        assert!(keys.contains(&"workspace") && keys.contains(&"profile"));
        assert!(!r.root.to_string().contains("ems-cli"), "{}", r.root);
        // the rest of the workspace and the profiles unchanged
        let orig = root();
        for k in [&["workspace", "package"][..], &["profile"]] {
            assert_eq!(at(&r.root, k), at(&orig, k), "{k:?}");
        }
        for d in ["ems", "serde"] {
            let k = ["workspace", "dependencies", d];
            assert_eq!(at(&r.root, &k), at(&orig, &k), "{d}");
        }
        let paths: Vec<&str> = r.crates.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            [
                "crates/ems-stu3",
                "crates/ems-match",
                "crates/ems-profiles",
                "crates/ems-bundle"
            ]
        );
        for ((p, t), m) in r.crates.iter().zip(members()) {
            let name = p.strip_prefix("crates/").unwrap();
            assert_eq!(package_name(t), Some(format!("{name}-old").as_str()));
            // nothing else changed
            let mut back = t.clone();
            back["package"]["name"] = name.into();
            assert_eq!(back, m.manifest);
        }
        // what is written reads back as the same tables
        assert_eq!(parse(&r.root.to_string(), "root").unwrap(), r.root);
        for (p, t) in &r.crates {
            assert_eq!(&parse(&t.to_string(), p).unwrap(), t);
        }
    }

    #[test]
    fn ems_nhs_is_renamed_when_it_is_a_member() {
        // main has ems-nhs; fce5018 does not (the other tests)
        let with_nhs = ROOT
            .replace(
                "members = [\n",
                "members = [\n    \"crates/ems-nhs\",\n",
            )
            .replace(
                "[workspace.dependencies]\n",
                "[workspace.dependencies]\nems-nhs = { path = \"crates/ems-nhs\", version = \"0.1.0\" }\n",
            );
        let mut ms = members();
        ms.insert(0, krate("ems-nhs", &[]));
        ms[2] = krate("ems-match", &["ems-nhs"]);
        let r = rename(&parse(&with_nhs, "with_nhs").unwrap(), &ms).unwrap();
        let pkg = at(
            &r.root,
            &["workspace", "dependencies", "ems-nhs", "package"],
        );
        assert_eq!(pkg.and_then(|p| p.as_str()), Some("ems-nhs-old"));
        assert_eq!(r.crates.len(), 5);
    }

    #[test]
    fn an_unexpected_manifest_is_an_error() {
        let edited = |from: &str, to: &str| parse(&ROOT.replace(from, to), "edited").unwrap();
        // a workspace dependency entry that is not a table
        let plain = edited(
            "ems-profiles = { path = \"crates/ems-profiles\", version = \"0.1.0\" }",
            "ems-profiles = \"0.1.0\"",
        );
        let e = rename(&plain, &members()).unwrap_err();
        assert!(e.contains("`ems-profiles`"), "{e}");
        // ... or missing
        let missing = edited(
            "ems-profiles = { path = \"crates/ems-profiles\", version = \"0.1.0\" }",
            "",
        );
        assert!(rename(&missing, &members()).is_err());
        // an entry pointing elsewhere
        let elsewhere = edited("path = \"crates/ems-stu3\"", "path = \"../ems-stu3\"");
        assert!(rename(&elsewhere, &members()).is_err());
        // an entry that already renames its package
        let renamed = edited(
            "ems-stu3 = { path",
            "ems-stu3 = { package = \"ems-stu3-x\", path",
        );
        assert!(rename(&renamed, &members()).is_err());
        // no members list
        let no_members = edited("members = [", "old-members = [");
        assert!(member_paths(&no_members).is_err());
        assert_eq!(member_paths(&root()).unwrap().len(), 5);
        // a dependency entry written as a dotted key is the same table
        let dotted = edited(
            "ems-profiles = { path = \"crates/ems-profiles\", version = \"0.1.0\" }",
            "ems-profiles.path = \"crates/ems-profiles\"",
        );
        assert!(rename(&dotted, &members()).is_ok());
        // a package name spelt another way is the same name
        let mut ms = members();
        ms[3] = member(
            "ems-bundle",
            "[package]\nname = 'ems-bundle'\n[dependencies]\nems-stu3.workspace = true\n",
        );
        let r = rename(&root(), &ms).unwrap();
        assert_eq!(package_name(&r.crates[3].1), Some("ems-bundle-old"));
        // ems-bundle missing at the revision
        let mut ms = members();
        ms.remove(3);
        assert!(rename(&root(), &ms).unwrap_err().contains("ems-bundle"));
        // a renamed crate depending on a member that is not renamed
        let mut ms = members();
        ms[3] = krate("ems-bundle", &["ems-stu3", "ems-cli"]);
        assert!(rename(&root(), &ms).unwrap_err().contains("ems-cli"));
        // ... or on a renamed one by path
        let mut ms = members();
        ms[2] = member(
            "ems-profiles",
            "[package]\nname = \"ems-profiles\"\n[dependencies]\nems-stu3 = { path = \"../ems-stu3\" }\n",
        );
        assert!(rename(&root(), &ms)
            .unwrap_err()
            .contains("workspace = true"));
    }

    #[test]
    fn options() {
        let a = |s: &[&str]| parse_args(&s.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(
            a(&[]).unwrap(),
            Options {
                rev: DEFAULT_REV.into(),
                quick: false,
                criterion: false,
                layout: None,
                extra: vec![]
            }
        );
        let o = a(&["main~3", "--quick", "--criterion", "--", "--bench", "x"]).unwrap();
        assert_eq!(o.rev, "main~3");
        assert!(o.quick && o.criterion);
        assert_eq!(o.extra, ["--bench", "x"]);
        assert!(a(&["a", "b"]).is_err());
        assert!(a(&["--fast"]).is_err());
        assert_eq!(a(&["--layout", "3"]).unwrap().layout, Some(3));
        assert!(a(&["--layout"]).is_err());
        assert!(a(&["--layout", "x"]).is_err());
        assert!(a(&["--layout", "0"]).is_err());
        assert!(a(&["--layout", "1", "--criterion"]).is_err());
        assert!(a(&["--", "--bench", "x"]).is_err());
        assert_eq!(a(&["--criterion", "--"]).unwrap().extra, [""; 0]);
        assert!(refuse_timed(true, true).is_err());
        assert!(refuse_timed(true, false).is_ok() && refuse_timed(false, true).is_ok());
        assert!(usage().contains(&format!("REV defaults to {DEFAULT_REV} ")));
        assert_eq!(
            layout_args(7).last().unwrap(),
            "link-arg=-Wl,--shuffle-sections=.text*=7"
        );
    }

    #[test]
    fn revisions() {
        let repo = crate::root();
        let head = git_commit(&repo, "HEAD").unwrap();
        assert!(head.len() >= 40 && head.bytes().all(|b| b.is_ascii_hexdigit()));
        let e = git_commit(&repo, "no-such-revision-here").unwrap_err();
        assert!(e.contains("not a commit of this clone"), "{e}");
        // a tree is not a commit
        assert!(git_commit(&repo, "HEAD^{tree}").is_err());
    }

    #[test]
    fn the_harness_profiles_are_the_roots() {
        let repo = crate::root();
        let root = std::fs::read_to_string(repo.join("Cargo.toml")).unwrap();
        let harness = std::fs::read_to_string(repo.join("benches/against/Cargo.toml")).unwrap();
        check_profiles(&root, &harness).unwrap();
        assert!(check_profiles(&root, &harness.replace("debug = false", "debug = 1")).is_err());
    }
}
