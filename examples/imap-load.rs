//! `imap-load`: a bounded IMAP load generator, for any IMAP server. Four modes:
//!
//! - the mix (default): N concurrent sessions each log in, SELECT the mailbox and run a
//!   cycle of SELECT, `FETCH 1:* (FLAGS)`, `FETCH n BODY.PEEK[]`, `STORE +FLAGS`, `SEARCH`,
//!   `STORE -FLAGS` and APPEND until `--duration` has passed or `--count` commands are done;
//!   then the commands per second, their latency percentiles by command, and how many
//!   answers were not `OK`;
//! - `--append`: M sessions APPEND one message after the other (each acknowledged, so
//!   durably stored, before the next): the APPEND rate;
//! - `--idle N`: N sessions logged in, with the mailbox SELECTed, in IDLE, held; with
//!   `--pid PID` the server's memory before and while they are held, per session;
//! - `--fetch-flags`: one session times `FETCH 1:* (FLAGS)` over the whole mailbox (filled
//!   first to `--fill N` messages by APPEND), next to a NOOP round trip.
//!
//! ```text
//! cargo run --release --example imap-load -- --server 127.0.0.1:2143 --tls none \
//!     --user alice --password-file pw --sessions 20 --duration 10
//! cargo run --release --example imap-load -- --append --sessions 10 --duration 10 ...
//! cargo run --release --example imap-load -- --idle 1000 --hold 5 --pid "$PID" ...
//! cargo run --release --example imap-load -- --fetch-flags --fill 10000 --mailbox load ...
//! ```
//!
//! Each session is one `imap_proto::client::Client` state machine driven by imap-proto's
//! `ClientConnection` (which also does the STARTTLS upgrade). The run always ends: every
//! session stops at the duration or the count, and every response has a deadline. The mix
//! flags and unflags messages and APPENDs new ones; nothing is deleted.

use std::collections::HashMap;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use imap_proto::List;
use imap_proto::client::{Client, ClientConfig, CommandId, Event, TlsPolicy};
use imap_proto::command::{
    AppendData, AppendMessage, CommandBody, FetchAttribute, FetchItems, NonEmpty, NonEmptyVec,
    SearchKey, StoreKind,
};
use imap_proto::core::{Literal, LiteralMode};
use imap_proto::flag::Flag;
use imap_proto::mailbox::Mailbox;
use imap_proto::response::{Data, StatusKind};
use imap_proto::sequence::SequenceSet;
use imap_proto::tokio::ClientConnection;
use mail_tls::ClientTls;
use mail_tls::rustls::pki_types::ServerName;
use mail_tls::tokio::{HandshakeOptions, connect_implicit};
use mail_wire::Secret;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::OwnedSemaphorePermit;

#[path = "common/mod.rs"]
mod common;

use common::{Idle, Millis, TlsMode, count, print_latencies, read_password_file};

const USAGE: &str = "\
imap-load: a bounded IMAP load generator (sansmail example).

USAGE:
    cargo run --release --example imap-load -- --user NAME \\
        (--password-file FILE | --password PASSWORD) [MODE] [OPTIONS]

Values go after the flag (--sessions 10) or after '=' (--sessions=10). Nothing is
deleted on the server; the mix and --append add messages to the mailbox, the mix sets
and clears \\Flagged.

TARGET:
    --server HOST:PORT       The IMAP server [default: 127.0.0.1:2143]
    --tls MODE               starttls: STARTTLS (port 143) [default]
                             implicit: TLS from the first byte (port 993)
                             none: plaintext (the password crosses in clear; the server
                             must allow LOGIN without TLS)
                             The certificate is not verified: a load tool, not a mail
                             client.
    --user NAME              The account to log in as (required). A `{n}` in NAME is
                             replaced by the session's number (0, 1, ...)
    --password-file FILE     Its password: the first line of FILE
    --password PASSWORD      Its password, on the command line, where other users of the
                             machine can read it (ps, /proc)
    --mailbox NAME           The mailbox to work in (it must exist) [default: INBOX]

THE MIX (default mode):
    --sessions N             Concurrent sessions [default: 1]
    --duration SECS          Each session stops after SECS seconds [default: 10]
    --count N                ... or after N commands, whichever comes first
    --size BYTES             The size of each APPENDed message [default: 2000]

APPEND (durable APPEND rate):
    --append                 Each of --sessions sessions APPENDs one message after the
                             other (each acknowledged before the next) until --duration
                             or --count

