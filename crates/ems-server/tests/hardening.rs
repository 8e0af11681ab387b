//! Findings of the assurance / attack pass on the server (issue 15), one
//! regression test each, named after its finding: hostile headers, slow and
//! oversized bodies, undecodable and traversing ids, deep XML, the audit of
//! every call, concurrent publishes. Each rejection is a Spine
//! OperationOutcome with its status, and nothing is stored or delivered.

mod common;

use common::*;
use ems_server::pipeline::AuditKind;
use ems_server::ServerConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The OperationOutcome text (its diagnostics carry the rule ids).
fn rules(r: &Reply) -> String {
    r.text()
}

/// Serves `app` on a loopback port (plain HTTP, as `ems serve`).
async fn serve(app: axum::Router) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(ems_server::listen::serve_plain(
        listener,
        app,
        ems_server::listen::HEADER_READ_TIMEOUT,
    ));
    addr
}

/// The status line and body of a raw HTTP/1.1 response.
async fn read_response(tcp: &mut TcpStream) -> String {
    let mut response = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        tcp.read_to_end(&mut response),
    )
    .await
    .expect("the server answered and closed");
    String::from_utf8_lossy(&response).into_owned()
}

fn raw_head(path: &str, extra: &str) -> String {
    let i = interaction("vaccinations-1");
    format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nfromASID: {ASID}\r\ntoASID: 111111111111\r\n\
         InteractionID: {i}\r\nAuthorization: Bearer {}\r\nContent-Type: application/fhir+xml\r\n{extra}\r\n",
        token(ASID)
    )
}

#[tokio::test]
async fn http_body_timeout_a_slow_body_is_answered_and_not_waited_for_forever() {
    let dir = tempdir();
    let cfg = ServerConfig {
        body_timeout_ms: Some(300),
        ..config(&dir)
    };
    let (s, app) = open(&dir, &cfg);
    let addr = serve(app).await;
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    // slowloris: announce 100,000 bytes, send ten, then nothing
    let head = raw_head(
        "/STU3/Events/1/$process-message",
        "Content-Length: 100000\r\n",
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    tcp.write_all(b"<Bundle xm").await.unwrap();
    let started = std::time::Instant::now();
    let text = read_response(&mut tcp).await;
    assert!(text.starts_with("HTTP/1.1 400"), "{text}");
    assert!(text.contains("HTTP-BODY-TIMEOUT"), "{text}");
    assert!(text.contains("INVALID_REQUEST_MESSAGE"), "{text}");
    assert!(started.elapsed() < std::time::Duration::from_secs(15));
    assert_eq!(stored(&s).0, 0, "nothing stored");
    let audit = s.state().log.audit_records(0, 10).unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].entry.status, 400);
}

