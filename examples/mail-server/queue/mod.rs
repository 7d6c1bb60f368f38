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

pub use envelope::{Envelope, Recipient};
pub use schedule::Schedule;
pub use spool::{Queue, QueueLimits, Spool, SpoolError};
pub use worker::{Worker, WorkerSettings};

/// The text `--list-queue` prints for the queue under `data`: one block per message (id,
/// size, arrival, sender, attempts, next try, then each pending recipient with its last
/// error), and a line for each envelope that cannot be read.
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
                    false => format!("<{}>", e.from),
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
                        (false, true) => r.diagnostic.clone(),
                        (false, false) => format!("{} (from {})", r.diagnostic, r.remote),
                    };
                    let _ = writeln!(out, "  pending <{}>  last error: {error}", r.address);
                }
            }
            Err((id, reason)) => {
                let _ = writeln!(
                    out,
                    "\n{id}  UNREADABLE: {reason} (the server sets it aside into corrupt/ when it runs)"
                );
            }
        }
    }
    Ok(out)
}
