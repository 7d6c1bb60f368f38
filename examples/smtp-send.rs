//! `smtp-send`: send one message over SMTP with the smtp-proto client and its tokio driver,
//! printing the transcript.
//!
//! ```text
//! cargo run -p sansmail-examples --example smtp-send -- --server HOST:PORT \
//!     [--tls implicit|starttls|none] [--user U --password P] --from A --to B [--to C...] \
//!     [--insecure | --ca PEM] [FILE]
//! ```
//!
//! The message comes from FILE, or standard input without one. Every reply line is printed as
//! it arrives (`S: `), every command as it is sent (`C: `), with AUTH payloads redacted and the
//! body summarised; notes from the tool start with `* `. The exit code says whether the server
//! took the message: see [`USAGE`].

use std::ffi::OsString;
use std::fmt;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use mail_tls::tokio::{HandshakeOptions, connect_implicit};
use mail_tls::{ClientTls, Service, server_name};
use mail_wire::Secret;
use smtp_proto::client::{
    Awaiting, Client, ClientConfig, Credentials, Envelope, Event, Printable, SessionError,
    TlsPolicy,
};
use smtp_proto::tokio::{ClientConnection, Traffic};
use smtp_proto::{Domain, ForwardPath, Host, Mailbox, Reply, ReversePath};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

#[path = "common/mod.rs"]
mod common;

/// The usage text printed by `--help`.
const USAGE: &str = "\
smtp-send: send one message over SMTP and print the transcript.

USAGE:
    cargo run -p sansmail-examples --example smtp-send -- --server HOST:PORT \\
        --from ADDR --to ADDR [--to ADDR...] [OPTIONS] [FILE]

The message (RFC 5322 text) is read from FILE, or from standard input when FILE is absent
or '-'. Lines may end in CRLF or LF (the client sends CRLF). Values go after the flag
(--to bob@example.org) or after '=' (--to=bob@example.org).

OPTIONS:
    --server HOST:PORT     The SMTP server (IPv6: [::1]:587)
    --tls MODE             starttls: require STARTTLS (port 587, 25) [default]
                           implicit: TLS from the first byte (port 465)
                           none:     plaintext, no STARTTLS
    --from ADDR            Envelope sender (MAIL FROM); '<>' for the null sender
    --to ADDR              Envelope recipient (RCPT TO); repeat for more
    --user NAME            Authenticate (AUTH) as NAME. The password comes from
                           --password-file, else $SMTP_SEND_PASSWORD, else --password,
                           else a prompt on the terminal (not echoed)
    --password-file FILE   Read the password from FILE (its first line)
    --password PASSWORD    The password, on the command line: other users of the machine
                           can read it in /proc/PID/cmdline while smtp-send runs, and it
                           stays in your shell history; prefer the file, the variable or
                           the prompt (never printed)
    --allow-plaintext-auth Send the password without TLS (with --tls none; test servers only)
    --ca PEM               Trust the CA certificates in PEM instead of the Mozilla roots
    --insecure             Accept any server certificate (self-signed test servers);
                           with --user, warns: the password goes to whoever answers
    --helo NAME            The name given in EHLO [default: localhost]
    --greeting-timeout S   Seconds to wait for the server's greeting [default: 300]
    -h, --help             Print this text

OUTPUT:
    S: a reply line, as received     C: a command, as sent (AUTH data redacted)
    * a note from smtp-send (TLS parameters, the outcome)

ENVIRONMENT:
    SMTP_SEND_PASSWORD     The password for --user, when --password-file is not given

EXIT CODES:
    0  the server accepted the message for every recipient
    1  the message was not accepted (refused, or the session failed)
    2  the command line is wrong, or the message file cannot be opened
    3  the server accepted the message for some recipients and refused others
";

/// The default of `--helo`.
const DEFAULT_HELO: &str = "localhost";

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
    from: ReversePath<'static>,
    to: Vec<Mailbox<'static>>,
    user: Option<String>,
    /// `--password`; resolved with the other sources by [`resolve_password`].
    password: Option<Secret<String>>,
    password_file: Option<PathBuf>,
    allow_plaintext_auth: bool,
    ca: Option<PathBuf>,
    insecure: bool,
    helo: Host<'static>,
    greeting_timeout: Duration,
    /// `None`: standard input.
    file: Option<PathBuf>,
}

/// What the command line asks for.
#[derive(Debug)]
enum Parsed {
    Send(Box<Options>),
    Help,
}

