//! `imap-watch`: log in to an IMAP server, select a mailbox, and print one line per new
//! message as it arrives through IDLE (NOOP every `--poll` seconds where the server offers
//! no IDLE), with the imap-proto client and its tokio driver.
//!
//! ```text
//! cargo run -p sansmail-examples --example imap-watch -- --server HOST:PORT \
//!     [--tls implicit|starttls|none] [--insecure] --user U --password P [--mailbox INBOX]
//! ```
//!
//! Each new message prints `UID<TAB>FROM<TAB>SUBJECT`: its UID, the address of its first
//! `From:` (from the ENVELOPE the server sends) and its subject with RFC 2047 encoded words
//! decoded. Messages already in the mailbox are not printed, and nothing is kept between
//! runs: a restart starts after the mailbox's last message (its UIDNEXT, or the UID of its
//! last message). Once UID 4294967295, the largest, was seen, no later message can be named
//! by UID: a line on standard error says so, and nothing is fetched. See [`USAGE`].

use std::fmt;
use std::future::Future;
use std::io::Write;
use std::num::NonZeroU32;
use std::pin::Pin;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use imap_proto::List;
use imap_proto::client::{Client, ClientConfig, ClientError, CommandId, Event, TlsPolicy};
use imap_proto::command::{FetchAttribute, FetchItems, NonEmpty};
use imap_proto::fetch::{Envelope, MessageDataItem};
use imap_proto::response::{Code, Data, StatusKind};
use imap_proto::sequence::{SeqOrUid, Sequence, SequenceSet};
use imap_proto::tokio::ClientConnection;
use mail_tls::tokio::{HandshakeOptions, connect_implicit};
use mail_tls::{ClientTls, Service, server_name};
use mail_wire::Secret;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

#[path = "common/mod.rs"]
mod common;

/// The usage text printed by `--help`.
const USAGE: &str = "\
imap-watch: print one line per new message of an IMAP mailbox as it arrives (IDLE).

USAGE:
    cargo run -p sansmail-examples --example imap-watch -- --server HOST:PORT \\
        --user NAME --password PASSWORD [OPTIONS]

Values go after the flag (--user alice) or after '=' (--user=alice).

OPTIONS:
    --server HOST:PORT     The IMAP server (IPv6: [::1]:993)
    --tls MODE             starttls: require STARTTLS (port 143) [default]
                           implicit: TLS from the first byte (port 993)
                           none:     plaintext; the password crosses the network in clear
                           (test servers only; a warning says so on standard error)
    --insecure             Accept any server certificate (self-signed test servers): the
                           password then goes to whoever answers
    --user NAME            The account's user name
    --password PASSWORD    The password (other users of the machine can read it in
                           /proc/PID/cmdline)
    --mailbox NAME         The mailbox to watch [default: INBOX]
    --timeout SECS         Seconds to wait for the connection and each response
                           [default: 120]
    --poll SECS            Seconds between NOOPs to a server that does not offer IDLE
                           (a line on standard error says so) [default: 30]
    -h, --help             Print this text

OUTPUT:
    One line per new message on standard output: UID, TAB, the sender's address, TAB,
    the decoded subject (control characters escaped; '-' when absent). A line on standard
    error says when the watch starts (and whether it polls with NOOP). Nothing is kept
    between runs: a restart prints only messages that arrive after it. Errors go to
    standard error as one line starting with 'imap-watch: '. The password is never
    printed.

EXIT CODES:
    0  stopped by SIGINT (Ctrl-C), also while connecting
    1  the session failed (refused login, TLS failure, the server closed, standard
       output closed, ...)
    2  the command line is wrong
";

/// The default of `--timeout`.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

/// The default of `--poll`.
const DEFAULT_POLL: Duration = Duration::from_secs(30);

/// How long the goodbye (DONE, LOGOUT) may take after SIGINT.
const GOODBYE: Duration = Duration::from_secs(5);

/// How TLS is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TlsMode {
    StartTls,
    Implicit,
    None,
}

/// Everything the command line sets.
#[derive(Debug)]
struct Options {
    host: String,
    port: u16,
    tls: TlsMode,
    insecure: bool,
    user: String,
    password: Secret<String>,
    mailbox: String,
    timeout: Duration,
    /// Seconds between NOOPs to a server without IDLE.
    poll: Duration,
}

