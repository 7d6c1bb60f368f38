//! `smtp-load`: a bounded SMTP load generator. N concurrent connections each send M messages of
//! S bytes (pipelined when the server offers PIPELINING, optionally over STARTTLS and with
//! AUTH), then it prints messages per second, bytes per second and the latency percentiles of
//! the messages (from MAIL FROM to the final reply). `--idle N` instead opens N connections,
//! completes EHLO on each, holds them open and quits, to measure a server's memory per idle
//! connection.
//!
//! ```text
//! cargo run --release --example smtp-load -- --server 127.0.0.1:2525 --connections 50 \
//!     --messages 200 --size 4K --to alice@localhost
//! cargo run --release --example smtp-load -- --idle 1000 --hold 10 --server-pid "$PID"
//! ```
//!
//! Each connection is one `smtp_proto::client::Client` state machine on a tokio `TcpStream`,
//! driven by smtp-proto's `ClientConnection` (which also does the STARTTLS upgrade). The run
//! always ends: every connection has a fixed amount of work and every reply a deadline.

use std::io;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use mail_tls::ClientTls;
use mail_tls::rustls::pki_types::ServerName;
use mail_tls::tokio::HandshakeOptions;
use mail_wire::Secret;
use smtp_proto::client::{Client, ClientConfig, Credentials, Envelope, Event, TlsPolicy};
use smtp_proto::tokio::ClientConnection;
use smtp_proto::{Domain, ForwardPath, Host, Mailbox, ReversePath};

#[path = "common/mod.rs"]
mod common;

use common::{Idle, IdleSessions, count, print_latencies, read_password_file};

const USAGE: &str = "\
smtp-load: a bounded SMTP load generator (sansmail example).

USAGE:
    cargo run --release --example smtp-load -- [OPTIONS]

Values go after the flag (--size 4K) or after '=' (--size=4K).

TARGET:
    --server HOST:PORT       The SMTP server [default: 127.0.0.1:2525]
    --tls none|starttls      STARTTLS (certificate not verified: a load tool, not a mail
                             client) or plaintext [default: none]
    --user ADDR              AUTH as ADDR (needs --password-file or --password; AUTH only
                             over TLS unless --tls none, then the server must allow
                             plaintext AUTH)
    --password-file FILE     The password for --user: the first line of FILE, kept off the
                             command line
    --password PASSWORD      The password for --user, on the command line, where other
                             users of the machine can read it (ps, /proc)
    --hello NAME             The EHLO name [default: localhost]

LOAD (default mode):
    --connections N          Concurrent connections [default: 1]
    --messages M             Messages per connection [default: 100]
    --size SIZE              Size of each message in bytes, headers included; K or M
                             suffix for powers of 1024 [default: 4K]
    --from ADDR              MAIL FROM [default: the --user, else load@example.org]
    --to ADDR                RCPT TO [default: demo@localhost]
    --bdat                   Send bodies with BDAT when the server offers CHUNKING
                             [default: DATA, as Postfix's smtp-source does]
    --no-pipelining          Do not use PIPELINING even when offered

IDLE (memory per connection):
    --idle N                 Open N connections, complete EHLO (and STARTTLS, AUTH) on each,
                             hold them for --hold seconds, then QUIT
    --hold SECS              How long to hold idle connections [default: 10]
    --server-pid PID         Report the server's resident memory (Linux /proc) before and
                             while the connections are held

OTHER:
    --timeout SECS           Deadline for each reply and for connecting [default: 60]
    --concurrent-connects N  Connection attempts in flight at once in --idle mode
                             [default: 100]
    -h, --help               Print this text
";

/// Bytes handed to the state machine per `send_body` call.
const BODY_CHUNK: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tls {
    None,
    StartTls,
}

#[derive(Debug, Clone)]
struct Options {
    server: String,
    tls: Tls,
    user: Option<String>,
    password: Option<Secret<String>>,
    hello: String,
    connections: usize,
    messages: usize,
    size: usize,
    from: Option<String>,
    to: String,
    bdat: bool,
    pipelining: bool,
    idle: Option<usize>,
    hold: Duration,
    server_pid: Option<u32>,
    timeout: Duration,
    concurrent_connects: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            server: "127.0.0.1:2525".into(),
            tls: Tls::None,
            user: None,
            password: None,
            hello: "localhost".into(),
            connections: 1,
            messages: 100,
            size: 4096,
            from: None,
            to: "demo@localhost".into(),
            bdat: false,
            pipelining: true,
            idle: None,
            hold: Duration::from_secs(10),
            server_pid: None,
            timeout: Duration::from_secs(60),
            concurrent_connects: 100,
        }
    }
}

