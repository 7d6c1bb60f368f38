//! Real handshakes on loopback against peers we did not write: Python's `ssl` and `smtplib`
//! modules and `openssl s_client`, for implicit TLS and STARTTLS, both as server and as client.
//! These tests never skip under `CI=true`.
#![cfg(feature = "tokio")]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use common::{Ca, ChildGuard, Leaf, TempDir, openssl, path_str, python3};
use futures_util::{SinkExt, StreamExt};
use mail_tls::tokio::{
    HandshakeOptions, accept_implicit, connect_implicit, starttls_accept_framed,
    starttls_connect_framed,
};
use mail_tls::{ClientTls, ServerTls, Service, SessionInfo, TlsError, server_name};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::codec::{Framed, LinesCodec};

const LIMIT: Duration = Duration::from_secs(10);

struct Pki {
    dir: TempDir,
    ca_file: String,
    leaf: Leaf,
    cert_file: String,
    key_file: String,
    server: Arc<mail_tls::rustls::ServerConfig>,
    client: Arc<mail_tls::rustls::ClientConfig>,
}

fn pki(service: Service) -> Pki {
    let ca = Ca::new();
    let leaf = ca.issue(&["localhost", "127.0.0.1"], "Interop");
    let dir = TempDir::new("interop");
    let ca_file = path_str(&dir.write("ca.pem", ca.pem().as_bytes()));
    let files = leaf.write(&dir, "server");
    let (server, _resolver) = ServerTls::new(service)
        .build_from_pem_files(&files.cert, &files.key)
        .unwrap();
    let client = ClientTls::custom_roots_from_pem_file(&ca_file)
        .unwrap()
        .build()
        .unwrap();
    Pki {
        ca_file,
        cert_file: path_str(&files.cert),
        key_file: path_str(&files.key),
        leaf,
        server,
        client,
        dir,
    }
}

fn opts(service: Service, port: u16) -> HandshakeOptions {
    HandshakeOptions::new(Duration::from_secs(5))
        .service(service)
        .port(port)
}

async fn finish(mut child: ChildGuard) -> std::process::Output {
    let child = child.take();
    tokio::time::timeout(
        LIMIT,
        tokio::task::spawn_blocking(move || child.wait_with_output().unwrap()),
    )
    .await
    .expect("peer process did not finish in time")
    .unwrap()
}

fn spawn(cmd: &mut Command) -> ChildGuard {
    ChildGuard(Some(
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    ))
}

const PY_TLS_CLIENT: &str = r#"
import socket, ssl, sys
port, cafile, alpn = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl.create_default_context(cafile=cafile)
if alpn:
    ctx.set_alpn_protocols(alpn.split(','))
with socket.create_connection(('127.0.0.1', port), timeout=5) as raw:
    with ctx.wrap_socket(raw, server_hostname='localhost') as s:
        line = s.recv(100).decode().strip()
        print(s.version(), s.selected_alpn_protocol(), line)
"#;

async fn python_client_against_implicit_server(
    alpn: &str,
) -> (std::process::Output, Result<SessionInfo, TlsError>) {
    let py = python3().unwrap();
    let pki = pki(Service::Imap);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let child =
        spawn(Command::new(py).args(["-c", PY_TLS_CLIENT, &port.to_string(), &pki.ca_file, alpn]));
    let server = async {
        let (sock, _) = listener.accept().await.unwrap();
        let mut tls = accept_implicit(pki.server.clone(), sock, opts(Service::Imap, port)).await?;
        tls.write_all(b"* OK [CAPABILITY IMAP4rev2] ready\r\n")
            .await
            .unwrap();
        tls.shutdown().await.unwrap();
        Ok(SessionInfo::from_connection(tls.get_ref().1))
    };
    let result = tokio::time::timeout(LIMIT, server).await.unwrap();
    (finish(child).await, result)
}

#[tokio::test]
async fn python_ssl_client_to_our_implicit_server() {
    if python3().is_none() {
        return;
    }
    let (out, info) = python_client_against_implicit_server("").await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.starts_with("TLSv1.3 None * OK [CAPABILITY IMAP4rev2] ready"),
        "{stdout}"
    );
    assert_eq!(info.unwrap().protocol_version.as_deref(), Some("TLSv1_3"));
}

#[tokio::test]
async fn python_ssl_client_offering_imap_alpn_negotiates_it() {
    if python3().is_none() {
        return;
    }
    let (out, info) = python_client_against_implicit_server("http/1.1,imap").await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.starts_with("TLSv1.3 imap "), "{stdout}");
    assert_eq!(info.unwrap().alpn.as_deref(), Some(&b"imap"[..]));
}