IDLE (memory per session):
    --idle N                 Open N sessions, log each in, SELECT the mailbox, start IDLE,
                             hold them for --hold seconds, then DONE and LOGOUT
    --hold SECS              How long to hold them [default: 10]
    --pid PID                Report the memory of PID and all its descendants (Linux
                             /proc: VmRSS; from smaps_rollup PSS, which divides shared
                             pages among the processes mapping them, and USS, the
                             private pages) before and while the sessions are held; for
                             a server with a process per session, such as Dovecot, give
                             its master process
    --concurrent-connects N  Connection attempts in flight at once [default: 50]

FETCH FLAGS (one big FETCH):
    --fetch-flags            One session: APPEND until the mailbox holds --fill
                             messages, then --repeat times a NOOP and a
                             `FETCH 1:* (FLAGS)`, each timed from the command's last byte
                             to its tagged answer
    --fill N                 Messages the mailbox must hold first [default: 10000]
    --repeat N               Timed rounds [default: 5]

OTHER:
    --timeout SECS           Deadline for connecting and for each response [default: 60]
    -h, --help               Print this text
";

/// What the run does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Mix,
    Append,
    Idle(usize),
    FetchFlags,
}

#[derive(Debug, Clone)]
struct Options {
    server: String,
    tls: TlsMode,
    user: Option<String>,
    password: Option<Secret<String>>,
    mailbox: String,
    mode: Mode,
    sessions: usize,
    duration: Duration,
    count: Option<usize>,
    size: usize,
    hold: Duration,
    pid: Option<u32>,
    concurrent_connects: usize,
    fill: usize,
    repeat: usize,
    timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            server: "127.0.0.1:2143".into(),
            tls: TlsMode::StartTls,
            user: None,
            password: None,
            mailbox: "INBOX".into(),
            mode: Mode::Mix,
            sessions: 1,
            duration: Duration::from_secs(10),
            count: None,
            size: 2000,
            hold: Duration::from_secs(10),
            pid: None,
            concurrent_connects: 50,
            fill: 10_000,
            repeat: 5,
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
    let mut modes = 0;
    let mut it = args.into_iter();
    while let Some(arg) = it.next() {
        let (flag, inline) = common::split_flag(&arg);
        if !flag.starts_with("--") {
            return Err(
                "unexpected argument that is no option (not repeated: it may be a password)".into(),
            );
        }
        if flag == "--append" || flag == "--fetch-flags" {
            if inline.is_some() {
                return Err(format!("{flag} takes no value"));
            }
            modes += 1;
            o.mode = if flag == "--append" {
                Mode::Append
            } else {
                Mode::FetchFlags
            };
            continue;
        }
        let mut value = || common::flag_value(&flag, inline.as_deref(), &mut it);
        let secs = |v: String| count(&flag, &v).map(|n| Duration::from_secs(n as u64));
        match flag.as_str() {
            "--server" => o.server = value()?,
            "--tls" => o.tls = TlsMode::parse(&value()?)?,
            "--user" => o.user = Some(value()?),
            "--password" | "--password-file" if o.password.is_some() => {
                return Err("give one --password or --password-file".into());
            }
            "--password" => o.password = Some(Secret::new(value()?)),
            "--password-file" => o.password = Some(read_password_file(Path::new(&value()?))?),
            "--mailbox" => o.mailbox = value()?,
            "--sessions" => o.sessions = count(&flag, &value()?)?,
            "--duration" => o.duration = secs(value()?)?,
            "--count" => o.count = Some(count(&flag, &value()?)?),
            "--size" => o.size = count(&flag, &value()?)?,
            "--idle" => {
                modes += 1;
                o.mode = Mode::Idle(count(&flag, &value()?)?);
            }
            "--hold" => o.hold = secs(value()?)?,
            "--pid" => {
                let v = value()?;
                o.pid = Some(
                    v.parse()
                        .map_err(|_| format!("--pid {v}: expected a process id"))?,
                );
            }
            "--concurrent-connects" => o.concurrent_connects = count(&flag, &value()?)?,
            "--fill" => o.fill = count(&flag, &value()?)?,
            "--repeat" => o.repeat = count(&flag, &value()?)?,
            "--timeout" => o.timeout = secs(value()?)?,
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    if modes > 1 {
        return Err("give at most one of --append, --idle and --fetch-flags".into());
    }
    if o.user.is_none() || o.password.is_none() {
        return Err("--user and --password (or --password-file) are required".into());
    }
    Mailbox::from_utf8(&o.mailbox, false).map_err(|e| format!("--mailbox {}: {e}", o.mailbox))?;
    Ok(Parsed::Run(Box::new(o)))
}

/// Everything a session needs, validated once.
struct Plan {
    options: Options,
    tls: Arc<mail_tls::rustls::ClientConfig>,
    server_name: ServerName<'static>,
    /// The message the sessions APPEND (`--size` bytes, CRLF lines).
    message: Vec<u8>,
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
        let message = message(options.size);
        Ok(Plan {
            options,
            tls,
            server_name,
            message,
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

    fn client(&self) -> Client {
        let o = &self.options;
        let mut config = match o.tls {
            TlsMode::Implicit => ClientConfig::imaps(),
            TlsMode::StartTls | TlsMode::None => ClientConfig::new(),
        };
        if o.tls != TlsMode::StartTls {
            config.tls = TlsPolicy::Never;
        }
        config.allow_plaintext_auth = o.tls == TlsMode::None;
        config.greeting_timeout = o.timeout;
        config.command_timeout = o.timeout;
        Client::new(config, Instant::now())
    }
}

/// A message of about `size` bytes: a header and lines of 76 characters, CRLF endings.
fn message(size: usize) -> Vec<u8> {
    let mut m = b"From: Load <load@example.org>\r\nTo: alice@example.org\r\n\
Subject: imap-load\r\nMessage-ID: <imap-load@example.org>\r\n\r\n"
        .to_vec();
    let line = b"0123456789 abcdefghijklmnopqrstuvwxyz 0123456789 ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    while m.len() + line.len() + 2 <= size {
        m.extend_from_slice(line);
        m.extend_from_slice(b"\r\n");
    }
    m
}

/// The commands the mix measures, in the order of its cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Op {
    Select,
    FetchFlags,
    FetchBody,
    StoreAdd,
    Search,
    StoreRemove,
    Append,
}

const CYCLE: [Op; 7] = [
    Op::Select,
    Op::FetchFlags,
    Op::FetchBody,
    Op::StoreAdd,
    Op::Search,
    Op::StoreRemove,
    Op::Append,
];

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Select => "SELECT",
            Op::FetchFlags => "FETCH 1:* (FLAGS)",
            Op::FetchBody => "FETCH n BODY.PEEK[]",
            Op::StoreAdd => "STORE n +FLAGS",
            Op::Search => "SEARCH FLAGGED",
            Op::StoreRemove => "STORE n -FLAGS",
            Op::Append => "APPEND",
        }
    }
}

