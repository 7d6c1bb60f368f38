//! The client's capability gates: a command of an extension the server does not advertise is
//! refused locally (`ClientError::NotAdvertised`, nothing on the wire); with the capability
//! (or IMAP4rev2, for what it folds in) it goes out as written. And the fallbacks that need
//! no gate: synchronising literals without LITERAL+, the SASL initial response in a
//! continuation without SASL-IR.

use imap_proto::client::{Client, ClientConfig, ClientError, Event};
use imap_proto::command::{Command, CommandBody};
use imap_proto::response::Capability;
use mail_testkit::SimClock;
use mail_wire::Secret;
use mail_wire::sasl::ClientSession;

/// Everything the client queued for the wire, as text.
fn wire(client: &mut Client) -> String {
    let mut out = Vec::new();
    while let Some(piece) = client.poll_transmit() {
        out.extend_from_slice(&piece);
    }
    String::from_utf8(out).unwrap()
}

fn feed(client: &mut Client, clock: &SimClock, bytes: &str) -> Vec<Event> {
    client.feed(clock.now(), bytes.as_bytes());
    std::iter::from_fn(|| client.poll_event()).collect()
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

/// The body of a command as the server would read `text` (after a tag).
fn body(text: &str) -> CommandBody<'static> {
    let line = format!("t {text}\r\n");
    Command::parse(line.as_bytes())
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .body
        .into_static()
}

/// One gate: the command (as written on the wire after the tag, with `{n+}` literals), the
/// capability named when it is refused, capabilities without it and with it, and whether
/// IMAP4rev2 alone lets it go.
struct Case {
    command: &'static str,
    needs: &'static str,
    without: &'static str,
    with: &'static str,
    in_rev2: bool,
}

const fn case(
    command: &'static str,
    needs: &'static str,
    without: &'static str,
    with: &'static str,
    in_rev2: bool,
) -> Case {
    Case {
        command,
        needs,
        without,
        with,
        in_rev2,
    }
}

const R1: &str = "IMAP4rev1";

