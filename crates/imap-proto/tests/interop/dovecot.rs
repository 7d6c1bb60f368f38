//! A Dovecot IMAP server for interop tests: a server we did not write (Debian
//! `dovecot-imapd`), started by each test with a temporary configuration on free loopback
//! ports (plaintext with STARTTLS on one, implicit TLS on the other; `ssl = required`, so
//! credentials are refused before TLS and LOGINDISABLED is advertised there), one user
//! [`USER`] with [`PASSWORD`] and a Maildir, TLS with a certificate from mail-tls's dev
//! certificates. Stopped and removed on drop.
//!
//! [`Dovecot::append`] adds a message through a second connection of Python's `imaplib`
//! (another IMAP client we did not write), as a second device would.
//!
//! Without Dovecot on the machine [`Dovecot::start`] prints why and returns `None`, except
//! under `CI=true`, where it panics. Shared by `crates/imap-proto/tests/client_dovecot.rs` and
//! `examples/tests/imap_watch.rs`; it needs std and mail-tls (`dev-certs`) only.

#![allow(dead_code)] // each test binary that includes this module uses a different part of it

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The account's user name and password.
pub(crate) const USER: &str = "alice";
/// The account's password.
pub(crate) const PASSWORD: &str = "imap secret";

/// The longest wait for Dovecot to listen.
const LIMIT: Duration = Duration::from_secs(30);

/// Whether the tests run under CI, where nothing skips.
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

/// A running Dovecot IMAP server.
pub(crate) struct Dovecot {
    child: Child,
    /// The plaintext port (STARTTLS).
    pub(crate) port: u16,
    /// The implicit-TLS port (imaps).
    pub(crate) tls_port: u16,
    /// The temporary directory of this instance.
    pub(crate) dir: PathBuf,
}

impl Dovecot {
    /// Starts Dovecot with an empty INBOX; `None` (after printing why) without Dovecot,
    /// unless `CI=true`.
    pub(crate) fn start(tag: &str) -> Option<Dovecot> {
        let binary = ["/usr/sbin/dovecot", "/usr/local/sbin/dovecot"]
            .into_iter()
            .map(PathBuf::from)
            .find(|p| p.exists());
        let imap = ["/usr/lib/dovecot/imap", "/usr/libexec/dovecot/imap"]
            .into_iter()
            .any(|p| std::path::Path::new(p).exists());
        let (Some(binary), true) = (binary, imap) else {
            assert!(
                !ci(),
                "CI=true: dovecot with IMAP is not installed (Debian dovecot-imapd; .ci/run installs it)"
            );
            eprintln!(
                "SKIPPED: dovecot-imapd is not installed (this test never skips with CI=true)"
            );
            return None;
        };
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "imap-dovecot-{tag}-{}-{}",
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
        // Mail processes may not run as root: as root, use `nobody`; otherwise ourselves.
        let root = id(&["-u"]) == "0";
        let (user, group) = if root {
            ("nobody".to_owned(), id(&["-gn", "nobody"]))
        } else {
            (id(&["-un"]), id(&["-gn"]))
        };
        let status = Command::new("chown")
            .arg("-R")
            .arg(format!("{user}:{group}"))
            .arg(dir.join("home"))
            .status()
            .expect("run chown");
        assert!(status.success(), "chown the Maildir");
        let (port, tls_port) = free_ports();
        let d = dir.display();
        let unprivileged = if root {
            String::new()
        } else {
            format!("default_internal_user = {user}\ndefault_login_user = {user}\n")
        };
        let config = format!(
            "base_dir = {d}/run\nstate_dir = {d}/state\nlog_path = {d}/log\n\
             protocols = imap\nlisten = 127.0.0.1\nssl = required\n\
             ssl_cert = <{cert}\nssl_key = <{key}\n\
             auth_mechanisms = plain login scram-sha-256\n\
             passdb {{\n driver = passwd-file\n args = scheme=PLAIN username_format=%u {d}/passwd\n}}\n\
             userdb {{\n driver = static\n args = uid={user} gid={group} home={d}/home/%u\n}}\n\
             mail_location = maildir:~/Maildir\nfirst_valid_uid = 1\n{unprivileged}\
             mailbox_idle_check_interval = 1 secs\n\
             mail_max_userip_connections = 100\n\
             service imap-login {{\n inet_listener imap {{\n  address = 127.0.0.1\n  port = {port}\n }}\n \
             inet_listener imaps {{\n  address = 127.0.0.1\n  port = {tls_port}\n  ssl = yes\n }}\n}}\n\
             service anvil {{\n chroot =\n}}\n",
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
        };
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err()
            || TcpStream::connect(("127.0.0.1", tls_port)).is_err()
        {
            assert!(
                start.elapsed() < LIMIT,
                "dovecot did not listen; log: {}",
                dovecot.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(dovecot)
    }

    /// The server's certificate (PEM), to trust.
    pub(crate) fn cert(&self) -> PathBuf {
        self.dir.join("cert.pem")
    }

    /// Dovecot's log.
    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("log")).unwrap_or_default()
    }

    /// APPENDs `message` to INBOX through Python's `imaplib` (see [`Appender`]).
    pub(crate) fn append(&self, message: &[u8]) {
        self.appender().append(message);
    }

    /// What a thread needs to APPEND while the test's own client is busy.
    pub(crate) fn appender(&self) -> Appender {
        Appender {
            tls_port: self.tls_port,
            cert: self.cert(),
        }
    }
}

/// A second device: APPENDs to INBOX through Python's `imaplib` over implicit TLS (trusting
/// the instance's certificate).
#[derive(Debug, Clone)]
pub(crate) struct Appender {
    tls_port: u16,
    cert: PathBuf,
}

impl Appender {
    /// APPENDs `message` to INBOX. Panics when Python or the APPEND fails.
    pub(crate) fn append(&self, message: &[u8]) {
        let script = "import imaplib, ssl, sys\n\
            ctx = ssl.create_default_context(cafile=sys.argv[2])\n\
            ctx.check_hostname = False\n\
            m = imaplib.IMAP4_SSL('127.0.0.1', int(sys.argv[1]), ssl_context=ctx)\n\
            m.login(sys.argv[3], sys.argv[4])\n\
            typ, data = m.append('INBOX', None, None, sys.stdin.buffer.read())\n\
            assert typ == 'OK', (typ, data)\n\
            m.logout()\n";
        let mut child = Command::new("python3")
            .arg("-c")
            .arg(script)
            .arg(self.tls_port.to_string())
            .arg(&self.cert)
            .arg(USER)
            .arg(PASSWORD)
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