/// A command line smtp-send cannot run with. Messages never contain the password.
#[derive(Debug, Clone, PartialEq, Eq)]
enum OptionsError {
    Unknown(String),
    MissingValue(String),
    UnexpectedValue(String),
    Missing(&'static str),
    Invalid {
        flag: String,
        value: String,
        reason: String,
    },
    NotUnicode(String),
    Conflict(&'static str),
}

impl fmt::Display for OptionsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OptionsError::Unknown(arg) => write!(f, "unknown option `{arg}`"),
            OptionsError::MissingValue(flag) => write!(f, "`{flag}` needs a value"),
            OptionsError::UnexpectedValue(flag) => write!(f, "`{flag}` takes no value"),
            OptionsError::Missing(flag) => write!(f, "`{flag}` is required"),
            OptionsError::Invalid {
                flag,
                value,
                reason,
            } => write!(f, "invalid value `{value}` for `{flag}`: {reason}"),
            OptionsError::NotUnicode(flag) => write!(f, "the value of `{flag}` is not UTF-8"),
            OptionsError::Conflict(what) => f.write_str(what),
        }
    }
}

/// The error for a second FILE.
const ONE_FILE: &str = "more than one FILE given (the message is one file, or standard input)";

/// The flags that take a value.
const FLAGS_WITH_VALUES: &[&str] = &[
    "--server",
    "--tls",
    "--from",
    "--to",
    "--user",
    "--password",
    "--password-file",
    "--ca",
    "--helo",
    "--greeting-timeout",
];

fn invalid(flag: &str, value: &str, reason: impl fmt::Display) -> OptionsError {
    OptionsError::Invalid {
        flag: flag.to_owned(),
        value: value.to_owned(),
        reason: reason.to_string(),
    }
}

/// Parses command-line arguments (without the program name).
fn parse<I, S>(args: I) -> Result<Parsed, OptionsError>
where
    I: IntoIterator<Item = S>,
    S: Into<OsString>,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        return Ok(Parsed::Help);
    }
    let mut server = None;
    let mut tls = TlsMode::StartTls;
    let mut from = None;
    let mut to = Vec::new();
    let mut user = None;
    let mut password = None;
    let mut password_file = None;
    let mut greeting_timeout = DEFAULT_GREETING_TIMEOUT;
    let mut allow_plaintext_auth = false;
    let mut ca = None;
    let mut insecure = false;
    let mut helo = None;
    let mut file: Option<Option<PathBuf>> = None;
    let mut rest = args.into_iter();
    while let Some(arg) = rest.next() {
        let Some(text) = arg.to_str() else {
            // A file name may be any OS string; flags are text.
            if file.is_none() {
                file = Some(Some(PathBuf::from(arg)));
                continue;
            }
            return Err(OptionsError::Conflict(ONE_FILE));
        };
        if !text.starts_with("--") || text == "-" {
            if file.is_some() {
                // Not repeated: a stray word may be a password that lost its flag.
                return Err(OptionsError::Conflict(ONE_FILE));
            }
            file = Some((text != "-").then(|| PathBuf::from(text)));
            continue;
        }
        let (flag, inline) = match text.split_once('=') {
            Some((flag, value)) => (flag, Some(value)),
            None => (text, None),
        };
        if matches!(flag, "--insecure" | "--allow-plaintext-auth") {
            if inline.is_some() {
                return Err(OptionsError::UnexpectedValue(flag.to_owned()));
            }
            match flag {
                "--insecure" => insecure = true,
                _ => allow_plaintext_auth = true,
            }
            continue;
        }
        if !FLAGS_WITH_VALUES.contains(&flag) {
            // The flag alone: `--pasword=...` must not print what follows the `=`.
            return Err(OptionsError::Unknown(flag.to_owned()));
        }
        let value: OsString = match inline {
            Some(value) => value.into(),
            // `--from <>` and `--password -x` are values, not flags: only `--...` is refused.
            None => match rest.next() {
                Some(v) if !v.to_string_lossy().starts_with("--") => v,
                _ => return Err(OptionsError::MissingValue(flag.to_owned())),
            },
        };
        match flag {
            "--ca" => {
                ca = Some(PathBuf::from(value));
                continue;
            }
            "--password-file" => {
                password_file = Some(PathBuf::from(value));
                continue;
            }
            _ => {}
        }
        let value = value
            .into_string()
            .map_err(|_| OptionsError::NotUnicode(flag.to_owned()))?;
        match flag {
            "--server" => server = Some(parse_server(&value)?),
            "--tls" => {
                tls = match value.as_str() {
                    "starttls" => TlsMode::StartTls,
                    "implicit" => TlsMode::Implicit,
                    "none" => TlsMode::None,
                    _ => return Err(invalid(flag, &value, "expected implicit, starttls or none")),
                }
            }
            "--from" => from = Some(parse_from(&value)?),
            "--to" => to.push(parse_mailbox(flag, &value)?),
            "--user" => user = Some(value),
            "--password" => password = Some(Secret::new(value)),
            "--greeting-timeout" => {
                let seconds: u64 = value
                    .parse()
                    .ok()
                    .filter(|&s| s > 0)
                    .ok_or_else(|| invalid(flag, &value, "expected a number of seconds"))?;
                greeting_timeout = Duration::from_secs(seconds);
            }
            "--helo" => {
                helo = Some(Domain::new(value.clone()).map_err(|e| invalid(flag, &value, e))?);
            }
            _ => return Err(OptionsError::Unknown(flag.to_owned())),
        }
    }
    let (host, port) = server.ok_or(OptionsError::Missing("--server"))?;
    let from = from.ok_or(OptionsError::Missing("--from"))?;
    if to.is_empty() {
        return Err(OptionsError::Missing("--to"));
    }
    if user.is_none() && (password.is_some() || password_file.is_some()) {
        return Err(OptionsError::Conflict(
            "`--password` and `--password-file` need `--user`",
        ));
    }
    if password.is_some() && password_file.is_some() {
        return Err(OptionsError::Conflict(
            "`--password` and `--password-file` exclude each other",
        ));
    }
    if insecure && ca.is_some() {
        return Err(OptionsError::Conflict(
            "`--insecure` and `--ca` exclude each other",
        ));
    }
    Ok(Parsed::Send(Box::new(Options {
        host,
        port,
        tls,
        from,
        to,
        user,
        password,
        password_file,
        allow_plaintext_auth,
        ca,
        insecure,
        helo: Host::Domain(match helo {
            Some(domain) => domain,
            None => Domain::new(DEFAULT_HELO).map_err(|e| invalid("--helo", DEFAULT_HELO, e))?,
        }),
        greeting_timeout,
        file: file.flatten(),
    })))
}

