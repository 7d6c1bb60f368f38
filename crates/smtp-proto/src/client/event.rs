//! What the client tells the application: [`Event`]s, with the [`Rejection`] of a message
//! and the [`SessionError`] a session ends with, and the [`ClientError`] a call that does not
//! fit the session's state returns.

use std::fmt;

use mail_wire::sasl::{Mechanism, SaslError};

use crate::error::ReplyError;
use crate::reply::{AuthMechanisms, Capabilities, Reply};

use super::envelope::EnvelopeError;
#[cfg(doc)]
use super::{Client, ClientConfig, Envelope, TlsPolicy};

/// Why the server did not take a message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rejection {
    /// MAIL FROM was refused.
    Sender(Reply<'static>),
    /// Every RCPT TO was refused (each one's reply came as an [`Event::Recipient`]); the body
    /// was not sent.
    NoRecipients,
    /// DATA was refused (no `354`).
    Data(Reply<'static>),
    /// The body was refused: the reply to its end (SMTP), or to a BDAT chunk.
    Message(Reply<'static>),
}

impl fmt::Display for Rejection {
    /// The reply's code, enhanced code and first line, with control characters escaped
    /// ([`Printable`]).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rejection::Sender(reply) => write!(f, "sender refused: {}", show(reply)),
            Rejection::NoRecipients => f.write_str("every recipient was refused"),
            Rejection::Data(reply) => write!(f, "DATA refused: {}", show(reply)),
            Rejection::Message(reply) => write!(f, "message refused: {}", show(reply)),
        }
    }
}

impl Rejection {
    /// The server's reply, if the rejection has one.
    pub fn reply(&self) -> Option<&Reply<'static>> {
        match self {
            Rejection::Sender(r) | Rejection::Data(r) | Rejection::Message(r) => Some(r),
            Rejection::NoRecipients => None,
        }
    }
}

/// What the client was waiting for when a deadline passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Awaiting {
    /// The `220` greeting.
    Greeting,
    /// The reply to EHLO, HELO or LHLO.
    Hello,
    /// The reply to STARTTLS.
    StartTls,
    /// A reply during AUTH.
    Auth,
    /// The reply to RSET.
    Rset,
    /// The reply to MAIL.
    Mail,
    /// The reply to RCPT.
    Rcpt,
    /// The reply to DATA.
    Data,
    /// The reply to a BDAT chunk that is not the last.
    Chunk,
    /// The reply to the end of the body. A message may have been delivered even so
    /// (RFC 5321 section 6.1 warns of duplicates).
    EndOfData,
    /// The reply to QUIT.
    Quit,
}

impl fmt::Display for Awaiting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Awaiting::Greeting => "the greeting",
            Awaiting::Hello => "EHLO",
            Awaiting::StartTls => "STARTTLS",
            Awaiting::Auth => "AUTH",
            Awaiting::Rset => "RSET",
            Awaiting::Mail => "MAIL",
            Awaiting::Rcpt => "RCPT",
            Awaiting::Data => "DATA",
            Awaiting::Chunk => "a BDAT chunk",
            Awaiting::EndOfData => "the end of the message",
            Awaiting::Quit => "QUIT",
        })
    }
}

