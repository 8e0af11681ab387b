//! Who is calling, and may they: the checks every publish and subscription
//! call passes before its body is looked at (digest section 9, Spine core).
//!
//! [`authorise`] takes the request's security material
//! ([`RequestCredentials`]: the `fromASID`, `toASID`, `InteractionID` and
//! `Authorization` headers and the client certificate name of a mutual-TLS
//! connection), the [`Scope`] the operation needs, the [`Registry`] and the
//! [`JwtPolicy`], and answers with the [`Caller`] or the first [`Denied`]
//! finding. Each denial carries a stable rule id from [`SECURITY_RULES`]
//! (listed in docs/conformance.md, "Security rules (9.1, 9.2)") with its
//! HTTP status and Spine-ErrorOrWarningCode-1 code.
//!
//! # Order of the checks
//!
//! 1. headers present and well formed (`HDR-*`, 400 `MISSING_OR_INVALID_HEADER`);
//! 2. with a registry: the ASID is registered (`ASID-UNKNOWN`), the client
//!    certificate is the ASID's (`TLS-CERT-NAME`), the InteractionID is allowed
//!    for it (`ASID-INTERACTION`) — transport and endpoint registration
//!    before the token, as Spine does;
//! 3. the JWT: envelope (`JWT-FORMAT`, `JWT-ALG`), signature (`JWT-UNSIGNED`,
//!    `JWT-KEY`, `JWT-SIGNATURE`), times (`JWT-EXP`, `JWT-IAT`), claims
//!    (`JWT-SCOPE`, `JWT-REQUESTING-SYSTEM`, `JWT-REQUESTING-USER`, `JWT-SUB`,
//!    `JWT-REQUESTING-ORGANISATION`, `JWT-REQUESTING-PATIENT`);
//! 4. with a registry: the organisation is registered for the ASID
//!    (`ASID-ORGANISATION`).
//!
//! # Statuses (decided from Spine core conventions; the digest leaves them open)
//!
//! Spine core answers a JWT that is not valid JSON, or has a missing, null or
//! invalid claim, with 400 `BAD_REQUEST`; so do all `JWT-*` content rules here
//! (an expired token and a scope for another operation included). A token
//! that cannot be trusted (unsigned when that is not allowed, no key for its
//! algorithm, a signature that does not verify) and a caller the registry does
//! not permit get 403 `ACCESS DENIED`; an ASID that is not registered or a
//! client certificate that is not the ASID's get 403 `ASID_CHECK_FAILED`.
//! `requesting_patient` that is not an NHS number gets 400 `INVALID_NHS_NUMBER`.
//!
//! The Spine code for access denied is `ACCESS DENIED`, with a space, as the
//! Spine-ErrorOrWarningCode-1 CodeSystem spells it (digest 11.6, "sic"); see
//! [`ACCESS_DENIED`].
//!
//! # Claims
//!
//! Identifier claims arrive in the Spine core form `system|value`
//! (`https://fhir.nhs.uk/Id/accredited-system|200000000115`); a bare value
//! (`200000000115`) is accepted too, and a system, when given, must be the
//! one the claim is defined with. `requesting_organization` (Spine core's
//! spelling) is accepted as well as the digest's `requesting_organisation`;
//! when both are present they must agree. `iss`, `aud`, `nbf` and `jti` are
//! not checked (the digest defines no rule for them, section 9.2).

use crate::registry::{self, AsidEntry, Registry};
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use chrono::{DateTime, Utc};
use ems_match::{NhsNumber, NhsNumberSystem};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

/// Identifier system of an ASID (`requesting_system`).
pub use ems_nhs::vocab::ACCREDITED_SYSTEM;
/// Identifier system of an ODS code (`requesting_organisation`).
pub use ems_nhs::vocab::ODS_ORGANIZATION_SYSTEM as ODS_SYSTEM;
/// The Spine code for a request the caller is not permitted to make, spelt as
/// in the Spine-ErrorOrWarningCode-1 CodeSystem (with a space).
pub const ACCESS_DENIED: &str = "ACCESS DENIED";
/// Longest bearer token read (a Spine JWT is well under 2 KiB).
pub const MAX_TOKEN_LEN: usize = 16 * 1024;

/// One security check: its stable id, the HTTP status and Spine code of a
/// denial, and what it requires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SecurityRule {
    /// Stable rule id (in `diagnostics` of the OperationOutcome).
    pub id: &'static str,
    /// HTTP status of a denial.
    pub status: u16,
    /// Spine-ErrorOrWarningCode-1 code of a denial.
    pub spine_code: &'static str,
    /// What the rule requires.
    pub summary: &'static str,
}

