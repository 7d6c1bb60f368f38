//! What the command-line tools of this package share: smtp-send, smtp-load, pop3-fetch,
//! pop3-load, imap-watch and imap-load each include this file with `#[path = "common/mod.rs"] mod common;` and use the
//! part they need (hence the `dead_code` allowance: no tool uses all of it). Messages keep
//! the tool's name as their prefix, so each tool prints what it printed on its own.
#![allow(dead_code)]

use std::fmt;
use std::future::Future;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use mail_wire::Secret;
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinHandle;

/// The command line without the program name. Not `std::env::args`, which panics on an
/// argument that is not UTF-8 and prints it whole (it may be a password): such an argument is
/// refused without being repeated.
pub(crate) fn utf8_args() -> Result<Vec<String>, String> {
    std::env::args_os()
        .skip(1)
        .enumerate()
        .map(|(i, arg)| arg.into_string().map_err(|_| i + 1))
        .collect::<Result<Vec<String>, usize>>()
        .map_err(|n| {
            format!("argument {n} is not valid UTF-8 (not repeated: it may be a password)")
        })
}

/// Splits `--flag=value` into the flag and its value; anything else is a flag (or a stray
/// word) without one.
pub(crate) fn split_flag(arg: &str) -> (String, Option<String>) {
    match arg.split_once('=') {
        Some((flag, value)) if flag.starts_with("--") => (flag.to_owned(), Some(value.into())),
        _ => (arg.to_owned(), None),
    }
}

/// The value of `flag`: the one given inline (`--flag=value`), else the next argument unless
/// that is an option itself.
pub(crate) fn flag_value(
    flag: &str,
    inline: Option<&str>,
    rest: &mut impl Iterator<Item = String>,
) -> Result<String, String> {
    match inline {
        Some(v) => Ok(v.to_owned()),
        None => match rest.next() {
            Some(v) if !v.starts_with("--") => Ok(v),
            _ => Err(format!("{flag} needs a value")),
        },
    }
}

/// A count given as `flag value`: a whole number greater than 0.
pub(crate) fn count(flag: &str, value: &str) -> Result<usize, String> {
    match value.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!(
            "{flag} {value}: expected a whole number greater than 0"
        )),
    }
}

/// Why the first line of a password file is no password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BadPassword {
    /// The file starts with an empty line (or is empty).
    Empty,
    /// The first line is not UTF-8.
    NotUtf8,
}

/// The password in the first line of `text`, without its line ending (LF or CRLF).
pub(crate) fn first_line(text: &Secret<Vec<u8>>) -> Result<Secret<String>, BadPassword> {
    let first = text
        .expose()
        .split(|&b| b == b'\n')
        .next()
        .unwrap_or_default();
    let first = first.strip_suffix(b"\r").unwrap_or(first);
    match std::str::from_utf8(first) {
        Ok(password) if !password.is_empty() => Ok(Secret::new(password.to_owned())),
        Ok(_) => Err(BadPassword::Empty),
        Err(_) => Err(BadPassword::NotUtf8),
    }
}

/// The password in the first line of the file at `path` (without its line ending); never in
/// an error.
pub(crate) fn read_password_file(path: &Path) -> Result<Secret<String>, String> {
    let text = Secret::new(
        std::fs::read(path)
            .map_err(|e| format!("cannot read the password file {}: {e}", path.display()))?,
    );
    first_line(&text).map_err(|bad| match bad {
        BadPassword::Empty => format!(
            "the password file {} starts with an empty line",
            path.display()
        ),
        BadPassword::NotUtf8 => format!("the password file {} is not UTF-8", path.display()),
    })
}

/// A duration shown in milliseconds, two decimals.
pub(crate) struct Millis(pub(crate) Duration);

impl fmt::Display for Millis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.2} ms", self.0.as_secs_f64() * 1000.0)
    }
}

/// The `p`th percentile of `sorted` by nearest rank; zero for no values.
pub(crate) fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted
        .get(rank.clamp(1, sorted.len()) - 1)
        .copied()
        .unwrap_or_default()
}

