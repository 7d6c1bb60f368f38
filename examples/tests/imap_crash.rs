//! Issue 19, durability of the mail server's IMAP store under `kill -9`: the real
//! `mail-server` binary on loopback, Python's `imaplib`, `smtplib` and `poplib` as the
//! clients, the server killed with SIGKILL while sessions are open, then restarted on the
//! same `--data`. What a client was acknowledged (an `APPENDUID`, a `250` after DATA, the
//! tagged `OK` of a STORE or EXPUNGE, POP3's `+OK` to QUIT) must be there after the restart,
//! with the UID it was given; nothing partial may be visible; no UID is ever used twice.
//!
//! The moment of each kill is drawn from a seeded generator (`CRASH_SEED` overrides the
//! default seed; a failure message names the seed), so a failing run can be repeated.
//!
//! The live cross-protocol cases (POP3 DELE+QUIT seen as EXPUNGE in IDLE, RETR as `\Seen`,
//! IMAP EXPUNGE gone from POP3, an SMTP delivery as `* n EXISTS` in IDLE) are in
//! `imap_server.rs`; here they are checked across a kill.

mod support;

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use support::*;

/// A running server with IMAP (plaintext login allowed, to keep the clients simple) and
/// POP3 listeners on free loopback ports.
struct Server {
    pop: Pop3Server,
    imap: u16,
}

impl Server {
    fn start(data: &Path) -> Server {
        let [imap] = support::free_ports();
        let mut args = users();
        args.extend(
            [
                "--allow-plaintext-auth",
                "--imap",
                &imap.to_string(),
                "--imaps",
                "0",
            ]
            .map(str::to_owned),
        );
        Server {
            pop: Pop3Server::start(data, &args),
            imap,
        }
    }

    /// SIGKILL, then reap.
    fn kill(&mut self) {
        self.pop.server.kill();
    }

    fn logs(&self) -> String {
        self.pop.server.logs()
    }
}

/// `python3` with `imaplib`, `smtplib` and `poplib` (required under `CI=true`).
fn have_clients() -> bool {
    tool_available(
        "python3",
        &["-c", "import imaplib, smtplib, poplib"],
        "python3 with imaplib, smtplib and poplib",
    )
}

/// A small deterministic generator (xorshift64*), so that a run can be repeated.
struct Rng(u64);