/// What the command line asks for.
#[derive(Debug)]
enum Parsed {
    Watch(Box<Options>),
    Help,
}

/// Parses the arguments (without the program name). Errors never contain a password.
fn parse(args: Vec<String>) -> Result<Parsed, String> {
    if args.iter().any(|a| a == "--help" || a == "-h") {
        return Ok(Parsed::Help);
    }
    let mut server = None;
    let mut tls = TlsMode::StartTls;
    let mut insecure = false;
    let mut user = None;
    let mut password = None;
    let mut mailbox = "INBOX".to_owned();
    let mut timeout = DEFAULT_TIMEOUT;
    let mut poll = DEFAULT_POLL;
    let mut rest = args.into_iter();
    while let Some(arg) = rest.next() {
        let (flag, inline) = common::split_flag(&arg);
        if !flag.starts_with("--") {
            return Err(
                "unexpected argument that is no option (not repeated: it may be a password)".into(),
            );
        }
        if flag == "--insecure" {
            if inline.is_some() {
                return Err("`--insecure` takes no value".into());
            }
            insecure = true;
            continue;
        }
        if !matches!(
            flag.as_str(),
            "--server" | "--tls" | "--user" | "--password" | "--mailbox" | "--timeout" | "--poll"
        ) {
            return Err(format!("unknown option `{flag}`"));
        }
        let value = common::flag_value(&flag, inline.as_deref(), &mut rest)?;
        match flag.as_str() {
            "--server" => server = Some(parse_server(&value)?),
            "--tls" => {
                tls = match value.as_str() {
                    "starttls" => TlsMode::StartTls,
                    "implicit" => TlsMode::Implicit,
                    "none" => TlsMode::None,
                    _ => {
                        return Err(format!(
                            "invalid value `{value}` for `--tls`: expected implicit, starttls \
                             or none"
                        ));
                    }
                }
            }
            "--user" => user = Some(value),
            "--password" => password = Some(Secret::new(value)),
            "--mailbox" => mailbox = value,
            _ => {
                let seconds: u64 = value.parse().ok().filter(|&s| s > 0).ok_or_else(|| {
                    format!("invalid value `{value}` for `{flag}`: expected seconds")
                })?;
                if flag == "--poll" {
                    poll = Duration::from_secs(seconds);
                } else {
                    timeout = Duration::from_secs(seconds);
                }
            }
        }
    }
    let (host, port) = server.ok_or("`--server` is required")?;
    Ok(Parsed::Watch(Box::new(Options {
        host,
        port,
        tls,
        insecure,
        user: user.ok_or("`--user` is required")?,
        password: password.ok_or("`--password` is required")?,
        mailbox,
        timeout,
        poll,
    })))
}

/// `HOST:PORT`, `[IPv6]:PORT`.
fn parse_server(value: &str) -> Result<(String, u16), String> {
    let bad = |why: &str| format!("invalid value `{value}` for `--server`: {why}");
    let (host, port) = value
        .rsplit_once(':')
        .ok_or_else(|| bad("expected HOST:PORT"))?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if host.is_empty() {
        return Err(bad("the host is empty"));
    }
    match port.parse::<u16>() {
        Ok(port) if port > 0 => Ok((host.to_owned(), port)),
        _ => Err(bad("expected a port number from 1 to 65535")),
    }
}