/// What one session achieved.
#[derive(Debug, Default)]
struct Stats {
    /// Command round trips (last byte written to tagged answer read), by command.
    latencies: HashMap<Op, Vec<Duration>>,
    /// Tagged answers that were `OK`.
    ok: usize,
    /// Tagged `NO` and `BAD` answers, the first kept as an example.
    not_ok: usize,
    first_not_ok: Option<String>,
    /// Untagged FETCH responses received.
    fetched: usize,
    /// The session's failure, if it failed.
    error: Option<String>,
    /// The fetch-flags mode's timings.
    fetch: Option<FetchTimings>,
}

/// What `--fetch-flags` measured.
#[derive(Debug, Default)]
struct FetchTimings {
    messages: u32,
    appended: usize,
    noop: Vec<Duration>,
    fetch: Vec<Duration>,
    first_response: Vec<Duration>,
    answered: Vec<usize>,
}

/// A tagged answer.
struct Reply {
    status: StatusKind,
    text: String,
    /// Untagged FETCH responses that came while it ran.
    fetches: usize,
    /// When the first untagged response came, if one did.
    first_data: Option<Instant>,
    /// When the tagged answer came.
    at: Instant,
}

/// One logged-in session: the connection and what the server told of the mailbox.
struct Session<S> {
    conn: ClientConnection<S>,
    /// The last `* n EXISTS`.
    exists: u32,
    /// Completions of commands not yet waited for.
    done: Vec<(CommandId, Reply)>,
    fetches: usize,
    first_data: Option<Instant>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Session<S> {
    /// Reads events until `id` completes (or `Idling` for it when `idling`).
    async fn wait(&mut self, id: CommandId) -> Result<Reply, String> {
        if let Some(at) = self.done.iter().position(|(d, _)| *d == id) {
            return Ok(self.done.swap_remove(at).1);
        }
        loop {
            let event = self
                .conn
                .next_event()
                .await
                .map_err(|e| format!("connection: {e}"))?
                .ok_or("the session ended")?;
            match event {
                Event::Completed {
                    id: done,
                    status,
                    text,
                    ..
                } => {
                    let reply = Reply {
                        status,
                        text: text.unwrap_or_default(),
                        fetches: std::mem::take(&mut self.fetches),
                        first_data: self.first_data.take(),
                        at: Instant::now(),
                    };
                    if done == id {
                        return Ok(reply);
                    }
                    self.done.push((done, reply));
                }
                Event::Data(data) => {
                    self.first_data.get_or_insert_with(Instant::now);
                    match data {
                        Data::Exists(n) => self.exists = n,
                        Data::Expunge(_) => self.exists = self.exists.saturating_sub(1),
                        Data::Fetch { .. } => self.fetches += 1,
                        _ => {}
                    }
                }
                Event::Closed(Err(e)) => return Err(format!("session: {e}")),
                Event::Closed(Ok(())) => return Err("the session ended".into()),
                _ => {}
            }
        }
    }

    /// Waits for `Idling` of `id`.
    async fn idling(&mut self, id: CommandId) -> Result<(), String> {
        loop {
            let event = self
                .conn
                .next_event()
                .await
                .map_err(|e| format!("connection: {e}"))?
                .ok_or("the session ended")?;
            match event {
                Event::Idling { id: i } if i == id => return Ok(()),
                Event::Completed { id: i, text, .. } if i == id => {
                    return Err(format!("IDLE refused: {}", text.unwrap_or_default()));
                }
                Event::Data(Data::Exists(n)) => self.exists = n,
                Event::Closed(Err(e)) => return Err(format!("session: {e}")),
                Event::Closed(Ok(())) => return Err("the session ended".into()),
                _ => {}
            }
        }
    }

    /// Writes what is queued (the command just issued), returning when its last byte went.
    async fn flush(&mut self) -> Result<Instant, String> {
        self.conn
            .flush()
            .await
            .map_err(|e| format!("connection: {e}"))?;
        Ok(Instant::now())
    }

    /// Issues `body` and waits for its answer: the answer and its round trip.
    async fn call(&mut self, body: CommandBody<'_>) -> Result<(Reply, Duration), String> {
        let id = self
            .conn
            .client()
            .command(Instant::now(), body)
            .map_err(|e| format!("command: {e}"))?;
        let sent = self.flush().await?;
        let reply = self.wait(id).await?;
        let rtt = reply.at.saturating_duration_since(sent);
        Ok((reply, rtt))
    }

    /// LOGOUT and its answer.
    async fn logout(&mut self) -> Result<(), String> {
        self.conn.logout().map_err(|e| format!("LOGOUT: {e}"))?;
        while let Some(event) = self
            .conn
            .next_event()
            .await
            .map_err(|e| format!("connection: {e}"))?
        {
            if let Event::Closed(result) = event {
                return result.map_err(|e| format!("LOGOUT: {e}"));
            }
        }
        Ok(())
    }
}

/// Counts `reply` in `stats`: `OK`, or `NO`/`BAD` with the first kept.
fn tally(stats: &mut Stats, what: &str, reply: &Reply) {
    stats.fetched += reply.fetches;
    if reply.status == StatusKind::Ok {
        stats.ok += 1;
    } else {
        stats.not_ok += 1;
        stats
            .first_not_ok
            .get_or_insert_with(|| format!("{what}: {:?} {}", reply.status, reply.text));
    }
}

fn select(mailbox: &str) -> Result<CommandBody<'static>, String> {
    let mailbox = Mailbox::from_utf8(mailbox, false).map_err(|e| e.to_string())?;
    Ok(CommandBody::Select {
        mailbox,
        params: Default::default(),
    })
}

