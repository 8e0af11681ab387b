//! `auth::authorise`: every check and its denial (status, Spine code, rule
//! id), the JWT forms (none, HS256, RS256, garbled, expired) and the claim
//! forms (`system|value` and bare), in open and registry mode.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use ems_server::auth::{
    authorise, Caller, Denied, JwtPolicy, RequestCredentials, Scope, SECURITY_RULES,
};
use ems_server::registry::Registry;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::Path;

const PUBLISHER: &str = "200000000115";
const READER: &str = "200000000116";
const NEMS: &str = "200000000999";
const VACCINATIONS: &str = "urn:nhs:names:services:events:Vaccinations.Write";
const SUB_GET: &str = "urn:nhs:names:services:clinicals-sync:SubscriptionsApiGet";
const SUB_POST: &str = "urn:nhs:names:services:clinicals-sync:SubscriptionsApiPost";
const SECRET: &[u8] = b"a shared secret for HS256 tests";
const NOW: i64 = 1_750_000_000;

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn registry() -> Registry {
    Registry::from_toml_file(&fixture("registry.toml")).expect("the fixture registry parses")
}

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(NOW, 0).unwrap()
}

/// Claims that pass every check for `asid` / `ods`, in the Spine core form.
fn claims(asid: &str, ods: &str, scope: &str) -> Value {
    json!({
        "iss": "https://publisher.example.nhs.uk",
        "aud": "https://clinicals.spineservices.nhs.uk",
        "sub": format!("https://fhir.nhs.uk/Id/accredited-system|{asid}"),
        "exp": NOW + 300,
        "iat": NOW,
        "reason_for_request": "directcare",
        "scope": scope,
        "requesting_system": format!("https://fhir.nhs.uk/Id/accredited-system|{asid}"),
        "requesting_organisation": format!("https://fhir.nhs.uk/Id/ods-organization-code|{ods}"),
    })
}

fn publish_claims() -> Value {
    claims(PUBLISHER, "RR8", "patient/Bundle.write")
}

fn b64(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
}

fn unsigned(claims: &Value) -> String {
    format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT"})),
        b64(claims)
    )
}

fn hs256(claims: &Value, secret: &[u8]) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(secret),
    )
    .unwrap()
}

fn rs256(claims: &Value, private_pem: &str) -> String {
    let pem = std::fs::read(fixture(private_pem)).unwrap();
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
        claims,
        &jsonwebtoken::EncodingKey::from_rsa_pem(&pem).unwrap(),
    )
    .unwrap()
}

fn rs256_policy() -> JwtPolicy {
    JwtPolicy::new(false)
        .with_rs256_public_key_file(&fixture("jwt-rs256-test-public.pem"))
        .unwrap()
}

/// A request to the publish API with `authorization` (`Bearer <token>`).
struct Req {
    from: Option<String>,
    to: Option<String>,
    authorization: Option<String>,
    interaction: Option<String>,
    cert: Option<String>,
}

impl Req {
    fn new(token: &str) -> Req {
        Req {
            from: Some(PUBLISHER.into()),
            to: Some(NEMS.into()),
            authorization: Some(format!("Bearer {token}")),
            interaction: Some(VACCINATIONS.into()),
            cert: None,
        }
    }

    fn from(mut self, asid: Option<&str>) -> Req {
        self.from = asid.map(Into::into);
        self
    }

    fn interaction(mut self, id: &str) -> Req {
        self.interaction = Some(id.into());
        self
    }

    fn cert(mut self, name: &str) -> Req {
        self.cert = Some(name.into());
        self
    }

    fn run(&self, scope: Scope, registry: &Registry, policy: &JwtPolicy) -> Result<Caller, Denied> {
        let credentials = RequestCredentials {
            from_asid: self.from.as_deref(),
            to_asid: self.to.as_deref(),
            authorization: self.authorization.as_deref(),
            interaction_id: self.interaction.as_deref(),
            client_cert_name: self.cert.as_deref(),
        };
        authorise(&credentials, scope, registry, policy, now())
    }

    /// Publish in open mode, unsigned tokens allowed.
    fn open(&self) -> Result<Caller, Denied> {
        let registry = Registry::open();
        self.run(
            Scope::BundleWrite,
            &registry,
            &JwtPolicy::for_registry(&registry),
        )
    }
}

