//! The publish and subscription APIs in-process: happy paths, matching into
//! the outbox, and the bad-input matrix (one case per status/code of issue
//! 15; each gets its status and a Spine OperationOutcome, and nothing is
//! stored or delivered).

mod common;

use common::*;
use ems_server::pipeline::*;
use ems_server::{Pipeline, Server, ServerConfig};
use std::sync::Arc;

#[tokio::test]
async fn publish_matches_active_subscriptions_into_the_outbox() {
    let dir = tempdir();
    let (s, app) = open(&dir, &config(&dir));
    let r = subscribe(
        &app,
        subscription_xml(&explicit("vaccinations-1"), "X26ABC1", "RR8"),
        &[],
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let loc = r.headers["location"].to_str().unwrap().to_string();
    assert!(loc.contains("/STU3/Subscription/"));
    assert_eq!(r.headers["etag"], "W/\"1\"");
    assert!(r.headers.contains_key("last-modified"));
    assert!(r.body.is_empty());
    // a generic one with a tag, same mailbox: one copy, partner id of the tagged one
    let generic = "/Bundle?type=message&subscriptionRuleType=GP_GP_GP&Organization.identifier=B86001&MessageHeader.event=vaccinations-1&tag=site1";
    let r2 = subscribe(&app, subscription_xml(generic, "X26ABC1", "RR8"), &[]).await;
    assert_eq!(r2.status, 201, "{}", r2.text());
    let r = publish(&app, "vaccinations-1", message("vaccinations-1-new"), &[]).await;
    assert_eq!(r.status, 202, "{}", r.text());
    assert!(r.body.is_empty());
    let rows = s.state().log.deliveries(0, 100).unwrap();
    assert_eq!(rows.len(), 1, "one row per (message, mailbox)");
    assert_eq!(rows[0].mailbox, "X26ABC1");
    assert_eq!(rows[0].workflow_id, "VACCINATIONS_1");
    assert_eq!(rows[0].state, DeliveryState::Pending);
    assert_eq!(
        s.state()
            .log
            .message_bytes(rows[0].message_seq)
            .unwrap()
            .unwrap(),
        message("vaccinations-1-new"),
        "the published bytes are stored unchanged"
    );
    // an event nobody subscribed to: accepted, no row
    let r = publish(
        &app,
        "newborn-hearing-1",
        message("newborn-hearing-1-new"),
        &[],
    )
    .await;
    assert_eq!(r.status, 202, "{}", r.text());
    assert_eq!(s.state().log.deliveries(0, 100).unwrap().len(), 1);
}

#[tokio::test]
async fn requested_subscriptions_match_only_after_activation() {
    let dir = tempdir();
    let cfg = ServerConfig {
        auto_activate: false,
        ..config(&dir)
    };
    let (s, app) = open(&dir, &cfg);
    let id = subscribed(&app).await;
    publish(&app, "vaccinations-1", message("vaccinations-1-new"), &[]).await;
    assert_eq!(
        s.state().log.deliveries(0, 100).unwrap().len(),
        0,
        "requested does not match"
    );
    let get = on_subscription(&app, "GET", &id, &[]).await;
    assert!(
        get.text().contains("<status value=\"requested\"/>"),
        "{}",
        get.text()
    );
    let a = send(
        &app,
        request(
            "POST",
            &format!("/_ems/subscriptions/{id}/activate"),
            &[],
            vec![],
        ),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.text());
    publish(&app, "vaccinations-1", message("vaccinations-1-new"), &[]).await;
    assert_eq!(s.state().log.deliveries(0, 100).unwrap().len(), 1);
    // and after a restart the stored state is indexed again
    drop(app);
    drop(s);
    let (s2, _) = open(&dir, &cfg);
    assert_eq!(s2.state().routing.len(), 1);
}

#[tokio::test]
async fn read_in_the_requested_format_and_delete() {
    let dir = tempdir();
    let (s, app) = open(&dir, &config(&dir));
    let id = subscribed(&app).await;
    let get = |q: &str, accept: &str| {
        let (q, accept) = (q.to_string(), accept.to_string());
        let (app, id) = (app.clone(), id.clone());
        async move {
            send(
                &app,
                request(
                    "GET",
                    &format!("/STU3/Subscription/{id}{q}"),
                    &[("InteractionID", SUB_GET), ("Accept", &accept)],
                    vec![],
                ),
            )
            .await
        }
    };
    let x = get("", "").await;
    assert_eq!(x.status, 200);
    assert!(x.headers["content-type"].to_str().unwrap().contains("xml"));
    assert!(x.text().contains(&format!("<id value=\"{id}\"/>")));
    assert!(x.text().contains("<lastUpdated value="));
    assert!(x.text().contains("<status value=\"active\"/>"));
    let j = get("", "application/fhir+json").await;
    assert!(j.headers["content-type"].to_str().unwrap().contains("json"));
    let v: serde_json::Value = serde_json::from_slice(&j.body).unwrap();
    assert_eq!(v["resourceType"], "Subscription");
    assert_eq!(v["id"], id.as_str());
    let f = get("?_format=json", "application/fhir+xml").await;
    assert!(
        f.headers["content-type"].to_str().unwrap().contains("json"),
        "_format wins"
    );
    // JSON create works too
    let json_body = ems::stu3::to_json(
        &ems::stu3::from_xml(&subscription_xml(
            &explicit("newborn-hearing-1"),
            "X26ABC1",
            "RR8",
        ))
        .unwrap()
        .resource,
    );
    let r = subscribe(
        &app,
        json_body.into_bytes(),
        &[("Content-Type", "application/fhir+json")],
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let d = on_subscription(&app, "DELETE", &id, &[]).await;
    assert_eq!(d.status, 200, "{}", d.text());
    assert_eq!(s.state().routing.len(), 1);
    let gone = get("", "").await;
    assert_eq!(gone.status, 404);
    assert_eq!(gone.spine_codes(), ["NO_RECORD_FOUND"]);
    // the audit has create, read x3, create, delete, failed read
    let audit = s.state().log.audit_records(0, 100).unwrap();
    let kinds: Vec<_> = audit.iter().map(|a| a.entry.kind.name()).collect();
    assert_eq!(
        kinds,
        [
            "subscription-create",
            "subscription-read",
            "subscription-read",
            "subscription-read",
            "subscription-create",
            "subscription-delete",
            "subscription-read"
        ]
    );
}

#[tokio::test]
async fn deprecated_events_get_202_with_the_warning_and_withdrawn_are_rejected() {
    let dir = tempdir();
    let mut cfg = config(&dir);
    cfg.lifecycle = vec![
        ems_server::LifecycleEntry::parse_flag(
            "vaccinations-1=deprecated@2020-01-01@https://example.org/vacc",
        )
        .unwrap(),
        ems_server::LifecycleEntry::parse_flag("vaccinations-1=no-longer-supported@2099-01-01")
            .unwrap(),
        ems_server::LifecycleEntry::parse_flag("nipe-outcome-1=withdrawn@2020-01-01").unwrap(),
    ];
    let (s, app) = open(&dir, &cfg);
    let r = publish(&app, "vaccinations-1", message("vaccinations-1-new"), &[]).await;
    assert_eq!(r.status, 202);
    assert_eq!(r.spine_codes(), ["DEPRECATED"]);
    assert!(
        r.text().contains("01/01/2099") && r.text().contains("https://example.org/vacc"),
        "{}",
        r.text()
    );
    assert!(r.text().contains("<severity value=\"information\"/>"));
    let r = publish(&app, "nipe-outcome-1", message("nipe-outcome-1-new"), &[]).await;
    assert_eq!(r.status, 422);
    assert_eq!(r.spine_codes(), ["WITHDRAWN"]);
    let r = subscribe(
        &app,
        subscription_xml(&explicit("nipe-outcome-1"), "X26ABC1", "RR8"),
        &[],
    )
    .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.spine_codes(), ["WITHDRAWN"]);
    let r = subscribe(
        &app,
        subscription_xml(&explicit("vaccinations-1"), "X26ABC1", "RR8"),
        &[],
    )
    .await;
    assert_eq!(r.status, 201);
    assert_eq!(
        r.spine_codes(),
        ["DEPRECATED"],
        "create with a deprecation warning has a body"
    );
    assert_eq!(stored(&s), (1, 0, 1));
}

/// A message with `from` replaced by `to` (exactly once or everywhere).
fn edit(name: &str, from: &str, to: &str) -> Vec<u8> {
    let text = String::from_utf8(message(name)).unwrap();
    assert!(text.contains(from), "{name} has no `{from}`");
    text.replace(from, to).into_bytes()
}

struct Case {
    name: &'static str,
    status: u16,
    code: &'static str,
}

async fn check(app: &axum::Router, s: &Server, c: Case, r: Reply) {
    assert_eq!(r.status.as_u16(), c.status, "{}: {}", c.name, r.text());
    let codes = r.spine_codes();
    assert_eq!(
        codes.first().map(String::as_str),
        Some(c.code),
        "{}: {codes:?} {}",
        c.name,
        r.text()
    );
    assert_eq!(stored(s), (0, 0, 0), "{}: nothing stored", c.name);
    let _ = app;
}

#[tokio::test]
async fn bad_publish_matrix() {
    let dir = tempdir();
    let cfg = ServerConfig {
        pds_asid: Some("999999999999".into()),
        ..config(&dir)
    };
    let (s, app) = open(&dir, &cfg);
    let vacc = || message("vaccinations-1-new");
    let x = "application/fhir+xml";
    macro_rules! case {
        ($name:literal, $status:literal, $code:literal, $reply:expr) => {
            check(
                &app,
                &s,
                Case {
                    name: $name,
                    status: $status,
                    code: $code,
                },
                $reply,
            )
            .await
        };
    }
    case!(
        "missing fromASID",
        400,
        "MISSING_OR_INVALID_HEADER",
        publish(&app, "vaccinations-1", vacc(), &[("fromASID", "")]).await
    );
    case!(
        "missing toASID",
        400,
        "MISSING_OR_INVALID_HEADER",
        publish(&app, "vaccinations-1", vacc(), &[("toASID", "")]).await
    );
    case!(
        "missing Authorization",
        400,
        "MISSING_OR_INVALID_HEADER",
        publish(&app, "vaccinations-1", vacc(), &[("Authorization", "")]).await
    );
    case!(
        "wrong InteractionID",
        400,
        "MISSING_OR_INVALID_HEADER",
        publish(
            &app,
            "vaccinations-1",
            vacc(),
            &[(
                "InteractionID",
                "urn:nhs:names:services:events:Nipeoutcome.Write"
            )]
        )
        .await
    );
    case!(
        "invalid NHS number",
        400,
        "INVALID_NHS_NUMBER",
        publish(
            &app,
            "vaccinations-1",
            edit("vaccinations-1-new", NHS, "9434765918"),
            &[]
        )
        .await
    );
    let full = vacc();
    case!(
        "truncated body",
        400,
        "MESSAGE_NOT_WELL_FORMED",
        publish(&app, "vaccinations-1", full[..full.len() / 2].to_vec(), &[]).await
    );
    let dtd = format!("<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;&lol;\">]>{}", String::from_utf8(vacc()).unwrap());
    case!(
        "entity expansion",
        400,
        "MESSAGE_NOT_WELL_FORMED",
        publish(&app, "vaccinations-1", dtd.into_bytes(), &[]).await
    );
    let deep = format!(
        "<Bundle xmlns=\"http://hl7.org/fhir\"><meta>{}{}</meta></Bundle>",
        "<extension url=\"x\">".repeat(5000),
        "</extension>".repeat(5000)
    );
    case!(
        "deep nesting",
        400,
        "INVALID_REQUEST_MESSAGE",
        publish(&app, "vaccinations-1", deep.into_bytes(), &[]).await
    );
    let mut big = vacc();
    let pad = format!("<!--{}-->", "x".repeat(3 * 1024 * 1024));
    big.extend_from_slice(pad.as_bytes());
    case!(
        "over 3 MB",
        400,
        "INVALID_REQUEST_MESSAGE",
        publish(&app, "vaccinations-1", big, &[]).await
    );
    case!(
        "unknown element",
        400,
        "INVALID_ELEMENT",
        publish(
            &app,
            "vaccinations-1",
            edit(
                "vaccinations-1-new",
                "<type value=\"message\"/>",
                "<type value=\"message\"/><nonsense value=\"1\"/>"
            ),
            &[]
        )
        .await
    );
    case!(
        "unknown event code",
        400,
        "INVALID_CODE_VALUE",
        publish(
            &app,
            "vaccinations-1",
            edit(
                "vaccinations-1-new",
                "<code value=\"vaccinations-1\"/>",
                "<code value=\"vaccinations-9\"/>"
            ),
            &[]
        )
        .await
    );
    case!(
        "event code system",
        400,
        "INVALID_CODE_SYSTEM",
        publish(
            &app,
            "vaccinations-1",
            edit(
                "vaccinations-1-new",
                "https://fhir.nhs.uk/STU3/CodeSystem/EventType-1",
                "https://fhir.nhs.uk/STU3/ValueSet/EventType-1"
            ),
            &[]
        )
        .await
    );
    case!(
        "ODS identifier system",
        400,
        "INVALID_IDENTIFIER_SYSTEM",
        publish(
            &app,
            "vaccinations-1",
            edit(
                "vaccinations-1-new",
                "<system value=\"https://fhir.nhs.uk/Id/ods-organization-code\"/>",
                "<system value=\"https://fhir.nhs.uk/Id/ods-site-codes\"/>"
            ),
            &[]
        )
        .await
    );
    case!(
        "wrong path",
        400,
        "BAD_REQUEST",
        send(
            &app,
            request(
                "POST",
                "/STU3/Events/2/$process-message",
                &[("Content-Type", x)],
                vacc()
            )
        )
        .await
    );
    case!(
        "PDS event from a non-PDS ASID",
        403,
        "ACCESS DENIED",
        publish(
            &app,
            "pds-change-of-gp-1",
            message("pds-change-of-gp-1-new"),
            &[]
        )
        .await
    );
    case!(
        "text/plain",
        415,
        "UNSUPPORTED_MEDIA_TYPE",
        publish(
            &app,
            "vaccinations-1",
            vacc(),
            &[("Content-Type", "text/plain")]
        )
        .await
    );
    case!(
        "JSON media type to publish",
        415,
        "UNSUPPORTED_MEDIA_TYPE",
        publish(
            &app,
            "vaccinations-1",
            vacc(),
            &[("Content-Type", "application/fhir+json")]
        )
        .await
    );
    let json = ems::stu3::to_json(&ems::stu3::from_xml(&vacc()).unwrap().resource);
    case!(
        "JSON body to publish",
        400,
        "MESSAGE_NOT_WELL_FORMED",
        publish(&app, "vaccinations-1", json.into_bytes(), &[]).await
    );
    case!(
        "not a message bundle",
        422,
        "INVALID_RESOURCE",
        publish(
            &app,
            "vaccinations-1",
            edit(
                "vaccinations-1-new",
                "<type value=\"message\"/>",
                "<type value=\"collection\"/>"
            ),
            &[]
        )
        .await
    );
    let focus = String::from_utf8(vacc()).unwrap();
    let at = focus.find("<focus>").unwrap();
    let end = at + focus[at..].find("</focus>").unwrap();
    let broken = format!(
        "{}<focus><reference value=\"urn:uuid:00000000-0000-4000-8000-000000000000\"/>{}",
        &focus[..at],
        &focus[end..]
    );
    case!(
        "focus not in the bundle",
        422,
        "REFERENCE_NOT_FOUND",
        publish(&app, "vaccinations-1", broken.into_bytes(), &[]).await
    );
    case!(
        "method not implemented",
        501,
        "NOT_IMPLEMENTED",
        send(
            &app,
            request("GET", "/STU3/Events/1/$process-message", &[], vec![])
        )
        .await
    );
    // the PDS ASID may publish the PDS events
    let ok = publish(
        &app,
        "pds-change-of-gp-1",
        message("pds-change-of-gp-1-new"),
        &[("fromASID", "999999999999")],
    )
    .await;
    assert_eq!(ok.status, 202, "{}", ok.text());
    // every rejection was audited with its payload and response
    let audit = s.state().log.audit_records(0, 1000).unwrap();
    assert!(audit.len() >= 18, "{}", audit.len());
    let rejected: Vec<_> = audit.iter().filter(|a| a.entry.status >= 400).collect();
    assert!(rejected.iter().all(|a| a.entry.record["response"]["body"]
        .as_str()
        .unwrap()
        .contains("OperationOutcome")));
    assert!(
        rejected
            .iter()
            .filter(|a| a.entry.payload.is_some())
            .count()
            >= 10
    );
}

#[tokio::test]
async fn bad_subscription_matrix() {
    let dir = tempdir();
    let (s, app) = open(&dir, &config(&dir));
    macro_rules! case {
        ($name:literal, $status:literal, $code:literal, $reply:expr) => {
            check(
                &app,
                &s,
                Case {
                    name: $name,
                    status: $status,
                    code: $code,
                },
                $reply,
            )
            .await
        };
    }
    let good = || subscription_xml(&explicit("vaccinations-1"), "X26ABC1", "RR8");
    case!(
        "missing Authorization",
        400,
        "MISSING_OR_INVALID_HEADER",
        subscribe(&app, good(), &[("Authorization", "")]).await
    );
    case!(
        "wrong InteractionID",
        400,
        "MISSING_OR_INVALID_HEADER",
        subscribe(&app, good(), &[("InteractionID", SUB_GET)]).await
    );
    case!(
        "bad criteria",
        422,
        "INVALID_PARAMETER",
        subscribe(
            &app,
            subscription_xml(
                "/Bundle?type=message&MessageHeader.event=vaccinations-1",
                "X26ABC1",
                "RR8"
            ),
            &[]
        )
        .await
    );
    case!(
        "criteria with a bad NHS number",
        400,
        "INVALID_NHS_NUMBER",
        subscribe(
            &app,
            subscription_xml(
                &explicit("vaccinations-1").replace(NHS, "9434765918"),
                "X26ABC1",
                "RR8"
            ),
            &[]
        )
        .await
    );
    let with_id = String::from_utf8(good())
        .unwrap()
        .replace("<meta>", "<id value=\"abc\"/><meta>");
    case!(
        "create with an id",
        400,
        "INVALID_ELEMENT",
        subscribe(&app, with_id.into_bytes(), &[]).await
    );
    case!(
        "wrong media type",
        415,
        "UNSUPPORTED_MEDIA_TYPE",
        subscribe(&app, good(), &[("Content-Type", "application/xml")]).await
    );
    case!(
        "search (withdrawn)",
        501,
        "NOT_IMPLEMENTED",
        send(
            &app,
            request(
                "GET",
                "/STU3/Subscription?channel.endpoint=X26ABC1",
                &[],
                vec![]
            )
        )
        .await
    );
    case!(
        "update",
        501,
        "NOT_IMPLEMENTED",
        send(&app, request("PUT", "/STU3/Subscription/abc", &[], good())).await
    );
    case!(
        "read unknown",
        404,
        "NO_RECORD_FOUND",
        send(
            &app,
            request(
                "GET",
                "/STU3/Subscription/abc",
                &[("InteractionID", SUB_GET)],
                vec![]
            )
        )
        .await
    );
    case!(
        "read with a malformed id",
        400,
        "INVALID_IDENTIFIER_VALUE",
        send(
            &app,
            request(
                "GET",
                "/STU3/Subscription/a%20b",
                &[("InteractionID", SUB_GET)],
                vec![]
            )
        )
        .await
    );
    case!(
        "malformed",
        400,
        "MESSAGE_NOT_WELL_FORMED",
        subscribe(
            &app,
            b"<Subscription xmlns=\"http://hl7.org/fhir\"><status".to_vec(),
            &[]
        )
        .await
    );
    // duplicates and other organisations' subscriptions
    let r = subscribe(&app, good(), &[]).await;
    assert_eq!(r.status, 201);
    let id = created_id(&r);
    let dup = subscribe(&app, good(), &[]).await;
    assert_eq!(dup.status, 422);
    assert_eq!(dup.spine_codes(), ["DUPLICATE_REJECTED"]);
    let other = send(
        &app,
        request(
            "GET",
            &format!("/STU3/Subscription/{id}"),
            &[("InteractionID", SUB_GET), ("fromASID", "200000000002")],
            vec![],
        ),
    )
    .await;
    assert_eq!(other.status, 403);
    assert_eq!(other.spine_codes(), ["ACCESS DENIED"]);
    let del = send(
        &app,
        request(
            "DELETE",
            &format!("/STU3/Subscription/{id}"),
            &[("InteractionID", SUB_DELETE), ("fromASID", "200000000002")],
            vec![],
        ),
    )
    .await;
    assert_eq!(del.status, 403);
    let mut n = 0;
    s.state()
        .log
        .for_each_subscription(&mut |_| n += 1)
        .unwrap();
    assert_eq!(n, 1, "the duplicate and the foreign delete changed nothing");
}

/// A store whose accept always fails: 500, and the message is not stored.
struct FailingAccept(ems_server::SqlitePipeline);

impl Pipeline for FailingAccept {
    fn accept(&self, _: NewMessage, _: Vec<NewDelivery>, _: AuditEntry) -> Commit<i64> {
        Box::pin(async { Err(PipelineError::Store("disk full".into())) })
    }
    fn audit(&self, e: AuditEntry) -> Commit<()> {
        self.0.audit(e)
    }
    fn create_subscription(&self, s: StoredSubscription, a: AuditEntry) -> Commit<()> {
        self.0.create_subscription(s, a)
    }
    fn delete_subscription(&self, id: String, a: AuditEntry) -> Commit<bool> {
        self.0.delete_subscription(id, a)
    }
    fn update_subscription(&self, s: StoredSubscription, a: AuditEntry) -> Commit<bool> {
        self.0.update_subscription(s, a)
    }
    fn subscription(&self, id: &str) -> Result<Option<StoredSubscription>, PipelineError> {
        self.0.subscription(id)
    }
    fn for_each_subscription(
        &self,
        f: &mut dyn FnMut(StoredSubscription),
    ) -> Result<(), PipelineError> {
        self.0.for_each_subscription(f)
    }
    fn subscriptions_version(&self) -> Result<i64, PipelineError> {
        self.0.subscriptions_version()
    }
    fn claim(&self, now: i64, limit: usize) -> Commit<Vec<OutboxRow>> {
        self.0.claim(now, limit)
    }
    fn in_flight(&self) -> Result<Vec<OutboxRow>, PipelineError> {
        self.0.in_flight()
    }
    fn mark_sent(&self, id: i64, m: String) -> Commit<()> {
        self.0.mark_sent(id, m)
    }
    fn reschedule(&self, id: i64, at: i64, e: String) -> Commit<()> {
        self.0.reschedule(id, at, e)
    }
    fn message_bytes(&self, seq: i64) -> Result<Option<Vec<u8>>, PipelineError> {
        self.0.message_bytes(seq)
    }
    fn deliveries(&self, after: i64, limit: usize) -> Result<Vec<OutboxRow>, PipelineError> {
        self.0.deliveries(after, limit)
    }
    fn audit_records(&self, after: i64, limit: usize) -> Result<Vec<AuditRecord>, PipelineError> {
        self.0.audit_records(after, limit)
    }
}

#[tokio::test]
async fn a_store_failure_is_500_and_nothing_is_accepted() {
    let dir = tempdir();
    let cfg = config(&dir);
    let log = Arc::new(FailingAccept(
        ems_server::SqlitePipeline::open(&cfg.data).unwrap(),
    ));
    let s = Server::with_pipeline(&cfg, log).unwrap();
    let app = s.router();
    let r = publish(&app, "vaccinations-1", message("vaccinations-1-new"), &[]).await;
    assert_eq!(r.status, 500);
    assert_eq!(r.spine_codes(), ["INTERNAL_SERVER_ERROR"]);
    assert_eq!(stored(&s), (0, 0, 0));
}

async fn wait_for_snapshot(s: &Server) {
    s.write_snapshot().unwrap();
    let want = s.state().log.subscriptions_version().unwrap();
    assert_eq!(s.state().routing.snapshot_version(), Some(want));
}

#[tokio::test]
async fn restart_from_the_snapshot_only_when_it_is_current() {
    let dir = tempdir();
    let cfg = config(&dir);
    let snapshot = cfg.data.join(ems_server::SNAPSHOT_FILE);
    let ids = {
        let (s, app) = open(&dir, &cfg);
        let mut ids = Vec::new();
        for e in ["vaccinations-1", "nipe-outcome-1"] {
            let r = subscribe(&app, subscription_xml(&explicit(e), "X26ABC1", "RR8"), &[]).await;
            ids.push(
                r.headers["location"]
                    .to_str()
                    .unwrap()
                    .rsplit('/')
                    .next()
                    .unwrap()
                    .to_string(),
            );
        }
        wait_for_snapshot(&s).await;
        ids
    };
    // unchanged store: the index comes from the snapshot
    let (s, app) = open(&dir, &cfg);
    assert_eq!(
        s.state().routing.snapshot_version(),
        Some(s.state().log.subscriptions_version().unwrap())
    );
    assert_eq!(s.state().routing.len(), 2);
    let r = publish(&app, "vaccinations-1", message("vaccinations-1-new"), &[]).await;
    assert_eq!(r.status, 202);
    assert_eq!(
        s.state().log.deliveries(0, 10).unwrap().len(),
        1,
        "the loaded index matches"
    );
    // a delete the snapshot has not seen: the next start reads the rows
    let d = send(
        &app,
        request(
            "DELETE",
            &format!("/STU3/Subscription/{}", ids[0]),
            &[("InteractionID", SUB_DELETE)],
            vec![],
        ),
    )
    .await;
    assert_eq!(d.status, 200);
    drop((s, app));
    let (s, _) = open(&dir, &cfg);
    assert_eq!(s.state().routing.len(), 1, "the stale snapshot is not used");
    wait_for_snapshot(&s).await;
    drop(s);
    // a damaged snapshot with the right label: the rows are read
    let mut bytes = std::fs::read(&snapshot).unwrap();
    bytes.truncate(bytes.len() / 2);
    std::fs::write(&snapshot, bytes).unwrap();
    let (s, _) = open(&dir, &cfg);
    assert_eq!(s.state().routing.len(), 1);
}

#[tokio::test]
async fn a_message_under_the_size_cap_is_read_whole() {
    // 2.5 MB: more than axum's default 2 MB extractor limit, less than 3 MB
    let dir = tempdir();
    let (_s, app) = open(&dir, &config(&dir));
    let mut big = message("vaccinations-1-new");
    big.extend_from_slice(format!("<!--{}-->", "x".repeat(2_500_000)).as_bytes());
    let r = publish(&app, "vaccinations-1", big, &[]).await;
    assert_eq!(r.status, 202, "{}", &r.text()[..r.text().len().min(500)]);
}

#[test]
fn the_audit_table_is_append_only() {
    let dir = tempdir();
    let cfg = config(&dir);
    let _log = ems_server::SqlitePipeline::open(&cfg.data).unwrap();
    let c = rusqlite::Connection::open(cfg.data.join("ems.sqlite3")).unwrap();
    c.execute(
        "INSERT INTO audit(at, kind, status, record) VALUES ('t', 'publish', 202, '{}')",
        [],
    )
    .unwrap();
    assert!(c.execute("UPDATE audit SET status = 500", []).is_err());
    assert!(c.execute("DELETE FROM audit", []).is_err());
    let n: i64 = c
        .query_row("SELECT count(*) FROM audit", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 1);
}

#[tokio::test]
async fn the_admin_api_can_have_its_own_listener() {
    let dir = tempdir();
    let (s, _) = open(&dir, &config(&dir));
    let health = || request("GET", "/_ems/health", &[], vec![]);
    let api = send(&s.api_router(), health()).await;
    assert_eq!(api.status, 400, "not on the API listener");
    assert_eq!(api.spine_codes(), ["BAD_REQUEST"]);
    let admin = send(&s.admin_router(), health()).await;
    assert_eq!(admin.status, 200);
    let publish_on_admin = publish(
        &s.admin_router(),
        "vaccinations-1",
        message("vaccinations-1-new"),
        &[],
    )
    .await;
    assert_eq!(
        publish_on_admin.status, 400,
        "the APIs are not on the admin listener"
    );
    assert_eq!(
        send(&s.router(), health()).await.status,
        200,
        "both by default"
    );
}
