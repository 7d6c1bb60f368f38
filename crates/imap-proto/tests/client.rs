//! The client machine from the outside: scripted server bytes in, events and wire bytes out.

use std::time::Duration;

use imap_proto::client::{
    Client, ClientConfig, ClientError, CommandId, Event, SessionError, TlsPolicy,
};
use imap_proto::command::{CommandBody, FetchAttribute, FetchItems, NonEmpty, SearchKey};
use imap_proto::response::{Capability, Code, Data, StatusKind};
use imap_proto::sequence::SequenceSet;
use mail_testkit::SimClock;
use mail_testkit::chunk::every_split;
use mail_wire::Secret;
use mail_wire::sasl::ClientSession;
use mail_wire::session::{Session, Transmit};

fn secret(s: &str) -> Secret<String> {
    Secret::new(s.to_owned())
}

/// Everything the client queued for the wire, as text.
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

/// An implicit-TLS client past its greeting (with the capabilities given), ready.
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
    assert_eq!(wire(&mut client), "");
    (client, clock)
}

fn completed(events: &[Event]) -> Vec<(CommandId, StatusKind)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Completed { id, status, .. } => Some((*id, *status)),
            _ => None,
        })
        .collect()
}

fn closed(events: &[Event]) -> Option<&Result<(), SessionError>> {
    events.iter().find_map(|e| match e {
        Event::Closed(ending) => Some(ending),
        _ => None,
    })
}

#[test]
fn starttls_then_capability_again_then_ready() {
    let clock = SimClock::new();
    let mut client = Client::new(ClientConfig::new(), clock.now());
    let got = feed(&mut client, &clock, "* OK ready\r\n");
    assert!(matches!(got[0], Event::Greeting(_)));
    assert_eq!(wire(&mut client), "A0001 CAPABILITY\r\n");
    let got = feed(
        &mut client,
        &clock,
        "* CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED\r\nA0001 OK done\r\n",
    );
    assert_eq!(
        got,
        [Event::Capabilities(vec![
            Capability::Imap4Rev1,
            Capability::StartTls,
            Capability::LoginDisabled
        ])]
    );
    assert_eq!(wire(&mut client), "A0002 STARTTLS\r\n");
    // Commands are refused until the session is ready.
    assert_eq!(client.noop(clock.now()), Err(ClientError::NotReady));
    let got = feed(&mut client, &clock, "A0002 OK begin TLS\r\n");
    assert_eq!(got, [Event::StartTls]);
    assert!(!client.wants_input());
    client.tls_established(clock.now()).unwrap();
    assert!(client.is_tls());
    assert!(client.capabilities().is_empty(), "forgotten after TLS");
    assert_eq!(wire(&mut client), "A0003 CAPABILITY\r\n");
    let got = feed(
        &mut client,
        &clock,
        "* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\nA0003 OK done\r\n",
    );
    assert_eq!(
        got.last(),
        Some(&Event::Ready {
            authenticated: false
        })
    );
    assert!(!client.has_capability(&Capability::StartTls));
}

#[test]
fn response_injection_after_starttls_ok_is_refused() {
    for split in [false, true] {
        let clock = SimClock::new();
        let mut client = Client::new(ClientConfig::new(), clock.now());
        feed(
            &mut client,
            &clock,
            "* OK [CAPABILITY IMAP4rev1 STARTTLS] hi\r\n",
        );
        assert_eq!(wire(&mut client), "A0001 STARTTLS\r\n");
        let injected = "* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n";
        let got = if split {
            // In a read of its own, before the handshake.
            let got = feed(&mut client, &clock, "A0001 OK go\r\n");
            assert_eq!(got, [Event::StartTls]);
            feed(&mut client, &clock, injected)
        } else {
            feed(&mut client, &clock, &format!("A0001 OK go\r\n{injected}"))
        };
        assert_eq!(
            closed(&got),
            Some(&Err(SessionError::StartTlsInjection)),
            "{got:?}"
        );
        assert!(
            client
                .capabilities()
                .iter()
                .all(|c| *c != Capability::Auth(imap_proto::core::Atom::new("PLAIN").unwrap()))
        );
        assert!(client.is_closed());
        assert_eq!(
            client.tls_established(clock.now()),
            Err(ClientError::NoTlsPending)
        );
    }
}

