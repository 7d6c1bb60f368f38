//! A whole session: RFC 5321 Appendix D.1 from the client's side.

use smtp_proto::Capabilities;
use smtp_proto::client::Event;

use crate::harness::{App, Message, QuitWhen, config, envelope, replay, reply, transcript};
use crate::{caps, recipient};

pub(crate) const D1: &str = "
    S: 220 foo.com Simple Mail Transfer Service Ready
    C: EHLO bar.com
    S: 250-foo.com greets bar.com
    S: 250-8BITMIME
    S: 250-SIZE
    S: 250-DSN
    S: 250 HELP
    C: MAIL FROM:<Smith@bar.com>
    S: 250 OK
    C: RCPT TO:<Jones@foo.com>
    S: 250 OK
    C: RCPT TO:<Green@foo.com>
    S: 550 No such user here
    C: RCPT TO:<Brown@foo.com>
    S: 250 OK
    C: DATA
    S: 354 Start mail input; end with <CRLF>.<CRLF>
    C: Blah blah blah...
    # the RFC shows the line as typed; on the wire its leading dot is doubled
    C: ....etc. etc. etc.
    C: .
    S: 250 OK
    C: QUIT
    S: 221 foo.com Service closing transmission channel
";

pub(crate) const D1_BODY: &[u8] = b"Blah blah blah...\r\n...etc. etc. etc.\r\n";

pub(crate) fn d1_app() -> App {
    let env = envelope(
        "Smith@bar.com",
        &["Jones@foo.com", "Green@foo.com", "Brown@foo.com"],
    );
    App::new(vec![Message::new(env, D1_BODY)], QuitWhen::Ready)
}

#[test]
fn rfc5321_appendix_d1_typical_session() {
    let session = replay(config("bar.com"), d1_app(), &transcript(D1));
    assert_eq!(
        session.events,
        [
            Event::Greeting(reply("220 foo.com Simple Mail Transfer Service Ready\r\n")),
            caps(
                "250-foo.com greets bar.com\r\n250-8BITMIME\r\n250-SIZE\r\n250-DSN\r\n250 HELP\r\n"
            ),
            Event::Ready,
            recipient(0, "250 OK\r\n"),
            recipient(1, "550 No such user here\r\n"),
            recipient(2, "250 OK\r\n"),
            Event::BodyReady,
            Event::MessageAccepted(reply("250 OK\r\n")),
            Event::Ready,
            Event::Closed(Ok(())),
        ]
    );
    assert!(session.client.is_closed());
    assert!(!session.client.is_tls());
    let capabilities = Capabilities::from_reply(&reply(
        "250-foo.com greets bar.com\r\n250-8BITMIME\r\n250-SIZE\r\n250-DSN\r\n250 HELP\r\n",
    ))
    .unwrap();
    assert_eq!(session.client.capabilities(), Some(&capabilities));
}
