//! Adversarial review of the server machine (issue 18): a hostile client and a careless
//! application. Each test asserts the right behaviour at the wire, in the events or in the
//! errors; each failed before the fix named in its commit.

use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use imap_proto::response::{Capability, StatusKind};
use imap_proto::server::{
    Event, OUTPUT_HIGH_WATER, SelectInfo, Server, ServerConfig, ServerError, SessionError,
};
use imap_proto::view::{Change, Snapshot, ViewConfig, ViewError};
use mail_testkit::Users;
use mail_testkit::users::server_nonce;

fn nz(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap()
}

/// A session and the events it emitted that the harness did not answer.
struct T {
    server: Server,
    now: Instant,
    events: Vec<Event>,
    users: Users,
}

impl T {
    fn new(config: ServerConfig) -> T {
        let now = Instant::now();
        let mut t = T {
            server: Server::new(config, now),
            now,
            events: Vec::new(),
            users: Users::standard(),
        };
        t.pump();
        t
    }

    fn logged_in(config: ServerConfig) -> T {
        let mut t = T::new(config);
        let out = t.send(b"l1 LOGIN alice secret\r\n");
        assert!(out.contains("l1 OK [CAPABILITY "), "{out}");
        t.events.clear();
        t
    }

    /// Logged in, INBOX selected with UIDs 7, 9 and 10.
    fn selected(config: ServerConfig) -> T {
        let mut t = T::logged_in(config);
        t.send(b"s1 SELECT INBOX\r\n");
        assert!(matches!(t.take(), Event::Command { .. }));
        t.server
            .selected(snapshot(&[7, 9, 10]), SelectInfo::new(vec![]))
            .unwrap();
        let out = t.pump();
        assert!(
            out.ends_with("s1 OK [READ-WRITE] SELECT completed\r\n"),
            "{out}"
        );
        t
    }

    fn send(&mut self, bytes: &[u8]) -> String {
        self.server.feed(self.now, bytes);
        self.pump()
    }

    /// Runs the machine: logins are answered with the standard users, other events kept.
    fn pump(&mut self) -> String {
        self.run();
        self.written()
    }

    fn run(&mut self) {
        while let Some(event) = self.server.poll_event() {
            match event {
                Event::AuthStep { .. } => {
                    self.server.auth_step(&self.users, server_nonce()).unwrap()
                }
                other => self.events.push(other),
            }
        }
    }

    fn written(&mut self) -> String {
        let mut out = Vec::new();
        while let Some(bytes) = self.server.poll_transmit() {
            out.extend_from_slice(&bytes);
        }
        String::from_utf8(out).unwrap()
    }

    fn take(&mut self) -> Event {
        assert!(!self.events.is_empty(), "no event");
        self.events.remove(0)
    }

    fn closed(&self) -> Option<&Result<(), SessionError>> {
        self.events.iter().find_map(|e| match e {
            Event::Closed(result) => Some(result),
            _ => None,
        })
    }
}

fn snapshot(uids: &[u32]) -> Snapshot {
    Snapshot {
        uid_validity: nz(5),
        uid_next: nz(uids.last().copied().unwrap_or(0) + 1),
        highest_modseq: None,
        uids: uids.iter().map(|&u| nz(u)).collect(),
    }
}

fn plain_config() -> ServerConfig {
    let mut config = ServerConfig::default();
    config.allow_plaintext_auth = true;
    config
}

