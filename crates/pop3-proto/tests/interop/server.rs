//! Our server, through the tokio driver, against Python's `poplib`: STLS, USER/PASS, STAT,
//! LIST, UIDL, TOP, RETR, DELE then QUIT (the message is gone), DELE then a dropped
//! connection (nothing is deleted), a second session on a locked maildrop (`[IN-USE]`), a
//! wrong password (`[AUTH]`), and implicit TLS (`POP3_SSL`). Each test has its own mailbox
//! and checks the store afterwards.
//!
//! The server runs on 127.0.0.1 with ephemeral ports in a thread of its own; every client
//! process is bounded by a timeout. These tests never skip: python3 is part of the machine
//! CI runs on.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use mail_testkit::users::{Users, server_nonce};
use mail_tls::tokio::{HandshakeOptions, accept_implicit};
use mail_tls::{ServerTls, Service};
use pop3_proto::server::{Event, MessageInfo, Server, ServerConfig};
use pop3_proto::tokio::ServerConnection;
use pop3_proto::{RespCode, Uid};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;

const PASSWORD: &str = "correct horse";
const LIMIT: Duration = Duration::from_secs(60);

/// Mailboxes by user: (unique-id, content) in order; and the users whose maildrop is open.
#[derive(Default)]
struct Store {
    boxes: HashMap<String, Vec<(String, Vec<u8>)>>,
    locked: HashSet<String>,
}

struct Harness {
    stls: SocketAddr,
    pop3s: SocketAddr,
    store: Arc<Mutex<Store>>,
}

fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(start)
}

fn start() -> Harness {
    let dir = std::env::temp_dir().join(format!("pop3-interop-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cert = mail_tls::dev_certs::generate(&["localhost"]).unwrap();
    let files = cert
        .write(&dir.join("cert.pem"), &dir.join("key.pem"))
        .unwrap();
    let (tls, _resolver) = ServerTls::new(Service::Pop3)
        .build_from_pem_files(&files.cert, &files.key)
        .unwrap();
    // The configuration holds the certificate now; nothing is left on disk.
    let _ = std::fs::remove_dir_all(&dir);
    let store = Arc::new(Mutex::new(Store::default()));
    let shared = store.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let plain = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let implicit = TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send((plain.local_addr().unwrap(), implicit.local_addr().unwrap()))
                .unwrap();
            let options = HandshakeOptions::new(Duration::from_secs(10));
            for (listener, is_implicit) in [(plain, false), (implicit, true)] {
                let (tls, store) = (tls.clone(), shared.clone());
                tokio::spawn(async move {
                    loop {
                        let Ok((stream, _)) = listener.accept().await else {
                            continue;
                        };
                        let (tls, store) = (tls.clone(), store.clone());
                        tokio::spawn(async move {
                            let mut config = if is_implicit {
                                ServerConfig::pop3s()
                            } else {
                                ServerConfig::default()
                            };
                            config.auth_failure_delay = Duration::from_millis(200);
                            let server = Server::new(config, Instant::now());
                            if is_implicit {
                                let Ok(stream) = accept_implicit(tls, stream, options).await else {
                                    return;
                                };
                                session(ServerConnection::new(stream, server), store).await;
                            } else {
                                let conn = ServerConnection::new(stream, server)
                                    .with_starttls(tls, options);
                                session(conn, store).await;
                            }
                        });
                    }
                });
            }
            std::future::pending::<()>().await;
        });
    });
    let (stls, pop3s) = rx.recv_timeout(LIMIT).unwrap();
    Harness { stls, pop3s, store }
}

/// One session against the store: the application side of the machine's decisions.
async fn session<S: AsyncRead + AsyncWrite + Unpin>(
    mut conn: ServerConnection<S>,
    store: Arc<Mutex<Store>>,
) {
    let mut user: Option<String> = None;
    let mut snapshot: Vec<(String, Vec<u8>)> = Vec::new();
    let users = {
        let store = store.lock().unwrap();
        store.boxes.keys().fold(Users::new(), |users, name| {
            users.with_plain_password(name, PASSWORD)
        })
    };
    while let Ok(Some(event)) = conn.next_event().await {
        let result = match event {
            Event::AuthStep { .. } => conn.server().auth_step(&users, server_nonce()),
            Event::OpenMaildrop { user: name } => {
                let mut locked = store.lock().unwrap();
                if !locked.locked.insert(name.clone()) {
                    drop(locked);
                    conn.server()
                        .reject(Some(RespCode::InUse), "maildrop already locked")
                } else {
                    snapshot = locked.boxes.get(&name).cloned().unwrap_or_default();
                    drop(locked);
                    user = Some(name);
                    let list = snapshot
                        .iter()
                        .map(|(uid, body)| {
                            MessageInfo::new(body.len() as u64, Uid::new(uid.clone()).unwrap())
                        })
                        .collect();
                    conn.server().open_maildrop(list)
                }
            }
            Event::Retrieve { index, .. } => {
                let body = snapshot[index].1.clone();
                conn.send_message_from(&body[..])
                    .await
                    .map(|_| ())
                    .map_err(|_| pop3_proto::server::ServerError::NoPendingDecision)
            }
            Event::Update { deleted } => {
                let mut store = store.lock().unwrap();
                let uids: Vec<String> = deleted.iter().map(|&i| snapshot[i].0.clone()).collect();
                if let Some(messages) = user.as_ref().and_then(|u| store.boxes.get_mut(u)) {
                    messages.retain(|(uid, _)| !uids.contains(uid));
                }
                drop(store);
                conn.server().accept()
            }
            _ => Ok(()),
        };
        if result.is_err() {
            break;
        }
    }
    if let Some(user) = user {
        store.lock().unwrap().locked.remove(&user);
    }
}