impl Rng {
    fn seeded() -> (Rng, u64) {
        let seed = std::env::var("CRASH_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0x5eed_1919_u64);
        (Rng(seed.max(1)), seed)
    }

    /// A number in `low..=high`.
    fn range(&mut self, low: u64, high: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        low + self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % (high - low + 1)
    }
}

/// What every script starts with: the ports from the environment, `login()`, `message()`
/// (a whole message with an `X-Id` header, `lines` lines long), `fetch_all()` (the
/// `UID FETCH start:*` answers as `(uid, bytes)`), and a thread-safe `out()`.
const PRELUDE: &str = r#"
import imaplib, smtplib, poplib, os, re, sys, threading, time
IMAP_PORT = int(os.environ['IMAP_PORT'])
SMTP_PORT = int(os.environ['SMTP_PORT'])
POP3_PORT = int(os.environ['POP3_PORT'])
ALICE = 'alice@localhost'
PW = 'secret'
LOCK = threading.Lock()
def out(*words):
    with LOCK:
        print(*words, flush=True)
def login():
    m = imaplib.IMAP4('127.0.0.1', IMAP_PORT, timeout=20)
    m.login(ALICE, PW)
    return m
def message(ident, lines):
    head = 'From: Crash <crash@example.org>\r\nTo: %s\r\nSubject: %s\r\nX-Id: %s\r\n\r\n' % (ALICE, ident, ident)
    return (head + ''.join('%s line %d: the quick brown fox\r\n' % (ident, i) for i in range(lines))).encode()
def uid_of(meta):
    found = re.search(rb'UID (\d+)', meta)
    return int(found.group(1)) if found else None
def fetch_all(m, start, item):
    typ, data = m.uid('FETCH', '%d:*' % start, '(UID %s)' % item)
    if typ != 'OK':
        raise Exception('UID FETCH: %r' % (data,))
    got = []
    for i, d in enumerate(data):
        if isinstance(d, tuple):
            uid = uid_of(d[0])
            if uid is None and i + 1 < len(data) and isinstance(data[i + 1], bytes):
                uid = uid_of(data[i + 1])
            if uid is not None and uid >= start:
                got.append((uid, d[1]))
    return got
def status(m):
    typ, data = m.status('INBOX', '(MESSAGES UIDNEXT UIDVALIDITY)')
    line = data[0].decode()
    get = lambda key: int(re.search(key + r' (\d+)', line).group(1))
    return get('MESSAGES'), get('UIDNEXT'), get('UIDVALIDITY')
"#;

/// A Python script running while the test acts on the server: its standard output line by
/// line, its standard input kept open until the test closes it. Killed on drop.
struct Py {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    stderr: Arc<Mutex<Vec<u8>>>,
    /// Every line read so far, for failure messages.
    seen: Vec<String>,
}

impl Py {
    fn spawn(server: &Server, script: &str, env: &[(&str, String)]) -> Py {
        let program = format!("{PRELUDE}\n{script}");
        let mut child = Command::new("python3")
            .args(["-c", &program])
            .env("IMAP_PORT", server.imap.to_string())
            .env("SMTP_PORT", server.pop.server.smtp.to_string())
            .env("POP3_PORT", server.pop.pop3.to_string())
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run python3");
        let (tx, lines) = mpsc::channel();
        let stdout = child.stdout.take().expect("stdout");
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let mut pipe = child.stderr.take().expect("stderr");
        let sink = stderr.clone();
        thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = pipe.read(&mut buf) {
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Py {
            stdin: child.stdin.take(),
            child,
            lines,
            stderr,
            seen: Vec::new(),
        }
    }

    /// The next line, or `None` once the script closed its output; bounded by [`LIMIT`].
    fn next(&mut self) -> Option<String> {
        match self.lines.recv_timeout(LIMIT) {
            Ok(line) => {
                self.seen.push(line.clone());
                Some(line)
            }
            Err(RecvTimeoutError::Disconnected) => None,
            Err(RecvTimeoutError::Timeout) => panic!(
                "python printed nothing for {LIMIT:?}; so far:\n{}",
                self.transcript()
            ),
        }
    }

    /// Lines up to and including the first equal to `marker`.
    fn until(&mut self, marker: &str) -> Vec<String> {
        let mut lines = Vec::new();
        loop {
            let Some(line) = self.next() else {
                panic!("python ended before {marker:?}:\n{}", self.transcript());
            };
            let done = line == marker;
            lines.push(line);
            if done {
                return lines;
            }
        }
    }

    /// Closes standard input, reads the rest and waits for a successful exit.
    fn finish(mut self) -> Vec<String> {
        drop(self.stdin.take());
        let mut rest = Vec::new();
        while let Some(line) = self.next() {
            rest.push(line);
        }
        let deadline = Instant::now() + LIMIT;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait for python") {
                break status;
            }
            assert!(Instant::now() < deadline, "python did not exit");
            thread::sleep(Duration::from_millis(10));
        };
        assert!(
            status.success(),
            "python failed: {status}\n{}",
            self.transcript()
        );
        rest
    }

    fn transcript(&self) -> String {
        format!(
            "stdout:\n{}\nstderr:\n{}",
            self.seen.join("\n"),
            String::from_utf8_lossy(&self.stderr.lock().unwrap())
        )
    }
}

impl Drop for Py {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect()
}

/// The words of `line` after its first word `key`, if it starts with it.
fn fields<'a>(line: &'a str, key: &str) -> Option<Vec<&'a str>> {
    let mut words = line.split(' ');
    (words.next() == Some(key)).then(|| words.collect())
}

/// The state of INBOX after a restart, as the verification phase of a script printed it.
struct Inbox {
    messages: u32,
    uidnext: u32,
    uidvalidity: u32,
    /// UID to the message's bytes (`UID FETCH 1:* BODY.PEEK[]`).
    bodies: BTreeMap<u32, Vec<u8>>,
    /// UID to its flags (`UID FETCH 1:* FLAGS`), when the script asked.
    flags: BTreeMap<u32, String>,
}

/// Part of every script: prints `STATUS`, then `MSG uid hex` for every message and
/// `FLAGS uid (...)`, then `VERIFIED`, over a fresh session that selects INBOX.
const VERIFY: &str = r#"
def verify():
    m = login()
    n, uidnext, validity = status(m)
    out('STATUS', n, uidnext, validity)
    typ, data = m.select('INBOX')
    if typ != 'OK':
        raise Exception('SELECT: %r' % (data,))
    for uid, body in fetch_all(m, 1, 'BODY.PEEK[]'):
        out('MSG', uid, body.hex())
    typ, data = m.uid('FETCH', '1:*', '(UID FLAGS)')
    for d in data:
        if isinstance(d, bytes):
            found = re.search(rb'UID (\d+)', d)
            flags = re.search(rb'FLAGS \(([^)]*)\)', d)
            if found and flags:
                out('FLAGS', int(found.group(1)), '(%s)' % flags.group(1).decode())
    m.logout()
    out('VERIFIED')
"#;