/// Something the application should act on or may want to know.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The server's `220` greeting.
    Greeting(Reply<'static>),
    /// The server answered EHLO or LHLO with these extensions (again after STARTTLS). After a
    /// HELO fallback they are empty but for the greeting line.
    Capabilities(Capabilities),
    /// The server accepted STARTTLS: write what [`Client::poll_transmit`] holds, do the TLS
    /// handshake now, then call [`Client::tls_established`]. Nothing may be fed before that.
    StartTls,
    /// AUTH succeeded (`235`) with this mechanism.
    Authenticated(Mechanism),
    /// The session is idle: call [`Client::send_message`] or [`Client::quit`].
    Ready,
    /// The reply to the RCPT TO of `recipients[index]`: accepted if positive. Reported only
    /// when MAIL FROM was accepted.
    Recipient {
        /// Index into [`Envelope::recipients`].
        index: usize,
        /// The server's reply.
        reply: Reply<'static>,
    },
    /// Send the body: [`Client::send_body`] while [`Client::can_send_body`], then
    /// [`Client::finish_body`]. Comes after `354` (DATA), or once every RCPT is answered and
    /// one was accepted (BDAT), and for BDAT without PIPELINING again after each chunk's
    /// reply.
    BodyReady,
    /// The server took the message (SMTP): the reply to the end of the body.
    MessageAccepted(Reply<'static>),
    /// The message failed; see [`Rejection`]. Stop sending its body.
    MessageRejected(Rejection),
    /// LMTP: the delivery status of one accepted recipient after the body (RFC 2033 section
    /// 4.2), in the order of the RCPT commands.
    Delivery {
        /// Index into [`Envelope::recipients`].
        index: usize,
        /// The server's reply for this recipient.
        reply: Reply<'static>,
    },
    /// The session is over: write what remains in [`Client::poll_transmit`] and close the
    /// connection. `Ok` after QUIT; a message whose outcome was not reported did not
    /// complete.
    Closed(Result<(), SessionError>),
}

/// Why a session ended early: what the server did, or a policy that forbade going on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The server closed the connection before QUIT ([`Client::handle_eof`]).
    #[error("the server closed the connection")]
    ConnectionClosed,
    /// `421`: the server is shutting the session down (RFC 5321 section 3.8).
    #[error("service not available: {}", show(.0))]
    ServiceUnavailable(Reply<'static>),
    /// The greeting was not `220` (typically `554`, RFC 5321 section 3.1).
    #[error("the server refused the session: {}", show(.0))]
    GreetingRejected(Reply<'static>),
    /// EHLO, HELO or LHLO was refused (EHLO with anything but `500` or `502`, which fall back
    /// to HELO; or EHLO with an address literal, which HELO cannot carry).
    #[error("the server refused the greeting command: {}", show(.0))]
    HelloRejected(Reply<'static>),
    /// [`TlsPolicy::Required`], and the server does not offer STARTTLS.
    #[error("TLS is required but the server does not offer STARTTLS")]
    TlsNotOffered,
    /// [`TlsPolicy::Required`], and the server refused STARTTLS.
    #[error("TLS is required but the server refused STARTTLS: {}", show(.0))]
    StartTlsRefused(Reply<'static>),
    /// Bytes arrived after the `220` reply to STARTTLS and before the handshake: someone
    /// injected them into the plaintext stream (RFC 3207 section 4.2, CVE-2021-38371 class).
    #[error("data received after the STARTTLS reply (response injection)")]
    StartTlsInjection,
    /// Credentials are configured, the connection is not TLS and
    /// [`ClientConfig::allow_plaintext_auth`] is off.
    #[error("refusing to authenticate without TLS")]
    AuthRequiresTls,
    /// Credentials are configured and the server does not offer AUTH.
    #[error("credentials are configured but the server does not offer AUTH")]
    AuthNotOffered,
    /// None of the mechanisms the server offers fits the credentials and
    /// [`ClientConfig::auth_mechanisms`].
    #[error(
        "no usable SASL mechanism among those offered: {}",
        Printable(.offered.to_string().as_bytes())
    )]
    NoCommonMechanism {
        /// The mechanisms the server offered.
        offered: AuthMechanisms,
    },
    /// The server refused the credentials (typically `535 5.7.8`).
    #[error("authentication with {mechanism} failed: {}", show(.reply))]
    AuthFailed {
        /// The mechanism used.
        mechanism: Mechanism,
        /// The server's reply.
        reply: Reply<'static>,
        /// The JSON error document a refused `XOAUTH2` or `OAUTHBEARER` token came with.
        server_error: Option<String>,
    },
    /// The SASL exchange failed on the client's side: a malformed challenge, a SCRAM server
    /// that could not prove it knows the password, or unusable credentials.
    #[error("SASL exchange failed: {}", Printable(.0.to_string().as_bytes()))]
    Sasl(SaslError),
    /// A reply line longer than [`ClientConfig::max_reply_line_len`].
    #[error("reply line longer than {limit} octets")]
    ReplyTooLong {
        /// The limit in force, CRLF included.
        limit: usize,
    },
    /// A reply that does not parse, or has more than [`ClientConfig::max_reply_lines`] lines.
    #[error("malformed reply: {0}")]
    MalformedReply(ReplyError),
    /// A reply when none was expected, or one that makes no sense where it came (a failed
    /// RSET, `354` to an LMTP DATA with no recipient).
    #[error("unexpected reply: {}", show(.0))]
    UnexpectedReply(Reply<'static>),
    /// A reply that arrived before the command it would answer was sent: its first octet
    /// was read (fed) before the driver took that command for the wire
    /// ([`Client::poll_transmit`] emptied the output), so the server cannot have seen it. A
    /// server that pushes replies ahead (`220 x` CRLF `250 x` in one write, making `250 x`
    /// the EHLO reply; a `220` to a STARTTLS not yet sent; a `334` challenge before AUTH or
    /// before the response to the previous one) is broken or hostile, and nothing it says
    /// next can be matched to a command. Replies to pipelined commands that went out in one
    /// write are not affected: they were read after the commands were taken.
    #[error("reply to {awaiting} before it was sent: {}", show(.reply))]
    ReplyBeforeCommand {
        /// The command the reply would have answered.
        awaiting: Awaiting,
        /// The reply.
        reply: Reply<'static>,
    },
    /// No reply before the deadline.
    #[error("timed out waiting for the reply to {0}")]
    Timeout(Awaiting),
}

/// A reply for error messages: code, enhanced code and the first line of text, escaped.
pub(crate) fn show(reply: &Reply<'_>) -> String {
    let text = Printable(reply.first_line());
    match reply.enhanced() {
        Some(enhanced) => format!("{} {enhanced} {text}", reply.code()),
        None => format!("{} {text}", reply.code()),
    }
}

/// Text from the server, safe to print on a terminal: its `Display` escapes every character
/// that could move the cursor, clear the screen, change colours or reorder what follows.
///
/// Escaped are the C0 controls (tab, CR and LF included) and DEL as `\xNN`, and the C1
/// controls (U+0080 to U+009F), the bidirectional overrides and embeddings (U+202A to
/// U+202E), isolates (U+2066 to U+2069) and marks (U+061C, U+200E, U+200F) as `\u{NNNN}`.
/// Octets that are not UTF-8 show as U+FFFD. Everything else, a backslash included, is
/// shown as is: an escape sequence spelled out in text is harmless.
///
/// [`SessionError`] and [`Rejection`] display replies through it; a program that prints
/// reply text itself should too.
///
/// ```
/// use smtp_proto::client::Printable;
///
/// let greeting = b"554 \x1b[2J\x1b[31mfake: accepted\xe2\x80\xae";
/// assert_eq!(
///     Printable(greeting).to_string(),
///     "554 \\x1b[2J\\x1b[31mfake: accepted\\u{202e}"
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Printable<'a>(pub &'a [u8]);

impl Printable<'_> {
    /// Whether `c` is escaped.
    fn escaped(c: char) -> bool {
        c.is_control()
            || matches!(
                c,
                '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
            )
    }
}

impl fmt::Display for Printable<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use fmt::Write as _;
        for chunk in self.0.utf8_chunks() {
            for c in chunk.valid().chars() {
                if !Printable::escaped(c) {
                    f.write_char(c)?;
                } else if (c as u32) < 0x80 {
                    write!(f, "\\x{:02x}", c as u32)?;
                } else {
                    write!(f, "\\u{{{:04x}}}", c as u32)?;
                }
            }
            if !chunk.invalid().is_empty() {
                f.write_char(char::REPLACEMENT_CHARACTER)?;
            }
        }
        Ok(())
    }
}

/// API misuse: a call that does not fit the session's state. The server cannot cause these,
/// except [`ClientError::Session`], which repeats why the session ended.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// [`Client::send_message`] before [`Event::Ready`].
    #[error("the session is not ready for a message")]
    NotReady,
    /// A body call with no body open (before [`Event::BodyReady`], after the end, or after
    /// [`Event::MessageRejected`]).
    #[error("no message body is open")]
    NoBody,
    /// A body call while the server has not answered the previous BDAT chunk (no
    /// PIPELINING): wait for [`Event::BodyReady`] ([`Client::can_send_body`]).
    #[error("the previous chunk has not been answered yet")]
    BodyNotReady,
    /// [`Client::tls_established`] without [`Event::StartTls`].
    #[error("no STARTTLS handshake is pending")]
    NoTlsPending,
    /// The server cannot take the envelope.
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    /// The session ended with QUIT.
    #[error("the session is closed")]
    Closed,
    /// The session ended with this error.
    #[error("the session failed: {0}")]
    Session(SessionError),
}
