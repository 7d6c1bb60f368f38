//! Mode-mismatch diagnosis from the first bytes a peer sends.
//!
//! The most common TLS mistake in mail is using the wrong mode for a port: a client set to
//! "SSL/TLS" (implicit TLS) pointed at 587, or a client set to STARTTLS pointed at 465. The
//! resulting errors ("wrong version number", "received corrupt message", a hang) say nothing
//! useful. The functions here look at the first bytes and say which mistake was made and which
//! port or mode to use instead.
//!
//! * [`check_plaintext_port`]: a server on a plaintext/STARTTLS port calls it on the first
//!   bytes it receives; a TLS ClientHello yields [`TlsError::ModeMismatch`].
//! * [`diagnose_tls_expected`]: where a TLS handshake was expected (implicit-TLS client or
//!   server), it turns the peer's first bytes into a [`Mismatch`] when they are plaintext
//!   (`220 `, `+OK`, `* OK`, `EHLO`, an HTTP request).

use crate::boundary::escape_preview;
use crate::error::TlsError;
use crate::policy::{Role, Service};

/// What the first bytes from a peer look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Observed {
    /// A TLS handshake record (content type 22, version 3.x): a ClientHello or ServerHello.
    TlsHandshake,
    /// Another TLS record, usually an alert from a TLS peer that got plaintext.
    TlsRecord,
    /// An SMTP reply (`220 `, `220-`, `554 `...).
    SmtpGreeting,
    /// A POP3 greeting (`+OK`, `-ERR`).
    Pop3Greeting,
    /// An IMAP greeting (`* OK`, `* PREAUTH`, `* BYE`).
    ImapGreeting,
    /// An HTTP request or response.
    Http,
    /// Another line of printable ASCII, such as a client command (`EHLO`, `CAPA`, `a1 LOGIN`).
    PlaintextLine,
    /// Anything else.
    Unknown,
}

impl Observed {
    /// True for plaintext mail protocol traffic or HTTP.
    pub const fn is_plaintext(self) -> bool {
        matches!(
            self,
            Self::SmtpGreeting
                | Self::Pop3Greeting
                | Self::ImapGreeting
                | Self::Http
                | Self::PlaintextLine
        )
    }

    fn describe(self) -> &'static str {
        match self {
            Self::TlsHandshake => "a TLS handshake",
            Self::TlsRecord => "a TLS record",
            Self::SmtpGreeting => "a plaintext SMTP greeting",
            Self::Pop3Greeting => "a plaintext POP3 greeting",
            Self::ImapGreeting => "a plaintext IMAP greeting",
            Self::Http => "HTTP",
            Self::PlaintextLine => "a plaintext command",
            Self::Unknown => "unrecognised bytes",
        }
    }
}

const PATTERNS: &[(&[u8], Observed)] = &[
    (b"* OK", Observed::ImapGreeting),
    (b"* PREAUTH", Observed::ImapGreeting),
    (b"* BYE", Observed::ImapGreeting),
    (b"+OK", Observed::Pop3Greeting),
    (b"-ERR", Observed::Pop3Greeting),
    (b"HTTP/", Observed::Http),
    (b"GET ", Observed::Http),
    (b"POST ", Observed::Http),
    (b"HEAD ", Observed::Http),
];

/// Classify the first bytes received from a peer.
///
/// Returns `None` while the bytes are too few to decide (an empty slice, or a strict prefix of
/// a known pattern such as `22` or `\x16`).
///
/// ```
/// use mail_tls::{classify_first_bytes, Observed};
///
/// assert_eq!(classify_first_bytes(b"220 mx.example ESMTP\r\n"), Some(Observed::SmtpGreeting));
/// assert_eq!(classify_first_bytes(b"\x16\x03\x01\x02\x00"), Some(Observed::TlsHandshake));
/// assert_eq!(classify_first_bytes(b"22"), None);
/// ```
pub fn classify_first_bytes(first: &[u8]) -> Option<Observed> {
    let b0 = *first.first()?;
    // TLS record header: type, version major 3, minor 0..=4 (SSL 3.0 to TLS 1.3 legacy values).
    if matches!(b0, 0x14..=0x17) {
        match first.get(1) {
            None => return None,
            Some(3) => {
                return match first.get(2) {
                    None => None,
                    Some(0..=4) if b0 == 0x16 => Some(Observed::TlsHandshake),
                    Some(0..=4) => Some(Observed::TlsRecord),
                    Some(_) => Some(Observed::Unknown),
                };
            }
            Some(_) => return Some(Observed::Unknown),
        }
    }
    for (pattern, observed) in PATTERNS {
        if first.len() >= pattern.len() {
            if first.starts_with(pattern) {
                return Some(*observed);
            }
        } else if pattern.starts_with(first) {
            return None;
        }
    }
    // SMTP reply: three digits then space, hyphen or CRLF (RFC 5321 section 4.2).
    let digits = first
        .iter()
        .take(3)
        .take_while(|b| b.is_ascii_digit())
        .count();
    if digits == first.len().min(3) && matches!(b0, b'2'..=b'5') {
        match first.get(3) {
            None => return None,
            Some(b' ' | b'-' | b'\r') if digits == 3 => return Some(Observed::SmtpGreeting),
            _ => {}
        }
    }
    let printable = first
        .iter()
        .take(64)
        .all(|&b| matches!(b, 0x20..=0x7e | b'\r' | b'\n' | b'\t'));
    if printable {
        Some(Observed::PlaintextLine)
    } else {
        Some(Observed::Unknown)
    }
}

