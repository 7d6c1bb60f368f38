//! `pop3-load`: a bounded POP3 load generator, for any POP3 server. N concurrent sessions
//! each log in, list the maildrop (`STAT`, `LIST`, `UIDL`), retrieve every message (`RETR`,
//! pipelined when the server offers PIPELINING) and quit, M rounds each; then it prints
//! sessions per second, messages per second, MB/s and the latency percentiles of the
//! sessions. `--idle N` instead opens N sessions, logs each in, holds them, and with
//! `--pid PID` reports the server's memory before and while they are held.
//!
//! ```text
//! cargo run --release --example pop3-load -- --server 127.0.0.1:2110 --insecure \
//!     --user alice --password-file pw --sessions 20 --rounds 10
//! cargo run --release --example pop3-load -- --idle 200 --hold 5 --pid "$PID" ...
//! ```
//!
//! Nothing is deleted: the sessions only read. Each session is one
//! `pop3_proto::client::Client` state machine driven by pop3-proto's `ClientConnection` (which
//! also does the STLS upgrade). The run always ends: every session has a fixed amount of work
//! and every response a deadline.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use mail_tls::ClientTls;
use mail_tls::rustls::pki_types::ServerName;
use mail_tls::tokio::{HandshakeOptions, connect_implicit};
use mail_wire::Secret;
use pop3_proto::client::{Client, ClientConfig, Credentials, Event, TlsPolicy};
use pop3_proto::tokio::ClientConnection;
use tokio::io::{AsyncRead, AsyncWrite};

#[path = "common/mod.rs"]
mod common;

use common::{Idle, TlsMode, count, print_latencies, read_password_file};

const USAGE: &str = "\
pop3-load: a bounded POP3 load generator (sansmail example).

USAGE:
    cargo run --release --example pop3-load -- --user NAME \\
        (--password-file FILE | --password PASSWORD) [OPTIONS]

Values go after the flag (--sessions 10) or after '=' (--sessions=10). Nothing is
deleted on the server: the sessions only read.

TARGET:
    --server HOST:PORT       The POP3 server [default: 127.0.0.1:2110]
    --tls MODE               starttls: STLS (port 110) [default]
                             implicit: TLS from the first byte (port 995)
                             none: plaintext (the password crosses in clear)
                             The certificate is not verified: a load tool, not a mail
                             client.
    --user NAME              The account to log in as (required). A `{n}` in NAME is
                             replaced by the session's number (0, 1, ...), so that
                             concurrent sessions use accounts of their own: a server that
                             locks the maildrop (RFC 1939 section 8) refuses a second
                             session on one account with -ERR [IN-USE]
    --password-file FILE     Its password: the first line of FILE
    --password PASSWORD      Its password, on the command line, where other users of the
                             machine can read it (ps, /proc)

LOAD (default mode):
    --sessions N             Concurrent sessions [default: 1]
    --rounds M               Sessions each of them runs one after the other: log in,
                             STAT, LIST, UIDL, RETR every message, QUIT [default: 1]

IDLE (memory per session):
    --idle N                 Open N sessions, log each in, hold them for --hold seconds,
                             then QUIT
    --hold SECS              How long to hold them [default: 10]
    --pid PID                Report the memory of PID and all its descendants (Linux
                             /proc: VmRSS; from smaps_rollup PSS, which divides shared
                             pages among the processes mapping them, and USS, the
                             private pages) before and while the sessions are held; for
                             a server with a process per session, such as Dovecot, give
                             its master process
    --concurrent-connects N  Connection attempts in flight at once [default: 50]

OTHER:
    --timeout SECS           Deadline for connecting and for each response [default: 60]
    -h, --help               Print this text
";