fn append(mailbox: &str, message: &[u8]) -> Result<CommandBody<'static>, String> {
    let mailbox = Mailbox::from_utf8(mailbox, false).map_err(|e| e.to_string())?;
    let literal = Literal::new(message.to_vec(), LiteralMode::Sync).map_err(|e| e.to_string())?;
    let messages = NonEmptyVec::try_from(vec![AppendMessage {
        flags: List::new(),
        date_time: None,
        data: AppendData::Literal(literal),
    }])
    .map_err(|e| e.to_string())?;
    Ok(CommandBody::Append { mailbox, messages })
}

fn fetch(set: &str, attribute: FetchAttribute<'static>) -> Result<CommandBody<'static>, String> {
    Ok(CommandBody::Fetch {
        uid: false,
        sequence_set: SequenceSet::parse(set.as_bytes()).map_err(|e| e.to_string())?,
        items: FetchItems::Attributes(NonEmpty::one(attribute)),
        changed_since: None,
        vanished: false,
    })
}

fn store(n: u32, kind: StoreKind) -> Result<CommandBody<'static>, String> {
    Ok(CommandBody::Store {
        uid: false,
        sequence_set: SequenceSet::single(n).map_err(|e| e.to_string())?,
        unchanged_since: None,
        kind,
        silent: false,
        flags: List::from(vec![Flag::Flagged]),
    })
}