fn parse_inbox(lines: &[String]) -> Inbox {
    let mut inbox = Inbox {
        messages: 0,
        uidnext: 0,
        uidvalidity: 0,
        bodies: BTreeMap::new(),
        flags: BTreeMap::new(),
    };
    for line in lines {
        if let Some(f) = fields(line, "STATUS") {
            let n: Vec<u32> = f.iter().map(|w| w.parse().expect("number")).collect();
            (inbox.messages, inbox.uidnext, inbox.uidvalidity) = (n[0], n[1], n[2]);
        } else if let Some(f) = fields(line, "MSG") {
            let uid = f[0].parse().expect("uid");
            assert!(
                inbox.bodies.insert(uid, hex(f[1])).is_none(),
                "UID {uid} fetched twice"
            );
        } else if let Some(f) = fields(line, "FLAGS") {
            inbox
                .flags
                .insert(f[0].parse().expect("uid"), f[1..].join(" "));
        }
    }
    assert!(inbox.uidvalidity > 0, "no STATUS line in {lines:?}");
    assert_eq!(
        inbox.bodies.len(),
        inbox.messages as usize,
        "STATUS MESSAGES and the messages fetched disagree"
    );
    inbox
}

/// How the load reaches the server.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Load {
    /// IMAP APPEND; acknowledged by the tagged OK with APPENDUID.
    Append,
    /// SMTP through the relay; acknowledged by the 250 after DATA.
    Smtp,
}

/// The load phase: three clients send messages in a loop (`SENT id hex` before, `ACK id
/// validity uid` once acknowledged), one session sits in IDLE (`IDLE line` for every
/// untagged response), one polls INBOX (`SEEN uid id` for every message it sees), until the
/// server dies under them.
const LOAD: &str = r#"
verify()
MODE = os.environ['MODE']
ROUND = int(os.environ['ROUND'])
IDLING = threading.Event()
def appender(c):
    try:
        m = login()
        IDLING.wait(10)
        for s in range(400):
            ident = 'r%d-c%d-s%d' % (ROUND, c, s)
            msg = message(ident, 1 + (s * 7 + c * 13) % 60)
            out('SENT', ident, msg.hex())
            typ, data = m.append('INBOX', None, None, msg)
            if typ != 'OK':
                raise Exception('APPEND %r' % (data,))
            found = re.search(rb'APPENDUID (\d+) (\d+)', data[-1])
            out('ACK', ident, found.group(1).decode(), found.group(2).decode())
    except Exception as e:
        out('END', 'appender', c, type(e).__name__)
def sender(c):
    try:
        IDLING.wait(10)
        with smtplib.SMTP('127.0.0.1', SMTP_PORT, timeout=20) as s:
            for n in range(400):
                ident = 'r%d-c%d-s%d' % (ROUND, c, n)
                msg = message(ident, 1 + (n * 7 + c * 13) % 60)
                out('SENT', ident, msg.hex())
                s.sendmail('crash@example.org', [ALICE], msg)
                out('ACK', ident, 0, 0)
    except Exception as e:
        out('END', 'sender', c, type(e).__name__)
def idler():
    try:
        m = login()
        m.select('INBOX')
        m.send(b'I1 IDLE\r\n')
        while True:
            line = m.readline()
            if not line:
                break
            if line.startswith(b'+'):
                IDLING.set()
            out('IDLE', line.decode().strip())
    except Exception as e:
        pass
    IDLING.set()
    out('END', 'idler')
def poller():
    try:
        m = login()
        m.select('INBOX')
        last = 1
        while True:
            for uid, head in fetch_all(m, last, 'BODY.PEEK[HEADER.FIELDS (X-Id)]'):
                found = re.search(rb'X-Id: (\S+)', head)
                out('SEEN', uid, found.group(1).decode() if found else '-')
                last = max(last, uid + 1)
            time.sleep(0.01)
    except Exception as e:
        out('END', 'poller', type(e).__name__)
threads = [threading.Thread(target=idler), threading.Thread(target=poller)]
for c in range(3):
    threads.append(threading.Thread(target=appender if MODE == 'append' else sender, args=(c,)))
for t in threads:
    t.start()
out('LOAD')
for t in threads:
    t.join()
"#;

/// Everything learnt across the rounds of a kill-during-load test.
#[derive(Default)]
struct Ledger {
    /// Every message a client sent, by its X-Id.
    sent: HashMap<String, Vec<u8>>,
    /// Acknowledged X-Ids with their UID (0 when SMTP does not tell one).
    acked: BTreeMap<String, u32>,
    /// UIDs a live session saw, with the X-Id of the message it saw under it.
    seen: BTreeMap<u32, String>,
    /// The most messages an IDLE session was told of (`* n EXISTS`).
    announced: u32,
    /// The UIDVALIDITY of the first start.
    uidvalidity: u32,
    /// The highest UID ever acknowledged, seen, or fetched.
    highest_uid: u32,
}