const fn rule(
    id: &'static str,
    status: u16,
    spine_code: &'static str,
    summary: &'static str,
) -> SecurityRule {
    SecurityRule {
        id,
        status,
        spine_code,
        summary,
    }
}

const MISSING_HEADER: &str = "MISSING_OR_INVALID_HEADER";
const BAD_REQUEST: &str = "BAD_REQUEST";
const ASID_CHECK_FAILED: &str = "ASID_CHECK_FAILED";

/// `fromASID` header present and an ASID (digest 3.2, 5.1).
pub const HDR_FROM_ASID: SecurityRule = rule(
    "HDR-FROM-ASID",
    400,
    MISSING_HEADER,
    "the fromASID header is present and holds an ASID (1 to 12 digits)",
);
/// `toASID` header present and an ASID.
pub const HDR_TO_ASID: SecurityRule = rule(
    "HDR-TO-ASID",
    400,
    MISSING_HEADER,
    "the toASID header is present and holds an ASID (1 to 12 digits)",
);
/// `InteractionID` header present.
pub const HDR_INTERACTION_ID: SecurityRule = rule(
    "HDR-INTERACTION-ID",
    400,
    MISSING_HEADER,
    "the InteractionID header is present",
);
/// `Authorization: Bearer <JWT>` present.
pub const HDR_AUTHORIZATION: SecurityRule = rule(
    "HDR-AUTHORIZATION",
    400,
    MISSING_HEADER,
    "the Authorization header is present and of the form `Bearer <JWT>`",
);
/// The ASID is registered (registry mode).
pub const ASID_UNKNOWN: SecurityRule = rule(
    "ASID-UNKNOWN",
    403,
    ASID_CHECK_FAILED,
    "the fromASID is registered (registry file)",
);
/// The client certificate is the ASID's endpoint certificate.
pub const TLS_CERT_NAME: SecurityRule = rule(
    "TLS-CERT-NAME",
    403,
    ASID_CHECK_FAILED,
    "the mutual-TLS client certificate's name is the endpoint certificate name registered for the fromASID",
);
/// The InteractionID is allowed for the ASID.
pub const ASID_INTERACTION: SecurityRule = rule(
    "ASID-INTERACTION",
    403,
    ACCESS_DENIED,
    "the InteractionID is one the fromASID is registered for",
);
/// The organisation is registered for the ASID.
pub const ASID_ORGANISATION: SecurityRule = rule(
    "ASID-ORGANISATION",
    403,
    ACCESS_DENIED,
    "requesting_organisation is an ODS code the fromASID is registered against (9.1)",
);
/// The token is a JWT.
pub const JWT_FORMAT: SecurityRule = rule(
    "JWT-FORMAT",
    400,
    BAD_REQUEST,
    "the bearer token is a JWT: three base64url parts, a JSON object header and claims, an empty signature when unsigned",
);
/// The token's algorithm is one the server knows.
pub const JWT_ALG: SecurityRule = rule(
    "JWT-ALG",
    400,
    BAD_REQUEST,
    "the JWT header's alg is none, HS256 or RS256",
);
/// Unsigned tokens only when the policy allows them.
pub const JWT_UNSIGNED: SecurityRule = rule(
    "JWT-UNSIGNED",
    403,
    ACCESS_DENIED,
    "an unsigned JWT (alg none) is accepted only when the server allows them (--jwt-allow-unsigned)",
);
/// A key is configured for the token's algorithm.
pub const JWT_KEY: SecurityRule = rule(
    "JWT-KEY",
    403,
    ACCESS_DENIED,
    "a signed JWT uses an algorithm the server has a key for (--jwt-hs256-secret, --jwt-rs256-key)",
);
/// The signature verifies.
pub const JWT_SIGNATURE: SecurityRule = rule(
    "JWT-SIGNATURE",
    403,
    ACCESS_DENIED,
    "the JWT signature verifies with the configured key",
);
/// `exp`, when present, is a number and not passed.
pub const JWT_EXP: SecurityRule = rule(
    "JWT-EXP",
    400,
    BAD_REQUEST,
    "exp, when present, is a NumericDate that has not passed",
);
/// `iat`, when present, is a number and not in the future.
pub const JWT_IAT: SecurityRule = rule(
    "JWT-IAT",
    400,
    BAD_REQUEST,
    "iat, when present, is a NumericDate that is not in the future",
);
/// `scope` is the operation's.
pub const JWT_SCOPE: SecurityRule = rule(
    "JWT-SCOPE",
    400,
    BAD_REQUEST,
    "scope is patient/Bundle.write (publish), patient/Subscription.read (GET) or patient/Subscription.write (POST, DELETE) (9.1, 9.2)",
);
/// `requesting_system` is the `fromASID`.
pub const JWT_REQUESTING_SYSTEM: SecurityRule = rule(
    "JWT-REQUESTING-SYSTEM",
    400,
    BAD_REQUEST,
    "requesting_system is present, of system https://fhir.nhs.uk/Id/accredited-system, and is the fromASID (9.1)",
);
/// `requesting_user`, when present, is an identifier.
pub const JWT_REQUESTING_USER: SecurityRule = rule(
    "JWT-REQUESTING-USER",
    400,
    BAD_REQUEST,
    "requesting_user, when present, is a non-empty string (9.1)",
);
/// The `sub` rule.
pub const JWT_SUB: SecurityRule = rule(
    "JWT-SUB",
    400,
    BAD_REQUEST,
    "sub is present and equals requesting_user when that claim is present, otherwise requesting_system (9.1)",
);
/// `requesting_organisation` is an ODS code.
pub const JWT_REQUESTING_ORGANISATION: SecurityRule = rule(
    "JWT-REQUESTING-ORGANISATION",
    400,
    BAD_REQUEST,
    "requesting_organisation is present, of system https://fhir.nhs.uk/Id/ods-organization-code, and an ODS code (9.1)",
);
/// `requesting_patient`, when present, is an NHS number.
pub const JWT_REQUESTING_PATIENT: SecurityRule = rule(
    "JWT-REQUESTING-PATIENT",
    400,
    "INVALID_NHS_NUMBER",
    "requesting_patient, when present, is a valid NHS number, of system https://fhir.nhs.uk/Id/nhs-number (9.2)",
);