/// Session `index`: connect, log in, do the mode's work, log out.
async fn task(plan: Arc<Plan>, index: usize, idle: Option<Idle>) -> Stats {
    let mut stats = Stats::default();
    if let Err(e) = connect(&plan, index, idle, &mut stats).await {
        stats.error = Some(e);
    }
    stats
}

async fn connect(
    plan: &Plan,
    index: usize,
    idle: Option<Idle>,
    stats: &mut Stats,
) -> Result<(), String> {
    let o = &plan.options;
    let (permit, tcp) = common::connect_tcp(&o.server, o.timeout, idle.as_ref()).await?;
    let handshake = HandshakeOptions::new(o.timeout);
    match o.tls {
        TlsMode::Implicit => {
            let stream =
                connect_implicit(plan.tls.clone(), plan.server_name.clone(), tcp, handshake)
                    .await
                    .map_err(|e| format!("TLS handshake: {e}"))?;
            let conn = ClientConnection::new(stream, plan.client());
            drive(plan, index, conn, idle, permit, stats).await
        }
        TlsMode::StartTls => {
            let conn = ClientConnection::new(tcp, plan.client()).with_starttls(
                plan.tls.clone(),
                plan.server_name.clone(),
                handshake,
            );
            drive(plan, index, conn, idle, permit, stats).await
        }
        TlsMode::None => {
            let conn = ClientConnection::new(tcp, plan.client());
            drive(plan, index, conn, idle, permit, stats).await
        }
    }
}

async fn drive<S: AsyncRead + AsyncWrite + Unpin>(
    plan: &Plan,
    index: usize,
    mut conn: ClientConnection<S>,
    idle: Option<Idle>,
    permit: Option<OwnedSemaphorePermit>,
    stats: &mut Stats,
) -> Result<(), String> {
    // The greeting, the capabilities and STARTTLS, as the machine does them.
    loop {
        match conn
            .next_event()
            .await
            .map_err(|e| format!("connection: {e}"))?
        {
            Some(Event::Ready { .. }) => break,
            Some(Event::Closed(Err(e))) => return Err(format!("session: {e}")),
            Some(_) => {}
            None => return Err("the session ended before it was ready".into()),
        }
    }
    let id = conn
        .client()
        .login(Instant::now(), &plan.user(index), plan.password())
        .map_err(|e| format!("LOGIN: {e}"))?;
    let mut session = Session {
        conn,
        exists: 0,
        done: Vec::new(),
        fetches: 0,
        first_data: None,
    };
    let reply = session.wait(id).await?;
    if reply.status != StatusKind::Ok {
        return Err(format!("login failed: {}", reply.text));
    }
    stats.ok += 1;
    let o = &plan.options;
    match o.mode {
        Mode::Mix => mix(plan, index, &mut session, stats).await?,
        Mode::Append => appends(plan, &mut session, stats).await?,
        Mode::Idle(_) => {
            let idle = idle.ok_or("idle mode without its gate")?;
            hold(plan, &mut session, idle, permit, stats).await?;
        }
        Mode::FetchFlags => fetch_flags(plan, &mut session, stats).await?,
    }
    session.logout().await
}

/// Whether a session that started at `start` and did `done` commands is to stop.
fn over(o: &Options, start: Instant, done: usize) -> bool {
    start.elapsed() >= o.duration || o.count.is_some_and(|c| done >= c)
}

async fn mix<S: AsyncRead + AsyncWrite + Unpin>(
    plan: &Plan,
    index: usize,
    session: &mut Session<S>,
    stats: &mut Stats,
) -> Result<(), String> {
    let o = &plan.options;
    let start = Instant::now();
    let mut done = 0;
    // Each session starts its cycle elsewhere and walks the messages with its own stride.
    let mut message = index as u64 * 7919;
    while !over(o, start, done) {
        let op = CYCLE
            .get((done + index) % CYCLE.len())
            .copied()
            .unwrap_or(Op::Select);
        let exists = session.exists;
        if done == 0 && op != Op::Select {
            // Every session SELECTs first.
            let (reply, rtt) = session.call(select(&o.mailbox)?).await?;
            tally(stats, "SELECT", &reply);
            stats.latencies.entry(Op::Select).or_default().push(rtt);
            done += 1;
            continue;
        }
        message = message.wrapping_add(104_729);
        let n = (message % u64::from(exists.max(1))) as u32 + 1;
        let body = match op {
            Op::Select => select(&o.mailbox)?,
            Op::Append => append(&o.mailbox, &plan.message)?,
            // An empty mailbox has no message to read, flag or find: APPEND instead.
            _ if exists == 0 => append(&o.mailbox, &plan.message)?,
            Op::FetchFlags => fetch("1:*", FetchAttribute::Flags)?,
            Op::FetchBody => fetch(
                &n.to_string(),
                FetchAttribute::BodySection {
                    peek: true,
                    section: None,
                    partial: None,
                },
            )?,
            Op::StoreAdd => store(n, StoreKind::Add)?,
            Op::StoreRemove => store(n, StoreKind::Remove)?,
            Op::Search => CommandBody::Search {
                uid: false,
                return_options: None,
                charset: None,
                criteria: NonEmpty::one(SearchKey::Flagged),
            },
        };
        let op = if exists == 0 && op != Op::Select {
            Op::Append
        } else {
            op
        };
        let (reply, rtt) = session.call(body).await?;
        tally(stats, op.name(), &reply);
        stats.latencies.entry(op).or_default().push(rtt);
        done += 1;
    }
    Ok(())
}

