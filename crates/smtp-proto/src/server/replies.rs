//! Every reply the machine sends by itself, in one place.
//!
//! The texts are without their CRLF (`Server::line` and `Server::error` add it); the few that
//! carry a value are functions. The application's own replies come through
//! [`Server::accept_with`], [`Server::reject`], [`Server::reply_each`] and [`Server::close`];
//! the defaults used when it accepts without one are here. The module docs' table says when
//! each class of reply is sent.

use crate::error::CommandError;
use crate::reply::Capabilities;
use crate::types::Domain;

use super::{Mode, ServerConfig};
#[cfg(doc)]
use super::{Server, SessionError};

/// The line ending of every reply.
pub(super) const CRLF: &[u8] = b"\r\n";

// ---- the session ----

/// The greeting: `220 <hostname> ESMTP ready`, or `LMTP` in LMTP.
pub(super) fn greeting(hostname: &Domain<'_>, mode: Mode) -> String {
    let protocol = match mode {
        Mode::Smtp => "ESMTP",
        Mode::Lmtp => "LMTP",
    };
    format!("220 {hostname} {protocol} ready")
}

/// The answer to an accepted HELO (no extensions), and the fallback for the EHLO reply.
pub(super) fn helo(hostname: &Domain<'_>) -> String {
    format!("250 {hostname}")
}

/// The capabilities an accepted EHLO or LHLO lists: what `config` offers, given whether the
/// session is TLS and whether AUTH is offered now.
pub(super) fn capabilities(config: &ServerConfig, tls: bool, auth_offered: bool) -> Capabilities {
    let auth = auth_offered.then(|| config.auth_mechanisms.iter().copied().collect());
    Capabilities {
        greeting: config.hostname.as_str().as_bytes().to_vec(),
        pipelining: true,
        size: Some(Some(config.max_message_size)),
        eight_bit_mime: config.eight_bit_mime,
        smtputf8: config.smtputf8,
        enhanced_status_codes: true,
        chunking: config.chunking,
        binary_mime: config.chunking,
        dsn: config.dsn,
        starttls: config.starttls && !tls,
        requiretls: config.requiretls && tls,
        auth,
        // RFC 9422.
        limits: Some(vec![(
            "RCPTMAX".to_owned(),
            config.max_recipients.to_string(),
        )]),
        ..Capabilities::default()
    }
}

/// HELO or EHLO in LMTP.
pub(super) const USE_LHLO: &[u8] = b"500 5.5.1 This is an LMTP server; use LHLO";
/// LHLO in SMTP.
pub(super) const USE_EHLO: &[u8] = b"500 5.5.1 LHLO is for LMTP; use EHLO";
/// RSET and NOOP.
pub(super) const OK: &[u8] = b"250 2.0.0 Ok";
/// QUIT.
pub(super) const BYE: &[u8] = b"221 2.0.0 Bye";
/// VRFY: neither confirmed nor denied (RFC 5321 section 3.5.3).
pub(super) const CANNOT_VRFY: &[u8] =
    b"252 2.5.0 Cannot VRFY user, but will accept message and attempt delivery";
/// EXPN.
pub(super) const NO_EXPN: &[u8] = b"502 5.5.1 EXPN not available";
/// ETRN.
pub(super) const NO_ETRN: &[u8] = b"502 5.5.1 ETRN not available";
/// HELP.
pub(super) const HELP: &[u8] = b"214 2.0.0 See RFC 5321";

// ---- syntax and framing ----

/// A verb the parser does not know.
pub(super) const UNKNOWN_COMMAND: &[u8] = b"500 5.5.2 Command not recognized";
/// Arguments that do not parse.
pub(super) fn syntax_error(error: &CommandError) -> String {
    format!("501 5.5.4 Syntax error: {error}")
}
/// A command line over the limit (RFC 5321 section 4.5.3.1.4).
pub(super) const LINE_TOO_LONG: &[u8] = b"500 5.5.2 Line too long";
/// A command line ending in a bare LF (RFC 5321 section 2.3.8).
pub(super) const BARE_LF: &[u8] = b"500 5.5.2 Command line must end with CRLF (bare LF received)";
/// A frame that is no line; the framer in use never produces one.
pub(super) const NOT_A_LINE: &[u8] = b"500 5.5.2 Syntax error";
/// UTF-8 in an address without SMTPUTF8 (RFC 6531).
pub(super) const UTF8_NEEDS_SMTPUTF8: &[u8] = b"553 5.6.7 Non-ASCII addresses require SMTPUTF8";