#[tokio::test]
async fn python_ssl_client_offering_only_http_is_refused_alpaca() {
    if python3().is_none() {
        return;
    }
    let (out, info) = python_client_against_implicit_server("h2,http/1.1").await;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("NO_APPLICATION_PROTOCOL") || stderr.contains("no application protocol"),
        "{stderr}"
    );
    let err = info.unwrap_err();
    assert!(matches!(err, TlsError::Handshake { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("doesn't support any known protocol"),
        "{err}"
    );
}

/// A minimal SMTP server speaking just enough for STARTTLS. Returns the commands seen after TLS.
async fn mini_smtp_server(
    listener: TcpListener,
    config: Arc<mail_tls::rustls::ServerConfig>,
) -> Result<Vec<String>, TlsError> {
    let (sock, _) = listener.accept().await.unwrap();
    let port = sock.local_addr().unwrap().port();
    let mut f = Framed::new(sock, LinesCodec::new());
    f.send("220 localhost ESMTP mail-tls test\r").await.unwrap();
    loop {
        let Some(Ok(line)) = f.next().await else {
            return Ok(vec![]);
        };
        let line = line.trim_end().to_string();
        let verb = line.split(' ').next().unwrap_or("").to_ascii_uppercase();
        match verb.as_str() {
            "EHLO" => f
                .send("250-localhost\r\n250-PIPELINING\r\n250 STARTTLS\r")
                .await
                .unwrap(),
            "STARTTLS" => {
                f.send("220 2.0.0 Ready to start TLS\r").await.unwrap();
                break;
            }
            _ => f
                .send("530 5.7.0 Must issue a STARTTLS command first\r")
                .await
                .unwrap(),
        }
    }
    let tls = starttls_accept_framed(config, f, opts(Service::Submission, port)).await?;
    // Fresh codec: nothing from the plaintext phase survives.
    let mut f = Framed::new(tls, LinesCodec::new());
    let mut seen = Vec::new();
    while let Some(Ok(line)) = f.next().await {
        let line = line.trim_end().to_string();
        seen.push(line.clone());
        let verb = line.split(' ').next().unwrap_or("").to_ascii_uppercase();
        match verb.as_str() {
            "EHLO" => f.send("250-localhost\r\n250 AUTH PLAIN\r").await.unwrap(),
            "QUIT" => {
                f.send("221 2.0.0 Bye\r").await.unwrap();
                break;
            }
            _ => f.send("250 2.0.0 OK\r").await.unwrap(),
        }
    }
    Ok(seen)
}

const PY_SMTPLIB: &str = r#"
import smtplib, ssl, sys
port, cafile = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=cafile)
s = smtplib.SMTP('127.0.0.1', port, local_hostname='client.example', timeout=5)
s.ehlo()
code, _ = s.starttls(context=ctx)
s.ehlo()
print(code, s.sock.version(), s.has_extn('auth'), s.has_extn('starttls'))
s.quit()
"#;

#[tokio::test]
async fn python_smtplib_starttls_to_our_server() {
    let Some(py) = python3() else { return };
    let pki = pki(Service::Submission);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let child = spawn(Command::new(py).args(["-c", PY_SMTPLIB, &port.to_string(), &pki.ca_file]));
    let seen = tokio::time::timeout(LIMIT, mini_smtp_server(listener, pki.server.clone()))
        .await
        .unwrap()
        .unwrap();
    let out = finish(child).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // smtplib re-issued EHLO inside TLS and saw only the post-TLS capabilities.
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "220 TLSv1.3 True False"
    );
    assert_eq!(seen, ["ehlo client.example", "quit"]);
}

#[tokio::test]
async fn openssl_s_client_starttls_smtp_to_our_server() {
    let Some(openssl) = openssl() else { return };
    let pki = pki(Service::Submission);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut cmd = Command::new(openssl);
    cmd.args([
        "s_client",
        "-connect",
        &format!("127.0.0.1:{port}"),
        "-starttls",
        "smtp",
        "-servername",
        "localhost",
        "-verify_hostname",
        "localhost",
        "-CAfile",
        &pki.ca_file,
        "-verify_return_error",
        "-brief",
        "-crlf",
        "-nocommands",
    ]);
    let mut child = ChildGuard(Some(
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    ));
    let mut stdin = child.0.as_mut().unwrap().stdin.take().unwrap();
    let server = tokio::spawn(mini_smtp_server(listener, pki.server.clone()));
    // Feed QUIT once the session is up (s_client reads stdin only after the handshake).
    tokio::task::spawn_blocking(move || {
        use std::io::Write;
        std::thread::sleep(Duration::from_millis(300));
        let _ = stdin.write_all(b"QUIT\n");
        let _ = stdin.flush();
        std::thread::sleep(Duration::from_millis(2000));
    });
    let seen = tokio::time::timeout(LIMIT, server)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let out = finish(child).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("Verification: OK"), "{stderr}");
    assert!(stderr.contains("Protocol version: TLSv1.3"), "{stderr}");
    assert_eq!(seen, ["QUIT"]);
}

