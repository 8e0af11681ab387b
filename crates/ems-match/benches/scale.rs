//! National scale: 10 million explicit + 100 000 generic subscriptions.
//! Prints resident memory per subscription, median match latency, events per
//! second on one core, amortised add/remove, snapshot size and load time.
//! Run with `cargo bench -p ems-match --bench scale` (set EMS_SCALE to change
//! the explicit count).

use ems_match::*;
use std::sync::Arc;
use std::time::Instant;

mod common;
use common::*;

/// Child mode: load a snapshot file in a fresh process and report the
/// resident memory the loaded matcher adds (no build-time fragmentation).
fn load_only(path: &str) {
    let bytes = std::fs::read(path).expect("snapshot file");
    let geo: Arc<dyn Geography> = Arc::new(geography());
    let rss0 = rss();
    let m = Matcher::from_snapshot(&bytes, geo).unwrap();
    let rss1 = rss();
    let explicit = m.len() - 100_000;
    println!(
        "resident memory after snapshot load (fresh process): {:.1} MiB = {:.1} bytes per subscription ({} subscriptions)",
        (rss1 - rss0) as f64 / 1048576.0,
        (rss1 - rss0) as f64 / m.len() as f64,
        m.len()
    );
    let _ = explicit;
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--list") {
        return;
    }
    if let Some(i) = args.iter().position(|a| a == "--load-only") {
        load_only(&args[i + 1]);
        return;
    }
    let n: usize = std::env::var("EMS_SCALE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000_000);
    let geo: Arc<dyn Geography> = Arc::new(geography());
    let nhs: Vec<NhsNumber> = NhsGen::new().take(n).collect();
    let codes = generic_codes();
    let rss0 = rss();
    let start = Instant::now();
    let mut m = Matcher::new(geo.clone());
    for (i, x) in nhs.iter().enumerate() {
        m.insert(&explicit(i, *x)).unwrap();
    }
    let t_explicit = start.elapsed();
    m.compact();
    let rss1 = rss();
    for i in 0..100_000 {
        m.insert(&generic(i, &codes)).unwrap();
    }
    m.compact();
    let rss2 = rss();
    println!("explicit subscriptions:      {n}");
    println!(
        "insert (build) time:         {:.2} s ({:.0} ns per insert, amortised)",
        t_explicit.as_secs_f64(),
        t_explicit.as_nanos() as f64 / n as f64
    );
    println!(
        "resident memory, explicit:   {:.1} MiB = {:.1} bytes per explicit subscription",
        (rss1 - rss0) as f64 / 1048576.0,
        (rss1.saturating_sub(rss0)) as f64 / n as f64
    );
    println!(
        "index heap estimate:         {:.1} bytes per subscription",
        m.heap_bytes() as f64 / m.len() as f64
    );
    println!(
        "resident memory, +100k generic: {:.1} MiB",
        (rss2 - rss1) as f64 / 1048576.0
    );

    // match latency: median of individually timed matches
    let events: Vec<MatchEvent> = (0..200_000)
        .map(|i| event(nhs[(i * 7919) % n], i * 31))
        .collect();
    let mut lat = Vec::with_capacity(events.len());
    let mut delivered = 0usize;
    for e in &events {
        let t0 = Instant::now();
        let d = m.match_event(e);
        lat.push(t0.elapsed().as_nanos() as u64);
        delivered += d.len();
    }
    lat.sort_unstable();
    println!(
        "match latency:               median {} ns, p99 {} ns ({} deliveries for {} events)",
        lat[lat.len() / 2],
        lat[lat.len() * 99 / 100],
        delivered,
        events.len()
    );
    let t0 = Instant::now();
    let mut total = 0usize;
    for e in &events {
        total += m.match_event(e).len();
    }
    let el = t0.elapsed();
    println!(
        "throughput (one core):       {:.0} events/s ({total})",
        events.len() as f64 / el.as_secs_f64()
    );
    // the same with one reused delivery buffer (match_event_into), as a router loop runs
    let mut buf = Vec::new();
    let mut lat2 = Vec::with_capacity(events.len());
    for e in &events {
        let t0 = Instant::now();
        m.match_event_into(e, &mut buf);
        lat2.push(t0.elapsed().as_nanos() as u64);
    }
    lat2.sort_unstable();
    let t0 = Instant::now();
    let mut total_into = 0usize;
    for e in &events {
        m.match_event_into(e, &mut buf);
        total_into += buf.len();
    }
    let el = t0.elapsed();
    assert_eq!(total, total_into);
    println!(
        "match_event_into (reused buffer): median {} ns, p99 {} ns, {:.0} events/s",
        lat2[lat2.len() / 2],
        lat2[lat2.len() * 99 / 100],
        events.len() as f64 / el.as_secs_f64()
    );

    // add/remove amortised
    let fresh: Vec<NhsNumber> = NhsGen::new().skip(n).take(1_000_000).collect();
    let subs: Vec<Subscription> = fresh
        .iter()
        .enumerate()
        .map(|(i, x)| explicit(n + i, *x))
        .collect();
    let t0 = Instant::now();
    for s in &subs {
        m.insert(s).unwrap();
    }
    let t_add = t0.elapsed();
    let t0 = Instant::now();
    for s in &subs {
        m.remove(&s.id);
    }
    let t_rm = t0.elapsed();
    println!(
        "add (1M online):             {:.0} ns amortised",
        t_add.as_nanos() as f64 / subs.len() as f64
    );
    println!(
        "remove (1M online):          {:.0} ns amortised",
        t_rm.as_nanos() as f64 / subs.len() as f64
    );

    // snapshot
    let t0 = Instant::now();
    let snap = m.snapshot();
    let t_snap = t0.elapsed();
    drop(m);
    let t0 = Instant::now();
    let back = Matcher::from_snapshot(&snap, geo).unwrap();
    let t_load = t0.elapsed();
    println!("snapshot:                    {:.1} MiB written in {:.2} s; loaded {} subscriptions in {:.2} s", snap.len() as f64 / 1048576.0, t_snap.as_secs_f64(), back.len(), t_load.as_secs_f64());
    let path = std::env::temp_dir().join(format!("ems-match-scale-{}.snap", std::process::id()));
    std::fs::write(&path, &snap).expect("write snapshot");
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .arg("--load-only")
        .arg(&path)
        .output()
        .expect("child");
    print!("{}", String::from_utf8_lossy(&out.stdout));
    let _ = std::fs::remove_file(&path);
    let t0 = Instant::now();
    let mut total2 = 0usize;
    for e in &events {
        total2 += back.match_event(e).len();
    }
    assert_eq!(
        total, total2,
        "restored matcher must give the same deliveries"
    );
    println!(
        "restored matcher:            same deliveries ({:.0} events/s)",
        events.len() as f64 / t0.elapsed().as_secs_f64()
    );
}