#[tokio::test]
async fn input_too_large_a_chunked_body_over_3_mb_is_cut_off() {
    let dir = tempdir();
    let (s, app) = open(&dir, &config(&dir));
    let addr = serve(app).await;
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let head = raw_head(
        "/STU3/Events/1/$process-message",
        "Transfer-Encoding: chunked\r\n",
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    let chunk = vec![b' '; 64 * 1024];
    let mut sent = 0usize;
    while sent <= ems_server::http::MAX_BODY + chunk.len() {
        let frame = format!("{:x}\r\n", chunk.len());
        // the server may answer and close before the whole body is sent
        if tcp.write_all(frame.as_bytes()).await.is_err()
            || tcp.write_all(&chunk).await.is_err()
            || tcp.write_all(b"\r\n").await.is_err()
        {
            break;
        }
        sent += chunk.len();
    }
    let _ = tcp.write_all(b"0\r\n\r\n").await;
    let text = read_response(&mut tcp).await;
    assert!(text.starts_with("HTTP/1.1 400"), "{text}");
    assert!(text.contains("INPUT-TOO-LARGE"), "{text}");
    assert_eq!(stored(&s).0, 0);
}

#[tokio::test]
async fn http_header_repeated_security_headers_sent_twice_are_rejected() {
    let dir = tempdir();
    let (s, app) = open(&dir, &config(&dir));
    let _ = subscribed(&app).await;
    let before = stored(&s);
    let i = interaction("vaccinations-1");
    for (name, second) in [
        ("fromASID", "200000000002".to_string()),
        ("toASID", "222222222222".to_string()),
        ("InteractionID", i.clone()),
        ("Authorization", format!("Bearer {}", token("200000000002"))),
        ("Content-Type", "application/fhir+xml".to_string()),
    ] {
        let mut r = request(
            "POST",
            "/STU3/Events/1/$process-message",
            &[
                ("InteractionID", i.as_str()),
                ("Content-Type", "application/fhir+xml"),
            ],
            message("vaccinations-1-new"),
        );
        r.headers_mut()
            .append(name, second.as_str().try_into().unwrap());
        let reply = send(&app, r).await;
        assert_eq!(reply.status, 400, "{name}: {}", reply.text());
        assert_eq!(reply.spine_codes(), ["MISSING_OR_INVALID_HEADER"], "{name}");
        assert!(rules(&reply).contains("HTTP-HEADER-REPEATED"), "{name}");
    }
    assert_eq!(stored(&s), before, "nothing stored or delivered");
    // the subscription API too
    let mut r = request(
        "GET",
        "/STU3/Subscription/abc",
        &[("InteractionID", SUB_GET)],
        Vec::new(),
    );
    r.headers_mut()
        .append("fromASID", "200000000002".try_into().unwrap());
    let reply = send(&app, r).await;
    assert_eq!(reply.status, 400, "{}", reply.text());
    assert!(rules(&reply).contains("HTTP-HEADER-REPEATED"));
}

#[tokio::test]
async fn hostile_headers_non_utf8_and_huge_values_get_an_operation_outcome() {
    let dir = tempdir();
    let (s, app) = open(&dir, &config(&dir));
    let i = interaction("vaccinations-1");
    let huge = "9".repeat(64 * 1024);
    let cases: Vec<(&str, axum::http::HeaderValue)> = vec![
        (
            "fromASID",
            axum::http::HeaderValue::from_bytes(b"\xff\xfe2000").unwrap(),
        ),
        (
            "Authorization",
            axum::http::HeaderValue::from_bytes(b"Bearer \xc3\x28").unwrap(),
        ),
        (
            "Content-Type",
            axum::http::HeaderValue::from_bytes(b"application/fhir+xml\xff").unwrap(),
        ),
        ("fromASID", huge.as_str().try_into().unwrap()),
        (
            "Authorization",
            format!("Bearer {huge}.{huge}.").try_into().unwrap(),
        ),
    ];
    for (name, value) in cases {
        let mut r = request(
            "POST",
            "/STU3/Events/1/$process-message",
            &[
                ("InteractionID", i.as_str()),
                ("Content-Type", "application/fhir+xml"),
            ],
            message("vaccinations-1-new"),
        );
        r.headers_mut().insert(name, value);
        let reply = send(&app, r).await;
        assert!(
            (400..500).contains(&reply.status.as_u16()),
            "{name}: {}",
            reply.status
        );
        assert_eq!(reply.spine_codes().len(), 1, "{name}");
    }
    assert_eq!(stored(&s).0, 0);
}

#[tokio::test]
async fn sub_id_undecodable_and_traversing_ids_answer_invalid_identifier_value() {
    let dir = tempdir();
    let (s, app) = open(&dir, &config(&dir));
    let _ = subscribed(&app).await;
    for (method, interaction) in [("GET", SUB_GET), ("DELETE", SUB_DELETE)] {
        for id in [
            "%FF%FE",
            "%C3%28",
            "..%2F..%2Fetc%2Fpasswd",
            "abc%00def",
            &"a".repeat(65),
        ] {
            let uri = format!("/STU3/Subscription/{id}");
            let reply = send(
                &app,
                request(method, &uri, &[("InteractionID", interaction)], Vec::new()),
            )
            .await;
            assert_eq!(reply.status, 400, "{method} {id}: {}", reply.text());
            assert_eq!(
                reply.spine_codes(),
                ["INVALID_IDENTIFIER_VALUE"],
                "{method} {id}"
            );
            assert!(rules(&reply).contains("SUB-ID"));
        }
    }
    // `..` is a valid logical id ([A-Za-z0-9-.]); it names no row of the
    // store (SQLite, no file per id), so it is simply not found
    let reply = send(
        &app,
        request(
            "GET",
            "/STU3/Subscription/%2E%2E",
            &[("InteractionID", SUB_GET)],
            Vec::new(),
        ),
    )
    .await;
    assert_eq!(reply.status, 404, "{}", reply.text());
    assert_eq!(stored(&s).2, 1, "the subscription is still there");
}

#[tokio::test]
async fn input_depth_deep_xml_is_rejected_without_a_panic() {
    let dir = tempdir();
    let (s, app) = open(&dir, &config(&dir));
    let n = 100_000;
    let mut body = b"<Bundle xmlns=\"http://hl7.org/fhir\"><meta>".to_vec();
    // extension contains extension: a recursion the reader must bound
    body.extend(std::iter::repeat_n(b"<extension url=\"u\">".as_slice(), n).flatten());
    body.extend(std::iter::repeat_n(b"</extension>".as_slice(), n).flatten());
    body.extend_from_slice(b"</meta></Bundle>");
    let reply = publish(&app, "vaccinations-1", body, &[]).await;
    assert_eq!(reply.status, 400, "{}", reply.text());
    assert!(reply.text().contains("INPUT-DEPTH"), "{}", reply.text());
    // INPUT-DEPTH answers as its rule table row says
    assert_eq!(reply.spine_codes()[0], "INVALID_REQUEST_MESSAGE");
    assert_eq!(stored(&s).0, 0);
}

#[tokio::test]
async fn format_injection_unknown_format_values_fall_back_and_never_break_the_response() {
    let dir = tempdir();
    let (_s, app) = open(&dir, &config(&dir));
    for q in [
        "_format=%3Cscript%3E",
        "_format=json%0d%0aX-Injected:%201",
        "_format=",
        "_format=xml&_format=json",
        "_format=%FF",
    ] {
        let uri = format!("/STU3/Subscription/nope?{q}");
        let reply = send(
            &app,
            request("GET", &uri, &[("InteractionID", SUB_GET)], Vec::new()),
        )
        .await;
        assert_eq!(reply.status, 404, "{q}: {}", reply.text());
        assert!(reply.headers.get("x-injected").is_none());
        assert_eq!(reply.spine_codes(), ["NO_RECORD_FOUND"], "{q}");
    }
}

#[tokio::test]
async fn audit_rejected_every_call_is_audited_with_payload_jwt_and_response() {
    let dir = tempdir();
    let (s, app) = open(&dir, &config(&dir));
    let log = s.state().log.clone();
    // an unknown path, a withdrawn search, an update, an undefined method
    let calls = [
        ("POST", "/STU3/Nothing/here", 400, "BAD_REQUEST"),
        (
            "GET",
            "/STU3/Subscription?status=active",
            501,
            "NOT_IMPLEMENTED",
        ),
        ("PUT", "/STU3/Subscription/abc", 501, "NOT_IMPLEMENTED"),
        ("PATCH", "/STU3/Subscription/abc", 501, "NOT_IMPLEMENTED"),
    ];
    for (method, uri, status, code) in calls {
        let reply = send(&app, request(method, uri, &[], b"<x/>".to_vec())).await;
        assert_eq!(reply.status, status, "{method} {uri}");
        assert_eq!(reply.spine_codes(), [code]);
    }
    // a publish without a JWT is audited with the message it carried
    let denied = publish(
        &app,
        "vaccinations-1",
        message("vaccinations-1-new"),
        &[("Authorization", "")],
    )
    .await;
    assert_eq!(denied.status, 400);
    let audit = log.audit_records(0, 100).unwrap();
    assert_eq!(audit.len(), calls.len() + 1);
    for (a, (method, uri, status, _)) in audit.iter().zip(calls) {
        assert_eq!(a.entry.kind, AuditKind::Rejected);
        assert_eq!(a.entry.status, status);
        assert_eq!(a.entry.record["method"], method);
        assert_eq!(a.entry.record["path"], uri.split('?').next().unwrap());
        assert!(a.entry.record["jwt"]
            .as_str()
            .unwrap()
            .starts_with("Bearer "));
        assert!(a.entry.record["headers"].as_array().unwrap().len() >= 3);
        assert!(a.entry.record["response"]["body"]
            .as_str()
            .unwrap()
            .contains("OperationOutcome"));
        assert_eq!(a.entry.payload.as_deref(), Some(b"<x/>".as_slice()));
    }
    let last = &audit[calls.len()].entry;
    assert_eq!(last.kind, AuditKind::Publish);
    assert_eq!(
        last.payload.as_deref(),
        Some(message("vaccinations-1-new").as_slice())
    );
    // and the kinds read back as written (not as `subscription-activate`)
    for k in [AuditKind::Rejected, AuditKind::Publish] {
        assert_eq!(AuditKind::from_name(k.name()), Some(k));
    }
}

#[tokio::test]
async fn concurrent_publishes_are_all_committed_once() {
    let dir = tempdir();
    let (s, app) = open(&dir, &config(&dir));
    let _ = subscribed(&app).await;
    let n = 64;
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move {
                publish(&app, "vaccinations-1", message("vaccinations-1-new"), &[]).await
            })
        })
        .collect();
    for t in tasks {
        let r = t.await.unwrap();
        assert_eq!(r.status, 202, "{}", r.text());
    }
    let (messages, rows, _) = stored(&s);
    assert_eq!(messages, n);
    assert_eq!(rows, n, "one outbox row per accepted message");
}

