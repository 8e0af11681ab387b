//! `cargo xtask bench-against [REV] [--quick] [--criterion] [--layout SEED] [-- ARGS]`: the
//! model path `build` of the working tree against an old revision of the
//! repository, both linked into one process and timed interleaved, so that
//! the drift of a shared machine cancels out of the ratio.
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
//!    placement of the code alone moves a line by a few per cent (an A/A
//!    run, the tree against itself, gives 97.7-102.7 % depending on the
//!    build): a difference is real when it holds over several layouts.
//!
//! Every edit of step 2 must match exactly, and the result is re-read as
//! TOML and checked: a tree that would build the new code as "old" is an
//! error, never a silent result.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Stdio};

/// The revision compared against by default: 563842b is the last revision
/// with the hand-written event builders (the parent of 3dd7f69, which
/// replaced them by the one description over the element sink; issue 16
/// asks that `build` through the model sink be no slower than they were).
/// It builds the same ten messages as the tree. The earlier figures of
/// docs/benchmarks.md are against fce5018, which predates the change-of-GP
/// fix (see `CHANGED` in `benches/against/src/lib.rs`).
pub const DEFAULT_REV: &str = "563842b";

/// Library packages renamed `<name>-old` in the old tree when they are
/// workspace members at REV (`ems-nhs` appeared after fce5018).
pub const LIBS: &[&str] = &[
    "ems-nhs",
    "ems-stu3",
    "ems-match",
    "ems-profiles",
    "ems-bundle",
];

/// The old packages the harness depends on.
const NEEDED: &[&str] = &["ems-bundle", "ems-match"];

/// Paired blocks of the full run and of `--quick` (CI smoke: tiny numbers,
/// the figures mean nothing, the tool is exercised end to end).
const FULL: (&str, &str) = ("1000", "100");
const QUICK: (&str, &str) = ("30", "10");

pub const USAGE: &str =
    "usage: cargo xtask bench-against [REV] [--quick] [--criterion] [--layout SEED] [-- CRITERION-ARGS]\n  \
REV defaults to 563842b (the last revision with the hand-written builders);\n  \
--layout SEED links the harness with ld.lld, its functions shuffled by SEED;\n  \
BLOCKS / ITERS / TIMED=build|build_xml (alt) and ROUNDS / ONLY (both) are read from the environment";

#[derive(Debug, PartialEq)]
struct Options {
    rev: String,
    quick: bool,
    criterion: bool,
    layout: Option<u64>,
    extra: Vec<String>,
}

fn parse_args(args: &[String]) -> Result<Options, String> {
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
                    .ok_or_else(|| format!("--layout needs a seed\n{USAGE}"))?;
                o.layout = Some(seed.parse().map_err(|_| {
                    format!("--layout {seed}: expected a positive integer\n{USAGE}")
                })?);
                if o.layout == Some(0) {
                    return Err(format!(
                        "--layout 0 would be a random layout, not reproducible\n{USAGE}"
                    ));
                }
            }
            "--" => {
                o.extra = it.by_ref().cloned().collect();
            }
            s if s.starts_with('-') => return Err(format!("unknown option `{s}`\n{USAGE}")),
            s => {
                if rev.replace(s.to_owned()).is_some() {
                    return Err(format!("more than one revision given\n{USAGE}"));
                }
            }
        }
    }
    if let Some(r) = rev {
        o.rev = r;
    }
    if o.criterion && o.layout.is_some() {
        return Err(format!(
            "--layout is for the paired blocks, not --criterion\n{USAGE}"
        ));
    }
    Ok(o)
}

