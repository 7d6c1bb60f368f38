//! Interop: our server, through the tokio driver, against clients we did not write: Python's
//! `smtplib` (plain, STARTTLS, SMTP_SSL, AUTH PLAIN and LOGIN, a wrong password, AUTH refused
//! before TLS, a 20 MB message, a pipelined raw-socket session) and `curl` (`smtp://` with
//! `--ssl-reqd`, `smtps://`). Each test checks what the server received, byte for byte.
//!
//! The server runs on 127.0.0.1 with ephemeral ports in a thread of its own; every client
//! process is bounded by a timeout. These tests never skip: python3 and curl are part of the
//! machine CI runs on.

use std::net::SocketAddr;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use mail_testkit::users::Users;
use mail_tls::tokio::{HandshakeOptions, accept_implicit};
use mail_tls::{ServerTls, Service};
use mail_wire::sasl::Nonce;
use smtp_proto::server::{Event, Server, ServerConfig};
use smtp_proto::tokio::ServerConnection;
use smtp_proto::{Domain, ForwardPath, Reply, ReplyCode, ReversePath};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;

use crate::TempDir;

const USER: &str = "alice@example.org";
const PASSWORD: &str = "correct horse battery staple";
const LIMIT: Duration = Duration::from_secs(60);

/// One message as the server received it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Received {
    from: String,
    to: Vec<String>,
    body: Vec<u8>,
    tls: bool,
    user: Option<String>,
}

/// The running test server: three listeners sharing one mailbox.
struct Harness {
    /// Relay: STARTTLS offered, no AUTH.
    relay: SocketAddr,
    /// Submission: STARTTLS and AUTH required.
    submission: SocketAddr,
    /// Submissions: implicit TLS, AUTH required.
    submissions: SocketAddr,
    mailbox: Arc<Mutex<Vec<Received>>>,
    _dir: TempDir,
}

fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(start)
}

fn start() -> Harness {
    let dir = TempDir::new("server");
    let cert = mail_tls::dev_certs::generate(&["localhost"]).unwrap();
    let files = cert
        .write(&dir.0.join("cert.pem"), &dir.0.join("key.pem"))
        .unwrap();
    let (tls, _resolver) = ServerTls::new(Service::Submission)
        .build_from_pem_files(&files.cert, &files.key)
        .unwrap();
    let mailbox = Arc::new(Mutex::new(Vec::new()));
    let (tx, rx) = std::sync::mpsc::channel();
    let boxes = mailbox.clone();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let relay = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let submission = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let submissions = TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send((
                relay.local_addr().unwrap(),
                submission.local_addr().unwrap(),
                submissions.local_addr().unwrap(),
            ))
            .unwrap();
            let options = HandshakeOptions::new(Duration::from_secs(10));
            let hostname = Domain::new("mx.test.example").unwrap();
            let mut relay_config = ServerConfig::relay(hostname.clone());
            relay_config.max_message_size = 30_000_000;
            let listeners = [
                (relay, relay_config, false),
                (
                    submission,
                    ServerConfig::submission(hostname.clone()),
                    false,
                ),
                (submissions, ServerConfig::submissions(hostname), true),
            ];
            for (listener, config, implicit) in listeners {
                let (tls, boxes) = (tls.clone(), boxes.clone());
                tokio::spawn(async move {
                    loop {
                        let Ok((stream, _)) = listener.accept().await else {
                            continue;
                        };
                        let (tls, boxes, config) = (tls.clone(), boxes.clone(), config.clone());
                        tokio::spawn(async move {
                            let server = Server::new(config, std::time::Instant::now());
                            if implicit {
                                let Ok(stream) = accept_implicit(tls, stream, options).await else {
                                    return;
                                };
                                let _ = session(ServerConnection::new(stream, server), boxes).await;
                            } else {
                                let conn = ServerConnection::new(stream, server)
                                    .with_starttls(tls, options);
                                let _ = session(conn, boxes).await;
                            }
                        });
                    }
                });
            }
            std::future::pending::<()>().await;
        });
    });
    let (relay, submission, submissions) = rx.recv_timeout(LIMIT).unwrap();
    Harness {
        relay,
        submission,
        submissions,
        mailbox,
        _dir: dir,
    }
}

