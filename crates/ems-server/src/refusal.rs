//! An OperationOutcome for the request heads hyper refuses itself.
//!
//! hyper answers a request head it cannot parse before any service sees it:
//! `400` (a request line, method, target, version or header field that is
//! not HTTP/1.1 syntax, e.g. a `0xFF` byte in a header name), `414` (a
//! request target over 65,534 bytes) and `431` (more header fields than
//! [`TRANSPORT_MAX_HEADERS`] or a head larger than [`TRANSPORT_MAX_BUF`]).
//! Those responses are a bare status line (`content-length: 0`, `date`), and
//! hyper offers no hook to give them a body.
//!
//! [`RefusalIo`] wraps a connection's byte stream between hyper and the
//! socket and recognises exactly such a response when hyper writes it — a
//! `400`/`414`/`431` head with no body and no header but `content-length: 0`,
//! `date` and `connection` — and writes in its place the same status with a
//! Spine OperationOutcome (XML, the publish API's format): rules
//! `HTTP-HEAD-SYNTAX`, `HTTP-URI-TOO-LONG`, `HTTP-HEAD-TOO-LARGE`. No
//! response of the router has that shape (every error of the router carries
//! an OperationOutcome and a `content-type`), so nothing else is rewritten.
//! hyper closes the connection after such a response; the request was never
//! parsed, so it is not audited (there is no method, path or header to
//! record).

use crate::head::{MAX_HEAD, MAX_HEADER_FIELDS, MAX_REQUEST_TARGET};
use crate::head::{TRANSPORT_MAX_BUF, TRANSPORT_MAX_HEADERS};
use crate::http::{outcome_body, Wire};
use crate::outcome::ApiError;
use ems::stu3::IssueType;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The error of a head hyper refused with `status`.
pub fn refusal_error(status: u16) -> ApiError {
    let (code, kind, rule, message) = match status {
        414 => (
            "BAD_REQUEST",
            IssueType::TooCostly,
            "HTTP-URI-TOO-LONG",
            format!(
                "the request target is longer than the transport reads (65,534 bytes); \
                 at most {MAX_REQUEST_TARGET} are accepted"
            ),
        ),
        431 => (
            "MISSING_OR_INVALID_HEADER",
            IssueType::TooCostly,
            "HTTP-HEAD-TOO-LARGE",
            format!(
                "the request head is larger than the transport reads (more than \
                 {TRANSPORT_MAX_HEADERS} header fields or {TRANSPORT_MAX_BUF} bytes); \
                 at most {MAX_HEADER_FIELDS} fields and {MAX_HEAD} bytes are accepted"
            ),
        ),
        _ => (
            "BAD_REQUEST",
            IssueType::Structure,
            "HTTP-HEAD-SYNTAX",
            "the request head is not HTTP/1.1 (RFC 9112): its request line, method, \
             request target, HTTP version or a header field cannot be parsed"
                .to_string(),
        ),
    };
    ApiError {
        status,
        ..ApiError::new(code, kind, rule, "", message)
    }
}

/// The status of `buf` when it is exactly one of hyper's automatic
/// refusals (see the [module docs](self)).
fn automatic_refusal(buf: &[u8]) -> Option<(u16, &[u8])> {
    let head = buf.strip_suffix(b"\r\n\r\n")?;
    if head.windows(4).any(|w| w == b"\r\n\r\n") {
        return None; // a body follows the head
    }
    let mut lines = head
        .split(|b| *b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let status_line = lines.next()?;
    let status = match status_line.get(..13)? {
        b"HTTP/1.1 400 " => 400,
        b"HTTP/1.1 414 " => 414,
        b"HTTP/1.1 431 " => 431,
        _ => return None,
    };
    let mut date: &[u8] = b"";
    for line in lines {
        let lower = line.to_ascii_lowercase();
        if lower == b"content-length: 0" || lower.starts_with(b"connection: ") {
            continue;
        }
        if lower.starts_with(b"date: ") {
            date = line;
            continue;
        }
        return None;
    }
    Some((status, date))
}

/// The response written instead of hyper's bare refusal.
fn replacement(status: u16, date: &[u8]) -> Vec<u8> {
    let (body, content_type) = outcome_body(&refusal_error(status).issues, Wire::Xml);
    let reason = axum::http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("");
    let mut out = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    )
    .into_bytes();
    if !date.is_empty() {
        out.extend_from_slice(date);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body.as_bytes());
    out
}

/// A connection's byte stream with hyper's bare refusals replaced by
/// OperationOutcome responses (see the [module docs](self)). Serve it with
/// hyper's `writev(false)`, so every response head arrives in one write.
pub struct RefusalIo<I> {
    inner: I,
    /// The replacement response and how much of it is written.
    pending: Vec<u8>,
    written: usize,
}

impl<I> RefusalIo<I> {
    /// Wraps `inner`.
    pub fn new(inner: I) -> Self {
        RefusalIo {
            inner,
            pending: Vec::new(),
            written: 0,
        }
    }
}

impl<I: AsyncWrite + Unpin> RefusalIo<I> {
    /// Writes out the pending replacement.
    fn drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.written < self.pending.len() {
            let n =
                ready!(Pin::new(&mut self.inner).poll_write(cx, &self.pending[self.written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.written += n;
        }
        self.pending = Vec::new();
        self.written = 0;
        Poll::Ready(Ok(()))
    }
}

impl<I: AsyncRead + Unpin> AsyncRead for RefusalIo<I> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for RefusalIo<I> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.drain(cx))?;
        if let Some((status, date)) = automatic_refusal(buf) {
            this.pending = replacement(status, date);
            // accepted: the rest is written by the next write, flush or shutdown
            if let Poll::Ready(Err(e)) = this.drain(cx) {
                return Poll::Ready(Err(e));
            }
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.drain(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.drain(cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_bare_refusals_are_recognised() {
        let bare = b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\ndate: Tue, 01 Dec 2026 12:00:00 GMT\r\n\r\n";
        let (status, date) = automatic_refusal(bare).unwrap();
        assert_eq!(status, 431);
        assert!(date.starts_with(b"date: "));
        for status in [400, 414] {
            let b = format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\n\r\n");
            assert_eq!(automatic_refusal(b.as_bytes()).unwrap().0, status);
        }
        // the router's own answers are never rewritten
        for other in [
            &b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/fhir+xml\r\ncontent-length: 0\r\n\r\n"[..],
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 5\r\n\r\n<x/>\n",
            b"HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n",
            b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n",
            b"HTTP/1.1 431 X\r\ncontent-length: 0\r\n\r\nHTTP/1.1 400 X\r\n\r\n",
            b"HTTP/1.1 431 X\r\ncontent-length: 0\r\n",
        ] {
            assert!(automatic_refusal(other).is_none(), "{}", String::from_utf8_lossy(other));
        }
        let r = String::from_utf8(replacement(status, date)).unwrap();
        assert!(
            r.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"),
            "{r}"
        );
        assert!(r.contains("\r\ndate: Tue, 01 Dec 2026"), "{r}");
        assert!(
            r.contains("HTTP-HEAD-TOO-LARGE") && r.contains("OperationOutcome"),
            "{r}"
        );
    }
}
