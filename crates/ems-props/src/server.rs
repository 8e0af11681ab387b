//! The ems-server request front (issue 14: "when the server lands — its
//! request front (headers, JWT, body)").
//!
//! One input is a request: up to five lines give the `fromASID`, `toASID`,
//! `Authorization`, `InteractionID` and `Content-Type` headers (a line that
//! is not a valid header value leaves the header out), the rest is the body.
//! Properties:
//! * `authorise` never panics; a denial names a rule of
//!   `auth::SECURITY_RULES` with that rule's status and Spine code; an
//!   authorised caller is the `fromASID` of the request;
//! * the publish API, in process (open registry, no MESH), answers `202`
//!   with no body or one of the documented error statuses with a Spine
//!   OperationOutcome — never a 5xx for anything a client sends.

use crate::{ensure, Check};
use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Request};
use ems_server::auth::{self, RequestCredentials, Scope, SECURITY_RULES};
use ems_server::registry::Registry;
use ems_server::tls::ClientCertName;
use ems_server::{Server, ServerConfig};
use std::sync::OnceLock;
use tower::ServiceExt;

/// The header of each line (`fromASID`, `toASID`, `Authorization`,
/// `InteractionID`, `Content-Type`; lower case, as `HeaderName` stores them).
const HEADERS: [&str; 5] = [
    "fromasid",
    "toasid",
    "authorization",
    "interactionid",
    "content-type",
];

/// The request an input stands for: headers and body.
fn request_parts(data: &[u8]) -> (HeaderMap, &[u8]) {
    let mut headers = HeaderMap::new();
    let mut rest = data;
    for name in HEADERS {
        let (line, tail) = match rest.iter().position(|&b| b == b'\n') {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, &rest[rest.len()..]),
        };
        rest = tail;
        if let Ok(v) = HeaderValue::from_bytes(line) {
            if !line.is_empty() {
                headers.insert(HeaderName::from_static(name), v);
            }
        }
    }
    (headers, rest)
}

/// Target `server_request`.
pub fn server_request(data: &[u8]) -> Check {
    let (headers, body) = request_parts(data);
    authorisation(&headers)?;
    publish(headers, body)
}

fn authorisation(headers: &HeaderMap) -> Check {
    let cert = ClientCertName(None);
    let credentials = RequestCredentials::from_headers(headers, &cert);
    let registry = Registry::open();
    let policy = auth::JwtPolicy::for_registry(&registry);
    match auth::authorise(
        &credentials,
        Scope::BundleWrite,
        &registry,
        &policy,
        chrono::Utc::now(),
    ) {
        Ok(caller) => ensure(
            Some(caller.asid.as_str()) == credentials.from_asid,
            "caller-is-from-asid",
            || {
                format!(
                    "caller {} for fromASID {:?}",
                    caller.asid, credentials.from_asid
                )
            },
        ),
        Err(d) => {
            let rule = SECURITY_RULES.iter().find(|r| r.id == d.rule);
            ensure(
                rule.is_some_and(|r| r.status == d.status && r.spine_code == d.spine_code),
                "denial-is-a-security-rule",
                || format!("{d:?}"),
            )
        }
    }
}

/// One in-process server for every input (its store in a temporary
/// folder), and the runtime that drives it.
fn server() -> &'static (tokio::runtime::Runtime, axum::Router) {
    static SERVER: OnceLock<(tokio::runtime::Runtime, axum::Router)> = OnceLock::new();
    SERVER.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("ems-props-server-{}", std::process::id()));
        let config = ServerConfig {
            data: dir,
            ..Default::default()
        };
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let router = rt.block_on(async {
            Server::open(&config)
                .expect("the in-process server opens")
                .router()
        });
        (rt, router)
    })
}

const ERROR_STATUSES: &[u16] = &[400, 403, 404, 413, 415, 422];

/// Status and body of the in-process publish API's answer.
fn answer(headers: HeaderMap, body: &[u8]) -> (u16, Vec<u8>) {
    let (rt, router) = server();
    let mut req = Request::post("/STU3/Events/1/$process-message")
        .body(Body::from(body.to_vec()))
        .expect("a request");
    *req.headers_mut() = headers;
    rt.block_on(async {
        let resp = router.clone().oneshot(req).await.expect("infallible");
        let status = resp.status().as_u16();
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 24)
            .await
            .map(|b| b.to_vec())
            .unwrap_or_default();
        (status, bytes)
    })
}

fn publish(headers: HeaderMap, body: &[u8]) -> Check {
    let (status, bytes) = answer(headers, body);
    if status == 202 {
        return Ok(());
    }
    ensure(
        ERROR_STATUSES.contains(&status),
        "client-error-status",
        || format!("status {status}: {}", String::from_utf8_lossy(&bytes)),
    )?;
    let oo = ems::stu3::from_xml(&bytes).or_else(|_| ems::stu3::from_json(&bytes));
    ensure(
        matches!(
            oo.as_ref().map(|p| &p.resource),
            Ok(ems::stu3::Resource::OperationOutcome(o))
                if o.meta.as_ref().is_some_and(|m| m.profile.iter().any(|p| p.value.as_deref()
                    == Some(ems_server::outcome::SPINE_OPERATION_OUTCOME_PROFILE)))
                    && !o.issue.is_empty()
        ),
        "error-is-spine-operation-outcome",
        || format!("status {status}: {}", String::from_utf8_lossy(&bytes)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_request_is_refused_with_an_outcome() {
        assert!(server_request(b"").is_ok());
        assert!(server_request(b"1\n2\nBearer x\nurn:x\napplication/fhir+xml\n<Bundle/>").is_ok());
    }

    #[test]
    fn the_valid_seed_is_accepted_and_the_others_refused() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fuzz/corpus/server_request");
        let status = |name: &str| {
            let data = std::fs::read(dir.join(name)).unwrap();
            let (h, body) = request_parts(&data);
            answer(h, body).0
        };
        assert_eq!(status("valid-vaccinations-publish"), 202);
        assert_eq!(status("wrong-interaction"), 400);
        assert_eq!(status("json-body"), 415);
        assert_eq!(status("no-headers"), 400);
    }

    #[test]
    fn the_lines_are_the_headers_then_the_body() {
        let (h, body) =
            request_parts(b"200000000001\n\nBearer t\n\x7f\napplication/fhir+xml\n<a/>\nrest");
        assert_eq!(h.get("fromasid").unwrap(), "200000000001");
        assert!(
            h.get("toasid").is_none(),
            "an empty line leaves the header out"
        );
        assert_eq!(h.get("authorization").unwrap(), "Bearer t");
        assert!(h.get("interactionid").is_none(), "not a header value");
        assert_eq!(body, b"<a/>\nrest");
    }
}
