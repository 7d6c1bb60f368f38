//! Our IMAP client against our IMAP server: in memory (`mail_testkit::Pair`, a simulated
//! clock, every chunking, the TLS hand-off simulated) with the server's decisions answered by
//! the proof's in-memory store, and over tokio's in-memory duplex stream.
//!
//! ENVELOPE and BODY[] come from the `mime` helpers, hence the feature.
#![cfg(feature = "mime")]

mod support;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use bytes::Bytes;
use imap_proto::client::{self, Client, ClientConfig, CommandId, TlsPolicy};
use imap_proto::command::{Command, CommandBody, SearchKey, StoreKind};
use imap_proto::core::AString;
use imap_proto::core::QUOTED_MAX;
use imap_proto::flag::Flag;
use imap_proto::mailbox::Mailbox;
use imap_proto::response::{Code, Data, StatusKind};
use imap_proto::server::{self, LiteralPlus, Server, ServerConfig};
use mail_testkit::users::client_nonce;
use mail_testkit::{Chunking, Pair, Side, Users};
use mail_wire::Secret;
use mail_wire::sasl::{ClientSession, Mechanism, ScramClientConfig};

use support::pair::{Shared, deliver_to, pair, pair_with_users};
use support::store::Store;

const FIRST: &[u8] = b"From: Alice <alice@example.org>\r\nTo: bob@example.org\r\nSubject: first\r\nDate: Mon, 7 Feb 1994 21:52:25 -0800\r\nMessage-ID: <1@example.org>\r\n\r\nHello Bob.\r\n";
const SECOND: &[u8] =
    b"From: Carol <carol@example.org>\r\nSubject: second\r\n\r\nAre you there?\r\n";
const THIRD: &[u8] = b"From: Dave <dave@example.org>\r\nSubject: third\r\n\r\nNew mail.\r\n";

/// A command body from its text (the codec parses it: no hand-built syntax).
fn body(text: &str) -> CommandBody<'static> {
    let line = format!("X {text}\r\n");
    Command::parse(line.as_bytes())
        .expect("a valid command")
        .into_static()
        .body
}

/// A store whose INBOX holds FIRST and SECOND.
fn store_with_two() -> Shared {
    let mut store = Store::new();
    for raw in [FIRST, SECOND] {
        store
            .append("INBOX", Bytes::from_static(raw), Vec::new(), None)
            .unwrap();
    }
    Rc::new(RefCell::new(store))
}

fn secret() -> Secret<String> {
    Secret::new("secret".into())
}