#[test]
fn preauth_greeting_aborts_when_tls_is_required() {
    let clock = SimClock::new();
    let mut client = Client::new(ClientConfig::new(), clock.now());
    let got = feed(
        &mut client,
        &clock,
        "* PREAUTH [CAPABILITY IMAP4rev1 STARTTLS] hi\r\n",
    );
    assert_eq!(closed(&got), Some(&Err(SessionError::PreauthWithoutTls)));
    assert_eq!(wire(&mut client), "");
    // Over TLS a PREAUTH greeting is fine.
    let mut client = Client::new(ClientConfig::imaps(), clock.now());
    let got = feed(
        &mut client,
        &clock,
        "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n",
    );
    assert!(got.contains(&Event::Ready {
        authenticated: true
    }));
    assert!(client.is_authenticated());
}

#[test]
fn missing_starttls_aborts_when_required_and_falls_back_when_opportunistic() {
    let clock = SimClock::new();
    let mut client = Client::new(ClientConfig::new(), clock.now());
    let got = feed(&mut client, &clock, "* OK [CAPABILITY IMAP4rev1] hi\r\n");
    assert_eq!(closed(&got), Some(&Err(SessionError::TlsUnavailable)));
    assert_eq!(wire(&mut client), "");

    let mut config = ClientConfig::new();
    config.tls = TlsPolicy::Opportunistic;
    let mut client = Client::new(config, clock.now());
    let got = feed(&mut client, &clock, "* OK [CAPABILITY IMAP4rev1] hi\r\n");
    assert!(got.contains(&Event::PlaintextFallback));
    assert!(got.contains(&Event::Ready {
        authenticated: false
    }));
    // Credentials still do not go out in plaintext.
    assert_eq!(
        client.login(clock.now(), "alice", &secret("pw")),
        Err(ClientError::PlaintextCredentials)
    );

    // A refused STARTTLS under Required ends the session.
    let mut client = Client::new(ClientConfig::new(), clock.now());
    feed(
        &mut client,
        &clock,
        "* OK [CAPABILITY IMAP4rev1 STARTTLS] hi\r\n",
    );
    assert_eq!(wire(&mut client), "A0001 STARTTLS\r\n");
    let got = feed(&mut client, &clock, "A0001 NO not now\r\n");
    assert_eq!(closed(&got), Some(&Err(SessionError::TlsUnavailable)));
}

#[test]
fn greeting_bye_is_a_refusal() {
    let clock = SimClock::new();
    let mut client = Client::new(ClientConfig::imaps(), clock.now());
    let got = feed(&mut client, &clock, "* BYE too busy\r\n");
    assert_eq!(
        closed(&got),
        Some(&Err(SessionError::Refused("too busy".into())))
    );
}

#[test]
fn synchronising_literal_waits_for_the_continuation_request() {
    let (mut client, clock) = ready("IMAP4rev1");
    // An 8-bit password goes as a literal.
    let login = client
        .login(clock.now(), "alice", &secret("p\u{e4}ss"))
        .unwrap();
    // Only up to the literal header: the data waits for `+`.
    assert_eq!(wire(&mut client), "A0001 LOGIN alice {5}\r\n");
    let noop = client.noop(clock.now()).unwrap();
    assert_eq!(wire(&mut client), "", "nothing may follow before the `+`");
    let got = feed(&mut client, &clock, "+ go on\r\n");
    assert!(got.is_empty());
    assert_eq!(wire(&mut client), "p\u{e4}ss\r\nA0002 NOOP\r\n");
    let got = feed(
        &mut client,
        &clock,
        "A0001 OK [CAPABILITY IMAP4rev1] in\r\nA0002 OK\r\n",
    );
    assert_eq!(
        completed(&got),
        [(login, StatusKind::Ok), (noop, StatusKind::Ok)]
    );
}

#[test]
fn refused_literal_never_sends_its_data() {
    let (mut client, clock) = ready("IMAP4rev1");
    let login = client
        .login(clock.now(), "alice", &secret("p\u{e4}ss"))
        .unwrap();
    client.noop(clock.now()).unwrap();
    assert_eq!(wire(&mut client), "A0001 LOGIN alice {5}\r\n");
    let got = feed(&mut client, &clock, "A0001 NO [TOOBIG] no\r\n");
    assert_eq!(completed(&got), [(login, StatusKind::No)]);
    assert_eq!(
        wire(&mut client),
        "A0002 NOOP\r\n",
        "the password never goes out"
    );
}

