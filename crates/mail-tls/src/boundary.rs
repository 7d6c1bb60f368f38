//! The STARTTLS boundary, sans-IO.
//!
//! When a server has sent its positive reply to STARTTLS/STLS, or a client has read that
//! reply, the next byte on the wire must be the first byte of the TLS handshake. Any byte the
//! session already holds at that moment arrived (or would leave) in plaintext, unauthenticated:
//!
//! * server side, inbound: commands pipelined after `STARTTLS` by an attacker in the path
//!   (CVE-2011-0411, Postfix; CVE-2021-33515, Dovecot submission), which a careless server
//!   would execute as if they came through TLS;
//! * client side, inbound: responses injected after the server's `220 Ready to start TLS`
//!   (CVE-2021-38371, Exim as an SMTP client; "response injection" in the NO STARTTLS paper,
//!   USENIX Security 2021), which a careless client would read as the answer to its first
//!   command inside TLS;
//! * either side, outbound: output queued but not yet sent, which would go out in plaintext
//!   after the decision to encrypt.
//!
//! [`check_boundary`] turns each case into [`TlsError::StartTlsInjection`]. Callers close the
//! session on that error; they never discard the bytes and carry on.

use crate::error::TlsError;

/// Which buffer held bytes at the STARTTLS boundary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Received from the peer after the STARTTLS command (server) or reply (client).
    Inbound,
    /// Produced by us and not yet written to the socket.
    Outbound,
}

impl std::fmt::Display for Direction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Inbound => "inbound (received after the STARTTLS exchange)",
            Self::Outbound => "outbound (queued, not yet sent)",
        })
    }
}

/// How many bytes of an injected payload [`TlsError::StartTlsInjection`] quotes.
pub const PREVIEW_LEN: usize = 32;

/// Check that both buffers are empty at the STARTTLS boundary.
///
/// `inbound` is whatever the session has read from the peer and not consumed after the
/// STARTTLS command or reply (for a tokio-util `Framed`, `FramedParts::read_buf`); `outbound`
/// is whatever it has queued and not written (`FramedParts::write_buf`). Inbound bytes are
/// checked first: they are the attack.
///
/// ```
/// use mail_tls::{check_boundary, Direction, TlsError};
///
/// assert!(check_boundary(b"", b"").is_ok());
/// let err = check_boundary(b"NOOP\r\n", b"").unwrap_err();
/// assert!(matches!(err, TlsError::StartTlsInjection { direction: Direction::Inbound, len: 6, .. }));
/// ```
pub fn check_boundary(inbound: &[u8], outbound: &[u8]) -> Result<(), TlsError> {
    check_one(Direction::Inbound, inbound)?;
    check_one(Direction::Outbound, outbound)
}

/// Check one buffer at the STARTTLS boundary; see [`check_boundary`].
pub fn check_one(direction: Direction, buffered: &[u8]) -> Result<(), TlsError> {
    if buffered.is_empty() {
        return Ok(());
    }
    Err(TlsError::StartTlsInjection {
        direction,
        len: buffered.len(),
        preview: escape_preview(buffered),
    })
}

/// Escape up to [`PREVIEW_LEN`] bytes for a log line: printable ASCII as is, CR and LF as
/// `\r` `\n`, anything else as `\xNN`, with `...` when truncated.
pub(crate) fn escape_preview(bytes: &[u8]) -> String {
    let mut out = String::from("\"");
    for &b in bytes.iter().take(PREVIEW_LEN) {
        match b {
            b'\r' => out.push_str("\\r"),
            b'\n' => out.push_str("\\n"),
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push('"');
    if bytes.len() > PREVIEW_LEN {
        out.push_str("...");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_buffers_pass() {
        assert_eq!(check_boundary(b"", b""), Ok(()));
    }

    #[test]
    fn whole_pipelined_command_is_named() {
        let err = check_boundary(b"NOOP\r\n", b"").unwrap_err();
        assert_eq!(
            err,
            TlsError::StartTlsInjection {
                direction: Direction::Inbound,
                len: 6,
                preview: "\"NOOP\\r\\n\"".into()
            }
        );
        assert!(err.to_string().contains("STARTTLS injection"));
        assert!(err.to_string().contains("NOOP"));
    }

    #[test]
    fn partial_line_without_crlf_is_injection() {
        let err = check_boundary(b"MAIL FROM:<a@b", b"").unwrap_err();
        assert!(matches!(err, TlsError::StartTlsInjection { len: 14, .. }));
    }

    #[test]
    fn single_byte_is_injection() {
        assert!(check_boundary(b"\x16", b"").is_err());
    }

    #[test]
    fn outbound_is_checked_after_inbound() {
        let err = check_boundary(b"", b"250 OK\r\n").unwrap_err();
        assert!(matches!(
            err,
            TlsError::StartTlsInjection {
                direction: Direction::Outbound,
                ..
            }
        ));
        let err = check_boundary(b"X", b"Y").unwrap_err();
        assert!(matches!(
            err,
            TlsError::StartTlsInjection {
                direction: Direction::Inbound,
                ..
            }
        ));
    }

    #[test]
    fn preview_is_escaped_and_bounded() {
        let long = [0u8; 100];
        let p = escape_preview(&long);
        assert!(p.ends_with("..."));
        assert_eq!(p.matches("\\x00").count(), PREVIEW_LEN);
        assert_eq!(escape_preview(b"a\"\\\xff"), "\"a\\\"\\\\\\xff\"");
    }
}