// ---- STARTTLS (RFC 3207) ----

/// STARTTLS accepted: the TLS handshake follows.
pub(super) const READY_FOR_TLS: &[u8] = b"220 2.0.0 Ready to start TLS";
/// STARTTLS on a TLS session.
pub(super) const TLS_ALREADY_ACTIVE: &[u8] = b"503 5.5.1 TLS already active";
/// STARTTLS when it is not offered.
pub(super) const NO_STARTTLS: &[u8] = b"502 5.5.1 STARTTLS not offered";
/// MAIL or AUTH before TLS when TLS is required (RFC 3207 section 4).
pub(super) const STARTTLS_FIRST: &[u8] = b"530 5.7.0 Must issue a STARTTLS command first";

// ---- AUTH (RFC 4954) ----

/// The start of a SASL challenge line; the base64 challenge follows.
pub(super) const CHALLENGE: &[u8] = b"334 ";
/// The exchange succeeded.
pub(super) const AUTHENTICATED: &[u8] = b"235 2.7.0 Authentication successful";
/// AUTH when no mechanism is configured.
pub(super) const NO_AUTH: &[u8] = b"502 5.5.1 AUTH not offered";
/// AUTH before EHLO, or after HELO.
pub(super) const EHLO_FIRST: &[u8] = b"503 5.5.1 Send EHLO first";
/// A second AUTH.
pub(super) const ALREADY_AUTHENTICATED: &[u8] = b"503 5.5.1 Already authenticated";
/// AUTH inside a mail transaction (RFC 4954 section 4).
pub(super) const AUTH_IN_TRANSACTION: &[u8] =
    b"503 5.5.1 AUTH not allowed during a mail transaction";
/// AUTH before TLS when plaintext AUTH is not allowed (RFC 4954 section 6).
pub(super) const ENCRYPTION_REQUIRED: &[u8] =
    b"538 5.7.11 Encryption required for requested authentication mechanism";
/// A mechanism that is not offered.
pub(super) const UNKNOWN_MECHANISM: &[u8] = b"504 5.5.4 Unrecognized authentication type";
/// An initial or later response that is not base64.
pub(super) const CANNOT_DECODE: &[u8] = b"501 5.5.2 Cannot decode response";
/// The client cancelled the exchange with `*`.
pub(super) const AUTH_CANCELLED: &[u8] = b"501 5.0.0 Authentication cancelled";
/// A response line over the limit.
pub(super) const AUTH_LINE_TOO_LONG: &[u8] = b"500 5.5.6 Authentication exchange line is too long";
/// A response the mechanism cannot read.
pub(super) const AUTH_MALFORMED: &[u8] = b"501 5.5.2 Malformed authentication response";
/// Wrong credentials, or any other failure of the exchange.
pub(super) const AUTH_INVALID: &[u8] = b"535 5.7.8 Authentication credentials invalid";

// ---- the mail transaction ----