/// Server text on the terminal: control characters (TAB among them, which separates the
/// fields) and bidirectional overrides escaped.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| {
            let bidi = matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
            if c.is_control() || bidi {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// The subject with its encoded words decoded (RFC 2047), by mail-parser, the MIME parser
/// the mail server already uses: the raw value is parsed as the only field of a header.
/// Folding (CR LF before a space or TAB) is undone first; any other CR or LF (a server may
/// send one in a literal) is kept as itself between the pieces decoded on either side, so
/// that the text after it is neither lost nor read as another field ([`printable`] then
/// escapes it).
fn decode_subject(raw: &[u8]) -> String {
    let mut unfolded = Vec::with_capacity(raw.len());
    let mut rest = raw;
    while let Some((&byte, tail)) = rest.split_first() {
        if rest.starts_with(b"\r\n") && matches!(tail.get(1), Some(b' ' | b'\t')) {
            rest = tail.get(1..).unwrap_or_default();
            continue;
        }
        unfolded.push(byte);
        rest = tail;
    }
    let mut decoded = String::new();
    let mut start = 0;
    for (at, &byte) in unfolded.iter().enumerate() {
        if byte == b'\r' || byte == b'\n' {
            decoded.push_str(&decode_piece(unfolded.get(start..at).unwrap_or_default()));
            decoded.push(char::from(byte));
            start = at + 1;
        }
    }
    decoded.push_str(&decode_piece(unfolded.get(start..).unwrap_or_default()));
    decoded
}

/// One line of a subject, encoded words decoded.
fn decode_piece(raw: &[u8]) -> String {
    if raw.is_empty() {
        return String::new();
    }
    let mut header = b"Subject: ".to_vec();
    header.extend_from_slice(raw);
    header.extend_from_slice(b"\r\n\r\n");
    mail_parser::MessageParser::default()
        .parse(&header)
        .and_then(|m| m.subject().map(str::to_owned))
        .unwrap_or_else(|| String::from_utf8_lossy(raw).into_owned())
}

/// The line printed for one message: `UID<TAB>FROM<TAB>SUBJECT`.
fn line(uid: NonZeroU32, envelope: Option<&Envelope<'_>>) -> String {
    let from = envelope
        .and_then(|e| e.from.iter().find(|a| a.host.data().is_some()))
        .and_then(|a| {
            let mailbox = String::from_utf8_lossy(a.mailbox.data()?).into_owned();
            let host = String::from_utf8_lossy(a.host.data()?).into_owned();
            Some(format!("{mailbox}@{host}"))
        })
        .unwrap_or_else(|| "-".to_owned());
    let subject = envelope
        .and_then(|e| e.subject.data())
        .map(decode_subject)
        .unwrap_or_else(|| "-".to_owned());
    format!("{uid}\t{}\t{}", printable(&from), printable(&subject))
}

/// Why the watch ended.
#[derive(Debug)]
enum Ending {
    Interrupted,
    Failed(String),
}

impl<T: fmt::Display> From<T> for Ending {
    fn from(error: T) -> Self {
        Ending::Failed(error.to_string())
    }
}

/// What the session waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Login(CommandId),
    Select(CommandId),
    /// `FETCH * (UID)`, to learn where new messages start without UIDNEXT.
    Last(CommandId),
    Idle(CommandId),
    Fetch(CommandId),
    /// `NOOP`, to a server without IDLE.
    Poll(CommandId),
    /// The time until the next `NOOP`.
    Wait,
    Other,
}

/// Where the messages to print start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Next {
    /// Not known (no UIDNEXT and an empty mailbox at SELECT): every message is new.
    Unknown,
    /// Messages from this UID on are new.
    From(NonZeroU32),
    /// UID 4294967295, the largest (UIDs are 32-bit and strictly ascending, RFC 9051
    /// section 2.3.1.1), was seen: no later message can have a larger one, and no UID
    /// FETCH could name it (`4294967296:*` is no UID, `1:*` would print the old ones).
    Exhausted,
}

impl Next {
    /// After the message `uid`.
    fn after(uid: NonZeroU32) -> Next {
        uid.checked_add(1).map_or(Next::Exhausted, Next::From)
    }

    /// Whether `uid` is a message to print.
    fn is_new(self, uid: NonZeroU32) -> bool {
        match self {
            Next::Unknown => true,
            Next::From(next) => uid >= next,
            Next::Exhausted => false,
        }
    }
}

/// `UID FETCH from:* (UID ENVELOPE)`.
fn fetch_new(client: &mut Client, from: NonZeroU32) -> Result<CommandId, Ending> {
    let set = SequenceSet::new(List::from(vec![Sequence::Range(
        SeqOrUid::Value(from),
        SeqOrUid::Asterisk,
    )]))?;
    let items: List<FetchAttribute<'static>, 2> = [FetchAttribute::Uid, FetchAttribute::Envelope]
        .into_iter()
        .collect();
    let items = FetchItems::Attributes(NonEmpty::new(items)?);
    Ok(client.fetch(Instant::now(), true, set, items)?)
}

