//! Adversarial review of the client machine (issue 18): what a hostile or broken server
//! sends, and what a careless application does. Each test asserts the right behaviour; the
//! commit that added it says which ones failed before their fix.

use std::time::Duration;

use imap_proto::client::{Client, ClientConfig, ClientError, Event, SessionError};
use imap_proto::response::{Capability, Data, StatusKind};
use mail_testkit::SimClock;
use mail_wire::Secret;
use mail_wire::sasl::ClientSession;

fn secret(s: &str) -> Secret<String> {
    Secret::new(s.to_owned())
}

fn wire(client: &mut Client) -> String {
    let mut out = Vec::new();
    while let Some(piece) = client.poll_transmit() {
        out.extend_from_slice(&piece);
    }
    String::from_utf8(out).unwrap()
}

fn events(client: &mut Client) -> Vec<Event> {
    std::iter::from_fn(|| client.poll_event()).collect()
}

fn feed(client: &mut Client, clock: &SimClock, bytes: &str) -> Vec<Event> {
    client.feed(clock.now(), bytes.as_bytes());
    events(client)
}

/// An implicit-TLS client past its greeting, ready.
fn ready(caps: &str) -> (Client, SimClock) {
    let clock = SimClock::new();
    let mut client = Client::new(ClientConfig::imaps(), clock.now());
    let got = feed(
        &mut client,
        &clock,
        &format!("* OK [CAPABILITY {caps}] hi\r\n"),
    );
    assert!(
        got.contains(&Event::Ready {
            authenticated: false
        }),
        "{got:?}"
    );
    (client, clock)
}

fn closed(events: &[Event]) -> Option<&Result<(), SessionError>> {
    events.iter().find_map(|e| match e {
        Event::Closed(ending) => Some(ending),
        _ => None,
    })
}

/// A capability list in the tagged `OK` to STARTTLS was sent before TLS: a man in the middle
/// may have written it (RFC 9051 section 6.2.1 says to discard what was learnt before TLS).
/// It is neither reported nor used; only the list asked for inside TLS is.
#[test]
fn capabilities_in_the_starttls_ok_are_neither_reported_nor_used() {
    let clock = SimClock::new();
    let mut client = Client::new(ClientConfig::new(), clock.now());
    feed(
        &mut client,
        &clock,
        "* OK [CAPABILITY IMAP4rev1 STARTTLS] hi\r\n",
    );
    assert_eq!(wire(&mut client), "A0001 STARTTLS\r\n");
    let got = feed(
        &mut client,
        &clock,
        "A0001 OK [CAPABILITY IMAP4rev1 LITERAL+ AUTH=PLAIN] go\r\n",
    );
    assert_eq!(got, [Event::StartTls], "nothing of the forged list");
    assert!(!client.has_capability(&Capability::LiteralPlus));
    client.tls_established(clock.now()).unwrap();
    assert_eq!(wire(&mut client), "A0002 CAPABILITY\r\n");
    let got = feed(
        &mut client,
        &clock,
        "* CAPABILITY IMAP4rev1 IDLE\r\nA0002 OK done\r\n",
    );
    assert_eq!(
        got,
        [
            Event::Capabilities(vec![Capability::Imap4Rev1, Capability::Idle]),
            Event::Ready {
                authenticated: false
            }
        ]
    );
    assert!(!client.has_capability(&Capability::LiteralPlus));
}

/// A `BYE` while the application's LOGOUT still waits behind a literal is the server ending
/// the session, not the answer to a LOGOUT it never received: an error, not `Ok(())`.
#[test]
fn bye_before_the_logout_went_out_is_an_error() {
    let (mut client, clock) = ready("IMAP4rev1");
    client
        .login(clock.now(), "alice", &secret("p\u{e4}ss"))
        .unwrap();
    client.logout(clock.now()).unwrap();
    assert_eq!(wire(&mut client), "A0001 LOGIN alice {5}\r\n");
    let got = feed(&mut client, &clock, "* BYE shutting down\r\n");
    assert_eq!(
        closed(&got),
        Some(&Err(SessionError::Bye("shutting down".into())))
    );
}