/// Every security rule, in the order [`authorise`] checks them.
pub const SECURITY_RULES: &[SecurityRule] = &[
    HDR_FROM_ASID,
    HDR_TO_ASID,
    HDR_INTERACTION_ID,
    HDR_AUTHORIZATION,
    ASID_UNKNOWN,
    TLS_CERT_NAME,
    ASID_INTERACTION,
    JWT_FORMAT,
    JWT_ALG,
    JWT_UNSIGNED,
    JWT_KEY,
    JWT_SIGNATURE,
    JWT_EXP,
    JWT_IAT,
    JWT_SCOPE,
    JWT_REQUESTING_SYSTEM,
    JWT_REQUESTING_USER,
    JWT_SUB,
    JWT_REQUESTING_ORGANISATION,
    JWT_REQUESTING_PATIENT,
    ASID_ORGANISATION,
];

/// The JWT scope an operation needs (digest 9.1, 9.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    /// `patient/Bundle.write`: the publish API.
    BundleWrite,
    /// `patient/Subscription.read`: `GET /Subscription/{id}`.
    SubscriptionRead,
    /// `patient/Subscription.write`: `POST /Subscription`, `DELETE /Subscription/{id}`.
    SubscriptionWrite,
}

impl Scope {
    /// The claim value.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::BundleWrite => "patient/Bundle.write",
            Scope::SubscriptionRead => "patient/Subscription.read",
            Scope::SubscriptionWrite => "patient/Subscription.write",
        }
    }
}

/// How bearer tokens are trusted: unsigned tokens allowed or not, and the
/// keys signed tokens are verified with.
///
/// `alg: none` tokens (as NEMS INT uses) are accepted only when allowed —
/// by default in open mode ([`JwtPolicy::for_registry`]); `HS256` tokens only
/// with a secret, `RS256` tokens only with a public key. A small clock skew
/// (default 60 s) is allowed on `exp` and `iat`.
#[derive(Clone)]
pub struct JwtPolicy {
    allow_unsigned: bool,
    hs256: Option<DecodingKey>,
    rs256: Option<DecodingKey>,
    clock_skew_seconds: i64,
}

/// Default allowance for clocks that disagree, on `exp` and `iat`.
const DEFAULT_CLOCK_SKEW_SECONDS: i64 = 60;

impl std::fmt::Debug for JwtPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // never print key material
        f.debug_struct("JwtPolicy")
            .field("allow_unsigned", &self.allow_unsigned)
            .field("hs256", &self.hs256.is_some())
            .field("rs256", &self.rs256.is_some())
            .field("clock_skew_seconds", &self.clock_skew_seconds)
            .finish()
    }
}

/// An RS256 public key that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum JwtKeyError {
    /// The key file cannot be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The text is not an RSA public key in PEM (`PUBLIC KEY` or `RSA PUBLIC KEY`).
    #[error("not an RSA public key in PEM: {0}")]
    Pem(String),
}