impl Ledger {
    /// Checks INBOX after a restart against everything acknowledged and seen so far.
    fn check(&mut self, inbox: &Inbox, load: Load, data: &Path, context: &str) {
        if self.uidvalidity == 0 {
            self.uidvalidity = inbox.uidvalidity;
        }
        assert_eq!(
            inbox.uidvalidity, self.uidvalidity,
            "UIDVALIDITY changed across a kill ({context})"
        );
        // Every visible message is one a client sent, whole.
        let mut ids: HashMap<&str, u32> = HashMap::new();
        for (uid, bytes) in &inbox.bodies {
            let sent = match load {
                Load::Append => bytes.as_slice(),
                Load::Smtp => strip_trace(bytes),
            };
            let id = self
                .sent
                .iter()
                .find(|(_, b)| b.as_slice() == sent)
                .map(|(id, _)| id.as_str())
                .unwrap_or_else(|| {
                    panic!(
                        "UID {uid} is no message a client sent, or not whole ({context}):\n{}",
                        String::from_utf8_lossy(bytes)
                    )
                });
            assert!(
                ids.insert(id, *uid).is_none(),
                "{id} is in INBOX twice ({context})"
            );
        }
        for (id, uid) in &self.acked {
            let Some(&now) = ids.get(id.as_str()) else {
                panic!("acknowledged message {id} (UID {uid}) is gone after the kill ({context})");
            };
            if *uid != 0 {
                assert_eq!(now, *uid, "{id} was acknowledged as UID {uid} ({context})");
            }
        }
        for (uid, id) in &self.seen {
            let now = ids.get(id.as_str());
            if now != Some(uid) {
                let mut after: Vec<(u32, &str)> = ids.iter().map(|(id, uid)| (*uid, *id)).collect();
                after.sort();
                panic!(
                    "a session saw {id} as UID {uid} before the kill; after it: {now:?} ({context})\n\
                     seen before: {:?}\nafter: {after:?}\n{}",
                    self.seen,
                    index_dump(data)
                );
            }
        }
        assert!(
            inbox.messages >= self.announced,
            "IDLE was told of {} messages, {} after the kill ({context})",
            self.announced,
            inbox.messages
        );
        let fetched = inbox.bodies.keys().max().copied().unwrap_or(0);
        self.highest_uid = self.highest_uid.max(fetched);
        assert!(
            inbox.uidnext > self.highest_uid,
            "UIDNEXT {} is not above UID {} used before ({context})",
            inbox.uidnext,
            self.highest_uid
        );
    }

    /// Takes in the lines of a load phase; `floor` is the UIDNEXT the restart reported,
    /// below which no new UID may be given.
    fn record(&mut self, lines: &[String], floor: u32, context: &str) {
        for line in lines {
            if let Some(f) = fields(line, "SENT") {
                self.sent.insert(f[0].to_owned(), hex(f[1]));
            } else if let Some(f) = fields(line, "ACK") {
                let (validity, uid): (u32, u32) =
                    (f[1].parse().expect("number"), f[2].parse().expect("number"));
                if uid != 0 {
                    assert_eq!(validity, self.uidvalidity, "APPENDUID's UIDVALIDITY");
                    assert!(
                        uid >= floor,
                        "{} got UID {uid}, below the UIDNEXT {floor} of the restart ({context})",
                        f[0]
                    );
                    self.highest_uid = self.highest_uid.max(uid);
                }
                self.acked.insert(f[0].to_owned(), uid);
            } else if let Some(f) = fields(line, "SEEN") {
                let uid: u32 = f[0].parse().expect("uid");
                if let Some(before) = self.seen.insert(uid, f[1].to_owned()) {
                    assert_eq!(before, f[1], "UID {uid} named two messages ({context})");
                }
                let twice: Vec<u32> = self
                    .seen
                    .iter()
                    .filter(|(_, id)| *id == f[1])
                    .map(|(uid, _)| *uid)
                    .collect();
                assert!(
                    twice.len() == 1,
                    "a live session saw {} under {} UIDs, {twice:?}: one message listed \
                     twice ({context})",
                    f[1],
                    twice.len()
                );
                self.highest_uid = self.highest_uid.max(uid);
            } else if let Some(f) = fields(line, "IDLE") {
                if let ["*", n, "EXISTS"] = f[..] {
                    self.announced = self.announced.max(n.parse().expect("count"));
                }
            }
        }
        for (id, uid) in &self.acked {
            if *uid != 0 {
                if let Some(other) = self.seen.get(uid) {
                    assert_eq!(
                        other, id,
                        "UID {uid} acknowledged for {id}, seen as {other}"
                    );
                }
            }
        }
    }
}

