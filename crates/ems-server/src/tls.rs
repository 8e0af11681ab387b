//! HTTPS as on Spine: rustls, optionally with mutual TLS, and the client
//! certificate's name handed to the handlers (digest 3.1, 9; issue 15
//! "Security").
//!
//! * [`server_config`] loads the server certificate chain and key (PEM) and,
//!   with a client CA, requires every client to present a certificate issued
//!   by it (`--tls-cert`, `--tls-key`, `--client-ca`).
//! * [`serve`] accepts TLS connections and serves an axum [`Router`] over
//!   HTTP/1.1 on each, inserting a [`ClientCertName`] and an
//!   [`axum::extract::ConnectInfo`]`<SocketAddr>` into every request. A failed
//!   or slow handshake ends only that connection; the accept loop never stops.
//!
//! The crypto provider is rustls's `ring` provider, named explicitly (no
//! process-wide default is installed or needed).
//!
//! # Which name
//!
//! A client certificate's name is its subject common name (CN), which for
//! Spine endpoint certificates is the endpoint's FQDN; a certificate without
//! a CN is named by its first DNS subjectAltName. The registry's `cert_name`
//! is compared with it ASCII case-insensitively ([`crate::auth`], rule
//! `TLS-CERT-NAME`).

use axum::extract::FromRequestParts;
use axum::Router;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

pub use crate::listen::HEADER_READ_TIMEOUT;

/// Longest a TLS handshake may take before the connection is dropped.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The name of the client certificate of the request's connection (see the
/// [module docs](self) for which name), `None` over plain HTTP or when the
/// client presented no certificate.
///
/// [`serve`] inserts it into every request. As an axum extractor it never
/// fails: a request served without [`serve`] (e.g. plain HTTP through
/// `axum::serve`) gets `ClientCertName(None)`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ClientCertName(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for ClientCertName {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<ClientCertName>()
            .cloned()
            .unwrap_or_default())
    }
}

/// Why the TLS configuration cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file cannot be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file is not the PEM expected, or holds none of it.
    #[error("{}: {message}", path.display())]
    Pem {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A client CA certificate is not usable as a trust anchor, or the
    /// client verifier cannot be built from them.
    #[error("{}: {message}", path.display())]
    ClientCa {
        /// The CA file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// rustls refuses the certificate and key (e.g. the key does not match).
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Every certificate of a PEM file (at least one).
fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem_error = |message: String| TlsError::Pem {
        path: path.to_path_buf(),
        message,
    };
    let certs = CertificateDer::pem_slice_iter(&read(path)?)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_error(format!("not PEM certificates: {e}")))?;
    if certs.is_empty() {
        return Err(pem_error("no CERTIFICATE in the file".into()));
    }
    Ok(certs)
}

fn private_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_slice(&read(path)?).map_err(|e| TlsError::Pem {
        path: path.to_path_buf(),
        message: format!("no usable private key (PKCS#8, PKCS#1 or SEC1 PEM): {e}"),
    })
}

/// The rustls server configuration for `--tls-cert` (the certificate chain,
/// PEM, leaf first), `--tls-key` (its private key, PEM) and, when given,
/// `--client-ca` (PEM CA certificates): with a client CA every client must
/// present a certificate issued by one of them (mutual TLS), without one no
/// client certificate is asked for. ALPN offers `http/1.1`.
pub fn server_config(
    cert: &Path,
    key: &Path,
    client_ca: Option<&Path>,
) -> Result<Arc<ServerConfig>, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let chain = certificates(cert)?;
    let key = private_key(key)?;
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?;
    let builder = match client_ca {
        None => builder.with_no_client_auth(),
        Some(ca_path) => {
            let ca_error = |message: String| TlsError::ClientCa {
                path: ca_path.to_path_buf(),
                message,
            };
            let mut roots = RootCertStore::empty();
            for ca in certificates(ca_path)? {
                roots
                    .add(ca)
                    .map_err(|e| ca_error(format!("not a usable CA certificate: {e}")))?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| ca_error(e.to_string()))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder.with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// The name of a DER certificate (subject CN, else first DNS SAN); `None`
/// when it has neither or cannot be parsed.
pub fn client_cert_name(der: &[u8]) -> Option<String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    if let Some(cn) = cert
        .subject()
        .iter_common_name()
        .find_map(|cn| cn.as_str().ok())
    {
        return Some(cn.to_string());
    }
    let san = cert.subject_alternative_name().ok()??;
    san.value.general_names.iter().find_map(|name| match name {
        x509_parser::extensions::GeneralName::DNSName(dns) => Some(dns.to_string()),
        _ => None,
    })
}

/// Serves `app` over TLS on `listener` with `config` (from
/// [`server_config`]), HTTP/1.1, until the future is dropped.
///
/// Each connection runs on its own task: the handshake (at most
/// [`HANDSHAKE_TIMEOUT`]), then requests, each with [`ClientCertName`] and
/// `ConnectInfo<SocketAddr>` as extensions. Handshake failures (no or
/// untrusted client certificate, not TLS, timeouts) close that connection
/// only; accept errors are retried (after a short pause when they are not
/// the client's). It does not return in normal operation; the
/// `io::Result` leaves room for a future shutdown signal.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    config: Arc<ServerConfig>,
) -> std::io::Result<()> {
    let acceptor = TlsAcceptor::from(config);
    loop {
        let (tcp, peer) = crate::listen::accept(&listener).await;
        let acceptor = acceptor.clone();
        let app = app.clone();
        tokio::spawn(async move {
            let _ = tcp.set_nodelay(true);
            let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => tls,
                // failed or timed out: only this connection ends
                Ok(Err(_)) | Err(_) => return,
            };
            let name = ClientCertName(
                tls.get_ref()
                    .1
                    .peer_certificates()
                    .and_then(|chain| chain.first())
                    .and_then(|leaf| client_cert_name(leaf)),
            );
            crate::listen::serve_connection(tls, app, peer, Some(name), HEADER_READ_TIMEOUT).await;
        });
    }
}
