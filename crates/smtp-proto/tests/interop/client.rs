//! Interop: our client, through the tokio driver (`smtp_proto::tokio::ClientConnection`),
//! against a server we did not write: Python's `aiosmtpd`, started by each test on 127.0.0.1
//! with an ephemeral port (`tests/support/aiosmtpd_server.py`). Each test checks what the
//! server stored, byte for byte: the envelope and the body after aiosmtpd's dot-unstuffing.
//!
//! Covered: a plain session with several recipients and several messages whose bodies have
//! leading dots; lock-step commands (aiosmtpd does not advertise PIPELINING) and pipelined
//! ones (PIPELINING added through aiosmtpd's EHLO hook); a refused recipient reported per
//! recipient, and a message whose recipients are all refused; STARTTLS required by the
//! server, and a certificate that does not verify; AUTH PLAIN and LOGIN after STARTTLS, a
//! wrong password, AUTH refused in plaintext unless allowed; implicit TLS; the SIZE limit,
//! checked before sending and enforced by the server.
//!
//! The Python interpreter is `$SANSMAIL_PYTHON`, else `python3`. Without `aiosmtpd` the
//! tests print why and pass, except under `CI=true`, where they fail (`.ci/run` installs it
//! into `.venv-ci`).

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use mail_tls::tokio::{HandshakeOptions, connect_implicit};
use mail_tls::{ClientTls, server_name};
use mail_wire::Secret;
use mail_wire::sasl::Mechanism;
use smtp_proto::client::{
    Client, ClientConfig, ClientError, Credentials, Envelope, EnvelopeError, Event, Rejection,
    SessionError, TlsPolicy,
};
use smtp_proto::tokio::{ClientConnection, Traffic};
use smtp_proto::{Capabilities, Domain, ForwardPath, Host, Mailbox, ReversePath};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use crate::TempDir;

/// Bounds every wait on the Python side (start-up, a whole session).
const LIMIT: Duration = Duration::from_secs(30);

const USER: &str = "alice";
const PASSWORD: &str = "correct horse battery staple";

fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// The Python interpreter with aiosmtpd, or `None` (after saying why) outside CI.
fn python() -> Option<PathBuf> {
    let python = std::env::var_os("SANSMAIL_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("python3"));
    let check = Command::new(&python)
        .args(["-c", "import aiosmtpd.smtp"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output();
    match check {
        Ok(output) if output.status.success() => Some(python),
        other => {
            let why = match other {
                Ok(output) => String::from_utf8_lossy(&output.stderr).trim().to_owned(),
                Err(error) => error.to_string(),
            };
            assert!(
                !ci(),
                "CI=true: `{} -c 'import aiosmtpd.smtp'` failed ({why}); `.ci/run` installs \
                 aiosmtpd into .venv-ci, or set SANSMAIL_PYTHON",
                python.display()
            );
            eprintln!(
                "SKIPPED: aiosmtpd is not importable by {} ({why}). Install it with \
                 `python3 -m venv /tmp/venv && /tmp/venv/bin/pip install aiosmtpd` and set \
                 SANSMAIL_PYTHON=/tmp/venv/bin/python. (These tests never skip with CI=true.)",
                python.display()
            );
            None
        }
    }
}

/// A message as aiosmtpd stored it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stored {
    from: String,
    to: Vec<String>,
    options: Vec<String>,
    tls: bool,
    login: Option<String>,
    body: Vec<u8>,
}

/// A running aiosmtpd; killed on drop.
struct Aiosmtpd {
    child: Child,
    /// Closing it tells the server to exit.
    stdin: Option<ChildStdin>,
    port: u16,
    stderr: Arc<Mutex<String>>,
    dir: TempDir,
}

impl Aiosmtpd {
    /// Starts the server with these options (see the script); `None` when skipped.
    fn start(tag: &str, options: &[&str]) -> Option<Self> {
        let python = python()?;
        Some(Self::start_with(&python, tag, options))
    }

    fn start_with(python: &Path, tag: &str, options: &[&str]) -> Self {
        let dir = TempDir::new(&format!("client-{tag}"));
        let outdir = dir.0.join("mail");
        std::fs::create_dir_all(&outdir).expect("create outdir");
        let mut args: Vec<String> = vec![
            script().to_str().expect("utf-8 path").to_owned(),
            "--outdir".into(),
            outdir.to_str().expect("utf-8 path").to_owned(),
        ];
        if options.contains(&"--tls") {
            let cert = mail_tls::dev_certs::generate(&["localhost", "127.0.0.1"])
                .expect("generate certificate")
                .write(&dir.0.join("cert.pem"), &dir.0.join("key.pem"))
                .expect("write certificate");
            args.extend([
                "--cert".into(),
                cert.cert.to_str().expect("utf-8 path").to_owned(),
                "--key".into(),
                cert.key.to_str().expect("utf-8 path").to_owned(),
            ]);
        }
        args.extend(options.iter().map(|o| o.to_string()));
        let mut child = Command::new(python)
            .arg("-u")
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", python.display()));
        let stdin = child.stdin.take();
        let stderr = Arc::new(Mutex::new(String::new()));
        let log = stderr.clone();
        let mut err_pipe = child.stderr.take().expect("stderr");
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = err_pipe.read_to_string(&mut text);
            if let Ok(mut log) = log.lock() {
                log.push_str(&text);
            }
        });
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let mut server = Aiosmtpd {
            child,
            stdin,
            port: 0,
            stderr,
            dir,
        };
        let line = rx.recv_timeout(LIMIT).unwrap_or_default();
        server.port = match line.trim().strip_prefix("PORT ").map(str::parse) {
            Some(Ok(port)) => port,
            _ => {
                let _ = server.child.kill();
                let _ = server.child.wait();
                std::thread::sleep(Duration::from_millis(200));
                panic!(
                    "aiosmtpd did not start (first line {line:?}); stderr:\n{}",
                    server.stderr()
                );
            }
        };
        server
    }

    fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn cert(&self) -> PathBuf {
        self.dir.0.join("cert.pem")
    }

    fn stderr(&self) -> String {
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// The messages stored so far, in order.
    fn stored(&self) -> Vec<Stored> {
        let outdir = self.dir.0.join("mail");
        let mut messages = Vec::new();
        for n in 1.. {
            let Ok(env) = std::fs::read_to_string(outdir.join(format!("{n}.env"))) else {
                break;
            };
            let body = std::fs::read(outdir.join(format!("{n}.body"))).expect("body file");
            let mut stored = Stored {
                from: String::new(),
                to: Vec::new(),
                options: Vec::new(),
                tls: false,
                login: None,
                body,
            };
            for line in env.lines() {
                let (key, value) = line.split_once(' ').unwrap_or((line, ""));
                match key {
                    "from" => stored.from = value.to_owned(),
                    "to" => stored.to.push(value.to_owned()),
                    "option" => stored.options.push(value.to_owned()),
                    "tls" => stored.tls = value == "1",
                    "login" => stored.login = Some(value.to_owned()),
                    _ => panic!("unexpected line in {n}.env: {line:?}"),
                }
            }
            messages.push(stored);
        }
        messages
    }
}

impl Drop for Aiosmtpd {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/aiosmtpd_server.py")
}

fn mailbox(address: &str) -> Mailbox<'static> {
    Mailbox::parse(address).expect("valid address").into_owned()
}

fn envelope(from: &str, to: &[&str]) -> Envelope {
    to.iter().fold(
        Envelope::new(ReversePath::Mailbox(mailbox(from))),
        |envelope, to| envelope.with_recipient(ForwardPath::Mailbox(mailbox(to))),
    )
}

fn hello() -> Host<'static> {
    Host::Domain(Domain::new("client.test").expect("domain"))
}

fn plain_config() -> ClientConfig {
    let mut config = ClientConfig::relay(hello());
    config.tls = TlsPolicy::Never;
    config
}

