//! The server machine's behaviour, unit by unit, through its public API: each test feeds
//! what a client sends and asserts the bytes the server writes and the events it emits.

use std::num::{NonZeroU32, NonZeroU64};
use std::time::{Duration, Instant};

use imap_proto::command::CommandBody;
use imap_proto::fetch::MessageDataItem;
use imap_proto::flag::{Flag, FlagFetch};
use imap_proto::response::{Capability, StatusKind};
use imap_proto::server::{
    ConfigError, Event, LiteralPlus, SelectInfo, Server, ServerConfig, ServerError, SessionError,
    State,
};
use imap_proto::view::{Change, Snapshot, ViewConfig, ViewError};
use mail_testkit::Users;
use mail_testkit::users::server_nonce;
use mail_wire::sasl::Mechanism;
use mail_wire::session::Session;

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
    fn new(config: ServerConfig) -> (T, String) {
        let now = Instant::now();
        let mut t = T {
            server: Server::new(config, now),
            now,
            events: Vec::new(),
            users: Users::standard(),
        };
        let greeting = t.pump();
        (t, greeting)
    }

    /// Plaintext with credentials allowed, greeting read.
    fn plain() -> T {
        let mut config = ServerConfig::default();
        config.allow_plaintext_auth = true;
        T::new(config).0
    }

    /// Logged in as alice.
    fn logged_in(config: ServerConfig) -> T {
        let (mut t, _) = T::new(config);
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
            .selected(snapshot(&[7, 9, 10]), SelectInfo::new(vec![Flag::Seen]))
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
        while let Some(event) = self.server.poll_event() {
            match event {
                Event::AuthStep { .. } => {
                    self.server.auth_step(&self.users, server_nonce()).unwrap()
                }
                other => self.events.push(other),
            }
        }
        let mut out = Vec::new();
        while let Some(bytes) = self.server.poll_transmit() {
            out.extend_from_slice(&bytes);
        }
        String::from_utf8(out).unwrap()
    }

    /// The oldest event kept.
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

const CAPS_PLAIN: &str =
    "IMAP4rev1 STARTTLS LOGINDISABLED IDLE ENABLE LITERAL+ ID UNSELECT APPENDLIMIT=67108864";

#[test]
fn greeting_before_tls_offers_starttls_and_disables_login() {
    let (_, greeting) = T::new(ServerConfig::default());
    assert_eq!(
        greeting,
        format!("* OK [CAPABILITY {CAPS_PLAIN}] IMAP server ready\r\n")
    );
}

#[test]
fn capability_over_implicit_tls_offers_sasl_and_app_capabilities() {
    let mut config = ServerConfig::imaps();
    config.imap4rev2 = true;
    config.capabilities = vec![Capability::UidPlus, Capability::Move];
    config.literal_plus = LiteralPlus::Minus;
    config.append_limit = None;
    let (mut t, _) = T::new(config);
    assert_eq!(
        t.send(b"c1 CAPABILITY\r\n"),
        "* CAPABILITY IMAP4rev1 IMAP4rev2 AUTH=PLAIN AUTH=SCRAM-SHA-256 SASL-IR IDLE ENABLE \
         LITERAL- ID UNSELECT UIDPLUS MOVE\r\nc1 OK CAPABILITY completed\r\n"
    );
}

#[test]
fn login_answers_with_the_capabilities_of_the_authenticated_state() {
    let mut t = T::plain();
    let out = t.send(b"a1 LOGIN alice secret\r\n");
    assert_eq!(
        out,
        "a1 OK [CAPABILITY IMAP4rev1 IDLE ENABLE LITERAL+ ID UNSELECT APPENDLIMIT=67108864] \
         Logged in\r\n"
    );
    assert!(matches!(t.take(), Event::Authenticated(a) if a.identity() == "alice"));
    assert_eq!(t.server.state(), State::Authenticated);
    let out = t.send(b"a2 CAPABILITY\r\n");
    assert!(!out.contains("STARTTLS") && !out.contains("AUTH=") && !out.contains("LOGINDISABLED"));
}

#[test]
fn login_before_tls_is_refused_with_privacyrequired() {
    let (mut t, _) = T::new(ServerConfig::default());
    assert_eq!(
        t.send(b"a1 LOGIN alice secret\r\n"),
        "a1 NO [PRIVACYREQUIRED] Use STARTTLS first: no credentials before TLS\r\n"
    );
    // A password in a literal is refused before the client sends it.
    assert_eq!(
        t.send(b"a2 LOGIN alice {6}\r\n"),
        "a2 NO [PRIVACYREQUIRED] Use STARTTLS first: no credentials before TLS\r\n"
    );
    assert_eq!(
        t.send(b"a3 AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==\r\n"),
        "a3 NO [PRIVACYREQUIRED] Use STARTTLS first: no credentials before TLS\r\n"
    );
    assert_eq!(t.server.state(), State::NotAuthenticated);
}

#[test]
fn failed_login_is_held_back_then_answered_and_too_many_end_the_session() {
    let mut config = ServerConfig::default();
    config.allow_plaintext_auth = true;
    config.max_auth_failures = 2;
    let (mut t, _) = T::new(config);
    assert_eq!(t.send(b"a1 LOGIN alice wrong\r\n"), "");
    assert!(matches!(
        t.take(),
        Event::AuthFailed { mechanism: Mechanism::Plain, user: Some(u), .. } if u == "alice"
    ));
    let due = t.server.poll_timeout().unwrap();
    assert!(due >= t.now + Duration::from_secs(2));
    assert!(!t.server.wants_input());
    t.server.handle_timeout(due - Duration::from_millis(1));
    assert_eq!(t.pump(), "");
    t.server.handle_timeout(due);
    assert_eq!(
        t.pump(),
        "a1 NO [AUTHENTICATIONFAILED] Authentication failed\r\n"
    );
    t.send(b"a2 LOGIN alice wrong-again\r\n");
    let due = t.server.poll_timeout().unwrap();
    t.server.handle_timeout(due);
    assert_eq!(
        t.pump(),
        "a2 NO [AUTHENTICATIONFAILED] Authentication failed\r\n\
         * BYE Too many authentication failures\r\n"
    );
    assert_eq!(t.closed(), Some(&Err(SessionError::TooManyAuthFailures)));
    assert!(t.server.is_closed());
}

#[test]
fn authenticate_with_initial_response_and_with_challenges() {
    let mut t = T::plain();
    // PLAIN with SASL-IR: "\0alice\0secret".
    let out = t.send(b"a1 AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==\r\n");
    assert!(out.starts_with("a1 OK [CAPABILITY IMAP4rev1 "), "{out}");

    let mut t = T::plain();
    assert_eq!(t.send(b"a1 AUTHENTICATE PLAIN\r\n"), "+ \r\n");
    let out = t.send(b"AGFsaWNlAHNlY3JldA==\r\n");
    assert!(out.starts_with("a1 OK [CAPABILITY"), "{out}");
    assert_eq!(t.server.state(), State::Authenticated);
}

#[test]
fn authenticate_cancelled_is_bad_and_unknown_mechanism_is_no() {
    let mut t = T::plain();
    assert_eq!(t.send(b"a1 AUTHENTICATE PLAIN\r\n"), "+ \r\n");
    assert_eq!(t.send(b"*\r\n"), "a1 BAD Authentication cancelled\r\n");
    assert_eq!(
        t.send(b"a2 AUTHENTICATE CRAM-MD5\r\n"),
        "a2 NO Unsupported authentication mechanism\r\n"
    );
    assert_eq!(t.server.state(), State::NotAuthenticated);
}

#[test]
fn credentials_never_appear_in_events_debug_or_marked_output() {
    let mut t = T::plain();
    t.server.feed(t.now, b"a1 LOGIN alice hunter2-secret\r\n");
    assert!(!format!("{:?}", t.server).contains("hunter2"));
    let mut seen = String::new();
    while let Some(event) = t.server.poll_event() {
        seen.push_str(&format!("{event:?}"));
        if let Event::AuthStep { .. } = event {
            t.server.auth_step(&t.users, server_nonce()).unwrap();
        }
    }
    assert!(!seen.contains("hunter2"), "{seen}");
    t.server.handle_timeout(t.now + Duration::from_secs(3));
    while let Some(transmit) = Session::poll_transmit_marked(&mut t.server) {
        assert!(!transmit.is_secret());
        assert!(!String::from_utf8_lossy(transmit.bytes()).contains("hunter2"));
    }
}

#[test]
fn starttls_hands_off_then_offers_new_capabilities() {
    let (mut t, _) = T::new(ServerConfig::default());
    assert_eq!(
        t.send(b"t1 STARTTLS\r\n"),
        "t1 OK Begin TLS negotiation now\r\n"
    );
    assert!(matches!(t.take(), Event::StartTls));
    assert!(!t.server.wants_input());
    t.server.tls_established(t.now).unwrap();
    assert!(t.server.is_tls());
    let out = t.send(b"t2 CAPABILITY\r\n");
    assert!(
        out.starts_with("* CAPABILITY IMAP4rev1 AUTH=PLAIN AUTH=SCRAM-SHA-256 SASL-IR IDLE"),
        "{out}"
    );
    assert!(!out.contains("STARTTLS") && !out.contains("LOGINDISABLED"));
    assert_eq!(
        t.send(b"t3 STARTTLS\r\n"),
        "t3 BAD TLS is already active\r\n"
    );
    let out = t.send(b"t4 LOGIN alice secret\r\n");
    assert!(out.starts_with("t4 OK [CAPABILITY"), "{out}");
    assert_eq!(
        t.send(b"t5 STARTTLS\r\n"),
        "t5 BAD STARTTLS is valid only before login\r\n"
    );
}

#[test]
fn bytes_pipelined_after_starttls_close_the_session() {
    let (mut t, _) = T::new(ServerConfig::default());
    let out = t.send(b"t1 STARTTLS\r\nt2 LOGIN alice secret\r\n");
    assert_eq!(out, "t1 OK Begin TLS negotiation now\r\n");
    assert_eq!(t.closed(), Some(&Err(SessionError::StartTlsInjection)));
    assert!(!t.events.iter().any(|e| matches!(e, Event::StartTls)));

    // Or arriving after the OK, before the handshake.
    let (mut t, _) = T::new(ServerConfig::default());
    t.send(b"t1 STARTTLS\r\n");
    assert!(matches!(t.take(), Event::StartTls));
    assert_eq!(t.send(b"t2 NOOP\r\n"), "");
    assert_eq!(t.closed(), Some(&Err(SessionError::StartTlsInjection)));
    assert!(t.server.is_closed());
    assert_eq!(
        t.server.tls_established(t.now),
        Err(ServerError::NoTlsPending)
    );
}

#[test]
fn literals_get_a_continuation_within_limits_and_toobig_beyond() {
    let mut config = ServerConfig::default();
    config.allow_plaintext_auth = true;
    config.max_literal = 10;
    let (mut t, _) = T::new(config);
    assert_eq!(t.send(b"a1 LOGIN {5}\r\n"), "+ Ready for literal data\r\n");
    let out = t.send(b"alice {6}\r\n");
    assert_eq!(out, "+ Ready for literal data\r\n");
    assert!(t.send(b"secret\r\n").starts_with("a1 OK [CAPABILITY"));
    assert_eq!(
        t.send(b"a2 STATUS {11}\r\n"),
        "a2 NO [TOOBIG] Literal too large\r\n"
    );
    // A refused {n+} literal's data is skipped, never read as commands.
    let out = t.send(b"a3 STATUS {11+}\r\na4 LOGOUT\r\n\r\na5 NOOP\r\n");
    assert_eq!(
        out,
        "a3 NO [TOOBIG] Literal too large\r\na5 OK NOOP completed\r\n"
    );
}