#[test]
fn pipelined_failed_logins_each_wait_the_failure_delay() {
    let mut config = plain_config();
    config.max_auth_failures = 3;
    let mut t = T::new(config);
    let t0 = t.now;
    assert_eq!(
        t.send(b"a1 LOGIN alice wrong1\r\na2 LOGIN alice wrong2\r\n"),
        ""
    );
    let delay = Duration::from_secs(2);
    assert_eq!(t.server.poll_timeout(), Some(t0 + delay));
    t.server.handle_timeout(t0 + delay);
    assert_eq!(
        t.pump(),
        "a1 NO [AUTHENTICATIONFAILED] Authentication failed\r\n"
    );
    // The pipelined second attempt is held for the whole delay again, counted from the
    // release of the first: pipelining must not buy guesses without waiting.
    let due = t.server.poll_timeout().unwrap();
    assert!(due >= t0 + 2 * delay, "held only until {:?}", due - t0);
    t.server.handle_timeout(t0 + delay);
    assert_eq!(t.pump(), "");
    t.server.handle_timeout(t0 + 2 * delay);
    assert_eq!(
        t.pump(),
        "a2 NO [AUTHENTICATIONFAILED] Authentication failed\r\n"
    );
}

#[test]
fn a_view_overflow_during_an_append_reports_it_aborted() {
    let mut config = plain_config();
    config.view = ViewConfig::with_max_pending(2);
    let mut t = T::selected(config);
    t.send(b"p1 APPEND Drafts {10}\r\n");
    assert!(matches!(t.take(), Event::AppendStart { .. }));
    t.server.accept_append().unwrap();
    assert_eq!(t.pump(), "+ Ready for literal data\r\n");
    t.send(b"Subject");
    assert!(matches!(t.take(), Event::AppendData(_)));
    let mut result = Ok(());
    for uid in 11..20 {
        result = t.server.mailbox_changed(Change::Added {
            uid: nz(uid),
            flags: vec![],
            modseq: None,
        });
        if result.is_err() {
            break;
        }
    }
    assert_eq!(result, Err(ViewError::Overflow));
    assert_eq!(
        t.pump(),
        "* BYE [ALERT] Too many changes to the mailbox; reconnect to resynchronise\r\n"
    );
    // The application stored part of a message: it must hear that the APPEND is off.
    assert!(
        t.events
            .iter()
            .any(|e| matches!(e, Event::AppendAborted { tag } if tag.as_str() == "p1")),
        "{:?}",
        t.events
    );
    assert_eq!(t.closed(), Some(&Err(SessionError::ViewOverflow)));
}

#[test]
fn completing_a_select_ok_without_selected_is_a_misuse() {
    let mut t = T::logged_in(plain_config());
    t.send(b"s1 SELECT INBOX\r\n");
    assert!(matches!(t.take(), Event::Command { .. }));
    // A tagged OK without the mailbox's data would leave the client believing it selected
    // a mailbox the server never opened.
    assert!(matches!(
        t.server.complete(StatusKind::Ok, None, "SELECT completed"),
        Err(ServerError::WrongDecision(_))
    ));
    assert_eq!(t.pump(), "");
    // The decision is still pending: a refusal or selected() answers it.
    t.server
        .complete(StatusKind::No, None, "No such mailbox")
        .unwrap();
    assert_eq!(t.pump(), "s1 NO No such mailbox\r\n");
    assert_eq!(
        t.send(b"f1 FETCH 1 FLAGS\r\n"),
        "f1 BAD No mailbox selected\r\n"
    );
}