const CASES: &[Case] = &[
    case("IDLE", "IDLE", R1, "IMAP4rev1 IDLE", true),
    case("MOVE 1:2 Trash", "MOVE", R1, "IMAP4rev1 MOVE", true),
    case("UID MOVE 5 Trash", "MOVE", R1, "IMAP4rev1 MOVE", true),
    case("UID EXPUNGE 3:4", "UIDPLUS", R1, "IMAP4rev1 UIDPLUS", true),
    case("ENABLE CONDSTORE", "ENABLE", R1, "IMAP4rev1 ENABLE", true),
    case("NAMESPACE", "NAMESPACE", R1, "IMAP4rev1 NAMESPACE", true),
    case("ID NIL", "ID", R1, "IMAP4rev1 ID", false),
    case(
        "ID (\"name\" \"sansmail\")",
        "ID",
        R1,
        "IMAP4rev1 ID",
        false,
    ),
    case("UNSELECT", "UNSELECT", R1, "IMAP4rev1 UNSELECT", true),
    case(
        "STATUS INBOX (MESSAGES SIZE)",
        "STATUS=SIZE",
        R1,
        "IMAP4rev1 STATUS=SIZE",
        true,
    ),
    case(
        "STATUS INBOX (HIGHESTMODSEQ)",
        "CONDSTORE",
        R1,
        "IMAP4rev1 CONDSTORE",
        false,
    ),
    case(
        "STATUS INBOX (APPENDLIMIT)",
        "APPENDLIMIT",
        R1,
        "IMAP4rev1 APPENDLIMIT=1000",
        false,
    ),
    case(
        "STATUS INBOX (DELETED)",
        "IMAP4rev2",
        "IMAP4rev1 QUOTA QUOTA=RES-STORAGE",
        "IMAP4rev1 QUOTA QUOTA=RES-MESSAGE",
        true,
    ),
    case(
        "STATUS INBOX (DELETED-STORAGE)",
        "QUOTA=RES-STORAGE",
        "IMAP4rev1 QUOTA QUOTA=RES-MESSAGE",
        "IMAP4rev1 QUOTA QUOTA=RES-STORAGE",
        false,
    ),
    case(
        "LIST (SUBSCRIBED) \"\" *",
        "LIST-EXTENDED",
        R1,
        "IMAP4rev1 LIST-EXTENDED",
        true,
    ),
    case(
        "LIST \"\" (INBOX Sent)",
        "LIST-EXTENDED",
        R1,
        "IMAP4rev1 LIST-EXTENDED",
        true,
    ),
    case(
        "LIST \"\" * RETURN (CHILDREN)",
        "LIST-EXTENDED",
        R1,
        "IMAP4rev1 LIST-EXTENDED",
        true,
    ),
    case(
        "LIST \"\" * RETURN (STATUS (MESSAGES))",
        "LIST-STATUS",
        "IMAP4rev1 LIST-EXTENDED",
        "IMAP4rev1 LIST-STATUS",
        true,
    ),
    case(
        "LIST \"\" * RETURN (STATUS (SIZE))",
        "STATUS=SIZE",
        "IMAP4rev1 LIST-STATUS",
        "IMAP4rev1 LIST-STATUS STATUS=SIZE",
        true,
    ),
    case(
        "LIST \"\" * RETURN (SPECIAL-USE)",
        "SPECIAL-USE",
        "IMAP4rev1 LIST-EXTENDED",
        "IMAP4rev1 SPECIAL-USE",
        true,
    ),
    case(
        "LIST (SPECIAL-USE) \"\" *",
        "SPECIAL-USE",
        "IMAP4rev1 LIST-EXTENDED",
        "IMAP4rev1 LIST-EXTENDED SPECIAL-USE",
        true,
    ),
    case(
        "SEARCH RETURN (COUNT) ALL",
        "ESEARCH",
        R1,
        "IMAP4rev1 ESEARCH",
        true,
    ),
    case(
        "UID SEARCH RETURN (SAVE) UNSEEN",
        "SEARCHRES",
        "IMAP4rev1 ESEARCH",
        "IMAP4rev1 ESEARCH SEARCHRES",
        true,
    ),
    case(
        "FETCH $ FLAGS",
        "SEARCHRES",
        R1,
        "IMAP4rev1 SEARCHRES",
        true,
    ),
    case(
        "SEARCH NOT UID $",
        "SEARCHRES",
        R1,
        "IMAP4rev1 SEARCHRES",
        true,
    ),
    case(
        "SEARCH OR SEEN MODSEQ 5",
        "CONDSTORE",
        R1,
        "IMAP4rev1 CONDSTORE",
        false,
    ),
    case(
        "SELECT INBOX (CONDSTORE)",
        "CONDSTORE",
        R1,
        "IMAP4rev1 CONDSTORE",
        false,
    ),
    case(
        "EXAMINE INBOX (QRESYNC (1 5))",
        "QRESYNC",
        "IMAP4rev1 CONDSTORE",
        "IMAP4rev1 QRESYNC",
        false,
    ),
    case(
        "FETCH 1:* FLAGS (CHANGEDSINCE 5)",
        "CONDSTORE",
        R1,
        "IMAP4rev1 CONDSTORE",
        false,
    ),
    case(
        "UID FETCH 1:* FLAGS (CHANGEDSINCE 5 VANISHED)",
        "QRESYNC",
        "IMAP4rev1 CONDSTORE",
        "IMAP4rev1 CONDSTORE QRESYNC",
        false,
    ),
    case(
        "FETCH 1 (UID MODSEQ)",
        "CONDSTORE",
        R1,
        "IMAP4rev1 CONDSTORE",
        false,
    ),
    case(
        "STORE 1 (UNCHANGEDSINCE 5) +FLAGS (\\Seen)",
        "CONDSTORE",
        R1,
        "IMAP4rev1 CONDSTORE",
        false,
    ),
    case(
        "FETCH 1 BINARY.PEEK[1]<0.10>",
        "BINARY",
        R1,
        "IMAP4rev1 BINARY",
        true,
    ),
    case(
        "UID FETCH 7 (FLAGS BINARY.SIZE[1.2])",
        "BINARY",
        R1,
        "IMAP4rev1 BINARY",
        true,
    ),
    case(
        "APPEND INBOX {1+}\r\na {1+}\r\nb",
        "MULTIAPPEND",
        "IMAP4rev1 LITERAL+",
        "IMAP4rev1 LITERAL+ MULTIAPPEND",
        false,
    ),
    case(
        "APPEND INBOX (\\Seen) ~{3+}\r\na\0b",
        "BINARY",
        "IMAP4rev1 LITERAL+",
        "IMAP4rev1 LITERAL+ BINARY",
        true,
    ),
    case(
        "APPEND INBOX UTF8 (~{1+}\r\na)",
        "UTF8=ACCEPT",
        "IMAP4rev1 LITERAL+",
        "IMAP4rev1 LITERAL+ UTF8=ACCEPT",
        false,
    ),
    case(
        "CREATE Junk (USE (\\Junk))",
        "CREATE-SPECIAL-USE",
        "IMAP4rev1 SPECIAL-USE",
        "IMAP4rev1 CREATE-SPECIAL-USE",
        false,
    ),
    case("GETQUOTA \"\"", "QUOTA", R1, "IMAP4rev1 QUOTA", false),
    case("GETQUOTAROOT INBOX", "QUOTA", R1, "IMAP4rev1 QUOTA", false),
    case(
        "SETQUOTA \"\" (STORAGE 512)",
        "QUOTASET",
        "IMAP4rev1 QUOTA",
        "IMAP4rev1 QUOTA QUOTASET",
        false,
    ),
    case("SORT (DATE) UTF-8 ALL", "SORT", R1, "IMAP4rev1 SORT", false),
    case(
        "UID THREAD REFERENCES UTF-8 ALL",
        "THREAD",
        "IMAP4rev1 THREAD=ORDEREDSUBJECT",
        "IMAP4rev1 THREAD=references",
        false,
    ),
    case(
        "COMPRESS DEFLATE",
        "COMPRESS",
        "IMAP4rev1 COMPRESS=LZ4",
        "IMAP4rev1 COMPRESS=DEFLATE",
        false,
    ),
];