/// Asserts a denial, literally: status, Spine code and rule id.
#[track_caller]
fn denied(result: Result<Caller, Denied>, status: u16, code: &str, rule: &str) -> Denied {
    match result {
        Ok(caller) => panic!("expected {rule}, got {caller:?}"),
        Err(d) => {
            assert_eq!(
                (d.status, d.spine_code, d.rule),
                (status, code, rule),
                "{}",
                d.message
            );
            assert!(!d.message.is_empty());
            assert!(d.expression.is_some(), "{rule} names a location");
            d
        }
    }
}

fn with(mut claims: Value, key: &str, value: Value) -> Value {
    claims[key] = value;
    claims
}

fn without(mut claims: Value, key: &str) -> Value {
    claims.as_object_mut().unwrap().remove(key);
    claims
}

#[test]
fn unsigned_token_passes_in_open_mode() {
    let c = publish_claims();
    let caller = Req::new(&unsigned(&c)).open().unwrap();
    assert_eq!(caller.asid, PUBLISHER);
    assert_eq!(caller.ods_code, "RR8");
    assert_eq!(caller.requesting_patient, None);
    assert_eq!(caller.requesting_user, None);
    assert_eq!(caller.alg, "none");
    let audited: Value = serde_json::from_str(&caller.claims_json).unwrap();
    assert_eq!(audited, c);
}

#[test]
fn open_mode_accepts_any_asid_and_interaction() {
    let asid = "918999198993";
    let c = claims(asid, "A81001", "patient/Bundle.write");
    let caller = Req::new(&unsigned(&c))
        .from(Some(asid))
        .interaction("urn:nhs:names:services:events:Newbornhearing.Write")
        .cert("anything.example")
        .open()
        .unwrap();
    assert_eq!(
        (caller.asid.as_str(), caller.ods_code.as_str()),
        (asid, "A81001")
    );
}

#[test]
fn bare_claim_values_are_accepted() {
    let c = json!({
        "sub": PUBLISHER,
        "scope": "patient/Bundle.write",
        "requesting_system": PUBLISHER,
        "requesting_organisation": "RR8",
    });
    let caller = Req::new(&unsigned(&c)).open().unwrap();
    assert_eq!(caller.ods_code, "RR8");
    // mixed: bare sub, system|value requesting_system
    let mixed = with(publish_claims(), "sub", json!(PUBLISHER));
    Req::new(&unsigned(&mixed)).open().unwrap();
}

#[test]
fn missing_headers_are_missing_or_invalid_header() {
    let token = unsigned(&publish_claims());
    let code = "MISSING_OR_INVALID_HEADER";
    let mut r = Req::new(&token).from(None);
    denied(r.open(), 400, code, "HDR-FROM-ASID");
    r.from = Some("  ".into());
    denied(r.open(), 400, code, "HDR-FROM-ASID");
    r.from = Some("ASID-1".into());
    denied(r.open(), 400, code, "HDR-FROM-ASID");

    let mut r = Req::new(&token);
    r.to = None;
    denied(r.open(), 400, code, "HDR-TO-ASID");

    let mut r = Req::new(&token);
    r.interaction = None;
    denied(r.open(), 400, code, "HDR-INTERACTION-ID");

    let mut r = Req::new(&token);
    r.authorization = None;
    let d = denied(r.open(), 400, code, "HDR-AUTHORIZATION");
    assert_eq!(d.expression.as_deref(), Some("Authorization"));
    for bad in [
        "Basic dXNlcjpwYXNz",
        "Bearer",
        "Bearer ",
        &token,
        "Bearer a b",
    ] {
        r.authorization = Some(bad.into());
        denied(r.open(), 400, code, "HDR-AUTHORIZATION");
    }
    // the scheme is case-insensitive
    r.authorization = Some(format!("bearer {token}"));
    r.open().unwrap();
}

