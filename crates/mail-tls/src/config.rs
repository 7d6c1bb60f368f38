//! rustls server and client configurations for mail.

use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::server::ResolvesServerCert;
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, ServerConfig, SignatureScheme};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

use crate::certs::{PemFiles, load_root_store, provider};
use crate::error::TlsError;
use crate::policy::Service;
use crate::sni::{CertResolver, CertSet};

/// TLS 1.3 and TLS 1.2, nothing older (RFC 8314 section 4.1, RFC 8996).
pub static PROTOCOL_VERSIONS: &[&rustls::SupportedProtocolVersion] =
    &[&rustls::version::TLS13, &rustls::version::TLS12];

/// Builds a rustls [`ServerConfig`] for a mail service.
///
/// TLS 1.2 and 1.3 only, the `ring` provider, and ALPN set to the service's identifier
/// (`imap`, `pop3`, `smtp`; see [`Service::alpn_id`]). rustls refuses a client that offers
/// ALPN protocols none of which is ours with a `no_application_protocol` alert, so a browser
/// redirected to a mail port (the ALPACA attack) fails the handshake, while mail clients that
/// offer no ALPN at all are served normally (RFC 7301 section 3.2).
#[derive(Debug, Clone)]
pub struct ServerTls {
    alpn: Vec<Vec<u8>>,
}

impl ServerTls {
    /// Defaults for one service.
    pub fn new(service: Service) -> Self {
        Self {
            alpn: vec![service.alpn_id().to_vec()],
        }
    }

    /// Replace the ALPN identifiers (for a port that serves several protocols, list them all).
    /// An empty list disables the ALPACA check.
    pub fn alpn(mut self, protocols: Vec<Vec<u8>>) -> Self {
        self.alpn = protocols;
        self
    }

    /// Build with a certificate resolver, such as a reloadable [`CertResolver`].
    pub fn build_with_resolver(
        &self,
        resolver: Arc<dyn ResolvesServerCert>,
    ) -> Result<Arc<ServerConfig>, TlsError> {
        let mut config = ServerConfig::builder_with_provider(provider())
            .with_protocol_versions(PROTOCOL_VERSIONS)
            .map_err(TlsError::from_rustls)?
            .with_no_client_auth()
            .with_cert_resolver(resolver);
        config.alpn_protocols = self.alpn.clone();
        Ok(Arc::new(config))
    }

    /// Build from one PEM certificate chain file and one PEM key file, as the default
    /// certificate for every name. Returns the resolver too, so it can be reloaded.
    pub fn build_from_pem_files(
        &self,
        cert: impl AsRef<Path>,
        key: impl AsRef<Path>,
    ) -> Result<(Arc<ServerConfig>, Arc<CertResolver>), TlsError> {
        let files = PemFiles::new(cert.as_ref(), key.as_ref());
        let resolver = Arc::new(CertResolver::from_sources(
            crate::sni::CertSources::new().with_default(files),
        )?);
        Ok((self.build_with_resolver(resolver.clone())?, resolver))
    }

    /// Build with a fixed certificate set (no reload).
    pub fn build_with_set(&self, set: CertSet) -> Result<Arc<ServerConfig>, TlsError> {
        self.build_with_resolver(Arc::new(CertResolver::new(set)))
    }
}

/// How a client checks the server's certificate.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum ServerVerification {
    /// The Mozilla root program, compiled in (webpki-roots).
    WebPkiRoots,
    /// The operating system's trust store (feature `platform-verifier`).
    #[cfg(feature = "platform-verifier")]
    Platform,
    /// These trust anchors only.
    CustomRoots(Arc<RootCertStore>),
    /// Exactly these end-entity certificates, byte for byte; chain, name and dates are not
    /// checked (the pin is the trust decision), handshake signatures are.
    Pinned(Vec<CertificateDer<'static>>),
    /// Any certificate: encryption without authentication. See
    /// [`ClientTls::opportunistic_accept_any_certificate`].
    AcceptAnyCertificate,
}

/// Builds a rustls [`ClientConfig`] for a mail client.
///
/// TLS 1.2 and 1.3 only, `ring` provider, no ALPN unless asked for.
#[derive(Debug, Clone)]
pub struct ClientTls {
    verification: ServerVerification,
    alpn: Vec<Vec<u8>>,
}

impl ClientTls {
    /// Verify servers against the Mozilla root program (webpki-roots). The right choice for
    /// submission, POP3 and IMAP clients talking to public servers.
    pub fn webpki_roots() -> Self {
        Self::with_verification(ServerVerification::WebPkiRoots)
    }

    /// Verify servers against the operating system's trust store.
    #[cfg(feature = "platform-verifier")]
    pub fn platform() -> Self {
        Self::with_verification(ServerVerification::Platform)
    }