const PY_SERVER: &str = r#"
import socket, ssl, sys
cert, key, mode = sys.argv[1], sys.argv[2], sys.argv[3]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv = socket.socket()
srv.bind(('127.0.0.1', 0))
srv.listen(1)
srv.settimeout(5)
print(srv.getsockname()[1], flush=True)
conn, _ = srv.accept()
conn.settimeout(5)
def line(sock):
    buf = b''
    while not buf.endswith(b'\n'):
        c = sock.recv(1)
        if not c:
            break
        buf += c
    return buf
if mode == 'implicit':
    s = ctx.wrap_socket(conn, server_side=True)
    s.sendall(b'* OK python ready\r\n')
    print('got', line(s).decode().strip(), s.version(), flush=True)
    s.close()
elif mode == 'plain-greeting':
    conn.sendall(b'220 python.example ESMTP\r\n')
    conn.recv(1000)
    conn.close()
else:
    conn.sendall(b'220 python.example ESMTP\r\n')
    assert line(conn).upper().startswith(b'EHLO')
    conn.sendall(b'250-python.example\r\n250 STARTTLS\r\n')
    assert line(conn).upper() == b'STARTTLS\r\n'
    if mode == 'inject':
        conn.sendall(b'220 2.0.0 go ahead\r\n250 injected\r\n')
        rest = conn.recv(1000)
        print('after', repr(rest), flush=True)
    else:
        conn.sendall(b'220 2.0.0 go ahead\r\n')
        s = ctx.wrap_socket(conn, server_side=True)
        print('got', line(s).decode().strip(), s.version(), flush=True)
        s.sendall(b'250 python.example\r\n')
        s.close()
"#;

/// Start the Python TLS server in `mode`; returns the guard and its port.
fn python_server(pki: &Pki, mode: &str) -> Option<(ChildGuard, u16)> {
    let py = python3()?;
    let mut child = ChildGuard(Some(
        Command::new(py)
            .args(["-c", PY_SERVER, &pki.cert_file, &pki.key_file, mode])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    ));
    let stdout = child.0.as_mut().unwrap().stdout.take().unwrap();
    let mut reader = BufReader::new(stdout);
    let mut port = String::new();
    reader.read_line(&mut port).unwrap();
    let port: u16 = port
        .trim()
        .parse()
        .expect("python server did not print its port");
    // Give the rest of stdout back to the child handle's output collection.
    child.0.as_mut().unwrap().stdout = Some(reader.into_inner());
    Some((child, port))
}

#[tokio::test]
async fn our_implicit_client_to_python_ssl_server() {
    let pki = pki(Service::Imap);
    let Some((child, port)) = python_server(&pki, "implicit") else {
        return;
    };
    let sock = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let mut tls = connect_implicit(
        pki.client.clone(),
        server_name("localhost").unwrap(),
        sock,
        opts(Service::Imap, port),
    )
    .await
    .unwrap();
    let mut greeting = [0u8; 19];
    tokio::time::timeout(LIMIT, tls.read_exact(&mut greeting))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&greeting, b"* OK python ready\r\n");
    tls.write_all(b"a1 LOGOUT\r\n").await.unwrap();
    tls.flush().await.unwrap();
    let info = SessionInfo::from_connection(tls.get_ref().1);
    assert_eq!(info.peer_certificates[0].subject, "CN=localhost, O=Interop");
    let out = finish(child).await;
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "got a1 LOGOUT TLSv1.3"
    );
}

async fn client_starttls_prelude(sock: TcpStream) -> Framed<TcpStream, LinesCodec> {
    let mut f = Framed::new(sock, LinesCodec::new());
    assert!(f.next().await.unwrap().unwrap().starts_with("220 "));
    f.send("EHLO client.example\r").await.unwrap();
    let mut starttls = false;
    loop {
        let l = f.next().await.unwrap().unwrap();
        starttls |= l.ends_with("STARTTLS");
        if l.as_bytes()[3] == b' ' {
            break;
        }
    }
    assert!(starttls);
    f.send("STARTTLS\r").await.unwrap();
    // Let the whole reply (and anything injected behind it) arrive before the first read, so
    // that the injection test does not depend on TCP segmenting.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(f.next().await.unwrap().unwrap().starts_with("220 "));
    f
}

