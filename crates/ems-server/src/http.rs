//! HTTP helpers shared by the APIs: media types (digest 2.9), the bounded
//! body read, header access and the Spine error response.

use crate::outcome::{operation_outcome, ApiError};
use axum::body::Body;
use axum::http::{HeaderMap, Response, StatusCode};
use ems::stu3::{Issue, IssueType};

/// Largest accepted request body: 3 MiB, the reader's cap (digest 2.1, 3.2).
pub const MAX_BODY: usize = ems::stu3::DEFAULT_MAX_SIZE;

/// XML media types accepted by both APIs (digest 2.9).
pub const XML_TYPES: &[&str] = &[
    "application/fhir+xml",
    "application/fhir+xml;charset=utf-8",
    "application/xml+fhir",
    "application/xml+fhir;charset=utf-8",
];

/// JSON media types accepted by the subscription API (digest 2.9).
pub const JSON_TYPES: &[&str] = &[
    "application/fhir+json",
    "application/fhir+json;charset=utf-8",
    "application/json+fhir",
    "application/json+fhir;charset=utf-8",
];

/// The default media type when none is sent (digest 2.9).
pub const DEFAULT_TYPE: &str = "application/xml+fhir;charset=utf-8";

/// Response content types.
pub const XML_RESPONSE: &str = "application/fhir+xml;charset=utf-8";
/// JSON response content type.
pub const JSON_RESPONSE: &str = "application/fhir+json;charset=utf-8";

/// FHIR serialisation of a request or response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wire {
    /// FHIR XML.
    Xml,
    /// FHIR JSON.
    Json,
}

fn normalise(v: &str) -> String {
    v.chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase()
        .replace("charset=\"utf-8\"", "charset=utf-8")
}

/// The request's format from `Content-Type` (absent = the default);
/// `json_allowed` is false for the publish API.
pub fn content_type(headers: &HeaderMap, json_allowed: bool) -> Result<Wire, ApiError> {
    let raw = match headers.get(axum::http::header::CONTENT_TYPE) {
        None => DEFAULT_TYPE.to_string(),
        Some(v) => v.to_str().map(normalise).unwrap_or_default(),
    };
    if XML_TYPES.contains(&raw.as_str()) {
        return Ok(Wire::Xml);
    }
    if json_allowed && JSON_TYPES.contains(&raw.as_str()) {
        return Ok(Wire::Json);
    }
    let allowed = if json_allowed {
        "the FHIR XML or JSON media types"
    } else {
        "a FHIR XML media type (the publish API is XML only)"
    };
    Err(ApiError::new(
        "UNSUPPORTED_MEDIA_TYPE",
        IssueType::NotSupported,
        "HTTP-MEDIA-TYPE",
        "",
        format!("Content-Type `{raw}` is not accepted; send {allowed} (digest 2.9)"),
    ))
}

/// The response format: `_format` (`xml`, `json` or a media type), else
/// `Accept`, else `fallback`.
pub fn response_format(query: Option<&str>, headers: &HeaderMap, fallback: Wire) -> Wire {
    let from = |v: &str| {
        let v = normalise(v);
        if v == "json" || JSON_TYPES.iter().any(|t| v.contains(t)) {
            Some(Wire::Json)
        } else if v == "xml" || XML_TYPES.iter().any(|t| v.contains(t)) {
            Some(Wire::Xml)
        } else {
            None
        }
    };
    if let Some(q) = query {
        for pair in q.split('&') {
            if let Some(v) = pair.strip_prefix("_format=") {
                let v = v
                    .replace("%2B", "+")
                    .replace("%2b", "+")
                    .replace("%2F", "/");
                if let Some(w) = from(&v) {
                    return w;
                }
            }
        }
    }
    // Accept: the first listed FHIR type that is not refused with `q=0`
    headers
        .get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.split(',')
                .filter(|range| !refused(range))
                .find_map(|range| from(range.split(';').next().unwrap_or_default()))
        })
        .unwrap_or(fallback)
}

/// An `Accept` media range with quality 0 ("not acceptable", RFC 9110 12.4.2).
fn refused(range: &str) -> bool {
    range.split(';').skip(1).any(|p| {
        p.trim()
            .strip_prefix("q=")
            .and_then(|q| q.trim().parse::<f32>().ok())
            .is_some_and(|q| q == 0.0)
    })
}