/// The environment variable that holds the password for `--user`.
const PASSWORD_VARIABLE: &str = "SMTP_SEND_PASSWORD";

/// The default of `--greeting-timeout`: RFC 5321 section 4.5.3.2.
const DEFAULT_GREETING_TIMEOUT: Duration = Duration::from_secs(300);

/// The password for `--user`: from `--password-file`, else [`PASSWORD_VARIABLE`], else
/// `--password`, else a prompt on the terminal with echo off. `Ok(None)` without `--user`.
/// Error messages never contain the password (nor any of the file's text).
fn resolve_password(options: &Options) -> Result<Option<Secret<String>>, String> {
    if options.user.is_none() {
        return Ok(None);
    }
    if let Some(path) = &options.password_file {
        return common::read_password_file(path).map(Some);
    }
    match std::env::var(PASSWORD_VARIABLE) {
        Ok(password) if !password.is_empty() => return Ok(Some(Secret::new(password))),
        Err(std::env::VarError::NotUnicode(_)) => {
            return Err(format!("${PASSWORD_VARIABLE} is not UTF-8"));
        }
        _ => {}
    }
    if let Some(password) = &options.password {
        return Ok(Some(password.clone()));
    }
    prompt_password(options.user.as_deref().unwrap_or_default()).map(Some)
}

/// Asks for the password on the terminal, echo off (`stty -echo` on the terminal, as
/// `ssh` and `sudo` do). Refuses when standard input is not a terminal: the message may be
/// coming through it, and a pipe cannot be asked.
fn prompt_password(user: &str) -> Result<Secret<String>, String> {
    use std::io::{BufRead, IsTerminal};
    let no_terminal = || {
        format!(
            "--user needs a password: give --password-file FILE or set ${PASSWORD_VARIABLE} \
             (standard input is not a terminal to ask on)"
        )
    };
    if !std::io::stdin().is_terminal() {
        return Err(no_terminal());
    }
    let tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .map_err(|_| no_terminal())?;
    let stty = |mode: &str| {
        tty.try_clone().ok().is_some_and(|t| {
            std::process::Command::new("stty")
                .arg(mode)
                .stdin(t)
                .status()
                .is_ok_and(|s| s.success())
        })
    };
    // Echo goes off before the prompt shows, so that nothing typed after it is echoed.
    if !stty("-echo") {
        return Err("cannot turn the terminal's echo off to ask for the password".to_owned());
    }
    let mut out = &tty;
    let _ = write!(out, "Password for {user}: ");
    let _ = out.flush();
    let mut line = String::new();
    let read = std::io::BufReader::new(&tty).read_line(&mut line);
    stty("echo");
    let _ = writeln!(out);
    let line = Secret::new(line);
    read.map_err(|e| format!("reading the password: {e}"))?;
    let password = line.expose().trim_end_matches(['\r', '\n']).to_owned();
    if password.is_empty() {
        return Err("no password given".to_owned());
    }
    Ok(Secret::new(password))
}