/// What the command line asks for.
type Parsed = common::Parsed<Options>;

fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Parsed, String> {
    let args: Vec<String> = args.into_iter().collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        return Ok(Parsed::Help);
    }
    let mut o = Options::default();
    // Which of --password and --password-file were given: they exclude each other.
    let mut password_flags = 0;
    let mut it = args.into_iter();
    while let Some(arg) = it.next() {
        let (flag, inline) = common::split_flag(&arg);
        let switch = |o: &mut Options| -> Result<bool, String> {
            match flag.as_str() {
                "--bdat" => o.bdat = true,
                "--no-pipelining" => o.pipelining = false,
                _ => return Ok(false),
            }
            if inline.is_some() {
                return Err(format!("{flag} takes no value"));
            }
            Ok(true)
        };
        if switch(&mut o)? {
            continue;
        }
        let mut value = || common::flag_value(&flag, inline.as_deref(), &mut it);
        match flag.as_str() {
            "--server" => o.server = value()?,
            "--tls" => {
                o.tls = match value()?.as_str() {
                    "none" => Tls::None,
                    "starttls" => Tls::StartTls,
                    other => return Err(format!("--tls {other}: expected none or starttls")),
                }
            }
            "--user" => o.user = Some(value()?),
            "--password" | "--password-file" => {
                password_flags += 1;
                if password_flags > 1 {
                    return Err("give one --password or --password-file".into());
                }
                o.password = Some(match flag.as_str() {
                    "--password" => Secret::new(value()?),
                    _ => read_password_file(Path::new(&value()?))?,
                });
            }
            "--hello" => o.hello = value()?,
            "--connections" => o.connections = count(&flag, &value()?)?,
            "--messages" => o.messages = count(&flag, &value()?)?,
            "--size" => o.size = size(&flag, &value()?)?,
            "--from" => o.from = Some(value()?),
            "--to" => o.to = value()?,
            "--idle" => o.idle = Some(count(&flag, &value()?)?),
            "--hold" => o.hold = Duration::from_secs(count(&flag, &value()?)? as u64),
            "--server-pid" => {
                let v = value()?;
                o.server_pid = Some(
                    v.parse()
                        .map_err(|_| format!("--server-pid {v}: expected a process id"))?,
                );
            }
            "--timeout" => o.timeout = Duration::from_secs(count(&flag, &value()?)? as u64),
            "--concurrent-connects" => o.concurrent_connects = count(&flag, &value()?)?,
            // Only a flag is repeated: a stray word may be a password that lost its flag.
            _ if flag.starts_with('-') => return Err(format!("unknown option {flag}")),
            _ => {
                return Err(
                    "unexpected argument that is no option (not repeated: it may be a password)"
                        .into(),
                );
            }
        }
    }
    if o.user.is_some() != o.password.is_some() {
        return Err("--user and --password (or --password-file) go together".into());
    }
    Ok(Parsed::Run(Box::new(o)))
}

fn size(flag: &str, value: &str) -> Result<usize, String> {
    let digits = value.len() - value.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let (number, suffix) = value.split_at(digits);
    let shift = match suffix.to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "K" | "KB" | "KIB" => 10,
        "M" | "MB" | "MIB" => 20,
        _ => {
            return Err(format!(
                "{flag} {value}: expected bytes with an optional K or M"
            ));
        }
    };
    number
        .parse::<usize>()
        .ok()
        .filter(|n| *n > 0)
        .and_then(|n| n.checked_mul(1 << shift))
        .ok_or_else(|| format!("{flag} {value}: expected a size greater than 0"))
}