/// The client's completion of `id`.
fn completion(events: &[client::Event], id: CommandId) -> (StatusKind, Option<Code<'static>>) {
    events
        .iter()
        .find_map(|e| match e {
            client::Event::Completed {
                id: done,
                status,
                code,
                ..
            } if *done == id => Some((*status, code.clone())),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no completion of {id:?}: {events:?}"))
}

/// Asserts that `needles` occur in `haystack` in this order.
fn in_order(haystack: &str, needles: &[&str]) {
    let mut at = 0;
    for needle in needles {
        match haystack.get(at..).and_then(|rest| rest.find(needle)) {
            Some(found) => at += found + needle.len(),
            None => panic!("{needle:?} missing (in order) from:\n{haystack}"),
        }
    }
}

fn text(pair: &Pair<Client, Server>, side: Side) -> String {
    String::from_utf8_lossy(pair.written(side)).into_owned()
}

/// The ids of the commands the session of test 1 issued, in order.
#[derive(Debug, Default)]
struct Ids {
    login: Option<CommandId>,
    select: Option<CommandId>,
    fetch: Option<CommandId>,
    store: Option<CommandId>,
    search: Option<CommandId>,
    idle: Option<CommandId>,
    logout: Option<CommandId>,
}

#[test]
fn starttls_login_select_fetch_store_search_idle_logout_in_every_chunking() {
    for chunking in Chunking::standard(18) {
        let store = store_with_two();
        let mut config = ServerConfig::default();
        config.auth_failure_delay = Duration::ZERO;
        let mut client_config = ClientConfig::new();
        client_config.tls = TlsPolicy::Required;
        let (pair, id) = pair(&store, client_config, config);
        let mut pair = pair.with_chunking(chunking.clone());
        let ids = Rc::new(RefCell::new(Ids::default()));
        let seen = Rc::clone(&ids);
        pair.on_client_event(move |client, event, now| {
            let mut ids = seen.borrow_mut();
            match event {
                client::Event::Ready { .. } => {
                    ids.login = Some(client.login(now, "alice", &secret()).unwrap());
                }
                client::Event::Completed { id, status, .. } => {
                    assert_eq!(*status, StatusKind::Ok, "{id:?}");
                    let id = Some(*id);
                    if id == ids.login {
                        ids.select = Some(client.select(now, "INBOX").unwrap());
                    } else if id == ids.select {
                        let fetch = body("FETCH 1:* (FLAGS ENVELOPE BODY.PEEK[])");
                        ids.fetch = Some(client.command(now, fetch).unwrap());
                    } else if id == ids.fetch {
                        let store = body("STORE 1 +FLAGS (\\Seen)");
                        ids.store = Some(client.command(now, store).unwrap());
                    } else if id == ids.store {
                        ids.search = Some(client.command(now, body("UID SEARCH UNSEEN")).unwrap());
                    } else if id == ids.search {
                        ids.idle = Some(client.idle(now).unwrap());
                    } else if id == ids.idle {
                        ids.logout = Some(client.logout(now).unwrap());
                    }
                }
                client::Event::Data(Data::Exists(3)) if client.is_idling() => {
                    client.done(now).unwrap();
                }
                _ => {}
            }
        });
        pair.drive();
        // Idling now: another session appends to INBOX.
        assert!(pair.client().is_idling(), "{chunking:?}");
        let idling_at = pair.client_events().len();
        let uid = store
            .borrow_mut()
            .append("INBOX", Bytes::from_static(THIRD), Vec::new(), None)
            .unwrap();
        assert_eq!(uid.get(), 3);
        deliver_to(&store, id, &mut pair);
        pair.drive();

        assert_eq!(pair.client_ending(), Some(&Ok(())), "{chunking:?}");
        assert_eq!(pair.server_ending(), Some(&Ok(())), "{chunking:?}");
        assert_eq!(pair.tls_handshakes(), 1, "{chunking:?}");
        let events = pair.client_events();
        assert!(
            events
                .iter()
                .any(|e| matches!(e, client::Event::Idling { .. })),
            "{chunking:?}"
        );
        assert!(
            events[idling_at..]
                .iter()
                .any(|e| *e == client::Event::Data(Data::Exists(3))),
            "{chunking:?}: {:?}",
            &events[idling_at..]
        );
        let fetched = events
            .iter()
            .filter(|e| matches!(e, client::Event::Data(Data::Fetch { .. })))
            .count();
        // Two from FETCH, one for STORE's new flags.
        assert_eq!(fetched, 3, "{chunking:?}");
        assert!(events.contains(&client::Event::Data(Data::Search {
            ids: vec![2.try_into().unwrap()],
            modseq: None
        })));
        let ids = ids.borrow();
        for id in [
            ids.login, ids.select, ids.fetch, ids.store, ids.search, ids.idle,
        ] {
            assert_eq!(completion(events, id.unwrap()).0, StatusKind::Ok);
        }
        assert!(ids.logout.is_some());

        let sent = text(&pair, Side::Client);
        in_order(
            &sent,
            &[
                "STARTTLS\r\n",
                " LOGIN alice secret\r\n",
                " SELECT INBOX\r\n",
                " FETCH 1:* (FLAGS ENVELOPE BODY.PEEK[])\r\n",
                " STORE 1 +FLAGS (\\Seen)\r\n",
                " UID SEARCH UNSEEN\r\n",
                " IDLE\r\n",
                "DONE\r\n",
                " LOGOUT\r\n",
            ],
        );
        let (before_tls, _) = sent.split_once("STARTTLS\r\n").unwrap();
        assert!(!before_tls.contains("LOGIN"), "{sent}");
        let answered = text(&pair, Side::Server);
        in_order(
            &answered,
            &[
                "STARTTLS",
                "* 2 EXISTS\r\n",
                "* 1 FETCH (FLAGS () ENVELOPE (\"Mon, 7 Feb 1994 21:52:25 -0800\" \"first\" ((\"Alice\" NIL \"alice\" \"example.org\"))",
                &format!("BODY[] {{{}}}\r\n", FIRST.len()),
                "* 2 FETCH (",
                "* 1 FETCH (FLAGS (\\Seen))\r\n",
                "* SEARCH 2\r\n",
                "+ ",
                "* 3 EXISTS\r\n",
                "* BYE",
            ],
        );
        assert!(
            answered.contains(std::str::from_utf8(FIRST).unwrap()),
            "{answered}"
        );
    }
}

/// Logs in with `sasl` (or LOGIN `alice`/`password` when `None`) over STARTTLS, then
/// NOOP and LOGOUT: the pair after it, and the login's id.
fn authenticate(
    server_config: ServerConfig,
    sasl: Option<ClientSession>,
    password: &'static str,
) -> (Pair<Client, Server>, Option<CommandId>, Option<CommandId>) {
    let store = store_with_two();
    let (mut pair, _) = pair(&store, ClientConfig::new(), server_config);
    let ids: Rc<RefCell<(Option<CommandId>, Option<CommandId>)>> = Rc::default();
    let seen = Rc::clone(&ids);
    let mut sasl = sasl;
    pair.on_client_event(move |client, event, now| {
        let mut ids = seen.borrow_mut();
        match event {
            client::Event::Ready { .. } => {
                ids.0 = Some(match sasl.take() {
                    Some(session) => client.authenticate(now, session).unwrap(),
                    None => client
                        .login(now, "alice", &Secret::new(password.into()))
                        .unwrap(),
                });
            }
            client::Event::Completed { id, .. } if Some(*id) == ids.0 => {
                ids.1 = Some(client.noop(now).unwrap());
            }
            client::Event::Completed { id, .. } if Some(*id) == ids.1 => {
                client.logout(now).unwrap();
            }
            _ => {}
        }
    });
    pair.drive();
    let (login, noop) = *ids.borrow();
    (pair, login, noop)
}

fn no_delay() -> ServerConfig {
    let mut config = ServerConfig::default();
    config.auth_failure_delay = Duration::ZERO;
    config
}

#[test]
fn scram_sha256_between_them() {
    let scram = ClientSession::scram_sha256(
        None,
        "alice",
        secret(),
        client_nonce(),
        ScramClientConfig::default(),
    )
    .unwrap();
    let (pair, login, noop) = authenticate(no_delay(), Some(scram), "");
    assert_eq!(pair.client_ending(), Some(&Ok(())));
    assert_eq!(pair.server_ending(), Some(&Ok(())));
    let events = pair.client_events();
    assert_eq!(completion(events, login.unwrap()).0, StatusKind::Ok);
    assert_eq!(completion(events, noop.unwrap()).0, StatusKind::Ok);
    let sent = text(&pair, Side::Client);
    assert!(sent.contains(" AUTHENTICATE SCRAM-SHA-256 "), "{sent}");
    assert!(!sent.contains("secret"), "{sent}");
    assert!(pair.server_events().iter().any(|e| matches!(
        e,
        server::Event::Authenticated(a) if a.mechanism() == Mechanism::ScramSha256
    )));
}

#[test]
fn plain_with_sasl_ir_between_them() {
    let plain = ClientSession::plain(None, "alice", secret()).unwrap();
    let (pair, login, _) = authenticate(no_delay(), Some(plain), "");
    assert_eq!(pair.client_ending(), Some(&Ok(())));
    assert_eq!(
        completion(pair.client_events(), login.unwrap()).0,
        StatusKind::Ok
    );
    let sent = text(&pair, Side::Client);
    // SASL-IR: the initial response on the command line, no `+` round trip.
    let line = sent
        .split("\r\n")
        .find(|l| l.contains(" AUTHENTICATE PLAIN"))
        .unwrap();
    assert!(line.len() > " AUTHENTICATE PLAIN ".len() + 5, "{sent}");
    assert!(!text(&pair, Side::Server).contains("\r\n+ \r\n"));
}

#[test]
fn a_wrong_password_is_no_authenticationfailed_and_the_session_goes_on() {
    for sasl in [
        Some(ClientSession::plain(None, "alice", Secret::new("wrong".into())).unwrap()),
        Some(
            ClientSession::scram_sha256(
                None,
                "alice",
                Secret::new("wrong".into()),
                client_nonce(),
                ScramClientConfig::default(),
            )
            .unwrap(),
        ),
        None,
    ] {
        let (pair, login, noop) = authenticate(no_delay(), sasl, "wrong");
        let events = pair.client_events();
        assert_eq!(
            completion(events, login.unwrap()),
            (StatusKind::No, Some(Code::AuthenticationFailed))
        );
        assert_eq!(completion(events, noop.unwrap()).0, StatusKind::Ok);
        assert_eq!(pair.client_ending(), Some(&Ok(())));
        assert_eq!(pair.server_ending(), Some(&Ok(())));
        assert!(!pair.client().is_authenticated());
    }
}

/// Logs in with LOGIN, issues `commands` in turn (each when the previous completed), then
/// LOGOUT; returns the pair and each command's id.
fn run(
    store: &Shared,
    server_config: ServerConfig,
    commands: Vec<CommandBody<'static>>,
) -> (Pair<Client, Server>, Vec<CommandId>) {
    let (mut pair, _) = pair(store, ClientConfig::new(), server_config);
    let ids: Rc<RefCell<Vec<CommandId>>> = Rc::default();
    let seen = Rc::clone(&ids);
    let mut queue = commands.into_iter();
    pair.on_client_event(move |client, event, now| {
        let mut ids = seen.borrow_mut();
        let next = match event {
            client::Event::Ready { .. } => {
                client.login(now, "alice", &secret()).unwrap();
                return;
            }
            client::Event::Completed { .. } => queue.next(),
            _ => return,
        };
        match next {
            Some(command) => ids.push(client.command(now, command).unwrap()),
            None if !client.is_closed() => {
                client.logout(now).ok();
            }
            None => {}
        }
    });
    pair.drive();
    let ids = ids.borrow().clone();
    (pair, ids)
}

const APPENDED: &str = "Subject: appended\r\n\r\nBy literal.\r\n";

fn append_command(mailbox: &str) -> CommandBody<'static> {
    body(&format!(
        "APPEND {mailbox} (\\Flagged) {{{}}}\r\n{APPENDED}",
        APPENDED.len()
    ))
}

#[test]
fn append_with_a_synchronising_literal_waits_for_the_continuation() {
    let store = store_with_two();
    let mut config = no_delay();
    config.literal_plus = LiteralPlus::Off;
    let (pair, ids) = run(&store, config, vec![append_command("INBOX")]);
    assert_eq!(pair.client_ending(), Some(&Ok(())));
    let (status, code) = completion(pair.client_events(), ids[0]);
    assert_eq!(status, StatusKind::Ok);
    assert!(matches!(code, Some(Code::AppendUid { .. })), "{code:?}");
    let header = format!(" APPEND INBOX (\\Flagged) {{{}}}\r\n", APPENDED.len());
    let sent = text(&pair, Side::Client);
    assert!(sent.contains(&header), "{sent}");
    // The data went out in a write of its own, after the server's `+`.
    let writes = pair.writes(Side::Client);
    let at = writes
        .iter()
        .position(|w| String::from_utf8_lossy(w).ends_with(&header))
        .unwrap_or_else(|| panic!("the header ends a write: {writes:?}"));
    assert!(
        String::from_utf8_lossy(&writes[at + 1]).starts_with(APPENDED),
        "{writes:?}"
    );
    in_order(&text(&pair, Side::Server), &["+ ", "OK [APPENDUID"]);
    let inbox = store.borrow();
    let folder = inbox.folder("INBOX").unwrap();
    let message = folder.message(3.try_into().unwrap()).unwrap();
    assert_eq!(&message.raw[..], APPENDED.as_bytes());
}

#[test]
fn append_with_literal_plus_goes_out_whole() {
    let store = store_with_two();
    let (pair, ids) = run(&store, no_delay(), vec![append_command("INBOX")]);
    assert_eq!(pair.client_ending(), Some(&Ok(())));
    assert_eq!(completion(pair.client_events(), ids[0]).0, StatusKind::Ok);
    let sent = text(&pair, Side::Client);
    let whole = format!(
        " APPEND INBOX (\\Flagged) {{{}+}}\r\n{APPENDED}\r\n",
        APPENDED.len()
    );
    assert!(sent.contains(&whole), "{sent}");
    let answered = text(&pair, Side::Server);
    assert!(!answered.contains("\r\n+ "), "{answered}");
    assert!(
        store
            .borrow()
            .folder("INBOX")
            .unwrap()
            .message(3.try_into().unwrap())
            .is_some()
    );
}

#[test]
fn a_mailbox_name_needing_a_literal() {
    // Not an atom (a space) and longer than a quoted string may be: the name goes out as a
    // synchronising literal.
    let store = store_with_two();
    let name = format!("Old mail {}", "x".repeat(QUOTED_MAX));
    let mailbox = Mailbox::from_utf8(&name, false).unwrap();
    let create = CommandBody::Create {
        mailbox: mailbox.clone(),
        special_use: Default::default(),
    };
    let select = CommandBody::Select {
        mailbox,
        params: Default::default(),
    };
    let mut config = no_delay();
    config.literal_plus = LiteralPlus::Off;
    let (pair, ids) = run(&store, config, vec![create, select]);
    assert_eq!(pair.client_ending(), Some(&Ok(())));
    for id in &ids {
        assert_eq!(completion(pair.client_events(), *id).0, StatusKind::Ok);
    }
    let sent = text(&pair, Side::Client);
    let literal = format!(" CREATE {{{}}}\r\n{name}\r\n", name.len());
    assert!(sent.contains(&literal), "{sent}");
    let literal = format!(" SELECT {{{}}}\r\n{name}\r\n", name.len());
    assert!(sent.contains(&literal), "{sent}");
    assert_eq!(text(&pair, Side::Server).matches("\r\n+ ").count(), 2);
    assert!(store.borrow().folder(&name).is_some());
}

#[test]
fn the_client_renews_idle_before_the_server_times_it_out() {
    let store = store_with_two();
    let (mut pair, _) = pair(&store, ClientConfig::new(), no_delay());
    let idle: Rc<RefCell<Option<CommandId>>> = Rc::default();
    let seen = Rc::clone(&idle);
    let mut select = None;
    pair.on_client_event(move |client, event, now| match event {
        client::Event::Ready { .. } => {
            client.login(now, "alice", &secret()).unwrap();
            select = Some(client.select(now, "INBOX").unwrap());
        }
        client::Event::Completed { id, .. } if Some(*id) == select => {
            *seen.borrow_mut() = Some(client.idle(now).unwrap());
        }
        _ => {}
    });
    pair.drive();
    assert!(pair.client().is_idling());
    let before = text(&pair, Side::Client).matches(" IDLE\r\n").count();
    assert_eq!(before, 1);
    // 29 minutes in 1-minute steps: the server's 30-minute autologout never fires.
    for _ in 0..29 {
        pair.advance(Duration::from_secs(60));
    }
    let sent = text(&pair, Side::Client);
    assert_eq!(sent.matches(" IDLE\r\n").count(), 2, "{sent}");
    in_order(&sent, &[" IDLE\r\n", "DONE\r\n", " IDLE\r\n"]);
    assert_eq!(pair.client_ending(), None);
    assert_eq!(pair.server_ending(), None);
    assert!(pair.client().is_idling());
    assert!(!text(&pair, Side::Server).contains("BYE"));
    // The renewal is not reported: one Idling event, no completion of the IDLE.
    let first = idle.borrow().unwrap();
    assert!(
        !pair
            .client_events()
            .iter()
            .any(|e| matches!(e, client::Event::Completed { id, .. } if *id == first))
    );
    let idling = pair
        .client_events()
        .iter()
        .filter(|e| matches!(e, client::Event::Idling { .. }))
        .count();
    assert_eq!(idling, 1);
    // Another 29 minutes: renewed again, still up.
    for _ in 0..29 {
        pair.advance(Duration::from_secs(60));
    }
    assert_eq!(text(&pair, Side::Client).matches(" IDLE\r\n").count(), 3);
    assert_eq!(pair.server_ending(), None);
}

#[cfg(feature = "tokio")]
mod over_tokio {
    use super::*;

    use imap_proto::fetch::MessageDataItem;
    use imap_proto::tokio::{ClientConnection, ServerConnection};
    use support::app::{App, deliver};

    #[tokio::test]
    async fn login_select_fetch_logout_over_a_duplex_stream() {
        let (client_io, server_io) = tokio::io::duplex(4096);
        let mut server_config = no_delay();
        server_config.starttls = false;
        server_config.allow_plaintext_auth = true;
        let server = Server::new(server_config, std::time::Instant::now());
        let mut client_config = ClientConfig::new();
        client_config.tls = TlsPolicy::Never;
        client_config.allow_plaintext_auth = true;
        let client = Client::new(client_config, std::time::Instant::now());

        let serve = async move {
            let mut store = Store::new();
            store
                .append("INBOX", Bytes::from_static(FIRST), Vec::new(), None)
                .unwrap();
            let mut app = App::new(&mut store, mail_testkit::Users::standard());
            let mut conn = ServerConnection::new(server_io, server);
            let mut ending = None;
            while let Some(event) = conn.next_event().await.unwrap() {
                if let server::Event::Closed(result) = &event {
                    ending = Some(result.clone());
                }
                app.answer(&mut store, conn.server(), event).unwrap();
                deliver(&mut store, app.id, conn.server());
            }
            ending
        };
        let talk = async move {
            let mut conn = ClientConnection::new(client_io, client);
            let mut events = Vec::new();
            let (mut login, mut select, mut fetch) = (None, None, None);
            while let Some(event) = conn.next_event().await.unwrap() {
                let now = std::time::Instant::now();
                match &event {
                    client::Event::Ready { .. } => {
                        login = Some(conn.client().login(now, "alice", &secret()).unwrap());
                    }
                    client::Event::Completed { id, .. } if Some(*id) == login => {
                        select = Some(conn.client().select(now, "INBOX").unwrap());
                    }
                    client::Event::Completed { id, .. } if Some(*id) == select => {
                        let items = body("FETCH 1 (FLAGS BODY.PEEK[])");
                        fetch = Some(conn.client().command(now, items).unwrap());
                    }
                    client::Event::Completed { id, .. } if Some(*id) == fetch => {
                        conn.logout().unwrap();
                    }
                    _ => {}
                }
                events.push(event);
            }
            events
        };
        let (server_ending, events) = tokio::join!(serve, talk);
        assert_eq!(server_ending, Some(Ok(())));
        assert_eq!(events.last(), Some(&client::Event::Closed(Ok(()))));
        assert!(events.contains(&client::Event::Data(Data::Exists(1))));
        let completed = events
            .iter()
            .filter(|e| {
                matches!(
                    e,
                    client::Event::Completed {
                        status: StatusKind::Ok,
                        ..
                    }
                )
            })
            .count();
        assert_eq!(completed, 4, "{events:?}");
        let body = events
            .iter()
            .find_map(|e| match e {
                client::Event::Data(Data::Fetch { seq, items }) if seq.get() == 1 => {
                    items.iter().find_map(|item| match item {
                        MessageDataItem::BodySection {
                            section: None,
                            data,
                            ..
                        } => data.data().map(<[u8]>::to_vec),
                        _ => None,
                    })
                }
                _ => None,
            })
            .expect("a FETCH response with BODY[]");
        assert_eq!(body, FIRST);
    }

    #[tokio::test]
    async fn starttls_login_select_fetch_logout_over_a_duplex_stream() {
        use mail_tls::tokio::HandshakeOptions;
        use mail_tls::{ClientTls, ServerTls, Service, server_name};

        let dir = std::env::temp_dir().join(format!("imap-pair-tokio-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let cert = mail_tls::dev_certs::generate(&["localhost"]).unwrap();
        let files = cert
            .write(&dir.join("cert.pem"), &dir.join("key.pem"))
            .unwrap();
        let (server_tls, _resolver) = ServerTls::new(Service::Imap)
            .build_from_pem_files(&files.cert, &files.key)
            .unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        let client_tls = ClientTls::opportunistic_accept_any_certificate()
            .build()
            .unwrap();

        let (client_io, server_io) = tokio::io::duplex(4096);
        let server = Server::new(no_delay(), std::time::Instant::now());
        let client = Client::new(ClientConfig::new(), std::time::Instant::now());
        let serve = async move {
            let mut store = Store::new();
            store
                .append("INBOX", Bytes::from_static(FIRST), Vec::new(), None)
                .unwrap();
            let mut app = App::new(&mut store, mail_testkit::Users::standard());
            let mut conn = ServerConnection::new(server_io, server)
                .with_starttls(server_tls, HandshakeOptions::new(Duration::from_secs(10)));
            let mut events = Vec::new();
            while let Some(event) = conn.next_event().await.unwrap() {
                events.push(event.clone());
                app.answer(&mut store, conn.server(), event).unwrap();
                deliver(&mut store, app.id, conn.server());
            }
            (events, conn.tls_info().is_some())
        };
        let talk = async move {
            let mut conn = ClientConnection::new(client_io, client).with_starttls(
                client_tls,
                server_name("localhost").unwrap(),
                HandshakeOptions::new(Duration::from_secs(10)),
            );
            let mut events = Vec::new();
            let (mut login, mut select, mut fetch) = (None, None, None);
            while let Some(event) = conn.next_event().await.unwrap() {
                let now = std::time::Instant::now();
                match &event {
                    client::Event::Ready { .. } => {
                        assert!(conn.client().is_tls());
                        login = Some(conn.client().login(now, "alice", &secret()).unwrap());
                    }
                    client::Event::Completed { id, .. } if Some(*id) == login => {
                        select = Some(conn.client().select(now, "INBOX").unwrap());
                    }
                    client::Event::Completed { id, .. } if Some(*id) == select => {
                        let items = body("UID FETCH 1:* (FLAGS RFC822.SIZE)");
                        fetch = Some(conn.client().command(now, items).unwrap());
                    }
                    client::Event::Completed { id, .. } if Some(*id) == fetch => {
                        conn.logout().unwrap();
                    }
                    _ => {}
                }
                events.push(event);
            }
            (events, conn.tls_info().is_some())
        };
        let ((server_events, server_tls), (events, client_tls)) = tokio::join!(serve, talk);
        assert!(server_tls && client_tls);
        assert_eq!(server_events.last(), Some(&server::Event::Closed(Ok(()))));
        assert!(
            server_events
                .iter()
                .any(|e| matches!(e, server::Event::StartTls))
        );
        assert_eq!(events.last(), Some(&client::Event::Closed(Ok(()))));
        assert!(events.contains(&client::Event::StartTls));
        let completed = events
            .iter()
            .filter(|e| {
                matches!(
                    e,
                    client::Event::Completed {
                        status: StatusKind::Ok,
                        ..
                    }
                )
            })
            .count();
        assert_eq!(completed, 4, "{events:?}");
        assert!(
            events.iter().any(
                |e| matches!(e, client::Event::Data(Data::Fetch { seq, .. }) if seq.get() == 1)
            )
        );
    }
}

/// Logs in and selects INBOX, then issues all of `commands` at once (pipelined), then
/// LOGOUT once all completed; returns the pair and the ids.
fn burst(
    store: &Shared,
    server_config: ServerConfig,
    commands: Vec<CommandBody<'static>>,
    chunking: Chunking,
) -> (Pair<Client, Server>, Vec<CommandId>) {
    let (pair, _) = pair(store, ClientConfig::new(), server_config);
    let mut pair = pair.with_chunking(chunking);
    let ids: Rc<RefCell<Vec<CommandId>>> = Rc::default();
    let seen = Rc::clone(&ids);
    let mut select = None;
    let mut pending = 0usize;
    let mut commands = Some(commands);
    pair.on_client_event(move |client, event, now| match event {
        client::Event::Ready { .. } => {
            client.login(now, "alice", &secret()).unwrap();
            select = Some(client.select(now, "INBOX").unwrap());
        }
        client::Event::Completed { id, .. } if Some(*id) == select => {
            for command in commands.take().unwrap_or_default() {
                seen.borrow_mut()
                    .push(client.command(now, command).unwrap());
                pending += 1;
            }
        }
        client::Event::Completed { id, .. } if seen.borrow().contains(id) => {
            pending -= 1;
            if pending == 0 {
                client.logout(now).unwrap();
            }
        }
        _ => {}
    });
    pair.drive();
    let ids = ids.borrow().clone();
    (pair, ids)
}

#[test]
fn many_pipelined_commands_are_all_answered_in_order() {
    for chunking in Chunking::standard(5) {
        let store = store_with_two();
        let commands: Vec<_> = (0..40)
            .map(|i| match i % 4 {
                0 => body("FETCH 1:* (FLAGS)"),
                1 => body("NOOP"),
                2 => body("UID SEARCH ALL"),
                _ => body("STORE 2 +FLAGS.SILENT (\\Flagged)"),
            })
            .collect();
        let (pair, ids) = burst(&store, no_delay(), commands, chunking.clone());
        assert_eq!(pair.client_ending(), Some(&Ok(())), "{chunking:?}");
        assert_eq!(pair.server_ending(), Some(&Ok(())), "{chunking:?}");
        let completed: Vec<CommandId> = pair
            .client_events()
            .iter()
            .filter_map(|e| match e {
                client::Event::Completed { id, status, .. } if ids.contains(id) => {
                    assert_eq!(*status, StatusKind::Ok, "{chunking:?}");
                    Some(*id)
                }
                _ => None,
            })
            .collect();
        assert_eq!(completed, ids, "{chunking:?}");
    }
}

#[test]
fn a_large_append_under_literal_minus_waits_for_the_continuation() {
    let store = store_with_two();
    let mut config = no_delay();
    config.literal_plus = LiteralPlus::Minus;
    let big = format!("Subject: big\r\n\r\n{}\r\n", "y".repeat(5000));
    let append = body(&format!("APPEND INBOX {{{}}}\r\n{big}", big.len()));
    let small = append_command("INBOX");
    let (pair, ids) = run(&store, config, vec![append, small]);
    assert_eq!(pair.client_ending(), Some(&Ok(())));
    for id in &ids {
        assert_eq!(completion(pair.client_events(), *id).0, StatusKind::Ok);
    }
    let sent = text(&pair, Side::Client);
    assert!(
        sent.contains(&format!(" APPEND INBOX {{{}}}\r\n", big.len())),
        "{sent}"
    );
    assert!(
        sent.contains(&format!(
            " APPEND INBOX (\\Flagged) {{{}+}}\r\n",
            APPENDED.len()
        )),
        "{sent}"
    );
    let folder = store.borrow();
    let inbox = folder.folder("INBOX").unwrap();
    assert_eq!(
        &inbox.message(3.try_into().unwrap()).unwrap().raw[..],
        big.as_bytes()
    );
}

#[test]
fn another_sessions_expunge_and_flags_reach_idle() {
    for chunking in Chunking::standard(7) {
        let store = store_with_two();
        let (pair, id) = pair(&store, ClientConfig::new(), no_delay());
        let mut pair = pair.with_chunking(chunking.clone());
        let (mut select, mut idle) = (None, None);
        pair.on_client_event(move |client, event, now| match event {
            client::Event::Ready { .. } => {
                client.login(now, "alice", &secret()).unwrap();
                select = Some(client.select(now, "INBOX").unwrap());
            }
            client::Event::Completed { id, .. } if Some(*id) == select => {
                idle = Some(client.idle(now).unwrap());
            }
            client::Event::Data(Data::Expunge(n)) if n.get() == 1 => {
                client.done(now).unwrap();
            }
            client::Event::Completed { id, .. } if Some(*id) == idle => {
                client.logout(now).unwrap();
            }
            _ => {}
        });
        pair.drive();
        assert!(pair.client().is_idling());
        let other = store.borrow_mut().register();
        {
            let mut shared = store.borrow_mut();
            for (uid, flag) in [(2, Flag::Flagged), (1, Flag::Deleted)] {
                let uid = uid.try_into().unwrap();
                let flags = [flag];
                let stored =
                    shared.store_flags(other, "INBOX", uid, StoreKind::Add, &flags, None, false);
                assert!(matches!(stored, Some(Ok(_))));
            }
            assert_eq!(shared.expunge("INBOX", |_| true).unwrap().len(), 1);
        }
        deliver_to(&store, id, &mut pair);
        pair.drive();
        assert_eq!(pair.client_ending(), Some(&Ok(())), "{chunking:?}");
        assert_eq!(pair.server_ending(), Some(&Ok(())), "{chunking:?}");
        let answered = text(&pair, Side::Server);
        let (_, during) = answered.split_once("+ ").unwrap();
        in_order(
            during,
            &["* 2 FETCH (FLAGS (\\Flagged))\r\n", "* 1 EXPUNGE\r\n"],
        );
    }
}

#[test]
fn another_sessions_append_reaches_idle_with_exists_then_recent() {
    for chunking in Chunking::standard(7) {
        let store = store_with_two();
        store
            .borrow_mut()
            .set_first_recent("INBOX", std::num::NonZeroU32::MIN);
        let (pair, id) = pair(&store, ClientConfig::new(), no_delay());
        let mut pair = pair.with_chunking(chunking.clone());
        let (mut select, mut idle) = (None, None);
        pair.on_client_event(move |client, event, now| match event {
            client::Event::Ready { .. } => {
                client.login(now, "alice", &secret()).unwrap();
                select = Some(client.select(now, "INBOX").unwrap());
            }
            client::Event::Completed { id, .. } if Some(*id) == select => {
                idle = Some(client.idle(now).unwrap());
            }
            client::Event::Data(Data::Recent(3)) => {
                client.done(now).unwrap();
            }
            client::Event::Completed { id, .. } if Some(*id) == idle => {
                client.logout(now).unwrap();
            }
            _ => {}
        });
        pair.drive();
        assert!(pair.client().is_idling());
        // Another session (with no mailbox selected) delivers a message: it is recent to
        // the pair's session, the one with INBOX selected.
        store
            .borrow_mut()
            .append("INBOX", Bytes::from_static(THIRD), Vec::new(), None)
            .unwrap();
        deliver_to(&store, id, &mut pair);
        pair.drive();
        assert_eq!(pair.client_ending(), Some(&Ok(())), "{chunking:?}");
        let answered = text(&pair, Side::Server);
        assert!(
            answered.contains("* 2 EXISTS\r\n* 2 RECENT\r\n"),
            "{chunking:?}: {answered}"
        );
        let (_, during) = answered.split_once("\r\n+ idling\r\n").unwrap();
        assert!(
            during.starts_with("* 3 EXISTS\r\n* 3 RECENT\r\n"),
            "{chunking:?}: {during}"
        );
        // The client saw both, in order, while idling.
        let data: Vec<&Data<'static>> = pair
            .client_events()
            .iter()
            .filter_map(|e| match e {
                client::Event::Data(d @ (Data::Exists(_) | Data::Recent(_))) => Some(d),
                _ => None,
            })
            .collect();
        assert_eq!(
            data,
            [
                &Data::Exists(2),
                &Data::Recent(2),
                &Data::Exists(3),
                &Data::Recent(3)
            ],
            "{chunking:?}"
        );
    }
}

/// A client that logs in with LOGIN once ready, then LOGOUT; `injected` goes toward
/// `reader` at the STARTTLS hand-off.
fn injected(reader: Side, injected: &[u8]) -> Pair<Client, Server> {
    let store = store_with_two();
    let (mut pair, _) = pair(&store, ClientConfig::new(), no_delay());
    pair.inject_on_start_tls(reader, injected);
    pair.on_client_event(|client, event, now| {
        if let client::Event::Ready { .. } = event {
            client.login(now, "alice", &secret()).unwrap();
            client.logout(now).unwrap();
        }
    });
    pair.drive();
    pair
}

#[test]
fn a_command_injected_toward_the_server_at_starttls_closes_it() {
    let pair = injected(Side::Server, b"X1 LOGIN alice secret\r\n");
    assert_eq!(
        pair.server_ending(),
        Some(&Err(server::SessionError::StartTlsInjection))
    );
    assert_eq!(pair.tls_handshakes(), 0);
    assert!(!pair.server_events().iter().any(|e| matches!(
        e,
        server::Event::AuthStep { .. } | server::Event::Authenticated(_)
    )));
    assert!(!text(&pair, Side::Server).contains("X1 OK"));
}

#[test]
fn a_response_injected_toward_the_client_at_starttls_is_refused() {
    let pair = injected(
        Side::Client,
        b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\nA0009 OK done\r\n",
    );
    assert_eq!(
        pair.client_ending(),
        Some(&Err(client::SessionError::StartTlsInjection))
    );
    assert_eq!(pair.tls_handshakes(), 0);
    // Nothing of the injected data was used: after StartTls only the ending.
    let events = pair.client_events();
    let at = events
        .iter()
        .position(|e| *e == client::Event::StartTls)
        .unwrap();
    assert_eq!(
        &events[at + 1..],
        &[client::Event::Closed(Err(
            client::SessionError::StartTlsInjection
        ))],
    );
    let sent = text(&pair, Side::Client);
    assert!(!sent.contains("LOGIN"), "{sent}");
}

#[test]
fn tls_required_and_no_starttls_offered_ends_before_any_credentials() {
    let store = store_with_two();
    let mut config = no_delay();
    config.starttls = false;
    config.allow_plaintext_auth = true;
    let (mut pair, _) = pair(&store, ClientConfig::new(), config);
    pair.drive();
    assert_eq!(
        pair.client_ending(),
        Some(&Err(client::SessionError::TlsUnavailable))
    );
    let sent = text(&pair, Side::Client);
    assert!(
        !sent.contains("LOGIN") && !sent.contains("AUTHENTICATE"),
        "{sent}"
    );
    assert_eq!(pair.tls_handshakes(), 0);
}

#[test]
fn the_servers_login_timeout_reaches_the_client_as_bye() {
    let store = store_with_two();
    let (mut pair, _) = pair(&store, ClientConfig::new(), no_delay());
    pair.drive();
    assert!(
        pair.client_events()
            .iter()
            .any(|e| matches!(e, client::Event::Ready { .. }))
    );
    pair.advance(Duration::from_secs(61));
    assert!(
        matches!(
            pair.client_ending(),
            Some(Err(client::SessionError::Bye(_)))
        ),
        "{:?}",
        pair.client_ending()
    );
    assert!(pair.server_ending().is_some());
}

#[test]
fn done_before_the_continuation_then_logout_at_once() {
    for chunking in Chunking::standard(3) {
        let store = store_with_two();
        let (pair, _) = pair(&store, ClientConfig::new(), no_delay());
        let mut pair = pair.with_chunking(chunking.clone());
        let mut select = None;
        pair.on_client_event(move |client, event, now| match event {
            client::Event::Ready { .. } => {
                client.login(now, "alice", &secret()).unwrap();
                select = Some(client.select(now, "INBOX").unwrap());
            }
            client::Event::Completed { id, .. } if Some(*id) == select => {
                client.idle(now).unwrap();
                client.done(now).unwrap();
                client.logout(now).unwrap();
            }
            _ => {}
        });
        pair.drive();
        assert_eq!(pair.client_ending(), Some(&Ok(())), "{chunking:?}");
        assert_eq!(pair.server_ending(), Some(&Ok(())), "{chunking:?}");
        in_order(
            &text(&pair, Side::Client),
            &[" IDLE\r\n", "DONE\r\n", " LOGOUT\r\n"],
        );
        in_order(&text(&pair, Side::Server), &["+ ", " OK", "* BYE"]);
    }
}

#[test]
fn news_outside_idle_comes_with_noop() {
    let store = store_with_two();
    let (mut pair, id) = pair(&store, ClientConfig::new(), no_delay());
    pair.on_client_event(move |client, event, now| match event {
        client::Event::Ready { .. } => {
            client.login(now, "alice", &secret()).unwrap();
            client.select(now, "INBOX").unwrap();
        }
        client::Event::Data(Data::Exists(3)) => {
            client.logout(now).unwrap();
        }
        _ => {}
    });
    pair.drive();
    store
        .borrow_mut()
        .append("INBOX", Bytes::from_static(THIRD), Vec::new(), None)
        .unwrap();
    deliver_to(&store, id, &mut pair);
    pair.drive();
    // Nothing unasked outside IDLE: the news waits for a command.
    assert!(!text(&pair, Side::Server).contains("* 3 EXISTS"));
    let now = pair.now();
    pair.client_mut().noop(now).unwrap();
    pair.drive();
    assert_eq!(pair.client_ending(), Some(&Ok(())));
    in_order(
        &text(&pair, Side::Server),
        &["* 3 EXISTS\r\n", " OK", "* BYE"],
    );
}

#[test]
fn a_failed_login_is_answered_after_the_servers_delay() {
    let store = store_with_two();
    let mut config = ServerConfig::default();
    config.auth_failure_delay = Duration::from_secs(2);
    let (mut pair, _) = pair(&store, ClientConfig::new(), config);
    let login: Rc<RefCell<Option<CommandId>>> = Rc::default();
    let seen = Rc::clone(&login);
    pair.on_client_event(move |client, event, now| {
        if let client::Event::Ready { .. } = event {
            let wrong = Secret::new("wrong".into());
            *seen.borrow_mut() = Some(client.login(now, "alice", &wrong).unwrap());
        }
    });
    pair.drive();
    let login = login.borrow().unwrap();
    let done = |pair: &Pair<Client, Server>| {
        pair.client_events()
            .iter()
            .any(|e| matches!(e, client::Event::Completed { id, .. } if *id == login))
    };
    assert!(!done(&pair));
    pair.advance(Duration::from_millis(1999));
    assert!(!done(&pair));
    pair.advance(Duration::from_millis(1));
    assert_eq!(
        completion(pair.client_events(), login),
        (StatusKind::No, Some(Code::AuthenticationFailed))
    );
}

#[test]
fn too_many_failed_logins_end_in_bye() {
    let store = store_with_two();
    let (mut pair, _) = pair(&store, ClientConfig::new(), no_delay());
    pair.on_client_event(move |client, event, now| match event {
        client::Event::Ready { .. }
        | client::Event::Completed {
            status: StatusKind::No,
            ..
        } => {
            // After the third failure the BYE came with the NO: the session is over.
            match client.login(now, "alice", &Secret::new("wrong".into())) {
                Ok(_) => {}
                Err(error) => assert_eq!(error, client::ClientError::Closed),
            }
        }
        _ => {}
    });
    pair.drive();
    assert!(
        matches!(
            pair.client_ending(),
            Some(Err(client::SessionError::Bye(_)))
        ),
        "{:?}",
        pair.client_ending()
    );
    let answered = text(&pair, Side::Server);
    assert_eq!(
        answered.matches("NO [AUTHENTICATIONFAILED]").count(),
        3,
        "{answered}"
    );
    assert!(answered.contains("* BYE"), "{answered}");
    assert!(pair.server_ending().is_some());
}

#[test]
fn a_large_append_streamed_in_small_pieces_bytewise() {
    let store = store_with_two();
    let mut config = no_delay();
    config.append_chunk = 100;
    config.literal_plus = LiteralPlus::Off;
    let big = format!("Subject: big\r\n\r\n{}\r\n", "z\r\n".repeat(3000));
    let append = body(&format!("APPEND INBOX {{{}}}\r\n{big}", big.len()));
    let (pair, _) = pair(&store, ClientConfig::new(), config);
    let mut pair = pair.with_chunking(Chunking::Bytewise);
    let mut append = Some(append);
    let mut id = None;
    pair.on_client_event(move |client, event, now| match event {
        client::Event::Ready { .. } => {
            client.login(now, "alice", &secret()).unwrap();
            id = Some(client.command(now, append.take().unwrap()).unwrap());
        }
        client::Event::Completed {
            id: done, status, ..
        } if Some(*done) == id => {
            assert_eq!(*status, StatusKind::Ok);
            client.logout(now).unwrap();
        }
        _ => {}
    });
    pair.drive();
    assert_eq!(pair.client_ending(), Some(&Ok(())));
    let pieces = pair
        .server_events()
        .iter()
        .filter_map(|e| match e {
            server::Event::AppendData(piece) => Some(piece.len()),
            _ => None,
        })
        .collect::<Vec<_>>();
    assert!(pieces.iter().all(|&n| n <= 100), "{pieces:?}");
    assert_eq!(pieces.iter().sum::<usize>(), big.len());
    let stored = store.borrow();
    let inbox = stored.folder("INBOX").unwrap();
    assert_eq!(
        &inbox.message(3.try_into().unwrap()).unwrap().raw[..],
        big.as_bytes()
    );
}

#[test]
fn a_mailbox_name_beyond_ascii_goes_as_modified_utf7() {
    let store = store_with_two();
    let create = CommandBody::Create {
        mailbox: Mailbox::from_utf8("Café", false).unwrap(),
        special_use: Default::default(),
    };
    let (pair, ids) = run(&store, no_delay(), vec![create]);
    assert_eq!(completion(pair.client_events(), ids[0]).0, StatusKind::Ok);
    assert!(text(&pair, Side::Client).contains(" CREATE Caf&AOk-\r\n"));
    // The server side decodes it: the store knows the name people write.
    assert!(store.borrow().folder("Café").is_some());
}

#[test]
fn a_non_ascii_search_string_goes_as_a_literal_and_matches() {
    let store = store_with_two();
    store
        .borrow_mut()
        .append(
            "INBOX",
            Bytes::from_static("Subject: =?UTF-8?Q?Caf=C3=A9?= au lait\r\n\r\nbody\r\n".as_bytes()),
            Vec::new(),
            None,
        )
        .unwrap();
    let search = CommandBody::Search {
        uid: true,
        return_options: None,
        charset: Some(imap_proto::core::Charset::new("UTF-8").unwrap()),
        criteria: imap_proto::list::NonEmpty::one(SearchKey::Subject(
            AString::from_bytes("café".as_bytes()).unwrap(),
        )),
    };
    let (pair, ids) = run(&store, no_delay(), vec![body("SELECT INBOX"), search]);
    assert_eq!(completion(pair.client_events(), ids[1]).0, StatusKind::Ok);
    let sent = text(&pair, Side::Client);
    // IMAP4rev1 without UTF8=ACCEPT: 8-bit text only in a literal.
    assert!(
        sent.contains(" UID SEARCH CHARSET UTF-8 SUBJECT {5+}\r\ncafé\r\n"),
        "{sent}"
    );
    assert!(
        pair.client_events()
            .contains(&client::Event::Data(Data::Search {
                ids: vec![3.try_into().unwrap()],
                modseq: None
            }))
    );
}

#[test]
fn news_at_the_moment_of_the_idle_renewal_is_not_lost() {
    for chunking in Chunking::standard(11) {
        let store = store_with_two();
        let (pair, id) = pair(&store, ClientConfig::new(), no_delay());
        let mut pair = pair.with_chunking(chunking.clone());
        pair.on_client_event(move |client, event, now| {
            if let client::Event::Ready { .. } = event {
                client.login(now, "alice", &secret()).unwrap();
                client.select(now, "INBOX").unwrap();
                client.idle(now).unwrap();
            }
        });
        pair.drive();
        assert!(pair.client().is_idling(), "{chunking:?}");
        pair.advance(client::DEFAULT_IDLE_REFRESH - Duration::from_secs(1));
        // The news and the refresh's DONE cross on the wire.
        store
            .borrow_mut()
            .append("INBOX", Bytes::from_static(THIRD), Vec::new(), None)
            .unwrap();
        deliver_to(&store, id, &mut pair);
        pair.advance(Duration::from_secs(1));
        assert!(
            pair.client_events()
                .contains(&client::Event::Data(Data::Exists(3))),
            "{chunking:?}"
        );
        let sent = text(&pair, Side::Client);
        assert_eq!(sent.matches(" IDLE\r\n").count(), 2, "{chunking:?}: {sent}");
        assert!(pair.client().is_idling());
        assert_eq!(pair.client_ending(), None);
        assert_eq!(pair.server_ending(), None);
    }
}

#[test]
fn login_with_credentials_that_need_quoting_and_literals() {
    for (user, password, literal_plus) in [
        ("bob smith", "p\"w\\d x", LiteralPlus::Off),
        ("jürgen", "pässwörd", LiteralPlus::Off),
        ("jürgen", "pässwörd", LiteralPlus::Plus),
    ] {
        let store = store_with_two();
        let mut config = no_delay();
        config.literal_plus = literal_plus;
        let users = Users::new().with_plain_password(user, password);
        let (mut pair, _) = pair_with_users(&store, ClientConfig::new(), config, users);
        let login: Rc<RefCell<Option<CommandId>>> = Rc::default();
        let seen = Rc::clone(&login);
        pair.on_client_event(move |client, event, now| match event {
            client::Event::Ready { .. } => {
                let secret = Secret::new(password.to_owned());
                *seen.borrow_mut() = Some(client.login(now, user, &secret).unwrap());
            }
            client::Event::Completed { .. } => {
                client.logout(now).ok();
            }
            _ => {}
        });
        pair.drive();
        let login = login.borrow().unwrap();
        assert_eq!(
            completion(pair.client_events(), login).0,
            StatusKind::Ok,
            "{user} {password} {literal_plus:?}: {}",
            text(&pair, Side::Server)
        );
        assert_eq!(pair.client_ending(), Some(&Ok(())));
        assert!(
            pair.server_events()
                .iter()
                .any(|e| matches!(e, server::Event::Authenticated(a) if a.identity() == user))
        );
    }
}

#[test]
fn imap4rev2_enabled_between_them() {
    let store = store_with_two();
    let mut config = no_delay();
    config.imap4rev2 = true;
    let (pair, ids) = run(
        &store,
        config,
        vec![
            body("ENABLE IMAP4rev2"),
            CommandBody::Create {
                mailbox: Mailbox::from_utf8("Café", true).unwrap(),
                special_use: Default::default(),
            },
            body("SELECT INBOX"),
            body("UID SEARCH RETURN (ALL) ALL"),
        ],
    );
    assert_eq!(pair.client_ending(), Some(&Ok(())));
    for id in &ids {
        assert_eq!(
            completion(pair.client_events(), *id).0,
            StatusKind::Ok,
            "{}",
            text(&pair, Side::Server)
        );
    }
    let answered = text(&pair, Side::Server);
    assert!(answered.contains("* ENABLED IMAP4rev2\r\n"), "{answered}");
    assert!(
        answered.contains("* ESEARCH (TAG \"A0007\") UID ALL 1:2\r\n"),
        "{answered}"
    );
    assert!(!answered.contains("RECENT"), "{answered}");
    // UTF-8 names once IMAP4rev2 is enabled (RFC 9051 section 5.1): no modified UTF-7.
    assert!(text(&pair, Side::Client).contains(" CREATE \"Café\"\r\n"));
    assert!(store.borrow().folder("Café").is_some());
}

#[test]
fn response_lookalikes_inside_a_fetched_literal_stay_message_data() {
    for chunking in Chunking::standard(13) {
        let raw: &'static [u8] =
            b"Subject: tricky\r\n\r\n* BYE not really\r\nA0006 OK fake\r\n+ go on\r\n{5}\r\n";
        let store = store_with_two();
        store
            .borrow_mut()
            .append("INBOX", Bytes::from_static(raw), Vec::new(), None)
            .unwrap();
        let (pair, _) = pair(&store, ClientConfig::new(), no_delay());
        let mut pair = pair.with_chunking(chunking.clone());
        let mut fetch = None;
        pair.on_client_event(move |client, event, now| match event {
            client::Event::Ready { .. } => {
                client.login(now, "alice", &secret()).unwrap();
                client.select(now, "INBOX").unwrap();
                fetch = Some(client.command(now, body("FETCH 3 BODY[]")).unwrap());
                client.noop(now).unwrap();
            }
            client::Event::Completed { id, .. } if Some(*id) == fetch => {
                client.logout(now).unwrap();
            }
            _ => {}
        });
        pair.drive();
        assert_eq!(pair.client_ending(), Some(&Ok(())), "{chunking:?}");
        let got = pair.client_events().iter().find_map(|e| match e {
            client::Event::Data(Data::Fetch { seq, items }) if seq.get() == 3 => {
                items.iter().find_map(|item| match item {
                    imap_proto::fetch::MessageDataItem::BodySection { data, .. } => {
                        data.data().map(<[u8]>::to_vec)
                    }
                    _ => None,
                })
            }
            _ => None,
        });
        assert_eq!(got.as_deref(), Some(raw), "{chunking:?}");
        let oks = pair
            .client_events()
            .iter()
            .filter(|e| {
                matches!(
                    e,
                    client::Event::Completed {
                        status: StatusKind::Ok,
                        ..
                    }
                )
            })
            .count();
        // LOGIN, SELECT, FETCH, NOOP, LOGOUT: the fake `A0006 OK` in the literal is not
        // an answer.
        assert_eq!(oks, 5, "{chunking:?}");
    }
}

#[test]
fn idle_refused_before_login_leaves_the_client_usable() {
    let store = store_with_two();
    let (mut pair, _) = pair(&store, ClientConfig::new(), no_delay());
    let ids: Rc<RefCell<Vec<CommandId>>> = Rc::default();
    let seen = Rc::clone(&ids);
    pair.on_client_event(move |client, event, now| match event {
        client::Event::Ready { .. } => {
            seen.borrow_mut().push(client.idle(now).unwrap());
        }
        client::Event::Completed { id, .. } if seen.borrow().first() == Some(id) => {
            assert!(!client.is_idling());
            let login = client.login(now, "alice", &secret()).unwrap();
            seen.borrow_mut().push(login);
            client.logout(now).unwrap();
        }
        _ => {}
    });
    pair.drive();
    let ids = ids.borrow();
    let events = pair.client_events();
    assert_ne!(completion(events, ids[0]).0, StatusKind::Ok);
    assert_eq!(completion(events, ids[1]).0, StatusKind::Ok);
    assert_eq!(pair.client_ending(), Some(&Ok(())));
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, client::Event::Idling { .. }))
    );
}