/// MAIL accepted, by default.
pub(super) const SENDER_OK: &[u8] = b"250 2.1.0 Sender ok";
/// RCPT accepted, by default.
pub(super) const RECIPIENT_OK: &[u8] = b"250 2.1.5 Recipient ok";
/// The message accepted, by default (in LMTP once per recipient).
pub(super) const MESSAGE_ACCEPTED: &[u8] = b"250 2.0.0 Message accepted";
/// MAIL before HELO or EHLO.
pub(super) const HELLO_FIRST: &[u8] = b"503 5.5.1 Send HELO or EHLO first";
/// MAIL inside a transaction.
pub(super) const NESTED_MAIL: &[u8] = b"503 5.5.1 Nested MAIL command";
/// MAIL before AUTH when AUTH is required (RFC 4954 section 6).
pub(super) const AUTH_REQUIRED: &[u8] = b"530 5.7.0 Authentication required";
/// MAIL parameters after HELO (RFC 5321 section 4.1.1.11).
pub(super) const MAIL_PARAMETERS_NEED_EHLO: &[u8] = b"555 5.5.4 MAIL parameters need EHLO";
/// RCPT parameters after HELO (RFC 5321 section 4.1.1.11).
pub(super) const RCPT_PARAMETERS_NEED_EHLO: &[u8] = b"555 5.5.4 RCPT parameters need EHLO";
/// A declared or actual size over the limit (RFC 1870).
pub(super) const TOO_LARGE: &[u8] = b"552 5.3.4 Message size exceeds fixed maximum message size";
/// `BODY=BINARYMIME` without CHUNKING.
pub(super) const NO_BINARYMIME: &[u8] = b"555 5.5.4 BODY=BINARYMIME not supported";
/// `BODY=8BITMIME` when 8BITMIME is off.
pub(super) const NO_8BITMIME: &[u8] = b"555 5.5.4 BODY=8BITMIME not supported";
/// `SMTPUTF8` when it is off.
pub(super) const NO_SMTPUTF8: &[u8] = b"555 5.5.4 SMTPUTF8 not supported";
/// DSN parameters when DSN is off (RFC 3461).
pub(super) const NO_DSN: &[u8] = b"555 5.5.4 DSN parameters not supported";
/// `REQUIRETLS` on a session without TLS (RFC 8689).
pub(super) const REQUIRETLS_NEEDS_TLS: &[u8] = b"530 5.7.10 REQUIRETLS needs a TLS session";
/// `REQUIRETLS` when it is off.
pub(super) const NO_REQUIRETLS: &[u8] = b"555 5.5.4 REQUIRETLS not supported";
/// A MAIL parameter this crate does not know (RFC 5321 section 4.1.1.11).
pub(super) const UNKNOWN_MAIL_PARAMETER: &[u8] = b"555 5.5.4 Unsupported MAIL parameter";
/// A RCPT parameter this crate does not know (RFC 5321 section 4.1.1.11).
pub(super) const UNKNOWN_RCPT_PARAMETER: &[u8] = b"555 5.5.4 Unsupported RCPT parameter";
/// RCPT outside a transaction.
pub(super) const MAIL_BEFORE_RCPT: &[u8] = b"503 5.5.1 Need MAIL before RCPT";
/// RCPT once the body has started.
pub(super) const RCPT_AFTER_BODY: &[u8] = b"503 5.5.1 RCPT after the message body started";
/// RCPT past the limit (RFC 5321 section 4.5.3.1.10).
pub(super) const TOO_MANY_RECIPIENTS: &[u8] = b"452 4.5.3 Too many recipients";
/// DATA or BDAT outside a transaction.
pub(super) const NEED_MAIL: &[u8] = b"503 5.5.1 Need MAIL command";
/// DATA without an accepted recipient in SMTP (RFC 2920 section 3.1), and BDAT without one.
pub(super) const NO_VALID_RECIPIENTS: &[u8] = b"554 5.5.1 No valid recipients";
/// DATA without an accepted recipient in LMTP (RFC 2033 section 4.2).
pub(super) const NO_VALID_RECIPIENTS_LMTP: &[u8] = b"503 5.5.1 No valid recipients";

// ---- the body ----

/// DATA accepted: the body follows.
pub(super) const START_DATA: &[u8] = b"354 End data with <CR><LF>.<CR><LF>";
/// DATA after BDAT chunks of the same message.
pub(super) const DATA_AFTER_BDAT: &[u8] = b"503 5.5.1 DATA after BDAT in the same transaction";
/// DATA for a `BODY=BINARYMIME` message (RFC 3030).
pub(super) const BINARYMIME_NEEDS_BDAT: &[u8] = b"503 5.5.1 BODY=BINARYMIME requires BDAT";
/// BDAT when CHUNKING is off.
pub(super) const NO_CHUNKING: &[u8] = b"502 5.5.1 CHUNKING not offered";
/// BDAT after DATA in the same transaction.
pub(super) const BDAT_AFTER_DATA: &[u8] = b"503 5.5.1 BDAT after DATA in the same transaction";
/// A BDAT chunk pipelined after a refused one (RFC 3030 section 2).
pub(super) const CHUNK_DISCARDED: &[u8] =
    b"503 5.5.1 Chunk discarded: an earlier chunk of this message was refused";