#[test]
fn each_gate_refuses_without_its_capability_and_sends_the_command_with_it() {
    for case in CASES {
        let (mut client, clock) = ready(case.without);
        assert_eq!(
            client.command(clock.now(), body(case.command)),
            Err(ClientError::NotAdvertised(case.needs)),
            "{} to {}",
            case.command,
            case.without
        );
        assert_eq!(wire(&mut client), "", "{}: nothing sent", case.command);
        assert!(!client.is_idling());
        // The session goes on: the next command takes the first tag.
        client.noop(clock.now()).unwrap();
        assert_eq!(wire(&mut client), "A0001 NOOP\r\n", "{}", case.command);

        let (mut client, clock) = ready(case.with);
        client
            .command(clock.now(), body(case.command))
            .unwrap_or_else(|e| panic!("{} to {}: {e}", case.command, case.with));
        assert_eq!(
            wire(&mut client),
            format!("A0001 {}\r\n", case.command),
            "to {}",
            case.with
        );
    }
}

/// IMAP4rev2 folds in MOVE, UIDPLUS, ENABLE, NAMESPACE, UNSELECT, ESEARCH, SEARCHRES,
/// LIST-EXTENDED, LIST-STATUS, SPECIAL-USE, STATUS=SIZE, BINARY and IDLE (RFC 9051
/// appendix E), not ID, CONDSTORE, QRESYNC, MULTIAPPEND, QUOTA, SORT, THREAD, CREATE-SPECIAL-USE,
/// UTF8=ACCEPT, APPENDLIMIT or COMPRESS.
#[test]
fn imap4rev2_stands_for_what_it_includes_and_for_nothing_else() {
    for case in CASES {
        // LITERAL- (in IMAP4rev2) writes these small literals `{n+}` as the table does.
        let (mut client, clock) = ready("IMAP4rev2");
        let result = client.command(clock.now(), body(case.command));
        if case.in_rev2 {
            assert!(result.is_ok(), "{}: {result:?}", case.command);
            assert_eq!(wire(&mut client), format!("A0001 {}\r\n", case.command));
        } else {
            // The first capability missing: CHANGEDSINCE's CONDSTORE before VANISHED's
            // QRESYNC.
            let first = if case.command.contains("CHANGEDSINCE") {
                "CONDSTORE"
            } else {
                case.needs
            };
            assert_eq!(
                result,
                Err(ClientError::NotAdvertised(first)),
                "{}",
                case.command
            );
            assert_eq!(wire(&mut client), "");
        }
    }
}

