//! A Dovecot IMAP server for `tests/search_dovecot.rs`: a server we did not write (Debian
//! `dovecot-imapd`), started with a temporary configuration on a free loopback port (no TLS,
//! plaintext LOGIN allowed), one user [`USER`] whose Maildir lives in a temporary directory,
//! no full-text search plugin (Dovecot then searches the decoded text substring by
//! substring). Stopped and removed on drop. A small blocking IMAP client, [`Imap`], talks to
//! it line by line.
//!
//! Without Dovecot on the machine [`Dovecot::start`] prints why and returns `None`, except
//! under `CI=true`, where it panics.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The account's user name and password.
pub(crate) const USER: &str = "searcher";
pub(crate) const PASSWORD: &str = "search secret";

/// The longest wait for Dovecot to listen, and for one answer.
const LIMIT: Duration = Duration::from_secs(30);

fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

fn id(args: &[&str]) -> String {
    let out = Command::new("id").args(args).output().expect("run id");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// A running Dovecot.
pub(crate) struct Dovecot {
    child: Child,
    /// The IMAP port on 127.0.0.1.
    pub(crate) port: u16,
    dir: PathBuf,
}

impl Dovecot {
    /// Starts Dovecot with an empty INBOX.
    pub(crate) fn start() -> Option<Dovecot> {
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
                "CI=true: Dovecot's IMAP server is not installed (Debian dovecot-imapd; .ci/run installs it)"
            );
            eprintln!(
                "SKIPPED: dovecot-imapd is not installed (this test never skips with CI=true)"
            );
            return None;
        };
        let dir = std::env::temp_dir().join(format!("imap-search-dovecot-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let home = dir.join("home").join(USER);
        std::fs::create_dir_all(&home).expect("create the home");
        std::fs::write(dir.join("passwd"), format!("{USER}:{{PLAIN}}{PASSWORD}\n"))
            .expect("write passwd");
        let root = id(&["-u"]) == "0";
        let (user, group) = if root {
            ("nobody".to_owned(), id(&["-gn", "nobody"]))
        } else {
            (id(&["-un"]), id(&["-gn"]))
        };
        let port = {
            let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
            listener.local_addr().expect("local_addr").port()
        };
        let d = dir.display();
        let unprivileged = if root {
            String::new()
        } else {
            format!("default_internal_user = {user}\ndefault_login_user = {user}\n")
        };
        // TZ=UTC: Maildir keeps no zone for the internal date, Dovecot reads it in its own.
        let config = format!(
            "base_dir = {d}/run\nstate_dir = {d}/state\nlog_path = {d}/log\n\
             protocols = imap\nlisten = 127.0.0.1\nssl = no\ndisable_plaintext_auth = no\n\
             auth_mechanisms = plain login\n\
             passdb {{\n driver = passwd-file\n args = scheme=PLAIN username_format=%u {d}/passwd\n}}\n\
             userdb {{\n driver = static\n args = uid={user} gid={group} home={d}/home/%u\n}}\n\
             mail_location = maildir:~/Maildir\nfirst_valid_uid = 1\n{unprivileged}\
             import_environment = TZ=UTC\n\
             service imap-login {{\n inet_listener imap {{\n  address = 127.0.0.1\n  port = {port}\n }}\n \
             inet_listener imaps {{\n  port = 0\n }}\n}}\n\
             service pop3-login {{\n inet_listener pop3 {{\n  port = 0\n }}\n inet_listener pop3s {{\n  port = 0\n }}\n}}\n\
             service anvil {{\n chroot =\n}}\n"
        );
        let conf = dir.join("dovecot.conf");
        std::fs::write(&conf, config).expect("write dovecot.conf");
        let status = Command::new("chown")
            .arg("-R")
            .arg(format!("{user}:{group}"))
            .arg(dir.join("home"))
            .status()
            .expect("run chown");
        assert!(status.success(), "chown {user}:{group}");
        let child = Command::new(binary)
            .arg("-F")
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("dovecot starts");
        let dovecot = Dovecot { child, port, dir };
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                start.elapsed() < LIMIT,
                "dovecot did not listen; log: {}",
                dovecot.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(dovecot)
    }

    /// Dovecot's log.
    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("log")).unwrap_or_default()
    }

    /// A logged-in connection.
    pub(crate) fn login(&self) -> Imap {
        let stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect to dovecot");
        stream.set_read_timeout(Some(LIMIT)).expect("read timeout");
        let mut imap = Imap {
            reader: BufReader::new(stream.try_clone().expect("clone the stream")),
            writer: stream,
            next: 0,
        };
        let greeting = imap.line();
        assert!(greeting.starts_with("* OK"), "greeting {greeting:?}");
        let (status, _) = imap.command(format!("LOGIN {USER} \"{PASSWORD}\"").as_bytes());
        assert!(
            status.starts_with("OK"),
            "LOGIN: {status}; log: {}",
            self.log()
        );
        imap
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

/// A blocking IMAP connection that reads answers line by line (the answers the test asks
/// for hold no literals).
pub(crate) struct Imap {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    next: u32,
}

impl Imap {
    fn line(&mut self) -> String {
        let mut line = Vec::new();
        self.reader
            .read_until(b'\n', &mut line)
            .expect("read from dovecot");
        assert!(!line.is_empty(), "dovecot closed the connection");
        String::from_utf8_lossy(&line).trim_end().to_owned()
    }

    /// Sends `tag command CRLF` (literals in it must be LITERAL+ ones, `{n+}`) and returns
    /// the tagged status (`OK ...`, `NO ...`, `BAD ...`) and the untagged lines.
    pub(crate) fn command(&mut self, command: &[u8]) -> (String, Vec<String>) {
        self.next += 1;
        let tag = format!("s{}", self.next);
        let mut out = format!("{tag} ").into_bytes();
        out.extend_from_slice(command);
        out.extend_from_slice(b"\r\n");
        self.writer.write_all(&out).expect("write to dovecot");
        let mut untagged = Vec::new();
        loop {
            let line = self.line();
            if let Some(status) = line.strip_prefix(&format!("{tag} ")) {
                return (status.to_owned(), untagged);
            }
            untagged.push(line);
        }
    }
}