fn location_of(r: &Reply) -> String {
    r.headers["location"].to_str().unwrap().to_string()
}

#[tokio::test]
async fn location_host_a_hostile_host_does_not_redirect_and_tls_says_https() {
    let dir = tempdir();
    let (_s, app) = open(&dir, &config(&dir));
    let body = |mailbox: &str| subscription_xml(&explicit("vaccinations-1"), mailbox, "RR8");
    let r = subscribe(&app, body("X26ABC1"), &[("Host", "nems.example:8080")]).await;
    assert_eq!(r.status, 201);
    assert!(location_of(&r).starts_with("http://nems.example:8080/STU3/Subscription/"));
    for (i, host) in ["evil.example/phish?x=", "user@evil.example", "a b"]
        .into_iter()
        .enumerate()
    {
        let r = subscribe(&app, body(&format!("X26ABD{i}")), &[("Host", host)]).await;
        assert_eq!(r.status, 201, "{host}: {}", r.text());
        assert!(
            location_of(&r).starts_with("http://localhost/STU3/Subscription/"),
            "{host}: {}",
            location_of(&r)
        );
    }
    // over TLS (the extension tls::serve puts on every request)
    let mut req = request(
        "POST",
        "/STU3/Subscription",
        &[
            ("InteractionID", SUB_POST),
            ("Content-Type", "application/fhir+xml"),
            ("Host", "nems.example"),
        ],
        body("X26ABE1"),
    );
    req.extensions_mut()
        .insert(ems_server::tls::ClientCertName(None));
    let r = send(&app, req).await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert!(location_of(&r).starts_with("https://nems.example/STU3/Subscription/"));
}

