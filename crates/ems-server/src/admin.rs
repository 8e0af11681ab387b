//! The admin API under `/_ems/` (same listener): health, activate a
//! subscription, the outbox with states and the audit log as JSON lines.
//! It is unauthenticated: bind the server to loopback (the default) or put
//! it behind a gateway.

use crate::audit::audit_json_line;
use crate::outcome::ApiError;
use crate::pipeline::{AuditEntry, AuditKind, OutboxRow};
use crate::AppState;
use axum::body::Body;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{Response, StatusCode, Uri};
use axum::routing::{get, post};
use axum::Router;
use ems::stu3::{IssueType, Primitive, Resource};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

/// Routes of the admin API.
pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/_ems/health", get(health))
        .route("/_ems/subscriptions/{id}/activate", post(activate))
        .route("/_ems/deliveries", get(deliveries))
        .route("/_ems/audit", get(audit))
}

/// Paging of the list endpoints.
#[derive(Deserialize)]
pub struct Page {
    /// Only records after this position.
    #[serde(default)]
    pub after: i64,
    /// At most this many (default 1000, at most 100 000).
    pub limit: Option<usize>,
}

/// The paging parameters, or `400 BAD_REQUEST` (rule `HTTP-QUERY`) with an
/// OperationOutcome instead of axum's plain-text rejection.
fn page(p: Result<Query<Page>, QueryRejection>) -> Result<Page, ApiError> {
    p.map(|Query(p)| p).map_err(|e| {
        ApiError::new(
            "BAD_REQUEST",
            IssueType::Value,
            "HTTP-QUERY",
            "",
            format!("the query is not `after=N&limit=M` (integers): {e}"),
        )
    })
}

fn json_response(status: StatusCode, v: serde_json::Value) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::from(v.to_string()))
        .unwrap_or_default()
}

fn lines(text: String) -> Response<Body> {
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/x-ndjson")
        .body(Body::from(text))
        .unwrap_or_default()
}

fn error(e: ApiError) -> Response<Body> {
    crate::http::error_response(&e, crate::http::Wire::Json).0
}

async fn health(State(app): State<Arc<AppState>>) -> Response<Body> {
    json_response(
        StatusCode::OK,
        json!({
            "status": "ok",
            "subscriptions_indexed": app.routing.len(),
            "mesh": app.mesh,
        }),
    )
}

/// One outbox row as JSON.
pub fn delivery_json(r: &OutboxRow) -> serde_json::Value {
    json!({
        "id": r.id,
        "message_seq": r.message_seq,
        "message_id": r.message_id,
        "mailbox": r.mailbox,
        "workflow_id": r.workflow_id,
        "partner_id": r.partner_id,
        "subscriptions": r.subscriptions.split(',').filter(|s| !s.is_empty()).collect::<Vec<_>>(),
        "local_id": r.local_id,
        "state": r.state.name(),
        "attempts": r.attempts,
        "mesh_message_id": r.mesh_message_id,
        "last_error": r.last_error,
    })
}

/// One page of a log as JSON lines: `fetch(after, limit)` reads the rows
/// (at most 1,000 by default, 100,000 when asked), `line` renders one.
fn json_lines<T, E: std::fmt::Display, L: std::fmt::Display>(
    p: Result<Query<Page>, QueryRejection>,
    fetch: impl FnOnce(i64, usize) -> Result<Vec<T>, E>,
    line: impl Fn(&T) -> L,
) -> Response<Body> {
    let p = match page(p) {
        Ok(p) => p,
        Err(e) => return error(e),
    };
    match fetch(p.after, p.limit.unwrap_or(1000).min(100_000)) {
        Ok(rows) => lines(rows.iter().map(|r| format!("{}\n", line(r))).collect()),
        Err(e) => error(ApiError::internal(e.to_string())),
    }
}

async fn deliveries(
    State(app): State<Arc<AppState>>,
    p: Result<Query<Page>, QueryRejection>,
) -> Response<Body> {
    json_lines(
        p,
        |after, limit| app.log.deliveries(after, limit),
        delivery_json,
    )
}

async fn audit(
    State(app): State<Arc<AppState>>,
    p: Result<Query<Page>, QueryRejection>,
) -> Response<Body> {
    json_lines(
        p,
        |after, limit| app.log.audit_records(after, limit),
        |r| audit_json_line(&*app.log, r),
    )
}

async fn activate(
    State(app): State<Arc<AppState>>,
    id: Result<Path<String>, PathRejection>,
    uri: Uri,
) -> Response<Body> {
    // an id that does not decode is looked up raw (and not found)
    let id = crate::subscriptions::path_id(id, &uri, 2);
    let mut s = match app.log.subscription(&id) {
        Ok(Some(s)) => s,
        Ok(None) => {
            return error(ApiError::new(
                "NO_RECORD_FOUND",
                IssueType::NotFound,
                "SUB-NOT-FOUND",
                "",
                format!("no subscription `{id}`"),
            ))
        }
        Err(e) => return error(ApiError::internal(e.to_string())),
    };
    let mut resource = match ems::stu3::from_json(s.resource_json.as_bytes()) {
        Ok(p) => p.resource,
        Err(e) => return error(ApiError::internal(format!("stored subscription: {e}"))),
    };
    if let Resource::Subscription(r) = &mut resource {
        r.status = Some(Primitive::from("active"));
    }
    let previous = std::mem::replace(&mut s.status, "active".into());
    s.resource_json = ems::stu3::to_json(&resource);
    let entry = AuditEntry {
        at: chrono::Utc::now(),
        kind: AuditKind::SubscriptionActivate,
        asid: None,
        status: 200,
        record: json!({ "subscription_id": id, "previous_status": previous, "status": "active" }),
        payload: None,
    };
    match app.log.update_subscription(s.clone(), entry).await {
        Ok(true) => {
            app.routing.apply(&s);
            json_response(StatusCode::OK, json!({ "id": id, "status": "active" }))
        }
        Ok(false) => error(ApiError::new(
            "NO_RECORD_FOUND",
            IssueType::NotFound,
            "SUB-NOT-FOUND",
            "",
            format!("subscription `{id}` was deleted"),
        )),
        Err(e) => error(ApiError::internal(e.to_string())),
    }
}
