//! MESH API v2 client: handshake, send, inbox, download, acknowledge,
//! tracking; `NHSMESH` authorisation; retries with backoff.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// `Accept` media type of MESH API version 2.
pub const MESH_V2_JSON: &str = "application/vnd.mesh.v2+json";

/// TLS settings for live MESH: client certificate and key (PEM) and the CA
/// bundle of the environment.
#[derive(Clone, Debug, Default)]
pub struct TlsSettings {
    /// Client certificate chain, PEM.
    pub client_cert_pem: Option<Vec<u8>>,
    /// Client private key, PEM.
    pub client_key_pem: Option<Vec<u8>>,
    /// CA certificates to trust, PEM (e.g. the NHS INT/LIVE bundle); `None`
    /// uses the platform's trust store.
    pub ca_pem: Option<Vec<u8>>,
}

/// Connection settings of one mailbox.
#[derive(Clone, Debug)]
pub struct MeshConfig {
    /// Base URL, e.g. `https://msg.intspineservices.nhs.uk` or
    /// `http://localhost:8700` for the sandbox.
    pub base_url: String,
    /// Mailbox id, e.g. `X26ABC1`.
    pub mailbox: String,
    /// Mailbox password.
    pub password: String,
    /// Environment shared key for the `NHSMESH` HMAC.
    pub shared_key: Vec<u8>,
    /// TLS settings (ignored for `http://` URLs).
    pub tls: TlsSettings,
    /// Retries on 429, 5xx and connection errors.
    pub max_retries: u32,
    /// First backoff delay (doubled per retry).
    pub backoff: Duration,
    /// Timeout of one request.
    pub timeout: Duration,
}

impl MeshConfig {
    /// Settings with 3 retries, 200 ms initial backoff and a 30 s timeout.
    pub fn new(
        base_url: impl Into<String>,
        mailbox: impl Into<String>,
        password: impl Into<String>,
        shared_key: impl Into<Vec<u8>>,
    ) -> MeshConfig {
        MeshConfig {
            base_url: base_url.into().trim_end_matches('/').to_string(),
            mailbox: mailbox.into(),
            password: password.into(),
            shared_key: shared_key.into(),
            tls: TlsSettings::default(),
            max_retries: 3,
            backoff: Duration::from_millis(200),
            timeout: Duration::from_secs(30),
        }
    }
}

/// A MESH failure.
#[derive(Debug, thiserror::Error)]
pub enum MeshError {
    /// The server answered with an error status.
    #[error("MESH {method} {path}: HTTP {status}: {body}")]
    Status {
        /// Method.
        method: &'static str,
        /// Path.
        path: String,
        /// HTTP status.
        status: u16,
        /// Response body (error description).
        body: String,
    },
    /// Authentication failed (HTTP 401/403).
    #[error("MESH authentication failed for mailbox {0}")]
    Auth(String),
    /// The message does not exist (or is no longer in the inbox).
    #[error("MESH message {0} not found")]
    NotFound(String),
    /// Network or protocol failure after all retries.
    #[error("MESH transport: {0}")]
    Transport(String),
    /// The response was not what the API defines.
    #[error("MESH response: {0}")]
    Response(String),
    /// Bad configuration (e.g. unreadable certificate).
    #[error("MESH configuration: {0}")]
    Config(String),
}

/// A message to send.
#[derive(Clone, Debug, Default)]
pub struct OutgoingMessage {
    /// Recipient mailbox (`mex-to`).
    pub to: String,
    /// WorkflowID (`mex-workflowid`).
    pub workflow_id: String,
    /// `mex-subject`.
    pub subject: Option<String>,
    /// Sender's own reference (`mex-localid`).
    pub local_id: Option<String>,
    /// `mex-partnerid` (NEMS: subscription ids and tags).
    pub partner_id: Option<String>,
    /// Content type of the body (NEMS: `application/fhir+xml`).
    pub content_type: String,
    /// File name (`mex-filename`).
    pub file_name: Option<String>,
    /// The payload.
    pub body: Vec<u8>,
}

/// A downloaded message.
#[derive(Clone, Debug)]
pub struct ReceivedMessage {
    /// MESH message id.
    pub id: String,
    /// All `mex-*` headers (lower-case names without the `mex-` prefix) and
    /// `content-type`.
    pub headers: Vec<(String, String)>,
    /// The payload.
    pub body: Vec<u8>,
}