/// Prints `{what}: p50 …, p90 …, p99 …, max …` for `sorted` latencies.
pub(crate) fn print_latencies(what: &str, sorted: &[Duration]) {
    println!(
        "{what}: p50 {}, p90 {}, p99 {}, max {}",
        Millis(percentile(sorted, 50.0)),
        Millis(percentile(sorted, 90.0)),
        Millis(percentile(sorted, 99.0)),
        Millis(sorted.last().copied().unwrap_or_default()),
    );
}

/// Prints how many of `errors` are there and the first, as `{n} {what} failed; first error:
/// {error}`; returns how many.
pub(crate) fn report_errors<'a>(
    what: &str,
    errors: impl Iterator<Item = Option<&'a str>>,
) -> usize {
    let failed: Vec<&str> = errors.flatten().collect();
    if let Some(first) = failed.first() {
        println!("{} {what} failed; first error: {first}", failed.len());
    }
    failed.len()
}

/// Waits for every task; `what` names a task in the error of one that panicked.
pub(crate) async fn join<T>(tasks: Vec<JoinHandle<T>>, what: &str) -> Result<Vec<T>, String> {
    let mut all = Vec::with_capacity(tasks.len());
    for task in tasks {
        all.push(task.await.map_err(|e| format!("{what}: {e}"))?);
    }
    Ok(all)
}

/// What an idle session of a load tool's `--idle` mode reports to and waits for.
pub(crate) struct Idle {
    /// Incremented once the session is ready (logged in, or past EHLO, STARTTLS and AUTH).
    pub(crate) ready: Arc<AtomicUsize>,
    /// Turns true when the sessions should quit.
    pub(crate) release: watch::Receiver<bool>,
    /// Bounds the connection attempts in flight; held from connect to ready.
    pub(crate) gate: Arc<Semaphore>,
}

/// The sessions of a load tool's `--idle` mode, held open until [`IdleSessions::release`].
pub(crate) struct IdleSessions<T> {
    tasks: Vec<JoinHandle<T>>,
    ready: Arc<AtomicUsize>,
    release: watch::Sender<bool>,
}

impl<T: Send + 'static> IdleSessions<T> {
    /// Spawns `session(index, idle)` for each index below `n`, at most `concurrent_connects`
    /// of them connecting at once, and waits until each is ready or finished, or `wait` has
    /// passed.
    pub(crate) async fn start<F>(
        n: usize,
        concurrent_connects: usize,
        wait: Duration,
        mut session: impl FnMut(usize, Idle) -> F,
    ) -> Self
    where
        F: Future<Output = T> + Send + 'static,
    {
        let ready = Arc::new(AtomicUsize::new(0));
        let (release, release_rx) = watch::channel(false);
        let gate = Arc::new(Semaphore::new(concurrent_connects));
        let tasks: Vec<JoinHandle<T>> = (0..n)
            .map(|index| {
                let idle = Idle {
                    ready: ready.clone(),
                    release: release_rx.clone(),
                    gate: gate.clone(),
                };
                tokio::spawn(session(index, idle))
            })
            .collect();
        let deadline = Instant::now() + wait;
        let finished = |tasks: &[JoinHandle<T>]| tasks.iter().filter(|t| t.is_finished()).count();
        while ready.load(Ordering::SeqCst) + finished(&tasks) < n && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        IdleSessions {
            tasks,
            ready,
            release,
        }
    }

    /// How many sessions are ready.
    pub(crate) fn ready(&self) -> usize {
        self.ready.load(Ordering::SeqCst)
    }

    /// Tells the sessions to quit and waits for them, as [`join`].
    pub(crate) async fn release(self, what: &str) -> Result<Vec<T>, String> {
        let _ = self.release.send(true);
        join(self.tasks, what).await
    }
}

/// How a load tool's sessions start TLS (pop3-load and imap-load's `--tls`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TlsMode {
    /// Plaintext throughout.
    None,
    /// Plaintext, then the protocol's STARTTLS (STLS for POP3).
    StartTls,
    /// TLS from the first byte.
    Implicit,
}