#[test]
fn idle_to_a_client_that_never_reads_keeps_output_bounded() {
    let mut config = plain_config();
    config.view = ViewConfig::with_max_pending(100_000);
    let mut t = T::selected(config);
    assert_eq!(t.send(b"i1 IDLE\r\n"), "+ idling\r\n");
    // The driver cannot write (the client reads nothing): changes keep coming.
    let mut uid = 11;
    let mut ended = false;
    for _ in 0..60_000 {
        uid += 1;
        if t.server
            .mailbox_changed(Change::Added {
                uid: nz(uid),
                flags: vec![],
                modseq: None,
            })
            .is_err()
        {
            ended = true;
            break;
        }
        // Flag changes of known messages, each a FETCH line.
        let _ = t.server.mailbox_changed(Change::Flags {
            uid: nz(9),
            flags: vec![imap_proto::flag::Flag::Keyword(
                imap_proto::core::Atom::new(format!("k{uid}")).unwrap(),
            )],
            modseq: None,
        });
        t.run();
    }
    assert!(!ended);
    // What waits to be written stays near the high-water mark; the rest waits in the view.
    let out = t.written();
    assert!(
        out.len() < OUTPUT_HIGH_WATER + 64 * 1024,
        "{} octets queued",
        out.len()
    );
    // Once written, the rest goes out at the next turn of the driver's loop, coalesced.
    let more = t.pump();
    assert!(
        more.contains(&format!("* {} EXISTS\r\n", uid - 11 + 3)),
        "{more}"
    );
    assert_eq!(t.pump(), "");
    assert_eq!(t.send(b"DONE\r\n"), "i1 OK IDLE terminated\r\n");
}

#[test]
fn configured_capabilities_never_claim_what_the_machine_decides() {
    // A careless application lists STARTTLS, LOGINDISABLED or an AUTH= in its capabilities:
    // they must not follow the session into TLS or past login.
    let mut config = ServerConfig::default();
    config.capabilities = vec![
        Capability::StartTls,
        Capability::LoginDisabled,
        Capability::Auth(imap_proto::core::Atom::new("PLAIN").unwrap()),
        Capability::SaslIr,
        Capability::UidPlus,
    ];
    let mut t = T::new(config);
    let out = t.send(b"c1 CAPABILITY\r\n");
    assert!(
        out.contains(" STARTTLS") && out.contains(" LOGINDISABLED"),
        "{out}"
    );
    assert!(!out.contains("AUTH=") && !out.contains("SASL-IR"), "{out}");
    assert!(out.contains(" UIDPLUS"), "{out}");
    t.send(b"t1 STARTTLS\r\n");
    assert!(matches!(t.take(), Event::StartTls));
    t.server.tls_established(t.now).unwrap();
    let out = t.send(b"c2 CAPABILITY\r\n");
    assert!(
        !out.contains("STARTTLS") && !out.contains("LOGINDISABLED"),
        "{out}"
    );
    assert!(
        out.contains(" AUTH=PLAIN AUTH=SCRAM-SHA-256 SASL-IR"),
        "{out}"
    );
    assert_eq!(out.matches("AUTH=PLAIN").count(), 1, "{out}");
    let out = t.send(b"l1 LOGIN alice secret\r\n");
    assert!(!out.contains("AUTH=") && !out.contains("SASL-IR"), "{out}");
    assert!(
        !out.contains("STARTTLS") && !out.contains("LOGINDISABLED"),
        "{out}"
    );
    assert!(out.contains(" UIDPLUS"), "{out}");
}

#[test]
fn refused_literal_data_is_never_read_as_a_command() {
    // LITERAL-: a non-synchronising literal over 4096 octets is BAD and its data skipped,
    // whatever it looks like.
    let mut config = plain_config();
    config.literal_plus = imap_proto::server::LiteralPlus::Minus;
    let mut t = T::logged_in(config);
    let mut wire = b"a1 NOOP {5000+}\r\n".to_vec();
    wire.extend_from_slice(&b"b LOGOUT\r\n".repeat(500));
    wire.extend_from_slice(b"\r\nc1 NOOP\r\n");
    let out = t.send(&wire);
    assert_eq!(
        out,
        "a1 BAD Non-synchronizing literal over 4096 octets (LITERAL-)\r\nc1 OK NOOP completed\r\n"
    );
    assert!(t.closed().is_none());
    // A synchronising literal refused as too large: the client sends no data; what it
    // sends next is a command.
    let out = t.send(b"a2 NOOP {999999999999}\r\n");
    assert_eq!(out, "a2 NO [TOOBIG] Literal too large\r\n");
    assert_eq!(t.send(b"a3 NOOP\r\n"), "a3 OK NOOP completed\r\n");
}

