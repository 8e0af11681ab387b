//! Helpers shared by the ems-server tests: the example messages, a
//! subscription document, and requests against the in-process router.
#![allow(dead_code)]

use axum::body::Body;
use axum::http::{Request, StatusCode};
use ems_server::{Server, ServerConfig};
use std::path::{Path, PathBuf};
use tower::ServiceExt;

/// ASID of the test publisher / subscriber.
pub const ASID: &str = "200000000001";
/// NHS number of every example message.
pub const NHS: &str = "9434765919";

pub fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/messages")
}

/// An example message (`vaccinations-1-new`, ...).
pub fn message(name: &str) -> Vec<u8> {
    std::fs::read(examples().join(format!("{name}.xml"))).unwrap()
}

/// Publish InteractionID of an event code.
pub fn interaction(event: &str) -> String {
    ems::matching::event_type(event)
        .and_then(|e| e.publish_interaction_id())
        .unwrap_or_else(|| "urn:nhs:names:services:events:Pds.Write".into())
}

/// An EMS-Subscription-1 create request in XML.
pub fn subscription_xml(criteria: &str, mailbox: &str, ods: &str) -> Vec<u8> {
    let criteria = criteria.replace('&', "&amp;");
    format!(
        r#"<Subscription xmlns="http://hl7.org/fhir"><meta><profile value="https://fhir.nhs.uk/STU3/StructureDefinition/EMS-Subscription-1"/></meta><status value="requested"/><contact><system value="url"/><value value="https://directory.spineservices.nhs.uk/STU3/Organization/{ods}"/><use value="work"/></contact><reason value="direct care"/><criteria value="{criteria}"/><channel><type value="message"/><endpoint value="{mailbox}"/></channel></Subscription>"#
    )
    .into_bytes()
}

/// Explicit criteria for the example patient and `event`.
pub fn explicit(event: &str) -> String {
    format!("/Bundle?type=message&serviceType=GP&Patient.identifier=http://fhir.nhs.net/Id/nhs-number|{NHS}&MessageHeader.event={event}")
}

pub fn config(dir: &Path) -> ServerConfig {
    ServerConfig {
        data: dir.join("data"),
        auto_activate: true,
        ..Default::default()
    }
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    /// The Spine codes of the OperationOutcome body.
    pub fn spine_codes(&self) -> Vec<String> {
        let p = ems::stu3::from_xml(&self.body)
            .or_else(|_| ems::stu3::from_json(&self.body))
            .unwrap_or_else(|e| panic!("not an OperationOutcome: {e}: {}", self.text()));
        let ems::stu3::Resource::OperationOutcome(oo) = p.resource else {
            panic!("not an OperationOutcome: {}", self.text())
        };
        let meta = oo.meta.as_ref().expect("meta.profile");
        assert_eq!(
            meta.profile[0].value.as_deref(),
            Some("https://fhir.nhs.uk/STU3/StructureDefinition/Spine-OperationOutcome-1")
        );
        oo.issue
            .iter()
            .map(|i| {
                let c = &i.details.as_ref().expect("details").coding;
                assert_eq!(c.len(), 1, "one Spine coding per issue");
                assert!(i
                    .diagnostics
                    .as_ref()
                    .and_then(|d| d.value.as_deref())
                    .unwrap()
                    .starts_with('['));
                c[0].code
                    .as_ref()
                    .and_then(|c| c.value.as_deref())
                    .unwrap()
                    .to_string()
            })
            .collect()
    }
}

/// ODS code of the organisation behind a test ASID.
pub fn ods_of(asid: &str) -> &'static str {
    if asid == ASID {
        "RR8"
    } else {
        "B82005"
    }
}

/// An unsigned (`alg: none`) Spine JWT for `asid` with every NEMS scope.
pub fn token(asid: &str) -> String {
    use base64::Engine;
    let b64 = |v: serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(&v).unwrap())
    };
    let now = chrono::Utc::now().timestamp();
    let claims = serde_json::json!({
        "iss": "https://publisher.example.nhs.uk",
        "sub": format!("https://fhir.nhs.uk/Id/accredited-system|{asid}"),
        "exp": now + 3600,
        "iat": now,
        "reason_for_request": "directcare",
        "scope": "patient/Bundle.write patient/Subscription.read patient/Subscription.write",
        "requesting_system": format!("https://fhir.nhs.uk/Id/accredited-system|{asid}"),
        "requesting_organisation": format!("https://fhir.nhs.uk/Id/ods-organization-code|{}", ods_of(asid)),
    });
    format!(
        "{}.{}.",
        b64(serde_json::json!({"alg": "none", "typ": "JWT"})),
        b64(claims)
    )
}

