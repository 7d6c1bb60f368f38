//! Trace header fields (RFC 5321 section 4.4): the `Received:` line an SMTP or LMTP server
//! prepends to every message it accepts, and the `Return-Path:` line of final delivery.
//!
//! Sans-IO like the rest of the crate: the time of receipt is an argument ([`DateTime`]), never
//! read from a clock, and the result is a `String` for the caller to write in front of the
//! message.
//!
//! Nothing a peer sends can break the header out of its line. The values come in as the
//! crate's validated types ([`Host`], [`Domain`], [`Mailbox`], [`ReversePath`]) or as a
//! [`TraceId`], whose constructor refuses anything but atom characters, so none holds CR, LF or
//! another control character. On top of that the builder writes the characters that are legal
//! in SMTP but could mislead a reader of trace fields (white space inside a quoted local
//! part, and `(`, `)`, `;`, `<`, `>`, which a quoted local part or a general address literal
//! may hold) as `?`, and bounds every value, so every line is at most 998 octets (RFC 5322
//! section 2.1.1). The header is folded between clauses so that a line is at most
//! [`FOLD_AT`] (78) octets wherever the clauses allow.
//!
//! # Example
//!
//! ```
//! use smtp_proto::trace::{DateTime, Protocol, Received, TraceId, return_path};
//! use smtp_proto::server::HelloVerb;
//! use smtp_proto::{Domain, Host, Mailbox, ReversePath};
//!
//! let helo = Host::Domain(Domain::new("client.example.org").unwrap());
//! let by = Domain::new("mx.example.com").unwrap();
//! let id = TraceId::new("0123456789abcdef").unwrap();
//! let rcpt = Mailbox::parse("alice@example.com").unwrap();
//! // The time of receipt comes from the caller: `DateTime::from(SystemTime::now())`.
//! let date = DateTime::from_unix_seconds(1_057_056_757);
//!
//! let received = Received::new(&helo, "192.0.2.7".parse().unwrap(), &by, date)
//!     .protocol(Protocol::for_session(HelloVerb::Ehlo, true, false))
//!     .id(&id)
//!     .recipient(&rcpt)
//!     .header();
//! assert_eq!(
//!     received,
//!     "Received: from client.example.org ([192.0.2.7]) by mx.example.com with ESMTPS\r\n\
//!      \tid 0123456789abcdef for <alice@example.com>; Tue, 1 Jul 2003 10:52:37 +0000\r\n"
//! );
//!
//! let sender = ReversePath::Mailbox(Mailbox::parse("bob@example.org").unwrap());
//! assert_eq!(return_path(&sender), "Return-Path: <bob@example.org>\r\n");
//! assert_eq!(return_path(&ReversePath::Null), "Return-Path: <>\r\n");
//!
//! // An id is an atom: no way to smuggle a second header line through it.
//! assert!(TraceId::new("x\r\nX-Injected: yes").is_err());
//! ```

use std::fmt;
use std::net::IpAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::server::HelloVerb;
use crate::{Domain, Host, Mailbox, ReversePath, ValueError};

/// The line length the builder folds at when the clauses allow: RFC 5322 section 2.1.1 asks
/// for lines of at most 78 octets (SHOULD) and at most 998 (MUST), CRLF excluded.
pub const FOLD_AT: usize = 78;

/// The longest HELO name written, in characters: a `Domain` is at most 255 octets (RFC 5321
/// section 4.5.3.1.2); longer general address literals are cut.
const MAX_HELO: usize = 255;

/// The longest path in the `for` and `Return-Path:` fields, in characters (RFC 5321 section
/// 4.5.3.1.3: a path is at most 256 octets).
const MAX_PATH: usize = 256;

/// The longest transaction id [`TraceId::new`] accepts, in characters.
pub const MAX_ID: usize = 64;

/// The `with` keyword of a `Received:` header: how the message came in (RFC 3848 and the
/// IANA "Mail Transmission Types" registry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Protocol {
    /// `SMTP`: greeted with HELO.
    Smtp,
    /// `ESMTP`: EHLO, no TLS, no AUTH.
    Esmtp,
    /// `ESMTPA`: EHLO with AUTH (RFC 3848).
    Esmtpa,
    /// `ESMTPS`: EHLO with STARTTLS or implicit TLS (RFC 3848).
    Esmtps,
    /// `ESMTPSA`: EHLO with TLS and AUTH (RFC 3848).
    Esmtpsa,
    /// `LMTP` (RFC 3848).
    Lmtp,
    /// `LMTPA`: LMTP with AUTH (RFC 3848).
    Lmtpa,
    /// `LMTPS`: LMTP with TLS (RFC 3848).
    Lmtps,
    /// `LMTPSA`: LMTP with TLS and AUTH (RFC 3848).
    Lmtpsa,
}