#[test]
fn a_multiappend_refused_midway_answers_once_and_skips_the_rest() {
    let mut t = T::logged_in(plain_config());
    t.send(b"p1 APPEND Drafts {3+}\r\none {3+}\r\ntwo {5+}\r\nthree\r\np2 NOOP\r\n");
    assert!(matches!(t.take(), Event::AppendStart { index: 0, .. }));
    t.server.accept_append().unwrap();
    t.run();
    assert!(matches!(t.take(), Event::AppendData(_)));
    assert!(matches!(
        t.take(),
        Event::AppendEnd {
            index: 0,
            last: false
        }
    ));
    assert!(matches!(t.take(), Event::AppendStart { index: 1, .. }));
    t.server
        .complete(StatusKind::No, None, "Over quota")
        .unwrap();
    assert_eq!(t.pump(), "p1 NO Over quota\r\np2 OK NOOP completed\r\n");
    assert!(t.events.is_empty(), "{:?}", t.events);
}

#[test]
fn a_binary_append_carries_nul_octets() {
    let mut config = plain_config();
    config.capabilities = vec![Capability::Binary];
    let mut t = T::logged_in(config);
    t.send(b"p1 APPEND Drafts ~{5+}\r\na\0b\0c\r\n");
    assert!(matches!(t.take(), Event::AppendStart { size: 5, .. }));
    t.server.accept_append().unwrap();
    t.run();
    let Event::AppendData(data) = t.take() else {
        panic!("{:?}", t.events)
    };
    assert_eq!(&data[..], b"a\0b\0c");
    assert!(matches!(
        t.take(),
        Event::AppendEnd {
            index: 0,
            last: true
        }
    ));
}

#[test]
fn idle_ends_on_done_in_any_case_and_lasts_thirty_minutes() {
    let mut t = T::selected(plain_config());
    assert_eq!(t.send(b"i1 IDLE\r\n"), "+ idling\r\n");
    assert_eq!(t.send(b"dOnE\r\n"), "i1 OK IDLE terminated\r\n");
    assert_eq!(t.send(b"i2 IDLE\r\n"), "+ idling\r\n");
    let t0 = t.now;
    t.server
        .handle_timeout(t0 + Duration::from_secs(29 * 60 + 59));
    assert_eq!(t.pump(), "");
    assert!(t.server.poll_timeout().unwrap() >= t0 + Duration::from_secs(30 * 60));
    t.server.handle_timeout(t0 + Duration::from_secs(30 * 60));
    assert_eq!(t.pump(), "* BYE Autologout; idle for too long\r\n");
    assert_eq!(t.closed(), Some(&Err(SessionError::Timeout)));
}

#[test]
fn idle_then_eof_closes_the_session() {
    let mut t = T::selected(plain_config());
    assert_eq!(t.send(b"i1 IDLE\r\n"), "+ idling\r\n");
    t.server.handle_eof();
    assert_eq!(t.pump(), "");
    assert_eq!(t.closed(), Some(&Err(SessionError::PeerClosed)));
}

#[test]
fn sequence_numbers_beyond_exists_are_bad_and_uids_beyond_are_skipped() {
    let mut t = T::selected(plain_config());
    let out = t.send(b"f1 FETCH 4 FLAGS\r\n");
    assert!(out.starts_with("f1 BAD "), "{out}");
    assert!(t.events.is_empty());
    t.send(b"f2 UID FETCH 8:100 FLAGS\r\n");
    let Event::Command { messages, .. } = t.take() else {
        panic!()
    };
    assert_eq!(messages, [(nz(2), nz(9)), (nz(3), nz(10))]);
    assert_eq!(
        t.server
            .fetch(nz(8), vec![imap_proto::fetch::MessageDataItem::Uid(nz(8))]),
        Err(ServerError::UnknownUid(8))
    );
    t.server.complete(StatusKind::Ok, None, "done").unwrap();
    assert_eq!(t.pump(), "f2 OK done\r\n");
    assert_eq!(
        t.server.complete(StatusKind::Ok, None, "again"),
        Err(ServerError::NoPendingDecision)
    );
}