/// A BDAT chunk before the last, received.
pub(super) fn chunk_received(octets: u64) -> String {
    format!("250 2.0.0 {octets} octets received")
}
/// A bare CR or LF in a DATA body under [`BareLineEnding::Reject`]
/// (RFC 5321 section 2.3.8).
///
/// [`BareLineEnding::Reject`]: mail_wire::dot::BareLineEnding::Reject
pub(super) const BARE_LINE_ENDING: &[u8] =
    b"550 5.6.0 Message refused: bare CR or LF in the body (RFC 5321 section 2.3.8)";
/// A body refused for a reason this version does not know.
pub(super) const LOCAL_ERROR: &[u8] = b"451 4.3.0 Local error in processing";

// ---- the ending: each closes the session ----

/// Too many errors ([`SessionError::TooManyErrors`]).
pub(super) const TOO_MANY_ERRORS: &[u8] = b"421 4.7.0 Too many errors, closing connection";
/// The client was silent too long ([`SessionError::Timeout`]).
pub(super) fn timeout(hostname: &Domain<'_>) -> String {
    format!("421 4.4.2 {hostname} Error: timeout exceeded, closing connection")
}
/// The failed AUTH exchange that reaches the limit, after its own reply
/// ([`SessionError::TooManyAuthFailures`]).
pub(super) const TOO_MANY_AUTH_FAILURES: &[u8] =
    b"421 4.7.0 Too many authentication failures, closing connection";
/// The server is shutting down ([`SessionError::Shutdown`]).
pub(super) const SHUTTING_DOWN: &[u8] = b"421 4.3.2 Service shutting down, closing connection";
/// More unprocessed input than allowed ([`SessionError::InputOverflow`]).
pub(super) const TOO_MUCH_INPUT: &[u8] = b"421 4.7.0 Too much pipelined input, closing connection";
/// Commands pipelined after STARTTLS (RFC 3207 section 4.2, CVE-2011-0411;
/// [`SessionError::StartTlsInjection`]).
pub(super) const PIPELINED_AFTER_STARTTLS: &[u8] =
    b"421 4.7.0 Commands pipelined after STARTTLS, closing connection";
/// A BDAT command whose size does not parse ([`SessionError::Desynchronised`]).
pub(super) const INVALID_CHUNK_SIZE: &[u8] =
    b"421 4.5.4 Invalid BDAT chunk size, closing connection";
