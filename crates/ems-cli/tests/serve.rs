//! `ems serve` and `ems audit` as processes: defaults, `--config`, a publish
//! over HTTP, and the audit printed from the data folder.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn ems() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ems"))
}

fn tempdir(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("ems-cli-serve-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Starts `ems serve ARGS` in `cwd`; returns the child and its first stderr line.
fn serve(cwd: &Path, args: &[&str]) -> (Child, String) {
    let mut child = ems()
        .current_dir(cwd)
        .arg("serve")
        .args(args)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    (child, line)
}

fn http(addr: &str, request: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.write_all(request).unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

fn token() -> String {
    // {"alg":"none"} . claims for ASID 200000000001 / RR8, scope patient/Bundle.write
    let b64 = |s: &str| {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let b = s.as_bytes();
        let mut out = String::new();
        for c in b.chunks(3) {
            let n = (c[0] as u32) << 16
                | (*c.get(1).unwrap_or(&0) as u32) << 8
                | *c.get(2).unwrap_or(&0) as u32;
            for i in 0..=c.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            }
        }
        out
    };
    let claims = r#"{"sub":"https://fhir.nhs.uk/Id/accredited-system|200000000001","scope":"patient/Bundle.write","requesting_system":"https://fhir.nhs.uk/Id/accredited-system|200000000001","requesting_organisation":"https://fhir.nhs.uk/Id/ods-organization-code|RR8"}"#;
    format!("{}.{}.", b64(r#"{"alg":"none"}"#), b64(claims))
}

#[test]
fn serve_with_no_options_uses_the_defaults() {
    let dir = tempdir("defaults");
    let (mut child, line) = serve(&dir, &[]);
    let _ = child.kill();
    let _ = child.wait();
    // either it serves on the default address or that address is taken by
    // another process on this machine: both name the default
    assert!(line.contains("127.0.0.1:8080"), "{line}");
    assert!(
        dir.join("ems-data/ems.sqlite3").is_file(),
        "./ems-data created"
    );
}

#[test]
fn config_file_publish_and_audit() {
    let dir = tempdir("config");
    std::fs::write(
        dir.join("ems.toml"),
        "listen = \"127.0.0.1:0\"\ndata = \"store\"\nauto-activate = true\n",
    )
    .unwrap();
    let (mut child, line) = serve(&dir, &["--config", "ems.toml"]);
    assert!(line.contains("serving NEMS on http://127.0.0.1:"), "{line}");
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap()
        .to_string();
    let health = http(
        &addr,
        b"GET /_ems/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert!(health.contains("\"status\":\"ok\""), "{health}");
    let body = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../examples/messages/vaccinations-1-new.xml"),
    )
    .unwrap();
    let mut req = format!(
        "POST /STU3/Events/1/$process-message HTTP/1.1\r\nHost: x\r\nConnection: close\r\nfromASID: 200000000001\r\ntoASID: 111111111111\r\nAuthorization: Bearer {}\r\nInteractionID: urn:nhs:names:services:events:Vaccinations.Write\r\nContent-Type: application/fhir+xml\r\nContent-Length: {}\r\n\r\n",
        token(),
        body.len()
    )
    .into_bytes();
    req.extend_from_slice(&body);
    let resp = http(&addr, &req);
    assert!(resp.starts_with("HTTP/1.1 202"), "{resp}");
    // SIGTERM: a clean stop (exit 0) that leaves a current snapshot
    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    assert_eq!(child.wait().unwrap().code(), Some(0));
    assert!(dir.join("store/matcher.snapshot").is_file());
    assert!(
        dir.join("store/ems.sqlite3").is_file(),
        "data folder from the config file"
    );
    let out = ems()
        .current_dir(&dir)
        .args(["audit", "--data", "store"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1, "{text}");
    assert_eq!(lines[0]["kind"], "publish");
    assert_eq!(lines[0]["status"], 202);
    assert_eq!(lines[0]["event"], "vaccinations-1");
    assert_eq!(
        lines[0]["payload"].as_str().unwrap().as_bytes(),
        &body[..],
        "payload as sent"
    );
    assert!(lines[0]["jwt"].as_str().unwrap().starts_with("Bearer "));
    // no store: usage error
    let out = ems()
        .current_dir(&dir)
        .args(["audit", "--data", "nope"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    // unknown config key: usage error
    std::fs::write(dir.join("bad.toml"), "no-such = 1\n").unwrap();
    let out = ems()
        .current_dir(&dir)
        .args(["serve", "--config", "bad.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such"));
}