/// `HOST:PORT`, `[IPv6]:PORT`.
fn parse_server(value: &str) -> Result<(String, u16), OptionsError> {
    let (host, port) = value
        .rsplit_once(':')
        .ok_or_else(|| invalid("--server", value, "expected HOST:PORT"))?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if host.is_empty() {
        return Err(invalid("--server", value, "the host is empty"));
    }
    let port = port
        .parse()
        .map_err(|_| invalid("--server", value, "expected a port number from 1 to 65535"))?;
    if port == 0 {
        return Err(invalid("--server", value, "port 0 cannot be connected to"));
    }
    Ok((host.to_owned(), port))
}

fn parse_from(value: &str) -> Result<ReversePath<'static>, OptionsError> {
    if value.is_empty() || value == "<>" {
        return Ok(ReversePath::Null);
    }
    parse_mailbox("--from", value).map(ReversePath::Mailbox)
}

fn parse_mailbox(flag: &str, value: &str) -> Result<Mailbox<'static>, OptionsError> {
    let bare = value
        .strip_prefix('<')
        .and_then(|v| v.strip_suffix('>'))
        .unwrap_or(value);
    Mailbox::parse(bare)
        .map(Mailbox::into_owned)
        .map_err(|e| invalid(flag, value, e))
}

/// Prints the transcript from the driver's trace: server lines as they complete, commands
/// as sent, bodies summarised. Credentials never reach it: the client marks its SASL
/// responses, and the driver hands them over as [`Traffic::SentSecret`] without their bytes,
/// so no reply the server sends (a challenge pushed ahead of time) can make one show.
#[derive(Debug, Default)]
struct Transcript {
    /// A partial reply line.
    server: Vec<u8>,
    /// A partial command line.
    client: Vec<u8>,
    mode: ClientMode,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum ClientMode {
    #[default]
    Commands,
    /// A DATA body: octets so far, and where in the `CRLF . CRLF` terminator we are.
    Data { octets: u64, state: DataState },
    /// A BDAT chunk: octets left.
    Bdat { total: u64, left: u64 },
}

/// Finds the end of a DATA body: "." CRLF at the start of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DataState {
    LineStart,
    Dot,
    DotCr,
    Middle,
    Cr,
}

/// Reply lines and commands are printed with control characters and bidirectional
/// overrides escaped: server text never reaches the terminal raw.
fn show(line: &[u8]) -> String {
    Printable(line).to_string()
}

fn note(text: impl fmt::Display) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "* {text}");
}

impl Transcript {
    fn traffic(&mut self, traffic: Traffic, bytes: &[u8]) {
        let mut out = std::io::stdout().lock();
        match traffic {
            Traffic::Received => self.received(&mut out, bytes),
            Traffic::Sent => self.sent(&mut out, bytes),
            Traffic::SentSecret { .. } => self.secret(&mut out),
        }
    }

    fn received(&mut self, out: &mut impl Write, bytes: &[u8]) {
        for &byte in bytes {
            if byte != b'\n' {
                self.server.push(byte);
                continue;
            }
            let line = std::mem::take(&mut self.server);
            let line = line.strip_suffix(b"\r").unwrap_or(&line);
            let _ = writeln!(out, "S: {}", show(line));
            // The last line of a reply: "ddd" or "ddd text".
            let last = line.len() == 3 || line.get(3) == Some(&b' ');
            if last && line.get(..3) == Some(b"354") {
                self.mode = ClientMode::Data {
                    octets: 0,
                    state: DataState::LineStart,
                };
            }
        }
    }

    fn sent(&mut self, out: &mut impl Write, mut bytes: &[u8]) {
        while let Some((&byte, rest)) = bytes.split_first() {
            match &mut self.mode {
                ClientMode::Commands => {
                    bytes = rest;
                    if byte != b'\n' {
                        self.client.push(byte);
                        continue;
                    }
                    let line = std::mem::take(&mut self.client);
                    let line = line.strip_suffix(b"\r").unwrap_or(&line);
                    self.command(out, line);
                }
                ClientMode::Data { octets, state } => {
                    bytes = rest;
                    *state = match (*state, byte) {
                        (DataState::LineStart, b'.') => DataState::Dot,
                        (DataState::Dot, b'\r') => DataState::DotCr,
                        (DataState::DotCr, b'\n') => {
                            // The ".\r\n" terminator is not counted as body.
                            let body = octets.saturating_sub(2);
                            let _ = writeln!(out, "C: <message body: {body} octets>");
                            let _ = writeln!(out, "C: .");
                            self.mode = ClientMode::Commands;
                            continue;
                        }
                        (_, b'\r') => DataState::Cr,
                        (DataState::Cr, b'\n') => DataState::LineStart,
                        _ => DataState::Middle,
                    };
                    *octets += 1;
                }
                ClientMode::Bdat { total, left } => {
                    let take = bytes
                        .len()
                        .min(usize::try_from(*left).unwrap_or(usize::MAX));
                    bytes = bytes.get(take..).unwrap_or(&[]);
                    *left -= take as u64;
                    if *left == 0 {
                        let _ = writeln!(out, "C: <BDAT chunk: {total} octets>");
                        self.mode = ClientMode::Commands;
                    }
                }
            }
        }
    }