#[test]
fn garbled_tokens_are_bad_request() {
    let header = b64(&json!({"alg": "none"}));
    let payload = b64(&publish_claims());
    let long = "a".repeat(ems_server::auth::MAX_TOKEN_LEN + 1);
    let cases = [
        "garbage".to_string(),
        format!("{header}.{payload}"),
        format!("{header}.{payload}..x"),
        format!("{header}.%%%.",),
        format!("{}.{payload}.", URL_SAFE_NO_PAD.encode(b"not json")),
        format!("{header}.{}.", URL_SAFE_NO_PAD.encode(b"[1,2]")),
        format!("{header}.{}.", URL_SAFE_NO_PAD.encode([0xff, 0xfe])),
        // unsigned with a signature part
        format!("{header}.{payload}.c2ln"),
        format!("{long}.{payload}."),
    ];
    for token in &cases {
        denied(Req::new(token).open(), 400, "BAD_REQUEST", "JWT-FORMAT");
    }
}

#[test]
fn padded_base64url_is_accepted() {
    let header = base64::engine::general_purpose::URL_SAFE
        .encode(serde_json::to_vec(&json!({"alg": "none"})).unwrap());
    assert!(
        header.ends_with('='),
        "the test needs a padded part: {header}"
    );
    let token = format!("{header}.{}.", b64(&publish_claims()));
    Req::new(&token).open().unwrap();
}

#[test]
fn unknown_algorithms_are_bad_request() {
    let payload = b64(&publish_claims());
    for header in [
        json!({"alg": "HS512"}),
        json!({"typ": "JWT"}),
        json!({"alg": 1}),
        json!({"alg": "None"}),
    ] {
        let token = format!("{}.{payload}.c2ln", b64(&header));
        denied(Req::new(&token).open(), 400, "BAD_REQUEST", "JWT-ALG");
    }
}

#[test]
fn unsigned_tokens_only_when_allowed() {
    let token = unsigned(&publish_claims());
    let registry = Registry::open();
    let refuse = JwtPolicy::for_registry(&registry).allow_unsigned(false);
    let d = denied(
        Req::new(&token).run(Scope::BundleWrite, &registry, &refuse),
        403,
        "ACCESS DENIED",
        "JWT-UNSIGNED",
    );
    assert_eq!(d.expression.as_deref(), Some("jwt.header.alg"));
    // with a registry file, unsigned tokens are refused by default ...
    let registry = self::registry();
    let policy = JwtPolicy::for_registry(&registry);
    assert!(!policy.allows_unsigned());
    denied(
        Req::new(&token).cert("publisher.example.nhs.uk").run(
            Scope::BundleWrite,
            &registry,
            &policy,
        ),
        403,
        "ACCESS DENIED",
        "JWT-UNSIGNED",
    );
    // ... and accepted when allowed
    Req::new(&token)
        .run(Scope::BundleWrite, &registry, &policy.allow_unsigned(true))
        .unwrap();
}

#[test]
fn hs256_tokens_verify_with_the_secret() {
    let registry = Registry::open();
    let policy = JwtPolicy::new(false).with_hs256_secret(SECRET);
    let token = hs256(&publish_claims(), SECRET);
    let caller = Req::new(&token)
        .run(Scope::BundleWrite, &registry, &policy)
        .unwrap();
    assert_eq!(caller.alg, "HS256");

    let wrong = hs256(&publish_claims(), b"another secret");
    let d = denied(
        Req::new(&wrong).run(Scope::BundleWrite, &registry, &policy),
        403,
        "ACCESS DENIED",
        "JWT-SIGNATURE",
    );
    assert!(
        !d.message.contains("shared secret"),
        "no key material in messages"
    );

    // claims changed after signing
    let mut parts: Vec<String> = token.split('.').map(String::from).collect();
    parts[1] = b64(&with(
        publish_claims(),
        "requesting_organisation",
        json!("RA9"),
    ));
    denied(
        Req::new(&parts.join(".")).run(Scope::BundleWrite, &registry, &policy),
        403,
        "ACCESS DENIED",
        "JWT-SIGNATURE",
    );
    // a signature that is not base64url
    parts[1] = b64(&publish_claims());
    parts[2] = "!!!".into();
    denied(
        Req::new(&parts.join(".")).run(Scope::BundleWrite, &registry, &policy),
        403,
        "ACCESS DENIED",
        "JWT-SIGNATURE",
    );
}