/// The same for a server that closes the connection without a word.
#[test]
fn eof_before_the_logout_went_out_is_an_error() {
    let (mut client, clock) = ready("IMAP4rev1");
    client
        .login(clock.now(), "alice", &secret("p\u{e4}ss"))
        .unwrap();
    client.logout(clock.now()).unwrap();
    assert_eq!(wire(&mut client), "A0001 LOGIN alice {5}\r\n");
    client.handle_eof();
    assert_eq!(
        closed(&events(&mut client)),
        Some(&Err(SessionError::PeerClosed))
    );
}

/// A `BYE` in answer to a LOGOUT that went out is the normal end.
#[test]
fn bye_after_the_logout_went_out_is_the_normal_end() {
    let (mut client, clock) = ready("IMAP4rev1");
    client.logout(clock.now()).unwrap();
    assert_eq!(wire(&mut client), "A0001 LOGOUT\r\n");
    let got = feed(&mut client, &clock, "* BYE bye\r\n");
    assert_eq!(closed(&got), None);
    client.handle_eof();
    assert_eq!(closed(&events(&mut client)), Some(&Ok(())));
}

/// Once the session ended on the server's doing, nothing more goes out: a LOGIN queued
/// before the `BYE` was read never sends the password to a server that is leaving.
#[test]
fn nothing_goes_out_after_the_session_ended() {
    let (mut client, clock) = ready("IMAP4rev1");
    client.login(clock.now(), "alice", &secret("pw")).unwrap();
    let got = feed(&mut client, &clock, "* BYE going away\r\n");
    assert!(matches!(closed(&got), Some(Err(SessionError::Bye(_)))));
    assert_eq!(client.poll_transmit(), None);
    assert_eq!(events(&mut client), []);
}

/// A continuation request read before the command's line was even written cannot be for
/// it: the literal's data (here a password) stays unsent and the session ends.
#[test]
fn continuation_before_the_command_was_written_is_refused() {
    let (mut client, clock) = ready("IMAP4rev1");
    client
        .login(clock.now(), "alice", &secret("p\u{e4}ss"))
        .unwrap();
    // The driver has not taken the command's line yet.
    let got = feed(&mut client, &clock, "+ go on\r\n");
    assert_eq!(
        closed(&got),
        Some(&Err(SessionError::UnexpectedContinuation))
    );
    assert_eq!(wire(&mut client), "");
}

/// Further `+` after a literal was sent are a protocol error (RFC 9051 section 7.5): one
/// continuation request per literal.
#[test]
fn a_second_continuation_for_one_literal_ends_the_session() {
    let (mut client, clock) = ready("IMAP4rev1");
    client
        .login(clock.now(), "alice", &secret("p\u{e4}ss"))
        .unwrap();
    assert_eq!(wire(&mut client), "A0001 LOGIN alice {5}\r\n");
    let got = feed(&mut client, &clock, "+ go\r\n+ again\r\n");
    assert_eq!(
        closed(&got),
        Some(&Err(SessionError::UnexpectedContinuation))
    );
}

/// A `+` during an accepted IDLE is not for anything.
#[test]
fn a_continuation_during_idle_ends_the_session() {
    let (mut client, clock) = ready("IMAP4rev1 IDLE");
    client.idle(clock.now()).unwrap();
    assert_eq!(wire(&mut client), "A0001 IDLE\r\n");
    let got = feed(&mut client, &clock, "+ idling\r\n* 3 EXISTS\r\n+ more\r\n");
    assert!(got.contains(&Event::Data(Data::Exists(3))), "{got:?}");
    assert_eq!(
        closed(&got),
        Some(&Err(SessionError::UnexpectedContinuation))
    );
    assert_eq!(wire(&mut client), "");
}

/// A tagged response repeated for a completed command is to no command.
#[test]
fn a_repeated_tagged_response_ends_the_session() {
    let (mut client, clock) = ready("IMAP4rev1");
    client.noop(clock.now()).unwrap();
    assert_eq!(wire(&mut client), "A0001 NOOP\r\n");
    let got = feed(&mut client, &clock, "A0001 OK\r\nA0001 OK\r\n");
    assert_eq!(
        closed(&got),
        Some(&Err(SessionError::UnknownTag("A0001".into())))
    );
}

