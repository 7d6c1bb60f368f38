//! `pop3-fetch`: download every message of a POP3 account into a local Maildir, with the
//! pop3-proto client and its tokio driver.
//!
//! ```text
//! cargo run -p sansmail-examples --example pop3-fetch -- --server HOST:PORT \
//!     [--tls implicit|starttls|none] [--insecure] --user U (--password P | --password-file F) \
//!     --maildir DIR [--keep]
//! ```
//!
//! Each message is written to `DIR/tmp/`, flushed to disk (fsync), then renamed into
//! `DIR/new/` and the directory flushed: the Maildir delivery protocol, so a reader never sees
//! half a message and a crash never loses one. Only then is it marked for deletion on the
//! server (`DELE`), and deletions take effect at `QUIT` (RFC 1939 section 6). With `--keep`
//! nothing is deleted and the unique-ids (`UIDL`) of the messages fetched are remembered in
//! `DIR/pop3-fetch.uidl`, rewritten atomically, so that the next run fetches only new ones.
//! See [`USAGE`].

use std::collections::HashSet;
use std::ffi::OsString;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mail_tls::tokio::{HandshakeOptions, connect_implicit};
use mail_tls::{ClientTls, Service, server_name};
use mail_wire::Secret;
use pop3_proto::client::{Client, ClientConfig, Credentials, Event, TlsPolicy, UidlSync};
use pop3_proto::tokio::ClientConnection;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

#[path = "common/mod.rs"]
mod common;

use common::BadPassword;

/// The usage text printed by `--help`.
const USAGE: &str = "\
pop3-fetch: download every message of a POP3 account into a local Maildir.

USAGE:
    cargo run -p sansmail-examples --example pop3-fetch -- --server HOST:PORT \\
        --user NAME (--password-file FILE | --password PASSWORD) --maildir DIR [OPTIONS]

Values go after the flag (--user alice) or after '=' (--user=alice).

OPTIONS:
    --server HOST:PORT     The POP3 server (IPv6: [::1]:995)
    --tls MODE             starttls: require STLS (port 110) [default]
                           implicit: TLS from the first byte (port 995)
                           none:     plaintext; the password crosses the network in clear
                           (test servers only)
    --insecure             Accept any server certificate (self-signed test servers): the
                           password then goes to whoever answers
    --user NAME            The account's user name
    --password-file FILE   Read the password from FILE (its first line); the file must be
                           private to its owner (mode 0600)
    --password PASSWORD    The password, on the command line: other users of the machine
                           can read it in /proc/PID/cmdline; prefer --password-file
    --maildir DIR          The local Maildir (tmp/, new/, cur/), created if missing
    --keep                 Leave the messages on the server and remember their unique-ids
                           in DIR/pop3-fetch.uidl, so that the next run fetches only new
                           ones [default: delete each message once it is safely in DIR]
    --max-messages N       Refuse a maildrop listing more than N messages, so that a
                           server cannot fill memory with its listing [default: 1000000]
    --timeout SECS         Seconds to wait for the connection and each response
                           [default: 120]
    -h, --help             Print this text

OUTPUT:
    One line per message fetched: its number, unique-id, size and file in DIR; then a
    summary. Errors go to standard error as one line starting with 'pop3-fetch: '. The
    password is never printed.

EXIT CODES:
    0  every message was fetched (and, without --keep, deleted on the server)
    1  the session failed (refused login, TLS failure, a message not fetched, ...)
    2  the command line is wrong, or the password file or DIR cannot be used
";

/// The name of the file in DIR that remembers fetched unique-ids.
const UIDL_FILE: &str = "pop3-fetch.uidl";

/// The default of `--max-messages`: a listing entry costs about 100 octets of memory, so at
/// most about 100 MB.
const DEFAULT_MAX_MESSAGES: u32 = 1_000_000;

/// The default of `--timeout`.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

/// The longest password file read, in octets: a password line, not a file to slurp.
const MAX_PASSWORD_FILE: u64 = 4096;

/// How TLS is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TlsMode {
    StartTls,
    Implicit,
    None,
}

/// Where the password comes from.
#[derive(Debug)]
enum PasswordSource {
    Given(Secret<String>),
    File(PathBuf),
}

/// Everything the command line sets.
#[derive(Debug)]
struct Options {
    host: String,
    port: u16,
    tls: TlsMode,
    insecure: bool,
    user: String,
    password: PasswordSource,
    maildir: PathBuf,
    keep: bool,
    max_messages: u32,
    timeout: Duration,
}

