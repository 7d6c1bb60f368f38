//! A Dovecot server for interop tests: a server we did not write (Debian `dovecot-imapd` /
//! `dovecot-pop3d`), started by a test with a temporary configuration on free loopback
//! ports, one user with a password and a Maildir, and stopped and removed on drop.
//!
//! One harness for every test that talks to Dovecot: [`Config`] says which protocol, which
//! user, whether TLS (a certificate the caller made, for example with mail-tls's
//! `dev_certs`; the kit itself depends on `mail-wire` only) and any extra configuration lines;
//! [`Dovecot::start`] writes the configuration, starts `dovecot -F` and waits until every
//! listener accepts. With TLS, `ssl = required`: credentials are refused before TLS (IMAP
//! then advertises LOGINDISABLED), and a second listener speaks implicit TLS. Without TLS,
//! plaintext authentication is allowed and there is one listener.
//!
//! Messages reach the Maildir either as a delivery agent would put them ([`Dovecot::deliver`]:
//! a file in `new/`) or through a second IMAP client we did not write ([`Appender`]: Python's
//! `imaplib`).
//!
//! Without Dovecot on the machine [`Dovecot::start`] prints why and returns `None`, except
//! under `CI=true`, where it panics: under CI nothing skips.
//!
//! ```no_run
//! use mail_testkit::dovecot::{Config, Dovecot, Protocol};
//! let Some(dovecot) = Dovecot::start(Config::new("doc", Protocol::Imap).user("alice", "pw")) else {
//!     return; // not installed, and not under CI
//! };
//! let _port = dovecot.port;
//! ```

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The longest wait for Dovecot to listen.
const LIMIT: Duration = Duration::from_secs(30);

/// Whether the tests run under CI (`CI=true`), where nothing skips.
#[must_use]
pub fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Which Dovecot service a test needs (the other protocol's listeners stay closed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// IMAP (Debian `dovecot-imapd`): listeners `imap` and, with TLS, `imaps`.
    Imap,
    /// POP3 (Debian `dovecot-pop3d`): listeners `pop3` and, with TLS, `pop3s`.
    Pop3,
}

impl Protocol {
    /// The name in Dovecot's configuration (`protocols = ...`, `service NAME-login`).
    fn name(self) -> &'static str {
        match self {
            Protocol::Imap => "imap",
            Protocol::Pop3 => "pop3",
        }
    }

    /// The Debian package that provides it, for the error message.
    fn package(self) -> &'static str {
        match self {
            Protocol::Imap => "dovecot-imapd",
            Protocol::Pop3 => "dovecot-pop3d",
        }
    }
}

/// How to start a [`Dovecot`].
#[derive(Debug, Clone)]
pub struct Config {
    tag: String,
    protocol: Protocol,
    user: String,
    password: String,
    tls: Option<(String, String)>,
    extra: String,
}

impl Config {
    /// A configuration for `protocol`; `tag` names the temporary directory (for a reader of
    /// `/tmp` after a failure). Default user `alice`, password `secret`, no TLS.
    #[must_use]
    pub fn new(tag: &str, protocol: Protocol) -> Config {
        Config {
            tag: tag.to_owned(),
            protocol,
            user: "alice".to_owned(),
            password: "secret".to_owned(),
            tls: None,
            extra: String::new(),
        }
    }

    /// The one account's user name and password.
    #[must_use]
    pub fn user(mut self, user: &str, password: &str) -> Config {
        user.clone_into(&mut self.user);
        password.clone_into(&mut self.password);
        self
    }

    /// TLS with this certificate and key (PEM): `ssl = required` and a second, implicit-TLS
    /// listener ([`Dovecot::tls_port`]).
    #[must_use]
    pub fn tls(mut self, cert_pem: &str, key_pem: &str) -> Config {
        self.tls = Some((cert_pem.to_owned(), key_pem.to_owned()));
        self
    }