#[test]
fn the_login_timeout_counts_from_the_connection_not_from_the_last_command() {
    // A client that never logs in must not hold the connection by sending NOOP now and
    // then (Dovecot's pre-login timeout is absolute too).
    let mut t = T::new(plain_config());
    let t0 = t.now;
    let login = Duration::from_secs(60);
    for secs in [20, 40, 55] {
        t.now = t0 + Duration::from_secs(secs);
        assert_eq!(t.send(b"n NOOP\r\n"), "n OK NOOP completed\r\n");
    }
    assert_eq!(t.server.poll_timeout(), Some(t0 + login));
    t.server
        .handle_timeout(t0 + login - Duration::from_millis(1));
    assert_eq!(t.pump(), "");
    t.server.handle_timeout(t0 + login);
    assert_eq!(t.pump(), "* BYE Autologout; idle for too long\r\n");
    assert_eq!(t.closed(), Some(&Err(SessionError::Timeout)));

    // Logged in, the idle time counts from the last command.
    let mut t = T::new(plain_config());
    t.now = t0 + Duration::from_secs(50);
    assert!(t.send(b"l1 LOGIN alice secret\r\n").starts_with("l1 OK"));
    t.server.handle_timeout(t0 + login);
    assert_eq!(t.pump(), "");
    assert!(t.closed().is_none());
    assert!(t.server.poll_timeout().unwrap() >= t.now + Duration::from_secs(30 * 60));
}

#[test]
fn respond_refuses_data_only_the_view_may_number() {
    // A careless application sending EXISTS, EXPUNGE, VANISHED or FETCH itself would
    // desynchronise the client's numbering from the view's: it must go through
    // mailbox_changed() and fetch().
    use imap_proto::response::Data;
    let mut t = T::selected(plain_config());
    t.send(b"f1 FETCH 1 FLAGS\r\n");
    assert!(matches!(t.take(), Event::Command { .. }));
    let fetch = Data::Fetch {
        seq: nz(1),
        items: vec![imap_proto::fetch::MessageDataItem::Uid(nz(7))].into(),
    };
    for data in [Data::Exists(9), Data::Expunge(nz(1)), fetch] {
        assert!(
            matches!(t.server.respond(data), Err(ServerError::Invalid(_))),
            "accepted"
        );
    }
    assert_eq!(t.pump(), "");
    // Data the application owns still goes out.
    t.server.respond(Data::Flags(vec![].into())).unwrap();
    t.server.complete(StatusKind::Ok, None, "done").unwrap();
    assert_eq!(t.pump(), "* FLAGS ()\r\nf1 OK done\r\n");
}

#[test]
fn append_done_needs_one_uid_per_message() {
    let mut config = plain_config();
    config.capabilities = vec![Capability::UidPlus, Capability::MultiAppend];
    let mut t = T::logged_in(config);
    t.send(b"p1 APPEND Drafts {3+}\r\none {3+}\r\ntwo\r\n");
    for _ in 0..2 {
        assert!(matches!(t.take(), Event::AppendStart { .. }));
        t.server.accept_append().unwrap();
        t.run();
        assert!(matches!(t.take(), Event::AppendData(_)));
        assert!(matches!(t.take(), Event::AppendEnd { .. }));
    }
    // Two messages: an APPENDUID with one UID (or three) would be false.
    assert!(matches!(
        t.server.append_done(nz(5), &[nz(20)]),
        Err(ServerError::Invalid(_))
    ));
    assert!(matches!(
        t.server.append_done(nz(5), &[nz(20), nz(21), nz(22)]),
        Err(ServerError::Invalid(_))
    ));
    assert_eq!(t.pump(), "");
    t.server.append_done(nz(5), &[nz(20), nz(21)]).unwrap();
    assert_eq!(t.pump(), "p1 OK [APPENDUID 5 20:21] APPEND completed\r\n");
}

