//! Serving a [`Router`] on a listener with the timeouts hostile clients
//! need: [`serve_plain`] for plain HTTP (the loopback default of `ems
//! serve`), and the per-connection part [`tls::serve`](crate::tls::serve)
//! shares.
//!
//! `axum::serve` sets no timer on hyper, so hyper's header read timeout
//! never fires there: a client that sends its request head one byte at a
//! time (slowloris) held its connection open for ever. Here every
//! connection is HTTP/1.1 with a header read timeout ([`HEADER_READ_TIMEOUT`]
//! by default); a slow body is bounded by the handlers' body timeout
//! ([`crate::http::BODY_TIMEOUT`]). Oversized and unparseable heads are
//! answered with an OperationOutcome ([`crate::head`], [`crate::refusal`]).

use crate::head::{TRANSPORT_MAX_BUF, TRANSPORT_MAX_HEADERS};
use crate::refusal::RefusalIo;
use crate::tls::ClientCertName;
use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tower_service::Service;

/// Longest time a client may take to send a request head (line and headers).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Pause after an accept error that is not the client's (e.g. out of file
/// descriptors), so the loop does not spin.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

/// An accept error that concerns one client only.
fn is_connection_error(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        e.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset | Interrupted | WouldBlock
    )
}

/// The next connection of `listener` (accept errors are retried).
pub(crate) async fn accept(listener: &TcpListener) -> (tokio::net::TcpStream, SocketAddr) {
    loop {
        match listener.accept().await {
            Ok(accepted) => return accepted,
            Err(e) if is_connection_error(&e) => continue,
            Err(_) => tokio::time::sleep(ACCEPT_ERROR_PAUSE).await,
        }
    }
}

/// Serves `app` over HTTP/1.1 on one connection until it closes: each
/// request gets `ConnectInfo(peer)` and, over TLS, the client certificate
/// name `cert` as extensions; the request head must arrive within
/// `header_timeout`.
///
/// hyper's own head limits are raised above those of [`crate::head`]
/// ([`TRANSPORT_MAX_HEADERS`], [`TRANSPORT_MAX_BUF`]) so the router answers
/// an oversized head with its OperationOutcome; the connection is wrapped in
/// a [`RefusalIo`] so a head hyper refuses itself (unparseable, or beyond
/// even those limits) is answered with one too. Writes are not vectored, so
/// each response head reaches [`RefusalIo`] in one write.
pub(crate) async fn serve_connection<I>(
    io: I,
    app: Router,
    peer: SocketAddr,
    cert: Option<ClientCertName>,
    header_timeout: Duration,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        if let Some(name) = &cert {
            request.extensions_mut().insert(name.clone());
        }
        request.extensions_mut().insert(ConnectInfo(peer));
        // a Router is always ready; a clone per request is cheap (Arc inside)
        app.clone().call(request)
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .max_headers(TRANSPORT_MAX_HEADERS)
        .max_buf_size(TRANSPORT_MAX_BUF)
        .writev(false)
        .serve_connection(TokioIo::new(RefusalIo::new(io)), service)
        .with_upgrades()
        .await;
}

/// Serves `app` over plain HTTP/1.1 on `listener`, one task per connection,
/// with a header read timeout of `header_timeout` ([`HEADER_READ_TIMEOUT`]
/// for `ems serve`), until the future is dropped. Requests carry no
/// [`ClientCertName`] (so handlers know they did not come over TLS).
pub async fn serve_plain(listener: TcpListener, app: Router, header_timeout: Duration) {
    loop {
        let (tcp, peer) = accept(&listener).await;
        let app = app.clone();
        tokio::spawn(async move {
            let _ = tcp.set_nodelay(true);
            serve_connection(tcp, app, peer, None, header_timeout).await;
        });
    }
}