impl ReceivedMessage {
    /// A `mex-` header by name (case-insensitive, without the prefix).
    pub fn mex(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }
    /// WorkflowID.
    pub fn workflow_id(&self) -> Option<&str> {
        self.mex("workflowid")
    }
    /// Sender mailbox.
    pub fn from(&self) -> Option<&str> {
        self.mex("from")
    }
    /// Raw `Mex-Partnerid`.
    pub fn partner_id(&self) -> Option<&str> {
        self.mex("partnerid")
    }
    /// Parsed `Mex-Partnerid` pairs (subscription id, tag).
    pub fn partner_pairs(
        &self,
    ) -> Result<Vec<ems::matching::PartnerPair>, ems::matching::PartnerIdError> {
        ems::matching::parse_partner_id(self.partner_id().unwrap_or(""))
    }
    /// `mex-localid`.
    pub fn local_id(&self) -> Option<&str> {
        self.mex("localid")
    }
    /// `mex-subject`.
    pub fn subject(&self) -> Option<&str> {
        self.mex("subject")
    }
}

/// A MESH API v2 client for one mailbox (blocking; `Send + Sync`).
pub struct MeshClient {
    cfg: MeshConfig,
    agent: ureq::Agent,
    nonce: String,
    count: AtomicU64,
}

impl std::fmt::Debug for MeshClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MeshClient")
            .field("base_url", &self.cfg.base_url)
            .field("mailbox", &self.cfg.mailbox)
            .finish_non_exhaustive()
    }
}

type HmacSha256 = Hmac<Sha256>;

/// The `NHSMESH` authorisation value: `NHSMESH mailbox:nonce:count:timestamp:hmac`
/// with `hmac = HMAC-SHA256(shared_key, "mailbox:nonce:count:password:timestamp")`
/// and `timestamp = YYYYMMDDHHMM` (UTC).
///
/// ```
/// let h = ems_mesh::auth_header(b"TestKey", "X26ABC1", "password", "nonce-1", 0, "202401011200");
/// assert!(h.starts_with("NHSMESH X26ABC1:nonce-1:0:202401011200:"));
/// assert_eq!(h.rsplit(':').next().unwrap().len(), 64);
/// ```
pub fn auth_header(
    shared_key: &[u8],
    mailbox: &str,
    password: &str,
    nonce: &str,
    count: u64,
    timestamp: &str,
) -> String {
    let mut mac = HmacSha256::new_from_slice(shared_key).expect("HMAC accepts keys of any length");
    mac.update(format!("{mailbox}:{nonce}:{count}:{password}:{timestamp}").as_bytes());
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("NHSMESH {mailbox}:{nonce}:{count}:{timestamp}:{hex}")
}