#[test]
fn literal_plus_sends_at_once() {
    let (mut client, clock) = ready("IMAP4rev1 LITERAL+");
    client
        .login(clock.now(), "alice", &secret("p\u{e4}ss"))
        .unwrap();
    assert_eq!(wire(&mut client), "A0001 LOGIN alice {5+}\r\np\u{e4}ss\r\n");
}

#[test]
fn login_line_is_marked_secret() {
    let (mut client, clock) = ready("IMAP4rev1");
    client.login(clock.now(), "alice", &secret("pw")).unwrap();
    let piece = client.poll_transmit_marked().unwrap();
    assert!(piece.is_secret());
    assert_eq!(&piece.bytes()[..], b"A0001 LOGIN alice pw\r\n");
}

#[test]
fn login_disabled_is_refused_locally() {
    let (mut client, clock) = ready("IMAP4rev1 LOGINDISABLED");
    assert_eq!(
        client.login(clock.now(), "alice", &secret("pw")),
        Err(ClientError::LoginDisabled)
    );
    assert_eq!(
        client.command(clock.now(), CommandBody::StartTls),
        Err(ClientError::Reserved("STARTTLS"))
    );
}

/// IDLE (RFC 2177) only to a server that advertises it, or IMAP4rev2 which includes it
/// (RFC 9051 section 6.3.13): otherwise a typed error and nothing on the wire.
#[test]
fn idle_is_refused_locally_unless_advertised() {
    let (mut client, clock) = ready("IMAP4rev1");
    assert_eq!(
        client.idle(clock.now()),
        Err(ClientError::NotAdvertised("IDLE"))
    );
    assert_eq!(
        client.command(clock.now(), CommandBody::Idle),
        Err(ClientError::NotAdvertised("IDLE"))
    );
    assert!(!client.is_idling());
    assert_eq!(wire(&mut client), "");
    // NOOP, the fallback, goes.
    client.noop(clock.now()).unwrap();
    assert_eq!(wire(&mut client), "A0001 NOOP\r\n");

    for caps in ["IMAP4rev1 IDLE", "IMAP4rev2"] {
        let (mut client, clock) = ready(caps);
        client.idle(clock.now()).unwrap();
        assert_eq!(wire(&mut client), "A0001 IDLE\r\n", "{caps}");
    }
}

#[test]
fn authenticate_plain_with_sasl_ir_marks_the_response_secret() {
    let (mut client, clock) = ready("IMAP4rev1 AUTH=PLAIN SASL-IR");
    let sasl = ClientSession::plain(None, "alice", secret("secret")).unwrap();
    let id = client.authenticate(clock.now(), sasl).unwrap();
    let head = client.poll_transmit_marked().unwrap();
    assert_eq!(&head.bytes()[..], b"A0001 AUTHENTICATE PLAIN ");
    assert!(!head.is_secret());
    let response = client.poll_transmit_marked().unwrap();
    assert!(response.is_secret());
    assert_eq!(&response.bytes()[..], b"AGFsaWNlAHNlY3JldA==\r\n");
    // After login without capabilities in the OK, the client asks for them.
    let got = feed(&mut client, &clock, "A0001 OK logged in\r\n");
    assert_eq!(completed(&got), [(id, StatusKind::Ok)]);
    assert!(client.is_authenticated());
    assert_eq!(wire(&mut client), "A0002 CAPABILITY\r\n");
    let got = feed(
        &mut client,
        &clock,
        "* CAPABILITY IMAP4rev1 IDLE\r\nA0002 OK\r\n",
    );
    assert_eq!(
        got,
        [Event::Capabilities(vec![
            Capability::Imap4Rev1,
            Capability::Idle
        ])],
        "the client's own CAPABILITY completes unreported"
    );
}

#[test]
fn authenticate_without_sasl_ir_answers_the_empty_challenge() {
    let (mut client, clock) = ready("IMAP4rev1 AUTH=PLAIN");
    let sasl = ClientSession::plain(None, "alice", secret("secret")).unwrap();
    let auth = client.authenticate(clock.now(), sasl).unwrap();
    client.noop(clock.now()).unwrap();
    assert_eq!(wire(&mut client), "A0001 AUTHENTICATE PLAIN\r\n");
    feed(&mut client, &clock, "+ \r\n");
    let response = client.poll_transmit_marked().unwrap();
    assert!(response.is_secret());
    assert_eq!(&response.bytes()[..], b"AGFsaWNlAHNlY3JldA==\r\n");
    assert_eq!(
        wire(&mut client),
        "",
        "NOOP waits for the end of AUTHENTICATE"
    );
    let got = feed(
        &mut client,
        &clock,
        "A0001 NO [AUTHENTICATIONFAILED] no\r\n",
    );
    assert_eq!(completed(&got), [(auth, StatusKind::No)]);
    assert_eq!(wire(&mut client), "A0002 NOOP\r\n");
    assert!(!client.is_authenticated());
}