    /// Verify servers against these trust anchors only (a private CA).
    pub fn custom_roots(roots: RootCertStore) -> Self {
        Self::with_verification(ServerVerification::CustomRoots(Arc::new(roots)))
    }

    /// Verify servers against the certificates of a PEM file.
    pub fn custom_roots_from_pem_file(path: impl AsRef<Path>) -> Result<Self, TlsError> {
        Ok(Self::custom_roots(load_root_store(path)?))
    }

    /// Accept only a server presenting one of these end-entity certificates.
    pub fn pinned(certificates: Vec<CertificateDer<'static>>) -> Self {
        Self::with_verification(ServerVerification::Pinned(certificates))
    }

    /// **Accept any certificate, verifying nothing**: for opportunistic SMTP delivery to MX
    /// hosts only.
    ///
    /// RFC 7435 (opportunistic security) and RFC 3207 section 4.1 observe that most MX hosts
    /// present certificates that do not verify (self-signed, or for a name other than the MX
    /// name), and that an MTA which refused them would fall back to plaintext, which is worse:
    /// unauthenticated encryption still defeats passive eavesdropping. An active attacker can
    /// impersonate the server, so never use this for submission, POP3 or IMAP, where a user
    /// sends credentials, nor where MTA-STS or DANE says the domain requires valid TLS.
    /// The handshake signature is still checked against the presented key.
    pub fn opportunistic_accept_any_certificate() -> Self {
        Self::with_verification(ServerVerification::AcceptAnyCertificate)
    }

    /// Any verification mode.
    pub fn with_verification(verification: ServerVerification) -> Self {
        Self {
            verification,
            alpn: Vec::new(),
        }
    }

    /// Offer ALPN identifiers (for example `vec![Service::Imap.alpn_id().to_vec()]`).
    pub fn alpn(mut self, protocols: Vec<Vec<u8>>) -> Self {
        self.alpn = protocols;
        self
    }

    /// The verification mode.
    pub fn verification(&self) -> &ServerVerification {
        &self.verification
    }

    /// Build the rustls configuration.
    pub fn build(&self) -> Result<Arc<ClientConfig>, TlsError> {
        let provider = provider();
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(PROTOCOL_VERSIONS)
            .map_err(TlsError::from_rustls)?;
        let verifier: Arc<dyn ServerCertVerifier> = match &self.verification {
            ServerVerification::WebPkiRoots => {
                let roots = RootCertStore {
                    roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
                };
                webpki_verifier(Arc::new(roots), provider.clone())?
            }
            #[cfg(feature = "platform-verifier")]
            ServerVerification::Platform => Arc::new(
                rustls_platform_verifier::Verifier::new(provider.clone())
                    .map_err(TlsError::from_rustls)?,
            ),
            ServerVerification::CustomRoots(roots) => {
                webpki_verifier(roots.clone(), provider.clone())?
            }
            ServerVerification::Pinned(certs) => Arc::new(Pinned {
                certs: certs.clone(),
                provider: provider.clone(),
            }),
            ServerVerification::AcceptAnyCertificate => Arc::new(AcceptAny {
                provider: provider.clone(),
            }),
        };
        let mut config = builder
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        config.alpn_protocols = self.alpn.clone();
        Ok(Arc::new(config))
    }
}

fn webpki_verifier(
    roots: Arc<RootCertStore>,
    provider: Arc<CryptoProvider>,
) -> Result<Arc<dyn ServerCertVerifier>, TlsError> {
    let v = rustls::client::WebPkiServerVerifier::builder_with_provider(roots, provider)
        .build()
        .map_err(|e| TlsError::Config(e.to_string()))?;
    Ok(v)
}

/// Parse a host name or IP address for SNI and certificate checks (RFC 6125).
pub fn server_name(host: &str) -> Result<ServerName<'static>, TlsError> {
    ServerName::try_from(host.to_string()).map_err(|_| TlsError::InvalidServerName(host.into()))
}

#[derive(Debug)]
struct Pinned {
    certs: Vec<CertificateDer<'static>>,
    provider: Arc<CryptoProvider>,
}

#[derive(Debug)]
struct AcceptAny {
    provider: Arc<CryptoProvider>,
}

macro_rules! signature_checks {
    () => {
        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            verify_tls12_signature(
                message,
                cert,
                dss,
                &self.provider.signature_verification_algorithms,
            )
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            verify_tls13_signature(
                message,
                cert,
                dss,
                &self.provider.signature_verification_algorithms,
            )
        }

        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.provider
                .signature_verification_algorithms
                .supported_schemes()
        }
    };
}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if self.certs.iter().any(|c| c.as_ref() == end_entity.as_ref()) {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::ApplicationVerificationFailure,
            ))
        }
    }

    signature_checks!();
}

impl ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    signature_checks!();
}
