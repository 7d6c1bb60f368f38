//! The mailbox store: one Maildir per account, with durable, streaming delivery.
//!
//! ```text
//! <data>/mail/<domain>/<local part>/{tmp,new,cur}
//! ```
//!
//! Two halves, neither of which knows a protocol:
//! - [`maildir`]: the tree and its files. Naming ([`maildir::encode_component`] keeps every
//!   address inside its Maildir; unique file names), durable writes (write, fsync, rename,
//!   fsync of the directory: [`write_atomically`], [`maildir::ensure_dir`]), reading back
//!   ([`Store::messages`]) and the clean-up of `tmp/`.
//! - [`delivery`]: taking one message for one or more recipients ([`Store::deliver`],
//!   [`Delivery`]), acknowledged only once it is on disk in every recipient's `new/`.
//! - [`maildrop`]: what a reader (POP3) does: list a maildrop with stable unique-ids and
//!   sizes as sent, mark a message seen (`new/` to `cur/` with `:2,S`), remove messages.
//! - [`mailboxes`]: the IMAP side: folders (Maildir++), the durable index of UIDs, flags
//!   and mod-sequences, and the hub that tells every open session what changed.
//! - [`quota`]: how much each mailbox holds ([`Store::usage`], scanned once and then kept up
//!   to date) and how much room the file system has left ([`Store::free_space`]).
//!
//! What a protocol writes in front of the message (the trace headers of SMTP) is that
//! protocol's business: the store keeps the bytes it is given, exactly.

pub mod delivery;
pub mod mailboxes;
pub mod maildir;
pub mod maildrop;
pub mod quota;

pub use delivery::Delivery;
pub use maildir::{Store, write_atomically};
