//! The outbound queue: mail that authenticated users submit for other domains, kept durably
//! under `<data>/queue/` until every recipient is delivered or bounced.
//!
//! - [`envelope`]: the envelope record (`sansmail-queue 1`): sender, recipients with their
//!   state, arrival, attempts, next try.
//! - [`spool`]: the files on disk ([`Queue`], [`Spool`]): fsync before the `250`, state
//!   changes by write-tmp, fsync, rename; unreadable envelopes set aside in `corrupt/`; the
//!   size guard (`--max-queue-messages`, `--max-queue-size`).
//! - [`schedule`]: retries, lifetime and the delay notice (RFC 5321 section 4.5.4.1).
//! - [`dsn`]: delivery status notifications (RFC 3464).
//! - [`worker`]: the background task that delivers through `crate::outbound`.
//!
//! `--list-queue` prints the queue ([`listing`]) and exits.

pub mod dsn;
pub mod envelope;
pub mod schedule;
pub mod spool;
pub mod worker;

use std::fmt::Write as _;
use std::path::Path;

use smtp_proto::trace::DateTime;

use crate::logsafe::shown;

pub use envelope::{Envelope, Recipient};
pub use schedule::Schedule;
pub use spool::{Queue, QueueLimits, Spool, SpoolError};
pub use worker::{Worker, WorkerSettings};

/// The text `--list-queue` prints for the queue under `data`: one block per message (id,
/// size, arrival, sender, attempts, next try, then each pending recipient with its last
/// error), and a line for each envelope that cannot be read. Addresses and remote texts are
/// shown through [`shown`]: a remote reply cannot drive the terminal that reads the listing.
pub fn listing(data: &Path) -> std::io::Result<String> {
    let entries = Queue::list(data)?;
    let mut out = String::new();
    let readable = entries.iter().filter(|e| e.is_ok()).count();
    // Writing to a String cannot fail.
    let _ = writeln!(
        out,
        "{readable} queued message{} in {}",
        if readable == 1 { "" } else { "s" },
        data.join("queue").display()
    );
    for entry in entries {
        match entry {
            Ok(e) => {
                let from = match e.from.is_empty() {
                    true => "<> (a bounce)".to_owned(),
                    false => format!("<{}>", shown(&e.from)),
                };
                let _ = writeln!(
                    out,
                    "\n{}  {} octets  from {from}  arrived {}",
                    e.id,
                    e.size,
                    DateTime::from(e.arrival)
                );
                let _ = writeln!(
                    out,
                    "  attempts {}  next try {}",
                    e.attempts,
                    DateTime::from(e.next_try)
                );
                for r in e.pending() {
                    let error = match (r.diagnostic.is_empty(), r.remote.is_empty()) {
                        (true, _) => "none yet".to_owned(),
                        (false, true) => shown(&r.diagnostic),
                        (false, false) => {
                            format!("{} (from {})", shown(&r.diagnostic), shown(&r.remote))
                        }
                    };
                    let _ = writeln!(
                        out,
                        "  pending <{}>  last error: {error}",
                        shown(&r.address)
                    );
                }
            }
            Err((id, reason)) => {
                let _ = writeln!(
                    out,
                    "\n{}  UNREADABLE: {} (the server sets it aside into corrupt/ when it runs)",
                    shown(&id),
                    shown(&reason)
                );
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::tests::TempDir;

    #[test]
    fn the_listing_escapes_what_remote_servers_and_clients_wrote() {
        let dir = TempDir::new("queue-listing-escapes");
        let queue = Queue::open(&dir.0, QueueLimits::default()).unwrap();
        let mut recipient = Recipient::new("bob\u{202e}gro.elpmaxe@d.example".into());
        recipient.status = "4.0.0".into();
        recipient.remote = "mx.d.example [192.0.2.9]".into();
        recipient.diagnostic = "451 \u{1b}[2J\u{1b}[1;1Hqueue empty\u{7}".into();
        let mut envelope = Envelope {
            id: "1700000000.Q1P1Rlist".into(),
            arrival: std::time::UNIX_EPOCH,
            from: "eve\u{1b}]0;title\u{7}@a.example".into(),
            user: None,
            size: 0,
            smtputf8: true,
            eight_bit: false,
            attempts: 1,
            next_try: std::time::UNIX_EPOCH,
            warned: false,
            recipients: vec![recipient],
        };
        queue
            .enqueue(&mut envelope, b"Subject: s\r\n\r\nbody\r\n")
            .unwrap();
        let text = listing(&dir.0).unwrap();
        // Nothing a terminal acts on is left but the listing's own line ends.
        let raw = |c: char| c != '\n' && c != '\\' && c != '"' && crate::logsafe::needs_escape(c);
        assert!(!text.chars().any(raw), "{text:?}");
        assert!(
            text.contains("from <eve\\u{1b}]0;title\\u{7}@a.example>"),
            "{text}"
        );
        // The envelope file keeps no control characters in a diagnostic (they are written as
        // spaces); the address is kept as the client sent it, and shown escaped.
        assert!(
            text.contains("pending <bob\\u{202e}gro.elpmaxe@d.example>  last error: 451 "),
            "{text}"
        );
    }
}