/// A message number past 2^32 - 1 is clamped (`Quirks::LENIENT`, the client default for
/// responses, docs/imap.md), never wrapped to a small number, and the session goes on.
#[test]
fn an_exists_past_u32_is_clamped_not_wrapped() {
    let (mut client, clock) = ready("IMAP4rev1");
    let got = feed(&mut client, &clock, "* 4294967296 EXISTS\r\n");
    assert_eq!(got, [Event::Data(Data::Exists(u32::MAX))]);
    assert!(!client.is_closed());
}

/// A server that advertises IDLE but answers it with `NO`: the completion is reported, no
/// IDLE runs, and the application may go on.
#[test]
fn idle_refused_with_no_leaves_the_session_usable() {
    let (mut client, clock) = ready("IMAP4rev1 IDLE");
    let idle = client.idle(clock.now()).unwrap();
    assert_eq!(wire(&mut client), "A0001 IDLE\r\n");
    let got = feed(&mut client, &clock, "A0001 NO not supported\r\n");
    assert!(
        matches!(got.as_slice(), [Event::Completed { id, status: StatusKind::No, .. }] if *id == idle),
        "{got:?}"
    );
    assert!(!client.is_idling());
    assert_eq!(client.done(clock.now()), Err(ClientError::NotIdling));
    client.noop(clock.now()).unwrap();
    assert_eq!(wire(&mut client), "A0002 NOOP\r\n");
}

/// The refresh sent `DONE`; the application's `done()` while its completion is awaited
/// sends no second `DONE`, and news between `DONE` and the completion is delivered.
#[test]
fn done_goes_out_once_when_the_application_ends_a_renewal() {
    let (mut client, mut clock) = ready("IMAP4rev1 IDLE");
    let idle = client.idle(clock.now()).unwrap();
    assert_eq!(wire(&mut client), "A0001 IDLE\r\n");
    feed(&mut client, &clock, "+ idling\r\n");
    clock.advance(Duration::from_secs(28 * 60));
    client.handle_timeout(clock.now());
    assert_eq!(wire(&mut client), "DONE\r\n");
    client.done(clock.now()).unwrap();
    assert_eq!(wire(&mut client), "", "DONE only once");
    let got = feed(&mut client, &clock, "* 4 EXISTS\r\nA0001 OK done\r\n");
    assert_eq!(got.first(), Some(&Event::Data(Data::Exists(4))));
    assert!(
        matches!(got.get(1), Some(Event::Completed { id, status: StatusKind::Ok, .. }) if *id == idle),
        "{got:?}"
    );
    assert_eq!(wire(&mut client), "", "no IDLE again");
    assert!(!client.is_idling());
}

/// Every piece of a LOGIN whose password needs a synchronising literal is marked secret,
/// and nothing the application sees (events, errors, Debug) holds the password.
#[test]
fn a_literal_password_is_secret_in_every_piece() {
    let (mut client, clock) = ready("IMAP4rev1");
    let login = client
        .login(clock.now(), "alice", &secret("p\u{e4}ssw\u{f6}rd"))
        .unwrap();
    let first = client.poll_transmit_marked().unwrap();
    assert!(first.is_secret());
    assert_eq!(client.poll_transmit_marked(), None);
    assert!(!format!("{client:?}").contains("ssw"));
    feed(&mut client, &clock, "+ go\r\n");
    let data = client.poll_transmit_marked().unwrap();
    assert!(data.is_secret());
    assert_eq!(&data.bytes()[..], "p\u{e4}ssw\u{f6}rd\r\n".as_bytes());
    let got = feed(
        &mut client,
        &clock,
        "A0001 NO [AUTHENTICATIONFAILED] no\r\n",
    );
    assert!(matches!(got.as_slice(), [Event::Completed { id, .. }] if *id == login));
    assert!(!format!("{got:?}{client:?}").contains("ssw"));
}