fn credentials(password: &str) -> Credentials {
    Credentials::password(USER, Secret::new(password.to_owned()))
}

/// A message to send: the envelope and the body, sent in pieces of `piece` octets through
/// `send_body` (or with `send_body_from` when `piece` is 0).
struct Message {
    envelope: Envelope,
    body: Vec<u8>,
    piece: usize,
}

impl Message {
    fn new(envelope: Envelope, body: &[u8]) -> Self {
        Message {
            envelope,
            body: body.to_vec(),
            piece: 0,
        }
    }
}

/// What happened to one message.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    /// Accepted with this reply code.
    Accepted(u16),
    /// Rejected.
    Rejected(Rejection),
    /// `send_message` refused the envelope.
    Refused(ClientError),
}

/// Everything a session reported.
#[derive(Debug)]
struct Session {
    greeting: bool,
    capabilities: Vec<Capabilities>,
    starttls: bool,
    authenticated: Option<Mechanism>,
    /// Per message, (recipient index, reply code).
    recipients: Vec<Vec<(usize, u16)>>,
    outcomes: Vec<Outcome>,
    closed: Option<Result<(), SessionError>>,
    /// The trace: pieces sent and received, in order.
    trace: Vec<(Traffic, Vec<u8>)>,
    tls_version: Option<String>,
}

impl Session {
    /// The pieces of output, as text.
    fn sent(&self) -> Vec<String> {
        self.trace
            .iter()
            .filter(|(t, _)| *t == Traffic::Sent)
            .map(|(_, b)| String::from_utf8_lossy(b).into_owned())
            .collect()
    }
}

/// Connects (with STARTTLS available when `tls` is given) and runs a session that sends
/// `messages` one after the other, then QUIT.
async fn run<S>(
    stream: S,
    config: ClientConfig,
    tls: Option<&Path>,
    messages: Vec<Message>,
) -> Session
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let trace = Arc::new(Mutex::new(Vec::new()));
    let log = trace.clone();
    let mut conn = ClientConnection::new(stream, Client::new(config, Instant::now())).with_trace(
        move |traffic, bytes| {
            if let Ok(mut log) = log.lock() {
                log.push((traffic, bytes.to_vec()));
            }
        },
    );
    if let Some(ca) = tls {
        let tls = ClientTls::custom_roots_from_pem_file(ca)
            .and_then(|c| c.build())
            .expect("client TLS config");
        conn = conn.with_starttls(
            tls,
            server_name("localhost").expect("name"),
            HandshakeOptions::new(Duration::from_secs(10)),
        );
    }
    let session = drive(&mut conn, messages);
    let mut session = tokio::time::timeout(LIMIT, session)
        .await
        .expect("the session did not finish in time");
    session.trace = trace.lock().map(|t| t.clone()).unwrap_or_default();
    session.tls_version = conn.tls_info().and_then(|i| i.protocol_version.clone());
    session
}