impl JwtPolicy {
    /// A policy with no keys; unsigned tokens allowed or not.
    pub fn new(allow_unsigned: bool) -> JwtPolicy {
        JwtPolicy {
            allow_unsigned,
            hs256: None,
            rs256: None,
            clock_skew_seconds: DEFAULT_CLOCK_SKEW_SECONDS,
        }
    }

    /// The default policy for `registry`: unsigned tokens allowed in open
    /// mode, refused with a registry file; no keys.
    pub fn for_registry(registry: &Registry) -> JwtPolicy {
        JwtPolicy::new(registry.is_open())
    }

    /// Allows or refuses unsigned tokens (`--jwt-allow-unsigned`).
    pub fn allow_unsigned(mut self, allow: bool) -> JwtPolicy {
        self.allow_unsigned = allow;
        self
    }

    /// Whether unsigned tokens are accepted.
    pub fn allows_unsigned(&self) -> bool {
        self.allow_unsigned
    }

    /// Verifies `HS256` tokens with this shared secret (the bytes as given;
    /// `--jwt-hs256-secret`).
    pub fn with_hs256_secret(mut self, secret: &[u8]) -> JwtPolicy {
        self.hs256 = Some(DecodingKey::from_secret(secret));
        self
    }

    /// Verifies `RS256` tokens with this RSA public key, PEM text of a
    /// `PUBLIC KEY` (SubjectPublicKeyInfo) or `RSA PUBLIC KEY` (PKCS#1).
    pub fn with_rs256_public_key_pem(mut self, pem: &[u8]) -> Result<JwtPolicy, JwtKeyError> {
        let key = DecodingKey::from_rsa_pem(pem).map_err(|e| JwtKeyError::Pem(e.to_string()))?;
        self.rs256 = Some(key);
        Ok(self)
    }

    /// [`JwtPolicy::with_rs256_public_key_pem`] from a file (`--jwt-rs256-key FILE`).
    pub fn with_rs256_public_key_file(self, path: &Path) -> Result<JwtPolicy, JwtKeyError> {
        let pem = std::fs::read(path).map_err(|source| JwtKeyError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        self.with_rs256_public_key_pem(&pem)
    }

    /// Sets the clock skew allowed on `exp` and `iat` (default 60 s).
    pub fn with_clock_skew_seconds(mut self, seconds: u32) -> JwtPolicy {
        self.clock_skew_seconds = i64::from(seconds);
        self
    }
}

/// The security material of one request, as received (`None` = absent).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RequestCredentials<'a> {
    /// The `fromASID` header.
    pub from_asid: Option<&'a str>,
    /// The `toASID` header.
    pub to_asid: Option<&'a str>,
    /// The `Authorization` header.
    pub authorization: Option<&'a str>,
    /// The `InteractionID` header.
    pub interaction_id: Option<&'a str>,
    /// The client certificate name of a mutual-TLS connection
    /// ([`crate::tls::ClientCertName`]); `None` over plain HTTP or TLS
    /// without a client certificate.
    pub client_cert_name: Option<&'a str>,
}

/// Header carrying the caller's ASID (digest 3.2, 5.1).
pub const FROM_ASID_HEADER: &str = "fromASID";
/// Header carrying NEMS's ASID.
pub const TO_ASID_HEADER: &str = "toASID";
/// Header carrying the InteractionID.
pub const INTERACTION_ID_HEADER: &str = "InteractionID";

impl<'a> RequestCredentials<'a> {
    /// The credentials of a request: its `fromASID`, `toASID`,
    /// `Authorization` and `InteractionID` headers (names are
    /// case-insensitive; a value that is not visible ASCII counts as
    /// missing) and the client certificate name of its connection.
    pub fn from_headers(
        headers: &'a axum::http::HeaderMap,
        client_cert: &'a crate::tls::ClientCertName,
    ) -> RequestCredentials<'a> {
        let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        RequestCredentials {
            from_asid: get(FROM_ASID_HEADER),
            to_asid: get(TO_ASID_HEADER),
            authorization: get(axum::http::header::AUTHORIZATION.as_str()),
            interaction_id: get(INTERACTION_ID_HEADER),
            client_cert_name: client_cert.0.as_deref(),
        }
    }
}

/// The authorised caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    /// The calling ASID (`fromASID` = `requesting_system`).
    pub asid: String,
    /// The calling organisation (the value of `requesting_organisation`).
    pub ods_code: String,
    /// The NHS number of `requesting_patient`, when the claim is present.
    pub requesting_patient: Option<String>,
    /// `requesting_user` as received, when present.
    pub requesting_user: Option<String>,
    /// The JWT algorithm the token used (`none`, `HS256`, `RS256`).
    pub alg: &'static str,
    /// The JWT claims as received (the decoded payload text), for the audit.
    pub claims_json: String,
}