#[tokio::test]
async fn our_starttls_client_to_python_server() {
    let pki = pki(Service::Submission);
    let Some((child, port)) = python_server(&pki, "starttls") else {
        return;
    };
    let run = async {
        let sock = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let f = client_starttls_prelude(sock).await;
        let tls = starttls_connect_framed(
            pki.client.clone(),
            server_name("localhost").unwrap(),
            f,
            opts(Service::Submission, port),
        )
        .await
        .unwrap();
        let mut f = Framed::new(tls, LinesCodec::new());
        f.send("EHLO client.example\r").await.unwrap();
        f.next().await.unwrap().unwrap()
    };
    let reply = tokio::time::timeout(LIMIT, run).await.unwrap();
    assert_eq!(reply, "250 python.example");
    let out = finish(child).await;
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "got EHLO client.example TLSv1.3"
    );
}

#[tokio::test]
async fn our_starttls_client_refuses_response_injection_from_a_real_peer() {
    let pki = pki(Service::Submission);
    let Some((child, port)) = python_server(&pki, "inject") else {
        return;
    };
    let run = async {
        let sock = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let f = client_starttls_prelude(sock).await;
        starttls_connect_framed(
            pki.client.clone(),
            server_name("localhost").unwrap(),
            f,
            opts(Service::Submission, port),
        )
        .await
        .map(|_| ())
        .unwrap_err()
    };
    let err = tokio::time::timeout(LIMIT, run).await.unwrap();
    assert!(
        matches!(err, TlsError::StartTlsInjection { len: 14, .. }),
        "{err:?}"
    );
    // The peer saw the connection close with no ClientHello.
    let out = finish(child).await;
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "after b''");
}

#[tokio::test]
async fn our_implicit_client_to_python_plaintext_server_names_the_fix() {
    let pki = pki(Service::Submission);
    let Some((child, port)) = python_server(&pki, "plain-greeting") else {
        return;
    };
    let sock = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let err = connect_implicit(
        pki.client.clone(),
        server_name("localhost").unwrap(),
        sock,
        opts(Service::Submission, port),
    )
    .await
    .map(|_| ())
    .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("plaintext SMTP greeting"), "{text}");
    assert!(
        text.contains(&format!("use STARTTLS on port {port}")),
        "{text}"
    );
    assert!(text.contains("implicit TLS on port 465"), "{text}");
    finish(child).await;
}

#[tokio::test]
async fn python_tls_client_on_our_plaintext_port_is_diagnosed() {
    let Some(py) = python3() else { return };
    let pki = pki(Service::Submission);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let child =
        spawn(Command::new(py).args(["-c", PY_TLS_CLIENT, &port.to_string(), &pki.ca_file, ""]));
    let server = async {
        let (mut sock, _) = listener.accept().await.unwrap();
        // Our plaintext submission port: look at the first bytes before running the SMTP codec.
        let mut first = [0u8; 64];
        let n = sock.read(&mut first).await.unwrap();
        let res = mail_tls::check_plaintext_port(Service::Submission, Some(port), &first[..n]);
        drop(sock);
        res
    };
    let err = tokio::time::timeout(LIMIT, server)
        .await
        .unwrap()
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains(&format!("submission port {port}")), "{text}");
    assert!(
        text.contains("connect the client to port 465 for implicit TLS"),
        "{text}"
    );
    let out = finish(child).await;
    assert!(!out.status.success());
    let _ = &pki.leaf;
    let _ = &pki.dir;
}

/// What a scripted mini server does after answering a line.
enum Next {
    Continue,
    StartTls,
    Close,
}

/// A line-based server: `greeting`, then `respond(line, tls_active)` for every line. Returns the
/// lines seen after TLS.
async fn mini_server(
    listener: TcpListener,
    config: Arc<mail_tls::rustls::ServerConfig>,
    service: Service,
    greeting: &str,
    respond: fn(&str, bool) -> (String, Next),
) -> Result<Vec<String>, TlsError> {
    let (sock, _) = listener.accept().await.unwrap();
    let port = sock.local_addr().unwrap().port();
    let mut f = Framed::new(sock, LinesCodec::new());
    f.send(format!("{greeting}\r")).await.unwrap();
    loop {
        let Some(Ok(line)) = f.next().await else {
            return Ok(vec![]);
        };
        let (reply, next) = respond(line.trim_end(), false);
        f.send(format!("{reply}\r")).await.unwrap();
        match next {
            Next::Continue => {}
            Next::StartTls => break,
            Next::Close => return Ok(vec![]),
        }
    }
    let tls = starttls_accept_framed(config, f, opts(service, port)).await?;
    let mut f = Framed::new(tls, LinesCodec::new());
    let mut seen = Vec::new();
    while let Some(Ok(line)) = f.next().await {
        let line = line.trim_end().to_string();
        let (reply, next) = respond(&line, true);
        seen.push(line);
        f.send(format!("{reply}\r")).await.unwrap();
        if let Next::Close = next {
            break;
        }
    }
    Ok(seen)
}