/// A header as text (`None` when absent or not visible ASCII).
pub fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// All headers as received, for the audit record.
pub fn headers_json(headers: &HeaderMap) -> serde_json::Value {
    serde_json::Value::Array(
        headers
            .iter()
            .map(|(k, v)| serde_json::json!([k.as_str(), String::from_utf8_lossy(v.as_bytes())]))
            .collect(),
    )
}

fn too_large(n: usize) -> ApiError {
    ApiError::new(
        "INVALID_REQUEST_MESSAGE",
        IssueType::TooCostly,
        "INPUT-TOO-LARGE",
        "",
        format!("the body is larger than {MAX_BODY} bytes ({n} announced or read)"),
    )
}

/// Default longest time a request body may take to arrive (a slowloris
/// body must not hold a request, its 3 MB buffer and its audit slot
/// forever); `body-timeout-ms` in the configuration changes it.
pub const BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Headers the APIs read as one value: sent more than once, the request is
/// ambiguous (which ASID, which token?) and answers `400
/// MISSING_OR_INVALID_HEADER` (rule `HTTP-HEADER-REPEATED`).
pub const SINGLE_HEADERS: &[&str] = &[
    "fromasid",
    "toasid",
    "interactionid",
    "authorization",
    "content-type",
];

/// Rejects a request that repeats one of [`SINGLE_HEADERS`].
pub fn single_headers(headers: &HeaderMap) -> Result<(), ApiError> {
    match SINGLE_HEADERS
        .iter()
        .find(|h| headers.get_all(**h).iter().nth(1).is_some())
    {
        None => Ok(()),
        Some(h) => Err(ApiError::new(
            "MISSING_OR_INVALID_HEADER",
            IssueType::Value,
            "HTTP-HEADER-REPEATED",
            "",
            format!("the header `{h}` is sent more than once; send it once"),
        )),
    }
}

/// Reads the body, never buffering more than [`MAX_BODY`] bytes nor waiting
/// longer than `timeout` for it (rule `HTTP-BODY-TIMEOUT`).
pub async fn read_body(
    headers: &HeaderMap,
    body: Body,
    timeout: std::time::Duration,
) -> Result<Vec<u8>, ApiError> {
    if let Some(n) = header(headers, "content-length").and_then(|v| v.parse::<usize>().ok()) {
        if n > MAX_BODY {
            return Err(too_large(n));
        }
    }
    let Ok(read) = tokio::time::timeout(timeout, axum::body::to_bytes(body, MAX_BODY)).await else {
        return Err(ApiError::new(
            "INVALID_REQUEST_MESSAGE",
            IssueType::Structure,
            "HTTP-BODY-TIMEOUT",
            "",
            format!(
                "the request body did not arrive within {} ms",
                timeout.as_millis()
            ),
        ));
    };
    match read {
        Ok(b) => Ok(b.to_vec()),
        Err(e) => {
            let text = format!("{e:?}");
            if text.contains("LengthLimit") {
                Err(too_large(MAX_BODY + 1))
            } else {
                Err(ApiError::new(
                    "MESSAGE_NOT_WELL_FORMED",
                    IssueType::Structure,
                    "HTTP-BODY",
                    "",
                    format!("the request body could not be read completely: {e}"),
                ))
            }
        }
    }
}

/// Serialises an OperationOutcome of `issues` in `wire`.
pub fn outcome_body(issues: &[Issue], wire: Wire) -> (String, &'static str) {
    let oo = operation_outcome(issues);
    match wire {
        Wire::Xml => (ems::stu3::to_xml_of(&oo), XML_RESPONSE),
        Wire::Json => (ems::stu3::to_json_of(&oo), JSON_RESPONSE),
    }
}

/// The error response of `e`; also returns the body for the audit record.
pub fn error_response(e: &ApiError, wire: Wire) -> (Response<Body>, String) {
    let (body, ct) = outcome_body(&e.issues, wire);
    let r = Response::builder()
        .status(StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header(axum::http::header::CONTENT_TYPE, ct)
        .body(Body::from(body.clone()))
        .unwrap_or_default();
    (r, body)
}

/// A success response: `builder` with no body, or with the OperationOutcome
/// `warning` (text, content type) of a life-cycle warning (digest 3.3, 5.2).
pub fn success(
    builder: axum::http::response::Builder,
    warning: Option<(String, &'static str)>,
) -> Response<Body> {
    match warning {
        Some((text, ct)) => builder
            .header(axum::http::header::CONTENT_TYPE, ct)
            .body(Body::from(text)),
        None => builder.body(Body::empty()),
    }
    .unwrap_or_default()
}