/// Commands of the base protocol need nothing.
#[test]
fn base_commands_pass_every_gate() {
    let (mut client, clock) = ready("IMAP4rev1");
    let commands = [
        "COPY 1:3 Trash",
        "FETCH 1 (FLAGS BODY.PEEK[HEADER] BODY[]<0.100>)",
        "SEARCH CHARSET UTF-8 SEEN UID 1:5",
        "STATUS INBOX (MESSAGES UIDNEXT UNSEEN)",
        "LIST \"\" *",
        "EXPUNGE",
        "CLOSE",
        "CREATE Junk",
        "APPEND INBOX (\\Seen) {1}\r\na",
    ];
    for command in commands {
        client.command(clock.now(), body(command)).unwrap();
    }
    // Up to the synchronising literal of the APPEND.
    assert_eq!(
        wire(&mut client),
        "A0001 COPY 1:3 Trash\r\n\
         A0002 FETCH 1 (FLAGS BODY.PEEK[HEADER] BODY[]<0.100>)\r\n\
         A0003 SEARCH CHARSET UTF-8 SEEN UID 1:5\r\n\
         A0004 STATUS INBOX (MESSAGES UIDNEXT UNSEEN)\r\n\
         A0005 LIST \"\" *\r\n\
         A0006 EXPUNGE\r\n\
         A0007 CLOSE\r\n\
         A0008 CREATE Junk\r\n\
         A0009 APPEND INBOX (\\Seen) {1}\r\n"
    );
}

/// The gates use the capabilities last learnt: those before STARTTLS are forgotten and the
/// ones asked for inside TLS count; a login's `OK [CAPABILITY ...]` replaces them; while
/// they are unknown (after a login whose OK lists none, before the client's own CAPABILITY
/// is answered) commands go out and the server answers.
#[test]
fn gates_follow_the_capabilities_relearnt_after_starttls_and_login() {
    let clock = SimClock::new();
    let mut client = Client::new(ClientConfig::new(), clock.now());
    feed(
        &mut client,
        &clock,
        "* OK [CAPABILITY IMAP4rev1 STARTTLS MOVE ID] hi\r\n",
    );
    assert_eq!(wire(&mut client), "A0001 STARTTLS\r\n");
    feed(&mut client, &clock, "A0001 OK go\r\n");
    client.tls_established(clock.now()).unwrap();
    assert_eq!(wire(&mut client), "A0002 CAPABILITY\r\n");
    feed(
        &mut client,
        &clock,
        "* CAPABILITY IMAP4rev1 AUTH=PLAIN ID\r\nA0002 OK\r\n",
    );
    assert_eq!(
        client.command(clock.now(), body("MOVE 1 Trash")),
        Err(ClientError::NotAdvertised("MOVE")),
        "MOVE was offered before TLS only"
    );
    client.command(clock.now(), body("ID NIL")).unwrap();
    assert_eq!(wire(&mut client), "A0003 ID NIL\r\n");
    feed(&mut client, &clock, "* ID NIL\r\nA0003 OK\r\n");

    // A login whose OK lists the capabilities: they count at once.
    client
        .login(clock.now(), "alice", &Secret::new("pw".into()))
        .unwrap();
    assert_eq!(wire(&mut client), "A0004 LOGIN alice pw\r\n");
    feed(
        &mut client,
        &clock,
        "A0004 OK [CAPABILITY IMAP4rev1 MOVE] in\r\n",
    );
    client.command(clock.now(), body("MOVE 1 Trash")).unwrap();
    assert_eq!(
        client.command(clock.now(), body("ID NIL")),
        Err(ClientError::NotAdvertised("ID")),
        "ID is gone after login"
    );
    assert_eq!(wire(&mut client), "A0005 MOVE 1 Trash\r\n");
}