async fn drive<S>(conn: &mut ClientConnection<S>, messages: Vec<Message>) -> Session
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut session = Session {
        greeting: false,
        capabilities: Vec::new(),
        starttls: false,
        authenticated: None,
        recipients: Vec::new(),
        outcomes: Vec::new(),
        closed: None,
        trace: Vec::new(),
        tls_version: None,
    };
    let mut queue = messages.into_iter();
    let mut current: Option<Message> = None;
    loop {
        let event = match conn.next_event().await {
            Ok(Some(event)) => event,
            Ok(None) => break,
            Err(error) => panic!("driver error: {error}"),
        };
        match event {
            Event::Greeting(_) => session.greeting = true,
            Event::Capabilities(caps) => session.capabilities.push(caps),
            Event::StartTls => session.starttls = true,
            Event::Authenticated(mechanism) => session.authenticated = Some(mechanism),
            Event::Ready => loop {
                let Some(message) = queue.next() else {
                    conn.quit();
                    break;
                };
                session.recipients.push(Vec::new());
                match conn.send_message(message.envelope.clone()) {
                    Ok(()) => {
                        current = Some(message);
                        break;
                    }
                    Err(error) => session.outcomes.push(Outcome::Refused(error)),
                }
            },
            Event::Recipient { index, reply } => {
                if let Some(list) = session.recipients.last_mut() {
                    list.push((index, reply.code().get()));
                }
            }
            Event::BodyReady => {
                let message = current.as_ref().expect("a message is open");
                let sent = if message.piece == 0 {
                    conn.send_body_from(&message.body[..]).await
                } else {
                    let mut ok = true;
                    for piece in message.body.chunks(message.piece) {
                        ok = conn.send_body(piece).await.expect("send_body");
                        if !ok {
                            break;
                        }
                    }
                    if ok {
                        conn.finish_body().await
                    } else {
                        Ok(false)
                    }
                };
                sent.expect("body I/O");
            }
            Event::MessageAccepted(reply) => {
                session.outcomes.push(Outcome::Accepted(reply.code().get()));
            }
            Event::MessageRejected(rejection) => {
                session.outcomes.push(Outcome::Rejected(rejection));
            }
            Event::Closed(result) => session.closed = Some(result),
            _ => {}
        }
    }
    session
}

async fn connect(server: &Aiosmtpd) -> TcpStream {
    TcpStream::connect(server.addr()).await.expect("connect")
}

/// A body with lines starting with dots, a lone dot, a dot-CR-LF look-alike, an empty line,
/// a long line, and no trailing garbage.
fn dotted_body() -> Vec<u8> {
    let mut body =
        b"From: alice@client.test\r\nTo: bob@example.test\r\nSubject: dots\r\n\r\n".to_vec();
    body.extend_from_slice(b".leading dot\r\n..two dots\r\n.\r\n...\r\n\r\n . not leading\r\n");
    body.extend_from_slice(&[b'x'; 900]);
    body.extend_from_slice(b"\r\n.\r\nend\r\n");
    body
}

/// A large body (about 300 KB, several `send_body_from` pieces), dots at line starts.
fn large_body() -> Vec<u8> {
    let mut body = b"Subject: large\r\n\r\n".to_vec();
    for n in 0..6000 {
        body.extend_from_slice(format!(".{n:05} line of the large message body\r\n").as_bytes());
    }
    body
}

fn code(rejection: &Rejection) -> Option<u16> {
    rejection.reply().map(|r| r.code().get())
}

#[tokio::test]
async fn plain_session_several_recipients_and_messages() {
    let Some(server) = Aiosmtpd::start("plain", &[]) else {
        return;
    };
    let first = envelope(
        "alice@client.test",
        &[
            "bob@example.test",
            "carol@example.test",
            "dave@example.test",
        ],
    );
    let second = Envelope::new(ReversePath::Null)
        .with_recipient(ForwardPath::Mailbox(mailbox("erin@example.test")));
    let mut piecewise = Message::new(
        envelope("alice@client.test", &["frank@example.test"]),
        &dotted_body(),
    );
    // Pieces that split lines, and dots from their line starts.
    piecewise.piece = 7;
    let messages = vec![
        Message::new(first, &dotted_body()),
        Message::new(second, &large_body()),
        piecewise,
    ];
    let session = run(connect(&server).await, plain_config(), None, messages).await;
    assert!(session.greeting);
    assert_eq!(session.closed, Some(Ok(())), "{session:?}");
    assert_eq!(
        session.outcomes,
        [
            Outcome::Accepted(250),
            Outcome::Accepted(250),
            Outcome::Accepted(250)
        ]
    );
    assert_eq!(
        session.recipients,
        [
            vec![(0, 250), (1, 250), (2, 250)],
            vec![(0, 250)],
            vec![(0, 250)]
        ]
    );
    let stored = server.stored();
    assert_eq!(stored.len(), 3, "stderr:\n{}", server.stderr());
    assert_eq!(stored[0].from, "alice@client.test");
    assert_eq!(
        stored[0].to,
        [
            "bob@example.test",
            "carol@example.test",
            "dave@example.test"
        ]
    );
    assert_eq!(stored[0].body, dotted_body());
    assert_eq!(
        stored[1].from, "<>",
        "aiosmtpd keeps the null reverse path as `<>`"
    );
    assert_eq!(stored[1].to, ["erin@example.test"]);
    assert_eq!(stored[1].body, large_body());
    assert_eq!(stored[2].body, dotted_body());
    assert!(stored.iter().all(|s| !s.tls && s.login.is_none()));
}

