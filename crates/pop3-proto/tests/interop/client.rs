//! Our client, through the tokio driver, against a POP3 server we did not write: Dovecot
//! (Debian `dovecot-pop3d`), started by each test with a temporary configuration on a
//! loopback port: STLS (required), SASL PLAIN, UIDL, TOP, RETR with a dot-stuffed line, DELE
//! and QUIT (the message is gone from the Maildir), pipelining, a wrong password, and
//! SCRAM-SHA-256 over implicit TLS (pop3s).
//!
//! Without `dovecot` on the machine the tests print why and pass, except under `CI=true`,
//! where they fail.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mail_tls::tokio::{HandshakeOptions, connect_implicit};
use mail_tls::{ClientTls, server_name};
use mail_wire::Secret;
use pop3_proto::client::{Client, ClientConfig, Credentials, Event, SessionError};
use pop3_proto::tokio::{ClientConnection, Traffic};
use pop3_proto::{RespCode, Uid, UidListing};

const LIMIT: Duration = Duration::from_secs(30);

thread_local! {
    /// What the client wrote in the plain (not secret) pieces of this thread's last
    /// implicit-TLS session.
    static SENT: Arc<Mutex<Vec<u8>>> = Arc::new(Mutex::new(Vec::new()));
}
const MESSAGES: [&[u8]; 2] = [
    b"Subject: one\r\n\r\nfirst\r\n",
    b"Subject: two\r\n\r\n.dot\r\nsecond\r\nthird\r\n",
];

