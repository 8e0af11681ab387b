//! The subscription API (digest sections 5, 6, 9.2): create, read, delete;
//! search (withdrawn in 2019) and update (subscriptions are not versioned)
//! answer `501 NOT_IMPLEMENTED`; unknown paths `400 BAD_REQUEST`.

use crate::auth::{
    authorise, Caller, Denied, RequestCredentials, Scope, FROM_ASID_HEADER, INTERACTION_ID_HEADER,
};
use crate::http::{
    content_type, error_response, header, headers_json, read_body, response_format, single_headers,
    Wire, JSON_RESPONSE, XML_RESPONSE,
};
use crate::outcome::{lifecycle_issues, lifecycle_rejection, response_code, ApiError};
use crate::pipeline::{AuditEntry, AuditKind, PipelineError, StoredSubscription};
use crate::AppState;
use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{Extensions, HeaderMap, Method, Response, StatusCode, Uri};
use chrono::{DateTime, SecondsFormat, Utc};
use ems::profiles::InputKind;
use ems::stu3::{Issue, IssueType, OptStrExt, Primitive, Resource, Severity};
use serde_json::json;
use std::sync::Arc;

/// InteractionID of create (digest 5.2).
pub const INTERACTION_POST: &str = "urn:nhs:names:services:clinicals-sync:SubscriptionsApiPost";
/// InteractionID of read (digest 5.3).
pub const INTERACTION_GET: &str = "urn:nhs:names:services:clinicals-sync:SubscriptionsApiGet";
/// InteractionID of delete (digest 5.4).
pub const INTERACTION_DELETE: &str = "urn:nhs:names:services:clinicals-sync:SubscriptionsApiDelete";

/// No client certificate (plain HTTP, or TLS without one).
static NO_CERT: crate::tls::ClientCertName = crate::tls::ClientCertName(None);

/// The credentials of a request, from its headers and the client
/// certificate name [`crate::tls::serve`] put in its extensions.
pub(crate) fn credentials<'a>(
    headers: &'a HeaderMap,
    ext: &'a Extensions,
) -> RequestCredentials<'a> {
    let cert = ext.get::<crate::tls::ClientCertName>().unwrap_or(&NO_CERT);
    RequestCredentials::from_headers(headers, cert)
}

/// A refusal of the auth module as an API error.
pub(crate) fn denied(d: Denied) -> ApiError {
    let code = response_code(Some(d.spine_code));
    ApiError {
        status: d.status,
        issues: vec![Issue::new(
            Severity::Error,
            IssueType::Security,
            d.rule,
            d.expression.unwrap_or_default(),
            d.message,
        )
        .with_spine(code)],
    }
}

fn check_interaction(creds: &RequestCredentials<'_>, expected: &str) -> Result<(), ApiError> {
    match creds.interaction_id {
        Some(i) if i == expected => Ok(()),
        other => Err(ApiError::new(
            "MISSING_OR_INVALID_HEADER",
            IssueType::Value,
            "HTTP-INTERACTION",
            "",
            format!(
                "InteractionID `{}` is not `{expected}`",
                other.unwrap_or_default()
            ),
        )),
    }
}

struct Call<'a> {
    app: &'a AppState,
    headers: &'a HeaderMap,
    ext: &'a Extensions,
    at: DateTime<Utc>,
    kind: AuditKind,
    record: serde_json::Value,
    wire: Wire,
}

impl<'a> Call<'a> {
    fn new(
        app: &'a AppState,
        headers: &'a HeaderMap,
        ext: &'a Extensions,
        kind: AuditKind,
        query: Option<&str>,
    ) -> Self {
        let fallback = content_type(headers, true).unwrap_or(Wire::Xml);
        Call {
            app,
            headers,
            ext,
            at: Utc::now(),
            kind,
            record: json!({
                "from_asid": header(headers, FROM_ASID_HEADER),
                "interaction_id": header(headers, INTERACTION_ID_HEADER),
                "headers": headers_json(headers),
                "jwt": header(headers, "authorization"),
            }),
            wire: response_format(query, headers, fallback),
        }
    }

