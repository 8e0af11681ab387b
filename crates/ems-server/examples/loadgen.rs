//! Load generator for `ems serve` (figures in docs/benchmarks.md).
//!
//! ```text
//! cargo build --release -p ems-cli
//! cargo run --release -p ems-server --example loadgen -- \
//!     --ems target/release/ems [--subscriptions 1000000] [--seconds 20] [--clients 32]
//! ```
//!
//! 1. seeds a fresh data folder with `--subscriptions` stored active
//!    subscriptions (90 % explicit, 10 % generic; bulk import), of which
//!    one per publishable event matches the example patient;
//! 2. starts the real `ems serve` on it and times how long it takes to be
//!    ready from the rows (cold start), kills it (SIGKILL) once it has
//!    written its matcher snapshot, and times the restart (the
//!    restart-with-1M-subscriptions figure);
//! 3. publishes the twelve publishable example messages round robin from
//!    `--clients` keep-alive HTTP clients for `--seconds`: durable publishes
//!    per second (202s), latency percentiles, errors;
//! 4. in the same run, calls `validate_bytes` (Publish mode) in a loop on the
//!    same messages for the same time: the baseline the server's throughput
//!    is compared with.
//!
//! Wall-clock rates are noisy on a shared machine, so the same run also
//! reports CPU time (user + system, from `/proc/<pid>/stat`): of the server
//! process per publish (`server_cpu_us_per_publish`, and per thread name in
//! `server_cpu_us_per_publish_by_thread`), of the load generator's clients
//! per publish, and of the validate loop per `validate_bytes` call. With
//! `cores` CPUs fully used by server and clients, the server would reach
//! `cpu_bound_ratio` = cores × validate CPU ÷ (server + client CPU per
//! publish) of the validate loop's rate (Linux only; elsewhere the CPU
//! figures are 0).

use base64::Engine;
use ems::profiles::{InputKind, Mode, Validator};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Args {
    ems: PathBuf,
    subscriptions: usize,
    seconds: u64,
    clients: usize,
}

fn args() -> Args {
    let mut a = Args {
        ems: PathBuf::from("target/release/ems"),
        subscriptions: 1_000_000,
        seconds: 20,
        clients: 32,
    };
    let v: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i + 1 < v.len() {
        match v[i].as_str() {
            "--ems" => a.ems = PathBuf::from(&v[i + 1]),
            "--subscriptions" => a.subscriptions = v[i + 1].parse().expect("--subscriptions N"),
            "--seconds" => a.seconds = v[i + 1].parse().expect("--seconds N"),
            "--clients" => a.clients = v[i + 1].parse().expect("--clients N"),
            other => panic!("unknown flag {other}"),
        }
        i += 2;
    }
    a
}

#[path = "common/seed.rs"]
mod seed;
use seed::seed;

fn token() -> String {
    let b64 = |v: serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    let now = chrono::Utc::now().timestamp();
    format!(
        "{}.{}.",
        b64(serde_json::json!({"alg": "none", "typ": "JWT"})),
        b64(serde_json::json!({
            "sub": "https://fhir.nhs.uk/Id/accredited-system|200000000001",
            "exp": now + 86_400, "iat": now,
            "scope": "patient/Bundle.write",
            "requesting_system": "https://fhir.nhs.uk/Id/accredited-system|200000000001",
            "requesting_organisation": "https://fhir.nhs.uk/Id/ods-organization-code|RR8",
        }))
    )
}

/// The publishable examples: (bytes, InteractionID).
fn messages() -> Vec<(Vec<u8>, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/messages");
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        let event = name.rsplit_once('-').unwrap().0;
        if let Some(i) = ems::matching::event_type(event).and_then(|t| t.publish_interaction_id()) {
            out.push((std::fs::read(&p).unwrap(), i));
        }
    }
    out.sort();
    out
}

/// `/proc` reports CPU times in USER_HZ ticks, 100 per second on Linux.
const TICK_US: f64 = 10_000.0;

/// CPU ticks of a process or thread from its `stat` file: its name and
/// its (user, system) ticks (`None` when unreadable).
fn cpu_ticks(stat: &Path) -> Option<(String, [u64; 2])> {
    let text = std::fs::read_to_string(stat).ok()?;
    let (head, tail) = text.rsplit_once(')')?;
    let name = head.split_once('(')?.1.to_string();
    let f: Vec<&str> = tail.split_whitespace().collect();
    // after the name: state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
    Some((name, [f.get(11)?.parse().ok()?, f.get(12)?.parse().ok()?]))
}