#[tokio::test]
async fn accept_q0_a_refused_media_type_is_not_chosen() {
    let dir = tempdir();
    let (_s, app) = open(&dir, &config(&dir));
    let get = |accept: &'static str| {
        request(
            "GET",
            "/STU3/Subscription/nope",
            &[("InteractionID", SUB_GET), ("Accept", accept)],
            Vec::new(),
        )
    };
    for (accept, ct) in [
        ("application/fhir+json;q=0, application/fhir+xml", "xml"),
        ("application/fhir+xml;q=0, application/fhir+json", "json"),
        ("application/fhir+json; charset=UTF-8", "json"),
        ("text/html, application/fhir+json;q=0.5", "json"),
    ] {
        let r = send(&app, get(accept)).await;
        assert_eq!(r.status, 404);
        let got = r.headers["content-type"].to_str().unwrap();
        assert!(got.contains(ct), "{accept}: {got}");
        assert_eq!(r.spine_codes(), ["NO_RECORD_FOUND"]);
    }
}

#[tokio::test]
async fn delete_with_pending_deliveries_keeps_the_matched_rows_and_stops_new_matches() {
    let dir = tempdir();
    let (s, app) = open(&dir, &config(&dir));
    let id = subscribed(&app).await;
    let p = publish(&app, "vaccinations-1", message("vaccinations-1-new"), &[]).await;
    assert_eq!(p.status, 202);
    assert_eq!(stored(&s), (1, 1, 1), "one pending outbox row (no MESH)");
    let d = on_subscription(&app, "DELETE", &id, &[]).await;
    assert_eq!(d.status, 200, "{}", d.text());
    // the row matched while the subscription was in force stays to be delivered
    let rows = s.state().log.deliveries(0, 10).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].state.name(), "pending");
    // a message published after the delete matches nothing
    let p = publish(&app, "vaccinations-1", message("vaccinations-1-new"), &[]).await;
    assert_eq!(p.status, 202);
    assert_eq!(stored(&s), (2, 1, 0));
}