#[test]
fn rs256_tokens_verify_with_the_public_key() {
    let registry = Registry::open();
    let policy = rs256_policy();
    let token = rs256(&publish_claims(), "jwt-rs256-test-private.pem");
    let caller = Req::new(&token)
        .run(Scope::BundleWrite, &registry, &policy)
        .unwrap();
    assert_eq!(caller.alg, "RS256");
    let other = rs256(&publish_claims(), "jwt-rs256-other-private.pem");
    denied(
        Req::new(&other).run(Scope::BundleWrite, &registry, &policy),
        403,
        "ACCESS DENIED",
        "JWT-SIGNATURE",
    );
}

#[test]
fn signed_tokens_need_a_key_for_their_algorithm() {
    let registry = Registry::open();
    let hs = hs256(&publish_claims(), SECRET);
    let rs = rs256(&publish_claims(), "jwt-rs256-test-private.pem");
    // no keys at all
    let none = JwtPolicy::new(true);
    denied(
        Req::new(&hs).run(Scope::BundleWrite, &registry, &none),
        403,
        "ACCESS DENIED",
        "JWT-KEY",
    );
    denied(
        Req::new(&rs).run(Scope::BundleWrite, &registry, &none),
        403,
        "ACCESS DENIED",
        "JWT-KEY",
    );
    // an RSA key does not verify HS256 (no algorithm confusion), and the reverse
    denied(
        Req::new(&hs).run(Scope::BundleWrite, &registry, &rs256_policy()),
        403,
        "ACCESS DENIED",
        "JWT-KEY",
    );
    let hs_only = JwtPolicy::new(false).with_hs256_secret(SECRET);
    denied(
        Req::new(&rs).run(Scope::BundleWrite, &registry, &hs_only),
        403,
        "ACCESS DENIED",
        "JWT-KEY",
    );
}