/// Runs the Python client `script` (argv: port, CA file) against [`mini_server`] with the given
/// greeting and script; returns the client's stdout (after asserting it succeeded) and the lines
/// the server saw after TLS. `None` when python3 is missing outside CI.
async fn python_client_against_mini_server(
    script: &str,
    service: Service,
    greeting: &str,
    respond: fn(&str, bool) -> (String, Next),
) -> Option<(String, Vec<String>)> {
    let py = python3()?;
    let pki = pki(service);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let child = spawn(Command::new(py).args(["-c", script, &port.to_string(), &pki.ca_file]));
    let server = mini_server(listener, pki.server.clone(), service, greeting, respond);
    let seen = tokio::time::timeout(LIMIT, server).await.unwrap().unwrap();
    let out = finish(child).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some((
        String::from_utf8_lossy(&out.stdout).trim().to_string(),
        seen,
    ))
}

fn pop3_script(line: &str, tls: bool) -> (String, Next) {
    match (line.to_ascii_uppercase().as_str(), tls) {
        ("CAPA", false) => ("+OK\r\nSTLS\r\nTOP\r\n.".into(), Next::Continue),
        ("CAPA", true) => ("+OK\r\nUSER\r\nTOP\r\n.".into(), Next::Continue),
        ("STLS", false) => ("+OK Begin TLS negotiation".into(), Next::StartTls),
        ("QUIT", _) => ("+OK bye".into(), Next::Close),
        _ => ("-ERR not now".into(), Next::Continue),
    }
}

fn imap_script(line: &str, tls: bool) -> (String, Next) {
    let (tag, cmd) = line.split_once(' ').unwrap_or((line, ""));
    match (cmd.to_ascii_uppercase().as_str(), tls) {
        ("CAPABILITY", false) => (
            format!("* CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED\r\n{tag} OK done"),
            Next::Continue,
        ),
        ("CAPABILITY", true) => (
            format!("* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n{tag} OK done"),
            Next::Continue,
        ),
        ("STARTTLS", false) => (
            format!("{tag} OK Begin TLS negotiation now"),
            Next::StartTls,
        ),
        ("LOGOUT", _) => (format!("* BYE bye\r\n{tag} OK done"), Next::Close),
        _ => (format!("{tag} BAD not now"), Next::Continue),
    }
}

const PY_POPLIB: &str = r#"
import poplib, ssl, sys
port, cafile = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=cafile)
p = poplib.POP3('127.0.0.1', port, timeout=5)
p.stls(context=ctx)
print(p.sock.version(), sorted(p.capa().keys()))
p.quit()
"#;

#[tokio::test]
async fn python_poplib_stls_to_our_server() {
    let Some((stdout, seen)) =
        python_client_against_mini_server(PY_POPLIB, Service::Pop3, "+OK POP3 ready", pop3_script)
            .await
    else {
        return;
    };
    // Capabilities were asked again inside TLS and the pre-TLS STLS is gone.
    assert_eq!(stdout, "TLSv1.3 ['TOP', 'USER']");
    assert_eq!(seen, ["CAPA", "QUIT"]);
}

const PY_IMAPLIB: &str = r#"
import imaplib, ssl, sys
port, cafile = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=cafile)
m = imaplib.IMAP4('127.0.0.1', port, timeout=5)
m.starttls(ssl_context=ctx)
print(m.sock.version(), sorted(m.capabilities))
m.logout()
"#;

#[tokio::test]
async fn python_imaplib_starttls_to_our_server() {
    let Some((stdout, seen)) = python_client_against_mini_server(
        PY_IMAPLIB,
        Service::Imap,
        "* OK IMAP ready",
        imap_script,
    )
    .await
    else {
        return;
    };
    assert_eq!(stdout, "TLSv1.3 ['AUTH=PLAIN', 'IMAP4REV1']");
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(
        seen[0].ends_with(" CAPABILITY") && seen[1].ends_with(" LOGOUT"),
        "{seen:?}"
    );
}