fn nonce() -> Nonce {
    static N: AtomicU64 = AtomicU64::new(0);
    // Tests only: a real server draws nonces from a CSPRNG.
    Nonce::new(format!(
        "interop-test-nonce-{:016}",
        N.fetch_add(1, Ordering::Relaxed)
    ))
    .unwrap()
}

async fn session<S: AsyncRead + AsyncWrite + Unpin>(
    mut conn: ServerConnection<S>,
    mailbox: Arc<Mutex<Vec<Received>>>,
) -> std::io::Result<()> {
    let mut current: Option<Received> = None;
    while let Some(event) = conn.next_event().await? {
        let server = conn.server();
        let result = match event {
            Event::Mail { from, .. } => {
                current = Some(Received {
                    from: match from {
                        ReversePath::Null => String::new(),
                        ReversePath::Mailbox(m) => m.to_string(),
                    },
                    to: Vec::new(),
                    body: Vec::new(),
                    tls: server.is_tls(),
                    user: server.authenticated().map(|a| a.identity().to_owned()),
                });
                server.accept()
            }
            Event::Rcpt { to, .. } => {
                let to = match to {
                    ForwardPath::Postmaster => "postmaster".to_owned(),
                    ForwardPath::Mailbox(m) => m.to_string(),
                };
                if to.starts_with("nobody@") {
                    let code = ReplyCode::new(550).unwrap();
                    server.reject(Reply::text(code, None, "No such user").unwrap())
                } else {
                    if let Some(m) = &mut current {
                        m.to.push(to);
                    }
                    server.accept()
                }
            }
            Event::BodyChunk(chunk) => {
                if let Some(m) = &mut current {
                    m.body.extend_from_slice(&chunk);
                }
                Ok(())
            }
            Event::BodyAborted(_) => {
                current = None;
                Ok(())
            }
            Event::BodyEnd { .. } => {
                if let Some(m) = current.take() {
                    mailbox.lock().unwrap().push(m);
                }
                server.accept()
            }
            Event::AuthStep { .. } => {
                server.auth_step(&Users::new().with_plain_password(USER, PASSWORD), nonce())
            }
            Event::Hello { .. } => server.accept(),
            _ => Ok(()),
        };
        result.map_err(std::io::Error::other)?;
    }
    Ok(())
}

/// Runs `python3 -c script args...` with a time limit and returns its output.
fn python(script: &str, args: &[&str]) -> Output {
    run(Command::new("python3").arg("-c").arg(script).args(args))
}

