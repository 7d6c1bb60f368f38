//! A Dovecot POP3 server for the end-to-end tests of `pop3-fetch` and `pop3-load`: a server
//! we did not write (Debian `dovecot-pop3d`), started by each test with a temporary
//! configuration on free loopback ports (STLS on one, implicit TLS on the other), one user
//! [`USER`] with [`PASSWORD`] and a Maildir the test fills. Stopped and removed on drop.
//!
//! Without Dovecot on the machine [`Dovecot::start`] prints why and returns `None`, except
//! under `CI=true`, where it panics.

#![allow(dead_code)] // each test binary that includes this module uses a different part of it

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The account's user name and password.
pub(crate) const USER: &str = "alice";
pub(crate) const PASSWORD: &str = "pop3 fetch secret";

/// The longest wait for Dovecot to listen.
const LIMIT: Duration = Duration::from_secs(30);

pub(crate) fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

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

/// A running Dovecot.
pub(crate) struct Dovecot {
    child: Child,
    /// The STLS port (plain POP3).
    pub(crate) port: u16,
    /// The implicit-TLS port (pop3s).
    pub(crate) tls_port: u16,
    pub(crate) dir: PathBuf,
    /// Who owns the mail (the mail processes may not run as root).
    owner: String,
}

impl Dovecot {
    /// Starts Dovecot with `messages` in the user's Maildir (`new/`).
    pub(crate) fn start(tag: &str, messages: &[&[u8]]) -> Option<Dovecot> {
        let binary = ["/usr/sbin/dovecot", "/usr/local/sbin/dovecot"]
            .into_iter()
            .map(PathBuf::from)
            .find(|p| p.exists());
        let Some(binary) = binary else {
            assert!(
                !ci(),
                "CI=true: dovecot is not installed (Debian dovecot-pop3d; .ci/run installs it)"
            );
            eprintln!("SKIPPED: dovecot is not installed (this test never skips with CI=true)");
            return None;
        };
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "p3tools-dovecot-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        let maildir = dir.join("home").join(USER).join("Maildir");
        for sub in ["new", "cur", "tmp"] {
            std::fs::create_dir_all(maildir.join(sub)).expect("create the Maildir");
        }
        let cert = mail_tls::dev_certs::generate(&["localhost"]).expect("a certificate");
        let files = cert
            .write(&dir.join("cert.pem"), &dir.join("key.pem"))
            .expect("write the certificate");
        std::fs::write(dir.join("passwd"), format!("{USER}:{{PLAIN}}{PASSWORD}\n"))
            .expect("write passwd");
        let root = id(&["-u"]) == "0";
        let (user, group) = if root {
            ("nobody".to_owned(), id(&["-gn", "nobody"]))
        } else {
            (id(&["-un"]), id(&["-gn"]))
        };
        let (port, tls_port) = free_ports();
        let d = dir.display();
        let unprivileged = if root {
            String::new()
        } else {
            format!("default_internal_user = {user}\ndefault_login_user = {user}\n")
        };
        let config = format!(
            "base_dir = {d}/run\nstate_dir = {d}/state\nlog_path = {d}/log\n\
             protocols = pop3\nlisten = 127.0.0.1\nssl = required\n\
             ssl_cert = <{cert}\nssl_key = <{key}\nauth_mechanisms = plain\n\
             passdb {{\n driver = passwd-file\n args = scheme=PLAIN username_format=%u {d}/passwd\n}}\n\
             userdb {{\n driver = static\n args = uid={user} gid={group} home={d}/home/%u\n}}\n\
             mail_location = maildir:~/Maildir\nfirst_valid_uid = 1\n{unprivileged}\
             mail_max_userip_connections = 10000\n\
             service pop3-login {{\n inet_listener pop3 {{\n  address = 127.0.0.1\n  port = {port}\n }}\n \
             inet_listener pop3s {{\n  address = 127.0.0.1\n  port = {tls_port}\n  ssl = yes\n }}\n \
             process_limit = 2000\n}}\n\
             service pop3 {{\n process_limit = 2000\n}}\n\
             service imap-login {{\n inet_listener imap {{\n  port = 0\n }}\n inet_listener imaps {{\n  port = 0\n }}\n}}\n\
             service anvil {{\n chroot =\n}}\n\
             default_client_limit = 4000\n",
            cert = files.cert.display(),
            key = files.key.display(),
        );
        let conf = dir.join("dovecot.conf");
        std::fs::write(&conf, config).expect("write dovecot.conf");
        let child = Command::new(binary)
            .arg("-F")
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("dovecot starts");
        let dovecot = Dovecot {
            child,
            port,
            tls_port,
            dir,
            owner: format!("{user}:{group}"),
        };
        for message in messages {
            dovecot.deliver(message);
        }
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err()
            || TcpStream::connect(("127.0.0.1", tls_port)).is_err()
        {
            assert!(
                start.elapsed() < LIMIT,
                "dovecot did not listen; log: {}",
                std::fs::read_to_string(dovecot.dir.join("log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(dovecot)
    }

    /// The user's Maildir on the server side.
    pub(crate) fn maildir(&self) -> PathBuf {
        self.dir.join("home").join(USER).join("Maildir")
    }

    /// Puts a message into the user's Maildir (`new/`), owned by the mail user.
    pub(crate) fn deliver(&self, message: &[u8]) {
        static N: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "{}.M{}P{}.test",
            1_700_000_000 + N.fetch_add(1, Ordering::SeqCst),
            N.load(Ordering::SeqCst),
            std::process::id()
        );
        let tmp = self.maildir().join("tmp").join(&name);
        std::fs::write(&tmp, message).expect("write a message");
        std::fs::rename(&tmp, self.maildir().join("new").join(&name)).expect("deliver");
        let status = Command::new("chown")
            .arg("-R")
            .arg(&self.owner)
            .arg(self.dir.join("home"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("run chown");
        // Not root: the files are ours already, and chown to ourselves succeeds.
        assert!(status.success(), "chown {}", self.owner);
    }

    /// The messages on the server (`new/` and `cur/`).
    pub(crate) fn messages(&self) -> Vec<Vec<u8>> {
        let mut all = Vec::new();
        for sub in ["new", "cur"] {
            all.extend(read_dir_files(&self.maildir().join(sub)));
        }
        all
    }

    /// The PID of Dovecot's master process.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The PIDs of Dovecot's processes (the master and its children), from /proc.
    pub(crate) fn pids(&self) -> Vec<u32> {
        let master = self.child.id();
        let mut pids = vec![master];
        let mut i = 0;
        while i < pids.len() {
            let parent = pids[i];
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

/// The contents of the files in `dir`, sorted.
pub(crate) fn read_dir_files(dir: &Path) -> Vec<Vec<u8>> {
    let mut all: Vec<Vec<u8>> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| std::fs::read(e.path()).ok())
        .collect();
    all.sort();
    all
}

/// `text` with every line ending CRLF, as POP3 sends it.
pub(crate) fn crlf(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + 16);
    let mut previous = 0u8;
    for &b in text {
        if b == b'\n' && previous != b'\r' {
            out.push(b'\r');
        }
        out.push(b);
        previous = b;
    }
    out
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