/// Runs the subcommand (arguments after `bench-against`).
pub fn run(args: &[String]) -> Result<(), String> {
    let o = parse_args(args)?;
    let repo = crate::root();
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
    let root_text = read(&root_path)?;
    let members = member_paths(&root_text)?
        .into_iter()
        .map(|p| {
            let manifest = read(&old.join(&p).join("Cargo.toml"))?;
            Ok(Member { path: p, manifest })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let renamed = rename(&root_text, &members)?;
    write(&root_path, &renamed.root)?;
    for (p, text) in &renamed.crates {
        write(&old.join(p).join("Cargo.toml"), text)?;
    }
    let names: Vec<&str> = renamed
        .crates
        .iter()
        .map(|(_, t)| package_name(t))
        .collect();
    println!(
        "bench-against: {} exported to {}, renamed {}",
        &commit[..12],
        old.display(),
        names.join(", ")
    );

    let harness = repo.join("benches/against");
    check_profiles(
        &read(&repo.join("Cargo.toml"))?,
        &read(&harness.join("Cargo.toml"))?,
    )?;
    // The harness resolves with the root's lock, so that both sides and
    // the shared dependencies have the versions `cargo bench` uses; cargo
    // adds the entries of the old packages and prunes the rest.
    std::fs::copy(repo.join("Cargo.lock"), harness.join("Cargo.lock"))
        .map_err(|e| format!("copying Cargo.lock into {}: {e}", harness.display()))?;

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
            if std::env::var_os("ROUNDS").is_none() {
                cmd.env("ROUNDS", "1");
            }
        }
        cmd.args(&o.extra);
    } else {
        if !o.extra.is_empty() {
            return Err(format!(
                "arguments after `--` are for criterion (--criterion)\n{USAGE}"
            ));
        }
        match o.layout {
            None => {
                cmd.arg("run");
            }
            Some(_) => {
                lld_available()?;
                cmd.arg("rustc");
            }
        }
        cmd.arg("--release")
            .arg("--manifest-path")
            .arg(&manifest)
            .arg("--target-dir")
            .arg(&target)
            .args(["--bin", "alt"]);
        if let Some(seed) = o.layout {
            cmd.args(layout_args(seed));
        }
        let (blocks, iters) = if o.quick { QUICK } else { FULL };
        for (var, default) in [("BLOCKS", blocks), ("ITERS", iters)] {
            if std::env::var_os(var).is_none() {
                cmd.env(var, default);
            }
        }
    }
    cmd.env(
        "BENCH_AGAINST_OLD",
        format!("{} ({})", o.rev, &commit[..12]),
    )
    .env("BENCH_AGAINST_NEW", describe_tree(&repo))
    .env("BENCH_AGAINST_RUSTC", rustc_version());
    if let Some(seed) = o.layout {
        // `cargo rustc` builds (links) the harness; the binary is run here
        let status = cmd
            .status()
            .map_err(|e| format!("running cargo for {}: {e}", manifest.display()))?;
        if !status.success() {
            return Err(format!("building the harness failed ({status})"));
        }
        let bin = target.join("release/alt");
        let mut run = Command::new(&bin);
        for (k, v) in cmd.get_envs() {
            if let Some(v) = v {
                run.env(k, v);
            }
        }
        run.env(
            "BENCH_AGAINST_NEW",
            format!("{} | layout {seed}", describe_tree(&repo)),
        );
        let status = run
            .status()
            .map_err(|e| format!("running {}: {e}", bin.display()))?;
        if !status.success() {
            return Err(format!("the harness failed ({status})"));
        }
        return write(&stamp, &commit);
    }
    let status = cmd
        .status()
        .map_err(|e| format!("running cargo for {}: {e}", manifest.display()))?;
    if !status.success() {
        return Err(format!("the harness failed ({status})"));
    }
    write(&stamp, &commit)
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

fn read(p: &Path) -> Result<String, String> {
    std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))
}

fn write(p: &Path, text: &str) -> Result<(), String> {
    std::fs::write(p, text).map_err(|e| format!("{}: {e}", p.display()))
}

fn git(repo: &Path) -> Command {
    let mut c = Command::new("git");
    c.arg("-C").arg(repo);
    c
}