impl TlsMode {
    /// The mode a `--tls` value names: `none`, `starttls` or `implicit`.
    pub(crate) fn parse(value: &str) -> Result<Self, String> {
        match value {
            "none" => Ok(TlsMode::None),
            "starttls" => Ok(TlsMode::StartTls),
            "implicit" => Ok(TlsMode::Implicit),
            other => Err(format!(
                "--tls {other}: expected none, starttls or implicit"
            )),
        }
    }

    /// The `--tls` value that names the mode.
    pub(crate) fn name(self) -> &'static str {
        match self {
            TlsMode::None => "none",
            TlsMode::StartTls => "starttls",
            TlsMode::Implicit => "implicit",
        }
    }
}

/// What a load tool's command line asks for.
#[derive(Debug)]
pub(crate) enum Parsed<O> {
    /// `-h` or `--help`.
    Help,
    /// A run with these options.
    Run(Box<O>),
}

/// The `main` of a load tool: the command line parsed by `parse` (`--help` prints `usage`;
/// a bad command line is printed after `{tool}: ` with a hint, exit code 2), the plan made
/// from the options by `plan` (exit code 2 when it cannot be made), then `work` on the plan,
/// as [`run_load`] runs it.
pub(crate) fn load_main<O, P, F>(
    tool: &str,
    usage: &str,
    parse: impl FnOnce(Vec<String>) -> Result<Parsed<O>, String>,
    plan: impl FnOnce(O) -> Result<P, String>,
    work: impl FnOnce(Arc<P>) -> F,
) -> ExitCode
where
    F: Future<Output = Result<bool, String>>,
{
    let options = match utf8_args().and_then(parse) {
        Ok(Parsed::Help) => {
            print!("{usage}");
            return ExitCode::SUCCESS;
        }
        Ok(Parsed::Run(options)) => *options,
        Err(e) => {
            eprintln!("{tool}: {e}\nRun with --help for the options.");
            return ExitCode::from(2);
        }
    };
    let plan = match plan(options) {
        Ok(plan) => Arc::new(plan),
        Err(e) => {
            eprintln!("{tool}: {e}");
            return ExitCode::from(2);
        }
    };
    run_load(tool, work(plan))
}

/// A load tool's TCP connection to `server`: in `--idle` mode first a place at the
/// connection gate (returned, to hold until the session is ready), then the connection
/// within `timeout`, with Nagle's algorithm off.
pub(crate) async fn connect_tcp(
    server: &str,
    timeout: Duration,
    idle: Option<&Idle>,
) -> Result<(Option<OwnedSemaphorePermit>, TcpStream), String> {
    let permit = match idle {
        Some(idle) => Some(
            idle.gate
                .clone()
                .acquire_owned()
                .await
                .map_err(|e| format!("connection gate: {e}"))?,
        ),
        None => None,
    };
    let tcp = tokio::time::timeout(timeout, TcpStream::connect(server))
        .await
        .map_err(|_| format!("connect to {server}: timed out"))?
        .map_err(|e| format!("connect to {server}: {e}"))?;
    let _ = tcp.set_nodelay(true);
    Ok((permit, tcp))
}

/// The `--idle` run of pop3-load and imap-load up to the release: the server's memory
/// before (when `pid` is given), `n` sessions started by `session` at most
/// `concurrent_connects` at a time, `{ready} session(s) {state} in … s; holding for … s`,
/// the hold, then the memory while holding and its growth per ready session. Returns the
/// sessions, to release, and how many were ready.
pub(crate) async fn hold_idle<T, F>(
    n: usize,
    concurrent_connects: usize,
    timeout: Duration,
    hold: Duration,
    pid: Option<u32>,
    state: &str,
    session: impl FnMut(usize, Idle) -> F,
) -> (IdleSessions<T>, usize)
where
    T: Send + 'static,
    F: Future<Output = T> + Send + 'static,
{
    let before = pid.and_then(|pid| print_memory("before", pid));
    let start = Instant::now();
    let sessions = IdleSessions::start(
        n,
        concurrent_connects,
        timeout + Duration::from_secs(n as u64 / 10),
        session,
    )
    .await;
    let established = sessions.ready();
    println!(
        "{established} session(s) {state} in {:.2} s; holding for {} s",
        start.elapsed().as_secs_f64(),
        hold.as_secs()
    );
    tokio::time::sleep(hold).await;
    if let (Some(pid), Some(m0)) = (pid, before) {
        if let Some(m1) = print_memory("while holding", pid) {
            print_memory_per_session(m0, m1, established);
        }
    }
    (sessions, established)
}

