//! The messages the server tests store: the INBOX of the RFC sample sessions, and small
//! numbered messages.

use bytes::Bytes;
use imap_proto::flag::Flag;

use super::store::Store;

/// The header of message 12 of the RFC 3501 sample session, as its `BODY[HEADER]` shows it
/// (342 octets, the blank line included); `rev` is `"IMAP4rev1"` or `"IMAP4rev2"`.
pub(crate) fn sample_header(rev: &str) -> String {
    format!(
        "Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\r\n\
         From: Terry Gray <gray@cac.washington.edu>\r\n\
         Subject: {rev} WG mtg summary and minutes\r\n\
         To: imap@cac.washington.edu\r\n\
         cc: minutes@CNRI.Reston.VA.US, John Klensin <KLENSIN@MIT.EDU>\r\n\
         Message-Id: <B27397-0100000@cac.washington.edu>\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n\
         \r\n"
    )
}

/// A body of 92 lines and 3028 octets (CRLFs included), the size and line count the sample
/// session's `BODY` shows.
pub(crate) fn sample_body() -> String {
    let mut body = String::new();
    for n in 1..=92 {
        // 84 lines of 31 characters and 8 of 30: 2844 characters and 184 octets of CRLF.
        let width = if n <= 84 { 31 } else { 30 };
        let line = format!("Minutes, line {n:02} ");
        body.push_str(&format!("{line:.<width$}\r\n"));
    }
    body
}

/// A small message numbered `n`.
pub(crate) fn small(n: u32) -> Bytes {
    Bytes::from(format!(
        "From: sender{n}@example.org\r\nSubject: message {n}\r\n\r\nBody of message {n}.\r\n"
    ))
}

/// The INBOX of the sample sessions: 18 messages, the 12th the sample's, 1 to 16 `\Seen`,
/// 17 and 18 not (the first unseen is 17).
pub(crate) fn sample_inbox(store: &mut Store, rev: &str) {
    for n in 1..=18u32 {
        let raw = if n == 12 {
            Bytes::from(format!("{}{}", sample_header(rev), sample_body()))
        } else {
            small(n)
        };
        let flags = if n <= 16 {
            vec![Flag::Seen]
        } else {
            Vec::new()
        };
        store.append("INBOX", raw, flags, None).unwrap();
    }
}