fn dovecot_binary() -> Option<PathBuf> {
    ["/usr/sbin/dovecot", "/usr/local/sbin/dovecot"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

/// A Dovecot instance with one user (`alice`, `secret`) whose Maildir holds [`MESSAGES`];
/// stopped (SIGTERM to the master, which stops its children) on drop.
struct Dovecot {
    child: Child,
    addr: SocketAddr,
    /// The implicit-TLS (pop3s) listener.
    tls_addr: SocketAddr,
    dir: PathBuf,
}

impl Dovecot {
    /// `None` (after printing why) when Dovecot is not installed and CI is not set.
    fn start(tag: &str) -> Option<Dovecot> {
        let Some(binary) = dovecot_binary() else {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "dovecot is not installed (Debian dovecot-pop3d); CI must have it"
            );
            eprintln!("skipping: dovecot is not installed (apt-get install dovecot-pop3d)");
            return None;
        };
        let dir = std::env::temp_dir().join(format!("pop3-dovecot-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let maildir = dir.join("home/alice/Maildir");
        for sub in ["new", "cur", "tmp"] {
            std::fs::create_dir_all(maildir.join(sub)).unwrap();
        }
        for (i, message) in MESSAGES.iter().enumerate() {
            std::fs::write(maildir.join(format!("new/{}.M{i}.test", 1000 + i)), message).unwrap();
        }
        let cert = mail_tls::dev_certs::generate(&["localhost"]).unwrap();
        let files = cert
            .write(&dir.join("cert.pem"), &dir.join("key.pem"))
            .unwrap();
        std::fs::write(dir.join("passwd"), "alice:{PLAIN}secret\n").unwrap();
        // Mail processes may not run as root: as root, use `nobody`; otherwise ourselves.
        let root = id("-u") == "0";
        let (user, group) = if root {
            ("nobody".to_string(), id_group_of_nobody())
        } else {
            (id("-un"), id("-gn"))
        };
        if root {
            let status = Command::new("chown")
                .args(["-R", &format!("{user}:{group}")])
                .arg(dir.join("home"))
                .status()
                .unwrap();
            assert!(status.success());
        }
        // Both listeners open at once, so the two ports differ.
        let (a, b) = (
            TcpListener::bind("127.0.0.1:0").unwrap(),
            TcpListener::bind("127.0.0.1:0").unwrap(),
        );
        let (port, tls_port) = (
            a.local_addr().unwrap().port(),
            b.local_addr().unwrap().port(),
        );
        drop((a, b));
        let d = dir.display();
        let unprivileged = if root {
            String::new()
        } else {
            format!("default_internal_user = {user}\ndefault_login_user = {user}\n")
        };
        let config = format!(
            "base_dir = {d}/run\nstate_dir = {d}/state\nlog_path = {d}/log\n\
             protocols = pop3\nlisten = 127.0.0.1\nssl = required\n\
             ssl_cert = <{cert}\nssl_key = <{key}\nauth_mechanisms = plain scram-sha-256\n\
             passdb {{\n driver = passwd-file\n args = scheme=PLAIN username_format=%u {d}/passwd\n}}\n\
             userdb {{\n driver = static\n args = uid={user} gid={group} home={d}/home/%u\n}}\n\
             mail_location = maildir:~/Maildir\nfirst_valid_uid = 1\n{unprivileged}\
             service pop3-login {{\n inet_listener pop3 {{\n  address = 127.0.0.1\n  port = {port}\n }}\n \
             inet_listener pop3s {{\n  address = 127.0.0.1\n  port = {tls_port}\n  ssl = yes\n }}\n}}\n\
             service imap-login {{\n inet_listener imap {{\n  port = 0\n }}\n inet_listener imaps {{\n  port = 0\n }}\n}}\n\
             service anvil {{\n chroot =\n}}\n",
            cert = files.cert.display(),
            key = files.key.display(),
        );
        let conf = dir.join("dovecot.conf");
        std::fs::write(&conf, config).unwrap();
        let child = Command::new(binary)
            .arg("-F")
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("dovecot starts");
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let tls_addr: SocketAddr = format!("127.0.0.1:{tls_port}").parse().unwrap();
        let dovecot = Dovecot {
            child,
            addr,
            tls_addr,
            dir,
        };
        let start = Instant::now();
        while TcpStream::connect(addr).is_err() || TcpStream::connect(tls_addr).is_err() {
            assert!(
                start.elapsed() < LIMIT,
                "dovecot did not listen; log: {}",
                std::fs::read_to_string(dovecot.dir.join("log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(dovecot)
    }

    fn messages_left(&self) -> usize {
        let maildir = self.dir.join("home/alice/Maildir");
        ["new", "cur"]
            .iter()
            .map(|sub| std::fs::read_dir(maildir.join(sub)).map_or(0, |d| d.count()))
            .sum()
    }

    fn cert(&self) -> PathBuf {
        self.dir.join("cert.pem")
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn id(flag: &str) -> String {
    let out = Command::new("id").arg(flag).output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn id_group_of_nobody() -> String {
    let out = Command::new("id").args(["-gn", "nobody"]).output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// Runs one session over STLS; `script` sends commands as events arrive. Returns the events.
fn session(
    dovecot: &Dovecot,
    password: &str,
    script: impl FnMut(&mut Client, &Event) + Send,
) -> Vec<Event> {
    let credentials = Credentials::password("alice", Secret::new(password.into()));
    run(dovecot, ClientConfig::new(credentials), script)
}

/// Runs one session with `config` (implicit TLS when it says so).
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
        let tls = ClientTls::custom_roots_from_pem_file(dovecot.cert())
            .and_then(|c| c.build())
            .unwrap();
        let options = HandshakeOptions::new(Duration::from_secs(10));
        let implicit = config.implicit_tls;
        let client = Client::new(config, Instant::now());
        let mut events = Vec::new();
        let sent = SENT.with(|sent| sent.clone());
        let session = async {
            if implicit {
                let stream = tokio::net::TcpStream::connect(dovecot.tls_addr)
                    .await
                    .unwrap();
                let stream =
                    connect_implicit(tls, server_name("localhost").unwrap(), stream, options)
                        .await
                        .unwrap();
                let log = sent.clone();
                let mut conn =
                    ClientConnection::new(stream, client).with_trace(move |traffic, bytes| {
                        if traffic == Traffic::Sent {
                            log.lock().unwrap().extend_from_slice(bytes);
                        }
                    });
                while let Some(event) = conn.next_event().await.unwrap() {
                    script(conn.client(), &event);
                    events.push(event);
                }
            } else {
                let stream = tokio::net::TcpStream::connect(dovecot.addr).await.unwrap();
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
            .expect("session in time");
        events
    })
}

#[test]
fn stls_login_uidl_top_retr_dele_quit_against_dovecot() {
    let Some(dovecot) = Dovecot::start("full") else {
        return;
    };
    let events = session(&dovecot, "secret", |client, event| {
        let now = Instant::now();
        if let Event::LoggedIn = event {
            client.uidl(now, None).unwrap();
            client.top(now, 2, 1).unwrap();
            client.retr(now, 2).unwrap();
            client.dele(now, 1).unwrap();
            client.quit(now).unwrap();
        }
    });
    assert!(events.contains(&Event::StartTls), "{events:?}");
    assert!(events.contains(&Event::LoggedIn));
    let uids: Vec<&UidListing<'_>> = events
        .iter()
        .filter_map(|e| match e {
            Event::Uid(listing) => Some(listing),
            _ => None,
        })
        .collect();
    assert_eq!(uids.len(), 2);
    assert!(Uid::new(uids[0].uid.as_str()).is_ok());
    // TOP 2 1, then RETR 2: the content, unstuffed.
    let mut bodies: Vec<Vec<u8>> = Vec::new();
    for event in &events {
        match event {
            Event::MessageStart { .. } => bodies.push(Vec::new()),
            Event::MessageChunk(chunk) => bodies.last_mut().unwrap().extend_from_slice(chunk),
            _ => {}
        }
    }
    assert_eq!(bodies[0], b"Subject: two\r\n\r\n.dot\r\n");
    assert_eq!(bodies[1], MESSAGES[1]);
    assert!(events.contains(&Event::Deleted { message: 1 }));
    assert_eq!(events.last(), Some(&Event::Closed(Ok(()))));
    assert_eq!(dovecot.messages_left(), 1);
}

#[test]
fn capabilities_after_stls_and_pipelining_against_dovecot() {
    let Some(dovecot) = Dovecot::start("capa") else {
        return;
    };
    let events = session(&dovecot, "secret", |client, event| {
        let now = Instant::now();
        if let Event::LoggedIn = event {
            assert!(client.capabilities().pipelining());
            client.stat(now).unwrap();
            client.list(now, None).unwrap();
            client.noop(now).unwrap();
            client.quit(now).unwrap();
        }
    });
    let capabilities: Vec<&Event> = events
        .iter()
        .filter(|e| matches!(e, Event::Capabilities(_)))
        .collect();
    assert_eq!(capabilities.len(), 2, "CAPA before and after STLS");
    let sizes = MESSAGES.iter().map(|m| m.len() as u64).sum();
    assert!(events.contains(&Event::Stat {
        count: 2,
        size: sizes
    }));
    assert!(events.contains(&Event::Done { command: "NOOP" }));
    assert_eq!(events.last(), Some(&Event::Closed(Ok(()))));
    assert_eq!(dovecot.messages_left(), 2);
}

#[test]
fn wrong_password_against_dovecot() {
    let Some(dovecot) = Dovecot::start("wrong") else {
        return;
    };
    let events = session(&dovecot, "not it", |_, _| {});
    match events.last() {
        Some(Event::Closed(Err(SessionError::AuthFailed(response)))) => {
            assert_eq!(response.code(), Some(&RespCode::Auth));
        }
        other => panic!("expected a failed login, got {other:?}"),
    }
}

#[test]
fn scram_sha256_over_implicit_tls_against_dovecot() {
    let Some(dovecot) = Dovecot::start("scram") else {
        return;
    };
    let credentials = Credentials::password("alice", Secret::new("secret".into()))
        .with_scram_nonce(mail_wire::sasl::Nonce::new("rOprNGfwEbeRWgbNEkqO").unwrap());
    let events = run(
        &dovecot,
        ClientConfig::pop3s(credentials),
        |client, event| {
            if let Event::LoggedIn = event {
                assert!(client.is_tls());
                client.uidl(Instant::now(), Some(1)).unwrap();
                client.quit(Instant::now()).unwrap();
            }
        },
    );
    // No STLS on an implicit-TLS connection; the SCRAM exchange verified Dovecot's signature.
    assert!(!events.contains(&Event::StartTls));
    assert!(events.contains(&Event::LoggedIn), "{events:?}");
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Uid(UidListing { message: 1, .. })))
    );
    let sent = SENT.with(|sent| sent.lock().unwrap().clone());
    let sent = String::from_utf8_lossy(&sent);
    assert!(sent.starts_with("CAPA\r\nAUTH SCRAM-SHA-256 "), "{sent}");
    assert_eq!(events.last(), Some(&Event::Closed(Ok(()))));
}