/// A mailbox of its own for one test: three messages, the second with a dot-led line.
fn mailbox(name: &str) -> String {
    let h = harness();
    let messages = vec![
        (
            "uid-1".to_string(),
            b"Subject: one\r\n\r\nfirst\r\n".to_vec(),
        ),
        (
            "uid-2".to_string(),
            b"Subject: two\r\nX: y\r\n\r\n.dot line\r\nl2\r\nl3\r\n".to_vec(),
        ),
        (
            "uid-3".to_string(),
            b"Subject: three\r\n\r\nthird\r\n".to_vec(),
        ),
    ];
    h.store
        .lock()
        .unwrap()
        .boxes
        .insert(name.to_string(), messages);
    name.to_string()
}

fn uids(name: &str) -> Vec<String> {
    let store = harness().store.lock().unwrap();
    store.boxes[name]
        .iter()
        .map(|(uid, _)| uid.clone())
        .collect()
}

const PRELUDE: &str = r#"
import poplib, ssl, sys
port, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
def connect():
    p = poplib.POP3("127.0.0.1", port, timeout=30)
    p.stls(context=ctx)
    p.user(user)
    p.pass_(password)
    return p
"#;

fn python(script: &str, port: u16, user: &str, password: &str) -> Output {
    let source = format!("{PRELUDE}{script}");
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(source)
        .arg(port.to_string())
        .arg(user)
        .arg(password)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if start.elapsed() > LIMIT {
            let _ = child.kill();
            panic!("poplib timed out");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "poplib failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

#[test]
fn stls_login_list_uidl_top_retr_dele_quit() {
    let user = mailbox("full@example.org");
    let script = r#"
p = connect()
print(p.stat())
print(p.list()[1])
print(p.uidl()[1])
print(p.top(2, 1)[1])
print(p.retr(2)[1])
print(p.dele(1))
print(p.quit())
"#;
    let out = ok(&python(script, harness().stls.port(), &user, PASSWORD));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "(3, 89)");
    assert_eq!(lines[1], "[b'1 23', b'2 41', b'3 25']");
    assert_eq!(lines[2], "[b'1 uid-1', b'2 uid-2', b'3 uid-3']");
    assert_eq!(lines[3], "[b'Subject: two', b'X: y', b'', b'.dot line']");
    assert_eq!(
        lines[4],
        "[b'Subject: two', b'X: y', b'', b'.dot line', b'l2', b'l3']"
    );
    assert_eq!(lines[5], "b'+OK Message deleted'");
    assert_eq!(lines[6], "b'+OK Bye, deleted messages removed'");
    assert_eq!(uids(&user), ["uid-2", "uid-3"]);
}

#[test]
fn dele_then_dropped_connection_deletes_nothing() {
    let user = mailbox("drop@example.org");
    let script = r#"
p = connect()
print(p.dele(1))
p.sock.close()
"#;
    let out = ok(&python(script, harness().stls.port(), &user, PASSWORD));
    assert_eq!(out.trim(), "b'+OK Message deleted'");
    // The server notices the close; give its session a moment to release the lock.
    let start = Instant::now();
    while harness().store.lock().unwrap().locked.contains(&user) && start.elapsed() < LIMIT {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(uids(&user), ["uid-1", "uid-2", "uid-3"]);
}

#[test]
fn second_session_gets_in_use() {
    let user = mailbox("busy@example.org");
    let script = r#"
p = connect()
q = poplib.POP3("127.0.0.1", port, timeout=30)
q.stls(context=ctx)
q.user(user)
try:
    q.pass_(password)
    print("logged in twice")
except poplib.error_proto as e:
    print(e)
print(p.quit())
"#;
    let out = ok(&python(script, harness().stls.port(), &user, PASSWORD));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "b'-ERR [IN-USE] maildrop already locked'");
    assert_eq!(lines[1], "b'+OK Bye'");
}

#[test]
fn wrong_password_gets_auth_code() {
    let user = mailbox("wrong@example.org");
    let script = r#"
try:
    connect()
    print("logged in")
except poplib.error_proto as e:
    print(e)
"#;
    let out = ok(&python(script, harness().stls.port(), &user, "not it"));
    assert_eq!(out.trim(), "b'-ERR [AUTH] Authentication failed'");
}

#[test]
fn user_refused_before_stls_and_capa_changes() {
    let user = mailbox("plain@example.org");
    let script = r#"
p = poplib.POP3("127.0.0.1", port, timeout=30)
print(sorted(p.capa().keys()))
try:
    p.user(user)
except poplib.error_proto as e:
    print(e)
p.stls(context=ctx)
print(sorted(p.capa().keys()))
print(p.quit())
"#;
    let out = ok(&python(script, harness().stls.port(), &user, PASSWORD));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        "['AUTH-RESP-CODE', 'PIPELINING', 'RESP-CODES', 'STLS', 'TOP', 'UIDL', 'UTF8']"
    );
    assert_eq!(
        lines[1],
        "b'-ERR Use STLS first: no credentials before TLS'"
    );
    assert_eq!(
        lines[2],
        "['AUTH-RESP-CODE', 'PIPELINING', 'RESP-CODES', 'SASL', 'TOP', 'UIDL', 'USER', 'UTF8']"
    );
}

#[test]
fn implicit_tls_with_pop3_ssl() {
    let user = mailbox("ssl@example.org");
    let script = r#"
p = poplib.POP3_SSL("127.0.0.1", port, context=ctx, timeout=30)
p.user(user)
p.pass_(password)
print(p.stat())
print(p.retr(1)[1])
print(p.quit())
"#;
    let out = ok(&python(script, harness().pop3s.port(), &user, PASSWORD));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "(3, 89)");
    assert_eq!(lines[1], "[b'Subject: one', b'', b'first']");
}
