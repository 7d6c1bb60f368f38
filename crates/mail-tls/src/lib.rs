//! rustls for mail: TLS policies, the STARTTLS boundary, implicit TLS, certificates, SNI and
//! reload, and mode-mismatch diagnosis.
//!
//! This crate performs no I/O in its core: policies, the boundary check, first-bytes
//! diagnosis and configuration building work on values and byte slices (loading PEM files
//! reads the named files, nothing else). The `tokio` feature adds async helpers that drive
//! real handshakes over tokio streams.
//!
//! Mail uses TLS in two ways. *Implicit TLS* starts the handshake first (submissions 465,
//! POP3S 995, IMAPS 993; RFC 8314). *STARTTLS* starts in plaintext and upgrades on a command
//! (SMTP 25 and 587, RFC 3207; POP3 110 with STLS and IMAP 143, RFC 2595). This crate makes
//! both hard to get wrong:
//!
//! * [`Service`] and [`TlsMode`] give the mode and port for "submission, client side", and
//!   [`TlsMode::on_starttls_unavailable`] never lets a mode that requires TLS continue in
//!   plaintext.
//! * [`ServerTls`] and [`ClientTls`] build rustls configurations: TLS 1.2 and 1.3 only, ALPN
//!   against ALPACA, verification by web PKI roots, the platform store, custom roots, a pin, or
//!   the one clearly named [`ClientTls::opportunistic_accept_any_certificate`].
//! * [`CertResolver`] selects certificates by SNI and swaps them at run time.
//! * [`check_boundary`] rejects any byte buffered at the STARTTLS boundary.
//! * [`check_plaintext_port`] and [`diagnose_tls_expected`] turn wrong-mode bytes into advice.
//!
//! # Data flow
//!
//! ```text
//!  plaintext port (STARTTLS)                        implicit-TLS port
//!  ─────────────────────────                        ─────────────────
//!  bytes ──▶ check_plaintext_port (ClientHello?)     bytes ──▶ accept_implicit / connect_implicit
//!        ──▶ protocol codec (smtp/pop3/imap)                    │  (timeout, Sniffed first bytes
//!            "STARTTLS" ─▶ "220 Ready"                          │   ──▶ diagnose_tls_expected)
//!        ──▶ Framed::into_parts                                 ▼
//!        ──▶ check_boundary(read_buf, write_buf) ──▶ rustls (ServerTls/ClientTls, CertResolver)
//!        ──▶ starttls_accept / starttls_connect                 │
//!                                                               ▼
//!                                      fresh codec over the TLS stream; nothing from before
//!                                      the handshake survives
//! ```
//!
//! # Example
//!
//! ```
//! use mail_tls::{check_boundary, check_plaintext_port, ClientTls, Role, Service, TlsMode};
//!
//! // Which port and mode should a submission client use?
//! let endpoint = Service::Submission.defaults(Role::Client)[0];
//! assert_eq!((endpoint.mode, endpoint.port), (TlsMode::Implicit, 465));
//!
//! // A client configuration that verifies against the Mozilla roots.
//! let config = ClientTls::webpki_roots().build()?;
//! assert!(config.alpn_protocols.is_empty());
//!
//! // A server on 587 that receives a ClientHello tells the user to use 465.
//! let err = check_plaintext_port(Service::Submission, Some(587), b"\x16\x03\x01\x02\x00")
//!     .unwrap_err();
//! assert!(err.to_string().contains("port 465"));
//!
//! // After "220 Ready to start TLS", the read buffer must be empty.
//! assert!(check_boundary(b"", b"").is_ok());
//! assert!(check_boundary(b"MAIL FROM:<attacker@example.org>\r\n", b"").is_err());
//! # Ok::<(), mail_tls::TlsError>(())
//! ```
//!
//! With the `tokio` feature, a STARTTLS server hands its `Framed` over after sending the
//! positive reply:
//!
//! ```no_run
//! # #[cfg(feature = "tokio")]
//! # async fn f(framed: tokio_util::codec::Framed<tokio::net::TcpStream, tokio_util::codec::LinesCodec>,
//! #            config: std::sync::Arc<rustls::ServerConfig>) -> Result<(), mail_tls::TlsError> {
//! use mail_tls::tokio::{starttls_accept_framed, HandshakeOptions};
//! use tokio_util::codec::{Framed, LinesCodec};
//!
//! let tls = starttls_accept_framed(config, framed, HandshakeOptions::default()).await?;
//! let framed = Framed::new(tls, LinesCodec::new()); // fresh codec, fresh session state
//! # drop(framed); Ok(()) }
//! ```
//!
//! # Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `tokio` | no | `tokio` module: implicit-TLS accept/connect with timeout and diagnosis, STARTTLS upgrade of a raw stream or a `Framed` |
//! | `dev-certs` | no | `dev_certs` module: self-signed certificates with rcgen, written as PEM |
//! | `platform-verifier` | no | `ServerVerification::Platform`: the OS trust store via rustls-platform-verifier |
//!
//! # Limits
//!
//! * Handshake timeout: 60 s by default (`tokio::HandshakeOptions`, feature `tokio`).
//! * Protocol versions: TLS 1.2 and TLS 1.3 ([`PROTOCOL_VERSIONS`]).
//! * Bytes kept for mismatch diagnosis: 64; bytes quoted in an injection error: 32.
//! * rustls' own limits apply to records and buffers (16 KiB records, 64 KiB default plaintext
//!   buffer).

#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod boundary;
pub mod cert_info;
pub mod certs;
pub mod config;
#[cfg(feature = "dev-certs")]
#[cfg_attr(docsrs, doc(cfg(feature = "dev-certs")))]
pub mod dev_certs;
pub mod error;
pub mod mismatch;
pub mod policy;
pub mod session;
pub mod sni;
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub mod tokio;

pub use boundary::{Direction, check_boundary};
pub use cert_info::{CertificateInfo, Validity};
pub use certs::{PemFiles, load_certificates, load_private_key, load_root_store};
pub use config::{ClientTls, PROTOCOL_VERSIONS, ServerTls, ServerVerification, server_name};
pub use error::{DowngradeReason, FileRole, TlsError};
pub use mismatch::{
    Expected, Mismatch, Observed, check_plaintext_port, classify_first_bytes,
    diagnose_tls_expected, silent_server_hint,
};
pub use policy::{Endpoint, PlaintextFallback, Role, Service, TlsMode};
pub use session::SessionInfo;
pub use sni::{CertResolver, CertSet, CertSources};

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

/// Re-exported so that callers use the same rustls as this crate.
pub use rustls;
/// Re-exported for `CertificateDer`, `ServerName`, `UnixTime`.
pub use rustls_pki_types as pki_types;