/// Rounds of: restart, check everything acknowledged so far, load, SIGKILL at a seeded
/// moment; then a last restart and check.
fn kill_during_load(load: Load, tag: &str) {
    if !have_clients() {
        return;
    }
    let (mut rng, seed) = Rng::seeded();
    let dir = TempDir::new(tag);
    let data = dir.path().join("data");
    let mut ledger = Ledger::default();
    let mode = match load {
        Load::Append => "append",
        Load::Smtp => "smtp",
    };
    const ROUNDS: usize = 3;
    for round in 0..=ROUNDS {
        let context = format!("{mode}, round {round}, CRASH_SEED={seed}");
        let mut server = Server::start(&data);
        let script = if round < ROUNDS {
            format!("{VERIFY}\n{LOAD}")
        } else {
            format!("{VERIFY}\nverify()")
        };
        let mut py = Py::spawn(
            &server,
            &script,
            &[("MODE", mode.to_owned()), ("ROUND", round.to_string())],
        );
        let verified = py.until("VERIFIED");
        let inbox = parse_inbox(&verified);
        ledger.check(&inbox, load, &data, &context);
        if round == ROUNDS {
            py.finish();
            break;
        }
        // The kill: after a seeded number of acknowledgements, and a seeded delay.
        let acks = rng.range(4, 20);
        let mut lines = Vec::new();
        let mut got = 0;
        while got < acks {
            let Some(line) = py.next() else {
                panic!("the load ended early ({context}):\n{}", py.transcript())
            };
            got += u64::from(line.starts_with("ACK "));
            lines.push(line);
        }
        thread::sleep(Duration::from_millis(rng.range(0, 40)));
        server.kill();
        lines.extend(py.finish());
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("IDLE ") && l.ends_with("EXISTS")),
            "the IDLE session heard nothing ({context}):\n{}",
            server.logs()
        );
        ledger.record(&lines, inbox.uidnext, &context);
    }
    eprintln!(
        "{mode}, CRASH_SEED={seed}: {} sent, {} acknowledged, {} UIDs seen live, IDLE told of {}, highest UID {}",
        ledger.sent.len(),
        ledger.acked.len(),
        ledger.seen.len(),
        ledger.announced,
        ledger.highest_uid
    );
    assert!(ledger.acked.len() >= 12, "too little was acknowledged");
}

/// Three IMAP clients APPEND in a loop, one session is in IDLE and one polls; SIGKILL at a
/// seeded moment, three times: after each restart every APPENDUID acknowledged is there with
/// its UID and exact bytes, every visible message is one sent whole, a UID a session saw
/// names the same message, UIDNEXT is above every UID used and UIDVALIDITY is unchanged; the
/// APPENDs after a restart get UIDs at or above its UIDNEXT.
#[test]
fn kill_during_append_with_sessions_open_loses_no_acknowledged_message() {
    kill_during_load(Load::Append, "crash-append");
}

/// The same with SMTP: three `smtplib` clients deliver in a loop while IMAP sessions are in
/// IDLE and polling INBOX; every message answered 250 is there after the kill, whole, and
/// keeps the UID a session saw it under.
#[test]
fn kill_during_smtp_delivery_with_imap_sessions_open_loses_no_accepted_message() {
    kill_during_load(Load::Smtp, "crash-smtp");
}

/// The flags of a `FLAGS` answer as a sorted list, without `\Recent` (which belongs to a
/// session, not to the store).
fn flag_set(list: &str) -> Vec<String> {
    let mut flags: Vec<String> = list
        .trim_matches(|c| c == '(' || c == ')')
        .split(' ')
        .filter(|f| !f.is_empty() && !f.eq_ignore_ascii_case("\\Recent"))
        .map(str::to_owned)
        .collect();
    flags.sort();
    flags
}

/// The UIDs a script printed on its `UIDS` line.
fn uids(lines: &[String]) -> Vec<u32> {
    lines
        .iter()
        .find_map(|l| fields(l, "UIDS"))
        .unwrap_or_else(|| panic!("no UIDS line in {lines:?}"))
        .iter()
        .map(|w| w.parse().expect("uid"))
        .collect()
}

/// Appends `keep-0` ... `keep-5`, then STOREs and EXPUNGEs, each acknowledged with a tagged
/// OK, and holds the session open (until its standard input closes).
const STORE_EXPUNGE: &str = r#"
m = login()
m.select('INBOX')
uids = []
for i in range(6):
    typ, data = m.append('INBOX', None, None, message('keep-%d' % i, 3))
    uids.append(int(re.search(rb'APPENDUID \d+ (\d+)', data[-1]).group(1)))
