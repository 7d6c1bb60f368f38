//! The connection's stream: the one it was given, upgraded in place to TLS by STARTTLS.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use mail_tls::tokio::tokio_rustls::TlsStream;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The stream a [`Connection`](crate::Connection) owns. `Plain` is whatever it was given
/// (plaintext, or already TLS for implicit TLS); `Tls` is that stream after STARTTLS, on
/// either side.
pub(crate) enum Stream<IO> {
    Plain(IO),
    Tls(Box<TlsStream<IO>>),
    /// The upgrade failed half-way (or was cancelled); the connection is unusable.
    Broken,
}

fn broken() -> io::Error {
    io::Error::new(
        io::ErrorKind::NotConnected,
        "the connection was lost during the STARTTLS upgrade",
    )
}

impl<IO: AsyncRead + AsyncWrite + Unpin> AsyncRead for Stream<IO> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Broken => Poll::Ready(Err(broken())),
        }
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> AsyncWrite for Stream<IO> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Broken => Poll::Ready(Err(broken())),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s).poll_flush(cx),
            Stream::Broken => Poll::Ready(Err(broken())),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Broken => Poll::Ready(Ok(())),
        }
    }
}