#[tokio::test]
async fn header_read_timeout_a_slow_request_head_is_cut_off_over_plain_http() {
    let dir = tempdir();
    let (_s, app) = open(&dir, &config(&dir));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(ems_server::listen::serve_plain(
        listener,
        app.clone(),
        std::time::Duration::from_millis(300),
    ));
    // slowloris on the head: a request line and one header, then nothing
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(b"POST /STU3/Events/1/$process-message HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let _ = read_response(&mut tcp).await;
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    // the listener still serves whole requests, without a TLS marker
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(b"GET /nothing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let text = read_response(&mut tcp).await;
    assert!(text.starts_with("HTTP/1.1 400"), "{text}");
    assert!(text.contains("BAD_REQUEST"), "{text}");
}

#[tokio::test]
async fn http_query_admin_api_bad_parameters_and_ids_get_an_operation_outcome() {
    let dir = tempdir();
    let (_s, app) = open(&dir, &config(&dir));
    for uri in [
        "/_ems/audit?after=abc",
        "/_ems/deliveries?limit=-1",
        "/_ems/deliveries?after=99999999999999999999999",
    ] {
        let r = send(&app, request("GET", uri, &[], Vec::new())).await;
        assert_eq!(r.status, 400, "{uri}: {}", r.text());
        assert_eq!(r.spine_codes(), ["BAD_REQUEST"], "{uri}");
        assert!(r.text().contains("HTTP-QUERY"));
    }
    let r = send(
        &app,
        request(
            "POST",
            "/_ems/subscriptions/%FF%FE/activate",
            &[],
            Vec::new(),
        ),
    )
    .await;
    assert_eq!(r.status, 404, "{}", r.text());
    assert_eq!(r.spine_codes(), ["NO_RECORD_FOUND"]);
}

#[tokio::test]
async fn http_body_format_a_body_in_the_other_format_than_its_content_type_is_refused() {
    let dir = tempdir();
    let (s, app) = open(&dir, &config(&dir));
    let xml = subscription_xml(&explicit("vaccinations-1"), "X26ABC1", "RR8");
    let json = {
        let p = ems::stu3::from_xml(&xml).unwrap();
        ems::stu3::to_json(&p.resource).into_bytes()
    };
    for (ct, body) in [
        ("application/fhir+json", xml.clone()),
        ("application/json+fhir;charset=utf-8", xml.clone()),
        ("application/fhir+xml", json.clone()),
        ("", json.clone()),
    ] {
        let r = subscribe(&app, body, &[("Content-Type", ct)]).await;
        assert_eq!(r.status, 400, "{ct}: {}", r.text());
        assert_eq!(r.spine_codes(), ["MESSAGE_NOT_WELL_FORMED"], "{ct}");
        assert!(r.text().contains("HTTP-BODY-FORMAT"), "{ct}");
    }
    assert_eq!(stored(&s).2, 0, "nothing stored");
    // each in its own format is accepted
    let r = subscribe(&app, json, &[("Content-Type", "application/fhir+json")]).await;
    assert_eq!(r.status, 201, "{}", r.text());
}

#[tokio::test]
async fn mailbox_case_one_mesh_mailbox_however_spelled_is_one_duplicate_key_and_one_copy() {
    let dir = tempdir();
    let (s, app) = open(&dir, &config(&dir));
    let criteria = explicit("vaccinations-1");
    let r = subscribe(&app, subscription_xml(&criteria, "X26ABC1", "RR8"), &[]).await;
    assert_eq!(r.status, 201);
    // the same subscription with the mailbox in lower case is a duplicate
    let r = subscribe(&app, subscription_xml(&criteria, "x26abc1", "RR8"), &[]).await;
    assert_eq!(r.status, 422, "{}", r.text());
    assert_eq!(r.spine_codes(), ["DUPLICATE_REJECTED"]);
    // another subscription for the same mailbox, spelled otherwise, that
    // matches the same message: still one copy to that mailbox (7.2)
    let other = criteria.replace("type=message&", "type=message&Patient.age=gt1&");
    let r = subscribe(&app, subscription_xml(&other, "x26Abc1", "RR8"), &[]).await;
    assert_eq!(r.status, 201, "{}", r.text());
    let p = publish(&app, "vaccinations-1", message("vaccinations-1-new"), &[]).await;
    assert_eq!(p.status, 202);
    let rows = s.state().log.deliveries(0, 10).unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].mailbox, "X26ABC1");
    assert_eq!(rows[0].subscriptions.split(',').count(), 2);
}

