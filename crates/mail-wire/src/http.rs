//! Recognizing an HTTP request sent to a mail port: the cross-protocol (HTML form) attack.
//!
//! A web page can make a browser send an HTTP request to any host and port, a mail server on
//! `127.0.0.1:25` included: a `fetch()` with `mode: "no-cors"` or an HTML form posting
//! `text/plain`. The browser cannot read the answer, but the server reads the request, and a
//! line-oriented mail server that answers each line it does not understand with an error and
//! goes on would then run the request's body (`EHLO`, `MAIL FROM`, `RCPT TO`, `DATA`, ...) as
//! commands: the page delivers mail through the victim's server, or logs in with credentials
//! it knows. ALPACA (2021) is the TLS cousin of the attack; Postfix closes the session on the
//! commands `CONNECT`, `GET` and `POST` (`smtpd_forbidden_commands`).
//!
//! An HTTP/1.x request always starts with its request line (RFC 9112 section 2.1), so a server
//! that closes at that line never reads the header fields or the body. This module recognizes
//! the line, in two strengths:
//!
//! - [`starts_with_method`]: the line starts with an HTTP method followed by a space. Enough
//!   where no command starts with one of those words: SMTP and POP3.
//! - [`is_request_line`]: the whole line has the shape `method SP request-target SP
//!   HTTP/d.d`. Needed where a method could start a valid command: in IMAP `GET NOOP` is the
//!   command `NOOP` tagged `GET`, and must keep working.
//!
//! Methods are case-sensitive (RFC 9110 section 9.1) and browsers send them in capitals, so a
//! lowercase `get` is not a method here: in SMTP and POP3 it stays an unknown command.
//!
//! Header field lines (`Host: example.org`, RFC 9110 section 5) are deliberately not
//! recognized: they never come first in a request, so a server that closes at the request line
//! never sees them, and a lone `Name: value` line is more likely a confused client than an
//! attack.
//!
//! ```
//! use mail_wire::http;
//!
//! assert!(http::starts_with_method(b"POST / HTTP/1.1"));
//! assert!(http::starts_with_method(b"GET /favicon.ico"));
//! assert!(!http::starts_with_method(b"get / HTTP/1.1")); // methods are case-sensitive
//! assert!(!http::starts_with_method(b"EHLO client.example.org"));
//!
//! assert!(http::is_request_line(b"POST / HTTP/1.1"));
//! assert!(http::is_request_line(b"CONNECT mail.example.org:443 HTTP/1.1"));
//! assert!(!http::is_request_line(b"GET NOOP")); // an IMAP command tagged GET
//! assert!(!http::is_request_line(b"GET SELECT HTTP/1.1")); // SELECT of a mailbox "HTTP/1.1"
//! ```

/// The request methods of RFC 9110 section 9 and PATCH (RFC 5789): the words an HTTP/1.x
/// request line starts with.
pub const METHODS: [&[u8]; 9] = [
    b"GET", b"HEAD", b"POST", b"PUT", b"DELETE", b"CONNECT", b"OPTIONS", b"TRACE", b"PATCH",
];

/// The length of the method at the start of `line` (case-sensitive), if it is followed by a
/// space.
fn method_len(line: &[u8]) -> Option<usize> {
    METHODS
        .iter()
        .find(|method| line.starts_with(method) && line.get(method.len()) == Some(&b' '))
        .map(|method| method.len())
}

/// Whether `line` (a command line without its CRLF, or just the start of one) starts with an
/// HTTP method of [`METHODS`] followed by a space.
///
/// Use it where no command of the protocol starts with one of those words (SMTP, POP3): it
/// needs only the first few octets of a line, so it also catches a request line too long to
/// frame.
pub fn starts_with_method(line: &[u8]) -> bool {
    method_len(line).is_some()
}

/// Whether `line` (without its CRLF) is an HTTP/1.x request line (RFC 9112 section 3):
/// `method SP request-target SP HTTP/DIGIT.DIGIT`, the method one of [`METHODS`], the
/// request-target one word of visible ASCII in one of its four forms (section 3.2): origin
/// (`/path`), absolute (`http://host/path`), authority (`host:port`) or asterisk (`*`).
///
/// Use it where a method could start a valid command: no IMAP command has this shape, since
/// an IMAP command name never starts with `/`, holds `:` or is `*`.
pub fn is_request_line(line: &[u8]) -> bool {
    let Some(len) = method_len(line) else {
        return false;
    };
    let Some(rest) = line.get(len + 1..) else {
        return false;
    };
    let Some(space) = rest.iter().position(|&b| b == b' ') else {
        return false;
    };
    let (target, version) = rest.split_at(space);
    let target_ok = !target.is_empty()
        && target.iter().all(|&b| b.is_ascii_graphic())
        && (target.first() == Some(&b'/') || target == b"*" || target.contains(&b':'));
    target_ok && is_version(version)
}

