//! Limits on the request head (request line and header fields) that the
//! server enforces itself, so an oversized head is answered with a Spine
//! OperationOutcome and audited like any refused call (issue 15,
//! "Security"; docs/conformance.md "Server responses").
//!
//! The limits are those an integrator of a Spine-facing API meets at the
//! usual front doors (Apache's `LimitRequestFields` 100, AWS ALB's 16 KiB per
//! header line and 64 KiB per head, RFC 9112 section 3's 8,000 octets of
//! request target a server should at least support) and leave room for a
//! signed Spine JWT (1–3 KB) many times over:
//!
//! | Limit | Value | Answer |
//! |---|---|---|
//! | header fields | [`MAX_HEADER_FIELDS`] (100) | `431` `HTTP-HEAD-TOO-LARGE` |
//! | one field (name + value + 4) | [`MAX_HEADER_FIELD`] (16 KiB) | `431` `HTTP-HEAD-TOO-LARGE` |
//! | whole head | [`MAX_HEAD`] (64 KiB) | `431` `HTTP-HEAD-TOO-LARGE` |
//! | request target | [`MAX_REQUEST_TARGET`] (8 KiB) | `414` `HTTP-URI-TOO-LONG` |
//!
//! The listeners ([`crate::listen`]) configure hyper with higher limits
//! ([`TRANSPORT_MAX_HEADERS`], [`TRANSPORT_MAX_BUF`]) so these are the ones a
//! client meets; a head beyond even those is refused by hyper, and
//! [`crate::refusal`] gives that refusal its OperationOutcome.

use crate::outcome::ApiError;
use crate::AppState;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Uri};
use axum::middleware::Next;
use axum::response::Response;
use ems::stu3::IssueType;
use std::sync::Arc;

/// Most header fields a request may carry (each repetition counts).
pub const MAX_HEADER_FIELDS: usize = 100;
/// Longest header field line: name, value and 4 bytes (`: ` and CRLF).
pub const MAX_HEADER_FIELD: usize = 16 * 1024;
/// Longest request head: request line and every header field line.
pub const MAX_HEAD: usize = 64 * 1024;
/// Longest request target (path and query, or the absolute form).
pub const MAX_REQUEST_TARGET: usize = 8 * 1024;

/// hyper's limit on header fields in the listeners: above
/// [`MAX_HEADER_FIELDS`], so the router sees (and answers) a request with
/// too many; beyond it hyper refuses the head itself.
pub const TRANSPORT_MAX_HEADERS: usize = 1000;
/// hyper's read buffer limit in the listeners (a head must fit in it): four
/// times [`MAX_HEAD`]; beyond it hyper refuses the head itself.
pub const TRANSPORT_MAX_BUF: usize = 4 * MAX_HEAD;

/// Length of the request target as sent (origin or absolute form).
fn target_len(uri: &Uri) -> usize {
    let scheme = uri.scheme_str().map_or(0, |s| s.len() + 3);
    let authority = uri.authority().map_or(0, |a| a.as_str().len());
    let path = uri.path_and_query().map_or(0, |p| p.as_str().len());
    scheme + authority + path
}

/// Length of a header field line as sent (`name: value` CRLF).
fn field_len(name: &str, value: &[u8]) -> usize {
    name.len() + value.len() + 4
}

