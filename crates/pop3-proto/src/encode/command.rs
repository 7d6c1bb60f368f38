//! `command`: the mirror of `parse/command.rs`.

use bytes::{BufMut, BytesMut};

use crate::command::Command;

/// Writes `command` and its CRLF.
pub(crate) fn command(command: &Command<'_>, out: &mut BytesMut) {
    out.put_slice(command.verb().as_bytes());
    let mut arg = |text: &str| {
        out.put_u8(b' ');
        out.put_slice(text.as_bytes());
    };
    match command {
        Command::User(name) => arg(name),
        Command::Pass(password) => arg(password.expose()),
        Command::Apop { name, digest } => {
            arg(name);
            arg(digest);
        }
        Command::Auth {
            mechanism,
            initial_response,
        } => {
            arg(mechanism);
            if let Some(initial) = initial_response {
                arg(initial.expose());
            }
        }
        Command::List(Some(n)) | Command::Uidl(Some(n)) | Command::Retr(n) | Command::Dele(n) => {
            arg(&n.to_string());
        }
        Command::Top { message, lines } => {
            arg(&message.to_string());
            arg(&lines.to_string());
        }
        Command::Lang(Some(range)) => arg(range),
        Command::Stat
        | Command::List(None)
        | Command::Uidl(None)
        | Command::Noop
        | Command::Rset
        | Command::Quit
        | Command::Capa
        | Command::Stls
        | Command::Utf8
        | Command::Lang(None) => {}
    }
    out.put_slice(b"\r\n");
}