/// Why a request is refused: the HTTP status, the Spine code, the rule id and
/// a message for the OperationOutcome.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{rule}: {message}")]
pub struct Denied {
    /// HTTP status (400 or 403).
    pub status: u16,
    /// Spine-ErrorOrWarningCode-1 code.
    pub spine_code: &'static str,
    /// Stable rule id ([`SECURITY_RULES`]).
    pub rule: &'static str,
    /// What is wrong (never contains key material).
    pub message: String,
    /// Where: the HTTP header (`fromASID`) or the JWT part (`jwt.header`,
    /// `jwt.signature`) or claim (`jwt.scope`) at fault.
    pub expression: Option<String>,
}

impl SecurityRule {
    fn deny(&self, message: impl Into<String>, expression: &str) -> Denied {
        Denied {
            status: self.status,
            spine_code: self.spine_code,
            rule: self.id,
            message: message.into(),
            expression: Some(expression.to_string()),
        }
    }
}

/// Checks the request's security material for an operation needing `scope`;
/// see the [module docs](self) for the checks, their order and statuses.
pub fn authorise(
    credentials: &RequestCredentials<'_>,
    scope: Scope,
    registry: &Registry,
    policy: &JwtPolicy,
    now: DateTime<Utc>,
) -> Result<Caller, Denied> {
    let from_asid = asid_header(credentials.from_asid, &HDR_FROM_ASID, "fromASID")?;
    asid_header(credentials.to_asid, &HDR_TO_ASID, "toASID")?;
    let interaction_id = present(credentials.interaction_id).ok_or_else(|| {
        HDR_INTERACTION_ID.deny("the InteractionID header is missing", "InteractionID")
    })?;
    let token = bearer_token(credentials.authorization)?;

    let entry = registered(
        registry,
        from_asid,
        credentials.client_cert_name,
        interaction_id,
    )?;

    let jwt = Jwt::parse(token)?;
    jwt.verify(policy)?;
    let claims = &jwt.claims;
    check_times(claims, now, policy.clock_skew_seconds)?;
    check_scope(claims, scope)?;
    let system = requesting_system(claims, from_asid)?;
    let user = optional_str(claims, "requesting_user", &JWT_REQUESTING_USER)?;
    check_sub(claims, user, system)?;
    let ods_code = requesting_organisation(claims)?;
    if let Some(entry) = entry {
        if !entry.has_ods_code(ods_code) {
            return Err(ASID_ORGANISATION.deny(
                format!("ASID {from_asid} is not registered for organisation {ods_code}"),
                "jwt.requesting_organisation",
            ));
        }
    }
    let requesting_patient = requesting_patient(claims)?;
    Ok(Caller {
        asid: from_asid.to_string(),
        ods_code: ods_code.to_string(),
        requesting_patient,
        requesting_user: user.map(str::to_string),
        alg: jwt.alg.as_str(),
        claims_json: jwt.claims_json,
    })
}

/// A header's value, `None` when absent or blank.
fn present(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

fn asid_header<'a>(
    value: Option<&'a str>,
    rule: &SecurityRule,
    header: &str,
) -> Result<&'a str, Denied> {
    let value = present(value)
        .ok_or_else(|| rule.deny(format!("the {header} header is missing"), header))?;
    if registry::is_asid(value) {
        Ok(value)
    } else {
        Err(rule.deny(
            format!("the {header} header {value:?} is not an ASID"),
            header,
        ))
    }
}

/// The token of `Authorization: Bearer <token>` (scheme case-insensitive).
fn bearer_token(value: Option<&str>) -> Result<&str, Denied> {
    let header = "Authorization";
    let value = present(value)
        .ok_or_else(|| HDR_AUTHORIZATION.deny("the Authorization header is missing", header))?;
    let token = value
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|t| !t.is_empty() && !t.contains(char::is_whitespace));
    token.ok_or_else(|| {
        HDR_AUTHORIZATION.deny(
            "the Authorization header is not of the form `Bearer <JWT>`",
            header,
        )
    })
}