/// Everything a connection needs, validated once.
struct Plan {
    options: Options,
    hello: Host<'static>,
    from: ReversePath<'static>,
    to: ForwardPath<'static>,
    tls: Option<Arc<mail_tls::rustls::ClientConfig>>,
    server_name: ServerName<'static>,
    /// The message body after the per-message headers, sized so the whole is `--size`.
    filler: Vec<u8>,
}

impl Plan {
    fn new(options: Options) -> Result<Plan, String> {
        let hello = Host::Domain(
            Domain::new(options.hello.clone())
                .map_err(|e| format!("--hello {}: {e}", options.hello))?
                .into_owned(),
        );
        let from_text = options
            .from
            .clone()
            .or_else(|| options.user.clone())
            .unwrap_or_else(|| "load@example.org".into());
        let from = ReversePath::Mailbox(
            Mailbox::parse(&from_text)
                .map_err(|e| format!("--from {from_text}: {e}"))?
                .into_owned(),
        );
        let to = ForwardPath::Mailbox(
            Mailbox::parse(&options.to)
                .map_err(|e| format!("--to {}: {e}", options.to))?
                .into_owned(),
        );
        let tls = match options.tls {
            Tls::None => None,
            Tls::StartTls => Some(
                ClientTls::opportunistic_accept_any_certificate()
                    .build()
                    .map_err(|e| format!("TLS configuration: {e}"))?,
            ),
        };
        let host = options
            .server
            .rsplit_once(':')
            .map_or(options.server.as_str(), |(h, _)| h)
            .trim_matches(|c| c == '[' || c == ']');
        let server_name = ServerName::try_from(host.to_owned())
            .map_err(|e| format!("--server {}: {e}", options.server))?;
        let header_room = headers(&from_text, &options.to, usize::MAX, usize::MAX).len();
        let filler = filler(options.size.saturating_sub(header_room));
        Ok(Plan {
            hello,
            from,
            to,
            tls,
            server_name,
            filler,
            options,
        })
    }

    fn client_config(&self) -> ClientConfig {
        let mut config = ClientConfig::relay(self.hello.clone());
        config.tls = match self.options.tls {
            Tls::None => TlsPolicy::Never,
            Tls::StartTls => TlsPolicy::Required,
        };
        if let (Some(user), Some(password)) = (&self.options.user, &self.options.password) {
            config.credentials = Some(Credentials::password(user.clone(), password.clone()));
            config.allow_plaintext_auth = self.options.tls == Tls::None;
        }
        config.chunking = self.options.bdat;
        config.pipelining = self.options.pipelining;
        let t = self.options.timeout;
        let timeouts = &mut config.timeouts;
        timeouts.greeting = t;
        timeouts.mail = t;
        timeouts.rcpt = t;
        timeouts.data_initiation = t;
        timeouts.data_block = t;
        timeouts.data_termination = t;
        timeouts.command = t;
        config
    }

    /// Message `n` of connection `c`: a few headers, then the filler. Always the same length.
    fn message_headers(&self, c: usize, n: usize) -> Vec<u8> {
        let from = self.options.from.as_deref();
        let from = from
            .or(self.options.user.as_deref())
            .unwrap_or("load@example.org");
        headers(from, &self.options.to, c, n)
    }
}

/// The per-message headers; the numbers are zero-padded so every message has the same size.
fn headers(from: &str, to: &str, c: usize, n: usize) -> Vec<u8> {
    let c = c % 1_000_000;
    let n = n % 1_000_000_000;
    format!(
        "From: <{from}>\r\nTo: <{to}>\r\nSubject: smtp-load {c:06}-{n:09}\r\n\
         Message-ID: <{c:06}-{n:09}@smtp-load>\r\n\r\n"
    )
    .into_bytes()
}

