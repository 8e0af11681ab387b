//! `tls::server_config` and `tls::serve` over real sockets: a CA, a server
//! certificate and client certificates generated at test time (rcgen), a
//! rustls client presenting each, the `ClientCertName` the handler sees, and
//! mutual TLS refusing clients without a (trusted) certificate while the
//! accept loop carries on.

use axum::extract::ConnectInfo;
use axum::routing::get;
use axum::Router;
use ems_server::tls::{self, ClientCertName, TlsError};
use rcgen::{
    BasicConstraints, Certificate, CertificateParams, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A certificate with its key.
struct Issued {
    cert: Certificate,
    key: KeyPair,
}

fn ca(name: &str) -> Issued {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name = DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let cert = params.self_signed(&key).unwrap();
    Issued { cert, key }
}

/// A leaf certificate signed by `ca`, with subject CN `cn` (none when
/// `None`), DNS SANs `sans` and extended key usage `eku`.
fn leaf(ca: &Issued, cn: Option<&str>, sans: &[&str], eku: ExtendedKeyUsagePurpose) -> Issued {
    let key = KeyPair::generate().unwrap();
    let sans: Vec<String> = sans.iter().map(|s| s.to_string()).collect();
    let mut params = CertificateParams::new(sans).unwrap();
    params.distinguished_name = DistinguishedName::new();
    if let Some(cn) = cn {
        params.distinguished_name.push(DnType::CommonName, cn);
    }
    params
        .distinguished_name
        .push(DnType::OrganizationName, "EMS tests");
    params.extended_key_usages = vec![eku];
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    let cert = params.signed_by(&key, &ca.cert, &ca.key).unwrap();
    Issued { cert, key }
}

fn client(ca: &Issued, cn: Option<&str>, sans: &[&str]) -> Issued {
    leaf(ca, cn, sans, ExtendedKeyUsagePurpose::ClientAuth)
}

/// The PEM files of one test, in their own temporary folder.
struct Pki {
    dir: PathBuf,
    ca: Issued,
}

impl Pki {
    fn new(test: &str) -> Pki {
        let dir = std::env::temp_dir().join(format!("ems-tls-{test}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let ca = ca("EMS test CA");
        let server = leaf(
            &ca,
            Some("localhost"),
            &["localhost", "127.0.0.1"],
            ExtendedKeyUsagePurpose::ServerAuth,
        );
        std::fs::write(dir.join("ca.pem"), ca.cert.pem()).unwrap();
        // the chain: leaf first, then the CA
        std::fs::write(dir.join("server.pem"), server.cert.pem() + &ca.cert.pem()).unwrap();
        std::fs::write(dir.join("server.key"), server.key.serialize_pem()).unwrap();
        Pki { dir, ca }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn config(&self, mutual: bool) -> Arc<rustls::ServerConfig> {
        let ca = self.path("ca.pem");
        tls::server_config(
            &self.path("server.pem"),
            &self.path("server.key"),
            mutual.then_some(ca.as_path()),
        )
        .unwrap()
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// What the handler saw: the client certificate name and that the peer
/// address was handed over.
async fn whoami(name: ClientCertName, ConnectInfo(peer): ConnectInfo<SocketAddr>) -> String {
    assert!(peer.ip().is_loopback());
    format!("cert={}", name.0.as_deref().unwrap_or("-"))
}

/// Serves the test router with `config` on a fresh loopback port.
async fn start(config: Arc<rustls::ServerConfig>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = Router::new().route("/", get(whoami));
    tokio::spawn(tls::serve(listener, app, config));
    addr
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A rustls client trusting `ca`, presenting `identity` when given.
fn client_config(ca: &Issued, identity: Option<&Issued>) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.cert.der().clone()).unwrap();
    let builder = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    let config = match identity {
        None => builder.with_no_client_auth(),
        Some(id) => {
            let chain: Vec<CertificateDer<'static>> = vec![id.cert.der().clone()];
            let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(id.key.serialize_der()));
            builder.with_client_auth_cert(chain, key).unwrap()
        }
    };
    Arc::new(config)
}

/// `GET /` over TLS; the whole response, or the error that ended the exchange.
async fn get_root(addr: SocketAddr, config: Arc<rustls::ClientConfig>) -> std::io::Result<String> {
    let exchange = async {
        let tcp = TcpStream::connect(addr).await?;
        let connector = tokio_rustls::TlsConnector::from(config);
        let mut tls = connector
            .connect(ServerName::try_from("localhost").unwrap(), tcp)
            .await?;
        tls.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            .await?;
        let mut response = Vec::new();
        tls.read_to_end(&mut response).await?;
        Ok(String::from_utf8_lossy(&response).into_owned())
    };
    tokio::time::timeout(Duration::from_secs(20), exchange)
        .await
        .expect("the exchange finishes")
}

#[track_caller]
fn assert_ok_with(response: &str, body: &str) {
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
    assert!(response.ends_with(body), "{response}");
}

#[tokio::test]
async fn mutual_tls_hands_the_client_certificate_name_to_the_handler() {
    let pki = Pki::new("mutual");
    let addr = start(pki.config(true)).await;

    // the CN names the certificate (the SANs are not used when there is a CN)
    let publisher = client(
        &pki.ca,
        Some("publisher.example.nhs.uk"),
        &["other.example.nhs.uk"],
    );
    let r = get_root(addr, client_config(&pki.ca, Some(&publisher)))
        .await
        .unwrap();
    assert_ok_with(&r, "cert=publisher.example.nhs.uk");

    // no CN: the first DNS SAN
    let subscriber = client(
        &pki.ca,
        None,
        &["subscriber.example.nhs.uk", "second.example.nhs.uk"],
    );
    let r = get_root(addr, client_config(&pki.ca, Some(&subscriber)))
        .await
        .unwrap();
    assert_ok_with(&r, "cert=subscriber.example.nhs.uk");

    // no client certificate: refused (no HTTP response)
    if let Ok(r) = get_root(addr, client_config(&pki.ca, None)).await {
        assert!(
            !r.contains("HTTP/1.1"),
            "served without a client certificate: {r}"
        );
    }
    // a certificate from another CA: refused
    let stranger_ca = ca("Another CA");
    let stranger = client(&stranger_ca, Some("publisher.example.nhs.uk"), &[]);
    if let Ok(r) = get_root(addr, client_config(&pki.ca, Some(&stranger))).await {
        assert!(
            !r.contains("HTTP/1.1"),
            "served an untrusted certificate: {r}"
        );
    }
    // not TLS at all, and a client that connects and says nothing
    let mut plain = TcpStream::connect(addr).await.unwrap();
    plain
        .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut buf = Vec::new();
    let _ = plain.read_to_end(&mut buf).await;
    assert!(!String::from_utf8_lossy(&buf).contains("HTTP/1.1 200"));
    let _silent = TcpStream::connect(addr).await.unwrap();

    // the accept loop carries on after every failed handshake
    let r = get_root(addr, client_config(&pki.ca, Some(&publisher)))
        .await
        .unwrap();
    assert_ok_with(&r, "cert=publisher.example.nhs.uk");
}

#[tokio::test]
async fn without_a_client_ca_no_certificate_is_asked_for() {
    let pki = Pki::new("server-only");
    let addr = start(pki.config(false)).await;
    let r = get_root(addr, client_config(&pki.ca, None)).await.unwrap();
    assert_ok_with(&r, "cert=-");
}

#[tokio::test]
async fn the_extractor_gives_none_without_tls() {
    // a router served by plain axum::serve: no extension, no failure
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = Router::new().route(
        "/",
        get(|name: ClientCertName| async move { format!("{:?}", name.0) }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut response = Vec::new();
    tcp.read_to_end(&mut response).await.unwrap();
    assert_ok_with(&String::from_utf8_lossy(&response), "None");
}

#[test]
fn certificate_names() {
    let ca = ca("EMS test CA");
    let named = client(&ca, Some("Publisher.Example.nhs.uk"), &["san.example"]);
    assert_eq!(
        tls::client_cert_name(named.cert.der()).as_deref(),
        Some("Publisher.Example.nhs.uk")
    );
    let san_only = client(&ca, None, &["san.example", "second.example"]);
    assert_eq!(
        tls::client_cert_name(san_only.cert.der()).as_deref(),
        Some("san.example")
    );
    let anonymous = client(&ca, None, &[]);
    assert_eq!(tls::client_cert_name(anonymous.cert.der()), None);
    assert_eq!(tls::client_cert_name(b"not a certificate"), None);
    assert_eq!(tls::client_cert_name(&[]), None);
}

#[test]
fn configuration_errors_name_the_file() {
    let pki = Pki::new("errors");
    let cert = pki.path("server.pem");
    let key = pki.path("server.key");
    let missing = pki.path("missing.pem");

    let e = tls::server_config(&missing, &key, None).unwrap_err();
    assert!(matches!(e, TlsError::Io { .. }), "{e:?}");
    assert!(
        e.to_string().starts_with(&missing.display().to_string()),
        "{e}"
    );

    // a certificate file with no certificate, a key file with no key
    let e = tls::server_config(&key, &key, None).unwrap_err();
    assert!(matches!(e, TlsError::Pem { .. }), "{e:?}");
    let e = tls::server_config(&cert, &cert, None).unwrap_err();
    assert!(matches!(e, TlsError::Pem { .. }), "{e:?}");
    let garbage = pki.path("garbage.pem");
    std::fs::write(
        &garbage,
        "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let e = tls::server_config(&garbage, &key, None).unwrap_err();
    assert!(matches!(e, TlsError::Pem { .. }), "{e:?}");

    // a key that is not the certificate's
    let other_key = pki.path("other.key");
    std::fs::write(&other_key, KeyPair::generate().unwrap().serialize_pem()).unwrap();
    let e = tls::server_config(&cert, &other_key, None).unwrap_err();
    assert!(matches!(e, TlsError::Rustls(_)), "{e:?}");

    // a client CA file that is missing, or holds no certificate
    let e = tls::server_config(&cert, &key, Some(&missing)).unwrap_err();
    assert!(matches!(e, TlsError::Io { .. }), "{e:?}");
    let e = tls::server_config(&cert, &key, Some(&key)).unwrap_err();
    assert!(matches!(e, TlsError::Pem { .. }), "{e:?}");
    // a "CA" that is not a certificate rustls can parse as a trust anchor
    let bogus = pki.path("bogus-ca.pem");
    std::fs::write(
        &bogus,
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let e = tls::server_config(&cert, &key, Some(&bogus)).unwrap_err();
    assert!(matches!(e, TlsError::ClientCa { .. }), "{e:?}");
    assert!(
        e.to_string().starts_with(&bogus.display().to_string()),
        "{e}"
    );

    // and the good files work, with and without a client CA
    tls::server_config(&cert, &key, None).unwrap();
    tls::server_config(&cert, &key, Some(Path::new(&pki.path("ca.pem")))).unwrap();
}