#[test]
fn literal_minus_refuses_a_large_non_synchronising_literal_and_skips_its_data() {
    let mut config = ServerConfig::default();
    config.allow_plaintext_auth = true;
    config.literal_plus = LiteralPlus::Minus;
    config.max_literal = 100_000;
    let (mut t, _) = T::new(config);
    let mut input = b"a1 LOGIN alice {4097+}\r\n".to_vec();
    input.extend(std::iter::repeat_n(b'x', 4086));
    input.extend_from_slice(b"\r\na2 NOOP\r\n\r\na3 NOOP\r\n");
    assert_eq!(
        t.send(&input),
        "a1 BAD Non-synchronizing literal over 4096 octets (LITERAL-)\r\na3 OK NOOP completed\r\n"
    );
    assert_eq!(t.server.state(), State::NotAuthenticated);
}

#[test]
fn append_is_streamed_in_chunks_and_answered_with_appenduid() {
    let mut config = ServerConfig::default();
    config.allow_plaintext_auth = true;
    config.append_chunk = 4;
    config.capabilities = vec![Capability::UidPlus];
    let mut t = T::logged_in(config);
    let out = t.send(b"p1 APPEND Drafts (\\Seen) \"07-Dec-2026 06:30:00 +0000\" {10}\r\n");
    assert_eq!(out, "");
    match t.take() {
        Event::AppendStart {
            tag,
            mailbox,
            flags,
            date,
            size,
            index,
        } => {
            assert_eq!(tag.as_str(), "p1");
            assert_eq!(mailbox.as_bytes(), b"Drafts");
            assert_eq!(flags, vec![Flag::Seen]);
            assert!(date.is_some());
            assert_eq!((size, index), (10, 0));
        }
        other => panic!("{other:?}"),
    }
    t.server.accept_append().unwrap();
    assert_eq!(t.pump(), "+ Ready for literal data\r\n");
    assert_eq!(t.send(b"Subject: h"), "");
    let chunks: Vec<Vec<u8>> = t
        .events
        .drain(..)
        .map(|e| match e {
            Event::AppendData(b) => b.to_vec(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(chunks, [b"Subj".to_vec(), b"ect:".to_vec(), b" h".to_vec()]);
    assert_eq!(t.send(b"\r\n"), "");
    assert!(matches!(
        t.take(),
        Event::AppendEnd {
            index: 0,
            last: true
        }
    ));
    assert!(!t.server.wants_input());
    t.server.append_done(nz(5), &[nz(10)]).unwrap();
    assert_eq!(t.pump(), "p1 OK [APPENDUID 5 10] APPEND completed\r\n");
}

#[test]
fn multiappend_hands_over_each_message_in_turn() {
    let mut t = T::logged_in(plain_config());
    t.send(b"p1 APPEND INBOX {3+}\r\none (\\Flagged) {3+}\r\ntwo\r\n");
    assert!(matches!(
        t.take(),
        Event::AppendStart {
            index: 0,
            size: 3,
            ..
        }
    ));
    t.server.accept_append().unwrap();
    assert_eq!(t.pump(), "", "no continuation for a {{n+}} literal");
    assert!(matches!(t.take(), Event::AppendData(b) if &b[..] == b"one"));
    assert!(matches!(
        t.take(),
        Event::AppendEnd {
            index: 0,
            last: false
        }
    ));
    assert!(
        matches!(t.take(), Event::AppendStart { index: 1, ref flags, .. } if flags == &[Flag::Flagged])
    );
    t.server.accept_append().unwrap();
    t.pump();
    assert!(matches!(t.take(), Event::AppendData(b) if &b[..] == b"two"));
    assert!(matches!(
        t.take(),
        Event::AppendEnd {
            index: 1,
            last: true
        }
    ));
    t.server.append_done(nz(5), &[nz(10), nz(11)]).unwrap();
    assert_eq!(t.pump(), "p1 OK [APPENDUID 5 10:11] APPEND completed\r\n");
}

fn plain_config() -> ServerConfig {
    let mut config = ServerConfig::default();
    config.allow_plaintext_auth = true;
    config
}

#[test]
fn append_over_the_limit_is_toobig_and_its_data_skipped() {
    let mut config = plain_config();
    config.append_limit = Some(5);
    let mut t = T::logged_in(config);
    assert_eq!(
        t.send(b"p1 APPEND INBOX {6}\r\n"),
        "p1 NO [TOOBIG] Message too large\r\n"
    );
    let out = t.send(b"p2 APPEND INBOX {6+}\r\nx\r\np3 NOOP\r\np4 NOOP\r\n");
    // "x\r\np3 " is the skipped data, "NOOP\r\n" the skipped rest of the command.
    assert_eq!(
        out,
        "p2 NO [TOOBIG] Message too large\r\np4 OK NOOP completed\r\n"
    );
    assert!(t.events.is_empty(), "{:?}", t.events);
}

#[test]
fn append_refused_midway_discards_the_rest_unparsed() {
    let mut t = T::logged_in(plain_config());
    t.send(b"p1 APPEND INBOX {20+}\r\n");
    assert!(matches!(t.take(), Event::AppendStart { .. }));
    t.server.accept_append().unwrap();
    t.send(b"0123");
    assert!(matches!(t.take(), Event::AppendData(_)));
    t.server
        .complete(StatusKind::No, None, "Quota exceeded")
        .unwrap();
    // The rest of the data looks like a command: it is skipped, never parsed.
    let out = t.send(b"\r\nx1 LOGOUT\r\n12345\r\np2 NOOP\r\n");
    assert_eq!(out, "p1 NO Quota exceeded\r\np2 OK NOOP completed\r\n");
    assert!(t.events.is_empty(), "{:?}", t.events);
    assert!(!t.server.is_closed());
}

#[test]
fn append_refused_at_its_start_sends_no_continuation() {
    let mut t = T::logged_in(plain_config());
    t.send(b"p1 APPEND Nowhere {5}\r\n");
    assert!(matches!(t.take(), Event::AppendStart { .. }));
    t.server
        .complete(
            StatusKind::No,
            Some(imap_proto::response::Code::TryCreate),
            "No such mailbox",
        )
        .unwrap();
    assert_eq!(t.pump(), "p1 NO [TRYCREATE] No such mailbox\r\n");
    assert_eq!(t.send(b"p2 NOOP\r\n"), "p2 OK NOOP completed\r\n");
}

#[test]
fn idle_pushes_changes_at_once_and_done_ends_it() {
    let mut t = T::selected(plain_config());
    assert_eq!(t.send(b"i1 IDLE\r\n"), "+ idling\r\n");
    assert!(t.server.wants_input());
    t.server
        .mailbox_changed(Change::Added {
            uid: nz(11),
            flags: vec![],
            modseq: None,
        })
        .unwrap();
    assert_eq!(t.pump(), "* 4 EXISTS\r\n");
    t.server
        .mailbox_changed(Change::Flags {
            uid: nz(9),
            flags: vec![Flag::Seen],
            modseq: None,
        })
        .unwrap();
    assert_eq!(t.pump(), "* 2 FETCH (FLAGS (\\Seen))\r\n");
    assert_eq!(t.send(b"DONE\r\n"), "i1 OK IDLE terminated\r\n");
    assert_eq!(t.send(b"i2 IDLE\r\n"), "+ idling\r\n");
    assert_eq!(t.send(b"i3 NOOP\r\n"), "i2 BAD Expected DONE\r\n");
    assert_eq!(t.send(b"i4 NOOP\r\n"), "i4 OK NOOP completed\r\n");
}

/// The NOOP window (docs/imap.md): by default the machine answers NOOP at once with the
/// changes it was told, and one the application hands over afterwards goes with the next
/// answer. With `noop_as_command`, NOOP and CHECK in the selected state come out as
/// commands: the application hands over its queued change first, and it arrives with the
/// NOOP's (or CHECK's) answer.
#[test]
fn noop_as_command_lets_queued_changes_into_the_noop_answer() {
    let added = |uid| Change::Added {
        uid: nz(uid),
        flags: vec![],
        modseq: None,
    };
    let mut t = T::selected(plain_config());
    assert_eq!(t.send(b"n1 NOOP\r\n"), "n1 OK NOOP completed\r\n");
    assert!(t.events.is_empty());
    t.server.mailbox_changed(added(11)).unwrap();
    assert_eq!(
        t.send(b"n2 NOOP\r\n"),
        "* 4 EXISTS\r\nn2 OK NOOP completed\r\n"
    );

    let mut config = plain_config();
    config.noop_as_command = true;
    let mut t = T::selected(config.clone());
    for (line, body, text, uid, exists) in [
        (
            &b"n1 NOOP\r\n"[..],
            CommandBody::Noop,
            "NOOP completed",
            11,
            4,
        ),
        (
            b"c1 CHECK\r\n",
            CommandBody::Check,
            "CHECK completed",
            12,
            5,
        ),
    ] {
        assert_eq!(t.send(line), "", "nothing before the application answers");
        assert!(
            matches!(t.take(), Event::Command { command, .. } if command.body == body),
            "{body:?}"
        );
        // The driver drains its store's queue into the machine, then completes.
        t.server.mailbox_changed(added(uid)).unwrap();
        t.server.complete(StatusKind::Ok, None, text).unwrap();
        let tag = std::str::from_utf8(&line[..2]).unwrap();
        assert_eq!(
            t.pump(),
            format!("* {exists} EXISTS\r\n{tag} OK {text}\r\n")
        );
    }
    // Outside the selected state there is nothing to announce: the machine answers.
    let mut t = T::logged_in(config);
    assert_eq!(t.send(b"n1 NOOP\r\n"), "n1 OK NOOP completed\r\n");
    assert!(t.events.is_empty());
}

#[test]
fn idle_before_select_works() {
    let mut t = T::logged_in(plain_config());
    assert_eq!(t.send(b"i1 IDLE\r\n"), "+ idling\r\n");
    assert_eq!(t.send(b"DONE\r\n"), "i1 OK IDLE terminated\r\n");
}

#[test]
fn enable_turns_on_what_is_offered_only_before_select() {
    let mut config = plain_config();
    config.capabilities = vec![Capability::QResync, Capability::Utf8Accept];
    config.imap4rev2 = true;
    let mut t = T::logged_in(config);
    assert_eq!(
        t.send(b"e1 ENABLE QRESYNC X-UNKNOWN IMAP4rev2\r\n"),
        "* ENABLED QRESYNC IMAP4rev2\r\ne1 OK ENABLE completed\r\n"
    );
    let enabled = t.server.enabled();
    assert!(enabled.qresync && enabled.condstore && enabled.imap4rev2 && !enabled.utf8_accept);
    assert!(
        matches!(t.take(), Event::Enabled(caps) if caps == [Capability::QResync, Capability::Imap4Rev2])
    );
    assert_eq!(
        t.send(b"e2 ENABLE MOVE\r\n"),
        "* ENABLED\r\ne2 OK ENABLE completed\r\n"
    );

    let mut t = T::selected(plain_config());
    assert_eq!(
        t.send(b"e3 ENABLE CONDSTORE\r\n"),
        "e3 BAD ENABLE is valid only before SELECT\r\n"
    );
    let (mut t, _) = T::new(plain_config());
    assert_eq!(
        t.send(b"e4 ENABLE CONDSTORE\r\n"),
        "e4 BAD Command not permitted before login\r\n"
    );
}

#[test]
fn id_namespace_noop_check_unselect_logout() {
    let mut config = plain_config();
    config.id = Some(vec![("name".into(), "sansmail".into())]);
    let mut t = T::selected(config);
    assert_eq!(
        t.send(b"x1 ID NIL\r\n"),
        "* ID (\"name\" \"sansmail\")\r\nx1 OK ID completed\r\n"
    );
    assert_eq!(
        t.send(b"x2 NAMESPACE\r\n"),
        "x2 BAD NAMESPACE is not supported\r\n"
    );
    assert_eq!(t.send(b"x3 NOOP\r\n"), "x3 OK NOOP completed\r\n");
    assert_eq!(t.send(b"x4 CHECK\r\n"), "x4 OK CHECK completed\r\n");
    assert_eq!(t.send(b"x5 UNSELECT\r\n"), "x5 OK UNSELECT completed\r\n");
    assert_eq!(t.server.state(), State::Authenticated);
    assert_eq!(
        t.send(b"x6 FETCH 1 FLAGS\r\n"),
        "x6 BAD No mailbox selected\r\n"
    );
    assert_eq!(
        t.send(b"x7 LOGOUT\r\n"),
        "* BYE Logging out\r\nx7 OK LOGOUT completed\r\n"
    );
    assert_eq!(t.closed(), Some(&Ok(())));
    assert!(t.server.is_closed());
    let (mut t, _) = T::new(ServerConfig::default());
    assert_eq!(
        t.send(b"x1 ID (\"name\" \"client\")\r\n"),
        "* ID NIL\r\nx1 OK ID completed\r\n"
    );
}

#[test]
fn select_sends_the_mailbox_state() {
    let mut config = plain_config();
    config.capabilities = vec![Capability::CondStore];
    let mut t = T::logged_in(config);
    t.send(b"s1 SELECT INBOX\r\n");
    assert!(
        matches!(t.take(), Event::Command { command, .. } if matches!(command.body, CommandBody::Select { .. }))
    );
    let mut snap = snapshot(&[3, 4]);
    snap.highest_modseq = NonZeroU64::new(77);
    let mut info = SelectInfo::new(vec![Flag::Seen, Flag::Deleted]);
    info.recent = 1;
    t.server.selected(snap, info).unwrap();
    assert_eq!(
        t.pump(),
        "* FLAGS (\\Seen \\Deleted)\r\n* 2 EXISTS\r\n* 1 RECENT\r\n\
         * OK [UIDVALIDITY 5] UIDs valid\r\n* OK [UIDNEXT 5] Predicted next UID\r\n\
         * OK [PERMANENTFLAGS (\\Seen \\Deleted \\*)] Limited\r\n\
         * OK [HIGHESTMODSEQ 77] Highest\r\ns1 OK [READ-WRITE] SELECT completed\r\n"
    );
    assert_eq!(t.server.state(), State::Selected);
    assert_eq!(t.server.view().unwrap().exists(), 2);
}

#[test]
fn a_snapshot_the_view_refuses_leaves_the_decision_pending() {
    let mut t = T::logged_in(plain_config());
    t.send(b"s1 SELECT INBOX\r\n");
    t.take();
    let bad = Snapshot {
        uids: vec![nz(4), nz(3)],
        ..snapshot(&[3, 4])
    };
    assert!(matches!(
        t.server.selected(bad, SelectInfo::default()),
        Err(ServerError::View(ViewError::NotAscending { .. }))
    ));
    t.server
        .complete(StatusKind::No, None, "Cannot open")
        .unwrap();
    assert_eq!(t.pump(), "s1 NO Cannot open\r\n");
    assert_eq!(t.server.state(), State::Authenticated);
}

#[test]
fn fetch_resolves_through_the_view_and_numbers_responses() {
    let mut t = T::selected(plain_config());
    assert_eq!(
        t.send(b"f1 FETCH 4 FLAGS\r\n"),
        "f1 BAD Invalid message set: no such message\r\n"
    );
    t.send(b"f2 FETCH 2:* FLAGS\r\n");
    let Event::Command { messages, .. } = t.take() else {
        panic!()
    };
    assert_eq!(messages, [(nz(2), nz(9)), (nz(3), nz(10))]);
    for (_, uid) in messages {
        t.server
            .fetch(
                uid,
                vec![MessageDataItem::Flags(
                    vec![FlagFetch::Flag(Flag::Seen)].into(),
                )],
            )
            .unwrap();
    }
    t.server
        .complete(StatusKind::Ok, None, "FETCH completed")
        .unwrap();
    assert_eq!(
        t.pump(),
        "* 2 FETCH (FLAGS (\\Seen))\r\n* 3 FETCH (FLAGS (\\Seen))\r\nf2 OK FETCH completed\r\n"
    );
    // UID FETCH: UIDs not in the view are skipped, and UID is added to each response.
    t.send(b"f3 UID FETCH 8:10 FLAGS\r\n");
    let Event::Command { messages, .. } = t.take() else {
        panic!()
    };
    assert_eq!(messages, [(nz(2), nz(9)), (nz(3), nz(10))]);
    t.server
        .fetch(nz(9), vec![MessageDataItem::Flags(Default::default())])
        .unwrap();
    let flags = || vec![MessageDataItem::Flags(Default::default())];
    assert_eq!(
        t.server.fetch(nz(8), flags()),
        Err(ServerError::UnknownUid(8))
    );
    assert_eq!(
        t.server.fetch(nz(9), vec![]),
        Err(ServerError::Invalid("a FETCH response needs an item"))
    );
    t.server.complete(StatusKind::Ok, None, "done").unwrap();
    assert_eq!(t.pump(), "* 2 FETCH (UID 9 FLAGS ())\r\nf3 OK done\r\n");
}

#[test]
fn no_expunge_while_a_fetch_by_sequence_number_runs_then_at_noop() {
    let mut t = T::selected(plain_config());
    t.send(b"f1 FETCH 1:* FLAGS\r\n");
    t.take();
    t.server
        .mailbox_changed(Change::Expunged {
            uid: nz(7),
            modseq: None,
        })
        .unwrap();
    t.server
        .mailbox_changed(Change::Flags {
            uid: nz(9),
            flags: vec![Flag::Flagged],
            modseq: None,
        })
        .unwrap();
    t.server
        .complete(StatusKind::Ok, None, "FETCH completed")
        .unwrap();
    assert_eq!(
        t.pump(),
        "* 2 FETCH (FLAGS (\\Flagged))\r\nf1 OK FETCH completed\r\n"
    );
    assert_eq!(
        t.send(b"n1 NOOP\r\n"),
        "* 1 EXPUNGE\r\nn1 OK NOOP completed\r\n"
    );
    assert_eq!(t.server.view().unwrap().exists(), 2);
}

#[test]
fn examine_is_read_only_and_refuses_store() {
    let mut t = T::logged_in(plain_config());
    t.send(b"s1 EXAMINE INBOX\r\n");
    t.take();
    t.server
        .selected(snapshot(&[1]), SelectInfo::new(vec![]))
        .unwrap();
    let out = t.pump();
    assert!(
        out.contains("* OK [PERMANENTFLAGS ()] Limited\r\n"),
        "{out}"
    );
    assert!(
        out.ends_with("s1 OK [READ-ONLY] EXAMINE completed\r\n"),
        "{out}"
    );
    assert_eq!(
        t.send(b"s2 STORE 1 +FLAGS (\\Seen)\r\n"),
        "s2 NO [READ-ONLY] Mailbox is read-only\r\n"
    );
    assert_eq!(
        t.send(b"s3 EXPUNGE\r\n"),
        "s3 NO [READ-ONLY] Mailbox is read-only\r\n"
    );
    assert_eq!(t.send(b"s4 CLOSE\r\n"), "s4 OK CLOSE completed\r\n");
    assert_eq!(t.server.state(), State::Authenticated);
}

#[test]
fn select_while_selected_says_closed_under_imap4rev2() {
    let mut config = plain_config();
    config.imap4rev2 = true;
    let mut t = T::logged_in(config);
    t.send(b"e1 ENABLE IMAP4rev2\r\n");
    t.events.clear();
    t.send(b"s1 SELECT INBOX\r\n");
    t.take();
    t.server
        .selected(snapshot(&[1]), SelectInfo::new(vec![]))
        .unwrap();
    let out = t.pump();
    assert!(!out.contains("RECENT"), "{out}");
    assert_eq!(
        t.send(b"s2 SELECT Other\r\n"),
        "* OK [CLOSED] Previous mailbox closed\r\n"
    );
    assert_eq!(t.server.state(), State::Authenticated);
}

#[test]
fn close_goes_to_the_application_and_deselects() {
    let mut t = T::selected(plain_config());
    t.send(b"c1 CLOSE\r\n");
    assert!(
        matches!(t.take(), Event::Command { command, .. } if matches!(command.body, CommandBody::Close))
    );
    t.server
        .mailbox_changed(Change::Expunged {
            uid: nz(7),
            modseq: None,
        })
        .unwrap();
    t.server
        .complete(StatusKind::Ok, None, "CLOSE completed")
        .unwrap();
    // CLOSE expunges silently: no EXPUNGE response.
    assert_eq!(t.pump(), "c1 OK CLOSE completed\r\n");
    assert_eq!(t.server.state(), State::Authenticated);
    assert!(t.server.view().is_none());
}

#[test]
fn view_overflow_ends_the_session_with_bye() {
    let mut config = plain_config();
    config.view = ViewConfig::with_max_pending(2);
    let mut t = T::selected(config);
    t.send(b"f1 FETCH 1 FLAGS\r\n");
    t.take();
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
    assert_eq!(t.closed(), Some(&Err(SessionError::ViewOverflow)));
}

#[test]
fn syntax_errors_are_bad_with_the_reason_and_too_many_end_the_session() {
    let mut config = plain_config();
    config.max_errors = 2;
    let (mut t, _) = T::new(config);
    assert_eq!(
        t.send(b"a1 FROB\r\n"),
        "a1 BAD Error in IMAP command: syntax error at offset 3: expected command name\r\n"
    );
    assert_eq!(
        t.send(b"a2 SELECT INBOX\r\n"),
        "a2 BAD Command not permitted before login\r\n"
    );
    assert_eq!(
        t.send(b"(x NOOP\r\n"),
        "* BAD Error in IMAP command: syntax error at offset 0: expected tag\r\n* BYE Too many invalid commands\r\n"
    );
    assert_eq!(t.closed(), Some(&Err(SessionError::TooManyErrors)));
}

#[test]
fn set_max_errors_raises_the_limit_for_the_rest_of_the_session() {
    let mut config = plain_config();
    config.max_errors = 1;
    let (mut t, _) = T::new(config);
    assert_eq!(
        t.send(b"a1 SELECT INBOX\r\n"),
        "a1 BAD Command not permitted before login\r\n"
    );
    // The one error so far counts toward the new limit too.
    t.server.set_max_errors(3);
    assert_eq!(t.server.config().max_errors, 3);
    for tag in ["a2", "a3"] {
        assert_eq!(
            t.send(format!("{tag} SELECT INBOX\r\n").as_bytes()),
            format!("{tag} BAD Command not permitted before login\r\n")
        );
    }
    assert_eq!(t.closed(), None);
    assert_eq!(
        t.send(b"a4 SELECT INBOX\r\n"),
        "a4 BAD Command not permitted before login\r\n* BYE Too many invalid commands\r\n"
    );
    assert_eq!(t.closed(), Some(&Err(SessionError::TooManyErrors)));
}

#[test]
fn a_line_too_long_is_bad_with_its_tag_and_skipped() {
    let mut config = plain_config();
    config.max_line = 100;
    let (mut t, _) = T::new(config);
    let mut line = b"a1 NOOP ".to_vec();
    line.extend(std::iter::repeat_n(b'x', 200));
    line.extend_from_slice(b"\r\na2 NOOP\r\n");
    assert_eq!(
        t.send(&line),
        "a1 BAD line longer than 100 octets\r\na2 OK NOOP completed\r\n"
    );
}

#[test]
fn login_timeout_then_idle_timeout_end_with_autologout() {
    let (mut t, _) = T::new(plain_config());
    let due = t.server.poll_timeout().unwrap();
    assert!(due >= t.now + Duration::from_secs(60));
    t.server.handle_timeout(due);
    assert_eq!(t.pump(), "* BYE Autologout; idle for too long\r\n");
    assert_eq!(t.closed(), Some(&Err(SessionError::Timeout)));

    let mut t = T::selected(plain_config());
    assert_eq!(t.send(b"i1 IDLE\r\n"), "+ idling\r\n");
    let due = t.server.poll_timeout().unwrap();
    assert!(due >= t.now + Duration::from_secs(30 * 60));
    t.server.handle_timeout(due);
    assert_eq!(t.pump(), "* BYE Autologout; idle for too long\r\n");
}

#[test]
fn pipelined_commands_are_answered_in_order_one_decision_at_a_time() {
    let mut config = plain_config();
    config.max_pipelined = 2;
    let mut t = T::selected(config);
    t.send(b"p1 FETCH 1 FLAGS\r\np2 NOOP\r\n");
    assert_eq!(t.events.len(), 1);
    // One command framed ahead: the machine still reads.
    assert!(t.server.wants_input());
    assert_eq!(t.send(b"p3 FETCH 2 FLAGS\r\np4 NOOP\r\n"), "");
    // Two framed ahead: no more reading until the application answers.
    assert!(!t.server.wants_input());
    t.take();
    t.server.complete(StatusKind::Ok, None, "one").unwrap();
    let out = t.pump();
    assert_eq!(out, "p1 OK one\r\np2 OK NOOP completed\r\n");
    let Event::Command { messages, .. } = t.take() else {
        panic!()
    };
    assert_eq!(messages, [(nz(2), nz(9))]);
    t.server.complete(StatusKind::Ok, None, "two").unwrap();
    assert_eq!(t.pump(), "p3 OK two\r\np4 OK NOOP completed\r\n");
    assert!(t.server.wants_input());
}

#[test]
fn reading_ahead_stops_before_lines_that_are_not_commands() {
    let mut t = T::selected(plain_config());
    // IDLE's DONE, a literal's data: framed only in their command's turn.
    t.send(b"f1 FETCH 1 FLAGS\r\ni1 IDLE\r\nDONE\r\nr1 RENAME {3}\r\n");
    assert!(!t.server.wants_input());
    t.take();
    t.server.complete(StatusKind::Ok, None, "done").unwrap();
    assert_eq!(
        t.pump(),
        "f1 OK done\r\n+ idling\r\ni1 OK IDLE terminated\r\n+ Ready for literal data\r\n"
    );
    // max_pipelined 0: nothing is read while a command is pending.
    let mut config = plain_config();
    config.max_pipelined = 0;
    let mut t = T::selected(config);
    t.send(b"f1 FETCH 1 FLAGS\r\n");
    assert!(!t.server.wants_input());
}

#[test]
fn preauth_greeting_only_where_tls_is_not_required() {
    let mut config = ServerConfig::default();
    config.preauth = Some("Logged in as alice".into());
    assert_eq!(config.check(), Err(ConfigError::PreauthWithoutTls));
    let (t, greeting) = T::new(config.clone());
    assert!(
        greeting.starts_with("* OK [CAPABILITY IMAP4rev1 STARTTLS"),
        "{greeting}"
    );
    assert_eq!(t.server.state(), State::NotAuthenticated);

    config.implicit_tls = true;
    config.starttls = false;
    assert_eq!(config.check(), Ok(()));
    let (t, greeting) = T::new(config);
    assert_eq!(
        greeting,
        "* PREAUTH [CAPABILITY IMAP4rev1 IDLE ENABLE LITERAL+ ID UNSELECT APPENDLIMIT=67108864] \
         Logged in as alice\r\n"
    );
    assert_eq!(t.server.state(), State::Authenticated);
}

#[test]
fn refuse_greets_with_bye_and_closes() {
    let mut server = Server::refuse(
        ServerConfig::default(),
        Instant::now(),
        "Too many connections",
    );
    assert_eq!(
        &server.poll_transmit().unwrap()[..],
        b"* BYE Too many connections\r\n"
    );
    assert!(matches!(server.poll_event(), Some(Event::Closed(Ok(())))));
    assert!(server.is_closed());
}

#[test]
fn config_check_refuses_short_idle_timeout_and_injected_text() {
    let mut config = ServerConfig::default();
    config.idle_timeout = Duration::from_secs(60);
    assert_eq!(config.check(), Err(ConfigError::IdleTimeoutTooShort));
    let mut config = ServerConfig::default();
    config.greeting_text = "hi\r\n* BYE".into();
    assert_eq!(
        config.check(),
        Err(ConfigError::BadText {
            field: "greeting_text"
        })
    );
    let (_, greeting) = T::new(config);
    assert!(greeting.ends_with("] hi  * BYE\r\n"), "{greeting}");
}

#[test]
fn decisions_answered_out_of_turn_are_errors() {
    let mut t = T::plain();
    assert_eq!(
        t.server.accept_append(),
        Err(ServerError::NoPendingDecision)
    );
    assert_eq!(
        t.server.complete(StatusKind::Ok, None, "x"),
        Err(ServerError::NoPendingDecision)
    );
    assert_eq!(
        t.server.append_done(nz(1), &[nz(1)]),
        Err(ServerError::NoPendingDecision)
    );
}

#[test]
fn scram_sha_256_runs_through_challenges() {
    use mail_wire::Secret;
    use mail_wire::sasl::{ClientSession, framing};
    let mut t = T::plain();
    let mut client = ClientSession::scram_sha256(
        None,
        "alice",
        Secret::new("secret".into()),
        mail_testkit::users::client_nonce(),
        Default::default(),
    )
    .unwrap();
    let first = client.initial_response().unwrap().unwrap();
    let ir = framing::encode_initial_response(first.expose());
    let out = t.send(format!("a1 AUTHENTICATE SCRAM-SHA-256 {}\r\n", ir.expose()).as_bytes());
    let challenge = out.strip_prefix("+ ").unwrap().trim_end();
    let response = client
        .step(&framing::decode_challenge(challenge.as_bytes()).unwrap())
        .unwrap();
    let out = t.send(
        format!(
            "{}\r\n",
            framing::encode_response(response.expose()).expose()
        )
        .as_bytes(),
    );
    // The server signature, as a last challenge (RFC 4422 section 3.6); then an empty response.
    let last = out.strip_prefix("+ ").unwrap().trim_end();
    client
        .finish(Some(&framing::decode_challenge(last.as_bytes()).unwrap()))
        .unwrap();
    let out = t.send(b"\r\n");
    assert!(out.starts_with("a1 OK [CAPABILITY IMAP4rev1 "), "{out}");
    assert!(matches!(t.take(), Event::Authenticated(a) if a.identity() == "alice"));
}

#[test]
fn append_utf8_form_and_before_login() {
    let mut config = plain_config();
    config.capabilities = vec![Capability::Utf8Accept];
    let mut t = T::logged_in(config);
    assert_eq!(
        t.send(b"e1 ENABLE UTF8=ACCEPT\r\n"),
        "* ENABLED UTF8=ACCEPT\r\ne1 OK ENABLE completed\r\n"
    );
    assert!(matches!(t.take(), Event::Enabled(_)));
    t.send(b"p1 APPEND INBOX UTF8 (~{3+}\r\nabc) UTF8 (~{2+}\r\nde)\r\n");
    assert!(matches!(
        t.take(),
        Event::AppendStart {
            index: 0,
            size: 3,
            ..
        }
    ));
    t.server.accept_append().unwrap();
    t.pump();
    assert!(matches!(t.take(), Event::AppendData(b) if &b[..] == b"abc"));
    assert!(matches!(
        t.take(),
        Event::AppendEnd {
            index: 0,
            last: false
        }
    ));
    assert!(matches!(
        t.take(),
        Event::AppendStart {
            index: 1,
            size: 2,
            ..
        }
    ));
    t.server.accept_append().unwrap();
    t.pump();
    assert!(matches!(t.take(), Event::AppendData(b) if &b[..] == b"de"));
    assert!(matches!(
        t.take(),
        Event::AppendEnd {
            index: 1,
            last: true
        }
    ));
    t.server
        .complete(StatusKind::Ok, None, "APPEND completed")
        .unwrap();
    assert_eq!(t.pump(), "p1 OK APPEND completed\r\n");

    let (mut t, _) = T::new(plain_config());
    assert_eq!(
        t.send(b"p1 APPEND INBOX {3}\r\n"),
        "p1 BAD Command not permitted before login\r\n"
    );
    assert!(t.events.is_empty());
}

/// RFC 6855 section 4: an APPEND of UTF-8 headers from a client that has not sent `ENABLE
/// UTF8=ACCEPT` is answered `NO`; where UTF8=ACCEPT is not offered at all (nor in IMAP4rev2,
/// whose grammar has no `UTF8 (...)` form) it is a syntax the server does not have: `BAD`.
/// No data reaches the application either way.
#[test]
fn append_utf8_form_needs_enable_utf8_accept() {
    let mut config = plain_config();
    config.capabilities = vec![Capability::Utf8Accept];
    let mut t = T::logged_in(config.clone());
    // Synchronising: no `+`, so the client sends no data.
    assert_eq!(
        t.send(b"p1 APPEND INBOX UTF8 (~{3}\r\n"),
        "p1 NO [CLIENTBUG] UTF8 APPEND needs ENABLE UTF8=ACCEPT first\r\n"
    );
    // Non-synchronising: the data and the `)` are skipped, the next command runs.
    assert_eq!(
        t.send(b"p2 APPEND INBOX UTF8 (~{3+}\r\nabc)\r\np3 NOOP\r\n"),
        "p2 NO [CLIENTBUG] UTF8 APPEND needs ENABLE UTF8=ACCEPT first\r\np3 OK NOOP completed\r\n"
    );
    assert!(t.events.is_empty(), "{:?}", t.events);

    // A MULTIAPPEND whose second message takes the form: the first is dropped.
    t.send(b"p4 APPEND INBOX {1+}\r\na UTF8 (~{2+}\r\nde)\r\np5 NOOP\r\n");
    assert!(matches!(t.take(), Event::AppendStart { index: 0, .. }));
    t.server.accept_append().unwrap();
    let out = t.pump();
    assert!(matches!(t.take(), Event::AppendData(b) if &b[..] == b"a"));
    assert!(matches!(
        t.take(),
        Event::AppendEnd {
            index: 0,
            last: false
        }
    ));
    assert!(matches!(t.take(), Event::AppendAborted { tag } if tag.as_str() == "p4"));
    assert!(t.events.is_empty(), "{:?}", t.events);
    assert_eq!(
        out,
        "p4 NO [CLIENTBUG] UTF8 APPEND needs ENABLE UTF8=ACCEPT first\r\np5 OK NOOP completed\r\n"
    );

    // Not offered: BAD, IMAP4rev2 enabled or not.
    for rev2 in [false, true] {
        let mut config = plain_config();
        config.imap4rev2 = rev2;
        let mut t = T::logged_in(config);
        if rev2 {
            t.send(b"e1 ENABLE IMAP4rev2\r\n");
            assert!(matches!(t.take(), Event::Enabled(_)));
        }
        assert_eq!(
            t.send(b"p1 APPEND INBOX UTF8 (~{3+}\r\nabc)\r\np2 NOOP\r\n"),
            "p1 BAD UTF8 APPEND is not supported\r\np2 OK NOOP completed\r\n"
        );
        assert!(t.events.is_empty(), "{:?}", t.events);
    }
}

#[test]
fn bad_syntax_after_a_message_aborts_the_append() {
    let mut t = T::logged_in(plain_config());
    t.send(b"p1 APPEND INBOX {3+}\r\nabc junk\r\n");
    t.take();
    t.server.accept_append().unwrap();
    let out = t.pump();
    assert_eq!(
        out,
        "p1 BAD Error in IMAP command APPEND: expected CRLF after the message\r\n"
    );
    assert!(matches!(t.take(), Event::AppendData(_)));
    assert!(matches!(t.take(), Event::AppendAborted { tag } if tag.as_str() == "p1"));
}

#[test]
fn any_chunking_of_the_input_gives_the_same_answers() {
    let wire: &[u8] = b"a1 LOGIN {5}\r\nalice secret\r\na2 CAPABILITY\r\na3 ID NIL\r\na4 IDLE\r\nDONE\r\na5 LOGOUT\r\n";
    let whole = {
        let mut t = T::plain();
        t.send(wire)
    };
    assert!(whole.ends_with("a5 OK LOGOUT completed\r\n"), "{whole}");
    for size in [1, 2, 3, 7] {
        let mut t = T::plain();
        let mut out = String::new();
        for piece in wire.chunks(size) {
            out.push_str(&t.send(piece));
        }
        assert_eq!(out, whole, "pieces of {size}");
    }
}

#[test]
fn answers_wait_while_output_is_past_the_high_water_mark() {
    let mut t = T::plain();
    let wire = b"c CAPABILITY\r\n".repeat(4000);
    t.server.feed(t.now, &wire);
    assert_eq!(t.server.poll_event(), None);
    let mut first = Vec::new();
    while let Some(bytes) = t.server.poll_transmit() {
        first.extend_from_slice(&bytes);
    }
    assert!(first.len() >= imap_proto::server::OUTPUT_HIGH_WATER);
    assert!(first.len() < imap_proto::server::OUTPUT_HIGH_WATER + 1024);
    assert!(t.server.wants_input());
    assert!(
        t.server.poll_timeout().unwrap() <= t.now,
        "due at once while answers wait"
    );
    // Each round answers until the mark again; the driver writes, and the machine goes on.
    let mut all = String::from_utf8(first).unwrap();
    loop {
        let more = t.pump();
        if more.is_empty() {
            break;
        }
        all.push_str(&more);
    }
    let answered = all.matches("c OK CAPABILITY completed").count();
    assert_eq!(answered, 4000);
}

#[test]
fn eof_answers_what_was_fed_then_closes() {
    let mut t = T::plain();
    t.server.feed(t.now, b"a1 NOOP\r\n");
    t.server.handle_eof();
    assert_eq!(t.pump(), "a1 OK NOOP completed\r\n");
    assert_eq!(t.closed(), Some(&Err(SessionError::PeerClosed)));
    assert!(!t.server.wants_input());
}

#[test]
fn shutdown_says_bye() {
    let mut t = T::selected(plain_config());
    t.send(b"f1 FETCH 1 FLAGS\r\n");
    t.take();
    t.server.shutdown();
    assert_eq!(t.pump(), "* BYE Server shutting down\r\n");
    assert_eq!(t.closed(), Some(&Err(SessionError::Shutdown)));
    assert_eq!(
        t.server.complete(StatusKind::Ok, None, "late"),
        Err(ServerError::NoPendingDecision)
    );
}

#[test]
fn too_much_unprocessed_input_closes_the_session() {
    let mut config = plain_config();
    config.max_line = 64;
    config.max_buffered_input = 200;
    let mut t = T::selected(config);
    t.send(b"f1 FETCH 1 FLAGS\r\n");
    t.take();
    // Commands framed ahead (16 of these 20) count toward the limit with the bytes not yet
    // framed.
    assert_eq!(t.send(&b"n NOOP\r\n".repeat(20)), "");
    assert!(!t.server.wants_input());
    let out = t.send(&[b'x'; 60]);
    assert_eq!(out, "* BYE Too much input\r\n");
    assert_eq!(t.closed(), Some(&Err(SessionError::InputOverflow)));
}

#[test]
fn a_command_over_max_command_is_toobig() {
    let mut config = plain_config();
    config.max_literal = 100;
    config.max_command = 150;
    let mut t = T::logged_in(config);
    assert_eq!(
        t.send(b"r1 RENAME {90}\r\n"),
        "+ Ready for literal data\r\n"
    );
    let mut data = vec![b'a'; 90];
    data.extend_from_slice(b" {90}\r\n");
    assert_eq!(t.send(&data), "r1 NO [TOOBIG] Literal too large\r\n");
    assert_eq!(t.send(b"r2 NOOP\r\n"), "r2 OK NOOP completed\r\n");
}

#[test]
fn without_literal_plus_a_non_synchronising_literal_is_bad() {
    let mut config = plain_config();
    config.literal_plus = LiteralPlus::Off;
    let (mut t, greeting) = T::new(config);
    assert!(!greeting.contains("LITERAL"));
    assert_eq!(
        t.send(b"a1 LOGIN {5+}\r\nalice secret\r\na2 NOOP\r\n"),
        "a1 BAD Non-synchronizing literals are not supported\r\na2 OK NOOP completed\r\n"
    );
}

/// The machine on the shared tokio driver: STARTTLS, then a login over TLS.
#[cfg(feature = "tokio")]
mod tokio_driver {
    use std::time::Duration;

    use imap_proto::server::{Event, Server, ServerConfig};
    use imap_proto::tokio::ServerConnection;
    use mail_testkit::Users;
    use mail_testkit::users::server_nonce;
    use mail_tls::tokio::{HandshakeOptions, starttls_connect};
    use mail_tls::{ClientTls, ServerTls, Service, server_name};
    use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWriteExt, BufReader};

    async fn line<R: AsyncRead + Unpin>(reader: &mut BufReader<R>) -> String {
        let mut line = String::new();
        reader.read_line(&mut line).await.unwrap();
        line
    }

    #[tokio::test]
    async fn starttls_then_login_over_tls() {
        let dir = std::env::temp_dir().join(format!("imap-server-tokio-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let cert = mail_tls::dev_certs::generate(&["localhost"]).unwrap();
        let files = cert
            .write(&dir.join("cert.pem"), &dir.join("key.pem"))
            .unwrap();
        let (tls, _resolver) = ServerTls::new(Service::Imap)
            .build_from_pem_files(&files.cert, &files.key)
            .unwrap();
        let _ = std::fs::remove_dir_all(&dir);

        let (client, server_side) = tokio::io::duplex(64 * 1024);
        let serve = tokio::spawn(async move {
            let server = Server::new(ServerConfig::default(), std::time::Instant::now());
            let mut conn = ServerConnection::new(server_side, server)
                .with_starttls(tls, HandshakeOptions::new(Duration::from_secs(10)));
            let users = Users::standard();
            let mut events = Vec::new();
            while let Some(event) = conn.next_event().await.unwrap() {
                if let Event::AuthStep { .. } = event {
                    conn.server().auth_step(&users, server_nonce()).unwrap();
                }
                events.push(event);
            }
            events
        });

        let mut reader = BufReader::new(client);
        assert!(
            line(&mut reader)
                .await
                .starts_with("* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED")
        );
        reader
            .get_mut()
            .write_all(b"t1 STARTTLS\r\n")
            .await
            .unwrap();
        assert_eq!(
            line(&mut reader).await,
            "t1 OK Begin TLS negotiation now\r\n"
        );
        let config = ClientTls::opportunistic_accept_any_certificate()
            .build()
            .unwrap();
        let stream = starttls_connect(
            config,
            server_name("localhost").unwrap(),
            reader.into_inner(),
            &[],
            &[],
            HandshakeOptions::new(Duration::from_secs(10)),
        )
        .await
        .unwrap();
        let mut reader = BufReader::new(stream);
        reader
            .get_mut()
            .write_all(b"t2 CAPABILITY\r\n")
            .await
            .unwrap();
        let caps = line(&mut reader).await;
        assert!(
            caps.starts_with("* CAPABILITY IMAP4rev1 AUTH=PLAIN AUTH=SCRAM-SHA-256 SASL-IR"),
            "{caps}"
        );
        assert!(!caps.contains("STARTTLS"));
        assert_eq!(line(&mut reader).await, "t2 OK CAPABILITY completed\r\n");
        reader
            .get_mut()
            .write_all(b"t3 LOGIN alice secret\r\nt4 LOGOUT\r\n")
            .await
            .unwrap();
        assert!(
            line(&mut reader)
                .await
                .starts_with("t3 OK [CAPABILITY IMAP4rev1 IDLE")
        );
        assert_eq!(line(&mut reader).await, "* BYE Logging out\r\n");
        assert_eq!(line(&mut reader).await, "t4 OK LOGOUT completed\r\n");
        let events = serve.await.unwrap();
        assert!(
            events
                .iter()
                .any(|e| matches!(e, Event::Authenticated(a) if a.identity() == "alice"))
        );
        assert_eq!(events.last(), Some(&Event::Closed(Ok(()))));
    }
}

/// Pieces of commands put together at random, cut at random, with random answers: the
/// machine never panics, every answer it sends parses as a response, and it never holds
/// more input than its limit.
#[test]
fn random_sessions_never_panic_and_always_answer_valid_responses() {
    use imap_proto::framer::{Framed, Framer, FramerConfig};
    use imap_proto::response::{Greeting, Response};
    const PIECES: &[&[u8]] = &[
        b"a LOGIN alice secret\r\n",
        b"b SELECT INBOX\r\n",
        b"c FETCH 1:* FLAGS\r\n",
        b"d UID FETCH 1:* (FLAGS)\r\n",
        b"e IDLE\r\n",
        b"DONE\r\n",
        b"f APPEND INBOX {5}\r\n",
        b"hello\r\n",
        b"g APPEND INBOX {3+}\r\nabc",
        b" {2+}\r\nxy",
        b"\r\n",
        b"h NOOP\r\n",
        b"i STORE 2 +FLAGS (\\Seen)\r\n",
        b"j EXAMINE x\r\n",
        b"k CLOSE\r\n",
        b"l ENABLE QRESYNC\r\n",
        b"m AUTHENTICATE PLAIN\r\n",
        b"AGFsaWNlAHNlY3JldA==\r\n",
        b"*\r\n",
        b"n STARTTLS\r\n",
        b"o LOGOUT\r\n",
        b"{99999999999999999999999}\r\n",
        b"p SEARCH ALL\r\n",
        b"q UNSELECT\r\n",
        b")(*\"\r\n",
        b"r FETCH 5 BODY[]\r\n",
        b"s LOGIN {5}\r\n",
        b"alice {6+}\r\nsecret\r\n",
    ];
    let mut seed: u64 = 0x5eed;
    let mut next = move |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    let mut seen = String::new();
    for _ in 0..300 {
        let mut config = plain_config();
        config.capabilities = vec![Capability::QResync];
        config.max_buffered_input = 4096;
        config.max_literal = 5;
        let now = Instant::now();
        let mut server = Server::new(config, now);
        let users = Users::standard();
        let mut out = Vec::new();
        let mut wire = Vec::new();
        for _ in 0..next(30) {
            wire.extend_from_slice(PIECES[next(PIECES.len())]);
        }
        let mut rest = &wire[..];
        let mut uid = 20;
        while !rest.is_empty() && !server.is_closed() {
            let n = 1 + next(rest.len().min(40));
            let (piece, tail) = rest.split_at(n);
            rest = tail;
            server.feed(now, piece);
            while let Some(event) = server.poll_event() {
                let _ = match event {
                    Event::AuthStep { .. } => server.auth_step(&users, server_nonce()),
                    Event::Command { command, messages } => {
                        // Sometimes more arrives while the application works: read ahead.
                        if next(2) == 0 && !rest.is_empty() && server.wants_input() {
                            let n = 1 + next(rest.len().min(40));
                            let (piece, tail) = rest.split_at(n);
                            rest = tail;
                            server.feed(now, piece);
                            assert!(server.poll_event().is_none());
                        }
                        if matches!(
                            command.body,
                            CommandBody::Select { .. } | CommandBody::Examine { .. }
                        ) && next(2) == 0
                        {
                            let _ = server.selected(snapshot(&[3, 4, 7]), SelectInfo::new(vec![]));
                        }
                        for (_, uid) in messages {
                            let items = vec![MessageDataItem::Flags(Default::default())];
                            let _ = server.fetch(uid, items);
                        }
                        if next(3) == 0 {
                            uid += 1;
                            let _ = server.mailbox_changed(Change::Added {
                                uid: nz(uid),
                                flags: vec![],
                                modseq: None,
                            });
                            let _ = server.mailbox_changed(Change::Expunged {
                                uid: nz(3),
                                modseq: None,
                            });
                        }
                        server.complete(StatusKind::Ok, None, "done")
                    }
                    Event::AppendStart { .. } if next(2) == 0 => server.accept_append(),
                    Event::AppendStart { .. } => server.complete(StatusKind::No, None, "no"),
                    Event::AppendEnd { last: true, index } => {
                        // One UID per message (RFC 4315).
                        let uids: Vec<NonZeroU32> = (1..=index as u32 + 1).map(nz).collect();
                        server.append_done(nz(1), &uids)
                    }
                    Event::StartTls => server.tls_established(now),
                    _ => Ok(()),
                };
            }
            if server
                .poll_timeout()
                .is_some_and(|t| t <= now + Duration::from_secs(5))
            {
                server.handle_timeout(now + Duration::from_secs(5));
            }
            while let Some(bytes) = server.poll_transmit() {
                out.extend_from_slice(&bytes);
            }
        }
        // Everything written parses: a greeting, then responses.
        let mut framer = Framer::client(FramerConfig::default());
        let mut input = &out[..];
        let mut first = true;
        while let Some(framed) = framer.next_frame(&mut input) {
            let Framed::Message(message) = framed else {
                panic!("{framed:?}")
            };
            if first {
                Greeting::parse(message).unwrap();
                first = false;
            } else {
                Response::parse(message)
                    .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(message)));
            }
        }
        assert!(input.is_empty(), "{}", String::from_utf8_lossy(input));
        seen.push_str(&String::from_utf8_lossy(&out));
    }
    // The sessions reached the states worth exercising.
    for reached in [
        "+ idling",
        "[APPENDUID",
        "[READ-WRITE]",
        "[READ-ONLY]",
        " FETCH (",
        "EXPUNGE",
        "[TOOBIG]",
        "* BYE",
    ] {
        assert!(seen.contains(reached), "never reached {reached}");
    }
}

#[test]
fn an_idle_session_keeps_no_large_buffer() {
    let mut t = T::selected(plain_config());
    t.send(b"p1 APPEND INBOX {100000+}\r\n");
    t.take();
    t.server.accept_append().unwrap();
    t.send(&vec![b'x'; 100_000]);
    t.events.clear();
    t.server.complete(StatusKind::No, None, "no").unwrap();
    t.send(b"\r\n");
    let debug = format!("{:?}", t.server);
    let capacity: usize = debug
        .split("buffer_capacity: ")
        .nth(1)
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(capacity <= 2 * 8 * 1024, "{debug}");
    // The machine itself, without its buffers and view: 1288 octets on x86_64 today.
    assert!(std::mem::size_of::<Server>() < 2048);
}

#[test]
fn condstore_is_enabled_by_its_parameters_and_qresync_needs_enable() {
    let mut config = plain_config();
    config.capabilities = vec![Capability::CondStore, Capability::QResync];
    let mut t = T::selected(config.clone());
    assert!(!t.server.enabled().condstore);
    t.send(b"f1 FETCH 1 (FLAGS) (CHANGEDSINCE 5)\r\n");
    assert!(matches!(t.take(), Event::Command { .. }));
    assert!(t.server.enabled().condstore);
    t.server.complete(StatusKind::Ok, None, "done").unwrap();
    t.pump();
    assert_eq!(
        t.send(b"s2 SELECT INBOX (QRESYNC (5 10))\r\n"),
        "s2 BAD QRESYNC is not enabled\r\n"
    );
    let mut t = T::logged_in(config);
    t.send(b"s1 SELECT INBOX (CONDSTORE)\r\n");
    assert!(t.server.enabled().condstore);
}

#[test]
fn utf8_text_goes_quoted_once_utf8_accept_is_enabled() {
    let mut config = plain_config();
    config.capabilities = vec![Capability::Utf8Accept];
    config.id = Some(vec![("name".into(), "sansmäil".into())]);
    let mut t = T::logged_in(config);
    assert_eq!(
        t.send(b"i1 ID NIL\r\n"),
        "* ID (\"name\" {9}\r\nsansmäil)\r\ni1 OK ID completed\r\n"
    );
    t.send(b"e1 ENABLE UTF8=ACCEPT\r\n");
    assert_eq!(
        t.send(b"i2 ID NIL\r\n"),
        "* ID (\"name\" \"sansmäil\")\r\ni2 OK ID completed\r\n"
    );
}

#[test]
fn authenticate_login_and_xoauth2() {
    let mut config = plain_config();
    config.sasl_mechanisms = vec![Mechanism::Login, Mechanism::XOAuth2];
    let (mut t, greeting) = T::new(config.clone());
    assert!(
        greeting.contains(" AUTH=LOGIN AUTH=XOAUTH2 SASL-IR "),
        "{greeting}"
    );
    // LOGIN: "Username:" and "Password:" challenges.
    assert_eq!(t.send(b"a1 AUTHENTICATE LOGIN\r\n"), "+ VXNlcm5hbWU6\r\n");
    assert_eq!(t.send(b"YWxpY2U=\r\n"), "+ UGFzc3dvcmQ6\r\n");
    assert!(t.send(b"c2VjcmV0\r\n").starts_with("a1 OK [CAPABILITY"));

    let (mut t, _) = T::new(config);
    // "user=alice\x01auth=Bearer ya29.alice-token\x01\x01"
    let ir = "dXNlcj1hbGljZQFhdXRoPUJlYXJlciB5YTI5LmFsaWNlLXRva2VuAQE=";
    let out = t.send(format!("a1 AUTHENTICATE XOAUTH2 {ir}\r\n").as_bytes());
    assert!(out.starts_with("a1 OK [CAPABILITY"), "{out}");
}

#[test]
fn a_lost_connection_mid_append_aborts_it() {
    let mut t = T::logged_in(plain_config());
    t.send(b"p1 APPEND INBOX {10+}\r\nabc");
    t.take();
    t.server.accept_append().unwrap();
    t.pump();
    assert!(matches!(t.take(), Event::AppendData(_)));
    t.server.handle_connection_lost();
    t.pump();
    assert!(matches!(t.take(), Event::AppendAborted { tag } if tag.as_str() == "p1"));
    assert_eq!(t.take(), Event::Closed(Err(SessionError::PeerClosed)));
}

/// The machine through the shared session contract, as mail-tokio drives it.
#[test]
fn the_session_contract_classifies_starttls_and_closed() {
    use mail_wire::session::EventKind;
    fn classify<S: Session>(event: &S::Event) -> bool {
        !matches!(S::classify(event), EventKind::Other)
    }
    assert!(classify::<Server>(&Event::StartTls));
    assert!(classify::<Server>(&Event::Closed(Ok(()))));
    assert!(!classify::<Server>(&Event::AuthStep {
        mechanism: Mechanism::Plain
    }));
}

/// Issue 19's budget: an idle session on a big mailbox under 32 KiB. Here: the machine, its
/// buffers and its view, for 10,000 messages with a few gaps, idling after SELECT.
#[test]
fn an_idle_session_on_ten_thousand_messages_fits_in_32_kib() {
    let mut t = T::logged_in(plain_config());
    t.send(b"s1 SELECT INBOX\r\n");
    t.take();
    let uids: Vec<u32> = (1..=10_100)
        .filter(|u| u % 1000 != 0)
        .take(10_000)
        .collect();
    t.server
        .selected(snapshot(&uids), SelectInfo::new(vec![Flag::Seen]))
        .unwrap();
    t.pump();
    assert_eq!(t.send(b"i1 IDLE\r\n"), "+ idling\r\n");
    let view = t.server.view().unwrap();
    assert_eq!(view.exists(), 10_000);
    let debug = format!("{:?}", t.server);
    let buffers: usize = debug
        .split("buffer_capacity: ")
        .nth(1)
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    let total = std::mem::size_of::<Server>() + buffers + view.heap_bytes();
    println!(
        "idle session: machine {} + buffers {buffers} + view heap {} = {total} octets",
        std::mem::size_of::<Server>(),
        view.heap_bytes()
    );
    assert!(total < 32 * 1024, "{total}");
}

#[test]
fn a_literal_length_beyond_64_bits_closes_the_session() {
    let mut t = T::plain();
    assert_eq!(
        t.send(b"a1 LOGIN {99999999999999999999999+}\r\n"),
        "* BYE Literal length overflows\r\n"
    );
    assert_eq!(t.closed(), Some(&Err(SessionError::LiteralOverflow)));
}

#[test]
fn literal_minus_applies_to_every_message_of_a_multiappend() {
    let mut config = plain_config();
    config.literal_plus = LiteralPlus::Minus;
    let mut t = T::logged_in(config);
    let mut wire = b"p1 APPEND INBOX {3+}\r\nabc {4097+}\r\n".to_vec();
    wire.extend(std::iter::repeat_n(b'y', 4097));
    wire.extend_from_slice(b"\r\np2 NOOP\r\n");
    t.send(&wire);
    assert!(matches!(t.take(), Event::AppendStart { index: 0, .. }));
    t.server.accept_append().unwrap();
    assert_eq!(
        t.pump(),
        "p1 BAD Non-synchronizing literal over 4096 octets (LITERAL-)\r\np2 OK NOOP completed\r\n"
    );
    assert!(matches!(t.take(), Event::AppendData(_)));
    assert!(matches!(t.take(), Event::AppendAborted { .. }));
    assert!(t.events.is_empty(), "{:?}", t.events);
}

#[test]
fn select_under_imap4rev2_sends_the_mailbox_list_response() {
    let mut config = plain_config();
    config.imap4rev2 = true;
    let mut t = T::logged_in(config);
    t.send(b"e1 ENABLE IMAP4rev2\r\n");
    t.events.clear();
    t.send(b"s1 SELECT \"Sent Items\"\r\n");
    t.take();
    let mut info = SelectInfo::new(vec![Flag::Seen]);
    info.delimiter = Some(imap_proto::response::Delimiter::new('/').unwrap());
    info.attributes = vec![imap_proto::flag::MailboxAttribute::Sent];
    t.server.selected(snapshot(&[1]), info).unwrap();
    // RFC 9051 section 6.3.2: the LIST of the mailbox, its name as the client gave it; no
    // RECENT, no UNSEEN.
    assert_eq!(
        t.pump(),
        "* LIST (\\Sent) \"/\" \"Sent Items\"\r\n\
         * FLAGS (\\Seen)\r\n\
         * 1 EXISTS\r\n\
         * OK [UIDVALIDITY 5] UIDs valid\r\n\
         * OK [UIDNEXT 2] Predicted next UID\r\n\
         * OK [PERMANENTFLAGS (\\Seen \\*)] Limited\r\n\
         s1 OK [READ-WRITE] SELECT completed\r\n"
    );
    // An IMAP4rev1 session gets no LIST.
    let mut t = T::logged_in(plain_config());
    t.send(b"x1 EXAMINE INBOX\r\n");
    t.take();
    t.server
        .selected(snapshot(&[1]), SelectInfo::new(vec![]))
        .unwrap();
    let out = t.pump();
    assert!(
        out.starts_with("* FLAGS ()\r\n* 1 EXISTS\r\n* 0 RECENT\r\n"),
        "{out}"
    );
}

#[test]
fn respond_status_sends_untagged_status_responses_in_order() {
    let mut t = T::selected(plain_config());
    // No command pending: refused.
    assert_eq!(
        t.server.respond_status(StatusKind::Ok, None, "x"),
        Err(ServerError::NoPendingDecision)
    );
    t.send(b"c1 LIST \"\" x\r\n");
    assert!(matches!(t.take(), Event::Command { .. }));
    t.server
        .respond_status(
            StatusKind::No,
            Some(imap_proto::response::Code::Alert),
            "Disk is 99% full",
        )
        .unwrap();
    t.server
        .mailbox_changed(Change::Expunged {
            uid: nz(9),
            modseq: None,
        })
        .unwrap();
    t.server
        .respond_status(StatusKind::Bad, None, "Odd")
        .unwrap();
    // Neither PREAUTH nor BYE, nor a text with CR LF: nothing goes out.
    assert!(matches!(
        t.server.respond_status(StatusKind::Bye, None, "x"),
        Err(ServerError::Invalid(_))
    ));
    assert!(matches!(
        t.server.respond_status(StatusKind::Ok, None, "a\r\n* BYE"),
        Err(ServerError::Invalid(_))
    ));
    t.server
        .complete(StatusKind::Ok, None, "LIST completed")
        .unwrap();
    assert_eq!(
        t.pump(),
        "* NO [ALERT] Disk is 99% full\r\n\
         * BAD Odd\r\n\
         * 2 EXPUNGE\r\n\
         c1 OK LIST completed\r\n"
    );
}

#[test]
fn commands_of_extensions_not_advertised_are_bad_and_never_reach_the_application() {
    let mut t = T::selected(plain_config());
    t.events.clear();
    for (command, answer) in [
        ("m1 MOVE 1 Trash", "m1 BAD MOVE is not supported"),
        ("m2 UID MOVE 7 Trash", "m2 BAD MOVE is not supported"),
        ("u1 UID EXPUNGE 7", "u1 BAD UID EXPUNGE is not supported"),
        ("s1 SORT (DATE) UTF-8 ALL", "s1 BAD SORT is not supported"),
        (
            "t1 THREAD REFERENCES UTF-8 ALL",
            "t1 BAD THREAD is not supported with this algorithm",
        ),
        ("q1 GETQUOTA \"\"", "q1 BAD QUOTA is not supported"),
        ("q2 GETQUOTAROOT INBOX", "q2 BAD QUOTA is not supported"),
        (
            "q3 SETQUOTA \"\" (STORAGE 512)",
            "q3 BAD SETQUOTA is not supported",
        ),
        (
            "e1 SEARCH RETURN (COUNT) ALL",
            "e1 BAD SEARCH RETURN is not supported",
        ),
        (
            "l1 LIST (SUBSCRIBED) \"\" *",
            "l1 BAD LIST-EXTENDED is not supported",
        ),
        (
            "l2 LIST \"\" * RETURN (CHILDREN)",
            "l2 BAD LIST-EXTENDED is not supported",
        ),
        (
            "l3 LIST \"\" (INBOX Sent)",
            "l3 BAD LIST-EXTENDED is not supported",
        ),
    ] {
        assert_eq!(
            t.send(format!("{command}\r\n").as_bytes()),
            format!("{answer}\r\n")
        );
    }
    assert!(t.events.is_empty(), "{:?}", t.events);

    // Advertised, the same commands are the application's; SAVE needs SEARCHRES beside
    // ESEARCH, THREAD the algorithm advertised.
    let mut config = plain_config();
    config.capabilities = [
        "MOVE",
        "UIDPLUS",
        "SORT",
        "THREAD=REFERENCES",
        "QUOTA",
        "QUOTASET",
        "ESEARCH",
        "LIST-EXTENDED",
    ]
    .into_iter()
    .map(|c| Capability::new(c).unwrap())
    .collect();
    let mut t = T::selected(config);
    t.events.clear();
    assert_eq!(
        t.send(b"e2 SEARCH RETURN (SAVE) ALL\r\nt2 THREAD ORDEREDSUBJECT UTF-8 ALL\r\n"),
        "e2 BAD SEARCH RETURN (SAVE) is not supported\r\n\
         t2 BAD THREAD is not supported with this algorithm\r\n"
    );
    for command in [
        "m1 MOVE 1 Trash",
        "u1 UID EXPUNGE 7",
        "s1 SORT (DATE) UTF-8 ALL",
        "t1 THREAD REFERENCES UTF-8 ALL",
        "q1 GETQUOTA \"\"",
        "q2 GETQUOTAROOT INBOX",
        "q3 SETQUOTA \"\" (STORAGE 512)",
        "e1 SEARCH RETURN (COUNT) ALL",
        "l1 LIST (SUBSCRIBED) \"\" * RETURN (CHILDREN)",
    ] {
        assert_eq!(t.send(format!("{command}\r\n").as_bytes()), "");
        assert!(matches!(t.take(), Event::Command { .. }), "{command}");
        t.server.complete(StatusKind::Ok, None, "done").unwrap();
        assert!(t.pump().ends_with("OK done\r\n"), "{command}");
    }

    // An IMAP4rev2 server offers MOVE, UID EXPUNGE, ESEARCH and LIST-EXTENDED by definition.
    let mut config = plain_config();
    config.imap4rev2 = true;
    let mut t = T::selected(config);
    t.events.clear();
    for command in [
        "m1 MOVE 1 Trash",
        "u1 UID EXPUNGE 7",
        "e1 SEARCH RETURN (SAVE) ALL",
        "l1 LIST \"\" * RETURN (STATUS (MESSAGES))",
    ] {
        assert_eq!(t.send(format!("{command}\r\n").as_bytes()), "");
        assert!(matches!(t.take(), Event::Command { .. }), "{command}");
        t.server.complete(StatusKind::Ok, None, "done").unwrap();
        t.pump();
    }
}

#[test]
fn announced_flags_carry_recent_for_imap4rev1_sessions() {
    for rev2 in [false, true] {
        let mut config = plain_config();
        config.imap4rev2 = rev2;
        let mut t = T::logged_in(config);
        if rev2 {
            t.send(b"e1 ENABLE IMAP4rev2\r\n");
            assert!(matches!(t.take(), Event::Enabled(_)));
        }
        t.send(b"s1 SELECT INBOX\r\n");
        t.events.clear();
        let mut info = SelectInfo::new(vec![Flag::Seen]);
        info.recent = 1;
        info.recent_uids = vec![nz(9)];
        t.server.selected(snapshot(&[7, 9, 10]), info).unwrap();
        t.pump();
        for uid in [7, 9] {
            t.server
                .mailbox_changed(Change::Flags {
                    uid: nz(uid),
                    flags: vec![Flag::Seen],
                    modseq: None,
                })
                .unwrap();
        }
        // A message arriving now, recent to this session.
        t.server
            .mailbox_changed(Change::Added {
                uid: nz(11),
                flags: Vec::new(),
                modseq: None,
            })
            .unwrap();
        t.server.mark_recent(nz(11));
        assert!(t.send(b"n1 NOOP\r\n").contains("* 4 EXISTS\r\n"));
        t.server
            .mailbox_changed(Change::Flags {
                uid: nz(11),
                flags: vec![Flag::Flagged],
                modseq: None,
            })
            .unwrap();
        let out = t.send(b"n2 NOOP\r\n");
        if rev2 {
            // RFC 9051 has no \Recent; unsolicited FETCH carries UID.
            assert_eq!(
                out,
                "* 4 FETCH (FLAGS (\\Flagged) UID 11)\r\nn2 OK NOOP completed\r\n"
            );
        } else {
            assert_eq!(
                out,
                "* 4 FETCH (FLAGS (\\Flagged \\Recent))\r\nn2 OK NOOP completed\r\n"
            );
        }
    }
    // The first NOOP's FETCH responses, rev1: \Recent on message 2 (UID 9) only.
    let mut t = T::logged_in(plain_config());
    t.send(b"s1 SELECT INBOX\r\n");
    let mut info = SelectInfo::new(vec![Flag::Seen]);
    info.recent_uids = vec![nz(9)];
    t.server.selected(snapshot(&[7, 9, 10]), info).unwrap();
    t.pump();
    for uid in [7, 9] {
        t.server
            .mailbox_changed(Change::Flags {
                uid: nz(uid),
                flags: vec![Flag::Seen],
                modseq: None,
            })
            .unwrap();
    }
    assert_eq!(
        t.send(b"n1 NOOP\r\n"),
        "* 1 FETCH (FLAGS (\\Seen))\r\n\
         * 2 FETCH (FLAGS (\\Seen \\Recent))\r\n\
         n1 OK NOOP completed\r\n"
    );
}

/// Logged in with `config` (after `enable`, when given), INBOX selected with UIDs 7, 9 and
/// 10, `recent` of them recent to the session.
fn selected_with_recent(config: ServerConfig, enable: Option<&[u8]>, recent: &[u32]) -> T {
    let mut t = T::logged_in(config);
    if let Some(line) = enable {
        assert!(t.send(line).contains(" OK ENABLE completed\r\n"));
        t.events.clear();
    }
    t.send(b"s1 SELECT INBOX\r\n");
    assert!(matches!(t.take(), Event::Command { .. }));
    let mut info = SelectInfo::new(vec![Flag::Seen]);
    info.recent = u32::try_from(recent.len()).unwrap();
    info.recent_uids = recent.iter().map(|&u| nz(u)).collect();
    t.server.selected(snapshot(&[7, 9, 10]), info).unwrap();
    let out = t.pump();
    assert!(out.ends_with(" SELECT completed\r\n"), "{out}");
    t
}

fn expunged(uid: u32) -> Change {
    Change::Expunged {
        uid: nz(uid),
        modseq: None,
    }
}

fn added(uid: u32) -> Change {
    Change::Added {
        uid: nz(uid),
        flags: Vec::new(),
        modseq: None,
    }
}

#[test]
fn recent_follows_a_size_change_that_changes_its_count() {
    let mut t = selected_with_recent(plain_config(), None, &[9]);
    // A new message recent to this session, marked before it is reported: RECENT right
    // after EXISTS, before the flag updates (RFC 3501 section 7.3.2, as Dovecot 2.3).
    t.server.mark_recent(nz(11));
    t.server.mailbox_changed(added(11)).unwrap();
    t.server
        .mailbox_changed(Change::Flags {
            uid: nz(7),
            flags: vec![Flag::Seen],
            modseq: None,
        })
        .unwrap();
    assert_eq!(
        t.send(b"n1 NOOP\r\n"),
        "* 4 EXISTS\r\n* 2 RECENT\r\n* 1 FETCH (FLAGS (\\Seen))\r\nn1 OK NOOP completed\r\n"
    );
    // A message not recent to it: EXISTS alone, the count is unchanged.
    t.server.mailbox_changed(added(12)).unwrap();
    assert_eq!(
        t.send(b"n2 NOOP\r\n"),
        "* 5 EXISTS\r\nn2 OK NOOP completed\r\n"
    );
    // Expunging a message that is not recent leaves the count; a recent one lowers it.
    t.server.mailbox_changed(expunged(10)).unwrap();
    assert_eq!(
        t.send(b"n3 NOOP\r\n"),
        "* 3 EXPUNGE\r\nn3 OK NOOP completed\r\n"
    );
    t.server.mailbox_changed(expunged(9)).unwrap();
    t.server.mailbox_changed(expunged(11)).unwrap();
    assert_eq!(
        t.send(b"n4 NOOP\r\n"),
        "* 3 EXPUNGE\r\n* 2 EXPUNGE\r\n* 0 RECENT\r\nn4 OK NOOP completed\r\n"
    );
    // The announced FLAGS no longer carry \Recent for them.
    t.server.mark_recent(nz(13));
    t.server.mailbox_changed(added(13)).unwrap();
    assert_eq!(
        t.send(b"n5 NOOP\r\n"),
        "* 3 EXISTS\r\n* 1 RECENT\r\nn5 OK NOOP completed\r\n"
    );
}

#[test]
fn recent_waits_with_the_expunge_during_a_fetch_by_sequence_number() {
    let mut t = selected_with_recent(plain_config(), None, &[9, 10]);
    t.server.mailbox_changed(expunged(10)).unwrap();
    t.server.mark_recent(nz(11));
    t.server.mailbox_changed(added(11)).unwrap();
    t.send(b"f1 FETCH 1 FLAGS\r\n");
    assert!(matches!(t.take(), Event::Command { .. }));
    t.server
        .fetch(nz(7), vec![MessageDataItem::Flags(Default::default())])
        .unwrap();
    t.server
        .complete(StatusKind::Ok, None, "FETCH completed")
        .unwrap();
    // The new message goes out during FETCH, its expunge waits: message 3 (UID 10) still
    // counts as recent, so 3.
    assert_eq!(
        t.pump(),
        "* 1 FETCH (FLAGS ())\r\n* 4 EXISTS\r\n* 3 RECENT\r\nf1 OK FETCH completed\r\n"
    );
    assert_eq!(
        t.send(b"n1 NOOP\r\n"),
        "* 3 EXPUNGE\r\n* 2 RECENT\r\nn1 OK NOOP completed\r\n"
    );
}

#[test]
fn mark_recent_before_or_after_the_change_during_idle_tells_the_same_count() {
    // The documented order: mark_recent, then mailbox_changed.
    let mut t = selected_with_recent(plain_config(), None, &[9]);
    assert_eq!(t.send(b"i1 IDLE\r\n"), "+ idling\r\n");
    t.server.mark_recent(nz(11));
    assert_eq!(t.pump(), "");
    t.server.mailbox_changed(added(11)).unwrap();
    assert_eq!(t.pump(), "* 4 EXISTS\r\n* 2 RECENT\r\n");
    // The other order: EXISTS at once, then the new count as soon as it is known.
    t.server.mailbox_changed(added(12)).unwrap();
    assert_eq!(t.pump(), "* 5 EXISTS\r\n");
    t.server.mark_recent(nz(12));
    assert_eq!(t.pump(), "* 3 RECENT\r\n");
    // Marking a message twice changes nothing.
    t.server.mark_recent(nz(12));
    assert_eq!(t.pump(), "");
    assert_eq!(t.send(b"DONE\r\n"), "i1 OK IDLE terminated\r\n");
}

#[test]
fn mark_recent_outside_idle_after_the_change_is_told_at_the_next_announcement() {
    let mut t = selected_with_recent(plain_config(), None, &[]);
    t.server.mailbox_changed(added(11)).unwrap();
    assert_eq!(
        t.send(b"n1 NOOP\r\n"),
        "* 4 EXISTS\r\nn1 OK NOOP completed\r\n"
    );
    t.server.mark_recent(nz(11));
    assert_eq!(t.pump(), "");
    assert_eq!(
        t.send(b"n2 NOOP\r\n"),
        "* 1 RECENT\r\nn2 OK NOOP completed\r\n"
    );
    assert_eq!(t.send(b"n3 NOOP\r\n"), "n3 OK NOOP completed\r\n");
}

#[test]
fn mark_recent_ignores_what_is_gone_and_forgets_what_came_and_went() {
    let mut t = selected_with_recent(plain_config(), None, &[]);
    t.server.mailbox_changed(expunged(9)).unwrap();
    assert_eq!(
        t.send(b"n1 NOOP\r\n"),
        "* 2 EXPUNGE\r\nn1 OK NOOP completed\r\n"
    );
    // UID 9 is gone, UID 8 never was: neither counts.
    t.server.mark_recent(nz(9));
    t.server.mark_recent(nz(8));
    // UID 12 arrives and goes before the client hears of it.
    t.server.mark_recent(nz(12));
    t.server.mailbox_changed(added(11)).unwrap();
    t.server.mailbox_changed(added(12)).unwrap();
    t.server.mailbox_changed(expunged(12)).unwrap();
    assert_eq!(
        t.send(b"n2 NOOP\r\n"),
        "* 3 EXISTS\r\nn2 OK NOOP completed\r\n"
    );
    t.server.mark_recent(nz(13));
    t.server.mailbox_changed(added(13)).unwrap();
    assert_eq!(
        t.send(b"n3 NOOP\r\n"),
        "* 4 EXISTS\r\n* 1 RECENT\r\nn3 OK NOOP completed\r\n"
    );
}

#[test]
fn recent_follows_vanished_under_qresync() {
    let mut config = plain_config();
    config.capabilities = vec![Capability::QResync];
    let mut t = selected_with_recent(config, Some(b"e1 ENABLE QRESYNC\r\n"), &[9, 10]);
    t.server.mailbox_changed(expunged(9)).unwrap();
    t.server.mailbox_changed(expunged(10)).unwrap();
    assert_eq!(
        t.send(b"n1 NOOP\r\n"),
        "* VANISHED 9:10\r\n* 0 RECENT\r\nn1 OK NOOP completed\r\n"
    );
}

#[test]
fn an_imap4rev2_session_gets_no_recent_after_a_size_change() {
    let mut config = plain_config();
    config.imap4rev2 = true;
    let mut t = selected_with_recent(config, Some(b"e1 ENABLE IMAP4rev2\r\n"), &[]);
    t.server.mark_recent(nz(11));
    t.server.mailbox_changed(added(11)).unwrap();
    t.server.mailbox_changed(expunged(7)).unwrap();
    assert_eq!(
        t.send(b"n1 NOOP\r\n"),
        "* 1 EXPUNGE\r\n* 3 EXISTS\r\nn1 OK NOOP completed\r\n"
    );
    assert_eq!(t.send(b"i1 IDLE\r\n"), "+ idling\r\n");
    t.server.mailbox_changed(added(12)).unwrap();
    t.server.mark_recent(nz(12));
    assert_eq!(t.pump(), "* 4 EXISTS\r\n");
}

// The cross-protocol attack: a web page makes a browser POST IMAP commands to the port
// (`ServerConfig::refuse_http`, default on).

const HTTP_BYE: &str = "* BYE This is an IMAP server, not a web server: HTTP request refused\r\n";

#[test]
fn a_browser_post_at_greeting_time_gets_one_bye_and_runs_nothing() {
    let (mut t, _) = T::new(plain_config());
    let out = t.send(
        b"POST / HTTP/1.1\r\nHost: 127.0.0.1:1143\r\nContent-Type: text/plain\r\n\
          Content-Length: 40\r\n\r\na LOGIN alice secret\r\nb SELECT INBOX\r\n",
    );
    assert_eq!(out, HTTP_BYE);
    assert_eq!(t.closed(), Some(&Err(SessionError::HttpRequest)));
    // No login was attempted: the body was never read.
    assert_eq!(t.events, [Event::Closed(Err(SessionError::HttpRequest))]);
}

#[test]
fn a_request_line_after_login_in_a_pipelined_batch_closes_there() {
    let (mut t, _) = T::new(plain_config());
    let out = t.send(b"a LOGIN alice secret\r\nb NOOP\r\nGET / HTTP/1.1\r\nc LOGOUT\r\n");
    assert!(out.starts_with("a OK "), "{out}");
    assert!(
        out.ends_with(&format!("b OK NOOP completed\r\n{HTTP_BYE}")),
        "{out}"
    );
    assert_eq!(t.closed(), Some(&Err(SessionError::HttpRequest)));
}

/// A request line longer than `max_line` (a long URL) is recognized by its start.
#[test]
fn a_request_line_too_long_to_frame_closes() {
    let (mut t, _) = T::new(plain_config());
    let mut line = b"POST /".to_vec();
    line.resize(70 * 1024, b'a');
    line.extend_from_slice(b" HTTP/1.1\r\nHost: x\r\n\r\na LOGIN alice secret\r\n");
    assert_eq!(t.send(&line), HTTP_BYE);
    assert_eq!(t.closed(), Some(&Err(SessionError::HttpRequest)));
}

/// `GET` is a valid tag: `GET NOOP` is a command, and so are lines that are not whole request
/// lines. A lowercase method is not a method (RFC 9110 section 9.1).
#[test]
fn commands_tagged_with_a_method_still_work() {
    let (mut t, _) = T::new(plain_config());
    assert_eq!(t.send(b"GET NOOP\r\n"), "GET OK NOOP completed\r\n");
    assert_eq!(
        t.send(b"POST CAPABILITY\r\n").lines().last(),
        Some("POST OK CAPABILITY completed")
    );
    assert!(t.send(b"get / HTTP/1.1\r\n").starts_with("get BAD "));
    assert_eq!(t.closed(), None);
}

/// RFC 9051 `tag = 1*<any ASTRING-CHAR except "+">`: `<` and `>` are ATOM-CHARs (not
/// atom-specials), so `<html><body>x` is a valid tag and is echoed.
#[test]
fn a_tag_made_of_html_is_a_valid_tag() {
    let (mut t, _) = T::new(plain_config());
    assert_eq!(
        t.send(b"<html><body>x NOOP\r\n"),
        "<html><body>x OK NOOP completed\r\n"
    );
}

#[test]
fn with_the_switch_off_a_request_line_is_bad() {
    assert!(ServerConfig::default().refuse_http);
    let mut config = plain_config();
    config.refuse_http = false;
    let (mut t, _) = T::new(config);
    let out = t.send(b"POST / HTTP/1.1\r\n");
    assert!(out.starts_with("POST BAD "), "{out}");
    assert_eq!(t.closed(), None);
}