/// Runs a load tool's work on a multi-threaded runtime: exit code 0 when it says all went
/// well, 1 when not or on an error, which is printed after `{tool}: `.
pub(crate) fn run_load(tool: &str, work: impl Future<Output = Result<bool, String>>) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("{tool}: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(work) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("{tool}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs a one-session tool's work on a single-threaded runtime, returning its exit code.
pub(crate) fn run_session(tool: &str, work: impl Future<Output = ExitCode>) -> ExitCode {
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(work),
        Err(error) => {
            eprintln!("{tool}: cannot start the runtime: {error}");
            ExitCode::FAILURE
        }
    }
}

/// The memory of a process tree, in KiB, summed over its processes (pop3-load, imap-load).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Memory {
    /// VmRSS: counts every shared page once per process that maps it.
    pub(crate) rss: u64,
    /// PSS (smaps_rollup): each shared page divided among the processes that map it.
    /// `None` where smaps_rollup cannot be read.
    pub(crate) pss: Option<u64>,
    /// USS: the private pages (Private_Clean + Private_Dirty), what the processes hold that
    /// no other does.
    pub(crate) uss: Option<u64>,
    /// How many processes were summed: `pid` and its descendants.
    pub(crate) processes: usize,
}

/// The memory of `pid` and its descendants (a server with a process per session, such as
/// Dovecot, is measured through its master process). Linux only: /proc.
pub(crate) fn memory_kib(pid: u32) -> std::io::Result<Memory> {
    let mut pids = vec![pid];
    let mut i = 0;
    while let Some(&parent) = pids.get(i) {
        for entry in std::fs::read_dir("/proc")?.flatten() {
            let Some(child) = entry
                .file_name()
                .to_str()
                .and_then(|s| s.parse::<u32>().ok())
            else {
                continue;
            };
            let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
            let ppid = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                .and_then(|p| p.parse::<u32>().ok());
            if ppid == Some(parent) && !pids.contains(&child) {
                pids.push(child);
            }
        }
        i += 1;
    }
    let field = |text: &str, name: &str| -> Option<u64> {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    };
    let mut memory = Memory {
        rss: 0,
        pss: Some(0),
        uss: Some(0),
        processes: 0,
    };
    let add = |sum: Option<u64>, v: Option<u64>| Some(sum? + v?);
    for p in &pids {
        let status = match std::fs::read_to_string(format!("/proc/{p}/status")) {
            Ok(status) => status,
            // A descendant that ended since it was listed is no longer there to count.
            Err(_) if *p != pid => continue,
            Err(e) => return Err(e),
        };
        memory.processes += 1;
        memory.rss += field(&status, "VmRSS:").unwrap_or(0);
        let rollup = std::fs::read_to_string(format!("/proc/{p}/smaps_rollup")).ok();
        let rollup = rollup.as_deref();
        memory.pss = add(memory.pss, rollup.and_then(|r| field(r, "Pss:")));
        let private =
            rollup.and_then(|r| Some(field(r, "Private_Clean:")? + field(r, "Private_Dirty:")?));
        memory.uss = add(memory.uss, private);
    }
    Ok(memory)
}

