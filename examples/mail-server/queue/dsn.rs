//! Delivery status notifications (RFC 3464): the bounce sent to the sender when recipients
//! fail for good, and the delay notice sent once while they are still being retried.
//!
//! The notification is a `multipart/report; report-type=delivery-status` message (RFC 6522)
//! of three parts: a human-readable explanation, the `message/delivery-status` fields (one
//! `Reporting-MTA` and `Arrival-Date`, then per recipient `Final-Recipient`, `Action`,
//! `Status`, and when known `Remote-MTA` and `Diagnostic-Code`), and the original message's
//! headers as `text/rfc822-headers` (the body is not returned). When an address, the
//! original headers, or a remote's reply or name are not ASCII, the parts are `message/global-delivery-status` and
//! `message/global-headers` with `utf-8` address types (RFC 6533). It is sent with the null
//! reverse path (RFC 5321 section 4.5.5), so it is never bounced itself.

use std::fmt::Write as _;
use std::time::SystemTime;

use smtp_proto::trace::DateTime;

/// The most octets of the original header block a notification carries: a header block
/// beyond this is cut at a line boundary (RFC 3462 allows returning part of the headers).
pub const MAX_RETURNED_HEADERS: usize = 64 * 1024;

/// What happened to a recipient a notification reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Delivery failed for good.
    Failed,
    /// Delivery is still being retried.
    Delayed,
}

/// One recipient of a notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The recipient as the sender gave it.
    pub address: String,
    /// Failed or delayed.
    pub action: Action,
    /// The enhanced status code (`5.1.1`, `4.4.7`).
    pub status: String,
    /// The remote MTA that answered, if any.
    pub remote: String,
    /// The remote reply (`550 5.1.1 no such user`) or why none came.
    pub diagnostic: String,
}

/// Everything a notification says.
#[derive(Debug, Clone)]
pub struct Report<'a> {
    /// This server's name (`Reporting-MTA`, the `From:` domain, the `Message-ID`).
    pub hostname: &'a str,
    /// The queue id of the original message.
    pub id: &'a str,
    /// Who the notification goes to: the original sender.
    pub to: &'a str,
    /// When the original arrived.
    pub arrival: SystemTime,
    /// When the notification is made.
    pub now: SystemTime,
    /// For a delay notice: when the server gives up.
    pub retry_until: Option<SystemTime>,
    /// The recipients it reports, all with the same action.
    pub lines: &'a [Line],
    /// The original message's header block (up to its empty line), possibly cut.
    pub headers: &'a [u8],
}

/// The header block at the start of `message` (without the empty line that ends it), cut at
/// a line boundary to at most [`MAX_RETURNED_HEADERS`] octets.
pub fn header_block(message: &[u8]) -> &[u8] {
    let end = message
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(message.len(), |i| i + 2);
    let block = message.get(..end).unwrap_or(message);
    if block.len() <= MAX_RETURNED_HEADERS {
        return block;
    }
    let head = block.get(..MAX_RETURNED_HEADERS).unwrap_or(block);
    let cut = head
        .windows(2)
        .rposition(|w| w == b"\r\n")
        .map_or(0, |i| i + 2);
    head.get(..cut).unwrap_or_default()
}

/// `text` as a header value: CR, LF and other controls become spaces.
fn value(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// The `Remote-MTA` value of a remote as the delivery side names it (`name[address]:port`): the
/// name alone, and an address in brackets (`[192.0.2.7]`) when the name is one.
fn mta_name(remote: &str) -> String {
    let name = remote.split('[').next().unwrap_or(remote);
    let name = if name.is_empty() { remote } else { name };
    match name.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(ip)) => format!("[{ip}]"),
        Ok(std::net::IpAddr::V6(ip)) => format!("[IPv6:{ip}]"),
        Err(_) => value(name),
    }
}

/// Whether `text` is an SMTP reply (`250 ...`, `550-...`): then its diagnostic type is `smtp`.
fn is_reply(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() >= 3
        && b[..3].iter().all(u8::is_ascii_digit)
        && matches!(b.get(3), None | Some(b' ' | b'-'))
}

/// The longest line a notification has, in octets without the CRLF (RFC 5322 section
/// 2.1.1): longer lines, which remote text or a submitted header line can make, are folded.
pub const MAX_LINE: usize = 998;