#[test]
fn a_server_that_never_answers_a_command_times_the_client_out() {
    let store = store_with_two();
    let (mut pair, _) = pair(&store, ClientConfig::new(), no_delay());
    // The application answers everything but FETCH, which it leaves pending for ever.
    let mut app = support::app::App::new(&mut store.borrow_mut(), Users::standard());
    let shared = Rc::clone(&store);
    pair.on_server_event(move |server, event, _| {
        if let server::Event::Command { command, .. } = event {
            if matches!(command.body, CommandBody::Fetch { .. }) {
                return;
            }
        }
        let mut store = shared.borrow_mut();
        app.answer(&mut store, server, event.clone()).unwrap();
        support::app::deliver(&mut store, app.id, server);
    });
    pair.on_client_event(|client, event, now| {
        if let client::Event::Ready { .. } = event {
            client.login(now, "alice", &secret()).unwrap();
            client.select(now, "INBOX").unwrap();
            client.command(now, body("FETCH 1 FLAGS")).unwrap();
        }
    });
    pair.drive();
    assert_eq!(pair.client_ending(), None);
    pair.advance(client::DEFAULT_COMMAND_TIMEOUT - Duration::from_secs(1));
    assert_eq!(pair.client_ending(), None);
    pair.advance(Duration::from_secs(1));
    assert_eq!(
        pair.client_ending(),
        Some(&Err(client::SessionError::Timeout))
    );
}