#[test]
fn mailbox_case_the_registry_finds_a_mailbox_owner_however_spelled() {
    let r =
        ems_server::registry::Registry::from_toml_str("[mailbox]\nX26ABC1 = \"RR8\"\n").unwrap();
    assert_eq!(r.mailbox_owner("X26ABC1"), Some("RR8"));
    assert_eq!(r.mailbox_owner("x26abc1"), Some("RR8"));
    assert_eq!(r.mailbox_owner("X26ABC2"), None);
}

/// An unsigned JWT for `asid` speaking for organisation `ods`.
fn token_for(asid: &str, ods: &str) -> String {
    use base64::Engine;
    let b64 = |v: serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(&v).unwrap())
    };
    let claims = serde_json::json!({
        "sub": format!("https://fhir.nhs.uk/Id/accredited-system|{asid}"),
        "scope": "patient/Bundle.write patient/Subscription.read patient/Subscription.write",
        "requesting_system": format!("https://fhir.nhs.uk/Id/accredited-system|{asid}"),
        "requesting_organisation": format!("https://fhir.nhs.uk/Id/ods-organization-code|{ods}"),
    });
    format!(
        "{}.{}.",
        b64(serde_json::json!({"alg": "none"})),
        b64(claims)
    )
}

#[tokio::test]
async fn sub_owner_ods_codes_compare_ignoring_case_as_on_create() {
    let dir = tempdir();
    let (_s, app) = open(&dir, &config(&dir));
    let id = subscribed(&app).await;
    let other = "200000000002";
    let read = |ods: &str| {
        request(
            "GET",
            &format!("/STU3/Subscription/{id}"),
            &[
                ("InteractionID", SUB_GET),
                ("fromASID", other),
                (
                    "Authorization",
                    &format!("Bearer {}", token_for(other, ods)),
                ),
            ],
            Vec::new(),
        )
    };
    // another system of the same organisation reads it, however the JWT
    // spells the ODS code; a system of another organisation does not
    assert_eq!(send(&app, read("RR8")).await.status, 200);
    let r = send(&app, read("rr8")).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = send(&app, read("B82005")).await;
    assert_eq!(r.status, 403, "{}", r.text());
}

/// Sends `bytes` on a new connection to `addr` (from another task, so a
/// server that answers before reading everything is still heard) and returns
/// the response as [`Reply`] (an empty status-0 reply when the server closed
/// without answering).
async fn exchange(addr: std::net::SocketAddr, bytes: Vec<u8>) -> Reply {
    let (mut r, mut w) = TcpStream::connect(addr).await.unwrap().into_split();
    tokio::spawn(async move {
        // write errors are expected once the server refused the head
        let _ = w.write_all(&bytes).await;
        // keep the write half open: a half-closed request is not the test
        tokio::time::sleep(std::time::Duration::from_secs(30)).await;
        drop(w);
    });
    let mut response = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        r.read_to_end(&mut response),
    )
    .await
    .expect("the server answered and closed");
    parse_response(&response)
}

/// A raw HTTP/1.1 response as a [`Reply`] (status 0: no response at all).
fn parse_response(raw: &[u8]) -> Reply {
    let at = raw.windows(4).position(|w| w == b"\r\n\r\n");
    let (head, body) = match at {
        Some(at) => (&raw[..at], raw[at + 4..].to_vec()),
        None => (raw, Vec::new()),
    };
    let head = String::from_utf8_lossy(head);
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse::<u16>().ok())
        .map(|s| axum::http::StatusCode::from_u16(s).unwrap());
    let mut headers = axum::http::HeaderMap::new();
    for line in lines {
        if let Some((k, v)) = line.split_once(": ") {
            headers.append(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.try_into().unwrap(),
            );
        }
    }
    Reply {
        status: status.unwrap_or(axum::http::StatusCode::from_u16(999).unwrap()),
        headers,
        body,
    }
}

/// A whole publish request with `extra` header lines, as bytes.
fn raw_publish(target: &str, extra: &str) -> Vec<u8> {
    let body = message("vaccinations-1-new");
    let mut r = raw_head(
        target,
        &format!("Content-Length: {}\r\n{extra}", body.len()),
    )
    .into_bytes();
    r.extend_from_slice(&body);
    r
}

