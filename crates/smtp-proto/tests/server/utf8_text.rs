//! Issue 14, item 5, at the session: an SMTPUTF8 address or an EHLO name carrying a line
//! separator, a C1 control or a bidi override is refused with `501 5.5.4` before the
//! application sees it (so it never reaches a log), and ordinary UTF-8 addresses are
//! accepted as before.

use smtp_proto::server::Event;

use crate::harness::Harness;
use crate::{after_ehlo, config};

#[test]
fn forged_log_lines_in_addresses_and_ehlo_names_are_refused() {
    let mut h = after_ehlo(config("mx.example"));
    h.transcript(
        "C: MAIL FROM:<alice\u{2028}INFO_authenticated_user=root@example.org> SMTPUTF8
         S: 501 5.5.4 Syntax error: forbidden character U+2028 in Local-part at byte 16
         C: MAIL FROM:<alice@example.org> SMTPUTF8
         S: 250 2.1.0 Sender ok
         C: RCPT TO:<bob@exa\u{85}mple.org>
         S: 501 5.5.4 Syntax error: forbidden character U+0085 in Domain at byte 16
         C: RCPT TO:<\"\u{202e}toor\"@example.org>
         S: 501 5.5.4 Syntax error: forbidden character U+202E in Local-part at byte 10
         C: RCPT TO:<用户@例子.广告>
         S: 250 2.1.5 Recipient ok
         C: EHLO client\u{2029}.example
         S: 501 5.5.4 Syntax error: forbidden character U+2029 in Domain at byte 11
         C: EHLO \u{5d0}a.example
         S: 501 5.5.4 Syntax error: syntax error in U-label at byte 5",
    );
    let events = h.events();
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(matches!(events[0], Event::Mail { .. }));
    assert!(matches!(&events[1], Event::Rcpt { .. }));
}

#[test]
fn an_ehlo_name_in_utf8_is_accepted_when_valid() {
    let mut h = Harness::new(config("mx.example"));
    h.take_out();
    h.send("EHLO παράδειγμα.δοκιμή\r\n");
    assert!(h.take_out().starts_with("250-mx.example\r\n"));
}