/// The watch's state between events.
struct Watch<'o> {
    options: &'o Options,
    step: Step,
    exists: u32,
    next: Next,
    /// The "watching" line was printed.
    announced: bool,
    /// New messages announced while a FETCH or NOOP ran: fetch (again) at its end.
    more: bool,
    /// The server offers no IDLE: NOOP every `--poll` seconds instead.
    polling: bool,
    /// When the next NOOP goes.
    poll_at: Option<tokio::time::Instant>,
    /// The line about UID 4294967295 was printed.
    told_exhausted: bool,
}

impl Watch<'_> {
    fn announce(&mut self) {
        if !self.announced {
            self.announced = true;
            eprintln!(
                "imap-watch: watching {} ({} messages)",
                printable(&self.options.mailbox),
                self.exists
            );
        }
    }

    /// Waits for news: IDLE, or a NOOP after `--poll` seconds where the server offers no
    /// IDLE (the client then refuses it locally).
    fn listen(&mut self, client: &mut Client, now: Instant) -> Result<(), Ending> {
        if !self.polling {
            match client.idle(now) {
                Ok(id) => {
                    self.step = Step::Idle(id);
                    return Ok(());
                }
                Err(ClientError::NotAdvertised(_)) => {
                    self.polling = true;
                    eprintln!(
                        "imap-watch: the server does not offer IDLE: polling with NOOP every {} s",
                        self.options.poll.as_secs()
                    );
                    self.announce();
                }
                Err(error) => return Err(error.into()),
            }
        }
        self.step = Step::Wait;
        self.poll_at = Some(tokio::time::Instant::now() + self.options.poll);
        Ok(())
    }

    /// Fetches the new messages, or listens when none can be named.
    fn fetch_or_listen(&mut self, client: &mut Client, now: Instant) -> Result<(), Ending> {
        self.more = false;
        // No NOOP while the FETCH runs: `listen` sets the next one.
        self.poll_at = None;
        let from = match self.next {
            Next::Unknown => NonZeroU32::MIN,
            Next::From(next) => next,
            Next::Exhausted => {
                if !self.told_exhausted {
                    self.told_exhausted = true;
                    eprintln!(
                        "imap-watch: UID 4294967295, the largest, was seen: later messages \
                         cannot be told apart until the server renumbers the mailbox (a new \
                         UIDVALIDITY); restart imap-watch then"
                    );
                }
                return self.listen(client, now);
            }
        };
        self.step = Step::Fetch(fetch_new(client, from)?);
        Ok(())
    }

    /// One event from the client.
    fn on_event(&mut self, client: &mut Client, event: Event, now: Instant) -> Result<(), Ending> {
        match event {
            Event::Ready { authenticated } => {
                self.step = if authenticated {
                    Step::Select(client.select(now, &self.options.mailbox)?)
                } else {
                    Step::Login(client.login(now, &self.options.user, &self.options.password)?)
                };
            }
            Event::Completed {
                id, status, text, ..
            } => {
                let ok = status == StatusKind::Ok;
                let why = || printable(text.as_deref().unwrap_or(""));
                match self.step {
                    Step::Login(l) if l == id && !ok => {
                        return Err(Ending::Failed(format!("login refused: {}", why())));
                    }
                    Step::Login(l) if l == id => {
                        self.step = Step::Select(client.select(now, &self.options.mailbox)?);
                    }
                    Step::Select(s) if s == id && !ok => {
                        return Err(Ending::Failed(format!(
                            "cannot select {}: {}",
                            printable(&self.options.mailbox),
                            why()
                        )));
                    }
                    Step::Select(s) if s == id => {
                        if self.next == Next::Unknown && self.exists > 0 {
                            let set = SequenceSet::new(List::from(vec![Sequence::Single(
                                SeqOrUid::Asterisk,
                            )]))?;
                            let items = FetchItems::Attributes(NonEmpty::one(FetchAttribute::Uid));
                            self.step = Step::Last(client.fetch(now, false, set, items)?);
                        } else {
                            self.listen(client, now)?;
                        }
                    }
                    Step::Last(f) | Step::Fetch(f) | Step::Poll(f) if f == id && self.more => {
                        self.fetch_or_listen(client, now)?;
                    }
                    Step::Poll(p) if p == id && !ok => {
                        return Err(Ending::Failed(format!("NOOP refused: {}", why())));
                    }
                    Step::Last(f) | Step::Fetch(f) | Step::Poll(f) if f == id => {
                        self.listen(client, now)?;
                    }
                    Step::Idle(i) if i == id && !ok => {
                        return Err(Ending::Failed(format!("IDLE refused: {}", why())));
                    }
                    Step::Idle(i) if i == id => self.fetch_or_listen(client, now)?,
                    _ => {}
                }
            }
            Event::Idling { .. } => self.announce(),
            Event::Status(status) => {
                if let (Some(Code::UidNext(n)), Step::Select(_)) = (status.code(), self.step) {
                    self.next = Next::From(*n);
                }
            }
            Event::Alert(text) => eprintln!("imap-watch: server alert: {}", printable(&text)),
            Event::Data(Data::Exists(n)) => {
                let grew = n > self.exists;
                self.exists = n;
                if grew && client.is_idling() {
                    client.done(now)?;
                } else if grew
                    && matches!(self.step, Step::Last(_) | Step::Fetch(_) | Step::Poll(_))
                {
                    self.more = true;
                } else if grew && self.step == Step::Wait {
                    // Announced between two NOOPs: fetched now.
                    self.fetch_or_listen(client, now)?;
                }
            }
            Event::Data(Data::Expunge(_)) => self.exists = self.exists.saturating_sub(1),
            Event::Data(Data::Fetch { items, .. }) => {
                let uid = items.iter().find_map(|i| match i {
                    MessageDataItem::Uid(uid) => Some(*uid),
                    _ => None,
                });
                let envelope = items.iter().find_map(|i| match i {
                    MessageDataItem::Envelope(e) => Some(&**e),
                    _ => None,
                });
                match (self.step, uid) {
                    (Step::Last(_), Some(uid)) => self.next = Next::after(uid),
                    // `from:*` names the last message even when its UID is lower.
                    (Step::Fetch(_), Some(uid)) if envelope.is_some() && self.next.is_new(uid) => {
                        let mut stdout = std::io::stdout().lock();
                        writeln!(stdout, "{}", line(uid, envelope))
                            .and_then(|()| stdout.flush())
                            .map_err(|error| {
                                Ending::Failed(format!("cannot write to standard output: {error}"))
                            })?;
                        self.next = Next::after(uid);
                    }
                    _ => {}
                }
            }
            Event::Closed(Err(error)) => {
                return Err(Ending::Failed(printable(&error.to_string())));
            }
            Event::Closed(Ok(())) => return Err(Ending::Failed("the session ended".into())),
            _ => {}
        }
        Ok(())
    }
}