fn run(command: &mut Command) -> Output {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the client program runs");
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if start.elapsed() > LIMIT {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "client timed out; stderr: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "client failed: {}\nstdout: {}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Waits until the mailbox holds a message for `rcpt` and takes it out.
fn take_message(rcpt: &str) -> Received {
    let start = Instant::now();
    loop {
        {
            let mut boxes = harness().mailbox.lock().unwrap();
            if let Some(i) = boxes.iter().position(|m| m.to.iter().any(|t| t == rcpt)) {
                return boxes.remove(i);
            }
        }
        assert!(start.elapsed() < LIMIT, "no message for {rcpt}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

const SMTPLIB_SEND: &str = r#"
import smtplib, ssl, sys
mode, port, rcpt, auth = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
body = sys.argv[5].encode()
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
if mode == "ssl":
    s = smtplib.SMTP_SSL("127.0.0.1", port, context=ctx, timeout=30)
else:
    s = smtplib.SMTP("127.0.0.1", port, timeout=30)
s.ehlo("client.test")
if mode == "starttls":
    code, _ = s.starttls(context=ctx)
    assert code == 220, code
    s.ehlo("client.test")
if auth == "plain":
    s.login("alice@example.org", "correct horse battery staple")
elif auth == "login":
    s.user, s.password = "alice@example.org", "correct horse battery staple"
    code, text = s.auth("LOGIN", s.auth_login, initial_response_ok=False)
    assert code == 235, (code, text)
refused = s.sendmail("alice@example.org", [rcpt, "nobody@example.org"] if "refuse" in sys.argv else [rcpt], body)
print("REFUSED", sorted(refused))
s.quit()
print("OK")
"#;

#[test]
fn smtplib_plain_relay_unstuffs_dots_and_reports_refused_recipients() {
    let port = harness().relay.port().to_string();
    let body = "Subject: dots\r\n\r\n.leading dot\r\n..two dots\r\nend\r\n";
    let out = python(
        SMTPLIB_SEND,
        &["plain", &port, "bob@example.org", "none", body, "refuse"],
    );
    let stdout = ok(&out);
    assert!(
        stdout.contains("REFUSED ['nobody@example.org']"),
        "{stdout}"
    );
    let m = take_message("bob@example.org");
    assert_eq!(m.from, USER);
    assert_eq!(m.to, ["bob@example.org"]);
    assert_eq!(m.body, body.as_bytes());
    assert!(!m.tls);
}

#[test]
fn smtplib_starttls_then_auth_plain_on_submission() {
    let port = harness().submission.port().to_string();
    let body = "Subject: starttls\r\n\r\nhello over STARTTLS\r\n";
    ok(&python(
        SMTPLIB_SEND,
        &["starttls", &port, "carol@example.org", "plain", body],
    ));
    let m = take_message("carol@example.org");
    assert!(m.tls);
    assert_eq!(m.user.as_deref(), Some(USER));
    assert_eq!(m.body, body.as_bytes());
}

#[test]
fn smtplib_smtp_ssl_with_auth_login_on_submissions() {
    let port = harness().submissions.port().to_string();
    let body = "Subject: implicit\r\n\r\nhello over implicit TLS\r\n";
    ok(&python(
        SMTPLIB_SEND,
        &["ssl", &port, "dave@example.org", "login", body],
    ));
    let m = take_message("dave@example.org");
    assert!(m.tls);
    assert_eq!(m.user.as_deref(), Some(USER));
    assert_eq!(m.body, body.as_bytes());
}

const SMTPLIB_BAD_AUTH: &str = r#"
import smtplib, ssl, sys
mode, port = sys.argv[1], int(sys.argv[2])
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
s = smtplib.SMTP("127.0.0.1", port, timeout=30)
s.ehlo("client.test")
if mode == "wrong-password":
    s.starttls(context=ctx)
    s.ehlo("client.test")
    try:
        s.login("alice@example.org", "wrong")
    except smtplib.SMTPAuthenticationError as e:
        print("AUTH-FAILED", e.smtp_code, e.smtp_error.decode())
    code, text = s.mail("alice@example.org")
    print("MAIL", code, text.decode())
elif mode == "before-tls":
    print("ADVERTISED", s.has_extn("auth"))
    code, text = s.docmd("AUTH", "PLAIN AGFsaWNlQGV4YW1wbGUub3JnAHdyb25n")
    print("AUTH", code, text.decode())
    code, text = s.mail("alice@example.org")
    print("MAIL", code, text.decode())
s.quit()
"#;

#[test]
fn smtplib_wrong_password_is_535_and_mail_stays_refused() {
    let port = harness().submission.port().to_string();
    let stdout = ok(&python(SMTPLIB_BAD_AUTH, &["wrong-password", &port]));
    assert!(
        stdout.contains("AUTH-FAILED 535 5.7.8 Authentication credentials invalid"),
        "{stdout}"
    );
    assert!(
        stdout.contains("MAIL 530 5.7.0 Authentication required"),
        "{stdout}"
    );
}

#[test]
fn smtplib_auth_is_neither_offered_nor_accepted_before_tls() {
    let port = harness().submission.port().to_string();
    let stdout = ok(&python(SMTPLIB_BAD_AUTH, &["before-tls", &port]));
    assert!(stdout.contains("ADVERTISED False"), "{stdout}");
    assert!(
        stdout.contains("AUTH 530 5.7.0 Must issue a STARTTLS command first"),
        "{stdout}"
    );
    assert!(
        stdout.contains("MAIL 530 5.7.0 Must issue a STARTTLS command first"),
        "{stdout}"
    );
}

const SMTPLIB_BIG: &str = r#"
import smtplib, sys, hashlib
port, size = int(sys.argv[1]), int(sys.argv[2])
line = b"." + b"x" * 76 + b"\r\n"
body = b"Subject: big\r\n\r\n" + line * (size // len(line))
s = smtplib.SMTP("127.0.0.1", port, timeout=60)
s.sendmail("alice@example.org", ["big@example.org"], body)
s.quit()
print(hashlib.sha256(body).hexdigest(), len(body))
"#;

#[test]
fn smtplib_20_megabyte_message_arrives_whole() {
    let port = harness().relay.port().to_string();
    let stdout = ok(&python(SMTPLIB_BIG, &[&port, "20000000"]));
    let m = take_message("big@example.org");
    let len: usize = stdout.split_whitespace().nth(1).unwrap().parse().unwrap();
    assert_eq!(m.body.len(), len);
    assert!(len > 19_900_000);
    // Every line started with a dot, stuffed by smtplib and unstuffed by us.
    let line = [b".".as_slice(), &[b'x'; 76], b"\r\n"].concat();
    assert!(m.body.ends_with(&line));
    assert!(
        m.body[16..]
            .chunks(line.len())
            .all(|c| c == line.as_slice())
    );
}

const RAW_PIPELINED: &str = r#"
import socket, sys
port = int(sys.argv[1])
s = socket.create_connection(("127.0.0.1", port), timeout=30)
f = s.makefile("rb")
def reply():
    lines = []
    while True:
        line = f.readline().decode()
        lines.append(line.rstrip("\r\n"))
        if line[3] == " ":
            return lines
print(reply())
s.sendall(b"EHLO pipe.test\r\n")
ehlo = reply()
assert any(l[4:] == "PIPELINING" for l in ehlo), ehlo
# RFC 2920 section 3.1: one group, MAIL through DATA, in a single write.
s.sendall(b"MAIL FROM:<alice@example.org>\r\nRCPT TO:<p1@example.org>\r\n"
          b"RCPT TO:<nobody@example.org>\r\nRCPT TO:<p2@example.org>\r\nDATA\r\n")
for _ in range(5):
    print(reply()[-1])
s.sendall(b"Subject: pipelined\r\n\r\nbody\r\n.\r\nQUIT\r\n")
print(reply()[-1])
print(reply()[-1])
"#;

#[test]
fn pipelined_group_gets_replies_in_order() {
    let port = harness().relay.port().to_string();
    let stdout = ok(&python(RAW_PIPELINED, &[&port]));
    let lines: Vec<&str> = stdout.lines().skip(1).collect();
    assert_eq!(
        lines,
        [
            "250 2.1.0 Sender ok",
            "250 2.1.5 Recipient ok",
            "550 No such user",
            "250 2.1.5 Recipient ok",
            "354 End data with <CR><LF>.<CR><LF>",
            "250 2.0.0 Message accepted",
            "221 2.0.0 Bye",
        ]
    );
    let m = take_message("p1@example.org");
    assert_eq!(m.to, ["p1@example.org", "p2@example.org"]);
    assert_eq!(m.body, b"Subject: pipelined\r\n\r\nbody\r\n");
}

fn curl(args: &[&str], body: &str) -> Output {
    static N: AtomicU64 = AtomicU64::new(0);
    let path = std::env::temp_dir().join(format!(
        "smtp-interop-{}-{}.eml",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&path, body).unwrap();
    let out = run(Command::new("curl")
        .args(["--silent", "--show-error", "--max-time", "30", "-k"])
        .args(args)
        .arg("--upload-file")
        .arg(&path));
    let _ = std::fs::remove_file(path);
    out
}

#[test]
fn curl_smtp_with_ssl_reqd_upgrades_and_authenticates() {
    let port = harness().submission.port();
    let body = "Subject: curl starttls\r\n\r\n.dot line\r\nhello from curl\r\n";
    let url = format!("smtp://127.0.0.1:{port}");
    let out = curl(
        &[
            &url,
            "--ssl-reqd",
            "--user",
            &format!("{USER}:{PASSWORD}"),
            "--mail-from",
            USER,
            "--mail-rcpt",
            "erin@example.org",
        ],
        body,
    );
    ok(&out);
    let m = take_message("erin@example.org");
    assert!(m.tls);
    assert_eq!(m.user.as_deref(), Some(USER));
    assert_eq!(m.body, body.as_bytes());
}

#[test]
fn curl_smtps_implicit_tls() {
    let port = harness().submissions.port();
    let body = "Subject: curl smtps\r\n\r\nhello from curl over implicit TLS\r\n";
    let url = format!("smtps://127.0.0.1:{port}");
    let out = curl(
        &[
            &url,
            "--user",
            &format!("{USER}:{PASSWORD}"),
            "--mail-from",
            USER,
            "--mail-rcpt",
            "frank@example.org",
        ],
        body,
    );
    ok(&out);
    let m = take_message("frank@example.org");
    assert!(m.tls);
    assert_eq!(m.body, body.as_bytes());
}