#[derive(Debug, Clone)]
struct Options {
    server: String,
    tls: TlsMode,
    user: Option<String>,
    password: Option<Secret<String>>,
    sessions: usize,
    rounds: usize,
    idle: Option<usize>,
    hold: Duration,
    pid: Option<u32>,
    concurrent_connects: usize,
    timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            server: "127.0.0.1:2110".into(),
            tls: TlsMode::StartTls,
            user: None,
            password: None,
            sessions: 1,
            rounds: 1,
            idle: None,
            hold: Duration::from_secs(10),
            pid: None,
            concurrent_connects: 50,
            timeout: Duration::from_secs(60),
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
    let mut it = args.into_iter();
    while let Some(arg) = it.next() {
        let (flag, inline) = common::split_flag(&arg);
        if !flag.starts_with("--") {
            return Err(
                "unexpected argument that is no option (not repeated: it may be a password)".into(),
            );
        }
        let mut value = || common::flag_value(&flag, inline.as_deref(), &mut it);
        match flag.as_str() {
            "--server" => o.server = value()?,
            "--tls" => o.tls = TlsMode::parse(&value()?)?,
            "--user" => o.user = Some(value()?),
            "--password" | "--password-file" if o.password.is_some() => {
                return Err("give one --password or --password-file".into());
            }
            "--password" => o.password = Some(Secret::new(value()?)),
            "--password-file" => o.password = Some(read_password_file(Path::new(&value()?))?),
            "--sessions" => o.sessions = count(&flag, &value()?)?,
            "--rounds" => o.rounds = count(&flag, &value()?)?,
            "--idle" => o.idle = Some(count(&flag, &value()?)?),
            "--hold" => o.hold = Duration::from_secs(count(&flag, &value()?)? as u64),
            "--pid" => {
                let v = value()?;
                o.pid = Some(
                    v.parse()
                        .map_err(|_| format!("--pid {v}: expected a process id"))?,
                );
            }
            "--concurrent-connects" => o.concurrent_connects = count(&flag, &value()?)?,
            "--timeout" => o.timeout = Duration::from_secs(count(&flag, &value()?)? as u64),
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    if o.user.is_none() || o.password.is_none() {
        return Err("--user and --password (or --password-file) are required".into());
    }
    Ok(Parsed::Run(Box::new(o)))
}

/// The password in the first line of `path` (without its line ending); never in an error.
/// Everything a session needs, validated once.
struct Plan {
    options: Options,
    tls: Arc<mail_tls::rustls::ClientConfig>,
    server_name: ServerName<'static>,
}

impl Plan {
    fn new(options: Options) -> Result<Plan, String> {
        let tls = ClientTls::opportunistic_accept_any_certificate()
            .build()
            .map_err(|e| format!("TLS configuration: {e}"))?;
        let host = options
            .server
            .rsplit_once(':')
            .map_or(options.server.as_str(), |(h, _)| h)
            .trim_matches(|c| c == '[' || c == ']');
        let server_name = ServerName::try_from(host.to_owned())
            .map_err(|e| format!("--server {}: {e}", options.server))?;
        Ok(Plan {
            options,
            tls,
            server_name,
        })
    }

    /// The account of session number `index`: `--user` with `{n}` replaced by `index`.
    fn user(&self, index: usize) -> String {
        self.options
            .user
            .as_deref()
            .unwrap_or_default()
            .replace("{n}", &index.to_string())
    }

    fn client(&self, index: usize) -> Client {
        let o = &self.options;
        let credentials = Credentials::password(
            self.user(index),
            o.password
                .clone()
                .unwrap_or_else(|| Secret::new(String::new())),
        );
        let mut config = match o.tls {
            TlsMode::Implicit => ClientConfig::pop3s(credentials),
            TlsMode::StartTls | TlsMode::None => ClientConfig::new(credentials),
        };
        if o.tls != TlsMode::StartTls {
            config.tls = TlsPolicy::Never;
        }
        config.allow_plaintext_auth = o.tls == TlsMode::None;
        config.response_timeout = o.timeout;
        Client::new(config, Instant::now())
    }
}

/// What one task achieved over its rounds.
#[derive(Debug, Default)]
struct Stats {
    sessions: usize,
    messages: usize,
    bytes: u64,
    /// Connect to the `+OK` to QUIT, per session.
    latencies: Vec<Duration>,
    error: Option<String>,
}

/// One task: `rounds` sessions one after the other (one in idle mode).
async fn task(plan: Arc<Plan>, index: usize, idle: Option<Idle>) -> Stats {
    let mut stats = Stats::default();
    let rounds = if idle.is_some() {
        1
    } else {
        plan.options.rounds
    };
    let mut idle = idle;
    for _ in 0..rounds {
        let start = Instant::now();
        if let Err(e) = connect(&plan, index, idle.as_mut(), &mut stats).await {
            stats.error = Some(e);
            break;
        }
        stats.sessions += 1;
        stats.latencies.push(start.elapsed());
    }
    stats
}

async fn connect(
    plan: &Plan,
    index: usize,
    idle: Option<&mut Idle>,
    stats: &mut Stats,
) -> Result<(), String> {
    let o = &plan.options;
    let (permit, tcp) = common::connect_tcp(&o.server, o.timeout, idle.as_deref()).await?;
    let handshake = HandshakeOptions::new(o.timeout);
    match o.tls {
        TlsMode::Implicit => {
            let stream =
                connect_implicit(plan.tls.clone(), plan.server_name.clone(), tcp, handshake)
                    .await
                    .map_err(|e| format!("TLS handshake: {e}"))?;
            let conn = ClientConnection::new(stream, plan.client(index));
            drive(conn, idle, permit, stats).await
        }
        TlsMode::StartTls => {
            let conn = ClientConnection::new(tcp, plan.client(index)).with_starttls(
                plan.tls.clone(),
                plan.server_name.clone(),
                handshake,
            );
            drive(conn, idle, permit, stats).await
        }
        TlsMode::None => {
            let conn = ClientConnection::new(tcp, plan.client(index));
            drive(conn, idle, permit, stats).await
        }
    }
}

async fn drive<S: AsyncRead + AsyncWrite + Unpin>(
    mut conn: ClientConnection<S>,
    idle: Option<&mut Idle>,
    mut permit: Option<tokio::sync::OwnedSemaphorePermit>,
    stats: &mut Stats,
) -> Result<(), String> {
    let mut count = 0u32;
    let mut listings = 0;
    let mut idle = idle;
    // The driver turns the machine's deadlines into timers: every response is bounded.
    while let Some(event) = conn
        .next_event()
        .await
        .map_err(|e| format!("session: {e}"))?
    {
        let now = Instant::now();
        let sent = match event {
            Event::LoggedIn => {
                if let Some(idle) = idle.as_mut() {
                    drop(permit.take());
                    idle.ready.fetch_add(1, Ordering::SeqCst);
                    // Hold the session (nothing outstanding, so no deadline runs).
                    while !*idle.release.borrow() {
                        if idle.release.changed().await.is_err() {
                            break;
                        }
                    }
                    conn.quit()
                } else {
                    let c = conn.client();
                    c.stat(now)
                        .and_then(|()| c.list(now, None))
                        .and_then(|()| c.uidl(now, None))
                }
            }
            Event::Stat { count: n, .. } => {
                count = n;
                Ok(())
            }
            Event::ListingEnd => {
                listings += 1;
                if listings < 2 {
                    Ok(())
                } else {
                    // After the UIDL listing: every message, then QUIT.
                    let c = conn.client();
                    (1..=count)
                        .try_for_each(|n| c.retr(now, n))
                        .and_then(|()| c.quit(now))
                }
            }
            Event::MessageEnd { size, .. } => {
                stats.messages += 1;
                stats.bytes += size;
                Ok(())
            }
            Event::Refused { command, response } => {
                return Err(format!("{command} refused: {response}"));
            }
            Event::Closed(result) => return result.map_err(|e| format!("session: {e}")),
            _ => Ok(()),
        };
        sent.map_err(|e| format!("command: {e}"))?;
    }
    Ok(())
}

fn describe(o: &Options) -> String {
    let tls = o.tls.name();
    format!("{} (tls {tls})", o.server)
}

fn report_errors(all: &[Stats]) -> usize {
    common::report_errors("session task(s)", all.iter().map(|s| s.error.as_deref()))
}

async fn run_load(plan: Arc<Plan>) -> Result<bool, String> {
    let o = &plan.options;
    println!(
        "pop3-load: {} session(s) x {} round(s) to {}",
        o.sessions,
        o.rounds,
        describe(o)
    );
    let start = Instant::now();
    let tasks: Vec<_> = (0..o.sessions)
        .map(|index| tokio::spawn(task(plan.clone(), index, None)))
        .collect();
    let all = common::join(tasks, "session task").await?;
    let secs = start.elapsed().as_secs_f64().max(1e-9);
    let sessions: usize = all.iter().map(|s| s.sessions).sum();
    let messages: usize = all.iter().map(|s| s.messages).sum();
    let bytes: u64 = all.iter().map(|s| s.bytes).sum();
    let mut latencies: Vec<Duration> = all.iter().flat_map(|s| s.latencies.clone()).collect();
    latencies.sort();
    println!(
        "completed {sessions} of {} session(s), {messages} message(s) retrieved, in {secs:.3} s",
        o.sessions * o.rounds
    );
    let failed = report_errors(&all);
    println!(
        "throughput: {:.1} sessions/s, {:.1} messages/s, {:.2} MB/s ({:.0} bytes/s)",
        sessions as f64 / secs,
        messages as f64 / secs,
        bytes as f64 / secs / 1e6,
        bytes as f64 / secs
    );
    print_latencies("latency per session (connect to QUIT answered)", &latencies);
    Ok(failed == 0 && sessions == o.sessions * o.rounds)
}

async fn run_idle(plan: Arc<Plan>, n: usize) -> Result<bool, String> {
    let o = &plan.options;
    println!(
        "pop3-load: {n} idle session(s) to {}, held {} s",
        describe(o),
        o.hold.as_secs()
    );
    let (sessions, established) = common::hold_idle(
        n,
        o.concurrent_connects,
        o.timeout,
        o.hold,
        o.pid,
        "logged in",
        |index, idle| task(plan.clone(), index, Some(idle)),
    )
    .await;
    let all = sessions.release("session task").await?;
    let failed = report_errors(&all);
    println!("closed {} session(s)", n - failed);
    Ok(failed == 0 && established == n)
}

fn main() -> ExitCode {
    common::load_main(
        "pop3-load",
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

    fn run(args: &[&str]) -> Result<Options, String> {
        match parse_args(args.iter().map(|s| s.to_string()))? {
            Parsed::Run(o) => Ok(*o),
            Parsed::Help => Err("help".into()),
        }
    }

    #[test]
    fn numbered_accounts_replace_the_placeholder() {
        let o = run(&["--user", "load{n}@localhost", "--password", "p"]).unwrap();
        let plan = Plan::new(o).unwrap();
        assert_eq!(plan.user(0), "load0@localhost");
        assert_eq!(plan.user(17), "load17@localhost");
        let o = run(&["--user", "alice", "--password", "p"]).unwrap();
        assert_eq!(Plan::new(o).unwrap().user(5), "alice");
    }

    #[test]
    fn options_parse_and_default() {
        let o = run(&["--user", "a", "--password", "p"]).unwrap();
        assert_eq!(o.server, "127.0.0.1:2110");
        assert_eq!((o.sessions, o.rounds, o.tls), (1, 1, TlsMode::StartTls));
        let o = run(&[
            "--server=127.0.0.1:995",
            "--tls",
            "implicit",
            "--user=a",
            "--password",
            "p",
            "--sessions",
            "20",
            "--rounds=3",
            "--idle",
            "100",
            "--hold",
            "2",
            "--pid",
            "42",
        ])
        .unwrap();
        assert_eq!(o.tls, TlsMode::Implicit);
        assert_eq!((o.sessions, o.rounds, o.idle), (20, 3, Some(100)));
        assert_eq!((o.hold, o.pid), (Duration::from_secs(2), Some(42)));
        for bad in [
            &["--password", "hunter2"][..],
            &["--user", "a", "--password", "hunter2", "--sessions", "0"],
            &["--user", "a", "--password", "hunter2", "--tls", "maybe"],
            &["--user", "a", "--password", "hunter2", "--password", "x"],
            &["--user", "a", "--password", "hunter2", "--pasword=hunter2"],
            &["--user", "a", "--password", "x", "hunter2"],
        ] {
            let error = run(bad).map(|_| ()).unwrap_err();
            assert!(!error.contains("hunter2"), "{bad:?}: {error}");
        }
        assert!(matches!(
            parse_args(["--sessions".into(), "x".into(), "-h".into()]),
            Ok(Parsed::Help)
        ));
    }
}