/// A request with the standard headers; `extra` overrides (an empty value
/// removes). The JWT matches `fromASID` unless `Authorization` is given.
pub fn request(method: &str, uri: &str, extra: &[(&str, &str)], body: Vec<u8>) -> Request<Body> {
    let from = extra
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("fromASID"))
        .map(|(_, v)| v.to_string())
        .unwrap_or_else(|| ASID.to_string());
    let mut headers: Vec<(String, String)> = vec![
        ("fromASID".into(), ASID.into()),
        ("toASID".into(), "111111111111".into()),
        ("Authorization".into(), format!("Bearer {}", token(&from))),
    ];
    for (k, v) in extra {
        headers.retain(|(h, _)| !h.eq_ignore_ascii_case(k));
        if !v.is_empty() {
            headers.push((k.to_string(), v.to_string()));
        }
    }
    let mut r = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        r = r.header(k, v);
    }
    r.body(Body::from(body)).unwrap()
}

pub async fn send(app: &axum::Router, r: Request<Body>) -> Reply {
    let resp = app.clone().oneshot(r).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap()
        .to_vec();
    Reply {
        status,
        headers,
        body,
    }
}

/// Publishes `bytes` as event `event`, with header overrides.
pub async fn publish(
    app: &axum::Router,
    event: &str,
    bytes: Vec<u8>,
    extra: &[(&str, &str)],
) -> Reply {
    let i = interaction(event);
    let mut h: Vec<(&str, &str)> = vec![
        ("InteractionID", i.as_str()),
        ("Content-Type", "application/fhir+xml"),
    ];
    h.extend_from_slice(extra);
    send(
        app,
        request("POST", "/STU3/Events/1/$process-message", &h, bytes),
    )
    .await
}

/// Creates a subscription; returns the reply.
pub async fn subscribe(app: &axum::Router, body: Vec<u8>, extra: &[(&str, &str)]) -> Reply {
    let mut h: Vec<(&str, &str)> = vec![
        ("InteractionID", SUB_POST),
        ("Content-Type", "application/fhir+xml"),
    ];
    h.extend_from_slice(extra);
    send(app, request("POST", "/STU3/Subscription", &h, body)).await
}

/// InteractionID of a subscription create (digest 5.2).
pub const SUB_POST: &str = "urn:nhs:names:services:clinicals-sync:SubscriptionsApiPost";
/// InteractionID of a subscription read (digest 5.3).
pub const SUB_GET: &str = "urn:nhs:names:services:clinicals-sync:SubscriptionsApiGet";
/// InteractionID of a subscription delete (digest 5.4).
pub const SUB_DELETE: &str = "urn:nhs:names:services:clinicals-sync:SubscriptionsApiDelete";

/// `method` (`GET` or `DELETE`) on `/STU3/Subscription/{id}` with that
/// operation's InteractionID and the `extra` headers of [`request`].
pub async fn on_subscription(
    app: &axum::Router,
    method: &str,
    id: &str,
    extra: &[(&str, &str)],
) -> Reply {
    let interaction = if method == "DELETE" {
        SUB_DELETE
    } else {
        SUB_GET
    };
    let mut h: Vec<(&str, &str)> = vec![("InteractionID", interaction)];
    h.extend_from_slice(extra);
    send(
        app,
        request(method, &format!("/STU3/Subscription/{id}"), &h, Vec::new()),
    )
    .await
}

/// Creates an explicit `vaccinations-1` subscription for the example
/// patient (mailbox `X26ABC1`, organisation `RR8`), so a wrongly accepted
/// message would also leave an outbox row; returns its id.
pub async fn subscribed(app: &axum::Router) -> String {
    let r = subscribe(
        app,
        subscription_xml(&explicit("vaccinations-1"), "X26ABC1", "RR8"),
        &[],
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    created_id(&r)
}

/// The logical id in the `Location` of a create's reply.
pub fn created_id(r: &Reply) -> String {
    let location = r.headers["location"].to_str().unwrap();
    location.rsplit('/').next().unwrap().to_string()
}

/// What the store holds besides the audit: messages, outbox rows,
/// subscriptions.
pub fn stored(s: &Server) -> (usize, usize, usize) {
    let log = s.state().log.clone();
    let messages = (1..200)
        .filter(|i| log.message_bytes(*i).unwrap().is_some())
        .count();
    let rows = log.deliveries(0, 10_000).unwrap().len();
    let mut subs = 0;
    log.for_each_subscription(&mut |_| subs += 1).unwrap();
    (messages, rows, subs)
}

pub fn open(dir: &Path, cfg: &ServerConfig) -> (Server, axum::Router) {
    let _ = dir;
    let s = Server::open(cfg).unwrap();
    let r = s.router();
    (s, r)
}

/// A fresh folder under the target directory's tmp.
pub fn tempdir() -> PathBuf {
    let d =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("ems-server-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&d).unwrap();
    d
}