/// What a connection expected to see first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Expected {
    /// A TLS handshake (implicit TLS).
    TlsHandshake,
    /// Plaintext protocol traffic (a plaintext or STARTTLS port).
    Plaintext,
}

/// A diagnosed mode mismatch: what was expected, what arrived, and what to do instead.
///
/// Its `Display` is one sentence meant for an operator or end user, for example: *mode
/// mismatch: the server sent a plaintext SMTP greeting "220 mx ESMTP\r\n" where a TLS handshake
/// was expected; port 587 is a plaintext/STARTTLS port: use STARTTLS on port 587, or implicit
/// TLS on port 465*.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    expected: Expected,
    observed: Observed,
    role: Role,
    what: String,
    fix: String,
}

impl Mismatch {
    /// What the connection expected.
    pub fn expected(&self) -> Expected {
        self.expected
    }

    /// What arrived instead.
    pub fn observed(&self) -> Observed {
        self.observed
    }

    /// Which side we are (the side that noticed).
    pub fn role(&self) -> Role {
        self.role
    }

    /// The advice alone: which port or mode to use instead.
    pub fn fix(&self) -> &str {
        &self.fix
    }
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "mode mismatch: {}; {}", self.what, self.fix)
    }
}

fn port_text(port: Option<u16>) -> String {
    port.map(|p| format!("port {p}"))
        .unwrap_or_else(|| "this port".into())
}

/// A server on a plaintext/STARTTLS port checks the first bytes a client sent.
///
/// A TLS ClientHello means the client is configured for implicit TLS; the error says which
/// port to use (465 for submission, 995, 993) or to switch the client to STARTTLS. Anything
/// else, including too few bytes to decide, is `Ok`. `port` is the local port, used in the
/// message.
///
/// ```
/// use mail_tls::{check_plaintext_port, Service};
///
/// let err = check_plaintext_port(Service::Submission, Some(587), b"\x16\x03\x01\x00\xf4\x01")
///     .unwrap_err();
/// assert!(err.to_string().contains("port 465"));
/// assert!(check_plaintext_port(Service::Submission, Some(587), b"EHLO me\r\n").is_ok());
/// ```
pub fn check_plaintext_port(
    service: Service,
    port: Option<u16>,
    first: &[u8],
) -> Result<(), TlsError> {
    if classify_first_bytes(first) != Some(Observed::TlsHandshake) {
        return Ok(());
    }
    let what = format!(
        "the client started a TLS handshake (implicit TLS) on {} port {}, which expects \
         plaintext and {}",
        service,
        port.unwrap_or(service.starttls_port()),
        service.starttls_command(),
    );
    let fix = match service.implicit_port() {
        Some(implicit) => format!(
            "connect the client to port {implicit} for implicit TLS, or set it to use {} on \
             port {}",
            service.starttls_command(),
            service.starttls_port()
        ),
        None => format!(
            "{service} on port {} has no implicit-TLS variant: set the client to plaintext \
             with STARTTLS",
            service.starttls_port()
        ),
    };
    Err(TlsError::ModeMismatch(Mismatch {
        expected: Expected::Plaintext,
        observed: Observed::TlsHandshake,
        role: Role::Server,
        what,
        fix,
    }))
}

