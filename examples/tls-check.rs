//! `tls-check`: connect to a mail server, run the plaintext prelude if asked, and print what TLS
//! negotiated. Like `openssl s_client -starttls`, but readable.
//!
//! ```text
//! cargo run -p sansmail-examples --example tls-check -- HOST:PORT [--starttls smtp|pop3|imap]
//!     [--insecure] [--ca FILE] [--servername NAME] [--timeout SECS]
//! ```
//!
//! Without `--starttls` the handshake comes first (implicit TLS: 465, 993, 995). With it, the
//! tool performs the plaintext prelude: `EHLO` then `STARTTLS` (smtp), `CAPA` then `STLS`
//! (pop3), `CAPABILITY` then `STARTTLS` (imap). Certificates are verified against the Mozilla
//! roots (or `--ca`); `--insecure` completes the handshake anyway and reports the failure.

use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mail_tls::pki_types::{CertificateDer, ServerName, UnixTime};
use mail_tls::rustls::client::danger::{
    HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier,
};
use mail_tls::rustls::{self, DigitallySignedStruct, SignatureScheme};
use mail_tls::tokio::{HandshakeOptions, connect_implicit, starttls_connect};
use mail_tls::{CertificateInfo, Service, SessionInfo, TlsError, Validity};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

struct Args {
    host: String,
    port: u16,
    starttls: Option<Service>,
    insecure: bool,
    ca: Option<String>,
    servername: Option<String>,
    timeout: Duration,
}

/// The usage text printed by `--help`.
const USAGE: &str = "\
tls-check: connect to a mail server and print what TLS negotiated.

USAGE:
    cargo run -p sansmail-examples --example tls-check -- HOST:PORT [OPTIONS]

Without --starttls the handshake comes first (implicit TLS: ports 465, 993, 995).

OPTIONS:
    --starttls smtp|pop3|imap  Run the plaintext prelude and STARTTLS (STLS) first
    --insecure                 Complete the handshake whatever the certificate; report it
    --ca FILE                  Trust the CA certificates in FILE instead of the Mozilla roots
    --servername NAME          The name to verify (default: HOST)
    --timeout SECS             Connect, prelude and handshake timeout [default: 10]
    -h, --help                 Print this text

EXIT CODES:
    0  the handshake succeeded and the certificate verified
    1  it did not
    2  the command line is wrong
";

/// What the command line asks for.
enum Parsed {
    Check(Args),
    Help,
}

fn parse_args(args: Vec<String>) -> Result<Parsed, String> {
    if args.iter().any(|a| a == "--help" || a == "-h") {
        return Ok(Parsed::Help);
    }
    let mut it = args.into_iter();
    let target = it
        .next()
        .ok_or("expected HOST:PORT; run with --help for the options")?;
    let (host, port) = target
        .rsplit_once(':')
        .ok_or(format!("{target}: expected HOST:PORT"))?;
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let port = port
        .parse()
        .map_err(|_| format!("{port}: not a port number"))?;
    let mut args = Args {
        host,
        port,
        starttls: None,
        insecure: false,
        ca: None,
        servername: None,
        timeout: Duration::from_secs(10),
    };
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--starttls" => {
                args.starttls = Some(match it.next().as_deref() {
                    Some("smtp") => Service::Submission,
                    Some("pop3") => Service::Pop3,
                    Some("imap") => Service::Imap,
                    other => {
                        return Err(format!("--starttls {other:?}: expected smtp, pop3 or imap"));
                    }
                })
            }
            "--insecure" => args.insecure = true,
            "--ca" => args.ca = Some(it.next().ok_or("--ca needs a file")?),
            "--servername" => args.servername = Some(it.next().ok_or("--servername needs a name")?),
            "--timeout" => {
                let secs: u64 = it
                    .next()
                    .and_then(|s| s.parse().ok())
                    .ok_or("--timeout needs seconds")?;
                args.timeout = Duration::from_secs(secs);
            }
            other => {
                return Err(format!(
                    "unknown argument {other}; run with --help for the options"
                ));
            }
        }
    }
    Ok(Parsed::Check(args))
}

/// Runs the real verifier, records its verdict, and with `--insecure` accepts anyway.
#[derive(Debug)]
struct Recording {
    inner: Arc<dyn ServerCertVerifier>,
    verdict: Arc<Mutex<Option<Result<(), String>>>>,
    insecure: bool,
}

