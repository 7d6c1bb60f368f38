//! Our client, through the tokio driver, against an IMAP server we did not write: Dovecot
//! (Debian `dovecot-imapd`), started by each test with a temporary configuration on loopback
//! (see `interop/dovecot.rs`): STARTTLS (required), LOGIN, SELECT, FETCH, STORE, SEARCH, and
//! an IDLE that sees a message APPENDed from a second connection (Python's `imaplib`);
//! SCRAM-SHA-256 with SASL-IR over implicit TLS; a wrong password; no credentials in plaintext.
//!
//! Without Dovecot the tests print why and pass, except under `CI=true`, where they fail.

#![cfg(feature = "tokio")]

#[path = "interop/dovecot.rs"]
mod dovecot;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use imap_proto::List;
use imap_proto::client::{Client, ClientConfig, CommandId, Event, SessionError, TlsPolicy};
use imap_proto::command::{FetchAttribute, FetchItems, NonEmpty, SearchKey, StoreKind};
use imap_proto::fetch::MessageDataItem;
use imap_proto::flag::{Flag, FlagFetch};
use imap_proto::response::{Capability, Code, Data, StatusKind};
use imap_proto::sequence::SequenceSet;
use imap_proto::tokio::ClientConnection;
use mail_tls::tokio::{HandshakeOptions, connect_implicit};
use mail_tls::{ClientTls, server_name};
use mail_wire::Secret;
use mail_wire::sasl::{ClientSession, ScramClientConfig};

use dovecot::{Dovecot, PASSWORD, USER};

const LIMIT: Duration = Duration::from_secs(30);

const FIRST: &[u8] =
    b"From: Ann <ann@example.org>\r\nTo: alice@example.org\r\nSubject: first\r\n\r\nhello\r\n";
const SECOND: &[u8] = b"From: Bob <bob@example.net>\r\nTo: alice@example.org\r\nSubject: =?UTF-8?Q?gr=C3=BC=C3=9Fe?=\r\n\r\nhi\r\n";

fn tls(dovecot: &Dovecot) -> std::sync::Arc<mail_tls::rustls::ClientConfig> {
    ClientTls::custom_roots_from_pem_file(dovecot.cert())
        .and_then(|c| c.build())
        .unwrap()
}

/// Runs one session; `script` issues commands as events arrive. Returns the events.
fn run(
    dovecot: &Dovecot,
    config: ClientConfig,
    mut script: impl FnMut(&mut Client, &Event) + Send,
) -> Vec<Event> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let tls = tls(dovecot);
        let options = HandshakeOptions::new(Duration::from_secs(10));
        let implicit = config.implicit_tls;
        let client = Client::new(config, Instant::now());
        let mut events = Vec::new();
        let session = async {
            if implicit {
                let addr: SocketAddr = ([127, 0, 0, 1], dovecot.tls_port).into();
                let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
                let stream =
                    connect_implicit(tls, server_name("localhost").unwrap(), stream, options)
                        .await
                        .unwrap();
                let mut conn = ClientConnection::new(stream, client);
                while let Some(event) = conn.next_event().await.unwrap() {
                    script(conn.client(), &event);
                    events.push(event);
                }
            } else {
                let addr: SocketAddr = ([127, 0, 0, 1], dovecot.port).into();
                let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
                let mut conn = ClientConnection::new(stream, client).with_starttls(
                    tls,
                    server_name("localhost").unwrap(),
                    options,
                );
                while let Some(event) = conn.next_event().await.unwrap() {
                    script(conn.client(), &event);
                    events.push(event);
                }
            }
        };
        tokio::time::timeout(LIMIT, session)
            .await
            .unwrap_or_else(|_| panic!("session in time; log: {}", dovecot.log()));
        events
    })
}