    /// Lines appended to the generated `dovecot.conf` (for example a `namespace` block).
    #[must_use]
    pub fn extra(mut self, lines: &str) -> Config {
        self.extra.push_str(lines);
        if !self.extra.ends_with('\n') {
            self.extra.push('\n');
        }
        self
    }
}

/// Runs `id args` and returns its output, trimmed.
fn id(args: &[&str]) -> String {
    let out = Command::new("id").args(args).output().expect("run id");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Two distinct free loopback ports: both listeners are open at once, so they differ.
fn free_ports() -> (u16, u16) {
    let bind = || TcpListener::bind("127.0.0.1:0").expect("a free port");
    let (a, b) = (bind(), bind());
    let port = |l: &TcpListener| l.local_addr().expect("local_addr").port();
    (port(&a), port(&b))
}

/// A running Dovecot. Stopped (SIGTERM, then waited for) and its directory removed on drop.
#[derive(Debug)]
pub struct Dovecot {
    child: Child,
    /// The plaintext port (STARTTLS / STLS when TLS is configured).
    pub port: u16,
    /// The implicit-TLS port (imaps / pop3s), when TLS is configured.
    pub tls_port: Option<u16>,
    /// The temporary directory of this instance (configuration, log, homes).
    pub dir: PathBuf,
    user: String,
    password: String,
    /// Who owns the mail (`user:group`; the mail processes may not run as root).
    owner: String,
}

impl Dovecot {
    /// Starts Dovecot as `config` says, with an empty Maildir; `None` (after printing why)
    /// when Dovecot with `config`'s protocol is not installed, unless `CI=true`, where it
    /// panics. Panics when Dovecot does not listen within 30 seconds (with its log).
    #[must_use]
    pub fn start(config: Config) -> Option<Dovecot> {
        let protocol = config.protocol;
        let binary = ["/usr/sbin/dovecot", "/usr/local/sbin/dovecot"]
            .into_iter()
            .map(PathBuf::from)
            .find(|p| p.exists());
        let service = protocol.name();
        let helper = [
            format!("/usr/lib/dovecot/{service}"),
            format!("/usr/libexec/dovecot/{service}"),
        ]
        .iter()
        .any(|p| Path::new(p).exists());
        let (Some(binary), true) = (binary, helper) else {
            let package = protocol.package();
            assert!(
                !ci(),
                "CI=true: dovecot with {service} is not installed (Debian {package}; .ci/run installs it)"
            );
            eprintln!("SKIPPED: {package} is not installed (this test never skips with CI=true)");
            return None;
        };
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "dovecot-{}-{}-{}",
            config.tag,
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        let maildir = dir.join("home").join(&config.user).join("Maildir");
        for sub in ["new", "cur", "tmp"] {
            std::fs::create_dir_all(maildir.join(sub)).expect("create the Maildir");
        }
        std::fs::write(
            dir.join("passwd"),
            format!("{}:{{PLAIN}}{}\n", config.user, config.password),
        )
        .expect("write passwd");
        // Mail processes may not run as root: as root, use `nobody`; otherwise ourselves.
        let root = id(&["-u"]) == "0";
        let (user, group) = if root {
            ("nobody".to_owned(), id(&["-gn", "nobody"]))
        } else {
            (id(&["-un"]), id(&["-gn"]))
        };
        let (port, second) = free_ports();
        let d = dir.display();
        let unprivileged = if root {
            String::new()
        } else {
            format!("default_internal_user = {user}\ndefault_login_user = {user}\n")
        };
        let (ssl, tls_port) = match &config.tls {
            Some((cert, key)) => {
                std::fs::write(dir.join("cert.pem"), cert).expect("write the certificate");
                std::fs::write(dir.join("key.pem"), key).expect("write the key");
                (
                    format!("ssl = required\nssl_cert = <{d}/cert.pem\nssl_key = <{d}/key.pem\n"),
                    Some(second),
                )
            }
            None => ("ssl = no\ndisable_plaintext_auth = no\n".to_owned(), None),
        };
        let listeners = |name: &str, on: bool| {
            let plain = if on { port } else { 0 };
            let tls = match tls_port {
                Some(p) if on => format!("  port = {p}\n  ssl = yes\n"),
                _ => "  port = 0\n".to_owned(),
            };
            format!(
                "service {name}-login {{\n inet_listener {name} {{\n  address = 127.0.0.1\n  port = {plain}\n }}\n \
                 inet_listener {name}s {{\n  address = 127.0.0.1\n{tls} }}\n}}\n"
            )
        };
        let specific = match protocol {
            Protocol::Imap => format!(
                "auth_mechanisms = plain login scram-sha-256\n\
                 mailbox_idle_check_interval = 1 secs\nmail_max_userip_connections = 100\n{}",
                listeners("imap", true)
            ),
            Protocol::Pop3 => format!(
                "auth_mechanisms = plain\nmail_max_userip_connections = 10000\n\
                 default_client_limit = 4000\n\
                 service pop3-login {{\n process_limit = 2000\n}}\n\
                 service pop3 {{\n process_limit = 2000\n}}\n{}{}",
                listeners("pop3", true),
                listeners("imap", false)
            ),
        };
        let config_text = format!(
            "base_dir = {d}/run\nstate_dir = {d}/state\nlog_path = {d}/log\n\
             protocols = {service}\nlisten = 127.0.0.1\n{ssl}\
             passdb {{\n driver = passwd-file\n args = scheme=PLAIN username_format=%u {d}/passwd\n}}\n\
             userdb {{\n driver = static\n args = uid={user} gid={group} home={d}/home/%u\n}}\n\
             mail_location = maildir:~/Maildir\nfirst_valid_uid = 1\n{unprivileged}\
             {specific}service anvil {{\n chroot =\n}}\n{extra}",
            extra = config.extra,
        );
        let conf = dir.join("dovecot.conf");
        std::fs::write(&conf, config_text).expect("write dovecot.conf");
        let dovecot_child = Command::new(binary)
            .arg("-F")
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("dovecot starts");
        let dovecot = Dovecot {
            child: dovecot_child,
            port,
            tls_port,
            dir,
            user: config.user,
            password: config.password,
            owner: format!("{user}:{group}"),
        };
        dovecot.chown();
        let start = Instant::now();
        let listening = |p: u16| TcpStream::connect(("127.0.0.1", p)).is_ok();
        while !listening(port) || !tls_port.is_none_or(listening) {
            assert!(
                start.elapsed() < LIMIT,
                "dovecot did not listen; log: {}",
                dovecot.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        // Each probe above started a login process that ends with its connection: wait until
        // the process list is steady, so a test that measures Dovecot's processes (pop3-load's
        // `--pid`) does not meet one on its way out.
        let mut before = dovecot.pids();
        loop {
            std::thread::sleep(Duration::from_millis(100));
            let now = dovecot.pids();
            if now == before || start.elapsed() > LIMIT {
                break;
            }
            before = now;
        }
        Some(dovecot)
    }

    /// Gives the homes to the mail user (as ourselves this is a no-op that succeeds).
    fn chown(&self) {
        let status = Command::new("chown")
            .arg("-R")
            .arg(&self.owner)
            .arg(self.dir.join("home"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("run chown");
        assert!(status.success(), "chown {}", self.owner);
    }

    /// The account's user name.
    #[must_use]
    pub fn user(&self) -> &str {
        &self.user
    }

    /// The account's password.
    #[must_use]
    pub fn password(&self) -> &str {
        &self.password
    }

    /// The server's certificate (PEM file), to trust; `None` without TLS.
    #[must_use]
    pub fn cert(&self) -> Option<PathBuf> {
        self.tls_port.map(|_| self.dir.join("cert.pem"))
    }

    /// Dovecot's log so far.
    #[must_use]
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("log")).unwrap_or_default()
    }

    /// The user's Maildir (INBOX) on the server side.
    #[must_use]
    pub fn maildir(&self) -> PathBuf {
        self.dir.join("home").join(&self.user).join("Maildir")
    }

    /// Puts a message into the user's Maildir (`new/`) as a delivery agent would (write to
    /// `tmp/`, rename), owned by the mail user.
    pub fn deliver(&self, message: &[u8]) {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::SeqCst);
        let name = format!("{}.M{n}P{}.test", 1_700_000_000 + n, std::process::id());
        let tmp = self.maildir().join("tmp").join(&name);
        std::fs::write(&tmp, message).expect("write a message");
        std::fs::rename(&tmp, self.maildir().join("new").join(&name)).expect("deliver");
        self.chown();
    }

    /// The messages in INBOX on disk (`new/` and `cur/`), sorted.
    #[must_use]
    pub fn messages(&self) -> Vec<Vec<u8>> {
        let mut all = Vec::new();
        for sub in ["new", "cur"] {
            all.extend(read_dir_files(&self.maildir().join(sub)));
        }
        all.sort();
        all
    }

    /// APPENDs `message` to INBOX through Python's `imaplib` (see [`Appender`]).
    pub fn append(&self, message: &[u8]) {
        self.appender().append(message);
    }

    /// What a thread needs to APPEND while the test's own client is busy.
    #[must_use]
    pub fn appender(&self) -> Appender {
        Appender {
            port: self.tls_port.unwrap_or(self.port),
            cert: self.cert(),
            user: self.user.clone(),
            password: self.password.clone(),
        }
    }

    /// The PID of Dovecot's master process.
    #[must_use]
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The PIDs of Dovecot's processes (the master and its descendants), from `/proc`.
    #[must_use]
    pub fn pids(&self) -> Vec<u32> {
        let mut pids = vec![self.child.id()];
        let mut i = 0;
        while let Some(&parent) = pids.get(i) {
            for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
                let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse().ok()) else {
                    continue;
                };
                let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
                // pid (comm) state ppid ...: the comm may hold spaces, the last ')' ends it.
                let ppid = stat
                    .rsplit_once(')')
                    .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                    .and_then(|p| p.parse::<u32>().ok());
                if ppid == Some(parent) && !pids.contains(&pid) {
                    pids.push(pid);
                }
            }
            i += 1;
        }
        pids
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A second device: APPENDs to INBOX through Python's `imaplib`, over implicit TLS (trusting
/// the instance's certificate) when the instance has TLS, else over plaintext IMAP.
#[derive(Debug, Clone)]
pub struct Appender {
    port: u16,
    cert: Option<PathBuf>,
    user: String,
    password: String,
}

impl Appender {
    /// APPENDs `message` to INBOX. Panics when Python or the APPEND fails.
    pub fn append(&self, message: &[u8]) {
        let script = "import imaplib, ssl, sys\n\
            if sys.argv[2]:\n\
            \x20   ctx = ssl.create_default_context(cafile=sys.argv[2])\n\
            \x20   ctx.check_hostname = False\n\
            \x20   m = imaplib.IMAP4_SSL('127.0.0.1', int(sys.argv[1]), ssl_context=ctx)\n\
            else:\n\
            \x20   m = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))\n\
            m.login(sys.argv[3], sys.argv[4])\n\
            typ, data = m.append('INBOX', None, None, sys.stdin.buffer.read())\n\
            assert typ == 'OK', (typ, data)\n\
            m.logout()\n";
        let cert = self
            .cert
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        let mut child = Command::new("python3")
            .arg("-c")
            .arg(script)
            .arg(self.port.to_string())
            .arg(cert)
            .arg(&self.user)
            .arg(&self.password)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("python3 runs (imaplib is in its standard library)");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(message)
            .expect("write the message");
        let out = child.wait_with_output().expect("python3 ends");
        assert!(
            out.status.success(),
            "imaplib APPEND failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// The contents of the files in `dir`, sorted (none when it cannot be read).
#[must_use]
pub fn read_dir_files(dir: &Path) -> Vec<Vec<u8>> {
    let mut all: Vec<Vec<u8>> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| std::fs::read(e.path()).ok())
        .collect();
    all.sort();
    all
}