#[test]
fn authenticate_with_a_response_that_is_not_base64_is_bad_at_once() {
    // RFC 9051 section 6.2.2: an invalid base64 string MUST be rejected with BAD.
    let mut t = T::new(plain_config());
    assert_eq!(t.send(b"a1 AUTHENTICATE PLAIN\r\n"), "+ \r\n");
    let out = t.send(b"!!not base64!!\r\n");
    assert!(out.starts_with("a1 BAD "), "{out:?}");
    assert!(matches!(
        t.take(),
        Event::AuthFailed {
            mechanism: mail_wire::sasl::Mechanism::Plain,
            ..
        }
    ));
    assert_eq!(t.send(b"a2 NOOP\r\n"), "a2 OK NOOP completed\r\n");
}

#[test]
fn a_bearer_exchange_cancelled_after_its_error_challenge_is_a_failed_login() {
    // XOAUTH2 and OAUTHBEARER tell a wrong token at once, in their error challenge; a client
    // that then cancels must not skip the failure delay and count.
    let mut config = plain_config();
    config.sasl_mechanisms = vec![mail_wire::sasl::Mechanism::XOAuth2];
    config.max_auth_failures = 2;
    let mut t = T::new(config);
    let t0 = t.now;
    let delay = Duration::from_secs(2);
    // "user=alice\x01auth=Bearer wrong-token\x01\x01"
    let attempt = |tag: &str| {
        format!("{tag} AUTHENTICATE XOAUTH2 dXNlcj1hbGljZQFhdXRoPUJlYXJlciB3cm9uZy10b2tlbgEB\r\n")
    };
    let out = t.send(attempt("a1").as_bytes());
    assert!(out.starts_with("+ ") && out.len() > 4, "{out:?}");
    assert_eq!(t.send(b"*\r\n"), "");
    assert!(matches!(t.take(), Event::AuthFailed { .. }));
    assert_eq!(t.server.poll_timeout(), Some(t0 + delay));
    t.server.handle_timeout(t0 + delay);
    assert_eq!(t.pump(), "a1 BAD Authentication cancelled\r\n");
    let out = t.send(attempt("a2").as_bytes());
    assert!(out.starts_with("+ "), "{out:?}");
    assert_eq!(t.send(b"*\r\n"), "");
    let due = t.server.poll_timeout().unwrap();
    assert!(due >= t0 + 2 * delay);
    t.server.handle_timeout(due);
    assert_eq!(
        t.pump(),
        "a2 BAD Authentication cancelled\r\n* BYE Too many authentication failures\r\n"
    );
    assert_eq!(t.closed(), Some(&Err(SessionError::TooManyAuthFailures)));
}

#[test]
fn an_overlong_line_after_a_bearer_error_challenge_is_a_failed_login_too() {
    let mut config = plain_config();
    config.sasl_mechanisms = vec![mail_wire::sasl::Mechanism::OAuthBearer];
    config.max_auth_failures = 1;
    config.max_line = 100;
    let mut t = T::new(config);
    // "n,a=alice,\x01auth=Bearer wrong-token\x01\x01"
    let out =
        t.send(b"a1 AUTHENTICATE OAUTHBEARER bixhPWFsaWNlLAFhdXRoPUJlYXJlciB3cm9uZy10b2tlbgEB\r\n");
    assert!(out.starts_with("+ "), "{out:?}");
    let mut line = vec![b'A'; 200];
    line.extend_from_slice(b"\r\n");
    assert_eq!(t.send(&line), "");
    t.server.handle_timeout(t.now + Duration::from_secs(2));
    assert_eq!(
        t.pump(),
        "a1 BAD Invalid base64 data in the authentication response\r\n\
         * BYE Too many authentication failures\r\n"
    );
    assert_eq!(t.closed(), Some(&Err(SessionError::TooManyAuthFailures)));
}