/// The registry checks before the token: ASID registered, client
/// certificate and interaction; the entry (`None` in open mode).
fn registered<'r>(
    registry: &'r Registry,
    asid: &str,
    client_cert_name: Option<&str>,
    interaction_id: &str,
) -> Result<Option<&'r AsidEntry>, Denied> {
    if registry.is_open() {
        return Ok(None);
    }
    let entry = registry
        .asid(asid)
        .ok_or_else(|| ASID_UNKNOWN.deny(format!("ASID {asid} is not registered"), "fromASID"))?;
    // Only a mutual-TLS connection has a client certificate; without one
    // (plain HTTP, or TLS with no client CA) there is nothing to compare.
    if let Some(presented) = client_cert_name {
        match entry.cert_name.as_deref() {
            Some(expected) if expected.eq_ignore_ascii_case(presented) => {}
            Some(expected) => {
                return Err(TLS_CERT_NAME.deny(
                    format!(
                        "the client certificate {presented:?} is not the endpoint certificate {expected:?} of ASID {asid}"
                    ),
                    "fromASID",
                ))
            }
            None => {
                return Err(TLS_CERT_NAME.deny(
                    format!(
                        "ASID {asid} has no endpoint certificate registered; the client certificate {presented:?} cannot be its"
                    ),
                    "fromASID",
                ))
            }
        }
    }
    if !entry.allows_interaction(interaction_id) {
        return Err(ASID_INTERACTION.deny(
            format!("ASID {asid} is not registered for interaction {interaction_id}"),
            "InteractionID",
        ));
    }
    Ok(Some(entry))
}

/// The JWT algorithms the server knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Alg {
    None,
    Hs256,
    Rs256,
}

impl Alg {
    fn as_str(self) -> &'static str {
        match self {
            Alg::None => "none",
            Alg::Hs256 => "HS256",
            Alg::Rs256 => "RS256",
        }
    }
}

/// A JWT split and decoded, signature not yet verified.
struct Jwt<'t> {
    alg: Alg,
    /// `header.payload`, the signed bytes.
    signing_input: &'t str,
    signature: &'t str,
    claims: Map<String, Value>,
    claims_json: String,
}

/// base64url, padding optional (RFC 7515 says none; be lenient about `=`).
const BASE64URL: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

fn json_object(part: &str, what: &str) -> Result<(Map<String, Value>, String), Denied> {
    let expression = format!("jwt.{what}");
    let bytes = BASE64URL
        .decode(part)
        .map_err(|_| JWT_FORMAT.deny(format!("the JWT {what} is not base64url"), &expression))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| JWT_FORMAT.deny(format!("the JWT {what} is not UTF-8"), &expression))?;
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(map)) => Ok((map, text)),
        _ => Err(JWT_FORMAT.deny(format!("the JWT {what} is not a JSON object"), &expression)),
    }
}

impl<'t> Jwt<'t> {
    fn parse(token: &'t str) -> Result<Jwt<'t>, Denied> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(JWT_FORMAT.deny(
                format!("the JWT is longer than {MAX_TOKEN_LEN} bytes"),
                "jwt",
            ));
        }
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JWT_FORMAT.deny(
                "the JWT is not three base64url parts separated by '.'",
                "jwt",
            ));
        };
        let (header_map, _) = json_object(header, "header")?;
        let (claims, claims_json) = json_object(payload, "claims")?;
        let alg = match header_map.get("alg") {
            Some(Value::String(a)) if a == "none" => Alg::None,
            Some(Value::String(a)) if a == "HS256" => Alg::Hs256,
            Some(Value::String(a)) if a == "RS256" => Alg::Rs256,
            Some(Value::String(a)) => {
                return Err(JWT_ALG.deny(
                    format!("the JWT algorithm {a:?} is not supported (none, HS256, RS256)"),
                    "jwt.header.alg",
                ))
            }
            _ => return Err(JWT_ALG.deny("the JWT header has no alg string", "jwt.header.alg")),
        };
        if alg == Alg::None && !signature.is_empty() {
            return Err(JWT_FORMAT.deny(
                "an unsigned JWT (alg none) has an empty signature part",
                "jwt.signature",
            ));
        }
        Ok(Jwt {
            alg,
            signing_input: &token[..header.len() + 1 + payload.len()],
            signature,
            claims,
            claims_json,
        })
    }

    fn verify(&self, policy: &JwtPolicy) -> Result<(), Denied> {
        let (key, algorithm) = match self.alg {
            Alg::None if policy.allow_unsigned => return Ok(()),
            Alg::None => {
                return Err(JWT_UNSIGNED.deny(
                    "unsigned JWTs (alg none) are not accepted by this server",
                    "jwt.header.alg",
                ))
            }
            Alg::Hs256 => (policy.hs256.as_ref(), Algorithm::HS256),
            Alg::Rs256 => (policy.rs256.as_ref(), Algorithm::RS256),
        };
        let key = key.ok_or_else(|| {
            JWT_KEY.deny(
                format!("the server has no {} key", self.alg.as_str()),
                "jwt.header.alg",
            )
        })?;
        match jsonwebtoken::crypto::verify(
            self.signature,
            self.signing_input.as_bytes(),
            key,
            algorithm,
        ) {
            Ok(true) => Ok(()),
            // a signature that is not base64url cannot verify either
            Ok(false) | Err(_) => Err(JWT_SIGNATURE.deny(
                format!("the {} signature does not verify", self.alg.as_str()),
                "jwt.signature",
            )),
        }
    }
}