/// After the end nothing more happens: no event from input, EOF or time, and commands are
/// refused.
#[test]
fn no_event_after_closed() {
    let (mut client, mut clock) = ready("IMAP4rev1");
    client.noop(clock.now()).unwrap();
    wire(&mut client);
    client.handle_eof();
    assert_eq!(
        closed(&events(&mut client)),
        Some(&Err(SessionError::PeerClosed))
    );
    client.feed(clock.now(), b"A0001 OK\r\n* BYE x\r\n");
    client.handle_eof();
    clock.advance(Duration::from_secs(3600));
    client.handle_timeout(clock.now());
    assert_eq!(events(&mut client), []);
    assert_eq!(client.poll_timeout(), None);
    assert_eq!(client.noop(clock.now()), Err(ClientError::Closed));
    assert_eq!(wire(&mut client), "");
}

/// A tagged response for a command that still waits behind a literal (never written) is to
/// no command of ours.
#[test]
fn a_completion_for_a_queued_command_ends_the_session() {
    let (mut client, clock) = ready("IMAP4rev1");
    client
        .login(clock.now(), "alice", &secret("p\u{e4}ss"))
        .unwrap();
    client.noop(clock.now()).unwrap();
    assert_eq!(wire(&mut client), "A0001 LOGIN alice {5}\r\n");
    let got = feed(&mut client, &clock, "A0002 OK\r\n");
    assert_eq!(
        closed(&got),
        Some(&Err(SessionError::UnknownTag("A0002".into())))
    );
}

/// A challenge during AUTHENTICATE goes to the SASL exchange, answered secret; a second
/// challenge before that answer was written is refused.
#[test]
fn authenticate_challenges_reach_the_exchange_and_wait_for_its_answer() {
    let (mut client, clock) = ready("IMAP4rev1 AUTH=PLAIN");
    let session = ClientSession::plain(None, "alice", secret("pw")).unwrap();
    client.authenticate(clock.now(), session).unwrap();
    assert_eq!(wire(&mut client), "A0001 AUTHENTICATE PLAIN\r\n");
    feed(&mut client, &clock, "+ \r\n");
    let answer = client.poll_transmit_marked().unwrap();
    assert!(answer.is_secret());
    assert_eq!(&answer.bytes()[..], b"AGFsaWNlAHB3\r\n");
    let got = feed(
        &mut client,
        &clock,
        "A0001 OK [CAPABILITY IMAP4rev1] in\r\n",
    );
    assert!(
        matches!(
            got.as_slice(),
            [
                Event::Capabilities(_),
                Event::Completed {
                    status: StatusKind::Ok,
                    ..
                }
            ]
        ),
        "{got:?}"
    );
    // Again, with a second `+` read before the first answer went out.
    let (mut client, clock) = ready("IMAP4rev1 AUTH=PLAIN");
    let session = ClientSession::plain(None, "alice", secret("pw")).unwrap();
    client.authenticate(clock.now(), session).unwrap();
    wire(&mut client);
    let got = feed(&mut client, &clock, "+ \r\n+ \r\n");
    assert_eq!(
        closed(&got),
        Some(&Err(SessionError::UnexpectedContinuation))
    );
    assert_eq!(client.poll_transmit(), None, "the password stays home");
}

/// A FETCH announcing a literal over `framer.max_literal` ends the session as soon as the
/// header is read: its data is never buffered.
#[test]
fn a_huge_literal_in_a_fetch_ends_the_session_at_its_header() {
    let clock = SimClock::new();
    let mut config = ClientConfig::imaps();
    config.framer.max_literal = 1024;
    let mut client = Client::new(config, clock.now());
    feed(&mut client, &clock, "* OK [CAPABILITY IMAP4rev1] hi\r\n");
    client.noop(clock.now()).unwrap();
    wire(&mut client);
    let got = feed(
        &mut client,
        &clock,
        "* 1 FETCH (UID 5 BODY[] {4294967296}\r\nFrom: x\r\n",
    );
    assert!(
        matches!(closed(&got), Some(Err(SessionError::TooLarge(_)))),
        "{got:?}"
    );
    assert!(!got.iter().any(|e| matches!(e, Event::Data(_))));
}