impl Protocol {
    /// The keyword for a session greeted with `verb`, over TLS or not, authenticated or not.
    /// A session greeted with HELO is `SMTP` whatever else holds (RFC 3848 defines the
    /// suffixes for ESMTP and LMTP only).
    ///
    /// ```
    /// use smtp_proto::server::HelloVerb;
    /// use smtp_proto::trace::Protocol;
    ///
    /// assert_eq!(Protocol::for_session(HelloVerb::Ehlo, true, true), Protocol::Esmtpsa);
    /// assert_eq!(Protocol::for_session(HelloVerb::Lhlo, false, false).as_str(), "LMTP");
    /// assert_eq!(Protocol::for_session(HelloVerb::Helo, true, true), Protocol::Smtp);
    /// ```
    pub fn for_session(verb: HelloVerb, tls: bool, authenticated: bool) -> Protocol {
        match (verb, tls, authenticated) {
            (HelloVerb::Helo, _, _) => Protocol::Smtp,
            (HelloVerb::Ehlo, false, false) => Protocol::Esmtp,
            (HelloVerb::Ehlo, false, true) => Protocol::Esmtpa,
            (HelloVerb::Ehlo, true, false) => Protocol::Esmtps,
            (HelloVerb::Ehlo, true, true) => Protocol::Esmtpsa,
            (HelloVerb::Lhlo, false, false) => Protocol::Lmtp,
            (HelloVerb::Lhlo, false, true) => Protocol::Lmtpa,
            (HelloVerb::Lhlo, true, false) => Protocol::Lmtps,
            (HelloVerb::Lhlo, true, true) => Protocol::Lmtpsa,
        }
    }

    /// The registered keyword, upper case.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Smtp => "SMTP",
            Protocol::Esmtp => "ESMTP",
            Protocol::Esmtpa => "ESMTPA",
            Protocol::Esmtps => "ESMTPS",
            Protocol::Esmtpsa => "ESMTPSA",
            Protocol::Lmtp => "LMTP",
            Protocol::Lmtpa => "LMTPA",
            Protocol::Lmtps => "LMTPS",
            Protocol::Lmtpsa => "LMTPSA",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The value of the `id` clause: 1 to [`MAX_ID`] characters, each an RFC 5322 `atext`
/// character (ASCII letters, digits and ``!#$%&'*+-/=?^_`{|}~``), a `.`, or a non-ASCII
/// character (RFC 6532). So it is one token in any reader's eyes, and holds no CR, LF, white
/// space, `;` or parenthesis.
///
/// ```
/// use smtp_proto::trace::TraceId;
///
/// assert_eq!(TraceId::new("1733.M5P7Q0R00ff.mx.example").unwrap().as_str(), "1733.M5P7Q0R00ff.mx.example");
/// for bad in ["", "a b", "x;y", "(c)", "a\r\nb", "<id@x>"] {
///     assert!(TraceId::new(bad).is_err(), "{bad:?}");
/// }
/// assert!(TraceId::new("i".repeat(65)).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TraceId<'a>(std::borrow::Cow<'a, str>);

impl<'a> TraceId<'a> {
    /// Validates `id`. The error's offset is the byte offset of the first character refused
    /// (or of the first character past [`MAX_ID`], or 0 for an empty id).
    pub fn new(id: impl Into<std::borrow::Cow<'a, str>>) -> Result<Self, ValueError> {
        let id = id.into();
        let error = |offset| ValueError {
            rule: "trace id",
            offset,
        };
        if id.is_empty() {
            return Err(error(0));
        }
        for (n, (at, c)) in id.char_indices().enumerate() {
            if n == MAX_ID || !is_id_char(c) {
                return Err(error(at));
            }
        }
        Ok(TraceId(id))
    }

