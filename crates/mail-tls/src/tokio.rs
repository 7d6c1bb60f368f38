//! Async helpers for tokio (feature `tokio`): implicit-TLS accept and connect with a handshake
//! timeout and mode-mismatch diagnosis, and the STARTTLS upgrade of a raw stream or a
//! tokio-util [`Framed`].
//!
//! The STARTTLS helpers take the stream *and* whatever the session had buffered, check the
//! boundary with [`check_boundary`], and only then hand the raw stream to tokio-rustls. On an
//! injection the stream is dropped (closed) and the error names the bytes; the TLS side never
//! sees them. After a successful upgrade the caller builds a new codec around the returned
//! stream, so nothing parsed before TLS survives.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use rustls::{ClientConfig, ServerConfig};
use rustls_pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_rustls::{TlsAcceptor, TlsConnector, client, server};
use tokio_util::codec::Framed;

/// Re-exported so that callers can name the stream types these functions return
/// (`tokio_rustls::server::TlsStream`, `tokio_rustls::client::TlsStream`).
pub use tokio_rustls;

use crate::boundary::check_boundary;
use crate::error::TlsError;
use crate::mismatch::{diagnose_tls_expected, silent_client_hint};
use crate::policy::{Role, Service};

/// How many of the peer's first bytes [`Sniffed`] keeps for diagnosis.
pub const SNIFF_LEN: usize = 64;

/// Limits and context for one handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct HandshakeOptions {
    /// How long the whole handshake may take. Default 60 s: long enough for a slow mobile
    /// client, far below Postfix's `smtpd_starttls_timeout` of 300 s, which is generous towards
    /// slowloris-style peers.
    pub timeout: Duration,
    /// The service, used to word mode-mismatch diagnoses.
    pub service: Option<Service>,
    /// The port the client connected to, used to word mode-mismatch diagnoses.
    pub port: Option<u16>,
}

impl Default for HandshakeOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(60),
            service: None,
            port: None,
        }
    }
}

impl HandshakeOptions {
    /// Options with this timeout.
    pub fn new(timeout: Duration) -> Self {
        Self {
            timeout,
            ..Self::default()
        }
    }

    /// Name the service (builder style).
    pub fn service(mut self, service: Service) -> Self {
        self.service = Some(service);
        self
    }

    /// Name the port (builder style).
    pub fn port(mut self, port: u16) -> Self {
        self.port = Some(port);
        self
    }
}

/// A stream wrapper that remembers the first [`SNIFF_LEN`] bytes read from the peer, so that a
/// failed implicit-TLS handshake can be diagnosed as a mode mismatch. After that it only
/// forwards.
#[derive(Debug)]
pub struct Sniffed<S> {
    inner: S,
    log: Arc<Mutex<Vec<u8>>>,
    full: bool,
}

impl<S> Sniffed<S> {
    /// Wrap a stream.
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            log: Arc::new(Mutex::new(Vec::new())),
            full: false,
        }
    }

    /// The first bytes received (at most [`SNIFF_LEN`]).
    pub fn first_bytes(&self) -> Vec<u8> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// The wrapped stream.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The wrapped stream, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwrap.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Sniffed<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let res = Pin::new(&mut this.inner).poll_read(cx, buf);
        if !this.full {
            if let Poll::Ready(Ok(())) = &res {
                let new = &buf.filled()[before..];
                if let Ok(mut log) = this.log.lock() {
                    let take = new.len().min(SNIFF_LEN - log.len());
                    log.extend_from_slice(&new[..take]);
                    this.full = log.len() >= SNIFF_LEN;
                }
            }
        }
        res
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Sniffed<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

fn handshake_error(err: io::Error) -> TlsError {
    TlsError::Handshake {
        kind: err.kind(),
        message: err.to_string(),
    }
}

fn snapshot(log: &Arc<Mutex<Vec<u8>>>) -> Vec<u8> {
    log.lock().map(|l| l.clone()).unwrap_or_default()
}

/// Accept an implicit-TLS connection (ports 465, 993, 995) within `opts.timeout`.
///
/// When the client sends plaintext instead of a ClientHello (`EHLO`, `a1 CAPABILITY`, an HTTP
/// request), the error is [`TlsError::ModeMismatch`] saying to use implicit TLS or the
/// STARTTLS port. When it sends nothing until the timeout, [`TlsError::HandshakeTimeout`]
/// carries the hint that a plaintext client waits for a greeting that never comes.
pub async fn accept_implicit<S>(
    config: Arc<ServerConfig>,
    stream: S,
    opts: HandshakeOptions,
) -> Result<server::TlsStream<Sniffed<S>>, TlsError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let sniffed = Sniffed::new(stream);
    let log = sniffed.log.clone();
    let accept = TlsAcceptor::from(config).accept(sniffed).into_fallible();
    match tokio::time::timeout(opts.timeout, accept).await {
        Ok(Ok(tls)) => Ok(tls),
        Ok(Err((err, _io))) => {
            let first = snapshot(&log);
            match diagnose_tls_expected(Role::Server, opts.service, opts.port, &first) {
                Some(m) => Err(TlsError::ModeMismatch(m)),
                None => Err(handshake_error(err)),
            }
        }
        Err(_) => {
            let first = snapshot(&log);
            if let Some(m) = diagnose_tls_expected(Role::Server, opts.service, opts.port, &first) {
                return Err(TlsError::ModeMismatch(m));
            }
            let hint = first.is_empty().then(|| silent_client_hint(opts.service));
            Err(TlsError::HandshakeTimeout {
                after: opts.timeout,
                hint,
            })
        }
    }
}