/// Untagged news between `DONE` and the IDLE's completion is delivered, before the
/// completion, and nothing is sent again.
#[test]
fn news_between_done_and_the_completion_is_delivered() {
    let (mut client, clock) = ready("IMAP4rev1 IDLE");
    let idle = client.idle(clock.now()).unwrap();
    wire(&mut client);
    feed(&mut client, &clock, "+ idling\r\n");
    client.done(clock.now()).unwrap();
    assert_eq!(wire(&mut client), "DONE\r\n");
    let got = feed(
        &mut client,
        &clock,
        "* 2 EXPUNGE\r\n* 7 EXISTS\r\nA0001 OK done\r\n",
    );
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!(
        got[0],
        Event::Data(Data::Expunge(std::num::NonZeroU32::new(2).unwrap()))
    );
    assert_eq!(got[1], Event::Data(Data::Exists(7)));
    assert!(matches!(got[2], Event::Completed { id, .. } if id == idle));
    assert_eq!(wire(&mut client), "");
}

/// IDLE to a server that does not have it, while its capabilities are not known (right
/// after a login whose OK did not list them, the client's own CAPABILITY not yet answered):
/// the client sends it, the server's `BAD` comes back as the completion, and the session
/// goes on without an IDLE. Once the capabilities are known, IDLE is refused locally.
#[test]
fn idle_to_a_server_without_idle_is_answered_by_its_bad() {
    let (mut client, clock) = ready("IMAP4rev1");
    client.login(clock.now(), "alice", &secret("pw")).unwrap();
    assert_eq!(wire(&mut client), "A0001 LOGIN alice pw\r\n");
    feed(&mut client, &clock, "A0001 OK in\r\n");
    assert_eq!(wire(&mut client), "A0002 CAPABILITY\r\n");
    assert!(client.capabilities().is_empty());
    let idle = client.idle(clock.now()).unwrap();
    assert_eq!(wire(&mut client), "A0003 IDLE\r\n");
    let got = feed(
        &mut client,
        &clock,
        "* CAPABILITY IMAP4rev1\r\nA0002 OK\r\nA0003 BAD unknown command\r\n",
    );
    assert!(
        matches!(got.as_slice(), [
            Event::Capabilities(caps),
            Event::Completed { id, status: StatusKind::Bad, .. },
        ] if *id == idle && caps.as_slice() == [Capability::Imap4Rev1]),
        "{got:?}"
    );
    assert!(!client.is_idling());
    assert_eq!(client.poll_timeout(), None);
    assert_eq!(
        client.idle(clock.now()),
        Err(ClientError::NotAdvertised("IDLE"))
    );
    assert_eq!(wire(&mut client), "");
}

/// `* ENABLED` before TLS (and before login, where ENABLE cannot even be issued) is a man in
/// the middle's: it must not switch the session to UTF-8 mailbox names inside TLS.
#[test]
fn enabled_before_tls_and_login_is_not_taken() {
    let clock = SimClock::new();
    let mut client = Client::new(ClientConfig::new(), clock.now());
    feed(
        &mut client,
        &clock,
        "* OK [CAPABILITY IMAP4rev1 STARTTLS] hi\r\n* ENABLED UTF8=ACCEPT\r\n",
    );
    assert_eq!(wire(&mut client), "A0001 STARTTLS\r\n");
    assert_eq!(
        feed(&mut client, &clock, "A0001 OK go\r\n"),
        [Event::StartTls]
    );
    client.tls_established(clock.now()).unwrap();
    assert_eq!(wire(&mut client), "A0002 CAPABILITY\r\n");
    feed(
        &mut client,
        &clock,
        "* CAPABILITY IMAP4rev1 UTF8=ACCEPT\r\nA0002 OK done\r\n",
    );
    client.select(clock.now(), "Entw\u{fc}rfe").unwrap();
    assert_eq!(wire(&mut client), "A0003 SELECT Entw&APw-rfe\r\n");
}