#[tokio::test]
async fn lock_step_without_pipelining() {
    let Some(server) = Aiosmtpd::start("lockstep", &[]) else {
        return;
    };
    let message = Message::new(
        envelope(
            "alice@client.test",
            &["bob@example.test", "carol@example.test"],
        ),
        b"Subject: lock-step\r\n\r\nhello\r\n",
    );
    let session = run(connect(&server).await, plain_config(), None, vec![message]).await;
    // aiosmtpd 1.4 advertises SIZE (its default limit, 2**25), 8BITMIME and HELP, but neither
    // PIPELINING nor CHUNKING.
    let caps = &session.capabilities[0];
    assert!(!caps.pipelining && !caps.chunking, "{caps:?}");
    assert_eq!(caps.size, Some(Some(33_554_432)));
    assert!(caps.eight_bit_mime);
    assert_eq!(session.outcomes, [Outcome::Accepted(250)]);
    // One command per write, each after the previous reply.
    let sent = session.sent();
    let envelope_writes: Vec<&String> = sent
        .iter()
        .filter(|s| s.starts_with("MAIL") || s.starts_with("RCPT") || s.starts_with("DATA"))
        .collect();
    assert_eq!(
        envelope_writes,
        [
            "MAIL FROM:<alice@client.test>\r\n",
            "RCPT TO:<bob@example.test>\r\n",
            "RCPT TO:<carol@example.test>\r\n",
            "DATA\r\n",
        ]
    );
    assert_eq!(
        server.stored()[0].body,
        b"Subject: lock-step\r\n\r\nhello\r\n"
    );
}

#[tokio::test]
async fn pipelining_with_a_refused_recipient() {
    let Some(server) = Aiosmtpd::start(
        "pipelining",
        &["--pipelining", "--reject", "nobody@example.test"],
    ) else {
        return;
    };
    let messages = vec![
        Message::new(
            envelope(
                "alice@client.test",
                &[
                    "bob@example.test",
                    "nobody@example.test",
                    "carol@example.test",
                ],
            ),
            &dotted_body(),
        ),
        // Every recipient refused: the body is not sent, the session goes on.
        Message::new(
            envelope("alice@client.test", &["nobody@example.test"]),
            b"never sent\r\n",
        ),
        Message::new(
            envelope("alice@client.test", &["dave@example.test"]),
            b"Subject: after the refusal\r\n\r\n.ok\r\n",
        ),
    ];
    let session = run(connect(&server).await, plain_config(), None, messages).await;
    assert!(session.capabilities[0].pipelining);
    assert_eq!(session.closed, Some(Ok(())), "{session:?}");
    assert_eq!(
        session.recipients,
        [
            vec![(0, 250), (1, 550), (2, 250)],
            vec![(0, 550)],
            vec![(0, 250)]
        ]
    );
    assert_eq!(
        session.outcomes,
        [
            Outcome::Accepted(250),
            Outcome::Rejected(Rejection::NoRecipients),
            Outcome::Accepted(250),
        ]
    );
    // MAIL, the RCPTs and DATA went out as one group (RFC 2920).
    let sent = session.sent();
    assert!(
        sent.contains(
            &"MAIL FROM:<alice@client.test>\r\nRCPT TO:<bob@example.test>\r\n\
              RCPT TO:<nobody@example.test>\r\nRCPT TO:<carol@example.test>\r\nDATA\r\n"
                .to_owned()
        ),
        "{sent:#?}"
    );
    assert!(!sent.iter().any(|s| s.contains("never sent")));
    let stored = server.stored();
    assert_eq!(stored.len(), 2, "stderr:\n{}", server.stderr());
    assert_eq!(stored[0].to, ["bob@example.test", "carol@example.test"]);
    assert_eq!(stored[0].body, dotted_body());
    assert_eq!(stored[1].to, ["dave@example.test"]);
    assert_eq!(stored[1].body, b"Subject: after the refusal\r\n\r\n.ok\r\n");
}

