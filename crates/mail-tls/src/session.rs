//! What a finished handshake negotiated, for logs and diagnostics.

use rustls::CommonState;

use crate::cert_info::CertificateInfo;

/// The negotiated parameters of a TLS session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    /// The protocol version, such as `TLSv1_3`.
    pub protocol_version: Option<String>,
    /// The cipher suite, such as `TLS13_AES_256_GCM_SHA384`.
    pub cipher_suite: Option<String>,
    /// The ALPN protocol the server selected, if any.
    pub alpn: Option<Vec<u8>>,
    /// The peer's certificate chain, end-entity first; entries that do not parse are left out.
    pub peer_certificates: Vec<CertificateInfo>,
}

impl SessionInfo {
    /// Read the negotiated parameters from a rustls connection (client or server; both deref to
    /// [`CommonState`]).
    pub fn from_connection(state: &CommonState) -> Self {
        Self {
            protocol_version: state.protocol_version().map(|v| format!("{v:?}")),
            cipher_suite: state
                .negotiated_cipher_suite()
                .map(|s| format!("{:?}", s.suite())),
            alpn: state.alpn_protocol().map(<[u8]>::to_vec),
            peer_certificates: state
                .peer_certificates()
                .unwrap_or_default()
                .iter()
                .filter_map(|c| CertificateInfo::parse(c).ok())
                .collect(),
        }
    }
}