async fn appends<S: AsyncRead + AsyncWrite + Unpin>(
    plan: &Plan,
    session: &mut Session<S>,
    stats: &mut Stats,
) -> Result<(), String> {
    let o = &plan.options;
    let start = Instant::now();
    let mut done = 0;
    while !over(o, start, done) {
        let (reply, rtt) = session.call(append(&o.mailbox, &plan.message)?).await?;
        tally(stats, "APPEND", &reply);
        stats.latencies.entry(Op::Append).or_default().push(rtt);
        done += 1;
    }
    Ok(())
}

/// Selects `mailbox`, counted in `stats`; an answer other than OK ends the session's run.
async fn select_or_fail<S: AsyncRead + AsyncWrite + Unpin>(
    session: &mut Session<S>,
    mailbox: &str,
    stats: &mut Stats,
) -> Result<(), String> {
    let (reply, _) = session.call(select(mailbox)?).await?;
    if reply.status != StatusKind::Ok {
        return Err(format!("SELECT failed: {}", reply.text));
    }
    tally(stats, "SELECT", &reply);
    Ok(())
}

async fn hold<S: AsyncRead + AsyncWrite + Unpin>(
    plan: &Plan,
    session: &mut Session<S>,
    mut idle: Idle,
    permit: Option<OwnedSemaphorePermit>,
    stats: &mut Stats,
) -> Result<(), String> {
    select_or_fail(session, &plan.options.mailbox, stats).await?;
    let id = session
        .conn
        .client()
        .idle(Instant::now())
        .map_err(|e| format!("IDLE: {e}"))?;
    session.flush().await?;
    session.idling(id).await?;
    drop(permit);
    idle.ready.fetch_add(1, Ordering::SeqCst);
    // Hold the session in IDLE; what the server pushes meanwhile is read and dropped.
    loop {
        if *idle.release.borrow() {
            break;
        }
        tokio::select! {
            changed = idle.release.changed() => {
                if changed.is_err() {
                    break;
                }
            }
            event = session.conn.next_event() => match event {
                Ok(Some(Event::Closed(Err(e)))) => return Err(format!("session: {e}")),
                Ok(Some(Event::Data(Data::Exists(n)))) => session.exists = n,
                Ok(Some(_)) => {}
                Ok(None) => return Err("the session ended".into()),
                Err(e) => return Err(format!("connection: {e}")),
            },
        }
    }
    session
        .conn
        .client()
        .done(Instant::now())
        .map_err(|e| format!("DONE: {e}"))?;
    let reply = session.wait(id).await?;
    tally(stats, "IDLE", &reply);
    Ok(())
}

async fn fetch_flags<S: AsyncRead + AsyncWrite + Unpin>(
    plan: &Plan,
    session: &mut Session<S>,
    stats: &mut Stats,
) -> Result<(), String> {
    let o = &plan.options;
    let mut timings = FetchTimings::default();
    select_or_fail(session, &o.mailbox, stats).await?;
    // Fill: APPENDs pipelined 64 at a time (each its own durable command).
    let missing = o.fill.saturating_sub(session.exists as usize);
    let mut sent = 0;
    while sent < missing {
        let batch = (missing - sent).min(64);
        let mut ids = Vec::with_capacity(batch);
        for _ in 0..batch {
            let body = append(&o.mailbox, &plan.message)?;
            ids.push(
                session
                    .conn
                    .client()
                    .command(Instant::now(), body)
                    .map_err(|e| format!("APPEND: {e}"))?,
            );
        }
        for id in ids {
            let reply = session.wait(id).await?;
            tally(stats, "APPEND", &reply);
        }
        sent += batch;
    }
    timings.appended = sent;
    // NOOP brings the EXISTS of what was appended.
    let (reply, _) = session.call(CommandBody::Noop).await?;
    tally(stats, "NOOP", &reply);
    timings.messages = session.exists;
    for _ in 0..o.repeat {
        let (reply, rtt) = session.call(CommandBody::Noop).await?;
        tally(stats, "NOOP", &reply);
        timings.noop.push(rtt);
        let id = session
            .conn
            .client()
            .command(Instant::now(), fetch("1:*", FetchAttribute::Flags)?)
            .map_err(|e| format!("FETCH: {e}"))?;
        let sent = session.flush().await?;
        let reply = session.wait(id).await?;
        tally(stats, "FETCH 1:* (FLAGS)", &reply);
        timings.fetch.push(reply.at.saturating_duration_since(sent));
        if let Some(first) = reply.first_data {
            timings
                .first_response
                .push(first.saturating_duration_since(sent));
        }
        timings.answered.push(reply.fetches);
    }
    stats.fetch = Some(timings);
    Ok(())
}

