//! The security cases of the bad-input matrix, with a registry: JWT
//! missing / garbled / wrong scope / wrong ASID, an unregistered ASID, a
//! client certificate that is not the ASID's, a mailbox another organisation
//! owns or nobody owns, another organisation's subscription. Each gets its
//! status and a Spine OperationOutcome, and nothing is stored.

mod common;

use axum::body::Body;
use axum::http::Request;
use common::*;
use ems_server::tls::ClientCertName;
use ems_server::ServerConfig;

const OTHER: &str = "200000000002";

fn registry(dir: &std::path::Path) -> std::path::PathBuf {
    let all = [
        "urn:nhs:names:services:events:Vaccinations.Write",
        SUB_POST,
        SUB_GET,
        SUB_DELETE,
    ]
    .map(|i| format!("\"{i}\""))
    .join(", ");
    let text = format!(
        "[asid.{ASID}]\nods_codes = [\"RR8\"]\ninteractions = [{all}]\ncert_name = \"publisher.example.nhs.uk\"\n\n\
         [asid.{OTHER}]\nods_codes = [\"B82005\"]\ninteractions = [{all}]\n\n\
         [mailbox]\nX26ABC1 = \"RR8\"\nX26ABC2 = \"B82005\"\n"
    );
    let p = dir.join("registry.toml");
    std::fs::write(&p, text).unwrap();
    p
}

fn with_cert(mut r: Request<Body>, name: &str) -> Request<Body> {
    r.extensions_mut()
        .insert(ClientCertName(Some(name.to_string())));
    r
}

#[tokio::test]
async fn security_matrix() {
    let dir = tempdir();
    let cfg = ServerConfig {
        registry: Some(registry(&dir)),
        jwt_allow_unsigned: Some(true),
        ..config(&dir)
    };
    let (s, app) = open(&dir, &cfg);
    let log = s.state().log.clone();
    let nothing_stored = || {
        let mut subs = 0;
        log.for_each_subscription(&mut |_| subs += 1).unwrap();
        assert_eq!(subs, 0, "no subscription stored");
        assert!(log.message_bytes(1).unwrap().is_none(), "no message stored");
        assert!(log.deliveries(0, 10).unwrap().is_empty());
    };
    let vacc = || message("vaccinations-1-new");
    let cases: Vec<(&str, u16, &str, Reply)> = vec![
        (
            "JWT missing",
            400,
            "MISSING_OR_INVALID_HEADER",
            publish(&app, "vaccinations-1", vacc(), &[("Authorization", "")]).await,
        ),
        (
            "JWT garbled",
            400,
            "BAD_REQUEST",
            publish(
                &app,
                "vaccinations-1",
                vacc(),
                &[("Authorization", "Bearer not-a-jwt")],
            )
            .await,
        ),
        (
            "JWT for another ASID",
            400,
            "BAD_REQUEST",
            publish(
                &app,
                "vaccinations-1",
                vacc(),
                &[("Authorization", &format!("Bearer {}", token(OTHER)))],
            )
            .await,
        ),
        (
            "unregistered ASID",
            403,
            "ASID_CHECK_FAILED",
            publish(
                &app,
                "vaccinations-1",
                vacc(),
                &[("fromASID", "200000000999")],
            )
            .await,
        ),
        (
            "client certificate of another endpoint",
            403,
            "ASID_CHECK_FAILED",
            send(
                &app,
                with_cert(
                    request(
                        "POST",
                        "/STU3/Events/1/$process-message",
                        &[
                            (
                                "InteractionID",
                                "urn:nhs:names:services:events:Vaccinations.Write",
                            ),
                            ("Content-Type", "application/fhir+xml"),
                        ],
                        vacc(),
                    ),
                    "intruder.example.com",
                ),
            )
            .await,
        ),
        (
            "mailbox of another organisation",
            403,
            "ACCESS DENIED",
            subscribe(
                &app,
                subscription_xml(&explicit("vaccinations-1"), "X26ABC2", "RR8"),
                &[],
            )
            .await,
        ),
        (
            "mailbox nobody owns",
            404,
            "ORGANISATION_NOT_FOUND",
            subscribe(
                &app,
                subscription_xml(&explicit("vaccinations-1"), "NOBODY1", "RR8"),
                &[],
            )
            .await,
        ),
        (
            "contact not registered for the ASID",
            403,
            "ACCESS DENIED",
            subscribe(
                &app,
                subscription_xml(&explicit("vaccinations-1"), "X26ABC2", "B82005"),
                &[],
            )
            .await,
        ),
    ];
    for (name, status, code, r) in cases {
        assert_eq!(r.status.as_u16(), status, "{name}: {}", r.text());
        assert_eq!(r.spine_codes()[0], code, "{name}: {}", r.text());
        nothing_stored();
    }
    // wrong scope: a token with only the read scope cannot create
    let read_only = {
        use base64::Engine;
        let b = |v: serde_json::Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(&v).unwrap())
        };
        let c = serde_json::json!({"sub": format!("https://fhir.nhs.uk/Id/accredited-system|{ASID}"), "scope": "patient/Subscription.read",
            "requesting_system": format!("https://fhir.nhs.uk/Id/accredited-system|{ASID}"), "requesting_organisation": "RR8"});
        format!("Bearer {}.{}.", b(serde_json::json!({"alg": "none"})), b(c))
    };
    let r = subscribe(
        &app,
        subscription_xml(&explicit("vaccinations-1"), "X26ABC1", "RR8"),
        &[("Authorization", &read_only)],
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(r.spine_codes(), ["BAD_REQUEST"]);
    nothing_stored();
    // the right certificate and mailbox pass; the other organisation may not read or delete it
    let ok = send(
        &app,
        with_cert(
            request(
                "POST",
                "/STU3/Subscription",
                &[
                    ("InteractionID", SUB_POST),
                    ("Content-Type", "application/fhir+xml"),
                ],
                subscription_xml(&explicit("vaccinations-1"), "X26ABC1", "RR8"),
            ),
            "publisher.example.nhs.uk",
        ),
    )
    .await;
    assert_eq!(ok.status, 201, "{}", ok.text());
    let id = created_id(&ok);
    for (method, interaction) in [
        ("GET", "SubscriptionsApiGet"),
        ("DELETE", "SubscriptionsApiDelete"),
    ] {
        let i = format!("urn:nhs:names:services:clinicals-sync:{interaction}");
        let r = send(
            &app,
            request(
                method,
                &format!("/STU3/Subscription/{id}"),
                &[("InteractionID", &i), ("fromASID", OTHER)],
                vec![],
            ),
        )
        .await;
        assert_eq!(r.status, 403, "{method}: {}", r.text());
        assert_eq!(r.spine_codes(), ["ACCESS DENIED"]);
    }
    let r = on_subscription(&app, "GET", &id, &[]).await;
    assert_eq!(r.status, 200, "the owner reads it: {}", r.text());
}
