//! `POST /STU3/Events/1/$process-message` (digest sections 2.9, 3, 4, 9.1).

use crate::auth::{
    authorise, RequestCredentials, Scope, FROM_ASID_HEADER, INTERACTION_ID_HEADER, TO_ASID_HEADER,
};
use crate::http::{
    content_type, error_response, header, headers_json, outcome_body, read_body, single_headers,
};
use crate::outcome::{lifecycle_issues, lifecycle_rejection, ApiError};
use crate::pipeline::{AuditEntry, AuditKind, NewDelivery, NewMessage};
use crate::subscriptions::{credentials, denied};
use crate::AppState;
use axum::body::Body;
use axum::extract::State;
use axum::http::{Extensions, HeaderMap, Response, StatusCode};
use chrono::{DateTime, Utc};
use ems::bundle::EventMessage;
use ems::profiles::{Format, InputKind};
use ems::stu3::IssueType;
use serde_json::json;
use std::sync::Arc;

/// Location of the event code in a message (for life-cycle and header findings).
const EVENT_CODE: &str = "Bundle.entry[0].resource.ofType(MessageHeader).event.code";

/// The publish handler: 202 only after message, audit record and outbox
/// rows are committed; otherwise a Spine OperationOutcome (audited too).
pub(crate) async fn publish(
    State(app): State<Arc<AppState>>,
    ext: Extensions,
    headers: HeaderMap,
    body: Body,
) -> Response<Body> {
    let at = Utc::now();
    let mut record = json!({
        "from_asid": header(&headers, FROM_ASID_HEADER),
        "to_asid": header(&headers, TO_ASID_HEADER),
        "interaction_id": header(&headers, INTERACTION_ID_HEADER),
        "headers": headers_json(&headers),
        "jwt": header(&headers, "authorization"),
    });
    let asid = header(&headers, FROM_ASID_HEADER).map(str::to_string);
    let mut payload = None;
    let result = accept(&app, &headers, &ext, body, at, &mut record, &mut payload).await;
    match result {
        Ok(r) => r,
        Err(e) => {
            let (resp, text) = error_response(&e, crate::http::Wire::Xml);
            record["response"] = json!({ "status": e.status, "body": text });
            let entry = AuditEntry {
                at,
                kind: AuditKind::Publish,
                asid,
                status: e.status,
                record,
                payload,
            };
            match app.log.audit(entry).await {
                Ok(()) => resp,
                Err(err) => {
                    error_response(
                        &ApiError::internal(format!("audit: {err}")),
                        crate::http::Wire::Xml,
                    )
                    .0
                }
            }
        }
    }
}

fn bad_header(rule: &'static str, message: String) -> ApiError {
    ApiError::new(
        "MISSING_OR_INVALID_HEADER",
        IssueType::Value,
        rule,
        "",
        message,
    )
}