#[tokio::test]
async fn refused_recipient_without_pipelining() {
    let Some(server) = Aiosmtpd::start("refused", &["--reject", "nobody@example.test"]) else {
        return;
    };
    let message = Message::new(
        envelope(
            "alice@client.test",
            &["nobody@example.test", "bob@example.test"],
        ),
        b"hello\r\n",
    );
    let session = run(connect(&server).await, plain_config(), None, vec![message]).await;
    assert_eq!(session.recipients, [vec![(0, 550), (1, 250)]]);
    assert_eq!(session.outcomes, [Outcome::Accepted(250)]);
    assert_eq!(server.stored()[0].to, ["bob@example.test"]);
}

#[tokio::test]
async fn starttls_required_by_the_server() {
    let Some(server) = Aiosmtpd::start("starttls", &["--tls", "starttls", "--require-starttls"])
    else {
        return;
    };
    let mut config = plain_config();
    config.tls = TlsPolicy::Required;
    let message = Message::new(
        envelope("alice@client.test", &["bob@example.test"]),
        &dotted_body(),
    );
    let cert = server.cert();
    let session = run(connect(&server).await, config, Some(&cert), vec![message]).await;
    assert!(session.starttls);
    assert!(session.tls_version.is_some());
    assert_eq!(session.closed, Some(Ok(())), "{session:?}");
    assert_eq!(session.outcomes, [Outcome::Accepted(250)]);
    // EHLO before and after the handshake; STARTTLS is only offered before.
    assert_eq!(session.capabilities.len(), 2);
    assert!(session.capabilities[0].starttls);
    assert!(!session.capabilities[1].starttls);
    let stored = server.stored();
    assert!(stored[0].tls);
    assert_eq!(stored[0].body, dotted_body());
    // Only EHLO and STARTTLS went out in plaintext.
    let sent = session.sent();
    assert_eq!(sent[..2], ["EHLO client.test\r\n", "STARTTLS\r\n"]);
}

#[tokio::test]
async fn plaintext_client_refused_by_require_starttls() {
    let Some(server) = Aiosmtpd::start("nostarttls", &["--tls", "starttls", "--require-starttls"])
    else {
        return;
    };
    let message = Message::new(
        envelope("alice@client.test", &["bob@example.test"]),
        b"x\r\n",
    );
    let session = run(connect(&server).await, plain_config(), None, vec![message]).await;
    // aiosmtpd answers every command but EHLO, NOOP, STARTTLS and QUIT with 530.
    match &session.outcomes[..] {
        [Outcome::Rejected(rejection @ Rejection::Sender(_))] => {
            assert_eq!(code(rejection), Some(530))
        }
        other => panic!("{other:?}"),
    }
    assert!(server.stored().is_empty());
}