    /// The id as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Detaches the value from the input it was borrowed from.
    pub fn into_owned(self) -> TraceId<'static> {
        TraceId(std::borrow::Cow::Owned(self.0.into_owned()))
    }
}

impl fmt::Display for TraceId<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn is_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || "!#$%&'*+-/=?^_`{|}~.".contains(c)
        || (!c.is_ascii() && !c.is_control() && !c.is_whitespace())
}

/// A point in time, written as an RFC 5322 section 3.3 `date-time` in UTC:
/// `Thu, 1 Jan 1970 00:00:00 +0000`. Sub-second parts are dropped (towards the earlier
/// second).
///
/// ```
/// use smtp_proto::trace::DateTime;
/// use std::time::{Duration, UNIX_EPOCH};
///
/// let date = DateTime::from(UNIX_EPOCH + Duration::from_millis(1_234_567_890_500));
/// assert_eq!(date.to_string(), "Fri, 13 Feb 2009 23:31:30 +0000");
/// assert_eq!(date, DateTime::from_unix_seconds(1_234_567_890));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DateTime {
    /// Seconds since 1970-01-01T00:00:00Z, negative before.
    unix: i64,
}

impl DateTime {
    /// The time `seconds` after (before, if negative) 1970-01-01T00:00:00Z.
    pub fn from_unix_seconds(seconds: i64) -> DateTime {
        DateTime { unix: seconds }
    }

    /// Seconds since 1970-01-01T00:00:00Z, negative before.
    pub fn unix_seconds(self) -> i64 {
        self.unix
    }
}

impl From<SystemTime> for DateTime {
    fn from(t: SystemTime) -> DateTime {
        let unix = match t.duration_since(UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            Err(e) => {
                // Before 1970: round towards the earlier whole second.
                let d = e.duration();
                let whole = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
                -whole - i64::from(d.subsec_nanos() > 0)
            }
        };
        DateTime { unix }
    }
}

impl fmt::Display for DateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        let days = self.unix.div_euclid(86_400);
        let of_day = self.unix.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        // 1970-01-01 was a Thursday.
        let weekday = DAYS[usize::try_from((days + 4).rem_euclid(7)).unwrap_or(0)];
        let month = MONTHS[usize::try_from(month - 1).unwrap_or(0)];
        write!(
            f,
            "{weekday}, {day} {month} {year:04} {:02}:{:02}:{:02} +0000",
            of_day / 3600,
            of_day / 60 % 60,
            of_day % 60
        )
    }
}

/// The proleptic Gregorian date (year, month 1-12, day 1-31) of a day count from 1970-01-01:
/// the year is shifted to start in March, so the leap day comes last, and counted in 400-year
/// eras of 146,097 days.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468; // days from 0000-03-01
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // day of the era, [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // day of the March year, [0, 365]
    let mp = (5 * doy + 2) / 153; // month counted from March, [0, 11]
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// A `Received:` header (RFC 5321 section 4.4), built clause by clause:
///
/// ```text
/// Received: from HELO-NAME ([client-ip]) by HOSTNAME with ESMTPS id ID
///         for <rcpt>; Tue, 1 Jul 2003 10:52:37 +0000
/// ```
///
/// The `from` and `by` clauses and the date are required; `with`, `id` and `for` are added
/// by the methods of the same meaning. See the [module documentation](self) for an example
/// and for what is escaped.
#[derive(Debug, Clone)]
pub struct Received<'a> {
    helo: &'a Host<'a>,
    client_ip: IpAddr,
    by: &'a Domain<'a>,
    date: DateTime,
    protocol: Option<Protocol>,
    id: Option<&'a TraceId<'a>>,
    recipient: Option<&'a Mailbox<'a>>,
}

impl<'a> Received<'a> {
    /// The required parts: the name the client gave in HELO, EHLO or LHLO, the address it
    /// connected from (written as an address literal, an IPv4-mapped IPv6 address as IPv4),
    /// this server's name, and when the message was received.
    pub fn new(helo: &'a Host<'a>, client_ip: IpAddr, by: &'a Domain<'a>, date: DateTime) -> Self {
        Received {
            helo,
            client_ip,
            by,
            date,
            protocol: None,
            id: None,
            recipient: None,
        }
    }

    /// Adds the `with` clause.
    #[must_use]
    pub fn protocol(mut self, protocol: Protocol) -> Self {
        self.protocol = Some(protocol);
        self
    }