#[test]
fn a_view_overflow_reaches_the_client_as_bye() {
    let store = store_with_two();
    let mut config = no_delay();
    config.view.max_pending = 4;
    let (mut pair, id) = pair(&store, ClientConfig::new(), config);
    pair.on_client_event(|client, event, now| {
        if let client::Event::Ready { .. } = event {
            client.login(now, "alice", &secret()).unwrap();
            client.select(now, "INBOX").unwrap();
        }
    });
    pair.drive();
    assert!(pair.client().is_selected());
    // Not idling, no command: the news queues until the queue is past its bound.
    for _ in 0..10 {
        store
            .borrow_mut()
            .append("INBOX", Bytes::from_static(THIRD), Vec::new(), None)
            .unwrap();
    }
    deliver_to(&store, id, &mut pair);
    pair.drive();
    assert!(
        matches!(
            pair.client_ending(),
            Some(Err(client::SessionError::Bye(_)))
        ),
        "{:?}",
        pair.client_ending()
    );
    assert!(pair.server_ending().is_some());
    let answered = text(&pair, Side::Server);
    // The BYE is the last thing the server wrote, and no EXISTS went out unasked.
    let last = answered.trim_end().rsplit("\r\n").next().unwrap();
    assert!(last.starts_with("* BYE"), "{answered}");
    assert!(!answered.contains("* 3 EXISTS"), "{answered}");
}