/// Prints `server memory {when}: RSS …, PSS …, USS … (n process(es))` for `pid`'s tree.
pub(crate) fn print_memory(when: &str, pid: u32) -> Option<Memory> {
    match memory_kib(pid) {
        Ok(m) => {
            let kib = |v: Option<u64>| v.map_or("unknown".to_owned(), |v| format!("{v} KiB"));
            println!(
                "server memory {when}: RSS {} KiB, PSS {}, USS {} ({} process(es))",
                m.rss,
                kib(m.pss),
                kib(m.uss),
                m.processes
            );
            Some(m)
        }
        Err(e) => {
            println!("server memory {when}: cannot read /proc for {pid}: {e}");
            None
        }
    }
}

/// Prints `per idle session: RSS +… KiB, PSS +… KiB, USS +… KiB`: the growth from `before`
/// to `during` divided by `sessions`.
pub(crate) fn print_memory_per_session(before: Memory, during: Memory, sessions: usize) {
    let per = |a: u64, b: u64| b.saturating_sub(a) as f64 / sessions.max(1) as f64;
    print!(
        "per idle session: RSS +{:.1} KiB",
        per(before.rss, during.rss)
    );
    if let (Some(a), Some(b)) = (before.pss, during.pss) {
        print!(", PSS +{:.1} KiB", per(a, b));
    }
    if let (Some(a), Some(b)) = (before.uss, during.uss) {
        print!(", USS +{:.1} KiB", per(a, b));
    }
    println!();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_nearest_rank() {
        let v: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&v, 50.0), Duration::from_millis(50));
        assert_eq!(percentile(&v, 99.0), Duration::from_millis(99));
        assert_eq!(percentile(&[], 50.0), Duration::ZERO);
        assert_eq!(Millis(Duration::from_micros(1500)).to_string(), "1.50 ms");
    }

    #[test]
    fn flags_take_their_value_inline_or_next() {
        assert_eq!(
            split_flag("--tls=none"),
            ("--tls".into(), Some("none".into()))
        );
        assert_eq!(split_flag("--tls"), ("--tls".into(), None));
        assert_eq!(split_flag("a=b"), ("a=b".into(), None));
        let mut rest = ["none".to_owned(), "--user".to_owned()].into_iter();
        assert_eq!(flag_value("--tls", Some("x"), &mut rest).unwrap(), "x");
        assert_eq!(flag_value("--tls", None, &mut rest).unwrap(), "none");
        assert_eq!(
            flag_value("--tls", None, &mut rest).unwrap_err(),
            "--tls needs a value"
        );
        assert_eq!(rest.next(), None, "the option after it was taken too");
    }

    #[test]
    fn tls_modes_parse_and_name_themselves() {
        for mode in [TlsMode::None, TlsMode::StartTls, TlsMode::Implicit] {
            assert_eq!(TlsMode::parse(mode.name()), Ok(mode));
        }
        assert_eq!(
            TlsMode::parse("maybe").unwrap_err(),
            "--tls maybe: expected none, starttls or implicit"
        );
    }

    #[test]
    fn the_password_is_the_first_line() {
        let line = |text: &[u8]| first_line(&Secret::new(text.to_vec()));
        assert_eq!(line(b"hunter2\r\nrest").unwrap().expose(), "hunter2");
        assert_eq!(line(b"hunter2").unwrap().expose(), "hunter2");
        assert_eq!(line(b"\nhunter2").unwrap_err(), BadPassword::Empty);
        assert_eq!(line(b"").unwrap_err(), BadPassword::Empty);
        assert_eq!(line(b"\xff\n").unwrap_err(), BadPassword::NotUtf8);
    }

    #[test]
    fn memory_of_this_process_tree_is_read() {
        let m = memory_kib(std::process::id()).unwrap();
        assert!(m.rss > 0 && m.processes >= 1);
        // Where smaps_rollup is readable, the private pages are part of the proportional
        // share, which is part of the resident set.
        if let (Some(pss), Some(uss)) = (m.pss, m.uss) {
            assert!(uss <= pss && pss <= m.rss, "{m:?}");
        }
        // A process that is not there is an error, not zero.
        assert!(memory_kib(u32::MAX).is_err());
    }
}