/// The limit of this module a request head breaks, if any.
pub fn check(method: &str, uri: &Uri, headers: &HeaderMap) -> Result<(), ApiError> {
    let target = target_len(uri);
    if target > MAX_REQUEST_TARGET {
        return Err(ApiError {
            status: 414,
            ..ApiError::new(
                "BAD_REQUEST",
                IssueType::TooCostly,
                "HTTP-URI-TOO-LONG",
                "",
                format!(
                    "the request target is {target} bytes long; at most {MAX_REQUEST_TARGET} are accepted"
                ),
            )
        });
    }
    let too_large = |message: String| ApiError {
        status: 431,
        ..ApiError::new(
            "MISSING_OR_INVALID_HEADER",
            IssueType::TooCostly,
            "HTTP-HEAD-TOO-LARGE",
            "",
            message,
        )
    };
    if headers.len() > MAX_HEADER_FIELDS {
        return Err(too_large(format!(
            "the request has {} header fields; at most {MAX_HEADER_FIELDS} are accepted",
            headers.len()
        )));
    }
    // request line: method SP target SP HTTP/1.1 CRLF; the head ends in CRLF
    let mut head = method.len() + target + 12 + 2;
    for (name, value) in headers {
        let n = field_len(name.as_str(), value.as_bytes());
        if n > MAX_HEADER_FIELD {
            return Err(too_large(format!(
                "the header field `{name}` is {n} bytes long; at most {MAX_HEADER_FIELD} are accepted"
            )));
        }
        head += n;
    }
    if head > MAX_HEAD {
        return Err(too_large(format!(
            "the request head is {head} bytes long; at most {MAX_HEAD} are accepted"
        )));
    }
    Ok(())
}

/// The middleware of every router of [`crate::Server`]: a request whose head
/// breaks a limit of [`check`] is audited (kind `rejected`) and answered with
/// its OperationOutcome; any other goes on to the routes.
pub(crate) async fn enforce(
    State(app): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let Err(e) = check(request.method().as_str(), request.uri(), request.headers()) else {
        return next.run(request).await;
    };
    let (parts, body) = request.into_parts();
    crate::subscriptions::rejected(&app, &parts.method, &parts.uri, &parts.headers, body, e).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(n: usize, value_len: usize) -> HeaderMap {
        let mut h = HeaderMap::new();
        for i in 0..n {
            h.append(
                axum::http::HeaderName::from_bytes(format!("x-{i}").as_bytes()).unwrap(),
                "v".repeat(value_len).try_into().unwrap(),
            );
        }
        h
    }

    #[test]
    fn each_limit_is_inclusive_and_answers_its_status() {
        let uri: Uri = "/STU3/Subscription".parse().unwrap();
        assert!(check("GET", &uri, &headers(MAX_HEADER_FIELDS, 10)).is_ok());
        let e = check("GET", &uri, &headers(MAX_HEADER_FIELDS + 1, 10)).unwrap_err();
        assert_eq!((e.status, e.rules()), (431, vec!["HTTP-HEAD-TOO-LARGE"]));
        // "x-0" + ": " + value + CRLF
        let exact = MAX_HEADER_FIELD - 3 - 4;
        assert!(check("GET", &uri, &headers(1, exact)).is_ok());
        assert_eq!(
            check("GET", &uri, &headers(1, exact + 1))
                .unwrap_err()
                .status,
            431
        );
        // five fields of 15 KiB each: every field fits, the head does not
        let e = check("GET", &uri, &headers(5, 15 * 1024)).unwrap_err();
        assert!(e.issues[0].message.contains("request head"), "{e:?}");
        let long: Uri = format!("/{}", "a".repeat(MAX_REQUEST_TARGET))
            .parse()
            .unwrap();
        let e = check("GET", &long, &HeaderMap::new()).unwrap_err();
        assert_eq!((e.status, e.rules()), (414, vec!["HTTP-URI-TOO-LONG"]));
        let fits: Uri = format!("/{}", "a".repeat(MAX_REQUEST_TARGET - 1))
            .parse()
            .unwrap();
        assert!(check("GET", &fits, &HeaderMap::new()).is_ok());
        let absolute: Uri = format!("http://localhost/{}", "a".repeat(MAX_REQUEST_TARGET - 17))
            .parse()
            .unwrap();
        assert!(check("GET", &absolute, &HeaderMap::new()).is_ok());
        let absolute: Uri = format!("http://localhost/{}", "a".repeat(MAX_REQUEST_TARGET - 16))
            .parse()
            .unwrap();
        assert_eq!(
            check("GET", &absolute, &HeaderMap::new())
                .unwrap_err()
                .status,
            414
        );
    }
}