    fn authorise(&mut self, scope: Scope, interaction: &str) -> Result<Caller, ApiError> {
        single_headers(self.headers)?;
        let creds = credentials(self.headers, self.ext);
        let caller =
            authorise(&creds, scope, &self.app.registry, &self.app.jwt, self.at).map_err(denied)?;
        self.record["claims"] = caller.claims_json.clone().into();
        check_interaction(&creds, interaction)?;
        Ok(caller)
    }

    fn entry(&mut self, status: u16, body: Option<String>) -> AuditEntry {
        self.record["response"] = json!({ "status": status, "body": body });
        AuditEntry {
            at: self.at,
            kind: self.kind,
            asid: header(self.headers, FROM_ASID_HEADER).map(str::to_string),
            status,
            record: std::mem::take(&mut self.record),
            payload: None,
        }
    }

    /// The caller's own stored subscription `id` (read and delete): the
    /// security checks, then 404 when it does not exist, 403 when it is
    /// another organisation's.
    fn own_subscription(
        &mut self,
        id: &str,
        scope: Scope,
        interaction: &str,
    ) -> Result<StoredSubscription, ApiError> {
        self.record["subscription_id"] = id.into();
        let caller = self.authorise(scope, interaction)?;
        // a FHIR logical id: [A-Za-z0-9-.]{1,64}
        let valid = (1..=64).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
        if !valid {
            return Err(ApiError::new(
                "INVALID_IDENTIFIER_VALUE",
                IssueType::Value,
                "SUB-ID",
                "",
                format!("`{id}` is not a logical id ([A-Za-z0-9-.], 1 to 64 characters)"),
            ));
        }
        let s = self
            .app
            .log
            .subscription(id)
            .map_err(|e| ApiError::internal(e.to_string()))?
            .ok_or_else(|| not_found(id))?;
        if !owns(self.app, &caller, &s) {
            return Err(not_owner(id));
        }
        self.record["subscription"] = json!({
            "id": s.id, "status": s.status, "criteria": s.criteria,
            "mailbox": s.mailbox, "end": s.end.map(|e| e.to_rfc3339()),
        });
        Ok(s)
    }

    /// Audits and answers a failure.
    async fn fail(mut self, e: ApiError, payload: Option<Vec<u8>>) -> Response<Body> {
        let (resp, text) = error_response(&e, self.wire);
        let mut entry = self.entry(e.status, Some(text));
        entry.payload = payload;
        match self.app.log.audit(entry).await {
            Ok(()) => resp,
            Err(err) => error_response(&ApiError::internal(format!("audit: {err}")), self.wire).0,
        }
    }
}

/// `asid` is registered for ODS code `ods` (registry).
fn registered_for(app: &AppState, asid: &str, ods: &str) -> bool {
    app.registry.asid(asid).is_some_and(|e| e.has_ods_code(ods))
}

/// The caller may see / delete `s` (digest 5.1, 9.3): same ASID, or an ODS
/// code the caller is registered for.
fn owns(app: &AppState, caller: &Caller, s: &StoredSubscription) -> bool {
    caller.asid == s.owner_asid
        // ODS codes compare ignoring case, as on create (check_ownership)
        || (!caller.ods_code.is_empty() && caller.ods_code.eq_ignore_ascii_case(&s.contact_ods))
        || registered_for(app, &caller.asid, &s.contact_ods)
}

fn not_found(id: &str) -> ApiError {
    ApiError::new(
        "NO_RECORD_FOUND",
        IssueType::NotFound,
        "SUB-NOT-FOUND",
        "",
        format!("no subscription `{id}`"),
    )
}

fn not_owner(id: &str) -> ApiError {
    ApiError::new(
        "ACCESS_DENIED",
        IssueType::Security,
        "SUB-OWNER",
        "",
        format!("subscription `{id}` belongs to another organisation"),
    )
}

/// The subscription as FHIR in `wire`.
fn render(s: &StoredSubscription, wire: Wire) -> Result<(String, &'static str), ApiError> {
    match wire {
        Wire::Json => Ok((s.resource_json.clone(), JSON_RESPONSE)),
        Wire::Xml => {
            let p = ems::stu3::from_json(s.resource_json.as_bytes())
                .map_err(|e| ApiError::internal(format!("stored subscription: {e}")))?;
            Ok((ems::stu3::to_xml(&p.resource), XML_RESPONSE))
        }
    }
}