/// `len` bytes of 78-character lines ending in CRLF (the last line may be shorter).
fn filler(len: usize) -> Vec<u8> {
    const LINE: &[u8] =
        b"The quick brown fox jumps over the lazy dog. 0123456789 abcdefghijklmnopqrst\r\n";
    let mut out = Vec::with_capacity(len);
    while out.len() + LINE.len() <= len {
        out.extend_from_slice(LINE);
    }
    let rest = len - out.len();
    if rest >= 2 {
        out.extend(std::iter::repeat_n(b'x', rest - 2));
        out.extend_from_slice(b"\r\n");
    } else if rest == 1 {
        // One byte cannot be a line; pad the last line instead.
        match out.len().checked_sub(2) {
            Some(at) => out.insert(at, b'x'),
            // The end of data adds the CRLF.
            None => out.push(b'x'),
        }
    }
    out
}

/// What one connection achieved.
#[derive(Debug, Default)]
struct ConnStats {
    accepted: usize,
    rejected: usize,
    /// Latency of each accepted message.
    latencies: Vec<Duration>,
    bytes: u64,
    error: Option<String>,
    first_rejection: Option<String>,
}

/// One session: connect, run the `Client` to the end. In load mode it sends `messages`
/// messages; in idle mode it reports readiness, waits for the release, then quits.
async fn session(plan: Arc<Plan>, index: usize, idle: Option<Idle>) -> ConnStats {
    let mut stats = ConnStats::default();
    if let Err(e) = drive(&plan, index, idle, &mut stats).await {
        stats.error = Some(e);
    }
    stats
}

async fn drive(
    plan: &Plan,
    index: usize,
    mut idle: Option<Idle>,
    stats: &mut ConnStats,
) -> Result<(), String> {
    let timeout = plan.options.timeout;
    let (mut permit, tcp) =
        common::connect_tcp(&plan.options.server, timeout, idle.as_ref()).await?;
    let mut conn = ClientConnection::new(tcp, Client::new(plan.client_config(), Instant::now()));
    if let Some(config) = &plan.tls {
        conn = conn.with_starttls(
            config.clone(),
            plan.server_name.clone(),
            HandshakeOptions::new(timeout),
        );
    }
    let mut sent = 0usize;
    let mut started: Option<Instant> = None;
    let mut body_open = false;

    // The driver turns the machine's deadlines into timers; replies are bounded by them.
    while let Some(event) = conn
        .next_event()
        .await
        .map_err(|e| format!("session: {e}"))?
    {
        match event {
            Event::Ready => {
                if let Some(Idle { ready, release, .. }) = idle.as_mut() {
                    drop(permit.take());
                    ready.fetch_add(1, Ordering::SeqCst);
                    // Hold the connection open (nothing outstanding, no deadline).
                    while !*release.borrow() {
                        if release.changed().await.is_err() {
                            break;
                        }
                    }
                    idle = None;
                    conn.quit();
                } else if sent < plan.options.messages {
                    sent += 1;
                    started = Some(Instant::now());
                    let envelope = Envelope::new(plan.from.clone())
                        .with_recipient(plan.to.clone())
                        .with_size(plan.options.size as u64);
                    conn.send_message(envelope)
                        .map_err(|e| format!("MAIL: {e}"))?;
                } else {
                    conn.quit();
                }
            }
            // Repeated after each BDAT chunk without PIPELINING: the body is already going.
            Event::BodyReady if !body_open => {
                body_open = true;
                let mut message = plan.message_headers(index, sent);
                message.extend_from_slice(&plan.filler);
                // Pieces of BODY_CHUNK; `send_body` waits while the machine takes no more.
                let mut pieces = message.chunks(BODY_CHUNK).peekable();
                while let Some(piece) = pieces.next() {
                    let taken = if pieces.peek().is_none() {
                        conn.finish_body_with(piece).await
                    } else {
                        conn.send_body(piece).await
                    };
                    // `false`: the server refused the message meanwhile; the event says so.
                    if !taken.map_err(|e| format!("body: {e}"))? {
                        break;
                    }
                }
            }
            Event::MessageAccepted(_) => {
                stats.accepted += 1;
                stats.bytes += plan.options.size as u64;
                if let Some(t) = started.take() {
                    stats.latencies.push(t.elapsed());
                }
                body_open = false;
            }
            Event::MessageRejected(why) => {
                stats.rejected += 1;
                started = None;
                body_open = false;
                if stats.first_rejection.is_none() {
                    stats.first_rejection = Some(format!("{why:?}"));
                }
            }
            Event::Closed(result) => return result.map_err(|e| format!("session: {e}")),
            _ => {}
        }
    }
    Ok(())
}