#[test]
fn a_failed_login_is_answered_before_a_half_closed_session_ends() {
    // The client shut its sending side after a wrong LOGIN: it still reads the answer.
    let mut t = T::new(plain_config());
    assert_eq!(t.send(b"a1 LOGIN alice wrong\r\n"), "");
    t.server.handle_eof();
    assert_eq!(t.pump(), "");
    assert!(t.closed().is_none(), "{:?}", t.events);
    t.server.handle_timeout(t.now + Duration::from_secs(2));
    assert_eq!(
        t.pump(),
        "a1 NO [AUTHENTICATIONFAILED] Authentication failed\r\n"
    );
    assert_eq!(t.closed(), Some(&Err(SessionError::PeerClosed)));
}

#[test]
fn fetch_refuses_a_uid_item_that_names_another_message() {
    // `* 2 FETCH (UID 99)` for the message of UID 9 would teach the client a false UID.
    use imap_proto::fetch::MessageDataItem;
    let mut t = T::selected(plain_config());
    t.send(b"f1 UID FETCH 9 FLAGS\r\n");
    assert!(matches!(t.take(), Event::Command { .. }));
    assert!(matches!(
        t.server.fetch(nz(9), vec![MessageDataItem::Uid(nz(99))]),
        Err(ServerError::Invalid(_))
    ));
    assert_eq!(t.pump(), "");
    t.server
        .fetch(nz(9), vec![MessageDataItem::Uid(nz(9))])
        .unwrap();
    t.server.complete(StatusKind::Ok, None, "done").unwrap();
    assert_eq!(t.pump(), "* 2 FETCH (UID 9)\r\nf1 OK done\r\n");
}

#[test]
fn condstore_modifiers_are_bad_where_condstore_is_not_offered() {
    // An application without CONDSTORE would run `STORE ... (UNCHANGEDSINCE n)` as an
    // unconditional STORE: the client's conditional change would overwrite others'.
    let mut t = T::selected(plain_config());
    for (tag, line) in [
        ("c1", "c1 STORE 1 (UNCHANGEDSINCE 5) +FLAGS (\\Seen)\r\n"),
        ("c2", "c2 FETCH 1 (FLAGS) (CHANGEDSINCE 5)\r\n"),
        (
            "c3",
            "c3 UID FETCH 1:* (FLAGS) (CHANGEDSINCE 5 VANISHED)\r\n",
        ),
        ("c4", "c4 SELECT INBOX (CONDSTORE)\r\n"),
    ] {
        let out = t.send(line.as_bytes());
        assert!(
            out.starts_with(&format!("{tag} BAD ")),
            "{line:?} -> {out:?}"
        );
        assert!(t.events.is_empty(), "{:?}", t.events);
    }
    // VANISHED needs QRESYNC enabled (RFC 7162 section 3.2.6), even where it is offered.
    let mut config = plain_config();
    config.capabilities = vec![Capability::CondStore, Capability::QResync];
    let mut t = T::selected(config);
    let out = t.send(b"c5 UID FETCH 1:* (FLAGS) (CHANGEDSINCE 5 VANISHED)\r\n");
    assert!(out.starts_with("c5 BAD "), "{out:?}");
    assert!(t.events.is_empty(), "{:?}", t.events);
}

#[test]
fn data_sent_after_a_refused_synchronising_append_is_read_as_commands() {
    // The client must not send a refused synchronising literal's data; one that does gets
    // its bytes read as command lines, never as a message.
    let mut t = T::logged_in(plain_config());
    assert_eq!(t.send(b"p1 APPEND Drafts {11}\r\n"), "");
    assert!(matches!(t.take(), Event::AppendStart { size: 11, .. }));
    t.server
        .complete(StatusKind::No, None, "Mailbox is full")
        .unwrap();
    assert_eq!(t.pump(), "p1 NO Mailbox is full\r\n");
    assert_eq!(t.send(b"n1 NOOP\r\n"), "n1 OK NOOP completed\r\n");
    assert!(t.events.is_empty(), "{:?}", t.events);
}