#[test]
fn responses_reach_their_command_and_unsolicited_data_is_kept() {
    let (mut client, clock) = ready("IMAP4rev1");
    let search = client
        .search(clock.now(), true, NonEmpty::one(SearchKey::All))
        .unwrap();
    let fetch = client
        .fetch(
            clock.now(),
            false,
            SequenceSet::single(1).unwrap(),
            FetchItems::Attributes(NonEmpty::one(FetchAttribute::Flags)),
        )
        .unwrap();
    assert_eq!(
        wire(&mut client),
        "A0001 UID SEARCH ALL\r\nA0002 FETCH 1 FLAGS\r\n",
        "pipelined"
    );
    let got = feed(
        &mut client,
        &clock,
        "* SEARCH 4 9\r\n* 5 EXISTS\r\n* OK [ALERT] disk full\r\nA0001 OK\r\n\
         * 1 FETCH (FLAGS (\\Seen))\r\n* 2 EXPUNGE\r\n* NO warning\r\nA0002 OK\r\n",
    );
    assert!(matches!(&got[0], Event::Data(Data::Search { ids, .. }) if ids.len() == 2));
    assert_eq!(got[1], Event::Data(Data::Exists(5)));
    assert_eq!(got[2], Event::Alert("disk full".into()));
    assert_eq!(completed(&got[3..4]), [(search, StatusKind::Ok)]);
    assert!(matches!(&got[4], Event::Data(Data::Fetch { .. })));
    assert!(matches!(&got[5], Event::Data(Data::Expunge(n)) if n.get() == 2));
    assert!(matches!(&got[6], Event::Status(s) if s.kind() == StatusKind::No));
    assert_eq!(completed(&got[7..]), [(fetch, StatusKind::Ok)]);
    assert_eq!(got.len(), 8);
}

#[test]
fn every_chunking_gives_the_same_events() {
    let server =
        "* 3 EXISTS\r\n* 1 FETCH (UID 7 BODY[] {5}\r\nhello)\r\nA0001 OK [READ-WRITE] x\r\n";
    let mut expected = None;
    for pieces in every_split(server.as_bytes()) {
        let (mut client, clock) = ready("IMAP4rev1");
        client.select(clock.now(), "INBOX").unwrap();
        assert_eq!(wire(&mut client), "A0001 SELECT INBOX\r\n");
        let mut got = Vec::new();
        for piece in pieces {
            client.feed(clock.now(), piece);
            got.extend(events(&mut client));
        }
        assert!(client.is_selected());
        match &expected {
            None => expected = Some(got),
            Some(e) => assert_eq!(&got, e),
        }
    }
    let expected = expected.unwrap();
    assert_eq!(expected.len(), 3);
    assert!(matches!(
        &expected[2],
        Event::Completed {
            code: Some(Code::ReadWrite),
            ..
        }
    ));
}

#[test]
fn unknown_or_early_tags_end_the_session() {
    let (mut client, clock) = ready("IMAP4rev1");
    let got = feed(&mut client, &clock, "A0009 OK what\r\n");
    assert_eq!(
        closed(&got),
        Some(&Err(SessionError::UnknownTag("A0009".into())))
    );
    // A completion for a command the driver has not written yet.
    let (mut client, clock) = ready("IMAP4rev1");
    client.noop(clock.now()).unwrap();
    let got = feed(&mut client, &clock, "A0001 OK early\r\n");
    assert_eq!(
        closed(&got),
        Some(&Err(SessionError::UnknownTag("A0001".into())))
    );
    // A `+` nobody asked for.
    let (mut client, clock) = ready("IMAP4rev1");
    let got = feed(&mut client, &clock, "+ hi\r\n");
    assert_eq!(
        closed(&got),
        Some(&Err(SessionError::UnexpectedContinuation))
    );
}