out('UIDS', *uids)
def ok(answer, what):
    typ, data = answer
    if typ != 'OK':
        raise Exception('%s: %r' % (what, data))
ok(m.uid('STORE', str(uids[0]), '+FLAGS', r'(\Flagged \Seen)'), 'STORE')
ok(m.uid('STORE', str(uids[0]), '-FLAGS', r'(\Seen)'), 'STORE')
ok(m.uid('STORE', str(uids[1]), '+FLAGS', r'(\Seen $Label1)'), 'STORE')
ok(m.uid('STORE', str(uids[2]), 'FLAGS', r'(\Answered \Draft)'), 'STORE')
ok(m.uid('STORE', '%d,%d,%d' % (uids[3], uids[4], uids[5]), '+FLAGS', r'(\Deleted)'), 'STORE')
ok(m.uid('EXPUNGE', str(uids[3])), 'UID EXPUNGE')
ok(m.uid('STORE', str(uids[5]), '-FLAGS', r'(\Deleted)'), 'STORE')
ok(m.expunge(), 'EXPUNGE')
out('ACKED')
sys.stdin.readline()
"#;

/// A verification that also lists the messages of the next POP3 session (`POP id` each).
const VERIFY_WITH_POP3: &str = r#"
verify()
p = poplib.POP3('127.0.0.1', POP3_PORT, timeout=20)
p.user(ALICE)
p.pass_(PW)
count, size = p.stat()
for i in range(1, count + 1):
    head = b'\n'.join(p.top(i, 0)[1])
    found = re.search(rb'X-Id: (\S+)', head)
    out('POP', found.group(1).decode() if found else '-')
p.quit()
out('POPDONE')
"#;

/// The `X-Id` of a message.
fn x_id(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    text.lines()
        .find_map(|l| l.strip_prefix("X-Id: "))
        .unwrap_or_else(|| panic!("no X-Id in {text}"))
        .to_owned()
}

/// STORE (+FLAGS, -FLAGS, FLAGS, a keyword), UID EXPUNGE and EXPUNGE answered OK, the
/// session still open, then SIGKILL: after the restart the flags are as acknowledged and the
/// expunged messages are gone, for IMAP and for the next POP3 session; after a second kill
/// and restart they still are (an expunged message never comes back).
#[test]
fn kill_after_store_and_expunge_keeps_flags_and_expunges() {
    if !have_clients() {
        return;
    }
    let dir = TempDir::new("crash-store");
    let data = dir.path().join("data");
    let mut server = Server::start(&data);
    let mut py = Py::spawn(&server, &format!("{VERIFY}\n{STORE_EXPUNGE}"), &[]);
    let lines = py.until("ACKED");
    let uids = uids(&lines);
    server.kill();
    py.finish();
    let expected: BTreeMap<u32, (String, Vec<String>)> = [
        (uids[0], "keep-0", vec!["\\Flagged"]),
        (uids[1], "keep-1", vec!["$Label1", "\\Seen"]),
        (uids[2], "keep-2", vec!["\\Answered", "\\Draft"]),
        (uids[5], "keep-5", vec![]),
    ]
    .into_iter()
    .map(|(uid, id, flags)| {
        let mut flags: Vec<String> = flags.into_iter().map(str::to_owned).collect();
        flags.sort();
        (uid, (id.to_owned(), flags))
    })
    .collect();
    for restart in 1..=2 {
        let mut server = Server::start(&data);
        let mut py = Py::spawn(&server, &format!("{VERIFY}\n{VERIFY_WITH_POP3}"), &[]);
        let lines = py.until("POPDONE");
        let inbox = parse_inbox(&lines);
        let got: BTreeMap<u32, (String, Vec<String>)> = inbox
            .bodies
            .iter()
            .map(|(uid, bytes)| {
                let flags = inbox.flags.get(uid).map_or(Vec::new(), |f| flag_set(f));
                (*uid, (x_id(bytes), flags))
            })
            .collect();
        assert_eq!(
            got,
            expected,
            "after restart {restart}: UID to (message, flags)\n{}",
            server.logs()
        );
        let pop: Vec<String> = lines
            .iter()
            .filter_map(|l| l.strip_prefix("POP ").map(str::to_owned))
            .collect();
        assert_eq!(
            pop,
            ["keep-0", "keep-1", "keep-2", "keep-5"],
            "the POP3 listing after restart {restart}"
        );
        assert!(
            inbox.uidnext > uids[5],
            "UIDNEXT {} after restart {restart}",
            inbox.uidnext
        );
        server.kill();
        py.finish();
    }
}