    /// Adds the `id` clause.
    #[must_use]
    pub fn id(mut self, id: &'a TraceId<'a>) -> Self {
        self.id = Some(id);
        self
    }

    /// Adds the `for` clause. Give it only when the message has exactly one recipient, so
    /// the header does not disclose the other, perhaps blind, recipients (RFC 5321 section
    /// 7.2).
    #[must_use]
    pub fn recipient(mut self, recipient: &'a Mailbox<'a>) -> Self {
        self.recipient = Some(recipient);
        self
    }

    /// The header field, ending in CRLF, folded (CRLF TAB) before a clause that would take
    /// its line past [`FOLD_AT`] octets.
    pub fn header(&self) -> String {
        let ip = match self.client_ip.to_canonical() {
            IpAddr::V4(v4) => format!("[{v4}]"),
            IpAddr::V6(v6) => format!("[IPv6:{v6}]"),
        };
        let mut clauses = vec![
            format!("from {}", neutralize(&self.helo.to_string(), MAX_HELO)),
            format!("({ip})"),
            format!("by {}", self.by),
        ];
        if let Some(protocol) = self.protocol {
            clauses.push(format!("with {protocol}"));
        }
        if let Some(id) = self.id {
            clauses.push(format!("id {id}"));
        }
        if let Some(rcpt) = self.recipient {
            clauses.push(format!("for <{}>", neutralize(&rcpt.to_string(), MAX_PATH)));
        }
        if let Some(last) = clauses.last_mut() {
            last.push(';');
        }
        clauses.push(self.date.to_string());
        fold("Received:", &clauses)
    }
}

impl fmt::Display for Received<'_> {
    /// The same text as [`Received::header`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.header())
    }
}

/// The `Return-Path:` header field of final delivery (RFC 5321 section 4.4), ending in CRLF:
/// `Return-Path: <sender@example.org>`, or `Return-Path: <>` for the null reverse path.
/// The path is escaped and bounded as the `for` clause of [`Received`] is.
pub fn return_path(reverse_path: &ReversePath<'_>) -> String {
    let path = match reverse_path {
        ReversePath::Null => String::new(),
        ReversePath::Mailbox(mailbox) => neutralize(&mailbox.to_string(), MAX_PATH),
    };
    format!("Return-Path: <{path}>\r\n")
}

/// Cuts `s` to `max` characters and writes every character that could end or restructure a
/// trace field (controls, white space, `(`, `)`, `;`, `<`, `>`) as `?`.
fn neutralize(s: &str, max: usize) -> String {
    s.chars()
        .take(max)
        .map(|c| {
            if c.is_control() || c.is_whitespace() || "();<>".contains(c) {
                '?'
            } else {
                c
            }
        })
        .collect()
}