/// Diagnose the first bytes from a peer on a connection that expected a TLS handshake.
///
/// `role` is our side; `service` is what we think the connection is for, when known; `port` is
/// the port the client connected to (remote port for a client, local port for a server).
/// Returns `None` when the bytes are a TLS record, too short to decide, or unrecognised.
///
/// ```
/// use mail_tls::{diagnose_tls_expected, Role, Service};
///
/// let m = diagnose_tls_expected(Role::Client, None, Some(587), b"220 mx ESMTP\r\n").unwrap();
/// assert!(m.to_string().contains("use STARTTLS on port 587"));
/// assert!(m.to_string().contains("port 465"));
/// ```
pub fn diagnose_tls_expected(
    role: Role,
    service: Option<Service>,
    port: Option<u16>,
    first: &[u8],
) -> Option<Mismatch> {
    let observed = classify_first_bytes(first)?;
    if !observed.is_plaintext() {
        return None;
    }
    let sample = escape_preview(&first[..first.len().min(40)]);
    let (what, fix) = match role {
        Role::Client => {
            // The greeting tells us the protocol even when the caller did not.
            let service = match observed {
                Observed::SmtpGreeting => match service {
                    Some(Service::SmtpRelay) => Service::SmtpRelay,
                    _ => Service::Submission,
                },
                Observed::Pop3Greeting => Service::Pop3,
                Observed::ImapGreeting => Service::Imap,
                _ => service?,
            };
            let what = format!(
                "the server sent {} {} where a TLS handshake was expected; {} is a \
                 plaintext/STARTTLS port",
                observed.describe(),
                sample,
                port_text(port)
            );
            let here = port.unwrap_or(service.starttls_port());
            let fix = match service.implicit_port() {
                Some(implicit) => format!(
                    "use {} on port {here} (for tls-check: --starttls {}), or implicit TLS on \
                     port {implicit}",
                    service.starttls_command(),
                    starttls_flag(service)
                ),
                None => format!(
                    "use {} on port {here} (for tls-check: --starttls smtp)",
                    service.starttls_command()
                ),
            };
            (what, fix)
        }
        Role::Server => {
            let what = format!(
                "the client sent {} {} where a TLS handshake was expected: it is not using \
                 implicit TLS on this implicit-TLS port ({})",
                observed.describe(),
                sample,
                port_text(port)
            );
            let fix = match (observed, service) {
                (Observed::Http, _) => {
                    "this is a mail port, not a web server: check the client's URL and port"
                        .to_string()
                }
                (_, Some(s)) => format!(
                    "set the client to implicit TLS (often called \"SSL/TLS\"), or connect it \
                     to port {} and use {}",
                    s.starttls_port(),
                    s.starttls_command()
                ),
                (_, None) => "set the client to implicit TLS (often called \"SSL/TLS\"), or \
                              connect it to the service's STARTTLS port"
                    .to_string(),
            };
            (what, fix)
        }
    };
    Some(Mismatch {
        expected: Expected::TlsHandshake,
        observed,
        role,
        what,
        fix,
    })
}

fn starttls_flag(service: Service) -> &'static str {
    match service {
        Service::Pop3 => "pop3",
        Service::Imap => "imap",
        _ => "smtp",
    }
}

/// The hint given when an implicit-TLS server times out without receiving a byte: a plaintext
/// client waits for a greeting that never comes.
#[cfg(feature = "tokio")]
pub(crate) fn silent_client_hint(service: Option<Service>) -> String {
    match service.and_then(|s| s.implicit_port().map(|p| (s, p))) {
        Some((s, p)) => format!(
            "the client sent nothing; a client configured for plaintext or {} waits for a \
             greeting, which an implicit-TLS port (like {p}) never sends: set it to implicit TLS \
             or connect it to port {}",
            s.starttls_command(),
            s.starttls_port()
        ),
        None => "the client sent nothing; a client configured for plaintext or STARTTLS waits \
                 for a greeting, which an implicit-TLS port never sends"
            .into(),
    }
}