/// Appends `idx-0` ... `idx-2` and prints their UIDs.
const APPEND_THREE: &str = r#"
m = login()
uids = []
for i in range(3):
    typ, data = m.append('INBOX', None, None, message('idx-%d' % i, 5 + i))
    uids.append(int(re.search(rb'APPENDUID \d+ (\d+)', data[-1]).group(1)))
out('UIDS', *uids)
m.logout()
"#;

/// The index files of alice's INBOX and the names in its `new/` and `cur/`, for a failure
/// message.
fn index_dump(data: &Path) -> String {
    let mut text = String::new();
    for file in index_files(data) {
        let body = std::fs::read_to_string(&file).unwrap_or_else(|e| e.to_string());
        text.push_str(&format!("--- {}\n{body}\n", file.display()));
    }
    for sub in ["new", "cur"] {
        text.push_str(&format!(
            "--- {sub}/: {:?}\n",
            maildir_names(data, ALICE, sub)
        ));
    }
    text
}

/// The index files of alice's INBOX.
fn index_files(data: &Path) -> [PathBuf; 2] {
    let inbox = maildir(data, ALICE);
    [
        inbox.join("sansmail-index"),
        inbox.join("sansmail-index.log"),
    ]
}

/// Starts the server on `data`, verifies INBOX and returns what it holds, by X-Id.
fn restart_and_read(data: &Path) -> (Inbox, BTreeMap<String, Vec<u8>>) {
    let mut server = Server::start(data);
    let py = Py::spawn(&server, &format!("{VERIFY}\nverify()"), &[]);
    let lines = py.finish();
    server.kill();
    let inbox = parse_inbox(&lines);
    let by_id = inbox
        .bodies
        .values()
        .map(|b| (x_id(b), b.clone()))
        .collect();
    (inbox, by_id)
}

/// With the server stopped (killed), the test overwrites INBOX's index files with garbage:
/// the restart serves every message, byte for byte, under a NEW UIDVALIDITY; then it removes
/// them: the next restart again serves every message under yet another UIDVALIDITY.
#[test]
fn a_corrupted_or_removed_index_is_rebuilt_with_a_new_uidvalidity() {
    if !have_clients() {
        return;
    }
    let dir = TempDir::new("crash-index");
    let data = dir.path().join("data");
    let mut server = Server::start(&data);
    let py = Py::spawn(&server, &format!("{VERIFY}\nverify()\n{APPEND_THREE}"), &[]);
    let lines = py.finish();
    server.kill();
    let before = parse_inbox(&lines);
    assert_eq!(uids(&lines).len(), 3);
    let (original, messages) = restart_and_read(&data);
    assert_eq!(
        original.uidvalidity, before.uidvalidity,
        "a clean restart keeps UIDVALIDITY"
    );
    assert_eq!(
        messages.keys().collect::<Vec<_>>(),
        ["idx-0", "idx-1", "idx-2"]
    );

    let files = index_files(&data);
    assert!(
        files.iter().any(|f| f.is_file()),
        "no index file at {files:?}"
    );
    for file in files.iter().filter(|f| f.is_file()) {
        std::fs::write(file, b"sansmail-imap-index 1\nnot an index at all\n").expect("corrupt");
    }
    let (corrupted, after) = restart_and_read(&data);
    assert_ne!(
        corrupted.uidvalidity, original.uidvalidity,
        "a corrupted index was served under its old UIDVALIDITY"
    );
    assert_eq!(
        after, messages,
        "the messages after the index was corrupted"
    );

    for file in index_files(&data).iter().filter(|f| f.is_file()) {
        std::fs::remove_file(file).expect("remove the index");
    }
    let (removed, after) = restart_and_read(&data);
    assert!(
        removed.uidvalidity != original.uidvalidity && removed.uidvalidity != corrupted.uidvalidity,
        "a removed index came back under an earlier UIDVALIDITY {}",
        removed.uidvalidity
    );
    assert_eq!(after, messages, "the messages after the index was removed");
    assert!(removed.uidnext > *removed.bodies.keys().max().expect("messages"));
}