/// A NumericDate claim in whole seconds; `None` when absent.
fn numeric_date(
    claims: &Map<String, Value>,
    name: &str,
    rule: &SecurityRule,
) -> Result<Option<i64>, Denied> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => {
            let seconds = n.as_i64().or_else(|| {
                n.as_f64()
                    .filter(|f| f.is_finite())
                    .map(|f| f.floor() as i64)
            });
            match seconds {
                Some(s) => Ok(Some(s)),
                None => Err(rule.deny(
                    format!("{name} is not a NumericDate"),
                    &format!("jwt.{name}"),
                )),
            }
        }
        Some(_) => Err(rule.deny(
            format!("{name} is not a NumericDate (seconds since 1970)"),
            &format!("jwt.{name}"),
        )),
    }
}

fn instant(seconds: i64) -> String {
    DateTime::from_timestamp(seconds, 0).map_or_else(|| seconds.to_string(), |t| t.to_rfc3339())
}

fn check_times(claims: &Map<String, Value>, now: DateTime<Utc>, skew: i64) -> Result<(), Denied> {
    let now = now.timestamp();
    if let Some(exp) = numeric_date(claims, "exp", &JWT_EXP)? {
        // RFC 7519 4.1.4: the current time must be before exp
        if now >= exp.saturating_add(skew) {
            return Err(JWT_EXP.deny(format!("the JWT expired at {}", instant(exp)), "jwt.exp"));
        }
    }
    if let Some(iat) = numeric_date(claims, "iat", &JWT_IAT)? {
        if iat > now.saturating_add(skew) {
            return Err(JWT_IAT.deny(
                format!("the JWT is issued in the future ({})", instant(iat)),
                "jwt.iat",
            ));
        }
    }
    Ok(())
}

/// A string claim; `None` when absent; null, non-string or empty is a denial.
fn optional_str<'c>(
    claims: &'c Map<String, Value>,
    name: &str,
    rule: &SecurityRule,
) -> Result<Option<&'c str>, Denied> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(Some(s.as_str())),
        Some(Value::String(_)) => {
            Err(rule.deny(format!("{name} is empty"), &format!("jwt.{name}")))
        }
        Some(_) => Err(rule.deny(format!("{name} is not a string"), &format!("jwt.{name}"))),
    }
}

fn required_str<'c>(
    claims: &'c Map<String, Value>,
    name: &str,
    rule: &SecurityRule,
) -> Result<&'c str, Denied> {
    optional_str(claims, name, rule)?.ok_or_else(|| {
        rule.deny(
            format!("the {name} claim is missing"),
            &format!("jwt.{name}"),
        )
    })
}

/// `scope` names the operation's scope. OAuth scopes are a space-separated
/// list; the operation's scope must be one of them.
fn check_scope(claims: &Map<String, Value>, scope: Scope) -> Result<(), Denied> {
    let value = required_str(claims, "scope", &JWT_SCOPE)?;
    if value.split_whitespace().any(|s| s == scope.as_str()) {
        Ok(())
    } else {
        Err(JWT_SCOPE.deny(
            format!(
                "scope {value:?} is not {} (needed for this operation)",
                scope.as_str()
            ),
            "jwt.scope",
        ))
    }
}

/// An identifier claim split into its optional system and its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Identifier<'c> {
    system: Option<&'c str>,
    value: &'c str,
}

impl<'c> Identifier<'c> {
    /// `system|value` or a bare `value` (URL systems hold no `|`).
    fn parse(text: &'c str) -> Identifier<'c> {
        match text.split_once('|') {
            Some((system, value)) => Identifier {
                system: Some(system.trim()),
                value: value.trim(),
            },
            None => Identifier {
                system: None,
                value: text.trim(),
            },
        }
    }

    /// Equal values, and equal systems when both have one.
    fn same_as(&self, other: &Identifier<'_>) -> bool {
        self.value == other.value
            && match (self.system, other.system) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }
    }
}

/// An identifier claim whose system, when given, must be one of `systems`.
fn identifier_claim<'c>(
    text: &'c str,
    name: &str,
    systems: &[&str],
    rule: &SecurityRule,
) -> Result<Identifier<'c>, Denied> {
    let id = Identifier::parse(text);
    let expression = format!("jwt.{name}");
    if let Some(system) = id.system {
        if !systems.contains(&system) {
            return Err(rule.deny(
                format!(
                    "{name} has system {system:?}; expected {}",
                    systems.join(" or ")
                ),
                &expression,
            ));
        }
    }
    if id.value.is_empty() {
        return Err(rule.deny(format!("{name} has no value"), &expression));
    }
    Ok(id)
}