impl Plan {
    fn password(&self) -> &Secret<String> {
        static EMPTY: std::sync::OnceLock<Secret<String>> = std::sync::OnceLock::new();
        self.options
            .password
            .as_ref()
            .unwrap_or_else(|| EMPTY.get_or_init(|| Secret::new(String::new())))
    }
}

fn describe(o: &Options) -> String {
    let tls = o.tls.name();
    format!("{} (tls {tls}, mailbox {})", o.server, o.mailbox)
}

/// Prints the failures and the answers that were not OK; returns whether all went well.
fn report_answers(all: &[Stats]) -> bool {
    let failed = common::report_errors("session(s)", all.iter().map(|s| s.error.as_deref()));
    let ok: usize = all.iter().map(|s| s.ok).sum();
    let not_ok: usize = all.iter().map(|s| s.not_ok).sum();
    print!("answers: {ok} OK, {not_ok} NO or BAD");
    match all.iter().find_map(|s| s.first_not_ok.as_deref()) {
        Some(first) => println!("; first: {first}"),
        None => println!(),
    }
    failed == 0 && not_ok == 0
}

fn sorted(mut v: Vec<Duration>) -> Vec<Duration> {
    v.sort();
    v
}

async fn run_load(plan: Arc<Plan>) -> Result<bool, String> {
    let o = &plan.options;
    let what = if o.mode == Mode::Append {
        "APPEND"
    } else {
        "mix"
    };
    let bound = match o.count {
        Some(c) => format!("{} s or {c} command(s) each", o.duration.as_secs()),
        None => format!("{} s", o.duration.as_secs()),
    };
    println!(
        "imap-load: {what}, {} session(s), {bound}, to {}",
        o.sessions,
        describe(o)
    );
    let start = Instant::now();
    let tasks: Vec<_> = (0..o.sessions)
        .map(|index| tokio::spawn(task(plan.clone(), index, None)))
        .collect();
    let all = common::join(tasks, "session task").await?;
    let secs = start.elapsed().as_secs_f64().max(1e-9);
    let mut by_op: HashMap<Op, Vec<Duration>> = HashMap::new();
    for stats in &all {
        for (op, l) in &stats.latencies {
            by_op.entry(*op).or_default().extend(l);
        }
    }
    let commands: usize = by_op.values().map(Vec::len).sum();
    let fetched: usize = all.iter().map(|s| s.fetched).sum();
    println!(
        "completed {commands} command(s) in {secs:.3} s: {:.1} commands/s, {fetched} FETCH \
         response(s)",
        commands as f64 / secs
    );
    let good = report_answers(&all);
    let mut ops: Vec<_> = by_op.into_iter().collect();
    ops.sort_by_key(|(op, _)| *op);
    for (op, latencies) in ops {
        let n = latencies.len();
        print_latencies(
            &format!("{} x{n} ({:.1}/s)", op.name(), n as f64 / secs),
            &sorted(latencies),
        );
    }
    let sessions_ok = all.iter().all(|s| s.error.is_none());
    Ok(good && sessions_ok)
}

async fn run_idle(plan: Arc<Plan>, n: usize) -> Result<bool, String> {
    let o = &plan.options;
    println!(
        "imap-load: {n} IDLE session(s) to {}, held {} s",
        describe(o),
        o.hold.as_secs()
    );
    let (sessions, established) = common::hold_idle(
        n,
        o.concurrent_connects,
        o.timeout,
        o.hold,
        o.pid,
        "in IDLE",
        |index, idle| task(plan.clone(), index, Some(idle)),
    )
    .await;
    let all = sessions.release("session task").await?;
    let good = report_answers(&all);
    let closed = all.iter().filter(|s| s.error.is_none()).count();
    println!("closed {closed} session(s)");
    Ok(good && established == n)
}

