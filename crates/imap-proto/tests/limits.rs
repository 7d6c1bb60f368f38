//! Bounds of imap-proto that no other test file breaches (docs/limits.md lists every limit of
//! the workspace and its test).
#![cfg(feature = "mime")]

use std::num::NonZeroU32;

use imap_proto::command::{Command, CommandBody};
use imap_proto::datetime::DateTime;
use imap_proto::message::ParsedMessage;
use imap_proto::search::mime::StoredMessage;
use imap_proto::search::{self, SearchContext};
use mail_wire::sasl::framing::encode_challenge;

/// A message holding `inner` as a `message/rfc822` part sent base64-encoded (each such part
/// is parsed on its own, so nesting is not cut short by the parser's own depth).
fn wrap(inner: &[u8], level: usize) -> Vec<u8> {
    let encoded = encode_challenge(inner);
    let mut lines = String::new();
    for chunk in encoded.as_bytes().chunks(76) {
        lines.push_str(&String::from_utf8_lossy(chunk));
        lines.push_str("\r\n");
    }
    format!(
        "From: level{level}@example.org\r\nSubject: level {level}\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"b{level}\"\r\n\r\n\
         --b{level}\r\nContent-Type: text/plain\r\n\r\nouter text {level}\r\n\
         --b{level}\r\nContent-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n\
         {lines}--b{level}--\r\n"
    )
    .into_bytes()
}

/// A message whose innermost text, `depth` nested messages down, holds "plugh".
fn nested(depth: usize) -> Vec<u8> {
    let mut message =
        b"From: inner@example.org\r\nSubject: inner\r\n\r\nthe word plugh\r\n".to_vec();
    for level in (0..depth).rev() {
        message = wrap(&message, level);
    }
    message
}

/// Whether `SEARCH BODY plugh` matches `raw`.
fn body_matches(raw: &[u8]) -> bool {
    let parsed = ParsedMessage::parse(raw);
    let date = DateTime::parse(b"\"07-Dec-2026 12:00:00 +0000\"").unwrap();
    let message = StoredMessage::new(&parsed, NonZeroU32::MIN, date);
    let command = Command::parse(b"t SEARCH BODY plugh\r\n")
        .unwrap()
        .into_static();
    let CommandBody::Search { criteria, .. } = &command.body else {
        unreachable!("a SEARCH command")
    };
    search::matches(
        criteria,
        NonZeroU32::MIN,
        &message,
        &SearchContext::default(),
    )
    .unwrap()
}

/// SEARCH descends into nested messages as deep as the MIME parser parses them: mail-parser
/// parses three levels of `message/rfc822` parts (base64-encoded ones too) and leaves a deeper
/// one unparsed, which cuts before SEARCH's own bound of 8 (`MAX_NESTED` in search/mime.rs,
/// the guard should the parser go deeper). Text 3 messages down is found; 4 and 12 down are
/// not searched, and the search answers (no match) rather than failing (each level
/// base64-encodes the next, so the message grows by a third per level: 12 is enough).
#[test]
fn search_reads_nested_messages_down_to_the_parsers_depth_and_no_deeper() {
    for depth in 0..=3 {
        assert!(body_matches(&nested(depth)), "{depth} levels down");
    }
    for depth in [4, 9, 12] {
        assert!(!body_matches(&nested(depth)), "{depth} levels down");
    }
}