/// The hint given when a client in plaintext/STARTTLS mode times out waiting for a greeting.
///
/// Call it when no greeting arrived within the greeting timeout; the server is probably
/// waiting for a TLS ClientHello.
///
/// ```
/// use mail_tls::{silent_server_hint, Service};
///
/// assert!(silent_server_hint(Service::Submission, Some(465)).contains("implicit TLS"));
/// ```
pub fn silent_server_hint(service: Service, port: Option<u16>) -> String {
    match service.implicit_port() {
        Some(implicit) => format!(
            "no greeting from the server on {}: if this is an implicit-TLS port (like {implicit}), \
             the server is waiting for a TLS handshake: use implicit TLS, or connect to port {} \
             for {}",
            port_text(port),
            service.starttls_port(),
            service.starttls_command()
        ),
        None => format!("no greeting from the server on {}", port_text(port)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_table() {
        let cases: &[(&[u8], Option<Observed>)] = &[
            (b"", None),
            (b"\x16", None),
            (b"\x16\x03", None),
            (b"\x16\x03\x01", Some(Observed::TlsHandshake)),
            (b"\x16\x03\x03\x00\x7a", Some(Observed::TlsHandshake)),
            (b"\x15\x03\x03\x00\x02\x02\x46", Some(Observed::TlsRecord)),
            (b"\x16\x09\x01", Some(Observed::Unknown)),
            (b"2", None),
            (b"220", None),
            (
                b"220 mx.example.org ESMTP\r\n",
                Some(Observed::SmtpGreeting),
            ),
            (b"220-mx.example.org\r\n", Some(Observed::SmtpGreeting)),
            (b"554 no\r\n", Some(Observed::SmtpGreeting)),
            (b"+O", None),
            (b"+OK POP3 ready\r\n", Some(Observed::Pop3Greeting)),
            (
                b"* OK [CAPABILITY IMAP4rev1] ready\r\n",
                Some(Observed::ImapGreeting),
            ),
            (b"* PREAUTH hi\r\n", Some(Observed::ImapGreeting)),
            (b"* ", None),
            (b"GET / HTTP/1.1\r\n", Some(Observed::Http)),
            (b"EHLO client\r\n", Some(Observed::PlaintextLine)),
            (b"a1 CAPABILITY\r\n", Some(Observed::PlaintextLine)),
            (b"\x00\x01\x02", Some(Observed::Unknown)),
        ];
        for (input, want) in cases {
            assert_eq!(classify_first_bytes(input), *want, "{input:?}");
        }
    }

    #[test]
    fn client_hello_on_587_names_465() {
        let err =
            check_plaintext_port(Service::Submission, Some(2587), b"\x16\x03\x01\x00").unwrap_err();
        let TlsError::ModeMismatch(m) = &err else {
            panic!("{err:?}")
        };
        assert_eq!(m.expected(), Expected::Plaintext);
        assert_eq!(m.observed(), Observed::TlsHandshake);
        let text = err.to_string();
        assert!(text.contains("port 2587"), "{text}");
        assert!(text.contains("port 465 for implicit TLS"), "{text}");
        assert!(text.contains("STARTTLS on port 587"), "{text}");
    }

    #[test]
    fn client_hello_on_pop3_names_995_and_stls() {
        let text = check_plaintext_port(Service::Pop3, None, b"\x16\x03\x01")
            .unwrap_err()
            .to_string();
        assert!(text.contains("port 995"), "{text}");
        assert!(text.contains("STLS on port 110"), "{text}");
    }

    #[test]
    fn client_hello_on_relay_port_says_starttls_only() {
        let text = check_plaintext_port(Service::SmtpRelay, Some(25), b"\x16\x03\x01")
            .unwrap_err()
            .to_string();
        assert!(text.contains("no implicit-TLS variant"), "{text}");
    }

    #[test]
    fn plaintext_input_on_plaintext_port_is_fine() {
        for first in [&b"EHLO x\r\n"[..], b"", b"\x16", b"CAPA\r\n"] {
            assert!(check_plaintext_port(Service::Submission, None, first).is_ok());
        }
    }

    #[test]
    fn client_sees_greetings() {
        let m = diagnose_tls_expected(Role::Client, None, Some(110), b"+OK hello\r\n").unwrap();
        let t = m.to_string();
        assert!(
            t.contains("POP3 greeting") && t.contains("STLS on port 110") && t.contains("995"),
            "{t}"
        );
        let m = diagnose_tls_expected(Role::Client, None, Some(143), b"* OK IMAP\r\n").unwrap();
        let t = m.to_string();
        assert!(
            t.contains("--starttls imap") && t.contains("port 993"),
            "{t}"
        );
        let m = diagnose_tls_expected(
            Role::Client,
            Some(Service::SmtpRelay),
            Some(25),
            b"220 x\r\n",
        )
        .unwrap();
        assert!(m.fix().contains("STARTTLS on port 25"));
        assert!(!m.fix().contains("465"));
    }

    #[test]
    fn server_sees_plaintext_command() {
        let m = diagnose_tls_expected(
            Role::Server,
            Some(Service::Submission),
            Some(465),
            b"EHLO a\r\n",
        )
        .unwrap();
        let t = m.to_string();
        assert!(t.contains("implicit TLS") && t.contains("port 587"), "{t}");
        let m =
            diagnose_tls_expected(Role::Server, None, Some(993), b"GET / HTTP/1.1\r\n").unwrap();
        assert!(m.fix().contains("not a web server"));
    }

    #[test]
    fn tls_bytes_are_not_a_mismatch_where_tls_expected() {
        assert!(diagnose_tls_expected(Role::Client, None, None, b"\x16\x03\x03\x00\x10").is_none());
        assert!(diagnose_tls_expected(Role::Server, None, None, b"\x16\x03\x01").is_none());
        assert!(diagnose_tls_expected(Role::Server, None, None, b"").is_none());
    }

    #[test]
    fn hints() {
        #[cfg(feature = "tokio")]
        assert!(silent_client_hint(Some(Service::Imap)).contains("port 143"));
        assert!(silent_server_hint(Service::Pop3, Some(995)).contains("port 110"));
    }
}