    /// A secret the client sent (a SASL response, or the initial response ending an AUTH
    /// line): it ends the line, which is printed with the secret replaced.
    fn secret(&mut self, out: &mut impl Write) {
        let start = std::mem::take(&mut self.client);
        let _ = writeln!(out, "C: {}<redacted>", show(&start));
    }

    fn command(&mut self, out: &mut impl Write, line: &[u8]) {
        let words: Vec<&[u8]> = line.split(|&b| b == b' ').collect();
        let verb = words.first().copied().unwrap_or_default();
        let _ = writeln!(out, "C: {}", show(line));
        let size = words
            .get(1)
            .and_then(|s| std::str::from_utf8(s).ok()?.parse().ok());
        if let (true, Some(size)) = (verb.eq_ignore_ascii_case(b"BDAT"), size) {
            if size > 0 {
                self.mode = ClientMode::Bdat {
                    total: size,
                    left: size,
                };
            }
        }
    }
}

/// How the session ended for the message.
#[derive(Debug, Default)]
struct Report {
    /// The reply to the end of the body, when the message was accepted.
    accepted: Option<Reply<'static>>,
    /// Why it was not.
    failure: Option<String>,
    /// Recipients refused (index, reply).
    refused: Vec<(usize, Reply<'static>)>,
}

/// A reply's code, enhanced code and first line, escaped ([`Printable`]).
fn summary(reply: &Reply<'_>) -> String {
    let text = Printable(reply.first_line());
    match reply.enhanced() {
        Some(enhanced) => format!("{} {enhanced} {text}", reply.code()),
        None => format!("{} {text}", reply.code()),
    }
}

async fn run_session<S>(
    conn: &mut ClientConnection<S>,
    envelope: Envelope,
    recipients: &[Mailbox<'static>],
    mut body: Option<BodyReader>,
    silent_hint: Option<&str>,
) -> Report
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut report = Report::default();
    let mut envelope = Some(envelope);
    loop {
        let event = match conn.next_event().await {
            Ok(Some(event)) => event,
            Ok(None) => break,
            Err(error) => {
                report.failure.get_or_insert_with(|| error.to_string());
                continue;
            }
        };
        match event {
            Event::StartTls => {
                if let Some(info) = conn.tls_info() {
                    note(format_args!(
                        "TLS established: {} {}",
                        info.protocol_version.as_deref().unwrap_or("?"),
                        info.cipher_suite.as_deref().unwrap_or("?")
                    ));
                }
            }
            Event::Authenticated(mechanism) => note(format_args!("authenticated with {mechanism}")),
            Event::Ready => match envelope.take() {
                Some(envelope) => {
                    if let Err(error) = conn.send_message(envelope) {
                        report.failure = Some(error.to_string());
                        conn.quit();
                    }
                }
                None => conn.quit(),
            },
            Event::Recipient { index, reply } if !reply.code().is_positive() => {
                report.refused.push((index, reply));
            }
            Event::BodyReady => {
                let Some(reader) = body.take() else {
                    continue;
                };
                match conn.send_body_from(reader).await {
                    Ok(_) => {}
                    Err(error) => {
                        // The body could not be completed: the session cannot go on.
                        report.failure = Some(format!("sending the message: {error}"));
                        break;
                    }
                }
            }
            Event::MessageAccepted(reply) => report.accepted = Some(reply),
            // Rejection's and SessionError's Display escape the server's text.
            Event::MessageRejected(rejection) => report.failure = Some(rejection.to_string()),
            // A server that never greets a plaintext client is most likely waiting for a
            // TLS handshake: say so (mail-tls's diagnosis, docs/design.md section 3.7).
            Event::Closed(Err(SessionError::Timeout(Awaiting::Greeting)))
                if silent_hint.is_some() =>
            {
                let hint = silent_hint.unwrap_or_default();
                report
                    .failure
                    .get_or_insert_with(|| format!("{hint} (smtp-send: --tls implicit)"));
            }
            Event::Closed(Err(error)) => {
                report.failure.get_or_insert_with(|| error.to_string());
            }
            _ => {}
        }
    }
    for (index, reply) in &report.refused {
        let address = recipients
            .get(*index)
            .map(ToString::to_string)
            .unwrap_or_default();
        note(format_args!("refused <{address}>: {}", summary(reply)));
    }
    report
}

/// The message, read on a thread of its own (a file or standard input) and handed over in
/// pieces through a bounded channel, so that neither a large file nor a slow pipe is held
/// in memory or blocks the runtime. A read error reaches the driver as an error, never as an
/// early end of the message.
struct BodyReader {
    pieces: tokio::sync::mpsc::Receiver<std::io::Result<Vec<u8>>>,
    current: Vec<u8>,
    at: usize,
}

impl BodyReader {
    /// How many pieces may wait in the channel.
    const QUEUE: usize = 2;

