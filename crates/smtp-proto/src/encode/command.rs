//! Command lines, canonical upper-case verbs, ending with CRLF.

use std::fmt::Write;

use bytes::{BufMut, BytesMut};

use super::{params, path};
use crate::command::Command;

/// Any command.
pub(crate) fn command(c: &Command<'_>, out: &mut BytesMut) {
    out.put_slice(c.verb().as_bytes());
    match c {
        Command::Helo(d) => {
            out.put_u8(b' ');
            out.put_slice(d.as_str().as_bytes());
        }
        Command::Ehlo(h) | Command::Lhlo(h) => {
            out.put_u8(b' ');
            path::host(h, out);
        }
        Command::Mail { from, params: p } => {
            out.put_slice(b" FROM:");
            path::reverse_path(from, out);
            params::mail_parameters(p, out);
        }
        Command::Rcpt { to, params: p } => {
            out.put_slice(b" TO:");
            path::forward_path(to, out);
            params::rcpt_parameters(p, out);
        }
        Command::Data | Command::Rset | Command::Quit | Command::StartTls => {}
        Command::Bdat { size, last } => {
            // Writing to BytesMut cannot fail.
            let _ = write!(out, " {size}");
            if *last {
                out.put_slice(b" LAST");
            }
        }
        Command::Vrfy(a)
        | Command::Expn(a)
        | Command::Etrn(a)
        | Command::Help(Some(a))
        | Command::Noop(Some(a)) => {
            out.put_u8(b' ');
            out.put_slice(a.as_str().as_bytes());
        }
        Command::Help(None) | Command::Noop(None) => {}
        Command::Auth {
            mechanism,
            initial_response,
        } => {
            out.put_u8(b' ');
            out.put_slice(mechanism.as_str().as_bytes());
            if let Some(ir) = initial_response {
                out.put_u8(b' ');
                out.put_slice(ir.as_str().as_bytes());
            }
        }
    }
    out.put_slice(b"\r\n");
}