/// `n` header field lines `X-Filler-{i}: ` + `value_len` bytes.
fn filler(n: usize, value_len: usize) -> String {
    (0..n)
        .map(|i| format!("X-Filler-{i}: {}\r\n", "v".repeat(value_len)))
        .collect()
}

/// Asserts `reply` is `status` with a Spine OperationOutcome naming `rule`.
/// Publishes with each case's extra header lines and asserts the 431
/// OperationOutcome (`HTTP-HEAD-TOO-LARGE`) for every one.
async fn publishes_get_431(addr: std::net::SocketAddr, cases: &[(&str, String)]) {
    for (case, extra) in cases {
        let reply = exchange(addr, raw_publish("/STU3/Events/1/$process-message", extra)).await;
        assert_refused(
            &reply,
            431,
            "MISSING_OR_INVALID_HEADER",
            "HTTP-HEAD-TOO-LARGE",
            case,
        );
    }
}

fn assert_refused(reply: &Reply, status: u16, code: &str, rule: &str, case: &str) {
    assert_eq!(reply.status, status, "{case}: {}", reply.text());
    assert_eq!(reply.spine_codes(), [code], "{case}");
    assert!(rules(reply).contains(rule), "{case}: {}", reply.text());
    assert!(
        reply.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/fhir+xml"),
        "{case}"
    );
}

/// A server with the example subscription (so a wrongly accepted message
/// would leave an outbox row), listening on a loopback port.
async fn serve_subscribed() -> (ems_server::Server, std::net::SocketAddr) {
    let dir = tempdir();
    let (s, app) = open(&dir, &config(&dir));
    let _ = subscribed(&app).await;
    let addr = serve(app).await;
    (s, addr)
}

#[tokio::test]
async fn http_head_too_large_oversized_heads_get_431_with_an_operation_outcome() {
    use ems_server::head::{MAX_HEAD, MAX_HEADER_FIELD, MAX_HEADER_FIELDS};
    use ems_server::head::{TRANSPORT_MAX_BUF, TRANSPORT_MAX_HEADERS};
    let (s, addr) = serve_subscribed().await;
    let before = stored(&s);
    let audited = s.state().log.audit_records(0, 100).unwrap().len();
    // the limits themselves are accepted
    let fits = [
        filler(MAX_HEADER_FIELDS - 10, 8),
        filler(1, MAX_HEADER_FIELD - "X-Filler-0".len() - 4),
    ];
    for extra in &fits {
        let reply = exchange(addr, raw_publish("/STU3/Events/1/$process-message", extra)).await;
        assert_eq!(reply.status, 202, "{}", reply.text());
    }
    let accepted = stored(&s);
    assert_eq!(accepted.0, before.0 + 2);
    // refused by the server's own limits: audited as rejected
    let refused = [
        ("too many headers", filler(MAX_HEADER_FIELDS + 50, 8)),
        ("one huge header", filler(1, MAX_HEADER_FIELD)),
        (
            "head too large",
            filler(MAX_HEAD / (MAX_HEADER_FIELD / 2) + 1, MAX_HEADER_FIELD / 2),
        ),
    ];
    publishes_get_431(addr, &refused).await;
    let audit = s.state().log.audit_records(0, 100).unwrap();
    let rejected: Vec<_> = audit[audited..]
        .iter()
        .filter(|a| a.entry.kind == AuditKind::Rejected)
        .collect();
    assert_eq!(rejected.len(), refused.len());
    for a in &rejected {
        assert_eq!(a.entry.status, 431);
        assert_eq!(a.entry.record["path"], "/STU3/Events/1/$process-message");
        assert!(a.entry.record["response"]["body"]
            .as_str()
            .unwrap()
            .contains("HTTP-HEAD-TOO-LARGE"));
    }
    // beyond hyper's own limits: refused by the transport, still with an
    // OperationOutcome (not audited: the head was never parsed)
    let transport = [
        (
            "more headers than hyper reads",
            filler(TRANSPORT_MAX_HEADERS + 1, 1),
        ),
        (
            "a head larger than hyper's buffer",
            filler(4 * TRANSPORT_MAX_BUF / 8000, 8000),
        ),
    ];
    let audited = s.state().log.audit_records(0, 100).unwrap().len();
    publishes_get_431(addr, &transport).await;
    assert_eq!(s.state().log.audit_records(0, 100).unwrap().len(), audited);
    assert_eq!(stored(&s), accepted, "nothing stored or delivered");
    // the connection that follows is served as usual
    let reply = exchange(addr, raw_publish("/STU3/Events/1/$process-message", "")).await;
    assert_eq!(reply.status, 202, "{}", reply.text());
}