/// CPU ticks (user, system) of process `pid`: in total and per thread name.
fn process_cpu(pid: u32) -> ([u64; 2], std::collections::BTreeMap<String, [u64; 2]>) {
    let total = cpu_ticks(Path::new(&format!("/proc/{pid}/stat"))).map_or([0; 2], |t| t.1);
    let mut by_name = std::collections::BTreeMap::new();
    if let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) {
        for t in tasks.flatten() {
            if let Some((name, [u, s])) = cpu_ticks(&t.path().join("stat")) {
                let e = by_name.entry(name).or_insert([0; 2]);
                e[0] += u;
                e[1] += s;
            }
        }
    }
    (total, by_name)
}

/// `wchar`, `syscw` and `write_bytes` of `/proc/<pid>/io`: bytes handed
/// to write calls (files and sockets), write calls, bytes sent to storage.
fn process_io(pid: u32) -> [u64; 3] {
    let text = std::fs::read_to_string(format!("/proc/{pid}/io")).unwrap_or_default();
    let field = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key)?.trim().parse().ok())
            .unwrap_or(0)
    };
    [field("wchar:"), field("syscw:"), field("write_bytes:")]
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

fn main() {
    let a = args();
    let dir = std::env::temp_dir().join(format!("ems-loadgen-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let t = Instant::now();
    let n = seed(&dir, a.subscriptions);
    eprintln!(
        "loadgen: seeded {n} subscriptions in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let agent = ureq::Agent::new_with_defaults();
    let start = || {
        let t = Instant::now();
        let child = std::process::Command::new(&a.ems)
            .args(["serve", "--data"])
            .arg(&dir)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start ems serve");
        let health = loop {
            if let Ok(mut r) = agent.get(&format!("{base}/_ems/health")).call() {
                break r.body_mut().read_to_string().unwrap();
            }
            assert!(t.elapsed() < Duration::from_secs(300), "server not ready");
            std::thread::sleep(Duration::from_millis(10));
        };
        (child, t.elapsed(), health)
    };
    // first start: from the rows; it writes the snapshot at once
    let (mut child, cold, health) = start();
    eprintln!(
        "loadgen: cold start (rows) in {:.2} s: {health}",
        cold.as_secs_f64()
    );
    let snapshot = dir.join(ems_server::SNAPSHOT_FILE);
    let t = Instant::now();
    while !snapshot.is_file() {
        assert!(
            t.elapsed() < Duration::from_secs(120),
            "no snapshot written"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    // restart: from the snapshot
    let (mut child, ready, health) = start();
    eprintln!(
        "loadgen: restart (snapshot) in {:.2} s: {health}",
        ready.as_secs_f64()
    );
    let msgs = Arc::new(messages());
    let auth = format!("Bearer {}", token());
    let run = |secs: u64| {
        let stop = Arc::new(AtomicBool::new(false));
        let handles: Vec<_> = (0..a.clients)
            .map(|c| {
                let (msgs, stop, auth, base) =
                    (msgs.clone(), stop.clone(), auth.clone(), base.clone());
                std::thread::spawn(move || {
                    let agent = ureq::Agent::config_builder()
                        .http_status_as_error(false)
                        .build()
                        .new_agent();
                    let url = format!("{base}/STU3/Events/1/$process-message");
                    let (mut lat, mut errors, mut i) = (Vec::new(), 0usize, c);
                    while !stop.load(Ordering::Relaxed) {
                        let (body, interaction) = &msgs[i % msgs.len()];
                        i += 1;
                        let t = Instant::now();
                        let r = agent
                            .post(&url)
                            .header("fromASID", "200000000001")
                            .header("toASID", "111111111111")
                            .header("Authorization", &auth)
                            .header("InteractionID", interaction)
                            .header("Content-Type", "application/fhir+xml")
                            .send(&body[..]);
                        match r {
                            Ok(mut resp) if resp.status() == 202 => {
                                let _ = resp.body_mut().read_to_vec();
                                lat.push(t.elapsed().as_micros() as u32)
                            }
                            _ => errors += 1,
                        }
                    }
                    (lat, errors)
                })
            })
            .collect();
        std::thread::sleep(Duration::from_secs(secs));
        stop.store(true, Ordering::Relaxed);
        let mut lat = Vec::new();
        let mut errors = 0;
        for h in handles {
            let (l, e) = h.join().unwrap();
            lat.extend(l);
            errors += e;
        }
        lat.sort_unstable();
        (lat, errors)
    };
    let _ = run(2); // warm-up
    let me = std::process::id();
    let (server0, threads0) = process_cpu(child.id());
    let io0 = process_io(child.id());
    let wal_file = dir.join("ems.sqlite3-wal");
    let wal0 = std::fs::metadata(&wal_file).map_or(0, |m| m.len());
    let (client0, _) = process_cpu(me);
    let (lat, errors) = run(a.seconds);
    let (server1, threads1) = process_cpu(child.id());
    let io1 = process_io(child.id());
    let wal1 = std::fs::metadata(&wal_file).map_or(0, |m| m.len());
    let (client1, _) = process_cpu(me);
    let _ = child.kill();
    let _ = child.wait();
    let rate = lat.len() as f64 / a.seconds as f64;

    let v = Validator::new(Mode::Publish);
    let (validate0, _) = process_cpu(me);
    let t = Instant::now();
    let mut k = 0usize;
    while t.elapsed() < Duration::from_secs(a.seconds.min(10)) {
        let (body, _) = &msgs[k % msgs.len()];
        assert!(v.validate_bytes(body, InputKind::Event).is_valid());
        k += 1;
    }
    let validate_rate = k as f64 / t.elapsed().as_secs_f64();
    let (validate1, _) = process_cpu(me);
    // microseconds of CPU per operation: user, system, total
    let per = |t0: [u64; 2], t1: [u64; 2], n: usize| {
        let us = |i: usize| t1[i].saturating_sub(t0[i]) as f64 * TICK_US / n.max(1) as f64;
        [us(0), us(1), us(0) + us(1)]
    };
    let server = per(server0, server1, lat.len());
    let client = per(client0, client1, lat.len());
    let validate = per(validate0, validate1, k);
    let by_thread = threads1
        .iter()
        .map(|(name, t1)| {
            let [u, s, _] = per(
                threads0.get(name).copied().unwrap_or([0; 2]),
                *t1,
                lat.len(),
            );
            format!(
                "{}:{{\"user\":{u:.1},\"sys\":{s:.1}}}",
                serde_json::Value::from(name.as_str())
            )
        })
        .collect::<Vec<_>>()
        .join(",");
    let io = |i: usize| io1[i].saturating_sub(io0[i]) as f64 / lat.len().max(1) as f64;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let cpu_bound_ratio = cores * validate[2] / (server[2] + client[2]).max(f64::MIN_POSITIVE);
    println!(
        "{{\"subscriptions\":{n},\"cold_start_s\":{:.2},\"restart_s\":{:.2},\"clients\":{},\"seconds\":{},\"publishes_per_s\":{rate:.0},\"p50_ms\":{:.2},\"p99_ms\":{:.2},\"max_ms\":{:.2},\"errors\":{errors},\"validate_bytes_per_s\":{validate_rate:.0},\"ratio\":{:.2},\"server_cpu_us_per_publish\":{:.1},\"server_user_us_per_publish\":{:.1},\"server_sys_us_per_publish\":{:.1},\"server_cpu_us_per_publish_by_thread\":{{{by_thread}}},\"client_cpu_us_per_publish\":{:.1},\"validate_cpu_us_per_call\":{:.2},\"server_write_call_bytes_per_publish\":{:.0},\"server_write_calls_per_publish\":{:.2},\"server_storage_write_bytes_per_publish\":{:.0},\"wal_bytes_before\":{wal0},\"wal_bytes_after\":{wal1},\"cores\":{cores},\"cpu_bound_ratio\":{cpu_bound_ratio:.2}}}",
        cold.as_secs_f64(),
        ready.as_secs_f64(),
        a.clients,
        a.seconds,
        percentile(&lat, 0.50),
        percentile(&lat, 0.99),
        percentile(&lat, 1.0),
        rate / validate_rate,
        server[2],
        server[0],
        server[1],
        client[2],
        validate[2],
        io(0),
        io(1),
        io(2),
    );
    let _ = std::fs::remove_dir_all(&dir);
}