/// `message` (CRLF lines) with each line longer than [`MAX_LINE`] octets folded: cut before
/// its last space or tab that fits, or, in a run without one, between two UTF-8 characters,
/// the continuation starting with white space (a space is added where there was none), so
/// that unfolding gives the text back.
fn fold_long_lines(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len());
    let mut rest = message;
    loop {
        let end = rest.windows(2).position(|w| w == b"\r\n");
        let line = end.and_then(|i| rest.get(..i)).unwrap_or(rest);
        fold_line(&mut out, line);
        match end.and_then(|i| rest.get(i + 2..)) {
            Some(next) => {
                out.extend_from_slice(b"\r\n");
                rest = next;
            }
            None => return out,
        }
    }
}

/// Appends `line` (no CRLF in it) to `out`, folded into lines of at most [`MAX_LINE`] octets.
fn fold_line(out: &mut Vec<u8>, mut line: &[u8]) {
    let mut first = true;
    loop {
        let lead = !first && !matches!(line.first(), Some(b' ' | b'\t'));
        if lead {
            out.push(b' ');
        }
        let room = MAX_LINE - usize::from(lead);
        if line.len() <= room {
            out.extend_from_slice(line);
            return;
        }
        // Before the last white space that leaves something on this line...
        let at_space = line
            .get(1..=room)
            .and_then(|head| head.iter().rposition(|b| matches!(b, b' ' | b'\t')))
            .map(|i| i + 1);
        // ...else before the last octet that starts a UTF-8 character.
        let at_char = || {
            (1..=room)
                .rev()
                .find(|&i| line.get(i).is_some_and(|b| (b & 0xc0) != 0x80))
                .unwrap_or(room)
        };
        let cut = at_space.unwrap_or_else(at_char);
        let (head, tail) = line.split_at_checked(cut).unwrap_or((line, &[]));
        out.extend_from_slice(head);
        out.extend_from_slice(b"\r\n");
        line = tail;
        first = false;
    }
}

