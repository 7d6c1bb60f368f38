//! RFC 2033 LMTP: one reply per accepted recipient after the message, with and without
//! pipelining.

use smtp_proto::client::{ClientConfig, Event};

use crate::harness::{App, Message, QuitWhen, config, envelope, replay, reply, transcript};
use crate::sessions::D1_BODY;

pub(crate) const RFC2033: &str = "
    S: 220 foo.edu LMTP server ready
    C: LHLO foo.edu
    S: 250-foo.edu
    S: 250-PIPELINING
    S: 250 SIZE
    C: MAIL FROM:<chris@bar.com>
    S: 250 OK
    C: RCPT TO:<pat@foo.edu>
    S: 250 OK
    C: RCPT TO:<jones@foo.edu>
    S: 550 No such user here
    C: RCPT TO:<green@foo.edu>
    S: 250 OK
    C: DATA
    S: 354 Start mail input; end with <CRLF>.<CRLF>
    C: Blah blah blah...
    C: ....etc. etc. etc.
    C: .
    S: 250 OK
    S: 452 <green@foo.edu> is temporarily over quota
    C: QUIT
    S: 221 foo.edu closing connection
";

pub(crate) fn lmtp_config(pipelining: bool) -> ClientConfig {
    let mut config = ClientConfig::lmtp(config("foo.edu").hello_name);
    config.pipelining = pipelining;
    config
}

pub(crate) fn lmtp_app() -> App {
    let env = envelope(
        "chris@bar.com",
        &["pat@foo.edu", "jones@foo.edu", "green@foo.edu"],
    );
    App::new(vec![Message::new(env, D1_BODY)], QuitWhen::Ready)
}

#[test]
fn rfc2033_lmtp_one_reply_per_accepted_recipient() {
    // The RFC shows the commands one at a time: replay it without pipelining.
    let session = replay(lmtp_config(false), lmtp_app(), &transcript(RFC2033));
    assert_eq!(
        &session.events[session.events.len() - 5..],
        [
            Event::BodyReady,
            Event::Delivery {
                index: 0,
                reply: reply("250 OK\r\n")
            },
            Event::Delivery {
                index: 2,
                reply: reply("452 <green@foo.edu> is temporarily over quota\r\n")
            },
            Event::Ready,
            Event::Closed(Ok(())),
        ]
    );
    assert!(
        !session
            .events
            .iter()
            .any(|e| matches!(e, Event::MessageAccepted(_)))
    );
}

pub(crate) const RFC2033_PIPELINED: &str = "
    S: 220 foo.edu LMTP server ready
    C: LHLO foo.edu
    S: 250-foo.edu
    S: 250-PIPELINING
    S: 250 SIZE
    C: MAIL FROM:<chris@bar.com>
    C: RCPT TO:<pat@foo.edu>
    C: RCPT TO:<jones@foo.edu>
    C: RCPT TO:<green@foo.edu>
    C: DATA
    S: 250 OK
    S: 250 OK
    S: 550 No such user here
    S: 250 OK
    S: 354 Start mail input; end with <CRLF>.<CRLF>
    C: Blah blah blah...
    C: ....etc. etc. etc.
    C: .
    S: 250 OK
    S: 452 <green@foo.edu> is temporarily over quota
    C: QUIT
    S: 221 foo.edu closing connection
";

#[test]
fn lmtp_pipelined() {
    let session = replay(
        lmtp_config(true),
        lmtp_app(),
        &transcript(RFC2033_PIPELINED),
    );
    let deliveries: Vec<_> = session
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Delivery { index, reply } => Some((*index, reply.code().get())),
            _ => None,
        })
        .collect();
    assert_eq!(deliveries, [(0, 250), (2, 452)]);
}