impl ServerCertVerifier for Recording {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let res = self
            .inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now);
        *self.verdict.lock().unwrap() = Some(res.as_ref().map(|_| ()).map_err(|e| e.to_string()));
        match res {
            Err(_) if self.insecure => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

fn build_config(
    args: &Args,
    verdict: Arc<Mutex<Option<Result<(), String>>>>,
) -> Result<Arc<rustls::ClientConfig>, TlsError> {
    let roots = match &args.ca {
        Some(path) => mail_tls::load_root_store(path)?,
        None => rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        },
    };
    let provider = mail_tls::certs::provider();
    let inner = rustls::client::WebPkiServerVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .build()
    .map_err(|e| TlsError::Config(e.to_string()))?;
    let verifier = Arc::new(Recording {
        inner,
        verdict,
        insecure: args.insecure,
    });
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(mail_tls::PROTOCOL_VERSIONS)
        .map_err(|e| TlsError::Config(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

type Reader = BufReader<TcpStream>;

async fn read_line(r: &mut Reader) -> Result<String, String> {
    let mut line = String::new();
    let n = r.read_line(&mut line).await.map_err(|e| e.to_string())?;
    if n == 0 {
        return Err("connection closed by the server".into());
    }
    let line = line.trim_end().to_string();
    println!("S: {line}");
    Ok(line)
}

async fn send(r: &mut Reader, line: &str) -> Result<(), String> {
    println!("C: {line}");
    r.get_mut()
        .write_all(format!("{line}\r\n").as_bytes())
        .await
        .map_err(|e| e.to_string())
}

/// Run the plaintext prelude up to and including the positive STARTTLS/STLS reply.
async fn prelude(r: &mut Reader, service: Service) -> Result<(), String> {
    let greeting = read_line(r).await?;
    match service {
        Service::Pop3 => {
            if !greeting.starts_with("+OK") {
                return Err(format!("not a POP3 greeting: {greeting:?}"));
            }
            send(r, "CAPA").await?;
            let first = read_line(r).await?;
            let mut stls = false;
            if first.starts_with("+OK") {
                loop {
                    let l = read_line(r).await?;
                    if l == "." {
                        break;
                    }
                    stls |= l.eq_ignore_ascii_case("STLS");
                }
            }
            if !stls {
                return Err(
                    "the server does not advertise STLS (CAPA); refusing to continue in plaintext"
                        .into(),
                );
            }
            send(r, "STLS").await?;
            let reply = read_line(r).await?;
            if !reply.starts_with("+OK") {
                return Err(format!("STLS refused: {reply}"));
            }
        }
        Service::Imap => {
            if greeting.starts_with("* PREAUTH") {
                return Err(
                    "PREAUTH greeting: STARTTLS is impossible; refusing to continue".into(),
                );
            }
            if !greeting.starts_with("* OK") {
                return Err(format!("not an IMAP greeting: {greeting:?}"));
            }
            send(r, "a1 CAPABILITY").await?;
            let mut starttls = false;
            loop {
                let l = read_line(r).await?;
                if l.starts_with("* CAPABILITY") {
                    starttls |= l.split(' ').any(|c| c.eq_ignore_ascii_case("STARTTLS"));
                }
                if l.starts_with("a1 ") {
                    break;
                }
            }
            if !starttls {
                return Err(
                    "the server does not advertise STARTTLS; refusing to continue in plaintext"
                        .into(),
                );
            }
            send(r, "a2 STARTTLS").await?;
            loop {
                let l = read_line(r).await?;
                if l.starts_with("a2 OK") {
                    break;
                }
                if l.starts_with("a2 ") {
                    return Err(format!("STARTTLS refused: {l}"));
                }
            }
        }
        _ => {
            if !greeting.starts_with("220") {
                return Err(format!("not an SMTP greeting: {greeting:?}"));
            }
            let mut l = greeting;
            while l.as_bytes().get(3) == Some(&b'-') {
                l = read_line(r).await?;
            }
            send(r, "EHLO tls-check.invalid").await?;
            let mut starttls = false;
            loop {
                let l = read_line(r).await?;
                starttls |= l
                    .get(4..)
                    .is_some_and(|k| k.eq_ignore_ascii_case("STARTTLS"));
                if l.as_bytes().get(3) != Some(&b'-') {
                    break;
                }
            }
            if !starttls {
                return Err(
                    "the server does not advertise STARTTLS; refusing to continue in plaintext"
                        .into(),
                );
            }
            send(r, "STARTTLS").await?;
            let reply = read_line(r).await?;
            if !reply.starts_with("220") {
                return Err(format!("STARTTLS refused: {reply}"));
            }
        }
    }
    Ok(())
}

fn print_session(info: &SessionInfo) {
    println!(
        "protocol version: {}",
        info.protocol_version.as_deref().unwrap_or("?")
    );
    println!(
        "cipher suite:     {}",
        info.cipher_suite.as_deref().unwrap_or("?")
    );
    println!(
        "ALPN:             {}",
        info.alpn
            .as_deref()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .unwrap_or_else(|| "none".into())
    );
    println!("certificate chain ({}):", info.peer_certificates.len());
    for (i, c) in info.peer_certificates.iter().enumerate() {
        print_cert(i, c);
    }
}

fn print_cert(i: usize, c: &CertificateInfo) {
    let state = match c.validity_at(UnixTime::now()) {
        Validity::Valid => "valid now",
        Validity::Expired => "EXPIRED",
        Validity::NotYetValid => "NOT YET VALID",
    };
    println!("  [{i}] subject: {}", c.subject);
    println!("      issuer:  {}", c.issuer);
    println!(
        "      valid:   {} .. {} ({state})",
        c.not_before_utc(),
        c.not_after_utc()
    );
    if !c.dns_names.is_empty() {
        println!("      names:   {}", c.dns_names.join(", "));
    }
}

/// A handshake error, with a hint when certificate verification is what failed.
fn explain(err: TlsError, verdict: &Mutex<Option<Result<(), String>>>) -> String {
    match verdict.lock().unwrap().as_ref() {
        Some(Err(_)) => format!(
            "{err}\n(certificate verification failed; rerun with --insecure to see the chain, \
             or --ca FILE to trust a private CA)"
        ),
        _ => err.to_string(),
    }
}

async fn run(args: Args) -> Result<bool, String> {
    let verdict = Arc::new(Mutex::new(None));
    let config = build_config(&args, verdict.clone()).map_err(|e| e.to_string())?;
    let name = args.servername.clone().unwrap_or_else(|| args.host.clone());
    let server_name = mail_tls::server_name(&name).map_err(|e| e.to_string())?;
    let addr = format!("{}:{}", args.host, args.port);
    let sock = tokio::time::timeout(args.timeout, TcpStream::connect(&addr))
        .await
        .map_err(|_| format!("connect to {addr} timed out"))?
        .map_err(|e| format!("connect to {addr}: {e}"))?;
    println!(
        "connected to {addr} ({})",
        match args.starttls {
            Some(s) => format!("plaintext, then {}", s.starttls_command()),
            None => "implicit TLS".into(),
        }
    );
    let service_hint = args.starttls.or_else(|| {
        Service::ALL
            .into_iter()
            .find(|s| s.mode_for_port(args.port) == Some(mail_tls::TlsMode::Implicit))
    });
    let mut opts = HandshakeOptions::new(args.timeout).port(args.port);
    if let Some(s) = service_hint {
        opts = opts.service(s);
    }
    let info = match args.starttls {
        None => {
            let tls = connect_implicit(config, server_name, sock, opts)
                .await
                .map_err(|e| explain(e, &verdict))?;
            SessionInfo::from_connection(tls.get_ref().1)
        }
        Some(service) => {
            let mut reader = BufReader::new(sock);
            tokio::time::timeout(args.timeout, prelude(&mut reader, service))
                .await
                .map_err(|_| mail_tls::silent_server_hint(service, Some(args.port)))??;
            // Whatever the reader buffered past the reply is checked at the boundary.
            let leftover = reader.buffer().to_vec();
            let sock = reader.into_inner();
            let tls = starttls_connect(config, server_name, sock, &leftover, &[], opts)
                .await
                .map_err(|e| explain(e, &verdict))?;
            SessionInfo::from_connection(tls.get_ref().1)
        }
    };
    print_session(&info);
    let verdict = verdict.lock().unwrap().clone();
    Ok(match verdict {
        Some(Ok(())) => {
            println!("verification:     passed (name {name})");
            true
        }
        Some(Err(e)) => {
            println!(
                "verification:     FAILED: {e}{}",
                if args.insecure {
                    " (continued: --insecure)"
                } else {
                    ""
                }
            );
            false
        }
        None => {
            println!("verification:     not performed");
            false
        }
    })
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1).collect()) {
        Ok(Parsed::Check(args)) => args,
        Ok(Parsed::Help) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("tls-check: {e}");
            return ExitCode::from(2);
        }
    };
    match run(args).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}