fn sha256_hex(b: &[u8]) -> String {
    Sha256::digest(b)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

pub(crate) struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl MeshClient {
    /// A client for `cfg`.
    pub fn new(cfg: MeshConfig) -> Result<MeshClient, MeshError> {
        let mut builder = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(cfg.timeout));
        if cfg.tls.client_cert_pem.is_some() || cfg.tls.ca_pem.is_some() {
            let mut tls = ureq::tls::TlsConfig::builder();
            if let (Some(cert), Some(key)) = (&cfg.tls.client_cert_pem, &cfg.tls.client_key_pem) {
                let chain: Vec<ureq::tls::Certificate<'static>> = ureq::tls::parse_pem(cert)
                    .filter_map(|i| match i {
                        Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
                        _ => None,
                    })
                    .collect();
                let key = ureq::tls::PrivateKey::from_pem(key)
                    .map_err(|e| MeshError::Config(format!("client key: {e}")))?;
                tls = tls.client_cert(Some(ureq::tls::ClientCert::new_with_certs(&chain, key)));
            }
            if let Some(ca) = &cfg.tls.ca_pem {
                let roots: Vec<ureq::tls::Certificate<'static>> = ureq::tls::parse_pem(ca)
                    .filter_map(|i| match i {
                        Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
                        _ => None,
                    })
                    .collect();
                if roots.is_empty() {
                    return Err(MeshError::Config("CA bundle holds no certificate".into()));
                }
                tls = tls.root_certs(ureq::tls::RootCerts::new_with_certs(&roots));
            }
            builder = builder.tls_config(tls.build());
        }
        Ok(MeshClient {
            agent: builder.build().into(),
            nonce: uuid::Uuid::new_v4().to_string(),
            count: AtomicU64::new(0),
            cfg,
        })
    }

    /// The mailbox this client acts for.
    pub fn mailbox(&self) -> &str {
        &self.cfg.mailbox
    }

    fn auth(&self) -> String {
        let count = self.count.fetch_add(1, Ordering::Relaxed);
        let ts = chrono::Utc::now().format("%Y%m%d%H%M").to_string();
        auth_header(
            &self.cfg.shared_key,
            &self.cfg.mailbox,
            &self.cfg.password,
            &self.nonce,
            count,
            &ts,
        )
    }

    fn url(&self, path: &str) -> String {
        format!(
            "{}/messageexchange/{}{}",
            self.cfg.base_url, self.cfg.mailbox, path
        )
    }

    /// Sends one request, retrying 429, 5xx and transport errors with exponential backoff.
    pub(crate) fn request(
        &self,
        method: &'static str,
        path: &str,
        headers: &[(&str, String)],
        body: Option<&[u8]>,
    ) -> Result<Reply, MeshError> {
        let url = self.url(path);
        let mut delay = self.cfg.backoff;
        let mut attempt = 0;
        loop {
            let auth = self.auth();
            let result = match method {
                "GET" => {
                    let mut r = self
                        .agent
                        .get(&url)
                        .header("Authorization", &auth)
                        .header("Accept", MESH_V2_JSON);
                    for (k, v) in headers {
                        r = r.header(*k, v);
                    }
                    r.call()
                }
                _ => {
                    let mut r = match method {
                        "PUT" => self.agent.put(&url),
                        _ => self.agent.post(&url),
                    }
                    .header("Authorization", &auth)
                    .header("Accept", MESH_V2_JSON);
                    for (k, v) in headers {
                        r = r.header(*k, v);
                    }
                    match body {
                        Some(b) => r.send(b),
                        None => r.send_empty(),
                    }
                }
            };
            let retry_wait = match result {
                Ok(mut resp) => {
                    let status = resp.status().as_u16();
                    if (status == 429 || status >= 500) && attempt < self.cfg.max_retries {
                        let after = resp
                            .headers()
                            .get("retry-after")
                            .and_then(|v| v.to_str().ok())
                            .and_then(|v| v.parse::<u64>().ok())
                            .map(Duration::from_secs);
                        after.unwrap_or(delay)
                    } else {
                        let headers = resp
                            .headers()
                            .iter()
                            .filter_map(|(k, v)| {
                                let k = k.as_str().to_ascii_lowercase();
                                let v = v.to_str().ok()?.to_string();
                                match k.strip_prefix("mex-") {
                                    Some(rest) => Some((rest.to_string(), v)),
                                    None if k == "content-type" => Some((k, v)),
                                    None => None,
                                }
                            })
                            .collect();
                        let body = resp
                            .body_mut()
                            .with_config()
                            .limit(200 * 1024 * 1024)
                            .read_to_vec()
                            .map_err(|e| MeshError::Transport(e.to_string()))?;
                        return Ok(Reply {
                            status,
                            headers,
                            body,
                        });
                    }
                }
                Err(e) if attempt < self.cfg.max_retries => {
                    let _ = e;
                    delay
                }
                Err(e) => return Err(MeshError::Transport(format!("{method} {path}: {e}"))),
            };
            attempt += 1;
            std::thread::sleep(retry_wait);
            delay *= 2;
        }
    }

    pub(crate) fn check(
        &self,
        method: &'static str,
        path: &str,
        r: Reply,
        ok: &[u16],
    ) -> Result<Reply, MeshError> {
        if ok.contains(&r.status) {
            return Ok(r);
        }
        let body = String::from_utf8_lossy(&r.body)
            .chars()
            .take(500)
            .collect::<String>();
        Err(match r.status {
            401 | 403 => MeshError::Auth(self.cfg.mailbox.clone()),
            404 | 410 => MeshError::NotFound(path.rsplit('/').next().unwrap_or(path).to_string()),
            status => MeshError::Status {
                method,
                path: path.to_string(),
                status,
                body,
            },
        })
    }

    pub(crate) fn json(r: &Reply) -> Result<serde_json::Value, MeshError> {
        serde_json::from_slice(&r.body).map_err(|e| MeshError::Response(format!("not JSON: {e}")))
    }

    /// Validates the mailbox connection (MESH requires one per day).
    pub fn handshake(&self) -> Result<(), MeshError> {
        let headers = [
            (
                "mex-ClientVersion",
                format!("ems-mesh=={}", env!("CARGO_PKG_VERSION")),
            ),
            ("mex-OSName", std::env::consts::OS.to_string()),
            ("mex-OSVersion", "unknown".to_string()),
            ("mex-OSArchitecture", std::env::consts::ARCH.to_string()),
            ("mex-JavaVersion", "N/A".to_string()),
        ];
        let r = self.request("POST", "", &headers, None)?;
        self.check("POST", "", r, &[200]).map(|_| ())
    }

    /// Sends a message; returns the MESH message id.
    pub fn send(&self, m: &OutgoingMessage) -> Result<String, MeshError> {
        let mut headers = vec![
            ("mex-From", self.cfg.mailbox.clone()),
            ("mex-To", m.to.clone()),
            ("mex-WorkflowID", m.workflow_id.clone()),
            (
                "mex-Content-Checksum",
                format!("sha256:{}", sha256_hex(&m.body)),
            ),
            ("mex-MessageType", "DATA".to_string()),
            ("Content-Type", m.content_type.clone()),
        ];
        if let Some(v) = &m.subject {
            headers.push(("mex-Subject", v.clone()));
        }
        if let Some(v) = &m.local_id {
            headers.push(("mex-LocalID", v.clone()));
        }
        if let Some(v) = &m.partner_id {
            headers.push(("mex-PartnerID", v.clone()));
        }
        if let Some(v) = &m.file_name {
            headers.push(("mex-FileName", v.clone()));
        }
        let r = self.request("POST", "/outbox", &headers, Some(&m.body))?;
        let r = self.check("POST", "/outbox", r, &[200, 202])?;
        let v = Self::json(&r)?;
        v.get("message_id")
            .or_else(|| v.get("messageID"))
            .and_then(|x| x.as_str())
            .map(str::to_string)
            .ok_or_else(|| MeshError::Response("send response has no message_id".into()))
    }

    /// Ids of the messages waiting in the inbox (up to the server's page size).
    pub fn inbox(&self) -> Result<Vec<String>, MeshError> {
        let r = self.request("GET", "/inbox", &[], None)?;
        let r = self.check("GET", "/inbox", r, &[200])?;
        let v = Self::json(&r)?;
        Ok(v.get("messages")
            .and_then(|m| m.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Downloads a message (it stays in the inbox until acknowledged).
    pub fn download(&self, id: &str) -> Result<ReceivedMessage, MeshError> {
        let path = format!("/inbox/{id}");
        let r = self.request(
            "GET",
            &path,
            &[("Accept-Encoding", "identity".to_string())],
            None,
        )?;
        let mut r = self.check("GET", &path, r, &[200, 206])?;
        let chunks = r
            .headers
            .iter()
            .find(|(k, _)| k == "chunk-range")
            .and_then(|(_, v)| {
                v.split_once(':')
                    .and_then(|(_, n)| n.trim().parse::<u32>().ok())
            })
            .unwrap_or(1);
        let mut body = std::mem::take(&mut r.body);
        for chunk in 2..=chunks {
            let cp = format!("/inbox/{id}/{chunk}");
            let c = self.request("GET", &cp, &[], None)?;
            let c = self.check("GET", &cp, c, &[200, 206])?;
            body.extend_from_slice(&c.body);
        }
        Ok(ReceivedMessage {
            id: id.to_string(),
            headers: r.headers,
            body,
        })
    }

    /// Acknowledges a message: it leaves the inbox.
    pub fn acknowledge(&self, id: &str) -> Result<(), MeshError> {
        let path = format!("/inbox/{id}/status/acknowledged");
        let r = self.request("PUT", &path, &[], None)?;
        self.check("PUT", &path, r, &[200, 204]).map(|_| ())
    }

    /// Tracking information of a sent message (by MESH message id).
    pub fn tracking(&self, message_id: &str) -> Result<serde_json::Value, MeshError> {
        let path = format!("/outbox/tracking?messageID={message_id}");
        let r = self.request("GET", &path, &[], None)?;
        let r = self.check("GET", &path, r, &[200])?;
        Self::json(&r)
    }

    /// Downloads every message in the inbox (without acknowledging).
    pub fn receive(&self) -> Result<Vec<ReceivedMessage>, MeshError> {
        self.inbox()?.iter().map(|id| self.download(id)).collect()
    }
}