#[test]
fn every_sasl_mechanism_between_them() {
    use mail_testkit::users::{FAILING_TOKEN, FAILING_USER, TOKEN};
    let token = || Secret::new(TOKEN.to_owned());
    let cases: Vec<(ClientSession, StatusKind)> = vec![
        (
            ClientSession::login("alice", secret()).unwrap(),
            StatusKind::Ok,
        ),
        (
            ClientSession::login("alice", Secret::new("wrong".into())).unwrap(),
            StatusKind::No,
        ),
        (
            ClientSession::xoauth2("alice", token()).unwrap(),
            StatusKind::Ok,
        ),
        (
            ClientSession::oauthbearer(Some("alice"), Some("localhost"), Some(143), token())
                .unwrap(),
            StatusKind::Ok,
        ),
        (
            ClientSession::oauthbearer(
                Some(FAILING_USER),
                None,
                None,
                Secret::new(FAILING_TOKEN.to_owned()),
            )
            .unwrap(),
            StatusKind::No,
        ),
        (
            ClientSession::xoauth2(FAILING_USER, Secret::new(FAILING_TOKEN.to_owned())).unwrap(),
            StatusKind::No,
        ),
    ];
    for (session, expected) in cases {
        let mechanism = session.mechanism();
        let mut config = no_delay();
        config.sasl_mechanisms = vec![
            Mechanism::Plain,
            Mechanism::Login,
            Mechanism::XOAuth2,
            Mechanism::OAuthBearer,
            Mechanism::ScramSha256,
        ];
        let (pair, login, noop) = authenticate(config, Some(session), "");
        let events = pair.client_events();
        assert_eq!(
            completion(events, login.unwrap()).0,
            expected,
            "{mechanism:?}: {}",
            text(&pair, Side::Server)
        );
        assert_eq!(completion(events, noop.unwrap()).0, StatusKind::Ok);
        assert_eq!(pair.client_ending(), Some(&Ok(())), "{mechanism:?}");
        assert_eq!(pair.server_ending(), Some(&Ok(())), "{mechanism:?}");
        assert_eq!(
            pair.client().is_authenticated(),
            expected == StatusKind::Ok,
            "{mechanism:?}"
        );
        let sent = text(&pair, Side::Client);
        assert!(
            sent.contains(&format!(" AUTHENTICATE {}", mechanism.name())),
            "{sent}"
        );
    }
}