/// Four deliveries over SMTP; an IMAP session sits in IDLE; POP3 RETRs one, DELEs another
/// and QUITs (+OK); IMAP then marks a third `\Deleted` and EXPUNGEs (OK). SIGKILL, restart:
/// IMAP shows the retrieved message `\Seen`, neither deleted one, and the next POP3 session
/// lists the same two messages.
#[test]
fn pop3_and_imap_changes_survive_a_kill_for_both_protocols() {
    if !have_clients() {
        return;
    }
    let dir = TempDir::new("crash-cross");
    let data = dir.path().join("data");
    let mut server = Server::start(&data);
    let script = format!(
        "{VERIFY}\n{}",
        r#"
for i in range(4):
    with smtplib.SMTP('127.0.0.1', SMTP_PORT, timeout=20) as s:
        s.sendmail('crash@example.org', [ALICE], message('cross-%d' % i, 2))
idle = login()
idle.select('INBOX')
idle.send(b'I1 IDLE\r\n')
assert idle.readline().startswith(b'+')
p = poplib.POP3('127.0.0.1', POP3_PORT, timeout=20)
p.user(ALICE)
p.pass_(PW)
ids = {}
for i in range(1, p.stat()[0] + 1):
    ids[re.search(rb'X-Id: (\S+)', b'\n'.join(p.top(i, 0)[1])).group(1).decode()] = i
p.retr(ids['cross-0'])
p.dele(ids['cross-1'])
out('QUIT', p.quit().decode())
m = login()
m.select('INBOX')
for uid, head in fetch_all(m, 1, 'BODY.PEEK[HEADER.FIELDS (X-Id)]'):
    if b'cross-2' in head:
        m.uid('STORE', str(uid), '+FLAGS', r'(\Deleted)')
typ, data = m.expunge()
out('EXPUNGE', typ)
out('ACKED')
sys.stdin.readline()
"#
    );
    let mut py = Py::spawn(&server, &script, &[]);
    let lines = py.until("ACKED");
    assert!(lines.iter().any(|l| l.starts_with("QUIT +OK")), "{lines:?}");
    assert!(lines.iter().any(|l| l == "EXPUNGE OK"), "{lines:?}");
    server.kill();
    py.finish();

    let mut server = Server::start(&data);
    let py = Py::spawn(&server, &format!("{VERIFY}\n{VERIFY_WITH_POP3}"), &[]);
    let lines = py.finish();
    server.kill();
    let inbox = parse_inbox(&lines);
    let got: Vec<(String, Vec<String>)> = inbox
        .bodies
        .iter()
        .map(|(uid, bytes)| {
            let flags = inbox.flags.get(uid).map_or(Vec::new(), |f| flag_set(f));
            (x_id(strip_trace(bytes)), flags)
        })
        .collect();
    assert_eq!(
        got,
        [
            ("cross-0".to_owned(), vec!["\\Seen".to_owned()]),
            ("cross-3".to_owned(), vec![]),
        ],
        "IMAP after the kill"
    );
    let pop: Vec<&str> = lines
        .iter()
        .filter_map(|l| l.strip_prefix("POP "))
        .collect();
    assert_eq!(pop, ["cross-0", "cross-3"], "POP3 after the kill");
}

/// Three SMTP clients deliver 40 messages each (to alice and bob) while three IMAP sessions
/// SELECT INBOX over and over; then a fresh session lists INBOX: every delivered message must
/// be there exactly once (the SELECT's reconciliation and the delivery hook must not both
/// index one file).
#[test]
fn select_during_delivery_lists_each_message_once() {
    if !have_clients() {
        return;
    }
    let dir = TempDir::new("crash-select");
    let data = dir.path().join("data");
    let mut server = Server::start(&data);
    let script = r#"
stop = threading.Event()
def sender(c):
    with smtplib.SMTP('127.0.0.1', SMTP_PORT, timeout=20) as s:
        for n in range(40):
            s.sendmail('crash@example.org', [ALICE, 'bob@localhost'], message('d-c%d-s%d' % (c, n), 1))
def selector():
    m = login()
    while not stop.is_set():
        m.select('INBOX')
    m.logout()
sels = [threading.Thread(target=selector) for _ in range(3)]
for t in sels:
    t.start()
senders = [threading.Thread(target=sender, args=(c,)) for c in range(3)]
for t in senders:
    t.start()
for t in senders:
    t.join()
stop.set()
for t in sels:
    t.join()
m = login()
m.select('INBOX')
for uid, head in fetch_all(m, 1, 'BODY.PEEK[HEADER.FIELDS (X-Id)]'):
    out('SEEN', uid, re.search(rb'X-Id: (\S+)', head).group(1).decode())
m.logout()
"#;
    let py = Py::spawn(&server, script, &[]);
    let lines = py.finish();
    server.kill();
    let mut uids_of: BTreeMap<String, Vec<u32>> = BTreeMap::new();
    for line in &lines {
        if let Some(f) = fields(line, "SEEN") {
            uids_of
                .entry(f[1].to_owned())
                .or_default()
                .push(f[0].parse().expect("uid"));
        }
    }
    let twice: Vec<(&String, &Vec<u32>)> = uids_of.iter().filter(|(_, u)| u.len() > 1).collect();
    assert!(
        twice.is_empty(),
        "messages listed under more than one UID: {twice:?}"
    );
    assert_eq!(uids_of.len(), 120, "delivered messages in INBOX");
}