#[tokio::test]
async fn http_head_syntax_unparseable_heads_get_their_status_with_an_operation_outcome() {
    let (s, addr) = serve_subscribed().await;
    let before = stored(&s);
    let audited = s.state().log.audit_records(0, 100).unwrap().len();
    let publish = |target: &str, extra: &str| raw_publish(target, extra);
    let replace = |bytes: Vec<u8>, from: &[u8], to: &[u8]| {
        let at = bytes.windows(from.len()).position(|w| w == from).unwrap();
        [&bytes[..at], to, &bytes[at + from.len()..]].concat()
    };
    let ok = publish("/STU3/Events/1/$process-message", "");
    // heads hyper cannot parse: the publish request with one piece replaced
    let syntax: [(&str, &[u8], &[u8]); 7] = [
        ("a control byte in a header name", b"Host:", b"Ho\x01st:"),
        ("0xFF byte in a header name", b"Host:", b"Ho\xffst:"),
        ("0xFF byte in the method", b"POST ", b"P\xffST "),
        (
            "0xFF byte in the request target",
            b"/Events/",
            b"/Ev\xffents/",
        ),
        ("HTTP/1.2", b" HTTP/1.1\r\n", b" HTTP/1.2\r\n"),
        (
            "HTTP/2.0 in an HTTP/1 request line",
            b" HTTP/1.1\r\n",
            b" HTTP/2.0\r\n",
        ),
        ("no version", b" HTTP/1.1\r\n", b"\r\n"),
    ];
    for (case, from, to) in syntax {
        let reply = exchange(addr, replace(ok.clone(), from, to)).await;
        assert_refused(&reply, 400, "BAD_REQUEST", "HTTP-HEAD-SYNTAX", case);
    }
    // long request targets: the server's limit, hyper's, hyper's buffer
    let long = |n: usize| {
        publish(
            &format!("/STU3/Events/1/$process-message?x={}", "a".repeat(n)),
            "",
        )
    };
    let sizes = [
        (
            "a request target over the server's limit",
            16 * 1024,
            414,
            "BAD_REQUEST",
            "HTTP-URI-TOO-LONG",
        ),
        (
            "a request target over hyper's limit (64 KiB)",
            100_000,
            414,
            "BAD_REQUEST",
            "HTTP-URI-TOO-LONG",
        ),
        (
            "a request line of 1 MB (larger than hyper's buffer)",
            1 << 20,
            431,
            "MISSING_OR_INVALID_HEADER",
            "HTTP-HEAD-TOO-LARGE",
        ),
    ];
    for (case, n, status, code, rule) in sizes {
        let reply = exchange(addr, long(n)).await;
        assert_refused(&reply, status, code, rule, case);
    }
    // only the one refused by the server's own limit reached the audit
    let audit = s.state().log.audit_records(0, 100).unwrap();
    assert_eq!(audit.len(), audited + 1);
    assert_eq!(audit[audited].entry.status, 414);
    assert_eq!(stored(&s), before, "nothing stored or delivered");
    // HTTP/2 with prior knowledge: hyper closes without a response (it
    // cannot answer in HTTP/1.1 a client that speaks HTTP/2)
    let reply = exchange(addr, b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec()).await;
    assert_eq!(reply.status.as_u16(), 999, "no response: {}", reply.text());
    // an absolute-form target (RFC 9112 3.2.2) is served as its path
    let host = format!("http://{addr}/STU3/Events/1/$process-message");
    let reply = exchange(addr, publish(&host, "")).await;
    assert_eq!(reply.status, 202, "{}", reply.text());
    let reply = exchange(addr, publish(&format!("http://{addr}/STU3/Nothing"), "")).await;
    assert_refused(
        &reply,
        400,
        "BAD_REQUEST",
        "HTTP-PATH",
        "absolute-form unknown path",
    );
    assert_eq!(stored(&s).0, before.0 + 1);
}