#[test]
fn pipelined_appends_with_synchronising_literals_under_every_pipelining_bound() {
    for max_pipelined in [0, 1, 16] {
        for chunking in Chunking::standard(21) {
            let store = store_with_two();
            let mut config = no_delay();
            config.literal_plus = LiteralPlus::Off;
            config.max_pipelined = max_pipelined;
            assert_eq!(config.check(), Ok(()));
            let commands = vec![
                append_command("INBOX"),
                body("NOOP"),
                append_command("INBOX"),
                body("FETCH 1:* (FLAGS)"),
                body("UID SEARCH FLAGGED"),
            ];
            let (pair, ids) = burst(&store, config, commands, chunking.clone());
            let what = format!("{max_pipelined} {chunking:?}");
            assert_eq!(pair.client_ending(), Some(&Ok(())), "{what}");
            for id in &ids {
                assert_eq!(
                    completion(pair.client_events(), *id).0,
                    StatusKind::Ok,
                    "{what}"
                );
            }
            assert_eq!(
                text(&pair, Side::Server).matches("\r\n+ ").count(),
                2,
                "{what}"
            );
            assert!(
                pair.client_events()
                    .contains(&client::Event::Data(Data::Search {
                        ids: vec![3.try_into().unwrap(), 4.try_into().unwrap()],
                        modseq: None
                    })),
                "{what}"
            );
        }
    }
}