/// Connect with implicit TLS (ports 465, 993, 995) within `opts.timeout`.
///
/// When the server answers the ClientHello with a plaintext greeting (`220 `, `+OK`, `* OK`),
/// the error is [`TlsError::ModeMismatch`] saying to use STARTTLS on that port or the
/// implicit-TLS port.
pub async fn connect_implicit<S>(
    config: Arc<ClientConfig>,
    server_name: ServerName<'static>,
    stream: S,
    opts: HandshakeOptions,
) -> Result<client::TlsStream<Sniffed<S>>, TlsError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let sniffed = Sniffed::new(stream);
    let log = sniffed.log.clone();
    let connect = TlsConnector::from(config)
        .connect(server_name, sniffed)
        .into_fallible();
    let outcome = tokio::time::timeout(opts.timeout, connect).await;
    let first = snapshot(&log);
    match outcome {
        Ok(Ok(tls)) => Ok(tls),
        Ok(Err((err, _io))) => {
            match diagnose_tls_expected(Role::Client, opts.service, opts.port, &first) {
                Some(m) => Err(TlsError::ModeMismatch(m)),
                None => Err(handshake_error(err)),
            }
        }
        Err(_) => match diagnose_tls_expected(Role::Client, opts.service, opts.port, &first) {
            Some(m) => Err(TlsError::ModeMismatch(m)),
            None => Err(TlsError::HandshakeTimeout {
                after: opts.timeout,
                hint: None,
            }),
        },
    }
}

/// Server side of STARTTLS on a raw stream: call after the positive reply to STARTTLS/STLS has
/// been written and flushed. `inbound` is what the session read and did not consume after the
/// command; `outbound` what it queued and did not write. Any byte in either is
/// [`TlsError::StartTlsInjection`] and the stream is closed.
pub async fn starttls_accept<S>(
    config: Arc<ServerConfig>,
    stream: S,
    inbound: &[u8],
    outbound: &[u8],
    opts: HandshakeOptions,
) -> Result<server::TlsStream<S>, TlsError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    check_boundary(inbound, outbound)?;
    let accept = TlsAcceptor::from(config).accept(stream);
    match tokio::time::timeout(opts.timeout, accept).await {
        Ok(res) => res.map_err(handshake_error),
        Err(_) => Err(TlsError::HandshakeTimeout {
            after: opts.timeout,
            hint: None,
        }),
    }
}

/// Client side of STARTTLS on a raw stream: call after reading the server's positive reply.
/// `inbound` is whatever was read after that reply (an injected response if not empty).
pub async fn starttls_connect<S>(
    config: Arc<ClientConfig>,
    server_name: ServerName<'static>,
    stream: S,
    inbound: &[u8],
    outbound: &[u8],
    opts: HandshakeOptions,
) -> Result<client::TlsStream<S>, TlsError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    check_boundary(inbound, outbound)?;
    let connect = TlsConnector::from(config).connect(server_name, stream);
    match tokio::time::timeout(opts.timeout, connect).await {
        Ok(res) => res.map_err(handshake_error),
        Err(_) => Err(TlsError::HandshakeTimeout {
            after: opts.timeout,
            hint: None,
        }),
    }
}

/// [`starttls_accept`] for a tokio-util [`Framed`]: takes it apart with `into_parts`, checks
/// its read and write buffers, and returns the TLS stream; build a new `Framed` (and a fresh
/// codec) around it.
pub async fn starttls_accept_framed<S, C>(
    config: Arc<ServerConfig>,
    framed: Framed<S, C>,
    opts: HandshakeOptions,
) -> Result<server::TlsStream<S>, TlsError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let parts = framed.into_parts();
    starttls_accept(config, parts.io, &parts.read_buf, &parts.write_buf, opts).await
}

/// [`starttls_connect`] for a tokio-util [`Framed`].
pub async fn starttls_connect_framed<S, C>(
    config: Arc<ClientConfig>,
    server_name: ServerName<'static>,
    framed: Framed<S, C>,
    opts: HandshakeOptions,
) -> Result<client::TlsStream<S>, TlsError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let parts = framed.into_parts();
    starttls_connect(
        config,
        server_name,
        parts.io,
        &parts.read_buf,
        &parts.write_buf,
        opts,
    )
    .await
}