fn items<const N: usize>(attributes: [FetchAttribute<'static>; N]) -> FetchItems<'static> {
    let list: List<FetchAttribute<'static>, 2> = attributes.into_iter().collect();
    FetchItems::Attributes(NonEmpty::new(list).unwrap())
}

fn ok(events: &[Event], id: Option<CommandId>) -> bool {
    events.iter().any(
        |e| matches!(e, Event::Completed { id: i, status: StatusKind::Ok, .. } if Some(*i) == id),
    )
}

#[test]
fn starttls_login_select_fetch_store_search_idle_against_dovecot() {
    let Some(dovecot) = Dovecot::start("full") else {
        return;
    };
    dovecot.append(FIRST);
    let appender = dovecot.appender();
    let mut appending: Option<std::thread::JoinHandle<()>> = None;
    let (mut login, mut select, mut fetch, mut store, mut search, mut idle, mut fetch_new) =
        (None, None, None, None, None, None, None);
    let mut before_tls = Vec::new();
    let events = run(&dovecot, ClientConfig::new(), |client, event| {
        let now = Instant::now();
        match event {
            Event::Capabilities(list) if !client.is_tls() => before_tls = list.clone(),
            Event::Ready { .. } => {
                login = Some(
                    client
                        .login(now, USER, &Secret::new(PASSWORD.into()))
                        .unwrap(),
                );
            }
            Event::Completed { id, .. } if Some(*id) == login => {
                select = Some(client.select(now, "INBOX").unwrap());
                fetch = Some(
                    client
                        .fetch(
                            now,
                            false,
                            SequenceSet::single(1).unwrap(),
                            items([
                                FetchAttribute::Uid,
                                FetchAttribute::Flags,
                                FetchAttribute::Envelope,
                            ]),
                        )
                        .unwrap(),
                );
                store = Some(
                    client
                        .store(
                            now,
                            false,
                            SequenceSet::single(1).unwrap(),
                            StoreKind::Add,
                            false,
                            vec![Flag::Flagged],
                        )
                        .unwrap(),
                );
                search = Some(
                    client
                        .search(now, true, NonEmpty::one(SearchKey::Flagged))
                        .unwrap(),
                );
            }
            Event::Completed { id, .. } if Some(*id) == search => {
                idle = Some(client.idle(now).unwrap());
            }
            Event::Idling { .. } => {
                // A second device delivers a message while we idle.
                let appender = appender.clone();
                appending = Some(std::thread::spawn(move || appender.append(SECOND)));
            }
            Event::Data(Data::Exists(2)) if client.is_idling() => client.done(now).unwrap(),
            Event::Completed { id, .. } if Some(*id) == idle => {
                fetch_new = Some(
                    client
                        .fetch(
                            now,
                            true,
                            SequenceSet::range(2, u32::MAX).unwrap(),
                            items([FetchAttribute::Uid, FetchAttribute::Envelope]),
                        )
                        .unwrap(),
                );
            }
            Event::Completed { id, .. } if Some(*id) == fetch_new => {
                client.logout(now).unwrap();
            }
            _ => {}
        }
    });
    if let Some(appending) = appending {
        appending.join().unwrap();
    }
    // STARTTLS offered in plaintext, and used before anything else.
    assert!(events.contains(&Event::StartTls), "{events:?}");
    assert!(before_tls.contains(&Capability::StartTls));
    for id in [login, select, fetch, store, search, idle, fetch_new] {
        assert!(ok(&events, id), "{id:?} completed OK: {events:?}");
    }
    // SELECT's answer: EXISTS and the UIDVALIDITY code, as events.
    assert!(events.contains(&Event::Data(Data::Exists(1))));
    assert!(events.iter().any(|e| matches!(
        e,
        Event::Status(s) if matches!(s.code(), Some(Code::UidValidity(_)))
    )));
    // FETCH 1: the envelope of the first message.
    let envelopes: Vec<(u32, String)> = events
        .iter()
        .filter_map(|e| match e {
            Event::Data(Data::Fetch { items, .. }) => {
                let uid = items.iter().find_map(|i| match i {
                    MessageDataItem::Uid(uid) => Some(uid.get()),
                    _ => None,
                });
                let subject = items.iter().find_map(|i| match i {
                    MessageDataItem::Envelope(envelope) => envelope
                        .subject
                        .data()
                        .map(|s| String::from_utf8_lossy(s).into_owned()),
                    _ => None,
                });
                Some((uid?, subject?))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        envelopes,
        [
            (1, "first".to_owned()),
            (2, "=?UTF-8?Q?gr=C3=BC=C3=9Fe?=".to_owned())
        ]
    );
    // STORE: the flag comes back in an untagged FETCH.
    assert!(events.iter().any(|e| matches!(
        e,
        Event::Data(Data::Fetch { items, .. }) if items.iter().any(|i| matches!(
            i,
            MessageDataItem::Flags(flags) if flags.contains(&FlagFetch::Flag(Flag::Flagged))
        ))
    )));
    // UID SEARCH FLAGGED finds UID 1.
    assert!(events.iter().any(|e| matches!(
        e,
        Event::Data(Data::Search { ids, .. }) if ids.iter().map(|n| n.get()).eq([1])
    )));
    // IDLE saw the second message arrive.
    assert!(events.contains(&Event::Data(Data::Exists(2))));
    assert_eq!(events.last(), Some(&Event::Closed(Ok(()))));
}

#[test]
fn scram_with_sasl_ir_over_implicit_tls_against_dovecot() {
    let Some(dovecot) = Dovecot::start("scram") else {
        return;
    };
    let mut auth = None;
    let mut sasl_ir = false;
    let events = run(&dovecot, ClientConfig::imaps(), |client, event| {
        let now = Instant::now();
        match event {
            Event::Ready { .. } => {
                sasl_ir = client.has_capability(&Capability::SaslIr);
                let session = ClientSession::scram_sha256(
                    None,
                    USER,
                    Secret::new(PASSWORD.into()),
                    mail_testkit::users::client_nonce(),
                    ScramClientConfig::default(),
                )
                .unwrap();
                auth = Some(client.authenticate(now, session).unwrap());
            }
            Event::Completed { id, .. } if Some(*id) == auth => {
                client.logout(now).unwrap();
            }
            _ => {}
        }
    });
    assert!(sasl_ir, "Dovecot advertises SASL-IR");
    assert!(ok(&events, auth), "{events:?}");
    // After login the client asked for the capabilities again (Dovecot lists them in the
    // OK, or answers CAPABILITY): IMAP4rev1 is among them.
    let last_caps = events.iter().rev().find_map(|e| match e {
        Event::Capabilities(list) => Some(list),
        _ => None,
    });
    assert!(last_caps.is_some_and(|l| l.contains(&Capability::Imap4Rev1)));
    assert_eq!(events.last(), Some(&Event::Closed(Ok(()))));
}

#[test]
fn wrong_password_is_a_no_against_dovecot() {
    let Some(dovecot) = Dovecot::start("wrong") else {
        return;
    };
    let mut login = None;
    let events = run(&dovecot, ClientConfig::imaps(), |client, event| {
        let now = Instant::now();
        match event {
            Event::Ready { .. } => {
                login = Some(
                    client
                        .login(now, USER, &Secret::new("nope".into()))
                        .unwrap(),
                );
            }
            Event::Completed { id, .. } if Some(*id) == login => {
                assert!(!client.is_authenticated());
                client.logout(now).unwrap();
            }
            _ => {}
        }
    });
    assert!(
        events.iter().any(|e| matches!(
            e,
            Event::Completed {
                status: StatusKind::No,
                code: Some(Code::AuthenticationFailed),
                ..
            }
        )),
        "{events:?}"
    );
    assert_eq!(events.last(), Some(&Event::Closed(Ok(()))));
}

#[test]
fn policy_never_keeps_credentials_off_a_plaintext_connection_to_dovecot() {
    // No STARTTLS wanted, plaintext credentials not allowed: LOGIN is refused before any
    // credential leaves, and the session goes on (Dovecot answers LOGOUT).
    let Some(dovecot) = Dovecot::start("plain") else {
        return;
    };
    let mut config = ClientConfig::new();
    config.tls = TlsPolicy::Never;
    let mut refused = None;
    let events = run(&dovecot, config, |client, event| {
        if let Event::Ready { .. } = event {
            let now = Instant::now();
            refused = Some(client.login(now, USER, &Secret::new(PASSWORD.into())));
            client.logout(now).unwrap();
        }
    });
    assert_eq!(
        refused,
        Some(Err(imap_proto::client::ClientError::PlaintextCredentials))
    );
    assert!(!events.contains(&Event::StartTls));
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, Event::Closed(Err(SessionError::TlsUnavailable))))
    );
    assert_eq!(events.last(), Some(&Event::Closed(Ok(()))));
}