#[test]
fn news_queued_before_idle_goes_out_right_after_the_continuation() {
    let store = store_with_two();
    let (mut pair, id) = pair(&store, ClientConfig::new(), no_delay());
    pair.on_client_event(|client, event, now| match event {
        client::Event::Ready { .. } => {
            client.login(now, "alice", &secret()).unwrap();
            client.select(now, "INBOX").unwrap();
        }
        client::Event::Data(Data::Exists(3)) if client.is_idling() => {
            client.done(now).unwrap();
            client.logout(now).unwrap();
        }
        _ => {}
    });
    pair.drive();
    store
        .borrow_mut()
        .append("INBOX", Bytes::from_static(THIRD), Vec::new(), None)
        .unwrap();
    deliver_to(&store, id, &mut pair);
    pair.drive();
    assert!(!text(&pair, Side::Server).contains("* 3 EXISTS"));
    let now = pair.now();
    pair.client_mut().idle(now).unwrap();
    pair.drive();
    assert_eq!(pair.client_ending(), Some(&Ok(())));
    let answered = text(&pair, Side::Server);
    let (_, after) = answered.split_once("\r\n+ ").unwrap();
    let (_, after) = after.split_once("\r\n").unwrap();
    assert!(after.starts_with("* 3 EXISTS\r\n"), "{answered}");
}

#[test]
fn an_expunge_during_fetch_by_sequence_number_is_expungeissued_then_waits_for_noop() {
    for chunking in Chunking::standard(4) {
        let store = store_with_two();
        let (pair, _) = pair(&store, ClientConfig::new(), no_delay());
        let mut pair = pair.with_chunking(chunking.clone());
        // The application: when FETCH arrives, another session expunges message 1 first.
        let mut app = support::app::App::new(&mut store.borrow_mut(), Users::standard());
        let shared = Rc::clone(&store);
        let other = store.borrow_mut().register();
        pair.on_server_event(move |server, event, _| {
            let mut store = shared.borrow_mut();
            if let server::Event::Command { command, .. } = event {
                if matches!(command.body, CommandBody::Fetch { uid: false, .. }) {
                    let uid = 1.try_into().unwrap();
                    let stored = store.store_flags(
                        other,
                        "INBOX",
                        uid,
                        StoreKind::Add,
                        &[Flag::Deleted],
                        None,
                        false,
                    );
                    if stored.is_some() {
                        store.expunge("INBOX", |_| true).unwrap();
                        support::app::deliver(&mut store, app.id, server);
                    }
                }
            }
            app.answer(&mut store, server, event.clone()).unwrap();
            support::app::deliver(&mut store, app.id, server);
        });
        let (mut fetch, mut noop) = (None, None);
        pair.on_client_event(move |client, event, now| match event {
            client::Event::Ready { .. } => {
                client.login(now, "alice", &secret()).unwrap();
                client.select(now, "INBOX").unwrap();
                fetch = Some(client.command(now, body("FETCH 1:2 (FLAGS)")).unwrap());
            }
            client::Event::Completed { id, .. } if Some(*id) == fetch => {
                noop = Some(client.noop(now).unwrap());
            }
            client::Event::Completed { id, .. } if Some(*id) == noop => {
                client.logout(now).unwrap();
            }
            _ => {}
        });
        pair.drive();
        assert_eq!(pair.client_ending(), Some(&Ok(())), "{chunking:?}");
        let answered = text(&pair, Side::Server);
        // RFC 9051 section 6.4.5: what is left is fetched, the command answers
        // NO [EXPUNGEISSUED], and the EXPUNGE waits for a command that allows it.
        let (during, after) = answered
            .split_once(" NO [EXPUNGEISSUED]")
            .unwrap_or_else(|| panic!("{chunking:?}: {answered}"));
        assert!(!during.contains("EXPUNGE"), "{chunking:?}: {answered}");
        assert!(
            during.ends_with("* 2 FETCH (FLAGS ())\r\nA0005"),
            "{answered}"
        );
        in_order(after, &["* 1 EXPUNGE\r\n", "A0006 OK"]);
        let events = pair.client_events();
        let fetch = events
            .iter()
            .find_map(|e| match e {
                client::Event::Completed {
                    id, status, code, ..
                } if *status != StatusKind::Ok => Some((*id, code.clone())),
                _ => None,
            })
            .unwrap();
        assert_eq!(fetch.1, Some(Code::ExpungeIssued));
        assert!(events.contains(&client::Event::Data(Data::Expunge(1.try_into().unwrap()))));
    }
}

#[test]
fn qresync_between_them_vanished_reaches_idle() {
    use imap_proto::response::Capability;
    for chunking in Chunking::standard(6) {
        let store = store_with_two();
        let mut config = no_delay();
        config.capabilities = vec![Capability::CondStore, Capability::QResync];
        let (pair, id) = pair(&store, ClientConfig::new(), config);
        let mut pair = pair.with_chunking(chunking.clone());
        let (mut select, mut idle) = (None, None);
        pair.on_client_event(move |client, event, now| match event {
            client::Event::Ready { .. } => {
                client.login(now, "alice", &secret()).unwrap();
                client.command(now, body("ENABLE QRESYNC")).unwrap();
                select = Some(client.select(now, "INBOX").unwrap());
            }
            client::Event::Completed { id, .. } if Some(*id) == select => {
                let store = body("STORE 2 +FLAGS (\\Flagged)");
                client.command(now, store).unwrap();
                idle = Some(client.idle(now).unwrap());
            }
            client::Event::Data(Data::Vanished { earlier: false, .. }) => {
                client.done(now).unwrap();
            }
            client::Event::Completed { id, .. } if Some(*id) == idle => {
                client.logout(now).unwrap();
            }
            _ => {}
        });
        pair.drive();
        assert!(pair.client().is_idling(), "{chunking:?}");
        let other = store.borrow_mut().register();
        {
            let mut shared = store.borrow_mut();
            let uid = 1.try_into().unwrap();
            let flags = [Flag::Deleted];
            let stored =
                shared.store_flags(other, "INBOX", uid, StoreKind::Add, &flags, None, false);
            assert!(matches!(stored, Some(Ok(_))));
            shared.expunge("INBOX", |_| true).unwrap();
        }
        deliver_to(&store, id, &mut pair);
        pair.drive();
        assert_eq!(pair.client_ending(), Some(&Ok(())), "{chunking:?}");
        let answered = text(&pair, Side::Server);
        in_order(
            &answered,
            &[
                "* ENABLED QRESYNC\r\n",
                "[HIGHESTMODSEQ ",
                "* 2 FETCH (",
                "MODSEQ (",
                "+ ",
                "* VANISHED 1\r\n",
            ],
        );
        assert!(!answered.contains("EXPUNGE\r\n"), "{answered}");
        let vanished = pair
            .client_events()
            .iter()
            .find_map(|e| match e {
                client::Event::Data(Data::Vanished { uids, .. }) => Some(uids.clone()),
                _ => None,
            })
            .unwrap();
        assert_eq!(vanished, imap_proto::sequence::UidSet::parse(b"1").unwrap());
    }
}

#[test]
fn opportunistic_without_starttls_falls_back_and_guards_credentials() {
    for allow in [false, true] {
        let store = store_with_two();
        let mut config = no_delay();
        config.starttls = false;
        config.allow_plaintext_auth = true;
        let mut client_config = ClientConfig::new();
        client_config.tls = TlsPolicy::Opportunistic;
        client_config.allow_plaintext_auth = allow;
        let (mut pair, _) = pair(&store, client_config, config);
        let refused: Rc<RefCell<Option<client::ClientError>>> = Rc::default();
        let seen = Rc::clone(&refused);
        pair.on_client_event(move |client, event, now| {
            if let client::Event::Ready { .. } = event {
                if let Err(error) = client.login(now, "alice", &secret()) {
                    *seen.borrow_mut() = Some(error);
                }
                client.logout(now).unwrap();
            }
        });
        pair.drive();
        assert_eq!(pair.client_ending(), Some(&Ok(())));
        assert!(
            pair.client_events()
                .contains(&client::Event::PlaintextFallback)
        );
        let sent = text(&pair, Side::Client);
        if allow {
            assert!(refused.borrow().is_none());
            assert!(sent.contains(" LOGIN alice secret\r\n"), "{sent}");
        } else {
            assert_eq!(
                *refused.borrow(),
                Some(client::ClientError::PlaintextCredentials)
            );
            assert!(!sent.contains("LOGIN"), "{sent}");
        }
        assert!(!sent.contains("STARTTLS"), "{sent}");
    }
}