    fn spawn(mut source: Box<dyn Read + Send>) -> Self {
        let (tx, pieces) = tokio::sync::mpsc::channel(Self::QUEUE);
        std::thread::spawn(move || {
            let mut buf = vec![0; smtp_proto::tokio::BODY_CHUNK];
            loop {
                let piece = match source.read(&mut buf) {
                    Ok(0) => return,
                    Ok(n) => Ok(buf.get(..n).unwrap_or_default().to_vec()),
                    Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(error) => Err(error),
                };
                let failed = piece.is_err();
                if tx.blocking_send(piece).is_err() || failed {
                    return;
                }
            }
        });
        BodyReader {
            pieces,
            current: Vec::new(),
            at: 0,
        }
    }
}

impl AsyncRead for BodyReader {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        if this.at >= this.current.len() {
            match this.pieces.poll_recv(cx) {
                Poll::Pending => return Poll::Pending,
                // The sender is dropped at the end of the input.
                Poll::Ready(None) => return Poll::Ready(Ok(())),
                Poll::Ready(Some(Err(error))) => return Poll::Ready(Err(error)),
                Poll::Ready(Some(Ok(piece))) => {
                    this.current = piece;
                    this.at = 0;
                }
            }
        }
        let rest = this.current.get(this.at..).unwrap_or_default();
        let n = rest.len().min(buf.remaining());
        buf.put_slice(rest.get(..n).unwrap_or_default());
        this.at += n;
        Poll::Ready(Ok(()))
    }
}

fn open_body(file: &Option<PathBuf>) -> std::io::Result<Box<dyn Read + Send>> {
    Ok(match file {
        Some(path) => Box::new(std::fs::File::open(path)?),
        None => Box::new(std::io::stdin()),
    })
}

