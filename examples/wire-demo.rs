//! A tour of `mail-wire` on its embedded defaults: the SMTP smuggling payloads through the dot
//! decoder under each bare-line-ending policy, and a command stream through the line framer.
//!
//! ```text
//! cargo run --example wire-demo            # the built-in payloads
//! cargo run --example wire-demo -- FILE    # decode FILE as the body of an SMTP DATA command
//! ```

use bytes::BytesMut;
use mail_wire::dot::{BareLineEnding, DotDecoder, DotEvent};
use mail_wire::line::{Frame, LineFramer};
use std::process::ExitCode;

const POLICIES: [BareLineEnding; 3] = [
    BareLineEnding::Reject,
    BareLineEnding::Normalize,
    BareLineEnding::Preserve,
];

/// Decodes `wire` as one DATA body; returns a one-line description and the octets left over.
fn describe(policy: BareLineEnding, wire: &[u8]) -> (String, Vec<u8>) {
    let mut decoder = DotDecoder::new(policy, 10 << 20);
    let mut buf = BytesMut::from(wire);
    let mut body = Vec::new();
    let mut refused = None;
    while let Some(event) = decoder.next_event(&mut buf) {
        match event {
            DotEvent::Data(chunk) => body.extend_from_slice(&chunk),
            DotEvent::Rejected(error) => refused = Some(error),
            DotEvent::End(Ok(size)) => {
                let text = format!(
                    "accepted, {size} octets: {:?}",
                    String::from_utf8_lossy(&body)
                );
                return (text, buf.to_vec());
            }
            DotEvent::End(Err(error)) => return (format!("refused: {error}"), buf.to_vec()),
            other => return (format!("unexpected event {other:?}"), buf.to_vec()),
        }
    }
    let state = match refused {
        Some(error) => format!("refused ({error}), still waiting for CRLF.CRLF"),
        None => format!("no end marker yet after {} octets", body.len()),
    };
    (state, buf.to_vec())
}

fn smuggling_tour() {
    println!("SMTP smuggling: each payload hides a second MAIL transaction behind a fake end");
    println!("marker. mail-wire ends a body only at CRLF \".\" CRLF, under every policy.\n");
    let fakes: [(&str, &[u8]); 6] = [
        ("\\n.\\n", b"\n.\n"),
        ("\\r.\\r", b"\r.\r"),
        ("\\n.\\r\\n", b"\n.\r\n"),
        ("\\r\\n.\\n", b"\r\n.\n"),
        ("\\r.\\r\\n", b"\r.\r\n"),
        ("\\r\\n.\\r", b"\r\n.\r"),
    ];
    for (name, fake) in fakes {
        let mut wire = b"Subject: hello\r\n\r\nhi".to_vec();
        wire.extend_from_slice(fake);
        wire.extend_from_slice(b"MAIL FROM:<ceo@bank.example>\r\n\r\n.\r\nQUIT\r\n");
        println!("payload with fake end {name}:");
        for policy in POLICIES {
            let (text, rest) = describe(policy, &wire);
            println!("  {:<9} -> {text}", format!("{policy:?}"));
            println!(
                "  {:<12} next command: {:?}",
                "",
                String::from_utf8_lossy(&rest)
            );
        }
        println!();
    }
}

fn framing_tour() {
    println!("Line framing under RFC 5321's 512-octet command limit:");
    let mut stream = b"EHLO client.example\r\nMAIL FROM:<".to_vec();
    stream.extend(std::iter::repeat_n(b'a', 600));
    stream.extend_from_slice(b">\r\nHELO bare-lf\nNOOP\r\nQUI");
    let mut framer = LineFramer::new(512);
    let mut buf = BytesMut::from(&stream[..]);
    while let Some(frame) = framer.next_frame(&mut buf) {
        match frame {
            Frame::Line(line) => println!("  line     {:?}", String::from_utf8_lossy(&line)),
            Frame::TooLong { limit } => println!("  too long (limit {limit}): reply 500 5.5.2"),
            Frame::BareLf(line) => println!(
                "  bare LF  {:?}: reply 500 5.5.2",
                String::from_utf8_lossy(&line)
            ),
            other => println!("  {other:?}"),
        }
    }
    println!(
        "  waiting for the rest of {:?}",
        String::from_utf8_lossy(&buf)
    );
}

/// The usage text printed by `--help`.
const USAGE: &str = "\
wire-demo: how mail-wire frames lines and finds the end of a DATA body.

USAGE:
    cargo run -p sansmail-examples --example wire-demo -- [FILE]

Without FILE: a tour of SMTP smuggling inputs and line framing. With FILE: the end of the
DATA body in FILE's bytes, under each bare-LF policy.

OPTIONS:
    -h, --help    Print this text
";

fn main() -> ExitCode {
    let first = std::env::args_os().nth(1);
    if first
        .as_ref()
        .is_some_and(|arg| arg == "--help" || arg == "-h")
    {
        print!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    match first {
        Some(path) => match std::fs::read(&path) {
            Ok(wire) => {
                for policy in POLICIES {
                    let (text, rest) = describe(policy, &wire);
                    println!("{policy:?}: {text}; {} octets after the body", rest.len());
                }
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("wire-demo: cannot read {}: {error}", path.to_string_lossy());
                ExitCode::FAILURE
            }
        },
        None => {
            smuggling_tour();
            framing_tour();
            ExitCode::SUCCESS
        }
    }
}
