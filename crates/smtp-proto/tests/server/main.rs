//! The SMTP/LMTP server state machine, tested from the outside: RFC transcripts replayed
//! through [`Server`](smtp_proto::server::Server) with a scripted decision policy, asserting
//! the exact reply bytes and the exact sequence of events. One test binary, a module per
//! topic; this file holds the configurations and expectations the topics share.
//!
//! `C:` lines are what the client sends (each gets CRLF; consecutive ones are pipelined in
//! one chunk), `S:` lines what the server must answer, nothing more and nothing less: the
//! test kit's transcript format (`mail_testkit::transcript`), replayed by `harness.rs`.
//!
//! proptest keeps the seeds of failed cases in `tests/proptest-regressions/<module file>.txt`,
//! named by the module file alone, so a module with property tests needs a file name no other
//! test binary uses.

mod harness;

mod auth;
mod auth_limits;
mod bdat;
mod commands;
mod data;
mod decisions;
mod envelope;
mod garbage;
mod hello;
mod http;
mod junk;
mod lifecycle;
mod limits;
mod lmtp;
mod pipelining;
mod review14;
mod segmentation;
mod sessions;
mod slow;
mod splitting;
mod starttls;
mod timeouts;
mod utf8_text;

use std::borrow::Cow;

use mail_wire::sasl::Mechanism;
use smtp_proto::server::{Event, ServerConfig};
use smtp_proto::{EnhancedStatusCode, ForwardPath, Reply, ReplyCode};

use crate::harness::{Decision, Harness, Policy, accept_all, domain, ehlo, mail, rcpt};

fn config(hostname: &str) -> ServerConfig {
    let mut config = ServerConfig::default();
    config.hostname = domain(hostname);
    config
}

/// The EHLO reply of a default configuration named `host`, with `extra` lines (STARTTLS,
/// AUTH ...) in their canonical places.
fn ehlo_reply(host: &str, starttls: bool, auth: Option<&str>) -> String {
    let mut lines = vec![host.to_owned(), "PIPELINING".into(), "8BITMIME".into()];
    lines.push("SMTPUTF8".into());
    if starttls {
        lines.push("STARTTLS".into());
    }
    lines.extend([
        "ENHANCEDSTATUSCODES".to_owned(),
        "CHUNKING".into(),
        "BINARYMIME".into(),
        "SIZE 10240000".into(),
    ]);
    if let Some(mechanisms) = auth {
        lines.push(format!("AUTH {mechanisms}"));
    }
    lines.push("LIMITS RCPTMAX=100".into());
    let last = lines.len() - 1;
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| format!("250{}{l}\r\n", if i == last { ' ' } else { '-' }))
        .collect()
}

/// An owned reply with an enhanced status code.
fn reply_esc(code: u16, esc: (u8, u16, u16), text: String) -> Reply<'static> {
    Reply::new(
        ReplyCode::new(code).unwrap(),
        Some(EnhancedStatusCode::new(esc.0, esc.1, esc.2).unwrap()),
        [Cow::Owned(text.into_bytes())],
    )
    .unwrap()
}

/// A session that has said EHLO, with the greeting and EHLO reply already taken.
fn after_ehlo(config: ServerConfig) -> Harness {
    after_ehlo_with(config, accept_all())
}

fn after_ehlo_with(config: ServerConfig, policy: Policy) -> Harness {
    let mut h = Harness::with_policy(config, policy);
    h.send("EHLO client.example\r\n");
    let out = h.take_out();
    assert!(out.starts_with("220 "), "{out}");
    assert!(out.ends_with(" LIMITS RCPTMAX=100\r\n"), "{out}");
    assert_eq!(h.events(), [ehlo("client.example")]);
    h
}

/// A session with an open transaction: MAIL and one RCPT accepted, replies taken.
fn in_transaction(config: ServerConfig) -> Harness {
    let mut h = after_ehlo(config);
    h.send("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\n");
    assert_eq!(
        h.take_out(),
        "250 2.1.0 Sender ok\r\n250 2.1.5 Recipient ok\r\n"
    );
    assert_eq!(h.events(), [mail("a@example.org"), rcpt("b@example.net")]);
    h
}

const MESSAGE_ACCEPTED: &str = "250 2.0.0 Message accepted\r\n";

const START_DATA: &str = "354 End data with <CR><LF>.<CR><LF>\r\n";

const SIZE_EXCEEDED: &str = "552 5.3.4 Message size exceeds fixed maximum message size\r\n";

/// Rejects recipients whose local part starts with `reject`, accepts everything else.
fn reject_some_recipients() -> Policy {
    Box::new(|event| match event {
        Event::Rcpt {
            to: ForwardPath::Mailbox(m),
            ..
        } if m.local.as_str().starts_with("reject") => {
            Decision::Reject(reply_esc(550, (5, 1, 1), "No such user".into()))
        }
        _ => Decision::Accept,
    })
}

/// Turns reply text into `S:` script lines.
fn script_lines(replies: &str) -> String {
    replies.lines().map(|l| format!("S: {l}\n")).collect()
}

/// Feeds `bytes` one octet at a time.
fn send_bytewise(h: &mut Harness, bytes: &[u8]) {
    for byte in bytes {
        h.send([*byte]);
    }
}

fn tls_config() -> ServerConfig {
    let mut config = config("mx.example");
    config.starttls = true;
    config
}

/// Implicit TLS with SCRAM-SHA-256, PLAIN and LOGIN.
fn auth_config() -> ServerConfig {
    let mut config = config("mx.example");
    config.implicit_tls = true;
    config.auth_mechanisms = vec![Mechanism::ScramSha256, Mechanism::Plain, Mechanism::Login];
    // The failure delay is the subject of its own tests (auth_limits.rs); here replies come
    // at once.
    config.auth_failure_delay = std::time::Duration::ZERO;
    config
}

const PLAIN_ALICE: &str = "AGFsaWNlAHNlY3JldA=="; // "\0alice\0secret"

const PLAIN_WRONG: &str = "AGFsaWNlAHdyb25n"; // "\0alice\0wrong"

fn auth_step(mechanism: Mechanism) -> Event {
    Event::AuthStep { mechanism }
}