#[test]
fn while_the_capabilities_are_unknown_commands_go_out() {
    let (mut client, clock) = ready("IMAP4rev1 AUTH=PLAIN");
    client
        .login(clock.now(), "alice", &Secret::new("pw".into()))
        .unwrap();
    assert_eq!(wire(&mut client), "A0001 LOGIN alice pw\r\n");
    feed(&mut client, &clock, "A0001 OK in\r\n");
    assert!(client.capabilities().is_empty());
    assert_eq!(wire(&mut client), "A0002 CAPABILITY\r\n");
    client.command(clock.now(), body("MOVE 1 Trash")).unwrap();
    assert_eq!(wire(&mut client), "A0003 MOVE 1 Trash\r\n");
    feed(
        &mut client,
        &clock,
        "* CAPABILITY IMAP4rev1\r\nA0002 OK\r\nA0003 BAD no MOVE here\r\n",
    );
    assert_eq!(
        client.command(clock.now(), body("MOVE 1 Trash")),
        Err(ClientError::NotAdvertised("MOVE"))
    );
}

/// Without LITERAL+ (or LITERAL-) a literal is synchronising: the line goes up to `{n}`, the
/// data after the server's `+`. LITERAL- (and IMAP4rev2, which includes it) sends literals of
/// up to 4096 octets at once, longer ones synchronising.
#[test]
fn literals_fall_back_to_synchronising_without_literal_plus() {
    let (mut client, clock) = ready("IMAP4rev1");
    client
        .command(clock.now(), body("APPEND INBOX {5}\r\nhello"))
        .unwrap();
    assert_eq!(wire(&mut client), "A0001 APPEND INBOX {5}\r\n");
    feed(&mut client, &clock, "+ go ahead\r\n");
    assert_eq!(wire(&mut client), "hello\r\n");

    let big = "x".repeat(4097);
    for caps in ["IMAP4rev1 LITERAL-", "IMAP4rev2"] {
        let (mut client, clock) = ready(caps);
        client
            .command(clock.now(), body("APPEND INBOX {5}\r\nhello"))
            .unwrap();
        assert_eq!(
            wire(&mut client),
            "A0001 APPEND INBOX {5+}\r\nhello\r\n",
            "{caps}"
        );
        client
            .command(
                clock.now(),
                body(&format!("APPEND INBOX {{4097}}\r\n{big}")),
            )
            .unwrap();
        assert_eq!(wire(&mut client), "A0002 APPEND INBOX {4097}\r\n", "{caps}");
        feed(&mut client, &clock, "+ go ahead\r\n");
        assert_eq!(wire(&mut client), format!("{big}\r\n"));
    }

    let (mut client, clock) = ready("IMAP4rev1 LITERAL+");
    client
        .command(
            clock.now(),
            body(&format!("APPEND INBOX {{4097}}\r\n{big}")),
        )
        .unwrap();
    assert_eq!(
        wire(&mut client),
        format!("A0001 APPEND INBOX {{4097+}}\r\n{big}\r\n")
    );
}

/// SASL-IR, or IMAP4rev2 which includes it (RFC 9051 section 6.2.2): the initial response
/// goes with the command. Without: in answer to the server's first, empty, challenge.
#[test]
fn sasl_initial_response_goes_in_a_continuation_without_sasl_ir() {
    let plain = || ClientSession::plain(None, "alice", Secret::new("secret".into())).unwrap();
    for caps in ["IMAP4rev1 AUTH=PLAIN SASL-IR", "IMAP4rev2 AUTH=PLAIN"] {
        let (mut client, clock) = ready(caps);
        client.authenticate(clock.now(), plain()).unwrap();
        assert_eq!(
            wire(&mut client),
            "A0001 AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==\r\n",
            "{caps}"
        );
    }
    let (mut client, clock) = ready("IMAP4rev1 AUTH=PLAIN");
    client.authenticate(clock.now(), plain()).unwrap();
    assert_eq!(wire(&mut client), "A0001 AUTHENTICATE PLAIN\r\n");
    feed(&mut client, &clock, "+ \r\n");
    assert_eq!(wire(&mut client), "AGFsaWNlAHNlY3JldA==\r\n");
    let got = feed(
        &mut client,
        &clock,
        "A0001 OK [CAPABILITY IMAP4rev1] in\r\n",
    );
    assert!(client.is_authenticated(), "{got:?}");
    assert_eq!(client.capabilities(), [Capability::Imap4Rev1]);
}