/// What an accepted publish commits.
struct Accepted {
    message_id: String,
    code: String,
    deliveries: Vec<NewDelivery>,
    entry: AuditEntry,
    warning: Option<(String, &'static str)>,
}

async fn accept(
    app: &AppState,
    headers: &HeaderMap,
    ext: &Extensions,
    body: Body,
    at: DateTime<Utc>,
    record: &mut serde_json::Value,
    payload: &mut Option<Vec<u8>>,
) -> Result<Response<Body>, ApiError> {
    // the body first (bounded in size and time), so that the audit record
    // of every rejected call, unauthorised ones too, carries its payload
    let bytes = read_body(headers, body, app.body_timeout).await?;
    // checked, parsed and matched without an await: the parsed message is
    // freed before the commit is awaited, on the thread that built it
    let a = match check(app, headers, ext, &bytes, at, record) {
        Ok(a) => a,
        Err(e) => {
            *payload = Some(bytes);
            return Err(e);
        }
    };
    let message = NewMessage {
        message_id: a.message_id,
        event_code: a.code,
        received_at: at,
        bytes,
    };
    let has_deliveries = !a.deliveries.is_empty();
    app.log
        .accept(message, a.deliveries, a.entry)
        .await
        .map_err(|e| ApiError::internal(format!("the message could not be stored: {e}")))?;
    if has_deliveries {
        app.wake.notify_one();
    }
    Ok(crate::http::success(
        Response::builder().status(StatusCode::ACCEPTED),
        a.warning,
    ))
}

/// Everything a publish is checked for once its body is read; on success
/// the rows to commit, with the audit record taken from `record`.
fn check(
    app: &AppState,
    headers: &HeaderMap,
    ext: &Extensions,
    bytes: &[u8],
    at: DateTime<Utc>,
    record: &mut serde_json::Value,
) -> Result<Accepted, ApiError> {
    single_headers(headers)?;
    let creds: RequestCredentials<'_> = credentials(headers, ext);
    let caller =
        authorise(&creds, Scope::BundleWrite, &app.registry, &app.jwt, at).map_err(denied)?;
    record["claims"] = caller.claims_json.clone().into();
    content_type(headers, false)?;
    if Format::detect(bytes) == Format::Json {
        return Err(ApiError::new(
            "MESSAGE_NOT_WELL_FORMED",
            IssueType::Structure,
            "PUBLISH-XML",
            "",
            "the body is JSON; the publish API accepts FHIR XML only (digest 2.9)",
        ));
    }
    let v = app.validator.validate_bytes(bytes, InputKind::Event);
    if !v.is_valid() {
        return Err(ApiError::from_findings(v.outcome.issues));
    }
    let resource = v
        .resource
        .ok_or_else(|| ApiError::internal("validated message without resource"))?;
    let msg = EventMessage::from_resource(resource).map_err(|e| {
        ApiError::new(
            "INVALID_RESOURCE",
            IssueType::Invalid,
            "MH-MISSING",
            "Bundle",
            e.to_string(),
        )
    })?;
    let code = msg.event_type().code().to_string();
    let event = ems::matching::event_type(&code).ok_or_else(|| {
        ApiError::new(
            "INVALID_CODE_VALUE",
            IssueType::CodeInvalid,
            "MH-EVENT-CODE",
            EVENT_CODE,
            format!("`{code}` is not a NEMS event"),
        )
    })?;
    let interaction = creds.interaction_id.unwrap_or_default();
    match event.publish_interaction_id() {
        Some(expected) if interaction != expected => {
            return Err(bad_header(
                "PUBLISH-INTERACTION",
                format!("InteractionID `{interaction}` does not match the message's event `{code}`; expected `{expected}`"),
            ))
        }
        Some(_) => {}
        // Spine-only events have no publish InteractionID (digest 10.0 "N/A"):
        // only the configured PDS ASID may publish them
        None if !app.registry.may_publish_pds(&caller.asid) => {
            return Err(ApiError::new(
                "ACCESS_DENIED",
                IssueType::Security,
                "PUBLISH-PDS-ASID",
                EVENT_CODE,
                format!("`{code}` is published by Spine (PDS) only; ASID {} may not publish it (digest 3.1)", caller.asid),
            ))
        }
        None => {}
    }
    let decision = app.lifecycle.check_publish(&code, at.date_naive());
    if !decision.accepted {
        return Err(lifecycle_rejection(&decision, EVENT_CODE));
    }
    let warnings = lifecycle_issues(&decision, EVENT_CODE);
    let mut ev = msg.to_match_event().ok_or_else(|| {
        ApiError::new(
            "INVALID_RESOURCE",
            IssueType::Required,
            "MH-TIMESTAMP",
            "Bundle.entry[0].resource.ofType(MessageHeader).timestamp",
            "the message has no usable timestamp",
        )
    })?;
    ev.at = at;
    let deliveries: Vec<NewDelivery> = app
        .routing
        .deliveries(ev)
        .into_iter()
        .map(|d| NewDelivery {
            mailbox: d.mailbox,
            workflow_id: d.workflow_id.to_string(),
            partner_id: d.partner_id,
            subscriptions: d.subscriptions,
        })
        .collect();
    let body = (!warnings.is_empty()).then(|| outcome_body(&warnings, crate::http::Wire::Xml));
    let message_id = msg.message_id().unwrap_or_default().to_string();
    record["message_id"] = message_id.clone().into();
    record["event"] = code.clone().into();
    record["sequence"] = msg.version_id().into();
    record["message_event_type"] = msg
        .message_event_type()
        .map(|m| m.code().to_string())
        .into();
    record["deliveries"] = deliveries.len().into();
    record["response"] = json!({ "status": 202, "body": body.as_ref().map(|b| b.0.clone()) });
    let entry = AuditEntry {
        at,
        kind: AuditKind::Publish,
        asid: Some(caller.asid.clone()),
        status: 202,
        record: std::mem::take(record),
        payload: None,
    };
    Ok(Accepted {
        message_id,
        code,
        deliveries,
        entry,
        warning: body,
    })
}