async fn run_fetch_flags(plan: Arc<Plan>) -> Result<bool, String> {
    let o = &plan.options;
    println!(
        "imap-load: FETCH 1:* (FLAGS) over {} message(s) or more, {} round(s), to {}",
        o.fill,
        o.repeat,
        describe(o)
    );
    let stats = task(plan.clone(), 0, None).await;
    let good = report_answers(std::slice::from_ref(&stats));
    let Some(t) = stats.fetch else {
        return Ok(false);
    };
    println!(
        "mailbox: {} message(s) ({} APPENDed first)",
        t.messages, t.appended
    );
    let answered = t.answered.iter().all(|&a| a == t.messages as usize);
    println!(
        "FETCH responses per round: {:?}{}",
        t.answered,
        if answered {
            " (one per message)"
        } else {
            " (NOT one per message)"
        }
    );
    let show = |what: &str, v: &[Duration]| {
        let v = sorted(v.to_vec());
        println!(
            "{what}: min {}, median {}, max {}",
            Millis(v.first().copied().unwrap_or_default()),
            Millis(common::percentile(&v, 50.0)),
            Millis(v.last().copied().unwrap_or_default())
        );
    };
    show("NOOP round trip", &t.noop);
    show("FETCH 1:* (FLAGS) round trip", &t.fetch);
    show("FETCH first untagged response after", &t.first_response);
    let median = |v: &[Duration]| common::percentile(&sorted(v.to_vec()), 50.0);
    println!(
        "FETCH round trip less a NOOP round trip (an upper bound of the server's time; it \
         includes the transfer and this client's parsing): median {}",
        Millis(median(&t.fetch).saturating_sub(median(&t.noop)))
    );
    Ok(good && answered)
}

fn main() -> ExitCode {
    common::load_main(
        "imap-load",
        USAGE,
        parse_args,
        Plan::new,
        |plan| async move {
            match plan.options.mode {
                Mode::Idle(n) => run_idle(plan, n).await,
                Mode::FetchFlags => run_fetch_flags(plan).await,
                Mode::Mix | Mode::Append => run_load(plan).await,
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
    fn options_parse_and_default() {
        let o = run(&["--user", "a", "--password", "p"]).unwrap();
        assert_eq!(o.server, "127.0.0.1:2143");
        assert_eq!(
            (o.sessions, o.mode, o.tls),
            (1, Mode::Mix, TlsMode::StartTls)
        );
        assert_eq!((o.duration, o.count), (Duration::from_secs(10), None));
        let o = run(&[
            "--user=a{n}",
            "--password",
            "p",
            "--tls=none",
            "--idle",
            "100",
            "--hold",
            "2",
            "--pid",
            "42",
        ])
        .unwrap();
        assert_eq!(
            (o.mode, o.hold, o.pid),
            (Mode::Idle(100), Duration::from_secs(2), Some(42))
        );
        assert_eq!(Plan::new(o).unwrap().user(7), "a7");
        let o = run(&[
            "--user",
            "a",
            "--password",
            "p",
            "--fetch-flags",
            "--fill",
            "3",
        ])
        .unwrap();
        assert_eq!((o.mode, o.fill, o.repeat), (Mode::FetchFlags, 3, 5));
        let o = run(&["--user", "a", "--password", "p", "--append", "--count", "9"]).unwrap();
        assert_eq!((o.mode, o.count), (Mode::Append, Some(9)));
        for bad in [
            &["--password", "hunter2"][..],
            &["--user", "a", "--password", "hunter2", "--sessions", "0"],
            &["--user", "a", "--password", "hunter2", "--tls", "maybe"],
            &["--user", "a", "--password", "hunter2", "--password", "x"],
            &[
                "--user",
                "a",
                "--password",
                "hunter2",
                "--append",
                "--idle",
                "2",
            ],
            &["--user", "a", "--password", "hunter2", "--append=yes"],
            &["--user", "a", "--password", "hunter2", "--mailbox", "a\rb"],
            &["--user", "a", "--password", "x", "hunter2"],
        ] {
            let error = run(bad).map(|_| ()).unwrap_err();
            assert!(!error.contains("hunter2"), "{bad:?}: {error}");
        }
    }

    #[test]
    fn the_message_has_the_size_asked_for_within_a_line() {
        for size in [2000, 10_000] {
            let m = message(size);
            assert!(m.len() <= size && m.len() + 80 > size, "{}", m.len());
            assert!(m.windows(4).any(|w| w == b"\r\n\r\n"));
        }
        // Never below the header.
        assert!(message(1).starts_with(b"From: "));
    }
}