async fn send(options: Options, password: Option<Secret<String>>) -> ExitCode {
    let body = match open_body(&options.file) {
        Ok(body) => body,
        Err(error) => {
            let name = options.file.as_ref().map(|p| p.display().to_string());
            eprintln!(
                "smtp-send: cannot open {}: {error}",
                name.unwrap_or_default()
            );
            return ExitCode::from(2);
        }
    };

    let mut config = ClientConfig::relay(options.helo.clone());
    config.tls = match options.tls {
        TlsMode::StartTls => TlsPolicy::Required,
        TlsMode::Implicit | TlsMode::None => TlsPolicy::Never,
    };
    config.implicit_tls = options.tls == TlsMode::Implicit;
    // DATA turns the bare LF of a file written on Unix into CRLF; BDAT would send it as is.
    config.chunking = false;
    config.allow_plaintext_auth = options.allow_plaintext_auth;
    config.timeouts.greeting = options.greeting_timeout;
    if let (Some(user), Some(password)) = (&options.user, password) {
        config.credentials = Some(Credentials::password(user.clone(), password));
        if options.insecure && options.tls != TlsMode::None {
            eprintln!(
                "smtp-send: warning: --insecure accepts any certificate, so the password for \
                 {user} goes to whoever answers, an attacker in the middle included"
            );
        }
    }

    let verification = if options.insecure {
        Ok(ClientTls::opportunistic_accept_any_certificate())
    } else if let Some(ca) = &options.ca {
        ClientTls::custom_roots_from_pem_file(ca)
    } else {
        Ok(ClientTls::webpki_roots())
    };
    let tls = match verification.and_then(|v| v.build()) {
        Ok(tls) => tls,
        Err(error) => {
            eprintln!("smtp-send: TLS configuration: {error}");
            return ExitCode::from(2);
        }
    };
    let name = match server_name(&options.host) {
        Ok(name) => name,
        Err(error) => {
            eprintln!("smtp-send: {error}");
            return ExitCode::from(2);
        }
    };

    let envelope = options
        .to
        .iter()
        .fold(Envelope::new(options.from.clone()), |e, to| {
            e.with_recipient(ForwardPath::Mailbox(to.clone()))
        });
    let address = (options.host.as_str(), options.port);
    let tcp = match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(address)).await {
        Ok(Ok(tcp)) => tcp,
        Ok(Err(error)) => return fail(format_args!("cannot connect: {error}")),
        Err(_) => {
            return fail(format_args!(
                "cannot connect: no answer in {CONNECT_TIMEOUT:?}"
            ));
        }
    };
    if let Ok(peer) = tcp.peer_addr() {
        note(format_args!("connected to {peer}"));
    }
    let transcript = Arc::new(Mutex::new(Transcript::default()));
    let trace = move |traffic: Traffic, bytes: &[u8]| {
        if let Ok(mut transcript) = transcript.lock() {
            transcript.traffic(traffic, bytes);
        }
    };
    let client = Client::new(config, Instant::now());
    let body = BodyReader::spawn(body);
    let options_tls = HandshakeOptions::default()
        .service(Service::Submission)
        .port(options.port);
    let hint = mail_tls::silent_server_hint(Service::Submission, Some(options.port));
    let report = match options.tls {
        TlsMode::Implicit => {
            let stream = match connect_implicit(tls, name, tcp, options_tls).await {
                Ok(stream) => stream,
                Err(error) => return fail(format_args!("TLS handshake: {error}")),
            };
            let info = mail_tls::SessionInfo::from_connection(stream.get_ref().1);
            note(format_args!(
                "TLS established: {} {}",
                info.protocol_version.as_deref().unwrap_or("?"),
                info.cipher_suite.as_deref().unwrap_or("?")
            ));
            let mut conn = ClientConnection::new(stream, client).with_trace(trace);
            run_session(&mut conn, envelope, &options.to, Some(body), None).await
        }
        TlsMode::StartTls => {
            let mut conn = ClientConnection::new(tcp, client)
                .with_trace(trace)
                .with_starttls(tls, name, options_tls);
            run_session(&mut conn, envelope, &options.to, Some(body), Some(&hint)).await
        }
        TlsMode::None => {
            let mut conn = ClientConnection::new(tcp, client).with_trace(trace);
            run_session(&mut conn, envelope, &options.to, Some(body), Some(&hint)).await
        }
    };
    match (&report.accepted, &report.failure) {
        (Some(reply), _) if report.refused.is_empty() => {
            note(format_args!("accepted: {}", summary(reply)));
            ExitCode::SUCCESS
        }
        (Some(reply), _) => {
            note(format_args!(
                "accepted for {} of {} recipients: {}",
                options.to.len() - report.refused.len(),
                options.to.len(),
                summary(reply)
            ));
            ExitCode::from(3)
        }
        (None, Some(failure)) => fail(format_args!("not accepted: {failure}")),
        (None, None) => fail("not accepted: the session ended without an answer"),
    }
}

/// How long to wait for the TCP connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

fn fail(message: impl fmt::Display) -> ExitCode {
    note(&message);
    eprintln!("smtp-send: {message}");
    ExitCode::FAILURE
}