#[test]
fn unsolicited_bye_ends_the_session_and_logout_ends_it_well() {
    let (mut client, clock) = ready("IMAP4rev1");
    let got = feed(&mut client, &clock, "* BYE shutting down\r\n");
    assert_eq!(
        closed(&got),
        Some(&Err(SessionError::Bye("shutting down".into())))
    );

    let (mut client, clock) = ready("IMAP4rev1");
    let id = client.logout(clock.now()).unwrap();
    assert_eq!(client.noop(clock.now()), Err(ClientError::Closed));
    assert_eq!(wire(&mut client), "A0001 LOGOUT\r\n");
    let got = feed(&mut client, &clock, "* BYE bye\r\nA0001 OK done\r\n");
    assert_eq!(completed(&got), [(id, StatusKind::Ok)]);
    assert_eq!(closed(&got), Some(&Ok(())));
    // A server that closes after its BYE, without the tagged OK, ends it well too.
    let (mut client, clock) = ready("IMAP4rev1");
    client.logout(clock.now()).unwrap();
    let _ = wire(&mut client);
    feed(&mut client, &clock, "* BYE bye\r\n");
    client.handle_eof();
    assert_eq!(closed(&events(&mut client)), Some(&Ok(())));
}

#[test]
fn idle_is_renewed_before_29_minutes() {
    let (mut client, mut clock) = ready("IMAP4rev1 IDLE");
    let id = client.idle(clock.now()).unwrap();
    assert_eq!(wire(&mut client), "A0001 IDLE\r\n");
    let got = feed(&mut client, &clock, "+ idling\r\n");
    assert_eq!(got, [Event::Idling { id }]);
    assert_eq!(client.noop(clock.now()), Err(ClientError::Idling));
    let due = client.poll_timeout().unwrap();
    assert_eq!(due - clock.now(), Duration::from_secs(28 * 60));
    // News during IDLE.
    clock.advance(Duration::from_secs(60));
    let got = feed(&mut client, &clock, "* 4 EXISTS\r\n");
    assert_eq!(got, [Event::Data(Data::Exists(4))]);
    // Not yet.
    clock.advance_to(due - Duration::from_secs(1));
    client.handle_timeout(clock.now());
    assert_eq!(wire(&mut client), "");
    clock.advance_to(due);
    client.handle_timeout(clock.now());
    assert_eq!(wire(&mut client), "DONE\r\n");
    let got = feed(&mut client, &clock, "A0001 OK idle done\r\n");
    assert!(got.is_empty(), "the renewal is not reported: {got:?}");
    assert_eq!(wire(&mut client), "A0002 IDLE\r\n");
    let got = feed(&mut client, &clock, "+ idling\r\n");
    assert!(got.is_empty());
    assert!(client.is_idling());
    // The second renewal comes 28 minutes after the second `+`.
    assert_eq!(
        client.poll_timeout().unwrap() - clock.now(),
        Duration::from_secs(28 * 60)
    );
    // The application ends it: the completion carries the first id.
    client.done(clock.now()).unwrap();
    let fetch = client.noop(clock.now()).unwrap();
    assert_eq!(wire(&mut client), "DONE\r\nA0003 NOOP\r\n");
    let got = feed(&mut client, &clock, "A0002 OK done\r\nA0003 OK\r\n");
    assert_eq!(
        completed(&got),
        [(id, StatusKind::Ok), (fetch, StatusKind::Ok)]
    );
    assert_eq!(client.done(clock.now()), Err(ClientError::NotIdling));
}

#[test]
fn done_before_the_continuation_waits_for_it() {
    let (mut client, clock) = ready("IMAP4rev1 IDLE");
    let id = client.idle(clock.now()).unwrap();
    client.done(clock.now()).unwrap();
    let noop = client.noop(clock.now()).unwrap();
    assert_eq!(wire(&mut client), "A0001 IDLE\r\n");
    let got = feed(&mut client, &clock, "+ idling\r\n");
    assert!(got.is_empty());
    assert_eq!(wire(&mut client), "DONE\r\nA0002 NOOP\r\n");
    let got = feed(&mut client, &clock, "A0001 OK\r\nA0002 OK\r\n");
    assert_eq!(
        completed(&got),
        [(id, StatusKind::Ok), (noop, StatusKind::Ok)]
    );
}