/// What the command line asks for.
#[derive(Debug)]
enum Parsed {
    Fetch(Box<Options>),
    Help,
}

/// Parses command-line arguments (without the program name). Errors never contain a
/// password: an unknown flag is named without its value, and a stray word is not repeated.
fn parse<I, S>(args: I) -> Result<Parsed, String>
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
    let mut insecure = false;
    let mut keep = false;
    let mut user = None;
    let mut password = None;
    let mut maildir = None;
    let mut max_messages = DEFAULT_MAX_MESSAGES;
    let mut timeout = DEFAULT_TIMEOUT;
    let mut rest = args.into_iter();
    while let Some(arg) = rest.next() {
        let Some(text) = arg.to_str() else {
            return Err("an argument is not UTF-8 (not repeated: it may be a password)".into());
        };
        let (flag, inline) = match text.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag.to_owned(), Some(value)),
            _ => (text.to_owned(), None),
        };
        if !flag.starts_with("--") {
            return Err(
                "unexpected argument that is no option (not repeated: it may be a password)".into(),
            );
        }
        if matches!(flag.as_str(), "--insecure" | "--keep") {
            if inline.is_some() {
                return Err(format!("`{flag}` takes no value"));
            }
            match flag.as_str() {
                "--insecure" => insecure = true,
                _ => keep = true,
            }
            continue;
        }
        if !matches!(
            flag.as_str(),
            "--server"
                | "--tls"
                | "--user"
                | "--password"
                | "--password-file"
                | "--maildir"
                | "--max-messages"
                | "--timeout"
        ) {
            return Err(format!("unknown option `{flag}`"));
        }
        let value: OsString = match inline {
            Some(value) => value.into(),
            None => match rest.next() {
                Some(v) if !v.to_string_lossy().starts_with("--") => v,
                _ => return Err(format!("`{flag}` needs a value")),
            },
        };
        match flag.as_str() {
            "--maildir" => {
                maildir = Some(PathBuf::from(value));
                continue;
            }
            "--password-file" | "--password" if password.is_some() => {
                return Err("give one of `--password` and `--password-file`".into());
            }
            "--password-file" => {
                password = Some(PasswordSource::File(PathBuf::from(value)));
                continue;
            }
            _ => {}
        }
        let value = value
            .into_string()
            .map_err(|_| format!("the value of `{flag}` is not UTF-8"))?;
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
            "--password" => password = Some(PasswordSource::Given(Secret::new(value))),
            "--max-messages" => {
                max_messages = value.parse().ok().filter(|&n| n > 0).ok_or_else(|| {
                    format!("invalid value `{value}` for `--max-messages`: expected a number")
                })?;
            }
            _ => {
                let seconds: u64 = value.parse().ok().filter(|&s| s > 0).ok_or_else(|| {
                    format!("invalid value `{value}` for `--timeout`: expected seconds")
                })?;
                timeout = Duration::from_secs(seconds);
            }
        }
    }
    let (host, port) = server.ok_or("`--server` is required")?;
    let user = user.ok_or("`--user` is required")?;
    let password = password.ok_or("`--password` or `--password-file` is required")?;
    let maildir = maildir.ok_or("`--maildir` is required")?;
    Ok(Parsed::Fetch(Box::new(Options {
        host,
        port,
        tls,
        insecure,
        user,
        password,
        maildir,
        keep,
        max_messages,
        timeout,
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

/// Reads the password: the first line of the file, which must be a regular file owned by
/// the user running pop3-fetch (or root) and not readable or writable by group or others.
/// Errors never contain the file's text.
fn read_password_file(path: &Path) -> Result<Secret<String>, String> {
    let fail = |why: String| format!("the password file {}: {why}", path.display());
    let file = File::open(path).map_err(|e| fail(e.to_string()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let meta = file.metadata().map_err(|e| fail(e.to_string()))?;
        if !meta.is_file() {
            return Err(fail("is not a regular file".into()));
        }
        let me = rustix::process::geteuid().as_raw();
        if meta.uid() != me && meta.uid() != 0 {
            return Err(fail(format!(
                "is owned by user {}, not by the user running pop3-fetch ({me}) or root",
                meta.uid()
            )));
        }
        let mode = meta.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(fail(format!(
                "may be read or changed by group or others (mode {:04o}); make it private with \
                 `chmod 600 {}`",
                mode & 0o7777,
                path.display()
            )));
        }
    }
    let mut bytes = Vec::new();
    io::Read::read_to_end(&mut io::Read::take(file, MAX_PASSWORD_FILE + 1), &mut bytes)
        .map_err(|e| fail(e.to_string()))?;
    let bytes = Secret::new(bytes);
    if bytes.expose().len() as u64 > MAX_PASSWORD_FILE {
        return Err(fail(format!("is longer than {MAX_PASSWORD_FILE} octets")));
    }
    common::first_line(&bytes).map_err(|bad| match bad {
        BadPassword::Empty => fail("starts with an empty line".into()),
        BadPassword::NotUtf8 => fail("is not UTF-8".into()),
    })
}

/// Server text on the terminal: control characters and bidirectional overrides escaped.
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

/// The local Maildir: `tmp/`, `new/`, `cur/` under `root`.
struct Maildir {
    root: PathBuf,
    host: String,
}

impl Maildir {
    /// Opens `root`, creating it and its three directories (mode 0700) if missing.
    fn create(root: &Path) -> io::Result<Maildir> {
        for sub in ["", "tmp", "new", "cur"] {
            let dir = root.join(sub);
            let mut builder = fs::DirBuilder::new();
            builder.recursive(true);
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
            builder.create(&dir)?;
        }
        let host = fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_owned())
            .ok()
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "localhost".to_owned());
        // Maildir names cannot hold `/` or `:` (the flags separator).
        let host = host.replace('/', "\\057").replace(':', "\\072");
        Ok(Maildir {
            root: root.to_owned(),
            host,
        })
    }

    /// A unique file name: seconds, microseconds, process id and a counter, then the host.
    fn unique_name(&self) -> String {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        format!(
            "{}.M{}P{}Q{}.{}",
            now.as_secs(),
            now.subsec_micros(),
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            self.host
        )
    }

    /// Starts a delivery: a new file in `tmp/` (mode 0600, never an existing one).
    fn begin(&self) -> io::Result<Delivery> {
        let name = self.unique_name();
        let tmp = self.root.join("tmp").join(&name);
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(&tmp)?;
        Ok(Delivery {
            file: Some(file),
            tmp,
            name,
        })
    }

    /// Ends a delivery: fsync the file, rename it into `new/`, fsync `new/`. Returns the
    /// path relative to the Maildir.
    fn commit(&self, mut delivery: Delivery) -> io::Result<String> {
        if let Some(file) = delivery.file.take() {
            file.sync_all()?;
        }
        let new = self.root.join("new");
        fs::rename(&delivery.tmp, new.join(&delivery.name))?;
        File::open(&new)?.sync_all()?;
        // Renamed: nothing left in tmp/ to remove.
        delivery.tmp = PathBuf::new();
        Ok(format!("new/{}", delivery.name))
    }
}

/// A message being written to `tmp/`; removed on drop unless committed.
struct Delivery {
    file: Option<File>,
    tmp: PathBuf,
    name: String,
}

impl Delivery {
    fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        match &mut self.file {
            Some(file) => file.write_all(bytes),
            None => Err(io::Error::other("the delivery is closed")),
        }
    }
}

impl Drop for Delivery {
    fn drop(&mut self) {
        if !self.tmp.as_os_str().is_empty() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// The unique-ids already fetched, per account, in `DIR/pop3-fetch.uidl`: one line per
/// message, `ACCOUNT UID`, the account being `user@host:port` with octets outside `!`..`~`
/// and `%` written as `%XX`. Lines of other accounts are kept as they are.
struct UidFile {
    path: PathBuf,
    account: String,
    /// This account's unique-ids, in the order they were fetched.
    mine: Vec<String>,
    /// The other accounts' lines.
    others: Vec<String>,
}

impl UidFile {
    fn load(maildir: &Path, user: &str, host: &str, port: u16) -> io::Result<UidFile> {
        let account: String = format!("{user}@{host}:{port}")
            .bytes()
            .map(|b| match b {
                b'%' => "%25".to_owned(),
                b'!'..=b'~' => char::from(b).to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect();
        let path = maildir.join(UIDL_FILE);
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(error) if error.kind() == io::ErrorKind::NotFound => String::new(),
            Err(error) => return Err(error),
        };
        let mut mine = Vec::new();
        let mut others = Vec::new();
        for line in text.lines().filter(|l| !l.is_empty()) {
            match line.split_once(' ') {
                Some((who, uid)) if who == account => mine.push(uid.to_owned()),
                _ => others.push(line.to_owned()),
            }
        }
        Ok(UidFile {
            path,
            account,
            mine,
            others,
        })
    }

    /// Rewrites the file atomically: a temporary file beside it (mode 0600), fsync, rename,
    /// fsync of the directory.
    fn save(&self) -> io::Result<()> {
        let mut text = String::new();
        for line in &self.others {
            text.push_str(line);
            text.push('\n');
        }
        for uid in &self.mine {
            text.push_str(&self.account);
            text.push(' ');
            text.push_str(uid);
            text.push('\n');
        }
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let tmp = dir.join(format!(".{UIDL_FILE}.{}", std::process::id()));
        let mut options = OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let result = (|| {
            let mut file = options.open(&tmp)?;
            file.write_all(text.as_bytes())?;
            file.sync_all()?;
            fs::rename(&tmp, &self.path)?;
            File::open(dir)?.sync_all()
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result
    }
}

/// What a run achieved, for the summary and the exit code.
#[derive(Debug, Default)]
struct Outcome {
    fetched: usize,
    deleted: usize,
    /// The first reason the run failed.
    failure: Option<String>,
}

impl Outcome {
    fn fail(&mut self, why: impl fmt::Display) {
        self.failure.get_or_insert_with(|| why.to_string());
    }
}

/// One message to fetch or delete: its number and unique-id (`None` without `UIDL`).
type Entry = (u32, Option<String>);

/// Runs the session: list, fetch what is new, delete what is safely stored (unless
/// `--keep`), quit.
async fn session<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut ClientConnection<S>,
    options: &Options,
    maildir: &Maildir,
    uids: &mut UidFile,
) -> Outcome {
    let mut outcome = Outcome::default();
    let mut sync = UidlSync::new(uids.mine.iter().cloned());
    let known: HashSet<String> = uids.mine.iter().cloned().collect();
    let mut count: u32 = 0;
    let mut listed: u32 = 0;
    // Messages fetched in an earlier run and still on the server: deleted too without --keep.
    let mut already: Vec<Entry> = Vec::new();
    let mut queue: std::collections::VecDeque<Entry> = Default::default();
    let mut current: Option<(Entry, Delivery)> = None;
    // Unique-ids of the messages whose DELE was accepted: forgotten after a QUIT.
    let mut deleted_uids: Vec<String> = Vec::new();
    let mut dele_pending: Vec<Entry> = Vec::new();
    let mut finished_listing = false;
    loop {
        let event = match tokio::time::timeout(options.timeout, conn.next_event()).await {
            Ok(Ok(Some(event))) => event,
            Ok(Ok(None)) => break,
            Ok(Err(error)) => {
                outcome.fail(format_args!("connection: {error}"));
                break;
            }
            Err(_) => {
                outcome.fail(format_args!("no response in {:?}", options.timeout));
                break;
            }
        };
        let now = Instant::now();
        let mut next = false;
        match event {
            Event::LoggedIn => {
                let queued = conn
                    .client()
                    .stat(now)
                    .and_then(|()| conn.client().uidl(now, None));
                if let Err(error) = queued {
                    outcome.fail(error);
                    break;
                }
            }
            Event::Stat { count: n, .. } => {
                count = n;
                if n > options.max_messages {
                    outcome.fail(format_args!(
                        "the server lists {n} messages, more than --max-messages {}",
                        options.max_messages
                    ));
                    break;
                }
            }
            Event::Uid(entry) => {
                listed += 1;
                if listed > options.max_messages || listed > count {
                    outcome.fail(format_args!(
                        "the UIDL listing has more entries than STAT's {count} messages (or \
                         than --max-messages {})",
                        options.max_messages
                    ));
                    break;
                }
                sync.add(&entry);
                if known.contains(entry.uid.as_str()) {
                    already.push((entry.message, Some(entry.uid.as_str().to_owned())));
                }
            }
            Event::ListingEnd if !finished_listing => {
                finished_listing = true;
                queue = sync
                    .to_fetch()
                    .iter()
                    .map(|(n, uid)| (*n, Some(uid.clone())))
                    .collect();
                // Removed from the server since: no need to remember them.
                let gone: HashSet<String> = sync.gone().into_iter().map(str::to_owned).collect();
                uids.mine.retain(|uid| !gone.contains(uid));
                next = true;
            }
            Event::Refused {
                command: "UIDL",
                response,
            } => {
                if options.keep {
                    outcome.fail(format_args!(
                        "the server does not support UIDL, which --keep needs: {}",
                        printable(&response.to_string())
                    ));
                    break;
                }
                finished_listing = true;
                queue = (1..=count).map(|n| (n, None)).collect();
                next = true;
            }
            Event::MessageStart { message } => match maildir.begin() {
                Ok(delivery) => {
                    let entry = queue
                        .front()
                        .filter(|(n, _)| *n == message)
                        .cloned()
                        .unwrap_or((message, None));
                    current = Some((entry, delivery));
                }
                Err(error) => {
                    outcome.fail(format_args!(
                        "cannot write to {}: {error}",
                        maildir.root.display()
                    ));
                    break;
                }
            },
            Event::MessageChunk(chunk) => {
                if let Some((_, delivery)) = &mut current {
                    if let Err(error) = delivery.write(&chunk) {
                        outcome.fail(format_args!(
                            "cannot write to {}: {error}",
                            maildir.root.display()
                        ));
                        break;
                    }
                }
            }
            Event::MessageEnd { message, size } => {
                let Some(((number, uid), delivery)) = current.take() else {
                    continue;
                };
                queue.pop_front();
                match maildir.commit(delivery) {
                    Ok(file) => {
                        outcome.fetched += 1;
                        println!(
                            "fetched message {message} (uid {}, {size} octets) to {file}",
                            uid.as_deref().unwrap_or("-")
                        );
                        if let Some(uid) = &uid {
                            uids.mine.push(uid.clone());
                        }
                        if !options.keep {
                            if let Err(error) = conn.client().dele(now, number) {
                                outcome.fail(error);
                                break;
                            }
                            dele_pending.push((number, uid));
                        }
                    }
                    Err(error) => {
                        outcome.fail(format_args!(
                            "cannot store message {message} in {}: {error}",
                            maildir.root.display()
                        ));
                        break;
                    }
                }
                next = true;
            }
            Event::Refused {
                command: "RETR",
                response,
            } => {
                let (number, _) = queue.pop_front().unwrap_or((0, None));
                eprintln!(
                    "pop3-fetch: message {number} not fetched: {}",
                    printable(&response.to_string())
                );
                outcome.fail(format_args!("message {number} could not be fetched"));
                next = true;
            }
            Event::Deleted { message } => {
                if let Some(at) = dele_pending.iter().position(|(n, _)| *n == message) {
                    let (_, uid) = dele_pending.remove(at);
                    deleted_uids.extend(uid);
                }
                outcome.deleted += 1;
            }
            Event::Refused { command, response } => {
                outcome.fail(format_args!(
                    "{command} refused: {}",
                    printable(&response.to_string())
                ));
                if command == "STAT" {
                    break;
                }
            }
            Event::Closed(Ok(())) => {
                // QUIT answered +OK: the deletions took effect.
                let gone: HashSet<String> = deleted_uids.drain(..).collect();
                uids.mine.retain(|uid| !gone.contains(uid));
                break;
            }
            Event::Closed(Err(error)) => {
                outcome.fail(printable(&error.to_string()));
                break;
            }
            _ => {}
        }
        if next {
            let result = match queue.front() {
                Some((number, _)) => conn.client().retr(now, *number),
                None => {
                    let mut result = Ok(());
                    if !options.keep {
                        for (number, uid) in already.drain(..) {
                            result = conn.client().dele(now, number);
                            if result.is_err() {
                                break;
                            }
                            dele_pending.push((number, uid));
                        }
                    }
                    result.and_then(|()| conn.client().quit(now))
                }
            };
            if let Err(error) = result {
                outcome.fail(error);
                break;
            }
        }
    }
    outcome
}

async fn fetch(options: Options, password: Secret<String>) -> ExitCode {
    let maildir = match Maildir::create(&options.maildir) {
        Ok(maildir) => maildir,
        Err(error) => {
            eprintln!(
                "pop3-fetch: cannot create the Maildir {}: {error}",
                options.maildir.display()
            );
            return ExitCode::from(2);
        }
    };
    let mut uids = match UidFile::load(&options.maildir, &options.user, &options.host, options.port)
    {
        Ok(uids) => uids,
        Err(error) => {
            eprintln!(
                "pop3-fetch: cannot read {}: {error}",
                options.maildir.join(UIDL_FILE).display()
            );
            return ExitCode::from(2);
        }
    };
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
    let credentials = Credentials::password(options.user.clone(), password);
    let mut config = match options.tls {
        TlsMode::Implicit => ClientConfig::pop3s(credentials),
        TlsMode::StartTls | TlsMode::None => ClientConfig::new(credentials),
    };
    if options.tls != TlsMode::StartTls {
        config.tls = TlsPolicy::Never;
    }
    config.allow_plaintext_auth = options.tls == TlsMode::None;
    config.response_timeout = options.timeout;
    let client = Client::new(config, Instant::now());
    let address = (options.host.as_str(), options.port);
    let tcp = match tokio::time::timeout(options.timeout, TcpStream::connect(address)).await {
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
        .service(Service::Pop3)
        .port(options.port);
    let outcome = match options.tls {
        TlsMode::Implicit => {
            let stream = match connect_implicit(tls, name, tcp, handshake).await {
                Ok(stream) => stream,
                Err(error) => return fail(format_args!("TLS handshake: {error}")),
            };
            let mut conn = ClientConnection::new(stream, client);
            session(&mut conn, &options, &maildir, &mut uids).await
        }
        TlsMode::StartTls => {
            let mut conn = ClientConnection::new(tcp, client).with_starttls(tls, name, handshake);
            session(&mut conn, &options, &maildir, &mut uids).await
        }
        TlsMode::None => {
            let mut conn = ClientConnection::new(tcp, client);
            session(&mut conn, &options, &maildir, &mut uids).await
        }
    };
    // Recorded whatever happened: every message on disk is remembered, so that a run after
    // a failure does not fetch it again.
    if let Err(error) = uids.save() {
        return fail(format_args!(
            "cannot write {}: {error}",
            uids.path.display()
        ));
    }
    let kept = if options.keep {
        "kept on the server".to_owned()
    } else {
        format!("{} deleted on the server", outcome.deleted)
    };
    match outcome.failure {
        None => {
            println!(
                "pop3-fetch: {} message(s) fetched into {}, {kept}",
                outcome.fetched,
                options.maildir.display()
            );
            ExitCode::SUCCESS
        }
        Some(failure) => {
            println!(
                "pop3-fetch: {} message(s) fetched into {} before the failure",
                outcome.fetched,
                options.maildir.display()
            );
            fail(failure)
        }
    }
}

fn fail(message: impl fmt::Display) -> ExitCode {
    eprintln!("pop3-fetch: {message}");
    ExitCode::FAILURE
}

fn main() -> ExitCode {
    let options = match parse(std::env::args_os().skip(1)) {
        Ok(Parsed::Fetch(options)) => *options,
        Ok(Parsed::Help) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(error) => {
            eprintln!("pop3-fetch: {error}\n\nRun with --help for the options.");
            return ExitCode::from(2);
        }
    };
    let password = match &options.password {
        PasswordSource::Given(password) => password.clone(),
        PasswordSource::File(path) => match read_password_file(path) {
            Ok(password) => password,
            Err(error) => {
                eprintln!("pop3-fetch: {error}");
                return ExitCode::from(2);
            }
        },
    };
    common::run_session("pop3-fetch", fetch(options, password))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_owned).collect()
    }

    fn options(line: &str) -> Options {
        match parse(args(line)) {
            Ok(Parsed::Fetch(options)) => *options,
            other => panic!("{other:?}"),
        }
    }

    fn scratch(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("p3tools-unit-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn parses_a_full_command_line() {
        let o = options(
            "--server [::1]:995 --tls=implicit --insecure --user alice --password p \
             --maildir /tmp/m --keep --max-messages 5 --timeout 7",
        );
        assert_eq!(
            (o.host.as_str(), o.port, o.tls),
            ("::1", 995, TlsMode::Implicit)
        );
        assert!(o.insecure && o.keep);
        assert_eq!(o.user, "alice");
        assert!(matches!(o.password, PasswordSource::Given(_)));
        assert_eq!(o.maildir, PathBuf::from("/tmp/m"));
        assert_eq!((o.max_messages, o.timeout), (5, Duration::from_secs(7)));
        let o = options("--server h:110 --user u --password-file f --maildir m");
        assert_eq!(o.tls, TlsMode::StartTls);
        assert!(!o.keep && !o.insecure);
        assert!(matches!(o.password, PasswordSource::File(_)));
    }

    #[test]
    fn refuses_bad_command_lines_without_repeating_the_password() {
        let err = |line: &str| parse(args(line)).unwrap_err();
        assert!(err("--user u --password p --maildir m").contains("--server"));
        assert!(err("--server h:110 --password p --maildir m").contains("--user"));
        assert!(err("--server h:110 --user u --maildir m").contains("--password"));
        assert!(err("--server h:110 --user u --password p").contains("--maildir"));
        assert!(err("--server h --user u --password p --maildir m").contains("HOST:PORT"));
        assert!(err("--server h:0 --user u --password p --maildir m").contains("port"));
        assert!(err("--keep=yes").contains("takes no value"));
        assert!(err("--server h:110 --tls maybe").contains("--tls"));
        for line in [
            "--server h:110 --user u --password hunter2 --password-file f --maildir m",
            "--server h:110 --user u --pasword=hunter2 --maildir m",
            "--server h:110 --user u --password hunter2 --maildir m hunter2",
            "--server h:110 --user u --password hunter2 --maildir m --max-messages 0",
        ] {
            let e = err(line);
            assert!(!e.contains("hunter2"), "{line}: {e}");
        }
        assert!(matches!(parse(args("--bogus -h")), Ok(Parsed::Help)));
    }

    #[test]
    fn password_files_must_be_private_and_are_never_echoed() {
        use std::os::unix::fs::PermissionsExt;
        let dir = scratch("pw");
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("pw");
        fs::write(&path, "hunter2\r\nsecond line\n").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(read_password_file(&path).unwrap().expose(), "hunter2");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        let e = read_password_file(&path).unwrap_err();
        assert!(e.contains("mode 0640") && e.contains("chmod 600"), "{e}");
        assert!(!e.contains("hunter2"));
        fs::write(&path, "\nhunter2\n").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        let e = read_password_file(&path).unwrap_err();
        assert!(e.contains("empty line") && !e.contains("hunter2"), "{e}");
        let long = "x".repeat(MAX_PASSWORD_FILE as usize + 1);
        fs::write(&path, long).unwrap();
        assert!(
            read_password_file(&path)
                .unwrap_err()
                .contains("longer than")
        );
        assert!(read_password_file(&dir).is_err(), "a directory");
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_uid_file_keeps_other_accounts_and_is_rewritten_whole() {
        let dir = scratch("uidl");
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join(UIDL_FILE), "bob@h:110 x1\nal%20ice@h:110 y\n").unwrap();
        let mut file = UidFile::load(&dir, "al ice", "h", 110).unwrap();
        assert_eq!(file.account, "al%20ice@h:110");
        assert_eq!(file.mine, ["y"]);
        file.mine.push("z9".into());
        file.save().unwrap();
        assert_eq!(
            fs::read_to_string(dir.join(UIDL_FILE)).unwrap(),
            "bob@h:110 x1\nal%20ice@h:110 y\nal%20ice@h:110 z9\n"
        );
        // No temporary file is left beside it.
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
        let other = UidFile::load(&dir, "bob", "h", 110).unwrap();
        assert_eq!(other.mine, ["x1"]);
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_delivery_lands_in_new_only_when_committed() {
        let dir = scratch("maildir");
        let maildir = Maildir::create(&dir.join("a/b")).unwrap();
        let mut delivery = maildir.begin().unwrap();
        delivery.write(b"Subject: x\r\n\r\nbody\r\n").unwrap();
        let file = maildir.commit(delivery).unwrap();
        assert!(file.starts_with("new/") && !file.contains(':'), "{file}");
        assert_eq!(
            fs::read(dir.join("a/b").join(&file)).unwrap(),
            b"Subject: x\r\n\r\nbody\r\n"
        );
        // Abandoned: removed from tmp/, never in new/.
        let mut delivery = maildir.begin().unwrap();
        delivery.write(b"half").unwrap();
        drop(delivery);
        assert_eq!(fs::read_dir(dir.join("a/b/tmp")).unwrap().count(), 0);
        assert_eq!(fs::read_dir(dir.join("a/b/new")).unwrap().count(), 1);
        assert!(maildir.unique_name() != maildir.unique_name());
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn server_text_is_escaped() {
        assert_eq!(
            printable("-ERR \u{1b}[2Jno\u{202e}x"),
            "-ERR \\u{1b}[2Jno\\u{202e}x"
        );
    }
}