fn requesting_system<'c>(
    claims: &'c Map<String, Value>,
    from_asid: &str,
) -> Result<Identifier<'c>, Denied> {
    let rule = &JWT_REQUESTING_SYSTEM;
    let text = required_str(claims, "requesting_system", rule)?;
    let id = identifier_claim(text, "requesting_system", &[ACCREDITED_SYSTEM], rule)?;
    if id.value != from_asid {
        return Err(rule.deny(
            format!(
                "requesting_system {} is not the fromASID {from_asid}",
                id.value
            ),
            "jwt.requesting_system",
        ));
    }
    Ok(id)
}

fn check_sub(
    claims: &Map<String, Value>,
    user: Option<&str>,
    system: Identifier<'_>,
) -> Result<(), Denied> {
    let sub = Identifier::parse(required_str(claims, "sub", &JWT_SUB)?);
    let (expected, name) = match user {
        Some(u) => (Identifier::parse(u), "requesting_user"),
        None => (system, "requesting_system"),
    };
    if sub.same_as(&expected) {
        Ok(())
    } else {
        Err(JWT_SUB.deny(
            format!("sub {:?} is not {name} {:?}", sub.value, expected.value),
            "jwt.sub",
        ))
    }
}

/// The ODS code of `requesting_organisation` (or Spine core's
/// `requesting_organization`; both must agree when both are present).
fn requesting_organisation(claims: &Map<String, Value>) -> Result<&str, Denied> {
    let rule = &JWT_REQUESTING_ORGANISATION;
    let british = optional_str(claims, "requesting_organisation", rule)?;
    let american = optional_str(claims, "requesting_organization", rule)?;
    let (text, name) = match (british, american) {
        (Some(b), Some(a)) => {
            let (ib, ia) = (Identifier::parse(b), Identifier::parse(a));
            if !ib.same_as(&ia) {
                return Err(rule.deny(
                    format!(
                        "requesting_organisation {:?} and requesting_organization {:?} disagree",
                        ib.value, ia.value
                    ),
                    "jwt.requesting_organisation",
                ));
            }
            (b, "requesting_organisation")
        }
        (Some(b), None) => (b, "requesting_organisation"),
        (None, Some(a)) => (a, "requesting_organization"),
        (None, None) => {
            return Err(rule.deny(
                "the requesting_organisation claim is missing",
                "jwt.requesting_organisation",
            ))
        }
    };
    let id = identifier_claim(text, name, &[ODS_SYSTEM], rule)?;
    if !registry::is_ods_code(id.value) {
        return Err(rule.deny(
            format!("{name} {:?} is not an ODS code", id.value),
            &format!("jwt.{name}"),
        ));
    }
    Ok(id.value)
}

fn requesting_patient(claims: &Map<String, Value>) -> Result<Option<String>, Denied> {
    let rule = &JWT_REQUESTING_PATIENT;
    let Some(text) = optional_str(claims, "requesting_patient", rule)? else {
        return Ok(None);
    };
    let systems = [
        NhsNumberSystem::Current.url(),
        NhsNumberSystem::Legacy.url(),
    ];
    let id = identifier_claim(text, "requesting_patient", &systems, rule)?;
    match NhsNumber::parse(id.value) {
        Ok(n) => Ok(Some(n.to_string())),
        Err(e) => Err(rule.deny(
            format!(
                "requesting_patient {:?} is not an NHS number: {e}",
                id.value
            ),
            "jwt.requesting_patient",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_split_at_the_first_bar() {
        let id = Identifier::parse("https://fhir.nhs.uk/Id/accredited-system|200000000115");
        assert_eq!(id.system, Some(ACCREDITED_SYSTEM));
        assert_eq!(id.value, "200000000115");
        let bare = Identifier::parse("200000000115");
        assert_eq!(bare.system, None);
        assert!(id.same_as(&bare) && bare.same_as(&id));
        assert!(!id.same_as(&Identifier::parse("other|200000000115")));
        assert!(!id.same_as(&Identifier::parse("200000000116")));
    }

    #[test]
    fn rule_ids_are_unique_and_statuses_are_client_errors() {
        let mut ids: Vec<&str> = SECURITY_RULES.iter().map(|r| r.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), SECURITY_RULES.len());
        assert!(SECURITY_RULES
            .iter()
            .all(|r| r.status == 400 || r.status == 403));
    }
}