/// Runs the session until SIGINT or a failure.
async fn watch<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut ClientConnection<S>,
    options: &Options,
    mut interrupt: Pin<&mut impl Future<Output = std::io::Result<()>>>,
) -> Ending {
    let mut state = Watch {
        options,
        step: Step::Other,
        exists: 0,
        next: Next::Unknown,
        announced: false,
        more: false,
        polling: false,
        poll_at: None,
        told_exhausted: false,
    };
    loop {
        let poll_at = state.poll_at;
        let tick = async move {
            match poll_at {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        let event = tokio::select! {
            _ = &mut interrupt => return Ending::Interrupted,
            event = conn.next_event() => Some(event),
            () = tick => None,
        };
        let now = Instant::now();
        let client = conn.client();
        let result = match event {
            // Time for the next NOOP (the select's `next_event` is cancel safe).
            None => {
                state.poll_at = None;
                if state.step == Step::Wait {
                    client
                        .noop(now)
                        .map(|id| state.step = Step::Poll(id))
                        .map_err(Ending::from)
                } else {
                    Ok(())
                }
            }
            Some(Ok(Some(event))) => state.on_event(client, event, now),
            Some(Ok(None)) => return Ending::Failed("the session ended".into()),
            Some(Err(error)) => return Ending::Failed(format!("connection: {error}")),
        };
        if let Err(ending) = result {
            return ending;
        }
    }
}

/// After SIGINT: end the IDLE, log out, wait for the server's answer a little.
async fn goodbye<S: AsyncRead + AsyncWrite + Unpin>(conn: &mut ClientConnection<S>) {
    let now = Instant::now();
    let client = conn.client();
    if client.is_idling() {
        let _ = client.done(now);
    }
    if client.logout(now).is_err() {
        return;
    }
    let _ = tokio::time::timeout(GOODBYE, async {
        while let Ok(Some(_)) = conn.next_event().await {}
    })
    .await;
}

async fn run(options: Options) -> ExitCode {
    // SIGINT ends the program well from the start, connecting and the TLS handshake
    // included: the handler is installed by the first poll, before anything else.
    let interrupt = tokio::signal::ctrl_c();
    tokio::pin!(interrupt);
    if options.tls == TlsMode::None {
        eprintln!("imap-watch: warning: --tls none: the password crosses the network in clear");
    }
    let verification = if options.insecure {
        ClientTls::opportunistic_accept_any_certificate()
    } else {
        ClientTls::webpki_roots()
    };
    let tls = match verification.build() {
        Ok(tls) => tls,
        Err(error) => return fail(format_args!("TLS configuration: {error}")),
    };
    let name = match server_name(&options.host) {
        Ok(name) => name,
        Err(error) => return fail(error),
    };
    let mut config = match options.tls {
        TlsMode::Implicit => ClientConfig::imaps(),
        TlsMode::StartTls | TlsMode::None => ClientConfig::new(),
    };
    if options.tls != TlsMode::StartTls {
        config.tls = TlsPolicy::Never;
    }
    config.allow_plaintext_auth = options.tls == TlsMode::None;
    config.greeting_timeout = options.timeout;
    config.command_timeout = options.timeout;
    let client = Client::new(config, Instant::now());
    let address = (options.host.as_str(), options.port);
    let connect = tokio::time::timeout(options.timeout, TcpStream::connect(address));
    let connected = tokio::select! {
        biased;
        _ = &mut interrupt => return ExitCode::SUCCESS,
        connected = connect => connected,
    };
    let tcp = match connected {
        Ok(Ok(tcp)) => tcp,
        Ok(Err(error)) => return fail(format_args!("cannot connect: {error}")),
        Err(_) => {
            return fail(format_args!(
                "cannot connect: no answer in {:?}",
                options.timeout
            ));
        }
    };
    let handshake = HandshakeOptions::new(options.timeout)
        .service(Service::Imap)
        .port(options.port);
    let ending = match options.tls {
        TlsMode::Implicit => {
            let handshake = connect_implicit(tls, name, tcp, handshake);
            let stream = tokio::select! {
                biased;
                _ = &mut interrupt => return ExitCode::SUCCESS,
                stream = handshake => stream,
            };
            let stream = match stream {
                Ok(stream) => stream,
                Err(error) => return fail(format_args!("TLS handshake: {error}")),
            };
            let mut conn = ClientConnection::new(stream, client);
            let ending = watch(&mut conn, &options, interrupt.as_mut()).await;
            if let Ending::Interrupted = ending {
                goodbye(&mut conn).await;
            }
            ending
        }
        TlsMode::StartTls | TlsMode::None => {
            let mut conn = ClientConnection::new(tcp, client);
            if options.tls == TlsMode::StartTls {
                conn = conn.with_starttls(tls, name, handshake);
            }
            let ending = watch(&mut conn, &options, interrupt.as_mut()).await;
            if let Ending::Interrupted = ending {
                goodbye(&mut conn).await;
            }
            ending
        }
    };
    match ending {
        Ending::Interrupted => ExitCode::SUCCESS,
        Ending::Failed(why) => fail(why),
    }
}

fn fail(message: impl fmt::Display) -> ExitCode {
    eprintln!("imap-watch: {message}");
    ExitCode::FAILURE
}

fn main() -> ExitCode {
    let args = match common::utf8_args() {
        Ok(args) => args,
        Err(error) => {
            eprintln!("imap-watch: {error}");
            return ExitCode::from(2);
        }
    };
    let options = match parse(args) {
        Ok(Parsed::Watch(options)) => *options,
        Ok(Parsed::Help) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(error) => {
            eprintln!("imap-watch: {error}\n\nRun with --help for the options.");
            return ExitCode::from(2);
        }
    };
    common::run_session("imap-watch", run(options))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn parses_the_options() {
        let Ok(Parsed::Watch(o)) = parse(args(&[
            "--server",
            "[::1]:993",
            "--tls=implicit",
            "--user",
            "alice",
            "--password",
            "pw",
        ])) else {
            panic!("parsed")
        };
        assert_eq!(
            (o.host.as_str(), o.port, o.tls),
            ("::1", 993, TlsMode::Implicit)
        );
        assert_eq!(o.mailbox, "INBOX");
        assert!(matches!(parse(args(&["-h"])), Ok(Parsed::Help)));
        let error = parse(args(&["--server", "h:1", "--user", "a", "secret"])).unwrap_err();
        assert!(!error.contains("secret"), "{error}");
        assert!(parse(args(&["--server", "h:0", "--user", "a", "--password", "p"])).is_err());
        let base = ["--server", "h:1", "--user", "a", "--password", "p"];
        let Ok(Parsed::Watch(o)) = parse(args(&base)) else {
            panic!("parsed")
        };
        assert_eq!(o.poll, DEFAULT_POLL);
        let Ok(Parsed::Watch(o)) = parse(args(&[&base[..], &["--poll", "5"]].concat())) else {
            panic!("parsed")
        };
        assert_eq!(o.poll, Duration::from_secs(5));
        let error = parse(args(&[&base[..], &["--poll", "0"]].concat())).unwrap_err();
        assert_eq!(error, "invalid value `0` for `--poll`: expected seconds");
    }

    #[test]
    fn the_largest_uid_leaves_nothing_to_fetch() {
        let uid = |n| NonZeroU32::new(n).unwrap();
        assert_eq!(Next::after(uid(7)), Next::From(uid(8)));
        assert_eq!(Next::after(uid(u32::MAX)), Next::Exhausted);
        assert!(Next::Unknown.is_new(uid(1)));
        assert!(Next::From(uid(8)).is_new(uid(8)));
        assert!(!Next::From(uid(8)).is_new(uid(7)));
        assert!(!Next::Exhausted.is_new(uid(u32::MAX)));
    }

    #[test]
    fn lines_decode_the_subject_and_escape_tabs() {
        let envelope = Envelope {
            subject: imap_proto::core::NString(Some(
                imap_proto::core::IString::from_bytes(&b"=?UTF-8?Q?gr=C3=BC=C3=9Fe=09x?="[..])
                    .unwrap(),
            )),
            ..Envelope::default()
        };
        let uid = NonZeroU32::new(7).unwrap();
        assert_eq!(line(uid, Some(&envelope)), "7\t-\tgr\u{fc}\u{df}e\\u{9}x");
    }

    #[test]
    fn subjects_unfold_keep_bare_newlines_and_survive_8_bit() {
        // Folding is undone (RFC 5322 section 2.2.3).
        assert_eq!(decode_subject(b"a\r\n b"), "a b");
        // A bare CR LF is kept (and escaped in the line), the text after it too.
        assert_eq!(
            decode_subject(b"x\r\nSubject: forged"),
            "x\r\nSubject: forged"
        );
        assert_eq!(decode_subject(b"=?UTF-8?Q?a?=\nb"), "a\nb");
        // Bytes that are not UTF-8 are replaced, never a panic.
        assert_eq!(decode_subject(b"caf\xe9"), "caf\u{fffd}");
        let envelope = Envelope {
            subject: imap_proto::core::NString(Some(
                imap_proto::core::IString::from_bytes(&b"x\r\ny"[..]).unwrap(),
            )),
            ..Envelope::default()
        };
        // No From address: `-`.
        let uid = NonZeroU32::new(8).unwrap();
        assert_eq!(line(uid, Some(&envelope)), "8\t-\tx\\u{d}\\u{a}y");
    }
}