/// Joins `name` and `parts` with spaces, folding (CRLF TAB) before a part that would take the
/// line past [`FOLD_AT`] octets; ends with CRLF. A part is never split.
fn fold(name: &str, parts: &[String]) -> String {
    let mut out = String::from(name);
    let mut line_len = name.len();
    for (n, part) in parts.iter().enumerate() {
        if n > 0 && line_len + 1 + part.len() > FOLD_AT {
            out.push_str("\r\n\t");
            line_len = 1;
        } else {
            out.push(' ');
            line_len += 1;
        }
        out.push_str(part);
        line_len += part.len();
    }
    out.push_str("\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AddressLiteral, GeneralLiteral, LocalPart};
    use std::time::Duration;

    const JULY_2003: i64 = 1_057_056_757;

    fn domain(s: &str) -> Domain<'static> {
        Domain::new(s.to_owned()).unwrap()
    }

    fn host(s: &str) -> Host<'static> {
        Host::Domain(domain(s))
    }

    fn date() -> DateTime {
        DateTime::from_unix_seconds(JULY_2003)
    }

    /// Every line ends in CRLF, no bare CR or LF, lines after the first are continuation
    /// lines, lines are at most 998 octets, and exactly one `;` separates the date.
    fn assert_well_formed(header: &str) {
        assert!(header.starts_with("Received: from "), "{header:?}");
        assert!(header.ends_with("\r\n"), "{header:?}");
        let body = &header[..header.len() - 2];
        for (n, line) in body.split("\r\n").enumerate() {
            assert!(!line.contains('\r') && !line.contains('\n'), "{header:?}");
            assert!(line.len() <= 998, "{} octets: {header:?}", line.len());
            if n > 0 {
                assert!(line.starts_with('\t'), "{header:?}");
            }
        }
        assert_eq!(header.matches(';').count(), 1, "{header:?}");
    }

    #[test]
    fn known_answers() {
        let (helo, by) = (host("client.example.org"), domain("mx.example.com"));
        let id = TraceId::new("0123456789abcdef").unwrap();
        let rcpt = Mailbox::parse("alice@example.com").unwrap();
        let full = Received::new(&helo, "192.0.2.7".parse().unwrap(), &by, date())
            .protocol(Protocol::Esmtps)
            .id(&id)
            .recipient(&rcpt)
            .header();
        assert_eq!(
            full,
            "Received: from client.example.org ([192.0.2.7]) by mx.example.com with ESMTPS\r\n\
             \tid 0123456789abcdef for <alice@example.com>; Tue, 1 Jul 2003 10:52:37 +0000\r\n"
        );
        assert_well_formed(&full);

        let (a, b, one) = (host("a"), domain("b"), TraceId::new("1").unwrap());
        let short = Received::new(&a, "::ffff:192.0.2.1".parse().unwrap(), &b, date())
            .protocol(Protocol::Lmtp)
            .id(&one)
            .header();
        assert_eq!(
            short,
            "Received: from a ([192.0.2.1]) by b with LMTP id 1;\r\n\
             \tTue, 1 Jul 2003 10:52:37 +0000\r\n"
        );

        let v6 = Received::new(&a, "2001:db8::1".parse().unwrap(), &b, date()).header();
        assert_eq!(
            v6,
            "Received: from a ([IPv6:2001:db8::1]) by b; Tue, 1 Jul 2003 10:52:37 +0000\r\n"
        );
        // Display is the same text.
        let received = Received::new(&a, "2001:db8::1".parse().unwrap(), &b, date());
        assert_eq!(received.to_string(), v6);

        let literal = Host::Literal(AddressLiteral::new("[198.51.100.3]").unwrap());
        let from_literal = Received::new(&literal, "198.51.100.3".parse().unwrap(), &b, date())
            .protocol(Protocol::Smtp)
            .header();
        assert_eq!(
            from_literal,
            "Received: from [198.51.100.3] ([198.51.100.3]) by b with SMTP;\r\n\
             \tTue, 1 Jul 2003 10:52:37 +0000\r\n"
        );
    }

    #[test]
    fn protocol_keywords() {
        use HelloVerb::{Ehlo, Helo, Lhlo};
        let table = [
            (Helo, false, false, "SMTP"),
            (Helo, true, true, "SMTP"),
            (Ehlo, false, false, "ESMTP"),
            (Ehlo, false, true, "ESMTPA"),
            (Ehlo, true, false, "ESMTPS"),
            (Ehlo, true, true, "ESMTPSA"),
            (Lhlo, false, false, "LMTP"),
            (Lhlo, false, true, "LMTPA"),
            (Lhlo, true, false, "LMTPS"),
            (Lhlo, true, true, "LMTPSA"),
        ];
        for (verb, tls, auth, keyword) in table {
            let protocol = Protocol::for_session(verb, tls, auth);
            assert_eq!(protocol.as_str(), keyword, "{verb:?} {tls} {auth}");
            assert_eq!(protocol.to_string(), keyword);
        }
    }

    #[test]
    fn injection_attempts_are_refused() {
        // Every constructor a caller could feed a peer's text through refuses line breaks.
        for hostile in [
            "evil\r\nX-Injected: yes",
            "evil\nX-Injected: yes",
            "evil\rX",
            "a\0b",
        ] {
            assert!(TraceId::new(hostile).is_err(), "{hostile:?}");
            assert!(Domain::new(hostile).is_err(), "{hostile:?}");
            assert!(Mailbox::parse(hostile).is_err(), "{hostile:?}");
            assert!(LocalPart::from_unquoted(hostile).is_err(), "{hostile:?}");
            assert!(GeneralLiteral::new("x", hostile).is_err(), "{hostile:?}");
        }
        // The id is one token: no clause or comment can be appended through it.
        for hostile in [
            "a b", "a;b", "a(b", "a)b", "<a@b>", "a\tb", "a,b", "a\"b", "a\\b",
        ] {
            assert!(TraceId::new(hostile).is_err(), "{hostile:?}");
        }
        assert_eq!(
            TraceId::new("abc d"),
            Err(ValueError {
                rule: "trace id",
                offset: 3
            })
        );
        assert_eq!(TraceId::new("").unwrap_err().offset, 0);
        assert_eq!(TraceId::new("é".repeat(65)).unwrap_err().offset, 128);
        assert!(TraceId::new("é".repeat(64)).is_ok());
    }

    #[test]
    fn legal_but_confusing_characters_are_neutralized() {
        // A general literal may hold `(`, `)`, `;`, `<` and `>`; a quoted local part also
        // white space. None of them reaches the header.
        let literal = Host::Literal(AddressLiteral::General(
            GeneralLiteral::new("x-tag", "a(b);<c>").unwrap(),
        ));
        let by = domain("mx.example");
        let rcpt = Mailbox::new(
            LocalPart::from_unquoted("x y;(z)<w>").unwrap(),
            host("example.com"),
        );
        let header = Received::new(&literal, "192.0.2.1".parse().unwrap(), &by, date())
            .protocol(Protocol::Esmtp)
            .recipient(&rcpt)
            .header();
        assert_eq!(
            header,
            "Received: from [x-tag:a?b???c?] ([192.0.2.1]) by mx.example with ESMTP\r\n\
             \tfor <\"x?y??z??w?\"@example.com>; Tue, 1 Jul 2003 10:52:37 +0000\r\n"
        );
        assert_well_formed(&header);
        let sender = ReversePath::Mailbox(rcpt.clone());
        assert_eq!(
            return_path(&sender),
            "Return-Path: <\"x?y??z??w?\"@example.com>\r\n"
        );
    }

    #[test]
    fn folding_keeps_lines_under_78_and_998_octets() {
        // Clauses fit in 78 octets: every line does.
        let (helo, by) = (host("client.example.org"), domain("mx.example.com"));
        let id = TraceId::new("i".repeat(MAX_ID)).unwrap();
        let rcpt = Mailbox::parse("alice@example.com").unwrap();
        let header = Received::new(&helo, "2001:db8::1".parse().unwrap(), &by, date())
            .protocol(Protocol::Esmtpsa)
            .id(&id)
            .recipient(&rcpt)
            .header();
        assert_well_formed(&header);
        for line in header.trim_end().split("\r\n") {
            assert!(line.len() <= FOLD_AT, "{} octets: {line:?}", line.len());
        }
        assert_eq!(
            header,
            format!(
                "Received: from client.example.org ([IPv6:2001:db8::1]) by mx.example.com\r\n\
                 \twith ESMTPSA\r\n\
                 \tid {}\r\n\
                 \tfor <alice@example.com>; Tue, 1 Jul 2003 10:52:37 +0000\r\n",
                "i".repeat(MAX_ID)
            )
        );

        // The longest values every type allows: no line reaches 998 octets, and each value
        // is cut to its limit (HELO 255 characters, path 256) but never split over lines.
        let long_label = |c: &str| [c.repeat(63).as_str(); 4].join(".");
        let (long_helo, long_by) = (host(&long_label("h")), domain(&long_label("n")));
        let long_literal = Host::Literal(AddressLiteral::General(
            GeneralLiteral::new("x", &"l".repeat(2000)).unwrap(),
        ));
        let long_rcpt = Mailbox::new(
            LocalPart::new("r".repeat(64)).unwrap(),
            Host::Domain(domain(&long_label("d"))),
        );
        let long_id = TraceId::new("é".repeat(MAX_ID)).unwrap();
        for helo in [&long_helo, &long_literal] {
            let header = Received::new(helo, "2001:db8::1".parse().unwrap(), &long_by, date())
                .protocol(Protocol::Lmtpsa)
                .id(&long_id)
                .recipient(&long_rcpt)
                .header();
            assert_well_formed(&header);
            let words: Vec<&str> = header.split_whitespace().collect();
            let after = |word: &str| words[words.iter().position(|w| *w == word).unwrap() + 1];
            assert_eq!(after("from").chars().count(), MAX_HELO);
            assert_eq!(after("by"), long_label("n"));
            assert_eq!(after("id"), "é".repeat(MAX_ID));
            let path = format!("<{}>;", &long_rcpt.to_string()[..MAX_PATH]);
            assert_eq!(after("for"), path);
        }

        // Octets, not characters, count towards 78: a clause of 38 two-octet characters
        // is folded where 38 one-octet characters just fit (78 octets with the `;`).
        let (a, b) = (host("a"), domain("b"));
        let ascii = TraceId::new("x".repeat(38)).unwrap();
        let utf8 = TraceId::new("é".repeat(38)).unwrap();
        let fits = Received::new(&a, "192.0.2.1".parse().unwrap(), &b, date())
            .id(&ascii)
            .header();
        let folds = Received::new(&a, "192.0.2.1".parse().unwrap(), &b, date())
            .id(&utf8)
            .header();
        assert!(fits.starts_with(&format!(
            "Received: from a ([192.0.2.1]) by b id {};",
            "x".repeat(38)
        )));
        assert!(
            folds.starts_with("Received: from a ([192.0.2.1]) by b\r\n\tid "),
            "{folds:?}"
        );
    }

    #[test]
    fn return_path_known_answers() {
        let sender = |s: &str| ReversePath::Mailbox(Mailbox::parse(s).unwrap().into_owned());
        assert_eq!(
            return_path(&sender("bob@example.org")),
            "Return-Path: <bob@example.org>\r\n"
        );
        assert_eq!(return_path(&ReversePath::Null), "Return-Path: <>\r\n");
        // Longer than a path may be: cut to 256 characters.
        let long = Mailbox::new(
            LocalPart::new("s".repeat(64)).unwrap(),
            Host::Domain(domain(&["d".repeat(63).as_str(); 4].join("."))),
        );
        let header = return_path(&ReversePath::Mailbox(long.clone()));
        assert_eq!(
            header,
            format!("Return-Path: <{}>\r\n", &long.to_string()[..256])
        );
    }

    #[test]
    fn dates_match_known_values() {
        for (secs, text) in [
            (0, "Thu, 1 Jan 1970 00:00:00 +0000"),
            (-1, "Wed, 31 Dec 1969 23:59:59 +0000"),
            (68_169_600, "Tue, 29 Feb 1972 00:00:00 +0000"),
            (951_782_400, "Tue, 29 Feb 2000 00:00:00 +0000"),
            (JULY_2003, "Tue, 1 Jul 2003 10:52:37 +0000"),
            (1_234_567_890, "Fri, 13 Feb 2009 23:31:30 +0000"),
            (1_709_251_199, "Thu, 29 Feb 2024 23:59:59 +0000"),
            (4_107_542_400, "Mon, 1 Mar 2100 00:00:00 +0000"),
            (253_402_300_799, "Fri, 31 Dec 9999 23:59:59 +0000"),
        ] {
            assert_eq!(
                DateTime::from_unix_seconds(secs).to_string(),
                text,
                "{secs}"
            );
        }
        // From SystemTime, sub-second parts are truncated, before 1970 towards the earlier
        // second.
        let at = |t: SystemTime| DateTime::from(t).to_string();
        assert_eq!(
            at(UNIX_EPOCH + Duration::from_millis(1_999)),
            "Thu, 1 Jan 1970 00:00:01 +0000"
        );
        assert_eq!(
            at(UNIX_EPOCH - Duration::from_millis(500)),
            "Wed, 31 Dec 1969 23:59:59 +0000"
        );
        assert_eq!(
            at(UNIX_EPOCH - Duration::from_secs(1)),
            "Wed, 31 Dec 1969 23:59:59 +0000"
        );
        // The extremes format without overflowing.
        for secs in [i64::MIN, i64::MAX] {
            assert!(
                DateTime::from_unix_seconds(secs)
                    .to_string()
                    .ends_with(" +0000")
            );
        }
        // Every day for 800 years round-trips through a naive day counter.
        let mut days = 0i64;
        for year in 1970..2770 {
            let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
            let february = if leap { 29 } else { 28 };
            let lengths = [31, february, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
            for (m, &len) in lengths.iter().enumerate() {
                for d in 1..=len {
                    assert_eq!(civil_from_days(days), (year, m as i64 + 1, d));
                    days += 1;
                }
            }
        }
    }
}