#[test]
fn rs256_key_errors() {
    let e = JwtPolicy::new(false)
        .with_rs256_public_key_pem(b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
        .unwrap_err();
    assert!(
        e.to_string().starts_with("not an RSA public key in PEM"),
        "{e}"
    );
    let e = JwtPolicy::new(false)
        .with_rs256_public_key_file(Path::new("/nonexistent/key.pem"))
        .unwrap_err();
    assert!(e.to_string().starts_with("/nonexistent/key.pem: "), "{e}");
}

#[test]
fn expired_and_future_tokens() {
    let c = publish_claims();
    let bad = "BAD_REQUEST";
    // exp passed (beyond the 60 s skew)
    let d = denied(
        Req::new(&unsigned(&with(c.clone(), "exp", json!(NOW - 61)))).open(),
        400,
        bad,
        "JWT-EXP",
    );
    assert_eq!(d.expression.as_deref(), Some("jwt.exp"));
    // within the skew
    Req::new(&unsigned(&with(c.clone(), "exp", json!(NOW - 59))))
        .open()
        .unwrap();
    // no skew: exp == now has expired (RFC 7519: now must be before exp)
    let strict = JwtPolicy::new(true).with_clock_skew_seconds(0);
    let open = Registry::open();
    denied(
        Req::new(&unsigned(&with(c.clone(), "exp", json!(NOW)))).run(
            Scope::BundleWrite,
            &open,
            &strict,
        ),
        400,
        bad,
        "JWT-EXP",
    );
    Req::new(&unsigned(&with(c.clone(), "exp", json!(NOW + 1))))
        .run(Scope::BundleWrite, &open, &strict)
        .unwrap();
    // not a NumericDate
    for v in [json!("2025-06-15T00:00:00Z"), json!(null), json!(true)] {
        denied(
            Req::new(&unsigned(&with(c.clone(), "exp", v))).open(),
            400,
            bad,
            "JWT-EXP",
        );
    }
    // a fractional NumericDate is fine
    Req::new(&unsigned(&with(
        c.clone(),
        "exp",
        json!(NOW as f64 + 100.5),
    )))
    .open()
    .unwrap();
    // absent exp and iat: not checked
    Req::new(&unsigned(&without(without(c.clone(), "exp"), "iat")))
        .open()
        .unwrap();
    // iat in the future
    denied(
        Req::new(&unsigned(&with(c.clone(), "iat", json!(NOW + 61)))).open(),
        400,
        bad,
        "JWT-IAT",
    );
    denied(
        Req::new(&unsigned(&with(c.clone(), "iat", json!("now")))).open(),
        400,
        bad,
        "JWT-IAT",
    );
    Req::new(&unsigned(&with(c, "iat", json!(NOW + 59))))
        .open()
        .unwrap();
}

#[test]
fn scope_must_be_the_operations() {
    let open = Registry::open();
    let policy = JwtPolicy::for_registry(&open);
    let run = |scope_claim: Value, scope: Scope| {
        let c = with(publish_claims(), "scope", scope_claim);
        Req::new(&unsigned(&c)).run(scope, &open, &policy)
    };
    let bad = "BAD_REQUEST";
    run(json!("patient/Bundle.write"), Scope::BundleWrite).unwrap();
    run(json!("patient/Subscription.read"), Scope::SubscriptionRead).unwrap();
    run(
        json!("patient/Subscription.write"),
        Scope::SubscriptionWrite,
    )
    .unwrap();
    // a space-separated list holding the scope
    run(
        json!("patient/Subscription.read patient/Subscription.write"),
        Scope::SubscriptionWrite,
    )
    .unwrap();
    denied(
        run(json!("patient/Bundle.write"), Scope::SubscriptionRead),
        400,
        bad,
        "JWT-SCOPE",
    );
    denied(
        run(json!("patient/Subscription.read"), Scope::SubscriptionWrite),
        400,
        bad,
        "JWT-SCOPE",
    );
    denied(
        run(json!("patient/Subscription.write"), Scope::SubscriptionRead),
        400,
        bad,
        "JWT-SCOPE",
    );
    denied(
        run(json!("patient/Subscription.write"), Scope::BundleWrite),
        400,
        bad,
        "JWT-SCOPE",
    );
    denied(
        run(json!("patient/*.write"), Scope::BundleWrite),
        400,
        bad,
        "JWT-SCOPE",
    );
    denied(
        run(json!(["patient/Bundle.write"]), Scope::BundleWrite),
        400,
        bad,
        "JWT-SCOPE",
    );
    denied(run(json!(""), Scope::BundleWrite), 400, bad, "JWT-SCOPE");
    let c = without(publish_claims(), "scope");
    denied(Req::new(&unsigned(&c)).open(), 400, bad, "JWT-SCOPE");
}

#[test]
fn requesting_system_is_the_from_asid() {
    let bad = "BAD_REQUEST";
    let rule = "JWT-REQUESTING-SYSTEM";
    let c = publish_claims();
    denied(
        Req::new(&unsigned(&without(c.clone(), "requesting_system"))).open(),
        400,
        bad,
        rule,
    );
    let other = "https://fhir.nhs.uk/Id/accredited-system|200000000117";
    let d = denied(
        Req::new(&unsigned(&with(
            c.clone(),
            "requesting_system",
            json!(other),
        )))
        .open(),
        400,
        bad,
        rule,
    );
    assert_eq!(d.expression.as_deref(), Some("jwt.requesting_system"));
    let wrong_system = format!("https://fhir.nhs.uk/Id/ods-organization-code|{PUBLISHER}");
    denied(
        Req::new(&unsigned(&with(
            c.clone(),
            "requesting_system",
            json!(wrong_system),
        )))
        .open(),
        400,
        bad,
        rule,
    );
    denied(
        Req::new(&unsigned(&with(
            c.clone(),
            "requesting_system",
            json!("https://fhir.nhs.uk/Id/accredited-system|"),
        )))
        .open(),
        400,
        bad,
        rule,
    );
    denied(
        Req::new(&unsigned(&with(
            c,
            "requesting_system",
            json!(200000000115u64),
        )))
        .open(),
        400,
        bad,
        rule,
    );
}

#[test]
fn sub_rule() {
    let bad = "BAD_REQUEST";
    let c = publish_claims();
    denied(
        Req::new(&unsigned(&without(c.clone(), "sub"))).open(),
        400,
        bad,
        "JWT-SUB",
    );
    // sub must be requesting_system when there is no requesting_user
    let d = denied(
        Req::new(&unsigned(&with(c.clone(), "sub", json!("200000000117")))).open(),
        400,
        bad,
        "JWT-SUB",
    );
    assert_eq!(d.expression.as_deref(), Some("jwt.sub"));
    // same value, other system
    denied(
        Req::new(&unsigned(&with(
            c.clone(),
            "sub",
            json!(format!("https://example.org/x|{PUBLISHER}")),
        )))
        .open(),
        400,
        bad,
        "JWT-SUB",
    );
    // with requesting_user, sub must be it
    let user = "https://fhir.nhs.uk/Id/sds-role-profile-id|555021935107";
    let with_user = with(c.clone(), "requesting_user", json!(user));
    denied(Req::new(&unsigned(&with_user)).open(), 400, bad, "JWT-SUB");
    let caller = Req::new(&unsigned(&with(with_user.clone(), "sub", json!(user))))
        .open()
        .unwrap();
    assert_eq!(caller.requesting_user.as_deref(), Some(user));
    // bare sub for a system|value requesting_user
    Req::new(&unsigned(&with(with_user, "sub", json!("555021935107"))))
        .open()
        .unwrap();
    // requesting_user must be a string
    for v in [json!(5), json!(""), json!(null)] {
        denied(
            Req::new(&unsigned(&with(c.clone(), "requesting_user", v))).open(),
            400,
            bad,
            "JWT-REQUESTING-USER",
        );
    }
}

#[test]
fn requesting_organisation_is_an_ods_code() {
    let bad = "BAD_REQUEST";
    let rule = "JWT-REQUESTING-ORGANISATION";
    let c = publish_claims();
    let bare = without(c.clone(), "requesting_organisation");
    denied(Req::new(&unsigned(&bare)).open(), 400, bad, rule);
    // Spine core's spelling is accepted
    let american = with(
        bare.clone(),
        "requesting_organization",
        json!("https://fhir.nhs.uk/Id/ods-organization-code|RA9"),
    );
    assert_eq!(
        Req::new(&unsigned(&american)).open().unwrap().ods_code,
        "RA9"
    );
    // both spellings must agree
    let both = with(c.clone(), "requesting_organization", json!("RR8"));
    Req::new(&unsigned(&both)).open().unwrap();
    let disagree = with(c.clone(), "requesting_organization", json!("RA9"));
    denied(Req::new(&unsigned(&disagree)).open(), 400, bad, rule);
    for v in [
        json!("https://fhir.nhs.uk/Id/accredited-system|RR8"),
        json!("RR 8"),
        json!("RR8-X"),
        json!("https://fhir.nhs.uk/Id/ods-organization-code|"),
        json!({"system": "x", "value": "RR8"}),
    ] {
        denied(
            Req::new(&unsigned(&with(c.clone(), "requesting_organisation", v))).open(),
            400,
            bad,
            rule,
        );
    }
}

#[test]
fn requesting_patient_is_an_nhs_number_when_present() {
    let open = Registry::open();
    let policy = JwtPolicy::for_registry(&open);
    let run = |v: Value| {
        let c = with(
            claims(PUBLISHER, "RR8", "patient/Subscription.write"),
            "requesting_patient",
            v,
        );
        Req::new(&unsigned(&c))
            .interaction(SUB_POST)
            .run(Scope::SubscriptionWrite, &open, &policy)
    };
    let caller = run(json!("https://fhir.nhs.uk/Id/nhs-number|9434765919")).unwrap();
    assert_eq!(caller.requesting_patient.as_deref(), Some("9434765919"));
    assert_eq!(
        run(json!("9434765919"))
            .unwrap()
            .requesting_patient
            .as_deref(),
        Some("9434765919")
    );
    run(json!("http://fhir.nhs.net/Id/nhs-number|9434765919")).unwrap();
    for v in [
        json!("9434765918"),
        json!("943 476 5919"),
        json!("https://fhir.nhs.uk/Id/nhs-number|12345"),
        json!("https://example.org/mrn|9434765919"),
        json!(9434765919u64),
    ] {
        let d = denied(run(v), 400, "INVALID_NHS_NUMBER", "JWT-REQUESTING-PATIENT");
        assert_eq!(d.expression.as_deref(), Some("jwt.requesting_patient"));
    }
}

// ---- registry mode ----

fn hs_policy() -> JwtPolicy {
    JwtPolicy::new(false).with_hs256_secret(SECRET)
}

#[test]
fn registry_mode_passes_a_registered_caller() {
    let reg = registry();
    let token = hs256(&claims(PUBLISHER, "RA9", "patient/Bundle.write"), SECRET);
    // certificate names compare case-insensitively
    let caller = Req::new(&token)
        .cert("Publisher.Example.NHS.uk")
        .run(Scope::BundleWrite, &reg, &hs_policy())
        .unwrap();
    assert_eq!(caller.ods_code, "RA9");
    // ODS codes compare case-insensitively
    let token = hs256(&claims(PUBLISHER, "rr8", "patient/Bundle.write"), SECRET);
    Req::new(&token)
        .run(Scope::BundleWrite, &reg, &hs_policy())
        .unwrap();
}

#[test]
fn registry_mode_denials() {
    let reg = registry();
    let policy = hs_policy();
    let token = hs256(&publish_claims(), SECRET);

    // an ASID the registry does not know
    let stranger = "200000000200";
    let stranger_token = hs256(&claims(stranger, "RR8", "patient/Bundle.write"), SECRET);
    let d = denied(
        Req::new(&stranger_token)
            .from(Some(stranger))
            .run(Scope::BundleWrite, &reg, &policy),
        403,
        "ASID_CHECK_FAILED",
        "ASID-UNKNOWN",
    );
    assert_eq!(d.expression.as_deref(), Some("fromASID"));

    // a client certificate that is not the ASID's
    denied(
        Req::new(&token)
            .cert("pds.spine.example.nhs.uk")
            .run(Scope::BundleWrite, &reg, &policy),
        403,
        "ASID_CHECK_FAILED",
        "TLS-CERT-NAME",
    );
    // a client certificate for an ASID with none registered
    let reader = hs256(
        &claims(READER, "B82005", "patient/Subscription.read"),
        SECRET,
    );
    let reader_req = Req::new(&reader).from(Some(READER)).interaction(SUB_GET);
    reader_req
        .run(Scope::SubscriptionRead, &reg, &policy)
        .unwrap();
    denied(
        reader_req
            .cert("b82005.example.nhs.uk")
            .run(Scope::SubscriptionRead, &reg, &policy),
        403,
        "ASID_CHECK_FAILED",
        "TLS-CERT-NAME",
    );

    // an interaction the ASID is not registered for
    let d = denied(
        Req::new(&token)
            .interaction("urn:nhs:names:services:events:Newbornhearing.Write")
            .run(Scope::BundleWrite, &reg, &policy),
        403,
        "ACCESS DENIED",
        "ASID-INTERACTION",
    );
    assert_eq!(d.expression.as_deref(), Some("InteractionID"));

    // an organisation the ASID is not registered against
    let other_org = hs256(&claims(PUBLISHER, "B82005", "patient/Bundle.write"), SECRET);
    let d = denied(
        Req::new(&other_org).run(Scope::BundleWrite, &reg, &policy),
        403,
        "ACCESS DENIED",
        "ASID-ORGANISATION",
    );
    assert_eq!(d.expression.as_deref(), Some("jwt.requesting_organisation"));
}

#[test]
fn registry_checks_come_before_the_token() {
    // transport and registration are checked before the JWT is read
    let reg = registry();
    let d = denied(
        Req::new("garbage")
            .from(Some("200000000200"))
            .run(Scope::BundleWrite, &reg, &hs_policy()),
        403,
        "ASID_CHECK_FAILED",
        "ASID-UNKNOWN",
    );
    assert!(d.message.contains("200000000200"));
}

/// Every rule of `SECURITY_RULES` is produced by some request here, with the
/// status and code the table gives, and every rule is in docs/conformance.md.
#[test]
fn every_rule_is_reachable_and_documented() {
    let reg = registry();
    let open = Registry::open();
    let unsigned_ok = JwtPolicy::for_registry(&open);
    let c = publish_claims();
    let requests: Vec<Result<Caller, Denied>> = vec![
        Req::new("x").from(None).open(),
        {
            let mut r = Req::new("x");
            r.to = None;
            r.open()
        },
        {
            let mut r = Req::new("x");
            r.interaction = None;
            r.open()
        },
        {
            let mut r = Req::new("x");
            r.authorization = None;
            r.open()
        },
        Req::new("x")
            .from(Some("200000000200"))
            .run(Scope::BundleWrite, &reg, &hs_policy()),
        Req::new("x")
            .cert("someone.else")
            .run(Scope::BundleWrite, &reg, &hs_policy()),
        Req::new("x")
            .interaction("urn:x")
            .run(Scope::BundleWrite, &reg, &hs_policy()),
        Req::new("x").open(),
        Req::new(&format!("{}.{}.", b64(&json!({"alg": "ES256"})), b64(&c))).open(),
        Req::new(&unsigned(&c)).run(Scope::BundleWrite, &open, &JwtPolicy::new(false)),
        Req::new(&hs256(&c, SECRET)).run(Scope::BundleWrite, &open, &unsigned_ok),
        Req::new(&hs256(&c, b"other")).run(Scope::BundleWrite, &open, &hs_policy()),
        Req::new(&unsigned(&with(c.clone(), "exp", json!(0)))).open(),
        Req::new(&unsigned(&with(c.clone(), "iat", json!(NOW * 2)))).open(),
        Req::new(&unsigned(&c)).run(Scope::SubscriptionRead, &open, &unsigned_ok),
        Req::new(&unsigned(&without(c.clone(), "requesting_system"))).open(),
        Req::new(&unsigned(&with(c.clone(), "requesting_user", json!(1)))).open(),
        Req::new(&unsigned(&without(c.clone(), "sub"))).open(),
        Req::new(&unsigned(&without(c.clone(), "requesting_organisation"))).open(),
        Req::new(&unsigned(&with(
            c.clone(),
            "requesting_patient",
            json!("1"),
        )))
        .open(),
        Req::new(&hs256(
            &claims(PUBLISHER, "X26", "patient/Bundle.write"),
            SECRET,
        ))
        .run(Scope::BundleWrite, &reg, &hs_policy()),
    ];
    let mut seen = BTreeSet::new();
    for denial in requests.into_iter().filter_map(Result::err) {
        let rule = SECURITY_RULES
            .iter()
            .find(|r| r.id == denial.rule)
            .unwrap_or_else(|| panic!("{} is not in SECURITY_RULES", denial.rule));
        assert_eq!(
            (denial.status, denial.spine_code),
            (rule.status, rule.spine_code)
        );
        seen.insert(denial.rule);
    }
    let all: BTreeSet<&str> = SECURITY_RULES.iter().map(|r| r.id).collect();
    assert_eq!(seen, all);

    let conformance = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/conformance.md"),
    )
    .unwrap();
    let section = conformance
        .split("## Security rules (9.1, 9.2)")
        .nth(1)
        .expect("docs/conformance.md has the security rules section");
    for rule in SECURITY_RULES {
        let row = format!("| {} | {} | {} |", rule.id, rule.status, rule.spine_code);
        assert!(
            section.contains(&row),
            "docs/conformance.md lacks the row {row}"
        );
    }
}