fn main() -> ExitCode {
    let options = match parse(std::env::args_os().skip(1)) {
        Ok(Parsed::Send(options)) => *options,
        Ok(Parsed::Help) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(error) => {
            eprintln!("smtp-send: {error}\n\nRun with --help for the options.");
            return ExitCode::from(2);
        }
    };
    let password = match resolve_password(&options) {
        Ok(password) => password,
        Err(error) => {
            eprintln!("smtp-send: {error}");
            return ExitCode::from(2);
        }
    };
    common::run_session("smtp-send", send(options, password))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_owned).collect()
    }

    fn options(line: &str) -> Options {
        match parse(args(line)) {
            Ok(Parsed::Send(options)) => *options,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn parses_a_full_command_line() {
        let o = options(
            "--server [::1]:587 --tls=implicit --from <> --to a@example.org --to <b@example.org> \
             --user u --password p --insecure --helo client.example msg.eml",
        );
        assert_eq!((o.host.as_str(), o.port), ("::1", 587));
        assert_eq!(o.tls, TlsMode::Implicit);
        assert_eq!(o.from, ReversePath::Null);
        assert_eq!(o.to.len(), 2);
        assert_eq!(o.to[1].to_string(), "b@example.org");
        assert_eq!(o.user.as_deref(), Some("u"));
        assert!(o.insecure);
        assert_eq!(o.file, Some(PathBuf::from("msg.eml")));
        let o = options("--server h:25 --from a@b.example --to c@d.example -");
        assert_eq!((o.tls, o.file), (TlsMode::StartTls, None));
    }

    #[test]
    fn refuses_bad_command_lines() {
        let err = |line: &str| parse(args(line)).unwrap_err();
        assert_eq!(
            err("--from a@b.example --to c@d.example"),
            OptionsError::Missing("--server")
        );
        assert_eq!(
            err("--server h:25 --to c@d.example"),
            OptionsError::Missing("--from")
        );
        assert_eq!(
            err("--server h:25 --from a@b.example"),
            OptionsError::Missing("--to")
        );
        assert!(matches!(
            err("--server h --from a@b.example --to c@d.example"),
            OptionsError::Invalid { .. }
        ));
        assert!(matches!(
            err("--server h:25 --tls maybe --from a@b.example --to c@d.example"),
            OptionsError::Invalid { .. }
        ));
        assert_eq!(
            err("--server h:25 --from"),
            OptionsError::MissingValue("--from".into())
        );
        assert_eq!(err("--bogus"), OptionsError::Unknown("--bogus".into()));
        assert_eq!(
            err("--insecure=yes"),
            OptionsError::UnexpectedValue("--insecure".into())
        );
        // `--user` alone is fine (the password comes from the environment or a prompt); a
        // password without a user, or from two places, is not.
        let e = err("--server h:25 --from a@b.example --to c@d.example --password p");
        assert!(matches!(e, OptionsError::Conflict(_)));
        let e = err(
            "--server h:25 --from a@b.example --to c@d.example --user u --password p \
                     --password-file f",
        );
        assert!(matches!(e, OptionsError::Conflict(_)));
        // The password never appears in an error, whatever is wrong around it.
        for line in [
            "--server h:25 --from a@b.example --to not-an-address --password hunter2",
            "--server h:25 --from a@b.example --to c@d.example --pasword=hunter2",
            "--server h:25 --from a@b.example --to c@d.example --password=hunter2",
            "--server h:25 --from a@b.example --to c@d.example --password hunter2 \
             --password-file f --user u",
            "--password hunter2 --server h:25 --from a@b.example --to c@d.example \
             --greeting-timeout x --user u",
            "--server h:25 --from a@b.example --to c@d.example --user u --password hunter2 \
             a.eml hunter2",
        ] {
            let e = err(line);
            assert!(!e.to_string().contains("hunter2"), "{line}: {e}");
        }
        assert!(matches!(parse(args("--bogus --help")), Ok(Parsed::Help)));
    }

    #[test]
    fn transcript_redacts_auth_and_summarises_bodies() {
        let mut t = Transcript::default();
        let mut out = Vec::new();
        t.sent(&mut out, b"AUTH PLAIN ");
        t.secret(&mut out);
        t.received(&mut out, b"235 2.7.0 ok\r\n");
        t.sent(&mut out, b"AUTH LOGIN\r\n");
        t.received(&mut out, b"334 VXNlcm5hbWU6\r\n");
        t.secret(&mut out);
        t.received(&mut out, b"334 UGFzc3dvcmQ6\r\n");
        t.secret(&mut out);
        t.received(&mut out, b"235 2.7.0 ok\r\nxx");
        t.sent(&mut out, b"DATA\r\n");
        t.received(&mut out, b"\r\n354 go\r\n");
        t.sent(&mut out, b"Subject: x\r\n\r\n..dot\r");
        t.sent(&mut out, b"\n.\r\nQUIT\r\n");
        t.sent(&mut out, b"BDAT 3 LAST\r\nabcNOOP\r\n");
        let text = String::from_utf8(out).unwrap();
        assert!(
            !text.contains("AGFsaWNl") && !text.contains("YWxpY2U") && !text.contains("c2VjcmV0")
        );
        assert_eq!(
            text,
            "C: AUTH PLAIN <redacted>\nS: 235 2.7.0 ok\nC: AUTH LOGIN\nS: 334 VXNlcm5hbWU6\n\
             C: <redacted>\nS: 334 UGFzc3dvcmQ6\nC: <redacted>\nS: 235 2.7.0 ok\nC: DATA\n\
             S: xx\nS: 354 go\nC: <message body: 21 octets>\nC: .\nC: QUIT\n\
             C: BDAT 3 LAST\nC: <BDAT chunk: 3 octets>\nC: NOOP\n"
        );
    }

    /// What the server says never decides what is redacted: a pushed `334` changes nothing,
    /// and server text is escaped.
    #[test]
    fn replies_decide_nothing_and_are_escaped() {
        let mut t = Transcript::default();
        let mut out = Vec::new();
        t.received(
            &mut out,
            b"334 odd\r\n554 \x1b[2J\x1b[31mfake\xe2\x80\xae\r\n",
        );
        t.sent(&mut out, b"QUIT\r\n");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "S: 334 odd\nS: 554 \\x1b[2J\\x1b[31mfake\\u{202e}\nC: QUIT\n"
        );
    }
}