/// The full hash of REV, or an error saying why it is not in this clone.
fn git_commit(repo: &Path, rev: &str) -> Result<String, String> {
    let spec = format!("{rev}^{{commit}}");
    let ok = git(repo)
        .args(["cat-file", "-e", &spec])
        .stderr(Stdio::null())
        .status()
        .map_err(|e| format!("git: {e}"))?
        .success();
    if !ok {
        let shallow = git(repo)
            .args(["rev-parse", "--is-shallow-repository"])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "true")
            .unwrap_or(false);
        return Err(format!(
            "`{rev}` is not a commit of this clone{}",
            if shallow {
                " (a shallow clone: `git fetch --unshallow`)"
            } else {
                ""
            }
        ));
    }
    let out = git(repo)
        .args(["rev-parse", "--verify", &spec])
        .output()
        .map_err(|e| format!("git: {e}"))?;
    let hash = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if !out.status.success() || hash.len() < 12 {
        return Err(format!("git rev-parse {spec} failed"));
    }
    Ok(hash)
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

/// `[workspace] members` of a root manifest (plain paths; globs are
/// refused).
fn member_paths(root: &str) -> Result<Vec<String>, String> {
    let t = parse(root, "old Cargo.toml")?;
    let members = t
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

/// One workspace member of the old tree: its path and manifest text.
pub struct Member {
    pub path: String,
    pub manifest: String,
}

/// The edited manifests: the root's, and each renamed member's (path, text).
#[derive(Debug)]
pub struct Renamed {
    pub root: String,
    pub crates: Vec<(String, String)>,
}

/// The package name of a manifest already checked by [`rename`].
fn package_name(manifest: &str) -> &str {
    manifest
        .lines()
        .find_map(|l| l.strip_prefix("name = \""))
        .and_then(|l| l.strip_suffix('"'))
        .unwrap_or("?")
}

/// Renames the members among [`LIBS`] `<name>-old` (their `[package]
/// name`, and `package = "<name>-old"` in the root's
/// `[workspace.dependencies]` entry), reduces `members` to them and drops
/// the root's own package sections.
pub fn rename(root: &str, members: &[Member]) -> Result<Renamed, String> {
    let root_toml = parse(root, "old Cargo.toml")?;
    let empty = toml::Table::new();
    let ws_deps = root_toml
        .get("workspace")
        .and_then(|w| w.get("dependencies"))
        .and_then(|d| d.as_table())
        .unwrap_or(&empty);
    // name of each member, and the selected ones (in member order)
    let mut names = BTreeMap::new();
    let mut tables = Vec::new();
    for m in members {
        let t = parse(&m.manifest, &format!("old {}/Cargo.toml", m.path))?;
        let name = t
            .get("package")
            .and_then(|p| p.get("name"))
            .and_then(|n| n.as_str())
            .ok_or(format!("old {}/Cargo.toml: no [package] name", m.path))?
            .to_owned();
        names.insert(name.clone(), m.path.clone());
        tables.push((m, name, t));
    }
    let selected: Vec<_> = tables
        .iter()
        .filter(|(_, n, _)| LIBS.contains(&n.as_str()))
        .collect();
    let chosen: BTreeSet<&str> = selected.iter().map(|(_, n, _)| n.as_str()).collect();
    for n in NEEDED {
        if !chosen.contains(n) {
            return Err(format!(
                "old Cargo.toml: `{n}` is not a workspace member at this revision"
            ));
        }
    }
    // every dependency of a renamed crate on a member must be on a renamed
    // one, through the workspace table (the only entry renamed)
    for (m, name, t) in &selected {
        for (key, dep) in dependencies(t) {
            let via_ws = dep.get("workspace").and_then(|w| w.as_bool()) == Some(true);
            let target = if via_ws {
                ws_deps.get(key).and_then(|d| d.get("package"))
            } else {
                dep.get("package")
            }
            .and_then(|p| p.as_str())
            .unwrap_or(key);
            if !names.contains_key(target) {
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

    // root: members, dependency entries, package sections
    let paths: Vec<&str> = selected.iter().map(|(m, _, _)| m.path.as_str()).collect();
    let mut out = replace_members(root, &paths)?;
    for (m, name, _) in &selected {
        out = add_package(&out, name, &m.path)?;
    }
    let out = drop_package_sections(&out);
    let mut crates = Vec::new();
    for (m, name, _) in &selected {
        crates.push((m.path.clone(), rename_package(&m.manifest, name, &m.path)?));
    }

    // re-read and check what was produced
    let t = parse(&out, "renamed old Cargo.toml")?;
    if t.contains_key("package") || t.contains_key("dependencies") {
        return Err("renamed old Cargo.toml still has a root package".to_owned());
    }
    let got: Option<Vec<&str>> = t
        .get("workspace")
        .and_then(|w| w.get("members"))
        .and_then(|m| m.as_array())
        .map(|a| a.iter().filter_map(|v| v.as_str()).collect());
    if got.as_deref() != Some(&paths[..]) {
        return Err(format!(
            "renamed old Cargo.toml: members {got:?}, expected {paths:?}"
        ));
    }
    for (m, name, _) in &selected {
        let d = t
            .get("workspace")
            .and_then(|w| w.get("dependencies"))
            .and_then(|d| d.get(name.as_str()));
        let pkg = d.and_then(|d| d.get("package")).and_then(|p| p.as_str());
        let path = d.and_then(|d| d.get("path")).and_then(|p| p.as_str());
        if pkg != Some(format!("{name}-old").as_str()) || path != Some(m.path.as_str()) {
            return Err(format!(
                "renamed old Cargo.toml: [workspace.dependencies] {name} is {d:?}"
            ));
        }
    }
    for ((p, text), (_, name, _)) in crates.iter().zip(&selected) {
        let t = parse(text, &format!("renamed old {p}/Cargo.toml"))?;
        let got = t
            .get("package")
            .and_then(|p| p.get("name"))
            .and_then(|n| n.as_str());
        if got != Some(format!("{name}-old").as_str()) {
            return Err(format!("renamed old {p}/Cargo.toml: name {got:?}"));
        }
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

/// One line of a manifest: its text, the table header it sits under, and
/// whether it starts a key at the top level of that table (not inside a
/// multi-line array or inline table).
struct Line<'a> {
    text: &'a str,
    table: String,
    top: bool,
    header: bool,
}

/// Splits a manifest into lines, tracking the current table and bracket
/// depth (strings and comments skipped). Enough for Cargo manifests; every
/// result is re-read with a TOML parser.
fn lines(text: &str) -> Vec<Line<'_>> {
    let mut out = Vec::new();
    let mut table = String::new();
    let mut depth = 0i32;
    for l in text.split_inclusive('\n') {
        let t = l.trim();
        if depth == 0 && t.starts_with('[') {
            let name = t.split('#').next().unwrap_or("").trim();
            let name = name.trim_start_matches('[').trim_end_matches(']').trim();
            table = name.to_owned();
            out.push(Line {
                text: l,
                table: table.clone(),
                top: false,
                header: true,
            });
            continue;
        }
        out.push(Line {
            text: l,
            table: table.clone(),
            top: depth == 0,
            header: false,
        });
        let mut quote: Option<char> = None;
        let mut escaped = false;
        for c in l.chars() {
            match quote {
                Some(q) => {
                    if escaped {
                        escaped = false;
                    } else if c == '\\' && q == '"' {
                        escaped = true;
                    } else if c == q {
                        quote = None;
                    }
                }
                None => match c {
                    '"' | '\'' => quote = Some(c),
                    '#' => break,
                    '[' | '{' => depth += 1,
                    ']' | '}' => depth -= 1,
                    _ => {}
                },
            }
        }
    }
    out
}

/// The key of a top-level `key = value` line.
fn key_of(line: &str) -> Option<&str> {
    let (k, _) = line.split_once('=')?;
    let k = k.trim();
    (!k.is_empty() && !k.contains(['.', '"', '\'', ' '])).then_some(k)
}

fn replace_members(root: &str, paths: &[&str]) -> Result<String, String> {
    let ls = lines(root);
    let starts: Vec<usize> = (0..ls.len())
        .filter(|&i| {
            ls[i].top && ls[i].table == "workspace" && key_of(ls[i].text) == Some("members")
        })
        .collect();
    let [start] = starts[..] else {
        return Err(format!(
            "old Cargo.toml: expected one `members = [...]` in [workspace], found {}",
            starts.len()
        ));
    };
    // the value runs to the next line at the top level (or header)
    let end = (start + 1..ls.len())
        .find(|&i| ls[i].top || ls[i].header)
        .unwrap_or(ls.len());
    let mut out = String::new();
    for l in &ls[..start] {
        out.push_str(l.text);
    }
    out.push_str("members = [\n");
    for p in paths {
        out.push_str(&format!("    \"{p}\",\n"));
    }
    out.push_str("]\n");
    for l in &ls[end..] {
        out.push_str(l.text);
    }
    Ok(out)
}

/// `name = { path = "...", ... }` in `[workspace.dependencies]` →
/// `name = { package = "name-old", path = "...", ... }`.
fn add_package(root: &str, name: &str, path: &str) -> Result<String, String> {
    let ls = lines(root);
    let hits: Vec<usize> = (0..ls.len())
        .filter(|&i| {
            ls[i].top && ls[i].table == "workspace.dependencies" && key_of(ls[i].text) == Some(name)
        })
        .collect();
    let [i] = hits[..] else {
        return Err(format!(
            "old Cargo.toml: expected one `{name} = {{ ... }}` line in [workspace.dependencies], found {}",
            hits.len()
        ));
    };
    let line = ls[i].text;
    let (k, v) = line.split_once('=').expect("key_of found `=`");
    let v = v.trim_start();
    let rest = v.strip_prefix('{').filter(|r| r.contains('}'));
    let Some(rest) = rest.filter(|_| v.contains(&format!("path = \"{path}\""))) else {
        return Err(format!(
            "old Cargo.toml: `{}` is not an inline table with path = \"{path}\"",
            line.trim()
        ));
    };
    if rest.contains("package") {
        return Err(format!(
            "old Cargo.toml: `{}` already renames its package",
            line.trim()
        ));
    }
    let edited = format!("{k}= {{ package = \"{name}-old\", {}", rest.trim_start());
    let mut out: String = ls[..i].iter().map(|l| l.text).collect();
    out.push_str(&edited);
    out.extend(ls[i + 1..].iter().map(|l| l.text));
    Ok(out)
}

/// Keeps the preamble and the `[workspace*]`, `[profile*]`, `[patch*]`
/// tables; drops the root's own package (`[package]`, `[features]`,
/// `[dependencies]`, targets, ...).
fn drop_package_sections(root: &str) -> String {
    let keep = |t: &str| {
        t.is_empty()
            || ["workspace", "profile", "patch", "replace"]
                .iter()
                .any(|k| t == *k || t.starts_with(&format!("{k}.")))
    };
    lines(root)
        .iter()
        .filter(|l| keep(&l.table))
        .map(|l| l.text)
        .collect()
}

/// `name = "<name>"` in `[package]` → `name = "<name>-old"`.
fn rename_package(manifest: &str, name: &str, path: &str) -> Result<String, String> {
    let ls = lines(manifest);
    let want = format!("\"{name}\"");
    let hits: Vec<usize> = (0..ls.len())
        .filter(|&i| {
            ls[i].top
                && ls[i].table == "package"
                && key_of(ls[i].text) == Some("name")
                && ls[i].text.split_once('=').map(|(_, v)| v.trim()) == Some(want.as_str())
        })
        .collect();
    let [i] = hits[..] else {
        return Err(format!(
            "old {path}/Cargo.toml: expected one `name = \"{name}\"` line in [package], found {}",
            hits.len()
        ));
    };
    let mut out: String = ls[..i].iter().map(|l| l.text).collect();
    out.push_str(&format!("name = \"{name}-old\"\n"));
    out.extend(ls[i + 1..].iter().map(|l| l.text));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

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

    fn krate(name: &str, deps: &[&str]) -> Member {
        let mut manifest =
            format!("[package]\nname = \"{name}\"\nversion.workspace = true\n\n[dependencies]\n");
        for d in deps {
            manifest.push_str(&format!("{d}.workspace = true\n"));
        }
        manifest.push_str("\n[dev-dependencies]\nems-testdata.workspace = true\n");
        Member {
            path: format!("crates/{name}"),
            manifest,
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

    #[test]
    fn renames_the_libraries_and_drops_the_root_package() {
        let r = rename(ROOT, &members()).unwrap();
        for c in ["ems-stu3", "ems-match", "ems-profiles", "ems-bundle"] {
            let entry = format!(
                "{c} = {{ package = \"{c}-old\", path = \"crates/{c}\", version = \"0.1.0\" }}\n"
            );
            assert!(r.root.contains(&entry), "{entry} in\n{}", r.root);
        }
        assert!(r.root.contains(
            "members = [\n    \"crates/ems-stu3\",\n    \"crates/ems-match\",\n    \"crates/ems-profiles\",\n    \"crates/ems-bundle\",\n]\n"
        ));
        for gone in [
            "[package]",
            "name = \"ems\"",
            "[features]",
            "[dependencies]",
            "ems-cli",
        ] {
            assert!(!r.root.contains(gone), "{gone} left in\n{}", r.root);
        }
        for kept in [
            "[workspace.package]",
            "ems = { path = \".\", version = \"0.1.0\" }",
            "serde = { version = \"1\", features = [\"derive\"] }",
            "[profile.release]\ndebug = false\n",
            "[profile.bench]\ndebug = false\n",
        ] {
            assert!(r.root.contains(kept), "{kept} missing in\n{}", r.root);
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
        for (p, text) in &r.crates {
            let name = p.strip_prefix("crates/").unwrap();
            assert!(text.starts_with(&format!("[package]\nname = \"{name}-old\"\n")));
            assert_eq!(package_name(text), format!("{name}-old"));
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
        let r = rename(&with_nhs, &ms).unwrap();
        assert!(r.root.contains("ems-nhs = { package = \"ems-nhs-old\", "));
        assert_eq!(r.crates.len(), 5);
    }

    #[test]
    fn an_unmatched_pattern_is_an_error() {
        // a workspace dependency entry written another way
        let dotted = ROOT.replace(
            "ems-profiles = { path = \"crates/ems-profiles\", version = \"0.1.0\" }",
            "ems-profiles.path = \"crates/ems-profiles\"",
        );
        let e = rename(&dotted, &members()).unwrap_err();
        assert!(e.contains("ems-profiles = { ... }"), "{e}");
        // an entry pointing elsewhere
        let elsewhere = ROOT.replace("path = \"crates/ems-stu3\"", "path = \"../ems-stu3\"");
        assert!(rename(&elsewhere, &members()).is_err());
        // no members list
        let no_members = ROOT.replacen("members = [", "old-members = [", 1);
        assert!(rename(&no_members, &members()).is_err());
        // a package name line that is not plain
        let mut ms = members();
        ms[3].manifest = ms[3]
            .manifest
            .replace("name = \"ems-bundle\"", "name = 'ems-bundle'");
        let e = rename(ROOT, &ms).unwrap_err();
        assert!(e.contains("name = \"ems-bundle\""), "{e}");
        // ems-bundle missing at the revision
        let mut ms = members();
        ms.remove(3);
        assert!(rename(ROOT, &ms).unwrap_err().contains("ems-bundle"));
        // a renamed crate depending on a member that is not renamed
        let mut ms = members();
        ms[3] = krate("ems-bundle", &["ems-stu3", "ems-cli"]);
        assert!(rename(ROOT, &ms).unwrap_err().contains("ems-cli"));
        // ... or on a renamed one by path
        let mut ms = members();
        ms[2].manifest = ms[2].manifest.replace(
            "ems-stu3.workspace = true",
            "ems-stu3 = { path = \"../ems-stu3\" }",
        );
        assert!(rename(ROOT, &ms).unwrap_err().contains("workspace = true"));
    }

    #[test]
    fn options() {
        let a = |s: &[&str]| parse_args(&s.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(
            a(&[]).unwrap(),
            Options {
                rev: "563842b".into(),
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
        assert_eq!(
            layout_args(7).last().unwrap(),
            "link-arg=-Wl,--shuffle-sections=.text*=7"
        );
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