#[tokio::test]
async fn starttls_with_an_untrusted_certificate_fails() {
    let Some(server) = Aiosmtpd::start("untrusted", &["--tls", "starttls"]) else {
        return;
    };
    let stream = connect(&server).await;
    let mut conn = ClientConnection::new(stream, Client::new(plain_config_tls(), Instant::now()))
        .with_starttls(
            ClientTls::webpki_roots().build().expect("config"),
            server_name("localhost").expect("name"),
            HandshakeOptions::new(Duration::from_secs(10)),
        );
    let mut error = None;
    let mut events = Vec::new();
    let result = tokio::time::timeout(LIMIT, async {
        loop {
            match conn.next_event().await {
                Ok(Some(event)) => events.push(event),
                Ok(None) => break,
                Err(e) => {
                    assert!(error.is_none(), "a second error: {e}");
                    error = Some(e);
                }
            }
        }
    })
    .await;
    assert!(result.is_ok(), "the session did not end");
    let error = error.expect("the handshake must fail");
    let tls = error
        .get_ref()
        .and_then(|e| e.downcast_ref::<mail_tls::TlsError>())
        .unwrap_or_else(|| panic!("not a TlsError: {error:?}"));
    assert!(tls.to_string().contains("certificate"), "{tls}");
    assert!(!events.contains(&Event::StartTls));
    assert!(
        matches!(events.last(), Some(Event::Closed(Err(_)))),
        "{events:?}"
    );
}

fn plain_config_tls() -> ClientConfig {
    let mut config = plain_config();
    config.tls = TlsPolicy::Required;
    config
}

async fn auth_session(mechanism: Mechanism, password: &str) -> Option<(Session, Vec<Stored>)> {
    let server = Aiosmtpd::start(
        "auth",
        &["--tls", "starttls", "--user", &format!("{USER}:{PASSWORD}")],
    )?;
    let mut config = ClientConfig::submission(hello(), credentials(password));
    config.auth_mechanisms = vec![mechanism];
    let message = Message::new(
        envelope("alice@client.test", &["bob@example.test"]),
        b"Subject: authenticated\r\n\r\nhi\r\n",
    );
    let cert = server.cert();
    let session = run(connect(&server).await, config, Some(&cert), vec![message]).await;
    Some((session, server.stored()))
}

#[tokio::test]
async fn auth_plain_after_starttls() {
    let Some((session, stored)) = auth_session(Mechanism::Plain, PASSWORD).await else {
        return;
    };
    assert_eq!(session.authenticated, Some(Mechanism::Plain));
    // aiosmtpd offers AUTH only inside TLS (auth_require_tls, its default).
    assert!(session.capabilities[0].auth.is_none());
    assert_eq!(
        session.capabilities[1]
            .auth
            .as_ref()
            .map(|a| a.iter().collect::<Vec<_>>()),
        Some(vec!["LOGIN", "PLAIN"])
    );
    assert_eq!(session.outcomes, [Outcome::Accepted(250)]);
    assert_eq!(stored[0].login.as_deref(), Some(USER));
    assert!(stored[0].tls);
}

#[tokio::test]
async fn auth_login_after_starttls() {
    let Some((session, stored)) = auth_session(Mechanism::Login, PASSWORD).await else {
        return;
    };
    assert_eq!(session.authenticated, Some(Mechanism::Login));
    assert_eq!(session.outcomes, [Outcome::Accepted(250)]);
    assert_eq!(stored[0].login.as_deref(), Some(USER));
}

#[tokio::test]
async fn auth_with_a_wrong_password() {
    let Some((session, stored)) = auth_session(Mechanism::Plain, "wrong").await else {
        return;
    };
    match &session.closed {
        Some(Err(SessionError::AuthFailed {
            mechanism, reply, ..
        })) => {
            assert_eq!(*mechanism, Mechanism::Plain);
            assert_eq!(reply.code().get(), 535);
        }
        other => panic!("{other:?}"),
    }
    assert!(session.outcomes.is_empty());
    assert!(stored.is_empty());
}