/// The resident set size of `pid` in KiB (Linux).
fn rss_kib(pid: u32) -> io::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| io::Error::other("no VmRSS in /proc/PID/status"))
}

fn describe(o: &Options) -> String {
    format!(
        "{} (tls {}, {}{}{})",
        o.server,
        match o.tls {
            Tls::None => "none",
            Tls::StartTls => "starttls",
        },
        if o.bdat { "BDAT when offered" } else { "DATA" },
        if o.pipelining {
            ", PIPELINING when offered"
        } else {
            ", no pipelining"
        },
        if o.user.is_some() { ", AUTH" } else { "" },
    )
}

fn report_errors(all: &[ConnStats]) -> usize {
    common::report_errors("connection(s)", all.iter().map(|s| s.error.as_deref()))
}

async fn run_load(plan: Arc<Plan>) -> Result<bool, String> {
    let o = &plan.options;
    println!(
        "smtp-load: {} connection(s) x {} message(s) x {} bytes to {}",
        o.connections,
        o.messages,
        o.size,
        describe(o)
    );
    let start = Instant::now();
    let tasks: Vec<_> = (0..o.connections)
        .map(|c| tokio::spawn(session(plan.clone(), c, None)))
        .collect();
    let all = common::join(tasks, "connection task").await?;
    let elapsed = start.elapsed();
    let accepted: usize = all.iter().map(|s| s.accepted).sum();
    let rejected: usize = all.iter().map(|s| s.rejected).sum();
    let bytes: u64 = all.iter().map(|s| s.bytes).sum();
    let mut latencies: Vec<Duration> = all.iter().flat_map(|s| s.latencies.clone()).collect();
    latencies.sort();
    let secs = elapsed.as_secs_f64().max(1e-9);
    println!(
        "accepted {accepted} of {} message(s), rejected {rejected}, in {:.3} s",
        o.connections * o.messages,
        secs
    );
    if let Some(why) = all.iter().find_map(|s| s.first_rejection.as_deref()) {
        println!("first rejection: {why}");
    }
    let failed = report_errors(&all);
    println!(
        "throughput: {:.1} messages/s, {:.2} MiB/s ({:.0} bytes/s)",
        accepted as f64 / secs,
        bytes as f64 / secs / (1024.0 * 1024.0),
        bytes as f64 / secs
    );
    print_latencies("latency per message (MAIL FROM to final reply)", &latencies);
    Ok(failed == 0 && rejected == 0 && accepted == o.connections * o.messages)
}

async fn run_idle(plan: Arc<Plan>, n: usize) -> Result<bool, String> {
    let o = &plan.options;
    println!(
        "smtp-load: {n} idle connection(s) to {}, held {} s",
        describe(o),
        o.hold.as_secs()
    );
    let before = o.server_pid.map(rss_kib);
    if let Some(Ok(kib)) = &before {
        println!("server RSS before: {kib} KiB");
    }
    let start = Instant::now();
    let sessions = IdleSessions::start(
        n,
        o.concurrent_connects,
        o.timeout + Duration::from_secs(n as u64 / 10),
        |index, idle| session(plan.clone(), index, Some(idle)),
    )
    .await;
    let established = sessions.ready();
    println!(
        "{established} connection(s) past EHLO in {:.2} s; holding for {} s",
        start.elapsed().as_secs_f64(),
        o.hold.as_secs()
    );
    tokio::time::sleep(o.hold).await;
    if let Some(pid) = o.server_pid {
        match (before, rss_kib(pid)) {
            (Some(Ok(before)), Ok(during)) => {
                let per = if established > 0 {
                    (during.saturating_sub(before)) as f64 / established as f64
                } else {
                    0.0
                };
                println!(
                    "server RSS while holding: {during} KiB (+{} KiB, {per:.1} KiB per connection)",
                    during.saturating_sub(before)
                );
            }
            (_, Err(e)) => println!("server RSS: cannot read /proc/{pid}/status: {e}"),
            _ => {}
        }
    }
    let all = sessions.release("connection task").await?;
    let failed = report_errors(&all);
    println!("closed {} connection(s)", n - failed);
    Ok(failed == 0 && established == n)
}