/// A posted Subscription as stored (with id, `meta.lastUpdated`, status)
/// and as the matcher sees it (the shared mapping of ems-bundle).
struct Posted {
    resource: ems::stu3::Subscription,
    sub: ems::matching::Subscription,
}

impl Posted {
    fn contact_ods(&self) -> &str {
        self.sub.contact_ods.as_deref().unwrap_or_default()
    }
}

/// Stamps the validated resource with `id`, `status` and `meta.lastUpdated`
/// = `at` (digest 5.2 SUB-CREATE-META: NEMS assigns them) and maps it.
fn posted(
    v: ems::profiles::Validation,
    id: &str,
    status: &str,
    at: DateTime<Utc>,
) -> Result<Posted, ApiError> {
    let mut resource = match v.resource {
        Some(Resource::Subscription(s)) => *s,
        Some(other) => {
            return Err(ApiError::new(
                "INVALID_RESOURCE",
                IssueType::Invalid,
                "SUB-RESOURCE",
                other.resource_type(),
                format!("a {} is not a Subscription", other.resource_type()),
            ))
        }
        None => {
            return Err(ApiError::internal(
                "validated subscription without resource",
            ))
        }
    };
    resource.id = Some(Primitive::new(id.to_string()));
    resource
        .meta
        .get_or_insert_with(Default::default)
        .last_updated = Some(Primitive::new(
        at.to_rfc3339_opts(SecondsFormat::Millis, true),
    ));
    resource.status = Some(Primitive::new(status.to_string()));
    let mut sub = ems::bundle::to_match_subscription(&resource).map_err(|e| {
        ApiError::new(
            "INVALID_PARAMETER",
            IssueType::Value,
            "SUB-MAP",
            e.element,
            e.message,
        )
    })?;
    // MESH mailbox ids are case-insensitive (canonically upper case): one
    // mailbox is one outbox row per message (7.2) and one duplicate key,
    // however the subscriber spelled it; the stored resource keeps the
    // spelling sent
    sub.mailbox = sub.mailbox.to_ascii_uppercase();
    Ok(Posted { resource, sub })
}

/// The registry checks of a create (digest 5.1, 5.2 SUB-CONTACT).
fn check_ownership(app: &AppState, caller: &Caller, p: &Posted) -> Result<(), ApiError> {
    let deny = |rule: &'static str, m: String| {
        ApiError::new(
            "ACCESS_DENIED",
            IssueType::Security,
            rule,
            "Subscription.contact[0].value",
            m,
        )
    };
    if !caller.ods_code.is_empty() && !caller.ods_code.eq_ignore_ascii_case(p.contact_ods()) {
        let registered = registered_for(app, &caller.asid, p.contact_ods());
        if !registered {
            return Err(deny(
                "SUB-ASID-ODS",
                format!(
                    "ODS code {} is not the calling organisation {}",
                    p.contact_ods(),
                    caller.ods_code
                ),
            ));
        }
    }
    if app.registry.is_open() {
        return Ok(());
    }
    if !registered_for(app, &caller.asid, p.contact_ods()) {
        return Err(deny(
            "SUB-ASID-ODS",
            format!(
                "ASID {} is not registered for ODS code {}",
                caller.asid,
                p.contact_ods()
            ),
        ));
    }
    match app.registry.mailbox_owner(&p.sub.mailbox) {
        None => Err(ApiError::new(
            "ORGANISATION_NOT_FOUND",
            IssueType::NotFound,
            "SUB-MAILBOX-OWNER",
            "Subscription.channel.endpoint",
            format!(
                "no organisation is registered as owner of MESH mailbox {}",
                p.sub.mailbox
            ),
        )),
        Some(owner) if !owner.eq_ignore_ascii_case(p.contact_ods()) => Err(ApiError::new(
            "ACCESS_DENIED",
            IssueType::Security,
            "SUB-MAILBOX-OWNER",
            "Subscription.channel.endpoint",
            format!(
                "MESH mailbox {} belongs to {owner}, not to the first contact {}",
                p.sub.mailbox,
                p.contact_ods()
            ),
        )),
        Some(_) => Ok(()),
    }
}