/// Whether `start`, the first octets of a line too long to see whole, starts the way an HTTP
/// request line does: a method of [`METHODS`], a space, and a request-target that starts with
/// `/` or `*` or holds a `:` before the next space (or before the end of `start`).
///
/// Use it with [`is_request_line`] where a line over the limit is never seen whole: in IMAP
/// the word after the tag is a command name, which never starts with `/` or `*` nor holds `:`.
pub fn starts_like_request_line(start: &[u8]) -> bool {
    let Some(len) = method_len(start) else {
        return false;
    };
    let rest = start.get(len + 1..).unwrap_or_default();
    let word = rest.split(|&b| b == b' ').next().unwrap_or_default();
    matches!(word.first(), Some(b'/' | b'*')) || word.contains(&b':')
}

/// Whether `text` is ` HTTP/DIGIT.DIGIT` (RFC 9112 section 2.3), with its leading space.
fn is_version(text: &[u8]) -> bool {
    match text {
        [b' ', b'H', b'T', b'T', b'P', b'/', major, b'.', minor] => {
            major.is_ascii_digit() && minor.is_ascii_digit()
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_method_is_recognized_followed_by_a_space() {
        for method in METHODS {
            let mut line = method.to_vec();
            line.extend_from_slice(b" / HTTP/1.1");
            assert!(starts_with_method(&line), "{line:?}");
            assert!(is_request_line(&line), "{line:?}");
            // The method alone, or glued to the next word, is not a request line.
            assert!(!starts_with_method(method));
            let mut glued = method.to_vec();
            glued.push(b'X');
            assert!(!starts_with_method(&glued));
        }
    }

    #[test]
    fn the_start_of_a_long_request_line_is_recognized() {
        assert!(starts_like_request_line(b"POST /aaaaaaaa"));
        assert!(starts_like_request_line(b"GET http://127.0.0.1:143/aaa"));
        assert!(starts_like_request_line(b"OPTIONS * HTTP/1.1"));
        assert!(!starts_like_request_line(b"GET NOOP"));
        assert!(!starts_like_request_line(b"GET APPEND INBOX {5}"));
        assert!(!starts_like_request_line(b"GET "));
        assert!(!starts_like_request_line(b"get /"));
    }

    #[test]
    fn methods_are_case_sensitive() {
        assert!(!starts_with_method(b"get / HTTP/1.1"));
        assert!(!starts_with_method(b"Post / HTTP/1.1"));
        assert!(!is_request_line(b"post / HTTP/1.1"));
    }

    #[test]
    fn mail_commands_are_not_requests() {
        for line in [
            &b"EHLO client.example.org"[..],
            b"MAIL FROM:<a@example.org>",
            b"HELO x",
            b"USER bob",
            b"QUIT",
            b"",
            b"GET",
        ] {
            assert!(!starts_with_method(line), "{line:?}");
            assert!(!is_request_line(line), "{line:?}");
        }
    }

    #[test]
    fn the_request_line_needs_every_part() {
        // A method and a space are enough for the weak form, not for the exact one.
        assert!(starts_with_method(b"GET "));
        assert!(!is_request_line(b"GET "));
        assert!(is_request_line(b"GET /index.html HTTP/1.0"));
        assert!(is_request_line(b"OPTIONS * HTTP/1.1"));
        assert!(is_request_line(b"GET http://127.0.0.1:143/ HTTP/1.1"));
        assert!(is_request_line(b"CONNECT 127.0.0.1:25 HTTP/1.1"));
        for line in [
            &b"GET NOOP"[..],
            b"GET NOOP HTTP/1.1",
            b"GET SELECT HTTP/1.1",
            b"GET / HTTP/1",
            b"GET / HTTP/1.1 ",
            b"GET / HTTP/a.1",
            b"GET / http/1.1",
            b"GET  / HTTP/1.1",
            b"GET / / HTTP/1.1",
            b"GET / HTTP/1.10",
            b"GET /\x7f HTTP/1.1",
            b"GET / ",
        ] {
            assert!(!is_request_line(line), "{line:?}");
        }
    }
}