fn main() -> ExitCode {
    common::load_main(
        "smtp-load",
        USAGE,
        parse_args,
        Plan::new,
        |plan| async move {
            match plan.options.idle {
                Some(n) => run_idle(plan, n).await,
                None => run_load(plan).await,
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Options {
        match parse_args(args.iter().map(|s| s.to_string())) {
            Ok(Parsed::Run(o)) => *o,
            Ok(Parsed::Help) => panic!("help"),
            Err(e) => panic!("{args:?}: {e}"),
        }
    }

    #[test]
    fn options_parse_and_default() {
        let o = run(&[]);
        assert_eq!(o.server, "127.0.0.1:2525");
        assert_eq!((o.connections, o.messages, o.size), (1, 100, 4096));
        let o = run(&[
            "--server=127.0.0.1:2587",
            "--tls",
            "starttls",
            "--user",
            "a@localhost",
            "--password",
            "pw",
            "--connections",
            "50",
            "--messages=7",
            "--size",
            "1M",
            "--bdat",
            "--no-pipelining",
            "--idle",
            "1000",
            "--hold",
            "3",
        ]);
        assert_eq!(o.server, "127.0.0.1:2587");
        assert_eq!(o.tls, Tls::StartTls);
        assert_eq!((o.connections, o.messages, o.size), (50, 7, 1 << 20));
        assert!(o.bdat && !o.pipelining);
        assert_eq!((o.idle, o.hold), (Some(1000), Duration::from_secs(3)));
        for bad in [
            &["--size", "0"][..],
            &["--size", "4T"],
            &["--connections", "-1"],
            &["--tls", "implicit"],
            &["--user", "a@b.c"],
            &["--nope"],
            &["--bdat=yes"],
            &["--to"],
        ] {
            assert!(
                parse_args(bad.iter().map(|s| s.to_string())).is_err(),
                "{bad:?}"
            );
        }
        assert!(matches!(
            parse_args(["--size".into(), "x".into(), "-h".into()]),
            Ok(Parsed::Help)
        ));
    }

    #[test]
    fn the_password_may_come_from_a_file() {
        let dir = std::env::temp_dir().join(format!("smtp-load-pw-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("pw");
        std::fs::write(&file, "from-a-file\r\nsecond line\n").unwrap();
        let file = file.to_str().unwrap().to_owned();
        let o = run(&["--user", "a@localhost", "--password-file", &file]);
        assert_eq!(o.password, Some(Secret::new("from-a-file".to_owned())));
        for bad in [
            &[
                "--user",
                "a@localhost",
                "--password-file",
                "/nonexistent/pw",
            ][..],
            &[
                "--user",
                "a@localhost",
                "--password",
                "x",
                "--password-file",
                &file,
            ],
            &["--password-file", &file],
        ] {
            let error = parse_args(bad.iter().map(|s| s.to_string()))
                .map(|_| ())
                .unwrap_err();
            assert!(!error.contains("from-a-file"), "{error}");
        }
        std::fs::write(dir.join("pw"), "\n").unwrap();
        let error =
            parse_args(["--user", "a@localhost", "--password-file", &file].map(String::from))
                .map(|_| ())
                .unwrap_err();
        assert!(error.contains("empty line"), "{error}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn messages_have_exactly_the_requested_size() {
        for size in [1, 100, 150, 158, 159, 4096, 65_537, 1 << 20] {
            let plan = Plan::new(Options {
                size,
                to: "alice@localhost".into(),
                ..Options::default()
            })
            .unwrap();
            let mut m = plan.message_headers(3, 17);
            m.extend_from_slice(&plan.filler);
            let header_len = plan.message_headers(0, 0).len();
            assert_eq!(m.len(), size.max(header_len), "{size}");
            // CRLF only: no bare CR or LF that the client would have to rewrite.
            assert_eq!(
                m.windows(2).filter(|w| w == b"\r\n").count(),
                m.iter().filter(|b| **b == b'\n').count(),
                "{size}"
            );
        }
    }
}