/// The complete notification message, CRLF line endings, ready to deliver with the null reverse
/// path; no line is longer than [`MAX_LINE`] octets, whatever the remote said or the original
/// headers hold.
pub fn build(report: &Report<'_>) -> Vec<u8> {
    let failed = report.lines.iter().any(|l| l.action == Action::Failed);
    // RFC 3464's parts are 7-bit: UTF-8 anywhere (an address, the headers, a remote's reply
    // or name) needs RFC 6533's global types.
    let global = !report.headers.is_ascii()
        || !report.to.is_ascii()
        || report
            .lines
            .iter()
            .any(|l| !l.address.is_ascii() || !l.diagnostic.is_ascii() || !l.remote.is_ascii());
    let address_type = if global { "utf-8" } else { "rfc822" };
    let boundary = format!("=_sansmail-dsn_{}", value(report.id).replace(' ', "_"));
    let date = DateTime::from(report.now);
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = write!(
        out,
        "From: Mail Delivery System <MAILER-DAEMON@{host}>\r\n\
         To: <{to}>\r\n\
         Subject: {subject}\r\n\
         Date: {date}\r\n\
         Message-ID: <{id}.{kind}.{made}@{host}>\r\n\
         Auto-Submitted: auto-replied\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type={report_type};\r\n\
         \tboundary=\"{boundary}\"\r\n\
         \r\n\
         This is a delivery status notification in MIME format.\r\n\
         \r\n\
         --{boundary}\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         Content-Transfer-Encoding: 8bit\r\n\
         \r\n",
        host = report.hostname,
        to = value(report.to),
        subject = if failed {
            "Undelivered Mail Returned to Sender"
        } else {
            "Delayed Mail (still being retried)"
        },
        id = value(report.id),
        kind = if failed { "bounce" } else { "delay" },
        // A message can have several bounces (recipients failing at different attempts):
        // when each was made keeps their Message-IDs apart.
        made = report
            .now
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
        report_type = if global {
            "global-delivery-status"
        } else {
            "delivery-status"
        },
    );
    out.push_str(&format!(
        "This is the mail system at {}.\r\n\r\n",
        report.hostname
    ));
    if failed {
        out.push_str(
            "Your message could not be delivered to one or more recipients. It is attached\r\n\
             below (its headers only). The reasons:\r\n\r\n",
        );
    } else {
        let until = report
            .retry_until
            .map_or_else(String::new, |t| format!(" until {}", DateTime::from(t)));
        out.push_str(&format!(
            "Your message could not be delivered yet to one or more recipients. This is only\r\n\
             a warning: you do not need to send it again. The server keeps trying{until}.\r\n\r\n"
        ));
    }
    for line in report.lines {
        let why = match (line.diagnostic.is_empty(), line.remote.is_empty()) {
            (true, _) => format!("status {}", line.status),
            (false, true) => value(&line.diagnostic),
            (false, false) => format!("{} said: {}", value(&line.remote), value(&line.diagnostic)),
        };
        out.push_str(&format!("<{}>: {}\r\n", value(&line.address), why));
    }
    let _ = write!(
        out,
        "\r\n--{boundary}\r\n\
         Content-Type: message/{status_type}\r\n\
         \r\n\
         Reporting-MTA: dns; {host}\r\n\
         X-Sansmail-Queue-ID: {id}\r\n\
         Arrival-Date: {arrival}\r\n",
        status_type = if global {
            "global-delivery-status"
        } else {
            "delivery-status"
        },
        host = report.hostname,
        id = value(report.id),
        arrival = DateTime::from(report.arrival),
    );
    for line in report.lines {
        let _ = write!(
            out,
            "\r\nFinal-Recipient: {address_type}; {address}\r\n\
             Action: {action}\r\n\
             Status: {status}\r\n",
            address = value(&line.address),
            action = match line.action {
                Action::Failed => "failed",
                Action::Delayed => "delayed",
            },
            status = value(&line.status),
        );
        if !line.remote.is_empty() {
            let _ = write!(out, "Remote-MTA: dns; {}\r\n", mta_name(&line.remote));
        }
        if !line.diagnostic.is_empty() {
            let kind = if is_reply(&line.diagnostic) {
                "smtp"
            } else {
                "X-Sansmail"
            };
            let _ = write!(
                out,
                "Diagnostic-Code: {kind}; {}\r\n",
                value(&line.diagnostic)
            );
        }
        if let (Action::Delayed, Some(until)) = (line.action, report.retry_until) {
            let _ = write!(out, "Will-Retry-Until: {}\r\n", DateTime::from(until));
        }
    }
    let _ = write!(
        out,
        "\r\n--{boundary}\r\n\
         Content-Type: {headers_type}\r\n\
         \r\n",
        headers_type = if global {
            "message/global-headers"
        } else {
            "text/rfc822-headers"
        },
    );
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(report.headers);
    if !report.headers.is_empty() && !report.headers.ends_with(b"\r\n") {
        bytes.extend_from_slice(b"\r\n");
    }
    bytes.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    fold_long_lines(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn a_bounce_has_the_three_parts_of_rfc_3464() {
        let original =
            b"Received: from x by y\r\nSubject: hello\r\nFrom: alice@example.com\r\n\r\nbody\r\n";
        let lines = [Line {
            address: "bob@example.org".into(),
            action: Action::Failed,
            status: "5.1.1".into(),
            remote: "mx.example.org[192.0.2.7]:25".into(),
            diagnostic: "550 5.1.1 no such user\r\n".into(),
        }];
        let report = Report {
            hostname: "mx.example.com",
            id: "Q1",
            to: "alice@example.com",
            arrival: UNIX_EPOCH + Duration::from_secs(1_234_567_890),
            now: UNIX_EPOCH + Duration::from_secs(1_234_567_990),
            retry_until: None,
            lines: &lines,
            headers: header_block(original),
        };
        let text = String::from_utf8(build(&report)).unwrap();
        for needle in [
            "To: <alice@example.com>\r\n",
            "Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"=_sansmail-dsn_Q1\"\r\n",
            "--=_sansmail-dsn_Q1\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.com\r\n",
            "Arrival-Date: Fri, 13 Feb 2009 23:31:30 +0000\r\n",
            "\r\nFinal-Recipient: rfc822; bob@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n\
             Remote-MTA: dns; mx.example.org\r\nDiagnostic-Code: smtp; 550 5.1.1 no such user  \r\n",
            "Content-Type: text/rfc822-headers\r\n\r\nReceived: from x by y\r\nSubject: hello\r\nFrom: alice@example.com\r\n\r\n--=_sansmail-dsn_Q1--\r\n",
            "<bob@example.org>: mx.example.org[192.0.2.7]:25 said: 550 5.1.1 no such user",
        ] {
            assert!(text.contains(needle), "{needle:?} not in\n{text}");
        }
        assert!(!text.contains("body"), "the body is not returned");
        // CRLF everywhere.
        assert!(!text.replace("\r\n", "").contains('\n'));
    }

    #[test]
    fn a_delay_notice_says_until_when() {
        let lines = [Line {
            address: "bob@[192.0.2.7]".into(),
            action: Action::Delayed,
            status: "4.0.0".into(),
            remote: String::new(),
            diagnostic: "connection refused".into(),
        }];
        let report = Report {
            hostname: "h",
            id: "Q2",
            to: "alice@example.com",
            arrival: UNIX_EPOCH,
            now: UNIX_EPOCH,
            retry_until: Some(UNIX_EPOCH + Duration::from_secs(86400)),
            lines: &lines,
            headers: b"Subject: x\r\n",
        };
        let text = String::from_utf8(build(&report)).unwrap();
        assert!(
            text.contains("Action: delayed\r\nStatus: 4.0.0\r\n"),
            "{text}"
        );
        assert!(text.contains("Diagnostic-Code: X-Sansmail; connection refused\r\n"));
        assert!(text.contains("Will-Retry-Until: Fri, 2 Jan 1970 00:00:00 +0000\r\n"));
        assert!(text.contains("Subject: Delayed Mail"));
        assert!(!text.contains("Remote-MTA"));
    }

    #[test]
    fn remote_mta_names_the_host() {
        assert_eq!(mta_name("mx.example.org[192.0.2.7]:25"), "mx.example.org");
        assert_eq!(mta_name("192.0.2.7[192.0.2.7]:2525"), "[192.0.2.7]");
        assert_eq!(mta_name("2001:db8::1"), "[IPv6:2001:db8::1]");
        assert_eq!(mta_name("[oops"), "[oops");
        assert_eq!(mta_name("mx.example.org"), "mx.example.org");
    }

    #[test]
    fn header_blocks_are_cut_at_a_line() {
        assert_eq!(
            header_block(b"A: 1\r\nB: 2\r\n\r\nbody"),
            b"A: 1\r\nB: 2\r\n"
        );
        assert_eq!(header_block(b"A: 1\r\nno end"), b"A: 1\r\nno end");
        let mut big = Vec::new();
        while big.len() < MAX_RETURNED_HEADERS + 100 {
            big.extend_from_slice(b"X-Long: 0123456789\r\n");
        }
        let cut = header_block(&big);
        assert!(cut.len() <= MAX_RETURNED_HEADERS);
        assert!(cut.ends_with(b"\r\n"));
        // UTF-8 headers make a global notification.
        let lines = [Line {
            address: "jürgen@example.org".into(),
            action: Action::Failed,
            status: "5.1.1".into(),
            remote: String::new(),
            diagnostic: String::new(),
        }];
        let report = Report {
            hostname: "h",
            id: "Q3",
            to: "a@h",
            arrival: UNIX_EPOCH,
            now: UNIX_EPOCH,
            retry_until: None,
            lines: &lines,
            headers: b"",
        };
        let text = String::from_utf8(build(&report)).unwrap();
        assert!(text.contains("report-type=global-delivery-status"));
        assert!(text.contains("Final-Recipient: utf-8; jürgen@example.org\r\n"));
        assert!(text.contains("Content-Type: message/global-headers\r\n"));
    }
    /// Every line of `message` (CRLF-separated) in octets, and whether a CR or LF stands
    /// outside a CRLF.
    fn lines_and_bare_ends(message: &[u8]) -> (Vec<usize>, bool) {
        let text = String::from_utf8_lossy(message);
        let lines = text.split("\r\n").map(str::len).collect();
        (lines, text.split("\r\n").any(|l| l.contains(['\r', '\n'])))
    }

    #[test]
    fn hostile_remote_text_and_long_header_lines_keep_lines_within_998_octets() {
        // What a hostile remote MX can make the queue store: a reply line may be 2048 octets
        // (the client's `max_reply_line_len`) of UTF-8, kept to MAX_DIAGNOSTIC characters;
        // an MX name is up to 253 characters; a header line of a submitted message has no
        // length limit in DATA.
        let diagnostic =
            super::super::envelope::clean(&format!("550 5.1.1 {}", "\u{20ac}".repeat(600)));
        let mx = format!("{}.example", vec!["a".repeat(60); 4].join("."));
        let lines = [Line {
            address: format!("{}@{}", "b".repeat(64), "c".repeat(180)),
            action: Action::Failed,
            status: "5.1.1".into(),
            remote: format!("{mx}[192.0.2.7]:25"),
            diagnostic: diagnostic.clone(),
        }];
        let headers = format!(
            "Subject: {}\r\nX-Long: {}\r\n",
            "word ".repeat(400),
            "x".repeat(3000)
        );
        let report = Report {
            hostname: "mx.example.com",
            id: "Q4",
            to: "alice@example.com",
            arrival: UNIX_EPOCH,
            now: UNIX_EPOCH,
            retry_until: None,
            lines: &lines,
            headers: headers.as_bytes(),
        };
        let message = build(&report);
        let (lengths, bare) = lines_and_bare_ends(&message);
        assert!(!bare, "a bare CR or LF");
        assert!(
            lengths.iter().all(|&n| n <= 998),
            "a line over 998 octets: {:?}",
            lengths.iter().filter(|&&n| n > 998).collect::<Vec<_>>()
        );
        // Nothing is lost: unfolding (removing each CRLF before white space) gives the text
        // back, exactly where a line was folded at a space, with a space added where a run
        // without one had to be cut.
        let text = String::from_utf8(message).unwrap();
        let unfolded = text.replace("\r\n ", " ");
        let subject = format!("Subject: {}\r\n", "word ".repeat(400));
        assert!(unfolded.contains(&subject), "{unfolded}");
        let squeezed = unfolded.replace(' ', "");
        for needle in [
            format!("Diagnostic-Code:smtp;{}\r\n", diagnostic.replace(' ', "")),
            format!("X-Long:{}\r\n", "x".repeat(3000)),
        ] {
            assert!(squeezed.contains(&needle), "{needle:?} not in\n{squeezed}");
        }
    }

    #[test]
    fn a_non_ascii_remote_reply_never_makes_an_8_bit_delivery_status_part() {
        // RFC 3464 section 2.1.1: a message/delivery-status part is 7-bit US-ASCII; the UTF-8
        // reply text a remote may send (RFC 6531) belongs in RFC 6533's
        // message/global-delivery-status.
        let lines = [Line {
            address: "bob@example.org".into(),
            action: Action::Failed,
            status: "5.1.1".into(),
            remote: "mx.example.org[192.0.2.7]:25".into(),
            diagnostic: "550 5.1.1 Empf\u{e4}nger unbekannt".into(),
        }];
        let report = Report {
            hostname: "mx.example.com",
            id: "Q5",
            to: "alice@example.com",
            arrival: UNIX_EPOCH,
            now: UNIX_EPOCH,
            retry_until: None,
            lines: &lines,
            headers: b"Subject: x\r\n",
        };
        let text = String::from_utf8(build(&report)).unwrap();
        let status = text
            .split("\r\n--=_sansmail-dsn_Q5")
            .find(|part| part.contains("Reporting-MTA:"))
            .unwrap();
        assert!(
            status.is_ascii()
                || status.starts_with("\r\nContent-Type: message/global-delivery-status\r\n"),
            "an 8-bit message/delivery-status part:{status}"
        );
        assert!(status.contains("Diagnostic-Code: smtp; 550 5.1.1 Empf\u{e4}nger unbekannt\r\n"));
        assert!(text.contains("report-type=global-delivery-status;"));
    }
    #[test]
    fn two_bounces_for_one_message_have_distinct_message_ids() {
        // Recipients in two domains that fail at different attempts: two bounces for the same
        // queued message. Mailbox providers drop a message whose Message-ID they already have,
        // so the same Message-ID would hide the second bounce from the sender.
        let line = |address: &str| Line {
            address: address.into(),
            action: Action::Failed,
            status: "5.1.1".into(),
            remote: String::new(),
            diagnostic: String::new(),
        };
        let message_id = |lines: &[Line], secs: u64| {
            let report = Report {
                hostname: "mx.example.com",
                id: "Q6",
                to: "alice@example.com",
                arrival: UNIX_EPOCH,
                now: UNIX_EPOCH + Duration::from_secs(secs),
                retry_until: None,
                lines,
                headers: b"Subject: x\r\n",
            };
            let text = String::from_utf8(build(&report)).unwrap();
            text.lines()
                .find_map(|l| l.strip_prefix("Message-ID: "))
                .unwrap()
                .to_owned()
        };
        let first = message_id(&[line("bob@a.example")], 100);
        let second = message_id(&[line("carol@b.example")], 5000);
        assert_ne!(first, second);
    }
}
