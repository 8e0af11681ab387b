//! Retries with backoff on 429 and 5xx, and typed errors, against a local
//! stub HTTP server (no sandbox needed).

use ems_mesh::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Serves the canned responses in order, one per connection; records the
/// Authorization headers it saw.
fn stub(responses: Vec<&'static str>) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    std::thread::spawn(move || {
        for resp in responses {
            let Ok((mut s, _)) = listener.accept() else {
                return;
            };
            let mut r = BufReader::new(s.try_clone().unwrap());
            let mut len = 0usize;
            loop {
                let mut line = String::new();
                if r.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                let l = line.to_ascii_lowercase();
                if let Some(v) = l.strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
                if l.starts_with("authorization:") {
                    seen2.lock().unwrap().push(line.trim().to_string());
                }
            }
            let mut body = vec![0; len];
            let _ = r.read_exact(&mut body);
            let _ = s.write_all(resp.as_bytes());
        }
    });
    (url, seen)
}

fn client(url: &str) -> MeshClient {
    let mut cfg = MeshConfig::new(url, "X26ABC1", "password", b"TestKey".to_vec());
    cfg.backoff = Duration::from_millis(1);
    cfg.max_retries = 3;
    MeshClient::new(cfg).unwrap()
}

const OK_INBOX: &str = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 24\r\nconnection: close\r\n\r\n{\"messages\":[\"A1\",\"B2\"]}";
const BUSY: &str =
    "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";
const SLOW_DOWN: &str = "HTTP/1.1 429 Too Many Requests\r\nretry-after: 0\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";
const FORBIDDEN: &str = "HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";
const GONE: &str = "HTTP/1.1 410 Gone\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";

#[test]
fn retries_429_and_5xx_then_succeeds() {
    let (url, seen) = stub(vec![BUSY, SLOW_DOWN, OK_INBOX]);
    let ids = client(&url).inbox().unwrap();
    assert_eq!(ids, vec!["A1", "B2"]);
    let auth = seen.lock().unwrap().clone();
    assert_eq!(auth.len(), 3, "two retries");
    // every attempt has a fresh nonce count
    let counts: Vec<&str> = auth.iter().map(|a| a.split(':').nth(3).unwrap()).collect();
    assert_eq!(counts, vec!["0", "1", "2"]);
    assert!(auth[0].contains("NHSMESH X26ABC1:"));
}

#[test]
fn gives_up_after_max_retries() {
    let (url, _) = stub(vec![BUSY, BUSY, BUSY, BUSY]);
    match client(&url).inbox() {
        Err(MeshError::Status { status: 503, .. }) => {}
        other => panic!("expected a 503 after retries, got {other:?}"),
    }
}

#[test]
fn typed_errors() {
    let (url, _) = stub(vec![FORBIDDEN]);
    assert!(matches!(client(&url).inbox(), Err(MeshError::Auth(m)) if m == "X26ABC1"));
    let (url, _) = stub(vec![GONE]);
    assert!(matches!(
        client(&url).acknowledge("A1"),
        Err(MeshError::NotFound(_))
    ));
    // nothing listening: transport error after retries
    let dead = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", dead.local_addr().unwrap());
    drop(dead);
    assert!(matches!(client(&url).inbox(), Err(MeshError::Transport(_))));
    // unreadable client certificate
    let mut cfg = MeshConfig::new("https://example.invalid", "X26ABC1", "p", b"k".to_vec());
    cfg.tls.client_cert_pem = Some(b"not a cert".to_vec());
    cfg.tls.client_key_pem = Some(b"not a key".to_vec());
    assert!(matches!(MeshClient::new(cfg), Err(MeshError::Config(_))));
}

#[test]
fn auth_header_matches_the_sandbox_algorithm() {
    // HMAC-SHA256(key, "mailbox:nonce:count:password:timestamp"), hex
    let h = auth_header(
        b"TestKey",
        "X26ABC1",
        "password",
        "3f2f4a4e-1c0b-4b6b-9c49-5f3f3a7e4d21",
        7,
        "202401011200",
    );
    let (_, digest) = h.rsplit_once(':').unwrap();
    assert_eq!(digest.len(), 64);
    assert!(digest.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_ne!(
        h,
        auth_header(
            b"OtherKey",
            "X26ABC1",
            "password",
            "3f2f4a4e-1c0b-4b6b-9c49-5f3f3a7e4d21",
            7,
            "202401011200"
        )
    );
}