/// Identity of a subscription for duplicate detection: canonical criteria
/// (events sorted), mailbox, contacts.
fn dup_key(p: &Posted) -> String {
    let mut c = p.sub.criteria.clone();
    c.events.sort();
    let contacts: Vec<&str> = p
        .resource
        .contact
        .iter()
        .filter_map(|c| c.value.str_value())
        .collect();
    format!(
        "{c}\u{1f}{}\u{1f}{}",
        p.sub.mailbox,
        contacts.join("\u{1e}")
    )
}

/// The `Location` of a created subscription (digest 5.2): `https` when the
/// request came over TLS ([`crate::tls::serve`] marks each request with its
/// client certificate name), the `Host` of the request when it is a valid
/// authority (a host and port, nothing else: a `Host` such as
/// `evil.example/x?` must not redirect the client), else `localhost`.
fn location(headers: &HeaderMap, ext: &Extensions, id: &str) -> String {
    let scheme = if ext.get::<crate::tls::ClientCertName>().is_some() {
        "https"
    } else {
        "http"
    };
    let host = header(headers, "host")
        .filter(|h| {
            h.parse::<axum::http::uri::Authority>()
                .is_ok_and(|a| a.as_str() == *h && !h.contains('@'))
        })
        .unwrap_or("localhost");
    format!("{scheme}://{host}/STU3/Subscription/{id}")
}

fn http_date(t: DateTime<Utc>) -> String {
    httpdate::fmt_http_date(std::time::SystemTime::from(t))
}

/// The body is in the format its `Content-Type` names (digest 2.9): FHIR
/// JSON under a JSON media type, XML under an XML one (rule
/// `HTTP-BODY-FORMAT`); an empty body is left to the validator.
fn body_in_format(bytes: &[u8], wire: Wire) -> Result<(), ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    let sent = match ems::stu3::Format::detect(bytes) {
        ems::profiles::Format::Json => Wire::Json,
        _ => Wire::Xml,
    };
    if sent == wire {
        return Ok(());
    }
    Err(ApiError::new(
        "MESSAGE_NOT_WELL_FORMED",
        IssueType::Structure,
        "HTTP-BODY-FORMAT",
        "",
        format!("the body is {sent:?} but the Content-Type names {wire:?} (digest 2.9)"),
    ))
}

/// `POST /STU3/Subscription`.
pub(crate) async fn create(
    State(app): State<Arc<AppState>>,
    RawQuery(q): RawQuery,
    ext: Extensions,
    headers: HeaderMap,
    body: Body,
) -> Response<Body> {
    let mut call = Call::new(
        &app,
        &headers,
        &ext,
        AuditKind::SubscriptionCreate,
        q.as_deref(),
    );
    let mut payload = None;
    match create_inner(&mut call, body, &mut payload).await {
        Ok(r) => r,
        Err(e) => call.fail(e, payload).await,
    }
}