#[tokio::test]
async fn auth_in_plaintext_only_when_allowed() {
    let Some(server) = Aiosmtpd::start(
        "plainauth",
        &["--auth-plaintext", "--user", &format!("{USER}:{PASSWORD}")],
    ) else {
        return;
    };
    let message = || {
        Message::new(
            envelope("alice@client.test", &["bob@example.test"]),
            b"Subject: plaintext auth\r\n\r\nhi\r\n",
        )
    };
    // By default the client refuses to send a password without TLS (docs/design.md rule 3).
    let mut config = plain_config();
    config.credentials = Some(credentials(PASSWORD));
    let session = run(
        connect(&server).await,
        config.clone(),
        None,
        vec![message()],
    )
    .await;
    assert!(
        session.capabilities[0].auth.is_some(),
        "aiosmtpd offers AUTH"
    );
    assert_eq!(session.closed, Some(Err(SessionError::AuthRequiresTls)));
    assert!(!session.sent().iter().any(|s| s.starts_with("AUTH")));
    assert!(server.stored().is_empty());

    config.allow_plaintext_auth = true;
    let session = run(connect(&server).await, config, None, vec![message()]).await;
    assert!(session.authenticated.is_some());
    assert_eq!(session.outcomes, [Outcome::Accepted(250)]);
    assert_eq!(server.stored()[0].login.as_deref(), Some(USER));
}

#[tokio::test]
async fn implicit_tls() {
    let Some(server) = Aiosmtpd::start(
        "implicit",
        // aiosmtpd's auth_require_tls only counts STARTTLS, not implicit TLS.
        &[
            "--tls",
            "implicit",
            "--auth-plaintext",
            "--user",
            &format!("{USER}:{PASSWORD}"),
        ],
    ) else {
        return;
    };
    let tls = ClientTls::custom_roots_from_pem_file(server.cert())
        .and_then(|c| c.build())
        .expect("config");
    let stream = connect_implicit(
        tls,
        server_name("localhost").expect("name"),
        connect(&server).await,
        HandshakeOptions::new(Duration::from_secs(10)),
    )
    .await
    .expect("implicit TLS handshake");
    let config = ClientConfig::submissions(hello(), credentials(PASSWORD));
    let message = Message::new(
        envelope("alice@client.test", &["bob@example.test"]),
        &large_body(),
    );
    let session = run(stream, config, None, vec![message]).await;
    assert!(!session.starttls);
    assert_eq!(session.authenticated, Some(Mechanism::Plain), "{session:?}");
    assert_eq!(session.outcomes, [Outcome::Accepted(250)]);
    let stored = server.stored();
    assert!(stored[0].tls);
    assert_eq!(stored[0].body, large_body());
}

#[tokio::test]
async fn size_limit() {
    let Some(server) = Aiosmtpd::start("size", &["--size", "1000"]) else {
        return;
    };
    let big = vec![b'a'; 3000]
        .chunks(100)
        .flat_map(|line| [line, b"\r\n"].concat())
        .collect::<Vec<u8>>();
    let messages = vec![
        // Declared over the limit: refused before anything is sent (RFC 1870 section 6).
        Message::new(
            envelope("alice@client.test", &["bob@example.test"]).with_size(5000),
            &big,
        ),
        // Not declared: aiosmtpd reads the whole body, then answers 552.
        Message::new(envelope("alice@client.test", &["bob@example.test"]), &big),
        // Declared and within the limit: SIZE= goes out and the message is taken.
        Message::new(
            envelope("alice@client.test", &["carol@example.test"]).with_size(20),
            b"small\r\n",
        ),
    ];
    let session = run(connect(&server).await, plain_config(), None, messages).await;
    assert_eq!(session.capabilities[0].size, Some(Some(1000)));
    assert_eq!(session.closed, Some(Ok(())), "{session:?}");
    match &session.outcomes[..] {
        [
            Outcome::Refused(ClientError::Envelope(EnvelopeError::TooLarge {
                size: 5000,
                limit: 1000,
            })),
            Outcome::Rejected(rejection @ Rejection::Message(_)),
            Outcome::Accepted(250),
        ] => assert_eq!(code(rejection), Some(552)),
        other => panic!("{other:?}"),
    }
    assert!(!session.sent().iter().any(|s| s.contains("SIZE=5000")));
    let stored = server.stored();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].to, ["carol@example.test"]);
    assert_eq!(stored[0].options, ["SIZE=20"]);
    assert_eq!(stored[0].body, b"small\r\n");
}