#[test]
fn idle_refresh_is_capped_below_29_minutes() {
    let clock = SimClock::new();
    let mut config = ClientConfig::imaps();
    config.idle_refresh = Duration::from_secs(3600);
    let mut client = Client::new(config, clock.now());
    feed(
        &mut client,
        &clock,
        "* OK [CAPABILITY IMAP4rev1 IDLE] hi\r\n",
    );
    client.idle(clock.now()).unwrap();
    let _ = wire(&mut client);
    feed(&mut client, &clock, "+ idling\r\n");
    assert_eq!(
        client.poll_timeout().unwrap() - clock.now(),
        Duration::from_secs(29 * 60 - 1)
    );
}

#[test]
fn greeting_and_command_timeouts() {
    let mut clock = SimClock::new();
    let mut client = Client::new(ClientConfig::imaps(), clock.now());
    assert_eq!(
        client.poll_timeout().unwrap() - clock.now(),
        Duration::from_secs(60)
    );
    clock.advance(Duration::from_secs(60));
    Session::handle_timeout(&mut client, clock.now());
    assert_eq!(
        closed(&events(&mut client)),
        Some(&Err(SessionError::Timeout))
    );

    let (mut client, mut clock) = ready("IMAP4rev1");
    assert_eq!(client.poll_timeout(), None, "nothing in flight");
    client.noop(clock.now()).unwrap();
    let _ = wire(&mut client);
    clock.advance(Duration::from_secs(599));
    client.handle_timeout(clock.now());
    assert!(!client.is_closed());
    // A complete response restarts the clock.
    feed(&mut client, &clock, "* 1 EXISTS\r\n");
    clock.advance(Duration::from_secs(599));
    client.handle_timeout(clock.now());
    assert!(!client.is_closed());
    clock.advance(Duration::from_secs(1));
    client.handle_timeout(clock.now());
    assert_eq!(
        closed(&events(&mut client)),
        Some(&Err(SessionError::Timeout))
    );
}

#[test]
fn too_many_commands_are_refused() {
    let clock = SimClock::new();
    let mut config = ClientConfig::imaps();
    config.max_commands = 3;
    let mut client = Client::new(config, clock.now());
    feed(&mut client, &clock, "* OK [CAPABILITY IMAP4rev1] hi\r\n");
    for _ in 0..3 {
        client.noop(clock.now()).unwrap();
    }
    assert_eq!(client.noop(clock.now()), Err(ClientError::TooManyCommands));
    let _ = wire(&mut client);
    feed(&mut client, &clock, "A0001 OK\r\n");
    assert!(client.noop(clock.now()).is_ok());
}

#[test]
fn an_overlong_response_ends_the_session() {
    let clock = SimClock::new();
    let mut config = ClientConfig::imaps();
    config.framer.max_line = 100;
    let mut client = Client::new(config, clock.now());
    feed(&mut client, &clock, "* OK [CAPABILITY IMAP4rev1] hi\r\n");
    let long = format!("* OK {}\r\n", "x".repeat(200));
    let got = feed(&mut client, &clock, &long);
    assert!(
        matches!(closed(&got), Some(Err(SessionError::TooLarge(_)))),
        "{got:?}"
    );
}

#[test]
fn malformed_response_ends_the_session() {
    let (mut client, clock) = ready("IMAP4rev1");
    let got = feed(&mut client, &clock, "* 1 FETCH (FLAGS\r\n");
    assert!(matches!(
        closed(&got),
        Some(Err(SessionError::Malformed(_)))
    ));
}

#[test]
fn enabled_utf8_writes_mailbox_names_in_utf8() {
    let (mut client, clock) = ready("IMAP4rev1 ENABLE UTF8=ACCEPT");
    client.select(clock.now(), "Entw\u{fc}rfe").unwrap();
    assert_eq!(wire(&mut client), "A0001 SELECT Entw&APw-rfe\r\n");
    feed(&mut client, &clock, "A0001 OK\r\n");
    client
        .command(
            clock.now(),
            CommandBody::Enable {
                capabilities: NonEmpty::one(imap_proto::core::Atom::new("UTF8=ACCEPT").unwrap()),
            },
        )
        .unwrap();
    let _ = wire(&mut client);
    let got = feed(&mut client, &clock, "* ENABLED UTF8=ACCEPT\r\nA0002 OK\r\n");
    assert!(matches!(got[0], Event::Data(Data::Enabled(_))));
    client.select(clock.now(), "Entw\u{fc}rfe").unwrap();
    assert_eq!(wire(&mut client), "A0003 SELECT \"Entw\u{fc}rfe\"\r\n");
}