async fn create_inner(
    call: &mut Call<'_>,
    body: Body,
    payload: &mut Option<Vec<u8>>,
) -> Result<Response<Body>, ApiError> {
    let app = call.app;
    // the body first (bounded), so every rejected create is audited with it
    let bytes = read_body(call.headers, body, app.body_timeout).await?;
    *payload = Some(bytes.clone());
    let caller = call.authorise(Scope::SubscriptionWrite, INTERACTION_POST)?;
    let wire = content_type(call.headers, true)?;
    body_in_format(&bytes, wire)?;
    // create context: an id, meta.versionId or meta.lastUpdated is an error
    // (SUB-CREATE-META); status must be `requested` (SUB-STATUS)
    let v = app
        .validator
        .validate_bytes(&bytes, InputKind::Subscription);
    let mut issues = v.outcome.issues.clone();
    // the validator decides create vs stored context by the presence of an
    // id, so a create request with an id is checked here (SUB-CREATE-META)
    if let Some(Resource::Subscription(r)) = &v.resource {
        if r.id.is_some() {
            issues.insert(
                0,
                Issue::new(
                    Severity::Error,
                    IssueType::Invalid,
                    "SUB-CREATE-META",
                    "Subscription.id",
                    "a create request carries no id; NEMS assigns the logical id (digest 5.2)",
                ),
            );
        }
    }
    if issues.iter().any(|i| i.severity.is_error()) {
        return Err(ApiError::from_findings(issues));
    }
    let id = uuid::Uuid::new_v4().to_string();
    let status = if app.auto_activate {
        "active"
    } else {
        "requested"
    };
    let p = posted(v, &id, status, call.at)?;
    check_ownership(app, &caller, &p)?;
    let events: Vec<&str> = p.sub.criteria.events.iter().map(String::as_str).collect();
    let decision = app.lifecycle.check_subscribe(&events, call.at.date_naive());
    if !decision.accepted {
        return Err(lifecycle_rejection(&decision, "Subscription.criteria"));
    }
    let warnings = lifecycle_issues(&decision, "Subscription.criteria");
    let at = call.at;
    let stored = StoredSubscription {
        id: id.clone(),
        owner_asid: caller.asid.clone(),
        contact_ods: p.contact_ods().to_string(),
        mailbox: p.sub.mailbox.clone(),
        status: status.to_string(),
        created: p.sub.created,
        end: p.sub.end,
        criteria: p.sub.criteria.to_string(),
        dup_key: dup_key(&p),
        resource_json: ems::stu3::to_json_of(&p.resource),
    };
    let warning_body =
        (!warnings.is_empty()).then(|| crate::http::outcome_body(&warnings, call.wire));
    call.record["subscription"] = json!({
        "id": id,
        "status": status,
        "criteria": stored.criteria,
        "mailbox": stored.mailbox,
        "contact_ods": stored.contact_ods,
        "end": stored.end.map(|e| e.to_rfc3339()),
        "resource": stored.resource_json,
    });
    let mut entry = call.entry(201, warning_body.as_ref().map(|b| b.0.clone()));
    entry.payload = payload.take();
    match app.log.create_subscription(stored.clone(), entry).await {
        Ok(()) => {}
        Err(PipelineError::Duplicate(existing)) => {
            return Err(ApiError::new(
                "DUPLICATE_REJECTED",
                IssueType::Duplicate,
                "SUB-DUPLICATE",
                "Subscription",
                format!("an identical subscription exists ({existing}): same criteria, endpoint and contact"),
            ))
        }
        Err(e) => return Err(ApiError::internal(format!("the subscription could not be stored: {e}"))),
    }
    app.routing.apply(&stored);
    let created = Response::builder()
        .status(StatusCode::CREATED)
        .header("location", location(call.headers, call.ext, &id))
        .header("etag", "W/\"1\"")
        .header("last-modified", http_date(at));
    Ok(crate::http::success(created, warning_body))
}

/// The `{id}` of a subscription path; when it does not decode (percent-
/// encoded bytes that are not UTF-8) the raw segment, which then fails the
/// logical id check (`SUB-ID`) with an OperationOutcome like any bad id,
/// instead of axum's plain-text rejection.
/// `from_end` counts path segments from the end (1: the last).
pub(crate) fn path_id(
    id: Result<Path<String>, PathRejection>,
    uri: &Uri,
    from_end: usize,
) -> String {
    match id {
        Ok(Path(id)) => id,
        Err(_) => uri
            .path()
            .rsplit('/')
            .nth(from_end.saturating_sub(1))
            .unwrap_or_default()
            .to_string(),
    }
}

/// `GET /STU3/Subscription/{id}`.
pub(crate) async fn read(
    State(app): State<Arc<AppState>>,
    id: Result<Path<String>, PathRejection>,
    uri: Uri,
    RawQuery(q): RawQuery,
    ext: Extensions,
    headers: HeaderMap,
) -> Response<Body> {
    let id = path_id(id, &uri, 1);
    let mut call = Call::new(
        &app,
        &headers,
        &ext,
        AuditKind::SubscriptionRead,
        q.as_deref(),
    );
    let s = match call.own_subscription(&id, Scope::SubscriptionRead, INTERACTION_GET) {
        Ok(s) => s,
        Err(e) => return call.fail(e, None).await,
    };
    let (text, ct) = match render(&s, call.wire) {
        Ok(r) => r,
        Err(e) => return call.fail(e, None).await,
    };
    let entry = call.entry(200, None);
    if let Err(e) = app.log.audit(entry).await {
        return error_response(&ApiError::internal(format!("audit: {e}")), call.wire).0;
    }
    Response::builder()
        .status(StatusCode::OK)
        .header(axum::http::header::CONTENT_TYPE, ct)
        .header("etag", "W/\"1\"")
        .header("last-modified", http_date(s.created))
        .body(Body::from(text))
        .unwrap_or_default()
}