#[test]
fn a_preauth_greeting_against_each_tls_policy() {
    for (policy, ok) in [(TlsPolicy::Required, false), (TlsPolicy::Never, true)] {
        let store = store_with_two();
        let mut config = no_delay();
        config.allow_plaintext_auth = true;
        config.starttls = false;
        config.preauth = Some("alice".into());
        assert_eq!(config.check(), Ok(()));
        let mut client_config = ClientConfig::new();
        client_config.tls = policy;
        let (mut pair, _) = pair(&store, client_config, config);
        pair.on_client_event(|client, event, now| {
            if let client::Event::Ready { authenticated } = event {
                assert!(*authenticated);
                client.select(now, "INBOX").unwrap();
                client.logout(now).unwrap();
            }
        });
        pair.drive();
        if ok {
            assert_eq!(pair.client_ending(), Some(&Ok(())));
            assert!(text(&pair, Side::Server).contains("* 2 EXISTS"));
        } else {
            assert_eq!(
                pair.client_ending(),
                Some(&Err(client::SessionError::PreauthWithoutTls))
            );
            assert_eq!(pair.written(Side::Client), b"");
        }
    }
}

#[test]
fn an_append_refused_before_its_data_skips_the_literal_and_goes_on() {
    for literal_plus in [LiteralPlus::Off, LiteralPlus::Plus] {
        for chunking in Chunking::standard(8) {
            let store = store_with_two();
            let mut config = no_delay();
            config.literal_plus = literal_plus;
            let commands = vec![
                append_command("Nowhere"),
                body("NOOP"),
                append_command("INBOX"),
            ];
            let (pair, ids) = burst(&store, config, commands, chunking.clone());
            let what = format!("{literal_plus:?} {chunking:?}");
            assert_eq!(pair.client_ending(), Some(&Ok(())), "{what}");
            let events = pair.client_events();
            assert_eq!(
                completion(events, ids[0]),
                (StatusKind::No, Some(Code::TryCreate)),
                "{what}"
            );
            assert_eq!(completion(events, ids[1]).0, StatusKind::Ok, "{what}");
            assert_eq!(completion(events, ids[2]).0, StatusKind::Ok, "{what}");
            let sent = text(&pair, Side::Client);
            let data_sent = sent.matches(APPENDED).count();
            match literal_plus {
                // The refused message's data never went out.
                LiteralPlus::Off => assert_eq!(data_sent, 1, "{what}: {sent}"),
                _ => assert_eq!(data_sent, 2, "{what}: {sent}"),
            }
            assert!(store.borrow().folder("Nowhere").is_none());
            assert_eq!(
                store
                    .borrow()
                    .folder("INBOX")
                    .unwrap()
                    .snapshot()
                    .uids
                    .len(),
                3
            );
        }
    }
}

#[test]
fn the_servers_autologout_reaches_an_inactive_client_as_bye() {
    let store = store_with_two();
    let (mut pair, _) = pair(&store, ClientConfig::new(), no_delay());
    pair.on_client_event(|client, event, now| {
        if let client::Event::Ready { .. } = event {
            client.login(now, "alice", &secret()).unwrap();
            client.select(now, "INBOX").unwrap();
        }
    });
    pair.drive();
    // No command in flight: the client's command timeout does not run.
    assert_eq!(pair.client().poll_timeout(), None);
    pair.advance(Duration::from_secs(29 * 60));
    assert_eq!(pair.client_ending(), None);
    pair.advance(Duration::from_secs(60));
    assert!(
        matches!(
            pair.client_ending(),
            Some(Err(client::SessionError::Bye(_)))
        ),
        "{:?}",
        pair.client_ending()
    );
}

#[test]
fn a_literal_over_the_servers_limit_is_refused_without_its_data() {
    let store = store_with_two();
    let mut config = no_delay();
    config.literal_plus = LiteralPlus::Off;
    config.max_literal = 1024;
    let needle = "n ".repeat(1000);
    let search = CommandBody::Search {
        uid: false,
        return_options: None,
        charset: None,
        criteria: imap_proto::list::NonEmpty::one(SearchKey::Body(
            AString::from_bytes(needle.clone().into_bytes()).unwrap(),
        )),
    };
    let commands = vec![search, body("NOOP")];
    let (pair, ids) = burst(&store, config, commands, Chunking::Whole);
    assert_eq!(pair.client_ending(), Some(&Ok(())));
    let events = pair.client_events();
    let (status, code) = completion(events, ids[0]);
    assert_ne!(status, StatusKind::Ok);
    assert_eq!(completion(events, ids[1]).0, StatusKind::Ok);
    let sent = text(&pair, Side::Client);
    assert!(sent.contains(" SEARCH BODY {2000}\r\n"), "{sent}");
    assert!(!sent.contains(&needle), "{sent}");
    let answered = text(&pair, Side::Server);
    assert!(!answered.contains("\r\n+ "), "{answered}");
    assert_eq!(
        (status, code),
        (StatusKind::No, Some(Code::TooBig)),
        "{answered}"
    );
}

#[test]
fn a_non_synchronising_literal_over_the_limit_does_not_desynchronise() {
    for chunking in Chunking::standard(9) {
        let store = store_with_two();
        let mut config = no_delay();
        config.max_literal = 1024;
        // Command text inside the literal: must never run as a command.
        let needle = "X9 DELETE INBOX\r\n".repeat(100);
        let search = CommandBody::Search {
            uid: false,
            return_options: None,
            charset: None,
            criteria: imap_proto::list::NonEmpty::one(SearchKey::Body(
                AString::from_bytes(needle.clone().into_bytes()).unwrap(),
            )),
        };
        let commands = vec![search, body("NOOP")];
        let (pair, ids) = burst(&store, config, commands, chunking.clone());
        let sent = text(&pair, Side::Client);
        assert!(sent.contains(" SEARCH BODY {1700+}\r\nX9 DELETE"), "{sent}");
        let answered = text(&pair, Side::Server);
        assert!(!answered.contains("X9 "), "{chunking:?}: {answered}");
        assert!(store.borrow().folder("INBOX").is_some());
        let events = pair.client_events();
        assert_eq!(
            completion(events, ids[0]),
            (StatusKind::No, Some(Code::TooBig)),
            "{chunking:?}"
        );
        assert_eq!(completion(events, ids[1]).0, StatusKind::Ok, "{chunking:?}");
        assert_eq!(pair.client_ending(), Some(&Ok(())), "{chunking:?}");
    }
}

#[test]
fn a_failed_select_leaves_no_mailbox_selected_on_both_sides() {
    let store = store_with_two();
    let (pair, ids) = run(
        &store,
        no_delay(),
        vec![
            body("SELECT INBOX"),
            body("SELECT Nowhere"),
            body("FETCH 1 FLAGS"),
        ],
    );
    let events = pair.client_events();
    assert_eq!(completion(events, ids[0]).0, StatusKind::Ok);
    assert_eq!(completion(events, ids[1]).0, StatusKind::No);
    // FETCH in the authenticated state: BAD (RFC 9051 section 7.1.3).
    assert_eq!(completion(events, ids[2]).0, StatusKind::Bad);
    assert!(!pair.client().is_selected());
    assert_eq!(pair.client_ending(), Some(&Ok(())));
    let answered = text(&pair, Side::Server);
    assert!(!answered.contains("* 1 FETCH"), "{answered}");
}

#[test]
fn uid_move_between_them_reports_copyuid_and_the_expunge() {
    use imap_proto::response::Capability;
    let store = store_with_two();
    store.borrow_mut().create("Archive").unwrap();
    let mut config = no_delay();
    config.capabilities = vec![Capability::UidPlus, Capability::Move];
    let (pair, ids) = run(
        &store,
        config,
        vec![
            body("SELECT INBOX"),
            body("UID MOVE 1 Archive"),
            body("FETCH 1:* (UID)"),
        ],
    );
    assert_eq!(pair.client_ending(), Some(&Ok(())));
    let events = pair.client_events();
    for id in &ids {
        assert_eq!(completion(events, *id).0, StatusKind::Ok);
    }
    let answered = text(&pair, Side::Server);
    in_order(
        &answered,
        &[
            "[COPYUID 3857529046 1 1]",
            "* 1 EXPUNGE\r\n",
            "* 1 FETCH (UID 2)\r\n",
        ],
    );
    // COPYUID reaches the client untagged, before the expunge (RFC 6851 section 4.3).
    let copyuid = |code: Option<&Code<'_>>| matches!(code, Some(Code::CopyUid { .. }));
    assert!(events.iter().any(|e| match e {
        client::Event::Status(status) => copyuid(status.code()),
        client::Event::Completed { id, code, .. } => *id == ids[1] && copyuid(code.as_ref()),
        _ => false,
    }));
    assert!(events.contains(&client::Event::Data(Data::Expunge(1.try_into().unwrap()))));
    assert_eq!(
        store
            .borrow()
            .folder("Archive")
            .unwrap()
            .snapshot()
            .uids
            .len(),
        1
    );
}

/// RFC 9051 section 7.3.4: once IMAP4rev2 is enabled, a SEARCH without RETURN is answered with
/// `ESEARCH`, never `* SEARCH` (found by this file's first run against the test store).
#[test]
fn a_plain_search_under_imap4rev2_is_answered_with_esearch() {
    let store = store_with_two();
    let mut config = no_delay();
    config.imap4rev2 = true;
    let (pair, _) = run(
        &store,
        config,
        vec![
            body("ENABLE IMAP4rev2"),
            body("SELECT INBOX"),
            body("UID SEARCH ALL"),
        ],
    );
    let answered = text(&pair, Side::Server);
    assert!(answered.contains("* ESEARCH (TAG \"A"), "{answered}");
    assert!(answered.contains("\") UID ALL 1:2\r\n"), "{answered}");
    assert!(!answered.contains("* SEARCH"), "{answered}");
}