#[test]
fn transmit_marks_survive_the_session_trait() {
    let (mut client, clock) = ready("IMAP4rev1");
    client.login(clock.now(), "alice", &secret("pw")).unwrap();
    let piece: Transmit = Session::poll_transmit_marked(&mut client).unwrap();
    assert!(piece.is_secret());
}

#[test]
fn idle_behind_a_literal_waits_and_one_idle_runs_at_a_time() {
    let (mut client, clock) = ready("IMAP4rev1 IDLE");
    client
        .login(clock.now(), "alice", &secret("p\u{e4}ss"))
        .unwrap();
    let idle = client.idle(clock.now()).unwrap();
    assert_eq!(wire(&mut client), "A0001 LOGIN alice {5}\r\n");
    // The `+` is the literal's: its data goes, then the IDLE.
    let got = feed(&mut client, &clock, "+ go\r\n");
    assert!(got.is_empty());
    assert_eq!(wire(&mut client), "p\u{e4}ss\r\nA0002 IDLE\r\n");
    let got = feed(
        &mut client,
        &clock,
        "A0001 OK [CAPABILITY IMAP4rev1 IDLE] in\r\n+ idling\r\n",
    );
    assert!(got.contains(&Event::Idling { id: idle }), "{got:?}");

    // One IDLE at a time: after done(), other commands go at once, another IDLE waits for
    // the completion.
    client.done(clock.now()).unwrap();
    assert_eq!(client.idle(clock.now()), Err(ClientError::Idling));
    let noop = client.noop(clock.now()).unwrap();
    assert_eq!(wire(&mut client), "DONE\r\nA0003 NOOP\r\n");
    let got = feed(&mut client, &clock, "A0002 OK\r\nA0003 OK\r\n");
    assert_eq!(
        completed(&got),
        [(idle, StatusKind::Ok), (noop, StatusKind::Ok)]
    );
    let again = client.idle(clock.now()).unwrap();
    assert_eq!(wire(&mut client), "A0004 IDLE\r\n");
    let got = feed(&mut client, &clock, "+ idling\r\n");
    assert_eq!(got, [Event::Idling { id: again }]);
}

/// The client on the shared tokio driver (`imap_proto::tokio::ClientConnection`), against a
/// scripted server on an in-memory stream.
#[cfg(feature = "tokio")]
mod tokio_driver {
    use std::time::Instant;

    use imap_proto::client::{Client, ClientConfig, Event, SessionError};
    use imap_proto::tokio::ClientConnection;
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, duplex};

    #[tokio::test]
    async fn a_response_injected_after_the_starttls_ok_ends_the_session_without_a_handshake() {
        let (client_side, server_side) = duplex(4096);
        let server = tokio::spawn(async move {
            let (read, mut write) = tokio::io::split(server_side);
            let mut read = BufReader::new(read);
            write
                .write_all(b"* OK [CAPABILITY IMAP4rev1 STARTTLS] hi\r\n")
                .await
                .unwrap();
            let mut line = String::new();
            read.read_line(&mut line).await.unwrap();
            assert_eq!(line, "A0001 STARTTLS\r\n");
            // The OK and, in the same write, a response an attacker slipped in.
            write
                .write_all(b"A0001 OK go\r\n* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n")
                .await
                .unwrap();
            // Whatever the client does next, it is not a TLS ClientHello.
            let mut rest = Vec::new();
            let _ = tokio::io::AsyncReadExt::read_to_end(&mut read, &mut rest).await;
            rest
        });
        let tls = mail_tls::ClientTls::webpki_roots().build().unwrap();
        let name = mail_tls::server_name("localhost").unwrap();
        let options = mail_tls::tokio::HandshakeOptions::new(std::time::Duration::from_secs(5));
        let client = Client::new(ClientConfig::new(), Instant::now());
        let mut conn = ClientConnection::new(client_side, client).with_starttls(tls, name, options);
        let mut events = Vec::new();
        while let Some(event) = conn.next_event().await.unwrap() {
            events.push(event);
        }
        assert!(!events.contains(&Event::StartTls), "{events:?}");
        assert_eq!(
            events.last(),
            Some(&Event::Closed(Err(SessionError::StartTlsInjection)))
        );
        drop(conn);
        assert_eq!(server.await.unwrap(), b"");
    }
}