/// A BDAT line refused by its framing, too long or ending in a bare LF
/// ([`SessionError::Desynchronised`]).
pub(super) const UNREADABLE_BDAT: &[u8] = b"421 4.5.4 Unreadable BDAT command, closing connection";
/// An HTTP request line: a web page made a browser talk to the SMTP port
/// ([`SessionError::HttpRequest`]).
pub(super) const HTTP_REQUEST: &[u8] =
    b"421 4.7.0 This is an SMTP server, not a web server: HTTP request refused, closing connection";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reply::Reply;

    /// Every fixed reply above (all constants but `CRLF` and `CHALLENGE`).
    const FIXED: &[&[u8]] = &[
        USE_LHLO,
        USE_EHLO,
        OK,
        BYE,
        CANNOT_VRFY,
        NO_EXPN,
        NO_ETRN,
        HELP,
        UNKNOWN_COMMAND,
        LINE_TOO_LONG,
        BARE_LF,
        NOT_A_LINE,
        UTF8_NEEDS_SMTPUTF8,
        READY_FOR_TLS,
        TLS_ALREADY_ACTIVE,
        NO_STARTTLS,
        STARTTLS_FIRST,
        AUTHENTICATED,
        NO_AUTH,
        EHLO_FIRST,
        ALREADY_AUTHENTICATED,
        AUTH_IN_TRANSACTION,
        ENCRYPTION_REQUIRED,
        UNKNOWN_MECHANISM,
        CANNOT_DECODE,
        AUTH_CANCELLED,
        AUTH_LINE_TOO_LONG,
        AUTH_MALFORMED,
        AUTH_INVALID,
        SENDER_OK,
        RECIPIENT_OK,
        MESSAGE_ACCEPTED,
        HELLO_FIRST,
        NESTED_MAIL,
        AUTH_REQUIRED,
        MAIL_PARAMETERS_NEED_EHLO,
        RCPT_PARAMETERS_NEED_EHLO,
        TOO_LARGE,
        NO_BINARYMIME,
        NO_8BITMIME,
        NO_SMTPUTF8,
        NO_DSN,
        REQUIRETLS_NEEDS_TLS,
        NO_REQUIRETLS,
        UNKNOWN_MAIL_PARAMETER,
        UNKNOWN_RCPT_PARAMETER,
        MAIL_BEFORE_RCPT,
        RCPT_AFTER_BODY,
        TOO_MANY_RECIPIENTS,
        NEED_MAIL,
        NO_VALID_RECIPIENTS,
        NO_VALID_RECIPIENTS_LMTP,
        START_DATA,
        DATA_AFTER_BDAT,
        BINARYMIME_NEEDS_BDAT,
        NO_CHUNKING,
        BDAT_AFTER_DATA,
        CHUNK_DISCARDED,
        BARE_LINE_ENDING,
        LOCAL_ERROR,
        TOO_MANY_ERRORS,
        TOO_MANY_AUTH_FAILURES,
        SHUTTING_DOWN,
        TOO_MUCH_INPUT,
        PIPELINED_AFTER_STARTTLS,
        INVALID_CHUNK_SIZE,
        UNREADABLE_BDAT,
        HTTP_REQUEST,
    ];

    /// `text` is one reply line, without CRLF, whose enhanced status code (RFC 3463), if any,
    /// is of the reply code's class; returns the reply code.
    fn check(text: &[u8]) -> u16 {
        let shown = String::from_utf8_lossy(text);
        assert!(!text.contains(&b'\r') && !text.contains(&b'\n'), "{shown}");
        let reply = Reply::parse(text).unwrap_or_else(|e| panic!("{shown}: {e}"));
        let code = reply.code().get();
        assert!((200..600).contains(&code), "{shown}");
        if let Some(enhanced) = reply.enhanced() {
            assert_eq!(u16::from(enhanced.class()), code / 100, "{shown}");
        }
        code
    }

    #[test]
    fn every_fixed_reply_is_one_well_formed_line() {
        // The list above is complete: every constant of the file but two is in it.
        let source = include_str!("replies.rs");
        let code = source.split("#[cfg(test)]").next().unwrap_or(source);
        assert_eq!(FIXED.len(), code.matches("pub(super) const ").count() - 2);
        for text in FIXED {
            let code = check(text);
            // Only the informative replies (354) may go without an enhanced code.
            if code / 100 != 3 {
                assert!(Reply::parse(text).unwrap().enhanced().is_some());
            }
        }
    }

    #[test]
    fn every_reply_with_a_value_is_one_well_formed_line() {
        let host = Domain::from_parsed("mx.example.org");
        assert_eq!(check(greeting(&host, Mode::Smtp).as_bytes()), 220);
        assert_eq!(check(greeting(&host, Mode::Lmtp).as_bytes()), 220);
        assert_eq!(check(helo(&host).as_bytes()), 250);
        let error = CommandError::UnknownCommand;
        assert_eq!(check(syntax_error(&error).as_bytes()), 501);
        assert_eq!(check(chunk_received(u64::MAX).as_bytes()), 250);
        assert_eq!(check(timeout(&host).as_bytes()), 421);
        let reply = capabilities(&ServerConfig::default(), false, false).to_reply();
        assert_eq!(reply.map(|r| r.code().get()), Ok(250));
    }
}