/// `DELETE /STU3/Subscription/{id}`.
pub(crate) async fn delete(
    State(app): State<Arc<AppState>>,
    id: Result<Path<String>, PathRejection>,
    uri: Uri,
    RawQuery(q): RawQuery,
    ext: Extensions,
    headers: HeaderMap,
) -> Response<Body> {
    let id = path_id(id, &uri, 1);
    let mut call = Call::new(
        &app,
        &headers,
        &ext,
        AuditKind::SubscriptionDelete,
        q.as_deref(),
    );
    if let Err(e) = call.own_subscription(&id, Scope::SubscriptionWrite, INTERACTION_DELETE) {
        return call.fail(e, None).await;
    }
    let entry = call.entry(200, None);
    match app.log.delete_subscription(id.clone(), entry).await {
        Ok(true) => {}
        Ok(false) => return call.fail(not_found(&id), None).await,
        Err(e) => return call.fail(ApiError::internal(e.to_string()), None).await,
    }
    app.routing.remove(&id);
    Response::builder()
        .status(StatusCode::OK)
        .body(Body::empty())
        .unwrap_or_default()
}

fn not_implemented_error(what: &str) -> ApiError {
    ApiError::new(
        "NOT_IMPLEMENTED",
        IssueType::NotSupported,
        "HTTP-NOT-IMPLEMENTED",
        "",
        what.to_string(),
    )
}

/// Audits (kind `rejected`, with method, path, headers, JWT, the body as
/// far as it is readable, and the response) and answers a request no API
/// serves (or whose head [`crate::head`] refuses).
pub(crate) async fn rejected(
    app: &AppState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Body,
    e: ApiError,
) -> Response<Body> {
    let ext = Extensions::new();
    let mut call = Call::new(app, headers, &ext, AuditKind::Rejected, uri.query());
    call.record["method"] = method.as_str().into();
    call.record["path"] = uri.path().into();
    let payload = read_body(headers, body, app.body_timeout)
        .await
        .ok()
        .filter(|b| !b.is_empty());
    call.fail(e, payload).await
}

/// Handlers that only refuse: each audits the call as `rejected` and
/// answers the error its closure makes from the request's URI.
macro_rules! refusing_handlers {
    ($($(#[$doc:meta])* $name:ident => $error:expr;)*) => {$(
        $(#[$doc])*
        pub(crate) async fn $name(
            State(app): State<Arc<AppState>>,
            method: Method,
            uri: Uri,
            headers: HeaderMap,
            body: Body,
        ) -> Response<Body> {
            let error: fn(&Uri) -> ApiError = $error;
            let e = error(&uri);
            rejected(&app, &method, &uri, &headers, body, e).await
        }
    )*};
}

refusing_handlers! {
    /// `GET /STU3/Subscription?...`: search was withdrawn in July 2019 (digest 5.5).
    search => |_| not_implemented_error(
        "Subscription search was withdrawn from the specification in July 2019 (digest 5.5)",
    );
    /// `PUT /STU3/Subscription/{id}`: subscriptions are not versioned (digest 5.1).
    update => |_| not_implemented_error(
        "subscriptions are not versioned: delete it and create a new one (digest 5.1)",
    );
    /// A method the path does not define.
    not_implemented => |_| not_implemented_error("the method is not implemented for this path");
    /// Any path outside the APIs: `400 BAD_REQUEST` (the NEMS simulator's answer).
    bad_path => |uri| ApiError::new(
        "BAD_REQUEST",
        IssueType::NotFound,
        "HTTP-PATH",
        "",
        format!("`{}` is not an endpoint of this service", uri.path()),
    );
}