#[test]
fn config_check_refuses_a_server_nobody_can_log_in_to() {
    // No TLS, no STARTTLS, no plaintext credentials: LOGINDISABLED and no way out.
    let mut config = ServerConfig::default();
    config.starttls = false;
    assert_eq!(
        config.check(),
        Err(imap_proto::server::ConfigError::NoWayToLogIn)
    );
    let mut t = T::new(config.clone());
    let out = t.send(b"c1 CAPABILITY\r\n");
    assert!(
        out.contains(" LOGINDISABLED") && !out.contains("STARTTLS"),
        "{out}"
    );
    // Any of them makes it work.
    let mut with_starttls = config.clone();
    with_starttls.starttls = true;
    let mut plaintext = config.clone();
    plaintext.allow_plaintext_auth = true;
    let mut tls = config.clone();
    tls.implicit_tls = true;
    for config in [with_starttls, plaintext, tls] {
        assert_eq!(config.check(), Ok(()));
    }
}

#[test]
fn starttls_behind_pipelined_or_held_commands_still_refuses_injection() {
    // Commands answered before STARTTLS do not make what follows it legitimate.
    let mut t = T::new(ServerConfig::default());
    let out = t.send(b"n1 NOOP\r\nt1 STARTTLS\r\nl1 LOGIN alice secret\r\n");
    assert_eq!(
        out,
        "n1 OK NOOP completed\r\nt1 OK Begin TLS negotiation now\r\n"
    );
    assert_eq!(t.closed(), Some(&Err(SessionError::StartTlsInjection)));
    assert!(
        !t.events
            .iter()
            .any(|e| matches!(e, Event::StartTls | Event::Authenticated(_))),
        "{:?}",
        t.events
    );

    // Behind a failed login held back: STARTTLS runs after the delay, and the bytes after
    // it still close the session.
    let mut config = plain_config();
    config.starttls = true;
    let mut t = T::new(config);
    assert_eq!(
        t.send(b"a1 LOGIN alice wrong\r\nt1 STARTTLS\r\nl1 LOGIN alice secret\r\n"),
        ""
    );
    t.server.handle_timeout(t.now + Duration::from_secs(2));
    assert_eq!(
        t.pump(),
        "a1 NO [AUTHENTICATIONFAILED] Authentication failed\r\n\
         t1 OK Begin TLS negotiation now\r\n"
    );
    assert_eq!(t.closed(), Some(&Err(SessionError::StartTlsInjection)));
    assert!(!t.events.iter().any(|e| matches!(e, Event::StartTls)));
}

#[test]
fn too_much_input_during_an_append_reports_it_aborted() {
    let mut t = T::logged_in(plain_config());
    t.send(b"p1 APPEND Drafts {1000000}\r\n");
    assert!(matches!(t.take(), Event::AppendStart { .. }));
    t.server.accept_append().unwrap();
    assert_eq!(t.pump(), "+ Ready for literal data\r\n");
    t.send(&[b'x'; 1000]);
    assert!(matches!(t.take(), Event::AppendData(_)));
    // A driver that feeds past max_buffered_input in one go.
    let out = t.send(&vec![b'x'; 400 * 1024]);
    assert_eq!(out, "* BYE Too much input\r\n");
    assert!(
        t.events
            .iter()
            .any(|e| matches!(e, Event::AppendAborted { tag } if tag.as_str() == "p1")),
        "{:?}",
        t.events
    );
    assert_eq!(t.closed(), Some(&Err(SessionError::InputOverflow)));
}