#[test]
fn credentials_from_request_headers() {
    use axum::http::{HeaderMap, HeaderName, HeaderValue};
    // header names as clients write them; HeaderMap stores them lowercased
    let name = |n: &str| HeaderName::from_bytes(n.as_bytes()).unwrap();
    use ems_server::tls::ClientCertName;
    let mut headers = HeaderMap::new();
    headers.insert(name("fromASID"), HeaderValue::from_static(PUBLISHER));
    headers.insert(name("TOASID"), HeaderValue::from_static(NEMS));
    headers.insert(
        name("interactionid"),
        HeaderValue::from_static(VACCINATIONS),
    );
    headers.insert(
        name("Authorization"),
        HeaderValue::from_static("Bearer abc"),
    );
    let cert = ClientCertName(Some("publisher.example.nhs.uk".into()));
    let c = RequestCredentials::from_headers(&headers, &cert);
    assert_eq!(
        c,
        RequestCredentials {
            from_asid: Some(PUBLISHER),
            to_asid: Some(NEMS),
            authorization: Some("Bearer abc"),
            interaction_id: Some(VACCINATIONS),
            client_cert_name: Some("publisher.example.nhs.uk"),
        }
    );
    // a value that is not visible ASCII counts as missing
    headers.insert(
        name("fromASID"),
        HeaderValue::from_bytes(b"2000\xff").unwrap(),
    );
    let c = RequestCredentials::from_headers(&headers, &ClientCertName(None));
    assert_eq!((c.from_asid, c.client_cert_name), (None, None));
    let open = Registry::open();
    denied(
        authorise(
            &c,
            Scope::BundleWrite,
            &open,
            &JwtPolicy::for_registry(&open),
            now(),
        ),
        400,
        "MISSING_OR_INVALID_HEADER",
        "HDR-FROM-ASID",
    );
}
